"""Orbit knowledge from orbit determination: covariance at TCA from tracking and lead time.

Model (per object, per axis c in R, T, N; lead L in days from the assessment
to TCA; ``I`` the information in the fit: quality-weighted tracks in the
trailing fit span)::

    var_c = m_c**2 * (1 + L)**(2 b_c) / I  +  (k * D_c(L))**2     (D_N = 0)

* Measurement term: independent tracks add information (inverse covariances
  add), so the variance goes as 1/I. A track of a sensor with per-track
  position noise sigma_s counts ``w_s = (REFERENCE_TRACK_SIGMA_M / sigma_s)**2``
  SSN-average tracks (``track_weight``): more passes or a better sensor never
  increase a sigma, and pooling observations adds their information.
* Density term (radial and in-track): the displacement from an unmodelled
  fractional drag error k (``drag_displacement_m``: a tangential acceleration
  error da = rho v**2 B / 2 shifts the in-track position by 3/2 da t**2 and
  the radius by 2 da t / n), with rho the exponential-atmosphere density at perigee
  (orbit-averaged for eccentric orbits), v the perigee speed, B = Cd A/m.
  It does not shrink with tracking: every participant gets the same.
* m_c, b_c and k are fitted (``fit``) by least squares in log sigma on the
  real NASA CARA CDMs (their TRACKS_USED, lead = TCA - CREATION_DATE,
  perigee/apogee from the COMMENT lines, CD_AREA_OVER_MASS); never on the
  CDMs' covariance-derived drag sensitivities. The fitted parameters live in
  ``scenarios/knowledge-fit.json`` (``ssa scenario calibrate --fit``), with
  the leave-one-CDM-out cross-validation error.

Limits (judgement): the CDMs are all LEO (perigee 376-850 km); the model is
extrapolated to higher orbits, where the density term vanishes. The time of
the last observation is not in the CDMs, so lead counts from the assessment.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssa.geometry import EARTH_RADIUS_KM, MU_KM3_S2, atmosphere
from ssa.geometry.atmosphere import BSTAR_RHO0_KG_M2_ER

SECONDS_PER_DAY = 86400.0
# SGP4's reference density in B* = (Cd A/m) rho0 / 2 (kg / m^2 / Earth radius).
BSTAR_RHO0 = BSTAR_RHO0_KG_M2_ER
# Cd A/m (m^2/kg) when B* is not positive: typical by type (judgement, from the
# CDMs: payloads 0.006-0.06, debris 0.1-1.3, rocket bodies 0.013-0.04).
DEFAULT_BALLISTIC_M2_KG = {"PAYLOAD": 0.02, "ROCKET BODY": 0.02, "DEBRIS": 0.2, "UNKNOWN": 0.1}
BALLISTIC_RANGE_M2_KG = (1e-3, 2.0)
# Per-track position noise (m) of the reference (SSN-average) sensor: a UHF
# phased array, 26 m range and 0.026 deg at 1000 km (Vallado SENSOR.DAT, V; C).
REFERENCE_TRACK_SIGMA_M = 455.0
TYPICAL_LEO_RANGE_KM = 1000.0
# Angles-only tracks: radial/range poorly observed (judgement).
OPTICAL_NOISE_FACTOR = 3.0
TRACK_WEIGHT_RANGE = (0.05, 20.0)
# Fewer (unweighted) tracks than this in the fit span: no orbit of one's own
# (a catalogue entry needs 3-4 uncorrelated tracks, MODEL-ANCHORS.md, V2).
MIN_TRACKS_FOR_OD = 3
# Largest lead exponent of the measurement term: (1 + L)**3 is already faster than
# the cubic growth of a velocity error (bound of the fit, judgement).
B_MAX = 3.0
# Floor of any fitted sigma (m): station location, timing, force-model noise (I).
SIGMA_FLOOR_M = 1.0

DEFAULT_FIT_PATH = Path(__file__).resolve().parents[2] / "scenarios" / "knowledge-fit.json"


def density_kg_m3(alt_km) -> np.ndarray:
    """Return the exponential-atmosphere density (kg/m^3) at altitudes (km); 0 above 2500 km."""
    h = np.asarray(alt_km, dtype=float)
    return np.where(h > 2500.0, 0.0, atmosphere.density_kg_m3(h))


def orbit_drag_density_kg_m3(perigee_km, apogee_km) -> np.ndarray:
    """Return the density weighting of drag over an orbit: rho(perigee) x exposure.

    Eccentric orbits feel drag only near perigee: the orbit average of
    exp(-(h - h_p)/H) is about 1/sqrt(2 pi a e / H) for a e >> H.
    """
    hp = np.asarray(perigee_km, dtype=float)
    ha = np.asarray(apogee_km, dtype=float)
    ae_km = 0.5 * np.maximum(ha - hp, 0.0)
    scale = atmosphere.scale_height_km(hp)
    x = ae_km / scale
    exposure = np.minimum(1.0, 1.0 / np.sqrt(np.maximum(2.0 * math.pi * x, 1e-12)))
    return density_kg_m3(hp) * exposure


def ballistic_from_bstar(bstar, object_type) -> np.ndarray:
    """Return Cd A/m (m^2/kg) from SGP4 B* (1/Earth radii); type default when B* <= 0."""
    bstar = np.asarray(bstar, dtype=float)
    types = np.asarray(object_type, dtype=object)
    default = np.array(
        [DEFAULT_BALLISTIC_M2_KG.get(t, DEFAULT_BALLISTIC_M2_KG["UNKNOWN"]) for t in types],
        dtype=float,
    )
    b = np.where(bstar > 0, 2.0 * bstar / BSTAR_RHO0, default)
    return np.clip(b, *BALLISTIC_RANGE_M2_KG)


def drag_displacement_m(lead_d, ballistic_m2_kg, perigee_km, apogee_km) -> np.ndarray:
    """Return (..., 2) radial and in-track displacement (m) for a 100 % drag error.

    A tangential acceleration error da moves the in-track position by
    3/2 da t**2 and the radius by 2 da t / n (n the mean motion), da = rho v**2 B / 2.
    """
    rho = orbit_drag_density_kg_m3(perigee_km, apogee_km)
    hp = np.asarray(perigee_km, dtype=float)
    r_m = (EARTH_RADIUS_KM + hp) * 1e3
    a_m = (EARTH_RADIUS_KM + 0.5 * (hp + np.asarray(apogee_km, dtype=float))) * 1e3
    n_rad_s = np.sqrt(MU_KM3_S2 * 1e9 / a_m**3)
    da = 0.5 * rho * (MU_KM3_S2 * 1e9 / r_m) * np.asarray(ballistic_m2_kg, dtype=float)
    t = np.asarray(lead_d, dtype=float) * SECONDS_PER_DAY
    return np.stack(np.broadcast_arrays(2.0 * da * t / n_rad_s, 1.5 * da * t**2), axis=-1)


def track_sigma_m(range_sigma_m, angle_sigma_deg, is_optical) -> np.ndarray:
    """Return per-track position noise (m) of sensors at a typical LEO range."""
    cross = np.radians(np.asarray(angle_sigma_deg, dtype=float)) * TYPICAL_LEO_RANGE_KM * 1e3
    radar = np.hypot(np.nan_to_num(np.asarray(range_sigma_m, dtype=float)), cross)
    return np.where(np.asarray(is_optical, dtype=bool), OPTICAL_NOISE_FACTOR * cross, radar)


def track_weight(range_sigma_m, angle_sigma_deg, is_optical) -> np.ndarray:
    """Return each sensor's information per track, in reference-sensor tracks."""
    s = np.maximum(track_sigma_m(range_sigma_m, angle_sigma_deg, is_optical), 1e-3)
    return np.clip((REFERENCE_TRACK_SIGMA_M / s) ** 2, *TRACK_WEIGHT_RANGE)


