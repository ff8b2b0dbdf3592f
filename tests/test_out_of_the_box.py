"""Works out of the box: the shipped snapshot, the default-catalogue choice, named
sources as catalogue arguments (offline: a clear error naming the cached copy), and
shipped scenarios by name. The wheel-in-a-fresh-venv check is ``.ci/wheel-check``."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from ssa.catalog import Catalog
from ssa.errors import DataNotFoundError, OfflineError
from ssa.fetch import load_sources
from ssa.snapshot import (
    SHIPPED_DATE,
    newest_full_cached,
    resolve_catalog,
    shipped_as_3le,
    shipped_catalog,
    shipped_satcat,
)

SHIPPED_OBJECTS = 26834  # rows of the shared catalog-2024-11-01.omm.csv (its README)
# The same decimal digits through the TLE and the OMM parser: float rounding only.
PARSE_RTOL = 1e-12
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cache_entry(folder, name, fetched, text="x\n"):
    """Put a file and its fetch metadata in a cache folder, as 'ssa catalog fetch' does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    source = name.rsplit(".", 1)[0]
    meta = {"source": source, "fetched_utc": fetched.strftime("%Y-%m-%dT%H:%M:%SZ")}
    (folder / (name + ".meta.json")).write_text(json.dumps(meta))
    return path


def test_shipped_snapshot_is_the_shared_catalogue_with_types_and_owners(shipped, ssa_data):
    assert len(shipped) == SHIPPED_OBJECTS and shipped.load_report.skipped == 0
    # 26,253 of 26,267 non-analyst objects are in the SATCAT (shared README).
    assert shipped.load_report.satcat_matched == 26253
    assert shipped.type_source == "satcat"
    assert {"PAYLOAD", "DEBRIS", "ROCKET BODY"} <= set(shipped.object_type.tolist())
    assert (shipped.owner == "US").sum() == 12018  # as the shared README counts
    leo = shipped.regime == "LEO"
    assert (shipped.rcs_size[leo] != "").mean() > 0.8  # Space-Track RCS classes for LEO
    original = Catalog.load(ssa_data / "catalog-2024-11-01.omm.csv")
    assert np.array_equal(original.norad_id, shipped.norad_id)
    assert np.array_equal(original.epoch_fr, shipped.epoch_fr)
    assert np.array_equal(original.mean_motion_rad_min, shipped.mean_motion_rad_min)


def test_default_catalogue_is_the_newest_full_cached_else_shipped(tmp_path):
    cache = tmp_path / "cache"
    choice = resolve_catalog([], cache=cache, now=NOW)
    assert choice.origin == "shipped" and choice.paths == (shipped_catalog(),)
    assert choice.satcat == shipped_satcat() and choice.produced_utc == SHIPPED_DATE
    assert "shipped snapshot" in choice.note and "426 days old" in choice.note
    # A partial group in the cache is not a catalogue to screen by default ...
    _cache_entry(cache, "active.json", NOW - timedelta(hours=1))
    assert resolve_catalog([], cache=cache, now=NOW).origin == "shipped"
    # ... the full catalogue is, with its age.
    full = _cache_entry(cache, "spacetrack-gp.json", NOW - timedelta(hours=30))
    assert newest_full_cached(cache)[0] == full
    choice = resolve_catalog([], cache=cache, now=NOW)
    assert choice.origin == "cache" and choice.paths == (full,)
    assert "spacetrack-gp" in choice.note and "30.0 h old" in choice.note


def test_named_source_offline_names_the_cached_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("SSA_CELESTRAK_URL", f"http://127.0.0.1:{_closed_port()}")
    cache = tmp_path / "cache"
    with pytest.raises(OfflineError, match="no cached copy of this source exists yet"):
        resolve_catalog(["celestrak:active"], cache=cache, now=NOW)
    # A cached copy too old to reuse: the download is tried, fails, and the copy is named.
    stale = _cache_entry(cache, "celestrak-active.json", NOW - timedelta(days=3))
    with pytest.raises(OfflineError, match=f"cached copy {stale} .* pass that file instead"):
        resolve_catalog(["celestrak:active"], cache=cache, now=NOW)


def test_named_source_uses_a_recent_cached_copy(tmp_path):
    cache = tmp_path / "cache"
    records = [{"OBJECT_NAME": "ISS (ZARYA)", "NORAD_CAT_ID": 25544}]  # stand-in, not loaded
    fresh = _cache_entry(
        cache, "celestrak-stations.json", NOW - timedelta(hours=1), json.dumps(records)
    )
    choice = resolve_catalog(["celestrak:stations"], cache=cache, now=NOW)
    assert choice.origin == "source" and choice.paths == (fresh,)
    assert "celestrak:stations" in choice.note and "1.0 h old" in choice.note


def test_unknown_catalogue_argument_says_what_it_accepts(tmp_path):
    with pytest.raises(DataNotFoundError, match="no such file, and not a named source"):
        resolve_catalog([str(tmp_path / "nope.3le")], cache=tmp_path)
    with pytest.raises(ValueError, match="unknown catalog source"):
        load_sources().get("no-such-source")


@pytest.mark.slow
def test_shipped_snapshot_as_3le_agrees_to_tle_field_precision(shipped, tmp_path):
    path = shipped_as_3le(tmp_path / "shipped.3le")
    again = Catalog.load(path)
    assert np.array_equal(again.norad_id, shipped.norad_id)
    assert list(again.name) == list(shipped.name)
    deg = np.pi / 180.0
    rev_day = 2 * np.pi / 1440.0  # rad/min
    # Half a unit of the last TLE digit of each field (the OMM may carry more digits).
    tolerances = {
        "eccentricity": 0.5e-7,
        "inclination_rad": 0.5e-4 * deg,
        "raan_rad": 0.5e-4 * deg,
        "argp_rad": 0.5e-4 * deg,
        "mean_anomaly_rad": 0.5e-4 * deg,
        "mean_motion_rad_min": 0.5e-8 * rev_day,
    }
    for attr, tol in tolerances.items():
        err = np.abs(getattr(again, attr) - getattr(shipped, attr))
        assert np.max(err) <= tol * (1 + PARSE_RTOL) + 1e-15, attr
    assert np.allclose(again.bstar, shipped.bstar, rtol=0.5e-4, atol=0.5e-9)
    # TLE epochs have 8 decimals of a day (~1 ms); the OMM's microseconds round to them.
    epoch_err_s = np.abs((again.epoch_jd - shipped.epoch_jd) + (again.epoch_fr - shipped.epoch_fr))
    assert np.max(epoch_err_s) * 86400.0 < 1e-3


def test_shipped_scenarios_by_name(monkeypatch, capsys):
    from ssa.cli import main
    from ssa.commands.scenario import scenario_path, shipped_scenarios

    assert "status-quo" in shipped_scenarios()
    assert scenario_path("status-quo").name == "status-quo.toml"
    monkeypatch.delenv("SSA_DATA", raising=False)
    assert main(["scenario", "run", "status-quo", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "catalog-2024-07-05.3le is needed and SSA_DATA is not set" in err
    assert main(["scenario", "run", "no-such-scenario"]) == 1
    assert "shipped: alerts-only" in capsys.readouterr().err


def test_python_dash_m_ssa(tmp_path):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "ssa", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert out.stdout.startswith("ssa ")
