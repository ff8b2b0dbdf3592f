"""Scenario files (TOML): loading and validation.

Every problem is reported as ``FILE: KEY: PROBLEM`` and all problems of a file
are listed together, so one run of ``ssa scenario run`` shows what to fix.
See ``scenarios/status-quo.toml`` for a commented example.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ssa.scenario.sensors import SensorTable, load_sensors

SHARING_POLICIES = ("observations", "alerts", "none")
OBJECT_TYPES = ("PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN")

# Allowed keys per table, with defaults (None: required).
_TOP = {
    "name": None,
    "description": "",
    "seed": 1,
    "window": None,
    "catalog": None,
    "screening": {},
    "tracking": {},
    "assessment": {},
    "sensors": {},
    "members": None,
    "events": [],
    "sweep": {},
}
_WINDOW = {"start": None, "days": 3.0, "history_days": 1.0}
_CATALOG = {"file": None, "satcat": None, "rcs": None, "hbr": None}
_SCREENING = {"threshold_km": 5.0}
_TRACKING = {"step_s": 60.0, "coverage_step_s": 120.0}
_ASSESSMENT = {
    "pc_threshold": 1e-4,
    "commit_days": 1.0,
    "screen_ahead_days": 7.0,
    "cadence_h": 8.0,
    "fit_span_days": 3.5,
    "observation_latency_h": 1.0,
    "alert_latency_h": 4.0,
    "miss_rule_km": 0.0,
    "protect_types": ["PAYLOAD"],
    "exclude_names": [],
    "monte_carlo_runs": 4,
    "bootstrap": 400,
    "leave_one_out": False,
}
# Sweep dimensions (docs/DESIGN.md): commit_days and threshold_pc are evaluated inside
# one run; start and seeds expand into independent runs (``expand_sweep``).
_SWEEP = {"commit_days": [], "threshold_pc": [], "seeds": [], "start": [], "snapshots": []}
# [[sweep.snapshots]]: a catalog snapshot and the window starts run on it (several
# start dates over several snapshots; each (file, start) is one run per seed).
_SNAPSHOT = {"file": None, "start": None}
_SENSORS = {"file": "sensors.csv"}
_MEMBER = {"name": None, "owners": None, "sensors": [], "sharing": None}
_EVENT = {"kind": None, "sensor": None, "member": None, "from": None, "to": None, "at": None}
# Keys of the security event kinds (ssa.scenario.security_events), with "not given" defaults.
_EVENT.update(
    {
        "parent": 0,
        "mode": "",
        "impactor": 0,
        "parent_mass_kg": 0.0,
        "impactor_mass_kg": 0.0,
        "impact_speed_km_s": 0.0,
        "min_size_m": 0.0,
        "object": 0,
        "dv_rtn_ms": [],
        "towards": 0,
        "miss_km": 0.0,
        "transfer_h": 0.0,
        "sample": 0,
        "exposure_days": 0.0,
    }
)


@dataclass(frozen=True)
class Member:
    """A grouping member: whose satellites it protects, what it operates, what it shares."""

    name: str
    owners: tuple[str, ...]
    sensors: tuple[str, ...]
    sharing: str


@dataclass(frozen=True)
class Event:
    """``outage`` of ``sensor`` from..to, or ``leave`` of ``member`` at a time (UTC)."""

    kind: str
    sensor: str = ""
    member: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    params: dict = field(default_factory=dict)  # breakup / manoeuvre settings


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; paths are resolved against the scenario file's folder."""

    path: Path
    name: str
    description: str
    seed: int
    start: dt.datetime
    days: float
    history_days: float
    catalog_file: str
    satcat: str | None
    rcs: str | None
    hbr: str | None
    threshold_km: float
    step_s: float
    coverage_step_s: float
    pc_threshold: float
    cadence_h: float
    commit_days: float
    screen_ahead_days: float
    fit_span_days: float
    observation_latency_h: float
    alert_latency_h: float
    miss_rule_km: float
    protect_types: tuple[str, ...]
    exclude_names: tuple[str, ...]
    monte_carlo_runs: int
    bootstrap: int
    leave_one_out: bool
    sensors_file: Path
    sensors: SensorTable
    members: tuple[Member, ...]
    events: tuple[Event, ...] = field(default=())
    sweep_commit_days: tuple[float, ...] = (0.5, 1.0, 1.5, 3.0)
    sweep_threshold_pc: tuple[float, ...] = ()
    sweep_seeds: tuple[int, ...] = ()
    sweep_start: tuple[dt.datetime, ...] = ()
    # ((catalog file, (start, ...)), ...): replaces catalog.file and start per run
    sweep_snapshots: tuple[tuple[str, tuple[dt.datetime, ...]], ...] = ()

    def member(self, name: str) -> Member:
        for m in self.members:
            if m.name == name:
                return m
        raise ValueError(f"{self.path}: no member named {name!r}")

    def settings(self) -> dict:
        """Return the settings as plain JSON-ready values (for summary.json)."""
        return {
            "scenario": str(self.path),
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "start_utc": self.start.isoformat(),
            "days": self.days,
            "history_days": self.history_days,
            "catalog": self.catalog_file,
            "satcat": self.satcat,
            "rcs": self.rcs,
            "hbr": self.hbr,
            "threshold_km": self.threshold_km,
            "step_s": self.step_s,
            "coverage_step_s": self.coverage_step_s,
            "pc_threshold": self.pc_threshold,
            "commit_days": self.commit_days,
            "screen_ahead_days": self.screen_ahead_days,
            "cadence_h": self.cadence_h,
            "fit_span_days": self.fit_span_days,
            "observation_latency_h": self.observation_latency_h,
            "alert_latency_h": self.alert_latency_h,
            "miss_rule_km": self.miss_rule_km,
            "protect_types": list(self.protect_types),
            "exclude_names": list(self.exclude_names),
            "monte_carlo_runs": self.monte_carlo_runs,
            "bootstrap": self.bootstrap,
            "leave_one_out": self.leave_one_out,
            "sensors_file": str(self.sensors_file),
            "sweep": {
                "commit_days": list(self.sweep_commit_days),
                "threshold_pc": list(self.sweep_threshold_pc),
                "seeds": list(self.sweep_seeds),
                "start": [x.isoformat() for x in self.sweep_start],
                "snapshots": [
                    {"file": f, "start": [x.isoformat() for x in st]}
                    for f, st in self.sweep_snapshots
                ],
            },
            "members": [
                {
                    "name": m.name,
                    "owners": list(m.owners),
                    "sensors": list(m.sensors),
                    "sharing": m.sharing,
                }
                for m in self.members
            ],
            "events": [
                {
                    "kind": e.kind,
                    "sensor": e.sensor,
                    "member": e.member,
                    "from": e.start.isoformat() if e.start else None,
                    "to": e.end.isoformat() if e.end else None,
                }
                for e in self.events
            ],
        }


