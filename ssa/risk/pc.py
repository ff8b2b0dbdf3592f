"""Probability of collision (Pc) for short-term encounters, and its cross-checks.

Every method returns one ``PcResult`` (value, status, interval when it has one)
and is listed once in ``PC_METHODS``: the registry gives the CLI choices
(``ssa pc --method``, ``ssa screen --pc-method``), the CDM
``COLLISION_PROBABILITY_METHOD`` text and ``assess(method=...)``.

Methods (registry name: function)
- ``foster``: 2D Pc after Foster & Estes (1992, NASA JSC-25898): the combined
  position covariance is projected on the encounter plane (normal to the
  relative velocity) and the Gaussian is integrated over the hard-body region.
  The 2D integral is reduced to a 1D integral of normal-CDF differences
  (the inner integral is exact) and the outer one is done by adaptive
  Gauss-Kronrod (7/15) quadrature in log space, so results stay accurate from
  about 1e-300 up to 1 and for very elongated covariances.
- ``chan``: Chan's series (Chan 1997, "Collision probability analyses for
  Earth orbiting satellites"; Chan 2008, *Spacecraft Collision Probability*),
  the Poisson-weighted sum of regularised gamma functions. It is exact for an
  isotropic 2D covariance (non-central chi-square CDF) and an approximation
  (equal-area circle) otherwise: an independent cross-check.
- ``monte-carlo``: seeded Monte Carlo with a Clopper-Pearson interval,
  sampling both objects' states at TCA and moving them on straight lines
  (``motion='linear'``) or two-body orbits (``motion='kepler'``, for slow
  encounters where the 2D assumption fails).
- ``max-socrates``: CelesTrak SOCRATES' maximum probability (MAX_PROB) and
  dilution threshold (DILUTION): no covariance is used, see ``max_pc_socrates``.
- ``max-scaled``: Alfano's maximum Pc over a scale factor on a *given*
  covariance (orientation kept), see ``max_pc_scaled``.
- ``pc_2d_valid``: short-encounter validity flag (not a Pc method).

Frames: every function takes positions (km), velocities (km/s) and 3x3 position
covariances (km^2) of both objects in one common inertial frame (TEME, EME2000,
...), stacked along a leading axis n. HBR is in metres. The encounter frame and
RTN come from ``ssa.geometry``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

from ssa.geometry import MU_KM3_S2, encounter_frame, rtn_basis
from ssa.geometry.frames import as_rows
from ssa.parallel import on_threads


def _special():
    """scipy.special, imported on first use: ~0.3-0.6 s of start-up that a screening run
    needs only for Chan's Pc and MAX_PROB's numeric rows (``ssa screen`` imports it in
    the background while the kernel runs, commands/screen.py)."""
    from scipy import special

    return special


@dataclass(frozen=True)
class PcResult:
    """The result of every Pc method, one entry per conjunction (arrays of length n).

    value: probability (NaN where the method refused); status: bit set of
    ``STATUS_*``; method: registry name; method_text: the ``PC_METHOD`` column
    text (e.g. ``FOSTER-1992-SQUARE``); low/high: the confidence interval where
    the method has one (Monte Carlo), else None; extra: method-specific arrays
    (``dilution_km`` and ``aspect_ratio`` of max-socrates, ``hits`` of Monte Carlo).

    Like scipy's result objects it unpacks as ``value, status = result``.
    """

    value: np.ndarray
    status: np.ndarray
    method: str
    method_text: str
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __iter__(self):
        return iter((self.value, self.status))

    def __len__(self) -> int:
        return len(self.value)

    @property
    def cdm_method(self) -> str:
        """CDM ``COLLISION_PROBABILITY_METHOD`` text of this result's method."""
        return PC_METHODS[self.method].cdm_text


SHAPES = ("circle", "square", "square-equal-area")
# PC_METHOD values; the CDM keyword COLLISION_PROBABILITY_METHOD takes the
# SANA name (FOSTER-1992) whatever the hard-body shape.
METHOD_NAMES = {
    "circle": "FOSTER-1992",
    "square": "FOSTER-1992-SQUARE",
    "square-equal-area": "FOSTER-1992-SQUARE-EQUAL-AREA",
}

# Status codes of pc_foster (bit flags, 0 = covariance used as given).
STATUS_OK = 0
STATUS_NPD_INPUT = 1  # a 3x3 input covariance had a negative eigenvalue
STATUS_CLIPPED_2D = 2  # the projected 2x2 covariance was repaired by eigenvalue clipping
STATUS_REFUSED = 4  # no usable covariance (all eigenvalues <= 0 or NaN): Pc is NaN

# Eigenvalue clipping floor for a non-positive-definite 2x2 covariance, as a
# fraction of HBR (CARA's Pc2D_Foster remediation: (1e-4 * HBR)^2).
CLIP_FRACTION_OF_HBR = 1e-4
# Relative size of a negative eigenvalue still counted as round-off.
NPD_RELATIVE_TOL = 1e-10
# Quadrature: relative error goal and maximum number of subintervals.
QUAD_RTOL = 1e-10
QUAD_MAX_INTERVALS = 200
# Rows per extra thread of the Pc kernels (one Pc costs ~10-50 us: threads pay off early).
_PC_MIN_ROWS = 64

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)

# Gauss-Kronrod 7/15 nodes (positive half) and weights.
_XGK = np.array(
    [
        0.991455371120812639206854697526329,
        0.949107912342758524526189684047851,
        0.864864423359769072789712788640926,
        0.741531185599394439863864773280788,
        0.586087235467691130294144845693013,
        0.405845151377397166906606412076961,
        0.207784955007898467600689403773245,
        0.000000000000000000000000000000000,
    ]
)
_WGK = np.array(
    [
        0.022935322010529224963732008058970,
        0.063092092629978553290700663189204,
        0.104790010322250183839876322541518,
        0.140653259715525918745189590510238,
        0.169004726639267902826583426598550,
        0.190350578064785409913256402421014,
        0.204432940075298892414161999234649,
        0.209482141084727828012999174891714,
    ]
)
_WG = np.array(
    [
        0.0,
        0.129484966168869693270611432679082,
        0.0,
        0.279705391489276667901467771423780,
        0.0,
        0.381830050505118944950369775488975,
        0.0,
        0.417959183673469387755102040816327,
    ]
)


