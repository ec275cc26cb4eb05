"""The trainer's rules: budget, early stopping, stratification."""

import numpy as np
import pytest

from moe_tabular._training import (
    AUTO_EPOCHS,
    AUTO_STEPS,
    SHORT_RUN_MAX_RATE,
    can_stratify,
    resolve_budget,
    resolve_early_stopping,
)


def budget(n_train_rows, **params):
    params = {
        "batch_size": "auto",
        "learning_rate": "auto",
        "max_epochs": "auto",
        **params,
    }
    return resolve_budget(n_train_rows=n_train_rows, **params)


@pytest.mark.parametrize(
    "n_train_rows, batch_size", [(100, 32), (240, 60), (2000, 500), (10**6, 512)]
)
def test_auto_batch_is_a_quarter_of_the_table_within_32_and_512(
    n_train_rows, batch_size
):
    assert budget(n_train_rows).batch_size == batch_size


@pytest.mark.parametrize("n_train_rows", [245, 2000, 10_000, 10**6])
def test_auto_epochs_are_the_same_at_every_size_so_steps_grow_with_the_table(
    n_train_rows,
):
    assert budget(n_train_rows).max_epochs == AUTO_EPOCHS


@pytest.mark.parametrize("n_train_rows", [240, 2000, 10_000])
def test_auto_learning_rate_is_linear_in_the_batch_for_full_runs(n_train_rows):
    result = budget(n_train_rows)
    assert result.learning_rate == pytest.approx(1e-2 / 500 * result.batch_size)


def test_short_runs_take_larger_steps_up_to_a_cap():
    full = budget(200)  # 4 steps an epoch, 800 steps
    short = budget(200, max_epochs=15)  # 60 steps
    assert short.learning_rate == pytest.approx(full.learning_rate * AUTO_STEPS / 60)
    assert budget(400, max_epochs=13).learning_rate == SHORT_RUN_MAX_RATE  # 52 steps
    assert budget(200, max_epochs=12).learning_rate == full.learning_rate  # 48
    assert budget(200, max_epochs=15, learning_rate=1e-4).learning_rate == 1e-4
    kept = resolve_budget(
        batch_size="auto",
        learning_rate="auto",
        max_epochs=15,
        n_train_rows=200,
        short_runs=False,
    )
    assert kept.learning_rate == pytest.approx(full.learning_rate)


def test_auto_epochs_keep_the_linear_rate_on_tiny_tables():
    tiny = budget(60)  # 2 steps an epoch: 400 steps, no larger ones
    assert tiny.learning_rate == pytest.approx(1e-2 / 500 * 32)


def test_the_floor_applies_to_auto_rates_only():
    assert budget(100, learning_rate_floor=2e-3).learning_rate == 2e-3
    assert (
        budget(100, learning_rate=1e-4, learning_rate_floor=2e-3).learning_rate == 1e-4
    )


def test_early_stopping_auto_turns_on_above_10000_rows_with_a_target():
    assert not resolve_early_stopping("auto", 10_000, has_target=True, owner="M")
    assert resolve_early_stopping("auto", 10_001, has_target=True, owner="M")
    assert not resolve_early_stopping("auto", 10**6, has_target=False, owner="M")
    with pytest.raises(ValueError, match="M has no target column"):
        resolve_early_stopping(True, 100, has_target=False, owner="M")


def test_stratify_only_when_every_class_fits_both_sides():
    codes = np.repeat([0, 1, 2], 10)
    assert can_stratify(codes, 3, n_valid=3)
    assert not can_stratify(codes, 3, n_valid=2)  # three classes, two rows
    assert not can_stratify(np.r_[codes, 3], 4, n_valid=4)  # a class seen once
    assert not can_stratify(np.r_[codes, -1], 3, n_valid=4)  # an unlabeled row
