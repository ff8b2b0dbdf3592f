"""Orbit knowledge: each participant's 1-sigma RTN uncertainty of an object at TCA.

A participant knows an object at least as well as the public catalog (a TLE
propagated with SGP4, uncertainty from ``ssa.risk``'s TLE covariance model as
a function of element-set age), and better when its own or shared tracking is
recent. An orbit fitted to a sensor's tracking is modelled as

    sigma_c(dt) = sqrt(sigma0_c**2 + (rate_c * dt)**2 + (f_drag * drag_c * dt**2)**2)

for c in R, T, N and ``dt`` the days from the last track to TCA.

* ``sigma0``: measurement noise over ``FIT_MEASUREMENTS`` independent points:
  radial from the radar range noise; in-track and normal from range x angle
  noise at a typical range (1000 km in LEO, the perigee altitude above); an
  angles-only (optical) fit gets ``OPTICAL_RADIAL_FACTOR`` times its
  cross-range sigma radially. Sensor noise: Vallado SENSOR.DAT (V).
* ``rate`` (velocity/period error, linear) and ``drag`` (unmodelled drag,
  quadratic) chosen (C/I) so that at 1.75 d the sigmas match the median
  1-sigma of debris secondaries in 53 real NASA CARA CDMs 1-2.5 days before
  TCA (R 24 m, T 0.9 km, N 13 m; shared/grouping/cdm-covariance-summary.csv):
  the model gives R 21 m, T 0.81 km, N 12 m there. CARA's 4.5-6.7 d medians
  (T 77 km) grow faster: beyond ~4 days the model is optimistic for poorly
  tracked debris, and at such leads it is no better than a fresh public TLE.
* ``f_drag``: drag grows faster below 500 km perigee (x ``LOW_PERIGEE_FACTOR``)
  and is negligible above 2000 km (x ``HIGH_ORBIT_FACTOR``) (engineering
  judgement, shared/grouping README: "faster below 500 km").

The participant uses the single source (public TLE or one sensor's track)
with the smallest total variance. More tracking (a later last track or more
sensors) can therefore never worsen its knowledge.
"""

from __future__ import annotations

import math

import numpy as np

FIT_MEASUREMENTS = 10.0
OPTICAL_RADIAL_FACTOR = 3.0
LEO_TYPICAL_RANGE_KM = 1000.0
LEO_PERIGEE_MAX_KM = 2000.0
# Floor on any fitted sigma (m): station location, timing and force-model noise.
SIGMA_FLOOR_M = 5.0
RATE_RTN_M_PER_DAY = np.array([10.0, 300.0, 7.0])
DRAG_RTN_M_PER_DAY2 = np.array([4.0, 200.0, 0.0])
LOW_PERIGEE_KM = 500.0
LOW_PERIGEE_FACTOR = 2.0
HIGH_ORBIT_FACTOR = 0.2

PUBLIC = -1  # knowledge source code: the public catalog


def sensor_sigma0_m(range_sigma_m, angle_sigma_deg, is_optical, perigee_km) -> np.ndarray:
    """Return (S, n, 3) RTN 1-sigma (m) of an orbit fitted to one sensor's pass.

    Sensor arrays have length S, ``perigee_km`` length n.
    """
    rng_km = np.where(np.asarray(perigee_km) < LEO_PERIGEE_MAX_KM, LEO_TYPICAL_RANGE_KM,
                      np.asarray(perigee_km, dtype=float))
    cross_m = (np.asarray(angle_sigma_deg)[:, None] * (math.pi / 180.0)
               * rng_km[None, :] * 1000.0 / math.sqrt(FIT_MEASUREMENTS))
    radial_m = np.where(np.asarray(is_optical)[:, None], OPTICAL_RADIAL_FACTOR * cross_m,
                        np.asarray(range_sigma_m)[:, None] / math.sqrt(FIT_MEASUREMENTS))
    out = np.stack([radial_m, cross_m, cross_m], axis=-1)
    return np.maximum(out, SIGMA_FLOOR_M)


def growth_m_per_day2(perigee_km) -> np.ndarray:
    """Return (n, 3) quadratic (drag) RTN growth coefficients (m/day^2) per object."""
    perigee_km = np.asarray(perigee_km, dtype=float)
    factor = np.where(perigee_km < LOW_PERIGEE_KM, LOW_PERIGEE_FACTOR,
                      np.where(perigee_km > LEO_PERIGEE_MAX_KM, HIGH_ORBIT_FACTOR, 1.0))
    return factor[:, None] * DRAG_RTN_M_PER_DAY2[None, :]


def tracked_sigma_m(sigma0_m, growth, dt_days) -> np.ndarray:
    """Return RTN sigma (m) of a fit propagated ``dt_days`` (>= 0) past its last track.

    ``growth`` is the drag term from ``growth_m_per_day2``; the linear term is
    RATE_RTN_M_PER_DAY for every object.
    """
    dt = np.maximum(np.asarray(dt_days, dtype=float), 0.0)[..., None]
    return np.sqrt(sigma0_m ** 2 + (RATE_RTN_M_PER_DAY * dt) ** 2 + (growth * dt ** 2) ** 2)


def best_knowledge(public_sigma_m, last_track_s, usable, sigma0_m, growth, tca_s):
    """Return (sigma_m (n, 3), source (n,) int) of the best knowledge per object.

    public_sigma_m (n, 3): public-catalog RTN sigma at TCA.
    last_track_s (S, n): each sensor's latest detection (s, NaN: none) known at
    the assessment time. usable (S, n) bool: the participant has that sensor's
    data for that object. sigma0_m (S, n, 3), growth (n, 3), tca_s (n,).
    ``source`` is the sensor index used, or PUBLIC.
    """
    public_sigma_m = np.asarray(public_sigma_m, dtype=float)
    best = public_sigma_m.copy()
    best_var = np.sum(best ** 2, axis=-1)
    source = np.full(len(best), PUBLIC, dtype=np.int64)
    have = usable & np.isfinite(last_track_s)
    for s in np.flatnonzero(have.any(axis=1)):
        rows = np.flatnonzero(have[s])
        dt_days = (tca_s[rows] - last_track_s[s, rows]) / 86400.0
        sig = tracked_sigma_m(sigma0_m[s, rows], growth[rows], dt_days)
        var = np.sum(sig ** 2, axis=-1)
        better = var < best_var[rows]
        best[rows[better]] = sig[better]
        best_var[rows[better]] = var[better]
        source[rows[better]] = s
    return best, source


def rtn_to_inertial_cov_km2(r_km, v_kms, sigma_rtn_m) -> tuple[np.ndarray, np.ndarray]:
    """Return (cov_km2 (n,3,3), basis (n,3,3)) for diagonal RTN sigmas in the frame of r, v.

    Rows of ``basis`` are the R, T, N unit vectors (docs/DESIGN.md convention).
    """
    r = np.asarray(r_km, dtype=float)
    v = np.asarray(v_kms, dtype=float)
    rhat = r / np.linalg.norm(r, axis=-1, keepdims=True)
    h = np.cross(r, v)
    nhat = h / np.linalg.norm(h, axis=-1, keepdims=True)
    that = np.cross(nhat, rhat)
    basis = np.stack([rhat, that, nhat], axis=-2)
    var_km2 = (np.asarray(sigma_rtn_m) * 1e-3) ** 2
    cov = np.einsum("nki,nk,nkj->nij", basis, var_km2, basis)
    return cov, basis
