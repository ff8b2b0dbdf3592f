"""The NASA Standard Breakup Model's distributions (Johnson, Krisko, Liou & Anz-Meador
2001, "NASA's new breakup model of EVOLVE 4.0", Adv. Space Res. 28(9); as implemented
per Krisko 2011, "Proper implementation of the 1998 NASA breakup model", ODQN 15(4)).

Pure numpy functions in SI units (characteristic length ``lc_m`` in m, masses in kg,
area-to-mass ``am_m2_kg`` in m^2/kg, speeds in m/s). Notation: lambda = log10(Lc/m),
chi = log10(A/m / (m^2/kg)), nu = log10(dv / (m/s)).

Equations used (numbers are the papers'):
- explosion: N(>Lc) = 6 S Lc^-1.6 (S = 1, the model's default scaling);
- collision: N(>Lc) = 0.1 M^0.75 Lc^-1.71, with M = m_target + m_projectile (kg) when
  the impact is catastrophic, else M = m_projectile * (v_impact / 1 km/s)^2;
  catastrophic when the projectile's kinetic energy per target mass >= 40 J/g;
- A/m: chi is normal (Lc < 8 cm, both parent kinds) or a sum of two normals
  (Lc > 11 cm; separate coefficients for rocket-body and spacecraft parents); between
  8 and 11 cm the large-object law is used with probability rising linearly in lambda
  (Krisko 2011's bridging; our choice of the weighting: linear in log10 Lc);
- area: A = 0.540424 Lc^2 (Lc < 1.67 mm), 0.556945 Lc^2.0047077 otherwise (m^2);
- delta-v: nu normal with sigma 0.4, mean 0.2 chi + 1.85 (explosion) or 0.9 chi + 2.9
  (collision), direction isotropic.
"""

from __future__ import annotations

import numpy as np

CATASTROPHIC_J_PER_G = 40.0  # energy-to-mass threshold (J per g of target)
EXPLOSION_SCALING = 1.0  # S in the explosion law (1 = upper stages, default)
AREA_SMALL_LC_M = 0.00167  # switch between the two area-Lc laws
BRIDGE_LC_M = (0.08, 0.11)  # below: small-fragment A/m law; above: bimodal law
DV_LOG_SIGMA = 0.4  # spread of log10(dv/(m/s)) in both modes
PARENT_KINDS = ("rocket_body", "spacecraft")


def n_fragments_collision(lc_m, mass_kg):
    """Return N(>Lc) of a collision with characteristic mass ``mass_kg`` (see module)."""
    return 0.1 * np.asarray(mass_kg, float) ** 0.75 * np.asarray(lc_m, float) ** -1.71


def n_fragments_explosion(lc_m, scaling: float = EXPLOSION_SCALING):
    """Return N(>Lc) of an explosion (scaling factor S; 1 by default)."""
    return 6.0 * scaling * np.asarray(lc_m, float) ** -1.6


def specific_energy_j_g(projectile_kg: float, target_kg: float, speed_km_s: float) -> float:
    """Return the projectile's kinetic energy per target mass (J/g)."""
    return 0.5 * projectile_kg * (speed_km_s * 1e3) ** 2 / (target_kg * 1e3)


def is_catastrophic(projectile_kg: float, target_kg: float, speed_km_s: float) -> bool:
    """True when the collision is catastrophic (>= 40 J/g, Johnson et al. 2001)."""
    return specific_energy_j_g(projectile_kg, target_kg, speed_km_s) >= CATASTROPHIC_J_PER_G


def collision_mass_kg(target_kg: float, projectile_kg: float, speed_km_s: float) -> float:
    """Return M of the collision law: total mass if catastrophic, else m_p v^2 (v in km/s).

    The projectile is the lighter object; ``target_kg`` the heavier."""
    small, large = sorted((projectile_kg, target_kg))
    if is_catastrophic(small, large, speed_km_s):
        return small + large
    return small * speed_km_s**2


def sample_lc(rng, n: int, lc_min_m: float, lc_max_m: float, exponent: float) -> np.ndarray:
    """Return n lengths (m) from the power law N(>Lc) ~ Lc^-exponent on [lc_min, lc_max]."""
    u = rng.random(n)
    lo, hi = lc_min_m**-exponent, lc_max_m**-exponent
    return (lo - u * (lo - hi)) ** (-1.0 / exponent)


def _ramp(lam, x0, x1, y0, y1):
    """Piecewise linear: y0 below x0, y1 above x1, linear between (the model's tables)."""
    return np.interp(lam, [x0, x1], [y0, y1])


