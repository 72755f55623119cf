"""Plain-NumPy per-sample SGD: the benchmarks' baseline and the tests' oracle.

Each function computes what its compiled kernel in ``fastsgd.kernels`` computes, written as the
obvious NumPy loop with no tricks, so that what it computes is easy to check by eye against the
course handout (Discussion 11, ML II: sections 39.1 and 39.2, transcribed below).
``logistic_epoch`` and ``net_epoch`` take the same arguments as the kernels of those
names; ``net_sgd_epoch`` and ``sgd_classifier_epoch`` take keyword arguments where their kernels
(``fastsgd.kernels.net_sgd_epoch``, ``fastsgd.kernels.linear_sgd_epoch``) take a settings
tuple. The module imports only NumPy.

Logistic regression (handout section 39.1). A sample is a feature vector x = [x_1, ..., x_k]
with a label y in {0, 1}; the model predicts P(Y = 1 | x) with the logistic function s and
learns the weights w by SGD on the cross-entropy loss L::

    h(x) = s(w . x),  s(z) = 1 / (1 + exp(-z))
    L = -[y ln h(x) + (1 - y) ln(1 - h(x))]
    dL/dw = -x (y - h(x))
    w <- w + eta x (y - h(x))                      (the SGD update, 39.1 d)

``sigmoid`` is s, ``logistic_loss`` is L and ``logistic_epoch`` is the update, one sample at a
time, for K models at once and with an intercept b in the margin: h(x) = s(w . x + b).

The two-layer net (handout section 39.2). The forward pass, the loss and the backward pass of
the handout's net, with hidden activation g1 and output g2::

    z1 = W1 x,  a1 = g1(z1),  z2 = w2 . a1,  a2 = g2(z2)
    Loss = 1/2 (a2 - y*)^2                         (g1 = g2 = s, 39.2 d)
    dLoss/dw2 = (a2 - y*) a2 (1 - a2) a1
    dLoss/dw1 = (a2 - y*) a2 (1 - a2) w2 a1 (1 - a1) x
    w1 <- w1 - eta dLoss/dw1,  w2 <- w2 - eta dLoss/dw2

The handout's net has one input and one hidden unit; here W1 is (H, k), stored as ``W1t`` with
one row per hidden unit (the kernels' layout), with biases b1 and b2. ``net_forward``,
``net_loss_and_delta`` and ``net_epoch`` are the handout's net, per sample or per mini-batch,
with the logistic, tanh, relu or identity hidden activation (``activate``,
``activation_slope``), the log-loss or the squared error, and a sigmoid output for one unit or
a softmax for more. ``net_gradients`` and ``net_sgd_epoch`` are scikit-learn's MLP with one
hidden layer and ``solver='sgd'`` (momentum, L2 penalty, sample weights), the oracle of
``fastsgd.kernels.net_sgd_epoch`` and of the ``TwoLayerNet`` estimators.

Beyond the handout: ``loss_and_gradient`` and ``sgd_classifier_epoch`` are scikit-learn's
``SGDClassifier`` and ``SGDRegressor`` (every loss, penalty and learning-rate schedule), the
oracle of ``fastsgd.kernels.linear_sgd_epoch``; ``parameter_mixing`` is the ``'average'``
strategy of ``fastsgd.parallel``.

Module constants: the names of the settings the kernels take as integer codes, in code order
(as in ``fastsgd.kernels``).

``ACTIVATIONS``
    ``("logistic", "tanh", "relu", "identity")``: the hidden activation g1, codes 0-3
    (``activate``, ``activation_slope``, ``net_forward``, ``net_epoch``; ``net_gradients``
    and ``net_sgd_epoch`` take the name or the code).
``LOSSES``
    ``("log_loss", "squared_error")``: the net's loss, codes 0 and 1.
``NET_OUTPUTS``
    ``("logistic", "softmax", "identity")``: the output units g2 of ``net_gradients`` and
    ``net_sgd_epoch`` (``'logistic'``: one sigmoid per output unit), codes 0-2.
``LINEAR_LOSSES``
    The nine losses of ``loss_and_gradient`` and ``sgd_classifier_epoch``, in the order of
    their codes in ``fastsgd.kernels``: ``"log_loss"``, ``"squared_error"``, ``"hinge"``,
    ``"modified_huber"``, ``"squared_hinge"``, ``"perceptron"``, ``"huber"``,
    ``"epsilon_insensitive"``, ``"squared_epsilon_insensitive"`` (these two functions take
    the name).
"""

import numpy as np


def sigmoid(z):
    """The logistic function s(z) = 1 / (1 + exp(-z)), evaluated without overflow.

    The handout's s (section 39.1), computed as ``exp(-logaddexp(0, -z))``: finite for every
    z, exact in both tails.

    Parameters
    ----------
    z : float or array_like
        The margins.

    Returns
    -------
    numpy.ndarray or numpy.float64
        s(z), float64, of z's shape.

    See Also
    --------
    logistic_loss : The cross-entropy of a margin.
    fastsgd.kernels.sigmoid : The compiled version, for one float.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.reference import sigmoid
    >>> sigmoid(np.array([0.0, np.log(3.0), -1000.0]))  # 1 / (1 + 1/3) = 0.75
    array([0.5 , 0.75, 0.  ])

    Its derivative is s'(z) = s(z) (1 - s(z)) (handout 39.1 a), here against a central
    difference:

    >>> z, h = 0.3, 1e-6
    >>> slope = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h)
    >>> bool(np.isclose(slope, sigmoid(z) * (1 - sigmoid(z))))
    True
    """
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def logistic_loss(z, positive):
    """The cross-entropy of margin z for a label y in {0, 1}, evaluated without overflow.

    The handout's loss (section 39.1) with h(x) = s(z)::

        L = -[y ln s(z) + (1 - y) ln(1 - s(z))] = log(1 + exp(z)) - y z

    computed as ``logaddexp(0, -z)`` for y = 1 and ``logaddexp(0, z)`` for y = 0.

    Parameters
    ----------
    z : float or array_like
        The margins.
    positive : bool or array_like of bool
        The labels, as ``y == 1``; broadcast against z.

    Returns
    -------
    numpy.ndarray
        L for each margin, float64.

    See Also
    --------
    sigmoid : The logistic function s.
    fastsgd.kernels.logistic_loss : The compiled version, for one float.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.reference import logistic_loss, sigmoid
    >>> logistic_loss(np.array([0.0, 2.0, -1000.0]), True)  # ln 2, -ln s(2), 1000
    array([6.93147181e-01, 1.26928011e-01, 1.00000000e+03])

    The handout's formula, where it does not overflow:

    >>> z, y = 2.0, 0
    >>> by_the_formula = -(y * np.log(sigmoid(z)) + (1 - y) * np.log(1 - sigmoid(z)))
    >>> bool(np.isclose(logistic_loss(z, y == 1), by_the_formula))
    True
    """
    z = np.asarray(z, dtype=np.float64)
    return np.where(positive, np.logaddexp(0.0, -z), np.logaddexp(0.0, z))


