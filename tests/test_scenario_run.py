"""End to end: a small scenario on a real catalog subset with a fixed seed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssa.cli import main
from ssa.scenario.assess import caching_screen, load_catalog, run_scenario, screen_truth
from ssa.scenario.config import load_scenario
from ssa.scenario.report import write_outputs

SCENARIO = """
name = "small"
seed = 7
[window]
start = 2024-07-05T12:00:00Z
days = 1.0
history_days = 1.5
[catalog]
file = "{catalog}"
satcat = "{satcat}"
[tracking]
step_s = 120.0
coverage_step_s = 300.0
[assessment]
lead_days = 1.0
monte_carlo_runs = 3
[sensors]
file = "{sensors}"
[[members]]
name = "EU"
owners = ["ESA", "EUME", "EUTE", "FR", "GER", "IT", "SPN"]
sensors = ["FR-GRAVES", "DE-GESTRA", "ES-S3TSR", "DE-TIRA", "ES-OGS"]
sharing = "observations"
[[members]]
name = "Japan"
owners = ["JPN"]
sensors = ["JP-KAMISAIBARA", "JP-BISEI"]
sharing = "observations"
[[members]]
name = "Australia"
owners = ["AUS"]
sensors = ["AU-CBAND", "AU-SST"]
sharing = "alerts"
[[members]]
name = "South Korea"
owners = ["SKOR"]
sensors = ["KR-OWL-DAEJEON"]
sharing = "none"
"""
# Random LEO objects kept besides the members' satellites (keeps screening to seconds).
BACKGROUND_FRACTION = 0.12


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_file):
    from pathlib import Path

    tmp = tmp_path_factory.mktemp("scenario")
    path = tmp / "small.toml"
    path.write_text(SCENARIO.format(
        catalog=shared_file("catalog-2024-07-05.3le"),
        satcat=shared_file("satcat-2025-03.csv.gz"),
        sensors=Path(__file__).parent.parent / "scenarios" / "sensors.csv"))
    sc = load_scenario(path)
    full = load_catalog(sc)
    rng = np.random.default_rng(0)
    mine = np.isin(full.owner, [o for m in sc.members for o in m.owners]) & (
        full.object_type == "PAYLOAD")
    keep = mine | ((rng.random(len(full)) < BACKGROUND_FRACTION) & (full.apogee_km < 2000))
    catalog = full.subset(keep)
    # The truth screening is computed once and reloaded from disk by later runs.
    cached_screen = caching_screen(tmp / "cache", screen=screen_truth)
    result = run_scenario(sc, catalog=catalog, screen=cached_screen)
    return sc, catalog, cached_screen, result, tmp


def by_key(result):
    return {m["participant"]: m for m in result.metrics()}


def test_metrics_are_consistent(run):
    _, _, _, result, _ = run
    assert result.counts["conjunctions"] > 20
    for m in result.metrics():
        assert m["caught"] + m["missed"] == m["dangerous"]
        assert m["caught"] + m["false_alerts"] <= m["conjunctions"]
        assert 0.0 <= m["coverage_24h"] <= 1.0
        assert np.all(np.nan_to_num(result.warning_h[0]) >= 0)


def test_pooled_coverage_at_least_each_members(run):
    _, _, _, result, _ = run
    m = by_key(result)
    pooled = m["EU grouping"]["coverage_24h"]
    assert pooled == m["Japan grouping"]["coverage_24h"]
    for name in ("EU", "Japan", "Australia", "South Korea"):
        assert pooled >= m[f"{name} alone"]["coverage_24h"]
    assert pooled > min(m["EU alone"]["coverage_24h"], m["Japan alone"]["coverage_24h"])


def test_sharing_never_worsens_knowledge_and_none_changes_nothing(run):
    _, _, _, result, _ = run
    for name in ("EU", "Japan", "Australia"):
        alone, group = result.decision[f"{name} alone"], result.decision[f"{name} grouping"]
        rel = result.relevant[[p.key for p in result.participants].index(f"{name} alone")]
        var_a = np.sum(alone["sigma1_m"] ** 2 + alone["sigma2_m"] ** 2, axis=1)[rel]
        var_g = np.sum(group["sigma1_m"] ** 2 + group["sigma2_m"] ** 2, axis=1)[rel]
        assert np.all(var_g <= var_a * (1 + 1e-12))
    m = by_key(result)
    a, g = m["South Korea alone"], m["South Korea grouping"]
    for k in ("caught", "missed", "false_alerts", "manoeuvres"):
        assert a[k] == g[k]


def test_same_seed_same_result(run):
    sc, catalog, cached_screen, result, tmp = run
    assert len(list((tmp / "cache").glob("screen-*.npz"))) == 1
    again = run_scenario(sc, catalog=catalog, screen=cached_screen)
    assert again.metrics() == result.metrics()


def test_outputs_and_cli_compare(run, capsys):
    _, _, _, result, tmp = run
    out = tmp / "out"
    write_outputs(result, out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 7 and summary["settings"]["pc_threshold"] == 1e-4
    eu = next(p for p in summary["participants"] if p["participant"] == "EU alone")
    for key in ("caught", "missed", "false_alerts", "coverage_24h", "median_warning_h"):
        assert key in eu
    lines = (out / "conjunctions" / "eu-alone.csv").read_text().splitlines()
    assert len(lines) - 1 == eu["conjunctions"]
    html = (out / "report.html").read_text()
    assert "sensor_map" in html and "EU grouping" in html
    assert main(["scenario", "compare", str(out), str(out)]) == 0
    assert "| EU alone |" in capsys.readouterr().out


def test_cli_reports_bad_scenario(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[window]\nstart = 2024-07-05T12:00:00Z\n')
    assert main(["scenario", "run", str(bad), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: catalog.file: required key is missing" in err
    assert f"{bad}: members: expected at least one" in err
