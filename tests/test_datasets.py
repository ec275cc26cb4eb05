"""Offline dataset loaders: Auto MPG from vega_datasets, UCI tables from a directory.

The UCI files live in ``shared/datasets`` beside the repository checkout
(``<repo>/../shared/datasets``), here and in CI.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moe_tabular.datasets import (
    TabularDataset,
    load_adult,
    load_auto_mpg,
    load_bank_marketing,
    load_diabetes_130,
    load_heart_disease,
)
from moe_tabular.ood import DomainSplit, drop_domain

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
    ],
)
def test_missing_file_names_the_expected_file(tmp_path, loader, expected):
    with pytest.raises(FileNotFoundError, match=expected):
        loader(data_dir=tmp_path)


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*is not a directory"):
        load_adult(data_dir=tmp_path / "nowhere")
