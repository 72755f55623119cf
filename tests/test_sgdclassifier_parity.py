"""LogisticRegression against scikit-learn's SGDClassifier(loss='log_loss'), option by option.

The reference is SGDClassifier itself (sklearn/linear_model/_sgd_fast.pyx.tp, ``_plain_sgd``),
whose per-sample step with y in {0, 1} is

    p = w . x + b;  eta = schedule(t)
    update = -eta * (s(p) - y) * class_weight[y] * sample_weight
    w *= max(0, 1 - (1 - l1_ratio) * eta * alpha)          (l2, elasticnet)
    w += update * x;  b += update
    averaged SGD from sample ``average`` on;  cumulative L1 truncation (l1, elasticnet)

With shuffle=False both visit the samples in the same order, so every weight must agree to
rounding (asserted at 1e-8 relative, float64).
"""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model._base as sklearn_linear_base
import sklearn.linear_model._stochastic_gradient as sklearn_sgd_module
from sklearn.linear_model import SGDClassifier

from fastsgd import LogisticRegression

PENALTIES = [None, "l2", "l1", "elasticnet"]
SCHEDULES = ["constant", "optimal", "invscaling", "adaptive"]
AVERAGES = [False, True, 40]
RTOL = 1e-8


def make_data(seed=0, n=240, k=12, n_classes=2, density=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    X[rng.random((n, k)) > density] = 0.0
    y = rng.integers(0, n_classes, n)
    X[:, :3] += 1.5 * y[:, None] / max(n_classes - 1, 1)  # informative, not separable
    return X, y


def settings(**overrides):
    base = dict(
        penalty=None, learning_rate="constant", alpha=1e-3, l1_ratio=0.3, eta0=0.05, power_t=0.4,
        shuffle=False, fit_intercept=True,
        max_iter=4, tol=None,
    )  # fmt: skip
    base.update(overrides)
    return base


def assert_same_model(ours, theirs, rtol=RTOL):
    scale = max(np.abs(theirs.coef_).max(), 1e-12)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=rtol * scale)
    bias_scale = max(np.abs(theirs.intercept_).max(), scale)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=rtol * bias_scale)


@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("learning_rate", SCHEDULES)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_every_combination_matches_sgdclassifier(penalty, learning_rate, average, n_classes):
    X, y = make_data(n_classes=n_classes)
    kwargs = settings(penalty=penalty, learning_rate=learning_rate, average=average)
    ours = LogisticRegression(**kwargs).fit(X, y)
    theirs = SGDClassifier(loss="log_loss", **kwargs).fit(X, y)
    assert_same_model(ours, theirs)
    assert ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-7)


def sklearn_stops_on_objective():
    """Whether the installed SGDClassifier stops on the objective (loss plus penalty), as
    fastsgd does, or, in older releases (1.6 has it), on the training loss alone."""
    source = Path(sklearn_sgd_module.__file__).with_name("_sgd_fast.pyx.tp")
    return not source.exists() or "objective_sum" in source.read_text()


@pytest.mark.parametrize("learning_rate", SCHEDULES)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_stopping_rule_matches_sgdclassifier(penalty, learning_rate):
    """tol on the training objective (loss plus penalty): the same epoch count and model."""
    if penalty is not None and not sklearn_stops_on_objective():
        pytest.skip("this scikit-learn stops on the training loss without the penalty term")
    X, y = make_data(seed=1, n_classes=3)
    kwargs = settings(penalty=penalty, learning_rate=learning_rate, max_iter=60, tol=1e-3)
    kwargs["n_iter_no_change"] = 2
    ours = LogisticRegression(**kwargs).fit(X, y)
    theirs = SGDClassifier(loss="log_loss", **kwargs).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert_same_model(ours, theirs)


@pytest.fixture
def sklearn_validation_fixed(monkeypatch):
    """SGDClassifier with its early-stopping score fixed.

    For log_loss SGDClassifier encodes each binary model's labels as {0, 1} but scores the
    validation set with classes_ = [-1, 1], so a negative sample is never counted as right:
    its "accuracy" is the share of validation samples that are positive and predicted so.
    fastsgd scores the true accuracy; this fixture gives SGDClassifier the same labels.
    """
    callback = sklearn_sgd_module._ValidationScoreCallback
    original = callback.__init__

    def init(self, estimator, X_val, y_val, sample_weight_val, classes=None):
        original(self, estimator, X_val, np.where(y_val > 0, 1.0, -1.0), sample_weight_val, classes)

    monkeypatch.setattr(callback, "__init__", init)


