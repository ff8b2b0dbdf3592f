"""Refinement of candidate windows against exact SGP4 (never the interpolant).

A conjunction is a local minimum of the SGP4 distance d(t) = |r2 - r1| with
d <= threshold inside the window. Minima of one pair joined by d <= threshold
in between (docked vehicles, formations) are one encounter: the deepest minimum
is reported, with the encounter's duration.

Inside a candidate window d is sampled every SAMPLE_S; a local minimum lies
where f = (r2 - r1) . (v2 - v1) changes sign from - to +, and Newton's method on
f (derivative |dv|^2 + dr . da, two-body da) with bisection safeguards finds it
to TCA_TOL_S. SGP4 calls are batched per satellite (``Satrec.sgp4_array``).
"""

from __future__ import annotations

import numpy as np

from ssa.screening.propagate import MU_KM3_S2

# Sampling step inside a window: two distance minima of one pair closer than this
# would need relative accelerations far beyond orbital ones (see README).
SAMPLE_S = 10.0
TCA_TOL_S = 1e-5  # Newton stops when the step is below this (s)
MAX_NEWTON = 30
# |dr . dv| below this everywhere in a window means d(t) is flat (identical orbits).
FLAT_F_KM2_S = 1e-9
# Slack on the straight-line bound of a bracket's distance (curvature over 5 s: metres).
BRACKET_MARGIN_KM = 1.0


def states(satrecs, sat_idx, jd0, fr0, t_s):
    """Return (err, r_km, v_kms) of satrecs[sat_idx[m]] at window seconds t_s[m]."""
    sat_idx = np.asarray(sat_idx, np.int64)
    t_s = np.asarray(t_s, np.float64)
    m = sat_idx.size
    err = np.zeros(m, np.int64)
    r = np.empty((m, 3))
    v = np.empty((m, 3))
    if m == 0:
        return err, r, v
    order = np.argsort(sat_idx, kind="stable")
    sorted_idx = sat_idx[order]
    cuts = np.flatnonzero(np.diff(sorted_idx)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [m]])
    fr_all = fr0 + t_s / 86400.0
    for a, b in zip(starts.tolist(), ends.tolist(), strict=False):
        rows = order[a:b]
        sat = satrecs[int(sorted_idx[a])]
        e, rr, vv = sat.sgp4_array(np.full(b - a, jd0), fr_all[rows])
        err[rows] = e
        r[rows] = rr
        v[rows] = vv
    bad = ~np.isfinite(r).all(axis=1) | ~np.isfinite(v).all(axis=1)
    err[bad & (err == 0)] = -1
    return err, r, v


def _rel(satrecs, i, j, jd0, fr0, t):
    e1, r1, v1 = states(satrecs, i, jd0, fr0, t)
    e2, r2, v2 = states(satrecs, j, jd0, fr0, t)
    return (e1 != 0) | (e2 != 0), r1, v1, r2, v2


def _newton(satrecs, pi, pj, lo, hi, jd0, fr0):
    """Return TCA (s) of each bracket [lo, hi] with f(lo) < 0 < f(hi)."""
    lo = lo.copy()
    hi = hi.copy()
    t = 0.5 * (lo + hi)
    active = np.ones(t.size, bool)
    for _ in range(MAX_NEWTON):
        if not active.any():
            break
        a = np.flatnonzero(active)
        bad, r1, v1, r2, v2 = _rel(satrecs, pi[a], pj[a], jd0, fr0, t[a])
        dr = r2 - r1
        dv = v2 - v1
        acc1 = -MU_KM3_S2 * r1 / np.linalg.norm(r1, axis=1, keepdims=True) ** 3
        acc2 = -MU_KM3_S2 * r2 / np.linalg.norm(r2, axis=1, keepdims=True) ** 3
        f = np.einsum("ij,ij->i", dr, dv)
        fp = np.einsum("ij,ij->i", dv, dv) + np.einsum("ij,ij->i", dr, acc2 - acc1)
        neg = f < 0
        lo[a[neg]] = t[a[neg]]
        hi[a[~neg]] = t[a[~neg]]
        with np.errstate(divide="ignore", invalid="ignore"):
            tn = t[a] - f / fp
        outside = ~np.isfinite(tn) | (tn <= lo[a]) | (tn >= hi[a]) | bad
        tn[outside] = 0.5 * (lo[a[outside]] + hi[a[outside]])
        step = np.abs(tn - t[a])
        t[a] = tn
        done = (step < TCA_TOL_S) | (hi[a] - lo[a] < TCA_TOL_S)
        active[a[done]] = False
    return t


