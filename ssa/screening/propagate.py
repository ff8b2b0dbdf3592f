"""SGP4 knots, per-object knot spacing, interpolation error bounds, streamed in chunks.

Every object gets a knot spacing h = step * 2**m (its "class" m). Spans of two
knot steps (three knots: position and velocity) carry one quintic Hermite
polynomial per axis. The class is the widest spacing whose interpolation error,
measured against SGP4 over a full orbit at the start and at the end of the window,
stays under the target; the measured maximum times a safety factor becomes the
object's error bound used to pad the screening boxes.

SGP4 runs in sgp4's compiled ``SatrecArray``. It holds the GIL
(see benchmarks/screen_catalog.py), so with threads > 1 the objects of each class
are split over worker processes (fork) and each evaluates its share.
"""

from __future__ import annotations

import math
import multiprocessing as mp
from dataclasses import dataclass

import numpy as np
from sgp4.api import SatrecArray

from ssa.screening import kernels

MU_KM3_S2 = 398600.8  # WGS72, as SGP4 uses
EARTH_RADIUS_KM = 6378.135  # WGS72
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
        return self.step_s * (2.0 ** self.klass)


# --- SGP4 evaluation, in this process or in forked workers --------------------
_SATRECS: list = []
_ARRAYS: dict = {}  # SatrecArray per object group, built once per process


def _sgp4_task(args):
    idx, jd, fr = args
    key = (idx.size, hash(idx.tobytes()))
    arr = _ARRAYS.get(key)
    if arr is None:
        if len(_ARRAYS) > 64:
            _ARRAYS.clear()
        arr = _ARRAYS[key] = SatrecArray([_SATRECS[i] for i in idx])
    e, r, v = arr.sgp4(jd, fr)
    return e, r, v


class Sgp4Pool:
    """Evaluate SGP4 for groups of objects at shared times, over ``workers`` processes."""

    def __init__(self, satrecs, workers: int):
        global _SATRECS
        _SATRECS = list(satrecs)
        _ARRAYS.clear()
        self.workers = max(1, int(workers))
        self._pool = None
        if self.workers > 1 and len(_SATRECS) > 1:
            self._pool = mp.get_context("fork").Pool(self.workers)

    def close(self):
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def evaluate(self, groups):
        """groups: list of (idx, jd, fr). Return list of (err, r_km, v_kms) per group."""
        if self._pool is None:
            return [_sgp4_task(g) for g in groups]
        tasks = []
        layout = []
        for g, (idx, jd, fr) in enumerate(groups):
            parts = np.array_split(idx, self.workers) if len(idx) > 1 else [idx]
            for p in parts:
                if len(p):
                    tasks.append((p, jd, fr))
                    layout.append(g)
        results = self._pool.map(_sgp4_task, tasks, chunksize=1)
        out = []
        for g in range(len(groups)):
            parts = [results[t] for t in range(len(tasks)) if layout[t] == g]
            if not parts:
                n_t = len(groups[g][1])
                out.append((np.zeros((0, n_t), np.uint8), np.zeros((0, n_t, 3)),
                            np.zeros((0, n_t, 3))))
            else:
                out.append(tuple(np.concatenate([p[q] for p in parts]) for q in range(3)))
        return out


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


def _verify(pool, catalog, idx, m, step_s, jd0, fr0, window_s):
    """Return the max interpolation error (km) of objects idx in class m, measured
    against SGP4 over one orbit at the start and one at the end of the window."""
    h = step_s * 2.0**m
    span = 2.0 * h
    period_s = min(float(np.max(catalog.period_min[idx])) * 60.0, window_s)
    n_span = max(1, math.ceil(period_s / span))
    last_start = max(0.0, math.floor(max(window_s - period_s, 0.0) / span) * span)
    starts = np.unique(np.concatenate([np.arange(n_span) * span,
                                       last_start + np.arange(n_span) * span]))
    knots = (starts[:, None] + np.array([0.0, h, 2 * h])[None, :]).ravel()
    checks = (starts[:, None] + _CHECK_TAU[None, :] * h).ravel()
    t_all = np.concatenate([knots, checks])
    jd, fr = times_to_jd(jd0, fr0, t_all)
    e, r, v = pool.evaluate([(idx, jd, fr)])[0]
    nk = knots.size
    n = len(idx)
    n_sp = starts.size
    # Build one polynomial per span: knots reshaped to (n, n_sp, 3 knots, 3).
    rk = r[:, :nk].reshape(n, n_sp, 3, 3)
    vk = v[:, :nk].reshape(n, n_sp, 3, 3)
    ok_k = (e[:, :nk] == 0).reshape(n, n_sp, 3).all(axis=2)
    coef = np.empty(n * n_sp * kernels._NC)
    # Each span as its own 3-knot "object" to reuse fill_coefficients.
    single = np.arange(n * n_sp, dtype=np.int64)
    kernels.fill_coefficients(np.ascontiguousarray(rk.reshape(n * n_sp, 3, 3)),
                              np.ascontiguousarray(vk.reshape(n * n_sp, 3, 3)), h, _MINV,
                              coef, kernels._NC * single, np.ones_like(single))
    n_c = _CHECK_TAU.size
    obj = np.repeat(np.arange(n * n_sp, dtype=np.int64), n_c)
    t_loc = np.tile(_CHECK_TAU * h, n * n_sp)
    p = kernels.eval_positions(coef, kernels._NC * single, np.ones_like(single),
                               np.full(n * n_sp, h), np.ones(n * n_sp, np.int64), obj, t_loc)
    truth = r[:, nk:].reshape(n * n_sp * n_c, 3)
    err = np.linalg.norm(p - truth, axis=1).reshape(n, n_sp, n_c)
    ok_c = (e[:, nk:] == 0).reshape(n, n_sp, n_c)
    good = ok_c & ok_k[:, :, None] & np.isfinite(err)
    err = np.where(good, err, 0.0)
    return err.reshape(n, -1).max(axis=1)


