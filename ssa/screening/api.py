"""``screen``: all-vs-all or primaries-vs-catalog conjunction screening.

Pipeline (stages timed in run.json): plan (knot spacing per object, verified
against SGP4) -> per time slice: SGP4 knots, quintic fits, broad + narrow phase
(numba; a local run screens the slices side by side, one per thread) -> refinement
of every candidate window with exact SGP4 -> table. The result is a pure function
of (catalog, window, threshold, primaries).

No-miss guarantee (see README "Screening"): for every sample interval of length
``step_s`` each object's interpolated path stays within its chord +- a T^2/8
(a = ACCEL_SAFETY * mu / r_perigee^2 bounds the acceleration), the SGP4 path
within that + the object's interpolation error bound (measured against SGP4 at the
error maxima over a full orbit at both ends of the window, times ERR_SAFETY). Boxes
padded by these plus threshold/2 must overlap, and the chords' closest distance
must be within threshold + both slacks, for any pair that comes within threshold;
this holds for any relative speed. Refinement then samples the exact SGP4 distance
every refine.SAMPLE_S in each flagged window.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
from sgp4.api import SGP4_ERRORS, jday

import ssa
from ssa.errors import UserError
from ssa.geometry.frames import rtn_components, teme_to_geodetic
from ssa.progress import progress
from ssa.screening import crossings, executor, kernels, propagate, refine
from ssa.screening.result import (
    COLUMNS,
    EMPTY_UNTIL_RISK,
    TEXT_RISK_COLUMNS,
    ScreenResult,
    format_tca,
)

# Rows per chunk of a streamed table (screen(table_csv=...)): small enough that the
# pipeline's stages (table, risk, CSV; _table_step) overlap on the 7-day main job's
# ~190k rows, large enough that per-chunk costs stay small; at most PIPELINE_CHUNKS + 1
# chunks in memory (~1 kB per row with the text columns as Python objects).
STREAM_CHUNK_ROWS = 25_000
# A shorter table is cut into this many chunks, of at least MIN_STREAM_CHUNK_ROWS rows.
MIN_STREAM_CHUNKS = 4
MIN_STREAM_CHUNK_ROWS = 2_000
DEFAULT_STEP_S = 20.0  # sample interval of the broad phase (benchmarks/screen_catalog.py)
# Widest knot spacing keeping the interpolant this close to SGP4. The bound pads the
# boxes, so a looser target costs a few more candidates but halves the SGP4 knots of
# LEO (640 s instead of 320 s): full catalog, 1 d, same run: 0.2 km 9.7 s, 2 km 8.7 s,
# 5 km 7.9 s, same conjunctions.
DEFAULT_ERR_TARGET_KM = 2.0
# The grid stages run once per SUB_STEPS sample intervals, in cells of CELL_FACTOR x
# (8 SUB_STEPS step_s + 2 median pad) km and radius bands of BAND_KM
# (kernels.make_boxes_m); the chord test still runs per sample interval, so the
# flagged intervals are the same. Chosen on the first chunk of the 2024-07-05 catalogue
# (benchmarks/kernel_profile.py --multi, results/kernel_multi.json: 2-6 sub-steps,
# bands 15-60 km, cells 0.7-2x; whole chunk 0.785x the single-step CPU).
SUB_STEPS = 4
BAND_KM = 30.0  # 0 with SUB_STEPS 1: the single-step grid (kernels._screen_block)
CELL_FACTOR = 1.2
# Objects whose interpolation error bound exceeds this are not smooth enough at any
# knot spacing (SGP4 output jumps); they are dropped and listed with the reason.
MAX_ERR_KM = 20.0
LONG_DURATION_S = 3600.0  # an encounter staying within threshold this long is flagged
# Name prefixes of constellations whose members fly in formation-like shells; a pair
# sharing one is flagged SAME_CONSTELLATION (reports may filter, nothing is dropped).
CONSTELLATIONS = (
    "STARLINK",
    "ONEWEB",
    "IRIDIUM",
    "GLOBALSTAR",
    "ORBCOMM",
    "QIANFAN",
    "KUIPER",
    "LEMUR",
    "FLOCK",
    "SPIRE",
    "O3B",
    "NAVSTAR",
    "GALILEO",
    "BEIDOU",
    "SWARM",
    "HULIANWANG",
    "GUOWANG",
    "TIANQI",
    "YAOGAN",
    "JILIN",
)


def _constellation(name: str) -> str:
    up = name.upper()
    for c in CONSTELLATIONS:
        if up.startswith(c):
            return c
    return ""


def resolve_start(start, catalog):
    """Return (jd, fr) of the window start: datetime (aware, UTC), ISO string, (jd, fr),
    or None for the catalog's median epoch."""
    if start is None:
        return catalog.epoch_median()
    if isinstance(start, tuple) and len(start) == 2:
        return float(start[0]), float(start[1])
    if isinstance(start, str):
        text = start.strip().replace("Z", "+00:00")
        try:
            start = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise UserError(
                f"start {start!r} is not an ISO date-time; expected e.g. 2024-07-05T00:00:00Z"
            ) from exc
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.timezone.utc)
    if isinstance(start, dt.datetime):
        if start.tzinfo is None:
            raise UserError("start is a naive datetime; pass one with tzinfo=timezone.utc")
        s = start.astimezone(dt.timezone.utc)
        return jday(s.year, s.month, s.day, s.hour, s.minute, s.second + s.microsecond * 1e-6)
    raise UserError(
        f"start must be None, an ISO string, an aware datetime or (jd, fr); "
        f"got {type(start).__name__}"
    )


