"""Close-approach reports: figures and one self-contained HTML page per screening run.

``build_report(results_dir)`` reads a ``ssa screen`` output folder
(``conjunctions.csv``, ``run.json``; docs/DESIGN.md) and writes
``index.html`` plus the PNG figures. Only the top N events get per-event
figures (range vs time from SGP4, encounter plane, RTN); the full table is
embedded as JSON and paged in the browser, so large results stay fast.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssa.errors import UserError
from ssa.geometry import osculating_apsides
from ssa.report import figures
from ssa.report.events import (
    STATE_MATCH_KM,
    TRACK_RANGE_FACTOR,
    approach,
    load_catalog,
    rank_events,
)
from ssa.report.geometry import combined_covariance_km2
from ssa.report.html import EventSection, FigureRef, Page, TableData, render_page
from ssa.report.results import STATE_COLUMNS, Results, load_results

__all__ = ["build_report", "load_results"]

DEFAULT_TOP = 10
INDEX_NAME = "index.html"

# Table columns: (key, header label, source column or callable, numeric, decimals)
TABLE_COLUMNS = [
    ("rank", "Rank", None, True, None),
    ("tca", "TCA (UTC)", "TCA", False, None),
    ("id1", "NORAD 1", "NORAD_CAT_ID_1", True, None),
    ("name1", "Object 1", "OBJECT_NAME_1", False, None),
    ("type1", "Type 1", "OBJECT_TYPE_1", False, None),
    ("owner1", "Owner 1", "OWNER_1", False, None),
    ("id2", "NORAD 2", "NORAD_CAT_ID_2", True, None),
    ("name2", "Object 2", "OBJECT_NAME_2", False, None),
    ("type2", "Type 2", "OBJECT_TYPE_2", False, None),
    ("owner2", "Owner 2", "OWNER_2", False, None),
    ("miss_km", "Miss (km)", "TCA_RANGE", True, 3),
    ("speed_kms", "Rel. speed (km/s)", "TCA_RELATIVE_SPEED", True, 3),
    ("pc", "Pc", "PC", True, "e"),
    ("max_pc", "Max Pc", "MAX_PROB", True, "e"),
    ("alt_km", "Alt. (km)", "ALT_KM", True, 1),
    ("dse1_days", "Age 1 (d)", "DSE_1", True, 2),
    ("dse2_days", "Age 2 (d)", "DSE_2", True, 2),
    ("flags", "Flags", "FLAGS", False, None),
]


def _num(x, decimals):
    """Return a JSON-ready number (None for NaN) rounded for display."""
    if x is None or not math.isfinite(x):
        return None
    if decimals == "e":
        return float(f"{x:.3e}")
    if decimals is None:
        return int(x)
    return round(float(x), decimals)


def _table(results: Results, order: np.ndarray) -> TableData:
    cols = []
    for key, _label, source, numeric, decimals in TABLE_COLUMNS:
        if key == "rank":
            continue
        values = results.columns[source][order]
        if numeric:
            cols.append([_num(float(v), decimals) for v in values])
        else:
            cols.append([str(v) for v in values])
    rows = [[rank + 1, *vals] for rank, vals in enumerate(zip(*cols, strict=True))] if cols else []
    return TableData(
        keys=[c[0] for c in TABLE_COLUMNS],
        labels=[c[1] for c in TABLE_COLUMNS],
        numeric=[c[3] for c in TABLE_COLUMNS],
        formats=[c[4] if c[4] == "e" or isinstance(c[4], int) else None for c in TABLE_COLUMNS],
        rows=rows,
    )


def _png(fig) -> bytes:
    buf = io.BytesIO()
    figures.save_png(fig, buf)
    return buf.getvalue()


def _fmt(x, spec: str, unit: str = "") -> str:
    return "not available" if x is None or not np.isfinite(x) else f"{x:{spec}}{unit}"


def _run_facts(results: Results, n: int) -> list[tuple[str, str]]:
    run = results.run
    inputs = run.get("inputs") or {}
    counts = run.get("counts") or {}
    catalogs = inputs.get("catalogs") or []
    if isinstance(catalogs, str):
        catalogs = [catalogs]
    facts = [
        ("Catalog", ", ".join(str(c) for c in catalogs) or "not recorded"),
        ("SATCAT", str(inputs.get("satcat") or "none")),
        (
            "Window (UTC)",
            f"{inputs.get('start_utc', '?')} to {inputs.get('end_utc', '?')}"
            f" ({inputs.get('days', '?')} days)",
        ),
        ("Threshold", f"{inputs.get('threshold_km', '?')} km"),
        (
            "Primaries",
            "all vs all"
            if not inputs.get("primaries")
            else ", ".join(str(p) for p in np.atleast_1d(inputs.get("primaries"))),
        ),
        ("SGP4 opsmode", str(inputs.get("opsmode", "?"))),
        ("Counts", ", ".join(f"{k} {v}" for k, v in counts.items()) or f"conjunctions {n}"),
        ("Conjunctions in table", str(n)),
    ]
    if "wall_s" in run:
        facts.append(("Screening run time", _fmt(float(run["wall_s"]), ".1f", " s")))
    if run.get("ssa_version"):
        facts.append(("ssa version", str(run["ssa_version"])))
    dropped = run.get("dropped") or []
    if dropped:
        facts.append(("Objects dropped", f"{len(dropped)} (see run.json for reasons)"))
    return facts


def _write_figures(figs, out_dir: Path) -> list[FigureRef]:
    """Render (filename, Figure, alt text, caption) tuples to PNG files in out_dir."""
    out = []
    for name, fig, alt_text, caption in figs:
        png = _png(fig)
        (out_dir / name).write_bytes(png)
        out.append(
            FigureRef(
                png=png,
                filename=name,
                alt=alt_text,
                caption=caption,
                wide=name.endswith("_rtn.png"),
            )
        )
    return out


def _overview(results: Results, out_dir: Path, catalog) -> list[FigureRef]:
    """The overview figures of the whole result, written to out_dir."""
    c = results.columns
    inputs = results.run.get("inputs") or {}
    threshold = inputs.get("threshold_km")
    threshold = float(threshold) if isinstance(threshold, (int, float)) else None
    pairs = figures.type_pair_labels(c["OBJECT_TYPE_1"], c["OBJECT_TYPE_2"])
    return _write_figures(
        [
            _per_day_figure(results, inputs),
            _miss_speed_figure(results, pairs, threshold),
            _type_pairs_figure(results, pairs),
            _owners_figure(results),
            _altitude_figure(results),
            _gabbard_figure(results, catalog),
        ],
        out_dir,
    )


def _per_day_figure(results: Results, inputs: dict):
    def when(key):
        try:
            return np.datetime64(str(inputs[key]).replace("Z", ""), "ms")
        except (KeyError, ValueError):
            return None

    valid = results.tca[~np.isnat(results.tca)]
    alt_text = f"Bar chart of conjunctions per UTC day, {results.n} in total" + (
        f", from {str(valid.min())[:10]} to {str(valid.max())[:10]}." if valid.size else "."
    )
    return (
        "overview_per_day.png",
        figures.conjunctions_per_day(results.tca, when("start_utc"), when("end_utc")),
        alt_text,
        "Conjunctions per UTC day of TCA.",
    )


def _miss_speed_figure(results: Results, pairs, threshold):
    c, n = results.columns, results.n
    miss = c["TCA_RANGE"]
    has_pc = bool(np.any(c["PC"] > 0))
    return (
        "overview_miss_speed.png",
        figures.miss_vs_speed(
            miss,
            c["TCA_RELATIVE_SPEED"],
            pc=c["PC"] if has_pc else None,
            category=None if has_pc else pairs,
            threshold_km=threshold,
        ),
        f"Scatter plot of miss distance (km) against relative speed (km/s) for {n} "
        f"conjunctions; miss from {_fmt(np.nanmin(miss) if n else np.nan, '.3f')} to "
        f"{_fmt(np.nanmax(miss) if n else np.nan, '.3f')} km. "
        + ("Colour is log10 Pc." if has_pc else "Colour is the object-type pair."),
        "Miss distance vs relative speed at TCA"
        + (
            ", coloured by collision probability."
            if has_pc
            else ", coloured by object-type pair (no Pc in this result)."
        ),
    )


def _type_pairs_figure(results: Results, pairs):
    c = results.columns
    top_pairs = Counter(pairs).most_common(3)
    return (
        "overview_type_pairs.png",
        figures.type_pair_counts(c["OBJECT_TYPE_1"], c["OBJECT_TYPE_2"]),
        "Bar chart of conjunctions by object-type pair: "
        + "; ".join(f"{k} {v}" for k, v in top_pairs)
        + ".",
        "Conjunctions by object-type pair.",
    )


def _owners_figure(results: Results):
    c = results.columns
    return (
        "overview_payload_owners.png",
        figures.payload_owner_counts(
            c["OBJECT_TYPE_1"], c["OWNER_1"], c["OBJECT_TYPE_2"], c["OWNER_2"]
        ),
        "Bar chart of conjunctions involving a payload, by the payload owner's SATCAT code.",
        "Conjunctions involving a payload, by payload owner.",
    )


def _altitude_figure(results: Results):
    alt = results.columns["ALT_KM"]
    return (
        "overview_altitude.png",
        figures.altitude_band_counts(alt),
        "Histogram of conjunctions by altitude of object 1 at TCA in 50 km bands"
        + (
            f", from {np.nanmin(alt):.0f} to {np.nanmax(alt):.0f} km."
            if np.isfinite(alt).any()
            else "."
        ),
        "Conjunctions by altitude band (object 1 at TCA).",
    )


def _gabbard_figure(results: Results, catalog):
    """Gabbard diagram: one point pair per object. Mean elements from the catalog when it
    loaded (the usual Gabbard convention), else osculating from the TCA states."""
    c = results.columns
    ids = np.concatenate([c["NORAD_CAT_ID_1"], c["NORAD_CAT_ID_2"]])
    types = np.concatenate([c["OBJECT_TYPE_1"], c["OBJECT_TYPE_2"]])
    uniq, first = np.unique(ids, return_index=True)
    if catalog is not None:
        sub = catalog.select(ids=uniq[uniq >= 0])
        by_id = dict(zip(ids[first], types[first], strict=True))
        g = figures.gabbard(
            sub.period_min,
            sub.apogee_km,
            sub.perigee_km,
            [by_id.get(i, t) for i, t in zip(sub.norad_id, sub.object_type, strict=True)],
        )
        how = "mean elements of the catalog"
        n_obj = len(sub)
    else:
        states = np.concatenate(
            [
                np.column_stack([c[k] for k in STATE_COLUMNS[:6]]),
                np.column_stack([c[k] for k in STATE_COLUMNS[6:]]),
            ]
        )[first]
        period, apo, peri = osculating_apsides(states[:, :3], states[:, 3:])
        g = figures.gabbard(period, apo, peri, types[first])
        how = "osculating elements at TCA (catalog not available)"
        n_obj = len(uniq)
    return (
        "gabbard.png",
        g,
        f"Gabbard diagram: apogee and perigee altitude (km) against period (min) of the "
        f"{n_obj} objects involved, payloads and debris in different colours and markers.",
        f"Gabbard diagram of the objects involved ({how}).",
    )


@dataclass
class _EventRow:
    """One table row's fields an event section needs (states: (6,) km, km/s)."""

    name1: str
    name2: str
    id1: int
    id2: int
    s1: np.ndarray
    s2: np.ndarray
    miss: float
    speed: float
    pc: float
    hbr: float


