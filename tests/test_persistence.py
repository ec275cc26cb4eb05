"""save()/load(): pickle-free round trips, and clear errors for bad folders."""

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from moe_tabular import ColumnTokenizer, MoECBOWClassifier, MoECBOWRegressor
from moe_tabular._persistence import (
    CONFIG_FILE,
    FORMAT_VERSION,
    WEIGHTS_FILE,
    from_json,
    to_json,
)

from .conftest import FAST, make_frame

SMALL = {**FAST, "max_epochs": 2}


def odd_rows(frame):
    """Rows with unseen categories and missing values fit never saw."""
    odd = frame.head(4).copy()
    odd["city"] = pd.Series(["paris", None, pd.NA, "oslo"], dtype="string").values
    odd["shade"] = pd.Categorical(["neon", None, "dark", "pale"])
    odd.loc[odd.index[0], "x"] = np.nan
    odd["count"] = pd.array([None, 1, 2, 7], dtype="Int64")
    return pd.concat([frame, odd])


@pytest.fixture(
    scope="module",
    params=[
        (MoECBOWClassifier, {}),
        (MoECBOWRegressor, {}),
        (MoECBOWClassifier, {"shared_vocabulary": True, "n_layers": 2}),
        (MoECBOWRegressor, {"norm_first": True, "n_target_bins": 4}),
        (MoECBOWRegressor, {"ordinal_embedding": True, "n_ensemble": 2}),
    ],
    ids=[
        "classifier",
        "regressor",
        "classifier-shared-2-layers",
        "regressor-pre-norm",
        "regressor-ordinal-ensemble",
    ],
)
def saved(request, tmp_path_factory):
    Estimator, params = request.param
    frame, target = make_frame(n_rows=60)
    y = (
        target
        if Estimator is MoECBOWClassifier
        else np.where(target == "warm", 3.0, 1.0)
    )
    model = Estimator(**SMALL, **params).fit(frame, y)
    folder = tmp_path_factory.mktemp("model")
    model.save(folder)
    return model, folder, frame


def test_loaded_model_predicts_exactly_as_the_saved_one(saved):
    model, folder, frame = saved
    loaded = type(model).load(folder)
    check_is_fitted(loaded)
    X = odd_rows(frame)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).dtype == model.predict(X).dtype
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(loaded.classes_, model.classes_)
        assert loaded.classes_.dtype == model.classes_.dtype
    else:
        np.testing.assert_array_equal(loaded.target_bin_means_, model.target_bin_means_)
    np.testing.assert_array_equal(
        loaded.tokenizer_.transform(X), model.tokenizer_.transform(X)
    )


def test_loaded_model_keeps_params_names_layout_and_history(saved):
    model, folder, _ = saved
    loaded = type(model).load(folder)
    assert loaded.get_params() == model.get_params()
    assert loaded.n_features_in_ == model.n_features_in_
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    tokenizer, original = loaded.tokenizer_, model.tokenizer_
    assert tokenizer.get_params() == original.get_params()
    for name in ["categorical_", "n_categories_"]:
        np.testing.assert_array_equal(getattr(tokenizer, name), getattr(original, name))
    pd.testing.assert_frame_equal(loaded.layout_, model.layout_)
    pd.testing.assert_frame_equal(loaded.history_, model.history_)
    assert not hasattr(loaded, "net_")  # loading builds the module only
    state, original_state = loaded.module_.state_dict(), model.module_.state_dict()
    assert state.keys() == original_state.keys()
    for name, tensor in state.items():
        assert torch.equal(tensor, original_state[name]), name
    assert not loaded.module_.training


def test_folder_holds_plain_json_and_safetensors(saved):
    _, folder, _ = saved
    assert sorted(p.name for p in folder.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["format_version"] == FORMAT_VERSION
    assert (folder / WEIGHTS_FILE).read_bytes()[8:9] == b"{"  # safetensors header


def test_loading_never_unpickles(saved, monkeypatch):
    model, folder, frame = saved

    def forbidden(*args, **kwargs):
        raise AssertionError("load() must not unpickle")

    for name in ["load", "loads", "Unpickler"]:
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    loaded = type(model).load(folder)
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_pickle_still_round_trips(saved):
    model, _, frame = saved
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(frame), model.predict(frame))


@pytest.mark.parametrize("Estimator", [MoECBOWClassifier, MoECBOWRegressor])
def test_round_trip_without_feature_names_and_with_a_random_state_instance(
    Estimator, tmp_path
):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = Estimator(**{**SMALL, "random_state": np.random.RandomState(0)}).fit(X, y)
    model.save(tmp_path)
    loaded = Estimator.load(tmp_path)
    assert not hasattr(loaded, "feature_names_in_")
    assert loaded.random_state is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    "params", [{"max_categories": 2}, {"min_frequency": 3}, {"n_bins": 2}]
)
def test_tokenizer_state_rebuilds_infrequent_categories_and_bins(params):
    X = pd.DataFrame(
        {
            "c": ["a"] * 10 + ["b"] * 6 + ["rare1", "rare2", None, "é", ""],
            "x": np.linspace(-1, 1, 21),
            "k": [1.0, 2.0, np.nan] * 7,
        }
    )
    tokenizer = ColumnTokenizer(**{"n_bins": 4, **params}).fit(X)
    text = json.dumps(to_json(tokenizer.state(), "tokenizer"), allow_nan=False)
    rebuilt = ColumnTokenizer.from_state(from_json(json.loads(text)))
    later = pd.DataFrame(
        {"c": ["rare2", "new", None], "x": [5.0, -5.0, 0.1], "k": [2.0, 3.0, np.nan]}
    )
    for table in [X, later]:
        np.testing.assert_array_equal(
            rebuilt.transform(table), tokenizer.transform(table)
        )
    assert rebuilt.get_params() == tokenizer.get_params()


