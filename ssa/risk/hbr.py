"""Hard-body radius (HBR) of each object, and the combined HBR of a pair.

Priority for one object:
1. the NASA CARA HBR table (``hbr-mass-cara-2024-11-01.csv``: ObjectID, HBR
   in metres, HBRSource), when given and the row has a value (the DISCOS rows
   are blank by licence);
2. the radar cross-section size class (Space-Track RCS_SIZE);
3. the object type; 4. ``DEFAULT_HBR_M``.
The combined HBR of a conjunction is the sum of both radii (sphere
circumscribing both bodies), as CARA uses it. ``HardBodyRadius.fixed(R)`` gives
one combined radius R to every pair instead (``--hbr-m``; SOCRATES' "fixed
spherical object radii"). ``combined_with_source`` also says where each radius
came from (the ``HBR_SOURCE`` column: ``fixed`` or ``<source 1>+<source 2>``).

RCS and type values are engineering judgement for a circumscribing sphere:
SMALL (< 0.1 m^2) 0.5 m, MEDIUM (0.1-1 m^2) 1.5 m, LARGE (> 1 m^2) 4 m;
payloads 3 m, rocket bodies 4 m, debris and unknown 1.1 m (CARA's default
for an unknown secondary, see ../shared/grouping/README.md).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ssa.errors import InputFileError

RCS_HBR_M = {"SMALL": 0.5, "MEDIUM": 1.5, "LARGE": 4.0}
TYPE_HBR_M = {"PAYLOAD": 3.0, "ROCKET BODY": 4.0, "DEBRIS": 1.1, "UNKNOWN": 1.1}
DEFAULT_HBR_M = 1.1


class HardBodyRadius:
    """HBR lookup: CARA table, else RCS size class, else object type, else default."""

    def __init__(
        self,
        table: dict[int, float] | None = None,
        source: str = "",
        fixed_combined_m: float | None = None,
    ):
        self.table = dict(table or {})
        self.source = source
        self.problems: list[str] = []
        self.fixed_combined_m = fixed_combined_m

    @classmethod
    def fixed(cls, combined_m: float) -> HardBodyRadius:
        """Return a lookup giving every pair the combined radius ``combined_m`` (m)."""
        value = float(combined_m)
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(
                f"a fixed combined hard-body radius must be a non-negative number "
                f"of metres, got {combined_m!r}"
            )
        return cls(source="fixed", fixed_combined_m=value)

    @classmethod
    def from_cara_csv(cls, path: str | Path) -> HardBodyRadius:
        """Load the CARA HBR/mass CSV; blank or bad HBR rows are skipped (listed in .problems)."""
        path = Path(path)
        table: dict[int, float] = {}
        problems = []
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if (
                not reader.fieldnames
                or "ObjectID" not in reader.fieldnames
                or "HBR" not in reader.fieldnames
            ):
                raise InputFileError(
                    path, 1, f"expected CARA columns ObjectID,HBR,...; got {reader.fieldnames}"
                )
            for line, row in enumerate(reader, 2):
                text = (row.get("HBR") or "").strip()
                if not text:
                    continue
                try:
                    oid = int(row["ObjectID"])
                    value = float(text)
                except ValueError:
                    problems.append(f"{path}:{line}: bad ObjectID/HBR {row['ObjectID']!r}/{text!r}")
                    continue
                if not np.isfinite(value) or value <= 0:
                    problems.append(f"{path}:{line}: HBR {text} is not a positive number")
                    continue
                table[oid] = value
        out = cls(table, source=str(path))
        out.problems = problems
        return out

    def radius_m(self, norad_id, object_type=None, rcs_size=None) -> np.ndarray:
        """Return (n,) radius (m) per object."""
        return self.radius_and_source(norad_id, object_type, rcs_size)[0]

    def radius_and_source(self, norad_id, object_type=None, rcs_size=None):
        """Return ((n,) radius m, (n,) source 'cara'/'rcs'/'type'/'default') per object."""
        out, code = self._radius_code(norad_id, object_type, rcs_size)
        return out, _SOURCES[code]

    def _radius_code(self, norad_id, object_type=None, rcs_size=None):
        """Return ((n,) radius m, (n,) index into _SOURCES) per object."""
        ids = np.atleast_1d(np.asarray(norad_id))
        n = len(ids)
        types = np.broadcast_to(
            np.asarray(object_type if object_type is not None else "", dtype=object), (n,)
        )
        rcs = np.broadcast_to(
            np.asarray(rcs_size if rcs_size is not None else "", dtype=object), (n,)
        )
        if not np.issubdtype(ids.dtype, np.integer):
            return self._radius_code_rows(ids, types, rcs)
        # Each distinct RCS or type text is read once (a catalogue has a handful), then
        # the priorities are applied lowest first: default, type, RCS, CARA table.
        try:
            by_rcs = _lookup_values(rcs, RCS_HBR_M)
            by_type = _lookup_values(types, TYPE_HBR_M)
        except TypeError:  # an unhashable value: row by row
            return self._radius_code_rows(ids, types, rcs)
        out = np.full(n, DEFAULT_HBR_M)
        code = np.full(n, 3, np.int64)
        for value, k in ((by_type, 2), (by_rcs, 1)):
            has = ~np.isnan(value)
            out[has] = value[has]
            code[has] = k
        if self.table:
            keys = np.fromiter(self.table.keys(), np.int64, len(self.table))
            values = np.fromiter(self.table.values(), np.float64, len(self.table))
            order = np.argsort(keys)
            keys, values = keys[order], values[order]
            at = np.minimum(np.searchsorted(keys, ids), keys.size - 1)
            hit = keys[at] == ids
            out[hit] = values[at[hit]]
            code[hit] = 0
        return out, code

    def _radius_code_rows(self, ids, types, rcs):
        """_radius_code one row at a time (ids that are not integers)."""
        n = len(ids)
        out = np.empty(n)
        code = np.empty(n, np.int64)
        for i in range(n):
            try:
                key = int(ids[i])
            except (TypeError, ValueError):
                key = None
            size = str(rcs[i]).strip().upper()
            kind = str(types[i]).strip().upper()
            if key is not None and key in self.table:
                out[i], code[i] = self.table[key], 0
            elif size in RCS_HBR_M:
                out[i], code[i] = RCS_HBR_M[size], 1
            elif kind in TYPE_HBR_M:
                out[i], code[i] = TYPE_HBR_M[kind], 2
            else:
                out[i], code[i] = DEFAULT_HBR_M, 3
        return out, code

    def source_of(self, norad_id, object_type=None, rcs_size=None) -> str:
        """Return where one object's radius comes from: 'cara', 'rcs', 'type' or 'default'."""
        if int(norad_id) in self.table:
            return "cara"
        if str(rcs_size or "").strip().upper() in RCS_HBR_M:
            return "rcs"
        if str(object_type or "").strip().upper() in TYPE_HBR_M:
            return "type"
        return "default"

    def combined_m(self, id1, id2, type1=None, type2=None, rcs1=None, rcs2=None) -> np.ndarray:
        """Return (n,) combined HBR (m) = radius 1 + radius 2 (or the fixed value)."""
        return self.combined_with_source(id1, id2, type1, type2, rcs1, rcs2)[0]

    def combined_with_source(self, id1, id2, type1=None, type2=None, rcs1=None, rcs2=None):
        """Return ((n,) combined HBR m, (n,) source text): 'fixed', or the two objects'
        sources joined by '+' (e.g. 'cara+type')."""
        if self.fixed_combined_m is not None:
            n = len(np.atleast_1d(np.asarray(id1)))
            return np.full(n, self.fixed_combined_m), np.full(n, "fixed", dtype=object)
        r1, c1 = self._radius_code(id1, type1, rcs1)
        r2, c2 = self._radius_code(id2, type2, rcs2)
        return r1 + r2, _PAIR_SOURCES[c1 * len(_SOURCES) + c2]


# Where a radius comes from, by the codes of HardBodyRadius._radius_code.
_SOURCES = np.array(["cara", "rcs", "type", "default"], dtype=object)
_PAIR_SOURCES = np.array([a + "+" + b for a in _SOURCES for b in _SOURCES], dtype=object)


def _lookup_values(texts, table) -> np.ndarray:
    """Return table[str(x).strip().upper()] of each x of texts (NaN where absent), reading
    each distinct value once."""
    values = texts.tolist()
    known = {x: table.get(str(x).strip().upper(), np.nan) for x in set(values)}
    return np.array([known[x] for x in values], dtype=np.float64)
