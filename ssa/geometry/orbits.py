"""Two-body (osculating) orbit quantities of SGP4 states, with the WGS72 mu SGP4 uses."""

from __future__ import annotations

import numpy as np

from ssa.geometry.constants import EARTH_RADIUS_KM, MU_KM3_S2


def osculating_apsides(r_km, v_kms):
    """Return (period_min, apogee_km, perigee_km), each (n,), of states r_km, v_kms (n, 3) or (3,).

    Altitudes are above the WGS72 equatorial radius, as ``Catalog.perigee_km``.
    Hyperbolic, parabolic or degenerate (r = 0) states give NaN.
    """
    r = np.atleast_2d(np.asarray(r_km, dtype=np.float64))
    v = np.atleast_2d(np.asarray(v_kms, dtype=np.float64))
    r_norm = np.linalg.norm(r, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        energy = 0.5 * np.einsum("ij,ij->i", v, v) - MU_KM3_S2 / r_norm
        a_km = np.where(energy < 0, -MU_KM3_S2 / (2.0 * energy), np.nan)
        e_vec = np.cross(v, np.cross(r, v)) / MU_KM3_S2 - r / r_norm[:, None]
        ecc = np.linalg.norm(e_vec, axis=1)
        period_min = 2.0 * np.pi * np.sqrt(a_km**3 / MU_KM3_S2) / 60.0
    return period_min, a_km * (1.0 + ecc) - EARTH_RADIUS_KM, a_km * (1.0 - ecc) - EARTH_RADIUS_KM
