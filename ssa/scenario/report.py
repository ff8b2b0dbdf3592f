"""Outputs of a scenario run: summary.json, one CSV per participant, figures, report.html."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from pathlib import Path

import numpy as np

import ssa
from ssa.scenario import assess, decisions, od, tasking, truth
from ssa.scenario.assess import RunResult

COASTLINES = Path(__file__).resolve().parent / "data" / "coastlines.npz"


def slug(text: str) -> str:
    """Return a file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _clean(x):
    """Return ``x`` with numpy scalars and non-finite floats made JSON-safe."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def summary(result: RunResult) -> dict:
    """Return the summary.json content of a run."""
    sc = result.scenario
    fit = json.loads(od.DEFAULT_FIT_PATH.read_text()) if od.DEFAULT_FIT_PATH.exists() else {}
    return _clean(
        {
            "ssa_version": ssa.__version__,
            "scenario": sc.name,
            "description": sc.description,
            "seed": sc.seed,
            "settings": sc.settings(),
            "counts": result.counts,
            "protected_satellites": result.protected_counts,
            "participants": result.metrics(),
            "tasking": result.tasking_summary,
            "tracks_per_day_per_leo_object_by_inclination": result.tracks_by_inclination,
            "knowledge_model": {
                "params": od.load_model().to_json(),
                "leave_one_cdm_out": fit.get("leave_one_cdm_out"),
            },
            "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
            "notes": result.notes,
            "rules": {
                "risk": "Foster Pc of the true miss vector (SGP4 + true offset drawn from the public "
                f"element set's error) under a fixed reference covariance, R/T/N "
                f"{truth.REFERENCE_SIGMA_RTN_M} m per object; the same in every scenario",
                "manoeuvre": f"Pc >= {sc.pc_threshold:g} at the last assessment at or before TCA - "
                f"{sc.commit_days} d (assessments every {sc.cadence_h} h from "
                f"{sc.screen_ahead_days} d before TCA)",
                "risk_reduction": "risk of the manoeuvred events / risk of all the member's events",
                "manoeuvres_per_sat_year_at_90": "fewest manoeuvres (highest threshold) removing 90 % "
                "of the risk, per protected satellite-year",
                "workload": f"events whose Pc reached {decisions.WORKLOAD_LEVELS} up to the commit "
                "time, per protected satellite-year",
                "warning_time_h": f"median TCA minus the first assessment with Pc >= "
                f"{decisions.WARNING_PC:g}",
                "maintained_objects": f"objects with >= {od.MIN_TRACKS_FOR_OD} tracks per fit span "
                f"and predicted in-track error <= "
                f"{tasking.CORRELATION_GATE_M / 1000:g} km one day after",
                "intervals": "5-95 % bootstrap over events (Monte Carlo runs pooled); "
                "'poisson': exact 90 % interval of the manoeuvre count",
            },
        }
    )


def event_rows(result: RunResult, key: str) -> list[dict]:
    """Return one dict per event of participant ``key`` (Monte Carlo run 0, headline commit)."""
    c = result.truth.conj
    pr = result.results[key]
    sc = result.scenario
    ci = list(sc.sweep_commit_days).index(sc.commit_days)
    rows = []
    for n, i in enumerate(pr.events.tolist()):
        sec = int(pr.secondary_side[n])
        sig = pr.sigma_commit_m[n, sec]
        rows.append(
            {
                "NORAD_CAT_ID_1": int(c["norad1"][i]),
                "OBJECT_NAME_1": c["name1"][i],
                "OWNER_1": c["owner1"][i],
                "NORAD_CAT_ID_2": int(c["norad2"][i]),
                "OBJECT_NAME_2": c["name2"][i],
                "OWNER_2": c["owner2"][i],
                "TCA": c["tca_utc"][i],
                "SGP4_MISS_KM": f"{c['miss_km'][i]:.4f}",
                "HBR_M": f"{c['hbr_m'][i]:.2f}",
                "RISK": f"{result.risk[0, i]:.4g}",
                "PC_AT_COMMIT": f"{pr.pc_commit[0, ci, n]:.4g}",
                "MANOEUVRE": int(pr.pc_commit[0, ci, n] >= sc.pc_threshold),
                "PC_MAX": f"{pr.pc_max[0, n]:.4g}",
                "DECISION_FLIPS": int(pr.flips[0, n]),
                "WARNING_H": ""
                if not np.isfinite(pr.warning_h[0, n])
                else f"{pr.warning_h[0, n]:.1f}",
                "SECONDARY": sec + 1,
                "SECONDARY_KNOWLEDGE": assess.SOURCE_NAMES[pr.source_commit[n, sec]],
                "SECONDARY_SIGMA_R_M": f"{sig[0]:.1f}",
                "SECONDARY_SIGMA_T_M": f"{sig[1]:.1f}",
                "SECONDARY_SIGMA_N_M": f"{sig[2]:.1f}",
            }
        )
    return rows


def write_decisions(result: RunResult, path) -> None:
    """Write the per-event risk and commit-time Pc (every run) of the alone and grouping
    participants, for pooling several runs (``ssa.scenario.pool``).

    Events whose risk and Pc are 0 in every run carry neither risk nor manoeuvres
    and are left out; ``events_total`` keeps their count.
    """
    sc = result.scenario
    ci = list(sc.sweep_commit_days).index(sc.commit_days)
    arrays = {
        "pc_threshold": np.float64(sc.pc_threshold),
        "days": np.float64(sc.days),
        "runs": np.int64(sc.monte_carlo_runs),
    }
    for p in result.participants:
        if p.kind not in ("alone", "grouping"):
            continue
        pr = result.results[p.key]
        risk = result.risk[:, pr.events]
        pc = pr.pc_commit[:, ci] if pr.pc_commit.size else np.zeros_like(risk)
        keep = np.any(risk > 0, axis=0) | np.any(pc > 0, axis=0)
        name = slug(p.key)
        arrays[f"{name}__risk"] = risk[:, keep]
        arrays[f"{name}__pc"] = pc[:, keep]
        arrays[f"{name}__events_total"] = np.int64(len(pr.events))
        arrays[f"{name}__sat_years"] = np.float64(result.sat_years(p.member))
        arrays[f"{name}__member"] = np.array(sc.members[p.member].name)
        arrays[f"{name}__kind"] = np.array(p.kind)
    np.savez_compressed(path, **arrays)


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def draw_coastlines(ax, **style) -> int:
    """Draw the offline world coastlines on ``ax``; return the number of polylines drawn."""
    if not COASTLINES.exists():
        return 0
    with np.load(COASTLINES) as data:
        pts, lengths = data["points"], data["lengths"]
    start = 0
    for n in lengths.tolist():
        seg = pts[start : start + n]
        start += n
        ax.plot(seg[:, 0], seg[:, 1], **({"color": "0.5", "lw": 0.6} | style))
    return len(lengths)


def figures(result: RunResult, rows: list[dict]) -> dict:
    """Return {name: matplotlib figure} of the report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sc = result.scenario
    members = [m.name for m in sc.members]
    by = {r["participant"]: r for r in rows}
    colors = plt.get_cmap("tab10")
    figs = {}

    fig, ax = plt.subplots(figsize=(11, 5.5))
    draw_coastlines(ax)
    t = sc.sensors
    owner = {s: i for i, m in enumerate(sc.members) for s in m.sensors}
    outaged = {e.sensor for e in sc.events if e.kind == "outage"}
    for i, m in enumerate(sc.members):
        for kind, marker in (("radar", "^"), ("optical", "o")):
            sel = [k for k in range(len(t)) if owner.get(t.id[k]) == i and t.type[k] == kind]
            if sel:
                ax.scatter(
                    t.lon_deg[sel],
                    t.lat_deg[sel],
                    marker=marker,
                    s=60,
                    zorder=3,
                    color=colors(i % 10),
                    label=f"{m.name} {kind}",
                    edgecolor="k",
                )
    for k in range(len(t)):
        if t.id[k] in outaged:
            ax.scatter(t.lon_deg[k], t.lat_deg[k], marker="x", s=160, color="red", zorder=4)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title("Sensors by member (triangle radar, circle optical, red x outage)")
    ax.legend(fontsize=7, ncol=3, loc="lower left")
    figs["sensor_map"] = fig

    n = len(members)
    cols = min(3, n)
    rws = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rws, cols, figsize=(4.2 * cols, 3.3 * rws), squeeze=False)
    for k, name in enumerate(members):
        ax = axes[k // cols, k % cols]
        for kind, style in (("alone", "--"), ("grouping", "-")):
            r = by.get(f"{name} {kind}")
            if not r or not r["curve"]:
                continue
            pts = [
                (p["manoeuvres_per_sat_year"], p["risk_reduction"])
                for p in r["curve"]
                if p["risk_reduction"] is not None
            ]
            if pts:
                ax.plot(*zip(*pts, strict=True), style, marker=".", label=kind)
        ax.axhline(0.9, color="k", lw=0.5)
        ax.set_xscale("symlog", linthresh=0.1)
        ax.set_xlim(left=0)
        ax.set_ylim(0, 1.02)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("manoeuvres / sat-year", fontsize=8)
        ax.set_ylabel("risk reduction", fontsize=8)
        if ax.get_lines()[1:]:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no risky event", ha="center", transform=ax.transAxes)
    for k in range(n, rws * cols):
        axes[k // cols, k % cols].axis("off")
    fig.suptitle(
        f"Risk reduction against manoeuvres as the Pc threshold varies (commit {sc.commit_days} d)"
    )
    fig.tight_layout()
    figs["risk_vs_manoeuvres"] = fig

    fig, ax = plt.subplots(figsize=(11, 4))
    x = np.arange(n)
    for off, kind, field in ((-0.2, "alone", "own"), (0.2, "grouping", "pooled")):
        bottom = np.zeros(n)
        for j, reg in enumerate(tasking.REGIMES):
            v = np.array(
                [by[f"{m} {kind}"]["maintained_objects"][field][reg] for m in members], dtype=float
            )
            ax.bar(
                x + off,
                v,
                0.38,
                bottom=bottom,
                color=colors(j),
                alpha=1.0 if kind == "grouping" else 0.55,
                label=f"{reg} ({kind})",
            )
            bottom += v
    ax.set_xticks(x, members, rotation=30)
    ax.set_ylabel("maintained objects")
    ax.set_title(
        "Maintained catalogue by regime: own sensors (left, pale) and with the pool (right)"
    )
    ax.legend(fontsize=7, ncol=4)
    figs["maintained_catalogue"] = fig

    fig, ax = plt.subplots(figsize=(8, 4))
    for kind in ("alone", "grouping"):
        vals = []
        for m in members:
            pr = result.results.get(f"{m} {kind}")
            if pr is None or len(pr.events) == 0:
                continue
            vals.append(pr.sigma_commit_m[np.arange(len(pr.events)), pr.secondary_side, 1])
        if vals:
            v = np.concatenate(vals)
            v = v[np.isfinite(v)]  # unknown secondaries (security events) have no sigma
            ax.hist(
                np.log10(np.maximum(v, 1.0)),
                bins=40,
                alpha=0.55,
                label=f"{kind} (median {np.median(v):.0f} m)",
            )
    ax.set_xlabel("log10 in-track sigma of the secondary at commit (m)")
    ax.set_ylabel("events")
    ax.legend()
    ax.set_title("Knowledge of the secondaries at the commit time")
    figs["sigma_at_commit"] = fig

    fig, ax = plt.subplots(figsize=(9, 4))
    bands = [f"{lo}-{hi}" for lo, hi in assess.INCLINATION_BANDS_DEG]
    names = list(result.tracks_by_inclination)
    w = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        v = [result.tracks_by_inclination[name][b] or 0.0 for b in bands]
        ax.bar(
            np.arange(len(bands)) + (k - len(names) / 2) * w, v, w, label=name, color=colors(k % 10)
        )
    ax.set_xticks(np.arange(len(bands)), [f"{b} deg" for b in bands])
    ax.set_ylabel("tracks a day per LEO object")
    ax.set_title("Tracking by inclination band (the geography effect)")
    ax.legend(fontsize=7, ncol=2)
    figs["tracks_by_inclination"] = fig
    return figs


def _html_table(headers, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _val(d, digits=2):
    if not d:
        return "-"
    v, iv = d.get("value"), d.get("interval")
    if v is None:
        return "-"
    s = f"{v:.{digits}f}"
    return s + (f" [{iv[0]:.{digits}f}-{iv[1]:.{digits}f}]" if iv else "")


def headline_rows(rows: list[dict]) -> list[list]:
    """Return the per-participant headline table (also used by the HTML report)."""
    out = []
    for r in rows:
        if r["kind"] == "without":
            continue
        mo = r["maintained_objects"]
        out.append(
            [
                r["participant"],
                r["sharing"],
                r["events"],
                _val(r["manoeuvres_per_sat_year_at_90"]),
                _val(r["risk_reduction"]),
                _val(r["manoeuvres_per_sat_year"]),
                "-"
                if not r["workload_per_sat_year"]
                else f"{r['workload_per_sat_year']['1e-05']:.1f} / "
                f"{r['workload_per_sat_year']['1e-07']:.1f}",
                "-"
                if not r["sigma_at_commit_m"]
                else "/".join(f"{r['sigma_at_commit_m'][a]:.0f}" for a in "RTN"),
                "-" if r["warning_time_h"] is None else f"{r['warning_time_h']:.0f}",
                f"{mo['own']['total']} / {mo['pooled']['total']} / {mo['public']['total']}",
            ]
        )
    return out


HEADLINE_HEADERS = [
    "participant",
    "sharing",
    "events",
    "manoeuvres/sat-yr at 90 % [5-95 %]",
    "risk reduction at threshold",
    "manoeuvres/sat-yr at threshold",
    "workload/sat-yr Pc>=1e-5 / 1e-7",
    "secondary sigma R/T/N (m)",
    "warning (h)",
    "maintained own / pooled / public",
]


def write_outputs(result: RunResult, out_dir: str | Path) -> dict:
    """Write summary.json, events/<participant>.csv, PNG figures and report.html."""
    out_dir = Path(out_dir)
    (out_dir / "events").mkdir(parents=True, exist_ok=True)
    summ = summary(result)
    if result.truth.events is not None:  # breakups/manoeuvres (ssa.scenario.security_truth)
        from ssa.scenario.security_truth import security_metrics

        summ["security"] = _clean(security_metrics(result))
    (out_dir / "summary.json").write_text(json.dumps(summ, indent=1) + "\n")
    for p in result.participants:
        rows = event_rows(result, p.key)
        with open(
            out_dir / "events" / f"{slug(p.key)}.csv", "w", newline="", encoding="utf-8"
        ) as fh:
            if rows:
                w = csv.DictWriter(fh, list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            else:
                fh.write("NORAD_CAT_ID_1,NORAD_CAT_ID_2,TCA,RISK,PC_AT_COMMIT\n")
    write_decisions(result, out_dir / "decisions.npz")
    figs = figures(result, summ["participants"])
    imgs = {}
    for name, fig in figs.items():
        data = _png(fig)
        (out_dir / f"{name}.png").write_bytes(base64.b64decode(data))
        imgs[name] = data
    sc = result.scenario
    img = "".join(
        f'<figure><img alt="{k}" src="data:image/png;base64,{v}"></figure>' for k, v in imgs.items()
    )
    rules = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in summ["rules"].items()
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scenario {html.escape(sc.name)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:1em auto}}
table{{border-collapse:collapse;font-size:85%}}td,th{{border:1px solid #ccc;padding:2px 6px}}
img{{max-width:100%}}</style></head><body>
<h1>Scenario: {html.escape(sc.name)}</h1>
<p>{html.escape(sc.description)}</p>
<p>Window {html.escape(sc.start.isoformat())} + {sc.days} d, seed {sc.seed},
{sc.monte_carlo_runs} Monte Carlo runs. Catalog {html.escape(sc.catalog_file)}:
{result.counts["catalog_objects"]} objects, {result.counts["protected"]} protected,
{result.counts["conjunctions"]} conjunctions within {sc.threshold_km} km.
Run time {result.timings_s.get("total", 0):.0f} s.</p>
<h2>Per participant</h2>
{_html_table(HEADLINE_HEADERS, headline_rows(summ["participants"]))}
<h2>Rules</h2><ul>{rules}</ul>
<h2>Figures</h2>{img}
<h2>Notes</h2><ul>{"".join(f"<li>{html.escape(n)}</li>" for n in result.notes) or "<li>none</li>"}</ul>
</body></html>
"""
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return summ
