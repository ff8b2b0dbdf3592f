"""The in-memory Catalog on the shared real snapshots: counts, join, views, speed."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sgp4.api import jday
from sgp4.earth_gravity import wgs72
from sgp4.io import twoline2rv as legacy_twoline2rv
from sgp4.propagation import sgp4 as legacy_sgp4

from ssa.catalog import Catalog, LoadReport
from ssa.io.problems import LoadError

# Shared README: objects per snapshot, DEB by name, epoch median (UTC, to the minute).
SNAPSHOTS = {
    "catalog-2024-07-05.3le": (26389, 10544, "2024-07-05 09:53"),
    "catalog-2023-09-04.3le": (25587, 11336, "2023-09-04 12:35"),
    "catalog-2024-11-01.omm.csv": (26834, 10782, "2024-10-31 10:36"),
}
SATCAT = "satcat-2025-03.csv.gz"
# C++ sgp4 vs sgp4's pure-Python legacy code, same elements and mode (measured <= 3e-9 km).
LEGACY_TOLERANCE_KM = 1e-8
# Times (minutes from epoch) at which the operation modes are compared, and the gap
# (1 m) above which 'a' and 'i' count as different for an object.
OPSMODE_OFFSETS_MIN = (0.0, 720.0, 4320.0)
OPSMODE_DIFFERENCE_KM = 1e-3
_DEB = re.compile(r"\bDEB\b")


def raw_names_and_epochs(path) -> tuple[list[str], list[datetime]]:
    """Names and epochs by plain reading: 3LE columns, or the OMM CSV columns."""
    if path.suffix == ".csv":
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        return (
            [r["OBJECT_NAME"].strip() for r in rows],
            [datetime.fromisoformat(r["EPOCH"]).replace(tzinfo=timezone.utc) for r in rows],
        )
    lines = [x for x in path.read_text().splitlines() if x.strip()]
    names = [x[2:].strip() for x in lines[0::3]]
    epochs = []
    for line in lines[1::3]:
        yy = int(line[18:20])
        year = 1900 + yy if yy >= 57 else 2000 + yy
        epochs.append(
            datetime(year, 1, 1, tzinfo=timezone.utc) + timedelta(days=float(line[20:32]) - 1.0)
        )
    return names, epochs


def to_datetime(jd: float, fr: float) -> datetime:
    return datetime(2000, 1, 1, 12, tzinfo=timezone.utc) + timedelta(days=(jd - 2451545.0) + fr)


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_every_element_set_of_the_shared_snapshots_loads(name, shared_file):
    objects, debris, median = SNAPSHOTS[name]
    path = shared_file(name)
    catalog = Catalog.load(path)
    report = catalog.load_report
    names, epochs = raw_names_and_epochs(path)
    assert len(names) == objects
    assert (report.read, report.loaded, report.skipped, report.duplicates_dropped) == (
        objects,
        objects,
        0,
        0,
    )
    assert len(catalog) == objects
    assert catalog.name.tolist() == names
    assert catalog.type_source == "name"
    assert (
        np.count_nonzero(catalog.object_type == "DEBRIS")
        == debris
        == sum(bool(_DEB.search(n)) for n in names)
    )
    assert np.count_nonzero(catalog.object_type == "ROCKET BODY") == sum(
        "R/B" in n and not _DEB.search(n) for n in names
    )
    ours = [to_datetime(jd, fr) for jd, fr in zip(catalog.epoch_jd, catalog.epoch_fr, strict=True)]
    assert max(abs((a - b).total_seconds()) for a, b in zip(ours, epochs, strict=True)) < 1e-3
    assert to_datetime(*catalog.epoch_median()).strftime("%Y-%m-%d %H:%M") == median
    assert catalog.source[0] == f"{path}:{1 if path.suffix != '.csv' else 2}"


def test_satcat_join_matches_an_independent_join(shared_file):
    path = shared_file("catalog-2024-11-01.omm.csv")
    catalog = Catalog.load(path, satcat=shared_file(SATCAT))
    with gzip.open(shared_file(SATCAT), "rt", newline="") as f:
        satcat = {int(r["NORAD_CAT_ID"]): r for r in csv.DictReader(f)}
    with open(path, newline="") as f:
        ids = [int(r["NORAD_CAT_ID"]) for r in csv.DictReader(f)]
    expected_types = Counter(satcat[i]["OBJECT_TYPE"] if i in satcat else "UNKNOWN" for i in ids)
    expected_owners = Counter(satcat[i]["OWNER"] if i in satcat else "" for i in ids)
    assert Counter(catalog.object_type.tolist()) == expected_types
    assert Counter(catalog.owner.tolist()) == expected_owners
    # The shared README: 13,124 payloads, 10,895 debris, 2,144 rocket bodies, and
    # 90 unknown + 567 analyst objects + 14 numbers missing from the SATCAT.
    assert expected_types == {
        "PAYLOAD": 13124,
        "DEBRIS": 10895,
        "ROCKET BODY": 2144,
        "UNKNOWN": 90 + 567 + 14,
    }
    assert [expected_owners[o] for o in ("US", "CIS", "PRC")] == [12018, 5814, 5142]
    report = catalog.load_report
    assert report.satcat_missing == sum(i not in satcat for i in ids) == 567 + 14
    assert report.satcat_matched == len(ids) - report.satcat_missing
    assert catalog.type_source == "satcat"
    # README coverage claim: 25,001 of 25,009 non-analyst objects of 2023-09-04.
    old = Catalog.load(shared_file("catalog-2023-09-04.3le"), satcat=satcat_dict(satcat))
    analyst = (old.norad_id >= 270000) | ((old.norad_id >= 80000) & (old.norad_id < 90000))
    assert np.count_nonzero(~analyst) == 25009
    assert np.count_nonzero(np.isin(old.norad_id[~analyst], list(satcat))) == 25001


def satcat_dict(rows: dict) -> dict:
    from ssa.io.satcat import SatcatEntry

    return {
        n: SatcatEntry(n, r["OBJECT_TYPE"], r["OWNER"], "", r["OBJECT_NAME"])
        for n, r in rows.items()
    }


def test_full_snapshot_with_satcat_loads(shared_file):
    """Everything loads and joins (the time budget is benchmarks/budgets.py's)."""
    catalog = Catalog.load(shared_file("catalog-2024-07-05.3le"), satcat=shared_file(SATCAT))
    assert len(catalog) == 26389
    assert catalog.type_source == "satcat"
    assert catalog.load_report.satcat_matched + catalog.load_report.satcat_missing == 26389
    assert catalog.load_report.satcat_matched == 25859  # measured; most others analyst objects


def test_files_together_keep_the_newest_element_set(shared_file, tmp_path):
    old_path, new_path = (
        shared_file("catalog-2023-09-04.3le"),
        shared_file("catalog-2024-07-05.3le"),
    )
    # The newer file gzipped with CRLF line ends: both must be transparent.
    crlf = tmp_path / "new.3le.gz"
    crlf.write_bytes(gzip.compress(new_path.read_bytes().replace(b"\n", b"\r\n"), 1))
    both = Catalog.load([crlf, old_path])
    old, new = Catalog.load(old_path), Catalog.load(new_path)
    common = np.intersect1d(old.norad_id, new.norad_id)
    report = both.load_report
    assert report.read == len(old) + len(new)
    assert report.duplicates_dropped == len(common)
    assert len(both) == len(np.union1d(old.norad_id, new.norad_id))
    assert report.files == [str(crlf), str(old_path)]
    # Every common object keeps the 2024 element set (the newer epoch).
    index = {n: i for i, n in enumerate(both.norad_id.tolist())}
    new_index = {n: i for i, n in enumerate(new.norad_id.tolist())}
    rows = [index[n] for n in common.tolist()]
    assert np.array_equal(both.epoch_jd[rows], new.epoch_jd[[new_index[n] for n in common]])
    assert np.array_equal(both.epoch_fr[rows], new.epoch_fr[[new_index[n] for n in common]])
    assert all(s.startswith(f"{crlf}:") for s in both.source[rows])


def test_opsmode_is_carried_and_matches_sgp4_legacy_afspc_mode(shared_file):
    path = shared_file("catalog-2024-07-05.3le")
    afspc, improved = Catalog.load(path, opsmode="a"), Catalog.load(path)
    assert (afspc.opsmode, improved.opsmode) == ("a", "i")
    assert {s.operationmode for s in afspc.satrecs} == {"a"}
    # Where the modes matter: deep-space objects at low inclination (Lyddane branch).
    candidates = np.flatnonzero((afspc.period_min >= 225.0) & (afspc.inclination_rad < 0.2))
    differ = []
    for i in candidates.tolist():
        gap = max(
            np.max(
                np.abs(
                    np.subtract(
                        afspc.satrecs[i].sgp4_tsince(t)[1], improved.satrecs[i].sgp4_tsince(t)[1]
                    )
                )
            )
            for t in OPSMODE_OFFSETS_MIN
        )
        if gap > OPSMODE_DIFFERENCE_KM:
            differ.append(i)
    assert len(differ) >= 3
    lines = path.read_text().splitlines()
    near = np.arange(0, len(afspc), 2500).tolist()
    for i in differ + near:
        line = int(afspc.source[i].rsplit(":", 1)[1])  # the name line; TLE lines follow
        legacy = legacy_twoline2rv(lines[line], lines[line + 1], wgs72, opsmode="a")
        for tsince in OPSMODE_OFFSETS_MIN:
            e, r, _ = afspc.satrecs[i].sgp4_tsince(tsince)
            r_legacy, _ = legacy_sgp4(legacy, tsince)
            assert e == 0
            assert np.max(np.abs(np.subtract(r, r_legacy))) < LEGACY_TOLERANCE_KM
    with pytest.raises(ValueError, match="opsmode must be 'i'"):
        Catalog.load(path, opsmode="x")


@pytest.fixture(scope="module")
def joined(shared_file) -> Catalog:
    return Catalog.load(shared_file("catalog-2024-11-01.omm.csv"), satcat=shared_file(SATCAT))


def test_orbit_geometry_and_regimes(joined):
    cat = joined
    radius = np.array([s.radiusearthkm for s in cat.satrecs])
    altp = np.array([s.altp for s in cat.satrecs]) * radius  # sgp4's own, Earth radii
    alta = np.array([s.alta for s in cat.satrecs]) * radius
    assert np.allclose(cat.perigee_km, altp, rtol=0, atol=1e-6)
    assert np.allclose(cat.apogee_km, alta, rtol=0, atol=1e-6)
    assert np.allclose(cat.period_min, 1440.0 / (cat.mean_motion_rad_min * 1440.0 / (2 * np.pi)))
    # Plain loop with the documented rules.
    expected = []
    for per, e, apo in zip(cat.period_min, cat.eccentricity, cat.apogee_km, strict=True):
        if apo < 2000.0:
            expected.append("LEO")
        elif 1300.0 <= per <= 1800.0 and e < 0.1:
            expected.append("GEO")
        elif e >= 0.25:
            expected.append("HEO")
        else:
            expected.append("MEO")
    assert cat.regime.tolist() == expected
    counts = Counter(expected)
    assert counts["LEO"] > 20000 and counts["GEO"] > 1000 and counts["MEO"] > 500


def test_select_subset_and_satrec_array(joined):
    cat = joined
    debris = cat.select(types="DEBRIS")
    assert len(debris) == 10895 and set(debris.object_type) == {"DEBRIS"}
    us_leo_payloads = cat.select(types=["payload"], owners="US", regimes="LEO")
    assert len(us_leo_payloads) == sum(
        t == "PAYLOAD" and o == "US" and r == "LEO"
        for t, o, r in zip(cat.object_type, cat.owner, cat.regime, strict=True)
    )
    two = cat.select(ids=[25544, 5])
    assert sorted(two.norad_id.tolist()) == [5, 25544]
    assert (
        two.satrecs[two.norad_id.tolist().index(25544)]
        is cat.satrecs[cat.norad_id.tolist().index(25544)]
    )
    with pytest.raises(ValueError, match="expected some of"):
        cat.select(types="SPACESHIP")
    with pytest.raises(ValueError, match="mask has shape"):
        cat.subset(np.ones(3, dtype=bool))
    part = cat.subset(np.arange(0, len(cat), 50))
    jd, fr = jday(2024, 11, 1, 0, 0, 0.0)
    e, r, v = part.satrec_array().sgp4(np.array([jd]), np.array([fr]))
    for k, sat in enumerate(part.satrecs):
        e1, r1, v1 = sat.sgp4(jd, fr)
        assert e[k, 0] == e1
        if e1 == 0:
            assert tuple(r[k, 0]) == r1 and tuple(v[k, 0]) == v1


def test_age_and_epoch_median(joined):
    cat = joined
    jd, fr = jday(2024, 11, 1, 0, 0, 0.0)
    age = cat.age_days(jd, fr)
    epochs = (cat.epoch_jd - 2460000.5) + cat.epoch_fr
    assert np.allclose(age, (jd - 2460000.5 + fr) - epochs, atol=1e-9)
    mjd, mfr = cat.epoch_median()
    assert 0.0 <= mfr < 1.0
    assert (mjd - 2460000.5) + mfr == pytest.approx(np.median(epochs), abs=1e-9)


def test_load_errors(tmp_path, shared_file):
    empty = tmp_path / "empty.tle"
    empty.write_text("\n\n")
    with pytest.raises(LoadError, match="no valid element sets"):
        Catalog.load(empty)
    with pytest.raises(ValueError, match="looks like a SATCAT"):
        Catalog.load(shared_file(SATCAT))
    with pytest.raises(FileNotFoundError):
        Catalog.load(tmp_path / "missing.tle")
    with pytest.raises(ValueError, match="at least one"):
        Catalog.load([])
    report = LoadReport(read=3, loaded=1, skipped=2)
    assert report.by_kind() == {}


def test_a_file_without_valid_records_fails_the_load(tmp_path, shared_file):
    good = tmp_path / "good.tle"
    good.write_text(shared_file("catalog-2024-07-05.3le").read_text()[:2000])
    bad = tmp_path / "bad.tle"
    bad.write_text("0 JUST A NAME\n")
    assert len(Catalog.load(good)) > 5
    with pytest.raises(LoadError, match=f"no valid element sets in {bad} \\(1 records skipped\\)"):
        Catalog.load([good, bad])


def test_bad_satcat_rows_are_kept_in_the_report(tmp_path, shared_file):
    satcat = tmp_path / "satcat.csv"
    satcat.write_text("NORAD_CAT_ID,OBJECT_TYPE,OWNER\n5,PAYLOAD,US\nX5,DEBRIS,US\n")
    catalog = Catalog.load(shared_file("catalog-2024-07-05.3le"), satcat=satcat)
    report = catalog.load_report
    assert report.satcat_matched == 1 and report.satcat_missing == len(catalog) - 1
    (problem,) = report.satcat_problems
    assert (problem.file, problem.line, problem.kind) == (str(satcat), 3, "value")
    assert catalog.object_type[catalog.norad_id == 5].tolist() == ["PAYLOAD"]
    with pytest.raises(ValueError, match=f"{satcat}:3: NORAD_CAT_ID 'X5'"):
        Catalog.load(shared_file("catalog-2024-07-05.3le"), satcat=satcat, strict=True)
