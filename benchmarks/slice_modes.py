"""How a local run spreads its time slices over the cores, A/B in one process.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.slice_modes \\
        [--days 3] [--rounds 6] [--blocks 4,2,1,8] [--side-by-side]

``screen()`` of the full catalogue (catalog-2024-07-05.3le, 5 km) is timed in
alternating rounds (A B C, C B A, ...: this machine's speed drifts by 20-30 % within
minutes, so only same-run ratios mean anything):

- ``--blocks``: kernel blocks per numba thread in a slice (``api.KERNEL_BLOCKS_PER_THREAD``;
  the first value is the reference);
- ``--side-by-side``: slices side by side, one per thread (the default) against one
  slice at a time on every thread (``api.SIDE_BY_SIDE_MAX_BYTES = -1``).

Per mode: wall, process CPU, the kernel's summed time and the slices' wall time per
round, and the median per-round ratio to the reference; the run counts (candidate
intervals, windows, conjunctions) must be equal in every mode. Appends to
benchmarks/results/slice_modes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "slice_modes.json"
CATALOG = "catalog-2024-07-05.3le"


def _modes(args) -> dict:
    """{label: {api attribute: value}}, the reference first."""
    if args.side_by_side:
        return {"side-by-side": {}, "one-at-a-time": {"SIDE_BY_SIDE_MAX_BYTES": -1}}
    return {f"blocks={b}": {"KERNEL_BLOCKS_PER_THREAD": int(b)} for b in args.blocks.split(",")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--blocks", default="4,2,1,8")
    ap.add_argument("--side-by-side", action="store_true")
    args = ap.parse_args(argv)

    from ssa.catalog import Catalog
    from ssa.data import data_file
    from ssa.screening import api

    cat = Catalog.load(data_file(CATALOG))
    modes = _modes(args)
    names = list(modes)
    saved = {k: getattr(api, k) for m in modes.values() for k in m}
    api.screen(cat, days=0.1, quiet=True)  # numba cache loaded, catalogue rows read
    runs = {m: [] for m in names}
    counts = {}
    load0 = os.getloadavg()
    for r in range(args.rounds):
        for m in names if r % 2 == 0 else names[::-1]:
            for k, v in saved.items():
                setattr(api, k, modes[m].get(k, v))
            a, c = time.perf_counter(), time.process_time()
            res = api.screen(cat, days=args.days, quiet=True)
            t = res.run["timings_s"]
            runs[m].append(
                {
                    "wall_s": round(time.perf_counter() - a, 3),
                    "cpu_s": round(time.process_time() - c, 2),
                    "kernel_s": t["broad_narrow_phase"],
                    "slices_wall_s": t["slices_wall"],
                }
            )
            counts[m] = res.run["counts"]
            print(m, runs[m][-1], flush=True)
    for k, v in saved.items():
        setattr(api, k, v)
    ref = runs[names[0]]
    summary = {}
    for m in names:
        ratio = {
            key: round(
                float(np.median([x[key] / y[key] for x, y in zip(runs[m], ref, strict=True)])), 3
            )
            for key in ("wall_s", "cpu_s", "kernel_s", "slices_wall_s")
        }
        summary[m] = {"median_ratio_to_" + names[0]: ratio}
        print(m, ratio)
    same = all(counts[m] == counts[names[0]] for m in names)
    print("counts equal in every mode:", same)
    out = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    out[time.strftime("%Y-%m-%dT%H:%M")] = {
        "catalog": CATALOG,
        "days": args.days,
        "rounds": args.rounds,
        "machine": {
            "cores": os.cpu_count(),
            "load_avg_start": load0,
            "load_avg_end": os.getloadavg(),
        },
        "summary": summary,
        "counts_equal": same,
        "counts": counts[names[0]],
        "runs": runs,
    }
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
