"""The paper's correlation-shift simulation."""

import itertools

import numpy as np
import pandas as pd
import pytest

from moe_tabular.ood import (
    PAPER_SEEDS,
    PAPER_SETTINGS,
    CorrelationShiftData,
    make_correlation_shift,
)

SMALL = {"n_train": 2000, "n_test": 2000}


def test_paper_seeds_are_numpy_2023_draws():
    # The authors ran np.random.seed(2023); np.random.randint(10000, size=20).
    # A RandomState seeded the same way gives the same stream without touching
    # the global one.
    expected = np.random.RandomState(2023).randint(10000, size=20)
    assert PAPER_SEEDS == tuple(int(s) for s in expected)


def test_paper_settings_are_the_twelve_table_cells():
    assert len(PAPER_SETTINGS) == 12
    assert set(PAPER_SETTINGS) == set(
        itertools.product((1, 5), (0.1, 0.9), (0.0, 0.5, 1.5))
    )
    assert PAPER_SETTINGS[0]._asdict() == {
        "n_core_features": 1,
        "corr": 0.1,
        "x_noise": 0.0,
    }


def test_default_output_is_binned_paper_sized_frames():
    data = make_correlation_shift(random_state=0)
    assert isinstance(data, CorrelationShiftData)
    X_train, y_train, X_test, y_test = data
    assert X_train.shape == X_test.shape == (2000, 5)
    assert list(X_train.columns) == ["x0", "x1", "x2", "x3", "x4"]
    assert y_train.name == y_test.name == "y"
    assert list(data.train.columns) == ["x0", "x1", "x2", "x3", "x4", "y"]
    assert data.test.shape == (2000, 6)
    pooled = pd.concat([data.train, data.test])
    assert (pooled.dtypes == np.int64).all()
    for column in pooled:
        # ten quantile bins over train + test pooled: 400 rows in each
        counts = pooled[column].value_counts().sort_index()
        assert counts.index.tolist() == list(range(10))
        assert (counts == 400).all()


# Pinned from the authors' public generate_data (yixinw-lab/attention-uai,
# tabular-experiment/.../generate_data.py) run with the same arguments; they
# fail if the order of the random draws ever changes.
AUTHORS_ROWS = {
    (4951, (5, 0.9, 0.0)): (
        [[3, 3, 4, 5, 6, 3], [2, 3, 6, 7, 8, 6], [9, 9, 0, 0, 0, 8]],
        [[1, 6, 6, 7, 6, 6], [3, 5, 3, 4, 5, 3], [1, 3, 3, 9, 1, 1]],
    ),
    (8433, (1, 0.1, 1.5)): (
        [[4, 5, 3, 4, 8, 1], [4, 2, 6, 7, 8, 5], [0, 0, 2, 9, 7, 1]],
        None,
    ),
}


@pytest.mark.parametrize(("seed", "setting"), list(AUTHORS_ROWS))
def test_seeded_draws_match_the_authors_generator(seed, setting):
    n_core_features, corr, x_noise = setting
    data = make_correlation_shift(
        n_core_features=n_core_features, corr=corr, x_noise=x_noise, random_state=seed
    )
    train_rows, test_rows = AUTHORS_ROWS[seed, setting]
    assert data.train.iloc[:3].to_numpy().tolist() == train_rows
    if test_rows is not None:
        assert data.test.iloc[:3].to_numpy().tolist() == test_rows


def test_raw_first_row_matches_the_authors_generator():
    raw = make_correlation_shift(binned=False, random_state=4951)
    expected = [-0.30584537005791, -0.30718798451147, -0.24192049064564,
                0.13603506943297, 0.44669560350996, -1.20359328113391]  # fmt: skip
    np.testing.assert_allclose(raw.train.iloc[0], expected, atol=1e-12)


