"""Shared fixtures. Real data comes from ``SSA_DATA``; without it, tests that
need it skip with the reason, except under ``CI=true`` where they must run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ssa.data import ENV_VAR, data_dir


def _require(path: Path) -> Path:
    if path.exists():
        return path
    reason = (
        f"{path} not found: set {ENV_VAR} to the shared catalogs folder "
        f"(e.g. {ENV_VAR}=../shared/catalogs)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def ssa_data() -> Path:
    """The shared real-data folder; skips (fails under CI=true) when absent."""
    root = data_dir()
    if root is None:
        return _require(Path(f"${ENV_VAR}-is-unset"))
    return _require(root)


@pytest.fixture(scope="session")
def shared_file(ssa_data):
    """Factory: ``shared_file('catalog-2024-07-05.3le')`` -> Path (skips/fails if absent)."""
    return lambda name: _require(ssa_data / name)


@pytest.fixture(scope="session")
def shipped():
    """The catalogue that ships with ssa, with its SATCAT companion, loaded once per
    session (no SSA_DATA needed). Tests must not modify it."""
    from ssa.catalog import Catalog
    from ssa.snapshot import shipped_catalog, shipped_satcat

    return Catalog.load(shipped_catalog(), satcat=shipped_satcat())
