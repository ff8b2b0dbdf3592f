"""One regression test per failure the fuzzing found (tests/test_fuzz_readers.py,
benchmarks/fuzz.py): each used to raise an unhandled exception or accept a bad value."""

from __future__ import annotations

import gzip

import pytest

from ssa.catalog import Catalog, load_satcat
from ssa.cdm import CdmError, parse_kvn, parse_xml, read_cdm, to_xml
from ssa.errors import InputFileError
from ssa.scenario.config import load_scenario
from ssa.scenario.sensors import load_sensors
from tests.fuzzing import seeds


def test_truncated_gzip_catalog_names_file_and_line(ssa_data, tmp_path):
    """Was: EOFError traceback from gzip (catalog, SATCAT)."""
    data = gzip.compress(seeds()["tle"] * 50, mtime=0)
    path = tmp_path / "cut.3le.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match="damaged gzip data") as info:
        Catalog.load(path)
    assert info.value.path == str(path)
    sat = tmp_path / "cut-satcat.csv.gz"
    sat.write_bytes(gzip.compress(seeds()["satcat"] * 20, mtime=0)[:60])
    with pytest.raises(InputFileError, match="damaged gzip data"):
        load_satcat(sat)


@pytest.mark.parametrize("value", ["1e308", "Infinity"])
def test_omm_integer_fields_out_of_range_are_skipped(ssa_data, tmp_path, value):
    """Was: OverflowError from sgp4 for EPHEMERIS_TYPE 1e308 / Infinity in OMM JSON."""
    text = (
        seeds()["omm-json"].decode().replace('"EPHEMERIS_TYPE": 0', f'"EPHEMERIS_TYPE": {value}', 1)
    )
    path = tmp_path / "x.json"
    path.write_text(text)
    catalog = Catalog.load(path)
    r = catalog.load_report
    assert (r.loaded, r.skipped) == (3, 1)
    assert "EPHEMERIS_TYPE" in r.problems[0].reason and r.problems[0].line == 1


def test_cdm_xml_with_unknown_encoding_is_refused(ssa_data, tmp_path):
    """Was: LookupError for <?xml ... encoding="UTFnan"?>."""
    xml = seeds()["cdm-xml"].decode()
    path = tmp_path / "bad.xml"
    path.write_text('<?xml version="1.0" encoding="UTFnan"?>\n' + xml)
    with pytest.raises(CdmError, match=str(path)):
        read_cdm(path)


@pytest.mark.parametrize("key", ["X", "CR_R", "MISS_DISTANCE"])
def test_cdm_nan_in_state_covariance_or_miss_is_refused(ssa_data, key):
    """Was: NaN/inf positions and covariances accepted silently (then NaN Pc)."""
    cdm = parse_kvn(seeds()["cdm-kvn"].decode(), "c.cdm")
    target = cdm.relative if key == "MISS_DISTANCE" else cdm.objects[0].values
    target[key] = "NaN"
    with pytest.raises(CdmError, match=f"{key}: 'NaN' is not a finite number"):
        parse_xml(to_xml(cdm), "c.xml")


def test_cdm_negative_miss_and_pc_above_one_are_refused(ssa_data):
    cdm = parse_kvn(seeds()["cdm-kvn"].decode(), "c.cdm")
    cdm.relative["MISS_DISTANCE"] = -5.0
    with pytest.raises(CdmError, match="MISS_DISTANCE: -5.0 is negative"):
        parse_xml(to_xml(cdm), "c.xml")
    cdm.relative["MISS_DISTANCE"] = 5.0
    cdm.relative["COLLISION_PROBABILITY"] = 1.5
    with pytest.raises(CdmError, match="not a probability"):
        parse_xml(to_xml(cdm), "c.xml")


def test_non_utf8_scenario_and_sensor_files_name_the_file(ssa_data, tmp_path):
    """Was: UnicodeDecodeError without the file name (TOML and sensor CSV)."""
    toml = tmp_path / "s.toml"
    toml.write_bytes(b"\x80" + seeds()["scenario"])
    with pytest.raises(ValueError, match=f"{toml}: not UTF-8 text"):
        load_scenario(toml)
    sensors = tmp_path / "sensors.csv"
    sensors.write_bytes(seeds()["sensors"].replace(b"GRAVES", b"GRAV\xe9S"))
    with pytest.raises(ValueError, match=f"{sensors}: not UTF-8 text"):
        load_sensors(sensors)


