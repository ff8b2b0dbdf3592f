"""The screening result table (columns of docs/DESIGN.md) and its files."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

# TCA text of two-part Julian dates, SOCRATES' format (ssa.screening.api imports it here).
from ssa.geometry.timeutil import format_utc_ms as format_tca  # noqa: F401

SOCRATES_COLUMNS = ["NORAD_CAT_ID_1", "OBJECT_NAME_1", "DSE_1", "NORAD_CAT_ID_2",
                    "OBJECT_NAME_2", "DSE_2", "TCA", "TCA_RANGE", "TCA_RELATIVE_SPEED",
                    "MAX_PROB", "DILUTION"]
OWN_COLUMNS = ["OBJECT_TYPE_1", "OBJECT_TYPE_2", "OWNER_1", "OWNER_2", "TCA_JD", "TCA_FR",
               "R_KM", "T_KM", "N_KM", "ALT_KM", "LAT_DEG", "LON_DEG",
               "X1_KM", "Y1_KM", "Z1_KM", "VX1_KMS", "VY1_KMS", "VZ1_KMS",
               "X2_KM", "Y2_KM", "Z2_KM", "VX2_KMS", "VY2_KMS", "VZ2_KMS", "FLAGS"]
RISK_COLUMNS = ["HBR_M", "PC", "PC_METHOD", "PC_2D_VALID", "SIGMA1_R_M", "SIGMA1_T_M",
                "SIGMA1_N_M", "SIGMA2_R_M", "SIGMA2_T_M", "SIGMA2_N_M"]
COLUMNS = SOCRATES_COLUMNS + OWN_COLUMNS + RISK_COLUMNS
# Columns empty until ssa.risk.assess fills them.
EMPTY_UNTIL_RISK = ["MAX_PROB", "DILUTION"] + RISK_COLUMNS
# Decimal places in the CSV (values in JSON keep full precision).
_DECIMALS = {"DSE_1": 3, "DSE_2": 3, "TCA_RANGE": 6, "TCA_RELATIVE_SPEED": 6,
             "TCA_JD": 1, "TCA_FR": 12}


class ScreenResult:
    """Conjunction table (dict of column arrays, CSV order) plus the run record.

    ``rows[name]`` is a numpy array per column; ``set_column(name, values)`` adds or
    overwrites one (the risk module fills MAX_PROB, DILUTION, PC, ...)."""

    def __init__(self, rows: dict, run: dict):
        self.rows = {name: rows[name] for name in COLUMNS if name in rows}
        for name, values in rows.items():
            if name not in self.rows:
                self.rows[name] = values
        self.run = run

    def __len__(self) -> int:
        return len(self.rows["NORAD_CAT_ID_1"])

    @property
    def columns(self) -> list[str]:
        return list(self.rows)

    def set_column(self, name: str, values) -> None:
        """Add or overwrite column ``name`` (length must match the table)."""
        values = np.asarray(values)
        if values.shape[0] != len(self):
            raise ValueError(f"column {name} has {values.shape[0]} values, "
                             f"the table has {len(self)} rows")
        self.rows[name] = values

    def records(self) -> list[dict]:
        """Return the table as a list of dicts (JSON-ready; empty values are None)."""
        cols = self.columns
        values = [_json_column(self.rows[c]) for c in cols]
        return [dict(zip(cols, vals, strict=True)) for vals in zip(*values, strict=True)]

    def write(self, out_dir) -> dict:
        """Write conjunctions.csv, conjunctions.json and run.json into out_dir; return
        their paths. Formatting is column-wise: 190k rows x 70 columns in seconds."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"csv": out_dir / "conjunctions.csv", "json": out_dir / "conjunctions.json",
                 "run": out_dir / "run.json"}
        cols = self.columns
        with open(paths["csv"], "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows(zip(*[_csv_column(c, self.rows[c]) for c in cols], strict=True))
        # One record per line (json.dumps' text for it, built column-wise): a JSON
        # array that is also easy to grep or stream.
        keys = [json.dumps(c) + ": " for c in cols]
        texts = [_json_texts(self.rows[c]) for c in cols]
        with open(paths["json"], "w") as fh:
            fh.write("[")
            sep = "\n{"
            for vals in zip(*texts, strict=True):
                fh.write(sep)
                fh.write(", ".join([k + v for k, v in zip(keys, vals, strict=True)]))
                sep = "},\n{"
            fh.write("}\n]\n" if len(self) else "\n]\n")
        paths["run"].write_text(json.dumps(self.run, indent=1, default=_json_default) + "\n")
        return paths


def _csv_column(name, values) -> list:
    """CSV cells of one column (rules of _cell, vectorised for numeric columns)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        if name in ("PC", "MAX_PROB"):
            spec = ".6e"
        else:
            spec = f".{_DECIMALS.get(name, 6)}f"
        return [format(v, spec) if math.isfinite(v) else "" for v in arr.tolist()]
    if arr.dtype.kind in "iu":
        return arr.tolist()
    return [_cell(name, v) for v in arr.tolist()]


def _json_texts(values) -> list[str]:
    """JSON text of each value of one column (as json.dumps writes it)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":  # json.dumps writes finite floats as repr
        return [repr(v) if math.isfinite(v) else "null" for v in arr.tolist()]
    if arr.dtype.kind in "iu":
        return [str(v) for v in arr.tolist()]
    out = []
    cache = {}
    for v in _json_column(values):
        if v is None:
            out.append("null")
        elif isinstance(v, str):
            t = cache.get(v)
            if t is None:
                t = cache[v] = json.dumps(v)
            out.append(t)
        else:
            out.append(json.dumps(v))
    return out


def _json_column(values) -> list:
    """JSON values of one column: numpy scalars as Python, NaN/inf and '' as None."""
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


def _cell(name, v):
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, float) and name in ("PC", "MAX_PROB"):
        return f"{v:.6e}"  # probabilities span 1e-300..1: fixed decimals would print 0
    if isinstance(v, float):
        places = _DECIMALS.get(name, 6)
        return f"{v:.{places}f}"
    return v


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
