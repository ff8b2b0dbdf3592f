"""Scenario sweeps as Dask tasks: several scenario files, their variants, shared truths.

``ssa scenario run A.toml B.toml ... --cluster local[:N] | --scheduler tcp://HOST:PORT``

A *run* is one variant of one scenario file (``config.expand_sweep``: one per start
date and Monte Carlo seed of its [sweep]; commit times and Pc thresholds are
evaluated inside a run). Runs that need the same truth screening (same catalogue
files, window, threshold, protected satellites and truth events: ``truth_key``)
share it: it is one task, and its result (the screening's column arrays, about
1 kB per conjunction) is passed to each of their run tasks. A run task loads the
catalogue (once per worker process), builds the truth from the shared screening
(``assess.stage_truth`` with a ``screen`` that replays it, after checking it is
asked for exactly what was computed), runs ``assess.run_variant`` and writes its
outputs into a temporary folder whose files go back to the client as bytes; the
client writes each run's folder atomically (``ssa.outputs.atomic_folder``) as the
runs finish. So workers need the scenario's data files (same paths, or SSA_DATA),
not a shared output folder.

Results are identical to running the files one by one: the same pure functions
run (``run_variant`` is seeded; the screening table does not depend on where it
runs), only the place differs. Output folders: ``OUT/`` for one scenario,
``OUT/<scenario name>/`` for several; a scenario with several variants gets one
sub-folder per variant (``variant_folder``), as ``ssa scenario run`` always did.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssa.errors import UserError
from ssa.scenario.config import Scenario, expand_sweep, resolve_data_path
from ssa.scenario.truth import screen_digest

# Event kinds that only change who observes (not the truth catalogue or its screening).
OBSERVING_EVENTS = ("outage", "leave")
# Catalogues kept per worker process (runs of one scenario reuse the loaded one).
CATALOGS_PER_PROCESS = 2


@dataclass(frozen=True)
class Run:
    """One run: a scenario variant, where its outputs go, and which truth it needs."""

    scenario: Scenario
    folder: str  # relative to OUT
    truth: str  # truth_key
    number: int  # 1-based among its scenario's variants
    variants: int


def variant_folder(var: Scenario, n_variants: int) -> str:
    """Return a variant's sub-folder: '.' for a single run, else start and seed."""
    if n_variants == 1:
        return "."
    return f"start-{var.start.strftime('%Y%m%dT%H%M')}-seed-{var.seed}"


