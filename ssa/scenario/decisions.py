"""Decisions stage: Pc at every assessment, correlated errors, commit-time decisions.

Operators screen ``screen_ahead_days`` ahead of each TCA and re-assess every
``cadence_h``. At each assessment a participant's estimate of each object is
the truth plus an error drawn from its own covariance. Successive orbit
solutions share most of their tracks, so their errors are correlated: the
standard-normal draws behind them follow an AR(1) sequence with correlation
``rho = max(0, 1 - cadence / fit span)`` (the fraction of the fit span two
successive solutions share; ``successive_correlation``). The in-track density
error is a common draw (one atmosphere forecast for everyone), its own AR(1)
with ``DENSITY_RHO``.

Pc is the Foster 2D probability (``ssa.risk.pc.pc_2d``) of the estimated miss
vector under the participant's covariance, in the encounter plane
(``ssa.geometry.encounter_frame``). The decision is taken on Pc at the last
assessment at or before TCA - commit time: manoeuvre when Pc >= threshold.
Workload counts events whose Pc reached 1e-5 / 1e-7 at some assessment up to
the commit time; they are reported apart from manoeuvres.
"""

from __future__ import annotations

import numpy as np

SECONDS_PER_DAY = 86400.0
# Correlation of successive density-forecast errors 8 h apart (judgement: forecasts
# of the same storm-free atmosphere change slowly).
DENSITY_RHO = 0.9
# Pc below this is reported as 0 (evaluated only where the peak density x disc
# area bound reaches it): below every threshold and workload level used.
PC_FLOOR = 1e-8
WORKLOAD_LEVELS = (1e-5, 1e-7)
WARNING_PC = 1e-5


def successive_correlation(cadence_h: float, fit_span_days: float) -> float:
    """Return the correlation of successive solutions' errors: shared fraction of the span."""
    return max(0.0, 1.0 - cadence_h / (24.0 * fit_span_days))


def ar1_normals(rng, shape, rho: float, axis: int = 1) -> np.ndarray:
    """Return standard normals with lag-1 correlation ``rho`` along ``axis`` (stationary)."""
    z = rng.standard_normal(shape)
    z = np.moveaxis(z, axis, 0)
    a = np.sqrt(max(0.0, 1.0 - rho * rho))
    for k in range(1, z.shape[0]):
        z[k] = rho * z[k - 1] + a * z[k]
    return np.moveaxis(z, 0, axis)


