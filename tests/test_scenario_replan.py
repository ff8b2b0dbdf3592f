"""Re-planned tasking, the optional miss-distance rule and the snapshot sweep."""

from __future__ import annotations

import numpy as np
import pytest

from ssa.scenario import decisions as dec
from ssa.scenario import tasking as tk
from ssa.scenario.config import expand_sweep, load_scenario
from tests.test_scenario_config import GOOD, SCENARIOS, write
from tests.test_scenario_decisions import encounters


def test_replanned_tasking_never_exceeds_budgets_and_follows_current_partners():
    rng = np.random.default_rng(11)
    n_s, n_obj, n_bins = 4, 600, 12
    cycle = rng.poisson(0.8, (n_s, n_obj, 3))
    cycle[:, :50] = 0  # objects no sensor ever sees
    budget = np.array([60.0, 300.0, np.nan, 1000.0])  # tracks a day; NaN unlimited
    member = np.array([0, 0, 1, 1])
    bin_d = 8.0 / 24.0

    def partners(b):
        # The current conjunction partners change at every assessment.
        m = np.zeros((2, n_obj), dtype=bool)
        m[0, 100 + 20 * b : 120 + 20 * b] = True
        return m

    tracks = tk.replan(lambda b: cycle[:, :, b % 3], budget, member, partners, n_bins, bin_d, 3)
    passes = np.stack([cycle[:, :, b % 3] for b in range(n_bins)], axis=2)
    assert np.all(tracks <= passes)  # a track needs a pass
    assert not np.any(tracks[:, :50])  # an unobservable object is never tracked
    per_bin = tracks.sum(axis=1)  # (S, B)
    caps = tk.bin_budgets(budget, n_bins, bin_d)
    assert np.all(per_bin[[0, 1, 3]] <= caps[[0, 1, 3]])
    # Over any whole day the daily budget holds too (fractions carried between bins).
    for s in (0, 1, 3):
        day = np.convolve(per_bin[s], np.ones(3), mode="valid")
        assert day.max() <= budget[s]
    assert np.array_equal(tracks[2], passes[2])  # unlimited: every pass
    # Sensor 0 (20 tracks a bin) serves every visible current partner of its member
    # first, and the partners of bin b get more tracks in b than other bins' partners.
    for b in range(n_bins):
        cur = partners(b)[0] & (passes[0, :, b] > 0)
        assert np.all(tracks[0, cur, b] >= 1)
    served_now = np.mean([tracks[0, partners(b)[0], b].mean() for b in range(n_bins)])
    served_other = np.mean(
        [tracks[0, partners((b + 6) % n_bins)[0], b].mean() for b in range(n_bins)]
    )
    assert served_now > 2 * served_other


def test_scheduler_serves_the_largest_predicted_error_after_partners():
    n_obj = 200
    passes = np.ones((1, n_obj), dtype=np.int32)
    err = np.linspace(1.0, 2.0, n_obj)[::-1]  # object 0 has the largest predicted error
    tracks = tk.replan(
        lambda b: passes,
        np.array([30.0]),
        np.array([0]),
        lambda b: np.zeros((1, n_obj), dtype=bool),
        1,
        1.0,
        predicted_error=lambda m, idx, since, n: err[idx],
    )
    assert np.array_equal(np.flatnonzero(tracks[0, :, 0]), np.arange(30))


def test_tracks_in_the_fit_span_come_from_the_bins():
    tracks = np.zeros((2, 3, 6), dtype=np.int8)
    tracks[0, 0] = [1, 0, 2, 0, 0, 1]
    tracks[1, 0] = [0, 3, 0, 0, 0, 0]
    task = tk.Tasking(
        np.array(["a", "b"]),
        np.array([0, 0]),
        np.array([1.0, 0.5]),
        np.zeros((2, 3), np.float32),
        np.zeros((2, 3), np.float32),
        np.array([10.0, 10.0]),
        1,
        tracks_bins=tracks,
        t0_s=-600.0,
        bin_s=100.0,
    )
    info, count = task.cumulative(np.array([True, True]), np.array([0, 1]))
    # Whole bins 1..3 (t = -500..-200 s): 3 tracks of b (weight 0.5), 2 of a.
    got = task.in_span(count, np.array([[-200.0], [-200.0]]), 300.0)
    assert got[:, 0].tolist() == [5.0, 0.0]
    assert task.in_span(info, np.array([[-200.0]]), 300.0)[0, 0] == 2 + 1.5
    # Half of bin 5 (-100..0 s): tracks spread evenly in their bin.
    assert task.in_span(count, np.array([[-50.0]]), 50.0)[0, 0] == 0.5


