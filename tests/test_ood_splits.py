"""OOD split builders: domain, leave-one-domain-out, extrapolation, IID."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_val_score

from moe_tabular.ood import (
    DomainKFold,
    DomainSplit,
    ExtrapolationSplit,
    IIDSplit,
    LeaveOneDomainOut,
    drop_domain,
)


@pytest.fixture
def frame():
    rng = np.random.RandomState(0)
    n = 60
    origin = np.array(["USA"] * 30 + ["Japan"] * 18 + ["Europe"] * 12, dtype=object)
    origin[[5, 40]] = None  # two rows without a domain
    return pd.DataFrame(
        {
            "origin": origin,
            "weight": rng.normal(3.0, 0.5, size=n),
            "year": rng.randint(1970, 1983, size=n),
            "y": rng.randint(0, 2, size=n),
        }
    )


def assert_disjoint_positions(train, test, n_rows):
    assert train.dtype.kind == test.dtype.kind == "i"
    assert len(np.intersect1d(train, test)) == 0
    assert train.min() >= 0 and test.min() >= 0
    assert max(train.max(), test.max()) < n_rows


def test_domain_split_trains_and_tests_on_the_named_domains(frame):
    cv = DomainSplit(column="origin", train_domains="USA")
    assert cv.get_n_splits() == 1
    [(train, test)] = list(cv.split(frame))
    assert_disjoint_positions(train, test, len(frame))
    assert set(frame["origin"].iloc[train]) == {"USA"}
    assert set(frame["origin"].iloc[test]) == {"Japan", "Europe"}
    # rows without a domain are on neither side
    assert len(train) + len(test) == len(frame) - 2
    assert 5 not in train and 40 not in test


def test_domain_split_with_test_domains_only_trains_on_the_rest(frame):
    [(train, test)] = DomainSplit(column="origin", test_domains=["Europe"]).split(frame)
    assert set(frame["origin"].iloc[test]) == {"Europe"}
    assert set(frame["origin"].iloc[train]) == {"USA", "Japan"}


def test_domain_split_with_both_sides_leaves_other_domains_out(frame):
    cv = DomainSplit(column="origin", train_domains=["USA"], test_domains="Japan")
    [(train, test)] = cv.split(frame)
    assert len(train) == 29 and len(test) == 17


def test_domain_split_reads_groups_when_column_is_none(frame):
    X = frame.drop(columns="origin")
    cv = DomainSplit(train_domains="USA")
    [(train, test)] = cv.split(X, groups=frame["origin"])
    [(train_col, test_col)] = DomainSplit(column="origin", train_domains="USA").split(
        frame
    )
    np.testing.assert_array_equal(train, train_col)
    np.testing.assert_array_equal(test, test_col)


def test_domain_split_positions_ignore_the_frame_index(frame):
    shuffled = frame.set_index(np.arange(100, 160)[::-1])
    [(train, _)] = DomainSplit(column="origin", train_domains="USA").split(shuffled)
    assert train.max() < len(frame)


def test_domain_split_works_with_integer_category_domains():
    X = pd.DataFrame({"source": pd.Categorical([7, 1, 7, 4, 1])})
    [(train, test)] = DomainSplit(column="source", test_domains=7).split(X)
    assert train.tolist() == [1, 3, 4] and test.tolist() == [0, 2]


def test_domain_split_plugs_into_cross_val_score_and_grid_search(frame):
    X = frame.drop(columns=["origin", "y"])
    cv = DomainSplit(train_domains="USA")
    scores = cross_val_score(
        DummyClassifier(), X, frame["y"], groups=frame["origin"], cv=cv
    )
    assert scores.shape == (1,)
    search = GridSearchCV(
        DummyClassifier(), {"strategy": ["prior", "uniform"]}, cv=cv
    ).fit(X, frame["y"], groups=frame["origin"])
    assert search.n_splits_ == 1
    assert "train_domains='USA'" in repr(cv)


def test_unknown_column_is_named(frame):
    with pytest.raises(ValueError, match="column 'country' is not in X"):
        next(DomainSplit(column="country", train_domains="USA").split(frame))


def test_absent_domain_value_is_named(frame):
    with pytest.raises(
        ValueError, match=r"train_domains value\(s\) \['Mars'\].*'origin'"
    ):
        next(DomainSplit(column="origin", train_domains=["USA", "Mars"]).split(frame))
    with pytest.raises(ValueError, match=r"test_domains.*\['Mars'\].*Europe"):
        next(DomainSplit(column="origin", test_domains="Mars").split(frame))


def test_domain_split_empty_side_and_overlap_raise(frame):
    every = ["USA", "Japan", "Europe"]
    with pytest.raises(ValueError, match="empty test set"):
        next(DomainSplit(column="origin", train_domains=every).split(frame))
    with pytest.raises(ValueError, match="in both train_domains and test_domains"):
        next(
            DomainSplit(
                column="origin", train_domains="USA", test_domains=["USA", "Japan"]
            ).split(frame)
        )
    with pytest.raises(ValueError, match="needs train_domains or test_domains"):
        next(DomainSplit(column="origin").split(frame))


def test_column_needs_a_dataframe_and_none_needs_groups(frame):
    with pytest.raises(ValueError, match="needs X as a pandas DataFrame"):
        next(DomainSplit(column="origin", train_domains="USA").split(frame.to_numpy()))
    with pytest.raises(ValueError, match="groups is None"):
        next(DomainSplit(train_domains="USA").split(frame))
    with pytest.raises(ValueError, match="groups has 3 values; X has 60"):
        next(DomainSplit(train_domains="USA").split(frame, groups=["USA"] * 3))


def test_leave_one_domain_out_holds_out_each_domain_once(frame):
    cv = LeaveOneDomainOut(column="origin")
    assert cv.get_n_splits(frame) == 3
    folds = list(cv.split(frame))
    held_out = [set(frame["origin"].iloc[test]) for _, test in folds]
    assert held_out == [{"Europe"}, {"Japan"}, {"USA"}]  # sorted order
    known = np.flatnonzero(frame["origin"].notna())
    for train, test in folds:
        assert_disjoint_positions(train, test, len(frame))
        np.testing.assert_array_equal(np.union1d(train, test), known)


def test_leave_one_domain_out_matches_sklearn_on_complete_groups():
    groups = np.array(["b", "a", "c", "a", "b", "c", "c"])
    X = pd.DataFrame({"site": groups})
    ours = list(LeaveOneDomainOut(column="site").split(X))
    theirs = list(LeaveOneGroupOut().split(X, groups=groups))
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_domain_kfold_keeps_domains_whole(frame):
    X = frame.assign(site=np.repeat(list("abcdef"), 10))
    cv = DomainKFold(column="site", n_splits=3)
    folds = list(cv.split(X))
    assert cv.get_n_splits() == len(folds) == 3
    tested = []
    for train, test in folds:
        assert_disjoint_positions(train, test, len(X))
        assert not set(X["site"].iloc[train]) & set(X["site"].iloc[test])
        tested += list(X["site"].iloc[test].unique())
    assert sorted(tested) == list("abcdef")


def test_extrapolation_split_tests_above_the_quantile(frame):
    cv = ExtrapolationSplit(column="weight", quantile=0.75)
    [(train, test)] = cv.split(frame)
    assert_disjoint_positions(train, test, len(frame))
    assert frame["weight"].iloc[train].max() < frame["weight"].iloc[test].min()
    assert len(test) == 15 and len(train) == 45


def test_extrapolation_split_lower_tail_and_ties_train():
    X = pd.DataFrame({"year": [1970, 1970, 1970, 1975, 1980, 1982]})
    # the 0.2 quantile is 1970: nothing lies strictly below it
    with pytest.raises(ValueError, match="empty test set"):
        next(
            ExtrapolationSplit(column="year", quantile=0.2, test_tail="lower").split(X)
        )
    [(train, test)] = ExtrapolationSplit(
        column="year", quantile=0.6, test_tail="lower"
    ).split(X)
    assert test.tolist() == [0, 1, 2] and train.tolist() == [3, 4, 5]


def test_extrapolation_split_cuts_ordered_categories_and_skips_missing():
    age = pd.Categorical(
        ["[70-80)", "[10-20)", None, "[50-60)", "[70-80)"],
        categories=["[10-20)", "[50-60)", "[70-80)"],
        ordered=True,
    )
    [(train, test)] = ExtrapolationSplit(column="age", quantile=0.5).split(
        pd.DataFrame({"age": age})
    )
    assert train.tolist() == [1, 3] and test.tolist() == [0, 4]


@pytest.mark.parametrize("quantile", [0, 1, 1.5, -0.2, True, "0.5"])
def test_quantile_outside_the_open_unit_interval_is_named(frame, quantile):
    with pytest.raises(ValueError, match="quantile must be a number strictly between"):
        next(ExtrapolationSplit(column="weight", quantile=quantile).split(frame))


def test_extrapolation_needs_an_ordered_column(frame):
    with pytest.raises(TypeError, match="column 'origin'.*Use DomainSplit"):
        next(ExtrapolationSplit(column="origin").split(frame))
    with pytest.raises(ValueError, match="test_tail must be 'upper' or 'lower'"):
        next(ExtrapolationSplit(column="weight", test_tail="both").split(frame))
    with pytest.raises(ValueError, match="empty test set"):
        next(ExtrapolationSplit(column="c").split(pd.DataFrame({"c": [1.0] * 5})))


def test_iid_split_defaults_to_a_quarter_and_repeats_with_a_seed(frame):
    cv = IIDSplit(random_state=0)
    [(train, test)] = cv.split(frame)
    assert_disjoint_positions(train, test, len(frame))
    assert len(test) == 15 and len(train) == 45
    [(again, _)] = cv.split(frame)
    np.testing.assert_array_equal(train, again)
    [(other, _)] = IIDSplit(random_state=1).split(frame)
    assert not np.array_equal(train, other)


def test_iid_split_matches_the_reference_sizes_and_rows(frame):
    reference = LeaveOneDomainOut(column="origin")
    cv = IIDSplit(reference=reference, random_state=0)
    assert cv.get_n_splits(frame) == 3
    for (train, test), (ref_train, ref_test) in zip(
        cv.split(frame), reference.split(frame), strict=True
    ):
        assert_disjoint_positions(train, test, len(frame))
        assert (len(train), len(test)) == (len(ref_train), len(ref_test))
        np.testing.assert_array_equal(
            np.union1d(train, test), np.union1d(ref_train, ref_test)
        )
        # random, not the domain split again
        assert len(set(frame["origin"].iloc[test])) > 1


def test_iid_split_stratifies_on_y():
    y = np.array([0] * 80 + [1] * 20)
    X = pd.DataFrame({"x": np.arange(100)})
    [(train, test)] = IIDSplit(test_size=0.5, stratify=True, random_state=0).split(X, y)
    assert y[train].sum() == y[test].sum() == 10
    with pytest.raises(ValueError, match="needs y"):
        next(IIDSplit(stratify=True).split(X))


def test_drop_domain_removes_only_the_domain(frame):
    X = drop_domain(frame, column="origin")
    assert list(X.columns) == ["weight", "year", "y"]
    assert "origin" in frame.columns  # the input is not modified
    assert list(drop_domain(frame, column=["origin", "year"]).columns) == [
        "weight",
        "y",
    ]
    with pytest.raises(ValueError, match=r"\['site'\] not in X"):
        drop_domain(frame, column="site")
