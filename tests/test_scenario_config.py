"""Scenario TOML validation: every problem names the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssa.scenario.config import load_scenario

SCENARIOS = Path(__file__).parent.parent / "scenarios"

GOOD = """
name = "t"
seed = 3
[window]
start = 2024-07-05T12:00:00Z
days = 1.0
history_days = 2.0
[catalog]
file = "catalog-2024-07-05.3le"
[assessment]
commit_days = 1.0
[sweep]
commit_days = [0.5, 3.0]
seeds = [3, 4]
[sensors]
file = "{sensors}"
[[members]]
name = "EU"
owners = ["ESA", "FR"]
sensors = ["FR-GRAVES"]
sharing = "observations"
[[members]]
name = "Japan"
owners = ["JPN"]
sensors = ["JP-BISEI"]
sharing = "alerts"
"""


def write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text.replace("{sensors}", str(SCENARIOS / "sensors.csv")))
    return path


def problems(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as err:
        load_scenario(path)
    return str(err.value), str(path)


def test_good_file_loads(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert [m.name for m in sc.members] == ["EU", "Japan"]
    assert sc.start.isoformat() == "2024-07-05T12:00:00+00:00"
    assert sc.pc_threshold == 1e-4 and sc.seed == 3


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert sc.name == path.stem and len(sc.members) >= 2


@pytest.mark.parametrize(
    "old,new,key,problem",
    [
        (
            'sharing = "alerts"',
            'sharing = "gossip"',
            "members[1] (Japan).sharing",
            "'gossip' is not one of observations, alerts, none",
        ),
        (
            'sensors = ["JP-BISEI"]',
            'sensors = ["JP-NOPE"]',
            "members[1] (Japan).sensors",
            "unknown sensor 'JP-NOPE'",
        ),
        ("days = 1.0", "days = -1.0", "window.days", "-1.0 is outside"),
        ("days = 1.0", 'days = "one"', "window.days", "expected a number"),
        (
            "start = 2024-07-05T12:00:00Z",
            "start = 2024-07-05T12:00:00",
            "window.start",
            "has no time zone",
        ),
        ("seed = 3", "seed = 3\ncolour = 1", "colour", "unknown key"),
        (
            'owners = ["JPN"]',
            'owners = ["FR"]',
            "members[1] (Japan).owners",
            "owner code 'FR' already protected by EU",
        ),
        ('file = "catalog-2024-07-05.3le"', "", "catalog.file", "required key is missing"),
        ("commit_days = 1.0", "commit_days = 8.0", "assessment.commit_days", "outside"),
        ("commit_days = [0.5, 3.0]", "commit_days = [0.5, 9.0]", "sweep.commit_days[1]", "outside"),
        ("seeds = [3, 4]", 'seeds = "many"', "sweep.seeds", "expected a list"),
        ("seeds = [3, 4]", "seeds = [3, 4]\nmoons = [1]", "sweep.moons", "unknown key"),
    ],
)
def test_errors_name_file_key_and_problem(tmp_path, old, new, key, problem):
    assert old in GOOD
    text, path = problems(tmp_path, GOOD.replace(old, new))
    line = next(x for x in text.splitlines() if x.startswith(f"{path}: {key}: "))
    assert problem in line


def test_all_problems_listed_at_once(tmp_path):
    text, path = problems(
        tmp_path,
        GOOD.replace("days = 1.0", "days = 0").replace('sharing = "alerts"', 'sharing = "x"'),
    )
    assert text.startswith("2 problem(s)")
    assert f"{path}: window.days:" in text and f"{path}: members[1] (Japan).sharing:" in text


def test_event_errors(tmp_path):
    bad = (
        GOOD
        + """
[[events]]
kind = "outage"
sensor = "FR-GRAVES"
from = 2024-07-06T00:00:00Z
to = 2024-07-05T00:00:00Z
[[events]]
kind = "leave"
member = "Mars"
at = 2024-07-05T12:00:00Z
[[events]]
kind = "earthquake"
"""
    )
    text, path = problems(tmp_path, bad)
    assert f"{path}: events[0].to: 2024-07-05T00:00:00+00:00 is not after" in text
    assert f"{path}: events[1].member: unknown member 'Mars'" in text
    assert f"{path}: events[2].kind: 'earthquake' is not one of outage, leave" in text


def test_sweep_expands_starts_and_seeds_into_runs(tmp_path):
    from ssa.scenario.config import expand_sweep

    sc = load_scenario(
        write(
            tmp_path,
            GOOD.replace(
                "seeds = [3, 4]",
                'seeds = [3, 4]\nstart = ["2024-07-05T12:00:00Z", "2024-07-08T12:00:00Z"]',
            ),
        )
    )
    runs = expand_sweep(sc)
    assert [(r.start.day, r.seed) for r in runs] == [(5, 3), (5, 4), (8, 3), (8, 4)]
    # commit times are evaluated inside each run, headline included.
    assert all(r.sweep_commit_days == (0.5, 1.0, 3.0) for r in runs)


def test_event_kinds_are_a_registry(tmp_path, monkeypatch):
    from ssa.scenario import config

    def parse_breakup(c, e, key, ctx):
        return config.Event("breakup", start=c.when(e["at"], f"{key}.at"))

    # monkeypatch restores the real "breakup" kind (ssa.scenario.security_events) after
    monkeypatch.setitem(config.EVENT_KINDS, "breakup", parse_breakup)
    sc = load_scenario(
        write(tmp_path, GOOD + '\n[[events]]\nkind = "breakup"\nat = 2024-07-05T18:00:00Z\n')
    )
    assert [e.kind for e in sc.events] == ["breakup"]


def test_invalid_toml_names_file(tmp_path):
    text, path = problems(tmp_path, "name = ")
    assert text.startswith(f"{path}: not valid TOML")
