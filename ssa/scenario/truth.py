"""Truth stage: the conjunctions that happen, independent of who is looking.

The truth catalog is the public catalog propagated with SGP4. Members'
protected satellites are screened against the whole catalog (``ssa.screening``).
Each object's *true* trajectory in an event is its SGP4 trajectory plus one
true offset, drawn per object and event from the public element set's error
(``ssa.risk``'s TLE covariance model at ``PUBLIC_OFFSET_AGE_D``, an element set
re-issued about daily): the realised error of the public catalog. Offsets are
keyed by (seed, Monte Carlo run, event identity), never by the network, so
every scenario of a window and seed sees the same truth, and an event shared by
two scenarios gets the same offsets in both.

The risk of an event is the Foster Pc of its *true* miss vector under one fixed
reference covariance (``REFERENCE_SIGMA_RTN_M`` per object): smooth, and the
same whoever looks. It is a smoothed version of "the true miss is inside the
hard body": small enough that an operator who knows the orbits as well as
the reference manoeuvres for the events that are truly close, large enough
that a window has more than a handful of risky events (judgement; CARA's
well-tracked primaries 1-2.5 days before TCA have median R 5, T 200, N 2 m).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from ssa.scenario.config import Scenario, resolve_data_path

SECONDS_PER_DAY = 86400.0
# Age (days) of the public element set whose error is the true offset (re-issued daily).
PUBLIC_OFFSET_AGE_D = 1.0
# Reference 1-sigma R, T, N (m) per object for the risk of an event (judgement, see above).
REFERENCE_SIGMA_RTN_M = (10.0, 100.0, 10.0)
# Random stream tag of the truth offsets.
TRUTH_STREAM = 7_000_001


def load_catalog(sc: Scenario):
    """Return the scenario's truth catalog (with SATCAT types/owners and RCS classes)."""
    from ssa.catalog import Catalog, load_satcat

    path = resolve_data_path(sc.catalog_file, sc.path)
    satcat = resolve_data_path(sc.satcat, sc.path) if sc.satcat else None
    catalog = Catalog.load(path, satcat=satcat)
    if sc.rcs:
        entries, _ = load_satcat(resolve_data_path(sc.rcs, sc.path))
        sizes = catalog.rcs_size.copy()
        for i, norad in enumerate(catalog.norad_id.tolist()):
            e = entries.get(norad)
            if e is not None and e.rcs_size and not sizes[i]:
                sizes[i] = e.rcs_size
        catalog.rcs_size = sizes
    return catalog


def protected_by(sc: Scenario, catalog) -> np.ndarray:
    """Return (n,) index of the member protecting each object, -1 for none."""
    out = np.full(len(catalog), -1, dtype=np.int64)
    types_ok = np.isin(catalog.object_type, list(sc.protect_types))
    if sc.exclude_names:
        pattern = re.compile("|".join(re.escape(x) for x in sc.exclude_names), re.IGNORECASE)
        excluded = np.array([bool(pattern.search(str(n))) for n in catalog.name], dtype=bool)
    else:
        excluded = np.zeros(len(catalog), dtype=bool)
    for m, member in enumerate(sc.members):
        out[np.isin(catalog.owner, list(member.owners)) & types_ok & ~excluded] = m
    return out


def screen_truth(
    catalog, start: dt.datetime, days: float, threshold_km: float, primary_ids, quiet: bool = True
) -> dict:
    """Return the truth conjunctions as a dict of column arrays (docs/DESIGN.md columns).

    The one place that calls the screening core: primaries vs the whole catalog.
    """
    from ssa.screening import screen

    result = screen(
        catalog,
        start=start,
        days=days,
        threshold_km=threshold_km,
        primaries=np.asarray(primary_ids, dtype=np.int64),
        quiet=quiet,
    )
    rows = result.rows
    names = rows.dtype.names if hasattr(rows, "dtype") else list(rows)
    return {k: np.asarray(rows[k]) for k in names}


