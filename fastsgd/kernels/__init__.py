"""Compiled kernels: pure functions over arrays, callable from other people's ``@njit`` code.

Nothing here imports scikit-learn or anything above this package. Every kernel is
``@njit(cache=True, nogil=True)`` and compiled lazily on first call, so read-only and memmapped
arrays get their own specialisation instead of a copy.
"""

from fastsgd.kernels._math import (
    log1pexp,
    logistic_loss,
    logistic_residual,
    logistic_terms,
    sigmoid,
)
from fastsgd.kernels.logistic import logistic_epoch, streaming_floor

__all__ = [
    "log1pexp",
    "logistic_epoch",
    "logistic_loss",
    "logistic_residual",
    "logistic_terms",
    "sigmoid",
    "streaming_floor",
]
