"""Distributed screening gives the single-process table, row for row.

Real processes only: a LocalCluster of 2 workers, and a real ``dask scheduler`` +
``dask worker`` started here on 127.0.0.1 (stopped at the end). The subset is a
dense real shell screened with short time slices, so encounters cross slice
boundaries (checked). Also: a Dask worker killed mid-run (same table), an
unreachable scheduler (clear error, bounded time), a local pool child that dies
(WorkerError naming stage and pid, no child left).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ssa.catalog import Catalog
from ssa.errors import UserError, WorkerError
from ssa.screening import executor, propagate, screen

CATALOG = "catalog-2024-07-05.3le"
DAYS = 0.5
THRESHOLD_KM = 10.0
SLICE_SPANS = 1  # shortest slices (one widest knot span, 5120 s): many boundaries
# Starting a scheduler and workers on a busy 2-core machine: generous, but bounded.
CLUSTER_START_S = 90.0
# The unreachable-scheduler error must come within the connect timeout; the slack
# covers interpreter and event-loop start on a loaded machine.
UNREACHABLE_SLACK_S = 10.0
TASKS_GONE_S = 20.0  # cancelled tasks leave the scheduler well within this
# The interrupt test's window: enough tasks (a slice per 5120 s) that the watcher,
# polling a starved scheduler on a loaded machine, sees some running before the run
# ends (an interrupted run stops at once, so this costs nothing when it works).
INTERRUPT_DAYS = 7.0


@pytest.fixture(scope="module")
def shell(shared_file):
    """500 objects of the 520-580 km shell (slow same-shell pairs: long encounters)
    plus the 20 lowest perigees (objects that decay inside the window)."""
    full = Catalog.load(shared_file(CATALOG))
    rng = np.random.default_rng(11)
    idx = np.flatnonzero((full.perigee_km < 580) & (full.apogee_km > 520))
    pick = np.union1d(rng.choice(idx, 500, replace=False), np.argsort(full.perigee_km)[:20])
    return full.subset(np.sort(pick))


def _csv(result, folder: Path) -> str:
    result.write(folder)
    return (folder / "conjunctions.csv").read_text()


def _half_s(rows):
    """Half the time each conjunction stays within threshold (straight-line estimate)."""
    return (
        np.sqrt(np.maximum(THRESHOLD_KM**2 - rows["TCA_RANGE"] ** 2, 0.0))
        / rows["TCA_RELATIVE_SPEED"]
    )


def _tca_s(res):
    jd0, fr0 = res.start
    return ((res.rows["TCA_JD"] - jd0) + (res.rows["TCA_FR"] - fr0)) * 86400.0


def _screen(shell, start, **kw):
    res = screen(shell, start=start, days=DAYS, threshold_km=THRESHOLD_KM, **kw)
    res.start = start
    return res


@pytest.fixture(scope="module")
def start(shell):
    """A window start that puts a slice boundary on the TCA of the longest encounter
    found from the median epoch: its flagged intervals lie on both sides of it."""
    jd0, fr0 = shell.epoch_median()
    probe = _screen(shell, (jd0, fr0), threads=1, slice_spans=SLICE_SPANS)
    slice_s = probe.run["slices"][1]["t0_s"]
    tca, half = _tca_s(probe), _half_s(probe.rows)
    inside = (tca > slice_s + 600.0) & (tca < DAYS * 86400.0 - 600.0)
    assert inside.any()
    q = np.flatnonzero(inside)[np.argmax(half[inside])]
    return jd0, fr0 + (tca[q] - slice_s) / 86400.0


@pytest.fixture(scope="module")
def reference(shell, start, tmp_path_factory):
    """The single-process table, the whole window as one slice (no boundary)."""
    res = _screen(shell, start, threads=1, slice_spans=1000)
    assert len(res.run["slices"]) == 1
    return res, _csv(res, tmp_path_factory.mktemp("single"))


def _slice_crossings(res) -> int:
    """Count conjunctions whose time within threshold contains a slice boundary."""
    bounds = np.array([sl["t0_s"] for sl in res.run["slices"][1:]])
    t, half = _tca_s(res), _half_s(res.rows)
    return int(sum(np.any(np.abs(t[q] - bounds) < half[q]) for q in range(len(res))))


def test_slices_do_not_change_the_table(shell, start, reference, tmp_path):
    ref, ref_csv = reference
    many = _screen(shell, start, threads=2, slice_spans=SLICE_SPANS)
    assert len(many.run["slices"]) >= 9
    # With the numba SGP4 every local stage runs on threads: no process is forked.
    assert many.run["executor"]["processes_started"] == 0
    crossing = _slice_crossings(many)
    assert crossing >= 1, "no encounter crosses a slice boundary: the test proves nothing"
    assert len(ref) >= 50
    assert _csv(many, tmp_path) == ref_csv


def _stop_resource_tracker():
    """A LocalCluster spawns its workers, which starts multiprocessing's resource
    tracker: a child of this process for the rest of the session. Stop it (it restarts
    on demand), so later tests that count this process's children see none."""
    from multiprocessing import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        stop()