def _event_row(c, i: int) -> _EventRow:
    return _EventRow(
        name1=str(c["OBJECT_NAME_1"][i]),
        name2=str(c["OBJECT_NAME_2"][i]),
        id1=int(c["NORAD_CAT_ID_1"][i]),
        id2=int(c["NORAD_CAT_ID_2"][i]),
        s1=np.array([c[k][i] for k in STATE_COLUMNS[:6]]),
        s2=np.array([c[k][i] for k in STATE_COLUMNS[6:]]),
        miss=c["TCA_RANGE"][i],
        speed=c["TCA_RELATIVE_SPEED"][i],
        pc=c["PC"][i],
        hbr=c["HBR_M"][i],
    )


def _event(results: Results, i: int, rank: int, out_dir: Path, catalog, threshold) -> EventSection:
    """The section of the event in row i: range, encounter-plane and RTN figures, facts."""
    c = results.columns
    ev = _event_row(c, i)
    prefix = f"event_{rank:02d}"
    notes: list[str] = []
    figs = []
    rng, track = _range_figure(c, i, ev, prefix, catalog, threshold, notes)
    figs += rng
    figs += _encounter_figure(c, i, ev, prefix, notes)
    figs += _rtn_figure(c, i, ev, prefix, track)
    return EventSection(
        rank=rank,
        title=f"#{rank}: {ev.name1} ({ev.id1}) and {ev.name2} ({ev.id2})",
        facts=_event_facts(c, i, ev),
        figures=_write_figures(figs, out_dir),
        notes=notes,
    )


