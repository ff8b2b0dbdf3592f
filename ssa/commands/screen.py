"""``ssa screen``: conjunction screening of one or more catalog files."""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "screen",
        help="screen a catalog for close approaches (SGP4, all-vs-all or primaries)",
        description="Screen catalog objects for close approaches within a threshold over a "
        "time window; writes conjunctions.csv (or the --format choice) and "
        "run.json.",
    )
    p.add_argument(
        "catalogs",
        nargs="*",
        metavar="CATALOG",
        help="TLE/3LE/OMM file(s) or named sources (celestrak:active, spacetrack-gp, "
        "... fetched through the cache); none: the newest full catalogue in "
        "the cache, else the snapshot shipped with ssa",
    )
    p.add_argument("--satcat", help="SATCAT CSV for object types and owners")
    p.add_argument("--start", help="window start, ISO UTC (default: catalog median epoch)")
    p.add_argument("--days", type=float, default=7.0, help="window length in days (7)")
    p.add_argument("--threshold-km", type=float, default=5.0, help="miss threshold km (5)")
    p.add_argument(
        "--primaries",
        nargs="+",
        metavar="P",
        help="screen only these against the catalog: NORAD ids, owner codes "
        "(US, PRC, ...) or object types (PAYLOAD, ...)",
    )
    p.add_argument("--out", default="results/screen", help="output folder (results/screen)")
    p.add_argument(
        "--history",
        metavar="DIR",
        help="follow events across runs: match this run's conjunctions with the "
        "events of earlier runs in DIR, print and write what is new, worse "
        "and gone (DIR/history.json, DIR/run-NNN-changes.csv)",
    )
    p.add_argument(
        "--oem",
        metavar="FILE",
        help="screen an operator's ephemeris (CCSDS OEM, KVN, TEME or GCRF) against "
        "the catalogue instead (its own object, by OBJECT_ID, left out); "
        "writes OUT/oem-conjunctions.csv",
    )
    p.add_argument(
        "--volume",
        metavar="R,T,N",
        help="screening volume: an ellipsoid with these semi-axes (km) in the "
        "primary's RTN frame, e.g. 0.5,25,25 (replaces --threshold-km by the "
        "largest semi-axis, then keeps the encounters that enter it)",
    )
    p.add_argument(
        "--format",
        default="csv",
        metavar="LIST",
        help="table formats, comma-separated: csv, json, parquet, socrates "
        "(default csv; run.json is always written)",
    )
    p.add_argument(
        "--socrates",
        action="store_true",
        help="SOCRATES' scope: --primaries PAYLOAD --days 7 --threshold-km 5 (explicit flags win)",
    )
    p.add_argument(
        "--sort",
        choices=["maxProb", "minRange", "timeIn"],
        default="maxProb",
        help="row order of --format socrates (default maxProb)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="cores to use (all); with --cluster/--scheduler: numba threads per "
        "worker (local:N: cores // N; workers x threads <= cores)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the time slices and refinement on this Dask scheduler (default: $SSA_SCHEDULER)",
    )
    p.add_argument(
        "--cluster",
        metavar="local[:N]",
        help="start a local Dask cluster of N worker processes (N: all cores)",
    )
    p.add_argument("--strict", action="store_true", help="stop at the first bad record")
    p.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    p.add_argument(
        "--report",
        nargs="?",
        const=10,
        type=int,
        metavar="N",
        help="also write the HTML report (as 'ssa report') to OUT/report, with "
        "figures for the top N events (default 10)",
    )
    from ssa.commands.pc import add_screen_risk_arguments  # --hbr, --hbr-shape, --cdm [N]

    add_screen_risk_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ssa.catalog import Catalog
    from ssa.progress import progress
    from ssa.screening import screen
    from ssa.screening.formats import parse_formats
    from ssa.snapshot import describe, resolve_catalog

    formats = parse_formats(args.format)  # before any work: a missing pyarrow fails now
    volume = None
    if args.volume:
        from ssa.screening.volume import parse_volume

        volume = parse_volume(args.volume)
        args.threshold_km = max(volume)  # every entry into the ellipsoid is within it
    if args.socrates:
        from ssa.socrates import apply_scope

        apply_scope(args)
    choice = resolve_catalog(args.catalogs, args.satcat)
    if choice.note:  # which catalogue and how old: always said, even with --quiet
        print(choice.note, file=sys.stderr)
    with progress(total=1, desc="load", unit="file", quiet=args.quiet) as bar:
        catalog = Catalog.load(choice.paths, satcat=choice.satcat, strict=args.strict)
        bar.update(1)
    if not (args.cluster or args.scheduler):
        # First run on this install (numba cache cold): compile in parallel processes,
        # after the inputs are known good so a mistake is reported at once.
        from ssa.screening.warmup import ensure_compiled

        ensure_compiled(quiet=args.quiet, processes=args.threads)
    if args.oem:
        return run_oem(args, catalog)
    if not args.quiet:
        for pr in catalog.load_report.problems[:20]:
            print(f"skipped {pr.file}:{pr.line}: {pr.reason}", file=sys.stderr)
    from ssa.commands.pc import apply_screen_risk  # Pc columns (ssa.risk), optional CDMs
    from ssa.outputs import atomic_folder
    from ssa.screening.formats import TABLE_NAMES

    # Everything goes to a temporary sibling, swapped in when complete (ssa.outputs).
    out = Path(args.out)
    with atomic_folder(out) as tmp:
        # A CSV-only run streams its table to disk chunk by chunk (risk columns filled
        # per chunk: they are per row); the options needing the whole table keep it.
        stream = formats == ("csv",) and not (
            volume is not None
            or args.history
            or args.report is not None
            or getattr(args, "cdm", None) is not None
        )
        risks = []

        def risk(rows):
            risks.append(apply_screen_risk(args, rows, catalog, tmp, note=not risks))

        _prefetch_imports()
        result = screen(
            catalog,
            start=args.start,
            days=args.days,
            threshold_km=args.threshold_km,
            primaries=args.primaries,
            quiet=args.quiet,
            threads=args.threads,
            scheduler=args.scheduler,
            cluster=args.cluster,
            inputs={
                "catalogs": [str(p) for p in choice.paths],
                "satcat": str(choice.satcat) if choice.satcat else None,
                "catalog_origin": describe(choice),
            },
            table_csv=tmp / TABLE_NAMES["csv"] if stream else None,
            on_chunk=risk if stream else None,
        )
        if volume is not None:
            from ssa.screening.volume import apply_volume

            apply_volume(result, volume)
        result.run["load"] = {
            "read": catalog.load_report.read,
            "loaded": catalog.load_report.loaded,
            "skipped": catalog.load_report.skipped,
        }
        if stream:
            result.run["risk"] = {**risks[0], "wall_s": sum(r["wall_s"] for r in risks)}
        else:
            result.run["risk"] = apply_screen_risk(args, result.rows, catalog, tmp)
        result.run["socrates_sort"] = args.sort  # row order of --format socrates
        if args.history:
            from ssa.history import record_result

            changes = record_result(args.history, result)
            result.run["history"] = {
                "folder": str(Path(args.history).resolve()),
                "run": changes.run["run"],
                **{s: len(changes.by_status(s)) for s in ("new", "worse", "updated", "gone")},
            }
            print_changes(changes)
        written = result.write(tmp, formats)
        if args.report is not None:
            from ssa.report import build_report

            build_report(tmp, top=args.report)
    paths = {k: out / Path(v).relative_to(tmp) for k, v in written.items()}
    if not args.quiet:
        c = result.run["counts"]
        print(
            f"{c['conjunctions']} conjunctions <= {args.threshold_km} km among "
            f"{c['screened']} objects ({c['dropped']} dropped) from "
            f"{result.run['inputs']['start_utc']} for {args.days} d in "
            f"{result.run['wall_s']:.1f} s; wrote {', '.join(map(str, paths.values()))}"
        )
        if args.report is not None:
            print(f"report: {out / 'report' / 'index.html'}", file=sys.stderr)
    return 0


