"""Profile the screening kernel per stage and per orbit regime; compare versions.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.kernel_profile
    git show main:ssa/screening/kernels.py > /tmp/old_kernels.py
    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.kernel_profile \
        --compare /tmp/old_kernels.py --repeats 5 --label "what changed"
    .venv/bin/python -m benchmarks.kernel_profile --compile /tmp/old_kernels.py \
        ssa/screening/kernels.py

Profile and compare work on the first chunk (4 widest knot spans = 5.7 h = 1,024
intervals of 20 s) of the 2024-07-05 snapshot, prepared as ``ssa.screening.screen``
does (plan, SGP4 knots, fits, pads, cell size).

profile (default): the five kernel stages (ssa.screening.kernels) are called one by
one from Python for every interval (evaluation per batch of intervals, as the
kernel does), on one thread, timed in thread CPU time: on the full catalog and on
each regime alone (LEO in mean-altitude shells, MEO, GEO, HEO), giving ns per
object-interval per stage. On the full catalog a counting copy of the pair stage
attributes the work to regimes: cell entries per object-interval, pairs in one
cell run, boxes overlapping, chords tested (after the low-corner rule) and pairs
flagged. Results: benchmarks/results/kernel_profile.json and .md.

--compare OLD: same-run before/after of the whole ``screen_chunk`` (all threads):
OLD (a kernels.py file; ``-`` = the current one) and the current module (or
--new FILE; with --cell-factor F its cells F times the normal size) alternate,
--repeats times each, order swapped every round. Stores wall and CPU (process)
times, their medians and the median of the per-round CPU ratios in
benchmarks/results/kernel_compare.json, and checks the flagged triples are equal.
The machine may be shared: look at the spread, not only the medians.

--front OLD: same-run before/after of the kernel's first two stages only (evaluation
and boxes, whose interfaces stay fixed while the pair stages change): OLD's and the
current eval_classes and make_boxes32 over the first --intervals intervals of the
chunk, one thread, thread CPU per object-interval, alternated --repeats times; their
outputs must be bit-identical. benchmarks/results/kernel_front_compare.json.

--pairs OLD: same-run before/after of the pair stages only (cell entries, radix
sort, pair test; OLD must have the current interfaces of cell_entries_x, radix_sort
and flag_pairs): the current evaluation and boxes feed OLD's and the current pair
stages over the first --intervals intervals, one thread, thread CPU per
object-interval per stage, alternated --repeats times; flagged pairs must be
identical. benchmarks/results/kernel_pairs_compare.json.

--compile FILES: seconds to import each kernels.py and run it once with an empty
numba cache (a fresh install's first run) and again with that cache, in fresh
processes: benchmarks/results/kernel_compile.json.

--multi CONFIGS: the multi-step grid (kernels.make_boxes_m ...: grid stages once per
SUB sample intervals, radius bands) against the single-step stages, same run: each
CONFIG is SUB,BAND_KM,CELL_FACTOR; over the first --intervals intervals, one thread,
thread CPU per object-interval (of 20 s) per stage, the single-step profile and every
config alternated --repeats times; flagged triples must be identical.
benchmarks/results/kernel_multi.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit

from ssa.screening.kernels import (
    _HASH_MASK,
    _OBJ_MASK,
    _band,
    _cell,
    _chord_miss2_at,
    _hash,
    _hash4,
    chord_miss2_km2,
)

RESULTS = Path(__file__).parent / "results"
CATALOG = "catalog-2024-07-05.3le"
STEP_S = 20.0
THRESHOLD_KM = 5.0
# Mean-altitude shells of LEO (km): the crowded Starlink shells sit in 500-600.
LEO_SHELLS_KM = (0.0, 500.0, 600.0, 900.0, 2000.0)


def _load():
    from ssa.catalog import Catalog
    from ssa.data import data_file

    return Catalog.load(data_file(CATALOG))


def _groups(cat) -> dict:
    """Return {name: catalog indices} of the regimes, LEO split into shells."""
    reg = np.asarray(cat.regime)
    alt = (np.asarray(cat.perigee_km) + np.asarray(cat.apogee_km)) / 2.0
    out = {}
    for lo, hi in zip(LEO_SHELLS_KM[:-1], LEO_SHELLS_KM[1:], strict=True):
        out[f"LEO {lo:.0f}-{hi:.0f} km"] = np.flatnonzero((reg == "LEO") & (alt >= lo) & (alt < hi))
    for r in ("MEO", "GEO", "HEO"):
        out[r] = np.flatnonzero(reg == r)
    return out


def prepare(cat, threads: int = 2) -> dict:
    """Return the kernel's arguments for the first chunk of cat, as screen() builds them."""
    from ssa.screening import propagate
    from ssa.screening.api import DEFAULT_ERR_TARGET_KM, MAX_ERR_KM
    from ssa.screening.executor import LocalExecutor, SatrecContext

    jd0, fr0 = cat.epoch_median()
    window_s = 7 * 86400.0
    with LocalExecutor(SatrecContext(cat.satrecs), threads) as pool:
        plan = propagate.make_plan(pool, cat, STEP_S, DEFAULT_ERR_TARGET_KM, jd0, fr0, window_s)
        chunk_s = propagate.chunk_length_s(plan, window_s)
        ch = propagate.build_chunk(pool, plan, 0.0, chunk_s, jd0, fr0)
    t_fail = np.where(plan.err_km > MAX_ERR_KM, 0.0, np.inf)
    t_fail = np.minimum(t_fail, ch.fail_s)
    dev = plan.accel_km_s2 * STEP_S**2 / 8.0
    tol = dev + np.minimum(plan.err_km, MAX_ERR_KM)
    pad = tol + THRESHOLD_KM / 2.0
    perm = plan.class_order
    until = np.minimum(propagate.active_until_s(t_fail, plan.h_s), window_s + STEP_S)
    return {
        "cls": (ch.coef, ch.cls_first, ch.cls_size, ch.cls_base, ch.cls_nspan, ch.cls_h),
        "until": until[perm],
        "pad": pad[perm],
        "tol": tol[perm],
        "primary": np.zeros(len(cat), bool),
        "perm": perm,
        "cell_km": 8.0 * STEP_S + 2.0 * float(np.median(pad)),
        "n_steps": int(round(chunk_s / STEP_S)),
    }


