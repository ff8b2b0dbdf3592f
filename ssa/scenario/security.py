"""Security events of a scenario: what each member sees of a breakup and of an unannounced
manoeuvre, alone and inside the grouping.

Participants: every member, with its own sensors (alone) or with the sensors of every
member that shares (``observations`` or ``alerts``) when it shares itself (grouping);
"public" has no sensors (the public catalogue only).

**Breakup** (``kind = "breakup"``): the fragments (``ssa.breakup``, seeded by the
scenario seed) are tracked by every sensor (``ssa.scenario.tracking.track``: range,
field of regard, size limit at range, darkness/sunlight for optical, fence crossings)
from the event over the window. A participant has *detected* a fragment once a usable
sensor saw it; it *maintains* it at time t when usable sensors have given at least
``INIT_TRACKS`` tracks (passes) since the event and the last one is at most
``MAINTAIN_GAP_H`` old (the predicted error must stay inside a correlation gate;
MODEL-ANCHORS: 3-4 tracks to start an entry). Tracking sensors spend their whole
daily budget (``capacity_per_day``) on fragments, first-seen first (judgement: right
after a breakup near their members' satellites they would). Close approaches of
members' protected satellites with fragments within the screening threshold are
counted as known (maintained at TCA) or unknown, alone and in the grouping.

**Manoeuvre** (``kind = "manoeuvre"``): the object's element set after the burn is fitted
to its state plus delta-v (``ssa.breakup.fit``); with ``towards`` the burn is the
fuel-optimal one (``solve_towards``: Lambert transfers over a grid of times of flight up to
``transfer_h``, least departure + arrival delta-v, refined with SGP4 as the model) so the
object passes ``miss_km`` above the target. Delta-v above ``MAX_MANOEUVRE_DV_MS`` is
refused. A participant detects the manoeuvre at the first
track by a usable sensor where the object's position has left the prediction of its
pre-manoeuvre orbit by ``DETECT_SIGMA`` (Mahalanobis in RTN, with the public catalogue's
TLE sigma at that age: the same prior for everyone, so pooling only adds tracks and can
never delay detection). The public catalogue's own baseline is its first re-issued
element set after the burn (``ssa.scenario.knowledge``'s re-issue cycle and delay).
Everyone also reads the public catalogue, which catalogues fragments >= 10 cm with the
delay of ``ssa.breakup.cataloguing``.
Warning = TCA with the target - detection time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

INIT_TRACKS = 3  # tracks to start a catalogue entry (MODEL-ANCHORS: 3-4)
MAINTAIN_GAP_H = 24.0  # a track at least this often keeps the entry (judgement)
DETECT_SIGMA = 3.0  # manoeuvre detected when the track leaves the 3-sigma prediction
PASS_BIN_S = 3600.0  # breakup passes counted per hour
MANOEUVRE_BIN_S = 120.0  # manoeuvre: track times resolved to 2 min
SNAPSHOT_DAYS = (1.0, 3.0, 7.0)
SECONDS_PER_DAY = 86400.0


def sensor_sets(sc) -> dict:
    """Return {participant: (alone sensor indices, grouping sensor indices)} incl. 'public'."""
    ids = {s: i for i, s in enumerate(sc.sensors.id.tolist())}
    sharing = [m for m in sc.members if m.sharing != "none"]
    pooled = sorted({ids[s] for m in sharing for s in m.sensors})
    out = {}
    for m in sc.members:
        own = sorted(ids[s] for s in m.sensors)
        out[m.name] = (
            np.array(own, dtype=np.int64),
            np.array(pooled if m.sharing != "none" else own, dtype=np.int64),
        )
    out["public"] = (np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    return out


def _outages(sc, t0: dt.datetime) -> list:
    out = []
    for e in sc.events:
        if e.kind == "outage":
            out.append(
                (
                    sc.sensors.index(e.sensor),
                    (e.start - t0).total_seconds(),
                    (e.end - t0).total_seconds(),
                )
            )
    return out


def budgeted_passes(passes: np.ndarray, capacity_per_day, bin_s: float) -> np.ndarray:
    """Return passes (S, N, B) with each capacity-limited sensor's tracks cut to its daily
    budget, objects taken in order of their first track that day (then index)."""
    out = passes.copy()
    per_day = max(1, int(round(SECONDS_PER_DAY / bin_s)))
    for s, cap in enumerate(np.asarray(capacity_per_day, float)):
        if not np.isfinite(cap):
            continue
        for d0 in range(0, out.shape[2], per_day):
            day = out[s, :, d0 : d0 + per_day]
            tracks = day.sum(axis=1)
            seen = np.flatnonzero(tracks > 0)
            first = np.array([np.argmax(day[i] > 0) for i in seen])
            order = seen[np.lexsort((seen, first))] if seen.size else seen
            # keep whole objects while the day's track count fits the budget
            keep = order[np.cumsum(tracks[order]) <= cap]
            drop = np.setdiff1d(seen, keep)
            day[drop] = 0
    return out


def maintained(passes_cum: np.ndarray, last_bin: np.ndarray, b: int, bin_s: float) -> np.ndarray:
    """Return (N,) maintained at the end of bin ``b``: >= INIT_TRACKS tracks so far and the
    last within MAINTAIN_GAP_H. ``passes_cum`` (N, B) cumulative tracks of a participant,
    ``last_bin`` (N, B) index of the latest bin with a track (-1: none)."""
    gap_bins = MAINTAIN_GAP_H * 3600.0 / bin_s
    return (
        (passes_cum[:, b] >= INIT_TRACKS) & (last_bin[:, b] >= 0) & (b - last_bin[:, b] < gap_bins)
    )


def _participant_tracks(passes: np.ndarray, sensors: np.ndarray):
    """Return (cumulative tracks (N, B), latest bin with a track (N, B)) over ``sensors``."""
    tracks = passes[sensors].sum(axis=0) if sensors.size else np.zeros(passes.shape[1:], int)
    cum = np.cumsum(tracks, axis=1)
    idx = np.where(tracks > 0, np.arange(tracks.shape[1])[None, :], -1)
    return cum, np.maximum.accumulate(idx, axis=1)


def event_breakup(sc, catalog, event):
    """Return the ``ssa.breakup.event.BreakupResult`` of a scenario's breakup event."""
    from ssa.breakup.event import breakup, load_cara_masses
    from ssa.geometry.timeutil import datetime_to_jd
    from ssa.scenario.config import resolve_data_path

    p = event.params
    masses = load_cara_masses(resolve_data_path(sc.hbr, sc.path)) if sc.hbr else {}
    jd, fr = datetime_to_jd(event.start)
    return breakup(
        catalog,
        p["parent"],
        jd,
        fr,
        p["mode"],
        parent_mass_kg=p["parent_mass_kg"],
        impactor_id=p["impactor"],
        impactor_mass_kg=p["impactor_mass_kg"],
        impact_speed_km_s=p["impact_speed_km_s"],
        lc_min_m=p["min_size_m"],
        seed=sc.seed,
        masses=masses,
    )


