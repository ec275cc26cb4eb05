"""Out-of-distribution evaluation: split builders and the paper's simulation.

Uses only numpy, pandas and scikit-learn.
"""

from ._simulation import (
    PAPER_SEEDS,
    PAPER_SETTINGS,
    CorrelationShiftData,
    SimulationSetting,
    make_correlation_shift,
)
from ._splits import (
    DomainKFold,
    DomainSplit,
    ExtrapolationSplit,
    IIDSplit,
    LeaveOneDomainOut,
    drop_domain,
)

__all__ = [
    "PAPER_SEEDS",
    "PAPER_SETTINGS",
    "CorrelationShiftData",
    "DomainKFold",
    "DomainSplit",
    "ExtrapolationSplit",
    "IIDSplit",
    "LeaveOneDomainOut",
    "SimulationSetting",
    "drop_domain",
    "make_correlation_shift",
]
