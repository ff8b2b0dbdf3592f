"""Element sets out: 3LE and CelesTrak-style OMM CSV lines of a ``Catalog``.

Generators of text lines (the caller opens the file), the mirror of the readers.
3LE lines come from sgp4's own ``exporter.export_tle``; its fixed columns round the
epoch to 1e-8 day (0.86 ms, about 7 m along track in LEO) and angles to 1e-4 deg
(about 12 m), so a 3LE reproduces an element set to about 10-20 m. OMM CSV carries
every element with 17 significant digits and the epoch to the microsecond, so it
reproduces the in-memory ``Satrec`` to millimetres; it is also the only form for
catalogue numbers above Alpha-5's 339,999.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from sgp4.exporter import export_tle

from ssa.errors import UserError
from ssa.geometry.timeutil import jd_to_datetime
from ssa.io.omm import SGP4_MAX_SATNUM

OMM_CSV_COLUMNS = (
    "OBJECT_NAME",
    "OBJECT_ID",
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "EPHEMERIS_TYPE",
    "CLASSIFICATION_TYPE",
    "NORAD_CAT_ID",
    "ELEMENT_SET_NO",
    "REV_AT_EPOCH",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
_RAD_MIN_TO_REV_DAY = 1440.0 / (2.0 * math.pi)


def _csv_text(value: str) -> str:
    text = str(value)
    return f'"{text}"' if any(c in text for c in ',"\n') else text


def tle_lines(catalog) -> Iterator[str]:
    """Yield the 3LE lines (``0 NAME``, line 1, line 2) of every object of ``catalog``.

    Raises UserError when a catalogue number does not fit Alpha-5 (> 339,999)."""
    too_big = catalog.norad_id > SGP4_MAX_SATNUM
    if too_big.any():
        raise UserError(
            f"{int(too_big.sum())} catalogue numbers exceed {SGP4_MAX_SATNUM}, "
            f"the largest a TLE's Alpha-5 field holds (e.g. "
            f"{int(catalog.norad_id[too_big][0])}): write OMM instead (--omm)"
        )
    for name, sat in zip(catalog.name.tolist(), catalog.satrecs, strict=True):
        line1, line2 = export_tle(sat)
        yield f"0 {name}"
        yield line1
        yield line2


def omm_csv_lines(catalog) -> Iterator[str]:
    """Yield a header and one OMM CSV row per object of ``catalog`` (CelesTrak's columns)."""
    yield ",".join(OMM_CSV_COLUMNS)
    # Epoch text once per distinct epoch (populations share one or a few epochs).
    keys = np.stack([catalog.epoch_jd, catalog.epoch_fr], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    texts = [jd_to_datetime(jd, fr).strftime("%Y-%m-%dT%H:%M:%S.%f") for jd, fr in unique]
    deg = 180.0 / math.pi
    for i, sat in enumerate(catalog.satrecs):
        row = (
            _csv_text(catalog.name[i]),
            _csv_text(catalog.intl_des[i]),
            texts[int(inverse[i])],
            repr(sat.no_kozai * _RAD_MIN_TO_REV_DAY),
            repr(sat.ecco),
            repr(sat.inclo * deg),
            repr(sat.nodeo * deg),
            repr(sat.argpo * deg),
            repr(sat.mo * deg),
            "0",
            "U",
            str(int(catalog.norad_id[i])),
            "999",
            "0",
            repr(sat.bstar),
            repr(sat.ndot * _RAD_MIN_TO_REV_DAY * 1440.0),
            repr(sat.nddot * _RAD_MIN_TO_REV_DAY * 1440.0**2),
        )
        yield ",".join(row)
