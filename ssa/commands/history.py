"""``ssa history DIR``: the events a history folder follows, with their time series."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "history",
        help="inspect a conjunction history folder (ssa screen --history DIR)",
        description="List the runs recorded in a history folder and its top events, each "
        "with one line per update (TCA, miss, radial miss, relative speed, Pc, "
        "covariance size, time to TCA).",
    )
    p.add_argument("folder", metavar="DIR", help="history folder")
    p.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="events to show, highest Pc first, then closest (10)",
    )
    p.add_argument("--event", metavar="ID", help="show only this event")
    p.add_argument(
        "--plot",
        metavar="OUTDIR",
        help="also write the event-history figure of each shown event here",
    )
    p.set_defaults(func=run)


def _f(v, spec):
    return "-" if v is None else format(v, spec)


def run(args) -> int:
    from pathlib import Path

    from ssa.errors import DataNotFoundError, UserError
    from ssa.history import HISTORY_FILE, load_history, plot_event, top_events

    if not (Path(args.folder) / HISTORY_FILE).is_file():
        raise DataNotFoundError(
            f"{Path(args.folder) / HISTORY_FILE} not found: DIR must be a "
            f"folder written by 'ssa screen --history DIR'"
        )
    doc = load_history(args.folder)
    for r in doc["runs"]:
        inputs = r.get("inputs") or {}
        print(
            f"run {r['run']}: {r['recorded_utc']}, {r['conjunctions']} conjunctions, window "
            f"{inputs.get('start_utc', '?')} + {inputs.get('days', '?')} d"
        )
    if args.event:
        if args.event not in doc["events"]:
            raise UserError(f"no event {args.event!r} in {args.folder}")
        shown = [(args.event, doc["events"][args.event])]
    else:
        shown = top_events(doc, args.top)
    print(f"{len(doc['events'])} events; showing {len(shown)}")
    for eid, ev in shown:
        gone = f", gone in run {ev['gone_run']}" if ev.get("gone_run") else ""
        print(f"\n{eid}: {ev['name1']} ({ev['id1']}) vs {ev['name2']} ({ev['id2']}){gone}")
        print(
            f"  {'run':>3} {'TCA (UTC)':<23} {'miss km':>9} {'radial km':>9} {'km/s':>7} "
            f"{'Pc':>9} {'cov m':>8} {'to TCA d':>8}"
        )
        for p in ev["points"]:
            print(
                f"  {p['run']:>3} {p['tca_utc']:<23} {p['miss_km']:9.3f} "
                f"{_f(p.get('radial_km'), '9.3f')} {p['speed_kms']:7.3f} "
                f"{_f(p.get('pc'), '9.2e')} {_f(p.get('cov_size_m'), '8.0f')} "
                f"{_f(p.get('time_to_tca_days'), '8.2f')}"
            )
        if args.plot:
            path = plot_event(ev, Path(args.plot) / f"{eid}.png")
            print(f"  figure: {path}", file=sys.stderr)
    return 0
