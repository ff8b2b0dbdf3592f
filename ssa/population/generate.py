"""The one population generator: the real catalogue plus synthetic objects.

``generate_population(base, n_objects, size_range_m, seed, allocator)`` returns a
``Population(catalog, diameter_m, weight)``: the real objects of ``base`` (weight 1,
diameter NaN: the public catalogue carries no sizes) followed by

- ``n_objects`` synthetic small objects (default 1-10 cm), each a resampled real debris
  orbit: a real debris object is picked at random (so the sample follows the real
  catalogue's perigee/apogee/inclination distribution, shells and clouds alike), its
  perigee and apogee altitudes and inclination get small normal jitter, its RAAN a
  larger one, and argument of perigee and mean anomaly are drawn uniformly. Sizes
  follow the cumulative law N(>d) = 54,000 (d / 10 cm)^-1.347, through ESA's
  Space Environment Report 2025 counts (about 54,000 objects > 10 cm and 1.2 million
  > 1 cm; ../shared/grouping/MODEL-ANCHORS.md). Each sample object stands for
  ``weight`` real ones (population count in the size range / n_objects), so a
  count of k sample objects in any bin estimates k * weight objects with relative
  standard error 1/sqrt(k) (Poisson).
- ``analyst_objects`` synthetic stand-ins for the objects the US catalogue tracks but
  withholds (about 16,600 in Oct 2023, MODEL-ANCHORS.md), resampled the same way from
  the public catalogue's own analyst objects (name 'UNKNOWN' or 'TBA - TO BE
  ASSIGNED', numbers 80000-89999: 87 % LEO in the 2024-11-01 snapshot), weight 1,
  sizes 10 cm - 1 m from the same law (an extrapolation: our judgment).

Drag: B* = rho0 Cd (A/m) / 2 with rho0 = 0.15696615 kg/(m^2 Earth radius) (SGP4's
reference density, Hoots & Roehrich 1980) and Cd = 2.2; small objects' A/m comes
from the NASA breakup model's small-fragment law (ssa.breakup.model); analyst objects
keep their template's B*. Objects whose SGP4 orbit decays within ``survive_days``
of the epoch are drawn again (the population that is there is the one that survived):
this thins high-A/m objects below about 700 km (3 % of a 30-day sample of 1-10 cm
objects move above that height compared with the real debris' perigee profile).

All synthetic objects share one epoch (default: the base catalogue's median epoch);
numbers come from ``ssa.population.ids.CatalogNumberAllocator``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from ssa.breakup.model import sample_am
from ssa.catalog import Catalog
from ssa.errors import UserError
from ssa.io.omm import SGP4_MAX_SATNUM
from ssa.population.ids import ALPHA5_FIRST, ALPHA5_MAX, CatalogNumberAllocator

# Cumulative size law N(>d) = N_GT_10CM (d / 0.1 m)^-SIZE_EXPONENT (ESA SER 2025, V).
N_GT_10CM = 54_000
N_GT_1CM = 1_200_000
SIZE_EXPONENT = math.log10(N_GT_1CM / N_GT_10CM)  # 1.347 per decade of size
ANALYST_OBJECTS = 16_600  # withheld analyst objects, Oct 2023 (V2)
ANALYST_SIZE_RANGE_M = (0.1, 1.0)
SIZE_LAW_RANGE_M = (0.001, 10.0)  # refuse sizes far outside the anchored 1-10 cm law

DRAG_COEFFICIENT = 2.2  # Cd of a tumbling fragment in free-molecular flow
RHO0_KG_M2_ER = 0.15696615  # SGP4 reference density for B*

# Jitter of resampled orbits (our judgment): small enough to keep each shell and cloud
# where it is, large enough to fill it (density bins of 25-50 km, as MASTER plots use).
ALT_JITTER_KM = 20.0
INCLINATION_JITTER_DEG = 0.3
RAAN_JITTER_DEG = 10.0
MIN_PERIGEE_KM = 150.0  # below this an object re-enters within days
SURVIVE_DAYS = 30.0
MAX_REDRAWS = 20
_CHECK_CHUNK = 50_000

_SGP4_EPOCH0_JD = 2433281.5
_EARTH_RADIUS_KM = 6378.135  # SGP4's WGS72 radius (Catalog's unit of a)
_ANALYST_NAMES = ("UNKNOWN", "TBA - TO BE ASSIGNED")
SMALL_NAME = "SYNTHETIC DEB"
ANALYST_NAME = "SYNTHETIC ANALYST OBJECT"


class Population(NamedTuple):
    """A catalogue with sizes and statistical weights, one entry per object.

    ``catalog``: real objects first, then synthetic small objects, then analyst objects
    (``catalog.source`` says 'synthetic:small' / 'synthetic:analyst' for the latter);
    ``diameter_m``: size (m; NaN for real objects); ``weight``: how many objects of the
    true population each entry stands for (1 for real and analyst objects)."""

    catalog: Catalog
    diameter_m: np.ndarray
    weight: np.ndarray


def cumulative_count(d_m) -> np.ndarray:
    """Return N(>d): objects larger than ``d_m`` (m) in Earth orbit, per the size law."""
    return N_GT_10CM * (np.asarray(d_m, float) / 0.1) ** -SIZE_EXPONENT


def bstar_from_am(am_m2_kg, cd: float = DRAG_COEFFICIENT, perigee_km=None) -> np.ndarray:
    """Return SGP4's B* (1/Earth radii) for area-to-mass ``am_m2_kg`` (m^2/kg); with
    ``perigee_km`` matched to the real atmosphere there (``ssa.breakup.drag``)."""
    from ssa.breakup.drag import bstar_from_am as matched

    return matched(am_m2_kg, perigee_km, cd)


def _perigee_km(el: dict) -> np.ndarray:
    """Return the perigee height (km) of SGP4 mean elements (WGS72)."""
    from sgp4.earth_gravity import wgs72

    a_er = (wgs72.xke / el["no_kozai"]) ** (2.0 / 3.0)
    return (a_er * (1.0 - el["ecco"]) - 1.0) * _EARTH_RADIUS_KM


def sample_sizes(rng, n: int, size_range_m) -> np.ndarray:
    """Return n diameters (m) from the size law truncated to ``size_range_m``."""
    lo, hi = size_range_m
    u = rng.random(n)
    a, b = lo**-SIZE_EXPONENT, hi**-SIZE_EXPONENT
    return (a - u * (a - b)) ** (-1.0 / SIZE_EXPONENT)


def debris_templates(base: Catalog) -> np.ndarray:
    """Return indices of ``base``'s debris (SATCAT type, else name) to resample from."""
    idx = np.flatnonzero(base.object_type == "DEBRIS")
    if idx.size == 0:
        raise UserError(
            "the base catalogue holds no debris to resample orbits from "
            "(object types come from --satcat or names containing DEB)"
        )
    return idx


