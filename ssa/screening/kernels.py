"""Numba kernels of the screening pipeline: pure functions on contiguous arrays.

Interpolation (used by ssa.screening.propagate and the kernel below):
- ``fill_coefficients``: quintic Hermite polynomials, one per span of three SGP4
  knots (position and velocity at tau = 0, 1, 2), per object and axis.
- ``eval_positions``: interpolated positions of given objects at given times.

Broad and narrow phase, ``screen_chunk``: the sample intervals of one time chunk,
split into blocks of consecutive intervals run in parallel (Python threads over the
GIL-free kernel), each block by ``_screen_block``, which runs five stages per
interval [t_k, t_k + T] (inlined; each also callable alone and tested against a plain
version in tests/test_kernels.py and tests/test_kernels_v3.py):
1. ``eval_classes``: every object's position at the interval end (the start is the
   previous interval's end), one knot class at a time.
2. ``make_boxes32``: each object's motion enclosed in an axis-aligned box (chord of
   the interpolant, padded by the chord deviation, the interpolation error bound and
   half the threshold), stored as float32 rounded outwards (never smaller than the
   exact box: half the bytes, so the pair stage's random reads stay in L2), and the
   range of uniform grid cells that float32 box touches. (``make_boxes``: the same in
   float64.)
3. ``cell_entries_x``: one 64-bit entry per (cell, object) pair the boxes touch:
   object (bits 0-21), 22-bit cell hash (bits 32-53) and, as a prefilter, the box's x
   and y extents within that cell quantised to 1/32 of a cell (bits 22-31, 54-63).
   Boxes of at most 2 cells per axis (nearly all) write their 8 candidate entries
   without branches. With primaries: ``cell_entries`` (no prefilter; others entered
   only in the primaries' cells when there are few primaries).
4. ``radix_sort``: entries sorted by hash (LSD, two 11-bit passes, histograms
   counted in one read of the entries), so objects sharing a cell hash form runs.
5. ``flag_pairs``: each entry against its successors of the same hash: pairs
   rejected first on the prefilter (no memory access), then on the float32 boxes;
   pairs whose boxes overlap are tested once (in the cell holding the low corner of
   their boxes' intersection), then by the closest approach of their chords
   (``chord_miss2_km2``) minus the deviation bounds. The prefilter and box tests
   keep their survivors by branch-free compaction (most fail, unpredictably).
Neither float32 rounding (outwards) nor the prefilter (a monotone function of the box
ends in one cell's frame, so overlapping boxes keep overlapping) can drop a pair.
A hash collision can only add work or duplicates, never lose a pair.

Multi-step grid, ``_screen_block_m`` (what ``ssa.screening.api`` runs): stages 2-5
once per msub <= MAX_SUB_STEPS consecutive intervals (``make_boxes_m``,
``cell_entries_m`` (sparse with few primaries), ``radix_sort``,
``flag_pairs_m``). A box encloses the polyline through the msub + 1 sample points,
padded as one interval's box, and its range of geocentric radius; cells are keyed by
(x, y, z cell, radius band); the prefilter holds the x and radius extents; a pair
whose boxes meet gets the chord test of every interval both take part in. It flags
the same (pair, interval) set as ``_screen_block`` (the single-step reference, run
with sub_steps 1 and band_km 0; tests/test_kernels_multi.py).

Units: km, s. Times inside a chunk are seconds from the chunk start. Kernels import
nothing from ``ssa``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

# Cell coordinates are packed as three 21-bit fields into one int64 key.
_CELL_BITS = 21
_CELL_OFFSET = 1 << (_CELL_BITS - 1)
_CELL_MAX = (1 << _CELL_BITS) - 1
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)
_RADIX_BITS = 11
_RADIX = 1 << _RADIX_BITS
_RADIX_MASK = np.uint64(_RADIX - 1)
# Entry layout (64 bits): object index in bits 0-21, cell hash in bits 32-53, and the
# pair stage's prefilter (see cell_entries_x) in bits 22-31 (x) and 54-63 (y).
_OBJ_BITS = 22
MAX_OBJECTS = 1 << _OBJ_BITS
_OBJ_MASK = np.uint64(MAX_OBJECTS - 1)
_HASH_MASK = np.uint64((1 << (2 * _RADIX_BITS)) - 1)
_Q_BITS = 5  # prefilter: box ends per axis in 1/32 of a cell
_Q_MAX = (1 << _Q_BITS) - 1
_Q_MASK = np.uint64(_Q_MAX)
_QX_SHIFT = np.uint64(_OBJ_BITS)
_QY_SHIFT = np.uint64(32 + 2 * _RADIX_BITS)
# A box touching more cells than this means non-physical motion (SGP4 garbage).
MAX_CELLS_PER_BOX = 4096


def quintic_matrix() -> np.ndarray:
    """Return the 6x6 matrix mapping [p0, p0', p1, p1', p2, p2'] (derivatives per unit
    tau) to the coefficients c0..c5 of p(tau) = sum c_k tau^k on tau in [0, 2]."""
    a = np.zeros((6, 6))
    for row, tau in enumerate((0.0, 1.0, 2.0)):
        for k in range(6):
            a[2 * row, k] = tau**k
            a[2 * row + 1, k] = k * tau ** (k - 1) if k else 0.0
    return np.linalg.inv(a)


# Coefficient layout (flat float64): coefficient k of axis ax of span s of object i
# sits at off[i] + (s * 18 + ax * 6 + k) * stride[i]. Objects of one knot class share
# stride = class size and consecutive off, so at one time a class's coefficients are
# contiguous runs over its objects (the screening kernel evaluates them vectorised).
_NC = 18  # coefficients per span: 3 axes x 6
_EVAL_TILE = 256  # objects per tile of the batched evaluation: 37 kB of coefficients
# Intervals whose end positions are evaluated together (one pass over the coefficients).
EVAL_BATCH = 8


@njit(cache=True, inline="always")
def quintic_coef(minv, b, k):
    """Coefficient k of the quintic through two-knot-pair data b (positions and
    velocities x span, 6 values): row k of the inverse Hermite matrix times b."""
    acc = 0.0
    for m in range(6):
        acc += minv[k, m] * b[m]
    return acc


@njit(cache=True)
def fill_coefficients(r_km, v_kms, h_s, minv, coef, off, stride):
    """Write quintic coefficients for n objects with knots r_km, v_kms (n, 2m+1, 3)
    spaced h_s (s) into the flat coef (layout above) for spans s < m."""
    n, nk, _ = r_km.shape
    nspan = (nk - 1) // 2
    b = np.empty(6)
    for i in range(n):
        for s in range(nspan):
            for ax in range(3):
                for q in range(3):
                    b[2 * q] = r_km[i, 2 * s + q, ax]
                    b[2 * q + 1] = v_kms[i, 2 * s + q, ax] * h_s
                for k in range(6):
                    coef[off[i] + (s * _NC + ax * 6 + k) * stride[i]] = quintic_coef(minv, b, k)


@njit(cache=True, inline="always")
def _eval(coef, off, stride, h_s, nspan, i, t_s, out, q):
    h = h_s[i]
    s = int(t_s / (2.0 * h))  # t_s >= 0 inside a chunk: truncation is floor
    if s < 0:
        s = 0
    elif s >= nspan[i]:
        s = nspan[i] - 1
    tau = t_s / h - 2.0 * s
    st = stride[i]
    for ax in range(3):
        c = off[i] + (s * _NC + ax * 6) * st
        out[q, ax] = coef[c] + tau * (
            coef[c + st]
            + tau
            * (
                coef[c + 2 * st]
                + tau * (coef[c + 3 * st] + tau * (coef[c + 4 * st] + tau * coef[c + 5 * st]))
            )
        )


@njit(cache=True)
def eval_positions(coef, off, stride, h_s, nspan, idx, t_s):
    """Return interpolated positions (m, 3) km of objects idx[m] at chunk times t_s[m]."""
    out = np.empty((idx.shape[0], 3))
    for m in range(idx.shape[0]):
        _eval(coef, off, stride, h_s, nspan, idx[m], t_s[m], out, m)
    return out


@njit(cache=True, inline="always")
def _eval_class(coef, base, size, nspan, h, first, t_s, m, pos, q0):
    """Positions (km) at the chunk times t_s[:m] of the class whose objects are kernel
    indices first..first+size-1, coefficients from base: written to
    pos[q0 + q, :, first:first+size] for q < m."""
    # Objects in tiles, all m times per tile: a tile's coefficients are read from
    # memory once, not m times (benchmarks/kernel_profile.py: eval was memory-bound).
    for r0 in range(0, size, _EVAL_TILE):
        r1 = min(size, r0 + _EVAL_TILE)
        for q in range(m):
            s = int(t_s[q] / (2.0 * h))  # t_s >= 0 inside a chunk: truncation is floor
            if s < 0:
                s = 0
            elif s >= nspan:
                s = nspan - 1
            tau = t_s[q] / h - 2.0 * s
            for ax in range(3):
                c = base + (s * _NC + ax * 6) * size + r0
                # 1-D views indexed from 0: contiguous, unit-stride loads and stores
                # LLVM vectorises (indices into the flat arrays compiled to gathers).
                c0 = coef[c : c + r1 - r0]
                c1 = coef[c + size : c + size + r1 - r0]
                c2 = coef[c + 2 * size : c + 2 * size + r1 - r0]
                c3 = coef[c + 3 * size : c + 3 * size + r1 - r0]
                c4 = coef[c + 4 * size : c + 4 * size + r1 - r0]
                c5 = coef[c + 5 * size : c + 5 * size + r1 - r0]
                out = pos[q0 + q, ax, first + r0 : first + r1]
                for r in range(r1 - r0):
                    out[r] = c0[r] + tau * (
                        c1[r] + tau * (c2[r] + tau * (c3[r] + tau * (c4[r] + tau * c5[r])))
                    )


@njit(cache=True, inline="always")
def _cell(x, inv_cell):
    c = int(np.floor(x * inv_cell)) + _CELL_OFFSET
    if c < 0:
        return 0
    if c > _CELL_MAX:
        return _CELL_MAX
    return c


@njit(cache=True, inline="always")
def _hash(cx, cy, cz):
    """22-bit hash of a cell (Fibonacci hashing of the packed coordinates)."""
    key = (cx << (2 * _CELL_BITS)) | (cy << _CELL_BITS) | cz
    return (np.uint64(key) * _HASH_MULT) >> np.uint64(64 - 2 * _RADIX_BITS)


# --- the stages of one time block (each inlined into _screen_block, each callable
# and tested alone: tests/test_kernels.py) ------------------------------------------
@njit(cache=True, inline="always")
def eval_classes(coef, cls_first, cls_size, cls_base, cls_nspan, cls_h, t_s, m, pos, q0):
    """Stage 1: write every object's interpolated position (km) at the chunk times
    t_s[:m] (s) into pos[q0 + q] (3, n) for q < m, objects in class order (see
    screen_chunk for the class arrays)."""
    for c in range(cls_first.shape[0]):
        _eval_class(
            coef, cls_base[c], cls_size[c], cls_nspan[c], cls_h[c], cls_first[c], t_s, m, pos, q0
        )


@njit(cache=True, inline="always")
def make_boxes(pa, pb, pad_km, active_until_s, primary, t_end_s, inv_cell, box, seg, cel, act):
    """Stage 2: enclose each object's motion over one interval; return (cell entries of
    the active objects, of the active primaries, object-intervals skipped).

    pa, pb (3, n): positions (km) at the interval start and end (t_end_s, chunk s).
    Writes per object i: box[i, :6] the chord's bounding box padded by pad_km[i]
    (lo xyz, hi xyz; km), seg[i, :6] the chord ends (a xyz, b xyz; km), cel[i, :6]
    the range of grid cells (side 1 / inv_cell km) the box touches (lo xyz, hi xyz,
    inclusive), act[i] whether the object takes part: interval end <= active_until_s[i],
    finite positions and at most MAX_CELLS_PER_BOX cells (else counted as skipped).
    """
    n = pad_km.shape[0]
    n_entries = 0
    n_prim_entries = 0
    n_skipped = 0
    for i in range(n):
        cells = 1
        finite = True
        p = pad_km[i]
        for ax in range(3):
            a = pa[ax, i]
            b = pb[ax, i]
            if not (np.isfinite(a) and np.isfinite(b)):
                finite = False
                a = 0.0
                b = 0.0
            seg[i, ax] = a
            seg[i, 3 + ax] = b
            lo_x = min(a, b) - p
            hi_x = max(a, b) + p
            box[i, ax] = lo_x
            box[i, 3 + ax] = hi_x
            cl = _cell(lo_x, inv_cell)
            ch = _cell(hi_x, inv_cell)
            cel[i, ax] = cl
            cel[i, 3 + ax] = ch
            cells *= ch - cl + 1
        ok = t_end_s <= active_until_s[i]
        if ok and (not finite or cells > MAX_CELLS_PER_BOX):
            # Not screenable (non-finite or absurd motion): counted, never silent.
            ok = False
            n_skipped += 1
        act[i] = ok
        if ok:
            n_entries += cells
            if primary[i]:
                n_prim_entries += cells
    return n_entries, n_prim_entries, n_skipped


# Relative widening that makes a float32 copy of a float64 bound conservative: rounding
# to nearest moves a value by at most 2^-24 of it (finer subnormals aside, covered by
# the absolute term).
_F32_WIDEN = 2.0**-22
_F32_TINY = 1e-30


@njit(cache=True, inline="always")
def _lo32(x):
    return np.float32(x - abs(x) * _F32_WIDEN - _F32_TINY)


@njit(cache=True, inline="always")
def _hi32(x):
    return np.float32(x + abs(x) * _F32_WIDEN + _F32_TINY)


@njit(cache=True, inline="always")
def make_boxes32(pa, pb, pad_km, active_until_s, primary, t_end_s, inv_cell, box, seg, cel, act):
    """Stage 2 with float32 boxes: as make_boxes, but box (n, 8) float32 holds the
    padded box widened outwards to float32 (never smaller than the float64 box), and
    cel the cells of that float32 box. Half the bytes per box: the pair stage reads
    boxes in random object order, and the whole array then stays in L2."""
    n = pad_km.shape[0]
    n_entries = 0
    n_prim_entries = 0
    n_skipped = 0
    for i in range(n):
        cells = 1
        finite = True
        p = pad_km[i]
        for ax in range(3):
            a = pa[ax, i]
            b = pb[ax, i]
            if not (np.isfinite(a) and np.isfinite(b)):
                finite = False
                a = 0.0
                b = 0.0
            seg[i, ax] = a
            seg[i, 3 + ax] = b
            lo = _lo32(min(a, b) - p)
            hi = _hi32(max(a, b) + p)
            box[i, ax] = lo
            box[i, 3 + ax] = hi
            cl = _cell(np.float64(lo), inv_cell)
            ch = _cell(np.float64(hi), inv_cell)
            cel[i, ax] = cl
            cel[i, 3 + ax] = ch
            cells *= ch - cl + 1
        ok = t_end_s <= active_until_s[i]
        if ok and (not finite or cells > MAX_CELLS_PER_BOX):
            ok = False
            n_skipped += 1
        act[i] = ok
        if ok:
            n_entries += cells
            if primary[i]:
                n_prim_entries += cells
    return n_entries, n_prim_entries, n_skipped


@njit(cache=True)
def _mark_cells(cel, act, primary, marks, mark):
    """Set (mark) or clear (not mark: whole words) the bits of the cell hashes of the
    active primaries."""
    for i in range(cel.shape[0]):
        if not (act[i] and primary[i]):
            continue
        for cx in range(cel[i, 0], cel[i, 3] + 1):
            for cy in range(cel[i, 1], cel[i, 4] + 1):
                for cz in range(cel[i, 2], cel[i, 5] + 1):
                    h = _hash(np.int64(cx), np.int64(cy), np.int64(cz))
                    bit = np.uint64(1) << (h & np.uint64(63))
                    if mark:
                        marks[h >> np.uint64(6)] |= bit
                    else:
                        marks[h >> np.uint64(6)] = np.uint64(0)


@njit(cache=True, inline="always")
def cell_entries(cel, act, primary, sparse, marks, out):
    """Stage 3: write one entry (cell hash << 32 | object) per (cell, active object) the
    object's box touches into out; return their number.

    cel, act: from make_boxes. sparse: enter
    non-primaries only in cells (hashes) that an active primary touches, marked in the
    bitmap marks (1 << (2 _RADIX_BITS - 6) words, all zero before and after).
    """
    if sparse:  # np.bool_, not a literal: one compiled _mark_cells, not one per value
        _mark_cells(cel, act, primary, marks, np.bool_(True))
    ne = 0
    for i in range(cel.shape[0]):
        if not act[i]:
            continue
        only_marked = sparse and not primary[i]
        for cx in range(cel[i, 0], cel[i, 3] + 1):
            for cy in range(cel[i, 1], cel[i, 4] + 1):
                for cz in range(cel[i, 2], cel[i, 5] + 1):
                    h = _hash(np.int64(cx), np.int64(cy), np.int64(cz))
                    if only_marked and not (
                        marks[h >> np.uint64(6)] >> (h & np.uint64(63))
                    ) & np.uint64(1):
                        continue
                    out[ne] = (h << np.uint64(32)) | np.uint64(i)
                    ne += 1
    if sparse:
        _mark_cells(cel, act, primary, marks, np.bool_(False))
    return ne


@njit(cache=True, inline="always")
def _q(x, scale, base):
    """Box end x (km) in 1/2^_Q_BITS of a cell from the cell's low side (base: that
    side in the same unit), clamped to the cell: monotone in x, so two x-intervals
    that overlap inside a cell both touch keep overlapping once quantised."""
    q = np.int64(np.floor(np.float64(x) * scale)) - base
    if q < 0:
        return np.uint64(0)
    if q > _Q_MAX:
        return np.uint64(_Q_MAX)
    return np.uint64(q)


@njit(cache=True, inline="always")
def _put(out, ne, prod, bits, valid):
    """Write the entry of hash product prod (key times _HASH_MULT) with the other bits
    at out[ne]; return ne + valid (an entry not valid is overwritten by the next)."""
    out[ne] = ((prod >> np.uint64(64 - 2 * _RADIX_BITS)) << np.uint64(32)) | bits
    return ne + valid


@njit(cache=True, inline="always")
def _put_cube(out, ne, p, b00, b01, b10, b11, vx, vy, vz):
    """Write without branches the entries of the cells (cx + dx, cy + dy, cz + dz), d in
    {0, 1}, of base hash product p, keeping those with dx <= vx, dy <= vy, dz <= vz;
    b<dx><dy>: their other bits. Return the new entry count (out needs 7 spare)."""
    # The key of cell (cx + dx, cy + dy, cz + dz) is key + dx << 42 + dy << 21 + dz (no
    # carries: the fields stay in range), so its hash product is the base product plus
    # these (wrapping) multiples of the multiplier.
    mx = _HASH_MULT << np.uint64(2 * _CELL_BITS)
    my = _HASH_MULT << np.uint64(_CELL_BITS)
    mz = _HASH_MULT
    ne = _put(out, ne, p, b00, 1)
    ne = _put(out, ne, p + mz, b00, vz)
    ne = _put(out, ne, p + my, b01, vy)
    ne = _put(out, ne, p + my + mz, b01, vy & vz)
    ne = _put(out, ne, p + mx, b10, vx)
    ne = _put(out, ne, p + mx + mz, b10, vx & vz)
    ne = _put(out, ne, p + mx + my, b11, vx & vy)
    return _put(out, ne, p + mx + my + mz, b11, vx & vy & vz)


@njit(cache=True, inline="always")
def cell_entries_x(cel, act, box, inv_cell, out):
    """Stage 3 for all-vs-all: as cell_entries (sparse off), each entry also carrying
    its box's x and y extents within the cell, quantised (_q) to 1/32 of a cell, in
    bits 22-31 (x lo, hi) and 54-63 (y lo, hi): flag_pairs rejects most same-cell
    pairs on these before reading any box. out needs 7 spare entries past the last."""
    scale = inv_cell * (1 << _Q_BITS)
    cap = out.shape[0]
    ne = 0
    for i in range(cel.shape[0]):
        if not act[i]:
            continue
        cx0 = np.int64(cel[i, 0])
        cy0 = np.int64(cel[i, 1])
        cz0 = np.int64(cel[i, 2])
        nx = np.int64(cel[i, 3]) - cx0
        ny = np.int64(cel[i, 4]) - cy0
        nz = np.int64(cel[i, 5]) - cz0
        if (nx | ny | nz) <= 1 and ne + 8 <= cap:
            # At most 2 cells per axis (nearly every box: cells are sized for that):
            # all 8 candidates written without branches, the cells outside the box
            # overwritten (a loop of 1-2 trips per axis mispredicts its exits).
            bx = (cx0 - _CELL_OFFSET) << _Q_BITS
            qx0 = (_q(box[i, 0], scale, bx) << _QX_SHIFT) | (
                _q(box[i, 3], scale, bx) << (_QX_SHIFT + np.uint64(_Q_BITS))
            )
            bx += 1 << _Q_BITS
            qx1 = (_q(box[i, 0], scale, bx) << _QX_SHIFT) | (
                _q(box[i, 3], scale, bx) << (_QX_SHIFT + np.uint64(_Q_BITS))
            )
            by = (cy0 - _CELL_OFFSET) << _Q_BITS
            qy0 = (
                (_q(box[i, 1], scale, by) << _QY_SHIFT)
                | (_q(box[i, 4], scale, by) << (_QY_SHIFT + np.uint64(_Q_BITS)))
                | np.uint64(i)
            )
            by += 1 << _Q_BITS
            qy1 = (
                (_q(box[i, 1], scale, by) << _QY_SHIFT)
                | (_q(box[i, 4], scale, by) << (_QY_SHIFT + np.uint64(_Q_BITS)))
                | np.uint64(i)
            )
            p = np.uint64((cx0 << (2 * _CELL_BITS)) | (cy0 << _CELL_BITS) | cz0) * _HASH_MULT
            vx = np.int64(nx == 1)
            vy = np.int64(ny == 1)
            vz = np.int64(nz == 1)
            ne = _put_cube(out, ne, p, qx0 | qy0, qx0 | qy1, qx1 | qy0, qx1 | qy1, vx, vy, vz)
            continue
        for cx in range(cel[i, 0], cel[i, 3] + 1):
            bx = np.int64(cx - _CELL_OFFSET) << _Q_BITS
            qx = (_q(box[i, 0], scale, bx) << _QX_SHIFT) | (
                _q(box[i, 3], scale, bx) << (_QX_SHIFT + np.uint64(_Q_BITS))
            )
            for cy in range(cel[i, 1], cel[i, 4] + 1):
                by = np.int64(cy - _CELL_OFFSET) << _Q_BITS
                qxy = (
                    qx
                    | (_q(box[i, 1], scale, by) << _QY_SHIFT)
                    | (_q(box[i, 4], scale, by) << (_QY_SHIFT + np.uint64(_Q_BITS)))
                    | np.uint64(i)
                )
                for cz in range(cel[i, 2], cel[i, 5] + 1):
                    h = _hash(np.int64(cx), np.int64(cy), np.int64(cz))
                    out[ne] = (h << np.uint64(32)) | qxy
                    ne += 1
    return ne


@njit(cache=True, inline="always")
def radix_sort(ent, scratch, ne, hist):
    """Stage 4: sort ent[:ne] in place by the cell hash (bits 32.. of each entry),
    stable. scratch: at least ne entries; hist: (2, _RADIX) int32 scratch.

    LSD radix sort, two 11-bit passes: the histograms stay in L1 (measured 1.3x faster
    than one counting sort over a hash table sized to the entries). Both histograms
    are counted here in one read of the entries, not while writing them: int32 halves
    their share of L1, and the entries stage stays free of read-modify-writes.
    """
    for q in range(_RADIX):
        hist[0, q] = 0
        hist[1, q] = 0
    for e in range(ne):
        h = ent[e] >> np.uint64(32)
        hist[0, h & _RADIX_MASK] += 1
        hist[1, (h >> np.uint64(_RADIX_BITS)) & _RADIX_MASK] += 1
    acc_lo = 0
    acc_hi = 0
    for q in range(_RADIX):
        x = hist[0, q]
        hist[0, q] = acc_lo
        acc_lo += x
        x = hist[1, q]
        hist[1, q] = acc_hi
        acc_hi += x
    for e in range(ne):
        v = ent[e]
        d = (v >> np.uint64(32)) & _RADIX_MASK
        scratch[hist[0, d]] = v
        hist[0, d] += 1
    for e in range(ne):
        v = scratch[e]
        d = (v >> np.uint64(32 + _RADIX_BITS)) & _RADIX_MASK
        ent[hist[1, d]] = v
        hist[1, d] += 1


@njit(cache=True, inline="always")
def chord_miss2_km2(seg, i, j):
    """Return the squared closest distance (km^2) between objects i and j moving
    uniformly along their chords seg[i, :6], seg[j, :6] (a xyz -> b xyz, km) over
    the same interval."""
    dax = seg[j, 0] - seg[i, 0]
    day = seg[j, 1] - seg[i, 1]
    daz = seg[j, 2] - seg[i, 2]
    ddx = seg[j, 3] - seg[i, 3] - dax
    ddy = seg[j, 4] - seg[i, 4] - day
    ddz = seg[j, 5] - seg[i, 5] - daz
    qq = ddx * ddx + ddy * ddy + ddz * ddz
    s = 0.0
    if qq > 0.0:
        s = -(dax * ddx + day * ddy + daz * ddz) / qq
        if s < 0.0:
            s = 0.0
        elif s > 1.0:
            s = 1.0
    mx = dax + s * ddx
    my = day + s * ddy
    mz = daz + s * ddz
    return mx * mx + my * my + mz * mz


# Pairs whose boxes are tested together (flag_pairs): two int32 entry indices each.
_PAIR_BATCH = 1024


@njit(cache=True, inline="always")
def _test_pairs(
    ent,
    pe1,
    pe2,
    npairs,
    box,
    seg,
    tol_km,
    primary,
    any_primary,
    threshold_km,
    inv_cell,
    k,
    out_i,
    out_j,
    out_k,
    cap,
    nout,
):
    """flag_pairs' tests of the entry pairs (pe1[p], pe2[p]), p < npairs, which passed
    the prefilter: boxes (kept in place, without branches), then the rest."""
    m = 0
    for p in range(npairs):
        e1 = pe1[p]
        e2 = pe2[p]
        i = np.int64(ent[e1] & _OBJ_MASK)
        j = np.int64(ent[e2] & _OBJ_MASK)
        # Boxes must overlap on every axis. No branch: most pairs fail, unpredictably,
        # and the next pairs' boxes are loaded meanwhile.
        ok = (
            (box[i, 0] <= box[j, 3])
            & (box[j, 0] <= box[i, 3])
            & (box[i, 1] <= box[j, 4])
            & (box[j, 1] <= box[i, 4])
            & (box[i, 2] <= box[j, 5])
            & (box[j, 2] <= box[i, 5])
        )
        pe1[m] = e1
        pe2[m] = e2
        m += np.int64(ok)
    for p in range(m):
        v1 = ent[pe1[p]]
        i = np.int64(v1 & _OBJ_MASK)
        j = np.int64(ent[pe2[p]] & _OBJ_MASK)
        if i == j or (any_primary and not (primary[i] or primary[j])):
            continue
        # Test the pair only in the cell of the intersection's low corner.
        if _hash(
            _cell(max(box[i, 0], box[j, 0]), inv_cell),
            _cell(max(box[i, 1], box[j, 1]), inv_cell),
            _cell(max(box[i, 2], box[j, 2]), inv_cell),
        ) != ((v1 >> np.uint64(32)) & _HASH_MASK):
            continue
        lim = threshold_km + tol_km[i] + tol_km[j]
        if chord_miss2_km2(seg, i, j) > lim * lim:
            continue
        if nout < cap:
            out_i[nout] = min(i, j)
            out_j[nout] = max(i, j)
            out_k[nout] = k
        nout += 1
    return nout


@njit(cache=True, inline="always")
def _same_hash_heads(ent, ne, work):
    """Pair stage, step 1: write to work the entries of ent[:ne] followed by one of the
    same hash (about a third); return their number."""
    nc = 0
    for e in range(ne - 1):
        work[nc] = e
        nc += np.int64(((ent[e] ^ ent[e + 1]) >> np.uint64(32)) & _HASH_MASK == 0)
    return nc


@njit(cache=True, inline="always")
def _prefilter_batch(ent, ne, work, nc, c, e2, pe1, pe2):
    """Pair stage, step 2: from head work[c] and its successor e2 (0: the first), each
    head against its successors of the same hash on the prefilter bits carried in the
    entries (no memory access: most same-cell pairs are apart there); survivors go to
    pe1, pe2 until _PAIR_BATCH of them. Return (their number, c, e2) to resume from;
    c == nc when every head is done."""
    npairs = 0
    while c < nc:
        e1 = work[c]
        v1 = ent[e1]
        hkey = (v1 >> np.uint64(32)) & _HASH_MASK
        qxl = (v1 >> _QX_SHIFT) & _Q_MASK
        qxh = (v1 >> (_QX_SHIFT + np.uint64(_Q_BITS))) & _Q_MASK
        qyl = (v1 >> _QY_SHIFT) & _Q_MASK
        qyh = v1 >> (_QY_SHIFT + np.uint64(_Q_BITS))
        if e2 == 0:
            e2 = e1 + 1
        while True:
            v2 = ent[e2]
            ok = (
                (((v2 >> _QX_SHIFT) & _Q_MASK) <= qxh)
                & (qxl <= ((v2 >> (_QX_SHIFT + np.uint64(_Q_BITS))) & _Q_MASK))
                & (((v2 >> _QY_SHIFT) & _Q_MASK) <= qyh)
                & (qyl <= (v2 >> (_QY_SHIFT + np.uint64(_Q_BITS))))
            )
            pe1[npairs] = e1
            pe2[npairs] = e2
            npairs += np.int64(ok)
            e2 += 1
            if e2 == ne or ((ent[e2] >> np.uint64(32)) & _HASH_MASK) != hkey:
                c += 1
                e2 = 0
                break
            if npairs == _PAIR_BATCH:
                return npairs, c, e2
        if npairs == _PAIR_BATCH:
            return npairs, c, e2
    return npairs, c, e2


@njit(cache=True, inline="always")
def flag_pairs(
    ent,
    ne,
    box,
    seg,
    tol_km,
    primary,
    any_primary,
    threshold_km,
    inv_cell,
    k,
    out_i,
    out_j,
    out_k,
    cap,
    nout,
    work,
):
    """Stage 5: flag the pairs of objects sharing a cell hash in the sorted ent[:ne]
    whose boxes overlap and whose chords come within threshold_km + tol_km[i] +
    tol_km[j] (km); return nout plus their number.

    Each flagged pair is written as (min, max, k) at out_*[nout...] while below cap
    (the count goes on past it). A pair is tested only in the run of the cell holding
    the low corner of the boxes' intersection, so once per interval (a hash collision
    can only add duplicates). With any_primary, pairs need at least one primary.
    work: int32 scratch of at least ne + 2 _PAIR_BATCH.
    """
    # Each step keeps what passes by advancing a write index by the test's outcome,
    # not by branching: most tests fail, unpredictably (benchmarks/kernel_profile.py).
    nc = _same_hash_heads(ent, ne, work)
    pe1 = work[nc : nc + _PAIR_BATCH]
    pe2 = work[nc + _PAIR_BATCH : nc + 2 * _PAIR_BATCH]
    c = 0
    e2 = 0
    while c < nc:
        npairs, c, e2 = _prefilter_batch(ent, ne, work, nc, c, e2, pe1, pe2)
        # 3. Boxes, then the low-corner rule and the chords (_test_pairs).
        nout = _test_pairs(
            ent,
            pe1,
            pe2,
            npairs,
            box,
            seg,
            tol_km,
            primary,
            any_primary,
            threshold_km,
            inv_cell,
            k,
            out_i,
            out_j,
            out_k,
            cap,
            nout,
        )
    return nout


# --- Multi-step intervals (all-vs-all): the grid stages run once per msub consecutive
# sample intervals, the chord test still per sample interval ------------------------
# A box encloses the polyline through the msub + 1 sample points padded by the same
# pad_km as a single interval's box (the path lies within tol_km of each sub-chord),
# and the range of geocentric radius of that padded polyline. The grid has a fourth
# dimension, radius bands: objects of different shells that share a large xyz cell
# do not share a cell. Every pair whose sub-chords pass the chord test has its
# midpoint in both padded polylines, hence in both boxes and in one shared 4-d cell,
# so it is found, once per sub-interval, exactly as by the single-interval stages.
_HASH_MULT_R = np.uint64(0xC2B2AE3D27D4EB4F)
MAX_SUB_STEPS = 4
_SEG_COLS = 16  # the sub-chords' points per object (xyz, at most 5 points; 128-B rows)


@njit(cache=True, inline="always")
def _seg_dist_km(ax, ay, az, bx, by, bz):
    """Distance (km) from the geocentre to the segment a-b."""
    dx = bx - ax
    dy = by - ay
    dz = bz - az
    dd = dx * dx + dy * dy + dz * dz
    s = 0.0
    if dd > 0.0:
        s = -(ax * dx + ay * dy + az * dz) / dd
        if s < 0.0:
            s = 0.0
        elif s > 1.0:
            s = 1.0
    mx = ax + s * dx
    my = ay + s * dy
    mz = az + s * dz
    return np.sqrt(mx * mx + my * my + mz * mz)


@njit(cache=True, inline="always")
def _band(x, inv_band):
    c = int(np.floor(x * inv_band))
    if c < 0:
        return 0
    if c > _CELL_MAX:
        return _CELL_MAX
    return c


@njit(cache=True, inline="always")
def make_boxes_m(
    pos, q0, msub, pad_km, active_until_s, t_end_s, step_s, inv_cell, inv_band, box, seg, cel, nact
):
    """Stage 2 over msub sample intervals (their ends pos[q0 + 1 ..  q0 + msub], the
    first start pos[q0], each (3, n) km; t_end_s: the first one's end, chunk s);
    return (cell entries of the active objects, object-intervals skipped).

    Writes per object i: nact[i], the leading sub-intervals it takes part in (end <=
    active_until_s[i]; 0 also when a point is not finite or the box touches more than
    MAX_CELLS_PER_BOX cells, those sub-intervals counted as skipped); box[i] float32
    (lo xyz, hi xyz, lo radius, hi radius; km, widened outwards) enclosing the points
    0..nact[i] padded by pad_km[i]; seg[i, 3p:3p+3] point p (p <= msub); cel[i] the
    grid cells (lo xyz, hi xyz; side 1 / inv_cell km) and radius bands (lo, hi; width
    1 / inv_band km) of the float32 box.
    """
    n = pad_km.shape[0]
    n_entries = 0
    n_skipped = 0
    for i in range(n):
        na = 0
        for q in range(msub):
            na += np.int64(t_end_s + q * step_s <= active_until_s[i])
        x = pos[q0, 0, i]
        y = pos[q0, 1, i]
        z = pos[q0, 2, i]
        seg[i, 0] = x
        seg[i, 1] = y
        seg[i, 2] = z
        lox = x
        hix = x
        loy = y
        hiy = y
        loz = z
        hiz = z
        r2 = x * x + y * y + z * z
        r2hi = r2
        r2lo = r2
        finite = np.isfinite(r2)
        for q in range(1, msub + 1):
            x1 = pos[q0 + q, 0, i]
            y1 = pos[q0 + q, 1, i]
            z1 = pos[q0 + q, 2, i]
            seg[i, 3 * q] = x1
            seg[i, 3 * q + 1] = y1
            seg[i, 3 * q + 2] = z1
            if q <= na:
                lox = min(lox, x1)
                hix = max(hix, x1)
                loy = min(loy, y1)
                hiy = max(hiy, y1)
                loz = min(loz, z1)
                hiz = max(hiz, z1)
                r21 = x1 * x1 + y1 * y1 + z1 * z1
                finite &= np.isfinite(r21)
                # Along a chord |p|^2 = (1-s)|a|^2 + s|b|^2 - s(1-s)L^2 >= min - L^2/4.
                dl2 = (x1 - x) * (x1 - x) + (y1 - y) * (y1 - y) + (z1 - z) * (z1 - z)
                r2lo = min(r2lo, min(r2, r21) - 0.25 * dl2)
                r2hi = max(r2hi, r21)
                r2 = r21
                x = x1
                y = y1
                z = z1
        if not finite:
            # Screened never; the box only has to be harmless.
            lox = hix = loy = hiy = loz = hiz = 0.0
            r2lo = r2hi = 0.0
        p = pad_km[i]
        cells = 1
        b0 = _lo32(lox - p)
        b3 = _hi32(hix + p)
        b1 = _lo32(loy - p)
        b4 = _hi32(hiy + p)
        b2 = _lo32(loz - p)
        b5 = _hi32(hiz + p)
        b6 = _lo32(np.sqrt(max(r2lo, 0.0)) - p)
        b7 = _hi32(np.sqrt(r2hi) + p)
        box[i, 0] = b0
        box[i, 1] = b1
        box[i, 2] = b2
        box[i, 3] = b3
        box[i, 4] = b4
        box[i, 5] = b5
        box[i, 6] = b6
        box[i, 7] = b7
        c0 = _cell(np.float64(b0), inv_cell)
        c3 = _cell(np.float64(b3), inv_cell)
        c1 = _cell(np.float64(b1), inv_cell)
        c4 = _cell(np.float64(b4), inv_cell)
        c2 = _cell(np.float64(b2), inv_cell)
        c5 = _cell(np.float64(b5), inv_cell)
        c6 = _band(np.float64(b6), inv_band)
        c7 = _band(np.float64(b7), inv_band)
        cel[i, 0] = c0
        cel[i, 1] = c1
        cel[i, 2] = c2
        cel[i, 3] = c3
        cel[i, 4] = c4
        cel[i, 5] = c5
        cel[i, 6] = c6
        cel[i, 7] = c7
        cells = (c3 - c0 + 1) * (c4 - c1 + 1) * (c5 - c2 + 1) * (c7 - c6 + 1)
        if na > 0 and (not finite or cells > MAX_CELLS_PER_BOX):
            n_skipped += na
            na = 0
        nact[i] = na
        if na > 0:
            n_entries += cells
    return n_entries, n_skipped


@njit(cache=True, inline="always")
def _hash4(cx, cy, cz, cb):
    """22-bit hash of a cell and radius band (the product of cell_entries_m)."""
    key = (cx << (2 * _CELL_BITS)) | (cy << _CELL_BITS) | cz
    prod = np.uint64(key) * _HASH_MULT + np.uint64(cb) * _HASH_MULT_R
    return prod >> np.uint64(64 - 2 * _RADIX_BITS)


@njit(cache=True, inline="always")
def _qx_bits(box, i, scale, cx):
    """Prefilter bits of box i's x extent quantised in grid column cx (scale: 2^_Q_BITS
    per cell)."""
    bx = np.int64(cx - _CELL_OFFSET) << _Q_BITS
    return (_q(box[i, 0], scale, bx) << _QX_SHIFT) | (
        _q(box[i, 3], scale, bx) << (_QX_SHIFT + np.uint64(_Q_BITS))
    )


@njit(cache=True, inline="always")
def _qr_bits(box, i, scale_r, cb):
    """Prefilter bits of box i's radius extent quantised in radius band cb."""
    br = np.int64(cb) << _Q_BITS
    return (_q(box[i, 6], scale_r, br) << _QY_SHIFT) | (
        _q(box[i, 7], scale_r, br) << (_QY_SHIFT + np.uint64(_Q_BITS))
    )


