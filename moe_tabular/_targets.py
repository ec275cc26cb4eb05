"""The target column of the masked-column model: what it is and how it is coded.

The model reads the target as one more column, the last. Three kinds of target
share one small interface, owned by the estimator and read by the lens (no
flags, no ``hasattr`` sniffing):

- :class:`ClassTarget`: class labels (the classifier);
- :class:`BinnedTarget`: a continuous target cut into quantile bins (the regressor);
- :class:`NoTarget`: a constant placeholder column with no loss (the imputer).

Each has ``fit(y)`` (validates and learns), ``encode(y)`` (codes for training;
an unlabeled row gets the MASK code, so it trains the feature columns only),
``context_code`` (the target position's code when predicting: MASK, or the
placeholder's), ``n_categories``, ``ordered`` (joins the shared vocabulary of
ordered columns), ``labels()`` (names of its categories) and
``state()``/``from_state()`` (plain values, which the estimator's state holds;
:func:`target_from_state` rebuilds any kind). ``fit`` warns once when some rows
are unlabeled, so that a missing target never changes training unannounced.
This module never imports torch.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.multiclass import check_classification_targets

from ._columns import format_category
from ._tokenizer import ColumnTokenizer
from ._validation import caller_stacklevel
from ._vocabulary import MASK


def _as_1d(y, *, numeric, owner):
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
    if hasattr(y, "to_numpy") and not numeric:  # pandas: pd.NA -> NaN
        y = y.to_numpy(dtype=object, na_value=np.nan)
    y = check_array(
        y,
        ensure_2d=False,
        dtype="numeric" if numeric else None,
        ensure_all_finite="allow-nan",
        input_name="y",
    )
    return column_or_1d(y, warn=True)


def _unlabeled(y):
    """Rows without a label: NaN, None or ``pd.NA``.

    scikit-learn's semi-supervised meta-estimators also read -1 as unlabeled;
    here -1 stays a class, since {-1, 1} is a common binary labelling that
    would otherwise silently lose a class. Pass ``np.where(y == -1, np.nan, y)``
    for that convention.
    """
    return np.asarray(pd.isna(y), dtype=bool)


def _warn_unlabeled(unlabeled, owner):
    """Warn when some, not all, rows have no target: they train unlabeled."""
    n_unlabeled = int(np.count_nonzero(unlabeled))
    if 0 < n_unlabeled < len(unlabeled):
        warnings.warn(
            f"{owner}: {n_unlabeled} of {len(unlabeled)} rows have a missing "
            "target (NaN, None or pd.NA); they train as unlabeled rows, on the "
            "feature columns only. Drop those rows to train on labelled rows alone.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


class ClassTarget:
    """Class labels, sorted as :class:`~sklearn.preprocessing.LabelEncoder` sorts.

    Examples
    --------
    >>> target = ClassTarget().fit(["b", "a", "b"])
    >>> target.classes_.tolist(), target.encode(["a", "b", None]).tolist()
    (['a', 'b'], [0, 1, -3])
    """

    name = "target"
    has_target = True
    context_code = MASK  # the target masked: predicted

    def fit(self, y, *, owner="MoECBOWClassifier", sample_weight=None):
        y = _as_1d(y, numeric=False, owner=owner)
        unlabeled = _unlabeled(y)
        labeled = y[~unlabeled]
        if len(labeled):
            kinds = (
                {isinstance(v, str) for v in labeled}
                if labeled.dtype.kind == "O"
                else set()
            )
            if kinds == {True, False}:
                raise TypeError(
                    "y mixes strings and numbers as labels; convert them to one type."
                )
            if kinds == {False}:  # object labels that are all numbers (a
                labeled = np.asarray(labeled.tolist())  # category of ints): numeric
            check_classification_targets(labeled)
        classes = np.unique(labeled) if len(labeled) else labeled
        if len(classes) < 2:
            shown = "no labelled row" if len(classes) == 0 else repr(classes[0])
            raise ValueError(
                f"y contains only one class ({shown}); a classifier needs at least "
                "two classes (NaN, None and pd.NA mark unlabeled rows)."
            )
        self.classes_ = classes
        self._encoder = LabelEncoder().fit(classes)
        _warn_unlabeled(unlabeled, owner)
        return self

    @property
    def n_categories(self):
        return len(self.classes_)

    @property
    def ordered(self):
        return self.classes_.dtype.kind in "iuf"

    def encode(self, y):
        y = _as_1d(y, numeric=False, owner="encode")
        unlabeled = _unlabeled(y)
        codes = np.full(len(y), MASK, dtype=np.int64)
        if (~unlabeled).any():
            labeled = y[~unlabeled]
            if labeled.dtype.kind == "O" and self.classes_.dtype.kind != "O":
                labeled = labeled.astype(self.classes_.dtype)
            codes[~unlabeled] = self._encoder.transform(labeled)
        return codes

    def labels(self):
        return [format_category(c) for c in self.classes_]

    def state(self):
        return {"kind": "classes", "classes": self.classes_}

    @classmethod
    def from_state(cls, state):
        target = cls()
        classes = np.asarray(state["classes"])
        if classes.ndim != 1 or len(classes) < 2:
            raise ValueError("the saved classes are not a list of two or more labels")
        if len(pd.unique(classes)) != len(classes):
            raise ValueError("the saved classes hold duplicates")
        if not (np.sort(classes) == classes).all():
            raise ValueError("the saved classes are not sorted")
        target.classes_ = classes
        target._encoder = LabelEncoder().fit(classes)
        return target


class BinnedTarget:
    """A continuous target cut into quantile bins; predicts the bins' means.

    The bins come from a one-column :class:`~moe_tabular.ColumnTokenizer`
    (``binner``): quantile bins, or one bin per value when ``y`` holds at most
    ``n_bins`` distinct values.

    Examples
    --------
    >>> target = BinnedTarget(n_bins=2).fit([1.0, 2.0, 3.0, 4.0])
    >>> target.encode([1.0, 4.0, np.nan]).tolist(), target.bin_means_.tolist()
    ([0, 1, -3], [1.5, 3.5])
    """

    name = "target"
    has_target = True
    context_code = MASK  # the target masked: predicted
    ordered = True

    def __init__(self, n_bins=10):
        self.n_bins = n_bins

    def fit(self, y, *, owner="MoECBOWRegressor", sample_weight=None):
        y = _as_1d(y, numeric=True, owner=owner).astype(np.float64)
        if np.isinf(y).any():
            raise ValueError("Input y contains infinity; replace it or drop the row.")
        labeled = ~np.isnan(y)
        if sample_weight is not None:
            labeled &= sample_weight > 0
        if not labeled.any():
            raise ValueError("y has no labelled row (NaN marks unlabeled rows).")
        values = y[labeled]
        weight = (
            np.ones(len(values)) if sample_weight is None else sample_weight[labeled]
        )
        self.binner = ColumnTokenizer(n_bins=self.n_bins, categorical_features=None)
        codes = self.binner.fit_transform(values.reshape(-1, 1), sample_weight=weight)
        # the weighted mean of each bin; an empty quantile bin (ties) predicts
        # the midpoint of its edges
        self.bin_means_ = self.binner.bin_values(0, values, weight, codes=codes[:, 0])
        _warn_unlabeled(np.isnan(y), owner)
        return self

    @property
    def n_categories(self):
        return len(self.bin_means_)

    def encode(self, y):
        y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        codes = self.binner.transform(y)[:, 0]
        return np.where(codes >= 0, codes, MASK)  # NaN or an unseen value: no loss

    def labels(self):
        means = self.bin_means_
        return [f"bin {k} (mean {format_category(m)})" for k, m in enumerate(means)]

    def state(self):
        return {"kind": "bins", "means": self.bin_means_, "binner": self.binner.state()}

    @classmethod
    def from_state(cls, state):
        means = np.asarray(state["means"], dtype=np.float64)
        binner = ColumnTokenizer.from_state(state["binner"])
        if means.ndim != 1 or binner.n_features_in_ != 1:
            raise ValueError("the saved target bins are not one column")
        if int(binner.n_categories_[0]) != len(means):
            raise ValueError(
                f"the saved target has {len(means)} bin means for "
                f"{int(binner.n_categories_[0])} bins"
            )
        target = cls(n_bins=binner.n_bins)
        target.binner, target.bin_means_ = binner, means
        return target


class NoTarget:
    """No target: the imputer's constant placeholder column, its loss always 0.

    Examples
    --------
    >>> NoTarget().fit(None).encode(range(3)).tolist()
    [0, 0, 0]
    """

    name = "(constant)"
    has_target = False
    context_code = 0  # the placeholder's one category
    ordered = False
    n_categories = 1

    def fit(self, y, **_):
        return self

    def encode(self, y):
        return np.zeros(len(y), dtype=np.int64)

    def labels(self):
        return ["constant"]

    def state(self):
        return {"kind": "none"}

    @classmethod
    def from_state(cls, state):
        return cls()


_KINDS = {"classes": ClassTarget, "bins": BinnedTarget, "none": NoTarget}


def target_from_state(state):
    """The target of a ``state()`` of any kind.

    Examples
    --------
    >>> type(target_from_state(ClassTarget().fit([1, 2]).state())).__name__
    'ClassTarget'
    """
    if not isinstance(state, dict) or state.get("kind") not in _KINDS:
        raise ValueError(f"bad target state {state!r:.80}")
    return _KINDS[state["kind"]].from_state(state)
