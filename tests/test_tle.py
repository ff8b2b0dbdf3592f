"""TLE / 3LE reading, checked against sgp4's own verification set and its parser."""

from __future__ import annotations

import gzip
import importlib.resources
import re

import numpy as np
import pytest
from sgp4.alpha5 import from_alpha5
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle
from sgp4.io import compute_checksum

from ssa.catalog import Catalog
from ssa.errors import InputFileError
from ssa.io.problems import TLE_TEMPLATE_LINE2, Problem
from ssa.io.tle import (
    TleRecord,
    check_tle,
    checksum,
    decode_catalog_number,
    encode_catalog_number,
    iter_tle,
)

# python-sgp4's own tolerance when it regenerates tcppver.out (km and km/s):
# the file prints 8 decimals, SGP4 in C++ vs the reference differs by rounding.
TCPPVER_TOLERANCE_KM = 2e-7
# Same satrec, same code: the positions must agree to the last bit.
IDENTICAL_KM = 0.0

VANGUARD_1 = (
    "1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753",
    "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667",
)
ISS = (
    "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537",
)


def with_checksum(line: str) -> str:
    """Return ``line`` with its checksum column recomputed by sgp4."""
    return line[:68] + str(compute_checksum(line[:68]))


def sgp4_ver_lines() -> list[str]:
    """SGP4-VER.TLE from the installed sgp4 wheel; columns after 69 on line 2 hold the
    verification start/stop/step minutes, not TLE data, so they are cut off."""
    text = (importlib.resources.files("sgp4") / "SGP4-VER.TLE").read_text()
    return [line[:69] if line[:2] in ("1 ", "2 ") else line for line in text.splitlines()]


def tcppver_blocks() -> dict:
    """{satnum: [(tsince_min, x, y, z, vx, vy, vz), ...]} from sgp4's tcppver.out."""
    text = (importlib.resources.files("sgp4") / "tcppver.out").read_text()
    blocks: dict = {}
    current = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1] == "xx":
            current = blocks.setdefault(int(fields[0]), [])
        elif fields:
            current.append(tuple(float(f) for f in fields[:7]))
    return blocks


def test_checksum_agrees_with_sgp4():
    lines = [line for line in sgp4_ver_lines() if line[:2] in ("1 ", "2 ")]
    assert len(lines) == 66
    assert [checksum(line) for line in lines] == [compute_checksum(line) for line in lines]


def test_sgp4_verification_set_loads_and_matches_tcppver():
    catalog = Catalog.from_tle(sgp4_ver_lines(), source="SGP4-VER.TLE")
    report = catalog.load_report
    # Independent count: pairs whose lines fail sgp4's checksum (the file's error-code
    # cases 33333-33335 were edited without updating the checksum).
    lines = [line for line in sgp4_ver_lines() if line[:2] in ("1 ", "2 ")]
    pairs = list(zip(lines[::2], lines[1::2], strict=True))
    bad = {
        int(l1[2:7])
        for l1, l2 in pairs
        if int(l1[68]) != compute_checksum(l1) or int(l2[68]) != compute_checksum(l2)
    }
    numbers = [int(l1[2:7]) for l1, _ in pairs]
    assert bad == {33333, 33334, 33335}
    assert report.read == len(pairs) == 33
    assert report.skipped == len(bad)
    assert all("checksum" in p.reason for p in report.problems)
    assert report.duplicates_dropped == len(numbers) - len(set(numbers))  # 20413 twice
    assert len(catalog) == len(set(numbers) - bad) == 29
    assert sorted(catalog.norad_id.tolist()) == sorted(set(numbers) - bad)
    assert report.read == report.loaded + report.skipped + report.duplicates_dropped

    blocks = tcppver_blocks()
    compared = 0
    for i, norad in enumerate(catalog.norad_id.tolist()):
        sat = catalog.satrecs[i]
        l1, l2 = next((a, b) for a, b in pairs if int(a[2:7]) == norad)
        direct = Satrec.twoline2rv(l1, l2, WGS72)
        for row in blocks[norad]:
            tsince = row[0]
            e, r, v = sat.sgp4_tsince(tsince)
            e2, r2, v2 = direct.sgp4_tsince(tsince)
            assert (e, r, v) == (e2, r2, v2)
            assert e == 0
            assert np.max(np.abs(np.array(r + v) - np.array(row[1:]))) <= TCPPVER_TOLERANCE_KM
            compared += 1
    assert compared > 500


