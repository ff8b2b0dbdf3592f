"""SGP4 in numba (ssa.screening.sgp4_numba) against sgp4's SatrecArray, same run.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.sgp4_numba [--days 1 7] [--reps 2]

1. The stages SGP4 runs in, in one process (2 forked SatrecArray workers when
   the engine is "satrecarray"): the plan (class verification) and the knots and
   fits of every time slice of the 7-day full-catalogue screen, engines
   interleaved (sat, numba, sat, numba); plans and every slice's coefficients are
   checked bit-identical across engines.
2. Raw propagation of the full catalogue (catalog-2024-07-05.3le) over 1 hour at
   60 s steps: SatrecArray in one process, SatrecArray split over 2 forked worker
   processes (the screening's old knot path, results summed in the workers so only
   a number crosses the pipe), sgp4_numba on 1 and on 2 numba threads.
3. Full-catalogue screens (``ssa.screening.screen``, default settings), each in a
   fresh process, with the slices' knots in SatrecArray (SSA_KNOT_SGP4=satrecarray,
   main's path) and in numba, interleaved (sat, numba, sat, numba, ...) so both see
   the same machine load. Reports wall time, the knots stage (``sgp4_knots``) and
   the other stages, and checks the conjunction tables are identical column by
   column.
Writes benchmarks/results/sgp4_numba.json.

--against OLD_SGP4_NUMBA_PY: only an A/B of two versions of sgp4_numba (e.g. ``git
show main:ssa/screening/sgp4_numba.py > /tmp/old.py``): the full catalogue over 7 days
at 97 times, one numba thread, thread CPU per evaluation, versions alternated
--reps times (near-earth and deep-space rows apart); the outputs (codes, positions,
velocities) must be bit-identical. Writes benchmarks/results/sgp4_numba_compare.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CATALOG = "catalog-2024-07-05.3le"
OUT = Path(__file__).parent / "results" / "sgp4_numba.json"
RAW_HOURS = 1.0
RAW_STEP_S = 60.0


def _catalog():
    from ssa.catalog import Catalog
    from ssa.data import data_file

    return Catalog.load(data_file(CATALOG))


def _cpu_s(ex=None) -> float:
    """CPU seconds used so far by this process (all threads) and ex's live worker
    processes: under a shared machine's load, wall time measures the scheduler as
    much as the code."""
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    for pid in ex.children() if ex is not None else []:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def _pool_piece(ctx, idx, jd, fr):
    e, r, v = ctx.satrec_array(idx).sgp4(jd, fr)
    return float(np.nansum(r[:, :, 0]))


def raw() -> dict:
    """Time raw propagation of the whole catalogue, four ways, in this process."""
    import numba

    from ssa.screening import executor, sgp4_numba

    cat = _catalog()
    n = len(cat)
    jd0, fr0 = cat.epoch_median()
    fr = fr0 + np.arange(0.0, RAW_HOURS * 3600.0, RAW_STEP_S) / 86400.0
    jd = np.full(fr.size, jd0)
    calls = n * fr.size
    out = {"objects": n, "steps": int(fr.size), "cores": os.cpu_count()}
    t = time.perf_counter()
    el = sgp4_numba.elements(cat.satrecs)
    out["read_rows_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    sgp4_numba.propagate(el[:2], jd[:2], fr[:2])  # compile or load from cache
    out["numba_first_call_s"] = round(time.perf_counter() - t, 3)
    ctx = executor.SatrecContext(cat.satrecs)
    timings, cpu = {}, {}
    with executor.LocalExecutor(ctx, 2) as ex:
        halves = np.array_split(np.arange(n), 4)
        ex.map(_pool_piece, [(h[:10], jd[:2], fr[:2]) for h in halves], "warm")
        arr = ctx.satrec_array(np.arange(n))
        for _rep in range(2):  # interleaved, best of two
            t, c = time.perf_counter(), _cpu_s()
            arr.sgp4(jd, fr)
            timings.setdefault("satrecarray_1proc_s", []).append(time.perf_counter() - t)
            cpu.setdefault("satrecarray_1proc_cpu_s", []).append(_cpu_s() - c)
            t, c = time.perf_counter(), _cpu_s(ex)
            ex.map(_pool_piece, [(h, jd, fr) for h in halves], "raw")
            timings.setdefault("satrecarray_2proc_s", []).append(time.perf_counter() - t)
            cpu.setdefault("satrecarray_2proc_cpu_s", []).append(_cpu_s(ex) - c)
            for threads in (1, 2):
                numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
                t, c = time.perf_counter(), _cpu_s()
                sgp4_numba.propagate(el, jd, fr)
                timings.setdefault(f"numba_{threads}thread_s", []).append(time.perf_counter() - t)
                cpu.setdefault(f"numba_{threads}thread_cpu_s", []).append(_cpu_s() - c)
    for k, v in cpu.items():
        out[k] = round(min(v), 3)
    out["cpu_ratio_numba_1thread_over_satrecarray"] = round(
        out["numba_1thread_cpu_s"] / out["satrecarray_1proc_cpu_s"], 3
    )
    base = min(timings["satrecarray_1proc_s"])
    for k, v in timings.items():
        out[k] = round(min(v), 3)
        out[k.replace("_s", "_ns_per_call")] = round(min(v) / calls * 1e9, 1)
        out[k.replace("_s", "_speedup")] = round(base / min(v), 2)
    return out


def against(old_path: str, reps: int) -> dict:
    """CPU per SGP4 evaluation of sgp4_numba at old_path and of the current module,
    alternated on one thread; outputs checked bit-identical."""
    import importlib.util
    import statistics

    import numba

    from ssa.screening import sgp4_numba as new

    spec = importlib.util.spec_from_file_location("sgp4_numba_before", old_path)
    old = sys.modules["sgp4_numba_before"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    cat = _catalog()
    jd0, fr0 = cat.epoch_median()
    fr = fr0 + np.linspace(0.0, 7.0, 97)
    jd = np.full(fr.size, jd0)
    rows = {"before": old.elements(cat.satrecs), "after": new.elements(cat.satrecs)}
    mods = {"before": old, "after": new}
    deep = rows["after"][:, new.DEEP] != 0
    numba.set_num_threads(1)
    out = {"objects": len(cat), "deep_space": int(deep.sum()), "times": int(fr.size)}
    ns = {}
    for part, sel in (("near_earth", ~deep), ("deep_space", deep)):
        res = {k: mods[k].propagate(rows[k][sel], jd, fr) for k in mods}
        for a, b in zip(res["before"], res["after"], strict=True):
            assert np.array_equal(a, b, equal_nan=True), f"{part}: outputs differ"
        for r in range(reps):
            for k in ("before", "after") if r % 2 == 0 else ("after", "before"):
                t = time.thread_time()
                mods[k].propagate(rows[k][sel], jd, fr)
                dt = time.thread_time() - t
                ns.setdefault((part, k), []).append(dt / (int(sel.sum()) * fr.size) * 1e9)
        ratio = statistics.median(
            a / b for a, b in zip(ns[(part, "after")], ns[(part, "before")], strict=True)
        )
        out[part] = {
            "ns_per_evaluation_before": [round(x, 1) for x in ns[(part, "before")]],
            "ns_per_evaluation_after": [round(x, 1) for x in ns[(part, "after")]],
            "after_over_before_median_of_rounds": round(ratio, 3),
            "bit_identical": True,
        }
    return out


def stages(days: float, reps: int) -> dict:
    """Time make_plan and all build_chunk calls of a full screen, both engines."""
    import hashlib

    import numba

    from ssa.screening import api, executor
    from ssa.screening import propagate as prop

    cat = _catalog()
    jd0, fr0 = api.resolve_start(None, cat)
    window_s = days * 86400.0
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    ctx = executor.SatrecContext(cat.satrecs)
    out = {"days": days, "objects": len(cat), "runs": []}
    digests = {}
    with executor.LocalExecutor(ctx, 2, warm_up=api._warm_up) as ex:
        for _rep in range(reps):
            for engine in ("satrecarray", "numba"):
                prop.KNOT_SGP4 = engine
                t, c = time.perf_counter(), _cpu_s(ex)
                plan = prop.make_plan(
                    ex, cat, api.DEFAULT_STEP_S, api.DEFAULT_ERR_TARGET_KM, jd0, fr0, window_s
                )
                plan_s, plan_cpu_s = time.perf_counter() - t, _cpu_s(ex) - c
                length = prop.chunk_length_s(plan, window_s)
                knots_s = knots_cpu_s = 0.0
                h = hashlib.sha256(plan.klass.tobytes() + plan.measured_err_km.tobytes())
                for t0 in np.arange(0.0, window_s, length):
                    t, c = time.perf_counter(), _cpu_s(ex)
                    ch = prop.build_chunk(ex, plan, float(t0), length, jd0, fr0)
                    knots_s += time.perf_counter() - t
                    knots_cpu_s += _cpu_s(ex) - c
                    h.update(ch.coef.tobytes())
                    h.update(ch.fail_s.tobytes() + ch.fail_code.tobytes())
                    del ch
                digests.setdefault(engine, set()).add(h.hexdigest())
                run = {
                    "engine": engine,
                    "plan_s": round(plan_s, 2),
                    "knots_s": round(knots_s, 2),
                    "plan_cpu_s": round(plan_cpu_s, 2),
                    "knots_cpu_s": round(knots_cpu_s, 2),
                }
                out["runs"].append(run)
                print(json.dumps(run), flush=True)
    out["identical_plans_and_coefficients"] = len(set.union(*digests.values())) == 1
    for key in ("plan_s", "knots_s", "plan_cpu_s", "knots_cpu_s"):
        best = {
            e: min(r[key] for r in out["runs"] if r["engine"] == e)
            for e in ("satrecarray", "numba")
        }
        out[f"{key}_min"] = best
        out[f"{key}_ratio_numba_over_satrecarray"] = round(best["numba"] / best["satrecarray"], 3)
    return out


def one(days: float) -> dict:
    """Screen once in this process (engine from SSA_KNOT_SGP4); timings and table."""
    from ssa.screening import propagate, screen

    cat = _catalog()
    t = time.perf_counter()
    res = screen(cat, days=days)
    wall = time.perf_counter() - t
    rows = {k: np.asarray(v).tolist() for k, v in res.rows.items()}
    return {
        "engine": "numba" if propagate.use_numba_knots() else "satrecarray",
        "wall_s": wall,
        "timings": res.run.get("timings_s", {}),
        "rows": rows,
    }


def _child(days: float, engine: str) -> dict:
    env = {**os.environ, "SSA_KNOT_SGP4": engine}
    cmd = [sys.executable, "-m", f"{__package__ or 'benchmarks'}.sgp4_numba", "--one", str(days)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = json.loads(out)
    # CPU of the whole child and its worker processes (all waited for).
    res["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return res


def _same_rows(a: dict, b: dict) -> dict:
    keys = sorted(set(a) | set(b))
    differ = [
        k
        for k in keys
        if k not in a or k not in b or json.dumps(a[k], sort_keys=True) != json.dumps(b[k])
    ]
    n = len(next(iter(a.values()))) if a else 0
    return {"rows": n, "columns": len(keys), "columns_differing": differ}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, nargs="*", default=[1.0, 7.0])
    ap.add_argument("--reps", type=int, default=2, help="stage runs per engine")
    ap.add_argument("--screen-reps", type=int, default=1, help="screens per engine and length")
    ap.add_argument("--no-raw", action="store_true")
    ap.add_argument("--stage-days", type=float, default=7.0, help="0: skip the stages")
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--against", metavar="OLD_SGP4_NUMBA_PY", help="A/B of two versions only")
    args = ap.parse_args(argv)
    if args.against:
        res = dict(
            against(args.against, max(args.reps, 1)),
            old=args.against,
            date=time.strftime("%Y-%m-%d %H:%M"),
            machine="2 cores, shared with other jobs: compare within this run only",
        )
        print(json.dumps(res, indent=1))
        path = Path(args.out).with_name("sgp4_numba_compare.json")
        path.write_text(json.dumps(res, indent=1) + "\n")
        return 0
    if args.one is not None:
        print(json.dumps(one(args.one)))
        return 0
    result = {"machine": "2 cores, shared with other jobs: compare within this run only"}

    def save():
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")

    if args.stage_days > 0 or args.days:
        # Fill numba's cache first, so no timed run pays for compiling.
        t = time.perf_counter()
        _child(0.05, "numba")
        result["warm_up_screen_s"] = round(time.perf_counter() - t, 2)
    if args.stage_days > 0:
        result["stages"] = stages(args.stage_days, args.reps)
        print(json.dumps({k: v for k, v in result["stages"].items() if k != "runs"}), flush=True)
        save()
    for days in args.days:
        runs = []
        for _ in range(args.screen_reps):
            for engine in ("satrecarray", "numba"):
                r = _child(days, engine)
                runs.append(r)
                t = r["timings"]
                print(
                    f"{days:g} d {engine:12s} wall {r['wall_s']:7.2f} s  cpu {r['cpu_s']:7.2f} s  knots "
                    f"{t.get('sgp4_knots', float('nan')):6.2f} s  kernel "
                    f"{t.get('broad_narrow_phase', float('nan')):6.2f} s  rows "
                    f"{len(r['rows'].get('NORAD_CAT_ID_1', []))}",
                    flush=True,
                )
        ref = runs[0]["rows"]
        summary = {
            "runs": [
                {
                    "engine": r["engine"],
                    "wall_s": round(r["wall_s"], 2),
                    "cpu_s": round(r["cpu_s"], 2),
                    "timings": r["timings"],
                }
                for r in runs
            ],
            "tables_vs_first_satrecarray": [_same_rows(ref, r["rows"]) for r in runs],
        }
        for engine in ("satrecarray", "numba"):
            mine = [r for r in runs if r["engine"] == engine]
            summary[f"{engine}_knots_s_min"] = round(
                min(r["timings"]["sgp4_knots"] for r in mine), 2
            )
            summary[f"{engine}_wall_s_min"] = round(min(r["wall_s"] for r in mine), 2)
            summary[f"{engine}_cpu_s_min"] = round(min(r["cpu_s"] for r in mine), 2)
        summary["knots_ratio_numba_over_satrecarray"] = round(
            summary["numba_knots_s_min"] / summary["satrecarray_knots_s_min"], 3
        )
        summary["wall_ratio_numba_over_satrecarray"] = round(
            summary["numba_wall_s_min"] / summary["satrecarray_wall_s_min"], 3
        )
        result[f"screen_{days:g}d"] = summary
        print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1), flush=True)
        save()
    if not args.no_raw:
        result["raw"] = raw()
        print(json.dumps(result["raw"], indent=1), flush=True)
        save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