@njit(cache=True)
def _count_pairs(ent, ne, box, seg, tol_km, threshold_km, inv_cell, reg, counts):
    """Add to counts[m, r_i, r_j] (r_i <= r_j regimes of the pair) per metric m: 0 same
    cell run, 1 passed the entries' x/y prefilter, 2 boxes overlap, 3 chord tested
    (low-corner rule), 4 flagged. Mirrors kernels.flag_pairs without primaries."""
    run0 = 0
    while run0 < ne:
        hkey = (ent[run0] >> np.uint64(32)) & _HASH_MASK
        end = run0 + 1
        while end < ne and ((ent[end] >> np.uint64(32)) & _HASH_MASK) == hkey:
            end += 1
        first = run0
        run0 = end
        for e1 in range(first, end - 1):
            i = np.int64(ent[e1] & _OBJ_MASK)
            for e2 in range(e1 + 1, end):
                j = np.int64(ent[e2] & _OBJ_MASK)
                a = min(reg[i], reg[j])
                b = max(reg[i], reg[j])
                counts[0, a, b] += 1
                if not _prefilter(ent[e1], ent[e2]):
                    continue
                counts[1, a, b] += 1
                if (
                    box[i, 0] > box[j, 3]
                    or box[j, 0] > box[i, 3]
                    or box[i, 1] > box[j, 4]
                    or box[j, 1] > box[i, 4]
                    or box[i, 2] > box[j, 5]
                    or box[j, 2] > box[i, 5]
                ) or i == j:
                    continue
                counts[2, a, b] += 1
                if (
                    _hash(
                        _cell(max(box[i, 0], box[j, 0]), inv_cell),
                        _cell(max(box[i, 1], box[j, 1]), inv_cell),
                        _cell(max(box[i, 2], box[j, 2]), inv_cell),
                    )
                    != hkey
                ):
                    continue
                counts[3, a, b] += 1
                lim = threshold_km + tol_km[i] + tol_km[j]
                if chord_miss2_km2(seg, i, j) <= lim * lim:
                    counts[4, a, b] += 1


@njit(cache=True)
def _count_pairs_m(ent, ne, box, seg, nact, tol_km, threshold_km, inv_cell, inv_band, reg, counts):
    """_count_pairs for the multi-step grid (kernels.flag_pairs_m): metrics 0 same
    hash, 1 prefilter (x, radius) passed, 2 4-d boxes overlap, 3 low-corner pairs,
    4 chord tests (one per shared sub-interval), 5 flagged."""
    run0 = 0
    while run0 < ne:
        hkey = (ent[run0] >> np.uint64(32)) & _HASH_MASK
        end = run0 + 1
        while end < ne and ((ent[end] >> np.uint64(32)) & _HASH_MASK) == hkey:
            end += 1
        first = run0
        run0 = end
        for e1 in range(first, end - 1):
            i = np.int64(ent[e1] & _OBJ_MASK)
            for e2 in range(e1 + 1, end):
                j = np.int64(ent[e2] & _OBJ_MASK)
                a = min(reg[i], reg[j])
                b = max(reg[i], reg[j])
                counts[0, a, b] += 1
                if not _prefilter(ent[e1], ent[e2]):
                    continue
                counts[1, a, b] += 1
                if i == j:
                    continue
                overlap = True
                for d in range(3):
                    if box[i, d] > box[j, d + 3] or box[j, d] > box[i, d + 3]:
                        overlap = False
                if box[i, 6] > box[j, 7] or box[j, 6] > box[i, 7]:
                    overlap = False
                if not overlap:
                    continue
                counts[2, a, b] += 1
                if (
                    _hash4(
                        _cell(max(box[i, 0], box[j, 0]), inv_cell),
                        _cell(max(box[i, 1], box[j, 1]), inv_cell),
                        _cell(max(box[i, 2], box[j, 2]), inv_cell),
                        _band(max(box[i, 6], box[j, 6]), inv_band),
                    )
                    != hkey
                ):
                    continue
                counts[3, a, b] += 1
                lim = threshold_km + tol_km[i] + tol_km[j]
                for q in range(min(nact[i], nact[j])):
                    counts[4, a, b] += 1
                    if _chord_miss2_at(seg, i, j, 3 * q) <= lim * lim:
                        counts[5, a, b] += 1


@njit(cache=True)
def _prefilter(v1, v2):
    """The x/y test of kernels.flag_pairs on two entries' quantised box extents."""
    q = np.uint64(31)
    return (
        ((v2 >> np.uint64(22)) & q) <= ((v1 >> np.uint64(27)) & q)
        and ((v1 >> np.uint64(22)) & q) <= ((v2 >> np.uint64(27)) & q)
        and ((v2 >> np.uint64(54)) & q) <= (v1 >> np.uint64(59))
        and ((v1 >> np.uint64(54)) & q) <= (v2 >> np.uint64(59))
    )


STAGES = ("eval", "boxes", "entries", "sort", "pairs")


