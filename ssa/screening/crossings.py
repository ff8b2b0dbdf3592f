"""START and STOP of each conjunction: when the pair's SGP4 distance crosses the threshold.

SOCRATES reports when a pair enters and leaves the threshold sphere ("time in").
For each row, the encounter is the interval around TCA where d(t) = |r2 - r1| <=
threshold; START and STOP are its ends, found on exact SGP4 (never the screening
interpolant) to CROSSING_TOL_S, clipped to the window and flagged
``START_CLIPPED`` / ``STOP_CLIPPED`` when the pair is still inside there.

How, for both ends of every row (with the numba SGP4 each search runs on its own in
numba, ``_search_kernel``, rows on threads; else all rows step together in numpy, one
SGP4 call per satellite per step, ``refine.states``; the same arithmetic and bits):
1. March outward from TCA. From a point at distance d <= threshold, the next
   trial is the farthest of (a) the step that provably stays inside: the relative
   position moves at most v h + A h^2 / 2 with A the gravity-gradient bound of
   relative acceleration (REL_ACCEL_PER_KM_S2 times the threshold) and v the relative
   speed plus SGP4_VELOCITY_SLACK_KMS; (b) the straight-line (linear relative motion)
   time to reach threshold + LINEAR_MARGIN_KM, capped where the straight line may be
   off by that margin. Fast encounters bracket on the first trial; slow ones
   (co-orbiting, docked) take long safe steps. An excursion above the threshold
   shorter than the trial is not resolved only when it rises less than
   2 LINEAR_MARGIN_KM above it.
2. Newton's method on d(t) - threshold (d' = dr . dv / d) from the outside end of the
   bracket, with bisection when a step leaves it, until the distance is within
   CROSSING_TOL_KM of the threshold and (at the local rate d') the time within
   CROSSING_TOL_S of the root, or the bracket is that narrow.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ssa.geometry import EARTH_RADIUS_KM, MU_KM3_S2
from ssa.parallel import on_threads
from ssa.screening import refine, sgp4_numba

# Relative acceleration of two objects d km apart is at most the gravity gradient,
# 2 mu / r^3 per km of separation along the radius; bound it at the Earth's surface
# with a 1.5 margin (J2, drag differences are orders smaller).
REL_ACCEL_PER_KM_S2 = 3.0 * MU_KM3_S2 / EARTH_RADIUS_KM**3
# SGP4's velocities differ from the derivative of its positions by up to ~3 m/s
# (deep space, see refine._polish): added to the relative speed of a safe step.
SGP4_VELOCITY_SLACK_KMS = 0.005
LINEAR_MARGIN_KM = 1e-3  # a trial aims this far outside the threshold
CROSSING_TOL_KM = 1e-6  # |d - threshold| at a reported crossing (1 mm)
CROSSING_TOL_S = 1e-4  # time resolution (the table prints 1 ms)
MAX_MARCH_STEPS = 2000  # per row; a row still inside after that is left NaN
MAX_NEWTON_STEPS = 60


def _rel_state(satrecs, si, sj, jd0, fr0, t_s):
    """Return (bad (n,), dr (n,3), dv (n,3)) of object j relative to i at window seconds t_s."""
    m = len(si)
    err, r, v = refine.states(
        satrecs, np.concatenate([si, sj]), jd0, fr0, np.concatenate([t_s, t_s])
    )
    bad = (err[:m] != 0) | (err[m:] != 0)
    return bad, r[m:] - r[:m], v[m:] - v[:m]


def _dist(dr):
    return np.sqrt(np.einsum("ij,ij->i", dr, dr))


def threshold_crossings(
    satrecs, si, sj, jd0, fr0, tca_s, threshold_km, window_s, dr_tca=None, dv_tca=None
):
    """Return (start_s, stop_s, start_clipped, stop_clipped) of each conjunction.

    satrecs: the catalog's Satrec objects; si, sj: indices of both objects of each
    row; tca_s: TCA in seconds from (jd0, fr0); window_s: window length (s).
    dr_tca, dv_tca: optional (n,3) relative position/velocity at TCA (saves a call).
    A crossing not reached inside the window is the window edge, flagged clipped;
    a row still unresolved after MAX_MARCH_STEPS is NaN.
    """
    si = np.asarray(si, np.int64)
    sj = np.asarray(sj, np.int64)
    tca = np.asarray(tca_s, np.float64)
    m = tca.size
    out = np.full(2 * m, np.nan)
    clipped = np.zeros(2 * m, bool)
    if m == 0:
        return out[:0], out[:0], clipped[:0], clipped[:0]
    el = refine._numba_elements(satrecs) if SEARCH_IN_NUMBA else None
    if el is not None and dr_tca is not None and dv_tca is not None:
        _search_rows(
            el,
            si,
            sj,
            jd0,
            fr0,
            tca,
            float(threshold_km),
            float(window_s),
            dr_tca,
            dv_tca,
            out,
            clipped,
        )
        return out[:m], out[m:], clipped[:m], clipped[m:]
    # Search k < m runs backwards (START) for row k, k >= m forwards (STOP) for row k - m.
    pi = np.concatenate([si, si])
    pj = np.concatenate([sj, sj])
    sign = np.concatenate([-np.ones(m), np.ones(m)])
    t_in = np.concatenate([tca, tca])
    if dr_tca is None or dv_tca is None:
        _, dr, dv = _rel_state(satrecs, si, sj, jd0, fr0, tca)
    else:
        dr, dv = np.asarray(dr_tca, float), np.asarray(dv_tca, float)
    dr_in = np.concatenate([dr, dr])
    dv_in = np.concatenate([dv, dv])
    thr = float(threshold_km)
    acc = REL_ACCEL_PER_KM_S2 * thr
    h_lin_max = np.sqrt(2.0 * LINEAR_MARGIN_KM / acc)
    # Bracket: a (inside, distance <= thr) and b (outside) per search.
    a = np.full(2 * m, np.nan)
    b = np.full(2 * m, np.nan)
    active = np.arange(2 * m)
    for _ in range(MAX_MARCH_STEPS):
        if active.size == 0:
            break
        d = _dist(dr_in[active])
        speed = _dist(dv_in[active])
        room = np.maximum(thr - d, 0.0)
        v_safe = speed + SGP4_VELOCITY_SLACK_KMS
        h_safe = 2.0 * room / (v_safe + np.sqrt(v_safe * v_safe + 2.0 * acc * room))
        # Straight line: |dr + s sign dv| = thr + margin, positive root.
        bb = sign[active] * np.einsum("ij,ij->i", dr_in[active], dv_in[active])
        c = d * d - (thr + LINEAR_MARGIN_KM) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            s_lin = (-bb + np.sqrt(bb * bb - speed * speed * c)) / (speed * speed)
        s_lin = np.where(np.isfinite(s_lin), s_lin, np.inf)
        h = np.maximum(h_safe, np.minimum(s_lin, h_lin_max))
        t_try = np.clip(t_in[active] + sign[active] * h, 0.0, window_s)
        bad, dr_t, dv_t = _rel_state(satrecs, pi[active], pj[active], jd0, fr0, t_try)
        outside = bad | (_dist(dr_t) > thr)
        hit = active[outside]
        a[hit] = t_in[hit]
        b[hit] = t_try[outside]
        # Newton starts from b: just outside, at the straight-line crossing + margin.
        dr_in[hit] = dr_t[outside]
        dv_in[hit] = dv_t[outside]
        t_in[hit] = np.where(bad[outside], np.nan, t_try[outside])
        inside = active[~outside]
        t_in[inside] = t_try[~outside]
        dr_in[inside] = dr_t[~outside]
        dv_in[inside] = dv_t[~outside]
        edge = (t_try[~outside] <= 0.0) | (t_try[~outside] >= window_s)
        out[inside[edge]] = t_try[~outside][edge]
        clipped[inside[edge]] = True
        active = inside[~edge]
    _newton(satrecs, pi, pj, jd0, fr0, thr, a, b, dr_in, dv_in, t_in, out)
    return out[:m], out[m:], clipped[:m], clipped[m:]


def _newton(satrecs, pi, pj, jd0, fr0, thr, a, b, dr_in, dv_in, t_in, out):
    """Solve d(t) = thr in each bracket (a inside, b outside); write the roots into out.

    dr_in/dv_in hold the relative state at t_in == b (NaN where SGP4 failed at b)."""
    todo = np.flatnonzero(np.isfinite(a) & np.isfinite(b))
    if todo.size == 0:
        return
    a = a[todo].copy()
    b = b[todo].copy()
    t = t_in[todo].copy()
    failed = ~np.isfinite(t)
    t[failed] = a[failed]  # start at the inside end (its rate is unknown: bisect first)
    d = _dist(dr_in[todo])
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.einsum("ij,ij->i", dr_in[todo], dv_in[todo]) / np.maximum(d, 1e-12)
    rate[failed] = np.nan
    g = np.where(failed, -1.0, d - thr)
    live = np.arange(todo.size)
    for _ in range(MAX_NEWTON_STEPS):
        if live.size == 0:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            tn = t[live] - g[live] / rate[live]
        lo = np.minimum(a[live], b[live])
        hi = np.maximum(a[live], b[live])
        off = ~np.isfinite(tn) | (tn <= lo) | (tn >= hi)
        tn[off] = 0.5 * (a[live][off] + b[live][off])
        step = np.abs(tn - t[live])
        bad, dr, dv = _rel_state(satrecs, pi[todo[live]], pj[todo[live]], jd0, fr0, tn)
        dn = np.where(bad, np.inf, _dist(dr))
        gn = dn - thr
        t[live] = tn
        g[live] = gn
        with np.errstate(invalid="ignore", divide="ignore"):
            rate[live] = np.einsum("ij,ij->i", dr, dv) / np.maximum(dn, 1e-12)
        inside = gn <= 0.0
        a[live[inside]] = tn[inside]
        b[live[~inside]] = tn[~inside]
        # Met: within CROSSING_TOL_KM of the threshold and, at the local rate, within
        # CROSSING_TOL_S of the root (or the last step was that small); or a narrow bracket.
        near = np.abs(gn) <= CROSSING_TOL_KM
        sharp = (np.abs(gn) <= np.abs(rate[live]) * CROSSING_TOL_S) | (step <= CROSSING_TOL_S)
        done = (near & sharp) | (np.abs(b[live] - a[live]) <= CROSSING_TOL_S)
        live = live[~done]
    # A root met by distance is the last point; a bracket met by width its inside end.
    by_width = np.abs(g) > CROSSING_TOL_KM
    out[todo] = np.where(by_width, a, t)


def _search_rows(el, si, sj, jd0, fr0, tca, thr, window_s, dr_tca, dv_tca, out, clipped):
    """threshold_crossings on the numba SGP4: both searches of every row, row by row in
    numba (_search_kernel; the numpy version above steps all rows together, paying its
    array passes per step for the few slow rows), on numba.get_num_threads() threads.
    The same arithmetic step for step, so the same bits (tests/test_tail_pipeline.py)."""
    m = tca.size
    acc = REL_ACCEL_PER_KM_S2 * thr
    on_threads(
        _search_kernel,
        2 * m,
        el,
        np.ascontiguousarray(si),
        np.ascontiguousarray(sj),
        jd0,
        fr0,
        np.ascontiguousarray(tca),
        thr,
        window_s,
        np.ascontiguousarray(dr_tca, dtype=np.float64),
        np.ascontiguousarray(dv_tca, dtype=np.float64),
        acc,
        np.sqrt(2.0 * LINEAR_MARGIN_KM / acc),
        (thr + LINEAR_MARGIN_KM) ** 2,
        out,
        clipped,
        min_rows=SEARCH_MIN_ROWS,
    )


# False: the numpy searches below even with the numba SGP4 (the reference in tests).
SEARCH_IN_NUMBA = True
# Searches per thread below which _search_rows stays on one thread.
SEARCH_MIN_ROWS = 500


@njit(cache=True, inline="always")
def _dot(a, b):
    """numpy's einsum("ij,ij->i") of one row pair, with its association on this build:
    (x x' + z z') + y y' (refine._sampled_distance relies on the same)."""
    return (a[0] * b[0] + a[2] * b[2]) + a[1] * b[1]


