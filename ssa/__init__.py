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

__version__ = "0.1.0"

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