def screen_digest(catalog, start, days, threshold_km, primary_ids) -> str:
    """Digest of a truth screening's inputs: element sets (NORAD ids and epochs), the
    window, the threshold and the primaries (the cache key; Dask runs check with it
    that a shared screening is the one they would have made)."""
    h = hashlib.sha256()
    for arr in (
        catalog.norad_id,
        catalog.epoch_jd,
        catalog.epoch_fr,
        np.sort(np.asarray(primary_ids, dtype=np.int64)),
    ):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(f"{start.isoformat()}|{days!r}|{threshold_km!r}|{catalog.opsmode}".encode())
    return h.hexdigest()


def caching_screen(cache_dir, screen=None):
    """Return a ``screen_truth``-like callable that keeps results in ``cache_dir``.

    The key covers the catalog's element sets (NORAD ids and epochs), the window,
    the threshold and the primaries, so scenarios that differ only in sensors,
    members' policies or events share one truth screening.
    """
    from pathlib import Path

    cache_dir = Path(cache_dir)
    inner = screen or screen_truth

    def run(catalog, start, days, threshold_km, primary_ids, quiet=True):
        digest = screen_digest(catalog, start, days, threshold_km, primary_ids)
        path = cache_dir / f"screen-{digest[:24]}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        rows = inner(catalog, start, days, threshold_km, primary_ids, quiet=quiet)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **{k: (v.astype(str) if v.dtype == object else v) for k, v in rows.items()})
        tmp.replace(path)
        return rows

    return run


def _conj_arrays(rows: dict, catalog, jd0: float, fr0: float) -> dict:
    """Return conjunction arrays: catalog indices, TCA (s since start), TEME states, miss."""
    order = np.argsort(catalog.norad_id)
    sorted_ids = catalog.norad_id[order]

    def index_of(ids):
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        found = sorted_ids[pos] == ids
        return np.where(found, order[pos], -1)

    i1 = index_of(rows["NORAD_CAT_ID_1"])
    i2 = index_of(rows["NORAD_CAT_ID_2"])
    tca_s = (
        (np.asarray(rows["TCA_JD"], float) - jd0) + (np.asarray(rows["TCA_FR"], float) - fr0)
    ) * SECONDS_PER_DAY

    def vec(prefix, n):
        return np.stack(
            [
                np.asarray(rows[f"{c}{n}_{u}"], float)
                for c, u in zip(
                    prefix, ("KM",) * 3 if prefix[0] == "X" else ("KMS",) * 3, strict=True
                )
            ],
            axis=1,
        )

    return {
        "i1": i1,
        "i2": i2,
        "tca_s": tca_s,
        "tca_utc": np.asarray(rows["TCA"], dtype=object),
        "miss_km": np.asarray(rows["TCA_RANGE"], float),
        "speed_kms": np.asarray(rows["TCA_RELATIVE_SPEED"], float),
        "r1": vec(("X", "Y", "Z"), 1),
        "v1": vec(("VX", "VY", "VZ"), 1),
        "r2": vec(("X", "Y", "Z"), 2),
        "v2": vec(("VX", "VY", "VZ"), 2),
    }


@dataclass
class Truth:
    """The truth conjunctions of a window (arrays indexed by conjunction)."""

    catalog: object
    protected_by: np.ndarray  # (n,) member index protecting each object, -1 none
    conj: dict
    start: dt.datetime
    days: float
    notes: list = field(default_factory=list)
    # Breakup/manoeuvre objects (security_truth.EventObjects), None without such events.
    events: object = None

    @property
    def n(self) -> int:
        return len(self.conj["tca_s"])

    def event_keys(self) -> np.ndarray:
        """Return (C,) uint64 event identities: a hash of the NORAD ids and TCA (ms since
        J2000), vectorised (``hash_u64``)."""
        c = self.conj
        base = (self.start - dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc)).total_seconds()
        tca_ms = np.round((base + np.asarray(c["tca_s"], dtype=float)) * 1000).astype(np.int64)
        h = hash_u64(np.asarray(c["norad1"], dtype=np.int64).astype(np.uint64))
        h = hash_u64(h ^ np.asarray(c["norad2"], dtype=np.int64).astype(np.uint64))
        return hash_u64(h ^ tca_ms.astype(np.uint64))