@njit(cache=True, inline="always")
def _np_max(a, b):
    """np.maximum of two floats (NaN if either is)."""
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@njit(cache=True, inline="always")
def _np_min(a, b):
    """np.minimum of two floats (NaN if either is)."""
    if a != a or b != b:
        return np.nan
    return a if a <= b else b


@njit(cache=True, inline="always")
def _np_clip(x, lo, hi):
    """np.clip of one float (NaN stays NaN; ties keep the bound, as numpy's)."""
    if x != x:
        return x
    y = x if x > lo else lo
    return y if y < hi else hi


@njit(cache=True, inline="always")
def _rel_at(el, i, j, jd0, fr0, t_s, rv1, rv2, res1, res2, dr, dv):
    """SGP4 of objects i and j at t_s (window s) as refine.states: dr = r_j - r_i,
    dv = v_j - v_i; returns True when either failed (error code or non-finite)."""
    fr = fr0 + t_s / 86400.0
    res1[:] = 0.0
    res2[:] = 0.0
    e1 = sgp4_numba.sgp4_state(el[i], sgp4_numba.minutes_since_epoch(el[i], jd0, fr), rv1, res1)
    e2 = sgp4_numba.sgp4_state(el[j], sgp4_numba.minutes_since_epoch(el[j], jd0, fr), rv2, res2)
    bad = e1 != 0 or e2 != 0
    for c in range(6):
        if not (np.isfinite(rv1[c]) and np.isfinite(rv2[c])):
            bad = True
    for c in range(3):
        dr[c] = rv2[c] - rv1[c]
        dv[c] = rv2[3 + c] - rv1[3 + c]
    return bad


