"""ColumnTokenizer: a table becomes integer tokens, one position per column.

Categorical columns go through sklearn's :class:`~sklearn.preprocessing.OrdinalEncoder`,
numeric columns through :class:`~sklearn.preprocessing.KBinsDiscretizer` (quantile
bins). Every cell becomes a per-column code, what the model eats::

    code = -3 (MASK), -2 (MISSING), -1 (UNKNOWN), 0 .. n_categories_[j] - 1

(the reserved codes are :mod:`~moe_tabular._vocabulary`'s). The model
(:class:`~moe_tabular._module.MaskedColumnAttention`) adds each column's offset
itself (:func:`~moe_tabular._vocabulary.token_layout`).

An estimator checks ``X`` in its own name with
:func:`~moe_tabular._columns.check_table` and hands the frame to the
tokenizer's ``fit_encode``/``encode``, which read and encode each column once
(:mod:`~moe_tabular._columns` reads the values). The tokenizer also says what
its codes stand for (``category_labels``, ``bin_values``) and owns its state
(``state``, ``from_state``; the encoders' through
:mod:`~moe_tabular._encoders`). This module never imports torch.
"""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import KBinsDiscretizer, OrdinalEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._columns import (
    categorical_values,
    category_order,
    check_table,
    column_label,
    default_is_categorical,
    format_category,
    numeric_values,
    warn_if_all_unseen,
)
from ._encoders import encoder_from_state, encoder_state, spiked_quantile_bins
from ._vocabulary import MISSING, UNKNOWN


class ColumnTokenizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Turn a table into integer tokens, one position per column.

    Categorical columns are encoded with :class:`~sklearn.preprocessing.OrdinalEncoder`;
    numeric columns are cut into ``n_bins`` quantile bins with
    :class:`~sklearn.preprocessing.KBinsDiscretizer`, or, when they hold at most
    ``n_bins`` distinct values (small integer codes, flags), get one token per value.
    Every column also has three reserved codes: -3 MASK (used by the model), -2
    MISSING (NaN, None or ``pd.NA``, at fit or transform time) and -1 UNKNOWN (a
    category never seen during fit). The output is what the model eats: per-column
    codes, to which the model adds each column's token offset itself.

    Parameters
    ----------
    categorical_features : "auto", array-like of str, int or bool, or None, \
            default="auto"
        Which columns are categorical. ``"auto"``: pandas ``category``, ``string``,
        ``object`` (unless it holds only numbers) and ``bool`` columns are
        categorical; every other numeric column, integer ones included, is numeric.
        Otherwise column names, column indices or a boolean mask; the columns not
        named are numeric. ``None`` means no categorical column.
    n_bins : int, default=10
        Number of quantile bins of a numeric column. A value held by at least
        ``1 / n_bins`` of the rows (the zeros of a zero-inflated amount, a
        sentinel such as 999) gets a bin of its own, and the other values share
        the remaining quantile bins.
    handle_unknown : {"unknown_token", "error"}, default="unknown_token"
        What a category not seen during fit becomes at transform time.
    min_frequency : int or float, default=None
        Categories rarer than this share one "infrequent" token (as in
        :class:`~sklearn.preprocessing.OrdinalEncoder`).
    max_categories : int, default=None
        Upper bound on the categories kept per column, the infrequent ones
        sharing one token.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen during fit, when they are all strings.
    categorical_ : ndarray of bool, shape (``n_features_in_``,)
        Which columns were treated as categorical.
    encoders_ : list of fitted sklearn transformers
        One :class:`~sklearn.preprocessing.OrdinalEncoder` or
        :class:`~sklearn.preprocessing.KBinsDiscretizer` per column (``None`` for a
        numeric column with no value).
    n_categories_ : ndarray of int, shape (``n_features_in_``,)
        Number of categories or bins of each column (reserved codes excluded).
    ordered_ : ndarray of bool, shape (``n_features_in_``,)
        Which columns' codes follow an order: numeric columns, ordered pandas
        ``category`` columns (codes in the dtype's order) and categorical columns
        whose categories are numbers (integer codes, bools). The estimators'
        ``shared_vocabulary="auto"`` shares one vocabulary among these, so a
        column reaches the same model as numbers, as integer codes or as an
        ordered categorical.

    See Also
    --------
    MoECBOWClassifier : Uses this transformer to read its input table.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular import ColumnTokenizer
    >>> X = pd.DataFrame({"city": ["Oslo", "Rome", None], "temp": [3.5, 21.0, 14.2]})
    >>> tokenizer = ColumnTokenizer(n_bins=2).fit(X)
    >>> tokenizer.transform(X)
    array([[ 0,  0],
           [ 1,  1],
           [-2,  1]])
    >>> tokenizer.transform(pd.DataFrame({"city": ["Paris"], "temp": [None]}))
    array([[-1, -2]])
    """

    _parameter_constraints: dict = {
        "categorical_features": [StrOptions({"auto"}), "array-like", None],
        "n_bins": [Interval(numbers.Integral, 2, None, closed="left")],
        "handle_unknown": [StrOptions({"unknown_token", "error"})],
        "min_frequency": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(numbers.Real, 0, 1, closed="neither"),
            None,
        ],
        "max_categories": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        categorical_features="auto",
        n_bins=10,
        handle_unknown="unknown_token",
        min_frequency=None,
        max_categories=None,
    ):
        self.categorical_features = categorical_features
        self.n_bins = n_bins
        self.handle_unknown = handle_unknown
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def _resolve_categorical(self, frame):
        n_columns = frame.shape[1]
        spec = self.categorical_features
        if isinstance(spec, str):  # "auto"
            return np.array(
                [
                    default_is_categorical(frame.iloc[:, j], column_label(frame, j))
                    for j in range(n_columns)
                ],
                dtype=bool,
            )
        mask = np.zeros(n_columns, dtype=bool)
        if spec is None or len(spec) == 0:
            return mask
        spec = np.asarray(spec)
        if spec.dtype.kind == "b":
            if len(spec) != n_columns:
                raise ValueError(
                    f"categorical_features is a boolean mask of length {len(spec)}, "
                    f"but X has {n_columns} columns."
                )
            return spec.copy()
        if spec.dtype.kind in "iu":
            bad = spec[(spec < -n_columns) | (spec >= n_columns)]
            if len(bad):
                raise ValueError(
                    f"categorical_features holds indices {bad.tolist()} out of range "
                    f"for X with {n_columns} columns."
                )
            mask[spec] = True
            return mask
        if spec.dtype.kind in "OU":
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                raise ValueError(
                    "categorical_features names columns, but X has no string column "
                    "names; pass a DataFrame or use indices."
                )
            missing = [name for name in spec if name not in set(names)]
            if missing:
                raise ValueError(
                    f"categorical_features names columns {missing} that are not in X "
                    f"(columns: {list(names)})."
                )
            return np.isin(names, spec)
        raise ValueError(
            "categorical_features must be 'auto', None, or an array of column names, "
            f"indices or booleans; got {self.categorical_features!r}."
        )

    def _fit_column(self, series, values, is_categorical, sample_weight):
        """The fitted encoder of one column, its categories and whether ordered.

        ``values`` is ``series`` as :meth:`_column_values` reads it. A
        categorical column's categories are counted from its codes (None here).
        """
        if is_categorical:
            values = values.reshape(-1, 1)
            categories, ordered = category_order(series, values)
            encoder = OrdinalEncoder(
                categories=categories,
                handle_unknown="use_encoded_value",
                unknown_value=UNKNOWN,
                encoded_missing_value=MISSING,
                min_frequency=self.min_frequency,
                max_categories=self.max_categories,
            ).fit(values)
            encoder.set_params(categories="auto")  # the order fitted is categories_
            return encoder, None, ordered
        present = ~np.isnan(values)
        finite = values[present].reshape(-1, 1)
        if len(finite) == 0:
            return None, 0, True
        if len(np.unique(finite)) <= self.n_bins:
            encoder = OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=UNKNOWN
            ).fit(finite)
            return encoder, len(encoder.categories_[0]), True
        encoder, n_bins = spiked_quantile_bins(
            values[present],
            None if sample_weight is None else sample_weight[present],
            self.n_bins,
        )
        return encoder, n_bins, True

    def _column_values(self, series, j, label):
        """Column ``j`` as its encoder reads it (objects or floats, NaN missing)."""
        if self.categorical_[j]:
            return categorical_values(series, label)
        return numeric_values(series, label)

    def _encode_values(self, values, encoder, label):
        """Codes of one column's values: category index, or MISSING/UNKNOWN."""
        missing = pd.isna(values)
        codes = np.full(len(values), MISSING, dtype=np.int64)
        if encoder is None:  # no value at fit: every present value is unseen
            codes[~missing] = UNKNOWN
        elif not missing.all():
            present = values[~missing].reshape(-1, 1)
            codes[~missing] = encoder.transform(present).ravel()
        if self.handle_unknown == "error" and (codes == UNKNOWN).any():
            unseen = pd.unique(values[codes == UNKNOWN])[:5].tolist()
            raise ValueError(
                f"Column {label} has categories not seen during fit: {unseen}. "
                "Use handle_unknown='unknown_token' to map them to the UNKNOWN token."
            )
        warn_if_all_unseen(values, codes, encoder, label)
        return codes

    def _fit_encode(self, frame, sample_weight):
        """Fit to the rows of ``frame`` of positive weight; codes of all its rows.

        Each column is read and encoded once: the codes of the rows fitted
        also count a categorical column's categories.
        """
        kept = slice(None) if sample_weight is None else sample_weight > 0
        fitted = frame if sample_weight is None else frame.iloc[kept]
        weights = None if sample_weight is None else sample_weight[kept]
        self.categorical_ = self._resolve_categorical(fitted)
        encoders, n_categories, ordered = [], [], []
        codes = np.empty(frame.shape, dtype=np.int64)
        for j in range(frame.shape[1]):
            label = column_label(frame, j)
            values = self._column_values(frame.iloc[:, j], j, label)
            encoder, n_cats, is_ordered = self._fit_column(
                fitted.iloc[:, j], values[kept], self.categorical_[j], weights
            )
            codes[:, j] = self._encode_values(values, encoder, label)
            if n_cats is None:  # categorical: the codes of the rows fitted
                n_cats = int(codes[kept, j].max(initial=-1)) + 1
            encoders.append(encoder)
            n_categories.append(n_cats)
            ordered.append(is_ordered)
        self.encoders_ = encoders
        self.n_categories_ = np.asarray(n_categories, dtype=np.int64)
        self.ordered_ = np.asarray(ordered, dtype=bool)
        return codes

    def _encode(self, frame):
        codes = np.empty(frame.shape, dtype=np.int64)
        for j in range(frame.shape[1]):
            label = column_label(frame, j)
            values = self._column_values(frame.iloc[:, j], j, label)
            codes[:, j] = self._encode_values(values, self.encoders_[j], label)
        return codes

    def _checked_weights(self, frame, sample_weight):
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, frame)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Learn the categories and bin edges of every column.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The table. DataFrame dtypes decide which columns are categorical
            under ``categorical_features="auto"``.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights: quantile bins are weighted quantiles, and rows of
            weight 0 are left out (as if removed).

        Returns
        -------
        self : ColumnTokenizer
            The fitted tokenizer.
        """
        frame = check_table(self, X, reset=True)
        sample_weight = self._checked_weights(frame, sample_weight)
        if sample_weight is not None:  # rows of weight 0: as if removed
            kept = sample_weight > 0
            frame, sample_weight = frame.iloc[kept], sample_weight[kept]
        self._fit_encode(frame, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, sample_weight=None):
        """:meth:`fit`, then :meth:`transform` of the same ``X``, read once.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The table.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as for :meth:`fit`; rows of weight 0 are encoded too.

        Returns
        -------
        codes : ndarray of int64, shape (n_samples, n_features)
            As :meth:`transform` returns them.
        """
        frame = check_table(self, X, reset=True)
        return self._fit_encode(frame, self._checked_weights(frame, sample_weight))

    def transform(self, X):
        """Per-column codes: what the model eats.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)
            The table.

        Returns
        -------
        codes : ndarray of int64, shape (n_samples, ``n_features_in_``)
            The category (or bin) index of each cell, or -2 (MISSING) and -1
            (UNKNOWN); -3 (MASK) is the model's own.
        """
        check_is_fitted(self)
        return self._encode(check_table(self, X, reset=False))

    # -- the seam of an owner that checks X itself (the estimators) ----------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_encode(self, frame, sample_weight=None):
        """:meth:`fit_transform` of a table its caller has checked.

        An estimator checks ``X`` in its own name, once
        (:func:`~moe_tabular._columns.check_table`: scikit-learn's checks and
        messages), then hands the frame here;
        checking it again would repeat scikit-learn's feature-name warnings.
        ``n_features_in_`` and ``feature_names_in_`` are read from ``frame``.

        Parameters
        ----------
        frame : DataFrame of shape (n_samples, n_features)
            What :func:`~moe_tabular._columns.check_table` returned.
        sample_weight : ndarray of shape (n_samples,), default=None
            Checked row weights; rows of weight 0 are left out of the fit but
            encoded.

        Returns
        -------
        codes : ndarray of int64, shape (n_samples, n_features)
        """
        validate_data(self, frame, skip_check_array=True, reset=True)  # names only
        return self._fit_encode(frame, sample_weight)

    def encode(self, frame):
        """:meth:`transform` of a table its caller has checked.

        Parameters
        ----------
        frame : DataFrame of shape (n_samples, ``n_features_in_``)
            What :func:`~moe_tabular._columns.check_table` returned (with
            ``reset=False``), or rows of it.

        Returns
        -------
        codes : ndarray of int64, shape (n_samples, ``n_features_in_``)
        """
        check_is_fitted(self)
        return self._encode(frame)

    def category_labels(self, j):
        """Labels of the categories (or bins) of column ``j``, in code order.

        Categories are labelled by value, bins by interval (``"< 1.5"``,
        ``"[1.5, 3)"``, ``">= 3"``; ``"all"`` for a column of one bin).

        Parameters
        ----------
        j : int
            The column.

        Returns
        -------
        labels : list of str, length ``n_categories_[j]``

        Examples
        --------
        >>> import pandas as pd
        >>> X = pd.DataFrame({"city": ["Oslo", "Rome"] * 2, "t": [1.0, 2.0, 3.0, 4.0]})
        >>> tokenizer = ColumnTokenizer(n_bins=2).fit(X)
        >>> tokenizer.category_labels(0), tokenizer.category_labels(1)
        (['Oslo', 'Rome'], ['< 2.5', '>= 2.5'])
        """
        check_is_fitted(self)
        encoder = self.encoders_[j]
        if encoder is None:
            return []
        if isinstance(encoder, KBinsDiscretizer):
            edges = encoder.bin_edges_[0]
            if len(edges) < 3:  # one bin (sklearn drops every bin of values
                return ["all"]  # spanning less than 1e-8: one bin then too)
            labels = [
                f"[{format_category(a)}, {format_category(b)})"
                for a, b in zip(edges[:-1], edges[1:], strict=True)
            ]
            labels[0] = f"< {format_category(edges[1])}"
            labels[-1] = f">= {format_category(edges[-2])}"
            return labels
        codes = np.arange(self.n_categories_[j], dtype=np.float64).reshape(-1, 1)
        return [format_category(v) for v in encoder.inverse_transform(codes).ravel()]

    def bin_values(self, j, values=None, sample_weight=None, *, codes=None):
        """The number each code of numeric column ``j`` stands for.

        Without ``values``: the midpoint of each bin's edges, or, for a column
        with few distinct values (one code per value), the values themselves.
        Given the column's training ``values``: the mean training value of
        each bin (the midpoint for a bin no row fell in), weighted by
        ``sample_weight``. Unweighted, a column with few distinct values keeps
        its exact values; weighted, its codes get weighted means too (each
        the code's value up to rounding).

        Parameters
        ----------
        j : int
            A numeric column.
        values : array-like of shape (n_samples,), default=None
            The column's training values (missing ones NaN, None or ``pd.NA``).
        sample_weight : array-like of shape (n_samples,), default=None
            Their weights.
        codes : ndarray of int of shape (n_samples,), default=None
            This tokenizer's codes of ``values``, when at hand; encoded here
            otherwise. Rows with a negative code (missing) are left out.

        Returns
        -------
        bin_values : ndarray of float64, shape (``n_categories_[j]``,)

        Examples
        --------
        >>> import numpy as np
        >>> tokenizer = ColumnTokenizer(n_bins=2).fit([[1.0], [2.0], [3.0], [5.0]])
        >>> tokenizer.bin_values(0).tolist()  # edges 1, 2.5 and 5
        [1.75, 3.75]
        >>> tokenizer.bin_values(0, [1.0, 2.0, 3.0, 5.0]).tolist()
        [1.5, 4.0]
        """
        check_is_fitted(self)
        if self.categorical_[j]:
            raise ValueError(f"Column {j} is categorical: its codes are not numbers.")
        encoder = self.encoders_[j]
        if encoder is None:  # no value at fit
            return np.empty(0)
        binned = isinstance(encoder, KBinsDiscretizer)
        if binned:
            edges = encoder.bin_edges_[0]
            if len(edges) < 2:  # sklearn dropped every bin (values span < 1e-8)
                points = edges[:1].astype(np.float64)
            else:
                points = edges[:-1] / 2 + edges[1:] / 2  # halves: no overflow
        else:
            points = encoder.categories_[0].astype(np.float64)
        if values is None or (sample_weight is None and not binned):
            return points
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        values = numeric_values(series, repr(j))
        if codes is None:
            codes = self._encode_values(values, self.encoders_[j], repr(j))
        seen = codes >= 0
        bins, values = codes[seen], values[seen]
        n_bins = int(self.n_categories_[j])
        if sample_weight is None:
            counts = np.bincount(bins, minlength=n_bins)
            shares = values / counts[bins]  # each value over its bin's count:
            means = np.bincount(bins, weights=shares, minlength=n_bins)  # no overflow
            return np.where(counts > 0, means, points)
        weight = np.asarray(sample_weight, dtype=np.float64)[seen]
        totals = np.bincount(bins, weights=weight, minlength=n_bins)
        # the mean as a sum of value * weight / total: no overflow near the float max
        share = weight / np.where(totals > 0, totals, 1)[bins]
        means = np.bincount(bins, weights=values * share, minlength=n_bins)
        return np.where(totals > 0, means, points)

    # -- state -----------------------------------------------------------------------
    _STATE_ATTRIBUTES = (
        "n_features_in_",
        "feature_names_in_",
        "categorical_",
        "n_categories_",
        "ordered_",
    )

    def state(self):
        """The fitted tokenizer as plain values: what :meth:`from_state` takes.

        Returns
        -------
        state : dict
            ``params`` (:meth:`get_params`), ``attributes`` (the fitted
            attributes but the encoders) and ``encoders`` (each column's, see
            :func:`~moe_tabular._encoders.encoder_state`): str, numbers, lists,
            dicts and numpy arrays of numbers, strings or objects, which
            :func:`~moe_tabular._persistence.to_json` writes as JSON.

        Examples
        --------
        >>> import pandas as pd
        >>> X = pd.DataFrame({"city": ["Oslo", "Rome"], "temp": [3.5, 21.0]})
        >>> tokenizer = ColumnTokenizer().fit(X)
        >>> rebuilt = ColumnTokenizer.from_state(tokenizer.state())
        >>> rebuilt.transform(X).tolist()
        [[0, 0], [1, 1]]
        """
        check_is_fitted(self)
        return {
            "params": self.get_params(),
            "attributes": {
                key: getattr(self, key)
                for key in self._STATE_ATTRIBUTES
                if hasattr(self, key)
            },
            "encoders": [
                encoder_state(encoder, f"tokenizer_.encoders_[{j}]")
                for j, encoder in enumerate(self.encoders_)
            ],
        }

    @classmethod
    def from_state(cls, state):
        """The fitted tokenizer of a :meth:`state`; runs no code from it.

        Parameters
        ----------
        state : dict
            What :meth:`state` returned (or its JSON round trip).

        Returns
        -------
        tokenizer : ColumnTokenizer
        """
        tokenizer = cls(**state["params"])
        for key, value in state["attributes"].items():
            # a public fitted name (``n_categories_``), never ``__dict__`` or the like
            if not (key.isidentifier() and key.endswith("_") and key[0] != "_"):
                raise ValueError(f"bad tokenizer attribute {key!r}")
            setattr(tokenizer, key, value)
        tokenizer.encoders_ = [encoder_from_state(e) for e in state["encoders"]]
        if len(tokenizer.encoders_) != tokenizer.n_features_in_:
            raise ValueError("the tokenizer has one encoder per column")
        if not hasattr(tokenizer, "ordered_"):  # saved before ordered_: numeric ones
            tokenizer.ordered_ = ~np.asarray(tokenizer.categorical_, dtype=bool)
        return tokenizer

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.transformer_tags.preserves_dtype = []
        return tags
