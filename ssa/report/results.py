"""Read a ``ssa screen`` output folder (docs/DESIGN.md) into column arrays."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssa.errors import DataNotFoundError, InputFileError

CSV_NAME = "conjunctions.csv"
RUN_NAME = "run.json"

STRING_COLUMNS = (
    "OBJECT_NAME_1",
    "OBJECT_NAME_2",
    "OBJECT_TYPE_1",
    "OBJECT_TYPE_2",
    "OWNER_1",
    "OWNER_2",
    "FLAGS",
    "PC_METHOD",
    "PC_2D_VALID",
    "TCA",
    "START",
    "STOP",
    "HBR_SOURCE",
)
INT_COLUMNS = ("NORAD_CAT_ID_1", "NORAD_CAT_ID_2")
STATE_COLUMNS = tuple(
    f"{c}{k}_{u}"
    for k in (1, 2)
    for c, u in (("X", "KM"), ("Y", "KM"), ("Z", "KM"), ("VX", "KMS"), ("VY", "KMS"), ("VZ", "KMS"))
)
SIGMA_COLUMNS = tuple(f"SIGMA{k}_{a}_M" for k in (1, 2) for a in "RTN")
FLOAT_COLUMNS = (
    "DSE_1",
    "DSE_2",
    "TCA_RANGE",
    "TCA_RELATIVE_SPEED",
    "MAX_PROB",
    "DILUTION",
    "TCA_JD",
    "TCA_FR",
    "R_KM",
    "T_KM",
    "N_KM",
    "ALT_KM",
    "LAT_DEG",
    "LON_DEG",
    *STATE_COLUMNS,
    "HBR_M",
    "PC",
    *SIGMA_COLUMNS,
)
# Without these the report cannot say anything meaningful; the rest may be absent.
REQUIRED_COLUMNS = (
    "NORAD_CAT_ID_1",
    "OBJECT_NAME_1",
    "NORAD_CAT_ID_2",
    "OBJECT_NAME_2",
    "TCA",
    "TCA_RANGE",
    "TCA_RELATIVE_SPEED",
)


@dataclass
class Results:
    """A screening result as columns: ``columns[name]`` is an array of length ``n``.

    Numeric columns are float64 (NaN where empty or unreadable), NORAD ids
    int64 (-1 where unreadable), the rest str objects; ``tca`` is datetime64[ms]
    UTC. ``problems`` lists every value that could not be read, as
    ``"file:line: reason"``, so nothing bad vanishes silently.
    """

    folder: Path
    columns: dict[str, np.ndarray]
    run: dict
    tca: np.ndarray
    problems: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.tca)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


def _to_float(
    values: list[str], name: str, path: Path, linenos: list[int], problems: list[str]
) -> np.ndarray:
    arr = np.array(values, dtype=object)
    text = np.where(arr == "", "nan", arr).astype(str)
    try:
        return text.astype(np.float64)
    except ValueError:
        pass
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):  # slow path only for a column with bad values
        try:
            out[i] = float(v) if v != "" else np.nan
        except ValueError:
            problems.append(f"{path}:{linenos[i]}: column {name}: {v!r} is not a number")
    return out


def _to_int(
    values: list[str], name: str, path: Path, linenos: list[int], problems: list[str]
) -> np.ndarray:
    out = np.full(len(values), -1, dtype=np.int64)
    for i, v in enumerate(values):
        try:
            out[i] = int(v)
        except ValueError:
            problems.append(f"{path}:{linenos[i]}: column {name}: {v!r} is not a catalog number")
    return out


def _to_time(values: list[str], path: Path, linenos: list[int], problems: list[str]) -> np.ndarray:
    text = np.array([v.strip().replace(" ", "T", 1) for v in values], dtype=object)
    try:
        return text.astype("datetime64[ms]")
    except ValueError:
        pass
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ms]")
    for i, v in enumerate(text):
        try:
            out[i] = np.datetime64(v, "ms")
        except ValueError:
            problems.append(
                f"{path}:{linenos[i]}: column TCA: {values[i]!r} is not a UTC time "
                "(expected YYYY-MM-DD HH:MM:SS.sss)"
            )
    return out


def find_table(folder) -> tuple[str, Path]:
    """Return (format, path) of the conjunction table in a ``ssa screen`` folder: CSV,
    else Parquet, else JSON (whichever ``--format`` wrote)."""
    from ssa.screening.formats import TABLE_NAMES

    folder = Path(folder)
    for fmt in ("csv", "parquet", "json"):
        if (folder / TABLE_NAMES[fmt]).is_file():
            return fmt, folder / TABLE_NAMES[fmt]
    raise DataNotFoundError(
        f"{folder / CSV_NAME} not found: RESULTS_DIR must be a folder written by 'ssa screen' "
        f"(with {CSV_NAME}, conjunctions.parquet or conjunctions.json, and {RUN_NAME})"
    )


def _read_csv(path: Path, problems: list[str]) -> tuple[list[str], list[list], list[int]]:
    """Return (header, raw columns, line numbers) of a conjunctions CSV."""
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValueError(
                f"{path}: empty file, expected a header line with "
                f"{', '.join(REQUIRED_COLUMNS)}, ..."
            )
        header = [h.strip() for h in header]
        raw: list[list] = [[] for _ in header]
        width = len(header)
        linenos: list[int] = []
        for row in reader:
            lineno = reader.line_num  # physical line, right even with quoted newlines
            if len(row) != width:
                problems.append(
                    f"{path}:{lineno}: {len(row)} fields, expected {width}; row skipped"
                )
                continue
            linenos.append(lineno)
            for j, v in enumerate(row):
                raw[j].append(v)
    return header, raw, linenos


def _cells(values: list) -> list:
    """Return Parquet/JSON values as the CSV reader's cells: None -> '', bool -> 'True'."""
    return ["" if v is None else (str(v) if isinstance(v, bool) else v) for v in values]


