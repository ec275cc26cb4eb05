"""scikit-learn's common estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from moe_tabular import (
    ColumnTokenizer,
    MoECBOWClassifier,
    MoECBOWImputer,
    MoECBOWRegressor,
)

from .conftest import FAST

# Minibatch training draws its batches at random: rows of weight 2 and the same
# rows given twice minimise one objective (tests/test_estimators.py checks that
# the loss, the bins and zero weights are exactly equivalent) but see different
# batches, so the fits differ, as for sklearn's own SGD estimators and MLPs,
# which sklearn lists with this same expected failure.
SAMPLE_WEIGHT_BY_MINIBATCH = {
    "check_sample_weight_equivalence_on_dense_data": (
        "stochastic minibatches: weights equal repeated rows in the objective, "
        "not in the batches drawn"
    ),
}


# At its defaults the regressor underfits sklearn's check table (200 rows, one
# informative column among ten): training R^2 0.06 where the check asks for 0.5.
# The fixes that pass it cost accuracy on real tables, the guard that comes first:
# target_weight="auto" reaches 0.61 there but loses 0.027 test R^2 over six real
# regression tables (p < 0.001, benchmarks/results/regression-target-weight); a
# floor of 2e-3 under learning_rate="auto" reaches 0.78 (held-out 0.67, level
# with HistGB) but loses 0.026 OOD accuracy on Auto MPG (p = 0.013,
# benchmarks/results/ood-auto-mpg-learning-rate-floor-all-rows).
REGRESSOR_UNDERFITS_AT_DEFAULTS = {
    "check_regressors_train": (
        "the default regressor underfits one informative column among ten noise "
        "columns on 200 rows; the settings that pass lose accuracy on real tables"
    ),
}


def _expected_failed_checks(estimator):
    # the imputer's transform of a table with no missing cell is the table, so
    # its check compares equal outputs and passes
    if isinstance(estimator, (MoECBOWClassifier, MoECBOWRegressor)):
        failed = dict(SAMPLE_WEIGHT_BY_MINIBATCH)
        at_defaults = estimator.learning_rate == "auto"
        if isinstance(estimator, MoECBOWRegressor) and at_defaults:
            failed |= REGRESSOR_UNDERFITS_AT_DEFAULTS
        return failed
    return {}


@parametrize_with_checks(
    [
        MoECBOWClassifier(**FAST),
        MoECBOWRegressor(**FAST),
        MoECBOWImputer(**FAST),
        ColumnTokenizer(),
        # the defaults too (only the seed fixed): the model users get
        MoECBOWClassifier(random_state=0),
        MoECBOWRegressor(random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_contract(estimator, check):
    check(estimator)
