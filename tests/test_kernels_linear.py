"""fastsgd.kernels.linear_sgd_epoch against its plain-NumPy reference.

The reference, fastsgd.reference.sgd_classifier_epoch, runs SGDClassifier's step on the true
weights, one visit at a time, with no scale factor and no lazy average:

    p = w . x + b;  eta = rate(t);  update = eta (y - s(p)) class_weight[y] sample_weight
    w *= max(0, 1 - (1 - l1_ratio) eta alpha);  w[x's features] += update x;  b += update
    average from sample ``average`` on;  L1: cumulative truncation of x's weights;  t += 1

The kernel keeps w as wscale * coef and the average lazily (Bottou's tricks); both must give
the reference's weights to rounding, for dense and CSR rows, float32 and float64.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fastsgd import reference
from fastsgd.kernels import LINEAR_LOSSES, logistic_epoch
from fastsgd.kernels.linear import (
    LEARNING_RATES,
    LinearSGDSettings,
    LinearSGDState,
    linear_sgd_epoch,
    linear_sgd_finish,
    optimal_init,
)


def kernel_settings(
    penalty, learning_rate, alpha, l1_ratio, average, fit_intercept, power_t,
    loss="log_loss", epsilon=0.1, intercept_decay=1.0,
):  # fmt: skip
    l1_ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, l1_ratio)
    return LinearSGDSettings(
        LEARNING_RATES.index(learning_rate), power_t, alpha, optimal_init(alpha),
        (1 - l1_ratio) * alpha if penalty in ("l2", "elasticnet") else 0.0,
        l1_ratio * alpha if penalty in ("l1", "elasticnet") else 0.0,
        average, fit_intercept, penalty is not None,
        LINEAR_LOSSES.index(loss), epsilon, intercept_decay,
    )  # fmt: skip


def new_state(k, dtype, average, l1, coef=None):
    coef = np.zeros((1, k), dtype) if coef is None else coef.reshape(1, k).astype(dtype)
    return LinearSGDState(
        coef, np.zeros(1, dtype), np.zeros((1, k if average else 0), dtype), np.zeros(1, dtype),
        np.ones(1), np.zeros(1), np.zeros((1, k if l1 else 0), dtype),
        np.array([float((coef * coef).sum())]), np.array([float(np.abs(coef).sum())]),
        np.ones(1), np.zeros(1), np.ones(1),
    )  # fmt: skip


def run_kernel(rows, y, order, options, dtype, epochs=1, coef=None, weights=None):
    k = rows.shape[1] if not isinstance(rows, tuple) else options["n_features"]
    penalty = options["penalty"]
    state = new_state(k, dtype, options["average"], penalty in ("l1", "elasticnet"), coef)
    config = kernel_settings(
        penalty, options["learning_rate"], options["alpha"], options["l1_ratio"],
        options["average"], options["fit_intercept"], options["power_t"],
        options.get("loss", "log_loss"), options.get("epsilon", 0.1),
        options.get("intercept_decay", 1.0),
    )  # fmt: skip
    class_weight = np.array([options["class_weight"]], dtype=np.float64)
    rates = np.full(1, options["eta0"])
    for _ in range(epochs):
        loss, _ = linear_sgd_epoch(
            rows, y, order, weights, rates, np.ones(1, np.int64), class_weight, config, state
        )
    linear_sgd_finish(state)
    return state, loss[0]


def run_reference(rows, y, order, options, k, epochs=1, coef=None, weights=None):
    """Returns (w, intercept, average_coef, average_intercept, loss of the last epoch)."""
    w = np.zeros(k) if coef is None else coef.astype(np.float64).copy()
    carried = dict(intercept=0.0, average_coef=None, average_intercept=0.0, t=1.0,
                   l1_owed=0.0, l1_applied=None)  # fmt: skip
    for _ in range(epochs):
        result = reference.sgd_classifier_epoch(
            rows, y, order, w, sample_weight=weights, **carried,
            **{key: options[key] for key in (
                "learning_rate", "eta0", "power_t", "alpha", "l1_ratio", "penalty",
                "average", "fit_intercept", "class_weight",
            )},
            **{key: options[key] for key in ("loss", "epsilon", "intercept_decay")
               if key in options},
            targets=None if y.dtype.kind in "iu" else y,
        )  # fmt: skip
        carried = {key: result[key] for key in carried}
    return (
        w, result["intercept"], result["average_coef"], result["average_intercept"],
        result["loss"],
    )  # fmt: skip


OPTIONS = dict(
    penalty="l2", learning_rate="optimal", eta0=0.05, power_t=0.5, alpha=1e-3, l1_ratio=0.3,
    average=0, fit_intercept=True, class_weight=(1.0, 1.0),
)  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 30),
    k=st.integers(1, 12),
    density=st.floats(0.1, 1.0),
    sparse=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
    penalty=st.sampled_from([None, "l2", "l1", "elasticnet"]),
    learning_rate=st.sampled_from(LEARNING_RATES),
    average=st.sampled_from([0, 1, 4]),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_kernel_matches_reference(
    n, k, density, sparse, dtype, penalty, learning_rate, average, fit_intercept, weighted, seed
):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    X[rng.random((n, k)) > density] = 0.0
    X = X.astype(dtype)
    y = rng.integers(0, 2, n)
    order = rng.permutation(n)
    weights = rng.uniform(0.0, 2.0, n) if weighted else None
    options = dict(
        OPTIONS, penalty=penalty, learning_rate=learning_rate, average=average,
        fit_intercept=fit_intercept, class_weight=(0.7, 1.6), n_features=k,
    )  # fmt: skip
    matrix = sp.csr_matrix(X)
    rows = (matrix.data, matrix.indices, matrix.indptr) if sparse else X
    state, loss = run_kernel(rows, y, order, options, dtype, epochs=2, weights=weights)
    w, b, w_avg, b_avg, expected_loss = run_reference(
        rows, y, order, options, k, epochs=2, weights=weights
    )
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(state.coef[0], w, **tol)
    np.testing.assert_allclose(state.intercept[0], b, **tol)
    np.testing.assert_allclose(loss, expected_loss, **tol)
    if average and penalty not in ("l1", "elasticnet"):
        np.testing.assert_allclose(state.average_coef[0], w_avg, **tol)
        np.testing.assert_allclose(state.average_intercept[0], b_avg, **tol)
    assert state.coef.dtype == dtype


def test_hand_derived_l2_step():
    """One visit, penalty 'l2', constant rate, w0 = (1, -2), x = (0.5, 1), y = 1, b0 = 0:
    p = 0.5 - 2 = -1.5, s(p) = 0.182425524, update = eta (1 - s(p)) = 0.1 * 0.817574476;
    w1 = (1 - eta alpha) w0 + update x = 0.99 w0 + 0.0817574476 x (eta = 0.1, alpha = 0.1)."""
    options = dict(OPTIONS, penalty="l2", learning_rate="constant", eta0=0.1, alpha=0.1)
    X = np.array([[0.5, 1.0]])
    state, loss = run_kernel(X, np.array([1]), np.array([0]), options, np.float64,
                             coef=np.array([1.0, -2.0]))  # fmt: skip
    update = 0.1 * (1.0 - 1.0 / (1.0 + np.exp(1.5)))
    np.testing.assert_allclose(update, 0.0817574476, rtol=1e-9)
    np.testing.assert_allclose(state.coef[0], [0.99 + update * 0.5, -1.98 + update], rtol=1e-12)
    np.testing.assert_allclose(state.intercept[0], update, rtol=1e-12)
    np.testing.assert_allclose(loss, np.log1p(np.exp(1.5)), rtol=1e-12)


def test_hand_derived_l1_truncation():
    """Penalty 'l1', constant rate 0.1, alpha 1: each visit owes 0.1 more. w0 = (0.05, -0.3),
    x = (1e-9, 1e-9) (a step too small to matter): after one visit the first weight stops at
    0 instead of -0.05 and the second moves to -0.2; after two, -0.1 (the penalty it still
    owes from the first visit is cancelled, not carried across zero)."""
    options = dict(OPTIONS, penalty="l1", learning_rate="constant", eta0=0.1, alpha=1.0,
                   fit_intercept=False)  # fmt: skip
    X = np.array([[1e-9, 1e-9], [1e-9, 1e-9]])
    y = np.array([1, 1])
    state, _ = run_kernel(X, y, np.array([0]), options, np.float64, coef=np.array([0.05, -0.3]))
    np.testing.assert_allclose(state.coef[0], [0.0, -0.2], atol=1e-9)
    state, _ = run_kernel(X, y, np.array([0, 1]), options, np.float64,
                          coef=np.array([0.05, -0.3]))  # fmt: skip
    np.testing.assert_allclose(state.coef[0], [0.0, -0.1], atol=1e-9)


@pytest.mark.parametrize("sparse", [False, True])
def test_plain_settings_give_the_handout_kernel(sparse):
    """No penalty, constant rate, no averaging or weights: linear_sgd_epoch is logistic_epoch,
    the handout's update (section 39.1 d)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 7))
    X[rng.random(X.shape) < 0.4] = 0.0
    y = rng.integers(0, 2, 50)
    order = rng.permutation(50)
    options = dict(OPTIONS, penalty=None, learning_rate="constant", fit_intercept=False,
                   n_features=7)  # fmt: skip
    matrix = sp.csr_matrix(X)
    rows = (matrix.data, matrix.indices, matrix.indptr) if sparse else X
    state, loss = run_kernel(rows, y, order, options, np.float64)
    coef, intercept = np.zeros((1, 7)), np.zeros(1)
    handout_loss = logistic_epoch(X, y, order, coef, intercept, np.full(1, 0.05),
                                  np.ones(1, np.int64), False)  # fmt: skip
    np.testing.assert_allclose(state.coef, coef, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss, handout_loss[0], rtol=1e-12)


