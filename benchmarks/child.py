"""One measurement in its own process: ``python -m benchmarks.child SPEC.json OUT.json``.

The parent (``benchmarks.suite``) reads the child's peak resident memory and CPU
time from ``os.wait4``, so runs never contaminate each other's memory figures.
Each job writes its own finer timings to OUT.json.

Job kinds (``spec["kind"]``):

* ``screen``: ``ssa.screening.screen`` on one catalog file. Numba is warmed up on a
  small slice of the same catalog first (reported as ``warmup_s``), then the run
  is repeated ``repeats`` times (wall and CPU time of each, median reported).
* ``baselines``: ``benchmarks.baselines.screen_baselines`` on one catalog file.
* ``propagation``: propagation throughput of sgp4 ``SatrecArray``, heyoka's
  ``sgp4_propagator`` (LEO only) and the screening core's knots + interpolation.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np

WARMUP_OBJECTS = 200  # enough objects for every kernel path to compile
WARMUP_DAYS = 0.05
WARMUP_THRESHOLD_KM = 50.0  # wide, so the warm-up finds conjunctions and compiles refinement too


def cpu_s() -> float:
    """CPU seconds (user + system) of this process and of its reaped children (worker
    processes a run forks and joins), so multi-process runs are counted whole."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _rows_to_list(rows) -> list[dict]:
    """Conjunction identity of screening rows: ids, TCA (jd, fr) and miss (km)."""
    n = len(rows["NORAD_CAT_ID_1"])
    cols = [
        np.asarray(rows[c])
        for c in ("NORAD_CAT_ID_1", "NORAD_CAT_ID_2", "TCA_JD", "TCA_FR", "TCA_RANGE")
    ]
    return [
        {
            "norad_id_1": int(cols[0][k]),
            "norad_id_2": int(cols[1][k]),
            "tca_jd": float(cols[2][k]),
            "tca_fr": float(cols[3][k]),
            "miss_km": float(cols[4][k]),
        }
        for k in range(n)
    ]


def job_screen(spec: dict) -> dict:
    t0 = time.perf_counter()
    from ssa.catalog import Catalog
    from ssa.screening import screen

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    catalog = Catalog.load(spec["catalog"])
    load_s = time.perf_counter() - t0
    start = (spec["start_jd"], spec["start_fr"])  # exact two-part JD, as the baselines use
    kwargs = {"threshold_km": spec["threshold_km"], "quiet": True}
    if spec.get("threads"):
        kwargs["threads"] = spec["threads"]
    t0 = time.perf_counter()
    warm = catalog.subset(np.arange(min(WARMUP_OBJECTS, len(catalog))))
    screen(
        warm,
        start=start,
        days=WARMUP_DAYS,
        **{**kwargs, "threshold_km": max(WARMUP_THRESHOLD_KM, spec["threshold_km"])},
    )
    warmup_s = time.perf_counter() - t0
    walls, cpus, result = [], [], None
    budget_s = spec.get("repeat_budget_s", math.inf)
    for _ in range(max(1, spec.get("repeats", 1))):
        if walls and sum(walls) + walls[-1] > budget_s:
            break  # long runs are not repeated: one run is already a stable figure
        result = None  # free the previous result before the next run
        c0, w0 = cpu_s(), time.perf_counter()
        result = screen(catalog, start=start, days=spec["days"], **kwargs)
        walls.append(time.perf_counter() - w0)
        cpus.append(cpu_s() - c0)
    run = dict(result.run)
    out = {
        "objects": len(catalog),
        "import_s": import_s,
        "load_s": load_s,
        "warmup_s": warmup_s,
        "wall_runs_s": walls,
        "cpu_runs_s": cpus,
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "conjunction_count": len(result.rows["NORAD_CAT_ID_1"]),
        "timings_s": run.get("timings_s", {}),
        "counts": run.get("counts", {}),
        "run_peak_memory_mb": run.get("peak_memory_mb"),
        "start_utc": run.get("inputs", {}).get("start_utc"),
    }
    if spec.get("keep_rows"):
        out["conjunctions"] = _rows_to_list(result.rows)
    return out


def job_baselines(spec: dict) -> dict:
    from . import baselines, synthetic

    warm_s = baselines.warm_up()
    triples = synthetic.read_3le(spec["catalog"])
    res = baselines.screen_baselines(
        triples,
        spec["start_jd"],
        spec["start_fr"],
        spec["days"],
        spec["threshold_km"],
        step_s=spec.get("step_s", 10.0),
        brute_step_stride=spec.get("brute_step_stride", 1),
    )
    res["warmup_s"] = warm_s
    return res


