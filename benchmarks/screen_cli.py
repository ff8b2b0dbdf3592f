"""Time the main job end to end, as a user runs it: ``ssa screen`` of the full catalogue
with the SATCAT, from process start to files written, per step, next to a same-run
``SatrecArray`` baseline (and, optionally, the same command on another checkout).

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.screen_cli [--days 7]
        [--before /path/to/other/checkout] [--rounds 1]

Each run is a fresh process (``python -m ssa screen ...`` through ``ssa.cli.main``)
after a warm-up run that fills the numba cache, so "numba already compiled" holds; its
steps are timed by wrapping the library functions the command calls (load, screening
stages from run.json, risk: covariances, Pc, PC_2D_VALID, MAX_PROB/DILUTION; each
table writer and run.json) and the remainder is reported as "other" (imports, CLI,
output folder swap). With ``--before`` the same command runs on that checkout's ``ssa``
(PYTHONPATH), interleaved with ours (baseline, ours, before, ours, before, ...), and
the outputs' digests are compared. Writes benchmarks/results/screen_cli.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CATALOG = "catalog-2024-07-05.3le"
SATCAT = "satcat-2025-03.csv.gz"
OUT = Path(__file__).parent / "results" / "screen_cli.json"
HERE = Path(__file__).resolve()
# Long enough to reach every numba path of the command (MAX_PROB's numeric search too).
WARM_DAYS = 0.2


def main_job_argv(days: float, out: str, *extra: str) -> list[str]:
    """The README's main job as ``ssa`` arguments (full catalogue with the SATCAT)."""
    data = Path(os.environ["SSA_DATA"])
    return [
        "screen",
        str(data / CATALOG),
        "--satcat",
        str(data / SATCAT),
        "--days",
        str(days),
        "--out",
        out,
        *extra,
        "--quiet",
    ]


def _timed(owner, name, bucket, key):
    """Wrap owner.name so each call adds its wall time to bucket[key]."""
    setattr(owner, name, _timed_call(getattr(owner, name), bucket, key))


def _timed_call(inner, bucket, key):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return inner(*a, **k)
        finally:
            bucket[key] = bucket.get(key, 0.0) + time.perf_counter() - t

    return wrapper


def child(days: float, out: str, formats: str) -> dict:
    """Run the CLI once in this process and return its per-step wall times."""
    t_start = time.perf_counter()
    steps: dict = {}
    import importlib

    import ssa
    import ssa.catalog
    import ssa.commands.pc

    # (ssa.risk's function ``assess`` shadows the module of that name as an attribute)
    assess = importlib.import_module("ssa.risk.assess")
    pcm = importlib.import_module("ssa.risk.pc")
    import ssa.screening.formats as formats_mod
    from ssa.cli import main

    _timed(ssa.catalog.Catalog, "load", steps, "load_catalog_satcat")
    _timed(assess, "object_info", steps, "risk_object_info")
    _timed(assess.TleCovarianceModel, "rtn_sigma_m", steps, "risk_covariance")
    _timed(assess, "rtn_to_inertial", steps, "risk_covariance")
    _timed(assess.HardBodyRadius, "combined_with_source", steps, "risk_hbr")
    _timed(pcm, "pc_2d_valid", steps, "risk_pc_2d_valid")
    _timed(pcm, "max_pc_socrates", steps, "risk_max_prob_dilution")
    entry = pcm.get_pc_method("foster")
    if hasattr(entry, "compute"):
        bucket = steps

        class Timed:  # the registry entry with its compute timed
            def __getattr__(self, name):
                return getattr(entry, name)

            def compute(self, *a, **k):
                t = time.perf_counter()
                try:
                    return entry.compute(*a, **k)
                finally:
                    bucket["risk_pc"] = bucket.get("risk_pc", 0.0) + time.perf_counter() - t

        timed_entry = Timed()
        real_get = pcm.get_pc_method
        pcm.get_pc_method = lambda name: timed_entry if name == "foster" else real_get(name)
    _timed(ssa.commands.pc, "apply_screen_risk", steps, "risk_total")
    for name, writer in list(formats_mod.WRITERS.items()):
        if callable(writer):
            formats_mod.WRITERS[name] = _timed_call(writer, steps, f"write_{name}")
    import ssa.screening.result as result_mod

    _timed(result_mod, "write_result", steps, "write_total")
    t_cli = time.perf_counter()
    rc = main(main_job_argv(days, out, "--format", formats))
    t_end = time.perf_counter()
    run = json.loads((Path(out) / "run.json").read_text())
    return {
        "rc": rc,
        "ssa_file": ssa.__file__,
        "process_to_files_s": t_end - t_start,
        "imports_s": t_cli - t_start,
        "steps_s": steps,
        "screen_timings_s": run.get("timings_s", {}),
        "screen_wall_s": run.get("wall_s"),
        "conjunctions": run.get("counts", {}).get("conjunctions"),
    }


