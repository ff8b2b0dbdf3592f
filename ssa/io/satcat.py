"""SATCAT reading: object type, owner and RCS size class per catalog number.

Understands the CelesTrak SATCAT CSV (``OWNER``, ``OBJECT_TYPE`` spelled out or
as the codes PAY / R/B / DEB / UNK, numeric ``RCS`` in m^2) and the Space-Track
``satcat`` CSV (``COUNTRY``, ``OBJECT_TYPE``, ``RCS_SIZE``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ssa.io import csv_rows
from ssa.io.problems import Problem, clip

OBJECT_TYPES = ("PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN")
_TYPE_CODES = {
    "PAY": "PAYLOAD",
    "PAYLOAD": "PAYLOAD",
    "R/B": "ROCKET BODY",
    "ROCKET BODY": "ROCKET BODY",
    "DEB": "DEBRIS",
    "DEBRIS": "DEBRIS",
    "UNK": "UNKNOWN",
    "UNKNOWN": "UNKNOWN",
    "TBA": "UNKNOWN",
    "": "UNKNOWN",
}
RCS_SIZES = ("SMALL", "MEDIUM", "LARGE")
# Space-Track's RCS_SIZE classes: SMALL < 0.1 m^2 <= MEDIUM <= 1 m^2 < LARGE.
# Used to classify CelesTrak's numeric RCS the same way.
RCS_SMALL_MAX_M2 = 0.1
RCS_MEDIUM_MAX_M2 = 1.0


@dataclass(frozen=True)
class SatcatEntry:
    """SATCAT facts about one object."""

    norad_id: int
    object_type: str
    owner: str
    rcs_size: str
    name: str


def rcs_class(rcs_m2: float) -> str:
    """Return the Space-Track RCS_SIZE class of a radar cross-section in m^2."""
    if rcs_m2 < RCS_SMALL_MAX_M2:
        return "SMALL"
    return "MEDIUM" if rcs_m2 <= RCS_MEDIUM_MAX_M2 else "LARGE"


def iter_satcat(lines: Iterable[str], source: str = "<satcat>") -> Iterator[SatcatEntry | Problem]:
    """Yield a SatcatEntry per row of a CelesTrak or Space-Track SATCAT CSV."""
    reader = csv_rows(lines)
    header = [h.strip().upper() for h in next(reader, (1, []))[1]]
    if "NORAD_CAT_ID" not in header or "OBJECT_TYPE" not in header:
        yield Problem(
            source,
            1,
            "not a SATCAT CSV: the header needs NORAD_CAT_ID and OBJECT_TYPE columns",
            clip(",".join(header)),
        )
        return

    def column(*names):
        return next((header.index(n) for n in names if n in header), None)

    i_norad, i_type = header.index("NORAD_CAT_ID"), header.index("OBJECT_TYPE")
    i_owner = column("OWNER", "COUNTRY")
    i_size, i_rcs = column("RCS_SIZE"), column("RCS")
    i_name = column("OBJECT_NAME", "SATNAME")
    width = len(header)
    for number, row in reader:
        if not row:
            continue
        if len(row) != width:
            yield Problem(
                source,
                number,
                f"{len(row)} columns, expected {width} as in the header",
                clip(",".join(row)),
                "layout",
            )
            continue
        norad = row[i_norad].strip()
        if not (norad.isascii() and norad.isdigit()):  # "²".isdigit() is True (fuzzing)
            yield Problem(
                source,
                number,
                f"NORAD_CAT_ID {norad!r} is not an integer",
                clip(",".join(row)),
                "value",
            )
            continue
        raw_type = row[i_type].strip().upper()
        object_type = _TYPE_CODES.get(raw_type)
        if object_type is None:
            yield Problem(
                source,
                number,
                f"unknown OBJECT_TYPE {raw_type!r}",
                clip(",".join(row)),
                "value",
            )
            continue
        owner = row[i_owner].strip() if i_owner is not None else ""
        size = row[i_size].strip().upper() if i_size is not None else ""
        if size not in RCS_SIZES:
            size = ""
            rcs = row[i_rcs].strip() if i_rcs is not None else ""
            if rcs:
                try:
                    size = rcs_class(float(rcs))
                except ValueError:
                    size = ""
        name = row[i_name].strip() if i_name is not None else ""
        yield SatcatEntry(int(norad), object_type, owner, size, name)


_DEB = re.compile(r"\bDEB\b")
_ANALYST = ("TBA - TO BE ASSIGNED", "UNKNOWN", "")


def type_from_name(name: str) -> str:
    """Return the object type guessed from a name: ' DEB' -> DEBRIS, 'R/B' -> ROCKET BODY,
    analyst / unnamed objects -> UNKNOWN, anything else PAYLOAD."""
    upper = name.upper()
    if _DEB.search(upper):
        return "DEBRIS"
    if "R/B" in upper:
        return "ROCKET BODY"
    if upper.strip() in _ANALYST:
        return "UNKNOWN"
    return "PAYLOAD"
