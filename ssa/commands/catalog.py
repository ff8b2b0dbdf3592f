"""``ssa catalog fetch`` (download public catalogs) and ``ssa catalog info`` (summarise files)."""

from __future__ import annotations

import json
import sys

HELP_FETCH = """Download a public catalog into the cache (catalogs/cache/ or $SSA_CACHE) and
print the file's path on stdout. Named sources are listed by --list and defined in
ssa/resources/sources.toml; 'celestrak:GROUP' fetches any CelesTrak GP group as OMM JSON
('celestrak:GROUP:csv' as OMM CSV).
A cached copy younger than the source's max age is reused; --force downloads
anyway, but never sooner than the provider allows (CelesTrak: 2 hours).
Space-Track sources read SPACETRACK_USER / SPACETRACK_PASSWORD or ~/.netrc."""

HELP_INFO = """Summarise catalog files (TLE/3LE, OMM CSV/JSON/XML/KVN, gzip or not): objects
by type, owner and orbit regime, element-set epoch spread, and the records read,
loaded and skipped (with reasons). Object types come from --satcat, else from names."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="download public catalogs and summarise catalog files",
        description="Download public catalogs (fetch) and summarise catalog files (info).",
    )
    actions = parser.add_subparsers(dest="catalog_action", metavar="ACTION")

    fetch = actions.add_parser(
        "fetch", help="download a public catalog (CelesTrak, Space-Track)", description=HELP_FETCH
    )
    fetch.add_argument(
        "source",
        nargs="?",
        default=None,
        help="source name (default: the sources file's default, 'active'), "
        "or celestrak:GROUP[:csv]",
    )
    fetch.add_argument("--out", metavar="FILE", help="also copy the file (and its .meta.json) here")
    fetch.add_argument(
        "--force",
        action="store_true",
        help="download even if the cached copy is recent "
        "(the provider's minimum interval still applies)",
    )
    fetch.add_argument("--list", action="store_true", help="list the named sources and the cache")
    fetch.add_argument(
        "--sources",
        metavar="TOML",
        help="sources file (default: the one shipped in ssa/resources/)",
    )
    fetch.set_defaults(func=run_fetch)

    info = actions.add_parser("info", help="summarise catalog files", description=HELP_INFO)
    info.add_argument("files", nargs="+", metavar="FILE", help="catalog file(s), loaded together")
    info.add_argument(
        "--satcat",
        metavar="FILE",
        help="SATCAT CSV (CelesTrak or Space-Track) for object type, owner and RCS size",
    )
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.add_argument(
        "--strict", action="store_true", help="stop with an error at the first bad record"
    )
    info.add_argument(
        "--problems",
        action="store_true",
        help="also list every skipped record (file:line: reason) on stderr",
    )
    info.set_defaults(func=run_info)

    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_fetch(args) -> int:
    from ssa.cli import UserError
    from ssa.fetch import FetchError, cache_status, fetch, load_sources

    sources = load_sources(args.sources)
    if args.list:
        rows = cache_status(sources)
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            cached = (
                f"cached {r['cached_utc']} ({r['cached_age']} old)"
                if r["cached_utc"]
                else "not cached"
            )
            mark = "*" if r["name"] == sources.default else " "
            print(f"{mark}{r['name']:<{width}}  {r['provider']:<10} {r['format']:<10} {cached}")
            print(f" {'':<{width}}  {r['description']}")
        print("(* default; any CelesTrak GP group: celestrak:GROUP or celestrak:GROUP:csv)")
        return 0
    source = sources.get(args.source)
    try:
        result = fetch(source, force=args.force, out=args.out)
    except FetchError as exc:
        raise UserError(str(exc)) from None
    print(result.message, file=sys.stderr)
    print(result.path)
    return 0


def run_info(args) -> int:
    from pathlib import Path

    from ssa.catalog import Catalog
    from ssa.errors import DataNotFoundError
    from ssa.summary import summarize

    # Check every input first, so a mistyped --satcat fails before the long load.
    for name in [*args.files, *([args.satcat] if args.satcat else [])]:
        if not Path(name).is_file():
            raise DataNotFoundError(f"{name}: no such file")
    catalog = Catalog.load(args.files, satcat=args.satcat, strict=args.strict)
    summary = summarize(catalog)
    summary["satcat"] = args.satcat
    if args.problems:
        for problem in catalog.load_report.problems:
            print(problem, file=sys.stderr)
        if catalog.load_report.problems_not_kept:
            print(
                f"... and {catalog.load_report.problems_not_kept} more skipped records, not "
                f"listed (only the first {len(catalog.load_report.problems)} are kept)",
                file=sys.stderr,
            )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(render(summary))
    return 0


def _pct(count: int, total: int) -> str:
    return f"{100.0 * count / total:5.1f}%" if total else "   - "


def render(s: dict) -> str:
    """Return the text report of a ``ssa.summary.summarize`` dict."""
    n = s["objects"]
    lines = [
        f"files: {', '.join(s['files'])}",
        f"records: read {s['read']:,}, loaded {s['loaded']:,}, skipped {s['skipped']:,}, "
        f"duplicates dropped {s['duplicates_dropped']:,}",
        f"objects: {n:,}",
    ]
    if s["type_source"] == "satcat":
        lines.append(
            f"object types (from SATCAT {s.get('satcat')}; "
            f"{s['satcat_missing']:,} objects not in it count as UNKNOWN):"
        )
    else:
        lines.append(
            "object types (guessed from names: ' DEB' debris, 'R/B' rocket body; "
            "give --satcat for the real ones):"
        )
    lines += [f"  {t:<12} {c:>8,}  {_pct(c, n)}" for t, c in s["by_type"].items()]
    if s["type_source"] == "satcat":
        lines.append(f"owners (top {len(s['by_owner'])} of {s['owners_distinct']}):")
        lines += [f"  {o:<12} {c:>8,}  {_pct(c, n)}" for o, c in s["by_owner"].items()]
        if s["owners_other"]:
            lines.append(f"  {'other':<12} {s['owners_other']:>8,}  {_pct(s['owners_other'], n)}")
    else:
        lines.append("owners: unknown without --satcat")
    lines.append(
        "orbit regimes (LEO apogee < 2000 km; GEO period 1300-1800 min and e < 0.1; "
        "HEO e >= 0.25; MEO the rest):"
    )
    lines += [f"  {r:<12} {c:>8,}  {_pct(c, n)}" for r, c in s["by_regime"].items()]
    old = s["old_element_sets"]
    lines += [
        f"element-set epochs (UTC): min {s['epoch_min']}, median {s['epoch_median']}, "
        f"max {s['epoch_max']}",
        f"  older than {old['days']:g} days before the median epoch: "
        f"{old['older_than_median_minus_days']:,}; before the newest epoch: "
        f"{old['older_than_newest_minus_days']:,}",
    ]
    if s["skipped_by_reason"]:
        lines.append("skipped records by reason (count, reason, first occurrence):")
        lines += [
            f"  {g['count']:>6,}  {g['reason']}  ({g['first']})" for g in s["skipped_by_reason"]
        ]
    return "\n".join(lines)
