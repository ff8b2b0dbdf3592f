"""Distributed section: single process vs a local Dask cluster of 1 and 2 workers.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.distributed [--days 1]
        [--configs single,dask-1,dask-2] [--repeats 2] [--baseline-src /path/to/other/checkout]
    .venv/bin/ssa bench --distributed [--days 1]

Every configuration screens the same catalogue and window with ``ssa screen`` in a
fresh process (so its peak memory is its own), in this order, ``repeats`` times
(A B C A B C: a machine shared with other work drifts; the fastest run of each
is compared, the others are kept):

- ``single``: this process and its forked SGP4 children (today's path);
- ``single-t1``: the same on one core (``--threads 1``);
- ``dask-1``: ``--cluster local:1`` (one worker process using all cores: numba
  threads, and forked children for its SGP4 work);
- ``dask-1-t1``: ``--cluster local:1 --threads 1`` (one worker on one core: against
  ``single-t1`` this is the pure Dask overhead);
- ``dask-2``: ``--cluster local:2`` (two worker processes, 1 core each);
- ``baseline``: ``single`` with the ``ssa`` package of ``--baseline-src`` (e.g. the
  main branch before a change: the same-run check that the in-process path is no
  slower); ``baseline-dask-1``: ``dask-1`` with that package.

Reported per run: wall time of the screening call (run.json wall_s: includes the
LocalCluster start and the catalogue's scatter), the stage timings, bytes shipped
(catalogue once per worker, the slice spec once per worker, per-task arguments
and results) and the per-slice times. The conjunction tables must be identical
(checked: the CSV's SHA-256). Writes benchmarks/results/distributed.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CATALOG = "catalog-2024-07-05.3le"
RESULTS = Path(__file__).parent / "results"
CONFIGS = {
    "single": [],
    "single-t1": ["--threads", "1"],
    "dask-1": ["--cluster", "local:1"],
    "dask-1-t1": ["--cluster", "local:1", "--threads", "1"],
    "dask-2": ["--cluster", "local:2"],
    "baseline": [],
    "baseline-dask-1": ["--cluster", "local:1"],
}
DEFAULT_CONFIGS = ("single", "dask-1", "dask-2")
RUN_TIMEOUT_S = 3600.0


def _children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _one(catalog: Path, days: float, extra: list, work: Path, src: Path | None = None) -> dict:
    out = work / "out"
    cmd = [
        sys.executable,
        "-m",
        "ssa",
        "screen",
        str(Path(catalog).resolve()),
        "--days",
        str(days),
        "--quiet",
        "--out",
        str(out),
        *extra,
    ]
    env = dict(os.environ)
    if src is not None:  # another checkout's ssa package first on the path
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    load = os.getloadavg()[0]
    cpu0 = _children_cpu_s()
    t = time.perf_counter()
    # cwd outside the checkout: `python -m` puts the cwd first on sys.path, which would
    # shadow --baseline-src's package with this one.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=work
    )
    try:
        _, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"error": f"timeout after {RUN_TIMEOUT_S:.0f} s"}
    elapsed = time.perf_counter() - t
    cpu_s = _children_cpu_s() - cpu0
    if proc.returncode != 0:
        return {"error": err.strip().splitlines()[-1] if err.strip() else "failed"}
    run = json.loads((out / "run.json").read_text())
    table = (out / "conjunctions.csv").read_bytes()
    slices = run.get("slices", [])
    ex = run.get("executor") or {}
    res = {
        "load_avg_1min_start": round(load, 2),
        "process_s": round(elapsed, 2),
        # CPU seconds of the command and every process under it (Dask's scheduler
        # thread, nanny and worker included): what a run costs in cores, which the
        # shared machine's load disturbs far less than the wall time.
        "cpu_s": round(cpu_s, 2),
        "wall_s": run["wall_s"],
        "timings_s": run["timings_s"],
        "peak_memory_mb": run["peak_memory_mb"],
        "conjunctions": run["counts"]["conjunctions"],
        "executor": run.get("executor"),
        "csv_sha256": hashlib.sha256(table).hexdigest(),
        "slices": len(slices),
        "slice_s": sorted(round(s["sgp4_s"] + s["kernel_s"], 3) for s in slices),
        "slice_result_bytes": sorted(int(s.get("result_bytes", 0)) for s in slices),
        "workers_used": sorted({s["worker"] for s in slices}),
        # Shipped once per worker: the raw SGP4 state and the slice spec.
        "shipped_once_per_worker_bytes": ex.get("catalogue_bytes", 0) + ex.get("shared_bytes", 0),
    }
    return res


def summarise(runs: dict) -> tuple[dict, bool]:
    """Return (per-configuration summary, whether all non-baseline tables are identical)."""
    summary = {}
    for name, rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        walls = sorted(r["wall_s"] for r in ok)
        slice_s = sorted(x for r in ok[:1] for x in r["slice_s"])
        cpus = sorted(r["cpu_s"] for r in ok if "cpu_s" in r)
        summary[name] = {
            "cpu_s_min": cpus[0] if cpus else None,
            # On a shared machine the fastest run is the one least disturbed by others.
            "wall_s_min": walls[0] if walls else None,
            "wall_s_median": float(np.median(walls)) if walls else None,
            "wall_s_all": walls,
            "slice_s_min_median_max": (
                [slice_s[0], slice_s[len(slice_s) // 2], slice_s[-1]] if slice_s else None
            ),
        }
    ref = summary.get("single", {}).get("wall_s_min")
    ref_cpu = summary.get("single", {}).get("cpu_s_min")
    for name in summary:
        w = summary[name]["wall_s_min"]
        summary[name]["vs_single"] = round(w / ref, 3) if w and ref else None
        c = summary[name]["cpu_s_min"]
        summary[name]["cpu_vs_single"] = round(c / ref_cpu, 3) if c and ref_cpu else None
    t1 = summary.get("single-t1", {}).get("wall_s_min")
    if t1 and summary.get("dask-1-t1", {}).get("wall_s_min"):
        summary["dask-1-t1"]["vs_single_t1"] = round(summary["dask-1-t1"]["wall_s_min"] / t1, 3)
    # The baseline's table may differ where another change landed; the others must not.
    hashes = {
        r["csv_sha256"]
        for name, rs in runs.items()
        if not name.startswith("baseline")
        for r in rs
        if "error" not in r
    }
    return summary, len(hashes) == 1


def measure(
    catalog: Path,
    days: float,
    repeats: int = 2,
    configs=DEFAULT_CONFIGS,
    baseline_src: Path | None = None,
    log=print,
    save=None,
) -> dict:
    """Run the configurations (interleaved, ``repeats`` rounds); return the results."""
    runs = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="ssa-dist-") as tmp:
        for rnd in range(repeats):
            for name in configs:
                work = Path(tmp) / f"{name}-{rnd}"
                work.mkdir()
                src = baseline_src if name.startswith("baseline") else None
                r = _one(catalog, days, CONFIGS[name], work, src)
                log(f"{name} round {rnd + 1}: {r.get('wall_s', r.get('error'))} s")
                runs[name].append(r)
                if save is not None:  # partial results survive an interrupted campaign
                    save({"days": days, "partial": True, "runs": runs})
    summary, identical = summarise(runs)
    return {
        "catalog": str(catalog),
        "days": days,
        "repeats": repeats,
        "cores": os.cpu_count(),
        "load_avg_start": None,
        "summary": summary,
        "identical_tables": identical,
        "runs": runs,
    }


def main(argv=None) -> int:
    from ssa.data import data_file

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=float, default=1.0)
    p.add_argument("--catalog", type=Path, default=None)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument(
        "--configs",
        default=",".join(DEFAULT_CONFIGS),
        help=f"comma-separated, in run order, from {', '.join(CONFIGS)}",
    )
    p.add_argument("--baseline-src", type=Path, default=None, help="checkout for 'baseline'")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    bad = [c for c in configs if c not in CONFIGS]
    if bad or (any(c.startswith("baseline") for c in configs) and args.baseline_src is None):
        p.error(f"--configs: unknown {bad} (or 'baseline' without --baseline-src)")
    out = args.out or RESULTS / f"distributed-{args.days:g}d.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    catalog = args.catalog or data_file(CATALOG)
    load0 = os.getloadavg()
    res = measure(
        catalog,
        args.days,
        args.repeats,
        configs,
        args.baseline_src,
        log=lambda m: print(m, file=sys.stderr, flush=True),
        save=lambda part: out.write_text(json.dumps({**part, "load_avg_start": load0}, indent=1)),
    )
    res["load_avg_start"] = load0
    res["load_avg_end"] = os.getloadavg()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    for name, s in res["summary"].items():
        print(
            f"{name:8s} wall {s['wall_s_min']} s (x{s['vs_single']} of single; "
            f"all {s['wall_s_all']})"
        )
    print(f"identical tables: {res['identical_tables']}; wrote {out}")
    return 0 if res["identical_tables"] else 1


if __name__ == "__main__":
    sys.exit(main())
