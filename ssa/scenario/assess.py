"""Run a scenario: truth screening, tracking, knowledge, per-participant alerts, metrics.

Participants: every member alone (own sensors + public catalog) and every
member inside the grouping under its sharing policy:

* ``observations``: its sensors feed a shared catalogue; it knows every object
  as well as the best tracking by any observation-sharing member's sensors.
* ``alerts``: it keeps its own tracking, and exchanges conjunction messages:
  for a conjunction of one of its satellites it receives the estimate (state
  and covariance) of every other sharing member and uses the most precise.
  Observation sharers also send and receive alerts.
* ``none``: inside the grouping it is the same as alone.

Tasking: survey sensors observe everything their geometry allows; a tracking
sensor (``mode = tracking``) observes at most ``capacity_per_day`` objects per
day of the run, chosen among the objects in its operator's conjunctions, the
closest first as the public catalog shows them (a seeded estimate). Sharing
does not change tasking: a pool sees the union of its members' observations.

Decision rules (per participant, per conjunction of one of its satellites):
assessments every ``cadence_h`` from ``lead_days`` before the window start;
an assessment is *usable* up to ``decision_lead_h`` before TCA (CARA commits
to a manoeuvre one day before TCA). At each usable assessment the
participant draws the two objects' positions from its knowledge (truth plus
a Gaussian error with its covariance), computes the Foster Pc with that
covariance and the miss distance in the encounter plane, and alerts when
Pc >= ``pc_threshold`` or miss <= ``alert_miss_km``.

* alerted: the rule held at some usable assessment; warning time = TCA minus
  the first alerting assessment.
* manoeuvre: the rule held at the last usable assessment (the decision).
* dangerous (truth): true miss <= ``dangerous_miss_km`` or the true-geometry
  Pc >= ``pc_threshold`` with the best covariance any member's sensors could
  give at the decision time (all sensors pooled).
* caught = dangerous and alerted; missed = dangerous and not alerted;
  false alert = not dangerous and alerted. So caught + missed = dangerous.
* coverage_24h: fraction of catalog objects detected by the participant's
  survey sensors (its own, or the pool's) in the 24 h before the window.

Errors are drawn with common random numbers: one standard-normal draw per
conjunction, assessment and object, scaled by whichever covariance a
participant uses, so alone-vs-grouping differences are not sampling noise.
Monte Carlo runs repeat the draws with seeds (seed, run).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field

import numpy as np

from ssa.scenario import knowledge as kn
from ssa.scenario.config import Scenario, resolve_data_path
from ssa.scenario.tracking import TrackingResult, object_diameter_m, track

# Public-catalog latency: the element set a participant has at an assessment
# is as old as the object's element set was at the snapshot's median epoch
# (how often it is updated), at least this many days (publication delay, I).
PUBLIC_MIN_LATENCY_DAYS = 0.25
PUBLIC_MAX_LATENCY_DAYS = 30.0
# Pc is only evaluated where its upper bound (peak density x disc area)
# reaches this fraction of the threshold: a pure speed-up that never changes an
# alert (reported estimated Pc below it is 0).
PC_BOUND_FRACTION = 0.1
SECONDS_PER_DAY = 86400.0
# Random stream (with the seed) of the public-catalog estimate used to task sensors.
TASKING_STREAM = 1_000_003


@dataclass
class Participant:
    """One decision maker: a member alone or inside the grouping."""

    key: str
    member: int
    in_grouping: bool


@dataclass
class RunResult:
    """Everything a run produced (arrays indexed by conjunction unless noted)."""

    scenario: Scenario
    participants: list[Participant]
    conj: dict
    epochs_s: np.ndarray
    dangerous: np.ndarray
    pc_ref: np.ndarray
    relevant: np.ndarray           # (P, C) conjunction involves the participant's satellites
    alerted: np.ndarray            # (R, P, C) per Monte Carlo run
    manoeuvre: np.ndarray          # (R, P, C)
    warning_h: np.ndarray          # (R, P, C) NaN when not alerted
    decision: dict                 # per participant: est miss/pc/sources at decision (run 0)
    coverage_24h: np.ndarray       # (P,)
    sensor_coverage: dict          # sensor id -> fraction of catalog seen in the 24 h
    protected_counts: dict         # member -> number of protected satellites
    timings_s: dict
    counts: dict
    notes: list = field(default_factory=list)

    def metrics(self, run: int | None = None) -> list[dict]:
        """Return per-participant metrics for one run (None: run 0 plus MC statistics)."""
        out = []
        n_runs = self.alerted.shape[0]
        for p, part in enumerate(self.participants):
            rel = self.relevant[p]
            dang = self.dangerous & rel
            per_run = []
            for r in range(n_runs):
                al = self.alerted[r, p] & rel
                caught = int(np.sum(al & dang))
                per_run.append({
                    "caught": caught, "missed": int(np.sum(dang)) - caught,
                    "false_alerts": int(np.sum(al & ~dang)),
                    "manoeuvres": int(np.sum(self.manoeuvre[r, p] & rel)),
                    "warning_h": self.warning_h[r, p][al & dang],
                    "warning_all_h": self.warning_h[r, p][al],
                })
            base = per_run[0 if run is None else run]
            w = base["warning_h"]
            row = {
                "participant": part.key, "member": self.scenario.members[part.member].name,
                "in_grouping": part.in_grouping,
                "sharing": self.scenario.members[part.member].sharing,
                "conjunctions": int(np.sum(rel)), "dangerous": int(np.sum(dang)),
                "caught": base["caught"], "missed": base["missed"],
                "false_alerts": base["false_alerts"], "manoeuvres": base["manoeuvres"],
                "coverage_24h": float(self.coverage_24h[p]),
                "median_warning_h": float(np.median(w)) if len(w) else None,
                "median_warning_all_alerts_h": (float(np.median(base["warning_all_h"]))
                                                if len(base["warning_all_h"]) else None),
            }
            if run is None and n_runs > 1:
                mc = {}
                for k in ("caught", "missed", "false_alerts", "manoeuvres"):
                    v = np.array([x[k] for x in per_run], dtype=float)
                    mc[k] = {"mean": float(v.mean()), "p05": float(np.percentile(v, 5)),
                             "p95": float(np.percentile(v, 95))}
                row["monte_carlo"] = {"runs": n_runs, **mc}
            out.append(row)
        return out


def _jday(when: dt.datetime) -> tuple[float, float]:
    from sgp4.api import jday

    jd, fr = jday(when.year, when.month, when.day, when.hour, when.minute,
                  when.second + when.microsecond * 1e-6)
    return jd, fr


def _seconds(when: dt.datetime, start: dt.datetime) -> float:
    return (when - start).total_seconds()


def load_catalog(sc: Scenario):
    """Return the scenario's truth catalog (with SATCAT types/owners and RCS classes)."""
    from ssa.catalog import Catalog, load_satcat

    path = resolve_data_path(sc.catalog_file, sc.path)
    satcat = resolve_data_path(sc.satcat, sc.path) if sc.satcat else None
    catalog = Catalog.load(path, satcat=satcat)
    if sc.rcs:
        entries, _ = load_satcat(resolve_data_path(sc.rcs, sc.path))
        sizes = catalog.rcs_size.copy()
        for i, norad in enumerate(catalog.norad_id.tolist()):
            e = entries.get(norad)
            if e is not None and e.rcs_size and not sizes[i]:
                sizes[i] = e.rcs_size
        catalog.rcs_size = sizes
    return catalog


