"""Conjunction events followed across catalogue updates (and across a CDM series).

A history folder holds ``history.json``: the runs made into it and the events
found so far. Each run's conjunctions are matched with the events of earlier runs:

- same pair of catalogue numbers, and
- TCA within ``tca_tolerance_s``: ``TCA_TOL_BASE_S`` + ``TCA_TOL_PER_AGE_DAY_S`` x
  (the element-set ages at TCA of both objects, both runs, in days), at most
  ``TCA_TOL_MAX_S``. Element sets mostly err along track, by about a kilometre at
  epoch growing by a few km per day in LEO; at 7.5 km/s that moves a TCA by well under
  a second per day of age, so the tolerance is generous, and it stays far below the
  ~45 min between two successive encounters of the same pair in LEO, which must
  stay separate events.

A matched conjunction adds a point to its event's time series (TCA, miss, radial
miss, relative speed, Pc, covariance size, time to TCA = age of the fresher
element set at TCA); an unmatched one opens a new event with a stable id
(``ID1-ID2-YYYYMMDDTHHMMSS`` of its first TCA). Each run is classified:

- ``new``: no earlier event matched;
- ``worse``: Pc up by ``PC_WORSE_FACTOR`` (10x) or more, or miss down to
  ``MISS_WORSE_FRACTION`` (half) or less, against the event's previous point;
- ``updated``: matched, not worse;
- ``gone``: an event of the previous run whose TCA lies in this run's window and
  that no conjunction of this run matched.

The same time series come from a series of CDMs of one event (``cdm_series``),
ordered by ``CREATION_DATE``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ssa.errors import DataNotFoundError, UserError

HISTORY_SCHEMA_VERSION = 1
HISTORY_FILE = "history.json"
TCA_TOL_BASE_S = 10.0  # s: TCA jitter of refinement and element-set noise at epoch
TCA_TOL_PER_AGE_DAY_S = 5.0  # s per day of element-set age (several times the LEO drift)
TCA_TOL_MAX_S = 600.0  # s: well below the ~45 min between encounters of one pair
PC_WORSE_FACTOR = 10.0
MISS_WORSE_FRACTION = 0.5
PC_FLOOR = 1e-12  # Pc below this counts as this (a ratio to 0 means nothing)
SECONDS_PER_DAY = 86400.0
STATUSES = ("new", "worse", "updated", "gone")


@dataclass
class Change:
    """One line of a run's changes: ``status`` of event ``event_id`` and its last points."""

    status: str
    event_id: str
    event: dict
    point: dict | None
    previous: dict | None


@dataclass
class RunChanges:
    """What one run did to the history: its ``run`` record and ``changes`` by status."""

    run: dict
    changes: list[Change] = field(default_factory=list)

    def by_status(self, status: str) -> list[Change]:
        return [c for c in self.changes if c.status == status]

    def summary(self) -> str:
        counts = ", ".join(f"{len(self.by_status(s))} {s}" for s in STATUSES)
        return f"history run {self.run['run']}: {counts}"


def tca_tolerance_s(*ages_days) -> float:
    """Return the TCA matching tolerance (s) for element-set ages at TCA (days)."""
    total = float(sum(abs(a) for a in ages_days if a is not None and math.isfinite(a)))
    return min(TCA_TOL_BASE_S + TCA_TOL_PER_AGE_DAY_S * total, TCA_TOL_MAX_S)


def _empty() -> dict:
    return {"schema_version": HISTORY_SCHEMA_VERSION, "runs": [], "events": {}}


def load_history(folder) -> dict:
    """Return the history document of ``folder`` (empty when there is none yet).

    Raises UserError for a history written by a newer, incompatible ssa, or unreadable."""
    path = Path(folder) / HISTORY_FILE
    if not path.exists():
        return _empty()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{path}: not a readable history ({exc}); move it away to start a new history"
        ) from None
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if not isinstance(version, int) or version > HISTORY_SCHEMA_VERSION:
        raise UserError(
            f"{path}: history schema version {version!r}, this ssa reads version "
            f"{HISTORY_SCHEMA_VERSION}; use the ssa that wrote it, or start a new "
            f"history folder"
        )
    return doc


