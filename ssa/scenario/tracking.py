"""When each sensor could observe each object: vectorised geometry over a time grid.

Model (one detection test per time step, per sensor, per object):

* radar: range within [min, max], elevation within [min, max], azimuth inside the
  field of regard, and the object large enough for the range. Size scales with
  the radar equation: received power goes as RCS / R^4 and RCS as diameter^2
  (optical scattering regime), so the smallest detectable diameter grows as
  ``ref_size_m * (R / ref_range_km)**2``.
* optical: the same geometric limits, the station in darkness (Sun below
  ``DARK_SUN_EL_DEG``), the object sunlit (outside a cylindrical Earth shadow),
  and brightness scaling as diameter^2 / R^2, so the limit grows linearly:
  ``ref_size_m * (R / ref_range_km)``.
* fence (``fan_az_deg`` set): a detection is a crossing of the vertical plane
  through the site along that azimuth between two consecutive steps; the
  limits are tested at the interpolated crossing point. A fence crossing lasts
  seconds, so sampling it as a field of regard at a 60 s step would miss it.

Objects are propagated with SGP4 (TEME) and turned Earth-fixed with
``ssa.geometry.teme_to_itrf`` (skyfield; polar motion, ~10 m, is ignored).
The Sun comes from skyfield with the JPL DE421 file bundled by skyfield-data
(offline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from ssa.geometry.timeutil import skyfield_time
from ssa.scenario.sensors import SensorTable, enu_basis, geodetic_to_ecef_km

EARTH_RADIUS_KM = 6378.137
# Nautical twilight: sky dark enough for survey telescopes (engineering judgement;
# astronomical -18 deg would shorten the usable night further).
DARK_SUN_EL_DEG = -12.0
# Exponent of range in the minimum detectable size: radar R^4 power law -> d ~ R^2;
# optical reflected flux ~ d^2 / R^2 -> d ~ R.
RADAR_SIZE_EXPONENT = 2.0
OPTICAL_SIZE_EXPONENT = 1.0
# Detections of one sensor closer than this belong to one pass (a track): a LEO
# pass lasts under 15 min; the next pass comes about one orbit (90+ min) later.
PASS_GAP_S = 1200.0
# Time steps propagated per chunk: bounds memory to chunk * objects * 24 bytes.
CHUNK_STEPS = 32

# Representative diameters (m) for the SATCAT RCS classes, from the class limits
# (SMALL < 0.1 m^2, MEDIUM 0.1-1 m^2, LARGE > 1 m^2) with RCS ~ pi d^2 / 4
# (engineering judgement: a geometric mean inside each class).
RCS_CLASS_DIAMETER_M = {"SMALL": 0.2, "MEDIUM": 0.6, "LARGE": 2.0}
# When the RCS class is unknown: typical sizes by object type (judgement).
TYPE_DIAMETER_M = {"PAYLOAD": 1.5, "ROCKET BODY": 3.0, "DEBRIS": 0.2, "UNKNOWN": 0.3}


def object_diameter_m(rcs_size, object_type) -> np.ndarray:
    """Return a representative diameter (m) per object from its RCS class, else its type."""
    rcs_size = np.asarray(rcs_size, dtype=object)
    object_type = np.asarray(object_type, dtype=object)
    out = np.array(
        [TYPE_DIAMETER_M.get(t, TYPE_DIAMETER_M["UNKNOWN"]) for t in object_type], dtype=np.float64
    )
    for cls, d in RCS_CLASS_DIAMETER_M.items():
        out[rcs_size == cls] = d
    # A float is a known diameter (m): simulated fragments (ssa.scenario.security_truth).
    size = np.array([isinstance(x, float) for x in rcs_size], dtype=bool)
    out[size] = rcs_size[size].astype(float)
    return out


def teme_to_itrf_rotation(jd, fr) -> np.ndarray:
    """Return (T, 3, 3) rotations M with r_itrf = M @ r_teme at UTC two-part JDs.

    Built by ``ssa.geometry.teme_to_itrf`` (skyfield) on the three unit vectors, so the
    whole catalog is rotated with one matrix per time step.
    """
    from ssa.geometry import teme_to_itrf

    jd = np.atleast_1d(np.asarray(jd, dtype=float))
    fr = np.atleast_1d(np.asarray(fr, dtype=float))
    eye = np.tile(np.eye(3), (len(jd), 1))
    cols, _ = teme_to_itrf(eye, None, np.repeat(jd, 3), np.repeat(fr, 3))
    return np.transpose(cols.reshape(len(jd), 3, 3), (0, 2, 1))


def teme_to_ecef(r_teme_km: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Rotate TEME positions (N, T, 3) to Earth-fixed with per-step rotations (T, 3, 3)."""
    return np.einsum("tij,ntj->nti", rotation, r_teme_km)


