"""``screen``: all-vs-all or primaries-vs-catalog conjunction screening.

Pipeline (stages timed in run.json): plan (knot spacing per object, verified
against SGP4) -> per time chunk: SGP4 knots, quintic fits, broad + narrow phase
(numba, both cores) -> refinement of every candidate window with exact SGP4 ->
table. The result is a pure function of (catalog, window, threshold, primaries).

No-miss guarantee (see README "Screening"): for every sample interval of length
``step_s`` each object's interpolated path stays within its chord +- a T^2/8
(a = ACCEL_SAFETY * mu / r_perigee^2 bounds the acceleration), the SGP4 path
within that + the object's interpolation error bound (measured against SGP4 at the
error maxima over a full orbit at both ends of the window, times ERR_SAFETY). Boxes
padded by these plus threshold/2 must overlap, and the chords' closest distance
must be within threshold + both slacks, for any pair that comes within threshold;
this holds for any relative speed. Refinement then samples the exact SGP4 distance
every refine.SAMPLE_S in each flagged window.
"""

from __future__ import annotations

import datetime as dt
import resource
import time

import numba
import numpy as np
from sgp4.api import SGP4_ERRORS, jday

import ssa
from ssa.geometry.frames import rtn_components, teme_to_geodetic
from ssa.progress import progress
from ssa.screening import crossings, kernels, propagate, refine
from ssa.screening.result import COLUMNS, EMPTY_UNTIL_RISK, ScreenResult, format_tca

DEFAULT_STEP_S = 20.0  # sample interval of the broad phase (benchmarks/screen_catalog.py)
# Widest knot spacing keeping the interpolant this close to SGP4. The bound pads the
# boxes, so a looser target costs a few more candidates but halves the SGP4 knots of
# LEO (640 s instead of 320 s): full catalog, 1 d, same run: 0.2 km 9.7 s, 2 km 8.7 s,
# 5 km 7.9 s, same conjunctions.
DEFAULT_ERR_TARGET_KM = 2.0
# Objects whose interpolation error bound exceeds this are not smooth enough at any
# knot spacing (SGP4 output jumps); they are dropped and listed with the reason.
MAX_ERR_KM = 20.0
LONG_DURATION_S = 3600.0  # an encounter staying within threshold this long is flagged
# Name prefixes of constellations whose members fly in formation-like shells; a pair
# sharing one is flagged SAME_CONSTELLATION (reports may filter, nothing is dropped).
CONSTELLATIONS = ("STARLINK", "ONEWEB", "IRIDIUM", "GLOBALSTAR", "ORBCOMM", "QIANFAN",
                  "KUIPER", "LEMUR", "FLOCK", "SPIRE", "O3B", "NAVSTAR", "GALILEO",
                  "BEIDOU", "SWARM", "HULIANWANG", "GUOWANG", "TIANQI", "YAOGAN", "JILIN")


def _constellation(name: str) -> str:
    up = name.upper()
    for c in CONSTELLATIONS:
        if up.startswith(c):
            return c
    return ""


def resolve_start(start, catalog):
    """Return (jd, fr) of the window start: datetime (aware, UTC), ISO string, (jd, fr),
    or None for the catalog's median epoch."""
    if start is None:
        return catalog.epoch_median()
    if isinstance(start, tuple) and len(start) == 2:
        return float(start[0]), float(start[1])
    if isinstance(start, str):
        text = start.strip().replace("Z", "+00:00")
        try:
            start = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"start {start!r} is not an ISO date-time; expected e.g. "
                             "2024-07-05T00:00:00Z") from exc
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.timezone.utc)
    if isinstance(start, dt.datetime):
        if start.tzinfo is None:
            raise ValueError("start is a naive datetime; pass one with tzinfo=timezone.utc")
        s = start.astimezone(dt.timezone.utc)
        return jday(s.year, s.month, s.day, s.hour, s.minute,
                    s.second + s.microsecond * 1e-6)
    raise ValueError(f"start must be None, an ISO string, an aware datetime or (jd, fr); "
                     f"got {type(start).__name__}")


