"""fastsgd.SGDClassifier and fastsgd.SGDRegressor against scikit-learn's estimator contract.

The reference is scikit-learn's own estimator suite (``parametrize_with_checks``), with the
failures scikit-learn expects of its SGDClassifier and SGDRegressor, for the same reason
(sklearn/utils/_test_common/instance_generator.py): a sample weight w scales one step by w,
which is not w copies of the sample taking w steps in a row, and the shuffled order differs
between the two data sets. Agreement with scikit-learn's models is tests/test_sgd_parity.py;
scikit-learn's own SGD test file is tests/test_sklearn_referee.py.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastsgd import SGDClassifier, SGDRegressor

SGD_REASON = "sample_weight is not equivalent to removing/repeating samples."
EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_sample_weight_equivalence_on_dense_data": SGD_REASON,
    "check_sample_weight_equivalence_on_sparse_data": SGD_REASON,
}


@parametrize_with_checks(
    [SGDClassifier(), SGDRegressor()], expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
