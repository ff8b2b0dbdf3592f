"""SOCRATES' maximum probability (MAX_PROB) and dilution (DILUTION) against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from ssa.risk import pc as pcm
from ssa.risk.pc import (
    MAXPC_CLOSED_FORM_MAX_EPS,
    MAXPC_CLOSED_FORM_RTOL,
    max_pc_oriented,
    max_pc_scaled,
    max_pc_socrates,
    pc_2d,
    socrates_aspect_ratio,
    socrates_covariances,
)

# Brute force: Brent search in log sigma to 1e-9 at every angle of a 10-degree grid
# (which holds the miss direction); the maximum is flat, so values agree to ~1e-8.
BRUTE_RTOL = 1e-6
# Tiny radius R/d = 1e-3: the closed form's next term is ~(AR R/d)^2 / 4 <= 2.3e-6.
SMALL_RADIUS_RTOL = 1e-5
ANGLES_RAD = np.radians(np.arange(0.0, 90.1, 10.0))


def _pc_ellipse(d_km, ar, hbr_m, angle_rad, u_km):
    """Pc of a disc at (d, 0) under N(0, R diag(u^2, (u/ar)^2) R^T), R a rotation by angle."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    rot = np.array([[c, -s], [s, c]])
    cov = rot @ np.diag([u_km**2, (u_km / ar) ** 2]) @ rot.T
    p, _ = pc_2d([[d_km, 0.0]], [cov], hbr_m)
    return float(p[0])


def _best_over_scale(d_km, ar, hbr_m, angle_rad):
    grid = np.linspace(math.log(d_km) - 6.0, math.log(d_km) + 2.0, 17)
    vals = [_pc_ellipse(d_km, ar, hbr_m, angle_rad, math.exp(g)) for g in grid]
    k = int(np.argmax(vals))
    res = minimize_scalar(
        lambda g: -_pc_ellipse(d_km, ar, hbr_m, angle_rad, math.exp(g)),
        bracket=(grid[max(k - 1, 0)], grid[k], grid[min(k + 1, 16)]),
        tol=1e-9,
    )
    return -res.fun, math.exp(res.x)


def _brute_max(d_km, ar, hbr_m):
    """Maximum over the angle grid and the scale; returns (max, angle of the max)."""
    vals = [_best_over_scale(d_km, ar, hbr_m, a)[0] for a in ANGLES_RAD]
    k = int(np.argmax(vals))
    return vals[k], ANGLES_RAD[k]


@pytest.mark.parametrize("ar,eps", [(1.7, 0.1), (3.0, 0.15), (3.0, 0.6), (2.0, 1.5), (1.3, 0.95)])
def test_oriented_maximum_equals_brute_force_over_angle_and_scale(ar, eps):
    """Closed form (eps <= MAXPC_CLOSED_FORM_MAX_EPS) or numerical search: both equal the
    brute-force maximum over angle and scale, reached with the major axis along the miss."""
    d_km = 0.08
    hbr_m = min(eps * d_km / ar, 0.99 * d_km) * 1e3
    brute, angle = _brute_max(d_km, ar, hbr_m)
    ours, sigma = max_pc_oriented([d_km], [ar], [hbr_m])
    closed = eps <= MAXPC_CLOSED_FORM_MAX_EPS
    tol = MAXPC_CLOSED_FORM_RTOL if closed else BRUTE_RTOL
    assert ours[0] == pytest.approx(brute, rel=tol)
    assert angle == 0.0 or ar == 1.0
    _, u_brute = _best_over_scale(d_km, ar, hbr_m, 0.0)
    assert sigma[0] == pytest.approx(u_brute, rel=2e-2 if closed else 1e-3)


def test_circular_ellipse_orientation_does_not_matter():
    d_km, hbr_m = 0.05, 7.0
    for u in (0.01, 0.035, 0.2):
        vals = [_pc_ellipse(d_km, 1.0, hbr_m, a, u) for a in ANGLES_RAD[::5]]
        assert max(vals) == pytest.approx(min(vals), rel=1e-12)
    # and the oriented maximum of a circle is the plain maximum over its size
    best, _ = _best_over_scale(d_km, 1.0, hbr_m, 0.0)
    assert max_pc_oriented([d_km], [1.0], [hbr_m], closed_form=False)[0][0] == pytest.approx(
        best, rel=BRUTE_RTOL
    )


