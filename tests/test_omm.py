"""CCSDS OMM in CSV, JSON, XML and KVN, checked against sgp4's own OMM reader."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest
from sgp4 import omm as sgp4_omm
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

from ssa.catalog import Catalog
from ssa.io import detect_format
from ssa.io.omm import iter_omm_csv, iter_omm_json, iter_omm_kvn, iter_omm_xml
from ssa.io.problems import LoadError, Problem

HERE = Path(__file__).parent / "data" / "ingest"
# Acceptance bound of the issue: same elements, same positions to 1 mm.
ONE_MM_KM = 1e-6
# "Same elements": equal to float rounding (TLE text vs OMM text of one decimal value),
# and epochs within 1 microsecond (datetime vs day-of-year arithmetic).
ELEMENTS_AGREE_REL = 1e-12
EPOCH_AGREE_S = 1e-6
# Propagation offsets (minutes from each epoch) at which positions are compared.
OFFSETS_MIN = (0.0, 97.0, 1440.0)
INTEGER_FIELDS = ("NORAD_CAT_ID", "EPHEMERIS_TYPE", "ELEMENT_SET_NO", "REV_AT_EPOCH")
TEXT_FIELDS = ("OBJECT_NAME", "OBJECT_ID", "EPOCH", "CLASSIFICATION_TYPE")
# Rows of the shared CSV used here: the first 150 and every 97th, spanning the catalog.
SAMPLE_HEAD, SAMPLE_STEP = 150, 97


@pytest.fixture(scope="module")
def omm_rows(shared_file) -> list[dict]:
    """A sample of real CelesTrak OMM rows (dicts of strings) from the shared CSV."""
    with open(shared_file("catalog-2024-11-01.omm.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return rows[:SAMPLE_HEAD] + rows[SAMPLE_HEAD::SAMPLE_STEP]


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def celestrak_json(rows):
    """CelesTrak style: numbers as JSON numbers, text as strings."""
    out = []
    for row in rows:
        item = {}
        for key, value in row.items():
            if key in TEXT_FIELDS:
                item[key] = value
            elif key in INTEGER_FIELDS:
                item[key] = int(value)
            else:
                item[key] = float(value)
        out.append(item)
    return json.dumps(out, indent=1)


def space_track_json(rows):
    """Space-Track style: every value a string, plus fields we do not use."""
    return json.dumps(
        [
            {
                **row,
                "CCSDS_OMM_VERS": "2.0",
                "CENTER_NAME": "EARTH",
                "MEAN_ELEMENT_THEORY": "SGP4",
                "DECAY_DATE": None,
            }
            for row in rows
        ]
    )


def omm_xml(rows):
    """An NDM document with one OMM per row, laid out as CelesTrak / Space-Track serve it."""
    meta = ("OBJECT_NAME", "OBJECT_ID")
    mean = (
        "EPOCH",
        "MEAN_MOTION",
        "ECCENTRICITY",
        "INCLINATION",
        "RA_OF_ASC_NODE",
        "ARG_OF_PERICENTER",
        "MEAN_ANOMALY",
    )
    tle = (
        "EPHEMERIS_TYPE",
        "CLASSIFICATION_TYPE",
        "NORAD_CAT_ID",
        "ELEMENT_SET_NO",
        "REV_AT_EPOCH",
        "BSTAR",
        "MEAN_MOTION_DOT",
        "MEAN_MOTION_DDOT",
    )

    def tags(row, keys):
        return "".join(f"<{k}>{escape(row[k])}</{k}>" for k in keys)

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<ndm xmlns:xsi='
        '"http://www.w3.org/2001/XMLSchema-instance">'
    ]
    for row in rows:
        parts.append(
            '<omm id="CCSDS_OMM_VERS" version="2.0"><header><CREATION_DATE/><ORIGINATOR/>'
            "</header><body><segment><metadata>"
            + tags(row, meta)
            + "<CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME><TIME_SYSTEM>UTC"
            "</TIME_SYSTEM><MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY></metadata><data>"
            "<meanElements>"
            + tags(row, mean)
            + "</meanElements><tleParameters>"
            + tags(row, tle)
            + "</tleParameters><userDefinedParameters><USER_DEFINED "
            'parameter="SEMIMAJOR_AXIS">7000</USER_DEFINED></userDefinedParameters>'
            "</data></segment></body></omm>"
        )
    parts.append("</ndm>\n")
    return "\n".join(parts)


def omm_kvn(rows):
    units = {"MEAN_MOTION": " [rev/day]", "INCLINATION": " [deg]", "BSTAR": " [1/ER]"}
    out = []
    for row in rows:
        out += ["CCSDS_OMM_VERS = 2.0", "COMMENT from the shared CelesTrak CSV"]
        out += [f"{k} = {v}{units.get(k, '')}" for k, v in row.items()]
        out.append("")
    return "\n".join(out)


def sgp4_reference(rows) -> dict:
    """{norad: Satrec} straight from sgp4.omm.parse_csv + sgp4.omm.initialize."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    text.seek(0)
    out = {}
    for fields in sgp4_omm.parse_csv(text):
        sat = Satrec()
        sgp4_omm.initialize(sat, fields, WGS72)
        out[int(fields["NORAD_CAT_ID"])] = sat
    return out


