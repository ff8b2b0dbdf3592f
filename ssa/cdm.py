"""CCSDS Conjunction Data Messages (CDM, CCSDS 508.0-B-1): read and write KVN and XML.

``read_cdm(path)`` accepts what real files contain: COMMENT lines anywhere
(CARA's ``COMMENT HBR = 15 [m]`` gives ``Cdm.hbr_m``), EME2000/GCRF/ITRF frames,
Unicode minus signs, ``NaN`` values, 6x6, 8x8 (drag, SRP) and 9x9 (thrust)
covariances. XML is parsed with defusedxml (no external entities, no DTDs).
Problems raise ``CdmError`` naming the file, line (KVN) or element (XML) and
the keyword.

``write_kvn`` / ``write_xml`` emit every mandatory keyword in the standard's
order, units in brackets (KVN) or ``units`` attributes (XML). Comments are
kept per block (header, relative metadata, each object's metadata and data)
and written at the start of their block, where the standard puts them.
Numbers are written in the shortest form that reads back to the same float,
so write -> read -> write is byte-stable.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ssa.errors import UserError
from ssa.geometry.frames import rtn_to_inertial_cov

HEADER_KEYS = ["CCSDS_CDM_VERS", "CREATION_DATE", "ORIGINATOR", "MESSAGE_FOR", "MESSAGE_ID"]
HEADER_MANDATORY = ["CCSDS_CDM_VERS", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID"]
RELATIVE_STATE_KEYS = [
    "RELATIVE_POSITION_R",
    "RELATIVE_POSITION_T",
    "RELATIVE_POSITION_N",
    "RELATIVE_VELOCITY_R",
    "RELATIVE_VELOCITY_T",
    "RELATIVE_VELOCITY_N",
]
RELATIVE_KEYS = (
    ["TCA", "MISS_DISTANCE", "RELATIVE_SPEED"]
    + RELATIVE_STATE_KEYS
    + [
        "START_SCREEN_PERIOD",
        "STOP_SCREEN_PERIOD",
        "SCREEN_VOLUME_FRAME",
        "SCREEN_VOLUME_SHAPE",
        "SCREEN_VOLUME_X",
        "SCREEN_VOLUME_Y",
        "SCREEN_VOLUME_Z",
        "SCREEN_ENTRY_TIME",
        "SCREEN_EXIT_TIME",
        "COLLISION_PROBABILITY",
        "COLLISION_PROBABILITY_METHOD",
    ]
)
RELATIVE_MANDATORY = ["TCA", "MISS_DISTANCE"]
METADATA_KEYS = [
    "OBJECT",
    "OBJECT_DESIGNATOR",
    "CATALOG_NAME",
    "OBJECT_NAME",
    "INTERNATIONAL_DESIGNATOR",
    "OBJECT_TYPE",
    "OPERATOR_CONTACT_POSITION",
    "OPERATOR_ORGANIZATION",
    "OPERATOR_PHONE",
    "OPERATOR_EMAIL",
    "EPHEMERIS_NAME",
    "COVARIANCE_METHOD",
    "MANEUVERABLE",
    "ORBIT_CENTER",
    "REF_FRAME",
    "GRAVITY_MODEL",
    "ATMOSPHERIC_MODEL",
    "N_BODY_PERTURBATIONS",
    "SOLAR_RAD_PRESSURE",
    "EARTH_TIDES",
    "INTRACK_THRUST",
]
METADATA_MANDATORY = [
    "OBJECT",
    "OBJECT_DESIGNATOR",
    "CATALOG_NAME",
    "OBJECT_NAME",
    "INTERNATIONAL_DESIGNATOR",
    "EPHEMERIS_NAME",
    "COVARIANCE_METHOD",
    "MANEUVERABLE",
    "REF_FRAME",
]
OD_KEYS = [
    "TIME_LASTOB_START",
    "TIME_LASTOB_END",
    "RECOMMENDED_OD_SPAN",
    "ACTUAL_OD_SPAN",
    "OBS_AVAILABLE",
    "OBS_USED",
    "TRACKS_AVAILABLE",
    "TRACKS_USED",
    "RESIDUALS_ACCEPTED",
    "WEIGHTED_RMS",
]
ADDITIONAL_KEYS = [
    "AREA_PC",
    "AREA_DRG",
    "AREA_SRP",
    "MASS",
    "CD_AREA_OVER_MASS",
    "CR_AREA_OVER_MASS",
    "THRUST_ACCELERATION",
    "SEDR",
]
STATE_KEYS = ["X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT"]

# Covariance rows/columns in the standard's order: 6 state terms, drag, SRP, thrust.
COV_AXES = ["R", "T", "N", "RDOT", "TDOT", "NDOT", "DRG", "SRP", "THR"]
_AXIS_UNIT = ["m", "m", "m", "m/s", "m/s", "m/s", "m**2/kg", "m**2/kg", "m/s**2"]


def cov_key(i: int, j: int) -> str:
    return f"C{COV_AXES[i]}_{COV_AXES[j]}"


COV_KEYS = [cov_key(i, j) for i in range(9) for j in range(i + 1)]
COV_MANDATORY = COV_KEYS[:21]
# Size of the covariance a key belongs to: 6, 8 (drag, SRP rows) or 9 (thrust row).
_COV_DIM = {
    cov_key(i, j): (6 if i < 6 else 8 if i < 8 else 9) for i in range(9) for j in range(i + 1)
}


def _cov_unit(i: int, j: int) -> str:
    """Unit of covariance term (i, j) as the standard writes it."""
    table = {
        (0, 0): "m**2",
        (1, 0): "m**2/s",
        (1, 1): "m**2/s**2",
        (2, 0): "m**3/kg",
        (2, 1): "m**3/(kg*s)",
        (2, 2): "m**4/kg**2",
        (3, 0): "m**2/s**2",
        (3, 1): "m**2/s**3",
        (3, 2): "m**3/(kg*s**2)",
        (3, 3): "m**2/s**4",
    }
    kind = [0, 0, 0, 1, 1, 1, 2, 2, 3]
    a, b = kind[i], kind[j]
    return table[(max(a, b), min(a, b))]


UNITS: dict[str, str] = {
    "MISS_DISTANCE": "m",
    "RELATIVE_SPEED": "m/s",
    "RELATIVE_POSITION_R": "m",
    "RELATIVE_POSITION_T": "m",
    "RELATIVE_POSITION_N": "m",
    "RELATIVE_VELOCITY_R": "m/s",
    "RELATIVE_VELOCITY_T": "m/s",
    "RELATIVE_VELOCITY_N": "m/s",
    "SCREEN_VOLUME_X": "m",
    "SCREEN_VOLUME_Y": "m",
    "SCREEN_VOLUME_Z": "m",
    "RECOMMENDED_OD_SPAN": "d",
    "ACTUAL_OD_SPAN": "d",
    "RESIDUALS_ACCEPTED": "%",
    "AREA_PC": "m**2",
    "AREA_DRG": "m**2",
    "AREA_SRP": "m**2",
    "MASS": "kg",
    "CD_AREA_OVER_MASS": "m**2/kg",
    "CR_AREA_OVER_MASS": "m**2/kg",
    "THRUST_ACCELERATION": "m/s**2",
    "SEDR": "W/kg",
    "X": "km",
    "Y": "km",
    "Z": "km",
    "X_DOT": "km/s",
    "Y_DOT": "km/s",
    "Z_DOT": "km/s",
}
UNITS.update({cov_key(i, j): _cov_unit(i, j) for i in range(9) for j in range(i + 1)})

FLOAT_KEYS = set(UNITS) | {"COLLISION_PROBABILITY", "WEIGHTED_RMS"}
INT_KEYS = {"OBS_AVAILABLE", "OBS_USED", "TRACKS_AVAILABLE", "TRACKS_USED"}
REF_FRAMES = ("EME2000", "GCRF", "ITRF")
_SEGMENT_KEYS = METADATA_KEYS + OD_KEYS + ADDITIONAL_KEYS + STATE_KEYS + COV_KEYS
# Comments recognised as data (CARA puts the combined hard-body radius here).
_HBR_COMMENT = re.compile(r"^HBR\s*=\s*([-+0-9.eE]+)\s*(?:\[\s*(\w+)\s*\])?", re.IGNORECASE)
_UNICODE_MINUS = str.maketrans(
    {"\u2212": "-", "\u2013": "-", "\u2012": "-", "\ufe63": "-", "\uff0d": "-"}
)


class CdmError(UserError):
    """A malformed CDM; the message names the file, line or element, and keyword."""


@dataclass
class CdmSegment:
    """One object's metadata and data. ``values``: keyword -> str, float or int."""

    values: dict[str, Any] = field(default_factory=dict)
    comments: dict[str, list[str]] = field(default_factory=lambda: {"metadata": [], "data": []})

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    @property
    def state_km(self) -> np.ndarray:
        """(6,) X, Y, Z (km), X_DOT, Y_DOT, Z_DOT (km/s) in REF_FRAME."""
        return np.array([float(self.values[k]) for k in STATE_KEYS])

    @property
    def covariance_dim(self) -> int:
        return max((_COV_DIM[k] for k in self.values if k in _COV_DIM), default=0)

    @property
    def covariance_rtn(self) -> np.ndarray:
        """(d, d) covariance in the object's RTN frame in CDM units (m, m/s, ...), d = 6, 8 or 9."""
        d = self.covariance_dim
        c = np.full((d, d), np.nan)
        for i in range(d):
            for j in range(i + 1):
                v = float(self.values.get(cov_key(i, j), np.nan))
                c[i, j] = c[j, i] = v
        return c


