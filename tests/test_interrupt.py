"""Interrupted and failing runs: real signals to a real ``ssa screen`` on the shared
catalogue, then the file system (output folder, temporary siblings, /dev/shm) and the
process table (no worker left) are checked.

Also worker death: a killed pool worker gives a WorkerError naming the stage and the
worker, never a hang, and leaves no process behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sgp4.api import Satrec

from ssa.errors import WorkerError
from ssa.screening.executor import LocalExecutor, SatrecContext

# Hang guards, not performance assertions: a stopped run exits in about a second
# (README "Reliability"); these only turn a hang into a failure.
EXIT_TIMEOUT_S = 60.0
WORKERS_TIMEOUT_S = 120.0
POLL_S = 0.05
CATALOG = "catalog-2024-07-05.3le"
# A local run screens on threads in its own process (no worker processes): it is past
# its imports and catalogue load, inside the screening, once it has used this much CPU.
BUSY_CPU_S = 3.0
# This setting puts the SGP4 knots on forked worker processes (sgp4's C++ SatrecArray),
# the path Dask-less runs with the C++ SGP4 take: the worker tests need workers.
WITH_WORKERS = {"SSA_KNOT_SGP4": "satrecarray"}


def _children(pid: int) -> list[int]:
    """Return the pids whose parent is pid (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the ")" that closes the command name.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_screen(data_dir, out: Path, ignore_sigint: bool = False, env: dict | None = None):
    cmd = [
        sys.executable,
        "-m",
        "ssa",
        "screen",
        str(Path(data_dir) / CATALOG),
        "--days",
        "1",
        "--threads",
        "2",
        "--out",
        str(out),
        "--quiet",
    ]
    pre = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=pre,
        env={**os.environ, **(env or {})},
    )


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of pid so far (its threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_busy(proc) -> list[int]:
    """Block until proc is inside the screening (BUSY_CPU_S used); return its live
    children (none on the threaded path, the warm-up's on an empty numba cache)."""
    deadline = time.monotonic() + WORKERS_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            busy = _cpu_s(proc.pid) >= BUSY_CPU_S
        except OSError:
            busy = False
        if busy:
            return [k for k in _children(proc.pid) if _alive(k)]
        if proc.poll() is not None:
            pytest.fail(f"ssa screen ended before it was busy: {proc.communicate()}")
        time.sleep(POLL_S)
    proc.kill()
    pytest.fail("ssa screen never got busy")


def _wait_for_workers(proc, n: int = 1) -> list[int]:
    """Block until proc has n worker children (the run is in a pooled SGP4 stage)."""
    deadline = time.monotonic() + WORKERS_TIMEOUT_S
    while time.monotonic() < deadline:
        kids = [k for k in _children(proc.pid) if _alive(k)]
        if len(kids) >= n:
            return kids
        if proc.poll() is not None:
            pytest.fail(f"ssa screen ended before starting workers: {proc.communicate()}")
        time.sleep(POLL_S)
    proc.kill()
    pytest.fail("no worker process appeared")


def _finish(proc, workers: list[int], record_property=None) -> tuple[int, str]:
    """Wait for proc (a signal was just sent); return its status and stderr. The time
    from the signal to its exit goes to the test report (stop_s), not into a bound."""
    t0 = time.monotonic()
    try:
        _, err = proc.communicate(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("ssa screen did not stop: hang")
    if record_property is not None:
        record_property("stop_s", round(time.monotonic() - t0, 3))
    # Workers are gone (zombies of an orphaned group count as gone: nothing left to
    # reap for us). They die on SIGTERM/SIGKILL at once; the bound only absorbs load.
    deadline = time.monotonic() + WORKERS_TIMEOUT_S
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert not [w for w in workers if _alive(w)], "worker processes outlived the run"
    return proc.returncode, err


def _previous_output(out: Path) -> dict:
    """An earlier complete output the interrupted run must leave untouched."""
    out.mkdir(parents=True)
    record = {"marker": "earlier run", "complete": True}
    (out / "run.json").write_text(json.dumps(record))
    (out / "conjunctions.csv").write_text("NORAD_CAT_ID_1\n")
    return record


def _assert_untouched(out: Path, record: dict) -> None:
    assert json.loads((out / "run.json").read_text()) == record
    assert sorted(p.name for p in out.iterdir()) == ["conjunctions.csv", "run.json"]
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert leftovers == [], f"temporary folders left behind: {leftovers}"


def _shm_in_use(pids: list[int]) -> set[str]:
    """The /dev/shm files these processes have open or mapped. ssa itself uses memfds
    (they go with the processes, checked by the process table); anything named must go
    too. Only the run's own entries are checked: the machine's other test runs create
    and remove /dev/shm entries of their own at any moment (a global before/after
    comparison of /dev/shm failed for that reason under load)."""
    out = set()
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
        except OSError:  # the process ended meanwhile
            continue
        paths = links + [line.split(None, 5)[5] for line in maps if len(line.split(None, 5)) == 6]
        out |= {p for p in paths if p.startswith("/dev/shm/") and not p.endswith("(deleted)")}
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "how", ["sigint-group", "sigint-inherited-ignored", "sigterm-parent", "sigint-group-workers"]
)
def test_signal_stops_screen_and_keeps_previous_output(ssa_data, tmp_path, how, record_property):
    """The threaded run (the default) and the run with worker processes stop alike."""
    out = tmp_path / "screen"
    record = _previous_output(out)
    with_workers = how.endswith("-workers")
    proc = _start_screen(
        ssa_data,
        out,
        ignore_sigint=(how == "sigint-inherited-ignored"),
        env=WITH_WORKERS if with_workers else None,
    )
    workers = _wait_for_workers(proc, 2) if with_workers else _wait_until_busy(proc)
    shm = _shm_in_use([proc.pid, *workers])
    if how == "sigterm-parent":
        os.kill(proc.pid, signal.SIGTERM)
        expected = signal.SIGTERM
    else:  # what Ctrl-C in a terminal does: the whole process group gets SIGINT
        os.killpg(proc.pid, signal.SIGINT)
        expected = signal.SIGINT
    rc, err = _finish(proc, workers, record_property)
    assert rc == 128 + expected, err
    assert f"interrupted by {expected.name}" in err
    assert "Traceback" not in err
    _assert_untouched(out, record)
    assert not [p for p in shm if os.path.exists(p)], "shared memory left behind"


@pytest.mark.slow
def test_killed_parent_takes_its_workers_along(ssa_data, tmp_path):
    """SIGKILL of the parent (no handler can run): workers die with it (PDEATHSIG) and
    the output folder does not appear."""
    out = tmp_path / "screen"
    proc = _start_screen(ssa_data, out, env=WITH_WORKERS)
    workers = _wait_for_workers(proc, 2)
    os.kill(proc.pid, signal.SIGKILL)
    rc, _ = _finish(proc, workers)
    assert rc == -signal.SIGKILL
    assert not out.exists()


@pytest.mark.slow
def test_killed_worker_gives_worker_error(ssa_data, tmp_path, record_property):
    out = tmp_path / "screen"
    record = _previous_output(out)
    proc = _start_screen(ssa_data, out, env=WITH_WORKERS)
    workers = _wait_for_workers(proc, 2)
    os.kill(workers[0], signal.SIGKILL)
    rc, err = _finish(proc, workers, record_property)
    assert rc == 1, err
    # Killed in the first pooled stage, or (a very loaded machine) idle between
    # stages: then the next stage names it. Either way a stage is named.
    assert re.search(r"stage '(SGP4 interpolation plan|SGP4 knots|refine)'", err), err
    assert f"worker process {workers[0]} died (killed by SIGKILL)" in err
    assert "Traceback" not in err
    _assert_untouched(out, record)


# --- the pools themselves (no CLI): a worker that dies mid-task -------------------


@pytest.fixture
def few_satrecs(shared_file):
    """The first four element sets of the shared catalogue."""
    lines = shared_file(CATALOG).read_text().splitlines()[:12]
    return [Satrec.twoline2rv(lines[k + 1], lines[k + 2]) for k in range(0, 12, 3)]


def _die_ctx(ctx, _):
    os.kill(os.getpid(), signal.SIGKILL)


def _square_ctx(ctx, x):
    return x * x


def _pid_then_sleep_ctx(ctx, fifo):
    """A job that works for long (a sleep); with a fifo, it first tells the test its
    worker's pid."""
    if fifo:
        with open(fifo, "w") as fh:
            fh.write(f"{os.getpid()}\n")
    time.sleep(STUCK_JOB_S)


# A job the test never lets finish: a worker killed meanwhile must not wait for it.
STUCK_JOB_S = 600.0
# Hang guard, not a performance bound: SIGKILL to WorkerError takes milliseconds
# (measured: README "Reliability"); before the sentinel watch it took as long as the
# other workers' jobs.
DEATH_NOTICED_TIMEOUT_S = 60.0


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _forked_children() -> list[int]:
    """Live children forked from this process (same command line): the executor's
    workers. Other children of the test session (multiprocessing's resource tracker,
    a Dask cluster of another test) run other command lines and are not ours to judge."""
    own = Path("/proc/self/cmdline").read_bytes()
    out = []
    for k in _children(os.getpid()):
        try:
            same = Path(f"/proc/{k}/cmdline").read_bytes() == own
        except OSError:
            continue
        if same and _alive(k):
            out.append(k)
    return out


def _assert_no_children_left() -> None:
    deadline = time.monotonic() + WORKERS_TIMEOUT_S
    while _forked_children() and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert not _forked_children(), "orphan worker processes"


def test_executor_worker_death(few_satrecs):
    fds = _open_fds()
    with pytest.raises(WorkerError, match="stage 'SGP4 knots'.*killed by SIGKILL"):
        with LocalExecutor(SatrecContext(few_satrecs), 2) as ex:
            assert ex.forked
            ex.map(_die_ctx, [(0,), (1,)], "SGP4 knots")
    _assert_no_children_left()
    assert _open_fds() == fds, "file descriptors leaked"


def test_worker_killed_mid_stage_is_noticed_while_others_still_work(
    few_satrecs, tmp_path, record_property
):
    """Both workers busy with long jobs; one is SIGKILLed: WorkerError at once (not after
    the other's job), the other worker is ended, no descriptor is left open."""
    fifo = tmp_path / "pids"
    os.mkfifo(fifo)
    fds = _open_fds()
    killed = {}

    def kill_first_busy_worker():
        with open(fifo) as fh:  # blocks until the worker has started its job
            pid = int(fh.readline())
        killed["pid"], killed["t"] = pid, time.monotonic()
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_first_busy_worker, daemon=True)
    killer.start()
    ex = LocalExecutor(SatrecContext(few_satrecs), 2)
    with pytest.raises(WorkerError) as info:
        with ex:
            ex.map(_pid_then_sleep_ctx, [(str(fifo),), ("",)], "refine")
    noticed_s = time.monotonic() - killed["t"]
    killer.join(timeout=DEATH_NOTICED_TIMEOUT_S)
    record_property("sigkill_to_worker_error_s", round(noticed_s, 4))
    assert noticed_s < DEATH_NOTICED_TIMEOUT_S < STUCK_JOB_S
    assert f"stage 'refine': worker process {killed['pid']} died (killed by SIGKILL)" in str(
        info.value
    )
    _assert_no_children_left()
    assert _open_fds() == fds, "file descriptors leaked"


def test_worker_that_died_idle_is_reported_by_the_next_stage(few_satrecs):
    """A worker killed between stages (the parent doing its own work) held no job; the
    next stage reports it by name instead of a broken pipe or a hang."""
    fds = _open_fds()
    with pytest.raises(WorkerError, match="stage 'SGP4 knots': worker process .* SIGKILL"):
        with LocalExecutor(SatrecContext(few_satrecs), 2) as ex:
            assert ex.map(_square_ctx, [(2,), (3,)], "SGP4 interpolation plan") == [4, 9]
            victim = ex.children()[0]
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + WORKERS_TIMEOUT_S
            while _alive(victim) and time.monotonic() < deadline:
                time.sleep(POLL_S)
            ex.map(_square_ctx, [(4,), (5,)], "SGP4 knots")
    _assert_no_children_left()
    assert _open_fds() == fds, "file descriptors leaked"


def test_executor_still_works_after_normal_use(few_satrecs):
    fds = _open_fds()
    with LocalExecutor(SatrecContext(few_satrecs), 2) as ex:
        assert ex.map(_square_ctx, [(2,), (3,), (4,)], "unit test") == [4, 9, 16]
    _assert_no_children_left()
    assert _open_fds() == fds, "file descriptors leaked"
