"""End to end: a small scenario on a real catalog subset with a fixed seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ssa.cli import main
from ssa.scenario import truth as tr
from ssa.scenario.assess import (
    KnowledgeContext,
    caching_screen,
    load_catalog,
    run_scenario,
    screen_truth,
    stage_tasking,
)
from ssa.scenario.config import load_scenario
from ssa.scenario.report import write_outputs

SCENARIO = """
name = "{name}"
seed = 7
[window]
start = 2024-07-05T12:00:00Z
days = 1.0
history_days = 1.0
[catalog]
file = "{catalog}"
satcat = "{satcat}"
[tracking]
coverage_step_s = 180.0
[assessment]
monte_carlo_runs = 2
bootstrap = 40
leave_one_out = true
miss_rule_km = 0.2
[sweep]
commit_days = [0.5, 1.0, 3.0]
[sensors]
file = "{sensors}"
[[members]]
name = "EU"
owners = ["ESA", "EUME", "EUTE", "FR", "GER", "IT", "SPN"]
sensors = {eu_sensors}
sharing = "{eu_sharing}"
[[members]]
name = "Japan"
owners = ["JPN"]
sensors = ["JP-KAMISAIBARA", "JP-BISEI"]
sharing = "observations"
[[members]]
name = "Australia"
owners = ["AUS"]
sensors = ["AU-CBAND", "AU-SST"]
sharing = "alerts"
[[members]]
name = "South Korea"
owners = ["SKOR"]
sensors = ["KR-OWL-DAEJEON"]
sharing = "none"
"""
EU_SENSORS = '["FR-GRAVES", "DE-GESTRA", "ES-S3TSR", "DE-TIRA", "ES-OGS"]'
# Random LEO objects kept besides the members' satellites (keeps screening to seconds).
BACKGROUND_FRACTION = 0.12


def write_scenario(tmp, shared_file, name, eu_sensors=EU_SENSORS, eu_sharing="observations"):
    path = tmp / f"{name}.toml"
    path.write_text(
        SCENARIO.format(
            name=name,
            catalog=shared_file("catalog-2024-07-05.3le"),
            satcat=shared_file("satcat-2025-03.csv.gz"),
            eu_sensors=eu_sensors,
            eu_sharing=eu_sharing,
            sensors=Path(__file__).parent.parent / "scenarios" / "sensors.csv",
        )
    )
    return load_scenario(path)


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_file):
    tmp = tmp_path_factory.mktemp("scenario")
    sc = write_scenario(tmp, shared_file, "small")
    full = load_catalog(sc)
    rng = np.random.default_rng(0)
    mine = np.isin(full.owner, [o for m in sc.members for o in m.owners]) & (
        full.object_type == "PAYLOAD"
    )
    keep = mine | ((rng.random(len(full)) < BACKGROUND_FRACTION) & (full.apogee_km < 2000))
    catalog = full.subset(keep)
    cached_screen = caching_screen(tmp / "cache", screen=screen_truth)
    result = run_scenario(sc, catalog=catalog, screen=cached_screen)
    return sc, catalog, cached_screen, result, tmp


@pytest.mark.slow
def test_truth_is_the_same_whoever_looks(run, shared_file):
    """Another network (EU without S3TSR, sharing nothing) sees exactly the same truth."""
    sc, catalog, screen, result, tmp = run
    other = write_scenario(
        tmp, shared_file, "other", eu_sharing="none", eu_sensors='["FR-GRAVES", "DE-TIRA"]'
    )
    t1 = tr.build_truth(sc, catalog=catalog, screen=screen)
    t2 = tr.build_truth(other, catalog=catalog, screen=screen)
    assert t1.n == t2.n > 50
    k1, k2 = t1.event_keys(), t2.event_keys()
    assert np.array_equal(k1, k2)
    for run_ in (0, 1):
        o1 = tr.true_offsets_m(t1, sc.seed, run_)
        assert np.array_equal(o1, tr.true_offsets_m(t2, other.seed, run_))
        r1, *_ = tr.risk(t1, o1)
        assert np.array_equal(r1, result.risk[run_])
    # A different Monte Carlo run realises different truth errors.
    assert not np.allclose(tr.true_offsets_m(t1, sc.seed, 0), tr.true_offsets_m(t1, sc.seed, 1))
    # A subset of events (fewer members screened) keeps each event's offsets.
    sub = tr.Truth(
        t1.catalog, t1.protected_by, {k: v[::3] for k, v in t1.conj.items()}, t1.start, t1.days
    )
    assert np.array_equal(
        tr.true_offsets_m(sub, sc.seed, 0), tr.true_offsets_m(t1, sc.seed, 0)[::3]
    )


@pytest.mark.slow
def test_pooled_knowledge_is_at_least_as_good_as_alone(run):
    sc, _, _, result, _ = run
    for m in ("EU", "Japan"):  # the observation sharers
        alone, group = result.results[f"{m} alone"], result.results[f"{m} grouping"]
        assert np.array_equal(alone.events, group.events)
        va = np.sum(alone.sigma_commit_m**2, axis=-1)
        vg = np.sum(group.sigma_commit_m**2, axis=-1)
        assert np.all(vg <= va * (1 + 1e-9))
        assert np.any(vg < va * 0.99)  # and strictly better somewhere
    # 'none' sharing: inside the grouping is the same as alone.
    a = result.results["South Korea alone"]
    g = result.results["South Korea grouping"]
    assert np.array_equal(a.pc_commit, g.pc_commit)


@pytest.mark.slow
def test_maintained_catalogue_and_unobservable_objects(run):
    sc, catalog, _, result, _ = run
    for r in result.metrics():
        mo = r["maintained_objects"]
        assert mo["pooled"]["total"] >= mo["own"]["total"]
        assert mo["public"]["total"] == len(catalog)
    # An object no sensor of a member ever sees is never in its catalogue.
    ctx = KnowledgeContext(
        sc,
        result.truth,
        stage_tasking(sc, result.truth),
        __import__("ssa.scenario.od", fromlist=["x"]).load_model(),
    )
    from ssa.scenario.tasking import maintained

    for m in range(len(sc.members)):
        seen = ctx.tasking.passes_per_day[ctx.own_mask[m]].sum(axis=0) > 0
        keep = maintained(
            ctx.model,
            ctx.info_rate[m],
            ctx.track_rate[m],
            sc.fit_span_days,
            ctx.ballistic,
            ctx.perigee,
            ctx.apogee,
        )
        assert not np.any(keep & ~seen)
    # South Korea's single optical tracker keeps far fewer objects than the EU radars.
    own = {r["participant"]: r["maintained_objects"]["own"]["total"] for r in result.metrics()}
    assert own["South Korea alone"] < own["EU alone"] / 5


@pytest.mark.slow
def test_outputs_have_every_member_and_the_named_fields(run, capsys):
    sc, _, _, result, tmp = run
    out = tmp / "out"
    summ = write_outputs(result, out)
    data = json.loads((out / "summary.json").read_text())
    assert data["scenario"] == "small"
    keys = {p["participant"] for p in data["participants"]}
    for m in sc.members:
        assert {f"{m.name} alone", f"{m.name} grouping"} <= keys
    assert "Japan without EU" in keys and "EU without Australia" in keys
    for p in data["participants"]:
        for field in (
            "maintained_objects",
            "manoeuvres_per_sat_year",
            "risk_reduction",
            "workload_per_sat_year",
            "sigma_at_commit_m",
            "warning_time_h",
            "decision_flips",
        ):
            assert field in p
        assert set(p["maintained_objects"]) == {"own", "pooled", "public"}
    eu = next(p for p in data["participants"] if p["participant"] == "EU grouping")
    assert [c["commit_days"] for c in eu["commit_sweep"]] == [0.5, 1.0, 3.0]
    assert "without_member" in eu and "Japan" in eu["without_member"]
    # Curves: lowering the threshold never lowers manoeuvres or risk reduction.
    for p in data["participants"]:
        rr = [c["risk_reduction"] for c in p["curve"] if c["risk_reduction"] is not None]
        mn = [c["manoeuvres_per_sat_year"] for c in p["curve"]]
        assert all(a >= b - 1e-12 for a, b in zip(rr, rr[1:], strict=False))
        assert all(a >= b for a, b in zip(mn, mn[1:], strict=False))
    for name in (
        "sensor_map",
        "risk_vs_manoeuvres",
        "maintained_catalogue",
        "sigma_at_commit",
        "tracks_by_inclination",
    ):
        assert (out / f"{name}.png").stat().st_size > 5000
    assert (out / "events" / "eu-grouping.csv").read_text().count("\n") == eu["events"] + 1
    assert len(summ["participants"]) == len(data["participants"])
    # compare: every member, both runs side by side.
    assert main(["scenario", "compare", str(out), str(out), "--csv", str(tmp / "c.csv")]) == 0
    table = capsys.readouterr().out
    for m in sc.members:
        assert f"| {m.name} alone |" in table and f"| {m.name} grouping |" in table
    assert "manoeuvres_per_sat_year_at_90" in (tmp / "c.csv").read_text().splitlines()[0]
    # The miss-distance rule is its own policy: reported apart, scored on the same events.
    for p in data["participants"]:
        if p["events"]:
            mr = p["miss_rule"]
            assert mr["miss_km"] == 0.2
            assert mr["manoeuvres_per_sat_year"]["value"] >= 0
    pr = result.results["EU grouping"]
    ci = list(sc.sweep_commit_days).index(sc.commit_days)
    n_miss = (pr.miss_commit_km[:, ci] <= 0.2).sum() / sc.monte_carlo_runs / result.sat_years(0)
    assert eu["miss_rule"]["manoeuvres_per_sat_year"]["value"] == pytest.approx(n_miss)
    # Pooling one run reproduces its own manoeuvre rate at the threshold.
    assert main(["scenario", "pool", str(out), "--out", str(tmp / "pooled.json")]) == 0
    pooled = json.loads((tmp / "pooled.json").read_text())["participants"]["eu-grouping"]
    assert pooled["manoeuvres_per_sat_year"]["value"] == pytest.approx(
        eu["manoeuvres_per_sat_year"]["value"]
    )


def test_compare_names_a_missing_folder(tmp_path, capsys):
    assert main(["scenario", "compare", str(tmp_path / "nope")]) != 0
    assert "summary.json not found" in capsys.readouterr().err
