"""Where the shared real data lives: the ``SSA_DATA`` setting."""

from __future__ import annotations

import os
from pathlib import Path

from ssa.errors import DataNotFoundError

ENV_VAR = "SSA_DATA"


def data_dir() -> Path | None:
    """Return the folder named by ``SSA_DATA``, or None when it is unset."""
    value = os.environ.get(ENV_VAR)
    # Resolved once so a later chdir (tests, subprocesses) cannot change its meaning.
    return Path(value).expanduser().resolve() if value else None


def data_file(name: str) -> Path:
    """Return ``$SSA_DATA/name``; raise DataNotFoundError (a FileNotFoundError) naming the
    file and the setting if it is missing."""
    root = data_dir()
    if root is None:
        raise DataNotFoundError(
            f"{name} is needed and {ENV_VAR} is not set; point it at the folder that holds "
            f"it, e.g. export {ENV_VAR}=../shared/catalogs"
        )
    path = root / name
    if not path.exists():
        raise DataNotFoundError(f"{path} not found (check {ENV_VAR}={root})")
    return path
