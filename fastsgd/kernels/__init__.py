"""Compiled kernels: pure functions over arrays, callable from other people's ``@njit`` code.

Nothing here imports scikit-learn or anything above this package. Every kernel is
``@njit(cache=True, nogil=True)`` and compiled lazily on first call, so read-only and memmapped
arrays get their own specialisation instead of a copy.

The epoch kernels run one pass of per-sample SGD over the rows of ``X`` that ``order`` names,
update the caller's weight arrays in place, and return the mean progressive loss (each
sample's loss taken before its own step):

- ``logistic_epoch``: the handout's update ``w <- w + eta * x * (y - s(w . x + b))`` (section
  39.1 d) for a block of K weight vectors: a binary model, one-vs-rest, or a sweep of rates.
- ``linear_sgd_epoch`` and ``linear_sgd_finish``: scikit-learn's SGDClassifier and
  SGDRegressor step, with every loss, penalty, schedule and averaging mode, over dense or CSR
  rows; ``LinearSGDSettings`` holds its options, ``LinearSGDState`` its training state.
- ``net_epoch`` and ``net_sgd_epoch``: the handout's two-layer net (section 39.2) and
  scikit-learn's MLP SGD step with one hidden layer (options in ``NetSettings``), per sample
  or in mini-batches; the ``_per_sample`` and ``_batched`` variants compile one path only.

The scalar functions (``sigmoid``, ``log1pexp``, ``logistic_terms``, ``loss_terms``,
``activate``, ``output_layer``, ...) are the steps' math, which the kernels inline; they can be
called from Python too. ``fastsgd.reference`` has each kernel as a plain NumPy loop (the tests'
oracle), and ``fastsgd.parallel`` runs the epoch kernels on several threads.

The epoch kernels check their arguments once per call and raise a ValueError that names the
argument: the loops index without bounds checks, so a bad ``order`` entry would otherwise read
or write outside the arrays.

Called from your own ``@njit`` function, a kernel is linked into it: numba optimises the
kernel's code again as part of the caller (measured here: about 1 s for ``logistic_epoch``,
2 to 6 s for ``net_epoch``), once per process, or once for good with ``@njit(cache=True)`` on
the caller. Pass the settings through as variables: a literal
constant in the call (``True``, ``1``) has a type of its own and compiles another
specialisation of the kernel.

.. rubric:: Constants

Settings reach the kernels as integer codes (numba branches on integers). The tuples of names
list the codes in order: a code is the position of its name.

``ACTIVATIONS``
    ``("logistic", "tanh", "relu", "identity")``: the net's hidden activation g1, codes 0-3
    (``activate``, ``NetSettings.activation``).
``LOGISTIC``, ``TANH``, ``RELU``
    0, 1 and 2: the codes of the first three activations (identity's is 3).
``LOSSES``
    ``("log_loss", "squared_error")``: the net's loss, codes 0 and 1.
``LOG_LOSS``, ``SQUARED_ERROR``
    0 and 1: their codes, the same in ``LINEAR_LOSSES``.
``OUTPUTS``
    ``("logistic", "softmax", "identity")``: the net's output units g2, codes 0-2
    (``output_layer``, ``NetSettings.output``).
``OUTPUT_LOGISTIC``, ``OUTPUT_SOFTMAX``, ``OUTPUT_IDENTITY``
    0, 1 and 2: their codes.
``LINEAR_LOSSES``
    The nine losses of the linear engine, codes 0-8 (``loss_terms``,
    ``LinearSGDSettings.loss``): ``"log_loss"``, ``"squared_error"``, ``"hinge"``,
    ``"modified_huber"``, ``"squared_hinge"``, ``"perceptron"``, ``"huber"``,
    ``"epsilon_insensitive"``, ``"squared_epsilon_insensitive"``.
``CLASSIFICATION_LOSSES``, ``REGRESSION_LOSSES``
    The names of the classification losses (``"hinge"``, ``"log_loss"``,
    ``"modified_huber"``, ``"squared_hinge"``, ``"perceptron"``) and of the regression losses
    (``"squared_error"``, ``"huber"``, ``"epsilon_insensitive"``,
    ``"squared_epsilon_insensitive"``). Not in code order: a loss's code is its position in
    ``LINEAR_LOSSES``.
``LEARNING_RATES``
    ``("constant", "optimal", "invscaling", "adaptive")``: the schedules of
    ``LinearSGDSettings.learning_rate``, codes 0-3.

.. rubric:: Examples

>>> from fastsgd.kernels import ACTIVATIONS, CLASSIFICATION_LOSSES, LINEAR_LOSSES, TANH
>>> ACTIVATIONS.index("tanh") == TANH
True
>>> [LINEAR_LOSSES.index(name) for name in CLASSIFICATION_LOSSES]
[2, 0, 3, 4, 5]
"""

from fastsgd.kernels._math import (
    ACTIVATIONS,
    CLASSIFICATION_LOSSES,
    LINEAR_LOSSES,
    LOG_LOSS,
    LOGISTIC,
    LOSSES,
    OUTPUT_IDENTITY,
    OUTPUT_LOGISTIC,
    OUTPUT_SOFTMAX,
    OUTPUTS,
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
from fastsgd.kernels.net import (
    NetSettings,
    net_epoch,
    net_epoch_batched,
    net_epoch_per_sample,
    net_settings,
    net_sgd_epoch,
    net_sgd_epoch_batched,
    net_sgd_epoch_per_sample,
)

__all__ = [
    "ACTIVATIONS",
    "CLASSIFICATION_LOSSES",
    "LEARNING_RATES",
    "LINEAR_LOSSES",
    "LOGISTIC",
    "LOG_LOSS",
    "LOSSES",
    "OUTPUTS",
    "OUTPUT_IDENTITY",
    "OUTPUT_LOGISTIC",
    "OUTPUT_SOFTMAX",
    "REGRESSION_LOSSES",
    "RELU",
    "SQUARED_ERROR",
    "TANH",
    "LinearSGDSettings",
    "LinearSGDState",
    "NetSettings",
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
    "net_settings",
    "net_sgd_epoch",
    "net_sgd_epoch_batched",
    "net_sgd_epoch_per_sample",
    "optimal_init",
    "output_layer",
    "sigmoid",
    "sigmoid_pair",
    "streaming_floor",
    "tanh",
]
