"""The streamed table's pipeline (``screen(table_csv=...)``: table and START/STOP, then
``on_chunk`` (the CLI's risk columns), then the CSV, each on its own thread): chunks
reach ``on_chunk`` and the file whole and in table order, and an error in a later stage
stops the run with that error.

Real data: the dense 520-580 km shell of the 2024-07-05 catalogue (every 8th object).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ssa.catalog import Catalog
from ssa.screening import screen

CATALOG = "catalog-2024-07-05.3le"
SHELL_KM = (520.0, 580.0)
EVERY = 8
DAYS = 0.5
THRESHOLD_KM = 10.0
CHUNK_ROWS = 29  # many chunks, more than the pipeline holds at once


@pytest.fixture(scope="module")
def shell(shared_file):
    full = Catalog.load(shared_file(CATALOG))
    idx = np.flatnonzero((full.perigee_km > SHELL_KM[0]) & (full.apogee_km < SHELL_KM[1]))
    return full.subset(idx[::EVERY])


def test_chunks_reach_on_chunk_and_the_file_in_table_order(shell, tmp_path):
    seen = []

    def on_chunk(rows):
        seen.append((rows["TCA_JD"] + rows["TCA_FR"]).copy())
        rows["PC"] = np.full(len(rows["TCA_JD"]), float(len(seen)))  # as the CLI's risk

    res = screen(
        shell,
        days=DAYS,
        threshold_km=THRESHOLD_KM,
        table_csv=tmp_path / "c.csv",
        chunk_rows=CHUNK_ROWS,
        on_chunk=on_chunk,
    )
    n = res.run["counts"]["conjunctions"]
    assert len(seen) == -(-n // CHUNK_ROWS) >= 5
    tca = np.concatenate(seen)
    assert tca.size == n and np.all(np.diff(tca) >= 0)  # chunk after chunk, in TCA order
    with open(tmp_path / "c.csv", newline="") as fh:
        pc = [float(r["PC"]) for r in csv.DictReader(fh)]
    # Every row written after its chunk's on_chunk, chunks in order.
    assert pc == [float(1 + k // CHUNK_ROWS) for k in range(n)]


def test_an_error_in_on_chunk_stops_the_run(shell, tmp_path):
    calls = []

    def on_chunk(rows):
        calls.append(len(calls))
        if len(calls) == 2:
            raise ValueError("risk failed on chunk 2")

    with pytest.raises(ValueError, match="risk failed on chunk 2"):
        screen(
            shell,
            days=DAYS,
            threshold_km=THRESHOLD_KM,
            table_csv=tmp_path / "c.csv",
            chunk_rows=CHUNK_ROWS,
            on_chunk=on_chunk,
        )
    assert calls[:2] == [0, 1]


@pytest.mark.parametrize("big_ids", [False, True])
def test_windows_merge_triples_as_a_plain_loop_does(big_ids):
    """api._windows (one sorted int64 key per triple; lexsort when the key would not fit
    in int64) against a plain reference: per pair, runs of consecutive intervals."""
    from ssa.screening import api

    rng = np.random.default_rng(5)
    n = 3000
    base = 2**31 if big_ids else 0  # ids this large take the lexsort path
    a = base + rng.integers(0, 40, (2, n))
    k = rng.integers(0, 60, n)
    tri = np.stack([np.minimum(*a), np.maximum(*a), k])
    tri = np.concatenate([tri, tri[:, :500]], axis=1)  # duplicates, as slices may give
    step_s = 20.0
    want = []
    for i, j, kk in sorted(set(map(tuple, tri.T.tolist()))):
        if want and want[-1][:2] == [i, j] and want[-1][3] == kk:
            want[-1][3] = kk + 1
        else:
            want.append([i, j, kk, kk + 1])
    wi, wj, lo, hi = api._windows(tri, step_s)
    got = [
        [int(x), int(y), round(p / step_s), round(q / step_s)]
        for x, y, p, q in zip(wi, wj, lo, hi, strict=True)
    ]
    assert got == want
    assert len(want) > 1000


def test_on_threads_jobs_covers_every_row_of_every_job_once():
    """parallel.on_threads_jobs (the plan's groups on one pool of threads) against a
    plain loop: each row of each job is computed exactly once, whatever the blocks."""
    import numba

    from ssa.parallel import on_threads_jobs

    def kernel(lo, hi, out, scale):
        out[lo:hi] += scale * np.arange(lo, hi) + 1.0

    sizes = [0, 1, 7, 1000, 33, 5]
    outs = [np.zeros(n) for n in sizes]
    prev = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    try:
        on_threads_jobs(
            kernel,
            [
                (n, (out, k + 1.0), 1 + 10 * k)
                for k, (n, out) in enumerate(zip(sizes, outs, strict=True))
            ],
        )
    finally:
        numba.set_num_threads(prev)
    for k, (n, out) in enumerate(zip(sizes, outs, strict=True)):
        np.testing.assert_array_equal(out, (k + 1.0) * np.arange(n) + 1.0)


@pytest.mark.parametrize("cut", [False, True])
def test_start_stop_in_numba_equals_the_numpy_search(shell, monkeypatch, cut):
    """crossings._search_kernel (both searches of each row in numba) against the numpy
    searches (crossings.threshold_crossings with SEARCH_IN_NUMBA off), bit for bit, on
    the shell's real conjunctions; cut: the window ends 10 ms after the slowest
    encounter's TCA, so that one is clipped at the edge."""
    from ssa.screening import crossings

    res = screen(shell, days=DAYS, threshold_km=THRESHOLD_KM)
    rows = res.rows
    index = {int(x): k for k, x in enumerate(shell.norad_id)}
    si = np.array([index[int(x)] for x in rows["NORAD_CAT_ID_1"]])
    sj = np.array([index[int(x)] for x in rows["NORAD_CAT_ID_2"]])
    jd0, fr0 = float(rows["TCA_JD"][0]), float(rows["TCA_FR"][0]) - 0.01
    tca_s = ((rows["TCA_JD"] - jd0) + (rows["TCA_FR"] - fr0)) * 86400.0
    dr = np.stack([rows[f"{a}2_KM"] - rows[f"{a}1_KM"] for a in "XYZ"], axis=1)
    dv = np.stack([rows[f"V{a}2_KMS"] - rows[f"V{a}1_KMS"] for a in "XYZ"], axis=1)
    slow = int(np.argmin(rows["TCA_RELATIVE_SPEED"]))  # longest inside the threshold
    window_s = float(tca_s[slow]) + 0.01 if cut else DAYS * 86400.0 + 1000.0
    keep = tca_s < window_s
    args = (jd0, fr0, tca_s[keep], THRESHOLD_KM, window_s, dr[keep], dv[keep])
    fast = crossings.threshold_crossings(shell.satrecs, si[keep], sj[keep], *args)
    monkeypatch.setattr(crossings, "SEARCH_IN_NUMBA", False)
    plain = crossings.threshold_crossings(shell.satrecs, si[keep], sj[keep], *args)
    for a, b in zip(fast, plain, strict=True):
        np.testing.assert_array_equal(a, b)
    assert keep.sum() >= 5 and np.isfinite(plain[0]).sum() >= keep.sum() - 2
    assert plain[3].any() == cut  # STOP clipped at the window's end
