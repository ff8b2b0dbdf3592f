"""Baseline conjunction screeners: what a user would write without ``ssa``.

All three share one honest, conservative recipe and differ only in the broad
phase (finding pairs closer than a radius at one time step):

1. Propagate every object with sgp4's ``SatrecArray`` at fixed steps of ``step_s``.
2. At each step, find all pairs closer than ``R = threshold + pad``, where
   ``pad = v_rel_max * step_s / 2 + PAD_MARGIN_KM`` and ``v_rel_max`` is twice
   the largest perigee speed in the catalog: a pair whose true minimum is below
   the threshold is then within ``R`` at the step nearest its TCA.

   * ``brute``: every pair at every step (numba double loop);
   * ``kdtree``: ``scipy.spatial.cKDTree(...).query_pairs(R)`` per step, as several
     open-source screeners do;
   * ``sweep``: sort by x, sweep a window of width ``R`` (sort-and-sweep on one axis).
3. Keep a candidate when the straight-line relative motion from that step comes
   within ``threshold + LINEAR_MARGIN_KM`` in the half step either side.
4. Refine each kept candidate with bounded Brent minimisation of the SGP4
   distance (scipy ``minimize_scalar``, two ``Satrec.sgp4`` calls per evaluation)
   on [t_k - step, t_k + step]; keep interior minima below the threshold; merge
   duplicates found from neighbouring steps.

Steps 1, 3 and 4 are identical for the three methods (and their candidate
sets must be identical, which ``screen_baselines`` checks), so they are run once
and timed once; each method's total is propagation + its broad phase +
filter/refinement.
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np
from scipy.optimize import minimize_scalar
from scipy.spatial import cKDTree
from sgp4.api import Satrec, SatrecArray

MU_EARTH_KM3_S2 = 398600.8  # WGS72
R_EARTH_KM = 6378.135
SECONDS_PER_DAY = 86400.0
PAD_MARGIN_KM = 1.0  # covers the curvature of relative motion over half a step (< 0.01 km at 10 s)
LINEAR_MARGIN_KM = 1.0  # straight-line miss vs true miss over half a step: < 0.01 km in LEO
BRENT_XATOL_S = 1e-4  # TCA tolerance of the refinement
# Bounded Brent stops up to ~2e-3 s from a bound when d(t) decreases towards it; such a
# point is no minimum (the neighbouring step's interval, which overlaps by a full step,
# holds the true one). Window ends count too: boundary values are not minima.
EDGE_TOL_S = 0.05
MERGE_S = 1.0  # minima of one pair closer than this are one conjunction
MAX_OBJECT_STEPS = 4_000_000  # objects x steps propagated per chunk (~200 MB of r, v)
METHODS = ("brute", "kdtree", "sweep")


def read_satrecs(triples):
    """Return (satrecs, norad_ids int64) from (name, line1, line2) triples."""
    sats = [Satrec.twoline2rv(l1, l2) for _, l1, l2 in triples]
    return sats, np.array([s.satnum for s in sats], dtype=np.int64)


def max_relative_speed_kms(satrecs) -> float:
    """Return twice the largest perigee speed (km/s): a bound on any pair's relative speed."""
    n_rad_s = np.array([s.no_kozai for s in satrecs]) / 60.0
    ecc = np.array([s.ecco for s in satrecs])
    a_km = np.cbrt(MU_EARTH_KM3_S2 / n_rad_s**2)
    v_perigee = np.sqrt(MU_EARTH_KM3_S2 * (1.0 + ecc) / (a_km * (1.0 - ecc)))
    v_perigee = v_perigee[np.isfinite(v_perigee)]
    return 2.0 * float(v_perigee.max()) if v_perigee.size else 0.0


@numba.njit(cache=True)
def _pairs_brute(r, radius_km, out_i, out_j):
    """Write pairs (i<j) closer than radius into out_i/out_j; return the count (-1: full)."""
    n = r.shape[0]
    r2 = radius_km * radius_km
    count = 0
    for i in range(n):
        xi, yi, zi = r[i, 0], r[i, 1], r[i, 2]
        for j in range(i + 1, n):
            dx = r[j, 0] - xi
            dy = r[j, 1] - yi
            dz = r[j, 2] - zi
            if dx * dx + dy * dy + dz * dz <= r2:
                if count == out_i.shape[0]:
                    return -1
                out_i[count] = i
                out_j[count] = j
                count += 1
    return count


