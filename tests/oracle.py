"""Slow, independent brute-force screening oracle (shares no code with ssa.screening).

1. Exact SGP4 (SatrecArray) of every object every SAMPLE_S seconds.
2. Between samples t_k and t_k+1, |d'(t)| <= V (V bounds every relative speed, from
   the sampled speeds times a margin), so min d over the interval is at least
   (d_k + d_k+1 - V * SAMPLE_S) / 2. Every pair whose bound is <= threshold is kept
   (a KD-tree finds all pairs with d_k <= 2 threshold + V * SAMPLE_S).
3. In each kept window the exact SGP4 distance is sampled every second, each
   discrete local minimum refined with scipy's bounded Brent search to 1e-7 s, and
   minima of one pair joined by d <= threshold at every 1 s sample are one encounter
   (deepest kept), as ssa.screening defines it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.spatial import cKDTree
from sgp4.api import SatrecArray

SAMPLE_S = 20.0
SPEED_MARGIN = 1.2  # sampled max speed times this bounds the speed between samples
FINE_S = 1.0


def _sgp4(sat, jd0, fr0, t_s):
    t_s = np.atleast_1d(np.asarray(t_s, float))
    e, r, v = sat.sgp4_array(np.full(t_s.size, jd0), fr0 + t_s / 86400.0)
    return e, r, v


def oracle_screen(satrecs, jd0, fr0, window_s, threshold_km):
    """Return a list of (i, j, tca_s, miss_km) over all pairs (i < j, satrec indices)."""
    t = np.arange(0.0, window_s + SAMPLE_S / 2, SAMPLE_S)
    if t[-1] < window_s:
        t = np.append(t, window_s)
    e, r, v = SatrecArray(list(satrecs)).sgp4(np.full(t.size, jd0), fr0 + t / 86400.0)
    ok = (e == 0) & np.isfinite(r).all(axis=2)
    # An object stops at its first failure.
    alive = np.cumprod(ok, axis=1).astype(bool)
    speed = np.linalg.norm(v, axis=2)
    vmax = SPEED_MARGIN * 2.0 * np.nanmax(np.where(alive, speed, 0.0))
    radius = 2.0 * threshold_km + vmax * SAMPLE_S
    windows = {}
    for k in range(t.size - 1):
        live = np.flatnonzero(alive[:, k] & alive[:, k + 1])
        if live.size < 2:
            continue
        tree = cKDTree(r[live, k])
        pairs = tree.query_pairs(radius, output_type="ndarray")
        if not len(pairs):
            continue
        a, b = live[pairs[:, 0]], live[pairs[:, 1]]
        dk = np.linalg.norm(r[a, k] - r[b, k], axis=1)
        dk1 = np.linalg.norm(r[a, k + 1] - r[b, k + 1], axis=1)
        keep = (dk + dk1 - vmax * (t[k + 1] - t[k])) / 2.0 <= threshold_km
        for i, j in zip(
            np.minimum(a, b)[keep].tolist(), np.maximum(a, b)[keep].tolist(), strict=False
        ):
            windows.setdefault((i, j), []).append(k)
    out = []
    for (i, j), ks in windows.items():
        ks = sorted(ks)
        groups = [[ks[0], ks[0]]]
        for k in ks[1:]:
            if k == groups[-1][1] + 1:
                groups[-1][1] = k
            else:
                groups.append([k, k])
        for k0, k1 in groups:
            out.extend(
                _refine(
                    satrecs[i], satrecs[j], i, j, jd0, fr0, t[k0], t[k1 + 1], window_s, threshold_km
                )
            )
    return sorted(out, key=lambda x: (x[2], x[0], x[1]))


def _refine(s1, s2, i, j, jd0, fr0, a, b, window_s, threshold_km):
    tt = np.arange(a, b + FINE_S / 2, FINE_S)
    e1, r1, _ = _sgp4(s1, jd0, fr0, tt)
    e2, r2, _ = _sgp4(s2, jd0, fr0, tt)
    d = np.linalg.norm(r2 - r1, axis=1)
    d[(e1 != 0) | (e2 != 0)] = np.inf

    def dist(x):
        _, p1, _ = _sgp4(s1, jd0, fr0, x)
        _, p2, _ = _sgp4(s2, jd0, fr0, x)
        return float(np.linalg.norm(p2[0] - p1[0]))

    minima = []
    for q in range(1, tt.size - 1):
        if (
            d[q] <= d[q - 1]
            and d[q] <= d[q + 1]
            and d[q] < np.inf
            and (d[q] < d[q - 1] or d[q] < d[q + 1])
        ):
            # Search in u = t - t_q: Brent's tolerance has a term relative to |u|.
            res = minimize_scalar(
                lambda u, c=tt[q]: dist(c + u),
                bounds=(-FINE_S, FINE_S),
                method="bounded",
                options={"xatol": 1e-7},
            )
            x = float(tt[q] + res.x)
            if res.fun <= threshold_km and 0.0 < x < window_s:
                minima.append((q, x, float(res.fun)))
    if not minima and d.size >= 3 and np.all(d[1:-1] <= threshold_km) and np.ptp(d) < 1e-9:
        q = 1 + int(np.argmin(d[1:-1]))
        minima.append((q, float(tt[q]), float(d[q])))
    # Join minima connected by d <= threshold at every sample between them.
    out = []
    for q, x, f in minima:
        if out and np.all(d[out[-1][0] : q + 1] <= threshold_km):
            if f < out[-1][3]:
                out[-1] = (out[-1][0], i, x, f)
            continue
        out.append((q, i, x, f))
    return [(i, j, x, f) for _, _, x, f in out]
