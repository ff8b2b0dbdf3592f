"""The project's error types. The CLI turns these (and only these) into one-line
messages; anything else is a bug and shows its traceback (``--traceback`` or
``SSA_DEBUG=1`` show it for these too)."""

from __future__ import annotations


class SsaError(Exception):
    """Base of every error ssa raises on purpose."""


class UserError(SsaError, ValueError):
    """A problem with the user's input or options; the message says how to fix it.

    Subclasses ValueError so library callers that caught ValueError keep working.
    """


class InputFileError(UserError):
    """A damaged input file: names the file, the line and the reason."""

    def __init__(self, path, line: int | None, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {reason}")


class DataNotFoundError(UserError, FileNotFoundError):
    """A data file the command needs is missing; the message names it and the setting."""


class OfflineError(UserError):
    """A download was needed and the network is unreachable; names the cached copy to use."""


class WorkerError(SsaError):
    """A worker process died or failed; names the stage and the worker."""


class Interrupted(SsaError):
    """The run was stopped by SIGINT/SIGTERM; partial output has been removed."""
