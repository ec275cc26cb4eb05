"""ColumnTokenizer: dtypes, reserved tokens, vocabularies, errors."""

import warnings

import numpy as np
import pandas as pd
import pytest

from moe_tabular import ColumnTokenizer
from moe_tabular._vocabulary import MISSING, UNKNOWN

from .conftest import make_frame


def test_auto_rule_reads_dtypes():
    frame, _ = make_frame()
    tokenizer = ColumnTokenizer().fit(frame)
    # string, category, bool -> categorical; nullable Int64, float, float32 -> numeric
    assert tokenizer.categorical_.tolist() == [True, True, True, False, False, False]
    assert tokenizer.n_categories_.tolist() == [3, 2, 2, 4, 10, 10]


def test_integer_columns_are_numeric_with_one_token_per_value_when_few():
    X = pd.DataFrame({"small": [1, 5, 9] * 10, "wide": np.arange(30)})
    tokenizer = ColumnTokenizer(n_bins=5).fit(X)
    assert not tokenizer.categorical_.any()
    assert tokenizer.n_categories_.tolist() == [3, 5]
    codes = tokenizer.transform(pd.DataFrame({"small": [5, 7], "wide": [-100, 1000]}))
    # an unseen small integer is UNKNOWN; a wide column bins out-of-range values
    assert codes.tolist() == [[1, 0], [UNKNOWN, 4]]


def test_quantile_bins_hold_equal_shares():
    X = np.random.default_rng(0).normal(size=(1000, 1))
    codes = ColumnTokenizer(n_bins=4).fit(X).transform(X)[:, 0]
    assert np.bincount(codes).tolist() == [250, 250, 250, 250]


def test_a_spike_gets_a_bin_of_its_own_and_the_rest_stays_binned():
    # zero in 92% of rows (an amount such as capital gain): quantile edges all
    # sit at 0, and sklearn's merged bins would put every row in one bin
    rng = np.random.default_rng(0)
    gain = np.where(rng.random(2000) < 0.92, 0.0, rng.lognormal(8, 1, 2000))
    tokenizer = ColumnTokenizer(n_bins=10).fit(gain.reshape(-1, 1))
    codes = tokenizer.transform(gain.reshape(-1, 1))[:, 0]
    assert tokenizer.n_categories_.tolist() == [10]
    assert (codes[gain == 0] == 0).all() and (codes[gain > 0] > 0).all()
    counts = np.bincount(codes[gain > 0])[1:]  # 9 quantile bins of the non-zeros
    assert len(counts) == 9 and counts.min() >= 0.7 * counts.mean()
    # a spike inside the range (a sentinel such as 999 is at the top) keeps
    # values on either side apart; a value near the spike is not the spike
    pdays = np.where(rng.random(2000) < 0.5, 10.0, rng.uniform(0, 20, 2000))
    tokenizer = ColumnTokenizer(n_bins=6).fit(pdays.reshape(-1, 1))
    near = tokenizer.transform(np.array([[9.99], [10.0], [10.01]]))[:, 0]
    assert near[0] < near[1] < near[2]


def test_sample_weight_decides_which_values_are_spikes():
    X = np.r_[np.zeros(10), np.arange(1.0, 91.0)].reshape(-1, 1)  # zero: 10%
    light, heavy = np.ones(100), np.r_[np.full(10, 5.0), np.ones(90)]
    spiked = ColumnTokenizer(n_bins=5).fit(X, sample_weight=heavy)
    plain = ColumnTokenizer(n_bins=5).fit(X, sample_weight=light)
    assert spiked.transform([[0.0], [1.0]])[:, 0].tolist() == [0, 1]
    assert plain.transform([[0.0], [1.0]])[:, 0].tolist() == [0, 0]


def test_ordered_columns_are_numbers_integer_codes_and_ordered_categoricals():
    sizes = ["small", "large", None, "medium", "small"]
    X = pd.DataFrame(
        {
            "size": pd.Categorical(
                sizes, categories=["small", "medium", "large", "huge"], ordered=True
            ),
            "city": pd.Categorical(["oslo", "rome", "lima", "oslo", "rome"]),
            "code": pd.Categorical([3, 1, 2, 3, 1]),
            "flag": [True, False, True, True, False],
            "x": [0.5, 1.5, 2.5, 3.5, 4.5],
        }
    )
    tokenizer = ColumnTokenizer().fit(X)
    assert tokenizer.categorical_.tolist() == [True, True, True, True, False]
    assert tokenizer.ordered_.tolist() == [True, False, True, True, True]
    # an ordered categorical's codes follow its own order (unused "huge" dropped)
    assert tokenizer.n_categories_[0] == 3
    assert tokenizer.transform(X)[:, 0].tolist() == [0, 2, MISSING, 1, 0]


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_missing_values_map_to_missing_token(missing):
    X = pd.DataFrame({"c": pd.Series(["a", "b", missing, "a"], dtype=object)})
    tokenizer = ColumnTokenizer().fit(X)
    tokens = tokenizer.transform(X)[:, 0]
    assert tokens[2] == MISSING
    later = tokenizer.transform(pd.DataFrame({"c": ["a", missing]}))
    assert later[:, 0].tolist() == [0, MISSING]


