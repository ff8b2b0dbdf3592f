"""Small vector geometry the report figures need: RTN and encounter frames,
combined covariance, osculating apsides. Plain numpy, units in names."""

from __future__ import annotations

import numpy as np

# WGS72, the constants SGP4 runs with (docs/DESIGN.md): osculating apsides of
# SGP4 states are only consistent with the same mu and Earth radius.
MU_KM3_S2 = 398600.8
EARTH_RADIUS_KM = 6378.135


def rtn_basis(r_km, v_kms) -> np.ndarray:
    """Return the RTN unit vectors of one state as rows of a (3, 3) array (R, T, N).

    R = r/|r|, N = r x v / |r x v|, T = N x R (docs/DESIGN.md).
    """
    r = np.asarray(r_km, dtype=float)
    v = np.asarray(v_kms, dtype=float)
    radial = r / np.linalg.norm(r)
    normal = np.cross(r, v)
    normal /= np.linalg.norm(normal)
    return np.array([radial, np.cross(normal, radial), normal])


def encounter_basis(r1_km, v1_kms, v2_kms) -> np.ndarray:
    """Return the encounter-plane axes (x, y, z) as rows of a (3, 3) array.

    z is the relative velocity direction (v2 - v1), so x and y span the plane
    perpendicular to it, where the miss vector lies at TCA. y is object 1's
    radial direction projected onto that plane ("up" on the plot), x = y cross z
    completes a right-handed frame. If the relative velocity is nearly radial,
    object 1's orbit normal takes the role of the radial direction.
    """
    rel_v = np.asarray(v2_kms, dtype=float) - np.asarray(v1_kms, dtype=float)
    speed = np.linalg.norm(rel_v)
    if not speed > 0:
        raise ValueError("encounter plane needs a non-zero relative velocity (v2 - v1)")
    z = rel_v / speed
    basis = rtn_basis(r1_km, v1_kms)
    up = basis[0] - (basis[0] @ z) * z
    if np.linalg.norm(up) < 1e-3:  # radial within ~0.06 deg of the relative velocity
        up = basis[2] - (basis[2] @ z) * z
    y = up / np.linalg.norm(up)
    return np.array([np.cross(y, z), y, z])


def rtn_covariance_km2(r_km, v_kms, sigma_rtn_m) -> np.ndarray:
    """Return the (3, 3) inertial position covariance (km^2) of diagonal RTN sigmas (m)."""
    basis = rtn_basis(r_km, v_kms)
    sigma_km = np.asarray(sigma_rtn_m, dtype=float) / 1000.0
    return basis.T @ np.diag(sigma_km**2) @ basis


def combined_covariance_km2(r1_km, v1_kms, sigma1_rtn_m, r2_km, v2_kms, sigma2_rtn_m):
    """Return the combined (3, 3) inertial position covariance in km^2, or None.

    The objects' errors are taken as independent (sum of the two covariances),
    as in the usual 2-D Pc formulation. Returns None when any sigma is missing
    (NaN), so callers draw the plane without an ellipse.
    """
    s1 = np.asarray(sigma1_rtn_m, dtype=float)
    s2 = np.asarray(sigma2_rtn_m, dtype=float)
    if not (np.all(np.isfinite(s1)) and np.all(np.isfinite(s2))):
        return None
    return rtn_covariance_km2(r1_km, v1_kms, s1) + rtn_covariance_km2(r2_km, v2_kms, s2)


def osculating_apsides(r_km, v_kms):
    """Return (period_min, apogee_km, perigee_km) of TEME states, arrays of shape (n,).

    Two-body osculating elements with WGS72 mu; altitudes above a 6378.135 km
    Earth. Hyperbolic or degenerate states give NaN.
    """
    r = np.atleast_2d(np.asarray(r_km, dtype=float))
    v = np.atleast_2d(np.asarray(v_kms, dtype=float))
    r_norm = np.linalg.norm(r, axis=1)
    energy = 0.5 * np.einsum("ij,ij->i", v, v) - MU_KM3_S2 / r_norm
    with np.errstate(divide="ignore", invalid="ignore"):
        a_km = np.where(energy < 0, -MU_KM3_S2 / (2.0 * energy), np.nan)
        h = np.cross(r, v)
        e_vec = np.cross(v, h) / MU_KM3_S2 - r / r_norm[:, None]
        ecc = np.linalg.norm(e_vec, axis=1)
        period_min = 2.0 * np.pi * np.sqrt(a_km**3 / MU_KM3_S2) / 60.0
    apogee_km = a_km * (1.0 + ecc) - EARTH_RADIUS_KM
    perigee_km = a_km * (1.0 - ecc) - EARTH_RADIUS_KM
    return period_min, apogee_km, perigee_km
