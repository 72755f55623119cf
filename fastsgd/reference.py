"""Plain-NumPy per-sample SGD: the benchmarks' baseline and the tests' oracle.

Each function has the same signature and meaning as its compiled kernel in ``fastsgd.kernels``,
written as the obvious NumPy loop with no tricks, so that what it computes is easy to check by
eye against the handout. It imports only NumPy.
"""

import numpy as np


def sigmoid(z):
    """s(z) = 1 / (1 + exp(-z)), evaluated without overflow."""
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def logistic_loss(z, positive):
    """-[y ln s(z) + (1-y) ln(1-s(z))] = log(1 + exp(z)) - y z, evaluated without overflow."""
    z = np.asarray(z, dtype=np.float64)
    return np.where(positive, np.logaddexp(0.0, -z), np.logaddexp(0.0, z))


def logistic_epoch(X, y, order, coef, intercept, eta, positive_class, fit_intercept):
    """One epoch of w <- w + eta * x * (y - s(w . x + b)) for K models; see the kernel's docs.

    The intercept is always part of the margin; it is updated only when ``fit_intercept``.

    Updates ``coef`` (K, n_features) and ``intercept`` (K,) in place and returns each model's mean
    progressive log-loss.
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

ACTIVATIONS = ("logistic", "tanh", "relu")  # codes 0, 1, 2, as in fastsgd.kernels
LOSSES = ("log_loss", "squared_error")  # codes 0, 1


def activate(z, kind):
    name = ACTIVATIONS[kind]
    if name == "logistic":
        return sigmoid(z).astype(z.dtype)
    if name == "tanh":
        return np.tanh(z)
    return np.maximum(z, 0)


def activation_slope(z, a, kind):
    name = ACTIVATIONS[kind]
    if name == "logistic":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    return (z > 0).astype(z.dtype)


def net_forward(X, W1t, b1, W2, b2, activation):
    """Return (z1, a1, z2, a2) for the rows of X; a2 is the sigmoid or softmax output.

    W1t is the first layer as (H, k), one row per hidden unit (the kernels' layout).
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
    """Target matrix: a 0/1 column for one output, one-hot rows for a softmax."""
    if n_out == 1:
        return (labels == 1).astype(np.float64)[:, None]
    return (labels[:, None] == np.arange(n_out)[None, :]).astype(np.float64)


def net_loss_and_delta(z2, a2, target, loss):
    """Per-sample losses and dLoss/dz2 for the sigmoid or softmax output."""
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

    Same arguments and meaning as fastsgd.kernels.net_epoch; updates the weights in place and
    returns the mean progressive loss. Gradients are averaged over each batch, all from the same
    forward pass.
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


# -- parallel strategies (fastsgd.parallel) ------------------------------------------------------


def parameter_mixing(epoch, X, y, order, params, n_shards, *settings):
    """Iterative parameter mixing: ``epoch`` on each contiguous shard of ``order`` from copies of
    ``params``, then every parameter becomes the mean of the copies; returns the mean loss.

    ``epoch`` is ``logistic_epoch`` or ``net_epoch`` above, ``params`` the list of arrays it
    updates (coef, intercept) or (W1t, b1, W2, b2), ``settings`` its remaining arguments.
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


LINEAR_LOSSES = (
    "log_loss", "squared_error", "hinge", "modified_huber", "squared_hinge", "perceptron",
    "huber", "epsilon_insensitive", "squared_epsilon_insensitive",
)  # fmt: skip  (codes as in fastsgd.kernels)


def loss_and_gradient(loss, p, y, epsilon=0.1):
    """(loss, dloss/dp) of prediction p for target y, scikit-learn's definitions
    (sklearn/linear_model/_sgd_fast.pyx.tp and sklearn/_loss), written as the formulas. y is +1
    or -1 for the classification losses (log_loss reads y > 0 as label 1), the value for the
    regression losses."""
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
    float targets. ``loss`` is any of LINEAR_LOSSES (see ``loss_and_gradient``); the gradient
    is clipped to 1e12 and the intercept's step scaled by ``intercept_decay``, as scikit-learn
    does.
    X is a dense (n, k) array or a CSR matrix given as ``(data, indices, indptr)``; a dense row
    takes part with every feature, a CSR row with its stored entries. Per visit, in
    scikit-learn's order:

        p = w . x + b;  eta = rate(t);  update = -eta dloss(p, y) class_weight[y] sample_weight
        w *= max(0, 1 - (1 - l1_ratio) eta alpha)              (l2, elasticnet: every weight)
        w[x's features] += update * x;  b += update
        from t = average on: w_avg += (w - w_avg) / (t - average + 1), the same for b
        L1: u += l1_ratio eta alpha; each of x's weights moves toward 0 by u minus what it has
            received of the penalty, never across 0 (Tsuruoka et al. 2009)
        t += 1

    No scale factor, no lazy average. Without L1 the average is the mean of the weights after
    each step; with L1 the kernel's lazy average differs from it as SGDClassifier's does
    (the truncation moves the weights outside the lazy bookkeeping), so compare only the plain
    weights there. ``l1_owed`` and ``l1_applied`` carry the cumulative penalty from one epoch
    to the next of the same fit. Updates ``coef`` (k,) in place; returns a dict of intercept,
    average_coef, average_intercept, t, l1_owed, l1_applied and loss (the mean progressive
    loss).
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
