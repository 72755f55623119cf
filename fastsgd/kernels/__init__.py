"""Compiled kernels: pure functions over arrays, callable from other people's ``@njit`` code.

Nothing here imports scikit-learn or anything above this package. Every kernel is
``@njit(cache=True, nogil=True)`` and compiled lazily on first call, so read-only and memmapped
arrays get their own specialisation instead of a copy.
"""

from fastsgd.kernels._math import (
    ACTIVATIONS,
    CLASSIFICATION_LOSSES,
    LINEAR_LOSSES,
    LOG_LOSS,
    LOGISTIC,
    LOSSES,
    REGRESSION_LOSSES,
    RELU,
    SQUARED_ERROR,
    TANH,
    activate,
    activation_slope,
    log1pexp,
    logistic_loss,
    logistic_residual,
    logistic_terms,
    loss_terms,
    output_layer,
    sigmoid,
    sigmoid_pair,
    tanh,
)
from fastsgd.kernels.linear import (
    LEARNING_RATES,
    LinearSGDSettings,
    LinearSGDState,
    linear_sgd_epoch,
    linear_sgd_finish,
    optimal_init,
)
from fastsgd.kernels.logistic import logistic_epoch, streaming_floor
from fastsgd.kernels.net import net_epoch, net_epoch_batched, net_epoch_per_sample

__all__ = [
    "ACTIVATIONS",
    "CLASSIFICATION_LOSSES",
    "LEARNING_RATES",
    "LINEAR_LOSSES",
    "LOGISTIC",
    "LOG_LOSS",
    "LOSSES",
    "REGRESSION_LOSSES",
    "RELU",
    "SQUARED_ERROR",
    "TANH",
    "LinearSGDSettings",
    "LinearSGDState",
    "activate",
    "activation_slope",
    "linear_sgd_epoch",
    "linear_sgd_finish",
    "log1pexp",
    "logistic_epoch",
    "logistic_loss",
    "logistic_residual",
    "logistic_terms",
    "loss_terms",
    "net_epoch",
    "net_epoch_batched",
    "net_epoch_per_sample",
    "optimal_init",
    "output_layer",
    "sigmoid",
    "sigmoid_pair",
    "streaming_floor",
    "tanh",
]
