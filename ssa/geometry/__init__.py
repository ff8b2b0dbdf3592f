"""Geometry, time and constants shared by every part of ssa.

One home per concept: the RTN frame and the encounter plane (``frames``),
two-part Julian dates and UTC (``timeutil``), the WGS72 constants SGP4 runs
with (``constants``), two-body apsides of SGP4 states (``orbits``).
This package imports nothing else from ``ssa``.
"""

from ssa.geometry.constants import EARTH_RADIUS_KM, MU_KM3_S2
from ssa.geometry.frames import (
    encounter_frame,
    rtn_basis,
    rtn_components,
    rtn_to_inertial_cov,
    teme_to_gcrf_rotation,
    teme_to_geodetic,
    teme_to_itrf,
)
from ssa.geometry.orbits import osculating_apsides
from ssa.geometry.timeutil import (
    datetime_to_jd,
    format_utc,
    format_utc_ms,
    jd_to_datetime,
    jd_to_datetime64,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "MU_KM3_S2",
    "encounter_frame",
    "rtn_basis",
    "rtn_components",
    "rtn_to_inertial_cov",
    "osculating_apsides",
    "teme_to_geodetic",
    "teme_to_gcrf_rotation",
    "teme_to_itrf",
    "datetime_to_jd",
    "format_utc",
    "format_utc_ms",
    "jd_to_datetime",
    "jd_to_datetime64",
]
