"""Tasking stage: finite sensors spend a daily track budget on the whole catalog.

Over the simulated history before the window (``window.history_days``), the
visibility kernel (``tracking.track``) counts each sensor's passes of every
catalog object per day. Each sensor then has ``capacity_per_day`` tracks a
day (one track per pass; sensors.csv ``basis`` says which budgets are
published and which judgement). The scheduler spends it day by day, for each
sensor of a member in table order:

1. partners of the member's protected satellites in the conjunctions a screen
   at the window start shows (TCA within ``screen_ahead_days``), one track each;
2. then the objects its member has gone longest without tracking (the proxy for
   "largest predicted error": predicted error grows with time since the last
   track), one track each;
3. leftover budget buys further passes of the same objects, in the same order.

Tasking does not change with sharing (each member tasks for its own
priorities; a pool sees the union). The result is a steady-state track rate
per sensor and object (tracks a day), from which knowledge at any time in
the window follows (``knowledge``): geometry repeats daily to first order,
and a 30-day window does not need 30 days of whole-catalog tracking.

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
    objects each member wants first (conjunction partners).
    """
    passes = np.asarray(passes)
    n_s, n_obj, n_days = passes.shape
    n_mem = max(int(np.max(sensor_member)) + 1 if n_s else 0, len(priority_mask))
    rng = np.random.default_rng([seed, SCHEDULER_STREAM])
    tracks = np.zeros(passes.shape, dtype=np.int32)
    # Days since the member last tracked each object: random start (no history before).
    since = rng.uniform(0.0, 3.0, (n_mem, n_obj))
    tie = rng.random((n_s, n_obj)) * 1e-3
    for d in range(n_days):
        for s in range(n_s):
            m = int(sensor_member[s])
            vis = np.flatnonzero(passes[s, :, d] > 0)
            if len(vis) == 0:
                continue
            cap = budget[s]
            cap = len(vis) * 1000 if not np.isfinite(cap) else int(cap)
            prio = since[m, vis] + tie[s, vis]
            if m < len(priority_mask):
                prio = prio + np.where(priority_mask[m, vis], 1e6, 0.0)
            order = vis[np.argsort(-prio, kind="stable")]
            first = order[:cap]
            tracks[s, first, d] = 1
            left = cap - len(first)
            if left > 0:
                extra = passes[s, order, d] - 1
                take = np.minimum(extra, np.maximum(left - (np.cumsum(extra) - extra), 0))
                tracks[s, order, d] += take.astype(np.int32)
            since[m, first] = 0.0
        since += 1.0
    return tracks


@dataclass
class Tasking:
    """Steady-state tracking per sensor and object (rates per day)."""

    sensor_ids: np.ndarray  # (S,)
    sensor_member: np.ndarray  # (S,) member index
    weight: np.ndarray  # (S,) information per track (reference tracks)
    passes_per_day: np.ndarray  # (S, N) float32 visible passes a day
    tracks_per_day: np.ndarray  # (S, N) float32 scheduled tracks a day
    budget: np.ndarray  # (S,)
    days: int

    def info_rate(self, sensors_mask) -> np.ndarray:
        """Return (N,) information rate (reference tracks a day) of the selected sensors."""
        w = np.where(np.asarray(sensors_mask, dtype=bool), self.weight, 0.0)
        return (w[:, None] * self.tracks_per_day).sum(axis=0)

    def track_rate(self, sensors_mask) -> np.ndarray:
        """Return (N,) tracks a day of the selected sensors (unweighted)."""
        return self.tracks_per_day[np.asarray(sensors_mask, dtype=bool)].sum(axis=0)


def run_tasking(sc, catalog, table, sensor_member, priority_mask, quiet=True) -> Tasking:
    """Return the Tasking of ``table``'s sensors over the scenario's history before the window."""
    from ssa.geometry import datetime_to_jd
    from ssa.scenario.tracking import object_diameter_m, track

    n_s, n_obj = len(table), len(catalog)
    weight = od.track_weight(table.range_sigma_m, table.angle_sigma_deg, table.is_optical)
    n_days = max(1, int(round(sc.history_days)))
    if n_s == 0 or n_obj == 0:
        z = np.zeros((n_s, n_obj), dtype=np.float32)
        return Tasking(
            np.asarray(table.id), sensor_member, weight, z, z, table.capacity_per_day, n_days
        )
    jd0, fr0 = datetime_to_jd(sc.start)
    # Capability without outages: an outage removes a sensor's share of the information
    # at the assessments whose fit span it overlaps (``assess.KnowledgeContext``).
    t0 = -n_days * SECONDS_PER_DAY
    res = track(
        catalog.satrec_array(),
        object_diameter_m(catalog.rcs_size, catalog.object_type),
        table,
        jd0,
        fr0,
        t0,
        0.0,
        sc.coverage_step_s,
        [0.0],
        quiet=quiet,
        bin_s=SECONDS_PER_DAY,
    )
    passes = res.passes[:, :, :n_days]
    tracks = schedule(passes, table.capacity_per_day, sensor_member, priority_mask, sc.seed)
    return Tasking(
        np.asarray(table.id),
        sensor_member,
        weight,
        passes.mean(axis=2).astype(np.float32),
        tracks.mean(axis=2).astype(np.float32),
        table.capacity_per_day,
        n_days,
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