def resolve_primaries(primaries, catalog) -> np.ndarray:
    """Return a bool mask of primaries: NORAD ids (int or digit strings), owner codes
    or object types (PAYLOAD, ROCKET BODY, DEBRIS, UNKNOWN); None means all-vs-all."""
    n = len(catalog)
    if primaries is None:
        return np.zeros(n, bool)
    if isinstance(primaries, (str, int, np.integer)):
        primaries = [primaries]
    mask = np.zeros(n, bool)
    types = {str(t) for t in catalog.object_type}
    owners = {str(o) for o in catalog.owner if o}
    for p in primaries:
        text = str(p).strip()
        if text.isdigit():
            hit = catalog.norad_id == int(text)
        elif text.upper() in types or text.upper() in ("PAYLOAD", "ROCKET BODY", "DEBRIS",
                                                         "UNKNOWN"):
            hit = catalog.object_type == text.upper()
        elif text in owners or text.upper() in owners:
            hit = (catalog.owner == text) | (catalog.owner == text.upper())
        else:
            raise ValueError(f"primary {text!r} is neither a NORAD id in the catalog, an "
                             f"object type nor an owner code present (owners: "
                             f"{', '.join(sorted(owners)[:12])}...)")
        mask |= hit
    if not mask.any():
        raise ValueError(f"primaries {list(primaries)} match no object in the catalog")
    return mask


def _peak_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (me + kids) / 1024.0