def test_miss_rule_decides_on_the_estimated_miss_apart_from_pc():
    n = 500
    r1, v1, r2, v2, _ = encounters(n, seed=4, max_miss_km=1.0)
    zero = np.zeros((n, 2, 3))
    valid = np.ones((n, 2), dtype=bool)
    valid[0, 1] = False
    miss = dec.miss_series(r1, v1, r2, v2, zero, zero, valid)
    true = np.linalg.norm(r2 - r1, axis=1)
    assert np.allclose(miss[:, 0], true, atol=1e-9)
    assert np.isnan(miss[0, 1])
    # An error along the relative velocity does not change the miss; one across does.
    rel = (v2 - v1) / np.linalg.norm(v2 - v1, axis=1, keepdims=True)
    along = np.repeat((0.3 * rel)[:, None], 2, axis=1)
    assert np.allclose(dec.miss_series(r1, v1, r2, v2, zero, along, valid)[:, 0], true)
    across = np.cross(rel, r2 - r1)
    across = 0.3 * across / np.linalg.norm(across, axis=1, keepdims=True)
    moved = dec.miss_series(r1, v1, r2, v2, zero, np.repeat(across[:, None], 2, axis=1), valid)
    assert np.allclose(moved[:, 0], np.hypot(true, 0.3))


def test_snapshot_sweep_runs_each_start_on_its_catalog(tmp_path):
    text = GOOD.replace(
        "seeds = [3, 4]",
        "seeds = [3]\n"
        '[[sweep.snapshots]]\nfile = "a.3le"\nstart = [2023-09-04T12:00:00Z, 2023-09-11T12:00:00Z]\n'
        '[[sweep.snapshots]]\nfile = "b.csv"\nstart = [2024-10-31T12:00:00Z]\n',
    )
    runs = expand_sweep(load_scenario(write(tmp_path, text)))
    assert [(r.catalog_file, r.start.date().isoformat(), r.seed) for r in runs] == [
        ("a.3le", "2023-09-04", 3),
        ("a.3le", "2023-09-11", 3),
        ("b.csv", "2024-10-31", 3),
    ]


def test_snapshot_sweep_errors_name_the_key(tmp_path):
    text = GOOD.replace(
        "seeds = [3, 4]", 'seeds = [3]\n[[sweep.snapshots]]\nfile = "a.3le"\nstart = ["soon"]\n'
    )
    with pytest.raises(ValueError) as exc:
        load_scenario(write(tmp_path, text))
    assert "sweep.snapshots[0].start[0]: 'soon' is not an ISO-8601 date-time" in str(exc.value)


def _decisions(path, risk, pc, sat_years, days=7.0):
    path.mkdir(parents=True, exist_ok=True)
    np.savez(
        path / "decisions.npz",
        pc_threshold=1e-4,
        days=days,
        runs=risk.shape[0],
        **{
            "eu-alone__risk": risk,
            "eu-alone__pc": pc,
            "eu-alone__events_total": np.int64(risk.shape[1] + 10),
            "eu-alone__sat_years": sat_years,
        },
    )


def test_pooling_adds_counts_and_exposure_and_narrows_intervals(tmp_path):
    from ssa.scenario import scoring
    from ssa.scenario.pool import pool

    rng = np.random.default_rng(2)
    risk_a, pc_a = rng.exponential(1e-4, (2, 40)), 10 ** rng.uniform(-7, -2, (2, 40))
    risk_b, pc_b = rng.exponential(1e-4, (2, 25)), 10 ** rng.uniform(-7, -2, (2, 25))
    _decisions(tmp_path / "sweep" / "a", risk_a, pc_a, 2.0)
    _decisions(tmp_path / "sweep" / "b", risk_b, pc_b, 3.0)
    both = pool([tmp_path / "sweep"], n_boot=50)["participants"]["eu-alone"]
    one = pool([tmp_path / "sweep" / "a"], n_boot=50)["participants"]["eu-alone"]
    n_man = np.sum(pc_a >= 1e-4) + np.sum(pc_b >= 1e-4)
    assert both["manoeuvres_per_sat_year"]["value"] == pytest.approx(n_man / 2 / 5.0)
    assert both["events"] == 40 + 25 + 20
    n90, _ = scoring.manoeuvres_for_reduction(
        np.concatenate([risk_a, risk_b], axis=1), np.concatenate([pc_a, pc_b], axis=1)
    )
    assert both["manoeuvres_per_sat_year_at_90"]["value"] == pytest.approx(n90 / 2 / 5.0)
    # The same window twice: same rates, narrower Poisson interval.
    _decisions(tmp_path / "twice" / "a", risk_a, pc_a, 2.0)
    _decisions(tmp_path / "twice" / "a2", risk_a, pc_a, 2.0)
    twice = pool([tmp_path / "twice"], n_boot=50)["participants"]["eu-alone"]
    assert twice["manoeuvres_per_sat_year"]["value"] == pytest.approx(
        one["manoeuvres_per_sat_year"]["value"]
    )
    lo1, hi1 = one["manoeuvres_per_sat_year"]["poisson"]
    lo2, hi2 = twice["manoeuvres_per_sat_year"]["poisson"]
    assert hi2 - lo2 < hi1 - lo1


