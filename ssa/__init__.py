"""ssa: open space situational awareness simulator.

The curated public API lives here; everything else is internal. Names are
imported on first use (module ``__getattr__``), so ``import ssa`` and
``ssa --version`` load neither numba nor the screening code::

    import ssa

    catalog = ssa.Catalog.load("catalog-2024-07-05.3le", satcat="satcat-2025-03.csv.gz")
    result = ssa.screen(catalog, days=1.0, threshold_km=5.0)   # a ScreenResult
    ssa.assess(result.rows, catalog)                            # fills PC, SIGMA*, HBR_M
    result.write("out")                                         # conjunctions.csv/.json, run.json
    cdms = ssa.cdms_from_result(result.rows, catalog, top=10)      # the 10 highest Pc
    ssa.read_cdm("event.cdm").collision_probability
"""

from __future__ import annotations

import importlib
import os

__version__ = "0.1.0"


def _numba_cache_fallback() -> None:
    """Give numba a writable cache folder when neither of its defaults is.

    Numba caches compiled code next to each module (``__pycache__``), else in the
    user's cache folder; with neither writable (a read-only install and home, e.g. a
    container) every ``cache=True`` kernel fails to import. Then, and only then,
    NUMBA_CACHE_DIR is set to a per-user folder under the temporary directory. An explicit
    NUMBA_CACHE_DIR wins."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.path.join(here, "screening", "__pycache__")
    user = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")

    def writable(path):  # the folder, or the nearest existing parent numba would create it in
        while not os.path.exists(path):
            parent = os.path.dirname(path)
            if parent == path:
                return False
            path = parent
        return os.access(path, os.W_OK)

    if writable(cache) or writable(user):
        return
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else "user"
    path = os.path.join(tempfile.gettempdir(), f"ssa-numba-cache-{uid}")
    os.environ["NUMBA_CACHE_DIR"] = path
    import sys

    if "numba" in sys.modules:  # imported before ssa: it has read the variable already
        sys.modules["numba"].config.CACHE_DIR = path


_numba_cache_fallback()

# Public name -> module that defines it.
_EXPORTS = {
    "Catalog": "ssa.catalog",
    "LoadReport": "ssa.catalog",
    "screen": "ssa.screening.api",
    "ScreenResult": "ssa.screening.result",
    "assess": "ssa.risk.assess",
    "cdms_from_result": "ssa.risk.assess",
    "write_result_cdms": "ssa.risk.assess",
    "TleCovarianceModel": "ssa.risk.covariance",
    "HardBodyRadius": "ssa.risk.hbr",
    "pc_foster": "ssa.risk.pc",
    "read_cdm": "ssa.cdm",
    "write_kvn": "ssa.cdm",
    "write_xml": "ssa.cdm",
    "build_report": "ssa.report",
    "load_scenario": "ssa.scenario.config",
    "run_scenario": "ssa.scenario.assess",
    "SsaError": "ssa.errors",
    "UserError": "ssa.errors",
    "InputFileError": "ssa.errors",
}
__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ssa' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return __all__
