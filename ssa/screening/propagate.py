"""SGP4 knots, per-object knot spacing, interpolation error bounds, streamed in chunks.

Every object gets a knot spacing h = step * 2**m (its "class" m). Spans of two
knot steps (three knots: position and velocity) carry one quintic Hermite
polynomial per axis. The class is the widest spacing whose interpolation error,
measured against SGP4 over a full orbit at the start and at the end of the window,
stays under the target; the measured maximum times a safety factor becomes the
object's error bound used to pad the screening boxes.

The knots of the time slices and the plan's verification run SGP4 in numba
(``ssa.screening.sgp4_numba``, on the coefficients sgp4's own init computed;
bit-identical to sgp4's output) fused with the fits: blocks of objects on the
numba thread count (Python threads over GIL-free kernels), each object's knots in
a small buffer of its own until its coefficients (or its measured error) are
written. With KNOT_SGP4 = "satrecarray" (comparison), on a Dask cluster's plan,
or when this sgp4 build's Satrec layout is not the one sgp4_numba reads, SGP4 runs
in sgp4's compiled ``SatrecArray``. That holds the GIL (see
benchmarks/screen_catalog.py), so with threads > 1 the objects are split over
forked processes (``ssa.screening.executor.LocalExecutor``). Each worker does all
per-object work of its share (SGP4, fits, error checks, failure scan) and writes
a chunk's coefficients straight into a shared memfd the parent then maps: only
small arrays go through the pipes.
"""

from __future__ import annotations

import math
import mmap
import os
import sys
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit

from ssa.geometry.constants import EARTH_RADIUS_KM, MU_KM3_S2  # WGS72, as SGP4 uses
from ssa.parallel import on_threads, on_threads_jobs
from ssa.screening import executor, kernels, sgp4_numba

# Smallest radius an SGP4 orbit can reach before it is reported as decayed (error 6
# means r < 1 Earth radius); used to bound the acceleration of decaying objects.
MIN_RADIUS_KM = EARTH_RADIUS_KM - 100.0
# Bound on |d2r/dt2| as a multiple of central gravity at perigee: J2 adds < 0.2 %,
# drag and lunisolar terms far less, the interpolant's own error much less.
ACCEL_SAFETY = 1.25
# Leading error term of quintic Hermite through three knots: max |t(t-1)(t-2)|^2 / 6!.
_QUINTIC_ERROR_COEF = 0.1481 / 720.0
# Interpolation error bound = ERR_SAFETY * (max error measured against SGP4) + floor.
ERR_SAFETY = 2.0
ERR_FLOOR_KM = 0.002
# Where in a span (tau in [0, 2], knots at 0, 1, 2) the interpolant is checked:
# 1 -+ 1/sqrt(3) are the maxima of the leading error term, the rest guard shape.
_CHECK_TAU = np.array([1 - 1 / math.sqrt(3), 0.7, 1.3, 1 + 1 / math.sqrt(3)])
MAX_CLASS = 7
# The circular-orbit error estimate undershoots SGP4 (short-period terms) by up to
# ~5x in LEO: start from a class this much more cautious, saving re-verification.
PREDICT_SAFETY = 10.0
# SGP4 output beyond these is not an Earth orbit (an element set gone bad just
# before SGP4 reports decay): treated like an SGP4 failure (code 0 in fail_code).
MAX_POSITION_KM = 2.0e6
MAX_SPEED_KMS = 12.0

_MINV = kernels.quintic_matrix()

# SGP4 of the slices' knots: "numba" (fused with the fits, numba threads) or
# "satrecarray" (sgp4's SatrecArray over the executor's processes), for comparison.
# Both give the same coefficients bit for bit (tests/test_sgp4_numba.py).
KNOT_SGP4 = os.environ.get("SSA_KNOT_SGP4", "numba")


@dataclass
class Plan:
    """Per-object interpolation plan (arrays over the catalog)."""

    step_s: float
    klass: np.ndarray  # int64: knot spacing h = step_s * 2**klass
    err_km: np.ndarray  # interpolation error bound (km)
    measured_err_km: np.ndarray  # max error measured against SGP4 (km)
    accel_km_s2: np.ndarray  # bound on |r''| (km/s^2)

    @property
    def h_s(self) -> np.ndarray:
        return self.step_s * (2.0**self.klass)

    @property
    def class_order(self) -> np.ndarray:
        """Catalog indices sorted by class, stable: the screening kernel's object order."""
        return np.argsort(self.klass, kind="stable")