@njit(cache=True)
def _log_ndtr(x):
    """log of the standard normal CDF, accurate far into both tails."""
    if x > 5.0:
        return math.log1p(-0.5 * math.erfc(x * _SQRT1_2))
    if x > -20.0:
        return math.log(0.5 * math.erfc(-x * _SQRT1_2))
    # Asymptotic (Mills ratio) series; at x <= -20 truncation error < 3e-12 relative.
    z = 1.0 / (x * x)
    s = 1.0 - z * (1.0 - 3.0 * z * (1.0 - 5.0 * z * (1.0 - 7.0 * z * (1.0 - 9.0 * z))))
    return -0.5 * x * x - math.log(-x) - _LOG_SQRT_2PI + math.log(s)


@njit(cache=True)
def _log_ndtr_diff(a, b):
    """log(Phi(b) - Phi(a)) for a <= b without cancellation."""
    if b <= a:
        return -np.inf
    if a >= 0.0:  # both in the upper tail: use the symmetric lower tail
        a, b = -b, -a
    if b <= 0.0:
        la = _log_ndtr(a)
        lb = _log_ndtr(b)
        d = la - lb
        if d >= 0.0:
            return -np.inf
        return lb + math.log(-math.expm1(d))
    # a < 0 < b: 1 - Phi(a) - Phi(-b), no cancellation
    return math.log1p(-(0.5 * math.erfc(-a * _SQRT1_2) + 0.5 * math.erfc(b * _SQRT1_2)))


@njit(cache=True)
def _log_integrand(w, mode, mu, su, c, k, s, half):
    """log of the outer integrand at w in (-1, 1).

    The Gaussian is N(0, .) in (u, v); the region is u in mu +- half and, at
    each u, v in c + k*u +- h(u) with h = sqrt(half^2 - (u-mu)^2) (circle, mode 0)
    or h = half (square, mode 1). s is the conditional sigma of v given u,
    k the regression slope folded into c's frame (v - k*u).
    """
    if mode == 0:
        th = 0.5 * math.pi * w
        du = half * math.sin(th)
        h = half * math.cos(th)
        jac = 0.5 * math.pi * half * math.cos(th)
    else:
        du = half * w
        h = half
        jac = half
    if h <= 0.0 or jac <= 0.0:
        return -np.inf
    u = mu + du
    lg = -0.5 * (u / su) ** 2 - math.log(su) - _LOG_SQRT_2PI
    center = c - k * u
    return lg + math.log(jac) + _log_ndtr_diff((center - h) / s, (center + h) / s)


