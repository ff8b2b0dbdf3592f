"""Reading catalog files: opening, gzip, format detection (parsers live in submodules)."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from ssa.errors import InputFileError
from ssa.io.problems import LoadError, Problem

__all__ = [
    "LoadError",
    "Problem",
    "detect_format",
    "read_text",
    "read_lines",
    "read_head",
    "csv_rows",
    "MAX_LINE_CHARS",
    "MAX_WHOLE_FILE_BYTES",
]

GZIP_MAGIC = b"\x1f\x8b"
# Memory bounds of reading (README "Reliability"). Line formats (TLE, CSV, KVN) stream
# line by line; no catalog line is anywhere near this long, so a longer one means the
# file is not a catalog (binary, or one giant line) and is refused, not buffered.
MAX_LINE_CHARS = 1 << 20
# JSON and XML are parsed whole: refused above this size (decompressed), about 20x a
# full-catalog OMM JSON file (~26,000 objects).
MAX_WHOLE_FILE_BYTES = 512 << 20
HEAD_CHARS = 4096  # what detect_format looks at
READ_BLOCK_CHARS = 1 << 20


@contextmanager
def _gzip_errors(path, where=lambda: None):
    """Turn a damaged or truncated gzip stream into InputFileError (file, line, reason)."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputFileError(path, where(), f"damaged gzip data ({exc})") from None


def _open_binary(path):
    """Open path for reading bytes, gunzipping if it starts with the gzip magic."""
    fh = open(path, "rb")
    if fh.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=fh, mode="rb")
    return fh


def _open_text(path) -> io.TextIOWrapper:
    # utf-8-sig drops a leading BOM; undecodable bytes become U+FFFD (reported later as
    # non-ASCII instead of aborting the whole file); universal newlines (\n, \r\n, \r).
    return io.TextIOWrapper(
        _open_binary(path), encoding="utf-8-sig", errors="replace", newline=None
    )


def read_lines(path) -> Iterator[str]:
    """Yield the lines of ``path`` one at a time (gzip transparent, BOM dropped, line ends
    removed), holding at most READ_BLOCK_CHARS plus one line (MAX_LINE_CHARS) in memory;
    a longer line raises InputFileError naming the file and line."""
    number = 0
    with _open_text(path) as fh, _gzip_errors(path, lambda: number + 1):
        rest = ""
        while True:
            block = fh.read(READ_BLOCK_CHARS)  # blocks split in C: ~10x faster than readline
            if not block:
                break
            lines = (rest + block).split("\n")  # universal newlines: every end is \n
            rest = lines.pop()
            for line in lines:
                number += 1
                if len(line) > MAX_LINE_CHARS:
                    raise _too_long(path, number)
                yield line
            if len(rest) > MAX_LINE_CHARS:
                raise _too_long(path, number + 1)
        if rest:
            number += 1
            yield rest


_CSV_SPECIAL = frozenset('"\0\r\n')


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) of CSV lines, each line parsed on its own.

    Catalogue CSVs (OMM, SATCAT) never have a line end inside a quoted field, so a stray
    quote must not open a field that swallows the following lines: a single csv.reader
    over the file silently merged every later row into the damaged one (fuzzing). Here
    the damage stays on its line, which then has the wrong number of columns and is
    reported."""
    for number, line in enumerate(lines, 1):
        if line and not _CSV_SPECIAL.intersection(line):
            # Without quotes (or NULs and line ends, which csv rejects) csv.reader splits
            # at every comma: the same cells, without a reader per line (a SATCAT has
            # 60,000).
            yield number, line.split(",")
        else:
            yield number, next(csv.reader((line,)), [])


def _too_long(path, number: int) -> InputFileError:
    return InputFileError(
        path, number, f"line longer than {MAX_LINE_CHARS:,} characters: not a catalog text file"
    )


def read_head(path, chars: int = HEAD_CHARS) -> str:
    """Return the first ``chars`` characters of ``path`` as read_lines decodes them,
    after any leading whitespace (for detect_format)."""
    with _open_text(path) as fh, _gzip_errors(path):
        head = ""
        while True:
            block = fh.read(chars)
            head = (head + block).lstrip()
            if len(head) >= chars or not block:
                return head[:chars]


def read_text(path) -> str:
    """Return the whole text of ``path`` (gzip transparent, BOM dropped, undecodable bytes
    as U+FFFD); for JSON and XML, which are parsed whole. Files over
    MAX_WHOLE_FILE_BYTES (decompressed) raise InputFileError."""
    with _open_binary(path) as fh, _gzip_errors(path):
        data = fh.read(MAX_WHOLE_FILE_BYTES + 1)
    if len(data) > MAX_WHOLE_FILE_BYTES:
        raise InputFileError(
            path,
            None,
            f"larger than {MAX_WHOLE_FILE_BYTES >> 20} MiB: "
            f"too big to parse whole (only TLE, CSV and KVN files stream)",
        )
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
    if first.startswith(("CCSDS_OMM_VERS", "COMMENT")) or ("=" in first and "," not in first):
        return "omm-kvn"
    if "," in first:
        upper = first.upper()
        if "MEAN_MOTION" in upper:
            return "omm-csv"
        if "OBJECT_TYPE" in upper or "SATNAME" in upper or "OWNER" in upper:
            return "satcat-csv"
        return "csv"
    return "tle"
