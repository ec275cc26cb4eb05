"""Behaviour shared by both estimators: input handling, errors, determinism."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from moe_tabular import MoECBOWClassifier, MoECBOWRegressor

from .conftest import FAST

ESTIMATORS = [MoECBOWClassifier, MoECBOWRegressor]


def target_for(Estimator, target):
    if Estimator is MoECBOWRegressor:
        return np.where(target == "warm", 30.0, 10.0)
    return target


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda e: e.__name__)
def fitted(request, frame_and_target):
    frame, target = frame_and_target
    Estimator = request.param
    y = target_for(Estimator, target)
    return Estimator(**FAST).fit(frame, y), frame, y


def test_fitted_attributes(fitted):
    model, frame, _ = fitted
    assert model.n_features_in_ == frame.shape[1]
    assert model.feature_names_in_.tolist() == list(frame.columns)
    assert model.tokenizer_.n_features_in_ == frame.shape[1]
    assert {"epoch", "train_loss", "dur"} <= set(model.history_.columns)
    assert len(model.history_) == FAST["max_epochs"]
    assert not model.module_.training


def test_unseen_categories_and_new_missing_values_predict(fitted):
    model, frame, _ = fitted
    odd = frame.head(4).copy()
    odd["city"] = pd.Series(["paris", None, pd.NA, "oslo"], dtype="string").values
    odd["shade"] = pd.Categorical(["neon", None, "dark", "pale"])
    odd.loc[odd.index[0], "x"] = np.nan
    odd["count"] = pd.array([None, 1, 2, 7], dtype="Int64")
    pred = model.predict(odd)
    assert pred.shape == (4,)
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(odd)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.isfinite(pred).all()


def test_predictions_do_not_depend_on_batch_or_neighbours(fitted):
    model, frame, _ = fitted
    # predict runs in float64, so batch shape changes at most the last few bits
    whole = model.predict(frame)
    one_by_one = np.concatenate([model.predict(frame.iloc[[i]]) for i in range(10)])
    reversed_rows = model.predict(frame.iloc[::-1])[::-1]
    if isinstance(model, MoECBOWRegressor):
        np.testing.assert_allclose(whole[:10], one_by_one, rtol=1e-12)
        np.testing.assert_allclose(whole, reversed_rows, rtol=1e-12)
    else:
        np.testing.assert_array_equal(whole[:10], one_by_one)
        np.testing.assert_array_equal(whole, reversed_rows)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_random_state_same_model_also_after_clone(Estimator, frame_and_target):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    params = {**FAST, "max_epochs": 5}
    first = Estimator(**params).fit(frame, y)
    again = clone(first).fit(frame, y)
    refit = first.fit(frame, y)  # a refit starts from fresh weights
    expected = again.predict(frame)
    np.testing.assert_array_equal(refit.predict(frame), expected)
    for a, b in zip(
        again.module_.parameters(), refit.module_.parameters(), strict=True
    ):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_leaves_callers_random_state_alone(Estimator, frame_and_target):
    import torch

    frame, target = frame_and_target
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 - the caller's global state
    expected_torch, expected_numpy = torch.rand(1), np.random.rand()  # noqa: NPY002
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 - the caller's global state
    Estimator(**{**FAST, "max_epochs": 2}).fit(frame, target_for(Estimator, target))
    assert torch.rand(1) == expected_torch
    assert np.random.rand() == expected_numpy  # noqa: NPY002


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_numeric_dtypes(Estimator, dtype):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(60, 3)) * 5).astype(dtype)
    y = (X[:, 0] > 0).astype(int)
    model = Estimator(**{**FAST, "max_epochs": 3}).fit(X, y)
    assert model.predict(X.astype(np.float64)).shape == (60,)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_numpy_object_array_input(Estimator):
    X = np.array([["a", 1.0], ["b", 2.0], ["a", None], ["b", 4.0]] * 5, dtype=object)
    y = np.array([0, 1, 0, 1] * 5)
    model = Estimator(**{**FAST, "max_epochs": 3}).fit(X, y)
    assert model.predict(X).shape == (20,)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_input_raises_clear_value_errors(Estimator, frame_and_target):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    model = Estimator(**{**FAST, "max_epochs": 2})
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(frame, y[:-1])
    with pytest.raises(ValueError, match="0 sample"):
        model.fit(frame.iloc[:0], y[:0])
    with pytest.raises(ValueError, match="n_samples = 1"):
        model.fit(frame.iloc[:1], y[:1])


def test_predict_time_column_errors_name_the_column(fitted):
    model, frame, _ = fitted
    with pytest.raises(ValueError, match="city"):
        model.predict(frame.drop(columns="city"))
    # an array has no names to check: sklearn warns, then counts the columns
    with (
        pytest.warns(UserWarning, match="valid feature names"),
        pytest.raises(ValueError, match="6 features"),
    ):
        model.predict(frame.to_numpy()[:, :4])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_heads": 0}, "n_heads"),
        ({"dropout": 1.5}, "dropout"),
        ({"device": 3.5}, "device"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"categorical_features": "some"}, "categorical_features"),
        ({"handle_unknown": "ignore"}, "handle_unknown"),
    ],
)
def test_invalid_hyperparameters_are_named(Estimator, params, name):
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(InvalidParameterError, match=name):
        Estimator(**params).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_heads_must_divide_embedding(Estimator):
    with pytest.raises(ValueError, match="n_heads=3 must divide d_embedding=32"):
        Estimator(n_heads=3).fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_cuda_request_without_cuda_is_a_clear_error(Estimator):
    import torch

    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    if not torch.cuda.is_available():  # CI has no GPU
        with pytest.raises(ValueError, match="cuda is not available"):
            Estimator(device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="device='tpu' is not a device torch knows"):
        Estimator(device="tpu").fit(X, y)


@pytest.mark.parametrize("device", ["cpu", "cpu:0", "auto"])
def test_device_accepts_what_torch_accepts(device):
    import torch

    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    for given in (device, torch.device("cpu")):
        model = MoECBOWClassifier(device=given, max_epochs=1, random_state=0)
        model.fit(X, y)
        if not torch.cuda.is_available():
            assert next(model.module_.parameters()).device.type == "cpu"


def test_failed_calls_leave_a_fitted_model_unchanged(fitted):
    model, frame, y = fitted
    before = model.predict(frame)
    state = dict(vars(model))
    for bad in [frame.drop(columns="x"), frame.iloc[:0]]:
        with pytest.raises(ValueError):
            model.predict(bad)
    with (  # an array has no names to check: sklearn warns, then counts columns
        pytest.warns(UserWarning, match="valid feature names"),
        pytest.raises(ValueError),
    ):
        model.predict(frame.to_numpy()[:, :2])
    with pytest.raises(ValueError):
        model.fit(frame.iloc[:1], y[:1])  # a failed refit
    assert vars(model).keys() == state.keys()
    assert all(vars(model)[k] is v for k, v in state.items())
    np.testing.assert_array_equal(model.predict(frame), before)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_verbose_zero_prints_nothing_and_verbose_one_reports_epochs(
    Estimator, frame_and_target, capsys
):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    Estimator(**{**FAST, "max_epochs": 2}).fit(frame, y)
    assert capsys.readouterr().out == ""
    Estimator(**{**FAST, "max_epochs": 2, "verbose": 1}).fit(frame, y)
    assert "train_loss" in capsys.readouterr().out


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "max_epochs, batch_size, learning_rate",
    [("auto", "auto", "auto"), (3, 64, "auto"), (200, 512, "auto"), (1, 64, 0.05)],
)
def test_the_estimators_resolve_their_budget_by_the_trainers_rules(
    Estimator, max_epochs, batch_size, learning_rate, frame_and_target
):
    from moe_tabular._training import resolve_budget

    frame, target = frame_and_target
    model = Estimator(
        max_epochs=max_epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        max_time=1e-9,  # one epoch is enough to read the budget
        random_state=0,
    ).fit(frame, target_for(Estimator, target))
    expected = resolve_budget(
        batch_size=batch_size,
        learning_rate=learning_rate,
        max_epochs=max_epochs,
        n_train_rows=len(frame),
        learning_rate_floor=Estimator._auto_learning_rate_floor,
    )
    assert model.learning_rate_ == expected.learning_rate
    assert model.batch_size_ == expected.batch_size


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(("schedule", "warm_up"), [("constant", 0), ("onecycle", 210)])
def test_early_stopping_stops_when_target_loss_stalls(
    Estimator, schedule, warm_up, frame_and_target
):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    model = Estimator(
        **{**FAST, "max_epochs": 300, "learning_rate": 0.05},
        learning_rate_schedule=schedule,
        early_stopping=True,
        n_iter_no_change=3,
    ).fit(frame, y)
    history = model.history_
    assert len(history) < 300
    # the last epoch that improved the best loss by more than tol
    best, lowest = 0, np.inf
    for epoch, loss in enumerate(history["valid_target_loss"], start=1):
        if loss < lowest - model.tol:
            best, lowest = epoch, loss
    # 3 epochs without progress, counted once the rate has annealed (70% of 300)
    assert len(history) == max(best, warm_up) + 3


def test_early_stopping_restores_the_best_epochs_weights(frame_and_target):
    import torch

    frame, target = frame_and_target
    model = MoECBOWClassifier(
        **{**FAST, "max_epochs": 300, "learning_rate": 0.05},
        early_stopping=True,
        n_iter_no_change=3,
    ).fit(frame, target)
    from skorch.dataset import Dataset, ValidSplit

    # rebuild the validation rows (the split is seeded) and score the final weights
    target_codes = np.searchsorted(model.classes_, target)
    codes = np.column_stack([model.tokenizer_.transform(frame), target_codes])
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    split = ValidSplit(0.1, stratified=True, random_state=seed)
    dataset = Dataset({"codes": torch.as_tensor(codes)}, torch.as_tensor(target_codes))
    _, valid = split(dataset, y=target_codes)
    rows = torch.as_tensor(np.asarray(valid.indices))
    offset = int(model.module_.category_offsets[-1])
    with torch.no_grad():
        logits = model.module_.leave_one_out_logits(torch.as_tensor(codes)[rows])
    loss = torch.nn.functional.cross_entropy(
        logits[:, -1], torch.as_tensor(offset + target_codes)[rows]
    ).item()
    losses = model.history_["valid_target_loss"]
    assert np.isclose(losses, loss, rtol=1e-4).any()  # one epoch's weights
    # the best one: an epoch counts as better only by more than tol (abs), so a
    # later epoch may score up to tol lower (with one torch thread it does here)
    assert loss <= losses.min() + model.tol
    assert loss < losses.iloc[-1]


@pytest.mark.parametrize("Estimator", [MoECBOWClassifier, MoECBOWRegressor])
def test_category_cap_bounds_the_vocabulary(Estimator):
    rng = np.random.default_rng(0)
    ids = pd.Series([f"id{i}" for i in rng.integers(0, 500, size=300)], dtype="string")
    X = pd.DataFrame({"id": ids, "x": rng.normal(size=300)})
    y = (X["x"] > 0).astype(int) if Estimator is MoECBOWClassifier else X["x"]
    capped = Estimator(**FAST, min_frequency=None, max_categories=5).fit(X, y)
    full = Estimator(**FAST, min_frequency=None).fit(X, y)
    assert capped.tokenizer_.n_categories_[0] == 5
    assert full.tokenizer_.n_categories_[0] == ids.nunique()
    n_embeddings = capped.module_.token_embedding.num_embeddings
    assert n_embeddings < full.module_.token_embedding.num_embeddings - 200
    rare = X.assign(id=pd.Series(["id-never-seen"] * 3, dtype="string")).head(3)
    assert capped.predict(rare).shape == (3,)
    # the default min_frequency=5: every id seen under 5 times shares one token
    counts = ids.value_counts()
    default = Estimator(**FAST).fit(X, y)
    assert counts.max() < 5
    assert default.tokenizer_.n_categories_[0] == 1
    assert default.predict(rare).shape == (3,)


def test_the_same_column_reaches_the_same_model_whatever_its_dtype():
    # the paper's simulation hands bin indices over as integers; a user may hold
    # them as integer categoricals or as an ordered categorical of labels
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, size=(300, 3))
    y = (codes[:, 0] + codes[:, 1] > 4).astype(int)
    as_ints = pd.DataFrame(codes, columns=["a", "b", "c"])
    as_categories = as_ints.astype("category")
    labels = np.array(["v0", "v1", "v2", "v3", "v4"])
    as_ordered = pd.DataFrame(
        {
            c: pd.Categorical(labels[as_ints[c]], categories=labels, ordered=True)
            for c in as_ints
        }
    )
    tables = (as_ints, as_categories, as_ordered)
    fits = [MoECBOWClassifier(**FAST).fit(X, y) for X in tables]
    probas = [m.predict_proba(X) for m, X in zip(fits, tables, strict=True)]
    for model, proba in zip(fits[1:], probas[1:], strict=True):
        assert model.layout_["shared"].tolist() == fits[0].layout_["shared"].tolist()
        np.testing.assert_array_equal(proba, probas[0])


def test_layout_is_read_from_the_module_that_owns_it(frame_and_target):
    X, y = frame_and_target
    model = MoECBOWClassifier(max_epochs=1, random_state=0).fit(X, y)
    layout = model.layout_
    assert layout.index.tolist() == [*X.columns, "target"]
    assert layout["kind"].tolist()[:3] == ["categorical"] * 3
    # "auto": the ordered columns (numbers, bools) share one vocabulary of bins
    assert layout["shared"].tolist() == [False, False, True, True, True, True, False]
    assert (layout.loc[["flag", "count", "x", "noise"], "first_token"] == 3).all()
    ends = layout["first_token"] + layout["n_categories"]
    assert ends.max() == model.module_.n_tokens
    own = layout[~layout["shared"]].sort_values("first_token")
    starts = own["first_token"] - 3  # MASK, MISSING, UNKNOWN sit just before
    assert (starts.to_numpy()[1:] >= ends[own.index].to_numpy()[:-1]).all()
    codes = model.tokenizer_.transform(X)  # what the module eats, target appended
    assert codes.shape == (len(X), len(X.columns))
    assert (codes < layout["n_categories"].to_numpy()[:-1]).all()


@pytest.mark.parametrize("shared", [True, False])
def test_shared_vocabulary_true_or_false_applies_to_every_position(shared):
    X = pd.DataFrame({"a": [0, 1, 2] * 4, "b": [2, 1, 0] * 4})
    model = MoECBOWClassifier(shared_vocabulary=shared, max_epochs=1, random_state=0)
    layout = model.fit(X, [0, 1] * 6).layout_
    assert layout["shared"].tolist() == [shared] * 3
    if shared:  # category k of every column is one token, as in the paper
        assert layout["first_token"].tolist() == [3, 3, 3]
        assert model.module_.n_tokens == 3 + 3


def test_arrow_backed_frames_work_like_numpy_backed_ones():
    import io

    rows = zip(
        ["oslo", "rome", "lima", ""] * 15, range(60), [True, False] * 30, strict=True
    )
    text = "city,temp,flag\n" + "\n".join(f"{c},{t},{f}" for c, t, f in rows)
    arrow = pd.read_csv(io.StringIO(text), dtype_backend="pyarrow")
    plain = pd.read_csv(io.StringIO(text), dtype_backend="numpy_nullable")
    assert str(arrow.dtypes["city"]).endswith("[pyarrow]")
    y = np.array(["a", "b", "b"] * 20)
    model = MoECBOWClassifier(max_epochs=2, random_state=0).fit(arrow, y)
    again = MoECBOWClassifier(max_epochs=2, random_state=0).fit(plain, y)
    np.testing.assert_array_equal(
        model.predict_proba(arrow), again.predict_proba(plain)
    )
    np.testing.assert_array_equal(
        model.predict_proba(plain), model.predict_proba(arrow)
    )
    assert model.score_samples(arrow).shape == (60,)
    assert model.impute(arrow)["city"].notna().all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_zero_weight_rows_are_as_if_removed(Estimator, frame_and_target):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    weight = np.where(np.arange(len(frame)) % 3 == 0, 0.0, 1.0)
    kept = weight > 0
    params = {**FAST, "max_epochs": 3}
    weighted = Estimator(**params).fit(frame, y, sample_weight=weight)
    removed = Estimator(**params).fit(frame[kept], y[kept])
    np.testing.assert_array_equal(weighted.predict(frame), removed.predict(frame))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_integer_weights_equal_repeated_rows_in_the_objective(
    Estimator, frame_and_target
):
    """Weights count in the loss, the quantile bins and the target's bin means
    exactly as repeated rows do (minibatches differ: see test_common)."""
    import torch

    from moe_tabular._engine import masked_column_loss

    frame, target = frame_and_target
    y = target_for(Estimator, target)
    weight = np.arange(len(frame)) % 3 + 1
    repeated = np.repeat(np.arange(len(frame)), weight)
    params = {**FAST, "max_epochs": 1}
    weighted = Estimator(**params).fit(frame, y, sample_weight=weight)
    copies = Estimator(**params).fit(frame.iloc[repeated], y[repeated])
    for a, b in zip(
        weighted.tokenizer_.encoders_, copies.tokenizer_.encoders_, strict=True
    ):
        if hasattr(a, "bin_edges_"):
            np.testing.assert_allclose(a.bin_edges_[0], b.bin_edges_[0])
        else:
            assert a.categories_[0].tolist() == b.categories_[0].tolist()
    if Estimator is MoECBOWRegressor:
        np.testing.assert_allclose(weighted.target_bin_means_, copies.target_bin_means_)
    module = weighted.module_
    codes = np.column_stack(
        [weighted.tokenizer_.transform(frame), weighted._target.encode(y)]
    )
    codes = torch.as_tensor(codes)
    with torch.no_grad():
        logits = module.leave_one_out_logits(codes, by_column=True)
        loss, *_ = masked_column_loss(
            module, logits, codes, weight=torch.as_tensor(weight, dtype=torch.float32)
        )
        rep_loss, *_ = masked_column_loss(module, logits[repeated], codes[repeated])
    assert loss.item() == pytest.approx(rep_loss.item(), rel=1e-5)


def test_class_weight_and_sample_weight_through_metadata_routing(frame_and_target):
    import sklearn
    from sklearn.model_selection import GridSearchCV

    frame, target = frame_and_target
    balanced = MoECBOWClassifier(**FAST, class_weight="balanced").fit(frame, target)
    heavy = MoECBOWClassifier(**FAST, class_weight={"warm": 20.0}).fit(frame, target)
    assert (heavy.predict(frame) == "warm").mean() > (
        balanced.predict(frame) == "warm"
    ).mean()
    with pytest.raises(ValueError, match="class_weight names classes.*'hot'"):
        MoECBOWClassifier(class_weight={"hot": 2.0}).fit(frame, target)
    weight = np.where(target == "warm", 1.0, 0.0)  # only warm rows are kept
    with sklearn.config_context(enable_metadata_routing=True):
        model = MoECBOWClassifier(**{**FAST, "max_epochs": 2})
        model.set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
        search = GridSearchCV(model, {"n_bins": [3]}, cv=2, error_score="raise")
        with pytest.raises(ValueError, match="only one class"):
            search.fit(frame, target, sample_weight=weight)


def test_a_column_without_categories_at_the_end_of_the_vocabulary_fits():
    # found by the long fuzz profile: a categorical column with no value at fit is
    # the last block of its own (the bool, float and target columns share one),
    # and its padding pointed one past the vocabulary
    X = pd.DataFrame(
        {
            "flag": [True] * 4,
            "empty": pd.Categorical([np.nan] * 4, categories=["x"]),
            "x": [0.0] * 4,
        }
    )
    model = MoECBOWClassifier(
        max_epochs=1, batch_size=1, d_embedding=4, n_heads=1, random_state=0
    ).fit(X, [0, 1, 0, 0])
    assert model.layout_.loc["empty", "n_categories"] == 0
    assert model.layout_["shared"].tolist() == [True, False, True, True]
    proba = model.predict_proba(X.assign(empty=pd.Categorical(["x", None, "x", None])))
    assert np.isfinite(proba).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_weight_decay_shrinks_the_weights_and_zero_is_plain_adam(
    Estimator, frame_and_target
):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    params = {"max_epochs": 5, "learning_rate": 5e-2, "random_state": 0}
    default = Estimator(**params).fit(frame, y)
    explicit = Estimator(**params, weight_decay=0.1).fit(frame, y)
    plain = Estimator(**params, weight_decay=0.0).fit(frame, y)
    decayed = Estimator(**params, weight_decay=5.0).fit(frame, y)

    def norm(model):
        return sum(p.norm().item() for p in model.module_.parameters())

    assert norm(default) == norm(explicit)  # the default is 0.1
    assert norm(decayed) < 0.9 * norm(plain)
    assert norm(default) < norm(plain)


def test_label_smoothing_is_cross_entropy_smoothed_over_each_columns_categories():
    import torch
    from torch.nn import functional as F

    from moe_tabular._engine import masked_column_loss
    from moe_tabular._module import MaskedColumnAttention

    sizes = [2, 5, 3]  # columns of different vocabularies: padded logits
    module = MaskedColumnAttention(
        n_categories=sizes, shared=[False] * 3, d_embedding=8, n_heads=2
    )
    codes = torch.tensor([[0, 4, 2], [1, -2, 0], [1, 2, -1]])  # missing, unknown
    logits = module.leave_one_out_logits(codes, by_column=True)
    plain, plain_losses, _ = masked_column_loss(module, logits, codes)
    _, losses, counted = masked_column_loss(module, logits, codes, label_smoothing=0.3)
    for i, size in enumerate(sizes):
        known = codes[:, i] >= 0
        expected = F.cross_entropy(
            logits[known, i, :size], codes[known, i], label_smoothing=0.3
        )
        torch.testing.assert_close(losses[known, i].mean(), expected)
        assert (losses[~known, i] == 0).all() and (counted[~known, i] == 0).all()
    tiny, _, _ = masked_column_loss(module, logits, codes, label_smoothing=1e-9)
    torch.testing.assert_close(tiny, plain)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_label_smoothing_tempers_the_fitted_model(Estimator, frame_and_target):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    params = {"max_epochs": 20, "learning_rate": 5e-2, "random_state": 0}
    plain = Estimator(**params).fit(frame, y)
    smoothed = Estimator(**params, label_smoothing=0.4).fit(frame, y)
    if hasattr(plain, "predict_proba"):  # less confident
        spread = [m.predict_proba(frame).max(axis=1).mean() for m in (plain, smoothed)]
    else:  # predictions (means over the target's bins) pulled together
        spread = [m.predict(frame).std() for m in (plain, smoothed)]
    assert spread[1] < spread[0]
    with pytest.raises(InvalidParameterError, match="label_smoothing"):
        Estimator(label_smoothing=1.0).fit(frame, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_missing_targets_warn_once_with_their_count(Estimator, frame_and_target):
    import warnings

    frame, target = frame_and_target
    y = target_for(Estimator, target).astype(object)
    y[:3] = None
    with pytest.warns(UserWarning, match="3 of .* rows have a missing target") as got:
        Estimator(max_epochs=1, random_state=0).fit(frame, y)
    assert len(got) == 1 and "feature columns only" in str(got[0].message)
    assert got[0].filename == __file__  # points at the caller's fit
    with warnings.catch_warnings():  # every row labelled: nothing to say
        warnings.simplefilter("error", UserWarning)
        labelled = target_for(Estimator, target)
        Estimator(max_epochs=1, random_state=0).fit(frame, labelled)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_ensemble_fits_predicts_explains_saves_and_continues(
    Estimator, frame_and_target, tmp_path
):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    weight = np.linspace(0.5, 2.0, len(frame))
    model = Estimator(**{**FAST, "n_ensemble": 3}).fit(frame, y, sample_weight=weight)
    assert model.module_.n_members == 3
    single = Estimator(**FAST).fit(frame, y, sample_weight=weight)
    assert model.score(frame, y) >= single.score(frame, y) - 0.1
    if Estimator is MoECBOWClassifier:
        np.testing.assert_allclose(model.predict_proba(frame).sum(1), 1.0)
    # the lens reads the members' mean gates: the single model's shape
    weights = model.expert_weights(frame)
    assert weights.shape == single.expert_weights(frame).shape
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert np.isfinite(model.score_samples(frame)).all()
    model.save(tmp_path)
    loaded = Estimator.load(tmp_path)
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    model.partial_fit(frame, y)
    assert model.n_iter_ == FAST["max_epochs"] + 1


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_max_time_ends_training_after_the_epoch_that_passes_it(
    Estimator, frame_and_target
):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    model = Estimator(**{**FAST, "max_time": 1e-9}).fit(frame, y)
    assert model.n_iter_ == 1 == len(model.history_)
    model.predict(frame)
    bounded = Estimator(**{**FAST, "max_time": 3600}).fit(frame, y)
    assert bounded.n_iter_ == FAST["max_epochs"]
    with pytest.raises(InvalidParameterError, match="max_time"):
        Estimator(max_time=0).fit(frame, y)


@pytest.mark.parametrize("scoring", ["loss", "accuracy"])
def test_early_stopping_restores_the_best_epoch_by_its_scoring(scoring):
    X = pd.DataFrame({"a": np.tile(np.arange(6.0), 50), "b": np.repeat([0, 1], 150)})
    y = np.where(X["a"].to_numpy() > 2, "high", "low")
    model = MoECBOWClassifier(
        max_epochs=12,
        early_stopping=True,
        n_iter_no_change=3,
        learning_rate_schedule="constant",
        scoring=scoring,
        random_state=0,
    ).fit(X, y)
    monitored = {"loss": "valid_target_loss", "accuracy": "valid_target_error"}
    history = model.history_[monitored[scoring]]
    assert {"valid_target_loss", "valid_target_error"} <= set(model.history_)
    assert (
        (model.history_["valid_target_error"] >= 0)
        & (model.history_["valid_target_error"] <= 1)
    ).all()
    best = int(history.idxmin())
    assert model.history_[f"{monitored[scoring]}_best"].iloc[best]