def protected_by(sc: Scenario, catalog) -> np.ndarray:
    """Return (n,) index of the member protecting each object, -1 for none."""
    out = np.full(len(catalog), -1, dtype=np.int64)
    types_ok = np.isin(catalog.object_type, list(sc.protect_types))
    if sc.exclude_names:
        pattern = re.compile("|".join(re.escape(x) for x in sc.exclude_names), re.IGNORECASE)
        excluded = np.array([bool(pattern.search(str(n))) for n in catalog.name], dtype=bool)
    else:
        excluded = np.zeros(len(catalog), dtype=bool)
    for m, member in enumerate(sc.members):
        out[np.isin(catalog.owner, list(member.owners)) & types_ok & ~excluded] = m
    return out


def screen_truth(catalog, start: dt.datetime, days: float, threshold_km: float,
                 primary_ids, quiet: bool = True) -> dict:
    """Return the truth conjunctions as a dict of column arrays (docs/DESIGN.md columns).

    The one place that calls the screening core: primaries vs the whole catalog.
    """
    from ssa.screening import screen

    result = screen(catalog, start=start, days=days, threshold_km=threshold_km,
                    primaries=np.asarray(primary_ids, dtype=np.int64), quiet=quiet)
    rows = result.rows
    names = rows.dtype.names if hasattr(rows, "dtype") else list(rows)
    return {k: np.asarray(rows[k]) for k in names}