def resolve_primaries(primaries, catalog) -> np.ndarray:
    """Return a bool mask of primaries: NORAD ids (int or digit strings), owner codes
    or object types (PAYLOAD, ROCKET BODY, DEBRIS, UNKNOWN); None means all-vs-all."""
    n = len(catalog)
    if primaries is None:
        return np.zeros(n, bool)
    if isinstance(primaries, (str, int, np.integer)):
        primaries = [primaries]
    mask = np.zeros(n, bool)
    types = {str(t) for t in catalog.object_type}
    owners = {str(o) for o in catalog.owner if o}
    for p in primaries:
        text = str(p).strip()
        if text.isdigit():
            hit = catalog.norad_id == int(text)
        elif text.upper() in types or text.upper() in (
            "PAYLOAD",
            "ROCKET BODY",
            "DEBRIS",
            "UNKNOWN",
        ):
            hit = catalog.object_type == text.upper()
        elif text in owners or text.upper() in owners:
            hit = (catalog.owner == text) | (catalog.owner == text.upper())
        else:
            raise UserError(
                f"primary {text!r} is neither a NORAD id in the catalog, an "
                f"object type nor an owner code present (owners: "
                f"{', '.join(sorted(owners)[:12])}...)"
            )
        mask |= hit
    if not mask.any():
        raise UserError(f"primaries {list(primaries)} match no object in the catalog")
    return mask


def _peak_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (me + kids) / 1024.0


@dataclass
class _Job:
    """The validated inputs of one screening run."""

    jd0: float
    fr0: float
    days: float
    window_s: float
    threshold_km: float
    primary: np.ndarray  # bool per object
    primaries: object
    threads: int
    step_s: float
    err_target_km: float


@dataclass
class SliceSpec:
    """What every time slice needs besides the satellites (shipped once per worker).

    Arrays are over the catalogue; ``perm`` is the kernel's object order."""

    plan: propagate.Plan
    jd0: float
    fr0: float
    window_s: float
    step_s: float
    threshold_km: float
    slice_s: float
    cell_km: float
    sub_steps: int
    band_km: float
    pad_km: np.ndarray
    tol_km: np.ndarray
    primary: np.ndarray
    perm: np.ndarray
    base_fail_s: np.ndarray  # 0 for objects dropped by the plan, else inf
    cap: int


def screen(
    catalog,
    start=None,
    days: float = 7.0,
    threshold_km: float = 5.0,
    primaries=None,
    quiet: bool = True,
    threads: int | None = None,
    step_s: float = DEFAULT_STEP_S,
    err_target_km: float = DEFAULT_ERR_TARGET_KM,
    inputs: dict | None = None,
    scheduler: str | None = None,
    cluster: str | None = None,
    slice_spans: int | None = None,
    sub_steps: int | None = None,
    table_csv=None,
    on_chunk=None,
    chunk_rows: int | None = None,
) -> ScreenResult:
    """Return the conjunctions (SGP4 distance <= threshold_km) among catalog objects in
    [start, start + days]; see the module docstring for the guarantee.

    catalog: ssa.catalog.Catalog. start: None (median epoch), ISO string, aware
    datetime or (jd, fr). primaries: None (all-vs-all) or NORAD ids / owner codes /
    object types; then only pairs with at least one primary are reported.
    threads: cores for SGP4 (processes) and the kernels (numba); None = all. With
    Dask: numba threads per worker (workers x threads <= cores for a local cluster).
    scheduler: 'tcp://HOST:PORT' of a Dask scheduler (default $SSA_SCHEDULER);
    cluster: 'local[:N]' for a LocalCluster of N worker processes.
    step_s, err_target_km, slice_spans (time slice = slice_spans widest knot spans),
    sub_steps (sample intervals per grid pass, 1..kernels.MAX_SUB_STEPS; None:
    SUB_STEPS): internal resolution and work split (results do not depend on them).
    table_csv: stream the table to this CSV path, ``chunk_rows`` rows at a time in the
    final (TCA) order (None: STREAM_CHUNK_ROWS), instead of returning it: the result then holds no rows (its run
    record counts them; ``result.streamed['csv']`` is the path). on_chunk(rows): called
    on each chunk before it is written (the CLI fills the risk columns there).
    """
    t_wall = time.perf_counter()
    timings = {}
    job = _job(
        catalog,
        start,
        days,
        threshold_km,
        primaries,
        threads,
        step_s,
        err_target_km,
        scheduler,
        cluster,
    )
    n = len(catalog)
    ctx = executor.SatrecContext(catalog.satrecs)
    prev_threads = numba.get_num_threads()
    numba.set_num_threads(min(job.threads, numba.config.NUMBA_NUM_THREADS))
    try:
        with executor.make_executor(ctx, job.threads, scheduler, cluster, warm_up=_warm_up) as ex:
            plan = _plan_step(ex, catalog, job, timings) if n else None
            slices, dropped, tri = [], [], np.zeros((3, 0), np.int64)
            t_fail_s = np.full(n, np.inf)
            grid = {}
            if n:
                spec = _slice_spec(plan, job, ex, slice_spans, sub_steps)
                grid = {
                    "grid_sub_steps": spec.sub_steps,
                    "grid_band_km": spec.band_km,
                    "grid_cell_km": round(spec.cell_km, 1),
                }
                slices = _slices_step(ex, spec, timings, quiet)
                tri, t_fail_s, dropped = _combine_slices(slices, spec, plan, job)
            found, n_windows = _refine_step(ex, tri, t_fail_s, job, timings, quiet)
            n_flagged = tri.shape[1]
            del tri
            rows, counts = _table_step(
                ex, catalog, found, job, timings, table_csv, on_chunk, chunk_rows
            )
            described = ex.describe()
    finally:
        numba.set_num_threads(prev_threads)
    run = _run_record(
        catalog,
        job,
        plan,
        counts,
        dropped,
        slices,
        n_flagged,
        n_windows,
        timings,
        described,
        t_wall,
    )
    run["settings"].update(grid)
    if inputs:
        run["inputs"].update(inputs)
    result = ScreenResult(rows, run)
    if table_csv is not None:
        chunk_rows = chunk_rows or STREAM_CHUNK_ROWS
        result.streamed["csv"] = Path(table_csv)
        run["table"] = {"streamed_to": str(table_csv), "chunk_rows": int(chunk_rows)}
    return result


