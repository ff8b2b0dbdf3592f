"""Property-based fuzzing of every reader (shared by tests/test_fuzz_*.py and
benchmarks/fuzz.py).

Each reader has a seed file built from real records (the shared catalogues, SATCAT,
CARA CDMs, the repository's scenario and sensor files); Hypothesis mutates it (fields,
truncation, inserted bytes, extreme numbers, NaN/inf, encodings, BOM, line ends, gzip,
empty files) and ``check_<reader>`` states the property: the input loads and its values
are consistent, or it is refused with a message naming the file (and, for records,
the line and reason); never another exception; for catalogues every record that is
still intact in the mutated file is loaded, once (nothing silently dropped or
duplicated), and the counts add up.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import shutil
from functools import cache
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from ssa.errors import UserError
from ssa.io.problems import LoadError

REPO = Path(__file__).resolve().parent.parent
N_RECORDS = 4  # real records per seed file

# --- seed files from real data ---------------------------------------------------


def _data() -> Path:
    from ssa.data import data_dir

    root = data_dir()
    if root is None:
        raise RuntimeError("SSA_DATA is not set")
    return Path(root)


@cache
def seeds() -> dict[str, bytes]:
    """Return {reader: seed file bytes}, each from real records."""
    data = _data()
    out = {}
    lines = (data / "catalog-2024-07-05.3le").read_text().splitlines()
    old = (data / "catalog-2023-09-04.3le").read_text().splitlines()  # '+' / zero-padded style
    out["tle"] = "\n".join(lines[: 3 * (N_RECORDS - 1)] + old[:3]).encode() + b"\n"
    with open(data / "catalog-2024-11-01.omm.csv", newline="") as fh:
        text = fh.read()
    csv_lines = text.splitlines()
    out["omm-csv"] = ("\n".join(csv_lines[: N_RECORDS + 1]) + "\n").encode()
    rows = list(csv.DictReader(io.StringIO(out["omm-csv"].decode())))
    from tests import test_omm  # the OMM encodings as CelesTrak / Space-Track serve them

    out["omm-json"] = test_omm.celestrak_json(rows).encode()
    out["omm-xml"] = test_omm.omm_xml(rows).encode()
    out["omm-kvn"] = test_omm.omm_kvn(rows).encode()
    with gzip.open(data / "satcat-2025-03.csv.gz", "rt", newline="") as fh:
        sat = [next(fh) for _ in range(N_RECORDS + 1)]
    out["satcat"] = "".join(sat).encode()
    cdm = sorted((data / "cara-cdm").glob("*.cdm"))[0]
    out["cdm-kvn"] = cdm.read_bytes()
    from ssa.cdm import parse_kvn, to_xml

    out["cdm-xml"] = to_xml(parse_kvn(cdm.read_text(), str(cdm))).encode()
    out["scenario"] = (REPO / "scenarios" / "status-quo.toml").read_bytes()
    sensors = (REPO / "scenarios" / "sensors.csv").read_text().splitlines()
    out["sensors"] = ("\n".join(sensors[: N_RECORDS + 1]) + "\n").encode()
    return out


READERS = (
    "tle",
    "omm-csv",
    "omm-json",
    "omm-xml",
    "omm-kvn",
    "satcat",
    "cdm-kvn",
    "cdm-xml",
    "scenario",
    "sensors",
)

# --- mutations ---------------------------------------------------------------------

EXTREME = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e308",
    "-1e308",
    "1e-320",
    "0",
    "-0",
    "99999999999999999999",
    "-1",
    "",
    " ",
    "1e9999",
    "0x10",
    "1_000",
    "+.5",
    "5.",
    "1e",
    "٣",
    "²",
    "NULL",
    "null",
    "true",
    "2024-13-45T25:61:61",
    "9" * 400,
]
SPECIAL_CHARS = [
    "\x00",
    "\t",
    "\r",
    "\n",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\u2028",
    "\ufeff",
    "\ufffd",
    "é",
    "\u2212",
    ",",
    ";",
    "=",
    "<",
    ">",
    "&",
    '"',
    "'",
    "[",
    "]",
    "{",
    "}",
    "#",
    "-",
    "+",
    ".",
    " ",
    "0",
    "9",
    "1 ",
    "2 ",
]
_NUMBER_RE = None


def _numbers(text: str) -> list[tuple[int, int]]:
    global _NUMBER_RE
    if _NUMBER_RE is None:
        import re

        _NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
    return [m.span() for m in _NUMBER_RE.finditer(text)]


# Hypothesis draws one fixed-size byte string per example and ``_Choices`` turns its
# bytes into the edits below (as a fuzzer's data provider does). Measured: drawing each
# choice as its own strategy (st.from_regex numbers, lists of one_of characters, nested
# composites: ~26 draws) cost 2.7 ms per example, five times a reader's own work; one
# byte draw costs Hypothesis's ~0.6 ms per-example floor. Hypothesis still shrinks a
# failure (smaller bytes: fewer, simpler edits; all zero bytes is the seed file as is)
# and replays it from its seed. CHOICE_BYTES covers 4 edits of the largest kind.
CHOICE_BYTES = 160
EDIT_KINDS = (
    "replace",
    "insert",
    "delete",
    "number",
    "number",
    "truncate",
    "dup-line",
    "drop-line",
    "swap-lines",
    "join-lines",
)
MAX_EDITS = 4
SPECIAL_FILES = (b"\n\n  \n", b"\x00" * 64, b"\xef\xbb\xbf", b"\x1f\x8b")
_SPECIAL_ALPHABET = [c for c in SPECIAL_CHARS if len(c) == 1]
_MULTI_SPECIAL = [c for c in SPECIAL_CHARS if len(c) > 1]


class _Choices:
    """Integers in a range from successive bytes; zero once the bytes run out."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def int(self, lo: int, hi: int) -> int:
        if hi <= lo:
            return lo
        size = ((hi - lo).bit_length() + 7) // 8
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return lo + int.from_bytes(chunk, "big") % (hi - lo + 1)

    def pick(self, seq):
        return seq[self.int(0, len(seq) - 1)]

    def rest(self) -> bytes:
        out, self.pos = self.data[self.pos :], len(self.data)
        return out


