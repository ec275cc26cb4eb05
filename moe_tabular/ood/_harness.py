"""The OOD benchmark harness: suites of (dataset, model, seed) runs.

One run builds a :class:`Task` (training rows, an in-distribution test set and
an out-of-distribution test set), fits one model on the training rows and
scores it on both test sets. :func:`run_suite` dispatches runs through joblib,
locally (``n_jobs``) or on a Dask cluster (``scheduler``), with identical
results: every run is seeded and uses one thread.
"""

import contextlib
import json
import threading
import time
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, PredefinedSplit, train_test_split
from sklearn.pipeline import Pipeline

from ._checkpoint import Checkpoint
from ._models import ModelSpec, make_model
from ._peers import missing_package
from ._report import score_predictions
from ._simulation import PAPER_SEEDS, PAPER_SETTINGS
from ._tasks import (
    NUMERIC_DATASETS,
    REAL_DATASETS,
    TaskOptions,
    _check_dataset,
    needs_files,
    simulation_name,
)

__all__ = [
    "SUITES",
    "Suite",
    "plan_runs",
    "run_one",
    "run_suite",
]


# Torch's and BLAS's thread counts and the warning filters are process-wide:
# the first of the runs under way in a process sets them, the last restores them
# (runs in threads of one process, a threaded Dask worker, run at once; each
# fit draws from its own torch.Generator, so they match one job's results).
_SETTINGS_LOCK = threading.Lock()
_SETTINGS = {"active": 0, "restore": None}
# sklearn's notes on tiny classes in 5-fold CV and on test-only categories; our
# estimators' note on unlabeled rows, which the transductive protocol adds on purpose
_IGNORED_WARNINGS = (
    "The least populated class",
    "Found unknown categories",
    ".* rows have a missing target",
)
# pytorch-lightning 2.6 (under pytabkit) on its own use of torch's pytree, every fit
_IGNORED_FUTURE_WARNINGS = (r"`isinstance\(treespec, LeafSpec\)` is deprecated",)


class Suite(NamedTuple):
    """Datasets, seeds and models a suite runs by default.

    Examples
    --------
    >>> from moe_tabular.ood import SUITES
    >>> quick = SUITES["quick"]
    >>> quick.datasets, quick.models
    (('auto-mpg', 'sim-5-0.9-0', 'sim-1-0.1-0'), ('moe:default', 'logreg', 'hgb'))
    """

    datasets: tuple
    seeds: tuple
    models: tuple
    description: str


_SIMULATION = tuple(simulation_name(s) for s in PAPER_SETTINGS)
_PAPER_MODELS = ("moe:paper", "moe:default", "logreg", "rf", "gb", "mlp", "hgb")
_FAST_MODELS = ("moe:default", "logreg", "hgb")
# the real suite: the trees users would pick instead (CatBoost, LightGBM: optional)
_REAL_MODELS = ("moe:default", "hgb", "logreg", "catboost", "lightgbm", "majority")

SUITES = {
    "quick": Suite(
        ("auto-mpg", "sim-5-0.9-0", "sim-1-0.1-0"),
        PAPER_SEEDS[:1],
        _FAST_MODELS,
        "Auto MPG and two simulation settings, one seed, fast models (~1 min).",
    ),
    "paper-simulation": Suite(
        _SIMULATION,
        PAPER_SEEDS,
        _PAPER_MODELS,
        "The paper's 12 correlation-shift settings x 20 seeds (Tables 3-4).",
    ),
    "auto-mpg": Suite(
        ("auto-mpg",),
        PAPER_SEEDS,
        (*_PAPER_MODELS, "ft-transformer", "tab-transformer"),
        "Auto MPG, train USA, test Europe and Japan (Table 5).",
    ),
    "real": Suite(
        REAL_DATASETS,
        PAPER_SEEDS[:5],
        _REAL_MODELS,
        "The real tables of the registry (the numeric suite's aside), split by "
        "their natural domain, five seeds, our default beside the trees (the "
        "UCI files need data_dir).",
    ),
    "numeric": Suite(
        NUMERIC_DATASETS,
        PAPER_SEEDS[:5],
        _REAL_MODELS,
        "The numeric-heavy tables (loan approval, labour force, college wages) "
        "with the real suite's seeds and models.",
    ),
}
SUITES["paper"] = Suite(
    _SIMULATION + ("auto-mpg",),
    PAPER_SEEDS,
    SUITES["auto-mpg"].models,
    "paper-simulation and auto-mpg.",
)
SUITES["all"] = Suite(
    tuple(dict.fromkeys(SUITES["paper"].datasets + REAL_DATASETS + NUMERIC_DATASETS)),
    PAPER_SEEDS[:5],
    SUITES["auto-mpg"].models,
    "Every dataset, five seeds.",
)


