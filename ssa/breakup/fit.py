"""TEME states -> SGP4 mean elements that reproduce them (neither sgp4 nor skyfield does this).

Newton's method on six equinoctial elements (mean motion n, h = e sin(w+O),
k = e cos(w+O), p = tan(i/2) sin O, q = tan(i/2) cos O, mean longitude L), which have
no singularity at e = 0 or i = 0, with sgp4 itself as the model: start from the
osculating elements of the state (two-body, WGS72 mu), propagate with SGP4 to the
epoch, correct by the finite-difference Jacobian, repeat. Everything is batched: one
Python loop over ``sgp4init`` per iteration, SGP4 evaluated with ``SatrecArray``.
Typically 3-5 iterations reach millimetres. Fragments whose state SGP4 cannot hold
(perigee inside the Earth, e >= 1, sgp4 errors) are reported, not raised.

Also used for manoeuvres: the element set after a delta-v is the fit of the new state.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from ssa.geometry.constants import MU_KM3_S2

FIT_TOLERANCE_M = 1.0  # the requirement: SGP4 reproduces the state to 1 m
_STOP_M = 1e-3  # iterate on to 1 mm: cheap, and leaves margin
MAX_ITERATIONS = 20
_FD_STEP = 1e-7  # finite-difference step (relative for n, absolute otherwise)
_SGP4_EPOCH0_JD = 2433281.5
_SEC_PER_MIN = 60.0
_TWO_PI = 2.0 * math.pi


class Fit(NamedTuple):
    """Fitted elements, one row per state.

    ``elements``: dict of arrays no_kozai (rad/min), ecco, inclo, nodeo, argpo, mo (rad);
    ``satrecs``: initialised ``Satrec``s (None where the fit failed); ``ok``: fit within
    FIT_TOLERANCE_M in position (and the matching velocity); ``residual_m``: final
    position error (m); ``iterations``: Newton steps taken."""

    elements: dict
    satrecs: list
    ok: np.ndarray
    residual_m: np.ndarray
    iterations: int


def equinoctial_from_state(r_km, v_kms, mu: float = MU_KM3_S2) -> np.ndarray:
    """Return (n, 6) osculating equinoctial elements [n rad/min, h, k, p, q, L rad].

    Vectorised two-body conversion (sgp4.ext.rv2coe does one object at a time)."""
    r = np.atleast_2d(np.asarray(r_km, float))
    v = np.atleast_2d(np.asarray(v_kms, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _equinoctial(r, v, mu)


def _equinoctial(r, v, mu):
    rn = np.linalg.norm(r, axis=1)
    v2 = np.einsum("ij,ij->i", v, v)
    rv = np.einsum("ij,ij->i", r, v)
    a = 1.0 / (2.0 / rn - v2 / mu)
    evec = ((v2 - mu / rn)[:, None] * r - rv[:, None] * v) / mu
    hvec = np.cross(r, v)
    hhat = hvec / np.linalg.norm(hvec, axis=1)[:, None]
    p = hhat[:, 0] / (1.0 + hhat[:, 2])
    q = -hhat[:, 1] / (1.0 + hhat[:, 2])
    s = 1.0 + p * p + q * q
    f = np.stack([1 - p * p + q * q, 2 * p * q, -2 * p], axis=1) / s[:, None]
    g = np.stack([2 * p * q, 1 + p * p - q * q, 2 * q], axis=1) / s[:, None]
    k = np.einsum("ij,ij->i", evec, f)
    h = np.einsum("ij,ij->i", evec, g)
    true_long = np.arctan2(np.einsum("ij,ij->i", r, g), np.einsum("ij,ij->i", r, f))
    e = np.hypot(h, k)
    e = np.where(e < 1.0, e, np.nan)  # unbound or parabolic: no element set
    varpi = np.arctan2(h, k)
    nu = true_long - varpi
    ecc_anom = 2.0 * np.arctan(np.sqrt((1 - e) / (1 + e)) * np.tan(nu / 2.0))
    mean_long = ecc_anom - e * np.sin(ecc_anom) + varpi
    n_rad_min = np.sqrt(mu / np.abs(a) ** 3) * _SEC_PER_MIN
    n_rad_min = np.where(a > 0, n_rad_min, np.nan)  # hyperbolic: no element set
    return np.stack([n_rad_min, h, k, p, q, np.mod(mean_long, _TWO_PI)], axis=1)


def classical_from_equinoctial(x) -> dict:
    """Return sgp4init's elements (dict of arrays) from (n, 6) equinoctial rows."""
    x = np.atleast_2d(x)
    n, h, k, p, q, lam = x.T
    node = np.mod(np.arctan2(p, q), _TWO_PI)
    varpi = np.arctan2(h, k)
    return {
        "no_kozai": n,
        "ecco": np.hypot(h, k),
        "inclo": 2.0 * np.arctan(np.hypot(p, q)),
        "nodeo": node,
        "argpo": np.mod(varpi - node, _TWO_PI),
        "mo": np.mod(lam - varpi, _TWO_PI),
    }


def _satrecs(x, epoch_days, bstar, satnum, opsmode):
    """Return (Satrecs, mask of rows whose elements sgp4init can take)."""
    el = classical_from_equinoctial(x)
    valid = (el["no_kozai"] > 0) & (el["ecco"] < 1) & np.isfinite(x).all(axis=1)
    out = []
    for row in zip(
        satnum,
        bstar,
        el["ecco"].tolist(),
        el["argpo"].tolist(),
        el["inclo"].tolist(),
        el["mo"].tolist(),
        el["no_kozai"].tolist(),
        el["nodeo"].tolist(),
        strict=True,
    ):
        sat = Satrec()
        num, bs, ec, ap, inc, mo, no, node = row
        if not (no > 0 and 0 <= ec < 1):  # outside what sgp4init accepts
            ec, no = 0.0, 0.06  # placeholder; the row is flagged below
        sat.sgp4init(WGS72, opsmode, num, epoch_days, bs, 0.0, 0.0, ec, ap, inc, mo, no, node)
        out.append(sat)
    return out, valid


