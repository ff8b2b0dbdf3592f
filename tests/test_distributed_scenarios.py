"""Scenario sweeps on Dask give the one-by-one results.

Two real scenario files on a real subset of the shared catalogue (the members'
payloads plus random LEO background, written as a 3LE file here): one with a
[sweep] of two seeds, one with other sensors but the same truth. Run one by one
(``ssa scenario run A`` then ``ssa scenario run B``, as before this module) and as
Dask tasks on a real LocalCluster of 2 worker processes: the truth is screened
once (three runs share it) and every output file is the same, byte for byte,
except the run times.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import Satrec

from ssa.catalog import Catalog
from ssa.cli import main
from ssa.errors import UserError
from ssa.scenario.config import load_scenario
from ssa.scenario.distributed import plan_runs, truth_key

CATALOG = "catalog-2024-07-05.3le"
# Random LEO objects kept besides the members' payloads (keeps each run to seconds).
BACKGROUND_OBJECTS = 800
SCENARIO = """
name = "{name}"
seed = 3
[window]
start = 2024-07-05T12:00:00Z
days = 0.25
history_days = 0.5
[catalog]
file = "{catalog}"
satcat = "{satcat}"
[screening]
threshold_km = 10.0
[tracking]
coverage_step_s = 600.0
[assessment]
monte_carlo_runs = 1
bootstrap = 20
[sweep]
commit_days = [0.1, 0.25]
{seeds}
[sensors]
file = "{sensors}"
[[members]]
name = "Japan"
owners = ["JPN"]
sensors = {jp_sensors}
sharing = "observations"
[[members]]
name = "South Korea"
owners = ["SKOR"]
sensors = ["KR-OWL-DAEJEON"]
sharing = "{kr_sharing}"
"""
# The unreachable-scheduler error comes within the connect timeout plus this (event
# loop start on a loaded machine).
UNREACHABLE_SLACK_S = 10.0
# summary.json fields that hold run times (differ between any two runs).
TIMING_KEYS = ("timings_s",)


@pytest.fixture(scope="module")
def files(tmp_path_factory, shared_file):
    """Two scenario files and the 3LE subset they read."""
    tmp = tmp_path_factory.mktemp("scen")
    satcat = shared_file("satcat-2025-03.csv.gz")
    full = Catalog.load(shared_file(CATALOG), satcat=satcat)
    rng = np.random.default_rng(5)
    mine = np.isin(full.owner, ["JPN", "SKOR"]) & (full.object_type == "PAYLOAD")
    leo = np.flatnonzero(~mine & (full.apogee_km < 2000))
    keep = set(full.norad_id[mine].tolist())
    keep |= set(full.norad_id[rng.choice(leo, BACKGROUND_OBJECTS, replace=False)].tolist())
    lines = shared_file(CATALOG).read_text().splitlines()
    out = []
    for q in range(0, len(lines) - 2, 3):
        l1, l2 = lines[q + 1], lines[q + 2]
        if l1.startswith("1 ") and Satrec.twoline2rv(l1, l2).satnum in keep:
            out += lines[q : q + 3]
    sub = tmp / "subset.3le"
    sub.write_text("\n".join(out) + "\n")
    sensors = Path(__file__).parent.parent / "scenarios" / "sensors.csv"
    paths = []
    for name, seeds, jp, kr in (
        ("sweep", "seeds = [3, 4]", '["JP-KAMISAIBARA", "JP-BISEI"]', "none"),
        ("other-sensors", "", '["JP-BISEI"]', "alerts"),
    ):
        p = tmp / f"{name}.toml"
        p.write_text(
            SCENARIO.format(
                name=name,
                catalog=sub,
                satcat=satcat,
                sensors=sensors,
                seeds=seeds,
                jp_sensors=jp,
                kr_sharing=kr,
            )
        )
        paths.append(p)
    return paths


def test_runs_and_shared_truths(files):
    scenarios = [load_scenario(p) for p in files]
    runs = plan_runs(scenarios)
    assert [r.folder for r in runs] == [
        "sweep/start-20240705T1200-seed-3",
        "sweep/start-20240705T1200-seed-4",
        "other-sensors",
    ]
    assert len({r.truth for r in runs}) == 1  # sensors and policies do not change the truth
    later = load_scenario(files[0])
    import dataclasses
    import datetime as dt

    later = dataclasses.replace(later, start=later.start + dt.timedelta(days=1))
    assert truth_key(later) != runs[0].truth
    with pytest.raises(UserError, match="share the name"):
        plan_runs([scenarios[0], scenarios[0]])


def _tree(folder: Path) -> dict:
    """Every file under folder (relative path -> bytes), summary.json without timings."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(folder))
        if p.name == "summary.json":
            summ = json.loads(p.read_text())
            for k in TIMING_KEYS:
                summ.pop(k)
            out[rel] = summ
        elif p.name == "report.html":
            # The page states the run time ("Run time N s"); the rest must match.
            text = p.read_text()
            out[rel] = text[: text.index("Run time")] + text[text.index(" s.</p>") :]
        else:
            out[rel] = p.read_bytes()
    return out


@pytest.mark.slow
def test_dask_sweep_equals_one_by_one(files, tmp_path, capsys):
    one = tmp_path / "one"
    for p in files:
        assert main(["scenario", "run", str(p), "--quiet", "--out", str(one / p.stem)]) == 0
    dask_out = tmp_path / "dask"
    args = ["scenario", "run", *map(str, files), "--cluster", "local:2", "--out", str(dask_out)]
    capsys.readouterr()
    assert main(args) == 0
    assert "3 runs of 2 scenarios on 2 Dask workers, 1 truth screenings" in capsys.readouterr().out
    seq, dist = _tree(one), _tree(dask_out)
    assert sorted(seq) == sorted(dist)
    assert len([k for k in seq if k.endswith("summary.json")]) == 3
    assert seq["sweep/start-20240705T1200-seed-3/summary.json"]["counts"]["conjunctions"] > 0
    for k in seq:
        assert seq[k] == dist[k], k


def test_unreachable_scheduler_is_one_error(files, tmp_path, capsys):
    """No scheduler at the address: exit status 1 and a message naming it, in bounded
    time, and no output folder."""
    import socket
    import time

    from ssa.screening.executor import CONNECT_TIMEOUT_S

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once closed
    t = time.monotonic()
    out = tmp_path / "never"
    assert main(["scenario", "run", str(files[0]), "--scheduler", address, "--out", str(out)]) == 1
    assert time.monotonic() - t < CONNECT_TIMEOUT_S + UNREACHABLE_SLACK_S
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
    assert not out.exists()


def test_truth_key_follows_the_seed_only_when_events_change_the_truth(ssa_data):
    """Breakup fragments are drawn from the seed: two seeds of a breakup exercise need
    two truth screenings; two seeds of a quiet scenario share one."""
    import dataclasses

    root = Path(__file__).resolve().parents[1] / "scenarios"
    quiet = load_scenario(root / "pooled-observations.toml")
    breakup = load_scenario(root / "exercise-collision.toml")
    assert truth_key(quiet) == truth_key(dataclasses.replace(quiet, seed=quiet.seed + 1))
    assert truth_key(breakup) != truth_key(dataclasses.replace(breakup, seed=breakup.seed + 1))
