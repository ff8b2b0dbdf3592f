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
        ids = np.atleast_1d(np.asarray(norad_id))
        n = len(ids)
        types = np.broadcast_to(
            np.asarray(object_type if object_type is not None else "", dtype=object), (n,)
        )
        rcs = np.broadcast_to(
            np.asarray(rcs_size if rcs_size is not None else "", dtype=object), (n,)
        )
        out = np.empty(n)
        src = np.empty(n, dtype=object)
        for i in range(n):
            try:
                key = int(ids[i])
            except (TypeError, ValueError):
                key = None
            size = str(rcs[i]).strip().upper()
            kind = str(types[i]).strip().upper()
            if key is not None and key in self.table:
                out[i], src[i] = self.table[key], "cara"
            elif size in RCS_HBR_M:
                out[i], src[i] = RCS_HBR_M[size], "rcs"
            elif kind in TYPE_HBR_M:
                out[i], src[i] = TYPE_HBR_M[kind], "type"
            else:
                out[i], src[i] = DEFAULT_HBR_M, "default"
        return out, src

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
        r1, s1 = self.radius_and_source(id1, type1, rcs1)
        r2, s2 = self.radius_and_source(id2, type2, rcs2)
        return r1 + r2, np.array([a + "+" + b for a, b in zip(s1, s2, strict=True)], dtype=object)
