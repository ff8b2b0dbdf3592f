"""``ssa report RESULTS_DIR``: HTML report with figures of a ``ssa screen`` folder."""

from __future__ import annotations

import sys
import time


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="HTML report (figures, sortable table, top events) of a screening result",
        description="Turn a 'ssa screen' output folder (conjunctions.csv, run.json) into "
        "DIR/index.html, one offline page with embedded figures, plus the PNGs.",
    )
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="folder written by 'ssa screen'")
    p.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: RESULTS_DIR/report)"
    )
    p.add_argument(
        "--top",
        metavar="N",
        type=int,
        default=10,
        help="number of events, by Pc else by miss distance, that get their own "
        "figures (default: 10)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ssa.errors import UserError
    from ssa.outputs import atomic_folder
    from ssa.report import build_report

    if args.top < 0:
        raise UserError(f"--top must be 0 or more, got {args.top}")
    t0 = time.perf_counter()
    out = Path(args.out) if args.out else Path(args.results_dir) / "report"
    with atomic_folder(out) as tmp:  # complete or absent (ssa.outputs)
        index = out / build_report(args.results_dir, out_dir=tmp, top=args.top).name
    print(index)
    print(f"report written in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0