def breakup_effect(sc, catalog, event, protected, quiet: bool = True, result=None) -> dict:
    """Return per-participant fragment detection/maintenance and close approaches.

    ``result``: the event's BreakupResult when already made (``event_breakup``)."""
    from ssa.breakup.cataloguing import public_delay_days
    from ssa.geometry.timeutil import datetime_to_jd
    from ssa.population.generate import concat_catalogs
    from ssa.scenario.tracking import track
    from ssa.scenario.truth import screen_truth

    p = event.params
    jd, fr = datetime_to_jd(event.start)
    res = result if result is not None else event_breakup(sc, catalog, event)
    frag = res.fragments
    size = res.cloud.lc_m[res.orbiting]
    end = sc.start + dt.timedelta(days=sc.days)
    days = max((end - event.start).total_seconds() / SECONDS_PER_DAY, PASS_BIN_S / SECONDS_PER_DAY)
    snaps = [d for d in SNAPSHOT_DAYS if d <= days + 1e-9] or [days]
    tr = track(
        frag.satrecs,
        size,
        sc.sensors,
        jd,
        fr,
        0.0,
        days * SECONDS_PER_DAY,
        sc.coverage_step_s,
        [d * SECONDS_PER_DAY for d in snaps],
        outages=_outages(sc, event.start),
        quiet=quiet,
        bin_s=PASS_BIN_S,
    )
    passes = budgeted_passes(tr.passes, sc.sensors.capacity_per_day, PASS_BIN_S)
    n_bins = passes.shape[2]

    # Close approaches: protected satellites against the fragments over the rest of the window.
    prot = catalog.subset(np.flatnonzero(protected >= 0))
    owner_member = protected[protected >= 0]
    rows = {}
    if len(prot) and len(frag):
        both = concat_catalogs(prot, frag)
        rows = screen_truth(both, event.start, days, sc.threshold_km, prot.norad_id, quiet=quiet)
    ids1 = np.asarray(rows.get("NORAD_CAT_ID_1", []), dtype=np.int64)
    ids2 = np.asarray(rows.get("NORAD_CAT_ID_2", []), dtype=np.int64)
    tca = (
        (np.asarray(rows.get("TCA_JD", []), float) - jd)
        + (np.asarray(rows.get("TCA_FR", []), float) - fr)
    ) * SECONDS_PER_DAY
    frag_index = {int(n): k for k, n in enumerate(frag.norad_id.tolist())}
    prot_index = {int(n): k for k, n in enumerate(prot.norad_id.tolist())}
    pairs = []  # (member index, fragment index, tca bin)
    for a, b, t in zip(ids1.tolist(), ids2.tolist(), tca.tolist(), strict=True):
        sat, deb = (a, b) if a in prot_index else (b, a)
        if sat in prot_index and deb in frag_index:
            pairs.append(
                (
                    int(owner_member[prot_index[sat]]),
                    frag_index[deb],
                    min(int(t // PASS_BIN_S), n_bins - 1),
                )
            )
    out = {
        "parent": int(p["parent"]),
        "time_utc": event.start.isoformat(),
        "mode": p["mode"],
        "fragments": int(len(frag)),
        "fragments_10cm": int(np.count_nonzero(size >= 0.1)),
        "min_size_m": p["min_size_m"],
        "mass_budget": _plain(res.mass_budget()),
        "snapshots_days": snaps,
        "participants": {},
    }
    # Everyone also reads the public catalogue, which catalogues fragments >= 10 cm
    # days to weeks later (ssa.breakup.cataloguing).
    public_bin = public_delay_days(size) * SECONDS_PER_DAY / PASS_BIN_S
    out["public_catalogued"] = [
        int(np.sum(public_bin <= d * SECONDS_PER_DAY / PASS_BIN_S)) for d in snaps
    ]
    names = [m.name for m in sc.members]
    for name, (alone, group) in sensor_sets(sc).items():
        entry = {}
        for label, sens in (("alone", alone), ("grouping", group)):
            cum, last = _participant_tracks(passes, sens)
            det, mnt = [], []
            for d in snaps:
                b = min(int(round(d * SECONDS_PER_DAY / PASS_BIN_S)) - 1, n_bins - 1)
                public = public_bin <= b + 1
                det.append(int(np.sum((cum[:, b] > 0) | public)))
                mnt.append(int(np.sum(maintained(cum, last, b, PASS_BIN_S) | public)))
            mine = [(f, b) for m, f, b in pairs if name in names and m == names.index(name)]
            known = sum(
                bool(maintained(cum[[f]], last[[f]], b, PASS_BIN_S)[0] or public_bin[f] <= b + 1)
                for f, b in mine
            )
            entry[label] = {
                "detected": det,
                "maintained": mnt,
                "close_approaches": len(mine),
                "known": int(known),
                "unknown": len(mine) - int(known),
            }
        out["participants"][name] = entry
    return out


def _plain(d: dict) -> dict:
    return {
        k: (
            float(v)
            if isinstance(v, (np.floating, float))
            else int(v)
            if isinstance(v, (np.integer,))
            else v
        )
        for k, v in d.items()
    }


# ----------------------------------------------------------------------------- manoeuvres


# Largest delta-v a scenario manoeuvre may use (m/s, judgement): above the whole
# propellant budget of the small inspector/servicing satellites such scenarios model
# (GEO station keeping needs ~50 m/s a year; a LEO plane change of 1 deg costs ~130 m/s).
MAX_MANOEUVRE_DV_MS = 500.0
# "towards": times of flight tried (step) and the shortest one (s).
TRANSFER_GRID_S = 900.0
MIN_TRANSFER_S = 3600.0


def check_dv_ms(dv_ms: float, what: str) -> float:
    """Return ``dv_ms`` or raise ValueError when it exceeds MAX_MANOEUVRE_DV_MS."""
    if not dv_ms <= MAX_MANOEUVRE_DV_MS:
        raise ValueError(
            f"{what}: delta-v {dv_ms:.1f} m/s exceeds the allowed {MAX_MANOEUVRE_DV_MS:g} m/s "
            "(MAX_MANOEUVRE_DV_MS)"
        )
    return dv_ms


def solve_towards(sat, target, jd, fr, transfer_h: float, miss_km: float):
    """Return (dv TEME km/s (3,), post-burn Satrec, time of flight s, arrival dv km/s) for
    ``sat`` to pass ``miss_km`` radially above ``target`` at most ``transfer_h`` after (jd, fr).

    Fuel-optimal: two-body Lambert transfers (``security_lambert.best_transfer``, 0-3
    revolutions, both ways) to the aim point over times of flight every TRANSFER_GRID_S
    from MIN_TRANSFER_S to ``transfer_h``, least total delta-v (departure + matching the
    target's velocity on arrival, as an inspector that stays would); then the departure
    burn is refined with SGP4 as the model (scipy least squares from the Lambert burn) so
    the SGP4 orbit passes the aim point at that time of flight."""
    from scipy.optimize import least_squares

    from ssa.breakup.fit import fit_states
    from ssa.scenario.security_lambert import best_transfer

    err, r0, v0 = sat.sgp4(jd, fr)
    if err:
        raise ValueError(f"object cannot be propagated to the manoeuvre time (sgp4 error {err})")
    r0, v0 = np.array(r0), np.array(v0)

    def aim_state(t_s):
        e2, rt, vt = target.sgp4(jd, fr + t_s / SECONDS_PER_DAY)
        if e2:
            raise ValueError(f"target cannot be propagated to the approach (sgp4 error {e2})")
        rt = np.array(rt)
        return rt + miss_km * rt / np.linalg.norm(rt), np.array(vt)

    times = np.arange(MIN_TRANSFER_S, transfer_h * 3600.0 + 1e-6, TRANSFER_GRID_S)
    if not times.size:
        times = np.array([transfer_h * 3600.0])
    best = best_transfer(r0, v0, aim_state, times)
    if best is None:
        raise ValueError("no Lambert transfer reaches the target within transfer_h")
    tof = best["tof_s"]
    aim, _ = aim_state(tof)
    t_ca = fr + tof / SECONDS_PER_DAY

    def miss(dv_ms):
        f = fit_states(r0, v0 + dv_ms * 1e-3, jd, fr, bstar=sat.bstar)
        if not f.ok[0]:
            return np.full(3, 1e6)
        _, r, _ = f.satrecs[0].sgp4(jd, t_ca)
        return np.array(r) - aim

    sol = least_squares(miss, best["dv1"] * 1e3, x_scale=1.0, diff_step=1e-6, xtol=1e-10)
    dv = sol.x * 1e-3
    fit = fit_states(r0, v0 + dv, jd, fr, bstar=sat.bstar)
    return dv, fit.satrecs[0], tof, best["dv2"]


def detection_time_s(t_tracks_s: np.ndarray, deviation_sigma: np.ndarray) -> float | None:
    """Return the first track time (s) whose deviation exceeds DETECT_SIGMA, or None."""
    hit = np.flatnonzero(deviation_sigma > DETECT_SIGMA)
    return float(t_tracks_s[hit[0]]) if hit.size else None


def manoeuvre_effect(sc, catalog, event, quiet: bool = True, return_orbit: bool = False):
    """Return per-participant manoeuvre detection time and warning before the approach
    (and, with ``return_orbit``, also the post-burn Satrec: (effect, satrec))."""
    from sgp4.api import SatrecArray

    from ssa.breakup.event import closest_approach
    from ssa.breakup.fit import fit_states
    from ssa.geometry import rtn_basis
    from ssa.geometry.timeutil import datetime_to_jd
    from ssa.scenario.knowledge import (
        PUBLIC_DELAY_D,
        public_sigma_m,
        reissue_interval_d,
        reissue_phase_d,
    )
    from ssa.scenario.tracking import object_diameter_m, track

    p = event.params
    i = (
        int(np.flatnonzero(catalog.norad_id == p["object"])[0])
        if np.any(catalog.norad_id == p["object"])
        else None
    )
    if i is None:
        raise ValueError(f"{sc.path}: manoeuvre object {p['object']} is not in the catalogue")
    sat = catalog.satrecs[i]
    jd, fr = datetime_to_jd(event.start)
    err, r0, v0 = sat.sgp4(jd, fr)
    if err:
        raise ValueError(
            f"{sc.path}: manoeuvre object {p['object']} cannot be propagated to "
            f"{event.start.isoformat()} (sgp4 error {err}: decayed?)"
        )
    r0, v0 = np.array(r0), np.array(v0)
    target = tca_s = miss_km = None
    if p.get("towards"):
        j = np.flatnonzero(catalog.norad_id == p["towards"])
        if not j.size:
            raise ValueError(f"{sc.path}: manoeuvre target {p['towards']} is not in the catalogue")
        target = catalog.satrecs[int(j[0])]
        dv, new, tof_s, dv_arrival = solve_towards(
            sat, target, jd, fr, p["transfer_h"], p["miss_km"]
        )
        check_dv_ms(float(np.linalg.norm(dv) * 1e3), f"{sc.path}: manoeuvre of {p['object']}")
        fr_ca, miss_km = closest_approach(
            new, target, jd, fr + tof_s / SECONDS_PER_DAY, window_min=60.0
        )
        tca_s = (fr_ca - fr) * SECONDS_PER_DAY
    else:
        basis = rtn_basis(r0[None], v0[None])[0]  # rows R, T, N
        dv = basis.T @ (np.array(p["dv_rtn_ms"]) * 1e-3)
        check_dv_ms(float(np.linalg.norm(dv) * 1e3), f"{sc.path}: manoeuvre of {p['object']}")
        new = fit_states(r0, v0 + dv, jd, fr, bstar=sat.bstar).satrecs[0]
        dv_arrival = None
    end = sc.start + dt.timedelta(days=sc.days)
    horizon_s = max((end - event.start).total_seconds(), 3600.0)
    if tca_s is not None:
        horizon_s = max(horizon_s, tca_s + 3600.0)
    times = np.arange(0.0, horizon_s + MANOEUVRE_BIN_S, MANOEUVRE_BIN_S)
    _, r_new, _ = SatrecArray([new]).sgp4(np.full(times.size, jd), fr + times / SECONDS_PER_DAY)
    _, r_old, v_old = SatrecArray([sat]).sgp4(np.full(times.size, jd), fr + times / SECONDS_PER_DAY)
    d_rtn = np.einsum("tij,tj->ti", rtn_basis(r_old[0], v_old[0]), (r_new[0] - r_old[0]) * 1e3)
    interval = reissue_interval_d(catalog)[i]
    phase = reissue_phase_d(catalog.norad_id[i : i + 1], interval)[0]
    t_event_s = (jd - catalog.epoch_jd[i] + fr - catalog.epoch_fr[i]) * SECONDS_PER_DAY
    age0_d = float(np.clip(t_event_s / SECONDS_PER_DAY, 0.0, None))
    sigma = public_sigma_m(
        times / SECONDS_PER_DAY,
        np.full(times.size, age0_d),
        catalog.perigee_km[i],
        catalog.apogee_km[i],
        catalog.object_type[i],
    )
    dev_sigma = np.sqrt(np.sum((d_rtn / sigma) ** 2, axis=1))
    diameter = object_diameter_m(catalog.rcs_size[i : i + 1], catalog.object_type[i : i + 1])
    tr = track(
        [new],
        diameter,
        sc.sensors,
        jd,
        fr,
        0.0,
        float(times[-1]),
        sc.step_s,
        [0.0],
        outages=_outages(sc, event.start),
        quiet=quiet,
        bin_s=MANOEUVRE_BIN_S,
    )
    passes = tr.passes[:, 0, :]  # (S, bins)
    n = min(passes.shape[1], times.size)
    out = {
        "object": int(p["object"]),
        "name": str(catalog.name[i]),
        "time_utc": event.start.isoformat(),
        "dv_ms": float(np.linalg.norm(dv) * 1e3),
        "arrival_dv_ms": None if dv_arrival is None else float(np.linalg.norm(dv_arrival) * 1e3),
        "target": int(p["towards"]) if p.get("towards") else None,
        "approach_h": None if tca_s is None else tca_s / 3600.0,
        "miss_km": miss_km,
        "detect_sigma": DETECT_SIGMA,
        "participants": {},
    }
    # Public baseline: the first element set re-issued after the burn (published late).
    t_pub = []
    k = 0
    first = (phase - (t_event_s / SECONDS_PER_DAY - PUBLIC_DELAY_D)) % interval
    while True:
        t = (first + k * interval + PUBLIC_DELAY_D) * SECONDS_PER_DAY
        if t > times[-1]:
            break
        t_pub.append(t)
        k += 1
    t_pub = np.array(t_pub)
    pub_dev = np.interp(t_pub, times, dev_sigma) if t_pub.size else t_pub
    out["public_detection_h"] = _hours(detection_time_s(t_pub, pub_dev))
    for name, (alone, group) in sensor_sets(sc).items():
        entry = {}
        for label, sens in (("alone", alone), ("grouping", group)):
            tracked = passes[sens, :n].sum(axis=0) > 0 if sens.size else np.zeros(n, bool)
            t_det = detection_time_s(times[:n][tracked], dev_sigma[:n][tracked])
            entry[label] = {
                "detection_h": _hours(t_det),
                "warning_h": None
                if (t_det is None or tca_s is None or t_det > tca_s)
                else (tca_s - t_det) / 3600.0,
                "tracks": int(tracked.sum()),
            }
        out["participants"][name] = entry
    return (out, new) if return_orbit else out


def _hours(t_s):
    return None if t_s is None else float(t_s) / 3600.0


def run_security(sc, catalog=None, quiet: bool = True) -> dict:
    """Return the effects of every breakup and manoeuvre event of scenario ``sc``."""
    from ssa.scenario.truth import load_catalog, protected_by

    catalog = load_catalog(sc) if catalog is None else catalog
    protected = protected_by(sc, catalog)
    out = {
        "scenario": sc.name,
        "seed": sc.seed,
        "breakups": [],
        "manoeuvres": [],
        "small_debris": [],
    }
    for e in sc.events:
        if e.kind == "breakup":
            out["breakups"].append(breakup_effect(sc, catalog, e, protected, quiet))
        elif e.kind == "manoeuvre":
            out["manoeuvres"].append(manoeuvre_effect(sc, catalog, e, quiet))
        elif e.kind == "small_debris":
            out["small_debris"].append(exposure_effect(sc, catalog, e, protected, quiet))
    return out


# ----------------------------------------------------------------------------- small debris

EXPOSURE_THRESHOLD_KM = 2.0  # sample screening distance (rates scale as area)
DAYS_PER_YEAR = 365.25


def exposure_effect(sc, catalog, event, protected, quiet: bool = True) -> dict:
    """Return per-member exposure to small debris it cannot see, alone and in the grouping.

    A weighted sample of the 1-10 cm population (``ssa.population.generate``, LEO) is
    screened against the members' protected LEO satellites over ``exposure_days``
    (threshold EXPOSURE_THRESHOLD_KM); every sample conjunction stands for ``weight``
    real ones. A participant sees a sample object when its usable sensors track it at
    least INIT_TRACKS times in that span (size limit at range, as the tracking stage).
    Per protected satellite and year: expected conjunctions (within the threshold) with
    unseen objects, and the accumulated collision probability, each conjunction counted
    as (HBR_sat + d/2)^2 / threshold^2 (flux through the hard-body disc: misses are
    uniform over the screening disc). Relative statistical error: 1/sqrt(conjunctions in
    the sample)."""
    from ssa.geometry.timeutil import datetime_to_jd
    from ssa.population.generate import concat_catalogs, generate_population
    from ssa.risk.hbr import HardBodyRadius
    from ssa.scenario.config import resolve_data_path
    from ssa.scenario.tracking import track
    from ssa.scenario.truth import screen_truth

    p = event.params
    jd, fr = datetime_to_jd(event.start)
    pop = generate_population(
        catalog,
        p["sample"],
        (0.01, 0.1),
        seed=sc.seed,
        include_base=False,
        regimes=("LEO",),
        epoch=(jd, fr),
        block="wide",
        survive_days=p["exposure_days"],
    )
    sample = pop.catalog
    weight = float(pop.weight[0])
    span_s = p["exposure_days"] * SECONDS_PER_DAY
    tr = track(
        sample.satrecs,
        pop.diameter_m,
        sc.sensors,
        jd,
        fr,
        0.0,
        span_s,
        sc.coverage_step_s,
        [span_s],
        outages=_outages(sc, event.start),
        quiet=quiet,
        bin_s=span_s,
    )
    passes = budgeted_passes(tr.passes, sc.sensors.capacity_per_day, span_s)[:, :, 0]
    leo = catalog.regime == "LEO"
    prot_idx = np.flatnonzero((protected >= 0) & leo)
    prot = catalog.subset(prot_idx)
    hbr = (
        HardBodyRadius.from_cara_csv(resolve_data_path(sc.hbr, sc.path))
        if sc.hbr
        else HardBodyRadius()
    )
    sat_r = hbr.radius_m(prot.norad_id, prot.object_type, prot.rcs_size)
    rows = (
        screen_truth(
            concat_catalogs(prot, sample),
            event.start,
            p["exposure_days"],
            EXPOSURE_THRESHOLD_KM,
            prot.norad_id,
            quiet=quiet,
        )
        if len(prot)
        else {}
    )
    pidx = {int(n): k for k, n in enumerate(prot.norad_id.tolist())}
    sidx = {int(n): k for k, n in enumerate(sample.norad_id.tolist())}
    conj = [
        (pidx[a], sidx[b]) if a in pidx else (pidx[b], sidx[a])
        for a, b in zip(
            np.asarray(rows.get("NORAD_CAT_ID_1", []), np.int64).tolist(),
            np.asarray(rows.get("NORAD_CAT_ID_2", []), np.int64).tolist(),
            strict=True,
        )
        if (a in pidx and b in sidx) or (b in pidx and a in sidx)
    ]
    scale = weight * DAYS_PER_YEAR / p["exposure_days"]
    owner = protected[prot_idx]
    out = {
        "time_utc": event.start.isoformat(),
        "sample": int(len(sample)),
        "weight": weight,
        "exposure_days": p["exposure_days"],
        "threshold_km": EXPOSURE_THRESHOLD_KM,
        "sample_conjunctions": len(conj),
        "participants": {},
    }
    for m, member in enumerate(sc.members):
        mine = [(s, o) for s, o in conj if owner[s] == m]
        n_sats = int(np.count_nonzero(owner == m))
        alone, group = sensor_sets(sc)[member.name]
        entry = {"protected_leo": n_sats, "sample_conjunctions": len(mine)}
        for label, sens in (("alone", alone), ("grouping", group)):
            seen = (
                (passes[sens].sum(axis=0) >= INIT_TRACKS)
                if sens.size
                else np.zeros(len(sample), bool)
            )
            unseen = [(s, o) for s, o in mine if not seen[o]]
            pc = sum(
                ((sat_r[s] + pop.diameter_m[o] / 2) / (EXPOSURE_THRESHOLD_KM * 1e3)) ** 2
                for s, o in unseen
            )
            per_sat = scale / n_sats if n_sats else float("nan")
            entry[label] = {
                "sample_objects_seen": int(seen.sum()),
                "unseen_conjunctions_per_sat_year": len(unseen) * per_sat,
                "unseen_pc_per_sat_year": pc * per_sat,
                "relative_error": 1 / np.sqrt(len(unseen)) if unseen else None,
            }
        out["participants"][member.name] = entry
    return out
