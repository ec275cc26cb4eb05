"""The paper's correlation-shift simulation (Wibisono and Wang, UAI 2023).

Train and test covariates are Gaussian with opposite correlation patterns; the
outcome depends only on the noise-free "core" covariates, so a model that leans
on the spurious correlations of the training set pays for it at test time.
"""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = [
    "PAPER_SEEDS",
    "PAPER_SETTINGS",
    "CorrelationShiftData",
    "SimulationSetting",
    "make_correlation_shift",
]

# ``np.random.seed(2023); np.random.randint(10000, size=20)``, as in the authors'
# notebooks and in the ``seed`` column of their published per-seed result files.
PAPER_SEEDS = (
    4951, 5657, 2743, 6049, 5852, 6659, 9076, 470, 357, 5088,
    7605, 9549, 8231, 8408, 5763, 7226, 9244, 2257, 4295, 8433,
)  # fmt: skip


class SimulationSetting(NamedTuple):
    """One (n_core_features, corr, x_noise) cell of the paper's Tables 3 and 4.

    ``make_correlation_shift(**setting._asdict(), random_state=seed)`` draws it.

    Examples
    --------
    >>> from moe_tabular.ood import PAPER_SETTINGS, simulation_name
    >>> PAPER_SETTINGS[9]
    SimulationSetting(n_core_features=5, corr=0.9, x_noise=0.0)
    >>> simulation_name(PAPER_SETTINGS[9])
    'sim-5-0.9-0'
    """

    n_core_features: int
    corr: float
    x_noise: float


# The 12 settings, in the order of the authors' notebooks and of PAPER.md's table.
PAPER_SETTINGS = tuple(
    SimulationSetting(n_core_features, corr, x_noise)
    for n_core_features in (1, 5)
    for corr in (0.1, 0.9)
    for x_noise in (0.0, 0.5, 1.5)
)


class CorrelationShiftData(NamedTuple):
    """Train and test sets of :func:`make_correlation_shift`.

    Unpacks as ``X_train, y_train, X_test, y_test``; ``train`` and ``test`` give
    the features and the target ``"y"`` together in one frame each.

    Examples
    --------
    >>> from moe_tabular.ood import make_correlation_shift
    >>> data = make_correlation_shift(n_train=100, n_test=50, random_state=0)
    >>> X_train, y_train, X_test, y_test = data
    >>> list(data.train.columns), data.test.shape
    (['x0', 'x1', 'x2', 'x3', 'x4', 'y'], (50, 6))
    """

    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series

    @property
    def train(self):
        """Training frame: ``x0, ..., x{D-1}`` and ``y``."""
        return self.X_train.assign(y=self.y_train)

    @property
    def test(self):
        """Test frame: ``x0, ..., x{D-1}`` and ``y``."""
        return self.X_test.assign(y=self.y_test)


