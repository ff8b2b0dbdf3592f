"""Refinement split over forked processes gives the same conjunctions as one process.

The screening tests refine too few samples to reach the two-process path
(refine.MIN_PARALLEL_SAMPLES), so this builds enough windows on real objects:
windows around the true conjunctions of a dense shell, plus windows of random pairs.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from ssa.catalog import Catalog
from ssa.screening import refine, screen
from ssa.screening.executor import LocalExecutor, SatrecContext

CATALOG = "catalog-2024-07-05.3le"
THRESHOLD_KM = 5.0
HALF_WINDOW_S = 1500.0  # each window: 300 samples at refine.SAMPLE_S


@pytest.fixture(scope="module")
def case(shared_file):
    full = Catalog.load(shared_file(CATALOG))
    rng = np.random.default_rng(7)
    idx = np.flatnonzero((full.perigee_km < 580) & (full.apogee_km > 520))
    shell = full.subset(np.sort(rng.choice(idx, 600, replace=False)))
    jd0, fr0 = shell.epoch_median()
    window_s = 0.5 * 86400.0
    res = screen(shell, start=(jd0, fr0), days=0.5, threads=1)
    index = {int(x): q for q, x in enumerate(shell.norad_id)}
    r = res.rows
    i = np.array([index[int(a)] for a in r["NORAD_CAT_ID_1"]], np.int64)
    j = np.array([index[int(b)] for b in r["NORAD_CAT_ID_2"]], np.int64)
    tca = ((r["TCA_JD"] - jd0) + (r["TCA_FR"] - fr0)) * 86400.0
    # Random pairs fill the job up past the two-process threshold.
    n_extra = int(refine.MIN_PARALLEL_SAMPLES / (2 * HALF_WINDOW_S / refine.SAMPLE_S)) + 50
    a = rng.integers(0, len(shell), n_extra)
    b = (a + rng.integers(1, len(shell), n_extra)) % len(shell)
    pi = np.concatenate([i, np.minimum(a, b)])
    pj = np.concatenate([j, np.maximum(a, b)])
    mid = np.concatenate([tca, rng.uniform(0.0, window_s, n_extra)])
    return shell, jd0, fr0, window_s, pi, pj, mid - HALF_WINDOW_S, mid + HALF_WINDOW_S, i, j


@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_two_processes_give_the_one_process_result(case, monkeypatch, mode):
    """Refinement split over two forked processes (sgp4's C++, which holds the GIL) or
    over two threads (the numba SGP4) equals one part in this process."""
    shell, jd0, fr0, window_s, pi, pj, lo, hi, i, j = case
    if mode == "threads" and numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    assert len(i) >= 5, "subset too sparse to test anything"
    order = np.lexsort((pj, pi))
    parts = refine._split_by_pair(pi[order], pj[order], lo[order], hi[order], 2)
    assert len(parts) == 2, "the job must take the two-process path"
    prev = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = refine.refine(shell.satrecs, pi, pj, lo, hi, jd0, fr0, window_s, THRESHOLD_KM)
        numba.set_num_threads(2)
        if mode == "processes":
            monkeypatch.setattr(refine, "USE_NUMBA_SGP4", False)
        with LocalExecutor(SatrecContext(shell.satrecs), 2) as ex:
            assert ex.forked
            assert refine.local_threads(ex) == (2 if mode == "threads" else 0)
            two = refine.refine(ex, pi, pj, lo, hi, jd0, fr0, window_s, THRESHOLD_KM)
            assert len(ex.children()) == (2 if mode == "processes" else 0)
    finally:
        numba.set_num_threads(prev)
    assert set(one) == set(two)
    for k in one:
        assert np.array_equal(one[k], two[k]), k
    # Every conjunction the screen reported is found again inside its window.
    found = set(zip(one["i"].tolist(), one["j"].tolist(), strict=True))
    assert set(zip(i.tolist(), j.tolist(), strict=True)) <= found