def _digests(out: Path) -> dict:
    return {
        p.name: hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(out.iterdir())
        if p.is_file() and p.name != "run.json"
    }


def _run(label, repo: Path | None, days, out: Path, formats) -> dict:
    env = dict(os.environ)
    cwd = None
    if repo is not None:  # that checkout's ssa first on the path
        env["PYTHONPATH"] = str(repo) + os.pathsep + env.get("PYTHONPATH", "")
        cwd = str(repo)
    cmd = [sys.executable, str(HERE), "--child", str(days), str(out), formats]
    t = time.perf_counter()
    cpu = _children_cpu_s()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t
    cpu = _children_cpu_s() - cpu  # the run's CPU, its own forked workers included
    if proc.returncode:
        raise SystemExit(f"{label} failed:\n{proc.stderr[-3000:]}")
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    rec.update(label=label, wall_s=wall, cpu_s=cpu, digests=_digests(out), load_avg=os.getloadavg())
    return rec


def _children_cpu_s() -> float:
    """User + system CPU seconds of this process's finished children (and theirs)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _baseline() -> dict:
    sys.path.insert(0, str(HERE.parent.parent))
    from benchmarks.screen_catalog import baseline

    return baseline()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--before", help="another checkout to time the same command on")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds (1)")
    ap.add_argument("--format", default="csv", help="--format of ssa screen (csv)")
    ap.add_argument("--work", default="/tmp/ssa-screen-cli", help="output folders")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(float(args.child[0]), args.child[1], args.child[2])))
        return 0
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    before = Path(args.before).resolve() if args.before else None
    repos = [("ours", None)] + ([("before", before)] if before else [])
    for label, repo in repos:  # numba caches filled: "numba already compiled"
        _run(f"warm-{label}", repo, WARM_DAYS, work / f"warm-{label}", args.format)
    result = {
        "catalog": CATALOG,
        "satcat": SATCAT,
        "days": args.days,
        "format": args.format,
        "command": f"ssa screen $SSA_DATA/{CATALOG} --satcat $SSA_DATA/{SATCAT} "
        f"--days {args.days:g} --format {args.format} --quiet",
        "baseline_satrecarray_1d_60s": _baseline(),
        "runs": [],
    }
    for _ in range(args.rounds):
        for label, repo in repos:
            rec = _run(label, repo, args.days, work / label, args.format)
            result["runs"].append(rec)
            print(
                f"{label}: {rec['wall_s']:.1f} s wall, {rec['cpu_s']:.1f} s CPU, "
                f"load {rec['load_avg'][0]:.1f}",
                flush=True,
            )
    base = result["baseline_satrecarray_1d_60s"]["wall_s"]
    for rec in result["runs"]:
        rec["ratio_to_baseline"] = round(rec["wall_s"] / base, 2)
    if before:
        ours = [r["digests"] for r in result["runs"] if r["label"] == "ours"]
        theirs = [r["digests"] for r in result["runs"] if r["label"] == "before"]
        result["outputs_identical_to_before"] = all(d == theirs[0] for d in ours + theirs)
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
        "note": "shared machine unless the load says otherwise",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"baseline: SatrecArray {base:.2f} s (1 d at 60 s)")
    keys = sorted({k for r in result["runs"] for k in r["steps_s"]})
    skeys = sorted({k for r in result["runs"] for k in r["screen_timings_s"]})
    print("step".ljust(28) + "".join(r["label"].rjust(10) for r in result["runs"]))
    for k in ["wall_s", "cpu_s", "process_to_files_s", "imports_s"]:
        print(k.ljust(28) + "".join(f"{r[k]:10.2f}" for r in result["runs"]))
    for k in skeys:
        print(
            ("screen." + k).ljust(28)
            + "".join(f"{r['screen_timings_s'].get(k, 0):10.2f}" for r in result["runs"])
        )
    for k in keys:
        print(k.ljust(28) + "".join(f"{r['steps_s'].get(k, 0):10.2f}" for r in result["runs"]))
    print(
        "x baseline".ljust(28) + "".join(f"{r['ratio_to_baseline']:10.2f}" for r in result["runs"])
    )
    if before:
        print(f"outputs identical to before: {result['outputs_identical_to_before']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
