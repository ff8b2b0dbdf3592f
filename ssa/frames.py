"""Deprecated location: the frame helpers live in ``ssa.geometry.frames``."""

from ssa.geometry.constants import WGS84_A_KM, WGS84_F  # noqa: F401
from ssa.geometry.frames import rtn_components, teme_to_geodetic  # noqa: F401