@njit(cache=True)
def _logsumexp2(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit(cache=True)
def _gk15_log(a, b, mode, mu, su, c, k, s, half, xgk, wgk, wg):
    """Return (log Kronrod estimate, log |Kronrod - Gauss|) on [a, b]."""
    center = 0.5 * (a + b)
    hl = 0.5 * (b - a)
    vals = np.empty(15)
    for i in range(7):
        vals[i] = _log_integrand(center - hl * xgk[i], mode, mu, su, c, k, s, half)
        vals[14 - i] = _log_integrand(center + hl * xgk[i], mode, mu, su, c, k, s, half)
    vals[7] = _log_integrand(center, mode, mu, su, c, k, s, half)
    m = -np.inf
    for i in range(15):
        if vals[i] > m:
            m = vals[i]
    if m == -np.inf:
        return -np.inf, -np.inf
    sk = 0.0
    sd = 0.0
    for i in range(15):
        j = i if i < 8 else 14 - i
        e = math.exp(vals[i] - m)
        sk += wgk[j] * e
        sd += (wgk[j] - wg[j]) * e
    sk *= hl
    sd = abs(sd) * hl
    lk = m + math.log(sk) if sk > 0.0 else -np.inf
    le = m + math.log(sd) if sd > 0.0 else -np.inf
    return lk, le


@njit(cache=True)
def _log_integral(mode, mu, su, c, k, s, half, xgk, wgk, wg, rtol, max_iv):
    """Adaptive Gauss-Kronrod integral of exp(_log_integrand) over (-1, 1), as a log."""
    lo = np.empty(max_iv)
    hi = np.empty(max_iv)
    lk = np.empty(max_iv)
    le = np.empty(max_iv)
    # Start from 4 panels so a narrow peak is not missed by the first rule.
    n = 4
    for i in range(n):
        lo[i] = -1.0 + 0.5 * i
        hi[i] = lo[i] + 0.5
        lk[i], le[i] = _gk15_log(lo[i], hi[i], mode, mu, su, c, k, s, half, xgk, wgk, wg)
    log_rtol = math.log(rtol)
    while True:
        tot = -np.inf
        err = -np.inf
        worst = 0
        for i in range(n):
            tot = _logsumexp2(tot, lk[i])
            err = _logsumexp2(err, le[i])
            if le[i] > le[worst]:
                worst = i
        if tot == -np.inf or err <= tot + log_rtol or n + 1 >= max_iv:
            return tot
        a = lo[worst]
        b = hi[worst]
        mid = 0.5 * (a + b)
        hi[worst] = mid
        lk[worst], le[worst] = _gk15_log(a, mid, mode, mu, su, c, k, s, half, xgk, wgk, wg)
        lo[n] = mid
        hi[n] = b
        lk[n], le[n] = _gk15_log(mid, b, mode, mu, su, c, k, s, half, xgk, wgk, wg)
        n += 1


@njit(cache=True)
def _pc2d_one(mx, mz, cxx, cxz, czz, hbr, shape, xgk, wgk, wg, rtol, max_iv):
    """Return (Pc, status) for one encounter-plane miss (mx, mz) and covariance."""
    status = 0
    if not (
        math.isfinite(mx)
        and math.isfinite(mz)
        and math.isfinite(cxx)
        and math.isfinite(cxz)
        and math.isfinite(czz)
        and math.isfinite(hbr)
    ):
        return np.nan, 4
    if hbr <= 0.0:
        return 0.0, 0
    # Eigen-decomposition of the symmetric 2x2 covariance.
    tr = 0.5 * (cxx + czz)
    dd = math.sqrt(0.25 * (cxx - czz) ** 2 + cxz * cxz)
    l1 = tr + dd
    if l1 <= 0.0:
        return np.nan, 4
    # det / l1 avoids the cancellation of tr - dd for very elongated covariances.
    l2 = (cxx * czz - cxz * cxz) / l1
    floor = (CLIP_FRACTION_OF_HBR * hbr) ** 2
    if l2 < floor:
        # Negative beyond round-off: a repaired non-positive-definite covariance.
        if l2 < -NPD_RELATIVE_TOL * l1:
            status |= 2
        l2 = floor
    # Unit eigenvector of l1.
    if abs(cxz) > 0.0:
        # Of the two equivalent eigenvector forms, take the one without cancellation.
        if cxx >= czz:
            ex, ez = l1 - czz, cxz
        else:
            ex, ez = cxz, l1 - cxx
        nrm = math.hypot(ex, ez)
        ex /= nrm
        ez /= nrm
    elif cxx >= czz:
        ex, ez = 1.0, 0.0
    else:
        ex, ez = 0.0, 1.0
    if shape == 0:
        # Circle: principal axes, integrate along the larger sigma.
        mu = ex * mx + ez * mz
        mv = -ez * mx + ex * mz
        # np.int64(...), not a literal: numba would compile a copy per literal value.
        lint = _log_integral(
            np.int64(0), mu, math.sqrt(l1), mv, 0.0, math.sqrt(l2), hbr, xgk, wgk, wg, rtol, max_iv
        )
    else:
        half = hbr if shape == 1 else 0.5 * hbr * math.sqrt(math.pi)
        # Square aligned with the encounter-plane axes: rebuild the (repaired)
        # covariance there and integrate along the axis of larger variance.
        axx = l1 * ex * ex + l2 * ez * ez
        azz = l1 * ez * ez + l2 * ex * ex
        axz = (l1 - l2) * ex * ez
        if axx >= azz:
            su2, sv2, cuv, mu, mv = axx, azz, axz, mx, mz
        else:
            su2, sv2, cuv, mu, mv = azz, axx, axz, mz, mx
        k = cuv / su2
        s = math.sqrt(max(sv2 - cuv * k, l1 * l2 / su2))
        # v given u is N(k u, s^2): the v-interval mv +- half, seen from the
        # conditional mean, is centred at mv - k u (the integrand's c - k u).
        lint = _log_integral(
            np.int64(1), mu, math.sqrt(su2), mv, k, s, half, xgk, wgk, wg, rtol, max_iv
        )
    pc = math.exp(lint) if lint > -745.0 else 0.0
    return min(pc, 1.0), status


@njit(cache=True, nogil=True)
def _pc2d_kernel(lo, hi, mx, mz, cxx, cxz, czz, hbr, shape, xgk, wgk, wg, rtol, max_iv, pc, status):
    for i in range(lo, hi):
        pc[i], status[i] = _pc2d_one(
            mx[i], mz[i], cxx[i], cxz[i], czz[i], hbr[i], shape, xgk, wgk, wg, rtol, max_iv
        )


def _as_n(a, shape_tail, name):
    return np.ascontiguousarray(as_rows(a, name, shape_tail))


def _check_shape(shape):
    if shape not in SHAPES:
        raise ValueError(f"hard-body shape must be one of {', '.join(SHAPES)}; got {shape!r}")
    return SHAPES.index(shape)


def project_encounter(r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, check_npd=True):
    """Return (miss_xz_km (n,2), cov_xz_km2 (n,2,2), npd_input (n,) bool).

    Miss vector (|r2 - r1|, 0) and combined covariance cov1 + cov2 expressed
    in the encounter plane (axes x, z of ``encounter_frame``). check_npd False skips
    the eigenvalues behind npd_input (then all False) for callers that drop it.
    """
    frame = encounter_frame(
        _as_n(r1_km, (3,), "r1_km"),
        _as_n(v1_kms, (3,), "v1_kms"),
        _as_n(r2_km, (3,), "r2_km"),
        _as_n(v2_kms, (3,), "v2_kms"),
    )
    r = _as_n(r2_km, (3,), "r2_km") - _as_n(r1_km, (3,), "r1_km")
    c1 = _as_n(cov1_km2, (3, 3), "cov1_km2")
    c2 = _as_n(cov2_km2, (3, 3), "cov2_km2")
    plane = frame[:, [0, 2], :]
    # As CARA's Pc2D_Foster: the whole |r| goes on the x axis. At the exact TCA
    # r is normal to v and this is the projection; for states a little off TCA
    # (rounded CDM epochs) it keeps CARA's published values (see tests).
    miss = np.zeros((len(r), 2))
    miss[:, 0] = np.linalg.norm(r, axis=1)
    cov = c1 + c2
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    cov2d = np.einsum("nij,njk,nlk->nil", plane, cov, plane)
    npd = np.zeros(len(r), dtype=bool)
    for c in (c1, c2) if check_npd else ():
        cs = 0.5 * (c + np.swapaxes(c, 1, 2))
        finite = np.all(np.isfinite(cs), axis=(1, 2))
        ev = np.full((len(cs), 3), np.nan)
        ev[finite] = np.linalg.eigvalsh(cs[finite])
        npd |= ev[:, 0] < -NPD_RELATIVE_TOL * np.abs(ev[:, 2])
    return miss, cov2d, npd


def pc_2d(miss_xz_km, cov_xz_km2, hbr_m, shape="circle", rtol=QUAD_RTOL):
    """Return (pc (n,), status (n,) int) for encounter-plane misses and covariances.

    miss_xz_km: (n, 2) relative position in the encounter plane, km.
    cov_xz_km2: (n, 2, 2) combined covariance there, km^2. hbr_m: scalar or (n,).
    shape: 'circle' (radius HBR), 'square' (side 2 HBR, aligned with the
    encounter-plane axes) or 'square-equal-area' (side sqrt(pi) HBR).
    """
    code = _check_shape(shape)
    m = _as_n(miss_xz_km, (2,), "miss_xz_km")
    c = _as_n(cov_xz_km2, (2, 2), "cov_xz_km2")
    n = len(m)
    hbr_km = np.broadcast_to(np.asarray(hbr_m, dtype=np.float64) * 1e-3, (n,)).copy()
    pc = np.empty(n)
    status = np.empty(n, dtype=np.int64)
    on_threads(
        _pc2d_kernel,
        n,
        np.ascontiguousarray(m[:, 0]),
        np.ascontiguousarray(m[:, 1]),
        np.ascontiguousarray(c[:, 0, 0]),
        np.ascontiguousarray(0.5 * (c[:, 0, 1] + c[:, 1, 0])),
        np.ascontiguousarray(c[:, 1, 1]),
        hbr_km,
        code,
        _XGK,
        _WGK,
        _WG,
        float(rtol),
        QUAD_MAX_INTERVALS,
        pc,
        status,
        min_rows=_PC_MIN_ROWS,
    )
    return pc, status


def pc_foster(
    r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, hbr_m, shape="circle", rtol=QUAD_RTOL
) -> PcResult:
    """Return the Foster & Estes (1992) 2D Pc of n conjunctions as a PcResult.

    r*_km (n,3), v*_kms (n,3), cov*_km2 (n,3,3) position covariances, all in
    one inertial frame; hbr_m combined hard-body radius, scalar or (n,).
    status is a bit set: STATUS_NPD_INPUT, STATUS_CLIPPED_2D, STATUS_REFUSED
    (then the value is NaN). Single conjunctions may be passed without the n axis.
    """
    miss, cov2d, npd = project_encounter(r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2)
    pc, status = pc_2d(miss, cov2d, hbr_m, shape, rtol)
    status = status | np.where(npd, STATUS_NPD_INPUT, 0)
    return PcResult(pc, status, "foster", METHOD_NAMES[shape])


# --------------------------------------------------------------------------- Chan


def _log_gammainc_lower(a, x):
    """log of the regularised lower incomplete gamma P(a, x), a >= 1, x >= 0."""
    p = _special().gammainc(a, x)
    if p > 1e-250:
        return math.log(p)
    if x <= 0.0:
        return -math.inf
    # Series P(a,x) = x^a e^-x / Gamma(a+1) * sum_k x^k / ((a+1)...(a+k)); underflow
    # only happens for x << a where it converges in a few terms.
    term, total, k = 1.0, 1.0, 0
    while term > 1e-17 * total and k < 10000:
        k += 1
        term *= x / (a + k)
        total += term
    return a * math.log(x) - x - _special().gammaln(a + 1.0) + math.log(total)


def pc_chan(r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, hbr_m) -> PcResult:
    """Return Chan's series Pc (circular hard body) of n conjunctions as a PcResult.

    Chan (2008), eq. for the equal-area circle: u = R^2 / (sx sz),
    v = (mx/sx)^2 + (mz/sz)^2 in principal axes; Pc = sum_m Poisson(m; v/2)
    P(m+1, u/2). Exact for isotropic covariance, approximate otherwise.
    """
    miss, cov2d, npd = project_encounter(r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2)
    n = len(miss)
    hbr_km = np.broadcast_to(np.asarray(hbr_m, dtype=np.float64) * 1e-3, (n,))
    out = np.full(n, np.nan)
    status = np.where(npd, STATUS_NPD_INPUT, 0).astype(np.int64)
    for i in range(n):
        ev, vec = np.linalg.eigh(cov2d[i])
        if not np.all(np.isfinite(ev)) or ev[0] <= 0:
            status[i] |= STATUS_REFUSED  # Chan's series needs a positive-definite 2x2
            continue
        if hbr_km[i] <= 0:
            out[i] = 0.0
            continue
        mp = vec.T @ miss[i]
        u = hbr_km[i] ** 2 / math.sqrt(ev[0] * ev[1])
        v = float(mp[0] ** 2 / ev[0] + mp[1] ** 2 / ev[1])
        half_v = 0.5 * v
        m_max = int(half_v + 12.0 * math.sqrt(half_v + 1.0) + 40)
        logs = []
        for m in range(m_max + 1):
            lw = (
                -half_v
                + (m * math.log(half_v) if half_v > 0 else (0.0 if m == 0 else -math.inf))
                - _special().gammaln(m + 1.0)
            )
            if lw == -math.inf:
                continue
            logs.append(lw + _log_gammainc_lower(m + 1.0, 0.5 * u))
        out[i] = min(1.0, math.exp(_special().logsumexp(logs))) if logs else 0.0
    return PcResult(out, status, "chan", "CHAN-1997")


# ---------------------------------------------------------------------- Monte Carlo


@njit(cache=True)
def _stumpff(z):
    if z > 1e-8:
        sz = math.sqrt(z)
        return (1.0 - math.cos(sz)) / z, (sz - math.sin(sz)) / (sz * z)
    if z < -1e-8:
        sz = math.sqrt(-z)
        return (math.cosh(sz) - 1.0) / (-z), (math.sinh(sz) - sz) / (sz * -z)
    return 0.5 - z / 24.0, 1.0 / 6.0 - z / 120.0


@njit(cache=True)
def _kepler(r0, v0, dt, mu, out_r):
    """Two-body propagation by universal variables (Vallado, Alg. 8); writes out_r."""
    rn = math.sqrt(r0[0] ** 2 + r0[1] ** 2 + r0[2] ** 2)
    vv = v0[0] ** 2 + v0[1] ** 2 + v0[2] ** 2
    rv = r0[0] * v0[0] + r0[1] * v0[1] + r0[2] * v0[2]
    alpha = 2.0 / rn - vv / mu
    smu = math.sqrt(mu)
    chi = smu * abs(alpha) * dt if alpha > 1e-9 else smu * dt / rn
    for _ in range(50):
        z = alpha * chi * chi
        c2, c3 = _stumpff(z)
        r = chi * chi * c2 + rv / smu * chi * (1.0 - z * c3) + rn * (1.0 - z * c2)
        f_t = (chi**3 * c3 + rv / smu * chi * chi * c2 + rn * chi * (1.0 - z * c3)) - smu * dt
        step = f_t / r
        chi -= step
        if abs(step) < 1e-12 * max(1.0, abs(chi)):
            break
    z = alpha * chi * chi
    c2, c3 = _stumpff(z)
    f = 1.0 - chi * chi / rn * c2
    g = dt - chi**3 / smu * c3
    for j in range(3):
        out_r[j] = f * r0[j] + g * v0[j]


@njit(cache=True, parallel=True)
def _mc_kepler_kernel(s1, s2, hbr_km, t_half_s, n_steps, mu, hits):
    """For each sampled pair, hits[i] = 1 if the two-body miss over +-t_half < hbr."""
    dt = 2.0 * t_half_s / n_steps
    for i in prange(s1.shape[0]):
        a = np.empty(3)
        b = np.empty(3)
        best = np.inf
        best_t = 0.0
        for k in range(n_steps + 1):
            t = -t_half_s + k * dt
            _kepler(s1[i, :3], s1[i, 3:], t, mu, a)
            _kepler(s2[i, :3], s2[i, 3:], t, mu, b)
            d = math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)
            if d < best:
                best = d
                best_t = t
        # Golden-section refinement around the best grid time.
        lo = best_t - dt
        hi = best_t + dt
        gr = 0.5 * (math.sqrt(5.0) - 1.0)
        for _ in range(60):
            t1 = hi - gr * (hi - lo)
            t2 = lo + gr * (hi - lo)
            _kepler(s1[i, :3], s1[i, 3:], t1, mu, a)
            _kepler(s2[i, :3], s2[i, 3:], t1, mu, b)
            d1 = math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)
            _kepler(s1[i, :3], s1[i, 3:], t2, mu, a)
            _kepler(s2[i, :3], s2[i, 3:], t2, mu, b)
            d2 = math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)
            if d1 < d2:
                hi = t2
            else:
                lo = t1
            best = min(best, d1, d2)
        hits[i] = 1 if best < hbr_km else 0