# --- SGP4 evaluation: the executor's tasks -------------------------------------
# Tasks run SGP4 *and* everything per object that follows (fits, error checks,
# failure scan) and write coefficients straight into a shared buffer: pickling
# the raw states back through pipes cost more than the SGP4 calls themselves.
# Shared output buffers are Linux memfds that forked children open via /proc:
# anonymous, so nothing can leak in /dev/shm (nor hit its size limit in
# containers), freed when the last mapping goes. Without them (or without forked
# children) the coefficients are written in this process.
_SHARED_OK = hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")
# Before Python 3.13 an mmap keeps a duplicate of its fd: one per live chunk.
_NO_FD_COPY = {"trackfd": False} if sys.version_info >= (3, 13) else {}


@njit(cache=True)
def first_bad_knot(err, r_km, v_kms, max_r_km, max_v_kms):
    """Return per object the first knot with an SGP4 error code, a non-finite state or
    |r|, |v| components beyond max_r_km, max_v_kms (-1 when none)."""
    n, nt = err.shape
    first = np.full(n, -1, np.int64)
    for i in range(n):
        for k in range(nt):
            bad = err[i, k] != 0
            for ax in range(3):
                if not (abs(r_km[i, k, ax]) < max_r_km) or not (abs(v_kms[i, k, ax]) < max_v_kms):
                    bad = True
            if bad:
                first[i] = k
                break
    return first


def warm_up():
    """Compile or load the numba kernels once here, so forked workers inherit them."""
    el = np.zeros((1, sgp4_numba.N_COLUMNS))
    el[0, sgp4_numba.NO] = 1.0
    sgp4_numba.fill_invariants(el)  # as sgp4_numba.elements does for real rows
    knots_and_fits(
        0,
        1,
        el,
        np.zeros(1, np.int64),
        np.zeros(3),
        np.zeros(3),
        1.0,
        _MINV,
        np.zeros(kernels._NC),
        np.zeros(1, np.int64),
        np.ones(1, np.int64),
        1.0,
        1.0,
        np.zeros(1, np.int64),
        np.zeros(1, np.int64),
    )
    one = np.zeros((1, 3, 3))
    coef = np.zeros(kernels._NC)
    kernels.fill_coefficients(
        one, one, 1.0, _MINV, coef, np.zeros(1, np.int64), np.ones(1, np.int64)
    )
    first_bad_knot(np.zeros((1, 3), np.uint8), one, one, 1.0, 1.0)
    kernels.eval_positions(
        coef,
        np.zeros(1, np.int64),
        np.ones(1, np.int64),
        np.ones(1),
        np.ones(1, np.int64),
        np.zeros(1, np.int64),
        np.zeros(1),
    )
    max_fit_error_km(
        np.zeros((1, 3), np.uint8),
        np.zeros((1, 4), np.uint8),
        np.zeros((1, 4, 3)),
        np.zeros((4, 3)),
        1,
    )


def _attach(buf) -> np.ndarray:
    """The float64 array behind buf: the array itself in this process, or (path, n) of
    the parent's memfd in a worker (unmapped when the returned array is freed)."""
    if isinstance(buf, np.ndarray):
        return buf
    path, n = buf
    fd = os.open(path, os.O_RDWR)
    try:
        mm = mmap.mmap(fd, 8 * n)
    finally:
        os.close(fd)
    return np.frombuffer(mm, np.float64, n)


def times_to_jd(jd0: float, fr0: float, t_s: np.ndarray):
    """Return two-part Julian dates (jd, fr) for seconds t_s after (jd0, fr0)."""
    t_s = np.asarray(t_s, dtype=np.float64)
    return np.full(t_s.shape, jd0), fr0 + t_s / 86400.0


# --- the plan -------------------------------------------------------------------
def perigee_radius_km(catalog) -> np.ndarray:
    return catalog.semi_major_axis_km * (1.0 - catalog.eccentricity)