def analyst_templates(base: Catalog) -> np.ndarray:
    """Return indices of ``base``'s public analyst objects (else its debris)."""
    names = np.asarray([str(x).strip().upper() for x in base.name])
    mask = np.isin(names, _ANALYST_NAMES) | ((base.norad_id >= 80000) & (base.norad_id < 90000))
    idx = np.flatnonzero(mask)
    return idx if idx.size else debris_templates(base)


def _jittered_elements(rng, base: Catalog, templates: np.ndarray, n: int) -> dict:
    """Return SGP4 mean elements (dict of arrays) of n orbits resampled from ``templates``."""
    out = {k: np.empty(n) for k in ("no_kozai", "ecco", "inclo", "nodeo", "argpo", "mo")}
    out["template"] = np.empty(n, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(MAX_REDRAWS):
        if todo.size == 0:
            break
        k = todo.size
        j = templates[rng.integers(0, templates.size, k)]
        a = base.semi_major_axis_km[j]
        e = base.eccentricity[j]
        rp = a * (1 - e) + ALT_JITTER_KM * rng.standard_normal(k)
        ra = a * (1 + e) + ALT_JITTER_KM * rng.standard_normal(k)
        rp, ra = np.minimum(rp, ra), np.maximum(rp, ra)
        ok = rp - _EARTH_RADIUS_KM >= MIN_PERIGEE_KM
        a_new = (rp + ra) / 2
        out["no_kozai"][todo] = base.mean_motion_rad_min[j] * (a / a_new) ** 1.5
        out["ecco"][todo] = (ra - rp) / (ra + rp)
        inc = np.abs(
            base.inclination_rad[j] + np.radians(INCLINATION_JITTER_DEG) * rng.standard_normal(k)
        )
        out["inclo"][todo] = np.where(inc > np.pi, 2 * np.pi - inc, inc)
        out["nodeo"][todo] = np.mod(
            base.raan_rad[j] + np.radians(RAAN_JITTER_DEG) * rng.standard_normal(k), 2 * np.pi
        )
        out["argpo"][todo] = rng.uniform(0, 2 * np.pi, k)
        out["mo"][todo] = rng.uniform(0, 2 * np.pi, k)
        out["template"][todo] = j
        todo = todo[~ok]
    if todo.size:
        raise UserError(
            f"could not place {todo.size} synthetic objects above "
            f"{MIN_PERIGEE_KM} km perigee after {MAX_REDRAWS} draws"
        )
    return out


def make_satrecs(
    epoch_jd: float, epoch_fr: float, el: dict, bstar, satnum, opsmode: str = "i"
) -> list:
    """Return one initialised sgp4 ``Satrec`` per element row (WGS72, ``opsmode``).

    ``el`` holds SGP4 mean elements: no_kozai (rad/min), ecco, inclo, nodeo, argpo, mo
    (rad); ``satnum`` numbers above Alpha-5's range are given 0 (SGP4 never uses it)."""
    epoch = (epoch_jd - _SGP4_EPOCH0_JD) + epoch_fr
    satnum = np.where(np.asarray(satnum) > SGP4_MAX_SATNUM, 0, satnum).tolist()
    rows = zip(
        satnum,
        np.asarray(bstar, float).tolist(),
        el["ecco"].tolist(),
        el["argpo"].tolist(),
        el["inclo"].tolist(),
        el["mo"].tolist(),
        el["no_kozai"].tolist(),
        el["nodeo"].tolist(),
        strict=True,
    )
    out = []
    for num, bs, ec, ap, inc, mo, no, node in rows:
        sat = Satrec()
        sat.sgp4init(WGS72, opsmode, num, epoch, bs, 0.0, 0.0, ec, ap, inc, mo, no, node)
        out.append(sat)
    return out


def _decays(satrecs: list, epoch_jd: float, epoch_fr: float, days: float) -> np.ndarray:
    """Return a mask of objects SGP4 cannot propagate to ``days`` after the epoch."""
    out = np.zeros(len(satrecs), bool)
    if days <= 0:
        return out
    jd = np.array([epoch_jd, epoch_jd])
    fr = np.array([epoch_fr + days / 2, epoch_fr + days])
    # In chunks: SatrecArray copies every Satrec (1 kB each), so one array of a million
    # would double the peak memory.
    for start in range(0, len(satrecs), _CHECK_CHUNK):
        err, _, _ = SatrecArray(satrecs[start : start + _CHECK_CHUNK]).sgp4(jd, fr)
        out[start : start + _CHECK_CHUNK] = (err != 0).any(axis=1)
    return out


def _synthetic(rng, base, templates, sizes, bstar_of, epoch, survive_days, numbers):
    """Return the Satrecs of len(numbers) orbits resampled from ``templates``."""
    el = _jittered_elements(rng, base, templates, len(numbers))
    bstar = bstar_of(el, sizes)
    sats = make_satrecs(*epoch, el, bstar, numbers, base.opsmode)
    check = np.arange(len(sats))
    for _ in range(MAX_REDRAWS):
        bad = check[_decays([sats[i] for i in check.tolist()], *epoch, survive_days)]
        if bad.size == 0:
            break
        el_new = _jittered_elements(rng, base, templates, bad.size)
        redo = make_satrecs(
            *epoch, el_new, bstar_of(el_new, sizes[bad]), numbers[bad], base.opsmode
        )
        for i, sat in zip(bad.tolist(), redo, strict=True):
            sats[i] = sat
        check = bad
    else:
        raise UserError(
            f"{bad.size} synthetic objects still decay within {survive_days} "
            f"days after {MAX_REDRAWS} draws"
        )
    return sats


def generate_population(
    base: Catalog,
    n_objects: int | None,
    size_range_m=(0.01, 0.1),
    seed: int = 0,
    allocator: CatalogNumberAllocator | None = None,
    *,
    analyst_objects: int = 0,
    include_base: bool = True,
    regimes=None,
    epoch=None,
    block: str | None = None,
    survive_days: float = SURVIVE_DAYS,
) -> Population:
    """Return the real catalogue ``base`` plus a seeded synthetic population.

    ``n_objects``: sample size of small objects (None: the whole population in
    ``size_range_m``, weight 1 each); ``size_range_m``: (min, max) diameter (m);
    ``analyst_objects``: how many withheld analyst objects to add (ANALYST_OBJECTS for
    the full 16,600); ``regimes``: restrict resampled orbits to these Catalog regimes
    (e.g. ('LEO',)), the population count scaled by the real debris fraction there;
    ``epoch``: (jd, fr) of every synthetic element set (default base median epoch);
    ``block``: allocator block, 'alpha5' (3LE-safe, 70,000 numbers) or 'wide'
    (default: alpha5 when everything fits). The allocator (default: one that knows
    ``base``'s numbers) hands out every synthetic number, so pass the same allocator
    to every generator of one run.
    """
    lo, hi = (float(x) for x in size_range_m)
    if not (SIZE_LAW_RANGE_M[0] <= lo < hi <= SIZE_LAW_RANGE_M[1]):
        raise UserError(
            f"size_range_m must satisfy {SIZE_LAW_RANGE_M[0]} <= min < max <= "
            f"{SIZE_LAW_RANGE_M[1]} m; got {size_range_m}"
        )
    if n_objects is not None and n_objects < 0:
        raise UserError(
            f"n_objects must be >= 0 (or None for the whole population); got {n_objects}"
        )
    if analyst_objects < 0:
        raise UserError(f"analyst_objects must be >= 0; got {analyst_objects}")
    rng = np.random.default_rng(seed)
    epoch = base.epoch_median() if epoch is None else (float(epoch[0]), float(epoch[1]))

    templates = debris_templates(base)
    fraction = 1.0
    if regimes is not None:
        wanted = [str(r).upper() for r in ([regimes] if isinstance(regimes, str) else regimes)]
        keep = np.isin(base.regime[templates], wanted)
        if not keep.any():
            raise UserError(f"no real debris in regimes {wanted} to resample from")
        fraction = keep.mean()
        templates = templates[keep]
    population = float(cumulative_count(lo) - cumulative_count(hi)) * fraction
    n_small = int(round(population)) if n_objects is None else int(n_objects)
    weight_small = population / n_small if n_small else 0.0

    if allocator is None:
        allocator = CatalogNumberAllocator(base.norad_id)
    n_new = n_small + analyst_objects
    if block is None:
        block = "alpha5" if n_new <= (ALPHA5_MAX - ALPHA5_FIRST + 1) // 2 else "wide"
    numbers = allocator.take(n_new, block)

    sizes = sample_sizes(rng, n_small, (lo, hi))

    def small_bstar(el, d):
        return bstar_from_am(sample_am(rng, d), perigee_km=_perigee_km(el))

    sats = _synthetic(
        rng, base, templates, sizes, small_bstar, epoch, survive_days, numbers[:n_small]
    )
    a_sizes = sample_sizes(rng, analyst_objects, ANALYST_SIZE_RANGE_M)

    def analyst_bstar(el, _d):
        return base.bstar[el["template"]].copy()

    sats += _synthetic(
        rng,
        base,
        analyst_templates(base),
        a_sizes,
        analyst_bstar,
        epoch,
        survive_days,
        numbers[n_small:],
    )

    names = [SMALL_NAME] * n_small + [ANALYST_NAME] * analyst_objects
    kinds = ["DEBRIS"] * n_small + ["UNKNOWN"] * analyst_objects
    sources = [f"synthetic:small seed={seed}"] * n_small + [
        f"synthetic:analyst seed={seed}"
    ] * analyst_objects
    synthetic = Catalog(
        satrecs=sats,
        norad_id=numbers,
        name=names,
        intl_des=[""] * n_new,
        object_type=kinds,
        owner=[""] * n_new,
        rcs_size=[""] * n_new,
        source=sources,
        opsmode="i",
        type_source=base.type_source,
    )
    diameter = np.concatenate([sizes, a_sizes])
    weight = np.concatenate([np.full(n_small, weight_small), np.ones(analyst_objects)])
    if not include_base:
        return Population(synthetic, diameter, weight)
    both = concat_catalogs(base, synthetic)
    return Population(
        both,
        np.concatenate([np.full(len(base), np.nan), diameter]),
        np.concatenate([np.ones(len(base)), weight]),
    )


def concat_catalogs(first: Catalog, second: Catalog) -> Catalog:
    """Return one Catalog holding ``first``'s objects then ``second``'s (numbers must differ)."""
    clash = np.intersect1d(first.norad_id, second.norad_id)
    if clash.size:
        raise UserError(f"catalogue numbers appear in both catalogues, e.g. {clash[:5].tolist()}")
    if first.opsmode != second.opsmode:
        raise UserError(f"opsmodes differ ({first.opsmode!r} vs {second.opsmode!r})")

    def cat(attr):
        return np.concatenate([getattr(first, attr), getattr(second, attr)])

    return Catalog(
        satrecs=first.satrecs + second.satrecs,
        norad_id=cat("norad_id"),
        name=cat("name"),
        intl_des=cat("intl_des"),
        object_type=cat("object_type"),
        owner=cat("owner"),
        rcs_size=cat("rcs_size"),
        source=cat("source"),
        opsmode=first.opsmode,
        type_source=first.type_source,
    )
