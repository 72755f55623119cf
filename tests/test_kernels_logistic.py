"""The compiled logistic kernel against the plain-NumPy reference and the handout's math.

The reference it is checked against (fastsgd.reference.logistic_epoch) is, per visit i and
model m:

    z = coef[m] @ X[i] + intercept[m]
    loss[m] += logaddexp(0, -z) if y[i] == positive_class[m] else logaddexp(0, z)
    step = eta[m] * ((y[i] == positive_class[m]) - sigmoid(z))
    coef[m] += step * X[i];  intercept[m] += step
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from fastsgd import reference
from fastsgd.kernels import (
    log1pexp,
    logistic_epoch,
    logistic_loss,
    logistic_residual,
    sigmoid,
    streaming_floor,
)


def make_problem(rng, n, k, n_models, dtype, n_classes=2):
    X = rng.standard_normal((n, k)).astype(dtype)
    y = rng.integers(0, n_classes, n).astype(np.int64)
    coef = (0.1 * rng.standard_normal((n_models, k))).astype(dtype)
    intercept = (0.1 * rng.standard_normal(n_models)).astype(dtype)
    eta = rng.uniform(0.01, 0.5, n_models)
    positive_class = rng.integers(0, n_classes, n_models).astype(np.int64)
    return X, y, coef, intercept, eta, positive_class


def run_both(X, y, order, coef, intercept, eta, positive_class, fit_intercept):
    ours = coef.copy(), intercept.copy()
    theirs = coef.copy(), intercept.copy()
    loss = logistic_epoch(X, y, order, *ours, eta, positive_class, fit_intercept)
    ref_loss = reference.logistic_epoch(X, y, order, *theirs, eta, positive_class, fit_intercept)
    return ours, theirs, loss, ref_loss


@given(
    n=st.integers(1, 60),
    k=st.integers(1, 40),
    n_models=st.integers(1, 4),
    dtype=st.sampled_from([np.float32, np.float64]),
    fit_intercept=st.booleans(),
    shuffled=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernel_matches_reference(n, k, n_models, dtype, fit_intercept, shuffled, seed):
    rng = np.random.default_rng(seed)
    X, y, coef, intercept, eta, positive_class = make_problem(rng, n, k, n_models, dtype, 3)
    order = rng.permutation(n) if shuffled else np.arange(n)
    ours, theirs, loss, ref_loss = run_both(
        X, y, order, coef, intercept, eta, positive_class, fit_intercept
    )
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    assert ours[0].dtype == dtype and ours[1].dtype == dtype
    scale = max(1.0, np.abs(theirs[0]).max())
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(loss, ref_loss, rtol=rtol * 10, atol=1e-12)
    if not fit_intercept:
        np.testing.assert_array_equal(ours[1], intercept)


def test_order_may_repeat_and_skip_rows():
    rng = np.random.default_rng(1)
    X, y, coef, intercept, eta, pc = make_problem(rng, 20, 5, 2, np.float64)
    order = np.array([3, 3, 0, 19, 7, 3])
    ours, theirs, loss, ref_loss = run_both(X, y, order, coef, intercept, eta, pc, True)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)


def test_long_epoch_loss_accuracy():
    """The running-product loss sum stays as accurate as summing log1p per sample."""
    rng = np.random.default_rng(2)
    X, y, coef, intercept, eta, pc = make_problem(rng, 5000, 8, 1, np.float64)
    ours, theirs, loss, ref_loss = run_both(X, y, np.arange(5000), coef, intercept, eta, pc, True)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)


def test_one_vs_rest_block_equals_separate_models():
    rng = np.random.default_rng(3)
    X, y, coef, intercept, eta, _ = make_problem(rng, 200, 6, 3, np.float64, n_classes=3)
    pc = np.arange(3)
    block = coef.copy(), intercept.copy()
    block_loss = logistic_epoch(X, y, np.arange(200), *block, eta, pc, True)
    for m in range(3):
        single = coef[m : m + 1].copy(), intercept[m : m + 1].copy()
        single_loss = logistic_epoch(
            X, y, np.arange(200), *single, eta[m : m + 1], pc[m : m + 1], True
        )
        # equal up to rounding: the binary path keeps its state in registers, where the
        # compiler may contract a multiply-add differently
        np.testing.assert_allclose(single[0][0], block[0][m], rtol=1e-13)
        np.testing.assert_allclose(single_loss[0], block_loss[m], rtol=1e-13)


def test_empty_order_changes_nothing():
    rng = np.random.default_rng(4)
    X, y, coef, intercept, eta, pc = make_problem(rng, 5, 3, 1, np.float64)
    before = coef.copy()
    loss = logistic_epoch(X, y, np.arange(0), coef, intercept, eta, pc, True)
    np.testing.assert_array_equal(coef, before)
    np.testing.assert_array_equal(loss, [0.0])


def test_read_only_and_memmapped_input_give_the_same_epoch(tmp_path):
    rng = np.random.default_rng(5)
    X, y, coef, intercept, eta, pc = make_problem(rng, 50, 4, 1, np.float32)
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    y_ro = y.copy()
    y_ro.flags.writeable = False
    a = coef.copy(), intercept.copy()
    b = coef.copy(), intercept.copy()
    logistic_epoch(ro, y_ro, np.arange(50), *a, eta, pc, True)
    logistic_epoch(X, y, np.arange(50), *b, eta, pc, True)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("layout", ["read-only", "strided", "fortran"])
def test_model_block_on_any_layout_matches_reference(layout):
    # C-contiguous arrays take the explicit vector code of kernels._vector; other layouts a loop
    rng = np.random.default_rng(6)
    X, y, coef, intercept, eta, pc = make_problem(rng, 40, 11, 4, np.float64)
    if layout == "read-only":
        X.flags.writeable = False
    elif layout == "strided":
        X = np.repeat(X, 2, axis=1)[:, ::2]
    else:
        X = np.asfortranarray(X)
    ours, theirs, loss, ref_loss = run_both(X, y, np.arange(40), coef, intercept, eta, pc, True)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-10)


# -- the scalar math (handout 39.1 a-c) ----------------------------------------------------


@pytest.mark.parametrize("z", [-30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 9.0])
def test_sigmoid_derivative_is_s_times_one_minus_s(z):
    """39.1 (a): s'(z) = s(z)(1 - s(z)), against a central finite difference."""
    h = 1e-6
    numeric = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h)
    s = sigmoid(z)
    assert numeric == pytest.approx(s * (1 - s), rel=1e-6, abs=1e-16)


