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
Scratch vectors are allocated once per call. The mini-batch path gathers each batch into a
scratch block and uses BLAS-3 products (np.dot) for the forward and backward passes.
"""

import numpy as np
from numba import njit

from fastsgd.kernels._dense import VECTOR_FASTMATH, dense_rows_axpy_dot, subtract_scaled
from fastsgd.kernels._intrinsics import cast_like, prefetch_distance, prefetch_row
from fastsgd.kernels._math import activate, activation_slope, output_layer


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def forward_output(z1, b2, W2, activation, a1, z2):
    """a1 = g1(z1), z2 = a1 W2 + b2."""
    for h in range(W2.shape[0]):
        a1[h] = activate(z1[h], activation)
    for c in range(W2.shape[1]):
        acc = b2[c]
        for h in range(W2.shape[0]):
            acc += a1[h] * W2[h, c]
        z2[c] = acc


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def backward_output(a1, z1, W2, d2, rate, activation, d1):
    """d1 = (W2 d2) * g1'(z1) through the current W2, then W2 -= rate a1 d2^T."""
    n_hidden, n_out = W2.shape
    for h in range(n_hidden):
        total = W2[h, 0] * d2[0]
        for c in range(1, n_out):
            total += W2[h, c] * d2[c]
        d1[h] = total * activation_slope(z1[h], a1[h], activation)
    for c in range(n_out):
        scale = rate * d2[c]
        for h in range(n_hidden):
            W2[h, c] -= scale * a1[h]


@njit(cache=True, nogil=True)
def net_epoch_per_sample(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept):
    n_visits = order.shape[0]
    n_hidden, n_out = W2.shape
    dtype = W1t.dtype
    z1 = np.empty(n_hidden, dtype=dtype)
    a1 = np.empty(n_hidden, dtype=dtype)
    d1 = np.empty(n_hidden, dtype=dtype)
    z2 = np.empty(n_out, dtype=dtype)
    a2 = np.empty(n_out, dtype=dtype)
    d2 = np.empty(n_out, dtype=dtype)
    steps = np.zeros(n_hidden, dtype=dtype)
    rate = cast_like(eta, W1t)
    zero = cast_like(0.0, W1t)
    if n_visits == 0:
        return 0.0
    loss_sum = 0.0
    distance = prefetch_distance(X)

    first = order[0]
    dense_rows_axpy_dot(steps, X, first, W1t, first, z1, zero)
    z1 += b1
    for i in range(n_visits):
        if distance and i + distance < n_visits:
            prefetch_row(X, order[i + distance])
        row = order[i]
        next_row = order[i + 1] if i + 1 < n_visits else row
        forward_output(z1, b2, W2, activation, a1, z2)
        loss_sum += output_layer(z2, a2, d2, y[row], loss)
        backward_output(a1, z1, W2, d2, rate, activation, d1)
        if fit_intercept:
            for c in range(n_out):
                b2[c] -= rate * d2[c]
        for h in range(n_hidden):
            steps[h] = -rate * d1[h]
        if fit_intercept:
            b1 += steps
        dense_rows_axpy_dot(steps, X, row, W1t, next_row, z1, zero)
        z1 += b1
    return loss_sum / n_visits


@njit(cache=True, nogil=True)
def net_epoch_batched(
    X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size
):
    n_visits = order.shape[0]
    n_hidden, n_features = W1t.shape
    n_out = W2.shape[1]
    dtype = W1t.dtype
    batch = np.empty((batch_size, n_features), dtype=dtype)
    Z1 = np.empty((batch_size, n_hidden), dtype=dtype)
    A1 = np.empty((batch_size, n_hidden), dtype=dtype)
    D1 = np.empty((batch_size, n_hidden), dtype=dtype)
    Z2 = np.empty((batch_size, n_out), dtype=dtype)
    A2 = np.empty((batch_size, n_out), dtype=dtype)
    D2 = np.empty((batch_size, n_out), dtype=dtype)
    grad_W1t = np.empty((n_hidden, n_features), dtype=dtype)
    grad_W2 = np.empty((n_hidden, n_out), dtype=dtype)
    loss_sum = 0.0
    for start in range(0, n_visits, batch_size):
        m = min(batch_size, n_visits - start)
        xb, z1, a1, d1 = batch[:m], Z1[:m], A1[:m], D1[:m]
        z2, a2, d2 = Z2[:m], A2[:m], D2[:m]
        for r in range(m):
            xb[r] = X[order[start + r]]
        np.dot(xb, W1t.T, z1)
        for r in range(m):
            for h in range(n_hidden):
                z1[r, h] += b1[h]
            forward_output(z1[r], b2, W2, activation, a1[r], z2[r])
            loss_sum += output_layer(z2[r], a2[r], d2[r], y[order[start + r]], loss)
        np.dot(d2, W2.T, d1)  # backward through the current W2
        for r in range(m):
            for h in range(n_hidden):
                d1[r, h] *= activation_slope(z1[r, h], a1[r, h], activation)
        np.dot(a1.T, d2, grad_W2)
        np.dot(d1.T, xb, grad_W1t)
        scale = cast_like(eta / m, W1t)
        subtract_scaled(W2, scale, grad_W2)
        subtract_scaled(W1t, scale, grad_W1t)
        if fit_intercept:
            for c in range(n_out):
                b2[c] -= scale * d2[:, c].sum()
            for h in range(n_hidden):
                b1[h] -= scale * d1[:, h].sum()
    return loss_sum / max(n_visits, 1)


@njit(cache=True, nogil=True)
def net_epoch(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size):
    if batch_size <= 1:
        return net_epoch_per_sample(
            X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept
        )
    return net_epoch_batched(
        X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size
    )
