"""Figures of a security exercise run (``ssa scenario run`` output with a ``security``
section in summary.json).

    python -m ssa.scenario.security_figures scenarios/exercise-asat-480km.toml RUN_DIR [--out DIR]

RUN_DIR: an ``ssa scenario run`` folder (summary.json) or an ``ssa exercise`` folder
(security.json: the event effects only). ``python -m ssa.scenario.security_figures --table
docs/exercises`` prints the README's per-member table from the four exercise folders.

Writes into DIR (default RUN_DIR) ``security.md`` (the event effects as tables, as
``ssa exercise`` prints them) and, whichever apply:

* ``gabbard.png``: the breakup's fragments (regenerated: same scenario, same seed, so
  the same cloud) as apogee/perigee against period, ``GABBARD_DAYS`` after the event;
* ``fragments-known.png``: per member, the share of its satellites' close approaches with
  fragments whose fragment it knew at the commit time, by day of TCA, alone (dashed)
  and in the grouping (solid); and fragments maintained after 1/3/7 days;
* ``manoeuvre-detection.png``: per member and manoeuvre, hours from the burn to
  detection, alone and in the grouping, with the public catalogue's lag as a line;
* ``small-debris.png``: per member, conjunctions per protected LEO satellite-year with
  1-10 cm objects it cannot see, alone and in the grouping.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

GABBARD_DAYS = 7.0
# Members with fewer fragment approaches are left out of the share plot (too noisy).
MIN_APPROACHES_PLOTTED = 40


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def gabbard(sc, out: Path) -> list[str]:
    """Write gabbard-<parent>.png for every breakup of ``sc``; return the file names."""
    from ssa.geometry import osculating_apsides
    from ssa.geometry.timeutil import datetime_to_jd
    from ssa.report import figures
    from ssa.scenario.security import event_breakup
    from ssa.scenario.truth import load_catalog

    names = []
    catalog = None
    for e in sc.events:
        if e.kind != "breakup":
            continue
        catalog = load_catalog(sc) if catalog is None else catalog
        res = event_breakup(sc, catalog, e)
        jd, fr = datetime_to_jd(e.start)
        err, r, v = res.fragments.satrec_array().sgp4(np.array([jd]), np.array([fr + GABBARD_DAYS]))
        ok = err[:, 0] == 0
        period, apo, peri = osculating_apsides(r[ok, 0], v[ok, 0])
        fig = figures.gabbard(period, apo, peri, ["DEBRIS"] * len(period))
        fig.axes[0].set_title(
            f"{sc.name}: {len(period)} fragments >= {e.params['min_size_m'] * 100:g} cm of "
            f"{e.params['parent']}, {GABBARD_DAYS:g} days after (seed {sc.seed})",
            fontsize="small",
        )
        name = f"gabbard-{e.params['parent']}.png"
        figures.save_png(fig, out / name)
        names.append(name)
    return names


def fragments_known(summ: dict, out: Path) -> str | None:
    """Write fragments-known.png from summary.json's security section."""
    sec = summ.get("security") or {}
    parts = sec.get("participants", {})
    members = [p["member"] for p in summ["participants"] if p["kind"] == "alone"]
    rows = [
        m
        for m in members
        if ((parts.get(f"{m} grouping") or {}).get("fragment") or {}).get("approaches", 0)
        >= MIN_APPROACHES_PLOTTED
    ]
    breakups = (sec.get("effects") or {}).get("breakups") or []
    if not rows and not breakups:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    colors = plt.cm.tab10(np.linspace(0, 1, 10))
    for k, m in enumerate(rows):
        for kind, style in (("alone", "--"), ("grouping", "-")):
            f = (parts.get(f"{m} {kind}") or {}).get("fragment")
            if not f:
                continue
            days = sorted(int(d) for d in f["by_tca_day"])
            share = [f["by_tca_day"][str(d)]["share_known"] for d in days]
            axes[0].plot(
                np.array(days) + 0.5,
                share,
                style,
                marker="o",
                color=colors[k % 10],
                label=f"{m} {kind} ({f['known_at_commit']}/{f['approaches']})",
            )
    axes[0].set_xlabel("day of the close approach after the window start")
    axes[0].set_ylabel("share of fragment approaches known at commit")
    axes[0].set_ylim(-0.03, 1.03)
    axes[0].legend(fontsize=6, ncol=2)
    axes[0].set_title(
        f"Fragment close approaches known in time to decide (members with >= "
        f"{MIN_APPROACHES_PLOTTED}); dashed alone, solid grouping",
        fontsize="small",
    )
    if breakups:
        b = breakups[0]
        snaps = b["snapshots_days"]
        x = np.arange(len(members) + 1)
        width = 0.8 / len(snaps)
        for j, d in enumerate(snaps):
            alone = [b["participants"][m]["alone"]["maintained"][j] for m in members]
            group = [b["participants"][m]["grouping"]["maintained"][j] for m in members]
            pub = b.get("public_catalogued", [0] * len(snaps))[j]
            axes[1].bar(
                x[:-1] + j * width, group, width, color=colors[j], alpha=0.35, edgecolor="k"
            )
            axes[1].bar(x[:-1] + j * width, alone, width, color=colors[j], label=f"after {d:g} d")
            axes[1].bar(x[-1] + j * width, pub, width, color=colors[j])
        axes[1].set_xticks(x + 0.4 - width / 2)
        axes[1].set_xticklabels(members + ["public"], rotation=30, fontsize=7)
        axes[1].set_ylabel("fragments maintained")
        axes[1].set_title(
            f"{b['fragments']} fragments: maintained alone (solid) and in the grouping (pale)",
            fontsize="small",
        )
        axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "fragments-known.png", dpi=110)
    plt.close(fig)
    return "fragments-known.png"