def test_save_needs_a_fitted_model(tmp_path):
    with pytest.raises(NotFittedError):
        MoECBOWClassifier().save(tmp_path)


# -- bad folders ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_classifier(tmp_path_factory):
    frame, target = make_frame(n_rows=60)
    folder = tmp_path_factory.mktemp("classifier")
    MoECBOWClassifier(**{**SMALL, "max_epochs": 1}).fit(frame, target).save(folder)
    return folder


@pytest.fixture
def folder(saved_classifier, tmp_path):
    """A fresh copy of a saved classifier, free to damage."""
    for name in [CONFIG_FILE, WEIGHTS_FILE]:
        (tmp_path / name).write_bytes((saved_classifier / name).read_bytes())
    return tmp_path, MoECBOWClassifier


def _edit_config(path, edit):
    config = json.loads((path / CONFIG_FILE).read_text())
    edit(config)
    (path / CONFIG_FILE).write_text(json.dumps(config))


def test_missing_folder_or_files_are_value_errors(folder, tmp_path_factory):
    path, Estimator = folder
    with pytest.raises(ValueError, match="does not exist"):
        Estimator.load(tmp_path_factory.mktemp("empty"))
    (path / WEIGHTS_FILE).unlink()
    with pytest.raises(ValueError, match=f"{WEIGHTS_FILE}' does not exist"):
        Estimator.load(path)


def test_a_file_instead_of_the_folder_is_a_value_error(folder):
    path, Estimator = folder
    with pytest.raises(ValueError, match="Cannot read"):
        Estimator.load(path / CONFIG_FILE)


def test_newer_format_version_is_refused(folder):
    path, Estimator = folder
    _edit_config(path, lambda c: c.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="newer than this release reads"):
        Estimator.load(path)


def _classes(config):
    return config["target"]["classes"]["__ndarray__"]


def _keep_first(array):
    """Cut a saved array to its first item, shape included."""
    del array["__ndarray__"][1:]
    array["shape"] = [1]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: _keep_first(c["target"]["classes"]), "two or more labels"),
        (lambda c: _classes(c).reverse(), "not sorted"),
        (
            lambda c: c["target"]["classes"].update(
                __ndarray__=["a", "b", "c"], shape=[3]
            ),
            "target has 3 categories",
        ),
        (lambda c: c["layout"]["shared"].reverse(), "shared"),
        (lambda c: _keep_first(c["attributes"]["feature_names_in_"]), "name"),
        (lambda c: c.update(target={"kind": "bins", "means": []}), "corrupt"),
    ],
    ids=["one-class", "reversed-classes", "three-classes", "layout", "names", "kind"],
)
def test_model_json_is_checked_against_the_weights(folder, edit, message):
    path, Estimator = folder
    _edit_config(path, edit)
    with pytest.raises(ValueError, match=message):
        Estimator.load(path)


def test_deeply_nested_or_odd_versions_are_value_errors(folder):
    path, Estimator = folder
    (path / CONFIG_FILE).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply|not a saved"):
        Estimator.load(path)
    for version in [True, 1.0, "2", 1]:
        config = {"format": "moe_tabular", "format_version": version}
        (path / CONFIG_FILE).write_text(json.dumps(config))
        with pytest.raises(ValueError, match="format_version"):
            Estimator.load(path)


