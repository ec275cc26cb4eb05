"""Property-based tests: generated tables never crash the tokenizer or the estimators.

Every generated table either fails with a ``ValueError``/``TypeError`` that our code
(or sklearn's validators) raises and whose message names the problem, or it gives
predictions of the right shape and type: finite probabilities that sum to one,
labels from ``classes_``, regression values inside the range of ``y``. Columns are
never reordered: each column's codes depend on that column alone.

Profiles (registered here, not in conftest): ``ci``, the default, is bounded and
derandomized; ``long`` runs 10,000 examples per test (1,000 of the slow
high-cardinality one)::

    HYPOTHESIS_PROFILE=long OMP_NUM_THREADS=1 pytest tests/test_fuzz.py

``FUZZ_LONG_EXAMPLES=N`` sets the long profile's count (default 10,000).
"""

import os
import re
import tempfile
import traceback
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from moe_tabular import (
    ColumnTokenizer,
    MoECBOWClassifier,
    MoECBOWImputer,
    MoECBOWRegressor,
)
from moe_tabular._lens import _has_infrequent
from moe_tabular._vocabulary import MISSING, N_RESERVED, UNKNOWN

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_HEALTH,
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("FUZZ_LONG_EXAMPLES", "10000")),
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=_HEALTH,
)
PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "ci")
PROFILE = settings.get_profile(PROFILE_NAME)


def examples(ci, long=None):
    """``ci`` examples under the ci profile; the profile's own count (or ``long``)."""
    if PROFILE_NAME == "ci":
        return settings(PROFILE, max_examples=ci)
    return PROFILE if long is None else settings(PROFILE, max_examples=long)


# Tiny models: one or two epochs of a 4-wide single-head net take milliseconds.
TINY = {"d_embedding": 4, "n_heads": 1, "d_ffn": 2, "n_bins": 3, "batch_size": 64}
net_params = st.fixed_dictionaries(
    {
        "max_epochs": st.integers(1, 2),
        "n_heads": st.sampled_from([1, 2, 4]),
        "n_layers": st.integers(1, 2),
        "norm_first": st.booleans(),
        "n_ensemble": st.integers(1, 3),
        "shared_vocabulary": st.sampled_from([False, True, "auto"]),
        "early_stopping": st.sampled_from([False, True, "auto"]),
        "learning_rate_schedule": st.sampled_from(["constant", "onecycle", "plateau"]),
        "scoring": st.sampled_from(["loss", "accuracy"]),
        "weight_decay": st.sampled_from([0.0, 0.1, 1e3]),
        "label_smoothing": st.sampled_from([0.0, 0.1, 0.9]),
        "batch_size": st.integers(1, 8),
        "random_state": st.integers(0, 2**31 - 1),
    }
)

# Where a clear error may come from: our code or sklearn's validators, never the
# inside of torch, numpy or pandas.
_ALLOWED_RAISERS = re.compile(
    r"moe_tabular[/\\]|sklearn[/\\]utils[/\\](validation|multiclass|_param_validation)"
)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny nets run faster on one thread on a shared machine; restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- strategies ---------------------------------------------------------------------
text = st.text(max_size=3)  # unicode, with the empty string
VALID_KINDS = [
    "float", "float32", "int", "Int64", "bool", "boolean", "object", "string",
    "category", "category_int", "object_numbers", "constant", "all_missing",
    "arrow_string", "arrow_float", "arrow_bool",  # read_csv(dtype_backend="pyarrow")
]  # fmt: skip
INVALID_KINDS = ["datetime", "float_inf"]
column_kinds = st.sampled_from(VALID_KINDS * 8 + INVALID_KINDS)  # most tables are valid


@dataclass
class Table:
    """A generated frame, a second frame with the same columns, what must fail."""

    frame: pd.DataFrame
    other: pd.DataFrame
    problems: list = field(default_factory=list)  # (exception type, regex)
    kinds: list = field(default_factory=list)

    def labels(self):
        return [_label(self.frame, j) for j in range(self.frame.shape[1])]


def _label(frame, j):
    name = frame.columns[j]
    return repr(name) if isinstance(name, str) else f"{j} ({name!r})"


