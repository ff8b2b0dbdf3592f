"""Orbit-knowledge model: monotone in tracking, common density term, CDM calibration."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssa.cli import main
from ssa.scenario import od

# Relative agreement when re-fitting the committed parameters (least squares from
# the same start: the optimiser is deterministic, so only rounding differs).
REFIT_RTOL = 1e-6


def _cdm_paths(ssa_data):
    paths = sorted((ssa_data / "cara-cdm").glob("*.cdm"))
    if not paths:
        pytest.skip("no CARA CDMs in SSA_DATA")
    return paths


def test_more_or_better_tracking_never_increases_a_sigma():
    model = od.load_model()
    rng = np.random.default_rng(3)
    lead = rng.uniform(0, 7, 500)
    info = rng.uniform(0.5, 300, 500)
    bal = rng.uniform(0.005, 1.0, 500)
    hp = rng.uniform(300, 1500, 500)
    base = model.sigma_rtn_m(lead, info, bal, hp, hp + 50)
    more = model.sigma_rtn_m(lead, info * rng.uniform(1.0, 5.0, 500)[:], bal, hp, hp + 50)
    assert np.all(more <= base)
    # A better sensor: more information per track.
    good = od.track_weight([10.0], [0.01], [False])[0]
    poor = od.track_weight([500.0], [0.2], [False])[0]
    assert good > poor
    assert np.all(
        model.sigma_rtn_m(lead, 10 * good, bal, hp, hp)
        <= model.sigma_rtn_m(lead, 10 * poor, bal, hp, hp)
    )


def test_density_term_is_the_same_whatever_the_tracking():
    model = od.load_model()
    lead = np.array([0.5, 1.0, 3.0])
    d_few = model.density_var_m2(lead, 0.2, 450.0, 470.0)
    # Infinite information leaves exactly the density term.
    s_inf = model.sigma_rtn_m(lead, np.full(3, 1e30), 0.2, 450.0, 470.0)
    assert np.allclose(s_inf[:, 1] ** 2, np.maximum(d_few[:, 1], od.SIGMA_FLOOR_M**2))
    assert np.all(d_few[:, 2] == 0)
    # It grows with lead time and falls with altitude.
    assert np.all(np.diff(d_few[:, 1]) > 0)
    assert model.density_var_m2(1.0, 0.2, 800.0, 800.0)[1] < d_few[1, 1]


def test_density_matches_the_exponential_table_at_its_nodes():
    # Vallado Table 8-4 values at base altitudes (independent literal copies).
    assert od.density_kg_m3(400.0) == pytest.approx(3.725e-12)
    assert od.density_kg_m3(800.0) == pytest.approx(1.170e-14)
    # Half a scale height above 500 km.
    assert od.density_kg_m3(500.0 + 63.822 / 2) == pytest.approx(6.967e-13 * np.exp(-0.5))


def test_ballistic_from_bstar_inverts_the_sgp4_definition():
    # B* = rho0 B / 2: ISS-like B* 3e-4 /ER -> B about 3.8e-3 m^2/kg.
    assert od.ballistic_from_bstar([3e-4], ["PAYLOAD"])[0] == pytest.approx(2 * 3e-4 / 0.15696615)
    assert od.ballistic_from_bstar([-1e-4], ["DEBRIS"])[0] == od.DEFAULT_BALLISTIC_M2_KG["DEBRIS"]


def test_calibration_reproduces_cdm_sigmas_within_the_stated_quality(ssa_data):
    paths = _cdm_paths(ssa_data)
    fitfile = json.loads(od.DEFAULT_FIT_PATH.read_text())
    objs = od.read_cdm_objects(paths)
    assert len(objs) == 2 * len(paths)
    pred = od.predict(od.load_model(), objs)
    cdm = np.array([o.sigma_rtn_m_cdm for o in objs])
    factor = 10 ** np.abs(np.log10(pred / cdm))
    stated = fitfile["leave_one_cdm_out"]["median_factor"]
    for k, axis in enumerate("RTN"):
        # In-sample error cannot exceed the cross-validated error stated in the fit file.
        assert np.median(factor[:, k]) <= stated[axis]
        # And the model beats the best constant (the CDMs' median) on every axis.
        const = 10 ** np.abs(np.log10(cdm[:, k] / np.median(cdm[:, k])))
        assert np.mean(np.log10(factor[:, k]) ** 2) < np.mean(np.log10(const) ** 2)


def test_committed_fit_is_reproducible(ssa_data):
    paths = _cdm_paths(ssa_data)
    committed = od.load_model()
    refit = od.fit(od.read_cdm_objects(paths))
    assert np.allclose(refit.log_m, committed.log_m, rtol=REFIT_RTOL)
    assert np.allclose(refit.b, committed.b, rtol=REFIT_RTOL)
    assert refit.density_error == pytest.approx(committed.density_error, rel=REFIT_RTOL)
    # The fitted fractional density error is in the published 10-25 % range (V).
    assert 0.05 < refit.density_error < 0.3


def test_calibrate_cli_json(ssa_data, capsys):
    paths = _cdm_paths(ssa_data)[:2]
    assert main(["scenario", "calibrate", "--json", *map(str, paths)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 4
    for r in rows:
        for key in (
            "file",
            "object",
            "norad_id",
            "sigma_rtn_m_cdm",
            "sigma_rtn_m_model",
            "tracks_used",
            "lead_d",
        ):
            assert key in r
        assert r["object"] in (1, 2)
        assert len(r["sigma_rtn_m_model"]) == 3 and min(r["sigma_rtn_m_model"]) > 0
    assert rows[0]["norad_id"] == int(paths[0].name[:9])


def test_calibrate_cli_names_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.cdm"
    bad.write_text("CCSDS_CDM_VERS = 1.0\nNONSENSE\n")
    assert main(["scenario", "calibrate", str(bad)]) != 0
    assert "bad.cdm" in capsys.readouterr().err
