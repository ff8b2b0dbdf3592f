"""Decisions and scoring stages on synthetic encounters (no catalog needed)."""

from __future__ import annotations

import numpy as np
import pytest

from ssa.geometry import rtn_to_inertial_cov
from ssa.risk.pc import pc_foster
from ssa.scenario import decisions as dec
from ssa.scenario import scoring

# Monte Carlo tolerances (statistical, many draws).
CORRELATION_TOL = 0.02
DIAGONAL_TOL = 0.1


def encounters(n, seed=0, max_miss_km=1.0, hbr_m=10.0):
    """Return exact-TCA states: r2 - r1 normal to v2 - v1, miss uniform in [0, max]."""
    rng = np.random.default_rng(seed)
    r1 = np.tile([7000.0, 0.0, 0.0], (n, 1))
    v1 = np.tile([0.0, 7.5, 0.0], (n, 1))
    ang = rng.uniform(0.3, np.pi - 0.3, n)
    v2 = np.stack([np.zeros(n), 7.5 * np.cos(ang), 7.5 * np.sin(ang)], axis=1)
    rel = v2 - v1
    # Miss direction: a random unit vector normal to the relative velocity.
    a = np.cross(rel, rng.standard_normal((n, 3)))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    miss = rng.uniform(0.0, max_miss_km, n)
    r2 = r1 + a * miss[:, None]
    return r1, v1, r2, v2, np.full(n, hbr_m)


def test_perfect_knowledge_reduces_exactly_the_risk_above_the_threshold():
    n = 3000
    # Small hard bodies: the largest Pc is a few 1e-4, so the 1e-4 threshold splits the risk.
    r1, v1, r2, v2, hbr = encounters(n, hbr_m=1.0)
    ref = (np.array([10.0, 100.0, 10.0]) * 1e-3) ** 2
    c1 = rtn_to_inertial_cov(r1, v1, np.broadcast_to(ref, (n, 3)))
    c2 = rtn_to_inertial_cov(r2, v2, np.broadcast_to(ref, (n, 3)))
    # Truth's risk, through the shared Foster entry point.
    risk, _ = pc_foster(r1, v1, c1, r2, v2, c2, hbr)
    # A participant that knows the truth exactly and uses the reference covariance.
    valid = np.ones((n, 1), dtype=bool)
    zero = np.zeros((n, 1, 3))
    pc = dec.pc_series(r1, v1, r2, v2, hbr, zero, zero, c1[:, None], c2[:, None], valid)
    man = pc[:, 0] >= 1e-4
    expected = risk[risk >= 1e-4].sum() / risk.sum()
    assert 0.05 < expected < 0.999  # the test is not trivial
    assert scoring.reduction_at(risk[None], man[None]) == pytest.approx(expected, rel=1e-6)


def test_zero_information_knowledge_follows_the_chance_diagonal():
    n = 6000
    r1, v1, r2, v2, hbr = encounters(n, seed=1)
    ref = (np.array([10.0, 100.0, 10.0]) * 1e-3) ** 2
    risk, _ = pc_foster(
        r1,
        v1,
        rtn_to_inertial_cov(r1, v1, np.broadcast_to(ref, (n, 3))),
        r2,
        v2,
        rtn_to_inertial_cov(r2, v2, np.broadcast_to(ref, (n, 3))),
        hbr,
    )
    # Knowledge no better than 30 km: the estimate is noise around the truth.
    sig_km = 30.0
    rng = np.random.default_rng(2)
    err1 = rng.standard_normal((n, 1, 3)) * sig_km
    err2 = rng.standard_normal((n, 1, 3)) * sig_km
    cov = np.broadcast_to(np.eye(3) * sig_km**2, (n, 1, 3, 3))
    pc = dec.pc_series(r1, v1, r2, v2, hbr, err1, err2, cov, cov, np.ones((n, 1), bool))[:, 0]
    for q in (0.2, 0.5, 0.8):
        thr = np.quantile(pc, 1 - q)
        man = pc >= thr
        assert abs(scoring.reduction_at(risk, man) - man.mean()) < DIAGONAL_TOL


def test_successive_errors_have_the_stated_correlation():
    rho = dec.successive_correlation(8.0, 3.5)
    assert rho == pytest.approx(1 - 8 / 84)
    z = dec.ar1_normals(np.random.default_rng(4), (20000, 12, 3), rho)
    lag1 = np.mean(z[:, 1:] * z[:, :-1])
    assert lag1 == pytest.approx(rho, abs=CORRELATION_TOL)
    assert np.var(z[:, -1]) == pytest.approx(1.0, abs=CORRELATION_TOL)  # stationary
    # Independent draws would have no lag-1 correlation at all.
    z0 = dec.ar1_normals(np.random.default_rng(4), (20000, 12, 3), 0.0)
    assert abs(np.mean(z0[:, 1:] * z0[:, :-1])) < CORRELATION_TOL


