"""Cost of SOCRATES' MAX_PROB and of START/STOP on a real screening table, against the
code they replace or join, measured in the same process (and the Pc speed check that
used to be a unit-test assertion).

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.socrates_cost [--days 1]

Writes benchmarks/results/socrates_cost.json. Numbers are wall seconds on this machine
at the time of the run (say whether it was shared when quoting them).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


def _best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--out", default="benchmarks/results/socrates_cost.json")
    args = ap.parse_args(argv)

    from ssa.catalog import Catalog
    from ssa.risk import pc as pcm
    from ssa.risk.assess import object_info
    from ssa.risk.hbr import HardBodyRadius
    from ssa.screening import screen
    from ssa.screening.crossings import add_start_stop

    data = Path(os.environ.get("SSA_DATA", "../shared/catalogs"))
    cat = Catalog.load(data / "catalog-2024-07-05.3le", satcat=data / "satcat-2025-03.csv.gz")
    t0 = time.perf_counter()
    result = screen(cat, days=args.days)
    screen_s = time.perf_counter() - t0
    rows = result.rows
    n = len(result)
    o1, o2 = object_info(rows, cat, 1), object_info(rows, cat, 2)
    hbr = HardBodyRadius().combined_m(
        o1["id"], o2["id"], o1["type"], o2["type"], o1["rcs"], o2["rcs"]
    )
    r1, v1, r2, v2 = o1["r"], o1["v"], o2["r"], o2["v"]
    pcm.max_pc_socrates(r1[:10], v1[:10], r2[:10], v2[:10], hbr[:10])  # compile/load cache
    c1, c2 = pcm.socrates_covariances(r1, v1, r2, v2)
    pcm.max_pc_scaled(r1[:10], v1[:10], c1[:10], r2[:10], v2[:10], c2[:10], hbr[:10])
    new_s = _best(lambda: pcm.max_pc_socrates(r1, v1, r2, v2, hbr))

    def old():  # the previous MAX_PROB: SOCRATES shape sized, its orientation kept
        s1, s2 = pcm.socrates_covariances(r1, v1, r2, v2)
        return pcm.max_pc_scaled(r1, v1, s1, r2, v2, s2, hbr)

    old_s = _best(old)
    res = pcm.max_pc_socrates(r1, v1, r2, v2, hbr)
    d = np.linalg.norm(r2 - r1, axis=1)
    numeric = int(
        np.sum(hbr * 1e-3 * res.extra["aspect_ratio"] / d > pcm.MAXPC_CLOSED_FORM_MAX_EPS)
    )
    # START/STOP again on the same table (its first run is inside screen's timings).
    start_stop_in_screen = result.run["timings_s"].get("start_stop")
    copy = {k: v for k, v in rows.items() if k not in ("START", "STOP")}
    copy["FLAGS"] = np.array(
        [
            f.replace(";START_CLIPPED", "")
            .replace("START_CLIPPED", "")
            .replace(";STOP_CLIPPED", "")
            .replace("STOP_CLIPPED", "")
            for f in rows["FLAGS"]
        ],
        dtype=object,
    )
    from ssa.screening.api import resolve_start

    jd0, fr0 = resolve_start(None, cat)
    ss_s = _best(
        lambda: add_start_stop(dict(copy), cat, jd0, fr0, 5.0, args.days * 86400.0), repeat=2
    )
    # Foster Pc, 10,000 random conjunctions (was a 2 s assertion in tests/test_pc.py).
    rng = np.random.default_rng(11)
    k = 10_000
    a = rng.normal(size=(k, 3, 3)) * 0.3
    cov = a @ np.swapaxes(a, 1, 2)
    idx = rng.integers(0, n, k)
    pcm.pc_foster(r1[:5], v1[:5], cov[:5], r2[:5], v2[:5], cov[:5], 10.0)
    foster_s = _best(lambda: pcm.pc_foster(r1[idx], v1[idx], cov, r2[idx], v2[idx], cov, 10.0))
    out = {
        "days": args.days,
        "rows": n,
        "screen_wall_s": round(screen_s, 2),
        "screen_timings_s": result.run["timings_s"],
        "max_prob_new_s": round(new_s, 3),
        "max_prob_old_orientation_kept_s": round(old_s, 3),
        "max_prob_numeric_rows": numeric,
        "start_stop_in_screen_s": start_stop_in_screen,
        "start_stop_rerun_s": round(ss_s, 3),
        "foster_10k_s": round(foster_s, 3),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
