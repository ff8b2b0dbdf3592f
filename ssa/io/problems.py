"""A bad input record, reported (never dropped silently) with where and why."""

from __future__ import annotations

from dataclasses import dataclass

from ssa.errors import InputFileError, UserError

# The TLE column layout, shown above an offending line as python-sgp4 does,
# so the reader can see which column is out of place.
TLE_TEMPLATE_LINE1 = "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
TLE_TEMPLATE_LINE2 = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN"

# Longest excerpt of an offending line kept in a Problem (whole TLE lines fit).
MAX_TEXT_CHARS = 200


# Problem kinds, for counting problems by cause.
KINDS = ("pairing", "layout", "checksum", "non-ascii", "missing", "value", "sgp4", "format")


@dataclass(frozen=True)
class Problem:
    """One skipped record: ``file``; ``line``, 1-based, the damaged line (the record's
    first line when the record as a whole is wrong; for JSON and XML the record number);
    ``reason``, one line; ``text``, the offending input; and ``kind``, one of KINDS."""

    file: str
    line: int
    reason: str
    text: str = ""
    kind: str = "format"

    def __str__(self) -> str:
        text = f"\n    {self.text}" if self.text else ""
        return f"{self.file}:{self.line}: {self.reason}{text}"


def clip(text: str) -> str:
    """Return ``text`` shortened to MAX_TEXT_CHARS for a Problem."""
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "..."


class LoadError(UserError):
    """A load failed: strict mode met a problem, or no record was valid (a ValueError
    too, through UserError)."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class RecordError(InputFileError, LoadError):
    """Strict mode's first bad record: ``path``, ``line`` and ``reason`` of the Problem;
    the message adds the offending text and ``note``."""

    def __init__(self, problem: Problem, note: str = ""):
        InputFileError.__init__(self, problem.file, problem.line, problem.reason)
        self.problems = [problem]
        self.args = (f"{problem}{note}",)
