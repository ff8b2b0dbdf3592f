"""Fragment catalogued objects with the NASA Standard Breakup Model: fragments as a Catalog.

Stages, each a plain function: ``draw_cloud`` (model counts, sizes, A/m, masses,
delta-v, mass rule) -> ``cloud_catalog`` (states -> fitted SGP4 element sets, B* from
A/m, synthetic numbers) -> ``breakup`` (resolves parents in a Catalog, masses, the
impactor's closest approach, and wires the two together).

Mass rule (the model itself has no mass budget; this is our stated choice):
- the mass that fragments is the parent's (explosion), both bodies' (catastrophic
  collision), or the ejecta m_p (v / 1 km/s)^2 kg (non-catastrophic: the model's own M;
  the cratered target keeps the rest and its catalogue entry);
- fragments >= ``lc_min_m`` are drawn in random order from the model's size law (count
  Poisson about the law's N(>Lc_min)), each with mass A / (A/m); fragments are kept in
  draw order while their running mass stays within the budget;
- the mass left over goes into large pieces that the size law's tail stands for: 2-8 of
  them (uniform) in a catastrophic collision (Krisko 2011 describes the same
  large-fragment closure), one in an explosion (the parent's remnant), none in a
  non-catastrophic collision (it stays with the target); their split is a flat
  Dirichlet draw and their A/m and delta-v come from the model at their size.
So fragments written + fragments that cannot orbit (perigee below 100 km, escaping,
or an element set SGP4 cannot hold) = the fragmenting mass, exactly; fragments below ``lc_min_m``
are not drawn, so their (small) share of the mass sits in the large pieces.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sgp4.api import SatrecArray

from ssa.breakup import model
from ssa.breakup.drag import bstar_from_am
from ssa.breakup.fit import fit_states
from ssa.catalog import Catalog
from ssa.errors import DataNotFoundError, UserError
from ssa.geometry import osculating_apsides
from ssa.geometry.constants import EARTH_RADIUS_KM
from ssa.geometry.timeutil import format_utc, jd_to_datetime
from ssa.population.ids import ALPHA5_FIRST, ALPHA5_MAX, CatalogNumberAllocator

MODES = ("collision", "explosion")
LC_MAX_DENSITY_KG_M3 = 100.0  # bulk density giving the largest fragment size (m/rho)^(1/3)
REMNANTS_CATASTROPHIC = (2, 8)
# How far an element set is propagated to the event: beyond this SGP4's along-track
# error (km-level after a few days for LEO) dwarfs fragment spreads (our judgment).
MAX_ELSET_AGE_DAYS = 30.0
CLOSEST_APPROACH_WINDOW_MIN = 120.0  # --impactor: search +-2 h around --time
# A catalogued pair "collides" at its SGP4 closest approach; farther apart than this it
# is not a conjunction at all (SGP4 miss distances of real CARA events: up to ~4 km).
MAX_MISS_KM = 50.0
MIN_PERIGEE_KM = 100.0
_SEARCH_STEP_S = 5.0


@dataclass
class Body:
    """One fragmenting object at the event: TEME state (km, km/s), mass (kg), kind."""

    norad_id: int
    name: str
    mass_kg: float
    r_km: np.ndarray
    v_kms: np.ndarray
    kind: str = "spacecraft"  # 'spacecraft' or 'rocket_body' (model A/m laws)


@dataclass
class Cloud:
    """Fragments as drawn (before orbit fitting), one row each."""

    lc_m: np.ndarray
    am_m2_kg: np.ndarray
    mass_kg: np.ndarray
    dv_ms: np.ndarray  # (n, 3) TEME delta-v, m/s
    body: np.ndarray  # index of the Body each fragment leaves from
    remnant: np.ndarray  # True for the large pieces of the mass rule
    budget: dict = field(default_factory=dict)


def largest_size_m(mass_kg: float) -> float:
    """Return the largest fragment length (m): the size of the mass at 100 kg/m^3."""
    return (mass_kg / LC_MAX_DENSITY_KG_M3) ** (1.0 / 3.0)


def _check_positive(name: str, value) -> float:
    if value is None or not (
        isinstance(value, (int, float)) and math.isfinite(value) and value > 0
    ):
        raise UserError(f"{name} must be a positive number; got {value!r}")
    return float(value)


def draw_cloud(
    bodies: list[Body],
    mode: str,
    rng,
    lc_min_m: float = 0.1,
    impactor_mass_kg: float | None = None,
    impact_speed_km_s: float | None = None,
) -> Cloud:
    """Return the model's fragments of ``bodies`` (see the module's mass rule).

    ``mode``: 'explosion' (one body) or 'collision'; for a collision the projectile is
    ``bodies[1]`` when given, else an uncatalogued object of ``impactor_mass_kg``
    (e.g. an ASAT kill vehicle) whose mass joins the target's fragments;
    ``impact_speed_km_s``: relative speed (km/s)."""
    if mode not in MODES:
        raise UserError(f"mode must be one of {MODES}; got {mode!r}")
    lc_min_m = _check_positive("minimum size (m)", lc_min_m)
    for b in bodies:
        _check_positive(f"mass of {b.name or b.norad_id} (kg)", b.mass_kg)
    budget = {"mode": mode}
    if mode == "explosion":
        fragmenting = bodies[:1]
        mass = bodies[0].mass_kg
        n_law = lambda lc: model.n_fragments_explosion(lc)  # noqa: E731
        remnants = 1
        budget.update(catastrophic=None, fragmenting_mass_kg=mass)
    else:
        speed = _check_positive("impact speed (km/s)", impact_speed_km_s)
        m_p = (
            bodies[1].mass_kg
            if len(bodies) > 1
            else _check_positive("impactor mass (kg)", impactor_mass_kg)
        )
        m_t = bodies[0].mass_kg
        small, large = sorted((m_p, m_t))
        catastrophic = model.is_catastrophic(small, large, speed)
        m_law = model.collision_mass_kg(m_t, m_p, speed)
        n_law = lambda lc: model.n_fragments_collision(lc, m_law)  # noqa: E731
        budget.update(
            catastrophic=bool(catastrophic),
            energy_j_per_g=model.specific_energy_j_g(small, large, speed),
            impact_speed_km_s=speed,
            projectile_mass_kg=small,
            target_mass_kg=large,
            model_mass_kg=m_law,
        )
        if catastrophic:
            fragmenting = bodies[:2]
            mass = m_t + m_p
            remnants = int(rng.integers(REMNANTS_CATASTROPHIC[0], REMNANTS_CATASTROPHIC[1] + 1))
        else:
            # Ejecta leave the heavier body; the lighter one is destroyed in the crater.
            fragmenting = [max(bodies, key=lambda b: b.mass_kg)]
            mass = m_law
            remnants = 0
        budget.update(fragmenting_mass_kg=mass)
    total_colliding = sum(b.mass_kg for b in bodies) + (
        impactor_mass_kg if mode == "collision" and len(bodies) == 1 else 0.0
    )
    budget["parents_mass_kg"] = total_colliding
    lc_max = largest_size_m(mass)
    if lc_max <= lc_min_m:
        raise UserError(
            f"minimum size {lc_min_m} m is not below the largest fragment "
            f"{lc_max:.3g} m of {mass:.3g} kg"
        )
    mean_count = float(n_law(lc_min_m) - n_law(lc_max))
    n = int(rng.poisson(mean_count))
    exponent = 1.6 if mode == "explosion" else 1.71
    lc = model.sample_lc(rng, n, lc_min_m, lc_max, exponent)
    # Each fragment leaves one body, chosen by mass share (A/m law by that body's kind).
    shares = np.array([b.mass_kg for b in fragmenting], float)
    body = rng.choice(len(fragmenting), size=n, p=shares / shares.sum())
    am = np.empty(n)
    for i, b in enumerate(fragmenting):
        rows = body == i
        am[rows] = model.sample_am(rng, lc[rows], b.kind)
    mass_each = model.area_m2(lc) / am
    # Over budget: remove the largest fragments first (the law's sparse tail, where
    # the 2-8 large pieces below stand in), so counts at small sizes keep the law.
    by_size = np.argsort(-lc, kind="stable")
    heavy_first = np.cumsum(mass_each[by_size][::-1])[::-1]  # mass of this and smaller
    keep = np.zeros(n, bool)
    keep[by_size[heavy_first <= mass]] = True
    lc, am, mass_each, body = lc[keep], am[keep], mass_each[keep], body[keep]
    left = mass - float(mass_each.sum())
    budget.update(model_mean_count=mean_count, drawn=n, dropped_by_mass_rule=int(n - keep.sum()))
    n_regular = lc.size
    if remnants and left > 0:
        parts = left * rng.dirichlet(np.ones(remnants))
        r_body = rng.choice(len(fragmenting), size=remnants, p=shares / shares.sum())
        r_am = np.empty(remnants)
        for i, b in enumerate(fragmenting):
            rows = r_body == i
            r_am[rows] = model.sample_am(rng, np.full(rows.sum(), lc_max), b.kind)
        r_lc = (parts * r_am / 0.556945) ** (1.0 / 2.0047077)  # invert the area law
        lc = np.concatenate([lc, r_lc])
        am = np.concatenate([am, r_am])
        mass_each = np.concatenate([mass_each, parts])
        body = np.concatenate([body, r_body])
    remnant = np.arange(lc.size) >= n_regular
    dv = model.sample_dv_ms(rng, am, explosion=(mode == "explosion"))
    budget.update(
        fragments_mass_kg=float(mass_each.sum()),
        remnants=int(remnant.sum()),
        stays_with_target_kg=float(total_colliding - mass_each.sum()),
    )
    return Cloud(lc, am, mass_each, dv, body, remnant, budget)


def cloud_catalog(
    cloud: Cloud,
    bodies: list[Body],
    jd: float,
    fr: float,
    allocator: CatalogNumberAllocator,
    block: str = "alpha5",
    opsmode: str = "i",
    source: str = "breakup",
) -> tuple[Catalog, np.ndarray]:
    """Return (Catalog of the fragments that orbit, mask of those rows in ``cloud``).

    Each fragment's state is its body's plus its delta-v at (jd, fr); its element set is
    fitted so SGP4 reproduces that state to 1 m, with B* from its A/m."""
    n = cloud.lc_m.size
    r = np.stack([bodies[int(b)].r_km for b in cloud.body]) if n else np.empty((0, 3))
    v = np.stack([bodies[int(b)].v_kms for b in cloud.body]) if n else np.empty((0, 3))
    v = v + cloud.dv_ms * 1e-3
    numbers = allocator.take(n, block)
    # B* matched to the real atmosphere at each fragment's perigee (ssa.breakup.drag)
    _, _, perigee0 = osculating_apsides(r, v) if n else (None, None, np.empty(0))
    bstar = bstar_from_am(cloud.am_m2_kg, perigee_km=perigee0)
    fit = fit_states(r, v, jd, fr, bstar=bstar, satnum=numbers, opsmode=opsmode)
    # A fragment whose perigee is below 100 km re-enters within its first revolution:
    # it "cannot orbit" like one SGP4 cannot hold (sgp4 itself only notices when it is
    # below the surface at the requested time).
    perigee_km = np.array(
        [
            (s.a * (1.0 - s.ecco) - 1.0) * EARTH_RADIUS_KM if s is not None else -np.inf
            for s in fit.satrecs
        ]
    )
    ok = fit.ok & (perigee_km >= MIN_PERIGEE_KM)
    names = [f"{bodies[int(b)].name} DEB".strip() for b in cloud.body[ok]]
    sats = [s for s, good in zip(fit.satrecs, ok, strict=True) if good]
    m = int(ok.sum())
    cat = Catalog(
        satrecs=sats,
        norad_id=numbers[ok],
        name=names,
        intl_des=[""] * m,
        object_type=["DEBRIS"] * m,
        owner=[""] * m,
        rcs_size=[""] * m,
        source=[source] * m,
        opsmode=opsmode,
        type_source="name",
    )
    return cat, ok


def load_cara_masses(path) -> dict[int, float]:
    """Return {NORAD id: mass kg} of the CARA HBR/mass CSV rows that carry a mass."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(
            f"{path} not found: give the masses as options or point "
            f"--masses at the CARA table (hbr-mass-cara-2024-11-01.csv)"
        )
    out: dict[int, float] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"ObjectID", "Mass"} <= set(reader.fieldnames):
            raise UserError(
                f"{path}: expected CARA columns ObjectID,...,Mass; got {reader.fieldnames}"
            )
        for row in reader:
            text = (row.get("Mass") or "").strip()
            try:
                value = float(text)
                key = int(row["ObjectID"])
            except ValueError:
                continue
            if math.isfinite(value) and value > 0:
                out[key] = value
    return out


