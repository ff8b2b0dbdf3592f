"""``ssa pc CDM...``: probability of collision from conjunction data messages."""

from __future__ import annotations

import json
import math
import sys

from ssa.errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pc",
        help="probability of collision (Foster 2D) from CCSDS CDM files",
        description="Compute the 2D probability of collision of each CDM (KVN or XML) from its "
        "states and RTN covariances. The hard-body radius comes from the file's "
        "'COMMENT HBR = ...' line unless --hbr-m is given.",
    )
    p.add_argument("cdms", nargs="*", metavar="CDM", help="CDM files (KVN or XML)")
    p.add_argument(
        "--method",
        default="foster",
        metavar="NAME",
        help="Pc method from the registry (default foster; --methods lists them)",
    )
    p.add_argument(
        "--methods",
        action="store_true",
        help="list the registered Pc methods (name, CDM method text, summary) and exit",
    )
    p.add_argument(
        "--hbr-m",
        type=float,
        default=None,
        metavar="R",
        help="combined hard-body radius in metres (overrides the file)",
    )
    p.add_argument(
        "--hbr-shape",
        choices=["circle", "square", "square-equal-area"],
        default="circle",
        help="hard-body shape in the encounter plane (default: circle)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per CDM instead of a table")
    p.add_argument(
        "--mc",
        type=int,
        default=0,
        metavar="N",
        help="also run a seeded two-body Monte Carlo with N samples (for slow "
        "encounters where the 2D model is not valid)",
    )
    p.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default: 0)")
    p.add_argument(
        "--history",
        action="store_true",
        help="the CDMs are successive updates of one event: print its Pc and miss "
        "history in CREATION_DATE order",
    )
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="with --history, also write the event-history figure (miss and Pc "
        "against time to TCA)",
    )
    p.set_defaults(func=run)


def run_history(args) -> int:
    """``ssa pc CDM... --history``: one line per CDM in creation order, optional figure."""
    from ssa.history import cdm_series, plot_event

    ev = cdm_series(args.cdms, args.hbr_m)
    print(f"{ev['name1']} ({ev['id1']}) vs {ev['name2']} ({ev['id2']}): {len(ev['points'])} CDMs")
    print(
        f"{'created (UTC)':<23} {'TCA (UTC)':<23} {'to TCA d':>8} {'miss m':>9} "
        f"{'Pc':>10} {'CDM Pc':>10}  file"
    )
    for p in ev["points"]:
        print(
            f"{p['creation_utc']:<23} {p['tca_utc']:<23} {p['time_to_tca_days']:8.2f} "
            f"{p['miss_km'] * 1000:9.1f} {_fmt(p['pc'], '10.3e')} "
            f"{_fmt(p['cdm_pc'], '10.3e')}  {p['file'].rsplit('/', 1)[-1]}"
        )
    if args.plot:
        print(f"figure: {plot_event(ev, args.plot)}", file=sys.stderr)
    return 0


