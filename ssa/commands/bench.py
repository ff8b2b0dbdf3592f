"""``ssa bench``: run the benchmark suite (implementation in the ``benchmarks`` package)."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="benchmark the screening core against baselines and peers",
        description="Measure propagation throughput, full-catalog screening, scaling, "
        "three baselines in the same run and synthetic future catalogs; write "
        "results.json, results.md and PNG plots.",
    )
    p.add_argument("--quick", action="store_true", help="short suite (under 3 minutes on 2 cores)")
    p.add_argument(
        "--out",
        default="benchmarks/results",
        type=Path,
        help="output folder (default: benchmarks/results)",
    )
    p.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="3LE catalog (default: $SSA_DATA/catalog-2024-07-05.3le, else the "
        "snapshot shipped with ssa)",
    )
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        help="use a seeded subset of this many objects as the catalog (smoke runs)",
    )
    p.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="also replace the results block of this markdown file (e.g. benchmarks/README.md)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="start no new run after this many seconds (skipped runs are recorded)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument(
        "--distributed",
        action="store_true",
        help="only the distributed section: single process vs a local Dask "
        "cluster of 1 and 2 workers (benchmarks/distributed.py)",
    )
    p.add_argument(
        "--days", type=float, default=1.0, help="window of the distributed section (default 1)"
    )
    p.set_defaults(func=run)


def _default_catalog(out: Path, log) -> Path:
    """Return $SSA_DATA's 2024-07-05 3LE, else the shipped snapshot written as 3LE into out/."""
    from ssa.benchmarks.suite import DEFAULT_CATALOG
    from ssa.data import data_file
    from ssa.errors import DataNotFoundError
    from ssa.snapshot import shipped_as_3le

    try:
        return data_file(DEFAULT_CATALOG)
    except DataNotFoundError as exc:
        out.mkdir(parents=True, exist_ok=True)
        log(f"{exc}; benchmarking the shipped snapshot (CelesTrak 2024-11-01) instead")
        return shipped_as_3le(out / "shipped-catalog-2024-11-01.3le")


def run(args) -> int:
    from ssa.benchmarks.suite import run_suite
    from ssa.cli import UserError

    if args.limit is not None and args.limit < 10:
        raise UserError(f"--limit {args.limit}: need at least 10 objects")
    if args.catalog is not None and not args.catalog.exists():
        raise UserError(f"--catalog {args.catalog}: file not found")
    if args.distributed:
        from benchmarks.distributed import main as distributed_main

        argv = ["--days", str(args.days), "--out", str(args.out / "distributed.json")]
        if args.catalog is not None:
            argv += ["--catalog", str(args.catalog)]
        return distributed_main(argv)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:6.1f} s] {msg}", file=sys.stderr, flush=True)

    catalog = args.catalog or _default_catalog(args.out, log)
    res = run_suite(
        args.out,
        quick=args.quick,
        catalog=catalog,
        limit=args.limit,
        log=log,
        readme=args.readme,
        budget_s=args.budget,
    )
    print(
        f"wrote {args.out / 'results.json'}, {args.out / 'results.md'} and "
        f"{', '.join(res.get('plots', []))} in {time.perf_counter() - t0:.0f} s"
    )
    return 0
