"""SATCAT reading and the type / owner / RCS join, against plain CSV counts."""

from __future__ import annotations

import csv
import gzip
from collections import Counter

import numpy as np
import pytest

from ssa.catalog import Catalog, load_satcat
from ssa.io.problems import LoadError, Problem
from ssa.io.satcat import SatcatEntry, iter_satcat, rcs_class, type_from_name

CELESTRAK_HEADER = (
    "OBJECT_NAME,OBJECT_ID,NORAD_CAT_ID,OBJECT_TYPE,OPS_STATUS_CODE,OWNER,"
    "LAUNCH_DATE,LAUNCH_SITE,DECAY_DATE,PERIOD,INCLINATION,APOGEE,PERIGEE,RCS,"
    "DATA_STATUS_CODE,ORBIT_CENTER,ORBIT_TYPE"
)
# CelesTrak's own SATCAT CSV codes the type (PAY, R/B, DEB, UNK) and gives RCS in m^2.
CELESTRAK_ROWS = [
    "VANGUARD 1,1958-002B,5,PAY,,US,1958-03-17,AFETR,,132.7,34.25,3835,651,0.122,,EA,ORB",
    "SL-8 R/B,1970-001B,4235,R/B,,CIS,1970-01-09,PKMTR,,95.0,74.0,500,480,4.0,,EA,ORB",
    "COSMOS 2251 DEB,1993-036PX,34427,DEB,,CIS,1993-06-16,PKMTR,,100.0,74.0,800,700,0.02,,EA,ORB",
    "OBJECT X,2000-001Z,40000,UNK,,TBD,2000-01-01,AFETR,,100.0,74.0,800,700,,,EA,ORB",
]


def test_celestrak_codes_and_numeric_rcs():
    items = list(iter_satcat([CELESTRAK_HEADER, *CELESTRAK_ROWS], "celestrak.csv"))
    assert items == [
        SatcatEntry(5, "PAYLOAD", "US", "MEDIUM", "VANGUARD 1"),
        SatcatEntry(4235, "ROCKET BODY", "CIS", "LARGE", "SL-8 R/B"),
        SatcatEntry(34427, "DEBRIS", "CIS", "SMALL", "COSMOS 2251 DEB"),
        SatcatEntry(40000, "UNKNOWN", "TBD", "", "OBJECT X"),
    ]
    # Space-Track's class limits: SMALL < 0.1 m^2, MEDIUM 0.1..1 m^2, LARGE > 1 m^2.
    assert [rcs_class(x) for x in (0.0999, 0.1, 1.0, 1.0001)] == [
        "SMALL",
        "MEDIUM",
        "MEDIUM",
        "LARGE",
    ]


def test_bad_satcat_rows_are_reported():
    rows = [
        CELESTRAK_HEADER,
        CELESTRAK_ROWS[0],
        CELESTRAK_ROWS[1].replace(",4235,", ",42x5,"),
        CELESTRAK_ROWS[2].replace(",DEB,", ",SPACESHIP,"),
        "X,1999-001A,25000,PAY",
    ]
    items = list(iter_satcat(rows, "s.csv"))
    problems = [i for i in items if isinstance(i, Problem)]
    assert [i.norad_id for i in items if isinstance(i, SatcatEntry)] == [5]
    assert [(p.line, p.reason) for p in problems] == [
        (3, "NORAD_CAT_ID '42x5' is not an integer"),
        (4, "unknown OBJECT_TYPE 'SPACESHIP'"),
        (5, "4 columns, expected 17 as in the header"),
    ]
    (problem,) = list(iter_satcat(["NAME,EPOCH", "A,B"], "other.csv"))
    assert "not a SATCAT CSV" in problem.reason


def test_empty_satcat_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text(CELESTRAK_HEADER + "\n")
    with pytest.raises(LoadError, match="no SATCAT entries"):
        load_satcat(path)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("COSMOS 2251 DEB", "DEBRIS"),
        ("FENGYUN 1C DEB", "DEBRIS"),
        ("SL-8 R/B", "ROCKET BODY"),
        ("CZ-4 R/B DEB", "DEBRIS"),
        ("DEBUT (ORIZURU)", "PAYLOAD"),
        ("ISS (ZARYA)", "PAYLOAD"),
        ("TBA - TO BE ASSIGNED", "UNKNOWN"),
        ("UNKNOWN", "UNKNOWN"),
        ("", "UNKNOWN"),
    ],
)
def test_type_from_name(name, expected):
    assert type_from_name(name) == expected


def test_shared_celestrak_satcat(shared_file):
    path = shared_file("satcat-2025-03.csv.gz")
    entries, problems = load_satcat(path)
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    assert problems == []
    assert len(entries) == len(rows) == 62652
    types = Counter(e.object_type for e in entries.values())
    assert types == Counter(r["OBJECT_TYPE"] for r in rows)
    # The shared README's table.
    assert types == {"PAYLOAD": 20367, "DEBRIS": 35591, "ROCKET BODY": 6530, "UNKNOWN": 164}
    assert all(entries[int(r["NORAD_CAT_ID"])].owner == r["OWNER"] for r in rows)


def test_shared_space_track_satcat_gives_rcs_and_country(shared_file):
    path = shared_file("satcat-spacetrack-leo-onorbit-2025-03.csv")
    entries, problems = load_satcat(path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert problems == [] and len(entries) == len(rows) == 24062
    assert Counter(e.rcs_size for e in entries.values()) == Counter(r["RCS_SIZE"] for r in rows)
    assert Counter(e.owner for e in entries.values()) == Counter(r["COUNTRY"] for r in rows)
    assert Counter(e.object_type for e in entries.values()) == {
        "PAYLOAD": 11695,
        "DEBRIS": 10810,
        "ROCKET BODY": 976,
        "UNKNOWN": 581,
    }

    catalog = Catalog.load(shared_file("catalog-2024-07-05.3le"), satcat=path)
    by_id = {int(r["NORAD_CAT_ID"]): r for r in rows}
    expected = [by_id[n]["RCS_SIZE"] if n in by_id else "" for n in catalog.norad_id.tolist()]
    assert catalog.rcs_size.tolist() == expected
    assert catalog.load_report.satcat_matched == sum(n in by_id for n in catalog.norad_id.tolist())
    assert catalog.type_source == "satcat"
    assert np.count_nonzero(catalog.rcs_size == "LARGE") > 1000
