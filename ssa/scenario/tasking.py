"""Tasking stage: finite sensors spend a track budget, re-planned at every assessment.

The visibility kernel (``tracking.track``) counts each sensor's passes of every
catalog object over ``window.history_days`` before the window, in bins of the
assessment cadence (8 h); geometry repeats daily to first order, so that
pattern repeats over the run (``visibility_passes``, cached per sensor). Each
sensor has ``capacity_per_day`` tracks a day (one track per pass; sensors.csv
``basis`` says which budgets are published and which judgement), spread over
the bins. The scheduler (``replan``) runs bin by bin from before the first fit
span of the first assessment to the window end; in every bin each sensor of a
member spends its share:

1. partners of the member's protected satellites in the events a screen at
   that time shows (TCA within ``screen_ahead_days``): re-planned at every
   assessment, so each event's partners get tracks in the days before its TCA;
2. objects in the member's catalogue that need a track to stay in it (at most
   ``od.MIN_TRACKS_FOR_OD`` tracks in the fit span, or predicted error past half
   the correlation gate), largest predicted error first;
3. objects outside its catalogue, those closest to entering it first;
4. the rest of its catalogue; leftover budget buys further passes.

A sensor in an ``outage`` has no passes in the bins it covers. An object that does not
exist when a bin's plan is made (a breakup fragment before its event, a destroyed body
after it: ``exists_s``) has no passes in that bin, so it takes no track and no budget.
Tasking does not
change with sharing (each member tasks for its own priorities; a pool sees the
union). Knowledge at an assessment counts the tracks in the trailing fit span
(``Tasking.in_span``).

Coverage stage (``maintained``): an object is in a participant's maintained
catalogue while it gets at least ``od.MIN_TRACKS_FOR_OD`` tracks per fit span
and its predicted in-track error one day after the fit stays within
``CORRELATION_GATE_M`` (judgement: tracks farther off than that no longer
correlate with the catalogue entry).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssa.scenario import od

SECONDS_PER_DAY = 86400.0
CORRELATION_GATE_M = 10_000.0
GATE_LEAD_D = 1.0
# Random stream tag of the scheduler's tie-breaks.
SCHEDULER_STREAM = 5_000_011
REGIMES = ("LEO", "MEO", "GEO", "HEO")
# Offsets of the scheduler's priority tiers (above any predicted error in m, capped at
# 1e12): conjunction partners always first.
TIER = 1e14
PARTNER_PRIORITY = 1e16


def regime_names(perigee_km, apogee_km) -> np.ndarray:
    """Return LEO (apogee < 2000 km), GEO (perigee > 30,000 km, apogee < 40,000 km), HEO
    (perigee < 2000 km, apogee > 2000 km, or apogee >= 40,000 km) or MEO per object."""
    hp = np.asarray(perigee_km, dtype=float)
    ha = np.asarray(apogee_km, dtype=float)
    out = np.full(hp.shape, "MEO", dtype=object)
    out[(hp < 2000) & (ha > 2000) | (ha >= 40000)] = "HEO"
    out[(hp > 30000) & (ha < 40000)] = "GEO"
    out[ha < 2000] = "LEO"
    return out


def schedule(passes, budget, sensor_member, priority_mask, seed: int = 0) -> np.ndarray:
    """Return tracks (S, N, D) int: each sensor's budget spent on its passes, day by day.

    passes (S, N, D) passes per sensor, object and day; budget (S,) tracks a day
    (NaN: unlimited); sensor_member (S,) member index; priority_mask (M, N) bool,
    objects each member wants first (conjunction partners). The same plan as
    ``replan`` with one-day bins and fixed priorities.
    """
    passes = np.asarray(passes)
    n_days = passes.shape[2]
    return replan(
        lambda b: passes[:, :, b],
        np.asarray(budget, dtype=float),
        sensor_member,
        lambda b: priority_mask,
        n_days,
        1.0,
        seed=seed,
    )


def bin_budgets(budget_per_day, n_bins: int, bin_d: float) -> np.ndarray:
    """Return (S, B) tracks per bin: the daily budget spread over bins, fractions carried."""
    x = np.asarray(budget_per_day, dtype=float)[:, None] * bin_d
    k = np.arange(n_bins + 1)[None, :]
    with np.errstate(invalid="ignore"):
        edges = np.floor(x * k + 1e-9)
    return np.where(np.isfinite(x), np.diff(edges, axis=1), np.nan)


def replan(
    passes_at,
    budget_per_day,
    sensor_member,
    priority_at,
    n_bins: int,
    bin_d: float,
    seed: int = 0,
    predicted_error=None,
    span_bins: int = 0,
    gate: float = np.inf,
    min_tracks: int = od.MIN_TRACKS_FOR_OD,
) -> np.ndarray:
    """Return tracks (S, N, B) int8: the scheduler re-planned at every bin (assessment).

    passes_at(b) -> (S, N) passes in bin b; budget_per_day (S,) (NaN: unlimited);
    priority_at(b) -> (M, N) bool, each member's protected satellites' current
    conjunction partners (served first). predicted_error(m, idx, since_d, n_span) ->
    the member's predicted error of objects idx, since_d days after their last track
    with n_span tracks in the trailing ``span_bins`` bins (default: since_d).

    With ``span_bins`` (catalogue maintenance): an object is in the member's
    catalogue while it has >= ``min_tracks`` tracks in the span and its predicted
    error is within ``gate``. After partners come catalogue objects that need a track
    to stay in it (``min_tracks`` or fewer in the span, or error past half the gate),
    largest predicted error first; then objects outside the catalogue, those closest
    to entering it first (most tracks in the span, then most recent); then the rest
    of the catalogue, largest error first. Without it: largest predicted error first.
    Leftover budget buys further passes in the same order. Each sensor's tracks in a
    bin never exceed its passes or its share of the daily budget (``bin_budgets``).
    """
    sensor_member = np.asarray(sensor_member)
    first = np.asarray(passes_at(0))
    n_s, n_obj = first.shape
    prio0 = np.asarray(priority_at(0))
    n_mem = max(int(np.max(sensor_member)) + 1 if n_s else 0, len(prio0))
    rng = np.random.default_rng([seed, SCHEDULER_STREAM])
    tracks = np.zeros((n_s, n_obj, n_bins), dtype=np.int8)
    # Days since the member last tracked each object: random start (no history before).
    since = rng.uniform(0.0, 3.0, (n_mem, n_obj))
    hist = np.zeros((n_mem, n_obj, max(span_bins, 1)), dtype=np.int8)
    n_span = np.zeros((n_mem, n_obj), dtype=np.int64)
    tie = rng.random((n_s, n_obj)) * 1e-3
    caps = bin_budgets(budget_per_day, n_bins, bin_d)
    members = sorted(set(int(x) for x in sensor_member))
    everything = np.arange(n_obj)
    if predicted_error is None:

        def predicted_error(m, idx, since_d, n):
            return since_d

    for b in range(n_bins):
        passes = first if b == 0 else np.asarray(passes_at(b))
        prio_mask = prio0 if b == 0 else np.asarray(priority_at(b))
        slot = b % hist.shape[2]
        if span_bins:  # tracks older than the span age out
            n_span -= hist[:, :, slot]
            hist[:, :, slot] = 0
        err = {
            m: np.array(predicted_error(m, everything, since[m], n_span[m]), dtype=float)
            for m in members
        }
        for s in range(n_s):
            m = int(sensor_member[s])
            vis = np.flatnonzero(passes[s] > 0)
            if len(vis) == 0:
                continue
            cap = caps[s, b]
            cap = len(vis) * 1000 if not np.isfinite(cap) else int(cap)
            t = tie[s, vis]
            e = np.minimum(err[m][vis], 1e12)
            key = e * (1.0 + t) + t
            if span_bins:
                n = n_span[m, vis]
                kept = (n >= min_tracks) & (e <= gate)
                need = kept & ((n <= min_tracks) | (e > 0.5 * gate))
                outside = n * 1e6 - np.minimum(since[m, vis], 1e5) + t
                key = np.where(need, 3 * TIER + key, np.where(kept, TIER + key, 2 * TIER + outside))
            if m < len(prio_mask):
                key = key + np.where(prio_mask[m, vis], PARTNER_PRIORITY, 0.0)
            order = vis[np.argsort(-key, kind="stable")]
            chosen = order[:cap]
            tracks[s, chosen, b] = 1
            left = cap - len(chosen)
            if left > 0:
                extra = np.minimum(passes[s, order] - 1, 126)
                take = np.minimum(extra, np.maximum(left - (np.cumsum(extra) - extra), 0))
                tracks[s, order, b] += take.astype(np.int8)
            since[m, chosen] = 0.0
            if span_bins:
                hist[m, chosen, slot] += 1
                n_span[m, chosen] += 1
            err[m][chosen] = predicted_error(m, chosen, since[m, chosen], n_span[m, chosen])
        since += bin_d
    return tracks


@dataclass
class Tasking:
    """Tracking per sensor and object: re-planned per bin, and as rates per day.

    ``tracks_bins`` (S, N, B) tracks in bin b = [t0_s + b bin_s, t0_s + (b+1) bin_s)
    (seconds from the window start), None for a steady-state Tasking.
    """

    sensor_ids: np.ndarray  # (S,)
    sensor_member: np.ndarray  # (S,) member index
    weight: np.ndarray  # (S,) information per track (reference tracks)
    passes_per_day: np.ndarray  # (S, N) float32 visible passes a day
    tracks_per_day: np.ndarray  # (S, N) float32 scheduled tracks a day (mean)
    budget: np.ndarray  # (S,)
    days: int
    tracks_bins: np.ndarray | None = None
    t0_s: float = 0.0
    bin_s: float = SECONDS_PER_DAY
    # (N,) share of the scheduled bins in which each object exists (security events:
    # a fragment only after its breakup); None: every object in every bin.
    exist_fraction: np.ndarray | None = None

    def _while_existing(self, rate) -> np.ndarray:
        """Return ``rate`` (N,) per day the object exists rather than per scheduled day."""
        if self.exist_fraction is None:
            return rate
        f = self.exist_fraction
        return np.where(f > 0, rate / np.maximum(f, 1e-12), 0.0)

    def info_rate(self, sensors_mask) -> np.ndarray:
        """Return (N,) information rate (reference tracks a day while the object exists)
        of the selected sensors."""
        w = np.where(np.asarray(sensors_mask, dtype=bool), self.weight, 0.0)
        return self._while_existing((w[:, None] * self.tracks_per_day).sum(axis=0))

    def track_rate(self, sensors_mask) -> np.ndarray:
        """Return (N,) tracks a day while the object exists of the selected sensors
        (unweighted)."""
        return self._while_existing(
            self.tracks_per_day[np.asarray(sensors_mask, dtype=bool)].sum(axis=0)
        )

    def cumulative(self, sensors_mask, obj) -> tuple[np.ndarray, np.ndarray]:
        """Return (info, tracks) (E, B+1) of objects ``obj`` summed over bins up to each edge."""
        sel = np.flatnonzero(np.asarray(sensors_mask, dtype=bool))
        n = len(obj)
        info = np.zeros((n, self.tracks_bins.shape[2] + 1), dtype=np.float64)
        count = np.zeros_like(info)
        for s in sel:
            t = self.tracks_bins[s][obj]
            info[:, 1:] += self.weight[s] * t
            count[:, 1:] += t
        return np.cumsum(info, axis=1), np.cumsum(count, axis=1)

    def in_span(self, cum, t_s, span_s, rows=None) -> np.ndarray:
        """Return (E, K) the amount of ``cum`` (U, B+1) within [t - span, t] for t_s (E, K).

        ``rows`` (E,): the row of ``cum`` of each event (default: row e for event e).
        Tracks are spread evenly over their bin.
        """
        n_b = cum.shape[1] - 1
        r = (np.arange(len(t_s)) if rows is None else np.asarray(rows))[:, None]

        def at(t):
            u = np.clip((t - self.t0_s) / self.bin_s, 0.0, n_b)
            k = np.minimum(np.floor(u).astype(np.int64), n_b - 1)
            f = u - k
            return cum[r, k] * (1 - f) + cum[r, k + 1] * f

        return np.maximum(at(t_s) - at(t_s - span_s), 0.0)


VISIBILITY_VERSION = "tracking-v1"
VISIBILITY_FIELDS = (
    "id type mode lat_deg lon_deg alt_m min_el_deg max_el_deg az_min_deg az_max_deg "
    "fan_az_deg min_range_km max_range_km ref_size_m ref_range_km"
).split()


def visibility_passes(
    catalog, table, jd0, fr0, t0_s, n_bins, bin_s, step_s, cache_dir=None, quiet=True
):
    """Return (S, N, n_bins) passes per sensor, object and bin from t0_s (s after jd0+fr0).

    With ``cache_dir``, each sensor's passes are kept in one file keyed by the catalog's
    element sets and sizes, the sensor's geometry and the time grid, and reused.
    """
    import hashlib
    from pathlib import Path

    from ssa.scenario.tracking import object_diameter_m, track

    n_s, n_obj = len(table), len(catalog)
    out = np.zeros((n_s, n_obj, n_bins), dtype=np.int32)
    diam = object_diameter_m(catalog.rcs_size, catalog.object_type)
    paths = [None] * n_s
    todo = list(range(n_s))
    if cache_dir is not None:
        base = hashlib.sha256()
        for arr in (catalog.norad_id, catalog.epoch_jd, catalog.epoch_fr, diam):
            base.update(np.ascontiguousarray(arr).tobytes())
        base.update(
            f"{VISIBILITY_VERSION}|{jd0!r}|{fr0!r}|{t0_s!r}|{n_bins}|{bin_s!r}|{step_s!r}".encode()
        )
        todo = []
        for s in range(n_s):
            h = base.copy()
            h.update(repr([str(getattr(table, f)[s]) for f in VISIBILITY_FIELDS]).encode())
            paths[s] = Path(cache_dir) / f"passes-{h.hexdigest()[:24]}.npy"
            if paths[s].exists():
                out[s] = np.load(paths[s])
            else:
                todo.append(s)
    if todo:
        res = track(
            catalog.satrec_array(),
            diam,
            table.subset(np.array(todo, dtype=np.int64)),
            jd0,
            fr0,
            t0_s,
            t0_s + n_bins * bin_s,
            step_s,
            [0.0],
            quiet=quiet,
            bin_s=bin_s,
        )
        for k, s in enumerate(todo):
            out[s] = res.passes[k, :, :n_bins]
            if paths[s] is not None:
                paths[s].parent.mkdir(parents=True, exist_ok=True)
                tmp = paths[s].with_suffix(".tmp.npy")
                np.save(tmp, out[s])
                tmp.replace(paths[s])
    return out


def run_tasking(
    sc,
    catalog,
    table,
    sensor_member,
    priority_mask,
    quiet=True,
    partners_at=None,
    cache_dir=None,
    exists_s=None,
) -> Tasking:
    """Return the Tasking of ``table``'s sensors, re-planned every ``cadence_h``.

    Passes come from ``history_days`` of whole-catalog visibility before the window,
    binned by the assessment cadence and repeated (geometry repeats daily to first
    order); the scheduler is re-run in every bin from ``history_days`` before the
    first fit span of the first assessment to the window end. ``partners_at(t0, t1)``
    -> (M, N) bool gives each member's partners in the events a screen at t0 shows
    (TCA up to t1); without it, ``priority_mask`` is used in every bin. A sensor in
    an outage has no passes in the bins whose middle falls inside it.

    ``exists_s``: (from_s, until_s) (N,) s since the window start (security events,
    ``security_truth.EventObjects.exists_s``). An object has no passes in a bin unless it
    exists at the bin's start, when that bin's plan is made: nobody tasks a sensor on a
    fragment before its breakup (nor on a destroyed parent after it).
    """
    from ssa.geometry import datetime_to_jd

    n_s, n_obj = len(table), len(catalog)
    weight = od.track_weight(table.range_sigma_m, table.angle_sigma_deg, table.is_optical)
    n_days = max(1, int(round(sc.history_days)))
    if n_s == 0 or n_obj == 0:
        z = np.zeros((n_s, n_obj), dtype=np.float32)
        return Tasking(
            np.asarray(table.id), sensor_member, weight, z, z, table.capacity_per_day, n_days
        )
    jd0, fr0 = datetime_to_jd(sc.start)
    bin_s = sc.cadence_h * 3600.0
    n_cycle = max(1, int(round(n_days * SECONDS_PER_DAY / bin_s)))
    cycle_s = n_cycle * bin_s
    passes = visibility_passes(
        catalog, table, jd0, fr0, -cycle_s, n_cycle, bin_s, sc.coverage_step_s, cache_dir, quiet
    )
    # Bins from a whole number of cycles before the first fit span, to the window end.
    need_s = (sc.screen_ahead_days + sc.fit_span_days) * SECONDS_PER_DAY + cycle_s
    t0_s = -np.ceil(need_s / cycle_s) * cycle_s
    n_bins = int(np.ceil((sc.days * SECONDS_PER_DAY - t0_s) / bin_s))
    mid = t0_s + (np.arange(n_bins) + 0.5) * bin_s
    ids = list(np.asarray(table.id))
    down = np.zeros((n_s, n_bins), dtype=bool)
    for e in getattr(sc, "events", ()):
        if e.kind == "outage" and e.sensor in ids:
            a = (e.start - sc.start).total_seconds()
            b = (e.end - sc.start).total_seconds()
            down[ids.index(e.sensor)] |= (mid >= a) & (mid <= b)

    absent = np.zeros((n_bins, n_obj), dtype=bool)
    if exists_s is not None:
        plan_s = t0_s + np.arange(n_bins)[:, None] * bin_s
        from_s, until_s = (np.asarray(a, dtype=float)[None, :] for a in exists_s)
        absent = (plan_s < from_s) | (plan_s >= until_s)

    def passes_at(b):
        p = passes[:, :, b % n_cycle]
        p = np.where(down[:, b][:, None], 0, p) if down[:, b].any() else p
        return np.where(absent[b][None, :], 0, p) if absent[b].any() else p

    ahead_s = sc.screen_ahead_days * SECONDS_PER_DAY
    if partners_at is None:
        prio = np.asarray(priority_mask)

        def priority_at(b):
            return prio
    else:

        def priority_at(b):
            t = t0_s + b * bin_s
            return partners_at(t, t + ahead_s)

    bal = od.ballistic_from_bstar(catalog.bstar, catalog.object_type)
    model = od.load_model()

    def predicted_error(m, idx, since_d, n_span):
        # In-track sigma one gate lead after now of an orbit from the tracks in the span
        # (counted as reference tracks), as the coverage stage's ``maintained`` judges it.
        # No track in the span: infinite (measurement_var_m2 overflows to inf there).
        with np.errstate(over="ignore"):
            return model.sigma_rtn_m(
                since_d + GATE_LEAD_D,
                n_span,
                bal[idx],
                catalog.perigee_km[idx],
                catalog.apogee_km[idx],
            )[:, 1]

    tracks = replan(
        passes_at,
        table.capacity_per_day,
        sensor_member,
        priority_at,
        n_bins,
        bin_s / SECONDS_PER_DAY,
        seed=sc.seed,
        predicted_error=predicted_error,
        span_bins=max(1, int(round(sc.fit_span_days * SECONDS_PER_DAY / bin_s))),
        gate=CORRELATION_GATE_M,
    )
    total_d = n_bins * bin_s / SECONDS_PER_DAY
    return Tasking(
        np.asarray(table.id),
        sensor_member,
        weight,
        (passes.sum(axis=2) / (cycle_s / SECONDS_PER_DAY)).astype(np.float32),
        (tracks.sum(axis=2, dtype=np.float64) / total_d).astype(np.float32),
        table.capacity_per_day,
        n_days,
        tracks_bins=tracks,
        t0_s=float(t0_s),
        bin_s=bin_s,
        # the coverage stage's rates count only the days an object exists
        exist_fraction=None if exists_s is None else 1.0 - absent.mean(axis=0),
    )


def maintained(
    model: od.OdModel, info_rate, track_rate, span_days, ballistic, perigee_km, apogee_km
) -> np.ndarray:
    """Return (N,) bool: objects a participant with these rates keeps in its catalogue."""
    info = np.asarray(info_rate) * span_days
    enough = np.asarray(track_rate) * span_days >= od.MIN_TRACKS_FOR_OD
    sig = model.sigma_rtn_m(
        np.full(len(info), GATE_LEAD_D), np.maximum(info, 1e-12), ballistic, perigee_km, apogee_km
    )
    return enough & (sig[:, 1] <= CORRELATION_GATE_M)


def count_by_regime(mask, regimes) -> dict:
    """Return {regime: count, 'total': count} of the objects in ``mask``."""
    out = {r: int(np.sum(mask & (regimes == r))) for r in REGIMES}
    out["total"] = int(np.sum(mask))
    return out
