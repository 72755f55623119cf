"""SGD epochs for a two-layer net (handout section 39.2), per sample or per mini-batch.

Public kernels (callable from any ``@njit`` function): ``net_sgd_epoch``, one epoch of
scikit-learn's MLP ``solver='sgd'`` step for one hidden layer (sample weights, L2 penalty,
momentum, mini-batches, logistic, softmax or identity outputs), and ``net_epoch``, the
handout's net (integer class codes, no weights, penalty or momentum). ``net_sgd_epoch_per_sample``,
``net_sgd_epoch_batched``, ``net_epoch_per_sample`` and ``net_epoch_batched`` are the same
kernels compiled with one path only. Their docstrings hold the argument-by-argument contract,
``NetSettings`` the options of ``net_sgd_epoch``.

Per sample, the first layer is H logistic-regression-like rows: the kernel reuses the logistic
kernel's fused pass (dense_axpy_dot, four rows at a time), which updates hidden unit h's row for
this sample and reads it for the next sample's forward pass in one sweep, so W1 is streamed once
per sample. The penalty and momentum fold into that same sweep (weight_update_dot).

Both paths work on private copies made once per call and written back at the end: W1t (and its
velocity) with rows zero-padded to a multiple of PADDED_WIDTH (per sample only), and W2
transposed to (n_out, H) so that every loop over hidden units reads contiguous memory for any
number of outputs. Scratch vectors are allocated once per call, never per sample. The
mini-batch path gathers each batch into a scratch block and uses BLAS-3 products (np.dot).

Copies are written as loops, never as slice assignments: numba compiles a slice assignment's
shape-mismatch message with its string formatting, ~2.5 s of a first fit here.
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

from fastsgd.kernels._checks import check_visits
from fastsgd.kernels._dense import VECTOR_FASTMATH, dense_rows_axpy_dot
from fastsgd.kernels._intrinsics import (
    cast_like,
    flush_subnormals,
    prefetch_distance,
    prefetch_row,
    restore_subnormals,
)
from fastsgd.kernels._math import (
    LOG_LOSS,
    OUTPUT_IDENTITY,
    OUTPUT_LOGISTIC,
    OUTPUT_SOFTMAX,
    SQUARED_ERROR,
    activate,
    activation_slope,
    output_layer,
)
from fastsgd.kernels._vector import (
    rows_classical_momentum_dot4,
    rows_decay_dot4,
    rows_momentum_dot4,
    rows_nesterov_momentum_dot4,
)

# The per-sample path works on a copy of W1t whose rows are zero-padded to a multiple of
# PADDED_WIDTH elements, and on zero-padded copies of the current and next rows of X. The fused
# row pass then has no scalar remainder loop: at k=100 float32, H=32 the first layer measured
# 385 -> 312 ns per sample. 8 elements fill one AVX2 register of float32 and two of float64;
# the zeros add nothing to any dot product or update.
PADDED_WIDTH = 8

# The loss is summed as linear terms plus the log of a running product of output_layer's
# factors, folded into a log only when the product grows past this.
PRODUCT_LIMIT = 2.0**500

# float32's smallest normal number: velocities below it are flushed to 0 (see momentum_step)
FLOAT32_TINY = float(np.finfo(np.float32).tiny)

NetSettings = namedtuple(
    "NetSettings",
    [
        "activation", "loss", "output", "eta", "alpha", "momentum", "nesterov",
        "fit_intercept", "batch_size",
    ],
    defaults=(0.0, 0.0, False, True, 1),
)  # fmt: skip
NetSettings.__doc__ = """Options of the net kernels: units, loss, rate, penalty, momentum, batches.

A named tuple, passed unchanged to ``net_sgd_epoch`` (and its variants in
``fastsgd.parallel``); ``net_settings`` builds it with the canonical types.

Parameters
----------
activation : int
    The hidden activation g1's code, its position in ``ACTIVATIONS``: LOGISTIC (0), TANH
    (1), RELU (2) or 3 (identity).
loss : int
    LOG_LOSS (0) or SQUARED_ERROR (1).
output : int
    The output units g2: OUTPUT_LOGISTIC (a sigmoid per unit), OUTPUT_SOFTMAX or
    OUTPUT_IDENTITY (regression, with SQUARED_ERROR).
eta : float
    The learning rate.
alpha : float, default=0.0
    The L2 penalty's strength, on W1t and W2 (not on the biases).
momentum : float, default=0.0
    The momentum; 0 steps by ``-eta * G`` and leaves the velocities unused.
nesterov : bool, default=False
    Whether the momentum step is Nesterov's.
fit_intercept : bool, default=True
    Whether the biases are updated; they always enter the forward pass.
batch_size : int, default=1
    The consecutive visits per batch; 1 runs the per-sample path.

See Also
--------
net_settings : Builds it with the canonical types.
net_sgd_epoch : The kernel that takes it.

Notes
-----
Pass them with these Python types so that every call shares one compiled kernel: int
activation, loss, output and batch_size; float eta, alpha and momentum; bool nesterov and
fit_intercept. numba compiles the kernel anew for other field types.

