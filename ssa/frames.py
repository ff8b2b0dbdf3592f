"""Frame helpers: TEME -> RTN components, TEME -> WGS84 geodetic.

TEME -> Earth-fixed uses skyfield's ``TEME_to_ITRF`` (GMST rotation, polar motion
ignored, UT1 taken as UTC: |UT1 - UTC| < 0.9 s, i.e. < 0.004 deg of longitude).
Geodetic latitude/height on WGS84 follow Bowring's iteration (converges to
sub-millimetre in a few passes for any altitude above the Earth's centre region).
"""

from __future__ import annotations

import numpy as np
from skyfield.sgp4lib import TEME_to_ITRF

WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563


def rtn_components(r1_km, v1_kms, dr_km):
    """Return (n, 3) R, T, N components of dr_km in the RTN frame of (r1, v1):
    R = r/|r|, N = r x v / |r x v|, T = N x R."""
    r1 = np.atleast_2d(r1_km)
    v1 = np.atleast_2d(v1_kms)
    dr = np.atleast_2d(dr_km)
    rhat = r1 / np.linalg.norm(r1, axis=1, keepdims=True)
    h = np.cross(r1, v1)
    nhat = h / np.linalg.norm(h, axis=1, keepdims=True)
    that = np.cross(nhat, rhat)
    return np.stack([np.einsum("ij,ij->i", dr, u) for u in (rhat, that, nhat)], axis=1)


def teme_to_geodetic(r_km, jd, fr):
    """Return (alt_km, lat_deg, lon_deg) on WGS84 of TEME positions (n, 3) at UTC
    two-part Julian dates jd + fr."""
    r = np.atleast_2d(np.asarray(r_km, float))
    jd = np.broadcast_to(np.asarray(jd, float), (r.shape[0],))
    fr = np.broadcast_to(np.asarray(fr, float), (r.shape[0],))
    out = np.empty((r.shape[0], 3))
    # TEME_to_ITRF takes a whole JD and its fraction separately; vectorised over time.
    ecef, _ = TEME_to_ITRF(jd, r.T, np.zeros_like(r.T), 0.0, 0.0, fr)
    x, y, z = ecef
    lon = np.arctan2(y, x)
    p = np.hypot(x, y)
    e2 = WGS84_F * (2.0 - WGS84_F)
    b = WGS84_A_KM * (1.0 - WGS84_F)
    lat = np.arctan2(z, p * (1.0 - e2))
    for _ in range(5):
        sin_lat = np.sin(lat)
        n = WGS84_A_KM / np.sqrt(1.0 - e2 * sin_lat**2)
        alt = np.where(np.abs(np.cos(lat)) > 1e-9, p / np.cos(lat) - n,
                       np.abs(z) - b)
        lat = np.arctan2(z, p * (1.0 - e2 * n / (n + alt)))
    sin_lat = np.sin(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - e2 * sin_lat**2)
    alt = np.where(np.abs(np.cos(lat)) > 1e-9, p / np.cos(lat) - n, np.abs(z) - b)
    out[:, 0] = alt
    out[:, 1] = np.degrees(lat)
    out[:, 2] = np.degrees(lon)
    return out[:, 0], out[:, 1], out[:, 2]