def _median_rate(fn, props: int, repeats: int) -> dict:
    walls, cpus = [], []
    for _ in range(repeats):
        c0, w0 = cpu_s(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(cpu_s() - c0)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return {
        "propagations": props,
        "wall_s": wall,
        "cpu_s": cpu,
        "props_per_s": props / wall,
        "props_per_cpu_s": props / cpu if cpu > 0 else None,
    }


def job_propagation(spec: dict) -> dict:
    """Propagations per second: one propagation = one object's state at one time."""
    from sgp4.api import SatrecArray

    from . import baselines, synthetic

    triples = synthetic.read_3le(spec["catalog"])
    sats, _ = baselines.read_satrecs(triples)
    n_times, repeats = spec["times"], spec.get("repeats", 3)
    jd0, fr0 = spec["start_jd"], spec["start_fr"]
    t_s = np.linspace(0.0, 86400.0, n_times)
    fr = fr0 + t_s / 86400.0
    jd = np.full(n_times, jd0)
    out = {"objects": len(sats), "times": n_times}
    arr = SatrecArray(sats)
    out["satrec_array"] = _median_rate(lambda: arr.sgp4(jd, fr), len(sats) * n_times, repeats)
    out["satrec_array"]["threads"] = 1

    # heyoka: LEO only (its SGP4 has no deep-space SDP4 branch): period < 225 min.
    leo = [s for s in sats if 2.0 * np.pi / s.no_kozai < 225.0]
    try:
        import heyoka as hy

        t0 = time.perf_counter()
        prop = hy.model.sgp4_propagator(leo)
        build_s = time.perf_counter() - t0
        # Minutes since each object's own epoch at the same UTC instants.
        ep = np.array([(s.jdsatepoch - jd0) + (s.jdsatepochF - fr0) for s in leo]) * 1440.0
        tm = np.ascontiguousarray(t_s[:, None] / 60.0 - ep[None, :])
        res = _median_rate(lambda: prop(tm), len(leo) * n_times, repeats)
        res.update(objects=len(leo), build_s=build_s, version=hy.__version__)
        out["heyoka"] = res
        # Same LEO set through SatrecArray, for a like-for-like ratio and an accuracy check.
        arr_leo = SatrecArray(leo)
        err, r_ref, _ = arr_leo.sgp4(jd, fr)
        r_hy = np.moveaxis(prop(tm)[:, 0:3, :], 2, 0)  # (object, time, xyz)
        ok = (err == 0) & np.isfinite(r_hy).all(axis=2)
        res["max_diff_vs_sgp4_km"] = float(np.abs(r_hy - r_ref)[ok].max()) if ok.any() else None
        out["satrec_array_leo"] = _median_rate(
            lambda: arr_leo.sgp4(jd, fr), len(leo) * n_times, repeats
        )
    except Exception as exc:  # not installed or failed: recorded, never fatal
        out["heyoka"] = {"error": f"{type(exc).__name__}: {exc}"}

    out["ours"] = _ours_propagation(spec, sats, jd0, fr0, t_s, repeats)
    return out


def _ours_propagation(spec, sats, jd0, fr0, t_s, repeats) -> dict:
    """The screening core's propagation layer: SGP4 at per-object knots, quintic Hermite
    fits, then interpolated positions at the same times as the SatrecArray figure."""
    try:
        from ssa.catalog import Catalog
        from ssa.screening import kernels
        from ssa.screening import propagate as prop
        from ssa.screening.executor import LocalExecutor, SatrecContext
    except Exception as exc:
        return {"error": f"screening propagation layer unavailable: {type(exc).__name__}: {exc}"}
    from ssa.screening import api

    step_s = float(api.DEFAULT_STEP_S)  # the settings screen() uses
    target_km = float(api.DEFAULT_ERR_TARGET_KM)
    threads = int(spec.get("threads") or 1)
    catalog = Catalog.load(spec["catalog"])
    window_s = float(t_s[-1])
    n, m = len(catalog), t_s.size
    idx = np.repeat(np.arange(n, dtype=np.int64), m)
    tt = np.tile(t_s, n)

    def run(catalog, idx, tt):
        clock = []
        with LocalExecutor(SatrecContext(catalog.satrecs), threads) as pool:
            clock.append((time.perf_counter(), cpu_s()))
            plan = prop.make_plan(pool, catalog, step_s, target_km, jd0, fr0, window_s)
            clock.append((time.perf_counter(), cpu_s()))
            length = prop.chunk_length_s(plan, window_s)
            chunks = [
                prop.build_chunk(pool, plan, c0, length, jd0, fr0)
                for c0 in np.arange(0.0, window_s, length)
            ]
            clock.append((time.perf_counter(), cpu_s()))
        for k, ch in enumerate(chunks):  # positions at every time, chunk by chunk
            sel = (tt >= k * length) & ((tt < (k + 1) * length) | (k == len(chunks) - 1))
            kernels.eval_positions(
                ch.coef, ch.off, ch.stride, plan.h_s, ch.nspan, idx[sel], tt[sel] - k * length
            )
        clock.append((time.perf_counter(), cpu_s()))
        return [(clock[q + 1][0] - clock[q][0], clock[q + 1][1] - clock[q][1]) for q in range(3)]

    small = catalog.subset(np.arange(min(n, 50)))  # warm-up: numba kernels from the cache
    run(small, np.repeat(np.arange(len(small), dtype=np.int64), m), np.tile(t_s, len(small)))
    parts = [run(catalog, idx, tt) for _ in range(repeats)]
    (plan_s, plan_cpu), (knots_s, knots_cpu), (eval_s, eval_cpu) = (
        (statistics.median(p[q][0] for p in parts), statistics.median(p[q][1] for p in parts))
        for q in range(3)
    )
    wall, cpu = knots_s + eval_s, knots_cpu + eval_cpu
    return {
        "what": f"knots + quintic Hermite, {threads} process(es)",
        "objects": n,
        "propagations": n * m,
        "wall_s": wall,
        "cpu_s": cpu,
        "props_per_s": n * m / wall,
        "props_per_cpu_s": n * m / cpu if cpu > 0 else None,
        "props_per_s_incl_plan": n * m / (wall + plan_s),
        "plan_s": plan_s,
        "plan_cpu_s": plan_cpu,
        "knots_and_fit_s": knots_s,
        "interpolation_s": eval_s,
        "step_s": step_s,
        "target_km": target_km,
        "threads": threads,
        "note": "rate excludes the one-off plan (per-object knot spacing, verified "
        "against SGP4), reported as plan_s",
    }


JOBS = {"screen": job_screen, "baselines": job_baselines, "propagation": job_propagation}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec_path, out_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    try:
        result = {"ok": True, **JOBS[spec["kind"]](spec)}
    except Exception as exc:  # the parent records the failure and carries on
        result = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    out_path.write_text(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