def _new_number(c: _Choices) -> str:
    """An extreme value, or a '-0042.50' style number (-?[0-9]{1,25}(\\.[0-9]{0,20})?)."""
    if c.int(0, 1):
        return c.pick(EXTREME)
    text = ("-" if c.int(0, 1) else "") + f"{c.int(0, 10**25 - 1):0{c.int(1, 25)}d}"
    frac_width = c.int(-1, 20)
    if frac_width >= 0:
        text += "." + (f"{c.int(0, 10**20 - 1):0{frac_width}d}" if frac_width else "")
    return text


def _new_chars(c: _Choices) -> str:
    """1-4 characters: separators, control and odd characters, or any code point."""
    out = []
    for _ in range(c.int(1, 4)):
        kind = c.int(0, 2)
        if kind == 0:
            out.append(c.pick(_SPECIAL_ALPHABET))
        elif kind == 1:
            out.append(c.pick(_MULTI_SPECIAL))
        else:
            code = c.int(0, 0x10FFFF - 0x800)  # skip the surrogates D800-DFFF
            out.append(chr(code if code < 0xD800 else code + 0x800))
    return "".join(out)


def _text_edit(c: _Choices, text: str) -> str:
    """One edit of the text: replace/insert/delete characters, extreme numbers, lines."""
    kind = c.pick(EDIT_KINDS)
    n = len(text)
    if kind == "number":
        spans = _numbers(text)
        if spans:
            a, b = c.pick(spans)
            return text[:a] + _new_number(c) + text[b:]
        kind = "replace"
    if kind in ("dup-line", "drop-line", "swap-lines", "join-lines"):
        lines = text.split("\n")
        if len(lines) < 2:
            kind = "replace"
        else:
            i = c.int(0, len(lines) - 1)
            j = c.int(0, len(lines) - 1)
            if kind == "dup-line":
                lines.insert(j, lines[i])
            elif kind == "drop-line":
                del lines[i]
            elif kind == "swap-lines":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                k = min(i, len(lines) - 2)
                lines[k : k + 2] = [lines[k] + lines[k + 1]]
            return "\n".join(lines)
    pos = c.int(0, n)
    if kind == "truncate":
        return text[:pos]
    if kind == "delete":
        return text[:pos] + text[pos + c.int(1, 8) :]
    new = _new_chars(c)
    if kind == "insert":
        return text[:pos] + new + text[pos:]
    return text[:pos] + new + text[pos + len(new) :]


