"""Tables (results.md) and PNG plots from a suite's results dict."""

from __future__ import annotations

import math
from pathlib import Path

README_START = "<!-- bench-results:start (written by `ssa bench --readme`) -->"
README_END = "<!-- bench-results:end -->"
STAGE_ORDER = ("propagation", "broad_phase", "refinement", "output")


def _f(x, fmt="{:.2f}", none="n/a"):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return none
    return fmt.format(x)


def _rate(x):
    return _f(x / 1e6 if x else None, "{:.2f} M")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _stages(timings: dict) -> str:
    if not timings:
        return "n/a"
    keys = [k for k in STAGE_ORDER if k in timings] + [k for k in timings if k not in STAGE_ORDER]
    return ", ".join(f"{k} {_f(timings[k])}" for k in keys if isinstance(timings[k], (int, float)))


def markdown(res: dict) -> str:
    """Return the results as markdown tables (what results.md and the README show)."""
    m = res.get("machine", {})
    v = m.get("versions", {})
    out = [
        f"Suite `{res.get('suite')}`, run {m.get('utc', '')[:16]} UTC on "
        f"{m.get('cpu_model', '?')}, {m.get('sched_affinity', m.get('cpu_count'))} cores, "
        f"{m.get('mem_total_gb', '?')} GB; load average at start "
        f"{', '.join(f'{x:.1f}' for x in m.get('load_avg_start', ()))}; "
        f"ssa {v.get('ssa')} ({m.get('git_commit')}), numpy {v.get('numpy')}, "
        f"numba {v.get('numba')}, sgp4 {v.get('sgp4')}, scipy {v.get('scipy')}, "
        f"heyoka {v.get('heyoka')}. Catalog: `{Path(res['catalog']['path']).name}`, "
        f"{res['catalog']['objects']} objects. Suite wall time "
        f"{_f(res.get('suite_wall_s'), '{:.0f}')} s.",
        "",
    ]

    out += _headline(res)
    p = res.get("propagation", {})
    out.append("### Propagation throughput (one propagation = one object at one time)")
    out.append("")
    if p.get("ok"):
        sa = p["satrec_array"]["props_per_s"]
        rows = [
            [
                "sgp4 `SatrecArray` (C++, 1 thread)",
                p["objects"],
                _rate(sa),
                _rate(p["satrec_array"]["props_per_cpu_s"]),
                "1.00",
            ]
        ]
        o = p.get("ours", {})
        if o.get("props_per_s"):
            rows.append(
                [
                    f"ssa screening core: {o.get('what', 'knots + interpolation')}",
                    o.get("objects", p["objects"]),
                    _rate(o["props_per_s"]),
                    _rate(o.get("props_per_cpu_s")),
                    _f(o["props_per_s"] / sa),
                ]
            )
            rows.append(
                [
                    f"ssa screening core incl. its one-off plan ({_f(o.get('plan_s'))} s)",
                    o.get("objects", p["objects"]),
                    _rate(o.get("props_per_s_incl_plan")),
                    "",
                    _f((o.get("props_per_s_incl_plan") or 0) / sa),
                ]
            )
        else:
            rows.append(["ssa screening core", "", "not measured", o.get("error", ""), ""])
        h, sal = p.get("heyoka", {}), p.get("satrec_array_leo", {})
        if h.get("props_per_s"):
            rows.append(
                [
                    "sgp4 `SatrecArray`, LEO subset",
                    sal["propagations"] // p["times"],
                    _rate(sal["props_per_s"]),
                    _rate(sal["props_per_cpu_s"]),
                    _f(sal["props_per_s"] / sa),
                ]
            )
            rows.append(
                [
                    f"heyoka {h.get('version')} `sgp4_propagator`, LEO subset "
                    f"(max diff vs sgp4 {_f(h.get('max_diff_vs_sgp4_km'), '{:.1e}')} km)",
                    h["objects"],
                    _rate(h["props_per_s"]),
                    _rate(h["props_per_cpu_s"]),
                    _f(h["props_per_s"] / sa),
                ]
            )
        else:
            rows.append(["heyoka `sgp4_propagator`", "", "not measured", h.get("error", ""), ""])
        out.append(
            _table(
                [
                    "propagator",
                    "objects",
                    "props/s (wall)",
                    "props/s per CPU-second",
                    "vs SatrecArray",
                ],
                rows,
            )
        )
        out.append(
            f"\n{p['times']} times over one day per object (a seeded subset of "
            f"the catalog); median of {res['config']['prop_repeats']} run(s). The "
            f"screening core never samples positions on a grid (it bounds each "
            f"polynomial span), so its row is what the same grid would cost it."
        )
    else:
        out.append(f"failed: {p.get('error')}")
    out.append("")

    c = res.get("compile", {})
    out.append(
        f"Numba: compile + first tiny run with an empty cache "
        f"{_f(c.get('compile_and_first_run_s'))} s (paid once per install; every "
        f"timed run below warms up first and excludes it)."
    )
    out.append("")

    out.append(f"### Screening the full catalog, all vs all, {res['config']['threshold_km']:g} km")
    out.append("")
    rows = []
    for h in res.get("headline", []):
        if h.get("ok"):
            rows.append(
                [
                    f"{h['days']:g}",
                    h["objects"],
                    _f(h["wall_s"]),
                    _f(h["cpu_s"]),
                    _f(h["peak_rss_mb"], "{:.0f}"),
                    h["conjunctions"],
                    _stages(h.get("timings_s")),
                ]
            )
        else:
            rows.append([f"{h['days']:g}", "", "failed", "", "", "", h.get("error", "")[:120]])
    out.append(
        _table(
            ["days", "objects", "wall s", "CPU s", "peak MB", "conjunctions", "stages (s)"], rows
        )
    )
    out.append("")

    sc = res.get("scaling", {})
    out.append("### Scaling (wall time; exponent = slope of the log-log fit)")
    out.append("")
    for key, xname, xkey in (
        ("size", "objects", "objects"),
        ("span", "days", "days"),
        ("threshold", "threshold km", "threshold_km"),
    ):
        d = sc.get(key)
        if not d:
            continue
        rows = [
            [
                p[xkey],
                _f(p.get("wall_s")),
                _f(p.get("cpu_s")),
                _f(p.get("peak_rss_mb"), "{:.0f}"),
                p.get("conjunctions", "failed"),
            ]
            for p in d["points"]
        ]
        extra = f", {d['days']:g} d" if "days" in d else ""
        out.append(f"**{key}**{extra}: exponent {_f(d.get('exponent'))}")
        out.append("")
        out.append(_table([xname, "wall s", "CPU s", "peak MB", "conjunctions"], rows))
        out.append("")

    out.append("### Baselines, same run, same objects, same window")
    out.append("")
    for b in res.get("baselines", []):
        bl = b["baselines"]
        out.append(
            f"**{b['objects']} objects, {b['days']:g} d, {res['config']['threshold_km']:g} km**"
        )
        out.append("")
        if not bl.get("ok"):
            out.append(f"baselines failed: {bl.get('error')}")
            continue
        o = b["ours"]
        rows = [["ssa screen", _f(o.get("wall_s")), _f(o.get("cpu_s")), "", "1.0", "1.0"]]
        for meth, label in (
            ("brute", "brute force, all pairs per step (numba)"),
            ("kdtree", "scipy cKDTree per step"),
            ("sweep", "sort-and-sweep on x (numba)"),
        ):
            ex = " (broad phase extrapolated)" if bl["broad_phase_extrapolated"][meth] else ""
            rows.append(
                [
                    label + ex,
                    _f(bl["total_s"][meth]),
                    "",
                    _f(bl["broad_phase_s"][meth]),
                    _f(b.get("speedup_wall", {}).get(meth), "{:.1f}"),
                    _f(b.get("speedup_cpu", {}).get(meth), "{:.1f}"),
                ]
            )
        out.append(
            _table(
                [
                    "method",
                    "wall s",
                    "CPU s",
                    "broad phase s",
                    "our speed-up (wall)",
                    "our speed-up (CPU)",
                ],
                rows,
            )
        )
        t = bl["timings_s"]
        out.append(
            "\nThe baselines run on one thread (sgp4, numba without prange, scipy), so "
            "their CPU time equals their wall time; the CPU speed-up divides it by our "
            "CPU time."
        )
        if any(bl["broad_phase_extrapolated"].values()):
            out.append(
                f"Brute force was timed on {bl['broad_phase_steps_timed']['brute']} of "
                f"{bl['steps']} steps and extrapolated linearly in steps."
            )
        out.append(
            f"Baselines share: propagation {_f(t['propagation_s'])} s "
            f"({bl['steps']} steps of {bl['step_s']:g} s), linear filter "
            f"{_f(t['filter_s'])} s, refinement {_f(t['refinement_s'])} s; pair radius "
            f"{_f(bl['radius_km'], '{:.1f}')} km; {bl['candidates']} candidate "
            f"pair-steps, {bl['refined']} refined; candidate sets identical across "
            f"methods: {'yes' if bl['candidate_sets_identical'] else 'NO'}."
        )
        r = next(iter(b.get("recall", {}).values()), None)
        if r:
            out.append("")
            out.append(
                _table(
                    [
                        "conjunctions: ours",
                        "baselines",
                        "matched",
                        "only baselines",
                        "(of which borderline/edge)",
                        "only ours",
                        "(of which borderline/edge)",
                        "max dTCA s",
                        "max dmiss m",
                    ],
                    [
                        [
                            r["ours"],
                            r["baseline"],
                            r["matched"],
                            r["only_baseline"],
                            r["only_baseline_borderline"],
                            r["only_ours"],
                            r["only_ours_borderline"],
                            _f(r["max_dtca_s"], "{:.3f}"),
                            _f(r["max_dmiss_m"], "{:.2f}"),
                        ]
                    ],
                )
            )
        out.append("")

    out.append(
        "### Tomorrow's catalogs (synthetic, seeded; see benchmarks/synthetic.py), beside today's"
    )
    out.append("")
    rows = []
    for t in res.get("tomorrow", []):
        rc = t.get("recipe")
        comp = (
            "today's real catalog"
            if t.get("today")
            else f"{rc['real']} real + {rc['shell_objects']} shell + {rc['clones']} clones"
            if rc
            else ""
        )
        if t.get("ok"):
            rows.append(
                [
                    t["objects"],
                    comp,
                    f"{t['days']:g}",
                    _f(t["wall_s"]),
                    _f(t["cpu_s"]),
                    _f(t["peak_rss_mb"], "{:.0f}"),
                    t["conjunctions"],
                ]
            )
        else:
            rows.append(
                [
                    t["objects"],
                    comp,
                    f"{t['days']:g}",
                    "failed",
                    "",
                    "",
                    (t.get("error") or "")[:120],
                ]
            )
    out.append(
        _table(["objects", "made of", "days", "wall s", "CPU s", "peak MB", "conjunctions"], rows)
    )
    if res.get("tomorrow_exponent") is not None:
        out.append(
            f"\nExponent of wall time vs objects, today's catalog and the synthetic "
            f"ones: {_f(res['tomorrow_exponent'])}."
        )
    out.append("")
    return "\n".join(out)


