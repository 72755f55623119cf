"""Numerical extremes: huge features and rates, and float32 over 1e7 samples.

References:
- for huge inputs, the contract itself: a fit either ends with finite weights (and predict_proba
  rows in [0, 1] that sum to 1) or raises the divergence ValueError, and a failed partial_fit
  leaves the previous model exactly as it was;
- for float32, the same fit in float64: over 1e7 samples the float32 loss stays within a stated
  tolerance of the float64 one (the kernels keep the loss and the schedule's scalars in float64,
  the weights in the data's dtype).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from fastsgd import LogisticRegression, SGDClassifier, SGDRegressor, TwoLayerNet
from fastsgd.io import load_a9a

DIVERGED = "diverged|non-finite"


def make_data(n=300, k=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    y = (X @ rng.standard_normal(k) + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    return X, y


MODELS = {
    "logistic": lambda eta0: LogisticRegression(eta0=eta0),
    "logistic-l2-optimal-averaged": lambda eta0: LogisticRegression(
        penalty="l2", learning_rate="optimal", alpha=1e-4, average=True
    ),
    "logistic-elasticnet-invscaling": lambda eta0: LogisticRegression(
        penalty="elasticnet", learning_rate="invscaling", eta0=eta0
    ),
    "logistic-sparse": lambda eta0: LogisticRegression(eta0=eta0, penalty="l2"),
    "net-relu": lambda eta0: TwoLayerNet(n_hidden=4, eta0=eta0),
    "net-tanh-squared-batched": lambda eta0: TwoLayerNet(
        n_hidden=4, eta0=eta0, activation="tanh", loss="squared_error", batch_size=8
    ),
}


def fitted_arrays(model):
    arrays = []
    for name in ("coef_", "intercept_", "coefs_", "intercepts_"):
        value = getattr(model, name, None)
        if value is not None:
            arrays.extend(np.atleast_1d(a) for a in (value if isinstance(value, list) else [value]))
    return arrays


def check_outcome(model, fit):
    """Run fit(); it must either succeed with a finite model or raise the divergence error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
            fit()
    except ValueError as error:
        assert "diverged" in str(error) or "non-finite" in str(error), error
        return False
    for array in fitted_arrays(model):
        assert np.isfinite(array).all()
    return True


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("scale", [1.0, 1e10, 1e50, 1e150])
@pytest.mark.parametrize("eta0", [1e-3, 1.0, 1e3])
def test_huge_features_and_rates_converge_or_raise(kind, scale, eta0):
    X, y = make_data()
    X = X * scale
    if kind == "logistic-sparse":
        X = sp.csr_matrix(np.where(np.abs(X) > scale, X, 0.0))
    model = MODELS[kind](eta0).set_params(max_iter=5, tol=None, random_state=0)
    if check_outcome(model, lambda: model.fit(X, y)):
        proba = model.predict_proba(X)
        assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    else:
        assert not hasattr(model, "classes_")  # a failed first fit leaves it unfitted

    # a partial_fit on the extreme data either succeeds finitely or leaves the model as it was
    good = MODELS[kind](1e-2).set_params(max_iter=3, tol=None, random_state=0)
    X_good, y_good = make_data(seed=1)
    if kind == "logistic-sparse":
        X_good = sp.csr_matrix(X_good)
    good.fit(X_good, y_good)
    before = [a.copy() for a in fitted_arrays(good)]
    t_before, n_iter_before = good.t_, good.n_iter_
    good.set_params(eta0=eta0)
    if not check_outcome(good, lambda: good.partial_fit(X, y)):
        assert (good.t_, good.n_iter_) == (t_before, n_iter_before)
        for a, b in zip(fitted_arrays(good), before, strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_grid_reaches_both_outcomes():
    """The grid above is not vacuous: some of its cases diverge, others end finite.

    The logistic models stay finite even at 1e150 with eta0=1e3 (the residual is bounded, so
    the weights grow by at most eta0 * |x| per sample and the margins stay below 1.8e308);
    relu units have no such bound."""
    X, y = make_data()
    with pytest.raises(ValueError, match=DIVERGED):
        TwoLayerNet(n_hidden=4, eta0=1.0, max_iter=5, tol=None, random_state=0).fit(X * 1e50, y)
    sparse = sp.csr_matrix(np.where(np.abs(X) > 1.0, X * 1e150, 0.0))
    with pytest.raises(ValueError, match=DIVERGED):
        LogisticRegression(eta0=1e3, penalty="l2", max_iter=5, tol=None).fit(sparse, y)
    model = LogisticRegression(eta0=1e3, max_iter=5, tol=None).fit(X * 1e150, y)
    assert np.isfinite(model.coef_).all() and np.abs(model.coef_).max() > 1e150


# (model, samples per epoch, epochs, weight tolerance relative to the largest weight or None).
# Measured gaps at 1e7 samples: 1.8e-5 of the largest weight for the plain weights, 2.4e-5 for
# the averaged ones (the lazy average follows the float32 weights' own rounding).
FLOAT32_CASES = {
    "logistic": (lambda: LogisticRegression(eta0=1e-3), 10_000_000, 1, 1e-4),
    # averaged SGD sums over every sample: the case where float32 accumulation would show
    "logistic-l2-averaged": (
        lambda: LogisticRegression(penalty="l2", learning_rate="optimal", alpha=1e-4, average=True),
        10_000_000,
        1,
        1e-4,
    ),
    # the net's float32 and float64 trajectories part (non-convex, 1e6 roundings of every
    # weight), so only its loss is compared; 2e6 samples keep the test short
    "net": (lambda: TwoLayerNet(n_hidden=4, eta0=1e-3), 1_000_000, 2, None),
}
# The loss tolerance, relative: measured gaps were 2e-9 (logistic), 4e-5 (averaged) and 4e-6
# (net); see the closing note of issue 7.
LOSS_RTOL = 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(FLOAT32_CASES))
def test_float32_stays_close_to_float64_over_many_samples(kind):
    make_model, n, epochs, weight_rtol = FLOAT32_CASES[kind]
    rng = np.random.default_rng(0)
    X32 = rng.standard_normal((n, 4), dtype=np.float32)
    y = (X32 @ np.array([1.0, -2.0, 0.5, 0.0], np.float32) + rng.standard_normal(n, np.float32)
         > 0).astype(np.int8)  # fmt: skip
    fits = {}
    for dtype in (np.float32, np.float64):
        model = make_model().set_params(max_iter=epochs, tol=None, shuffle=False, random_state=0)
        fits[dtype] = model.fit(X32.astype(dtype, copy=False), y)
    np.testing.assert_allclose(
        fits[np.float32].loss_curve_, fits[np.float64].loss_curve_, rtol=LOSS_RTOL
    )
    arrays32, arrays64 = fitted_arrays(fits[np.float32]), fitted_arrays(fits[np.float64])
    assert all(a.dtype == np.float32 for a in arrays32)
    if weight_rtol is not None:  # relative to the model's largest weight
        scale = max(np.abs(b).max() for b in arrays64)
        for a, b in zip(arrays32, arrays64, strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=weight_rtol * scale)


