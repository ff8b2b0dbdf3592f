"""``ssa catalog info`` on the shared real snapshots, checked against independent counts.

Oracles here read the files with plain text/CSV code (TLE columns, the SATCAT
CSV) or sgp4 directly, not through ``ssa.catalog``; the shared data README
gives the headline numbers.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
import statistics
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sgp4.alpha5 import from_alpha5
from sgp4.api import WGS72, Satrec

from ssa.catalog import (
    EARTH_RADIUS_KM,
    GEO_ECCENTRICITY_MAX,
    GEO_PERIOD_MAX_MIN,
    GEO_PERIOD_MIN_MIN,
    HEO_ECCENTRICITY_MIN,
    LEO_APOGEE_MAX_KM,
)
from ssa.cli import main

SNAPSHOT = "catalog-2024-07-05.3le"
OMM_SNAPSHOT = "catalog-2024-11-01.omm.csv"
SATCAT = "satcat-2025-03.csv.gz"
EPOCH_TOLERANCE_S = 1.0  # the summary prints epochs rounded to the second
OLD_DAYS = 7.0


def read_3le(path):
    """Return [(name, line1, line2)] of a 3LE file by plain line reading."""
    lines = [x for x in path.read_text().splitlines() if x.strip()]
    assert len(lines) % 3 == 0
    out = []
    for i in range(0, len(lines), 3):
        name, l1, l2 = lines[i : i + 3]
        assert name.startswith("0 ") and l1.startswith("1 ") and l2.startswith("2 ")
        out.append((name[2:].strip(), l1, l2))
    return out


def tle_epoch(line1: str) -> datetime:
    """Epoch from TLE line 1 columns 19-32 (two-digit year, day of year)."""
    yy = int(line1[18:20])
    year = 1900 + yy if yy >= 57 else 2000 + yy
    return datetime(year, 1, 1, tzinfo=timezone.utc) + timedelta(days=float(line1[20:32]) - 1.0)


def read_satcat(path):
    with gzip.open(path, "rt", newline="") as fh:
        return {int(r["NORAD_CAT_ID"]): r for r in csv.DictReader(fh)}


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def info_json(capsys, *args) -> dict:
    assert main(["catalog", "info", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def snapshot(shared_file):
    return read_3le(shared_file(SNAPSHOT))


def test_info_full_snapshot_with_satcat(shared_file, snapshot, capsys):
    path, satcat_path = shared_file(SNAPSHOT), shared_file(SATCAT)
    # No wall-clock assertion here: on a shared machine it flakes (speed belongs in benchmarks/).
    s = info_json(capsys, str(path), "--satcat", str(satcat_path))

    # Shared README: 26,389 objects, all parse.
    assert s["objects"] == len(snapshot) == 26389
    assert (s["read"], s["loaded"], s["skipped"], s["duplicates_dropped"]) == (26389, 26389, 0, 0)
    assert s["skipped_by_reason"] == []
    assert s["type_source"] == "satcat"

    # Types and owners: join the TLE catalog numbers with the SATCAT CSV directly.
    satcat = read_satcat(satcat_path)
    ids = [from_alpha5(l1[2:7]) for _, l1, _ in snapshot]
    types = Counter(satcat[i]["OBJECT_TYPE"] if i in satcat else "UNKNOWN" for i in ids)
    assert s["by_type"] == {t: types[t] for t in ("PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN")}
    missing = sum(1 for i in ids if i not in satcat)
    assert s["satcat_missing"] == missing
    owners = Counter(satcat[i]["OWNER"] if i in satcat else "(none)" for i in ids)
    top = sorted(owners.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert s["by_owner"] == dict(top)
    assert s["owners_other"] == len(ids) - sum(c for _, c in top)
    assert list(s["by_owner"])[:3] == ["US", "CIS", "PRC"]

    # Epochs: from the TLE text; the README gives 2024-06-05 / 2024-07-05 09:53 / 2024-07-16.
    epochs = sorted(tle_epoch(l1) for _, l1, _ in snapshot)
    t0 = epochs[0]
    offsets_s = [(e - t0).total_seconds() for e in epochs]
    median = t0 + timedelta(seconds=statistics.median(offsets_s))
    for key, expected in (
        ("epoch_min", epochs[0]),
        ("epoch_median", median),
        ("epoch_max", epochs[-1]),
    ):
        assert abs((parse_utc(s[key]) - expected).total_seconds()) <= EPOCH_TOLERANCE_S, key
    assert s["epoch_min"].startswith("2024-06-05")
    assert s["epoch_median"].startswith("2024-07-05T09:53")
    assert s["epoch_max"].startswith("2024-07-16")
    old = s["old_element_sets"]
    assert old["days"] == OLD_DAYS
    assert old["older_than_median_minus_days"] == sum(
        1 for e in epochs if e < median - timedelta(days=OLD_DAYS)
    )
    assert old["older_than_newest_minus_days"] == sum(
        1 for e in epochs if e < epochs[-1] - timedelta(days=OLD_DAYS)
    )

    # Regimes: sgp4's own mean elements with the stated boundaries.
    regimes = Counter()
    for _, l1, l2 in snapshot:
        sat = Satrec.twoline2rv(l1, l2, WGS72)
        a_km = sat.a * EARTH_RADIUS_KM
        apogee_km = a_km * (1 + sat.ecco) - EARTH_RADIUS_KM
        period_min = 2 * math.pi / sat.no_kozai
        if apogee_km < LEO_APOGEE_MAX_KM:
            regimes["LEO"] += 1
        elif (
            GEO_PERIOD_MIN_MIN <= period_min <= GEO_PERIOD_MAX_MIN
            and sat.ecco < GEO_ECCENTRICITY_MAX
        ):
            regimes["GEO"] += 1
        elif sat.ecco >= HEO_ECCENTRICITY_MIN:
            regimes["HEO"] += 1
        else:
            regimes["MEO"] += 1
    assert s["by_regime"] == {r: regimes[r] for r in ("LEO", "MEO", "GEO", "HEO")}
    assert sum(s["by_regime"].values()) == s["objects"]


def test_info_omm_snapshot_matches_shared_readme(shared_file, capsys):
    s = info_json(capsys, str(shared_file(OMM_SNAPSHOT)), "--satcat", str(shared_file(SATCAT)))
    # Shared README, catalog-2024-11-01.omm.csv joined with satcat-2025-03.csv.gz:
    # 13,124 payloads, 10,895 debris, 2,144 rocket bodies, 90 unknown, 567
    # analyst objects and 14 numbers missing from the SATCAT (both UNKNOWN here).
    assert s["objects"] == 26834
    assert s["by_type"] == {
        "PAYLOAD": 13124,
        "ROCKET BODY": 2144,
        "DEBRIS": 10895,
        "UNKNOWN": 90 + 567 + 14,
    }
    assert s["satcat_missing"] == 567 + 14
    assert (s["by_owner"]["US"], s["by_owner"]["CIS"], s["by_owner"]["PRC"]) == (12018, 5814, 5142)
    assert s["epoch_min"].startswith("2024-10-02")
    assert s["epoch_median"].startswith("2024-10-31T10:36")
    assert s["epoch_max"].startswith("2024-11-03")


def test_info_text_without_satcat_uses_names(shared_file, snapshot, capsys):
    assert main(["catalog", "info", str(shared_file(SNAPSHOT))]) == 0
    out = capsys.readouterr().out
    # Shared README: 10,544 names with the word DEB; R/B names that are not DEB count as rocket bodies.
    deb = sum(1 for name, _, _ in snapshot if re.search(r"\bDEB\b", name))
    rb = sum(1 for name, _, _ in snapshot if "R/B" in name and not re.search(r"\bDEB\b", name))
    assert deb == 10544
    assert re.search(rf"DEBRIS\s+{deb:,}\s", out)
    assert re.search(rf"ROCKET BODY\s+{rb:,}\s", out)
    assert "guessed from names" in out and "owners: unknown without --satcat" in out
    assert "objects: 26,389" in out
    assert "median 2024-07-05T09:53" in out


def corrupt(line: str, column: int, char: str) -> str:
    return line[:column] + char + line[column + 1 :]


@pytest.fixture
def damaged(snapshot, tmp_path):
    """30 real 3LE sets with 3 damaged, plus one exact duplicate appended."""
    sets = [list(s) for s in snapshot[:30]]
    bad_digit = lambda c: str((int(c) + 1) % 10)  # noqa: E731
    sets[2][1] = corrupt(sets[2][1], 68, bad_digit(sets[2][1][68]))  # line 1 checksum
    sets[6][2] = corrupt(sets[6][2], 68, bad_digit(sets[6][2][68]))  # line 2 checksum
    sets[9][2] = sets[9][2][:30] + sets[9][2][31:]  # line 2 one column short
    sets.append(list(snapshot[4]))  # duplicate of set 5
    path = tmp_path / "damaged.3le"
    path.write_text("".join(f"0 {n}\n{a}\n{b}\n" for n, a, b in sets))
    # Each problem names its damaged line, 1-based: set k's name is at 3k + 1, its
    # line 1 at 3k + 2 and its line 2 at 3k + 3.
    return path, {3 * 2 + 2, 3 * 6 + 3, 3 * 9 + 3}


def test_info_reports_skipped_records_grouped_by_reason(damaged, capsys):
    path, bad_lines = damaged
    s = info_json(capsys, str(path))
    assert (s["read"], s["loaded"], s["skipped"], s["duplicates_dropped"]) == (31, 27, 3, 1)
    assert s["objects"] == 27
    groups = {g["reason"]: g for g in s["skipped_by_reason"]}
    assert sum(g["count"] for g in groups.values()) == 3
    assert "line 1 checksum is #, computed #" in groups
    assert "line 2 checksum is #, computed #" in groups
    firsts = {int(g["first"].rsplit(":", 1)[1]) for g in groups.values()}
    assert firsts == bad_lines

    # Text form: counts and each reason with where it first occurred; --problems lists all.
    assert main(["catalog", "info", str(path), "--problems"]) == 0
    captured = capsys.readouterr()
    assert "records: read 31, loaded 27, skipped 3, duplicates dropped 1" in captured.out
    assert f"line 1 checksum is #, computed #  ({path}:{3 * 2 + 2})" in captured.out
    listed = [line for line in captured.err.splitlines() if line.startswith(str(path))]
    assert len(listed) == 3


def test_info_strict_stops_at_first_bad_record(damaged, capsys):
    path, _ = damaged
    assert main(["catalog", "info", str(path), "--strict"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ssa catalog: error:")
    assert f"{path}:{3 * 2 + 2}: line 1 checksum is" in err


def test_info_several_files_drop_duplicates(snapshot, shared_file, tmp_path, capsys):
    # Two real files that share objects: the newest element set of each is kept.
    older = read_3le(shared_file("catalog-2023-09-04.3le"))[:200]
    newer = snapshot[:200]
    a, b = tmp_path / "a.3le", tmp_path / "b.3le"
    a.write_text("".join(f"0 {n}\n{x}\n{y}\n" for n, x, y in older))
    b.write_text("".join(f"0 {n}\n{x}\n{y}\n" for n, x, y in newer))
    ids_a = {from_alpha5(x[2:7]) for _, x, _ in older}
    ids_b = {from_alpha5(x[2:7]) for _, x, _ in newer}
    s = info_json(capsys, str(a), str(b))
    assert s["read"] == 400
    assert s["objects"] == len(ids_a | ids_b)
    assert s["duplicates_dropped"] == len(ids_a & ids_b) > 0
    assert s["epoch_max"].startswith("2024-")


def test_info_missing_file_and_empty_file(tmp_path, capsys):
    assert main(["catalog", "info", str(tmp_path / "nope.3le")]) == 1
    assert "nope.3le" in capsys.readouterr().err
    empty = tmp_path / "empty.3le"
    empty.write_text("\n")
    assert main(["catalog", "info", str(empty)]) == 1
    assert "no valid element sets" in capsys.readouterr().err
