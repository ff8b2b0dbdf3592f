"""Screening kernel stages, each against a plain numpy/scipy version.

Also run with the JIT off, so the kernel code runs as Python (coverage, tracebacks):
    NUMBA_DISABLE_JIT=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_kernels.py
Sizes are small so that run stays quick.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.interpolate import KroghInterpolator

from ssa.screening import kernels

# With the JIT off, the hash's wrapping uint64 multiply runs on numpy scalars, which
# warn on the (intended) overflow.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

MU_KM3_S2 = 398600.8
# Polynomial evaluated two ways (Horner on the fitted coefficients vs scipy's Krogh
# divided differences) on ~7000 km values: rounding only, far below 1 mm.
EVAL_TOL_KM = 1e-6
# Closed-form chord distance vs the minimum over SAMPLES points: the sampled minimum
# overestimates by at most |relative chord| / (2 (SAMPLES - 1)); rounding on top.
SAMPLES = 20_001
ROUND_KM = 1e-9


def _circular_knots(rng, n, t_s, r_lo_km=6900.0, r_hi_km=7000.0):
    """Return positions (n, t, 3) km and velocities (n, t, 3) km/s of n circular
    orbits with random planes and phases at times t_s (s)."""
    r = rng.uniform(r_lo_km, r_hi_km, n)
    w = np.sqrt(MU_KM3_S2 / r**3)
    u = rng.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    v = np.cross(u, rng.normal(size=(n, 3)))
    v /= np.linalg.norm(v, axis=1)[:, None]
    ph = rng.uniform(0, 2 * np.pi, n)[:, None] + w[:, None] * t_s[None, :]
    c, s = np.cos(ph)[..., None], np.sin(ph)[..., None]
    pos = r[:, None, None] * (c * u[:, None, :] + s * v[:, None, :])
    vel = (r * w)[:, None, None] * (-s * u[:, None, :] + c * v[:, None, :])
    return pos, vel


def _chunk(rng, sizes, h_s, length_s, **orbit):
    """Return the kernel's class arrays and coefficients for classes of sizes[c]
    circular orbits with knot spacing h_s[c] over [0, length_s] (layout of
    propagate.build_chunk), plus per object (h, nspan, off, stride)."""
    minv = kernels.quintic_matrix()
    cls_size = np.asarray(sizes, np.int64)
    cls_h = np.asarray(h_s, float)
    cls_nspan = np.round(length_s / (2 * cls_h)).astype(np.int64)
    cls_first = np.concatenate([[0], np.cumsum(cls_size)[:-1]]).astype(np.int64)
    cls_base = np.zeros(len(sizes), np.int64)
    n = int(cls_size.sum())
    off = np.zeros(n, np.int64)
    stride = np.zeros(n, np.int64)
    knots = []
    base = 0
    for c in range(len(sizes)):
        cls_base[c] = base
        rows = np.arange(cls_first[c], cls_first[c] + cls_size[c])
        off[rows] = base + np.arange(cls_size[c])
        stride[rows] = cls_size[c]
        base += int(cls_size[c] * cls_nspan[c]) * kernels._NC
    coef = np.empty(base)
    for c in range(len(sizes)):
        t = np.arange(2 * cls_nspan[c] + 1) * cls_h[c]
        r, v = _circular_knots(rng, int(cls_size[c]), t, **orbit)
        rows = np.arange(cls_first[c], cls_first[c] + cls_size[c])
        kernels.fill_coefficients(r, v, cls_h[c], minv, coef, off[rows], stride[rows])
        knots.append((t, r, v))
    per_obj = (np.repeat(cls_h, cls_size), np.repeat(cls_nspan, cls_size), off, stride)
    return (coef, cls_first, cls_size, cls_base, cls_nspan, cls_h), per_obj, knots


def test_interpolation_vs_scipy_hermite():
    """fill_coefficients + eval_positions + eval_classes reproduce scipy's Hermite
    interpolant (Krogh, repeated nodes = derivatives) of every span's 3 knots."""
    rng = np.random.default_rng(1)
    cls, (h, nspan, off, stride), knots = _chunk(rng, [3, 2], [40.0, 160.0], 640.0)
    coef = cls[0]
    n = h.size
    t = np.linspace(0.0, 640.0, 23)
    obj = 0
    for tk, r, v in knots:
        for q in range(r.shape[0]):
            i = obj + q
            got = kernels.eval_positions(coef, off, stride, h, nspan, np.full(t.size, i), t)
            for m, tm in enumerate(t):
                s = min(int(tm // (2 * h[i])), nspan[i] - 1)
                xi = np.repeat(tk[2 * s : 2 * s + 3], 2)
                yi = np.stack([r[q, 2 * s : 2 * s + 3], v[q, 2 * s : 2 * s + 3]], axis=1)
                want = KroghInterpolator(xi, yi.reshape(6, 3))(tm)
                np.testing.assert_allclose(got[m], want, rtol=0, atol=EVAL_TOL_KM)
        obj += r.shape[0]
    # Batches of times (tiles of objects x times), written from row q0 on.
    pos = np.full((t.size + 2, 3, n), np.nan)
    kernels.eval_classes(*cls, t[:5], 5, pos, 2)
    kernels.eval_classes(*cls, t[5:], t.size - 5, pos, 7)
    assert np.isnan(pos[:2]).all()
    for q, tm in enumerate(t):
        want = kernels.eval_positions(coef, off, stride, h, nspan, np.arange(n), np.full(n, tm))
        np.testing.assert_array_equal(pos[q + 2].T, want)


def test_eval_classes_in_full_tiles_equals_the_scalar_evaluation():
    """Classes larger than a tile (kernels._EVAL_TILE) and not multiples of the vector
    width: the vectorised tile loop gives eval_positions' values bit for bit, at span
    boundaries and inside spans."""
    rng = np.random.default_rng(7)
    sizes = [kernels._EVAL_TILE + 45, 2 * kernels._EVAL_TILE + 3, 9]
    cls, (h, nspan, off, stride), _ = _chunk(rng, sizes, [20.0, 80.0, 160.0], 640.0)
    n = h.size
    t = np.concatenate([np.arange(0.0, 641.0, 40.0), [13.7, 333.3, 639.9]])
    pos = np.full((t.size, 3, n), np.nan)
    kernels.eval_classes(*cls, t, t.size, pos, 0)
    for q, tm in enumerate(t):
        want = kernels.eval_positions(cls[0], off, stride, h, nspan, np.arange(n), np.full(n, tm))
        np.testing.assert_array_equal(pos[q].T, want)


def _boxes(pa, pb, pad_km, until_s, primary, t_end_s, cell_km):
    n = pad_km.size
    box = np.empty((n, 8))
    seg = np.empty((n, 8))
    cel = np.empty((n, 8), np.int32)
    act = np.zeros(n, bool)
    counts = kernels.make_boxes(
        pa, pb, pad_km, until_s, primary, t_end_s, 1.0 / cell_km, box, seg, cel, act
    )
    return counts, box, seg, cel, act


def test_make_boxes_vs_numpy():
    rng = np.random.default_rng(2)
    n, cell_km = 300, 170.0
    pa = rng.uniform(-8000, 8000, (3, n))
    pb = pa + rng.normal(0, 80, (3, n))
    pb[:, 7] = pa[:, 7] + 1e6  # absurd jump: more than MAX_CELLS_PER_BOX cells
    pa[1, 9] = np.nan
    pad = rng.uniform(3, 20, n)
    until = np.where(rng.random(n) < 0.1, 10.0, np.inf)  # 10 % no longer active
    until[[7, 9]] = np.inf
    primary = rng.random(n) < 0.3
    (n_ent, n_prim, n_skip), box, seg, cel, act = _boxes(pa, pb, pad, until, primary, 20.0, cell_km)
    a, b = pa.T.copy(), pb.T.copy()
    bad = ~(np.isfinite(a) & np.isfinite(b))  # per axis: that axis taken as 0
    a[bad] = 0.0
    b[bad] = 0.0
    finite = ~bad.any(axis=1)
    lo = np.minimum(a, b) - pad[:, None]
    hi = np.maximum(a, b) + pad[:, None]
    np.testing.assert_array_equal(box[:, :6], np.hstack([lo, hi]))
    np.testing.assert_array_equal(seg[:, :6], np.hstack([a, b]))

    def cell(x):
        return np.clip(
            np.floor(x / cell_km).astype(np.int64) + kernels._CELL_OFFSET, 0, kernels._CELL_MAX
        )

    np.testing.assert_array_equal(cel[:, :6], np.hstack([cell(lo), cell(hi)]))
    cells = np.prod(cell(hi) - cell(lo) + 1, axis=1)
    want_act = (until >= 20.0) & finite & (cells <= kernels.MAX_CELLS_PER_BOX)
    assert not want_act[7] and not want_act[9]
    np.testing.assert_array_equal(act, want_act)
    assert n_skip == 2
    assert n_ent == cells[want_act].sum()
    assert n_prim == cells[want_act & primary].sum()


def _sorted_entries(cel, act, primary, sparse):
    n = act.size
    ecap = 8 * n + 16
    while True:
        ent = np.empty(ecap, np.uint64)
        marks = np.zeros(1 << (2 * kernels._RADIX_BITS - 6), np.uint64)
        need = int(np.prod(cel[:, 3:6].astype(np.int64) - cel[:, :3] + 1, axis=1)[act].sum())
        if need <= ecap:
            break
        ecap = need
    ne = kernels.cell_entries(cel, act, primary, sparse, marks, ent)
    assert not marks.any(), "the primaries' bitmap must be left clear"
    kernels.radix_sort(ent, np.empty(ecap, np.uint64), ne, np.empty((2, kernels._RADIX), np.int32))
    return ent, ne


def test_cell_entries_vs_numpy():
    rng = np.random.default_rng(3)
    n = 200
    pa = rng.uniform(-3000, 3000, (3, n))
    pb = pa + rng.normal(0, 150, (3, n))
    primary = np.zeros(n, bool)
    _, _, _, cel, act = _boxes(pa, pb, np.full(n, 10.0), np.full(n, np.inf), primary, 20.0, 170.0)
    ent = np.empty(8 * n * 4, np.uint64)
    marks = np.zeros(1 << (2 * kernels._RADIX_BITS - 6), np.uint64)
    ne = kernels.cell_entries(cel, act, primary, False, marks, ent)
    want = []
    for i in range(n):
        for cx in range(cel[i, 0], cel[i, 3] + 1):
            for cy in range(cel[i, 1], cel[i, 4] + 1):
                for cz in range(cel[i, 2], cel[i, 5] + 1):
                    key = (cx << 42) | (cy << 21) | cz
                    h = (key * 0x9E3779B97F4A7C15) % 2**64 >> 42  # Fibonacci hashing
                    want.append((h << 32) | i)
    want = np.array(want, np.uint64)
    np.testing.assert_array_equal(ent[:ne], want)


def test_radix_sort_vs_argsort():
    rng = np.random.default_rng(4)
    ne = 5000
    # Few distinct hashes (long runs) and ascending objects, as cell_entries makes them.
    hashes = rng.choice(rng.integers(0, 1 << 22, 300), ne).astype(np.uint64)
    ent = (hashes << np.uint64(32)) | np.arange(ne, dtype=np.uint64)
    ent = np.concatenate([ent, np.full(7, np.uint64(12345))])  # beyond ne: untouched
    want = ent[:ne][np.argsort(hashes, kind="stable")]
    hist = np.full((2, kernels._RADIX), 99, np.int32)  # scratch: any content
    kernels.radix_sort(ent, np.empty(ne, np.uint64), ne, hist)
    np.testing.assert_array_equal(ent[:ne], want)
    assert (ent[ne:] == 12345).all()


def _flag(pa, pb, pad, tol, primary, threshold_km, cell_km, sparse=False, k=5):
    n = pad.size
    _, box, seg, cel, act = _boxes(pa, pb, pad, np.full(n, np.inf), primary, 20.0, cell_km)
    ent, ne = _sorted_entries(cel, act, primary, sparse)
    cap = n * n
    out = np.empty((3, cap), np.int32)
    nout = kernels.flag_pairs(
        ent,
        ne,
        box,
        seg,
        tol,
        primary,
        bool(primary.any()),
        threshold_km,
        1.0 / cell_km,
        k,
        out[0],
        out[1],
        out[2],
        cap,
        0,
        np.empty(ne + 2 * kernels._PAIR_BATCH, np.int32),
    )
    assert nout <= cap
    assert (out[2, :nout] == k).all()
    return [(int(i), int(j)) for i, j in out[:2, :nout].T], box, seg


def _brute_overlaps(box):
    lo, hi = box[:, :3], box[:, 3:6]
    ok = ((lo[:, None, :] <= hi[None, :, :]) & (lo[None, :, :] <= hi[:, None, :])).all(2)
    i, j = np.nonzero(np.triu(ok, 1))
    return set(zip(i.tolist(), j.tolist(), strict=True))


def _brute_chord_km(seg, i, j):
    a = seg[j, :3] - seg[i, :3]
    d = seg[j, 3:6] - seg[i, 3:6] - a
    qq = (d * d).sum(1)
    s = np.clip(-(a * d).sum(1) / np.where(qq > 0, qq, 1.0), 0.0, 1.0)
    return np.linalg.norm(a + s[:, None] * d, axis=1)


@pytest.mark.parametrize("cell_km", [60.0, 170.0, 900.0])
def test_grid_candidates_vs_brute_force(cell_km):
    """Every overlapping pair of random boxes is flagged exactly once (chord test
    disabled by a huge tolerance), for cells smaller and larger than the boxes."""
    rng = np.random.default_rng(5)
    n = 400
    pa = rng.uniform(-800, 800, (3, n))
    pb = pa + rng.normal(0, 100, (3, n))
    pad = rng.uniform(2, 40, n)
    pairs, box, _ = _flag(pa, pb, pad, np.full(n, 1e6), np.zeros(n, bool), 5.0, cell_km)
    want = _brute_overlaps(box)
    assert len(want) > 100
    assert sorted(pairs) == sorted(want)


def test_flagged_pairs_vs_brute_force_with_chords_and_primaries():
    rng = np.random.default_rng(6)
    n = 400
    pa = rng.uniform(-800, 800, (3, n))
    pb = pa + rng.normal(0, 150, (3, n))
    tol = rng.uniform(0.01, 3.0, n)
    threshold_km = 30.0
    pad = tol + 40.0  # generous boxes so the chord test decides
    none = np.zeros(n, bool)
    pairs, box, seg = _flag(pa, pb, pad, tol, none, threshold_km, 170.0)
    cand = np.array(sorted(_brute_overlaps(box)))
    miss = _brute_chord_km(seg, cand[:, 0], cand[:, 1])
    keep = miss <= threshold_km + tol[cand[:, 0]] + tol[cand[:, 1]]
    want = {tuple(p) for p in cand[keep].tolist()}
    assert 10 < len(want) < len(cand), (len(want), len(cand))
    assert sorted(pairs) == sorted(want)
    primary = np.zeros(n, bool)
    primary[rng.choice(n, 40, replace=False)] = True
    with_primary = {p for p in want if primary[p[0]] or primary[p[1]]}
    assert with_primary
    for sparse in (False, True):  # sparse: others entered only in primaries' cells
        got, _, _ = _flag(pa, pb, pad, tol, primary, threshold_km, 170.0, sparse=sparse)
        assert sorted(got) == sorted(with_primary)


def test_chord_miss_vs_dense_sampling():
    rng = np.random.default_rng(7)
    s = np.linspace(0.0, 1.0, SAMPLES)
    seg = np.zeros((2, 8))
    for case in range(200):
        seg[0, :6] = rng.uniform(-50, 50, 6)
        if case % 4 == 0:  # parallel motion: relative chord of length zero
            seg[1, :3] = seg[0, :3] + rng.uniform(-5, 5, 3)
            seg[1, 3:6] = seg[1, :3] + (seg[0, 3:6] - seg[0, :3])
        else:
            seg[1, :6] = rng.uniform(-50, 50, 6)
        a = seg[1, :3] - seg[0, :3]
        d = seg[1, 3:6] - seg[0, 3:6] - a
        sampled = np.linalg.norm(a[None, :] + s[:, None] * d[None, :], axis=1).min()
        got = math.sqrt(kernels.chord_miss2_km2(seg, 0, 1))
        assert got <= sampled + ROUND_KM
        assert sampled - got <= np.linalg.norm(d) / (2 * (SAMPLES - 1)) + ROUND_KM


def _plain_screen(cls, per_obj, until, pad, tol, primary, step_s, threshold_km, n_steps):
    """All pairs, every interval, in numpy: boxes overlap and chords within limits."""
    coef = cls[0]
    h, nspan, off, stride = per_obj
    n = pad.size
    idx = np.arange(n)
    out = set()
    pos = [
        kernels.eval_positions(coef, off, stride, h, nspan, idx, np.full(n, k * step_s))
        for k in range(n_steps + 1)
    ]
    for k in range(n_steps):
        a, b = pos[k], pos[k + 1]
        seg = np.hstack([a, b, np.zeros((n, 2))])
        box = np.hstack([np.minimum(a, b) - pad[:, None], np.maximum(a, b) + pad[:, None]])
        cand = np.array(sorted(_brute_overlaps(box)), np.int64).reshape(-1, 2)
        i, j = cand[:, 0], cand[:, 1]
        ok = (until[i] >= (k + 1) * step_s) & (until[j] >= (k + 1) * step_s)
        if primary.any():
            ok &= primary[i] | primary[j]
        ok &= _brute_chord_km(seg, i, j) <= threshold_km + tol[i] + tol[j]
        out |= {(int(p), int(q), k) for p, q in zip(i[ok], j[ok], strict=True)}
    return out


def _kernel_screen(cls, until, pad, tol, primary, step_s, threshold_km, n_steps, n_blocks):
    oi, oj, ok, counts, skipped = kernels.screen_chunk(
        *cls,
        until,
        pad,
        tol,
        primary,
        step_s,
        threshold_km,
        8.0 * step_s + 2 * pad.max(),
        n_steps,
        n_blocks,
        4096,
    )
    assert counts.max() <= 4096 and skipped == 0
    got = [
        (int(oi[b, m]), int(oj[b, m]), int(ok[b, m]))
        for b in range(n_blocks)
        for m in range(counts[b])
    ]
    return got


def test_screen_chunk_vs_plain_screen():
    """The whole kernel (stages chained over intervals and blocks) flags exactly the
    (pair, interval) triples of a plain all-pairs numpy screen, for any block count."""
    rng = np.random.default_rng(8)
    step_s, n_steps = 20.0, 24
    # A thin shell, so orbits cross often; three knot classes.
    cls, per_obj, _ = _chunk(
        rng, [60, 50, 40], [80.0, 160.0, 320.0], 640.0, r_lo_km=6990.0, r_hi_km=7000.0
    )
    n = per_obj[0].size
    tol = rng.uniform(0.01, 2.0, n)
    threshold_km = 20.0
    accel = 1.25 * MU_KM3_S2 / 6990.0**2
    pad = accel * step_s**2 / 8 + tol + threshold_km / 2
    until = np.full(n, np.inf)
    until[:5] = 200.0  # five objects leave after interval 9
    none = np.zeros(n, bool)
    want = _plain_screen(cls, per_obj, until, pad, tol, none, step_s, threshold_km, n_steps)
    assert len(want) >= 5
    for n_blocks in (1, 3):
        got = _kernel_screen(cls, until, pad, tol, none, step_s, threshold_km, n_steps, n_blocks)
        assert len(got) == len(set(got))
        assert set(got) == want
    primary = np.zeros(n, bool)
    primary[sorted({p for t in want for p in t[:2]})[::2]] = True
    got = _kernel_screen(cls, until, pad, tol, primary, step_s, threshold_km, n_steps, 2)
    assert set(got) == {t for t in want if primary[t[0]] or primary[t[1]]}