def _headline(res: dict) -> list[str]:
    """Bullet list of the headline numbers (from ``res["summary"]``)."""
    sm = res.get("summary") or {}
    items = []
    walls = [
        f"{k.split('_')[1][:-1]} d: {_f(v, '{:.1f}')} s"
        for k, v in sm.items()
        if k.startswith("screen_") and k.endswith("_wall_s")
    ]
    if walls:
        items.append(
            f"full catalog all vs all, {res['config']['threshold_km']:g} km: "
            + ", ".join(walls)
            + " (wall)"
        )
    ratios = [
        f"{k.split('_')[1][:-1]} d: {_f(v)}"
        for k, v in sm.items()
        if k.startswith("screen_") and k.endswith("_over_satrec_array_1min")
    ]
    if ratios:
        items.append(
            "screening time / time for `SatrecArray` alone to propagate the same "
            "objects at 1-min steps over the span: " + ", ".join(ratios)
        )
    if "propagation_ours_over_satrec_array" in sm:
        items.append(
            f"propagation throughput, screening core / `SatrecArray`: "
            f"{_f(sm['propagation_ours_over_satrec_array'])}x; heyoka / `SatrecArray` "
            f"(LEO): {_f(sm.get('propagation_heyoka_over_satrec_array_leo'))}x"
        )
    for k, v in sm.items():
        if k.startswith("speedup_wall_"):
            n = k.split("_")[2]
            items.append(
                f"speed-up over the baselines on {n} objects (wall): brute force "
                f"{_f(v.get('brute'), '{:.1f}')}x, cKDTree {_f(v.get('kdtree'), '{:.1f}')}x, "
                f"sort-and-sweep {_f(v.get('sweep'), '{:.1f}')}x"
            )
    ex = [
        f"{k} {_f(sm.get('exponent_' + k))}"
        for k in ("size", "span", "threshold")
        if sm.get("exponent_" + k) is not None
    ]
    if ex:
        items.append("scaling exponents: " + ", ".join(ex))
    syn = sorted(
        int(k.split("_")[1]) for k in sm if k.startswith("synthetic_") and k.endswith("_wall_s")
    )
    if syn:
        n = syn[-1]
        items.append(
            f"largest catalog ({n} objects, "
            f"{res['tomorrow'][-1]['days']:g} d): {_f(sm[f'synthetic_{n}_wall_s'], '{:.1f}')} s, "
            f"peak {_f(sm[f'synthetic_{n}_peak_rss_mb'], '{:.0f}')} MB"
        )
    if not items:
        return []
    return ["**Headline**", ""] + [f"- {x}" for x in items] + [""]


