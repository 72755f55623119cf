"""fastsgd.LogisticRegression as a scikit-learn estimator.

Its oracle is scikit-learn's own SGDClassifier(loss='log_loss', penalty=None,
learning_rate='constant'), which computes the same per-sample update:

    p = w @ x + b;  dloss = -y / (exp(y p) + 1) with y in {-1, +1}
    w -= eta dloss x;  b -= eta dloss
"""

import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy.special import log_expit
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastsgd import LogisticRegression


def sklearn_sgd(**kwargs):
    return SGDClassifier(loss="log_loss", penalty=None, learning_rate="constant", **kwargs)


def make_data(seed=0, n=300, k=6, n_classes=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    centers = rng.standard_normal((n_classes, k)) * 1.5
    y = rng.integers(0, n_classes, n)
    return X + centers[y], y


# The whole scikit-learn estimator suite, with SGDClassifier's own expected failures and for
# the same reason (sklearn/utils/_test_common/instance_generator.py): per-sample SGD with a
# weight w scales one step by w, which is not the same as w copies of the sample taking w
# steps in a row, and the shuffled order differs between the two data sets.
SGD_REASON = "sample_weight is not equivalent to removing/repeating samples."
EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_sample_weight_equivalence_on_dense_data": SGD_REASON,
    "check_sample_weight_equivalence_on_sparse_data": SGD_REASON,
}


@parametrize_with_checks(
    [LogisticRegression()], expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# -- agreement with SGDClassifier -----------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("eta0", [0.001, 0.1])
def test_matches_sgdclassifier(fit_intercept, n_classes, eta0):
    X, y = make_data(n_classes=n_classes)
    kwargs = dict(eta0=eta0, max_iter=7, tol=None, shuffle=False, fit_intercept=fit_intercept)
    ours = LogisticRegression(**kwargs).fit(X, y)
    theirs = sklearn_sgd(**kwargs).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        ours.decision_function(X), theirs.decision_function(X), rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    assert ours.t_ == theirs.t_
    assert ours.n_iter_ == theirs.n_iter_


@pytest.mark.parametrize("intercept", [0.0, 3.0])
def test_fixed_intercept_matches_sgdclassifier(intercept):
    """fit_intercept=False keeps a given intercept in the margin without updating it."""
    X, y = make_data(n_classes=2)
    kwargs = dict(eta0=0.1, max_iter=3, tol=None, shuffle=False, fit_intercept=False)
    ours = LogisticRegression(**kwargs).fit(X, y, intercept_init=[intercept])
    theirs = sklearn_sgd(**kwargs).fit(X, y, intercept_init=[intercept])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ours.intercept_, [intercept])
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=1e-10)


def test_multiclass_stopping_is_per_class_like_sgdclassifier():
    X, y = make_data(seed=5, n_classes=3)
    kwargs = dict(eta0=0.05, max_iter=200, tol=1e-3, n_iter_no_change=3, shuffle=False)
    ours = LogisticRegression(**kwargs).fit(X, y)
    theirs = sklearn_sgd(**kwargs).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 200
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-10, atol=1e-12)


def test_stopping_rule_matches_sgdclassifier():
    X, y = make_data(seed=3)
    kwargs = dict(eta0=0.05, max_iter=200, tol=1e-3, n_iter_no_change=3, shuffle=False)
    ours = LogisticRegression(**kwargs).fit(X, y)
    theirs = sklearn_sgd(**kwargs).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 200
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10)


def test_max_iter_reached_warns():
    X, y = make_data()
    with pytest.warns(ConvergenceWarning):
        LogisticRegression(max_iter=2, tol=1e-12, n_iter_no_change=5).fit(X, y)


def test_partial_fit_is_one_epoch_like_sgdclassifier():
    X, y = make_data(n_classes=3)
    ours = LogisticRegression(eta0=0.05, shuffle=False)
    theirs = sklearn_sgd(eta0=0.05, shuffle=False)
    for lo in range(0, 300, 100):
        ours.partial_fit(X[lo : lo + 100], y[lo : lo + 100], classes=[0, 1, 2])
        theirs.partial_fit(X[lo : lo + 100], y[lo : lo + 100], classes=[0, 1, 2])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10)
    assert ours.t_ == theirs.t_
    assert len(ours.loss_curve_) == 3


# -- scikit-learn conventions ----------------------------------------------------------------


