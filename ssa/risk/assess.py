"""Fill the risk columns of a screening result, and build CDMs from it.

``assess(rows, catalog, model=None, hbr=None, method='foster')`` takes the
screening table (numpy structured array or dict of columns, see docs/DESIGN.md)
with TEME states ``X1_KM .. VZ2_KMS`` at TCA and element-set ages
``DSE_1``/``DSE_2``, and fills ``HBR_M, HBR_SOURCE, PC, PC_METHOD, PC_2D_VALID,
SIGMA{1,2}_{R,T,N}_M, MAX_PROB, DILUTION`` (and ``PC_LOW, PC_HIGH`` for a method
with an interval). ``assess_result`` adds the radius options and CDM files
(what ``ssa screen`` runs). Covariance-model or Pc problems are appended to
``FLAGS`` (``COV_REPAIRED``: a non-positive-definite covariance was clipped;
``PC_REFUSED``: no usable covariance, PC is NaN) and never raise.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ssa.cdm import Cdm, CdmSegment, cov_key, format_epoch
from ssa.errors import UserError
from ssa.geometry import (
    jd_to_datetime,
    osculating_apsides,
    rtn_basis,
    teme_to_gcrf_rotation,
)
from ssa.risk import pc as pcm
from ssa.risk.covariance import (
    CovarianceModel,
    TleCovarianceModel,
    rtn_to_inertial,
    sigma_to_rtn_cov_km2,
)
from ssa.risk.hbr import HardBodyRadius

SIGMA_COLUMNS = ["SIGMA1_R_M", "SIGMA1_T_M", "SIGMA1_N_M", "SIGMA2_R_M", "SIGMA2_T_M", "SIGMA2_N_M"]
RISK_COLUMNS = ["HBR_M", "PC", "PC_METHOD", "PC_2D_VALID"] + SIGMA_COLUMNS


def _col(rows, name):
    return np.asarray(rows[name])


def _names(rows):
    return rows.dtype.names if hasattr(rows, "dtype") and rows.dtype.names else list(rows.keys())


def _set(rows, name, values, optional=False):
    """Set column name; a structured array lacking an ``optional`` (newer) column skips it."""
    if isinstance(rows, dict):
        rows[name] = values
    else:
        if name not in rows.dtype.names and optional:
            return
        if name not in rows.dtype.names:
            raise ValueError(
                f"screening rows have no column {name}; expected the DESIGN.md columns"
            )
        rows[name] = values


def _state(rows, k):
    r = np.stack([_col(rows, f"{a}{k}_KM") for a in "XYZ"], axis=1).astype(np.float64)
    v = np.stack([_col(rows, f"V{a}{k}_KMS") for a in "XYZ"], axis=1).astype(np.float64)
    return r, v


def _catalog_lookup(catalog, ids, attr, fallback):
    if catalog is None or not hasattr(catalog, attr):
        return fallback
    ids = np.asarray(ids, np.int64)
    norad = np.asarray(catalog.norad_id, np.int64)
    order = np.argsort(norad, kind="stable")
    # The last catalogue row of an id (stable sort: the last of equal ids), as before.
    at = np.maximum(np.searchsorted(norad[order], ids, side="right") - 1, 0)
    pos = order[at] if norad.size else np.zeros(ids.size, np.int64)
    ok = norad[pos] == ids if norad.size else np.zeros(ids.size, bool)
    values = np.asarray(getattr(catalog, attr))
    out = np.array(fallback, dtype=values.dtype if values.dtype != object else object, copy=True)
    out[ok] = values[pos[ok]]
    return out


def object_info(rows, catalog, k):
    """Return dict of per-row object k data: id, type, rcs, perigee/apogee km, state, age."""
    ids = _col(rows, f"NORAD_CAT_ID_{k}").astype(np.int64)
    r, v = _state(rows, k)
    _, ha, hp = osculating_apsides(r, v)  # used when the catalog lacks the object
    types = (
        _col(rows, f"OBJECT_TYPE_{k}").astype(object)
        if f"OBJECT_TYPE_{k}" in _names(rows)
        else np.full(len(ids), "", dtype=object)
    )
    return {
        "id": ids,
        "r": r,
        "v": v,
        "age": _col(rows, f"DSE_{k}").astype(np.float64),
        "perigee": _catalog_lookup(catalog, ids, "perigee_km", hp).astype(np.float64),
        "apogee": _catalog_lookup(catalog, ids, "apogee_km", ha).astype(np.float64),
        "type": _catalog_lookup(catalog, ids, "object_type", types),
        "rcs": _catalog_lookup(catalog, ids, "rcs_size", np.full(len(ids), "", dtype=object)),
    }


def assess(
    rows,
    catalog=None,
    model: CovarianceModel | None = None,
    hbr: HardBodyRadius | None = None,
    shape: str = "circle",
    method: str = "foster",
    **method_options,
):
    """Fill the risk columns of ``rows`` in place and return it.

    catalog: the screened ``Catalog`` (perigee/apogee, type, RCS by NORAD id);
    None uses osculating elements from the TCA states and OBJECT_TYPE_1/2.
    model: a CovarianceModel (default TleCovarianceModel); hbr: a
    HardBodyRadius (default: RCS/type values, no CARA table; ``HardBodyRadius.fixed``
    for one combined radius). method: a name in ``ssa.risk.pc.PC_METHODS`` for the
    PC column (options passed on, e.g. n_samples/seed for monte-carlo). MAX_PROB
    and DILUTION are always SOCRATES' (``max_pc_socrates``).
    """
    model = model or TleCovarianceModel()
    hbr = hbr or HardBodyRadius()
    entry = pcm.get_pc_method(method)
    n = len(_col(rows, "NORAD_CAT_ID_1"))
    if n == 0:
        return rows
    o1 = object_info(rows, catalog, 1)
    o2 = object_info(rows, catalog, 2)
    s1 = np.asarray(
        model.rtn_sigma_m(o1["age"], o1["perigee"], o1["apogee"], o1["type"]), dtype=float
    )
    s2 = np.asarray(
        model.rtn_sigma_m(o2["age"], o2["perigee"], o2["apogee"], o2["type"]), dtype=float
    )
    if s1.shape != (n, 3) or s2.shape != (n, 3):
        raise ValueError(
            f"covariance model returned shape {s1.shape}/{s2.shape}, expected ({n}, 3)"
        )
    c1 = rtn_to_inertial(o1["r"], o1["v"], sigma_to_rtn_cov_km2(s1))
    c2 = rtn_to_inertial(o2["r"], o2["v"], sigma_to_rtn_cov_km2(s2))
    hbr_m, hbr_source = hbr.combined_with_source(
        o1["id"], o2["id"], o1["type"], o2["type"], o1["rcs"], o2["rcs"]
    )
    result = entry.compute(
        o1["r"], o1["v"], c1, o2["r"], o2["v"], c2, hbr_m, shape=shape, **method_options
    )
    valid = pcm.pc_2d_valid(o1["r"], o1["v"], c1, o2["r"], o2["v"], c2, hbr_m)
    top = pcm.max_pc_socrates(o1["r"], o1["v"], o2["r"], o2["v"], hbr_m)

    _set(rows, "HBR_M", hbr_m)
    _set(rows, "HBR_SOURCE", hbr_source, optional=True)
    _set(rows, "PC", result.value)
    _set(rows, "PC_METHOD", np.full(n, result.method_text, dtype=object))
    if result.low is not None:
        _set(rows, "PC_LOW", result.low, optional=True)
        _set(rows, "PC_HIGH", result.high, optional=True)
    _set(rows, "PC_2D_VALID", valid)
    for j, axis in enumerate("RTN"):
        _set(rows, f"SIGMA1_{axis}_M", s1[:, j])
        _set(rows, f"SIGMA2_{axis}_M", s2[:, j])
    _set(rows, "MAX_PROB", top.value)
    _set(rows, "DILUTION", top.extra["dilution_km"])
    if "FLAGS" in _names(rows):
        from ssa.screening.result import add_flags

        st = np.asarray(result.status)
        repaired = (st & (pcm.STATUS_NPD_INPUT | pcm.STATUS_CLIPPED_2D)) != 0
        refused = (st & pcm.STATUS_REFUSED) != 0
        flags = _col(rows, "FLAGS")
        flags = np.array([str(f) if f is not None else "" for f in flags.tolist()], dtype=object)
        _set(rows, "FLAGS", add_flags(flags, [("COV_REPAIRED", repaired), ("PC_REFUSED", refused)]))
    return rows


def resolve_hbr(hbr_table=None, hbr_m: float | None = None) -> tuple[HardBodyRadius, str | None]:
    """Return (HardBodyRadius, note): a fixed combined radius ``hbr_m`` wins over a CARA
    table file ``hbr_table``; the note says so when both were given (else None)."""
    if hbr_m is not None:
        note = (
            f"--hbr-m {hbr_m:g} overrides --hbr {hbr_table}: every pair gets the combined "
            f"radius {hbr_m:g} m"
            if hbr_table
            else None
        )
        return HardBodyRadius.fixed(hbr_m), note
    if hbr_table:
        return HardBodyRadius.from_cara_csv(hbr_table), None
    return HardBodyRadius(), None


def assess_result(
    rows,
    catalog=None,
    *,
    hbr_table=None,
    hbr_m: float | None = None,
    shape: str = "circle",
    method: str = "foster",
    cdm_dir=None,
    cdm_top: int | None = None,
    cdm_xml: bool = False,
    **method_options,
) -> dict:
    """Fill the risk columns of a screening table and write CDMs if asked; return the
    run.json summary (covariance_model, hbr_table, hbr_fixed_m, hbr_note, hbr_shape,
    pc_method, cdm_files, wall_s).

    hbr_table: CARA HBR CSV path; hbr_m: one combined radius (m) for every pair, which
    overrides the table (the summary's hbr_note says so). cdm_dir: write one CDM per
    conjunction there (cdm_top: only the top N by PC; cdm_xml: also XML).
    """
    import time
    from pathlib import Path

    t0 = time.perf_counter()
    if cdm_top is not None and cdm_top < 1:
        raise UserError(f"--cdm N must be a positive number of conjunctions, got {cdm_top}")
    hbr, note = resolve_hbr(hbr_table, hbr_m)
    model = TleCovarianceModel()
    assess(rows, catalog, model=model, hbr=hbr, shape=shape, method=method, **method_options)
    summary = {
        "covariance_model": model.name,
        "hbr_table": None if hbr_m is not None else hbr_table,
        "hbr_fixed_m": hbr_m,
        "hbr_note": note,
        "hbr_shape": shape,
        "pc_method": method,
        "cdm_files": 0,
    }
    if cdm_dir is not None:
        paths = write_result_cdms(
            rows, Path(cdm_dir), catalog, top=cdm_top, xml=cdm_xml, shape=shape, method=method
        )
        summary["cdm_files"] = len(paths)
    summary["wall_s"] = time.perf_counter() - t0
    return summary


# ------------------------------------------------------------------------ CDMs

# CDM object types (508.0-B-1); other SATCAT types leave OBJECT_TYPE out.
CDM_OBJECT_TYPES = ("PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN", "OTHER")


def cdms_from_result(
    rows,
    catalog=None,
    top: int | None = None,
    originator: str = "SSA",
    creation: dt.datetime | None = None,
    shape: str = "circle",
    method: str = "foster",
) -> list[Cdm]:
    """Return one Cdm per conjunction of an assessed result (top N by PC if given).

    States are rotated from TEME to GCRF at TCA (REF_FRAME = GCRF). The 6x6 RTN
    covariance is the modelled diagonal position block (COVARIANCE_METHOD =
    DEFAULT) with velocity sigmas of n * position sigma (n = mean motion), an
    order-of-magnitude placeholder that Pc does not use.
    """
    order = _cdm_order(_col(rows, "PC").astype(np.float64), top)
    if len(order) == 0:
        return []
    cdm_method = pcm.get_pc_method(method).cdm_text
    creation = creation or dt.datetime.now(dt.timezone.utc)
    jd = _col(rows, "TCA_JD").astype(np.float64)
    fr = _col(rows, "TCA_FR").astype(np.float64)
    rot = teme_to_gcrf_rotation(jd[order], fr[order])
    intl = {}
    if catalog is not None and hasattr(catalog, "intl_des"):
        intl = {int(i): d for i, d in zip(catalog.norad_id, catalog.intl_des, strict=True)}
    states = (_state(rows, 1), _state(rows, 2))
    out = []
    for k, i in enumerate(order):
        tca = jd_to_datetime(jd[i], fr[i])
        (r1, v1), (r2, v2) = ((r[i], v[i]) for r, v in states)
        ids = (int(rows["NORAD_CAT_ID_1"][i]), int(rows["NORAD_CAT_ID_2"][i]))
        cdm = Cdm()
        cdm.header = _cdm_header(rows, i, ids, tca, creation, originator)
        cdm.relative = _cdm_relative(r1, v1, r2, v2, tca, float(rows["PC"][i]), cdm_method)
        cdm.comments["relative"] = _cdm_relative_comments(rows, i, shape)
        for obj, (r, v) in enumerate(((r1, v1), (r2, v2)), 1):
            cdm.objects.append(_cdm_segment(rows, i, obj, ids[obj - 1], intl, r, v, rot[k]))
        out.append(cdm)
    return out


def _cdm_order(pc, top: int | None) -> np.ndarray:
    """Row indices to write: all in table order, or the top N by PC (NaN last, stable)."""
    if top is None:
        return np.arange(len(pc))
    return np.argsort(np.where(np.isnan(pc), -1.0, -pc), kind="stable")[:top]


def _cdm_header(rows, i, ids, tca, creation, originator) -> dict:
    stamp = creation.astimezone(dt.timezone.utc).strftime("%Y%m%d_%H%M%S")
    return {
        "CCSDS_CDM_VERS": "1.0",
        "CREATION_DATE": format_epoch(creation)[:23],
        "ORIGINATOR": originator,
        "MESSAGE_FOR": str(rows["OBJECT_NAME_1"][i]) or str(ids[0]),
        "MESSAGE_ID": f"{ids[0]:09d}_conj_{ids[1]:09d}_{tca.strftime('%Y%m%d_%H%M%S')}_{stamp}",
    }


def _cdm_relative(r1, v1, r2, v2, tca, pc, cdm_method="FOSTER-1992") -> dict:
    """Relative metadata/data: TCA, miss, speed, RTN relative state (m, m/s), Pc."""
    basis = rtn_basis(r1, v1)[0]
    rel_r_rtn = basis @ (r2 - r1) * 1e3
    rel_v_rtn = basis @ (v2 - v1) * 1e3
    relative = {
        "TCA": format_epoch(tca),
        "MISS_DISTANCE": float(np.linalg.norm(r2 - r1) * 1e3),
        "RELATIVE_SPEED": float(np.linalg.norm(v2 - v1) * 1e3),
    }
    for j, axis in enumerate("RTN"):
        relative[f"RELATIVE_POSITION_{axis}"] = float(rel_r_rtn[j])
    for j, axis in enumerate("RTN"):
        relative[f"RELATIVE_VELOCITY_{axis}"] = float(rel_v_rtn[j])
    if np.isfinite(pc):
        relative["COLLISION_PROBABILITY"] = pc
        relative["COLLISION_PROBABILITY_METHOD"] = cdm_method
    return relative


def _cdm_relative_comments(rows, i, shape) -> list[str]:
    return [
        f"HBR = {float(rows['HBR_M'][i])!r} [m]",
        f"HBR_SHAPE = {shape}",
        f"PC_2D_VALID = {'YES' if bool(rows['PC_2D_VALID'][i]) else 'NO'}",
        "States propagated with SGP4 (WGS72) from public element sets; TEME rotated to GCRF",
    ]


def _cdm_segment(rows, i, obj, nid, intl, r, v, teme_to_gcrf) -> CdmSegment:
    """Object ``obj`` (1 or 2): metadata, GCRF state and the diagonal 6x6 RTN covariance."""
    seg = CdmSegment()
    name = f"OBJECT_TYPE_{obj}"
    otype = str(rows[name][i]) if name in _names(rows) else ""
    seg.values = {
        "OBJECT": f"OBJECT{obj}",
        "OBJECT_DESIGNATOR": f"{nid:09d}",
        "CATALOG_NAME": "SATCAT",
        "OBJECT_NAME": str(rows[f"OBJECT_NAME_{obj}"][i]) or str(nid),
        "INTERNATIONAL_DESIGNATOR": intl.get(nid) or "UNKNOWN",
    }
    if otype.upper() in CDM_OBJECT_TYPES:
        seg.values["OBJECT_TYPE"] = otype.upper()
    seg.values.update(
        {
            "EPHEMERIS_NAME": "NONE",
            "COVARIANCE_METHOD": "DEFAULT",
            "MANEUVERABLE": "N/A",
            "REF_FRAME": "GCRF",
        }
    )
    seg.comments["metadata"] = [
        f"ELEMENT_SET_AGE = {float(rows[f'DSE_{obj}'][i])!r} [d]",
        "COVARIANCE_MODEL = TLE-AGE-REGIME (ssa.risk.covariance)",
    ]
    state = np.concatenate([teme_to_gcrf @ r, teme_to_gcrf @ v])
    for key, val in zip(["X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT"], state, strict=True):
        seg.values[key] = float(val)
    sig = np.array([float(rows[f"SIGMA{obj}_{a}_M"][i]) for a in "RTN"])
    mean_motion = np.linalg.norm(v) / np.linalg.norm(r)  # rad/s, circular approx
    diag = np.concatenate([sig**2, (mean_motion * sig) ** 2])
    for a in range(6):
        for b in range(a + 1):
            seg.values[cov_key(a, b)] = float(diag[a]) if a == b else 0.0
    return seg


def assess_cdm(
    cdm: Cdm,
    hbr_m: float | None = None,
    shape: str = "circle",
    mc_samples: int = 0,
    seed: int = 0,
    method: str = "foster",
) -> dict:
    """Return Pc of one CDM as a dict (the ``ssa pc --json`` fields).

    HBR: ``hbr_m`` if given, else the file's ``COMMENT HBR`` value; without
    either a ValueError says so. method: a ``PC_METHODS`` name (monte-carlo samples
    the CDM's 6x6 covariances with two-body motion, mc_samples samples, default
    100,000). Fields: file, message_id, tca, miss_distance_m, hbr_m, hbr_source, pc,
    pc_method, pc_method_cdm, pc_status, pc_2d_valid, cdm_pc, cdm_pc_method; pc_low /
    pc_high for a method with an interval; dilution_km for max-socrates; with
    mc_samples > 0 and another method also pc_mc, pc_mc_ci95 from a seeded two-body
    Monte Carlo (for encounters the 2D model misses).
    """
    from ssa.cdm import inertial_states

    entry = pcm.get_pc_method(method)
    source = "option"
    if hbr_m is None:
        hbr_m = cdm.hbr_m
        source = "file"
    if hbr_m is None:
        raise UserError(
            f"{cdm.source}: no 'COMMENT HBR = ...' line; pass the hard-body radius with --hbr-m"
        )
    r1, v1, c1, r2, v2, c2 = inertial_states(cdm)
    valid = pcm.pc_2d_valid(r1, v1, c1, r2, v2, c2, hbr_m)
    mc_options = {"n_samples": mc_samples or 100_000, "seed": seed, "motion": "kepler"}
    if method == "monte-carlo":
        result = entry.compute(*inertial_states(cdm, full=True), hbr_m, shape=shape, **mc_options)
    else:
        result = entry.compute(r1, v1, c1, r2, v2, c2, hbr_m, shape=shape)
    p = float(result.value[0])
    extra = {}
    if result.low is not None:
        extra |= {"pc_low": float(result.low[0]), "pc_high": float(result.high[0])}
    if "dilution_km" in result.extra:
        extra["dilution_km"] = float(result.extra["dilution_km"][0])
    if mc_samples > 0 and method != "monte-carlo":
        mc = pcm.pc_monte_carlo(*inertial_states(cdm, full=True), hbr_m, **mc_options)
        extra |= {
            "pc_mc": float(mc.value[0]),
            "pc_mc_ci95": [float(mc.low[0]), float(mc.high[0])],
            "mc_samples": mc_samples,
            "mc_seed": seed,
        }
    return extra | {
        "file": cdm.source,
        "message_id": cdm.message_id,
        "tca": format_epoch(cdm.tca)[:23],
        "miss_distance_m": cdm.miss_distance_m,
        "hbr_m": float(hbr_m),
        "hbr_source": source,
        "pc": None if np.isnan(p) else p,
        "pc_method": result.method_text,
        "pc_method_cdm": entry.cdm_text,
        "pc_status": int(result.status[0]),
        "pc_2d_valid": bool(valid[0]),
        "cdm_pc": cdm.collision_probability,
        "cdm_pc_method": cdm.relative.get("COLLISION_PROBABILITY_METHOD"),
    }


def write_result_cdms(
    rows,
    out_dir,
    catalog=None,
    top: int | None = None,
    xml: bool = False,
    originator: str = "SSA",
    shape: str = "circle",
    method: str = "foster",
) -> list:
    """Write one CDM per conjunction (or the top N by PC) into out_dir; return the paths.

    Files are named ``<MESSAGE_ID>.cdm`` (KVN) and, with xml=True, also ``.xml``.
    Rows must have been assessed (PC, SIGMA*, HBR_M filled).
    """
    from pathlib import Path

    from ssa.cdm import write_kvn, write_xml

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for cdm in cdms_from_result(
        rows, catalog, top=top, originator=originator, shape=shape, method=method
    ):
        paths.append(write_kvn(cdm, out / f"{cdm.message_id}.cdm"))
        if xml:
            paths.append(write_xml(cdm, out / f"{cdm.message_id}.xml"))
    return paths