def build_truth(sc: Scenario, catalog=None, screen=None, quiet: bool = True) -> Truth:
    """Return the truth conjunctions of ``sc``'s window (screening is the costly part)."""
    from ssa.geometry import datetime_to_jd
    from ssa.risk.hbr import HardBodyRadius

    catalog = catalog if catalog is not None else load_catalog(sc)
    # Security events (breakups, manoeuvres) change the truth: ssa.scenario.security_truth.
    from ssa.scenario.security_truth import apply_security_events

    catalog, screen, events = apply_security_events(sc, catalog, screen or screen_truth, quiet)
    prot = protected_by(sc, catalog)
    primary_ids = catalog.norad_id[prot >= 0]
    if len(primary_ids) == 0:
        raise ValueError(
            f"{sc.path}: no catalog object is protected by any member "
            f"(owners {[m.owners for m in sc.members]}, types {sc.protect_types})"
        )
    rows = screen(catalog, sc.start, sc.days, sc.threshold_km, primary_ids, quiet=quiet)
    jd0, fr0 = datetime_to_jd(sc.start)
    conj = _conj_arrays(rows, catalog, jd0, fr0)
    notes = []
    keep = (conj["i1"] >= 0) & (conj["i2"] >= 0)
    keep &= (prot[np.maximum(conj["i1"], 0)] >= 0) | (prot[np.maximum(conj["i2"], 0)] >= 0)
    keep &= np.all(np.isfinite(conj["r1"]), axis=1) & np.all(np.isfinite(conj["r2"]), axis=1)
    if np.sum(~keep):
        notes.append(
            f"{int(np.sum(~keep))} screening rows without a protected object or "
            "valid states were left out"
        )
    if "FLAGS" in rows:
        # Docked vehicles and formations (LONG_DURATION) stay close on purpose: their
        # operators manage them, they are not collision-avoidance events.
        persistent = np.array(["LONG_DURATION" in str(f) for f in rows["FLAGS"]], dtype=bool)
        if np.any(persistent & keep):
            notes.append(
                f"{int(np.sum(persistent & keep))} LONG_DURATION rows (docked or "
                "formation flying) were left out"
            )
        keep &= ~persistent
    conj = {k: v[keep] for k, v in conj.items()}
    hbr = (
        HardBodyRadius.from_cara_csv(resolve_data_path(sc.hbr, sc.path))
        if sc.hbr
        else HardBodyRadius()
    )
    conj["hbr_m"] = hbr.combined_m(
        catalog.norad_id[conj["i1"]],
        catalog.norad_id[conj["i2"]],
        catalog.object_type[conj["i1"]],
        catalog.object_type[conj["i2"]],
        catalog.rcs_size[conj["i1"]],
        catalog.rcs_size[conj["i2"]],
    )
    for j in (1, 2):
        idx = conj[f"i{j}"]
        conj[f"norad{j}"] = catalog.norad_id[idx]
        conj[f"name{j}"] = catalog.name[idx]
        conj[f"type{j}"] = catalog.object_type[idx]
        conj[f"owner{j}"] = catalog.owner[idx]
    return Truth(
        catalog=catalog,
        protected_by=prot,
        conj=conj,
        start=sc.start,
        days=sc.days,
        notes=notes,
        events=events,
    )