def make_plan(pool, catalog, step_s: float, target_km: float, jd0: float, fr0: float,
              window_s: float) -> Plan:
    """Return the per-object interpolation plan (classes verified against SGP4)."""
    n = len(catalog)
    klass = initial_class(catalog, step_s, target_km)
    measured = np.zeros(n)
    pending = np.ones(n, bool)
    # Objects are verified in groups of similar period, so no group samples much
    # longer than its own members' orbits.
    period_bin = np.ceil(np.log2(np.maximum(catalog.period_min, 1.0) / 80.0) * 2.0)
    while pending.any():
        for m in np.unique(klass[pending]):
            for b in np.unique(period_bin[pending & (klass == m)]):
                idx = np.flatnonzero(pending & (klass == m) & (period_bin == b))
                err = _verify(pool, catalog, idx, int(m), step_s, jd0, fr0, window_s)
                measured[idx] = err
                too_big = (err > target_km) & (m > 0)
                pending[idx[~too_big]] = False
                klass[idx[too_big]] = m - 1
    rp = np.maximum(np.minimum(perigee_radius_km(catalog), 1e12), MIN_RADIUS_KM)
    accel = ACCEL_SAFETY * MU_KM3_S2 / rp**2
    return Plan(step_s=step_s, klass=klass, err_km=ERR_SAFETY * measured + ERR_FLOOR_KM,
                measured_err_km=measured, accel_km_s2=accel)


@dataclass
class Chunk:
    """Quintic coefficients of every object over [t0_s, t0_s + length_s].

    Layout: see ssa.screening.kernels (coefficient k of axis ax of span s of object i
    at off[i] + (s * 18 + ax * 6 + k) * stride[i]). Classes (knot spacings) in
    ascending order; class c holds objects cls_index[cls_first[c]:][:cls_size[c]]."""

    t0_s: float
    length_s: float
    coef: np.ndarray  # flat float64
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


def build_chunk(pool, plan: Plan, t0_s: float, length_s: float, jd0: float,
                fr0: float) -> Chunk:
    """Return the chunk starting at t0_s: SGP4 at the knots of every class, then fits."""
    n = plan.klass.size
    h_all = plan.h_s
    nspan = np.round(length_s / (2.0 * h_all)).astype(np.int64)
    off = np.zeros(n, np.int64)
    stride = np.ones(n, np.int64)
    classes = np.unique(plan.klass)
    cls_index = np.argsort(plan.klass, kind="stable")
    cls_size = np.array([np.count_nonzero(plan.klass == m) for m in classes], np.int64)
    cls_first = np.concatenate([[0], np.cumsum(cls_size)[:-1]]).astype(np.int64)
    cls_h = plan.step_s * 2.0**classes
    cls_nspan = np.round(length_s / (2.0 * cls_h)).astype(np.int64)
    cls_base = np.zeros(classes.size, np.int64)
    base = 0
    for c, m in enumerate(classes):
        idx = np.flatnonzero(plan.klass == m)
        cls_base[c] = base
        off[idx] = base + np.arange(idx.size)
        stride[idx] = idx.size
        base += idx.size * int(cls_nspan[c]) * kernels._NC
    coef = np.empty(base)
    fail_s = np.full(n, np.inf)
    fail_code = np.zeros(n, np.int64)
    groups = []
    classes = []
    for m in np.unique(plan.klass):
        idx = np.flatnonzero(plan.klass == m)
        h = plan.step_s * 2.0**m
        t = t0_s + np.arange(round(length_s / h) + 1) * h
        jd, fr = times_to_jd(jd0, fr0, t)
        groups.append((idx, jd, fr))
        classes.append((idx, h, t))
    for (idx, h, t), (e, r, v) in zip(classes, pool.evaluate(groups), strict=False):
        with np.errstate(invalid="ignore"):
            bad = ((e != 0) | ~(np.abs(r) < MAX_POSITION_KM).all(axis=2)
                   | ~(np.abs(v) < MAX_SPEED_KMS).all(axis=2))
        has_bad = bad.any(axis=1)
        if has_bad.any():
            first = np.argmax(bad, axis=1)
            rows = np.flatnonzero(has_bad)
            fail_s[idx[rows]] = t[first[rows]]
            fail_code[idx[rows]] = e[rows, first[rows]]
        kernels.fill_coefficients(np.ascontiguousarray(r), np.ascontiguousarray(v), h, _MINV,
                                  coef, off[idx], stride[idx])
    return Chunk(t0_s=t0_s, length_s=length_s, coef=coef, off=off, stride=stride, nspan=nspan,
                 fail_s=fail_s, fail_code=fail_code, cls_index=cls_index, cls_first=cls_first,
                 cls_size=cls_size, cls_base=cls_base, cls_nspan=cls_nspan, cls_h=cls_h)


def active_until_s(fail_s: np.ndarray, h_s: np.ndarray) -> np.ndarray:
    """Return, per object, the end (window s) of its last fully valid span before its
    first failing knot (inf when it never fails)."""
    out = np.full(fail_s.shape, np.inf)
    failed = np.isfinite(fail_s)
    j = np.round(fail_s[failed] / h_s[failed])
    out[failed] = np.floor((j - 1) / 2.0) * 2.0 * h_s[failed]
    return out
