"""The OOD benchmark harness (moe_tabular.ood) and its CLI (python -m benchmarks ood).

Fits are tiny (a few epochs on Auto MPG); the paper suites themselves run in
``benchmarks/``, never here.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

from moe_tabular.ood import (
    MOE_CONFIGS,
    OPTIONAL_BASELINES,
    PAPER_GRIDS,
    PAPER_SEEDS,
    PAPER_SETTINGS,
    PUBLISHED,
    REAL_DATASETS,
    SUITES,
    Checkpoint,
    ModelSpec,
    Task,
    TaskOptions,
    make_correlation_shift,
    make_model,
    make_task,
    parse_params,
    plan_runs,
    plot_results,
    pytorch_tabular_available,
    results_to_markdown,
    run_one,
    run_suite,
    score_predictions,
    summarize_results,
)

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
TINY = {"max_epochs": 2}  # MoE override: the runs only need to be deterministic
NOT_COMPARED = ["fit_time"]  # wall-clock time, the one non-deterministic column


@pytest.fixture(scope="module")
def data_dir():
    assert DATA_DIR.is_dir(), f"The UCI tables are expected in {DATA_DIR}."
    return DATA_DIR


@pytest.fixture(scope="module")
def auto_mpg():
    return make_task("auto-mpg", seed=1)


@pytest.fixture(scope="module")
def reference_runs():
    """Two datasets x two models x two seeds, run in this process."""
    return _auto_mpg_runs()


def _auto_mpg_runs(**dispatch):
    """The reference runs' suite, dispatched as ``dispatch`` says."""
    return run_suite(
        "quick",
        datasets=["auto-mpg"],
        models=["moe", "logreg"],
        seeds=[1, 2],
        params=TINY,
        **dispatch,
    )


# -- suites ----------------------------------------------------------------------
def test_suites_list_their_runs():
    simulation = plan_runs("paper-simulation")
    assert len(simulation) == 12 * 20 * len(SUITES["paper-simulation"].models)
    assert {d for d, _, _ in simulation} == {
        f"sim-{c}-{r:g}-{n:g}" for c, r, n in PAPER_SETTINGS
    }
    assert sorted({s for _, _, s in simulation}) == sorted(PAPER_SEEDS)
    with warnings.catch_warnings():  # the suite's optional models may be absent
        warnings.filterwarnings("ignore", "Suite 'paper': skipping", UserWarning)
        models = {m for _, m, _ in plan_runs("paper")}
    assert {"moe:paper", "moe:default", "logreg", "rf", "gb", "mlp", "hgb"} <= models
    real = plan_runs("real", models=["moe:default", "hgb"])
    assert {d for d, _, _ in real} == set(REAL_DATASETS)  # all but the numeric
    numeric = {d for d, _, _ in plan_runs("numeric", models=["hgb"])}
    assert numeric == {"loan-approval", "labour-force", "college-wages"}
    assert numeric.isdisjoint(REAL_DATASETS) and numeric <= set(SUITES["all"].datasets)
    assert set(REAL_DATASETS) >= {
        "auto-mpg", "heart-disease", "adult", "bank-marketing", "diabetes-130",
    }  # fmt: skip
    assert {"moe:default", "hgb", "logreg", "catboost", "lightgbm"} <= set(
        SUITES["real"].models
    )
    assert len(set(SUITES["all"].datasets)) == len(SUITES["all"].datasets)
    quick = plan_runs("quick")
    assert {d for d, _, _ in quick} >= {"auto-mpg"} and len(quick) <= 12


def test_optional_models_follow_pytorch_tabular():
    if pytorch_tabular_available():
        models = {m for _, m, _ in plan_runs("auto-mpg")}
        assert "ft-transformer" in models
    else:
        with pytest.warns(UserWarning, match=r"ft-transformer \(pip install pytorch_"):
            models = {m for _, m, _ in plan_runs("auto-mpg")}
        assert "ft-transformer" not in models
        with pytest.raises(ValueError, match="pytorch_tabular"):
            plan_runs("auto-mpg", models=["ft-transformer"])