def test_pooling_refuses_runs_with_different_settings(tmp_path):
    from ssa.scenario.pool import pool

    _decisions(tmp_path / "a", np.ones((2, 3)) * 1e-4, np.ones((2, 3)) * 1e-3, 1.0)
    _decisions(tmp_path / "b", np.ones((3, 3)) * 1e-4, np.ones((3, 3)) * 1e-3, 1.0)
    with pytest.raises(ValueError, match="differ in Monte Carlo runs"):
        pool([tmp_path / "a", tmp_path / "b"])


def test_catalogue_maintenance_keeps_what_the_budget_can_hold():
    """A sensor that sees everything keeps about budget x span / min_tracks objects."""
    n_obj, n_bins, span_bins, bin_d = 3000, 60, 10, 8.0 / 24.0
    budget = 300.0  # tracks a day
    passes = np.ones((1, n_obj), dtype=np.int32)

    def error(m, idx, since, n):
        with np.errstate(divide="ignore"):
            return np.where(n > 0, 1000.0 * (1 + since) ** 3 / np.sqrt(np.maximum(n, 1)), np.inf)

    tracks = tk.replan(
        lambda b: passes,
        np.array([budget]),
        np.array([0]),
        lambda b: np.zeros((1, n_obj), dtype=bool),
        n_bins,
        bin_d,
        predicted_error=error,
        span_bins=span_bins,
        gate=10_000.0,
    )
    in_span = tracks[0, :, -span_bins:].sum(axis=1)
    kept = np.sum(in_span >= 3)
    most = budget * span_bins * bin_d / 3
    assert 0.6 * most <= kept <= most + 1
    # Round-robin over everything would leave every object below 3 tracks a span.
    assert np.sum(in_span >= 1) < n_obj


def test_visibility_cache_returns_what_the_kernel_computes(tmp_path, shipped):
    """Cached passes equal a fresh run; a changed sensor geometry is not served from cache."""
    from ssa.scenario.sensors import load_sensors

    table = load_sensors(SCENARIOS / "sensors.csv")
    table = table.subset(np.array([table.index("ES-S3TSR"), table.index("FR-GRAVES")]))
    cat = shipped.subset(np.arange(len(shipped)) < 300)
    jd0, fr0 = float(np.median(cat.epoch_jd)), 0.5
    args = (cat, table, jd0, fr0, -86400.0, 3, 28800.0, 120.0)
    fresh = tk.visibility_passes(*args)
    assert fresh.sum() > 0
    first = tk.visibility_passes(*args, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("passes-*.npy"))) == 2
    again = tk.visibility_passes(*args, cache_dir=tmp_path)
    assert np.array_equal(fresh, first) and np.array_equal(fresh, again)
    moved = table.subset(np.array([0, 1]))
    moved.min_el_deg[0] += 20.0  # S3TSR now sees less: must be recomputed
    fewer = tk.visibility_passes(cat, moved, *args[2:], cache_dir=tmp_path)
    assert len(list(tmp_path.glob("passes-*.npy"))) == 3
    assert fewer[0].sum() < fresh[0].sum() and np.array_equal(fewer[1], fresh[1])


def test_keyed_truth_normals_are_standard_and_keyed_per_event():
    from scipy import stats

    from ssa.scenario.truth import hash_u64, keyed_normals

    keys = hash_u64(np.arange(100_000, dtype=np.uint64))
    z = keyed_normals(keys, 20240705, 0, 7, 6)
    # Kolmogorov-Smirnov against N(0, 1) per column; independent columns and runs.
    for col in range(6):
        assert stats.kstest(z[:, col], "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[:, 0], z[:, 3])[0, 1]) < 0.02
    other_run = keyed_normals(keys, 20240705, 1, 7, 6)
    assert abs(np.corrcoef(z[:, 0], other_run[:, 0])[0, 1]) < 0.02
    # An event's numbers do not depend on which other events are drawn with it.
    assert np.array_equal(keyed_normals(keys[5::11], 20240705, 0, 7, 6), z[5::11])
