"""Space-Track credentials never appear in any output of a fetch: stdout, stderr (with
and without SSA_DEBUG tracebacks), the cache (data and metadata), --out files and
listings, also when the server misbehaves (echoes the login form back in an error
reply). Runs the real ``ssa`` CLI in a subprocess against the local test server of
tests/test_fetch.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus

import pytest

from tests.test_fetch import (  # noqa: F401  (fixtures)
    PASSWORD,
    ST_GP,
    ST_LOGIN,
    USER,
    SpaceTrack,
    omm_rows,
    server,
    spacetrack_json,
)

FORMS = (PASSWORD, quote_plus(PASSWORD), quote(PASSWORD, safe=""))


def _fetch(srv, tmp_path, *args, password=PASSWORD, debug=False):
    env = {
        **os.environ,
        "SSA_SPACETRACK_URL": srv.url,
        "SSA_CELESTRAK_URL": srv.url,
        "SSA_CACHE": str(tmp_path / "cache"),
        "HOME": str(tmp_path / "home"),
        "SPACETRACK_USER": USER,
        "SPACETRACK_PASSWORD": password,
    }
    env.pop("SSA_DEBUG", None)
    if debug:
        env["SSA_DEBUG"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "ssa", "catalog", "fetch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _assert_nowhere(secret_forms, *texts, folders=()):
    for text in texts:
        for s in secret_forms:
            assert s not in text, "credential in command output"
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for s in secret_forms:
                    assert s.encode() not in data, f"credential in {path}"


@pytest.mark.parametrize("debug", [False, True])
def test_successful_fetch_leaks_nothing(server, omm_rows, tmp_path, debug):  # noqa: F811
    SpaceTrack(server, spacetrack_json(omm_rows))
    out = tmp_path / "work" / "gp.json"
    done = _fetch(server, tmp_path, "spacetrack-gp", "--out", str(out), debug=debug)
    assert done.returncode == 0, done.stderr
    assert out.exists() and server.count(ST_LOGIN) == 1 and server.count(ST_GP) == 1
    listing = _fetch(server, tmp_path, "--list")
    assert "spacetrack-gp" in listing.stdout
    _assert_nowhere(
        FORMS,
        done.stdout,
        done.stderr,
        listing.stdout,
        listing.stderr,
        folders=[tmp_path / "cache", tmp_path / "work"],
    )


def _echo_form(status):
    """A login reply that echoes the posted form (as some proxies' error pages do)."""

    def reply(h):
        length = int(h.headers.get("Content-Length", 0))
        form = h.rfile.read(length).decode()
        fields = {k: v[0] for k, v in parse_qs(form).items()}
        body = f'{{"Login":"Failed","you sent":"{form}","password":"{fields.get("password")}"}}'
        h.send_body(status, body.encode())

    return reply


@pytest.mark.parametrize("status", [200, 500])
@pytest.mark.parametrize("debug", [False, True])
def test_login_errors_echoing_the_password_are_redacted(server, tmp_path, status, debug):  # noqa: F811
    server.routes[ST_LOGIN] = _echo_form(status)
    done = _fetch(server, tmp_path, "spacetrack-gp", debug=debug)
    assert done.returncode == 1
    assert "login at" in done.stderr  # the error is still explained
    _assert_nowhere(FORMS, done.stdout, done.stderr, folders=[tmp_path / "cache"])


def test_wrong_password_is_not_printed(server, omm_rows, tmp_path):  # noqa: F811
    SpaceTrack(server, spacetrack_json(omm_rows))
    wrong = "Wr0ng-but-still-secret"
    done = _fetch(server, tmp_path, "spacetrack-gp", password=wrong)
    assert done.returncode == 1 and "refused user" in done.stderr
    _assert_nowhere(
        (wrong, quote_plus(wrong)), done.stdout, done.stderr, folders=[tmp_path / "cache"]
    )
