"""Reference frames: RTN, the encounter plane, TEME -> ITRF/GCRF (through skyfield).

Conventions (docs/DESIGN.md):
- RTN of an object with state (r, v): R = r/|r|, N = r x v / |r x v|, T = N x R.
- Encounter frame of object 1 (r1, v1) and object 2 (r2, v2), as NASA CARA's
  Pc2D_Foster: y along the relative velocity v2 - v1; x along the part of the
  relative position r2 - r1 normal to y (the miss direction at TCA); z = x cross y.
  The encounter plane is spanned by x and z; the miss vector at TCA is (|r2 - r1|, 0).
- TEME -> ITRF uses skyfield's ``TEME_to_ITRF`` (GMST rotation, polar motion
  ignored, UT1 taken as UTC: |UT1 - UTC| < 0.9 s, i.e. < 0.004 deg of longitude);
  TEME -> GCRF skyfield's ``TEME.rotation_at`` with its built-in timescale.
All functions take one state (3,) or many (n, 3) and return arrays with a leading n.
"""

from __future__ import annotations

import numpy as np

from ssa.geometry.constants import WGS84_A_KM, WGS84_F


def as_rows(a, name: str, tail=(3,)) -> np.ndarray:
    """Return ``a`` as float64 rows (n, *tail); one item of shape ``tail`` becomes n = 1."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape == tail:
        arr = arr[None]
    if arr.shape[1:] != tail:
        raise ValueError(
            f"{name} must have shape {tail} or (n, {', '.join(map(str, tail))}); got {arr.shape}"
        )
    return arr


def rtn_basis(r_km, v_kms) -> np.ndarray:
    """Return (n, 3, 3): rows R, T, N unit vectors of each state."""
    r = as_rows(r_km, "r_km")
    v = as_rows(v_kms, "v_kms")
    rh = r / np.linalg.norm(r, axis=1, keepdims=True)
    h = np.cross(r, v)
    nh = h / np.linalg.norm(h, axis=1, keepdims=True)
    return np.stack([rh, np.cross(nh, rh), nh], axis=1)


def rtn_components(r1_km, v1_kms, dr_km) -> np.ndarray:
    """Return (n, 3) R, T, N components of vectors dr_km in the RTN frame of (r1, v1)."""
    return np.einsum("nij,nj->ni", rtn_basis(r1_km, v1_kms), as_rows(dr_km, "dr_km"))


def rtn_to_inertial_cov(r_km, v_kms, cov_rtn) -> np.ndarray:
    """Return (n, 3, 3) or (n, 6, 6) inertial covariances of RTN covariances (same units).

    cov_rtn: (3, 3)/(n, 3, 3) position or (6, 6)/(n, 6, 6) position-velocity
    covariances; the 6x6 form rotates both blocks by the same instantaneous RTN
    axes (frame rotation rate neglected, as CDMs use it). A (3,) or (n, 3) array
    (not square) is read as RTN variances (the diagonal).
    """
    b = rtn_basis(r_km, v_kms)
    c = np.asarray(cov_rtn, dtype=np.float64)
    if c.shape[-2:] not in ((3, 3), (6, 6)):
        c = np.einsum("ni,ij->nij", np.broadcast_to(c, (len(b), 3)), np.eye(3))
    if c.shape[-1] == 6:
        z = np.zeros_like(b)
        b = np.block([[b, z], [z, b]])
    d = b.shape[-1]
    return np.einsum("nki,nkl,nlj->nij", b, np.broadcast_to(c, (len(b), d, d)), b)


def encounter_frame(r1_km, v1_kms, r2_km, v2_kms) -> np.ndarray:
    """Return (n, 3, 3): rows x, y, z of the encounter frame (convention in the module doc).

    Zero relative velocity leaves no plane: those rows are NaN. A zero miss takes
    any x normal to y.
    """
    r = as_rows(r2_km, "r2_km") - as_rows(r1_km, "r1_km")
    v = as_rows(v2_kms, "v2_kms") - as_rows(v1_kms, "v1_kms")
    vn = np.linalg.norm(v, axis=1, keepdims=True)
    y = np.divide(v, vn, out=np.full_like(v, np.nan), where=vn > 0)
    x = r - np.sum(r * y, axis=1, keepdims=True) * y
    xn = np.linalg.norm(x, axis=1, keepdims=True)
    tiny = xn[:, 0] <= 1e-15 * np.maximum(np.linalg.norm(r, axis=1), 1.0)
    if np.any(tiny):
        helper = np.where(np.abs(y[tiny, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
        x[tiny] = np.cross(y[tiny], helper)
        xn[tiny] = np.linalg.norm(x[tiny], axis=1, keepdims=True)
    x = x / xn
    return np.stack([x, y, np.cross(x, y)], axis=1)


def teme_to_itrf(r_km, v_kms, jd, fr):
    """Return (r_itrf_km (n,3), v_itrf_kms (n,3)) of TEME states at UTC two-part JDs."""
    from skyfield.sgp4lib import TEME_to_ITRF

    r = as_rows(r_km, "r_km")
    v = as_rows(v_kms, "v_kms") if v_kms is not None else np.zeros_like(r)
    jd = np.broadcast_to(np.asarray(jd, float), (len(r),))
    fr = np.broadcast_to(np.asarray(fr, float), (len(r),))
    # skyfield wants velocity per day; it returns it per day too.
    re, ve = TEME_to_ITRF(jd, r.T, v.T * 86400.0, 0.0, 0.0, fr)
    return np.asarray(re).T, np.asarray(ve).T / 86400.0


def teme_to_gcrf_rotation(jd, fr) -> np.ndarray:
    """Return (n, 3, 3) rotations M with r_gcrf = M @ r_teme, at UTC two-part JDs."""
    from skyfield.api import load
    from skyfield.sgp4lib import TEME

    from ssa.geometry.timeutil import skyfield_time

    t = skyfield_time(load.timescale(builtin=True), jd, fr)
    rot = np.atleast_3d(TEME.rotation_at(t))  # GCRS -> TEME, (3, 3, n)
    return np.transpose(rot, (2, 1, 0))


def teme_to_geodetic(r_km, jd, fr):
    """Return (alt_km, lat_deg, lon_deg) on WGS84 of TEME positions at UTC two-part JDs."""
    ecef, _ = teme_to_itrf(r_km, None, jd, fr)
    x, y, z = ecef.T
    lon = np.arctan2(y, x)
    p = np.hypot(x, y)
    e2 = WGS84_F * (2.0 - WGS84_F)
    b = WGS84_A_KM * (1.0 - WGS84_F)
    lat = np.arctan2(z, p * (1.0 - e2))
    # Bowring-style iteration: sub-millimetre after a few passes at any altitude.
    for _ in range(5):
        n = WGS84_A_KM / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
        alt = np.where(np.abs(np.cos(lat)) > 1e-9, p / np.cos(lat) - n, np.abs(z) - b)
        lat = np.arctan2(z, p * (1.0 - e2 * n / (n + alt)))
    n = WGS84_A_KM / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    alt = np.where(np.abs(np.cos(lat)) > 1e-9, p / np.cos(lat) - n, np.abs(z) - b)
    return alt, np.degrees(lat), np.degrees(lon)
