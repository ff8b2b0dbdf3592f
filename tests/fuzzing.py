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


# Strategies built once (building them per example cost more than the readers' work).
_EDIT_KINDS = st.sampled_from(
    [
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
    ]
)
_NEW_NUMBER = st.sampled_from(EXTREME) | st.from_regex(
    r"-?[0-9]{1,25}(\.[0-9]{0,20})?", fullmatch=True
)
_NEW_CHARS = st.lists(
    st.sampled_from(SPECIAL_CHARS)
    | st.characters(max_codepoint=0x10FFFF, blacklist_categories=("Cs",)),
    min_size=1,
    max_size=4,
).map("".join)


@st.composite
def _text_edit(draw, text: str) -> str:
    """One edit of the text: replace/insert/delete characters, extreme numbers, lines."""
    kind = draw(_EDIT_KINDS)
    n = len(text)
    if kind == "number":
        spans = _numbers(text)
        if spans:
            a, b = spans[draw(st.integers(0, len(spans) - 1))]
            new = draw(_NEW_NUMBER)
            return text[:a] + new + text[b:]
        kind = "replace"
    if kind in ("dup-line", "drop-line", "swap-lines", "join-lines"):
        lines = text.split("\n")
        if len(lines) < 2:
            kind = "replace"
        else:
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
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
    pos = draw(st.integers(0, n))
    if kind == "truncate":
        return text[:pos]
    new = draw(_NEW_CHARS)
    if kind == "insert":
        return text[:pos] + new + text[pos:]
    if kind == "delete":
        return text[:pos] + text[pos + draw(st.integers(1, 8)) :]
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


_ENCODING = st.sampled_from(ENCODINGS)
_SPECIAL_FILES = st.sampled_from([b"\n\n  \n", b"\x00" * 64, b"\xef\xbb\xbf", b"\x1f\x8b"])


@st.composite
def mutated(draw, reader: str) -> bytes:
    """A mutated seed file of ``reader`` (0-4 text edits, then an encoding)."""
    text = seeds()[reader].decode("utf-8")
    special = draw(st.integers(0, 30))
    if special == 0:
        return b""
    if special == 1:
        return draw(st.binary(max_size=200))
    if special == 2:
        return draw(_SPECIAL_FILES)
    for _ in range(draw(st.integers(0, 4))):
        text = draw(_text_edit(text))
    return _encode(text, draw(_ENCODING))


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

    shutil.copy(REPO / "scenarios" / "sensors.csv", path.parent / "sensors.csv")
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
