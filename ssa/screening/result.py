"""The screening result table (columns of docs/DESIGN.md) and its files."""

from __future__ import annotations

import numpy as np

from ssa.errors import UserError

# TCA text of two-part Julian dates, SOCRATES' format (ssa.screening.api imports it here).
from ssa.geometry.timeutil import format_utc_ms as format_tca  # noqa: F401
from ssa.screening.formats import json_column, to_arrow, typed_column, write_result

SOCRATES_COLUMNS = [
    "NORAD_CAT_ID_1",
    "OBJECT_NAME_1",
    "DSE_1",
    "NORAD_CAT_ID_2",
    "OBJECT_NAME_2",
    "DSE_2",
    "TCA",
    "TCA_RANGE",
    "TCA_RELATIVE_SPEED",
    "MAX_PROB",
    "DILUTION",
]
# START/STOP (SOCRATES' "time in" and out of the threshold sphere) come first of ours.
OWN_COLUMNS = [
    "START",
    "STOP",
    "OBJECT_TYPE_1",
    "OBJECT_TYPE_2",
    "OWNER_1",
    "OWNER_2",
    "TCA_JD",
    "TCA_FR",
    "R_KM",
    "T_KM",
    "N_KM",
    "ALT_KM",
    "LAT_DEG",
    "LON_DEG",
    "X1_KM",
    "Y1_KM",
    "Z1_KM",
    "VX1_KMS",
    "VY1_KMS",
    "VZ1_KMS",
    "X2_KM",
    "Y2_KM",
    "Z2_KM",
    "VX2_KMS",
    "VY2_KMS",
    "VZ2_KMS",
    "FLAGS",
]
RISK_COLUMNS = [
    "HBR_M",
    "HBR_SOURCE",
    "PC",
    "PC_METHOD",
    "PC_2D_VALID",
    "SIGMA1_R_M",
    "SIGMA1_T_M",
    "SIGMA1_N_M",
    "SIGMA2_R_M",
    "SIGMA2_T_M",
    "SIGMA2_N_M",
]
COLUMNS = SOCRATES_COLUMNS + OWN_COLUMNS + RISK_COLUMNS
# Text among them (the rest are numbers).
TEXT_RISK_COLUMNS = ("HBR_SOURCE", "PC_METHOD")
# Columns empty until ssa.risk.assess fills them.
EMPTY_UNTIL_RISK = ["MAX_PROB", "DILUTION"] + RISK_COLUMNS


def add_flags(flags, masks) -> np.ndarray:
    """Return FLAGS (object array of 'A;B' text) with each name of ``masks`` (an
    iterable of (name, bool array)) appended where its mask is set, in order.

    As the per-row ``';'.join(p for p in str(f or '').split(';') if p)`` plus appends,
    done once per distinct flag text and per flagged row (flags are few and rare)."""
    flags = np.asarray(flags, dtype=object)
    n = flags.size
    texts = {}
    for f in dict.fromkeys(flags.tolist()):
        texts[f] = ";".join(p for p in str(f or "").split(";") if p)
    out = np.array([texts[f] for f in flags.tolist()] if texts else [], dtype=object)
    out = out.reshape(n)
    masks = [(name, np.asarray(m, bool)) for name, m in masks]
    rows = np.flatnonzero(np.any([m for _, m in masks], axis=0)) if masks else []
    for k in rows.tolist() if len(rows) else []:
        parts = [out[k]] if out[k] else []
        parts += [name for name, m in masks if m[k]]
        out[k] = ";".join(parts)
    return out


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
        # {format: path} of tables already written while screening (screen(table_csv=...)).
        self.streamed = {}

    def __len__(self) -> int:
        return len(self.rows["NORAD_CAT_ID_1"])

    @property
    def columns(self) -> list[str]:
        return list(self.rows)

    def set_column(self, name: str, values) -> None:
        """Add or overwrite column ``name`` (length must match the table)."""
        values = np.asarray(values)
        if values.shape[0] != len(self):
            raise ValueError(
                f"column {name} has {values.shape[0]} values, the table has {len(self)} rows"
            )
        self.rows[name] = values

    def records(self) -> list[dict]:
        """Return the table as a list of dicts (JSON-ready; empty values are None)."""
        cols = self.columns
        values = [json_column(self.rows[c]) for c in cols]
        return [dict(zip(cols, vals, strict=True)) for vals in zip(*values, strict=True)]

    def write(self, out_dir, formats=None) -> dict:
        """Write the table in ``formats`` (names of ``ssa.screening.formats.WRITERS``,
        default csv) and then run.json (with its schema version) into out_dir; return
        {format: path, 'run': path}."""
        return write_result(self, out_dir, formats)

    def to_arrow(self):
        """Return the table as a ``pyarrow.Table`` (needs pyarrow: pip install 'ssa[data]');
        the schema metadata holds the schema version and the run record."""
        return to_arrow(self)

    def to_pandas(self):
        """Return the table as a ``pandas.DataFrame`` with the same columns, in order:
        float64 (NaN empty), int64 ids, text with None where empty; ``df.attrs['run']``
        holds the run record (needs pandas: pip install 'ssa[data]')."""
        try:
            import pandas as pd
        except ImportError:
            raise UserError(
                "to_pandas needs pandas, which is not installed: "
                "pip install 'ssa[data]' (or pip install pandas)"
            ) from None
        frame = pd.DataFrame({name: typed_column(self.rows[name]) for name in self.columns})
        frame.attrs["run"] = self.run
        return frame
