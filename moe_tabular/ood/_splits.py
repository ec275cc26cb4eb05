"""Train/test split builders for out-of-distribution evaluation.

Every builder is a scikit-learn cross-validation splitter: ``split(X, y, groups)``
yields ``(train, test)`` arrays of row positions and ``get_n_splits`` counts them,
so each one plugs into ``cross_val_score``, ``cross_validate`` or
``GridSearchCV``. A row's domain is read from a named column of ``X``
(``column="origin"``) or, with ``column=None``, from ``groups``, which lets the
model's ``X`` leave the domain column out. Rows whose domain (or value) is
missing belong to neither side.
"""

from numbers import Real

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype
from sklearn.model_selection import (
    BaseCrossValidator,
    GroupKFold,
    LeaveOneGroupOut,
    train_test_split,
)
from sklearn.utils import check_random_state

__all__ = [
    "DomainKFold",
    "DomainSplit",
    "ExtrapolationSplit",
    "IIDSplit",
    "LeaveOneDomainOut",
    "drop_domain",
]


def _as_list(values):
    """None stays None; a scalar (strings included) becomes a one-item list."""
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        return [values]
    return list(values)


def _shown(values, limit=10):
    values = list(values)
    more = f", ... ({len(values)} in all)" if len(values) > limit else ""
    return "[" + ", ".join(repr(v) for v in values[:limit]) + more + "]"