def logistic_epoch(X, y, order, coef, intercept, eta, positive_class, fit_intercept):
    """One epoch of the handout's update w <- w + eta x (y - h(x)), for K models at once.

    The rows of ``X`` named by ``order`` are visited one at a time, and every model steps on
    each (section 39.1 d, with the intercept in the margin: h(x) = s(w . x + b))::

        for i in order:                      for each model m:
            t = (y[i] == positive_class[m])  # the 0/1 label model m sees
            z = coef[m] . X[i] + intercept[m]
            loss[m] += L(z, t)               # before the update (progressive loss)
            coef[m] += eta[m] (t - s(z)) X[i]
            intercept[m] += eta[m] (t - s(z))    # only when fit_intercept

    The same arguments and meaning as the compiled kernel ``fastsgd.kernels.logistic_epoch``.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
        The samples, dense; never written.
    y : numpy.ndarray of shape (n_samples,)
        Integer class codes.
    order : numpy.ndarray of int, shape (n_visits,)
        The rows to visit, in order: a permutation, a slice of one, or any index list.
    coef : numpy.ndarray of shape (K, n_features)
        The K models' weights, updated in place.
    intercept : numpy.ndarray of shape (K,)
        The intercepts: always part of the margin, updated in place only when
        ``fit_intercept``.
    eta : array_like of shape (K,)
        Each model's learning rate.
    positive_class : array_like of shape (K,)
        Model m treats ``y == positive_class[m]`` as label 1 and every other code as label 0.
    fit_intercept : bool
        Whether the intercepts are updated.

    Returns
    -------
    numpy.ndarray of shape (K,)
        Each model's mean progressive log-loss over the visits, float64 (zeros for no visit).

    See Also
    --------
    fastsgd.kernels.logistic_epoch : The compiled kernel.
    sgd_classifier_epoch : The same step with SGDClassifier's every option, for one model.

    Notes
    -----
    Each step ``eta (t - s(z))`` is rounded to coef's dtype before it touches the weights, as
    in the kernel; the loss is accumulated in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.reference import logistic_epoch, sigmoid
    >>> X = np.array([[1.0, 2.0], [2.0, 0.0]])
    >>> y = np.array([1, 0])
    >>> coef, intercept = np.zeros((1, 2)), np.zeros(1)
    >>> eta, positive_class = np.array([0.1]), np.array([1])

    From zero weights h(x) = s(0) = 0.5, so a step is ``w = eta * x * (y - 0.5)``: for the
    first sample (y = 1), 0.1 * [1, 2] * 0.5, and the intercept moves by 0.1 * 0.5. Its
    loss is -ln s(0) = ln 2:

    >>> logistic_epoch(X, y, np.array([0]), coef, intercept, eta, positive_class, True)
    array([0.69314718])
    >>> coef, intercept
    (array([[0.05, 0.1 ]]), array([0.05]))

    The second sample (y = 0) then has the margin z = 0.05 * 2 + 0.1 * 0 + 0.05 = 0.15, and
    the step ``w + eta * x * (0 - s(0.15))``:

    >>> z = float(coef[0] @ X[1] + intercept[0])
    >>> z
    0.15
    >>> expected = coef + 0.1 * X[1] * (0 - sigmoid(z))
    >>> logistic_epoch(X, y, np.array([1]), coef, intercept, eta, positive_class, True)
    array([0.77095705])
    >>> bool(np.allclose(coef, expected)), bool(np.isclose(0.77095705, -np.log(1 - sigmoid(z))))
    (True, True)
    """
    dtype = coef.dtype.type
    eta = np.asarray(eta, dtype=np.float64)
    positive_class = np.asarray(positive_class)
    loss_sum = np.zeros(coef.shape[0])
    for row in order:
        x = X[row]
        positive = y[row] == positive_class
        z = coef @ x + intercept
        loss_sum += logistic_loss(z, positive)
        step = (eta * (positive - sigmoid(z))).astype(dtype)
        coef += step[:, None] * x[None, :]
        if fit_intercept:
            intercept += step
    return loss_sum / max(len(order), 1)


# -- the two-layer net (handout 39.2) ----------------------------------------------------------

ACTIVATIONS = ("logistic", "tanh", "relu", "identity")  # codes 0-3, as in fastsgd.kernels
LOSSES = ("log_loss", "squared_error")  # codes 0, 1


def activate(z, kind):
    """The hidden activation g1(z): logistic (the handout's), tanh, relu or identity.

    Parameters
    ----------
    z : numpy.ndarray
        The hidden units' inputs z1, floats.
    kind : int
        The activation's code, its index in ``ACTIVATIONS``: 0 logistic, 1 tanh, 2 relu,
        3 identity.

    Returns
    -------
    numpy.ndarray
        g1(z), elementwise, of z's shape and dtype (a new array, also for identity).

    See Also
    --------
    activation_slope : Its derivative.
    fastsgd.kernels.activate : The compiled version, for one float.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.reference import ACTIVATIONS, activate
    >>> z = np.array([-1.0, 0.0, 2.0])
    >>> for kind, name in enumerate(ACTIVATIONS):
    ...     print(name, activate(z, kind))
    logistic [0.26894142 0.5        0.88079708]
    tanh [-0.76159416  0.          0.96402758]
    relu [0. 0. 2.]
    identity [-1.  0.  2.]
    """
    name = ACTIVATIONS[kind]
    if name == "logistic":
        return sigmoid(z).astype(z.dtype)
    if name == "tanh":
        return np.tanh(z)
    if name == "identity":
        return z.copy()
    return np.maximum(z, 0)


def activation_slope(z, a, kind):
    """The slope g1'(z) of the hidden activation, from z and a = g1(z).

    a (1 - a) for logistic (handout 39.1 a), 1 - a^2 for tanh, 1 for identity, and for relu
    the step: 1 where z > 0, else 0 (0 at z = 0).

    Parameters
    ----------
    z : numpy.ndarray
        The hidden units' inputs z1, floats.
    a : numpy.ndarray
        Their activations, ``activate(z, kind)``.
    kind : int
        The activation's code, its index in ``ACTIVATIONS``.

    Returns
    -------
    numpy.ndarray
        g1'(z), elementwise, of z's shape.

    See Also
    --------
    activate : The activation g1.

    Examples
    --------
    Against a central difference of ``activate``, for the smooth activations:

    >>> import numpy as np
    >>> from fastsgd.reference import activate, activation_slope
    >>> z, h = np.array([-1.0, 0.5, 2.0]), 1e-6
    >>> for kind, name in [(0, "logistic"), (1, "tanh"), (3, "identity")]:
    ...     numeric = (activate(z + h, kind) - activate(z - h, kind)) / (2 * h)
    ...     print(name, np.allclose(numeric, activation_slope(z, activate(z, kind), kind)))
    logistic True
    tanh True
    identity True

    relu's step, 0 at z = 0:

    >>> z = np.array([-1.0, 0.0, 2.0])
    >>> activation_slope(z, activate(z, 2), 2)
    array([0., 0., 1.])
    """
    name = ACTIVATIONS[kind]
    if name == "logistic":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "identity":
        return np.ones_like(z)
    return (z > 0).astype(z.dtype)


