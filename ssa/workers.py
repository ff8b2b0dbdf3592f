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

Now workers (``ssa.screening.executor.LocalExecutor``'s forked children) run
``worker_init``: they ignore SIGINT (the parent alone decides), die at once on SIGTERM,
and die with their parent (``PR_SET_PDEATHSIG``). The executor watches each child's
sentinel, so a dead worker fails the run at once with a WorkerError naming the stage and
``describe_death``'s account of how it died, and every other child is ended.
"""

from __future__ import annotations

import ctypes
import os
import signal

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
