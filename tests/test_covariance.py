"""TLE covariance model and RTN <-> inertial rotation."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import stats

from ssa.cdm import read_cdm
from ssa.geometry import MU_KM3_S2, rtn_basis
from ssa.risk import HardBodyRadius, assess
from ssa.risk.covariance import (
    REGIMES,
    CovarianceModel,
    RegimeSigma,
    TleCovarianceModel,
    rtn_to_inertial,
)

ROTATION_ATOL = 1e-9  # relative to matrix scale; pure rotations in float64
# Foster's Pc vs the closed-form isotropic value (non-central chi-square), both
# double precision; Foster integrates numerically to ~1e-10 relative.
ISOTROPIC_PC_RTOL = 1e-7


def test_sigmas_grow_with_age_and_in_track_dominates():
    model = TleCovarianceModel()
    ages = np.array([0.0, 0.5, 1.0, 3.0, 7.0, 14.0])
    for hp, ha in [
        (400, 420),
        (700, 720),
        (1200, 1250),
        (20000, 20200),
        (35780, 35790),
        (300, 35000),
    ]:
        s = model.rtn_sigma_m(ages, hp, ha, "PAYLOAD")
        assert s.shape == (len(ages), 3)
        assert np.all(np.diff(s, axis=0) >= 0)  # never shrinks with age
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


def _head_on_rows(miss_km: float) -> dict:
    """One screening row: object 2 crosses object 1 at right angles, miss_km radially."""
    r1 = np.array([7000.0, 0.0, 0.0])
    v1 = np.array([0.0, np.sqrt(MU_KM3_S2 / 7000.0), 0.0])
    r2 = r1 + [miss_km, 0.0, 0.0]
    v2 = np.array([0.0, 0.0, np.sqrt(MU_KM3_S2 / np.linalg.norm(r2))])
    rows = {
        "NORAD_CAT_ID_1": np.array([1]),
        "NORAD_CAT_ID_2": np.array([2]),
        "DSE_1": np.array([1.0]),
        "DSE_2": np.array([2.0]),
        "FLAGS": np.array([""], dtype=object),
    }
    for k, (r, v) in ((1, (r1, v1)), (2, (r2, v2))):
        for a, x, y in zip("XYZ", r, v, strict=True):
            rows[f"{a}{k}_KM"] = np.array([x])
            rows[f"V{a}{k}_KMS"] = np.array([y])
    return rows


def test_pluggable_model_drives_assess():
    """A model passed to assess() sets the sigmas and, through them, the Pc."""
    sigma_m, miss_km, hbr_m = 100.0, 0.2, 10.0

    class Fixed:
        def rtn_sigma_m(self, age_days, perigee_km, apogee_km, object_type):
            return np.full((np.size(age_days), 3), sigma_m)

    assert isinstance(Fixed(), CovarianceModel)
    assert isinstance(TleCovarianceModel(), CovarianceModel)
    rows = assess(
        _head_on_rows(miss_km), model=Fixed(), hbr=HardBodyRadius({1: hbr_m / 2, 2: hbr_m / 2})
    )
    for k in (1, 2):
        assert [rows[f"SIGMA{k}_{a}_M"][0] for a in "RTN"] == [sigma_m] * 3
    # Independent: isotropic combined sigma s = sqrt(2) * 100 m in the encounter
    # plane; |x|^2 / s^2 is non-central chi-square (2 dof, nc = miss^2 / s^2).
    s2 = 2 * (sigma_m / 1e3) ** 2
    expected = stats.ncx2.cdf((hbr_m / 1e3) ** 2 / s2, 2, miss_km**2 / s2)
    assert rows["PC"][0] == pytest.approx(expected, rel=ISOTROPIC_PC_RTOL)
    default = assess(_head_on_rows(miss_km), hbr=HardBodyRadius({1: hbr_m / 2, 2: hbr_m / 2}))
    assert default["PC"][0] != pytest.approx(expected, rel=0.01)


def test_regimes_replaced_by_name():
    """regimes={'GEO': ...} changes GEO objects only, whatever the dict's order."""
    geo = RegimeSigma((1.0, 2.0, 3.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    model = TleCovarianceModel(regimes={"GEO": geo})
    default = TleCovarianceModel()
    assert model.rtn_sigma_m(5.0, 35780, 35790)[0].tolist() == [1.0, 2.0, 3.0]
    for hp, ha in [(400, 420), (700, 720), (1200, 1250), (20000, 20200), (300, 35000)]:
        assert np.array_equal(model.rtn_sigma_m(5.0, hp, ha), default.rtn_sigma_m(5.0, hp, ha))
    reordered = TleCovarianceModel(regimes=dict(reversed(list(REGIMES.items()))))
    assert np.array_equal(
        reordered.rtn_sigma_m(3.0, 35780, 35790), default.rtn_sigma_m(3.0, 35780, 35790)
    )
    with pytest.raises(ValueError, match="unknown regime"):
        TleCovarianceModel(regimes={"LEO": geo})


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
    assert np.allclose(b @ cov @ b.T, cov_rtn, atol=ROTATION_ATOL)
    six = np.diag([1.0, 9.0, 0.25, 1e-6, 4e-6, 1e-6])
    b6 = np.block([[b, np.zeros((3, 3))], [np.zeros((3, 3)), b]])
    assert np.allclose(b6 @ rtn_to_inertial(r, v, six[None])[0] @ b6.T, six, atol=ROTATION_ATOL)


def test_real_cdm_covariance_keeps_its_eigenvalues(ssa_data):
    cdm = read_cdm(
        ssa_data / "cara-cdm" / "000025994_conj_000026132_20220224_100307_20220221_225515.cdm"
    )
    seg = cdm.objects[0]
    s = seg.state_km
    c = seg.covariance_rtn
    ci = rtn_to_inertial(s[:3], s[3:], c)
    assert np.allclose(np.linalg.eigvalsh(ci), np.linalg.eigvalsh(c), rtol=1e-9, atol=1e-12)