def _job(
    catalog,
    start,
    days,
    threshold_km,
    primaries,
    threads,
    step_s,
    err_target_km,
    scheduler,
    cluster,
) -> _Job:
    """Validate the arguments; return the run's inputs."""
    if not days > 0:
        raise UserError(f"days must be > 0, got {days}")
    if not threshold_km > 0:
        raise UserError(f"threshold_km must be > 0, got {threshold_km}")
    distributed = bool(scheduler or cluster or os.environ.get(executor.ENV_SCHEDULER))
    if distributed:
        n_local = executor.parse_cluster(cluster) if cluster else None
        threads = executor.threads_rule(n_local, threads) if n_local else int(threads or 1)
    threads = numba.config.NUMBA_NUM_THREADS if threads is None else int(threads)
    if threads < 1:
        raise UserError(f"threads must be >= 1, got {threads}")
    jd0, fr0 = resolve_start(start, catalog)
    return _Job(
        jd0=jd0,
        fr0=fr0,
        days=float(days),
        window_s=float(days) * 86400.0,
        threshold_km=float(threshold_km),
        primary=resolve_primaries(primaries, catalog),
        primaries=primaries,
        threads=threads,
        step_s=float(step_s),
        err_target_km=float(err_target_km),
    )


def _warm_up():
    propagate.warm_up()
    refine.warm_up()


def _plan_step(ex, catalog, job, timings) -> propagate.Plan:
    """Knot spacing and interpolation error bound per object (verified against SGP4)."""
    stage = time.perf_counter()
    plan = propagate.make_plan(
        ex, catalog, job.step_s, job.err_target_km, job.jd0, job.fr0, job.window_s
    )
    timings["plan"] = time.perf_counter() - stage
    return plan


# Widest knot spans per time slice: longer slices cost less per-slice setup (each
# starts the kernel over every object and refits its boundary spans); on Dask the
# shorter ones are used when the long ones leave fewer than SLICES_PER_WORKER tasks
# per worker (the last slices would leave workers idle).
SLICE_SPANS = 4
# Kernel blocks (consecutive runs of intervals) per numba thread in a slice. With slices
# side by side, 4 against 2 measured 0.89x, 0.95x and 1.02x the kernel time in three
# runs (3-day screen, 6 alternating rounds each): noise, so 2 stays. 1 block is slower,
# 1.08x and 1.11x in two runs (not explained: its output stays far below the cap).
# benchmarks/slice_modes.py, results/slice_modes.json.
KERNEL_BLOCKS_PER_THREAD = 2
SHORT_SLICE_SPANS = 2
SLICES_PER_WORKER = 4


def _default_spans(plan, window_s, ex) -> int:
    if not ex.slices_as_tasks:
        return SLICE_SPANS
    n_long = np.ceil(window_s / propagate.chunk_length_s(plan, window_s, SLICE_SPANS))
    return SLICE_SPANS if n_long >= SLICES_PER_WORKER * ex.workers else SHORT_SLICE_SPANS