def test_wscale_is_folded_when_it_underflows():
    """eta * alpha = 0.5 halves wscale each visit: after 30 visits it passes 1e-9 and is folded
    into coef; the weights stay finite and equal the reference (to 1e-7: each step divides
    by a wscale near 1e-9 and multiplies back, which costs a few digits)."""
    options = dict(OPTIONS, penalty="l2", learning_rate="constant", eta0=0.5, alpha=1.0,
                   average=1, n_features=3)  # fmt: skip
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    y = rng.integers(0, 2, 60)
    order = np.arange(60)
    state, _ = run_kernel(X, y, order, options, np.float64)
    w, _, w_avg, _, _ = run_reference(X, y, order, options, 3)
    np.testing.assert_allclose(state.coef[0], w, rtol=1e-7, atol=1e-15)
    np.testing.assert_allclose(state.average_coef[0], w_avg, rtol=1e-7, atol=1e-15)
    assert state.wscale[0] == 1.0


def test_read_only_inputs_and_int32_indices():
    rng = np.random.default_rng(5)
    matrix = sp.random(40, 9, density=0.3, format="csr", random_state=5)
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    parts = [matrix.data.copy(), matrix.indices.copy(), matrix.indptr.copy()]
    for part in parts:
        part.setflags(write=False)
    y = rng.integers(0, 2, 40)
    y.setflags(write=False)
    options = dict(OPTIONS, n_features=9, average=1)
    state, _ = run_kernel(tuple(parts), y, np.arange(40), options, np.float64)
    w, *_ = run_reference(tuple(parts), y, np.arange(40), options, 9)
    np.testing.assert_allclose(state.coef[0], w, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    loss=st.sampled_from(LINEAR_LOSSES),
    regression=st.booleans(),
    n=st.integers(1, 30),
    k=st.integers(1, 10),
    sparse=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
    penalty=st.sampled_from([None, "l2", "l1", "elasticnet"]),
    learning_rate=st.sampled_from(LEARNING_RATES),
    average=st.sampled_from([0, 1, 4]),
    intercept_decay=st.sampled_from([1.0, 0.01]),
    epsilon=st.sampled_from([0.0, 0.1, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_every_loss_matches_reference(
    loss, regression, n, k, sparse, dtype, penalty, learning_rate, average, intercept_decay,
    epsilon, seed,
):  # fmt: skip
    """The engine against the NumPy transcription of scikit-learn's step, for each loss, on
    class labels (+1/-1 targets) or float targets (a regressor)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    X[rng.random((n, k)) > 0.6] = 0.0
    X = X.astype(dtype)
    y = rng.standard_normal(n) if regression else rng.integers(0, 2, n)
    order = rng.permutation(n)
    options = dict(
        OPTIONS, loss=loss, epsilon=epsilon, intercept_decay=intercept_decay, penalty=penalty,
        learning_rate=learning_rate, average=average, class_weight=(0.7, 1.6), n_features=k,
        alpha=0.05, eta0=0.02,
    )  # fmt: skip
    matrix = sp.csr_matrix(X)
    rows = (matrix.data, matrix.indices, matrix.indptr) if sparse else X
    state, mean_loss = run_kernel(rows, y, order, options, dtype, epochs=2)
    w, b, w_avg, b_avg, expected_loss = run_reference(rows, y, order, options, k, epochs=2)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(state.coef[0], w, **tol)
    np.testing.assert_allclose(state.intercept[0], b, **tol)
    np.testing.assert_allclose(mean_loss, expected_loss, **tol)
    if average and penalty not in ("l1", "elasticnet"):
        np.testing.assert_allclose(state.average_coef[0], w_avg, **tol)
        np.testing.assert_allclose(state.average_intercept[0], b_avg, **tol)
