"""partial_fit: scikit-learn's incremental convention, and Dask through dask-ml."""

import numpy as np
import pandas as pd
import pytest

from moe_tabular import MoECBOWClassifier, MoECBOWImputer, MoECBOWRegressor
from moe_tabular._vocabulary import UNKNOWN

from .conftest import make_frame

CLASSES = np.array(["cold", "warm"])


def batches(X, y, size):
    for start in range(0, len(X), size):
        yield X.iloc[start : start + size], y[start : start + size]


def test_epochs_of_batches_learn_the_table():
    X, y = make_frame(n_rows=1200)
    model = MoECBOWClassifier(learning_rate=1e-2, random_state=0)
    for _ in range(8):
        for X_batch, y_batch in batches(X, y, 300):
            model.partial_fit(X_batch, y_batch, classes=CLASSES)
    assert model.n_iter_ == 32 == len(model.history_)
    assert model.history_["epoch"].tolist() == list(range(1, 33))
    assert model.score(X, y) > 0.9


def test_the_first_call_fixes_the_vocabulary_and_the_classes():
    X, y = make_frame(n_rows=200)
    first = X.assign(city="oslo")  # one city only in the first batch
    model = MoECBOWClassifier(max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(first, y)
    model.partial_fit(first, y, classes=CLASSES)
    model.partial_fit(X, y)  # later batches: "rome" and "lima" are unseen
    codes = model.tokenizer_.transform(X)
    assert (codes[X["city"].to_numpy() != "oslo", 0] == UNKNOWN).all()
    with pytest.raises(ValueError, match="unseen labels"):
        model.partial_fit(X, np.where(y == "warm", "hot", y))
    assert model.n_iter_ == 2  # the failed call left the model as it was


def test_partial_fit_continues_a_fit_and_fit_starts_afresh():
    X, y = make_frame(n_rows=200)
    model = MoECBOWClassifier(max_epochs=3, random_state=0).fit(X, y)
    model.partial_fit(X, y)
    assert model.n_iter_ == 4
    assert model.fit(X, y).n_iter_ == 3
    assert model.partial_fit(X, y).n_iter_ == 4


def test_regressor_and_imputer_fix_their_bins_on_the_first_call():
    X, y = make_frame(n_rows=400)
    target = X["x"].to_numpy() * 3
    regressor = MoECBOWRegressor(random_state=0)
    regressor.partial_fit(X.head(200), target[:200])
    means = regressor.target_bin_means_.copy()
    regressor.partial_fit(X.tail(200), target[200:] + 100)  # beyond the bins
    np.testing.assert_array_equal(regressor.target_bin_means_, means)
    imputer = MoECBOWImputer(random_state=0).partial_fit(X.head(200))
    filled = imputer.partial_fit(X.tail(200)).transform(X.assign(x=np.nan))
    assert filled["x"].notna().all()


def test_a_dask_dataframe_in_fit_is_refused_with_the_route():
    dd = pytest.importorskip("dask.dataframe")  # the optional dask extra
    X, y = make_frame(n_rows=40)
    with pytest.raises(TypeError, match="dask_ml.wrappers.Incremental"):
        MoECBOWClassifier().fit(dd.from_pandas(X, npartitions=2), y)


def test_dask_ml_incremental_trains_over_partitions_on_a_local_cluster():
    """Bigger than memory: dask-ml feeds one partition at a time to partial_fit."""
    dd = pytest.importorskip("dask.dataframe")  # the optional dask extra
    distributed = pytest.importorskip("dask.distributed")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = make_frame(n_rows=1200)
    X = X[["x", "noise"]].assign(city=X["city"].astype(object))
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        dX = dd.from_pandas(X, npartitions=4)
        dy = dd.from_pandas(pd.Series(y), npartitions=4)
        model = wrappers.Incremental(
            MoECBOWClassifier(learning_rate=1e-2, random_state=0), scoring="accuracy"
        )
        for _ in range(5):
            model.partial_fit(dX, dy, classes=CLASSES)
        assert model.estimator_.n_iter_ == 20  # 5 passes x 4 partitions
        assert model.score(dX, dy) > 0.9
        predicted = wrappers.ParallelPostFit(model.estimator_).predict(dX).compute()
        np.testing.assert_array_equal(predicted, model.estimator_.predict(X))


def test_a_partial_fit_that_fails_while_training_leaves_the_model_as_it_was(
    monkeypatch,
):
    X, y = make_frame(n_rows=400)
    model = MoECBOWClassifier(batch_size=50, random_state=0)
    model.partial_fit(X, y, classes=CLASSES)
    model.partial_fit(X, y)
    proba = model.predict_proba(X)
    history = model.history_.copy()
    net = model._trainer._net
    optimizer_steps = net.optimizer_.state_dict()["state"][0]["step"].clone()
    real_step, calls = type(net).train_step, []

    def step_then_fail(self, batch, **fit_params):
        calls.append(1)
        if len(calls) == 3:  # two batches trained, then the call fails
            raise RuntimeError("out of memory")
        return real_step(self, batch, **fit_params)

    monkeypatch.setattr(type(net), "train_step", step_then_fail)
    with pytest.raises(RuntimeError, match="out of memory"):
        model.partial_fit(X, y)
    monkeypatch.undo()
    np.testing.assert_array_equal(model.predict_proba(X), proba)
    pd.testing.assert_frame_equal(model.history_, history)
    assert model.n_iter_ == 2
    assert net.optimizer_.state_dict()["state"][0]["step"] == optimizer_steps
    model.partial_fit(X, y)  # and it trains on from where it was
    assert model.n_iter_ == 3