def _slice_spec(plan, job, ex, slice_spans, sub_steps=None) -> SliceSpec:
    """Return what the slices share: box paddings, cell size, slice length."""
    n = plan.klass.size
    spans = slice_spans or _default_spans(plan, job.window_s, ex)
    dev = plan.accel_km_s2 * job.step_s**2 / 8.0
    tol = dev + np.minimum(plan.err_km, MAX_ERR_KM)
    pad = tol + job.threshold_km / 2.0
    base_fail = np.where(plan.err_km > MAX_ERR_KM, 0.0, np.inf)
    sub = SUB_STEPS if sub_steps is None else int(sub_steps)
    if not 1 <= sub <= kernels.MAX_SUB_STEPS:
        raise UserError(f"sub_steps must be 1..{kernels.MAX_SUB_STEPS}, got {sub}")
    return SliceSpec(
        plan=plan,
        jd0=job.jd0,
        fr0=job.fr0,
        window_s=job.window_s,
        step_s=job.step_s,
        threshold_km=job.threshold_km,
        slice_s=propagate.chunk_length_s(plan, job.window_s, spans),
        cell_km=(CELL_FACTOR if BAND_KM > 0 else 1.0)
        * (8.0 * sub * job.step_s + 2.0 * float(np.median(pad))),
        sub_steps=sub,
        band_km=BAND_KM,
        pad_km=pad,
        tol_km=tol,
        primary=job.primary,
        perm=plan.class_order,
        base_fail_s=base_fail,
        cap=max(1024, 4 * n),
    )


class _Stopped(Exception):
    """A slice given up because the run is being interrupted."""


def run_slice(
    ex, spec: SliceSpec, t0_s: float, known_fail_s=None, cap: int | None = None, stop=None
):
    """Return the flagged (i, j, interval) triples of the time slice starting at t0_s.

    Pure function of (satellites, spec, t0_s): SGP4 knots and fits (over ex), then the
    broad and narrow phase (numba, the calling thread's numba threads). known_fail_s:
    failure times (window s) already known from earlier slices (they only save work:
    combine_slices drops what a failure found later rules out). Returns a dict: tri
    (3, m) int64 catalogue indices i < j and global interval numbers; the objects
    whose SGP4 failed in this slice (fail_rows, fail_s, fail_code); skipped; cap;
    sgp4_s and kernel_s. stop: a threading.Event that, once set, gives the slice up
    (raises _Stopped) at the next kernel block."""
    plan = spec.plan
    a = time.perf_counter()
    ch = propagate.build_chunk(ex, plan, t0_s, spec.slice_s, spec.jd0, spec.fr0)
    sgp4_s = time.perf_counter() - a
    # Failures past the window end do not count (the window's last knots may lie beyond).
    fail_s = np.minimum(spec.base_fail_s, np.where(ch.fail_s < spec.window_s, ch.fail_s, np.inf))
    if known_fail_s is not None:
        fail_s = np.minimum(fail_s, known_fail_s)
    until = propagate.active_until_s(fail_s, plan.h_s) - t0_s
    until = np.minimum(until, spec.window_s - t0_s + spec.step_s)
    n_steps = int(np.ceil(min(spec.slice_s, spec.window_s - t0_s) / spec.step_s))
    perm = spec.perm
    n_blocks = KERNEL_BLOCKS_PER_THREAD * max(1, numba.get_num_threads())
    cap = int(cap or spec.cap)
    a = time.perf_counter()
    while True:
        # Objects in class order: their coefficient rows are contiguous.
        oi, oj, ok, counts, skipped = kernels.screen_chunk(
            ch.coef,
            ch.cls_first,
            ch.cls_size,
            ch.cls_base,
            ch.cls_nspan,
            ch.cls_h,
            until[perm],
            spec.pad_km[perm],
            spec.tol_km[perm],
            spec.primary[perm],
            spec.step_s,
            spec.threshold_km,
            spec.cell_km,
            n_steps,
            n_blocks,
            cap,
            spec.sub_steps,
            spec.band_km,
            stop,
        )
        if stop is not None and stop.is_set():
            raise _Stopped
        if counts.max() <= cap:
            break
        cap = int(counts.max() * 1.3)
    kernel_s = time.perf_counter() - a
    base = int(round(t0_s / spec.step_s))
    tri = []
    for b in range(n_blocks):
        m = int(counts[b])
        a_, b_ = perm[oi[b, :m]], perm[oj[b, :m]]
        tri.append(
            np.stack([np.minimum(a_, b_), np.maximum(a_, b_), ok[b, :m].astype(np.int64) + base])
        )
    rows = np.flatnonzero(np.isfinite(ch.fail_s))
    tri = np.concatenate(tri, axis=1)
    return {
        "t0_s": float(t0_s),
        "tri": tri,
        "result_bytes": int(tri.nbytes + 24 * rows.size),
        "fail_rows": rows,
        "fail_s": ch.fail_s[rows],
        "fail_code": ch.fail_code[rows],
        "skipped": int(skipped),
        "cap": cap,
        "sgp4_s": sgp4_s,
        "kernel_s": kernel_s,
    }