@pytest.mark.parametrize("label", [0, 1])
def test_loss_gradient_is_minus_x_times_residual(label):
    """39.1 (b-c): dL/dw = -x (y - h(x)), against central differences of the loss in w."""
    rng = np.random.default_rng(label)
    x = rng.standard_normal(6)
    w = rng.standard_normal(6)

    def loss(weights):
        return logistic_loss(float(weights @ x), bool(label))

    h = 1e-6
    numeric = np.empty_like(w)
    for j in range(w.size):
        step = np.zeros_like(w)
        step[j] = h
        numeric[j] = (loss(w + step) - loss(w - step)) / (2 * h)
    analytic = -x * logistic_residual(float(w @ x), bool(label))
    np.testing.assert_allclose(numeric, analytic, rtol=1e-6, atol=1e-9)
    # and the residual is literally y - s(w.x)
    assert logistic_residual(float(w @ x), bool(label)) == pytest.approx(
        label - 1 / (1 + math.exp(-float(w @ x))), rel=1e-12
    )


@pytest.mark.parametrize("z", [1e300, -1e300, 1e4, -1e4, 745.0, -745.0, 0.0, np.inf, -np.inf])
@pytest.mark.parametrize("label", [False, True])
def test_loss_and_sigmoid_are_stable(z, label):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = logistic_loss(z, label)
        s = sigmoid(z)
        r = logistic_residual(z, label)
    expected = reference.logistic_loss(z, label)
    if np.isfinite(z):
        assert np.isfinite(loss)
    assert loss == pytest.approx(float(expected), rel=1e-12)
    assert 0.0 <= s <= 1.0
    assert -1.0 <= r <= 1.0
    assert log1pexp(z) >= 0.0


def test_kernels_are_callable_from_user_njit_code():
    @njit
    def train(X, y, epochs, fit_intercept):
        coef = np.zeros((1, X.shape[1]))
        intercept = np.zeros(1)
        eta = np.full(1, 0.1)
        positive = np.ones(1, dtype=np.int64)
        order = np.arange(X.shape[0])
        last = np.zeros(1)
        for _ in range(epochs):
            # a variable, not the literal True: a literal compiles another specialisation
            last = logistic_epoch(X, y, order, coef, intercept, eta, positive, fit_intercept)
        return coef, intercept, last

    rng = np.random.default_rng(6)
    X = rng.standard_normal((300, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    coef, _, last = train(X, y, 20, True)
    assert last[0] < 0.2
    assert coef[0, 0] > 1.0


def test_streaming_floor_reads_everything():
    X = np.arange(12, dtype=np.float64).reshape(3, 4)
    assert streaming_floor(X) == X.sum()
    assert streaming_floor(X.astype(np.float32)) == pytest.approx(X.sum())


def test_streaming_floor_reads_nothing_outside_an_empty_row():
    assert streaming_floor(np.zeros((4, 0))) == 0.0
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert streaming_floor(X) == X.sum() == 15.0
