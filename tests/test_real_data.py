"""Real data: a9a (../shared/data) and the copy shipped in the package.

Oracle: scikit-learn's SGDClassifier with the same settings on the same data.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score

from fastsgd import LogisticRegression
from fastsgd.io import load_a9a


@pytest.fixture(scope="module")
def a9a(shared_data):
    X, y = load_svmlight_file(str(shared_data / "a9a"), n_features=123)
    X_test, y_test = load_svmlight_file(str(shared_data / "a9a.t"), n_features=123)
    return X.toarray(), (y > 0).astype(int), X_test.toarray(), (y_test > 0).astype(int)


def test_shipped_copy_is_the_shared_data(a9a):
    X, y, X_test, y_test = a9a
    shipped_X, shipped_y = load_a9a("train")
    np.testing.assert_array_equal(shipped_X, X)
    np.testing.assert_array_equal(shipped_y, y)
    shipped_X, shipped_y = load_a9a("test")
    np.testing.assert_array_equal(shipped_X, X_test)
    np.testing.assert_array_equal(shipped_y, y_test)


@pytest.mark.slow
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("eta0", [0.001, 0.01])
def test_a9a_accuracy_at_least_sgdclassifier(a9a, shuffle, eta0):
    X, y, X_test, y_test = a9a
    settings = dict(eta0=eta0, max_iter=10, tol=None, shuffle=shuffle, random_state=0)
    ours = LogisticRegression(**settings).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SGDClassifier(
            loss="log_loss", penalty=None, learning_rate="constant", **settings
        ).fit(X, y)
    ours_acc = accuracy_score(y_test, ours.predict(X_test))
    theirs_acc = accuracy_score(y_test, theirs.predict(X_test))
    print(f"a9a.t accuracy: fastsgd {ours_acc:.4f}, SGDClassifier {theirs_acc:.4f}")
    assert ours_acc >= 0.84
    if shuffle:
        # different shuffling streams: the same algorithm, so the same accuracy up to noise
        assert ours_acc >= theirs_acc - 0.005
    else:
        assert ours_acc >= theirs_acc
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