def _slice_task(ctx, spec, t0_s, threads):
    """One time slice as a Dask task: SGP4 in this worker, numba on ``threads``."""
    a = time.perf_counter()
    with ctx.kernel_lock:
        prev = numba.get_num_threads()
        numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))
        try:
            out = run_slice(ctx.pool(int(threads), warm_up=_warm_up), spec, t0_s)
        finally:
            numba.set_num_threads(prev)
    out["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    out["task_s"] = time.perf_counter() - a
    return out


def _slices_step(ex, spec, timings, quiet) -> list:
    """Run every time slice: here (side by side on threads, or one after another with
    SGP4 pieces over ex's processes), or as one task each on Dask. Returns the slice
    results in time order."""
    stage = time.perf_counter()
    starts = np.arange(int(np.ceil(spec.window_s / spec.slice_s))) * spec.slice_s
    if ex.slices_as_tasks:
        handle = ex.share(spec)
        results = ex.map(_slice_task, [(handle, float(t0), ex.threads) for t0 in starts], "slices")
    elif _side_by_side(spec, starts.size):
        results = _slices_on_threads(ex, spec, starts, quiet)
    else:
        results = []
        known = spec.base_fail_s.copy()
        cap = spec.cap
        for t0 in progress(starts.tolist(), desc="screen", unit="slice", quiet=quiet):
            res = run_slice(ex, spec, t0, known, cap)
            _fold_failures(known, res, spec)
            cap = res["cap"]
            res["worker"] = "client"
            results.append(res)
    timings["sgp4_knots"] = sum(r["sgp4_s"] for r in results)
    timings["broad_narrow_phase"] = sum(r["kernel_s"] for r in results)
    timings["slices_wall"] = time.perf_counter() - stage
    return results


# Local runs screen several slices side by side, one thread each (its SGP4 knots, then
# its kernel), rather than one slice at a time on every thread: no thread waits for
# another's last block or for the Python between stages, and each thread's working set
# is its own (7 days, full catalogue: slices 0.86x the wall time; README Performance).
# Only while one chunk's coefficients per thread fit in this many bytes (each thread
# holds its own chunk: ~60 MB for the full public catalogue, GBs for a million objects).
SIDE_BY_SIDE_MAX_BYTES = 1 << 30


def _side_by_side(spec: SliceSpec, n_slices: int) -> bool:
    threads = numba.get_num_threads()
    return (
        threads > 1
        and n_slices > 1
        and propagate.use_numba_knots()
        and threads * propagate.chunk_bytes(spec.plan, spec.slice_s) <= SIDE_BY_SIDE_MAX_BYTES
    )


def _fold_failures(known: np.ndarray, res: dict, spec: SliceSpec) -> None:
    """Fold a slice's SGP4 failures into the failure times later slices start from
    (they only save work: _combine_slices applies every failure to every slice)."""
    inside = res["fail_s"] < spec.window_s
    rows = res["fail_rows"][inside]
    known[rows] = np.minimum(known[rows], res["fail_s"][inside])


def _one_thread_slice(ex, spec, t0_s, known, cap, stop):
    numba.set_num_threads(1)  # thread-local: this slice's knots and kernel stay here
    res = run_slice(ex, spec, t0_s, known, cap, stop)
    res["worker"] = f"client:{threading.current_thread().name}"
    return res


def _slices_on_threads(ex, spec, starts, quiet) -> list:
    """Every slice on one of numba.get_num_threads() Python threads, as many in flight
    as threads, each started with the failures of the slices finished before it."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    threads = numba.get_num_threads()
    results = [None] * starts.size
    known = spec.base_fail_s.copy()
    cap = spec.cap
    stop = threading.Event()  # set on the way out of an error or Ctrl-C
    with (
        ThreadPoolExecutor(threads, thread_name_prefix="ssa-slice") as pool,
        progress(total=starts.size, desc="screen", unit="slice", quiet=quiet) as bar,
    ):
        try:
            running = {}
            nxt = 0
            while nxt < starts.size or running:
                while nxt < starts.size and len(running) < threads:
                    job = (ex, spec, float(starts[nxt]), known.copy(), cap, stop)
                    running[pool.submit(_one_thread_slice, *job)] = nxt
                    nxt += 1
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    res = fut.result()
                    results[running.pop(fut)] = res
                    _fold_failures(known, res, spec)
                    cap = max(cap, res["cap"])
                    bar.update(1)
        except BaseException:
            stop.set()  # the slices in flight give up at their next kernel block
            raise
    return results


def _combine_slices(slices, spec, plan, job):
    """Return the flagged triples of all slices, each object's first failure time and
    the dropped objects (plan or SGP4), independent of how the window was sliced."""
    t_fail_s = spec.base_fail_s.copy()
    dropped = [
        {
            "index": int(q),
            "t_s": 0.0,
            "reason": (
                f"interpolation error {plan.measured_err_km[q]:.3g} km at the finest knot "
                f"spacing ({plan.h_s[q]:.0f} s): SGP4 output not smooth"
            ),
        }
        for q in np.flatnonzero(plan.err_km > MAX_ERR_KM)
    ]
    for res in slices:  # time order: the first failure of an object wins
        for q, f, code in zip(
            res["fail_rows"].tolist(),
            res["fail_s"].tolist(),
            res["fail_code"].tolist(),
            strict=True,
        ):
            if np.isfinite(t_fail_s[q]) or f >= job.window_s:
                continue
            t_fail_s[q] = f
            reason = (
                f"SGP4 error {code}: {SGP4_ERRORS.get(code, 'unknown')}"
                if code
                else "SGP4 returned a non-finite or non-physical state (|r| > 2e6 km "
                "or |v| > 12 km/s)"
            )
            dropped.append({"index": q, "t_s": f, "reason": reason})
    tri = (
        np.concatenate([r["tri"] for r in slices], axis=1) if slices else np.zeros((3, 0), np.int64)
    )
    for r in slices:  # one copy of the triples is enough (run.json keeps the count)
        r["flagged"] = int(r.pop("tri").shape[1])
    # A slice only knew the failures up to its own end: drop intervals after an
    # object's failure found in an earlier slice (no-op when slices ran in order).
    until = propagate.active_until_s(t_fail_s, plan.h_s)
    end_s = (tri[2] + 1) * job.step_s
    keep = (end_s <= until[tri[0]]) & (end_s <= until[tri[1]])
    return tri[:, keep], t_fail_s, dropped


def _refine_step(ex, tri, t_fail_s, job, timings, quiet):
    """Merge triples into windows and refine them on exact SGP4."""
    stage = time.perf_counter()
    wi, wj, wlo, whi = _windows(tri, job.step_s)
    parts = ex.workers * 4 if ex.slices_as_tasks else ex.workers
    with progress(total=1, desc="refine", unit="stage", quiet=quiet) as bar:
        found = refine.refine(
            ex, wi, wj, wlo, whi, job.jd0, job.fr0, job.window_s, job.threshold_km, parts=parts
        )
        bar.update(1)
    # Drop minima after an object's failure (the window may run past it).
    ok = (found["tca_s"] < t_fail_s[found["i"]]) & (found["tca_s"] < t_fail_s[found["j"]])
    found = {k: v[ok] for k, v in found.items()}
    timings["refine"] = time.perf_counter() - stage
    return found, int(wi.size)


def _run_record(
    catalog, job, plan, counts, dropped, slices, n_flagged, n_windows, timings, described, t_wall
) -> dict:
    """Return run.json's content: inputs, counts, dropped objects, settings, timings."""
    n = len(catalog)
    names = np.asarray(catalog.name, dtype=object)
    jd0, fr0 = job.jd0, job.fr0
    drop_rows = []
    for d in sorted(dropped, key=lambda x: (x["t_s"], int(catalog.norad_id[x["index"]]))):
        q = d["index"]
        drop_rows.append(
            {
                "norad_id": int(catalog.norad_id[q]),
                "name": str(names[q]),
                "t_utc": format_tca(jd0, fr0 + d["t_s"] / 86400.0)[0],
                "reason": d["reason"],
            }
        )
    primaries = job.primaries
    ok_err = plan.err_km <= MAX_ERR_KM if n else None
    return {
        "ssa_version": ssa.__version__,
        "inputs": {
            "catalogs": [],
            "satcat": None,
            "start_utc": format_tca(jd0, fr0)[0],
            "end_utc": format_tca(jd0, fr0 + job.window_s / 86400.0)[0],
            "days": job.days,
            "threshold_km": job.threshold_km,
            "primaries": None
            if primaries is None
            else [
                str(p) for p in ([primaries] if isinstance(primaries, (str, int)) else primaries)
            ],
            "opsmode": getattr(catalog, "opsmode", "i"),
        },
        "counts": {
            "objects": n,
            "screened": int(n - len(dropped)),
            "dropped": len(dropped),
            "primaries": int(job.primary.sum()),
            "candidate_intervals": int(n_flagged),
            "skipped_object_intervals": sum(r["skipped"] for r in slices),
            "candidate_windows": n_windows,
            **counts,
        },
        "dropped": drop_rows,
        "settings": {
            "step_s": job.step_s,
            "err_target_km": job.err_target_km,
            "threads": job.threads,
            "refine_sample_s": refine.SAMPLE_S,
            "tca_tol_s": refine.TCA_TOL_S,
            "long_duration_s": LONG_DURATION_S,
            "knot_spacing_s_counts": (
                {
                    str(int(h)): int(c)
                    for h, c in zip(*np.unique(plan.h_s, return_counts=True), strict=False)
                }
                if n
                else {}
            ),
            "max_interp_error_bound_km": (
                float(np.max(plan.err_km[ok_err])) if n and ok_err.any() else None
            ),
        },
        "executor": described,
        "slices": [
            {
                "t0_s": r["t0_s"],
                "sgp4_s": round(r["sgp4_s"], 3),
                "kernel_s": round(r["kernel_s"], 3),
                "worker": r["worker"],
                "result_bytes": r["result_bytes"],
                "flagged": r["flagged"],
            }
            for r in slices
        ],
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "wall_s": round(time.perf_counter() - t_wall, 3),
        "peak_memory_mb": round(_peak_mb(), 1),
    }


def _windows(tri, step_s):
    """Merge flagged (i, j, k) triples into windows of consecutive intervals per pair."""
    if tri.shape[1] == 0:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0), np.zeros(0)
    n_obj = int(tri[:2].max()) + 1
    n_k = int(tri[2].max()) + 1
    if tri[2].min() >= 0 and float(n_obj) * n_obj * n_k < 2.0**62:
        # One int64 key per triple, sorted once: ~0.1 s for 7 days' 1.6 M triples where
        # lexsort takes ~0.9 s (np.unique, hash-based in numpy 2.4, ~2 s).
        key = np.sort((tri[0] * n_obj + tri[1]) * n_k + tri[2])
        key = key[np.r_[True, key[1:] != key[:-1]]]
        ij, k = np.divmod(key, n_k)
        i, j = np.divmod(ij, n_obj)
    else:
        order = np.lexsort((tri[2], tri[1], tri[0]))
        i, j, k = tri[0][order], tri[1][order], tri[2][order]
        keep = np.ones(i.size, bool)
        keep[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1]) | (k[1:] != k[:-1])
        i, j, k = i[keep], j[keep], k[keep]
    new = np.ones(i.size, bool)
    new[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1]) | (k[1:] != k[:-1] + 1)
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [i.size]]) - 1
    return i[starts], j[starts], k[starts] * step_s, (k[ends] + 1) * step_s


