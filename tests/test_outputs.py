"""Outputs sized for their use: the formats registry, schema versions, and the
pandas / Arrow / Parquet views of a screening result (ISS on the shipped snapshot)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from ssa.errors import UserError
from ssa.report.results import load_results
from ssa.risk import assess
from ssa.screening import screen
from ssa.screening.formats import (
    SCHEMA_VERSION,
    TABLE_NAMES,
    WRITERS,
    parse_formats,
)
from ssa.snapshot import shipped_catalog

ISS = 25544
DAYS = 0.2
# CSV rounding: half a unit of the last decimal written (6 decimals unless listed).
CSV_DECIMALS = {"DSE_1": 3, "DSE_2": 3, "TCA_JD": 1, "TCA_FR": 12}
CSV_SIGNIFICANT = ("PC", "MAX_PROB")  # written with 7 significant digits


@pytest.fixture(scope="module")
def iss_result(shipped):
    catalog = shipped
    result = screen(catalog, days=DAYS, primaries=[ISS], threads=1)
    assess(result.rows, catalog)  # fills the risk columns, so every type is exercised
    assert len(result) > 0  # the ISS has close approaches within 5 km in 0.2 d here
    return result


def _csv_tolerance(name: str, value: float) -> float:
    if name in CSV_SIGNIFICANT:
        return 0.5e-6 * abs(value)
    return 0.5 * 10.0 ** -CSV_DECIMALS.get(name, 6)


def _texts(values) -> list[str]:
    """Text cells as the CSV holds them: None and NaN (pandas' missing) as ''."""
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def test_default_is_csv_and_run_json(iss_result, tmp_path):
    paths = iss_result.write(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conjunctions.csv", "run.json"]
    run = json.loads(paths["run"].read_text())
    assert run["schema_version"] == SCHEMA_VERSION and run["formats"] == ["csv"]


def test_pandas_arrow_parquet_round_trip_equals_csv(iss_result, tmp_path):
    pd = pytest.importorskip("pandas")
    pq = pytest.importorskip("pyarrow.parquet")
    paths = iss_result.write(tmp_path, ("csv", "json", "parquet"))
    frame = iss_result.to_pandas()
    from_csv = pd.read_csv(paths["csv"], keep_default_na=False, na_values=[""])
    table = pq.read_table(paths["parquet"])
    assert table.schema.metadata[b"ssa.schema_version"] == str(SCHEMA_VERSION).encode()
    from_parquet = table.to_pandas()
    assert list(frame.columns) == list(from_csv.columns) == list(from_parquet.columns)
    assert list(frame.columns) == iss_result.columns
    assert len(frame) == len(from_csv) == len(iss_result)
    for name in frame.columns:
        mine, csv_col = frame[name].to_numpy(), from_csv[name].to_numpy()
        back = from_parquet[name].to_numpy()
        if mine.dtype.kind == "f":  # Parquet keeps every bit
            assert np.array_equal(back, mine, equal_nan=True), name
        else:
            assert _texts(back) == _texts(mine), name
        if mine.dtype.kind == "f":
            finite = np.isfinite(mine)
            assert np.array_equal(finite, np.isfinite(csv_col.astype(float))), name
            err = np.abs(csv_col.astype(float)[finite] - mine[finite])
            tol = np.array([_csv_tolerance(name, v) for v in mine[finite]])
            assert np.all(err <= tol * (1 + 1e-9)), name
        elif mine.dtype.kind in "iu":
            assert np.array_equal(mine, csv_col), name
        else:  # text: CSV empties are NaN in pandas, None here; booleans as True/False
            assert _texts(mine) == _texts(csv_col), name
    arrow = iss_result.to_arrow()
    assert arrow.num_rows == len(iss_result) and arrow.column_names == iss_result.columns
    assert json.loads(arrow.schema.metadata[b"ssa.run"])["counts"] == json.loads(
        json.dumps(iss_result.run["counts"])
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_report_reader_reads_whichever_format(iss_result, tmp_path, fmt):
    pytest.importorskip("pyarrow")
    reference = tmp_path / "ref"
    iss_result.write(reference, ("csv",))
    out = tmp_path / fmt
    iss_result.write(out, (fmt,))
    assert [p.name for p in out.iterdir() if p.name != "run.json"] == [TABLE_NAMES[fmt]]
    got, want = load_results(out), load_results(reference)
    assert got.problems == want.problems == []
    assert np.array_equal(got.tca, want.tca)
    for name, values in want.columns.items():
        if values.dtype.kind == "f":
            tol = max(_csv_tolerance(name, 1.0), 1e-12)
            ok = np.isclose(
                got.columns[name],
                values,
                rtol=1e-6 if name in CSV_SIGNIFICANT else 0.0,
                atol=tol,
                equal_nan=True,
            )
            assert ok.all(), name
        else:
            assert list(got.columns[name]) == list(values), name


def test_newer_schema_is_refused_with_the_fix(iss_result, tmp_path):
    iss_result.write(tmp_path)
    run_path = tmp_path / "run.json"
    run = json.loads(run_path.read_text())
    run["schema_version"] = SCHEMA_VERSION + 1
    run_path.write_text(json.dumps(run))
    with pytest.raises(UserError, match=r"schema version .* upgrade ssa"):
        load_results(tmp_path)


def test_unknown_format_and_missing_pyarrow_fail_before_any_work(monkeypatch, tmp_path):
    from ssa.cli import main

    with pytest.raises(UserError, match="unknown output format 'xlsx'"):
        parse_formats("csv,xlsx")
    assert parse_formats("CSV, parquet,csv") == ("csv", "parquet")
    assert set(WRITERS) >= {"csv", "json", "parquet", "socrates"}
    # pyarrow made unimportable (a None entry in sys.modules is how Python spells it).
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(UserError, match=r"pyarrow.*pip install"):
        parse_formats("csv,parquet")
    out = tmp_path / "out"
    assert (
        main(["screen", "--days", "0.01", "--format", "parquet", "--out", str(out), "--quiet"]) == 1
    )
    assert not out.exists()  # refused before loading or screening: nothing written


def test_catalog_to_pandas_matches_the_omm_file(shipped):
    pd = pytest.importorskip("pandas")
    catalog = shipped
    frame = catalog.to_pandas()
    omm = pd.read_csv(shipped_catalog(), dtype={"OBJECT_ID": str}, keep_default_na=False)
    assert len(frame) == len(omm) == len(catalog)
    assert frame["norad_id"].tolist() == omm["NORAD_CAT_ID"].tolist()
    assert frame["name"].tolist() == omm["OBJECT_NAME"].str.strip().tolist()
    # Epochs to the microsecond, as the OMM writes them.
    want = pd.to_datetime(omm["EPOCH"]).to_numpy().astype("datetime64[us]")
    assert np.array_equal(frame["epoch_utc"].to_numpy(), want)
    assert set(frame["regime"]) <= {"LEO", "MEO", "GEO", "HEO"}
    assert frame["object_type"].tolist() == catalog.object_type.tolist()
