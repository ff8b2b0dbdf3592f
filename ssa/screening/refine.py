"""Refinement of candidate windows against exact SGP4 (never the interpolant).

A conjunction is a local minimum of the SGP4 distance d(t) = |r2 - r1| with
d <= threshold inside the window. Minima of one pair joined by d <= threshold
in between (docked vehicles, formations) are one encounter: the deepest minimum
is reported, with the encounter's duration.

Inside a candidate window d is sampled every SAMPLE_S; a local minimum lies
where f = (r2 - r1) . (v2 - v1) changes sign from - to +, and Newton's method on
f (derivative |dv|^2 + dr . da, two-body da) with bisection safeguards finds it
to TCA_TOL_S.

Speed: each distinct sampled (satellite, time) is evaluated once (pairs sharing an
object, e.g. docked vehicles, repeat samples); the sampled distances come from those
states in a numba kernel. ``refine`` splits the windows by pair into parts: on a
local run with the numba SGP4 (GIL-free) they run on this process's threads, else
the executor runs them (sgp4's C++ holds the GIL: forked processes; or Dask tasks,
``ssa.screening.executor``). Every window is refined on its own, so the result does
not depend on the split.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from ssa.geometry.constants import MU_KM3_S2
from ssa.screening import sgp4_numba

# Sampling step inside a window: two distance minima of one pair closer than this
# would need relative accelerations far beyond orbital ones (see README).
SAMPLE_S = 10.0
TCA_TOL_S = 1e-5  # Newton stops when the step is below this (s)
MAX_NEWTON = 30
# |dr . dv| below this everywhere in a window means d(t) is flat (identical orbits).
FLAT_F_KM2_S = 1e-9
# Slack on the straight-line bound of a bracket's distance (curvature over 5 s: metres).
BRACKET_MARGIN_KM = 1.0
# Position-only polish of each TCA (see _polish): parabola half-widths (s), the
# smallest second difference of d^2 trusted over SGP4's rounding noise (~1e-7 km^2 at
# 5 km), and how far above the threshold a Newton minimum still gets polished. The 8 s
# pass is for slow pairs (co-located GEO objects, relative speed ~ 4 m/s): their d^2
# curves by only 2 v^2 h^2 ~ 1e-5 km^2 over 0.5 s, not trusted, and Newton's TCA was
# left 0.4 s off (tests/test_edges.py); each pass is kept only where d drops.
POLISH_H_S = (8.0, 0.5, 0.02)
POLISH_MIN_CURVATURE_KM2 = 1e-5
POLISH_MARGIN_KM = 0.01
# Fewer samples than this are refined in-process: forking a large process and the
# objects' calls repeated in each part cost about 25 % more CPU (measured at 100k).
MIN_PARALLEL_SAMPLES = 100_000
# On threads (numba SGP4) a part costs only a thread wake-up: split from this many
# samples, into a few parts per thread (windows differ in cost: deep space, length).
MIN_THREAD_SAMPLES = 20_000
PARTS_PER_THREAD = 4
# Cost of a window in samples beyond its own (Newton and final SGP4 calls), for the split.
WINDOW_COST_SAMPLES = 20
# Windows longer than this many samples join their objects' group in the split.
LONG_WINDOW_SAMPLES = 100


@njit(cache=True)
def _sort_key(sat_idx, t_s):
    """Key ordering rows by satellite, then by time in SAMPLE_S buckets."""
    t_min = np.inf
    t_max = -np.inf
    n_sat = 1
    for q in range(t_s.size):
        if np.isfinite(t_s[q]):
            t_min = min(t_min, t_s[q])
            t_max = max(t_max, t_s[q])
        n_sat = max(n_sat, abs(sat_idx[q]) + 1)
    # Capped so the key fits in int64; any key is correct (it only saves SGP4 calls).
    n_bucket = 1
    if t_max >= t_min:
        n_bucket = int(min((t_max - t_min) / SAMPLE_S + 1.0, float((2**62) // n_sat)))
    key = np.empty(t_s.size, np.int64)
    for q in range(t_s.size):
        b = 0
        if np.isfinite(t_s[q]):
            b = int(min((t_s[q] - t_min) / SAMPLE_S, n_bucket - 1.0))
        key[q] = sat_idx[q] * n_bucket + b
    return key


@njit(cache=True)
def _sort_short_runs(order, key, t_s, long_runs):
    """Sort each run of equal keys of order (rows sorted by key: one satellite, one
    bucket) by time, stably, in place, if it is at most 64 rows long; return the number
    of longer runs, whose bounds go to long_runs[:, 0:2] for numpy to sort (numba's own
    stable argsort costs seconds of a first run's compile)."""
    m = order.size
    n_long = 0
    a = 0
    while a < m:
        b = a + 1
        while b < m and key[order[b]] == key[order[a]]:
            b += 1
        if b - a > 64:
            long_runs[n_long, 0] = a
            long_runs[n_long, 1] = b
            n_long += 1
        else:  # insertion sort: runs are short, usually of one repeated time
            for p in range(a + 1, b):
                x = order[p]
                q = p - 1
                while q >= a and t_s[order[q]] > t_s[x]:
                    order[q + 1] = order[q]
                    q -= 1
                order[q + 1] = x
        a = b
    return n_long


def _distinct_rows(order, key, sat_idx, t_s):
    """Order rows by (satellite, time) and number the distinct ones.

    order: rows sorted by key; each run of equal keys (one satellite, one bucket) is
    sorted by time here, in place. Returns uniq (a row of each distinct (satellite,
    time), in order), row (index into uniq of every row) and starts (index into uniq
    where each satellite begins, then uniq.size)."""
    long_runs = np.empty((order.size // 65 + 1, 2), np.int64)
    for a, b in long_runs[: _sort_short_runs(order, key, t_s, long_runs)].tolist():
        run = order[a:b].copy()
        order[a:b] = run[np.argsort(t_s[run], kind="stable")]
    return _number_rows(order, sat_idx, t_s)


@njit(cache=True)
def _number_rows(order, sat_idx, t_s):
    """uniq, row and starts of _distinct_rows, order sorted by (satellite, time)."""
    m = order.size
    uniq = np.empty(m, np.int64)
    row = np.empty(m, np.int64)
    starts = np.empty(m + 1, np.int64)
    k = -1
    n_sat = 0
    for p in range(m):
        o = order[p]
        if p == 0 or sat_idx[o] != sat_idx[order[p - 1]]:
            starts[n_sat] = k + 1
            n_sat += 1
            k += 1
            uniq[k] = o
        elif t_s[o] != t_s[order[p - 1]]:
            k += 1
            uniq[k] = o
        row[o] = k
    starts[n_sat] = k + 1
    return uniq[: k + 1], row, starts[: n_sat + 1]


@njit(cache=True)
def _error_codes(e, r, v):
    """SGP4 error code, or -1 where it reported success but a state is not finite."""
    err = np.empty(e.size, np.int64)
    for q in range(e.size):
        err[q] = e[q]
        if e[q] == 0:
            for c in range(3):
                if not (np.isfinite(r[q, c]) and np.isfinite(v[q, c])):
                    err[q] = -1
    return err


# The last catalogue: (satrecs, their sgp4_numba rows, aliases; see _cached_satrecs).
_ELEMENTS: tuple = (None, None, [])
# On: the same bits as one sgp4 call per satellite (tests/test_vectorised_table.py), and
# it releases the GIL, so a local run refines on threads in this process (no forked
# workers, no pickled results). Same-process, the full catalogue's 1-day windows: 0.80 s
# CPU against 1.19 s for sgp4's C++ (shared machine, 2026-12-02). Session 5 measured it
# 4.2x slower inside a loaded 7-day CLI run (screen_cli.json), never reproduced alone.
USE_NUMBA_SGP4 = True  # True: sgp4_numba; False: one sgp4 call per satellite


def _numba_elements(satrecs):
    """sgp4_numba rows of satrecs (kept for the last list seen), or None when the numba
    SGP4 cannot read this sgp4 build or is switched off."""
    global _ELEMENTS
    if not USE_NUMBA_SGP4 or not isinstance(satrecs, list):
        return None
    entry = _ELEMENTS  # read once: another thread may replace it meanwhile
    if _cached_satrecs(entry, satrecs):
        return entry[1]
    el = None
    if sgp4_numba.available() and all(type(s) is sgp4_numba.Satrec for s in satrecs):
        el = sgp4_numba.elements(satrecs)
    _ELEMENTS = (satrecs, el, [])
    return el


# Up to this many other lists found to hold an entry's Satrec objects (the catalogue's
# own list and the executor context's copy are used in turn) are kept in the entry
# (_ELEMENTS[2]): known at once, not compared object by object on every call.
MAX_ALIASES = 4


def _cached_satrecs(entry, satrecs) -> bool:
    """True when satrecs holds the Satrec objects of entry (an _ELEMENTS value)."""
    aliases = entry[2]
    if satrecs is entry[0] or any(satrecs is a for a in aliases):
        return True
    if not _same_satrecs(entry[0], satrecs):
        return False
    if len(aliases) < MAX_ALIASES:
        aliases.append(satrecs)
    return True


def _same_satrecs(a, b) -> bool:
    """True when lists a and b hold the same Satrec objects (the executor's context
    copies the catalogue's list: ~1 ms for 26k objects against ~0.2 s for a re-read)."""
    if a is b:
        return True
    return a is not None and len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def share_elements(ctx) -> None:
    """Read ctx's sgp4_numba rows here (or take the knots' copy) so that workers forked
    from now on inherit them instead of each reading the catalogue again."""
    global _ELEMENTS
    el = getattr(ctx, "_sgp4_numba_rows", None)
    if USE_NUMBA_SGP4 and isinstance(ctx.satrecs, list) and el is not None:
        if el.shape[0] == len(ctx.satrecs) and not _cached_satrecs(_ELEMENTS, ctx.satrecs):
            _ELEMENTS = (ctx.satrecs, el, [])
    _numba_elements(ctx.satrecs)


@njit(cache=True, nogil=True, error_model="numpy")
def _sgp4_rows(el, sat, jd0, fr, e, r, v):
    """SGP4 of el[sat[q]] at (jd0, fr[q]) into e, r, v, row by row in the given order
    (sorted by satellite as _distinct_rows orders them, or as states() gets them). A
    resonant deep-space object's integrator continues from its previous row when the
    same object comes again at once, else restarts from epoch: its fixed steps give the
    same values either way (sgp4_numba). One thread, GIL released: refine's parts run
    it on Python threads."""
    rv = np.empty(6)
    res = np.zeros(3)
    prev = -1
    for q in range(sat.size):
        s = sat[q]
        if s != prev:  # each object's resonance integrator starts afresh
            res[:] = 0.0
            prev = s
        e[q] = sgp4_numba.sgp4_state(
            el[s], sgp4_numba.minutes_since_epoch(el[s], jd0, fr[q]), rv, res
        )
        for c in range(3):
            r[q, c] = rv[c]
            v[q, c] = rv[3 + c]


def _evaluate(satrecs, sat_idx, jd0, fr0, t_s):
    """Return (err, r_km, v_kms) at each distinct (satellite, time) of the rows and row,
    the index of every input row in them.

    One SGP4 call per satellite; its output for a time does not depend on the other
    times of the call."""
    sat_idx = np.asarray(sat_idx, np.int64)
    t_s = np.asarray(t_s, np.float64)
    if sat_idx.size == 0:
        return (np.zeros(0, np.int64), np.empty((0, 3)), np.empty((0, 3)), np.zeros(0, np.int64))
    key = _sort_key(sat_idx, t_s)
    order = np.argsort(key, kind="stable")  # timsort: rows come in sorted runs
    uniq, row, starts = _distinct_rows(order, key, sat_idx, t_s)
    m_u = uniq.size
    jd_u = np.full(m_u, jd0, np.float64)
    fr_u = fr0 + t_s[uniq] / 86400.0
    e_u = np.empty(m_u, np.uint8)
    r_u = np.empty((m_u, 3))
    v_u = np.empty((m_u, 3))
    el = _numba_elements(satrecs)
    if (
        el is not None
    ):  # the same bits as sgp4's C++ (tests/test_sgp4_numba.py), no call per satellite
        _sgp4_rows(el, sat_idx[uniq], jd0, fr_u, e_u, r_u, v_u)
        return _error_codes(e_u, r_u, v_u), r_u, v_u, row
    starts = starts.tolist()
    for s, a, b in zip(sat_idx[uniq[starts[:-1]]].tolist(), starts[:-1], starts[1:], strict=True):
        sat = satrecs[s]
        # sgp4's private _sgp4 (the C++ body of the public sgp4_array) writes straight into
        # the slices: public sgp4_array costs ~10 us more per call (20,000 calls: 0.6-0.8 s
        # against 0.4-0.5 s, measured 2026-12-01) with identical states. sgp4 is pinned
        # below 3 in pyproject.toml, and without _sgp4 the public path below is used.
        if hasattr(sat, "_sgp4"):
            sat._sgp4(jd_u[a:b], fr_u[a:b], e_u[a:b], r_u[a:b], v_u[a:b])
        else:
            e_u[a:b], r_u[a:b], v_u[a:b] = sat.sgp4_array(jd_u[a:b], fr_u[a:b])
    return _error_codes(e_u, r_u, v_u), r_u, v_u, row


def states(satrecs, sat_idx, jd0, fr0, t_s):
    """Return (err, r_km, v_kms) of satrecs[sat_idx[m]] at window seconds t_s[m].

    With the numba SGP4, row by row in the given order: no sort by satellite, no
    gather (Newton steps, START/STOP: few rows share a satellite and time); else one
    sgp4 call per satellite (_evaluate)."""
    el = _numba_elements(satrecs)
    if el is None:
        err, r, v, row = _evaluate(satrecs, sat_idx, jd0, fr0, t_s)
        return err[row], r[row], v[row]
    sat_idx = np.asarray(sat_idx, np.int64)
    m = sat_idx.size
    fr = fr0 + np.asarray(t_s, np.float64) / 86400.0
    e = np.empty(m, np.uint8)
    r = np.empty((m, 3))
    v = np.empty((m, 3))
    _sgp4_rows(el, sat_idx, jd0, fr, e, r, v)
    return _error_codes(e, r, v), r, v


def _rel(satrecs, i, j, jd0, fr0, t):
    """States of both objects of each pair at t, in one ``states`` call."""
    m = len(i)
    t = np.asarray(t, np.float64)
    e, r, v = states(satrecs, np.concatenate([i, j]), jd0, fr0, np.concatenate([t, t]))
    return (e[:m] != 0) | (e[m:] != 0), r[:m], v[:m], r[m:], v[m:]


@njit(cache=True)
def _sampled_distance(err, r, v, row1, row2, half_s):
    """Return d = |r2 - r1| (inf where SGP4 failed), f = (r2 - r1) . (v2 - v1) (NaN
    there) and half_s |v2 - v1| of each sample (rows of objects 1 and 2 in err, r, v).

    The sums are associated as numpy's norm and einsum do (bit-identical results)."""
    m = row1.size
    d = np.empty(m)
    f = np.empty(m)
    half = np.empty(m)
    for q in range(m):
        a = row1[q]
        b = row2[q]
        x = r[b, 0] - r[a, 0]
        y = r[b, 1] - r[a, 1]
        z = r[b, 2] - r[a, 2]
        vx = v[b, 0] - v[a, 0]
        vy = v[b, 1] - v[a, 1]
        vz = v[b, 2] - v[a, 2]
        half[q] = half_s * np.sqrt(vx * vx + vy * vy + vz * vz)
        if err[a] != 0 or err[b] != 0:
            d[q] = np.inf
            f[q] = np.nan
        else:
            d[q] = np.sqrt(x * x + y * y + z * z)
            f[q] = (x * vx + z * vz) + y * vy
    return d, f, half


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


def _polish(satrecs, pi, pj, t, miss, jd0, fr0):
    """Return (tca, miss) moved to the minimum of the SGP4 *position* distance.

    Newton's f uses SGP4's velocities, which differ from the derivative of its
    positions (deep-space objects by up to ~3 m/s), shifting the root by
    |dr| |dv error| / |v_rel|^2: milliseconds for slow pairs. Each pass fits a
    parabola to d^2 at t - h, t, t + h (positions only) and moves to its vertex when
    that is inside [t - h, t + h], d^2 is measurably curved there and d decreases.
    """
    t = t.copy()
    miss = miss.copy()
    m = t.size
    pi2 = np.concatenate([pi, pi])
    pj2 = np.concatenate([pj, pj])
    for h in POLISH_H_S:
        # d at t is the current miss: only t - h and t + h are evaluated.
        bad, r1, _, r2, _ = _rel(satrecs, pi2, pj2, jd0, fr0, np.concatenate([t - h, t + h]))
        dr = r2 - r1
        side = np.einsum("ij,ij->i", dr, dr).reshape(2, m)
        d2 = np.stack([side[0], miss * miss, side[1]])
        bad = bad.reshape(2, m).any(axis=0)
        curv = d2[0] - 2.0 * d2[1] + d2[2]
        ok = ~bad & (curv > POLISH_MIN_CURVATURE_KM2)
        shift = np.zeros(m)
        shift[ok] = 0.5 * h * (d2[0, ok] - d2[2, ok]) / curv[ok]
        ok &= np.abs(shift) < h
        q = np.flatnonzero(ok)
        if not q.size:
            continue
        bad_n, n1, _, n2, _ = _rel(satrecs, pi[q], pj[q], jd0, fr0, t[q] + shift[q])
        d_new = np.linalg.norm(n2 - n1, axis=1)
        better = ~bad_n & (d_new < miss[q])
        t[q[better]] += shift[q[better]]
        miss[q[better]] = d_new[better]
    return t, miss


@njit(cache=True)
def _encounter_runs(below, first, n_s, w, cand):
    """Return the first and last sample (global indices) of the run of samples with
    d <= threshold around each bracket cand (its encounter), within its window."""
    run_lo = np.empty(cand.size, np.int64)
    run_hi = np.empty(cand.size, np.int64)
    for q in range(cand.size):
        f0 = first[w[cand[q]]]
        n = n_s[w[cand[q]]]
        s_lo = cand[q] - f0
        s_hi = s_lo + 1
        while s_lo > 0 and below[f0 + s_lo - 1] and below[f0 + s_lo]:
            s_lo -= 1
        while s_hi < n - 1 and below[f0 + s_hi + 1] and below[f0 + s_hi]:
            s_hi += 1
        run_lo[q] = f0 + s_lo
        run_hi[q] = f0 + s_hi
    return run_lo, run_hi


_FOUND = ("i", "j", "tca_s", "miss_km", "run_lo_s", "run_hi_s")


def refine(
    ex,
    pair_i,
    pair_j,
    win_lo_s,
    win_hi_s,
    jd0,
    fr0,
    window_s,
    threshold_km,
    parts: int | None = None,
):
    """Return the conjunctions found in candidate windows.

    ex: an executor (ssa.screening.executor) over the catalogue's satrecs, or a list
    of satrecs (refined in this process). pair_i, pair_j: satellite indices;
    win_lo_s, win_hi_s: window bounds (s from the window start (jd0, fr0));
    window_s: screening span; parts: how many tasks to split into (default: the
    executor's workers). Returns a dict of arrays: i, j, tca_s, miss_km, duration_s.
    The result does not depend on the split: each pair's windows are refined in one
    task, each on its own.
    """
    if isinstance(ex, (list, tuple)):
        from ssa.screening.executor import LocalExecutor, SatrecContext

        ex = LocalExecutor(SatrecContext(ex), 1)
    pair_i = np.asarray(pair_i, np.int64)
    pair_j = np.asarray(pair_j, np.int64)
    lo_w = np.clip(np.asarray(win_lo_s, float), 0.0, window_s)
    hi_w = np.clip(np.asarray(win_hi_s, float), 0.0, window_s)
    # Windows of one pair adjacent, in their given order: _encounters sees the minima
    # of a pair in the same order for any split.
    order = np.lexsort((pair_j, pair_i))
    pair_i, pair_j, lo_w, hi_w = pair_i[order], pair_j[order], lo_w[order], hi_w[order]
    share_elements(ex.ctx)
    threads = local_threads(ex)
    if threads > 1:  # GIL-free SGP4: parts on this process's threads
        split = _split_by_pair(
            pair_i, pair_j, lo_w, hi_w, threads * PARTS_PER_THREAD, MIN_THREAD_SAMPLES
        )
    else:
        split = _split_by_pair(pair_i, pair_j, lo_w, hi_w, max(1, int(parts or ex.workers)))
    args = (jd0, fr0, window_s, threshold_km)
    if len(split) == 1:
        found = _refine_windows(ex.ctx, pair_i, pair_j, lo_w, hi_w, *args)
    else:
        jobs = [(pair_i[q], pair_j[q], lo_w[q], hi_w[q], *args) for q in split]
        if threads > 1:
            results = thread_map(_refine_windows, ex.ctx, jobs, threads)
        else:
            results = ex.map(_refine_windows, jobs, "refine")
        found = {k: np.concatenate([res[k] for res in results]) for k in _FOUND}
    return _encounters(found)


def local_threads(ex) -> int:
    """Threads to run SGP4 work of ``ex`` on in this process: numba's thread count for a
    local executor when the numba SGP4 is on (it releases the GIL), else 0 (Dask, or
    sgp4's C++ path, which holds the GIL: ``ex.map`` over processes)."""
    if getattr(ex, "slices_as_tasks", False) or _numba_elements(ex.ctx.satrecs) is None:
        return 0
    return numba.get_num_threads()


def thread_map(fn, ctx, jobs, threads: int) -> list:
    """Return [fn(ctx, *job) for job in jobs], run on ``threads`` Python threads."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda job: fn(ctx, *job), jobs))


def warm_up():
    """Compile or load the numba kernels once here, so forked workers inherit them."""
    one = np.zeros(1, np.int64)
    _encounter_runs(np.zeros(1, np.bool_), one, one, one, one)
    _merge_minima(one, one, one, np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1))
    _sort_key(one, np.zeros(1))
    _distinct_rows(one.copy(), one, one, np.zeros(1))
    _error_codes(np.zeros(1, np.uint8), np.zeros((1, 3)), np.zeros((1, 3)))
    _sampled_distance(one, np.zeros((1, 3)), np.zeros((1, 3)), one, one, 0.5)
    if sgp4_numba.available():
        el = np.zeros((1, sgp4_numba.N_COLUMNS))
        el[0, sgp4_numba.NO] = 1.0
        _sgp4_rows(el, one, 0.0, np.zeros(1), np.zeros(1, np.uint8), *np.zeros((2, 1, 3)))


def _split_by_pair(pair_i, pair_j, lo_s, hi_s, workers, min_samples=MIN_PARALLEL_SAMPLES):
    """Return one sorted array of window indices per process, of about equal SGP4 cost.

    Windows (sorted by pair) of one pair go to one process. Objects joined by long
    windows (docked vehicles, co-located clusters: every pair of the group is close
    all the time) share their samples, so such a group goes to one process, largest
    first to the least loaded; the other pairs fill up the processes in order."""
    n = pair_i.size
    n_s = np.ceil((hi_s - lo_s) / SAMPLE_S) + 2
    if workers < 2 or n_s.sum() < min_samples:
        return [np.arange(n)]
    pair = np.cumsum(np.r_[True, (pair_i[1:] != pair_i[:-1]) | (pair_j[1:] != pair_j[:-1])]) - 1
    cost = 2.0 * n_s + WINDOW_COST_SAMPLES
    long_w = np.flatnonzero(n_s > LONG_WINDOW_SAMPLES)
    root = {}  # union-find over the objects of long windows

    def find(x):
        while root.setdefault(x, x) != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    for a, b in zip(pair_i[long_w].tolist(), pair_j[long_w].tolist(), strict=True):
        root[find(a)] = find(b)
    # Group of each window: its pair's object group if the pair has a long window.
    group = -np.ones(n, np.int64)
    if long_w.size:
        grouped = np.zeros(pair[-1] + 1, bool)
        grouped[pair[long_w]] = True
        in_group = grouped[pair]
        group[in_group] = [find(x) for x in pair_i[in_group].tolist()]
        # An object's samples are shared by its long windows: count its longest once.
        cost[long_w] = WINDOW_COST_SAMPLES
        longest = {}
        for x, m in zip(
            np.r_[pair_i[long_w], pair_j[long_w]].tolist(),
            np.r_[n_s[long_w], n_s[long_w]].tolist(),
            strict=True,
        ):
            longest[x] = max(longest.get(x, 0.0), m)
    load = np.zeros(workers)
    owner = np.zeros(n, np.int64)
    if long_w.size:
        groups, g_of = np.unique(group[in_group], return_inverse=True)
        g_cost = np.bincount(g_of, weights=cost[in_group], minlength=groups.size)
        for x, m in longest.items():
            g_cost[np.searchsorted(groups, find(x))] += m
        g_owner = np.zeros(groups.size, np.int64)
        for g in np.argsort(-g_cost, kind="stable").tolist():
            g_owner[g] = int(np.argmin(load))
            load[g_owner[g]] += g_cost[g]
        owner[in_group] = g_owner[g_of]
    # The other pairs in order, cut between pairs where each process reaches the target.
    free = np.flatnonzero(group < 0)
    if free.size:
        fill = np.maximum(load.sum() + cost[free].sum(), 1.0) / workers - load
        edges = np.cumsum(np.maximum(fill, 0.0))
        done = np.cumsum(cost[free]) - cost[free]  # cost before each window
        k = np.minimum(np.searchsorted(edges, done, side="right"), workers - 1)
        # A pair stays with the process of its first window.
        first = np.r_[True, pair[free][1:] != pair[free][:-1]]
        k = np.maximum.accumulate(np.where(first, k, 0))
        owner[free] = k
    parts = [np.flatnonzero(owner == q) for q in range(workers)]
    return [q for q in parts if q.size]


def _refine_windows(ctx, pair_i, pair_j, lo_w, hi_w, jd0, fr0, window_s, threshold_km):
    """Return the minima found in windows (clipped to the span), before merging.

    ctx: the satellites (executor.SatrecContext: ``.satrecs``)."""
    satrecs = ctx.satrecs
    found = {k: [] for k in _FOUND}
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
        m = w.size
        err, r, v, row = _evaluate(
            satrecs,
            np.concatenate([pair_i[todo][w], pair_j[todo][w]]),
            jd0,
            fr0,
            np.concatenate([t, t]),
        )
        # d, f and the half-spacing travel |v_rel| * SAMPLE_S / 2 at each sample.
        d, f, half_km = _sampled_distance(err, r, v, row[:m], row[m:], 0.5 * SAMPLE_S)
        # Brackets: f < 0 at sample s, f >= 0 at s + 1, same window, d small enough.
        same = np.zeros(w.size, bool)
        same[:-1] = w[:-1] == w[1:]
        # The sample nearer the TCA is within half a spacing of it, so its distance is
        # at most miss + |v_rel| * spacing / 2: head-on LEO pairs (15 km/s) need ~80 km.
        near_km = threshold_km + np.maximum(half_km, np.roll(half_km, -1)) + BRACKET_MARGIN_KM
        cand = np.flatnonzero(
            same & (f < 0) & (np.roll(f, -1) >= 0) & (np.minimum(d, np.roll(d, -1)) <= near_km)
        )
        if cand.size:
            ci, cj = pair_i[todo][w[cand]], pair_j[todo][w[cand]]
            tca = _newton(satrecs, ci, cj, t[cand], t[cand + 1], jd0, fr0)
            bad_m, a1, b1, a2, b2 = _rel(satrecs, ci, cj, jd0, fr0, tca)
            miss = np.linalg.norm(a2 - a1, axis=1)
            near = np.flatnonzero(~bad_m & (miss <= threshold_km + POLISH_MARGIN_KM))
            if near.size:
                tca[near], miss[near] = _polish(
                    satrecs, ci[near], cj[near], tca[near], miss[near], jd0, fr0
                )
            keep = ~bad_m & (miss <= threshold_km) & (tca > 0) & (tca < window_s)
            cand_k = cand[keep]
            run_lo, run_hi = _encounter_runs(d <= threshold_km, first, n_s, w, cand_k)
            found["i"].append(pair_i[todo[w[cand_k]]])
            found["j"].append(pair_j[todo[w[cand_k]]])
            found["tca_s"].append(tca[keep])
            found["miss_km"].append(miss[keep])
            found["run_lo_s"].append(t[run_lo])
            found["run_hi_s"].append(t[run_hi])
        # A window inside one encounter without any strict minimum (twins with
        # identical element sets: d constant): report its smallest interior sample.
        has_min = np.zeros(todo.size, bool)
        if cand.size:
            has_min[w[cand]] = True
        for wi in np.flatnonzero(~has_min).tolist():
            f0 = first[wi]
            dd = d[f0 : f0 + n_s[wi]]
            tt = t[f0 : f0 + n_s[wi]]
            inner = (tt > 0) & (tt < window_s)
            if not inner.any() or not (dd[inner] <= threshold_km).all() or dd.size < 3:
                continue
            if np.nanmax(np.abs(f[f0 : f0 + n_s[wi]])) > FLAT_F_KM2_S:
                continue
            q = np.flatnonzero(inner)[np.argmin(dd[inner])]
            found["i"].append(pair_i[todo[wi : wi + 1]])
            found["j"].append(pair_j[todo[wi : wi + 1]])
            found["tca_s"].append(tt[q : q + 1])
            found["miss_km"].append(dd[q : q + 1])
            found["run_lo_s"].append(tt[:1])
            found["run_hi_s"].append(tt[-1:])
        # A window whose first (last) sample is a decreasing (increasing) d <= threshold
        # may hide a minimum just outside: extend it and look again.
        a = first
        b = first + n_s - 1
        grow_lo = (f[a] > 0) & (d[a] <= threshold_km) & (lo_cur[todo] > 0)
        grow_hi = (f[b] < 0) & (d[b] <= threshold_km) & (hi_cur[todo] < window_s)
        grow = grow_lo | grow_hi
        ext = todo[grow]
        new_lo = np.where(grow_lo, np.maximum(0.0, lo_cur[todo] - 10 * SAMPLE_S), lo_cur[todo])[
            grow
        ]
        new_hi = np.where(
            grow_hi, np.minimum(window_s, hi_cur[todo] + 10 * SAMPLE_S), hi_cur[todo]
        )[grow]
        if not ext.size:
            break
        lo_cur = lo_cur.copy()
        hi_cur = hi_cur.copy()
        lo_cur[ext] = new_lo
        hi_cur[ext] = new_hi
        todo = ext
    return {
        k: (np.concatenate(v) if v else np.zeros(0, np.int64 if k in ("i", "j") else float))
        for k, v in found.items()
    }


@njit(cache=True)
def _merge_minima(order, i, j, tca, miss, rlo, rhi):
    """The merge loop of _encounters over rows in order (sorted by pair, then run
    start): updates tca, miss, rlo, rhi of each kept row in place; returns the kept rows."""
    keep = np.empty(order.size, np.int64)
    n_keep = 0
    best = -1
    for q in order:
        if (
            best >= 0
            and i[q] == i[best]
            and j[q] == j[best]
            and (rlo[q] <= rhi[best] or abs(tca[q] - tca[best]) < 1e-3)
        ):
            if rhi[q] > rhi[best]:  # as Python's max(rhi[best], rhi[q]) and min below
                rhi[best] = rhi[q]
            if rlo[q] < rlo[best]:
                rlo[best] = rlo[q]
            if miss[q] < miss[best]:
                tca[best] = tca[q]
                miss[best] = miss[q]
            continue
        best = q
        keep[n_keep] = q
        n_keep += 1
    return keep[:n_keep]


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
    rlo, rhi, tca, miss = rlo.copy(), rhi.copy(), tca.copy(), miss.copy()
    keep = _merge_minima(order, i, j, tca, miss, rlo, rhi)
    return {
        "i": i[keep],
        "j": j[keep],
        "tca_s": tca[keep],
        "miss_km": miss[keep],
        "duration_s": rhi[keep] - rlo[keep],
    }
