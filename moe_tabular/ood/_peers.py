"""The peers users pick instead of ours, each built in one place.

CatBoost, LightGBM, pytabkit's RealMLP-TD and TabM-D, and pytorch-tabular's
FT-Transformer and TabTransformer, each with its package's defaults: the
harness's optional baselines (``make_model("catboost", ...)``) and the models
of ``python -m benchmarks perf`` are both built by :func:`make_peer`. A peer
runs only when its package is installed (:func:`missing_package`).

Given the categorical columns, a peer reads them through
:class:`NativeCategories` (CatBoost's ``cat_features``, LightGBM's pandas
categories, pytabkit's category columns, a missing cell one more category);
without them, the frame goes to the peer as it is (numbers, as perf's binned
simulation).
"""

import importlib.util
import os

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline

__all__ = [
    "MISSING_CATEGORY",
    "PEERS",
    "NativeCategories",
    "category_strings",
    "make_peer",
    "missing_package",
]

# peer -> (module it imports, what to pip install)
PEERS = {
    "catboost": ("catboost", "catboost"),
    "lightgbm": ("lightgbm", "lightgbm"),
    "realmlp": ("pytabkit", "pytabkit"),
    "tabm": ("pytabkit", "pytabkit"),
    "ft-transformer": ("pytorch_tabular", "pytorch_tabular"),
    "tab-transformer": ("pytorch_tabular", "pytorch_tabular"),
}
_TRANSFORMERS = {"ft-transformer": "FTTransformer", "tab-transformer": "TabTransformer"}
MISSING_CATEGORY = "__missing__"  # a missing categorical cell, for the peers


def missing_package(model):
    """The pip name an optional peer needs and lacks here, else None.

    Parameters
    ----------
    model : str
        A model name; one that is not in :data:`PEERS` needs nothing.

    Returns
    -------
    package : str or None
        What to ``pip install``, or None when nothing is missing.

    Examples
    --------
    >>> from moe_tabular.ood._peers import missing_package
    >>> missing_package("hgb") is None
    True
    """
    module, pip_name = PEERS.get(model, (None, None))
    if module is None or importlib.util.find_spec(module) is not None:
        return None
    return pip_name


def category_strings(values):
    """Categorical cells as strings, a missing cell as :data:`MISSING_CATEGORY`.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood._peers import category_strings
    >>> category_strings(pd.Series(["a", None, 1])).tolist()
    ['a', '__missing__', '1']
    """
    return values.astype(object).where(values.notna(), MISSING_CATEGORY).astype(str)


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
    >>> from moe_tabular.ood._peers import NativeCategories
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
            c: sorted(set(category_strings(X[c]))) for c in self.categorical
        }
        numeric = [c for c in X.columns if c not in self.categories_]
        self.medians_ = {c: float(X[c].astype(float).median()) for c in numeric}
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        """The frame the peer reads."""
        columns = {}
        for c in X.columns:
            values = X[c].reset_index(drop=True)
            if c in self.categories_:
                values = category_strings(values)
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


def _framed(peer, categorical, **frame):
    """``peer`` behind a :class:`NativeCategories` frame, unless ``categorical``
    is None (then the frame already is what the peer reads)."""
    if categorical is None:
        return peer
    return make_pipeline(NativeCategories(categorical=categorical, **frame), peer)


def make_peer(model, *, seed, categorical=None, n_threads=1, **params):
    """An unfitted peer classifier with its package's defaults.

    Parameters
    ----------
    model : str
        A key of :data:`PEERS`: ``"catboost"``, ``"lightgbm"``, ``"realmlp"``,
        ``"tabm"`` (pytabkit's RealMLP-TD and TabM-D, on the CPU),
        ``"ft-transformer"`` or ``"tab-transformer"`` (pytorch-tabular, 200
        epochs of batch 128: the paper's Auto MPG protocol).

    seed : int
        The peer's seed.

    categorical : list of str or None, default=None
        The categorical columns: the peer reads the frame through
        :class:`NativeCategories` (CatBoost also gets them as
        ``cat_features``). None: the frame goes to the peer as it is (numbers
        without missing cells; the pytorch-tabular models then treat its
        non-numeric columns as categorical).

    n_threads : int or None, default=1
        Threads of the peer; None: its package's default (CatBoost and
        pytabkit: every core; LightGBM: OpenMP's default). Ignored by the
        pytorch-tabular models.

    **params : dict
        More parameters of the peer's estimator (e.g. ``n_epochs`` of a
        pytabkit model).

    Returns
    -------
    estimator : classifier
        The peer, or a pipeline ending in it.

    Examples
    --------
    >>> from moe_tabular.ood._peers import make_peer, missing_package
    >>> if missing_package("lightgbm") is None:
    ...     peer = make_peer("lightgbm", seed=0, categorical=["c"])
    ...     print([name for name, _ in peer.steps])
    ['nativecategories', 'lgbmclassifier']
    """
    package = missing_package(model)
    if package is not None:
        raise ImportError(f"Model {model!r} needs {package}: pip install {package}.")
    if model not in PEERS:
        raise ValueError(f"Unknown peer {model!r}; choose from {', '.join(PEERS)}.")
    if model == "catboost":
        from catboost import CatBoostClassifier

        features = {} if categorical is None else {"cat_features": list(categorical)}
        peer = CatBoostClassifier(
            random_seed=seed,
            thread_count=-1 if n_threads is None else n_threads,
            verbose=0,
            allow_writing_files=False,
            **features,
            **params,
        )
        return _framed(peer, categorical, as_category=False)
    if model == "lightgbm":
        from lightgbm import LGBMClassifier

        peer = LGBMClassifier(random_state=seed, n_jobs=n_threads, verbose=-1, **params)
        return _framed(peer, categorical)
    if model in ("realmlp", "tabm"):
        from pytabkit import RealMLP_TD_Classifier, TabM_D_Classifier

        Peer = RealMLP_TD_Classifier if model == "realmlp" else TabM_D_Classifier
        peer = Peer(
            device="cpu",
            random_state=seed,
            n_threads=os.cpu_count() if n_threads is None else n_threads,
            verbosity=0,
            **params,
        )
        return _framed(peer, categorical, impute=True)
    from ._tabular_transformers import TabularTransformerClassifier

    return TabularTransformerClassifier(
        model=_TRANSFORMERS[model],
        categorical=None if categorical is None else list(categorical),
        **{"max_epochs": 200, "batch_size": 128, "random_state": seed, **params},
    )
