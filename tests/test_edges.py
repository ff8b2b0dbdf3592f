"""Numerics at the edges: each case runs correctly (same conjunctions as the brute-force
oracle in tests/oracle.py, TCA within 1 ms, miss within 1 m) or is refused with a
message naming the limit."""

from __future__ import annotations

import numpy as np
import pytest

from ssa.catalog import Catalog
from ssa.screening import screen
from tests.oracle import oracle_screen
from tests.test_screening import MISS_TOL_KM, TCA_TOL_S, _as_tuples

CATALOG = "catalog-2024-07-05.3le"
DAY_S = 86400.0
YEAR_D = 365.25
GEO_BLOCK = 120  # neighbouring GEO slots: dense enough for conjunctions at 10 km


@pytest.fixture(scope="module")
def full(shared_file):
    return Catalog.load(shared_file(CATALOG))


def _agree(cat, start, days, threshold_km, min_found=1):
    """Screen cat and compare with the oracle; return the result."""
    res = screen(cat, start=start, days=days, threshold_km=threshold_km, threads=1)
    ours = _as_tuples(res, cat, *start)
    oracle = sorted(oracle_screen(cat.satrecs, start[0], start[1], days * DAY_S, threshold_km))
    assert len(oracle) >= min_found, "case too sparse to test anything"
    assert [c[:2] for c in ours] == [o[:2] for o in oracle]
    for c, o in zip(ours, oracle, strict=True):
        assert abs(c[3] - o[3]) < MISS_TOL_KM, (c, o)
        if c[3] > 0.0:  # a flat d(t) (twins) has no single TCA
            assert abs(c[2] - o[2]) < TCA_TOL_S, (c, o)
    return res


def _geo_block(full, first):
    """GEO objects (inclination < 1 deg) number first.. first+GEO_BLOCK by mean longitude."""
    geo = np.flatnonzero((full.regime == "GEO") & (full.inclination_rad < np.radians(1.0)))
    lon = np.degrees(full.raan_rad[geo] + full.argp_rad[geo] + full.mean_anomaly_rad[geo])
    return full.subset(np.sort(geo[np.argsort(lon % 360.0)][first : first + GEO_BLOCK]))


def _shell(full, n, seed=1):
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero((full.perigee_km < 580) & (full.apogee_km > 520))
    return full.subset(np.sort(rng.choice(idx, n, replace=False)))


def _with_twins(cat, q, copies, first_id=99_000):
    """cat plus `copies` objects with the very element set of object q (other numbers)."""
    n = len(cat)
    return Catalog(
        satrecs=[*cat.satrecs, *[cat.satrecs[q]] * copies],
        norad_id=[*cat.norad_id, *range(first_id, first_id + copies)],
        name=[*cat.name, *["TWIN"] * copies],
        intl_des=[""] * (n + copies),
        object_type=["UNKNOWN"] * (n + copies),
        owner=[""] * (n + copies),
        rcs_size=[""] * (n + copies),
        source=["x"] * (n + copies),
    )


@pytest.mark.slow
def test_geo_only_catalogue(full):
    _agree(_geo_block(full, 200), full.epoch_median(), 0.25, 10.0)


@pytest.mark.slow
def test_window_three_years_after_the_epochs(full):
    jd, fr = full.epoch_median()
    _agree(_geo_block(full, 0), (jd + 3 * YEAR_D, fr), 0.25, 10.0)


@pytest.mark.slow
def test_objects_reentering_mid_window(full):
    """Objects whose SGP4 fails inside the window are dropped at that time with the SGP4
    reason, and their conjunctions before it are kept (a twin of one re-entering object
    stays at 0 km until both fail)."""
    jd, fr = full.epoch_median()
    ids = [46166, 48941, 23260]  # SGP4 errors 1/6 between 13 h and 23 h after the start
    q = [int(np.flatnonzero(full.norad_id == i)[0]) for i in ids]
    near = np.flatnonzero((full.perigee_km > 150) & (full.perigee_km < 350))[:40]
    cat = full.subset(np.unique(np.concatenate([q, near])))
    cat = _with_twins(cat, int(np.flatnonzero(cat.norad_id == ids[0])[0]), 1)
    res = _agree(cat, (jd, fr), 1.0, 5.0)
    dropped = {d["norad_id"]: d for d in res.run["dropped"]}
    start, end = res.run["inputs"]["start_utc"], res.run["inputs"]["end_utc"]
    for i in ids:
        assert start < dropped[i]["t_utc"] < end
        assert dropped[i]["reason"].startswith("SGP4 error")
    twin = [k for k, a in enumerate(res.rows["NORAD_CAT_ID_1"]) if a == ids[0]]
    assert len(twin) == 1 and res.rows["TCA"][twin[0]] < dropped[ids[0]]["t_utc"]


def test_identical_twins_only(full):
    iss = full.select(ids=[25544])
    cat = _with_twins(iss, 0, 3)
    res = _agree(cat, full.epoch_median(), 0.1, 5.0, min_found=6)
    assert len(res) == 6 and np.all(res.rows["TCA_RANGE"] == 0.0)
    # Inside the threshold all window: both crossings are the window edges, flagged.
    assert set(res.rows["FLAGS"]) == {"LONG_DURATION;START_CLIPPED;STOP_CLIPPED"}


def test_threshold_500_km(full):
    _agree(_shell(full, 60), full.epoch_median(), 0.05, 500.0, min_found=10)


def test_threshold_1_m(full):
    shell = _shell(full, 100)
    res = _agree(_with_twins(shell, 7, 1), full.epoch_median(), 0.1, 0.001)
    assert len(res) == 1 and res.rows["NORAD_CAT_ID_2"][0] == 99_000


def test_window_of_a_thousandth_of_a_day(full):
    _agree(_shell(full, 800), full.epoch_median(), 0.001, 5.0)


@pytest.mark.parametrize(
    "kwargs, limit",
    [
        ({"days": 0.0}, "days must be > 0"),
        ({"days": -1.0}, "days must be > 0"),
        ({"threshold_km": 0.0}, "threshold_km must be > 0"),
        ({"days": float("nan")}, "days must be > 0"),
    ],
)
def test_refused_with_the_limit_named(full, kwargs, limit):
    with pytest.raises(ValueError, match=limit):
        screen(full.select(ids=[25544]), **kwargs)
