"""Conjunction screening: ``screen(catalog, ...) -> ScreenResult`` (see api.py)."""

from ssa.screening.api import screen
from ssa.screening.result import COLUMNS, ScreenResult

__all__ = ["screen", "ScreenResult", "COLUMNS"]
