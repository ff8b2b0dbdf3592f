"""Same-process A/B of refinement, table and START/STOP on sgp4_numba against one sgp4
call per satellite (``refine.USE_NUMBA_SGP4``), interleaved, on half the 2024-07-05
catalogue for 1 day:

    SSA_DATA=../shared/catalogs .venv/bin/python -m benchmarks.refine_sgp4_ab [ROUNDS]

Prints one JSON line per screening and writes benchmarks/results/refine_sgp4_ab.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "results" / "refine_sgp4_ab.json"


def main(argv=None) -> int:
    from ssa.catalog import Catalog
    from ssa.data import data_file
    from ssa.screening import refine, screen

    argv = sys.argv[1:] if argv is None else argv
    rounds = int(argv[0]) if argv else 2
    cat = Catalog.load(data_file("catalog-2024-07-05.3le"))
    cat = cat.subset(np.arange(0, len(cat), 2))
    runs = []
    for _ in range(rounds):
        for use in (True, False):
            refine.USE_NUMBA_SGP4 = use
            refine._ELEMENTS = (None, None, [])
            t = time.perf_counter()
            res = screen(cat, days=1.0)
            rec = {
                "numba_sgp4": use,
                "wall_s": round(time.perf_counter() - t, 2),
                "timings_s": res.run["timings_s"],
                "rows": len(res),
                "load_avg": os.getloadavg()[0],
            }
            runs.append(rec)
            print(json.dumps(rec), flush=True)
    OUT.write_text(json.dumps({"objects": len(cat), "days": 1.0, "runs": runs}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