def test_commit_time_picks_the_last_assessment_before_it():
    tca = np.array([5.0, 5.3]) * 86400
    t, valid = dec.assessment_times(tca, 0.0, 7.0, 8.0, 0.5)
    k = dec.commit_index(t, valid, tca, 1.0)
    for e in range(2):
        tk = t[e, k[e]]
        assert tk <= tca[e] - 86400 and tk + 8 * 3600 > tca[e] - 86400
        assert t[e, valid[e]].min() >= tca[e] - 7 * 86400


def test_decision_metrics_count_flips_workload_and_warning():
    pc = np.array([[1e-8, 2e-5, 2e-4, 5e-5, 3e-4, 1e-3]])
    t = np.arange(6)[None, :] * 8 * 3600.0
    tca = np.array([t[0, -1] + 86400.0 * 1.01])
    m = dec.decision_metrics(pc, t, np.ones_like(pc, bool), tca, 1.0, 1e-4)
    assert m["manoeuvre"][0] and m["pc_commit"][0] == 1e-3
    assert m["flips"][0] == 3  # below, above, below, above
    assert m["workload"][1e-5][0] and m["workload"][1e-7][0]
    assert m["warning_h"][0] == pytest.approx((tca[0] - t[0, 1]) / 3600)


def test_manoeuvres_for_ninety_percent_risk_reduction():
    risk = np.array([[0.5, 0.3, 0.15, 0.05]])
    pc = np.array([[1e-3, 1e-4, 1e-5, 1e-6]])
    assert scoring.manoeuvres_for_reduction(risk, pc) == (3.0, True)
    # Ranked badly: the two riskiest events have the lowest Pc.
    pc_bad = np.array([[1e-6, 1e-5, 1e-3, 1e-4]])
    assert scoring.manoeuvres_for_reduction(risk, pc_bad) == (4.0, True)
    # Risk only in an event with Pc 0: half of the zero-Pc events on average.
    n, ok = scoring.manoeuvres_for_reduction(
        np.array([[0.0, 1.0, 1.0]]), np.array([[1e-3, 0.0, 0.0]])
    )
    assert not ok and n == pytest.approx(1 + 0.9 * 2)


def test_scheduler_never_exceeds_budgets_and_serves_partners_first():
    from ssa.scenario.tasking import schedule

    rng = np.random.default_rng(5)
    passes = rng.poisson(1.5, (4, 500, 3))
    budget = np.array([50.0, 400.0, np.nan, 2000.0])
    member = np.array([0, 0, 1, 1])
    prio = np.zeros((2, 500), dtype=bool)
    prio[0, :30] = True
    tracks = schedule(passes, budget, member, prio, seed=1)
    assert np.all(tracks <= passes)
    used = tracks.sum(axis=1)  # (S, D)
    assert np.all(used[[0, 1, 3]] <= budget[[0, 1, 3], None])
    assert np.array_equal(tracks[2], passes[2])  # unlimited: every pass
    # Sensor 0 (50 a day) tracks every visible partner before anything else.
    vis_partner = passes[0, :30] > 0
    assert np.all(tracks[0, :30][vis_partner] >= 1)
    # A budget large enough buys further passes of the same objects.
    assert used[3].max() > np.sum(passes[3] > 0, axis=0).min()


def test_pc_bound_never_skips_a_pc_above_the_floor():
    """pc_series only skips encounters whose exact Pc (ssa.risk.pc.pc_2d) is below PC_FLOOR."""
    from ssa.geometry import encounter_frame
    from ssa.risk.pc import pc_2d

    n = 4000
    rng = np.random.default_rng(8)
    r1, v1, r2, v2, hbr = encounters(n, seed=3, max_miss_km=5.0, hbr_m=20.0)
    sig = 10 ** rng.uniform(-2.5, 0.5, (n, 3))  # 3 m .. 3 km per axis, any shape
    cov = rtn_to_inertial_cov(r1, v1, sig**2)[:, None]
    zero = np.zeros((n, 1, 3))
    pc = dec.pc_series(r1, v1, r2, v2, hbr, zero, zero, cov, cov, np.ones((n, 1), bool))[:, 0]
    plane = encounter_frame(r1, v1, r2, v2)[:, [0, 2], :]
    miss = np.einsum("nij,nj->ni", plane, r2 - r1)
    exact, _ = pc_2d(miss, np.einsum("nij,njk,nlk->nil", plane, 2 * cov[:, 0], plane), hbr)
    skipped = pc == 0
    assert skipped.sum() > n / 4  # the bound does skip work
    assert np.all(exact[skipped] < dec.PC_FLOOR)
    assert np.allclose(pc[~skipped], exact[~skipped], rtol=1e-9, atol=0)