def test_two_line_three_line_and_name_prefix_forms_agree(tmp_path):
    two = "\n".join(VANGUARD_1 + ISS)
    three = "\n".join(("VANGUARD 1",) + VANGUARD_1 + ("ISS (ZARYA)",) + ISS)
    space_track = "\r\n".join(("0 VANGUARD 1",) + VANGUARD_1 + ("0 ISS (ZARYA)",) + ISS) + "\r\n"
    spaced = "\n\n" + three.replace("\n", "\n\n") + "\n\n"
    catalogs = [
        Catalog.from_tle(t.splitlines(True), source="x") for t in (two, three, space_track, spaced)
    ]
    gz = tmp_path / "cat.tle.gz"
    gz.write_bytes(gzip.compress(space_track.encode()))
    catalogs.append(Catalog.load(gz))
    assert catalogs[0].name.tolist() == ["", ""]
    for cat in catalogs[1:]:
        assert cat.name.tolist() == ["VANGUARD 1", "ISS (ZARYA)"]
    for cat in catalogs:
        assert cat.norad_id.tolist() == [5, 25544]
        assert cat.intl_des.tolist() == ["1958-002B", "1998-067A"]
        assert cat.load_report.skipped == 0
        for sat, lines in zip(cat.satrecs, (VANGUARD_1, ISS), strict=True):
            assert sat.sgp4_tsince(720.0) == Satrec.twoline2rv(*lines, WGS72).sgp4_tsince(720.0)
    assert catalogs[4].source.tolist() == [f"{gz}:1", f"{gz}:4"]


def test_alpha5_round_trip():
    numbers = list(range(0, 340000, 7)) + [99999, 100000, 179999, 180000, 239999, 240000, 339999]
    for n in numbers:
        field = encode_catalog_number(n)
        assert len(field) == 5
        assert decode_catalog_number(field) == from_alpha5(field) == n
    assert decode_catalog_number("T0288") == 270288
    assert encode_catalog_number(270288) == "T0288"
    assert not any(encode_catalog_number(n)[0] in "IO" for n in numbers)


def test_alpha5_tle_loads_and_exports_through_sgp4():
    l1 = with_checksum(VANGUARD_1[0][:2] + "T0288" + VANGUARD_1[0][7:])
    l2 = with_checksum(VANGUARD_1[1][:2] + "T0288" + VANGUARD_1[1][7:])
    catalog = Catalog.from_tle(["0 TBA - TO BE ASSIGNED", l1, l2])
    assert catalog.norad_id.dtype == np.int64
    assert catalog.norad_id.tolist() == [270288]
    assert catalog.object_type.tolist() == ["UNKNOWN"]
    out1, out2 = export_tle(catalog.satrecs[0])
    assert out1[2:7] == out2[2:7] == "T0288"
    again = Catalog.from_tle([out1, out2])
    assert again.norad_id.tolist() == [270288]
    assert again.satrecs[0].sgp4_tsince(100.0) == catalog.satrecs[0].sgp4_tsince(100.0)


def test_old_space_track_plus_and_zero_padded_forms():
    l1, l2 = ISS
    # Old Space-Track output: explicit '+' signs and zero-padded angle fields.
    old1 = with_checksum(l1[:33] + "-.00002182 +00000-0 -11606-4" + l1[61:])
    old2 = with_checksum(l2[:8] + "051.6416 247.4627 0006703 130.5360 325.0288" + l2[51:])
    assert old1 != l1 and old2 != l2
    assert check_tle(TleRecord("", old1, old2, 1)) is None
    old1b = with_checksum(l1[:33] + "+.00002182 +00000+0 +11606-4" + l1[61:])
    assert check_tle(TleRecord("", old1b, old2, 1)) is None
    new = Catalog.from_tle(ISS).satrecs[0]
    old = Catalog.from_tle([old1, old2]).satrecs[0]
    for tsince in (0.0, 90.0, 1440.0):
        assert old.sgp4_tsince(tsince) == new.sgp4_tsince(tsince)


def _load_with(bad_lines: list[str], **kwargs) -> Catalog:
    lines = ["0 VANGUARD 1", *VANGUARD_1, *bad_lines, "0 ISS (ZARYA)", *ISS]
    return Catalog.from_tle(lines, source="bad.tle", **kwargs)


def _mangle(line: str, column: int, text: str) -> str:
    """Return ``line`` with ``text`` written from 1-based ``column``."""
    return line[: column - 1] + text + line[column - 1 + len(text) :]


SAT = (
    "1 11111U 99001A   24001.50000000  .00001000  00000-0  10000-3 0  9990",
    "2 11111  51.0000  10.0000 0010000  90.0000 270.0000 15.00000000 10000",
)
GOOD = (with_checksum(SAT[0]), with_checksum(SAT[1]))

