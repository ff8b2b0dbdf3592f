"""Progress bars on stderr: shown only on a terminal and never with ``--quiet``."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(iterable=None, *, total=None, desc: str = "", unit: str = "it", quiet: bool = False):
    """Return a tqdm bar on stderr, disabled when quiet or stderr is not a terminal."""
    disable = quiet or not sys.stderr.isatty()
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=disable,
        leave=False,
        dynamic_ncols=True,
    )