def manoeuvre_detection(summ: dict, out: Path) -> str | None:
    """Write manoeuvre-detection.png from summary.json's security section."""
    mans = ((summ.get("security") or {}).get("effects") or {}).get("manoeuvres") or []
    if not mans:
        return None
    plt = _plt()
    members = [p["member"] for p in summ["participants"] if p["kind"] == "alone"]
    fig, axes = plt.subplots(1, len(mans), figsize=(6.5 * len(mans), 4.5), squeeze=False)
    for ax, m in zip(axes[0], mans, strict=True):
        x = np.arange(len(members))
        horizon = (m.get("approach_h") or 72.0) * 1.05

        def hours(kind, man=m, h=horizon):
            vals = [man["participants"][name][kind]["detection_h"] for name in members]
            return np.array([h if v is None else v for v in vals]), np.array(
                [v is None for v in vals]
            )

        a, a_none = hours("alone")
        g, g_none = hours("grouping")
        ax.bar(x - 0.2, np.where(a_none, 0, a), 0.4, label="alone", color="tab:orange")
        ax.bar(x + 0.2, np.where(g_none, 0, g), 0.4, label="grouping", color="tab:blue")
        none_x = np.concatenate([x[a_none] - 0.2, x[g_none] + 0.2])
        if none_x.size:
            ax.bar(
                none_x,
                horizon,
                0.4,
                color="none",
                edgecolor="grey",
                hatch="//",
                label="not detected in the window",
            )
        if m.get("public_detection_h") is not None:
            ax.axhline(m["public_detection_h"], color="k", ls=":", label="public catalogue")
        if m.get("approach_h") is not None:
            ax.axhline(m["approach_h"], color="r", ls="--", label="closest approach")
        ax.set_xticks(x)
        ax.set_xticklabels(members, rotation=30, fontsize=7)
        ax.set_ylabel("hours from the burn to detection")
        ax.set_title(
            f"{m['name']} ({m['object']}) -> {m.get('target')}: {m['dv_ms']:.0f} m/s",
            fontsize="small",
        )
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "manoeuvre-detection.png", dpi=110)
    plt.close(fig)
    return "manoeuvre-detection.png"


def small_debris(summ: dict, out: Path) -> str | None:
    """Write small-debris.png from summary.json's security section."""
    sd = ((summ.get("security") or {}).get("effects") or {}).get("small_debris") or []
    if not sd:
        return None
    plt = _plt()
    e = sd[0]
    members = [m for m, v in e["participants"].items() if v["protected_leo"]]
    x = np.arange(len(members))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for off, kind, c in ((-0.2, "alone", "tab:orange"), (0.2, "grouping", "tab:blue")):
        ax.bar(
            x + off,
            [e["participants"][m][kind]["unseen_conjunctions_per_sat_year"] for m in members],
            0.4,
            label=kind,
            color=c,
        )
    ax.set_xticks(x)
    ax.set_xticklabels(members, rotation=30, fontsize=8)
    ax.set_ylabel(f"unseen conjunctions < {e['threshold_km']:g} km per LEO satellite-year")
    ax.set_title(
        f"1-10 cm objects nobody catalogues: sample {e['sample']} (each ~{e['weight']:.0f})",
        fontsize="small",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "small-debris.png", dpi=110)
    plt.close(fig)
    return "small-debris.png"


def _load(folder: Path) -> dict:
    if (folder / "summary.json").exists():
        return json.loads((folder / "summary.json").read_text())
    if (folder / "security.json").exists():
        return {"security": {"effects": json.loads((folder / "security.json").read_text())}}
    return {}


def _arrow(a, g, fmt="{}") -> str:
    f = (lambda x: "-" if x is None else fmt.format(x)) if isinstance(fmt, str) else fmt
    return f"{f(a)} -> {f(g)}"