MALFORMED = [
    # (name, lines between the two good sets, expected reason fragment)
    (
        "bad checksum",
        [GOOD[0][:68] + str((int(GOOD[0][68]) + 1) % 10), GOOD[1]],
        "line 1 checksum is",
    ),
    (
        "fields shifted",
        [GOOD[0], with_checksum(GOOD[1][:8] + " " + GOOD[1][8:67])],
        "line 2 column 17 (blank) is '0'",
    ),
    (
        "letter in a number",
        [GOOD[0], with_checksum(_mangle(GOOD[1], 10, "5l"))],
        "line 2 columns 9-16 (inclination) is ' 5l.0000'",
    ),
    ("truncated line", [GOOD[0], GOOD[1][:60]], "line 2 has 60 columns, expected 69"),
    ("very short line 2", [GOOD[0], GOOD[1][:16]], "line 2 has 16 columns, expected 69"),
    ("non-ASCII", ["0 SAT\u00e9", *GOOD], "non-ASCII character in the name 'SATé'"),
    (
        "non-ASCII in line",
        [GOOD[0], GOOD[1][:20] + "\u00b0" + GOOD[1][21:]],
        "non-ASCII character '°' in line 2 column 21",
    ),
    (
        "negative mean motion",
        [GOOD[0], with_checksum(_mangle(GOOD[1], 53, "-5.00000000"))],
        "mean motion -5.00000000 rev/day is not positive",
    ),
    (
        "numbers differ",
        [GOOD[0], with_checksum(_mangle(GOOD[1], 3, "11112"))],
        "catalog numbers of line 1",
    ),
    ("line 1 alone", [GOOD[0]], "TLE line 1 is not followed by a line 2"),
    ("line 2 alone", [GOOD[1]], "TLE line 2 without a preceding line 1"),
    ("name alone", ["0 LONELY NAME"], "name line not followed by TLE lines"),
    (
        "sgp4 refuses",
        [
            with_checksum("1 33334U 78066F   06174.85818871  .00000620  00000-0  10000-3 0  6809"),
            with_checksum("2 33334  68.4714 236.1303 5602877 123.7484 302.5767  0.00001000 67521"),
        ],
        "sgp4 initialisation failed with error 3",
    ),
]


KIND = {
    "bad checksum": "checksum",
    "fields shifted": "layout",
    "letter in a number": "layout",
    "truncated line": "layout",
    "very short line 2": "layout",
    "non-ASCII": "non-ascii",
    "non-ASCII in line": "non-ascii",
    "negative mean motion": "value",
    "numbers differ": "layout",
    "line 1 alone": "pairing",
    "line 2 alone": "pairing",
    "name alone": "pairing",
    "sgp4 refuses": "sgp4",
}
# The file line a problem points at: the damaged line of the record (it starts at
# line 4, right after VANGUARD 1's three lines; line 1 at 4 and line 2 at 5 unless it
# has a name, then 4, 5, 6); the record's first line when the record as a whole is
# wrong (pairing, sgp4), the name line only when the name is the problem.
DAMAGED_LINE = {
    "bad checksum": 4,
    "fields shifted": 5,
    "letter in a number": 5,
    "truncated line": 5,
    "very short line 2": 5,
    "non-ASCII": 4,
    "non-ASCII in line": 5,
    "negative mean motion": 5,
    "numbers differ": 5,
    "line 1 alone": 4,
    "line 2 alone": 4,
    "name alone": 4,
    "sgp4 refuses": 4,
}