@dataclass(frozen=True)
class OdModel:
    """Fitted parameters of the knowledge model (see the module docstring)."""

    log_m: tuple[float, float, float] = (math.log(60.0), math.log(500.0), math.log(40.0))
    b: tuple[float, float, float] = (1.0, 1.0, 0.3)
    density_error: float = 0.1

    def measurement_var_m2(self, lead_d, info) -> np.ndarray:
        """Return (..., 3) measurement-term variances (m^2); info in reference tracks."""
        lead = np.asarray(lead_d, dtype=float)[..., None]
        m = np.exp(np.asarray(self.log_m))
        g = (m * (1.0 + np.maximum(lead, 0.0)) ** np.asarray(self.b)) ** 2
        info = np.asarray(info, dtype=float)[..., None]
        with np.errstate(divide="ignore"):
            return np.where(info > 0, g / np.maximum(info, 1e-300), np.inf)

    def density_var_m2(self, lead_d, ballistic_m2_kg, perigee_km, apogee_km) -> np.ndarray:
        """Return (..., 3) density-term variances (m^2): radial and in-track, the same for all."""
        d = self.density_error * drag_displacement_m(
            np.maximum(lead_d, 0.0), ballistic_m2_kg, perigee_km, apogee_km
        )
        return np.concatenate([d**2, np.zeros_like(d[..., :1])], axis=-1)

    def sigma_rtn_m(self, lead_d, info, ballistic_m2_kg, perigee_km, apogee_km) -> np.ndarray:
        """Return (..., 3) R, T, N 1-sigma (m) of an orbit with ``info`` tracks, at lead L."""
        var = self.measurement_var_m2(lead_d, info) + self.density_var_m2(
            lead_d, ballistic_m2_kg, perigee_km, apogee_km
        )
        return np.maximum(np.sqrt(var), SIGMA_FLOOR_M)

    def to_json(self) -> dict:
        return {"log_m": list(self.log_m), "b": list(self.b), "density_error": self.density_error}

    @classmethod
    def from_json(cls, data: dict) -> OdModel:
        p = data.get("params", data)
        return cls(
            tuple(float(x) for x in p["log_m"]),
            tuple(float(x) for x in p["b"]),
            float(p["density_error"]),
        )