def _sample_states(rng, r, v, cov, n):
    """Draw n (6,) states from N([r, v], cov) where cov is 3x3 (position only) or 6x6."""
    mean = np.concatenate([r, v])
    full = np.zeros((6, 6))
    cov = np.asarray(cov, dtype=np.float64)
    full[: cov.shape[0], : cov.shape[1]] = cov
    ev, vec = np.linalg.eigh(0.5 * (full + full.T))
    ev = np.clip(ev, 0.0, None)  # PSD sampling; a zero-velocity block stays zero
    z = rng.standard_normal((n, 6))
    return mean + (z * np.sqrt(ev)) @ vec.T


def _mc_one(rng, r1, v1, cov1, r2, v2, cov2, hbr_m, n_samples, motion, window_s):
    """Return the number of hits of one conjunction (see pc_monte_carlo)."""
    s1 = _sample_states(rng, r1, v1, cov1, n_samples)
    s2 = _sample_states(rng, r2, v2, cov2, n_samples)
    hbr_km = float(hbr_m) * 1e-3
    if motion == "linear":
        dr = s2[:, :3] - s1[:, :3]
        dv = s2[:, 3:] - s1[:, 3:]
        vv = np.sum(dv * dv, axis=1)
        t = -np.sum(dr * dv, axis=1) / vv
        closest = dr + t[:, None] * dv
        return int(np.count_nonzero(np.sum(closest * closest, axis=1) < hbr_km**2))
    if window_s is None:
        _, tau = encounter_duration_s(
            r1, v1, np.asarray(cov1)[:3, :3], r2, v2, np.asarray(cov2)[:3, :3], hbr_m
        )
        window_s = max(60.0, 4.0 * float(tau[0]))
    n_steps = 200
    h = np.zeros(n_samples, dtype=np.int64)
    _mc_kepler_kernel(
        np.ascontiguousarray(s1),
        np.ascontiguousarray(s2),
        hbr_km,
        float(window_s),
        n_steps,
        MU_KM3_S2,
        h,
    )
    return int(h.sum())