def net_forward(X, W1t, b1, W2, b2, activation):
    """The forward pass of the two-layer net (handout 39.2 a) for the rows of X.

    ::

        z1 = X W1t^T + b1,  a1 = g1(z1),  z2 = a1 W2 + b2,  a2 = g2(z2)

    with g1 the hidden activation ``activation`` and g2 the sigmoid for one output unit, the
    softmax over the units for more.

    Parameters
    ----------
    X : numpy.ndarray of shape (B, k)
        The rows.
    W1t : numpy.ndarray of shape (H, k)
        The first layer, one row per hidden unit (the kernels' layout; the estimators show it
        as ``coefs_[0] = W1t.T``).
    b1 : numpy.ndarray of shape (H,)
        The hidden units' biases.
    W2 : numpy.ndarray of shape (H, n_out)
        The second layer.
    b2 : numpy.ndarray of shape (n_out,)
        The output units' biases.
    activation : int
        g1's code in ``ACTIVATIONS``.

    Returns
    -------
    z1 : numpy.ndarray of shape (B, H)
        The hidden units' inputs.
    a1 : numpy.ndarray of shape (B, H)
        The hidden units' activations.
    z2 : numpy.ndarray of shape (B, n_out)
        The output units' inputs.
    a2 : numpy.ndarray of shape (B, n_out)
        The sigmoid (n_out = 1) or softmax output.

    See Also
    --------
    net_loss_and_delta : The loss and the output's delta, from z2 and a2.

    Examples
    --------
    The handout's net: one input x = 2, one hidden unit, w1 = 0.5, w2 = -1, g1 = g2 = s;
    a2 = g2(w2 g1(w1 x)) (39.2 b):

    >>> import numpy as np
    >>> from fastsgd.reference import net_forward, sigmoid
    >>> X = np.array([[2.0]])
    >>> W1t, b1, W2, b2 = np.array([[0.5]]), np.zeros(1), np.array([[-1.0]]), np.zeros(1)
    >>> z1, a1, z2, a2 = net_forward(X, W1t, b1, W2, b2, 0)
    >>> print(z1, a1, z2, a2)
    [[1.]] [[0.73105858]] [[-0.73105858]] [[0.32496247]]
    >>> bool(np.isclose(a2[0, 0], sigmoid(-1.0 * sigmoid(0.5 * 2.0))))
    True

    Three output units make a softmax, one probability per class:

    >>> z1, a1, z2, a2 = net_forward(X, W1t, b1, np.array([[1.0, 0.0, -1.0]]), np.zeros(3), 0)
    >>> a2.sum(axis=1)
    array([1.])
    """
    z1 = X @ W1t.T + b1
    a1 = activate(z1, activation)
    z2 = a1 @ W2 + b2
    if W2.shape[1] == 1:
        a2 = sigmoid(z2).astype(z2.dtype)
    else:
        shifted = z2 - z2.max(axis=1, keepdims=True)
        a2 = np.exp(shifted)
        a2 /= a2.sum(axis=1, keepdims=True)
    return z1, a1, z2, a2


def net_targets(labels, n_out):
    """The target matrix of class codes: a 0/1 column for one output, one-hot rows for a softmax.

    Parameters
    ----------
    labels : numpy.ndarray of shape (n,)
        Integer class codes.
    n_out : int
        The number of output units.

    Returns
    -------
    numpy.ndarray of shape (n, n_out)
        float64: for one output unit, 1 where the code is 1 and 0 for every other code; for
        more, row i is one-hot at column ``labels[i]``.

    See Also
    --------
    net_target_matrix : The targets of ``net_sgd_epoch``, which may also be floats.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.reference import net_targets
    >>> net_targets(np.array([0, 2, 1]), 3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    >>> net_targets(np.array([0, 1, 1]), 1)
    array([[0.],
           [1.],
           [1.]])
    """
    if n_out == 1:
        return (labels == 1).astype(np.float64)[:, None]
    return (labels[:, None] == np.arange(n_out)[None, :]).astype(np.float64)


def net_loss_and_delta(z2, a2, target, loss):
    """Per-sample losses and dLoss/dz2 for the sigmoid or softmax output.

    With err = a2 - target:

    - log-loss (code 0): the binary cross-entropy of z2 (one output unit) or -log p_label
      (a softmax), computed from z2 without overflow; dLoss/dz2 = err.
    - squared error (code 1): ``0.5 err^2`` summed over the units; dLoss/dz2 =
      ``err a2 (1 - a2)`` for one output unit (the handout's, 39.2 d),
      ``a2 (err - sum(a2 err))`` for a softmax.

    Parameters
    ----------
    z2 : numpy.ndarray of shape (B, n_out)
        The output units' inputs (``net_forward``).
    a2 : numpy.ndarray of shape (B, n_out)
        The outputs, the sigmoid (n_out = 1) or the softmax of z2.
    target : numpy.ndarray of shape (B, n_out)
        The targets (``net_targets``).
    loss : int
        The loss's code in ``LOSSES``.

    Returns
    -------
    losses : numpy.ndarray of shape (B,)
        Each sample's loss.
    delta : numpy.ndarray of shape (B, n_out)
        dLoss/dz2 for each sample.

    See Also
    --------
    net_forward : The forward pass that gives z2 and a2.

    Examples
    --------
    The handout's net (39.2 d): x = 2, w1 = 0.5, w2 = -1, y* = 1, the squared error:
    Loss = 0.5 (a2 - y*)^2 and dLoss/dz2 = (a2 - y*) a2 (1 - a2):

    >>> import numpy as np
    >>> from fastsgd.reference import net_forward, net_loss_and_delta
    >>> W1t, b1, W2, b2 = np.array([[0.5]]), np.zeros(1), np.array([[-1.0]]), np.zeros(1)
    >>> z1, a1, z2, a2 = net_forward(np.array([[2.0]]), W1t, b1, W2, b2, 0)
    >>> target = np.array([[1.0]])
    >>> losses, delta = net_loss_and_delta(z2, a2, target, 1)
    >>> print(losses, delta)
    [0.22783783] [[-0.14807749]]
    >>> bool(np.isclose(delta[0, 0], (a2 - 1) * a2 * (1 - a2)))
    True

    With the log-loss, the loss is -ln a2 and dLoss/dz2 = a2 - y*:

    >>> losses, delta = net_loss_and_delta(z2, a2, target, 0)
    >>> print(losses, delta)
    [1.12404557] [[-0.67503753]]
    >>> bool(np.isclose(losses[0], -np.log(a2[0, 0])))
    True
    """
    err = a2 - target
    if LOSSES[loss] == "log_loss":
        if a2.shape[1] == 1:
            losses = logistic_loss(z2[:, 0], target[:, 0] == 1)
        else:
            top = z2.max(axis=1)
            log_total = top + np.log(np.exp(z2 - top[:, None]).sum(axis=1))
            losses = log_total - (z2 * target).sum(axis=1)
        return losses, err
    losses = 0.5 * (err**2).sum(axis=1)
    if a2.shape[1] == 1:
        return losses, err * a2 * (1 - a2)
    inner = (a2 * err).sum(axis=1, keepdims=True)
    return losses, a2 * (err - inner)