def _read_parquet(path: Path) -> tuple[list[str], list[list], list[int]]:
    """Return (header, raw columns, record numbers) of a conjunctions Parquet file."""
    from ssa.screening.formats import PARQUET_SCHEMA_KEY, check_schema, require_pyarrow

    require_pyarrow()
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    version = meta.get(PARQUET_SCHEMA_KEY)
    check_schema(version.decode() if version else None, path)
    raw = [_cells(table.column(name).to_pylist()) for name in table.column_names]
    return list(table.column_names), raw, list(range(1, table.num_rows + 1))


def _read_json(path: Path) -> tuple[list[str], list[list], list[int]]:
    """Return (header, raw columns, record numbers) of a conjunctions JSON array."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}:{getattr(exc, 'lineno', 1)}: not valid JSON ({exc})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"{path}: expected a JSON array of conjunction records")
    header = list(records[0]) if records else list(REQUIRED_COLUMNS)
    raw = [_cells([r.get(name) for r in records]) for name in header]
    return header, raw, list(range(1, len(records) + 1))


def load_results(folder) -> Results:
    """Return the conjunctions and run metadata of a ``ssa screen`` output folder.

    Reads whichever table is there (CSV, else Parquet, else JSON). Raises
    DataNotFoundError (a FileNotFoundError) when there is none, UserError when the
    folder was written by a newer, incompatible schema version, and ValueError when
    required columns are absent; unreadable values become NaN/-1/NaT and are listed in
    ``Results.problems``.
    """
    from ssa.screening.formats import SCHEMA_KEY, check_schema

    folder = Path(folder)
    fmt, csv_path = find_table(folder)
    problems: list[str] = []
    run: dict = {}
    run_path = folder / RUN_NAME
    if run_path.is_file():
        try:
            run = json.loads(run_path.read_text(encoding="utf-8"))
            if not isinstance(run, dict):
                problems.append(f"{run_path}:1: expected a JSON object, got {type(run).__name__}")
                run = {}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{run_path}:{getattr(exc, 'lineno', 1)}: not valid JSON ({exc})")
    else:
        problems.append(f"{run_path}: missing; run inputs are not shown")
    check_schema(run.get(SCHEMA_KEY), run_path)

    reader = {
        "csv": lambda p: _read_csv(p, problems),
        "parquet": _read_parquet,
        "json": _read_json,
    }[fmt]
    header, raw, linenos = reader(csv_path)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputFileError(
            csv_path,
            1,
            f"missing columns {', '.join(missing)}; expected the "
            "'ssa screen' layout of docs/DESIGN.md",
        )
    by_name = dict(zip(header, raw, strict=True))
    n = len(raw[0]) if raw else 0
    columns: dict[str, np.ndarray] = {}
    for name in INT_COLUMNS:
        columns[name] = _to_int(by_name[name], name, csv_path, linenos, problems)
    for name in FLOAT_COLUMNS:
        columns[name] = (
            _to_float(by_name[name], name, csv_path, linenos, problems)
            if name in by_name
            else np.full(n, np.nan)
        )
    for name in STRING_COLUMNS:
        columns[name] = np.array(by_name.get(name, [""] * n), dtype=object)
    tca = _to_time(by_name["TCA"], csv_path, linenos, problems)
    return Results(folder=folder, columns=columns, run=run, tca=tca, problems=problems)
