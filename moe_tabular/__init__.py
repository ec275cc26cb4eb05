"""moe_tabular: attention as a mixture of column experts for tabular data."""

from ._estimators import MoECBOWClassifier, MoECBOWRegressor
from ._tokenizer import ColumnTokenizer

__version__ = "0.1.0"

__all__ = ["ColumnTokenizer", "MoECBOWClassifier", "MoECBOWRegressor", "__version__"]
