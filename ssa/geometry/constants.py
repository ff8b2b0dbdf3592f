"""Physical constants, taken from sgp4 itself so SGP4 states stay consistent.

SGP4 runs with WGS72 (docs/DESIGN.md); osculating elements, perigee heights
and two-body steps of SGP4 states must use the same mu and Earth radius.
"""

from sgp4.earth_gravity import wgs72 as _WGS72

MU_KM3_S2 = float(_WGS72.mu)  # 398600.8 km^3/s^2
EARTH_RADIUS_KM = float(_WGS72.radiusearthkm)  # 6378.135 km (equatorial)
J2 = float(_WGS72.j2)

# WGS84 ellipsoid, for geodetic latitude/height of Earth-fixed positions.
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563

SECONDS_PER_DAY = 86400.0
