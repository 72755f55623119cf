"""fastsgd.SGDClassifier and fastsgd.SGDRegressor against scikit-learn's classes of the same name.

The reference is scikit-learn itself (sklearn/linear_model/_sgd_fast.pyx.tp, ``_plain_sgd``),
whose per-sample step is, for every loss:

    p = w . x + b;  eta = schedule(t)
    update = -eta * clip(dloss(p, y), 1e12) * class_weight[y] * sample_weight
    w *= max(0, 1 - (1 - l1_ratio) * eta * alpha)          (l2, elasticnet)
    w += update * x;  b += update * intercept_decay        (0.01 on sparse input, else 1)
    averaged SGD from sample ``average`` on;  cumulative L1 truncation (l1, elasticnet)

with y in {-1, +1} for a classifier (log_loss: {0, 1}) and the target for a regressor. With
shuffle=False both visit the samples in the same order, so the models must agree to rounding:
asserted at 1e-8 relative (float64, 3 epochs) for every loss x penalty x schedule x averaging,
dense and CSR.

The 'optimal' schedule (scikit-learn's default) runs with alpha=0.1 here: its first rate is
sqrt(1/sqrt(alpha)), 5.6 at alpha=1e-3, and under that rate the squared losses' weights grow to
1e11 or more in 300 samples, where both libraries' rounding differences (the order of a dot
product's sums) are amplified without bound; at alpha=0.1 every case agrees to ~1e-12. The other
schedules use alpha=1e-3.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model

from fastsgd import SGDClassifier, SGDRegressor
from fastsgd.kernels import CLASSIFICATION_LOSSES, REGRESSION_LOSSES

PENALTIES = [None, "l2", "l1", "elasticnet"]
SCHEDULES = ["constant", "optimal", "invscaling", "adaptive"]
AVERAGES = [False, True, 40]
RTOL = 1e-8


def make_data(seed=0, n=240, k=10):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    X[rng.random((n, k)) > 0.5] = 0.0
    classes = rng.integers(0, 3, n)
    X[:, :3] += classes[:, None]  # informative, not separable
    target = X @ rng.standard_normal(k) + 0.3 * rng.standard_normal(n)
    return X, classes, target


def settings(penalty, learning_rate, average):
    return dict(
        penalty=penalty, learning_rate=learning_rate, average=average, eta0=0.01,
        alpha=0.1 if learning_rate == "optimal" else 1e-3, l1_ratio=0.3, power_t=0.4,
        shuffle=False, max_iter=3, tol=None,
    )  # fmt: skip


def relative_difference(ours, theirs):
    scale = max(np.abs(theirs.coef_).max(), np.abs(theirs.intercept_).max(), 1e-12)
    return (
        max(
            np.abs(ours.coef_ - theirs.coef_).max(),
            np.abs(ours.intercept_ - theirs.intercept_).max(),
        )
        / scale
    )


def compare_all(make_ours, make_theirs, X, y):
    """Fit both under every penalty x schedule x averaging; return the cases beyond RTOL."""
    failures = []
    for penalty in PENALTIES:
        for learning_rate in SCHEDULES:
            for average in AVERAGES:
                kwargs = settings(penalty, learning_rate, average)
                ours = make_ours(**kwargs).fit(X, y)
                theirs = make_theirs(**kwargs).fit(X, y)
                difference = relative_difference(ours, theirs)
                if difference > RTOL or ours.t_ != theirs.t_:
                    failures.append((penalty, learning_rate, average, difference))
    return failures


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("loss", CLASSIFICATION_LOSSES + REGRESSION_LOSSES)
def test_classifier_matches_sklearn_for_every_setting(loss, n_classes, sparse):
    X, classes, _ = make_data()
    y = classes if n_classes == 3 else (classes == 1).astype(int)
    X = sp.csr_matrix(X) if sparse else X
    failures = compare_all(
        lambda **kw: SGDClassifier(loss=loss, **kw),
        lambda **kw: linear_model.SGDClassifier(loss=loss, **kw),
        X, y,
    )  # fmt: skip
    assert failures == []


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_regressor_matches_sklearn_for_every_setting(loss, sparse):
    X, _, target = make_data()
    X = sp.csr_matrix(X) if sparse else X
    failures = compare_all(
        lambda **kw: SGDRegressor(loss=loss, epsilon=0.2, **kw),
        lambda **kw: linear_model.SGDRegressor(loss=loss, epsilon=0.2, **kw),
        X, target,
    )  # fmt: skip
    assert failures == []


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba_matches_sklearn(loss, n_classes):
    X, classes, _ = make_data()
    y = classes if n_classes == 3 else (classes == 1).astype(int)
    kwargs = dict(loss=loss, alpha=0.1, shuffle=False, max_iter=5, tol=None, random_state=0)
    ours = SGDClassifier(**kwargs).fit(X, y)
    theirs = linear_model.SGDClassifier(**kwargs).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "perceptron", "huber"])
def test_no_predict_proba_for_other_losses(loss):
    X, classes, _ = make_data()
    model = SGDClassifier(loss=loss, max_iter=2, tol=None).fit(X, classes)
    assert not hasattr(model, "predict_proba")
    assert not hasattr(model, "predict_log_proba")


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("loss", CLASSIFICATION_LOSSES)
def test_sample_and_class_weights_match_sklearn(loss, sparse):
    X, classes, _ = make_data()
    weights = np.random.default_rng(1).uniform(0.2, 2.0, classes.size)
    X = sp.csr_matrix(X) if sparse else X
    kwargs = dict(
        loss=loss, alpha=0.1, class_weight={0: 0.5, 1: 2.0, 2: 1.5}, shuffle=False, max_iter=3,
        tol=None, average=20,
    )  # fmt: skip
    ours = SGDClassifier(**kwargs).fit(X, classes, sample_weight=weights)
    theirs = linear_model.SGDClassifier(**kwargs).fit(X, classes, sample_weight=weights)
    assert relative_difference(ours, theirs) < RTOL


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_stopping_rule_and_early_stopping_match_sklearn(estimator):
    X, classes, target = make_data(n=400)
    if estimator == "classifier":
        # binary: scikit-learn draws one validation split per one-vs-rest problem, stratified
        # by its own +1/-1 targets; fastsgd draws one, stratified by the classes, for all of
        # them (one pass over the data trains every model), so only two classes compare here
        y = (classes == 1).astype(int)
        ours_class, theirs_class = SGDClassifier, linear_model.SGDClassifier
    else:
        ours_class, theirs_class, y = SGDRegressor, linear_model.SGDRegressor, target
    for early_stopping in (False, True):
        kwargs = dict(
            alpha=0.1, shuffle=False, max_iter=200, tol=1e-3, early_stopping=early_stopping,
            random_state=0, n_iter_no_change=3,
        )  # fmt: skip
        ours = ours_class(**kwargs).fit(X, y)
        theirs = theirs_class(**kwargs).fit(X, y)
        assert ours.n_iter_ == theirs.n_iter_
        assert ours.t_ == theirs.t_
        assert relative_difference(ours, theirs) < RTOL


@pytest.mark.parametrize("average", [False, 10])
def test_warm_start_and_partial_fit_match_sklearn(average):
    X, classes, target = make_data()
    for ours, theirs, y in (
        (SGDClassifier, linear_model.SGDClassifier, classes),
        (SGDRegressor, linear_model.SGDRegressor, target),
    ):
        kwargs = dict(
            alpha=0.1, shuffle=False, max_iter=2, tol=None, warm_start=True, average=average
        )
        a, b = ours(**kwargs).fit(X, y), theirs(**kwargs).fit(X, y)
        # warm start: t_ restarts; the classifier starts from coef_ (the averaged weights, if
        # exposed) with a new average, the regressor from its plain weights and running average
        a.fit(X[:100], y[:100])
        b.fit(X[:100], y[:100])
        assert a.t_ == b.t_
        assert relative_difference(a, b) < RTOL
        extra = {"classes": np.unique(y)} if ours is SGDClassifier else {}
        continued = ours(**kwargs).set_params(max_iter=3, warm_start=False).fit(X, y)
        ours(**kwargs).fit(X, y).partial_fit(X, y, **extra)
        a = ours(**kwargs).fit(X, y).partial_fit(X, y, **extra)
        # partial_fit goes on from the plain weights and the running average: exactly one more
        # epoch of the same fit
        assert a.t_ == continued.t_
        np.testing.assert_allclose(a.coef_, continued.coef_, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.intercept_, continued.intercept_, rtol=0, atol=1e-12)
        if not average:
            # scikit-learn agrees; with averaging it does not, on purpose: once the average is
            # exposed it keeps the plain intercept at its initial value (_standard_intercept is
            # set only while the plain weights are exposed), so its partial_fit restarts the
            # plain intercept from 0
            b = theirs(**kwargs).fit(X, y).partial_fit(X, y, **extra)
            assert relative_difference(a, b) < RTOL


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_shuffled_fits_match_sklearn(estimator, early_stopping, sparse):
    """shuffle=True (the default) with an int random_state: fastsgd draws scikit-learn's seed
    and shuffles with its xorshift Fisher-Yates, so binary and regression fits visit the
    samples in scikit-learn's order, epoch after epoch, held-out rows skipped."""
    X, classes, target = make_data(n=300)
    X = sp.csr_matrix(X) if sparse else X
    if estimator == "classifier":
        ours_class, theirs_class, y = SGDClassifier, linear_model.SGDClassifier, classes == 1
    else:
        ours_class, theirs_class, y = SGDRegressor, linear_model.SGDRegressor, target
    for random_state in (0, 7):
        kwargs = dict(
            alpha=0.1, max_iter=6, tol=None, early_stopping=early_stopping,
            random_state=random_state, average=50,
        )  # fmt: skip
        ours = ours_class(**kwargs).fit(X, y)
        theirs = theirs_class(**kwargs).fit(X, y)
        assert relative_difference(ours, theirs) < RTOL
        assert ours.t_ == theirs.t_