def net_epoch(X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size):
    """One epoch of the two-layer net, per batch of ``batch_size`` visits (1: per sample).

    Same arguments and meaning as ``fastsgd.kernels.net_epoch``: the handout's net (section
    39.2), with one sigmoid output for n_out = 1 or a softmax for more, no sample weights,
    penalty or momentum. Per batch B of consecutive visits of ``order``, every gradient from
    the same forward pass, before any weight changes::

        z1, a1, z2, a2 = net_forward(X[B], ...)
        d2 = dLoss/dz2 (net_loss_and_delta);  d1 = (d2 W2^T) * g1'(z1)
        W2 -= eta / |B| a1^T d2;  W1t -= eta / |B| d1^T X[B]
        b2 -= eta / |B| sum_rows(d2);  b1 -= eta / |B| sum_rows(d1)    (when fit_intercept)

    so the gradients are averaged over each batch.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, k)
        The samples.
    y : numpy.ndarray of shape (n_samples,)
        Integer class codes: for one output unit, code 1 is the positive class; for a softmax,
        one unit per code.
    order : numpy.ndarray of int, shape (n_visits,)
        The rows to visit, in order.
    W1t : numpy.ndarray of shape (H, k)
        The first layer, one row per hidden unit; updated in place.
    b1 : numpy.ndarray of shape (H,)
        The hidden units' biases; updated in place.
    W2 : numpy.ndarray of shape (H, n_out)
        The second layer; updated in place.
    b2 : numpy.ndarray of shape (n_out,)
        The output units' biases; updated in place.
    eta : float
        The learning rate.
    activation : int
        The hidden activation's code in ``ACTIVATIONS``.
    loss : int
        The loss's code in ``LOSSES``.
    fit_intercept : bool
        Whether the biases are updated; they always enter the forward pass.
    batch_size : int
        The visits per batch (1: per sample, the handout's SGD).

    Returns
    -------
    float
        The mean progressive loss: the sum of every visit's loss, each taken before its
        batch's step, divided by the number of visits (0.0 for none).

    See Also
    --------
    fastsgd.kernels.net_epoch : The compiled kernel.
    net_sgd_epoch : scikit-learn's MLP step, with momentum, penalty and sample weights.

    Examples
    --------
    The handout's update (39.2 f) for one sample: x = 2, y* = 1, w1 = 0.5, w2 = -1, g1 = g2
    = s, the squared error (code 1), no biases, step size 0.1. Both gradients use the w2
    from before the step:

    >>> import numpy as np
    >>> from fastsgd.reference import net_epoch, sigmoid
    >>> x, y_star, w1, w2, eta = 2.0, 1, 0.5, -1.0, 0.1
    >>> a1 = sigmoid(w1 * x)
    >>> a2 = sigmoid(w2 * a1)
    >>> common = (a2 - y_star) * a2 * (1 - a2)
    >>> new_w1 = w1 - eta * common * w2 * a1 * (1 - a1) * x
    >>> new_w2 = w2 - eta * common * a1
    >>> W1t, b1, W2, b2 = np.array([[w1]]), np.zeros(1), np.array([[w2]]), np.zeros(1)
    >>> loss = net_epoch(
    ...     np.array([[x]]), np.array([y_star]), np.array([0]), W1t, b1, W2, b2,
    ...     eta, 0, 1, False, 1,
    ... )
    >>> print(W1t, W2)
    [[0.49417724]] [[-0.98917467]]
    >>> bool(np.isclose(W1t[0, 0], new_w1)), bool(np.isclose(W2[0, 0], new_w2))
    (True, True)
    >>> bool(np.isclose(loss, 0.5 * (a2 - y_star) ** 2))
    True
    """
    dtype = W1t.dtype.type
    loss_sum = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        xb = X[rows]
        z1, a1, z2, a2 = net_forward(xb, W1t, b1, W2, b2, activation)
        target = net_targets(y[rows], W2.shape[1])
        losses, d2 = net_loss_and_delta(z2.astype(np.float64), a2.astype(np.float64), target, loss)
        loss_sum += losses.sum()
        d2 = d2.astype(W1t.dtype)
        d1 = (d2 @ W2.T) * activation_slope(z1, a1, activation)
        scale = dtype(eta / len(rows))
        grad_W2, grad_W1t = a1.T @ d2, d1.T @ xb
        W2 -= scale * grad_W2
        W1t -= scale * grad_W1t
        if fit_intercept:
            b2 -= scale * d2.sum(axis=0)
            b1 -= scale * d1.sum(axis=0)
    return loss_sum / max(len(order), 1)


# -- scikit-learn's MLP with one hidden layer, solver='sgd' ----------------------------------------

NET_OUTPUTS = ("logistic", "softmax", "identity")


def _code(value, names, what):
    """The name for ``value``, given as a name or as its integer code in ``names``."""
    if isinstance(value, str):
        if value not in names:
            raise ValueError(f"unknown {what} {value!r}; expected one of {names}")
        return value
    return names[int(value)]


def net_target_matrix(targets, n_out, output):
    """The (n, n_out) float64 target matrix of ``net_sgd_epoch``'s ``targets``.

    2-D targets are used as they are. 1-D targets are class codes (output ``'logistic'`` with
    one unit: the target is code == 1; ``'softmax'``: one-hot of the code), or, for an
    ``'identity'`` output with one unit, the regression values themselves.

    Parameters
    ----------
    targets : array_like of shape (n,) or (n, n_out)
        Class codes, regression values, or the target matrix itself.
    n_out : int
        The number of output units.
    output : {'logistic', 'softmax', 'identity'}
        The output units, by name (see ``NET_OUTPUTS``).

    Returns
    -------
    numpy.ndarray of shape (n, n_out)
        The targets, float64.

    Raises
    ------
    ValueError
        If 2-D targets do not have ``n_out`` columns, or 1-D targets are given for more than
        one output unit that is not a softmax.

    See Also
    --------
    net_targets : The handout net's target matrix, from class codes.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.reference import net_target_matrix
    >>> net_target_matrix(np.array([2, 0]), 3, "softmax")
    array([[0., 0., 1.],
           [1., 0., 0.]])
    >>> net_target_matrix(np.array([2, 1]), 1, "logistic")  # code == 1
    array([[0.],
           [1.]])
    >>> net_target_matrix(np.array([0.5, -1.5]), 1, "identity")
    array([[ 0.5],
           [-1.5]])
    """
    targets = np.asarray(targets)
    if targets.ndim == 2:
        if targets.shape[1] != n_out:
            raise ValueError(f"targets have {targets.shape[1]} columns, the net {n_out} outputs")
        return targets.astype(np.float64)
    if output == "softmax":
        return (targets[:, None] == np.arange(n_out)[None, :]).astype(np.float64)
    if n_out != 1:
        raise ValueError(f"1-D targets need one output unit or a softmax, not {n_out} {output}")
    if output == "logistic":
        return (targets == 1).astype(np.float64)[:, None]
    return targets.astype(np.float64)[:, None]