def _values(draw, pool, n, missing):
    element = st.sampled_from(pool)
    if missing:
        element = element | st.none()
    return draw(st.lists(element, min_size=n, max_size=n))


def _column(draw, kind, n, pool):
    """One column of ``kind`` and length ``n`` drawn from ``pool``."""
    if kind in {"float", "float32"}:
        values = _values(draw, pool, n, missing=True)
        dtype = np.float32 if kind == "float32" else np.float64
        return np.array([np.nan if v is None else v for v in values], dtype=dtype)
    if kind == "float_inf":
        values = np.array(_values(draw, pool, n, missing=False), dtype=np.float64)
        values[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.inf, -np.inf]))
        return values
    if kind == "int":
        return np.array(_values(draw, pool, n, missing=False), dtype=np.int64)
    if kind == "Int64":
        return pd.array(_values(draw, pool, n, missing=True), dtype="Int64")
    if kind == "bool":
        return np.array(_values(draw, [True, False], n, missing=False))
    if kind == "boolean":
        return pd.array(_values(draw, [True, False], n, missing=True), dtype="boolean")
    if kind in {"object", "object_numbers"}:
        return np.array(_values(draw, pool, n, missing=True), dtype=object)
    if kind == "string":
        return pd.array(_values(draw, pool, n, missing=True), dtype="string")
    if kind == "arrow_string":
        return pd.array(_values(draw, pool, n, missing=True), dtype="string[pyarrow]")
    if kind == "arrow_float":
        return pd.array(_values(draw, pool, n, missing=True), dtype="double[pyarrow]")
    if kind == "arrow_bool":
        values = _values(draw, [True, False], n, missing=True)
        return pd.array(values, dtype="bool[pyarrow]")
    if kind in {"category", "category_int"}:
        values = _values(draw, pool, n, missing=True)
        unused = draw(st.booleans())  # declared categories never observed
        categories = sorted(set(pool)) if unused else None
        return pd.Categorical(values, categories=categories)
    if kind == "constant":
        return np.array(
            [pool[0]] * n, dtype=object if isinstance(pool[0], str) else None
        )
    if kind == "all_missing":
        if draw(st.booleans()):
            return np.full(n, np.nan)
        return np.array([None] * n, dtype=object)
    if kind == "datetime":
        return pd.date_range("2020-01-01", periods=n, freq="D")
    raise AssertionError(kind)


def _pool(draw, kind):
    if kind in {"float", "float32", "float_inf", "arrow_float"}:
        width = 32 if kind == "float32" else 64
        finite = st.floats(allow_nan=False, allow_infinity=False, width=width)
        return draw(st.lists(finite, min_size=1, max_size=6))
    if kind in {"int", "Int64", "category_int"}:
        ints = st.integers(-(2**40), 2**40) if kind == "int" else st.integers(-9, 9)
        return draw(st.lists(ints, min_size=1, max_size=6, unique=True))
    if kind == "object_numbers":
        number = st.integers(-9, 9) | st.floats(-1e6, 1e6)
        return draw(st.lists(number, min_size=1, max_size=4))
    if kind == "constant":
        return [draw(text | st.floats(-1e3, 1e3) | st.integers(-9, 9))]
    return draw(st.lists(text, min_size=1, max_size=4, unique=True))


def _names(draw, k):
    mode = draw(st.sampled_from(["str"] * 4 + ["int"] * 4 + ["dup", "mixed"]))
    if mode == "int":
        return draw(st.lists(st.integers(-3, 50), min_size=k, max_size=k, unique=True))
    names = draw(st.lists(st.text(max_size=4), min_size=k, max_size=k, unique=True))
    if mode == "dup" and k >= 2:
        names[-1] = names[0]
    if mode == "mixed" and k >= 2:
        names[-1] = draw(st.integers(0, 9))
    return names


