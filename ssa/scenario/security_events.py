"""Scenario event kinds ``breakup`` and ``manoeuvre``: their TOML keys and validation.

```toml
[[events]]
kind = "breakup"
parent = 14147                 # NORAD id in the scenario's catalogue
at = 2024-07-06T00:00:00Z
mode = "collision"             # or "explosion"
impactor_mass_kg = 20.0        # collision: with impact_speed_km_s, or impactor = NORAD id
impact_speed_km_s = 7.0
parent_mass_kg = 1750.0        # else the CARA table (catalog.hbr file) must hold it
min_size_m = 0.05              # smallest fragment simulated (default 0.05)

[[events]]
kind = "manoeuvre"
object = 40258                 # NORAD id of the manoeuvring object
at = 2024-07-05T18:00:00Z
dv_rtn_ms = [0.0, 0.5, 0.0]    # delta-v, m/s, in the object's RTN frame; or:
towards = 41471                # target satellite: fuel-optimal delta-v (Lambert) for a
miss_km = 5.0                  #   closest approach of miss_km, at most
transfer_h = 24.0              #   transfer_h after the burn (delta-v <= 500 m/s)

[[events]]
kind = "small_debris"          # 1-10 cm objects nobody catalogues publicly
at = 2024-07-05T12:00:00Z      # start of the exposure sample
sample = 20000                 # weighted sample of the ~1.1 million objects
exposure_days = 1.0            # screened span (rates are scaled to a year)
```
``ssa scenario run`` feeds breakups and manoeuvres into the truth stage
(``ssa.scenario.security_truth``); ``ssa.scenario.security`` computes the per-event
effects (also ``ssa exercise``).
"""

from __future__ import annotations

DEFAULT_MIN_SIZE_M = 0.05
DEFAULT_TRANSFER_H = 24.0


def _norad(c, value, key, required=True):
    if value in (0, None) and not required:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        c.add(key, f"expected a positive NORAD catalogue number, got {value!r}")
        return None
    return int(value)


def _positive(c, value, key, required):
    if value in (0, 0.0, None) and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        c.add(key, f"expected a positive number, got {value!r}")
        return None
    return float(value)


def _breakup(c, e: dict, key: str, ctx: dict):
    from ssa.scenario.config import Event

    parent = _norad(c, e["parent"], f"{key}.parent")
    at = c.when(e["at"], f"{key}.at")
    mode = e["mode"]
    if mode not in ("collision", "explosion"):
        c.add(f"{key}.mode", f"{mode!r} is not 'collision' or 'explosion'")
        return None
    impactor = _norad(c, e["impactor"], f"{key}.impactor", required=False)
    imp_mass = _positive(c, e["impactor_mass_kg"], f"{key}.impactor_mass_kg", False)
    speed = _positive(c, e["impact_speed_km_s"], f"{key}.impact_speed_km_s", False)
    if mode == "collision" and not impactor and (imp_mass is None or speed is None):
        c.add(
            key, "a collision needs impactor = NORAD id, or impactor_mass_kg and impact_speed_km_s"
        )
    params = {
        "parent": parent,
        "mode": mode,
        "impactor": impactor or None,
        "impactor_mass_kg": imp_mass,
        "impact_speed_km_s": speed,
        "parent_mass_kg": _positive(c, e["parent_mass_kg"], f"{key}.parent_mass_kg", False),
        "min_size_m": _positive(c, e["min_size_m"], f"{key}.min_size_m", False)
        or DEFAULT_MIN_SIZE_M,
    }
    return Event("breakup", start=at, params=params) if parent and at else None


def _manoeuvre(c, e: dict, key: str, ctx: dict):
    from ssa.scenario.config import Event

    obj = _norad(c, e["object"], f"{key}.object")
    at = c.when(e["at"], f"{key}.at")
    towards = _norad(c, e["towards"], f"{key}.towards", required=False)
    dv = e["dv_rtn_ms"]
    if towards:
        miss = _positive(c, e["miss_km"], f"{key}.miss_km", True)
        if dv:
            c.add(f"{key}.dv_rtn_ms", "give either dv_rtn_ms or towards, not both")
        params = {
            "object": obj,
            "towards": towards,
            "miss_km": miss,
            "transfer_h": _positive(c, e["transfer_h"], f"{key}.transfer_h", False)
            or DEFAULT_TRANSFER_H,
        }
    else:
        ok = (
            isinstance(dv, list)
            and len(dv) == 3
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in dv)
        )
        if not ok:
            c.add(f"{key}.dv_rtn_ms", f"expected [radial, transverse, normal] in m/s, got {dv!r}")
            return None
        from ssa.scenario.security import MAX_MANOEUVRE_DV_MS

        norm = sum(float(x) ** 2 for x in dv) ** 0.5
        if norm > MAX_MANOEUVRE_DV_MS:
            c.add(
                f"{key}.dv_rtn_ms",
                f"delta-v {norm:.1f} m/s exceeds the allowed {MAX_MANOEUVRE_DV_MS:g} m/s",
            )
            return None
        params = {"object": obj, "dv_rtn_ms": [float(x) for x in dv]}
    return Event("manoeuvre", start=at, params=params) if obj and at else None


def _small_debris(c, e: dict, key: str, ctx: dict):
    from ssa.scenario.config import Event

    at = c.when(e["at"], f"{key}.at")
    n = e["sample"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 100:
        c.add(f"{key}.sample", f"expected an integer sample size >= 100, got {n!r}")
        return None
    days = _positive(c, e["exposure_days"], f"{key}.exposure_days", False) or 1.0
    return (
        Event("small_debris", start=at, params={"sample": n, "exposure_days": days}) if at else None
    )


EVENT_PARSERS = {"breakup": _breakup, "manoeuvre": _manoeuvre, "small_debris": _small_debris}
