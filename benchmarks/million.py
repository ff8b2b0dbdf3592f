"""The million-object catalogue on one machine: time, peak memory, counts.

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.million --objects 500000 --hours 1
    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.million --objects 1000000 \
        --primaries PAYLOAD --hours 24

The catalogue is the real 2024-07-05 snapshot (with the SATCAT, for object types)
plus synthetic 1-10 cm objects from the one population generator
(``ssa.population.generate_population``: resampled real debris orbits, ESA size law,
numbers from ``CatalogNumberAllocator``'s wide block, so it stays in memory: 3LE's
Alpha-5 numbers stop at 339,999). Then ``screen`` runs all-vs-all (or primaries vs
all) and the table is streamed to CSV while it is built (``screen(table_csv=...)``,
chunks of ``STREAM_CHUNK_ROWS`` rows in the final order; ``--in-memory``: the whole
table first, then written). Peak memory is the largest resident set of this process
or of one of its children. Writes benchmarks/results/million-N-MODE-Hh.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SEED = 20240705


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished children: the
    core-seconds a run needs, which a shared machine's load changes far less than
    its wall time."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(me, kids) / 1024.0


def _log_progress() -> None:
    """Progress bars on stderr even when it is a log file (a line every 30 s), so a
    run of hours in the background says where it is."""
    from tqdm import tqdm

    import ssa.screening.api as api

    def bar(iterable=None, *, total=None, desc="", unit="it", quiet=False):
        return tqdm(iterable, total=total, desc=desc, unit=unit, mininterval=30, ascii=True)

    api.progress = bar


def main(argv=None) -> int:
    from ssa.catalog import Catalog
    from ssa.data import data_file
    from ssa.population.generate import generate_population
    from ssa.screening import screen

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", type=int, default=500_000, help="total objects")
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--primaries", default=None, help="e.g. PAYLOAD (default all-vs-all)")
    p.add_argument("--threshold-km", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-write", action="store_true", help="skip writing the table")
    p.add_argument("--in-memory", action="store_true", help="build the whole table, then write it")
    args = p.parse_args(argv)
    _log_progress()
    mode = "payloads" if args.primaries else "all"
    out = RESULTS / f"million-{args.objects}-{mode}-{args.hours:g}h.json"
    rec = {
        "objects_requested": args.objects,
        "hours": args.hours,
        "primaries": args.primaries,
        "threshold_km": args.threshold_km,
        "load_avg_start": os.getloadavg(),
        "cores": os.cpu_count(),
    }

    def save():
        out.parent.mkdir(parents=True, exist_ok=True)
        rec["load_avg_now"] = os.getloadavg()
        rec["peak_memory_mb"] = round(_peak_mb(), 1)
        rec["cpu_s_total"] = round(_cpu_s(), 1)
        out.write_text(json.dumps(rec, indent=1, default=str))

    t = time.perf_counter()
    base = Catalog.load(
        data_file("catalog-2024-07-05.3le"), satcat=data_file("satcat-2025-03.csv.gz")
    )
    n_new = max(0, args.objects - len(base))
    pop = generate_population(base, n_new, seed=SEED, block="wide")
    cat = pop.catalog
    rec["objects"] = len(cat)
    rec["generate_s"] = round(time.perf_counter() - t, 1)
    rec["stage"] = "generated"
    save()
    print(f"{len(cat)} objects in {rec['generate_s']} s", file=sys.stderr, flush=True)
    stream = not (args.no_write or args.in_memory)
    rec["table"] = "none" if args.no_write else "in memory" if args.in_memory else "streamed"
    with tempfile.TemporaryDirectory(prefix="ssa-million-") as tmp:
        t, cpu = time.perf_counter(), _cpu_s()
        res = screen(
            cat,
            days=args.hours / 24.0,
            threshold_km=args.threshold_km,
            primaries=args.primaries,
            threads=args.threads,
            quiet=False,
            table_csv=Path(tmp) / "conjunctions.csv" if stream else None,
        )
        rec["screen_s"] = round(time.perf_counter() - t, 1)
        rec["screen_cpu_s"] = round(_cpu_s() - cpu, 1)
        keep = ("counts", "timings_s", "wall_s", "settings", "slices", "table")
        rec["run"] = {k: res.run[k] for k in keep if k in res.run}
        rec["stage"] = "screened"
        save()
        if not args.no_write:
            t = time.perf_counter()
            paths = res.write(tmp)
            rec["write_s"] = round(time.perf_counter() - t, 1)  # streamed: run.json only
            rec["written_bytes"] = sum(Path(v).stat().st_size for v in paths.values())
    rec["stage"] = "done"
    save()
    print(json.dumps({k: rec[k] for k in rec if k != "run"}, default=str))
    print(json.dumps(rec["run"]["counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
