"""TLE / 3LE reading: a generator over text lines (no file access here).

Accepts 2-line sets, 3-line sets with a name line (with or without the
Space-Track ``0 `` prefix), Alpha-5 catalog numbers (``T0288`` = 270288),
old Space-Track zero-padded / ``+`` fields and CRLF line ends. Each set is
checked (ASCII, column layout, checksum, catalog numbers agree) before sgp4
ever sees it; sgp4's own ``Satrec.twoline2rv`` does the parsing proper.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from sgp4.alpha5 import from_alpha5, to_alpha5

from ssa.io.problems import TLE_TEMPLATE_LINE1, TLE_TEMPLATE_LINE2, Problem, clip

TLE_LINE_CHARS = 69  # 68 data columns + checksum


class TleIssue(NamedTuple):
    """Why a TLE record is unusable: ``kind`` (a Problem kind), one-line ``reason``, for
    layout errors which line (1 or 2) breaks the column template (else 0), and
    ``damaged``: the line holding the problem (1, 2; 0 for the name line)."""

    kind: str
    reason: str
    bad_line: int = 0
    damaged: int = 1


@dataclass(frozen=True)
class TleRecord:
    """One element set as text: ``name`` ('' if none), ``line1``, ``line2``, and ``line``,
    the 1-based line number where the set starts (its name line, if it has one);
    ``line1_at``/``line2_at``: the line numbers of lines 1 and 2 (0 if not known)."""

    name: str
    line1: str
    line2: str
    line: int
    line1_at: int = 0
    line2_at: int = 0

    def line_of(self, issue: TleIssue) -> int:
        """Return the file line number that holds ``issue`` (the name line for the name)."""
        at = {0: self.line, 1: self.line1_at, 2: self.line2_at}[issue.damaged]
        return at or self.line


def decode_catalog_number(field: str) -> int:
    """Return the catalog number of a 5-column TLE field, Alpha-5 decoded (``T0288`` -> 270288)."""
    return from_alpha5(field.strip().rjust(5, "0"))


def encode_catalog_number(norad_id: int) -> str:
    """Return the 5-column TLE field for ``norad_id`` (Alpha-5 above 99999, up to 339999)."""
    return to_alpha5(int(norad_id))


def name_from_line(line: str) -> str:
    """Return the object name of a 3LE name line (Space-Track ``0 `` prefix removed)."""
    name = line.strip()
    if name.startswith("0 "):
        name = name[2:].strip()
    return name


# A line starting "1 " or "2 " is taken as a TLE line when at least this long; shorter
# ones are names (3LE names are at most 24 characters). Longer truncated TLE lines are
# still TLE lines, and reported as such.
TLE_LIKE_MIN_CHARS = 30


def _looks_like(line: str, number: str) -> bool:
    """True if ``line`` is TLE line ``number`` ('1' or '2'), maybe damaged, not a name."""
    if line.startswith(number + " "):
        return len(line) >= TLE_LIKE_MIN_CHARS
    return line.startswith(number) and len(line) >= TLE_LINE_CHARS - 1  # lost a blank


def iter_tle(lines: Iterable[str], source: str = "<lines>") -> Iterator[TleRecord | Problem]:
    """Yield a TleRecord per element set and a Problem per line that fits no set.

    Pairing only; the content of a pair is checked by ``check_tle``.
    """
    name: tuple[str, int] | None = None
    line1: tuple[str, int] | None = None
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n").rstrip()
        if not line.strip() or line.startswith("#"):
            continue  # blank lines and '#' comments (as in sgp4's SGP4-VER.TLE) hold no data
        if line1 is not None:
            if line.startswith("2 ") or _looks_like(line, "2"):  # right after line 1: line 2
                yield TleRecord(
                    name_from_line(name[0]) if name else "",
                    line1[0],
                    line,
                    name[1] if name else line1[1],
                    line1[1],
                    number,
                )
                name = line1 = None
                continue
            yield Problem(
                source,
                line1[1],
                "TLE line 1 is not followed by a line 2",
                clip(line1[0]),
                "pairing",
            )
            name = line1 = None
        if _looks_like(line, "1"):
            line1 = (line, number)
        elif _looks_like(line, "2"):
            # A mangled line 1 would have been taken as a name line: show it too.
            before = f"{clip(name[0])}\n    " if name else ""
            yield Problem(
                source,
                name[1] if name else number,
                "TLE line 2 without a preceding line 1",
                before + clip(line),
                "pairing",
            )
            name = None
        else:
            if name is not None:
                yield Problem(
                    source,
                    name[1],
                    "name line not followed by TLE lines 1 and 2",
                    clip(name[0]),
                    "pairing",
                )
            name = (line, number)
    if line1 is not None:
        yield Problem(
            source,
            line1[1],
            "TLE line 1 is not followed by a line 2 (end of input)",
            clip(line1[0]),
            "pairing",
        )
    elif name is not None:
        yield Problem(
            source,
            name[1],
            "name line not followed by TLE lines 1 and 2 (end of input)",
            clip(name[0]),
            "pairing",
        )


# --- layout check -------------------------------------------------------------
# Fast path: one regex per line for the forms seen in practice (including the
# old Space-Track '+' and zero-padded forms). A line that misses it goes through
# the field-by-field check, which either accepts it or names the bad field.


def _right(width: int) -> str:
    """Regex for a right-aligned unsigned integer of ``width`` columns."""
    return "(?:" + "|".join(" " * k + "[0-9]" * (width - k) for k in range(width)) + ")"


_ANGLE = _right(3) + r"\.[0-9]{4}"
_SATNUM = "(?:[0-9A-HJ-NP-Z][0-9]{4}|" + _right(5) + ")"
_IMPLIED = r"[ +-][0-9]{5}[ +-][0-9]"
_LINE1_RE = re.compile(
    "1 " + _SATNUM + r"[A-Z ] [ -~]{8} [0-9 ][0-9]" + _right(3) + r"\.[0-9]{8} "
    r"[ +-]\.[0-9]{8} " + _IMPLIED + " " + _IMPLIED + " [0-9 ] " + _right(4) + "[0-9]"
)
_LINE2_RE = re.compile(
    "2 "
    + _SATNUM
    + " "
    + _ANGLE
    + " "
    + _ANGLE
    + " [0-9]{7} "
    + _ANGLE
    + " "
    + _ANGLE
    + " "
    + _right(2)
    + r"\.[0-9]{8}"
    + _right(5)
    + "[0-9]"
)

# (first column, last column) 1-based inclusive as in the format definitions, what, kind
_LINE1_FIELDS = (
    (1, 1, "line number", "1"),
    (2, 2, "blank", " "),
    (3, 7, "catalog number", "satnum"),
    (8, 8, "classification", "class"),
    (9, 9, "blank", " "),
    (10, 17, "international designator", "text"),
    (18, 18, "blank", " "),
    (19, 20, "epoch year", "int"),
    (21, 32, "epoch day of year", "float"),
    (33, 33, "blank", " "),
    (34, 43, "first derivative of mean motion", "float"),
    (44, 44, "blank", " "),
    (45, 52, "second derivative of mean motion", "implied"),
    (53, 53, "blank", " "),
    (54, 61, "BSTAR drag term", "implied"),
    (62, 62, "blank", " "),
    (63, 63, "ephemeris type", "intblank"),
    (64, 64, "blank", " "),
    (65, 68, "element set number", "intblank"),
    (69, 69, "checksum", "digit"),
)
_LINE2_FIELDS = (
    (1, 1, "line number", "2"),
    (2, 2, "blank", " "),
    (3, 7, "catalog number", "satnum"),
    (8, 8, "blank", " "),
    (9, 16, "inclination", "float"),
    (17, 17, "blank", " "),
    (18, 25, "right ascension of the ascending node", "float"),
    (26, 26, "blank", " "),
    (27, 33, "eccentricity", "digits"),
    (34, 34, "blank", " "),
    (35, 42, "argument of perigee", "float"),
    (43, 43, "blank", " "),
    (44, 51, "mean anomaly", "float"),
    (52, 52, "blank", " "),
    (53, 63, "mean motion", "float"),
    (64, 68, "revolution number", "intblank"),
    (69, 69, "checksum", "digit"),
)
_IMPLIED_SLOW = re.compile(r"[ +-]?[0-9]{1,5}[ +-][0-9]")


def _field_ok(text: str, kind: str) -> bool:
    stripped = text.strip()
    if kind in ("1", "2", " "):
        return text == kind
    if kind == "satnum":
        return bool(re.fullmatch(_SATNUM, text))
    if kind == "class":
        return text.isalpha() or text == " "
    if kind == "text":
        return True
    if kind in ("int", "digits"):
        return stripped.isdigit() and " " not in stripped
    if kind == "intblank":
        return stripped == "" or stripped.isdigit()
    if kind == "digit":
        return text.isdigit()
    if kind == "implied":
        return bool(_IMPLIED_SLOW.fullmatch(text.lstrip() or "x"))
    if kind == "float":
        if not stripped or " " in stripped:
            return False
        try:
            float(stripped)
        except ValueError:
            return False
        return True
    raise AssertionError(kind)


def _layout_error(line: str, which: int) -> str | None:
    """Return why ``line`` (TLE line 1 or 2) breaks the column layout, or None."""
    if len(line) != TLE_LINE_CHARS:
        return f"line {which} has {len(line)} columns, expected {TLE_LINE_CHARS}"
    for first, last, what, kind in _LINE1_FIELDS if which == 1 else _LINE2_FIELDS:
        text = line[first - 1 : last]
        if not _field_ok(text, kind):
            cols = f"column {first}" if first == last else f"columns {first}-{last}"
            return f"line {which} {cols} ({what}) is {text!r}"
    return None


# Byte value -> its checksum weight: ASCII digits their value, '-' one, anything else 0.
_WEIGHTS = bytes(
    int(chr(b)) if chr(b).isascii() and chr(b).isdigit() else 1 if chr(b) == "-" else 0
    for b in range(256)
)


def checksum(line: str) -> int:
    """Return the TLE checksum of ``line``: digits plus one per '-' over columns 1-68, mod 10."""
    # Weights by a byte table, summed in C (a catalogue has 50,000 lines); a non-ASCII
    # character becomes '?' (weight 0), as it counts nothing.
    return sum(line[:68].encode("ascii", "replace").translate(_WEIGHTS)) % 10


def _non_ascii(text: str, what: str) -> str | None:
    for column, char in enumerate(text, 1):
        if not char.isascii():
            return f"non-ASCII character {char!r} in {what} column {column}"
        if not char.isprintable():  # a tab inside a field made SGP4 return NaN (fuzzing)
            return f"control character {char!r} in {what} column {column}"
    return None


def _printable_ascii(text: str) -> bool:
    return text.isascii() and text.isprintable()


def check_tle(record: TleRecord) -> TleIssue | None:
    """Return why ``record`` is unusable (ASCII, layout, checksum, numbers), or None if fine."""
    l1, l2 = record.line1, record.line2
    if not (record.name.isascii() and _printable_ascii(l1) and _printable_ascii(l2)):
        if not record.name.isascii():
            return TleIssue(
                "non-ascii", f"non-ASCII character in the name {record.name!r}", damaged=0
            )
        which = 1 if not _printable_ascii(l1) else 2
        return TleIssue(
            "non-ascii", _non_ascii(l1 if which == 1 else l2, f"line {which}"), damaged=which
        )
    for which, line, regex in ((1, l1, _LINE1_RE), (2, l2, _LINE2_RE)):
        if not regex.fullmatch(line):
            error = _layout_error(line, which)
            if error:
                return TleIssue(
                    "layout", f"{error}; see the column template above the line", which, which
                )
    for which, line in ((1, l1), (2, l2)):
        expected = checksum(line)
        if int(line[68]) != expected:
            return TleIssue(
                "checksum",
                f"line {which} checksum is {line[68]}, computed {expected}",
                damaged=which,
            )
    if l1[2:7].strip().lstrip("0") != l2[2:7].strip().lstrip("0"):
        return TleIssue(
            "layout",
            f"catalog numbers of line 1 ({l1[2:7]!r}) and line 2 ({l2[2:7]!r}) differ",
            damaged=2,
        )
    mean_motion = float(l2[52:63])
    if mean_motion <= 0.0:
        return TleIssue(
            "value",
            f"mean motion {l2[52:63].strip()} rev/day is not positive (line 2 columns 53-63)",
            damaged=2,
        )
    day = float(l1[20:32])
    if not 1.0 <= day < 367.0:
        return TleIssue(
            "value",
            f"epoch day of year {l1[20:32].strip()} is outside 1 to 366 (line 1 columns 21-32)",
            damaged=1,
        )
    inclination = float(l2[8:16])
    if not 0.0 <= inclination <= 180.0:
        return TleIssue(
            "value",
            f"inclination {l2[8:16].strip()} deg is outside 0 to 180 (line 2 columns 9-16)",
            damaged=2,
        )
    return None


def problem_text(record: TleRecord, issue: TleIssue) -> str:
    """Return the record's lines for a Problem, with the column template above a line
    that breaks it (as python-sgp4 shows it)."""
    lines = [record.name] if record.name else []
    for which, line in ((1, record.line1), (2, record.line2)):
        if issue.bad_line == which:
            lines.append(TLE_TEMPLATE_LINE1 if which == 1 else TLE_TEMPLATE_LINE2)
        lines.append(line)
    return "\n    ".join(lines)
