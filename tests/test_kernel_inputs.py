"""The public kernels refuse arguments that would read or write outside their arrays.

The kernels run without bounds checks, so the reference here is the kernels' documented
contract (fastsgd/kernels/_checks.py): a row number in ``order`` past the data, a label past a
softmax's outputs, or weights of the wrong size raise a ValueError naming the argument, from
Python and from other ``@njit`` code alike, and leave the weights untouched. Valid arguments are
checked by the kernel test files against the NumPy references.
"""

import numpy as np
import pytest
from numba import njit

from fastsgd.kernels import (
    LOG_LOSS,
    RELU,
    LinearSGDSettings,
    LinearSGDState,
    linear_sgd_epoch,
    logistic_epoch,
    net_epoch,
)
from fastsgd.parallel import (
    logistic_epoch_average,
    logistic_epoch_hogwild,
    net_epoch_average,
    net_epoch_hogwild,
)

N, K_FEATURES, HIDDEN = 20, 3, 4
rng = np.random.default_rng(0)
X = rng.standard_normal((N, K_FEATURES))
Y = rng.integers(0, 2, N)
ORDER = np.arange(N)


def logistic_arguments(**changes):
    arguments = dict(
        X=X, y=Y, order=ORDER, coef=np.zeros((1, K_FEATURES)), intercept=np.zeros(1),
        eta=np.full(1, 0.1), positive_class=np.ones(1, dtype=np.int64), fit_intercept=True,
    )  # fmt: skip
    arguments.update(changes)
    return arguments


def net_arguments(n_out=1, **changes):
    arguments = dict(
        X=X, y=Y, order=ORDER, W1t=np.full((HIDDEN, K_FEATURES), 0.1), b1=np.zeros(HIDDEN),
        W2=np.full((HIDDEN, n_out), 0.1), b2=np.zeros(n_out), eta=0.1, activation=RELU,
        loss=LOG_LOSS, fit_intercept=True, batch_size=1,
    )  # fmt: skip
    arguments.update(changes)
    return arguments


def linear_arguments(state_changes=(), **changes):
    state = dict(
        coef=np.zeros((1, K_FEATURES)), intercept=np.zeros(1), average_coef=np.zeros((1, 0)),
        average_intercept=np.zeros(1), t=np.ones(1), l1_total=np.zeros(1),
        l1_applied=np.zeros((1, 0)), sq_norm=np.zeros(1), l1_norm=np.zeros(1),
        wscale=np.ones(1), average_a=np.zeros(1), average_b=np.ones(1),
    )  # fmt: skip
    state.update(dict(state_changes))
    arguments = dict(
        X=X, y=Y, order=ORDER, sample_weight=None, rates=np.full(1, 0.1),
        positive_class=np.ones(1, dtype=np.int64), class_weight=np.ones((1, 2)),
        settings=LinearSGDSettings(0, 0.5, 1e-4, 0.0, 1e-4, 0.0, 0, True, False),
        state=LinearSGDState(**state),
    )  # fmt: skip
    arguments.update(changes)
    return arguments


def with_shards(kernel):
    return lambda **arguments: kernel(**arguments, n_shards=2)


