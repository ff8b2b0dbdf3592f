"""Security events in scenario files: breakup and manoeuvre kinds (validation), what each
member sees of a breakup (monotone, bounded, pooled >= alone, no sensors -> nothing)
and when it detects a manoeuvre (zero delta-v never; larger no later; pooling never
later). Real catalogue, real sensors table, short windows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from ssa.scenario.config import load_scenario
from ssa.scenario.security import breakup_effect, manoeuvre_effect, sensor_sets
from ssa.scenario.truth import load_catalog, protected_by

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
START = "2024-07-05T12:00:00Z"
# Osculating radius can dip below the mean perigee (J2 short-period terms, ~10 km in LEO).
PERIGEE_MARGIN_KM = 25.0

TOML = f"""
name = "security-test"
seed = 7
[window]
start = {START}
days = 0.25
[catalog]
file = "{{catalog}}"
satcat = "{{satcat}}"
[tracking]
coverage_step_s = 120.0
[assessment]
protect_types = ["PAYLOAD"]
exclude_names = ["STARLINK"]
[sensors]
file = "{SCENARIOS / "sensors.csv"}"
[[members]]
name = "UK"
owners = ["UK"]
sensors = ["UK-FYLINGDALES", "UK-STARBROOK"]
sharing = "observations"
[[members]]
name = "Fence"
owners = ["AUS"]
sensors = ["US-SPACEFENCE"]
sharing = "observations"
[[members]]
name = "Norway"
owners = ["NOR"]
sensors = ["NO-GLOBUS2"]
sharing = "observations"
[[members]]
name = "Canada"
owners = ["CA"]
sensors = []
sharing = "observations"
{{events}}
"""

BREAKUP = """
[[events]]
kind = "breakup"
parent = 14147
at = 2024-07-05T12:00:00Z
mode = "collision"
impactor_mass_kg = 20.0
impact_speed_km_s = 7.0
parent_mass_kg = 1750.0
min_size_m = 0.3
"""


def _write(tmp_path, shared_file, events: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(
        TOML.format(
            catalog=shared_file("catalog-2024-07-05.3le"),
            satcat=shared_file("satcat-2025-03.csv.gz"),
            events=events,
        )
    )
    return path


@pytest.fixture(scope="module")
def setup(shared_file, tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("sec"), shared_file, BREAKUP)
    sc = load_scenario(path)
    catalog = load_catalog(sc)
    return sc, catalog


@pytest.mark.parametrize(
    "event, match",
    [
        ('kind = "breakup"\nparent = 14147\nat = 2024-07-05T12:00:00Z\nmode = "implode"', "mode"),
        ('kind = "breakup"\nparent = -3\nat = 2024-07-05T12:00:00Z\nmode = "explosion"', "parent"),
        (
            'kind = "breakup"\nparent = 14147\nat = 2024-07-05T12:00:00Z\nmode = "collision"',
            "impactor",
        ),
        (
            'kind = "breakup"\nparent = 14147\nat = 2024-07-05T12:00:00Z\nmode = "explosion"\n'
            "parent_mass_kg = -5.0",
            "parent_mass_kg",
        ),
        (
            'kind = "manoeuvre"\nobject = 40258\nat = 2024-07-05T12:00:00Z\ndv_rtn_ms = [1, 2]',
            "dv_rtn_ms",
        ),
        (
            'kind = "manoeuvre"\nobject = 40258\nat = 2024-07-05T12:00:00Z\ntowards = 33055\n'
            "dv_rtn_ms = [0, 1, 0]\nmiss_km = 5.0",
            "not both",
        ),
        (
            'kind = "manoeuvre"\nobject = 40258\nat = 2024-07-05T12:00:00Z\n'
            "dv_rtn_ms = [300, 450, 0]",
            "540.8 m/s exceeds the allowed 500 m/s",
        ),
    ],
)
def test_bad_security_events_are_listed(tmp_path, shared_file, event, match):
    path = _write(tmp_path, shared_file, "[[events]]\n" + event + "\n")
    with pytest.raises(ValueError, match=match):
        load_scenario(path)


def test_breakup_detection_is_bounded_monotone_and_pooled(setup):
    sc, catalog = setup
    event = next(e for e in sc.events if e.kind == "breakup")
    out = breakup_effect(sc, catalog, event, protected_by(sc, catalog))
    n = out["fragments"]
    assert n > 50
    parts = out["participants"]
    for e in parts.values():
        for side in ("alone", "grouping"):
            det, mnt = e[side]["detected"], e[side]["maintained"]
            assert all(0 <= m <= d <= n for m, d in zip(mnt, det, strict=True))
            assert det == sorted(det)
            assert 0 <= e[side]["known"] <= e[side]["close_approaches"]
        assert all(
            g >= a for a, g in zip(e["alone"]["detected"], e["grouping"]["detected"], strict=True)
        )
        assert e["grouping"]["known"] >= e["alone"]["known"]
    # no sensors: nothing beyond the public catalogue (which has none within hours)
    assert parts["Canada"]["alone"]["detected"] == out["public_catalogued"]
    assert parts["public"]["grouping"]["detected"] == out["public_catalogued"]
    assert out["public_catalogued"] == [0] * len(out["snapshots_days"])
    assert parts["Canada"]["grouping"]["detected"][-1] > 0


def test_objects_below_every_size_limit_are_never_detected(setup):
    from ssa.scenario.tracking import track

    sc, catalog = setup
    jd, fr = catalog.epoch_median()
    sub = catalog.subset(np.arange(300))
    tiny = np.full(len(sub), 1e-4)  # 0.1 mm: below every sensor's limit at any range
    res = track(sub.satrecs, tiny, sc.sensors, jd, fr, 0.0, 6 * 3600.0, 120.0, [6 * 3600.0])
    assert res.detections.sum() == 0
    big = track(
        sub.satrecs,
        np.full(len(sub), 2.0),
        sc.sensors,
        jd,
        fr,
        0.0,
        6 * 3600.0,
        120.0,
        [6 * 3600.0],
    )
    assert big.detections.sum() > 0


def test_detection_never_beats_the_size_limit_at_the_closest_possible_range(setup):
    """No sensor sees an object smaller than its size limit at the object's perigee height
    above the site (the closest the object can come): size_limit(R) = ref_size (R /
    ref_range)^p, p = 2 radar, 1 optical. Objects just below that bound for every sensor are
    never detected; the same objects 1.5x above it for some sensor can be."""
    from ssa.scenario.tracking import OPTICAL_SIZE_EXPONENT, RADAR_SIZE_EXPONENT, track

    sc, catalog = setup
    jd, fr = catalog.epoch_median()
    leo = np.flatnonzero((catalog.perigee_km > 300) & (catalog.apogee_km < 1200))[:300]
    sub = catalog.subset(leo)
    t = sc.sensors
    p = np.where(t.is_optical, OPTICAL_SIZE_EXPONENT, RADAR_SIZE_EXPONENT)
    closest_km = (  # (objects, sensors)
        sub.perigee_km[:, None] - t.alt_m[None, :] / 1e3 - PERIGEE_MARGIN_KM
    )
    bound = t.ref_size_m[None, :] * (closest_km / t.ref_range_km[None, :]) ** p[None, :]
    below = 0.99 * bound.min(axis=1)
    res = track(sub.satrecs, below, t, jd, fr, 0.0, 6 * 3600.0, 120.0, [6 * 3600.0])
    assert res.detections.sum() == 0
    above = track(
        sub.satrecs, 1.5 * bound.max(axis=1), t, jd, fr, 0.0, 6 * 3600.0, 120.0, [6 * 3600.0]
    )
    assert above.detections.sum() > 0


def _manoeuvre(sc, catalog, dv):
    from ssa.scenario.config import Event

    when = dt.datetime(2024, 7, 5, 12, tzinfo=dt.timezone.utc)
    # COSMOS 2558 (LEO): tracked by several sensors within hours
    e = Event("manoeuvre", start=when, params={"object": 53323, "dv_rtn_ms": list(dv)})
    return manoeuvre_effect(dataclasses.replace(sc, events=(e,)), catalog, e)


def test_manoeuvre_detection_zero_never_larger_no_later_pooling_no_later(setup):
    sc, catalog = setup
    zero = _manoeuvre(sc, catalog, (0.0, 0.0, 0.0))
    assert zero["public_detection_h"] is None
    for e in zero["participants"].values():
        assert e["alone"]["detection_h"] is None and e["grouping"]["detection_h"] is None
    small = _manoeuvre(sc, catalog, (0.0, 0.3, 0.0))
    large = _manoeuvre(sc, catalog, (0.0, 3.0, 0.0))
    detected_somewhere = False
    for name in sensor_sets(sc):
        for side in ("alone", "grouping"):
            s = small["participants"][name][side]["detection_h"]
            g = large["participants"][name][side]["detection_h"]
            if s is not None:
                assert g is not None and g <= s
            detected_somewhere |= g is not None
        for run in (small, large):
            a = run["participants"][name]["alone"]["detection_h"]
            p = run["participants"][name]["grouping"]["detection_h"]
            if a is not None:
                assert p is not None and p <= a
    assert detected_somewhere
    # no sensors: no detection of its own (only the public catalogue's, reported apart)
    assert large["participants"]["Canada"]["alone"]["detection_h"] is None
    assert large["participants"]["public"]["grouping"]["detection_h"] is None


def test_small_debris_exposure_alone_vs_grouping(setup):
    from ssa.scenario.config import Event
    from ssa.scenario.security import exposure_effect

    sc, catalog = setup
    e = Event(
        "small_debris",
        start=dt.datetime(2024, 7, 5, 12, tzinfo=dt.timezone.utc),
        params={"sample": 1000, "exposure_days": 0.1},
    )
    out = exposure_effect(sc, catalog, e, protected_by(sc, catalog))
    assert out["sample"] == 1000 and out["weight"] > 900  # ~1.1 million / 1000
    parts = out["participants"]
    for entry in parts.values():
        a, g = entry["alone"], entry["grouping"]
        assert g["sample_objects_seen"] >= a["sample_objects_seen"]
        if entry["protected_leo"]:
            assert g["unseen_conjunctions_per_sat_year"] <= a["unseen_conjunctions_per_sat_year"]
            assert g["unseen_pc_per_sat_year"] <= a["unseen_pc_per_sat_year"]
    # no sensors: sees none of the small objects
    assert parts["Canada"]["alone"]["sample_objects_seen"] == 0
    assert all(e["grouping"]["sample_objects_seen"] <= out["sample"] for e in parts.values())


def test_manoeuvre_on_a_decayed_object_is_a_clear_error(setup):
    from ssa.scenario.config import Event

    sc, catalog = setup
    # SL-4 R/B 58930: perigee 108 km in the snapshot, gone within weeks (sgp4 error 6)
    when = dt.datetime(2024, 9, 5, 12, tzinfo=dt.timezone.utc)
    e = Event("manoeuvre", start=when, params={"object": 58930, "dv_rtn_ms": [0, 1, 0]})
    with pytest.raises(ValueError, match="58930 cannot be propagated .*decayed"):
        manoeuvre_effect(dataclasses.replace(sc, events=(e,)), catalog, e)


def test_towards_is_fuel_optimal_and_capped(setup):
    """The GEO inspector (LUCH/OLYMP, 1.8 deg out of SKYNET 5C's plane, 0.25 deg apart in
    longitude) needs about the plane change, 2 v sin(1.8 deg / 2) = 98 m/s in all; the old
    shooting solution spent 181 m/s on the departure alone. A target out of reach is refused, nothing solved."""
    from ssa.scenario import security
    from ssa.scenario.config import Event

    sc, catalog = setup
    when = dt.datetime(2024, 7, 5, 12, tzinfo=dt.timezone.utc)
    params = {"object": 40258, "towards": 33055, "miss_km": 5.0, "transfer_h": 36.0}
    e = Event("manoeuvre", start=when, params=params)
    out = manoeuvre_effect(dataclasses.replace(sc, events=(e,), days=2.0), catalog, e)
    from ssa.geometry.timeutil import datetime_to_jd

    jd, fr = datetime_to_jd(when)
    (r1, v1), (r2, v2) = (
        np.array(catalog.satrecs[int(np.flatnonzero(catalog.norad_id == n)[0])].sgp4(jd, fr)[1:])
        for n in (40258, 33055)
    )
    h1, h2 = np.cross(r1, v1), np.cross(r2, v2)
    angle = np.arccos(np.dot(h1, h2) / np.linalg.norm(h1) / np.linalg.norm(h2))
    # hand-worked: a pure plane change of a circular orbit costs 2 v sin(angle / 2)
    plane_change_ms = 2 * np.linalg.norm(v2) * 1e3 * np.sin(angle / 2)
    total = out["dv_ms"] + out["arrival_dv_ms"]
    assert abs(total - plane_change_ms) < 0.1 * plane_change_ms
    assert out["dv_ms"] < 100.0
    assert abs(out["miss_km"] - 5.0) < 0.5
    with pytest.raises(ValueError, match="exceeds the allowed"):
        security.check_dv_ms(security.MAX_MANOEUVRE_DV_MS + 1.0, "test")


# Random LEO objects kept besides the members' satellites and the parent (runtime).
TASKING_BACKGROUND_FRACTION = 0.05


def test_no_track_nor_budget_on_fragments_before_the_breakup(setup):
    """The scheduler plans from days before the window (``tasking.run_tasking``); the
    fragments exist only from the breakup (the window start here). Before it they take
    no track, so no sensor's budget, while they are visible and tracked once they
    exist; their track rate (the coverage stage's) is per day of existence; Globus II
    (30 tracks a day) spends its whole share on objects that exist."""
    from ssa.scenario import tasking as tk
    from ssa.scenario.assess import stage_tasking
    from ssa.scenario.truth import build_truth

    sc, catalog = setup
    rng = np.random.default_rng(0)
    owners = [o for m in sc.members for o in m.owners]
    keep = np.isin(catalog.owner, owners) & (catalog.object_type == "PAYLOAD")
    keep |= catalog.norad_id == 14147
    keep |= (rng.random(len(catalog)) < TASKING_BACKGROUND_FRACTION) & (catalog.apogee_km < 2000)
    truth = build_truth(sc, catalog=catalog.subset(keep))
    frag = truth.events.kind == "fragment"
    assert frag.sum() > 50
    task = stage_tasking(sc, truth)
    tracks = task.tracks_bins
    n_bins = tracks.shape[2]
    plan_s = task.t0_s + np.arange(n_bins) * task.bin_s
    before = plan_s < truth.events.born_s[frag].min()
    assert before.sum() >= 3
    assert task.passes_per_day[:, frag].sum() > 0  # visible (SGP4 runs before the event)
    assert tracks[:, frag][:, :, before].sum() == 0
    assert tracks[:, frag][:, :, ~before].sum() > 0
    # the coverage stage's rate counts only the days a fragment exists
    exist_d = (~before).sum() * task.bin_s / tk.SECONDS_PER_DAY
    every = np.ones(len(task.sensor_ids), dtype=bool)
    assert np.allclose(
        task.track_rate(every)[frag], tracks[:, frag].sum(axis=(0, 2)) / exist_d, rtol=1e-5
    )
    s = list(task.sensor_ids).index("NO-GLOBUS2")
    caps = tk.bin_budgets(task.budget, n_bins, task.bin_s / tk.SECONDS_PER_DAY)
    assert np.array_equal(tracks[s][~frag].sum(axis=0), caps[s])