def truth_key(sc: Scenario) -> str:
    """Return a digest of everything the truth screening depends on.

    Catalogue and SATCAT files (resolved), window, threshold, the union of members'
    owners with the protected types and excluded names (they decide the screened
    primaries), and the events that can change the truth catalogue (all but sensor
    outages and members leaving), and with such events the seed. Conservative: two scenarios that happen to protect
    the same satellites through different owner lists do not share."""
    owners = sorted({o for m in sc.members for o in m.owners})
    events = sorted(repr(e) for e in getattr(sc, "events", ()) if e.kind not in OBSERVING_EVENTS)
    parts = [
        str(resolve_data_path(sc.catalog_file, sc.path)),
        str(resolve_data_path(sc.satcat, sc.path)) if sc.satcat else "",
        sc.start.isoformat(),
        repr(float(sc.days)),
        repr(float(sc.threshold_km)),
        "|".join(owners),
        "|".join(sorted(sc.protect_types)),
        "|".join(sorted(sc.exclude_names)),
        *events,
        # Breakup fragments are drawn from the scenario seed: with such events the
        # truth differs between seeds (without them it does not).
        *([f"seed={sc.seed}"] if events else []),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def plan_runs(scenarios: list[Scenario]) -> list[Run]:
    """Return every run of the scenarios, in order; scenario names must differ when
    there are several (each gets the sub-folder of its name)."""
    names = [sc.name for sc in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if len(scenarios) > 1 and dup:
        files = [str(sc.path) for sc in scenarios if sc.name in dup]
        raise UserError(
            f"scenarios {', '.join(files)} share the name {dup[0]!r}: with several "
            "scenarios each gets the output sub-folder of its name; rename one"
        )
    runs = []
    for sc in scenarios:
        variants = expand_sweep(sc)
        top = Path(sc.name) if len(scenarios) > 1 else Path(".")
        for k, var in enumerate(variants):
            folder = str(top / variant_folder(var, len(variants)))
            runs.append(Run(var, folder, truth_key(var), k + 1, len(variants)))
    return runs


class SharedScreening:
    """A truth screening computed once; ``screen`` replays it to ``stage_truth``.

    Pickles as the column arrays and the digest of the arguments it was computed for,
    so Dask ships it to every run task that needs it."""

    def __init__(self, rows: dict, digest: str, seconds: float):
        self.rows = rows
        self.digest = digest
        self.seconds = seconds

    @property
    def nbytes(self) -> int:
        return int(sum(np.asarray(v).nbytes for v in self.rows.values()))

    def screen(self, catalog, start, days, threshold_km, primary_ids, quiet=True) -> dict:
        if screen_digest(catalog, start, days, threshold_km, primary_ids) != self.digest:
            raise RuntimeError(
                "a shared truth screening was asked for another catalogue, window, "
                "threshold or primaries than it was computed for (truth_key misses an input)"
            )
        return dict(self.rows)


class _CatalogCache:
    """The scenario catalogues loaded in this process (runs of a scenario share one).

    Catalog objects hold sgp4 Satrecs, which do not pickle: each worker loads the
    file itself instead of receiving it."""

    def __init__(self, size: int = CATALOGS_PER_PROCESS):
        self.size = size
        self._items: dict = {}

    def get(self, sc: Scenario):
        from ssa.scenario.truth import load_catalog

        key = (
            str(resolve_data_path(sc.catalog_file, sc.path)),
            str(resolve_data_path(sc.satcat, sc.path)) if sc.satcat else "",
            str(resolve_data_path(sc.rcs, sc.path)) if sc.rcs else "",
        )
        if key not in self._items:
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = load_catalog(sc)
        return self._items[key]


_catalogs = _CatalogCache()


@contextlib.contextmanager
def _in_process_screening():
    """Screen inside this task, not on a cluster named by SSA_SCHEDULER (a task that
    waits for its own cluster's tasks can deadlock it)."""
    from ssa.screening.executor import ENV_SCHEDULER

    saved = os.environ.pop(ENV_SCHEDULER, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[ENV_SCHEDULER] = saved


def truth_task(sc: Scenario, cache_dir: str | None = None) -> SharedScreening:
    """Compute the truth screening of ``sc`` once (a task), as ``stage_truth`` asks it."""
    from ssa.scenario.assess import stage_truth
    from ssa.scenario.truth import caching_screen, screen_truth

    inner = caching_screen(cache_dir) if cache_dir else screen_truth
    seen = {}

    def capture(catalog, start, days, threshold_km, primary_ids, quiet=True):
        seen["digest"] = screen_digest(catalog, start, days, threshold_km, primary_ids)
        seen["rows"] = inner(catalog, start, days, threshold_km, primary_ids, quiet=quiet)
        return seen["rows"]

    t = time.perf_counter()
    with _in_process_screening():
        stage_truth(sc, catalog=_catalogs.get(sc), screen=capture, quiet=True)
    return SharedScreening(seen["rows"], seen["digest"], time.perf_counter() - t)


def run_task(var: Scenario, shared: SharedScreening, cache_dir: str | None = None) -> dict:
    """Run one variant on a shared truth screening; return its output files as bytes
    (relative path -> content), its summary and its seconds. ``cache_dir``: the
    --screening-cache folder, also for sensors' visibility (results do not depend on it)."""
    from ssa.scenario.assess import run_variant, stage_truth
    from ssa.scenario.report import write_outputs

    t1 = time.perf_counter()
    truth = stage_truth(var, catalog=_catalogs.get(var), screen=shared.screen, quiet=True)
    t_truth = shared.seconds + (time.perf_counter() - t1)
    result = run_variant(var, truth, quiet=True, cache_dir=cache_dir)
    result.timings_s = {
        "truth": t_truth,
        **result.timings_s,
        "total": shared.seconds + time.perf_counter() - t1,
    }
    with tempfile.TemporaryDirectory(prefix="ssa-run-") as tmp:
        summ = write_outputs(result, tmp)
        files = {
            str(p.relative_to(tmp)): p.read_bytes()
            for p in sorted(Path(tmp).rglob("*"))
            if p.is_file()
        }
    return {
        "files": files,
        "summary": summ,
        "conjunctions": truth.n,
        "seconds": result.timings_s["total"],
        "worker": f"{os.uname().nodename}:{os.getpid()}",
    }


def write_run(where: Path, files: dict) -> None:
    """Write a run's files into ``where``, complete or not at all."""
    from ssa.outputs import atomic_folder

    with atomic_folder(where) as tmp:
        for rel, data in files.items():
            path = Path(tmp) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def run_on_dask(
    runs: list[Run],
    out: Path,
    scheduler: str | None = None,
    cluster: str | None = None,
    cache_dir: str | None = None,
    on_done=None,
) -> dict:
    """Run ``runs`` as Dask tasks (one truth task per distinct truth, one task per run)
    and write their folders under ``out`` as they finish; return a record of the run.

    ``on_done(run, result, where)`` is called on the client after each run is written.
    Interrupting cancels every task of this call on the cluster."""
    from distributed import as_completed

    from ssa.screening import executor

    n_local = executor.parse_cluster(cluster) if cluster else None
    threads = executor.threads_rule(n_local, None) if n_local else None
    client, local = executor.connect(scheduler, n_local, threads)
    futures = []
    t0 = time.perf_counter()
    try:
        truths = {}
        for run in runs:
            if run.truth not in truths:
                truths[run.truth] = client.submit(
                    truth_task,
                    run.scenario,
                    cache_dir,
                    key=f"ssa-truth-{run.truth}-{os.getpid()}-{time.time_ns()}",
                    pure=False,
                    retries=executor.TASK_RETRIES,
                )
        futures = list(truths.values())
        by_future = {}
        for q, run in enumerate(runs):
            f = client.submit(
                run_task,
                run.scenario,
                truths[run.truth],
                cache_dir,
                key=f"ssa-run-{q}-{os.getpid()}-{time.time_ns()}",
                pure=False,
                retries=executor.TASK_RETRIES,
            )
            futures.append(f)
            by_future[f.key] = run
        done = []
        for f in as_completed([f for f in futures if f.key in by_future]):
            run = by_future[f.key]
            res = f.result()
            where = out / run.folder
            write_run(where, res["files"])
            done.append(
                {
                    "folder": run.folder,
                    "seconds": round(res["seconds"], 3),
                    "worker": res["worker"],
                    "result_bytes": sum(len(b) for b in res["files"].values()),
                }
            )
            f.release()
            if on_done is not None:
                on_done(run, res, where)
        shared = client.gather(list(truths.values()))
        return {
            "scheduler": client.scheduler.address,
            "workers": len(client.scheduler_info()["workers"]),
            "local_cluster": local is not None,
            "truth_tasks": len(truths),
            "truth_bytes": [s.nbytes for s in shared],
            "truth_s": [round(s.seconds, 3) for s in shared],
            "runs": done,
            "wall_s": round(time.perf_counter() - t0, 3),
        }
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)
        if local is not None:
            local.close(timeout=10)
