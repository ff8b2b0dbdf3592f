"""Reading catalog files: opening, gzip, format detection (parsers live in submodules)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from ssa.io.problems import LoadError, Problem

__all__ = ["LoadError", "Problem", "detect_format", "read_text"]

GZIP_MAGIC = b"\x1f\x8b"


def read_text(path) -> str:
    """Return the text of ``path``, gunzipped if it is gzip; undecodable bytes become U+FFFD
    (reported later as non-ASCII instead of aborting the whole file)."""
    data = Path(path).read_bytes()
    if data[:2] == GZIP_MAGIC:
        data = gzip.decompress(data)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    return data.decode("utf-8", errors="replace")


_TLE_LINE1 = re.compile(r"1 [0-9A-Z ]{5}")


def detect_format(text: str) -> str:
    """Return 'tle', 'omm-csv', 'omm-json', 'omm-xml', 'omm-kvn', 'satcat-csv' or 'csv'
    (CSV of neither kind) from the content."""
    head = text.lstrip()[:4096]
    if head.startswith("<"):
        return "omm-xml"
    if head.startswith(("[", "{")):
        return "omm-json"
    lines = [line for line in head.splitlines()[:8] if line.strip()]
    # A TLE line 1 followed by a line 2 in the first lines: TLE, whatever the names hold.
    pairs = zip(lines, lines[1:], strict=False)
    if any(_TLE_LINE1.match(a) and b.startswith("2 ") for a, b in pairs):
        return "tle"
    first = lines[0] if lines else ""
    if first.startswith(("CCSDS_OMM_VERS", "COMMENT")) or (
            "=" in first and "," not in first):
        return "omm-kvn"
    if "," in first:
        upper = first.upper()
        if "MEAN_MOTION" in upper:
            return "omm-csv"
        if "OBJECT_TYPE" in upper or "SATNAME" in upper or "OWNER" in upper:
            return "satcat-csv"
        return "csv"
    return "tle"
