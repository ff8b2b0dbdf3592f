"""The kernel stages added for the screening core v3 (issue 18), each against a plain
version: float32 boxes against the float64 boxes of ``make_boxes``, entries carrying the
prefilter against numpy, the prefiltered pair stage against brute force.

Runs with the JIT off too (as tests/test_kernels.py):
    NUMBA_DISABLE_JIT=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_kernels_v3.py
"""

from __future__ import annotations

import numpy as np
import pytest

from ssa.screening import kernels

CELL_KM = 170.0
# float32 keeps 24 bits: the widened bound may lie this far (relative) outside the exact
# one, and no further (the box must stay tight, not only conservative).
MAX_WIDEN_REL = 2.0**-20


def _inputs(n=400, seed=5):
    rng = np.random.default_rng(seed)
    scale = rng.choice([1.0, 7000.0, 42164.0, 4.0e5], (1, n))  # origin .. far HEO
    pa = rng.uniform(-1.0, 1.0, (3, n)) * scale
    pb = pa + rng.normal(0, 80, (3, n))
    pa[:, 0] = 0.0  # exact zeros and cell boundaries
    pb[:, 0] = 0.0
    pa[:, 1] = CELL_KM * 3
    pb[:, 1] = -CELL_KM * 2
    pb[:, 7] = pa[:, 7] + 1e6  # absurd jump: more than MAX_CELLS_PER_BOX cells
    pa[1, 9] = np.nan
    pad = rng.uniform(0.0, 20, n)
    pad[0] = 0.0
    until = np.where(rng.random(n) < 0.1, 10.0, np.inf)
    until[[7, 9]] = np.inf
    primary = rng.random(n) < 0.3
    return pa, pb, pad, until, primary


def _run(fn, box_dtype, args):
    pa, pb, pad, until, primary = args
    n = pad.size
    box = np.empty((n, 8), box_dtype)
    seg = np.empty((n, 8))
    cel = np.empty((n, 8), np.int32)
    act = np.zeros(n, bool)
    counts = fn(pa, pb, pad, until, primary, 20.0, 1.0 / CELL_KM, box, seg, cel, act)
    return counts, box, seg, cel, act


def test_make_boxes32_encloses_the_float64_boxes():
    args = _inputs()
    (n_ent, n_prim, n_skip), box, seg, cel, act = _run(kernels.make_boxes32, np.float32, args)
    _, box64, seg64, _, act64 = _run(kernels.make_boxes, np.float64, args)
    lo32 = box[:, :3].astype(np.float64)
    hi32 = box[:, 3:6].astype(np.float64)
    # Conservative: never smaller than the exact box; tight: within float32 rounding.
    assert (lo32 <= box64[:, :3]).all() and (hi32 >= box64[:, 3:6]).all()
    slack = MAX_WIDEN_REL * np.abs(box64[:, :6]) + 1e-25
    assert (box64[:, :3] - lo32 <= slack[:, :3]).all()
    assert (hi32 - box64[:, 3:6] <= slack[:, 3:]).all()
    np.testing.assert_array_equal(seg[:, :6], seg64[:, :6])

    # Cells: those of the float32 box, as the pair stage computes its low corners.
    def cell(x):
        return np.clip(
            np.floor(x / CELL_KM).astype(np.int64) + kernels._CELL_OFFSET, 0, kernels._CELL_MAX
        )

    np.testing.assert_array_equal(cel[:, :6], np.hstack([cell(lo32), cell(hi32)]))
    cells = np.prod(cell(hi32) - cell(lo32) + 1, axis=1)
    np.testing.assert_array_equal(act, act64)
    assert not act[7] and not act[9] and n_skip == 2
    assert n_ent == cells[act].sum()
    assert n_prim == cells[act & args[4]].sum()


def _entries_x(pa, pb, pad, cell_km):
    n = pad.size
    args = (pa, pb, pad, np.full(n, np.inf), np.zeros(n, bool))
    box = np.empty((n, 8), np.float32)
    seg = np.empty((n, 8))
    cel = np.empty((n, 8), np.int32)
    act = np.zeros(n, bool)
    n_ent, _, _ = kernels.make_boxes32(*args, 20.0, 1.0 / cell_km, box, seg, cel, act)
    ent = np.empty(n_ent + 8, np.uint64)
    ne = kernels.cell_entries_x(cel, act, box, 1.0 / cell_km, ent)
    return ent, ne, n_ent, box, seg, cel, act


