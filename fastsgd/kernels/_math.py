"""Scalar math shared by every kernel: stable sigmoid, softplus, log-loss and its residual.

All functions take and return float64 scalars. They are small enough that LLVM inlines them into
the epoch loops, so keeping them here costs nothing and keeps the update math in one place.
"""

import math

from numba import njit
from numba.extending import overload

from fastsgd._names import (  # noqa: F401 - the codes' names, re-exported with the codes
    ACTIVATIONS,
    CLASSIFICATION_LOSSES,
    LINEAR_LOSSES,
    LOSSES,
    OUTPUTS,
    REGRESSION_LOSSES,
)


@njit(cache=True, nogil=True)
def sigmoid(z):
    """s(z) = 1 / (1 + exp(-z)), without overflow for any finite or infinite z."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def log1pexp(z):
    """log(1 + exp(z)) (softplus), finite for every finite z and exact in both tails."""
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@njit(cache=True, nogil=True)
def sigmoid_pair(z):
    """(s(z), s(-z), exp(-|z|)) from one exp, each with full relative precision."""
    tail = math.exp(-abs(z))
    s_pos, s_neg = sigmoid_pair_from_tail(z, tail)
    return s_pos, s_neg, tail


@njit(cache=True, nogil=True)
def sigmoid_pair_from_tail(z, tail):
    """sigmoid_pair given tail = exp(-|z|): no call inside, so loops over it vectorize."""
    big = 1.0 / (1.0 + tail)
    small = tail * big
    if z >= 0.0:
        return big, small
    return small, big


@njit(cache=True, nogil=True)
def logistic_terms(z, positive):
    """The log-loss of margin z for label y = positive (0/1), split for the epoch loops.

    Returns ``(residual, hinge, tail)`` with

        residual = y - s(z)                     (the handout's update factor)
        loss     = hinge + log(1 + tail)        (cross-entropy -[y ln s(z) + (1-y) ln(1-s(z))])

    One exp serves both: loss = softplus(-z) for y = 1 and softplus(z) for y = 0, where
    softplus(u) = max(u, 0) + log1p(exp(-|u|)), and the residual is s(-z) or -s(z). Nothing
    overflows, log(0) never happens, and the loss is finite for |z| up to the largest float64.
    The residual keeps full relative precision when s(z) is close to 0 or 1.
    """
    tail = math.exp(-abs(z))
    residual, hinge = logistic_terms_from_tail(z, tail, positive)
    return residual, hinge, tail


@njit(cache=True, nogil=True)
def logistic_terms_from_tail(z, tail, positive):
    """(residual, hinge) of ``logistic_terms`` given tail = exp(-|z|).

    Without the exp call inside, a loop over many models applies it as vector code: the
    one-vs-rest and sweep kernels take all the exps first, then this for every model.
    """
    s_pos, s_neg = sigmoid_pair_from_tail(z, tail)
    if positive:
        return s_neg, max(-z, 0.0)
    return -s_pos, max(z, 0.0)


@njit(cache=True, nogil=True)
def logistic_loss(z, positive):
    """Cross-entropy of margin z for label y = positive (0/1); stable, see ``logistic_terms``."""
    _, hinge, tail = logistic_terms(z, positive)
    return hinge + math.log1p(tail)


@njit(cache=True, nogil=True)
def logistic_residual(z, positive):
    """y - s(z) for label y = positive (0/1); stable, see ``logistic_terms``."""
    return logistic_terms(z, positive)[0]


# -- the two-layer net (handout section 39.2) ----------------------------------------------------

# Codes shared by the kernels, the reference and the estimators (numba branches on integers).
LOGISTIC, TANH, RELU, IDENTITY = 0, 1, 2, 3
LOG_LOSS, SQUARED_ERROR = 0, 1
# The net's output units: g2 and what the targets mean (see output_layer).
OUTPUT_LOGISTIC, OUTPUT_SOFTMAX, OUTPUT_IDENTITY = 0, 1, 2
# ACTIVATIONS, LOSSES, OUTPUTS: the codes' names, in fastsgd._names (numba-free)


@njit(cache=True, nogil=True)
def tanh(z):
    """tanh(z) through one exp, with absolute error below 4e-16.

    libm's tanh costs 20-28 ns a call here against ~6 ns for this form; a hidden layer calls it
    H times per sample. (1 - e) / (1 + e) with e = exp(-2|z|) never overflows; it loses relative
    (not absolute) precision only for |z| < 1e-8, where tanh(z) ~ z is far below the weights'
    rounding.
    """
    e = math.exp(-2.0 * abs(z))
    return math.copysign((1.0 - e) / (1.0 + e), z)


@njit(cache=True, nogil=True)
def activate(z, kind):
    """g(z) for the hidden layer: logistic (the handout), tanh, relu or identity."""
    if kind == LOGISTIC:
        return sigmoid(z)
    if kind == TANH:
        return tanh(z)
    if kind == IDENTITY:
        return z
    return max(z, 0.0)


@njit(cache=True, nogil=True)
def activation_slope(z, a, kind):
    """g'(z), from z and a = g(z): a(1 - a), 1 - a^2, 1, or the relu step (0 at z = 0)."""
    if kind == LOGISTIC:
        return a * (1.0 - a)
    if kind == TANH:
        return 1.0 - a * a
    if kind == IDENTITY:
        return 1.0
    return 1.0 if z > 0.0 else 0.0


def target_value(targets, row, c, n_out):
    """Output unit c's target for sample ``row``, as a float (inside ``@njit`` code only).

    ``targets`` is either 1-D integer class codes (one sigmoid unit: ``code == 1``; a softmax:
    the one-hot of the code) or a 2-D float array read as it is (multilabel 0/1 indicators for
    sigmoid units, regression values for identity units).
    """
    raise NotImplementedError("target_value is only available inside @njit functions")


@overload(target_value, jit_options={"cache": True, "nogil": True})
def _target_value(targets, row, c, n_out):
    if targets.ndim == 1:

        def from_codes(targets, row, c, n_out):
            code = targets[row]
            if n_out == 1:
                return 1.0 if code == 1 else 0.0
            return 1.0 if code == c else 0.0

        return from_codes

    def from_matrix(targets, row, c, n_out):
        return float(targets[row, c])

    return from_matrix


@njit(cache=True, nogil=True)
def output_layer(z2, a2, d2, targets, row, output, loss_kind):
    """The output units, the loss and dLoss/dz2 for one sample.

    ``z2`` holds the output pre-activations (length n_out), ``targets[row]`` the sample's target
    (see target_value). ``output`` is OUTPUT_LOGISTIC (a sigmoid per unit: two classes, the
    handout, or one per label), OUTPUT_SOFTMAX (one unit per class) or OUTPUT_IDENTITY
    (regression). Writes a2 = g2(z2) and d2 = dLoss/dz2, with y the targets:

    - logistic, log_loss:        d2 = a2 - y,  loss = sum of the units' cross-entropies
    - logistic, squared_error:   d2 = (a2 - y) a2 (1 - a2),  loss = 1/2 sum (a2 - y)^2
                                 (handout 39.2 d)
    - softmax, log_loss:         d2 = a2 - y,  loss = -sum y log a2
    - softmax, squared_error:    d2_c = a2_c ((a2_c - y_c) - sum_j a2_j (a2_j - y_j))
    - identity, squared_error:   d2 = a2 - y,  loss = 1/2 mean over the units of (a2 - y)^2
                                 (MLPRegressor's loss; its gradient is of the sum)

    Returns ``(linear, factor)`` with loss = linear + log(factor) and 1 <= factor, so that the
    epoch loops can multiply the factors and take one log every few hundred samples: a log or
    log1p per sample measured ~25 ns here, as much as the rest of the output layer.
    """
    n_out = z2.shape[0]
    if output == OUTPUT_IDENTITY:
        total = 0.0
        for c in range(n_out):
            error = z2[c] - target_value(targets, row, c, n_out)
            a2[c] = z2[c]
            d2[c] = error
            total += error * error
        return 0.5 * total / n_out, 1.0
    if output == OUTPUT_LOGISTIC:
        linear, factor = 0.0, 1.0
        for c in range(n_out):
            y = target_value(targets, row, c, n_out)
            z = z2[c]
            a, one_minus_a, tail = sigmoid_pair(z)
            a2[c] = a
            # a2 - y, exact in both tails for 0/1 targets
            error = -one_minus_a if y == 1.0 else (a if y == 0.0 else a - y)
            if loss_kind == LOG_LOSS:
                d2[c] = error
                linear += max(z, 0.0) - y * z
                factor *= 1.0 + tail
            else:
                d2[c] = error * a * one_minus_a
                linear += 0.5 * error * error
        return linear, factor
    top = z2[0]
    for c in range(1, n_out):
        top = max(top, z2[c])
    total = 0.0
    for c in range(n_out):
        e = math.exp(z2[c] - top)
        a2[c] = e
        total += e
    for c in range(n_out):
        a2[c] /= total
    if loss_kind == LOG_LOSS:
        linear = 0.0
        for c in range(n_out):
            y = target_value(targets, row, c, n_out)
            d2[c] = a2[c] - y
            linear += y * (top - z2[c])
        return linear, total
    loss = 0.0
    inner = 0.0
    for c in range(n_out):
        err = a2[c] - target_value(targets, row, c, n_out)
        loss += err * err
        inner += a2[c] * err
    for c in range(n_out):
        d2[c] = a2[c] * ((a2[c] - target_value(targets, row, c, n_out)) - inner)
    return 0.5 * loss, 1.0


# -- the linear models' losses (scikit-learn's SGDClassifier / SGDRegressor) ----------------------

# Codes of every loss of the linear engine; the first two are the net's LOG_LOSS and
# SQUARED_ERROR, so one code means one loss everywhere.
(
    HINGE, MODIFIED_HUBER, SQUARED_HINGE, PERCEPTRON, HUBER, EPSILON_INSENSITIVE,
    SQUARED_EPSILON_INSENSITIVE,
) = range(2, 9)  # fmt: skip
# LINEAR_LOSSES (the codes' names), CLASSIFICATION_LOSSES, REGRESSION_LOSSES: in fastsgd._names

# scikit-learn clips every loss gradient to this size (_sgd_fast's MAX_DLOSS)
MAX_DLOSS = 1e12


@njit(cache=True, nogil=True)
def loss_terms(kind, p, y, epsilon):
    """One sample's loss of prediction p for target y, and its gradient, for the linear engine.

    ``y`` is the target: +1 / -1 for a classifier (log_loss reads y > 0 as the label 1),
    the value for a regressor. ``epsilon`` is huber's delta and the insensitive losses' margin.
    Returns ``(residual, linear, tail)``: residual = -dloss/dp clipped to MAX_DLOSS (the weights
    move by eta * residual * x), and loss = linear + log(1 + tail), with tail = 0 for every loss
    but log_loss (whose stable split ``logistic_terms`` explains). Each definition is
    scikit-learn's (sklearn/linear_model/_sgd_fast.pyx.tp, sklearn/_loss/_loss.pyx.tp):

    - log_loss:          log(1 + exp(p)) - y01 p,       -dloss = y01 - s(p)
    - squared_error:     (p - y)^2 / 2,                 -dloss = y - p
    - hinge / perceptron (threshold 1 / 0), z = p y:    threshold - z if z <= threshold
    - squared_hinge, z = 1 - p y:                       z^2 if z > 0
    - modified_huber, z = p y:                          (1 - z)^2 for -1 <= z < 1, -4 z below
    - huber, r = p - y:                                 r^2 / 2 if |r| <= epsilon, else
                                                        epsilon (|r| - epsilon / 2)
    - epsilon_insensitive:                              max(0, |y - p| - epsilon)
    - squared_epsilon_insensitive:                      max(0, |y - p| - epsilon)^2
    """
    if kind == LOG_LOSS:
        residual, linear, tail = logistic_terms(p, y > 0.0)
        return residual, linear, tail
    residual = 0.0
    linear = 0.0
    if kind == SQUARED_ERROR:
        residual = y - p
        linear = 0.5 * residual * residual
    elif kind == HINGE or kind == PERCEPTRON:
        threshold = 1.0 if kind == HINGE else 0.0
        z = p * y
        if z <= threshold:
            residual = y
            linear = threshold - z
    elif kind == SQUARED_HINGE:
        z = 1.0 - p * y
        if z > 0.0:
            residual = 2.0 * y * z
            linear = z * z
    elif kind == MODIFIED_HUBER:
        z = p * y
        if z < 1.0:
            if z >= -1.0:
                residual = 2.0 * (1.0 - z) * y
                linear = (1.0 - z) * (1.0 - z)
            else:
                residual = 4.0 * y
                linear = -4.0 * z
    elif kind == HUBER:
        r = p - y
        if abs(r) <= epsilon:
            residual = -r
            linear = 0.5 * r * r
        else:
            residual = -epsilon if r >= 0.0 else epsilon
            linear = epsilon * (abs(r) - 0.5 * epsilon)
    elif kind == EPSILON_INSENSITIVE:
        if y - p > epsilon:
            residual = 1.0
        elif p - y > epsilon:
            residual = -1.0
        linear = max(abs(y - p) - epsilon, 0.0)
    else:  # SQUARED_EPSILON_INSENSITIVE
        z = y - p
        if z > epsilon:
            residual = 2.0 * (z - epsilon)
        elif z < -epsilon:
            residual = -2.0 * (-z - epsilon)
        excess = abs(z) - epsilon
        linear = excess * excess if excess > 0.0 else 0.0
    # comparisons rather than min/max, so that a NaN residual stays NaN (divergence is detected
    # from the weights)
    if residual > MAX_DLOSS:
        residual = MAX_DLOSS
    elif residual < -MAX_DLOSS:
        residual = -MAX_DLOSS
    return residual, linear, 0.0