@dataclass
class Cdm:
    """A conjunction data message: header, relative metadata/data, two segments."""

    header: dict[str, Any] = field(default_factory=dict)
    relative: dict[str, Any] = field(default_factory=dict)
    objects: list[CdmSegment] = field(default_factory=list)
    comments: dict[str, list[str]] = field(default_factory=lambda: {"header": [], "relative": []})
    source: str = ""

    @property
    def message_id(self) -> str:
        return str(self.header.get("MESSAGE_ID", ""))

    @property
    def tca(self) -> dt.datetime:
        """TCA as a timezone-aware UTC datetime."""
        return parse_epoch(str(self.relative["TCA"]))

    @property
    def miss_distance_m(self) -> float:
        return float(self.relative["MISS_DISTANCE"])

    @property
    def collision_probability(self) -> float | None:
        v = self.relative.get("COLLISION_PROBABILITY")
        return None if v is None else float(v)

    @property
    def hbr_m(self) -> float | None:
        """Combined hard-body radius from a ``COMMENT HBR = x [m]`` line, if any."""
        blocks = [self.comments.get("header", []), self.comments.get("relative", [])]
        for seg in self.objects:
            blocks += [seg.comments.get("metadata", []), seg.comments.get("data", [])]
        for block in blocks:
            for text in block:
                m = _HBR_COMMENT.match(text.translate(_UNICODE_MINUS).strip())
                if m:
                    value = float(m.group(1))
                    unit = (m.group(2) or "m").lower()
                    return value * {"m": 1.0, "km": 1e3, "cm": 1e-2}.get(unit, 1.0)
        return None