def test_nan_first_seen_at_transform_in_numeric_column():
    X = pd.DataFrame({"x": np.arange(20.0)})
    tokenizer = ColumnTokenizer(n_bins=4).fit(X)
    assert tokenizer.transform(pd.DataFrame({"x": [np.nan, 3.0]}))[:, 0].tolist() == [
        MISSING,
        0,
    ]


def test_unseen_category_maps_to_unknown_token():
    X = pd.DataFrame({"c": ["a", "b"] * 5})
    tokenizer = ColumnTokenizer().fit(X)
    assert tokenizer.transform(pd.DataFrame({"c": ["zzz"]}))[0, 0] == UNKNOWN


def test_handle_unknown_error_names_the_column():
    X = pd.DataFrame({"city": ["a", "b"] * 5})
    tokenizer = ColumnTokenizer(handle_unknown="error").fit(X)
    with pytest.raises(ValueError, match="'city'.*'zzz'"):
        tokenizer.transform(pd.DataFrame({"city": ["zzz"]}))


def test_output_is_per_column_codes_the_model_eats():
    frame, _ = make_frame()
    tokenizer = ColumnTokenizer().fit(frame)
    codes = tokenizer.transform(frame)
    assert codes.dtype == np.int64
    assert (codes >= MISSING).all()
    assert (codes < tokenizer.n_categories_).all()
    assert not hasattr(tokenizer, "category_offsets_")  # the model owns the layout


@pytest.mark.parametrize(
    "spec", [["city"], [0], [True, False], np.array([True, False])]
)
def test_categorical_features_by_name_index_or_mask(spec):
    X = pd.DataFrame({"city": [1, 2, 3] * 10, "x": np.arange(30.0)})
    tokenizer = ColumnTokenizer(categorical_features=spec, n_bins=2).fit(X)
    assert tokenizer.categorical_.tolist() == [True, False]


