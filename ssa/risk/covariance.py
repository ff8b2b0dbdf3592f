"""Position uncertainty of SGP4/TLE-derived states, in RTN, and frame helpers.

``TleCovarianceModel`` (the default) gives 1-sigma radial, in-track and
cross-track errors of a public TLE propagated with SGP4, as a function of
element-set age, orbit regime (perigee/apogee altitude, i.e. drag) and object
type. Each sigma grows from its at-epoch value in quadrature with a term
linear in |age| (along-track timing error) and, for drag-dominated orbits, a
term quadratic in age (unmodelled decay accumulates as t^2):

    sigma(age) = sqrt(s0^2 + (rate * age)^2 + (drag * age^2)^2)

Where the numbers come from:
- At-epoch TLE errors (s0) of a few hundred metres radial/cross-track and
  0.4-1 km in-track for LEO: Flohrer, Krag & Klinkrad, "Assessment and
  categorization of TLE orbit errors for the US SSN catalogue", AMOS 2008;
  Kelso, "Validation of SGP4 and IS-GPS-200D against GPS precision
  ephemerides", AAS 07-127 (about 1 km within a few days of epoch).
- In-track growth of about 0.5-2 km per day in LEO, faster below 500 km where
  drag dominates; operator TLEs for Metop 600 m RMS, 2 km maximum over 7 days
  (collected in ../shared/grouping/README.md, "Orbit-knowledge accuracy").
- Shapes (in-track >> radial > cross-track) and magnitudes of operational
  covariances: the real CARA CDMs (../shared/grouping/cdm-covariance-summary.csv:
  debris secondaries R 24 m, T 0.9 km, N 13 m at 1-2.5 days before TCA,
  T 77 km at 4.5-6.7 days); TLEs are one to two orders worse than these
  special-perturbations covariances at short lead times.
The per-regime values in ``REGIMES`` are engineering judgement fitted to
those published figures; they are not a calibration against truth orbits.
Any object with ``rtn_sigma_m(age_days, perigee_km, apogee_km, object_type)``
can replace this model (see ``CovarianceModel``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

# rtn_basis is re-exported for callers that still import it from here (ssa.scenario).
from ssa.geometry.frames import rtn_basis, rtn_to_inertial_cov  # noqa: F401


@runtime_checkable
class CovarianceModel(Protocol):
    """Anything that returns (n, 3) RTN 1-sigma position errors in metres."""

    def rtn_sigma_m(self, age_days, perigee_km, apogee_km, object_type) -> np.ndarray: ...


@dataclass(frozen=True)
class RegimeSigma:
    """At-epoch sigma (m), linear growth (m/day) and drag growth (m/day^2), each (R, T, N)."""

    s0_m: tuple[float, float, float]
    rate_m_per_day: tuple[float, float, float]
    drag_m_per_day2: tuple[float, float, float]


# Per-regime sigmas, keyed by the names ``regime_names`` returns.
REGIMES: dict[str, RegimeSigma] = {
    "LEO<500": RegimeSigma((150.0, 700.0, 200.0), (60.0, 1500.0, 40.0), (10.0, 300.0, 0.0)),
    "LEO<800": RegimeSigma((100.0, 500.0, 150.0), (30.0, 800.0, 25.0), (3.0, 60.0, 0.0)),
    "LEO<2000": RegimeSigma((100.0, 400.0, 150.0), (20.0, 500.0, 20.0), (0.0, 10.0, 0.0)),
    "MEO": RegimeSigma((300.0, 1500.0, 300.0), (50.0, 800.0, 50.0), (0.0, 0.0, 0.0)),
    "GEO": RegimeSigma((500.0, 2000.0, 800.0), (50.0, 700.0, 50.0), (0.0, 0.0, 0.0)),
    "HEO": RegimeSigma((500.0, 3000.0, 500.0), (100.0, 2000.0, 100.0), (10.0, 200.0, 0.0)),
}
# Higher area-to-mass debris decays less predictably: scale drag-driven growth.
DEBRIS_DRAG_FACTOR = 2.0


def regime_names(perigee_km, apogee_km) -> np.ndarray:
    """Return (n,) REGIMES keys from perigee/apogee altitude (km).

    LEO<500/LEO<800/LEO<2000: apogee below 2000 km, by perigee; GEO: perigee
    above 30,000 km and apogee below 40,000 km; HEO: perigee below 2000 km with
    apogee above, or apogee at or above 40,000 km; MEO: everything else.
    """
    hp = np.asarray(perigee_km, dtype=np.float64)
    ha = np.asarray(apogee_km, dtype=np.float64)
    geo = (hp > 30000.0) & (ha < 40000.0)
    heo = (hp < 2000.0) & (ha > 2000.0) | (ha >= 40000.0) & ~geo
    low = ha < 2000.0
    return np.select(
        [low & (hp < 500.0), low & (hp < 800.0), low & (hp < 2000.0), geo, heo],
        ["LEO<500", "LEO<800", "LEO<2000", "GEO", "HEO"],
        default="MEO",
    )


class TleCovarianceModel:
    """Default TLE/SGP4 error model (see module docstring for its sources)."""

    name = "TLE-AGE-REGIME-v1"

    def __init__(self, regimes: dict | None = None, debris_drag_factor: float = DEBRIS_DRAG_FACTOR):
        """regimes: {name: RegimeSigma} replacing those entries of ``REGIMES``."""
        unknown = set(regimes or {}) - set(REGIMES)
        if unknown:
            raise ValueError(
                f"unknown regime name(s) {sorted(unknown)}; expected some of {list(REGIMES)}"
            )
        self.regimes = {**REGIMES, **(regimes or {})}
        self.debris_drag_factor = debris_drag_factor

    def rtn_sigma_m(self, age_days, perigee_km, apogee_km, object_type=None) -> np.ndarray:
        """Return (n, 3) 1-sigma R, T, N position errors (m) at element-set age (days)."""
        age = np.abs(np.atleast_1d(np.asarray(age_days, dtype=np.float64)))
        hp = np.broadcast_to(np.asarray(perigee_km, dtype=np.float64), age.shape)
        ha = np.broadcast_to(np.asarray(apogee_km, dtype=np.float64), age.shape)
        keys, idx = np.unique(regime_names(hp, ha).ravel(), return_inverse=True)
        idx = idx.reshape(age.shape)
        s0 = np.array([self.regimes[k].s0_m for k in keys]).reshape(-1, 3)[idx]
        rate = np.array([self.regimes[k].rate_m_per_day for k in keys]).reshape(-1, 3)[idx]
        drag = np.array([self.regimes[k].drag_m_per_day2 for k in keys]).reshape(-1, 3)[idx]
        if object_type is not None:
            types = np.broadcast_to(np.asarray(object_type, dtype=object), age.shape)
            values = types.ravel().tolist()
            try:  # each distinct type text read once (a catalogue has a handful)
                known = {t: str(t).upper().startswith("DEB") for t in set(values)}
                debris = np.array([known[t] for t in values], dtype=bool)
            except TypeError:  # an unhashable value
                debris = np.array([str(t).upper().startswith("DEB") for t in values], bool)
            drag = (
                drag * np.where(debris.reshape(age.shape), self.debris_drag_factor, 1.0)[..., None]
            )
        a = age[..., None]
        sig = np.sqrt(s0**2 + (rate * a) ** 2 + (drag * a * a) ** 2)
        bad = ~np.isfinite(age) | ~np.isfinite(hp) | ~np.isfinite(ha)
        sig[bad] = np.nan
        return sig


def rtn_to_inertial(r_km, v_kms, cov_rtn) -> np.ndarray:
    """Return cov_rtn rotated into the inertial frame of (r, v); same units as given.

    cov_rtn: (3,3) position or (6,6) state covariance in RTN, or stacks (n,3,3)/(n,6,6)
    with r, v (n,3); a single matrix gives a single matrix back. The rotation is
    ``ssa.geometry.rtn_to_inertial_cov``.
    """
    c = np.asarray(cov_rtn, dtype=np.float64)
    out = rtn_to_inertial_cov(r_km, v_kms, c)
    return out[0] if c.ndim == 2 else out


def sigma_to_rtn_cov_km2(sigma_m) -> np.ndarray:
    """Return (n, 3, 3) diagonal RTN covariance (km^2) from (n, 3) sigmas (m)."""
    s = np.atleast_2d(np.asarray(sigma_m, dtype=np.float64)) * 1e-3
    out = np.zeros(s.shape[:-1] + (3, 3))
    idx = np.arange(3)
    out[..., idx, idx] = s**2
    return out