def stage_profile(args: dict, reg: np.ndarray | None = None, n_reg: int = 0) -> dict:
    """Time each stage over every interval of the chunk (one thread, called from
    Python); with reg (regime per kernel object), also count the pair work."""
    from ssa.screening import kernels as K

    coef, cf, cs, cb, cn, ch = args["cls"]
    until, pad, tol, primary = args["until"], args["pad"], args["tol"], args["primary"]
    n = pad.size
    inv_cell = 1.0 / args["cell_km"]
    batch = K.EVAL_BATCH
    pos, t_s = np.empty((batch + 1, 3, n)), np.empty(batch)
    box, seg = np.empty((n, 8), np.float32), np.empty((n, 8))
    cel, act = np.empty((n, 8), np.int32), np.zeros(n, bool)
    hist = np.zeros((2, K._RADIX), np.int32)
    ecap = 8 * n + 16
    ent, scratch = np.empty(ecap, np.uint64), np.empty(ecap, np.uint64)
    work = np.empty(ecap + 2 * K._PAIR_BATCH, np.int32)
    out = np.empty((3, 1 << 20), np.int32)
    t = dict.fromkeys(STAGES, 0.0)
    counts = np.zeros((5, max(n_reg, 1), max(n_reg, 1)), np.int64)
    entries = np.zeros(max(n_reg, 1), np.int64)
    obj_int = np.zeros(max(n_reg, 1), np.int64)
    flagged = 0
    t_s[0] = 0.0
    K.eval_classes(coef, cf, cs, cb, cn, ch, t_s, 1, pos, 0)
    for kb in range(0, args["n_steps"], batch):
        m = min(batch, args["n_steps"] - kb)
        t_s[:m] = (kb + 1 + np.arange(m)) * STEP_S
        a = time.thread_time()
        K.eval_classes(coef, cf, cs, cb, cn, ch, t_s, m, pos, 1)
        t["eval"] += time.thread_time() - a
        for q in range(m):
            k = kb + q
            tb = (k + 1) * STEP_S
            b = time.thread_time()
            n_ent, _, _ = K.make_boxes32(
                pos[q], pos[q + 1], pad, until, primary, tb, inv_cell, box, seg, cel, act
            )
            c = time.thread_time()
            if n_ent > ecap:
                ecap = 2 * n_ent
                ent, scratch = np.empty(ecap, np.uint64), np.empty(ecap, np.uint64)
                work = np.empty(ecap + 2 * K._PAIR_BATCH, np.int32)
            ne = K.cell_entries_x(cel, act, box, inv_cell, ent)
            d = time.thread_time()
            K.radix_sort(ent, scratch, ne, hist)
            e = time.thread_time()
            nf = K.flag_pairs(
                ent,
                ne,
                box,
                seg,
                tol,
                primary,
                False,
                THRESHOLD_KM,
                inv_cell,
                k,
                out[0],
                out[1],
                out[2],
                out.shape[1],
                0,
                work,
            )
            f = time.thread_time()
            for name, dt in zip(STAGES[1:], (c - b, d - c, e - d, f - e), strict=True):
                t[name] += dt
            flagged += nf
            if reg is not None:
                _count_pairs(ent, ne, box, seg, tol, THRESHOLD_KM, inv_cell, reg, counts)
                cells = np.prod(cel[:, 3:6].astype(np.int64) - cel[:, :3] + 1, axis=1)
                entries += np.bincount(reg[act], weights=cells[act], minlength=n_reg).astype(
                    np.int64
                )
                obj_int += np.bincount(reg[act], minlength=n_reg)
        pos[0] = pos[m]
    oi = n * args["n_steps"]
    res = {
        "objects": n,
        "intervals": args["n_steps"],
        "flagged": int(flagged),
        "s": {k: round(v, 4) for k, v in t.items()},
        "ns_per_object_interval": {k: round(v / oi * 1e9, 2) for k, v in t.items()},
    }
    res["ns_per_object_interval"]["total"] = round(sum(t.values()) / oi * 1e9, 2)
    if reg is not None:
        res["counts"] = counts
        res["entries"] = entries
        res["object_intervals"] = obj_int
    return res


def reuse_profile(args: dict, reg: np.ndarray, names: list, n_steps: int = 256) -> dict:
    """How much of one interval's cell assignment the next could reuse: per regime, the
    share of object-intervals whose box touches exactly the cells of the previous
    interval, and the share of (object, cell hash) entries already present in the
    previous interval (sorted entries that an incremental sort could keep in place)."""
    from ssa.screening import kernels as K

    coef, cf, cs, cb, cn, ch = args["cls"]
    until, pad, primary = args["until"], args["pad"], args["primary"]
    n = pad.size
    inv_cell = 1.0 / args["cell_km"]
    pos, t_s = np.empty((2, 3, n)), np.zeros(1)
    box, seg = np.empty((n, 8), np.float32), np.empty((n, 8))
    cel, act = np.empty((n, 8), np.int32), np.zeros(n, bool)
    ent = np.empty(8 * n + 16, np.uint64)
    K.eval_classes(coef, cf, cs, cb, cn, ch, t_s, 1, pos, 0)
    n_reg = len(names)
    same_cells = np.zeros(n_reg)
    kept = np.zeros(n_reg)
    total_ent = np.zeros(n_reg)
    obj_int = np.zeros(n_reg)
    prev_cel, prev_keys = None, None
    for k in range(min(n_steps, args["n_steps"])):
        t_s[0] = (k + 1) * STEP_S
        K.eval_classes(coef, cf, cs, cb, cn, ch, t_s, 1, pos, 1)
        K.make_boxes32(pos[0], pos[1], pad, until, primary, t_s[0], inv_cell, box, seg, cel, act)
        ne = K.cell_entries_x(cel, act, box, inv_cell, ent)
        obj = (ent[:ne] & K._OBJ_MASK).astype(np.int64)
        keys = obj * (1 << 24) + ((ent[:ne] >> np.uint64(32)) & K._HASH_MASK).astype(np.int64)
        if prev_cel is not None:
            same = act & np.all(cel[:, :6] == prev_cel[:, :6], axis=1)
            same_cells += np.bincount(reg[same], minlength=n_reg)
            obj_int += np.bincount(reg[act], minlength=n_reg)
            hit = np.isin(keys, prev_keys)
            kept += np.bincount(reg[obj], weights=hit, minlength=n_reg)
            total_ent += np.bincount(reg[obj], minlength=n_reg)
        prev_cel, prev_keys = cel.copy(), keys
        pos[0] = pos[1]
    return {
        "intervals": min(n_steps, args["n_steps"]),
        "cell_km": args["cell_km"],
        "regimes": {
            nm: {
                "same_cells_share": round(same_cells[r] / max(obj_int[r], 1), 4),
                "entries_kept_share": round(kept[r] / max(total_ent[r], 1), 4),
            }
            for r, nm in enumerate(names)
        },
        "all": {
            "same_cells_share": round(same_cells.sum() / max(obj_int.sum(), 1), 4),
            "entries_kept_share": round(kept.sum() / max(total_ent.sum(), 1), 4),
        },
    }


