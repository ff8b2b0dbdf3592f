"""Time the main job's stages around the kernel on their real inputs: catalogue and
SATCAT load, the plan, then from the flagged intervals of a 7-day run to the CSV
(windows, refinement, table, START/STOP, risk, CSV; ``screen``'s own functions, the
streamed CSV path with the CLI's risk per chunk), for this checkout and another one,
alternated, each round in a fresh process; wall and CPU seconds per step.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.screen_tail \\
        --windows WINDOWS.npz [--before /path/to/other/checkout] [--rounds 2]

WINDOWS.npz holds a run's candidate windows (wi, wj, wlo, whi, jd0, fr0, window_s,
thr: the arguments of ``refine.refine``; ``--capture`` writes it from a screen run of
--days days). Without the kernel (unchanged here, ~90 % of the CPU) a loaded machine
still gives comparable same-run numbers for these stages. Writes
benchmarks/results/screen_tail.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CATALOG = "catalog-2024-07-05.3le"
SATCAT = "satcat-2025-03.csv.gz"
OUT = Path(__file__).parent / "results" / "screen_tail.json"
HERE = Path(__file__).resolve()


def capture(days: float, path: str) -> None:
    """Run the screen of the main job and save its candidate windows to path."""
    import numpy as np

    from ssa.catalog import Catalog
    from ssa.screening import refine, screen

    data = Path(os.environ["SSA_DATA"])
    real = refine.refine

    def keep(ex, wi, wj, wlo, whi, jd0, fr0, window_s, thr, parts=None):
        np.savez(path, wi=wi, wj=wj, wlo=wlo, whi=whi, jd0=jd0, fr0=fr0, window_s=window_s, thr=thr)
        return real(ex, wi, wj, wlo, whi, jd0, fr0, window_s, thr, parts=parts)

    refine.refine = keep
    screen(Catalog.load(data / CATALOG), days=days)


def _children_cpu_s() -> float:
    """CPU seconds of this process's live children (forked workers: SGP4 on sgp4's C++
    path), read from /proc (0 elsewhere)."""
    me, total = os.getpid(), 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not pid.isdigit():
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def child(windows: str, out_dir: str) -> dict:
    """Run the stages once in this process; return their wall and CPU seconds."""
    import types

    import numba
    import numpy as np

    steps = {}

    def timed(name, fn, *a, **k):
        t, c = time.perf_counter(), time.process_time() + _children_cpu_s()
        try:
            return fn(*a, **k)
        finally:
            cpu = time.process_time() + _children_cpu_s() - c
            steps[name] = [time.perf_counter() - t, cpu]

    t0, c0 = time.perf_counter(), time.process_time()
    import ssa
    from ssa.catalog import Catalog
    from ssa.commands.pc import apply_screen_risk
    from ssa.screening import api, executor

    steps["imports"] = [time.perf_counter() - t0, time.process_time() - c0]
    data = Path(os.environ["SSA_DATA"])
    cat = timed("load", Catalog.load, data / CATALOG, satcat=data / SATCAT)
    z = np.load(windows)
    jd0, fr0, window_s, thr = (float(z[k]) for k in ("jd0", "fr0", "window_s", "thr"))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    threads = numba.get_num_threads()
    ex = executor.LocalExecutor(executor.SatrecContext(cat.satrecs), threads, warm_up=api._warm_up)
    job = api._Job(
        jd0=jd0,
        fr0=fr0,
        days=window_s / 86400.0,
        window_s=window_s,
        threshold_km=thr,
        primary=np.zeros(len(cat), bool),
        primaries=None,
        threads=threads,
        step_s=api.DEFAULT_STEP_S,
        err_target_km=api.DEFAULT_ERR_TARGET_KM,
    )
    timings = {}
    with ex:
        timed("plan", api._plan_step, ex, cat, job, timings)
        # The flagged (pair, interval) triples behind the windows, as the slices give them.
        n_k = ((z["whi"] - z["wlo"]) / job.step_s).round().astype(np.int64)
        w = np.repeat(np.arange(n_k.size), n_k)
        first = np.concatenate([[0], np.cumsum(n_k)[:-1]])
        k = (z["wlo"] / job.step_s).round().astype(np.int64)[w] + np.arange(w.size) - first[w]
        tri = np.stack([z["wi"][w], z["wj"][w], k])
        t_fail_s = np.full(len(cat), np.inf)
        found, n_windows = timed(
            "windows_and_refine", api._refine_step, ex, tri, t_fail_s, job, timings, True
        )
        args = types.SimpleNamespace()
        risks = []

        def risk(rows):
            risks.append(apply_screen_risk(args, rows, cat, None, note=False))

        csv = Path(out_dir) / "conjunctions.csv"
        csv.parent.mkdir(parents=True, exist_ok=True)
        _, counts = timed(
            "table_startstop_risk_csv",
            api._table_step,
            ex,
            cat,
            found,
            job,
            timings,
            csv,
            risk,
            None,
        )
    import resource

    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, closed above
    own = time.process_time() - c0
    steps["total"] = [time.perf_counter() - t0, own + reaped.ru_utime + reaped.ru_stime]
    return {
        "ssa_file": ssa.__file__,
        "steps": steps,
        "windows": int(n_windows),
        "conjunctions": counts["conjunctions"],
        "csv_sha256": hashlib.sha256(csv.read_bytes()).hexdigest(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", help="candidate windows (.npz) of a run")
    ap.add_argument("--capture", type=float, metavar="DAYS", help="write --windows from a run")
    ap.add_argument("--before", help="another checkout to time the same stages on")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--work", default="/tmp/ssa-screen-tail")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    if args.capture:
        capture(args.capture, args.windows)
        return 0
    repos = [("ours", None)] + ([("before", Path(args.before).resolve())] if args.before else [])
    runs = []
    for _ in range(args.rounds):
        for label, repo in repos:
            env = dict(os.environ)
            if repo is not None:
                env["PYTHONPATH"] = str(repo) + os.pathsep + env.get("PYTHONPATH", "")
            cmd = [sys.executable, str(HERE), "--child", args.windows, f"{args.work}/{label}"]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode:
                raise SystemExit(f"{label} failed:\n{proc.stderr[-3000:]}")
            rec = json.loads(proc.stdout.strip().splitlines()[-1])
            rec.update(label=label, load_avg=os.getloadavg())
            runs.append(rec)
            s = rec["steps"]
            print(
                f"{label}: "
                + ", ".join(f"{k} {w:.2f}/{c:.2f}" for k, (w, c) in s.items())
                + f" (wall/CPU s), load {rec['load_avg'][0]:.1f}",
                flush=True,
            )
    result = {
        "windows_file": args.windows,
        "runs": runs,
        "outputs_identical": len({r["csv_sha256"] for r in runs}) == 1,
        "machine": {
            "cpus": os.cpu_count(),
            "note": "shared machine unless the load says otherwise",
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"outputs identical: {result['outputs_identical']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