@numba.njit(cache=True)
def _pairs_sweep(r, radius_km, out_i, out_j):
    """Sort-and-sweep on x: like ``_pairs_brute`` but only within an x-window of radius."""
    order = np.argsort(r[:, 0])
    n = r.shape[0]
    r2 = radius_km * radius_km
    count = 0
    for a in range(n):
        i = order[a]
        xi, yi, zi = r[i, 0], r[i, 1], r[i, 2]
        if xi != xi:  # NaN (SGP4 error) sorts last: nothing after it is valid
            break
        for b in range(a + 1, n):
            j = order[b]
            dx = r[j, 0] - xi
            if dx > radius_km or dx != dx:
                break
            dy = r[j, 1] - yi
            dz = r[j, 2] - zi
            if dx * dx + dy * dy + dz * dz <= r2:
                if count == out_i.shape[0]:
                    return -1
                out_i[count] = min(i, j)
                out_j[count] = max(i, j)
                count += 1
    return count


def _grow(fn, r, radius_km, cap):
    while True:
        out_i = np.empty(cap, np.int64)
        out_j = np.empty(cap, np.int64)
        k = fn(r, radius_km, out_i, out_j)
        if k >= 0:
            return out_i[:k], out_j[:k], cap
        cap *= 4


def pairs_kdtree(r, radius_km):
    """Return pairs (i<j) closer than radius with scipy's cKDTree (NaN rows skipped)."""
    ok = np.flatnonzero(np.isfinite(r[:, 0]))
    pairs = cKDTree(r[ok]).query_pairs(radius_km, output_type="ndarray")
    i, j = ok[pairs[:, 0]], ok[pairs[:, 1]]
    return np.minimum(i, j), np.maximum(i, j)


def warm_up():
    """Compile the numba kernels (cached on disk); return seconds spent."""
    t0 = time.perf_counter()
    r = np.random.default_rng(0).uniform(-10, 10, (20, 3))
    _grow(_pairs_brute, r, 5.0, 8)
    _grow(_pairs_sweep, r, 5.0, 8)
    return time.perf_counter() - t0


def _sgp4_distance(sat1, sat2, jd0, fr0, t_s):
    fr = fr0 + t_s / SECONDS_PER_DAY
    e1, r1, _ = sat1.sgp4(jd0, fr)
    e2, r2, _ = sat2.sgp4(jd0, fr)
    if e1 or e2:
        return math.inf
    return math.dist(r1, r2)


def refine(satrecs, jd0, fr0, span_s, step_s, threshold_km, t_k, ii, jj):
    """Return (i, j, tca_s, miss_km) of SGP4 minima below threshold near candidate steps."""
    found = []
    for t, i, j in zip(t_k, ii, jj, strict=True):
        lo, hi = max(0.0, t - step_s), min(span_s, t + step_s)
        res = minimize_scalar(
            lambda x, a=satrecs[i], b=satrecs[j]: _sgp4_distance(a, b, jd0, fr0, x),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": BRENT_XATOL_S},
        )
        tca = float(res.x)
        at_edge = tca - lo < EDGE_TOL_S or hi - tca < EDGE_TOL_S
        if res.fun < threshold_km and not at_edge:
            found.append((int(i), int(j), tca, float(res.fun)))
    found.sort()
    merged = []
    for c in found:
        if merged and merged[-1][:2] == c[:2] and abs(merged[-1][2] - c[2]) < MERGE_S:
            if c[3] < merged[-1][3]:
                merged[-1] = c
            continue
        merged.append(c)
    return merged


