"""CelesTrak SOCRATES: its CSV layout, reading its files, and comparing a result with it.

- ``write_socrates(result, out_dir, sort)``: ``socrates.csv`` in SOCRATES' layout
  (the header below, its number formats), sorted by maxProb, minRange or timeIn
  (the ``socrates`` entry of ``ssa.screening.formats``).
- ``read_socrates(path)``: rows of a SOCRATES CSV, of our own ``conjunctions.csv`` or
  ``socrates.csv`` (same column names), or of the collected JSON rows in
  ``../shared/socrates``, as one record type.
- ``compare(ours, theirs)``: matches rows (same pair, TCA within a tolerance) and
  reports matched / only ours / only SOCRATES with the reason where it can be told,
  and the distributions of the differences (``ssa compare-socrates``).
- ``implied_radius_m`` / ``fit_radius_m``: the combined radius that reproduces a
  published MAX_PROB with our geometry (SOCRATES does not publish its radii).

SOCRATES' definitions are in ``ssa.risk.pc.max_pc_socrates``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssa.errors import InputFileError, UserError
from ssa.screening.result import SOCRATES_COLUMNS

# CelesTrak's SOCRATES CSV header: exactly our first columns (ssa.screening.result).
HEADER = list(SOCRATES_COLUMNS)
FILE_NAME = "socrates.csv"
SORTS = ("maxProb", "minRange", "timeIn")
# SOCRATES' printed precision: 3 decimals (days, km, km/s), 4 significant digits.
DECIMALS = 3
MAX_PROB_SPEC = ".3E"
# Rows of one pair whose TCAs differ by less than this are the same conjunction
# (the same element sets give ms; SOCRATES' own run may use slightly other ones).
TCA_MATCH_TOL_S = 60.0
# DSE differences above this mean the element sets differ (the shared rows reproduce
# SOCRATES' DSE to < 0.002 d; its DSE has 3 decimals).
EPOCH_MATCH_TOL_D = 0.002
# An unmatched SOCRATES row this close to its 5 km threshold may be just outside ours.
NEAR_THRESHOLD_FRACTION = 0.95
_STATUS = re.compile(r"\s*\[[^\]]*\]\s*$")  # SOCRATES' operational-status suffix


# SOCRATES' regular scope: every payload against every object, 7 days, 5 km.
SCOPE = {"primaries": ["PAYLOAD"], "days": 7.0, "threshold_km": 5.0}
# ``ssa screen``'s own defaults: a value still equal to its default was not given.
_SCREEN_DEFAULTS = {"primaries": None, "days": 7.0, "threshold_km": 5.0}


def apply_scope(args) -> None:
    """Set SOCRATES' scope on parsed ``ssa screen`` options where the user gave none."""
    for key, value in SCOPE.items():
        if getattr(args, key, None) == _SCREEN_DEFAULTS[key]:
            setattr(args, key, value)


# ----------------------------------------------------------------------- writing


def _order(rows, sort: str) -> np.ndarray:
    tca = np.asarray(rows["TCA"], dtype=object).astype(str)
    if sort == "maxProb":
        p = np.asarray(rows["MAX_PROB"], dtype=float)
        key = np.where(np.isfinite(p), -p, np.inf)
        return np.lexsort((tca, key))
    if sort == "minRange":
        return np.lexsort((tca, np.asarray(rows["TCA_RANGE"], dtype=float)))
    if sort == "timeIn":
        start = np.asarray(rows["START"], dtype=object).astype(str) if "START" in rows else tca
        start = np.where(start == "", tca, start)  # an unresolved START sorts at its TCA
        return np.lexsort((tca, start))
    raise UserError(f"--sort must be one of {', '.join(SORTS)}, got {sort!r}")


def _name(rows, k, i):
    name = str(rows[f"OBJECT_NAME_{k}"][i] or rows[f"NORAD_CAT_ID_{k}"][i])
    status = rows.get(f"OPS_STATUS_{k}") if isinstance(rows, dict) else None
    if status is not None and str(status[i] or "").strip():
        name += f" [{str(status[i]).strip()}]"
    return name


def _num(v, spec):
    v = float(v)
    return format(v, spec) if math.isfinite(v) else ""


