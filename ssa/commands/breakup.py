"""``ssa breakup CATALOG --parent ID --time ISO (--collision ... | --explosion) --out FILE``:
NASA Standard Breakup Model fragments of a catalogued object as a 3LE or OMM file."""

from __future__ import annotations

import datetime as dt
import math
import os
import sys

HELP = """Break up a catalogued object with the NASA Standard Breakup Model (Johnson et al.
2001) and write its fragments as element sets that SGP4 propagates with drag:
3LE (default; Alpha-5 catalogue numbers 270000-339999) or OMM CSV (--omm; needed
above 70,000 fragments). Each fragment is named '<PARENT NAME> DEB' and gets a
synthetic catalogue number that no real object has. Prints the fragment counts
(>= 10 cm, and >= 1 cm when --min-size-m allows) and the mass budget.
Masses: --parent-mass-kg / --impactor-mass-kg, else the CARA table (--masses, default
$SSA_DATA/hbr-mass-cara-2024-11-01.csv), which lacks many masses."""

CARA_MASS_FILE = "hbr-mass-cara-2024-11-01.csv"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "breakup", help="fragment a catalogued object (NASA breakup model)", description=HELP
    )
    p.add_argument(
        "catalog",
        metavar="CATALOG",
        nargs="+",
        help="catalog file(s) holding the parent (TLE/3LE/OMM)",
    )
    p.add_argument("--parent", type=int, required=True, metavar="NORAD_ID")
    p.add_argument(
        "--time",
        required=True,
        metavar="ISO",
        help="event time, UTC (e.g. 2024-11-01T12:00:00Z; no zone means UTC); "
        "within 30 days of the parent's element-set epoch",
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--collision",
        action="store_true",
        help="collision: needs --impactor, or --impactor-mass-kg and --impact-speed-km-s",
    )
    mode.add_argument("--explosion", action="store_true", help="explosion of the parent")
    p.add_argument(
        "--impactor",
        type=int,
        metavar="NORAD_ID",
        help="catalogued impactor: both objects fragment at their closest approach "
        "within +-2 h of --time; the impact speed comes from their orbits",
    )
    p.add_argument("--impactor-mass-kg", type=float, metavar="M")
    p.add_argument("--impact-speed-km-s", type=float, metavar="V")
    p.add_argument("--parent-mass-kg", type=float, metavar="M")
    p.add_argument(
        "--masses", metavar="CSV", help=f"CARA HBR/mass table (default $SSA_DATA/{CARA_MASS_FILE})"
    )
    p.add_argument(
        "--satcat",
        metavar="FILE",
        help="SATCAT CSV: object types (rocket bodies use the model's upper-stage "
        "area-to-mass law); without it types come from names",
    )
    p.add_argument(
        "--min-size-m",
        type=float,
        default=0.1,
        metavar="L",
        help="smallest fragment characteristic length, m (default 0.1)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, metavar="FILE", help="output file")
    p.add_argument("--omm", action="store_true", help="write OMM CSV instead of 3LE")
    p.set_defaults(func=run)


def parse_time(text: str) -> dt.datetime:
    """Return the aware UTC datetime of an ISO 8601 time ('Z' or no zone: UTC)."""
    from ssa.errors import UserError

    try:
        when = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise UserError(
            f"--time {text!r} is not an ISO 8601 time such as 2024-11-01T12:00:00Z"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def _masses(args) -> dict:
    from ssa.breakup.event import load_cara_masses
    from ssa.data import data_dir

    if args.masses:
        return load_cara_masses(args.masses)
    root = data_dir()
    if root is not None and (root / CARA_MASS_FILE).exists():
        return load_cara_masses(root / CARA_MASS_FILE)
    return {}


def run(args) -> int:
    from ssa.breakup.event import breakup
    from ssa.catalog import Catalog
    from ssa.errors import UserError
    from ssa.geometry.timeutil import datetime_to_jd, format_utc, jd_to_datetime
    from ssa.io.write import omm_csv_lines, tle_lines

    when = parse_time(args.time)
    if (
        args.collision
        and args.impactor is None
        and (args.impactor_mass_kg is None or args.impact_speed_km_s is None)
    ):
        raise UserError(
            "--collision needs --impactor NORAD_ID, or both --impactor-mass-kg "
            "and --impact-speed-km-s"
        )
    if args.explosion and (args.impactor is not None or args.impact_speed_km_s is not None):
        raise UserError("--explosion takes no --impactor or --impact-speed-km-s")
    # Cheap checks before the catalogue loads: bad numbers fail at once.
    for option, value in (
        ("--parent-mass-kg", args.parent_mass_kg),
        ("--impactor-mass-kg", args.impactor_mass_kg),
        ("--impact-speed-km-s", args.impact_speed_km_s),
        ("--min-size-m", args.min_size_m),
    ):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UserError(f"{option} must be a positive number; got {value!r}")
    need_table = args.parent_mass_kg is None or (
        args.impactor is not None and args.impactor_mass_kg is None
    )
    masses = _masses(args) if need_table else None
    catalog = Catalog.load(args.catalog, satcat=args.satcat)
    jd, fr = datetime_to_jd(when)
    result = breakup(
        catalog,
        args.parent,
        jd,
        fr,
        "collision" if args.collision else "explosion",
        parent_mass_kg=args.parent_mass_kg,
        impactor_id=args.impactor,
        impactor_mass_kg=args.impactor_mass_kg,
        impact_speed_km_s=args.impact_speed_km_s,
        lc_min_m=args.min_size_m,
        seed=args.seed,
        masses=masses,
        block="auto" if args.omm else "alpha5",
    )
    lines = omm_csv_lines(result.fragments) if args.omm else tle_lines(result.fragments)
    text = "\n".join(lines) + "\n"
    tmp = f"{args.out}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as fh:  # complete file or none
        fh.write(text)
    os.replace(tmp, args.out)
    print(render(result, args, format_utc(jd_to_datetime(result.jd, result.fr))))
    return 0


def render(result, args, when: str) -> str:
    """Return the printed summary: event, counts, mass budget, output."""
    b = result.mass_budget()
    frag = result.fragments
    parent = result.bodies[0]
    lines = [f"{b['mode']} of {parent.name} ({parent.norad_id}) at {when}"]
    if len(result.bodies) > 1:
        other = result.bodies[1]
        lines.append(
            f"  impactor {other.name} ({other.norad_id}); closest approach "
            f"{result.miss_km:.3f} km (SGP4)"
        )
    if b["mode"] == "collision":
        lines.append(
            f"  impact speed {b['impact_speed_km_s']:.2f} km/s, "
            f"{b['energy_j_per_g']:.1f} J/g: "
            + ("catastrophic (>= 40 J/g)" if b["catastrophic"] else "non-catastrophic (< 40 J/g)")
        )
    sizes = (0.1, 0.01) if args.min_size_m <= 0.01 else (0.1,)
    counts = result.counts(sizes)
    lines.append(
        "fragments: "
        + ", ".join(f">= {s * 100:g} cm {n}" for s, n in counts.items())
        + f" (model mean >= {args.min_size_m:g} m: {b['model_mean_count']:.0f}; "
        f"{b['not_orbiting']} more cannot orbit)"
    )
    lines.append(
        f"mass budget (kg): parents {b['parents_mass_kg']:.3f}, fragmenting "
        f"{b['fragmenting_mass_kg']:.3f} = written {b['written_mass_kg']:.3f} "
        f"+ not orbiting {b['not_orbiting_mass_kg']:.3f}; "
        f"{b['remnants']} large pieces; stays with the target "
        f"{b['stays_with_target_kg']:.3f}; {b['dropped_by_mass_rule']} largest "
        "fragments removed by the mass rule"
    )
    if len(frag):
        lines.append(
            f"wrote {len(frag)} element sets to {args.out} (catalogue numbers "
            f"{int(frag.norad_id.min())}-{int(frag.norad_id.max())}, "
            f"{'OMM CSV' if args.omm else '3LE'})"
        )
    else:
        lines.append(f"wrote no element sets to {args.out}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run as: ssa breakup ...")
