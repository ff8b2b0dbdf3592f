"""Output formats of a screening result: a registry name -> writer, and the schema version.

Every writer is a function ``write(result, out_dir) -> Path`` of a ``ScreenResult``
and a folder, so a caller can point it at a temporary folder and swap that in
(atomic output folders). ``run.json`` is written last by ``write_result`` and
carries ``schema_version`` and the list of ``formats`` written; Parquet also
carries the version in its own metadata. Columns are never listed here: every
writer takes them from the result, so new columns flow through.

Registry values are functions, or ``"module:function"`` text imported on first
use (``socrates`` lives in ``ssa.socrates``; Parquet needs pyarrow only when asked).
"""

from __future__ import annotations

import csv
import importlib
import json
import math
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ssa.errors import UserError

# Major version of the result layout (file names, column names, units, types).
# Readers accept this version and older compatible ones (files without a version are
# the first layout, version 1) and refuse newer ones with a message.
SCHEMA_VERSION = 1
SCHEMA_KEY = "schema_version"
PARQUET_SCHEMA_KEY = b"ssa.schema_version"
PARQUET_RUN_KEY = b"ssa.run"
DEFAULT_FORMATS = ("csv",)
RUN_NAME = "run.json"
TABLE_NAMES = {
    "csv": "conjunctions.csv",
    "json": "conjunctions.json",
    "parquet": "conjunctions.parquet",
}
PYARROW_HINT = "pip install 'ssa[data]' (or pip install pyarrow)"
# Decimal places in the CSV (values in JSON and Parquet keep full precision).
_DECIMALS = {
    "DSE_1": 3,
    "DSE_2": 3,
    "TCA_RANGE": 6,
    "TCA_RELATIVE_SPEED": 6,
    "TCA_JD": 1,
    "TCA_FR": 12,
}
_SCIENTIFIC = ("PC", "MAX_PROB")  # span 1e-300..1: fixed decimals would print 0


# --- CSV --------------------------------------------------------------------------------
CSV_CHUNK_ROWS = 65_536  # rows formatted at once (about 25 MB of text for 70 columns)


class CsvStream:
    """Append-only ``conjunctions.csv``: the header when opened, then chunks of rows.

        with CsvStream(path, columns) as out:
            for rows in chunks:  # dict name -> array (same length), e.g. one slice's table
                out.append(rows)

    Each chunk is formatted column-wise (numpy, numba threads; ``ssa.screening.csvtext``)
    into the exact text ``csv.writer`` gives for ``_cell``'s formatting, so a table
    written in any number of chunks is byte-identical to one written at once, and a
    caller never needs to hold the whole table. Columns missing from a chunk are
    written empty; extra ones are ignored. ``rows_written`` counts data rows."""

    def __init__(self, path, columns, chunk_rows: int = CSV_CHUNK_ROWS):
        from ssa.screening.csvtext import header_line

        self.path = Path(path)
        self.columns = list(columns)
        self.chunk_rows = int(chunk_rows)
        self.rows_written = 0
        self._fh = open(self.path, "wb")
        self._fh.write(header_line(self.columns))

    def append(self, rows) -> int:
        """Format and append one chunk (dict of equal-length columns); return its rows."""
        from ssa.screening.csvtext import column_spec, render_rows

        lengths = {len(rows[c]) for c in self.columns if c in rows}
        if len(lengths) > 1:
            raise ValueError(f"chunk columns have different lengths {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        cols = [
            np.asarray(rows[c]) if c in rows else np.full(n, "", dtype=object) for c in self.columns
        ]
        specs = [
            column_spec(c, v, _DECIMALS, _SCIENTIFIC, _cell)
            for c, v in zip(self.columns, cols, strict=True)
        ]
        for a in range(0, n, self.chunk_rows):
            self._fh.write(render_rows([v[a : a + self.chunk_rows] for v in cols], specs))
        self.rows_written += n
        return n

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_csv(result, out_dir) -> Path:
    """Write ``conjunctions.csv`` (streamed in chunks of CSV_CHUNK_ROWS; see CsvStream)."""
    path = Path(out_dir) / TABLE_NAMES["csv"]
    with CsvStream(path, result.columns) as out:
        out.append(result.rows)
    return path


