"""Numba kernels of the screening pipeline: pure functions on contiguous arrays.

Stages (each testable alone):
1. ``fill_coefficients``: quintic Hermite polynomials, one per span of three SGP4
   knots (position and velocity at tau = 0, 1, 2), per object and axis.
2. ``eval_position``: an object's interpolated position at a time.
3. ``screen_chunk``: the broad and narrow phase over the sample intervals of one
   time chunk. For each interval [t_k, t_k + T] every object's motion is enclosed
   in an axis-aligned box (chord of the interpolant, padded by the chord
   deviation, the interpolation error bound and half the threshold). Boxes go
   into a hashed uniform grid (every cell a box touches); pairs sharing a cell
   are tested once (in the cell holding the low corner of their intersection),
   then by the closest approach of their chords minus the deviation bounds.

Units: km, s. Times inside a chunk are seconds from the chunk start.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Cell coordinates are packed as three 21-bit fields into one int64 key.
_CELL_BITS = 21
_CELL_OFFSET = 1 << (_CELL_BITS - 1)
_CELL_MAX = (1 << _CELL_BITS) - 1
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)
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
                    acc = 0.0
                    for m in range(6):
                        acc += minv[k, m] * b[m]
                    coef[off[i] + (s * _NC + ax * 6 + k) * stride[i]] = acc


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
        out[q, ax] = coef[c] + tau * (coef[c + st] + tau * (
            coef[c + 2 * st] + tau * (coef[c + 3 * st] + tau * (
                coef[c + 4 * st] + tau * coef[c + 5 * st]))))


@njit(cache=True)
def eval_positions(coef, off, stride, h_s, nspan, idx, t_s):
    """Return interpolated positions (m, 3) km of objects idx[m] at chunk times t_s[m]."""
    out = np.empty((idx.shape[0], 3))
    for m in range(idx.shape[0]):
        _eval(coef, off, stride, h_s, nspan, idx[m], t_s[m], out, m)
    return out


@njit(cache=True, inline="always")
def _eval_class(coef, base, size, nspan, h, first, t_s, pos):
    """Positions (km) at chunk time t_s of the class whose objects are kernel indices
    first..first+size-1, coefficients from base: written to pos[:, first:first+size]."""
    s = int(t_s / (2.0 * h))
    if s < 0:
        s = 0
    elif s >= nspan:
        s = nspan - 1
    tau = t_s / h - 2.0 * s
    for ax in range(3):
        c = base + (s * _NC + ax * 6) * size
        for r in range(size):
            pos[ax, first + r] = coef[c + r] + tau * (coef[c + size + r] + tau * (
                coef[c + 2 * size + r] + tau * (coef[c + 3 * size + r] + tau * (
                    coef[c + 4 * size + r] + tau * coef[c + 5 * size + r]))))


@njit(cache=True, inline="always")
def _cell(x, inv_cell):
    c = int(np.floor(x * inv_cell)) + _CELL_OFFSET
    if c < 0:
        return 0
    if c > _CELL_MAX:
        return _CELL_MAX
    return c


@njit(cache=True, inline="always")
def _key(cx, cy, cz):
    return (cx << (2 * _CELL_BITS)) | (cy << _CELL_BITS) | cz


@njit(cache=True)
def _screen_block(coef, cls_first, cls_size, cls_base, cls_nspan, cls_h, active_until_s,
                  pad_km, tol_km, primary, step_s, threshold_km, cell_km, k_first, k_last,
                  table_bits, out_i, out_j, out_k, cap, skipped):
    n = pad_km.shape[0]
    n_cls = cls_first.shape[0]
    inv_cell = 1.0 / cell_km
    size = 1 << table_bits
    mask = size - 1
    shift = np.uint64(64 - table_bits)
    count = np.zeros(size, np.int32)
    start = np.zeros(size, np.int32)
    touched = np.empty(size, np.int32)
    pa = np.empty((3, n))
    pb = np.empty((3, n))
    lo = np.empty((3, n), np.int64)
    hi = np.empty((3, n), np.int64)
    blo = np.empty((3, n))
    bhi = np.empty((3, n))
    act = np.zeros(n, np.bool_)
    ecap = 8 * n + 16
    e_key = np.empty(ecap, np.int64)
    e_obj = np.empty(ecap, np.int32)
    e_bkt = np.empty(ecap, np.int32)
    s_key = np.empty(ecap, np.int64)
    s_obj = np.empty(ecap, np.int32)
    any_primary = False
    for i in range(n):
        if primary[i]:
            any_primary = True
            break
    t0 = k_first * step_s
    for c in range(n_cls):
        _eval_class(coef, cls_base[c], cls_size[c], cls_nspan[c], cls_h[c], cls_first[c],
                    t0, pa)
    nout = 0
    for k in range(k_first, k_last):
        tb = (k + 1) * step_s
        # Every object is evaluated (and carried on) even when inactive, so a block's
        # result never depends on where the block started (thread count).
        for c in range(n_cls):
            _eval_class(coef, cls_base[c], cls_size[c], cls_nspan[c], cls_h[c],
                        cls_first[c], tb, pb)
        n_entries = 0
        for i in range(n):
            cells = 1
            finite = True
            for ax in range(3):
                a = pa[ax, i]
                b = pb[ax, i]
                if not (np.isfinite(a) and np.isfinite(b)):
                    finite = False
                    a = 0.0
                    b = 0.0
                lo_x = (a if a < b else b) - pad_km[i]
                hi_x = (b if a < b else a) + pad_km[i]
                blo[ax, i] = lo_x
                bhi[ax, i] = hi_x
                lo[ax, i] = _cell(lo_x, inv_cell)
                hi[ax, i] = _cell(hi_x, inv_cell)
                cells *= hi[ax, i] - lo[ax, i] + 1
            ok = tb <= active_until_s[i]
            if ok and (not finite or cells > MAX_CELLS_PER_BOX):
                # Not screenable (non-finite or absurd motion): counted, never silent.
                ok = False
                skipped[0] += 1
            act[i] = ok
            if ok:
                n_entries += cells
        if n_entries > ecap:
            ecap = 2 * n_entries
            e_key = np.empty(ecap, np.int64)
            e_obj = np.empty(ecap, np.int32)
            e_bkt = np.empty(ecap, np.int32)
            s_key = np.empty(ecap, np.int64)
            s_obj = np.empty(ecap, np.int32)
        # Insert every (cell, object) entry; count per hash bucket.
        ne = 0
        nt = 0
        for i in range(n):
            if not act[i]:
                continue
            for cx in range(lo[0, i], hi[0, i] + 1):
                for cy in range(lo[1, i], hi[1, i] + 1):
                    for cz in range(lo[2, i], hi[2, i] + 1):
                        key = _key(cx, cy, cz)
                        bkt = np.int32((np.uint64(key) * _HASH_MULT) >> shift) & mask
                        e_key[ne] = key
                        e_obj[ne] = i
                        e_bkt[ne] = bkt
                        ne += 1
                        if count[bkt] == 0:
                            touched[nt] = bkt
                            nt += 1
                        count[bkt] += 1
        acc = 0
        for q in range(nt):
            b = touched[q]
            start[b] = acc
            acc += count[b]
        for e in range(ne):
            b = e_bkt[e]
            s_key[start[b]] = e_key[e]
            s_obj[start[b]] = e_obj[e]
            start[b] += 1
        for q in range(nt):
            b = touched[q]
            c = count[b]
            count[b] = 0
            if c < 2:
                continue
            end = start[b]
            begin = end - c
            for e1 in range(begin, end):
                key = s_key[e1]
                i = s_obj[e1]
                for e2 in range(e1 + 1, end):
                    if s_key[e2] != key:
                        continue
                    j = s_obj[e2]
                    if any_primary and not (primary[i] or primary[j]):
                        continue
                    # Boxes must overlap on every axis.
                    if (blo[0, i] > bhi[0, j] or blo[0, j] > bhi[0, i]
                            or blo[1, i] > bhi[1, j] or blo[1, j] > bhi[1, i]
                            or blo[2, i] > bhi[2, j] or blo[2, j] > bhi[2, i]):
                        continue
                    # Test the pair only in the cell of the intersection's low corner.
                    cx = _cell(max(blo[0, i], blo[0, j]), inv_cell)
                    cy = _cell(max(blo[1, i], blo[1, j]), inv_cell)
                    cz = _cell(max(blo[2, i], blo[2, j]), inv_cell)
                    if _key(cx, cy, cz) != key:
                        continue
                    # Closest approach of the two chords over the interval.
                    dax = pa[0, j] - pa[0, i]
                    day = pa[1, j] - pa[1, i]
                    daz = pa[2, j] - pa[2, i]
                    ddx = pb[0, j] - pb[0, i] - dax
                    ddy = pb[1, j] - pb[1, i] - day
                    ddz = pb[2, j] - pb[2, i] - daz
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
                    lim = threshold_km + tol_km[i] + tol_km[j]
                    if mx * mx + my * my + mz * mz > lim * lim:
                        continue
                    if nout < cap:
                        out_i[nout] = min(i, j)
                        out_j[nout] = max(i, j)
                        out_k[nout] = k
                    nout += 1
        pa, pb = pb, pa
    return nout


@njit(cache=True, parallel=True)
def screen_chunk(coef, cls_first, cls_size, cls_base, cls_nspan, cls_h, active_until_s,
                 pad_km, tol_km, primary, step_s, threshold_km, cell_km, n_steps, n_blocks,
                 table_bits, cap):
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
    """
    out_i = np.empty((n_blocks, cap), np.int32)
    out_j = np.empty((n_blocks, cap), np.int32)
    out_k = np.empty((n_blocks, cap), np.int32)
    counts = np.zeros(n_blocks, np.int64)
    skipped = np.zeros((n_blocks, 1), np.int64)
    for b in prange(n_blocks):
        k0 = (n_steps * b) // n_blocks
        k1 = (n_steps * (b + 1)) // n_blocks
        counts[b] = _screen_block(coef, cls_first, cls_size, cls_base, cls_nspan, cls_h,
                                  active_until_s, pad_km, tol_km, primary, step_s,
                                  threshold_km, cell_km, k0, k1, table_bits, out_i[b],
                                  out_j[b], out_k[b], cap, skipped[b])
    return out_i, out_j, out_k, counts, skipped.sum()
