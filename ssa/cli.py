"""The ``ssa`` command line: a thin layer over the library API.

Each subcommand lives in ``ssa/commands/<name>.py`` and exposes
``register(subparsers)``; this module discovers them, so adding a command
never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import sys
import threading

import ssa
import ssa.commands
from ssa.errors import Interrupted, SsaError, UserError  # noqa: F401  (UserError re-exported)


class Stop(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived (a KeyboardInterrupt, so no ``except Exception`` in the
    library swallows it; every ``finally`` and atomic output folder unwinds)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum, frame):
    raise Stop(signum)


def _install_stop_handlers() -> dict:
    """Make SIGINT and SIGTERM raise Stop; return the previous handlers.

    SIGINT is handled even when it was inherited *ignored* (a shell starts background
    jobs of a script that way): a user who sends it means "stop". Only in the main
    thread (signal handlers can only be set there)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssa",
        description="Open space situational awareness simulator.",
    )
    parser.add_argument("--version", action="version", version=f"ssa {ssa.__version__}")
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
    previous = _install_stop_handlers()
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, ValueError) as exc:
        # Expected problems with inputs: one clear line, no traceback.
        print(f"ssa {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except SsaError as exc:  # WorkerError, ...: also one line
        print(f"ssa {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        stopped = Interrupted(f"interrupted by {signal.Signals(signum).name}: workers ended, "
                              f"no partial output left (an earlier complete output is kept)")
        print(f"ssa {args.command}: {stopped}", file=sys.stderr)
        return 128 + int(signum)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