def refine(satrecs, pair_i, pair_j, win_lo_s, win_hi_s, jd0, fr0, window_s, threshold_km):
    """Return the conjunctions found in candidate windows.

    pair_i, pair_j: satellite indices; win_lo_s, win_hi_s: window bounds (s from the
    window start (jd0, fr0)); window_s: screening span. Returns a dict of arrays:
    i, j, tca_s, miss_km, duration_s, r1, v1, r2, v2 (TEME km, km/s).
    """
    pair_i = np.asarray(pair_i, np.int64)
    pair_j = np.asarray(pair_j, np.int64)
    lo_w = np.clip(np.asarray(win_lo_s, float), 0.0, window_s)
    hi_w = np.clip(np.asarray(win_hi_s, float), 0.0, window_s)
    found = {k: [] for k in ("i", "j", "tca_s", "miss_km", "run_lo_s", "run_hi_s")}
    todo = np.arange(pair_i.size)
    lo_cur, hi_cur = lo_w, hi_w
    for _ in range(50):  # extensions when a minimum sits on a window edge
        if todo.size == 0:
            break
        n_s = np.maximum(np.ceil((hi_cur[todo] - lo_cur[todo]) / SAMPLE_S).astype(np.int64), 1) + 1
        w = np.repeat(np.arange(todo.size), n_s)
        first = np.concatenate([[0], np.cumsum(n_s)[:-1]])
        pos = np.arange(w.size) - first[w]
        t = lo_cur[todo][w] + (hi_cur[todo] - lo_cur[todo])[w] * pos / (n_s[w] - 1)
        bad, r1, v1, r2, v2 = _rel(satrecs, pair_i[todo][w], pair_j[todo][w], jd0, fr0, t)
        dr = r2 - r1
        d = np.linalg.norm(dr, axis=1)
        f = np.einsum("ij,ij->i", dr, v2 - v1)
        d[bad] = np.inf
        f[bad] = np.nan
        # Brackets: f < 0 at sample s, f >= 0 at s + 1, same window, d small enough.
        same = np.zeros(w.size, bool)
        same[:-1] = w[:-1] == w[1:]
        # The sample nearer the TCA is within half a spacing of it, so its distance is
        # at most miss + |v_rel| * spacing / 2: head-on LEO pairs (15 km/s) need ~80 km.
        half_km = 0.5 * SAMPLE_S * np.linalg.norm(v2 - v1, axis=1)
        near_km = threshold_km + np.maximum(half_km, np.roll(half_km, -1)) + BRACKET_MARGIN_KM
        cand = np.flatnonzero(same & (f < 0) & (np.roll(f, -1) >= 0)
                              & (np.minimum(d, np.roll(d, -1)) <= near_km))
        if cand.size:
            tca = _newton(satrecs, pair_i[todo][w[cand]], pair_j[todo][w[cand]], t[cand],
                          t[cand + 1], jd0, fr0)
            bad_m, a1, b1, a2, b2 = _rel(satrecs, pair_i[todo][w[cand]],
                                         pair_j[todo][w[cand]], jd0, fr0, tca)
            miss = np.linalg.norm(a2 - a1, axis=1)
            keep = ~bad_m & (miss <= threshold_km) & (tca > 0) & (tca < window_s)
            for c, tc, ms, kp in zip(cand.tolist(), tca.tolist(), miss.tolist(),
                                     keep.tolist(), strict=False):
                if not kp:
                    continue
                wi = w[c]
                f0 = first[wi]
                below = d[f0:f0 + n_s[wi]] <= threshold_km
                # Run of samples <= threshold around this minimum: its encounter.
                s_lo = c - f0
                s_hi = s_lo + 1
                while s_lo > 0 and below[s_lo - 1] and below[s_lo]:
                    s_lo -= 1
                while s_hi < below.size - 1 and below[s_hi + 1] and below[s_hi]:
                    s_hi += 1
                found["i"].append(int(pair_i[todo[wi]]))
                found["j"].append(int(pair_j[todo[wi]]))
                found["tca_s"].append(tc)
                found["miss_km"].append(ms)
                found["run_lo_s"].append(float(t[f0 + s_lo]))
                found["run_hi_s"].append(float(t[f0 + s_hi]))
        # A window inside one encounter without any strict minimum (twins with
        # identical element sets: d constant): report its smallest interior sample.
        has_min = np.zeros(todo.size, bool)
        if cand.size:
            has_min[w[cand]] = True
        for wi in np.flatnonzero(~has_min).tolist():
            f0 = first[wi]
            dd = d[f0:f0 + n_s[wi]]
            tt = t[f0:f0 + n_s[wi]]
            inner = (tt > 0) & (tt < window_s)
            if not inner.any() or not (dd[inner] <= threshold_km).all() or dd.size < 3:
                continue
            if np.nanmax(np.abs(f[f0:f0 + n_s[wi]])) > FLAT_F_KM2_S:
                continue
            q = np.flatnonzero(inner)[np.argmin(dd[inner])]
            found["i"].append(int(pair_i[todo[wi]]))
            found["j"].append(int(pair_j[todo[wi]]))
            found["tca_s"].append(float(tt[q]))
            found["miss_km"].append(float(dd[q]))
            found["run_lo_s"].append(float(tt[0]))
            found["run_hi_s"].append(float(tt[-1]))
        # A window whose first (last) sample is a decreasing (increasing) d <= threshold
        # may hide a minimum just outside: extend it and look again.
        a = first
        b = first + n_s - 1
        grow_lo = (f[a] > 0) & (d[a] <= threshold_km) & (lo_cur[todo] > 0)
        grow_hi = (f[b] < 0) & (d[b] <= threshold_km) & (hi_cur[todo] < window_s)
        grow = grow_lo | grow_hi
        ext = todo[grow]
        new_lo = np.where(grow_lo, np.maximum(0.0, lo_cur[todo] - 10 * SAMPLE_S), lo_cur[todo])[grow]
        new_hi = np.where(grow_hi, np.minimum(window_s, hi_cur[todo] + 10 * SAMPLE_S),
                          hi_cur[todo])[grow]
        if not ext.size:
            break
        lo_cur = lo_cur.copy()
        hi_cur = hi_cur.copy()
        lo_cur[ext] = new_lo
        hi_cur[ext] = new_hi
        todo = ext
    return _encounters(found)


def _encounters(found):
    """Merge minima of one pair whose runs of d <= threshold overlap (one encounter,
    deepest minimum kept) and duplicates found twice after window extension."""
    i = np.asarray(found["i"], np.int64)
    j = np.asarray(found["j"], np.int64)
    tca = np.asarray(found["tca_s"], float)
    miss = np.asarray(found["miss_km"], float)
    rlo = np.asarray(found["run_lo_s"], float)
    rhi = np.asarray(found["run_hi_s"], float)
    order = np.lexsort((rlo, j, i))
    keep = []
    best = -1
    for q in order.tolist():
        if best >= 0 and i[q] == i[best] and j[q] == j[best] and (
                rlo[q] <= rhi[best] or abs(tca[q] - tca[best]) < 1e-3):
            rhi[best] = max(rhi[best], rhi[q])
            rlo[best] = min(rlo[best], rlo[q])
            if miss[q] < miss[best]:
                tca[best], miss[best] = tca[q], miss[q]
            continue
        best = q
        keep.append(q)
    keep = np.asarray(keep, np.int64)
    return {"i": i[keep], "j": j[keep], "tca_s": tca[keep], "miss_km": miss[keep],
            "duration_s": rhi[keep] - rlo[keep]}
