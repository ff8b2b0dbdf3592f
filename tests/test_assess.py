"""assess() on a screening table built from real TLEs, and CDMs written from it."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from scipy import integrate, optimize
from sgp4.api import jday

from ssa.catalog import Catalog
from ssa.cdm import read_cdm, write_kvn, write_xml
from ssa.cli import main
from ssa.risk import (
    HardBodyRadius,
    assess,
    cdms_from_result,
    write_result_cdms,
)

# Two events from ../shared/catalogs/README.md (CARA CDM TCAs inside the 2023-09-04 snapshot).
EVENTS = [
    (27424, 31201, dt.datetime(2023, 8, 23, 16, 55, 42, tzinfo=dt.timezone.utc)),
    (28654, 42397, dt.datetime(2023, 8, 30, 14, 43, 1, tzinfo=dt.timezone.utc)),
]
SNAPSHOT = "catalog-2023-09-04.3le"
PC_RTOL = 1e-6  # our Pc vs an independent dblquad built in this test
CDM_PC_RTOL = 1e-9  # the same Pc recomputed from the written CDM (frame rotation only)
STATE_ATOL_KM = 1e-6  # 1 mm: GCRF -> TEME back-rotation, two skyfield time constructions
# The covariance model's published table (ssa.risk.covariance docstring), written out
# here for the regimes of the EVENTS objects: at-epoch sigma (m), growth (m/day),
# drag growth (m/day^2), each (R, T, N); debris drag growth doubled.
MODEL_TABLE = {
    "LEO<800": ((100.0, 500.0, 150.0), (30.0, 800.0, 25.0), (3.0, 60.0, 0.0)),
    "LEO<2000": ((100.0, 400.0, 150.0), (20.0, 500.0, 20.0), (0.0, 10.0, 0.0)),
}
REGIME_OF = {27424: "LEO<800", 31201: "LEO<800", 42397: "LEO<800", 28654: "LEO<2000"}
REGIME_PERIGEE_KM = {"LEO<800": (500.0, 800.0), "LEO<2000": (800.0, 2000.0)}
DEBRIS_DRAG_FACTOR = 2.0
# Kepler semi-major axis from the TLE mean motion vs SGP4's un-Kozai'd one: a few km.
PERIGEE_MARGIN_KM = 10.0
SIGMA_RTOL = 1e-6  # ages from the printed TCA (1 ms) and the TLE epoch text


def _tle_lines(path, ids):
    lines = path.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("1 ") and line[2:7].isdigit() and int(line[2:7]) in ids:
            out += [lines[i - 1], line, lines[i + 1]]
    return out


@pytest.fixture(scope="module")
def catalog(shared_file):
    ids = {i for e in EVENTS for i in e[:2]}
    return Catalog.from_tle(_tle_lines(shared_file(SNAPSHOT), ids), source=SNAPSHOT)


def _rows(catalog):
    """A DESIGN.md screening table for EVENTS, TCA refined here by SGP4 range minimisation."""
    index = {int(n): i for i, n in enumerate(catalog.norad_id)}
    cols = {
        k: []
        for k in [
            "NORAD_CAT_ID_1",
            "OBJECT_NAME_1",
            "DSE_1",
            "NORAD_CAT_ID_2",
            "OBJECT_NAME_2",
            "DSE_2",
            "TCA",
            "TCA_RANGE",
            "TCA_RELATIVE_SPEED",
            "OBJECT_TYPE_1",
            "OBJECT_TYPE_2",
            "TCA_JD",
            "TCA_FR",
            "FLAGS",
        ]
        + [f"{a}{k}_KM" for k in (1, 2) for a in "XYZ"]
        + [f"V{a}{k}_KMS" for k in (1, 2) for a in "XYZ"]
    }
    for id1, id2, guess in EVENTS:
        s1 = catalog.satrecs[index[id1]]
        s2 = catalog.satrecs[index[id2]]
        jd, fr = jday(guess.year, guess.month, guess.day, guess.hour, guess.minute, guess.second)

        def rng(dt_s, s1=s1, s2=s2, jd=jd, fr=fr):
            _, a, _ = s1.sgp4(jd, fr + dt_s / 86400)
            _, b, _ = s2.sgp4(jd, fr + dt_s / 86400)
            return np.linalg.norm(np.subtract(b, a))

        t = optimize.minimize_scalar(
            rng, bounds=(-60, 60), method="bounded", options={"xatol": 1e-6}
        ).x
        fr_t = fr + t / 86400
        _, r1, v1 = s1.sgp4(jd, fr_t)
        _, r2, v2 = s2.sgp4(jd, fr_t)
        for k, (r, v, nid) in enumerate(((r1, v1, id1), (r2, v2, id2)), 1):
            i = index[nid]
            cols[f"NORAD_CAT_ID_{k}"].append(nid)
            cols[f"OBJECT_NAME_{k}"].append(catalog.name[i])
            cols[f"DSE_{k}"].append(float(catalog.age_days(jd, fr_t)[i]))
            cols[f"OBJECT_TYPE_{k}"].append(catalog.object_type[i])
            for a, x in zip("XYZ", r, strict=True):
                cols[f"{a}{k}_KM"].append(x)
            for a, x in zip("XYZ", v, strict=True):
                cols[f"V{a}{k}_KMS"].append(x)
        tca = guess + dt.timedelta(seconds=t)
        cols["TCA"].append(tca.strftime("%Y-%m-%d %H:%M:%S.%f")[:23])
        cols["TCA_RANGE"].append(float(np.linalg.norm(np.subtract(r2, r1))))
        cols["TCA_RELATIVE_SPEED"].append(float(np.linalg.norm(np.subtract(v2, v1))))
        cols["TCA_JD"].append(jd)
        cols["TCA_FR"].append(fr_t)
        cols["FLAGS"].append("")
    return {
        k: np.array(v, dtype=object if isinstance(v[0], str) else None) for k, v in cols.items()
    }


def _independent_pc(row, sig1, sig2, hbr_m):
    """Pc by a from-scratch encounter plane and scipy dblquad (no ssa.risk code)."""
    r1 = np.array([row[f"{a}1_KM"] for a in "XYZ"], dtype=float)
    v1 = np.array([row[f"V{a}1_KMS"] for a in "XYZ"], dtype=float)
    r2 = np.array([row[f"{a}2_KM"] for a in "XYZ"], dtype=float)
    v2 = np.array([row[f"V{a}2_KMS"] for a in "XYZ"], dtype=float)

    def cov(r, v, s):
        u_r = r / np.linalg.norm(r)
        u_n = np.cross(r, v) / np.linalg.norm(np.cross(r, v))
        u_t = np.cross(u_n, u_r)
        m = np.column_stack([u_r, u_t, u_n])
        return m @ np.diag((np.asarray(s) * 1e-3) ** 2) @ m.T

    c = cov(r1, v1, sig1) + cov(r2, v2, sig2)
    dv = v2 - v1
    e_y = dv / np.linalg.norm(dv)
    dr = r2 - r1
    e_x = dr - dr @ e_y * e_y
    e_x /= np.linalg.norm(e_x)
    e_z = np.cross(e_x, e_y)
    p = np.vstack([e_x, e_z])
    c2 = p @ c @ p.T
    miss = np.array([np.linalg.norm(dr), 0.0])
    inv = np.linalg.inv(c2)
    norm = 1 / (2 * math.pi * math.sqrt(np.linalg.det(c2)))
    h = hbr_m * 1e-3

    def f(z, x):
        d = np.array([x, z]) - miss
        return norm * math.exp(-0.5 * d @ inv @ d)

    return integrate.dblquad(
        f,
        -h,
        h,
        lambda x: -math.sqrt(h * h - x * x),
        lambda x: math.sqrt(h * h - x * x),
        epsabs=0,
        epsrel=1e-10,
    )[0]


@pytest.fixture(scope="module")
def assessed(catalog, shared_file):
    rows = _rows(catalog)
    hbr = HardBodyRadius.from_cara_csv(shared_file("hbr-mass-cara-2024-11-01.csv"))
    return assess(rows, catalog, hbr=hbr), hbr


def _expected_sigma_m(tle_lines, norad_id, tca_text):
    """RTN sigmas from the TLE text alone: epoch and mean motion parsed here, the
    regime from the Kepler perigee, the model's formula with its literal table."""
    i = next(
        k
        for k, line in enumerate(tle_lines)
        if line.startswith("1 ") and int(line[2:7]) == norad_id
    )
    name, l1, l2 = tle_lines[i - 1], tle_lines[i], tle_lines[i + 1]
    epoch = dt.datetime(2000 + int(l1[18:20]), 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        days=float(l1[20:32]) - 1.0
    )
    tca = dt.datetime.strptime(tca_text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=dt.timezone.utc)
    age_d = (tca - epoch).total_seconds() / 86400.0
    n_rad_s = float(l2[52:63]) * 2 * math.pi / 86400.0
    a_km = (398600.8 / n_rad_s**2) ** (1 / 3)  # WGS72 mu
    perigee_km = a_km * (1 - float("0." + l2[26:33])) - 6378.135
    regime = REGIME_OF[norad_id]
    low, high = REGIME_PERIGEE_KM[regime]
    assert low + PERIGEE_MARGIN_KM < perigee_km < high - PERIGEE_MARGIN_KM, (norad_id, perigee_km)
    s0, rate, drag = (np.array(x) for x in MODEL_TABLE[regime])
    if "DEB" in name:
        drag = drag * DEBRIS_DRAG_FACTOR
    return np.sqrt(s0**2 + (rate * age_d) ** 2 + (drag * age_d**2) ** 2)


