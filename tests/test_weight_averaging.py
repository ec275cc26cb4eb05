"""weight_averaging: the model ends with an average of its training weights."""

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from moe_tabular import MoECBOWClassifier, MoECBOWRegressor
from moe_tabular._engine import MaskedColumnNet, WeightAveraging, ema_decay

from .conftest import FAST

ESTIMATORS = [MoECBOWClassifier, MoECBOWRegressor]


def target_for(Estimator, target):
    if Estimator is MoECBOWRegressor:
        return np.where(target == "warm", 30.0, 10.0)
    return target


def weights(module):
    return [p.detach().clone() for p in module.parameters()]


def predictions(model, X):
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return model.predict(X)


@pytest.fixture
def recorded(monkeypatch):
    """Every optimizer step's weights ``(epoch, weights)`` and the callback."""
    steps, callbacks = [], []
    original = WeightAveraging.on_batch_end

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            steps.append((len(net.history), weights(net.module_)))
            if self not in callbacks:
                callbacks.append(self)
        original(self, net, training=training, **kwargs)

    monkeypatch.setattr(WeightAveraging, "on_batch_end", on_batch_end)
    return steps, callbacks


def expected_average(kind, steps, max_epochs):
    """The average written out: EMA step by step, SWA over the last epochs."""
    if kind == "ema":
        average = steps[0][1]
        for n, (_, step) in enumerate(steps[1:], start=1):
            decay = (1 + n) / (10 + n)
            average = [
                decay * a + (1 - decay) * w for a, w in zip(average, step, strict=True)
            ]
        return average
    last_of_epoch = dict(steps)  # each epoch's last step
    first = max_epochs - max_epochs // 4 + 1
    window = [last_of_epoch[e] for e in range(first, max_epochs + 1)]
    assert len(window) == 10
    return [torch.stack(ws).mean(0) for ws in zip(*window, strict=True)]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("kind", ["ema", "swa"])