def net_gradients(
    X, target, sample_weight, W1t, b1, W2, b2, *, activation, loss, output, alpha=0.0
):  # fmt: skip
    """Gradients and loss of one batch, as scikit-learn's MLP ``_backprop`` computes them.

    Arrays are computed in W1t's dtype, the loss in float64. With sw the sample weights::

        z1 = X W1t^T + b1;  a1 = g1(z1);  z2 = a1 W2 + b2;  a2 = g2(z2)
        delta2 = sw * dLoss/dz2;  delta1 = (delta2 W2^T) * g1'(z1)    (relu': 0 where a1 == 0)
        grad_W2 = (a1^T delta2 + alpha W2) / sum(sw);  grad_b2 = sum_rows(delta2) / sum(sw)
        grad_W1t = (delta1^T X + alpha W1t) / sum(sw); grad_b1 = sum_rows(delta1) / sum(sw)
        batch_loss = sum(sw * loss) / sum(sw) + 0.5 alpha (|W1|^2 + |W2|^2) / sum(sw)

    The (output, loss) pairs:

    - dLoss/dz2 is ``a2 - y`` for the canonical pairs (logistic, log_loss), (softmax,
      log_loss) and (identity, squared_error); ``(a2 - y) a2 (1 - a2)`` for (logistic,
      squared_error) (the handout's net, 39.2); ``a2 (err - sum(a2 err))`` with
      ``err = a2 - y`` for (softmax, squared_error).
    - The per-sample loss is the binary cross-entropy summed over the units (logistic,
      log_loss), ``-log p_label`` (softmax, log_loss), ``0.5 (a2 - y)^2`` summed over the
      units (logistic or softmax, squared_error) and ``0.5 (a2 - y)^2`` *averaged* over the
      outputs (identity, squared_error: scikit-learn's ``squared_loss``; its gradient
      ``a2 - y`` is then n_out times that of the reported loss when n_out > 1, as in
      scikit-learn).

    Parameters
    ----------
    X : array_like of shape (B, k)
        The batch's rows.
    target : array_like of shape (B, n_out)
        The batch's target matrix (see ``net_target_matrix``).
    sample_weight : array_like of shape (B,) or None
        The batch's sample weights; None: all ones.
    W1t : numpy.ndarray of shape (H, k)
        The first layer, one row per hidden unit.
    b1 : numpy.ndarray of shape (H,)
        The hidden units' biases.
    W2 : numpy.ndarray of shape (H, n_out)
        The second layer.
    b2 : numpy.ndarray of shape (n_out,)
        The output units' biases.
    activation : str or int
        The hidden activation g1: ``'logistic'``, ``'tanh'``, ``'relu'``, ``'identity'`` or
        its code in ``ACTIVATIONS``.
    loss : str or int
        ``'log_loss'``, ``'squared_error'`` or its code in ``LOSSES``.
    output : str or int
        The output units g2: ``'logistic'``, ``'softmax'``, ``'identity'`` or its code in
        ``NET_OUTPUTS``.
    alpha : float, default=0.0
        The L2 penalty's strength, on W1t and W2 (not on the biases).

    Returns
    -------
    grad_W1t : numpy.ndarray of shape (H, k)
        The gradient of W1t, in W1t's layout.
    grad_b1 : numpy.ndarray of shape (H,)
        The gradient of b1.
    grad_W2 : numpy.ndarray of shape (H, n_out)
        The gradient of W2.
    grad_b2 : numpy.ndarray of shape (n_out,)
        The gradient of b2.
    batch_loss : float
        The batch's loss (float64), penalty included.

    Raises
    ------
    ValueError
        If the batch's sample weights sum to 0 (it has no gradient; scikit-learn divides by
        zero there), if an identity output is asked with a loss other than
        ``'squared_error'``, or for an unknown activation, loss or output name.

    See Also
    --------
    net_sgd_epoch : The SGD epoch that steps with these gradients.

    Notes
    -----
    The log-losses are computed from z2 with logaddexp, without scikit-learn's clipping of
    the probabilities to [eps, 1 - eps]; the two agree unless a probability is within ~1e-16
    of 0 or 1 (where scikit-learn's loss saturates at -log(eps) ~ 36 and this one keeps
    growing).

    Examples
    --------
    The gradients are those of ``batch_loss``, here against central differences, with sample
    weights and a penalty:

    >>> import numpy as np
    >>> from fastsgd.reference import net_gradients
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((4, 3))
    >>> target = np.array([[1.0], [0.0], [1.0], [1.0]])
    >>> sw = np.array([1.0, 2.0, 0.5, 1.0])
    >>> weights = [rng.standard_normal(shape) for shape in [(2, 3), (2,), (2, 1), (1,)]]
    >>> settings = dict(activation="tanh", loss="log_loss", output="logistic", alpha=0.1)
    >>> *gradients, batch_loss = net_gradients(X, target, sw, *weights, **settings)
    >>> def central_difference(p, h=1e-6):
    ...     numeric = np.zeros_like(p)
    ...     for i in np.ndindex(p.shape):
    ...         p[i] += h
    ...         up = net_gradients(X, target, sw, *weights, **settings)[-1]
    ...         p[i] -= 2 * h
    ...         down = net_gradients(X, target, sw, *weights, **settings)[-1]
    ...         p[i] += h
    ...         numeric[i] = (up - down) / (2 * h)
    ...     return numeric
    >>> [bool(np.allclose(central_difference(p), g)) for p, g in zip(weights, gradients)]
    [True, True, True, True]

    The handout's net (39.2 d), one sample, the squared error on a sigmoid output:
    dLoss/dw2 = (a2 - y*) a2 (1 - a2) a1:

    >>> from fastsgd.reference import sigmoid
    >>> W1t, b1, W2, b2 = np.array([[0.5]]), np.zeros(1), np.array([[-1.0]]), np.zeros(1)
    >>> grad_W1t, grad_b1, grad_W2, grad_b2, loss = net_gradients(
    ...     np.array([[2.0]]), np.array([[1.0]]), None, W1t, b1, W2, b2,
    ...     activation="logistic", loss="squared_error", output="logistic",
    ... )
    >>> a1 = sigmoid(0.5 * 2.0)
    >>> a2 = sigmoid(-1.0 * a1)
    >>> bool(np.isclose(grad_W2[0, 0], (a2 - 1) * a2 * (1 - a2) * a1))
    True
    """
    activation = _code(activation, ACTIVATIONS, "activation")
    loss = _code(loss, LOSSES, "loss")
    output = _code(output, NET_OUTPUTS, "output")
    if output == "identity" and loss != "squared_error":
        raise ValueError("an identity output needs loss='squared_error'")
    dtype = W1t.dtype
    X = np.asarray(X, dtype=dtype)
    target = np.asarray(target, dtype=np.float64)
    n_rows = X.shape[0]
    sw = np.ones(n_rows, dtype=dtype) if sample_weight is None else np.asarray(sample_weight)
    sw = sw.astype(dtype)
    sw_sum = sw.sum()
    if sw_sum == 0:
        raise ValueError("the batch's sample weights sum to 0")

    # forward
    z1 = X @ W1t.T + b1
    if activation == "logistic":
        a1 = sigmoid(z1).astype(dtype)
    elif activation == "tanh":
        a1 = np.tanh(z1)
    elif activation == "identity":
        a1 = z1
    else:
        a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    if output == "logistic":
        a2 = sigmoid(z2).astype(dtype)
    elif output == "softmax":
        a2 = np.exp(z2 - z2.max(axis=1, keepdims=True))
        a2 /= a2.sum(axis=1, keepdims=True)
    else:
        a2 = z2

    # loss, per sample, in float64
    z64, a64 = z2.astype(np.float64), a2.astype(np.float64)
    if loss == "log_loss" and output == "logistic":
        per_unit = target * np.logaddexp(0.0, -z64) + (1 - target) * np.logaddexp(0.0, z64)
        losses = per_unit.sum(axis=1)
    elif loss == "log_loss":
        shifted = z64 - z64.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        losses = -(target * log_p).sum(axis=1)
    elif output == "identity":
        losses = 0.5 * ((a64 - target) ** 2).mean(axis=1)
    else:
        losses = 0.5 * ((a64 - target) ** 2).sum(axis=1)
    sw64 = sw.astype(np.float64)
    penalty = float(np.dot(W1t.ravel(), W1t.ravel()) + np.dot(W2.ravel(), W2.ravel()))
    batch_loss = float((sw64 * losses).sum() / sw64.sum() + 0.5 * alpha * penalty / sw64.sum())

    # backward
    err = a2 - target.astype(dtype)
    if loss == "squared_error" and output == "logistic":
        delta2 = err * a2 * (1 - a2)
    elif loss == "squared_error" and output == "softmax":
        delta2 = a2 * (err - (a2 * err).sum(axis=1, keepdims=True))
    else:
        delta2 = err
    delta2 = delta2 * sw[:, None]
    delta1 = delta2 @ W2.T
    if activation == "logistic":
        delta1 *= a1 * (1 - a1)
    elif activation == "tanh":
        delta1 *= 1 - a1 * a1
    elif activation != "identity":
        delta1[a1 == 0] = 0
    grad_W2 = (a1.T @ delta2 + alpha * W2) / sw_sum
    grad_b2 = delta2.sum(axis=0) / sw_sum
    grad_W1t = (delta1.T @ X + alpha * W1t) / sw_sum
    grad_b1 = delta1.sum(axis=0) / sw_sum
    return grad_W1t, grad_b1, grad_W2, grad_b2, batch_loss