def _random_geometry(n, seed):
    rng = np.random.default_rng(seed)
    r1 = rng.normal(size=(n, 3))
    r1 *= rng.uniform(6700.0, 7500.0, (n, 1)) / np.linalg.norm(r1, axis=1, keepdims=True)
    v1 = np.cross(r1, rng.normal(size=(n, 3)))
    v1 *= 7.5 / np.linalg.norm(v1, axis=1, keepdims=True)
    v2 = np.cross(r1, rng.normal(size=(n, 3)))
    v2 *= 7.5 / np.linalg.norm(v2, axis=1, keepdims=True)
    r2 = r1 + rng.normal(size=(n, 3)) * rng.uniform(0.005, 2.0, (n, 1))
    return r1, v1, r2, v2


def test_oriented_maximum_never_below_orientation_preserving():
    r1, v1, r2, v2 = _random_geometry(300, seed=5)
    hbr_m = np.random.default_rng(6).uniform(1.0, 40.0, 300)
    oriented = max_pc_socrates(r1, v1, r2, v2, hbr_m)
    c1, c2 = socrates_covariances(r1, v1, r2, v2)
    kept = max_pc_scaled(r1, v1, c1, r2, v2, c2, hbr_m)
    assert np.all(np.isfinite(oriented.value)) and np.all(np.isfinite(kept.value))
    # The closed-form branches carry their stated relative errors.
    slack = 1.0 + MAXPC_CLOSED_FORM_RTOL + pcm.MAXPC_ANALYTIC_RATIO**2
    assert np.all(oriented.value * slack >= kept.value)
    assert np.any(oriented.value > 1.5 * kept.value)  # the turn matters for some geometries


@pytest.mark.parametrize("ar", [1.0, 1.8, 3.0])
def test_small_radius_limit_is_ar_r2_over_e_d2(ar):
    d_km, hbr_m = 0.4, 0.4  # R / d = 1e-3
    expected = ar * (hbr_m * 1e-3) ** 2 / (math.e * d_km**2)
    p, u = max_pc_oriented([d_km], [ar], [hbr_m], closed_form=False)  # numerical path
    assert p[0] == pytest.approx(expected, rel=SMALL_RADIUS_RTOL)
    assert u[0] == pytest.approx(d_km / math.sqrt(2.0), rel=1e-3)  # DILUTION, major axis


def test_probability_one_inside_the_radius():
    p, u = max_pc_oriented([0.010, 0.010, 0.0], [2.0, 1.0, 3.0], [10.0, 25.0, 1.0])
    assert np.all(p == 1.0) and np.all(u == 0.0)
    just_outside, _ = max_pc_oriented([0.010], [2.0], [9.9])
    assert 0.4 < just_outside[0] < 1.0
    zero, u0 = max_pc_oriented([0.3], [2.0], [0.0])
    assert zero[0] == 0.0 and u0[0] == pytest.approx(0.3 / math.sqrt(2.0))


def test_socrates_aspect_ratio_and_dilution_on_a_real_geometry():
    r1, v1, r2, v2 = _random_geometry(50, seed=9)
    ar = socrates_aspect_ratio(r1, v1, r2, v2)
    assert np.all((ar >= 1.0) & (ar <= 3.0 + 1e-12))
    res = max_pc_socrates(r1, v1, r2, v2, 1.0)
    d = np.linalg.norm(r2 - r1, axis=1)
    small = 1e-3 * ar / d <= MAXPC_CLOSED_FORM_MAX_EPS  # closed-form rows (most of them)
    assert small.sum() > 40
    assert res.extra["dilution_km"][small] == pytest.approx(d[small] / math.sqrt(2.0))
    q = (1e-3 / d[small]) ** 2
    assert res.value[small] == pytest.approx(
        ar[small] * q / math.e * (1 - (ar[small] ** 2 - 1) * q / 4), rel=1e-12
    )
    # Identical velocities: no encounter plane, refused unless the radius reaches the miss.
    same = max_pc_socrates(r1[:1], v1[:1], r2[:1], v1[:1], 5.0)
    assert np.isnan(same.value[0]) and same.status[0] == pcm.STATUS_REFUSED