@njit(cache=True, nogil=True, error_model="numpy")
def _search_kernel(
    lo,
    hi,
    el,
    si,
    sj,
    jd0,
    fr0,
    tca,
    thr,
    window_s,
    dr_tca,
    dv_tca,
    acc,
    h_lin_max,
    aim2,
    out,
    clipped,
):
    """Searches lo..hi-1 of threshold_crossings (k < m: START of row k, backwards;
    k >= m: STOP of row k - m), each the march then _newton's steps, into out/clipped."""
    m = tca.size
    rv1 = np.empty(6)
    rv2 = np.empty(6)
    res1 = np.zeros(3)
    res2 = np.zeros(3)
    dr = np.empty(3)
    dv = np.empty(3)
    dr_in = np.empty(3)
    dv_in = np.empty(3)
    for k in range(lo, hi):
        row = k if k < m else k - m
        sign = -1.0 if k < m else 1.0
        i = si[row]
        j = sj[row]
        t_in = tca[row]
        for c in range(3):
            dr_in[c] = dr_tca[row, c]
            dv_in[c] = dv_tca[row, c]
        a = np.nan
        b = np.nan
        for _ in range(MAX_MARCH_STEPS):
            d = np.sqrt(_dot(dr_in, dr_in))
            speed = np.sqrt(_dot(dv_in, dv_in))
            room = _np_max(thr - d, 0.0)
            v_safe = speed + SGP4_VELOCITY_SLACK_KMS
            h_safe = 2.0 * room / (v_safe + np.sqrt(v_safe * v_safe + 2.0 * acc * room))
            bb = sign * _dot(dr_in, dv_in)
            cc = d * d - aim2
            # No real root (or no relative motion): no linear step to the boundary.
            disc = bb * bb - speed * speed * cc
            s_lin = np.inf
            if speed > 0.0 and disc >= 0.0:
                s_lin = (-bb + np.sqrt(disc)) / (speed * speed)
            if not np.isfinite(s_lin):
                s_lin = np.inf
            h = _np_max(h_safe, _np_min(s_lin, h_lin_max))
            t_try = _np_clip(t_in + sign * h, 0.0, window_s)
            bad = _rel_at(el, i, j, jd0, fr0, t_try, rv1, rv2, res1, res2, dr, dv)
            if bad or np.sqrt(_dot(dr, dr)) > thr:  # outside: bracket [t_in, t_try]
                a = t_in
                b = t_try
                for c in range(3):
                    dr_in[c] = dr[c]
                    dv_in[c] = dv[c]
                t_in = np.nan if bad else t_try
                break
            t_in = t_try
            for c in range(3):
                dr_in[c] = dr[c]
                dv_in[c] = dv[c]
            if t_try <= 0.0 or t_try >= window_s:  # inside at the window's edge
                out[k] = t_try
                clipped[k] = True
                break
        if not (np.isfinite(a) and np.isfinite(b)):
            continue
        # _newton: from b (outside), bisection when a step leaves the bracket.
        failed = not np.isfinite(t_in)
        t = a if failed else t_in
        d = np.sqrt(_dot(dr_in, dr_in))
        rate = _dot(dr_in, dv_in) / _np_max(d, 1e-12)
        if failed:
            rate = np.nan
        g = -1.0 if failed else d - thr
        for _ in range(MAX_NEWTON_STEPS):
            tn = t - g / rate
            lo_t = _np_min(a, b)
            hi_t = _np_max(a, b)
            if not np.isfinite(tn) or tn <= lo_t or tn >= hi_t:
                tn = 0.5 * (a + b)
            step = abs(tn - t)
            bad = _rel_at(el, i, j, jd0, fr0, tn, rv1, rv2, res1, res2, dr, dv)
            dn = np.inf if bad else np.sqrt(_dot(dr, dr))
            gn = dn - thr
            t = tn
            g = gn
            rate = _dot(dr, dv) / _np_max(dn, 1e-12)
            if gn <= 0.0:
                a = tn
            else:
                b = tn
            near = abs(gn) <= CROSSING_TOL_KM
            sharp = abs(gn) <= abs(rate) * CROSSING_TOL_S or step <= CROSSING_TOL_S
            if (near and sharp) or abs(b - a) <= CROSSING_TOL_S:
                break
        out[k] = a if abs(g) > CROSSING_TOL_KM else t


