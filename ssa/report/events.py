"""Per-event data the table lacks: ranking, SGP4 range and RTN track around TCA."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssa.geometry import rtn_components
from ssa.report.results import Results

# Half-width and step of the range-vs-time curve. 300 s covers the whole
# approach for relative speeds from ~0.02 km/s (same shell) to 15 km/s on a
# log axis; 1 s resolves a 5 km threshold crossing at 15 km/s to < 0.3 s.
WINDOW_HALF_S = 300.0
STEP_S = 1.0
# Finer sampling close to TCA, so the bottom of the curve is drawn as it is
# (15 km/s x 0.01 s = 150 m) instead of a straight drop between 1 s samples.
FINE_HALF_S = 10.0
FINE_STEP_S = 0.01
# The relative track in the RTN figure is cut where the range exceeds this
# multiple of the threshold, so the approach geometry is not squashed.
TRACK_RANGE_FACTOR = 4.0
# The TEME states in the table are written with 1e-6 km resolution; SGP4 of
# the same element set at the same TCA must agree far better than 10 m.
STATE_MATCH_KM = 0.01


def rank_events(results: Results) -> np.ndarray:
    """Return row indices ordered most serious first.

    By Pc (descending) when any row has a positive Pc, else by miss distance;
    ties by miss distance, then TCA, then row order, so the ranking is
    deterministic.
    """
    pc = results["PC"]
    miss = np.where(np.isfinite(results["TCA_RANGE"]), results["TCA_RANGE"], np.inf)
    tca = results.tca.astype("int64")  # NaT sorts first as int64 min; rare and stable
    keys = [tca, miss]
    if np.any(pc > 0):
        keys.append(-np.where(pc > 0, pc, 0.0))
    return np.lexsort(keys)


@dataclass
class Approach:
    """SGP4 view of one event around TCA: times relative to TCA (s), range (km),
    relative position in object 1's co-moving RTN frame (km, (n, 3)), and the
    largest difference (km) between SGP4 at TCA and the table's states."""

    t_s: np.ndarray
    range_km: np.ndarray
    rtn_km: np.ndarray
    state_mismatch_km: float


def load_catalog(results: Results):
    """Return (Catalog or None, problems) for the catalog files named in run.json.

    Paths are tried as written and then relative to the results folder. A
    missing or unreadable catalog is a problem, not an error: the report then
    leaves out the SGP4-based curves.
    """
    from ssa.catalog import Catalog  # deferred: catalog loading is only needed for events

    inputs = results.run.get("inputs") or {}
    names = inputs.get("catalogs") or []
    if isinstance(names, str):
        names = [names]
    problems: list[str] = []
    paths = []
    for name in names:
        candidates = [Path(str(name)), results.folder / str(name)]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            problems.append(
                f"{results.folder / 'run.json'}: catalog {name!r} not found; "
                "range-vs-time curves are left out"
            )
            return None, problems
        paths.append(found)
    if not paths:
        problems.append(
            f"{results.folder / 'run.json'}: no inputs.catalogs; range-vs-time curves are left out"
        )
        return None, problems
    opsmode = inputs.get("opsmode") or "i"
    try:
        catalog = Catalog.load(paths, opsmode=opsmode)
    except (OSError, ValueError) as exc:
        problems.append(
            f"{paths[0]}: could not be loaded ({exc}); range-vs-time curves are left out"
        )
        return None, problems
    return catalog, problems


def approach(sat1, sat2, tca_jd: float, tca_fr: float, state1, state2) -> Approach:
    """Return the SGP4 range and RTN track of two Satrecs around a TCA.

    tca_jd, tca_fr: two-part Julian date (UTC) of TCA. state1, state2: the
    table's TEME states (6,) [km, km/s] at TCA, to check the element sets are
    the ones that were screened.
    """
    coarse = np.arange(-WINDOW_HALF_S, WINDOW_HALF_S + STEP_S / 2, STEP_S)
    fine = np.arange(-FINE_HALF_S, FINE_HALF_S + FINE_STEP_S / 2, FINE_STEP_S)
    t_s = np.union1d(np.round(coarse, 6), np.round(fine, 6))
    jd = np.full(t_s.shape, tca_jd)
    fr = tca_fr + t_s / 86400.0
    e1, r1, v1 = sat1.sgp4_array(jd, fr)
    e2, r2, v2 = sat2.sgp4_array(jd, fr)
    bad = (e1 != 0) | (e2 != 0)
    rel = r2 - r1
    rel[bad] = np.nan
    range_km = np.linalg.norm(rel, axis=1)
    i0 = int(np.argmin(np.abs(t_s)))
    s1 = np.asarray(state1, dtype=float)
    s2 = np.asarray(state2, dtype=float)
    mismatch = float(max(np.max(np.abs(r1[i0] - s1[:3])), np.max(np.abs(r2[i0] - s2[:3]))))
    # Object 1's own RTN frame at every step (co-moving), the frame the table's
    # R/T/N miss components are given in at TCA.
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN rows where SGP4 failed
        rtn_km = rtn_components(r1, v1, rel)
    return Approach(t_s=t_s, range_km=range_km, rtn_km=rtn_km, state_mismatch_km=mismatch)
