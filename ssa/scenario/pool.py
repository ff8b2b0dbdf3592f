"""Pool several scenario runs (start dates, snapshots, seeds) into one set of rates.

Each run folder of ``ssa scenario run`` holds ``decisions.npz``: per alone/grouping
participant, the risk and commit-time Pc of every event that carries either, per
Monte Carlo run, and the participant's protected satellite-years. Pooling
concatenates the events of all runs (same number of Monte Carlo runs each):

* manoeuvres per satellite-year at the Pc threshold = all manoeuvres / all
  satellite-years, with the exact 90 % Poisson interval of the count;
* manoeuvres per satellite-year for 90 % risk reduction (``scoring``) over the
  pooled events, with a 5-95 % bootstrap interval that resamples windows, then
  events within them (the spread between windows counts), and the Poisson
  interval of that manoeuvre count;
* risk reduction at the threshold, total risk per satellite-year.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ssa.scenario import scoring

POOL_STREAM = 9_100_003


def load_decisions(run_dir) -> dict:
    """Return {participant slug: {risk, pc, sat_years, events_total}} and settings of a run."""
    path = Path(run_dir) / "decisions.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {run_dir} an 'ssa scenario run' folder?")
    with np.load(path) as d:
        out = {"_settings": {k: d[k].item() for k in ("pc_threshold", "days", "runs")}}
        for k in d.files:
            if "__" not in k:
                continue
            name, field = k.split("__", 1)
            out.setdefault(name, {})[field] = d[k] if d[k].ndim else d[k].item()
    return out


def run_dirs(paths) -> list[Path]:
    """Return the run folders under ``paths`` (a folder with decisions.npz, or its sub-folders)."""
    found = []
    for p in map(Path, paths):
        if (p / "decisions.npz").exists():
            found.append(p)
        else:
            found += sorted(q.parent for q in p.glob("*/decisions.npz"))
    if not found:
        raise FileNotFoundError(f"no decisions.npz under {', '.join(map(str, paths))}")
    return found


def pool(paths, n_boot: int = 400, seed: int = 0) -> dict:
    """Return pooled metrics per alone/grouping participant over the runs under ``paths``."""
    dirs = run_dirs(paths)
    runs = [load_decisions(d) for d in dirs]
    settings = [r["_settings"] for r in runs]
    n_mc = {s["runs"] for s in settings}
    thr = {s["pc_threshold"] for s in settings}
    if len(n_mc) != 1 or len(thr) != 1:
        raise ValueError(
            f"runs differ in Monte Carlo runs {sorted(n_mc)} or Pc threshold {sorted(thr)}: "
            "pool runs of one scenario's sweep"
        )
    n_mc, thr = n_mc.pop(), thr.pop()
    names = [k for k in runs[0] if k != "_settings"]
    rng = np.random.default_rng([seed, POOL_STREAM])
    out = {
        "runs": [str(d) for d in dirs],
        "windows": len(dirs),
        "window_days": float(sum(s["days"] for s in settings)),
        "monte_carlo_runs": int(n_mc),
        "pc_threshold": float(thr),
        "participants": {},
    }
    for name in names:
        parts = [r[name] for r in runs if name in r]
        sy = float(sum(p["sat_years"] for p in parts))
        risk = [np.atleast_2d(p["risk"]).reshape(n_mc, -1) for p in parts]
        pc = [np.atleast_2d(p["pc"]).reshape(n_mc, -1) for p in parts]
        r_all, p_all = np.concatenate(risk, axis=1), np.concatenate(pc, axis=1)
        man = p_all >= thr
        row = {
            "member": str(parts[0].get("member", name.rsplit("-", 1)[0])),
            "kind": str(parts[0].get("kind", name.rsplit("-", 1)[-1])),
            "sat_years": sy,
            "events": int(sum(p["events_total"] for p in parts)),
            "events_with_risk_or_pc": int(r_all.shape[1]),
            "risk_per_sat_year": float(r_all.sum() / n_mc / sy) if sy > 0 else None,
            "manoeuvres_per_sat_year": None,
            "manoeuvres_per_sat_year_at_90": None,
            "risk_reduction": None,
        }
        if sy <= 0:
            out["participants"][name] = row
            continue
        row["manoeuvres_per_sat_year"] = {
            "value": float(man.sum() / n_mc / sy),
            "poisson": scoring.poisson_interval(man.sum(), sy * n_mc),
        }
        if r_all.sum() / n_mc >= 1e-6:
            n90, reached = scoring.manoeuvres_for_reduction(r_all, p_all)
            boot = []
            for _ in range(n_boot):
                w = rng.integers(0, len(parts), len(parts))
                idx = [rng.integers(0, risk[k].shape[1], risk[k].shape[1]) for k in w]
                rb = np.concatenate([risk[k][:, i] for k, i in zip(w, idx, strict=True)], axis=1)
                pb = np.concatenate([pc[k][:, i] for k, i in zip(w, idx, strict=True)], axis=1)
                sy_b = sum(parts[k]["sat_years"] for k in w)
                boot.append(scoring.manoeuvres_for_reduction(rb, pb)[0] / n_mc / sy_b)
            row["manoeuvres_per_sat_year_at_90"] = {
                "value": float(n90 / n_mc / sy),
                "reached_with_pc_above_floor": bool(reached),
                "interval": scoring.interval(boot),
                "poisson": scoring.poisson_interval(round(n90), sy * n_mc),
            }
            row["risk_reduction"] = {"value": scoring.reduction_at(r_all, man)}
        out["participants"][name] = row
    return out


def format_pooled(pooled: dict) -> str:
    """Return a Markdown table: per member alone vs grouping, pooled rates with intervals."""

    def cell(m, key, iv):
        if not m or not m.get(key):
            return "n/a"
        v = m[key]
        lo, hi = v.get(iv) or (None, None)
        return f"{v['value']:.2f}" + (f" [{lo:.2f}-{hi:.2f}]" if lo is not None else "")

    members = []
    for k, v in pooled["participants"].items():
        base = k.rsplit("-", 1)[0]
        if base not in [b for b, _ in members]:
            members.append((base, v.get("member", base)))
    lines = [
        f"{pooled['windows']} windows, {pooled['window_days']:g} days, "
        f"{pooled['monte_carlo_runs']} Monte Carlo runs each",
        "",
        "| member | sat-years | manoeuvres/sat-yr for 90 % risk reduction, alone "
        "| in grouping | manoeuvres/sat-yr at Pc threshold, alone | in grouping |",
        "|---|---|---|---|---|---|",
    ]
    for base, label in members:
        a = pooled["participants"].get(f"{base}-alone", {})
        g = pooled["participants"].get(f"{base}-grouping", {})
        lines.append(
            f"| {label} | {a.get('sat_years', 0):.2f} | "
            f"{cell(a, 'manoeuvres_per_sat_year_at_90', 'interval')} | "
            f"{cell(g, 'manoeuvres_per_sat_year_at_90', 'interval')} | "
            f"{cell(a, 'manoeuvres_per_sat_year', 'poisson')} | "
            f"{cell(g, 'manoeuvres_per_sat_year', 'poisson')} |"
        )
    return "\n".join(lines)


def write_pooled(paths, out_json, n_boot: int = 400) -> dict:
    """Pool the runs under ``paths`` and write the result as JSON to ``out_json``."""
    pooled = pool(paths, n_boot=n_boot)
    Path(out_json).write_text(json.dumps(pooled, indent=1) + "\n")
    return pooled
