"""Cost of writing the 7-day full-catalogue main job's results, per output format.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.write_formats [--days 7]

Screens the README's main job once (2024-07-05 snapshot with the SATCAT, all vs all,
5 km, Pc assessed as ``ssa screen`` does), then writes the same result several
times in this one process: the old default (CSV + JSON), the new default (CSV),
Parquet, and all three; each write is timed and its bytes counted. Results go
to ``benchmarks/results/write_formats.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

CATALOG = "catalog-2024-07-05.3le"
SATCAT = "satcat-2025-03.csv.gz"
CASES = {
    "old default: csv+json": ("csv", "json"),
    "new default: csv": ("csv",),
    "parquet": ("parquet",),
    "csv+json+parquet": ("csv", "json", "parquet"),
}


def main(argv=None) -> dict:
    from ssa.catalog import Catalog
    from ssa.data import data_file
    from ssa.risk import assess
    from ssa.screening import screen

    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args(argv)
    catalog = Catalog.load(data_file(CATALOG), satcat=data_file(SATCAT))
    t0 = time.perf_counter()
    result = screen(catalog, days=args.days, quiet=True)
    screen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assess(result.rows, catalog)
    risk_s = time.perf_counter() - t0
    writes = {}
    for label, formats in CASES.items():
        with tempfile.TemporaryDirectory(prefix="ssa-write-") as tmp:
            t0 = time.perf_counter()
            paths = result.write(tmp, formats)
            wall = time.perf_counter() - t0
            sizes = {k: Path(p).stat().st_size for k, p in paths.items()}
        writes[label] = {"wall_s": round(wall, 2), "bytes": sizes}
        print(
            f"{label:24s} {wall:6.2f} s  {sum(sizes.values()) / 1e6:7.1f} MB  {sizes}", flush=True
        )
    doc = {
        "days": args.days,
        "conjunctions": len(result),
        "screen_s": round(screen_s, 1),
        "risk_s": round(risk_s, 1),
        "writes": writes,
        "note": "one process, same result written once per case; machine shared",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "write_formats.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(result)} conjunctions, screening {screen_s:.1f} s, Pc {risk_s:.1f} s")
    return doc


if __name__ == "__main__":
    main()