def net_sgd_epoch(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, *, activation, loss,
    output, eta, alpha=0.0, momentum=0.0, nesterov=False, fit_intercept=True, batch_size=1,
):  # fmt: skip
    """One epoch of scikit-learn's MLP SGD with one hidden layer, in batches over ``order``.

    What ``MLPClassifier`` or ``MLPRegressor(solver='sgd', hidden_layer_sizes=(H,))`` does in
    one epoch over the rows ``order``, in batches of ``batch_size`` consecutive visits. Per
    batch, with the gradients g of ``net_gradients`` (all from the weights before the step),
    every parameter p and its velocity v (scikit-learn's ``SGDOptimizer``)::

        v = momentum v - eta g;  p += (momentum v - eta g) if nesterov else v

    Parameters
    ----------
    X : numpy.ndarray of shape (n, k)
        The samples.
    targets : array_like of shape (n,) or (n, n_out)
        1-D class codes, or an (n, n_out) float matrix (see ``net_target_matrix``).
    sample_weight : array_like of shape (n,) or None
        The sample weights; None: all ones.
    order : array_like of int, shape (n_visits,)
        The rows to visit, in order.
    W1t : numpy.ndarray of shape (H, k)
        The first layer, one row per hidden unit; updated in place.
    b1 : numpy.ndarray of shape (H,)
        The hidden units' biases; updated in place when ``fit_intercept``.
    W2 : numpy.ndarray of shape (H, n_out)
        The second layer; updated in place.
    b2 : numpy.ndarray of shape (n_out,)
        The output units' biases; updated in place when ``fit_intercept``.
    velocities : tuple or list of 4 numpy.ndarray, or None
        The momentum velocities of W1t, b1, W2 and b2 (the same shapes), updated in place;
        None: zeros, kept for this call only.
    activation : str or int
        ``'logistic'``, ``'tanh'``, ``'relu'`` or its code in ``ACTIVATIONS``.
    loss : str or int
        ``'log_loss'``, ``'squared_error'`` or its code in ``LOSSES``.
    output : str or int
        One of ``NET_OUTPUTS`` or its code (``'logistic'``: one sigmoid per output unit).
    eta : float
        The epoch's learning rate: scikit-learn's ``'invscaling'`` uses
        ``eta0 / (t + 1)**power_t``, t the samples seen in the previous epochs (eta0 in the
        first).
    alpha : float, default=0.0
        The L2 penalty's strength, on W1t and W2.
    momentum : float, default=0.0
        The momentum.
    nesterov : bool, default=False
        Whether the step is Nesterov's.
    fit_intercept : bool, default=True
        Whether the biases (and their velocities) are updated; they always enter the forward
        pass. scikit-learn's MLP always fits them.
    batch_size : int, default=1
        The consecutive visits per batch.

    Returns
    -------
    float
        The epoch loss as scikit-learn accumulates it: the sum over batches of
        ``batch_loss * batch_len``, divided by ``len(order)`` (0.0 for an empty order).

    See Also
    --------
    net_gradients : One batch's gradients and loss.
    net_epoch : The handout's net, without momentum, penalty or sample weights.
    fastsgd.kernels.net_sgd_epoch : The compiled kernel.

    Notes
    -----
    A batch whose sample weights sum to 0 is skipped entirely (no update, no velocity decay,
    adds 0 to the loss); scikit-learn divides by zero there. Arrays are computed in W1t's
    dtype, the loss in float64.

    Examples
    --------
    One batch of all six rows, with momentum, from zero velocities: the velocities become
    ``-eta g`` and the weights move by them, g the gradients of ``net_gradients``:

    >>> import numpy as np
    >>> from fastsgd.reference import net_gradients, net_sgd_epoch, net_target_matrix
    >>> rng = np.random.default_rng(0)
    >>> X, codes = rng.standard_normal((6, 3)), np.array([0, 1, 1, 0, 1, 0])
    >>> W1t, b1, W2, b2 = (rng.standard_normal(shape) for shape in [(4, 3), (4,), (4, 1), (1,)])
    >>> settings = dict(activation="relu", loss="log_loss", output="logistic")
    >>> target = net_target_matrix(codes, 1, "logistic")
    >>> *g, batch_loss = net_gradients(X, target, None, W1t, b1, W2, b2, **settings)
    >>> before = [p.copy() for p in (W1t, b1, W2, b2)]
    >>> velocities = [np.zeros_like(p) for p in before]
    >>> loss = net_sgd_epoch(
    ...     X, codes, None, np.arange(6), W1t, b1, W2, b2, velocities,
    ...     eta=0.1, momentum=0.9, batch_size=6, **settings,
    ... )
    >>> bool(np.isclose(loss, batch_loss))
    True
    >>> [bool(np.allclose(v, -0.1 * gp)) for v, gp in zip(velocities, g)]
    [True, True, True, True]
    >>> after = (W1t, b1, W2, b2)
    >>> [bool(np.allclose(p, p0 - 0.1 * gp)) for p, p0, gp in zip(after, before, g)]
    [True, True, True, True]

    Per sample, without momentum or penalty, it is the handout's SGD of ``net_epoch``:

    >>> from fastsgd.reference import net_epoch
    >>> copies = [p.copy() for p in after]
    >>> order = rng.permutation(6)
    >>> loss = net_sgd_epoch(X, codes, None, order, *after, None, eta=0.1, **settings)
    >>> handout_loss = net_epoch(X, codes, order, *copies, 0.1, 2, 0, True, 1)
    >>> bool(np.isclose(loss, handout_loss))
    True
    >>> [bool(np.allclose(p, q)) for p, q in zip(after, copies)]
    [True, True, True, True]
    """
    dtype = W1t.dtype
    eta, momentum, alpha = float(eta), float(momentum), float(alpha)
    output_name = _code(output, NET_OUTPUTS, "output")
    target = net_target_matrix(targets, W2.shape[1], output_name)
    if velocities is None:
        velocities = [np.zeros_like(p) for p in (W1t, b1, W2, b2)]
    order = np.asarray(order, dtype=np.intp)
    loss_sum = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        sw = None if sample_weight is None else np.asarray(sample_weight)[rows]
        if sw is not None and sw.astype(dtype).sum() == 0:
            continue
        *grads, batch_loss = net_gradients(
            X[rows], target[rows], sw, W1t, b1, W2, b2,
            activation=activation, loss=loss, output=output_name, alpha=alpha,
        )  # fmt: skip
        loss_sum += batch_loss * len(rows)
        for index, (p, g, v) in enumerate(zip((W1t, b1, W2, b2), grads, velocities, strict=True)):
            if index % 2 == 1 and not fit_intercept:
                continue
            v[...] = momentum * v - eta * g
            p += (momentum * v - eta * g) if nesterov else v
    return loss_sum / max(len(order), 1)


# -- parallel strategies (fastsgd.parallel) ------------------------------------------------------


def parameter_mixing(epoch, X, y, order, params, n_shards, *settings):
    """Iterative parameter mixing: one epoch on each shard from the same weights, then the mean.

    ``epoch`` runs on each contiguous shard of ``order`` from its own copy of ``params``;
    then every parameter becomes the mean of the copies. This is the ``'average'`` strategy
    of ``fastsgd.parallel``, one shard after another.

    Parameters
    ----------
    epoch : callable
        ``logistic_epoch`` or ``net_epoch`` above.
    X : numpy.ndarray of shape (n_samples, n_features)
        The samples.
    y : numpy.ndarray of shape (n_samples,)
        Integer class codes.
    order : numpy.ndarray of int, shape (n_visits,)
        The rows to visit; shard s takes visits ``s * n // n_shards`` up to
        ``(s + 1) * n // n_shards``, n = ``len(order)``.
    params : list of numpy.ndarray
        The arrays ``epoch`` updates, (coef, intercept) or (W1t, b1, W2, b2); each is set in
        place to the mean of the shards' copies.
    n_shards : int
        The number of shards, clipped to between 1 and ``len(order)``.
    *settings
        ``epoch``'s remaining arguments, after the parameters.

    Returns
    -------
    numpy.ndarray or float
        The mean loss: the shards' losses (as ``epoch`` returns them), each weighted by its
        number of visits, summed and divided by ``len(order)``.

    See Also
    --------
    logistic_epoch : The logistic-regression epoch.
    net_epoch : The two-layer net's epoch.

    Examples
    --------
    Two shards of logistic regression from zero weights: each shard's epoch runs on a copy,
    and the weights become the mean of the copies:

    >>> import numpy as np
    >>> from fastsgd.reference import logistic_epoch, parameter_mixing
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, 10)
    >>> settings = (np.array([0.1]), np.array([1]), True)  # eta, positive_class, fit_intercept
    >>> order = np.arange(10)
    >>> coef, intercept = np.zeros((1, 3)), np.zeros(1)
    >>> loss = parameter_mixing(logistic_epoch, X, y, order, [coef, intercept], 2, *settings)
    >>> first, second = [np.zeros((1, 3)), np.zeros(1)], [np.zeros((1, 3)), np.zeros(1)]
    >>> loss_first = logistic_epoch(X, y, order[:5], *first, *settings)
    >>> loss_second = logistic_epoch(X, y, order[5:], *second, *settings)
    >>> bool(np.allclose(coef, (first[0] + second[0]) / 2))
    True
    >>> bool(np.allclose(loss, (loss_first + loss_second) / 2))
    True
    """
    n_visits = len(order)
    n_shards = max(1, min(n_shards, n_visits))
    copies, loss_sum = [], 0.0
    for shard in range(n_shards):
        start, stop = shard * n_visits // n_shards, (shard + 1) * n_visits // n_shards
        mine = [p.copy() for p in params]
        loss_sum = loss_sum + np.asarray(epoch(X, y, order[start:stop], *mine, *settings)) * (
            stop - start
        )
        copies.append(mine)
    for i, p in enumerate(params):
        p[...] = np.mean([mine[i] for mine in copies], axis=0)
    return loss_sum / max(n_visits, 1)