def initial_class(catalog, step_s: float, target_km: float) -> np.ndarray:
    """Return the widest class whose predicted quintic error (circular-orbit leading
    term at the perigee angular rate, times PREDICT_SAFETY) is under target_km."""
    rp = np.maximum(perigee_radius_km(catalog), MIN_RADIUS_KM)
    e = np.clip(catalog.eccentricity, 0.0, 0.999)
    rate = np.sqrt(MU_KM3_S2 * (1.0 + e) / rp**3)
    klass = np.zeros(len(rp), np.int64)
    for m in range(1, MAX_CLASS + 1):
        h = step_s * 2.0**m
        err = PREDICT_SAFETY * _QUINTIC_ERROR_COEF * rp * (rate * h) ** 6
        klass[err <= target_km] = m
    return klass


def _verify_times(catalog, idx, m, step_s, window_s):
    """Return the sampling of a verification group (objects idx in class m): the knot
    spacing h (s), the number of spans and the times (s) of all knots then all
    checks, over one orbit (the group's longest) at the start and one at the end of
    the window."""
    h = step_s * 2.0**m
    span = 2.0 * h
    period_s = min(float(np.max(catalog.period_min[idx])) * 60.0, window_s)
    n_span = max(1, math.ceil(period_s / span))
    last_start = max(0.0, math.floor(max(window_s - period_s, 0.0) / span) * span)
    starts = np.unique(
        np.concatenate([np.arange(n_span) * span, last_start + np.arange(n_span) * span])
    )
    knots = (starts[:, None] + np.array([0.0, h, 2 * h])[None, :]).ravel()
    checks = (starts[:, None] + _CHECK_TAU[None, :] * h).ravel()
    return h, starts.size, np.concatenate([knots, checks])


@njit(cache=True)
def max_fit_error_km(err_knot, err_check, r_check_km, p_km, n_sp):
    """Return per object the max |p_km - r_check_km| (km) over its n_sp spans' checks.
    err_knot (n, 3 n_sp): SGP4 codes at the knots (span s: 3s..3s+2); err_check (n, m),
    r_check_km (n, m, 3), m = n_sp n_c: SGP4 at the checks (span s: s n_c + j); p_km
    (n n_sp n_c, 3): the interpolant there. A check with an SGP4 error code at
    itself or at a knot of its span, or a non-finite error, counts as 0."""
    n, n_check = err_check.shape
    n_c = n_check // n_sp
    out = np.zeros(n)
    for i in range(n):
        worst = 0.0
        for s in range(n_sp):
            if (
                err_knot[i, 3 * s] != 0
                or err_knot[i, 3 * s + 1] != 0
                or err_knot[i, 3 * s + 2] != 0
            ):
                continue
            for j in range(n_c):
                col = s * n_c + j
                if err_check[i, col] != 0:
                    continue
                q = i * n_check + col
                # Same operation order as np.linalg.norm(axis=1): sqrt((x^2 + y^2) + z^2).
                d0 = p_km[q, 0] - r_check_km[i, col, 0]
                d1 = p_km[q, 1] - r_check_km[i, col, 1]
                d2 = p_km[q, 2] - r_check_km[i, col, 2]
                e = np.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
                if np.isfinite(e) and e > worst:
                    worst = e
        out[i] = worst
    return out


def _verify_piece(ctx, idx, jd_knot, fr_knot, jd_check, fr_check, h, n_sp):
    """Return the max interpolation error (km) of objects idx against SGP4 at the
    checks (sampling from _verify_times; runs in a worker)."""
    arr = ctx.satrec_array(idx)
    e_k, r_k, v_k = arr.sgp4(jd_knot, fr_knot)
    e_c, r_c, _ = arr.sgp4(jd_check, fr_check)
    # Each span as its own 3-knot "object" to reuse the kernels' own interpolant.
    m = idx.size * n_sp
    single = np.arange(m, dtype=np.int64)
    ones = np.ones(m, np.int64)
    coef = np.empty(m * kernels._NC)
    kernels.fill_coefficients(
        r_k.reshape(m, 3, 3), v_k.reshape(m, 3, 3), h, _MINV, coef, kernels._NC * single, ones
    )
    n_c = _CHECK_TAU.size
    p = kernels.eval_positions(
        coef,
        kernels._NC * single,
        ones,
        np.full(m, h),
        ones,
        np.repeat(single, n_c),
        np.tile(_CHECK_TAU * h, m),
    )
    return max_fit_error_km(e_k, e_c, r_c, p, n_sp)


