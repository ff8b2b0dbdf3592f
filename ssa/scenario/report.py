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
from ssa.scenario.assess import RunResult

TOP_TURNED = 15


def slug(text: str) -> str:
    """Return a file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def summary(result: RunResult) -> dict:
    """Return the summary.json content of a run."""
    sc = result.scenario
    return {
        "ssa_version": ssa.__version__,
        "scenario": sc.name,
        "description": sc.description,
        "seed": sc.seed,
        "settings": sc.settings(),
        "counts": result.counts,
        "protected_satellites": result.protected_counts,
        "participants": result.metrics(),
        "sensor_coverage_24h": result.sensor_coverage,
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "notes": result.notes,
        "rules": {
            "alert": f"Pc >= {sc.pc_threshold:g} or estimated miss <= {sc.alert_miss_km} km at "
                     f"an assessment up to {sc.decision_lead_h} h before TCA",
            "dangerous": f"true miss <= {sc.dangerous_miss_km} km or true-geometry Pc >= "
                         f"{sc.pc_threshold:g} with the best covariance of all sensors",
            "manoeuvre": "alert at the last assessment before the decision time",
            "coverage_24h": "fraction of catalog objects detected by the participant's survey "
                            "sensors in the 24 h before the window",
        },
    }


def _fmt(x, digits=3):
    if x is None:
        return ""
    if isinstance(x, (float, np.floating)):
        return "" if not np.isfinite(x) else f"{x:.{digits}g}"
    return str(x)


def participant_rows(result: RunResult, p: int) -> list[dict]:
    """Return one dict per conjunction assessed by participant ``p`` (run 0)."""
    part = result.participants[p]
    c = result.conj
    dec = result.decision[part.key]
    sensor_ids = c["sensor_ids"]
    alert_rate = result.alerted[:, p].mean(axis=0)

    def source(code):
        return "public" if code < 0 else str(sensor_ids[code])

    rows = []
    for i in np.flatnonzero(result.relevant[p]):
        al = bool(result.alerted[0, p, i])
        dang = bool(result.dangerous[i])
        outcome = ("caught" if al and dang else "missed" if dang else
                   "false_alert" if al else "quiet")
        rows.append({
            "NORAD_CAT_ID_1": int(c["norad1"][i]), "OBJECT_NAME_1": c["name1"][i],
            "OWNER_1": c["owner1"][i], "OBJECT_TYPE_1": c["type1"][i],
            "NORAD_CAT_ID_2": int(c["norad2"][i]), "OBJECT_NAME_2": c["name2"][i],
            "OWNER_2": c["owner2"][i], "OBJECT_TYPE_2": c["type2"][i],
            "TCA": c["tca_utc"][i], "TRUE_MISS_KM": _fmt(c["miss_km"][i], 5),
            "RELATIVE_SPEED_KMS": _fmt(c["speed_kms"][i], 4), "HBR_M": _fmt(c["hbr_m"][i]),
            "PC_REFERENCE": _fmt(result.pc_ref[i]), "DANGEROUS": int(dang),
            "ALERTED": int(al), "OUTCOME": outcome,
            "WARNING_H": _fmt(result.warning_h[0, p, i], 4),
            "MANOEUVRE": int(result.manoeuvre[0, p, i]),
            "DECISION_EST_MISS_KM": _fmt(dec["est_miss_km"][i], 4),
            "DECISION_EST_PC": _fmt(dec["est_pc"][i]),
            "KNOWLEDGE_FROM": dec["base"][i],
            "SOURCE_1": source(dec["source1"][i]), "SOURCE_2": source(dec["source2"][i]),
            "SIGMA1_R_M": _fmt(dec["sigma1_m"][i][0]), "SIGMA1_T_M": _fmt(dec["sigma1_m"][i][1]),
            "SIGMA1_N_M": _fmt(dec["sigma1_m"][i][2]), "SIGMA2_R_M": _fmt(dec["sigma2_m"][i][0]),
            "SIGMA2_T_M": _fmt(dec["sigma2_m"][i][1]), "SIGMA2_N_M": _fmt(dec["sigma2_m"][i][2]),
            "ALERT_RATE_MC": _fmt(alert_rate[i]),
        })
    return rows


def turned_by_sharing(result: RunResult) -> list[dict]:
    """Dangerous conjunctions that sharing made more likely to be caught.

    Rates are the fraction of Monte Carlo runs in which the member alerted,
    alone and in the grouping; sorted by the gain.
    """
    n_mem = len(result.scenario.members)
    out = []
    c = result.conj
    for m in range(n_mem):
        alone, group = m, n_mem + m
        rate_a = result.alerted[:, alone].mean(axis=0)
        rate_g = result.alerted[:, group].mean(axis=0)
        sel = result.dangerous & result.relevant[alone] & (rate_g > rate_a)
        for i in np.flatnonzero(sel):
            w = result.warning_h[:, group, i]
            out.append({"member": result.scenario.members[m].name, "i": int(i),
                        "tca": c["tca_utc"][i], "miss_km": float(c["miss_km"][i]),
                        "pc_ref": float(result.pc_ref[i]), "rate_alone": float(rate_a[i]),
                        "rate_grouping": float(rate_g[i]),
                        "warning_h": float(np.nanmedian(w)) if np.any(np.isfinite(w))
                        else float("nan"),
                        "objects": f"{c['name1'][i]} ({c['norad1'][i]}) / "
                                   f"{c['name2'][i]} ({c['norad2'][i]})"})
    out.sort(key=lambda r: (-(r["rate_grouping"] - r["rate_alone"]), -r["pc_ref"]))
    return out


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def figures(result: RunResult, out_dir: Path) -> dict[str, str]:
    """Write the PNG figures into out_dir; return {name: base64 PNG}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sc = result.scenario
    members = [m.name for m in sc.members]
    n_mem = len(members)
    metrics = result.metrics()
    figs = {}
    colors = plt.get_cmap("tab10")

    # sensor map
    fig, ax = plt.subplots(figsize=(10, 5))
    t = sc.sensors
    owner = {s: i for i, m in enumerate(sc.members) for s in m.sensors}
    outaged = {e.sensor for e in sc.events if e.kind == "outage"}
    for i, m in enumerate(sc.members):
        for kind, marker in (("radar", "^"), ("optical", "o")):
            sel = [k for k in range(len(t)) if owner.get(t.id[k]) == i and t.type[k] == kind]
            if sel:
                ax.scatter(t.lon_deg[sel], t.lat_deg[sel], marker=marker, s=60,
                           color=colors(i % 10), label=f"{m.name} {kind}", edgecolor="k")
    for k in range(len(t)):
        if t.id[k] in outaged:
            ax.scatter(t.lon_deg[k], t.lat_deg[k], marker="x", s=160, color="red")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.grid(alpha=0.3)
    ax.set_title("Sensors by member (triangle radar, circle optical, red x outage)")
    ax.legend(fontsize=7, ncol=3, loc="lower left")
    figs["sensor_map"] = fig

    # coverage
    fig, ax = plt.subplots(figsize=(10, 4))
    x = np.arange(n_mem)
    ax.bar(x - 0.2, [metrics[m]["coverage_24h"] for m in range(n_mem)], 0.4, label="alone")
    ax.bar(x + 0.2, [metrics[n_mem + m]["coverage_24h"] for m in range(n_mem)], 0.4,
           label="in grouping")
    ax.set_xticks(x, members, rotation=30)
    ax.set_ylabel("catalog tracked in last 24 h")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Catalogue coverage per member")
    figs["coverage"] = fig

    # caught / missed / false
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), sharey=False)
    for ax, key in zip(axes, ("caught", "missed", "false_alerts"), strict=True):
        a = [metrics[m][key] for m in range(n_mem)]
        g = [metrics[n_mem + m][key] for m in range(n_mem)]
        ax.bar(x - 0.2, a, 0.4, label="alone")
        ax.bar(x + 0.2, g, 0.4, label="in grouping")
        for off, idx in ((-0.2, range(n_mem)), (0.2, range(n_mem, 2 * n_mem))):
            lo = [metrics[k].get("monte_carlo", {}).get(key, {}).get("p05") for k in idx]
            hi = [metrics[k].get("monte_carlo", {}).get(key, {}).get("p95") for k in idx]
            if all(v is not None for v in lo):
                mid = [metrics[k][key] for k in idx]
                ax.errorbar(x + off, mid, yerr=[np.maximum(np.subtract(mid, lo), 0),
                                                np.maximum(np.subtract(hi, mid), 0)],
                            fmt="none", ecolor="k", capsize=2)
        ax.set_xticks(x, members, rotation=45, fontsize=8)
        ax.set_title(key.replace("_", " "))
    axes[0].legend()
    fig.suptitle("Dangerous conjunctions caught / missed and false alerts "
                 "(bars: seed run; whiskers: 5-95% over Monte Carlo runs)")
    figs["outcomes"] = fig

    # warning time
    fig, ax = plt.subplots(figsize=(8, 4))
    alone = result.warning_h[0, :n_mem][np.isfinite(result.warning_h[0, :n_mem])
                                         & result.dangerous[None, :]]
    group = result.warning_h[0, n_mem:][np.isfinite(result.warning_h[0, n_mem:])
                                         & result.dangerous[None, :]]
    bins = np.linspace(0, max(24.0, float(np.max(np.concatenate([alone, group, [24.0]])))), 25)
    ax.hist(alone, bins=bins, alpha=0.6, label=f"alone (n={len(alone)})")
    ax.hist(group, bins=bins, alpha=0.6, label=f"in grouping (n={len(group)})")
    ax.axvline(sc.decision_lead_h, color="k", ls="--", lw=1, label="decision time")
    ax.set_xlabel("warning time before TCA (h), dangerous events caught")
    ax.set_ylabel("events")
    ax.legend()
    figs["warning_time"] = fig

    out = {}
    for name, fig in figs.items():
        data = _png(fig)
        (out_dir / f"{name}.png").write_bytes(base64.b64decode(data))
        out[name] = data
    return out


