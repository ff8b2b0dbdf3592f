"""SGP4 propagation in numba, on the coefficients sgp4's own ``sgp4init`` computed.

Initialisation stays with the compiled sgp4 library (``Satrec.twoline2rv``, OMM
init, the catalogue's opsmode and WGS72): this module only reads each initialised
``Satrec``'s state into one float64 row and propagates it, near-earth and
deep-space (lunar-solar periodics and the resonance integrator), written from
Vallado, Crawford, Hujsak and Kelso, "Revisiting Spacetrack Report #3" (AIAA
2006-6753). Compiled, it fuses with the quintic fits of ``ssa.screening.propagate``
and runs on numba threads (sgp4's ``SatrecArray`` holds the GIL).

sgp4 2.27's Python ``Satrec`` exposes only some of the coefficients as attributes,
so the rows are read from the ``elsetrec`` struct behind it (the same bytes
``SatrecArray`` copies, see ``ssa.screening.executor.satrec_bytes``), laid out as
in sgp4's SGP4.h. ``layout_ok()`` checks that layout against every coefficient the
Python object does expose; when it does not hold (another sgp4 build),
``available()`` is False and the callers keep ``SatrecArray``.

Output convention as sgp4's ``SatrecArray.sgp4``: error codes per object and time
(1: eccentricity out of range, 2: mean motion <= 0, 3: perturbed eccentricity out
of range, 4: semi-latus rectum < 0, 6: decayed, r < 1 Earth radius), NaN position
and velocity for codes 1 to 4, and the computed state for code 6.

The resonance integrator's last step is kept per object between the times of one
call (as sgp4 keeps it in the satrec), so consecutive times do not integrate from
epoch again; its fixed 720-minute steps give the same values either way.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
from numba import njit, prange
from sgp4.api import Satrec

# --- sgp4's elsetrec (SGP4.h, as built into sgp4 2.27's C++ extension) ----------
_NEAR = (
    "aycof con41 cc1 cc4 cc5 d2 d3 d4 delmo eta argpdot omgcof sinmao t t2cof t3cof "
    "t4cof t5cof x1mth2 x7thm1 mdot nodedot xlcof xmcof nodecf"
).split()
_DEEP = (
    "d2201 d2211 d3210 d3222 d4410 d4422 d5220 d5232 d5421 d5433 dedt del1 del2 del3 "
    "didt dmdt dnodt domdt e3 ee2 peo pgho pho pinco plo se2 se3 sgh2 sgh3 sgh4 sh2 sh3 "
    "si2 si3 sl2 sl3 sl4 gsto xfact xgh2 xgh3 xgh4 xh2 xh3 xi2 xi3 xl2 xl3 xl4 xlamo "
    "zmol zmos atime xli xni"
).split()
_ELEMENTS = (
    "a altp alta epochdays jdsatepoch jdsatepochF nddot ndot bstar rcse inclo nodeo "
    "ecco argpo mo no_kozai"
).split()
_AVERAGED = "am em im Om om mm nm tumin mu radiusearthkm xke j2 j3 j4 j3oj2".split()


class _Elsetrec(ctypes.Structure):
    _fields_ = (
        [
            ("satnum", ctypes.c_char * 6),
            ("epochyr", ctypes.c_int),
            ("epochtynumrev", ctypes.c_int),
            ("error", ctypes.c_int),
            ("operationmode", ctypes.c_char),
            ("init", ctypes.c_char),
            ("method", ctypes.c_char),
            ("isimp", ctypes.c_int),
        ]
        + [(f, ctypes.c_double) for f in _NEAR]
        + [("irez", ctypes.c_int)]
        + [(f, ctypes.c_double) for f in _DEEP + _ELEMENTS]
        + [
            ("classification", ctypes.c_char),
            ("intldesg", ctypes.c_char * 11),
            ("ephtype", ctypes.c_int),
            ("elnum", ctypes.c_long),
            ("revnum", ctypes.c_long),
            ("no_unkozai", ctypes.c_double),
        ]
        + [(f, ctypes.c_double) for f in _AVERAGED]
        + [
            ("dia_mm", ctypes.c_long),
            ("period_sec", ctypes.c_double),
            ("active", ctypes.c_ubyte),
            ("not_orbital", ctypes.c_ubyte),
            ("rcs_m2", ctypes.c_double),
        ]
    )


_HEADER = object.__basicsize__
_BODY = Satrec.__basicsize__ - _HEADER
_STRUCT = np.dtype(_Elsetrec)

# --- one float64 row per object: the columns the propagation reads ---------------
# Flags first (isimp, irez, deep space, AFSPC opsmode), then the doubles as named
# in the struct.
_DOUBLES = (
    [f for f in _NEAR if f != "t"]
    + [f for f in _DEEP if f not in ("atime", "xli", "xni")]
    + "jdsatepoch jdsatepochF bstar inclo nodeo ecco argpo mo no_unkozai".split()
    + "radiusearthkm xke j2 j3oj2".split()
)
# Last, per-object invariants of the propagation (``fill_invariants``): sin and cos of
# the epoch inclination and (xke / no)^(2/3), computed once instead of at every time.
_DERIVED = ["sinio", "cosio", "a_no"]
COLUMNS = ["isimp", "irez", "deep", "afspc"] + _DOUBLES + _DERIVED
N_COLUMNS = len(COLUMNS)
_C = {name: k for k, name in enumerate(COLUMNS)}

# Column numbers as globals: numba freezes them into the compiled code.
ISIMP, IREZ, DEEP, AFSPC = 0, 1, 2, 3
AYCOF, CON41, CC1, CC4, CC5 = (_C[f] for f in ("aycof", "con41", "cc1", "cc4", "cc5"))
D2, D3, D4, DELMO, ETA = (_C[f] for f in ("d2", "d3", "d4", "delmo", "eta"))
ARGPDOT, OMGCOF, SINMAO, T2COF = (_C[f] for f in ("argpdot", "omgcof", "sinmao", "t2cof"))
T3COF, T4COF, T5COF, X1MTH2 = (_C[f] for f in ("t3cof", "t4cof", "t5cof", "x1mth2"))
X7THM1, MDOT, NODEDOT, XLCOF = (_C[f] for f in ("x7thm1", "mdot", "nodedot", "xlcof"))
XMCOF, NODECF = _C["xmcof"], _C["nodecf"]
D2201 = _C["d2201"]  # d2201 .. d5433: 10 consecutive columns
DEDT, DEL1, DEL2, DEL3 = (_C[f] for f in ("dedt", "del1", "del2", "del3"))
DIDT, DMDT, DNODT, DOMDT = (_C[f] for f in ("didt", "dmdt", "dnodt", "domdt"))
E3, EE2, PEO, PGHO, PHO, PINCO, PLO = (
    _C[f] for f in ("e3", "ee2", "peo", "pgho", "pho", "pinco", "plo")
)
SE2, SE3, SGH2, SGH3, SGH4 = (_C[f] for f in ("se2", "se3", "sgh2", "sgh3", "sgh4"))
SH2, SH3, SI2, SI3, SL2, SL3, SL4 = (
    _C[f] for f in ("sh2", "sh3", "si2", "si3", "sl2", "sl3", "sl4")
)
GSTO, XFACT, XGH2, XGH3, XGH4 = (_C[f] for f in ("gsto", "xfact", "xgh2", "xgh3", "xgh4"))
XH2, XH3, XI2, XI3 = (_C[f] for f in ("xh2", "xh3", "xi2", "xi3"))
XL2, XL3, XL4, XLAMO, ZMOL, ZMOS = (_C[f] for f in ("xl2", "xl3", "xl4", "xlamo", "zmol", "zmos"))
JDEPOCH, JDEPOCHF, BSTAR, INCLO = (_C[f] for f in ("jdsatepoch", "jdsatepochF", "bstar", "inclo"))
NODEO, ECCO, ARGPO, MO, NO = (_C[f] for f in ("nodeo", "ecco", "argpo", "mo", "no_unkozai"))
RADIUS, XKE, J2, J3OJ2 = (_C[f] for f in ("radiusearthkm", "xke", "j2", "j3oj2"))
SINIO, COSIO, A_NO = (_C[f] for f in _DERIVED)

# Attributes the Python Satrec exposes, to check the struct layout against.
_EXPOSED = [
    f
    for f in _NEAR + _DEEP + _ELEMENTS + _AVERAGED + ["error"]
    if hasattr(Satrec, f) and f not in ("t",)
]


def satrec_rows(satrecs) -> np.ndarray:
    """Return the raw elsetrec of each Satrec as a structured array (layout above)."""
    if _STRUCT.itemsize != _BODY:
        raise RuntimeError(f"sgp4 Satrec holds {_BODY} bytes, SGP4.h's elsetrec {_STRUCT.itemsize}")
    out = np.empty(len(satrecs), _STRUCT)
    base = out.ctypes.data
    for q, s in enumerate(satrecs):
        ctypes.memmove(base + q * _BODY, id(s) + _HEADER, _BODY)
    return out


def elements(satrecs) -> np.ndarray:
    """Return the (n, N_COLUMNS) float64 rows of initialised satrecs (column names in
    COLUMNS) that ``propagate`` and the fused knot fits read."""
    raw = satrec_rows(satrecs).view(np.uint8).reshape(len(satrecs), _BODY)
    el = np.empty((raw.shape[0], N_COLUMNS))
    # One gather per type over the struct's byte offsets (every double is aligned).
    el[:, 4 : 4 + len(_DOUBLES)] = raw.view(np.float64)[
        :, [_STRUCT.fields[f][1] // 8 for f in _DOUBLES]
    ]
    ints = raw.view(np.int32)
    el[:, ISIMP] = ints[:, _STRUCT.fields["isimp"][1] // 4]
    el[:, IREZ] = ints[:, _STRUCT.fields["irez"][1] // 4]
    el[:, DEEP] = raw[:, _STRUCT.fields["method"][1]] == ord("d")
    el[:, AFSPC] = raw[:, _STRUCT.fields["operationmode"][1]] == ord("a")
    fill_invariants(el)
    return el


def layout_ok(satrecs) -> bool:
    """True when the struct read of satrecs agrees with every coefficient their Python
    objects expose (bit for bit), and with their method and opsmode."""
    raw = satrec_rows(satrecs)
    for q, s in enumerate(satrecs):
        row = raw[q]
        if row["method"].decode() != s.method or row["operationmode"].decode() != s.operationmode:
            return False
        for f in _EXPOSED:
            a, b = row[f], getattr(s, f)
            if not (a == b or (a != a and b != b)):
                return False
    return True


_LAYOUT_OK: bool | None = None


def available() -> bool:
    """True when this sgp4 build's Satrec layout is the one read here (checked once on
    a near-earth and a deep-space element set)."""
    global _LAYOUT_OK
    if _LAYOUT_OK is None:
        from sgp4.api import WGS72

        probes = [
            # Vanguard 1 (near-earth) and a Molniya (deep space, 12 h resonance).
            (
                "1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753",
                "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667",
            ),
            (
                "1 08195U 75081A   06176.33215444  .00000099  00000-0  11873-3 0   813",
                "2 08195  64.1586 279.0717 6877146 264.7651  20.2257  2.00491383225656",
            ),
        ]
        try:
            _LAYOUT_OK = layout_ok([Satrec.twoline2rv(a, b, WGS72) for a, b in probes])
        except (RuntimeError, ValueError, TypeError):
            _LAYOUT_OK = False
    return _LAYOUT_OK


# --- propagation ------------------------------------------------------------------
_TWOPI = 2.0 * math.pi
_X2O3 = 2.0 / 3.0
# Lunar and solar mean motions (rad/min), eccentricities (SGP4's dpper constants).
_ZNS, _ZES, _ZNL, _ZEL = 1.19459e-5, 0.01675, 1.5835218e-4, 0.05490
# Resonance phase constants (rad) and Earth rotation (rad/min) of the integrator.
_FASX2, _FASX4, _FASX6 = 0.13130908, 2.8843198, 0.37448087
_G22, _G32, _G44, _G52, _G54 = 5.7686396, 0.95240898, 1.8014998, 1.0508330, 4.4108898
_RPTIM = 4.37526908801129966e-3
_STEP_MIN = 720.0  # resonance integrator step (min)
# Guard of the long-period coefficient against 1 + cos(i) = 0 (i = 180 deg).
_INCL_180_GUARD = 1.5e-12
# Kepler solver: convergence and the largest correction per iteration.
_KEPLER_TOL = 1.0e-12
_KEPLER_MAX_STEP = 0.95


@njit(cache=True, error_model="numpy")
def fill_invariants(el):
    """Fill the _DERIVED columns of rows el: the values sgp4_state would compute at
    every time with the same expressions (so the same bits) when inclination and
    mean motion stay at their epoch values (near earth; no resonance)."""
    for i in range(el.shape[0]):
        el[i, SINIO] = math.sin(el[i, INCLO])
        el[i, COSIO] = math.cos(el[i, INCLO])
        el[i, A_NO] = (el[i, XKE] / el[i, NO]) ** _X2O3


@njit(cache=True, inline="always", error_model="numpy")
def _lunisolar_periodics(el, t, ep, inclp, nodep, argpp, mp):
    """Lunar-solar periodics at t (min) applied to (e, i, node, argp, M); deep space only."""
    # Solar terms.
    zm = el[ZMOS] + _ZNS * t
    zf = zm + 2.0 * _ZES * math.sin(zm)
    sinzf = math.sin(zf)
    f2 = 0.5 * sinzf * sinzf - 0.25
    f3 = -0.5 * sinzf * math.cos(zf)
    ses = el[SE2] * f2 + el[SE3] * f3
    sis = el[SI2] * f2 + el[SI3] * f3
    sls = el[SL2] * f2 + el[SL3] * f3 + el[SL4] * sinzf
    sghs = el[SGH2] * f2 + el[SGH3] * f3 + el[SGH4] * sinzf
    shs = el[SH2] * f2 + el[SH3] * f3
    # Lunar terms.
    zm = el[ZMOL] + _ZNL * t
    zf = zm + 2.0 * _ZEL * math.sin(zm)
    sinzf = math.sin(zf)
    f2 = 0.5 * sinzf * sinzf - 0.25
    f3 = -0.5 * sinzf * math.cos(zf)
    sel = el[EE2] * f2 + el[E3] * f3
    sil = el[XI2] * f2 + el[XI3] * f3
    sll = el[XL2] * f2 + el[XL3] * f3 + el[XL4] * sinzf
    sghl = el[XGH2] * f2 + el[XGH3] * f3 + el[XGH4] * sinzf
    shll = el[XH2] * f2 + el[XH3] * f3
    # Minus their values at epoch.
    pe = ses + sel - el[PEO]
    pinc = sis + sil - el[PINCO]
    pl = sls + sll - el[PLO]
    pgh = sghs + sghl - el[PGHO]
    ph = shs + shll - el[PHO]
    inclp = inclp + pinc
    ep = ep + pe
    sinip = math.sin(inclp)
    cosip = math.cos(inclp)
    if inclp >= 0.2:
        ph = ph / sinip
        pgh = pgh - cosip * ph
        argpp = argpp + pgh
        nodep = nodep + ph
        mp = mp + pl
    else:
        # Lyddane's form for small inclinations (perturbed inclination, as GSFC).
        sinop = math.sin(nodep)
        cosop = math.cos(nodep)
        alfdp = sinip * sinop + (ph * cosop + pinc * cosip * sinop)
        betdp = sinip * cosop + (-ph * sinop + pinc * cosip * cosop)
        nodep = np.fmod(nodep, _TWOPI)
        if nodep < 0.0 and el[AFSPC] != 0.0:
            nodep = nodep + _TWOPI
        xls = mp + argpp + cosip * nodep
        dls = pl + pgh - pinc * nodep * sinip
        xls = xls + dls
        xnoh = nodep
        nodep = math.atan2(alfdp, betdp)
        if nodep < 0.0 and el[AFSPC] != 0.0:
            nodep = nodep + _TWOPI
        if abs(xnoh - nodep) > math.pi:
            if nodep < xnoh:
                nodep = nodep + _TWOPI
            else:
                nodep = nodep - _TWOPI
        mp = mp + pl
        argpp = xls - mp - cosip * nodep
    return ep, inclp, nodep, argpp, mp


@njit(cache=True, inline="always", error_model="numpy")
def _resonance(el, t, nodem, argpm, mm, res):
    """Deep-space resonance (12 h or 24 h) by the fixed-step integrator. Returns the
    mean anomaly and the mean motion at t (min). res holds the integrator's last step
    (time, mean longitude, mean motion) and is updated: it restarts from epoch when
    t lies before that step or on the other side of epoch, as sgp4 does; its steps
    are fixed, so a restart or a continuation give the same values."""
    irez = el[IREZ]
    no = el[NO]
    theta = np.fmod(el[GSTO] + t * _RPTIM, _TWOPI)
    delt = _STEP_MIN if t > 0.0 else -_STEP_MIN
    step2 = 0.5 * _STEP_MIN * _STEP_MIN
    atime = res[0]
    xli = res[1]
    xni = res[2]
    if atime == 0.0 or t * atime <= 0.0 or abs(t) < abs(atime):
        atime = 0.0
        xni = no
        xli = el[XLAMO]
    ft = 0.0
    while True:
        if irez != 2.0:
            # Synchronous (24 h) resonance.
            xndt = (
                el[DEL1] * math.sin(xli - _FASX2)
                + el[DEL2] * math.sin(2.0 * (xli - _FASX4))
                + el[DEL3] * math.sin(3.0 * (xli - _FASX6))
            )
            xldot = xni + el[XFACT]
            xnddt = (
                el[DEL1] * math.cos(xli - _FASX2)
                + 2.0 * el[DEL2] * math.cos(2.0 * (xli - _FASX4))
                + 3.0 * el[DEL3] * math.cos(3.0 * (xli - _FASX6))
            )
            xnddt = xnddt * xldot
        else:
            # Half-day (12 h) resonance; d2201 .. d5433 are consecutive columns.
            d = D2201
            xomi = el[ARGPO] + el[ARGPDOT] * atime
            x2omi = xomi + xomi
            x2li = xli + xli
            xndt = (
                el[d] * math.sin(x2omi + xli - _G22)
                + el[d + 1] * math.sin(xli - _G22)
                + el[d + 2] * math.sin(xomi + xli - _G32)
                + el[d + 3] * math.sin(-xomi + xli - _G32)
                + el[d + 4] * math.sin(x2omi + x2li - _G44)
                + el[d + 5] * math.sin(x2li - _G44)
                + el[d + 6] * math.sin(xomi + xli - _G52)
                + el[d + 7] * math.sin(-xomi + xli - _G52)
                + el[d + 8] * math.sin(xomi + x2li - _G54)
                + el[d + 9] * math.sin(-xomi + x2li - _G54)
            )
            xldot = xni + el[XFACT]
            xnddt = (
                el[d] * math.cos(x2omi + xli - _G22)
                + el[d + 1] * math.cos(xli - _G22)
                + el[d + 2] * math.cos(xomi + xli - _G32)
                + el[d + 3] * math.cos(-xomi + xli - _G32)
                + el[d + 6] * math.cos(xomi + xli - _G52)
                + el[d + 7] * math.cos(-xomi + xli - _G52)
                + 2.0
                * (
                    el[d + 4] * math.cos(x2omi + x2li - _G44)
                    + el[d + 5] * math.cos(x2li - _G44)
                    + el[d + 8] * math.cos(xomi + x2li - _G54)
                    + el[d + 9] * math.cos(-xomi + x2li - _G54)
                )
            )
            xnddt = xnddt * xldot
        if abs(t - atime) < _STEP_MIN:
            ft = t - atime
            break
        xli = xli + xldot * delt + xndt * step2
        xni = xni + xndt * delt + xnddt * step2
        atime = atime + delt
    res[0] = atime
    res[1] = xli
    res[2] = xni
    nm = xni + xndt * ft + xnddt * ft * ft * 0.5
    xl = xli + xldot * ft + xndt * ft * ft * 0.5
    if irez != 1.0:
        mm = xl - 2.0 * nodem + 2.0 * theta
    else:
        mm = xl - nodem - argpm + theta
    return mm, no + (nm - no)


@njit(cache=True, error_model="numpy")
def sgp4_state(el, t, out, res):
    """SGP4 at t minutes from epoch for one object's row el; writes position (km) and
    velocity (km/s) into out[0:6] and returns the error code (0: fine). res: the
    object's resonance integrator state (3 floats, zeros before its first call)."""
    deep = el[DEEP] != 0.0
    radius = el[RADIUS]
    xke = el[XKE]
    j2 = el[J2]
    j3oj2 = el[J3OJ2]
    no = el[NO]
    # Secular gravity and drag.
    xmdf = el[MO] + el[MDOT] * t
    argpdf = el[ARGPO] + el[ARGPDOT] * t
    nodedf = el[NODEO] + el[NODEDOT] * t
    argpm = argpdf
    mm = xmdf
    t2 = t * t
    nodem = nodedf + el[NODECF] * t2
    tempa = 1.0 - el[CC1] * t
    tempe = el[BSTAR] * el[CC4] * t
    templ = el[T2COF] * t2
    if el[ISIMP] != 1.0:
        delomg = el[OMGCOF] * t
        delmtemp = 1.0 + el[ETA] * math.cos(xmdf)
        delm = el[XMCOF] * (delmtemp * delmtemp * delmtemp - el[DELMO])
        temp = delomg + delm
        mm = xmdf + temp
        argpm = argpdf - temp
        t3 = t2 * t
        t4 = t3 * t
        tempa = tempa - el[D2] * t2 - el[D3] * t3 - el[D4] * t4
        tempe = tempe + el[BSTAR] * el[CC5] * (math.sin(mm) - el[SINMAO])
        templ = templ + el[T3COF] * t3 + t4 * (el[T4COF] + t * el[T5COF])
    nm = no
    em = el[ECCO]
    inclm = el[INCLO]
    if deep:
        # Lunar-solar secular rates, then the resonance integrator.
        em = em + el[DEDT] * t
        inclm = inclm + el[DIDT] * t
        argpm = argpm + el[DOMDT] * t
        nodem = nodem + el[DNODT] * t
        mm = mm + el[DMDT] * t
        if el[IREZ] != 0.0:
            mm, nm = _resonance(el, t, nodem, argpm, mm, res)
    for k in range(6):
        out[k] = np.nan
    if nm <= 0.0:
        return 2
    # nm is no unless the resonance integrator moved it: the invariant then applies.
    am = (el[A_NO] if nm == no else (xke / nm) ** _X2O3) * tempa * tempa
    nm = xke / am**1.5
    em = em - tempe
    if em >= 1.0 or em < -0.001:
        return 1
    if em < 1.0e-6:
        em = 1.0e-6
    mm = mm + no * templ
    xlm = mm + argpm + nodem
    nodem = np.fmod(nodem, _TWOPI)
    argpm = np.fmod(argpm, _TWOPI)
    xlm = np.fmod(xlm, _TWOPI)
    mm = np.fmod(xlm - argpm - nodem, _TWOPI)
    ep = em
    xincp = inclm
    argpp = argpm
    nodep = nodem
    mp = mm
    sinip = el[SINIO]  # near earth the inclination is the epoch one (deep: below)
    cosip = el[COSIO]
    aycof = el[AYCOF]
    xlcof = el[XLCOF]
    con41 = el[CON41]
    x1mth2 = el[X1MTH2]
    x7thm1 = el[X7THM1]
    if deep:
        ep, xincp, nodep, argpp, mp = _lunisolar_periodics(el, t, ep, xincp, nodep, argpp, mp)
        if xincp < 0.0:
            xincp = -xincp
            nodep = nodep + math.pi
            argpp = argpp - math.pi
        if ep < 0.0 or ep > 1.0:
            return 3
        # Long-period coefficients and short-period factors at the perturbed inclination.
        sinip = math.sin(xincp)
        cosip = math.cos(xincp)
        aycof = -0.5 * j3oj2 * sinip
        if abs(cosip + 1.0) > _INCL_180_GUARD:
            xlcof = -0.25 * j3oj2 * sinip * (3.0 + 5.0 * cosip) / (1.0 + cosip)
        else:
            xlcof = -0.25 * j3oj2 * sinip * (3.0 + 5.0 * cosip) / _INCL_180_GUARD
        cosisq = cosip * cosip
        con41 = 3.0 * cosisq - 1.0
        x1mth2 = 1.0 - cosisq
        x7thm1 = 7.0 * cosisq - 1.0
    # Long-period periodics.
    axnl = ep * math.cos(argpp)
    temp = 1.0 / (am * (1.0 - ep * ep))
    aynl = ep * math.sin(argpp) + temp * aycof
    xl = mp + argpp + nodep + temp * xlcof * axnl
    # Kepler's equation for the eccentric longitude.
    u = np.fmod(xl - nodep, _TWOPI)
    eo1 = u
    tem5 = 9999.9
    sineo1 = 0.0
    coseo1 = 0.0
    ktr = 1
    while abs(tem5) >= _KEPLER_TOL and ktr <= 10:
        sineo1 = math.sin(eo1)
        coseo1 = math.cos(eo1)
        tem5 = 1.0 - coseo1 * axnl - sineo1 * aynl
        tem5 = (u - aynl * coseo1 + axnl * sineo1 - eo1) / tem5
        if abs(tem5) >= _KEPLER_MAX_STEP:
            tem5 = _KEPLER_MAX_STEP if tem5 > 0.0 else -_KEPLER_MAX_STEP
        eo1 = eo1 + tem5
        ktr = ktr + 1
    # Short-period preliminaries.
    ecose = axnl * coseo1 + aynl * sineo1
    esine = axnl * sineo1 - aynl * coseo1
    el2 = axnl * axnl + aynl * aynl
    pl = am * (1.0 - el2)
    if pl < 0.0:
        return 4
    rl = am * (1.0 - ecose)
    rdotl = math.sqrt(am) * esine / rl
    rvdotl = math.sqrt(pl) / rl
    betal = math.sqrt(1.0 - el2)
    temp = esine / (1.0 + betal)
    sinu = am / rl * (sineo1 - aynl - axnl * temp)
    cosu = am / rl * (coseo1 - axnl + aynl * temp)
    su = math.atan2(sinu, cosu)
    sin2u = (cosu + cosu) * sinu
    cos2u = 1.0 - 2.0 * sinu * sinu
    temp = 1.0 / pl
    temp1 = 0.5 * j2 * temp
    temp2 = temp1 * temp
    # Short-period periodics.
    mrt = rl * (1.0 - 1.5 * temp2 * betal * con41) + 0.5 * temp1 * x1mth2 * cos2u
    su = su - 0.25 * temp2 * x7thm1 * sin2u
    xnode = nodep + 1.5 * temp2 * cosip * sin2u
    xinc = xincp + 1.5 * temp2 * cosip * sinip * cos2u
    mvt = rdotl - nm * temp1 * x1mth2 * sin2u / xke
    rvdot = rvdotl + nm * temp1 * (x1mth2 * cos2u + 1.5 * con41) / xke
    # Orientation vectors, then position and velocity.
    sinsu = math.sin(su)
    cossu = math.cos(su)
    snod = math.sin(xnode)
    cnod = math.cos(xnode)
    sini = math.sin(xinc)
    cosi = math.cos(xinc)
    xmx = -snod * cosi
    xmy = cnod * cosi
    ux = xmx * sinsu + cnod * cossu
    uy = xmy * sinsu + snod * cossu
    uz = sini * sinsu
    vx = xmx * cossu - cnod * sinsu
    vy = xmy * cossu - snod * sinsu
    vz = sini * cossu
    vkmpersec = radius * xke / 60.0
    out[0] = (mrt * ux) * radius
    out[1] = (mrt * uy) * radius
    out[2] = (mrt * uz) * radius
    out[3] = (mvt * ux + rvdot * vx) * vkmpersec
    out[4] = (mvt * uy + rvdot * vy) * vkmpersec
    out[5] = (mvt * uz + rvdot * vz) * vkmpersec
    if mrt < 1.0:
        return 6  # decayed: below one Earth radius (state still returned)
    return 0


