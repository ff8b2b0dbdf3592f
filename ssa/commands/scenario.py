"""``ssa scenario run FILE`` and ``ssa scenario compare DIR...``: data-sharing scenarios."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("scenario", help="simulate a space-surveillance data-sharing "
                                               "grouping and measure what sharing buys")
    sub = p.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND")
    run = sub.add_parser("run", help="run one scenario TOML file")
    run.add_argument("file", help="scenario file, e.g. scenarios/status-quo.toml")
    run.add_argument("--out", help="output folder (default results/<scenario name>)")
    run.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    run.add_argument("--screening-cache", metavar="DIR",
                     help="keep the truth screening here and reuse it for scenarios with the "
                          "same catalog, window, threshold and protected satellites")
    run.set_defaults(func=_run)
    cmp_ = sub.add_parser("compare", help="put several run folders side by side")
    cmp_.add_argument("dirs", nargs="+", help="output folders of 'ssa scenario run'")
    cmp_.add_argument("--csv", help="also write the table to this CSV file")
    cmp_.set_defaults(func=_compare)
    p.set_defaults(func=lambda args: _help(p))


def _help(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _user_input(read, what):
    """Return read(what); the ValueError/FileNotFoundError that ssa.scenario raises for a
    bad scenario file or run folder becomes a UserError (one line, no traceback)."""
    from ssa.errors import SsaError, UserError

    try:
        return read(what)
    except SsaError:
        raise
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc


def _run(args) -> int:
    from ssa.scenario.assess import caching_screen, run_scenario
    from ssa.scenario.config import load_scenario
    from ssa.scenario.report import write_outputs

    t0 = time.perf_counter()
    sc = _user_input(load_scenario, args.file)
    out = Path(args.out) if args.out else Path("results") / sc.name
    screen = caching_screen(args.screening_cache) if args.screening_cache else None
    result = run_scenario(sc, quiet=args.quiet, screen=screen)
    summ = write_outputs(result, out)
    if not args.quiet:
        print(f"scenario {sc.name}: {result.counts['conjunctions']} conjunctions, "
              f"{result.counts['dangerous']} dangerous, {time.perf_counter() - t0:.0f} s")
        print(f"{'participant':24s} {'caught':>6s} {'missed':>6s} {'false':>6s} "
              f"{'cover24h':>8s} {'warn_h':>7s}")
        for m in summ["participants"]:
            w = m["median_warning_h"]
            print(f"{m['participant']:24s} {m['caught']:6d} {m['missed']:6d} "
                  f"{m['false_alerts']:6d} {m['coverage_24h']:8.3f} "
                  f"{'-' if w is None else f'{w:.1f}':>7s}")
        print(f"wrote {out}/summary.json, {out}/conjunctions/*.csv, {out}/report.html")
    return 0


def _compare(args) -> int:
    from ssa.scenario.compare import compare_rows, format_table

    headers, rows = _user_input(compare_rows, args.dirs)
    print(format_table(headers, rows))
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows(rows)
    return 0