def assert_same_positions(catalog, reference: dict, tolerance_km: float):
    assert sorted(catalog.norad_id.tolist()) == sorted(reference)
    worst = 0.0
    for norad, sat in zip(catalog.norad_id.tolist(), catalog.satrecs, strict=True):
        ref = reference[norad]
        for tsince in OFFSETS_MIN:
            e1, r1, _ = sat.sgp4_tsince(tsince)
            e2, r2, _ = ref.sgp4_tsince(tsince)
            assert e1 == e2
            if e1 == 0:
                worst = max(worst, float(np.max(np.abs(np.subtract(r1, r2)))))
    assert worst <= tolerance_km
    return worst


@pytest.mark.parametrize("encoding", ["csv", "celestrak-json", "space-track-json", "xml", "kvn"])
def test_all_encodings_give_sgp4s_own_satellites(encoding, omm_rows, tmp_path):
    path = tmp_path / f"sample.{encoding}"
    if encoding == "csv":
        write_csv(omm_rows, path)
    else:
        writer = {
            "celestrak-json": celestrak_json,
            "space-track-json": space_track_json,
            "xml": omm_xml,
            "kvn": omm_kvn,
        }[encoding]
        path.write_text(writer(omm_rows))
    expected_format = {"csv": "omm-csv", "xml": "omm-xml", "kvn": "omm-kvn"}.get(
        encoding, "omm-json"
    )
    assert detect_format(path.read_text()) == expected_format
    catalog = Catalog.load(path)
    report = catalog.load_report
    assert (report.read, report.loaded, report.skipped) == (len(omm_rows), len(omm_rows), 0)
    assert catalog.name.tolist() == [r["OBJECT_NAME"].strip() for r in omm_rows]
    assert catalog.intl_des.tolist() == [r["OBJECT_ID"] for r in omm_rows]
    # Same values, same sgp4 initialisation: identical, well inside 1 mm.
    assert assert_same_positions(catalog, sgp4_reference(omm_rows), ONE_MM_KM) == 0.0


def test_xml_fields_match_sgp4_parse_xml(omm_rows):
    text = omm_xml(omm_rows[:20])
    ours = [r.fields for r in iter_omm_xml(text, "x")]
    theirs = list(sgp4_omm.parse_xml(io.StringIO(text)))
    assert len(ours) == len(theirs) == 20
    for a, b in zip(ours, theirs, strict=True):
        assert {k: v for k, v in a.items() if k in b} == {k: (v or "") for k, v in b.items()}


def test_kvn_fixture_equals_the_tle_it_was_written_from():
    kvn = Catalog.load(HERE / "vanguard1.omm.kvn")
    tle = Catalog.load(HERE / "vanguard1.tle")
    assert kvn.norad_id.tolist() == tle.norad_id.tolist() == [5]
    assert kvn.name.tolist() == tle.name.tolist() == ["VANGUARD 1"]
    assert kvn.intl_des.tolist() == tle.intl_des.tolist() == ["1958-002B"]
    assert assert_same_positions(kvn, {5: tle.satrecs[0]}, ONE_MM_KM) < ONE_MM_KM


def _tle_representable(row: dict) -> bool:
    """True when the OMM text fits TLE columns: eccentricity <= 7 decimals and a BSTAR
    mantissa of <= 5 digits (the analyst objects carry more)."""
    ecc_decimals = len(row["ECCENTRICITY"].split(".")[-1])
    mantissa = row["BSTAR"].upper().split("E")[0].replace("-", "").replace(".", "")
    return ecc_decimals <= 7 and len(mantissa.lstrip("0")) <= 5