def _save(folder: Path, doc: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / HISTORY_FILE
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-", suffix="-" + HISTORY_FILE)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    os.replace(tmp, path)  # a crash leaves the previous history intact
    return path


def _value(rows, name, i, default=math.nan):
    if name not in rows:
        return default
    v = rows[name][i]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _cov_size_m(rows, i) -> float | None:
    """Return the combined 1-sigma position uncertainty (m) of both objects, or None."""
    total = 0.0
    for k in (1, 2):
        for axis in "RTN":
            s = _value(rows, f"SIGMA{k}_{axis}_M", i)
            if s is None or (isinstance(s, float) and math.isnan(s)):
                return None
            total += float(s) ** 2
    return math.sqrt(total)


def points_from_rows(rows, run_id: int) -> list[dict]:
    """Return one history point per conjunction of a screening table (dict of columns)."""
    n = len(rows["NORAD_CAT_ID_1"])
    points = []
    for i in range(n):
        jd, fr = float(rows["TCA_JD"][i]), float(rows["TCA_FR"][i])
        dse1, dse2 = _value(rows, "DSE_1", i), _value(rows, "DSE_2", i)
        ages = [a for a in (dse1, dse2) if a is not None and not math.isnan(a)]
        points.append(
            {
                "run": run_id,
                "id1": int(rows["NORAD_CAT_ID_1"][i]),
                "id2": int(rows["NORAD_CAT_ID_2"][i]),
                "name1": str(rows["OBJECT_NAME_1"][i]),
                "name2": str(rows["OBJECT_NAME_2"][i]),
                "tca_jd": jd,
                "tca_fr": fr,
                "tca_utc": str(rows["TCA"][i]),
                "miss_km": float(rows["TCA_RANGE"][i]),
                "radial_km": _value(rows, "R_KM", i, None),
                "speed_kms": float(rows["TCA_RELATIVE_SPEED"][i]),
                "pc": _value(rows, "PC", i, None),
                "cov_size_m": _cov_size_m(rows, i),
                "age_days": [dse1, dse2],
                # Time to TCA of this update: the fresher element set's age at TCA.
                "time_to_tca_days": min(ages) if ages else None,
            }
        )
    return points


def _tca_s(p) -> float:
    return (p["tca_jd"] + p["tca_fr"]) * SECONDS_PER_DAY


def _worse(point: dict, previous: dict) -> bool:
    pc, prev_pc = point.get("pc"), previous.get("pc")
    if (
        pc is not None
        and prev_pc is not None
        and (max(pc, PC_FLOOR) >= PC_WORSE_FACTOR * max(prev_pc, PC_FLOOR))
    ):
        return True
    return point["miss_km"] <= MISS_WORSE_FRACTION * previous["miss_km"]


def event_id(point: dict) -> str:
    """Return the stable id of an event first seen at ``point``."""
    stamp = point["tca_utc"][:19].replace("-", "").replace(":", "").replace(" ", "T")
    return f"{point['id1']}-{point['id2']}-{stamp}"


def record_run(
    folder,
    points: list[dict],
    window: tuple[float, float] | None = None,
    info: dict | None = None,
    now: datetime | None = None,
) -> RunChanges:
    """Add one run's points to the history in ``folder``; return what changed.

    ``window``: the run's screening window as (start, end) in days (JD) so events of the
    previous run inside it that were not seen again count as gone; ``info``: what to keep
    about the run (inputs, counts). Nothing is written if the history is incompatible."""
    folder = Path(folder)
    doc = load_history(folder)
    run_id = len(doc["runs"]) + 1
    now = now or datetime.now(timezone.utc)
    run = {
        "run": run_id,
        "recorded_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conjunctions": len(points),
        "window_jd": list(window) if window else None,
        **(info or {}),
    }
    for p in points:
        p["run"] = run_id
    events = doc["events"]
    by_pair: dict = {}
    for eid, ev in events.items():
        by_pair.setdefault((ev["id1"], ev["id2"]), []).append(eid)
    changes = RunChanges(run)
    matched: set = set()
    for p in sorted(points, key=_tca_s):
        best, best_dt = None, None
        for eid in by_pair.get((p["id1"], p["id2"]), []):
            if eid in matched:
                continue
            last = events[eid]["points"][-1]
            dt = abs(_tca_s(p) - _tca_s(last))
            if dt <= tca_tolerance_s(*p["age_days"], *last["age_days"]) and (
                best_dt is None or dt < best_dt
            ):
                best, best_dt = eid, dt
        if best is None:
            eid = event_id(p)
            while eid in events:  # two encounters in one second: keep ids unique
                eid += "b"
            events[eid] = {
                "id1": p["id1"],
                "id2": p["id2"],
                "name1": p["name1"],
                "name2": p["name2"],
                "first_run": run_id,
                "points": [p],
            }
            by_pair.setdefault((p["id1"], p["id2"]), []).append(eid)
            matched.add(eid)
            changes.changes.append(Change("new", eid, events[eid], p, None))
            continue
        previous = events[best]["points"][-1]
        events[best]["points"].append(p)
        matched.add(best)
        status = "worse" if _worse(p, previous) else "updated"
        changes.changes.append(Change(status, best, events[best], p, previous))
    if window is not None and run_id > 1:
        start, end = window
        for eid, ev in events.items():
            last = ev["points"][-1]
            tca_days = last["tca_jd"] + last["tca_fr"]
            if eid not in matched and last["run"] == run_id - 1 and start <= tca_days <= end:
                ev["gone_run"] = run_id
                changes.changes.append(Change("gone", eid, ev, None, last))
    doc["runs"].append(run)
    _save(folder, doc)
    _write_changes(folder / f"run-{run_id:03d}-changes.csv", changes)
    return changes


CHANGE_COLUMNS = [
    "STATUS",
    "EVENT_ID",
    "NORAD_CAT_ID_1",
    "OBJECT_NAME_1",
    "NORAD_CAT_ID_2",
    "OBJECT_NAME_2",
    "TCA",
    "MISS_KM",
    "PREVIOUS_MISS_KM",
    "PC",
    "PREVIOUS_PC",
    "UPDATES",
]


def _write_changes(path: Path, changes: RunChanges) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CHANGE_COLUMNS)
        for c in changes.changes:
            now, prev = c.point or {}, c.previous or {}
            w.writerow(
                [
                    c.status,
                    c.event_id,
                    c.event["id1"],
                    c.event["name1"],
                    c.event["id2"],
                    c.event["name2"],
                    (c.point or c.previous)["tca_utc"],
                    _fmt(now.get("miss_km"), ".6f"),
                    _fmt(prev.get("miss_km"), ".6f"),
                    _fmt(now.get("pc"), ".6e"),
                    _fmt(prev.get("pc"), ".6e"),
                    len(c.event["points"]),
                ]
            )
    return path