def _encode(text: str, how: str) -> bytes:
    if how == "utf-8":
        return text.encode("utf-8", "surrogatepass")
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if how == "crlf":
        return text.replace("\n", "\r\n").encode("utf-8", "surrogatepass")
    if how == "cr":
        return text.replace("\n", "\r").encode("utf-8", "surrogatepass")
    if how == "mixed":
        parts = text.split("\n")
        ends = ["\n", "\r\n", "\r"]
        return "".join(p + ends[k % 3] for k, p in enumerate(parts[:-1])).encode(
            "utf-8", "surrogatepass"
        ) + parts[-1].encode("utf-8", "surrogatepass")
    if how == "latin-1":
        return text.encode("latin-1", "replace")
    if how == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    if how == "gzip":
        return gzip.compress(text.encode("utf-8", "surrogatepass"), mtime=0)
    if how == "truncated-gzip":
        data = gzip.compress(text.encode("utf-8", "surrogatepass"), mtime=0)
        return data[: max(2, len(data) // 2)]
    raise ValueError(how)


ENCODINGS = ["utf-8"] * 6 + [
    "bom",
    "crlf",
    "cr",
    "mixed",
    "latin-1",
    "utf-16",
    "gzip",
    "truncated-gzip",
]


def mutate(reader: str, choices: bytes) -> bytes:
    """The seed file of ``reader`` mutated as ``choices`` say: 0-4 text edits, then an
    encoding; or (rarely) an empty file, raw bytes or an odd tiny file."""
    c = _Choices(choices)
    special = c.int(0, 30)
    if special == 30:
        return b""
    if special == 29:
        return c.rest()
    if special == 28:
        return c.pick(SPECIAL_FILES)
    text = seeds()[reader].decode("utf-8")
    for _ in range(c.int(0, MAX_EDITS)):
        text = _text_edit(c, text)
    return _encode(text, c.pick(ENCODINGS))


def mutated(reader: str):
    """Strategy: mutated seed files of ``reader`` (see mutate)."""
    seeds()  # build the seed files before Hypothesis times the first example
    return st.binary(min_size=CHOICE_BYTES, max_size=CHOICE_BYTES).map(
        lambda choices: mutate(reader, choices)
    )


# --- properties --------------------------------------------------------------------


class PropertyFailure(AssertionError):
    pass


def _expect(cond: bool, message: str) -> None:
    if not cond:
        raise PropertyFailure(message)


def _check_problem(p, path: Path) -> None:
    _expect(p.file == str(path), f"problem names file {p.file!r}, not {path}")
    _expect(isinstance(p.line, int) and p.line >= 0, f"problem line {p.line!r}")
    _expect(bool(p.reason.strip()), "problem without a reason")


def _refusal(exc: Exception, path: Path) -> None:
    """A refused input: a message naming the file."""
    _expect(str(path) in str(exc), f"refusal does not name the file: {exc}")


def _intact_records(reader: str, data: bytes) -> list[int]:
    """NORAD ids of seed records still present, unchanged and with their lines adjacent,
    in the mutated file (they must load), for the line formats."""
    try:
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        text = raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError):
        return []
    text = text.removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    seed = seeds()[reader].decode().split("\n")
    out = []
    if reader == "tle":
        for k in range(0, len(seed) - 2, 3):
            rec = seed[k : k + 3]
            if any(lines[i : i + 3] == rec for i in range(len(lines) - 2)):
                out.append(int(rec[1][2:7]))
    elif reader in ("omm-csv", "satcat"):
        if not lines or lines[0] != seed[0]:
            return []
        header = seed[0].split(",")
        col = header.index("NORAD_CAT_ID")
        body = set(lines[1:])
        # A row is intact if present as a whole line; another row merged into it
        # (a deleted line end) would not match.
        out = [int(row.split(",")[col]) for row in seed[1:] if row and row in body]
    return out


def check_catalog(reader: str, path: Path) -> str:
    """Load path as a catalog; return the outcome ('loaded' or 'refused')."""
    from ssa.catalog import Catalog

    try:
        catalog = Catalog.load(path)
    except (LoadError, UserError) as exc:
        _refusal(exc, path)
        for p in getattr(exc, "problems", []):
            _check_problem(p, path)
        return "refused"
    r = catalog.load_report
    _expect(r.read == r.loaded + r.skipped + r.duplicates_dropped, f"counts do not add up: {r}")
    _expect(r.loaded == len(catalog) > 0, "loaded != objects")
    _expect(len(set(catalog.norad_id.tolist())) == len(catalog), "an object twice")
    _expect(len(r.problems) + r.problems_not_kept == r.skipped, "problems != skipped")
    for p in r.problems:
        _check_problem(p, path)
    for sat in catalog.satrecs:
        _expect(
            sat.error == 0 and 0.0 <= sat.ecco < 1.0 and sat.no_kozai > 0.0,
            "a loaded element set that SGP4 did not initialise",
        )
        _expect(math.isfinite(sat.jdsatepoch + sat.jdsatepochF), "non-finite epoch")
        e, r_km, v_kms = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF)
        if e == 0:  # at its own epoch; a non-zero code is data (dropped by the screening)
            _expect(all(math.isfinite(x) for x in (*r_km, *v_kms)), "SGP4 state not finite")
    missing = set(_intact_records(reader, path.read_bytes())) - set(catalog.norad_id.tolist())
    _expect(not missing, f"intact records not loaded (silently dropped): {sorted(missing)}")
    return "loaded"


