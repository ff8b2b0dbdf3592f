"""Screening volumes: --volume R,T,N keeps exactly the encounters that enter the RTN
ellipsoid, checked against dense SGP4 sampling around each TCA."""

from __future__ import annotations

import numpy as np
import pytest

from ssa.errors import UserError
from ssa.geometry.frames import rtn_components
from ssa.screening import screen
from ssa.screening.volume import apply_volume, ellipsoid_entry, parse_volume

PRIMARY = 38013  # ASAP-S: many fast crossings with Starlinks on the shipped snapshot
AXES_KM = (1.0, 5.0, 5.0)
SAMPLE_HALF_S, SAMPLE_STEP_S = 60.0, 0.01  # dense SGP4 sampling around each TCA
EDGE = 1e-3  # rows this close to the ellipsoid's surface are not judged


@pytest.fixture(scope="module")
def screened(shipped):
    catalog = shipped
    result = screen(catalog, days=0.1, threshold_km=max(AXES_KM), primaries=[PRIMARY])
    sats = dict(zip(catalog.norad_id.tolist(), catalog.satrecs, strict=True))
    return result, sats


def _q_min_sampled(rows, k, sats, axes):
    t = np.arange(-SAMPLE_HALF_S, SAMPLE_HALF_S + SAMPLE_STEP_S, SAMPLE_STEP_S)
    jd = np.full(len(t), rows["TCA_JD"][k])
    fr = rows["TCA_FR"][k] + t / 86400.0
    _, r1, v1 = sats[int(rows["NORAD_CAT_ID_1"][k])].sgp4_array(jd, fr)
    _, r2, _ = sats[int(rows["NORAD_CAT_ID_2"][k])].sgp4_array(jd, fr)
    p = rtn_components(r1, v1, r2 - r1)
    return float(np.min(np.sum((p / np.asarray(axes)) ** 2, axis=1)))


def test_ellipsoid_entry_matches_dense_sampling(screened):
    result, sats = screened
    rows = result.rows
    inside, q, slow = ellipsoid_entry(rows, AXES_KM)
    assert len(rows["TCA_JD"]) >= 5 and inside.any() and (~inside).any()
    judged = 0
    for k in np.flatnonzero(~slow):
        sampled = _q_min_sampled(rows, k, sats, AXES_KM)
        if abs(sampled - 1.0) > EDGE:
            assert (sampled <= 1.0) == inside[k], (k, sampled, q[k])
            judged += 1
        assert q[k] == pytest.approx(sampled, rel=1e-3, abs=1e-6)
    assert judged >= 5


def test_apply_volume_filters_rows_and_records_it(screened):
    import copy

    result = copy.deepcopy(screened[0])
    inside, _, _ = ellipsoid_entry(result.rows, AXES_KM)
    dropped = apply_volume(result, AXES_KM)
    assert dropped == int((~inside).sum()) and len(result) == int(inside.sum())
    assert result.run["inputs"]["volume_rtn_km"] == list(AXES_KM)
    assert parse_volume("0.5,25,25") == (0.5, 25.0, 25.0)
    with pytest.raises(UserError, match="three positive semi-axes"):
        parse_volume("0.5,25")
