"""Put several scenario runs side by side (from their summary.json files)."""

from __future__ import annotations

import json
from pathlib import Path

# (column, how to read it from a participant row of summary.json)
METRICS = (
    (
        "manoeuvres_per_sat_year_at_90",
        lambda r: (r.get("manoeuvres_per_sat_year_at_90") or {}).get("value"),
    ),
    (
        "at_90_low",
        lambda r: ((r.get("manoeuvres_per_sat_year_at_90") or {}).get("interval") or [None, None])[
            0
        ],
    ),
    (
        "at_90_high",
        lambda r: ((r.get("manoeuvres_per_sat_year_at_90") or {}).get("interval") or [None, None])[
            1
        ],
    ),
    ("risk_reduction", lambda r: (r.get("risk_reduction") or {}).get("value")),
    ("manoeuvres_per_sat_year", lambda r: (r.get("manoeuvres_per_sat_year") or {}).get("value")),
    ("workload_1e-5_per_sat_year", lambda r: (r.get("workload_per_sat_year") or {}).get("1e-05")),
    ("sigma_T_at_commit_m", lambda r: (r.get("sigma_at_commit_m") or {}).get("T")),
    ("warning_time_h", lambda r: r.get("warning_time_h")),
    ("decision_flips_per_sat_year", lambda r: (r.get("decision_flips") or {}).get("per_sat_year")),
    ("maintained_own", lambda r: r["maintained_objects"]["own"]["total"]),
    ("maintained_pooled", lambda r: r["maintained_objects"]["pooled"]["total"]),
    ("events", lambda r: r.get("events")),
    # The optional miss-distance policy, apart from the Pc decisions (None when off).
    (
        "miss_rule_manoeuvres_per_sat_year",
        lambda r: ((r.get("miss_rule") or {}).get("manoeuvres_per_sat_year") or {}).get("value"),
    ),
    (
        "miss_rule_risk_reduction",
        lambda r: ((r.get("miss_rule") or {}).get("risk_reduction") or {}).get("value"),
    ),
)


def load_summary(run_dir: str | Path) -> dict:
    """Return a run's summary.json; raise FileNotFoundError naming the folder."""
    path = Path(run_dir) / "summary.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: is {run_dir} an 'ssa scenario run' output folder?"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def compare_rows(run_dirs) -> tuple[list[str], list[list]]:
    """Return (headers, rows): one row per participant (every member), metrics per run."""
    runs = [load_summary(d) for d in run_dirs]
    names = [r.get("scenario", str(d)) for r, d in zip(runs, run_dirs, strict=True)]
    participants: list[str] = []
    for r in runs:
        for p in r["participants"]:
            if p["participant"] not in participants:
                participants.append(p["participant"])
    headers = ["participant"] + [f"{n}: {m}" for n in names for m, _ in METRICS]
    rows = []
    for key in participants:
        row = [key]
        for r in runs:
            found = next((p for p in r["participants"] if p["participant"] == key), None)
            for _, get in METRICS:
                try:
                    row.append(None if found is None else get(found))
                except (KeyError, TypeError):
                    row.append(None)
        rows.append(row)
    return headers, rows


def format_table(headers, rows) -> str:
    """Return a Markdown table: per run, manoeuvres/sat-yr at 90 % risk reduction [5-95 %],
    risk reduction at the threshold, maintained catalogue (own/pooled)."""
    n = len(METRICS)
    runs = [h.split(": ")[0] for h in headers[1::n]]
    lines = [
        "manoeuvres per satellite-year for 90 % risk reduction [5-95 %]; risk reduction "
        "at the Pc threshold; maintained objects own/pooled",
        "",
        "| participant | " + " | ".join(runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for r in rows:
        cells = []
        for k in range(len(runs)):
            v = dict(zip([m for m, _ in METRICS], r[1 + k * n : 1 + (k + 1) * n], strict=True))
            if v["maintained_own"] is None:
                cells.append("-")
                continue
            m90 = (
                "-"
                if v["manoeuvres_per_sat_year_at_90"] is None
                else (
                    f"{v['manoeuvres_per_sat_year_at_90']:.2f}"
                    + (
                        f" [{v['at_90_low']:.2f}-{v['at_90_high']:.2f}]"
                        if v["at_90_low"] is not None
                        else ""
                    )
                )
            )
            rr = "-" if v["risk_reduction"] is None else f"{v['risk_reduction']:.2f}"
            cells.append(f"{m90}; {rr}; {v['maintained_own']}/{v['maintained_pooled']}")
        lines.append(f"| {r[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