@njit(cache=True, inline="always", error_model="numpy")
def minutes_since_epoch(el, jd, fr):
    """Minutes from el's epoch to the two-part Julian date (jd, fr), as sgp4 forms them."""
    return (jd - el[JDEPOCH]) * 1440.0 + (fr - el[JDEPOCHF]) * 1440.0


@njit(cache=True, parallel=True, error_model="numpy")
def propagate(el, jd, fr):
    """SGP4 of every row of el at the two-part Julian dates (jd[m], fr[m]): returns
    (error codes (n, m) uint8, positions (n, m, 3) km, velocities (n, m, 3) km/s) in
    TEME, like sgp4's ``SatrecArray.sgp4``. Objects run in parallel on numba threads."""
    n = el.shape[0]
    m = jd.shape[0]
    e = np.zeros((n, m), np.uint8)
    r = np.empty((n, m, 3))
    v = np.empty((n, m, 3))
    for i in prange(n):
        rv = np.empty(6)
        res = np.zeros(3)
        row = el[i]
        for k in range(m):
            e[i, k] = sgp4_state(row, minutes_since_epoch(row, jd[k], fr[k]), rv, res)
            for ax in range(3):
                r[i, k, ax] = rv[ax]
                v[i, k, ax] = rv[3 + ax]
    return e, r, v


@njit(cache=True, error_model="numpy")
def propagate_tsince(el, tsince_min):
    """SGP4 of one row el at minutes from its epoch: (codes (m,), states (m, 6))."""
    m = tsince_min.shape[0]
    e = np.zeros(m, np.int64)
    rv = np.empty((m, 6))
    res = np.zeros(3)
    for k in range(m):
        e[k] = sgp4_state(el, tsince_min[k], rv[k], res)
    return e, rv
