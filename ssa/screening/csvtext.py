"""CSV text of table columns, formatted column-wise and assembled in numba.

Gives the bytes ``csv.writer`` (QUOTE_MINIMAL, ``\\r\\n``) would write for rows whose
cells are formatted as ``ssa.screening.formats`` says (floats ``format(v, '.Nf')`` or
``'.6e'``, NaN empty, integers ``str``, text as is), without a Python call per cell:

- fixed-point floats: q = rint(v 10^N) in numpy, digits written in numba. This is
  Python's correctly rounded result except where v 10^N lies within rounding error
  of a half-integer or beyond 2^52; those cells (rare) are formatted by Python.
- ``.6e`` floats: digits and exponent in numpy/numba the same way, with the same
  fallback near ties and outside the normal range.
- text and booleans: each distinct value formatted and quoted once by ``csv.writer``
  itself, then copied as bytes.

``render_rows(columns, specs)`` returns the bytes of one chunk of rows; the streamed
writer in ``ssa.screening.formats`` appends chunks to a file.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
from numba import njit

from ssa.parallel import on_threads

LINE_END = b"\r\n"  # csv.writer's default line terminator
# A computed v 10^N is within half an ulp of the exact product; cells nearer a rounding
# tie than this many ulps (or too large for exact integers) are formatted by Python.
TIE_GUARD_ULPS = 8.0
MAX_EXACT = 2.0**52
SCI_DIGITS = 6  # '.6e'

_FIXED, _INT, _TEXT, _SCI = 0, 1, 2, 3
_EMPTY = -1  # cell code of an empty float cell (NaN / inf)


class _Texts:
    """Distinct cell texts of one chunk, in code order, as CSV fields (quoted as
    csv.writer quotes them), and the bytes blob the numba assembly copies from."""

    def __init__(self):
        self.parts: list[str] = []

    def code(self, text: str) -> int:
        """Code of one text (fallback cells: rare, so not deduplicated)."""
        self.parts.append(_field(text))
        return len(self.parts) - 1

    def column(self, strings: list) -> np.ndarray:
        """Codes of a column of str values (each distinct value quoted once)."""
        uniq = list(dict.fromkeys(strings))
        base = len(self.parts)
        index = dict(zip(uniq, range(base, base + len(uniq)), strict=True))
        if _QUOTE.search("".join(uniq)):
            self.parts.extend(map(_field, uniq))
        else:
            self.parts.extend(uniq)
        return np.fromiter(map(index.__getitem__, strings), np.int64, len(strings))

    def blob(self):
        joined = "".join(self.parts)
        if joined.isascii():
            data = joined.encode("ascii")
            lens = np.fromiter(map(len, self.parts), np.int64, len(self.parts))
        else:
            parts = [p.encode() for p in self.parts]
            data = b"".join(parts)
            lens = np.fromiter(map(len, parts), np.int64, len(parts))
        offs = np.zeros(lens.size, np.int64)
        if lens.size:
            np.cumsum(lens[:-1], out=offs[1:])
        return np.frombuffer(data, np.uint8) if data else np.zeros(0, np.uint8), offs, lens


_QUOTE = re.compile('[,"\r\n]')  # what makes csv.writer (QUOTE_MINIMAL) quote a field
_QUOTER = io.StringIO()
_QUOTE_WRITER = csv.writer(_QUOTER)  # its own line end: that decides the quoting of \r


def _field(text: str) -> str:
    """One cell as csv.writer writes it among others (an empty cell stays empty)."""
    if not text or not _QUOTE.search(text):
        return text
    _QUOTER.seek(0)
    _QUOTER.truncate()
    _QUOTE_WRITER.writerow([text])
    return _QUOTER.getvalue()[: -len(LINE_END)]


def _fixed_cells(values: np.ndarray, decimals: int, texts: _Texts) -> np.ndarray:
    """Cell codes of a fixed-point float column: q * 2 + sign (>= 0), _EMPTY, or
    -(text code) - 2 where Python formats the cell."""
    v = values.astype(np.float64, copy=False)
    finite = np.isfinite(v)
    with np.errstate(invalid="ignore", over="ignore"):
        s = np.abs(v) * float(10**decimals)
        q = np.rint(s)
        tie = np.abs(np.abs(s - np.floor(s)) - 0.5) <= TIE_GUARD_ULPS * np.spacing(s)
    slow = finite & (tie | ~(s < MAX_EXACT))
    fast = finite & ~slow
    out = np.full(v.size, _EMPTY, np.int64)
    out[fast] = q[fast].astype(np.int64) * 2 + np.signbit(v[fast])
    for k in np.flatnonzero(slow).tolist():
        out[k] = -texts.code(format(float(v[k]), f".{decimals}f")) - 2
    return out


def _sci_cells(values: np.ndarray, texts: _Texts):
    """Cell codes of a '.6e' float column (mantissa digits * 2 + sign, _EMPTY or a
    text code as _fixed_cells) and the decimal exponents."""
    v = values.astype(np.float64, copy=False)
    finite = np.isfinite(v)
    a = np.abs(v)
    normal = finite & (a >= 1e-290) & (a < 1e290)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = np.where(normal, np.floor(np.log10(np.where(normal, a, 1.0))), 0.0).astype(np.int64)
        # log10 may be one off near powers of ten: the mantissa check below settles it.
        scale = np.power(10.0, (SCI_DIGITS - e).astype(np.float64))
        s = a * scale
        low = normal & (s < 10.0**SCI_DIGITS)
        e[low] -= 1
        high = normal & (s >= 10.0 ** (SCI_DIGITS + 1))
        e[high] += 1
        scale = np.power(10.0, (SCI_DIGITS - e).astype(np.float64))
        s = a * scale
        q = np.rint(s)
        # Scaling costs up to a few ulps (10^k is itself rounded): guard generously.
        tie = np.abs(np.abs(s - np.floor(s)) - 0.5) <= 64 * TIE_GUARD_ULPS * np.spacing(s)
    # A mantissa rounding up to 10^7 is 1.000000e(e+1).
    up = normal & (q >= 10.0 ** (SCI_DIGITS + 1))
    q[up] = 10.0**SCI_DIGITS
    e[up] += 1
    zero = finite & (a == 0.0)
    slow = finite & ~zero & (~normal | tie)
    fast = (normal & ~slow) | zero
    out = np.full(v.size, _EMPTY, np.int64)
    q[zero] = 0.0
    e[zero] = 0
    out[fast] = q[fast].astype(np.int64) * 2 + np.signbit(v[fast])
    for k in np.flatnonzero(slow).tolist():
        out[k] = -texts.code(format(float(v[k]), f".{SCI_DIGITS}e")) - 2
    return out, e


def _text_cells(values: np.ndarray, cell, texts: _Texts) -> np.ndarray:
    """Cell codes of a text/object/bool column (cell(v): a value's text)."""
    if values.dtype.kind == "b":
        base = len(texts.parts)
        texts.parts += [str(cell(False)), str(cell(True))]
        return base + values.astype(np.int64)
    items = values.tolist()
    if set(map(type, items)) <= {str}:  # cell() returns a str unchanged
        return texts.column(items)
    seen: dict = {}
    strings = []
    for v in items:
        key = (type(v), v)  # True == 1 == 1.0: the type keeps them apart
        t = seen.get(key) if v == v else None  # NaN is never equal to itself
        if t is None:
            t = cell(v)
            t = "" if t is None else str(t)
            if v == v:
                seen[key] = t
        strings.append(t)
    return texts.column(strings)


def render_rows(columns: list, specs: list) -> bytes:
    """Return the CSV lines (bytes, ``\\r\\n`` ends) of one chunk of rows.

    columns: one numpy array per column (same length); specs: per column ('fixed', N),
    ('sci', None), ('int', None) or ('text', cell) with cell(v) the Python text of a
    value (None or '' for empty)."""
    n = len(columns[0]) if columns else 0
    c = len(columns)
    if n == 0:
        return b""
    texts = _Texts()
    vals = np.empty((n, c), np.int64)
    exps = np.zeros((n, c), np.int64)
    kinds = np.empty(c, np.int64)
    decs = np.zeros(c, np.int64)
    for k, (arr, (kind, dec)) in enumerate(zip(columns, specs, strict=True)):
        arr = np.asarray(arr)
        if kind == "fixed":
            kinds[k], decs[k] = _FIXED, dec
            vals[:, k] = _fixed_cells(arr, dec, texts)
        elif kind == "sci":
            kinds[k], decs[k] = _SCI, SCI_DIGITS
            vals[:, k], exps[:, k] = _sci_cells(arr, texts)
        elif kind == "int":
            kinds[k] = _INT
            vals[:, k] = arr
        else:
            kinds[k] = _TEXT
            vals[:, k] = _text_cells(arr, dec, texts)
    blob, offs, lens = texts.blob()
    return _assemble(vals, exps, kinds, decs, blob, offs, lens).tobytes()


def column_spec(name: str, values, decimals: dict, scientific, cell) -> tuple:
    """Spec of one column for render_rows, from its dtype and the name's format;
    cell(name, v): the Python text of one value of a text/object column."""
    kind = np.asarray(values).dtype.kind
    if kind == "f":
        return ("sci", None) if name in scientific else ("fixed", decimals.get(name, 6))
    if kind in "iu":
        return ("int", None)
    return ("text", lambda v: cell(name, v))


# --- numba assembly -----------------------------------------------------------------------
@njit(cache=True)
def _n_digits(x):
    n = 1
    while x >= 10:
        x //= 10
        n += 1
    return n


@njit(cache=True)
def _put_uint(buf, pos, x, width):
    """Write x in exactly width digits (zero-padded) ending before pos + width."""
    for k in range(width - 1, -1, -1):
        buf[pos + k] = 48 + x % 10
        x //= 10
    return pos + width


@njit(cache=True)
def _cell_len(kind, dec, v, e, lens):
    if kind == _INT:
        return _n_digits(abs(v)) + (1 if v < 0 else 0)
    if kind == _TEXT:
        return lens[v]
    if v == _EMPTY:
        return 0
    if v < _EMPTY:
        return lens[-v - 2]
    q = v >> 1
    sign = v & 1
    if kind == _FIXED:
        p = 10**dec
        head = _n_digits(q // p)
        return sign + head + (1 + dec if dec > 0 else 0)
    # d.dddddde+XX
    ae = abs(e)
    return sign + 2 + dec + 2 + max(2, _n_digits(ae))


@njit(cache=True)
def _put_cell(buf, pos, kind, dec, v, e, blob, offs, lens):
    if kind == _INT:
        if v < 0:
            buf[pos] = 45
            pos += 1
            v = -v
        return _put_uint(buf, pos, v, _n_digits(v))
    if kind == _TEXT or v < _EMPTY:
        code = v if kind == _TEXT else -v - 2
        a = offs[code]
        for k in range(lens[code]):
            buf[pos + k] = blob[a + k]
        return pos + lens[code]
    if v == _EMPTY:
        return pos
    q = v >> 1
    if v & 1:
        buf[pos] = 45  # '-'
        pos += 1
    if kind == _FIXED:
        p = 10**dec
        head = q // p
        pos = _put_uint(buf, pos, head, _n_digits(head))
        if dec > 0:
            buf[pos] = 46  # '.'
            pos = _put_uint(buf, pos + 1, q % p, dec)
        return pos
    p = 10**dec
    buf[pos] = 48 + q // p
    buf[pos + 1] = 46
    pos = _put_uint(buf, pos + 2, q % p, dec)
    buf[pos] = 101  # 'e'
    buf[pos + 1] = 45 if e < 0 else 43
    ae = abs(e)
    return _put_uint(buf, pos + 2, ae, max(2, _n_digits(ae)))


@njit(cache=True, nogil=True)
def _row_sizes(lo, hi, vals, exps, kinds, decs, lens, size):
    """size[i + 1] = bytes of row i (cells, commas, \\r\\n), rows lo .. hi - 1."""
    c = vals.shape[1]
    for i in range(lo, hi):
        m = c - 1 + 2  # commas, \r\n
        for k in range(c):
            m += _cell_len(kinds[k], decs[k], vals[i, k], exps[i, k], lens)
        size[i + 1] = m


@njit(cache=True, nogil=True)
def _write_rows(lo, hi, vals, exps, kinds, decs, blob, offs, lens, size, buf):
    """Rows lo .. hi - 1 into buf at their offsets size[i]."""
    c = vals.shape[1]
    for i in range(lo, hi):
        pos = size[i]
        for k in range(c):
            if k:
                buf[pos] = 44  # ','
                pos += 1
            pos = _put_cell(buf, pos, kinds[k], decs[k], vals[i, k], exps[i, k], blob, offs, lens)
        buf[pos] = 13
        buf[pos + 1] = 10


# Threads pay off from a few thousand rows (waking them costs ~1-100 ms on a busy machine).
PARALLEL_MIN_ROWS = 4096


def _assemble(vals, exps, kinds, decs, blob, offs, lens):
    """The CSV bytes of the rows: sizes, offsets, then every row at its offset (row
    blocks on numba's threads: ssa.parallel)."""
    n = vals.shape[0]
    size = np.zeros(n + 1, np.int64)
    rows = PARALLEL_MIN_ROWS // 2
    on_threads(_row_sizes, n, vals, exps, kinds, decs, lens, size, min_rows=rows)
    np.cumsum(size, out=size)
    buf = np.empty(size[n], np.uint8)
    on_threads(_write_rows, n, vals, exps, kinds, decs, blob, offs, lens, size, buf, min_rows=rows)
    return buf


def header_line(columns) -> bytes:
    """The CSV header line of these column names (csv.writer's quoting)."""
    buf = io.StringIO()
    csv.writer(buf).writerow(list(columns))
    return buf.getvalue().encode()
