"""Time and peak memory of ``generate_population`` (real 2024-11-01 catalogue + N synthetic
1-10 cm objects), each size in its own process, with the catalogue load alone as the
same-run baseline.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.population [N ...]

Writes benchmarks/results/population.json and prints one line per run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SIZES = (0, 100_000, 1_000_000)


def _one(n: int) -> dict:
    from ssa.catalog import Catalog
    from ssa.population.generate import generate_population

    root = Path(os.environ["SSA_DATA"])
    t0 = time.perf_counter()
    base = Catalog.load(root / "catalog-2024-11-01.omm.csv", satcat=root / "satcat-2025-03.csv.gz")
    t1 = time.perf_counter()
    objects = len(base)
    if n:
        pop = generate_population(base, n, seed=1)
        objects = len(pop.catalog)
    t2 = time.perf_counter()
    return {
        "n_synthetic": n,
        "objects": objects,
        "load_s": round(t1 - t0, 2),
        "generate_s": round(t2 - t1, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--child":
        print(json.dumps(_one(int(argv[1]))))
        return 0
    sizes = [int(x) for x in argv] or list(DEFAULT_SIZES)
    runs = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.population", "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout))
        print(runs[-1], flush=True)
    load = os.getloadavg()
    result = {
        "runs": runs,
        "cpu_count": os.cpu_count(),
        "loadavg": load,
        "note": "n_synthetic 0 is the baseline: the real catalogue load alone",
    }
    path = Path(__file__).parent / "results" / "population.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
