"""The ``ssa`` command line: a thin layer over the library API.

Each subcommand lives in ``ssa/commands/<name>.py`` and exposes
``register(subparsers)``; this module discovers them, so adding a command
never touches this file.

Errors: the project's own (``ssa.errors.SsaError``) print as one message
without a traceback; anything else is a bug and keeps its traceback.
``--traceback`` or ``SSA_DEBUG=1`` show the traceback of ours too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import threading
import traceback

import ssa
import ssa.commands
from ssa.errors import (
    Interrupted,
    SsaError,
    UserError,  # noqa: F401  (re-exported: commands raise it)
)

DEBUG_ENV = "SSA_DEBUG"


class Stop(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived (a KeyboardInterrupt, so no ``except Exception`` in the
    library swallows it; every ``finally`` and atomic output folder unwinds)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_HANDLER_PID = [0]  # the process that installed _raise_stop


def _raise_stop(signum, frame):
    if os.getpid() != _HANDLER_PID[0]:
        # A forked worker that has not yet run ssa.workers.worker_init inherited this
        # handler: behave as worker_init will (ignore SIGINT, die on SIGTERM), never
        # raise into the child's start-up code (a traceback on Ctrl-C).
        if signum == signal.SIGTERM:
            os._exit(128 + signum)
        return
    raise Stop(signum)


def _install_stop_handlers() -> dict:
    """Make SIGINT and SIGTERM raise Stop; return the previous handlers.

    SIGINT is handled even when it was inherited *ignored* (a shell starts background
    jobs of a script that way): a user who sends it means "stop". Only in the main
    thread (signal handlers can only be set there)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    _HANDLER_PID[0] = os.getpid()
    return {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssa",
        description="Open space situational awareness simulator.",
    )
    parser.add_argument("--version", action="version", version=f"ssa {ssa.__version__}")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help=f"show the traceback of errors too (or set {DEBUG_ENV}=1)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(ssa.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ssa.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status (tests call this directly)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    show = args.traceback or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    previous = _install_stop_handlers()
    try:
        return run_command(args.func, args, args.command, show_traceback=show)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)


def run_command(func, args, command: str, show_traceback: bool = False) -> int:
    """Return ``func(args)``'s exit status; an SsaError becomes one message and status 1;
    SIGINT/SIGTERM (Stop, a KeyboardInterrupt) 128 + signal number. Other exceptions are
    bugs: they propagate."""
    try:
        return int(func(args) or 0)
    except SsaError as exc:
        if show_traceback:
            traceback.print_exc()
        print(f"ssa {command}: error: {exc}", file=sys.stderr)
        return 130 if isinstance(exc, Interrupted) else 1
    except OSError as exc:
        from ssa.outputs import NO_SPACE_ERRNOS

        if exc.errno not in NO_SPACE_ERRNOS:
            raise
        if show_traceback:
            traceback.print_exc()
        # Out of disk outside an output folder (e.g. a numba or download cache).
        print(
            f"ssa {command}: error: could not write {exc.filename or 'a file'}: "
            f"{exc.strerror} (disk full or file-size limit); previous output folders are "
            f"unchanged",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt as exc:
        if show_traceback:
            traceback.print_exc()
        signum = getattr(exc, "signum", signal.SIGINT)
        stopped = Interrupted(
            f"interrupted by {signal.Signals(signum).name}: workers ended, "
            f"no partial output left (an earlier complete output, if any, is kept)"
        )
        print(f"ssa {command}: {stopped}", file=sys.stderr)
        return 128 + int(signum)