def assessment_times(
    tca_s, window_start_s: float, ahead_days: float, cadence_h: float, last_commit_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return (t (E, K) s, valid (E, K)): the global 8-hourly grid inside each event's span.

    The grid starts ``ahead_days`` before the window; an event's assessments run from
    TCA - ahead_days to TCA - last_commit_days (the earliest commit in the sweep).
    """
    cad = cadence_h * 3600.0
    t0 = window_start_s - ahead_days * SECONDS_PER_DAY
    tca = np.asarray(tca_s, dtype=float)
    first = np.ceil((tca - ahead_days * SECONDS_PER_DAY - t0) / cad - 1e-9)
    k_max = int(np.ceil((ahead_days - last_commit_days) * SECONDS_PER_DAY / cad)) + 1
    t = t0 + (first[:, None] + np.arange(k_max)[None, :]) * cad
    valid = t <= tca[:, None] - last_commit_days * SECONDS_PER_DAY + 1e-6
    return t, valid


def pc_series(
    r1_km, v1_kms, r2_km, v2_kms, hbr_m, err1_km, err2_km, cov1_km2, cov2_km2, valid
) -> np.ndarray:
    """Return (E, K) Pc of estimated states (truth + error) under the given covariances.

    r*, v* (E, 3) true TCA states; err* (E, K, 3) inertial errors (km); cov* (E, K, 3, 3)
    inertial covariances (km^2); valid (E, K). Invalid entries are NaN; Pc below
    PC_FLOOR by its upper bound is 0.
    """
    from ssa.geometry import encounter_frame
    from ssa.risk.pc import pc_2d

    e, k = valid.shape
    pc = np.full((e, k), np.nan)
    ie, ik = np.nonzero(valid)
    if len(ie) == 0:
        return pc
    r1 = r1_km[ie] + err1_km[ie, ik]
    r2 = r2_km[ie] + err2_km[ie, ik]
    v1, v2 = v1_kms[ie], v2_kms[ie]
    frame = encounter_frame(r1, v1, r2, v2)
    plane = frame[:, [0, 2], :]
    dr = r2 - r1
    miss = np.einsum("nij,nj->ni", plane, dr)  # linear-motion miss in the plane
    cov = cov1_km2[ie, ik] + cov2_km2[ie, ik]
    cov2d = np.einsum("nij,njk,nlk->nil", plane, cov, plane)
    hbr_km = np.asarray(hbr_m, dtype=float)[ie] * 1e-3
    # Upper bound: peak density x disc area, the density taken at the disc point of
    # smallest Mahalanobis distance (miss distance minus the disc radius in the
    # narrowest direction). Pc is evaluated only where the bound reaches PC_FLOOR.
    a, b, cxz = cov2d[:, 0, 0], cov2d[:, 1, 1], cov2d[:, 0, 1]
    det = np.maximum(a * b - cxz**2, 1e-30)
    lam_min = np.maximum(0.5 * (a + b) - np.sqrt(0.25 * (a - b) ** 2 + cxz**2), 1e-30)
    maha = np.sqrt(
        np.maximum(
            (b * miss[:, 0] ** 2 - 2 * cxz * miss[:, 0] * miss[:, 1] + a * miss[:, 1] ** 2) / det,
            0.0,
        )
    )
    near = np.maximum(maha - hbr_km / np.sqrt(lam_min), 0.0)
    bound = hbr_km**2 / (2.0 * np.sqrt(det)) * np.exp(-0.5 * near**2)
    out = np.zeros(len(ie))
    need = bound >= PC_FLOOR
    if np.any(need):
        val, _ = pc_2d(miss[need], cov2d[need], hbr_km[need] * 1e3)
        out[need] = np.nan_to_num(val, nan=0.0)
    pc[ie, ik] = out
    return pc


def miss_series(r1_km, v1_kms, r2_km, v2_kms, err1_km, err2_km, valid) -> np.ndarray:
    """Return (E, K) estimated miss distance (km) in the encounter plane; NaN where invalid.

    The linear-motion miss of the estimated states (truth + error): the separation
    with its component along the relative velocity removed. The optional
    miss-distance rule (``assessment.miss_rule_km``) decides on it instead of Pc.
    """
    dr = (r2_km[:, None] + err2_km) - (r1_km[:, None] + err1_km)
    dv = np.asarray(v2_kms) - np.asarray(v1_kms)
    u = dv / np.linalg.norm(dv, axis=1, keepdims=True)
    along = np.einsum("eki,ei->ek", dr, u)
    miss = np.linalg.norm(dr - along[..., None] * u[:, None], axis=2)
    return np.where(valid, miss, np.nan)


def commit_index(t_s, valid, tca_s, commit_days: float) -> np.ndarray:
    """Return (E,) index of the last valid assessment at or before TCA - commit (-1: none)."""
    ok = valid & (t_s <= np.asarray(tca_s)[:, None] - commit_days * SECONDS_PER_DAY + 1e-6)
    k = ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
    return np.where(ok.any(axis=1), k, -1)


def decision_metrics(pc, t_s, valid, tca_s, commit_days: float, threshold: float) -> dict:
    """Return per-event arrays for one commit time: pc at commit, manoeuvre, workload, flips.

    ``warning_h``: TCA minus the first assessment with Pc >= WARNING_PC (NaN: never).
    ``flips``: changes of (Pc >= threshold) between successive assessments up to commit.
    """
    k = commit_index(t_s, valid, tca_s, commit_days)
    e = np.arange(len(k))
    pc_c = np.where(k >= 0, pc[e, np.maximum(k, 0)], 0.0)
    upto = valid & (np.arange(pc.shape[1])[None, :] <= k[:, None])
    pcu = np.where(upto, np.nan_to_num(pc, nan=0.0), 0.0)
    pmax = pcu.max(axis=1) if pc.shape[1] else np.zeros(len(k))
    over = pcu >= threshold
    # Flips only count between assessments that both exist.
    both = upto[:, 1:] & upto[:, :-1]
    flips = np.sum((over[:, 1:] != over[:, :-1]) & both, axis=1)
    warn = upto & (pcu >= WARNING_PC)
    first = np.argmax(warn, axis=1)
    warning_h = np.where(warn.any(axis=1), (np.asarray(tca_s) - t_s[e, first]) / 3600.0, np.nan)
    return {
        "pc_commit": pc_c,
        "manoeuvre": pc_c >= threshold,
        "pc_max": pmax,
        "workload": {lvl: pmax >= lvl for lvl in WORKLOAD_LEVELS},
        "flips": flips,
        "warning_h": warning_h,
        "commit_k": k,
    }
