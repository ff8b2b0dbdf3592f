"""Print the README's headline table (alone vs grouping per member) from a summary.json.

Usage: python scripts/headline_table.py scenarios/results/pooled-observations/summary.json
       python scripts/headline_table.py --miss-rule SUMMARY   (the miss-distance policy apart)
"""

from __future__ import annotations

import json
import sys


def cell(metric, digits=2):
    if not metric or metric.get("value") is None:
        return "n/a"
    iv = metric.get("interval")
    text = f"{metric['value']:.{digits}f}"
    return text + (f" [{iv[0]:.{digits}f}-{iv[1]:.{digits}f}]" if iv else "")


def main(path: str) -> None:
    data = json.loads(open(path).read())
    rows = {p["participant"]: p for p in data["participants"]}
    members = [m["name"] for m in data["settings"]["members"]]
    print(
        "| member (satellites, events) | manoeuvres/sat-yr for 90 % risk reduction, alone "
        "| in grouping | manoeuvres/sat-yr at Pc 1e-4, alone -> grouping | workload Pc>=1e-5 "
        "/sat-yr | secondary in-track sigma at commit (m) | maintained objects own -> pooled |"
    )
    print("|---|---|---|---|---|---|---|")
    for m in members:
        a, g = rows[f"{m} alone"], rows[f"{m} grouping"]
        if not a["events"]:
            print(
                f"| {m} ({a['protected_satellites']}, 0) | no events | no events | - | - | - | "
                f"{a['maintained_objects']['own']['total']} -> "
                f"{g['maintained_objects']['pooled']['total']} |"
            )
            continue
        wl = f"{a['workload_per_sat_year']['1e-05']:.1f} -> {g['workload_per_sat_year']['1e-05']:.1f}"
        sig = f"{a['sigma_at_commit_m']['T']:.0f} -> {g['sigma_at_commit_m']['T']:.0f}"
        man = (
            f"{a['manoeuvres_per_sat_year']['value']:.2f} -> "
            f"{g['manoeuvres_per_sat_year']['value']:.2f}"
        )
        print(
            f"| {m} ({a['protected_satellites']}, {a['events']}) | "
            f"{cell(a['manoeuvres_per_sat_year_at_90'])} | "
            f"{cell(g['manoeuvres_per_sat_year_at_90'])} | {man} | {wl} | {sig} | "
            f"{a['maintained_objects']['own']['total']} -> "
            f"{g['maintained_objects']['pooled']['total']} |"
        )


def miss_rule(path: str) -> None:
    """Print the optional miss-distance policy per member, apart from the Pc decisions."""
    data = json.loads(open(path).read())
    rows = {p["participant"]: p for p in data["participants"]}
    members = [m["name"] for m in data["settings"]["members"]]
    km = data["settings"]["miss_rule_km"]
    print(
        f"| member | miss <= {km:g} km: manoeuvres/sat-yr, alone -> grouping | risk reduction, "
        "alone -> grouping | Pc >= threshold: manoeuvres/sat-yr, alone -> grouping | "
        "risk reduction, alone -> grouping |"
    )
    print("|---|---|---|---|---|")

    def v(m, digits=2):
        return "n/a" if not m or m.get("value") is None else f"{m['value']:.{digits}f}"

    for m in members:
        a, g = rows[f"{m} alone"], rows[f"{m} grouping"]
        ma, mg = a.get("miss_rule") or {}, g.get("miss_rule") or {}
        print(
            f"| {m} | {v(ma.get('manoeuvres_per_sat_year'))} -> "
            f"{v(mg.get('manoeuvres_per_sat_year'))} | {v(ma.get('risk_reduction'))} -> "
            f"{v(mg.get('risk_reduction'))} | {v(a.get('manoeuvres_per_sat_year'))} -> "
            f"{v(g.get('manoeuvres_per_sat_year'))} | {v(a.get('risk_reduction'))} -> "
            f"{v(g.get('risk_reduction'))} |"
        )


if __name__ == "__main__":
    if sys.argv[1] == "--miss-rule":
        miss_rule(sys.argv[2])
    else:
        main(sys.argv[1])