def pc_monte_carlo(
    r1_km,
    v1_kms,
    cov1,
    r2_km,
    v2_kms,
    cov2,
    hbr_m,
    n_samples=100_000,
    seed=0,
    motion="linear",
    window_s=None,
    confidence=0.95,
) -> PcResult:
    """Return the seeded Monte Carlo Pc of n conjunctions as a PcResult with its interval.

    cov1, cov2: 3x3 position covariances (km^2) or 6x6 state covariances
    (km, km/s units) in the inertial frame of the states, (n, k, k) or (k, k).
    motion='linear' moves both objects on straight lines (the 2D model's own
    assumption, a check of the integration); 'kepler' propagates two-body orbits
    over +-window_s (default: 4x the 2D encounter duration, at least 60 s) and
    counts samples whose closest approach is below HBR. low/high are the
    Clopper-Pearson (exact binomial) interval at ``confidence``; extra['hits'] the
    counts. One generator seeded with ``seed`` draws the rows in order.
    """
    if motion not in ("linear", "kepler"):
        raise ValueError(f"motion must be 'linear' or 'kepler'; got {motion!r}")
    if not (isinstance(n_samples, (int, np.integer)) and n_samples > 0):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    r1, v1, r2, v2 = (
        _as_n(a, (3,), name)
        for a, name in ((r1_km, "r1_km"), (v1_kms, "v1_kms"), (r2_km, "r2_km"), (v2_kms, "v2_kms"))
    )
    n = len(r1)
    k1 = np.asarray(cov1, dtype=np.float64)
    k2 = np.asarray(cov2, dtype=np.float64)
    k1 = np.broadcast_to(k1, (n,) + k1.shape[-2:])
    k2 = np.broadcast_to(k2, (n,) + k2.shape[-2:])
    hbr = np.broadcast_to(np.asarray(hbr_m, dtype=np.float64), (n,))
    rng = np.random.default_rng(seed)
    hits = np.array(
        [
            _mc_one(
                rng, r1[i], v1[i], k1[i], r2[i], v2[i], k2[i], hbr[i], n_samples, motion, window_s
            )
            for i in range(n)
        ],
        dtype=np.int64,
    )
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        from scipy import stats  # only here: importing it costs ~1 s per run

        lo = np.where(hits == 0, 0.0, stats.beta.ppf(alpha / 2, hits, n_samples - hits + 1))
        hi = np.where(
            hits == n_samples, 1.0, stats.beta.ppf(1 - alpha / 2, hits + 1, n_samples - hits)
        )
    return PcResult(
        hits / n_samples,
        np.zeros(n, np.int64),
        "monte-carlo",
        f"MONTE-CARLO-{motion.upper()}",
        low=np.asarray(lo, float),
        high=np.asarray(hi, float),
        extra={"hits": hits, "n_samples": n_samples},
    )


# ------------------------------------------------------------------ 2D validity

# Sigma multiple bounding the encounter region along the relative velocity.
ENCOUNTER_SIGMAS = 5.0
# The encounter must last less than this fraction of the shorter orbital period
# (CARA_Analysis_Tools uses 5 % of the orbital period as its low-velocity threshold).
MAX_DURATION_FRACTION_OF_PERIOD = 0.05
# Below this relative speed the straight-line assumption is refused outright.
MIN_RELATIVE_SPEED_KMS = 0.01


def encounter_duration_s(r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, hbr_m):
    """Return (relative speed km/s (n,), encounter duration s (n,)).

    Duration: time to cross the combined covariance +-ENCOUNTER_SIGMAS sigma
    (plus HBR) along the relative velocity (Coppola 2012, AAS 12-247, bounds
    the conjunction duration the same way).
    """
    v = _as_n(v2_kms, (3,), "v2_kms") - _as_n(v1_kms, (3,), "v1_kms")
    speed = np.linalg.norm(v, axis=1)
    y = v / np.where(speed > 0, speed, 1.0)[:, None]
    c = _as_n(cov1_km2, (3, 3), "cov1_km2") + _as_n(cov2_km2, (3, 3), "cov2_km2")
    sig_along = np.sqrt(np.clip(np.einsum("ni,nij,nj->n", y, c, y), 0.0, None))
    hbr_km = np.broadcast_to(np.asarray(hbr_m, dtype=np.float64) * 1e-3, speed.shape)
    with np.errstate(divide="ignore"):
        tau = np.where(speed > 0, 2.0 * (ENCOUNTER_SIGMAS * sig_along + hbr_km) / speed, np.inf)
    return speed, tau