def profile(cat) -> dict:
    from ssa.screening import kernels as K

    groups = _groups(cat)
    names = list(groups)
    args = prepare(cat)
    reg_cat = np.full(len(cat), -1, np.int64)
    for q, name in enumerate(names):
        reg_cat[groups[name]] = q
    reg = reg_cat[args["perm"]]
    assert (reg >= 0).all(), "every object falls in one group"
    # Warm up the stages (compile or load from cache) on the real arrays.
    small = dict(args, n_steps=1)
    stage_profile(small, reg, len(names))
    K.screen_chunk(
        *args["cls"],
        args["until"],
        args["pad"],
        args["tol"],
        args["primary"],
        STEP_S,
        THRESHOLD_KM,
        args["cell_km"],
        1,
        1,
        1024,
    )
    full = stage_profile(args, reg, len(names))
    counts, entries, obj_int = full.pop("counts"), full.pop("entries"), full.pop("object_intervals")
    out = {
        "catalog": CATALOG,
        "objects": len(cat),
        "cell_km": round(args["cell_km"], 2),
        "step_s": STEP_S,
        "threshold_km": THRESHOLD_KM,
        "full": full,
        "regimes": {},
    }
    metrics = ("same_cell_pairs", "prefilter_passed", "boxes_overlap", "chord_tested", "flagged")
    for q, name in enumerate(names):
        sub = cat.subset(groups[name])
        alone = stage_profile(prepare(sub)) if len(sub) > 1 else None
        oi = max(int(obj_int[q]), 1)
        # Pair work involving the regime: pairs within it count once, across twice
        # (once for each side), so the per-regime rows add up to more than the total.
        inv = {
            m: int(counts[z, q, :].sum() + counts[z, :, q].sum() - counts[z, q, q])
            for z, m in enumerate(metrics)
        }
        out["regimes"][name] = {
            "objects": int(groups[name].size),
            "in_full_catalog": {
                "entries_per_object_interval": round(entries[q] / oi, 3),
                **{f"{m}_per_object_interval": round(v / oi, 4) for m, v in inv.items()},
                "within_regime": {m: int(counts[z, q, q]) for z, m in enumerate(metrics)},
            },
            "alone": alone,
        }
    out["totals"] = {m: int(counts[z].sum()) for z, m in enumerate(metrics)}
    out["totals"]["entries"] = int(entries.sum())
    out["totals"]["object_intervals"] = int(obj_int.sum())
    return out


