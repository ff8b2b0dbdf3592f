"""Where screening work runs: this process, forked local processes, or a Dask cluster.

Screening is plan -> slices (SGP4 knots + kernel per time slice) -> flagged
(pair, interval) triples -> refinement windows -> table (``ssa.screening.api``).
Every stage calls pure functions ``fn(ctx, *job)`` through one interface,
``map(fn, jobs, stage)``, where ``ctx`` is the catalogue's ``SatrecContext``:

- ``LocalExecutor(ctx, workers)``: ``workers`` forked processes (SGP4 holds the
  GIL, so processes, not threads), or this process when ``workers == 1``. Time
  slices run one after another here; each slice's SGP4 pieces are the tasks.
- ``DaskExecutor``: a Dask cluster (``tcp://HOST:PORT`` or a ``LocalCluster``).
  The catalogue is scattered once to every worker (broadcast); a whole time slice
  is one task, refinement windows are split by pair into tasks.

Faults live here, in one place: a local worker that dies raises
``ssa.errors.WorkerError`` naming the stage and the worker (pid and exit code)
as soon as the pool notices (no hang); any error or interrupt (KeyboardInterrupt,
SystemExit) terminates every child before it propagates. On Dask a worker that
dies costs a retry of its tasks (Dask's own rescheduling); an unreachable
scheduler raises ``UserError`` naming the address within CONNECT_TIMEOUT_S.
"""

from __future__ import annotations

import ctypes
import logging
import math
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import pickle
import threading
import time
import traceback
import uuid
import weakref

import numpy as np
import sgp4
from sgp4.api import Satrec, SatrecArray

from ssa.errors import UserError, WorkerError
from ssa.workers import describe_death, worker_init

# Seconds to wait for a Dask scheduler before giving up with a message.
CONNECT_TIMEOUT_S = 5.0
# Dask: how many times a task is retried after its worker died (beyond Dask's own
# rescheduling of tasks that were merely queued on it).
TASK_RETRIES = 2
ENV_SCHEDULER = "SSA_SCHEDULER"
# Seconds to wait for the exit status of a local worker seen dying (to name the signal).
DEATH_STATUS_TIMEOUT_S = 10.0
# Stages whose Dask task already uses all of its worker's cores (a time slice: SGP4
# over the worker's pool, numba threads; the plan's numba SGP4): one task per job.
WHOLE_WORKER_STAGES = ("slices", "SGP4 interpolation plan (numba)")  # propagate.PLAN_STAGE

# A Satrec is a C++ struct (only numbers and chars) behind a Python object header;
# sgp4 offers no pickling, and rebuilding it with sgp4init reproduces SGP4's output
# bit for bit only when the exact epoch argument of the original init is known
# (TLE and OMM inits differ). So the struct bytes are shipped as they are: the same
# copy SatrecArray itself makes of each Satrec.
_HEADER = object.__basicsize__
_BODY = Satrec.__basicsize__ - _HEADER


def satrec_bytes(satrecs) -> np.ndarray:
    """Return the raw SGP4 state of satrecs as a (n, body) uint8 array."""
    out = np.empty((len(satrecs), _BODY), np.uint8)
    for q, s in enumerate(satrecs):
        ctypes.memmove(out[q].ctypes.data, id(s) + _HEADER, _BODY)
    return out


def satrecs_from_bytes(raw: np.ndarray) -> list:
    """Return Satrec objects whose SGP4 state is raw's rows (inverse of satrec_bytes)."""
    raw = np.ascontiguousarray(raw, np.uint8)
    if raw.ndim != 2 or raw.shape[1] != _BODY:
        raise ValueError(
            f"satrec state rows of {raw.shape[-1]} bytes; this sgp4 "
            f"{sgp4.__version__} needs {_BODY}"
        )
    out = []
    for q in range(raw.shape[0]):
        s = Satrec()
        ctypes.memmove(id(s) + _HEADER, raw[q].ctypes.data, _BODY)
        out.append(s)
    return out


