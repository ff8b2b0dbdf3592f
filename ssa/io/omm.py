"""CCSDS OMM reading (CSV, JSON, XML, KVN) as CelesTrak and Space-Track serve it.

Each reader is a generator over already-read text and yields an ``OmmRecord``
(field name -> string value, keys as in the OMM standard) or a ``Problem``.
JSON numbers (CelesTrak) and strings (Space-Track) give the same strings.
XML is parsed with defusedxml: no DTDs, no entities, nothing fetched.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ssa.io import csv_rows
from ssa.io.problems import Problem, clip

# Fields SGP4 cannot do without; the rest get the defaults below.
REQUIRED = (
    "NORAD_CAT_ID",
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
DEFAULTS = {
    "OBJECT_NAME": "",
    "OBJECT_ID": "",
    "EPHEMERIS_TYPE": "0",
    "CLASSIFICATION_TYPE": "U",
    "ELEMENT_SET_NO": "999",
    "REV_AT_EPOCH": "0",
}
MAX_NORAD_DIGITS = 9
# Largest catalog number a sgp4 Satrec can carry (Alpha-5 'Z9999'); larger ones
# are kept in Catalog.norad_id and given satnum 0 inside sgp4 (SGP4 never uses it).
SGP4_MAX_SATNUM = 339999


@dataclass(frozen=True)
class OmmRecord:
    """One OMM element set: ``fields`` (OMM keyword -> str) and where it came from."""

    fields: dict
    line: int


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def iter_omm_csv(lines: Iterable[str], source: str = "<csv>") -> Iterator[OmmRecord | Problem]:
    """Yield records of an OMM CSV (header row with OMM keywords, one element set per row)."""
    header = None
    for number, row in csv_rows(lines):
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().upper() for cell in row]
            continue
        if len(row) != len(header):
            yield Problem(
                source,
                number,
                f"{len(row)} columns, expected {len(header)} as in the header",
                clip(",".join(row)),
                "layout",
            )
            continue
        yield OmmRecord(dict(zip(header, (cell.strip() for cell in row), strict=True)), number)


def iter_omm_json(text: str, source: str = "<json>") -> Iterator[OmmRecord | Problem]:
    """Yield records of an OMM JSON array (``line`` is the 1-based record number)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Problem(source, exc.lineno, f"not valid JSON: {exc.msg}", "")
        return
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        yield Problem(source, 1, "JSON is neither an array of OMM objects nor one object", "")
        return
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict):
            yield Problem(source, number, "record is not a JSON object", clip(repr(item)))
            continue
        yield OmmRecord({str(k).upper(): _text(v) for k, v in item.items()}, number)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def iter_omm_xml(text: str, source: str = "<xml>") -> Iterator[OmmRecord | Problem]:
    """Yield records of an OMM XML document (one per ``segment``; ``line`` is the segment number)."""
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        yield Problem(
            source,
            1,
            f"XML refused (DTD or entity declarations are not allowed): {type(exc).__name__}",
            "",
        )
        return
    except SafeET.ParseError as exc:
        yield Problem(source, exc.position[0], f"not well-formed XML: {exc}", "")
        return
    segments = [el for el in root.iter() if _local(el.tag) == "segment"]
    if not segments:
        yield Problem(source, 1, "XML holds no OMM <segment>", "")
    for number, segment in enumerate(segments, 1):
        fields = {}
        for el in segment.iter():
            name = _local(el.tag)
            if len(el) == 0 and name not in ("USER_DEFINED", "COMMENT", "segment"):
                fields[name.upper()] = _text(el.text)
        yield OmmRecord(fields, number)


_KVN_LINE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*")
_KVN_HEADER = {"CREATION_DATE", "ORIGINATOR", "MESSAGE_ID", "CLASSIFICATION"}
_KVN_UNIT = re.compile(r"([-+0-9.eE]+)\s*\[[^\]]*\]")  # a number then its [unit]