def _fmt(v, spec) -> str:
    return "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def record_result(folder, result, now: datetime | None = None) -> RunChanges:
    """Add a ``ScreenResult`` to the history in ``folder`` (see ``record_run``)."""
    run = result.run
    inputs = run.get("inputs", {})
    window = None
    if inputs.get("start_utc") and inputs.get("days") is not None:
        start = _jd_of(inputs["start_utc"])
        window = (start, start + float(inputs["days"]))
    info = {
        "inputs": {
            k: inputs.get(k) for k in ("catalogs", "start_utc", "end_utc", "days", "threshold_km")
        }
    }
    return record_run(folder, points_from_rows(result.rows, 0), window, info, now)


def _jd_of(text: str) -> float:
    value = datetime.fromisoformat(str(text).replace("Z", "").replace(" ", "T"))
    epoch = datetime(2000, 1, 1, 12)
    return 2451545.0 + (value - epoch).total_seconds() / SECONDS_PER_DAY


def find_event(doc: dict, pair: tuple[int, int], tca_s: float) -> tuple[str, dict] | None:
    """Return (id, event) of the history event of ``pair`` whose latest TCA is nearest to
    ``tca_s`` (seconds of JD) within the matching tolerance, or None."""
    best = None
    for eid, ev in doc["events"].items():
        if (ev["id1"], ev["id2"]) != tuple(pair):
            continue
        last = ev["points"][-1]
        dt = abs(_tca_s(last) - tca_s)
        if dt <= tca_tolerance_s(*last["age_days"]) and (best is None or dt < best[0]):
            best = (dt, eid, ev)
    return None if best is None else (best[1], best[2])


def top_events(doc: dict, n: int = 10) -> list[tuple[str, dict]]:
    """Return the ``n`` events most worth a look: highest last Pc, then smallest last miss."""

    def key(item):
        last = item[1]["points"][-1]
        pc = last.get("pc") or 0.0
        return (-pc, last["miss_km"])

    return sorted(doc["events"].items(), key=key)[:n]