def am_params_small(lam):
    """Return (mu, sigma) of chi for Lc < 8 cm (both parent kinds)."""
    mu = _ramp(lam, -1.75, -1.25, -0.3, -1.0)
    sigma = np.where(lam <= -3.5, 0.2, 0.2 + 0.1333 * (lam + 3.5))
    return mu, sigma


def am_params_large(lam, parent_kind: str):
    """Return (alpha, mu1, sigma1, mu2, sigma2) of chi for Lc > 11 cm."""
    lam = np.asarray(lam, float)
    if parent_kind == "rocket_body":
        alpha = _ramp(lam, -1.4, 0.0, 1.0, 0.5)
        mu1 = _ramp(lam, -0.5, 0.0, -0.45, -0.9)
        sigma1 = np.full_like(lam, 0.55)
        mu2 = np.full_like(lam, -0.9)
        sigma2 = _ramp(lam, -1.0, 0.1, 0.28, 0.1)
    elif parent_kind == "spacecraft":
        alpha = _ramp(lam, -1.95, 0.55, 0.0, 1.0)
        mu1 = _ramp(lam, -1.1, 0.0, -0.6, -0.95)
        sigma1 = _ramp(lam, -1.3, -0.3, 0.1, 0.3)
        mu2 = _ramp(lam, -0.7, -0.1, -1.2, -2.0)
        sigma2 = _ramp(lam, -0.5, -0.3, 0.5, 0.3)
    else:
        raise ValueError(f"parent_kind must be one of {PARENT_KINDS}; got {parent_kind!r}")
    return alpha, mu1, sigma1, mu2, sigma2


def sample_am(rng, lc_m, parent_kind: str = "spacecraft") -> np.ndarray:
    """Return one area-to-mass ratio (m^2/kg) per length in ``lc_m`` (m)."""
    lc = np.asarray(lc_m, float)
    lam = np.log10(lc)
    n = lc.size
    z = rng.standard_normal(n)
    u_mode = rng.random(n)
    u_bridge = rng.random(n)
    mu_s, sig_s = am_params_small(lam)
    chi_small = mu_s + sig_s * z
    alpha, mu1, s1, mu2, s2 = am_params_large(lam, parent_kind)
    first = u_mode < alpha
    chi_large = np.where(first, mu1 + s1 * z, mu2 + s2 * z)
    lo, hi = np.log10(BRIDGE_LC_M[0]), np.log10(BRIDGE_LC_M[1])
    p_large = np.clip((lam - lo) / (hi - lo), 0.0, 1.0)
    chi = np.where(u_bridge < p_large, chi_large, chi_small)
    return 10.0**chi


def mean_chi(lc_m, parent_kind: str = "spacecraft"):
    """Return the model's mean of chi = log10(A/m) at each ``lc_m`` (for tests/validation)."""
    lam = np.log10(np.asarray(lc_m, float))
    mu_s, _ = am_params_small(lam)
    alpha, mu1, _, mu2, _ = am_params_large(lam, parent_kind)
    lo, hi = np.log10(BRIDGE_LC_M[0]), np.log10(BRIDGE_LC_M[1])
    p_large = np.clip((lam - lo) / (hi - lo), 0.0, 1.0)
    return p_large * (alpha * mu1 + (1 - alpha) * mu2) + (1 - p_large) * mu_s


def area_m2(lc_m) -> np.ndarray:
    """Return the average cross-section (m^2) of fragments of length ``lc_m`` (m)."""
    lc = np.asarray(lc_m, float)
    return np.where(lc < AREA_SMALL_LC_M, 0.540424 * lc**2, 0.556945 * lc**2.0047077)


def dv_log_mean(am_m2_kg, explosion: bool):
    """Return the mean of nu = log10(dv/(m/s)) for area-to-mass ``am_m2_kg``."""
    chi = np.log10(np.asarray(am_m2_kg, float))
    return 0.2 * chi + 1.85 if explosion else 0.9 * chi + 2.9


def sample_dv_ms(rng, am_m2_kg, explosion: bool) -> np.ndarray:
    """Return (n, 3) delta-v vectors (m/s): log-normal magnitude, isotropic direction."""
    am = np.asarray(am_m2_kg, float)
    nu = dv_log_mean(am, explosion) + DV_LOG_SIGMA * rng.standard_normal(am.size)
    direction = rng.standard_normal((am.size, 3))
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    return 10.0 ** nu[:, None] * direction
