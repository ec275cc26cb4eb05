"""Models of the benchmark: our estimator under named configs, and the baselines.

``"moe:<config>"`` is :class:`~moe_tabular.MoECBOWClassifier` with the
parameters of ``MOE_CONFIGS[config]`` (``"moe"`` alone is ``"moe:default"``);
a config with ``n_members=K`` is a seed ensemble of K of them, soft-voted.
The baselines follow PAPER.md: logistic regression, and random forest,
gradient boosting and MLP tuned by ``GridSearchCV`` (5-fold stratified,
accuracy) over the paper's grids, on one-hot (drop first) features; plus
histogram gradient boosting with native categorical support, the majority
class (the floor every model must clear on imbalanced tables), and optional
baselines that run when their package is installed: CatBoost and LightGBM
with native categorical columns, pytabkit's RealMLP and TabM defaults, and
pytorch-tabular's FT-Transformer and TabTransformer.

:class:`ModelSpec` is the one place a model's name is read: its family, its MoE
config and overrides, the ``@oracle`` suffix and the label of its runs.
"""

import ast
import importlib.util
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ._tabular_transformers import TabularTransformerClassifier
from ._tasks import PROTOCOLS

__all__ = [
    "BASELINES",
    "MOE_CONFIGS",
    "OPTIONAL_BASELINES",
    "PAPER_GRIDS",
    "ModelSpec",
    "available_models",
    "make_model",
    "paper_batch_size",
    "parse_params",
]


def paper_batch_size(task):
    """The paper's batch in rows: ``round(128 / n_columns)``, at least 1.

    The paper's batch is 128 masked copies, one per column of a row, so it
    holds ``128 / n_columns`` rows.

    Parameters
    ----------
    task : Task
        The task; only ``task.n_columns`` (features plus target) is read.

    Returns
    -------
    batch_size : int
        Rows per step.

    Examples
    --------
    >>> from moe_tabular.ood import make_task, paper_batch_size
    >>> paper_batch_size(make_task("auto-mpg", seed=0))  # 6 features + target
    18
    """
    return max(1, round(128 / task.n_columns))


# name -> MoECBOWClassifier parameters. A callable value is called with the Task.
MOE_CONFIGS = {
    "default": {},
    "paper": {
        "d_embedding": 20,
        "n_heads": 5,
        "n_layers": 1,
        "d_ffn": 5,
        "dropout": 0.1,
        "norm_first": False,  # post-LayerNorm block
        "n_bins": 10,
        "shared_vocabulary": True,
        "target_weight": 1.0,
        "learning_rate": 1e-3,
        "learning_rate_schedule": "constant",  # plain Adam
        "max_epochs": 200,
        "early_stopping": False,
        "batch_size": paper_batch_size,
    },
}

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
# grid-searched baselines: the only ones an "@oracle" can choose hyperparameters of
GRIDDED = ("rf", "gb", "mlp")
ORACLE = "@oracle"  # hyperparameters chosen on OOD rows (reported apart)
TRANSDUCTIVE = "@transductive"  # OOD rows' features joined the training rows
# columns of a real table beyond this many categories share one infrequent column
_MAX_ONE_HOT = 64
_MISSING = "__missing__"  # the category of a missing cell, for native-categorical peers


def _installed(module):
    return importlib.util.find_spec(module) is not None


def missing_package(model):
    """The pip name an optional baseline needs and lacks here, else None.

    Examples
    --------
    >>> from moe_tabular.ood._models import missing_package
    >>> missing_package("hgb") is None
    True
    """
    module, pip_name = OPTIONAL_BASELINES.get(model, (None, None))
    if module is None or _installed(module):
        return None
    return pip_name