def _table_order(catalog, found) -> dict:
    """Return found's (i, j, tca_s, duration_s) in table order: NORAD_CAT_ID_1 <
    NORAD_CAT_ID_2, sorted by (TCA, NORAD_CAT_ID_1, NORAD_CAT_ID_2) over the whole run,
    so the table cut into consecutive chunks of this order is the table."""
    i, j = found["i"], found["j"]
    swap = catalog.norad_id[i] > catalog.norad_id[j]
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    tca = found["tca_s"]
    order = np.lexsort((catalog.norad_id[j], catalog.norad_id[i], tca))
    return {"i": i[order], "j": j[order], "tca_s": tca[order], "dur": found["duration_s"][order]}


class _TableLookups:
    """Per-object text columns, built once per run (not once per chunk)."""

    def __init__(self, catalog):
        self.names = np.asarray(catalog.name, dtype=object)
        self.cons = np.array([_constellation(str(x)) for x in self.names], dtype=object)
        # Constellation as a number per object (0: none), for a vectorised comparison.
        codes = {c: k + 1 for k, c in enumerate(CONSTELLATIONS)}
        self.cons_code = np.array([codes.get(c, 0) for c in self.cons.tolist()], np.int64)
        self.object_type = np.asarray(catalog.object_type, dtype=object)
        self.owner = np.asarray(catalog.owner, dtype=object)