@pytest.mark.parametrize("learning_rate", ["constant", "adaptive", "optimal"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_early_stopping_matches_sgdclassifier(learning_rate, n_classes, sklearn_validation_fixed):
    X, y = make_data(seed=2, n=400, n_classes=n_classes)
    kwargs = settings(
        learning_rate=learning_rate, early_stopping=True, validation_fraction=0.2,
        n_iter_no_change=2, max_iter=50, tol=1e-3, random_state=3, eta0=0.2,
    )  # fmt: skip
    ours = LogisticRegression(**kwargs).fit(X, y)
    theirs = SGDClassifier(loss="log_loss", **kwargs).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert_same_model(ours, theirs)


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_class_and_sample_weights_match_sgdclassifier(penalty, n_classes):
    X, y = make_data(seed=4, n_classes=n_classes)
    sample_weight = np.random.default_rng(5).uniform(0.0, 3.0, y.size)
    for class_weight in ("balanced", {0: 3.0, 1: 0.5}):
        kwargs = settings(penalty=penalty, class_weight=class_weight, average=True)
        ours = LogisticRegression(**kwargs).fit(X, y, sample_weight=sample_weight)
        theirs = SGDClassifier(loss="log_loss", **kwargs).fit(X, y, sample_weight=sample_weight)
        assert_same_model(ours, theirs)


def test_partial_fit_sequence_matches_sgdclassifier():
    X, y = make_data(seed=6, n_classes=3)
    kwargs = settings(penalty="elasticnet", learning_rate="invscaling")
    ours, theirs = LogisticRegression(**kwargs), SGDClassifier(loss="log_loss", **kwargs)
    weights = np.linspace(0.5, 2.0, y.size)
    for part in np.array_split(np.arange(y.size), 3):
        ours.partial_fit(X[part], y[part], classes=[0, 1, 2], sample_weight=weights[part])
        theirs.partial_fit(X[part], y[part], classes=[0, 1, 2], sample_weight=weights[part])
        assert_same_model(ours, theirs)
        assert ours.t_ == theirs.t_


@pytest.mark.parametrize("n_classes", [2, 3])
def test_averaged_partial_fit_continues_like_one_fit(n_classes):
    """Averaged SGD over three partial_fit epochs equals one three-epoch fit (without L1,
    whose cumulative penalty restarts with each call, as in SGDClassifier).

    SGDClassifier is not the oracle here: once averaging has started, its partial_fit drops
    the plain SGD intercept between calls (_fit_binary keeps only the averaged one, and
    _fit_multiclass writes the plain intercepts into the averaged array).
    """
    X, y = make_data(seed=6, n_classes=n_classes)
    kwargs = settings(penalty="l2", learning_rate="invscaling", average=50)
    stepwise = LogisticRegression(**kwargs)
    for _ in range(3):
        stepwise.partial_fit(X, y, classes=np.arange(n_classes))
    at_once = LogisticRegression(**dict(kwargs, max_iter=3)).fit(X, y)
    assert_same_model(stepwise, at_once, rtol=1e-12)
    assert stepwise.t_ == at_once.t_


# -- sparse input -------------------------------------------------------------------------------


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("learning_rate", SCHEDULES)
@pytest.mark.parametrize("penalty", [None, "l2"])
def test_sparse_equals_dense(penalty, learning_rate, average, index_dtype):
    """Without L1 a sparse row's zeros take no part in the step: sparse == dense to 1e-12,
    and both equal SGDClassifier on the dense copy (fastsgd never damps the intercept)."""
    X, y = make_data(seed=7, n_classes=3, density=0.3)
    X_sparse = sp.csr_matrix(X)
    X_sparse.indices = X_sparse.indices.astype(index_dtype)
    X_sparse.indptr = X_sparse.indptr.astype(index_dtype)
    kwargs = settings(penalty=penalty, learning_rate=learning_rate, average=average)
    dense = LogisticRegression(**kwargs).fit(X, y)
    sparse = LogisticRegression(**kwargs).fit(X_sparse, y)
    assert_same_model(sparse, dense, rtol=1e-12)
    assert_same_model(sparse, SGDClassifier(loss="log_loss", **kwargs).fit(X, y))


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("learning_rate", SCHEDULES)
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_sparse_l1_matches_sgdclassifier_sparse(penalty, learning_rate, average, monkeypatch):
    """L1 truncates only the features a row contains (all of them for a dense row, the stored
    ones for a CSR row), in SGDClassifier as here; so sparse L1 is checked against
    SGDClassifier on the same CSR matrix, with its sparse intercept damping switched off."""
    monkeypatch.setattr(sklearn_linear_base, "SPARSE_INTERCEPT_DECAY", 1.0)
    X, y = make_data(seed=8, n_classes=3, density=0.3)
    X_sparse = sp.csr_matrix(X)
    kwargs = settings(penalty=penalty, learning_rate=learning_rate, average=average)
    ours = LogisticRegression(**kwargs).fit(X_sparse, y)
    theirs = SGDClassifier(loss="log_loss", **kwargs).fit(X_sparse, y)
    assert_same_model(ours, theirs)


def test_sparse_intercept_is_not_damped():
    """SGDClassifier multiplies the intercept step by 0.01 on sparse input; fastsgd does not."""
    X, y = make_data(seed=9)
    kwargs = settings()
    ours = LogisticRegression(**kwargs).fit(sp.csr_matrix(X), y)
    damped = SGDClassifier(loss="log_loss", **kwargs).fit(sp.csr_matrix(X), y)
    undamped = SGDClassifier(loss="log_loss", **kwargs).fit(X, y)
    assert_same_model(ours, undamped)
    assert not np.allclose(ours.intercept_, damped.intercept_, rtol=1e-3)


def test_sparse_int64_indices_and_predict():
    X, y = make_data(seed=10, n=300, k=40, density=0.1)
    X_sparse = sp.csr_array(X)
    X_sparse.indices = X_sparse.indices.astype(np.int64)
    X_sparse.indptr = X_sparse.indptr.astype(np.int64)
    model = LogisticRegression(penalty="l2", learning_rate="optimal", tol=None, max_iter=3)
    model.fit(X_sparse, y)
    np.testing.assert_allclose(model.decision_function(X_sparse), model.decision_function(X))
    assert model.score(X_sparse, y) > 0.6


def test_sparse_does_not_touch_absent_features():
    """The weight of a feature no sample contains stays exactly zero under L2 and averaging."""
    X, y = make_data(seed=11, density=0.4)
    X[:, 5] = 0.0
    model = LogisticRegression(penalty="l2", average=True, tol=None, max_iter=3, shuffle=False)
    model.fit(sp.csr_matrix(X), y)
    assert model.coef_[0, 5] == 0.0


# -- weights, stopping and divergence ------------------------------------------------------------


def test_zero_sample_weight_is_like_removing_the_sample_without_shuffling():
    X, y = make_data(seed=12)
    keep = np.arange(y.size) % 3 != 0
    kwargs = settings(penalty=None)
    weighted = LogisticRegression(**kwargs).fit(X, y, sample_weight=keep.astype(float))
    removed = LogisticRegression(**kwargs).fit(X[keep], y[keep])
    np.testing.assert_allclose(weighted.coef_, removed.coef_, rtol=1e-12)


def test_balanced_class_weight_is_refused_by_partial_fit():
    X, y = make_data()
    with pytest.raises(ValueError, match="balanced"):
        LogisticRegression(class_weight="balanced").partial_fit(X, y, classes=[0, 1])


def test_divergence_keeps_the_previous_model():
    X, y = make_data(seed=13)
    model = LogisticRegression(penalty="l2", tol=None, max_iter=2).fit(X, y)
    before = model.coef_.copy()
    X_bad = X * 1e300
    with pytest.raises(ValueError, match="learning rate"):
        model.partial_fit(X_bad, y)
    np.testing.assert_array_equal(model.coef_, before)
    assert np.isfinite(model.coef_).all()


def test_optimal_needs_positive_alpha():
    X, y = make_data()
    with pytest.raises(ValueError, match="alpha must be > 0"):
        LogisticRegression(learning_rate="optimal", alpha=0.0).fit(X, y)


def test_hogwild_refuses_other_settings():
    X, y = make_data()
    with pytest.raises(ValueError, match="parallel='hogwild' trains only dense input"):
        LogisticRegression(penalty="l2", n_jobs=2, parallel="hogwild").fit(X, y)
