"""sklearn tooling: Pipeline, GridSearchCV, cross_val_score, clone, pickle, joblib."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from moe_tabular import ColumnTokenizer, MoECBOWClassifier, MoECBOWRegressor

from .conftest import FAST, make_frame

SMALL = {**FAST, "max_epochs": 10}


def test_pipeline_with_grid_search_on_two_jobs():
    frame, target = make_frame(n_rows=200)
    pipe = make_pipeline(
        FunctionTransformer(lambda X: X.drop(columns="noise")),
        MoECBOWClassifier(**SMALL),
    )
    search = GridSearchCV(
        pipe,
        {
            "moecbowclassifier__n_bins": [3, 5],
            "moecbowclassifier__d_embedding": [8, 16],
        },
        cv=2,
        n_jobs=2,
    ).fit(frame, target)
    assert set(search.best_params_) == {
        "moecbowclassifier__n_bins",
        "moecbowclassifier__d_embedding",
    }
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.score(frame, target) > 0.8


def test_cross_val_score_with_a_domain_aware_splitter():
    frame, target = make_frame(n_rows=200)
    groups = frame["shade"].to_numpy()
    scores = cross_val_score(
        MoECBOWClassifier(**FAST), frame, target, groups=groups, cv=GroupKFold(2)
    )
    assert scores.shape == (2,) and (scores > 0.6).all()


def test_tokenizer_inside_a_column_transformer_keeps_pandas_output():
    frame, _ = make_frame(n_rows=50)
    ct = ColumnTransformer([("tokens", ColumnTokenizer(), ["city", "x"])]).set_output(
        transform="pandas"
    )
    out = ct.fit_transform(frame)
    assert list(out.columns) == ["tokens__city", "tokens__x"]


@pytest.mark.parametrize("Estimator", [MoECBOWClassifier, MoECBOWRegressor])
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_round_trip_gives_identical_predictions(Estimator, dump, tmp_path):
    frame, target = make_frame(n_rows=120)
    y = target if Estimator is MoECBOWClassifier else (target == "warm") * 1.0
    model = Estimator(**SMALL).fit(frame, y)
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(model))
    else:
        joblib.dump(model, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(restored.predict(frame), model.predict(frame))
    assert restored.get_params() == model.get_params()


def _torch_threads_after_fit(frame, target):
    import torch

    MoECBOWClassifier(**{**SMALL, "max_epochs": 1}).fit(frame, target)
    return torch.get_num_threads()


def test_parallel_workers_do_not_oversubscribe_the_cores():
    """What GridSearchCV(n_jobs=2) relies on: each joblib worker fits with at
    most cores // 2 torch threads."""
    frame, target = make_frame(n_rows=60)
    counts = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_torch_threads_after_fit)(frame, target) for _ in range(2)
    )
    assert all(c <= max(1, joblib.cpu_count() // 2) for c in counts), counts


def test_grid_search_under_threads_matches_one_job():
    """Each fit draws from its own torch.Generator: fits running at once in
    threads (joblib's threading backend, a Dask worker) stay reproducible."""
    frame, target = make_frame(n_rows=120)
    grid = {"n_bins": [3, 5], "d_embedding": [8, 16]}

    def search(n_jobs, backend):
        with joblib.parallel_backend(backend, n_jobs=n_jobs):
            model = MoECBOWClassifier(**{**SMALL, "max_epochs": 5})
            return GridSearchCV(model, grid, cv=2, n_jobs=n_jobs).fit(frame, target)

    reference = search(1, "sequential")
    for _ in range(2):
        threaded = search(2, "threading")
        np.testing.assert_array_equal(
            threaded.cv_results_["mean_test_score"],
            reference.cv_results_["mean_test_score"],
        )
        assert threaded.best_params_ == reference.best_params_
