"""Row ranges of a GIL-free numba kernel on Python threads, instead of ``prange``.

Numba's parallel lowering (``parallel=True``) costs a first run seconds of compile per
kernel (benchmarks/results/compile_profile.json) and needs a lock around it when several
Python threads use the default threading layer; a plain ``nogil`` kernel over [lo, hi)
run on ``numba.get_num_threads()`` Python threads does the same work with neither, and
forked workers stay free of numba's pool. Kernels here compute each row alone, so the
results do not depend on the thread count.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

# Blocks per thread: rows differ in cost (deep space, decay, adaptive quadrature), so a
# few blocks each balance the threads.
BLOCKS_PER_THREAD = 4


def on_threads(kernel, n: int, *args, min_rows: int = 1) -> None:
    """Run kernel(lo, hi, *args) over [0, n) in blocks on numba.get_num_threads() Python
    threads (the kernel releases the GIL); one thread below min_rows rows per thread
    (waking threads costs ~1-100 ms on a busy machine)."""
    threads = min(numba.get_num_threads(), max(1, n // max(1, min_rows)))
    if threads <= 1:
        kernel(0, n, *args)
        return
    edges = np.linspace(0, n, threads * BLOCKS_PER_THREAD + 1).astype(np.int64)
    _run_blocks(
        kernel,
        threads,
        [(int(a), int(b), args) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a],
    )


def on_threads_jobs(kernel, jobs) -> None:
    """Run kernel(lo, hi, *args) over [0, n) of every (n, args, row_cost) job on one pool
    of numba.get_num_threads() Python threads, in blocks of about equal cost (rows times
    row_cost), costliest first: many small jobs (the plan's groups) share the threads
    instead of each starting its own few (each row is computed alone, so the blocks do
    not change a value)."""
    threads = numba.get_num_threads()
    total = sum(n * cost for n, _, cost in jobs)
    if total <= 0:
        return
    target = total / (threads * BLOCKS_PER_THREAD)
    blocks = []
    for n, args, cost in jobs:
        if n <= 0:
            continue
        parts = max(1, min(n, int(round(n * cost / target))))
        edges = np.linspace(0, n, parts + 1).astype(np.int64)
        blocks += [
            ((b - a) * cost, int(a), int(b), args)
            for a, b in zip(edges[:-1], edges[1:], strict=True)
            if b > a
        ]
    blocks.sort(key=lambda blk: -blk[0])
    _run_blocks(kernel, threads, [(a, b, args) for _, a, b, args in blocks])


def _run_blocks(kernel, threads: int, blocks) -> None:
    """kernel(lo, hi, *args) for every (lo, hi, args) block, in order on this thread or
    submitted in order to a pool of threads; the first error is raised."""
    if threads <= 1 or len(blocks) <= 1:
        for a, b, args in blocks:
            kernel(a, b, *args)
        return
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(kernel, a, b, *args) for a, b, args in blocks]
        for f in futures:
            f.result()