# codes as in fastsgd.kernels
LINEAR_LOSSES = (
    "log_loss", "squared_error", "hinge", "modified_huber", "squared_hinge", "perceptron",
    "huber", "epsilon_insensitive", "squared_epsilon_insensitive",
)  # fmt: skip


def loss_and_gradient(loss, p, y, epsilon=0.1):
    """The loss of prediction p for target y and its derivative dloss/dp.

    scikit-learn's definitions (sklearn/linear_model/_sgd_fast.pyx.tp and sklearn/_loss),
    written as the formulas, with z = p y, r = p - y, eps = ``epsilon`` and l = 1 if y > 0
    else 0 (log_loss's label)::

        loss                         loss(p, y)                 dloss/dp
        log_loss                     log(1 + exp(p)) - l p      s(p) - l
        squared_error                0.5 r^2                    r
        hinge                        1 - z if z <= 1, else 0    -y if z <= 1, else 0
        perceptron                   -z if z <= 0, else 0       -y if z <= 0, else 0
        squared_hinge                (1 - z)^2 if z < 1         -2 y (1 - z) if z < 1
                                     0 else                     0 else
        modified_huber               0 if z >= 1                0
                                     (1 - z)^2 if -1 <= z < 1   -2 (1 - z) y
                                     -4 z if z < -1             -4 y
        huber                        0.5 r^2 if |r| <= eps      r
                                     eps (|r| - eps / 2) else   eps sign(r)
        epsilon_insensitive          max(0, |r| - eps)          sign(r) if |r| > eps, else 0
        squared_epsilon_insensitive  max(0, |r| - eps)^2        2 sign(r) (|r| - eps) if
                                                                |r| > eps, else 0

    Parameters
    ----------
    loss : str
        The loss's name, one of ``LINEAR_LOSSES``.
    p : float
        The prediction, ``w . x + b``.
    y : float
        The target: +1 or -1 for the classification losses (log_loss reads y > 0 as label
        1), the value for the regression losses.
    epsilon : float, default=0.1
        The threshold of ``'huber'``, ``'epsilon_insensitive'`` and
        ``'squared_epsilon_insensitive'``.

    Returns
    -------
    loss : float
        The loss.
    gradient : float
        Its derivative with respect to p.

    Raises
    ------
    ValueError
        For an unknown loss.

    See Also
    --------
    sgd_classifier_epoch : The SGD epoch that uses these.

    Examples
    --------
    >>> from fastsgd.reference import LINEAR_LOSSES, loss_and_gradient
    >>> loss_and_gradient("hinge", 0.25, 1.0)
    (0.75, -1.0)
    >>> loss_and_gradient("hinge", 2.0, 1.0)
    (0.0, 0.0)
    >>> loss_and_gradient("huber", 3.0, 1.0, epsilon=1.0)  # r = 2 > eps: 1 * (2 - 0.5)
    (1.5, 1.0)
    >>> loss, gradient = loss_and_gradient("log_loss", 0.0, 1.0)  # ln 2, s(0) - 1
    >>> round(loss, 6), gradient
    (0.693147, -0.5)

    Every gradient against a central difference of its loss, away from the kinks:

    >>> h = 1e-6
    >>> for name in LINEAR_LOSSES:
    ...     up, down = loss_and_gradient(name, 0.3 + h, 1.0), loss_and_gradient(name, 0.3 - h, 1.0)
    ...     numeric = (up[0] - down[0]) / (2 * h)
    ...     print(name, abs(numeric - loss_and_gradient(name, 0.3, 1.0)[1]) < 1e-6)
    log_loss True
    squared_error True
    hinge True
    modified_huber True
    squared_hinge True
    perceptron True
    huber True
    epsilon_insensitive True
    squared_epsilon_insensitive True
    """
    if loss == "log_loss":
        label = 1.0 if y > 0 else 0.0
        return float(np.logaddexp(0.0, p)) - label * p, float(sigmoid(p)) - label
    if loss == "squared_error":
        return 0.5 * (p - y) ** 2, p - y
    if loss in ("hinge", "perceptron"):
        threshold = 1.0 if loss == "hinge" else 0.0
        z = p * y
        return (threshold - z, -y) if z <= threshold else (0.0, 0.0)
    if loss == "squared_hinge":
        z = 1.0 - p * y
        return (z * z, -2.0 * y * z) if z > 0 else (0.0, 0.0)
    if loss == "modified_huber":
        z = p * y
        if z >= 1.0:
            return 0.0, 0.0
        if z >= -1.0:
            return (1.0 - z) ** 2, -2.0 * (1.0 - z) * y
        return -4.0 * z, -4.0 * y
    if loss == "huber":
        r = p - y
        if abs(r) <= epsilon:
            return 0.5 * r * r, r
        return epsilon * (abs(r) - 0.5 * epsilon), epsilon if r >= 0 else -epsilon
    if loss == "epsilon_insensitive":
        gradient = -1.0 if y - p > epsilon else (1.0 if p - y > epsilon else 0.0)
        return max(0.0, abs(y - p) - epsilon), gradient
    if loss == "squared_epsilon_insensitive":
        z = y - p
        gradient = -2.0 * (z - epsilon) if z > epsilon else (
            2.0 * (-z - epsilon) if z < -epsilon else 0.0)  # fmt: skip
        return max(0.0, abs(z) - epsilon) ** 2, gradient
    raise ValueError(f"unknown loss {loss!r}")