def orbital_period_s(r_km, v_kms, mu=MU_KM3_S2):
    """Return the two-body period (s) from position and velocity (inf if unbound)."""
    r = np.linalg.norm(_as_n(r_km, (3,), "r_km"), axis=1)
    v2 = np.sum(_as_n(v_kms, (3,), "v_kms") ** 2, axis=1)
    inv_a = 2.0 / r - v2 / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inv_a > 0, 2.0 * np.pi * np.sqrt(np.abs(1.0 / inv_a) ** 3 / mu), np.inf)


def pc_2d_valid(r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, hbr_m):
    """Return (n,) bool: True where the short-term (2D) encounter model holds.

    False when the relative speed is below MIN_RELATIVE_SPEED_KMS or the
    encounter lasts longer than MAX_DURATION_FRACTION_OF_PERIOD of the shorter
    orbital period; then use pc_monte_carlo(..., motion='kepler').
    """
    speed, tau = encounter_duration_s(r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, hbr_m)
    period = np.minimum(orbital_period_s(r1_km, v1_kms), orbital_period_s(r2_km, v2_kms))
    return (speed >= MIN_RELATIVE_SPEED_KMS) & (tau <= MAX_DURATION_FRACTION_OF_PERIOD * period)


# ---------------------------------------------------------------- maximum Pc

# SOCRATES: "The ratio of major-to-minor axes of the projected covariance ellipse
# is set using radial, in-track and cross-track values of 100 m, 300 m, 100 m."
SOCRATES_RTN_SIGMA_M = (100.0, 300.0, 100.0)
# Closed form of the oriented maximum (max_pc_oriented) where eps = HBR * AR / miss
# is at most this; its relative error there is below MAXPC_CLOSED_FORM_RTOL (the
# next term is about 0.07 eps^4; tests/test_socrates_maxprob.py checks the bound
# against a brute-force maximum over angle and scale).
MAXPC_CLOSED_FORM_MAX_EPS = 0.15
MAXPC_CLOSED_FORM_RTOL = 5e-5
# Numerical maximum over the major-axis sigma u: golden-section search in log u to
# this width (the maximum is flat: the value is then exact to ~1e-7 relative).
_MAXPC_LOG_TOL = 3e-4


@njit(cache=True)
def _pc_along(d, ar, hbr, log_u, xgk, wgk, wg, rtol, max_iv):
    u = math.exp(log_u)
    circle = np.int64(0)  # not a literal (one compiled _pc2d_one, not two)
    p, _ = _pc2d_one(d, 0.0, u * u, 0.0, (u / ar) ** 2, hbr, circle, xgk, wgk, wg, rtol, max_iv)
    return p


@njit(cache=True)
def _max_oriented_one(d, ar, hbr, a, b, xgk, wgk, wg, rtol, max_iv):
    """Return (max Pc, major sigma) over u in [e^a, e^b] of the ellipse diag(u, u/ar)
    along the miss (Pc is unimodal in u: checked against a scan in tests)."""
    g = 0.5 * (math.sqrt(5.0) - 1.0)
    x1 = b - g * (b - a)
    x2 = a + g * (b - a)
    f1 = _pc_along(d, ar, hbr, x1, xgk, wgk, wg, rtol, max_iv)
    f2 = _pc_along(d, ar, hbr, x2, xgk, wgk, wg, rtol, max_iv)
    while b - a > _MAXPC_LOG_TOL:
        if f1 >= f2:
            b, x2, f2 = x2, x1, f1
            x1 = b - g * (b - a)
            f1 = _pc_along(d, ar, hbr, x1, xgk, wgk, wg, rtol, max_iv)
        else:
            a, x1, f1 = x1, x2, f2
            x2 = a + g * (b - a)
            f2 = _pc_along(d, ar, hbr, x2, xgk, wgk, wg, rtol, max_iv)
    if f1 >= f2:
        return f1, math.exp(x1)
    return f2, math.exp(x2)


@njit(cache=True, nogil=True)
def _max_oriented_kernel(i0, i1, d, ar, hbr, lo, hi, xgk, wgk, wg, rtol, max_iv, p_out, u_out):
    for i in range(i0, i1):
        p_out[i], u_out[i] = _max_oriented_one(
            d[i], ar[i], hbr[i], lo[i], hi[i], xgk, wgk, wg, rtol, max_iv
        )


def _oriented_numeric(d, ar, hbr_km):
    """Numerical maximum of max_pc_oriented (arrays in km), bracketed rigorously.

    With p0 the Pc at u0 = d / sqrt(2), the maximiser u* has Pc(u*) >= p0, and
    Pc(u) <= P(X > d - R) for X ~ N(0, u^2) gives u* >= (d - R) / isf(p0), while
    Pc(u) <= pi R^2 max density = R^2 AR / (2 u^2) gives u* <= R sqrt(AR / (2 p0)).
    (Below the lower bound the quadrature also meets underflowing integrands.)"""
    n = d.size
    u0 = d / math.sqrt(2.0)
    p0, _ = pc_2d(
        np.stack([d, np.zeros(n)], axis=1),
        np.einsum("n,ij->nij", u0 * u0, np.diag([1.0, 0.0]))
        + np.einsum("n,ij->nij", (u0 / ar) ** 2, np.diag([0.0, 1.0])),
        hbr_km * 1e3,
    )
    p0 = np.clip(p0, 1e-300, 0.5)
    lo = np.log(np.maximum((d - hbr_km) / _special().ndtri(1.0 - p0), 1e-12 * d))
    lo = np.minimum(lo, np.log(u0))
    hi = np.maximum(np.log(hbr_km * np.sqrt(ar / (2.0 * p0))), np.log(u0))
    p = np.empty(n)
    u = np.empty(n)
    on_threads(
        _max_oriented_kernel,
        n,
        np.ascontiguousarray(d),
        np.ascontiguousarray(ar),
        np.ascontiguousarray(hbr_km),
        lo,
        hi,
        _XGK,
        _WGK,
        _WG,
        QUAD_RTOL,
        QUAD_MAX_INTERVALS,
        p,
        u,
        min_rows=_PC_MIN_ROWS,
    )
    return p, u