@pytest.mark.parametrize("corr", [0.1, 0.9])
def test_correlation_pattern_flips_and_signs_follow_the_first_half(corr):
    raw = make_correlation_shift(corr=corr, binned=False, random_state=1)
    # x0 and x1 are sign-flipped, x2..x4 are not: same-group pairs correlate
    # positively, cross-group pairs negatively.
    sign = np.array([-1, -1, 1, 1, 1])
    expected_sign = np.outer(sign, sign)
    off_diagonal = ~np.eye(5, dtype=bool)
    for X, strength in ((raw.X_train, corr), (raw.X_test, 1 - corr)):
        observed = np.corrcoef(X.to_numpy(), rowvar=False)
        unsigned = (observed * expected_sign)[off_diagonal]
        assert unsigned.mean() == pytest.approx(strength, abs=0.02)
        np.testing.assert_allclose(unsigned, strength, atol=0.1)
    strong = raw.X_train if corr == 0.9 else raw.X_test
    observed_sign = np.sign(np.corrcoef(strong.to_numpy(), rowvar=False))
    np.testing.assert_array_equal(observed_sign, expected_sign)


def test_without_shift_test_keeps_the_training_correlation():
    raw = make_correlation_shift(corr=0.9, shift=False, binned=False, random_state=2)
    observed = raw.X_test["x3"].corr(raw.X_test["x4"])
    assert observed == pytest.approx(0.9, abs=0.03)


def test_outcome_depends_only_on_core_features():
    raw = make_correlation_shift(
        n_core_features=1, corr=0.1, x_noise=0.0, binned=False, random_state=3
    )
    X = np.column_stack([raw.X_train.to_numpy(), np.ones(2000)])
    coef, *_ = np.linalg.lstsq(X, raw.y_train.to_numpy(), rcond=None)
    assert 0 < coef[0] < 10
    np.testing.assert_allclose(coef[1:], 0, atol=0.2)
    residual = raw.y_train.to_numpy() - X @ coef
    assert residual.std() == pytest.approx(2.0, rel=0.05)  # y_noise


def test_x_noise_weakens_the_observed_correlation():
    clean = make_correlation_shift(x_noise=0.0, binned=False, random_state=4)
    noisy = make_correlation_shift(x_noise=1.5, binned=False, random_state=4)
    # observation noise 0.4 * 1.5 on the core features: corr / (1 + 0.36)
    assert noisy.X_train["x3"].corr(noisy.X_train["x4"]) == pytest.approx(
        0.9 / 1.36, abs=0.03
    )
    assert clean.X_train["x3"].corr(clean.X_train["x4"]) == pytest.approx(0.9, abs=0.02)


def test_binned_is_the_pooled_qcut_of_the_raw_values():
    raw = make_correlation_shift(n_train=300, n_test=200, binned=False, random_state=5)
    binned = make_correlation_shift(n_train=300, n_test=200, random_state=5)
    pooled_raw = pd.concat([raw.train, raw.test], ignore_index=True)
    pooled_binned = pd.concat([binned.train, binned.test], ignore_index=True)
    for column in pooled_raw:
        expected = pd.qcut(pooled_raw[column], 10, labels=False)
        np.testing.assert_array_equal(pooled_binned[column], expected)
    assert len(binned.X_train) == 300 and len(binned.X_test) == 200


def test_same_seed_same_data_and_global_state_untouched():
    # the legacy global generator is what the authors' code would have used
    np.random.seed(0)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    first = make_correlation_shift(n_train=100, n_test=100, random_state=7)
    second = make_correlation_shift(n_train=100, n_test=100, random_state=7)
    other = make_correlation_shift(n_train=100, n_test=100, random_state=8)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    pd.testing.assert_frame_equal(first.train, second.train)
    pd.testing.assert_frame_equal(first.test, second.test)
    assert not first.train.equals(other.train)


def test_too_many_core_features_is_named():
    with pytest.raises(ValueError, match="n_core_features=6 exceeds n_features=5"):
        make_correlation_shift(n_core_features=6)


@pytest.mark.parametrize(
    ("param", "value"), [("corr", 1.5), ("n_bins", 1), ("x_noise", -1.0)]
)
def test_invalid_parameters_are_named(param, value):
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        make_correlation_shift(**{param: value})