def test_many_infrequent_categories_round_trip(tmp_path):
    """20,000 one-off ids share the infrequent token: loading is linear in them
    (a pairwise scan of categories against infrequent ones took minutes)."""
    ids = [f"id{i}" for i in range(20_000)] + ["common"] * 20
    X = pd.DataFrame({"id": pd.array(ids, dtype="string"), "x": np.arange(20_020.0)})
    y = np.arange(20_020) % 2
    model = MoECBOWClassifier(max_epochs=1, min_frequency=2, d_embedding=4, n_heads=1)
    model.fit(X, y).save(tmp_path)
    loaded = MoECBOWClassifier.load(tmp_path)
    later = pd.DataFrame({"id": ["id7", "common", "new"], "x": [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(
        loaded.tokenizer_.transform(later), model.tokenizer_.transform(later)
    )
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_corrupt_files_are_value_errors(folder):
    path, Estimator = folder
    weights = (path / WEIGHTS_FILE).read_bytes()
    (path / WEIGHTS_FILE).write_bytes(weights[: len(weights) // 2])
    with pytest.raises(ValueError, match="SHA-256 differs"):
        Estimator.load(path)
    (path / WEIGHTS_FILE).write_bytes(weights)
    text = (path / CONFIG_FILE).read_text()
    (path / CONFIG_FILE).write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not valid JSON"):
        Estimator.load(path)


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c["layout"].update(
            n_categories=[n + 1 for n in c["layout"]["n_categories"]]
        ),
        lambda c: c["tokenizer"]["encoders"].pop(),
        lambda c: c["params"].update(n_heads=-1),
        lambda c: c["params"].update(new_knob=1),
        lambda c: c["attributes"].update(
            n_features_in_={"__ndarray__": [], "dtype": "<M8[ns]", "shape": [0]}
        ),
        lambda c: c["attributes"].update(__dict__={}),
    ],
    ids=[
        "layout",
        "encoders",
        "bad-param",
        "unknown-param",
        "datetime-dtype",
        "dunder-attribute",
    ],
)
def test_inconsistent_config_is_a_value_error(folder, edit):
    path, Estimator = folder
    _edit_config(path, edit)
    with pytest.raises(ValueError, match="corrupt or incompatible"):
        Estimator.load(path)


def test_loading_the_other_class_names_the_saved_one(folder):
    path, Estimator = folder
    other = MoECBOWRegressor if Estimator is MoECBOWClassifier else MoECBOWClassifier
    with pytest.raises(ValueError, match=f"holds a '{Estimator.__name__}'"):
        other.load(path)


def test_saving_onto_a_file_is_a_value_error(folder, tmp_path_factory):
    path, Estimator = folder
    target = tmp_path_factory.mktemp("target") / "file"
    target.write_text("")
    with pytest.raises(ValueError, match="is a file"):
        Estimator.load(path).save(target)


def test_a_model_saved_before_ordered_columns_loads_with_numeric_ones_ordered(
    tmp_path,
):
    # files written before ColumnTokenizer.ordered_ existed: only numeric columns
    # shared a vocabulary (here no bool or integer-coded column, so the layouts agree)
    frame, target = make_frame(n_rows=60)
    frame = frame.drop(columns="flag")
    model = MoECBOWClassifier(**SMALL).fit(frame, target)
    model.save(tmp_path)
    _edit_config(tmp_path, lambda c: c["tokenizer"]["attributes"].pop("ordered_"))
    loaded = MoECBOWClassifier.load(tmp_path)
    categorical = loaded.tokenizer_.categorical_
    np.testing.assert_array_equal(loaded.tokenizer_.ordered_, ~categorical)
    proba = loaded.predict_proba(frame)
    np.testing.assert_array_equal(proba, model.predict_proba(frame))


def test_a_model_saved_before_weight_decay_keeps_the_plain_adam_it_was_trained_with(
    tmp_path,
):
    frame, target = make_frame(n_rows=60)
    model = MoECBOWClassifier(**SMALL, weight_decay=0.0).fit(frame, target)
    model.save(tmp_path)
    _edit_config(tmp_path, lambda c: c["params"].pop("weight_decay"))
    loaded = MoECBOWClassifier.load(tmp_path)
    assert loaded.weight_decay == 0.0  # not today's default: partial_fit resumes Adam
    assert MoECBOWClassifier().weight_decay == 0.1
    proba = loaded.predict_proba(frame)
    np.testing.assert_array_equal(proba, model.predict_proba(frame))


# -- files written by earlier releases -----------------------------------------------
SAVED_BEFORE_STATE = Path(__file__).parent / "data" / "saved_before_state"


def _saved_before_state_table():
    """The table the models in ``data/saved_before_state`` were fitted on."""
    rng = np.random.default_rng(0)
    n = 40
    X = pd.DataFrame(
        {
            "city": pd.Series(rng.choice(["oslo", "rome", "lima"], n), dtype="string"),
            "grade": pd.Categorical(
                rng.choice(["lo", "hi"], n), categories=["lo", "hi"], ordered=True
            ),
            "count": pd.array(rng.integers(0, 3, n), dtype="Int64"),
            "x": rng.normal(size=n),
        }
    )
    X.loc[X.index[::7], "x"] = np.nan
    return X


def test_models_saved_before_the_parts_owned_their_state_still_load():
    """Files written before state()/from_state() (format version 2, moe_tabular
    0.1.0: a regressor, with its target's binner, and an imputer fitted with
    sample weights) load and predict as they did."""
    from moe_tabular import MoECBOWImputer

    expected = json.loads((SAVED_BEFORE_STATE / "expected.json").read_text())
    X = _saved_before_state_table()
    regressor = MoECBOWRegressor.load(SAVED_BEFORE_STATE / "regressor")
    assert regressor.predict(X).tolist() == expected["regressor_predict"]
    imputer = MoECBOWImputer.load(SAVED_BEFORE_STATE / "imputer")
    holed = X.head(8).copy()
    holed.loc[holed.index[:4], "x"] = np.nan
    holed.loc[holed.index[4:], "city"] = None
    filled = imputer.transform(holed)
    assert filled["x"].tolist() == expected["imputer_x"]
    assert filled["city"].tolist() == expected["imputer_city"]