def _html_table(headers, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v) if not isinstance(v, str) else v)}"
                                    "</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_outputs(result: RunResult, out_dir: str | Path) -> dict:
    """Write summary.json, conjunctions/<participant>.csv, PNG figures and report.html."""
    out_dir = Path(out_dir)
    (out_dir / "conjunctions").mkdir(parents=True, exist_ok=True)
    summ = summary(result)
    (out_dir / "summary.json").write_text(json.dumps(summ, indent=2) + "\n")
    for p, part in enumerate(result.participants):
        rows = participant_rows(result, p)
        path = out_dir / "conjunctions" / f"{slug(part.key)}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            if rows:
                w = csv.DictWriter(fh, list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            else:
                fh.write("NORAD_CAT_ID_1,NORAD_CAT_ID_2,TCA,OUTCOME\n")
    pngs = figures(result, out_dir)
    sc = result.scenario
    metric_rows = [[m["participant"], m["sharing"], m["conjunctions"], m["dangerous"],
                    m["caught"], m["missed"], m["false_alerts"], m["manoeuvres"],
                    f"{m['coverage_24h']:.3f}", _fmt(m["median_warning_h"])]
                   for m in summ["participants"]]
    turned = turned_by_sharing(result)[:TOP_TURNED]
    turned_rows = [[t["member"], t["objects"], t["tca"], f"{t['miss_km'] * 1000:.0f}",
                    _fmt(t["pc_ref"]), f"{t['rate_alone']:.2f}", f"{t['rate_grouping']:.2f}",
                    _fmt(t["warning_h"])] for t in turned]
    img = "".join(f'<figure><img alt="{k}" src="data:image/png;base64,{v}"></figure>'
                  for k, v in pngs.items())
    rules = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                    for k, v in summ["rules"].items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scenario {html.escape(sc.name)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:1em auto}}
