"""CDM reading (real CARA files, tolerated oddities, malformed input) and writing."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from ssa.cdm import (
    COV_KEYS,
    CdmError,
    parse_kvn,
    parse_xml,
    read_cdm,
    to_kvn,
    to_xml,
    write_kvn,
    write_xml,
)
from ssa.cli import main

ONE_CDM = "000025994_conj_000026132_20220224_100307_20220221_225515.cdm"


def cdm_files(ssa_data):
    return sorted((ssa_data / "cara-cdm").glob("*.cdm"))


def summary_rows(ssa_data):
    with open(ssa_data / "cara-cdm-summary.csv", newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


def same_values(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            return False
    return True


def same_cdm(a, b) -> bool:
    return (
        same_values(a.header, b.header)
        and same_values(a.relative, b.relative)
        and all(same_values(x.values, y.values) for x, y in zip(a.objects, b.objects, strict=True))
        and a.comments == b.comments
        and all(x.comments == y.comments for x, y in zip(a.objects, b.objects, strict=True))
    )


def test_reader_on_every_shared_cdm_matches_summary_table(ssa_data):
    """Each of the 27 files parses; fields agree with cara-cdm-summary.csv (parsed separately)."""
    summary = summary_rows(ssa_data)
    files = cdm_files(ssa_data)
    assert len(files) == 27
    for path in files:
        cdm = read_cdm(path)
        row = summary[path.name]
        assert cdm.message_id == row["message_id"]
        assert cdm.tca.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] == row["tca"]
        assert cdm.miss_distance_m == float(row["miss_distance_m"])
        assert cdm.collision_probability == float(row["collision_probability"])
        assert cdm.hbr_m == pytest.approx(float(row["hbr_m"]), rel=1e-12)
        assert [int(o["OBJECT_DESIGNATOR"]) for o in cdm.objects] == [
            int(row["obj1_norad"]),
            int(row["obj2_norad"]),
        ]
        assert cdm.objects[1]["OBJECT_NAME"] == row["obj2_name"]
        for seg in cdm.objects:
            cov = seg.covariance_rtn
            assert cov.shape == (6, 6)
            assert np.all(np.diag(cov) > 0)
            assert seg["REF_FRAME"] == "EME2000"
            assert np.linalg.norm(seg.state_km[:3]) > 6378.0


def test_kvn_and_xml_round_trip_stable_on_every_shared_cdm(ssa_data, tmp_path):
    for path in cdm_files(ssa_data):
        original = read_cdm(path)
        kvn = write_kvn(original, tmp_path / "a.cdm")
        again = read_cdm(kvn)
        assert same_cdm(original, again), path.name
        assert to_kvn(again) == kvn.read_text()  # write -> read -> write is stable
        xml = write_xml(original, tmp_path / "a.xml")
        from_xml = read_cdm(xml)
        assert same_cdm(original, from_xml), path.name
        assert to_xml(from_xml) == xml.read_text()


def test_writer_keyword_order_and_units(ssa_data):
    text = to_kvn(read_cdm(ssa_data / "cara-cdm" / ONE_CDM))
    keys = [
        line.split("=")[0].strip() for line in text.splitlines() if not line.startswith("COMMENT")
    ]
    expected_prefix = [
        "CCSDS_CDM_VERS",
        "CREATION_DATE",
        "ORIGINATOR",
        "MESSAGE_FOR",
        "MESSAGE_ID",
        "TCA",
        "MISS_DISTANCE",
        "RELATIVE_SPEED",
    ]
    assert keys[:8] == expected_prefix
    seg1 = keys.index("OBJECT")
    assert keys[seg1 : seg1 + 5] == [
        "OBJECT",
        "OBJECT_DESIGNATOR",
        "CATALOG_NAME",
        "OBJECT_NAME",
        "INTERNATIONAL_DESIGNATOR",
    ]
    cov = [k for k in keys[seg1:] if k in COV_KEYS][:21]
    assert cov == COV_KEYS[:21] and cov[-1] == "CNDOT_NDOT"
    assert keys.index("Z_DOT") < keys.index("CR_R")
    assert "MISS_DISTANCE                        = 25.0 [m]" in text
    assert "CTDOT_T                              = 0.1388105491202757 [m**2/s]" in text
    xml = to_xml(read_cdm(ssa_data / "cara-cdm" / ONE_CDM))
    assert '<MISS_DISTANCE units="m">25.0</MISS_DISTANCE>' in xml
    assert "<relativeStateVector>" in xml and "<covarianceMatrix>" in xml


def _with_extra_covariance(text: str, dim: int) -> str:
    """Insert drag/SRP (8x8) or also thrust (9x9) rows after each CNDOT_NDOT line."""
    rows = [k for k in COV_KEYS[21:] if dim == 9 or not k.startswith("CTHR")]
    minus = "\u2212"  # Unicode minus sign, as some real files have

    def value(k):
        row, col = k.split("_")
        return "1.0e-12" if row[1:] == col else f"{minus}2.5e-14"

    extra = "\n".join(f"{k} = {value(k)}" for k in rows)
    return "\n".join(
        line + ("\n" + extra if line.startswith("CNDOT_NDOT") else "") for line in text.splitlines()
    )


@pytest.mark.parametrize("dim", [8, 9])
def test_reads_8x8_and_9x9_covariances_with_unicode_minus(ssa_data, dim):
    text = (ssa_data / "cara-cdm" / ONE_CDM).read_text()
    cdm = parse_kvn(_with_extra_covariance(text, dim), "extra.cdm")
    for seg in cdm.objects:
        cov = seg.covariance_rtn
        assert cov.shape == (dim, dim)
        assert cov[6, 0] == -2.5e-14 and cov[6, 6] == 1e-12
        assert np.allclose(cov, cov.T)
    again = parse_kvn(to_kvn(cdm))
    assert same_cdm(cdm, again)
    assert same_cdm(cdm, parse_xml(to_xml(cdm)))


def test_tolerates_nan_itrf_comments_and_unitless_hbr(ssa_data):
    text = (ssa_data / "cara-cdm" / ONE_CDM).read_text()
    text = text.replace("COMMENT HBR = 15 [m]", "COMMENT HBR                        = 6.0")
    text = text.replace("WEIGHTED_RMS                                = 1.261", "WEIGHTED_RMS = NaN")
    text = text.replace("EME2000", "ITRF")
    text = text.replace(
        "OBS_USED                                    = 593",
        "OBS_USED                                    = NaN",
    )
    cdm = parse_kvn(text, "odd.cdm")
    assert cdm.hbr_m == 6.0
    assert math.isnan(cdm.objects[0]["WEIGHTED_RMS"]) and math.isnan(cdm.objects[0]["OBS_USED"])
    assert cdm.objects[0]["REF_FRAME"] == "ITRF"
    assert (
        cdm.comments["relative"][0] == "SCREENING_OPTION = Covariance"
    )  # opens the relative block
    assert same_cdm(cdm, parse_kvn(to_kvn(cdm)))


@pytest.mark.parametrize(
    "edit,keyword,line",
    [
        (
            lambda t: t.replace("MISS_DISTANCE                               = 25 [m]\n", ""),
            "MISS_DISTANCE",
            None,
        ),
        (
            lambda t: t.replace(
                "CT_T                                        = 3.722927204092875763e+04",
                "CT_T = 3.72.2e+04",
            ),
            "CT_T",
            62,
        ),
        (
            lambda t: t.replace(
                "REF_FRAME                                   = EME2000", "REF_FRAME = TEME", 1
            ),
            "REF_FRAME",
            27,
        ),
        (
            lambda t: t.replace(
                "CR_R                                        = 2.949810804923603058e+01 [m**2]\n",
                "",
                1,
            ),
            "CR_R",
            None,
        ),
        (
            lambda t: t.replace(
                "TCA                                         = 2022-02-24T10:03:07.749",
                "TCA = 24/02/2022",
            ),
            "TCA",
            7,
        ),
        (
            lambda t: t.replace(
                "OBJECT_NAME                                 = TERRA", "OBJECT_NAME TERRA"
            ),
            None,
            22,
        ),
    ],
)
def test_malformed_cdm_error_names_keyword_and_line(ssa_data, edit, keyword, line):
    text = edit((ssa_data / "cara-cdm" / ONE_CDM).read_text())
    with pytest.raises(CdmError) as err:
        parse_kvn(text, "bad.cdm")
    message = str(err.value)
    assert "bad.cdm" in message
    if keyword:
        assert keyword in message
    if line:
        assert f"bad.cdm:{line}:" in message


def test_xml_external_entities_refused(tmp_path):
    evil = (
        '<?xml version="1.0"?><!DOCTYPE cdm [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<cdm version="1.0"><header><ORIGINATOR>&x;</ORIGINATOR></header></cdm>'
    )
    path = tmp_path / "evil.xml"
    path.write_text(evil)
    with pytest.raises(CdmError, match="unsafe XML"):
        read_cdm(path)


def test_xml_missing_keyword_names_element(ssa_data):
    xml = to_xml(read_cdm(ssa_data / "cara-cdm" / ONE_CDM))
    xml = xml.replace('<MISS_DISTANCE units="m">25.0</MISS_DISTANCE>', "")
    with pytest.raises(CdmError, match="MISS_DISTANCE"):
        parse_xml(xml, "x.xml")
    bad = to_xml(read_cdm(ssa_data / "cara-cdm" / ONE_CDM)).replace(">25.0<", ">2x5<")
    with pytest.raises(CdmError, match=r"element body/relativeMetadataData/MISS_DISTANCE"):
        parse_xml(bad, "x.xml")


def test_cli_pc_json_on_shared_cdm(ssa_data, capsys):
    import json

    path = ssa_data / "cara-cdm" / ONE_CDM
    assert main(["pc", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "file",
        "message_id",
        "tca",
        "miss_distance_m",
        "hbr_m",
        "pc",
        "pc_method",
        "pc_2d_valid",
        "cdm_pc",
    ):
        assert key in out
    assert out["hbr_m"] == 15.0 and out["cdm_pc"] == 1.213e-3
    assert out["pc"] == pytest.approx(out["cdm_pc"], rel=1e-3)
    assert main(["pc", str(path), "--hbr-m", "0"]) == 0
    assert " 0.000e+00" in capsys.readouterr().out


def test_cli_pc_bad_file_reports_and_continues(ssa_data, tmp_path, capsys):
    bad = tmp_path / "bad.cdm"
    bad.write_text("CCSDS_CDM_VERS = 1.0\n")
    good = ssa_data / "cara-cdm" / ONE_CDM
    assert main(["pc", str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    assert "bad.cdm" in captured.err and "CREATION_DATE" in captured.err
    assert "1.213e-03" in captured.out
