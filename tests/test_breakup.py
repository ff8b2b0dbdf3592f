"""NASA Standard Breakup Model: the model's laws (counts, A/m, delta-v) against numbers
worked out by hand from Johnson et al. 2001, the stated mass rule, seeds, and the
fragments' element sets against their states (real SGP4, real catalogue)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sgp4.api import SatrecArray

from ssa.breakup import model
from ssa.breakup.event import Body, breakup, draw_cloud, largest_size_m
from ssa.breakup.fit import fit_states
from ssa.catalog import Catalog
from ssa.errors import UserError
from ssa.geometry.timeutil import datetime_to_jd

N_SEEDS = 200
SIGMAS = 4.0  # tolerance of statistical checks, in standard errors
FIT_TOLERANCE_KM = 1e-3  # the 1 m
MASS_RTOL = 1e-9  # the mass rule is exact up to float rounding
# A LEO state (km, km/s), circular at 780 km, i = 86 deg: an Iridium-like orbit.
R_LEO = np.array([7158.0, 0.0, 0.0])
V_LEO = np.array([0.0, 7.4622 * np.cos(np.radians(86.4)), 7.4622 * np.sin(np.radians(86.4))])


def _body(mass, kind="spacecraft", name="PARENT", norad=1):
    return Body(norad, name, mass, R_LEO, V_LEO, kind)


@pytest.fixture(scope="module")
def catalog(shared_file):
    return Catalog.load(
        shared_file("catalog-2024-11-01.omm.csv"), satcat=shared_file("satcat-2025-03.csv.gz")
    )


# --- the model's laws -----------------------------------------------------------------


def test_catastrophic_threshold_is_40_j_per_g():
    # 0.5 m v^2 / M = 40 J/g at m = 0.8 kg, v = 10 km/s, M = 1000 kg
    assert model.specific_energy_j_g(0.8, 1000.0, 10.0) == pytest.approx(40.0)
    assert model.is_catastrophic(0.8, 1000.0, 10.0)
    assert not model.is_catastrophic(0.79, 1000.0, 10.0)
    assert model.collision_mass_kg(1000.0, 0.8, 10.0) == pytest.approx(1000.8)
    assert model.collision_mass_kg(1000.0, 0.5, 10.0) == pytest.approx(50.0)  # m_p v^2


@pytest.mark.parametrize(
    "mode, bodies, kwargs, sizes",
    [
        ("explosion", [_body(1000.0, "rocket_body")], {}, (0.1, 0.3)),
        (
            "collision",
            [_body(900.0)],
            {"impactor_mass_kg": 20.0, "impact_speed_km_s": 10.0},
            (0.1, 0.3),
        ),
        # Non-catastrophic: the law's fragments above 30 cm outweigh the ejecta mass
        # m_p v^2 = 50 kg, so the mass rule removes about a quarter of them (checked below).
        ("collision", [_body(900.0)], {"impactor_mass_kg": 0.5, "impact_speed_km_s": 10.0}, (0.1,)),
    ],
)
def test_counts_follow_the_power_law_within_poisson_error(mode, bodies, kwargs, sizes):
    """Mean count >= 10 cm (and >= 30 cm) over many seeds against N(>Lc) of the law."""
    if mode == "explosion":
        law = model.n_fragments_explosion
        mass = bodies[0].mass_kg
    else:
        m = model.collision_mass_kg(
            bodies[0].mass_kg, kwargs["impactor_mass_kg"], kwargs["impact_speed_km_s"]
        )
        mass = m  # the fragmenting mass is the law's M: total (catastrophic) or ejecta

        def law(lc):
            return model.n_fragments_collision(lc, m)

    lc_max = largest_size_m(mass)
    for size in sizes:
        counts = []
        for seed in range(N_SEEDS):
            cloud = draw_cloud(bodies, mode, np.random.default_rng(seed), 0.1, **kwargs)
            counts.append(np.count_nonzero(cloud.lc_m[~cloud.remnant] >= size))
        expected = float(law(size) - law(lc_max))
        # The mass rule removes a few of the largest (sizes near lc_max) at most.
        assert (
            abs(np.mean(counts) - expected) < SIGMAS * np.sqrt(expected / N_SEEDS) + 0.02 * expected
        ), (mode, size, np.mean(counts), expected)


def test_area_to_mass_matches_the_model_means_and_spreads():
    rng = np.random.default_rng(1)
    n = 40_000
    # Lc = 1 cm (small-fragment law): mu = -0.3, sigma = 0.2 + 0.1333 * 1.5 = 0.4
    chi = np.log10(model.sample_am(rng, np.full(n, 0.01)))
    assert chi.mean() == pytest.approx(-0.3, abs=SIGMAS * 0.4 / np.sqrt(n))
    assert chi.std() == pytest.approx(0.4, rel=0.02)
    # Lc = 1 m, spacecraft: alpha 0.78, N(-0.95, 0.3) and N(-2.0, 0.3):
    # mean -1.181, sd sqrt(0.78 (0.09 + 0.9025) + 0.22 (0.09 + 4) - 1.181^2) = 0.528
    chi = np.log10(model.sample_am(rng, np.full(n, 1.0), "spacecraft"))
    assert chi.mean() == pytest.approx(-1.181, abs=SIGMAS * 0.528 / np.sqrt(n))
    assert chi.std() == pytest.approx(0.528, rel=0.02)
    # Lc = 1 m, rocket body: alpha 0.5, N(-0.9, 0.55) and N(-0.9, 0.1): mean -0.9,
    # sd sqrt(0.5 * 0.55^2 + 0.5 * 0.1^2) = 0.3953
    chi = np.log10(model.sample_am(rng, np.full(n, 1.0), "rocket_body"))
    assert chi.mean() == pytest.approx(-0.9, abs=SIGMAS * 0.3953 / np.sqrt(n))
    assert chi.std() == pytest.approx(0.3953, rel=0.02)


def test_delta_v_matches_the_model_means_and_spreads():
    rng = np.random.default_rng(2)
    n = 40_000
    am = np.full(n, 0.1)  # chi = -1
    for explosion, mean_nu in ((False, 2.0), (True, 1.65)):  # 0.9 chi + 2.9; 0.2 chi + 1.85
        dv = model.sample_dv_ms(rng, am, explosion)
        nu = np.log10(np.linalg.norm(dv, axis=1))
        assert nu.mean() == pytest.approx(mean_nu, abs=SIGMAS * 0.4 / np.sqrt(n))
        assert nu.std() == pytest.approx(0.4, rel=0.02)
        unit = dv / np.linalg.norm(dv, axis=1)[:, None]  # isotropic: mean direction 0
        assert np.all(np.abs(unit.mean(axis=0)) < SIGMAS / np.sqrt(3 * n))


# --- the mass rule ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_mass_rule_is_exact(seed):
    rng = np.random.default_rng(seed)
    cat = draw_cloud(
        [_body(900.0)], "collision", rng, 0.05, impactor_mass_kg=20.0, impact_speed_km_s=10.0
    )
    assert cat.budget["catastrophic"]
    assert cat.mass_kg.sum() == pytest.approx(920.0, rel=MASS_RTOL)
    assert 2 <= cat.remnant.sum() <= 8
    exp = draw_cloud([_body(1500.0, "rocket_body")], "explosion", rng, 0.05)
    assert exp.mass_kg.sum() == pytest.approx(1500.0, rel=MASS_RTOL)
    assert exp.remnant.sum() == 1
    # Non-catastrophic: ejecta never exceed m_p v^2; the target keeps the rest.
    non = draw_cloud(
        [_body(900.0)], "collision", rng, 0.01, impactor_mass_kg=0.5, impact_speed_km_s=10.0
    )
    assert not non.budget["catastrophic"] and non.remnant.sum() == 0
    assert non.mass_kg.sum() <= 50.0
    law_30cm = model.n_fragments_collision(0.3, 50.0) - model.n_fragments_collision(
        largest_size_m(50.0), 50.0
    )
    assert np.count_nonzero(non.lc_m >= 0.3) <= law_30cm + SIGMAS * np.sqrt(law_30cm)
    assert non.mass_kg.sum() + non.budget["stays_with_target_kg"] == pytest.approx(900.5)


# --- element sets ------------------------------------------------------------------------


def test_fit_reproduces_real_catalogue_states(catalog):
    rng = np.random.default_rng(5)
    sub = catalog.subset(rng.choice(len(catalog), 400, replace=False))
    jd, fr = catalog.epoch_median()
    err, r, v = sub.satrec_array().sgp4(np.array([jd]), np.array([fr + 0.3]))
    good = err[:, 0] == 0
    fit = fit_states(r[good, 0], v[good, 0], jd, fr + 0.3, bstar=sub.bstar[good])
    leo = sub.regime[good] == "LEO"
    assert fit.ok[leo].all()
    assert fit.ok.mean() > 0.99  # a few near-equatorial GEO objects may fail
    err2, r2, _ = (
        sub.subset(np.flatnonzero(good)[fit.ok])
        .satrec_array()
        .sgp4(np.array([jd]), np.array([fr + 0.3]))
    )
    sats = [s for s in fit.satrecs if s is not None]
    _, r3, _ = SatrecArray(sats).sgp4(np.array([jd]), np.array([fr + 0.3]))
    assert np.max(np.linalg.norm(r3 - r2, axis=2)) < FIT_TOLERANCE_KM


def _run(catalog, seed=3, **kw):
    jd, fr = catalog.epoch_median()
    args = {
        "mode": "collision",
        "parent_mass_kg": 900.0,
        "impactor_mass_kg": 20.0,
        "impact_speed_km_s": 10.0,
        **kw,
    }
    return breakup(catalog, 43013, jd, fr, seed=seed, **args)


def test_fragments_start_at_the_parent_and_conserve_mass(catalog):
    res = _run(catalog)
    frag = res.fragments
    assert len(frag) > 500 and set(frag.name) == {"NOAA 20 (JPSS-1) DEB"}
    err, r, v = frag.satrec_array().sgp4(np.array([res.jd]), np.array([res.fr]))
    assert not err.any()
    parent = res.bodies[0]
    gap = np.linalg.norm(r[:, 0] - parent.r_km, axis=1)
    assert np.max(gap) < FIT_TOLERANCE_KM
    assert np.linalg.norm(r[:, 0].mean(axis=0) - parent.r_km) < FIT_TOLERANCE_KM
    dv = (v[:, 0] - parent.v_kms) * 1e3
    assert np.allclose(dv, res.cloud.dv_ms[res.orbiting], atol=1e-3)  # mm/s
    b = res.mass_budget()
    assert b["written_mass_kg"] + b["not_orbiting_mass_kg"] == pytest.approx(920.0)
    assert np.all(frag.norad_id >= 270000) and np.all(frag.norad_id <= 339999)
    assert not np.isin(frag.norad_id, catalog.norad_id).any()


def test_same_seed_same_fragments(catalog):
    a, b, c = _run(catalog, 4), _run(catalog, 4), _run(catalog, 5)
    for attr in ("norad_id", "mean_motion_rad_min", "eccentricity", "bstar"):
        assert np.array_equal(getattr(a.fragments, attr), getattr(b.fragments, attr))
    assert len(a.fragments) != len(c.fragments) or not np.array_equal(
        a.fragments.mean_motion_rad_min, c.fragments.mean_motion_rad_min
    )


def test_catalogued_impactor_both_fragment(shared_file):
    # CARA CDM: AQUA 27424 vs FENGYUN 1C DEB 31201, TCA 2023-08-23 16:55:42 (SGP4: 3.99 km)
    cat = Catalog.load(shared_file("catalog-2023-09-04.3le"))
    jd, fr = datetime_to_jd(dt.datetime(2023, 8, 23, 16, 50, tzinfo=dt.timezone.utc))
    res = breakup(
        cat,
        27424,
        jd,
        fr,
        "collision",
        impactor_id=31201,
        parent_mass_kg=2934.0,
        impactor_mass_kg=0.5,
        seed=1,
        lc_min_m=0.05,
    )
    assert res.miss_km == pytest.approx(3.99, abs=0.05)
    # TCA within a second of the CDM's
    tca = dt.datetime(2023, 8, 23, 16, 55, 42, tzinfo=dt.timezone.utc)
    got = datetime_to_jd(tca)
    assert abs((res.jd - got[0]) + (res.fr - got[1])) * 86400 < 2.0
    assert res.mass_budget()["impact_speed_km_s"] > 5.0
    assert not res.mass_budget()["catastrophic"]  # 0.5 kg on 2.9 t


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"parent_mass_kg": -5.0}, "positive"),
        ({"impact_speed_km_s": 0.0}, "positive"),
        ({"impactor_mass_kg": float("nan")}, "positive"),
        ({"mode": "implosion"}, "mode"),
    ],
)
def test_bad_values_are_clear_errors(catalog, kwargs, match):
    with pytest.raises(UserError, match=match):
        _run(catalog, **kwargs)


def test_parent_not_in_catalogue_or_time_too_far(catalog):
    jd, fr = catalog.epoch_median()
    with pytest.raises(UserError, match="not in the catalogue"):
        breakup(catalog, 99, jd, fr, "explosion", parent_mass_kg=10.0)
    with pytest.raises(UserError, match="within"):
        breakup(catalog, 43013, jd + 45, fr, "explosion", parent_mass_kg=10.0)
    with pytest.raises(UserError, match="--parent-mass-kg"):
        breakup(catalog, 43013, jd, fr, "explosion", masses={})


def test_validation_geometry_reproduces_the_published_collision_speed():
    from ssa.breakup.validate import EVENTS, event_bodies

    event = next(e for e in EVENTS if e.key == "iridium-cosmos")
    cosmos, iridium = event_bodies(event)
    assert np.linalg.norm(cosmos.r_km - iridium.r_km) < 1e-6
    # 11.55 km/s where the planes cross at 72.5 deg N (published: 11.7 km/s)
    assert np.linalg.norm(cosmos.v_kms - iridium.v_kms) == pytest.approx(11.7, abs=0.2)
    assert np.degrees(np.arcsin(cosmos.r_km[2] / np.linalg.norm(cosmos.r_km))) == pytest.approx(
        72.5
    )


# --- drag and public cataloguing -----------------------------------------------------


def test_sgp4_density_law_and_the_exponential_table():
    from ssa.breakup import drag

    # SGP4's law: 2.461e-8 kg/m^3 x (42 km / (h - 78 km))^4 (rho0 x R_E = 0.15697 kg/m^2
    # and 2.461e-8 kg/m^3 are both published, rounded: they agree to 2e-6)
    np.testing.assert_allclose(drag.sgp4_density_kg_m3(130.0), 2.461e-8 * (42 / 52) ** 4, rtol=1e-5)
    # the table at its own base heights (Vallado table 8-4)
    np.testing.assert_allclose(drag.density_kg_m3([450.0, 800.0]), [1.585e-12, 1.170e-14])
    # unscaled B* is the physical one: 0.15697 x Cd x A/m / 2
    np.testing.assert_allclose(drag.bstar_from_am(0.1), 0.15696615 * 2.2 * 0.1 / 2)
    # SGP4's law overstates the air 20-30x at 800 km, about 3x at 480 km
    ratio = drag.bstar_from_am(0.1, perigee_km=[480.0, 800.0]) / drag.bstar_from_am(0.1)
    assert 0.2 < ratio[0] < 0.5 and 0.02 < ratio[1] < 0.07


def test_matched_bstar_is_that_of_real_fragments(shared_file):
    """Model fragments >= 10 cm at Fengyun-1C's 770 km perigee get B* within a factor 3 of
    the catalogued Fengyun-1C debris' (median, 2023-09 snapshot: solar-cycle rise)."""
    from ssa.breakup.drag import bstar_from_am

    cat = Catalog.load(shared_file("catalog-2023-09-04.3le"))
    real = cat.bstar[np.array(["FENGYUN 1C DEB" in str(n) for n in cat.name])]
    rng = np.random.default_rng(1)
    lc = model.sample_lc(rng, 5000, 0.1, 1.0, 1.71)
    sim = bstar_from_am(model.sample_am(rng, lc, "spacecraft"), perigee_km=770.0)
    assert real.size > 1000
    assert 1 / 3 < np.median(sim) / np.median(real) < 3


def test_public_cataloguing_delay_follows_the_real_curve():
    from ssa.breakup.cataloguing import (
        CURVE_DAYS,
        PUBLIC_CATALOGUED_SHARE,
        public_delay_days,
        public_share,
    )

    rng = np.random.default_rng(2)
    lc = np.concatenate([rng.uniform(0.01, 0.099, 500), rng.uniform(0.1, 2.0, 2000)])
    d = public_delay_days(lc)
    assert np.all(np.isinf(d[:500]))  # below 10 cm: never public
    big = d[500:]
    for day, share in zip(CURVE_DAYS, PUBLIC_CATALOGUED_SHARE, strict=True):
        assert abs(np.mean(big <= day) - share) <= 1.0 / big.size + 1e-9
    np.testing.assert_allclose(public_share(CURVE_DAYS), PUBLIC_CATALOGUED_SHARE)
    # the largest first
    ranked = big[np.argsort(-lc[500:])]
    assert np.all(ranked[1:] >= ranked[:-1])
    assert np.mean(big <= 1.0) < 0.001  # almost nothing public on the first day