def max_pc_oriented(miss_km, aspect_ratio, hbr_m, closed_form=True):
    """Return (max_pc (n,), sigma_major_km (n,)): the maximum 2D Pc over every
    covariance ellipse of the given aspect ratio (major/minor sigma >= 1), any size
    and any orientation, for a circular hard body of radius hbr_m at miss_km.

    The maximum puts the major axis along the miss (checked by brute force over
    the angle in tests) and then depends on one sigma u (major axis). For
    eps = HBR AR / miss small, the Pc is the area times the density plus the
    disc's Laplacian term, pi R^2 (f + R^2/8 lap f), and its maximum over u is
    AR R^2 / (e d^2) (1 - (AR^2 - 1) R^2 / (4 d^2)) at u = d / sqrt(2) (the
    correction vanishes for a circle): used where eps <= MAXPC_CLOSED_FORM_MAX_EPS
    (relative error < MAXPC_CLOSED_FORM_RTOL), else a numerical search over u of
    the Foster integral. 1 (sigma 0) when the radius reaches the miss; 0 for a
    zero radius (sigma d / sqrt(2)); NaN where an input is not finite.
    closed_form=False forces the numerical search (for tests).
    """
    d = np.atleast_1d(np.asarray(miss_km, dtype=np.float64))
    n = len(d)
    ar = np.broadcast_to(np.asarray(aspect_ratio, dtype=np.float64), (n,)).copy()
    hbr_km = np.broadcast_to(np.asarray(hbr_m, dtype=np.float64), (n,)) * 1e-3
    p = np.full(n, np.nan)
    u = np.full(n, np.nan)
    ok = np.isfinite(d) & np.isfinite(ar) & np.isfinite(hbr_km) & (ar >= 1.0) & (hbr_km >= 0)
    inside = ok & (hbr_km >= d)
    p[inside] = 1.0
    u[inside] = 0.0
    rest = ok & ~inside
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = hbr_km * ar / d
        q = (hbr_km / d) ** 2
        closed = ar * q / math.e * (1.0 - 0.25 * (ar * ar - 1.0) * q)
    small = rest & (eps <= MAXPC_CLOSED_FORM_MAX_EPS) if closed_form else rest & (hbr_km == 0)
    p[small] = closed[small]
    u[small] = d[small] / math.sqrt(2.0)
    todo = np.flatnonzero(rest & ~small)
    if todo.size:
        p[todo], u[todo] = _oriented_numeric(d[todo], ar[todo], hbr_km[todo])
    return np.minimum(p, 1.0), u


def socrates_covariances(r1_km, v1_kms, r2_km, v2_kms):
    """Return (cov1, cov2) (n,3,3) km^2: diag(100, 300, 100 m)^2 in each object's RTN."""
    d = np.diag((np.asarray(SOCRATES_RTN_SIGMA_M) * 1e-3) ** 2)
    b1 = rtn_basis(r1_km, v1_kms)
    b2 = rtn_basis(r2_km, v2_kms)
    return (np.einsum("nki,kl,nlj->nij", b1, d, b1), np.einsum("nki,kl,nlj->nij", b2, d, b2))


def socrates_aspect_ratio(r1_km, v1_kms, r2_km, v2_kms):
    """Return (n,) major/minor sigma ratio of the SOCRATES shape projected on the encounter
    plane: both objects' diag(100, 300, 100 m)^2 RTN covariances summed, then projected.
    It lies in [1, 3]; NaN where the relative velocity is zero (no encounter plane)."""
    c1, c2 = socrates_covariances(r1_km, v1_kms, r2_km, v2_kms)
    _, c, _ = project_encounter(r1_km, v1_kms, c1, r2_km, v2_kms, c2, check_npd=False)
    tr = 0.5 * (c[:, 0, 0] + c[:, 1, 1])
    dd = np.sqrt(0.25 * (c[:, 0, 0] - c[:, 1, 1]) ** 2 + c[:, 0, 1] ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((tr + dd) / (tr - dd))


def max_pc_socrates(r1_km, v1_kms, r2_km, v2_kms, hbr_m) -> PcResult:
    """Return SOCRATES' maximum probability (MAX_PROB) as a PcResult; extra holds
    ``dilution_km`` (DILUTION) and ``aspect_ratio``.

    SOCRATES (CelesTrak): "given fixed spherical object radii and relative distance
    at TCA, the projected covariance ellipse is sized and oriented to produce the
    maximum probability", its axis ratio from 100/300/100 m radial/in-track/
    cross-track: here ``socrates_aspect_ratio`` (both objects' shapes summed), and
    ``max_pc_oriented`` for the maximum over size and orientation with the miss
    |r2 - r1|. 1 when HBR >= miss. DILUTION ("the standard deviation that produces
    the maximum probability") is the major-axis sigma (km) at the maximum, along
    the miss: d / sqrt(2) for a small radius, 0 when the probability is 1. No
    covariance is used. Rows with zero relative velocity are NaN (STATUS_REFUSED)
    unless the radius reaches the miss.
    """
    r1 = _as_n(r1_km, (3,), "r1_km")
    r2 = _as_n(r2_km, (3,), "r2_km")
    ar = socrates_aspect_ratio(r1, v1_kms, r2, v2_kms)
    miss = np.linalg.norm(r2 - r1, axis=1)
    p, u = max_pc_oriented(miss, ar, hbr_m)
    status = np.where(np.isnan(p), STATUS_REFUSED, STATUS_OK).astype(np.int64)
    return PcResult(
        p, status, "max-socrates", "MAX-PC-SOCRATES", extra={"dilution_km": u, "aspect_ratio": ar}
    )


def _golden_max(miss, c0, hbr, s0, shape):
    """Golden-section search of max over s of pc_2d(miss, s^2 c0); returns (max, s)."""

    def f(log_s):
        s2 = np.exp(2.0 * log_s)
        p, _ = pc_2d(miss, c0 * s2[:, None, None], hbr, shape)
        return p

    # The optimum is at s0 for small HBR and moves below it as HBR grows.
    lo = np.log(s0) - 8.0
    hi = np.log(s0) + 1.0
    g = 0.5 * (math.sqrt(5.0) - 1.0)
    x1 = hi - g * (hi - lo)
    x2 = lo + g * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(_GOLDEN_ITERATIONS):
        left = f1 >= f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x1n = np.where(left, hi - g * (hi - lo), x2)
        x2n = np.where(left, x1, lo + g * (hi - lo))
        new = f(np.where(left, x1n, x2n))
        f1, f2 = np.where(left, new, f2), np.where(left, f1, new)
        x1, x2 = x1n, x2n
    return np.maximum(f1, f2), np.exp(np.where(f1 >= f2, x1, x2))


_GOLDEN_ITERATIONS = 40
# Below this HBR / optimal-sigma ratio the closed-form maximum of max_pc_scaled is used
# (relative error about ratio^2, under 1e-3; checked against the search in tests).
MAXPC_ANALYTIC_RATIO = 0.03


def max_pc_scaled(
    r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, hbr_m, shape="circle"
) -> PcResult:
    """Return Alfano's (2005) maximum 2D Pc over a scale factor k on the *given*
    covariances (k^2 cov1 + k^2 cov2: size varies, orientation and shape kept) as a
    PcResult; extra['scale'] is the maximising k (dimensionless).

    This answers "how large could Pc be if our covariance were mis-sized" for a real
    covariance; it is not SOCRATES' MAX_PROB (which also turns the ellipse: see
    max_pc_socrates). Alfano, "Relating position uncertainty to maximum conjunction
    probability", J. Astronaut. Sci. 53(2), 2005. When the miss is inside HBR, the
    maximum is 1 at k -> 0 (scale 0).
    """
    miss, c0, _ = project_encounter(
        r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, check_npd=False
    )
    n = len(miss)
    hbr = np.broadcast_to(np.asarray(hbr_m, dtype=np.float64), (n,)).copy()
    # Zero relative velocity (identical element sets) leaves no encounter plane: c0 is
    # NaN there and so is the result, without warnings.
    with np.errstate(invalid="ignore"):
        inv = np.linalg.inv(c0)
        d0 = np.sqrt(np.einsum("ni,nij,nj->n", miss, inv, miss))
        l_min = np.linalg.eigvalsh(c0)[:, 0]
        det = np.linalg.det(c0)
    # Small-HBR optimum s = d0 / sqrt(2) brackets the search in log s.
    s0 = np.maximum(d0 / math.sqrt(2.0), 1e-9)
    hbr_km = hbr * 1e-3
    area_km2 = hbr_km**2 * (4.0 if shape == "square" else math.pi)
    # Small HBR (relative to the optimal sigma): Pc ~ A * density, whose maximum
    # over s is A / (pi e d0^2 sqrt(det C0)) at s = d0 / sqrt(2) (Alfano 2005),
    # with relative error O((HBR/sigma)^2).
    with np.errstate(divide="ignore", invalid="ignore"):
        small = hbr_km / (s0 * np.sqrt(np.clip(l_min, 0.0, None))) < MAXPC_ANALYTIC_RATIO
        best = np.where(small, area_km2 / (math.pi * math.e * d0**2 * np.sqrt(det)), np.nan)
    best = np.minimum(best, 1.0)
    scale = np.where(small, s0, np.nan)
    todo = np.nonzero(~small & np.isfinite(d0))[0]
    if len(todo):
        best[todo], scale[todo] = _golden_max(miss[todo], c0[todo], hbr[todo], s0[todo], shape)
    inside = np.hypot(miss[:, 0], miss[:, 1]) * 1e3 <= hbr
    best = np.where(inside, 1.0, best)
    scale = np.where(inside, 0.0, scale)
    status = np.where(np.isnan(best), STATUS_REFUSED, STATUS_OK).astype(np.int64)
    return PcResult(
        best, status, "max-scaled", "MAX-PC-SCALED-" + METHOD_NAMES[shape], extra={"scale": scale}
    )


# ------------------------------------------------------------------- registry


@dataclass(frozen=True)
class PcMethod:
    """One registered Pc method.

    name: the CLI choice and ``assess(method=...)``; cdm_text: the CDM
    ``COLLISION_PROBABILITY_METHOD`` value (SANA names where SANA has one);
    compute(r1, v1, cov1, r2, v2, cov2, hbr_m, **options) -> PcResult;
    uses_covariance: False when cov1/cov2 are ignored (may be None); interval: the
    result has low/high; summary: one line for --help.
    """

    name: str
    cdm_text: str
    compute: Callable[..., PcResult]
    uses_covariance: bool
    interval: bool
    summary: str


PC_METHODS: dict[str, PcMethod] = {}


def register_pc_method(method: PcMethod) -> PcMethod:
    """Add (or replace) a method in the registry; return it."""
    PC_METHODS[method.name] = method
    return method


def get_pc_method(name: str) -> PcMethod:
    """Return the registered method ``name`` (ValueError listing the choices otherwise)."""
    try:
        return PC_METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown Pc method {name!r}; choose one of {', '.join(PC_METHODS)}"
        ) from None


