"""The multi-step grid stages (``make_boxes_m``, ``cell_entries_m``, ``flag_pairs_m``
via ``screen_chunk(sub_steps > 1)``), each against a plain numpy/Python version, and the
whole pipeline against a brute-force all-pairs chord screen: the flagged (pair,
interval) triples must be exactly those of the single-step kernel (sub_steps 1, band
0), for any sub_steps, cell size, band width, block count, with or without primaries.
Plus the same on a real catalogue via ``api.screen``.

Runs with the JIT off too (as tests/test_kernels.py; the real-catalogue test skips):
    NUMBA_DISABLE_JIT=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_kernels_multi.py
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from ssa.screening import kernels
from tests.test_kernels import MU_KM3_S2, _brute_chord_km, _chunk, _circular_knots
from tests.test_kernels_v3 import MAX_WIDEN_REL

# With the JIT off, the hash's wrapping uint64 multiply runs on numpy scalars, which
# warn on the (intended) overflow.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

# float32 bounds of km-scale values: absolute slack for values at (or rounding to) 0.
TINY_KM = 1e-25
# Points sampled along each padded sub-chord for the radius range (the range is checked
# at each sample, so no discretisation slack is needed: every sample must lie inside).
SEG_SAMPLES = 101
# Random directions of the points at distance pad from each sample (plus +-radial).
PAD_DIRECTIONS = 6
# Norm of a sampled point vs the float32 radius bounds: float64 rounding of ~7000 km
# values (the bound is exact for the exact segment; the samples carry rounding).
NORM_ROUND_KM = 1e-8
# Sampled minimum radius vs the lower bound: the bound is exact for a chord of a circle
# (midpoint at sqrt(r^2 - L^2/4)), else below the truth by at most the chord sag L^2/(4 r)
# (km); this covers the sampling (samples 1 % of the chord apart) and rounding, on top
# of the float32 widening.
SAG_SLACK_KM = 1e-3
Q = 1 << kernels._Q_BITS  # prefilter quanta per cell / band
M64 = 1 << 64


def _cell(x, inv_cell):
    """Grid cell of x (km) as the kernel's _cell: floor(x * inv) + offset, clamped."""
    c = np.floor(np.asarray(x, np.float64) * inv_cell).astype(np.int64) + kernels._CELL_OFFSET
    return np.clip(c, 0, kernels._CELL_MAX)


def _band(x, inv_band):
    return np.clip(np.floor(np.asarray(x, np.float64) * inv_band).astype(np.int64), 0, None)


def _hash4(cx, cy, cz, cb):
    """The 22-bit hash of a (cell, band), in Python integers."""
    key = (cx << 42) | (cy << 21) | cz
    prod = (key * int(kernels._HASH_MULT) + cb * int(kernels._HASH_MULT_R)) % M64
    return prod >> 42


def _boxes_m(pos, q0, msub, pad, until, t_end_s, step_s, cell_km, band_km):
    n = pad.size
    box = np.empty((n, 8), np.float32)
    seg = np.full((n, kernels._SEG_COLS), -1.0)
    cel = np.empty((n, 8), np.int32)
    nact = np.full(n, -1, np.int64)
    counts = kernels.make_boxes_m(
        pos, q0, msub, pad, until, t_end_s, step_s, 1.0 / cell_km, 1.0 / band_km,
        box, seg, cel, nact,
    )  # fmt: skip
    return counts, box, seg, cel, nact


def _leo_points(rng, n, n_points, step_s, **orbit):
    """Positions (n_points, 3, n) km of n circular orbits every step_s seconds."""
    r, _ = _circular_knots(rng, n, np.arange(n_points) * step_s, **orbit)
    return np.ascontiguousarray(r.transpose(1, 2, 0))


