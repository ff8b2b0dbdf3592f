"""The exponential atmosphere and SGP4's reference density for B*.

Vallado, *Fundamentals of Astrodynamics and Applications* (4th ed.), table 8-4
(CIRA-72, mean solar activity): base height (km), base density (kg/m^3), scale
height (km). Used by the breakup model (B* matched to the real air at perigee) and
by the orbit-knowledge model (the drag term of a forecast).
"""

from __future__ import annotations

import numpy as np

EXPONENTIAL_ATMOSPHERE = np.array(
    [
        (100, 5.297e-7, 5.877),
        (110, 9.661e-8, 7.263),
        (120, 2.438e-8, 9.473),
        (130, 8.484e-9, 12.636),
        (140, 3.845e-9, 16.149),
        (150, 2.070e-9, 22.523),
        (180, 5.464e-10, 29.740),
        (200, 2.789e-10, 37.105),
        (250, 7.248e-11, 45.546),
        (300, 2.418e-11, 53.628),
        (350, 9.518e-12, 53.298),
        (400, 3.725e-12, 58.515),
        (450, 1.585e-12, 60.828),
        (500, 6.967e-13, 63.822),
        (600, 1.454e-13, 71.835),
        (700, 3.614e-14, 88.667),
        (800, 1.170e-14, 124.64),
        (900, 5.245e-15, 181.05),
        (1000, 3.019e-15, 268.00),
    ]
)
# SGP4's reference density in B* = (Cd A/m) rho0 / 2: rho_q0 x R_E (kg/m^2 per Earth
# radius; Hoots & Roehrich 1980).
BSTAR_RHO0_KG_M2_ER = 0.15696615


def scale_height_km(h_km) -> np.ndarray:
    """Return the table's scale height (km) of the band holding each height ``h_km``."""
    t = EXPONENTIAL_ATMOSPHERE
    k = np.clip(np.searchsorted(t[:, 0], np.asarray(h_km, float), side="right") - 1, 0, len(t) - 1)
    return t[k, 2]


def density_kg_m3(h_km) -> np.ndarray:
    """Return the exponential-model air density (kg/m^3) at heights ``h_km``, each
    from its table band (below 100 km the first band extrapolated: callers floor or
    cut the heights as their model needs)."""
    t = EXPONENTIAL_ATMOSPHERE
    h = np.asarray(h_km, float)
    k = np.clip(np.searchsorted(t[:, 0], h, side="right") - 1, 0, len(t) - 1)
    return t[k, 1] * np.exp(-(h - t[k, 0]) / t[k, 2])