def _apply_settings(n_threads):
    """Set the runs' thread counts and warning filters; return how to undo them."""
    import torch
    from threadpoolctl import threadpool_limits

    torch_threads = torch.get_num_threads()
    limits = threadpool_limits(n_threads) if n_threads else None
    if n_threads:
        torch.set_num_threads(n_threads)
    caught = warnings.catch_warnings()  # entered and left once, under the lock
    caught.__enter__()
    warnings.simplefilter("ignore", ConvergenceWarning)
    for message in _IGNORED_WARNINGS:
        warnings.filterwarnings("ignore", message, UserWarning)
    for message in _IGNORED_FUTURE_WARNINGS:
        warnings.filterwarnings("ignore", message, FutureWarning)

    def restore():
        caught.__exit__(None, None, None)
        torch.set_num_threads(torch_threads)
        if limits is not None:
            limits.restore_original_limits()

    return restore


@contextlib.contextmanager
def _run_settings(n_threads):
    """Run on ``n_threads`` torch and BLAS threads, the harness's warnings ignored.

    The settings are process-wide, so they are shared: the first run to start
    in a process applies them and the last to end restores them, and runs in
    threads of one process go on at once. Nested joblib calls (inside
    scikit-learn) run sequentially, never on the suite's backend: on a Dask
    worker they would otherwise wait for the cluster's busy workers.
    """
    from joblib import parallel_config

    with _SETTINGS_LOCK:
        if _SETTINGS["active"] == 0:
            _SETTINGS["restore"] = _apply_settings(n_threads)
        _SETTINGS["active"] += 1
    try:
        with parallel_config(backend="sequential"):  # joblib's config is per thread
            yield
    finally:
        with _SETTINGS_LOCK:
            _SETTINGS["active"] -= 1
            if _SETTINGS["active"] == 0:
                _SETTINGS.pop("restore")()
                _SETTINGS["restore"] = None


def _score(model, X, y, bin_target):
    if len(y) == 0:
        return score_predictions(y, y, bin_target=bin_target)
    return score_predictions(
        y,
        model.predict(X),
        proba=model.predict_proba(X),
        classes=model.classes_,
        bin_target=bin_target,
    )


def _described_params(spec, fitted):
    if spec.is_moe:
        members = getattr(fitted, "estimators_", [fitted])  # a seed ensemble's
        described = members[0].get_params()
        del described["random_state"]  # the seed column
        if len(members) > 1:
            described["n_members"] = len(members)
    elif hasattr(fitted, "best_params_"):
        described = {k.split("__")[-1]: v for k, v in fitted.best_params_.items()}
    else:
        return ""
    return json.dumps(described, sort_keys=True, default=str)


def _unlabeled_rows(task):
    """Training rows plus the OOD rows' features, their target unknown.

    An unlabeled row's target is None (the estimator reads NaN, None and
    ``pd.NA`` as "no label"; -1 stays a class there): the labels become an
    object column, which the estimator reads back as their own kind. The OOD
    labels never join.
    """
    X = pd.concat([task.X_train, task.X_ood], ignore_index=True)
    unknown = pd.Series([None] * len(task.y_ood), dtype=object, name=task.y_train.name)
    y = pd.concat([task.y_train.astype(object), unknown], ignore_index=True)
    return X, y


