"""An operator's ephemeris (OEM) as a screening primary, against a catalogue.

``screen_oem(segment, catalog, threshold_km)`` returns the close approaches of the
trajectory in an OEM segment (TEME, or GCRF rotated back to TEME) with every
catalogue object, over the segment's time span:

1. objects whose perigee/apogee band cannot come within the threshold of the
   trajectory's radius range are left out (with ``BAND_MARGIN_KM`` for the
   difference between SGP4 mean and osculating radii);
2. the others are propagated with SGP4 (``SatrecArray``) at the OEM epochs; an
   interval between two epochs is a candidate when either end is closer than the
   threshold plus the distance two objects can close in half an interval
   (``MAX_CLOSING_KMS`` x step / 2), so no encounter is skipped;
3. in each candidate interval both trajectories are cubic Hermite curves (positions
   and velocities at both ends), sampled every ``SAMPLE_S``; around the closest
   sample, the TCA is polished on exact SGP4 for the object and the Hermite curve
   for the OEM (parabola steps to ``TCA_TOL_S``).

The OEM's interpolation decides the primary's accuracy: a cubic Hermite over 60 s in
LEO is good to well under a metre. Covariance in the OEM is not used here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import SatrecArray

from ssa.errors import UserError

BAND_MARGIN_KM = 50.0  # SGP4 mean vs osculating radius, plus drag over a few days
MAX_CLOSING_KMS = 16.0  # fastest closing speed between two Earth orbiters
SAMPLE_S = 1.0  # Hermite sampling inside a candidate interval
VREL_CHANGE_KMS = 1.2  # relative velocity change within one 60-s interval (2 g x 60 s)
HERMITE_MARGIN_KM = 0.01  # cubic Hermite error (<0.5 m over 60 s in LEO), generously
TCA_TOL_S = 1e-3  # TCA polish stops below this step
RANGE_RATE_COS_TOL = 1e-3  # |cos(dr, dv)| below this: the range rate is zero (a minimum)
SECONDS_PER_DAY = 86400.0


@dataclass
class OemEncounter:
    """One close approach of the OEM trajectory with catalogue object ``norad_id``."""

    norad_id: int
    name: str
    tca_jd: float
    tca_fr: float
    miss_km: float
    speed_kms: float


def _hermite(t, t0, t1, r0, v0, r1, v1):
    """Cubic Hermite position at times t (s) between (t0, r0, v0) and (t1, r1, v1)."""
    s = ((t - t0) / (t1 - t0))[..., None]
    h = np.asarray(t1 - t0, dtype=np.float64)[..., None]
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * r0 + h10 * h * v0 + h01 * r1 + h11 * h * v1


def _teme_states(segment):
    jd, fr = segment.jd_fr()
    states = np.asarray(segment.states_km, dtype=np.float64)
    frame = segment.meta.get("REF_FRAME", "").upper()
    if frame == "GCRF":
        from ssa.geometry.frames import teme_to_gcrf_rotation

        rot = np.transpose(teme_to_gcrf_rotation(jd, fr), (0, 2, 1))  # GCRF -> TEME
        states = np.hstack(
            [
                np.einsum("nij,nj->ni", rot, states[:, :3]),
                np.einsum("nij,nj->ni", rot, states[:, 3:]),
            ]
        )
    elif frame != "TEME":
        raise UserError(f"OEM frame {frame!r}: screening reads TEME or GCRF ephemerides")
    if segment.meta.get("CENTER_NAME", "EARTH").upper() != "EARTH":
        raise UserError("OEM primary: CENTER_NAME must be EARTH")
    return jd, fr, states


def screen_oem(
    segment, catalog, threshold_km: float = 5.0, exclude: tuple[int, ...] = ()
) -> list[OemEncounter]:
    """Return the close approaches (distance <= threshold_km) of an OEM segment's
    trajectory with the catalogue's objects (except ``exclude``), sorted by TCA."""
    jd, fr, states = _teme_states(segment)
    if len(jd) < 2:
        raise UserError("an OEM primary needs at least two ephemeris lines")
    t_s = ((jd - jd[0]) + (fr - fr[0])) * SECONDS_PER_DAY
    radius = np.linalg.norm(states[:, :3], axis=1)
    from ssa.geometry.constants import EARTH_RADIUS_KM

    lo = catalog.perigee_km + EARTH_RADIUS_KM - BAND_MARGIN_KM - threshold_km
    hi = catalog.apogee_km + EARTH_RADIUS_KM + BAND_MARGIN_KM + threshold_km
    keep = (hi >= radius.min()) & (lo <= radius.max()) & ~np.isin(catalog.norad_id, exclude)
    index = np.flatnonzero(keep)
    if not len(index):
        return []
    sats = [catalog.satrecs[i] for i in index.tolist()]
    err, r, v = SatrecArray(sats).sgp4(jd, fr)  # (m, n, 3)
    dist = np.linalg.norm(r - states[None, :, :3], axis=2)
    step = np.diff(t_s)
    reach = threshold_km + MAX_CLOSING_KMS * step / 2.0
    near = (np.minimum(dist[:, :-1], dist[:, 1:]) <= reach[None, :]) & (
        (err[:, :-1] == 0) & (err[:, 1:] == 0)
    )
    objs, ks = np.nonzero(near)
    # All candidate intervals at once on 1-s Hermite samples; only those whose sampled
    # minimum could hide a miss within the threshold go on to the exact polish.
    keep = _sampled_minimum_within(objs, ks, t_s, states, r, v, threshold_km)
    found: dict = {}
    for obj, k in zip(objs[keep], ks[keep], strict=True):
        hit = _closest_in_interval(sats[obj], t_s, jd[0], fr[0], states, r[obj], v[obj], k)
        if hit is None or hit[1] > threshold_km:
            continue
        tca_s, miss, speed = hit
        key = (int(obj), round(tca_s, 1))  # one encounter found from two adjacent intervals
        if key not in found:
            i = int(index[obj])
            whole = np.floor(fr[0] + tca_s / SECONDS_PER_DAY)
            found[key] = OemEncounter(
                int(catalog.norad_id[i]),
                str(catalog.name[i]),
                float(jd[0] + whole),
                float(fr[0] + tca_s / SECONDS_PER_DAY - whole),
                miss,
                speed,
            )
    return sorted(found.values(), key=lambda e: (e.tca_jd + e.tca_fr, e.norad_id))