# Executor stage name of the plan's numba tasks on Dask: one task per worker, which
# spreads over that worker's numba threads (not over forked children).
PLAN_STAGE = "SGP4 interpolation plan (numba)"


def _verify_bundle_numba(ctx, jobs, threads):
    """[_verify_piece(ctx, *job) for job in jobs] with SGP4 in numba (verify_errors,
    the single-process plan's arithmetic) on ``threads`` numba threads of this
    process: a Dask worker's share of the plan, as one task."""
    el = _numba_rows(ctx)
    out = []
    with ctx.kernel_lock:
        prev = numba.get_num_threads()
        numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))
        try:
            for job in jobs:
                out.append(np.zeros(job[0].size))
                on_threads(verify_errors, job[0].size, el, *job, _MINV, _CHECK_TAU, out[-1])
        finally:
            numba.set_num_threads(prev)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def verify_errors(lo, hi, el, idx, jd_k, fr_k, jd_c, fr_c, h_s, n_sp, minv, check_tau, out):
    """_verify_piece with SGP4 in numba, fused per object, for objects idx[lo:hi]: SGP4
    at the knots (3 per span) and checks (check_tau per span), each span's quintic
    and the max distance at the checks (into out), with the same arithmetic as
    kernels.fill_coefficients, kernels.eval_positions and max_fit_error_km."""
    nk = jd_k.shape[0]
    n_check = jd_c.shape[0]
    n_c = check_tau.shape[0]
    for q in range(lo, hi):
        row = el[idx[q]]
        res = np.zeros(3)
        rk = np.empty((nk, 6))
        ek = np.empty(nk, np.int64)
        for k in range(nk):
            t = sgp4_numba.minutes_since_epoch(row, jd_k[k], fr_k[k])
            ek[k] = sgp4_numba.sgp4_state(row, t, rk[k], res)
        rc = np.empty((n_check, 6))
        ec = np.empty(n_check, np.int64)
        for k in range(n_check):
            t = sgp4_numba.minutes_since_epoch(row, jd_c[k], fr_c[k])
            ec[k] = sgp4_numba.sgp4_state(row, t, rc[k], res)
        b = np.empty(6)
        c = np.empty((3, 6))
        p = np.empty(3)
        worst = 0.0
        for s in range(n_sp):
            if ek[3 * s] != 0 or ek[3 * s + 1] != 0 or ek[3 * s + 2] != 0:
                continue
            for ax in range(3):
                for m3 in range(3):
                    b[2 * m3] = rk[3 * s + m3, ax]
                    b[2 * m3 + 1] = rk[3 * s + m3, 3 + ax] * h_s
                for k in range(6):
                    c[ax, k] = kernels.quintic_coef(minv, b, k)
            for j in range(n_c):
                col = s * n_c + j
                if ec[col] != 0:
                    continue
                t_s = check_tau[j] * h_s
                tau = t_s / h_s - 2.0 * int(t_s / (2.0 * h_s))
                for ax in range(3):
                    p[ax] = c[ax, 0] + tau * (
                        c[ax, 1]
                        + tau * (c[ax, 2] + tau * (c[ax, 3] + tau * (c[ax, 4] + tau * c[ax, 5])))
                    )
                d0 = p[0] - rc[col, 0]
                d1 = p[1] - rc[col, 1]
                d2 = p[2] - rc[col, 2]
                e = np.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
                if np.isfinite(e) and e > worst:
                    worst = e
        out[q] = worst