def caching_screen(cache_dir, screen=None):
    """Return a ``screen_truth``-like callable that keeps results in ``cache_dir``.

    The key covers the catalog's element sets (NORAD ids and epochs), the window,
    the threshold and the primaries, so scenarios that differ only in sensors,
    members' policies or events share one truth screening.
    """
    import hashlib
    from pathlib import Path

    cache_dir = Path(cache_dir)
    inner = screen or screen_truth

    def run(catalog, start, days, threshold_km, primary_ids, quiet=True):
        h = hashlib.sha256()
        for arr in (catalog.norad_id, catalog.epoch_jd, catalog.epoch_fr,
                    np.sort(np.asarray(primary_ids, dtype=np.int64))):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(f"{start.isoformat()}|{days!r}|{threshold_km!r}|{catalog.opsmode}".encode())
        path = cache_dir / f"screen-{h.hexdigest()[:24]}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        rows = inner(catalog, start, days, threshold_km, primary_ids, quiet=quiet)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **{k: (v.astype(str) if v.dtype == object else v)
                         for k, v in rows.items()})
        tmp.replace(path)
        return rows

    return run


def _conj_arrays(rows: dict, catalog, jd0: float, fr0: float) -> dict:
    """Return conjunction arrays: catalog indices, TCA (s since start), TEME states, miss."""
    order = np.argsort(catalog.norad_id)
    sorted_ids = catalog.norad_id[order]

    def index_of(ids):
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        found = sorted_ids[pos] == ids
        return np.where(found, order[pos], -1)

    i1 = index_of(rows["NORAD_CAT_ID_1"])
    i2 = index_of(rows["NORAD_CAT_ID_2"])
    tca_s = ((np.asarray(rows["TCA_JD"], float) - jd0)
             + (np.asarray(rows["TCA_FR"], float) - fr0)) * SECONDS_PER_DAY

    def vec(prefix, n):
        return np.stack([np.asarray(rows[f"{c}{n}_{u}"], float)
                         for c, u in zip(prefix, ("KM",) * 3 if prefix[0] == "X" else
                                         ("KMS",) * 3, strict=True)], axis=1)

    return {
        "i1": i1, "i2": i2, "tca_s": tca_s,
        "tca_utc": np.asarray(rows["TCA"], dtype=object),
        "miss_km": np.asarray(rows["TCA_RANGE"], float),
        "speed_kms": np.asarray(rows["TCA_RELATIVE_SPEED"], float),
        "r1": vec(("X", "Y", "Z"), 1), "v1": vec(("VX", "VY", "VZ"), 1),
        "r2": vec(("X", "Y", "Z"), 2), "v2": vec(("VX", "VY", "VZ"), 2),
    }


def _public_latency_days(catalog) -> np.ndarray:
    jd, fr = catalog.epoch_median()
    age = catalog.age_days(jd, fr)
    return np.clip(age, PUBLIC_MIN_LATENCY_DAYS, PUBLIC_MAX_LATENCY_DAYS)


