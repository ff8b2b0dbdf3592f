"""Download public catalogs (CelesTrak, Space-Track) into a timestamped cache.

Named sources live in ``ssa/resources/sources.toml`` (package data, read with
``importlib.resources`` so an installed wheel has them too). Every download goes to a
temporary file, is checked (byte count against ``Content-Length``, then parsed
with the catalog readers) and only then renamed into the cache, with a
``<file>.meta.json`` beside it that records when and from where it came. The
providers' request limits are kept from that timestamp: a source younger than
its ``min_refresh_hours`` is never downloaded again, not even with ``force``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.resources
import io
import json
import netrc
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import requests

import ssa
from ssa.errors import DataNotFoundError, OfflineError, UserError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

REPO_CATALOGS = Path(__file__).resolve().parent.parent / "catalogs"
# Package data: found the same way in a checkout, an editable and a wheel install.
SOURCES_RESOURCE = ("ssa.resources", "sources.toml")
CACHE_ENV = "SSA_CACHE"
SPACETRACK_USER_ENV = "SPACETRACK_USER"
SPACETRACK_PASSWORD_ENV = "SPACETRACK_PASSWORD"
META_SUFFIX = ".meta.json"
REFUSED_SUFFIX = ".refused.json"
# Replies that mean "you are asking too often": CelesTrak blocks IPs that keep
# asking after them, so no request for the source is sent again until its
# minimum interval has passed since the refusal.
REFUSAL_STATUSES = (403, 429)

CONNECT_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 180.0  # the full Space-Track GP reply is ~20 MB
CHUNK_BYTES = 1 << 16
SECONDS_PER_HOUR = 3600.0
ERROR_BODY_CHARS = 300  # how much of a provider's error page to quote

EXTENSIONS = {"omm-json": ".json", "omm-csv": ".csv", "satcat-csv": ".csv", "tle": ".tle"}
KINDS = ("gp", "satcat")


class FetchError(UserError):
    """A download failed or was refused; the message names the URL and what to do."""


class FetchOffline(FetchError, OfflineError):
    """The provider could not be reached (DNS, refused connection, timeout)."""


class ProviderRefused(FetchError):
    """The provider answered 403/429: it refuses this client for now (rate limit)."""

    def __init__(self, message: str, status: int, text: str):
        super().__init__(message)
        self.status = status
        self.text = text


@dataclass(frozen=True)
class Provider:
    """A data provider: base URL (``env`` overrides it) and its request limit."""

    name: str
    base_url: str
    env: str = ""
    min_refresh_hours: float = 2.0
    login_path: str = ""
    logout_path: str = ""
    netrc_hosts: tuple[str, ...] = ()

    def base(self) -> str:
        """Return the base URL in use: ``$env`` when set, else ``base_url``."""
        value = os.environ.get(self.env, "") if self.env else ""
        return (value or self.base_url).rstrip("/")


@dataclass(frozen=True)
class Source:
    """One named download: ``provider``, URL ``path``, reply ``format`` and cache rules."""

    name: str
    provider: Provider
    path: str
    format: str
    kind: str = "gp"
    max_age_hours: float = 8.0
    min_refresh_hours: float = 0.0  # 0: the provider's limit
    description: str = ""
    full: bool = False  # the whole on-orbit catalogue (not a group such as 'active')

    @property
    def url(self) -> str:
        """Return the full URL (provider base URL + path)."""
        return self.provider.base() + self.path

    @property
    def filename(self) -> str:
        """Return the cache file name, e.g. ``active.json``."""
        return self.name + EXTENSIONS[self.format]

    @property
    def refresh_limit_hours(self) -> float:
        """Return the shortest allowed interval between downloads (the stricter limit)."""
        return max(self.min_refresh_hours, self.provider.min_refresh_hours)


@dataclass
class Sources:
    """The contents of a sources file: ``sources`` by name and the ``default`` name."""

    sources: dict[str, Source]
    default: str
    providers: dict[str, Provider] = field(default_factory=dict)
    path: Path | None = None

    def get(self, name: str | None) -> Source:
        """Return the source ``name`` (default when None); ``celestrak:GROUP`` builds a GP query."""
        name = name or self.default
        if name in self.sources:
            return self.sources[name]
        if name.lower().startswith("celestrak:") and "celestrak" in self.providers:
            group, _, encoding = name.split(":", 1)[1].strip().partition(":")
            encoding = encoding.lower() or "json"
            if (
                not group
                or not all(c.isalnum() or c in "-_" for c in group)
                or (encoding not in ("json", "csv"))
            ):
                raise UserError(
                    f"expected celestrak:GROUP or celestrak:GROUP:csv with a group "
                    f"name like 'starlink', got {name!r}"
                )
            suffix = "" if encoding == "json" else "-csv"
            return Source(
                name=f"celestrak-{group.lower()}{suffix}",
                provider=self.providers["celestrak"],
                path=f"/NORAD/elements/gp.php?GROUP={group}&FORMAT={encoding}",
                format=f"omm-{encoding}",
                kind="gp",
                max_age_hours=8.0,
                description=f"CelesTrak GP group {group}, OMM {encoding.upper()}",
            )
        known = ", ".join(sorted(self.sources))
        raise UserError(
            f"unknown catalog source {name!r}; known sources: {known} "
            f"(or celestrak:GROUP[:csv] for any CelesTrak GP group)"
        )


def load_sources(path: str | os.PathLike | None = None) -> Sources:
    """Return the sources defined in ``path`` (default: the package's ``sources.toml``)."""
    if path:
        path = Path(path)
        if not path.exists():
            raise DataNotFoundError(f"catalog source list {path} not found")
        raw = path.read_bytes()
    else:
        resource = importlib.resources.files(SOURCES_RESOURCE[0]) / SOURCES_RESOURCE[1]
        path = Path(str(resource))
        raw = resource.read_bytes()
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    providers = {}
    for name, entry in doc.get("providers", {}).items():
        providers[name] = Provider(
            name=name,
            base_url=entry["base_url"],
            env=entry.get("env", ""),
            min_refresh_hours=float(entry.get("min_refresh_hours", 2.0)),
            login_path=entry.get("login_path", ""),
            logout_path=entry.get("logout_path", ""),
            netrc_hosts=tuple(entry.get("netrc_hosts", ())),
        )
    sources = {}
    for name, entry in doc.get("sources", {}).items():
        where = f"{path}: [sources.{name}]"
        if entry.get("provider") not in providers:
            raise UserError(
                f"{where}: provider {entry.get('provider')!r} is not one of {sorted(providers)}"
            )
        if entry.get("format") not in EXTENSIONS:
            raise UserError(
                f"{where}: format {entry.get('format')!r} is not one of {sorted(EXTENSIONS)}"
            )
        if entry.get("kind", "gp") not in KINDS:
            raise UserError(f"{where}: kind {entry.get('kind')!r} is not one of {KINDS}")
        sources[name] = Source(
            name=name,
            provider=providers[entry["provider"]],
            path=entry["path"],
            format=entry["format"],
            kind=entry.get("kind", "gp"),
            max_age_hours=float(entry.get("max_age_hours", 8.0)),
            min_refresh_hours=float(entry.get("min_refresh_hours", 0.0)),
            description=entry.get("description", ""),
            full=bool(entry.get("full", False)),
        )
    default = doc.get("default", next(iter(sources), ""))
    return Sources(sources=sources, default=default, providers=providers, path=path)


def cache_dir() -> Path:
    """Return the cache folder: ``$SSA_CACHE``, else the repository's ``catalogs/cache``,
    else ``~/.cache/ssa`` (installed without the repository)."""
    value = os.environ.get(CACHE_ENV)
    if value:
        return Path(value).expanduser().resolve()
    if REPO_CATALOGS.is_dir():
        return REPO_CATALOGS / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ssa"


def meta_path(path: str | os.PathLike) -> Path:
    """Return the metadata file that sits next to a downloaded file."""
    return Path(str(path) + META_SUFFIX)


def read_meta(path: str | os.PathLike) -> dict | None:
    """Return the metadata of a downloaded file, or None if the file or its metadata is missing."""
    path = Path(path)
    mpath = meta_path(path)
    if not path.exists() or not mpath.exists():
        return None
    try:
        meta = json.loads(mpath.read_text())
        meta["fetched"] = _parse_utc(meta["fetched_utc"])
    except (ValueError, KeyError, TypeError):
        return None  # unreadable metadata: the copy's age is unknown, so it is not trusted
    return meta


@dataclass
class FetchResult:
    """What ``fetch`` did: the file ``path``, its ``meta``, whether it ``downloaded``, a ``message``."""

    source: Source
    path: Path
    meta: dict
    downloaded: bool
    message: str
    age_s: float = 0.0


def fetch(
    source: Source,
    *,
    force: bool = False,
    out: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    now: datetime | None = None,
    session: requests.Session | None = None,
) -> FetchResult:
    """Return the cached or freshly downloaded copy of ``source``.

    A cached copy younger than ``source.max_age_hours`` is reused; ``force``
    downloads anyway, but never sooner than ``source.refresh_limit_hours``
    after the last download (the provider's limit). ``out`` also copies the
    file (and its metadata) there. ``now`` (aware UTC) is for tests.
    Raises FetchError when the download fails or the reply does not parse.
    """
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError(
            "now must be a timezone-aware UTC datetime, e.g. datetime.now(timezone.utc)"
        )
    folder = Path(cache) if cache else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.filename
    cached = _cached_copy(source, target, now, force)
    if cached is not None:
        meta, age_s, message = cached
        path = _copy_out(target, out) if out else target
        return FetchResult(source, path, _public(meta), False, message, age_s)
    _check_refusal(source, target, now)

    own_session = session is None
    session = session or requests.Session()
    if own_session:
        session.headers["User-Agent"] = f"ssa/{ssa.__version__} (catalog fetch)"
    logged_in = False
    try:
        if source.provider.login_path:
            _login(session, source.provider)
            logged_in = True
        tmp_path, response_info = _download_to_temp(session, source, folder, target)
    except ProviderRefused as exc:
        _write_json_atomic(
            _refusal_path(target),
            {
                "refused_utc": _format_utc(now),
                "status": exc.status,
                "text": exc.text,
                "url": source.url,
            },
        )
        raise
    finally:
        if logged_in and source.provider.logout_path:
            _logout(session, source.provider)
        if own_session:
            session.close()

    try:
        checked = validate_file(tmp_path, source.format, label=source.url)
    except BaseException:
        tmp_path.unlink(missing_ok=True)  # never leave a partial or unchecked file behind
        raise
    new_meta = {
        "source": source.name,
        "provider": source.provider.name,
        "url": source.url,
        "format": source.format,
        "kind": source.kind,
        "fetched_utc": _format_utc(now),
        "min_refresh_hours": source.refresh_limit_hours,
        "ssa_version": ssa.__version__,
        **response_info,
        **checked,
    }
    os.replace(tmp_path, target)
    _write_json_atomic(meta_path(target), new_meta)
    _refusal_path(target).unlink(missing_ok=True)
    message = (
        f"{source.name}: downloaded {new_meta['records']:,} records "
        f"({new_meta['bytes']:,} bytes) from {source.url}"
    )
    if new_meta.get("skipped"):
        message += f"; {new_meta['skipped']} records did not parse (see {meta_path(target).name})"
    path = _copy_out(target, out) if out else target
    return FetchResult(source, path, new_meta, True, message, 0.0)


def _cached_copy(
    source: Source, target: Path, now: datetime, force: bool
) -> tuple[dict, float, str] | None:
    """Return (meta, age_s, message) when the cached copy must be used instead of a download.

    Raises FetchError for a copy without metadata that is younger than the
    provider's limit (its mtime counts), since nothing may be downloaded then.
    """
    limit_s = source.refresh_limit_hours * SECONDS_PER_HOUR
    meta = read_meta(target)
    if meta is None:
        if target.exists():
            mtime = datetime.fromtimestamp(target.stat().st_mtime, timezone.utc)
            age_s = (now - mtime).total_seconds()
            if 0.0 <= age_s < limit_s:
                raise FetchError(
                    f"{source.name}: {target} has no metadata ({meta_path(target).name}) but was "
                    f"written {_format_age(age_s)} ago; {source.provider.name} allows one "
                    f"download every {source.refresh_limit_hours:g} h. Use that file, or try "
                    f"again after {_format_utc(mtime + timedelta(seconds=limit_s))}"
                )
        return None
    age_s = max((now - meta["fetched"]).total_seconds(), 0.0)  # clock skew: treat as new
    fetched = _format_utc(meta["fetched"])
    if age_s < limit_s:
        next_at = _format_utc(meta["fetched"] + timedelta(seconds=limit_s))
        message = (
            f"{source.name}: using the cached copy from {fetched} ({_format_age(age_s)} "
            f"old); {source.provider.name} allows one download every "
            f"{source.refresh_limit_hours:g} h, next one at {next_at}"
        )
        if force:
            message = "--force does not override the provider's limit: " + message
        return meta, age_s, message
    if not force and age_s < source.max_age_hours * SECONDS_PER_HOUR:
        return (
            meta,
            age_s,
            (
                f"{source.name}: cached copy from {fetched} ({_format_age(age_s)} "
                f"old) is younger than {source.max_age_hours:g} h; "
                f"use --force to download again"
            ),
        )
    return None


def _check_refusal(source: Source, target: Path, now: datetime) -> None:
    """Raise FetchError while the provider's last 403/429 for this source is recent."""
    refusal = _read_refusal(target)
    if refusal is None:
        return
    wait_s = source.refresh_limit_hours * SECONDS_PER_HOUR
    if (now - refusal["refused"]).total_seconds() < wait_s:
        next_at = _format_utc(refusal["refused"] + timedelta(seconds=wait_s))
        raise FetchError(
            f"{source.name}: {source.provider.name} refused the last request at "
            f"{refusal['refused_utc']} (HTTP {refusal['status']}: {refusal['text'][:120]!r}); "
            f"not asking again before {next_at}, even with --force{_cached_hint(target)}"
        )


def validate_file(path: str | os.PathLike, fmt: str, label: str = "") -> dict:
    """Return ``{'records', 'skipped', 'problems'}`` for a downloaded file, or raise FetchError.

    A reply that is not what ``fmt`` promises (an HTML or text error page, a
    JSON document cut short, CSV without a final newline) is refused whole.
    """
    path = Path(path)
    label = label or str(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise FetchError(f"{label}: gzip data is cut short or corrupt ({exc})") from None
    if not raw.strip():
        raise FetchError(f"{label}: the reply is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FetchError(f"{label}: the reply is not UTF-8 text ({exc})") from None
    head = text.lstrip()[:ERROR_BODY_CHARS].replace("\n", " ")
    if fmt == "omm-json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FetchError(
                f"{label}: the reply is not complete JSON ({exc}); it starts with {head[:120]!r}"
            ) from None
        if not isinstance(doc, list):
            raise FetchError(
                f"{label}: expected a JSON list of OMM records, got "
                f"{type(doc).__name__}: {head[:120]!r}"
            )
    elif not text.endswith("\n"):
        # Providers end every CSV/TLE reply with a newline; without it the
        # transfer stopped inside a record.
        raise FetchError(
            f"{label}: the reply does not end with a newline: it was cut short "
            f"(last characters {text[-60:]!r})"
        )
    if fmt == "satcat-csv":
        _check_satcat_rows(text, label)
        return _validate_satcat(path, label)
    return _validate_elements(path, label)


def _validate_elements(path: Path, label: str) -> dict:
    """Load element sets with the catalog reader; zero records or a load error is a FetchError."""
    from ssa.catalog import Catalog  # deferred: only needed once a reply has arrived

    try:
        catalog = Catalog.load([path])
    except ValueError as exc:
        raise FetchError(f"{label}: the reply does not parse as a catalog: {exc}") from None
    report = catalog.load_report
    problems = [str(p) for p in report.problems[:20]]
    return {"records": int(report.loaded), "skipped": int(report.skipped), "problems": problems}


SATCAT_REQUIRED = ("NORAD_CAT_ID", "OBJECT_TYPE")


def _validate_satcat(path: Path, label: str) -> dict:
    """Load a SATCAT with the catalog's SATCAT reader; no valid entry is a FetchError."""
    from ssa.catalog import load_satcat

    try:
        entries, problems = load_satcat(path)
    except ValueError as exc:
        raise FetchError(f"{label}: the reply does not parse as a SATCAT: {exc}") from None
    return {
        "records": len(entries),
        "skipped": len(problems),
        "problems": [str(p) for p in problems[:20]],
    }


def _check_satcat_rows(text: str, label: str) -> None:
    """Check a SATCAT CSV: the key columns are present and every row has every column
    (a row cut short would otherwise read as an object with blank fields)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    missing = [c for c in SATCAT_REQUIRED if c not in header]
    if missing:
        raise FetchError(
            f"{label}: not a SATCAT CSV: columns {missing} missing "
            f"(header starts {','.join(header[:6])!r})"
        )
    key = header.index("NORAD_CAT_ID")
    records = 0
    for lineno, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header) or not row[key].strip().isdigit():
            raise FetchError(
                f"{label}: line {lineno}: expected {len(header)} columns with a "
                f"numeric NORAD_CAT_ID, got {len(row)}: {','.join(row)[:120]!r}"
            )
        records += 1
    if records == 0:
        raise FetchError(f"{label}: the SATCAT has a header but no rows")


def spacetrack_credentials(provider: Provider) -> tuple[str, str]:
    """Return (user, password) from $SPACETRACK_USER/$SPACETRACK_PASSWORD, else ~/.netrc."""
    user = os.environ.get(SPACETRACK_USER_ENV, "")
    password = os.environ.get(SPACETRACK_PASSWORD_ENV, "")
    if user and password:
        return user, password
    if user or password:
        raise FetchError(
            f"set both {SPACETRACK_USER_ENV} and {SPACETRACK_PASSWORD_ENV} (only one is set)"
        )
    try:
        rc = netrc.netrc()
    except FileNotFoundError:
        rc = None
    except netrc.NetrcParseError as exc:
        raise FetchError(f"cannot read ~/.netrc for Space-Track credentials: {exc}") from None
    for host in provider.netrc_hosts:
        auth = rc.authenticators(host) if rc else None
        if auth and auth[0] and auth[2]:
            return auth[0], auth[2]
    hosts = " or ".join(provider.netrc_hosts) or urlsplit(provider.base_url).hostname
    raise FetchError(
        f"{provider.name} needs an account: set {SPACETRACK_USER_ENV} and "
        f"{SPACETRACK_PASSWORD_ENV}, or add 'machine {hosts.split(' or ')[0]} login "
        f"USER password PASS' to ~/.netrc (looked for {hosts})"
    )


def _login(session: requests.Session, provider: Provider) -> None:
    """Log in (form POST) so the session carries the provider's cookie."""
    user, password = spacetrack_credentials(provider)
    url = provider.base() + provider.login_path
    response = _request(session, "post", url, data={"identity": user, "password": password})
    # A reply may echo the form back (proxy or error pages): never quote the password.
    body = _redact(response.text.strip(), password)
    if response.status_code != 200:
        raise FetchError(
            f"login at {url} failed: HTTP {response.status_code} "
            f"{response.reason}: {body[:ERROR_BODY_CHARS]}"
        )
    # Space-Track answers a bad password with HTTP 200 and {"Login":"Failed"}.
    if "failed" in body.lower():
        raise FetchError(
            f"login at {url} refused user {user!r}: {body[:ERROR_BODY_CHARS]}; "
            f"check {SPACETRACK_USER_ENV}/{SPACETRACK_PASSWORD_ENV} or ~/.netrc"
        )


def _redact(text: str, secret: str) -> str:
    """Return text with the secret, as typed and URL-encoded, replaced by '***'."""
    if not secret:
        return text
    for form in sorted({secret, quote_plus(secret), quote(secret, safe="")}, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _logout(session: requests.Session, provider: Provider) -> None:
    """Log out; a failure here does not matter (the data has arrived)."""
    try:
        session.get(
            provider.base() + provider.logout_path, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
        )
    except requests.RequestException:
        pass


def _request(session: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    """Return the response of one request; network failures become a FetchError naming the URL."""
    try:
        return session.request(method, url, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S), **kwargs)
    except requests.RequestException as exc:
        raise FetchOffline(_network_message(url, exc)) from None


def _download_to_temp(
    session: requests.Session, source: Source, folder: Path, target: Path
) -> tuple[Path, dict]:
    """Stream the reply into a temporary file in ``folder``; return it and response facts."""
    url = source.url
    fd, name = tempfile.mkstemp(dir=folder, prefix=".part-", suffix="-" + source.filename)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            try:
                response = session.get(
                    url, stream=True, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
                )
            except requests.RequestException as exc:
                raise FetchOffline(_network_message(url, exc, target)) from None
            with response:
                if response.status_code != 200:
                    body = response.text.strip()[:ERROR_BODY_CHARS].replace("\n", " ")
                    message = (
                        f"{url} answered HTTP {response.status_code} {response.reason}: "
                        f"{body!r}; nothing was stored. Providers ask clients to stop and "
                        f"let a human look after an error reply{_cached_hint(target)}"
                    )
                    if response.status_code in REFUSAL_STATUSES:
                        raise ProviderRefused(message, response.status_code, body)
                    raise FetchError(message)
                digest = hashlib.sha256()
                size = 0
                try:
                    for chunk in response.iter_content(CHUNK_BYTES):
                        fh.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                except requests.RequestException as exc:
                    # urllib3 raises when fewer bytes than Content-Length arrive.
                    received = max(size, response.raw.tell())
                    raise FetchError(
                        f"{url}: the transfer was cut short after {received:,} "
                        f"bytes ({type(exc).__name__}); nothing was stored"
                        f"{_cached_hint(target)}"
                    ) from None
                expected = response.headers.get("Content-Length")
                encoded = response.headers.get("Content-Encoding", "identity") != "identity"
                received = response.raw.tell() if encoded else size
                if expected is not None and expected.isdigit() and int(expected) != received:
                    raise FetchError(
                        f"{url}: received {received:,} bytes but Content-Length "
                        f"says {int(expected):,}: the transfer was cut short; "
                        f"nothing was stored{_cached_hint(target)}"
                    )
                info = {
                    "bytes": size,
                    "sha256": digest.hexdigest(),
                    "http_status": response.status_code,
                    "final_url": response.url,
                    "last_modified": response.headers.get("Last-Modified", ""),
                    "etag": response.headers.get("ETag", ""),
                }
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, info


def _network_message(url: str, exc: Exception, target: Path | None = None) -> str:
    """Return a one-line explanation of a network failure, with what to do instead."""
    host = urlsplit(url).hostname or url
    text = " ".join(str(e) for e in _exception_chain(exc))
    if any(
        s in text
        for s in (
            "NameResolutionError",
            "Name or service not known",
            "Temporary failure in name resolution",
            "getaddrinfo failed",
            "nodename nor servname",
        )
    ):
        why = f"DNS lookup of {host} failed"
    elif "Connection refused" in text or "ConnectionRefusedError" in text:
        why = f"connection to {host} refused"
    elif isinstance(exc, requests.Timeout):
        why = f"no answer from {host} within the time limit"
    else:
        why = f"network error ({type(exc).__name__})"
    return (
        f"cannot download {url}: {why}. If you are offline, use a local catalog file "
        f"instead ('ssa screen' without a catalogue screens the shipped snapshot)"
        f"{_cached_hint(target)}"
    )


def _refusal_path(target: Path) -> Path:
    return Path(str(target) + REFUSED_SUFFIX)


def _read_refusal(target: Path) -> dict | None:
    """Return the provider's last refusal for ``target`` ({'refused', 'status', 'text'}) or None."""
    try:
        doc = json.loads(_refusal_path(target).read_text())
        doc["refused"] = _parse_utc(doc["refused_utc"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return doc


def _cached_hint(target: Path | None) -> str:
    if target is None:
        return ""
    meta = read_meta(target)
    if meta is None:
        return "; no cached copy of this source exists yet"
    return (
        f"; the cached copy {target} from {meta['fetched_utc']} is still there: "
        f"pass that file instead"
    )


def _exception_chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        for arg in getattr(exc, "args", ()):
            if isinstance(arg, BaseException):
                yield from _exception_chain(arg)
        exc = exc.__cause__ or exc.__context__


def _copy_out(target: Path, out: str | os.PathLike) -> Path:
    """Copy a cached file and its metadata to ``out`` (via a temporary file); return ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=".part-", suffix="-" + out.name)
    os.close(fd)
    try:
        shutil.copyfile(target, name)
        os.replace(name, out)
    finally:
        Path(name).unlink(missing_ok=True)
    if meta_path(target).exists():
        shutil.copyfile(meta_path(target), meta_path(out))
    return out


def _write_json_atomic(path: Path, doc: dict) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix="-" + path.name)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    os.replace(name, path)


def _public(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k != "fetched"}


def _parse_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return value.astimezone(timezone.utc)


def _format_utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _format_age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < SECONDS_PER_HOUR:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * SECONDS_PER_HOUR:
        return f"{seconds / SECONDS_PER_HOUR:.1f} h"
    return f"{seconds / 86400:.1f} d"


def cache_status(
    sources: Sources, cache: str | os.PathLike | None = None, now: datetime | None = None
) -> list[dict]:
    """Return one row per named source: name, provider, format, description, cached age."""
    now = now or datetime.now(timezone.utc)
    folder = Path(cache) if cache else cache_dir()
    rows = []
    for source in sources.sources.values():
        meta = read_meta(folder / source.filename)
        rows.append(
            {
                "name": source.name,
                "provider": source.provider.name,
                "format": source.format,
                "kind": source.kind,
                "url": source.url,
                "description": source.description,
                "cached_utc": meta["fetched_utc"] if meta else "",
                "cached_age": _format_age((now - meta["fetched"]).total_seconds()) if meta else "",
                "records": meta.get("records", "") if meta else "",
            }
        )
    return rows


__all__ = [
    "FetchError",
    "FetchOffline",
    "FetchResult",
    "ProviderRefused",
    "Provider",
    "Source",
    "Sources",
    "cache_dir",
    "cache_status",
    "fetch",
    "load_sources",
    "meta_path",
    "read_meta",
    "spacetrack_credentials",
    "validate_file",
]
