"""Where a catalogue comes from when the user does not give a file.

``resolve_catalog(specs)`` turns the catalogue arguments of ``ssa screen`` (and
any command like it) into files to load:

- files that exist are used as they are;
- a named source (``celestrak:active``, ``active``, ``spacetrack-gp``: anything
  ``ssa catalog fetch`` knows) goes through the fetch cache, so a recent copy is
  reused and offline use names the cached copy instead of failing silently;
- no argument: the newest *full-catalogue* file in the fetch cache (sources
  marked ``full = true`` in ``sources.toml``; a group such as ``active`` is not a
  catalogue to screen by default), else the snapshot that ships with the package.

The shipped snapshot is CelesTrak's on-orbit catalogue of 2024-11-01 with a
SATCAT companion (type, owner, RCS size); ``catalogs/README.md`` says where both
came from.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ssa.errors import DataNotFoundError, OfflineError

RESOURCES = "ssa.resources"
SHIPPED_CATALOG = "catalog-2024-11-01.omm.csv.gz"
SHIPPED_SATCAT = "satcat-2024-11-01.csv.gz"
# When CelesTrak produced the shipped catalogue (the day SOCRATES screened it).
SHIPPED_DATE = datetime(2024, 11, 1, tzinfo=timezone.utc)
SHIPPED_LABEL = "the shipped snapshot (CelesTrak on-orbit catalogue of 2024-11-01)"
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class CatalogInput:
    """What to load: ``paths`` (catalogue files), ``satcat`` (path or None), where they came
    from (``origin``: 'file', 'source', 'cache' or 'shipped') and a one-line ``note``
    for the user saying which catalogue it is and how old."""

    paths: tuple[Path, ...]
    satcat: Path | None
    origin: str
    note: str
    produced_utc: datetime | None = None


def _resource(name: str) -> Path:
    path = Path(str(importlib.resources.files(RESOURCES) / name))
    if not path.is_file():  # a damaged install: say what is missing
        raise DataNotFoundError(
            f"{path}: the package's shipped data is missing; reinstall ssa or pass a catalogue file"
        )
    return path


def shipped_catalog() -> Path:
    """Return the path of the shipped catalogue snapshot (gzip OMM CSV)."""
    return _resource(SHIPPED_CATALOG)


def shipped_satcat() -> Path:
    """Return the path of the shipped snapshot's SATCAT companion (gzip CSV)."""
    return _resource(SHIPPED_SATCAT)


def shipped_as_3le(path: str | Path) -> Path:
    """Write the shipped snapshot as a 3LE file (sgp4's own TLE exporter, which gives back
    the OMM's digits) for tools that read 3LE only, such as the benchmark suite."""
    from sgp4.exporter import export_tle

    from ssa.catalog import Catalog

    catalog = Catalog.load(shipped_catalog())
    path = Path(path)
    with path.open("w") as fh:
        for name, sat in zip(catalog.name.tolist(), catalog.satrecs, strict=True):
            line1, line2 = export_tle(sat)
            fh.write(f"0 {name}\n{line1}\n{line2}\n")
    return path


def age_text(produced: datetime, now: datetime | None = None) -> str:
    """Return a readable age ('3.2 h', '41 days', '2.1 years') of a UTC time."""
    now = now or datetime.now(timezone.utc)
    seconds = max((now - produced).total_seconds(), 0.0)
    days = seconds / SECONDS_PER_DAY
    if days < 2:
        return f"{seconds / 3600:.1f} h"
    if days < 730:
        return f"{days:.0f} days"
    return f"{days / 365.25:.1f} years"


def newest_full_cached(cache: str | Path | None = None, sources=None) -> tuple[Path, dict] | None:
    """Return (path, metadata) of the newest full-catalogue file in the fetch cache, or None."""
    from ssa.fetch import cache_dir, load_sources, read_meta

    sources = sources or load_sources()
    full = {s.name for s in sources.sources.values() if s.full}
    folder = Path(cache) if cache else cache_dir()
    best = None
    for source in sources.sources.values():
        if source.name not in full:
            continue
        meta = read_meta(folder / source.filename)
        if meta is not None and (best is None or meta["fetched"] > best[1]["fetched"]):
            best = (folder / source.filename, meta)
    return best