def make_plan(
    ex, catalog, step_s: float, target_km: float, jd0: float, fr0: float, window_s: float
) -> Plan:
    """Return the per-object interpolation plan (classes verified against SGP4)."""
    n = len(catalog)
    klass = initial_class(catalog, step_s, target_km)
    measured = np.zeros(n)
    pending = np.ones(n, bool)
    # Objects are verified in groups of similar period, so no group samples much
    # longer than its own members' orbits.
    period_bin = np.ceil(np.log2(np.maximum(catalog.period_min, 1.0) / 80.0) * 2.0)
    while pending.any():
        # One pass: every (class, period bin) group of pending objects, all at once
        # (a demoted object waits for the next pass).
        groups = []
        for m in np.unique(klass[pending]):
            for b in np.unique(period_bin[pending & (klass == m)]):
                idx = np.flatnonzero(pending & (klass == m) & (period_bin == b))
                groups.append((int(m), idx, *_verify_times(catalog, idx, int(m), step_s, window_s)))
        numba_sgp4 = use_numba_knots()
        if numba_sgp4 and not ex.slices_as_tasks:  # whole groups here, on numba threads
            pieces = [(g, 0, groups[g][1].size) for g in range(len(groups))]
        else:  # pieces of similar work (on Dask: bundled into one task per worker)
            pieces = executor.pieces(
                ex.workers, [g[1].size for g in groups], [g[4].size for g in groups]
            )
        jobs = []
        for g, lo, hi in pieces:
            m, idx, h, n_sp, t_all = groups[g]
            jd, fr = times_to_jd(jd0, fr0, t_all)
            nk = 3 * n_sp
            jobs.append((idx[lo:hi], jd[:nk], fr[:nk], jd[nk:], fr[nk:], h, n_sp))
        if numba_sgp4 and ex.slices_as_tasks:
            bundles = [jobs[w :: ex.workers] for w in range(min(ex.workers, len(jobs)))]
            out = ex.map(_verify_bundle_numba, [(b, ex.threads) for b in bundles], PLAN_STAGE)
            errs = [None] * len(jobs)
            for w, part in enumerate(out):
                errs[w :: ex.workers] = part
        elif numba_sgp4:  # every group's rows on one pool of threads
            el = _numba_rows(ex.ctx)
            errs = [np.zeros(job[0].size) for job in jobs]
            on_threads_jobs(
                verify_errors,
                [
                    (job[0].size, (el, *job, _MINV, _CHECK_TAU, err), job[1].size + job[3].size)
                    for job, err in zip(jobs, errs, strict=True)
                ],
            )
        else:
            errs = ex.map(_verify_piece, jobs, "SGP4 interpolation plan")
        for (g, lo, hi), err in zip(pieces, errs, strict=True):
            m, idx = groups[g][:2]
            measured[idx[lo:hi]] = err
            too_big = (err > target_km) & (m > 0)
            pending[idx[lo:hi][~too_big]] = False
            klass[idx[lo:hi][too_big]] = m - 1
    rp = np.maximum(np.minimum(perigee_radius_km(catalog), 1e12), MIN_RADIUS_KM)
    accel = ACCEL_SAFETY * MU_KM3_S2 / rp**2
    return Plan(
        step_s=step_s,
        klass=klass,
        err_km=ERR_SAFETY * measured + ERR_FLOOR_KM,
        measured_err_km=measured,
        accel_km_s2=accel,
    )


@dataclass
class Chunk:
    """Quintic coefficients of every object over [t0_s, t0_s + length_s].

    Layout: see ssa.screening.kernels (coefficient k of axis ax of span s of object i
    at off[i] + (s * 18 + ax * 6 + k) * stride[i]). Classes (knot spacings) in
    ascending order; class c holds objects cls_index[cls_first[c]:][:cls_size[c]]."""

    t0_s: float
    length_s: float
    coef: np.ndarray  # flat float64 (forked: a shared memfd mapping, freed with the array)
    off: np.ndarray  # int64 index of coefficient 0 of span 0 per object
    stride: np.ndarray  # int64 stride per object (its class size)
    nspan: np.ndarray  # int64 spans per object
    fail_s: np.ndarray  # first failing knot time (window seconds), inf if none
    fail_code: np.ndarray  # SGP4 error code at that knot (0 = non-finite output)
    cls_index: np.ndarray  # int64 catalog indices in class order
    cls_first: np.ndarray  # int64 position in cls_index of each class's first object
    cls_size: np.ndarray  # int64 objects per class
    cls_base: np.ndarray  # int64 coefficient base per class
    cls_nspan: np.ndarray  # int64 spans per class
    cls_h: np.ndarray  # float64 knot spacing per class (s)


def chunk_length_s(plan: Plan, window_s: float, max_spans: int = 4) -> float:
    """Return the chunk length: a multiple of the widest span, at most max_spans of it."""
    widest = 2.0 * plan.step_s * 2.0**MAX_CLASS
    return widest * max(1, min(max_spans, math.ceil(window_s / widest)))