def test_cell_entries_x_vs_numpy():
    """The entries of cell_entries plus the quantised x, y box extents in each cell."""
    rng = np.random.default_rng(7)
    n, cell_km = 300, 170.0
    pa = rng.uniform(-8000, 8000, (3, n))
    pb = pa + rng.normal(0, 120, (3, n))
    pad = rng.uniform(1, 30, n)
    ent, ne, n_ent, box, _, cel, act = _entries_x(pa, pb, pad, cell_km)
    assert ne == n_ent > n
    # Both ways of writing entries are exercised: boxes spanning at most 2 cells per
    # axis (the branch-free path) and wider ones (the plain loops).
    span = (cel[:, 3:6] - cel[:, :3]).max(1)[act]
    assert (span <= 1).sum() > n // 2 and (span >= 2).sum() > 5
    obj_hash = ent[:ne] & ~(
        (np.uint64(0x3FF) << np.uint64(22)) | (np.uint64(0x3FF) << np.uint64(54))
    )
    plain = np.empty(n_ent, np.uint64)
    marks = np.zeros(1 << (2 * kernels._RADIX_BITS - 6), np.uint64)
    kernels.cell_entries(cel, act, np.zeros(n, bool), False, marks, plain)
    np.testing.assert_array_equal(obj_hash, plain)
    # Per entry: which object and cell (same order as the plain loops), then the fields.
    rows = []
    for i in np.flatnonzero(act):
        for cx in range(cel[i, 0], cel[i, 3] + 1):
            for cy in range(cel[i, 1], cel[i, 4] + 1):
                for _cz in range(cel[i, 2], cel[i, 5] + 1):
                    rows.append((i, cx, cy))
    i, cx, cy = np.array(rows).T
    b = box[:, :6].astype(np.float64)  # columns 6-7 are padding (never written)

    def q(x, c):
        raw = np.floor(x * (32.0 / cell_km)) - (c - kernels._CELL_OFFSET) * 32
        return np.clip(raw, 0, 31).astype(np.uint64)

    e = ent[:ne]
    m5 = np.uint64(31)
    np.testing.assert_array_equal((e >> np.uint64(22)) & m5, q(b[i, 0], cx))
    np.testing.assert_array_equal((e >> np.uint64(27)) & m5, q(b[i, 3], cx))
    np.testing.assert_array_equal((e >> np.uint64(54)) & m5, q(b[i, 1], cy))
    np.testing.assert_array_equal((e >> np.uint64(59)) & m5, q(b[i, 4], cy))


@pytest.mark.parametrize("cell_km", [60.0, 170.0, 900.0])
def test_prefiltered_pairs_vs_brute_force(cell_km):
    """With the prefilter in the entries, the pair stage still flags every pair whose
    float32 boxes overlap and whose chords pass, exactly once."""
    rng = np.random.default_rng(8)
    n = 500
    pa = rng.uniform(-900, 900, (3, n))
    pb = pa + rng.normal(0, 150, (3, n))
    tol = rng.uniform(0.01, 3.0, n)
    threshold_km = 30.0
    pad = tol + rng.uniform(0.0, 60.0, n)
    ent, ne, _, box, seg, _, _ = _entries_x(pa, pb, pad, cell_km)
    kernels.radix_sort(ent, np.empty(ne, np.uint64), ne, np.empty((2, kernels._RADIX), np.int32))
    cap = n * n
    out = np.empty((3, cap), np.int32)
    work = np.empty(ne + 2 * kernels._PAIR_BATCH, np.int32)
    nout = kernels.flag_pairs(
        ent, ne, box, seg, tol, np.zeros(n, bool), False, threshold_km, 1.0 / cell_km, 3,
        out[0], out[1], out[2], cap, 0, work,
    )  # fmt: skip
    got = sorted((int(a), int(b)) for a, b in out[:2, :nout].T)
    lo, hi = box[:, :3], box[:, 3:6]
    ok = ((lo[:, None, :] <= hi[None, :, :]) & (lo[None, :, :] <= hi[:, None, :])).all(2)
    ci, cj = np.nonzero(np.triu(ok, 1))
    if cell_km > 500.0:  # the pair stage's batches fill (and are tested) several times
        h = (ent[:ne] >> np.uint64(32)) & kernels._HASH_MASK
        e1, e2 = np.nonzero(np.triu(h[:, None] == h[None, :], 1))
        v1, v2 = ent[e1], ent[e2]

        def f(v, shift):
            return (v >> np.uint64(shift)) & np.uint64(31)

        passed = (f(v2, 22) <= f(v1, 27)) & (f(v1, 22) <= f(v2, 27))
        passed &= (f(v2, 54) <= f(v1, 59)) & (f(v1, 54) <= f(v2, 59))
        assert passed.sum() > 3 * kernels._PAIR_BATCH
    a = seg[cj, :3] - seg[ci, :3]
    d = seg[cj, 3:6] - seg[ci, 3:6] - a
    qq = (d * d).sum(1)
    s = np.clip(-(a * d).sum(1) / np.where(qq > 0, qq, 1.0), 0.0, 1.0)
    miss = np.linalg.norm(a + s[:, None] * d, axis=1)
    keep = miss <= threshold_km + tol[ci] + tol[cj]
    want = sorted(zip(ci[keep].tolist(), cj[keep].tolist(), strict=True))
    assert 20 < len(want) < ci.size, (len(want), ci.size)
    assert got == want
