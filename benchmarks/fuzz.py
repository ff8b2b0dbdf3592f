"""Long fuzz run of every reader (the CI run is tests/test_fuzz_readers.py).

    # two processes at most, each a share of the readers, in the background:
    SSA_DATA=../shared/catalogs nice -n 10 .venv/bin/python benchmarks/fuzz.py \
        --examples 100000 --minutes-per-reader 14 \
        --readers scenario cdm-xml omm-xml tle satcat \
        --out /tmp/fuzz-a.json --log /tmp/fuzz-a.log &
    SSA_DATA=../shared/catalogs nice -n 10 .venv/bin/python benchmarks/fuzz.py \
        --examples 100000 --minutes-per-reader 14 \
        --readers omm-kvn cdm-kvn omm-json omm-csv sensors \
        --out /tmp/fuzz-b.json --log /tmp/fuzz-b.log &
    wait
    .venv/bin/python benchmarks/fuzz.py --merge /tmp/fuzz-a.json /tmp/fuzz-b.json \
        --out benchmarks/results/fuzz.json

Hypothesis mutates real records (tests/fuzzing.py) in seeded batches of 1,000
examples (batch k uses seed k, so any batch can be re-run). The campaign runs
Hypothesis's generate phase only (no database, no deadline, no shrinking) for
throughput; a failing example is recorded (its exception, the input and the choice
bytes that rebuild it with ``tests.fuzzing.mutate``) and the run goes on. After the
reader's campaign, each distinct failure is replayed from its batch seed with
shrinking on, and the shrunk input is recorded too. Each reader stops at
``--examples`` or after ``--minutes-per-reader`` of wall-clock time, whichever comes
first; the summary says which. ``--big`` also times a 10-million-line garbage
catalogue (memory bound of the streaming readers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fuzzing import CHOICE_BYTES, READERS, check, mutate  # noqa: E402

BATCH = 1000
# Failures the long runs found -> the regression test that now holds the fix.
FIXED = {
    "OverflowError: int too large to convert to float": "tests/test_fuzz_regressions.py::"
    "test_scenario_integer_too_large_for_a_float_is_refused",
    "ValueError: invalid literal for int() with base 10: '²'": "tests/test_fuzz_regressions.py::"
    "test_satcat_superscript_digit_in_catalog_number_is_reported",
    "PropertyFailure: intact SATCAT rows not loaded": "tests/test_fuzz_regressions.py::"
    "test_stray_quote_in_a_csv_row_does_not_swallow_the_next_rows",
    "PropertyFailure: intact records not loaded (silently dropped)": "tests/"
    "test_fuzz_regressions.py::test_stray_quote_in_a_csv_row_does_not_swallow_the_next_rows",
}


def _fixed_by(key: str) -> str | None:
    """The regression test of a failure (FIXED keys are message prefixes)."""
    return next((test for k, test in FIXED.items() if key.startswith(k)), None)


# The choice bytes Hypothesis draws; tests.fuzzing.mutate turns them into a file.
CHOICES = st.binary(min_size=CHOICE_BYTES, max_size=CHOICE_BYTES)


def _key(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}"


def _campaign_settings(n: int, shrink: bool = False) -> settings:
    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=phases,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )


def fuzz_reader(
    reader: str, examples: int, seconds: float, folder: Path, log=None, first_batch: int = 0
) -> dict:
    """Return {'examples', 'outcomes', 'failures', 'capped_by', ...} for one reader
    (batch seeds first_batch, first_batch + 1, ...)."""
    counts = {"examples": 0, "outcomes": {}, "failures": {}}
    t0 = time.monotonic()
    cpu0 = time.process_time()
    batch = first_batch
    current = {}  # the batch being run (its seed and size, for replaying a failure)
    while counts["examples"] < examples and time.monotonic() - t0 < seconds:
        n = min(BATCH, examples - counts["examples"])
        current.update(batch_seed=batch, batch_examples=n)

        @seed(batch)
        @_campaign_settings(n)
        @given(choices=CHOICES)
        def run(choices):
            data = mutate(reader, choices)
            counts["examples"] += 1
            try:
                outcome = check(reader, data, folder)
            except Exception as exc:  # a failure: recorded, the run goes on
                entry = counts["failures"].setdefault(
                    _key(exc),
                    {
                        "count": 0,
                        "first_input": repr(data[:300]),
                        "choices_hex": choices.hex(),
                        **current,
                        "where": traceback.format_exc().splitlines()[-3][:200],
                    },
                )
                entry["count"] += 1
                outcome = "FAILED"
            counts["outcomes"][outcome] = counts["outcomes"].get(outcome, 0) + 1

        run()
        batch += 1
        if log is not None:
            wall = time.monotonic() - t0
            print(
                f"{time.strftime('%H:%M:%S')} {reader} batch {batch}: "
                f"{counts['examples']} examples, {wall:.0f} s wall, "
                f"{1000 * wall / counts['examples']:.1f} ms/example, "
                f"load {os.getloadavg()[0]:.1f}, outcomes {counts['outcomes']}",
                file=log,
                flush=True,
            )
    counts["wall_s"] = round(time.monotonic() - t0, 1)
    counts["cpu_s"] = round(time.process_time() - cpu0, 1)
    counts["batches"] = [first_batch, batch]  # the seeds run: first_batch .. batch - 1
    counts["capped_by"] = "examples" if counts["examples"] >= examples else "wall-clock"
    for key, entry in counts["failures"].items():
        entry["shrunk_input"] = shrink_failure(reader, key, entry, folder)
    return counts


def shrink_failure(reader: str, key: str, entry: dict, folder: Path) -> str | None:
    """Replay the failure's batch from its seed with shrinking on; return the shrunk
    input (repr), or None if the replay did not fail the same way."""
    shrunk = []

    @seed(entry["batch_seed"])
    @_campaign_settings(entry["batch_examples"], shrink=True)
    @given(choices=CHOICES)
    def replay(choices):
        data = mutate(reader, choices)
        try:
            check(reader, data, folder)
        except Exception as exc:
            if _key(exc) == key:
                shrunk.append(data)
                raise

    try:
        replay()
    except Exception:  # noqa: BLE001 - the expected failure, now shrunk
        pass
    return repr(shrunk[-1][:300]) if shrunk else None


def big_garbage(lines: int, folder: Path) -> dict:
    """Time and measure a catalog load of a garbage file of ``lines`` lines."""
    path = folder / "garbage.3le"
    with open(path, "w") as fh:
        for k in range(lines):
            fh.write(f"garbage {k:08d} this is not an element set at all\n")
        fh.write(
            "0 VANGUARD 1\n1 00005U 58002B   24187.49270102  .00000872  00000-0  "
            "11018-2 0  9997\n2 00005  34.2494 350.7565 1842018 170.0536 194.2361 "
            "10.85456480365911\n"
        )
    size = path.stat().st_size
    code = (
        "import time, resource; t = time.perf_counter()\n"
        "from ssa.catalog import Catalog\n"
        f"c = Catalog.load({str(path)!r}); r = c.load_report\n"
        "print(r.read, r.loaded, r.skipped, time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    base = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, ssa.catalog; print("
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    path.unlink()
    return {
        "lines": lines + 3,
        "bytes": size,
        "read": int(out[0]),
        "loaded": int(out[1]),
        "skipped": int(out[2]),
        "load_s": round(float(out[3]), 1),
        "peak_rss_mb": round(int(out[4]) / 1024, 1),
        "baseline_import_rss_mb": round(int(base[0]) / 1024, 1),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", type=int, default=100_000, help="per reader (100000)")
    p.add_argument(
        "--minutes-per-reader", type=float, default=6.0, help="wall-clock cap per reader (6)"
    )
    p.add_argument("--readers", nargs="+", default=list(READERS), choices=READERS)
    p.add_argument(
        "--big",
        type=int,
        default=0,
        metavar="LINES",
        help="also load a garbage catalogue of this many lines (e.g. 10000000)",
    )
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/fuzz.json"))
    p.add_argument("--log", type=Path, help="progress log (a line per batch)")
    p.add_argument(
        "--first-batch",
        type=int,
        default=0,
        help="seed of the first batch (a continuation run uses seeds after the last run's)",
    )
    p.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="only merge these partial runs (e.g. two processes, one per core) "
        "into --out and write the markdown summary beside it",
    )
    args = p.parse_args(argv)
    if args.merge:
        merge(args.merge, args.out)
        return 0
    res = {
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_start": os.getloadavg(),
            "nice": os.nice(0),
        },
        "settings": {
            "examples_per_reader": args.examples,
            "minutes_per_reader": args.minutes_per_reader,
            "batch": BATCH,
        },
        "readers": {},
    }
    log = open(args.log, "a") if args.log else None  # noqa: SIM115 - open for the run
    res["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    with tempfile.TemporaryDirectory(prefix="ssa-fuzz-") as tmp:
        for reader in args.readers:
            r = fuzz_reader(
                reader,
                args.examples,
                60.0 * args.minutes_per_reader,
                Path(tmp) / reader,
                log,
                args.first_batch,
            )
            res["readers"][reader] = r
            print(
                f"{reader:9s} {r['examples']:7d} examples in {r['wall_s']:6.0f} s "
                f"({r['capped_by']}), {sum(f['count'] for f in r['failures'].values())} "
                f"failures: {list(r['failures'])[:3]}",
                file=sys.stderr,
                flush=True,
            )
            _save(args.out, res)
        if args.big:
            res["big_garbage"] = big_garbage(args.big, Path(tmp))
    res["machine"]["load_avg_end"] = os.getloadavg()
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    _save(args.out, res)
    return 0


def merge(parts: list[Path], out: Path) -> None:
    """Merge partial runs into out (JSON) and out with .md (a table)."""
    runs = [json.loads(p.read_text()) for p in parts]
    res = {
        "runs": [
            {
                k: r[k]
                for k in ("command", "started_utc", "machine", "settings", "peak_rss_mb")
                if k in r
            }
            for r in runs
        ],
        "readers": {},
    }
    for r in runs:
        for name, part in r["readers"].items():
            _add_run(res["readers"], name, part, r["settings"]["examples_per_reader"])
        if "big_garbage" in r:
            res["big_garbage"] = dict(r["big_garbage"], started_utc=r["started_utc"])
    if "big_garbage" not in res and out.exists():  # keep an earlier --big measurement
        old = json.loads(out.read_text())
        if "big_garbage" in old:
            res["big_garbage"] = old["big_garbage"]
            res["big_garbage"].setdefault("started_utc", "2026-12-01")
    _save(out, res)
    lines = [
        "# Long fuzz run of every reader (benchmarks/fuzz.py)",
        "",
        "Examples: mutated files checked against the property (tests/fuzzing.py); capped "
        "by wall-clock: the reader's --minutes-per-reader ran out before --examples. "
        "CPU s: the fuzzing process's CPU time for the reader (Hypothesis, mutation, "
        "file, reader, checks).",
        "",
        "| reader | examples | capped by | wall s | CPU s | loaded | refused | failures |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in res["readers"].items():
        o = r["outcomes"]
        lines.append(
            f"| {name} | {r['examples']:,} | {r['capped_by']} | {r['wall_s']:.0f} | "
            f"{r['cpu_s']:.0f} | "
            f"{o.get('loaded', 0):,} | {o.get('refused', 0):,} | "
            f"{sum(f['count'] for f in r['failures'].values())} |"
        )
    lines.append("")
    for run in res["runs"]:
        m = run["machine"]
        nice = f"nice -n {m['nice']} " if m.get("nice") else ""
        lines.append(
            f"- `{nice}{run.get('command', '?')}` started {run['started_utc']}, "
            f"{m['cpus']} CPUs, load average {m['load_avg_start'][0]:.1f} at the start "
            f"and {m.get('load_avg_end', [float('nan')])[0]:.1f} at the end"
        )
    for name, r in res["readers"].items():
        for key, f in r["failures"].items():
            shrunk = f.get("shrunk_input") or "-"
            if len(shrunk) > 160:
                shrunk = shrunk[:50] + " ... " + shrunk[-100:]
            lines.append(
                f"\n- {name}: {f['count']} x `{key}` (batch seed {f.get('batch_seed')}; "
                f"shrunk input `{shrunk}`): "
                + (f"fixed, test `{_fixed_by(key)}`" if _fixed_by(key) else "**not fixed**")
            )
    big = res.get("big_garbage")
    if big:
        lines.append(
            f"\nGarbage catalogue ({big.get('started_utc', '')}): {big['lines']:,} lines "
            f"({big['bytes'] / 1e6:.0f} MB) "
            f"loaded in {big['load_s']} s, {big['skipped']:,} skipped, "
            f"{big['loaded']} loaded; peak memory {big['peak_rss_mb']} MB vs "
            f"{big['baseline_import_rss_mb']} MB for importing ssa.catalog alone."
        )
    from ssa.outputs import write_text_atomic

    write_text_atomic(out.with_suffix(".md"), "\n".join(lines) + "\n")


def _add_run(readers: dict, name: str, part: dict, target: int) -> None:
    """Add one run of a reader to readers[name] (a continuation run adds its examples,
    with other batch seeds, to the earlier run's)."""
    seeds = part["batches"] if isinstance(part["batches"], list) else [0, part["batches"]]
    total = readers.setdefault(
        name,
        {"examples": 0, "outcomes": {}, "failures": {}, "wall_s": 0.0, "cpu_s": 0.0, "seeds": []},
    )
    total["examples"] += part["examples"]
    for k, v in part["outcomes"].items():
        total["outcomes"][k] = total["outcomes"].get(k, 0) + v
    for k, f in part["failures"].items():
        if k in total["failures"]:
            total["failures"][k]["count"] += f["count"]
        else:
            total["failures"][k] = f
    total["wall_s"] = round(total["wall_s"] + part["wall_s"], 1)
    total["cpu_s"] = round(total["cpu_s"] + part.get("cpu_s", 0.0), 1)
    total["seeds"].append(seeds)
    total["capped_by"] = "examples" if total["examples"] >= target else "wall-clock"


def _save(path: Path, res: dict) -> None:
    from ssa.outputs import write_text_atomic

    write_text_atomic(path, json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