@pytest.mark.parametrize("model", sorted(OPTIONAL_BASELINES))
def test_an_absent_optional_package_is_named(model, monkeypatch):
    from moe_tabular.ood import _peers

    module, package = OPTIONAL_BASELINES[model]
    real_find_spec = _peers.importlib.util.find_spec
    monkeypatch.setattr(
        _peers.importlib.util,
        "find_spec",
        lambda name: None if name == module else real_find_spec(name),
    )
    with pytest.raises(ValueError, match=f"needs {package}, not installed"):
        plan_runs("quick", models=[model])
    with pytest.raises(ImportError, match=f"pip install {package}"):
        make_model(model, make_task("auto-mpg", seed=0), seed=0)
    # a suite that lists it runs without it, and says so
    for suite in [name for name, s in SUITES.items() if model in s.models]:
        with pytest.warns(UserWarning, match=f"{model} \\(pip install {package}\\)"):
            planned = plan_runs(suite, datasets=["auto-mpg"], seeds=[1])
        assert model not in {m for _, m, _ in planned}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"datasets": ["iris"]}, "Unknown dataset 'iris'"),
        ({"models": ["svm"]}, "Unknown model 'svm'"),
        ({"models": ["moe:huge"]}, "Unknown model 'moe:huge'"),
        ({"models": ["logreg@oracle"]}, "only the grid-searched models"),
        ({"models": ["moe@oracle"]}, "only the grid-searched models"),
    ],
)
def test_unknown_names_raise_before_any_run(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan_runs("quick", **kwargs)
    with pytest.raises(ValueError, match="Unknown suite"):
        plan_runs("nope")


def test_real_tables_need_a_data_dir():
    with pytest.raises(ValueError, match="data_dir"):
        run_suite("quick", datasets=["adult"], models=["logreg"], seeds=[1])


# -- tasks -----------------------------------------------------------------------
def test_simulation_task_is_the_paper_data_plus_an_id_test_set():
    task = make_task("sim-5-0.9-0", seed=4951, n_train=400, n_test=300)
    paper = make_correlation_shift(
        n_core_features=5, corr=0.9, x_noise=0.0, n_train=400, n_test=300,
        random_state=4951,
    )  # fmt: skip
    pd.testing.assert_frame_equal(task.X_train, paper.X_train)
    pd.testing.assert_series_equal(task.y_ood, paper.y_test)
    assert task.X_id.shape == (300, 5) and task.bin_target
    assert task.y_id.between(0, 9).all() and task.X_id.isin(range(10)).all().all()
    # the ID set follows the training correlations, the OOD set the flipped ones
    corr_id = task.X_id.corr().abs().to_numpy()[np.triu_indices(5, 1)].mean()
    corr_ood = task.X_ood.corr().abs().to_numpy()[np.triu_indices(5, 1)].mean()
    assert corr_id > 0.7 > 0.3 > corr_ood


def test_auto_mpg_split_drops_the_domain_column(auto_mpg):
    assert "origin" not in auto_mpg.X_train.columns
    assert list(auto_mpg.X_train.columns) == list(auto_mpg.X_ood.columns)
    assert (len(auto_mpg.y_train), len(auto_mpg.y_id), len(auto_mpg.y_ood)) == (
        196, 49, 140,
    )  # fmt: skip
    assert auto_mpg.n_columns == 7 and auto_mpg.bin_target
    kept = make_task("auto-mpg", seed=1, keep_domain=True)
    assert set(kept.X_train["origin"]) == {"USA"}
    assert set(kept.X_ood["origin"]) == {"Europe", "Japan"}
    paper = make_task("auto-mpg", seed=1, id_test_size=0)
    assert (len(paper.y_train), len(paper.y_id)) == (245, 0)


def test_real_table_split_subsample_and_categoricals(data_dir):
    task = make_task("heart-disease", seed=3, data_dir=data_dir, max_train_rows=200)
    assert "site" not in task.X_train.columns and not task.bin_target
    assert len(task.y_train) == 200 and len(task.y_id) == 120
    assert len(task.y_ood) == 323  # Switzerland and VA
    assert {"sex", "cp", "thal"} <= set(task.categorical)
    assert "age" not in task.categorical
    again = make_task("heart-disease", seed=3, data_dir=data_dir, max_train_rows=200)
    pd.testing.assert_frame_equal(task.X_train, again.X_train)


# -- models ----------------------------------------------------------------------
def test_moe_configs_and_overrides(auto_mpg):
    sim = make_task("sim-1-0.1-0", seed=1, n_train=50, n_test=20)
    paper = make_model("moe:paper", sim, seed=7).get_params()
    assert paper["batch_size"] == 21 and paper["random_state"] == 7  # 128 / 6
    for key, value in MOE_CONFIGS["paper"].items():
        if key != "batch_size":
            assert paper[key] == value
    assert make_model("moe:paper", auto_mpg, seed=0).batch_size == 18  # 128 / 7
    default = make_model("moe", auto_mpg, seed=0, params={"shared_vocabulary": True})
    assert default.shared_vocabulary is True
    extra = {"wide": {"d_embedding": 40}}
    wide = make_model("moe:wide", auto_mpg, seed=0, moe_configs=extra)
    assert wide.d_embedding == 40
    with pytest.raises(ValueError, match="Unknown MoE config"):
        make_model("moe:wide", auto_mpg, seed=0)


def test_n_members_makes_a_soft_voted_seed_ensemble(auto_mpg):
    configs = {"pair": {"n_members": 2, "max_epochs": 2}}
    pair = make_model("moe:pair", auto_mpg, seed=5, moe_configs=configs)
    assert [m.random_state for _, m in pair.estimators] == [5, 6]
    X, y = auto_mpg.X_train, auto_mpg.y_train
    pair.fit(X, y)
    single = make_model("moe", auto_mpg, seed=6, params=TINY).fit(X, y)
    # the second member is the single model of its seed
    np.testing.assert_array_equal(
        pair.estimators_[1].predict_proba(auto_mpg.X_ood),
        single.predict_proba(auto_mpg.X_ood),
    )
    mean = np.mean([m.predict_proba(auto_mpg.X_ood) for m in pair.estimators_], 0)
    np.testing.assert_allclose(pair.predict_proba(auto_mpg.X_ood), mean)
    row = run_one(dataset="auto-mpg", model="moe:pair", seed=5, moe_configs=configs)
    assert json.loads(row["params"])["n_members"] == 2
    assert np.isnan(row["n_iter"])  # epochs are per member
    for bad in (0, 1.5, "2", True):
        with pytest.raises(ValueError, match="n_members of 'moe:bad'"):
            make_model(
                "moe:bad", auto_mpg, seed=0, moe_configs={"bad": {"n_members": bad}}
            )


def test_baselines_use_the_paper_grids_on_one_hot_features(auto_mpg):
    for name in ("rf", "gb", "mlp"):
        search = make_model(name, auto_mpg, seed=0)
        assert isinstance(search, GridSearchCV) and search.scoring == "accuracy"
        assert isinstance(search.cv, StratifiedKFold) and search.cv.n_splits == 5
        grid = {k.split("__")[1]: v for k, v in search.param_grid.items()}
        assert grid == PAPER_GRIDS[name]
        encoder = search.estimator[0].transformers[0][1]
        assert isinstance(encoder, OneHotEncoder) and encoder.drop == "first"
    logreg = make_model("logreg", auto_mpg, seed=0)
    assert logreg[-1].max_iter == 2000
    Xt = logreg[0].fit_transform(auto_mpg.X_train)
    assert Xt.shape == (196, 6 * 2)  # 6 columns of 3 bins, first bin dropped
    mlp = make_model("mlp", auto_mpg, seed=0).estimator[-1]
    assert (mlp.learning_rate_init, mlp.max_iter) == (0.01, 2000)


def test_hgb_declares_the_categorical_columns(data_dir):
    task = make_task("heart-disease", seed=0, data_dir=data_dir, max_train_rows=150)
    with threadpool_limits(1):  # OpenMP on a busy machine is slow for tiny fits
        model = make_model("hgb", task, seed=0).fit(task.X_train, task.y_train)
    hgb = model[-1]
    assert isinstance(hgb, HistGradientBoostingClassifier)
    assert hgb.is_categorical_.sum() == len(task.categorical)
    assert model.predict_proba(task.X_ood).shape == (len(task.y_ood), 2)


def test_hgb_reads_ordered_columns_as_numbers_and_only_unordered_as_categories():
    sizes = pd.CategoricalDtype(["small", "medium", "large"], ordered=True)
    X = pd.DataFrame(
        {
            "city": pd.Categorical(["b", "a", "c", "a", "b", "c"] * 10),
            "size": pd.Series(["large", "small", "medium"] * 20, dtype=sizes),
            "bin": [0, 3, 1, 2, 4, 1] * 10,  # an integer-coded bin
            "height": np.linspace(1.0, 2.0, 60),
        }
    )
    y = pd.Series((X["size"].cat.codes >= 1).astype(int))
    task = Task(
        "toy", "toy split", X, y, X.iloc[:0], y.iloc[:0], X, y,
        ("city", "size", "bin"), False,
    )  # fmt: skip
    with threadpool_limits(1):
        model = make_model("hgb", task, seed=0).fit(X, y)
    names = [n.split("__")[1] for n in model[0].get_feature_names_out()]
    assert names == ["city", "size", "bin", "height"]
    assert model[-1].is_categorical_.tolist() == [True, False, False, False]
    unseen = X.head(4).assign(size=pd.Series(["small", "medium", "large", None]))
    codes = model[0].transform(unseen)[:, 1]  # in the dtype's order, not sorted
    np.testing.assert_array_equal(codes, [0.0, 1.0, 2.0, np.nan])
    np.testing.assert_array_equal(model[0].transform(X.head(3))[:, 2], [0, 3, 1])
    assert model.score(X, y) == 1.0  # one threshold on the size codes (20 | 40)


def test_majority_predicts_the_most_frequent_training_class(data_dir):
    task = make_task("heart-disease", seed=0, data_dir=data_dir, max_train_rows=150)
    model = make_model("majority", task, seed=0).fit(task.X_train, task.y_train)
    top = task.y_train.value_counts().idxmax()
    assert (model.predict(task.X_ood) == top).all()
    np.testing.assert_allclose(
        model.predict_proba(task.X_ood)[0],
        task.y_train.value_counts(normalize=True).sort_index(),
    )


def test_optional_transformers_raise_without_pytorch_tabular(auto_mpg):
    if pytorch_tabular_available():
        assert make_model("ft-transformer", auto_mpg, seed=0).model == "FTTransformer"
    else:
        with pytest.raises(ImportError, match="pytorch_tabular"):
            make_model("tab-transformer", auto_mpg, seed=0)


def test_parse_params():
    assert parse_params(["a=1", "b=(50,)", "c=None", "d=adam"]) == {
        "a": 1, "b": (50,), "c": None, "d": "adam",
    }  # fmt: skip
    with pytest.raises(ValueError, match="key=value"):
        parse_params(["oops"])


def test_model_spec_parses_and_labels_in_one_place():
    spec = ModelSpec.parse("moe", params={"max_epochs": 2, "d_ffn": (4,)})
    assert (spec.family, spec.config, spec.name) == ("moe", "default", "moe:default")
    assert spec.label == "moe:default[max_epochs=2,d_ffn=(4,)]"
    assert ModelSpec.from_label(spec.label) == spec  # runs.csv labels read back
    oracle = ModelSpec.parse("rf@oracle", params={"max_epochs": 2})
    assert (oracle.name, oracle.oracle, oracle.params) == ("rf", True, {})
    assert oracle.label == "rf@oracle" and not oracle.is_moe
    transductive = ModelSpec.parse("moe:paper", protocol="transductive")
    assert transductive.label == "moe:paper@transductive"
    assert ModelSpec.from_label(transductive.label) == transductive
    # baselines always run the standard protocol; their label never changes
    assert ModelSpec.parse("hgb", protocol="transductive").label == "hgb"
    assert ModelSpec.from_label("rf:odd").name == "rf:odd"  # unknown names kept
    with pytest.raises(ValueError, match="protocol must be one of"):
        ModelSpec.parse("moe", protocol="semi")


def test_task_options_build_the_task_and_record_their_settings(data_dir):
    options = TaskOptions(data_dir=data_dir, max_train_rows=200)
    task = options.make_task("heart-disease", seed=3)
    direct = make_task("heart-disease", seed=3, data_dir=data_dir, max_train_rows=200)
    pd.testing.assert_frame_equal(task.X_train, direct.X_train)
    assert options.settings() == {
        "data_dir": str(data_dir), "id_test_size": 0.2, "max_train_rows": 200,
        "keep_domain": False, "protocol": "standard",
    }  # fmt: skip
    json.dumps(options.settings())  # what a checkpoint's settings file holds
    with pytest.raises(ValueError, match="protocol must be one of"):
        TaskOptions(protocol="semi")


def test_the_simulation_is_drawn_once_per_setting_and_seed(monkeypatch):
    from moe_tabular.ood import _tasks

    draws = []

    def counting(**kwargs):
        draws.append(kwargs["random_state"])
        return make_correlation_shift(**kwargs)

    _tasks._drawn_simulation_task.cache_clear()
    monkeypatch.setattr(_tasks, "make_correlation_shift", counting)
    runs = run_suite(
        "quick", datasets=["sim-1-0.1-0"], models=["logreg", "majority"],
        seeds=[11, 12],
    )  # fmt: skip
    assert len(runs) == 4
    assert sorted(draws) == [11] * 3 + [12] * 3  # 3 generator calls per draw
    # every caller gets its own frames: changing one task leaves the next alone
    task = make_task("sim-1-0.1-0", seed=11)
    task.X_train.iloc[0, 0] = 99
    assert make_task("sim-1-0.1-0", seed=11).X_train.iloc[0, 0] != 99
    assert sorted(draws) == [11] * 3 + [12] * 3


@pytest.mark.parametrize(
    "model, package",
    [("catboost", "catboost"), ("lightgbm", "lightgbm"), ("realmlp", "pytabkit"),
     ("tabm", "pytabkit")],
)  # fmt: skip
def test_optional_baselines_fit_categorical_tables(model, package, data_dir):
    pytest.importorskip(package)  # optional extras: CI does not install them
    task = make_task("heart-disease", seed=0, data_dir=data_dir, max_train_rows=150)
    assert task.X_train[list(task.categorical)].isna().any().any()  # NaN categories
    estimator = make_model(model, task, seed=0)
    if package == "pytabkit":
        estimator[-1].set_params(n_epochs=2)  # its defaults train for minutes
    with threadpool_limits(1), warnings.catch_warnings():
        # pytorch-lightning (through pytabkit) warns about its own torch calls
        warnings.filterwarnings("ignore", "`isinstance.treespec, Leaf", FutureWarning)
        estimator.fit(task.X_train, task.y_train)
        proba = estimator.predict_proba(task.X_ood)
        y_pred = estimator.predict(task.X_ood)
    assert proba.shape == (len(task.y_ood), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    row = score_predictions(task.y_ood, y_pred, proba=proba, classes=estimator.classes_)
    assert set(y_pred) <= set(estimator.classes_) == set(task.y_train)
    assert 0 <= row["balanced_accuracy"] <= 1 and row["log_loss"] > 0
    if package != "pytabkit":  # full default fits (pytabkit's ran 2 epochs)
        assert row["accuracy"] > 0.6  # ours: 0.615, HistGB 0.640 (issue 16)
    if model in ("catboost", "lightgbm"):  # boosting rounds, as HistGB's n_iter_
        from moe_tabular.ood._harness import _iterations

        assert _iterations(estimator) == {"catboost": 1000, "lightgbm": 100}[model]
    if model == "catboost":
        booster = estimator[-1]
        names = [booster.feature_names_[i] for i in booster.get_cat_feature_indices()]
        assert names == list(task.categorical)  # native cat_features, not one-hot


# -- metrics ---------------------------------------------------------------------
def test_scores_of_hand_made_predictions():
    scores = score_predictions([0, 1, 2, 3], [0, 1, 3, 1], proba=None, bin_target=True)
    assert scores["accuracy"] == 0.5 and scores["mse"] == (0 + 0 + 1 + 4) / 4
    assert np.isnan(scores["log_loss"])
    proba = [[0.8, 0.2], [0.4, 0.6], [0.5, 0.5]]
    scores = score_predictions(
        ["a", "b", "c"], ["a", "b", "a"], proba=proba, classes=["a", "b"]
    )
    eps = np.finfo(np.float64).eps
    expected = -(np.log(0.8) + np.log(0.6) + np.log(eps)) / 3  # "c" never trained
    assert scores["log_loss"] == pytest.approx(expected)
    assert np.isnan(scores["mse"])  # labels are not bin indices
    empty = score_predictions([], [], bin_target=True)
    assert all(np.isnan(v) for v in empty.values())


def test_balanced_accuracy_weighs_every_true_class_alike():
    scores = score_predictions([0, 0, 0, 1], [0, 0, 0, 0])
    assert scores["accuracy"] == 0.75 and scores["balanced_accuracy"] == 0.5
    scores = score_predictions(["a", "b", "b", "c"], ["a", "b", "a", "x"])
    assert scores["balanced_accuracy"] == pytest.approx((1 + 0.5 + 0) / 3)
    column = score_predictions([0, 1, 1], np.array([[0], [1], [0]]))  # CatBoost's
    assert column["accuracy"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="y_pred has shape"):
        score_predictions([0, 1], [0, 1, 1])


def test_run_one_row(auto_mpg):
    row = run_one(dataset="auto-mpg", model="moe", seed=1, params=TINY)
    assert row["model"] == "moe:default[max_epochs=2]"
    assert (row["n_train"], row["n_id"], row["n_ood"]) == (196, 49, 140)
    assert row["gap"] == pytest.approx(row["id_accuracy"] - row["ood_accuracy"])
    assert 0 <= row["ood_mse"] <= 4 and row["ood_log_loss"] > 0
    assert json.loads(row["params"])["max_epochs"] == 2
    assert row["n_iter"] == 2  # the epochs run
    assert 0 < row["ood_balanced_accuracy"] <= 1
    grid = run_one(dataset="auto-mpg", model="logreg", seed=1)
    assert grid["ood_accuracy"] == pytest.approx(0.657, abs=0.06)  # paper: .657
    assert grid["n_iter"] >= 1  # the solver's iterations, through the pipeline
    assert np.isnan(run_one(dataset="auto-mpg", model="majority", seed=1)["n_iter"])


def test_oracle_selects_on_half_the_ood_rows_and_scores_the_other(auto_mpg):
    row = run_one(dataset="auto-mpg", model="rf@oracle", seed=1)
    honest = run_one(dataset="auto-mpg", model="rf", seed=1)
    assert row["model"] == "rf@oracle" and row["n_ood"] == honest["n_ood"] // 2
    chosen = json.loads(row["params"])
    assert {k: chosen[k] for k in PAPER_GRIDS["rf"]} == chosen
    # Refit by hand on the training rows only, scored on the scoring half: the
    # same accuracy, so the selection rows never reached the fitted model.
    model = make_model("rf", auto_mpg, seed=1).estimator
    model.set_params(**{f"randomforestclassifier__{k}": v for k, v in chosen.items()})
    model.fit(auto_mpg.X_train, auto_mpg.y_train)
    y_ood = auto_mpg.y_ood
    _, X_score, _, y_score = train_test_split(
        auto_mpg.X_ood, y_ood, test_size=0.5, random_state=1, stratify=y_ood
    )
    assert row["ood_accuracy"] == pytest.approx(model.score(X_score, y_score))
    assert row["id_accuracy"] == pytest.approx(
        model.score(auto_mpg.X_id, auto_mpg.y_id)
    )
    markdown = results_to_markdown(pd.DataFrame([honest, row]))
    assert "@oracle: NOT a deployable protocol" in markdown


def test_transductive_protocol_adds_the_ood_features_unlabeled(
    monkeypatch, auto_mpg, tmp_path
):
    from moe_tabular.ood import _harness

    seen = {}
    make = _harness.make_model

    def recording(spec, task, **kwargs):
        estimator = make(spec, task, **kwargs)
        fit = estimator.fit

        def fit_labelled(X, y):  # record, then fit on the labelled rows only:
            seen[spec.label] = (X, y)  # this test is about the harness alone
            labelled = y.notna().to_numpy()
            return fit(X[labelled], y[labelled].astype(auto_mpg.y_train.dtype))

        estimator.fit = fit_labelled
        return estimator

    monkeypatch.setattr(_harness, "make_model", recording)
    options = TaskOptions(protocol="transductive")
    checkpoint = Checkpoint(tmp_path / "runs.csv")
    runs = run_suite(
        "quick", datasets=["auto-mpg"], models=["moe", "logreg"], seeds=[1],
        params=TINY, options=options, checkpoint=checkpoint,
    )  # fmt: skip
    moe = "moe:default[max_epochs=2]@transductive"
    assert list(runs["model"]) == [moe, "logreg"]  # baselines: standard protocol
    X, y = seen[moe]
    n_train, n_ood = len(auto_mpg.y_train), len(auto_mpg.y_ood)
    assert len(X) == len(y) == n_train + n_ood
    assert runs["n_train"].tolist() == [n_train] * 2  # labelled rows
    pd.testing.assert_frame_equal(
        X.iloc[n_train:].reset_index(drop=True), auto_mpg.X_ood
    )
    assert y.iloc[n_train:].isna().all()  # unlabeled: the OOD labels never join
    assert (y.iloc[:n_train] == auto_mpg.y_train).all()
    pd.testing.assert_frame_equal(seen["logreg"][0], auto_mpg.X_train)
    assert (
        json.loads(checkpoint.settings_path.read_text())["protocol"] == "transductive"
    )
    assert "@transductive: the transductive protocol" in results_to_markdown(runs)
    # string labels too: an unlabeled row is None whatever the labels' kind
    strings = auto_mpg._replace(y_train=auto_mpg.y_train.astype(str))
    _, y = _harness._unlabeled_rows(strings)
    assert y.iloc[n_train:].isna().all() and y.iloc[0] == str(auto_mpg.y_train[0])


def test_transductive_moe_learns_from_unlabeled_rows_without_a_class_for_them(
    auto_mpg,
):
    from moe_tabular.ood._harness import _unlabeled_rows

    # the estimator reads None as an unlabeled row (issue 16, item 4)
    X, y = _unlabeled_rows(auto_mpg)
    with pytest.warns(UserWarning, match="140 of 336 rows have a missing target"):
        model = make_model("moe", auto_mpg, seed=1, params=TINY).fit(X, y)
    np.testing.assert_array_equal(model.classes_, np.unique(auto_mpg.y_train))
    assert set(model.predict(auto_mpg.X_ood)) <= set(auto_mpg.y_train)
    row = run_one(
        dataset="auto-mpg", model="moe", seed=1, params=TINY,
        options=TaskOptions(protocol="transductive"),
    )  # fmt: skip
    assert row["model"].endswith("@transductive") and row["ood_accuracy"] > 0.5


def test_transductive_seed_ensemble_fits_each_member_on_the_unlabeled_rows(
    auto_mpg,
):
    from moe_tabular.ood._harness import _unlabeled_rows

    configs = {"pair": {"n_members": 2, "max_epochs": 2}}
    X, y = _unlabeled_rows(auto_mpg)  # None labels: a VotingClassifier refused them
    with pytest.warns(UserWarning, match="missing target"):  # once per member
        pair = make_model("moe:pair", auto_mpg, seed=5, moe_configs=configs)
        pair.fit(X, y)
    np.testing.assert_array_equal(pair.classes_, np.unique(auto_mpg.y_train))
    with pytest.warns(UserWarning, match="missing target"):
        single = make_model("moe", auto_mpg, seed=6, params=TINY).fit(X, y)
    np.testing.assert_array_equal(  # each member saw the unlabeled rows as given
        pair.estimators_[1].predict_proba(auto_mpg.X_ood),
        single.predict_proba(auto_mpg.X_ood),
    )
    mean = np.mean([m.predict_proba(auto_mpg.X_ood) for m in pair.estimators_], 0)
    np.testing.assert_allclose(pair.predict_proba(auto_mpg.X_ood), mean)
    row = run_one(
        dataset="auto-mpg", model="moe:pair", seed=5, moe_configs=configs,
        options=TaskOptions(protocol="transductive"),
    )  # fmt: skip
    assert row["model"] == "moe:pair@transductive"
    assert json.loads(row["params"])["n_members"] == 2
    assert 0 < row["ood_accuracy"] <= 1


# -- determinism and backends ----------------------------------------------------
def test_runs_are_deterministic(reference_runs):
    again = run_suite(
        "quick", datasets=["auto-mpg"], models=["moe", "logreg"], seeds=[1, 2],
        params=TINY,
    )  # fmt: skip
    pd.testing.assert_frame_equal(
        reference_runs.drop(columns=NOT_COMPARED), again.drop(columns=NOT_COMPARED)
    )
    moe = reference_runs[reference_runs["model"].str.startswith("moe")]
    assert moe["ood_log_loss"].nunique() == 2  # the seed changes the run


def test_n_jobs_2_gives_identical_results(reference_runs):
    parallel = _auto_mpg_runs(n_jobs=2)
    pd.testing.assert_frame_equal(
        reference_runs.drop(columns=NOT_COMPARED), parallel.drop(columns=NOT_COMPARED)
    )


def test_runs_in_threads_of_one_process_run_at_once_with_identical_results(
    reference_runs, monkeypatch
):
    import threading

    import torch
    from joblib import parallel_config

    from moe_tabular.ood import _harness

    # every run waits for a run in the other thread: a lock serialising runs
    # would leave the first alone at the barrier (BrokenBarrierError)
    barrier, score = threading.Barrier(2, timeout=120), _harness._score

    def meeting(*args, **kwargs):
        barrier.wait()
        return score(*args, **kwargs)

    monkeypatch.setattr(_harness, "_score", meeting)
    torch_threads, filters = torch.get_num_threads(), warnings.filters[:]
    with parallel_config(backend="threading"):
        threaded = _auto_mpg_runs(n_jobs=2)
    pd.testing.assert_frame_equal(
        reference_runs.drop(columns=NOT_COMPARED), threaded.drop(columns=NOT_COMPARED)
    )
    # the last run to end restored the process-wide settings
    assert torch.get_num_threads() == torch_threads
    assert warnings.filters == filters


def test_dask_backend_gives_identical_results(reference_runs):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        on_dask = _auto_mpg_runs(scheduler=cluster.scheduler_address)
    # Threaded workers share this process; lbfgs sums may differ in the last bit
    # with memory alignment, so floats compare to 1e-12 (accuracies exactly).
    exact = ["dataset", "model", "seed", "id_accuracy", "ood_accuracy", "params"]
    pd.testing.assert_frame_equal(reference_runs[exact], on_dask[exact])
    pd.testing.assert_frame_equal(
        reference_runs.drop(columns=NOT_COMPARED),
        on_dask.drop(columns=NOT_COMPARED),
        check_exact=False,
        rtol=1e-12,
    )


# -- reports ---------------------------------------------------------------------
@pytest.fixture
def counted_runs(monkeypatch):
    """(dataset, model, seed) of every run the harness really runs."""
    from moe_tabular.ood import _harness

    calls = []

    def counting(**kwargs):
        calls.append((kwargs["dataset"], kwargs["model"], kwargs["seed"]))
        return run_one(**kwargs)

    monkeypatch.setattr(_harness, "run_one", counting)
    return calls


def test_checkpoint_resumes_an_interrupted_suite(
    reference_runs, tmp_path, counted_runs
):
    kwargs = {"datasets": ["auto-mpg"], "models": ["moe", "logreg"], "params": TINY}
    checkpoint = tmp_path / "runs.csv"
    first = run_suite("quick", seeds=[1, 2], checkpoint=checkpoint, **kwargs)
    pd.testing.assert_frame_equal(
        first.drop(columns=NOT_COMPARED), reference_runs.drop(columns=NOT_COMPARED)
    )
    written = pd.read_csv(checkpoint).fillna({"params": ""})  # logreg's: none
    pd.testing.assert_frame_equal(written, first)
    assert json.loads(checkpoint.with_suffix(".json").read_text())["params"] == TINY
    # interrupted: two rows written, the third cut short while being appended
    lines = checkpoint.read_text().splitlines(keepends=True)
    checkpoint.write_text("".join(lines[:3]) + lines[3][:40])
    counted_runs.clear()
    resumed = run_suite("quick", seeds=[1, 2, 3], checkpoint=checkpoint, **kwargs)
    assert counted_runs == [("auto-mpg", "moe", 3)] + [
        ("auto-mpg", "logreg", seed) for seed in (1, 2, 3)
    ]
    pd.testing.assert_frame_equal(  # read back as run, fit times included
        resumed.iloc[:2], first.iloc[:2]
    )
    pd.testing.assert_frame_equal(
        resumed[resumed["seed"] < 3].reset_index(drop=True).drop(columns=NOT_COMPARED),
        first.drop(columns=NOT_COMPARED),
    )
    assert len(pd.read_csv(checkpoint)) == 6
    with pytest.raises(ValueError, match="params: .*'max_epochs': 2.* there"):
        run_suite("quick", seeds=[1], checkpoint=checkpoint, datasets=["auto-mpg"])
    checkpoint.with_suffix(".json").unlink()
    with pytest.raises(ValueError, match="no settings file runs.json"):
        run_suite("quick", seeds=[1], checkpoint=checkpoint, **kwargs)


def test_checkpoint_cut_in_its_header_starts_over(tmp_path, counted_runs):
    kwargs = {"datasets": ["auto-mpg"], "models": ["logreg"], "seeds": [1]}
    checkpoint = tmp_path / "runs.csv"
    first = run_suite("quick", checkpoint=checkpoint, **kwargs)
    checkpoint.write_text(checkpoint.read_text()[:20])  # killed in the header
    again = run_suite("quick", checkpoint=checkpoint, **kwargs)
    assert len(counted_runs) == 2
    assert list(pd.read_csv(checkpoint).columns) == list(first.columns)
    pd.testing.assert_frame_equal(
        again.drop(columns=NOT_COMPARED), first.drop(columns=NOT_COMPARED)
    )


def test_summary_markdown_and_plot(reference_runs, tmp_path):
    summary = summarize_results(reference_runs)
    assert list(summary["model"]) == ["moe:default[max_epochs=2]", "logreg"]
    assert (summary["n_seeds"] == 2).all()
    logreg = reference_runs[reference_runs["model"] == "logreg"]["ood_accuracy"]
    row = summary.set_index("model").loc["logreg"]
    assert row["ood_accuracy_mean"] == pytest.approx(logreg.mean())
    assert row["ood_accuracy_std"] == pytest.approx(logreg.std())
    assert row["published_ood_accuracy"] == PUBLISHED["auto-mpg"]["logreg"]["accuracy"]
    markdown = results_to_markdown(reference_runs)
    assert "### auto-mpg (origin: USA -> Europe, Japan)" in markdown
    line = next(x for x in markdown.splitlines() if x.startswith("| moe:default"))
    assert line.rstrip(" |").endswith("0.793 | 0.207")  # the paper's attention
    assert f"{logreg.mean():.3f} ± {logreg.std():.3f}" in markdown
    plot_results(reference_runs, tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 1000


def test_published_simulation_numbers():
    assert PUBLISHED["sim-5-0.9-0"]["moe"] == {"accuracy": 0.392, "mse": 1.633}
    assert PUBLISHED["sim-1-0.1-0"]["rf"]["mse"] == 2.694  # best baseline there
    assert np.isnan(PUBLISHED["sim-1-0.1-0"]["gb"]["mse"])
    assert len(PUBLISHED) == 13


# -- command line ----------------------------------------------------------------
def test_cli_help(capsys):
    from benchmarks import __main__ as dispatcher
    from benchmarks.ood import run as bench_ood

    with pytest.raises(SystemExit) as exit_:
        bench_ood.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--suite", "--models", "--seeds", "--n-jobs", "--scheduler",
                   "--data-dir", "--quick", "--out", "--param"):  # fmt: skip
        assert option in out
    assert "--protocol" in out
    from benchmarks.perf import run as bench_perf

    with pytest.raises(SystemExit):
        bench_perf.main(["--help"])
    out = capsys.readouterr().out
    for option in ("--quick", "--models", "--full-up-to", "--time-budget", "--out",
                   "--data-dir", "--real-sizes"):  # fmt: skip
        assert option in out
    assert dispatcher.main([]) == 0 and "ood" in capsys.readouterr().out
    assert dispatcher.main(["nope"]) == 2


def test_perf_child_measures_one_model_in_this_process(tmp_path):
    from benchmarks.perf import children, measure

    path = children.write_data(tmp_path, "tiny", n_train=300, n_test=200, n_features=4)
    spec = {"model": "histgb", "data": path, "seed": 0, "score": True}
    spec |= {"predict": True, "predict_repeats": 2}
    result = measure.measure(spec)
    assert (result["n_train"], result["n_features"], result["predict_rows"]) == (
        300, 4, 200,
    )  # fmt: skip
    assert result["fit_est_s"] == result["fit_s"] > 0 and not result["extrapolated"]
    assert 0 <= result["accuracy"] <= 1 and len(result["predict_times_s"]) == 2
    assert result["peak_rss_mb"] >= result["peak_rss_fit_mb"] > 0
    ours = measure.measure({"model": "ours", "data": path, "seed": 0, "max_epochs": 2})
    assert ours["epochs"] == 2 and ours["torch_threads"] >= 1  # max_epochs capped
    assert ours["fit_s"] > 0 and ours["warmup_s"] >= 0  # torch's warm-up apart


def test_perf_real_section_measures_bank_marketing_on_its_domain_split(tmp_path):
    import argparse

    from benchmarks import _common
    from benchmarks.perf import measure, real

    assert real.parse_sizes("2000, 1e4,full") == [2000, 10_000, None]
    assert real.parse_sizes("none") == []
    with pytest.raises(argparse.ArgumentTypeError, match="'-5'"):
        real.parse_sizes("1000,-5")
    args = argparse.Namespace(real_sizes=[300, 300, 10**6], data_dir=None)
    assert "no data folder" in real.write_tasks(tmp_path, args, print)["skipped"]
    args.data_dir = _common.DEFAULT_DATA_DIR
    section = real.write_tasks(tmp_path, args, print)
    small, full = section["points"]  # 300 twice: one point
    assert (small["size"], small["n_train"], full["size"]) == ("300", 300, "full")
    assert full["n_train"] > 20_000 and section["n_ood"] > 10_000
    assert section["split"].startswith("year") and "job" in section["categorical"]
    assert 0.5 < small["majority_ood_accuracy"] < 1
    spec = {"data": small["data"], "seed": 0, "score": True}
    histgb = measure.measure(dict(spec, model="histgb"))
    ours = measure.measure(dict(spec, model="ours", max_epochs=2))
    for result in (histgb, ours):
        assert (result["n_train"], result["n_features"]) == (300, 15)
        assert 0.5 < result["accuracy"] <= 1 and "mse" not in result  # binary
    assert histgb["n_iter"] >= 1 and ours["epochs"] == 2  # HistGB: a pipeline


@pytest.mark.parametrize("model", ["catboost", "lightgbm"])
def test_one_registry_builds_the_peers_of_the_harness_and_of_perf(model):
    from benchmarks.perf import measure
    from moe_tabular.ood._peers import PEERS

    pytest.importorskip(PEERS[model][0])  # optional extras
    harness = make_model(model, make_task("auto-mpg", seed=0), seed=3)
    perf = measure._peer({"model": model, "seed": 3, "threads": None})
    assert type(harness[-1]) is type(perf)  # perf: no frame, binned numbers as given
    threads = {"catboost": "thread_count", "lightgbm": "n_jobs"}[model]
    assert harness[-1].get_params()[threads] == 1  # the harness: one thread a run
    assert perf.get_params().get(threads) in (-1, None)  # perf: the default
    skip = (threads, "cat_features")
    assert {k: v for k, v in harness[-1].get_params().items() if k not in skip} == {
        k: v for k, v in perf.get_params().items() if k not in skip
    }


def _perf_result(model, fit_s, *, extrapolated=False, **extra):
    return {
        "model": model, "fit_s": fit_s, "fit_est_s": fit_s, "fit_cpu_s": fit_s,
        "fit_est_s_runs": [fit_s], "extrapolated": extrapolated, "accuracy": 0.3,
        "mse": 2.0, "warmup_s": 0.5, "predict_rows_per_s": 1000.0, "predict_s": 1.0,
        "predict_cpu_s": 1.0, "peak_rss_fit_mb": 500.0, "epochs": 40, "n_iter": 100,
        "epoch_s": fit_s / 40, **extra,
    }  # fmt: skip


def test_perf_report_reads_targets_off_the_results(tmp_path):
    import argparse

    from benchmarks.perf import figures, report

    args = argparse.Namespace(
        headline_n=2000, predict_rows=1000, predict_repeats=1, sizes=[1000, 10_000],
        features=[5, 20], curve_d=20, curve_n=1000, n_test=100, full_up_to=100_000,
        ref_steps=300, curve_repeats=1,
    )  # fmt: skip
    real = {
        "dataset": "bank-marketing", "split": "year: 2008 -> 2009, 2010",
        "seed": 1, "n_features": 15, "categorical": ["job"], "n_id_test": 50,
        "n_ood": 400, "ood_positive_rate": 0.2,
        "points": [{
            "size": "full", "n_train": 22_183, "majority_ood_accuracy": 0.8,
            "models": {
                "ours": _perf_result("ours", 6.0, fit_est_s_runs=[6.0, 3.0]),
                "histgb": _perf_result("histgb", 2.0, fit_est_s_runs=[2.0, 2.0]),
                "tabm": {"model": "tabm", "not_run": "above --full-up-to 1",
                         "fit_est_s": float("nan"), "extrapolated": False},
            },
        }],
    }  # fmt: skip

    def point(ours, histgb, realmlp):
        return {
            "ours": _perf_result("ours", ours),
            "histgb": _perf_result("histgb", histgb),
            "realmlp": _perf_result("realmlp", realmlp, extrapolated=True),
        }

    results = {
        "headline": {
            "ours": _perf_result("ours", 2.0, defaults={"max_epochs": 200}),
            "histgb": _perf_result("histgb", 1.0),
        },
        "predict": {
            "ours": _perf_result("ours", 1.0, predict_rows_per_s=3000.0),
            "histgb": _perf_result("histgb", 1.0),
        },
        "real": real,
        "curves": {
            (1000, 20): point(5.0, 1.0, 50.0),
            (10_000, 20): point(40.0, 2.0, 100.0),
            (1000, 5): point(2.0, 1.0, 10.0),
        },
    }
    text, found = report.markdown(results, args, {"cpu_count": 2}, "perf --x", 1.0)
    assert (
        found[0].startswith("PASS: default fit on the simulation")
        and "2.00x" in found[0]
    )
    assert found[1].startswith("FAIL: ours / HistGB") and "20.0x at 10,000" in found[1]
    assert "n/a: 1,000,000 rows" in found[2]
    assert (
        found[3].startswith("FAIL: ours at least 5x faster")
        and "~2.5x at 10,000" in found[3]
    )
    assert found[4].startswith("PASS: predict") and "3.00x" in found[4]
    assert "Command: `perf --x`" in text and "| 10,000 | 40 | 0.300 |" in text
    assert "## Real table, binary: bank-marketing (year: 2008" in text
    # fit / HistGB: the median of the rounds' paired ratios (3x and 1.5x)
    assert "| 22,183 (all) | MoECBOWClassifier (defaults) | 6 | 2.25x | 0.300 |" in text
    assert "| TabM-D (pytabkit) | — | — | — | not run: above --full-up-to 1 |" in text
    assert "| 22,183 (all) | majority class (reference) | — | — | 0.800 |" in text
    skipped = dict(results, real={"skipped": "no data folder"})
    assert "Skipped: no data folder." in report.markdown(skipped, args, {}, "", 1.0)[0]
    figures.plot(results, args, tmp_path)
    assert (tmp_path / "fit_time_vs_n.png").stat().st_size > 1000
    record = json.loads(report.to_json(results, args, {}, "perf --x", 1.0, found))
    curve = record["results"]["curves"][1]  # the docs read points, models as keys
    assert (curve["n_train"], curve["ours"]["fit_est_s"]) == (10_000, 40.0)


def test_cli_profile_times_steps_and_lists_ops(capsys):
    from benchmarks import __main__ as dispatcher

    assert dispatcher.main(["profile", "--epochs", "1", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "batch 500 rows x 6 columns" in out  # the default batch on 2,000 rows
    assert "over 2 rounds of 1 epoch(s), 4 steps each" in out  # 2,000 / 500
    assert "aten::mm" in out


def test_paper_table_reads_runs_outside_the_repository(tmp_path):
    from benchmarks.paper import table as bench_paper_table

    rows = run_suite(
        "quick", datasets=["sim-1-0.1-0"], models=["moe"], seeds=[4951], params=TINY
    )
    runs = tmp_path / "runs.csv"
    pd.DataFrame(rows).to_csv(runs, index=False)
    out = tmp_path / "table.md"
    assert bench_paper_table.main(["--runs", str(runs), "--out", str(out)]) == 0
    text = out.read_text()
    assert f"Sources: `{runs}`" in text
    assert "| sim-1-0.1-0 | 1 |" in text  # one seed, paired with the authors'


def test_cli_tiny_run_writes_csv_markdown_and_png(tmp_path, capsys):
    from benchmarks.ood import run as bench_ood

    code = bench_ood.main([
        "--datasets", "auto-mpg", "--models", "moe,logreg", "--seeds", "1",
        "--param", "max_epochs=2", "--config", "wide=default,d_embedding=8,n_heads=2",
        "--models", "moe:wide", "--n-jobs", "1", "--no-progress",
        "--out", str(tmp_path),
    ])  # fmt: skip
    assert code == 0
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(runs["model"]) == [
        "moe:default[max_epochs=2]", "logreg", "moe:wide[max_epochs=2]",
    ]  # fmt: skip
    assert json.loads(runs["params"][2])["d_embedding"] == 8
    printed = capsys.readouterr().out
    assert "| logreg | 1 |" in printed
    assert (tmp_path / "summary.md").read_text() in printed
    assert (tmp_path / "accuracy.png").stat().st_size > 1000


def test_cli_resume_runs_only_what_an_interrupted_command_left(
    tmp_path, capsys, counted_runs
):
    from benchmarks.ood import run as bench_ood

    argv = ["--datasets", "auto-mpg", "--models", "logreg", "--n-jobs", "1",
            "--data-dir", str(DATA_DIR), "--no-progress",
            "--out", str(tmp_path)]  # fmt: skip

    def interrupted():  # what an interrupted "--seeds 1,2" left: seed 1's row
        run_suite(
            "quick", datasets=["auto-mpg"], models=["logreg"], seeds=[1],
            options=TaskOptions(data_dir=DATA_DIR, max_train_rows=5000),
            checkpoint=tmp_path / bench_ood.PARTIAL,
        )  # fmt: skip
        counted_runs.clear()

    interrupted()
    assert bench_ood.main([*argv, "--seeds", "1,2", "--resume"]) == 0
    assert counted_runs == [("auto-mpg", "logreg", 2)]
    assert sorted(pd.read_csv(tmp_path / "runs.csv")["seed"]) == [1, 2]
    assert "resumed" in (tmp_path / "summary.md").read_text()
    assert not list(tmp_path.glob("runs.partial.*"))  # removed once runs.csv is
    interrupted()
    assert bench_ood.main([*argv, "--seeds", "1,2"]) == 0  # no --resume: afresh
    assert counted_runs == [("auto-mpg", "logreg", 1), ("auto-mpg", "logreg", 2)]
    assert "resumed" not in (tmp_path / "summary.md").read_text()
    interrupted()  # resumed with a narrower selection: seed 1's row is kept
    assert bench_ood.main([*argv, "--seeds", "2", "--resume"]) == 0
    assert sorted(pd.read_csv(tmp_path / "runs.csv")["seed"]) == [2]
    assert sorted(pd.read_csv(tmp_path / bench_ood.PARTIAL)["seed"]) == [1, 2]
    assert "1 of its runs are outside" in capsys.readouterr().out


def test_cli_merge_joins_runs_and_refuses_repeats(tmp_path, capsys):
    from benchmarks.ood import run as bench_ood

    for seed in (1, 2):
        assert bench_ood.main([
            "--datasets", "auto-mpg", "--models", "logreg", "--seeds", str(seed),
            "--n-jobs", "1", "--no-progress", "--out", str(tmp_path / str(seed)),
        ]) == 0  # fmt: skip
    parts = [str(tmp_path / seed / "runs.csv") for seed in ("1", "2")]
    merged = tmp_path / "merged"
    argv = ["--merge", parts[0], "--merge", parts[1], "--out", str(merged)]
    assert bench_ood.main(argv) == 0
    runs = pd.read_csv(merged / "runs.csv")
    assert sorted(runs["seed"]) == [1, 2]
    summary = (merged / "summary.md").read_text()
    assert "--seeds 1" in summary and "--seeds 2" in summary  # the source commands
    assert "| logreg | 2 |" in summary  # one row over both seeds
    assert (merged / "accuracy.png").stat().st_size > 1000
    with pytest.raises(SystemExit, match="more than once"):
        bench_ood.main(["--merge", parts[0], "--merge", parts[0], "--out", str(merged)])
    with pytest.raises(SystemExit, match="needs --out"):
        bench_ood.main(["--merge", parts[0]])


def test_regression_benchmark_writes_its_runs_and_summary(tmp_path, capsys):
    from benchmarks.regression import run as bench_regression

    out = tmp_path / "regression"
    code = bench_regression.main(
        ["--datasets", "diabetes", "--models", "hgb", "--seeds", "0",
         "--out", str(out), "--no-progress"]
    )  # fmt: skip
    assert code in (0, None)
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 5 and set(runs.fold) == set(range(5))  # one row per fold
    assert runs.test_r2.between(-1, 1).all() and (runs.train_r2 > runs.test_r2).all()
    assert "python -m benchmarks regression" in (out / "summary.md").read_text()


def test_budget_runs_peers_beside_the_configurations(capsys):
    from benchmarks.perf import budget

    pytest.importorskip("lightgbm")  # the dev extra installs it
    budget.main(["--rows", "200", "--features", "5", "--seeds", "2",
                 "--config", "a=max_epochs=1", "--peers", "lightgbm"])  # fmt: skip
    out = capsys.readouterr().out
    assert "seed 4951     lightgbm: OOD accuracy" in out
    assert "    lightgbm: OOD accuracy" in out.split("paired against 'a'")[1]


def test_short_runs_pair_each_configuration_with_the_first(capsys):
    from benchmarks.perf import budget

    budget.main(["--short-runs", "--seeds", "2", "--config", "a=max_epochs=1",
                 "--config", "b=max_epochs=1,batch_size=50"])  # fmt: skip
    out = capsys.readouterr().out
    assert "a: one-column rule, 200 rows, 1 epochs" in out
    assert "b against a, paired on the same tables: " in out
    assert "a against" not in out


def test_regression_paired_tests_across_tables_one_difference_each():
    from benchmarks.regression import run as bench_regression

    rows = []
    for dataset, gain in (("a", 0.1), ("b", 0.3), ("c", -0.1), ("regressors-train", 5)):
        for fold in range(4):
            base = 0.5 + 0.01 * fold
            rows += [
                {"dataset": dataset, "model": "moe:default", "seed": 0, "fold": fold,
                 "test_r2": base},
                {"dataset": dataset, "model": "moe:x", "seed": 0, "fold": fold,
                 "test_r2": base + gain + 0.001 * fold},
            ]  # fmt: skip
    table, wilcoxon = bench_regression.paired(pd.DataFrame(rows), "moe:x")
    across = table.set_index("dataset").loc["across real tables"]
    assert (
        across["pairs"] == 3 and across["wins"] == "2/3"
    )  # the synthetic one left out
    assert across["moe:x - moe:default"] == pytest.approx(
        (0.1 + 0.3 - 0.1) / 3 + 0.0015
    )
    assert across["p"] > 0.3 and 0 < wilcoxon <= 1  # three tables decide little
    assert table.set_index("dataset").loc["all real", "pairs"] == 12


def test_regression_merge_joins_runs_and_refuses_a_run_twice(tmp_path, capsys):
    from benchmarks.regression import run as bench_regression

    rows = [
        {"dataset": d, "model": m, "seed": 0, "fold": f, "n_train": 9,
         "test_r2": 0.5 + 0.1 * (m == "moe:x") * (d == "b") + 0.01 * f,
         "test_rmse": 1.0, "train_r2": 0.9, "fit_time": 1.0, "params": "{}"}
        for d in ("a", "b") for m in ("moe:default", "moe:x", "hgb")
        for f in range(3)
    ]  # fmt: skip
    parts = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        pd.DataFrame([r for r in rows if r["dataset"] == name]).to_csv(
            folder / "runs.csv", index=False
        )
        (folder / "summary.md").write_text(f"`made {name}`\n")
        parts.append(str(folder / "runs.csv"))
    out = tmp_path / "joined"
    bench_regression.main(["--merge", parts[0], "--merge", parts[1], "--out", str(out)])
    assert len(pd.read_csv(out / "runs.csv")) == 18
    summary = (out / "summary.md").read_text()
    assert "made a" in summary and "made b" in summary and "18 fits joined" in summary
    assert "| across real tables |       2 |" in summary
    # each MoE model against the default, and every MoE model against hgb
    for title in ("moe:x ({}) against moe:default", "moe:default ({}) against hgb",
                  "moe:x ({}) against hgb"):  # fmt: skip
        assert f"### {title}, paired" in summary
    assert "moe:default ({}) against moe:default" not in summary
    with pytest.raises(SystemExit, match="more than once"):
        bench_regression.main(
            ["--merge", parts[0], "--merge", parts[0], "--out", str(out)]
        )


def test_benchmark_commands_share_one_config_spelling():
    import argparse

    from benchmarks import _common
    from benchmarks.ood import run as bench_ood
    from benchmarks.regression import run as bench_regression

    name, params = _common.moe_config("tw=default,target_weight=auto, max_epochs=3")
    assert name == "tw" and params == {"target_weight": "auto", "max_epochs": 3}
    assert _common.moe_config("p=paper")[1]["d_embedding"] == 20  # the base's params
    for text in ("tw=target_weight=auto", "default=default", "tw", "=default"):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=BASE"):
            _common.moe_config(text)
    for module in (bench_ood, bench_regression):  # both commands parse it the same
        parser = module._parser("prog")
        args = parser.parse_args(["--config", "tw=default,target_weight=auto"])
        assert args.config == [("tw", {"target_weight": "auto"})]


def test_paper_table_paper_test_pools_the_paired_runs():
    from benchmarks.paper import table as bench_paper_table

    per_seed = bench_paper_table.load_published_per_seed()
    rows = []
    for dataset, shift in (("sim-1-0.1-0", 0.05), ("sim-5-0.9-0", -0.02)):
        published = per_seed.loc[dataset]
        jitter = np.linspace(-0.004, 0.004, len(published))  # a spread, for the t-test
        for (seed, theirs), noise in zip(published.items(), jitter, strict=True):
            rows.append(
                {"dataset": dataset, "model": "moe:default", "seed": seed,
                 "ood_accuracy": theirs + shift + noise}
            )  # fmt: skip
    table = bench_paper_table.paired_rows(pd.DataFrame(rows), per_seed)
    diffs = table.set_index("dataset")["diff"]
    assert diffs["sim-1-0.1-0"] == pytest.approx(0.05)
    assert diffs["sim-5-0.9-0"] == pytest.approx(-0.02)
    pairs, diff, p, below = bench_paper_table.paper_test(table)
    assert pairs == 2 * len(per_seed.loc["sim-1-0.1-0"])
    assert diff == pytest.approx(0.015) and below == ["sim-5-0.9-0"]
    text = bench_paper_table.to_markdown(table, "cmd", [])
    assert "settings below the paper with p < 0.05: sim-5-0.9-0" in text
    assert "As good as the paper: not met." in text


def _paired_runs(shifts, *, model="moe:default", n_train=196, seeds=(1, 2, 3)):
    """Runs of one model: for each table, seed s scores ``shift + s / 100``."""
    return pd.DataFrame(
        [
            {"dataset": dataset, "split": "d: a -> b", "model": model, "seed": seed,
             "n_train": n_train, "n_id": 49, "n_ood": 140,
             "ood_accuracy": 0.5 + shift + seed / 100 + 0.003 * (seed == 2) * shift}
            for dataset, shift in shifts.items()
            for seed in seeds
        ]
    )  # fmt: skip


def _paired_files(tmp_path, a, b):
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    a.to_csv(paths[0], index=False)
    b.to_csv(paths[1], index=False)
    return [str(path) for path in paths]


def test_paired_refuses_pairs_whose_split_differs(tmp_path):
    from benchmarks.ood import paired as bench_paired

    a = _paired_runs({"t1": 0.0, "t2": 0.0})
    b = _paired_runs({"t1": 0.01, "t2": 0.02}, n_train=245).assign(n_id=0)
    argv = [*_paired_files(tmp_path, a, b), "--metrics", "ood_accuracy"]
    with pytest.raises(SystemExit, match=r"6 of 6 pairs were not run on the same") as e:
        bench_paired.main(argv)
    assert "t1 seed 1: n_train 196 (A) != 245 (B); n_id 49 (A) != 0 (B)" in str(e.value)
    # the protocol is part of the split, unless it is what is compared
    b = _paired_runs({"t1": 0.01, "t2": 0.02}, model="moe:default@transductive")
    argv = [*_paired_files(tmp_path, a, b), "--metrics", "ood_accuracy"]
    with pytest.raises(SystemExit, match="protocol 'standard' .A. != 'transductive'"):
        bench_paired.main(argv)
    assert bench_paired.main([*argv, "--across-protocols"]) == 0
    b = _paired_runs({"t1": 0.01, "t2": 0.02}).assign(n_ood=[140] * 5 + [139])
    with pytest.raises(SystemExit, match=r"1 of 6 pairs.*\n  t2 seed 3: n_ood 140"):
        bench_paired.main([*_paired_files(tmp_path, a, b), "--metrics", "ood_accuracy"])


def test_paired_refuses_a_run_twice_on_one_side(tmp_path):
    from benchmarks.ood import paired as bench_paired

    a = _paired_runs({"t1": 0.0})
    b = pd.concat([_paired_runs({"t1": 0.01}), _paired_runs({"t1": 0.02}).head(1)])
    with pytest.raises(SystemExit, match=r"1 \(dataset, seed\) runs appear more") as e:
        bench_paired.main(_paired_files(tmp_path, a, b))
    assert "t1" in str(e.value) and "b.csv" in str(e.value)


def test_read_runs_is_the_one_rule_on_repeated_runs(tmp_path):
    from benchmarks.runs import join_runs, read_runs

    runs = _paired_runs({"t1": 0.0}).assign(fold=0)
    a, b = _paired_files(tmp_path, runs, runs.assign(fold=1))
    assert len(read_runs(a)) == 3 and len(join_runs([a, b])) == 6  # folds differ
    with pytest.raises(ValueError, match=r"3 \(dataset, seed, fold\) runs appear"):
        join_runs([a, a])
    with pytest.raises(FileNotFoundError, match="no such runs.csv"):
        read_runs(tmp_path / "none.csv")


def test_paired_warns_when_an_old_file_does_not_record_the_split(tmp_path, capsys):
    from benchmarks.ood import paired as bench_paired

    a = _paired_runs({"t1": 0.0}).drop(columns=["n_id", "n_ood"])
    b = _paired_runs({"t1": 0.01})
    with pytest.warns(UserWarning, match="A lacks n_id, n_ood .*not checked"):
        assert bench_paired.main(_paired_files(tmp_path, a, b)) == 0
    assert "(split, n_train, protocol checked)" in capsys.readouterr().out


def test_paired_headline_is_a_test_across_tables_beside_the_pooled_one(
    tmp_path, capsys
):
    from scipy import stats

    from benchmarks.ood import paired as bench_paired

    shifts = {"t1": 0.01, "t2": 0.03, "t3": -0.005, "t4": 0.02}
    a, b = _paired_runs(dict.fromkeys(shifts, 0.0)), _paired_runs(shifts)
    files = _paired_files(tmp_path, a, b)
    both = bench_paired.pair_runs(*map(bench_paired.load, files))
    per_table = bench_paired.compare(both, ["ood_accuracy"])
    diffs = per_table.set_index("dataset")["B - A"]
    np.testing.assert_allclose(  # one mean difference per table
        diffs, [s * (1 + 0.001) for s in shifts.values()]
    )
    summary = bench_paired.across_tables(per_table, both, ["ood_accuracy"]).iloc[0]
    assert summary["tables"] == 4 and summary["pairs"] == 12
    assert summary["p (t, tables)"] == pytest.approx(stats.ttest_1samp(diffs, 0).pvalue)
    assert summary["p (Wilcoxon, tables)"] == pytest.approx(
        stats.wilcoxon(diffs).pvalue
    )
    pooled = b["ood_accuracy"] - a["ood_accuracy"]
    assert summary["pooled p (t, pairs)"] == pytest.approx(
        stats.ttest_1samp(pooled, 0).pvalue
    )  # n = 12 pairs: far smaller than the honest p over 4 tables
    assert summary["pooled p (t, pairs)"] < summary["p (t, tables)"]
    assert bench_paired.main(files) == 0
    out = capsys.readouterr().out
    assert "Across tables, the headline" in out and "pooled p (t, pairs)" in out
    assert "| t3 " in out  # the per-table differences are printed too