@dataclass(frozen=True)
class ModelSpec:
    """One model of the harness, read from its name: the one place names are parsed.

    ``"moe:<config>"`` (``"moe"`` alone: ``"moe:default"``) is our estimator
    under a config of :data:`MOE_CONFIGS`; any other name is a baseline. The
    suffix ``"@oracle"`` asks for the OOD oracle of a grid-searched baseline.
    The label names the model in ``runs.csv``: the MoE overrides in brackets,
    then ``@transductive`` for a MoE model trained under the transductive
    protocol and ``@oracle`` for an oracle.

    Parameters
    ----------
    family : str
        ``"moe"``, or the baseline's name.

    config : str, default=""
        The MoE config; empty for a baseline.

    params : dict, default={}
        Overrides of the MoE config (a baseline keeps none).

    oracle : bool, default=False
        Whether the grid point is chosen on half of the OOD rows.

    protocol : {"standard", "transductive"}, default="standard"
        How the MoE model is trained (a baseline is always ``"standard"``).

    Examples
    --------
    >>> from moe_tabular.ood import ModelSpec
    >>> spec = ModelSpec.parse("moe", params={"max_epochs": 2})
    >>> spec.name, spec.label, spec.is_moe
    ('moe:default', 'moe:default[max_epochs=2]', True)
    >>> ModelSpec.parse("rf@oracle", params={"max_epochs": 2}).label
    'rf@oracle'
    >>> ModelSpec.parse("moe:paper", protocol="transductive").label
    'moe:paper@transductive'
    >>> ModelSpec.from_label("moe:default[max_epochs=2,d_ffn=(4,)]@oracle")
    ModelSpec(family='moe', config='default', params={'max_epochs': 2, 'd_ffn': (4,)}, oracle=True, protocol='standard')
    """  # noqa: E501 - a doctest's output line

    family: str
    config: str = ""
    params: dict = field(default_factory=dict)
    oracle: bool = False
    protocol: str = "standard"

    @classmethod
    def parse(cls, name, params=None, *, protocol="standard"):
        """The spec of a model name as given to the harness (``"rf@oracle"``)."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}.")
        oracle = name.endswith(ORACLE)
        base = name[: -len(ORACLE)] if oracle else name
        family, _, config = base.partition(":")
        if family != "moe":
            return cls(base, oracle=oracle)
        return cls(
            "moe", config or "default", dict(params or {}), oracle, protocol=protocol
        )

    @classmethod
    def from_label(cls, label):
        """The spec of a ``runs.csv`` label (overrides read back as literals)."""
        oracle = label.endswith(ORACLE)
        label = label[: -len(ORACLE)] if oracle else label
        protocol = "standard"
        if label.endswith(TRANSDUCTIVE):
            label, protocol = label[: -len(TRANSDUCTIVE)], "transductive"
        name, bracket, rest = label.partition("[")
        params = {}
        if bracket and rest.endswith("]"):
            try:
                call = ast.parse(f"f({rest[:-1]})", mode="eval").body
                params = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
            except (SyntaxError, ValueError):
                name = label  # not written by the harness: keep it whole
        spec = cls.parse(name, params, protocol=protocol)
        return cls(spec.family, spec.config, spec.params, oracle, spec.protocol)

    @property
    def is_moe(self):
        """Whether this is our estimator (under some config)."""
        return self.family == "moe"

    @property
    def name(self):
        """``"moe:<config>"`` or the baseline's name: what :func:`make_model` builds."""
        return f"moe:{self.config}" if self.is_moe else self.family

    @property
    def label(self):
        """The ``model`` column of this model's runs."""
        label = self.name
        if self.params:
            label += "[" + ",".join(f"{k}={v!r}" for k, v in self.params.items()) + "]"
        if self.protocol == "transductive":
            label += TRANSDUCTIVE
        return label + (ORACLE if self.oracle else "")

    def check(self, moe_configs=None):
        """Raise a ValueError if this model cannot run here, naming why."""
        if self.oracle and self.family not in GRIDDED:
            raise ValueError(
                f"Model {self.name + ORACLE!r}: only the grid-searched models "
                f"{', '.join(GRIDDED)} take {ORACLE!r}."
            )
        if self.is_moe:
            if self.config in {**MOE_CONFIGS, **(moe_configs or {})}:
                return
        elif self.family in BASELINES:
            package = missing_package(self.family)
            if package is None:
                return
            raise ValueError(
                f"Model {self.family!r} needs {package}, not installed: "
                f"pip install {package}."
            )
        known = available_models(moe_configs)
        raise ValueError(
            f"Unknown model {self.name!r}; available: {', '.join(sorted(known))}."
        )


def available_models(moe_configs=None):
    """Names of every model that can run here.

    Parameters
    ----------
    moe_configs : dict or None, default=None
        Configs added to :data:`MOE_CONFIGS` (name -> parameters).

    Returns
    -------
    names : list of str
        ``"moe:<config>"`` for each config, then the baselines (the optional
        ones only when their package is installed).

    Examples
    --------
    >>> from moe_tabular.ood import available_models
    >>> available_models()[:5]
    ['moe:default', 'moe:paper', 'logreg', 'rf', 'gb']
    """
    configs = {**MOE_CONFIGS, **(moe_configs or {})}
    baselines = [b for b in BASELINES if missing_package(b) is None]
    return [f"moe:{name}" for name in configs] + baselines


