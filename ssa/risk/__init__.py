"""Collision risk: probability of collision, TLE covariance model, hard-body radius.

Front door: ``assess`` fills the risk columns of a screening result; the Pc
methods live in ``ssa.risk.pc``, the covariance model in
``ssa.risk.covariance`` and hard-body radii in ``ssa.risk.hbr``.
"""

from ssa.risk.assess import (
    assess,
    assess_cdm,
    assess_result,
    cdms_from_result,
    write_result_cdms,
)
from ssa.risk.covariance import CovarianceModel, TleCovarianceModel, rtn_to_inertial
from ssa.risk.hbr import HardBodyRadius
from ssa.risk.pc import (
    PC_METHODS,
    PcResult,
    compute_pc,
    max_pc_scaled,
    max_pc_socrates,
    pc_2d_valid,
    pc_chan,
    pc_foster,
    pc_monte_carlo,
)

__all__ = [
    "CovarianceModel",
    "HardBodyRadius",
    "TleCovarianceModel",
    "assess",
    "assess_cdm",
    "assess_result",
    "cdms_from_result",
    "PC_METHODS",
    "PcResult",
    "compute_pc",
    "max_pc_scaled",
    "max_pc_socrates",
    "pc_2d_valid",
    "pc_chan",
    "pc_foster",
    "pc_monte_carlo",
    "rtn_to_inertial",
    "write_result_cdms",
]