def plots(res: dict, out_dir: Path) -> list[str]:
    """Write log-log scaling plots and the baseline chart; return the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import NullFormatter

    written = []
    sc = res.get("scaling", {})
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (key, xkey, xlabel) in zip(
        axes,
        (
            ("size", "objects", "objects"),
            ("span", "days", "span (days)"),
            ("threshold", "threshold_km", "threshold (km)"),
        ),
        strict=True,
    ):
        d = sc.get(key, {})
        pts = [(p[xkey], p["wall_s"]) for p in d.get("points", []) if p.get("wall_s")]
        if key == "size":
            syn = [
                (t["objects"], t["wall_s"])
                for t in res.get("tomorrow", [])
                if t.get("wall_s") and t["days"] == d.get("days") and not t.get("today")
            ]
            if syn:
                ax.loglog(*zip(*syn, strict=True), "s", color="tab:red", label="synthetic catalogs")
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.loglog(xs, ys, "o-", label="measured")
            if len(pts) >= 2:  # the least-squares line whose slope is the exponent
                slope, icpt = np.polyfit(np.log(xs), np.log(ys), 1)
                ends = np.array([min(xs), max(xs)])
                ax.loglog(
                    ends,
                    np.exp(icpt) * ends**slope,
                    "--",
                    color="gray",
                    label=f"fit: exponent {slope:.2f}",
                )
        ax.set_xlabel(xlabel)
        ax.set_ylabel("wall time (s)")
        ax.set_title(f"scaling in {key}")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels overlap on log axes
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(
        f"ssa screen, {res.get('suite')} suite, "
        f"{res.get('machine', {}).get('sched_affinity', '?')} cores"
    )
    fig.tight_layout()
    _save(fig, out_dir / "scaling.png")
    plt.close(fig)
    written.append("scaling.png")

    pts = [
        (
            t["objects"],
            t.get("wall_s"),
            t.get("peak_rss_mb"),
            "today (real)" if t.get("today") else "synthetic",
        )
        for t in res.get("tomorrow", [])
    ]
    pts = [p for p in pts if p[1]]
    if pts:
        days = res["tomorrow"][0]["days"]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        for kind, style in (("today (real)", "o"), ("synthetic", "s")):
            sel = [p for p in pts if p[3] == kind]
            if sel:
                a1.loglog([p[0] for p in sel], [p[1] for p in sel], style, label=kind)
                a2.loglog([p[0] for p in sel], [p[2] for p in sel], style, label=kind)
        e = res.get("tomorrow_exponent")
        if e is not None:
            a1.set_title(f"wall time: exponent {e:.2f}")
        a1.set_ylabel("wall time (s)")
        a2.set_ylabel("peak memory of the run (MB)")
        for a in (a1, a2):
            a.xaxis.set_minor_formatter(NullFormatter())
            a.set_xlabel("objects")
            a.grid(True, which="both", alpha=0.3)
            a.legend(fontsize=8)
        fig.suptitle(
            f"today's catalog and tomorrow's: all vs all, {days:g} d, "
            f"{res['config']['threshold_km']:g} km"
        )
        fig.tight_layout()
        _save(fig, out_dir / "tomorrow.png")
        plt.close(fig)
        written.append("tomorrow.png")

    bl = [b for b in res.get("baselines", []) if b["baselines"].get("ok")]
    if bl:
        fig, ax = plt.subplots(figsize=(7, 4))
        methods = ("ours", "brute", "kdtree", "sweep")
        width = 0.8 / max(1, len(bl))
        for k, b in enumerate(bl):
            vals = [b["ours"].get("wall_s") or 0.0] + [
                b["baselines"]["total_s"][m] for m in methods[1:]
            ]
            ax.bar(
                [i + k * width for i in range(len(methods))],
                vals,
                width,
                label=f"{b['objects']} objects, {b['days']:g} d",
            )
        ax.set_xticks([i + width * (len(bl) - 1) / 2 for i in range(len(methods))])
        ax.set_xticklabels(["ssa screen", "brute force", "cKDTree", "sort-and-sweep"])
        ax.set_yscale("log")
        ax.set_ylabel("wall time (s)")
        ax.set_title("same run, same objects and window")
        ax.legend(fontsize=8)
        ax.grid(True, axis="y", which="both", alpha=0.3)
        fig.tight_layout()
        _save(fig, out_dir / "baselines.png")
        plt.close(fig)
        written.append("baselines.png")
    return written


def update_readme(path: Path, md: str) -> None:
    """Replace the block between the results markers of ``path`` with ``md``."""
    text = path.read_text()
    if README_START not in text or README_END not in text:
        raise ValueError(
            f"{path} has no results block: add the lines {README_START!r} and "
            f"{README_END!r} where the tables should go"
        )
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    from ssa.outputs import write_text_atomic

    write_text_atomic(path, f"{head}{README_START}\n{md}\n{README_END}{tail}")


def _save(fig, path) -> None:
    """Save a figure atomically (the results folder holds other committed files)."""
    from ssa.outputs import atomic_file

    with atomic_file(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=90)