# -- a fit that explodes but stays finite warns --------------------------------------------------
# The reference is the untrained model: its mean loss is at most 1 for a classifier's losses
# (targets +1 / -1 at margin 0), and a fit whose epochs end far above it, or whose net predicts
# one class for every training row, has diverged even though every weight is finite.

EXPLODED = "training looks diverged"


def warnings_of(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


def unscaled_data(n=2000, k=20, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)) * rng.uniform(1, 50, k)  # unscaled features
    y = (X[:, 0] + X[:, 1] + 10 * rng.standard_normal(n) > 0).astype(np.int64)
    return X, y


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: LogisticRegression(eta0=1e4, max_iter=3, tol=None), "eta0=10000.0"),
        (
            lambda: SGDClassifier(
                loss="hinge",
                eta0=1e3,
                learning_rate="constant",
                max_iter=3,
                tol=None,
                random_state=0,
            ),
            "eta0=1000.0",
        ),
        (lambda: TwoLayerNet(eta0=1e3, max_iter=2, tol=None, random_state=0), "eta0=1000.0"),
    ],
    ids=["logistic", "sgd-hinge", "net"],
)
def test_an_exploding_fit_warns_and_names_eta0(make, named):
    X, y = unscaled_data()
    if isinstance(make(), TwoLayerNet):
        # binary features (the case): on unscaled or Gaussian ones the net's weights
        # overflow instead, which the divergence error reports
        X, y = load_a9a("train")
        X, y = X[:3000], y[:3000]
    messages = [m for m in warnings_of(lambda: make().fit(X, y)) if EXPLODED in m]
    assert len(messages) == 1, messages
    assert named in messages[0] and "try a smaller one" in messages[0]


def test_an_exploding_regression_warns():
    X, _ = unscaled_data()
    y = X[:, 0] * 0.1
    messages = warnings_of(
        lambda: SGDRegressor(eta0=0.05, learning_rate="constant", max_iter=3, tol=None).fit(X, y)
    )
    assert any(EXPLODED in m and "eta0=0.05" in m for m in messages), messages


def test_a_net_that_predicts_one_class_warns():
    # every hidden relu starts (and stays) dead: the output is one constant, the loss stays
    # near log 2, and only the predictions show that nothing was learned
    X, y = make_data(n=400)
    dead = [np.full(6, -1e3), np.zeros(1)]
    net = TwoLayerNet(n_hidden=6, max_iter=3, tol=None, random_state=0)
    messages = warnings_of(lambda: net.fit(X, y, intercepts_init=dead))
    assert any("predicts" in m and "for every training sample" in m for m in messages), messages


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogisticRegression(max_iter=5, tol=None),
        lambda: SGDClassifier(max_iter=5, tol=None, random_state=0),
        lambda: SGDRegressor(max_iter=5, tol=None, random_state=0),
        lambda: TwoLayerNet(max_iter=5, tol=None, random_state=0),
    ],
    ids=["logistic", "sgd", "sgd-regressor", "net"],
)
def test_a_sound_fit_does_not_warn(make):
    X, y = make_data(n=2000)
    if isinstance(make(), SGDRegressor):
        y = X @ np.arange(1.0, 6.0)
    assert not [m for m in warnings_of(lambda: make().fit(X, y)) if EXPLODED in m]
