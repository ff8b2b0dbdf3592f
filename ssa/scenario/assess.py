"""Run a scenario as named stages: truth, tasking, knowledge, decisions, scoring, coverage.

* truth (``truth.py``): conjunctions of the members' protected satellites, true
  offsets and each event's risk; independent of the network under test.
* tasking (``tasking.py``): whole-catalog passes and each sensor's daily track
  budget spent by the scheduler -> track rates per sensor and object.
* knowledge (``knowledge.py``, ``od.py``): per participant, object and
  assessment, the covariance at TCA from its orbit determination, the public
  catalog, owners' ephemerides and alerts received.
* decisions (``decisions.py``): Pc at every assessment from estimates with
  correlated errors; manoeuvre on Pc at the commit time.
* scoring (``scoring.py``): risk reduction against manoeuvres per satellite-year.
* coverage (``tasking.maintained``): maintained catalogue sizes by regime.

Participants: every member alone (own sensors, the public catalog, its own
satellites' ephemerides), every member inside the grouping under its sharing
policy, and with ``leave_one_out`` every sharing member inside the grouping
without member X. Sharing policies:

* ``observations``: partners' tracks (``observation_latency_h`` late) add to
  its own orbit determination; it also receives alerts and ephemerides.
* ``alerts``: it keeps its own tracking and receives each sharing partner's
  solution for its events (``alert_latency_h`` late) and partners'
  ephemerides of their satellites; it uses whichever is most precise.
* ``none``: inside the grouping it is the same as alone.

A run is a pure function of (scenario variant, truth): ``run_variant``; the
[sweep] starts and seeds expand into such variants (``config.expand_sweep``),
which a distributed executor may run as independent tasks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ssa.scenario import decisions as dec
from ssa.scenario import knowledge as kn
from ssa.scenario import od, scoring
from ssa.scenario import tasking as tk
from ssa.scenario import truth as tr
from ssa.scenario.config import Scenario

# Re-exported for callers of the former single-module API.
load_catalog = tr.load_catalog
caching_screen = tr.caching_screen
screen_truth = tr.screen_truth

SECONDS_PER_DAY = 86400.0
KNOWLEDGE_STREAM = 3_000_017
DENSITY_STREAM = 1_000_000
DEFAULT_THRESHOLDS = tuple(10.0 ** np.arange(-8.0, -1.75, 0.25))
# Below this summed risk per run a participant's window holds no risky event: risk
# reduction and the 90 % point are not defined (reported as null).
MIN_TOTAL_RISK = 1e-6
SOURCE_NAMES = ("own OD", "pooled OD", "alert", "owner", "public")


@dataclass(frozen=True)
class Participant:
    """A decision maker: member ``member`` alone, in the grouping, or in it without ``excluded``."""

    key: str
    member: int
    kind: str  # alone | grouping | without
    partners: tuple[int, ...] = ()
    excluded: int = -1


@dataclass
class ParticipantResult:
    """Per-event decisions of one participant (arrays over its events)."""

    events: np.ndarray  # (E,) conjunction indices
    pc_commit: np.ndarray  # (R, C, E) per run and commit time
    pc_max: np.ndarray  # (R, E) up to the headline commit
    flips: np.ndarray  # (R, E)
    warning_h: np.ndarray  # (R, E)
    sigma_commit_m: np.ndarray  # (E, 2, 3) run 0, both objects
    source_commit: np.ndarray  # (E, 2) index into SOURCE_NAMES, run 0
    secondary_side: np.ndarray  # (E,) 0/1: the object not protected by the member
    miss_commit_km: np.ndarray | None = None  # (R, C, E) estimated miss (miss rule on)


@dataclass
class RunResult:
    """Everything a run produced."""

    scenario: Scenario
    truth: tr.Truth
    participants: list[Participant]
    results: dict  # participant key -> ParticipantResult
    risk: np.ndarray  # (R, C) risk of every event per run
    protected_counts: dict  # member -> protected satellites
    maintained: dict  # participant key -> {own, pooled, public}
    tasking_summary: dict
    tracks_by_inclination: dict  # member (and "pool") -> {band: tracks a day per object}
    sensor_ids: list
    timings_s: dict
    counts: dict
    notes: list = field(default_factory=list)

    @property
    def commit_days(self) -> tuple[float, ...]:
        return self.scenario.sweep_commit_days

    def sat_years(self, member: int) -> float:
        name = self.scenario.members[member].name
        return self.protected_counts[name] * self.scenario.days / scoring.DAYS_PER_YEAR

    def metrics(self) -> list[dict]:
        """Return per-participant metrics (headline commit time and threshold)."""
        return participant_metrics(self)


# ----------------------------------------------------------------------------- stages


def stage_truth(sc: Scenario, catalog=None, screen=None, quiet=True) -> tr.Truth:
    """Truth stage: see ``truth.build_truth``."""
    return tr.build_truth(sc, catalog=catalog, screen=screen, quiet=quiet)


def member_sensors(sc: Scenario):
    """Return (SensorTable of the members' sensors, (S,) member index of each)."""
    used = [s for m in sc.members for s in m.sensors]
    table = sc.sensors.subset(
        np.array([sc.sensors.index(s) for s in used], dtype=np.int64)
        if used
        else np.zeros(0, dtype=np.int64)
    )
    member = np.array([m for m, mem in enumerate(sc.members) for _ in mem.sensors], dtype=np.int64)
    return table, member


def conjunction_partners(sc: Scenario, truth: tr.Truth) -> np.ndarray:
    """Return (M, N) bool: partners of each member's satellites in the first screen."""
    return partners_between(truth, len(sc.members))(0.0, sc.screen_ahead_days * SECONDS_PER_DAY)


def partners_between(truth: tr.Truth, n_members: int):
    """Return f(t0_s, t1_s) -> (M, N) bool: partners of each member's satellites in the
    events with TCA in [t0_s, t1_s] (what a screen at t0_s shows; the scheduler's
    first priority, re-planned at every assessment)."""
    c = truth.conj
    order = np.argsort(c["tca_s"], kind="stable")
    tca = c["tca_s"][order]
    i1, i2 = c["i1"][order], c["i2"][order]
    p1 = truth.protected_by[i1]
    p2 = truth.protected_by[i2]
    n = len(truth.catalog)

    def at(t0_s: float, t1_s: float) -> np.ndarray:
        a = np.searchsorted(tca, t0_s, side="left")
        b = np.searchsorted(tca, t1_s, side="right")
        mask = np.zeros((n_members, n), dtype=bool)
        q1, q2, j1, j2 = p1[a:b], p2[a:b], i1[a:b], i2[a:b]
        for m in range(n_members):
            mask[m, j2[q1 == m]] = True
            mask[m, j1[q2 == m]] = True
        return mask

    return at


def stage_tasking(sc: Scenario, truth: tr.Truth, quiet=True, cache_dir=None) -> tk.Tasking:
    """Tasking stage: whole-catalog passes, budgets, the scheduler re-planned per assessment.

    ``cache_dir``: keep each sensor's visibility there and reuse it (``tasking.visibility_passes``).
    """
    table, member = member_sensors(sc)
    return tk.run_tasking(
        sc,
        truth.catalog,
        table,
        member,
        conjunction_partners(sc, truth),
        quiet=quiet,
        partners_at=partners_between(truth, len(sc.members)),
        cache_dir=cache_dir,
        # Security events: no track (nor budget) on an object before it exists.
        exists_s=None if truth.events is None else truth.events.exists_s(),
    )


def participants_of(sc: Scenario) -> list[Participant]:
    """Return alone, grouping and (with leave_one_out) grouping-without-X participants."""
    mem = sc.members
    n = len(mem)
    out = [Participant(f"{m.name} alone", i, "alone") for i, m in enumerate(mem)]
    out += [
        Participant(f"{m.name} grouping", i, "grouping", tuple(x for x in range(n) if x != i))
        for i, m in enumerate(mem)
    ]
    if sc.leave_one_out:
        for x in range(n):
            if mem[x].sharing == "none":
                continue
            for i, m in enumerate(mem):
                if i == x or m.sharing == "none":
                    continue
                out.append(
                    Participant(
                        f"{m.name} without {mem[x].name}",
                        i,
                        "without",
                        tuple(k for k in range(n) if k not in (i, x)),
                        x,
                    )
                )
    return out


class KnowledgeContext:
    """Knowledge stage inputs shared by every participant of a run."""

    def __init__(self, sc: Scenario, truth: tr.Truth, tasking: tk.Tasking, model: od.OdModel):
        self.sc, self.truth, self.tasking, self.model = sc, truth, tasking, model
        cat = truth.catalog
        self.n_mem = len(sc.members)
        self.sharing = [m.sharing for m in sc.members]
        self.ballistic = od.ballistic_from_bstar(cat.bstar, cat.object_type)
        self.perigee, self.apogee = cat.perigee_km, cat.apogee_km
        self.interval = kn.reissue_interval_d(cat)
        self.phase = kn.reissue_phase_d(cat.norad_id, self.interval)
        sm = tasking.sensor_member
        self.own_mask = [sm == m for m in range(self.n_mem)]
        self.info_rate = [tasking.info_rate(mk) for mk in self.own_mask]
        self.track_rate = [tasking.track_rate(mk) for mk in self.own_mask]
        self.leave_s = np.full(self.n_mem, np.inf)
        names = [m.name for m in sc.members]
        self.outages = []
        ids = list(tasking.sensor_ids)
        for e in sc.events:
            if e.kind == "leave":
                k = names.index(e.member)
                self.leave_s[k] = min(self.leave_s[k], (e.start - sc.start).total_seconds())
            elif e.kind == "outage" and e.sensor in ids:
                self.outages.append(
                    (
                        ids.index(e.sensor),
                        (e.start - sc.start).total_seconds(),
                        (e.end - sc.start).total_seconds(),
                    )
                )

    def member_info(self, x: int, obj, t_s) -> tuple[np.ndarray, np.ndarray]:
        """Return (info, tracks) in the fit span before t_s (E, K) of member x's sensors.

        From the re-planned tracks per bin (outages already remove passes there);
        a steady-state Tasking (no bins) gives rate x span, minus outages.
        """
        span = self.sc.fit_span_days
        task = self.tasking
        if task.tracks_bins is not None:
            if not np.any(self.own_mask[x]):
                return np.zeros(t_s.shape), np.zeros(t_s.shape)
            uniq, inv = np.unique(obj, return_inverse=True)
            ci, cc = task.cumulative(self.own_mask[x], uniq)
            span_s = span * SECONDS_PER_DAY
            if self.truth.events is not None:
                # Fragments/manoeuvred objects: only tracks since the event count.
                span_s = span_s * self.truth.events.track_fraction(obj, t_s, span)
            return task.in_span(ci, t_s, span_s, inv), task.in_span(cc, t_s, span_s, inv)
        info = np.broadcast_to(self.info_rate[x][obj][:, None], t_s.shape) * span
        count = np.broadcast_to(self.track_rate[x][obj][:, None], t_s.shape) * span
        if self.truth.events is not None:  # fragments/manoeuvred objects: tracks since the event
            frac = self.truth.events.track_fraction(obj, t_s, span)
            info, count = info * frac, count * frac
        for s, a, b in self.outages:
            if task.sensor_member[s] != x:
                continue
            lo = t_s - span * SECONDS_PER_DAY
            lost = np.clip(np.minimum(t_s, b) - np.maximum(lo, a), 0, None) / (
                span * SECONDS_PER_DAY
            )
            rate_s = task.tracks_per_day[s, obj][:, None] * span
            info = info - lost * rate_s * task.weight[s]
            count = count - lost * rate_s
        return np.maximum(info, 0.0), np.maximum(count, 0.0)


def participant_variances(ctx: KnowledgeContext, p: Participant, obj, tca_s, t_s, cache):
    """Return (meas var (E,K,3), dens var (E,K,3), stream (E,K), source (E,K)) for one side.

    ``obj`` (E,) catalog indices of that side's objects; ``cache`` holds per-member
    arrays of this event group. Stream: x (OD of member x), n + x (owner x), 2n (public).
    """
    sc, n = ctx.sc, ctx.n_mem
    lead = (tca_s[:, None] - t_s) / SECONDS_PER_DAY
    bal, hp, ha = ctx.ballistic[obj][:, None], ctx.perigee[obj][:, None], ctx.apogee[obj][:, None]
    m = p.member

    def info(x):
        if ("info", x) not in cache:
            cache[("info", x)] = ctx.member_info(x, obj, t_s)
        return cache[("info", x)]

    def active(x):
        return t_s < ctx.leave_s[x]

    in_group = p.kind != "alone" and ctx.sharing[m] != "none"
    act_m = active(m) if in_group else np.zeros(t_s.shape, dtype=bool)
    cands = []
    # Own (and pooled) orbit determination.
    i_own, c_own = info(m)
    i_part = np.zeros(t_s.shape)
    c_part = np.zeros(t_s.shape)
    if in_group and ctx.sharing[m] == "observations":
        for x in p.partners:
            if ctx.sharing[x] == "observations":
                ix, cx = info(x)
                i_part = i_part + np.where(act_m & active(x), ix, 0.0)
                c_part = c_part + np.where(act_m & active(x), cx, 0.0)
    meas, dens = kn.od_variances(
        ctx.model, lead, i_own, i_part, sc.observation_latency_h / 24.0, bal, hp, ha, memo=cache
    )
    meas = np.where(((c_own + c_part) >= od.MIN_TRACKS_FOR_OD)[..., None], meas, np.inf)
    cands.append((meas, dens, m, np.where(c_part > 0, 1, 0)))
    # Alerts: partners' solutions (each partner's own tracking, plus its pool).
    if in_group:
        lat_a = sc.alert_latency_h / 24.0
        for x in p.partners:
            if ctx.sharing[x] == "none" or (ctx.sharing[x] == ctx.sharing[m] == "observations"):
                continue
            ix, cx = info(x)
            ok = act_m & active(x)
            if ctx.sharing[x] == "observations":
                for y in (*p.partners, m):
                    if y != x and ctx.sharing[y] == "observations":
                        iy, cy = info(y)
                        ix = ix + np.where(active(y), iy, 0.0)
                        cx = cx + np.where(active(y), cy, 0.0)
            mx, dx = kn.od_variances(
                ctx.model, lead, ix, 0.0, 0.0, bal, hp, ha, lead_offset_d=lat_a, memo=cache
            )
            mx = np.where((ok & (cx >= od.MIN_TRACKS_FOR_OD))[..., None], mx, np.inf)
            cands.append((mx, dx, x, 2))
    # Owners' ephemerides (one candidate: an object has one protector).
    prot = np.broadcast_to(ctx.truth.protected_by[obj][:, None], t_s.shape)
    ok = prot == m
    if in_group:
        for x in p.partners:
            if ctx.sharing[x] != "none":
                ok = ok | ((prot == x) & act_m & active(x))
    if np.any(ok):
        om, odn = kn.owner_variances(ctx.model, lead, bal, hp, ha, memo=cache)
        cands.append((np.where(ok[..., None], om, np.inf), odn, n + prot, 3))
    # Public catalog.
    if "public" not in cache:
        age = kn.element_age_d(t_s, ctx.interval[obj][:, None], ctx.phase[obj][:, None])
        sig = kn.public_sigma_m(lead, age, hp, ha, ctx.truth.catalog.object_type[obj][:, None])
        cache["public"] = sig**2
        if ctx.truth.events is not None:  # not yet publicly catalogued: unknown
            known = ctx.truth.events.public_known(obj, t_s)
            cache["public"] = np.where(known[..., None], cache["public"], np.inf)
    cands.append((cache["public"], np.zeros_like(cache["public"]), 2 * n, 4))
    best = np.zeros(t_s.shape, dtype=np.int64)
    best_total = np.sum(cands[0][0] + cands[0][1], axis=-1)
    for k in range(1, len(cands)):
        tot = np.sum(cands[k][0] + cands[k][1], axis=-1)
        better = tot < best_total
        best[better] = k
        best_total = np.where(better, tot, best_total)
    meas_out = np.zeros(t_s.shape + (3,))
    dens_out = np.zeros(t_s.shape + (3,))
    stream = np.zeros(t_s.shape, dtype=np.int64)
    source = np.zeros(t_s.shape, dtype=np.int64)
    for k, (mv, dv, st, src) in enumerate(cands):
        sel = best == k
        meas_out[sel] = np.broadcast_to(mv, t_s.shape + (3,))[sel]
        dens_out[sel] = np.broadcast_to(dv, t_s.shape + (3,))[sel]
        stream[sel] = np.broadcast_to(st, t_s.shape)[sel]
        source[sel] = np.broadcast_to(src, t_s.shape)[sel]
    return meas_out, dens_out, stream, source


def _normals(cache, sc, run, group, side, stream, shape, rho):
    """Return the AR(1) standard normals of one error stream for one side of the events."""
    key = ("z", stream)
    if key not in cache:
        rng = np.random.default_rng([sc.seed, run, KNOWLEDGE_STREAM, group, side, stream])
        cache[key] = dec.ar1_normals(rng, shape, rho, axis=1)
    return cache[key]


def stage_decisions(ctx: KnowledgeContext, parts, events, run, r_true, group_cache_seed):
    """Decisions stage for the participants of one member and one run.

    ``events`` (E,) conjunction indices; r_true (C, 2, 3) true positions. Returns
    {key: dict of per-event arrays for every commit time, plus sigma/source at commit}.
    """
    sc, truth = ctx.sc, ctx.truth
    c = truth.conj
    tca = c["tca_s"][events]
    commits = sc.sweep_commit_days
    t_s, valid = dec.assessment_times(tca, 0.0, sc.screen_ahead_days, sc.cadence_h, min(commits))
    rho = dec.successive_correlation(sc.cadence_h, sc.fit_span_days)
    shape = t_s.shape + (3,)
    caches = [{}, {}]
    zcache = [{}, {}]
    r = [r_true[events, 0], r_true[events, 1]]
    v = [c["v1"][events], c["v2"][events]]
    objs = [c["i1"][events], c["i2"][events]]
    z_dens = [
        _normals(zcache[j], sc, run, group_cache_seed, j, DENSITY_STREAM, shape, dec.DENSITY_RHO)
        for j in (0, 1)
    ]
    from ssa.geometry import rtn_basis

    bases = [rtn_basis(r[j], v[j]) for j in (0, 1)]
    out = {}
    for p in parts:
        err, cov, sig_c, src_c = [], [], [], []
        for j in (0, 1):
            meas, dens, stream, source = participant_variances(ctx, p, objs[j], tca, t_s, caches[j])
            z = np.zeros(shape)
            for st in np.unique(stream):
                sel = stream == st
                z[sel] = _normals(zcache[j], sc, run, group_cache_seed, j, int(st), shape, rho)[sel]
            e_rtn_m = (
                np.sqrt(np.where(np.isfinite(meas), meas, 0.0)) * z + np.sqrt(dens) * z_dens[j]
            )
            var = meas + dens
            err.append(np.einsum("eki,etk->eti", bases[j], e_rtn_m * 1e-3))
            cov.append(np.einsum("eki,etk,ekj->etij", bases[j], var * 1e-6, bases[j]))
            sig_c.append(np.sqrt(var))
            src_c.append(source)
        pc = dec.pc_series(
            r[0], v[0], r[1], v[1], c["hbr_m"][events], err[0], err[1], cov[0], cov[1], valid
        )
        per_commit = [
            dec.decision_metrics(pc, t_s, valid, tca, cd, sc.pc_threshold) for cd in commits
        ]
        head = per_commit[commits.index(sc.commit_days)]
        k = np.maximum(head["commit_k"], 0)
        e = np.arange(len(events))
        miss_commit = None
        if sc.miss_rule_km > 0:
            miss = dec.miss_series(r[0], v[0], r[1], v[1], err[0], err[1], valid)
            miss_commit = np.stack(
                [
                    np.where(x["commit_k"] >= 0, miss[e, np.maximum(x["commit_k"], 0)], np.inf)
                    for x in per_commit
                ]
            )
        out[p.key] = {
            "miss_commit_km": miss_commit,
            "pc_commit": np.stack([x["pc_commit"] for x in per_commit]),
            "pc_max": head["pc_max"],
            "flips": head["flips"],
            "warning_h": head["warning_h"],
            "sigma_commit_m": np.stack([sig_c[0][e, k], sig_c[1][e, k]], axis=1),
            "source_commit": np.stack([src_c[0][e, k], src_c[1][e, k]], axis=1),
        }
    return out


def run_variant(
    sc: Scenario,
    truth: tr.Truth,
    tasking: tk.Tasking | None = None,
    quiet: bool = True,
    model: od.OdModel | None = None,
    cache_dir=None,
) -> RunResult:
    """Run one scenario variant on a truth: tasking, knowledge, decisions, scoring, coverage.

    A pure function of its arguments (seeded), so sweep variants can run as independent
    tasks; ``tasking`` may be shared by variants with the same sensors, start and seed.
    ``cache_dir``: reuse sensors' visibility kept there (results do not depend on it).
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    model = model or od.load_model()
    if tasking is None:
        tasking = stage_tasking(sc, truth, quiet=quiet, cache_dir=cache_dir)
    timings["tasking"] = time.perf_counter() - t
    ctx = KnowledgeContext(sc, truth, tasking, model)
    parts = participants_of(sc)
    c = truth.conj
    p1 = truth.protected_by[c["i1"]]
    p2 = truth.protected_by[c["i2"]]
    n_runs = sc.monte_carlo_runs
    t = time.perf_counter()
    risks = np.zeros((n_runs, truth.n))
    per_run = []
    for run in range(n_runs):
        offsets = tr.true_offsets_m(truth, sc.seed, run)
        risks[run], r1, r2 = tr.risk(truth, offsets)
        r_true = np.stack([r1, r2], axis=1)
        res = {}
        for m in range(len(sc.members)):
            events = np.flatnonzero((p1 == m) | (p2 == m))
            mparts = [p for p in parts if p.member == m]
            if len(events) == 0:
                continue
            res.update(stage_decisions(ctx, mparts, events, run, r_true, m))
        per_run.append(res)
    timings["knowledge_decisions"] = time.perf_counter() - t
    results = {}
    for p in parts:
        m = p.member
        events = np.flatnonzero((p1 == m) | (p2 == m))
        if len(events) == 0:
            z = np.zeros((n_runs, len(sc.sweep_commit_days), 0))
            results[p.key] = ParticipantResult(
                events,
                z,
                np.zeros((n_runs, 0)),
                np.zeros((n_runs, 0)),
                np.zeros((n_runs, 0)),
                np.zeros((0, 2, 3)),
                np.zeros((0, 2), int),
                np.zeros(0, int),
            )
            continue
        rr = [x[p.key] for x in per_run]
        results[p.key] = ParticipantResult(
            events=events,
            pc_commit=np.stack([x["pc_commit"] for x in rr]),
            pc_max=np.stack([x["pc_max"] for x in rr]),
            flips=np.stack([x["flips"] for x in rr]),
            warning_h=np.stack([x["warning_h"] for x in rr]),
            sigma_commit_m=rr[0]["sigma_commit_m"],
            source_commit=rr[0]["source_commit"],
            secondary_side=np.where(p1[events] == m, 1, 0),
            miss_commit_km=None
            if rr[0]["miss_commit_km"] is None
            else np.stack([x["miss_commit_km"] for x in rr]),
        )
    # Coverage stage.
    t = time.perf_counter()
    maintained = stage_coverage(ctx, parts)
    timings["coverage"] = time.perf_counter() - t
    counts = {
        "catalog_objects": len(truth.catalog),
        "protected": int(np.sum(truth.protected_by >= 0)),
        "conjunctions": truth.n,
        "sensors": len(tasking.sensor_ids),
        "tasking_days": tasking.days,
        "participants": len(parts),
    }
    return RunResult(
        scenario=sc,
        truth=truth,
        participants=parts,
        results=results,
        risk=risks,
        protected_counts={
            mm.name: int(np.sum(truth.protected_by == i)) for i, mm in enumerate(sc.members)
        },
        maintained=maintained,
        tasking_summary=tasking_summary(tasking),
        tracks_by_inclination=tracks_by_inclination(ctx),
        sensor_ids=list(tasking.sensor_ids),
        timings_s=timings,
        counts=counts,
        notes=list(truth.notes),
    )


def tasking_summary(tasking: tk.Tasking) -> dict:
    """Return per sensor: budget, tracks a day used, objects visible, objects tracked."""
    out = {}
    for s, sid in enumerate(tasking.sensor_ids.tolist()):
        b = tasking.budget[s]
        out[str(sid)] = {
            "budget_per_day": None if not np.isfinite(b) else float(b),
            "tracks_per_day": float(tasking.tracks_per_day[s].sum()),
            "passes_per_day": float(tasking.passes_per_day[s].sum()),
            "objects_visible": int(np.sum(tasking.passes_per_day[s] > 0)),
            "objects_tracked": int(np.sum(tasking.tracks_per_day[s] > 0)),
            "weight_per_track": float(tasking.weight[s]),
        }
    return out


INCLINATION_BANDS_DEG = ((0, 30), (30, 60), (60, 90), (90, 180))


def tracks_by_inclination(ctx: KnowledgeContext) -> dict:
    """Return tracks a day per LEO object by inclination band, per member and for the pool."""
    cat = ctx.truth.catalog
    inc = np.degrees(cat.inclination_rad)
    leo = cat.apogee_km < 2000.0
    rates = {m.name: ctx.track_rate[i] for i, m in enumerate(ctx.sc.members)}
    obs = [i for i in range(ctx.n_mem) if ctx.sharing[i] == "observations"]
    if obs:
        rates["pool"] = np.sum([ctx.track_rate[i] for i in obs], axis=0)
    out = {}
    for name, rate in rates.items():
        out[name] = {}
        for lo, hi in INCLINATION_BANDS_DEG:
            sel = leo & (inc >= lo) & (inc < hi)
            out[name][f"{lo}-{hi}"] = float(rate[sel].mean()) if np.any(sel) else None
    return out


def stage_coverage(ctx: KnowledgeContext, parts) -> dict:
    """Coverage stage: maintained catalogue (own / pooled / public) by regime per participant."""
    sc = ctx.sc
    cat = ctx.truth.catalog
    regimes = tk.regime_names(cat.perigee_km, cat.apogee_km)
    public = tk.count_by_regime(np.ones(len(cat), dtype=bool), regimes)
    own_cache = {}

    def keep(info, count):
        return tk.maintained(
            ctx.model, info, count, sc.fit_span_days, ctx.ballistic, ctx.perigee, ctx.apogee
        )

    out = {}
    for p in parts:
        m = p.member
        if m not in own_cache:
            own_cache[m] = keep(ctx.info_rate[m], ctx.track_rate[m])
        own = own_cache[m]
        pooled = own
        if p.kind != "alone" and ctx.sharing[m] == "observations":
            info = ctx.info_rate[m].copy()
            count = ctx.track_rate[m].copy()
            for x in p.partners:
                if ctx.sharing[x] == "observations" and np.isinf(ctx.leave_s[x]):
                    info += ctx.info_rate[x]
                    count += ctx.track_rate[x]
            pooled = keep(info, count)
        out[p.key] = {
            "own": tk.count_by_regime(own, regimes),
            "pooled": tk.count_by_regime(pooled, regimes),
            "public": public,
        }
    return out


def run_scenario(sc: Scenario, quiet: bool = True, catalog=None, screen=None) -> RunResult:
    """Run ``sc`` (its first sweep variant) and return its RunResult (seeded, deterministic).

    ``catalog``: use this Catalog instead of loading the scenario's (e.g. a subset).
    ``screen``: replacement for ``truth.screen_truth`` (e.g. ``caching_screen``).
    """
    t = time.perf_counter()
    truth = stage_truth(sc, catalog=catalog, screen=screen, quiet=quiet)
    t_truth = time.perf_counter() - t
    result = run_variant(sc, truth, quiet=quiet)
    result.timings_s = {"truth": t_truth, **result.timings_s, "total": time.perf_counter() - t}
    return result


# ----------------------------------------------------------------------------- scoring


def _member_events(result: RunResult, p: Participant):
    pr = result.results[p.key]
    return pr, result.risk[:, pr.events]


def participant_metrics(result: RunResult) -> list[dict]:
    """Scoring stage: per participant, the headline metrics with intervals."""
    sc = result.scenario
    commits = list(sc.sweep_commit_days)
    ci = commits.index(sc.commit_days)
    thresholds = sc.sweep_threshold_pc or DEFAULT_THRESHOLDS
    rows = []
    for p in result.participants:
        pr, risk = _member_events(result, p)
        n_runs = risk.shape[0]
        sy = result.sat_years(p.member)
        n_ev = len(pr.events)
        boot = scoring.bootstrap_index(n_ev, sc.bootstrap, sc.seed + p.member)
        row = {
            "participant": p.key,
            "member": sc.members[p.member].name,
            "kind": p.kind,
            "in_grouping": p.kind != "alone",
            "sharing": sc.members[p.member].sharing,
            "without": sc.members[p.excluded].name if p.excluded >= 0 else None,
            "protected_satellites": result.protected_counts[sc.members[p.member].name],
            "sat_years": sy,
            "events": n_ev,
            "maintained_objects": result.maintained[p.key],
        }
        no_risk = n_ev == 0 or risk.sum() / max(n_runs, 1) < MIN_TOTAL_RISK
        row["total_risk_per_run"] = float(risk.sum() / max(n_runs, 1)) if n_ev else 0.0
        if n_ev == 0 or sy <= 0:
            row.update(
                {
                    "manoeuvres_per_sat_year": None,
                    "risk_reduction": None,
                    "manoeuvres_per_sat_year_at_90": None,
                    "workload_per_sat_year": None,
                    "sigma_at_commit_m": None,
                    "warning_time_h": None,
                    "decision_flips": None,
                    "commit_sweep": [],
                    "curve": [],
                    "miss_rule": None,
                }
            )
            rows.append(row)
            continue
        pcc = pr.pc_commit[:, ci]
        man = pcc >= sc.pc_threshold
        n_man = man.sum() / n_runs

        def at90(idx, pcc_=pcc, risk_=risk, scale=n_runs * sy):
            return scoring.manoeuvres_for_reduction(risk_[:, idx], pcc_[:, idx])[0] / scale

        n90, reached = scoring.manoeuvres_for_reduction(risk, pcc)
        row["manoeuvres_per_sat_year"] = {
            "value": n_man / sy,
            "interval": scoring.interval([(man[:, b].sum() / n_runs) / sy for b in boot]),
            "poisson": scoring.poisson_interval(man.sum(), sy * n_runs),
        }
        if no_risk:
            row["risk_reduction"] = None
            row["manoeuvres_per_sat_year_at_90"] = None
        else:
            row["risk_reduction"] = {
                "value": scoring.reduction_at(risk, man),
                "interval": scoring.interval(
                    [scoring.reduction_at(risk[:, b], man[:, b]) for b in boot]
                ),
            }
            row["manoeuvres_per_sat_year_at_90"] = {
                "value": n90 / n_runs / sy,
                "reached_with_pc_above_floor": reached,
                "interval": scoring.interval([at90(b) for b in boot]),
            }
        row["workload_per_sat_year"] = {
            f"{lvl:g}": float((pr.pc_max >= lvl).sum() / n_runs / sy) for lvl in dec.WORKLOAD_LEVELS
        }
        sec = pr.sigma_commit_m[np.arange(n_ev), pr.secondary_side]
        row["sigma_at_commit_m"] = {a: float(np.median(sec[:, k])) for k, a in enumerate("RTN")}
        src = pr.source_commit[np.arange(n_ev), pr.secondary_side]
        row["secondary_knowledge_at_commit"] = {
            SOURCE_NAMES[k]: int(np.sum(src == k)) for k in range(len(SOURCE_NAMES))
        }
        w = pr.warning_h[np.isfinite(pr.warning_h)]
        row["warning_time_h"] = float(np.median(w)) if len(w) else None
        row["decision_flips"] = {
            "per_sat_year": float(pr.flips.sum() / n_runs / sy),
            "per_event_with_a_flip": float(pr.flips[pr.flips > 0].mean())
            if np.any(pr.flips)
            else 0.0,
        }
        row["commit_sweep"] = []
        for k, cd in enumerate(commits):
            pk = pr.pc_commit[:, k]
            mk = pk >= sc.pc_threshold
            row["commit_sweep"].append(
                {
                    "commit_days": cd,
                    "manoeuvres_per_sat_year": float(mk.sum() / n_runs / sy),
                    "risk_reduction": None if no_risk else scoring.reduction_at(risk, mk),
                    "manoeuvres_per_sat_year_at_90": None
                    if no_risk
                    else scoring.manoeuvres_for_reduction(risk, pk)[0] / n_runs / sy,
                }
            )
        row["curve"] = scoring.curve(risk, pcc, thresholds, sy)
        row["miss_rule"] = _miss_rule(sc, pr, risk, ci, sy, boot, no_risk)
        rows.append(row)
    _marginal_values(result, rows)
    return rows


def _miss_rule(sc, pr: ParticipantResult, risk, ci: int, sy: float, boot, no_risk: bool):
    """Return the optional miss-distance policy's metrics (None when it is off).

    Manoeuvre when the estimated miss at the commit time is <= ``miss_rule_km``;
    scored exactly like the Pc decisions, and reported apart from them.
    """
    if pr.miss_commit_km is None or sc.miss_rule_km <= 0:
        return None
    n_runs = risk.shape[0]
    man = pr.miss_commit_km[:, ci] <= sc.miss_rule_km
    out = {
        "miss_km": sc.miss_rule_km,
        "manoeuvres_per_sat_year": {
            "value": float(man.sum() / n_runs / sy),
            "interval": scoring.interval([(man[:, b].sum() / n_runs) / sy for b in boot]),
            "poisson": scoring.poisson_interval(man.sum(), sy * n_runs),
        },
        "risk_reduction": None,
        "commit_sweep": [],
    }
    if not no_risk:
        out["risk_reduction"] = {
            "value": scoring.reduction_at(risk, man),
            "interval": scoring.interval(
                [scoring.reduction_at(risk[:, b], man[:, b]) for b in boot]
            ),
        }
    for k, cd in enumerate(sc.sweep_commit_days):
        mk = pr.miss_commit_km[:, k] <= sc.miss_rule_km
        out["commit_sweep"].append(
            {
                "commit_days": cd,
                "manoeuvres_per_sat_year": float(mk.sum() / n_runs / sy),
                "risk_reduction": None if no_risk else scoring.reduction_at(risk, mk),
            }
        )
    return out


def _marginal_values(result: RunResult, rows: list[dict]) -> None:
    """Add to each grouping row the loss when each other member leaves (leave-one-out)."""
    by_key = {r["participant"]: r for r in rows}
    for r in rows:
        if r["kind"] != "grouping":
            continue
        loss = {}
        for o in rows:
            if o["kind"] != "without" or o["member"] != r["member"]:
                continue
            d_cat = (
                r["maintained_objects"]["pooled"]["total"]
                - o["maintained_objects"]["pooled"]["total"]
            )
            a = r.get("manoeuvres_per_sat_year_at_90")
            b = o.get("manoeuvres_per_sat_year_at_90")
            loss[o["without"]] = {
                "maintained_objects_lost": d_cat,
                "extra_manoeuvres_per_sat_year_at_90": (b["value"] - a["value"])
                if a and b
                else None,
            }
        if loss:
            r["without_member"] = loss
    del by_key
