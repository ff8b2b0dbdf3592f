"""Forked worker processes that stop when asked and never hang their parent.

Why Ctrl-C used to be ignored or hang ``ssa screen`` (see README "Reliability"):

1. A process started in the background by a non-interactive shell (``ssa ... &`` in a
   script) inherits SIGINT *ignored*, and Python then never installs its
   KeyboardInterrupt handler: SIGINT did nothing. ``ssa.cli`` now installs its own
   SIGINT and SIGTERM handlers.
2. With SIGINT live, Ctrl-C goes to the whole process group: the forked
   ``multiprocessing.Pool`` workers died with KeyboardInterrupt mid-task, the pool
   silently replaced them, the lost tasks never finished, and the parent hung in
   ``Pool.close(); join()`` (or in ``terminate()``, on a queue lock a dead worker
   held). A killed worker (out of memory, ``kill -9``) hung the run the same way.

Now workers ignore SIGINT (the parent alone decides), die at once on SIGTERM, and die
with their parent (``PR_SET_PDEATHSIG``); tasks run on a fork-context
``ProcessPoolExecutor``, which detects a dead worker and fails every pending task
instead of waiting; ``gather`` turns that into a WorkerError naming the stage and the
worker, and ``stop`` ends every worker at once on any error or interrupt.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ssa.errors import WorkerError

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_init(parent_pid: int | None = None) -> None:
    """Signal set-up of a forked worker: ignore SIGINT, die on SIGTERM, die with the parent."""
    # Ctrl-C reaches the whole process group; only the parent acts on it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The fork copied the parent's Python handler (which raises): a worker stops at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown still applies
        pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before prctl took effect


def fork_pool(workers: int) -> ProcessPoolExecutor:
    """Return a fork-context process pool whose workers run worker_init first (they
    inherit this process's memory at their first task, as the screening relies on)."""
    return ProcessPoolExecutor(max(1, int(workers)), mp_context=mp.get_context("fork"),
                               initializer=worker_init, initargs=(os.getpid(),))


def _processes(pool) -> list:
    # ProcessPoolExecutor keeps its workers in ._processes (pid -> Process); there is
    # no public accessor, and naming the dead worker is worth the private read.
    return list((getattr(pool, "_processes", None) or {}).values())


def describe_death(procs) -> str:
    dead = [p for p in procs if p.exitcode not in (None, 0)]
    # Workers ended by the pool itself after the death exit with -SIGTERM: name the others.
    first = [p for p in dead if p.exitcode != -signal.SIGTERM] or dead
    if not first:
        return "a worker process ended unexpectedly"
    p = first[0]
    if p.exitcode < 0:
        how = f"killed by {signal.Signals(-p.exitcode).name}"
    else:
        how = f"exit status {p.exitcode}"
    return f"worker process {p.pid} died ({how})"


def gather(pool, futures, stage: str) -> list:
    """Return the futures' results in order. A worker that dies makes this raise
    WorkerError (stage, worker, how it died) at once; any error or interrupt while
    waiting stops the whole pool first."""
    procs = _processes(pool)
    try:
        return [f.result() for f in futures]
    except BrokenProcessPool as exc:
        procs = procs or _processes(pool)
        stop(pool)
        raise WorkerError(
            f"stage '{stage}': {describe_death(procs)}; the run was stopped and the "
            f"other workers ended (a worker killed by SIGKILL is often the system running "
            f"out of memory: try fewer --threads)") from exc
    except BaseException:
        stop(pool)
        raise


def stop(pool) -> None:
    """End every worker of the pool now (SIGKILL), cancel what is queued, and reap them."""
    for p in _processes(pool):
        if p.exitcode is None:
            try:
                p.kill()
            except (OSError, ValueError):
                pass
    pool.shutdown(wait=True, cancel_futures=True)