@dataclass
class BreakupResult:
    """What ``breakup`` made: the fragments' Catalog and everything about them."""

    fragments: Catalog
    cloud: Cloud
    orbiting: np.ndarray  # mask over cloud rows: written to ``fragments``
    bodies: list
    jd: float
    fr: float
    miss_km: float | None = None

    def counts(self, sizes_m=(0.1, 0.01)) -> dict:
        """Return {size: fragments >= size that orbit} for each size (m)."""
        lc = self.cloud.lc_m[self.orbiting]
        return {float(s): int(np.count_nonzero(lc >= s)) for s in sizes_m}

    def mass_budget(self) -> dict:
        """Return the mass rule's terms (kg): see the module docstring."""
        b = dict(self.cloud.budget)
        b["written_mass_kg"] = float(self.cloud.mass_kg[self.orbiting].sum())
        b["not_orbiting_mass_kg"] = float(self.cloud.mass_kg[~self.orbiting].sum())
        b["not_orbiting"] = int((~self.orbiting).sum())
        return b


def _state(sat, jd: float, fr: float, label: str):
    err, r, v = sat.sgp4(jd, fr)
    if err:
        raise UserError(
            f"{label}: SGP4 cannot propagate it to "
            f"{format_utc(jd_to_datetime(jd, fr))} (sgp4 error {err}: the "
            "object has decayed or its element set is unusable there)"
        )
    return np.array(r), np.array(v)


