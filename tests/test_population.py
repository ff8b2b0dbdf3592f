"""The population generator against the real 2024-11-01 catalogue: reproducible, numbers
that never clash, the anchored size law, the real debris' altitude profile, element
sets that survive SGP4 and round-trip through OMM CSV and 3LE files."""

from __future__ import annotations

import numpy as np
import pytest
from sgp4.api import SatrecArray

from ssa.catalog import Catalog
from ssa.errors import UserError
from ssa.io.write import omm_csv_lines, tle_lines
from ssa.population.generate import (
    ANALYST_NAME,
    N_GT_1CM,
    N_GT_10CM,
    SURVIVE_DAYS,
    cumulative_count,
    generate_population,
)
from ssa.population.ids import ALPHA5_FIRST, ALPHA5_MAX, WIDE_FIRST, CatalogNumberAllocator

N_SAMPLE = 20_000
# Perigee-altitude CDFs of the sample and of the real debris may differ by the jitter
# (20 km sigma) smoothing the steepest cloud edges: a few percent at most.
MAX_PERIGEE_CDF_GAP = 0.03
OMM_ROUNDTRIP_KM = 1e-5  # OMM CSV keeps 17 digits and microseconds: ~1 cm at most
# 3LE columns round angles to 1e-4 deg (1.7e-6 rad each) and the epoch to 1e-8 day:
# a few 1e-6 of the radius; twice that as the bound.
TLE_ROUNDTRIP_REL = 1e-5


@pytest.fixture(scope="module")
def base(shared_file):
    return Catalog.load(
        shared_file("catalog-2024-11-01.omm.csv"), satcat=shared_file("satcat-2025-03.csv.gz")
    )


@pytest.fixture(scope="module")
def population(base):
    return generate_population(
        base, N_SAMPLE, size_range_m=(0.01, 0.1), seed=7, analyst_objects=500
    )


def _synthetic(pop):
    return np.flatnonzero(np.isfinite(pop.diameter_m))


def test_real_objects_come_first_unchanged(base, population):
    cat = population.catalog
    n = len(base)
    assert len(cat) == n + N_SAMPLE + 500
    assert np.array_equal(cat.norad_id[:n], base.norad_id)
    assert np.array_equal(cat.mean_anomaly_rad[:n], base.mean_anomaly_rad)
    assert np.all(population.weight[:n] == 1.0) and np.all(np.isnan(population.diameter_m[:n]))


def test_same_seed_same_population_other_seed_differs(base, population):
    again = generate_population(
        base, N_SAMPLE, size_range_m=(0.01, 0.1), seed=7, analyst_objects=500
    )
    for attr in ("norad_id", "mean_motion_rad_min", "eccentricity", "raan_rad", "bstar"):
        assert np.array_equal(getattr(again.catalog, attr), getattr(population.catalog, attr))
    assert np.array_equal(again.diameter_m, population.diameter_m, equal_nan=True)
    other = generate_population(base, 1000, seed=8, include_base=False)
    assert not np.array_equal(other.diameter_m, population.diameter_m[len(base) :][:1000])


def test_numbers_unique_and_from_the_shared_allocator(base, population):
    numbers = population.catalog.norad_id
    assert np.unique(numbers).size == numbers.size
    new = numbers[len(base) :]
    assert new.min() >= ALPHA5_FIRST and new.max() <= ALPHA5_MAX
    allocator = CatalogNumberAllocator(base.norad_id)
    first = generate_population(base, 100, seed=1, allocator=allocator, include_base=False)
    second = generate_population(
        base, 100, seed=1, allocator=allocator, include_base=False, block="wide"
    )
    assert np.intersect1d(first.catalog.norad_id, second.catalog.norad_id).size == 0
    assert second.catalog.norad_id.min() >= WIDE_FIRST


def test_sizes_follow_the_anchored_law_within_poisson_error(population):
    d = population.diameter_m[_synthetic(population)][:N_SAMPLE]
    assert d.min() >= 0.01 and d.max() <= 0.1
    for cut in (0.02, 0.03, 0.05):
        expected = (
            N_SAMPLE
            * (cumulative_count(cut) - cumulative_count(0.1))
            / (cumulative_count(0.01) - cumulative_count(0.1))
        )
        observed = np.count_nonzero(d > cut)
        assert abs(observed - expected) < 4 * np.sqrt(expected), (cut, observed, expected)


