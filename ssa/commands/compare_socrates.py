"""``ssa compare-socrates OURS SOCRATES``: match our conjunctions with a SOCRATES file."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare-socrates",
        help="compare a screening result with a CelesTrak SOCRATES file",
        description="Match the rows of our result (a screen output folder, conjunctions.csv "
        "or socrates.csv) with a SOCRATES CSV (or the collected JSON rows in "
        "../shared/socrates): same pair, TCA within a tolerance. Reports matched / "
        "only ours / only SOCRATES with the reason where it can be told, and the "
        "distributions of the TCA, range, speed and MAX_PROB differences.",
    )
    p.add_argument("ours", metavar="OURS", help="our result folder or CSV")
    p.add_argument("socrates", metavar="SOCRATES", help="SOCRATES CSV or collected JSON rows")
    p.add_argument(
        "--tca-tol-s",
        type=float,
        default=None,
        metavar="S",
        help="largest TCA difference of a match, seconds (default 60)",
    )
    p.add_argument(
        "--fit-radius",
        action="store_true",
        help="also fit one combined radius on half of the matched rows (1st, 3rd, "
        "... in SOCRATES' order) and test it on the other half (needs our CSV "
        "with its TEME state columns)",
    )
    p.add_argument("--json", action="store_true", help="the whole report as one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ssa.socrates import TCA_MATCH_TOL_S, compare, format_report, read_socrates

    tol = TCA_MATCH_TOL_S if args.tca_tol_s is None else args.tca_tol_s
    if not tol >= 0:
        raise ValueError(f"--tca-tol-s must be >= 0 seconds, got {args.tca_tol_s}")
    report = compare(
        read_socrates(args.ours), read_socrates(args.socrates), tol, fit_radius=args.fit_radius
    )
    print(json.dumps(report, indent=1, default=str) if args.json else format_report(report))
    return 0