@pytest.mark.parametrize("msub", [1, 2, 3, 4])
def test_make_boxes_m_vs_numpy(msub):
    rng = np.random.default_rng(10 + msub)
    n, q0, step_s, cell_km, band_km = 300, 2, 60.0, 400.0, 30.0
    k = 5
    t_end_s = (k + 1) * step_s  # end of the first sub-interval
    pos = _leo_points(rng, n, q0 + msub + 2, step_s, r_lo_km=6600.0, r_hi_km=8000.0)
    pad = rng.uniform(0.5, 30.0, n)
    # ~30 % stop part-way: active through sub-interval q - 1 (until on the boundary
    # counts as active), or from the start never.
    until = np.full(n, np.inf)
    part = rng.random(n) < 0.3
    q_stop = rng.integers(0, msub + 1, n)
    until[part] = t_end_s + (q_stop[part] - 1) * step_s + rng.choice([0.0, 7.0], part.sum())
    until[:5] = np.inf
    pos[q0 + 1, 1, 0] = np.nan  # a used point not finite: nact 0, counted as skipped
    pos[q0, 2, 3] = np.inf  # the first point not finite
    pos[q0 + 1, 0, 2] += 1e6  # absurd jump: more than MAX_CELLS_PER_BOX cells
    pos[q0 + msub, 0, 1] = np.nan  # not finite, but after the object stops: ignored
    until[1] = t_end_s + (msub - 2) * step_s
    pos[q0 + msub + 1] = np.nan  # beyond the multi-step interval: never read
    (n_ent, n_skip), box, seg, cel, nact = _boxes_m(
        pos, q0, msub, pad, until, t_end_s, step_s, cell_km, band_km
    )
    inv_cell, inv_band = 1.0 / cell_km, 1.0 / band_km
    pts = pos[q0 : q0 + msub + 1].transpose(2, 0, 1)  # (n, msub + 1, 3)
    np.testing.assert_array_equal(seg[:, : 3 * (msub + 1)], pts.reshape(n, -1))
    t_end_q = t_end_s + np.arange(msub) * step_s
    na = (t_end_q[None, :] <= until[:, None]).sum(1)
    used = np.arange(msub + 1)[None, :] <= na[:, None]  # points 0..na
    finite = (np.isfinite(pts).all(2) | ~used).all(1)
    assert not finite[0] and not finite[3] and finite[2]
    assert finite[1] and na[1] == max(msub - 1, 0)
    # Cells and bands: floor of the float32 box times the inverse sizes.
    b64 = box.astype(np.float64)
    np.testing.assert_array_equal(cel[:, :3], _cell(b64[:, :3], inv_cell))
    np.testing.assert_array_equal(cel[:, 3:6], _cell(b64[:, 3:6], inv_cell))
    np.testing.assert_array_equal(cel[:, 6], _band(b64[:, 6], inv_band))
    np.testing.assert_array_equal(cel[:, 7], _band(b64[:, 7], inv_band))
    cells = np.prod(cel[:, 3:6].astype(np.int64) - cel[:, :3] + 1, 1) * (cel[:, 7] - cel[:, 6] + 1)
    ok = finite & (cells <= kernels.MAX_CELLS_PER_BOX)
    assert not ok[0] and not ok[2] and not ok[3] and ok[1]
    np.testing.assert_array_equal(nact, np.where(ok, na, 0))
    assert n_skip == na[~ok].sum() > 0
    assert n_ent == cells[nact > 0].sum()
    assert 0 < (nact == 0).sum() and (nact == msub).sum() > n // 2
    if msub > 1:
        assert ((nact > 0) & (nact < msub)).sum() > 5
    # Boxes of the used points (finite ones), padded: float32 never smaller than the
    # float64 box, and within float32 rounding of it.
    for i in np.flatnonzero(finite):
        p = pts[i, : na[i] + 1]
        lo = p.min(0) - pad[i]
        hi = p.max(0) + pad[i]
        assert (b64[i, :3] <= lo).all() and (b64[i, 3:6] >= hi).all(), i
        assert (lo - b64[i, :3] <= MAX_WIDEN_REL * np.abs(lo) + TINY_KM).all(), i
        assert (b64[i, 3:6] - hi <= MAX_WIDEN_REL * np.abs(hi) + TINY_KM).all(), i
        # Radius range: the documented bound, float32 outwards...
        a, b = p[:-1], p[1:]
        r2 = (p * p).sum(1)
        r2lo = np.min(np.minimum(r2[:-1], r2[1:]) - 0.25 * ((b - a) ** 2).sum(1), initial=r2[0])
        rlo = np.sqrt(max(r2lo, 0.0)) - pad[i]
        rhi = np.sqrt(r2.max()) + pad[i]
        assert b64[i, 6] <= rlo and rlo - b64[i, 6] <= MAX_WIDEN_REL * abs(rlo) + TINY_KM, i
        assert b64[i, 7] >= rhi and b64[i, 7] - rhi <= MAX_WIDEN_REL * abs(rhi) + TINY_KM, i
        # ...which encloses every point within pad of each used sub-chord (sampled).
        s = np.linspace(0.0, 1.0, SEG_SAMPLES)[None, :, None]
        c = (a[:, None, :] + s * (b - a)[:, None, :]).reshape(-1, 3) if na[i] else p
        u = rng.normal(size=(PAD_DIRECTIONS, 3))
        u /= np.linalg.norm(u, axis=1)[:, None]
        radial = c / np.linalg.norm(c, axis=1)[:, None]
        cand = [c, c + pad[i] * radial, c - pad[i] * radial]
        cand += [c + pad[i] * d for d in u]
        norms = np.linalg.norm(np.concatenate(cand), axis=1)
        assert norms.min() >= b64[i, 6] - NORM_ROUND_KM, i
        assert norms.max() <= b64[i, 7] + NORM_ROUND_KM, i
        # The lower bound is not vacuous: within the chord sag of the true minimum.
        sag = 0.25 * ((b - a) ** 2).sum(1).max(initial=0.0) / np.sqrt(r2.min())
        widen = MAX_WIDEN_REL * abs(rlo)
        assert norms.min() - b64[i, 6] <= sag + widen + SAG_SLACK_KM, i


