"""Visibility geometry: hand-computed cases and an independent skyfield check."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from ssa.scenario.sensors import geodetic_to_ecef_km, load_sensors
from ssa.scenario.tracking import (
    SensorGeometry,
    detect_ecef,
    teme_to_ecef,
    teme_to_itrf_rotation,
    track,
)

COLUMNS = [
    "id",
    "name",
    "operator",
    "country",
    "type",
    "mode",
    "lat_deg",
    "lon_deg",
    "alt_m",
    "min_el_deg",
    "max_el_deg",
    "az_min_deg",
    "az_max_deg",
    "fan_az_deg",
    "min_range_km",
    "max_range_km",
    "ref_size_m",
    "ref_range_km",
    "range_sigma_m",
    "angle_sigma_deg",
    "status",
    "basis",
    "source",
]
EQUATOR_SITE = {"lat_deg": 0, "lon_deg": 0, "alt_m": 0}
R_EQ_KM = 6378.137


def sensor_row(**over):
    row = {
        "id": "R1",
        "name": "test radar",
        "operator": "t",
        "country": "t",
        "type": "radar",
        "mode": "survey",
        **EQUATOR_SITE,
        "min_el_deg": 10,
        "max_el_deg": 90,
        "az_min_deg": 0,
        "az_max_deg": 360,
        "fan_az_deg": "",
        "min_range_km": 0,
        "max_range_km": 5000,
        "ref_size_m": 0.1,
        "ref_range_km": 1000,
        "range_sigma_m": 30,
        "angle_sigma_deg": 0.03,
        "status": "",
        "basis": "",
        "source": "test",
    }
    row.update(over)
    return row


def table(tmp_path, *rows):
    path = tmp_path / "sensors.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return load_sensors(path)


def seen(sensors, positions_km, sun_unit, diameter_m):
    """Detections of objects at fixed Earth-fixed positions (one step after a dummy step)."""
    pos = np.asarray(positions_km, dtype=float)[None].repeat(2, axis=0)
    sun = np.asarray(sun_unit, dtype=float)[None].repeat(2, axis=0)
    geo = SensorGeometry.from_table(sensors)
    last = np.full((len(sensors), len(pos[0])), np.nan)
    n = np.zeros(last.shape, dtype=np.int64)
    detect_ecef(np.array([0.0, 60.0]), pos, sun, geo, np.asarray(diameter_m, float), last, n)
    return np.isfinite(last)


def test_radar_sees_overhead_not_below_horizon(tmp_path):
    sensors = table(tmp_path, sensor_row())
    overhead = [R_EQ_KM + 500.0, 0.0, 0.0]
    antipode = [-(R_EQ_KM + 500.0), 0.0, 0.0]
    # 500 km up but 30 deg of arc away: elevation is negative (below the horizon).
    far = [
        (R_EQ_KM + 500.0) * math.cos(math.radians(30)),
        (R_EQ_KM + 500.0) * math.sin(math.radians(30)),
        0.0,
    ]
    v = seen(sensors, [overhead, antipode, far], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    assert v[0].tolist() == [True, False, False]


def test_radar_size_limit_scales_with_range_squared(tmp_path):
    # 0.1 m at 1000 km -> 0.2 m object visible to sqrt(2) * 1000 = 1414 km, not beyond.
    sensors = table(tmp_path, sensor_row(min_el_deg=0))
    site = geodetic_to_ecef_km([0.0], [0.0], [0.0])[0]
    inside = site + [1400.0, 0, 0]
    outside = site + [1430.0, 0, 0]
    v = seen(sensors, [inside, outside], [1.0, 0, 0], [0.2, 0.2])
    assert v[0].tolist() == [True, False]


def test_optical_needs_dark_site_and_sunlit_object(tmp_path):
    sensors = table(
        tmp_path,
        sensor_row(
            id="O1",
            type="optical",
            ref_size_m=1.0,
            ref_range_km=36000,
            range_sigma_m=0,
            max_range_km=42000,
        ),
    )
    high = [R_EQ_KM + 2000.0, 0, 0]  # overhead, 2000 km
    low = [R_EQ_KM + 500.0, 0, 0]  # overhead, 500 km
    # Sun 30 deg below the site's horizon (site up = +x): site dark.
    night_sun = [-0.5, math.sqrt(3) / 2, 0]
    # Perpendicular distance from the shadow axis: 2000 km object 7256 km (> Earth radius,
    # sunlit); 500 km object 5956 km (< Earth radius, in shadow).
    v = seen(sensors, [high, low], night_sun, [2.0, 2.0])
    assert v[0].tolist() == [True, False]
    # Sun overhead: site in daylight, nothing optical.
    assert not seen(sensors, [high, low], [1.0, 0, 0], [2.0, 2.0]).any()


def test_field_of_regard_azimuth_wraps_through_north(tmp_path):
    sensors = table(tmp_path, sensor_row(min_el_deg=0, az_min_deg=300, az_max_deg=60))
    site = geodetic_to_ecef_km([0.0], [0.0], [0.0])[0]
    north = site + [100.0, 0, 800.0]  # site's north is +z at lat 0, lon 0
    south = site + [100.0, 0, -800.0]
    v = seen(sensors, [north, south], [1.0, 0, 0], [1.0, 1.0])
    assert v[0].tolist() == [True, False]


def test_fence_detects_plane_crossing_between_steps(tmp_path):
    # East-west fan (plane normal points north = +z here): crossing z = 0 between steps.
    sensors = table(tmp_path, sensor_row(fan_az_deg=90))
    geo = SensorGeometry.from_table(sensors)
    up = R_EQ_KM + 800.0
    pos = np.array(
        [[[up, 0, -30.0], [up, 0, 10.0]], [[up, 0, 30.0], [up, 0, 50.0]]]
    )  # object 0 crosses, object 1 does not
    last = np.full((1, 2), np.nan)
    n = np.zeros((1, 2), dtype=np.int64)
    detect_ecef(np.array([0.0, 60.0]), pos, np.array([[1.0, 0, 0]] * 2), geo, np.ones(2), last, n)
    assert np.isfinite(last[0]).tolist() == [True, False]


def test_elevation_visibility_matches_skyfield(tmp_path, shared_file):
    """Our Earth-fixed geometry (shared TEME->ITRF) vs skyfield's topocentric altitude for a real object."""
    from sgp4.api import Satrec, jday
    from skyfield.api import EarthSatellite, load, wgs84

    lines = shared_file("catalog-2024-07-05.3le").read_text().splitlines()
    i = next(k for k in range(0, len(lines), 3) if lines[k].startswith("0 ISS (ZARYA)"))
    sat = Satrec.twoline2rv(lines[i + 1], lines[i + 2])
    lat, lon = 35.0, 139.0
    sensors = table(
        tmp_path,
        sensor_row(lat_deg=lat, lon_deg=lon, min_el_deg=10, max_range_km=40000, ref_size_m=0.001),
    )
    jd0, fr0 = jday(2024, 7, 5, 12, 0, 0)
    t_s = np.arange(0, 86400, 30.0)
    jd = np.full(len(t_s), jd0)
    fr = fr0 + t_s / 86400
    _, r, _ = sat.sgp4_array(jd, fr)
    pos = teme_to_ecef(r[None], teme_to_itrf_rotation(jd, fr))[0]
    geo = SensorGeometry.from_table(sensors)
    ours = np.zeros(len(t_s), dtype=bool)
    for j in range(1, len(t_s)):
        last = np.full((1, 1), np.nan)
        detect_ecef(
            t_s[j - 1 : j + 1],
            pos[j - 1 : j + 1, None, :],
            np.tile([1.0, 0, 0], (2, 1)),
            geo,
            np.ones(1),
            last,
            np.zeros((1, 1), dtype=np.int64),
        )
        ours[j] = np.isfinite(last[0, 0])
    ts = load.timescale(builtin=True)
    es = EarthSatellite(lines[i + 1], lines[i + 2], ts=ts)
    t = ts.utc(2024, 7, 5, 12, 0, t_s)
    alt = (es - wgs84.latlon(lat, lon)).at(t).altaz()[0].degrees
    # Polar motion, UT1-UTC and geodetic details move elevations by << 0.05 deg.
    ELEVATION_TOL_DEG = 0.05
    clear = np.abs(alt - 10.0) > ELEVATION_TOL_DEG
    assert np.sum(alt[1:] > 10) > 10  # the day has real passes
    assert np.array_equal(ours[1:][clear[1:]], (alt > 10.0)[1:][clear[1:]])