def screen(catalog, start=None, days: float = 7.0, threshold_km: float = 5.0,
           primaries=None, quiet: bool = True, threads: int | None = None,
           step_s: float = DEFAULT_STEP_S, err_target_km: float = DEFAULT_ERR_TARGET_KM,
           inputs: dict | None = None) -> ScreenResult:
    """Return the conjunctions (SGP4 distance <= threshold_km) among catalog objects in
    [start, start + days]; see the module docstring for the guarantee.

    catalog: ssa.catalog.Catalog. start: None (median epoch), ISO string, aware
    datetime or (jd, fr). primaries: None (all-vs-all) or NORAD ids / owner codes /
    object types; then only pairs with at least one primary are reported.
    threads: cores for SGP4 (processes) and the kernels (numba); None = all.
    step_s, err_target_km: internal resolution (results do not depend on them).
    """
    t_wall = time.perf_counter()
    timings = {}
    if not days > 0:
        raise ValueError(f"days must be > 0, got {days}")
    if not threshold_km > 0:
        raise ValueError(f"threshold_km must be > 0, got {threshold_km}")
    threads = numba.config.NUMBA_NUM_THREADS if threads is None else int(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    jd0, fr0 = resolve_start(start, catalog)
    window_s = float(days) * 86400.0
    primary = resolve_primaries(primaries, catalog)
    n = len(catalog)
    names = np.asarray(catalog.name, dtype=object)
    dropped = []
    t_fail_s = np.full(n, np.inf)
    stage = time.perf_counter()

    prev_threads = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    flagged = []
    n_skipped = 0
    try:
        with propagate.Sgp4Pool(catalog.satrecs, threads) as pool:
            plan = propagate.make_plan(pool, catalog, step_s, err_target_km, jd0, fr0,
                                       window_s) if n else None
            timings["plan"] = time.perf_counter() - stage
            if n:
                rough = plan.err_km > MAX_ERR_KM
                for q in np.flatnonzero(rough):
                    t_fail_s[q] = 0.0
                    dropped.append({"index": int(q), "t_s": 0.0, "reason": (
                        f"interpolation error {plan.measured_err_km[q]:.3g} km at the "
                        f"finest knot spacing ({plan.h_s[q]:.0f} s): SGP4 output not smooth")})
                stage = time.perf_counter()
                chunk_s = propagate.chunk_length_s(plan, window_s)
                n_chunks = int(np.ceil(window_s / chunk_s))
                dev = plan.accel_km_s2 * step_s**2 / 8.0
                tol = dev + np.minimum(plan.err_km, MAX_ERR_KM)
                pad = tol + threshold_km / 2.0
                cell_km = 8.0 * step_s + 2.0 * float(np.median(pad))
                cap = max(1024, 4 * n)
                t_sgp4 = t_kern = 0.0
                n_skipped = 0
                n_blocks = 2 * max(1, numba.get_num_threads())
                h_s = plan.h_s
                perm = plan.class_order  # the kernel's object order (Chunk.cls_index)
                for c in progress(range(n_chunks), desc="screen", unit="chunk", quiet=quiet):
                    t0 = c * chunk_s
                    a = time.perf_counter()
                    ch = propagate.build_chunk(pool, plan, t0, chunk_s, jd0, fr0)
                    t_sgp4 += time.perf_counter() - a
                    newly = np.isfinite(ch.fail_s) & ~np.isfinite(t_fail_s)
                    for q in np.flatnonzero(newly):
                        if ch.fail_s[q] >= window_s:
                            continue
                        t_fail_s[q] = ch.fail_s[q]
                        code = int(ch.fail_code[q])
                        reason = (f"SGP4 error {code}: {SGP4_ERRORS.get(code, 'unknown')}"
                                  if code else "SGP4 returned a non-finite or non-physical "
                                  "state (|r| > 2e6 km or |v| > 12 km/s)")
                        dropped.append({"index": int(q), "t_s": float(ch.fail_s[q]),
                                        "reason": reason})
                    until = propagate.active_until_s(t_fail_s, h_s) - t0
                    until = np.minimum(until, window_s - t0 + step_s)
                    n_steps = int(np.ceil(min(chunk_s, window_s - t0) / step_s))
                    a = time.perf_counter()
                    while True:
                        # Objects in class order: their coefficient rows are contiguous.
                        oi, oj, ok, counts, skipped = kernels.screen_chunk(
                            ch.coef, ch.cls_first, ch.cls_size, ch.cls_base, ch.cls_nspan,
                            ch.cls_h, until[perm], pad[perm], tol[perm], primary[perm],
                            step_s, threshold_km, cell_km, n_steps, n_blocks, cap)
                        if counts.max() <= cap:
                            break
                        cap = int(counts.max() * 1.3)
                    t_kern += time.perf_counter() - a
                    n_skipped += int(skipped)
                    base = int(round(t0 / step_s))
                    for b in range(n_blocks):
                        m = int(counts[b])
                        a_, b_ = perm[oi[b, :m]], perm[oj[b, :m]]
                        flagged.append(np.stack([np.minimum(a_, b_), np.maximum(a_, b_),
                                                 ok[b, :m].astype(np.int64) + base]))
                timings["sgp4_knots"] = t_sgp4
                timings["broad_narrow_phase"] = t_kern
    finally:
        numba.set_num_threads(prev_threads)

    stage = time.perf_counter()
    tri = np.concatenate(flagged, axis=1) if flagged else np.zeros((3, 0), np.int64)
    n_flagged = tri.shape[1]
    wi, wj, wlo, whi = _windows(tri, step_s)
    with progress(total=1, desc="refine", unit="stage", quiet=quiet) as bar:
        found = refine.refine(catalog.satrecs, wi, wj, wlo, whi, jd0, fr0, window_s,
                              threshold_km, workers=threads)
        bar.update(1)
    # Drop minima after an object's failure (the window may run past it).
    ok = (found["tca_s"] < t_fail_s[found["i"]]) & (found["tca_s"] < t_fail_s[found["j"]])
    found = {k: v[ok] for k, v in found.items()}
    timings["refine"] = time.perf_counter() - stage

    stage = time.perf_counter()
    rows = _table(catalog, found, jd0, fr0, threshold_km)
    timings["table"] = time.perf_counter() - stage
    stage = time.perf_counter()
    crossings.add_start_stop(rows, catalog, jd0, fr0, threshold_km, window_s)  # START, STOP
    timings["start_stop"] = time.perf_counter() - stage
    assert set(COLUMNS) <= set(rows)
    end_jd, end_fr = jd0, fr0 + window_s / 86400.0
    drop_rows = []
    for d in sorted(dropped, key=lambda x: (x["t_s"], int(catalog.norad_id[x["index"]]))):
        q = d["index"]
        drop_rows.append({"norad_id": int(catalog.norad_id[q]), "name": str(names[q]),
                          "t_utc": format_tca(jd0, fr0 + d["t_s"] / 86400.0)[0],
                          "reason": d["reason"]})
    run = {
        "ssa_version": ssa.__version__,
        "inputs": {"catalogs": [], "satcat": None,
                   "start_utc": format_tca(jd0, fr0)[0], "end_utc": format_tca(end_jd, end_fr)[0],
                   "days": float(days), "threshold_km": float(threshold_km),
                   "primaries": None if primaries is None else [str(p) for p in (
                       [primaries] if isinstance(primaries, (str, int)) else primaries)],
                   "opsmode": getattr(catalog, "opsmode", "i")},
        "counts": {"objects": n, "screened": int(n - len(dropped)), "dropped": len(dropped),
                   "primaries": int(primary.sum()),
                   "candidate_intervals": int(n_flagged),
                   "skipped_object_intervals": n_skipped, "candidate_windows": int(wi.size),
                   "conjunctions": len(rows["NORAD_CAT_ID_1"]),
                   "long_duration": int(sum("LONG_DURATION" in f for f in rows["FLAGS"])),
                   "same_constellation": int(sum("SAME_CONSTELLATION" in f
                                                 for f in rows["FLAGS"]))},
        "dropped": drop_rows,
        "settings": {"step_s": step_s, "err_target_km": err_target_km, "threads": threads,
                     "refine_sample_s": refine.SAMPLE_S, "tca_tol_s": refine.TCA_TOL_S,
                     "long_duration_s": LONG_DURATION_S,
                     "knot_spacing_s_counts": ({str(int(h)): int(c) for h, c in zip(
                         *np.unique(plan.h_s, return_counts=True), strict=False)} if n else {}),
                     "max_interp_error_bound_km": (float(np.max(plan.err_km[
                         plan.err_km <= MAX_ERR_KM])) if n and (plan.err_km <= MAX_ERR_KM).any()
                         else None)},
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "wall_s": round(time.perf_counter() - t_wall, 3),
        "peak_memory_mb": round(_peak_mb(), 1),
    }
    if inputs:
        run["inputs"].update(inputs)
    return ScreenResult(rows, run)


def _windows(tri, step_s):
    """Merge flagged (i, j, k) triples into windows of consecutive intervals per pair."""
    if tri.shape[1] == 0:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0), np.zeros(0)
    order = np.lexsort((tri[2], tri[1], tri[0]))
    i, j, k = tri[0][order], tri[1][order], tri[2][order]
    keep = np.ones(i.size, bool)
    keep[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1]) | (k[1:] != k[:-1])
    i, j, k = i[keep], j[keep], k[keep]
    new = np.ones(i.size, bool)
    new[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1]) | (k[1:] != k[:-1] + 1)
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [i.size]]) - 1
    return i[starts], j[starts], k[starts] * step_s, (k[ends] + 1) * step_s