def _range_figure(c, i, ev: _EventRow, prefix, catalog, threshold, notes):
    """Return ([range-vs-time figure] or [], RTN track near TCA or None); notes why not."""
    sats = {}
    if catalog is not None:
        sub = catalog.select(ids=[ev.id1, ev.id2])
        sats = dict(zip(sub.norad_id.tolist(), sub.satrecs, strict=True))
    jd, fr = c["TCA_JD"][i], c["TCA_FR"][i]
    if not (ev.id1 in sats and ev.id2 in sats and np.isfinite(jd) and np.isfinite(fr)):
        notes.append(
            "Range vs time not drawn: the element sets of both objects or the TCA "
            "Julian date are not available."
        )
        return [], None
    ap = approach(sats[ev.id1], sats[ev.id2], jd, fr, ev.s1, ev.s2)
    if ap.state_mismatch_km > STATE_MATCH_KM:
        notes.append(
            f"The catalog's element sets give states {ap.state_mismatch_km:.3f} km "
            "away from the screened ones at TCA: the catalog file may have changed."
        )
    fig = (
        f"{prefix}_range.png",
        figures.range_vs_time(ap.t_s, ap.range_km, threshold),
        f"Line plot of the range between {ev.name1} and {ev.name2} from "
        f"{ap.t_s[0]:.0f} to {ap.t_s[-1]:+.0f} s around TCA on a log scale, minimum "
        f"{_fmt(np.nanmin(ap.range_km), '.3f')} km"
        + (f", threshold {threshold:g} km." if threshold else "."),
        "Range vs time around TCA, propagated with SGP4.",
    )
    limit = TRACK_RANGE_FACTOR * max(threshold or 0.0, ev.miss if np.isfinite(ev.miss) else 0.0)
    near = ap.range_km <= limit
    return [fig], (ap.rtn_km[near] if near.any() else None)


