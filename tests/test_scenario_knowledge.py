"""Knowledge model: more tracking never worsens a participant's uncertainty."""

from __future__ import annotations

import numpy as np

from ssa.scenario import knowledge as kn

SECONDS_PER_DAY = 86400.0


def setup(n=400, n_sensors=5, seed=1):
    rng = np.random.default_rng(seed)
    perigee = rng.uniform(300, 3000, n)
    sigma0 = kn.sensor_sigma0_m(rng.uniform(10, 150, n_sensors),
                                rng.uniform(0.001, 0.08, n_sensors),
                                rng.random(n_sensors) < 0.4, perigee)
    growth = kn.growth_m_per_day2(perigee)
    public = rng.uniform(100, 5000, (n, 3))
    tca = rng.uniform(0, 3, n) * SECONDS_PER_DAY
    last = np.where(rng.random((n_sensors, n)) < 0.5,
                    rng.uniform(-3, 0, (n_sensors, n)) * SECONDS_PER_DAY, np.nan)
    return rng, public, last, sigma0, growth, tca


def total_var(sig):
    return np.sum(sig ** 2, axis=-1)


def test_sigma_grows_with_time_since_last_track():
    sigma0 = kn.sensor_sigma0_m([30.0], [0.03], [False], [700.0])[0]
    growth = kn.growth_m_per_day2([700.0])
    dts = np.linspace(0, 7, 50)
    sig = np.array([kn.tracked_sigma_m(sigma0, growth, np.array([d]))[0] for d in dts])
    assert np.all(np.diff(sig, axis=0) >= 0)
    assert np.all(sig[0] == sigma0[0])


def test_more_tracking_never_worsens_knowledge():
    rng, public, last, sigma0, growth, tca = setup()
    usable = np.ones(last.shape, dtype=bool)
    base, _ = kn.best_knowledge(public, last, usable, sigma0, growth, tca)
    assert np.all(total_var(base) <= total_var(public))
    # later tracks on some sensors/objects
    later = last.copy()
    mask = rng.random(last.shape) < 0.3
    later[mask] = np.fmax(later[mask], 0.0) + rng.uniform(0, 1, mask.sum()) * SECONDS_PER_DAY
    more, _ = kn.best_knowledge(public, later, usable, sigma0, growth, tca)
    assert np.all(total_var(more) <= total_var(base))
    # access to fewer sensors can only worsen it
    fewer = usable.copy()
    fewer[rng.random(fewer.shape) < 0.5] = False
    less, _ = kn.best_knowledge(public, last, fewer, sigma0, growth, tca)
    assert np.all(total_var(less) >= total_var(base))
    assert np.any(total_var(less) > total_var(base))


def test_untracked_objects_keep_public_quality():
    _, public, last, sigma0, growth, tca = setup()
    none = np.full(last.shape, np.nan)
    sig, source = kn.best_knowledge(public, none, np.ones(last.shape, bool), sigma0, growth, tca)
    assert np.array_equal(sig, public) and np.all(source == kn.PUBLIC)


def test_fresh_radar_track_beats_public_tle():
    # A LEO object tracked 2 h before TCA: the fit is metres-to-hundreds of metres, the
    # public TLE of that age ~1 km in-track (CARA medians vs Kelso, shared/grouping README).
    sigma0 = kn.sensor_sigma0_m([30.0], [0.03], [False], [700.0])
    sig = kn.tracked_sigma_m(sigma0[0], kn.growth_m_per_day2([700.0]), np.array([2 / 24]))
    assert sig[0, 1] < 200.0 and sig[0, 0] < 30.0


def test_estimate_matches_risk_pc_foster_at_tca():
    """The assessment's Pc (own encounter-plane projection + ssa.risk.pc.pc_2d) equals
    ssa.risk.pc.pc_foster for states at TCA (relative position normal to velocity)."""
    from ssa.risk.covariance import rtn_basis
    from ssa.risk.pc import pc_foster
    from ssa.scenario.assess import PC_BOUND_FRACTION, _estimate

    rng = np.random.default_rng(5)
    n = 3000
    r1 = rng.normal(size=(n, 3))
    r1 *= 7000.0 / np.linalg.norm(r1, axis=1, keepdims=True)
    v1 = np.cross(r1, rng.normal(size=(n, 3)))
    v1 *= 7.5 / np.linalg.norm(v1, axis=1, keepdims=True)
    v2 = v1 + rng.normal(size=(n, 3)) * 7.0
    d = rng.normal(size=(n, 3)) * 0.3
    u = (v2 - v1) / np.linalg.norm(v2 - v1, axis=1, keepdims=True)
    r2 = r1 + d - np.sum(d * u, axis=1, keepdims=True) * u     # at TCA: miss normal to dv
    s1, s2 = rng.uniform(10, 2000, (n, 3)), rng.uniform(10, 2000, (n, 3))
    hbr = np.full(n, 10.0)
    zero = np.zeros((n, 3))
    pc_threshold = 1e-4
    miss, pc = _estimate(r1, v1, r2, v2, s1, s2, zero, zero, hbr, pc_threshold)

    def cov(r, v, s):
        b = rtn_basis(r, v)
        return np.einsum("nki,nk,nkj->nij", b, (s * 1e-3) ** 2, b)

    ref, _ = pc_foster(r1, v1, cov(r1, v1, s1), r2, v2, cov(r2, v2, s2), hbr)
    assert np.allclose(miss, np.linalg.norm(r2 - r1, axis=1), rtol=1e-12)
    evaluated = ref >= PC_BOUND_FRACTION * pc_threshold
    assert np.sum(evaluated) > 100
    PC_RTOL = 1e-6  # same quadrature, same inputs up to rounding
    assert np.allclose(pc[evaluated], ref[evaluated], rtol=PC_RTOL)
    # below the bound the estimate reports 0, and never hides an alert
    assert np.all(ref[~evaluated] < pc_threshold)
    assert np.array_equal(pc >= pc_threshold, ref >= pc_threshold)