def warm_up():
    """Compile or load _search_kernel (warmup's refine group)."""
    if not sgp4_numba.available():
        return
    el = np.zeros((1, sgp4_numba.N_COLUMNS))
    el[0, sgp4_numba.NO] = 1.0
    one = np.zeros(1, np.int64)
    row = np.zeros((1, 3))
    _search_kernel(
        0,
        0,
        el,
        one,
        one,
        0.0,
        0.0,
        np.zeros(1),
        5.0,
        1.0,
        row,
        row,
        1.0,
        1.0,
        1.0,
        np.zeros(2),
        np.zeros(2, np.bool_),
    )


# Rows per task below which START/STOP is not split (a worker task costs a round trip
# of its arrays, a thread a wake-up; each row's search is independent of the others,
# so the split never changes a value).
MIN_ROWS_PER_TASK = 2000


def _crossings_task(ctx, si, sj, jd0, fr0, tca_s, threshold_km, window_s, dr, dv):
    """threshold_crossings of some rows on a worker (ctx: executor.SatrecContext)."""
    return threshold_crossings(ctx.satrecs, si, sj, jd0, fr0, tca_s, threshold_km, window_s, dr, dv)


def crossings_split(ex, si, sj, jd0, fr0, tca_s, threshold_km, window_s, dr, dv):
    """threshold_crossings over the executor's workers (few rows or 1 worker: here)."""
    m = len(tca_s)
    threads = refine.local_threads(ex)  # numba SGP4: this process's threads
    if threads > 1 and SEARCH_IN_NUMBA:  # rows on threads inside (_search_rows)
        return _crossings_task(ex.ctx, si, sj, jd0, fr0, tca_s, threshold_km, window_s, dr, dv)
    parts = min(
        threads * refine.PARTS_PER_THREAD if threads > 1 else ex.workers, m // MIN_ROWS_PER_TASK
    )
    if parts <= 1:
        return _crossings_task(ex.ctx, si, sj, jd0, fr0, tca_s, threshold_km, window_s, dr, dv)
    cuts = np.linspace(0, m, parts + 1).astype(np.int64)
    jobs = [
        (si[a:b], sj[a:b], jd0, fr0, tca_s[a:b], threshold_km, window_s, dr[a:b], dv[a:b])
        for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]
    if threads > 1:
        res = refine.thread_map(_crossings_task, ex.ctx, jobs, threads)
    else:
        res = ex.map(_crossings_task, jobs, "start_stop")
    return tuple(np.concatenate([r[k] for r in res]) for k in range(4))


