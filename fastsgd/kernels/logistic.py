"""Per-sample SGD epochs for logistic regression, for a block of K weight vectors at once.

Public kernels (callable from any ``@njit`` function; all arrays are NumPy arrays):

``logistic_epoch(X, y, order, coef, intercept, eta, positive_class, fit_intercept) -> loss``
    One epoch of the handout's update (section 39.1 d), sample by sample in ``order``::

        for i in order:                         for each model m in 0..K-1:
            t = (y[i] == positive_class[m])     # the 0/1 label model m sees
            z = coef[m] . X[i] + intercept[m]
            loss[m] += log-loss(z, t)           # taken before the update (progressive loss)
            r = t - s(z)
            coef[m] += eta[m] * r * X[i]
            intercept[m] += eta[m] * r          # only when fit_intercept; always in z

    X : (n_samples, n_features) float32 or float64, C-contiguous; never written, never copied.
    y : (n_samples,) integer class codes.
    order : (n_visits,) integer row indices: a permutation, a slice of one, or any index list.
    coef : (K, n_features), X's dtype, C-contiguous; updated in place.
    intercept : (K,), X's dtype; always part of the margin, updated in place only when
        fit_intercept (as SGDClassifier treats a given intercept with fit_intercept=False).
    eta : (K,) float64, the learning rate of each model.
    positive_class : (K,) integer; model m treats ``y == positive_class[m]`` as label 1.
        K = 1 with positive_class = [1] is the binary model on labels {0, 1}; K = n_classes with
        positive_class = arange(K) is one-vs-rest; K copies of one class with K rates is a sweep.
    fit_intercept : bool.
    Returns a (K,) float64 array: each model's mean progressive log-loss over the visits.
    The step eta * r is rounded to X's dtype before it touches the weights, so float32 data
    keeps float32 vector arithmetic; the loss is accumulated in float64.

``streaming_floor(X) -> float``
    One read pass over X (the sum of its elements): the memory-bandwidth floor that an epoch is
    measured against in bench/.

Nothing is allocated per sample: the (K,) result and scratch arrays are allocated once per call.
The K models are interleaved per sample: their dependency chains are independent, so the CPU
overlaps them (K=5 measured 270 ms per 1e6 samples at k=100 against 65 ms for K=1); processing
a cached tile of samples model by model measured slower (355 ms).
"""

import math

import numpy as np
from numba import njit

from fastsgd.kernels._checks import check_models, check_visits
from fastsgd.kernels._dense import VECTOR_FASTMATH, dense_axpy_dot, dense_rows_axpy_dot
from fastsgd.kernels._intrinsics import cast_like, prefetch_distance, prefetch_row
from fastsgd.kernels._math import logistic_terms, logistic_terms_from_tail

# The loss sums log(1 + tail) as the log of a running product, taken every LOSS_FLUSH visits:
# one log per 512 samples instead of one log1p per sample (log1p costs ~10 ns here, a quarter of
# a k=100 epoch's per-sample time). Each factor lies in [1, 2], so 512 of them stay below 2**512.
# The absolute error per sample is about 1e-16, the rounding of 1 + tail.
LOSS_FLUSH = 512


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH, inline="always")
def logistic_visit(X, row, next_row, positive, coef, m, z, bias, rate, fit_intercept, zero):
    """Model m's update for one visit, given z of this visit; returns (z of the next visit,
    bias, hinge part of the loss, tail part of the loss)."""
    residual, hinge, tail = logistic_terms(z, positive)
    step = cast_like(rate * residual, coef)
    if fit_intercept:
        bias += step
    z = dense_axpy_dot(step, X, row, coef, m, next_row, zero) + bias
    return z, bias, hinge, tail


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def logistic_epoch(X, y, order, coef, intercept, eta, positive_class, fit_intercept):
    check_visits(X, y, order)
    check_models(X, coef, intercept, eta, positive_class)
    n_models = coef.shape[0]
    n_visits = order.shape[0]
    zero = cast_like(0.0, coef)
    margin = np.zeros(n_models)  # z of the sample about to be visited, one per model
    hinge_sum = np.zeros(n_models)
    log_sum = np.zeros(n_models)
    tail_product = np.ones(n_models)
    if n_visits == 0:
        return log_sum
    distance = prefetch_distance(X)

    first = order[0]
    for m in range(n_models):
        margin[m] = dense_axpy_dot(zero, X, first, coef, m, first, zero) + intercept[m]

    if n_models == 1:
        # The binary model keeps its state in registers rather than in the (K,) arrays: no
        # store-to-load round trip on the per-sample dependency chain (measured 10-15% faster).
        z, bias, rate, target = margin[0], intercept[0], eta[0], positive_class[0]
        hinge_total, product, log_total = 0.0, 1.0, 0.0
        for i in range(n_visits):
            if distance and i + distance < n_visits:
                prefetch_row(X, order[i + distance])
            row = order[i]
            next_row = order[i + 1] if i + 1 < n_visits else row
            z, bias, hinge, tail = logistic_visit(
                X, row, next_row, y[row] == target, coef, 0, z, bias, rate, fit_intercept, zero
            )
            hinge_total += hinge
            product *= 1.0 + tail
            if (i + 1) % LOSS_FLUSH == 0:
                log_total += math.log(product)
                product = 1.0
        intercept[0] = bias
        hinge_sum[0] = hinge_total
        log_sum[0] = log_total
        tail_product[0] = product
    else:
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
    total = 0.0
    for i in range(X.shape[0]):
        row = X[i]
        acc = row[0] * 0
        for j in range(row.shape[0]):
            acc += row[j]
        total += acc
    return total