def hash_u64(x) -> np.ndarray:
    """Return the splitmix64 finaliser of uint64 values (a bijective, well-mixed hash).

    Counter-based random numbers keyed per event, vectorised: the same event gets the
    same numbers whatever other events a truth holds.
    """
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        z = np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def keyed_normals(keys, seed: int, run: int, stream: int, n: int) -> np.ndarray:
    """Return (len(keys), n) standard normals, a pure function of (key, seed, run, stream).

    Box-Muller on counter-hashed uniforms (53 bits each).
    """
    keys = np.asarray(keys, dtype=np.uint64)
    salt = hash_u64(np.uint64(seed % 2**64))
    salt = hash_u64(salt ^ np.uint64(run % 2**64))
    salt = hash_u64(salt ^ np.uint64(stream % 2**64))
    m = (n + 1) // 2
    ctr = np.arange(2 * m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = hash_u64(hash_u64(keys ^ salt)[:, None] + ctr[None, :] * np.uint64(0xD1B54A32D192ED03))
    u = ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53  # in (0, 1)
    r = np.sqrt(-2.0 * np.log(u[:, :m]))
    ang = 2.0 * np.pi * u[:, m:]
    return np.concatenate([r * np.cos(ang), r * np.sin(ang)], axis=1)[:, :n]


def true_offsets_m(truth: Truth, seed: int, run: int) -> np.ndarray:
    """Return (C, 2, 3) true RTN offsets (m) of both objects of every event.

    Drawn from the public element set's error, keyed by event identity, seed and run.
    """
    from ssa.risk.covariance import TleCovarianceModel

    c, cat = truth.conj, truth.catalog
    sig = np.stack(
        [
            TleCovarianceModel().rtn_sigma_m(
                np.full(truth.n, PUBLIC_OFFSET_AGE_D),
                cat.perigee_km[c[f"i{j}"]],
                cat.apogee_km[c[f"i{j}"]],
                cat.object_type[c[f"i{j}"]],
            )
            for j in (1, 2)
        ],
        axis=1,
    )
    z = keyed_normals(truth.event_keys(), seed, run, TRUTH_STREAM, 6).reshape(truth.n, 2, 3)
    return sig * z


def rtn_to_inertial_km(r_km, v_kms, rtn_m) -> np.ndarray:
    """Return (..., 3) inertial vectors (km) of RTN vectors (m) in the frames of (r, v)."""
    from ssa.geometry import rtn_basis

    shape = np.shape(rtn_m)
    basis = rtn_basis(np.reshape(r_km, (-1, 3)), np.reshape(v_kms, (-1, 3)))
    return np.einsum("nki,nk->ni", basis, np.reshape(rtn_m, (-1, 3)) * 1e-3).reshape(shape)


def risk(truth: Truth, offsets_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (risk (C,), true r1 (C, 3), true r2 (C, 3)): Pc of the true miss vector.

    The covariance is REFERENCE_SIGMA_RTN_M for each object, the same in every
    scenario; the miss is the linear-motion miss in the encounter plane (the
    offsets move the objects off their SGP4 TCA), as for the participants' Pc
    (``decisions.pc_series``, which also sets risks below its floor to 0).
    """
    from ssa.geometry import rtn_to_inertial_cov
    from ssa.scenario.decisions import pc_series

    c = truth.conj
    r1 = c["r1"] + rtn_to_inertial_km(c["r1"], c["v1"], offsets_m[:, 0])
    r2 = c["r2"] + rtn_to_inertial_km(c["r2"], c["v2"], offsets_m[:, 1])
    if truth.n == 0:
        return np.zeros(0), r1, r2
    var = (np.asarray(REFERENCE_SIGMA_RTN_M) * 1e-3) ** 2
    cov1 = rtn_to_inertial_cov(r1, c["v1"], np.broadcast_to(var, (truth.n, 3)))[:, None]
    cov2 = rtn_to_inertial_cov(r2, c["v2"], np.broadcast_to(var, (truth.n, 3)))[:, None]
    zero = np.zeros((truth.n, 1, 3))
    pc = pc_series(
        r1,
        c["v1"],
        r2,
        c["v2"],
        c["hbr_m"],
        zero,
        zero,
        cov1,
        cov2,
        np.ones((truth.n, 1), dtype=bool),
    )[:, 0]
    return pc, r1, r2
