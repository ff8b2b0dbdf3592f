"""``ssa catalog fetch`` against a real HTTP server on 127.0.0.1 (never the internet).

The server replies are built at test time from the shared real data: rows of
the CelesTrak OMM CSV of 2024-11-01 turned into CelesTrak-style JSON (numbers)
and Space-Track-style JSON (strings), and rows of the shared SATCAT.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from ssa.cli import main
from ssa.fetch import FetchError, fetch, load_sources, meta_path, read_meta

SUBSET_ROWS = 300  # element sets served per reply: enough to be real, quick to parse
SATCAT_ROWS = 2000
USER, PASSWORD = "analyst@example.org", "c0rrect+horse&battery=staple"
COOKIE = "chocolatechip=session-1"
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)

INT_FIELDS = {"EPHEMERIS_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO", "REV_AT_EPOCH"}
TEXT_FIELDS = {"OBJECT_NAME", "OBJECT_ID", "EPOCH", "CLASSIFICATION_TYPE"}


@pytest.fixture(scope="module")
def omm_rows(shared_file):
    """The first SUBSET_ROWS rows of the shared CelesTrak OMM CSV, as dicts of text."""
    with open(shared_file("catalog-2024-11-01.omm.csv"), newline="") as fh:
        reader = csv.DictReader(fh)
        return list(itertools.islice(reader, SUBSET_ROWS))


def celestrak_json(rows) -> bytes:
    """CelesTrak's OMM JSON: numbers as JSON numbers."""

    def value(key, text):
        if key in TEXT_FIELDS:
            return text
        return int(text) if key in INT_FIELDS else float(text)

    return json.dumps([{k: value(k, v) for k, v in row.items()} for row in rows]).encode()


def spacetrack_json(rows) -> bytes:
    """Space-Track's OMM JSON: every value a string, plus its frame/time keys."""
    extra = {
        "CCSDS_OMM_VERS": "2.0",
        "CENTER_NAME": "EARTH",
        "REF_FRAME": "TEME",
        "TIME_SYSTEM": "UTC",
        "MEAN_ELEMENT_THEORY": "SGP4",
        "DECAY_DATE": None,
        "RCS_SIZE": None,
        "COUNTRY_CODE": None,
    }
    return json.dumps([{**extra, **row} for row in rows]).encode()


def omm_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


