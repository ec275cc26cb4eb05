"""moe_tabular: attention as a mixture of column experts for tabular data."""

from ._estimators import MoECBOWClassifier, MoECBOWRegressor
from ._imputer import MoECBOWImputer
from ._plotting import plot_expert_weights
from ._tokenizer import ColumnTokenizer
from ._version import __version__

__all__ = [
    "ColumnTokenizer",
    "MoECBOWClassifier",
    "MoECBOWImputer",
    "MoECBOWRegressor",
    "plot_expert_weights",
    "__version__",
]