def _encounter_figure(c, i, ev: _EventRow, prefix, notes):
    """Return [encounter-plane figure] or [] (with a note) when the states are missing."""
    s1, s2, hbr = ev.s1, ev.s2, ev.hbr
    if not (np.all(np.isfinite(s1)) and np.all(np.isfinite(s2)) and np.any(s2[3:] != s1[3:])):
        notes.append("Encounter plane not drawn: TCA states are missing from the table.")
        return []
    sig1 = [c[f"SIGMA1_{a}_M"][i] for a in "RTN"]
    sig2 = [c[f"SIGMA2_{a}_M"][i] for a in "RTN"]
    cov = combined_covariance_km2(s1[:3], s1[3:], sig1, s2[:3], s2[3:], sig2)
    return [
        (
            f"{prefix}_encounter.png",
            figures.encounter_plane(
                s1[:3], s1[3:], s2[:3], s2[3:], cov_km2=cov, hbr_m=hbr if np.isfinite(hbr) else None
            ),
            f"Encounter-plane view: {ev.name2} passes {_fmt(ev.miss * 1000, ',.0f')} m from "
            f"{ev.name1}"
            + (
                ", with the combined covariance ellipses at 1, 2 and 3 sigma"
                if cov is not None
                else ", no covariance available"
            )
            + (f" and a hard-body circle of {hbr:g} m." if np.isfinite(hbr) else "."),
            "Encounter plane (perpendicular to the relative velocity).",
        )
    ]


def _rtn_figure(c, i, ev: _EventRow, prefix, track):
    """Return [RTN figure] when the table has the RTN miss components, else []."""
    rtn = np.array([c["R_KM"][i], c["T_KM"][i], c["N_KM"][i]])
    if not np.all(np.isfinite(rtn)):
        return []
    return [
        (
            f"{prefix}_rtn.png",
            figures.rtn_relative(rtn, track),
            f"Relative position of {ev.name2} in the RTN frame of {ev.name1}: "
            f"R {rtn[0]:.3f} km, T {rtn[1]:.3f} km, N {rtn[2]:.3f} km at TCA.",
            "Object 2 relative to object 1 in object 1's RTN frame.",
        )
    ]