class SatrecContext:
    """The catalogue's satellites as the stages see them: ``satrecs`` and cached
    ``SatrecArray`` groups. Pickles as one byte array (about 1 kB per object), so
    Dask ships it once per worker; each process keeps its own caches."""

    def __init__(self, satrecs):
        self.satrecs = list(satrecs)
        self._arrays: dict = {}
        self._lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._pool = None

    def __len__(self) -> int:
        return len(self.satrecs)

    def __getstate__(self):
        return {"sgp4": sgp4.__version__, "raw": satrec_bytes(self.satrecs)}

    def __setstate__(self, state):
        if state["sgp4"] != sgp4.__version__:
            raise WorkerError(
                f"worker has sgp4 {sgp4.__version__}, the client "
                f"{state['sgp4']}: install the same version everywhere"
            )
        self.__init__(satrecs_from_bytes(state["raw"]))

    def satrec_array(self, idx: np.ndarray) -> SatrecArray:
        """Return a SatrecArray of satrecs[idx], built once per group and process."""
        key = (idx.size, hash(idx.tobytes()))
        arr = self._arrays.get(key)
        if arr is None:
            if len(self._arrays) > 64:
                self._arrays.clear()
            arr = self._arrays[key] = SatrecArray([self.satrecs[i] for i in idx])
        return arr

    def pool(self, workers: int, warm_up=None) -> LocalExecutor:
        """Return this process's LocalExecutor of ``workers`` forked children over these
        satellites, started once and kept while this context lives (a Dask worker's
        tasks use it for their SGP4 work: one worker process per machine or group of
        cores, its GIL-bound work still on all of them). In a daemonic process (a
        Dask worker started with daemon=True) it runs in-process."""
        with self._pool_lock:
            if self._pool is None or self._pool.workers != workers:
                if self._pool is not None:
                    self._pool.close()
                self._pool = LocalExecutor(self, workers, warm_up=warm_up)
                weakref.finalize(self, self._pool.close, True)
            return self._pool

    @property
    def kernel_lock(self) -> threading.Lock:
        """Held around numba-parallel kernels: numba's default threading layer allows
        one parallel region per process at a time (a Dask worker may run several
        tasks in threads)."""
        return self._lock