@pytest.mark.parametrize("n_ensemble", [1, 2])
def test_the_model_ends_with_the_average_of_its_training_weights(
    Estimator, kind, n_ensemble, frame_and_target, recorded
):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    params = {**FAST, "n_ensemble": n_ensemble}
    model = Estimator(**params, weight_averaging=kind).fit(frame, y)
    steps, (callback,) = recorded
    assert len(steps) == FAST["max_epochs"] * 8  # 240 rows, batches of 32
    final = weights(model.module_)
    # the AveragedModel's weights, and the average computed by hand
    for got, averaged in zip(
        final, callback.averaged_.module.parameters(), strict=True
    ):
        torch.testing.assert_close(got, averaged, rtol=0, atol=0)
    expected = expected_average(kind, steps, FAST["max_epochs"])
    for got, want in zip(final, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    # not the last step's weights ...
    last = steps[-1][1]
    assert (
        max((a - b).abs().max().item() for a, b in zip(final, last, strict=True)) > 1e-4
    )
    # ... which are a plain fit's: training follows the same path
    plain = Estimator(**params).fit(frame, y)
    for got, want in zip(weights(plain.module_), last, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    np.testing.assert_array_equal(
        model.history_["train_loss"], plain.history_["train_loss"]
    )
    assert not np.array_equal(predictions(model, frame), predictions(plain, frame))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_the_default_averages_nothing(Estimator, frame_and_target, recorded):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    model = Estimator(**FAST).fit(frame, y)
    assert model.weight_averaging is None
    steps, callbacks = recorded
    assert steps == [] and callbacks == []


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("kind", ["ema", "swa"])
def test_averaged_models_predict_save_load_and_continue(
    Estimator, kind, frame_and_target, tmp_path
):
    frame, target = frame_and_target
    y = target_for(Estimator, target)
    model = Estimator(**FAST, weight_averaging=kind).fit(frame, y)
    assert model.score(frame, y) > (0.8 if Estimator is MoECBOWClassifier else 0.5)
    model.save(tmp_path)
    loaded = Estimator.load(tmp_path)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(predictions(loaded, frame), predictions(model, frame))
    # partial_fit trains on from the averaged weights, one epoch, as a plain model
    averaged = weights(model.module_)
    loaded.partial_fit(frame, y)
    model.partial_fit(frame, y)
    assert model.n_iter_ == FAST["max_epochs"] + 1
    assert any(
        not torch.equal(a, b)
        for a, b in zip(weights(model.module_), averaged, strict=True)
    )
    np.testing.assert_array_equal(predictions(loaded, frame), predictions(model, frame))


@pytest.mark.parametrize("kind", ["ema", "swa"])
def test_partial_fit_does_not_average(kind, frame_and_target, recorded):
    frame, target = frame_and_target
    averaging = MoECBOWClassifier(**FAST, weight_averaging=kind)
    plain = MoECBOWClassifier(**FAST)
    for _ in range(3):
        averaging.partial_fit(frame, target, classes=["cold", "warm"])
        plain.partial_fit(frame, target, classes=["cold", "warm"])
    np.testing.assert_array_equal(
        averaging.predict_proba(frame), plain.predict_proba(frame)
    )
    assert recorded[0] == []


def test_early_stopping_scores_and_restores_the_average(
    frame_and_target, recorded, monkeypatch
):
    frame, target = frame_and_target
    scored = []  # per epoch: the weights validation saw, and whether averaged
    original = MaskedColumnNet.validation_step

    def validation_step(self, batch, **fit_params):
        callback = next(
            cb for _, cb in self.callbacks_ if isinstance(cb, WeightAveraging)
        )
        now = weights(self.module_)
        average = callback.averaged_.module.parameters()
        same = all(torch.equal(a, b) for a, b in zip(now, average, strict=True))
        scored.append((len(self.history), now, same))
        return original(self, batch, **fit_params)

    monkeypatch.setattr(MaskedColumnNet, "validation_step", validation_step)
    model = MoECBOWClassifier(
        **{**FAST, "max_epochs": 30, "learning_rate": 3e-2},
        weight_averaging="ema",
        early_stopping=True,
        learning_rate_schedule="constant",
        n_iter_no_change=4,
    ).fit(frame, target)
    assert all(same for _, _, same in scored)
    # the restored weights are the best epoch's average, not the training ones
    best = int(model.history_["valid_target_loss"].idxmin()) + 1
    (restored,) = [w for epoch, w, _ in scored if epoch == best]
    for got, want in zip(weights(model.module_), restored, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    last_step = recorded[0][-1][1]
    assert any(
        not torch.equal(a, b)
        for a, b in zip(weights(model.module_), last_step, strict=True)
    )


def test_max_time_keeps_the_average_so_far_and_swa_before_its_epochs_none(
    frame_and_target,
):
    frame, target = frame_and_target
    stopped = {**FAST, "max_time": 1e-9}  # one epoch
    plain = MoECBOWClassifier(**stopped).fit(frame, target)
    ema = MoECBOWClassifier(**stopped, weight_averaging="ema").fit(frame, target)
    swa = MoECBOWClassifier(**stopped, weight_averaging="swa").fit(frame, target)
    assert plain.n_iter_ == ema.n_iter_ == swa.n_iter_ == 1
    assert not np.array_equal(ema.predict_proba(frame), plain.predict_proba(frame))
    np.testing.assert_array_equal(swa.predict_proba(frame), plain.predict_proba(frame))


@pytest.mark.parametrize("n_steps", [100, 1_000, 10_000, 100_000])
def test_the_ema_weighs_the_last_steps_alike_at_any_length(n_steps):
    decay = np.array([ema_decay(n) for n in range(1, n_steps)])
    # weight of each step in the final average, oldest (the copied first) first
    later = np.append(np.cumprod(decay[::-1])[::-1][1:], 1.0)
    share = np.concatenate([[np.prod(decay)], (1 - decay) * later])
    np.testing.assert_allclose(share.sum(), 1.0)
    # the last 11% of the steps carry about two thirds, (1 - 0.11) ** 9 is left
    recent = share[-round(0.11 * n_steps) :].sum()
    assert 0.6 < recent < 0.7
    age = n_steps - 1 - np.arange(n_steps)
    assert 0.08 < (share * age).sum() / n_steps < 0.12  # mean age: a tenth


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("value", ["mean", "EMA", 1, True])
def test_bad_values_name_the_parameter(Estimator, value):
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(InvalidParameterError, match="weight_averaging"):
        Estimator(weight_averaging=value).fit(X, y)
    assert issubclass(InvalidParameterError, ValueError)