def screen_baselines(
    triples, jd0, fr0, days, threshold_km, step_s=10.0, methods=METHODS, brute_step_stride=1
):
    """Run the baseline screeners on one catalog; return a dict of timings, counts, conjunctions.

    ``brute_step_stride`` > 1 times the brute-force broad phase on every k-th
    chunk of steps only and extrapolates linearly in steps (reported as such).
    """
    timings = {"load_s": 0.0, "propagation_s": 0.0, "filter_s": 0.0, "refinement_s": 0.0}
    broad = {m: 0.0 for m in methods}
    steps_timed = {m: 0 for m in methods}
    t0 = time.perf_counter()
    satrecs, ids = read_satrecs(triples)
    arr = SatrecArray(satrecs)
    timings["load_s"] = time.perf_counter() - t0
    n = len(satrecs)
    span_s = days * SECONDS_PER_DAY
    times_s = np.arange(0.0, span_s + 0.5 * step_s, step_s)
    times_s = times_s[times_s <= span_s]
    v_rel = max_relative_speed_kms(satrecs)
    radius_km = threshold_km + v_rel * step_s / 2.0 + PAD_MARGIN_KM
    chunk = max(1, min(len(times_s), MAX_OBJECT_STEPS // max(n, 1)))
    caps = {"brute": 1024, "sweep": 1024}
    kept_t, kept_i, kept_j = [], [], []
    n_candidates = 0
    mismatched_steps = 0
    for c, start in enumerate(range(0, len(times_s), chunk)):
        tc = times_s[start : start + chunk]
        t1 = time.perf_counter()
        err, r, v = arr.sgp4(np.full(tc.size, jd0), fr0 + tc / SECONDS_PER_DAY)
        r = np.ascontiguousarray(r.transpose(1, 0, 2))  # (step, object, xyz)
        v = np.ascontiguousarray(v.transpose(1, 0, 2))
        bad = err.T != 0
        r[bad] = np.nan
        timings["propagation_s"] += time.perf_counter() - t1
        for k in range(tc.size):
            rk = r[k]
            per_method = {}
            for m in methods:
                if m == "brute" and c % brute_step_stride:
                    continue
                t1 = time.perf_counter()
                if m == "kdtree":
                    pi, pj = pairs_kdtree(rk, radius_km)
                else:
                    fn = _pairs_brute if m == "brute" else _pairs_sweep
                    pi, pj, caps[m] = _grow(fn, rk, radius_km, caps[m])
                broad[m] += time.perf_counter() - t1
                steps_timed[m] += 1
                per_method[m] = (pi, pj)
            keys = {m: np.sort(pi * n + pj) for m, (pi, pj) in per_method.items()}
            ref = next(iter(keys.values()))
            if any(not np.array_equal(ref, kk) for kk in keys.values()):
                mismatched_steps += 1
            pi, pj = ref // n, ref % n
            n_candidates += pi.size
            t1 = time.perf_counter()
            dr = rk[pj] - rk[pi]
            dv = v[k][pj] - v[k][pi]
            vv = np.einsum("ij,ij->i", dv, dv)
            tau = np.clip(
                -np.einsum("ij,ij->i", dr, dv) / np.where(vv > 0, vv, 1.0),
                -step_s / 2.0,
                step_s / 2.0,
            )
            miss_lin = np.linalg.norm(dr + dv * tau[:, None], axis=1)
            keep = miss_lin < threshold_km + LINEAR_MARGIN_KM
            kept_t.append(np.full(int(keep.sum()), tc[k]))
            kept_i.append(pi[keep])
            kept_j.append(pj[keep])
            timings["filter_s"] += time.perf_counter() - t1
    t1 = time.perf_counter()
    conj = refine(
        satrecs,
        jd0,
        fr0,
        span_s,
        step_s,
        threshold_km,
        np.concatenate(kept_t),
        np.concatenate(kept_i),
        np.concatenate(kept_j),
    )
    timings["refinement_s"] = time.perf_counter() - t1
    shared = timings["propagation_s"] + timings["filter_s"] + timings["refinement_s"]
    totals = {}
    extrapolated = {}
    broad_total = {}
    for m in methods:
        factor = times_s.size / steps_timed[m] if steps_timed[m] else math.nan
        extrapolated[m] = factor > 1.0
        broad_total[m] = broad[m] * factor
        totals[m] = shared + broad_total[m]
    return {
        "objects": n,
        "days": days,
        "threshold_km": threshold_km,
        "step_s": step_s,
        "steps": int(times_s.size),
        "radius_km": radius_km,
        "v_rel_max_kms": v_rel,
        "timings_s": timings,
        "broad_phase_s": broad_total,
        "broad_phase_measured_s": broad,
        "broad_phase_steps_timed": steps_timed,
        "broad_phase_extrapolated": extrapolated,
        "total_s": totals,
        "candidates": n_candidates,
        "refined": int(sum(x.size for x in kept_t)),
        "candidate_sets_identical": mismatched_steps == 0,
        "mismatched_steps": mismatched_steps,
        "conjunctions": [
            {
                "norad_id_1": int(min(ids[i], ids[j])),
                "norad_id_2": int(max(ids[i], ids[j])),
                "tca_s": t,
                "miss_km": d,
            }
            for i, j, t, d in conj
        ],
    }
