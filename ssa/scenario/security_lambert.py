"""Lambert's problem (two-body), single and multi-revolution, and fuel-optimal approaches.

Neither scipy nor skyfield solves Lambert's problem, so it is written here with the
universal variable psi (Bate, Mueller & White 1971, ch. 5; Vallado, *Fundamentals of
Astrodynamics and Applications*, 4th ed., algorithm 58):

    A   = dm sqrt(r1 r2 (1 + cos dnu))            dm = +1 short way, -1 long way
    y   = r1 + r2 + A (psi c3 - 1) / sqrt(c2)
    chi = sqrt(y / c2),   sqrt(mu) t = chi^3 c3 + A sqrt(y)
    f = 1 - y / r1,  g = A sqrt(y / mu),  gdot = 1 - y / r2
    v1 = (r2 - f r1) / g,  v2 = (gdot r2 - r1) / g

With N full revolutions psi lies in ((2 N pi)^2, (2 (N+1) pi)^2) (psi = dE^2), where the
time of flight has one minimum: zero or two solutions per N (N = 0: one, psi < 4 pi^2).
Roots are bracketed on a dense psi grid and refined with scipy's brentq, which makes
every branch explicit instead of relying on a starting guess.

Tested against Vallado's example 7-5 and Curtis's example 5.2 (published velocities) and,
for multi-revolution branches, by integrating the two-body motion from (r1, v1) for the
time of flight (tests/test_security_lambert.py).
"""

from __future__ import annotations

import numpy as np

from ssa.geometry.constants import MU_KM3_S2

_PSI_GRID = 400  # grid points per psi interval used to bracket the roots


def stumpff(psi):
    """Return (c2, c3) of psi (scalar or array)."""
    psi = np.asarray(psi, float)
    pos, neg = psi > 1e-6, psi < -1e-6
    small = ~(pos | neg)
    sp = np.sqrt(np.where(pos, psi, 1.0))
    sn = np.sqrt(np.where(neg, -psi, 1.0))
    safe = np.where(small, 1.0, psi)
    c2 = np.where(
        pos, (1.0 - np.cos(sp)) / safe, np.where(neg, (1.0 - np.cosh(sn)) / safe, 0.5 - psi / 24)
    )
    c3 = np.where(
        pos,
        (sp - np.sin(sp)) / sp**3,
        np.where(neg, (np.sinh(sn) - sn) / sn**3, 1.0 / 6.0 - psi / 120.0),
    )
    return c2, c3


def _tof_s(psi, r1n, r2n, a_, mu):
    """Return (time of flight s, y) at psi (arrays); NaN where y <= 0 or c2 = 0."""
    c2, c3 = stumpff(psi)
    ok = c2 > 0
    c2s = np.where(ok, c2, 1.0)
    y = r1n + r2n + a_ * (psi * c3 - 1.0) / np.sqrt(c2s)
    ok &= y > 0
    ys = np.where(ok, y, 1.0)
    chi = np.sqrt(ys / c2s)
    t = (chi**3 * c3 + a_ * np.sqrt(ys)) / np.sqrt(mu)
    return np.where(ok, t, np.nan), y


def lambert(r1_km, r2_km, tof_s: float, revs: int = 0, long_way: bool = False, mu=MU_KM3_S2):
    """Return a list of (v1 km/s, v2 km/s) solutions from r1 to r2 in ``tof_s`` seconds.

    ``revs`` full revolutions (0: at most one solution; >= 1: zero or two); ``long_way``
    takes the transfer angle above 180 deg (motion about -(r1 x r2)), else below 180 deg
    (motion about r1 x r2).
    """
    from scipy.optimize import brentq

    r1, r2 = np.asarray(r1_km, float), np.asarray(r2_km, float)
    r1n, r2n = np.linalg.norm(r1), np.linalg.norm(r2)
    cos_dnu = np.clip(np.dot(r1, r2) / (r1n * r2n), -1.0, 1.0)
    dm = -1.0 if long_way else 1.0
    a_ = dm * np.sqrt(r1n * r2n * (1.0 + cos_dnu))
    if abs(a_) < 1e-9:
        raise ValueError("r1 and r2 are collinear (transfer angle 0 or 180 deg): plane undefined")
    if revs == 0:
        lo, hi = -4.0 * np.pi**2 * 4, 4.0 * np.pi**2 * (1 - 1e-9)
    else:
        lo = (2.0 * np.pi * revs) ** 2 * (1 + 1e-9)
        hi = (2.0 * np.pi * (revs + 1)) ** 2 * (1 - 1e-9)
    grid = np.linspace(lo, hi, _PSI_GRID)
    vals = _tof_s(grid, r1n, r2n, a_, mu)[0] - tof_s
    out = []
    brackets = np.flatnonzero(
        np.isfinite(vals[:-1]) & np.isfinite(vals[1:]) & (vals[:-1] * vals[1:] <= 0)
    )
    for k in brackets:
        psi = brentq(
            lambda p: float(_tof_s(p, r1n, r2n, a_, mu)[0]) - tof_s,
            grid[k],
            grid[k + 1],
            xtol=1e-12,
        )
        y = float(_tof_s(psi, r1n, r2n, a_, mu)[1])
        f = 1.0 - y / r1n
        g = a_ * np.sqrt(y / mu)
        gdot = 1.0 - y / r2n
        out.append(((r2 - f * r1) / g, (gdot * r2 - r1) / g))
    return out


def best_transfer(r0, v0, target_state, times_s, max_revs: int | None = None, mu=MU_KM3_S2):
    """Return the two-impulse transfer of least total delta-v over a grid of times of flight.

    ``r0, v0``: the chaser's state at the burn; ``target_state(t_s) -> (r, v)``: where it
    must arrive (and the velocity to match) t_s after the burn. Every time of ``times_s``,
    0..``max_revs`` revolutions (default: as many as fit in the time of flight at 0.8 of
    the chaser's period) and both ways are tried. Returns a dict with ``tof_s``,
    ``dv1`` (3,) km/s (departure), ``dv2`` (3,) km/s (arrival, to match the target),
    ``total_kms``, ``revs``, ``long_way``; None when no branch solves.
    """
    best = None
    a = 1.0 / (2.0 / np.linalg.norm(r0) - np.dot(v0, v0) / mu)
    period_s = 2.0 * np.pi * np.sqrt(a**3 / mu) if a > 0 else np.inf
    for t in np.asarray(times_s, float):
        r2, v2t = target_state(t)
        n_revs = max_revs if max_revs is not None else int(t / (0.8 * period_s))
        for revs in range(n_revs + 1):
            for long_way in (False, True):
                try:
                    sols = lambert(r0, r2, t, revs, long_way, mu)
                except ValueError:
                    continue
                for v1, v2 in sols:
                    dv1, dv2 = v1 - v0, v2t - v2
                    total = float(np.linalg.norm(dv1) + np.linalg.norm(dv2))
                    if best is None or total < best["total_kms"]:
                        best = {
                            "tof_s": float(t),
                            "dv1": dv1,
                            "dv2": dv2,
                            "total_kms": total,
                            "revs": revs,
                            "long_way": long_way,
                        }
    return best