def run_one(
    *,
    dataset,
    model,
    seed,
    params=None,
    moe_configs=None,
    options=None,
    n_threads=1,
):
    """Fit one model on one task and score it in and out of distribution.

    Parameters
    ----------
    dataset : str
        Dataset name (see :func:`make_task`).

    model : str
        Model name (see :func:`make_model` and :class:`ModelSpec`). A
        grid-searched baseline with the suffix ``"@oracle"`` (``"rf@oracle"``)
        is the OOD oracle: its grid point is chosen by accuracy on a random
        half of the OOD rows (fitting on the training rows), and it is then
        scored on the other half. Without the suffix, grids are searched by
        cross-validation on the training rows (in-distribution selection, the
        honest protocol).

    seed : int
        Seed of the task, of the model and of the oracle's OOD halves.

    params : dict or None, default=None
        Overrides of a MoE config's parameters.

    moe_configs : dict or None, default=None
        Configs added to :data:`MOE_CONFIGS`.

    options : TaskOptions or None, default=None
        How the task is built (``data_dir``, ``id_test_size``,
        ``max_train_rows``, ``keep_domain``) and trained on (``protocol``);
        None: ``TaskOptions()``.

    n_threads : int or None, default=1
        Threads of torch and of the BLAS libraries during the run (restored
        when the last run under way in the process ends: runs in threads of one
        process share them, the first one's count applies); one thread makes
        results independent of ``n_jobs`` and of the backend. None leaves them
        as they are.

    Returns
    -------
    row : dict
        ``dataset``, ``split``, ``model`` (the :attr:`ModelSpec.label`),
        ``seed``, the sizes ``n_train`` (labelled training rows), ``n_id``,
        ``n_ood``, ``id_accuracy``, ``ood_accuracy``, ``gap`` (ID minus OOD
        accuracy), ``id_mse``, ``ood_mse``, ``id_log_loss``, ``ood_log_loss``,
        ``id_balanced_accuracy``, ``ood_balanced_accuracy``, ``fit_time``
        (seconds), ``n_iter`` (epochs of a MoE model, iterations of a model
        with ``n_iter_``, else NaN: shows where early stopping ended a fit) and
        ``params`` (JSON: the MoE parameters, or the grid search's best
        parameters).

    Examples
    --------
    >>> from moe_tabular.ood import run_one
    >>> row = run_one(dataset="auto-mpg", model="logreg", seed=0)
    >>> row["n_train"], row["n_id"], row["n_ood"], round(row["ood_accuracy"], 3)
    (196, 49, 140, 0.657)
    """
    options = TaskOptions() if options is None else options
    spec = ModelSpec.parse(model, params, protocol=options.protocol)
    task = options.make_task(dataset, seed=seed)
    estimator = make_model(spec, task, seed=seed, moe_configs=moe_configs)
    if spec.oracle:
        if not isinstance(estimator, GridSearchCV):
            raise ValueError(
                f"Model {spec.label!r}: only grid-searched models "
                "(rf, gb, mlp) have hyperparameters for an oracle to choose."
            )
        task, X_select, y_select = _oracle_halves(task, seed)
    X_fit, y_fit = task.X_train, task.y_train
    if spec.protocol == "transductive":
        X_fit, y_fit = _unlabeled_rows(task)
    with _run_settings(n_threads):
        start = time.perf_counter()
        if spec.oracle:
            estimator, selection = _select_on(estimator, task, X_select, y_select)
        estimator.fit(X_fit, y_fit)
        fit_time = time.perf_counter() - start
        scores_id = _score(estimator, task.X_id, task.y_id, task.bin_target)
        scores_ood = _score(estimator, task.X_ood, task.y_ood, task.bin_target)
    row = {
        "dataset": dataset,
        "split": task.split,
        "model": spec.label,
        "seed": seed,
        "n_train": len(task.y_train),
        "n_id": len(task.y_id),
        "n_ood": len(task.y_ood),
    }
    row["id_accuracy"] = scores_id["accuracy"]
    row["ood_accuracy"] = scores_ood["accuracy"]
    row["gap"] = row["id_accuracy"] - row["ood_accuracy"]
    for metric in ("mse", "log_loss", "balanced_accuracy"):
        row[f"id_{metric}"] = scores_id[metric]
        row[f"ood_{metric}"] = scores_ood[metric]
    row["fit_time"] = fit_time
    row["n_iter"] = _iterations(estimator)
    row["params"] = _described_params(spec, selection if spec.oracle else estimator)
    return row


