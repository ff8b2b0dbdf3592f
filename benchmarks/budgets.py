"""Time budgets the issues set, measured next to a baseline in the same run.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.budgets

- Catalog load: the full 2024-07-05 snapshot with the SATCAT (issue 2: ``ssa
  catalog info`` under 5 s, 3 s of it for loading). Baseline: sgp4's
  ``Satrec.twoline2rv`` alone over the same TLE lines (the floor of any loader).
- Report: ``build_report`` of a 60,000-row result (issue 4: under 30 s), real
  rows of a 1-day screen of 300 objects replicated. Baseline: reading the same
  conjunctions.csv with the csv module.

Wall-clock limits live here, not in tests: a busy machine would make them flaky.
Writes benchmarks/results/budgets.json and prints one line per budget.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

CATALOG = "catalog-2024-07-05.3le"
SATCAT = "satcat-2025-03.csv.gz"
LOAD_BUDGET_S = 3.0
REPORT_BUDGET_S = 30.0
REPORT_ROWS = 60_000
OUT = Path(__file__).parent / "results" / "budgets.json"


def _timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def catalog_load(data: Path) -> dict:
    from sgp4.api import WGS72, Satrec

    from ssa.catalog import Catalog

    lines = (data / CATALOG).read_text().splitlines()
    pairs = [
        (a, b)
        for a, b in zip(lines, lines[1:], strict=False)
        if a.startswith("1 ") and b.startswith("2 ")
    ]
    base_s, _ = _timed(lambda: [Satrec.twoline2rv(a, b, WGS72) for a, b in pairs])
    wall_s, cat = _timed(lambda: Catalog.load(data / CATALOG, satcat=data / SATCAT))
    return {
        "budget": "catalog load + SATCAT",
        "wall_s": wall_s,
        "budget_s": LOAD_BUDGET_S,
        "baseline": "Satrec.twoline2rv over the same lines",
        "baseline_s": base_s,
        "objects": len(cat),
    }


def report_large(data: Path) -> dict:
    from ssa.catalog import Catalog
    from ssa.report import build_report
    from ssa.screening import screen

    work = Path(tempfile.mkdtemp(prefix="ssa-budget-"))
    try:
        cat = Catalog.load(data / CATALOG)
        dense = cat.subset((cat.perigee_km < 580) & (cat.apogee_km > 520))
        small = dense.subset(range(0, len(dense), max(1, len(dense) // 300)))
        res = screen(small, start=small.epoch_median(), days=1.0)
        res.run.setdefault("inputs", {})["catalogs"] = []
        res.write(work / "one")
        lines = (work / "one" / "conjunctions.csv").read_text().splitlines()
        body = [lines[1 + k % (len(lines) - 1)] for k in range(REPORT_ROWS)]
        (work / "big").mkdir()
        (work / "big" / "conjunctions.csv").write_text("\n".join([lines[0], *body]) + "\n")
        shutil.copy(work / "one" / "run.json", work / "big" / "run.json")

        def read_csv():
            with open(work / "big" / "conjunctions.csv", newline="") as fh:
                return sum(1 for _ in csv.DictReader(fh))

        base_s, _ = _timed(read_csv)
        wall_s, _ = _timed(lambda: build_report(work / "big", work / "out", top=10))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "budget": f"report of {REPORT_ROWS} rows",
        "wall_s": wall_s,
        "budget_s": REPORT_BUDGET_S,
        "baseline": "csv.DictReader of the same file",
        "baseline_s": base_s,
        "rows": REPORT_ROWS,
    }


def main() -> int:
    data = Path(os.environ.get("SSA_DATA", "../shared/catalogs"))
    if not (data / CATALOG).exists():
        print(f"{data / CATALOG} not found: set SSA_DATA", file=sys.stderr)
        return 2
    results = {"load_average": os.getloadavg(), "runs": [catalog_load(data), report_large(data)]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    over = 0
    for r in results["runs"]:
        ok = r["wall_s"] <= r["budget_s"]
        over += not ok
        print(
            f"{r['budget']}: {r['wall_s']:.2f} s (budget {r['budget_s']:g} s, "
            f"{'within' if ok else 'OVER'}); baseline {r['baseline']}: {r['baseline_s']:.2f} s"
        )
    print(f"load average at start {results['load_average'][0]:.1f}; wrote {OUT}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
