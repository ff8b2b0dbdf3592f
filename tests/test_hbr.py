"""Hard-body radius: CARA table, RCS class, object type, default; combined sum."""

from __future__ import annotations

import numpy as np
import pytest

from ssa.risk.hbr import DEFAULT_HBR_M, RCS_HBR_M, TYPE_HBR_M, HardBodyRadius

CARA_HBR = "hbr-mass-cara-2024-11-01.csv"


@pytest.fixture(scope="module")
def cara(shared_file):
    return HardBodyRadius.from_cara_csv(shared_file(CARA_HBR))


def test_cara_table_values(cara, shared_file):
    # Rows read back independently from the file: TERRA (protected primary) and an SFK estimate.
    rows = {}
    for line in shared_file(CARA_HBR).read_text().splitlines()[1:]:
        cols = line.split(",")
        if cols[0] in ("25994", "26132"):
            rows[int(cols[0])] = float(cols[1])
    got = cara.radius_m([25994, 26132])
    assert got[0] == rows[25994] and got[1] == rows[26132]
    assert 16000 < len(cara.table) < 17000  # about 16.5k rows carry an HBR (README)
    assert cara.problems == []


def test_fallbacks_rcs_then_type_then_default(cara):
    # NORAD 1 is a blank DISCOS row: falls through to RCS, type, default.
    assert cara.radius_m([1], ["DEBRIS"], ["LARGE"])[0] == RCS_HBR_M["LARGE"]
    assert cara.radius_m([1], ["ROCKET BODY"], [""])[0] == TYPE_HBR_M["ROCKET BODY"]
    assert cara.radius_m([1], ["?"], [""])[0] == DEFAULT_HBR_M
    assert cara.source_of(25994) == "cara" and cara.source_of(1, "PAYLOAD", "") == "type"


def test_combined_is_sum(cara):
    one = cara.radius_m([25994, 26132])
    assert cara.combined_m([25994], [26132])[0] == pytest.approx(one.sum())
    empty = HardBodyRadius()
    got = empty.combined_m(
        np.array([5, 6]),
        np.array([7, 8]),
        ["PAYLOAD", "DEBRIS"],
        ["DEBRIS", "UNKNOWN"],
        ["", "SMALL"],
        ["", ""],
    )
    assert np.allclose(
        got,
        [TYPE_HBR_M["PAYLOAD"] + TYPE_HBR_M["DEBRIS"], RCS_HBR_M["SMALL"] + TYPE_HBR_M["UNKNOWN"]],
    )


def test_bad_table_rows_are_reported_not_fatal(tmp_path):
    path = tmp_path / "hbr.csv"
    path.write_text("ObjectID,HBR,HBRSigma,HBRSource\n5,2.5,0,x\n6,abc,0,x\n7,-1,0,x\n8,,0,x\n")
    table = HardBodyRadius.from_cara_csv(path)
    assert table.table == {5: 2.5}
    assert len(table.problems) == 2 and "hbr.csv:3" in table.problems[0]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="ObjectID,HBR"):
        HardBodyRadius.from_cara_csv(wrong)