def test_weights_stand_for_the_whole_population(population):
    w = population.weight[_synthetic(population)][:N_SAMPLE]
    assert np.allclose(w, w[0])
    assert w.sum() == pytest.approx(N_GT_1CM - N_GT_10CM, rel=1e-9)


def test_sample_follows_the_real_debris_altitude_profile(base):
    # Without the survival filter, which (by design) thins high-A/m objects below
    # about 700 km: 3 % of a 30-day sample.
    population = generate_population(base, N_SAMPLE, seed=7, survive_days=0.0)
    sample = population.catalog.perigee_km[len(base) : len(base) + N_SAMPLE]
    real = base.perigee_km[base.object_type == "DEBRIS"]
    grid = np.arange(200.0, 2000.0, 25.0)
    cdf_sample = np.searchsorted(np.sort(sample), grid) / sample.size
    cdf_real = np.searchsorted(np.sort(real), grid) / real.size
    assert np.max(np.abs(cdf_sample - cdf_real)) < MAX_PERIGEE_CDF_GAP
    inc_s = np.degrees(population.catalog.inclination_rad[len(base) : len(base) + N_SAMPLE])
    inc_r = np.degrees(base.inclination_rad[base.object_type == "DEBRIS"])
    # The sun-synchronous band (Fengyun-1C at 98.6-99.1 deg) and the Cosmos 2251 cloud
    # (74 deg) keep their share (bands a few times wider than the 0.3 deg jitter).
    for lo, hi in ((96.5, 100.5), (72.5, 75.5)):
        share_s = np.mean((inc_s > lo) & (inc_s < hi))
        share_r = np.mean((inc_r > lo) & (inc_r < hi))
        assert abs(share_s - share_r) < 4 * np.sqrt(share_r / N_SAMPLE) + 0.01


def test_every_synthetic_object_survives_the_window(base, population):
    idx = _synthetic(population)
    sats = [population.catalog.satrecs[i] for i in idx.tolist()]
    jd, fr = base.epoch_median()
    err, _, _ = SatrecArray(sats).sgp4(np.array([jd]), np.array([fr + SURVIVE_DAYS]))
    assert not err.any()


def test_analyst_objects_in_their_regimes(base, population):
    cat = population.catalog
    analyst = cat.name == ANALYST_NAME
    assert analyst.sum() == 500 and np.all(population.weight[analyst] == 1.0)
    # The public analyst objects are 87 % LEO; the stand-ins must be mostly LEO too.
    assert np.mean(cat.regime[analyst] == "LEO") > 0.75


def _states(catalog, jd, fr):
    err, r, _ = catalog.satrec_array().sgp4(np.array([jd]), np.array([fr]))
    assert not err.any()
    return r[:, 0]


def test_omm_csv_and_3le_round_trip(base, tmp_path):
    pop = generate_population(base, 300, seed=3, include_base=False)
    jd, fr = base.epoch_median()
    r0 = _states(pop.catalog, jd, fr + 1.0)
    omm = tmp_path / "pop.csv"
    omm.write_text("\n".join(omm_csv_lines(pop.catalog)) + "\n")
    back = Catalog.load(omm, strict=True)
    assert np.array_equal(back.norad_id, pop.catalog.norad_id)
    assert np.max(np.linalg.norm(_states(back, jd, fr + 1.0) - r0, axis=1)) < OMM_ROUNDTRIP_KM
    tle = tmp_path / "pop.3le"
    tle.write_text("\n".join(tle_lines(pop.catalog)) + "\n")
    back = Catalog.load(tle, strict=True)
    assert list(back.name) == list(pop.catalog.name)
    r = _states(pop.catalog, jd, fr)
    gap = np.linalg.norm(_states(back, jd, fr) - r, axis=1) / np.linalg.norm(r, axis=1)
    assert np.max(gap) < TLE_ROUNDTRIP_REL


def test_wide_numbers_refuse_3le(base):
    pop = generate_population(base, 5, seed=3, include_base=False, block="wide")
    with pytest.raises(UserError, match="OMM"):
        list(tle_lines(pop.catalog))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"size_range_m": (0.1, 0.01)}, "size_range_m"),
        ({"size_range_m": (1e-5, 0.01)}, "size_range_m"),
        ({"n_objects": -1}, "n_objects"),
        ({"analyst_objects": -2}, "analyst_objects"),
        ({"regimes": ("XEO",)}, "regimes|no real debris"),
    ],
)
def test_bad_input_is_a_clear_error(base, kwargs, match):
    args = {"n_objects": 10, "seed": 1, **kwargs}
    with pytest.raises(UserError, match=match):
        generate_population(base, **args)
