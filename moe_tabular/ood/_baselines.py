"""The baselines of the benchmark, each a scikit-learn classifier for one task.

PAPER.md's: logistic regression, and random forest, gradient boosting and MLP
tuned by ``GridSearchCV`` (5-fold stratified, accuracy) over the paper's grids,
on one-hot (drop first) features; histogram gradient boosting with native
categorical support for the unordered categorical columns (ordered ones, bins
included, stay numeric); the majority class; and the optional peers that run when
their package is installed (:data:`OPTIONAL_BASELINES`): CatBoost and LightGBM
with native categorical columns, pytabkit's RealMLP and TabM defaults, and
pytorch-tabular's FT-Transformer and TabTransformer.
"""

import importlib.util

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
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

from ._tabular_transformers import TabularTransformerClassifier

__all__ = [
    "BASELINES",
    "OPTIONAL_BASELINES",
    "PAPER_GRIDS",
    "NativeCategories",
    "make_baseline",
    "missing_package",
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
    "catboost",
    "lightgbm",
    "realmlp",
    "tabm",
    "ft-transformer",
    "tab-transformer",
)
# optional baseline -> (module it imports, what to pip install)
OPTIONAL_BASELINES = {
    "catboost": ("catboost", "catboost"),
    "lightgbm": ("lightgbm", "lightgbm"),
    "realmlp": ("pytabkit", "pytabkit"),
    "tabm": ("pytabkit", "pytabkit"),
    "ft-transformer": ("pytorch_tabular", "pytorch_tabular"),
    "tab-transformer": ("pytorch_tabular", "pytorch_tabular"),
}
_TRANSFORMERS = {"ft-transformer": "FTTransformer", "tab-transformer": "TabTransformer"}
# columns of a real table beyond this many categories share one infrequent column
_MAX_ONE_HOT = 64
_MISSING = "__missing__"  # the category of a missing cell, for native-categorical peers


def _installed(module):
    return importlib.util.find_spec(module) is not None


def missing_package(model):
    """The pip name an optional baseline needs and lacks here, else None.

    Examples
    --------
    >>> from moe_tabular.ood._baselines import missing_package
    >>> missing_package("hgb") is None
    True
    """
    module, pip_name = OPTIONAL_BASELINES.get(model, (None, None))
    if module is None or _installed(module):
        return None
    return pip_name


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


class NativeCategories(TransformerMixin, BaseEstimator):
    """A frame for peers that read categorical columns themselves.

    Categorical columns become strings (a missing cell: one more category),
    as pandas ``category`` columns over the training categories when
    ``as_category`` (LightGBM, pytabkit), else object columns (CatBoost).
    Numeric columns become float; with ``impute`` their missing cells take
    the training median (pytabkit needs no NaN).

    Parameters
    ----------
    categorical : list of str, default=()
        The categorical columns.

    as_category : bool, default=True
        Whether categorical columns are pandas ``category`` columns.

    impute : bool, default=False
        Whether numeric missing cells take the training median.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood._baselines import NativeCategories
    >>> X = pd.DataFrame({"c": ["a", None, "b"], "x": [1.0, None, 3.0]})
    >>> Xt = NativeCategories(categorical=["c"], impute=True).fit_transform(X)
    >>> list(Xt["c"].cat.categories), Xt["x"].tolist()
    (['__missing__', 'a', 'b'], [1.0, 2.0, 3.0])
    >>> unseen = X.assign(c="z")  # a category the training rows never had
    >>> NativeCategories(categorical=["c"]).fit(X).transform(unseen)["c"].isna().all()
    np.True_
    """

    def __init__(self, *, categorical=(), as_category=True, impute=False):
        self.categorical = categorical
        self.as_category = as_category
        self.impute = impute

    def fit(self, X, y=None):
        """Learn the training categories and medians."""
        self.categories_ = {
            c: sorted(set(self._strings(X[c]))) for c in self.categorical
        }
        numeric = [c for c in X.columns if c not in self.categories_]
        self.medians_ = {c: float(X[c].astype(float).median()) for c in numeric}
        self.n_features_in_ = X.shape[1]
        return self

    @staticmethod
    def _strings(values):
        return values.astype(object).where(values.notna(), _MISSING).astype(str)

    def transform(self, X):
        """The frame the peer reads."""
        columns = {}
        for c in X.columns:
            values = X[c].reset_index(drop=True)
            if c in self.categories_:
                values = self._strings(values)
                if self.as_category:  # an unseen category: a missing cell
                    known = self.categories_[c]
                    values = pd.Categorical(
                        values.where(values.isin(known)), categories=known
                    )
            else:
                values = values.astype(float)
                if self.impute:
                    median = self.medians_[c]
                    values = values.fillna(0.0 if np.isnan(median) else median)
            columns[c] = values
        return pd.DataFrame(columns)


def _optional_baseline(model, task, seed):
    """CatBoost, LightGBM, RealMLP, TabM or a pytorch-tabular transformer."""
    package = missing_package(model)
    if package is not None:
        raise ImportError(f"Model {model!r} needs {package}: pip install {package}.")
    categorical, _ = _split_columns(task)
    if model == "catboost":
        from catboost import CatBoostClassifier

        boosting = CatBoostClassifier(
            cat_features=categorical,
            random_seed=seed,
            thread_count=1,  # one thread per run, as every model of the harness
            verbose=0,
            allow_writing_files=False,
        )
        frame = NativeCategories(categorical=categorical, as_category=False)
        return make_pipeline(frame, boosting)
    if model == "lightgbm":
        from lightgbm import LGBMClassifier

        boosting = LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1)
        return make_pipeline(NativeCategories(categorical=categorical), boosting)
    if model in ("realmlp", "tabm"):
        from pytabkit import RealMLP_TD_Classifier, TabM_D_Classifier

        Peer = RealMLP_TD_Classifier if model == "realmlp" else TabM_D_Classifier
        peer = Peer(device="cpu", random_state=seed, n_threads=1, verbosity=0)
        frame = NativeCategories(categorical=categorical, impute=True)
        return make_pipeline(frame, peer)
    return TabularTransformerClassifier(
        model=_TRANSFORMERS[model],
        categorical=categorical,
        max_epochs=200,
        batch_size=128,
        random_state=seed,
    )


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
    if model in OPTIONAL_BASELINES:
        return _optional_baseline(model, task, seed)
    raise ValueError(
        f"Unknown model {model!r}; choose 'moe', 'moe:<config>' or one of "
        f"{', '.join(BASELINES)}."
    )