def _sampled_minimum_within(objs, ks, t_s, states, r, v, threshold_km, chunk=2048):
    """Return a mask of candidate intervals whose 1-s sampled minimum distance is within
    reach of the threshold: on a grid of SAMPLE_S the true minimum is at most
    |v_rel| * SAMPLE_S / 2 along the relative track from a sample (plus the Hermite
    error, far below HERMITE_MARGIN_KM)."""
    keep = np.zeros(len(objs), dtype=bool)
    for a in range(0, len(objs), chunk):
        o, k = objs[a : a + chunk], ks[a : a + chunk]
        t0, t1 = t_s[k], t_s[k + 1]
        n_s = int(np.ceil(np.max(t1 - t0) / SAMPLE_S)) + 1
        frac = np.linspace(0.0, 1.0, n_s)[None, :]
        tt = t0[:, None] + frac * (t1 - t0)[:, None]
        p = _hermite(
            tt,
            t0[:, None],
            t1[:, None],
            states[k, None, :3],
            states[k, None, 3:],
            states[k + 1, None, :3],
            states[k + 1, None, 3:],
        )
        q = _hermite(
            tt,
            t0[:, None],
            t1[:, None],
            r[o, k][:, None],
            v[o, k][:, None],
            r[o, k + 1][:, None],
            v[o, k + 1][:, None],
        )
        d_min = np.min(np.linalg.norm(q - p, axis=2), axis=1)
        v_rel = np.maximum(
            np.linalg.norm(v[o, k] - states[k, 3:], axis=1),
            np.linalg.norm(v[o, k + 1] - states[k + 1, 3:], axis=1),
        )
        step = (t1 - t0) / (n_s - 1)
        reach = np.hypot(threshold_km, (v_rel + VREL_CHANGE_KMS) * step / 2) + HERMITE_MARGIN_KM
        keep[a : a + chunk] = d_min <= reach
    return keep


def _closest_in_interval(sat, t_s, jd0, fr0, states, r_obj, v_obj, k):
    """Return (tca_s, miss_km, speed_kms) of the closest approach in interval k, or None
    when the closest point is an end where the range still falls (not a minimum)."""
    t0, t1 = t_s[k], t_s[k + 1]

    def oem_at(t):  # the OEM position (Hermite between its states k and k + 1)
        ends = (states[k, :3], states[k, 3:], states[k + 1, :3], states[k + 1, 3:])
        return _hermite(np.atleast_1d(np.asarray(t, float)), t0, t1, *ends)

    ts = np.arange(t0, t1 + SAMPLE_S / 2, SAMPLE_S)
    p = oem_at(ts)
    q = _hermite(ts, t0, t1, r_obj[k], v_obj[k], r_obj[k + 1], v_obj[k + 1])
    j = int(np.argmin(np.linalg.norm(q - p, axis=1)))

    def distance(t):
        pt = oem_at(t)[0]
        days = fr0 + t / SECONDS_PER_DAY
        e, rr, vv = sat.sgp4(jd0, days)
        return float(np.linalg.norm(np.asarray(rr) - pt)), np.asarray(vv)

    from scipy.optimize import minimize_scalar

    lo, hi = ts[max(j - 1, 0)], ts[min(j + 1, len(ts) - 1)]
    res = minimize_scalar(
        lambda t: distance(t)[0], bounds=(lo, hi), method="bounded", options={"xatol": TCA_TOL_S}
    )
    tca = float(res.x)
    for end, e in ((t0, k), (t1, k + 1)):
        if abs(tca - end) <= TCA_TOL_S:
            # At an ephemeris epoch: a minimum only if the range rate is zero there
            # (else the minimum lies in the neighbour interval, which finds it).
            dr, dv = r_obj[e] - states[e, :3], v_obj[e] - states[e, 3:]
            cos = dr @ dv / max(np.linalg.norm(dr) * np.linalg.norm(dv), 1e-30)
            if abs(cos) > RANGE_RATE_COS_TOL:  # also at the span's ends, as screen()
                return None
    miss, v2 = distance(tca)
    # the OEM velocity at TCA from the Hermite derivative, by a central difference
    dt = 1e-3
    v1 = (oem_at(tca + dt)[0] - oem_at(tca - dt)[0]) / (2 * dt)
    return tca, miss, float(np.linalg.norm(v2 - v1))
