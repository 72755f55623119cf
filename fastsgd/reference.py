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

ACTIVATIONS = ("logistic", "tanh", "relu", "identity")  # codes 0-3, as in fastsgd.kernels
LOSSES = ("log_loss", "squared_error")  # codes 0, 1


def activate(z, kind):
    name = ACTIVATIONS[kind]
    if name == "logistic":
        return sigmoid(z).astype(z.dtype)
    if name == "tanh":
        return np.tanh(z)
    if name == "identity":
        return z.copy()
    return np.maximum(z, 0)


def activation_slope(z, a, kind):
    name = ACTIVATIONS[kind]
    if name == "logistic":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "identity":
        return np.ones_like(z)
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

    2-D targets are used as they are. 1-D targets are class codes (output 'logistic' with one
    unit: the target is code == 1; 'softmax': one-hot of the code), or, for an 'identity'
    output with one unit, the regression values themselves.
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

    ``X`` (B, k) and ``target`` (B, n_out) are the batch's rows and target matrix,
    ``sample_weight`` its (B,) weights or None (all ones); W1t (H, k), b1 (H,), W2 (H, n_out),
    b2 (n_out,) the weights. Arrays are computed in W1t's dtype. Returns
    ``(grad_W1t, grad_b1, grad_W2, grad_b2, batch_loss)``, the gradient of W1t in W1t's layout
    and the loss a float (float64)::

        z1 = X W1t^T + b1;  a1 = g1(z1);  z2 = a1 W2 + b2;  a2 = g2(z2)
        delta2 = sw * dLoss/dz2;  delta1 = (delta2 W2^T) * g1'(z1)    (relu': 0 where a1 == 0)
        grad_W2 = (a1^T delta2 + alpha W2) / sum(sw);  grad_b2 = sum_rows(delta2) / sum(sw)
        grad_W1t = (delta1^T X + alpha W1t) / sum(sw); grad_b1 = sum_rows(delta1) / sum(sw)
        batch_loss = sum(sw * loss) / sum(sw) + 0.5 alpha (|W1|^2 + |W2|^2) / sum(sw)

    dLoss/dz2 is a2 - y for the canonical pairs (logistic, log_loss), (softmax, log_loss) and
    (identity, squared_error); (a2 - y) a2 (1 - a2) for (logistic, squared_error) (the
    handout's net, 39.2); a2 (err - sum(a2 err)) for (softmax, squared_error). The per-sample
    loss is the binary cross-entropy summed over the units (logistic, log_loss), -log p_label
    (softmax, log_loss), 0.5 (a2 - y)^2 summed over the units (logistic or softmax,
    squared_error) and 0.5 (a2 - y)^2 *averaged* over the outputs (identity, squared_error:
    scikit-learn's ``squared_loss``; its gradient a2 - y is then n_out times that of the
    reported loss when n_out > 1, as in scikit-learn).

    The log-losses are computed from z2 with logaddexp, without scikit-learn's clipping of the
    probabilities to [eps, 1 - eps]; the two agree unless a probability is within ~1e-16 of 0
    or 1 (where scikit-learn's loss saturates at -log(eps) ~ 36 and this one keeps growing).
    A batch whose weights sum to 0 has no gradient (scikit-learn divides by zero there):
    ValueError.
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
    """One epoch of scikit-learn's MLPClassifier / MLPRegressor(solver='sgd',
    hidden_layer_sizes=(H,)) over the rows ``order``, in batches of ``batch_size``
    consecutive visits.

    Updates W1t (H, k), b1 (H,), W2 (H, n_out), b2 (n_out,) and the 4 ``velocities`` (same
    shapes, a tuple or list; None: zeros, kept for this call only) in place; returns the epoch
    loss as scikit-learn accumulates it: the sum over batches of batch_loss * batch_len,
    divided by len(order) (0.0 for an empty order).

    ``activation`` is 'logistic', 'tanh', 'relu' or its code in ACTIVATIONS; ``loss``
    'log_loss', 'squared_error' or its code in LOSSES; ``output`` one of NET_OUTPUTS
    ('logistic': one sigmoid per output unit). ``targets`` are 1-D class codes or an
    (n, n_out) float matrix (see ``net_target_matrix``), ``sample_weight`` an (n,) array or
    None (all ones). Per batch, with the gradients g of ``net_gradients`` (all from the
    weights before the step), every parameter p and its velocity v (SGDOptimizer)::

        v = momentum v - eta g;  p += (momentum v - eta g) if nesterov else v

    The biases are updated (they and their velocities) only when ``fit_intercept``; they
    always enter the forward pass. scikit-learn's MLP always fits them. A batch whose sample
    weights sum to 0 is skipped entirely (no update, no velocity decay, adds 0 to the loss);
    scikit-learn divides by zero there. Arrays are computed in W1t's dtype, the loss in
    float64. ``eta`` is the epoch's rate: scikit-learn's 'invscaling' uses
    eta0 / (t + 1)**power_t, t the samples seen in the previous epochs (eta0 in the first).
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


# codes as in fastsgd.kernels
LINEAR_LOSSES = (
    "log_loss", "squared_error", "hinge", "modified_huber", "squared_hinge", "perceptron",
    "huber", "epsilon_insensitive", "squared_epsilon_insensitive",
)  # fmt: skip


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
