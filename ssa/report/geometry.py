"""The report's view of the encounter geometry, built on ``ssa.geometry``.

The encounter frame itself (one convention for risk, report and scenario) is
``ssa.geometry.encounter_frame``; this module only orients its plane for the
figure and sums the two objects' covariances.
"""

from __future__ import annotations

import numpy as np

from ssa.geometry import encounter_frame, rtn_basis, rtn_to_inertial_cov

__all__ = ["combined_covariance_km2", "encounter_basis"]

# Below this |sin| of the angle between object 1's radial direction and the
# relative velocity (~0.06 deg), "radial up" is undefined: use the orbit normal.
RADIAL_ALONG_VELOCITY_SIN = 1e-3


def encounter_basis(r1_km, v1_kms, r2_km, v2_kms) -> np.ndarray:
    """Return the plot axes (x, y, z) of the encounter plane as rows of a (3, 3) array.

    z is the relative-velocity axis of ``ssa.geometry.encounter_frame`` (its row
    y); x and y span that frame's encounter plane (its rows x and z), turned so
    that y is object 1's radial direction projected onto the plane ("up" on the
    plot); x = y cross z completes a right-handed set. If the relative velocity
    is nearly radial, object 1's orbit normal takes the role of the radial.
    """
    frame = encounter_frame(r1_km, v1_kms, r2_km, v2_kms)[0]
    if not np.all(np.isfinite(frame)):
        raise ValueError("encounter plane needs a non-zero relative velocity (v2 - v1)")
    z = frame[1]
    plane = frame[[0, 2]]  # (2, 3): the plane's two axes
    rtn = rtn_basis(r1_km, v1_kms)[0]
    up = plane.T @ (plane @ rtn[0])  # radial, projected onto the plane
    if np.linalg.norm(up) < RADIAL_ALONG_VELOCITY_SIN:
        up = plane.T @ (plane @ rtn[2])
    y = up / np.linalg.norm(up)
    return np.array([np.cross(y, z), y, z])


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
    c1 = rtn_to_inertial_cov(r1_km, v1_kms, (s1 / 1000.0) ** 2)[0]
    c2 = rtn_to_inertial_cov(r2_km, v2_kms, (s2 / 1000.0) ** 2)[0]
    return c1 + c2
