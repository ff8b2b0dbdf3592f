"""Knowledge stage: each participant's covariance of an object at TCA, at each assessment.

Sources of knowledge, the best (smallest total variance) is used:

* **Own orbit determination** (``od.OdModel``): the information of the
  participant's tracks in the trailing fit span before the assessment (the
  tasking stage's schedule, re-planned at every assessment), at lead
  L = TCA - assessment time.
  Inside the grouping with ``observations`` sharing, partners' tracks arrive
  ``observation_latency_h`` late: their information counts at lead L + latency,
  and information adds (``od_variances``). Fewer than ``od.MIN_TRACKS_FOR_OD``
  tracks in the span: no orbit of one's own.
* **Public catalog**: SGP4 element sets, error from ``ssa.risk``'s TLE
  covariance model at age = lead + element-set age at the assessment. The
  public catalog is re-issued per object every ``reissue_interval_d`` (its
  update interval in the snapshot, clipped to 0.5-3 days, about daily as real
  catalogues), published ``PUBLIC_DELAY_D`` after its epoch: a 30-day window
  never runs on a 30-day-old element set.
* **Owners' ephemerides**: a member knows its own satellites from GPS
  (``OWNER_SIGMA_RTN_M`` plus the common density term); inside the grouping,
  members that share anything (``observations`` or ``alerts``) pass their
  satellites' ephemerides to partners.
* **Alerts** (``alerts`` sharing): a participant also receives each sharing
  partner's solution (``alert_latency_h`` late) and uses it when it is better.

The in-track density term is identical for every participant (``od``).
"""

from __future__ import annotations

import numpy as np

from ssa.scenario import od

SECONDS_PER_DAY = 86400.0
# Publication delay of a public element set after its epoch (days, judgement).
PUBLIC_DELAY_D = 0.25
REISSUE_RANGE_D = (0.5, 3.0)
# GPS-based owner ephemeris, 1-sigma R, T, N (m) before the density term (judgement:
# GPS orbit determination is metre-level; predicted manoeuvre execution and
# attitude add tens of metres in-track).
OWNER_SIGMA_RTN_M = (5.0, 30.0, 5.0)


def reissue_interval_d(catalog) -> np.ndarray:
    """Return (N,) days between public element sets per object (from the snapshot's ages)."""
    jd, fr = catalog.epoch_median()
    age = np.abs(catalog.age_days(jd, fr))
    return np.clip(age, *REISSUE_RANGE_D)


def reissue_phase_d(norad_id, interval_d) -> np.ndarray:
    """Return (N,) a fixed phase (days) of each object's re-issue cycle (from its NORAD id)."""
    frac = (np.asarray(norad_id, dtype=np.int64) * 0.6180339887498949) % 1.0
    return frac * np.asarray(interval_d)


def element_age_d(t_s, interval_d, phase_d) -> np.ndarray:
    """Return the age (days) of the latest published element set at times t_s (s)."""
    t_d = np.asarray(t_s, dtype=float) / SECONDS_PER_DAY - PUBLIC_DELAY_D
    return PUBLIC_DELAY_D + np.mod(t_d - phase_d, interval_d)


def public_sigma_m(lead_d, elem_age_d, perigee_km, apogee_km, object_type) -> np.ndarray:
    """Return (..., 3) public-catalog RTN sigma (m) at TCA."""
    from ssa.risk.covariance import TleCovarianceModel

    age = np.asarray(lead_d, dtype=float) + np.asarray(elem_age_d, dtype=float)
    shape = age.shape
    hp = np.broadcast_to(perigee_km, shape).ravel()
    ha = np.broadcast_to(apogee_km, shape).ravel()
    ty = np.broadcast_to(np.asarray(object_type, dtype=object), shape).ravel()
    return TleCovarianceModel().rtn_sigma_m(age.ravel(), hp, ha, ty).reshape(*shape, 3)


def od_variances(
    model: od.OdModel,
    lead_d,
    info_own,
    info_partner,
    latency_d,
    ballistic,
    perigee_km,
    apogee_km,
    lead_offset_d: float = 0.0,
    memo: dict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (measurement var (..., 3), density var (..., 3)) in m^2.

    Own tracks count at lead L + lead_offset_d, partners' at L + lead_offset_d +
    latency; information adds. ``memo``: a dict kept for the same (lead, objects),
    reusing the terms that do not depend on the information.
    """
    memo = {} if memo is None else memo

    def g(off):
        if ("g", off) not in memo:
            memo[("g", off)] = model.measurement_var_m2(np.asarray(lead_d) + off, 1.0)
        return memo[("g", off)]

    own = np.asarray(info_own, dtype=float)
    part = np.asarray(info_partner, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = own[..., None] / g(lead_offset_d)
        if np.any(part):
            inv = inv + part[..., None] / g(lead_offset_d + latency_d)
        meas = np.where(inv > 0, 1.0 / inv, np.inf)
    return meas, density_variances(
        model, lead_d, ballistic, perigee_km, apogee_km, lead_offset_d, memo
    )


def density_variances(
    model, lead_d, ballistic, perigee_km, apogee_km, lead_offset_d=0.0, memo=None
):
    """Return (..., 3) density-term variances (m^2), the same for every participant."""
    key = ("dens", lead_offset_d)
    if memo is not None and key in memo:
        return memo[key]
    out = model.density_var_m2(np.asarray(lead_d) + lead_offset_d, ballistic, perigee_km, apogee_km)
    if memo is not None:
        memo[key] = out
    return out


def owner_variances(model: od.OdModel, lead_d, ballistic, perigee_km, apogee_km, memo=None):
    """Return (measurement var, density var) (m^2) of an owner's GPS-based ephemeris."""
    meas = np.broadcast_to(np.square(OWNER_SIGMA_RTN_M), np.shape(lead_d) + (3,))
    return meas, density_variances(model, lead_d, ballistic, perigee_km, apogee_km, 0.0, memo)