def _iterations(estimator):
    """Epochs (MoE) or solver/boosting iterations the fit ran; NaN if neither."""
    if isinstance(estimator, GridSearchCV):
        estimator = estimator.best_estimator_
    if isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    if hasattr(estimator, "history_"):
        return len(estimator.history_)
    n_iter = getattr(estimator, "n_iter_", getattr(estimator, "tree_count_", None))
    return np.nan if n_iter is None else int(np.max(n_iter))


def _oracle_halves(task, seed):
    """The task scored on one half of its OOD rows; the other half to select on."""
    counts = task.y_ood.value_counts()
    stratify = task.y_ood if len(counts) > 1 and counts.min() >= 2 else None
    X_select, X_test, y_select, y_test = train_test_split(
        task.X_ood, task.y_ood, test_size=0.5, random_state=seed, stratify=stratify
    )
    return task._replace(X_ood=X_test, y_ood=y_test), X_select, y_select


def _select_on(search, task, X_select, y_select):
    """The grid point that scores best on the selection rows, unfitted, and the search.

    Every point is fitted on the training rows alone (a ``PredefinedSplit``
    whose one test fold is the selection rows) and never refitted on them.
    """
    X = pd.concat([task.X_train, X_select], ignore_index=True)
    y = pd.concat([task.y_train, y_select], ignore_index=True)
    folds = np.r_[np.full(len(task.y_train), -1), np.zeros(len(y_select))]
    search = clone(search).set_params(cv=PredefinedSplit(folds), refit=False)
    search.fit(X, y)
    return clone(search.estimator).set_params(**search.best_params_), search


def plan_runs(
    suite="quick", *, datasets=None, models=None, seeds=None, moe_configs=None
):
    """The (dataset, model, seed) runs of a suite, in order.

    Parameters
    ----------
    suite : str, default="quick"
        A name in :data:`SUITES`; it gives the defaults of the three lists.

    datasets, models, seeds : list or None, default=None
        Replace the suite's datasets, models or seeds. Optional models of the
        suite whose package is not installed are left out with a warning that
        names the package; asked for explicitly, they raise.

    moe_configs : dict or None, default=None
        Configs added to :data:`MOE_CONFIGS`.

    Returns
    -------
    runs : list of tuple
        ``(dataset, model, seed)`` triples, dataset-major.

    Examples
    --------
    >>> from moe_tabular.ood import plan_runs
    >>> plan_runs("quick", models=["logreg"], seeds=[1, 2])[:3]
    [('auto-mpg', 'logreg', 1), ('auto-mpg', 'logreg', 2), ('sim-5-0.9-0', 'logreg', 1)]
    """
    if suite not in SUITES:
        raise ValueError(f"Unknown suite {suite!r}; choose from {sorted(SUITES)}.")
    defaults = SUITES[suite]
    datasets = list(defaults.datasets if datasets is None else datasets)
    seeds = list(defaults.seeds if seeds is None else seeds)
    if models is None:
        absent = {m: missing_package(m) for m in defaults.models}
        models = [m for m in defaults.models if absent[m] is None]
        skipped = {m: package for m, package in absent.items() if package}
        if skipped:
            shown = ", ".join(f"{m} (pip install {p})" for m, p in skipped.items())
            warnings.warn(
                f"Suite {suite!r}: skipping models whose package is not "
                f"installed: {shown}.",
                UserWarning,
                stacklevel=2,
            )
    for dataset in datasets:
        _check_dataset(dataset)
    for model in models:
        ModelSpec.parse(model).check(moe_configs)
    return [(d, m, int(s)) for d in datasets for m in models for s in seeds]


def _indexed_run(index, kwargs):
    return index, run_one(**kwargs)


