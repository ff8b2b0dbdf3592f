"""Screening volumes as operators use them: an ellipsoid in the primary's RTN frame.

``ssa screen --volume R,T,N`` (semi-axes in km, e.g. the ISS's 0.5 x 25 x 25 km
"pizza box" as an ellipsoid) screens with a spherical threshold of the largest
semi-axis, which finds every encounter that enters the ellipsoid (inside it, the
distance is at most that semi-axis), then keeps the encounters that enter it:

- relative motion near TCA is a straight line in object 1's RTN frame,
  p(t) = p0 + w t (p0 = R_KM, T_KM, N_KM at TCA, w the relative velocity in RTN);
- the smallest ellipsoidal distance q(t) = sum((p_i(t) / a_i)^2) along that line is
  at t* = -(p0' D w) / (w' D w), D = diag(1 / a^2); the encounter enters when q(t*) <= 1.

The straight line holds for a few seconds around TCA for crossing encounters; for
slow (co-orbital, ``LONG_DURATION``) encounters it does not, so those are kept when the
TCA point alone is inside and marked ``VOLUME_APPROX`` in FLAGS.
"""

from __future__ import annotations

import numpy as np

from ssa.errors import UserError
from ssa.geometry.frames import rtn_basis

SLOW_KMS = 0.1  # below this relative speed the straight-line model is not used


def parse_volume(text: str) -> tuple[float, float, float]:
    """Return the (R, T, N) semi-axes in km of ``'0.5,25,25'``; UserError otherwise."""
    try:
        axes = tuple(float(x) for x in text.split(","))
    except ValueError:
        axes = ()
    if len(axes) != 3 or not all(a > 0 and np.isfinite(a) for a in axes):
        raise UserError(
            f"--volume {text!r}: expected three positive semi-axes in km, R,T,N, e.g. 0.5,25,25"
        )
    return axes  # type: ignore[return-value]


def ellipsoid_entry(rows, axes_km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (inside (n,) bool, q_min (n,), approximate (n,) bool) for a table's rows:
    whether object 2 enters the RTN ellipsoid of semi-axes ``axes_km`` around object 1."""
    axes = np.asarray(axes_km, dtype=np.float64)
    r1 = np.stack([rows[f"{c}1_KM"] for c in "XYZ"], axis=1).astype(np.float64)
    v1 = np.stack([rows[f"V{c}1_KMS"] for c in "XYZ"], axis=1).astype(np.float64)
    r2 = np.stack([rows[f"{c}2_KM"] for c in "XYZ"], axis=1).astype(np.float64)
    v2 = np.stack([rows[f"V{c}2_KMS"] for c in "XYZ"], axis=1).astype(np.float64)
    if len(r1) == 0:
        empty = np.zeros(0, dtype=bool)
        return empty, np.zeros(0), empty
    basis = rtn_basis(r1, v1)
    p0 = np.einsum("nij,nj->ni", basis, r2 - r1)
    w = np.einsum("nij,nj->ni", basis, v2 - v1)
    d = 1.0 / axes**2
    wdw = np.einsum("ni,ni->n", w * d, w)
    slow = np.linalg.norm(v2 - v1, axis=1) < SLOW_KMS
    t_star = np.where(slow, 0.0, -np.einsum("ni,ni->n", p0 * d, w) / np.where(slow, 1.0, wdw))
    p = p0 + w * t_star[:, None]
    q = np.einsum("ni,ni->n", p * d, p)
    return q <= 1.0, q, slow


def apply_volume(result, axes_km) -> int:
    """Keep only the conjunctions of ``result`` that enter the ellipsoid; mark slow ones
    VOLUME_APPROX in FLAGS; record the volume in run.json. Returns the rows dropped."""
    inside, _, slow = ellipsoid_entry(result.rows, axes_km)
    flags = np.asarray(result.rows["FLAGS"], dtype=object).copy()
    flags[slow] = [f"{f};VOLUME_APPROX" if f else "VOLUME_APPROX" for f in flags[slow]]
    result.rows["FLAGS"] = flags
    for name, values in list(result.rows.items()):
        result.rows[name] = np.asarray(values)[inside]
    dropped = int((~inside).sum())
    result.run.setdefault("inputs", {})["volume_rtn_km"] = [float(a) for a in axes_km]
    counts = result.run.setdefault("counts", {})
    counts["outside_volume"] = dropped
    counts["conjunctions"] = int(inside.sum())
    return dropped
