"""SGP4 worker pool of the screening: forked workers writing into shared memory give
bit-identical plans and chunks to the in-process path, chunks outlive the pool and
later chunks, and no file descriptor or shared segment is left behind."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

from ssa.catalog import Catalog
from ssa.screening import propagate
from ssa.screening.executor import LocalExecutor, SatrecContext

CATALOG = "catalog-2024-07-05.3le"
STEP_S = 20.0
TARGET_KM = 0.2
WINDOW_S = 3 * 86400.0


@pytest.fixture(autouse=True)
def satrecarray_knots(monkeypatch):
    """The chunks' knots through sgp4's SatrecArray on the pool (the numba knots run
    in this process: tests/test_sgp4_numba.py)."""
    monkeypatch.setattr(propagate, "KNOT_SGP4", "satrecarray")


@pytest.fixture(scope="module")
def sample(shared_file):
    """600 objects: a random draw plus the lowest perigees (some decay in the window)."""
    full = Catalog.load(shared_file(CATALOG))
    rng = np.random.default_rng(3)
    low = np.argsort(full.perigee_km)[:100]
    pick = np.union1d(rng.choice(len(full), 500, replace=False), low)
    return full.subset(pick)


def _run(catalog, workers):
    jd0, fr0 = catalog.epoch_median()
    with LocalExecutor(SatrecContext(catalog.satrecs), workers) as pool:
        assert pool.forked == (workers > 1)
        plan = propagate.make_plan(pool, catalog, STEP_S, TARGET_KM, jd0, fr0, WINDOW_S)
        length = propagate.chunk_length_s(plan, WINDOW_S)
        chunks = [
            propagate.build_chunk(pool, plan, t0, length, jd0, fr0)
            for t0 in np.arange(0.0, WINDOW_S, length)
        ]
        copies = [ch.coef.copy() for ch in chunks]
    return plan, chunks, copies


def _open_fds():
    out = {}
    for f in os.listdir("/proc/self/fd"):
        try:
            out[f] = os.readlink(f"/proc/self/fd/{f}")
        except OSError:
            pass
    return out


def _shm() -> list:
    """/dev/shm entries, without multiprocessing's semaphores (sem.mp-*): any process
    on a shared machine makes those, and the screening never does."""
    if not os.path.isdir("/dev/shm"):
        return []
    return sorted(f for f in os.listdir("/dev/shm") if not f.startswith("sem.mp-"))


def test_forked_equals_in_process(sample):
    fds = _open_fds()
    shm = _shm()
    plan1, chunks1, _ = _run(sample, 1)
    plan2, chunks2, copies2 = _run(sample, 2)
    for f in ("klass", "err_km", "measured_err_km", "accel_km_s2"):
        assert np.array_equal(getattr(plan1, f), getattr(plan2, f)), f
    assert any(np.isfinite(ch.fail_s).any() for ch in chunks1), "no failure path exercised"
    for a, b, c in zip(chunks1, chunks2, copies2, strict=True):
        assert b.coef.dtype == np.float64 and b.coef.ndim == 1 and b.coef.flags.c_contiguous
        # Still valid (and unchanged) after later chunks and after the pool closed.
        assert b.coef.tobytes() == c.tobytes() == a.coef.tobytes()
        for f in (
            "off",
            "stride",
            "nspan",
            "fail_s",
            "fail_code",
            "cls_index",
            "cls_first",
            "cls_size",
            "cls_base",
            "cls_nspan",
            "cls_h",
        ):
            assert np.array_equal(getattr(a, f), getattr(b, f)), f
    del chunks2, copies2, a, b, c  # a live chunk may hold its memfd (Python < 3.13)
    assert _open_fds() == fds
    assert _shm() == shm


def test_worker_error_leaves_nothing_open(sample):
    jd0, fr0 = sample.epoch_median()
    fds = _open_fds()
    with LocalExecutor(SatrecContext(sample.satrecs), 2) as pool:
        plan = propagate.make_plan(pool, sample, STEP_S, TARGET_KM, jd0, fr0, WINDOW_S)
        # One object more than the pool knows: the worker holding it raises.
        bad = propagate.Plan(
            step_s=plan.step_s,
            klass=np.append(plan.klass, plan.klass[0]),
            err_km=plan.err_km,
            measured_err_km=plan.measured_err_km,
            accel_km_s2=plan.accel_km_s2,
        )
        with pytest.raises(IndexError):
            propagate.build_chunk(
                pool, bad, 0.0, propagate.chunk_length_s(plan, WINDOW_S), jd0, fr0
            )
    gc.collect()  # the traceback's reference cycle holds multiprocessing's pipes
    assert _open_fds() == fds