class _Checker:
    """Collects problems as 'file: key: problem' lines."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def add(self, key: str, problem: str) -> None:
        self.problems.append(f"{self.path}: {key}: {problem}")

    def table(self, data, key: str, allowed: dict) -> dict:
        """Return ``allowed`` defaults updated with ``data``; report unknown/missing keys."""
        if not isinstance(data, dict):
            self.add(key, f"expected a table, got {type(data).__name__}")
            return {k: v for k, v in allowed.items()}
        out = dict(allowed)
        prefix = f"{key}." if key else ""
        for k, v in data.items():
            if k not in allowed:
                self.add(f"{prefix}{k}", f"unknown key (allowed: {', '.join(allowed)})")
            else:
                out[k] = v
        for k, v in allowed.items():
            if (
                v is None
                and k not in data
                and k not in ("sensor", "member", "from", "to", "at", "satcat", "rcs", "hbr")
            ):
                self.add(f"{prefix}{k}", "required key is missing")
        return out

    def number(self, value, key: str, low: float, high: float, integer: bool = False):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(key, f"expected a number, got {value!r}")
            return None
        # An int is whole already (float() of a 400-digit TOML integer overflows).
        if integer and isinstance(value, float) and not value.is_integer():
            self.add(key, f"expected an integer, got {value!r}")
            return None
        if not (low <= value <= high):
            self.add(key, f"{value!r} is outside [{low}, {high}]")
            return None
        return int(value) if integer else float(value)

    def text(self, value, key: str, required: bool = True):
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(key, f"expected a non-empty string, got {value!r}")
            return None
        return value.strip()

    def strings(self, value, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            self.add(key, f"expected a list of strings, got {value!r}")
            return ()
        return tuple(x.strip() for x in value)

    def when(self, value, key: str):
        """Return an aware UTC datetime from a TOML datetime or ISO-8601 string."""
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                self.add(key, f"{value!r} is not an ISO-8601 date-time (e.g. 2024-07-05T12:00:00Z)")
                return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        if not isinstance(value, dt.datetime):
            self.add(key, f"expected a date-time, got {value!r}")
            return None
        if value.tzinfo is None:
            self.add(
                key,
                f"{value.isoformat()} has no time zone; write it in UTC with a "
                "trailing Z, e.g. 2024-07-05T12:00:00Z",
            )
            return None
        return value.astimezone(dt.timezone.utc)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML; raise ValueError listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {exc.start}): TOML files are UTF-8"
        ) from None
    c = _Checker(path)
    top = c.table(raw, "", _TOP)
    name = c.text(top["name"], "name")
    description = top["description"] if isinstance(top["description"], str) else ""
    seed = c.number(top["seed"], "seed", 0, 2**63 - 1, integer=True)

    win = c.table(top["window"] or {}, "window", _WINDOW)
    start = c.when(win["start"], "window.start")
    days = c.number(win["days"], "window.days", 0.01, 60.0)
    history = c.number(win["history_days"], "window.history_days", 0.25, 30.0)

    cat = c.table(top["catalog"] or {}, "catalog", _CATALOG)
    catalog_file = c.text(cat["file"], "catalog.file")
    satcat = c.text(cat["satcat"], "catalog.satcat", required=False)
    rcs = c.text(cat["rcs"], "catalog.rcs", required=False)
    hbr = c.text(cat["hbr"], "catalog.hbr", required=False)

    scr = c.table(top["screening"], "screening", _SCREENING)
    threshold = c.number(scr["threshold_km"], "screening.threshold_km", 0.01, 200.0)

    trk = c.table(top["tracking"], "tracking", _TRACKING)
    step = c.number(trk["step_s"], "tracking.step_s", 1.0, 3600.0)
    cov_step = c.number(trk["coverage_step_s"], "tracking.coverage_step_s", 1.0, 3600.0)

    ass = c.table(top["assessment"], "assessment", _ASSESSMENT)
    pc_thr = c.number(ass["pc_threshold"], "assessment.pc_threshold", 1e-12, 1.0)
    commit = c.number(ass["commit_days"], "assessment.commit_days", 0.0, 7.0)
    ahead = c.number(ass["screen_ahead_days"], "assessment.screen_ahead_days", 0.5, 14.0)
    cadence = c.number(ass["cadence_h"], "assessment.cadence_h", 0.25, 72.0)
    span = c.number(ass["fit_span_days"], "assessment.fit_span_days", 0.25, 30.0)
    obs_lat = c.number(ass["observation_latency_h"], "assessment.observation_latency_h", 0.0, 240.0)
    alert_lat = c.number(ass["alert_latency_h"], "assessment.alert_latency_h", 0.0, 240.0)
    miss_rule = c.number(ass["miss_rule_km"], "assessment.miss_rule_km", 0.0, 100.0)
    protect = c.strings(ass["protect_types"], "assessment.protect_types")
    for t in protect:
        if t not in OBJECT_TYPES:
            c.add("assessment.protect_types", f"{t!r} is not one of {', '.join(OBJECT_TYPES)}")
    exclude = c.strings(ass["exclude_names"], "assessment.exclude_names")
    runs = c.number(ass["monte_carlo_runs"], "assessment.monte_carlo_runs", 1, 10000, integer=True)
    boot = c.number(ass["bootstrap"], "assessment.bootstrap", 0, 100000, integer=True)
    loo = ass["leave_one_out"]
    if not isinstance(loo, bool):
        c.add("assessment.leave_one_out", f"expected true or false, got {loo!r}")
        loo = False

    sw = c.table(top["sweep"], "sweep", _SWEEP)
    sweep_commit = tuple(
        x
        for i, v in enumerate(_list(c, sw["commit_days"], "sweep.commit_days"))
        if (x := c.number(v, f"sweep.commit_days[{i}]", 0.0, 7.0)) is not None
    )
    sweep_thr = tuple(
        x
        for i, v in enumerate(_list(c, sw["threshold_pc"], "sweep.threshold_pc"))
        if (x := c.number(v, f"sweep.threshold_pc[{i}]", 1e-12, 1.0)) is not None
    )
    sweep_seeds = tuple(
        x
        for i, v in enumerate(_list(c, sw["seeds"], "sweep.seeds"))
        if (x := c.number(v, f"sweep.seeds[{i}]", 0, 2**63 - 1, integer=True)) is not None
    )
    sweep_start = tuple(
        x
        for i, v in enumerate(_list(c, sw["start"], "sweep.start"))
        if (x := c.when(v, f"sweep.start[{i}]")) is not None
    )
    sweep_snapshots = []
    for i, v in enumerate(_list(c, sw["snapshots"], "sweep.snapshots")):
        key = f"sweep.snapshots[{i}]"
        snap = c.table(v, key, _SNAPSHOT)
        f = c.text(snap["file"], f"{key}.file")
        st = tuple(
            x
            for j, w in enumerate(_list(c, snap["start"], f"{key}.start"))
            if (x := c.when(w, f"{key}.start[{j}]")) is not None
        )
        if f and st:
            sweep_snapshots.append((f, st))
    if sweep_snapshots and sweep_start:
        c.add("sweep.start", "give the starts inside [[sweep.snapshots]], not both")
    if commit is not None and ahead is not None:
        for cd in (commit, *sweep_commit):
            if cd >= ahead:
                c.add(
                    "assessment.commit_days",
                    f"commit time {cd} d is not after the first "
                    f"assessment (screen_ahead_days = {ahead})",
                )

    sen = c.table(top["sensors"], "sensors", _SENSORS)
    sensors_file = (path.parent / str(sen["file"])).resolve()
    sensors = None
    if not sensors_file.exists():
        c.add("sensors.file", f"{sensors_file} does not exist")
    else:
        try:
            sensors = load_sensors(sensors_file)
        except ValueError as exc:
            c.add("sensors.file", str(exc))

    members: list[Member] = []
    raw_members = top["members"]
    if not isinstance(raw_members, list) or not raw_members:
        c.add("members", "expected at least one [[members]] table")
        raw_members = []
    owner_of: dict[str, str] = {}
    sensor_of: dict[str, str] = {}
    for i, m in enumerate(raw_members):
        key = f"members[{i}]"
        m = c.table(m, key, _MEMBER)
        mname = c.text(m["name"], f"{key}.name")
        key = f"members[{i}] ({mname})" if mname else key
        owners = c.strings(m["owners"], f"{key}.owners")
        msensors = c.strings(m["sensors"], f"{key}.sensors")
        sharing = m["sharing"]
        if sharing not in SHARING_POLICIES:
            c.add(f"{key}.sharing", f"{sharing!r} is not one of {', '.join(SHARING_POLICIES)}")
        if mname and any(x.name == mname for x in members):
            c.add(f"{key}.name", f"duplicate member name {mname!r}")
        for o in owners:
            if o in owner_of:
                c.add(f"{key}.owners", f"owner code {o!r} already protected by {owner_of[o]}")
            owner_of.setdefault(o, mname)
        for s in msensors:
            if sensors is not None and s not in set(sensors.id):
                c.add(f"{key}.sensors", f"unknown sensor {s!r} (not in {sensors_file})")
            if s in sensor_of:
                c.add(f"{key}.sensors", f"sensor {s!r} already operated by {sensor_of[s]}")
            sensor_of.setdefault(s, mname)
        if mname and sharing in SHARING_POLICIES:
            members.append(Member(mname, owners, msensors, sharing))

    events: list[Event] = []
    raw_events = top["events"]
    if not isinstance(raw_events, list):
        c.add("events", "expected a list of [[events]] tables")
        raw_events = []
    ctx = {
        "sensors": set(sensors.id) if sensors is not None else None,
        "sensors_file": sensors_file,
        "members": {m.name for m in members},
    }
    for i, e in enumerate(raw_events):
        key = f"events[{i}]"
        e = c.table(e, key, _EVENT)
        parser = EVENT_KINDS.get(e["kind"])
        if parser is None:
            c.add(f"{key}.kind", f"{e['kind']!r} is not one of {', '.join(EVENT_KINDS)}")
            continue
        event = parser(c, e, key, ctx)
        if event is not None:
            events.append(event)

    if c.problems:
        raise ValueError(f"{len(c.problems)} problem(s) in scenario:\n" + "\n".join(c.problems))
    return Scenario(
        path=path,
        name=name,
        description=description,
        seed=seed,
        start=start,
        days=days,
        history_days=history,
        catalog_file=catalog_file,
        satcat=satcat,
        rcs=rcs,
        hbr=hbr,
        threshold_km=threshold,
        step_s=step,
        coverage_step_s=cov_step,
        pc_threshold=pc_thr,
        cadence_h=cadence,
        commit_days=commit,
        screen_ahead_days=ahead,
        fit_span_days=span,
        observation_latency_h=obs_lat,
        alert_latency_h=alert_lat,
        miss_rule_km=miss_rule,
        protect_types=protect,
        exclude_names=exclude,
        monte_carlo_runs=runs,
        bootstrap=boot,
        leave_one_out=loo,
        sensors_file=sensors_file,
        sensors=sensors,
        members=tuple(members),
        events=tuple(events),
        sweep_commit_days=tuple(sorted(set(sweep_commit) | {commit})),
        sweep_threshold_pc=sweep_thr,
        sweep_seeds=sweep_seeds,
        sweep_start=sweep_start,
        sweep_snapshots=tuple(sweep_snapshots),
    )


def _list(c: _Checker, value, key: str) -> list:
    if not isinstance(value, list):
        c.add(key, f"expected a list, got {value!r}")
        return []
    return value


def _outage(c: _Checker, e: dict, key: str, ctx: dict) -> Event | None:
    sid = c.text(e["sensor"], f"{key}.sensor")
    t0 = c.when(e["from"], f"{key}.from")
    t1 = c.when(e["to"], f"{key}.to")
    if sid and ctx["sensors"] is not None and sid not in ctx["sensors"]:
        c.add(f"{key}.sensor", f"unknown sensor {sid!r} (not in {ctx['sensors_file']})")
    if t0 and t1 and t1 <= t0:
        c.add(f"{key}.to", f"{t1.isoformat()} is not after from={t0.isoformat()}")
    return Event("outage", sensor=sid, start=t0, end=t1) if sid and t0 and t1 else None


def _leave(c: _Checker, e: dict, key: str, ctx: dict) -> Event | None:
    mname = c.text(e["member"], f"{key}.member")
    at = c.when(e["at"], f"{key}.at")
    if mname and mname not in ctx["members"]:
        c.add(
            f"{key}.member",
            f"unknown member {mname!r} (members: {', '.join(sorted(ctx['members']))})",
        )
    return Event("leave", member=mname, start=at) if mname and at else None


# Event kinds: name -> parser(checker, table, key, context) -> Event or None. A new
# kind (e.g. breakup, manoeuvre) registers its parser here and its effect in the run.
EVENT_KINDS = {"outage": _outage, "leave": _leave}
from ssa.scenario.security_events import EVENT_PARSERS as _SECURITY  # noqa: E402

EVENT_KINDS.update(_SECURITY)  # "breakup", "manoeuvre", "small_debris"


def expand_sweep(sc: Scenario) -> list[Scenario]:
    """Return the independent runs of a scenario: one per (start, seed) of its [sweep].

    With [[sweep.snapshots]], one per (snapshot file, start, seed), each run on its
    snapshot (``catalog_file`` replaced). commit_days and threshold_pc are evaluated inside every run (they only change
    decisions), so they do not multiply runs. Each returned Scenario is a complete
    run description: ``ssa.scenario.assess.run_variant(variant, truth)`` runs it.
    """
    import dataclasses

    seeds = sc.sweep_seeds or (sc.seed,)
    if sc.sweep_snapshots:
        return [
            dataclasses.replace(sc, catalog_file=f, start=s, seed=k)
            for f, starts in sc.sweep_snapshots
            for s in starts
            for k in seeds
        ]
    starts = sc.sweep_start or (sc.start,)
    return [dataclasses.replace(sc, start=s, seed=k) for s in starts for k in seeds]


def resolve_data_path(name: str, scenario_path: Path) -> Path:
    """Return a data file named in a scenario: absolute, next to the scenario, or in SSA_DATA."""
    p = Path(name).expanduser()
    from ssa.data import data_file
    from ssa.errors import DataNotFoundError  # a FileNotFoundError the CLI reports in one line

    if p.is_absolute():
        if not p.exists():
            raise DataNotFoundError(f"{scenario_path}: {p} not found")
        return p
    local = scenario_path.parent / p
    if local.exists():
        return local
    try:
        return data_file(name)
    except FileNotFoundError as exc:
        raise DataNotFoundError(f"{scenario_path}: catalog file {name!r}: {exc}") from None
