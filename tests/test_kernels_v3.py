"""The kernel stages added for the screening core v3 (issue 18), each against a plain
version: float32 boxes against the float64 boxes of ``make_boxes``.

Runs with the JIT off too (as tests/test_kernels.py):
    NUMBA_DISABLE_JIT=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_kernels_v3.py
"""

from __future__ import annotations

import numpy as np

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