def test_omm_and_tle_of_the_same_elements_agree_to_1_mm(omm_rows, shared_file):
    """CelesTrak's OMM values are mostly TLE values written out (8-decimal mean motion,
    microsecond epochs = 8-decimal days). sgp4's exporter turns each OMM satellite back
    into TLE lines, which our TLE reader loads. Where the TLE holds the same elements
    (not for the analyst objects, whose OMM has more digits than TLE columns), SGP4
    positions agree to 1 mm. The shared 3LE snapshots are from other dates, so they
    cannot be compared object by object; this is the same-elements comparison."""
    with open(shared_file("catalog-2024-11-01.omm.csv"), newline="") as f:
        analysts = [r for r in csv.DictReader(f) if int(r["NORAD_CAT_ID"]) >= 270000][::10]
    rows = omm_rows + analysts
    omm = Catalog.from_omm(rows, source="sample")
    lines = []
    for name, sat in zip(omm.name, omm.satrecs, strict=True):
        lines += [name, *export_tle(sat)]
    tle = Catalog.from_tle(lines, source="exported")
    assert tle.load_report.skipped == 0
    assert tle.norad_id.tolist() == omm.norad_id.tolist()
    agree = np.abs(tle.age_days(omm.epoch_jd, omm.epoch_fr)) * 86400.0 <= EPOCH_AGREE_S
    for array in (
        "mean_motion_rad_min",
        "eccentricity",
        "inclination_rad",
        "raan_rad",
        "argp_rad",
        "mean_anomaly_rad",
        "bstar",
    ):
        agree &= np.isclose(
            getattr(tle, array), getattr(omm, array), rtol=ELEMENTS_AGREE_REL, atol=0.0
        )
    assert agree.tolist() == [_tle_representable(r) for r in rows]
    assert 0 < (~agree).sum() < len(rows) // 5
    reference = {
        n: sat for n, sat, ok in zip(omm.norad_id.tolist(), omm.satrecs, agree, strict=True) if ok
    }
    worst = assert_same_positions(tle.subset(agree), reference, ONE_MM_KM)
    assert worst < ONE_MM_KM


def test_xml_with_dtd_or_entities_is_refused():
    for name in ("xxe.omm.xml", "billion-laughs.omm.xml"):
        path = HERE / name
        items = list(iter_omm_xml(path.read_text(), str(path)))
        assert len(items) == 1 and isinstance(items[0], Problem)
        assert "DTD or entity" in items[0].reason
        with pytest.raises(LoadError, match="no valid element sets"):
            Catalog.load(path)


GOOD = {
    "OBJECT_NAME": "TEST SAT",
    "OBJECT_ID": "2024-001A",
    "EPOCH": "2024-10-29T12:18:43.492896",
    "MEAN_MOTION": "15.5",
    "ECCENTRICITY": ".001",
    "INCLINATION": "51.6",
    "RA_OF_ASC_NODE": "10",
    "ARG_OF_PERICENTER": "20",
    "MEAN_ANOMALY": "30",
    "EPHEMERIS_TYPE": "0",
    "CLASSIFICATION_TYPE": "U",
    "NORAD_CAT_ID": "99001",
    "ELEMENT_SET_NO": "999",
    "REV_AT_EPOCH": "1",
    "BSTAR": ".0001",
    "MEAN_MOTION_DOT": "0",
    "MEAN_MOTION_DDOT": "0",
}

BAD_OMM = [
    ({"ECCENTRICITY": "1.2"}, "ECCENTRICITY 1.2 is outside [0, 1)"),
    ({"ECCENTRICITY": "1.0"}, "ECCENTRICITY 1.0 is outside [0, 1)"),
    ({"MEAN_MOTION": "-15.5"}, "MEAN_MOTION -15.5 rev/day is not positive"),
    ({"MEAN_MOTION": ""}, "missing MEAN_MOTION"),
    ({"INCLINATION": "abc"}, "INCLINATION 'abc' is not a number"),
    ({"EPOCH": "29/10/2024"}, "EPOCH '29/10/2024' is not YYYY-MM-DDThh:mm:ss"),
    ({"NORAD_CAT_ID": "12a"}, "NORAD_CAT_ID '12a' is not an integer"),
    ({"OBJECT_NAME": "SAT\u00e9"}, "non-ASCII character"),
    ({"MEAN_ELEMENT_THEORY": "SGP4-XP"}, "only SGP4 elements are supported"),
]


@pytest.mark.parametrize("change, fragment", BAD_OMM, ids=[f[1][:30] for f in BAD_OMM])
def test_each_malformed_omm_record_is_skipped_with_its_reason(change, fragment, tmp_path):
    other = {**GOOD, "NORAD_CAT_ID": "99002"}
    rows = [GOOD, {**GOOD, **change, "NORAD_CAT_ID": change.get("NORAD_CAT_ID", "99003")}, other]
    fields = list(GOOD) + [k for k in change if k not in GOOD]
    path = tmp_path / "bad.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    catalog = Catalog.load(path)
    report = catalog.load_report
    assert (report.read, report.loaded, report.skipped) == (3, 2, 1)
    (problem,) = report.problems
    assert (problem.file, problem.line) == (str(path), 3)
    assert fragment in problem.reason
    assert problem.kind == (
        "missing" if "missing" in fragment else "non-ascii" if "ASCII" in fragment else "value"
    )
    with pytest.raises(ValueError, match=f"{path}:3:"):
        Catalog.load(path, strict=True)


