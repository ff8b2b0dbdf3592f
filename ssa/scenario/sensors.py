"""The sensor table: surveillance radars and telescopes with their published limits.

The table (``scenarios/sensors.csv``) is written by the project from the public
facts in ``shared/grouping/sensors.csv``; its ``basis`` column says which values
were read in a source (V/V2), computed (C) or set by engineering judgement (I).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SENSOR_TYPES = ("radar", "optical")
SENSOR_MODES = ("survey", "tracking")

_FLOAT_COLUMNS = (
    "lat_deg",
    "lon_deg",
    "alt_m",
    "min_el_deg",
    "max_el_deg",
    "az_min_deg",
    "az_max_deg",
    "min_range_km",
    "max_range_km",
    "ref_size_m",
    "ref_range_km",
    "range_sigma_m",
    "angle_sigma_deg",
)
REQUIRED_COLUMNS = (
    "id",
    "name",
    "operator",
    "country",
    "type",
    "mode",
    *_FLOAT_COLUMNS,
    "fan_az_deg",
    "source",
)

# Valid ranges per column: (low, high), inclusive.
_BOUNDS = {
    "lat_deg": (-90.0, 90.0),
    "lon_deg": (-180.0, 360.0),
    "alt_m": (-500.0, 9000.0),
    "min_el_deg": (-5.0, 90.0),
    "max_el_deg": (0.0, 90.0),
    "az_min_deg": (0.0, 360.0),
    "az_max_deg": (0.0, 360.0),
    "min_range_km": (0.0, 1e6),
    "max_range_km": (1.0, 1e6),
    "ref_size_m": (1e-4, 100.0),
    "ref_range_km": (1.0, 1e6),
    "range_sigma_m": (0.0, 1e5),
    "angle_sigma_deg": (1e-6, 10.0),
}


@dataclass(frozen=True)
class SensorTable:
    """Sensors as a structure of arrays (length ``n``), in file order.

    ``capacity_per_day``: the sensor's daily track budget (tracks a day, one per
    object pass; NaN: unlimited). The scheduler (``ssa.scenario.tasking``) spends it. ``fan_az_deg`` is NaN for sensors that see their whole field of regard;
    for a fence it is the azimuth of the fan half-plane (detections are plane
    crossings). ``az_min_deg``..``az_max_deg`` runs clockwise and may wrap
    through north (e.g. 259..19).
    """

    id: np.ndarray
    name: np.ndarray
    operator: np.ndarray
    country: np.ndarray
    type: np.ndarray
    mode: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    min_el_deg: np.ndarray
    max_el_deg: np.ndarray
    az_min_deg: np.ndarray
    az_max_deg: np.ndarray
    fan_az_deg: np.ndarray
    min_range_km: np.ndarray
    max_range_km: np.ndarray
    ref_size_m: np.ndarray
    ref_range_km: np.ndarray
    range_sigma_m: np.ndarray
    angle_sigma_deg: np.ndarray
    capacity_per_day: np.ndarray
    source: np.ndarray
    path: str = ""

    def __len__(self) -> int:
        return len(self.id)

    def index(self, sensor_id: str) -> int:
        """Return the row of ``sensor_id``; raise ValueError listing known ids."""
        hits = np.flatnonzero(self.id == sensor_id)
        if len(hits) == 0:
            raise ValueError(f"unknown sensor {sensor_id!r}; {self.path} has: {', '.join(self.id)}")
        return int(hits[0])

    def subset(self, index) -> SensorTable:
        """Return the sensors at ``index`` (indices or boolean mask)."""
        fields = {k: getattr(self, k)[index] for k in self.__dataclass_fields__ if k != "path"}
        return SensorTable(**fields, path=self.path)

    @property
    def is_optical(self) -> np.ndarray:
        return self.type == "optical"

    @property
    def is_fan(self) -> np.ndarray:
        return np.isfinite(self.fan_az_deg)


def load_sensors(path: str | Path) -> SensorTable:
    """Read and validate a sensor CSV; every problem names file, line, column and reason.

    Raises ValueError listing all problems found (not just the first).
    """
    path = Path(path)
    try:
        return _load_sensors(path)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {exc.start}): sensor tables are UTF-8 CSV"
        ) from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV: {exc}") from None


def _load_sensors(path: Path) -> SensorTable:
    problems: list[str] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{path}:1: missing column(s) {', '.join(missing)}; "
                f"expected {', '.join(REQUIRED_COLUMNS)}"
            )
        rows = []
        seen: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            ok = True
            sid = (row["id"] or "").strip()
            if not sid:
                problems.append(f"{path}:{line}: column id: empty sensor id")
                ok = False
            elif sid in seen:
                problems.append(
                    f"{path}:{line}: column id: duplicate id {sid!r} (first on line {seen[sid]})"
                )
                ok = False
            seen.setdefault(sid, line)
            if row["type"] not in SENSOR_TYPES:
                problems.append(
                    f"{path}:{line}: column type: {row['type']!r} is not one of "
                    f"{', '.join(SENSOR_TYPES)}"
                )
                ok = False
            if row["mode"] not in SENSOR_MODES:
                problems.append(
                    f"{path}:{line}: column mode: {row['mode']!r} is not one of "
                    f"{', '.join(SENSOR_MODES)}"
                )
                ok = False
            values = {}
            for col in _FLOAT_COLUMNS:
                try:
                    values[col] = float(row[col])
                except (TypeError, ValueError):
                    problems.append(f"{path}:{line}: column {col}: {row[col]!r} is not a number")
                    ok = False
                    continue
                lo, hi = _BOUNDS[col]
                if not (lo <= values[col] <= hi):
                    problems.append(
                        f"{path}:{line}: column {col}: {values[col]} outside [{lo}, {hi}]"
                    )
                    ok = False
            cap = (row.get("capacity_per_day") or "").strip()
            try:
                values["capacity_per_day"] = float(cap) if cap else np.nan
                if cap and not values["capacity_per_day"] > 0:
                    raise ValueError
            except ValueError:
                problems.append(
                    f"{path}:{line}: column capacity_per_day: {cap!r} is not a "
                    "positive number (leave empty for unlimited)"
                )
                ok = False
            fan = (row["fan_az_deg"] or "").strip()
            try:
                values["fan_az_deg"] = float(fan) if fan else np.nan
            except ValueError:
                problems.append(
                    f"{path}:{line}: column fan_az_deg: {fan!r} is not a number "
                    "(leave empty for no fan)"
                )
                ok = False
            if ok and values["min_range_km"] >= values["max_range_km"]:
                problems.append(
                    f"{path}:{line}: min_range_km {values['min_range_km']} >= "
                    f"max_range_km {values['max_range_km']}"
                )
                ok = False
            if ok and values["min_el_deg"] >= values["max_el_deg"]:
                problems.append(
                    f"{path}:{line}: min_el_deg {values['min_el_deg']} >= "
                    f"max_el_deg {values['max_el_deg']}"
                )
                ok = False
            if ok and row["type"] == "radar" and values["range_sigma_m"] <= 0:
                problems.append(
                    f"{path}:{line}: column range_sigma_m: a radar needs a positive range noise"
                )
                ok = False
            if ok:
                rows.append({**row, **values, "id": sid})
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in sensor table:\n" + "\n".join(problems))
    if not rows:
        raise ValueError(f"{path}: no sensors")
    text = ("id", "name", "operator", "country", "type", "mode", "source")
    fields = {k: np.array([r[k] for r in rows], dtype=object) for k in text}
    for col in (*_FLOAT_COLUMNS, "fan_az_deg", "capacity_per_day"):
        fields[col] = np.array([r[col] for r in rows], dtype=np.float64)
    return SensorTable(**fields, path=str(path))


def geodetic_to_ecef_km(lat_deg, lon_deg, alt_m) -> np.ndarray:
    """Return WGS-84 Earth-fixed positions (n, 3) in km for geodetic coordinates."""
    a_km = 6378.137
    f = 1.0 / 298.257223563
    e2 = f * (2.0 - f)
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    h_km = np.asarray(alt_m, dtype=float) / 1000.0
    n_km = a_km / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    x = (n_km + h_km) * np.cos(lat) * np.cos(lon)
    y = (n_km + h_km) * np.cos(lat) * np.sin(lon)
    z = (n_km * (1.0 - e2) + h_km) * np.sin(lat)
    return np.stack([x, y, z], axis=-1)


def enu_basis(lat_deg, lon_deg) -> np.ndarray:
    """Return (n, 3, 3) rows east, north, up (geodetic) as ECEF unit vectors."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    east = np.stack([-so, co, np.zeros_like(so)], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return np.stack([east, north, up], axis=-2)
