"""What only the classifier does: labels, probabilities, class errors."""

import numpy as np
import pandas as pd
import pytest

from moe_tabular import MoECBOWClassifier

from .conftest import FAST, make_frame


def test_learns_a_simple_dependency_on_a_mixed_frame_with_string_labels():
    frame, target = make_frame(n_rows=400, seed=1)
    test_frame, test_target = make_frame(n_rows=200, seed=2)
    model = MoECBOWClassifier(**FAST).fit(frame, target)
    assert model.classes_.tolist() == ["cold", "warm"]
    pred = model.predict(test_frame)
    assert set(pred) <= {"cold", "warm"}
    # the rule needs city and the sign of x: chance is about .6, the rule is exact
    assert (pred == test_target).mean() > 0.9


@pytest.mark.parametrize(
    "labels",
    [np.array([3, 7, 11]), np.array([True, False, True]), np.array(["a", "b", "c"])],
)
def test_predict_returns_original_labels(labels):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, len(set(labels.tolist())), size=90)
    classes = np.unique(labels)
    y = classes[codes]
    X = pd.DataFrame(
        {"key": pd.Categorical(codes.astype(str)), "noise": rng.normal(size=90)}
    )
    model = MoECBOWClassifier(**FAST).fit(X, y)
    pred = model.predict(X)
    assert pred.dtype == y.dtype
    assert (pred == y).mean() > 0.9


def test_multiclass_probabilities_align_with_classes():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, size=200)
    X = pd.DataFrame({"key": pd.Categorical(codes), "noise": rng.normal(size=200)})
    y = np.array(["d", "c", "b", "a"])[codes]
    model = MoECBOWClassifier(**FAST).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (200, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(
        model.classes_[proba.argmax(axis=1)], model.predict(X)
    )
    np.testing.assert_allclose(np.log(proba), model.predict_log_proba(X), rtol=1e-6)
    assert (model.predict(X) == y).mean() > 0.95


def test_nan_in_target_is_rejected():
    X = np.zeros((6, 2))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        MoECBOWClassifier().fit(X, np.array([0, 1, np.nan, 0, 1, 0]))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        MoECBOWClassifier().fit(
            X, np.array(["a", "b", None, "a", "b", "a"], dtype=object)
        )


def test_single_class_is_rejected():
    with pytest.raises(ValueError, match="only one class"):
        MoECBOWClassifier().fit(np.zeros((6, 2)), np.array(["a"] * 6))


def test_continuous_target_is_rejected():
    with pytest.raises(ValueError, match="Unknown label type"):
        MoECBOWClassifier().fit(np.zeros((6, 2)), np.linspace(0, 1, 6))