def test_assess_fills_risk_columns(assessed, shared_file):
    rows, hbr = assessed
    tle = _tle_lines(shared_file(SNAPSHOT), set(REGIME_OF))
    for j in range(len(EVENTS)):
        row = {k: v[j] for k, v in rows.items()}
        s1 = _expected_sigma_m(tle, int(row["NORAD_CAT_ID_1"]), row["TCA"])
        s2 = _expected_sigma_m(tle, int(row["NORAD_CAT_ID_2"]), row["TCA"])
        assert [row[f"SIGMA1_{a}_M"] for a in "RTN"] == pytest.approx(list(s1), rel=SIGMA_RTOL)
        assert [row[f"SIGMA2_{a}_M"] for a in "RTN"] == pytest.approx(list(s2), rel=SIGMA_RTOL)
        assert row["HBR_M"] == pytest.approx(
            hbr.table[row["NORAD_CAT_ID_1"]] + hbr.table.get(row["NORAD_CAT_ID_2"], 1.1)
        )
        assert row["PC_METHOD"] == "FOSTER-1992" and row["PC_2D_VALID"]
        assert row["PC"] == pytest.approx(_independent_pc(row, s1, s2, row["HBR_M"]), rel=PC_RTOL)
        assert 0 < row["PC"] < 1 and 0 < row["MAX_PROB"] <= 1
        assert 0 < row["DILUTION"] < row["TCA_RANGE"]  # km; optimum sigma below the miss