def _estimate(r1, v1, r2, v2, sig1_m, sig2_m, z1, z2, hbr_m, pc_threshold):
    """Return (est_miss_km, est_pc) for sampled positions under the given RTN sigmas.

    est_pc is 0 where its upper bound is below PC_BOUND_FRACTION * pc_threshold.
    """
    from ssa.risk.covariance import rtn_basis
    from ssa.risk.pc import pc_2d

    b1 = rtn_basis(r1, v1)
    b2 = rtn_basis(r2, v2)
    dr = (r2 + np.einsum("nki,nk->ni", b2, sig2_m * z2) * 1e-3) - (
        r1 + np.einsum("nki,nk->ni", b1, sig1_m * z1) * 1e-3)
    cov = (np.einsum("nki,nk,nkj->nij", b1, (sig1_m * 1e-3) ** 2, b1)
           + np.einsum("nki,nk,nkj->nij", b2, (sig2_m * 1e-3) ** 2, b2))
    # Encounter plane (ssa.risk.pc convention): y along v2 - v1, x along the miss.
    dv = v2 - v1
    y = dv / np.linalg.norm(dv, axis=1, keepdims=True)
    x = dr - np.sum(dr * y, axis=1, keepdims=True) * y
    miss = np.linalg.norm(x, axis=1)
    helper = np.where(np.abs(y[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
    x = np.where(miss[:, None] > 1e-12, x, np.cross(y, helper))
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    z = np.cross(x, y)
    plane = np.stack([x, z], axis=1)                                   # (n, 2, 3)
    cov_xz = np.einsum("nij,njk,nlk->nil", plane, cov, plane)
    miss_xz = np.stack([miss, np.zeros_like(miss)], axis=1)
    pc = np.zeros(len(miss))
    # Upper bound: peak 2D Gaussian density x disc area, at the disc's nearest point.
    det = np.maximum(cov_xz[:, 0, 0] * cov_xz[:, 1, 1] - cov_xz[:, 0, 1] ** 2, 1e-30)
    lam_max = 0.5 * (cov_xz[:, 0, 0] + cov_xz[:, 1, 1]) + np.sqrt(
        0.25 * (cov_xz[:, 0, 0] - cov_xz[:, 1, 1]) ** 2 + cov_xz[:, 0, 1] ** 2)
    hbr_km = hbr_m * 1e-3
    near = np.maximum(miss - hbr_km, 0.0)
    bound = hbr_km ** 2 / (2.0 * np.sqrt(det)) * np.exp(-0.5 * near ** 2 / lam_max)
    need = bound >= PC_BOUND_FRACTION * pc_threshold
    if np.any(need):
        pc[need], _ = pc_2d(miss_xz[need], cov_xz[need], hbr_m[need])
    return miss, np.nan_to_num(pc, nan=0.0)


def run_scenario(sc: Scenario, quiet: bool = True, catalog=None, screen=None) -> RunResult:
    """Run ``sc`` and return its RunResult (deterministic for the scenario's seed).

    ``catalog``: use this Catalog instead of loading the scenario's (e.g. a subset).
    ``screen``: replacement for ``screen_truth`` with the same signature (e.g. one
    that caches the truth screening across runs of the same catalog and window).
    """
    from ssa.risk.covariance import TleCovarianceModel
    from ssa.risk.hbr import HardBodyRadius

    timings: dict[str, float] = {}
    notes: list[str] = []
    t_all = time.perf_counter()
    t = time.perf_counter()
    if catalog is None:
        catalog = load_catalog(sc)
    timings["load"] = time.perf_counter() - t
    jd0, fr0 = _jday(sc.start)
    prot = protected_by(sc, catalog)
    members = sc.members
    n_mem = len(members)

    # --- truth screening ----------------------------------------------------------
    t = time.perf_counter()
    primary_ids = catalog.norad_id[prot >= 0]
    if len(primary_ids) == 0:
        raise ValueError(f"{sc.path}: no catalog object is protected by any member "
                         f"(owners {[m.owners for m in members]}, types {sc.protect_types})")
    rows = (screen or screen_truth)(catalog, sc.start, sc.days, sc.threshold_km, primary_ids,
                                    quiet=quiet)
    timings["screening"] = time.perf_counter() - t
    conj = _conj_arrays(rows, catalog, jd0, fr0)
    keep = (conj["i1"] >= 0) & (conj["i2"] >= 0)
    keep &= (prot[np.maximum(conj["i1"], 0)] >= 0) | (prot[np.maximum(conj["i2"], 0)] >= 0)
    keep &= np.all(np.isfinite(conj["r1"]), axis=1) & np.all(np.isfinite(conj["r2"]), axis=1)
    if np.sum(~keep):
        notes.append(f"{int(np.sum(~keep))} screening rows without a protected object or "
                     "valid states were left out")
    if "FLAGS" in rows:
        # Docked vehicles and formations (LONG_DURATION) stay close on purpose: their
        # operators manage them, they are not collision-avoidance events.
        persistent = np.array(["LONG_DURATION" in str(f) for f in rows["FLAGS"]], dtype=bool)
        if np.any(persistent & keep):
            notes.append(f"{int(np.sum(persistent & keep))} LONG_DURATION rows (docked or "
                         "formation flying) were left out")
        keep &= ~persistent
    conj = {k: v[keep] for k, v in conj.items()}
    n_c = len(conj["tca_s"])
    owner1 = prot[conj["i1"]]
    owner2 = prot[conj["i2"]]

    # --- assessment epochs and snapshots -----------------------------------------
    window_s = sc.days * SECONDS_PER_DAY
    cadence_s = sc.cadence_h * 3600.0
    epochs = np.arange(-sc.lead_days * SECONDS_PER_DAY, window_s + 0.5, cadence_s)
    leave_s = np.full(n_mem, np.inf)
    for e in sc.events:
        if e.kind == "leave":
            m = [x.name for x in members].index(e.member)
            leave_s[m] = min(leave_s[m], _seconds(e.start, sc.start))
    snapshots = np.unique(np.concatenate([epochs, [0.0], leave_s[np.isfinite(leave_s)]]))

    # --- sensors used by members -------------------------------------------------
    used = [s for m in members for s in m.sensors]
    table = sc.sensors.subset(np.array([sc.sensors.index(s) for s in used], dtype=np.int64)
                              if used else np.zeros(0, dtype=np.int64))
    sensor_member = np.array([m for m, mem in enumerate(members) for _ in mem.sensors],
                             dtype=np.int64)
    n_s = len(table)
    outages = []
    for e in sc.events:
        if e.kind == "outage" and e.sensor in set(table.id):
            outages.append((table.index(e.sensor), _seconds(e.start, sc.start),
                            _seconds(e.end, sc.start)))

    # --- tracking -----------------------------------------------------------------
    objs, inv = np.unique(np.concatenate([conj["i1"], conj["i2"]]), return_inverse=True)
    u1, u2 = inv[:n_c], inv[n_c:]
    diameter = object_diameter_m(catalog.rcs_size, catalog.object_type)
    sub = catalog.subset(objs)
    t = time.perf_counter()
    if n_s and len(objs):
        trk = track(sub.satrec_array(), diameter[objs], table, jd0, fr0,
                    -sc.history_days * SECONDS_PER_DAY, window_s, sc.step_s, snapshots,
                    outages=outages, quiet=quiet)
    else:
        trk = TrackingResult(snapshots, np.full((len(snapshots), n_s, len(objs)), np.nan,
                                                np.float32),
                             np.zeros((n_s, len(objs)), np.int64), sc.step_s, 0.0, 0.0)
    timings["tracking_conjunctions"] = time.perf_counter() - t
    t = time.perf_counter()
    survey = table.mode == "survey"
    if n_s and np.any(survey):
        cov_trk = track(catalog.satrec_array(), diameter, table.subset(survey), jd0, fr0,
                        -SECONDS_PER_DAY, 0.0, sc.coverage_step_s, [0.0],
                        outages=[(int(np.flatnonzero(np.flatnonzero(survey) == s)[0]), a, b)
                                 for s, a, b in outages if survey[s]], quiet=quiet)
        seen_24h = np.zeros((n_s, len(catalog)), dtype=bool)
        seen_24h[survey] = np.isfinite(cov_trk.last_seen_s[0])
    else:
        seen_24h = np.zeros((n_s, len(catalog)), dtype=bool)
    timings["tracking_coverage"] = time.perf_counter() - t

    hbr = (HardBodyRadius.from_cara_csv(resolve_data_path(sc.hbr, sc.path)) if sc.hbr
           else HardBodyRadius())
    hbr_c = hbr.combined_m(catalog.norad_id[conj["i1"]], catalog.norad_id[conj["i2"]],
                           catalog.object_type[conj["i1"]], catalog.object_type[conj["i2"]],
                           catalog.rcs_size[conj["i1"]], catalog.rcs_size[conj["i2"]])

    # --- knowledge bases -----------------------------------------------------------
    t = time.perf_counter()
    sharers_obs = [m for m in range(n_mem) if members[m].sharing == "observations"]
    sharers_any = [m for m in range(n_mem) if members[m].sharing != "none"]
    # A base: which members' observations, and whether leave events cut a member's
    # data from it.
    bases = [("alone", [m], False) for m in range(n_mem)]
    bases.append(("pooled", sharers_obs, True))
    bases.append(("all", list(range(n_mem)), False))
    pooled_b, all_b = n_mem, n_mem + 1
    n_b = len(bases)

    perigee, apogee = sub.perigee_km, sub.apogee_km
    sigma0 = kn.sensor_sigma0_m(table.range_sigma_m, table.angle_sigma_deg, table.is_optical,
                                perigee)
    growth = kn.growth_m_per_day2(perigee)
    latency = _public_latency_days(catalog)[objs]
    model = TleCovarianceModel()
    # Tasking order: members task tracking sensors on their conjunctions closest first,
    # as the public catalog shows them at the first assessment (seeded estimate).
    age1 = (conj["tca_s"] - epochs[0]) / SECONDS_PER_DAY + latency[u1]
    age2 = (conj["tca_s"] - epochs[0]) / SECONDS_PER_DAY + latency[u2]
    pub1 = model.rtn_sigma_m(age1, perigee[u1], apogee[u1], sub.object_type[u1])
    pub2 = model.rtn_sigma_m(age2, perigee[u2], apogee[u2], sub.object_type[u2])
    z_task = np.random.default_rng([sc.seed, TASKING_STREAM]).standard_normal((n_c, 2, 3))
    pub_miss, _ = _estimate(conj["r1"], conj["v1"], conj["r2"], conj["v2"], pub1, pub2,
                            z_task[:, 0], z_task[:, 1], hbr_c, sc.pc_threshold)
    conj_order = np.argsort(pub_miss, kind="stable")
    capacity = table.capacity_per_day * (sc.history_days + sc.days)
    snap_index = {float(s): k for k, s in enumerate(trk.snapshot_s)}
    # pairs (conjunction, epoch) that are usable for decisions
    lim = conj["tca_s"] - sc.decision_lead_h * 3600.0
    pc_idx, pk_idx = np.nonzero(epochs[None, :] <= lim[:, None])
    n_pairs = len(pc_idx)
    side_obj = np.stack([u1[pc_idx], u2[pc_idx]], axis=1)            # (pairs, 2)
    side_tca = conj["tca_s"][pc_idx]
    sig = np.empty((n_b, n_pairs, 2, 3))
    src = np.empty((n_b, n_pairs, 2), dtype=np.int64)
    # Tasking does not change with sharing: each member tasks its own tracking sensors
    # on its own conjunctions; a pool sees the union of its members' observations.
    alone_usable = []
    for m in range(n_mem):
        own = sensor_member == m
        usable_obj = np.zeros((n_s, len(objs)), dtype=bool)
        usable_obj[survey & own] = True
        served = (owner1 == m) | (owner2 == m)
        ordered = conj_order[served[conj_order]]
        seq = np.stack([u1[ordered], u2[ordered]], axis=1).ravel()
        _, first = np.unique(seq, return_index=True)
        priority = seq[np.sort(first)]          # objects, most urgent first
        for s_idx in np.flatnonzero(~survey & own):
            visible = priority[trk.detections[s_idx, priority] > 0]
            cap = capacity[s_idx]
            usable_obj[s_idx, visible if not np.isfinite(cap) else visible[:int(cap)]] = True
        alone_usable.append(usable_obj)
    for b, (_, mem_set, cut) in enumerate(bases):
        usable_obj = np.zeros((n_s, len(objs)), dtype=bool)
        for m in mem_set:
            usable_obj |= alone_usable[m]
        for k in np.unique(pk_idx):
            rows_k = np.flatnonzero(pk_idx == k)
            o = side_obj[rows_k].ravel()
            tca = np.repeat(side_tca[rows_k], 2)
            # each sensor's data as known at this epoch (cut at its member's leave time)
            last = np.empty((n_s, len(o)))
            for s in range(n_s):
                when = epochs[k]
                if cut:
                    when = min(when, leave_s[sensor_member[s]])
                last[s] = trk.last_seen_s[snap_index[float(when)], s, o]
            age = (tca - epochs[k]) / SECONDS_PER_DAY + latency[o]
            public = model.rtn_sigma_m(age, perigee[o], apogee[o], sub.object_type[o])
            best, source = kn.best_knowledge(public, last, usable_obj[:, o], sigma0[:, o],
                                             growth[o], tca)
            sig[b, rows_k] = best.reshape(len(rows_k), 2, 3)
            src[b, rows_k] = source.reshape(len(rows_k), 2)
    timings["knowledge"] = time.perf_counter() - t

    # --- participants and the base each uses at each pair ---------------------------
    participants = []
    for m in range(n_mem):
        participants.append(Participant(f"{members[m].name} alone", m, False))
    for m in range(n_mem):
        participants.append(Participant(f"{members[m].name} grouping", m, True))
    n_p = len(participants)
    var = np.sum(sig ** 2, axis=(2, 3))                                # (bases, pairs)
    choice = np.empty((n_p, n_pairs), dtype=np.int64)
    t_pair = epochs[pk_idx]
    for p, part in enumerate(participants):
        m = part.member
        if not part.in_grouping or members[m].sharing == "none":
            choice[p] = m
            continue
        active = t_pair < leave_s[m]
        own = pooled_b if members[m].sharing == "observations" else m
        cands = [np.full(n_pairs, own)]
        for x in sharers_any:
            if x == m:
                continue
            xb = pooled_b if members[x].sharing == "observations" else x
            ok = active & (t_pair < leave_s[x])
            cands.append(np.where(ok, xb, own))
        cands = np.stack(cands)                                         # (cands, pairs)
        best = np.argmin(var[cands, np.arange(n_pairs)[None, :]], axis=0)
        choice[p] = np.where(active, cands[best, np.arange(n_pairs)], m)

    # --- truth: dangerous ----------------------------------------------------------------
    last_pair = np.full(n_c, -1, dtype=np.int64)
    for j in range(n_pairs):  # pairs are sorted by conjunction then epoch
        last_pair[pc_idx[j]] = j
    has_pair = last_pair >= 0
    if np.sum(~has_pair):
        notes.append(f"{int(np.sum(~has_pair))} conjunctions have no assessment before "
                     "the decision time and are not assessed")
    pc_ref = np.zeros(n_c)
    if np.any(has_pair):
        lp = last_pair[has_pair]
        zero = np.zeros((len(lp), 3))
        _, pc_ref[has_pair] = _estimate(
            conj["r1"][has_pair], conj["v1"][has_pair], conj["r2"][has_pair],
            conj["v2"][has_pair], sig[all_b, lp, 0], sig[all_b, lp, 1], zero, zero,
            hbr_c[has_pair], sc.pc_threshold)
    dangerous = has_pair & ((conj["miss_km"] <= sc.dangerous_miss_km)
                            | (pc_ref >= sc.pc_threshold))

    # --- Monte Carlo over sampled errors ------------------------------------------------
    t = time.perf_counter()
    relevant = np.zeros((n_p, n_c), dtype=bool)
    for p, part in enumerate(participants):
        relevant[p] = ((owner1 == part.member) | (owner2 == part.member)) & has_pair
    n_runs = sc.monte_carlo_runs
    alerted = np.zeros((n_runs, n_p, n_c), dtype=bool)
    manoeuvre = np.zeros((n_runs, n_p, n_c), dtype=bool)
    warning = np.full((n_runs, n_p, n_c), np.nan)
    decision = {}
    pr1, pv1 = conj["r1"][pc_idx], conj["v1"][pc_idx]
    pr2, pv2 = conj["r2"][pc_idx], conj["v2"][pc_idx]
    phbr = hbr_c[pc_idx]
    used_bases = np.unique(choice)
    for r in range(n_runs):
        rng = np.random.default_rng([sc.seed, r])
        z = rng.standard_normal((n_pairs, 2, 3))
        alert_b = np.zeros((n_b, n_pairs), dtype=bool)
        miss_b = np.zeros((n_b, n_pairs))
        pc_b = np.zeros((n_b, n_pairs))
        for b in used_bases:
            need = np.any(choice == b, axis=0)
            if not np.any(need):
                continue
            miss, pc = _estimate(pr1[need], pv1[need], pr2[need], pv2[need], sig[b, need, 0],
                                 sig[b, need, 1], z[need, 0], z[need, 1], phbr[need],
                                 sc.pc_threshold)
            miss_b[b, need], pc_b[b, need] = miss, pc
            alert_b[b, need] = (pc >= sc.pc_threshold) | (miss <= sc.alert_miss_km)
        for p in range(n_p):
            a = alert_b[choice[p], np.arange(n_pairs)]
            # first alerting pair per conjunction (pairs are in epoch order per conjunction)
            first_t = np.full(n_c, np.inf)
            np.minimum.at(first_t, pc_idx[a], t_pair[a])
            al = np.isfinite(first_t)
            alerted[r, p] = al & relevant[p]
            warning[r, p] = np.where(alerted[r, p], (conj["tca_s"] - first_t) / 3600.0, np.nan)
            dec = np.zeros(n_c, dtype=bool)
            dec[has_pair] = a[last_pair[has_pair]]
            manoeuvre[r, p] = dec & relevant[p]
            if r == 0:
                lp = np.where(has_pair, last_pair, 0)
                cb = choice[p, lp]
                decision[participants[p].key] = {
                    "est_miss_km": np.where(has_pair, miss_b[cb, lp], np.nan),
                    "est_pc": np.where(has_pair, pc_b[cb, lp], np.nan),
                    "sigma1_m": sig[cb, lp, 0], "sigma2_m": sig[cb, lp, 1],
                    "source1": src[cb, lp, 0], "source2": src[cb, lp, 1],
                    "base": np.array([bases[b][0] if b >= n_mem else members[b].name
                                      for b in cb], dtype=object),
                }
    timings["assessment"] = time.perf_counter() - t

    # --- coverage -------------------------------------------------------------------------
    coverage = np.zeros(n_p)
    for p, part in enumerate(participants):
        m = part.member
        if part.in_grouping and members[m].sharing == "observations" and leave_s[m] > 0:
            mem_set = [x for x in sharers_obs if leave_s[x] > 0]
        else:
            mem_set = [m]
        sel = np.isin(sensor_member, mem_set)
        coverage[p] = float(np.mean(seen_24h[sel].any(axis=0))) if np.any(sel) else 0.0
    sensor_cov = {str(table.id[s]): float(np.mean(seen_24h[s])) for s in range(n_s)}
    timings["total"] = time.perf_counter() - t_all
    conj["norad1"] = catalog.norad_id[conj["i1"]]
    conj["norad2"] = catalog.norad_id[conj["i2"]]
    conj["name1"] = catalog.name[conj["i1"]]
    conj["name2"] = catalog.name[conj["i2"]]
    conj["type1"] = catalog.object_type[conj["i1"]]
    conj["type2"] = catalog.object_type[conj["i2"]]
    conj["owner1"] = catalog.owner[conj["i1"]]
    conj["owner2"] = catalog.owner[conj["i2"]]
    conj["hbr_m"] = hbr_c
    conj["sensor_ids"] = np.array(table.id, dtype=object)
    counts = {"catalog_objects": len(catalog), "protected": int(np.sum(prot >= 0)),
              "conjunctions": n_c, "dangerous": int(np.sum(dangerous)),
              "tracked_objects": len(objs), "sensors": n_s, "assessments": int(n_pairs),
              "epochs": len(epochs)}
    return RunResult(
        scenario=sc, participants=participants, conj=conj, epochs_s=epochs,
        dangerous=dangerous, pc_ref=pc_ref, relevant=relevant, alerted=alerted,
        manoeuvre=manoeuvre, warning_h=warning, decision=decision, coverage_24h=coverage,
        sensor_coverage=sensor_cov,
        protected_counts={m.name: int(np.sum(prot == i)) for i, m in enumerate(members)},
        timings_s=timings, counts=counts, notes=notes)
