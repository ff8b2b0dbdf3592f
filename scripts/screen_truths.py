"""Screen the truth of every sweep variant of the given scenarios into a screening cache.

The truth screening (protected satellites against the whole catalog) is the one costly
step that depends only on the catalog, window, threshold and protected satellites;
``ssa scenario run --screening-cache DIR`` reuses what this script leaves in DIR.
Usage: SSA_DATA=... python scripts/screen_truths.py results/.screening-cache scenarios/X.toml ...
"""

import sys
import time

from ssa.scenario.assess import stage_truth
from ssa.scenario.config import expand_sweep, load_scenario
from ssa.scenario.truth import caching_screen


def main(argv: list[str]) -> int:
    screen = caching_screen(argv[0])
    for path in argv[1:]:
        for var in expand_sweep(load_scenario(path)):
            t = time.perf_counter()
            truth = stage_truth(var, screen=screen)
            print(
                f"{path} {var.catalog_file} start {var.start.isoformat()} {var.days:g} d: "
                f"{truth.n} conjunctions, {time.perf_counter() - t:.0f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