def test_cdms_from_result_round_trip(assessed, tmp_path, capsys):
    from skyfield.api import load
    from skyfield.sgp4lib import TEME

    rows, _ = assessed
    creation = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    cdms = cdms_from_result(rows, top=1, creation=creation)
    assert len(cdms) == 1
    best = int(np.argmax(rows["PC"]))
    cdms = cdms_from_result(rows, creation=creation)
    ts = load.timescale(builtin=True)
    for j, cdm in enumerate(cdms):
        for writer, name in ((write_kvn, f"c{j}.cdm"), (write_xml, f"c{j}.xml")):
            back = read_cdm(writer(cdm, tmp_path / name))
            assert back.relative["COLLISION_PROBABILITY"] == rows["PC"][j]
            assert back.miss_distance_m == pytest.approx(rows["TCA_RANGE"][j] * 1e3, rel=1e-12)
            assert back.tca.strftime("%Y-%m-%d %H:%M:%S.%f")[:23] == rows["TCA"][j]
            assert back.hbr_m == rows["HBR_M"][j]
            t = ts.from_datetime(back.tca)
            for k, seg in enumerate(back.objects, 1):
                assert int(seg["OBJECT_DESIGNATOR"]) == rows[f"NORAD_CAT_ID_{k}"][j]
                assert seg["COVARIANCE_METHOD"] == "DEFAULT" and seg["REF_FRAME"] == "GCRF"
                cov = seg.covariance_rtn
                assert np.sqrt(np.diag(cov)[:3]) == pytest.approx(
                    [rows[f"SIGMA{k}_{a}_M"][j] for a in "RTN"], rel=1e-12
                )
                teme = TEME.rotation_at(t) @ seg.state_km[:3]
                assert teme == pytest.approx(
                    [rows[f"{a}{k}_KM"][j] for a in "XYZ"], abs=STATE_ATOL_KM
                )
        # ssa pc on the written CDM gives back the table's Pc.
        assert main(["pc", "--json", str(tmp_path / f"c{j}.cdm")]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["pc"] == pytest.approx(rows["PC"][j], rel=CDM_PC_RTOL)
    assert cdms_from_result(rows, top=1, creation=creation)[0].message_id == cdms[best].message_id


def test_assess_without_catalog_and_bad_rows_never_raise(catalog):
    rows = _rows(catalog)
    rows["DSE_2"] = np.array([np.nan, rows["DSE_2"][1]])
    out = assess(rows)  # osculating perigee/apogee, type from the table
    assert np.isnan(out["PC"][0]) and "PC_REFUSED" in out["FLAGS"][0]
    assert np.isfinite(out["PC"][1]) and out["FLAGS"][1] == ""


def test_write_result_cdms_top_n(assessed, tmp_path):
    rows, _ = assessed
    paths = write_result_cdms(rows, tmp_path / "cdm", top=1, xml=True)
    assert [p.suffix for p in paths] == [".cdm", ".xml"]
    best = int(np.argmax(rows["PC"]))
    for p in paths:
        back = read_cdm(p)
        assert back.collision_probability == rows["PC"][best]
        assert int(back.objects[1]["OBJECT_DESIGNATOR"]) == rows["NORAD_CAT_ID_2"][best]


def test_assess_structured_array_same_as_dict(catalog, assessed):
    rows, hbr = assessed
    table = _rows(catalog)
    names = (
        list(table)
        + ["HBR_M", "PC", "PC_METHOD", "PC_2D_VALID", "MAX_PROB", "DILUTION"]
        + [f"SIGMA{k}_{a}_M" for k in (1, 2) for a in "RTN"]
    )
    dtype = [
        (
            n,
            object
            if n
            in (
                "OBJECT_NAME_1",
                "OBJECT_NAME_2",
                "TCA",
                "OBJECT_TYPE_1",
                "OBJECT_TYPE_2",
                "FLAGS",
                "PC_METHOD",
            )
            else bool
            if n == "PC_2D_VALID"
            else np.int64
            if n.startswith("NORAD")
            else float,
        )
        for n in names
    ]
    arr = np.zeros(len(EVENTS), dtype=dtype)
    for n in table:
        arr[n] = table[n]
    out = assess(arr, catalog, hbr=hbr)
    assert out is arr
    for n in ("PC", "MAX_PROB", "DILUTION", "HBR_M", "SIGMA2_T_M"):
        assert np.array_equal(arr[n], rows[n])
    assert list(arr["PC_METHOD"]) == ["FOSTER-1992"] * len(EVENTS)


def test_screen_risk_options_fill_and_write(catalog, shared_file, tmp_path):
    """The helpers 'ssa screen' calls: --hbr FILE --cdm 1 --cdm-xml."""
    import argparse

    from ssa.commands.pc import add_screen_risk_arguments, apply_screen_risk

    parser = argparse.ArgumentParser()
    add_screen_risk_arguments(parser)
    args = parser.parse_args(
        ["--hbr", str(shared_file("hbr-mass-cara-2024-11-01.csv")), "--cdm", "1", "--cdm-xml"]
    )
    rows = _rows(catalog)
    summary = apply_screen_risk(args, rows, catalog, tmp_path)
    assert summary["cdm_files"] == 2 and np.all(np.isfinite(rows["PC"]))
    assert sorted(p.suffix for p in (tmp_path / "cdm").iterdir()) == [".cdm", ".xml"]
    assert parser.parse_args(["--cdm"]).cdm == -1 and parser.parse_args([]).cdm is None