def headline_table(root) -> str:
    """Return the README's per-member Markdown table from the four exercise folders."""
    root = Path(root)
    asat = _load(root / "exercise-asat-480km")
    coll = _load(root / "exercise-collision")
    insp = _load(root / "exercise-inspector")
    quiet = _load(root / "exercise-quiet-baseline")

    def eff(summ, kind):
        return ((summ.get("security") or {}).get("effects") or {}).get(kind) or []

    def breakup_cells(summ, member):
        b = eff(summ, "breakups")
        if not b:
            return "n/a", "n/a"
        e = b[0]["participants"][member]
        mnt = _arrow(
            e["alone"]["maintained"], e["grouping"]["maintained"], lambda x: "/".join(map(str, x))
        )
        parts = (summ.get("security") or {}).get("participants") or {}
        a = (parts.get(f"{member} alone") or {}).get("fragment")
        g = (parts.get(f"{member} grouping") or {}).get("fragment")
        known = (
            f"{a['known_at_commit'] if a else 0} -> {g['known_at_commit'] if g else 0} "
            f"of {(g or a)['approaches']}"
            if (a or g)
            else "0 of 0"
        )
        return mnt, known

    def man_cell(k, member):
        m = eff(insp, "manoeuvres")
        if len(m) <= k:
            return "n/a"
        e = m[k]["participants"][member]

        def h(x):
            return "-" if x is None else f"{x:.1f}"

        return (
            f"{h(e['alone']['detection_h'])} ({h(e['alone']['warning_h'])}) -> "
            f"{h(e['grouping']['detection_h'])} ({h(e['grouping']['warning_h'])})"
        )

    def quiet_cell(member):
        q = eff(quiet, "small_debris")
        if not q or member not in q[0]["participants"]:
            return "n/a"
        e = q[0]["participants"][member]
        if not e["protected_leo"]:
            return "-"
        a, g = e["alone"], e["grouping"]
        return (
            f"{a['unseen_conjunctions_per_sat_year']:.0f} / {a['unseen_pc_per_sat_year']:.1e} -> "
            f"{g['unseen_conjunctions_per_sat_year']:.0f} / {g['unseen_pc_per_sat_year']:.1e}"
        )

    def reduction(summ, member):
        rows = {r["participant"]: r for r in summ.get("participants", [])}

        def v(key):
            r = rows.get(key) or {}
            rr, man = r.get("risk_reduction"), r.get("manoeuvres_per_sat_year")
            if not rr or rr.get("value") is None:
                return "-"
            return f"{rr['value']:.2f} ({man['value']:.2f})"

        return f"{v(member + ' alone')} -> {v(member + ' grouping')}"

    members = list(eff(asat, "breakups")[0]["participants"]) if eff(asat, "breakups") else []
    members = [m for m in members if m != "public"]
    lines = [
        "| member | ASAT: fragments maintained after 1/3/7 d, alone -> grouping | ASAT: "
        "fragment approaches known at commit, alone -> grouping | ASAT: share of the risk "
        "removed by manoeuvres at the Pc threshold (manoeuvres per sat-year) | collision: maintained 1/3/7 d | collision: "
        "approaches known | GEO inspector: detected after h (warning h) | LEO inspector | "
        "small debris: unseen conjunctions / Pc per LEO sat-year |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in members:
        am, ak = breakup_cells(asat, m)
        cm, ck = breakup_cells(coll, m)
        lines.append(
            f"| {m} | {am} | {ak} | {reduction(asat, m)} | {cm} | {ck} | {man_cell(0, m)} | "
            f"{man_cell(1, m)} | {quiet_cell(m)} |"
        )
    pub = [b.get("public_catalogued") for b in (eff(asat, "breakups") + eff(coll, "breakups"))]
    lines.append(
        "| public catalogue | "
        + (" / ".join("/".join(map(str, p)) for p in pub if p) or "-")
        + " (ASAT / collision) | | | | | "
        + " | ".join(
            "-" if m.get("public_detection_h") is None else f"{m['public_detection_h']:.1f}"
            for m in eff(insp, "manoeuvres")
        )
        + " | |"
    )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from ssa.scenario.config import load_scenario

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--table"]:
        print(headline_table(argv[1] if len(argv) > 1 else "docs/exercises"), end="")
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", help="the scenario TOML the run used")
    ap.add_argument("run_dir", help="output folder of ssa scenario run (summary.json)")
    ap.add_argument("--out", help="where to write the PNGs (default: run_dir)")
    a = ap.parse_args(argv)
    run = Path(a.run_dir)
    if (run / "summary.json").exists():
        summ = json.loads((run / "summary.json").read_text())
    else:  # an ``ssa exercise`` folder: the event effects only
        effects = json.loads((run / "security.json").read_text())
        sc = load_scenario(a.scenario)
        summ = {
            "scenario": sc.name,
            "seed": sc.seed,
            "participants": [{"member": m.name, "kind": "alone"} for m in sc.members],
            "security": {"effects": effects, "participants": {}},
        }
    out = Path(a.out or a.run_dir)
    out.mkdir(parents=True, exist_ok=True)
    from ssa.commands.exercise import render

    sec = summ.get("security") or {}
    text = render({"scenario": summ["scenario"], "seed": summ["seed"], **sec.get("effects", {})})
    (out / "security.md").write_text(text)
    made = ["security.md"] + gabbard(load_scenario(a.scenario), out)
    for fn in (fragments_known, manoeuvre_detection, small_debris):
        name = fn(summ, out)
        if name:
            made.append(name)
    print("wrote " + ", ".join(str(out / n) for n in made))
    return 0


if __name__ == "__main__":
    sys.exit(main())