def _event_facts(c, i, ev: _EventRow) -> list[tuple[str, str]]:
    rtn = np.array([c["R_KM"][i], c["T_KM"][i], c["N_KM"][i]])
    facts = [
        ("TCA (UTC)", str(c["TCA"][i])),
        (
            "Object 1",
            f"{ev.name1} (NORAD {ev.id1}, {c['OBJECT_TYPE_1'][i] or 'type unknown'}, "
            f"owner {c['OWNER_1'][i] or 'unknown'})",
        ),
        (
            "Object 2",
            f"{ev.name2} (NORAD {ev.id2}, {c['OBJECT_TYPE_2'][i] or 'type unknown'}, "
            f"owner {c['OWNER_2'][i] or 'unknown'})",
        ),
        ("Miss distance", _fmt(ev.miss, ".3f", " km")),
        ("Relative speed", _fmt(ev.speed, ".3f", " km/s")),
        (
            "Miss in RTN of object 1",
            "not available"
            if not np.all(np.isfinite(rtn))
            else f"R {rtn[0]:.3f} km, T {rtn[1]:.3f} km, N {rtn[2]:.3f} km",
        ),
        ("Pc", _fmt(ev.pc, ".3e") + (f" ({c['PC_METHOD'][i]})" if c["PC_METHOD"][i] else "")),
        ("Max Pc", _fmt(c["MAX_PROB"][i], ".3e")),
        ("Dilution", _fmt(c["DILUTION"][i], ".3f", " km")),
        ("Hard-body radius", _fmt(ev.hbr, "g", " m")),
        (
            "Element-set ages at TCA (days since epoch)",
            f"{_fmt(c['DSE_1'][i], '.2f', ' d')} (object 1), "
            f"{_fmt(c['DSE_2'][i], '.2f', ' d')} (object 2)",
        ),
        ("Altitude of object 1", _fmt(c["ALT_KM"][i], ".1f", " km")),
    ]
    if c["FLAGS"][i]:
        facts.append(("Flags", str(c["FLAGS"][i])))
    return facts


def _add_history_figures(results: Results, rows, events: list[EventSection], out_dir: Path):
    """Append the event-history figure (miss and Pc against time to TCA, one point per
    update: CARA's plot) to each top event that the run's history folder follows."""
    from ssa import history

    folder = (results.run.get("history") or {}).get("folder")
    if not folder or not (Path(folder) / history.HISTORY_FILE).is_file():
        return
    doc = history.load_history(folder)
    c = results.columns
    for section, i in zip(events, rows, strict=False):
        pair = (int(c["NORAD_CAT_ID_1"][i]), int(c["NORAD_CAT_ID_2"][i]))
        tca_s = (float(c["TCA_JD"][i]) + float(c["TCA_FR"][i])) * history.SECONDS_PER_DAY
        found = history.find_event(doc, pair, tca_s)
        if found is None:
            continue
        eid, event = found
        name = f"event_{section.rank:02d}_history.png"
        history.plot_event(event, out_dir / name)
        section.figures.append(
            FigureRef(
                png=(out_dir / name).read_bytes(),
                filename=name,
                alt=f"Event history of {eid}: miss distance and Pc at {len(event['points'])} "
                f"updates against time to TCA.",
                caption=f"Event history ({eid}): one point per catalogue update.",
            )
        )


def build_report(results_dir, out_dir=None, top: int = DEFAULT_TOP) -> Path:
    """Write the HTML report of a ``ssa screen`` folder and return the path of index.html.

    results_dir: folder with conjunctions.csv and run.json. out_dir: where
    index.html and the PNGs go (default ``results_dir/report``). top: number of
    events (by Pc, else by miss distance) that get their own figures.
    """
    if not isinstance(top, int) or top < 0:
        raise UserError(f"top must be a non-negative integer number of events, got {top!r}")
    results = load_results(results_dir)
    out = Path(out_dir) if out_dir is not None else Path(results_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    problems = list(results.problems)
    catalog = None
    order = rank_events(results)
    if results.n:
        catalog, cat_problems = load_catalog(results)
        problems += cat_problems
    threshold = (results.run.get("inputs") or {}).get("threshold_km")
    threshold = float(threshold) if isinstance(threshold, (int, float)) else None
    overview = _overview(results, out, catalog)
    events = [
        _event(results, int(i), k + 1, out, catalog, threshold) for k, i in enumerate(order[:top])
    ]
    _add_history_figures(results, order[:top], events, out)
    has_pc = bool(np.any(results["PC"] > 0))
    page = Page(
        title=f"Close-approach report: {results.n} conjunctions",
        run_facts=_run_facts(results, results.n),
        overview=overview,
        table=_table(results, order),
        events=events,
        problems=problems,
        ranking_note=(
            "Ranked by collision probability (Pc), highest first."
            if has_pc
            else "Ranked by miss distance, closest first (no Pc in this "
            "result). Click a column header to sort; type to filter."
        ),
    )
    index = out / INDEX_NAME
    index.write_text(render_page(page), encoding="utf-8")
    return index
