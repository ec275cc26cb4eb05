"""What only the regressor does: binned targets, real-valued predictions."""

import numpy as np
import pandas as pd
import pytest

from moe_tabular import MoECBOWRegressor

from .conftest import FAST


def learnable_table(n_rows, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "grade": pd.Categorical(rng.choice(["a", "b", "c", "d"], size=n_rows)),
            "x": rng.uniform(-2, 2, size=n_rows),
            "noise": rng.normal(size=n_rows),
        }
    )
    level = frame["grade"].cat.codes.to_numpy() * 10.0
    return frame, level + 3 * frame["x"].to_numpy() + rng.normal(scale=0.5, size=n_rows)


def test_r2_on_a_learnable_table():
    frame, y = learnable_table(600, seed=0)
    test_frame, test_y = learnable_table(300, seed=1)
    model = MoECBOWRegressor(**FAST, n_target_bins=20).fit(frame, y)
    pred = model.predict(test_frame)
    assert pred.dtype == np.float64
    assert len(np.unique(pred)) > 50  # real values, not bin labels
    assert model.score(test_frame, test_y) > 0.8


def test_predictions_stay_within_the_bin_means():
    frame, y = learnable_table(200, seed=0)
    model = MoECBOWRegressor(**FAST).fit(frame, y)
    assert len(model.target_bin_means_) == 10
    assert np.all(np.diff(model.target_bin_means_) > 0)
    pred = model.predict(frame)
    assert model.target_bin_means_.min() <= pred.min() <= pred.max() <= y.max()


def test_target_with_few_values_keeps_one_bin_per_value():
    X = np.repeat([[0.0], [1.0], [2.0]], 20, axis=0)
    model = MoECBOWRegressor(**FAST).fit(X, 10 * X[:, 0])
    np.testing.assert_array_equal(model.target_bin_means_, [0.0, 10.0, 20.0])
    np.testing.assert_allclose(model.predict([[0.0], [2.0]]), [0.0, 20.0], atol=0.5)


def test_infinite_target_is_rejected():
    y = np.array([1.0, 2.0, np.inf, 4.0])
    with pytest.raises(ValueError, match="Input y contains infinity"):
        MoECBOWRegressor().fit(np.zeros((4, 2)), y)


def test_nan_target_marks_an_unlabeled_row():
    X = np.repeat([[0.0], [1.0], [2.0]], 4, axis=0)
    y = 10 * X[:, 0]
    y[::4] = np.nan  # one unlabeled row per value
    with pytest.warns(UserWarning, match="3 of 12 rows have a missing target"):
        model = MoECBOWRegressor(max_epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.target_bin_means_, [0.0, 10.0, 20.0])


def test_string_target_is_rejected():
    with pytest.raises(ValueError):
        MoECBOWRegressor().fit(np.zeros((4, 2)), np.array(["a", "b", "a", "b"]))


# -- found by tests/test_fuzz.py ------------------------------------------------------
@pytest.mark.parametrize(
    "y",
    [
        np.array([1.7e308] * 3 + [-1.7e308] * 3),  # bin sums overflowed to inf
        np.array([0.0, 1e-10, 2e-10, 3e-10, 4e-10, 5e-10]),  # no bin 1e-8 wide
    ],
    ids=["near-float-max", "narrower-than-1e-8"],
)
def test_extreme_targets_predict_finite_values_within_their_range(y):
    X = np.arange(6.0).reshape(-1, 1)
    model = MoECBOWRegressor(max_epochs=2, n_target_bins=2, random_state=0).fit(X, y)
    pred = model.predict(X)
    assert np.isfinite(model.target_bin_means_).all() and np.isfinite(pred).all()
    assert (pred >= y.min()).all() and (pred <= y.max()).all()