def test_nine_digit_catalog_numbers_stay_integers():
    catalog = Catalog.from_omm(
        [{**GOOD, "NORAD_CAT_ID": "123456789"}, {**GOOD, "NORAD_CAT_ID": "270288"}]
    )
    assert catalog.norad_id.dtype == np.int64
    assert catalog.norad_id.tolist() == [123456789, 270288]
    # sgp4 cannot carry the 9-digit number; SGP4 does not use it, so motion is the same.
    assert catalog.satrecs[0].sgp4_tsince(60.0) == catalog.satrecs[1].sgp4_tsince(60.0)


def test_epoch_forms_and_parsers_are_generators():
    variants = [
        "2024-10-29T12:18:43.492896",
        "2024-10-29 12:18:43.492896",
        "2024-10-29T12:18:43.492896Z",
    ]
    catalog = Catalog.from_omm(
        [{**GOOD, "EPOCH": e, "NORAD_CAT_ID": str(i)} for i, e in enumerate(variants, 1)]
    )
    assert len(set(catalog.epoch_fr.tolist())) == 1
    whole = Catalog.from_omm([{**GOOD, "EPOCH": "2024-10-29T12:18:43"}])
    assert whole.epoch_fr[0] * 86400.0 == pytest.approx(12 * 3600 + 18 * 60 + 43, abs=1e-5)
    # Generators over lines / text: nothing is read from disk.
    assert next(iter_omm_csv(iter(["NORAD_CAT_ID,EPOCH", "5,2024-01-01T00:00:00"]))).line == 2
    assert next(iter_omm_kvn(iter(["NORAD_CAT_ID = 5"]))).fields == {"NORAD_CAT_ID": "5"}
    assert next(iter_omm_json('[{"NORAD_CAT_ID": 5}]')).fields == {"NORAD_CAT_ID": "5"}


def test_kvn_block_without_elements_is_reported_not_dropped():
    lines = [
        "CCSDS_OMM_VERS = 2.0",
        "CREATION_DATE = 2024-01-01T00:00:00",
        "OBJECT_NAME = STRAY",
        "CCSDS_OMM_VERS = 2.0",
        *[f"{k} = {v}" for k, v in GOOD.items()],
    ]
    catalog = Catalog.from_omm(iter_omm_kvn(lines, "stray.kvn"), source="stray.kvn")
    assert catalog.norad_id.tolist() == [99001]
    (problem,) = catalog.load_report.problems
    assert (problem.line, problem.kind) == (1, "missing")
    assert problem.reason.startswith("missing NORAD_CAT_ID, EPOCH, MEAN_MOTION")


def test_omm_opsmode_a_matches_sgp4_legacy_afspc(shared_file):
    """OMM satellites in AFSPC mode: compared with sgp4's pure-Python code in mode 'a'
    fed the same elements as TLE lines (sgp4's exporter), on deep-space low-inclination
    objects where the modes differ."""
    from sgp4.earth_gravity import wgs72
    from sgp4.io import twoline2rv
    from sgp4.propagation import sgp4

    with open(shared_file("catalog-2024-11-01.omm.csv"), newline="") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if float(r["MEAN_MOTION"]) < 6.4
            and float(r["INCLINATION"]) < 11.0
            and _tle_representable(r)
        ]
    afspc = Catalog.from_omm(rows, opsmode="a")
    assert {s.operationmode for s in afspc.satrecs} == {"a"}
    improved = Catalog.from_omm(rows)
    differ = 0
    for sat_a, sat_i in zip(afspc.satrecs, improved.satrecs, strict=True):
        legacy = twoline2rv(*export_tle(sat_a), wgs72, opsmode="a")
        for tsince in OFFSETS_MIN + (4320.0,):
            e, r, _ = sat_a.sgp4_tsince(tsince)
            if e != 0:
                continue
            r_legacy, _ = sgp4(legacy, tsince)
            assert np.max(np.abs(np.subtract(r, r_legacy))) < ONE_MM_KM
            differ += np.max(np.abs(np.subtract(r, sat_i.sgp4_tsince(tsince)[1]))) > ONE_MM_KM
    assert len(rows) > 100 and differ > 0
