"""SGD epochs for a two-layer net (handout section 39.2), per sample or per mini-batch.

Public kernel (callable from any ``@njit`` function):

``net_epoch(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size)``
    One epoch over the rows named by ``order``, updating the weights in place::

        z1 = W1t x + b1,  a1 = g1(z1),  z2 = a1 W2 + b2,  a2 = g2(z2)        (forward)
        d2 = dLoss/dz2,   d1 = (W2 d2) * g1'(z1)                              (backward)
        W2 -= eta a1 d2^T,  b2 -= eta d2,  W1t -= eta d1 x^T,  b1 -= eta d1   (update)

    Every gradient comes from the same forward pass before any weight changes (the handout's
    39.2 f: w1's update uses the current w2). With ``batch_size`` > 1 the gradient is averaged
    over each batch of consecutive visits and one step is taken per batch.

    X : (n_samples, k) float32 or float64, C-contiguous; never written, never copied.
    y : (n_samples,) integer class codes. One output unit (W2 has one column) is a sigmoid with
        target ``y == 1``; n_out > 1 outputs are a softmax with a one-hot target.
    order : (n_visits,) integer row indices.
    W1t : (H, k), the first layer stored one row per hidden unit (W1 transposed; the estimators
        show it as ``coefs_[0] = W1t.T`` of shape (k, H)). b1 : (H,), W2 : (H, n_out),
        b2 : (n_out,). All in X's dtype and C-contiguous; updated in place. The biases always
        enter the forward pass and are updated only when fit_intercept.
    eta : float, the learning rate.
    activation : int, fastsgd.kernels.LOGISTIC, TANH or RELU (g1; the handout uses logistic).
    loss : int, fastsgd.kernels.LOG_LOSS (cross-entropy) or SQUARED_ERROR (1/2 (a2 - y)^2, the
        handout's 39.2 d).
    fit_intercept : bool.
    batch_size : int >= 1.
    Returns the epoch's mean progressive loss (each sample's loss before the step that uses it),
    accumulated in float64.

Per sample, the first layer is H logistic-regression-like rows: the kernel reuses the logistic
kernel's fused pass (dense_axpy_dot, four rows at a time), which updates hidden unit h's row for
this sample and reads it for the next sample's forward pass in one sweep, so W1 is streamed once
per sample.

Both paths work on private copies made once per call and written back at the end: W1t with rows
zero-padded to a multiple of PADDED_WIDTH (per sample only), and W2 transposed to (n_out, H) so
that every loop over hidden units reads contiguous memory for any number of outputs. Scratch
vectors are allocated once per call, never per sample. The mini-batch path gathers each batch
into a scratch block and uses BLAS-3 products (np.dot) for the forward and backward passes.
"""

import math

import numpy as np
from numba import njit

from fastsgd.kernels._checks import check_net
from fastsgd.kernels._dense import VECTOR_FASTMATH, dense_rows_axpy_dot, subtract_scaled
from fastsgd.kernels._intrinsics import cast_like, prefetch_distance, prefetch_row
from fastsgd.kernels._math import activate, activation_slope, output_layer

# The per-sample path works on a copy of W1t whose rows are zero-padded to a multiple of
# PADDED_WIDTH elements, and on zero-padded copies of the current and next rows of X. The fused
# row pass then has no scalar remainder loop: at k=100 float32, H=32 the first layer measured
# 385 -> 312 ns per sample. 8 elements fill one AVX2 register of float32 and two of float64;
# the zeros add nothing to any dot product or update.
PADDED_WIDTH = 8

# The loss is summed as linear terms plus the log of a running product of output_layer's
# factors, folded into a log only when the product grows past this (factors are <= n_out).
PRODUCT_LIMIT = 2.0**500


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def hidden_forward(z1, b1, W2t, b2, activation, a1, z2):
    """z1 += b1, a1 = g1(z1), z2 = W2t a1 + b2, for one sample."""
    for h in range(z1.shape[0]):
        z = z1[h] + b1[h]
        z1[h] = z
        a1[h] = activate(z, activation)
    for c in range(W2t.shape[0]):
        acc = b2[c]
        for h in range(W2t.shape[1]):
            acc += W2t[c, h] * a1[h]
        z2[c] = acc


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def hidden_backward(z1, a1, d2, W2t, rate, activation, steps):
    """steps = -rate * (W2t^T d2) * g1'(z1) through the current W2t; W2t -= rate d2 a1^T.

    Each row of W2t is read for the backward sum and updated in the same pass, so the hidden
    deltas use the weights of the forward pass (the handout's 39.2 f).
    """
    n_out, n_hidden = W2t.shape
    for h in range(n_hidden):
        steps[h] = 0.0
    for c in range(n_out):
        delta = d2[c]
        scale = rate * delta
        for h in range(n_hidden):
            w = W2t[c, h]
            steps[h] += w * delta
            W2t[c, h] = w - scale * a1[h]
    for h in range(n_hidden):
        steps[h] *= -rate * activation_slope(z1[h], a1[h], activation)


