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
    with ThreadPoolExecutor(threads) as pool:
        futures = [
            pool.submit(kernel, int(a), int(b), *args)
            for a, b in zip(edges[:-1], edges[1:], strict=True)
            if b > a
        ]
        for f in futures:
            f.result()