def _cached_satcat(cache, sources) -> Path | None:
    """Return the newest cached SATCAT (any source of kind 'satcat'), or None."""
    from ssa.fetch import cache_dir, read_meta

    folder = Path(cache) if cache else cache_dir()
    found = []
    for source in sources.sources.values():
        if source.kind == "satcat":
            meta = read_meta(folder / source.filename)
            if meta is not None:
                found.append((meta["fetched"], folder / source.filename))
    return max(found)[1] if found else None


def is_source_name(spec: str, sources=None) -> bool:
    """Return True when ``spec`` names a fetch source rather than a file."""
    if Path(spec).exists():
        return False
    if spec.lower().startswith("celestrak:"):
        return True
    from ssa.fetch import load_sources

    return spec in (sources or load_sources()).sources


def resolve_catalog(
    specs, satcat=None, *, cache=None, now: datetime | None = None, sources_file=None
) -> CatalogInput:
    """Return the catalogue files (and SATCAT) that ``specs`` (file paths or source names;
    empty for the default) stand for.

    Raises DataNotFoundError for a file that does not exist, UserError for an unknown
    source name, OfflineError when a named source must be downloaded and cannot be.
    """
    specs = [str(s) for s in (specs or [])]
    satcat_path = Path(satcat) if satcat else None
    if satcat_path is not None and not satcat_path.is_file():
        raise DataNotFoundError(f"SATCAT file {satcat_path} not found")
    now = now or datetime.now(timezone.utc)
    if not specs:
        from ssa.fetch import load_sources

        sources = load_sources(sources_file)
        cached = newest_full_cached(cache, sources)
        if cached is not None:
            path, meta = cached
            note = (
                f"catalogue: {path} ({meta['source']}, fetched {meta['fetched_utc']}, "
                f"{age_text(meta['fetched'], now)} old; newest full catalogue in the cache)"
            )
            return CatalogInput(
                (path,),
                satcat_path or _cached_satcat(cache, sources),
                "cache",
                note,
                meta["fetched"],
            )
        note = (
            f"catalogue: {SHIPPED_LABEL}, {age_text(SHIPPED_DATE, now)} old; pass a "
            f"file or a source such as celestrak:active for current data"
        )
        return CatalogInput(
            (shipped_catalog(),), satcat_path or shipped_satcat(), "shipped", note, SHIPPED_DATE
        )
    paths, notes, produced, origin = [], [], None, "file"
    sources = None
    for spec in specs:
        if Path(spec).is_file():
            paths.append(Path(spec))
            continue
        # Only a source name needs the fetch module (requests: ~0.1 s of start-up).
        from ssa.fetch import FetchOffline, fetch, load_sources

        sources = sources or load_sources(sources_file)
        if not is_source_name(spec, sources):
            raise DataNotFoundError(
                f"catalogue {spec!r}: no such file, and not a named source (see 'ssa catalog "
                f"fetch --list'; any CelesTrak group works as celestrak:GROUP)"
            )
        source = sources.get(spec)
        try:
            result = fetch(source, cache=cache, now=now)
        except FetchOffline as exc:
            raise OfflineError(str(exc)) from None
        meta = result.meta
        fetched = datetime.fromisoformat(meta["fetched_utc"].replace("Z", "+00:00"))
        produced = fetched if produced is None else min(produced, fetched)
        paths.append(result.path)
        origin = "source"
        notes.append(
            f"{spec} -> {result.path} (fetched {meta['fetched_utc']}, {age_text(fetched, now)} old)"
        )
    if origin == "source" and satcat_path is None:
        satcat_path = _cached_satcat(cache, sources)
    note = "catalogue: " + "; ".join(notes) if notes else ""
    return CatalogInput(tuple(paths), satcat_path, origin, note, produced)


def describe(choice: CatalogInput) -> dict:
    """Return the JSON-ready record of a choice (for run.json's inputs)."""
    return {
        "origin": choice.origin,
        "paths": [str(p) for p in choice.paths],
        "satcat": str(choice.satcat) if choice.satcat else None,
        "produced_utc": choice.produced_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        if choice.produced_utc
        else None,
    }


__all__ = [
    "CatalogInput",
    "SHIPPED_CATALOG",
    "SHIPPED_SATCAT",
    "age_text",
    "describe",
    "is_source_name",
    "newest_full_cached",
    "resolve_catalog",
    "shipped_catalog",
    "shipped_satcat",
]