def test_tab_inside_a_tle_field_is_reported(ssa_data, tmp_path):
    """Was: loaded, then SGP4 returned NaN at the epoch (a tab in the nddot field)."""
    lines = seeds()["tle"].decode().splitlines()
    lines[4] = lines[4][:44] + "\t" + lines[4][45:]
    path = tmp_path / "tab.3le"
    path.write_text("\n".join(lines) + "\n")
    catalog = Catalog.load(path)
    r = catalog.load_report
    # (the seed's 4th record is an older element set of object 5: a duplicate)
    assert (r.loaded, r.skipped, r.duplicates_dropped) == (2, 1, 1)
    assert 11 not in catalog.norad_id
    assert r.problems[0].reason == "control character '\\t' in line 1 column 45"
    assert r.problems[0].line == 5  # the damaged line itself (line 1 of the second record)


def test_nul_in_omm_kvn_classification_is_reported(ssa_data, tmp_path):
    """Was: TypeError from sgp4 ('bad argument type') for CLASSIFICATION_TYPE = \\x00U."""
    text = (
        seeds()["omm-kvn"]
        .decode()
        .replace("CLASSIFICATION_TYPE = U", "CLASSIFICATION_TYPE =\x00U", 1)
    )
    path = tmp_path / "nul.kvn"
    path.write_text(text)
    r = Catalog.load(path).load_report
    assert (r.loaded, r.skipped) == (3, 1)
    assert r.problems[0].reason.startswith("control character in CLASSIFICATION_TYPE")
    text = (
        seeds()["omm-kvn"]
        .decode()
        .replace("CLASSIFICATION_TYPE = U", "CLASSIFICATION_TYPE = UU", 1)
    )
    path.write_text(text)
    r = Catalog.load(path).load_report
    assert (r.loaded, r.skipped) == (3, 1) and "not one character" in r.problems[0].reason


def test_satcat_superscript_digit_in_catalog_number_is_reported(ssa_data, tmp_path):
    """Was: ValueError from int('²') ('²'.isdigit() is True) in the SATCAT reader."""
    lines = seeds()["satcat"].decode().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("NORAD_CAT_ID")] = "²"
    path = tmp_path / "satcat.csv"
    path.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    entries, problems = load_satcat(path)
    assert len(entries) == len(lines) - 2
    assert len(problems) == 1 and problems[0].line == 2 and "NORAD_CAT_ID" in problems[0].reason


def test_scenario_integer_too_large_for_a_float_is_refused(ssa_data, tmp_path):
    """Was: OverflowError from float() of a 400-digit ``seed`` (benchmarks/fuzz.py, 2026-12-02,
    batch seed 5)."""
    import shutil

    from tests.fuzzing import REPO

    toml = tmp_path / "s.toml"
    text = seeds()["scenario"].decode()
    assert "seed = 20240705" in text
    toml.write_text(text.replace("seed = 20240705", "seed = " + "9" * 400))
    shutil.copy(REPO / "scenarios" / "sensors.csv", tmp_path / "sensors.csv")
    with pytest.raises(ValueError, match=rf"{toml}.*seed.*outside"):
        load_scenario(toml)


@pytest.mark.parametrize("reader", ["omm-csv", "satcat"])
def test_stray_quote_in_a_csv_row_does_not_swallow_the_next_rows(ssa_data, tmp_path, reader):
    """Was: a '"' opened a quoted field that ran over the following lines, so the rows
    after a damaged one vanished without a report (benchmarks/fuzz.py, 2026-12-02, OMM CSV
    batch seeds 14, 27, 51 and 52)."""
    lines = seeds()[reader].decode().splitlines()
    lines[2] = lines[2].replace(",", ',"', 1)  # the second row gets an unclosed quote
    path = tmp_path / "stray-quote.csv"
    path.write_text("\n".join(lines) + "\n")
    col = lines[0].split(",").index("NORAD_CAT_ID")
    after = {int(row.split(",")[col]) for row in lines[3:]}
    if reader == "satcat":
        entries, problems = load_satcat(path)
        loaded, skipped = set(entries), problems
    else:
        catalog = Catalog.load(path)
        loaded, skipped = set(catalog.norad_id.tolist()), catalog.load_report.problems
    assert after <= loaded  # every row after the damaged one still loads
    assert [(p.file, p.line) for p in skipped] == [(str(path), 3)]
    assert "columns" in skipped[0].reason
