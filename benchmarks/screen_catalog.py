"""Time full-catalog screening next to plain SGP4 propagation, measured in the same run.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.screen_catalog [--quick]

Baseline: sgp4's SatrecArray over the same catalog for 1 day at 60 s steps, one
process (the cost of merely propagating everything once a minute). Screening runs:
full catalog for 1, 3 and 7 days; 1/4 and 1/2 of it (every 4th / 2nd object) for
1 day; each in a fresh process so its peak memory is its own. Writes
benchmarks/results/screen_catalog.json and prints a table. --quick: 1 day only.
--check-threads also screens 1 day with 1 thread and checks identical results.

Measured trade-offs used in ssa.screening: SatrecArray holds the GIL (two threads
take as long as one, see "gil" in the output), hence SGP4 worker processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

CATALOG = "catalog-2024-07-05.3le"
OUT = Path(__file__).parent / "results" / "screen_catalog.json"


def _catalog(fraction_every: int = 1):
    from ssa.catalog import Catalog
    from ssa.data import data_file

    cat = Catalog.load(data_file(CATALOG))
    if fraction_every > 1:
        cat = cat.subset(np.arange(0, len(cat), fraction_every))
    return cat


def baseline() -> dict:
    """Time SatrecArray over the catalog for 1 day at 60 s steps (and the GIL check)."""
    cat = _catalog()
    jd0, fr0 = cat.epoch_median()
    fr = fr0 + np.arange(0, 86400, 60.0) / 86400.0
    jd = np.full(fr.size, jd0)
    arr = cat.satrec_array()
    t = time.perf_counter()
    for a in range(0, fr.size, 120):  # in slices: the full output would be 1.8 GB
        arr.sgp4(jd[a : a + 120], fr[a : a + 120])
    base = time.perf_counter() - t
    half = len(cat) // 2
    parts = [
        cat.subset(np.arange(half)).satrec_array(),
        cat.subset(np.arange(half, len(cat))).satrec_array(),
    ]
    sl = slice(0, 120)
    t = time.perf_counter()
    for p in parts:
        p.sgp4(jd[sl], fr[sl])
    serial = time.perf_counter() - t
    t = time.perf_counter()
    threads = [threading.Thread(target=p.sgp4, args=(jd[sl], fr[sl])) for p in parts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    threaded = time.perf_counter() - t
    calls = len(cat) * fr.size
    return {
        "objects": len(cat),
        "steps": int(fr.size),
        "wall_s": round(base, 3),
        "ns_per_call": round(base / calls * 1e9, 1),
        "gil": {"two_threads_s": round(threaded, 3), "serial_s": round(serial, 3)},
    }


def one(days: float, every: int, threads: int | None) -> dict:
    """Screen once (this process) and return run.json plus a digest of the rows."""
    from ssa.screening import screen

    cat = _catalog(every)
    t = time.perf_counter()
    res = screen(cat, days=days, threads=threads)
    wall = time.perf_counter() - t
    r = res.rows
    digest = [
        [int(a), int(b), float(jd), float(fr), float(m)]
        for a, b, jd, fr, m in zip(
            r["NORAD_CAT_ID_1"],
            r["NORAD_CAT_ID_2"],
            r["TCA_JD"],
            r["TCA_FR"],
            r["TCA_RANGE"],
            strict=True,
        )
    ]
    return {"run": res.run, "wall_s": wall, "rows": digest}


def _child(days, every, threads=None) -> dict:
    cmd = [
        sys.executable,
        "-m",
        f"{__package__ or 'benchmarks'}.screen_catalog",
        "--one",
        str(days),
        str(every),
    ]
    if threads:
        cmd.append(str(threads))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1-day runs only")
    ap.add_argument(
        "--check-threads", action="store_true", help="also screen 1 day with 1 thread and compare"
    )
    ap.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    if args.one:
        days, every = float(args.one[0]), int(args.one[1])
        threads = int(args.one[2]) if len(args.one) > 2 else None
        print(json.dumps(one(days, every, threads)))
        return 0
    _child(0.01, 64)  # compile / warm the numba cache outside the timings
    result = {"catalog": CATALOG, "baseline_satrecarray_1d_60s": baseline(), "runs": []}
    plan = [(1.0, 1), (1.0, 2), (1.0, 4)]
    if not args.quick:
        plan += [(3.0, 1), (7.0, 1)]
    digests = {}
    for days, every in plan:
        r = _child(days, every)
        digests[(days, every)] = r["rows"]
        run = r["run"]
        result["runs"].append(
            {
                "days": days,
                "objects": run["counts"]["objects"],
                "fraction": f"1/{every}",
                "wall_s": round(r["wall_s"], 2),
                "timings_s": run["timings_s"],
                "peak_memory_mb": run["peak_memory_mb"],
                "conjunctions": run["counts"]["conjunctions"],
                "dropped": run["counts"]["dropped"],
                "candidate_windows": run["counts"]["candidate_windows"],
                "settings": run["settings"],
            }
        )
    if args.check_threads:
        r1 = _child(1.0, 1, threads=1)
        result["threads_1_vs_2_identical_1d"] = r1["rows"] == digests[(1.0, 1)]
        result["one_thread_1d_wall_s"] = round(r1["wall_s"], 2)
    base = result["baseline_satrecarray_1d_60s"]["wall_s"]
    for run in result["runs"]:
        run["ratio_to_baseline"] = round(run["wall_s"] / base, 2)
    import os

    result["machine"] = {"cpus": os.cpu_count(), "load_avg_at_end": os.getloadavg()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"baseline: SatrecArray {base:.2f} s for {result['baseline_satrecarray_1d_60s']['objects']}"
        f" objects x 1 d at 60 s"
    )
    print(f"{'objects':>8} {'days':>5} {'wall s':>8} {'x base':>7} {'peak MB':>8} {'conj':>8}")
    for run in result["runs"]:
        print(
            f"{run['objects']:>8} {run['days']:>5g} {run['wall_s']:>8.2f} "
            f"{run['ratio_to_baseline']:>7.2f} {run['peak_memory_mb']:>8.0f} "
            f"{run['conjunctions']:>8}"
        )
    if "threads_1_vs_2_identical_1d" in result:
        print(f"1 vs 2 threads identical (1 d): {result['threads_1_vs_2_identical_1d']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
