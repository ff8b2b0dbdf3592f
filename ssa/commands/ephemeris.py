"""``ssa ephemeris``: CCSDS OEM files of catalogue objects from SGP4."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ephemeris",
        help="write CCSDS OEM ephemerides (KVN) of catalogue objects from SGP4",
        description="Sample SGP4 states of the given objects and write one CCSDS OEM "
        "(502.0-B-3, KVN) per object, in TEME or GCRF (stated in the file), so "
        "screening results can be checked in other tools.",
    )
    p.add_argument(
        "catalogs",
        nargs="*",
        metavar="CATALOG",
        help="catalogue files or named sources (default: as 'ssa screen')",
    )
    p.add_argument(
        "--satcat", help="SATCAT CSV (object names and designators come from the catalogue)"
    )
    p.add_argument(
        "--primaries",
        nargs="+",
        type=int,
        required=True,
        metavar="ID",
        help="NORAD catalogue numbers to write",
    )
    p.add_argument(
        "--start",
        help="first epoch, ISO UTC (default: the catalogue's median epoch, to the whole second)",
    )
    p.add_argument("--days", type=float, default=1.0, help="span in days (1)")
    p.add_argument("--step", type=float, default=60.0, metavar="S", help="step in seconds (60)")
    p.add_argument(
        "--frame",
        choices=["TEME", "GCRF"],
        default="TEME",
        help="reference frame of the states (TEME: SGP4's own)",
    )
    p.add_argument("--out", default="results/ephemeris", help="output folder")
    p.set_defaults(func=run)


def run(args) -> int:
    import math
    from pathlib import Path

    from ssa.catalog import Catalog
    from ssa.errors import UserError
    from ssa.geometry.timeutil import datetime_to_jd
    from ssa.oem import segment_for, write_oem
    from ssa.snapshot import resolve_catalog

    choice = resolve_catalog(args.catalogs, args.satcat)
    if choice.note:
        print(choice.note, file=sys.stderr)
    catalog = Catalog.load(choice.paths)
    if args.start:
        import datetime as dt

        when = dt.datetime.fromisoformat(args.start.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        jd0, fr0 = datetime_to_jd(when)
    else:
        jd0, fr0 = catalog.epoch_median()
        fr0 = math.floor(fr0 * 86400.0) / 86400.0  # whole second: exact epochs in the file
    missing = sorted(set(args.primaries) - set(catalog.norad_id.tolist()))
    if missing:
        raise UserError(f"--primaries {missing}: not in the catalogue")
    out = Path(args.out)
    for norad in args.primaries:
        i = int((catalog.norad_id == norad).nonzero()[0][0])
        seg = segment_for(
            catalog.satrecs[i],
            norad,
            str(catalog.name[i]),
            str(catalog.intl_des[i]),
            jd0,
            fr0,
            args.days,
            args.step,
            args.frame,
        )
        path = write_oem(out / f"{norad}.oem", [seg])
        print(path)
    return 0
