"""Progress bars on stderr: shown only on a terminal and never with ``--quiet``."""

from __future__ import annotations

import sys


class _Off:
    """A disabled bar: iterates its iterable, counts nothing (tqdm is not imported for
    it: its import, ~0.1 s with asyncio and importlib.metadata, is start-up time)."""

    def __init__(self, iterable=None):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable if self._iterable is not None else ())

    def update(self, n=1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def progress(iterable=None, *, total=None, desc: str = "", unit: str = "it", quiet: bool = False):
    """Return a tqdm bar on stderr, disabled when quiet or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return _Off(iterable)
    from tqdm.auto import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=False,
        leave=False,
        dynamic_ncols=True,
    )
