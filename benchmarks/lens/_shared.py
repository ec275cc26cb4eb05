"""What the lens benchmarks (imputation, shift score) share: MoE settings, options."""

from pathlib import Path

import pandas as pd

from benchmarks._common import ROOT

SUMMARY_KEYS = (
    "d_embedding",
    "n_heads",
    "n_layers",
    "d_ffn",
    "shared_vocabulary",
    "batch_size",
    "learning_rate",
    "learning_rate_schedule",
    "max_epochs",
)


def moe_params(seed, epochs):
    """The estimators' defaults, but ``random_state`` and (if given) ``max_epochs``."""
    return {"random_state": seed, **({"max_epochs": epochs} if epochs else {})}


def moe_summary(Estimator, epochs):
    """The MoE hyperparameters that matter here, as ``key=value`` text."""
    params = Estimator(**moe_params(0, epochs)).get_params()
    return ", ".join(f"{key}={params[key]!r}" for key in SUMMARY_KEYS)


def add_run_options(parser, default_out):
    """``--max-epochs``, ``--threads`` and ``--out``, as every lens benchmark has."""
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="max_epochs of the MoE models (default: the estimators' default)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"Markdown results file (default {default_out.relative_to(ROOT)}; "
        "--quick writes nothing unless given)",
    )


def lens_safe(X):
    """``X`` with bool/boolean/Int64-like columns as float when it has a category.

    Works around the known crash of the lens and the imputer on frames mixing a
    category column with such a column; every method gets the same frame.
    """
    if not any(isinstance(d, pd.CategoricalDtype) for d in X.dtypes):
        return X
    X = X.copy()
    for column in X.columns:
        dtype = X[column].dtype
        nullable = isinstance(dtype, pd.api.extensions.ExtensionDtype)
        if pd.api.types.is_bool_dtype(dtype) or (
            nullable and pd.api.types.is_numeric_dtype(dtype)
        ):
            X[column] = X[column].astype("Float64").astype(float)
    return X
