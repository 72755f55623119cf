"""Per-sample SGD epochs for logistic regression, for a block of K weight vectors at once.

Public kernels (callable from any ``@njit`` function; all arrays are NumPy arrays):
``logistic_epoch``, one epoch of the handout's update (section 39.1 d) for K models, and
``streaming_floor``, the memory-bandwidth floor an epoch is measured against. Their docstrings
hold the argument-by-argument contract.

It is the linear engine (``fastsgd.kernels.linear``) with the log-loss, a constant rate and
nothing else: one loop serves the handout's update, SGDClassifier's every option and
SGDRegressor. Nothing is allocated per sample: the state and scratch arrays are allocated once
per call.
"""

import math

import numpy as np
from numba import njit

from fastsgd.kernels._checks import check_models, check_visits
from fastsgd.kernels._dense import VECTOR_FASTMATH, dense_axpy_dot, dense_rows_axpy_dot
from fastsgd.kernels._intrinsics import cast_like, prefetch_distance, prefetch_row
from fastsgd.kernels._math import LOG_LOSS, logistic_terms_from_tail
from fastsgd.kernels.linear import (
    CONSTANT,
    LOSS_FLUSH,
    LinearSGDSettings,
    LinearSGDState,
    single_model_visits,
)


@njit(cache=True, nogil=True)
def plain_settings(fit_intercept):
    """The engine's settings of the handout's update: log-loss, constant rate, no penalty."""
    return LinearSGDSettings(
        np.int64(CONSTANT), 0.5, 1e-4, 0.0, 0.0, 0.0, np.int64(0), fit_intercept, False,
        np.int64(LOG_LOSS), 0.1, 1.0,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def plain_state(coef, intercept):
    """An engine state over coef and intercept, as they are (no scale, no average)."""
    n_models = coef.shape[0]
    return LinearSGDState(
        coef, intercept, np.zeros((n_models, 0)), np.zeros(n_models), np.ones(n_models),
        np.zeros(n_models), np.zeros((n_models, 0), coef.dtype), np.zeros(n_models),
        np.zeros(n_models), np.ones(n_models), np.zeros(n_models), np.ones(n_models),
    )  # fmt: skip


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def logistic_epoch(X, y, order, coef, intercept, eta, positive_class, fit_intercept):
    """Run one epoch of the handout's logistic-regression update for K models at once.

    The handout's update (section 39.1 d), ``w <- w + eta * x * (y - s(w . x + b))``, sample
    by sample in ``order``::

        for i in order:                         for each model m in 0..K-1:
            t = (y[i] == positive_class[m])     # the 0/1 label model m sees
            z = coef[m] . X[i] + intercept[m]
            loss[m] += log-loss(z, t)           # taken before the update (progressive loss)
            r = t - s(z)
            coef[m] += eta[m] * r * X[i]
            intercept[m] += eta[m] * r          # only when fit_intercept; always in z

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float32 or float64, C-contiguous; never written, never copied.
    y : ndarray of shape (n_samples,)
        Integer class codes.
    order : ndarray of shape (n_visits,)
        Integer row indices: a permutation, a slice of one, or any index list (rows may repeat
        or be skipped).
    coef : ndarray of shape (K, n_features)
        X's dtype, C-contiguous; updated in place.
    intercept : ndarray of shape (K,)
        X's dtype; always part of the margin, updated in place only when ``fit_intercept``
        (as SGDClassifier treats a given intercept with fit_intercept=False).
    eta : ndarray of shape (K,)
        float64, the learning rate of each model.
    positive_class : ndarray of shape (K,)
        Integer; model m treats ``y == positive_class[m]`` as label 1. K = 1 with
        positive_class = [1] is the binary model on labels {0, 1}; K = n_classes with
        positive_class = arange(K) is one-vs-rest; K copies of one class with K rates is a
        sweep.
    fit_intercept : bool
        Whether the intercepts are updated.

    Returns
    -------
    ndarray of shape (K,)
        float64: each model's mean progressive log-loss over the visits (zeros for an empty
        ``order``).

    Raises
    ------
    ValueError
        If y does not have one label per row of X, an entry of ``order`` is not a row of X,
        coef does not have one column per feature, or intercept, eta or positive_class does
        not have one entry per row of coef.

    See Also
    --------
    fastsgd.reference.logistic_epoch : The plain-NumPy loop, the same arguments.
    linear_sgd_epoch : The same step with every option of SGDClassifier and SGDRegressor.
    fastsgd.parallel.logistic_epoch_average : Shards of the epoch on several threads.

    Notes
    -----
    The step ``eta * r`` is rounded to X's dtype before it touches the weights, so float32
    data keeps float32 vector arithmetic; the loss is accumulated in float64. Nothing is
    allocated per sample. Arguments are checked once per call (``order`` is read once for
    its smallest and largest entry); the loop itself indexes without bounds checks.

    Examples
    --------
    Two samples by hand, from zero weights: s(0) = 1/2, so the first step (y = 1) is
    ``eta * x * (1 - 1/2)``; the second (y = 0) uses the margin after the first:

    >>> import math
    >>> import numpy as np
    >>> from fastsgd.kernels import logistic_epoch
    >>> X = np.array([[1.0, 2.0], [2.0, -1.0]])
    >>> y = np.array([1, 0])
    >>> coef, intercept = np.zeros((1, 2)), np.zeros(1)
    >>> eta, positive_class = np.array([0.5]), np.array([1])
    >>> loss = logistic_epoch(X, y, np.arange(2), coef, intercept, eta, positive_class, True)
    >>> w, b = 0.5 * X[0] * 0.5, 0.5 * 0.5
    >>> z = float(w @ X[1] + b)  # 0.5 - 0.5 + 0.25
    >>> s = 1 / (1 + math.exp(-z))
    >>> np.allclose(coef[0], w + 0.5 * X[1] * (0 - s)), np.allclose(intercept, b - 0.5 * s)
    (True, True)
    >>> np.allclose(loss, (math.log(2) - math.log(1 - s)) / 2)  # mean progressive log-loss
    True

    One-vs-rest over three classes against the NumPy reference:

    >>> from fastsgd import reference
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 4))
    >>> y = rng.integers(0, 3, 30)
    >>> order = rng.permutation(30)
    >>> ours = [np.zeros((3, 4)), np.zeros(3)]
    >>> theirs = [np.zeros((3, 4)), np.zeros(3)]
    >>> eta, classes = np.full(3, 0.1), np.arange(3)
    >>> loss = logistic_epoch(X, y, order, *ours, eta, classes, True)
    >>> expected = reference.logistic_epoch(X, y, order, *theirs, eta, classes, True)
    >>> np.allclose(loss, expected), np.allclose(ours[0], theirs[0])
    (True, True)

    From your own ``@njit`` code, here several epochs in one compiled function:

    >>> from numba import njit
    >>> @njit
    ... def train(X, y, coef, intercept, eta, positive_class, fit_intercept, n_epochs):
    ...     order = np.arange(X.shape[0])
    ...     losses = np.zeros(n_epochs)
    ...     for epoch in range(n_epochs):
    ...         loss = logistic_epoch(
    ...             X, y, order, coef, intercept, eta, positive_class, fit_intercept
    ...         )
    ...         losses[epoch] = loss[0]
    ...     return losses
    >>> X = rng.standard_normal((200, 3))
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> coef, intercept = np.zeros((1, 3)), np.zeros(1)
    >>> losses = train(X, y, coef, intercept, np.array([0.1]), np.array([1]), True, 5)
    >>> bool(losses[-1] < losses[0] < math.log(2))
    True
    """
    check_visits(X, y, order)
    check_models(X, coef, intercept, eta, positive_class)
    n_models = coef.shape[0]
    losses = np.zeros(n_models)
    if order.shape[0] == 0:
        return losses
    if n_models == 1:
        losses[0], _ = single_model_visits(
            X, y, order, None, eta[0], positive_class[0], np.ones((1, 2)),
            plain_settings(fit_intercept), plain_state(coef, intercept), False, False,
        )  # fmt: skip
        return losses
    return plain_block_epoch(X, y, order, coef, intercept, eta, positive_class, fit_intercept)


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def plain_block_epoch(X, y, order, coef, intercept, eta, positive_class, fit_intercept):
    """logistic_epoch for K > 1 models, dense rows. A loop of its own, not the engine's
    model_block_visits, for speed: every model's exp first, then the rest of every model's
    step as one loop without calls, which LLVM turns into vector code over the models, then
    one fused pass over the rows of coef. Measured against the engine's block loop with the
    same settings (ns a sample, N = 1e6 or 2e5, float64, fresh compile each): K=8, k=100: 162
    vs 268; K=8, k=10: 83 vs 167; K=3, k=100: 104 vs 151."""
    n_models = coef.shape[0]
    n_visits = order.shape[0]
    zero = cast_like(0.0, coef)
    margin = np.zeros(n_models)  # z of the sample about to be visited, one per model
    hinge_sum = np.zeros(n_models)
    log_sum = np.zeros(n_models)
    tail_product = np.ones(n_models)
    distance = prefetch_distance(X)
    first = order[0]
    for m in range(n_models):
        margin[m] = dense_axpy_dot(zero, X, first, coef, m, first, zero) + intercept[m]
    # All models step first, then one fused pass updates every row of coef and reads it for
    # the next visit, four rows per sweep sharing the loads of both rows of X (the net's
    # first layer uses the same pass). At K=8, k=100 this measured 3x faster than a pass
    # per model.
    steps = np.zeros(n_models, dtype=coef.dtype)
    tails = np.empty(n_models)
    for i in range(n_visits):
        if distance and i + distance < n_visits:
            prefetch_row(X, order[i + distance])
        row = order[i]
        label = y[row]
        # On the last visit the fused pass reads the same row again; its dot is discarded.
        next_row = order[i + 1] if i + 1 < n_visits else row
        # The exps first, then the rest of every model's math as one vector loop (measured
        # 143 -> 111 ns per sample for the scalar part at K=8, k=4).
        for m in range(n_models):
            tails[m] = math.exp(-abs(margin[m]))
        for m in range(n_models):
            residual, hinge = logistic_terms_from_tail(
                margin[m], tails[m], label == positive_class[m]
            )
            step = cast_like(eta[m] * residual, coef)
            steps[m] = step
            if fit_intercept:
                intercept[m] += step
            hinge_sum[m] += hinge
            tail_product[m] *= 1.0 + tails[m]
        dense_rows_axpy_dot(steps, X, row, coef, next_row, margin, zero)
        for m in range(n_models):
            margin[m] += intercept[m]
        if (i + 1) % LOSS_FLUSH == 0:
            for m in range(n_models):
                log_sum[m] += math.log(tail_product[m])
                tail_product[m] = 1.0

    for m in range(n_models):
        log_sum[m] += math.log(tail_product[m])
    return (hinge_sum + log_sum) / n_visits


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def streaming_floor(X):
    """Sum every element of X in one read pass: the memory-bandwidth floor of an epoch.

    An epoch reads every visited row of X at least once, so no epoch over X can be faster
    than this pass; bench/ measures the epochs against it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float32 or float64; read once, row by row.

    Returns
    -------
    float
        The sum of X's elements (each row summed in X's dtype, the rows in float64).

    See Also
    --------
    logistic_epoch : The epoch measured against it.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.kernels import streaming_floor
    >>> X = np.arange(12, dtype=np.float64).reshape(3, 4)
    >>> streaming_floor(X), float(X.sum())
    (66.0, 66.0)
    """
    total = 0.0
    if X.shape[1] == 0:  # the accumulator's dtype comes from row[0]
        return total
    for i in range(X.shape[0]):
        row = X[i]
        acc = row[0] * 0
        for j in range(row.shape[0]):
            acc += row[j]
        total += acc
    return total