def _table(catalog, found, jd0, fr0, threshold_km):
    """Return the result columns (sorted by TCA, NORAD_CAT_ID_1 < NORAD_CAT_ID_2)."""
    i, j = found["i"], found["j"]
    swap = catalog.norad_id[i] > catalog.norad_id[j]
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    tca = found["tca_s"]
    order = np.lexsort((catalog.norad_id[j], catalog.norad_id[i], tca))
    i, j, tca = i[order], j[order], tca[order]
    dur = found["duration_s"][order]
    m = i.size
    e1, r1, v1 = refine.states(catalog.satrecs, i, jd0, fr0, tca)
    e2, r2, v2 = refine.states(catalog.satrecs, j, jd0, fr0, tca)
    tca_fr_total = fr0 + tca / 86400.0
    whole = np.floor(tca_fr_total)
    tca_jd = jd0 + whole
    tca_fr = tca_fr_total - whole
    dr = r2 - r1
    rtn = rtn_components(r1, v1, dr) if m else np.zeros((0, 3))
    alt, lat, lon = teme_to_geodetic(r1, tca_jd, tca_fr) if m else (np.zeros(0),) * 3
    names = np.asarray(catalog.name, dtype=object)
    cons = np.array([_constellation(str(x)) for x in names], dtype=object)
    flags = []
    for a, b, d in zip(i.tolist(), j.tolist(), dur.tolist(), strict=False):
        f = []
        if d >= LONG_DURATION_S:
            f.append("LONG_DURATION")
        if cons[a] and cons[a] == cons[b]:
            f.append("SAME_CONSTELLATION")
        flags.append(";".join(f))
    rows = {
        "NORAD_CAT_ID_1": catalog.norad_id[i], "OBJECT_NAME_1": names[i],
        "DSE_1": (tca_jd - catalog.epoch_jd[i]) + (tca_fr - catalog.epoch_fr[i]),
        "NORAD_CAT_ID_2": catalog.norad_id[j], "OBJECT_NAME_2": names[j],
        "DSE_2": (tca_jd - catalog.epoch_jd[j]) + (tca_fr - catalog.epoch_fr[j]),
        "TCA": np.array(format_tca(tca_jd, tca_fr), dtype=object),
        "TCA_RANGE": np.linalg.norm(dr, axis=1),
        "TCA_RELATIVE_SPEED": np.linalg.norm(v2 - v1, axis=1),
        "OBJECT_TYPE_1": np.asarray(catalog.object_type, dtype=object)[i],
        "OBJECT_TYPE_2": np.asarray(catalog.object_type, dtype=object)[j],
        "OWNER_1": np.asarray(catalog.owner, dtype=object)[i],
        "OWNER_2": np.asarray(catalog.owner, dtype=object)[j],
        "TCA_JD": tca_jd, "TCA_FR": tca_fr,
        "R_KM": rtn[:, 0], "T_KM": rtn[:, 1], "N_KM": rtn[:, 2],
        "ALT_KM": alt, "LAT_DEG": lat, "LON_DEG": lon,
        "FLAGS": np.array(flags, dtype=object),
    }
    for q, ax in enumerate("XYZ"):
        rows[f"{ax}1_KM"] = r1[:, q]
        rows[f"{ax}2_KM"] = r2[:, q]
        rows[f"V{ax}1_KMS"] = v1[:, q]
        rows[f"V{ax}2_KMS"] = v2[:, q]
    for c in EMPTY_UNTIL_RISK:
        rows[c] = (np.full(m, np.nan) if c not in ("PC_METHOD", "HBR_SOURCE")
                   else np.full(m, "", dtype=object))
    rows["PC_2D_VALID"] = np.full(m, "", dtype=object)
    return rows
