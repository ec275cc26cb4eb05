"""Reading a table's columns: ``X`` checked once in its owner's name, each
column's values as the tokenizer encodes them (categorical or numeric, every
kind of missing value as NaN, with errors that name the column), and how
labels write a category. Never imports torch.
"""

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from ._validation import caller_stacklevel, check_frame_columns
from ._vocabulary import MISSING, UNKNOWN


def format_category(value):
    """How a label writes a category's value: floats to 4 significant digits.

    Examples
    --------
    >>> format_category(1 / 3), format_category("red"), format_category(7)
    ('0.3333', 'red', '7')
    """
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def as_frame(X):
    """``X`` as a DataFrame: itself if it is one (its dtypes kept), else its array.

    Examples
    --------
    >>> as_frame([[1, "a"], [2, "b"]]).shape
    (2, 2)
    """
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    return pd.DataFrame(array if array.ndim == 2 else array.reshape(len(array), -1))


def check_table(owner, X, *, reset):
    """Check ``X`` once, in ``owner``'s name; return it as the tokenizer reads it.

    scikit-learn's ``validate_data(owner, ..., dtype=None,
    ensure_all_finite="allow-nan", reset=reset)`` runs its checks with its
    messages (the owner's class named in them) and sets (``reset=True``) or
    checks ``owner``'s ``n_features_in_`` and ``feature_names_in_``; a
    DataFrame is checked on its first row only (see
    :func:`~moe_tabular._validation.check_frame_columns`). The tokenizer then
    reads each column's dtype from the frame returned, and checks every value
    itself as it encodes it.

    Parameters
    ----------
    owner : estimator
        The tokenizer, or an estimator that tokenizes ``X`` (its
        ``fit_encode`` and ``encode`` take the frame returned).
    X : {array-like, DataFrame} of shape (n_samples, n_features)
    reset : bool
        True at fit.

    Returns
    -------
    frame : DataFrame of shape (n_samples, n_features)
        ``X`` itself if it is a DataFrame.
    """
    validate_data(
        owner,
        check_frame_columns(X),
        dtype=None,
        ensure_all_finite="allow-nan",
        reset=reset,
    )
    return as_frame(X)


def column_label(frame, j):
    """How error messages name column ``j``."""
    name = frame.columns[j]
    return f"{name!r}" if isinstance(name, str) else f"{j} ({name!r})"


def default_is_categorical(series, label):
    """The ``categorical_features="auto"`` rule for one column."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return True
    if pd.api.types.is_object_dtype(dtype):
        kind = pd.api.types.infer_dtype(series, skipna=True)
        return kind not in {"integer", "floating", "mixed-integer-float", "decimal"}
    if pd.api.types.is_string_dtype(dtype):
        return True
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(
        dtype
    ):
        return False
    raise TypeError(
        f"Column {label} has dtype {dtype}; expected category, string, bool or a "
        "real number. Convert it (for dates, e.g. to the year or a timestamp)."
    )


def categorical_values(series, label):
    """Object array of the column with every kind of missing value as ``np.nan``."""
    values = series.to_numpy(dtype=object, na_value=np.nan, copy=True)
    missing = pd.isna(values)
    present = values[~missing]
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = series.cat.categories.to_numpy(dtype=object)
    kinds = {type(v) for v in present}
    is_str = {k for k in kinds if issubclass(k, str)}
    is_num = {
        k
        for k in kinds
        if issubclass(k, (numbers.Real, np.bool_)) and not issubclass(k, str)
    }
    other = kinds - is_str - is_num
    if other:
        bad = next(v for v in present if type(v) in other)
        raise TypeError(
            f"Column {label}: argument must be a string or a number, got a value of "
            f"type {type(bad).__name__} ({bad!r})."
        )
    if is_str and is_num:
        raise TypeError(
            f"Column {label} mixes strings and numbers "
            f"({sorted(k.__name__ for k in kinds)}); convert it to one type."
        )
    values[missing] = np.nan
    return values


def numeric_values(series, label):
    """Float array of the column, missing values as ``np.nan``; no infinity."""
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except TypeError as exc:
        raise TypeError(f"Column {label} is treated as numeric: {exc}") from None
    except (ValueError, OverflowError) as exc:
        raise ValueError(
            f"Column {label} is treated as numeric but holds values that are not "
            f"real numbers ({exc}); list it in categorical_features."
        ) from None
    if np.isinf(values).any():
        bad = values[np.isinf(values)][0]
        raise ValueError(
            f"Column {label} contains infinity ({bad}); replace it with NaN (the "
            "missing token) or a finite value."
        )
    return values


def category_order(series, values):
    """The ``categories`` of a categorical column's encoder, and whether it is ordered.

    An ordered pandas ``category`` keeps its own order (missing values last, as
    sklearn's own fit puts them); categories that are numbers (integer codes,
    bools) are sorted as numbers and ordered too; strings are sorted, unordered.
    """
    missing = pd.isna(values).ravel()
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        used = dtype.categories[dtype.categories.isin(series.dropna().unique())]
        order = used.to_numpy(dtype=object)
        if missing.any():
            order = np.append(order, np.array([np.nan], dtype=object))
        return [order], True
    present = values.ravel()[~missing]
    return "auto", len(present) > 0 and not isinstance(present[0], str)


def _kinds(values):
    """The kinds (string, number) of the first thousand of ``values``."""
    return {"string" if isinstance(v, str) else "number" for v in values[:1000]}


def warn_if_all_unseen(values, codes, encoder, label):
    """Warn when every present value of a column is unseen (UNKNOWN).

    Most often the column changed type between fit and predict (strings "1",
    "2" fitted, integers given, or the reverse), which would silently turn
    every cell into the UNKNOWN token.
    """
    present = codes != MISSING
    if encoder is None or not present.any() or (codes[present] != UNKNOWN).all():
        return
    categories = getattr(encoder, "categories_", None)
    if categories is None or (codes[present] == UNKNOWN).sum() != present.sum():
        return
    fitted = categories[0][~pd.isna(categories[0])]
    if len(fitted) == 0:  # no value at fit: every value is unseen, as expected
        return
    given = values[present]
    changed = _kinds(fitted) != _kinds(given)
    if not changed and present.sum() < 5:  # a new category or two: no alarm
        return
    hint = (
        f" The column held {sorted(_kinds(fitted))} values in fit and holds "
        f"{sorted(_kinds(given))} now: convert it to its type at fit."
        if changed
        else ""
    )
    warnings.warn(
        f"Column {label}: none of its {present.sum()} values was seen during fit "
        f"(e.g. {given[0]!r}; fit saw e.g. {fitted[0]!r}); every cell becomes the "
        f"UNKNOWN token.{hint}",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