def _entries_m(pos, q0, msub, pad, cell_km, band_km, step_s=20.0):
    n = pad.size
    until = np.full(n, np.inf)
    (n_ent, n_skip), box, seg, cel, nact = _boxes_m(
        pos, q0, msub, pad, until, step_s, step_s, cell_km, band_km
    )
    assert n_skip == 0
    ent = np.empty(n_ent + 8, np.uint64)
    no_primary = np.zeros(n, np.bool_)
    marks = np.zeros(1 << (2 * kernels._RADIX_BITS - 6), np.uint64)
    ne = kernels.cell_entries_m(
        cel,
        nact,
        box,
        no_primary,
        np.zeros(0, np.int64),
        np.bool_(False),
        marks,
        1.0 / cell_km,
        1.0 / band_km,
        ent,
    )
    assert ne == n_ent
    return ent[:ne], box, cel, nact


def _plain_entries(box, cel, nact, cell_km, band_km):
    """Every (cx, cy, cz, cb, object) in the ranges, as entries with the prefilter
    bits (x extent in the cell, radius extent in the band, in 1/32, clamped)."""
    b = box.astype(np.float64)
    sx, sr = (1.0 / cell_km) * Q, (1.0 / band_km) * Q  # as the kernel's scales

    def q(x, scale, base):
        return int(min(max(np.floor(x * scale) - base, 0), Q - 1))

    out = []
    for i in np.flatnonzero(nact > 0):
        for cb in range(cel[i, 6], cel[i, 7] + 1):
            qr = (q(b[i, 6], sr, cb * Q) << 54) | (q(b[i, 7], sr, cb * Q) << 59)
            for cx in range(cel[i, 0], cel[i, 3] + 1):
                bx = (cx - kernels._CELL_OFFSET) * Q
                qx = (q(b[i, 0], sx, bx) << 22) | (q(b[i, 3], sx, bx) << 27)
                for cy in range(cel[i, 1], cel[i, 4] + 1):
                    for cz in range(cel[i, 2], cel[i, 5] + 1):
                        h = _hash4(int(cx), int(cy), int(cz), int(cb))
                        out.append((h << 32) | qr | qx | int(i))
    return np.array(out, np.uint64)


def _field(v, shift):
    return (v >> np.uint64(shift)) & np.uint64(Q - 1)