@njit(cache=True, nogil=True)
def padded_width(n):
    """n rounded up to a multiple of PADDED_WIDTH."""
    return (n + PADDED_WIDTH - 1) // PADDED_WIDTH * PADDED_WIDTH


@njit(cache=True, nogil=True)
def net_steps_per_sample(X, y, order, weights, b1, W2t, b2, rate, activation, loss, fit_intercept):
    """Per-sample SGD over ``order`` on the working arrays; returns the summed loss.

    ``weights`` is W1t with rows zero-padded to ``padded_width(k)`` columns, ``W2t`` is W2
    transposed; both are updated in place (and may be shared between threads: Hogwild).
    """
    n_visits = order.shape[0]
    n_out, n_hidden = W2t.shape
    n_features = X.shape[1]
    dtype = weights.dtype
    z1 = np.empty(n_hidden, dtype=dtype)
    a1 = np.empty(n_hidden, dtype=dtype)
    steps = np.zeros(n_hidden, dtype=dtype)
    z2 = np.empty(n_out, dtype=dtype)
    a2 = np.empty(n_out, dtype=dtype)
    d2 = np.empty(n_out, dtype=dtype)
    rows = np.zeros((2, weights.shape[1]), dtype=dtype)  # this sample's row and the next one
    zero = cast_like(0.0, weights)
    linear_sum, product, log_sum = 0.0, 1.0, 0.0
    distance = prefetch_distance(X)

    current = 0
    rows[current, :n_features] = X[order[0]]
    dense_rows_axpy_dot(steps, rows, current, weights, current, z1, zero)
    for i in range(n_visits):
        if distance and i + distance < n_visits:
            prefetch_row(X, order[i + distance])
        row = order[i]
        following = 1 - current
        next_row = order[i + 1] if i + 1 < n_visits else row
        for j in range(n_features):
            rows[following, j] = X[next_row, j]
        hidden_forward(z1, b1, W2t, b2, activation, a1, z2)
        linear, factor = output_layer(z2, a2, d2, y[row], loss)
        linear_sum += linear
        product *= factor
        if product > PRODUCT_LIMIT:
            log_sum += math.log(product)
            product = 1.0
        hidden_backward(z1, a1, d2, W2t, rate, activation, steps)
        if fit_intercept:
            for c in range(n_out):
                b2[c] -= rate * d2[c]
            for h in range(n_hidden):
                b1[h] += steps[h]
        dense_rows_axpy_dot(steps, rows, current, weights, following, z1, zero)
        current = following
    return linear_sum + (log_sum + math.log(product))