def test_local_cluster_two_workers(shell, start, reference, tmp_path):
    ref, ref_csv = reference
    try:
        res = _screen(shell, start, cluster="local:2", slice_spans=SLICE_SPANS)
    finally:
        _stop_resource_tracker()
    ex = res.run["executor"]
    assert ex["name"] == "dask" and ex["workers"] == 2 and ex["threads_per_worker"] == 1
    assert ex["catalogue_bytes"] > 900 * len(shell)  # the raw SGP4 state, once per worker
    assert len(res.run["slices"]) >= 9 and all(s["worker"] for s in res.run["slices"])
    assert _csv(res, tmp_path) == ref_csv
    assert res.run["dropped"] == ref.run["dropped"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def real_cluster():
    """A `dask scheduler` and a `dask worker` (2 processes, 1 thread each) on 127.0.0.1."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    # Non-daemonic workers may fork: with --threads 2 a worker runs its SGP4 work on
    # forked children (executor.SatrecContext.pool), as on a multi-core host.
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    sched = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "worker",
            address,
            "--nworkers",
            "2",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    client = None
    try:
        client = Client(address, timeout=f"{CLUSTER_START_S}s")
        client.wait_for_workers(2, timeout=CLUSTER_START_S)
        yield address, client
    finally:
        if client is not None:
            client.close()
        for p in (worker, sched):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in (worker, sched):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)


def test_real_scheduler_and_workers(shell, start, reference, real_cluster, tmp_path):
    ref, ref_csv = reference
    # threads=2: plan, knots and refinement in each worker over its own forked pool
    # (two per worker: oversubscribed on 2 cores, which only costs time).
    address, watcher = real_cluster
    # A lambda pickles by value (the workers cannot import this test module).
    daemonic = watcher.run(lambda: __import__("multiprocessing").current_process().daemon)
    assert not any(daemonic.values())  # so the pools really fork
    res = _screen(shell, start, scheduler=address, slice_spans=SLICE_SPANS, threads=2)
    assert res.run["executor"]["scheduler"] == address
    assert res.run["executor"]["workers"] == 2
    assert res.run["executor"]["threads_per_worker"] == 2
    assert _csv(res, tmp_path) == ref_csv


def test_killed_worker_costs_a_retry(shell, start, reference, real_cluster, tmp_path):
    """SIGKILL one worker process while it runs a screening task: same table."""
    ref, ref_csv = reference
    address, watcher = real_cluster
    killed = []

    def kill_when_busy():
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline and not killed:
            busy = {
                w: keys
                for w, keys in watcher.processing().items()
                if any(str(k).startswith("ssa-slices") for k in keys)
            }
            if busy:
                worker = sorted(busy)[0]
                pid = watcher.run(os.getpid, workers=[worker])[worker]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=kill_when_busy, daemon=True)
    thread.start()
    res = _screen(shell, start, scheduler=address, slice_spans=SLICE_SPANS)
    thread.join(timeout=5)
    assert killed, "no worker was killed while a slice task ran"
    assert _csv(res, tmp_path) == ref_csv
    watcher.wait_for_workers(2, timeout=CLUSTER_START_S)  # the nanny restarted it


def _ssa_tasks(watcher) -> list:
    return [k for keys in watcher.processing().values() for k in keys if str(k).startswith("ssa-")]


def test_client_interrupt_cancels_its_tasks(shell, start, real_cluster, tmp_path):
    """Ctrl-C in the client while its tasks run: KeyboardInterrupt, no task left."""
    address, watcher = real_cluster
    # Tasks an earlier test left on this module's cluster (the killed worker's retry)
    # would trigger the signal before the run starts: wait until they are gone, and
    # send it only once the run is inside pytest.raises.
    deadline = time.monotonic() + TASKS_GONE_S
    while _ssa_tasks(watcher) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ssa_tasks(watcher) == [], "an earlier test's tasks are still on the cluster"
    sent = []
    inside = threading.Event()

    def interrupt_when_busy():
        inside.wait(60.0)
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline:
            if _ssa_tasks(watcher):  # the run's first tasks (plan, then slices) are out
                os.kill(os.getpid(), signal.SIGINT)
                sent.append(True)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=interrupt_when_busy, daemon=True)
    thread.start()
    with pytest.raises(KeyboardInterrupt):
        inside.set()
        screen(
            shell,
            start=start,
            days=INTERRUPT_DAYS,
            threshold_km=THRESHOLD_KM,
            scheduler=address,
            slice_spans=SLICE_SPANS,
        )
    thread.join(timeout=5)
    assert sent
    deadline = time.monotonic() + TASKS_GONE_S
    while _ssa_tasks(watcher) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ssa_tasks(watcher) == []


def test_unreachable_scheduler(shell):
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    t = time.monotonic()
    with pytest.raises(UserError, match=address.replace(".", r"\.")):
        screen(shell, days=DAYS, scheduler=address)
    assert time.monotonic() - t < executor.CONNECT_TIMEOUT_S + UNREACHABLE_SLACK_S


def test_scheduler_from_environment(shell, monkeypatch):
    address = f"tcp://127.0.0.1:{_free_port()}"
    monkeypatch.setenv(executor.ENV_SCHEDULER, address)
    with pytest.raises(UserError, match=address.replace(".", r"\.")):
        screen(shell, days=DAYS)


def test_threads_rule():
    assert executor.threads_rule(2, None, cores=8) == 4
    assert executor.threads_rule(3, 2, cores=8) == 2
    with pytest.raises(UserError, match="exceeds the 8 cores"):
        executor.threads_rule(3, 3, cores=8)
    with pytest.raises(UserError, match="more worker processes than the 2 cores"):
        executor.threads_rule(3, None, cores=2)
    assert executor.parse_cluster("local:3") == 3
    with pytest.raises(UserError, match="local:N"):
        executor.parse_cluster("local:0")


def _suicide(ctx, q):
    if q == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.2)
    return q


def test_local_child_death_is_a_worker_error(shell):
    ex = executor.LocalExecutor(executor.SatrecContext(shell.satrecs), 2)
    with pytest.raises(WorkerError, match=r"stage 'SGP4 knots': worker process \d+ died"):
        with ex:
            ex.map(_suicide, [(q,) for q in range(8)], "SGP4 knots")
    assert ex.children() == []


def test_raw_satrec_state_round_trips(shell):
    """Shipped satellites propagate bit for bit like the originals."""
    import pickle

    ctx = pickle.loads(pickle.dumps(executor.SatrecContext(shell.satrecs)))
    jd0, fr0 = shell.epoch_median()
    jd, fr = propagate.times_to_jd(jd0, fr0, np.linspace(-86400.0, 3 * 86400.0, 97))
    idx = np.arange(len(shell))
    e1, r1, v1 = executor.SatrecContext(shell.satrecs).satrec_array(idx).sgp4(jd, fr)
    e2, r2, v2 = ctx.satrec_array(idx).sgp4(jd, fr)
    assert np.array_equal(e1, e2)
    assert np.array_equal(r1, r2, equal_nan=True) and np.array_equal(v1, v2, equal_nan=True)
