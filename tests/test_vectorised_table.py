"""Vectorised table steps (TCA/START/STOP text, FLAGS, catalogue look-ups) against the
plain per-row versions they replaced."""

from __future__ import annotations

import numpy as np
import pytest

from ssa.geometry import timeutil
from ssa.risk.assess import _catalog_lookup
from ssa.screening.result import add_flags


def test_utc_text_matches_datetime_per_row():
    rng = np.random.default_rng(5)
    n = 50_000
    jd = 2460496.5 + rng.integers(-730_000, 2_900_000, n).astype(float)
    jd[::7] = 1721425.5 + rng.integers(0, 3, jd[::7].size)  # year 1
    fr = rng.random(n)
    fr[::3] = np.round(fr[::3] * 86_400_000) / 86_400_000  # on a millisecond
    fr[::5] = (np.floor(fr[::5] * 86_400_000) + 0.5) / 86_400_000  # half a millisecond
    fr[::11] = 1.0 - 1e-12  # rounds into the next day
    fr[1::14] = -0.25  # negative day fraction (not on the year-1 rows)
    fast = timeutil.format_utc_ms(jd, fr)
    plain = [timeutil._civil_ms(a, b) for a, b in zip(jd.tolist(), fr.tolist(), strict=True)]
    assert fast == plain
    assert timeutil.format_utc_ms(2460496.5, 0.5) == ["2024-07-05 12:00:00.000"]
    assert timeutil.format_utc_ms(5373484.5, -1 / 86_400_000) == ["9999-12-31 23:59:59.999"]


def _add_flags_plain(flags, masks):
    out = []
    for k, f in enumerate(flags):
        parts = [p for p in str(f or "").split(";") if p]
        parts += [name for name, m in masks if m[k]]
        out.append(";".join(parts))
    return out


def test_add_flags_matches_the_per_row_loop():
    rng = np.random.default_rng(2)
    n = 5000
    flags = np.array(rng.choice(["", "LONG_DURATION", "A;;B", None, ";X;"], n), dtype=object)
    masks = [("START_CLIPPED", rng.random(n) < 0.05), ("STOP_CLIPPED", rng.random(n) < 0.05)]
    out = add_flags(flags, masks)
    assert out.dtype == object and out.shape == (n,)
    assert out.tolist() == _add_flags_plain(flags.tolist(), masks)
    assert "START_CLIPPED" in set(";".join(out.tolist()).split(";"))
    assert add_flags(np.zeros(0, dtype=object), masks[:0]).shape == (0,)


class _Cat:
    def __init__(self, norad_id, value):
        self.norad_id = np.asarray(norad_id)
        self.value = np.asarray(value, dtype=object)


def test_catalogue_lookup_matches_the_dict_version():
    rng = np.random.default_rng(9)
    norad = rng.permutation(np.r_[np.arange(1, 3000), [17, 17, 2500]])  # with duplicates
    cat = _Cat(norad, [f"v{k}" for k in range(norad.size)])
    ids = rng.integers(0, 3200, 4000)  # some not in the catalogue
    fallback = np.array([f"f{k}" for k in range(ids.size)], dtype=object)
    index = {int(n): i for i, n in enumerate(cat.norad_id)}  # the replaced version
    want = fallback.copy()
    for k, i in enumerate(ids.tolist()):
        if i in index:
            want[k] = cat.value[index[i]]
    got = _catalog_lookup(cat, ids, "value", fallback)
    assert got.tolist() == want.tolist()
    assert (got != fallback).sum() > 3000


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_start_stop_split_over_worker_processes_is_identical(shipped, monkeypatch, mode):
    """START/STOP computed in two real worker processes (sgp4's C++, which holds the GIL)
    or on two threads (the numba SGP4), rows cut in parts, equals the one-process search
    value for value (each row's search is independent)."""
    import numba

    from ssa.screening import crossings, refine, screen
    from ssa.screening.executor import LocalExecutor, SatrecContext

    if mode == "threads" and numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    catalog = shipped.subset(np.arange(0, len(shipped), 4))
    res = screen(catalog, days=0.2, threshold_km=20.0)
    rows = res.rows
    n = len(res)
    assert n >= 40
    index = {int(x): k for k, x in enumerate(catalog.norad_id)}
    si = np.array([index[int(x)] for x in rows["NORAD_CAT_ID_1"]])
    sj = np.array([index[int(x)] for x in rows["NORAD_CAT_ID_2"]])
    jd0, fr0 = float(rows["TCA_JD"][0]), 0.0
    tca_s = ((rows["TCA_JD"] - jd0) + (rows["TCA_FR"] - fr0)) * 86400.0
    dr = np.stack([rows[f"{a}2_KM"] - rows[f"{a}1_KM"] for a in "XYZ"], axis=1)
    dv = np.stack([rows[f"V{a}2_KMS"] - rows[f"V{a}1_KMS"] for a in "XYZ"], axis=1)
    args = (jd0, fr0, tca_s, 20.0, float(tca_s.max()) + 600.0, dr, dv)
    plain = crossings.threshold_crossings(catalog.satrecs, si, sj, *args)
    monkeypatch.setattr(crossings, "MIN_ROWS_PER_TASK", n // 9)
    if mode == "processes":
        monkeypatch.setattr(refine, "USE_NUMBA_SGP4", False)
    prev = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        with LocalExecutor(SatrecContext(catalog.satrecs), 2) as ex:
            assert ex.forked
            assert refine.local_threads(ex) == (2 if mode == "threads" else 0)
            split = crossings.crossings_split(ex, si, sj, *args)
            pids = ex.children()
    finally:
        numba.set_num_threads(prev)
    # The work really went to two processes, or stayed in this one (threads).
    assert len(pids) == (2 if mode == "processes" else 0)
    for a, b in zip(plain, split, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(plain[0]).sum() >= n - 2


def test_refine_states_in_numba_equal_sgp4_per_satellite(shipped, monkeypatch):
    """refine.states through sgp4_numba (no call per satellite) gives sgp4's own bits,
    error codes and NaNs included, at scattered times over every kind of orbit."""
    from ssa.screening import refine

    jd0, fr0 = shipped.epoch_median()
    rng = np.random.default_rng(4)
    m = 60_000
    sat = rng.integers(0, len(shipped), m)
    t = rng.uniform(-86_400.0, 8 * 86_400.0, m)
    t[::3] = np.round(t[::3], 1)  # repeated (satellite, time) rows too
    sat[::5] = sat[1::5]
    t[::5] = t[1::5]
    monkeypatch.setattr(refine, "USE_NUMBA_SGP4", True)
    assert refine._numba_elements(shipped.satrecs) is not None
    fast = refine.states(shipped.satrecs, sat, jd0, fr0, t)
    monkeypatch.setattr(refine, "USE_NUMBA_SGP4", False)
    plain = refine.states(shipped.satrecs, sat, jd0, fr0, t)
    for a, b in zip(fast, plain, strict=True):
        np.testing.assert_array_equal(a, b)  # NaN == NaN here, bit for bit otherwise
    assert (plain[0] != 0).sum() > 0  # some objects fail (decayed) within the span