@njit(cache=True)
def _mark_cells_m(cel, nact, prim, marks, mark):
    """_mark_cells for the multi-step grid: set (mark) or clear (whole words) the bits
    of the (cell, band) hashes of the active primaries (indices prim)."""
    for i in prim:
        if nact[i] == 0:
            continue
        for cx in range(cel[i, 0], cel[i, 3] + 1):
            for cy in range(cel[i, 1], cel[i, 4] + 1):
                for cz in range(cel[i, 2], cel[i, 5] + 1):
                    for cb in range(cel[i, 6], cel[i, 7] + 1):
                        h = _hash4(np.int64(cx), np.int64(cy), np.int64(cz), np.int64(cb))
                        bit = np.uint64(1) << (h & np.uint64(63))
                        if mark:
                            marks[h >> np.uint64(6)] |= bit
                        else:
                            marks[h >> np.uint64(6)] = np.uint64(0)


@njit(cache=True, inline="always")
def cell_entries_m(cel, nact, box, primary, prim, sparse, marks, inv_cell, inv_band, out):
    """Stage 3 of the multi-step intervals: as cell_entries_x, one entry per (cell,
    radius band, object) the box touches (hash: _hash4); the prefilter bits hold the
    box's x extent in the cell and its radius extent in the band (a band is narrow:
    radius separates far more same-cell pairs than y). sparse (few primaries, indices
    prim): other objects only in the (cell, band) hashes an active primary touches,
    marked in marks (all zero before and after). out needs 7 spare entries past the
    last (cell count of make_boxes_m)."""
    if sparse:  # np.bool_, not a literal: one compiled _mark_cells_m
        _mark_cells_m(cel, nact, prim, marks, np.bool_(True))
    scale = inv_cell * (1 << _Q_BITS)
    scale_r = inv_band * (1 << _Q_BITS)
    ne = 0
    for i in range(cel.shape[0]):
        if nact[i] == 0:
            continue
        only_marked = sparse and not primary[i]
        cx0 = np.int64(cel[i, 0])
        cy0 = np.int64(cel[i, 1])
        cz0 = np.int64(cel[i, 2])
        nx = np.int64(cel[i, 3]) - cx0
        ny = np.int64(cel[i, 4]) - cy0
        nz = np.int64(cel[i, 5]) - cz0
        if (nx | ny | nz) <= 1 and not only_marked:
            qx0 = _qx_bits(box, i, scale, cx0) | np.uint64(i)
            qx1 = _qx_bits(box, i, scale, cx0 + 1) | np.uint64(i)
            vx = np.int64(nx == 1)
            vy = np.int64(ny == 1)
            vz = np.int64(nz == 1)
            p3 = np.uint64((cx0 << (2 * _CELL_BITS)) | (cy0 << _CELL_BITS) | cz0) * _HASH_MULT
            for cb in range(cel[i, 6], cel[i, 7] + 1):
                qr = _qr_bits(box, i, scale_r, cb)
                q0 = qx0 | qr
                q1 = qx1 | qr
                ne = _put_cube(
                    out, ne, p3 + np.uint64(cb) * _HASH_MULT_R, q0, q0, q1, q1, vx, vy, vz
                )
            continue
        for cb in range(cel[i, 6], cel[i, 7] + 1):
            qr = _qr_bits(box, i, scale_r, cb) | np.uint64(i)
            for cx in range(cel[i, 0], cel[i, 3] + 1):
                qxr = qr | _qx_bits(box, i, scale, cx)
                for cy in range(cel[i, 1], cel[i, 4] + 1):
                    for cz in range(cel[i, 2], cel[i, 5] + 1):
                        h = _hash4(np.int64(cx), np.int64(cy), np.int64(cz), np.int64(cb))
                        if only_marked and not (
                            marks[h >> np.uint64(6)] >> (h & np.uint64(63))
                        ) & np.uint64(1):
                            continue
                        out[ne] = (h << np.uint64(32)) | qxr
                        ne += 1
    if sparse:
        _mark_cells_m(cel, nact, prim, marks, np.bool_(False))
    return ne


