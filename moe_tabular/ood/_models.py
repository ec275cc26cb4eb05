"""Models of the benchmark: our estimator under named configs, and the baselines.

``"moe:<config>"`` is :class:`~moe_tabular.MoECBOWClassifier` with the
parameters of ``MOE_CONFIGS[config]`` (``"moe"`` alone is ``"moe:default"``);
a config with ``n_members=K`` is a seed ensemble of K of them, soft-voted
(:class:`SeedEnsembleClassifier`).
Any other name is a baseline (``_baselines.py``: the paper's, HistGB, the
majority class, and the optional peers of ``_peers.py`` that run when their
package is installed).

:class:`ModelSpec` is the one place a model's name is read: its family, its MoE
config and overrides, the ``@oracle`` suffix and the label of its runs.
"""

import ast
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._baselines import (
    BASELINES,
    OPTIONAL_BASELINES,
    PAPER_GRIDS,
    make_baseline,
)
from ._peers import missing_package
from ._tasks import PROTOCOLS

__all__ = [
    "BASELINES",
    "MOE_CONFIGS",
    "OPTIONAL_BASELINES",
    "PAPER_GRIDS",
    "ModelSpec",
    "SeedEnsembleClassifier",
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
        "ordinal_embedding": False,  # a vector per category, the paper's
        "target_weight": 1.0,
        "learning_rate": 1e-3,
        "learning_rate_schedule": "constant",  # plain Adam
        "weight_decay": 0.0,
        "max_epochs": 200,
        "early_stopping": False,
        "batch_size": paper_batch_size,
    },
}

# grid-searched baselines: the only ones an "@oracle" can choose hyperparameters of
GRIDDED = ("rf", "gb", "mlp")
ORACLE = "@oracle"  # hyperparameters chosen on OOD rows (reported apart)
TRANSDUCTIVE = "@transductive"  # OOD rows' features joined the training rows


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


class SeedEnsembleClassifier(ClassifierMixin, BaseEstimator):
    """A soft vote of classifiers that differ only in their seed.

    Every member is fitted on ``X`` and ``y`` exactly as given, so a row whose
    label is None (the transductive protocol's unlabeled OOD rows) reaches each
    member, which reads it as unlabeled; the vote itself never reads ``y``.
    ``predict_proba`` is the mean of the members' probabilities and ``predict``
    its most probable class. (scikit-learn's ``VotingClassifier`` encodes ``y``
    before its members see it, and rejects None labels.)

    Parameters
    ----------
    estimators : list of (str, estimator)
        The named members, unfitted; they must learn the same classes.

    Attributes
    ----------
    estimators_ : list of estimator
        The fitted members, in order.

    classes_ : ndarray of shape (n_classes,)
        The members' classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from moe_tabular.ood._models import SeedEnsembleClassifier
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> members = [(f"m{C}", LogisticRegression(C=C)) for C in (0.1, 10.0)]
    >>> vote = SeedEnsembleClassifier(members).fit(X, y)
    >>> vote.predict([[0.2], [2.9]]).tolist()
    [0, 1]
    """

    def __init__(self, estimators):
        self.estimators = estimators

    def fit(self, X, y):
        """Fit every member on ``X`` and ``y`` as given."""
        members = [clone(member).fit(X, y) for _, member in self.estimators]
        classes = members[0].classes_
        for (name, _), member in zip(self.estimators, members, strict=True):
            if not np.array_equal(member.classes_, classes):
                raise ValueError(
                    f"Member {name!r} learned classes {member.classes_.tolist()}; "
                    f"the first member learned {classes.tolist()}."
                )
        self.estimators_ = members
        self.classes_ = classes
        return self

    def predict_proba(self, X):
        """The mean of the members' predicted probabilities."""
        check_is_fitted(self)
        return np.mean([member.predict_proba(X) for member in self.estimators_], 0)

    def predict(self, X):
        """The class of highest mean probability."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


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
        :class:`SeedEnsembleClassifier` (soft vote) of K models with
        ``random_state`` ``seed``, ``seed + 1``, ..., ``seed + K - 1``, each
        fitted on the rows as given (the transductive protocol's unlabeled
        rows included), the first of them the single model of that seed.

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
        return SeedEnsembleClassifier(
            [(f"member_{r}", member) for r, member in enumerate(members)]
        )
    return make_baseline(model, task, seed=seed)