def run_suite(
    suite="quick",
    *,
    datasets=None,
    models=None,
    seeds=None,
    params=None,
    moe_configs=None,
    options=None,
    n_jobs=1,
    scheduler=None,
    progress=False,
    checkpoint=None,
):
    """Run every (dataset, model, seed) of a suite and collect one row per run.

    Parameters
    ----------
    suite : str, default="quick"
        A name in :data:`SUITES`: ``"quick"``, ``"paper-simulation"``,
        ``"auto-mpg"``, ``"paper"`` (both), ``"real"`` or ``"all"``.

    datasets, models, seeds : list or None, default=None
        Replace the suite's defaults (see :func:`plan_runs`).

    params : dict or None, default=None
        Overrides applied to every MoE model's config (e.g.
        ``{"shared_vocabulary": True}``); the model's label shows them.

    moe_configs : dict or None, default=None
        Named configs added to :data:`MOE_CONFIGS`, run as ``"moe:<name>"``.

    options : TaskOptions or None, default=None
        How tasks are built and trained on (see :class:`TaskOptions`); None:
        ``TaskOptions()``.

    n_jobs : int, default=1
        Runs in parallel (joblib; -1: one per core). Each run uses one thread.

    scheduler : str, dask.distributed.Client or None, default=None
        Address of a Dask scheduler (or a client): runs go to its workers
        through joblib's Dask backend (needs ``dask[distributed]``); results are
        identical to local ones. ``n_jobs`` is then ignored.

    progress : bool, default=False
        Show a tqdm progress bar on stderr.

    checkpoint : str, path-like, Checkpoint or None, default=None
        A CSV file that each run's row is appended to as soon as the run ends
        (see :class:`Checkpoint`). Runs already in it are read back, not run
        again: a suite that was interrupted resumes where it stopped, and one
        given more seeds or models runs only the new runs. Its settings file
        records ``params``, ``moe_configs`` and the ``options``; resuming
        with other values raises a ValueError. Rows of runs not planned now
        stay in the file but not in the result. Keep one checkpoint per
        version of the code: rows are matched by (dataset, model, seed) only.

    Returns
    -------
    results : pandas.DataFrame
        One row per run, in :func:`plan_runs` order; columns as in
        :func:`run_one`.

    Examples
    --------
    >>> from moe_tabular.ood import run_suite
    >>> results = run_suite("quick", models=["logreg"], n_jobs=2)
    >>> results[["dataset", "model", "seed"]].to_numpy().tolist()[:2]
    [['auto-mpg', 'logreg', 4951], ['sim-5-0.9-0', 'logreg', 4951]]
    >>> bool(results["ood_accuracy"].between(0, 1).all())
    True
    """
    from joblib import Parallel, delayed, parallel_config
    from tqdm import tqdm

    options = TaskOptions() if options is None else options
    runs = plan_runs(
        suite, datasets=datasets, models=models, seeds=seeds, moe_configs=moe_configs
    )
    if options.data_dir is None:
        needy = sorted({d for d, _, _ in runs if needs_files(d)})
        if needy:
            raise ValueError(
                f"Datasets {needy} are read from files: pass "
                "options=TaskOptions(data_dir=...)."
            )
    rows = [None] * len(runs)
    if checkpoint is not None:
        if not isinstance(checkpoint, Checkpoint):
            checkpoint = Checkpoint(checkpoint)
        settings = {"params": params, "moe_configs": moe_configs}
        done = checkpoint.resume({**settings, **options.settings()})
        for i, (d, m, s) in enumerate(runs):
            label = ModelSpec.parse(m, params, protocol=options.protocol).label
            rows[i] = done.get((d, label, s))
    common = {"params": params, "moe_configs": moe_configs, "options": options}
    jobs = [
        delayed(_indexed_run)(i, {"dataset": d, "model": m, "seed": s, **common})
        for i, (d, m, s) in enumerate(runs)
        if rows[i] is None
    ]
    client = None
    if scheduler is not None:
        from dask.distributed import Client

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        config = parallel_config(backend="dask", n_jobs=-1)
    else:
        config = parallel_config(n_jobs=n_jobs)
    try:
        with config:
            results = Parallel(return_as="generator_unordered")(jobs)
            for index, row in tqdm(results, total=len(jobs), disable=not progress):
                rows[index] = row
                if checkpoint is not None:
                    checkpoint.append(row)
    finally:
        if client is not None and client is not scheduler:
            client.close()
    return pd.DataFrame(rows)