class Server:
    """A local HTTP server: ``routes`` maps 'METHOD /path?query' to a reply function."""

    def __init__(self):
        self.routes = {}
        self.hits = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def _serve(self, method):
                key = f"{method} {self.path}"
                server.hits.append(key)
                reply = server.routes.get(key)
                if reply is None:
                    self._send(404, b"no such route: " + key.encode())
                    return
                reply(self)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def _send(self, status, body, headers=None, length=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)

        Handler.send_body = Handler._send
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def count(self, key):
        return sum(1 for h in self.hits if h == key)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch, tmp_path):
    srv = Server()
    monkeypatch.setenv("SSA_CELESTRAK_URL", srv.url)
    monkeypatch.setenv("SSA_SPACETRACK_URL", srv.url)
    monkeypatch.setenv("SSA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SPACETRACK_USER", raising=False)
    monkeypatch.delenv("SPACETRACK_PASSWORD", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no real ~/.netrc
    (tmp_path / "home").mkdir()
    yield srv
    srv.close()


@pytest.fixture
def sources():
    return load_sources()


ACTIVE = "GET /NORAD/elements/gp.php?GROUP=active&FORMAT=json"
ACTIVE_CSV = "GET /NORAD/elements/gp.php?GROUP=active&FORMAT=csv"
SATCAT = "GET /pub/satcat.csv"
ST_LOGIN = "POST /ajaxauth/login"
ST_LOGOUT = "GET /ajaxauth/logout"
ST_GP = (
    "GET /basicspacedata/query/class/gp/decay_date/null-val/epoch/%3Enow-30/"
    "orderby/norad_cat_id/format/json"
)


def ok(body, content_type="application/json"):
    return lambda h: h.send_body(200, body, {"Content-Type": content_type})


def distinct_ids(rows):
    return len({int(r["NORAD_CAT_ID"]) for r in rows})


def cache_files(folder: Path):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_celestrak_json_download_is_validated_cached_and_described(
    server, sources, omm_rows, tmp_path
):
    body = celestrak_json(omm_rows)
    server.routes[ACTIVE] = ok(body)
    result = fetch(sources.get("active"), now=T0)
    assert result.downloaded
    assert result.path == tmp_path / "cache" / "active.json"
    assert result.path.read_bytes() == body
    meta = json.loads(meta_path(result.path).read_text())
    assert meta["records"] == distinct_ids(omm_rows) == SUBSET_ROWS
    assert meta["bytes"] == len(body)
    assert meta["url"] == server.url + "/NORAD/elements/gp.php?GROUP=active&FORMAT=json"
    assert meta["fetched_utc"] == "2026-01-10T12:00:00Z"
    assert meta["skipped"] == 0
    # Only the file and its metadata are left (no temporary files).
    assert cache_files(tmp_path / "cache") == ["active.json", "active.json.meta.json"]


def test_two_hour_rule_holds_even_with_force(server, sources, omm_rows):
    server.routes[ACTIVE] = ok(celestrak_json(omm_rows))
    source = sources.get("active")
    assert source.refresh_limit_hours == 2.0
    fetch(source, now=T0)
    assert server.count(ACTIVE) == 1

    # 1 h later, --force: refused by the provider's limit, cached copy used.
    result = fetch(source, now=T0 + timedelta(hours=1), force=True)
    assert not result.downloaded and server.count(ACTIVE) == 1
    assert "--force does not override" in result.message
    assert "2026-01-10T14:00:00Z" in result.message  # when the next download is allowed

    # 1 h 59 min later: still refused.
    fetch(source, now=T0 + timedelta(hours=1, minutes=59), force=True)
    assert server.count(ACTIVE) == 1

    # 3 h later without --force: the copy is younger than max_age_hours (8 h), reused.
    result = fetch(source, now=T0 + timedelta(hours=3))
    assert not result.downloaded and server.count(ACTIVE) == 1
    assert "use --force" in result.message

    # 3 h later with --force: downloaded again.
    result = fetch(source, now=T0 + timedelta(hours=3), force=True)
    assert result.downloaded and server.count(ACTIVE) == 2
    # 9 h after that: older than max_age_hours, downloaded without --force.
    result = fetch(source, now=T0 + timedelta(hours=12))
    assert result.downloaded and server.count(ACTIVE) == 3


def test_server_error_stores_nothing_and_keeps_the_old_copy(server, sources, omm_rows, tmp_path):
    source = sources.get("active")
    server.routes[ACTIVE] = lambda h: h.send_body(500, b"Internal Server Error: database busy")
    with pytest.raises(FetchError) as exc:
        fetch(source, now=T0)
    text = str(exc.value)
    assert "HTTP 500" in text and "database busy" in text and source.url in text
    assert "no cached copy" in text
    assert cache_files(tmp_path / "cache") == []

    # With a good copy from 3 h earlier, a forced refresh that fails leaves it intact.
    good = celestrak_json(omm_rows)
    server.routes[ACTIVE] = ok(good)
    fetch(source, now=T0)
    server.routes[ACTIVE] = lambda h: h.send_body(500, b"oops")
    with pytest.raises(FetchError, match="cached copy .* is still there"):
        fetch(source, now=T0 + timedelta(hours=3), force=True)
    assert (tmp_path / "cache" / "active.json").read_bytes() == good
    assert read_meta(tmp_path / "cache" / "active.json")["fetched_utc"] == "2026-01-10T12:00:00Z"
    assert cache_files(tmp_path / "cache") == ["active.json", "active.json.meta.json"]


def test_celestrak_refusal_403_is_reported_and_not_retried_for_2_hours(
    server, sources, omm_rows, tmp_path
):
    refusal = (
        b"GP data has not updated since your last successful download of "
        b"GROUP=active at 2026-01-10 11:00:00 UTC.\nData is updated once every 2 hours."
    )
    server.routes[ACTIVE] = lambda h: h.send_body(403, refusal)
    source = sources.get("active")
    with pytest.raises(FetchError, match="HTTP 403.*has not updated since"):
        fetch(source, now=T0)
    assert server.count(ACTIVE) == 1
    # CelesTrak blocks clients that keep asking: no request until 2 h have passed.
    with pytest.raises(
        FetchError, match="refused the last request.*not asking again before 2026-01-10T14:00:00Z"
    ):
        fetch(source, now=T0 + timedelta(hours=1), force=True)
    assert server.count(ACTIVE) == 1
    server.routes[ACTIVE] = ok(celestrak_json(omm_rows))
    result = fetch(source, now=T0 + timedelta(hours=2, minutes=1))
    assert result.downloaded and server.count(ACTIVE) == 2
    assert cache_files(tmp_path / "cache") == ["active.json", "active.json.meta.json"]


def test_truncated_response_with_content_length_is_refused(server, sources, omm_rows, tmp_path):
    body = celestrak_json(omm_rows)
    half = body[: len(body) // 2]
    # Promise the whole length, send half, close the connection.
    server.routes[ACTIVE] = lambda h: h.send_body(200, half, length=len(body))
    with pytest.raises(FetchError, match="cut short"):
        fetch(sources.get("active"), now=T0)
    assert cache_files(tmp_path / "cache") == []


def test_truncated_json_without_content_length_is_refused(server, sources, omm_rows, tmp_path):
    body = celestrak_json(omm_rows)
    cut = body[: int(len(body) * 0.7)]

    def reply(h):
        # HTTP/1.0 style: no Content-Length, the body ends when the connection closes.
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.end_headers()
        h.wfile.write(cut)
        h.close_connection = True

    server.routes[ACTIVE] = reply
    with pytest.raises(FetchError, match="not complete JSON"):
        fetch(sources.get("active"), now=T0)
    assert cache_files(tmp_path / "cache") == []


def test_truncated_csv_without_final_newline_is_refused(server, sources, omm_rows, tmp_path):
    body = omm_csv(omm_rows)
    cut = body[: len(body) - 40]  # ends inside the last record
    server.routes[ACTIVE_CSV] = ok(cut, "text/csv")
    with pytest.raises(FetchError, match="does not end with a newline"):
        fetch(sources.get("active-csv"), now=T0)
    assert cache_files(tmp_path / "cache") == []

    # The whole CSV is accepted and parses to the same objects as the JSON.
    server.routes[ACTIVE_CSV] = ok(body, "text/csv")
    result = fetch(sources.get("active-csv"), now=T0)
    assert result.meta["records"] == SUBSET_ROWS


def test_html_error_page_with_status_200_is_refused(server, sources, tmp_path):
    page = b"<html><body>Invalid query: GROUP=active</body></html>"
    server.routes[ACTIVE] = ok(page, "text/html")
    with pytest.raises(FetchError, match="not complete JSON.*Invalid query"):
        fetch(sources.get("active"), now=T0)
    assert cache_files(tmp_path / "cache") == []


def test_json_with_no_valid_record_is_refused(server, sources, omm_rows, tmp_path):
    # Well-formed JSON, but every record lacks its mean motion: the reader rejects them all.
    broken = [{k: v for k, v in row.items() if k != "MEAN_MOTION"} for row in omm_rows[:5]]
    server.routes[ACTIVE] = ok(json.dumps(broken).encode())
    with pytest.raises(FetchError, match="does not parse as a catalog.*MEAN_MOTION"):
        fetch(sources.get("active"), now=T0)
    assert cache_files(tmp_path / "cache") == []


def test_connection_refused_names_url_and_suggests_local_file(monkeypatch, sources, tmp_path):
    # A port that was free a moment ago: nothing listens there.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SSA_CELESTRAK_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SSA_CACHE", str(tmp_path / "cache"))
    with pytest.raises(FetchError) as exc:
        fetch(sources.get("active"), now=T0)
    text = str(exc.value)
    assert f"http://127.0.0.1:{port}/NORAD/elements/gp.php?GROUP=active" in text
    assert "refused" in text and "local catalog file" in text
    assert cache_files(tmp_path / "cache") == []


def test_satcat_download(server, sources, shared_file, tmp_path):
    with gzip.open(shared_file("satcat-2025-03.csv.gz"), "rt", newline="") as fh:
        lines = list(itertools.islice(fh, SATCAT_ROWS + 1))
    body = "".join(lines).encode()
    server.routes[SATCAT] = ok(body, "text/csv")
    result = fetch(sources.get("satcat"), now=T0)
    assert result.meta["records"] == SATCAT_ROWS
    assert result.meta["kind"] == "satcat"
    # A SATCAT cut inside a row is refused.
    server.routes[SATCAT] = ok(body[:-30], "text/csv")
    with pytest.raises(FetchError, match="cut short"):
        fetch(sources.get("satcat"), now=T0 + timedelta(days=2))
    assert (tmp_path / "cache" / "satcat.csv").read_bytes() == body


class SpaceTrack:
    """Space-Track's flow: POST /ajaxauth/login sets a cookie the query needs."""

    def __init__(self, server, body):
        self.logins = []
        server.routes[ST_LOGIN] = self.login
        server.routes[ST_GP] = lambda h: self.query(h, body)
        server.routes[ST_LOGOUT] = lambda h: h.send_body(200, b'"Successfully logged out"')

    def login(self, h):
        length = int(h.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(h.rfile.read(length).decode()).items()}
        self.logins.append(form.get("identity"))
        if form.get("identity") == USER and form.get("password") == PASSWORD:
            h.send_body(200, b'""', {"Set-Cookie": COOKIE + "; path=/"})
        else:
            h.send_body(200, b'{"Login":"Failed"}')

    def query(self, h, body):
        if COOKIE not in (h.headers.get("Cookie") or ""):
            h.send_body(401, b'{"error":"You must be logged in to complete this action"}')
        else:
            h.send_body(200, body, {"Content-Type": "application/json"})


def test_spacetrack_login_with_env_credentials(server, sources, omm_rows, monkeypatch):
    body = spacetrack_json(omm_rows)
    st = SpaceTrack(server, body)
    monkeypatch.setenv("SPACETRACK_USER", USER)
    monkeypatch.setenv("SPACETRACK_PASSWORD", PASSWORD)
    result = fetch(sources.get("spacetrack-gp"), now=T0)
    assert st.logins == [USER]
    assert server.hits == [ST_LOGIN, ST_GP, ST_LOGOUT]
    assert result.meta["records"] == SUBSET_ROWS
    assert result.path.read_bytes() == body
    # Space-Track's own limit (one GP query per hour) is kept too.
    again = fetch(sources.get("spacetrack-gp"), now=T0 + timedelta(minutes=30), force=True)
    assert not again.downloaded and server.count(ST_LOGIN) == 1


def test_spacetrack_credentials_from_netrc(server, sources, omm_rows, tmp_path):
    st = SpaceTrack(server, spacetrack_json(omm_rows))
    rc = tmp_path / "home" / ".netrc"
    rc.write_text(f"machine www.space-track.org\n  login {USER}\n  password {PASSWORD}\n")
    rc.chmod(0o600)
    result = fetch(sources.get("spacetrack-gp"), now=T0)
    assert result.downloaded and st.logins == [USER]


def test_spacetrack_bad_password_and_missing_credentials(server, sources, omm_rows, monkeypatch):
    st = SpaceTrack(server, spacetrack_json(omm_rows))
    with pytest.raises(FetchError, match="SPACETRACK_USER and SPACETRACK_PASSWORD.*netrc"):
        fetch(sources.get("spacetrack-gp"), now=T0)
    assert server.hits == []  # nothing is sent without credentials
    monkeypatch.setenv("SPACETRACK_USER", USER)
    monkeypatch.setenv("SPACETRACK_PASSWORD", "wrong")
    with pytest.raises(FetchError, match="refused user .*Login.*Failed"):
        fetch(sources.get("spacetrack-gp"), now=T0)
    assert st.logins == [USER] and server.count(ST_GP) == 0


def test_cli_fetch_list_and_out(server, omm_rows, tmp_path, capsys):
    body = celestrak_json(omm_rows)
    server.routes["GET /NORAD/elements/gp.php?GROUP=iridium-33-debris&FORMAT=json"] = ok(body)
    out = tmp_path / "work" / "iridium.json"
    assert main(["catalog", "fetch", "iridium-33-debris", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert f"downloaded {SUBSET_ROWS} records" in captured.err
    assert out.read_bytes() == body and meta_path(out).exists()

    # Second call within 2 h with --force: no request, clear message, exit 0.
    assert main(["catalog", "fetch", "iridium-33-debris", "--force"]) == 0
    captured = capsys.readouterr()
    assert "does not override the provider's limit" in captured.err
    assert server.count("GET /NORAD/elements/gp.php?GROUP=iridium-33-debris&FORMAT=json") == 1

    assert main(["catalog", "fetch", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "iridium-33-debris" in listing and "cached 20" in listing
    assert "spacetrack-gp" in listing and "not cached" in listing

    # Any CelesTrak group by name; a failure is one line on stderr and exit 1.
    server.routes["GET /NORAD/elements/gp.php?GROUP=starlink&FORMAT=json"] = lambda h: h.send_body(
        500, b"boom"
    )
    assert main(["catalog", "fetch", "celestrak:starlink"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ssa catalog: error:") and "HTTP 500" in err

    server.routes["GET /NORAD/elements/gp.php?GROUP=gps-ops&FORMAT=csv"] = ok(
        omm_csv(omm_rows), "text/csv"
    )
    assert main(["catalog", "fetch", "celestrak:gps-ops:csv"]) == 0
    assert capsys.readouterr().out.strip().endswith("celestrak-gps-ops-csv.csv")

    assert main(["catalog", "fetch", "celestrak:starlink:xml"]) == 1
    assert "celestrak:GROUP:csv" in capsys.readouterr().err
    assert main(["catalog", "fetch", "no-such-source"]) == 1
    assert "known sources" in capsys.readouterr().err


def test_cli_fetched_file_loads_in_info(server, omm_rows, capsys):
    server.routes[ACTIVE] = ok(celestrak_json(omm_rows))
    assert main(["catalog", "fetch"]) == 0  # the default source is 'active'
    path = capsys.readouterr().out.strip()
    assert main(["catalog", "info", path, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["objects"] == SUBSET_ROWS and summary["skipped"] == 0


def test_spacetrack_satcat_download(server, sources, shared_file, monkeypatch):
    # Space-Track's satcat CSV (COUNTRY, RCS_SIZE columns), read through the SATCAT reader.
    with open(shared_file("satcat-spacetrack-leo-onorbit-2025-03.csv"), newline="") as fh:
        body = "".join(itertools.islice(fh, SATCAT_ROWS + 1)).encode()
    query = "GET /basicspacedata/query/class/satcat/orderby/norad_cat_id/format/csv"
    st = SpaceTrack(server, b"[]")
    server.routes[query] = lambda h: st.query(h, body)
    monkeypatch.setenv("SPACETRACK_USER", USER)
    monkeypatch.setenv("SPACETRACK_PASSWORD", PASSWORD)
    source = sources.get("spacetrack-satcat")
    assert source.refresh_limit_hours == 24.0
    result = fetch(source, now=T0)
    assert result.meta["records"] == SATCAT_ROWS and result.meta["skipped"] == 0
    again = fetch(source, now=T0 + timedelta(hours=23), force=True)
    assert not again.downloaded and server.count(query) == 1


def test_no_answer_within_timeout(server, sources, monkeypatch, tmp_path):
    import ssa.fetch

    monkeypatch.setattr(ssa.fetch, "READ_TIMEOUT_S", 0.2)
    release = threading.Event()
    server.routes[ACTIVE] = lambda h: release.wait(5.0)  # accepts, never answers in time
    try:
        with pytest.raises(FetchError, match="no answer from 127.0.0.1 within the time limit"):
            fetch(sources.get("active"), now=T0)
    finally:
        release.set()
    assert cache_files(tmp_path / "cache") == []


def test_copy_without_metadata_still_counts_against_the_limit(server, sources, omm_rows, tmp_path):
    server.routes[ACTIVE] = ok(celestrak_json(omm_rows))
    result = fetch(sources.get("active"), now=datetime.now(timezone.utc))
    meta_path(result.path).unlink()  # metadata lost: only the file's mtime is left
    with pytest.raises(FetchError, match="has no metadata .* allows one download every 2 h"):
        fetch(
            sources.get("active"), now=datetime.now(timezone.utc) + timedelta(hours=1), force=True
        )
    assert server.count(ACTIVE) == 1
