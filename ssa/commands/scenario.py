"""``ssa scenario run FILE``, ``compare DIR...``, ``calibrate CDM...``: data-sharing scenarios."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scenario",
        help="simulate a space-surveillance data-sharing grouping and measure what sharing buys",
    )
    sub = p.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND")
    run = sub.add_parser("run", help="run scenario TOML files (one by one, or on a Dask cluster)")
    run.add_argument(
        "files",
        nargs="+",
        metavar="file",
        help="scenario file, e.g. scenarios/status-quo.toml, or the name "
        "of a shipped scenario, e.g. status-quo; with several, each gets "
        "the sub-folder of its name in --out",
    )
    run.add_argument(
        "--out",
        help="output folder (default results/<scenario name>; with several "
        "scenarios results/, one sub-folder per scenario)",
    )
    run.add_argument(
        "--cluster",
        metavar="local[:N]",
        help="run scenarios, seeds and start dates as tasks on a local Dask cluster "
        "of N worker processes (default N: the cores); runs with the same truth "
        "share one screening",
    )
    run.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run them on this Dask scheduler's workers (default $SSA_SCHEDULER)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    run.add_argument(
        "--screening-cache",
        metavar="DIR",
        help="keep the truth screening here and reuse it for scenarios with the "
        "same catalog, window, threshold and protected satellites",
    )
    run.set_defaults(func=_run)
    cmp_ = sub.add_parser("compare", help="put several run folders side by side")
    cmp_.add_argument("dirs", nargs="+", help="output folders of 'ssa scenario run'")
    cmp_.add_argument("--csv", help="also write the table to this CSV file")
    cmp_.set_defaults(func=_compare)
    pl = sub.add_parser(
        "pool",
        help="pool several runs (a [sweep] over start dates or snapshots) into one set of rates",
    )
    pl.add_argument("dirs", nargs="+", help="run folders, or a folder of sweep sub-folders")
    pl.add_argument("--out", help="also write the pooled metrics to this JSON file")
    pl.add_argument("--bootstrap", type=int, default=400, help="bootstrap resamples (400)")
    pl.set_defaults(func=_pool)
    cal = sub.add_parser(
        "calibrate",
        help="compare the orbit-knowledge model with real CDMs (and refit it with --fit)",
    )
    cal.add_argument("cdms", nargs="+", metavar="CDM", help="CCSDS CDM files (KVN or XML)")
    cal.add_argument("--json", action="store_true", help="print one JSON object per CDM object")
    cal.add_argument(
        "--fit",
        metavar="OUT",
        help="fit the model to these CDMs, with leave-one-CDM-out "
        "cross-validation, and write the fit to OUT (JSON)",
    )
    cal.add_argument(
        "--model",
        metavar="FIT",
        help="fit file to predict with (default: the committed scenarios/knowledge-fit.json)",
    )
    cal.set_defaults(func=_calibrate)
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
    """Run the scenario files: on Dask with --cluster/--scheduler/SSA_SCHEDULER
    (ssa.scenario.distributed), else one by one in this process."""
    import os

    from ssa.scenario.config import load_scenario
    from ssa.screening.executor import ENV_SCHEDULER

    scheduler = args.scheduler or os.environ.get(ENV_SCHEDULER) or None
    if args.cluster or scheduler:
        return _run_distributed(args, scheduler)
    if len(args.files) == 1:
        return _run_one(args, args.files[0], args.out)
    scenarios = [_user_input(load_scenario, scenario_path(f)) for f in args.files]
    _check_names(scenarios)
    base = Path(args.out) if args.out else Path("results")
    for f, sc in zip(args.files, scenarios, strict=True):
        _run_one(args, f, str(base / sc.name))
    return 0


def _check_names(scenarios) -> None:
    from ssa.scenario.distributed import plan_runs

    plan_runs(scenarios)  # refuses two scenarios of one name (one sub-folder each)


def _run_distributed(args, scheduler) -> int:
    from ssa.errors import UserError
    from ssa.scenario.config import load_scenario
    from ssa.scenario.distributed import plan_runs, run_on_dask

    if args.cluster and scheduler:
        raise UserError("give either --scheduler (or SSA_SCHEDULER) or --cluster, not both")
    t0 = time.perf_counter()
    scenarios = [_user_input(load_scenario, scenario_path(f)) for f in args.files]
    runs = plan_runs(scenarios)
    if args.out:
        out = Path(args.out)
    else:
        out = Path("results") / (scenarios[0].name if len(scenarios) == 1 else "")

    def done(run, res, where):
        if not args.quiet:
            _print_run(
                run.scenario,
                run.number - 1,
                run.variants,
                res["conjunctions"],
                res["seconds"],
                res["summary"],
                where,
            )

    rec = run_on_dask(
        runs,
        out,
        scheduler=scheduler,
        cluster=args.cluster,
        cache_dir=args.screening_cache,
        on_done=done,
    )
    if not args.quiet:
        print(
            f"{len(runs)} runs of {len(scenarios)} scenarios on {rec['workers']} Dask "
            f"workers, {rec['truth_tasks']} truth screenings: total "
            f"{time.perf_counter() - t0:.0f} s"
        )
    return 0


def _run_one(args, file, out_dir) -> int:
    from ssa.outputs import atomic_folder
    from ssa.scenario.assess import run_variant, stage_truth
    from ssa.scenario.config import expand_sweep, load_scenario
    from ssa.scenario.distributed import variant_folder
    from ssa.scenario.report import write_outputs
    from ssa.scenario.truth import caching_screen

    t0 = time.perf_counter()
    sc = _user_input(load_scenario, scenario_path(file))
    out = Path(out_dir) if out_dir else Path("results") / sc.name
    screen = caching_screen(args.screening_cache) if args.screening_cache else None
    variants = expand_sweep(sc)
    for k, var in enumerate(variants):
        t1 = time.perf_counter()
        truth = stage_truth(var, screen=screen, quiet=args.quiet)
        t_truth = time.perf_counter() - t1
        result = run_variant(var, truth, quiet=args.quiet, cache_dir=args.screening_cache)
        result.timings_s = {"truth": t_truth, **result.timings_s, "total": time.perf_counter() - t1}
        sub = variant_folder(var, len(variants))
        where = out / sub
        # Each output folder complete or absent (ssa.outputs).
        with atomic_folder(where) as tmp:
            summ = write_outputs(result, tmp)
        if not args.quiet:
            _print_run(var, k, len(variants), truth.n, time.perf_counter() - t1, summ, where)
    if not args.quiet:
        print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


def _pool(args) -> int:
    from ssa.scenario.pool import format_pooled, pool

    pooled = _user_input(lambda d: pool(d, n_boot=args.bootstrap), args.dirs)
    if args.out:
        import json

        Path(args.out).write_text(json.dumps(pooled, indent=1) + "\n")
    print(format_pooled(pooled))
    return 0


def _print_run(var, k, n_variants, n_conj, seconds, summ, where) -> None:
    """Print one run's headline table (variant k of n_variants)."""
    print(
        f"scenario {var.name} ({k + 1}/{n_variants}, start "
        f"{var.start.isoformat()}, seed {var.seed}): {n_conj} conjunctions, "
        f"{seconds:.0f} s"
    )
    print(f"{'participant':28s} {'man/sat-yr@90%':>16s} {'RR@thr':>7s} {'maint own/pool':>15s}")
    for m in summ["participants"]:
        if m["kind"] == "without":
            continue
        mo = m["maintained_objects"]
        print(
            f"{m['participant']:28s} {_value(m['manoeuvres_per_sat_year_at_90']):>16s} "
            f"{_value(m['risk_reduction']):>7s} "
            f"{mo['own']['total']:>7d}/{mo['pooled']['total']:<7d}"
        )
    print(f"wrote {where}/summary.json, {where}/events/*.csv, {where}/report.html")


