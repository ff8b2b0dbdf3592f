"""The streamed, numba-assembled CSV writer against the plain csv.writer one."""

from __future__ import annotations

import numpy as np
import pytest

from ssa.screening import csvtext
from ssa.screening.formats import CsvStream, write_csv, write_csv_plain
from ssa.screening.result import COLUMNS, ScreenResult

N_ROWS = 5_000  # above csvtext.PARALLEL_MIN_ROWS: the threaded path runs too


def _awkward_floats(rng, n):
    """Floats over 20 decades with the cases formatting gets wrong: signed zeros, values
    that round to -0, exact and near rounding ties, NaN/inf, huge and subnormal."""
    v = rng.normal(0.0, 1.0, n) * 10.0 ** rng.integers(-12, 8, n)
    v[::7] = np.round(v[::7], 6) + 5e-7  # near a tie of '.6f'
    v[::11] = np.nan
    v[::13] = -0.0
    v[::17] = 0.125  # an exact tie at 2 decimals, halves at others
    v[::19] = -1e-9  # prints -0.000000
    v[::23] = 1e17  # beyond exact integers after scaling
    v[::29] = np.inf
    v[::31] = 2.5e-7
    v[::37] = 9.9999999e-5  # '.6e' mantissa rounds up to the next decade
    v[::41] = 5e-324
    v[::43] = -1.5
    return v


def _table(rng, n=N_ROWS) -> ScreenResult:
    rows = {}
    for name in COLUMNS:
        rows[name] = _awkward_floats(rng, n)
    rows["NORAD_CAT_ID_1"] = rng.integers(-5, 10**6, n)
    rows["NORAD_CAT_ID_2"] = rng.integers(1, 10**9, n)
    texts = ["STARLINK-1", "A,B", 'x"y', "", "line\nbreak", "É-1", "x\ry"]
    rows["OBJECT_NAME_1"] = np.array(rng.choice(texts, n), dtype=object)
    rows["OBJECT_NAME_2"] = np.array([f"OBJ {k}" for k in range(n)], dtype=object)
    rows["TCA_FR"] = rng.random(n)
    rows["TCA_JD"] = 2460496.5 + rng.integers(0, 8, n)
    rows["MAX_PROB"] = 10.0 ** rng.uniform(-300, 0, n)
    rows["PC_2D_VALID"] = rng.random(n) < 0.5
    mixed = [None, "", 1.5, float("nan"), True, 1, "A;B", np.float64(2.25)]
    rows["FLAGS"] = np.array((mixed * n)[:n], dtype=object)
    rows["HBR_SOURCE"] = np.full(n, "type+type", dtype=object)
    return ScreenResult(rows, {})


def _bytes(path):
    return path.read_bytes()


def test_csv_is_byte_identical_to_csv_writer(tmp_path):
    res = _table(np.random.default_rng(18))
    (tmp_path / "fast").mkdir()
    (tmp_path / "plain").mkdir()
    fast = _bytes(write_csv(res, tmp_path / "fast"))
    plain = _bytes(write_csv_plain(res, tmp_path / "plain"))
    assert fast.count(b"\r\n") >= N_ROWS + 1
    assert fast == plain


@pytest.mark.parametrize("chunk_rows", [1, 7, 5000])
def test_chunks_and_appends_give_the_same_file(tmp_path, chunk_rows):
    res = _table(np.random.default_rng(3), n=40 * chunk_rows if chunk_rows < 10 else 3 * N_ROWS)
    (tmp_path / "plain").mkdir()
    plain = _bytes(write_csv_plain(res, tmp_path / "plain"))
    path = tmp_path / "streamed.csv"
    n = len(res)
    cuts = [0, n // 3, n // 3, n // 2 + 1, n]  # includes an empty chunk
    with CsvStream(path, res.columns, chunk_rows=chunk_rows) as out:
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            out.append({c: v[a:b] for c, v in res.rows.items()})
    assert out.rows_written == n
    assert _bytes(path) == plain


def test_missing_columns_are_empty_and_ragged_chunks_refused(tmp_path):
    path = tmp_path / "t.csv"
    with CsvStream(path, ["A", "TCA_RANGE", "B"]) as out:
        out.append({"TCA_RANGE": np.array([1.0, np.nan])})
        with pytest.raises(ValueError, match="different lengths"):
            out.append({"A": np.array([1]), "TCA_RANGE": np.array([1.0, 2.0])})
    assert _bytes(path) == b"A,TCA_RANGE,B\r\n,1.000000,\r\n,,\r\n"


def test_scientific_and_fixed_cells_match_python_format():
    """Every value of a dense sweep formats as Python's format() does."""
    rng = np.random.default_rng(7)
    v = np.concatenate([10.0 ** rng.uniform(-310, 300, 20_000), rng.normal(0, 1e4, 20_000)])
    v = np.concatenate([v, -v, np.nextafter(v, np.inf)])
    for spec, kind in ((".6e", ("sci", None)), (".6f", ("fixed", 6)), (".12f", ("fixed", 12))):
        small = v if kind[0] == "sci" else v[np.abs(v) < 1e12]
        text = csvtext.render_rows([small], [kind]).decode().split("\r\n")[:-1]
        assert text == [format(x, spec) for x in small.tolist()], spec
