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
    """Logistic function s(z) = 1 / (1 + exp(-z)), without overflow for any z.

    Parameters
    ----------
    z : float
        The margin, any float64 (infinities included).

    Returns
    -------
    float
        s(z), in [0, 1].

    See Also
    --------
    sigmoid_pair : s(z) and s(-z) together, both with full relative precision.
    fastsgd.reference.sigmoid : The NumPy version.

    Notes
    -----
    exp is only ever taken of a non-positive number: 1 / (1 + exp(-z)) for z >= 0 and
    exp(z) / (1 + exp(z)) for z < 0, so nothing overflows for any finite or infinite z.

    Examples
    --------
    >>> from fastsgd.kernels import sigmoid
    >>> sigmoid(0.0), sigmoid(2.0)
    (0.5, 0.8807970779778823)
    >>> sigmoid(-800.0), sigmoid(800.0)  # exp(800) alone would overflow
    (0.0, 1.0)
    """
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def log1pexp(z):
    """Softplus log(1 + exp(z)), finite for every finite z and exact in both tails.

    Parameters
    ----------
    z : float
        Any float64.

    Returns
    -------
    float
        log(1 + exp(z)), at least max(z, 0).

    Notes
    -----
    For z > 0 it is z + log1p(exp(-z)), otherwise log1p(exp(z)): exp never overflows, and
    log1p keeps the full relative precision of the small values far in the left tail, where
    log(1 + exp(z)) would round to 0.

    Examples
    --------
    >>> import math
    >>> from fastsgd.kernels import log1pexp
    >>> log1pexp(0.0)  # log 2
    0.6931471805599453
    >>> log1pexp(1000.0)  # exp(1000) alone would overflow
    1000.0
    >>> log1pexp(-40.0) == math.exp(-40.0)  # log(1 + exp(-40)) would round to 0.0
    True
    """
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@njit(cache=True, nogil=True)
def sigmoid_pair(z):
    """Logistic function at z and -z, and exp(-abs(z)), from one exp.

    Parameters
    ----------
    z : float
        The margin.

    Returns
    -------
    s_pos : float
        s(z).
    s_neg : float
        s(-z) = 1 - s(z), with full relative precision also where s(z) rounds to 1.
    tail : float
        exp(-abs(z)), the one exp that both come from.

    See Also
    --------
    sigmoid : s(z) alone.
    logistic_terms : The log-loss and its residual from the same exp.

    Examples
    --------
    At z = 40, s(z) rounds to 1, so 1 - s(z) would be 0; s(-z) keeps its value:

    >>> from fastsgd.kernels import sigmoid, sigmoid_pair
    >>> s_pos, s_neg, tail = sigmoid_pair(40.0)
    >>> s_pos, 1.0 - sigmoid(40.0)
    (1.0, 0.0)
    >>> s_neg, tail
    (4.248354255291589e-18, 4.248354255291589e-18)
    """
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
    """Log-loss of margin z and its residual, split for the epoch loops.

    With the label y = 1 if ``positive`` else 0::

        residual = y - s(z)                     (the handout's update factor)
        loss     = hinge + log(1 + tail)        (cross-entropy -[y ln s(z) + (1-y) ln(1-s(z))])

    Parameters
    ----------
    z : float
        The margin ``w . x + b``.
    positive : bool
        The label: True for y = 1, False for y = 0.

    Returns
    -------
    residual : float
        y - s(z), with full relative precision when s(z) is close to 0 or 1.
    hinge : float
        The loss's linear part: max(-z, 0) for y = 1, max(z, 0) for y = 0.
    tail : float
        exp(-abs(z)); the loss is ``hinge + log1p(tail)``.

    See Also
    --------
    logistic_loss : The loss alone.
    logistic_residual : The residual alone.
    loss_terms : The same split for every loss of the linear engine.

    Notes
    -----
    One exp serves both: loss = softplus(-z) for y = 1 and softplus(z) for y = 0, where
    ``softplus(u) = max(u, 0) + log1p(exp(-abs(u)))``, and the residual is s(-z) or -s(z).
    Nothing overflows, log(0) never happens, and the loss is finite for ``abs(z)`` up to the
    largest float64. The epoch loops take the log of the tails' running product every few
    hundred samples instead of a log1p per sample.

    Examples
    --------
    >>> import math
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import logistic_terms, sigmoid
    >>> residual, hinge, tail = logistic_terms(2.0, True)
    >>> math.isclose(residual, 1.0 - sigmoid(2.0)), hinge, math.isclose(tail, math.exp(-2.0))
    (True, 0.0, True)
    >>> math.isclose(hinge + math.log1p(tail), reference.logistic_loss(2.0, True))
    True
    >>> logistic_terms(-800.0, True)  # the loss is 800 + log1p(0): no overflow, no log(0)
    (1.0, 800.0, 0.0)
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
    """Cross-entropy -[y ln s(z) + (1-y) ln(1-s(z))] of margin z, without overflow.

    Parameters
    ----------
    z : float
        The margin ``w . x + b``.
    positive : bool
        The label: True for y = 1, False for y = 0.

    Returns
    -------
    float
        The loss, finite for every finite z (see ``logistic_terms`` for how).

    See Also
    --------
    logistic_terms : The loss split into its parts, with the residual.
    fastsgd.reference.logistic_loss : The NumPy version.

    Examples
    --------
    >>> import math
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import logistic_loss
    >>> logistic_loss(0.0, True)  # ln 2
    0.6931471805599453
    >>> math.isclose(logistic_loss(1.5, False), reference.logistic_loss(1.5, False))
    True
    >>> logistic_loss(-800.0, True)  # -ln s(-800) computed directly would be inf
    800.0
    """
    _, hinge, tail = logistic_terms(z, positive)
    return hinge + math.log1p(tail)


@njit(cache=True, nogil=True)
def logistic_residual(z, positive):
    """Residual y - s(z) of margin z, the factor of the handout's update.

    Parameters
    ----------
    z : float
        The margin ``w . x + b``.
    positive : bool
        The label: True for y = 1, False for y = 0.

    Returns
    -------
    float
        y - s(z), with full relative precision when s(z) is close to 0 or 1 (see
        ``logistic_terms``). The SGD step is ``w <- w + eta * residual * x``.

    See Also
    --------
    logistic_terms : The residual with the loss's parts.

    Examples
    --------
    >>> from fastsgd.kernels import logistic_residual, sigmoid
    >>> logistic_residual(0.0, True), logistic_residual(0.0, False)
    (0.5, -0.5)
    >>> logistic_residual(40.0, True), 1.0 - sigmoid(40.0)  # s(40) rounds to 1
    (4.248354255291589e-18, 0.0)
    """
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
    """Hyperbolic tangent through one exp, with absolute error below 4e-16.

    Parameters
    ----------
    z : float
        Any float64.

    Returns
    -------
    float
        tanh(z), in [-1, 1].

    See Also
    --------
    activate : The hidden activations, tanh among them.

    Notes
    -----
    libm's tanh costs 20-28 ns a call here against ~6 ns for this form; a hidden layer calls it
    H times per sample. ``copysign((1 - e) / (1 + e), z)`` with ``e = exp(-2 abs(z))`` never
    overflows; it loses relative (not absolute) precision only for ``abs(z) < 1e-8``, where
    tanh(z) ~ z is far below the weights' rounding.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> from fastsgd.kernels import tanh
    >>> grid = np.linspace(-20.0, 20.0, 401)
    >>> max(abs(tanh(z) - math.tanh(z)) for z in grid) < 4e-16
    True
    >>> tanh(1000.0), tanh(-math.inf)
    (1.0, -1.0)
    """
    e = math.exp(-2.0 * abs(z))
    return math.copysign((1.0 - e) / (1.0 + e), z)


@njit(cache=True, nogil=True)
def activate(z, kind):
    """Hidden activation g(z): logistic (the handout's), tanh, relu or identity.

    Parameters
    ----------
    z : float
        The hidden unit's input.
    kind : int
        The activation's code, its position in ``ACTIVATIONS``: ``LOGISTIC`` (0), ``TANH``
        (1), ``RELU`` (2) or 3 (identity). Any other code gives relu.

    Returns
    -------
    float
        g(z): s(z), tanh(z) (the ``tanh`` kernel), max(z, 0) or z.

    See Also
    --------
    activation_slope : Its derivative.
    fastsgd.reference.activate : The NumPy version, over an array.

    Examples
    --------
    >>> from fastsgd.kernels import ACTIVATIONS, LOGISTIC, RELU, activate
    >>> activate(0.0, LOGISTIC)
    0.5
    >>> activate(-2.0, RELU), activate(2.0, RELU)
    (0.0, 2.0)
    >>> activate(-2.0, ACTIVATIONS.index("identity"))
    -2.0
    """
    if kind == LOGISTIC:
        return sigmoid(z)
    if kind == TANH:
        return tanh(z)
    if kind == IDENTITY:
        return z
    return max(z, 0.0)


@njit(cache=True, nogil=True)
def activation_slope(z, a, kind):
    """Slope g'(z) of the hidden activation, from z and a = g(z).

    Parameters
    ----------
    z : float
        The hidden unit's input (relu reads it).
    a : float
        Its activation ``activate(z, kind)`` (logistic and tanh read it).
    kind : int
        The activation's code, as in ``activate``.

    Returns
    -------
    float
        a (1 - a) for logistic, 1 - a^2 for tanh, 1 for identity, and for relu the step: 1
        where z > 0, else 0 (0 at z = 0).

    See Also
    --------
    activate : The activation g.

    Examples
    --------
    Against a central difference of ``activate``, and relu's step at 0:

    >>> from fastsgd.kernels import LOGISTIC, RELU, TANH, activate, activation_slope
    >>> z, h = 0.7, 1e-6
    >>> for kind in (LOGISTIC, TANH):
    ...     numeric = (activate(z + h, kind) - activate(z - h, kind)) / (2 * h)
    ...     print(abs(numeric - activation_slope(z, activate(z, kind), kind)) < 1e-9)
    True
    True
    >>> activation_slope(0.0, 0.0, RELU), activation_slope(0.5, 0.5, RELU)
    (0.0, 1.0)
    """
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
    """Output units of the net, the loss and dLoss/dz2 for one sample.

    Writes a2 = g2(z2) and d2 = dLoss/dz2, with y the sample's targets::

        output, loss                d2 = dLoss/dz2                   loss
        logistic, log_loss          a2 - y                           sum of the units'
                                                                     cross-entropies
        logistic, squared_error     (a2 - y) a2 (1 - a2)             1/2 sum (a2 - y)^2
                                    (handout 39.2 d)
        softmax, log_loss           a2 - y                           -sum y log a2
        softmax, squared_error      a2_c ((a2_c - y_c)               1/2 sum (a2 - y)^2
                                      - sum_j a2_j (a2_j - y_j))
        identity, squared_error     a2 - y                           1/2 mean over the units
                                                                     of (a2 - y)^2

    The identity output's loss is MLPRegressor's (the mean over the units), its gradient that
    of the sum.

    Parameters
    ----------
    z2 : ndarray of shape (n_out,)
        The output units' inputs (pre-activations).
    a2 : ndarray of shape (n_out,)
        Written: the outputs g2(z2).
    d2 : ndarray of shape (n_out,)
        Written: dLoss/dz2.
    targets : ndarray of shape (n_samples,) or (n_samples, n_out)
        Integer class codes (one logistic unit: the target is ``code == 1``; a softmax: the
        one-hot of the code), or a 2-D float array read as it is (multilabel 0/1 indicators
        for logistic units, regression values for identity units).
    row : int
        The sample's row in ``targets``.
    output : int
        ``OUTPUT_LOGISTIC`` (a sigmoid per unit: two classes, the handout, or one per label),
        ``OUTPUT_SOFTMAX`` (one unit per class) or ``OUTPUT_IDENTITY`` (regression).
    loss_kind : int
        ``LOG_LOSS`` or ``SQUARED_ERROR`` (identity outputs: ``SQUARED_ERROR`` only).

    Returns
    -------
    linear : float
        The loss's linear part.
    factor : float
        The rest of the loss, as a factor >= 1: the loss is ``linear + log(factor)``.

    See Also
    --------
    fastsgd.reference.net_loss_and_delta : The NumPy version, for logistic and softmax units.

    Notes
    -----
    The loss comes in two parts so that the epoch loops can multiply the factors and take
    one log every few hundred samples: a log or log1p per sample measured ~25 ns here, as
    much as the rest of the output layer.

    Examples
    --------
    A softmax over three classes with the log-loss, for a sample of class 1:

    >>> import math
    >>> import numpy as np
    >>> from fastsgd.kernels import LOG_LOSS, OUTPUT_SOFTMAX, output_layer
    >>> z2 = np.array([1.0, 2.0, 0.5])
    >>> a2, d2 = np.empty(3), np.empty(3)
    >>> targets = np.array([1])
    >>> linear, factor = output_layer(z2, a2, d2, targets, 0, OUTPUT_SOFTMAX, LOG_LOSS)
    >>> np.allclose(a2, np.exp(z2) / np.exp(z2).sum())
    True
    >>> np.allclose(d2, a2 - np.array([0.0, 1.0, 0.0]))
    True
    >>> math.isclose(linear + math.log(factor), -math.log(a2[1]))
    True
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
    """Loss of prediction p for target y and its gradient, for the linear engine.

    Each definition is scikit-learn's (sklearn/linear_model/_sgd_fast.pyx.tp,
    sklearn/_loss/_loss.pyx.tp), with y01 = 1 if y > 0 else 0::

        log_loss:          log(1 + exp(p)) - y01 p,       -dloss = y01 - s(p)
        squared_error:     (p - y)^2 / 2,                 -dloss = y - p
        hinge / perceptron (threshold 1 / 0), z = p y:    threshold - z if z <= threshold
        squared_hinge, z = 1 - p y:                       z^2 if z > 0
        modified_huber, z = p y:                          (1 - z)^2 for -1 <= z < 1, -4 z below
        huber, r = p - y:                                 r^2 / 2 if |r| <= epsilon, else
                                                          epsilon (|r| - epsilon / 2)
        epsilon_insensitive:                              max(0, |y - p| - epsilon)
        squared_epsilon_insensitive:                      max(0, |y - p| - epsilon)^2

    (each loss 0 outside the range given).

    Parameters
    ----------
    kind : int
        The loss's code, its position in ``LINEAR_LOSSES``.
    p : float
        The prediction ``w . x + b``.
    y : float
        The target: +1 / -1 for a classifier (log_loss reads y > 0 as the label 1), the value
        for a regressor.
    epsilon : float
        Huber's delta and the epsilon-insensitive losses' margin; unused by the others.

    Returns
    -------
    residual : float
        -dloss/dp, clipped to [-1e12, 1e12] as scikit-learn clips it (a NaN stays NaN): the
        weights move by ``eta * residual * x``.
    linear : float
        The loss's linear part.
    tail : float
        0 for every loss but log_loss, whose loss is ``linear + log1p(tail)`` (its stable
        split, see ``logistic_terms``).

    See Also
    --------
    logistic_terms : log_loss's split.
    fastsgd.reference.loss_and_gradient : The NumPy version: the loss and dloss/dp.

    Examples
    --------
    >>> from fastsgd.kernels import LINEAR_LOSSES, loss_terms
    >>> loss_terms(LINEAR_LOSSES.index("hinge"), 0.25, 1.0, 0.1)  # 1 - z, z = p y = 0.25
    (1.0, 0.75, 0.0)
    >>> loss_terms(LINEAR_LOSSES.index("huber"), 3.0, 1.0, 1.0)  # r = 2 > epsilon
    (-1.0, 1.5, 0.0)

    Every loss against the NumPy reference (residual = -dloss/dp):

    >>> import math
    >>> from fastsgd import reference
    >>> for code, name in enumerate(LINEAR_LOSSES):
    ...     residual, linear, tail = loss_terms(code, 0.3, -1.0, 0.1)
    ...     loss, gradient = reference.loss_and_gradient(name, 0.3, -1.0, 0.1)
    ...     assert math.isclose(linear + math.log1p(tail), loss), name
    ...     assert math.isclose(residual, -gradient), name
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
