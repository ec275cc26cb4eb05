"""scikit-learn's common estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from moe_tabular import (
    ColumnTokenizer,
    MoECBOWClassifier,
    MoECBOWImputer,
    MoECBOWRegressor,
)

from .conftest import FAST


@parametrize_with_checks(
    [
        MoECBOWClassifier(**FAST),
        MoECBOWRegressor(**FAST),
        MoECBOWImputer(**FAST),
        ColumnTokenizer(),
    ]
)
def test_sklearn_contract(estimator, check):
    check(estimator)