def _prefetch_imports() -> None:
    """Import what the table's risk stage needs later (scipy.special, for MAX_PROB's
    numeric rows: ~0.3-0.6 s) on a thread, while the plan and kernel run (their numba
    code releases the GIL), instead of when the first rows reach the risk stage."""
    import threading

    def load():
        try:
            import scipy.special  # noqa: F401
        except ImportError:  # reported where it is really needed
            pass

    threading.Thread(target=load, name="ssa-prefetch").start()


def print_changes(changes, limit: int = 10) -> None:
    """Print a run's history summary and its worse / new / gone events (stderr)."""
    print(changes.summary(), file=sys.stderr)
    for status in ("worse", "new", "gone"):
        items = changes.by_status(status)
        for c in items[:limit]:
            now, prev = c.point or {}, c.previous or {}
            miss = (
                f"miss {prev['miss_km']:.3f} -> {now['miss_km']:.3f} km"
                if now and prev
                else f"miss {(now or prev)['miss_km']:.3f} km"
            )
            pc = now.get("pc") if now else prev.get("pc")
            print(
                f"  {status:5s} {c.event_id}  {c.event['name1']} / {c.event['name2']}  "
                f"TCA {(now or prev)['tca_utc']}  {miss}" + (f"  Pc {pc:.2e}" if pc else ""),
                file=sys.stderr,
            )
        if len(items) > limit:
            print(f"  ... {len(items) - limit} more {status}", file=sys.stderr)


def run_oem(args, catalog) -> int:
    """``ssa screen --oem FILE``: the OEM's trajectory against the catalogue."""
    import csv

    from ssa.geometry.timeutil import format_utc_ms
    from ssa.oem import read_oem
    from ssa.outputs import atomic_folder
    from ssa.screening.oem_primary import screen_oem

    found = []
    for seg in read_oem(args.oem):
        # The OEM's own object (OBJECT_ID = its designator or catalogue number) is not a
        # secondary: it would meet itself all along.
        oid = seg.meta.get("OBJECT_ID", "").strip()
        own = catalog.norad_id[(catalog.intl_des == oid) | (catalog.norad_id.astype(str) == oid)]
        found += [
            (seg.meta.get("OBJECT_NAME", ""), e)
            for e in screen_oem(seg, catalog, args.threshold_km, exclude=tuple(own))
        ]
    out = Path(args.out)
    with atomic_folder(out) as tmp:
        with open(tmp / "oem-conjunctions.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "OEM_OBJECT",
                    "NORAD_CAT_ID",
                    "OBJECT_NAME",
                    "TCA",
                    "TCA_RANGE",
                    "TCA_RELATIVE_SPEED",
                ]
            )
            for name, e in found:
                w.writerow(
                    [
                        name,
                        e.norad_id,
                        e.name,
                        format_utc_ms(e.tca_jd, e.tca_fr)[0],
                        f"{e.miss_km:.6f}",
                        f"{e.speed_kms:.6f}",
                    ]
                )
    if not args.quiet:
        print(
            f"{len(found)} conjunctions <= {args.threshold_km} km of {args.oem} with the "
            f"catalogue; wrote {out / 'oem-conjunctions.csv'}"
        )
    return 0