def _index(catalog: Catalog, norad_id: int, what: str) -> int:
    hits = np.flatnonzero(catalog.norad_id == int(norad_id))
    if hits.size == 0:
        raise UserError(
            f"{what} {norad_id} is not in the catalogue ({len(catalog)} objects "
            "loaded); give a catalogue number that the file holds"
        )
    return int(hits[0])


def _kind(catalog: Catalog, i: int) -> str:
    return "rocket_body" if catalog.object_type[i] == "ROCKET BODY" else "spacecraft"


def closest_approach(
    sat1, sat2, jd: float, fr: float, window_min: float = CLOSEST_APPROACH_WINDOW_MIN
) -> tuple[float, float]:
    """Return (fr of the closest approach near jd + fr, miss distance km) of two Satrecs:
    SGP4 on a 5 s grid over +-window, then a bounded scalar minimisation (scipy)."""
    from scipy.optimize import minimize_scalar

    offsets = np.arange(-window_min * 60, window_min * 60 + _SEARCH_STEP_S, _SEARCH_STEP_S)
    frs = fr + offsets / 86400.0
    jds = np.full(frs.size, jd)
    err, r, _ = SatrecArray([sat1, sat2]).sgp4(jds, frs)
    if err.any():
        raise UserError(
            "SGP4 cannot propagate both objects over the +-2 h search window "
            "(one has decayed there)"
        )
    d = np.linalg.norm(r[0] - r[1], axis=1)
    k = int(np.argmin(d))
    lo = offsets[max(k - 1, 0)]
    hi = offsets[min(k + 1, offsets.size - 1)]

    def dist(t_s):
        _, r1, _ = sat1.sgp4(jd, fr + t_s / 86400.0)
        _, r2, _ = sat2.sgp4(jd, fr + t_s / 86400.0)
        return float(np.linalg.norm(np.subtract(r1, r2)))

    best = minimize_scalar(dist, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return fr + best.x / 86400.0, float(best.fun)


def breakup(
    catalog: Catalog,
    parent_id: int,
    jd: float,
    fr: float,
    mode: str,
    *,
    parent_mass_kg: float | None = None,
    impactor_id: int | None = None,
    impactor_mass_kg: float | None = None,
    impact_speed_km_s: float | None = None,
    lc_min_m: float = 0.1,
    seed: int = 0,
    masses: dict | None = None,
    allocator: CatalogNumberAllocator | None = None,
    block: str = "auto",
) -> BreakupResult:
    """Return the fragments of catalogue object ``parent_id`` breaking up at (jd, fr).

    ``mode`` 'explosion' or 'collision'; a collision needs ``impactor_id`` (a catalogued
    object: both fragment at their closest approach within +-2 h of the time, the speed
    from their orbits unless ``impact_speed_km_s`` is given) or ``impactor_mass_kg`` and
    ``impact_speed_km_s``. Masses come from the arguments, else ``masses`` ({id: kg},
    e.g. ``load_cara_masses``); a missing mass is a UserError naming the option.
    The element set may be at most MAX_ELSET_AGE_DAYS from the event time. ``block``:
    the allocator block ('alpha5', 'wide', or 'auto': alpha5 while 70,000 numbers last,
    which 3LE output needs, else wide)."""
    if mode not in MODES:
        raise UserError(f"mode must be one of {MODES}; got {mode!r}")
    masses = masses or {}
    rng = np.random.default_rng(seed)
    i = _index(catalog, parent_id, "parent")

    def mass_of(idx, given, option):
        if given is not None:
            return _check_positive(option.lstrip("-").replace("-", " "), given)
        norad = int(catalog.norad_id[idx])
        if norad in masses:
            return masses[norad]
        raise UserError(
            f"no mass for {catalog.name[idx]} ({norad}) in the CARA table "
            f"(many rows are blank there by licence): give {option} KG"
        )

    age = float(catalog.age_days(jd, fr)[i])
    if abs(age) > MAX_ELSET_AGE_DAYS:
        raise UserError(
            f"time {format_utc(jd_to_datetime(jd, fr))} is {age:+.1f} days from "
            f"the parent's element-set epoch; allowed within "
            f"+-{MAX_ELSET_AGE_DAYS:g} days"
        )
    miss = None
    if mode == "collision" and impactor_id is not None:
        j = _index(catalog, impactor_id, "impactor")
        if j == i:
            raise UserError("the impactor must differ from the parent")
        fr_tca, miss = closest_approach(catalog.satrecs[i], catalog.satrecs[j], jd, fr)
        if miss > MAX_MISS_KM:
            raise UserError(
                f"{catalog.name[i]} ({parent_id}) and {catalog.name[j]} ({impactor_id}) come "
                f"no closer than {miss:.1f} km within +-{CLOSEST_APPROACH_WINDOW_MIN:g} min of "
                f"{format_utc(jd_to_datetime(jd, fr))} (SGP4); allowed up to "
                f"{MAX_MISS_KM:g} km: pick the time of one of their conjunctions (ssa screen)"
            )
        fr = fr_tca
    r, v = _state(catalog.satrecs[i], jd, fr, f"parent {parent_id}")
    bodies = [
        Body(
            int(catalog.norad_id[i]),
            str(catalog.name[i]),
            mass_of(i, parent_mass_kg, "--parent-mass-kg"),
            r,
            v,
            _kind(catalog, i),
        )
    ]
    if mode == "collision":
        if impactor_id is not None:
            r2, v2 = _state(catalog.satrecs[j], jd, fr, f"impactor {impactor_id}")
            bodies.append(
                Body(
                    int(catalog.norad_id[j]),
                    str(catalog.name[j]),
                    mass_of(j, impactor_mass_kg, "--impactor-mass-kg"),
                    r2,
                    v2,
                    _kind(catalog, j),
                )
            )
            if impact_speed_km_s is None:
                impact_speed_km_s = float(np.linalg.norm(v2 - v))
        elif impactor_mass_kg is None or impact_speed_km_s is None:
            raise UserError(
                "a collision needs --impactor NORAD_ID, or both "
                "--impactor-mass-kg and --impact-speed-km-s"
            )
    cloud = draw_cloud(bodies, mode, rng, lc_min_m, impactor_mass_kg, impact_speed_km_s)
    if allocator is None:
        allocator = CatalogNumberAllocator(catalog.norad_id)
    when = format_utc(jd_to_datetime(jd, fr))
    if block == "auto":
        block = "alpha5" if cloud.lc_m.size <= ALPHA5_MAX - ALPHA5_FIRST + 1 else "wide"
    frag, ok = cloud_catalog(
        cloud,
        bodies,
        jd,
        fr,
        allocator,
        block,
        catalog.opsmode,
        source=f"breakup {mode} of {parent_id} at {when} seed={seed}",
    )
    return BreakupResult(frag, cloud, ok, bodies, jd, fr, miss)