def test_categorical_features_errors_name_the_problem():
    X = pd.DataFrame({"city": ["a", "b"], "x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="'town'"):
        ColumnTokenizer(categorical_features=["town"]).fit(X)
    with pytest.raises(ValueError, match="out of range"):
        ColumnTokenizer(categorical_features=[5]).fit(X)
    with pytest.raises(ValueError, match="length 3"):
        ColumnTokenizer(categorical_features=[True, False, True]).fit(X)
    with pytest.raises(ValueError, match="'city' is treated as numeric"):
        ColumnTokenizer(categorical_features=None).fit(X)


def test_numpy_object_array_with_strings_and_numbers():
    X = np.array([["a", 1.5], ["b", 2.5], ["a", None]], dtype=object)
    tokenizer = ColumnTokenizer().fit(X)
    assert tokenizer.categorical_.tolist() == [True, False]
    assert tokenizer.transform(X)[2, 1] == MISSING


def test_bad_cells_raise_type_errors_naming_the_column():
    with pytest.raises(TypeError, match="'c'.*dict"):
        ColumnTokenizer().fit(pd.DataFrame({"c": ["a", {"k": 1}]}))
    with pytest.raises(TypeError, match="'c' mixes strings and numbers"):
        ColumnTokenizer().fit(pd.DataFrame({"c": ["a", 1]}, dtype=object))
    with pytest.raises(TypeError, match="'when' has dtype datetime64"):
        ColumnTokenizer().fit(pd.DataFrame({"when": pd.date_range("2020", periods=3)}))


def test_set_output_pandas_and_feature_names():
    frame, _ = make_frame(n_rows=30)
    tokenizer = ColumnTokenizer().set_output(transform="pandas").fit(frame)
    out = tokenizer.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(frame.columns)
    assert tokenizer.get_feature_names_out().tolist() == list(frame.columns)


def test_infrequent_categories_share_a_token():
    X = pd.DataFrame({"c": ["a"] * 10 + ["b"] * 10 + ["rare1", "rare2"]})
    tokenizer = ColumnTokenizer(min_frequency=3).fit(X)
    assert tokenizer.n_categories_.tolist() == [3]
    codes = tokenizer.transform(X)[:, 0]
    assert codes[-1] == codes[-2] == 2


# -- found by tests/test_fuzz.py ------------------------------------------------------
def test_duplicate_column_names_are_named():
    X = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"duplicate column names \['a'\]"):
        ColumnTokenizer().fit(X)


def test_date_column_beside_numbers_is_named():
    # numpy cannot promote float and datetime64: the check must come first
    X = pd.DataFrame({"x": [1.0, 2.0], "when": pd.date_range("2020", periods=2)})
    with pytest.raises(TypeError, match="'when' has dtype datetime64"):
        ColumnTokenizer().fit(X)


@pytest.mark.parametrize(
    "other",
    [
        pd.array([1, None, 3, 4], dtype="Int64"),
        pd.array([True, None, False, True], dtype="boolean"),
        np.array([True, False, False, True]),
    ],
)
def test_category_column_beside_nullable_or_bool_column(other):
    # sklearn's check_array casts such a frame to float (scikit-learn#25798)
    X = pd.DataFrame({"c": pd.Categorical(["a", "b", None, "a"]), "o": other})
    codes = ColumnTokenizer().fit(X).transform(X)
    assert codes[:, 0].tolist() == [0, 1, MISSING, 0]
    assert (codes[:, 1] == MISSING).tolist() == pd.isna(other).tolist()


def test_infinity_is_named_when_a_string_column_hides_it_from_sklearn():
    X = pd.DataFrame({"s": ["a", "b"], "x": [1.0, np.inf]})
    with pytest.raises(ValueError, match="Column 'x' contains infinity"):
        ColumnTokenizer().fit(X)


def test_integer_too_large_for_a_float_is_named():
    X = pd.DataFrame({"big": np.array([1, 2**1100], dtype=object)})
    with pytest.raises(ValueError, match="'big' is treated as numeric"):
        ColumnTokenizer().fit(X)


def test_values_spanning_less_than_sklearns_bin_width_share_one_bin():
    # KBinsDiscretizer drops bins narrower than 1e-8: here all of them
    X = np.arange(20.0).reshape(-1, 1) * 1e-10
    tokenizer = ColumnTokenizer(n_bins=4).fit(X)
    assert tokenizer.n_categories_.tolist() == [1]
    assert (tokenizer.transform(X) == 0).all()


def test_value_in_a_column_without_values_at_fit_is_unknown():
    X = pd.DataFrame({"x": [np.nan] * 4})
    tokenizer = ColumnTokenizer().fit(X)
    later = pd.DataFrame({"x": [1.0, np.nan]})
    assert tokenizer.transform(later)[:, 0].tolist() == [UNKNOWN, MISSING]
    with pytest.raises(ValueError, match="'x' has categories not seen"):
        ColumnTokenizer(handle_unknown="error").fit(X).transform(later)


@pytest.mark.parametrize("cap", [{"max_categories": 20}, {"min_frequency": 3}])
def test_a_cap_bounds_the_vocabulary_of_a_5000_category_column(cap):
    rng = np.random.default_rng(0)
    codes = np.concatenate([np.arange(5000), np.arange(5000), rng.integers(0, 19, 600)])
    X = pd.DataFrame({"user": pd.array([f"user{i}" for i in codes], dtype="string")})
    assert ColumnTokenizer().fit(X).n_categories_.tolist() == [5000]  # uncapped
    tokenizer = ColumnTokenizer(**cap).fit(X)
    # 19 frequent users plus one shared "infrequent" token (and MASK, MISSING, UNKNOWN)
    assert tokenizer.n_categories_.tolist() == [20]
    encoded = tokenizer.transform(pd.DataFrame({"user": ["user3", "user4999", "new"]}))
    assert encoded[:, 0].tolist() == [12, 19, UNKNOWN]  # "user3" sorts 13th


def test_a_column_whose_type_changed_since_fit_warns():
    """Fitted as strings "1", "2", "3", predicted as ints: every cell unseen."""
    X = pd.DataFrame({"k": ["1", "2", "3"] * 4})
    tokenizer = ColumnTokenizer().fit(X)
    with pytest.warns(UserWarning, match="'k'.*none of its 3 values.*convert it"):
        codes = tokenizer.transform(pd.DataFrame({"k": [1, 2, 3]}))
    assert (codes == UNKNOWN).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one new category is no alarm
        tokenizer.transform(pd.DataFrame({"k": ["9"]}))
        tokenizer.transform(pd.DataFrame({"k": ["1", "9", None]}))
    with pytest.warns(UserWarning, match="none of its 5 values"):
        tokenizer.transform(pd.DataFrame({"k": ["7", "8", "9", "10", "11"]}))


def test_the_unseen_values_warning_points_at_the_callers_line(frame_and_target):
    from moe_tabular import MoECBOWClassifier

    X, y = frame_and_target
    model = MoECBOWClassifier(max_epochs=1, d_embedding=4, n_heads=1, d_ffn=4).fit(X, y)
    changed = X.assign(city=np.arange(len(X)))  # strings at fit, integers now
    for call in (model.predict, model.predict_proba, model.score_samples):
        with pytest.warns(UserWarning, match="'city'") as caught:
            call(changed)
        assert [w.filename for w in caught if "'city'" in str(w.message)] == [__file__]
    with pytest.warns(UserWarning, match="'city'") as caught:
        model.tokenizer_.transform(changed)
    assert caught[0].filename == __file__


def test_category_labels_name_categories_and_bin_intervals():
    X = pd.DataFrame(
        {"c": ["b", "a", "b", None], "x": [0.0, 1.0, 2.0, 3.0], "k": [1.0, 2.0] * 2}
    )
    tokenizer = ColumnTokenizer(n_bins=2).fit(X)
    assert tokenizer.category_labels(0) == ["a", "b"]
    assert tokenizer.category_labels(1) == ["< 1.5", ">= 1.5"]
    assert tokenizer.category_labels(2) == ["1", "2"]
    for j in range(3):
        assert len(tokenizer.category_labels(j)) == tokenizer.n_categories_[j]


def test_bin_values_are_midpoints_or_weighted_means_of_the_training_values():
    values = np.array([0.0, 1.0, 2.0, 4.0, 6.0, 10.0, np.nan])
    tokenizer = ColumnTokenizer(n_bins=2).fit(values.reshape(-1, 1))
    edges = tokenizer.encoders_[0].bin_edges_[0]
    np.testing.assert_array_equal(tokenizer.bin_values(0), (edges[1:] + edges[:-1]) / 2)
    np.testing.assert_allclose(tokenizer.bin_values(0, values), [1.0, 20 / 3])
    weights = np.array([1.0, 1.0, 2.0, 1.0, 1.0, 2.0, 5.0])  # = rows repeated
    repeated = np.repeat(values, weights.astype(int))
    np.testing.assert_allclose(
        tokenizer.bin_values(0, values, weights), tokenizer.bin_values(0, repeated)
    )
    few = ColumnTokenizer(n_bins=5).fit([[1.0], [2.0], [2.0]])
    assert few.bin_values(0, [1.0, 2.0, 2.0]).tolist() == [1.0, 2.0]  # the values
    with pytest.raises(ValueError, match="categorical"):
        ColumnTokenizer().fit([["a"], ["b"]]).bin_values(0)


def test_fit_transform_encodes_each_column_once_and_equals_fit_then_transform():
    frame, _ = make_frame(n_rows=60)
    weights = np.where(np.arange(60) % 4 == 0, 0.0, 1.5)
    reads = []
    original = ColumnTokenizer._column_values

    def counted(self, series, j, label):
        reads.append(j)
        return original(self, series, j, label)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ColumnTokenizer, "_column_values", counted)
        codes = ColumnTokenizer().fit_transform(frame, sample_weight=weights)
    assert reads == list(range(frame.shape[1]))
    fitted = ColumnTokenizer().fit(frame, sample_weight=weights)
    np.testing.assert_array_equal(codes, fitted.transform(frame))


@pytest.mark.parametrize("kind", ["classifier", "imputer"])
def test_an_estimator_encodes_each_column_once_at_fit(kind):
    from moe_tabular import MoECBOWClassifier, MoECBOWImputer

    frame, target = make_frame(n_rows=40)
    model = (MoECBOWClassifier if kind == "classifier" else MoECBOWImputer)(
        max_epochs=1, d_embedding=4, n_heads=1, d_ffn=4
    )
    reads = []
    original = ColumnTokenizer._column_values

    def counted(self, series, j, label):
        reads.append(j)
        return original(self, series, j, label)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ColumnTokenizer, "_column_values", counted)
        model.fit(frame, target if kind == "classifier" else None)
    assert reads == list(range(frame.shape[1]))
