"""Scoring stage: risk reduction against manoeuvres, independent of the network.

Each event's risk is the Pc of its true miss vector under the fixed reference
covariance (``truth.risk``). For a participant and a Pc threshold:

* risk reduction = risk of the events it manoeuvred / risk of all its events;
* manoeuvres per protected satellite per year = manoeuvres / (protected
  satellites x window length in years).

Lowering the threshold manoeuvres a superset of events, so both rise together:
the curve of risk reduction against manoeuvres. ``manoeuvres_for_reduction``
reads the manoeuvres needed for a target reduction (ESA's 90 %) off that curve
exactly: events sorted by their commit-time Pc, the fewest top events whose
risk reaches the target. Monte Carlo runs are pooled (rates divided by the
number of runs); intervals come from a bootstrap over events (each event keeps
its runs), paired between participants that share events.
"""

from __future__ import annotations

import numpy as np

DAYS_PER_YEAR = 365.25
TARGET_REDUCTION = 0.9
INTERVAL = (5.0, 95.0)
BOOTSTRAP_STREAM = 9_000_017


def manoeuvres_for_reduction(risk, pc_commit, target: float = TARGET_REDUCTION):
    """Return (manoeuvres, reached): fewest manoeuvres whose risk share reaches ``target``.

    risk, pc_commit: (R, E) per run and event. Manoeuvres are summed over runs.
    ``reached`` is False when the target needs events whose Pc is 0 (below the
    evaluation floor): then every event with Pc > 0 is counted, plus the zero-Pc
    events in the proportion of the missing risk (random choice among them).
    """
    r = np.asarray(risk, dtype=float).ravel()
    p = np.asarray(pc_commit, dtype=float).ravel()
    total = r.sum()
    if total <= 0:
        return 0.0, True
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(r[order]) / total
    n_pos = int(np.sum(p > 0))
    idx = int(np.searchsorted(cum, target - 1e-12))
    if idx < n_pos:
        # Ties: a threshold manoeuvres every event with the same Pc.
        pc_at = p[order[idx]]
        return float(np.sum(p >= pc_at)), True
    share_pos = cum[n_pos - 1] if n_pos else 0.0
    zero_risk = 1.0 - share_pos
    n_zero = len(p) - n_pos
    need = (target - share_pos) / zero_risk if zero_risk > 0 else 1.0
    return float(n_pos + need * n_zero), False


def reduction_at(risk, manoeuvre) -> float:
    """Return the risk share of the manoeuvred events (NaN when no risk)."""
    r = np.asarray(risk, dtype=float)
    total = r.sum()
    return float(np.sum(r * np.asarray(manoeuvre)) / total) if total > 0 else float("nan")


def curve(risk, pc_commit, thresholds, sat_years: float) -> list[dict]:
    """Return [{threshold, manoeuvres_per_sat_year, risk_reduction}] over thresholds."""
    runs = np.asarray(risk).shape[0]
    out = []
    for thr in thresholds:
        man = np.asarray(pc_commit) >= thr
        out.append(
            {
                "threshold": float(thr),
                "manoeuvres_per_sat_year": float(man.sum() / runs / sat_years),
                "risk_reduction": reduction_at(risk, man),
            }
        )
    return out


def bootstrap_index(n_events: int, n_boot: int, seed: int) -> np.ndarray:
    """Return (B, E) resampled event indices (the same for every participant of a member)."""
    rng = np.random.default_rng([seed, BOOTSTRAP_STREAM, n_events])
    return rng.integers(0, max(n_events, 1), size=(n_boot, n_events))


def interval(values) -> list[float] | None:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return None
    return [float(x) for x in np.percentile(v, INTERVAL)]


def poisson_interval(count: float, exposure: float) -> list[float]:
    """Return the exact 90 % Poisson interval of a rate (count / exposure)."""
    from scipy.stats import chi2

    lo = 0.0 if count <= 0 else chi2.ppf(0.05, 2 * count) / 2.0
    hi = chi2.ppf(0.95, 2 * count + 2) / 2.0
    return [float(lo / exposure), float(hi / exposure)]