def _table_step(ex, catalog, found, job, timings, table_csv, on_chunk, chunk_rows):
    """Build the table (and START/STOP) in chunks of the final row order; return it
    (table_csv None) or stream every chunk to table_csv and return the empty table.
    Also return the table's counts for run.json.

    Streamed, the chunks flow through a pipeline of three threads: table and START/STOP
    here, then on_chunk (the CLI's risk columns), then the CSV, so one chunk's risk and
    text run while the next chunk is built (each stage keeps the chunk order; the rows
    of a chunk do not depend on the others, so the file is the same as one pass)."""
    from ssa.screening.formats import CsvStream

    timings["table"] = timings["start_stop"] = 0.0
    stage = time.perf_counter()
    ordered = _table_order(catalog, found)
    found.clear()  # the caller's dict too: one copy of the per-conjunction arrays
    m = ordered["i"].size
    step = m
    if table_csv is not None:  # at least a few chunks, so that the stages overlap
        step = max(1, int(chunk_rows or STREAM_CHUNK_ROWS))
        step = min(step, max(MIN_STREAM_CHUNK_ROWS, -(-m // MIN_STREAM_CHUNKS)))
    looks = _TableLookups(catalog)
    timings["table"] += time.perf_counter() - stage
    counts = {"conjunctions": 0, "long_duration": 0, "same_constellation": 0}
    out = None
    rows = None

    def write(rows):  # the CSV stage (its own thread when streamed)
        nonlocal out
        stage = time.perf_counter()
        columns = ScreenResult(rows, {}).columns
        if out is None:
            out = CsvStream(table_csv, columns)
        elif columns != out.columns:
            raise ValueError(f"chunk columns {columns} differ from {out.columns}")
        out.append(rows)
        timings["write_csv"] = timings.get("write_csv", 0.0) + time.perf_counter() - stage

    def finish(rows):  # the risk stage: on_chunk, then hand the chunk to the CSV stage
        if on_chunk is not None:
            on_chunk(rows)
        return None if table_csv is None else writer.submit(write, rows)

    pipe = _Pipeline() if table_csv is not None else None
    writer = pipe.writer if pipe else None
    try:
        for a in range(0, max(m, 1), max(step, 1)):
            stage = time.perf_counter()
            part = {k: v[a : a + step] for k, v in ordered.items()}
            rows = _table(catalog, part, job.jd0, job.fr0, job.threshold_km, looks)
            timings["table"] += time.perf_counter() - stage
            stage = time.perf_counter()
            crossings.add_start_stop(  # START, STOP, split over the executor's workers
                rows, catalog, job.jd0, job.fr0, job.threshold_km, job.window_s, ex=ex
            )
            timings["start_stop"] += time.perf_counter() - stage
            flags = rows["FLAGS"].tolist()
            counts["conjunctions"] += len(flags)
            counts["long_duration"] += sum("LONG_DURATION" in f for f in flags)
            counts["same_constellation"] += sum("SAME_CONSTELLATION" in f for f in flags)
            if pipe is None:
                finish(rows)
                continue
            pipe.put(finish, rows)
        if pipe is not None:
            pipe.drain()  # every stage done: rows (the last chunk) is complete
            rows = {k: v[:0] for k, v in rows.items()}
    finally:
        if pipe is not None:
            pipe.close()
        if out is not None:
            out.close()
    return rows, counts


# Chunks of a streamed table in flight (built, in risk or in CSV) at most: bounds the
# memory to a few chunks whatever the table's length.
PIPELINE_CHUNKS = 3


class _Pipeline:
    """The risk and CSV stages of a streamed table: one thread each, chunks in order.

    put(finish, rows) runs finish(rows) on the risk thread; finish returns the CSV
    stage's future (writer.submit). An error in any stage is raised by put or drain."""

    def __init__(self):
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        self.risk = ThreadPoolExecutor(1, thread_name_prefix="ssa-risk")
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="ssa-csv")
        self._inflight = deque()

    def put(self, finish, rows) -> None:
        while len(self._inflight) >= PIPELINE_CHUNKS:
            self._wait_oldest()
        self._inflight.append(self.risk.submit(finish, rows))

    def _wait_oldest(self) -> None:
        written = self._inflight.popleft().result()  # the risk stage (raises its error)
        if written is not None:
            written.result()  # the CSV stage

    def drain(self) -> None:
        while self._inflight:
            self._wait_oldest()

    def close(self) -> None:
        for f in self._inflight:  # after an error: nothing more starts
            f.cancel()
        self.risk.shutdown(wait=True, cancel_futures=True)
        self.writer.shutdown(wait=True, cancel_futures=True)


# FLAGS of a new row by (LONG_DURATION, SAME_CONSTELLATION) as 1 + 2.
_FLAG_TEXT = np.array(
    ["", "LONG_DURATION", "SAME_CONSTELLATION", "LONG_DURATION;SAME_CONSTELLATION"], dtype=object
)


def _table(catalog, found, jd0, fr0, threshold_km, looks=None):
    """Return the result columns of found (i, j, tca_s, dur already in table order,
    see _table_order): NORAD_CAT_ID_1 < NORAD_CAT_ID_2, sorted by TCA."""
    looks = looks or _TableLookups(catalog)
    i, j, tca, dur = found["i"], found["j"], found["tca_s"], found["dur"]
    m = i.size
    e1, r1, v1 = refine.states(catalog.satrecs, i, jd0, fr0, tca)
    e2, r2, v2 = refine.states(catalog.satrecs, j, jd0, fr0, tca)
    tca_fr_total = fr0 + tca / 86400.0
    whole = np.floor(tca_fr_total)
    tca_jd = jd0 + whole
    tca_fr = tca_fr_total - whole
    dr = r2 - r1
    rtn = rtn_components(r1, v1, dr) if m else np.zeros((0, 3))
    alt, lat, lon = teme_to_geodetic(r1, tca_jd, tca_fr) if m else (np.zeros(0),) * 3
    names = looks.names
    long_flag = dur >= LONG_DURATION_S
    same_flag = (looks.cons_code[i] > 0) & (looks.cons_code[i] == looks.cons_code[j])
    flags = _FLAG_TEXT[long_flag.astype(np.int64) + 2 * same_flag.astype(np.int64)]
    rows = {
        "NORAD_CAT_ID_1": catalog.norad_id[i],
        "OBJECT_NAME_1": names[i],
        "DSE_1": (tca_jd - catalog.epoch_jd[i]) + (tca_fr - catalog.epoch_fr[i]),
        "NORAD_CAT_ID_2": catalog.norad_id[j],
        "OBJECT_NAME_2": names[j],
        "DSE_2": (tca_jd - catalog.epoch_jd[j]) + (tca_fr - catalog.epoch_fr[j]),
        "TCA": np.array(format_tca(tca_jd, tca_fr), dtype=object),
        "TCA_RANGE": np.linalg.norm(dr, axis=1),
        "TCA_RELATIVE_SPEED": np.linalg.norm(v2 - v1, axis=1),
        "OBJECT_TYPE_1": looks.object_type[i],
        "OBJECT_TYPE_2": looks.object_type[j],
        "OWNER_1": looks.owner[i],
        "OWNER_2": looks.owner[j],
        "TCA_JD": tca_jd,
        "TCA_FR": tca_fr,
        "R_KM": rtn[:, 0],
        "T_KM": rtn[:, 1],
        "N_KM": rtn[:, 2],
        "ALT_KM": alt,
        "LAT_DEG": lat,
        "LON_DEG": lon,
        "FLAGS": flags,
    }
    for q, ax in enumerate("XYZ"):
        rows[f"{ax}1_KM"] = r1[:, q]
        rows[f"{ax}2_KM"] = r2[:, q]
        rows[f"V{ax}1_KMS"] = v1[:, q]
        rows[f"V{ax}2_KMS"] = v2[:, q]
    for c in EMPTY_UNTIL_RISK:
        rows[c] = np.full(m, np.nan) if c not in TEXT_RISK_COLUMNS else np.full(m, "", dtype=object)
    rows["PC_2D_VALID"] = np.full(m, "", dtype=object)
    # Filled by the START/STOP step (ssa.screening.crossings) right after the table.
    rows["START"] = np.full(m, "", dtype=object)
    rows["STOP"] = np.full(m, "", dtype=object)
    assert set(COLUMNS) <= set(rows)
    return rows