def chunk_bytes(plan: Plan, length_s: float) -> int:
    """Bytes of a chunk's coefficients (build_chunk's layout: every object's spans)."""
    return int(8 * kernels._NC * np.round(length_s / (2.0 * plan.h_s)).sum())


def _chunk_piece(ctx, buf, idx, jd, fr, h_s, off, stride):
    """SGP4 at the knots (times jd, fr) of objects idx; their fits are written into the
    coefficients buf (see _attach) at off, stride. Return (rows, first failing knot,
    SGP4 code) of the objects with a failing knot (runs in a worker)."""
    e, r, v = ctx.satrec_array(idx).sgp4(jd, fr)
    kernels.fill_coefficients(r, v, h_s, _MINV, _attach(buf), off, stride)
    first = first_bad_knot(e, r, v, MAX_POSITION_KM, MAX_SPEED_KMS)
    rows = np.flatnonzero(first >= 0)
    return rows, first[rows], e[rows, first[rows]].astype(np.int64)


# error_model numpy: SGP4 of a bad element set gives NaN/inf, as in C, not an exception.
@njit(cache=True, nogil=True, error_model="numpy")
def knots_and_fits(
    lo, hi, el, idx, jd, fr, h_s, minv, coef, off, stride, max_r_km, max_v_kms, first, code
):
    """SGP4 (sgp4_numba rows el) of objects idx[lo:hi] at the knots (jd, fr), spaced
    h_s, and their quintic fits written into coef at off, stride (as
    kernels.fill_coefficients, same arithmetic). first, code (per object): the first
    knot failing as in first_bad_knot (-1: none) and its SGP4 error code (0:
    non-finite or too large). Each object's knots stay in a buffer of its own."""
    nk = jd.shape[0]
    nspan = (nk - 1) // 2
    for q in range(lo, hi):
        row = el[idx[q]]
        rv = np.empty((nk, 6))
        res = np.zeros(3)
        bad = -1
        bad_code = 0
        for k in range(nk):
            c = sgp4_numba.sgp4_state(
                row, sgp4_numba.minutes_since_epoch(row, jd[k], fr[k]), rv[k], res
            )
            if bad < 0:
                fails = c != 0
                for ax in range(3):
                    if not (abs(rv[k, ax]) < max_r_km) or not (abs(rv[k, 3 + ax]) < max_v_kms):
                        fails = True
                if fails:
                    bad = k
                    bad_code = c
        first[q] = bad
        code[q] = bad_code
        b = np.empty(6)
        for s in range(nspan):
            for ax in range(3):
                for p in range(3):
                    b[2 * p] = rv[2 * s + p, ax]
                    b[2 * p + 1] = rv[2 * s + p, 3 + ax] * h_s
                for k in range(6):
                    coef[off[q] + (s * kernels._NC + ax * 6 + k) * stride[q]] = (
                        kernels.quintic_coef(minv, b, k)
                    )


def _numba_rows(ctx) -> np.ndarray:
    """The sgp4_numba rows of ctx's satrecs, read once per context and process."""
    el = getattr(ctx, "_sgp4_numba_rows", None)
    if el is None or el.shape[0] != len(ctx):
        el = sgp4_numba.elements(ctx.satrecs)
        ctx._sgp4_numba_rows = el
    return el


def use_numba_knots() -> bool:
    """True when the slices' knots run in sgp4_numba (see KNOT_SGP4)."""
    return KNOT_SGP4 == "numba" and sgp4_numba.available()


def _numba_chunk(ctx, groups, jd0, fr0, off, stride, coef, fail_s, fail_code):
    """Knots and fits of every class group in this process, on numba threads."""
    el = _numba_rows(ctx)
    for idx, h, t in groups:
        jd, fr = times_to_jd(jd0, fr0, t)
        first = np.empty(idx.size, np.int64)
        code = np.empty(idx.size, np.int64)
        on_threads(
            knots_and_fits, idx.size, el, idx, jd, fr, h, _MINV, coef, off[idx], stride[idx],
            MAX_POSITION_KM, MAX_SPEED_KMS, first, code,
        )  # fmt: skip
        rows = np.flatnonzero(first >= 0)
        fail_s[idx[rows]] = t[first[rows]]
        fail_code[idx[rows]] = code[rows]


