"""B* of a fragment from its area-to-mass ratio, matched to the real atmosphere.

SGP4's drag uses one density law, rho(h) = rho_q0 ((q0 - s) / (h - s))^4 with q0 = 120 km,
s = 78 km and rho_q0 = 2.461e-8 kg/m^3 (Hoots & Roehrich 1980, Spacetrack Report 3), so
B* = Cd (A/m) rho_q0 R_E / 2 = Cd (A/m) 0.15697 / 2 (kg/m^2 per Earth radius) is the
physical B* only where that law matches the air. It does near 120-450 km, but it falls
much more slowly with height than the real thermosphere: at 800 km it is 20-25 times the
mean density (Vallado's exponential model, `ssa.geometry.atmosphere`). Real element sets absorb this in
their fitted B*: catalogued Fengyun-1C debris at 770 km have median B* 1.2e-3 (2023-09
snapshot), where the physical B* of the model's >= 10 cm fragments has median 2.2e-2.
Used unscaled, it made the validation clouds decay 10-20 times too fast (session 3:
0.20 of Fengyun-1C's pieces gone in a year, 0.01 really).

So ``bstar_from_am`` scales the physical B* by rho_real(h) / rho_SGP4(h) at the fragment's
perigee height h (drag acts mostly within a scale height of perigee; our choice), with
rho_real from the exponential atmosphere of Vallado, *Fundamentals of Astrodynamics and
Applications* (4th ed.), table 8-4 (CIRA-72, mean solar activity). The solar cycle is not
modelled (B* is constant, as in a TLE).
"""

from __future__ import annotations

import numpy as np

from ssa.geometry import EARTH_RADIUS_KM, atmosphere
from ssa.geometry.atmosphere import BSTAR_RHO0_KG_M2_ER

EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000.0  # SGP4's WGS72 radius
DRAG_COEFFICIENT = 2.2  # Cd of a tumbling fragment in free-molecular flow
RHO0_KG_M2_ER = BSTAR_RHO0_KG_M2_ER  # rho_q0 x R_E: SGP4's reference density for B*
SGP4_Q0_KM = 120.0
SGP4_S_KM = 78.0
MAX_MATCH_HEIGHT_KM = 1000.0


def density_kg_m3(h_km) -> np.ndarray:
    """Return the exponential-model air density (kg/m^3) at heights ``h_km`` (>= 100 km)."""
    return atmosphere.density_kg_m3(np.maximum(np.asarray(h_km, float), 100.0))


def sgp4_density_kg_m3(h_km) -> np.ndarray:
    """Return SGP4's own density law at ``h_km`` (its s = 78 km branch, h >= 130 km)."""
    h = np.maximum(np.asarray(h_km, float), 130.0)
    rho_q0 = RHO0_KG_M2_ER / EARTH_RADIUS_M
    return rho_q0 * ((SGP4_Q0_KM - SGP4_S_KM) / (h - SGP4_S_KM)) ** 4


def bstar_from_am(am_m2_kg, perigee_km=None, cd: float = DRAG_COEFFICIENT) -> np.ndarray:
    """Return B* (1/Earth radii) for area-to-mass ``am_m2_kg`` (m^2/kg).

    With ``perigee_km`` the physical B* is scaled so SGP4's drag at that perigee equals
    the exponential atmosphere's (module docstring); without, the physical B*."""
    b = RHO0_KG_M2_ER * cd * np.asarray(am_m2_kg, float) / 2.0
    if perigee_km is None:
        return b
    # Above the table's last height (1,000 km) the ratio stays at its value there
    # (judgement: drag hardly matters there; extrapolating would give B* of 1e-11).
    h = np.minimum(np.asarray(perigee_km, float), MAX_MATCH_HEIGHT_KM)
    ratio = np.where(np.isfinite(h), density_kg_m3(h) / sgp4_density_kg_m3(h), 1.0)
    return b * ratio
