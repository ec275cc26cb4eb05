"""The baselines of the benchmark, each a scikit-learn classifier for one task.

PAPER.md's: logistic regression, and random forest, gradient boosting and MLP
tuned by ``GridSearchCV`` (5-fold stratified, accuracy) over the paper's grids,
on one-hot (drop first) features; histogram gradient boosting with native
categorical support for the unordered categorical columns (ordered ones, bins
included, stay numeric); the majority class; and the optional peers that run when
their package is installed (:data:`OPTIONAL_BASELINES`): CatBoost and LightGBM
with native categorical columns, pytabkit's RealMLP and TabM defaults, and
pytorch-tabular's FT-Transformer and TabTransformer, built by ``_peers.py``
(:func:`~moe_tabular.ood._peers.make_peer`) on one thread.
"""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ._peers import PEERS, make_peer

__all__ = [
    "BASELINES",
    "OPTIONAL_BASELINES",
    "PAPER_GRIDS",
    "make_baseline",
]

# PAPER.md's grids, searched by GridSearchCV(5-fold stratified, accuracy).
PAPER_GRIDS = {
    "rf": {
        "criterion": ["gini", "entropy"],
        "n_estimators": [50, 100, 200],
        "max_depth": [1, 3, None],
    },
    "gb": {
        "learning_rate": [0.01, 0.1, 1],
        "n_estimators": [50, 100, 200],
        "max_depth": [1, 3, 5],
    },
    "mlp": {
        "hidden_layer_sizes": [(50,), (100,), (100, 50)],
        "alpha": [1e-4, 1e-3, 1e-2],
        "learning_rate": ["constant", "adaptive"],
    },
}

BASELINES = (
    "logreg",
    "rf",
    "gb",
    "mlp",
    "hgb",
    "majority",
    *PEERS,
)
# optional baseline -> (module it imports, what to pip install): the peers
OPTIONAL_BASELINES = PEERS
# columns of a real table beyond this many categories share one infrequent column
_MAX_ONE_HOT = 64


def _split_columns(task):
    categorical = [c for c in task.X_train.columns if c in task.categorical]
    numeric = [c for c in task.X_train.columns if c not in task.categorical]
    return categorical, numeric


def _one_hot(task):
    """One-hot (drop first) categorical columns; impute and scale numeric ones."""
    categorical, numeric = _split_columns(task)
    encoder = OneHotEncoder(
        drop="first",
        handle_unknown="ignore",
        max_categories=None if task.bin_target else _MAX_ONE_HOT,
        sparse_output=False,
    )
    scaler = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
    )
    return ColumnTransformer(
        [("categorical", encoder, categorical), ("numeric", scaler, numeric)],
        sparse_threshold=0,
    )


def _is_ordered_category(dtype):
    return isinstance(dtype, pd.CategoricalDtype) and bool(dtype.ordered)


def _is_number(dtype):
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(
        dtype
    )


def _native_categorical(task, seed):
    """HistGradientBoosting: only unordered categorical columns declared categorical.

    Ordered columns are numeric to the trees, split at thresholds: numbers and
    integer-coded bins as they are (Auto MPG's and the simulations' bins,
    categorical to the one-hot baselines), ordered categories as their codes in
    the dtype's order. Unordered categories become ordinal codes declared in
    ``categorical_features``.
    """
    dtypes = task.X_train.dtypes
    categorical, numeric = _split_columns(task)
    ordered = [c for c in categorical if _is_ordered_category(dtypes[c])]
    numeric = [c for c in categorical if _is_number(dtypes[c])] + numeric
    unordered = [c for c in categorical if c not in ordered and c not in numeric]
    codes = {
        "handle_unknown": "use_encoded_value",
        "unknown_value": np.nan,
        "encoded_missing_value": np.nan,
    }
    levels = [list(dtypes[c].categories) for c in ordered]
    columns = ColumnTransformer(
        [
            ("categorical", OrdinalEncoder(**codes, max_categories=255), unordered),
            ("ordered", OrdinalEncoder(categories=levels or "auto", **codes), ordered),
            ("numeric", "passthrough", numeric),
        ]
    )
    mask = [True] * len(unordered) + [False] * (len(ordered) + len(numeric))
    model = HistGradientBoostingClassifier(categorical_features=mask, random_state=seed)
    return make_pipeline(columns, model)


def _grid(estimator, grid):
    return GridSearchCV(
        estimator, grid, scoring="accuracy", cv=StratifiedKFold(n_splits=5), n_jobs=1
    )


def make_baseline(model, task, *, seed):
    """An unfitted baseline for a task (see :func:`make_model`); raises if unknown."""
    if model == "logreg":
        return make_pipeline(_one_hot(task), LogisticRegression(max_iter=2000))
    if model == "rf":
        grid = {f"randomforestclassifier__{k}": v for k, v in PAPER_GRIDS["rf"].items()}
        forest = RandomForestClassifier(random_state=seed)
        return _grid(make_pipeline(_one_hot(task), forest), grid)
    if model == "gb":
        grid = {
            f"gradientboostingclassifier__{k}": v for k, v in PAPER_GRIDS["gb"].items()
        }
        boosting = GradientBoostingClassifier(random_state=seed)
        return _grid(make_pipeline(_one_hot(task), boosting), grid)
    if model == "mlp":
        grid = {f"mlpclassifier__{k}": v for k, v in PAPER_GRIDS["mlp"].items()}
        mlp = MLPClassifier(learning_rate_init=0.01, max_iter=2000, random_state=seed)
        return _grid(make_pipeline(_one_hot(task), mlp), grid)
    if model == "hgb":
        return _native_categorical(task, seed)
    if model == "majority":
        return DummyClassifier(strategy="prior")
    if model in OPTIONAL_BASELINES:  # one thread per run, as every model here
        return make_peer(model, seed=seed, categorical=_split_columns(task)[0])
    raise ValueError(
        f"Unknown model {model!r}; choose 'moe', 'moe:<config>' or one of "
        f"{', '.join(BASELINES)}."
    )