Examples
--------
>>> from fastsgd.kernels import LOG_LOSS, OUTPUT_SOFTMAX, RELU, NetSettings
>>> settings = NetSettings(RELU, LOG_LOSS, OUTPUT_SOFTMAX, 0.01, momentum=0.9, nesterov=True)
>>> settings.alpha, settings.fit_intercept, settings.batch_size
(0.0, True, 1)
"""


def net_settings(activation, loss, output, eta, alpha=0.0, momentum=0.0, nesterov=False,
                 fit_intercept=True, batch_size=1):  # fmt: skip
    """Build ``NetSettings`` with the canonical Python types.

    Every value is converted (int, float or bool), so that settings built from NumPy scalars
    or an int rate share one compiled kernel with all others.

    Parameters
    ----------
    activation : int
        The hidden activation's code in ``ACTIVATIONS``.
    loss : int
        LOG_LOSS or SQUARED_ERROR.
    output : int
        OUTPUT_LOGISTIC, OUTPUT_SOFTMAX or OUTPUT_IDENTITY.
    eta : float
        The learning rate.
    alpha : float, default=0.0
        The L2 penalty's strength, on W1t and W2.
    momentum : float, default=0.0
        The momentum.
    nesterov : bool, default=False
        Whether the momentum step is Nesterov's.
    fit_intercept : bool, default=True
        Whether the biases are updated.
    batch_size : int, default=1
        The consecutive visits per batch.

    Returns
    -------
    NetSettings
        The settings, with int activation, loss, output and batch_size, float eta, alpha
        and momentum, and bool nesterov and fit_intercept.

    See Also
    --------
    NetSettings : The fields' meaning.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.kernels import LOG_LOSS, OUTPUT_SOFTMAX, TANH, net_settings
    >>> settings = net_settings(np.int64(TANH), LOG_LOSS, OUTPUT_SOFTMAX, 1)
    >>> settings
    NetSettings(activation=1, loss=0, output=1, eta=1.0, alpha=0.0, momentum=0.0,
                nesterov=False, fit_intercept=True, batch_size=1)
    >>> type(settings.activation), type(settings.eta)
    (<class 'int'>, <class 'float'>)
    """
    return NetSettings(
        int(activation), int(loss), int(output), float(eta), float(alpha), float(momentum),
        bool(nesterov), bool(fit_intercept), int(batch_size),
    )  # fmt: skip


# -- arguments --------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def check_net_sgd(X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings):
    """The arguments of net_sgd_epoch."""
    check_visits(X, targets, order)
    n_hidden = W1t.shape[0]
    if W1t.shape[1] != X.shape[1]:
        raise ValueError("W1t must have one column per feature of X (W1t.shape[1] != k)")
    if b1.shape[0] != n_hidden or W2.shape[0] != n_hidden:
        raise ValueError("b1 and the rows of W2 must match the hidden units (W1t.shape[0])")
    n_out = W2.shape[1]
    if b2.shape[0] != n_out or n_out < 1:
        raise ValueError("b2 must have one entry per output unit (W2.shape[1] >= 1)")
    if sample_weight.shape[0] != 0 and sample_weight.shape[0] != X.shape[0]:
        raise ValueError("sample_weight must have one weight per row of X, or none")
    if settings.batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if settings.output == OUTPUT_IDENTITY and settings.loss != SQUARED_ERROR:
        raise ValueError("identity outputs (regression) take the squared_error loss only")
    if targets.ndim == 2:
        if targets.shape[1] != n_out:
            raise ValueError("2-D targets need one column per output unit (W2.shape[1])")
        if settings.output == OUTPUT_SOFTMAX:
            raise ValueError("a softmax output takes integer class codes, not a 2-D target")
    elif settings.output == OUTPUT_IDENTITY:
        raise ValueError("identity outputs (regression) take 2-D float targets")
    elif settings.output == OUTPUT_LOGISTIC and n_out != 1:
        raise ValueError("integer class codes with logistic outputs need n_out == 1")
    elif settings.output == OUTPUT_SOFTMAX:
        for i in range(order.shape[0]):  # a softmax reads output unit y: a code must name one
            code = targets[order[i]]
            if code < 0 or code >= n_out:
                raise ValueError("with a softmax output every visited label must be in [0, n_out)")
    if settings.momentum != 0.0:
        V_W1t, V_b1, V_W2, V_b2 = velocities
        if (
            V_W1t.shape != W1t.shape or V_b1.shape != b1.shape or V_W2.shape != W2.shape
            or V_b2.shape != b2.shape
        ):  # fmt: skip
            raise ValueError("with momentum the velocities need the shapes of W1t, b1, W2, b2")


# -- the per-sample path ----------------------------------------------------------------------


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


@njit(cache=True, nogil=True, inline="always")
def momentum_step(w, v, u, momentum, nesterov):
    """scikit-learn's SGD step of one parameter w with velocity v, given u = -eta * grad:
    ``v = momentum v + u``, then ``w += v`` (or ``w += momentum v + u`` with Nesterov).

    A velocity below float32's smallest normal number (in magnitude) becomes 0 (see
    net_steps_per_sample on subnormals); the weights change by less than 1e-38 per step from
    it. The per-sample sweep's vector code flushes them through the CPU's flags instead.
    """
    v = momentum * v + u
    if abs(v) < FLOAT32_TINY:
        v = 0.0
    if nesterov:
        return w + (momentum * v + u), v
    return w + v, v


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def hidden_backward_plain(z1, a1, d2, W2t, rate, activation, steps):
    """hidden_backward without penalty or momentum (the handout's step): its own loop measured
    ~10% of the per-sample time faster than hidden_backward's with decay 0 at H=32."""
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


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def hidden_backward(z1, a1, d2, W2t, V_W2t, rate, decay, momentum, nesterov, activation, steps):
    """steps = -rate * (W2t^T d2) * g1'(z1) through the current W2t, and W2t's step with
    u = -rate d2 a1^T + decay W2t (decay = -rate alpha / s); returns |W2t|^2 after the step.

    Each row of W2t is read for the backward sum and updated in the same pass, so the hidden
    deltas use the weights of the forward pass (the handout's 39.2 f).
    """
    n_out, n_hidden = W2t.shape
    for h in range(n_hidden):
        steps[h] = 0.0
    norm = 0.0
    for c in range(n_out):
        delta = d2[c]
        scale = rate * delta
        if momentum == 0.0:
            for h in range(n_hidden):
                w = W2t[c, h]
                steps[h] += w * delta
                w = w - scale * a1[h] + decay * w
                W2t[c, h] = w
                norm += w * w
        else:
            for h in range(n_hidden):
                w = W2t[c, h]
                steps[h] += w * delta
                w, V_W2t[c, h] = momentum_step(
                    w, V_W2t[c, h], decay * w - scale * a1[h], momentum, nesterov
                )
                W2t[c, h] = w
                norm += w * w
    for h in range(n_hidden):
        steps[h] *= -rate * activation_slope(z1[h], a1[h], activation)
    return norm


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def weight_update_dot(steps, rows, row, W, V, next_row, out, decay, momentum, nesterov):
    """For every row m of W: W[m]'s step with u = steps[m] X[row] + decay W[m] (and momentum),
    then out[m] = W[m] . X[next_row]; returns |W|^2 after the step. One sweep over W (and V).

    The penalized / momentum counterpart of dense_rows_axpy_dot: four rows at a time in the
    explicit vector code of _vector (the plain numba loop below measured 2.5x the plain step
    with momentum at H=32, k=100, float32), the remaining rows in that loop.
    """
    n_rows = W.shape[0]
    norm = 0.0
    first = 0
    if momentum == 0.0:
        while first + 4 <= n_rows:
            dots = rows_decay_dot4(
                W, first, rows, row, next_row, steps[first], steps[first + 1],
                steps[first + 2], steps[first + 3], decay,
            )  # fmt: skip
            out[first], out[first + 1], out[first + 2], out[first + 3] = dots[:4]
            norm += dots[4]
            first += 4
    elif decay == 0.0:  # momentum without penalty: the lean sweeps (no decay term, no norm)
        while first + 4 <= n_rows:
            if nesterov:
                dots = rows_nesterov_momentum_dot4(
                    W, V, first, rows, row, next_row, steps[first], steps[first + 1],
                    steps[first + 2], steps[first + 3], momentum,
                )  # fmt: skip
            else:
                dots = rows_classical_momentum_dot4(
                    W, V, first, rows, row, next_row, steps[first], steps[first + 1],
                    steps[first + 2], steps[first + 3], momentum,
                )  # fmt: skip
            out[first], out[first + 1], out[first + 2], out[first + 3] = dots[:4]
            first += 4
    else:
        coef_v, coef_u = (momentum, 1.0) if nesterov else (1.0, 0.0)
        while first + 4 <= n_rows:
            dots = rows_momentum_dot4(
                W, V, first, rows, row, next_row, steps[first], steps[first + 1],
                steps[first + 2], steps[first + 3], decay, momentum, coef_v, coef_u,
            )  # fmt: skip
            out[first], out[first + 1], out[first + 2], out[first + 3] = dots[:4]
            norm += dots[4]
            first += 4
    zero = cast_like(0.0, W)
    for m in range(first, n_rows):
        step = cast_like(steps[m], W)
        acc = zero
        square = zero
        if momentum == 0.0:
            shrink = cast_like(1.0 + decay, W)
            for j in range(W.shape[1]):
                w = shrink * W[m, j] + step * rows[row, j]
                W[m, j] = w
                acc += w * rows[next_row, j]
                square += w * w
        else:
            mu = cast_like(momentum, W)
            rate_decay = cast_like(decay, W)
            for j in range(W.shape[1]):
                w = W[m, j]
                u = step * rows[row, j] + rate_decay * w
                v = mu * V[m, j] + u
                if abs(v) < FLOAT32_TINY:  # see momentum_step
                    v = zero
                V[m, j] = v
                w = w + (mu * v + u if nesterov else v)
                W[m, j] = w
                acc += w * rows[next_row, j]
                square += w * w
        out[m] = acc
        norm += square
    return norm


@njit(cache=True, nogil=True, inline="always")
def bias_steps(b1, b2, V_b1, V_b2, steps, d2, rate, momentum, nesterov):
    """The biases' steps: u = steps for b1 (already -rate d1), u = -rate d2 for b2."""
    if momentum == 0.0:
        for c in range(b2.shape[0]):
            b2[c] -= rate * d2[c]
        for h in range(b1.shape[0]):
            b1[h] += steps[h]
        return
    for c in range(b2.shape[0]):
        b2[c], V_b2[c] = momentum_step(b2[c], V_b2[c], -rate * d2[c], momentum, nesterov)
    for h in range(b1.shape[0]):
        b1[h], V_b1[h] = momentum_step(b1[h], V_b1[h], steps[h], momentum, nesterov)


@njit(cache=True, nogil=True, inline="always")
def squared_norm(A):
    """The sum of the squares of a 2-D array's entries."""
    total = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            total += A[i, j] * A[i, j]
    return total


def net_steps_per_sample(X, targets, sample_weight, order, work, settings, plain):
    """Per-sample SGD over ``order`` on the working layout ``work`` (see working_copies);
    returns the summed loss (the penalty included). Inside @njit code only.

    ``plain`` (a literal) says that there is no penalty and no momentum: True compiles the loop
    with the handout's step only, False with the general one only. numba types the callees of
    a branch even where a constant condition prunes it at run time, so the choice is made
    here, by type, between two loops made from one source (per_sample_loop). A default
    TwoLayerNet() then never compiles the general sweep: its first fit measured 6.4 s instead
    of 9.3 s from an empty cache here (a run-time branch in one loop), with the same speed.
    """
    raise NotImplementedError("net_steps_per_sample is only available inside @njit functions")


@overload(net_steps_per_sample, jit_options={"cache": True, "nogil": True})
def _net_steps_per_sample(X, targets, sample_weight, order, work, settings, plain):
    if not isinstance(plain, types.BooleanLiteral):
        raise TypingError("net_steps_per_sample needs a literal plain flag")
    return per_sample_loop(plain.literal_value)


def per_sample_loop(plain_step):
    """The per-sample loop with the plain step or the general one: ``plain_step`` is a constant
    of the closure, so numba prunes the other branch before typing it."""

    def loop(X, targets, sample_weight, order, work, settings, plain):
        weights, b1, W2t, b2, V_weights, V_b1, V_W2t, V_b2 = work
        activation, loss, output = settings.activation, settings.loss, settings.output
        alpha, momentum, nesterov = settings.alpha, settings.momentum, settings.nesterov
        fit_intercept = settings.fit_intercept
        rate = cast_like(settings.eta, weights)
        weighted = sample_weight.shape[0] != 0
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
        linear_sum, product, log_sum, penalty_sum = 0.0, 1.0, 0.0, 0.0
        distance = prefetch_distance(X)
        # |W1|^2 + |W2|^2 before each step, for the penalty's share of the loss
        norm = squared_norm(weights) + squared_norm(W2t) if alpha != 0.0 else 0.0

        # with momentum, the sweep runs with subnormals flushed to 0 (x86): the velocities of units
        # that get no gradient (dead relu units) shrink by momentum each step until they stall
        # among the subnormals, whose arithmetic measured 18x slower per sample (H=32, k=100,
        # float32: 6,569 against 350 ns); flushing measured 2.1x the plain step, against 2.6x
        # for a compare-and-select per velocity. Nothing below raises before the restore.
        previous = flush_subnormals() if momentum != 0.0 else np.uint32(0)
        current = 0
        first = order[0]
        for j in range(n_features):
            rows[current, j] = X[first, j]
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
            linear, factor = output_layer(z2, a2, d2, targets, row, output, loss)
            weight = sample_weight[row] if weighted else 1.0
            step_rate = rate
            if weight == 0.0:  # scikit-learn would divide by 0 here; the sample takes no step
                step_rate = zero
                linear, factor = 0.0, 1.0
                for c in range(n_out):
                    d2[c] = 0.0
            linear_sum += linear
            product *= factor
            if product > PRODUCT_LIMIT:
                log_sum += math.log(product)
                product = 1.0
            # alpha W / s is the penalty's gradient (scikit-learn divides it by the weights)
            decay = -step_rate * alpha / weight if weight != 0.0 else 0.0
            if weight != 0.0 and alpha != 0.0:
                penalty_sum += 0.5 * alpha * norm / weight
            if plain_step:
                hidden_backward_plain(z1, a1, d2, W2t, step_rate, activation, steps)
                if fit_intercept:
                    bias_steps(b1, b2, V_b1, V_b2, steps, d2, step_rate, 0.0, False)
                dense_rows_axpy_dot(steps, rows, current, weights, following, z1, zero)
            else:
                norm = hidden_backward(
                    z1, a1, d2, W2t, V_W2t, step_rate, decay, momentum, nesterov, activation, steps
                )
                if fit_intercept:
                    bias_steps(b1, b2, V_b1, V_b2, steps, d2, step_rate, momentum, nesterov)
                norm += weight_update_dot(
                    steps, rows, current, weights, V_weights, following, z1, decay, momentum,
                    nesterov,
                )  # fmt: skip
            current = following
        if momentum != 0.0:
            restore_subnormals(previous)
        return linear_sum + (log_sum + math.log(product)) + penalty_sum

    return loop


# -- the mini-batch path ----------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def parameter_step(w, v, g, scale, alpha, rate, momentum, nesterov):
    """(w, v) after the step for the gradient (g + alpha w) * scale."""
    u = -rate * ((g + alpha * w) * scale)
    if momentum == 0.0:
        return w + u, v
    return momentum_step(w, v, u, momentum, nesterov)


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def matrix_step(W, V, G, scale, alpha, rate, momentum, nesterov):
    """W's step for the gradient (G + alpha W) * scale (V: its velocity, unused without
    momentum)."""
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            v = V[i, j] if momentum != 0.0 else 0.0
            W[i, j], v = parameter_step(W[i, j], v, G[i, j], scale, alpha, rate, momentum, nesterov)
            if momentum != 0.0:
                V[i, j] = v


@njit(cache=True, nogil=True)
def vector_step(b, V, G, scale, rate, momentum, nesterov):
    """A bias vector's step for the gradient G * scale."""
    for i in range(b.shape[0]):
        v = V[i] if momentum != 0.0 else 0.0
        b[i], v = parameter_step(b[i], v, G[i], scale, 0.0, rate, momentum, nesterov)
        if momentum != 0.0:
            V[i] = v


@njit(cache=True, nogil=True)
def net_steps_batched(X, targets, sample_weight, order, work, settings):
    """Mini-batch SGD over ``order`` on the working layout; returns the summed loss (each
    batch's loss times its size)."""
    W1t, b1, W2t, b2, V_W1t, V_b1, V_W2t, V_b2 = work
    activation, loss, output = settings.activation, settings.loss, settings.output
    alpha, momentum, nesterov = settings.alpha, settings.momentum, settings.nesterov
    eta, batch_size = settings.eta, settings.batch_size
    weighted = sample_weight.shape[0] != 0
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
    grad_b1 = np.empty(n_hidden, dtype=dtype)
    grad_b2 = np.empty(n_out, dtype=dtype)
    loss_sum = 0.0
    for start in range(0, n_visits, batch_size):
        m = min(batch_size, n_visits - start)
        xb, z1, a1, d1 = batch[:m], Z1[:m], A1[:m], D1[:m]
        z2, a2, d2 = Z2[:m], A2[:m], D2[:m]
        weight_sum = 0.0
        for r in range(m):
            weight_sum += sample_weight[order[start + r]] if weighted else 1.0
        if weight_sum == 0.0:  # scikit-learn would divide by 0 here; the batch takes no step
            continue
        for r in range(m):
            source = order[start + r]
            for j in range(n_features):
                xb[r, j] = X[source, j]
        np.dot(xb, W1t.T, z1)
        batch_loss = 0.0
        for r in range(m):
            row = order[start + r]
            hidden_forward(z1[r], b1, W2t, b2, activation, a1[r], z2[r])
            linear, factor = output_layer(z2[r], a2[r], d2[r], targets, row, output, loss)
            weight = sample_weight[row] if weighted else 1.0
            batch_loss += weight * (linear + math.log(factor))
            if weighted:
                for c in range(n_out):
                    d2[r, c] *= weight
        batch_loss /= weight_sum
        if alpha != 0.0:
            batch_loss += 0.5 * alpha * (squared_norm(W1t) + squared_norm(W2t)) / weight_sum
        loss_sum += batch_loss * m
        np.dot(d2, W2t, d1)  # backward through the current W2
        for r in range(m):
            for h in range(n_hidden):
                d1[r, h] *= activation_slope(z1[r, h], a1[r, h], activation)
        np.dot(d2.T, a1, grad_W2t)
        np.dot(d1.T, xb, grad_W1t)
        scale = 1.0 / weight_sum
        matrix_step(W2t, V_W2t, grad_W2t, scale, alpha, eta, momentum, nesterov)
        matrix_step(W1t, V_W1t, grad_W1t, scale, alpha, eta, momentum, nesterov)
        if settings.fit_intercept:
            for c in range(n_out):
                grad_b2[c] = d2[:, c].sum()
            for h in range(n_hidden):
                grad_b1[h] = d1[:, h].sum()
            vector_step(b2, V_b2, grad_b2, scale, eta, momentum, nesterov)
            vector_step(b1, V_b1, grad_b1, scale, eta, momentum, nesterov)
    return loss_sum


# -- working layout ---------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def padded_width(n):
    """n rounded up to a multiple of PADDED_WIDTH."""
    return (n + PADDED_WIDTH - 1) // PADDED_WIDTH * PADDED_WIDTH


@njit(cache=True, nogil=True, inline="always")
def laid_out(W1t, W2, width):
    """(W1t with rows zero-padded to ``width``, W2 transposed), fresh arrays."""
    n_hidden, n_features = W1t.shape
    padded = np.zeros((n_hidden, width), dtype=W1t.dtype)
    for h in range(n_hidden):
        for j in range(n_features):
            padded[h, j] = W1t[h, j]
    transposed = np.empty((W2.shape[1], W2.shape[0]), dtype=W2.dtype)
    for h in range(W2.shape[0]):
        for c in range(W2.shape[1]):
            transposed[c, h] = W2[h, c]
    return padded, transposed


@njit(cache=True, nogil=True, inline="always")
def working_copies(W1t, b1, W2, b2, velocities, settings):
    """The kernels' private layout: (W1t, zero-padded for the per-sample path; b1; W2
    transposed; b2) and the same for the velocities (empty without momentum). b1 and b2 are
    the caller's arrays, updated in place."""
    V_W1t, V_b1, V_W2, V_b2 = velocities
    n_features = W1t.shape[1]
    width = padded_width(n_features) if settings.batch_size <= 1 else n_features
    weights, W2t = laid_out(W1t, W2, width)
    if settings.momentum != 0.0:
        V_weights, V_W2t = laid_out(V_W1t, V_W2, width)
        return (weights, b1, W2t, b2, V_weights, V_b1, V_W2t, V_b2)
    V_weights, V_b1, V_W2t, V_b2 = no_velocities(W1t)
    return (weights, b1, W2t, b2, V_weights, V_b1, V_W2t, V_b2)


@njit(cache=True, nogil=True, inline="always")
def copy_back(source_padded, source_transposed, W1t, W2):
    for h in range(W1t.shape[0]):
        for j in range(W1t.shape[1]):
            W1t[h, j] = source_padded[h, j]
    for h in range(W2.shape[0]):
        for c in range(W2.shape[1]):
            W2[h, c] = source_transposed[c, h]


@njit(cache=True, nogil=True, inline="always")
def write_back(work, W1t, W2, velocities, settings):
    """Copy the working layout back into the caller's W1t and W2 (and velocities)."""
    copy_back(work[0], work[2], W1t, W2)
    if settings.momentum != 0.0:
        copy_back(work[4], work[6], velocities[0], velocities[2])


@njit(cache=True, nogil=True, inline="always")
def is_plain(settings):
    """No penalty and no momentum: the handout's step."""
    return settings.momentum == 0.0 and settings.alpha == 0.0


@njit(cache=True, nogil=True)
def net_steps(X, targets, sample_weight, order, work, settings):
    """One pass over ``order`` on the working layout; returns the summed loss."""
    if settings.batch_size > 1:
        return net_steps_batched(X, targets, sample_weight, order, work, settings)
    if is_plain(settings):
        return net_steps_per_sample(X, targets, sample_weight, order, work, settings, True)
    return net_steps_per_sample(X, targets, sample_weight, order, work, settings, False)


# -- entry points -----------------------------------------------------------------------------


# The three loops an epoch can run; each entry point below compiles only its own.
PLAIN_PATH, GENERAL_PATH, BATCHED_PATH = 0, 1, 2


def epoch_body(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, path, checked
):  # fmt: skip
    """One epoch on the ``path`` loop (a literal: PLAIN_PATH, GENERAL_PATH or BATCHED_PATH),
    with the argument checks of check_net_sgd when ``checked`` (a literal). Inside @njit code
    only.

    The estimators validate every argument in Python and call the unchecked entry points:
    compiling the checks measured 0.75 s of a default TwoLayerNet's first fit (6.2 against
    5.5 s from an empty cache here). The public kernels keep them.
    """
    raise NotImplementedError("epoch_body is only available inside @njit functions")


@overload(epoch_body, jit_options={"cache": True, "nogil": True})
def _epoch_body(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, path, checked
):  # fmt: skip
    if not isinstance(path, types.IntegerLiteral) or not isinstance(checked, types.BooleanLiteral):
        raise TypingError("epoch_body needs a literal path and a literal checked flag")
    return epoch_loop(path.literal_value, checked.literal_value)


def epoch_loop(path_kind, check):
    """epoch_body for one path and checking: both are constants of the closure, so numba
    prunes the other branches (and never compiles their callees)."""
    plain_path = path_kind == PLAIN_PATH
    batched_path = path_kind == BATCHED_PATH

    def body(
        X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, path, checked
    ):  # fmt: skip
        if check:
            check_net_sgd(X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings)
            if plain_path and not is_plain(settings):
                raise ValueError("the plain per-sample kernel takes no penalty and no momentum")
        n_visits = order.shape[0]
        if n_visits == 0:
            return 0.0
        work = working_copies(W1t, b1, W2, b2, velocities, settings)
        if batched_path:
            total = net_steps_batched(X, targets, sample_weight, order, work, settings)
        elif plain_path:
            total = net_steps_per_sample(X, targets, sample_weight, order, work, settings, True)
        else:
            total = net_steps_per_sample(X, targets, sample_weight, order, work, settings, False)
        write_back(work, W1t, W2, velocities, settings)
        return total / n_visits

    return body


@njit(cache=True, nogil=True)
def net_sgd_epoch_per_sample(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings
):
    """Run ``net_sgd_epoch`` with batch_size 1, compiled without the mini-batch path.

    The per-sample step of ``net_sgd_epoch`` (see there), whatever ``settings.batch_size``
    says: half the compile time of both paths.

    Parameters
    ----------
    X : ndarray of shape (n_samples, k)
        float32 or float64, C-contiguous. Never written, never copied.
    targets : ndarray of shape (n_samples,) or (n_samples, n_out)
        Integer class codes (one logistic output: the target is ``code == 1``; a softmax: the
        one-hot of the code), or floats used as they are (multilabel 0/1 indicators for
        logistic outputs, regression values for identity outputs).
    sample_weight : ndarray of shape (n_samples,) or (0,)
        float64 sample weights, or an empty array for weight 1 everywhere.
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order.
    W1t : ndarray of shape (H, k)
        The first layer stored one row per hidden unit (the estimators show it as
        ``coefs_[0] = W1t.T``); in X's dtype, C-contiguous, updated in place.
    b1 : ndarray of shape (H,)
        The hidden units' biases, in X's dtype. They always enter the forward pass and are
        updated in place only when ``settings.fit_intercept``.
    W2 : ndarray of shape (H, n_out)
        The second layer, in X's dtype, C-contiguous; updated in place.
    b2 : ndarray of shape (n_out,)
        The output units' biases, in X's dtype; as b1.
    velocities : tuple of 4 ndarrays
        ``(V_W1t, V_b1, V_W2, V_b2)``, the momentum buffers with the weights' shapes, updated
        in place; unused (and may be empty arrays) when ``settings.momentum == 0``.
    settings : NetSettings
        ``NetSettings(activation, loss, output, eta, alpha, momentum, nesterov,
        fit_intercept, batch_size)``: activation in {LOGISTIC, TANH, RELU, 3 (identity)}, loss
        in {LOG_LOSS, SQUARED_ERROR}, output in {OUTPUT_LOGISTIC, OUTPUT_SOFTMAX,
        OUTPUT_IDENTITY}; ``net_settings`` builds it.

    Returns
    -------
    float
        The epoch's loss as scikit-learn's MLP accumulates it: the sum over batches of
        ``len(B)`` times (the s-weighted mean loss of B plus ``alpha / 2 * (||W1||^2 +
        ||W2||^2) / S``, both before the step), divided by the number of visits; accumulated
        in float64 (0.0 for an empty ``order``).

    Raises
    ------
    ValueError
        If the arguments do not fit together: targets or sample_weight without one row per
        row of X, an entry of ``order`` that is not a row of X, weights of the wrong shapes,
        ``batch_size < 1``, identity outputs without squared_error or without 2-D targets,
        2-D targets with a softmax or without one column per output unit, integer codes with
        several logistic outputs, a visited code outside [0, n_out) with a softmax, or (with
        momentum) velocities without the weights' shapes.

    See Also
    --------
    net_sgd_epoch : Either path, by ``settings.batch_size``.
    net_epoch_per_sample : The handout's net, per sample.

    Examples
    --------
    Per sample with classical momentum and sample weights, against the NumPy reference:

    >>> import numpy as np
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import (
    ...     LOG_LOSS, OUTPUT_LOGISTIC, RELU, net_settings, net_sgd_epoch_per_sample,
    ... )
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 4)), rng.integers(0, 2, 30)
    >>> weights, order = rng.uniform(0.5, 2.0, 30), rng.permutation(30)
    >>> params = [0.3 * rng.standard_normal(shape) for shape in [(5, 4), (5,), (5, 1), (1,)]]
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> ours_v, theirs_v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    >>> settings = net_settings(RELU, LOG_LOSS, OUTPUT_LOGISTIC, 0.05, momentum=0.5)
    >>> loss = net_sgd_epoch_per_sample(X, y, weights, order, *ours, tuple(ours_v), settings)
    >>> expected = reference.net_sgd_epoch(
    ...     X, y, weights, order, *theirs, theirs_v, activation=RELU, loss=LOG_LOSS,
    ...     output="logistic", eta=0.05, momentum=0.5,
    ... )
    >>> bool(np.isclose(loss, expected))
    True
    >>> all(np.allclose(a, b) for a, b in zip(ours + ours_v, theirs + theirs_v))
    True
    """
    if is_plain(settings):
        return epoch_body(
            X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, 0, True
        )
    return epoch_body(
        X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, 1, True
    )


@njit(cache=True, nogil=True)
def net_plain_epoch(X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings):
    """net_sgd_epoch_per_sample without penalty or momentum (refused), compiled without the
    general sweep: what a default TwoLayerNet compiles (see net_steps_per_sample)."""
    return epoch_body(
        X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, 0, True
    )


@njit(cache=True, nogil=True)
def net_sgd_epoch_batched(X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings):
    """Run ``net_sgd_epoch`` with mini-batches, compiled without the per-sample path.

    The mini-batch step of ``net_sgd_epoch`` (see there): each batch of
    ``settings.batch_size`` visits is gathered into a scratch block and its products are
    BLAS-3 (``np.dot``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, k)
        float32 or float64, C-contiguous. Never written, never copied.
    targets : ndarray of shape (n_samples,) or (n_samples, n_out)
        Integer class codes (one logistic output: the target is ``code == 1``; a softmax: the
        one-hot of the code), or floats used as they are (multilabel 0/1 indicators for
        logistic outputs, regression values for identity outputs).
    sample_weight : ndarray of shape (n_samples,) or (0,)
        float64 sample weights, or an empty array for weight 1 everywhere.
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order.
    W1t : ndarray of shape (H, k)
        The first layer stored one row per hidden unit (the estimators show it as
        ``coefs_[0] = W1t.T``); in X's dtype, C-contiguous, updated in place.
    b1 : ndarray of shape (H,)
        The hidden units' biases, in X's dtype. They always enter the forward pass and are
        updated in place only when ``settings.fit_intercept``.
    W2 : ndarray of shape (H, n_out)
        The second layer, in X's dtype, C-contiguous; updated in place.
    b2 : ndarray of shape (n_out,)
        The output units' biases, in X's dtype; as b1.
    velocities : tuple of 4 ndarrays
        ``(V_W1t, V_b1, V_W2, V_b2)``, the momentum buffers with the weights' shapes, updated
        in place; unused (and may be empty arrays) when ``settings.momentum == 0``.
    settings : NetSettings
        ``NetSettings(activation, loss, output, eta, alpha, momentum, nesterov,
        fit_intercept, batch_size)``: activation in {LOGISTIC, TANH, RELU, 3 (identity)}, loss
        in {LOG_LOSS, SQUARED_ERROR}, output in {OUTPUT_LOGISTIC, OUTPUT_SOFTMAX,
        OUTPUT_IDENTITY}; ``net_settings`` builds it.

    Returns
    -------
    float
        The epoch's loss as scikit-learn's MLP accumulates it: the sum over batches of
        ``len(B)`` times (the s-weighted mean loss of B plus ``alpha / 2 * (||W1||^2 +
        ||W2||^2) / S``, both before the step), divided by the number of visits; accumulated
        in float64 (0.0 for an empty ``order``).

    Raises
    ------
    ValueError
        If the arguments do not fit together: targets or sample_weight without one row per
        row of X, an entry of ``order`` that is not a row of X, weights of the wrong shapes,
        ``batch_size < 1``, identity outputs without squared_error or without 2-D targets,
        2-D targets with a softmax or without one column per output unit, integer codes with
        several logistic outputs, a visited code outside [0, n_out) with a softmax, or (with
        momentum) velocities without the weights' shapes.

    See Also
    --------
    net_sgd_epoch : Either path, by ``settings.batch_size``.
    net_epoch_batched : The handout's net, in mini-batches.

    Examples
    --------
    Batches of 4 with sample weights and an L2 penalty, against the NumPy reference:

    >>> import numpy as np
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import (
    ...     LOG_LOSS, OUTPUT_SOFTMAX, TANH, net_settings, net_sgd_epoch_batched,
    ... )
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    >>> weights, order = rng.uniform(0.5, 2.0, 30), rng.permutation(30)
    >>> params = [0.3 * rng.standard_normal(shape) for shape in [(5, 4), (5,), (5, 3), (3,)]]
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> no_momentum = tuple(np.zeros((0,) * p.ndim) for p in params)
    >>> settings = net_settings(TANH, LOG_LOSS, OUTPUT_SOFTMAX, 0.1, alpha=1e-2, batch_size=4)
    >>> loss = net_sgd_epoch_batched(X, y, weights, order, *ours, no_momentum, settings)
    >>> expected = reference.net_sgd_epoch(
    ...     X, y, weights, order, *theirs, None, activation=TANH, loss=LOG_LOSS,
    ...     output="softmax", eta=0.1, alpha=1e-2, batch_size=4,
    ... )
    >>> bool(np.isclose(loss, expected)), all(np.allclose(a, b) for a, b in zip(ours, theirs))
    (True, True)
    """
    return epoch_body(
        X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, 2, True
    )


# The estimators' entry points: epoch_body without the argument checks, for callers that
# validate every argument first (the estimators do, in Python; see epoch_body). Not for other
# callers: a bad argument here reads or writes out of bounds. One function per path, so that a
# call from Python dispatches at full speed (a literal argument measured 16 ms per call).


@njit(cache=True, nogil=True)
def unchecked_plain_epoch(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings
):  # fmt: skip
    return epoch_body(
        X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, 0, False
    )


@njit(cache=True, nogil=True)
def unchecked_general_epoch(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings
):  # fmt: skip
    return epoch_body(
        X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, 1, False
    )


@njit(cache=True, nogil=True)
def unchecked_batched_epoch(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings
):  # fmt: skip
    return epoch_body(
        X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, 2, False
    )


@njit(cache=True, nogil=True)
def net_sgd_epoch(X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings):
    """Run one epoch of scikit-learn's MLP SGD step for a net with one hidden layer.

    One epoch over the rows named by ``order``, scikit-learn's MLP ``solver='sgd'`` step for
    one hidden layer, updating the weights (and the momentum velocities) in place. Per batch B
    of ``settings.batch_size`` consecutive visits, with s_i the sample weights and
    S = sum s_i::

        z1 = W1t x + b1,  a1 = g1(z1),  z2 = a1 W2 + b2,  a2 = g2(z2)               (forward)
        d2 = dLoss/dz2,   d1 = (W2 d2) * g1'(z1)                                     (backward)
        G = (sum_i s_i grad_i + alpha W) / S       (alpha on W1 and W2, not on the biases)
        v = momentum v - eta G;  W += v, or with Nesterov W += momentum v - eta G    (update)

    Every gradient comes from the same forward pass before any weight changes (the handout's
    39.2 f: w1's update uses the current w2). With momentum 0 the step is W -= eta G; with
    batch_size 1 and no penalty it is the handout's per-sample step exactly (the weight s_i
    cancels, as in scikit-learn). A batch whose weights sum to 0 takes no step.

    Parameters
    ----------
    X : ndarray of shape (n_samples, k)
        float32 or float64, C-contiguous. Never written, never copied.
    targets : ndarray of shape (n_samples,) or (n_samples, n_out)
        Integer class codes (one logistic output: the target is ``code == 1``; a softmax: the
        one-hot of the code), or floats used as they are (multilabel 0/1 indicators for
        logistic outputs, regression values for identity outputs).
    sample_weight : ndarray of shape (n_samples,) or (0,)
        float64 sample weights, or an empty array for weight 1 everywhere.
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order.
    W1t : ndarray of shape (H, k)
        The first layer stored one row per hidden unit (the estimators show it as
        ``coefs_[0] = W1t.T``); in X's dtype, C-contiguous, updated in place.
    b1 : ndarray of shape (H,)
        The hidden units' biases, in X's dtype. They always enter the forward pass and are
        updated in place only when ``settings.fit_intercept``.
    W2 : ndarray of shape (H, n_out)
        The second layer, in X's dtype, C-contiguous; updated in place.
    b2 : ndarray of shape (n_out,)
        The output units' biases, in X's dtype; as b1.
    velocities : tuple of 4 ndarrays
        ``(V_W1t, V_b1, V_W2, V_b2)``, the momentum buffers with the weights' shapes, updated
        in place; unused (and may be empty arrays) when ``settings.momentum == 0``.
    settings : NetSettings
        ``NetSettings(activation, loss, output, eta, alpha, momentum, nesterov,
        fit_intercept, batch_size)``: activation in {LOGISTIC, TANH, RELU, 3 (identity)}, loss
        in {LOG_LOSS, SQUARED_ERROR}, output in {OUTPUT_LOGISTIC, OUTPUT_SOFTMAX,
        OUTPUT_IDENTITY}; ``net_settings`` builds it.

    Returns
    -------
    float
        The epoch's loss as scikit-learn's MLP accumulates it: the sum over batches of
        ``len(B)`` times (the s-weighted mean loss of B plus ``alpha / 2 * (||W1||^2 +
        ||W2||^2) / S``, both before the step), divided by the number of visits; accumulated
        in float64 (0.0 for an empty ``order``).

    Raises
    ------
    ValueError
        If the arguments do not fit together: targets or sample_weight without one row per
        row of X, an entry of ``order`` that is not a row of X, weights of the wrong shapes,
        ``batch_size < 1``, identity outputs without squared_error or without 2-D targets,
        2-D targets with a softmax or without one column per output unit, integer codes with
        several logistic outputs, a visited code outside [0, n_out) with a softmax, or (with
        momentum) velocities without the weights' shapes.

    See Also
    --------
    net_epoch : The handout's net: class codes, no weights, penalty or momentum.
    net_sgd_epoch_per_sample : This kernel compiled with the per-sample path only.
    net_sgd_epoch_batched : This kernel compiled with the mini-batch path only.
    output_layer : The output units and their losses.
    fastsgd.reference.net_sgd_epoch : The NumPy version.

    Notes
    -----
    Both paths work on private copies made once per call and written back at the end: W1t
    (and its velocity) with rows zero-padded to a multiple of 8 elements (per sample only),
    and W2 transposed to (n_out, H), so that every loop over hidden units reads contiguous
    memory for any number of outputs. Nothing is allocated per sample. Per sample, the first
    layer's update for this sample and its forward read for the next one are one sweep over
    W1t.

    With momentum, tiny velocities become 0 instead of decaying through the subnormal
    numbers, whose arithmetic measured 18x slower per sample (the velocities of dead relu
    units decay into that range): in the scalar steps every velocity below float32's
    smallest normal number in magnitude (the weights change by less than 1e-38 per step from
    it), and in the per-sample loop every subnormal result, through the CPU's flush-to-zero
    mode (x86).

    Examples
    --------
    A softmax over three classes with tanh hidden units, sample weights, an L2 penalty and
    Nesterov momentum, per sample, against the NumPy reference:

    >>> import numpy as np
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import LOG_LOSS, OUTPUT_SOFTMAX, TANH, net_settings, net_sgd_epoch
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    >>> weights, order = rng.uniform(0.5, 2.0, 40), rng.permutation(40)
    >>> params = [0.3 * rng.standard_normal(shape) for shape in [(6, 5), (6,), (6, 3), (3,)]]
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> ours_v, theirs_v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    >>> settings = net_settings(
    ...     TANH, LOG_LOSS, OUTPUT_SOFTMAX, 0.05, alpha=1e-3, momentum=0.9, nesterov=True
    ... )
    >>> loss = net_sgd_epoch(X, y, weights, order, *ours, tuple(ours_v), settings)
    >>> expected = reference.net_sgd_epoch(
    ...     X, y, weights, order, *theirs, theirs_v, activation=TANH, loss=LOG_LOSS,
    ...     output="softmax", eta=0.05, alpha=1e-3, momentum=0.9, nesterov=True,
    ... )
    >>> bool(np.isclose(loss, expected))
    True
    >>> all(np.allclose(a, b) for a, b in zip(ours + ours_v, theirs + theirs_v))
    True
    """
    if settings.batch_size <= 1:
        return net_sgd_epoch_per_sample(
            X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings
        )
    return net_sgd_epoch_batched(
        X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings
    )


@njit(cache=True, nogil=True)
def handout_settings(W2, eta, activation, loss, fit_intercept, batch_size):
    """net_epoch's settings: one sigmoid output for one unit, else a softmax."""
    output = OUTPUT_LOGISTIC if W2.shape[1] == 1 else OUTPUT_SOFTMAX
    return NetSettings(
        activation, loss, output, float(eta), 0.0, 0.0, False, fit_intercept, batch_size
    )


@njit(cache=True, nogil=True, inline="always")
def no_velocities(W1t):
    """Empty momentum buffers, for calls without momentum."""
    no_matrix = np.zeros((0, 0), dtype=W1t.dtype)
    no_vector = np.zeros(0, dtype=W1t.dtype)
    return (no_matrix, no_vector, no_matrix, no_vector)


@njit(cache=True, nogil=True)
def net_epoch(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size):
    """Run one epoch of the handout's two-layer net, per sample or in mini-batches.

    The handout's net (section 39.2): ``net_sgd_epoch`` with integer class codes y, one
    sigmoid output for n_out = 1 or a softmax for more, and no sample weights, penalty or
    momentum. Per batch B of ``batch_size`` consecutive visits, every gradient from the same
    forward pass::

        z1 = W1t x + b1,  a1 = g1(z1),  z2 = a1 W2 + b2,  a2 = g2(z2)
        d2 = dLoss/dz2,   d1 = (W2 d2) * g1'(z1)
        W -= eta * (the mean of the gradients over B), for W1t, W2 (and b1, b2)

    Parameters
    ----------
    X : ndarray of shape (n_samples, k)
        float32 or float64, C-contiguous. Never written, never copied.
    y : ndarray of shape (n_samples,)
        Integer class codes: with one output unit (n_out = 1) code 1 is the positive class;
        with more, a softmax with one unit per class (every visited code in [0, n_out)).
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order.
    W1t : ndarray of shape (H, k)
        The first layer stored one row per hidden unit; in X's dtype, C-contiguous, updated
        in place.
    b1 : ndarray of shape (H,)
        The hidden units' biases, in X's dtype. They always enter the forward pass and are
        updated in place only when ``fit_intercept``.
    W2 : ndarray of shape (H, n_out)
        The second layer, in X's dtype, C-contiguous; updated in place.
    b2 : ndarray of shape (n_out,)
        The output units' biases, in X's dtype; as b1.
    eta : float
        The learning rate.
    activation : int
        The hidden activation's code in ``ACTIVATIONS``: LOGISTIC (the handout's), TANH, RELU
        or 3 (identity).
    loss : int
        LOG_LOSS or SQUARED_ERROR (the handout's 39.2 d).
    fit_intercept : bool
        Whether the biases are updated.
    batch_size : int
        The visits per batch: 1 is the handout's per-sample SGD.

    Returns
    -------
    float
        The epoch's mean progressive loss: every visit's loss, taken before its batch's
        step, summed in float64 and divided by the number of visits (0.0 for an empty
        ``order``).

    Raises
    ------
    ValueError
        If y does not have one code per row of X, an entry of ``order`` is not a row of X,
        the weights do not have matching shapes, (with a softmax) a visited code is outside
        [0, n_out), or a batch size is below 1.

    See Also
    --------
    net_sgd_epoch : scikit-learn's MLP step, with weights, penalty and momentum.
    net_epoch_per_sample : This kernel compiled with the per-sample path only.
    net_epoch_batched : This kernel compiled with the mini-batch path only.
    fastsgd.reference.net_epoch : The NumPy version, the same arguments.

    Examples
    --------
    The handout's update (39.2 f) for one sample, by hand: x = 2, y* = 1, w1 = 0.5,
    w2 = -1, g1 = g2 = s, the squared error, no biases, eta = 0.1. Both gradients use the
    w2 from before the step:

    >>> import math
    >>> import numpy as np
    >>> from fastsgd.kernels import LOGISTIC, SQUARED_ERROR, net_epoch, sigmoid
    >>> x, y_star, w1, w2, eta = 2.0, 1, 0.5, -1.0, 0.1
    >>> a1 = sigmoid(w1 * x)
    >>> a2 = sigmoid(w2 * a1)
    >>> common = (a2 - y_star) * a2 * (1 - a2)
    >>> W1t, b1, W2, b2 = np.array([[w1]]), np.zeros(1), np.array([[w2]]), np.zeros(1)
    >>> loss = net_epoch(
    ...     np.array([[x]]), np.array([y_star]), np.array([0]), W1t, b1, W2, b2,
    ...     eta, LOGISTIC, SQUARED_ERROR, False, 1,
    ... )
    >>> math.isclose(W1t[0, 0], w1 - eta * common * w2 * a1 * (1 - a1) * x)
    True
    >>> math.isclose(W2[0, 0], w2 - eta * common * a1), math.isclose(loss, 0.5 * (a2 - 1) ** 2)
    (True, True)

    From your own ``@njit`` code, here several epochs in one compiled function, against as
    many epochs of the NumPy reference:

    >>> from numba import njit
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import LOG_LOSS, RELU
    >>> @njit
    ... def train(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, n_epochs):
    ...     losses = np.zeros(n_epochs)
    ...     for epoch in range(n_epochs):
    ...         losses[epoch] = net_epoch(
    ...             X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, 1
    ...         )
    ...     return losses
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    >>> order = rng.permutation(40)
    >>> params = [0.5 * rng.standard_normal(shape) for shape in [(4, 3), (4,), (4, 1), (1,)]]
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> losses = train(X, y, order, *ours, 0.1, RELU, LOG_LOSS, True, 3)
    >>> expected = [
    ...     reference.net_epoch(X, y, order, *theirs, 0.1, RELU, LOG_LOSS, True, 1)
    ...     for _ in range(3)
    ... ]
    >>> np.allclose(losses, expected), all(np.allclose(a, b) for a, b in zip(ours, theirs))
    (True, True)
    """
    settings = handout_settings(W2, eta, activation, loss, fit_intercept, batch_size)
    no_weights = np.zeros(0)
    return net_sgd_epoch(X, y, no_weights, order, W1t, b1, W2, b2, no_velocities(W1t), settings)


@njit(cache=True, nogil=True)
def net_epoch_per_sample(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept):
    """Run ``net_epoch`` per sample, compiled without the mini-batch path.

    ``net_epoch`` with batch_size 1 (the handout's per-sample SGD, see there), compiled with
    the plain per-sample loop only: no penalty, momentum or mini-batch code.

    Parameters
    ----------
    X : ndarray of shape (n_samples, k)
        float32 or float64, C-contiguous. Never written, never copied.
    y : ndarray of shape (n_samples,)
        Integer class codes: with one output unit (n_out = 1) code 1 is the positive class;
        with more, a softmax with one unit per class (every visited code in [0, n_out)).
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order.
    W1t : ndarray of shape (H, k)
        The first layer stored one row per hidden unit; in X's dtype, C-contiguous, updated
        in place.
    b1 : ndarray of shape (H,)
        The hidden units' biases, in X's dtype. They always enter the forward pass and are
        updated in place only when ``fit_intercept``.
    W2 : ndarray of shape (H, n_out)
        The second layer, in X's dtype, C-contiguous; updated in place.
    b2 : ndarray of shape (n_out,)
        The output units' biases, in X's dtype; as b1.
    eta : float
        The learning rate.
    activation : int
        The hidden activation's code in ``ACTIVATIONS``: LOGISTIC (the handout's), TANH, RELU
        or 3 (identity).
    loss : int
        LOG_LOSS or SQUARED_ERROR (the handout's 39.2 d).
    fit_intercept : bool
        Whether the biases are updated.

    Returns
    -------
    float
        The epoch's mean progressive loss: every visit's loss, taken before its batch's
        step, summed in float64 and divided by the number of visits (0.0 for an empty
        ``order``).

    Raises
    ------
    ValueError
        If y does not have one code per row of X, an entry of ``order`` is not a row of X,
        the weights do not have matching shapes, or (with a softmax) a visited code is
        outside [0, n_out).

    See Also
    --------
    net_epoch : Per sample or in mini-batches.

    Examples
    --------
    The same epoch as ``net_epoch`` with batch_size 1:

    >>> import numpy as np
    >>> from fastsgd.kernels import LOG_LOSS, RELU, net_epoch, net_epoch_per_sample
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    >>> order = rng.permutation(40)
    >>> params = [0.5 * rng.standard_normal(shape) for shape in [(4, 3), (4,), (4, 1), (1,)]]
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> loss = net_epoch_per_sample(X, y, order, *ours, 0.1, RELU, LOG_LOSS, True)
    >>> expected = net_epoch(X, y, order, *theirs, 0.1, RELU, LOG_LOSS, True, 1)
    >>> bool(np.isclose(loss, expected)), all(np.allclose(a, b) for a, b in zip(ours, theirs))
    (True, True)
    """
    settings = handout_settings(W2, eta, activation, loss, fit_intercept, 1)
    return net_plain_epoch(X, y, np.zeros(0), order, W1t, b1, W2, b2, no_velocities(W1t), settings)


@njit(cache=True, nogil=True)
def net_epoch_batched(
    X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size
):
    """Run ``net_epoch`` in mini-batches, compiled without the per-sample path.

    ``net_epoch`` with batch_size > 1 (see there): each batch's gradients are averaged over
    its visits, from BLAS-3 products over the gathered batch.

    Parameters
    ----------
    X : ndarray of shape (n_samples, k)
        float32 or float64, C-contiguous. Never written, never copied.
    y : ndarray of shape (n_samples,)
        Integer class codes: with one output unit (n_out = 1) code 1 is the positive class;
        with more, a softmax with one unit per class (every visited code in [0, n_out)).
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order.
    W1t : ndarray of shape (H, k)
        The first layer stored one row per hidden unit; in X's dtype, C-contiguous, updated
        in place.
    b1 : ndarray of shape (H,)
        The hidden units' biases, in X's dtype. They always enter the forward pass and are
        updated in place only when ``fit_intercept``.
    W2 : ndarray of shape (H, n_out)
        The second layer, in X's dtype, C-contiguous; updated in place.
    b2 : ndarray of shape (n_out,)
        The output units' biases, in X's dtype; as b1.
    eta : float
        The learning rate.
    activation : int
        The hidden activation's code in ``ACTIVATIONS``: LOGISTIC (the handout's), TANH, RELU
        or 3 (identity).
    loss : int
        LOG_LOSS or SQUARED_ERROR (the handout's 39.2 d).
    fit_intercept : bool
        Whether the biases are updated.
    batch_size : int
        The visits per batch (the last batch may be shorter).

    Returns
    -------
    float
        The epoch's mean progressive loss: every visit's loss, taken before its batch's
        step, summed in float64 and divided by the number of visits (0.0 for an empty
        ``order``).

    Raises
    ------
    ValueError
        If y does not have one code per row of X, an entry of ``order`` is not a row of X,
        the weights do not have matching shapes, (with a softmax) a visited code is outside
        [0, n_out), or a batch size is below 1.

    See Also
    --------
    net_epoch : Per sample or in mini-batches.

    Examples
    --------
    Batches of 4 against the NumPy reference, a softmax over three classes:

    >>> import numpy as np
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import LOG_LOSS, TANH, net_epoch_batched
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 3)), rng.integers(0, 3, 30)
    >>> order = rng.permutation(30)
    >>> params = [0.5 * rng.standard_normal(shape) for shape in [(4, 3), (4,), (4, 3), (3,)]]
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> loss = net_epoch_batched(X, y, order, *ours, 0.1, TANH, LOG_LOSS, True, 4)
    >>> expected = reference.net_epoch(X, y, order, *theirs, 0.1, TANH, LOG_LOSS, True, 4)
    >>> bool(np.isclose(loss, expected)), all(np.allclose(a, b) for a, b in zip(ours, theirs))
    (True, True)
    """
    settings = handout_settings(W2, eta, activation, loss, fit_intercept, batch_size)
    return net_sgd_epoch_batched(
        X, y, np.zeros(0), order, W1t, b1, W2, b2, no_velocities(W1t), settings
    )


__all__ = [
    "LOG_LOSS",
    "NetSettings",
    "net_epoch",
    "net_epoch_batched",
    "net_epoch_per_sample",
    "net_settings",
    "net_sgd_epoch",
    "net_sgd_epoch_batched",
    "net_sgd_epoch_per_sample",
]