def _fmt(v, spec):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def run(args) -> int:
    from ssa.cdm import CdmError, read_cdm
    from ssa.risk.assess import assess_cdm

    if args.methods:
        from ssa.risk.pc import PC_METHODS

        for m in PC_METHODS.values():
            print(f"{m.name:<14} {m.cdm_text:<24} {m.summary}")
        return 0
    if not args.cdms:
        raise UserError("give one or more CDM files (or --methods)")
    if args.history:
        return run_history(args)
    if args.mc < 0:
        raise UserError(f"--mc must be 0 or a number of samples, got {args.mc}")
    if args.hbr_m is not None and not (args.hbr_m >= 0 and math.isfinite(args.hbr_m)):
        raise UserError(f"--hbr-m must be a non-negative number of metres, got {args.hbr_m}")
    from ssa.risk.pc import get_pc_method

    interval = get_pc_method(args.method).interval
    extra_mc = bool(args.mc) and args.method != "monte-carlo"
    failed = 0
    if not args.json:
        print(
            f"{'file':<60} {'TCA (UTC)':<23} {'miss m':>9} {'HBR m':>6} {'Pc':>10} "
            + (f"{'95% interval':>23} " if interval else "")
            + f"{'CDM Pc':>10} {'2D ok':>5}"
            + (f" {'MC Pc':>10} {'MC 95% interval':>23}" if extra_mc else "")
        )
    for path in args.cdms:
        try:
            result = assess_cdm(
                read_cdm(path), args.hbr_m, args.hbr_shape, args.mc, args.seed, method=args.method
            )
        except (CdmError, ValueError, OSError) as exc:
            print(f"ssa pc: {exc}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            print(json.dumps(result))
        else:
            name = result["file"].rsplit("/", 1)[-1]
            print(
                f"{name:<60} {result['tca']:<23} {result['miss_distance_m']:>9.1f} "
                f"{result['hbr_m']:>6.2f} {_fmt(result['pc'], '10.3e')} "
                + (f"[{result['pc_low']:9.3e}, {result['pc_high']:9.3e}] " if interval else "")
                + f"{_fmt(result['cdm_pc'], '10.3e')} {'yes' if result['pc_2d_valid'] else 'NO':>5}"
                + (
                    f" {result['pc_mc']:10.3e} [{result['pc_mc_ci95'][0]:9.3e}, "
                    f"{result['pc_mc_ci95'][1]:9.3e}]"
                    if extra_mc
                    else ""
                )
            )
    return 1 if failed else 0


# --------------------------------------------------- risk options for 'ssa screen'


def add_screen_risk_arguments(parser) -> None:
    """Add the risk options of ``ssa screen``: --hbr FILE, --hbr-m R, --hbr-shape,
    --pc-method, --cdm [N], --cdm-xml."""
    g = parser.add_argument_group("collision risk")
    g.add_argument(
        "--hbr",
        metavar="FILE",
        default=None,
        help="NASA CARA hard-body-radius CSV (e.g. $SSA_DATA/hbr-mass-cara-2024-11-01.csv); "
        "without it radii come from RCS size or object type",
    )
    g.add_argument(
        "--hbr-m",
        type=float,
        default=None,
        metavar="R",
        help="one combined hard-body radius in metres for every pair (as SOCRATES' "
        "fixed radii); overrides --hbr",
    )
    g.add_argument(
        "--hbr-shape",
        choices=["circle", "square", "square-equal-area"],
        default="circle",
        help="hard-body shape for Pc (default: circle)",
    )
    g.add_argument(
        "--pc-method",
        default="foster",
        metavar="NAME",
        help="Pc method for the PC column (default foster; 'ssa pc --methods' lists them)",
    )
    g.add_argument(
        "--cdm",
        nargs="?",
        type=int,
        const=-1,
        default=None,
        metavar="N",
        help="write a CCSDS CDM (KVN) per conjunction into OUT/cdm/, or only the top N by Pc",
    )
    g.add_argument("--cdm-xml", action="store_true", help="with --cdm, also write the XML form")


def apply_screen_risk(args, rows, catalog, out_dir=None, note: bool = True) -> dict:
    """Fill the Pc columns of screening ``rows`` from the parsed options (see
    ``ssa.risk.assess_result``); print the --hbr-m/--hbr note (unless note is False: a
    streamed table's later chunks); return the run.json summary."""
    from pathlib import Path

    from ssa.risk import assess_result

    cdm = getattr(args, "cdm", None)
    if cdm is not None and cdm < -1:
        raise UserError(f"--cdm N must be a positive number of conjunctions, got {cdm}")
    hbr_m = getattr(args, "hbr_m", None)
    if hbr_m is not None and not (hbr_m >= 0 and math.isfinite(hbr_m)):
        raise UserError(f"--hbr-m must be a non-negative number of metres, got {hbr_m}")
    summary = assess_result(
        rows,
        catalog,
        hbr_table=getattr(args, "hbr", None),
        hbr_m=hbr_m,
        shape=getattr(args, "hbr_shape", "circle"),
        method=getattr(args, "pc_method", "foster"),
        cdm_dir=Path(out_dir) / "cdm" if cdm is not None and out_dir is not None else None,
        cdm_top=None if cdm in (None, -1) else cdm,
        cdm_xml=getattr(args, "cdm_xml", False),
    )
    if summary["hbr_note"] and note:  # shown even with --quiet: the user asked for both
        print(f"ssa screen: {summary['hbr_note']}", file=sys.stderr)
    return summary