def test_sensor_table_errors_name_file_line_and_column(tmp_path):
    with pytest.raises(ValueError) as err:
        table(
            tmp_path,
            sensor_row(type="sonar"),
            sensor_row(id="R2", lat_deg=95),
            sensor_row(id="R3", max_range_km="far"),
        )
    text = str(err.value)
    assert "sensors.csv:2: column type: 'sonar'" in text
    assert "sensors.csv:3: column lat_deg: 95.0 outside" in text
    assert "sensors.csv:4: column max_range_km: 'far' is not a number" in text


def test_shipped_sensor_table_loads():
    from pathlib import Path

    t = load_sensors(Path(__file__).parent.parent / "scenarios" / "sensors.csv")
    assert len(t) >= 30 and set(t.type) == {"radar", "optical"}
    assert all(s for s in t.source)


def test_passes_are_counted_once_per_visit(tmp_path, shared_file):
    """A LEO object over one site: passes per day equal the separate visibility intervals."""
    from sgp4.api import Satrec, SatrecArray, jday

    lines = shared_file("catalog-2024-07-05.3le").read_text().splitlines()
    i = next(k for k in range(0, len(lines), 3) if lines[k].startswith("0 ISS (ZARYA)"))
    sat = Satrec.twoline2rv(lines[i + 1], lines[i + 2])
    sensors = table(
        tmp_path,
        sensor_row(lat_deg=40.0, lon_deg=0.0, min_el_deg=10, max_range_km=40000, ref_size_m=0.001),
    )
    jd0, fr0 = jday(2024, 7, 5, 12, 0, 0)
    step = 30.0
    res = track(
        SatrecArray([sat]),
        np.ones(1),
        sensors,
        jd0,
        fr0,
        0.0,
        2 * 86400.0,
        step,
        [0.0],
        bin_s=86400.0,
    )
    # Independent count: visibility intervals from the per-step detections.
    t_s = np.arange(0.0, 2 * 86400.0 + step / 2, step)
    _, r, _ = sat.sgp4_array(np.full(len(t_s), jd0), fr0 + t_s / 86400)
    pos = teme_to_ecef(r[None], teme_to_itrf_rotation(np.full(len(t_s), jd0), fr0 + t_s / 86400))[0]
    seen = np.zeros(len(t_s), dtype=bool)
    geo = SensorGeometry.from_table(sensors)
    for j in range(1, len(t_s)):
        last = np.full((1, 1), np.nan)
        detect_ecef(
            t_s[j - 1 : j + 1],
            pos[j - 1 : j + 1, None, :],
            np.tile([1.0, 0, 0], (2, 1)),
            geo,
            np.ones(1),
            last,
            np.zeros((1, 1), dtype=np.int64),
        )
        seen[j] = np.isfinite(last[0, 0])
    starts = np.flatnonzero(seen[1:] & ~seen[:-1]) + 1
    day = (t_s[starts] // 86400).astype(int).clip(0, 1)
    assert res.passes.shape == (1, 1, 2)
    assert res.passes[0, 0].tolist() == np.bincount(day, minlength=2).tolist()
    assert res.passes.sum() >= 4  # the ISS passes a mid-latitude site several times a day