table{{border-collapse:collapse;font-size:90%}}td,th{{border:1px solid #ccc;padding:2px 6px}}
img{{max-width:100%}}</style></head><body>
<h1>Scenario: {html.escape(sc.name)}</h1>
<p>{html.escape(sc.description)}</p>
<p>Window {html.escape(sc.start.isoformat())} + {sc.days} d, tracking history {sc.history_days} d,
seed {sc.seed}, {sc.monte_carlo_runs} Monte Carlo runs. Catalog {html.escape(sc.catalog_file)}:
{result.counts['catalog_objects']} objects, {result.counts['protected']} protected,
{result.counts['conjunctions']} conjunctions within {sc.threshold_km} km,
{result.counts['dangerous']} dangerous. Run time {result.timings_s.get('total', 0):.0f} s.</p>
<h2>Per participant</h2>
{_html_table(["participant", "sharing", "conjunctions", "dangerous", "caught", "missed",
              "false alerts", "manoeuvres", "coverage 24h", "median warning (h)"], metric_rows)}
<h2>Rules</h2><ul>{rules}</ul>
<h2>Figures</h2>{img}
<h2>Top dangerous conjunctions that sharing turned from missed to caught</h2>
<p>Catch rate = fraction of the Monte Carlo runs in which the member alerted.</p>
{_html_table(["member", "objects", "TCA", "true miss (m)", "reference Pc",
              "catch rate alone", "catch rate in grouping", "median warning (h)"],
             turned_rows) if turned_rows else "<p>None: sharing changed no catch.</p>"}
<h2>Notes</h2><ul>{"".join(f"<li>{html.escape(n)}</li>" for n in result.notes) or "<li>none</li>"}</ul>
</body></html>
"""
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return summ