def cdm_series(paths, hbr_m: float | None = None) -> dict:
    """Return the event history of a series of CDMs of one event, ordered by CREATION_DATE:
    ``{"id1", "id2", "name1", "name2", "points": [...]}`` with Pc recomputed from each CDM.

    Raises UserError when the CDMs are not all about the same pair of objects."""
    from ssa.cdm import parse_epoch, read_cdm
    from ssa.risk.assess import assess_cdm

    if not paths:
        raise DataNotFoundError("no CDM files given")
    items = []
    for path in paths:
        cdm = read_cdm(path)
        if "CREATION_DATE" not in cdm.header:
            raise UserError(f"{path}: no CREATION_DATE; a CDM history is ordered by it")
        items.append((parse_epoch(str(cdm.header["CREATION_DATE"])), str(path), cdm))
    items.sort(key=lambda t: t[0])
    pairs = {tuple(_cdm_object(c, k)[0] for k in (0, 1)) for _, _, c in items}
    if len(pairs) != 1:
        raise UserError(
            f"the CDMs are about {len(pairs)} different pairs of objects "
            f"({sorted(pairs)}); a history needs the CDMs of one event"
        )
    points = []
    for created, path, cdm in items:
        res = assess_cdm(cdm, hbr_m)
        radial = cdm.relative.get("RELATIVE_POSITION_R")
        speed = cdm.relative.get("RELATIVE_SPEED")
        points.append(
            {
                "file": path,
                "creation_utc": created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23],
                "tca_utc": res["tca"],
                "miss_km": res["miss_distance_m"] / 1000.0,
                "radial_km": float(radial) / 1000.0 if radial not in (None, "") else None,
                "speed_kms": float(speed) / 1000.0 if speed not in (None, "") else None,
                "pc": res["pc"],
                "cdm_pc": res["cdm_pc"],
                "time_to_tca_days": (cdm.tca - created).total_seconds() / SECONDS_PER_DAY,
            }
        )
    (id1, name1), (id2, name2) = (_cdm_object(items[-1][2], k) for k in (0, 1))
    return {"id1": id1, "id2": id2, "name1": name1, "name2": name2, "points": points}


def _cdm_object(cdm, k: int) -> tuple[str, str]:
    values = cdm.objects[k].values
    return (
        str(values.get("OBJECT_DESIGNATOR", "")).strip(),
        str(values.get("OBJECT_NAME", "")).strip(),
    )


def plot_event(event: dict, path, title: str | None = None) -> Path:
    """Write the CARA-style event-history figure of ``event``: miss distance and Pc against
    time to TCA (days, decreasing to the right), one point per update; return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [p for p in event["points"] if p.get("time_to_tca_days") is not None]
    t = np.array([p["time_to_tca_days"] for p in pts], float)
    miss_m = np.array([p["miss_km"] * 1000.0 for p in pts], float)
    pc = np.array([np.nan if p.get("pc") is None else p["pc"] for p in pts], float)
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(6.5, 5.0))
    ax1.plot(t, miss_m, "o-", color="tab:blue")
    ax1.set_ylabel("miss distance (m)")
    positive = np.isfinite(pc) & (pc > 0)
    ax2.semilogy(t[positive], pc[positive], "o-", color="tab:red")
    ax2.axhline(1e-4, color="grey", ls="--", lw=0.8, label="Pc 1e-4 (manoeuvre threshold)")
    ax2.set_ylabel("Pc")
    ax2.set_xlabel("time to TCA (days)")
    ax2.legend(loc="best", fontsize=8)
    if len(t):
        ax2.set_xlim(max(t.max(), 0.0) + 0.1, min(t.min(), 0.0) - 0.1)  # TCA on the right
    fig.suptitle(
        title or f"{event['name1']} ({event['id1']}) vs {event['name2']} ({event['id2']})",
        fontsize=10,
    )
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = [
    "Change",
    "HISTORY_FILE",
    "RunChanges",
    "cdm_series",
    "event_id",
    "load_history",
    "find_event",
    "plot_event",
    "points_from_rows",
    "record_result",
    "record_run",
    "tca_tolerance_s",
    "top_events",
]