@pytest.mark.parametrize("name, bad, fragment", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_each_malformed_record_is_skipped_with_its_reason(name, bad, fragment):
    catalog = _load_with(bad)
    report = catalog.load_report
    assert catalog.norad_id.tolist() == [5, 25544]
    assert (report.read, report.loaded, report.skipped) == (3, 2, 1)
    (problem,) = report.problems
    assert isinstance(problem, Problem)
    assert problem.file == "bad.tle"
    line = DAMAGED_LINE[name]
    assert problem.line == line
    assert fragment in problem.reason
    assert "\n" not in problem.reason
    assert problem.kind == KIND[name]
    assert report.by_kind() == {KIND[name]: 1}
    assert str(problem).startswith(f"bad.tle:{line}: {problem.reason}")
    # The same record alone is the only record: a file with nothing valid is an error.
    with pytest.raises(ValueError, match="no valid element sets"):
        Catalog.from_tle(bad, source="bad.tle")
    # strict turns the problem into an error naming the place, the reason and the text.
    with pytest.raises(InputFileError) as info:
        _load_with(bad, strict=True)
    assert (info.value.path, info.value.line, info.value.reason) == (
        "bad.tle",
        line,
        problem.reason,
    )
    assert isinstance(info.value, ValueError)  # library callers catching ValueError still do
    message = str(info.value)
    assert f"bad.tle:{line}:" in message and fragment in message


def test_checksum_error_on_line_2_of_a_3le_names_that_line():
    """The issue's example: a 3LE whose line 2 checksum is wrong points at line 2's line."""
    bad2 = GOOD[1][:68] + str((int(GOOD[1][68]) + 1) % 10)
    catalog = _load_with(["0 DAMAGED", GOOD[0], bad2])
    (problem,) = catalog.load_report.problems
    assert (problem.line, problem.kind) == (6, "checksum")  # name 4, line 1 at 5, line 2 at 6
    assert problem.reason.startswith("line 2 checksum")


def test_layout_error_shows_the_column_template():
    line2 = with_checksum(GOOD[1][:8] + " " + GOOD[1][8:67])
    with pytest.raises(ValueError) as info:
        Catalog.from_tle([GOOD[0], line2], strict=True)
    message = str(info.value)
    assert TLE_TEMPLATE_LINE2 in message
    assert "see the column template above the line" in message
    # The template sits right above the offending line, as python-sgp4 shows it.
    assert f"{TLE_TEMPLATE_LINE2}\n    {line2}" in message


def test_duplicates_keep_the_newest_epoch_either_order():
    older = (GOOD[0], GOOD[1])
    newer = (
        with_checksum(_mangle(GOOD[0], 19, "24002.50000000")),
        with_checksum(_mangle(GOOD[1], 18, " 20.0000")),
    )
    for order in ((older, newer), (newer, older)):
        catalog = Catalog.from_tle([*order[0], *VANGUARD_1, *order[1]])
        report = catalog.load_report
        assert (report.read, report.loaded, report.duplicates_dropped) == (3, 2, 1)
        i = catalog.norad_id.tolist().index(11111)
        assert catalog.epoch_jd[i] + catalog.epoch_fr[i] == pytest.approx(2460312.0, abs=1e-9)
        assert np.degrees(catalog.raan_rad[i]) == pytest.approx(20.0)


def test_parser_is_a_generator_over_lines():
    items = iter_tle(iter(["0 A", *GOOD, "junk name", "0 B"]), source="mem")
    first = next(items)
    assert first == TleRecord("A", GOOD[0], GOOD[1], 1, 2, 3)
    rest = list(items)
    assert [type(x) for x in rest] == [Problem, Problem]
    assert [p.line for p in rest] == [4, 5]


def test_shared_snapshots_name_forms_and_alpha5(shared_file):
    path = shared_file("catalog-2024-07-05.3le")
    raw = path.read_text().splitlines()
    alpha5 = {
        from_alpha5(line[2:7])
        for line in raw
        if line.startswith("1 ") and re.match(r"[A-Z]", line[2])
    }
    catalog = Catalog.load(path)
    assert len(alpha5) > 0
    assert set(catalog.norad_id[catalog.norad_id > 99999].tolist()) == alpha5
    assert 270288 in alpha5
    assert "0 " not in "".join(n[:2] for n in catalog.name)


def test_undecodable_bytes_and_commas_in_names(tmp_path):
    path = tmp_path / "latin1.3le"
    good = "\n".join(["0 OBJECT A, B", *VANGUARD_1]).encode()
    bad = "\n".join(["0 SAT", *GOOD]).encode().replace(b"0 SAT", b"0 SAT\xe9")
    path.write_bytes(good + b"\n" + bad + b"\n")
    catalog = Catalog.load(path)  # a comma in a name does not make it CSV
    assert catalog.name.tolist() == ["OBJECT A, B"]
    (problem,) = catalog.load_report.problems
    assert problem.kind == "non-ascii" and problem.line == 4
    # A single string is taken as text, not as an iterable of characters.
    assert Catalog.from_tle("\n".join(VANGUARD_1)).norad_id.tolist() == [5]


def test_fast_layout_regex_and_field_checks_agree(shared_file):
    """Every real line passes both the fast regex and the field-by-field check; a
    mangled line fails both (so the fast path never hides a layout error)."""
    from ssa.io.tle import _LINE1_RE, _LINE2_RE, _layout_error

    lines = shared_file("catalog-2023-09-04.3le").read_text().splitlines()
    for which, regex in ((1, _LINE1_RE), (2, _LINE2_RE)):
        real = [x for x in lines if x.startswith(f"{which} ")]
        assert len(real) == 25587
        assert all(regex.fullmatch(x) for x in real)
        assert all(_layout_error(x, which) is None for x in real[::50])
        for x in real[::997]:
            for column in (5, 12, 25, 40, 60):
                bad = x[: column - 1] + "x" + x[column:]
                free_text = which == 1 and 10 <= column <= 17  # the designator
                if bad[column - 1] != x[column - 1] and not free_text:
                    assert not regex.fullmatch(bad)
                    assert _layout_error(bad, which) is not None


def test_names_that_start_like_tle_lines():
    lines = ["1 SPACE ODYSSEY", *GOOD, "2 MASS", *VANGUARD_1]
    catalog = Catalog.from_tle(lines)
    assert catalog.name.tolist() == ["1 SPACE ODYSSEY", "2 MASS"]
    assert catalog.load_report.skipped == 0