# ---------------------------------------------------------------------- parsing


def parse_epoch(text: str) -> dt.datetime:
    """Parse a CCSDS epoch (YYYY-MM-DDThh:mm:ss[.d...] or YYYY-DDDThh:mm:ss) as UTC."""
    t = text.strip().rstrip("Z")
    m = re.fullmatch(r"(\d{4})-(\d{3})T(.*)", t)
    if m:  # day-of-year form
        base = dt.datetime(int(m.group(1)), 1, 1, tzinfo=dt.timezone.utc)
        rest = parse_epoch(f"{m.group(1)}-01-01T{m.group(3)}")
        return base + dt.timedelta(days=int(m.group(2)) - 1) + (rest - base)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?", t)
    if not m:
        raise ValueError(f"not a CCSDS epoch: {text!r} (expected YYYY-MM-DDThh:mm:ss.sss)")
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = m.group(7) or "0"
    micro = round(float("0." + frac) * 1e6)
    return dt.datetime(y, mo, d, h, mi, s, tzinfo=dt.timezone.utc) + dt.timedelta(
        microseconds=micro
    )


def format_epoch(t: dt.datetime) -> str:
    """Format a UTC datetime as CCSDS YYYY-MM-DDThh:mm:ss.ffffff (naive datetimes refused)."""
    if t.tzinfo is None:
        raise ValueError(
            "naive datetime: pass a timezone-aware UTC datetime "
            "(e.g. datetime(..., tzinfo=timezone.utc))"
        )
    t = t.astimezone(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


# Values that feed geometry and Pc: NaN/inf there is refused (providers do write NaN in
# orbit-determination fields such as OBS_USED or WEIGHTED_RMS, which stay tolerated).
_MUST_BE_FINITE = set(STATE_KEYS) | set(_COV_DIM) | {k for k in RELATIVE_KEYS if k in FLOAT_KEYS}


def _convert(key: str, text: str, where: str) -> Any:
    text = text.translate(_UNICODE_MINUS).strip()
    if key in FLOAT_KEYS or key in INT_KEYS:
        try:
            if key in INT_KEYS and re.fullmatch(r"[-+]?\d+", text):
                return int(text)
            value = float(text)
        except ValueError:
            raise CdmError(f"{where}: {key}: bad number {text!r}") from None
        if key in _MUST_BE_FINITE and not math.isfinite(value):
            raise CdmError(f"{where}: {key}: {text!r} is not a finite number")
        return value
    return text


def _check(cdm: Cdm, where_of: dict, src: str) -> Cdm:
    """Check mandatory keywords and frames; where_of maps (block, key) -> location."""

    def need(keys, values, block, location):
        for k in keys:
            if k not in values:
                raise CdmError(f"{src}: missing mandatory keyword {k} in {block} ({location})")

    need(HEADER_MANDATORY, cdm.header, "header", where_of.get(("header", None), "start"))
    need(
        RELATIVE_MANDATORY,
        cdm.relative,
        "relative metadata",
        where_of.get(("relative", None), "before OBJECT1"),
    )
    if len(cdm.objects) != 2:
        raise CdmError(
            f"{src}: expected 2 object segments (OBJECT = OBJECT1/OBJECT2), "
            f"found {len(cdm.objects)}"
        )
    for n, seg in enumerate(cdm.objects, 1):
        block = f"OBJECT{n} segment"
        loc = where_of.get((f"object{n}", None), "")
        need(METADATA_MANDATORY + STATE_KEYS + COV_MANDATORY, seg.values, block, loc)
        frame = str(seg.values["REF_FRAME"]).upper()
        if frame not in REF_FRAMES:
            raise CdmError(
                f"{where_of.get((f'object{n}', 'REF_FRAME'), src)}: REF_FRAME: "
                f"{seg.values['REF_FRAME']!r} is not one of {', '.join(REF_FRAMES)}"
            )
        seg.values["REF_FRAME"] = frame
    try:
        cdm.tca  # noqa: B018 - validates the epoch
    except ValueError as exc:
        raise CdmError(f"{where_of.get(('relative', 'TCA'), src)}: TCA: {exc}") from None
    miss = cdm.relative.get("MISS_DISTANCE")
    if isinstance(miss, float) and miss < 0.0:
        raise CdmError(
            f"{where_of.get(('relative', 'MISS_DISTANCE'), src)}: MISS_DISTANCE: {miss} is negative"
        )
    pc = cdm.relative.get("COLLISION_PROBABILITY")
    if isinstance(pc, float) and not 0.0 <= pc <= 1.0:
        raise CdmError(
            f"{where_of.get(('relative', 'COLLISION_PROBABILITY'), src)}: "
            f"COLLISION_PROBABILITY: {pc} is not a probability (0 to 1)"
        )
    return cdm


def parse_kvn(text: str, source: str = "<string>") -> Cdm:
    """Parse KVN text into a Cdm (see module docstring for what is tolerated)."""
    cdm = Cdm(source=source)
    where: dict = {}
    block = "header"
    seg: CdmSegment | None = None
    first_line = {}
    # A COMMENT belongs to the block of the keyword that follows it (comments
    # open blocks in 508.0-B-1), except right before OBJECT, where CARA puts
    # 'COMMENT HBR = ...': those stay with the block before.
    pending: list[str] = []
    data_keys = set(OD_KEYS + ADDITIONAL_KEYS + STATE_KEYS + COV_KEYS)

    def flush(next_key: str | None) -> None:
        if not pending:
            return
        if seg is None:
            if next_key in RELATIVE_KEYS or (next_key is None and block == "relative"):
                target = cdm.comments["relative"]
            elif next_key == "OBJECT":
                target = cdm.comments["relative" if block == "relative" else "header"]
            else:
                target = cdm.comments["header" if "MESSAGE_ID" not in cdm.header else "relative"]
        elif (
            next_key in data_keys
            or next_key in (None, "OBJECT")
            or any(k in seg.values for k in data_keys)
        ):
            target = seg.comments["data"]
        else:
            target = seg.comments["metadata"]
        target.extend(pending)
        pending.clear()

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        loc = f"{source}:{lineno}"
        if line.upper().startswith("COMMENT"):
            pending.append(line[7:].strip())
            continue
        if "=" not in line:
            raise CdmError(f"{loc}: expected 'KEYWORD = value', got {line[:60]!r}")
        key, _, value = line.partition("=")
        key = key.strip().upper()
        m = re.fullmatch(r"(.*?)\s*\[([^\]]*)\]\s*", value)
        value = m.group(1) if m else value.strip()
        flush(key)
        if key == "OBJECT":
            seg = CdmSegment()
            cdm.objects.append(seg)
            block = f"object{len(cdm.objects)}"
            first_line[block] = lineno
        elif seg is None and key in RELATIVE_KEYS:
            block = "relative"
            first_line.setdefault(block, lineno)
        elif seg is None and key not in HEADER_KEYS and key in _SEGMENT_KEYS:
            raise CdmError(f"{loc}: {key}: object keyword before 'OBJECT = OBJECT1'")
        target = (
            seg.values if seg is not None else (cdm.header if block == "header" else cdm.relative)
        )
        if key in target:
            raise CdmError(f"{loc}: {key}: keyword repeated in the same block")
        target[key] = _convert(key, value, loc)
        where[(block, key)] = loc
    flush(None)
    for block, ln in first_line.items():
        where[(block, None)] = f"block starting at line {ln}"
    return _check(cdm, where, source)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(text: str | bytes, source: str = "<string>") -> Cdm:
    """Parse CDM XML (NDM/XML 508.0-B-1 layout) safely with defusedxml."""
    from defusedxml import ElementTree as DET
    from defusedxml.common import DefusedXmlException

    try:
        root = DET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise CdmError(f"{source}: refused unsafe XML ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise CdmError(f"{source}: XML syntax error: {exc}") from None
    except (LookupError, ValueError) as exc:  # e.g. encoding="UTFnan" in the declaration
        raise CdmError(f"{source}: unreadable XML: {exc}") from None
    if _local(root.tag) != "cdm":
        cdms = [e for e in root.iter() if _local(e.tag) == "cdm"]
        if not cdms:
            raise CdmError(f"{source}: no <cdm> element")
        root = cdms[0]
    cdm = Cdm(source=source)
    where: dict = {}

    def fill(elem, target, comments, path, block):
        for child in elem:
            tag = _local(child.tag)
            if tag == "COMMENT":
                comments.append((child.text or "").strip())
            elif len(child):  # a grouping element: relativeStateVector, stateVector, ...
                fill(child, target, comments, f"{path}/{tag}", block)
            else:
                loc = f"{source}: element {path}/{tag}"
                if tag in target:
                    raise CdmError(f"{loc}: {tag}: keyword repeated")
                target[tag] = _convert(tag, child.text or "", loc)
                where[(block, tag)] = loc

    version = root.get("version")
    if version:
        cdm.header["CCSDS_CDM_VERS"] = version
    for part in root:
        tag = _local(part.tag)
        if tag == "header":
            fill(part, cdm.header, cdm.comments["header"], "cdm/header", "header")
        elif tag == "body":
            for sub in part:
                stag = _local(sub.tag)
                if stag == "relativeMetadataData":
                    fill(
                        sub,
                        cdm.relative,
                        cdm.comments["relative"],
                        "body/relativeMetadataData",
                        "relative",
                    )
                elif stag == "segment":
                    seg = CdmSegment()
                    cdm.objects.append(seg)
                    n = len(cdm.objects)
                    for piece in sub:
                        ptag = _local(piece.tag)
                        if ptag in ("metadata", "data"):
                            fill(
                                piece,
                                seg.values,
                                seg.comments[ptag],
                                f"body/segment[{n}]/{ptag}",
                                f"object{n}",
                            )
                    where[(f"object{n}", None)] = f"element body/segment[{n}]"
    return _check(cdm, where, source)


def read_cdm(path: str | Path) -> Cdm:
    """Read one CDM file (KVN or XML, detected by content)."""
    path = Path(path)
    data = path.read_bytes()
    head = data.lstrip()[:100]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.startswith(b"<"):
        return parse_xml(data, str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse_kvn(text, str(path))


# ---------------------------------------------------------------------- writing


def _fmt(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "YES" if value else "NO"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "NaN"
        return repr(v)
    return str(value)


def to_kvn(cdm: Cdm) -> str:
    """Return the CDM as KVN text."""
    out: list[str] = []

    def kv(key, value):
        unit = UNITS.get(key)
        text = f"{key:<36} = {_fmt(key, value)}"
        if unit and not (isinstance(value, str)):
            text += f" [{unit}]"
        out.append(text)

    def comments(lines):
        out.extend(f"COMMENT {c}".rstrip() for c in lines)

    h = dict(cdm.header)
    kv("CCSDS_CDM_VERS", h.get("CCSDS_CDM_VERS", "1.0"))
    comments(cdm.comments.get("header", []))
    for k in HEADER_KEYS[1:]:
        if k in h:
            kv(k, h[k])
    comments(cdm.comments.get("relative", []))
    for k in RELATIVE_KEYS:
        if k in cdm.relative:
            kv(k, cdm.relative[k])
    for seg in cdm.objects:
        meta_comments = seg.comments.get("metadata", [])
        kv("OBJECT", seg.values["OBJECT"])
        comments(meta_comments)
        for k in METADATA_KEYS[1:]:
            if k in seg.values:
                kv(k, seg.values[k])
        comments(seg.comments.get("data", []))
        for keys in (OD_KEYS, ADDITIONAL_KEYS, STATE_KEYS, COV_KEYS):
            for k in keys:
                if k in seg.values:
                    kv(k, seg.values[k])
    return "\n".join(out) + "\n"


def to_xml(cdm: Cdm) -> str:
    """Return the CDM as NDM/XML text (units as attributes)."""
    root = ET.Element(
        "cdm",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "http://sanaregistry.org/r/ndmxml/ndmxml-1.0-master.xsd",
            "id": "CCSDS_CDM_VERS",
            "version": str(cdm.header.get("CCSDS_CDM_VERS", "1.0")),
        },
    )

    def add(parent, key, value):
        e = ET.SubElement(parent, key)
        unit = UNITS.get(key)
        if unit and not isinstance(value, str):
            e.set("units", unit)
        e.text = _fmt(key, value)

    def add_comments(parent, lines):
        for c in lines:
            ET.SubElement(parent, "COMMENT").text = c

    header = ET.SubElement(root, "header")
    add_comments(header, cdm.comments.get("header", []))
    for k in HEADER_KEYS[1:]:
        if k in cdm.header:
            add(header, k, cdm.header[k])
    body = ET.SubElement(root, "body")
    rel = ET.SubElement(body, "relativeMetadataData")
    add_comments(rel, cdm.comments.get("relative", []))
    rsv = None
    for k in RELATIVE_KEYS:
        if k not in cdm.relative:
            continue
        if k in RELATIVE_STATE_KEYS:
            if rsv is None:
                rsv = ET.SubElement(rel, "relativeStateVector")
            add(rsv, k, cdm.relative[k])
        else:
            add(rel, k, cdm.relative[k])
    for seg in cdm.objects:
        s = ET.SubElement(body, "segment")
        meta = ET.SubElement(s, "metadata")
        add_comments(meta, seg.comments.get("metadata", []))
        for k in METADATA_KEYS:
            if k in seg.values:
                add(meta, k, seg.values[k])
        data = ET.SubElement(s, "data")
        add_comments(data, seg.comments.get("data", []))
        for group, keys in (
            ("odParameters", OD_KEYS),
            ("additionalParameters", ADDITIONAL_KEYS),
            ("stateVector", STATE_KEYS),
            ("covarianceMatrix", COV_KEYS),
        ):
            present = [k for k in keys if k in seg.values]
            if present:
                g = ET.SubElement(data, group)
                for k in present:
                    add(g, k, seg.values[k])
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_kvn(cdm: Cdm, path: str | Path) -> Path:
    """Write the CDM as KVN to path; return the path."""
    path = Path(path)
    path.write_text(to_kvn(cdm), encoding="utf-8")
    return path


def write_xml(cdm: Cdm, path: str | Path) -> Path:
    """Write the CDM as XML to path; return the path."""
    path = Path(path)
    path.write_text(to_xml(cdm), encoding="utf-8")
    return path


# ---------------------------------------------------------------- for Pc from a CDM

EARTH_ROTATION_RAD_S = 7.292115e-5  # WGS-84 mean rate, for ITRF -> inertial velocity


def inertial_states(cdm: Cdm, full: bool = False):
    """Return (r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2) in one inertial frame.

    EME2000/GCRF states are used as given. ITRF states get the Earth-rotation
    velocity added (v + w x r), giving a pseudo-inertial frame aligned with
    ITRF at TCA: Pc is invariant to the frame's orientation, so that suffices.
    Covariances are the RTN position blocks (m^2) rotated into that frame (km^2);
    with full=True the 6x6 position-velocity blocks (km, km/s units).
    """
    out = []
    for seg in cdm.objects:
        s = seg.state_km
        r, v = s[:3], s[3:]
        if seg.values["REF_FRAME"] == "ITRF":
            v = v + np.cross([0.0, 0.0, EARTH_ROTATION_RAD_S], r)
        cov = seg.covariance_rtn[:6, :6] * 1e-6 if full else seg.covariance_rtn[:3, :3] * 1e-6
        out += [r, v, rtn_to_inertial_cov(r, v, cov)[0]]
    return tuple(out)