CASES = [
    # (id, kernel, arguments, message)
    ("logistic-order-past-the-end", logistic_epoch, logistic_arguments(order=np.array([0, N])),
     "order holds a row number"),
    ("logistic-negative-order", logistic_epoch, logistic_arguments(order=np.array([-1])),
     "order holds a row number"),
    ("logistic-short-y", logistic_epoch, logistic_arguments(y=Y[:-1]), "one label per row"),
    ("logistic-coef-width", logistic_epoch,
     logistic_arguments(coef=np.zeros((1, K_FEATURES + 1))), "coef must have one column"),
    ("logistic-intercept-length", logistic_epoch, logistic_arguments(intercept=np.zeros(2)),
     "intercept must have one entry"),
    ("logistic-eta-length", logistic_epoch, logistic_arguments(eta=np.full(3, 0.1)),
     "eta .* one entry"),
    ("logistic-positive-class-length", logistic_epoch,
     logistic_arguments(positive_class=np.ones(2, dtype=np.int64)), "positive_class must"),
    ("logistic-average-order", with_shards(logistic_epoch_average),
     logistic_arguments(order=np.array([0, N + 5])), "order holds a row number"),
    ("logistic-hogwild-coef-width", with_shards(logistic_epoch_hogwild),
     logistic_arguments(coef=np.zeros((1, 1))), "coef must have one column"),
    ("net-order-past-the-end", net_epoch, net_arguments(order=np.array([N])),
     "order holds a row number"),
    ("net-W1t-width", net_epoch, net_arguments(W1t=np.zeros((HIDDEN, K_FEATURES + 2))),
     "W1t must have one column"),
    ("net-b1-length", net_epoch, net_arguments(b1=np.zeros(HIDDEN + 1)), "b1 and the rows of W2"),
    ("net-W2-rows", net_epoch, net_arguments(W2=np.zeros((HIDDEN - 1, 1))),
     "b1 and the rows of W2"),
    ("net-b2-length", net_epoch, net_arguments(b2=np.zeros(2)), "b2 must have one entry"),
    ("net-softmax-label-past-outputs", net_epoch, net_arguments(n_out=2, y=Y + 1),
     "every visited label must be in"),
    ("net-batched-softmax-label", net_epoch, net_arguments(n_out=3, y=Y * 5, batch_size=4),
     "every visited label must be in"),
    ("net-average-W1t-width", with_shards(net_epoch_average),
     net_arguments(W1t=np.zeros((HIDDEN, 1))), "W1t must have one column"),
    ("net-hogwild-order", with_shards(net_epoch_hogwild), net_arguments(order=np.array([N])),
     "order holds a row number"),
    ("linear-order-past-the-end", linear_sgd_epoch, linear_arguments(order=np.array([N])),
     "order holds a row number"),
    ("linear-sample-weight-length", linear_sgd_epoch,
     linear_arguments(sample_weight=np.ones(N - 1)), "sample_weight must have one weight"),
    ("linear-class-weight-shape", linear_sgd_epoch,
     linear_arguments(class_weight=np.ones((1, 3))), "class_weight must have shape"),
    ("linear-coef-width", linear_sgd_epoch,
     linear_arguments(state_changes={"coef": np.zeros((1, 2))}), "coef must have one column"),
    ("linear-state-vector", linear_sgd_epoch,
     linear_arguments(state_changes={"wscale": np.ones(2)}), "every \\(K,\\) array"),
    ("linear-average-shape", linear_sgd_epoch,
     linear_arguments(state_changes={"average_coef": np.zeros((1, 2))}), "average_coef and"),
    ("linear-averaging-without-average-coef", linear_sgd_epoch,
     linear_arguments(settings=LinearSGDSettings(0, 0.5, 1e-4, 0.0, 1e-4, 0.0, 1, True, False)),
     "averaging .* needs average_coef"),
    ("linear-l1-without-l1-applied", linear_sgd_epoch,
     linear_arguments(settings=LinearSGDSettings(0, 0.5, 1e-4, 0.0, 0.0, 1e-2, 0, True, False)),
     "L1 penalty .* needs l1_applied"),
    ("linear-csr-order", linear_sgd_epoch,
     linear_arguments(X=(np.ones(N), np.zeros(N, dtype=np.int32), np.arange(N + 1)),
                      order=np.array([N])), "order holds a row number"),
    ("linear-csr-short-y", linear_sgd_epoch,
     linear_arguments(X=(np.ones(N), np.zeros(N, dtype=np.int32), np.arange(N + 1)),
                      y=Y[:5]), "one label per row"),
]  # fmt: skip


def weights_of(arguments):
    state = arguments.get("state")
    arrays = [v for v in arguments.values() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    return arrays + ([state.coef, state.intercept] if state is not None else [])


@pytest.mark.parametrize("kernel,arguments,message", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_bad_arguments_raise_a_named_value_error(kernel, arguments, message):
    before = [a.copy() for a in weights_of(arguments)]
    with pytest.raises(ValueError, match=message):
        kernel(**arguments)
    for a, b in zip(weights_of(arguments), before, strict=True):
        np.testing.assert_array_equal(a, b)


@njit
def call_from_numba(X, y, order, coef, intercept, eta, positive_class):
    return logistic_epoch(X, y, order, coef, intercept, eta, positive_class, True)


def test_the_checks_hold_inside_other_njit_code():
    arguments = logistic_arguments(order=np.array([3, N + 1]))
    arguments.pop("fit_intercept")
    with pytest.raises(ValueError, match="order holds a row number"):
        call_from_numba(**arguments)
    good = logistic_arguments()
    good.pop("fit_intercept")
    assert np.isfinite(call_from_numba(**good)).all()