def write_csv_plain(result, out_dir) -> Path:
    """The plain ``csv.writer`` version of write_csv (the reference its tests compare to)."""
    path = Path(out_dir) / TABLE_NAMES["csv"]
    cols = result.columns
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows(zip(*[_csv_column(c, result.rows[c]) for c in cols], strict=True))
    return path


def _csv_column(name, values) -> list:
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        spec = ".6e" if name in _SCIENTIFIC else f".{_DECIMALS.get(name, 6)}f"
        return [format(v, spec) if math.isfinite(v) else "" for v in arr.tolist()]
    if arr.dtype.kind in "iu":
        return arr.tolist()
    return [_cell(name, v) for v in arr.tolist()]


def _cell(name, v):
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.6e}" if name in _SCIENTIFIC else f"{v:.{_DECIMALS.get(name, 6)}f}"
    return v


# --- JSON -------------------------------------------------------------------------------
def write_json(result, out_dir) -> Path:
    """Write ``conjunctions.json``: a JSON array, one record per line (easy to grep or
    stream), built column-wise with json.dumps' text for every value."""
    path = Path(out_dir) / TABLE_NAMES["json"]
    cols = result.columns
    keys = [json.dumps(c) + ": " for c in cols]
    texts = [_json_texts(result.rows[c]) for c in cols]
    with open(path, "w") as fh:
        fh.write("[")
        sep = "\n{"
        for vals in zip(*texts, strict=True):
            fh.write(sep)
            fh.write(", ".join([k + v for k, v in zip(keys, vals, strict=True)]))
            sep = "},\n{"
        fh.write("}\n]\n" if len(result) else "\n]\n")
    return path


def _json_texts(values) -> list[str]:
    arr = np.asarray(values)
    if arr.dtype.kind == "f":  # json.dumps writes finite floats as repr
        return [repr(v) if math.isfinite(v) else "null" for v in arr.tolist()]
    if arr.dtype.kind in "iu":
        return [str(v) for v in arr.tolist()]
    out = []
    cache: dict = {}
    for v in json_column(values):
        if isinstance(v, str):
            t = cache.get(v)
            if t is None:
                t = cache[v] = json.dumps(v)
            out.append(t)
        else:
            out.append(json.dumps(v))
    return out


def json_column(values) -> list:
    """Return JSON values of one column: numpy scalars as Python, NaN/inf and '' as None."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return [v if math.isfinite(v) else None for v in arr.tolist()]
    if arr.dtype.kind in "iub":
        return arr.tolist()
    out = []
    for v in arr.tolist():
        if isinstance(v, np.generic):
            v = v.item()
        if (isinstance(v, float) and not math.isfinite(v)) or v == "":
            v = None
        out.append(v)
    return out


# --- Arrow / Parquet --------------------------------------------------------------------
def require_pyarrow():
    """Return the pyarrow module, or raise UserError saying how to install it."""
    try:
        import pyarrow
    except ImportError:
        raise UserError(
            f"Parquet and Arrow output need pyarrow, which is not installed: {PYARROW_HINT}"
        ) from None
    return pyarrow


def typed_column(values) -> np.ndarray:
    """Return one column as a typed array: floats float64 (NaN empty), integers int64,
    booleans bool, text object with None where empty (a column of booleans and empties,
    such as PC_2D_VALID before risk is assessed, stays object with True/False/None)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr
    out = np.array(json_column(arr), dtype=object)
    kinds = {type(v) for v in out.tolist() if v is not None}
    if kinds and kinds <= {bool}:
        return out
    if kinds and not kinds <= {str}:
        out = np.array([None if v is None else str(v) for v in out.tolist()], dtype=object)
    return out