class _Splitter(BaseCrossValidator):
    """Shared ``split``: subclasses yield position pairs from ``_iter_splits``."""

    def _source(self):
        return "groups" if self.column is None else f"column {self.column!r}"

    def _values(self, X, groups):
        """The per-row domain values as a Series indexed 0..n-1."""
        name, column = type(self).__name__, self.column
        if column is None:
            if groups is None:
                raise ValueError(
                    f"{name}(column=None) reads the domains from groups, but "
                    "groups is None; pass groups=... or set column=."
                )
            if X is not None and len(groups) != len(X):
                raise ValueError(f"groups has {len(groups)} values; X has {len(X)}.")
            return pd.Series(np.asarray(groups))
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"{name}(column={column!r}) needs X as a pandas DataFrame; got "
                f"{type(X).__name__}. Pass the domains as groups with column=None."
            )
        if column not in X.columns:
            raise ValueError(
                f"{name}: column {column!r} is not in X; its columns are "
                f"{_shown(X.columns)}."
            )
        return X[column].reset_index(drop=True)

    def _check_sides(self, is_train, is_test, why):
        for side, mask in (("train", is_train), ("test", is_test)):
            if not mask.any():
                raise ValueError(
                    f"{type(self).__name__} on {self._source()} gives an empty "
                    f"{side} set: {why}"
                )
        return np.flatnonzero(is_train), np.flatnonzero(is_test)

    def _n_splits(self, X, y, groups):
        return 1

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits that ``split`` yields.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features), default=None
            Data; read only by ``LeaveOneDomainOut`` (and by a ``reference``).

        y : array-like of shape (n_samples,), default=None
            Ignored except by a ``reference``.

        groups : array-like of shape (n_samples,), default=None
            Per-row domains, read when ``column`` is None.

        Returns
        -------
        n_splits : int
            Number of splits.
        """
        return self._n_splits(X, y, groups)

    def split(self, X, y=None, groups=None):
        """Yield train and test row positions, one pair per split.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Data; must hold ``column`` unless ``column`` is None.

        y : array-like of shape (n_samples,), default=None
            Target; only ``IIDSplit(stratify=True)`` reads it.

        groups : array-like of shape (n_samples,), default=None
            Per-row domains (or values), read only when ``column`` is None.

        Yields
        ------
        train : ndarray of int
            Positions of the training rows.

        test : ndarray of int
            Positions of the test rows.
        """
        yield from self._iter_splits(X, y, groups)


class DomainSplit(_Splitter):
    """A single train/test split by the value of a domain column.

    Rows whose domain is in ``train_domains`` train, rows whose domain is in
    ``test_domains`` test. Give only one of the two and the other side is every
    other observed domain, e.g. Auto MPG by origin: train on ``"USA"``, test on
    ``"Europe"`` and ``"Japan"``.

    Parameters
    ----------
    column : str or None, default=None
        Column of ``X`` holding the domain. None reads it from ``groups``.

    train_domains : object, list-like or None, default=None
        Domain value(s) to train on; None means all not in ``test_domains``.

    test_domains : object, list-like or None, default=None
        Domain value(s) to test on; None means all not in ``train_domains``.

    See Also
    --------
    LeaveOneDomainOut : Hold out each domain in turn.
    IIDSplit : Random split of the same sizes, the in-distribution control.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood import DomainSplit
    >>> X = pd.DataFrame({"origin": ["USA", "Japan", "USA", "Europe"],
    ...                   "weight": [3.5, 2.1, 4.0, 2.5]})
    >>> cv = DomainSplit(column="origin", train_domains="USA")
    >>> train, test = next(cv.split(X))
    >>> train.tolist(), test.tolist()
    ([0, 2], [1, 3])
    """

    def __init__(self, *, column=None, train_domains=None, test_domains=None):
        self.column = column
        self.train_domains = train_domains
        self.test_domains = test_domains

    def _iter_splits(self, X, y, groups):
        domains = self._values(X, groups)
        sides = {"train_domains": self.train_domains, "test_domains": self.test_domains}
        sides = {param: _as_list(values) for param, values in sides.items()}
        if all(values is None for values in sides.values()):
            raise ValueError("DomainSplit needs train_domains or test_domains.")
        observed = set(domains.dropna())
        try:
            observed = sorted(observed)
        except TypeError:  # mixed types that do not sort
            observed = sorted(observed, key=str)
        for param, values in sides.items():
            unseen = [v for v in values or [] if v not in set(observed)]
            if unseen:
                raise ValueError(
                    f"{param} value(s) {_shown(unseen)} do not occur in "
                    f"{self._source()}; observed values: {_shown(observed)}."
                )
        train_domains, test_domains = sides.values()
        shared = [v for v in train_domains or [] if v in set(test_domains or [])]
        if shared:
            raise ValueError(
                f"{_shown(shared)} in both train_domains and test_domains; a "
                "domain can be on one side only."
            )
        known = domains.notna().to_numpy()
        is_train = known & domains.isin(train_domains or []).to_numpy()
        is_test = known & domains.isin(test_domains or []).to_numpy()
        if train_domains is None:
            is_train = known & ~is_test
        if test_domains is None:
            is_test = known & ~is_train
        why = f"the observed values are {_shown(observed)}."
        yield self._check_sides(is_train, is_test, why)


class _GroupSplitterOnColumn(_Splitter):
    """Run a scikit-learn group splitter with the groups read from a column."""

    def _coded(self, X, groups):
        domains = self._values(X, groups)
        rows = np.flatnonzero(domains.notna().to_numpy())
        try:
            codes, _ = pd.factorize(domains.iloc[rows], sort=True)
        except TypeError:  # mixed types that do not sort
            codes, _ = pd.factorize(domains.iloc[rows])
        return rows, codes

    def _iter_splits(self, X, y, groups):
        rows, codes = self._coded(X, groups)
        for train, test in self._group_splitter().split(rows, groups=codes):
            yield rows[train], rows[test]


class LeaveOneDomainOut(_GroupSplitterOnColumn):
    """Hold out each domain in turn.

    :class:`~sklearn.model_selection.LeaveOneGroupOut` with the groups read from
    a column; folds come in sorted order of the domain values.

    Parameters
    ----------
    column : str or None, default=None
        Column of ``X`` holding the domain. None reads it from ``groups``.

    See Also
    --------
    DomainKFold : Fewer folds, several domains held out per fold.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood import LeaveOneDomainOut
    >>> X = pd.DataFrame({"site": ["a", "b", "a", "c"], "age": [50, 61, 43, 70]})
    >>> cv = LeaveOneDomainOut(column="site")
    >>> cv.get_n_splits(X)
    3
    >>> [test.tolist() for _, test in cv.split(X)]
    [[0, 2], [1], [3]]
    """

    def __init__(self, *, column=None):
        self.column = column

    def _group_splitter(self):
        return LeaveOneGroupOut()

    def _n_splits(self, X, y, groups):
        return len(np.unique(self._coded(X, groups)[1]))


class DomainKFold(_GroupSplitterOnColumn):
    """K folds of whole domains.

    :class:`~sklearn.model_selection.GroupKFold` with the groups read from a
    column.

    Parameters
    ----------
    column : str or None, default=None
        Column of ``X`` holding the domain. None reads it from ``groups``.

    n_splits : int, default=5
        Number of folds, at most the number of distinct domains.

    shuffle : bool, default=False
        Whether to shuffle the domains before assigning them to folds.

    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle when ``shuffle=True``.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood import DomainKFold
    >>> X = pd.DataFrame({"site": ["a", "b", "a", "c", "d", "d"]})
    >>> folds = list(DomainKFold(column="site", n_splits=2).split(X))
    >>> sorted(len(test) for _, test in folds)
    [3, 3]
    """

    def __init__(self, *, column=None, n_splits=5, shuffle=False, random_state=None):
        self.column = column
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _group_splitter(self):
        return GroupKFold(
            n_splits=self.n_splits, shuffle=self.shuffle, random_state=self.random_state
        )

    def _n_splits(self, X, y, groups):
        return self.n_splits


class ExtrapolationSplit(_Splitter):
    """A single split that tests beyond a quantile of a numeric column.

    With ``test_tail="upper"`` rows above the ``quantile`` of the column test and
    the others train; with ``"lower"`` rows below it test. Ties at the cut train.
    Ordered categoricals (e.g. age brackets) are cut in their order.

    Parameters
    ----------
    column : str or None, default=None
        Numeric, datetime or ordered categorical column of ``X``. None reads the
        values from ``groups``.

    quantile : float, default=0.8
        Where to cut, as a quantile of the column, strictly between 0 and 1.

    test_tail : {"upper", "lower"}, default="upper"
        Which side of the cut is the test set.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood import ExtrapolationSplit
    >>> X = pd.DataFrame({"year": [1970, 1975, 1980, 1971, 1982]})
    >>> cv = ExtrapolationSplit(column="year", quantile=0.6)
    >>> train, test = next(cv.split(X))
    >>> train.tolist(), test.tolist()
    ([0, 1, 3], [2, 4])
    """

    def __init__(self, *, column=None, quantile=0.8, test_tail="upper"):
        self.column = column
        self.quantile = quantile
        self.test_tail = test_tail

    def _iter_splits(self, X, y, groups):
        q = self.quantile
        if isinstance(q, bool) or not (isinstance(q, Real) and 0 < q < 1):
            raise ValueError(
                f"quantile must be a number strictly between 0 and 1; got {q!r}."
            )
        if self.test_tail not in ("upper", "lower"):
            raise ValueError(
                f"test_tail must be 'upper' or 'lower'; got {self.test_tail!r}."
            )
        values = self._values(X, groups)
        dtype = values.dtype
        if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            values = values.cat.codes.where(values.notna())
        elif is_bool_dtype(dtype) or not (
            is_numeric_dtype(dtype) or is_datetime64_any_dtype(dtype)
        ):
            raise TypeError(
                f"ExtrapolationSplit needs a numeric, datetime or ordered "
                f"categorical {self._source()}; got dtype {dtype}. Use DomainSplit "
                "for unordered domains."
            )
        cut = values.quantile(q)
        beyond = values > cut if self.test_tail == "upper" else values < cut
        is_test = beyond.to_numpy()
        is_train = values.notna().to_numpy() & ~is_test
        why = f"no value lies on that side of the {q} quantile ({cut!r})."
        yield self._check_sides(is_train, is_test, why)


class IIDSplit(_Splitter):
    """Random train/test split: the in-distribution control.

    Without ``reference`` it is one
    :func:`~sklearn.model_selection.train_test_split` of all rows. With a
    ``reference`` splitter (e.g. a :class:`DomainSplit`) it makes one random
    split per reference split, of the rows that split uses and with its train and
    test sizes, so OOD and IID scores compare at equal training-set size.

    Parameters
    ----------
    test_size : float, int or None, default=None
        As in :func:`~sklearn.model_selection.train_test_split` (0.25 when both
        sizes are None). Ignored with ``reference``.

    train_size : float, int or None, default=None
        As in :func:`~sklearn.model_selection.train_test_split`. Ignored with
        ``reference``.

    reference : cross-validation splitter or None, default=None
        Splitter whose splits' rows and sizes to match.

    stratify : bool, default=False
        Whether to stratify on ``y``, which ``split`` then needs.

    random_state : int, RandomState instance or None, default=None
        Seed of the shuffles; an int repeats the same splits on every call.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood import DomainSplit, IIDSplit
    >>> X = pd.DataFrame({"origin": ["USA"] * 6 + ["Japan"] * 2})
    >>> ood = DomainSplit(column="origin", train_domains="USA")
    >>> train, test = next(IIDSplit(reference=ood, random_state=0).split(X))
    >>> len(train), len(test), len(set(train) & set(test))
    (6, 2, 0)
    """

    def __init__(
        self,
        *,
        test_size=None,
        train_size=None,
        reference=None,
        stratify=False,
        random_state=None,
    ):
        self.test_size = test_size
        self.train_size = train_size
        self.reference = reference
        self.stratify = stratify
        self.random_state = random_state

    def _n_splits(self, X, y, groups):
        if self.reference is None:
            return 1
        return self.reference.get_n_splits(X, y, groups)

    def _iter_splits(self, X, y, groups):
        if self.stratify and y is None:
            raise ValueError("IIDSplit(stratify=True) needs y; got y=None.")
        if self.reference is None:
            n_rows = len(X if X is not None else groups)
            plan = [(np.arange(n_rows), self.train_size, self.test_size)]
        else:
            plan = [
                (np.union1d(train, test), len(train), len(test))
                for train, test in self.reference.split(X, y, groups)
            ]
        rng = check_random_state(self.random_state)
        y = None if y is None else np.asarray(y)
        for pool, train_size, test_size in plan:
            train, test = train_test_split(
                pool,
                train_size=train_size,
                test_size=test_size,
                stratify=y[pool] if self.stratify else None,
                random_state=rng.randint(np.iinfo(np.int32).max),
            )
            yield np.sort(train), np.sort(test)


def drop_domain(X, *, column):
    """Return ``X`` without its domain column(s), as the OOD protocol trains.

    Parameters
    ----------
    X : DataFrame
        Features holding the domain column.

    column : str or list of str
        Domain column(s) to drop.

    Returns
    -------
    X_dropped : DataFrame
        A copy of ``X`` without ``column``.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood import drop_domain
    >>> X = pd.DataFrame({"origin": ["USA", "Japan"], "weight": [3.5, 2.1]})
    >>> list(drop_domain(X, column="origin").columns)
    ['weight']
    """
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"drop_domain needs a pandas DataFrame; got {type(X).__name__}."
        )
    columns = _as_list(column)
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ValueError(
            f"Domain column(s) {_shown(missing)} not in X; its columns are "
            f"{_shown(X.columns)}."
        )
    return X.drop(columns=columns)