@st.composite
def tables(draw, min_rows=1, max_rows=12, max_columns=4):
    """A frame of mixed dtypes plus a second frame whose values may be unseen."""
    n = draw(st.integers(min_rows, max_rows))
    n_other = draw(st.integers(1, 6))
    k = draw(st.integers(1, max_columns))
    kinds = draw(st.lists(column_kinds, min_size=k, max_size=k))
    names = _names(draw, k)
    columns, other_columns = [], []
    for kind in kinds:
        pool = _pool(draw, kind)
        columns.append(_column(draw, kind, n, pool))
        fresh = pool + [v for v in _pool(draw, kind) if v not in pool]  # unseen values
        other_columns.append(_column(draw, kind, n_other, fresh))
    frame = pd.DataFrame(dict(enumerate(columns)))
    other = pd.DataFrame(dict(enumerate(other_columns)))
    frame.columns = other.columns = pd.Index(names, dtype=object)
    table = Table(frame, other, kinds=kinds)
    if len({type(name) for name in names}) > 1:
        table.problems.append((TypeError, "string names"))
    if len(set(names)) < len(names):
        table.problems.append((ValueError, "duplicate column names"))
    for j, kind in enumerate(kinds):
        label = re.escape(_label(frame, j))
        if kind == "datetime":
            table.problems.append((TypeError, f"Column {label} has dtype datetime64"))
        if kind == "float_inf":
            # sklearn's words for an all-numeric frame, ours (naming it) otherwise
            table.problems.append((ValueError, f"Input X|Column {label} contains inf"))
    return table


@st.composite
def class_targets(draw, n):
    """Labels of one type; every class seen twice or more unless by chance."""
    pool = draw(
        st.lists(st.integers(-3, 3), min_size=2, max_size=4, unique=True)
        | st.lists(text, min_size=2, max_size=4, unique=True)
        | st.just([True, False])
        | st.just([0.0, 2.0, 5.0])
    )
    if draw(st.integers(0, 15)) == 7:  # now and then one class
        pool = pool[:1]
    head = pool[: min(n, 2)]  # two classes whenever there are two rows
    tail = draw(st.lists(st.sampled_from(pool), min_size=n - len(head), max_size=n))
    return np.array(draw(st.permutations(head + tail[: n - len(head)])))


def regression_targets(n):
    real = st.floats(-1e9, 1e9, allow_nan=False) | st.integers(-50, 50)
    return st.lists(real, min_size=n, max_size=n).map(
        lambda v: np.array(v, dtype=np.float64)
    )


# -- invariants ---------------------------------------------------------------------
def _check_clear_error(exc, problems, labels):
    """``exc`` is a ValueError/TypeError from our code or sklearn's validators."""
    event(f"clear {type(exc).__name__}: {str(exc)[:30]}")
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    assert type(exc).__module__ in {"builtins", "sklearn.utils._param_validation"}, (
        f"{type(exc)} is an internal error type: {exc!r}"
    )
    raiser = traceback.extract_tb(exc.__traceback__)[-1].filename
    assert _ALLOWED_RAISERS.search(raiser), f"raised inside {raiser}: {exc!r}"
    message = str(exc)
    if problems:
        assert any(
            isinstance(exc, kind) and re.search(pattern, message)
            for kind, pattern in problems
        ), f"{exc!r} is none of the expected problems {problems}"
    else:
        pytest.fail(f"a valid table raised {exc!r}")
    if "Column" in message:  # column errors name a column that exists
        assert any(label in message for label in labels), message


def _codes_in_range(tokenizer, codes):
    assert ((codes >= -N_RESERVED + 1) & (codes < tokenizer.n_categories_)).all()


tokenizer_params = st.fixed_dictionaries(
    {
        "n_bins": st.integers(2, 4),
        "min_frequency": st.none() | st.integers(1, 3),
        "max_categories": st.none() | st.integers(1, 3),
    }
)