def load_model(path: str | Path | None = None) -> OdModel:
    """Return the committed fit (``scenarios/knowledge-fit.json``), or defaults without one."""
    path = Path(path) if path else DEFAULT_FIT_PATH
    if not path.exists() and path == DEFAULT_FIT_PATH:
        # Installed from a wheel: the scenarios folder ships as package data.
        import importlib.resources

        path = Path(str(importlib.resources.files("ssa.scenarios") / DEFAULT_FIT_PATH.name))
    if not path.exists():
        return OdModel()
    return OdModel.from_json(json.loads(path.read_text()))


# ----------------------------------------------------------------------------- calibration


@dataclass
class CdmObject:
    """What a simulation has for one object of a CDM, and the CDM's sigmas."""

    file: str
    object: int
    norad_id: int
    name: str
    tracks_used: int
    obs_used: int
    od_span_d: float
    lead_d: float
    perigee_km: float
    apogee_km: float
    inclination_deg: float
    ballistic_m2_kg: float
    sigma_rtn_m_cdm: tuple[float, float, float]


def _comment_value(lines, label: str) -> float:
    for line in lines:
        m = re.search(rf"{label}\s*=\s*([-+0-9.eE]+)", line)
        if m:
            return float(m.group(1))
    raise ValueError(f"no COMMENT '{label} = ...'")


def read_cdm_objects(paths) -> list[CdmObject]:
    """Return one CdmObject per object of each CDM; raise InputFileError naming a bad file."""
    from ssa.cdm import CdmError, parse_epoch, read_cdm
    from ssa.errors import InputFileError

    out = []
    for path in paths:
        try:
            cdm = read_cdm(path)
        except CdmError as exc:
            raise InputFileError(path, None, str(exc)) from None
        lead = (cdm.tca - parse_epoch(str(cdm.header["CREATION_DATE"]))).total_seconds()
        for k, seg in enumerate(cdm.objects):
            try:
                lines = seg.comments.get("data", []) + seg.comments.get("metadata", [])
                cov = seg.covariance_rtn
                sig = np.sqrt(np.diag(cov)[:3])
                span = seg.get("ACTUAL_OD_SPAN")
                out.append(
                    CdmObject(
                        file=Path(path).name,
                        object=k + 1,
                        norad_id=int(str(seg.get("OBJECT_DESIGNATOR", "0")).strip() or 0),
                        name=str(seg.get("OBJECT_NAME", "")),
                        tracks_used=int(seg["TRACKS_USED"]),
                        obs_used=int(seg.get("OBS_USED", 0)),
                        od_span_d=float(span) if span is not None else float("nan"),
                        lead_d=lead / SECONDS_PER_DAY,
                        perigee_km=_comment_value(lines, "Perigee Altitude"),
                        apogee_km=_comment_value(lines, "Apogee Altitude"),
                        inclination_deg=_comment_value(lines, "Inclination"),
                        ballistic_m2_kg=float(seg["CD_AREA_OVER_MASS"]),
                        sigma_rtn_m_cdm=tuple(float(x) for x in sig),
                    )
                )
            except (KeyError, ValueError) as exc:
                raise InputFileError(path, None, f"object {k + 1}: {exc}") from None
    return out


def _arrays(objs):
    return (
        np.array([o.lead_d for o in objs]),
        np.array([o.tracks_used for o in objs], float),
        np.array([o.ballistic_m2_kg for o in objs]),
        np.array([o.perigee_km for o in objs]),
        np.array([o.apogee_km for o in objs]),
        np.log(np.array([o.sigma_rtn_m_cdm for o in objs])),
    )


