"""``ssa exercise SCENARIO --out DIR``: the security events of a scenario (breakups,
unannounced manoeuvres), per member alone and in the grouping."""

from __future__ import annotations

import json
import os
from pathlib import Path

HELP = """Run the security events of a scenario file ([[events]] kind = "breakup" or
"manoeuvre"; see ssa/scenario/security_events.py): for each member alone and inside the
grouping, fragments detected and maintained 1, 3 and 7 days after a breakup, its
protected satellites' close approaches with fragments it knows or not, and when it
detects a manoeuvre and how much warning is left before the approach. Writes
DIR/security.json and DIR/security.md. These are the event effects alone: 'ssa scenario
run' runs the same file through the whole pipeline (the events in the truth, every
member's decisions) and puts them in summary.json's 'security' section."""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "exercise",
        help="security events of a scenario (breakups, manoeuvres), alone vs in the "
        "grouping: the event effects alone (ssa scenario run runs the whole pipeline)",
        description=HELP,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args) -> int:
    from ssa.errors import UserError
    from ssa.scenario.config import load_scenario
    from ssa.scenario.security import run_security

    sc = load_scenario(args.scenario)
    if not any(e.kind in ("breakup", "manoeuvre", "small_debris") for e in sc.events):
        raise UserError(
            f"{args.scenario}: no [[events]] of kind 'breakup', 'manoeuvre' or 'small_debris'"
        )
    result = run_security(sc, quiet=args.quiet)
    out = Path(args.out)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "security.json").write_text(json.dumps(result, indent=1) + "\n")
    text = render(result)
    (tmp / "security.md").write_text(text)
    if out.exists():
        for f in ("security.json", "security.md"):
            (tmp / f).replace(out / f)
        tmp.rmdir()
    else:
        tmp.rename(out)
    print(text, end="")
    return 0


def _h(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def _g(x, fmt=".3g") -> str:
    return "-" if x is None else format(x, fmt)


def render(result: dict) -> str:
    """Return Markdown tables of ``run_security``'s result."""
    lines = [f"# {result['scenario']} (seed {result['seed']})", ""]
    for b in result["breakups"]:
        snaps = ", ".join(f"{d:g}" for d in b["snapshots_days"])
        lines += [
            f"Breakup ({b['mode']}) of {b['parent']} at {b['time_utc']}: "
            f"{b['fragments']} fragments >= {b['min_size_m']} m orbiting "
            f"({b['fragments_10cm']} >= 10 cm). Public catalogue after {snaps} d: "
            f"{'/'.join(map(str, b.get('public_catalogued', [])))} (everyone reads it).",
            "",
            f"| member | detected after {snaps} d: alone -> grouping | maintained: alone "
            "-> grouping | close approaches with fragments | known alone | known in "
            "grouping |",
            "|---|---|---|---|---|---|",
        ]
        for name, e in b["participants"].items():
            a, g = e["alone"], e["grouping"]
            lines.append(
                f"| {name} | {'/'.join(map(str, a['detected']))} -> "
                f"{'/'.join(map(str, g['detected']))} | {'/'.join(map(str, a['maintained']))} -> "
                f"{'/'.join(map(str, g['maintained']))} | {a['close_approaches']} | "
                f"{a['known']} | {g['known']} |"
            )
        lines.append("")
    for m in result["manoeuvres"]:
        target = (
            f" towards {m['target']} (closest {m['miss_km']:.2f} km, {m['approach_h']:.1f} h after)"
            if m["target"]
            else ""
        )
        lines += [
            f"Manoeuvre of {m['name']} ({m['object']}) at {m['time_utc']}: "
            f"{m['dv_ms']:.2f} m/s{target}"
            + (
                f" (and {m['arrival_dv_ms']:.1f} m/s to stay)"
                if m.get("arrival_dv_ms") is not None
                else ""
            )
            + "; public catalogue shows it after "
            f"{_h(m['public_detection_h'])} h.",
            "",
            "| member | detection h: alone -> grouping | warning h: alone -> grouping |",
            "|---|---|---|",
        ]
        for name, e in m["participants"].items():
            a, g = e["alone"], e["grouping"]
            lines.append(
                f"| {name} | {_h(a['detection_h'])} -> {_h(g['detection_h'])} | "
                f"{_h(a['warning_h'])} -> {_h(g['warning_h'])} |"
            )
        lines.append("")
    for x in result.get("small_debris", []):
        lines += [
            f"Small debris (1-10 cm): {x['sample']} sample objects, each standing for "
            f"{x['weight']:.0f}; screened {x['exposure_days']:g} d within "
            f"{x['threshold_km']:g} km ({x['sample_conjunctions']} sample conjunctions); "
            "per protected LEO satellite and year, from objects the member cannot see:",
            "",
            "| member | protected LEO | conjunctions: alone -> grouping | "
            "collision probability: alone -> grouping | sample objects seen: alone -> "
            "grouping |",
            "|---|---|---|---|---|",
        ]
        for name, e in x["participants"].items():
            a, g = e["alone"], e["grouping"]
            lines.append(
                f"| {name} | {e['protected_leo']} | "
                f"{_g(a['unseen_conjunctions_per_sat_year'])} -> "
                f"{_g(g['unseen_conjunctions_per_sat_year'])} | "
                f"{_g(a['unseen_pc_per_sat_year'], '.2e')} -> "
                f"{_g(g['unseen_pc_per_sat_year'], '.2e')}"
                f" | {a['sample_objects_seen']} -> {g['sample_objects_seen']} |"
            )
        lines.append("")
    return "\n".join(lines)
