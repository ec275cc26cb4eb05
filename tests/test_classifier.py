"""What only the classifier does: labels, probabilities, class errors."""

import numpy as np
import pandas as pd
import pytest
import torch

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


@pytest.mark.parametrize(
    "y",
    [
        np.array([0, 1, np.nan, 0, 1, np.nan]),
        np.array(["a", "b", None, "a", "b", None], dtype=object),
        pd.array(["a", "b", pd.NA, "a", "b", pd.NA], dtype="string"),
        pd.Series(["a", "b", None, "a", "b", None], dtype="category"),
    ],
    ids=["nan", "none", "string-na", "category-none"],
)
def test_unlabeled_rows_are_kept_out_of_the_classes(y):
    X = np.arange(12.0).reshape(6, 2)
    with pytest.warns(UserWarning, match="2 of 6 rows have a missing target"):
        model = MoECBOWClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert len(model.classes_) == 2
    assert not pd.isna(model.classes_).any()
    assert set(model.predict(X)) <= set(model.classes_)


def test_minus_one_stays_a_class():
    X = np.arange(8.0).reshape(4, 2)
    model = MoECBOWClassifier(max_epochs=1, random_state=0)
    assert model.fit(X, [-1, 1, -1, 1]).classes_.tolist() == [-1, 1]


def test_unlabeled_rows_train_the_feature_columns_only(frame_and_target):
    from moe_tabular._engine import masked_column_loss

    X, y = frame_and_target
    model = MoECBOWClassifier(max_epochs=1, random_state=0).fit(X, y)
    codes = torch.as_tensor(model._encode(X.head(8)))  # the target masked
    logits = model.module_.leave_one_out_logits(codes, by_column=True)
    _, losses, counted = masked_column_loss(model.module_, logits, codes)
    assert (counted[:, -1] == 0).all() and (losses[:, -1] == 0).all()
    assert (counted[:, :-1] > 0).any()


def test_only_unlabeled_rows_is_a_clear_error():
    with pytest.raises(ValueError, match="only one class.*unlabeled"):
        MoECBOWClassifier().fit(np.zeros((4, 2)), np.array([np.nan, np.nan, 1, 1]))


def test_single_class_is_rejected():
    with pytest.raises(ValueError, match="only one class"):
        MoECBOWClassifier().fit(np.zeros((6, 2)), np.array(["a"] * 6))


def test_continuous_target_is_rejected():
    with pytest.raises(ValueError, match="Unknown label type"):
        MoECBOWClassifier().fit(np.zeros((6, 2)), np.linspace(0, 1, 6))


def test_a_short_run_at_the_default_rate_learns_a_one_column_rule():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({f"x{j}": rng.normal(size=400) for j in range(4)})
    X["c"] = rng.choice(list("abcd"), 400)
    y = np.where(X["x0"] > 0, "yes", "no")
    model = MoECBOWClassifier(max_epochs=15, random_state=0).fit(X[:200], y[:200])
    assert model.learning_rate_ > 1e-2  # 60 steps: larger ones than a full run's
    assert model.score(X[200:], y[200:]) > 0.9