def socrates_lines(rows, sort: str = "maxProb") -> list[list[str]]:
    """Return the header and the rows of SOCRATES' CSV for a result table (dict of columns).

    Names carry SOCRATES' operational-status bracket when the table has an
    OPS_STATUS_1/2 column (our SATCAT has none: no brackets)."""
    out = [list(HEADER)]
    for i in _order(rows, sort).tolist():
        out.append(
            [
                str(int(rows["NORAD_CAT_ID_1"][i])),
                _name(rows, 1, i),
                _num(rows["DSE_1"][i], f".{DECIMALS}f"),
                str(int(rows["NORAD_CAT_ID_2"][i])),
                _name(rows, 2, i),
                _num(rows["DSE_2"][i], f".{DECIMALS}f"),
                str(rows["TCA"][i]),
                _num(rows["TCA_RANGE"][i], f".{DECIMALS}f"),
                _num(rows["TCA_RELATIVE_SPEED"][i], f".{DECIMALS}f"),
                _num(rows["MAX_PROB"][i], MAX_PROB_SPEC),
                _num(rows["DILUTION"][i], f".{DECIMALS}f"),
            ]
        )
    return out


def write_socrates(result, out_dir, sort: str | None = None) -> Path:
    """Write ``socrates.csv`` (SOCRATES' header and number formats, RFC 4180) into out_dir.

    sort: maxProb (default), minRange or timeIn (START, the entry into the threshold
    sphere); None takes ``result.run['socrates_sort']`` if set (``ssa screen --sort``)."""
    sort = sort or result.run.get("socrates_sort") or "maxProb"
    path = Path(out_dir) / FILE_NAME
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(socrates_lines(result.rows, sort))
    return path


# ----------------------------------------------------------------------- reading


@dataclass
class SocratesRow:
    """One conjunction as SOCRATES prints it (names without the status bracket)."""

    norad_1: int
    name_1: str
    dse_1: float
    norad_2: int
    name_2: str
    dse_2: float
    tca: dt.datetime
    range_km: float
    speed_kms: float
    max_prob: float
    dilution_km: float
    object_type_1: str = ""
    object_type_2: str = ""
    flags: str = ""
    line: int = 0
    state: tuple | None = None  # (r1, v1, r2, v2) TEME km, km/s at TCA, from our own CSV

    @property
    def pair(self) -> tuple[int, int]:
        return (min(self.norad_1, self.norad_2), max(self.norad_1, self.norad_2))


def _float(text):
    text = "" if text is None else str(text).strip()
    return float(text) if text else math.nan


def _time(text, where):
    t = str(text).strip().replace("T", " ").rstrip("Z")
    try:
        v = dt.datetime.fromisoformat(t)
    except ValueError:
        raise InputFileError(
            where[0], where[1], f"TCA {text!r} is not 'YYYY-MM-DD HH:MM:SS.sss'"
        ) from None
    return v.replace(tzinfo=dt.timezone.utc)


_STATE_COLUMNS = [
    f"{p}{a}{k}_{u}" for k in "12" for p, u in (("", "KM"), ("V", "KMS")) for a in "XYZ"
]


def _state(rec):
    if not all(rec.get(c) for c in _STATE_COLUMNS):
        return None
    x = np.array([float(rec[c]) for c in _STATE_COLUMNS])
    return x[0:3], x[3:6], x[6:9], x[9:12]


def _strip(name):
    return _STATUS.sub("", str(name or "")).strip()


@dataclass
class SocratesFile:
    """Rows of one file and what the file says about itself (subset of a larger run)."""

    path: str
    rows: list
    subset_of: int | None = None  # the run's total rows when the file holds a top-N subset


def read_socrates(path) -> SocratesFile:
    """Return the rows of a SOCRATES CSV, of our conjunctions.csv / socrates.csv (or a
    screen output folder), or of the collected JSON rows ({"conjunctions": [...]}).
    Problems name the file and line."""
    p = Path(path)
    if p.is_dir():
        for name in ("conjunctions.csv", FILE_NAME):  # ours first: full precision, states
            if (p / name).exists():
                p = p / name
                break
        else:
            raise UserError(f"{path}: no {FILE_NAME} or conjunctions.csv in this folder")
    if not p.exists():
        raise UserError(f"{p}: file not found")
    text = p.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("{"):
        return _read_json(p, text)
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in HEADER if c not in (reader.fieldnames or [])]
    if missing:
        raise InputFileError(
            str(p), 1, f"not a SOCRATES or ssa CSV: missing columns {', '.join(missing)}"
        )
    rows = []
    for line, rec in enumerate(reader, 2):
        try:
            rows.append(
                SocratesRow(
                    int(rec["NORAD_CAT_ID_1"]),
                    _strip(rec["OBJECT_NAME_1"]),
                    _float(rec["DSE_1"]),
                    int(rec["NORAD_CAT_ID_2"]),
                    _strip(rec["OBJECT_NAME_2"]),
                    _float(rec["DSE_2"]),
                    _time(rec["TCA"], (str(p), line)),
                    _float(rec["TCA_RANGE"]),
                    _float(rec["TCA_RELATIVE_SPEED"]),
                    _float(rec["MAX_PROB"]),
                    _float(rec["DILUTION"]),
                    rec.get("OBJECT_TYPE_1") or "",
                    rec.get("OBJECT_TYPE_2") or "",
                    rec.get("FLAGS") or "",
                    line,
                    _state(rec),
                )
            )
        except (TypeError, ValueError) as exc:
            raise InputFileError(str(p), line, f"bad SOCRATES row: {exc}") from None
    return SocratesFile(str(p), rows)