def add_start_stop(
    rows: dict,
    catalog,
    jd0: float,
    fr0: float,
    threshold_km: float,
    window_s: float,
    ex=None,
) -> None:
    """Add the START and STOP columns (UTC text, ms) to a screening table in place and
    append START_CLIPPED / STOP_CLIPPED to FLAGS where the pair is inside at a window
    edge. rows: the table's dict of columns (NORAD ids, TCA_JD/TCA_FR, TEME states);
    ex: an executor over the catalogue's satellites to split the rows over (None: here)."""
    from ssa.screening.result import add_flags, format_tca

    ids = np.asarray(rows["NORAD_CAT_ID_1"], np.int64)
    m = ids.size
    if m == 0:
        rows["START"] = np.zeros(0, dtype=object)
        rows["STOP"] = np.zeros(0, dtype=object)
        return
    order = np.argsort(catalog.norad_id, kind="stable")
    sorted_ids = np.asarray(catalog.norad_id)[order]
    si = order[np.searchsorted(sorted_ids, ids)]
    sj = order[np.searchsorted(sorted_ids, np.asarray(rows["NORAD_CAT_ID_2"], np.int64))]
    tca_s = ((np.asarray(rows["TCA_JD"]) - jd0) + (np.asarray(rows["TCA_FR"]) - fr0)) * 86400.0
    r1 = np.stack([rows[f"{a}1_KM"] for a in "XYZ"], axis=1)
    r2 = np.stack([rows[f"{a}2_KM"] for a in "XYZ"], axis=1)
    v1 = np.stack([rows[f"V{a}1_KMS"] for a in "XYZ"], axis=1)
    v2 = np.stack([rows[f"V{a}2_KMS"] for a in "XYZ"], axis=1)
    if ex is None:
        start, stop, c_start, c_stop = threshold_crossings(
            catalog.satrecs, si, sj, jd0, fr0, tca_s, threshold_km, window_s, r2 - r1, v2 - v1
        )
    else:
        start, stop, c_start, c_stop = crossings_split(
            ex, si, sj, jd0, fr0, tca_s, threshold_km, window_s, r2 - r1, v2 - v1
        )
    rows["START"] = _utc(format_tca, jd0, fr0, start)
    rows["STOP"] = _utc(format_tca, jd0, fr0, stop)
    rows["FLAGS"] = add_flags(rows["FLAGS"], [("START_CLIPPED", c_start), ("STOP_CLIPPED", c_stop)])


def _utc(format_tca, jd0, fr0, t_s):
    ok = np.isfinite(t_s)
    text = np.full(t_s.size, "", dtype=object)
    if ok.any():
        fr = fr0 + t_s[ok] / 86400.0
        whole = np.floor(fr)
        text[ok] = format_tca(jd0 + whole, fr - whole)
    return text