def predict(model: OdModel, objs) -> np.ndarray:
    """Return (n, 3) model sigmas (m) from each object's tracking, lead, orbit and drag."""
    lead, tracks, bal, hp, ha, _ = _arrays(objs)
    return model.sigma_rtn_m(lead, tracks, bal, hp, ha)


def fit(objs) -> OdModel:
    """Return the least-squares fit (in log sigma, all three axes) to CDM objects."""
    from scipy.optimize import least_squares

    lead, tracks, bal, hp, ha, log_sig = _arrays(objs)

    def unpack(x):
        return OdModel(tuple(x[0:3]), tuple(x[3:6]), float(math.exp(x[6])))

    def resid(x):
        s = unpack(x).sigma_rtn_m(lead, tracks, bal, hp, ha)
        return (np.log(s) - log_sig).ravel()

    x0 = np.array([math.log(60.0), math.log(500.0), math.log(40.0), 1.0, 1.0, 0.3, math.log(0.1)])
    res = least_squares(
        resid,
        x0,
        bounds=(
            [-5, -5, -5, 0, 0, 0, math.log(1e-3)],
            [15, 15, 15, B_MAX, B_MAX, B_MAX, math.log(2.0)],
        ),
    )
    return unpack(res.x)


def cross_validate(objs) -> dict:
    """Return leave-one-CDM-out statistics: both objects of a CDM are left out together.

    ``rms_log10`` per axis (R, T, N): RMS of log10(model / CDM) predicted by a
    fit without that CDM; ``median_factor``: median of 10**|error|.
    """
    files = sorted({o.file for o in objs})
    err = np.empty((len(objs), 3))
    for f in files:
        train = [o for o in objs if o.file != f]
        test_idx = [i for i, o in enumerate(objs) if o.file == f]
        model = fit(train)
        pred = predict(model, [objs[i] for i in test_idx])
        err[test_idx] = np.log10(pred) - np.log10([objs[i].sigma_rtn_m_cdm for i in test_idx])
    axes = ("R", "T", "N")
    return {
        "cdms": len(files),
        "objects": len(objs),
        "rms_log10": {a: float(np.sqrt(np.mean(err[:, k] ** 2))) for k, a in enumerate(axes)},
        "median_factor": {a: float(np.median(10 ** np.abs(err[:, k]))) for k, a in enumerate(axes)},
        "p90_factor": {
            a: float(np.percentile(10 ** np.abs(err[:, k]), 90)) for k, a in enumerate(axes)
        },
        "bias_log10": {a: float(np.mean(err[:, k])) for k, a in enumerate(axes)},
    }


def in_sample(model: OdModel, objs) -> dict:
    """Return the in-sample RMS of log10(model / CDM) per axis (for comparison with CV)."""
    err = np.log10(predict(model, objs)) - np.log10([o.sigma_rtn_m_cdm for o in objs])
    return {a: float(np.sqrt(np.mean(err[:, k] ** 2))) for k, a in enumerate("RTN")}


def fit_report(paths) -> dict:
    """Return the fit, its in-sample and leave-one-CDM-out quality (the fit file's content)."""
    objs = read_cdm_objects(paths)
    model = fit(objs)
    return {
        "what": "ssa.scenario.od knowledge model fitted to real NASA CARA CDMs",
        "made_by": "ssa scenario calibrate --fit scenarios/knowledge-fit.json "
        "$SSA_DATA/cara-cdm/*.cdm",
        "cdm_files": sorted({o.file for o in objs}),
        "params": model.to_json(),
        "in_sample_rms_log10": in_sample(model, objs),
        "leave_one_cdm_out": cross_validate(objs),
    }


def calibration_rows(paths, model: OdModel | None = None) -> list[dict]:
    """Return per CDM object: the CDM's R/T/N sigma and the model's from its own tracking."""
    model = model or load_model()
    objs = read_cdm_objects(paths)
    pred = predict(model, objs)
    return [
        {
            "file": o.file,
            "object": o.object,
            "norad_id": o.norad_id,
            "name": o.name,
            "sigma_rtn_m_cdm": [round(x, 2) for x in o.sigma_rtn_m_cdm],
            "sigma_rtn_m_model": [round(float(x), 2) for x in p],
            "tracks_used": o.tracks_used,
            "od_span_d": o.od_span_d,
            "lead_d": round(o.lead_d, 3),
            "perigee_km": o.perigee_km,
            "apogee_km": o.apogee_km,
            "ballistic_m2_kg": o.ballistic_m2_kg,
        }
        for o, p in zip(objs, pred, strict=True)
    ]