def check_satcat(path: Path) -> str:
    from ssa.catalog import load_satcat

    try:
        entries, problems = load_satcat(path)
    except (LoadError, UserError) as exc:
        _refusal(exc, path)
        return "refused"
    _expect(
        all(isinstance(k, int) and e.norad_id == k for k, e in entries.items()),
        "SATCAT keys are not the entries' catalog numbers",
    )
    for p in problems:
        _check_problem(p, path)
    missing = set(_intact_records("satcat", path.read_bytes())) - set(entries)
    _expect(not missing, f"intact SATCAT rows not loaded: {sorted(missing)}")
    return "loaded"


def check_cdm(path: Path) -> str:
    from ssa.cdm import read_cdm

    try:
        cdm = read_cdm(path)
    except (ValueError, UserError) as exc:  # CdmError is a ValueError
        _refusal(exc, path)
        return "refused"
    _expect(cdm.tca.tzinfo is not None, "TCA without a time zone")
    miss = cdm.miss_distance_m
    _expect(math.isfinite(miss) and miss >= 0.0, f"miss distance {miss!r} accepted")
    _expect(len(cdm.objects) == 2, f"{len(cdm.objects)} objects accepted")
    for seg in cdm.objects:
        _expect(np.all(np.isfinite(seg.state_km)), "non-finite state accepted")
        cov = seg.covariance_rtn[:6, :6]
        _expect(cov.shape == (6, 6) and np.all(np.isfinite(cov)), "covariance incomplete")
    pc = cdm.collision_probability
    _expect(pc is None or (math.isfinite(pc) and 0.0 <= pc <= 1.0), f"Pc {pc!r} accepted")
    return "loaded"


def check_scenario(path: Path) -> str:
    from ssa.scenario.config import load_scenario

    sensors = path.parent / "sensors.csv"  # the scenario's sensor file, beside it
    if not sensors.exists():
        shutil.copy(REPO / "scenarios" / "sensors.csv", sensors)
    try:
        load_scenario(path)
    except (ValueError, FileNotFoundError) as exc:
        _refusal(exc, path)
        return "refused"
    return "loaded"


def check_sensors(path: Path) -> str:
    from ssa.scenario.sensors import load_sensors

    try:
        table = load_sensors(path)
    except ValueError as exc:
        _refusal(exc, path)
        return "refused"
    _expect(len(table) > 0, "empty sensor table accepted")
    fan = np.asarray(table.fan_az_deg, float)
    _expect(not np.any(np.isinf(fan)), "infinite fan azimuth accepted")
    for name in ("lat_deg", "lon_deg", "alt_m"):
        values = getattr(table, name, None)
        if values is not None:
            _expect(np.all(np.isfinite(np.asarray(values, float))), f"non-finite {name}")
    return "loaded"


SUFFIX = {
    "tle": ".3le",
    "omm-csv": ".csv",
    "omm-json": ".json",
    "omm-xml": ".xml",
    "omm-kvn": ".kvn",
    "satcat": ".csv",
    "cdm-kvn": ".cdm",
    "cdm-xml": ".xml",
    "scenario": ".toml",
    "sensors": ".csv",
}


def check(reader: str, data: bytes, folder: Path) -> str:
    """Write data to a file in folder and check the reader's property on it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"fuzz{SUFFIX[reader]}"
    path.write_bytes(data)
    try:
        if reader in ("tle", "omm-csv", "omm-json", "omm-xml", "omm-kvn"):
            return check_catalog(reader, path)
        if reader == "satcat":
            return check_satcat(path)
        if reader.startswith("cdm"):
            return check_cdm(path)
        if reader == "scenario":
            return check_scenario(path)
        return check_sensors(path)
    finally:
        os.unlink(path)