def iter_omm_kvn(lines: Iterable[str], source: str = "<kvn>") -> Iterator[OmmRecord | Problem]:
    """Yield records of OMM KVN text (``KEY = value [unit]``); a new OMM starts at
    ``CCSDS_OMM_VERS`` or when a keyword repeats."""
    fields: dict = {}
    start = 0

    def has_data(fields):  # anything beyond the message header is a record to check
        return any(k not in _KVN_HEADER for k in fields)

    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if not stripped or stripped.startswith("COMMENT"):
            continue
        match = _KVN_LINE.fullmatch(line)
        if not match:
            yield Problem(source, number, "not a 'KEYWORD = value' line", clip(line))
            continue
        key, value = match.group(1).upper(), match.group(2)
        unit = _KVN_UNIT.fullmatch(value)
        if unit:  # only numbers carry units; names may legitimately end in [...]
            value = unit.group(1)
        if key == "CCSDS_OMM_VERS" or key in fields:
            if has_data(fields):
                yield OmmRecord(fields, start)
            fields, start = {}, number
        if not start:
            start = number
        if key != "CCSDS_OMM_VERS":
            fields[key] = value
    if has_data(fields):
        yield OmmRecord(fields, start)


def parse_epoch(text: str) -> datetime:
    """Return the UTC epoch of an OMM ``EPOCH`` string (ISO 8601, 'T' or space, optional 'Z')."""
    value = text.strip().rstrip("Zz").replace(" ", "T")
    if "." in value:
        head, frac = value.split(".", 1)
        value = f"{head}.{frac[:6]}"  # strptime takes at most microseconds
    else:
        value += ".0"
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f")


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def check_omm(fields: dict) -> tuple[str, str | None, dict]:
    """Return (problem kind, why the record is unusable or None, fields normalised for
    ``sgp4.omm.initialize``)."""
    missing = [k for k in REQUIRED if not fields.get(k)]
    if missing:
        return "missing", f"missing {', '.join(missing)}", fields
    for key, value in fields.items():
        if not str(value).isascii():
            return "non-ascii", f"non-ASCII character in {key} {value!r}", fields
        if not str(value).isprintable():  # NUL, tab, ...: found by fuzzing
            return "non-ascii", f"control character in {key} {value!r}", fields
    theory = fields.get("MEAN_ELEMENT_THEORY", "SGP4").upper()
    if theory not in ("SGP4", ""):
        return (
            "value",
            f"MEAN_ELEMENT_THEORY is {theory!r}; only SGP4 elements are supported",
            fields,
        )
    out = dict(DEFAULTS)
    out.update((k, v) for k, v in fields.items() if v != "")
    if len(out["CLASSIFICATION_TYPE"].strip()) != 1:  # sgp4 stores one character
        return (
            "value",
            (
                f"CLASSIFICATION_TYPE {out['CLASSIFICATION_TYPE']!r} is not one "
                f"character (U, C or S)"
            ),
            out,
        )
    out["CLASSIFICATION_TYPE"] = out["CLASSIFICATION_TYPE"].strip()
    norad = out["NORAD_CAT_ID"]
    if not (norad.isascii() and norad.isdigit()) or len(norad) > MAX_NORAD_DIGITS:
        return (
            "value",
            f"NORAD_CAT_ID {norad!r} is not an integer of up to {MAX_NORAD_DIGITS} digits",
            out,
        )
    try:
        parse_epoch(out["EPOCH"])
    except ValueError:
        return "value", f"EPOCH {out['EPOCH']!r} is not YYYY-MM-DDThh:mm:ss[.ffffff]", out
    values = {}
    for key in REQUIRED[2:]:
        try:
            values[key] = float(out[key])
        except ValueError:
            return "value", f"{key} {out[key]!r} is not a number", out
        if not math.isfinite(values[key]):
            return "value", f"{key} {out[key]!r} is not finite", out
    for key in ("EPHEMERIS_TYPE", "ELEMENT_SET_NO", "REV_AT_EPOCH"):
        try:
            number = int(float(out[key]))
        except (ValueError, OverflowError):  # OverflowError: inf
            return "value", f"{key} {out[key]!r} is not an integer", out
        if not INT32_MIN <= number <= INT32_MAX:  # sgp4 stores them as C ints
            return "value", f"{key} {out[key]!r} is out of range", out
        out[key] = str(number)
    if not 0.0 <= values["ECCENTRICITY"] < 1.0:
        return "value", f"ECCENTRICITY {out['ECCENTRICITY']} is outside [0, 1)", out
    if values["MEAN_MOTION"] <= 0.0:
        return "value", f"MEAN_MOTION {out['MEAN_MOTION']} rev/day is not positive", out
    if not 0.0 <= values["INCLINATION"] <= 180.0:
        return "value", f"INCLINATION {out['INCLINATION']} deg is outside [0, 180]", out
    return "", None, out