def _markdown(res: dict) -> str:
    f = res["full"]
    lines = [
        f"# Screening kernel profile ({res['catalog']}, first chunk: "
        f"{f['intervals']} intervals of {res['step_s']:.0f} s, cell "
        f"{res['cell_km']} km, one thread, stages called from Python, thread CPU time)",
        "",
        "ns per object-interval per stage; 'alone' = the regime screened by itself.",
        "",
        "| objects | " + " | ".join(STAGES) + " | total |",
        "|---" * (len(STAGES) + 2) + "|",
    ]
    ns = f["ns_per_object_interval"]
    lines.append(
        f"| full catalog ({f['objects']}) | "
        + " | ".join(f"{ns[s]:.1f}" for s in STAGES)
        + f" | {ns['total']:.1f} |"
    )
    for name, r in res["regimes"].items():
        if r["alone"]:
            a = r["alone"]["ns_per_object_interval"]
            lines.append(
                f"| {name} alone ({r['objects']}) | "
                + " | ".join(f"{a[s]:.1f}" for s in STAGES)
                + f" | {a['total']:.1f} |"
            )
    lines += [
        "",
        "Pair work in the full catalog, per object-interval of the regime "
        "(pairs across regimes count for both):",
        "",
        "| regime | objects | cell entries | same-cell pairs | pass x/y prefilter | "
        "boxes overlap | chords tested | flagged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in res["regimes"].items():
        c = r["in_full_catalog"]
        lines.append(
            f"| {name} | {r['objects']} | {c['entries_per_object_interval']:.2f} | "
            f"{c['same_cell_pairs_per_object_interval']:.3f} | "
            f"{c['prefilter_passed_per_object_interval']:.4f} | "
            f"{c['boxes_overlap_per_object_interval']:.4f} | "
            f"{c['chord_tested_per_object_interval']:.4f} | "
            f"{c['flagged_per_object_interval']:.5f} |"
        )
    t = res["totals"]
    lines += [
        "",
        f"Totals over the chunk: {t['object_intervals']} object-intervals, "
        f"{t['entries']} cell entries, {t['same_cell_pairs']} same-cell pairs, "
        f"{t['prefilter_passed']} past the x/y prefilter, "
        f"{t['boxes_overlap']} overlapping boxes, {t['chord_tested']} chord tests, "
        f"{t['flagged']} flagged.",
        "",
    ]
    return "\n".join(lines)


def _module(path: str, name: str = "kernels_before"):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def compare(
    cat, old_path: str | None, repeats: int, cell_factor: float = 1.0, new_path: str | None = None
) -> dict:
    """Alternate OLD's screen_chunk (None: the current one) with normal cells and NEW's
    (None: the current one) with cells cell_factor times the normal size, on the same
    chunk; return the times and their medians."""
    from ssa.screening import kernels as current

    old = _module(old_path) if old_path else current
    new = _module(new_path, "kernels_after") if new_path else current
    args = prepare(cat)
    n_blocks = 2 * max(1, numba.get_num_threads())
    versions = {
        "before": (old.screen_chunk, args["cell_km"]),
        "after": (new.screen_chunk, args["cell_km"] * cell_factor),
    }

    def run(name):
        fn, cell_km = versions[name]
        a = time.perf_counter()
        cpu = time.process_time()
        oi, oj, ok, counts, skipped = fn(
            *args["cls"],
            args["until"],
            args["pad"],
            args["tol"],
            args["primary"],
            STEP_S,
            THRESHOLD_KM,
            cell_km,
            args["n_steps"],
            n_blocks,
            8 * args["pad"].size,
        )
        dt = (time.perf_counter() - a, time.process_time() - cpu)
        assert counts.max() <= oi.shape[1]
        tri = np.concatenate(
            [np.stack([oi[b, :m], oj[b, :m], ok[b, :m]]) for b, m in enumerate(counts)], axis=1
        )
        return dt, np.unique(tri, axis=1)

    ref = run("before")[1]  # warm-up (compile or cache load) and reference
    assert np.array_equal(run("after")[1], ref), "flagged triples differ"
    wall = {"before": [], "after": []}
    cpu = {"before": [], "after": []}
    for r in range(repeats):
        for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
            dt, tri = run(name)
            assert np.array_equal(tri, ref), "flagged triples differ"
            wall[name].append(round(dt[0], 3))
            cpu[name].append(round(dt[1], 3))
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    # Neighbouring runs share the machine's load best: the median of per-round ratios.
    ratio = statistics.median(a / b for a, b in zip(cpu["after"], cpu["before"], strict=True))
    return {
        "old": old_path,
        "new": new_path or "ssa/screening/kernels.py",
        "cell_factor": cell_factor,
        "threads": numba.get_num_threads(),
        "n_blocks": n_blocks,
        "intervals": args["n_steps"],
        "objects": int(args["pad"].size),
        "flagged_triples": int(ref.shape[1]),
        "wall_s": wall,
        "cpu_s": cpu,
        "median_wall_s": med,
        "median_cpu_s": med_cpu,
        "after_over_before_wall": round(med["after"] / med["before"], 3),
        "after_over_before_cpu_per_round": round(ratio, 3),
    }


def _front_pass(K, args: dict, n_steps: int):
    """Thread CPU (s) of K's eval_classes and make_boxes32 over n_steps intervals, as
    the kernel calls them, and the last interval's outputs."""
    coef, cf, cs, cb, cn, ch = args["cls"]
    until, pad, primary = args["until"], args["pad"], args["primary"]
    n = pad.size
    inv_cell = 1.0 / args["cell_km"]
    batch = K.EVAL_BATCH
    pos, t_s = np.empty((batch + 1, 3, n)), np.empty(batch)
    box, seg = np.zeros((n, 8), np.float32), np.zeros((n, 8))
    cel, act = np.zeros((n, 8), np.int32), np.zeros(n, bool)
    t_eval = t_boxes = 0.0
    t_s[0] = 0.0
    K.eval_classes(coef, cf, cs, cb, cn, ch, t_s, 1, pos, 0)
    counts = []
    for kb in range(0, n_steps, batch):
        m = min(batch, n_steps - kb)
        t_s[:m] = (kb + 1 + np.arange(m)) * STEP_S
        a = time.thread_time()
        K.eval_classes(coef, cf, cs, cb, cn, ch, t_s, m, pos, 1)
        t_eval += time.thread_time() - a
        for q in range(m):
            a = time.thread_time()
            c = K.make_boxes32(
                pos[q], pos[q + 1], pad, until, primary, (kb + q + 1) * STEP_S, inv_cell,
                box, seg, cel, act,
            )  # fmt: skip
            t_boxes += time.thread_time() - a
            counts.append(c)
        pos[0] = pos[m]
    outs = (pos[0].copy(), box[:, :6].copy(), seg[:, :6].copy(), cel[:, :6].copy(), act.copy())
    return t_eval, t_boxes, outs, counts


def front_compare(cat, old_path: str, repeats: int, n_steps: int) -> dict:
    """Alternate OLD's and the current eval_classes + make_boxes32 (one thread); return
    ns per object-interval of each and check their outputs are identical."""
    from ssa.screening import kernels as current

    old = _module(old_path)
    args = prepare(cat)
    n = int(args["pad"].size)
    versions = {"before": old, "after": current}
    ref = None
    for name in versions:  # warm-up (compile or cache load); outputs must agree
        _, _, outs, counts = _front_pass(versions[name], args, min(n_steps, 16))
        if ref is None:
            ref = (outs, counts)
        else:
            assert counts == ref[1], "box counts differ"
            for a, b in zip(outs, ref[0], strict=True):
                assert np.array_equal(a, b, equal_nan=True), "eval/boxes outputs differ"
    ns = {(k, s): [] for k in versions for s in ("eval", "boxes")}
    for r in range(repeats):
        for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
            te, tb, _, _ = _front_pass(versions[name], args, n_steps)
            ns[(name, "eval")].append(round(te / (n * n_steps) * 1e9, 2))
            ns[(name, "boxes")].append(round(tb / (n * n_steps) * 1e9, 2))
    out = {"old": old_path, "objects": n, "intervals": n_steps, "outputs_identical": True}
    for stage in ("eval", "boxes"):
        b, a = ns[("before", stage)], ns[("after", stage)]
        out[stage] = {
            "ns_per_object_interval_before": b,
            "ns_per_object_interval_after": a,
            "median_before": round(statistics.median(b), 2),
            "median_after": round(statistics.median(a), 2),
            "after_over_before_per_round": round(
                statistics.median(x / y for x, y in zip(a, b, strict=True)), 3
            ),
        }
    return out


def _pairs_pass(K, F, args: dict, n_steps: int):
    """Thread CPU (s) of K's cell_entries_x, radix_sort and flag_pairs over n_steps
    intervals (boxes from F's eval_classes and make_boxes32, untimed) and the flagged
    (i, j, k) triples."""
    coef, cf, cs, cb, cn, ch = args["cls"]
    until, pad, tol, primary = args["until"], args["pad"], args["tol"], args["primary"]
    n = pad.size
    inv_cell = 1.0 / args["cell_km"]
    batch = F.EVAL_BATCH
    pos, t_s = np.empty((batch + 1, 3, n)), np.empty(batch)
    box, seg = np.zeros((n, 8), np.float32), np.zeros((n, 8))
    cel, act = np.zeros((n, 8), np.int32), np.zeros(n, bool)
    hist = np.zeros((2, K._RADIX), np.int32)
    ecap = 8 * n + 16
    ent, scratch = np.empty(ecap, np.uint64), np.empty(ecap, np.uint64)
    work = np.empty(ecap + 2 * K._PAIR_BATCH, np.int32)
    out = np.empty((3, 1 << 22), np.int32)
    t = np.zeros(3)
    nf = 0
    t_s[0] = 0.0
    F.eval_classes(coef, cf, cs, cb, cn, ch, t_s, 1, pos, 0)
    for kb in range(0, n_steps, batch):
        m = min(batch, n_steps - kb)
        t_s[:m] = (kb + 1 + np.arange(m)) * STEP_S
        F.eval_classes(coef, cf, cs, cb, cn, ch, t_s, m, pos, 1)
        for q in range(m):
            n_ent, _, _ = F.make_boxes32(
                pos[q], pos[q + 1], pad, until, primary, (kb + q + 1) * STEP_S, inv_cell,
                box, seg, cel, act,
            )  # fmt: skip
            if n_ent + 8 > ecap:
                ecap = 2 * n_ent + 8
                ent, scratch = np.empty(ecap, np.uint64), np.empty(ecap, np.uint64)
                work = np.empty(ecap + 2 * K._PAIR_BATCH, np.int32)
            a = time.thread_time()
            ne = K.cell_entries_x(cel, act, box, inv_cell, ent)
            b = time.thread_time()
            K.radix_sort(ent, scratch, ne, hist)
            c = time.thread_time()
            nf = K.flag_pairs(
                ent, ne, box, seg, tol, primary, False, THRESHOLD_KM, inv_cell, kb + q,
                out[0], out[1], out[2], out.shape[1], nf, work,
            )  # fmt: skip
            t += (b - a, c - b, time.thread_time() - c)
        pos[0] = pos[m]
    assert nf <= out.shape[1]
    return t, np.unique(out[:, :nf], axis=1)


def pairs_compare(cat, old_path: str, repeats: int, n_steps: int) -> dict:
    """Alternate OLD's and the current pair stages (one thread) on the same boxes;
    return ns per object-interval of each stage and check the flagged pairs agree."""
    from ssa.screening import kernels as current

    old = _module(old_path)
    args = prepare(cat)
    n = int(args["pad"].size)
    versions = {"before": old, "after": current}
    ref = None
    for name in versions:  # warm-up (compile or cache load); flagged pairs must agree
        _, tri = _pairs_pass(versions[name], current, args, min(n_steps, 16))
        assert ref is None or np.array_equal(tri, ref), "flagged pairs differ"
        ref = tri
    stages = ("entries", "sort", "pairs")
    ns = {(k, s): [] for k in versions for s in stages}
    for r in range(repeats):
        for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
            t, tri = _pairs_pass(versions[name], current, args, n_steps)
            if name == "before":
                ref = tri
            else:
                assert np.array_equal(tri, ref), "flagged pairs differ"
            for s, dt in zip(stages, t, strict=True):
                ns[(name, s)].append(round(dt / (n * n_steps) * 1e9, 2))
    out = {"old": old_path, "objects": n, "intervals": n_steps, "flagged_identical": True}
    for stage in stages:
        b, a = ns[("before", stage)], ns[("after", stage)]
        out[stage] = {
            "ns_per_object_interval_before": b,
            "ns_per_object_interval_after": a,
            "median_before": round(statistics.median(b), 2),
            "median_after": round(statistics.median(a), 2),
            "after_over_before_per_round": round(
                statistics.median(x / y for x, y in zip(a, b, strict=True)), 3
            ),
        }
    return out


_COMPILE = """
import importlib.util, sys, time
import numpy as np
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("kernels_tried", sys.argv[1])
k = sys.modules["kernels_tried"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(k)
one = np.zeros((2, 3, 3))
coef = np.zeros(2 * k._NC)
off, stride = np.arange(2, dtype=np.int64), np.full(2, 2, np.int64)
k.fill_coefficients(one, one, 20.0, k.quintic_matrix(), coef, off, stride)
k.eval_positions(coef, off, stride, np.full(2, 20.0), np.ones(2, np.int64), off, np.zeros(2))
i1 = np.ones(1, np.int64)
k.screen_chunk(coef, np.zeros(1, np.int64), np.full(1, 2, np.int64), np.zeros(1, np.int64), i1,
               np.full(1, 20.0), np.full(2, np.inf), np.ones(2), np.ones(2), np.zeros(2, bool),
               20.0, 5.0, 170.0, 1, 1, 16)
print(time.perf_counter() - t, time.process_time())
"""


def compile_times(paths: list[str]) -> dict:
    """Seconds to import each kernels.py and run its kernels once, with an empty numba
    cache (first run of a fresh install) and with the cache it left (every later run),
    in fresh processes."""
    import os
    import subprocess
    import tempfile

    out = {}
    for path in paths:
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            runs = [
                [
                    float(x)
                    for x in subprocess.run(
                        [sys.executable, "-c", _COMPILE, path],
                        env=env,
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout.split()
                ]
                for _ in range(2)
            ]
        # CPU time too: compilation is single-threaded, so on a shared machine CPU
        # seconds are what a quiet machine's wall clock would show.
        out[path] = {
            "cold_s": round(runs[0][0], 2),
            "cached_s": round(runs[1][0], 2),
            "cold_cpu_s": round(runs[0][1], 2),
            "cached_cpu_s": round(runs[1][1], 2),
        }
    return out


def _multi_pass(
    args: dict,
    sub: int,
    band_km: float,
    cell_factor: float,
    n_steps: int,
    reg: np.ndarray | None = None,
    n_reg: int = 0,
) -> dict:
    """One pass of the multi-step stages over the first n_steps intervals (one thread,
    stages called from Python): thread CPU per stage, entries, flagged triples; with
    reg (regime per kernel object), also the pair work per regime (_count_pairs_m)."""
    from ssa.screening import kernels as K

    coef, cf, cs, cb, cn, ch = args["cls"]
    until, pad, tol = args["until"], args["pad"], args["tol"]
    n = pad.size
    cell_km = cell_factor * (8.0 * sub * STEP_S + 2.0 * float(np.median(pad)))
    inv_cell, inv_band = 1.0 / cell_km, 1.0 / band_km
    mb = sub * max(1, K.EVAL_BATCH // sub)
    pos, t_s = np.empty((mb + 1, 3, n)), np.empty(mb)
    box, seg = np.empty((n, 8), np.float32), np.empty((n, K._SEG_COLS))
    cel, nact = np.empty((n, 8), np.int32), np.zeros(n, np.int64)
    hist = np.zeros((2, K._RADIX), np.int32)
    ecap = 8 * n + 16
    ent, scratch = np.empty(ecap, np.uint64), np.empty(ecap, np.uint64)
    work = np.empty(ecap + 2 * K._PAIR_BATCH, np.int32)
    out = np.empty((3, 1 << 22), np.int32)
    primary, no_prim = args["primary"], np.zeros(0, np.int64)
    marks = np.zeros(1 << (2 * K._RADIX_BITS - 6), np.uint64)
    t = dict.fromkeys(STAGES, 0.0)
    n_ent = 0
    tri = []
    counts = np.zeros((6, max(n_reg, 1), max(n_reg, 1)), np.int64)
    entries = np.zeros(max(n_reg, 1), np.int64)
    obj_int = np.zeros(max(n_reg, 1), np.int64)
    t_s[0] = 0.0
    K.eval_classes(coef, cf, cs, cb, cn, ch, t_s, 1, pos, 0)
    for kb in range(0, n_steps, mb):
        m = min(mb, n_steps - kb)
        t_s[:m] = (kb + 1 + np.arange(m)) * STEP_S
        a = time.thread_time()
        K.eval_classes(coef, cf, cs, cb, cn, ch, t_s, m, pos, 1)
        t["eval"] += time.thread_time() - a
        for q0 in range(0, m, sub):
            ms, k = min(sub, m - q0), kb + q0
            b = time.thread_time()
            ne_box, _ = K.make_boxes_m(
                pos,
                q0,
                ms,
                pad,
                until,
                (k + 1) * STEP_S,
                STEP_S,
                inv_cell,
                inv_band,
                box,
                seg,
                cel,
                nact,
            )
            c = time.thread_time()
            if ne_box + 8 > ecap:
                ecap = 2 * ne_box + 16
                ent, scratch = np.empty(ecap, np.uint64), np.empty(ecap, np.uint64)
                work = np.empty(ecap + 2 * K._PAIR_BATCH, np.int32)
            ne = K.cell_entries_m(
                cel, nact, box, primary, no_prim, np.bool_(False), marks, inv_cell, inv_band, ent
            )
            d = time.thread_time()
            K.radix_sort(ent, scratch, ne, hist)
            e = time.thread_time()
            nf = K.flag_pairs_m(
                ent,
                ne,
                box,
                seg,
                nact,
                tol,
                primary,
                False,
                THRESHOLD_KM,
                inv_cell,
                inv_band,
                k,
                out[0],
                out[1],
                out[2],
                out.shape[1],
                0,
                work,
            )
            f = time.thread_time()
            for name, dt in zip(STAGES[1:], (c - b, d - c, e - d, f - e), strict=True):
                t[name] += dt
            n_ent += ne
            tri.append(out[:, : min(nf, out.shape[1])].copy())
            if reg is not None:
                _count_pairs_m(
                    ent, ne, box, seg, nact, tol, THRESHOLD_KM, inv_cell, inv_band, reg, counts
                )
                c64 = cel.astype(np.int64)
                cells = (
                    (c64[:, 3] - c64[:, 0] + 1)
                    * (c64[:, 4] - c64[:, 1] + 1)
                    * (c64[:, 5] - c64[:, 2] + 1)
                    * (c64[:, 7] - c64[:, 6] + 1)
                )
                on = nact > 0
                entries += np.bincount(reg[on], weights=cells[on], minlength=n_reg).astype(np.int64)
                obj_int += np.bincount(reg[on], weights=nact[on], minlength=n_reg).astype(np.int64)
        pos[0] = pos[m]
    oi = n * n_steps
    ns = {k: round(v / oi * 1e9, 2) for k, v in t.items()}
    ns["total"] = round(sum(t.values()) / oi * 1e9, 2)
    res = {}
    if reg is not None:
        res = {"counts": counts, "entries": entries, "object_intervals": obj_int}
    return res | {
        "cell_km": round(cell_km, 1),
        "ns_per_object_interval": ns,
        "entries_per_object_interval": round(n_ent / oi, 3),
        "triples": np.unique(np.concatenate(tri, axis=1), axis=1),
    }


def _chunk_pass(
    args: dict, sub: int, band_km: float, cell_factor: float, n_steps: int | None = None
) -> tuple:
    """The first chunk (or its first n_steps intervals) through screen_chunk on all
    numba threads (sub 1, band 0: the single-step kernel): (wall s, process CPU s,
    unique triples)."""
    from ssa.screening import kernels as K

    pad = args["pad"]
    cell_km = (
        args["cell_km"]
        if band_km == 0.0
        else cell_factor * (8.0 * sub * STEP_S + 2.0 * float(np.median(pad)))
    )
    n_blocks = 2 * numba.get_num_threads()
    a, c = time.perf_counter(), time.process_time()
    oi, oj, ok, counts, _ = K.screen_chunk(
        *args["cls"],
        args["until"],
        pad,
        args["tol"],
        args["primary"],
        STEP_S,
        THRESHOLD_KM,
        cell_km,
        n_steps or args["n_steps"],
        n_blocks,
        1 << 20,
        sub,
        band_km,
    )
    wall, cpu = time.perf_counter() - a, time.process_time() - c
    tri = [
        np.stack([oi[b, : counts[b]], oj[b, : counts[b]], ok[b, : counts[b]]])
        for b in range(n_blocks)
    ]
    return wall, cpu, np.unique(np.concatenate(tri, axis=1), axis=1)


def _multi_regimes(cat, args: dict, config: tuple, n_steps: int) -> dict:
    """Pair work per regime, per object-interval of the regime (pairs with one object in
    it; within-regime pairs once): the single-step grid and the multi-step config."""
    groups = _groups(cat)
    names = list(groups)
    reg_cat = np.full(len(cat), len(names), np.int64)
    for q, name in enumerate(names):
        reg_cat[groups[name]] = q
    names.append("other")
    reg = reg_cat[args["perm"]]
    single = stage_profile(dict(args, n_steps=n_steps), reg, len(names))
    multi = _multi_pass(args, *config, n_steps=n_steps, reg=reg, n_reg=len(names))
    out = {}
    for label, r, metrics in (
        ("single", single, ("same_hash", "prefilter", "boxes", "low_corner", "flagged")),
        (
            "multi",
            multi,
            ("same_hash", "prefilter", "boxes", "low_corner", "chord_tests", "flagged"),
        ),
    ):
        counts, ent, oi = r["counts"], r["entries"], r["object_intervals"]
        for q, name in enumerate(names):
            if oi[q] == 0:
                continue
            row = out.setdefault(name, {"objects": int((reg == q).sum())})
            inv = {
                m: round(
                    int(counts[z, q, :].sum() + counts[z, :, q].sum() - counts[z, q, q]) / oi[q], 4
                )
                for z, m in enumerate(metrics)
            }
            row[label] = {"entries": round(ent[q] / oi[q], 3), **inv}
    return out


def multi_compare(cat, configs: list, repeats: int, n_steps: int) -> dict:
    """Single-step stages (stage_profile) and each multi-step config, alternated; then
    the whole first chunk on all threads, single-step kernel and each config."""
    args = prepare(cat)
    single = dict(args, n_steps=n_steps)
    want = _chunk_pass(args, 1, 0.0, 1.0, n_steps)[2]
    runs = {"single": []} | {c: [] for c in configs}
    entries = {}
    stage_profile(single)  # compile
    for c in configs:
        _multi_pass(args, *c, n_steps=8)
    for _ in range(repeats):
        runs["single"].append(stage_profile(single)["ns_per_object_interval"])
        for c in configs:
            r = _multi_pass(args, *c, n_steps=n_steps)
            if not np.array_equal(r["triples"], want):
                raise SystemExit(f"config {c}: flagged triples differ from the single-step kernel")
            runs[c].append(r["ns_per_object_interval"])
            entries[c] = (r["entries_per_object_interval"], r["cell_km"])
    med = {
        str(k): {s: round(statistics.median(r[s] for r in v), 2) for s in v[0]}
        for k, v in runs.items()
    }
    ratios = {
        str(c): round(
            statistics.median(
                b["total"] / a["total"] for a, b in zip(runs["single"], runs[c], strict=True)
            ),
            3,
        )
        for c in configs
    }
    regimes = _multi_regimes(cat, args, configs[0], n_steps)
    chunk = {"single": []} | {c: [] for c in configs}
    _, _, want_chunk = _chunk_pass(args, 1, 0.0, 1.0)
    for c in configs:
        _chunk_pass(args, *c)
    for _ in range(repeats):
        for c in ["single", *configs]:
            wall, cpu, tri = _chunk_pass(args, *((1, 0.0, 1.0) if c == "single" else c))
            if not np.array_equal(tri, want_chunk):
                raise SystemExit(f"chunk, config {c}: flagged triples differ")
            chunk[c].append((round(wall, 3), round(cpu, 3)))
    chunk_ratio = {
        str(c): round(
            statistics.median(b[1] / a[1] for a, b in zip(chunk["single"], chunk[c], strict=True)),
            3,
        )
        for c in configs
    }
    return {
        "objects": int(args["pad"].size),
        "intervals": n_steps,
        "whole_chunk": {
            "intervals": args["n_steps"],
            "threads": numba.get_num_threads(),
            "flagged_triples": int(want_chunk.shape[1]),
            "median_cpu_ratio_to_single": chunk_ratio,
            "rounds_wall_cpu_s": {str(k): v for k, v in chunk.items()},
        },
        "flagged_triples": int(want.shape[1]),
        "triples_identical": True,
        "regimes_first_config": regimes,
        "median_ns_per_object_interval": med,
        "median_total_ratio_to_single": ratios,
        "entries_per_object_interval_and_cell_km": {str(c): entries[c] for c in configs},
        "rounds": {str(k): v for k, v in runs.items()},
    }


def _machine() -> dict:
    """What a result was measured on: the cores and the load average at the end (this
    machine's speed also swings between quiet runs; compare same-run ratios)."""
    return {"cores": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]}


def _append_result(name: str, label: str | None, res: dict) -> None:
    """Add res under label (default: the date and time) to results/name.json."""
    path = RESULTS / f"{name}.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old[label or time.strftime("%Y-%m-%dT%H:%M")] = dict(
        res, date=time.strftime("%Y-%m-%d %H:%M"), machine=_machine()
    )
    path.write_text(json.dumps(old, indent=1) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--compare", metavar="OLD_KERNELS_PY")
    p.add_argument(
        "--cell-factor",
        type=float,
        default=1.0,
        help="with --compare: the current kernel's cells this times the normal "
        "size (--compare - : against the current kernel itself)",
    )
    p.add_argument(
        "--new",
        metavar="NEW_KERNELS_PY",
        help="with --compare: this file instead of the current kernels",
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument(
        "--front",
        metavar="OLD_KERNELS_PY",
        help="same-run A/B of the evaluation and boxes stages only (kernel_front_compare.json)",
    )
    p.add_argument(
        "--pairs",
        metavar="OLD_KERNELS_PY",
        help="same-run A/B of the cell entries, sort and pair stages only "
        "(kernel_pairs_compare.json)",
    )
    p.add_argument(
        "--intervals", type=int, default=256, help="with --front or --pairs: intervals timed"
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="share of cell assignments the next interval could reuse (kernel_reuse.json)",
    )
    p.add_argument(
        "--compile",
        nargs="+",
        metavar="KERNELS_PY",
        help="first-run compile time of these kernels.py files (and with cache)",
    )
    p.add_argument(
        "--multi",
        nargs="+",
        metavar="SUB,BAND_KM,CELL_FACTOR",
        help="multi-step grid configs against the single-step stages (kernel_multi.json)",
    )
    p.add_argument("--label", default="", help="key of the comparison in the results file")
    a = p.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    if a.reuse:
        cat = _load()
        args = prepare(cat)
        groups = _groups(cat)
        names = [*groups, "other"]
        reg = np.full(len(cat), len(groups), np.int64)
        for r, nm in enumerate(groups):
            reg[groups[nm]] = r
        res = reuse_profile(args, reg[args["perm"]], names)
        res["machine"] = _machine()
        (RESULTS / "kernel_reuse.json").write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps(res, indent=1))
        return 0
    if a.compile:
        res = compile_times(a.compile)
        print(json.dumps(res, indent=1))
        _append_result("kernel_compile", a.label, res)
        return
    cat = _load()
    if a.multi:
        configs = [(int(c.split(",")[0]), *map(float, c.split(",")[1:])) for c in a.multi]
        res = multi_compare(cat, configs, a.repeats, a.intervals)
        print(json.dumps({k: v for k, v in res.items() if k != "rounds"}, indent=1))
        _append_result("kernel_multi", a.label, res)
        return
    if a.pairs:
        res = pairs_compare(cat, a.pairs, a.repeats, a.intervals)
        print(json.dumps(res, indent=1))
        _append_result("kernel_pairs_compare", a.label, res)
        return
    if a.front:
        res = front_compare(cat, a.front, a.repeats, a.intervals)
        print(json.dumps(res, indent=1))
        _append_result("kernel_front_compare", a.label, res)
        return
    if a.compare:
        res = compare(cat, None if a.compare == "-" else a.compare, a.repeats, a.cell_factor, a.new)
        print(json.dumps(res, indent=1))
        _append_result("kernel_compare", a.label, res)
        return
    res = profile(cat)
    res["date"] = time.strftime("%Y-%m-%d %H:%M")
    res["machine"] = _machine()
    (RESULTS / "kernel_profile.json").write_text(json.dumps(res, indent=1) + "\n")
    md = _markdown(res)
    (RESULTS / "kernel_profile.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
