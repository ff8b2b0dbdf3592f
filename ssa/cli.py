"""The ``ssa`` command line: a thin layer over the library API.

Each subcommand lives in ``ssa/commands/<name>.py`` and exposes
``register(subparsers)``; this module discovers them, so adding a command
never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import ssa
import ssa.commands
from ssa.errors import UserError  # noqa: F401  (re-exported: commands raise it)


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
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, ValueError) as exc:
        # Expected problems with inputs: one clear line, no traceback.
        print(f"ssa {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