def compute_pc(
    method: str, r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, hbr_m, **options
) -> PcResult:
    """Return the PcResult of the registered method ``method`` (options as its function)."""
    return get_pc_method(method).compute(
        r1_km, v1_kms, cov1_km2, r2_km, v2_kms, cov2_km2, hbr_m, **options
    )


def _no_options(name, options, allowed=()):
    extra = set(options) - set(allowed)
    if extra:
        raise ValueError(f"Pc method {name!r} takes no option {', '.join(sorted(extra))}")


def _socrates_entry(r1, v1, c1, r2, v2, c2, hbr_m, shape="circle", **options):
    _no_options("max-socrates", options)
    if shape != "circle":
        raise ValueError(
            "max-socrates uses spherical objects (SOCRATES' definition): "
            f"hard-body shape must be 'circle', got {shape!r}"
        )
    return max_pc_socrates(r1, v1, r2, v2, hbr_m)


def _chan_entry(r1, v1, c1, r2, v2, c2, hbr_m, shape="circle", **options):
    _no_options("chan", options)
    if shape != "circle":
        raise ValueError(f"chan is defined for a circular hard body, got shape {shape!r}")
    return pc_chan(r1, v1, c1, r2, v2, c2, hbr_m)


def _mc_entry(r1, v1, c1, r2, v2, c2, hbr_m, shape="circle", **options):
    if shape != "circle":
        raise ValueError(f"monte-carlo samples a spherical hard body, got shape {shape!r}")
    return pc_monte_carlo(r1, v1, c1, r2, v2, c2, hbr_m, **options)


register_pc_method(
    PcMethod(
        "foster",
        "FOSTER-1992",
        pc_foster,
        True,
        False,
        "Foster & Estes (1992) 2D Pc, adaptive quadrature (default)",
    )
)
register_pc_method(
    PcMethod(
        "chan",
        "CHAN-1997",
        _chan_entry,
        True,
        False,
        "Chan's series (exact for isotropic covariance)",
    )
)
# SANA's registry has no Monte Carlo entry: this text is ours.
register_pc_method(
    PcMethod(
        "monte-carlo",
        "MONTE-CARLO",
        _mc_entry,
        True,
        True,
        "seeded Monte Carlo with a 95 % Clopper-Pearson interval",
    )
)
register_pc_method(
    PcMethod(
        "max-socrates",
        "ALFANO_MAX_PROBABILITY",
        _socrates_entry,
        False,
        False,
        "SOCRATES' maximum probability (no covariance used)",
    )
)
register_pc_method(
    PcMethod(
        "max-scaled",
        "ALFANO_MAX_PROBABILITY",
        max_pc_scaled,
        True,
        False,
        "maximum Pc over the size of the given covariance",
    )
)