def _value(metric) -> str:
    if not metric or metric.get("value") is None:
        return "-"
    return f"{metric['value']:.2f}"


def shipped_scenarios() -> list[str]:
    """Return the names of the scenarios that ship with the package."""
    import importlib.resources

    return sorted(
        p.name[:-5]
        for p in importlib.resources.files("ssa.scenarios").iterdir()
        if p.name.endswith(".toml")
    )


def scenario_path(spec: str) -> Path:
    """Return the scenario file ``spec`` names: a path, else a shipped scenario's name."""
    import importlib.resources

    from ssa.errors import DataNotFoundError

    path = Path(spec)
    if path.is_file():
        return path
    shipped = importlib.resources.files("ssa.scenarios") / f"{spec}.toml"
    if "/" not in spec and shipped.is_file():
        return Path(str(shipped))
    raise DataNotFoundError(
        f"scenario {spec!r}: no such file and not a shipped scenario "
        f"(shipped: {', '.join(shipped_scenarios())})"
    )


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


def _calibrate(args) -> int:
    import json

    from ssa.scenario import od

    model = od.load_model(args.model) if args.model else None
    if args.fit:
        report = od.fit_report(args.cdms)
        Path(args.fit).write_text(json.dumps(report, indent=1) + "\n")
        model = od.OdModel.from_json(report)
        cv = report["leave_one_cdm_out"]
        print(
            f"fit on {cv['cdms']} CDMs ({cv['objects']} objects) written to {args.fit}",
            file=sys.stderr,
        )
        print(
            "leave-one-CDM-out median factor model/CDM: "
            + ", ".join(f"{a} {cv['median_factor'][a]:.2f}" for a in "RTN")
            + "; 90th percentile: "
            + ", ".join(f"{a} {cv['p90_factor'][a]:.2f}" for a in "RTN"),
            file=sys.stderr,
        )
    rows = od.calibration_rows(args.cdms, model)
    if args.json:
        for r in rows:
            print(json.dumps(r))
        return 0
    print(
        f"{'file':58s} {'obj':>3s} {'tracks':>6s} {'lead_d':>6s} "
        f"{'CDM R/T/N (m)':>24s} {'model R/T/N (m)':>24s}"
    )
    for r in rows:
        c = "/".join(f"{x:.0f}" for x in r["sigma_rtn_m_cdm"])
        m = "/".join(f"{x:.0f}" for x in r["sigma_rtn_m_model"])
        print(
            f"{r['file'][:58]:58s} {r['object']:3d} {r['tracks_used']:6d} "
            f"{r['lead_d']:6.2f} {c:>24s} {m:>24s}"
        )
    return 0