def test_string_labels_and_shapes():
    X, y = make_data(n_classes=3)
    labels = np.array(["cat", "dog", "eel"])[y]
    model = LogisticRegression(random_state=0).fit(X, labels)
    assert model.coef_.shape == (3, 6) and model.intercept_.shape == (3,)
    assert set(model.predict(X)) <= {"cat", "dog", "eel"}
    assert model.score(X, labels) > 0.8
    binary = LogisticRegression(random_state=0).fit(X, labels == "dog")
    assert binary.coef_.shape == (1, 6)
    assert binary.decision_function(X).shape == (300,)
    assert binary.predict_proba(X).shape == (300, 2)
    z = binary.decision_function(X)
    np.testing.assert_allclose(
        binary.predict_log_proba(X), np.column_stack([log_expit(-z), log_expit(z)]), atol=1e-12
    )


def test_pipeline_grid_search_clone_and_pickle():
    X, y = make_data()
    pipe = make_pipeline(StandardScaler(), LogisticRegression(random_state=0))
    search = GridSearchCV(pipe, {"logisticregression__eta0": [0.001, 0.01, 0.1]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.85
    best = search.best_estimator_
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict_proba(X), best.predict_proba(X))
    fresh = clone(best[-1])
    assert not hasattr(fresh, "coef_")
    assert fresh.get_params() == best[-1].get_params()


def test_shuffle_is_seeded():
    X, y = make_data()
    a = LogisticRegression(random_state=7, max_iter=3, tol=None).fit(X, y)
    b = LogisticRegression(random_state=7, max_iter=3, tol=None).fit(X, y)
    c = LogisticRegression(random_state=8, max_iter=3, tol=None).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_warm_start_continues_and_init_is_used():
    X, y = make_data()
    kwargs = dict(shuffle=False, tol=None, eta0=0.05)
    two = LogisticRegression(max_iter=2, **kwargs).fit(X, y)
    one = LogisticRegression(max_iter=1, warm_start=True, **kwargs).fit(X, y)
    one.fit(X, y)
    np.testing.assert_allclose(one.coef_, two.coef_, rtol=1e-14)
    # as scikit-learn: a warm-started fit starts from coef_ with t_ counted from 1 again, and
    # loss_curve_ is the new fit's
    assert one.t_ == two.t_ - X.shape[0]
    assert len(one.loss_curve_) == 1
    init = LogisticRegression(max_iter=1, **kwargs).fit(
        X, y, coef_init=two.coef_, intercept_init=two.intercept_
    )
    three = LogisticRegression(max_iter=3, **kwargs).fit(X, y)
    np.testing.assert_allclose(init.coef_, three.coef_, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_keep_the_dtype_of_X(dtype):
    X, y = make_data()
    model = LogisticRegression(random_state=0, max_iter=5, tol=None).fit(X.astype(dtype), y)
    assert model.coef_.dtype == dtype and model.intercept_.dtype == dtype
    assert model.score(X.astype(dtype), y) > 0.85


def test_float32_matches_float64():
    X, y = make_data()
    kwargs = dict(shuffle=False, tol=None, max_iter=5)
    f32 = LogisticRegression(**kwargs).fit(X.astype(np.float32), y)
    f64 = LogisticRegression(**kwargs).fit(X, y)
    np.testing.assert_allclose(f32.coef_, f64.coef_, rtol=1e-4, atol=1e-5)


def test_verbose_shows_a_progress_bar_with_the_loss(capsys):
    X, y = make_data()
    LogisticRegression(verbose=1, max_iter=3, tol=None, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "LogisticRegression" in err and "loss=" in err and "epoch=3" in err


# -- bad input, mutation, divergence ---------------------------------------------------------


def test_unfitted_model_raises():
    with pytest.raises(NotFittedError):
        LogisticRegression().predict(np.zeros((2, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_is_reported_without_a_separate_pass(bad):
    X, y = make_data()
    X[17, 2] = bad
    model = LogisticRegression()
    with pytest.raises(ValueError, match="Input X contains"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_non_finite_y_and_continuous_y_are_rejected():
    X, y = make_data()
    with pytest.raises(ValueError, match="y"):
        LogisticRegression().fit(X, np.where(np.arange(300) == 3, np.nan, y))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, np.linspace(0, 1, 300))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, y + 0.5)  # two classes, but not whole numbers


@pytest.mark.parametrize(
    "labels",
    [
        np.array([-100, 100], dtype=np.int8),
        np.array([-30000, 30000], dtype=np.int16),
        np.array([2**63, 2**63 + 7], dtype=np.uint64),
        np.array([False, True]),
        np.array([-5, 7]),
        np.array([-1.0, 1.0]),  # svmlight's labels: the whole-number float path
        np.array([-1.0, 1.0], dtype=np.float32),
        np.array([-1e6, 1e6]),  # whole, but too far apart for bincount: np.unique
    ],
    ids=[
        "int8",
        "int16",
        "uint64-high",
        "bool",
        "negative",
        "float-pm1",
        "float32-pm1",
        "float-far",
    ],
)
def test_integer_label_dtypes(labels):
    X, y = make_data()
    model = LogisticRegression(random_state=0, max_iter=5, tol=None).fit(X, labels[y])
    np.testing.assert_array_equal(model.classes_, labels)
    assert model.classes_.dtype == labels.dtype
    assert model.score(X, labels[y]) > 0.85


def test_single_class_is_rejected():
    X, _ = make_data()
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(X, np.ones(300))


def test_bad_hyperparameters_are_rejected():
    X, y = make_data()
    for params in (
        {"eta0": 0.0}, {"eta0": -1.0}, {"max_iter": 0}, {"learning_rate": "sometimes"},
        {"penalty": "l3"}, {"alpha": -1.0}, {"l1_ratio": 1.5}, {"average": -2},
        {"class_weight": "unbalanced"}, {"validation_fraction": 1.0},
    ):  # fmt: skip
        with pytest.raises(ValueError, match=next(iter(params))):
            LogisticRegression(**params).fit(X, y)


def test_wrong_init_shape_and_partial_fit_misuse():
    X, y = make_data()
    with pytest.raises(ValueError, match="coef_init has shape"):
        LogisticRegression().fit(X, y, coef_init=np.zeros(5))
    X3, y3 = make_data(n_classes=3)
    with pytest.raises(ValueError, match="coef_init has shape"):
        LogisticRegression().fit(X3, y3, coef_init=0.0)
    with pytest.raises(ValueError, match="intercept_init"):
        LogisticRegression().fit(X, y, intercept_init=np.zeros(2))
    with pytest.raises(ValueError, match="classes must be passed"):
        LogisticRegression().partial_fit(X, y)
    model = LogisticRegression().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X, y + 5)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :3], y)


def test_divergence_raises_and_keeps_the_previous_model():
    X, y = make_data()
    model = LogisticRegression(eta0=0.01, max_iter=2, tol=None, random_state=0).fit(X, y)
    before = model.coef_.copy(), model.intercept_.copy(), list(model.loss_curve_)
    huge = X * 1e306  # finite input whose updates overflow float64
    y = np.where(np.arange(y.size) % 10 == 0, 1 - y, y)  # misclassified samples get big steps
    with pytest.raises(ValueError, match=r"eta0=1000\.0 is likely too large"):
        model.set_params(eta0=1e3, warm_start=True).fit(huge, y)
    np.testing.assert_array_equal(model.coef_, before[0])
    np.testing.assert_array_equal(model.intercept_, before[1])
    assert model.loss_curve_ == before[2]
    with pytest.raises(ValueError, match="diverged"):
        model.partial_fit(huge, y)
    np.testing.assert_array_equal(model.coef_, before[0])
    assert np.isfinite(model.coef_).all()


def test_warm_start_with_other_features_is_refused_and_keeps_the_model():
    X, y = make_data()
    model = LogisticRegression(warm_start=True, max_iter=2, tol=None).fit(X[:, :3], y)
    before = model.coef_.copy()
    with pytest.raises(ValueError, match="warm_start cannot continue"):
        model.fit(X, y)
    assert model.n_features_in_ == 3
    np.testing.assert_array_equal(model.coef_, before)
    model.predict(X[:, :3])


def test_failed_fit_keeps_n_features_in():
    X, y = make_data()
    model = LogisticRegression(max_iter=2, tol=None, random_state=0).fit(X, y)
    noisy = np.where(np.arange(y.size) % 10 == 0, 1 - y, y)
    with pytest.raises(ValueError, match="diverged"):
        model.set_params(eta0=1e3).fit(np.hstack([X, X]) * 1e306, noisy)
    assert model.n_features_in_ == 6
    model.predict(X)


def test_caller_arrays_are_never_written():
    X, y = make_data()
    X_ro, y_ro = X.copy(), y.copy()
    X_ro.flags.writeable = False
    y_ro.flags.writeable = False
    coef_init = np.ones((1, 6))
    model = LogisticRegression(max_iter=3, tol=None).fit(X_ro, y_ro, coef_init=coef_init)
    model.partial_fit(X_ro, y_ro)
    model.predict_proba(X_ro)
    np.testing.assert_array_equal(X_ro, X)
    np.testing.assert_array_equal(y_ro, y)
    np.testing.assert_array_equal(coef_init, np.ones((1, 6)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_c_contiguous_input_is_not_copied(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 50)).astype(dtype)
    y = (X[:, 0] > 0).astype(np.int64)
    model = LogisticRegression(max_iter=1, tol=None, random_state=0)
    model.fit(X[:100], y[:100])  # compile outside the measurement
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < X.nbytes / 10, f"peak {peak} bytes for an X of {X.nbytes} bytes"