@njit(cache=True, nogil=True)
def net_steps_batched(
    X, y, order, W1t, b1, W2t, b2, eta, activation, loss, fit_intercept, batch_size
):
    """Mini-batch SGD over ``order``; returns the summed loss. W1t and W2t (W2 transposed) are
    updated in place."""
    n_visits = order.shape[0]
    n_hidden, n_features = W1t.shape
    n_out = W2t.shape[0]
    dtype = W1t.dtype
    batch = np.empty((batch_size, n_features), dtype=dtype)
    Z1 = np.empty((batch_size, n_hidden), dtype=dtype)
    A1 = np.empty((batch_size, n_hidden), dtype=dtype)
    D1 = np.empty((batch_size, n_hidden), dtype=dtype)
    Z2 = np.empty((batch_size, n_out), dtype=dtype)
    A2 = np.empty((batch_size, n_out), dtype=dtype)
    D2 = np.empty((batch_size, n_out), dtype=dtype)
    grad_W1t = np.empty((n_hidden, n_features), dtype=dtype)
    grad_W2t = np.empty((n_out, n_hidden), dtype=dtype)
    linear_sum, product, log_sum = 0.0, 1.0, 0.0
    for start in range(0, n_visits, batch_size):
        m = min(batch_size, n_visits - start)
        xb, z1, a1, d1 = batch[:m], Z1[:m], A1[:m], D1[:m]
        z2, a2, d2 = Z2[:m], A2[:m], D2[:m]
        for r in range(m):
            xb[r] = X[order[start + r]]
        np.dot(xb, W1t.T, z1)
        for r in range(m):
            hidden_forward(z1[r], b1, W2t, b2, activation, a1[r], z2[r])
            linear, factor = output_layer(z2[r], a2[r], d2[r], y[order[start + r]], loss)
            linear_sum += linear
            product *= factor
            if product > PRODUCT_LIMIT:
                log_sum += math.log(product)
                product = 1.0
        np.dot(d2, W2t, d1)  # backward through the current W2
        for r in range(m):
            for h in range(n_hidden):
                d1[r, h] *= activation_slope(z1[r, h], a1[r, h], activation)
        np.dot(d2.T, a1, grad_W2t)
        np.dot(d1.T, xb, grad_W1t)
        scale = cast_like(eta / m, W1t)
        subtract_scaled(W2t, scale, grad_W2t)
        subtract_scaled(W1t, scale, grad_W1t)
        if fit_intercept:
            for c in range(n_out):
                b2[c] -= scale * d2[:, c].sum()
            for h in range(n_hidden):
                b1[h] -= scale * d1[:, h].sum()
    return linear_sum + (log_sum + math.log(product))


@njit(cache=True, nogil=True)
def working_copies(W1t, W2, batch_size):
    """The kernels' private layout: (W1t, zero-padded for the per-sample path; W2 transposed)."""
    n_hidden, n_features = W1t.shape
    width = padded_width(n_features) if batch_size <= 1 else n_features
    weights = np.zeros((n_hidden, width), dtype=W1t.dtype)
    weights[:, :n_features] = W1t
    return weights, np.ascontiguousarray(W2.T)


@njit(cache=True, nogil=True)
def write_back(weights, W2t, W1t, W2):
    """Copy the working layout back into the caller's W1t and W2."""
    W1t[:, :] = weights[:, : W1t.shape[1]]
    W2[:, :] = W2t.T


@njit(cache=True, nogil=True)
def net_steps(X, y, order, weights, b1, W2t, b2, eta, activation, loss, fit_intercept, batch_size):
    """One pass over ``order`` on the working layout; returns the summed loss."""
    if batch_size <= 1:
        rate = cast_like(eta, weights)
        return net_steps_per_sample(
            X, y, order, weights, b1, W2t, b2, rate, activation, loss, fit_intercept
        )
    return net_steps_batched(
        X, y, order, weights, b1, W2t, b2, eta, activation, loss, fit_intercept, batch_size
    )


@njit(cache=True, nogil=True)
def net_epoch_per_sample(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept):
    """net_epoch with batch_size=1, compiled without the mini-batch path (half the compile time
    of net_epoch: ~12 of ~24 s from an empty cache here)."""
    check_net(X, y, order, W1t, b1, W2, b2)
    n_visits = order.shape[0]
    if n_visits == 0:
        return 0.0
    weights, W2t = working_copies(W1t, W2, 1)
    rate = cast_like(eta, weights)
    total = net_steps_per_sample(
        X, y, order, weights, b1, W2t, b2, rate, activation, loss, fit_intercept
    )
    write_back(weights, W2t, W1t, W2)
    return total / n_visits


@njit(cache=True, nogil=True)
def net_epoch_batched(
    X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size
):
    """net_epoch with batch_size > 1, compiled without the per-sample path."""
    check_net(X, y, order, W1t, b1, W2, b2)
    n_visits = order.shape[0]
    if n_visits == 0:
        return 0.0
    weights, W2t = working_copies(W1t, W2, batch_size)
    total = net_steps_batched(
        X, y, order, weights, b1, W2t, b2, eta, activation, loss, fit_intercept, batch_size
    )
    write_back(weights, W2t, W1t, W2)
    return total / n_visits


@njit(cache=True, nogil=True)
def net_epoch(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size):
    if batch_size <= 1:
        return net_epoch_per_sample(
            X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept
        )
    return net_epoch_batched(
        X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size
    )
