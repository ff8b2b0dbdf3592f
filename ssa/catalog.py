"""The in-memory catalog: one structure of arrays for every loaded object.

``Catalog.load(paths, satcat=None)`` reads TLE/3LE and CCSDS OMM files (format
by content, gzip transparent), checks every record, keeps the newest element
set per catalog number, and initialises one sgp4 ``Satrec`` per object with
WGS72 and the chosen operation mode. Bad records are skipped and reported in
``catalog.load_report`` with the damaged file line; ``strict=True`` turns the first
into an ``ssa.errors.InputFileError`` (file, line, reason; also a ValueError).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from sgp4.api import SGP4_ERRORS, WGS72, Satrec, SatrecArray
from sgp4.omm import initialize as omm_initialize

from ssa.errors import DataNotFoundError, UserError
from ssa.geometry.constants import EARTH_RADIUS_KM
from ssa.geometry.timeutil import jd_to_datetime64
from ssa.io import detect_format, read_head, read_lines, read_text
from ssa.io.omm import (
    SGP4_MAX_SATNUM,
    OmmRecord,
    check_omm,
    iter_omm_csv,
    iter_omm_json,
    iter_omm_kvn,
    iter_omm_xml,
    parse_epoch,
)
from ssa.io.problems import LoadError, Problem, RecordError, clip
from ssa.io.satcat import OBJECT_TYPES, SatcatEntry, iter_satcat, type_from_name
from ssa.io.tle import (
    TleIssue,
    TleRecord,
    check_tle,
    decode_catalog_number,
    iter_tle,
    problem_text,
)

__all__ = [
    "Catalog",
    "LoadReport",
    "Problem",
    "LoadError",
    "load_satcat",
    "EARTH_RADIUS_KM",
    "REGIMES",
]

OPSMODES = ("i", "a")
# Skipped records kept in LoadReport.problems (each <= ~500 bytes): a bound on memory
# for files of millions of bad lines; the rest are counted, not kept.
MAX_KEPT_PROBLEMS = 10_000
REGIMES = ("LEO", "MEO", "GEO", "HEO")
# Regime boundaries (a simple, stated classification, not an official one):
LEO_APOGEE_MAX_KM = 2000.0  # LEO: whole orbit below 2000 km altitude
GEO_PERIOD_MIN_MIN = 1300.0  # GEO: period within [1300, 1800] min ...
GEO_PERIOD_MAX_MIN = 1800.0
GEO_ECCENTRICITY_MAX = 0.1  # ... and nearly circular
HEO_ECCENTRICITY_MIN = 0.25  # HEO: highly eccentric (GTO, Molniya, ...)
# Julian date of the sgp4init epoch origin, 1949 December 31 0h UT.
_SGP4_EPOCH0_JD = 2433281.5
_MIN_PER_DAY = 1440.0


@dataclass
class LoadReport:
    """What a load did: ``read`` = ``loaded`` + ``skipped`` + ``duplicates_dropped``."""

    read: int = 0
    loaded: int = 0
    skipped: int = 0
    duplicates_dropped: int = 0
    problems: list = field(default_factory=list)
    files: list = field(default_factory=list)
    satcat_matched: int = 0
    satcat_missing: int = 0
    satcat_problems: list = field(default_factory=list)  # bad SATCAT rows (not counted above)
    # Memory bound: only the first MAX_KEPT_PROBLEMS problems are kept in ``problems``;
    # every skipped record is still counted, by kind and by reason (with its first place).
    problems_not_kept: int = 0
    kind_counts: dict = field(default_factory=dict)
    reason_groups: dict = field(default_factory=dict)  # reason_key -> [count, "file:line"]

    def add_problem(self, problem: Problem) -> None:
        """Count a skipped record; keep it while fewer than MAX_KEPT_PROBLEMS are kept."""
        self.read += 1
        self.skipped += 1
        self.kind_counts[problem.kind] = self.kind_counts.get(problem.kind, 0) + 1
        key = _reason_key(problem.reason)
        group = self.reason_groups.get(key)
        if group is None:
            group = self.reason_groups[key] = [0, f"{problem.file}:{problem.line}"]
        group[0] += 1
        if len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(problem)
        else:
            self.problems_not_kept += 1

    def by_kind(self) -> dict:
        """Return {problem kind: count} (kinds as in ``ssa.io.problems.KINDS``)."""
        if self.kind_counts or not self.problems:
            return dict(self.kind_counts)
        counts: dict = {}
        for p in self.problems:
            counts[p.kind] = counts.get(p.kind, 0) + 1
        return counts

    def by_reason(self) -> list[dict]:
        """Return [{'reason', 'count', 'first'}] over every skipped record, most frequent
        first (reasons without their values, as ``ssa.summary.reason_key``)."""
        if not self.reason_groups and self.problems:
            from ssa.summary import group_problems

            return group_problems(self.problems)
        groups = [{"reason": k, "count": c, "first": f} for k, (c, f) in self.reason_groups.items()]
        return sorted(groups, key=lambda g: (-g["count"], g["reason"]))


_REASON_KEYS: dict = {}  # reason -> ssa.summary.reason_key(reason), bounded memo


def _reason_key(reason: str) -> str:
    key = _REASON_KEYS.get(reason)
    if key is None:
        from ssa.summary import reason_key  # (ssa.summary imports this module)

        key = reason_key(reason)
        if len(_REASON_KEYS) < 4096:
            _REASON_KEYS[reason] = key
    return key


def _intl_des(field_text: str) -> str:
    """Return ``YYYY-NNNP`` from a TLE designator ``YYNNNP`` ('' when blank)."""
    text = field_text.strip()
    if len(text) < 5 or not text[:2].isdigit():
        return text
    year = int(text[:2])
    year += 1900 if year >= 57 else 2000
    return f"{year}-{text[2:]}"


def _set_opsmode(sat: Satrec, opsmode: str) -> None:
    """Re-run sgp4's own ``sgp4init`` with ``opsmode`` ('a') on an initialised Satrec;
    ``Satrec.twoline2rv`` and ``sgp4.omm.initialize`` always initialise with 'i'.

    Measured with sgp4 2.27 (C++ core): 'a' and 'i' give the same Greenwich sidereal
    time at epoch; the modes differ in the deep-space Lyddane branch (``dpper``, node
    < 0, inclination < 0.2 rad), by up to 17 km within 3 days for a handful of
    low-inclination deep-space objects of the 2024-07-05 snapshot (tests/test_catalog.py)."""
    epoch = (sat.jdsatepoch - _SGP4_EPOCH0_JD) + sat.jdsatepochF
    sat.sgp4init(
        WGS72,
        opsmode,
        sat.satnum,
        epoch,
        sat.bstar,
        sat.ndot,
        sat.nddot,
        sat.ecco,
        sat.argpo,
        sat.inclo,
        sat.mo,
        sat.no_kozai,
        sat.nodeo,
    )


def _sgp4_error(sat: Satrec) -> str | None:
    """Return why sgp4 could not initialise ``sat`` (its error code and meaning), or None."""
    if sat.error:
        return (
            f"sgp4 initialisation failed with error {sat.error} "
            f"({SGP4_ERRORS.get(sat.error, 'unknown error')})"
        )
    # An element set SGP4 accepts but turns into NaN at its own epoch (odd fields found
    # by fuzzing) would reach the screening as a silent hole: refuse it here. SGP4
    # error codes at the epoch stay data (the screening drops such objects with a reason).
    e, r, v = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF)
    if e == 0 and not all(math.isfinite(x) for x in (*r, *v)):
        return "SGP4 gives a non-finite state at the element set's own epoch"
    if not (sat.no_kozai > 0.0 and 0.0 <= sat.ecco < 1.0):  # guarded earlier; belt and braces
        return (
            f"impossible elements: eccentricity {sat.ecco:g} must be in [0, 1) and "
            f"mean motion {sat.no_kozai * _MIN_PER_DAY / (2 * math.pi):g} rev/day > 0"
        )
    return None


class _Builder:
    """Collects records and problems of one load, then makes the Catalog."""

    def __init__(self, opsmode: str, strict: bool):
        if opsmode not in OPSMODES:
            raise UserError(f"opsmode must be 'i' (improved) or 'a' (AFSPC), got {opsmode!r}")
        self.opsmode = opsmode
        self.strict = strict
        self.report = LoadReport()
        # Newest element set per catalog number so far (the later record on ties), kept
        # as records arrive: memory follows distinct objects, not records read.
        self.best: dict = {}  # norad_id -> (order, (norad_id, name, intl_des, satrec, source))
        self.valid = 0  # records that passed every check

    def keep(self, row) -> None:
        self.report.read += 1
        self.valid += 1
        old = self.best.get(row[0])
        if old is not None:
            sat, prev = row[3], old[1][3]
            if (sat.jdsatepoch - prev.jdsatepoch) + (sat.jdsatepochF - prev.jdsatepochF) < 0.0:
                return
        self.best[row[0]] = (self.valid, row)

    def problem(self, problem: Problem) -> None:
        self.report.add_problem(problem)
        if self.strict:
            raise RecordError(
                problem,
                "\n(strict mode stops at the first bad record; "
                "without strict it is skipped and reported)",
            )

    def add_tle(self, record: TleRecord, source: str) -> None:
        issue = check_tle(record)
        if issue is None:
            sat = Satrec.twoline2rv(record.line1, record.line2, WGS72)
            if self.opsmode != "i":
                _set_opsmode(sat, self.opsmode)
            error = _sgp4_error(sat)
            if error:
                issue = TleIssue("sgp4", error)
        if issue is not None:
            self.problem(
                Problem(
                    source,
                    record.line_of(issue),
                    issue.reason,
                    problem_text(record, issue),
                    issue.kind,
                )
            )
            return
        self.keep(
            (
                decode_catalog_number(record.line1[2:7]),
                record.name,
                _intl_des(record.line1[9:17]),
                sat,
                f"{source}:{record.line}",
            )
        )

    def add_omm(self, record: OmmRecord, source: str) -> None:
        kind, reason, fields = check_omm(record.fields)
        if reason is None:
            norad = int(fields["NORAD_CAT_ID"])
            sat = Satrec()
            # sgp4 cannot carry numbers above Alpha-5's range; SGP4 never uses satnum.
            init_fields = fields if norad <= SGP4_MAX_SATNUM else {**fields, "NORAD_CAT_ID": "0"}
            init_fields = {**init_fields, "EPOCH": _epoch_for_sgp4(fields["EPOCH"])}
            try:
                omm_initialize(sat, init_fields, WGS72)
            except (ValueError, KeyError, TypeError, OverflowError) as exc:
                kind, reason = "sgp4", f"sgp4 could not initialise the OMM: {exc}"
            else:
                if self.opsmode != "i":
                    _set_opsmode(sat, self.opsmode)
                kind, reason = "sgp4", _sgp4_error(sat)
        if reason is not None:
            text = ", ".join(f"{k}={v}" for k, v in record.fields.items())
            self.problem(Problem(source, record.line, reason, clip(text), kind))
            return
        self.keep(
            (
                norad,
                fields.get("OBJECT_NAME", "").strip(),
                fields.get("OBJECT_ID", "").strip(),
                sat,
                f"{source}:{record.line}",
            )
        )

    def feed(self, items, source: str, kind: str) -> None:
        add = self.add_tle if kind == "tle" else self.add_omm
        for item in items:
            if isinstance(item, Problem):
                self.problem(item)
            else:
                add(item, source)

    def fail_empty(self, what: str, skipped: int | None = None) -> None:
        """Raise the error for input without a single valid element set (skipped: how
        many records of it were skipped; default all of this load's)."""
        mine = [p for p in self.report.problems if p.file == what] or self.report.problems
        skipped = self.report.skipped if skipped is None else skipped
        first = f"; first problem: {mine[0]}" if mine else ""
        raise LoadError(f"no valid element sets in {what} ({skipped} records skipped){first}", mine)

    def finish(self, what: str) -> Catalog:
        if not self.valid:
            self.fail_empty(what)
        # Objects in the order their kept (newest) record was read.
        rows = [row for _, row in sorted(self.best.values(), key=lambda x: x[0])]
        self.report.duplicates_dropped = self.valid - len(rows)
        self.report.loaded = len(rows)
        return Catalog._from_rows(rows, self.opsmode, self.report)


def _require_file(path) -> Path:
    """Return path; a missing input file is a DataNotFoundError naming it."""
    if not Path(path).is_file():
        raise DataNotFoundError(f"{path}: no such file")
    return Path(path)


def _epoch_for_sgp4(text: str) -> str:
    """Return an OMM epoch in the one form ``sgp4.omm.initialize`` parses."""
    return parse_epoch(text).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _iter_file(path, fmt: str, source: str):
    """Return (records and problems of path, 'tle' or 'omm'): line formats stream, JSON
    and XML are parsed whole (ssa.io.MAX_WHOLE_FILE_BYTES)."""
    if fmt == "tle":
        return iter_tle(read_lines(path), source), "tle"
    if fmt == "omm-csv":
        return iter_omm_csv(read_lines(path), source), "omm"
    if fmt == "omm-json":
        return iter_omm_json(read_text(path), source), "omm"
    if fmt == "omm-xml":
        return iter_omm_xml(read_text(path), source), "omm"
    if fmt == "omm-kvn":
        return iter_omm_kvn(read_lines(path), source), "omm"
    if fmt == "satcat-csv":
        raise LoadError(
            f"{source} looks like a SATCAT, not element sets; "
            f"pass it as satcat=... (CLI: --satcat {source})"
        )
    raise LoadError(
        f"{source}: CSV without OMM columns (MEAN_MOTION, EPOCH, ...); "
        f"expected TLE/3LE or CCSDS OMM (CSV, JSON, XML, KVN)"
    )


def load_satcat(path, strict: bool = False) -> tuple[dict, list]:
    """Return ({norad_id: SatcatEntry}, problems) from a SATCAT CSV file (gzip transparent)."""
    source = str(path)
    entries: dict = {}
    problems: list = []
    not_kept = 0
    for item in iter_satcat(read_lines(_require_file(path)), source):
        if isinstance(item, Problem):
            if strict:
                raise RecordError(item)
            if len(problems) < MAX_KEPT_PROBLEMS:  # memory bound, as LoadReport
                problems.append(item)
            else:
                not_kept += 1
        else:
            entries[item.norad_id] = item
    if not_kept:
        problems.append(
            Problem(
                source,
                0,
                f"{not_kept} more bad SATCAT rows, not listed "
                f"(only the first {MAX_KEPT_PROBLEMS} are kept)",
            )
        )
    if not entries:
        first = f"; first problem: {problems[0]}" if problems else ""
        raise LoadError(f"no SATCAT entries in {source}{first}", problems)
    return entries, problems


_ARRAYS = (
    "norad_id",
    "name",
    "intl_des",
    "epoch_jd",
    "epoch_fr",
    "object_type",
    "owner",
    "rcs_size",
    "mean_motion_rad_min",
    "eccentricity",
    "inclination_rad",
    "raan_rad",
    "argp_rad",
    "mean_anomaly_rad",
    "bstar",
    "source",
    "semi_major_axis_km",
)


class Catalog:
    """Structure of arrays, one entry per object (see docs/DESIGN.md for every attribute)."""

    def __init__(
        self,
        *,
        satrecs,
        norad_id,
        name,
        intl_des,
        object_type,
        owner,
        rcs_size,
        source,
        opsmode="i",
        type_source="name",
        load_report=None,
    ):
        n = len(satrecs)
        self.satrecs = list(satrecs)
        self.norad_id = np.asarray(norad_id, dtype=np.int64)
        self.name = np.asarray(name, dtype=object)
        self.intl_des = np.asarray(intl_des, dtype=object)
        self.object_type = np.asarray(object_type, dtype=object)
        self.owner = np.asarray(owner, dtype=object)
        self.rcs_size = np.asarray(rcs_size, dtype=object)
        self.source = np.asarray(source, dtype=object)
        for attr in ("norad_id", "name", "intl_des", "object_type", "owner", "rcs_size", "source"):
            if len(getattr(self, attr)) != n:
                raise ValueError(
                    f"{attr} has {len(getattr(self, attr))} entries, expected {n} (one per satrec)"
                )
        get = np.fromiter
        s = self.satrecs
        self.epoch_jd = get((x.jdsatepoch for x in s), np.float64, n)
        self.epoch_fr = get((x.jdsatepochF for x in s), np.float64, n)
        self.mean_motion_rad_min = get((x.no_kozai for x in s), np.float64, n)
        self.eccentricity = get((x.ecco for x in s), np.float64, n)
        self.inclination_rad = get((x.inclo for x in s), np.float64, n)
        self.raan_rad = get((x.nodeo for x in s), np.float64, n)
        self.argp_rad = get((x.argpo for x in s), np.float64, n)
        self.mean_anomaly_rad = get((x.mo for x in s), np.float64, n)
        self.bstar = get((x.bstar for x in s), np.float64, n)
        # sgp4init's semi-major axis (Earth radii, from the un-Kozai'd mean motion).
        self.semi_major_axis_km = get((x.a for x in s), np.float64, n) * EARTH_RADIUS_KM
        self.opsmode = opsmode
        self.type_source = type_source
        self.load_report = load_report if load_report is not None else LoadReport(read=n, loaded=n)

    # --- constructors -------------------------------------------------------
    @classmethod
    def _from_rows(cls, rows, opsmode, report) -> Catalog:
        names = [r[1] for r in rows]
        return cls(
            satrecs=[r[3] for r in rows],
            norad_id=[r[0] for r in rows],
            name=names,
            intl_des=[r[2] for r in rows],
            object_type=[type_from_name(x) for x in names],
            owner=[""] * len(rows),
            rcs_size=[""] * len(rows),
            source=[r[4] for r in rows],
            opsmode=opsmode,
            type_source="name",
            load_report=report,
        )

    @classmethod
    def load(cls, paths, satcat=None, strict: bool = False, opsmode: str = "i") -> Catalog:
        """Return the catalog of one or more TLE/3LE/OMM files (format by content, gzip
        transparent), joined with ``satcat`` (path or {norad_id: SatcatEntry}) if given.

        Raises ValueError (LoadError) when no record is valid, or at the first bad record
        when ``strict``; otherwise bad records are skipped and listed in ``load_report``.
        """
        if isinstance(paths, (str, Path)):
            paths = [paths]
        paths = [Path(p) for p in paths]
        if not paths:
            raise UserError("Catalog.load needs at least one file path")
        builder = _Builder(opsmode, strict)
        for path in paths:
            items, kind = _iter_file(path, detect_format(read_head(_require_file(path))), str(path))
            before, skipped = builder.valid, builder.report.skipped
            builder.feed(items, str(path), kind)
            builder.report.files.append(str(path))
            if builder.valid == before:  # each file must hold something usable
                builder.fail_empty(str(path), builder.report.skipped - skipped)
        catalog = builder.finish(", ".join(str(p) for p in paths))
        if satcat is not None:
            catalog = catalog.with_satcat(satcat, strict=strict)
        return catalog

    @classmethod
    def from_tle(
        cls, lines: Iterable[str], source: str = "<lines>", strict: bool = False, opsmode: str = "i"
    ) -> Catalog:
        """Return the catalog of TLE/3LE text lines (names from 3LE name lines); a single
        string is split into lines."""
        if isinstance(lines, str):
            lines = lines.splitlines()
        builder = _Builder(opsmode, strict)
        builder.feed(iter_tle(lines, source), source, "tle")
        return builder.finish(source)

    @classmethod
    def from_omm(
        cls, records: Iterable, source: str = "<omm>", strict: bool = False, opsmode: str = "i"
    ) -> Catalog:
        """Return the catalog of OMM records: dicts keyed by OMM keywords (values str or
        numbers) or ``OmmRecord``s."""
        builder = _Builder(opsmode, strict)
        items = (
            r
            if isinstance(r, (OmmRecord, Problem))
            else OmmRecord({str(k).upper(): ("" if v is None else str(v)) for k, v in r.items()}, i)
            for i, r in enumerate(records, 1)
        )
        builder.feed(items, source, "omm")
        return builder.finish(source)

    def with_satcat(self, satcat, strict: bool = False) -> Catalog:
        """Return a copy whose object_type / owner / rcs_size come from ``satcat`` (a path or
        {norad_id: SatcatEntry}); objects missing from it get UNKNOWN / '' / ''."""
        problems: list = []
        if not isinstance(satcat, dict):
            satcat, problems = load_satcat(satcat, strict=strict)
        n = len(self)
        types = np.full(n, "UNKNOWN", dtype=object)
        owners = np.full(n, "", dtype=object)
        sizes = np.full(n, "", dtype=object)
        matched = 0
        for i, norad in enumerate(self.norad_id.tolist()):
            entry: SatcatEntry | None = satcat.get(norad)
            if entry is not None:
                types[i], owners[i], sizes[i] = entry.object_type, entry.owner, entry.rcs_size
                matched += 1
        out = self.subset(np.arange(n))
        out.object_type, out.owner, out.rcs_size = types, owners, sizes
        out.type_source = "satcat"
        out.load_report.satcat_matched = matched
        out.load_report.satcat_missing = n - matched
        out.load_report.satcat_problems = problems
        return out

    # --- views ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.satrecs)

    def __repr__(self) -> str:
        return (
            f"<Catalog {len(self)} objects, opsmode={self.opsmode!r}, "
            f"types from {self.type_source}>"
        )

    def subset(self, index_or_mask) -> Catalog:
        """Return a new Catalog of the selected entries (boolean mask or integer indices)."""
        index = np.asarray(index_or_mask)
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise ValueError(f"mask has shape {index.shape}, expected ({len(self)},)")
            index = np.flatnonzero(index)
        index = index.astype(np.int64, copy=False)
        out = object.__new__(Catalog)
        for attr in _ARRAYS:
            setattr(out, attr, getattr(self, attr)[index])
        out.satrecs = [self.satrecs[i] for i in index.tolist()]
        out.opsmode = self.opsmode
        out.type_source = self.type_source
        rep = self.load_report
        out.load_report = replace(
            rep,
            problems=list(rep.problems),
            files=list(rep.files),
            satcat_problems=list(rep.satcat_problems),
        )
        return out

    def select(self, ids=None, types=None, owners=None, regimes=None) -> Catalog:
        """Return the entries matching all given filters (each a value or a collection)."""
        mask = np.ones(len(self), dtype=bool)

        def values(x):
            return [x] if isinstance(x, (str, int, np.integer)) else list(x)

        if ids is not None:
            mask &= np.isin(self.norad_id, np.asarray(values(ids), dtype=np.int64))
        if types is not None:
            wanted = {str(t).upper() for t in values(types)}
            unknown = wanted - set(OBJECT_TYPES)
            if unknown:
                raise UserError(
                    f"unknown object type(s) {sorted(unknown)}; expected some of {OBJECT_TYPES}"
                )
            mask &= np.isin(self.object_type, list(wanted))
        if owners is not None:
            mask &= np.isin(self.owner, [str(o) for o in values(owners)])
        if regimes is not None:
            wanted = {str(r).upper() for r in values(regimes)}
            unknown = wanted - set(REGIMES)
            if unknown:
                raise UserError(f"unknown regime(s) {sorted(unknown)}; expected some of {REGIMES}")
            mask &= np.isin(self.regime, list(wanted))
        return self.subset(mask)

    def to_pandas(self):
        """Return a ``pandas.DataFrame`` with one row per object: every array attribute
        (ids, names, types, owners, RCS sizes, mean elements in rad and rad/min, epochs as
        two-part JD), plus ``epoch_utc`` (datetime64, UTC), ``perigee_km``, ``apogee_km``,
        ``period_min`` and ``regime`` (needs pandas: pip install 'ssa[data]')."""
        try:
            import pandas as pd
        except ImportError:
            from ssa.errors import UserError

            raise UserError(
                "Catalog.to_pandas needs pandas, which is not installed: "
                "pip install 'ssa[data]' (or pip install pandas)"
            ) from None
        columns = {name: getattr(self, name) for name in _ARRAYS}
        columns["epoch_utc"] = jd_to_datetime64(self.epoch_jd, self.epoch_fr)
        for name in ("perigee_km", "apogee_km", "period_min", "regime"):
            columns[name] = getattr(self, name)
        return pd.DataFrame(columns)

    def satrec_array(self) -> SatrecArray:
        """Return sgp4's vectorised ``SatrecArray`` over all objects, in catalog order."""
        return SatrecArray(self.satrecs)

    @property
    def perigee_km(self) -> np.ndarray:
        """Perigee altitude above a 6378.135 km Earth (km), from SGP4's mean elements."""
        return self.semi_major_axis_km * (1.0 - self.eccentricity) - EARTH_RADIUS_KM

    @property
    def apogee_km(self) -> np.ndarray:
        """Apogee altitude above a 6378.135 km Earth (km)."""
        return self.semi_major_axis_km * (1.0 + self.eccentricity) - EARTH_RADIUS_KM

    @property
    def period_min(self) -> np.ndarray:
        """Orbital period (minutes) from the element-set mean motion."""
        return 2.0 * math.pi / self.mean_motion_rad_min

    @property
    def regime(self) -> np.ndarray:
        """Orbit regime per object: LEO (apogee < 2000 km), GEO (period 1300-1800 min and
        e < 0.1), HEO (e >= 0.25), otherwise MEO."""
        out = np.full(len(self), "MEO", dtype=object)
        period = self.period_min
        e = self.eccentricity
        out[e >= HEO_ECCENTRICITY_MIN] = "HEO"
        out[
            (period >= GEO_PERIOD_MIN_MIN)
            & (period <= GEO_PERIOD_MAX_MIN)
            & (e < GEO_ECCENTRICITY_MAX)
        ] = "GEO"
        out[self.apogee_km < LEO_APOGEE_MAX_KM] = "LEO"
        return out

    def age_days(self, jd, fr=0.0) -> np.ndarray:
        """Element-set age (days) at the two-part Julian date ``jd + fr`` (UTC)."""
        return (jd - self.epoch_jd) + (fr - self.epoch_fr)

    def epoch_median(self) -> tuple[float, float]:
        """Return the median element-set epoch as a two-part Julian date (jd, fr)."""
        if not len(self):
            raise ValueError("epoch_median of an empty catalog")
        jd0 = float(np.min(self.epoch_jd))
        median = float(np.median((self.epoch_jd - jd0) + self.epoch_fr))
        whole = math.floor(median)
        return jd0 + whole, median - whole
