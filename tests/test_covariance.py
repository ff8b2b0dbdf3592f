"""TLE covariance model and RTN <-> inertial rotation."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ssa.cdm import read_cdm
from ssa.risk.covariance import (
    CovarianceModel,
    TleCovarianceModel,
    inertial_to_rtn,
    rtn_basis,
    rtn_to_inertial,
)

ROTATION_ATOL = 1e-9  # relative to matrix scale; pure rotations in float64


def test_sigmas_grow_with_age_and_in_track_dominates():
    model = TleCovarianceModel()
    ages = np.array([0.0, 0.5, 1.0, 3.0, 7.0, 14.0])
    for hp, ha in [(400, 420), (700, 720), (1200, 1250), (20000, 20200), (35780, 35790), (300, 35000)]:
        s = model.rtn_sigma_m(ages, hp, ha, "PAYLOAD")
        assert s.shape == (len(ages), 3)
        assert np.all(np.diff(s, axis=0) >= 0)               # never shrinks with age
        assert np.all(s[:, 1] > s[:, 0]) and np.all(s[:, 1] > s[:, 2])
    # Negative age (element set after the time) is as uncertain as positive.
    assert np.allclose(model.rtn_sigma_m(-2.0, 700, 720), model.rtn_sigma_m(2.0, 700, 720))


def test_drag_regime_and_debris_grow_faster():
    model = TleCovarianceModel()
    low = model.rtn_sigma_m(5.0, 350, 380, "PAYLOAD")[0, 1]
    mid = model.rtn_sigma_m(5.0, 700, 720, "PAYLOAD")[0, 1]
    high = model.rtn_sigma_m(5.0, 1400, 1450, "PAYLOAD")[0, 1]
    assert low > mid > high
    assert model.rtn_sigma_m(5.0, 350, 380, "DEBRIS")[0, 1] > low


def test_order_of_magnitude_against_published_figures(ssa_data):
    """About 1 km within a few days of epoch in LEO (Kelso); TLEs worse than CARA's SP covariances."""
    model = TleCovarianceModel()
    s = model.rtn_sigma_m(np.array([1.0, 3.0]), 700, 720, "PAYLOAD")
    total = np.linalg.norm(s, axis=1)
    assert np.all((total > 300) & (total < 5000))
    rows = list(csv.DictReader(open(ssa_data.parent / "grouping" / "cdm-covariance-summary.csv")))
    short = [r for r in rows if float(r["lead_d"]) <= 2.5]
    median_t = np.median([float(r["sigT"]) for r in short])
    median_r = np.median([float(r["sigR"]) for r in short])
    tle = model.rtn_sigma_m(2.0, 700, 720, "DEBRIS")[0]
    assert tle[1] > median_t and tle[0] > median_r


def test_model_is_pluggable():
    class Fixed:
        def rtn_sigma_m(self, age_days, perigee_km, apogee_km, object_type):
            return np.full((np.size(age_days), 3), 100.0)

    assert isinstance(Fixed(), CovarianceModel)
    assert isinstance(TleCovarianceModel(), CovarianceModel)


def test_rtn_axes_and_round_trip():
    r = np.array([[7000.0, 100.0, -50.0]])
    v = np.array([[0.1, 7.4, 1.0]])
    b = rtn_basis(r, v)[0]
    assert np.allclose(b @ b.T, np.eye(3), atol=ROTATION_ATOL)
    assert np.allclose(b[0], r[0] / np.linalg.norm(r[0]))
    cov_rtn = np.diag([1.0, 9.0, 0.25])
    cov = rtn_to_inertial(r[0], v[0], cov_rtn)
    # Variance along the radial direction is sigma_R^2, along N is sigma_N^2.
    assert b[0] @ cov @ b[0] == pytest.approx(1.0)
    assert b[2] @ cov @ b[2] == pytest.approx(0.25)
    assert np.allclose(inertial_to_rtn(r[0], v[0], cov), cov_rtn, atol=ROTATION_ATOL)
    six = np.diag([1.0, 9.0, 0.25, 1e-6, 4e-6, 1e-6])
    assert np.allclose(inertial_to_rtn(r, v, rtn_to_inertial(r, v, six[None]))[0], six,
                       atol=ROTATION_ATOL)


def test_real_cdm_covariance_keeps_its_eigenvalues(ssa_data):
    cdm = read_cdm(ssa_data / "cara-cdm" / "000025994_conj_000026132_20220224_100307_20220221_225515.cdm")
    seg = cdm.objects[0]
    s = seg.state_km
    c = seg.covariance_rtn
    ci = rtn_to_inertial(s[:3], s[3:], c)
    assert np.allclose(np.linalg.eigvalsh(ci), np.linalg.eigvalsh(c), rtol=1e-9, atol=1e-12)
