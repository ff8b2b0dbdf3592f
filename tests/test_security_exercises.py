"""End to end: each exercise scenario (scenarios/exercise-*.toml) through ``ssa scenario
run``'s pipeline on a short window, a catalogue subset and fewer, larger fragments.

What must hold whatever the numbers: the security events reach the truth (fragments in
the catalogue, no conjunction before an object exists), the summary carries the
event-specific metrics, pooling never knows fewer fragment approaches nor detects a
manoeuvre later, and a member without sensors knows of a fragment only what the public
catalogue publishes (nothing within days of the event)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from ssa.scenario.assess import run_scenario
from ssa.scenario.config import load_scenario
from ssa.scenario.report import write_outputs
from ssa.scenario.truth import load_catalog

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
# Random LEO objects kept besides the members' satellites and the event objects.
BACKGROUND_FRACTION = 0.03
WINDOW_D = 0.5
MIN_SIZE_M = 0.3  # fewer fragments than the exercises' 5 cm (runtime)


def _short(sc):
    """Return ``sc`` on a short window starting at its first event, with cheap events."""
    events = []
    for e in sc.events:
        p = dict(e.params)
        if e.kind == "breakup":
            p["min_size_m"] = MIN_SIZE_M
        elif e.kind == "small_debris":
            p.update(sample=300, exposure_days=0.1)
        elif e.kind == "manoeuvre" and p.get("towards"):
            p["transfer_h"] = 6.0
        events.append(dataclasses.replace(e, params=p))
    first = min(e.start for e in events)
    return dataclasses.replace(
        sc,
        events=tuple(events),
        start=first - dt.timedelta(minutes=5) if first > sc.start else sc.start,
        days=WINDOW_D,
        monte_carlo_runs=1,
        bootstrap=20,
        coverage_step_s=300.0,
    )


def _subset(sc, full):
    rng = np.random.default_rng(0)
    ids = set()
    for e in sc.events:
        ids |= {e.params.get(k) for k in ("parent", "impactor", "object", "towards")}
    owners = [o for m in sc.members for o in m.owners]
    keep = np.isin(full.owner, owners) & (full.object_type == "PAYLOAD")
    keep |= np.isin(full.norad_id, [i for i in ids if i])
    keep |= (rng.random(len(full)) < BACKGROUND_FRACTION) & (full.apogee_km < 2000)
    return full.subset(keep)


@pytest.fixture(scope="module")
def catalog_of(tmp_path_factory):
    cache = {}

    def get(sc):
        if sc.catalog_file not in cache:
            cache[sc.catalog_file] = load_catalog(sc)
        return cache[sc.catalog_file]

    return get


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    ["exercise-asat-480km", "exercise-collision", "exercise-inspector", "exercise-quiet-baseline"],
)
def test_exercise_runs_through_the_scenario_pipeline(name, catalog_of, ssa_data, tmp_path):
    sc = _short(load_scenario(SCENARIOS / f"{name}.toml"))
    catalog = _subset(sc, catalog_of(sc))
    result = run_scenario(sc, catalog=catalog)
    summ = write_outputs(result, tmp_path)
    assert json.loads((tmp_path / "summary.json").read_text())["security"]
    sec = summ["security"]
    ev = result.truth.events
    assert ev is not None
    c = result.truth.conj
    members = [m.name for m in sc.members]
    # no conjunction of an object before it exists (fragments, a new orbit)
    for side in ("i1", "i2"):
        assert np.all(c["tca_s"] >= ev.born_s[c[side]] - 1e-6)
    rows = {r["participant"]: r for r in summ["participants"]}
    for m in members:
        assert f"{m} alone" in rows and f"{m} grouping" in rows
    kinds = {e.kind for e in sc.events}
    if "breakup" in kinds:
        n_frag = int(np.sum(ev.kind == "fragment"))
        (b,) = sec["effects"]["breakups"]
        assert n_frag == b["fragments"] > 10
        parts = sec["participants"]
        for m in members:
            a = (parts.get(f"{m} alone") or {}).get("fragment")
            g = (parts.get(f"{m} grouping") or {}).get("fragment")
            if a:
                assert g["approaches"] == a["approaches"]
                assert g["known_at_commit"] >= a["known_at_commit"]
        # Canada has no sensors: alone it knows no fragment within days of the event
        ca = (parts.get("Canada alone") or {}).get("fragment")
        assert ca is None or ca["known_at_commit"] == 0
        assert b["participants"]["Canada"]["alone"]["maintained"] == b["public_catalogued"]
    if "manoeuvre" in kinds:
        for man in sec["effects"]["manoeuvres"]:
            assert man["dv_ms"] <= 500.0
            for m in members:
                a = man["participants"][m]["alone"]["detection_h"]
                g = man["participants"][m]["grouping"]["detection_h"]
                if a is not None:
                    assert g is not None and g <= a
    if "small_debris" in kinds:
        (e,) = sec["effects"]["small_debris"]
        assert e["participants"]["Canada"]["alone"]["sample_objects_seen"] == 0
    # the exercise figures and tables come out of the summary
    from ssa.commands.exercise import render
    from ssa.scenario import security_figures as sf

    made = [
        f(summ, tmp_path) for f in (sf.fragments_known, sf.manoeuvre_detection, sf.small_debris)
    ]
    expect = {
        "fragments-known.png": "breakup" in kinds,
        "manoeuvre-detection.png": "manoeuvre" in kinds,
        "small-debris.png": "small_debris" in kinds,
    }
    assert {m for m in made if m} == {k for k, v in expect.items() if v}
    assert all((tmp_path / m).stat().st_size > 10_000 for m in made if m)
    text = render({"scenario": summ["scenario"], "seed": summ["seed"], **sec["effects"]})
    assert text.startswith(f"# {sc.name} (seed {sc.seed})") and "| member |" in text