def _satrecarray_chunk(ex, groups, base, jd0, fr0, off, stride, fail_s, fail_code):
    """Knots (sgp4's SatrecArray) and fits of every class group over ex's processes;
    returns the coefficients (a shared memfd mapping when forked)."""
    pieces = executor.pieces(ex.workers, [g[0].size for g in groups], [g[2].size for g in groups])
    shared = ex.forked and _SHARED_OK and base
    fd = os.memfd_create("ssa-chunk-coef", os.MFD_CLOEXEC) if shared else -1
    try:
        if fd >= 0:
            os.ftruncate(fd, 8 * base)
            buf = (f"/proc/{os.getpid()}/fd/{fd}", base)
        else:
            buf = coef = np.empty(base)
        jobs = []
        for g, lo, hi in pieces:
            idx, h, t = groups[g]
            jd, fr = times_to_jd(jd0, fr0, t)
            part = idx[lo:hi]
            jobs.append((buf, part, jd, fr, h, off[part], stride[part]))
        if ex.forked and fd < 0:  # no shared memory: the children's writes would be lost
            fails = [_chunk_piece(ex.ctx, *job) for job in jobs]
        else:
            fails = ex.map(_chunk_piece, jobs, "SGP4 knots")
        if fd >= 0:
            coef = np.frombuffer(mmap.mmap(fd, 8 * base, **_NO_FD_COPY), np.float64, base)
    finally:
        if fd >= 0:
            os.close(fd)  # the mappings keep the memory until the arrays are freed
    for (g, lo, hi), (rows, first, code) in zip(pieces, fails, strict=True):
        idx, h, t = groups[g]
        fail_s[idx[lo:hi][rows]] = t[first]
        fail_code[idx[lo:hi][rows]] = code
    return coef


def build_chunk(ex, plan: Plan, t0_s: float, length_s: float, jd0: float, fr0: float) -> Chunk:
    """Return the chunk starting at t0_s: SGP4 at the knots of every class, then fits."""
    n = plan.klass.size
    h_all = plan.h_s
    nspan = np.round(length_s / (2.0 * h_all)).astype(np.int64)
    off = np.zeros(n, np.int64)
    stride = np.ones(n, np.int64)
    classes, cls_size = np.unique(plan.klass, return_counts=True)
    cls_size = cls_size.astype(np.int64)
    cls_index = plan.class_order
    cls_first = np.concatenate([[0], np.cumsum(cls_size)[:-1]]).astype(np.int64)
    cls_h = plan.step_s * 2.0**classes
    cls_nspan = np.round(length_s / (2.0 * cls_h)).astype(np.int64)
    cls_base = np.zeros(classes.size, np.int64)
    base = 0
    groups = []  # (objects, knot spacing, knot times) per class
    for c in range(classes.size):
        idx = cls_index[cls_first[c] : cls_first[c] + cls_size[c]]
        cls_base[c] = base
        off[idx] = base + np.arange(idx.size)
        stride[idx] = idx.size
        base += idx.size * int(cls_nspan[c]) * kernels._NC
        h = float(cls_h[c])
        groups.append((idx, h, t0_s + np.arange(round(length_s / h) + 1) * h))
    fail_s = np.full(n, np.inf)
    fail_code = np.zeros(n, np.int64)
    if use_numba_knots():
        coef = np.empty(base)
        _numba_chunk(ex.ctx, groups, jd0, fr0, off, stride, coef, fail_s, fail_code)
    else:
        coef = _satrecarray_chunk(ex, groups, base, jd0, fr0, off, stride, fail_s, fail_code)
    return Chunk(
        t0_s=t0_s,
        length_s=length_s,
        coef=coef,
        off=off,
        stride=stride,
        nspan=nspan,
        fail_s=fail_s,
        fail_code=fail_code,
        cls_index=cls_index,
        cls_first=cls_first,
        cls_size=cls_size,
        cls_base=cls_base,
        cls_nspan=cls_nspan,
        cls_h=cls_h,
    )


def active_until_s(fail_s: np.ndarray, h_s: np.ndarray) -> np.ndarray:
    """Return, per object, the end (window s) of its last fully valid span before its
    first failing knot (inf when it never fails)."""
    out = np.full(fail_s.shape, np.inf)
    failed = np.isfinite(fail_s)
    j = np.round(fail_s[failed] / h_s[failed])
    out[failed] = np.floor((j - 1) / 2.0) * 2.0 * h_s[failed]
    return out