_SKY = {}


def sun_unit_ecef(jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
    """Return unit vectors (T, 3) from Earth's centre to the Sun, Earth-fixed (ITRS)."""
    import warnings

    from skyfield.api import Loader
    from skyfield.framelib import itrs

    if not _SKY:
        with warnings.catch_warnings():
            # skyfield-data warns that its Earth-orientation file is old; we use the
            # builtin timescale and only the DE421 ephemeris, which does not expire.
            warnings.simplefilter("ignore", RuntimeWarning)
            from skyfield_data import get_skyfield_data_path

            path = get_skyfield_data_path()
        load = Loader(path, verbose=False)
        _SKY["ts"] = load.timescale(builtin=True)
        _SKY["eph"] = load("de421.bsp")
    ts, eph = _SKY["ts"], _SKY["eph"]
    t = skyfield_time(ts, jd, fr)  # (ssa.geometry: leap seconds counted right)
    xyz = (eph["sun"] - eph["earth"]).at(t).frame_xyz(itrs).km.T
    return xyz / np.linalg.norm(xyz, axis=1)[:, None]


@njit(cache=True)
def _detect(
    t_s,
    pos,
    ok,
    sun,
    site,
    enu,
    sin_min_el,
    sin_max_el,
    min_r,
    max_r,
    az_lo,
    az_hi,
    az_all,
    fan_n,
    is_fan,
    optical,
    dark,
    avail,
    size_m,
    ref_size,
    ref_range,
    size_exp,
    last_seen,
    n_seen,
    bin_idx,
    passes,
    pass_gap_s,
):
    """Update last_seen[s, i] (s) and n_seen[s, i] with steps 1..T-1 of ``pos`` (T, N, 3).

    Step 0 is only the left end of the first fence-crossing interval. A detection
    more than ``pass_gap_s`` after the previous one (or the first) starts a pass,
    counted in ``passes[s, i, bin_idx[j]]``.
    """
    n_t = pos.shape[0]
    n_obj = pos.shape[1]
    n_sens = site.shape[0]
    re2 = EARTH_RADIUS_KM * EARTH_RADIUS_KM
    for j in range(1, n_t):
        for s in range(n_sens):
            if not avail[s, j]:
                continue
            if optical[s] and not dark[s, j]:
                continue
            sx, sy, sz = site[s, 0], site[s, 1], site[s, 2]
            rmax2 = max_r[s] * max_r[s]
            rmin2 = min_r[s] * min_r[s]
            for i in range(n_obj):
                if not ok[j, i]:
                    continue
                dx = pos[j, i, 0] - sx
                dy = pos[j, i, 1] - sy
                dz = pos[j, i, 2] - sz
                if is_fan[s]:
                    if not ok[j - 1, i]:
                        continue
                    px = pos[j - 1, i, 0] - sx
                    py = pos[j - 1, i, 1] - sy
                    pz = pos[j - 1, i, 2] - sz
                    f0 = px * fan_n[s, 0] + py * fan_n[s, 1] + pz * fan_n[s, 2]
                    f1 = dx * fan_n[s, 0] + dy * fan_n[s, 1] + dz * fan_n[s, 2]
                    if f0 * f1 > 0.0 or f0 == f1:
                        continue
                    a = f0 / (f0 - f1)
                    dx = px + a * (dx - px)
                    dy = py + a * (dy - py)
                    dz = pz + a * (dz - pz)
                r2 = dx * dx + dy * dy + dz * dz
                if r2 > rmax2 or r2 < rmin2:
                    continue
                r = math.sqrt(r2)
                up = dx * enu[s, 2, 0] + dy * enu[s, 2, 1] + dz * enu[s, 2, 2]
                sin_el = up / r
                if sin_el < sin_min_el[s] or sin_el > sin_max_el[s]:
                    continue
                if not az_all[s]:
                    east = dx * enu[s, 0, 0] + dy * enu[s, 0, 1] + dz * enu[s, 0, 2]
                    north = dx * enu[s, 1, 0] + dy * enu[s, 1, 1] + dz * enu[s, 1, 2]
                    az = math.degrees(math.atan2(east, north)) % 360.0
                    if az_lo[s] <= az_hi[s]:
                        if az < az_lo[s] or az > az_hi[s]:
                            continue
                    elif az < az_lo[s] and az > az_hi[s]:
                        continue
                if size_m[i] < ref_size[s] * (r / ref_range[s]) ** size_exp[s]:
                    continue
                if optical[s]:
                    # Cylindrical shadow: behind the Earth and within one radius of the axis.
                    ox, oy, oz = pos[j, i, 0], pos[j, i, 1], pos[j, i, 2]
                    along = ox * sun[j, 0] + oy * sun[j, 1] + oz * sun[j, 2]
                    if along < 0.0 and (ox * ox + oy * oy + oz * oz - along * along) < re2:
                        continue
                prev = last_seen[s, i]
                if not (t_s[j] - prev <= pass_gap_s):  # NaN (never seen) starts a pass too
                    passes[s, i, bin_idx[j]] += 1
                last_seen[s, i] = t_s[j]
                n_seen[s, i] += 1


@dataclass
class SensorGeometry:
    """Sensor constants in the contiguous float/bool arrays the kernel needs."""

    site_km: np.ndarray
    enu: np.ndarray
    sin_min_el: np.ndarray
    sin_max_el: np.ndarray
    min_range_km: np.ndarray
    max_range_km: np.ndarray
    az_lo_deg: np.ndarray
    az_hi_deg: np.ndarray
    az_all: np.ndarray
    fan_normal: np.ndarray
    is_fan: np.ndarray
    optical: np.ndarray
    ref_size_m: np.ndarray
    ref_range_km: np.ndarray
    size_exp: np.ndarray

    @classmethod
    def from_table(cls, sensors: SensorTable) -> SensorGeometry:
        enu = enu_basis(sensors.lat_deg, sensors.lon_deg)
        fan_az = np.radians(np.nan_to_num(sensors.fan_az_deg))
        # Horizontal normal of the fan plane (perpendicular to its azimuth), Earth-fixed.
        normal_enu = np.stack([np.cos(fan_az), -np.sin(fan_az), np.zeros_like(fan_az)], axis=-1)
        fan_normal = np.einsum("sk,skj->sj", normal_enu, enu)
        az_all = (sensors.az_max_deg - sensors.az_min_deg) >= 360.0
        optical = sensors.is_optical
        c = np.ascontiguousarray
        return cls(
            site_km=c(geodetic_to_ecef_km(sensors.lat_deg, sensors.lon_deg, sensors.alt_m)),
            enu=c(enu),
            sin_min_el=np.sin(np.radians(sensors.min_el_deg)),
            # A 90 deg limit must not reject the zenith by rounding (sin_el = 1 + 1e-16).
            sin_max_el=np.where(
                sensors.max_el_deg >= 90.0, 2.0, np.sin(np.radians(sensors.max_el_deg))
            ),
            min_range_km=c(sensors.min_range_km),
            max_range_km=c(sensors.max_range_km),
            az_lo_deg=c(sensors.az_min_deg % 360.0),
            az_hi_deg=c(sensors.az_max_deg % 360.0),
            az_all=c(az_all),
            fan_normal=c(fan_normal),
            is_fan=c(sensors.is_fan),
            optical=c(optical),
            ref_size_m=c(sensors.ref_size_m),
            ref_range_km=c(sensors.ref_range_km),
            size_exp=np.where(optical, OPTICAL_SIZE_EXPONENT, RADAR_SIZE_EXPONENT),
        )

    def station_dark(self, sun_unit: np.ndarray) -> np.ndarray:
        """Return (S, T) True where the Sun is below DARK_SUN_EL_DEG at the site."""
        sin_sun_el = np.einsum("sk,tk->st", self.enu[:, 2, :], sun_unit)
        return sin_sun_el < math.sin(math.radians(DARK_SUN_EL_DEG))


@dataclass
class TrackingResult:
    """Last detection per snapshot, sensor and object.

    ``last_seen_s[k, s, i]``: seconds since the run epoch of sensor s's latest
    detection of object i at or before ``snapshot_s[k]`` (NaN: never).
    ``detections[s, i]``: number of detecting time steps over the whole run.
    """

    snapshot_s: np.ndarray
    last_seen_s: np.ndarray
    detections: np.ndarray
    step_s: float
    t0_s: float
    t1_s: float
    passes: np.ndarray | None = None  # (S, N, bins) passes started per bin (bin_s given)
    bin_s: float | None = None


def detect_ecef(
    t_s,
    pos_ecef_km,
    sun_unit,
    geo: SensorGeometry,
    diameter_m,
    last_seen,
    n_seen,
    ok=None,
    available=None,
    bin_idx=None,
    passes=None,
) -> None:
    """Update ``last_seen`` (S, N) and ``n_seen`` with detections at steps 1..T-1.

    pos_ecef_km (T, N, 3) Earth-fixed object positions; sun_unit (T, 3) Earth-fixed
    unit vectors to the Sun; t_s (T,) step times. Step 0 only opens the first
    fence-crossing interval. ``ok`` (T, N) marks valid positions (default: finite),
    ``available`` (S, T) sensor up (default: always).
    """
    pos = np.ascontiguousarray(pos_ecef_km, dtype=np.float64)
    n_t = pos.shape[0]
    if ok is None:
        ok = np.all(np.isfinite(pos), axis=2)
    if available is None:
        available = np.ones((len(geo.site_km), n_t), dtype=bool)
    sun = np.ascontiguousarray(sun_unit, dtype=np.float64)
    if passes is None:
        passes = np.zeros((len(geo.site_km), pos.shape[1], 1), dtype=np.int32)
        bin_idx = np.zeros(n_t, dtype=np.int64)
    _detect(
        np.ascontiguousarray(t_s, dtype=np.float64),
        pos,
        np.ascontiguousarray(ok),
        sun,
        geo.site_km,
        geo.enu,
        geo.sin_min_el,
        geo.sin_max_el,
        geo.min_range_km,
        geo.max_range_km,
        geo.az_lo_deg,
        geo.az_hi_deg,
        geo.az_all,
        geo.fan_normal,
        geo.is_fan,
        geo.optical,
        np.ascontiguousarray(geo.station_dark(sun)),
        np.ascontiguousarray(available),
        np.ascontiguousarray(diameter_m, dtype=np.float64),
        geo.ref_size_m,
        geo.ref_range_km,
        geo.size_exp,
        last_seen,
        n_seen,
        np.ascontiguousarray(bin_idx, dtype=np.int64),
        passes,
        PASS_GAP_S,
    )


def track(
    satrecs,
    diameter_m,
    sensors: SensorTable,
    epoch_jd: float,
    epoch_fr: float,
    t0_s: float,
    t1_s: float,
    step_s: float,
    snapshot_s,
    outages=(),
    quiet: bool = True,
    bin_s: float | None = None,
) -> TrackingResult:
    """Return when each sensor last detected each object, at each snapshot time.

    ``satrecs``: sgp4 ``SatrecArray`` or list of Satrec (n objects);
    ``diameter_m`` (n,); times are seconds since (epoch_jd, epoch_fr) UTC, the
    grid runs t0_s..t1_s by step_s. ``outages``: (sensor_index, from_s, to_s)
    during which that sensor sees nothing. Snapshots outside the grid get the
    state at the nearest grid end. ``bin_s``: also count passes (tracks) per
    sensor, object and bin of that length from t0_s (``TrackingResult.passes``).
    """
    from sgp4.api import SatrecArray

    from ssa.progress import progress

    if step_s <= 0 or t1_s <= t0_s:
        raise ValueError(
            f"tracking grid needs step_s > 0 and t1_s > t0_s, got step_s={step_s},"
            f" t0_s={t0_s}, t1_s={t1_s}"
        )
    sat_array = satrecs if isinstance(satrecs, SatrecArray) else SatrecArray(list(satrecs))
    diameter_m = np.ascontiguousarray(diameter_m, dtype=np.float64)
    geo = SensorGeometry.from_table(sensors)
    n_sens = len(sensors)
    n_obj = len(diameter_m)
    times = np.arange(t0_s, t1_s + 0.5 * step_s, step_s)
    snapshot_s = np.atleast_1d(np.asarray(snapshot_s, dtype=np.float64))
    order = np.argsort(snapshot_s)
    last_seen = np.full((n_sens, n_obj), np.nan)
    n_seen = np.zeros((n_sens, n_obj), dtype=np.int64)
    out = np.full((len(snapshot_s), n_sens, n_obj), np.nan, dtype=np.float32)
    n_bins = max(1, int(math.ceil((times[-1] - t0_s) / bin_s))) if bin_s else 1
    passes = np.zeros((n_sens, n_obj, n_bins), dtype=np.int32)
    # Chunk boundaries: every CHUNK_STEPS steps and at every snapshot time.
    snap_idx = np.searchsorted(times, snapshot_s[order], side="right")  # steps <= snapshot
    bounds = sorted(set(range(0, len(times), CHUNK_STEPS)) | set(snap_idx.tolist()) | {len(times)})
    bounds = [b for b in bounds if 0 <= b <= len(times)]
    k_next = 0
    prev_pos = prev_ok = None
    for a, b in progress(
        list(zip(bounds[:-1], bounds[1:], strict=False)), desc="tracking", unit="chunk", quiet=quiet
    ):
        while k_next < len(order) and snap_idx[k_next] <= a:
            out[order[k_next]] = last_seen
            k_next += 1
        if b <= a:
            continue
        t_chunk = times[a:b]
        jd = np.full(len(t_chunk), epoch_jd)
        fr = epoch_fr + t_chunk / 86400.0
        err, r_teme, _ = sat_array.sgp4(jd, fr)
        pos = teme_to_ecef(r_teme, teme_to_itrf_rotation(jd, fr))  # (N, T, 3)
        pos = np.ascontiguousarray(np.transpose(pos, (1, 0, 2)))
        ok = np.ascontiguousarray((err == 0).T & np.isfinite(pos[..., 0]))
        sun = sun_unit_ecef(jd, fr)
        avail = np.ones((n_sens, len(t_chunk)), dtype=bool)
        for s_idx, f_s, to_s in outages:
            avail[s_idx, (t_chunk >= f_s) & (t_chunk <= to_s)] = False
        if prev_pos is None:  # first chunk: a dummy left end, no fence crossing before it
            prev_pos = np.full((1, n_obj, 3), np.nan)
            prev_ok = np.zeros((1, n_obj), dtype=bool)
        bins = (
            np.clip(((t_chunk - t0_s) // bin_s).astype(np.int64), 0, n_bins - 1)
            if bin_s
            else np.zeros(len(t_chunk), dtype=np.int64)
        )
        detect_ecef(
            np.concatenate([[np.nan], t_chunk]),
            np.concatenate([prev_pos, pos]),
            np.concatenate([sun[:1], sun]),
            geo,
            diameter_m,
            last_seen,
            n_seen,
            ok=np.concatenate([prev_ok, ok]),
            available=np.concatenate([avail[:, :1], avail], axis=1),
            bin_idx=np.concatenate([[0], bins]),
            passes=passes,
        )
        prev_pos, prev_ok = pos[-1:], ok[-1:]
    while k_next < len(order):
        out[order[k_next]] = last_seen
        k_next += 1
    return TrackingResult(
        snapshot_s=snapshot_s,
        last_seen_s=out,
        detections=n_seen,
        step_s=float(step_s),
        t0_s=float(t0_s),
        t1_s=float(times[-1]),
        passes=passes if bin_s else None,
        bin_s=bin_s,
    )