@njit(cache=True, inline="always")
def _chord_miss2_at(seg, i, j, o):
    """chord_miss2_km2 of the sub-chords seg[i, o:o+6], seg[j, o:o+6]."""
    dax = seg[j, o] - seg[i, o]
    day = seg[j, o + 1] - seg[i, o + 1]
    daz = seg[j, o + 2] - seg[i, o + 2]
    ddx = seg[j, o + 3] - seg[i, o + 3] - dax
    ddy = seg[j, o + 4] - seg[i, o + 4] - day
    ddz = seg[j, o + 5] - seg[i, o + 5] - daz
    qq = ddx * ddx + ddy * ddy + ddz * ddz
    s = 0.0
    if qq > 0.0:
        s = -(dax * ddx + day * ddy + daz * ddz) / qq
        if s < 0.0:
            s = 0.0
        elif s > 1.0:
            s = 1.0
    mx = dax + s * ddx
    my = day + s * ddy
    mz = daz + s * ddz
    return mx * mx + my * my + mz * mz


@njit(cache=True, inline="always")
def _test_pairs_m(
    ent,
    pe1,
    pe2,
    npairs,
    box,
    seg,
    nact,
    tol_km,
    primary,
    any_primary,
    threshold_km,
    inv_cell,
    inv_band,
    k,
    out_i,
    out_j,
    out_k,
    cap,
    nout,
):
    """flag_pairs_m's tests of the prefilter survivors: 4-d boxes (branch-free), the
    low-corner rule in 4-d, then the chord test of each shared sub-interval."""
    m = 0
    for p in range(npairs):
        e1 = pe1[p]
        e2 = pe2[p]
        i = np.int64(ent[e1] & _OBJ_MASK)
        j = np.int64(ent[e2] & _OBJ_MASK)
        ok = (
            (box[i, 0] <= box[j, 3])
            & (box[j, 0] <= box[i, 3])
            & (box[i, 1] <= box[j, 4])
            & (box[j, 1] <= box[i, 4])
            & (box[i, 2] <= box[j, 5])
            & (box[j, 2] <= box[i, 5])
            & (box[i, 6] <= box[j, 7])
            & (box[j, 6] <= box[i, 7])
        )
        pe1[m] = e1
        pe2[m] = e2
        m += np.int64(ok)
    for p in range(m):
        v1 = ent[pe1[p]]
        i = np.int64(v1 & _OBJ_MASK)
        j = np.int64(ent[pe2[p]] & _OBJ_MASK)
        if i == j or (any_primary and not (primary[i] or primary[j])):
            continue
        if _hash4(
            _cell(max(box[i, 0], box[j, 0]), inv_cell),
            _cell(max(box[i, 1], box[j, 1]), inv_cell),
            _cell(max(box[i, 2], box[j, 2]), inv_cell),
            _band(max(box[i, 6], box[j, 6]), inv_band),
        ) != ((v1 >> np.uint64(32)) & _HASH_MASK):
            continue
        lim = threshold_km + tol_km[i] + tol_km[j]
        lim2 = lim * lim
        for q in range(min(nact[i], nact[j])):
            if _chord_miss2_at(seg, i, j, 3 * q) > lim2:
                continue
            if nout < cap:
                out_i[nout] = min(i, j)
                out_j[nout] = max(i, j)
                out_k[nout] = k + q
            nout += 1
    return nout


