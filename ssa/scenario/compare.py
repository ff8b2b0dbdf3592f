"""Put several scenario runs side by side (from their summary.json files)."""

from __future__ import annotations

import json
from pathlib import Path

METRICS = ("caught", "missed", "false_alerts", "coverage_24h", "median_warning_h")


def load_summary(run_dir: str | Path) -> dict:
    """Return a run's summary.json; raise FileNotFoundError naming the folder."""
    path = Path(run_dir) / "summary.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {run_dir} an 'ssa scenario run' "
                                "output folder?")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def compare_rows(run_dirs) -> tuple[list[str], list[list]]:
    """Return (headers, rows): one row per participant, metrics per run in columns."""
    runs = [load_summary(d) for d in run_dirs]
    names = [r.get("scenario", str(d)) for r, d in zip(runs, run_dirs, strict=True)]
    participants: list[str] = []
    for r in runs:
        for p in r["participants"]:
            if p["participant"] not in participants:
                participants.append(p["participant"])
    headers = ["participant"] + [f"{n}: {m}" for n in names for m in METRICS]
    rows = []
    for key in participants:
        row = [key]
        for r in runs:
            found = next((p for p in r["participants"] if p["participant"] == key), None)
            for m in METRICS:
                v = None if found is None else found.get(m)
                row.append(v)
        rows.append(row)
    return headers, rows


def format_table(headers, rows) -> str:
    """Return a Markdown table, one column per run: caught/missed/false, coverage, warning."""
    n = len(METRICS)
    runs = [h.split(": ")[0] for h in headers[1::n]]
    lines = ["caught/missed/false alerts, 24 h coverage, median warning time (h)", "",
             "| participant | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for r in rows:
        cells = []
        for k in range(len(runs)):
            c, m, f, cov, w = r[1 + k * n: 1 + (k + 1) * n]
            if c is None:
                cells.append("-")
                continue
            warn = "-" if w is None else f"{w:.0f} h"
            cells.append(f"{c}/{m}/{f}, {cov:.2f}, {warn}")
        lines.append(f"| {r[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