# --- local processes ------------------------------------------------------------
class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a pool child (shown as its cause)."""


def _child_main(conn, ctx, parent_pid):
    """A pool child: run (fn, args) messages as fn(ctx, *args) until None arrives."""
    # Ignore SIGINT (the parent decides), die on SIGTERM and with the parent.
    worker_init(parent_pid)
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        fn, args = msg
        try:
            out = (True, fn(ctx, *args))
        except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises it
            out = (False, (exc, traceback.format_exc()))
        try:
            conn.send(out)
        except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
            conn.send(
                (False, (RuntimeError(f"{type(exc).__name__}: {exc}"), traceback.format_exc()))
            )


class LocalExecutor:
    """Run ``fn(ctx, *job)`` for each job over ``workers`` forked processes, or in this
    process when workers == 1 (or fork is unavailable).

    Children are forked on first use, inherit ctx (only jobs and results are
    pickled) and live until close(). ``forked`` tells the stages they may hand
    children shared-memory buffers (propagate.build_chunk). A child that dies
    raises WorkerError(stage, pid, exit code) at once; any error or interrupt
    terminates every child before it propagates."""

    name = "local"
    slices_as_tasks = False

    def __init__(self, ctx: SatrecContext, workers: int = 1, warm_up=None):
        self.ctx = ctx
        self.workers = max(1, int(workers))
        self._warm_up = warm_up
        self._children: list = []  # (process, connection)
        # forked = may fork; a run whose stages all run on threads starts none.
        self.processes_started = 0
        can_fork = "fork" in mp.get_all_start_methods() and not mp.current_process().daemon
        self.forked = self.workers > 1 and len(ctx) > 1 and can_fork

    def share(self, obj):
        """Return a handle of obj for jobs (here: obj itself; children inherit it)."""
        return obj

    def _start(self) -> None:
        if self._children or not self.forked:
            return
        if self._warm_up is not None:
            self._warm_up()  # compile or load numba code once, before the children fork
        fork = mp.get_context("fork")
        try:
            for _ in range(self.workers):
                mine, theirs = fork.Pipe()
                proc = fork.Process(
                    target=_child_main,
                    args=(theirs, self.ctx, os.getpid()),
                    daemon=True,
                    name="ssa-worker",
                )
                proc.start()
                self.processes_started += 1
                theirs.close()
                self._children.append((proc, mine))
        except BaseException:
            self.close(abort=True)
            raise

    def map(self, fn, jobs: list, stage: str) -> list:
        """Return [fn(ctx, *job) for job in jobs], over the children when forked."""
        if not self.forked or len(jobs) <= 1:
            return [fn(self.ctx, *job) for job in jobs]
        self._start()
        results = [None] * len(jobs)
        todo = list(range(len(jobs)))[::-1]
        idle = list(range(len(self._children)))[::-1]
        busy = {}  # connection -> (child, job)
        sentinels = {proc.sentinel: c for c, (proc, _) in enumerate(self._children)}
        try:
            # The parent takes no share of the work: it only waits on the pipes and on
            # every child's sentinel, so a death during a stage is seen at once. A child
            # that died idle, between stages (while the parent ran its own kernel work),
            # held no job: it is reported here, before any job is sent to it.
            for c, (proc, _) in enumerate(self._children):
                if proc.exitcode is not None:
                    self._died(c, stage)
            while todo or busy:
                while idle and todo:
                    c, q = idle.pop(), todo.pop()
                    conn = self._children[c][1]
                    try:
                        conn.send((fn, jobs[q]))
                    except OSError:  # EPIPE: it died since the check above
                        self._died(c, stage)
                    busy[conn] = (c, q)
                for ready in mp_connection.wait([*busy, *sentinels]):
                    if ready in sentinels:
                        self._died(sentinels[ready], stage)
                    if ready not in busy:
                        continue
                    c, q = busy.pop(ready)
                    try:
                        ok, value = ready.recv()
                    except (EOFError, OSError):
                        self._died(c, stage)
                    if not ok:
                        exc, text = value
                        raise exc from _RemoteTraceback(
                            f"in worker process {self._children[c][0].pid}:\n{text}"
                        )
                    results[q] = value
                    idle.append(c)
        except BaseException:
            self.close(abort=True)
            raise
        return results

    def _died(self, c: int, stage: str):
        proc = self._children[c][0]
        # Its sentinel fired or its pipe closed: it is exiting; wait for its exit status
        # (a bound only against a loaded machine, not a delay in practice).
        proc.join(timeout=DEATH_STATUS_TIMEOUT_S)
        raise WorkerError(
            f"stage '{stage}': {describe_death([proc])}; the run was stopped and "
            "the other workers ended (a worker killed by SIGKILL is often the "
            "system running out of memory: try fewer --threads)"
        )

    def children(self) -> list[int]:
        """Return the pids of the live children (for tests and diagnostics)."""
        return [proc.pid for proc, _ in self._children if proc.exitcode is None]

    def close(self, abort: bool = False) -> None:
        """Stop the children: let them finish (None message), or (abort) terminate them."""
        children, self._children = self._children, []
        for proc, conn in children:
            if not abort:
                try:
                    conn.send(None)
                except OSError:
                    pass
            elif proc.exitcode is None:
                proc.terminate()
        for proc, conn in children:
            proc.join(timeout=5.0)
            if proc.exitcode is None:
                proc.kill()
                proc.join(timeout=1.0)
            conn.close()
            proc.close()

    def describe(self) -> dict:
        return {
            "name": "local",
            "workers": self.workers,
            "forked": self.forked,
            "processes_started": self.processes_started,
        }

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(abort=exc_type is not None)


def pieces(workers: int, sizes, n_times, per_worker: int = 4, min_calls: int = 20_000) -> list:
    """Cut groups (sizes[g] objects, n_times[g] times each) into (g, lo, hi) pieces of
    similar SGP4 work, biggest first: about total / (workers * per_worker) calls each,
    so no worker idles while another finishes a big group, and at least min_calls
    (below that the per-task overhead, ~0.1 ms, dominates)."""
    cost = [int(s) * int(t) for s, t in zip(sizes, n_times, strict=True)]
    target = max(sum(cost) / (max(1, workers) * per_worker), min_calls)
    out = []
    for g, (size, c) in enumerate(zip(sizes, cost, strict=True)):
        parts = min(int(size), max(1, math.ceil(c / target)))
        bounds = np.linspace(0, size, parts + 1).round().astype(np.int64)
        out += [
            (c * (b - a) / size, g, int(a), int(b))
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            if b > a
        ]
    out.sort(key=lambda p: -p[0])
    return [p[1:] for p in out]


# --- Dask -----------------------------------------------------------------------
def parse_cluster(spec: str | None) -> int | None:
    """Return the worker count of ``--cluster local[:N]`` (N defaults to the cores)."""
    if spec is None:
        return None
    text = spec.strip()
    if text == "local":
        return os.cpu_count() or 1
    if text.startswith("local:") and text[6:].isdigit() and int(text[6:]) >= 1:
        return int(text[6:])
    raise UserError(
        f"--cluster {spec!r}: expected 'local' or 'local:N' with N >= 1 worker processes"
    )


def threads_rule(workers: int, threads: int | None, cores: int | None = None) -> int:
    """Return the numba threads per worker so that workers x threads <= cores.

    threads None: cores // workers (at least 1). Asking for more raises UserError."""
    cores = cores or os.cpu_count() or 1
    if workers > cores:
        raise UserError(
            f"--cluster local:{workers}: more worker processes than the {cores} "
            f"cores of this machine; use local:{cores} or fewer"
        )
    if threads is None:
        return max(1, cores // workers)
    if workers * threads > cores:
        raise UserError(
            f"{workers} workers x {threads} threads = {workers * threads} "
            f"exceeds the {cores} cores of this machine; use --threads "
            f"{max(1, cores // workers)} or fewer workers"
        )
    return int(threads)


def connect(
    address: str | None,
    local_workers: int | None = None,
    threads: int | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
):
    """Return (distributed.Client, LocalCluster or None).

    address: ``tcp://HOST:PORT`` of a running scheduler; None starts a LocalCluster of
    ``local_workers`` single-threaded worker processes on 127.0.0.1 whose numba pool
    has ``threads`` threads (NUMBA_NUM_THREADS, set before numba loads). A scheduler
    that does not answer within connect_timeout_s raises UserError naming it."""
    from distributed import Client, LocalCluster

    cluster = None
    if address is None:
        import dask

        env = {"NUMBA_NUM_THREADS": str(int(threads))} if threads else {}
        # Non-daemonic workers may fork (SatrecContext.pool: a worker's SGP4 work on
        # all its cores). A worker the nanny restarts after a death is daemonic again
        # (the setting is read at each start) and runs that work in-process.
        with dask.config.set({"distributed.worker.daemon": False}):
            cluster = LocalCluster(
                n_workers=int(local_workers or 1),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
                silence_logs=logging.ERROR,
                env=env,
            )
        address = cluster.scheduler_address
    try:
        return Client(address, timeout=f"{connect_timeout_s}s"), cluster
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close(timeout=10)
        raise UserError(
            f"cannot reach the Dask scheduler at {address} within "
            f"{connect_timeout_s:g} s ({type(exc).__name__}); is "
            "'dask scheduler' running there and the port open?"
        ) from exc


def _dask_task(fn, ctx, args):
    return fn(ctx, *args)


def _dask_chunk(fn, ctx, jobs, threads, stage):
    """Several jobs as one Dask task, over the worker's ``threads`` forked children."""
    return ctx.pool(threads).map(fn, jobs, stage)


class DaskExecutor:
    """Run ``fn(ctx, *job)`` as Dask tasks; ctx is on every worker once (scattered).

    address: ``tcp://HOST:PORT`` of a running scheduler, or None with local_workers
    to start a LocalCluster of that many single-threaded worker processes (SGP4
    holds the GIL: parallelism comes from processes; numba kernels use
    ``threads`` threads inside each task)."""

    name = "dask"
    slices_as_tasks = True
    forked = False

    def __init__(
        self,
        ctx: SatrecContext,
        address: str | None = None,
        local_workers: int | None = None,
        threads: int = 1,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ):
        self.ctx = ctx
        self.threads = int(threads)
        t = time.perf_counter()
        self.client, self._cluster = connect(address, local_workers, threads, connect_timeout_s)
        connect_s = time.perf_counter() - t
        self.address = address or self._cluster.scheduler_address
        self.workers = max(1, len(self.client.scheduler_info()["workers"]))
        t = time.perf_counter()
        raw_bytes = len(ctx) * _BODY  # what ctx pickles to (not pickled twice to count)
        self._ctx = self.client.scatter(ctx, broadcast=True, hash=False)
        self.ship = {
            "connect_s": round(connect_s, 3),  # includes starting a LocalCluster
            "catalogue_bytes": raw_bytes,
            "scatter_s": round(time.perf_counter() - t, 3),
        }

    def share(self, obj):
        """Return a future of obj present on every worker (shipped once each)."""
        self.ship["shared_bytes"] = self.ship.get("shared_bytes", 0) + len(
            pickle.dumps(obj, protocol=5)
        )
        return self.client.scatter(obj, broadcast=True, hash=False)

    def map(self, fn, jobs: list, stage: str) -> list:
        """Return [fn(ctx, *job) for job in jobs]: one task per job, or, when each worker
        has several cores (threads > 1), one task per worker holding every workers-th
        job (biggest first, so balanced), run over that worker's forked children
        (SGP4 holds the GIL: one task per core would need one worker per core)."""
        from distributed import KilledWorker

        tag = uuid.uuid4().hex[:8]
        chunked = self.threads > 1 and len(jobs) > 1 and stage not in WHOLE_WORKER_STAGES
        if chunked:
            groups = [jobs[w :: self.workers] for w in range(min(self.workers, len(jobs)))]
            calls = [(_dask_chunk, fn, self._ctx, g, self.threads, stage) for g in groups]
        else:
            calls = [(_dask_task, fn, self._ctx, job) for job in jobs]
        futures = [
            self.client.submit(
                *call, pure=False, retries=TASK_RETRIES, key=f"ssa-{stage}-{q}-{tag}"
            )
            for q, call in enumerate(calls)
        ]
        try:
            out = self.client.gather(futures)
        except KilledWorker as exc:
            self.client.cancel(futures)
            raise WorkerError(
                f"{stage}: task {exc.task} was lost with worker "
                f"{exc.last_worker.address if exc.last_worker else '?'} "
                "more times than allowed"
            ) from exc
        except BaseException:
            self.client.cancel(futures)
            raise
        if not chunked:
            return out
        results = [None] * len(jobs)
        for w, part in enumerate(out):
            results[w :: self.workers] = part
        return results

    def worker_pids(self) -> dict:
        """Return {worker address: pid} (tests use it to kill one)."""
        return self.client.run(os.getpid)

    def describe(self) -> dict:
        return {
            "name": "dask",
            "scheduler": self.address,
            "workers": self.workers,
            "threads_per_worker": self.threads,
            "local_cluster": self._cluster is not None,
            **self.ship,
        }

    def close(self, abort: bool = False) -> None:
        client, self.client = self.client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            try:
                client.close(timeout=5)
            except Exception:  # noqa: BLE001 - closing after a failure: keep the first error
                pass
        if cluster is not None:
            cluster.close(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(abort=exc_type is not None)


def make_executor(
    ctx: SatrecContext,
    threads: int,
    scheduler: str | None = None,
    cluster: str | None = None,
    warm_up=None,
):
    """Return the executor for the options: Dask at ``scheduler`` (or $SSA_SCHEDULER),
    a LocalCluster for ``cluster`` = 'local[:N]', else local processes (threads)."""
    scheduler = scheduler or os.environ.get(ENV_SCHEDULER) or None
    if scheduler and cluster:
        raise UserError("give either --scheduler (or SSA_SCHEDULER) or --cluster, not both")
    if scheduler:
        return DaskExecutor(ctx, address=scheduler, threads=threads)
    n = parse_cluster(cluster)
    if n is not None:
        return DaskExecutor(ctx, local_workers=n, threads=threads)
    return LocalExecutor(ctx, threads, warm_up=warm_up)