def parse_params(items):
    """Parse ``["key=value", ...]`` into a dict, values as Python literals.

    Parameters
    ----------
    items : iterable of str
        ``key=value`` strings; a value that is not a Python literal stays a
        string (``device=cpu``).

    Returns
    -------
    params : dict
        Parsed parameters, in order.

    Examples
    --------
    >>> from moe_tabular.ood import parse_params
    >>> parse_params(["shared_vocabulary=False", "learning_rate=1e-2", "device=cpu"])
    {'shared_vocabulary': False, 'learning_rate': 0.01, 'device': 'cpu'}
    """
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"Expected key=value; got {item!r}.")
        try:
            params[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[key.strip()] = value.strip()
    return params


def _moe_params(spec, task, *, moe_configs=None):
    """The resolved MoECBOWClassifier parameters of a MoE spec."""
    configs = {**MOE_CONFIGS, **(moe_configs or {})}
    if spec.config not in configs:
        raise ValueError(
            f"Unknown MoE config {spec.config!r}; choose from {sorted(configs)} or "
            "add one (moe_configs= or the CLI's --config)."
        )
    merged = {**configs[spec.config], **spec.params}
    return {k: v(task) if callable(v) else v for k, v in merged.items()}


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


def _native_categorical(task, seed):
    """HistGradientBoosting on ordinal codes, the categorical columns declared."""
    categorical, numeric = _split_columns(task)
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=255,
    )
    columns = ColumnTransformer(
        [("categorical", encoder, categorical), ("numeric", "passthrough", numeric)]
    )
    mask = [True] * len(categorical) + [False] * len(numeric)
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
    >>> from moe_tabular.ood._models import NativeCategories
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


def make_model(model, task, *, seed, params=None, moe_configs=None):
    """Build an unfitted model for a task.

    Parameters
    ----------
    model : str or ModelSpec
        ``"moe"`` or ``"moe:<config>"``, or a baseline: ``"logreg"``, ``"rf"``,
        ``"gb"``, ``"mlp"`` (these four on one-hot features; the last three
        inside ``GridSearchCV`` over :data:`PAPER_GRIDS`), ``"hgb"`` (native
        categorical support), ``"majority"`` (the most frequent training
        class, :class:`~sklearn.dummy.DummyClassifier`), and the optional
        :data:`OPTIONAL_BASELINES`, each with its package's defaults on one
        thread: ``"catboost"`` (native ``cat_features``), ``"lightgbm"``
        (pandas categorical columns), ``"realmlp"`` and ``"tabm"`` (pytabkit's
        RealMLP-TD and TabM-D), ``"ft-transformer"`` and ``"tab-transformer"``
        (pytorch-tabular). An ``"@oracle"`` suffix is ignored here.

    task : Task
        The task; its columns decide the preprocessing and the paper's batch.

    seed : int
        ``random_state`` of the model.

    params : dict or None, default=None
        Overrides of the MoE config's parameters (ignored by baselines; with a
        ModelSpec, its own are used). The key ``n_members`` (default 1) is not
        a parameter of the estimator: K above 1 makes a
        :class:`~sklearn.ensemble.VotingClassifier` (soft vote) of K models
        with ``random_state`` ``seed``, ``seed + 1``, ..., ``seed + K - 1``,
        the first of them the single model of that seed.

    moe_configs : dict or None, default=None
        Configs added to :data:`MOE_CONFIGS`.

    Returns
    -------
    estimator : classifier
        An unfitted scikit-learn classifier.

    Examples
    --------
    >>> from moe_tabular.ood import make_model, make_task
    >>> task = make_task("sim-1-0.1-0", seed=1, n_train=100, n_test=50)
    >>> make_model("moe:paper", task, seed=1).get_params()["batch_size"]
    21
    >>> type(make_model("rf", task, seed=1)).__name__
    'GridSearchCV'
    """
    spec = model if isinstance(model, ModelSpec) else ModelSpec.parse(model, params)
    model = spec.family
    if spec.is_moe:
        from .. import MoECBOWClassifier

        resolved = _moe_params(spec, task, moe_configs=moe_configs)
        n_members = resolved.pop("n_members", 1)
        integer = isinstance(n_members, int | np.integer)
        if not integer or isinstance(n_members, bool) or n_members < 1:
            raise ValueError(
                f"n_members of {spec.name!r} must be a positive int; got {n_members!r}."
            )
        members = [
            MoECBOWClassifier(**{**resolved, "random_state": seed + r})
            for r in range(n_members)
        ]
        if n_members == 1:
            return members[0]
        # a seed ensemble: the mean of the members' predicted probabilities
        return VotingClassifier(
            [(f"member_{r}", member) for r, member in enumerate(members)],
            voting="soft",
        )
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
