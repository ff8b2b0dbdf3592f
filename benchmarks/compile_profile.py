"""First-run numba compilation of the main job, per function: the README's ``ssa screen``
of the full catalogue with the SATCAT (short window, every column), in a fresh process
with an empty numba cache ("cold", as after a fresh install), then again on the cache it
left ("cached"), optionally after ``ssa warmup`` instead.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.compile_profile
        [--days 0.2] [--rounds 1] [--out benchmarks/results/compile_profile.json]

Each compile is recorded from numba's own ``numba:compile`` events (every process,
forked workers included, writes its own event file), with the dispatcher's name, its
argument types, the CPU time of the compiling thread inclusive of the callees it
compiled and exclusive of them (CPU, not wall: the machine may be shared). Cache loads are not compile events. Writes benchmarks/results/compile_profile.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

try:  # run as a script (the timed child): screen_cli sits beside this file
    from screen_cli import CATALOG, SATCAT, main_job_argv
except ImportError:  # python -m benchmarks.compile_profile
    from benchmarks.screen_cli import CATALOG, SATCAT, main_job_argv
HERE = Path(__file__).resolve()
OUT = HERE.parent / "results" / "compile_profile.json"


def _install_recorder(events_dir: str) -> None:
    """Append every numba compile (start/end, per thread) to events_dir/<pid>.jsonl."""
    from numba.core import event as ev

    stacks: dict = defaultdict(list)

    class Rec(ev.Listener):
        def on_start(self, event):
            fn = event.data["dispatcher"].py_func
            name = f"{fn.__module__}.{fn.__qualname__}"
            stacks[(os.getpid(), threading.get_ident())].append([time.thread_time(), 0.0, name])

        def on_end(self, event):
            stack = stacks[(os.getpid(), threading.get_ident())]
            t0, child_s, _ = stack.pop()
            incl = time.thread_time() - t0
            if stack:
                stack[-1][1] += incl
            d = event.data["dispatcher"]
            fn = d.py_func
            rec = {
                "pid": os.getpid(),
                "function": f"{fn.__module__}.{fn.__qualname__}",
                "args": str(event.data["args"])[:200],
                "inclusive_s": incl,
                "exclusive_s": incl - child_s,
                "depth": len(stack),
                "caller": stack[-1][2] if stack else None,
                "t_end": time.time(),
            }
            with open(Path(events_dir) / f"{os.getpid()}.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")

    ev.register("numba:compile", Rec())


def child(days: float, out: str, events_dir: str, warmup: bool) -> dict:
    t0 = time.perf_counter()
    _install_recorder(events_dir)
    from ssa.cli import main

    rc_w = None
    if warmup:
        rc_w = main(["warmup", "--quiet"])
    t_cli = time.perf_counter()
    rc = main(main_job_argv(days, out))
    t1 = time.perf_counter()
    import ssa

    return {
        "rc": rc,
        "ssa_file": ssa.__file__,
        "warmup_rc": rc_w,
        "warmup_s": t_cli - t0,
        "screen_s": t1 - t_cli,
    }


def _run(
    days: float, cache_dir: str, work: Path, label: str, warmup: bool = False, repo=None
) -> dict:
    events = work / f"events-{label}"
    shutil.rmtree(events, ignore_errors=True)
    events.mkdir(parents=True)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    if repo:  # that checkout's ssa first on the path
        env["PYTHONPATH"] = str(repo) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, str(HERE), "--child", str(days), str(work / label), str(events)]
    if warmup:
        cmd.append("--warmup")
    t = time.perf_counter()
    c0 = os.times()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    c1 = os.times()
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"{label} failed:\n{proc.stderr[-3000:]}")
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    per_fn: dict = defaultdict(lambda: {"exclusive_s": 0.0, "compiles": 0, "processes": set()})
    n = 0
    for p in events.glob("*.jsonl"):
        for line in p.read_text().splitlines():
            e = json.loads(line)
            n += 1
            f = per_fn[e["function"]]
            f["exclusive_s"] += e["exclusive_s"]
            f["compiles"] += 1
            f["processes"].add(e["pid"])
    rows = sorted(
        (
            {
                "function": k,
                "exclusive_s": round(v["exclusive_s"], 2),
                "compiles": v["compiles"],
                "processes": len(v["processes"]),
            }
            for k, v in per_fn.items()
        ),
        key=lambda r: -r["exclusive_s"],
    )
    rec.update(
        label=label,
        wall_s=round(wall, 2),
        cpu_s=round(
            (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system), 2
        ),
        compiles=n,
        compile_s_sum=round(sum(r["exclusive_s"] for r in rows), 2),
        per_function=rows,
        load_avg=os.getloadavg(),
    )
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=0.2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--warmup", action="store_true", help="also time cold `ssa warmup` + screen")
    ap.add_argument("--before", help="another checkout: its cold and cached runs first (same run)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(float(args.child[0]), args.child[1], args.child[2], args.warmup)))
        return 0
    work = Path(args.work or tempfile.mkdtemp(prefix="ssa-compile-"))
    result = {"catalog": CATALOG, "satcat": SATCAT, "days": args.days, "runs": []}
    for r in range(args.rounds if args.before else 0):
        cache = work / f"cache-before-{r}"
        shutil.rmtree(cache, ignore_errors=True)
        for label in (f"before-cold-{r}", f"before-cached-{r}"):
            rec = _run(args.days, str(cache), work, label, repo=args.before)
            rec["repo"] = args.before
            result["runs"].append(rec)
            print(f"{label}: {rec['wall_s']} s, {rec['cpu_s']} CPU s", flush=True)
    for r in range(args.rounds):
        cache = work / f"cache-{r}"
        shutil.rmtree(cache, ignore_errors=True)
        cold = _run(args.days, str(cache), work, f"cold-{r}")
        cached = _run(args.days, str(cache), work, f"cached-{r}")
        result["runs"] += [cold, cached]
        print(
            f"round {r}: cold {cold['wall_s']} s ({cold['cpu_s']} CPU s), "
            f"cached {cached['wall_s']} s ({cached['cpu_s']} CPU s)",
            flush=True,
        )
        if args.warmup:
            cache_w = work / f"cache-w-{r}"
            shutil.rmtree(cache_w, ignore_errors=True)
            w = _run(args.days, str(cache_w), work, f"warmup-then-screen-{r}", warmup=True)
            result["runs"].append(w)
            print(
                f"round {r}: warmup {w['warmup_s']:.1f} s then screen {w['screen_s']:.1f} s "
                f"({w['cpu_s']} CPU s)",
                flush=True,
            )
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
        "note": "shared machine (3-4 helpers on 2 cores) unless the load says otherwise",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for cold in [r for r in result["runs"] if "cold" in r["label"]]:
        print(f"{cold['label']}: {cold['compiles']} compiles, {cold['compile_s_sum']} s in all")
    for row in result["runs"][-2 if not args.warmup else -3]["per_function"][:40]:
        print(
            f"{row['exclusive_s']:8.2f} s  x{row['compiles']:<3d} p{row['processes']}  "
            f"{row['function']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
