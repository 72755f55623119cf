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
        z = coef @ x
        if fit_intercept:
            z = z + intercept
        loss_sum += logistic_loss(z, positive)
        step = (eta * (positive - sigmoid(z))).astype(dtype)
        coef += step[:, None] * x[None, :]
        if fit_intercept:
            intercept += step
    return loss_sum / max(len(order), 1)