@examples(ci=80)
@given(table=tables(), params=tokenizer_params)
def test_tokenizer_fuzz(table, params):
    frame = table.frame
    try:
        tokenizer = ColumnTokenizer(**params).fit(frame)
        codes = tokenizer.transform(frame)
    except (ValueError, TypeError) as exc:
        _check_clear_error(exc, table.problems, table.labels())
        return
    assert not table.problems, f"expected an error: {table.problems}"
    assert codes.shape == frame.shape and codes.dtype == np.int64
    _codes_in_range(tokenizer, tokenizer.transform(frame))
    assert tokenizer.n_features_in_ == frame.shape[1]
    # a training cell is MISSING exactly when it is missing, never UNKNOWN
    assert ((codes == MISSING) == frame.isna().to_numpy()).all()
    assert (codes != UNKNOWN).all()
    # columns are never reordered: each column's codes come from that column alone
    for j in range(frame.shape[1]):
        alone = ColumnTokenizer(**params).fit(frame.iloc[:, [j]])
        np.testing.assert_array_equal(
            alone.transform(frame.iloc[:, [j]])[:, 0], codes[:, j]
        )
    # a frame with unseen values maps them to UNKNOWN, its missing cells to MISSING
    other_codes = tokenizer.transform(table.other)
    assert other_codes.shape == table.other.shape
    assert ((other_codes == MISSING) == table.other.isna().to_numpy()).all()
    assert (other_codes >= MISSING).all()  # never MASK
    assert (other_codes < tokenizer.n_categories_).all()
    strict = clone(tokenizer).set_params(handle_unknown="error").fit(frame)
    if (other_codes == UNKNOWN).any():
        j = np.flatnonzero((other_codes == UNKNOWN).any(axis=0))[0]
        with pytest.raises(ValueError, match=re.escape(table.labels()[j])):
            strict.transform(table.other)
    else:
        np.testing.assert_array_equal(strict.transform(table.other), other_codes)


def _fit_or_check_error(Estimator, table, y, problems, params):
    try:
        return Estimator(**{**TINY, **params}).fit(table.frame, y)
    except (ValueError, TypeError) as exc:
        _check_clear_error(exc, problems, table.labels())
        return None


def _check_predictions(model, X, y):
    pred = model.predict(X)
    assert pred.shape == (len(X),)
    if isinstance(model, MoECBOWClassifier):
        assert pred.dtype == model.classes_.dtype
        assert np.isin(pred, model.classes_).all()
        proba = model.predict_proba(X)
        assert proba.shape == (len(X), len(model.classes_))
        assert np.isfinite(proba).all() and (proba >= 0).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], pred)
    else:
        assert pred.dtype == np.float64 and np.isfinite(pred).all()
        slack = 1e-5 * (np.abs(y).max() + 1)  # a convex mix of training targets
        assert (pred >= y.min() - slack).all() and (pred <= y.max() + slack).all()


