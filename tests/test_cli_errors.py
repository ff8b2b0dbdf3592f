"""The CLI's error edge: the project's errors print as one message, bugs keep their
traceback, ``--traceback`` / ``SSA_DEBUG=1`` show it for ours too."""

from __future__ import annotations

import pytest

from ssa.cli import main, run_command
from ssa.data import data_file
from ssa.errors import (
    DataNotFoundError,
    InputFileError,
    Interrupted,
    SsaError,
    UserError,
)


def test_user_error_is_one_message_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SSA_DEBUG", raising=False)
    missing = tmp_path / "nope.3le"
    assert main(["catalog", "info", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err == f"ssa catalog: error: {missing}: no such file\n"


@pytest.mark.parametrize("how", ["flag", "env"])
def test_traceback_on_request(tmp_path, capsys, monkeypatch, how):
    missing = tmp_path / "nope.3le"
    argv = ["catalog", "info", str(missing)]
    if how == "flag":
        monkeypatch.delenv("SSA_DEBUG", raising=False)
        argv = ["--traceback", *argv]
    else:
        monkeypatch.setenv("SSA_DEBUG", "1")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "DataNotFoundError" in err
    assert err.endswith(f"ssa catalog: error: {missing}: no such file\n")


def test_a_bug_is_not_turned_into_a_user_message():
    """A ValueError that is not one of ours is a bug: it propagates with its traceback."""

    def buggy(args):
        return int("not a number")

    with pytest.raises(ValueError, match="invalid literal"):
        run_command(buggy, None, "buggy")


def test_exit_statuses(capsys):
    def interrupted(args):
        raise Interrupted("stopped by SIGTERM; partial output removed")

    def bad_input(args):
        raise UserError("--days must be > 0, got -1")

    assert run_command(interrupted, None, "screen") == 130
    assert run_command(bad_input, None, "screen") == 1
    assert run_command(lambda args: None, None, "screen") == 0
    assert capsys.readouterr().err.splitlines() == [
        "ssa screen: error: stopped by SIGTERM; partial output removed",
        "ssa screen: error: --days must be > 0, got -1",
    ]


def test_error_types_keep_their_builtin_bases(monkeypatch, tmp_path):
    """Library callers that caught ValueError / FileNotFoundError still do."""
    monkeypatch.setenv("SSA_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        data_file("catalog-1999-01-01.3le")
    assert isinstance(info.value, DataNotFoundError) and isinstance(info.value, SsaError)
    error = InputFileError("cat.3le", 6, "line 2 checksum is 3, computed 4")
    assert isinstance(error, ValueError)
    assert str(error) == "cat.3le:6: line 2 checksum is 3, computed 4"


def test_library_input_errors_are_ours(shared_file):
    """Mistakes a user can make through the CLI raise the project's types."""
    from ssa.catalog import Catalog
    from ssa.screening import screen

    with pytest.raises(UserError, match="opsmode"):
        Catalog.from_tle([], opsmode="x")
    tle = shared_file("catalog-2024-07-05.3le").read_text().splitlines()[:6]
    catalog = Catalog.from_tle(tle)
    with pytest.raises(UserError, match="unknown regime"):
        catalog.select(regimes="LOW")
    with pytest.raises(UserError, match="days must be > 0"):
        screen(catalog, days=-1.0)
    with pytest.raises(UserError, match="match no object"):
        screen(catalog, primaries=[99999999])