def sgd_classifier_epoch(
    X, y, order, coef, intercept, *, learning_rate="constant", eta0=0.01, power_t=0.5,
    alpha=1e-4, l1_ratio=0.15, penalty=None, average=0, fit_intercept=True,
    sample_weight=None, class_weight=(1.0, 1.0), t=1.0, average_coef=None,
    average_intercept=0.0, l1_owed=0.0, l1_applied=None, loss="log_loss", epsilon=0.1,
    intercept_decay=1.0, targets=None,
):  # fmt: skip
    """One epoch of SGDClassifier's (or SGDRegressor's) SGD, step by step on the true weights.

    The oracle of ``fastsgd.kernels.linear_sgd_epoch`` for one model: label 1 is the positive
    class (target +1, every other label -1), or, with ``targets`` given (a regressor), those
    float targets. ``loss`` is any of ``LINEAR_LOSSES`` (see ``loss_and_gradient``); the
    gradient is clipped to 1e12 and the intercept's step scaled by ``intercept_decay``, as
    scikit-learn does. A dense row takes part with every feature, a CSR row with its stored
    entries. Per visit, in scikit-learn's order::

        p = w . x + b;  eta = rate(t);  update = -eta dloss(p, y) class_weight[y] sample_weight
        w *= max(0, 1 - (1 - l1_ratio) eta alpha)              (l2, elasticnet: every weight)
        w[x's features] += update * x;  b += update
        from t = average on: w_avg += (w - w_avg) / (t - average + 1), the same for b
        L1: u += l1_ratio eta alpha; each of x's weights moves toward 0 by u minus what it has
            received of the penalty, never across 0 (Tsuruoka et al. 2009)
        t += 1

    Parameters
    ----------
    X : numpy.ndarray of shape (n, k), or tuple
        A dense array, or a CSR matrix given as ``(data, indices, indptr)``.
    y : array_like of shape (n,)
        The labels: 1 is the positive class (target +1), every other label -1. Unused when
        ``targets`` is given.
    order : array_like of int, shape (n_visits,)
        The rows to visit, in order.
    coef : numpy.ndarray of shape (k,)
        The weights, float64; updated in place.
    intercept : float
        The intercept at the start; its new value is returned.
    learning_rate : {'constant', 'optimal', 'invscaling'}, default='constant'
        rate(t): ``eta0``; ``1 / (alpha (t0 + t - 1))`` with ``t0 = 1 / (typw alpha)`` and
        ``typw = sqrt(1 / sqrt(alpha))``, as scikit-learn's; ``eta0 / t**power_t``. Any
        other value: ``eta0``.
    eta0 : float, default=0.01
        The initial (constant) learning rate.
    power_t : float, default=0.5
        The exponent of ``'invscaling'``.
    alpha : float, default=1e-4
        The penalty's strength (and the scale of the ``'optimal'`` rate).
    l1_ratio : float, default=0.15
        The elastic net's share of L1; ``penalty='l2'`` uses 0 and ``'l1'`` uses 1.
    penalty : {None, 'l2', 'l1', 'elasticnet'}, default=None
        The penalty.
    average : int, default=0
        Averaging starts at sample count t = ``average``; 0: no averaging.
    fit_intercept : bool, default=True
        Whether the intercept is updated.
    sample_weight : array_like of shape (n,), optional
        The sample weights; None: all ones.
    class_weight : tuple of 2 float, default=(1.0, 1.0)
        The weights of target -1 and of target +1.
    t : float, default=1.0
        The sample counter at the first visit (scikit-learn's ``t_``); +1 per visit.
    average_coef : numpy.ndarray of shape (k,), optional
        The averaged weights so far (None: zeros); updated in place when given.
    average_intercept : float, default=0.0
        The averaged intercept so far.
    l1_owed : float, default=0.0
        The cumulative L1 penalty u so far in this fit.
    l1_applied : numpy.ndarray of shape (k,), optional
        The L1 penalty each weight has received so far (None: zeros); updated in place when
        given.
    loss : str, default='log_loss'
        One of ``LINEAR_LOSSES``.
    epsilon : float, default=0.1
        The threshold of the huber and epsilon-insensitive losses.
    intercept_decay : float, default=1.0
        The factor of the intercept's step.
    targets : array_like of shape (n,), optional
        A regressor's float targets, used in place of ``y``'s +1 and -1.

    Returns
    -------
    dict
        ``intercept``, ``average_coef``, ``average_intercept``, ``t``, ``l1_owed``,
        ``l1_applied`` (the state after the epoch) and ``loss`` (the mean progressive loss).

    See Also
    --------
    loss_and_gradient : The losses and their derivatives.
    logistic_epoch : The handout's update, which is this with the defaults.
    fastsgd.kernels.linear_sgd_epoch : The compiled kernel.

    Notes
    -----
    No scale factor, no lazy average. Without L1 the average is the mean of the weights after
    each step; with L1 the kernel's lazy average differs from it as SGDClassifier's does
    (the truncation moves the weights outside the lazy bookkeeping), so compare only the plain
    weights there. ``l1_owed`` and ``l1_applied`` carry the cumulative penalty from one epoch
    to the next of the same fit.

    Examples
    --------
    With the defaults (log-loss, constant rate, no penalty) it is the handout's update
    ``w <- w + eta x (y - s(w . x + b))``, as ``logistic_epoch`` computes it:

    >>> import numpy as np
    >>> from fastsgd.reference import logistic_epoch, sgd_classifier_epoch
    >>> X = np.array([[1.0, 2.0], [2.0, 0.0], [0.5, -1.0]])
    >>> y, order = np.array([1, 0, 1]), np.arange(3)
    >>> coef = np.zeros(2)
    >>> state = sgd_classifier_epoch(X, y, order, coef, 0.0, eta0=0.1)
    >>> handout_coef, handout_intercept = np.zeros((1, 2)), np.zeros(1)
    >>> handout_loss = logistic_epoch(
    ...     X, y, order, handout_coef, handout_intercept, np.array([0.1]), np.array([1]), True
    ... )
    >>> bool(np.allclose(coef, handout_coef[0]))
    True
    >>> bool(np.isclose(state["intercept"], handout_intercept[0]))
    True
    >>> bool(np.isclose(state["loss"], handout_loss[0])), state["t"]
    (True, 4.0)

    The L2 penalty shrinks every weight by ``1 - eta alpha`` before the gradient step; a
    sample with p = 0 and the hinge loss's gradient -y:

    >>> coef = np.array([1.0, -2.0])
    >>> state = sgd_classifier_epoch(
    ...     np.array([[0.0, 0.0]]), np.array([1]), [0], coef, 0.0,
    ...     eta0=0.5, alpha=0.1, penalty="l2", loss="hinge",
    ... )
    >>> coef, state["intercept"]  # 0.95 * [1, -2]; the intercept: + 0.5 * 1
    (array([ 0.95, -1.9 ]), 0.5)
    """
    dense = not isinstance(X, tuple)
    l1_ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, l1_ratio)
    shrinks = penalty in ("l2", "elasticnet")
    truncates = penalty in ("l1", "elasticnet")
    applied = np.zeros(coef.shape[0]) if l1_applied is None else l1_applied
    owed = l1_owed
    average_coef = np.zeros(coef.shape[0]) if average_coef is None else average_coef
    typw = np.sqrt(1.0 / np.sqrt(alpha)) if alpha > 0 else 1.0
    t0 = 1.0 / (typw * alpha) if alpha > 0 else 0.0
    total_loss = 0.0
    for row in order:
        if dense:
            features = np.arange(X.shape[1])
            values = X[row].astype(np.float64)
        else:
            data, indices, indptr = X
            features = indices[indptr[row] : indptr[row + 1]]
            values = data[indptr[row] : indptr[row + 1]].astype(np.float64)
        if targets is None:
            target = 1.0 if y[row] == 1 else -1.0
        else:
            target = float(targets[row])
        p = float(coef[features] @ values) + intercept
        if learning_rate == "optimal":
            eta = 1.0 / (alpha * (t0 + t - 1.0))
        elif learning_rate == "invscaling":
            eta = eta0 / t**power_t
        else:
            eta = eta0
        sample_loss, gradient = loss_and_gradient(loss, p, target, epsilon)
        total_loss += sample_loss
        weight = 1.0 if sample_weight is None else float(sample_weight[row])
        gradient = min(max(gradient, -1e12), 1e12)
        update = -eta * gradient * class_weight[int(target > 0)] * weight
        if shrinks:
            coef *= max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
        np.add.at(coef, features, update * values)
        if fit_intercept:
            intercept += update * intercept_decay
        if 0 < average <= t:
            seen = t - average + 1.0
            average_coef += (coef - average_coef) / seen
            average_intercept += (intercept - average_intercept) / seen
        if truncates:
            owed += l1_ratio * eta * alpha
            for j in np.unique(features):
                before = coef[j]
                if before > 0:
                    coef[j] = max(0.0, before - (owed + applied[j]))
                elif before < 0:
                    coef[j] = min(0.0, before + (owed - applied[j]))
                applied[j] += coef[j] - before
        t += 1.0
    return dict(
        intercept=intercept, average_coef=average_coef, average_intercept=average_intercept,
        t=t, l1_owed=owed, l1_applied=applied, loss=total_loss / max(len(order), 1),
    )  # fmt: skip
