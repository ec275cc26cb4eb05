"""Models of the benchmark: our estimator under named configs, and the baselines.

``"moe:<config>"`` is :class:`~moe_tabular.MoECBOWClassifier` with the
parameters of ``MOE_CONFIGS[config]`` (``"moe"`` alone is ``"moe:default"``);
a config with ``n_members=K`` is a seed ensemble of K of them, soft-voted.
The baselines follow PAPER.md: logistic regression, and random forest,
gradient boosting and MLP tuned by ``GridSearchCV`` (5-fold stratified,
accuracy) over the paper's grids, on one-hot (drop first) features; plus
histogram gradient boosting with native categorical support, the majority
class (the floor every model must clear on imbalanced tables), and, when
``pytorch_tabular`` is installed, FT-Transformer and TabTransformer.
"""

import ast

import numpy as np
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

from ._tabular_transformers import (
    TabularTransformerClassifier,
    pytorch_tabular_available,
)

__all__ = [
    "BASELINES",
    "MOE_CONFIGS",
    "PAPER_GRIDS",
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
    "ft-transformer",
    "tab-transformer",
)
_OPTIONAL = {"ft-transformer": "FTTransformer", "tab-transformer": "TabTransformer"}
# columns of a real table beyond this many categories share one infrequent column
_MAX_ONE_HOT = 64


def available_models(moe_configs=None):
    """Names of every model that can run here.

    Parameters
    ----------
    moe_configs : dict or None, default=None
        Configs added to :data:`MOE_CONFIGS` (name -> parameters).

    Returns
    -------
    names : list of str
        ``"moe:<config>"`` for each config, then the baselines (the
        pytorch-tabular ones only when it is installed).

    Examples
    --------
    >>> from moe_tabular.ood import available_models
    >>> available_models()[:5]
    ['moe:default', 'moe:paper', 'logreg', 'rf', 'gb']
    """
    configs = {**MOE_CONFIGS, **(moe_configs or {})}
    optional_ok = pytorch_tabular_available()
    baselines = [b for b in BASELINES if b not in _OPTIONAL or optional_ok]
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


def _split_name(model):
    family, _, config = model.partition(":")
    if family == "moe":
        return family, config or "default"
    return family, config


def _moe_params(model, task, *, params=None, moe_configs=None):
    """The resolved MoECBOWClassifier parameters of a ``"moe:<config>"`` model."""
    _, config = _split_name(model)
    configs = {**MOE_CONFIGS, **(moe_configs or {})}
    if config not in configs:
        raise ValueError(
            f"Unknown MoE config {config!r}; choose from {sorted(configs)} or add "
            "one (moe_configs= or the CLI's --config)."
        )
    merged = {**configs[config], **(params or {})}
    return {k: v(task) if callable(v) else v for k, v in merged.items()}


def _one_hot(task):
    """One-hot (drop first) categorical columns; impute and scale numeric ones."""
    categorical = [c for c in task.X_train.columns if c in task.categorical]
    numeric = [c for c in task.X_train.columns if c not in task.categorical]
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
    categorical = [c for c in task.X_train.columns if c in task.categorical]
    numeric = [c for c in task.X_train.columns if c not in task.categorical]
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


def _grid(estimator, grid):
    return GridSearchCV(
        estimator, grid, scoring="accuracy", cv=StratifiedKFold(n_splits=5), n_jobs=1
    )


def make_model(model, task, *, seed, params=None, moe_configs=None):
    """Build an unfitted model for a task.

    Parameters
    ----------
    model : str
        ``"moe"`` or ``"moe:<config>"``, or a baseline: ``"logreg"``, ``"rf"``,
        ``"gb"``, ``"mlp"`` (these four on one-hot features; the last three
        inside ``GridSearchCV`` over :data:`PAPER_GRIDS`), ``"hgb"`` (native
        categorical support), ``"majority"`` (the most frequent training
        class, :class:`~sklearn.dummy.DummyClassifier`), ``"ft-transformer"``,
        ``"tab-transformer"`` (need ``pytorch_tabular``).

    task : Task
        The task; its columns decide the preprocessing and the paper's batch.

    seed : int
        ``random_state`` of the model.

    params : dict or None, default=None
        Overrides of the MoE config's parameters (ignored by baselines). The
        key ``n_members`` (default 1) is not a parameter of the estimator: K
        above 1 makes a :class:`~sklearn.ensemble.VotingClassifier` (soft
        vote) of K models with ``random_state`` ``seed``, ``seed + 1``, ...,
        ``seed + K - 1``, the first of them the single model of that seed.

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
    family, _ = _split_name(model)
    if family == "moe":
        from .. import MoECBOWClassifier

        resolved = _moe_params(model, task, params=params, moe_configs=moe_configs)
        n_members = resolved.pop("n_members", 1)
        integer = isinstance(n_members, int | np.integer)
        if not integer or isinstance(n_members, bool) or n_members < 1:
            raise ValueError(
                f"n_members of {model!r} must be a positive int; got {n_members!r}."
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
    if model in _OPTIONAL:
        if not pytorch_tabular_available():
            raise ImportError(
                f"Model {model!r} needs pytorch_tabular: pip install pytorch_tabular."
            )
        return TabularTransformerClassifier(
            model=_OPTIONAL[model],
            categorical=list(task.categorical),
            max_epochs=200,
            batch_size=128,
            random_state=seed,
        )
    raise ValueError(
        f"Unknown model {model!r}; choose 'moe', 'moe:<config>' or one of "
        f"{', '.join(BASELINES)}."
    )