@validate_params(
    {
        "n_train": [Interval(Integral, 1, None, closed="left")],
        "n_test": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_core_features": [Interval(Integral, 1, None, closed="left")],
        "corr": [Interval(Real, 0, 1, closed="both")],
        "x_noise": [Interval(Real, 0, None, closed="left")],
        "y_noise": [Interval(Real, 0, None, closed="left")],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "shift": ["boolean"],
        "binned": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_correlation_shift(
    *,
    n_train=2000,
    n_test=2000,
    n_features=5,
    n_core_features=5,
    corr=0.9,
    x_noise=0.0,
    y_noise=2.0,
    n_bins=10,
    shift=True,
    binned=True,
    random_state=None,
):
    """Generate the paper's correlation-shift regression data.

    Covariates are ``N(0, S)``: ``S_train = corr * 11' + (1 - corr) * I`` and, with
    ``shift=True``, ``S_test = (1 - corr) * 11' + corr * I``, so the correlation
    pattern flips between train and test. The first ``n_features // 2``
    covariates change sign (in both sets), so some pairs correlate negatively.
    The observed covariates add ``x_noise * (0.4 for core, 0.3 for other
    features) * N(0, 1)``; the outcome uses the noise-free core covariates:
    ``y = x_true[:, :n_core_features] @ c + y_noise * N(0, 1)`` with
    ``c ~ 10 * Uniform(0, 1)`` per core feature.

    The random draws follow the authors' ``generate_data`` step by step (one
    legacy :class:`numpy.random.RandomState` seeded with ``random_state``, used in
    their order), so an integer seed gives their data set; the global numpy
    random state is left untouched.

    Read more in PAPER.md, section "Simulation".

    Parameters
    ----------
    n_train : int, default=2000
        Number of training rows.

    n_test : int, default=2000
        Number of test rows.

    n_features : int, default=5
        Number of covariates ``D``, named ``x0, ..., x{D-1}``.

    n_core_features : int, default=5
        Number of leading covariates that generate ``y`` (the paper uses 1 and 5).
        Must not exceed ``n_features``.

    corr : float, default=0.9
        Correlation of the training covariates; the test covariates have
        ``1 - corr`` (the paper uses 0.1 and 0.9).

    x_noise : float, default=0.0
        Scale of the observation noise on the covariates (the paper uses 0, 0.5
        and 1.5).

    y_noise : float, default=2.0
        Standard deviation of the outcome noise.

    n_bins : int, default=10
        Number of quantile bins when ``binned=True``.

    shift : bool, default=True
        Whether the test covariates follow the flipped correlation pattern. With
        ``False`` they follow the training one: an in-distribution control.

    binned : bool, default=True
        If True, return every column (features and target) as bin indices
        ``0, ..., n_bins - 1`` of :func:`pandas.qcut` over train and test pooled,
        as the paper does; if False, return the continuous values.

    random_state : int, RandomState instance or None, default=None
        Seed of the draws; an int ``s`` reproduces the authors'
        ``generate_data(..., seed=s)``. See :data:`PAPER_SEEDS`.

    Returns
    -------
    data : CorrelationShiftData
        Named tuple ``(X_train, y_train, X_test, y_test)``: frames with columns
        ``x0, ..., x{D-1}`` and series named ``"y"``, each indexed from 0. Binned
        columns hold int64 bin indices; raw ones hold float64 values.

    References
    ----------
    K. C. Wibisono and Y. Wang, "Bidirectional Attention as a Mixture of
    Continuous Word Experts", UAI 2023.

    Examples
    --------
    >>> from moe_tabular.ood import make_correlation_shift
    >>> X_train, y_train, X_test, y_test = make_correlation_shift(
    ...     n_train=500, n_test=500, random_state=0)
    >>> X_train.shape, X_test.shape
    ((500, 5), (500, 5))
    >>> list(X_train.columns), y_train.name
    (['x0', 'x1', 'x2', 'x3', 'x4'], 'y')
    >>> int(y_train.min()), int(y_train.max())
    (0, 9)
    >>> raw = make_correlation_shift(n_train=500, n_test=500, binned=False,
    ...                              random_state=0)
    >>> round(float(raw.X_train["x3"].corr(raw.X_train["x4"])), 1)
    0.9
    >>> round(float(raw.X_test["x3"].corr(raw.X_test["x4"])), 1)
    0.1
    """
    if n_core_features > n_features:
        raise ValueError(
            f"n_core_features={n_core_features} exceeds n_features={n_features}; "
            "the outcome can only depend on existing covariates."
        )
    rng = check_random_state(random_state)
    n, d = n_train, n_features

    mean = np.zeros(d)
    train_cov = np.ones((d, d)) * corr + np.eye(d) * (1 - corr)
    test_cov = np.ones((d, d)) * (1 - corr) + np.eye(d) * corr if shift else train_cov
    signs = np.concatenate([-np.ones(d // 2), np.ones(d - d // 2)])

    # Draw order below is the authors' (each line draws from the same stream).
    train_x_true = rng.multivariate_normal(mean, train_cov, size=n_train) * signs
    test_x_true = rng.multivariate_normal(mean, test_cov, size=n_test) * signs
    scale = np.r_[np.full(n_core_features, 0.4), np.full(d - n_core_features, 0.3)]
    noise_scale = scale * x_noise
    train_x = train_x_true + noise_scale * rng.normal(size=(n_train, d))
    test_x = test_x_true + noise_scale * rng.normal(size=(n_test, d))
    coef = rng.uniform(size=n_core_features) * 10
    core = np.arange(n_core_features)  # a copy, not a view: same BLAS sums as theirs
    train_y = train_x_true[:, core].dot(coef) + y_noise * rng.normal(size=n_train)
    test_y = test_x_true[:, core].dot(coef) + y_noise * rng.normal(size=n_test)

    columns = [f"x{j}" for j in range(d)]
    data = pd.DataFrame(np.vstack([train_x, test_x]), columns=columns)
    data["y"] = np.concatenate([train_y, test_y])
    if binned:
        data = data.apply(lambda col: pd.qcut(col, n_bins, labels=False))
        data = data.astype(np.int64)
    train = data.iloc[:n].reset_index(drop=True)
    test = data.iloc[n:].reset_index(drop=True)
    return CorrelationShiftData(train[columns], train["y"], test[columns], test["y"])
