"""Column-aware checks shared by the tokenizer and the estimators.

They run before sklearn's ``validate_data`` and catch what it would otherwise
report from deep inside numpy or narwhals (duplicate column names, date columns
mixed with numbers); and the ``stacklevel`` that points a warning at the user's
line. This module never imports torch.
"""

import sys
from pathlib import Path

import pandas as pd


def column_label(name, j):
    """How error messages name column ``j`` called ``name``.

    Examples
    --------
    >>> column_label("city", 0), column_label(7, 2)
    ("'city'", '2 (7)')
    """
    return f"{name!r}" if isinstance(name, str) else f"{j} ({name!r})"


def caller_stacklevel():
    """The ``stacklevel`` of the first frame outside moe_tabular and scikit-learn.

    A warning then points at the user's line (``model.fit(X, y)``,
    ``model.predict(X)``), whichever public method, wrapper (``_fit_context``)
    or pipeline led there. Call it in the ``warnings.warn`` call.
    """
    import sklearn

    inside = (str(Path(__file__).parent), str(Path(sklearn.__file__).parent))
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level


def _is_date_like(dtype):
    return (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype))
    )


def check_frame_columns(X):
    """Raise a clear error for DataFrame columns no validator reports well.

    Parameters
    ----------
    X : object
        The input table; only DataFrames are checked.

    Returns
    -------
    X_checkable : object
        What to hand to sklearn's ``validate_data`` for its checks: ``X`` itself,
        or for a DataFrame its first row (none for an empty one), with
        category, string or other non-numeric extension (e.g. Arrow-backed)
        columns as ``object``.
        ``check_array`` otherwise casts a frame mixing them with nullable, bool
        or Arrow numeric columns to float, and fails (scikit-learn#25798). The
        tokenizer still reads the original ``X``.

    Raises
    ------
    ValueError
        If two columns share a name.
    TypeError
        If a column holds dates, durations, periods or intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> check_frame_columns(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    Traceback (most recent call last):
    ...
    ValueError: X has duplicate column names ['a']; give every column a unique name.
    """
    if not isinstance(X, pd.DataFrame):
        return X
    # sklearn's checks and messages need one row of a frame, not all of them:
    # turning a whole mixed frame into one object array costs about half a
    # kilobyte a row, and the tokenizer checks every value of every column
    # itself (benchmarks/perf/predict_memory.py)
    X = X.iloc[:1]
    columns = X.columns
    if columns.has_duplicates:
        duplicated = columns[columns.duplicated()].unique().tolist()
        raise ValueError(
            f"X has duplicate column names {duplicated}; give every column a "
            "unique name."
        )
    for j, (name, dtype) in enumerate(zip(columns, X.dtypes, strict=True)):
        if _is_date_like(dtype):
            raise TypeError(
                f"Column {column_label(name, j)} has dtype {dtype}; expected "
                "category, string, bool or a real number. Convert it (for dates, "
                "e.g. to the year or a timestamp)."
            )
    as_object = [name for name, dtype in X.dtypes.items() if _checked_as_object(dtype)]
    if as_object:
        return X.astype(dict.fromkeys(as_object, object))
    return X


def _checked_as_object(dtype):
    """Category, string and other non-numeric extension (Arrow) dtypes."""
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        return True
    is_extension = isinstance(dtype, pd.api.extensions.ExtensionDtype)
    return is_extension and not (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    )