def _evaluate(sats, jd, fr):
    err, r, v = SatrecArray(sats).sgp4(np.array([jd]), np.array([fr]))
    return err[:, 0], r[:, 0], v[:, 0]


def fit_states(
    r_km, v_kms, jd: float, fr: float, bstar=0.0, satnum=None, opsmode: str = "i"
) -> Fit:
    """Return SGP4 mean elements whose state at (jd, fr) is each (r_km, v_kms) (TEME).

    ``r_km``, ``v_kms``: (n, 3) TEME position (km) and velocity (km/s); ``jd``, ``fr``:
    the two-part Julian date (UTC) that becomes every element set's epoch; ``bstar``:
    B* (1/Earth radii, scalar or (n,)); ``satnum``: numbers for the Satrecs (0 above
    Alpha-5's range, as ssa.catalog does)."""
    r = np.atleast_2d(np.asarray(r_km, float))
    v = np.atleast_2d(np.asarray(v_kms, float))
    m = r.shape[0]
    bstar = np.broadcast_to(np.asarray(bstar, float), (m,)).tolist()
    satnum = [0] * m if satnum is None else [int(s) if s <= 339999 else 0 for s in satnum]
    epoch_days = (jd - _SGP4_EPOCH0_JD) + fr
    x = equinoctial_from_state(r, v)
    scale = 1.0 / np.where(np.isfinite(x[:, 0]), x[:, 0], 0.06) * _SEC_PER_MIN  # s/rad
    ok = np.isfinite(x).all(axis=1)
    residual = np.full(m, np.inf)
    active = np.flatnonzero(ok)
    iterations = 0
    steps = np.diag(np.full(6, _FD_STEP))
    best = np.full(m, np.inf)  # residual before the last step (backtracking)
    last_delta = np.zeros_like(x)
    for iterations in range(1, MAX_ITERATIONS + 1):  # noqa: B007 (reported)
        if active.size == 0:
            break
        xa = x[active]
        a = active.size
        # rows: the current elements, then one perturbation per element
        trial = np.concatenate(
            [xa] + [xa + steps[j] * np.where(j == 0, xa[:, :1], 1.0) for j in range(6)]
        )
        sats, valid = _satrecs(
            trial, epoch_days, bstar_rows(bstar, active, 7), satnum_rows(satnum, active, 7), opsmode
        )
        err, rr, vv = _evaluate(sats, jd, fr)
        err = (err != 0) | ~valid
        err = err.reshape(7, a)
        res = np.concatenate(
            [rr[:a] - r[active], (vv[:a] - v[active]) * scale[active, None]], axis=1
        )
        residual[active] = np.linalg.norm(rr[:a] - r[active], axis=1) * 1e3
        bad = err.any(axis=0) | ~np.isfinite(res).all(axis=1)
        done = (residual[active] < _STOP_M) & ~bad
        # A step that made things worse (SGP4's deep-space terms are not smooth
        # everywhere) is halved and tried again instead of followed.
        worse = (residual[active] > best[active]) & ~done
        if worse.any():
            rows = active[worse]
            last_delta[rows] *= 0.5
            x[rows] -= last_delta[rows]
        bad &= ~worse
        best[active[~worse]] = residual[active[~worse]]
        y0 = np.concatenate([rr[:a], vv[:a] * scale[active, None]], axis=1)
        jac = np.empty((a, 6, 6))
        for j in range(6):
            sl = slice((j + 1) * a, (j + 2) * a)
            yj = np.concatenate([rr[sl], vv[sl] * scale[active, None]], axis=1)
            dx = _FD_STEP * (xa[:, 0] if j == 0 else np.ones(a))
            jac[:, :, j] = (yj - y0) / dx[:, None]
        step_rows = ~done & ~bad & ~worse
        if step_rows.any():
            # pinv, not solve: a degenerate Jacobian must not stop the whole batch
            delta = (np.linalg.pinv(jac[step_rows]) @ -res[step_rows][:, :, None])[:, :, 0]
            x[active[step_rows]] += delta
            last_delta[active[step_rows]] = delta
        ok[active[bad]] = False
        active = active[step_rows | worse]
    ok &= residual <= FIT_TOLERANCE_M
    final, valid = _satrecs(np.where(np.isfinite(x), x, 0.0), epoch_days, bstar, satnum, opsmode)
    err, rr, vv = _evaluate(final, jd, fr)
    residual = np.where((err == 0) & valid, np.linalg.norm(rr - r, axis=1) * 1e3, np.inf)
    ok &= (err == 0) & valid & (residual <= FIT_TOLERANCE_M)
    elements = classical_from_equinoctial(x)
    return Fit(
        elements,
        [s if good else None for s, good in zip(final, ok, strict=True)],
        ok,
        residual,
        iterations,
    )


def bstar_rows(bstar: list, active: np.ndarray, copies: int) -> list:
    """Return ``bstar`` of the active rows, repeated ``copies`` times (trial layout)."""
    sub = [bstar[i] for i in active.tolist()]
    return sub * copies


def satnum_rows(satnum: list, active: np.ndarray, copies: int) -> list:
    """Return ``satnum`` of the active rows, repeated ``copies`` times (trial layout)."""
    sub = [satnum[i] for i in active.tolist()]
    return sub * copies