def to_arrow(result):
    """Return the result as a ``pyarrow.Table`` (column types as ``typed_column``; the run
    record and schema version in the schema metadata)."""
    pa = require_pyarrow()
    arrays = []
    for name in result.columns:
        col = typed_column(result.rows[name])
        if col.dtype.kind == "O":
            kinds = {type(v) for v in col.tolist() if v is not None}
            arrays.append(
                pa.array(col.tolist(), type=pa.bool_() if kinds == {bool} else pa.string())
            )
        else:
            arrays.append(pa.array(col))
    metadata = {
        PARQUET_SCHEMA_KEY: str(SCHEMA_VERSION).encode(),
        PARQUET_RUN_KEY: json.dumps(result.run, default=_json_default).encode(),
    }
    return pa.Table.from_arrays(arrays, names=list(result.columns), metadata=metadata)


def write_parquet(result, out_dir) -> Path:
    """Write ``conjunctions.parquet`` (full precision, typed columns, schema version and
    run record in the file's metadata)."""
    require_pyarrow()
    import pyarrow.parquet as pq

    path = Path(out_dir) / TABLE_NAMES["parquet"]
    pq.write_table(to_arrow(result), path)
    return path


# --- registry ---------------------------------------------------------------------------
WRITERS: dict[str, Callable | str] = {
    "csv": write_csv,
    "json": write_json,
    "parquet": write_parquet,
    "socrates": "ssa.socrates:write_socrates",
}
# What each format needs beyond ssa's own dependencies (checked before a run starts).
_NEEDS = {"parquet": require_pyarrow}


def get_writer(name: str) -> Callable:
    """Return the writer of format ``name`` (imports a lazy entry on first use)."""
    if name not in WRITERS:
        raise UserError(f"unknown output format {name!r}; choose from {', '.join(WRITERS)}")
    writer = WRITERS[name]
    if isinstance(writer, str):
        module, _, func = writer.partition(":")
        try:
            writer = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError):
            raise UserError(
                f"output format {name!r} is not available in this version of "
                f"ssa ({writer} is missing)"
            ) from None
    return writer


def parse_formats(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """Return the formats named in ``'csv,json'`` (or a list), checked: unknown names and
    missing optional dependencies raise UserError before any work is done."""
    if text is None:
        return DEFAULT_FORMATS
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text)]
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise UserError(f"--format needs at least one of {', '.join(WRITERS)}")
    for name in names:
        get_writer(name)
        if name in _NEEDS:
            _NEEDS[name]()
    return tuple(names)


def write_result(result, out_dir, formats: Iterable[str] | None = None) -> dict:
    """Write the result's tables in ``formats`` (default csv) and then ``run.json`` into
    ``out_dir``; return {format: path, 'run': path}."""
    formats = parse_formats(formats) if not isinstance(formats, tuple) else formats
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in formats:
        done = getattr(result, "streamed", {}).get(name)
        if done is None:
            paths[name] = get_writer(name)(result, out_dir)
        else:  # streamed while screening (ssa.screening.api): move it here if elsewhere
            paths[name] = out_dir / TABLE_NAMES[name]
            if Path(done).resolve() != paths[name].resolve():
                shutil.move(done, paths[name])
            result.streamed[name] = paths[name]
    result.run[SCHEMA_KEY] = SCHEMA_VERSION
    result.run["formats"] = list(formats)
    paths["run"] = out_dir / RUN_NAME
    paths["run"].write_text(json.dumps(result.run, indent=1, default=_json_default) + "\n")
    return paths


def check_schema(version, where) -> None:
    """Raise UserError when ``version`` (None: the first layout) is newer than this ssa reads."""
    if version is None:
        return
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise UserError(f"{where}: schema_version {version!r} is not a number") from None
    if number > SCHEMA_VERSION:
        raise UserError(
            f"{where}: written with result schema version {number}, this ssa reads "
            f"up to version {SCHEMA_VERSION}; upgrade ssa (pip install -U ssa) or "
            f"re-run the screening with this version"
        )


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