def _check_lens(model, X):
    """The lens reads every table predict reads (one encode path)."""
    scores = model.score_samples(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()
    assert (scores <= 1e-9).all()
    column = None if model._target.has_target else model._position_names()[0]
    weights = model.expert_weights(X, column=column)
    assert weights.shape == (len(X), model.n_features_in_ + 1)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    filled = model.impute(X)
    assert filled.shape == X.shape and type(filled) is type(X)
    assert list(filled.columns) == list(X.columns)


def _check_round_trip(model, X):
    """save()/load() gives a model that answers exactly as the saved one."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            model.save(folder)
        except TypeError as exc:  # values with no JSON form: a clear refusal
            assert "Cannot save" in str(exc), exc
            return
        loaded = type(model).load(folder)
    event("saved and loaded")
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    elif hasattr(model, "predict"):
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))


def _check_fitted_model(model, table, y):
    event("fitted")
    frame = table.frame
    assert model.n_features_in_ == frame.shape[1]
    _check_predictions(model, frame, y)
    _check_predictions(model, table.other, y)  # unseen categories, new NaN
    _check_lens(model, frame)
    _check_lens(model, table.other)
    _check_round_trip(model, table.other)
    names = list(frame.columns)
    if all(isinstance(c, str) for c in names) and len(set(names)) == len(names) > 1:
        with pytest.raises(ValueError, match="same order"):
            model.predict(frame.iloc[:, ::-1])  # never silently reordered


@examples(ci=25)
@given(data=st.data(), table=tables(), params=net_params)
def test_classifier_fuzz(data, table, params):
    n = len(table.frame)
    y = data.draw(class_targets(n))
    problems = list(table.problems)
    if n < 2:
        problems.append((ValueError, "n_samples = 1"))
    if len(np.unique(y)) < 2:
        problems.append((ValueError, "only one class"))
    model = _fit_or_check_error(MoECBOWClassifier, table, y, problems, params)
    if model is None:
        return
    assert not problems, f"expected an error: {problems}"
    np.testing.assert_array_equal(model.classes_, np.unique(y))
    _check_fitted_model(model, table, y)
    # labels never seen during fit score as mistakes, not as errors
    if y.dtype.kind != "b":
        novel = y.max() + 1 if y.dtype.kind in "iuf" else "".join(y.tolist()) + "?"
        assert model.score(table.frame, np.full(n, novel)) == 0.0


@examples(ci=25)
@given(data=st.data(), table=tables(), params=net_params)
def test_regressor_fuzz(data, table, params):
    n = len(table.frame)
    y = data.draw(regression_targets(n))
    problems = list(table.problems)
    if n < 2:
        problems.append((ValueError, "n_samples = 1"))
    params = {**params, "n_target_bins": 3}
    model = _fit_or_check_error(MoECBOWRegressor, table, y, problems, params)
    if model is None:
        return
    assert not problems, f"expected an error: {problems}"
    _check_fitted_model(model, table, y)


@examples(ci=25)
@given(table=tables(), params=net_params)
def test_imputer_fuzz(table, params):
    problems = list(table.problems)
    if len(table.frame) < 2:
        problems.append((ValueError, "n_samples = 1"))
    params = {**params, "early_stopping": False}  # no target to monitor
    model = _fit_or_check_error(MoECBOWImputer, table, None, problems, params)
    if model is None:
        return
    assert not problems, f"expected an error: {problems}"
    event("fitted")
    for X in (table.frame, table.other):
        filled = model.transform(X)
        assert filled.shape == X.shape
        for before, after in zip(X.dtypes, filled.dtypes, strict=True):
            if isinstance(before, pd.CategoricalDtype):  # filling adds categories
                assert isinstance(after, pd.CategoricalDtype)
            else:
                assert after == before  # dtypes are kept
        # a column with a category at fit, not only the shared infrequent one,
        # has no missing cell left
        tokenizer = model.tokenizer_
        fillable = [
            n > 0 and not (n == 1 and _has_infrequent(encoder))
            for n, encoder in zip(
                tokenizer.n_categories_, tokenizer.encoders_, strict=True
            )
        ]
        assert not filled.loc[:, fillable].isna().any().any()
    _check_lens(model, table.other)
    _check_round_trip(model, table.other)


@examples(ci=5, long=1_000)  # up to a second per example
@given(
    prefix=st.text(max_size=2),
    n_categories=st.integers(1000, 5000),
    max_categories=st.integers(1, 50),
)
def test_high_cardinality_fuzz(prefix, n_categories, max_categories):
    """Thousands of unicode categories: a cap bounds the vocabulary; fits stay fine."""
    rng = np.random.default_rng(n_categories)
    values = [f"{prefix}{i}é" for i in rng.permutation(n_categories)]
    frame = pd.DataFrame(
        {"id": pd.array(values, dtype="string"), "x": rng.normal(size=n_categories)}
    )
    capped = ColumnTokenizer(max_categories=max_categories, n_bins=3).fit(frame)
    assert capped.n_categories_[0] <= max_categories

    full = ColumnTokenizer(n_bins=3).fit(frame)
    assert full.n_categories_[0] == n_categories
    y = (np.arange(n_categories) % 2).astype(int)
    model = MoECBOWClassifier(**TINY, max_epochs=1, random_state=0).fit(frame, y)
    _check_predictions(model, frame.head(50), y)
    capped_model = MoECBOWClassifier(
        **TINY, max_categories=max_categories, max_epochs=1, random_state=0
    ).fit(frame, y)
    assert capped_model.tokenizer_.n_categories_[0] <= max_categories
    assert capped_model.module_.token_embedding.num_embeddings < n_categories
    _check_predictions(capped_model, frame.head(50), y)
