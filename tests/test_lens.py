"""The MoE lens: expert weights, imputation, the shift score and embeddings."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from moe_tabular import (
    MoECBOWClassifier,
    MoECBOWImputer,
    MoECBOWRegressor,
    plot_expert_weights,
)
from moe_tabular._lens import masked_log_proba

from .conftest import FAST

# The paper's block (narrow feed-forward, constant rate): the reading of the
# gates as expert weights is about this model, and it keeps the tests
# independent of how the defaults are tuned.
PAPER_BLOCK = {
    "d_embedding": 20,
    "n_heads": 5,
    "d_ffn": 5,
    "learning_rate_schedule": "constant",
}
KEY_FAST = {**FAST, **PAPER_BLOCK, "max_epochs": 25}


def make_key_table(n_rows=160, seed=0):
    """The target follows 'key' alone; 'twin' copies 'left'; 'num' is noise."""
    rng = np.random.default_rng(seed)
    left = rng.choice(["x", "y", "z"], size=n_rows)
    frame = pd.DataFrame(
        {
            "left": pd.Categorical(left),
            "key": pd.Categorical(rng.choice(list("abcd"), size=n_rows)),
            "twin": pd.Series(left, dtype="string"),
            "num": rng.normal(size=n_rows),
        }
    )
    target = np.where(frame["key"].isin(["a", "b"]), "yes", "no")
    return frame, target


@pytest.fixture(scope="module")
def key_table():
    return make_key_table()


@pytest.fixture(scope="module")
def classifier(key_table):
    frame, target = key_table
    return MoECBOWClassifier(**KEY_FAST).fit(frame, target)


@pytest.fixture(scope="module")
def imputer(key_table):
    frame, _ = key_table
    return MoECBOWImputer(**KEY_FAST).fit(frame)


# -- expert weights --------------------------------------------------------------
@pytest.mark.parametrize("aggregate", ["mean", "rollout", None])
def test_expert_weights_are_distributions_over_named_columns(
    classifier, key_table, aggregate
):
    frame, _ = key_table
    weights = classifier.expert_weights(frame.head(7), aggregate=aggregate)
    assert list(weights.columns) == ["left", "key", "twin", "num", "target"]
    assert (weights.to_numpy() >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    if aggregate is None:
        assert weights.index.names == ["row", "layer", "head"]
        assert len(weights) == 7 * 1 * classifier.n_heads
    else:
        assert weights.index.equals(frame.head(7).index)


def test_the_column_the_target_depends_on_gets_most_weight(classifier, key_table):
    frame, target = key_table
    assert (classifier.predict(frame) == target).mean() > 0.95
    mean = classifier.expert_weights(frame).mean()
    others = mean.drop(["key", "target"])
    assert mean["key"] > 1.5 * others.max(), mean.round(3).to_dict()


def test_rollout_reduces_to_half_mean_plus_self_for_one_layer(classifier, key_table):
    frame, _ = key_table
    mean = classifier.expert_weights(frame.head(5))
    rollout = classifier.expert_weights(frame.head(5), aggregate="rollout")
    expected = mean / 2
    expected["target"] += 0.5
    np.testing.assert_allclose(rollout, expected, rtol=1e-6)


def test_rollout_across_two_layers_is_a_distribution(key_table):
    frame, target = key_table
    model = MoECBOWClassifier(**{**FAST, "max_epochs": 2}, n_layers=2, n_heads=2)
    model.fit(frame.head(60), target[:60])
    per_head = model.expert_weights(frame.head(4), aggregate=None)
    assert per_head.index.get_level_values("layer").unique().tolist() == [0, 1]
    rollout = model.expert_weights(frame.head(4), aggregate="rollout")
    np.testing.assert_allclose(rollout.sum(axis=1), 1.0, rtol=1e-6)
    assert (rollout["target"] >= 0.25).all()  # two residual halves at least


def test_expert_weights_of_a_feature_column_and_errors(classifier, imputer, key_table):
    frame, _ = key_table
    twin = imputer.expert_weights(frame, column="twin").mean()
    assert list(twin.index) == ["left", "key", "twin", "num", "(constant)"]
    assert twin["left"] == twin.drop(["twin", "(constant)"]).max()  # its copy
    assert classifier.expert_weights(frame.head(2), column="left").shape == (2, 5)
    with pytest.raises(ValueError, match="no target column"):
        imputer.expert_weights(frame.head(2))
    with pytest.raises(ValueError, match="'colour' is not one of"):
        classifier.expert_weights(frame.head(2), column="colour")
    with pytest.raises(ValueError, match="aggregate="):
        classifier.expert_weights(frame.head(2), aggregate="max")
    with pytest.raises(ValueError, match="key"):
        classifier.expert_weights(frame.drop(columns="key"))


def test_plot_expert_weights_draws_heatmap_and_bars(classifier, key_table):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame, _ = key_table
    weights = classifier.expert_weights(frame)
    heatmap, bars = plot_expert_weights(weights, max_rows=10)
    assert heatmap.images[0].get_array().shape == (10, 5)
    assert len(bars.patches) == 5
    with pytest.raises(ValueError, match="one row per sample"):
        plot_expert_weights(classifier.expert_weights(frame.head(2), aggregate=None))
    plt.close("all")


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_expert_weights(pd.DataFrame({"a": [1.0]}))


# -- imputation ------------------------------------------------------------------
def with_holes(frame, column, rows):
    holed = frame.copy()
    holed.loc[holed.index[rows], column] = None
    return holed


def test_imputer_recovers_a_column_from_its_copy(imputer, key_table):
    frame, _ = key_table
    rows = np.arange(0, len(frame), 3)
    holed = with_holes(frame, "twin", rows)
    filled = imputer.transform(holed)
    assert filled.dtypes.equals(frame.dtypes)
    assert filled["twin"].notna().all()
    pd.testing.assert_frame_equal(filled.drop(index=rows), frame.drop(index=rows))
    accuracy = (filled["twin"].iloc[rows] == frame["twin"].iloc[rows]).mean()
    assert accuracy > 0.9
    filled = imputer.transform(with_holes(frame, "left", rows))  # category dtype too
    assert (filled["left"].iloc[rows] == frame["left"].iloc[rows]).mean() > 0.9


def test_numeric_cells_get_the_training_mean_of_the_predicted_bin(imputer, key_table):
    frame, _ = key_table
    filled = imputer.transform(with_holes(frame, "num", [0, 1, 2]))
    j = list(frame.columns).index("num")
    assert set(filled["num"].iloc[:3]) <= set(imputer.bin_means_[j])
    assert imputer.bin_means_[0] is None  # categorical
    codes = imputer.tokenizer_.transform(frame)[:, j]
    np.testing.assert_allclose(
        imputer.bin_means_[j][codes[3]], frame["num"][codes == codes[3]].mean()
    )


def test_estimator_impute_uses_bin_midpoints_and_keeps_array_dtype():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 2, 60), rng.normal(size=60)])
    X = X.astype(np.float32)
    model = MoECBOWRegressor(**{**FAST, "max_epochs": 3}).fit(X, X[:, 1])
    holed = X[:4].copy()
    holed[:2, 1] = np.nan
    holed[2, 0] = np.nan
    filled = model.impute(holed)
    assert filled.dtype == np.float32 and not np.isnan(filled).any()
    edges = model.tokenizer_.encoders_[1].bin_edges_[0]
    midpoints = ((edges[1:] + edges[:-1]) / 2).astype(np.float32)
    assert set(filled[:2, 1]) <= set(midpoints)
    assert filled[2, 0] in (0.0, 1.0)  # few distinct values: one of them
    np.testing.assert_array_equal(filled[3], X[3])


def test_impute_sample_is_reproducible_and_draws_known_categories(imputer, key_table):
    frame, _ = key_table
    holed = with_holes(frame, "key", np.arange(60))
    first = imputer.impute(holed, strategy="sample", random_state=0)
    again = imputer.impute(holed, strategy="sample", random_state=0)
    pd.testing.assert_frame_equal(first, again)
    assert set(first["key"].iloc[:60]) <= set("abcd")
    assert first["key"].iloc[:60].nunique() > 1  # 'key' is unpredictable: draws vary
    with pytest.raises(ValueError, match="strategy="):
        imputer.impute(holed, strategy="mean")


@pytest.mark.parametrize("strategy", ["most_likely", "sample"])
def test_impute_never_fills_in_the_infrequent_category(strategy):
    # 'id' is mostly one-off values: its shared infrequent token is by far the
    # most likely, yet a fill must be a real category
    rng = np.random.default_rng(0)
    ids = np.where(rng.random(200) < 0.3, "common", [f"id{i}" for i in range(200)])
    frame = pd.DataFrame({"id": ids, "x": rng.normal(size=200)})
    imputer = MoECBOWImputer(**{**FAST, "max_epochs": 5}, min_frequency=5)
    imputer.fit(frame)
    holed = frame.head(20).copy()
    holed.loc[:, "id"] = None
    filled = imputer.transform(holed)
    assert (filled["id"] == "common").all()
    sampled = imputer.impute(holed, strategy=strategy, random_state=0)
    assert (sampled["id"] == "common").all()


def test_imputer_in_a_pipeline_and_its_errors(key_table):
    frame, _ = key_table
    X = frame[["num"]].assign(double=2 * frame["num"]).to_numpy()
    X[::5, 1] = np.nan
    pipe = make_pipeline(MoECBOWImputer(**{**FAST, "max_epochs": 3}), SimpleImputer())
    out = pipe.fit_transform(X)
    assert out.shape == X.shape and not np.isnan(out).any()
    np.testing.assert_array_equal(out[1::5], X[1::5])
    assert pipe[0].get_feature_names_out().tolist() == ["x0", "x1"]
    with pytest.raises(ValueError, match="early_stopping=False"):
        MoECBOWImputer(early_stopping=True).fit(X)


def test_imputer_save_and_load_round_trip(imputer, key_table, tmp_path):
    frame, _ = key_table
    holed = with_holes(frame, "twin", np.arange(10))
    holed.loc[:4, "num"] = np.nan
    imputer.save(tmp_path / "imputer")
    loaded = MoECBOWImputer.load(tmp_path / "imputer")
    pd.testing.assert_frame_equal(loaded.transform(holed), imputer.transform(holed))
    np.testing.assert_array_equal(loaded.bin_means_[3], imputer.bin_means_[3])


# -- shift score -----------------------------------------------------------------
def test_score_samples_is_lower_for_rows_that_break_a_dependence(
    imputer, classifier, key_table
):
    frame, _ = key_table
    broken = frame.copy()
    broken["twin"] = broken["twin"].map({"x": "y", "y": "z", "z": "x"})
    for model in (imputer, classifier):
        typical, odd = model.score_samples(frame), model.score_samples(broken)
        assert typical.shape == (len(frame),) and (typical <= 0).all()
        assert np.mean(typical > odd) > 0.9


def test_score_samples_sums_known_cells_and_floors_unknown_ones(classifier, key_table):
    frame, _ = key_table
    rows = frame.head(10).copy()
    rows["num"] = rows["num"].mask(rows.index < 5)  # 5 missing cells
    rows["twin"] = rows["twin"].mask(rows.index % 2 == 0, "w")  # 5 unseen ones
    scores = classifier.score_samples(rows)
    one_by_one = [classifier.score_samples(rows.iloc[[i]]) for i in range(10)]
    np.testing.assert_allclose(scores, np.concatenate(one_by_one), rtol=1e-12)
    codes, log_proba = masked_log_proba(classifier, rows)
    expected = np.zeros(10)
    for j in range(4):
        known = codes[:, j] >= 0
        expected[known] += log_proba[j][known, codes[known, j]]
        expected[codes[:, j] == -1] += log_proba[j][codes[:, j] == -1].min(axis=1)
    assert (codes[:5, 3] == -2).all() and (codes[::2, 2] == -1).all()
    np.testing.assert_allclose(scores, expected, rtol=1e-12)


# -- embeddings ------------------------------------------------------------------
def test_token_embeddings_are_labelled_per_column(classifier):
    tokens = classifier.token_embeddings()
    assert tokens.index.names == ["column", "category"]
    assert tokens.shape[1] == 1 + classifier.d_embedding
    assert tokens["token"].is_unique  # one vocabulary per column
    assert tokens.loc["left"].index.tolist() == [
        "MASK",
        "MISSING",
        "UNKNOWN",
        "x",
        "y",
        "z",
    ]
    assert tokens.loc["target"].index.tolist()[3:] == ["no", "yes"]
    num = tokens.loc["num"].index.tolist()[3:]
    assert num[0].startswith("< ") and num[-1].startswith(">= ") and len(num) == 10
    weight = classifier.module_.token_embedding.weight.detach().numpy()
    np.testing.assert_allclose(
        tokens.drop(columns="token").to_numpy(), weight[tokens["token"]], rtol=1e-6
    )
    columns = classifier.column_embeddings()
    assert columns.index.tolist() == ["left", "key", "twin", "num", "target"]
    assert columns.shape == (5, classifier.d_embedding)


def test_shared_vocabulary_tokens_serve_several_columns():
    X = pd.DataFrame({"a": ["p", "q"] * 10, "b": ["r", "s"] * 10})
    model = MoECBOWRegressor(**{**FAST, "max_epochs": 1}, shared_vocabulary=True)
    model.fit(X, np.arange(20.0))
    tokens = model.token_embeddings()
    assert tokens.loc[("a", "p"), "token"] == tokens.loc[("b", "r"), "token"]
    assert tokens.loc[("a", "MASK"), "token"] == tokens.loc[("target", "MASK"), "token"]
    assert tokens.loc["target"].index[3] == "bin 0 (mean 0.5)"
    unique = tokens.drop_duplicates("token")
    assert len(unique) == model.module_.token_embedding.num_embeddings
    assert (tokens.groupby("token").size().loc[[0, 1, 2, 3]] == 3).all()


def test_ordinal_token_embeddings_are_the_vectors_the_model_reads():
    X = pd.DataFrame({"a": np.arange(40.0), "b": ["p", "q"] * 20})
    model = MoECBOWRegressor(**{**FAST, "max_epochs": 1}, ordinal_embedding=True)
    tokens = model.fit(X, np.arange(40.0)).token_embeddings()
    stored = model.module_.token_embedding.weight.detach().double().numpy()
    vectors = tokens.drop(columns="token").loc["a"].to_numpy()
    first = tokens.loc["a", "token"].iloc[3]  # bin 0 of the shared block
    np.testing.assert_allclose(
        vectors[3:], stored[first : first + 10].cumsum(0), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(vectors[:3], stored[first - 3 : first])  # reserved


@pytest.mark.parametrize(
    "other",
    [
        pd.Series([True, False, True, False] * 10),
        pd.array([True, False, None, True] * 10, dtype="boolean"),
        pd.array([1, 2, None, 4] * 10, dtype="Int64"),
    ],
    ids=["bool", "boolean", "Int64"],
)
def test_lens_and_imputer_read_a_category_beside_a_nullable_column(other):
    """Two columns were enough to crash the lens while predict worked."""
    X = pd.DataFrame({"c": pd.Categorical(["a", "b", None, "a"] * 10), "o": other})
    y = np.array([0, 1] * 20)
    model = MoECBOWClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert model.score_samples(X).shape == (40,)
    np.testing.assert_allclose(model.expert_weights(X).sum(axis=1), 1.0)
    assert not model.impute(X)["c"].isna().any()
    imputer = MoECBOWImputer(max_epochs=2, random_state=0)
    assert not imputer.fit_transform(X)["c"].isna().any()
    assert not imputer.transform(X)["c"].isna().any()


@pytest.mark.parametrize(
    "column",
    [
        # found by the long fuzz profile: values spanning less than sklearn's
        # 1e-8 bin width (no bin edge left), and a spike at the largest float
        [0.0, 3.8e-294, np.nan, 2.2e-311, np.nan, 1.2e-205],
        [np.finfo(float).max] * 5 + [1.0, 2.0, 3.0, 4.0, np.nan],
    ],
    ids=["span-below-bin-width", "spike-at-float-max"],
)
def test_imputer_fills_extreme_numeric_columns_with_finite_values(column):
    from moe_tabular import MoECBOWImputer

    X = pd.DataFrame({"a": column, "b": ["x", "y"] * (len(column) // 2)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow on the way
        imputer = MoECBOWImputer(
            max_epochs=1, batch_size=2, d_embedding=4, n_heads=1, n_bins=3,
            random_state=0,
        ).fit(X)  # fmt: skip
        filled = imputer.transform(X)
    assert np.isfinite(filled["a"]).all()
    present = X["a"].notna()
    np.testing.assert_array_equal(filled.loc[present, "a"], X.loc[present, "a"])
    labels = imputer.expert_weights(X, column="a").columns
    assert len(labels) == 3


def test_imputer_bin_means_weigh_rows_by_sample_weight():
    frame, _ = make_key_table(n_rows=60)
    weights = np.where(np.arange(60) % 3 == 0, 2.0, 1.0)
    params = {**KEY_FAST, "max_epochs": 1}
    weighted = MoECBOWImputer(**params).fit(frame, sample_weight=weights)
    repeated = frame.iloc[np.repeat(np.arange(60), weights.astype(int))]
    copies = MoECBOWImputer(**params).fit(repeated)
    j = list(frame.columns).index("num")
    np.testing.assert_allclose(weighted.bin_means_[j], copies.bin_means_[j])