def test_cell_entries_m_vs_plain_enumeration():
    """One entry per (cell, band, object) the box touches, with the right hash and
    prefilter bits; the prefilter never separates two boxes that overlap."""
    rng = np.random.default_rng(20)
    n, cell_km, band_km, msub = 400, 300.0, 15.0, 2
    pos = _leo_points(rng, n, msub + 1, 20.0, r_lo_km=6980.0, r_hi_km=7020.0)
    pos[:, :, : n // 4] *= 0.25  # an inner shell (other radius bands)
    pos[:, :, : n // 20] *= 0.002  # near the origin: radius lower bound clamped to 0
    pad = rng.uniform(1.0, 40.0, n)
    pad[: n // 8] = 200.0  # wide: boxes of 3+ cells per axis (the plain loops)
    ent, box, cel, nact = _entries_m(pos, 0, msub, pad, cell_km, band_km)
    span = (cel[:, 3:6] - cel[:, :3]).max(1)
    assert (span <= 1).sum() > n // 2 and (span >= 2).sum() > 5  # both ways of writing
    assert (cel[:, 7] > cel[:, 6]).sum() > n // 2  # boxes over several radius bands
    want = _plain_entries(box, cel, nact, cell_km, band_km)
    obj_hash = np.uint64(kernels._OBJ_MASK) | (kernels._HASH_MASK << np.uint64(32))
    # The (hash, object) multiset, then the whole entries (order may differ).
    np.testing.assert_array_equal(np.sort(ent & obj_hash), np.sort(want & obj_hash))
    np.testing.assert_array_equal(np.sort(ent), np.sort(want))
    # Monotone quantisation: same-hash entries of boxes overlapping in x and radius
    # pass the prefilter (the test flag_pairs_m applies), in every shared cell.
    order = np.argsort((ent >> np.uint64(32)) & kernels._HASH_MASK, kind="stable")
    e = ent[order]
    h = (e >> np.uint64(32)) & kernels._HASH_MASK
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    ends = np.r_[starts[1:], e.size]
    b = box.astype(np.float64)
    n_overlap = n_rejected = n_apart = 0
    for s0, s1 in zip(starts, ends, strict=True):
        if s1 - s0 < 2:
            continue
        v = e[s0:s1]
        i = (v & kernels._OBJ_MASK).astype(np.int64)
        a1, a2 = np.triu_indices(v.size, 1)
        v1, v2 = v[a1], v[a2]
        passed = (_field(v2, 22) <= _field(v1, 27)) & (_field(v1, 22) <= _field(v2, 27))
        passed &= (_field(v2, 54) <= _field(v1, 59)) & (_field(v1, 54) <= _field(v2, 59))
        bi, bj = b[i[a1]], b[i[a2]]
        overlap = (bi[:, 0] <= bj[:, 3]) & (bj[:, 0] <= bi[:, 3])
        overlap &= (bi[:, 6] <= bj[:, 7]) & (bj[:, 6] <= bi[:, 7])
        assert passed[overlap].all()
        n_overlap += overlap.sum()
        n_rejected += (~passed).sum()
        n_apart += (~overlap).sum()
    assert n_overlap > 200  # not vacuous
    assert n_rejected > n_apart // 4  # and the prefilter rejects boxes apart


def _population(seed, sizes=(120, 100, 80)):
    """A crowded thin shell of circular orbits in three knot classes (as
    tests/test_kernels.py::test_screen_chunk_vs_plain_screen), some objects stopping
    part-way (also between sample times and before the first interval)."""
    rng = np.random.default_rng(seed)
    step_s = 20.0
    cls, per_obj, _ = _chunk(
        rng, list(sizes), [80.0, 160.0, 320.0], 640.0, r_lo_km=6990.0, r_hi_km=7000.0
    )
    n = per_obj[0].size
    tol = rng.uniform(0.01, 2.0, n)
    threshold_km = 100.0  # large: many flags from few objects
    accel = 1.25 * MU_KM3_S2 / 6990.0**2
    pad = accel * step_s**2 / 8 + tol + threshold_km / 2
    until = np.full(n, np.inf)
    stop = rng.random(n) < 0.25
    until[stop] = rng.integers(0, 31, stop.sum()) * step_s + rng.choice([0.0, 9.0], stop.sum())
    return cls, per_obj, until, pad, tol, step_s, threshold_km


def _oracle(cls, per_obj, until, tol, step_s, threshold_km, n_steps):
    """All pairs, every interval: both active (interval end <= until) and chords
    within threshold + tol_i + tol_j."""
    h, nspan, off, stride = per_obj
    n = tol.size
    idx = np.arange(n)
    i, j = np.triu_indices(n, 1)
    pos = [
        kernels.eval_positions(cls[0], off, stride, h, nspan, idx, np.full(n, k * step_s))
        for k in range(n_steps + 1)
    ]
    out = set()
    for k in range(n_steps):
        seg = np.hstack([pos[k], pos[k + 1]])
        end = (k + 1) * step_s
        ok = (until[i] >= end) & (until[j] >= end)
        ok &= _brute_chord_km(seg, i, j) <= threshold_km + tol[i] + tol[j]
        out |= set(zip(i[ok].tolist(), j[ok].tolist(), [k] * int(ok.sum()), strict=True))
    return out


def _screen(
    cls, until, pad, tol, step_s, threshold_km, cell_km, n_steps, n_blocks, sub, band,
    primary=None,
):  # fmt: skip
    """screen_chunk's unique triples, their count with duplicates, skipped count.
    sub 1 with band 0: the single-step grid (the reference); else the multi-step one."""
    n = pad.size
    cap = 8192
    primary = np.zeros(n, bool) if primary is None else primary
    oi, oj, ok, counts, skipped = kernels.screen_chunk(
        *cls, until, pad, tol, primary, step_s, threshold_km, cell_km,
        n_steps, n_blocks, cap, sub, band,
    )  # fmt: skip
    assert counts.max() <= cap
    got = {
        (int(oi[b, m]), int(oj[b, m]), int(ok[b, m]))
        for b in range(n_blocks)
        for m in range(counts[b])
    }
    return got, int(counts.sum()), int(skipped)


N_STEPS = 29  # not a multiple of any sub_steps > 1: the last group is partial
# (cell km, band km): small cells (boxes over many cells and bands: the plain loops),
# the api's sizes, large cells and bands (long same-hash runs: full pair batches).
GRIDS = [(200.0, 20.0), (None, 30.0), (3000.0, 1000.0)]


@pytest.fixture(scope="module")
def population():
    pop = _population(30)
    cls, per_obj, until, pad, tol, step_s, threshold_km = pop
    want = _oracle(cls, per_obj, until, tol, step_s, threshold_km, N_STEPS)
    return pop, want


@pytest.mark.parametrize("sub", [1, 2, 3, 4])
def test_multi_step_screen_vs_brute_force(population, sub):
    """The unique flagged triples equal the brute-force chord screen, for every grid."""
    (cls, _, until, pad, tol, step_s, threshold_km), want = population
    assert len(want) > 100  # crowded enough to test something
    stops = {t for t in want if np.isfinite(until[t[0]]) or np.isfinite(until[t[1]])}
    assert len(stops) > 10  # pairs with an object that stops part-way
    for cell_km, band_km in GRIDS:
        cell = cell_km or 1.2 * (8.0 * sub * step_s + 2.0 * float(np.median(pad)))
        got, nout, skipped = _screen(
            cls, until, pad, tol, step_s, threshold_km, cell, N_STEPS, 2, sub, band_km
        )
        assert skipped == 0
        assert got == want, (cell, band_km, sorted(got ^ want)[:10])
        assert nout >= len(got)


def test_block_count_does_not_change_triples(population):
    """sub_steps 3 with 1, 3, 7 blocks (several threads; block starts not on group
    boundaries) flags the unique triples of the single-step grid (sub_steps 1, band
    0); an object with non-finite positions is skipped for the same object-intervals."""
    (cls, per_obj, until, pad, tol, step_s, threshold_km), want = population
    cell1 = 8.0 * step_s + 2.0 * float(np.median(pad))
    cell3 = 1.2 * (8.0 * 3 * step_s + 2.0 * float(np.median(pad)))
    base, _, skipped1 = _screen(
        cls, until, pad, tol, step_s, threshold_km, cell1, N_STEPS, 1, 1, 0.0
    )  # single-step grid
    assert base == want and skipped1 == 0
    for n_blocks in (1, 3, 7):
        got, _, skipped = _screen(
            cls, until, pad, tol, step_s, threshold_km, cell3, N_STEPS, n_blocks, 3, 30.0
        )
        assert got == base, n_blocks
        assert skipped == 0
    # One object's coefficients not finite: its active intervals are counted as skipped
    # (the same number either way) and only its pairs disappear.
    coef = cls[0].copy()
    bad = min(t[0] for t in want)
    _, nspan, off, stride = per_obj
    coef[off[bad] + np.arange(nspan[bad] * kernels._NC) * stride[bad]] = np.nan
    cls_bad = (coef, *cls[1:])
    n_active = int(((np.arange(N_STEPS) + 1) * step_s <= until[bad]).sum())
    assert n_active > 0
    want_bad = {t for t in want if bad not in t[:2]}
    assert want_bad != want
    for sub, n_blocks, cell, band in ((1, 1, cell1, 0.0), (3, 7, cell3, 30.0)):
        got, _, skipped = _screen(
            cls_bad, until, pad, tol, step_s, threshold_km, cell, N_STEPS, n_blocks, sub, band
        )
        assert got == want_bad and skipped == n_active, (sub, skipped, n_active)


@pytest.mark.parametrize("n_primaries", [8, 120])
def test_primaries_vs_brute_force(population, n_primaries):
    """With primaries (few: other objects entered only in the primaries' cells; many:
    all entered), every grid flags the brute-force triples that involve a primary."""
    (cls, _, until, pad, tol, step_s, threshold_km), want = population
    n = pad.size
    primary = np.zeros(n, bool)
    in_want = sorted({p for t in want for p in t[:2]})  # few: taken among flagged objects
    pool = in_want if n_primaries < len(in_want) // 2 else np.arange(n)
    primary[np.random.default_rng(n_primaries).choice(pool, n_primaries, replace=False)] = True
    want_p = {t for t in want if primary[t[0]] or primary[t[1]]}
    assert 5 < len(want_p) < len(want)
    for sub, band in ((1, 30.0), (4, 15.0)):  # the single-step grid: tests/test_kernels.py
        cell = 1.2 * (8.0 * sub * step_s + 2.0 * float(np.median(pad)))
        got, _, skipped = _screen(
            cls, until, pad, tol, step_s, threshold_km, cell, N_STEPS, 3, sub, band, primary
        )
        assert skipped == 0
        assert got == want_p, (sub, band, sorted(got ^ want_p)[:10])


REAL_CATALOG = "catalog-2024-07-05.3le"
REAL_OBJECTS = 4000
REAL_DAYS = 0.1


@pytest.fixture(scope="module")
def leo_subset(shared_file):
    from ssa.catalog import Catalog

    full = Catalog.load(shared_file(REAL_CATALOG))
    rng = np.random.default_rng(3)
    idx = np.flatnonzero(full.perigee_km < 2000.0)
    return full.subset(np.sort(rng.choice(idx, REAL_OBJECTS, replace=False)))


@pytest.mark.skipif(
    numba.config.DISABLE_JIT,
    reason="JIT off: the whole pipeline as plain Python takes minutes (the JIT run covers it)",
)
def test_real_catalog_sub_steps_give_identical_tables(leo_subset, monkeypatch):
    """api.screen on real LEO objects: 4 sub-steps per grid pass (and 1, in radius
    bands) give the table of the single-step grid exactly (ids, TCAs, misses: same
    windows, same refinement) and the same number of flagged intervals."""
    from ssa.screening import api, screen

    start = leo_subset.epoch_median()
    with monkeypatch.context() as m:
        m.setattr(api, "BAND_KM", 0.0)  # with sub_steps 1: the single-step grid
        one = screen(leo_subset, start=start, days=REAL_DAYS, threads=2, sub_steps=1)
    assert len(one) >= 10, "subset too sparse to test anything"
    assert one.run["counts"]["skipped_object_intervals"] == 0
    for sub in (4, 1):
        other = screen(leo_subset, start=start, days=REAL_DAYS, threads=2, sub_steps=sub)
        for key in ("candidate_intervals", "candidate_windows", "skipped_object_intervals"):
            assert other.run["counts"][key] == one.run["counts"][key], (sub, key)
        assert list(other.rows) == list(one.rows)
        for name in ("NORAD_CAT_ID_1", "NORAD_CAT_ID_2", "TCA_JD", "TCA_FR", "TCA_RANGE"):
            np.testing.assert_array_equal(other.rows[name], one.rows[name], err_msg=name)
        for name in one.rows:  # and every other column (speeds, names, windows)
            np.testing.assert_array_equal(other.rows[name], one.rows[name], err_msg=name)


def test_stop_skips_the_blocks_not_started(population):
    """A set stop event: no block runs (all counts 0, where the same call without it
    flags triples); an event left clear changes nothing."""
    import threading

    (cls, _, until, pad, tol, step_s, threshold_km), want = population
    cell = 1.2 * (8.0 * 4 * step_s + 2.0 * float(np.median(pad)))
    args = (*cls, until, pad, tol, np.zeros(pad.size, bool), step_s, threshold_km, cell)
    stop = threading.Event()
    oi, oj, ok, counts, _ = kernels.screen_chunk(*args, N_STEPS, 3, 8192, 4, 30.0, stop)
    got = {
        (int(oi[b, m]), int(oj[b, m]), int(ok[b, m])) for b in range(3) for m in range(counts[b])
    }
    assert got == want
    stop.set()
    *_, counts, _ = kernels.screen_chunk(*args, N_STEPS, 3, 8192, 4, 30.0, stop)
    assert counts.sum() == 0
