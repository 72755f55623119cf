"""Scalar math shared by every kernel: stable sigmoid, softplus, log-loss and its residual.

All functions take and return float64 scalars. They are small enough that LLVM inlines them into
the epoch loops, so keeping them here costs nothing and keeps the update math in one place.
"""

import math

from numba import njit


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
def logistic_terms(z, positive):
    """The log-loss of margin z for label y = positive (0/1), split for the epoch loops.

    Returns ``(residual, hinge, tail)`` with

        residual = y - s(z)                     (the handout's update factor)
        loss     = hinge + log(1 + tail)        (cross-entropy -[y ln s(z) + (1-y) ln(1-s(z))])

    One exp serves both: with u = z for y = 0 and u = -z for y = 1, loss = softplus(u)
    = max(u, 0) + log1p(exp(-|u|)), and |residual| = s(u). Nothing overflows, log(0) never
    happens, and the loss is finite for |z| up to the largest float64. The residual keeps full
    relative precision when s(z) is close to 0 or 1.
    """
    u = -z if positive else z
    tail = math.exp(-abs(u))
    s_u = 1.0 / (1.0 + tail) if u >= 0.0 else tail / (1.0 + tail)
    residual = s_u if positive else -s_u
    return residual, max(u, 0.0), tail


@njit(cache=True, nogil=True)
def logistic_loss(z, positive):
    """Cross-entropy of margin z for label y = positive (0/1); stable, see ``logistic_terms``."""
    _, hinge, tail = logistic_terms(z, positive)
    return hinge + math.log1p(tail)


@njit(cache=True, nogil=True)
def logistic_residual(z, positive):
    """y - s(z) for label y = positive (0/1); stable, see ``logistic_terms``."""
    return logistic_terms(z, positive)[0]
