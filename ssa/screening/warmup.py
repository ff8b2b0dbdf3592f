"""First-run compilation of the main job's numba kernels, in parallel processes.

Numba compiles a kernel the first time it runs and keeps the machine code in its on-disk
cache (``cache=True``): next to the module in ``__pycache__`` when that folder is
writable, else in the user's cache folder (``~/.cache/numba``, or ``$NUMBA_CACHE_DIR``
when set). The code is specific to the CPU, so no cache can ship in a wheel; what a fresh
install pays once is the compilation itself (~15 CPU s; benchmarks/results/
compile_profile.json). Compiling one kernel holds numba's global lock, so threads cannot
share the work, but processes can: ``warm_up`` compiles independent groups of kernels in
forked processes, each on tiny inputs of the exact argument types a run passes, and each
writes its kernels to the shared cache; the run then only loads them. ``ssa warmup`` runs
it after an install, and ``ssa screen`` runs it by itself when the cache is cold.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time

import numpy as np

# Groups of independent kernels, and which process compiles them (balanced by measured
# compile time, benchmarks/results/compile_profile.json).
PROCESS_GROUPS = (("kernel", "csv"), ("sgp4", "refine", "risk"))


def _kernel():
    from ssa.screening import kernels

    n = 4  # one knot class of 4 objects, one span: the types of propagate.build_chunk
    i64 = np.zeros(1, np.int64)
    # The multi-step block kernel (all-vs-all and primaries; the single-step one is
    # the tests' and benchmarks' reference).
    kernels.screen_chunk(
        np.zeros(n * kernels._NC),
        i64,
        np.full(1, n, np.int64),
        i64.copy(),
        np.ones(1, np.int64),
        np.full(1, 640.0),
        np.full(n, 1e9),
        np.ones(n),
        np.ones(n),
        np.zeros(n, np.bool_),
        20.0,
        5.0,
        200.0,
        2,
        2,
        16,
        2,
        30.0,
    )


def _sgp4():
    from ssa.screening import propagate, sgp4_numba

    propagate.warm_up()
    el = np.zeros((1, sgp4_numba.N_COLUMNS))
    el[0, sgp4_numba.NO] = 0.06
    checks = np.zeros(propagate._CHECK_TAU.size)  # one span: 3 knots, these checks
    propagate.verify_errors(
        0,
        1,
        el,
        np.zeros(1, np.int64),
        np.zeros(3),
        np.zeros(3),
        checks,
        checks,
        640.0,
        1,
        propagate._MINV,
        propagate._CHECK_TAU,
        np.zeros(1),
    )


def _refine():
    from ssa.screening import crossings, refine

    refine.warm_up()
    crossings.warm_up()


def _risk():
    from ssa.risk import pc

    # The numerical search of MAX_PROB, whose first step is a Foster Pc (pc.pc_2d).
    pc.max_pc_oriented(np.array([1.0]), np.array([3.0]), np.array([10.0]), closed_form=False)


def _csv():
    from ssa.screening import csvtext

    cols = [np.array([1.5]), np.array([1e-5]), np.array([3]), np.array(["x"], object)]
    csvtext.render_rows(cols, [("fixed", 3), ("sci", None), ("int", None), ("text", str)])


GROUPS = {"kernel": _kernel, "sgp4": _sgp4, "refine": _refine, "risk": _risk, "csv": _csv}


def _entry_points():
    """The dispatchers each group compiles, to tell a cold cache from a warm one."""
    from ssa.risk import pc
    from ssa.screening import csvtext, kernels, propagate, refine

    return {
        "kernel": [kernels._screen_block_m],
        "sgp4": [propagate.knots_and_fits, propagate.verify_errors, kernels.fill_coefficients],
        "refine": [refine._sgp4_rows, refine._number_rows, refine._encounter_runs],
        "risk": [pc._pc2d_kernel, pc._max_oriented_kernel],
        "csv": [csvtext._row_sizes, csvtext._write_rows],
    }


def _cached(dispatcher) -> bool:
    """True when numba's cache holds fresh code of this function (any signature) or
    cannot be used at all (JIT off, no writable cache folder): nothing to warm."""
    cache = getattr(dispatcher, "_cache", None)
    index = getattr(cache, "_cache_file", None)
    if index is None:
        return True
    try:
        return bool(index._load_index())
    except Exception:  # an unreadable index: numba will recompile and rewrite it
        return False


def _jit_off() -> bool:
    return os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")


def cold_groups() -> list[str]:
    """Names of the groups whose kernels are not in numba's cache yet."""
    if _jit_off():
        return []
    return [g for g, fns in _entry_points().items() if not all(_cached(f) for f in fns)]


def _run_groups(names) -> None:
    for name in names:
        GROUPS[name]()


def _child(names) -> None:
    try:
        _run_groups(names)
    except BaseException as e:  # the parent compiles whatever is left, as a run would
        print(f"ssa warmup: {', '.join(names)}: {type(e).__name__}: {e}", file=sys.stderr)
        os._exit(1)
    os._exit(0)


def warm_up(groups=None, processes: int | None = None) -> dict:
    """Compile (or load from numba's cache) the kernels of groups (default: all) in up
    to ``processes`` forked processes (default: 2 if the machine has 2 cores), then
    check in this process. Returns {"groups", "processes", "wall_s"}."""
    names = list(GROUPS) if groups is None else list(groups)
    if _jit_off():  # nothing to compile
        return {"groups": [], "processes": 0, "wall_s": 0.0}
    if processes is None:
        processes = min(2, os.cpu_count() or 1)
    t0 = time.perf_counter()
    lists = [[g for g in pg if g in names] for pg in PROCESS_GROUPS]
    lists = [x for x in lists if x]
    lists += [[g] for g in names if not any(g in pg for pg in PROCESS_GROUPS)]
    if processes > 1 and len(lists) > 1 and "fork" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=_child, args=(x,), daemon=True) for x in lists]
        try:
            for p in procs:
                p.start()
            for p in procs:
                p.join()
        finally:
            for p in procs:
                if p.is_alive():
                    p.terminate()
                    p.join()
    # Here: loads what the children cached (and compiles anything a child failed on).
    _run_groups(names)
    return {"groups": names, "processes": processes, "wall_s": time.perf_counter() - t0}


def ensure_compiled(quiet: bool = False, processes: int | None = None) -> dict | None:
    """Warm up the cold groups, if any, before a run needs them (``ssa screen``), in up
    to ``processes`` processes (None: warm_up's default)."""
    cold = cold_groups()
    if not cold:
        return None
    if not quiet:
        print(
            f"first run: compiling numba kernels ({', '.join(cold)}) once for this "
            "install (~10-20 s; `ssa warmup` does it ahead)",
            file=sys.stderr,
        )
    return warm_up(cold, None if processes is None else min(2, max(1, int(processes))))