def _read_json(p, text) -> SocratesFile:
    try:
        doc = json.loads(text)
        items = doc["conjunctions"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputFileError(
            str(p), 1, f"expected a JSON object with 'conjunctions': {exc}"
        ) from None
    rows = []
    for k, c in enumerate(items, 1):
        try:
            rows.append(
                SocratesRow(
                    int(c["obj1_norad"]),
                    _strip(c["obj1_name"]),
                    _float(c["obj1_dse"]),
                    int(c["obj2_norad"]),
                    _strip(c["obj2_name"]),
                    _float(c["obj2_dse"]),
                    _time(c["tca"], (str(p), k)),
                    _float(c["min_range_km"]),
                    _float(c["rel_speed_kms"]),
                    _float(c["max_prob"]),
                    _float(c.get("dilution_km")),
                    line=k,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFileError(str(p), k, f"conjunction {k}: {exc}") from None
    subset = doc.get("total") if doc.get("top_n") else None
    return SocratesFile(str(p), rows, int(subset) if subset else None)


# ----------------------------------------------------------------------- comparing


def _stats(values) -> dict:
    a = np.asarray([v for v in values if v is not None and math.isfinite(v)], float)
    if a.size == 0:
        return {"n": 0}
    return {
        "n": int(a.size),
        "median": float(np.median(a)),
        "p95_abs": float(np.percentile(np.abs(a), 95)),
        "max_abs": float(np.max(np.abs(a))),
    }


def _epochs(rows) -> dict:
    """NORAD id -> element-set epoch (datetime) implied by TCA - DSE of any row."""
    out = {}
    for r in rows:
        for nid, dse in ((r.norad_1, r.dse_1), (r.norad_2, r.dse_2)):
            if nid not in out and math.isfinite(dse):
                out[nid] = r.tca - dt.timedelta(days=dse)
    return out


def compare(
    ours: SocratesFile,
    theirs: SocratesFile,
    tca_tol_s: float = TCA_MATCH_TOL_S,
    fit_radius: bool = False,
) -> dict:
    """Return the comparison report (a JSON-ready dict) of our rows with SOCRATES' rows.

    Rows match when they are the same pair (either order) and their TCAs differ by at
    most tca_tol_s (nearest first). Differences are ours - theirs: TCA (ms), range (m),
    speed (m/s), DSE (d) and the MAX_PROB ratio ours / theirs."""
    by_pair: dict = {}
    for k, r in enumerate(ours.rows):
        by_pair.setdefault(r.pair, []).append(k)
    used = set()
    matched, only_theirs = [], []
    our_epochs = _epochs(ours.rows)
    their_epochs = _epochs(theirs.rows)
    t_lo = min((r.tca for r in ours.rows), default=None)
    t_hi = max((r.tca for r in ours.rows), default=None)
    for r in theirs.rows:
        cands = [k for k in by_pair.get(r.pair, []) if k not in used]
        best = min(
            cands, key=lambda k: abs((ours.rows[k].tca - r.tca).total_seconds()), default=None
        )
        if best is not None and abs((ours.rows[best].tca - r.tca).total_seconds()) <= tca_tol_s:
            used.add(best)
            o = ours.rows[best]
            same = o.norad_1 == r.norad_1
            dse_o = (o.dse_1, o.dse_2) if same else (o.dse_2, o.dse_1)
            matched.append(
                {
                    "pair": [r.norad_1, r.norad_2],
                    "names": [r.name_1, r.name_2],
                    "tca": r.tca.isoformat()[:23],
                    "socrates_line": r.line,
                    "ours_line": o.line,
                    "dt_tca_ms": (o.tca - r.tca).total_seconds() * 1e3,
                    "d_range_m": (o.range_km - r.range_km) * 1e3,
                    "d_speed_ms": (o.speed_kms - r.speed_kms) * 1e3,
                    "d_dse_d": max(abs(dse_o[0] - r.dse_1), abs(dse_o[1] - r.dse_2)),
                    "range_km": [o.range_km, r.range_km],
                    "max_prob": [o.max_prob, r.max_prob],
                    "max_prob_ratio": (o.max_prob / r.max_prob if r.max_prob > 0 else math.nan),
                }
            )
            continue
        only_theirs.append(
            {
                "pair": [r.norad_1, r.norad_2],
                "names": [r.name_1, r.name_2],
                "tca": r.tca.isoformat()[:23],
                "line": r.line,
                "reason": _why_theirs(r, our_epochs, t_lo, t_hi, by_pair, ours),
            }
        )
    only_ours = []
    for k, o in enumerate(ours.rows):
        if k in used:
            continue
        only_ours.append(
            {
                "pair": [o.norad_1, o.norad_2],
                "names": [o.name_1, o.name_2],
                "tca": o.tca.isoformat()[:23],
                "line": o.line,
                "reason": _why_ours(o, theirs, their_epochs),
            }
        )
    reasons_t: dict = {}
    for x in only_theirs:
        reasons_t[x["reason"]] = reasons_t.get(x["reason"], 0) + 1
    reasons_o: dict = {}
    for x in only_ours:
        key = x["reason"].split(" (")[0]
        reasons_o[key] = reasons_o.get(key, 0) + 1
    ratio = [m["max_prob_ratio"] for m in matched]
    fit = radius_fit(ours, theirs, matched) if fit_radius else None
    return {
        "ours": ours.path,
        "socrates": theirs.path,
        "tca_tolerance_s": tca_tol_s,
        "socrates_subset_of": theirs.subset_of,
        "counts": {
            "ours": len(ours.rows),
            "socrates": len(theirs.rows),
            "matched": len(matched),
            "only_ours": len(only_ours),
            "only_socrates": len(only_theirs),
        },
        "differences": {
            "tca_ms": _stats([m["dt_tca_ms"] for m in matched]),
            "range_m": _stats([m["d_range_m"] for m in matched]),
            "speed_m_s": _stats([m["d_speed_ms"] for m in matched]),
            "dse_d": _stats([m["d_dse_d"] for m in matched]),
            "max_prob_log10_ratio": _stats(
                [math.log10(x) for x in ratio if x > 0 and math.isfinite(x)]
            ),
        },
        "only_ours_reasons": reasons_o,
        "only_socrates_reasons": reasons_t,
        "radius_fit": fit,
        "matched": matched,
        "only_ours": only_ours,
        "only_socrates": only_theirs,
    }


def _why_theirs(r, our_epochs, t_lo, t_hi, by_pair, ours) -> str:
    missing = [n for n in (r.norad_1, r.norad_2) if n not in our_epochs]
    if t_lo is not None and not (
        t_lo - dt.timedelta(hours=1) <= r.tca <= t_hi + dt.timedelta(hours=1)
    ):
        return "outside our window"
    for nid, dse in ((r.norad_1, r.dse_1), (r.norad_2, r.dse_2)):
        if nid in our_epochs and math.isfinite(dse):
            diff_d = (our_epochs[nid] - (r.tca - dt.timedelta(days=dse))).total_seconds() / 86400
            if abs(diff_d) > EPOCH_MATCH_TOL_D:
                return (
                    f"element set of {nid} differs (ours {'newer' if diff_d > 0 else 'older'}"
                    f" by {abs(diff_d):.3f} d)"
                )
    if r.pair in by_pair:
        return "pair found at another TCA (outside the tolerance)"
    if missing:
        return f"object(s) {', '.join(map(str, missing))} in none of our rows"
    if r.range_km > NEAR_THRESHOLD_FRACTION * SCOPE["threshold_km"]:
        return "not found: range near the threshold"
    return "not found"


def _why_ours(o, theirs, their_epochs) -> str:
    kinds = {o.object_type_1.upper(), o.object_type_2.upper()} - {""}
    if kinds and "PAYLOAD" not in kinds:
        return "outside SOCRATES' scope (no payload)"
    for nid, dse in ((o.norad_1, o.dse_1), (o.norad_2, o.dse_2)):
        if nid in their_epochs and math.isfinite(dse):
            diff_d = ((o.tca - dt.timedelta(days=dse)) - their_epochs[nid]).total_seconds() / 86400
            if abs(diff_d) > EPOCH_MATCH_TOL_D:
                return (
                    f"element set of {nid} differs (ours {'newer' if diff_d > 0 else 'older'}"
                    f" by {abs(diff_d):.3f} d)"
                )
    if theirs.subset_of:
        return "not in the SOCRATES subset (top rows only)"
    if "SAME_CONSTELLATION" in o.flags:
        return "same-constellation pair"
    return "not in SOCRATES"


def format_report(rep: dict) -> str:
    """Return the comparison report as text (what ``ssa compare-socrates`` prints)."""
    c = rep["counts"]
    lines = [
        f"ours: {rep['ours']} ({c['ours']} rows)",
        f"SOCRATES: {rep['socrates']} ({c['socrates']} rows"
        + (
            f", a subset of a run of {rep['socrates_subset_of']}"
            if rep["socrates_subset_of"]
            else ""
        )
        + ")",
        f"matched {c['matched']}, only ours {c['only_ours']}, only SOCRATES "
        f"{c['only_socrates']} (same pair, TCA within {rep['tca_tolerance_s']:g} s)",
        "",
    ]
    lines.append(
        f"{'difference (ours - SOCRATES)':<32} {'n':>5} {'median':>12} {'p95 |x|':>12} "
        f"{'max |x|':>12}"
    )
    for key, label in (
        ("tca_ms", "TCA (ms)"),
        ("range_m", "range (m)"),
        ("speed_m_s", "relative speed (m/s)"),
        ("dse_d", "DSE (d)"),
        ("max_prob_log10_ratio", "log10 MAX_PROB ratio"),
    ):
        s = rep["differences"][key]
        if s["n"]:
            lines.append(
                f"{label:<32} {s['n']:>5} {s['median']:>12.4g} {s['p95_abs']:>12.4g} "
                f"{s['max_abs']:>12.4g}"
            )
        else:
            lines.append(f"{label:<32} {0:>5}")
    if rep["matched"]:
        lines += [
            "",
            f"{'pair':<14} {'TCA':<23} {'range ours/SOC km':>19} "
            f"{'MAX_PROB ours':>13} {'SOCRATES':>10} {'ratio':>7}",
        ]
        for m in rep["matched"]:
            lines.append(
                f"{m['pair'][0]:>6}-{m['pair'][1]:<7} {m['tca']:<23} "
                f"{m['range_km'][0]:>9.4f}/{m['range_km'][1]:<9.3f} "
                f"{m['max_prob'][0]:>13.4g} {m['max_prob'][1]:>10.4g} "
                f"{m['max_prob_ratio']:>7.3f}"
            )
    for title, key in (
        ("only SOCRATES", "only_socrates_reasons"),
        ("only ours", "only_ours_reasons"),
    ):
        if rep[key]:
            lines += ["", f"{title}:"] + [
                f"  {n:>6}  {why}" for why, n in sorted(rep[key].items(), key=lambda x: -x[1])
            ]
    fit = rep.get("radius_fit")
    if fit:
        lines += [
            "",
            f"one combined radius fitted on SOCRATES rows {fit['fit_rows']}: "
            f"{fit['radius_m']:.2f} m (implied radius of each row: spread "
            f"{fit['implied_spread']:.2f}x max/min over rows with MAX_PROB < 1)",
            f"{'line':>4} {'use':<5} {'range m':>8} {'AR':>5} {'implied R m':>11} "
            f"{'MAX_PROB fit':>12} {'SOCRATES':>10} {'ratio':>7}",
        ]
        for r in fit["rows"]:
            lines.append(
                f"{r['socrates_line']:>4} {r['use']:<5} {r['range_m']:>8.2f} "
                f"{r['aspect_ratio']:>5.2f} {r['implied_radius_m']:>11.2f} "
                f"{r['max_prob_fit']:>12.4g} {r['max_prob_socrates']:>10.4g} "
                f"{r['ratio']:>7.3f}"
            )
        t = fit["test"]
        lines.append(
            f"test rows: MAX_PROB ratio (fitted radius / SOCRATES) median "
            f"{t['median_ratio']:.3f}, range {t['min_ratio']:.3f} - {t['max_ratio']:.3f}"
        )
    return "\n".join(lines)


def radius_fit(ours: SocratesFile, theirs: SocratesFile, matched: list) -> dict | None:
    """Fit one combined radius on half of the matched rows (SOCRATES order: 1st, 3rd,
    ...) and predict the other half; return the per-row table and the test agreement.

    Geometry (miss and aspect ratio) is ours, exact from our TCA states; the miss is
    not SOCRATES' 1 m rounded range."""
    from ssa.risk.pc import max_pc_oriented, socrates_aspect_ratio

    ours_by_line = {r.line: r for r in ours.rows}
    table = []
    for m in sorted(matched, key=lambda m: m["socrates_line"]):
        o = ours_by_line.get(m["ours_line"])
        if o is None or o.state is None:
            continue
        r1, v1, r2, v2 = o.state
        ar = float(socrates_aspect_ratio(r1, v1, r2, v2)[0])
        d_km = float(np.linalg.norm(r2 - r1))
        table.append(
            {
                "socrates_line": m["socrates_line"],
                "pair": m["pair"],
                "range_m": d_km * 1e3,
                "aspect_ratio": ar,
                "max_prob_socrates": m["max_prob"][1],
                "implied_radius_m": implied_radius_m(d_km, ar, m["max_prob"][1]),
            }
        )
    if len(table) < 2:
        return None
    for k, r in enumerate(table):
        r["use"] = "fit" if k % 2 == 0 else "test"
    fit_rows = [r for r in table if r["use"] == "fit"]
    radius = fit_radius_m(
        [r["range_m"] * 1e-3 for r in fit_rows],
        [r["aspect_ratio"] for r in fit_rows],
        [r["max_prob_socrates"] for r in fit_rows],
    )
    pred, _ = max_pc_oriented(
        [r["range_m"] * 1e-3 for r in table],
        [r["aspect_ratio"] for r in table],
        np.full(len(table), radius),
    )
    for r, q in zip(table, pred.tolist(), strict=True):
        r["max_prob_fit"] = q
        r["ratio"] = q / r["max_prob_socrates"] if r["max_prob_socrates"] > 0 else math.nan
    test = [r["ratio"] for r in table if r["use"] == "test" and math.isfinite(r["ratio"])]
    implied = [
        r["implied_radius_m"]
        for r in table
        if math.isfinite(r["implied_radius_m"]) and r["max_prob_socrates"] < 1
    ]
    return {
        "radius_m": radius,
        "fit_rows": [r["socrates_line"] for r in fit_rows],
        "implied_spread": (max(implied) / min(implied)) if implied else math.nan,
        "rows": table,
        "test": {
            "median_ratio": float(np.median(test)) if test else math.nan,
            "min_ratio": min(test, default=math.nan),
            "max_ratio": max(test, default=math.nan),
        },
    }


# ----------------------------------------------------------------------- radius fit


def implied_radius_m(miss_km, aspect_ratio, max_prob) -> float:
    """Return the combined radius (m) whose SOCRATES maximum probability at this miss and
    aspect ratio equals max_prob (NaN if max_prob is not in (0, 1); for max_prob == 1 the
    radius is at least the miss: that lower bound is returned)."""
    from scipy.optimize import brentq

    from ssa.risk.pc import max_pc_oriented

    d_m = float(miss_km) * 1e3
    if not (0.0 < max_prob <= 1.0) or not d_m > 0:
        return math.nan
    if max_prob >= 1.0:
        return d_m

    def f(log_r):
        return math.log(
            max_pc_oriented([miss_km], [aspect_ratio], [math.exp(log_r)])[0][0]
        ) - math.log(max_prob)

    hi = math.log(d_m * (1 - 1e-9))
    if f(hi) < 0:
        return math.nan  # even a radius reaching the miss gives less: inconsistent row
    return math.exp(brentq(f, math.log(d_m) - 30.0, hi, xtol=1e-10))


def fit_radius_m(miss_km, aspect_ratio, max_prob) -> float:
    """Return the one combined radius (m) fitted to published MAX_PROB values: the median
    of the rows' implied radii (rows with 0 < max_prob < 1). The median, not a least-
    squares fit, so one row with another radius (a larger object) does not pull it."""
    implied = [
        implied_radius_m(d, a, p)
        for d, a, p in zip(
            np.asarray(miss_km, float),
            np.asarray(aspect_ratio, float),
            np.asarray(max_prob, float),
            strict=True,
        )
        if 0 < p < 1
    ]
    implied = [r for r in implied if math.isfinite(r)]
    return float(np.median(implied)) if implied else math.nan