@njit(cache=True, inline="always")
def flag_pairs_m(
    ent,
    ne,
    box,
    seg,
    nact,
    tol_km,
    primary,
    any_primary,
    threshold_km,
    inv_cell,
    inv_band,
    k,
    out_i,
    out_j,
    out_k,
    cap,
    nout,
    work,
):
    """Stage 5 of the multi-step intervals: as flag_pairs, each flagged pair written
    once per sub-interval k + q whose chords pass (_test_pairs_m)."""
    nc = _same_hash_heads(ent, ne, work)
    pe1 = work[nc : nc + _PAIR_BATCH]
    pe2 = work[nc + _PAIR_BATCH : nc + 2 * _PAIR_BATCH]
    c = 0
    e2 = 0
    while c < nc:
        npairs, c, e2 = _prefilter_batch(ent, ne, work, nc, c, e2, pe1, pe2)
        nout = _test_pairs_m(
            ent,
            pe1,
            pe2,
            npairs,
            box,
            seg,
            nact,
            tol_km,
            primary,
            any_primary,
            threshold_km,
            inv_cell,
            inv_band,
            k,
            out_i,
            out_j,
            out_k,
            cap,
            nout,
        )
    return nout


@njit(cache=True, nogil=True)
def _screen_block_m(
    coef,
    cls_first,
    cls_size,
    cls_base,
    cls_nspan,
    cls_h,
    active_until_s,
    pad_km,
    tol_km,
    primary,
    step_s,
    threshold_km,
    cell_km,
    band_km,
    msub,
    k_first,
    k_last,
    out_i,
    out_j,
    out_k,
    cap,
    skipped,
):
    """As _screen_block, with the grid stages once per msub intervals (multi-step
    grid): the flagged triples are the same for any msub."""
    n = pad_km.shape[0]
    inv_cell = 1.0 / cell_km
    inv_band = 1.0 / band_km
    hist = np.zeros((2, _RADIX), np.int32)
    mb = msub * max(1, EVAL_BATCH // msub)
    pos = np.empty((mb + 1, 3, n))
    t_s = np.empty(mb)
    box = np.empty((n, 8), np.float32)
    seg = np.empty((n, _SEG_COLS))
    cel = np.empty((n, 8), np.int32)
    nact = np.zeros(n, np.int64)
    ecap = 8 * n + 16
    ent = np.empty(ecap, np.uint64)
    scratch = np.empty(ecap, np.uint64)
    work = np.empty(ecap + 2 * _PAIR_BATCH, np.int32)
    marks = np.zeros(1 << (2 * _RADIX_BITS - 6), np.uint64)  # one bit per cell hash
    prim = np.nonzero(primary)[0]
    any_primary = prim.size > 0
    t_s[0] = k_first * step_s
    eval_classes(coef, cls_first, cls_size, cls_base, cls_nspan, cls_h, t_s, 1, pos, 0)
    nout = 0
    for kb in range(k_first, k_last, mb):
        m = min(mb, k_last - kb)
        for q in range(m):
            t_s[q] = (kb + q + 1) * step_s
        eval_classes(coef, cls_first, cls_size, cls_base, cls_nspan, cls_h, t_s, m, pos, 1)
        for q0 in range(0, m, msub):
            ms = min(msub, m - q0)
            k = kb + q0
            n_entries, n_skip = make_boxes_m(
                pos,
                q0,
                ms,
                pad_km,
                active_until_s,
                (k + 1) * step_s,
                step_s,
                inv_cell,
                inv_band,
                box,
                seg,
                cel,
                nact,
            )
            skipped[0] += n_skip
            if n_entries + 8 > ecap:
                ecap = 2 * n_entries + 16
                ent = np.empty(ecap, np.uint64)
                scratch = np.empty(ecap, np.uint64)
                work = np.empty(ecap + 2 * _PAIR_BATCH, np.int32)
            # Few primaries: enter other objects only in the primaries' cells (the pairs
            # they could form all need a primary).
            sparse = False
            if any_primary:
                n_prim_entries = 0
                for i in prim:
                    if nact[i] > 0:
                        n_prim_entries += (
                            (cel[i, 3] - cel[i, 0] + 1)
                            * (cel[i, 4] - cel[i, 1] + 1)
                            * (cel[i, 5] - cel[i, 2] + 1)
                            * (cel[i, 7] - cel[i, 6] + 1)
                        )
                sparse = 4 * n_prim_entries < n_entries
            ne = cell_entries_m(
                cel, nact, box, primary, prim, np.bool_(sparse), marks, inv_cell, inv_band, ent
            )
            radix_sort(ent, scratch, ne, hist)
            nout = flag_pairs_m(
                ent,
                ne,
                box,
                seg,
                nact,
                tol_km,
                primary,
                any_primary,
                threshold_km,
                inv_cell,
                inv_band,
                k,
                out_i,
                out_j,
                out_k,
                cap,
                nout,
                work,
            )
        for d in range(3):
            for i in range(n):
                pos[0, d, i] = pos[m, d, i]
    return nout


@njit(cache=True, nogil=True)
def _screen_block(
    coef,
    cls_first,
    cls_size,
    cls_base,
    cls_nspan,
    cls_h,
    active_until_s,
    pad_km,
    tol_km,
    primary,
    step_s,
    threshold_km,
    cell_km,
    k_first,
    k_last,
    out_i,
    out_j,
    out_k,
    cap,
    skipped,
):
    """Return the number of flagged (pair, interval) triples of intervals k_first ..
    k_last - 1 (written to out_* up to cap): the stages above, interval by interval."""
    n = pad_km.shape[0]
    inv_cell = 1.0 / cell_km
    hist = np.zeros((2, _RADIX), np.int32)
    # Positions at the start of a batch of intervals and at each interval end.
    pos = np.empty((EVAL_BATCH + 1, 3, n))
    t_s = np.empty(EVAL_BATCH)
    # Per object one cache line each for the pair tests: box lo xyz, hi xyz | chord
    # ends a xyz, b xyz | cell range lo xyz, hi xyz.
    box = np.empty((n, 8), np.float32)
    seg = np.empty((n, 8))
    cel = np.empty((n, 8), np.int32)
    act = np.zeros(n, np.bool_)
    ecap = 8 * n + 16
    ent = np.empty(ecap, np.uint64)
    scratch = np.empty(ecap, np.uint64)
    work = np.empty(ecap + 2 * _PAIR_BATCH, np.int32)
    marks = np.zeros(1 << (2 * _RADIX_BITS - 6), np.uint64)  # one bit per cell hash
    any_primary = False
    for i in range(n):
        if primary[i]:
            any_primary = True
            break
    t_s[0] = k_first * step_s
    eval_classes(coef, cls_first, cls_size, cls_base, cls_nspan, cls_h, t_s, 1, pos, 0)
    nout = 0
    for kb in range(k_first, k_last, EVAL_BATCH):
        m = min(EVAL_BATCH, k_last - kb)
        for q in range(m):
            t_s[q] = (kb + q + 1) * step_s
        # Every object is evaluated (and carried on) even when inactive, so a block's
        # result never depends on where the block started (thread count).
        eval_classes(coef, cls_first, cls_size, cls_base, cls_nspan, cls_h, t_s, m, pos, 1)
        for q in range(m):
            k = kb + q
            tb = (k + 1) * step_s
            n_entries, n_prim_entries, n_skip = make_boxes32(
                pos[q],
                pos[q + 1],
                pad_km,
                active_until_s,
                primary,
                tb,
                inv_cell,
                box,
                seg,
                cel,
                act,
            )
            skipped[0] += n_skip
            if n_entries > ecap:
                ecap = 2 * n_entries
                ent = np.empty(ecap, np.uint64)
                scratch = np.empty(ecap, np.uint64)
                work = np.empty(ecap + 2 * _PAIR_BATCH, np.int32)
            # Few primaries: enter other objects only in the primaries' cells (the pairs
            # they could form all need a primary).
            sparse = any_primary and 4 * n_prim_entries < n_entries
            if any_primary:
                ne = cell_entries(cel, act, primary, sparse, marks, ent)
            else:
                ne = cell_entries_x(cel, act, box, inv_cell, ent)
            radix_sort(ent, scratch, ne, hist)
            nout = flag_pairs(
                ent,
                ne,
                box,
                seg,
                tol_km,
                primary,
                any_primary,
                threshold_km,
                inv_cell,
                k,
                out_i,
                out_j,
                out_k,
                cap,
                nout,
                work,
            )
        # Element by element: an array assignment would compile numba's shape-mismatch
        # message (string formatting, seconds of a first run's compile).
        for d in range(3):
            for i in range(n):
                pos[0, d, i] = pos[m, d, i]
    return nout


def screen_chunk(
    coef,
    cls_first,
    cls_size,
    cls_base,
    cls_nspan,
    cls_h,
    active_until_s,
    pad_km,
    tol_km,
    primary,
    step_s,
    threshold_km,
    cell_km,
    n_steps,
    n_blocks,
    cap,
    sub_steps=1,
    band_km=0.0,
    stop=None,
):
    """Return (i, j, k, counts, skipped): flagged (pair, interval) triples per block.

    Objects are indexed in class order: class c holds objects cls_first[c] ..
    cls_first[c] + cls_size[c] - 1, knot spacing cls_h[c], cls_nspan[c] spans whose
    coefficients start at cls_base[c] (layout above).
    Interval k covers [k * step_s, (k + 1) * step_s] (chunk seconds), k < n_steps.
    Object i takes part while the interval end <= active_until_s[i]. pad_km is the
    box padding (chord deviation + interpolation error + threshold / 2) and tol_km
    the per-object slack of the chord test (chord deviation + interpolation error).
    With any primary set, only pairs with at least one primary are reported.
    counts[b] > cap means block b overflowed: call again with a larger cap.
    skipped counts object-intervals left out for non-finite or non-physical motion.
    Blocks run on numba.get_num_threads() threads (the kernel releases the GIL); the
    result does not depend on that number. stop: a threading.Event; once set, the
    blocks not yet started are skipped (their counts stay 0: the caller discards the
    result), so an interrupted run waits for one block at most.
    """
    if pad_km.shape[0] > MAX_OBJECTS:
        raise ValueError(
            f"{pad_km.shape[0]} objects: the kernel's entries hold at most {MAX_OBJECTS}"
        )
    out_i = np.empty((n_blocks, cap), np.int32)
    out_j = np.empty((n_blocks, cap), np.int32)
    out_k = np.empty((n_blocks, cap), np.int32)
    counts = np.zeros(n_blocks, np.int64)
    skipped = np.zeros((n_blocks, 1), np.int64)

    # band_km 0 and one sub-step: the single-step grid (_screen_block, the reference
    # the multi-step grid is checked against); else the multi-step grid.
    multi = not (sub_steps == 1 and band_km == 0.0)
    if multi and not (band_km > 0.0 and 1 <= sub_steps <= MAX_SUB_STEPS):
        raise ValueError(
            f"sub_steps {sub_steps} and band_km {band_km}: need 1..{MAX_SUB_STEPS}, > 0"
        )

    def block(b):
        if stop is not None and stop.is_set():
            return
        k0 = (n_steps * b) // n_blocks
        k1 = (n_steps * (b + 1)) // n_blocks
        if multi:
            counts[b] = _screen_block_m(
                coef,
                cls_first,
                cls_size,
                cls_base,
                cls_nspan,
                cls_h,
                active_until_s,
                pad_km,
                tol_km,
                primary,
                step_s,
                threshold_km,
                cell_km,
                band_km,
                sub_steps,
                k0,
                k1,
                out_i[b],
                out_j[b],
                out_k[b],
                cap,
                skipped[b],
            )
            return
        counts[b] = _screen_block(
            coef,
            cls_first,
            cls_size,
            cls_base,
            cls_nspan,
            cls_h,
            active_until_s,
            pad_km,
            tol_km,
            primary,
            step_s,
            threshold_km,
            cell_km,
            k0,
            k1,
            out_i[b],
            out_j[b],
            out_k[b],
            cap,
            skipped[b],
        )

    # Python threads over a nogil kernel, not prange: same speed, and a first run
    # compiles in a fraction of the time (no parallel lowering; kernel_compile.json).
    threads = min(numba.get_num_threads(), n_blocks)
    if threads <= 1:
        for b in range(n_blocks):
            block(b)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(block, range(n_blocks)))
    return out_i, out_j, out_k, counts, skipped.sum()
