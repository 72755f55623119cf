"""fastsgd.kernels.loss_terms, the linear engine's losses, against their references.

References: scikit-learn's own loss objects (the ones SGDClassifier and SGDRegressor hand to
``_plain_sgd``: sklearn.linear_model._sgd_fast's Hinge, SquaredHinge, ModifiedHuber,
EpsilonInsensitive, SquaredEpsilonInsensitive, and sklearn._loss's CyHalfBinomialLoss,
CyHalfSquaredError, CyHuberLoss), the NumPy transcription ``fastsgd.reference.
loss_and_gradient``, hand-derived values, and central finite differences of the loss.

``loss_terms(kind, p, y, epsilon)`` returns (residual, linear, tail) with residual = -dloss/dp
(clipped to 1e12) and loss = linear + log(1 + tail).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn._loss._loss import CyHalfBinomialLoss, CyHalfSquaredError, CyHuberLoss
from sklearn.linear_model import _sgd_fast

from fastsgd import reference
from fastsgd.kernels import LINEAR_LOSSES, loss_terms

EPSILON = 0.3


def sklearn_loss_and_gradient(name, p, y):
    """scikit-learn's (loss, dloss/dp), from the objects its SGD estimators use."""
    objects = {
        "hinge": _sgd_fast.Hinge(1.0), "perceptron": _sgd_fast.Hinge(0.0),
        "squared_hinge": _sgd_fast.SquaredHinge(1.0), "modified_huber": _sgd_fast.ModifiedHuber(),
        "epsilon_insensitive": _sgd_fast.EpsilonInsensitive(EPSILON),
        "squared_epsilon_insensitive": _sgd_fast.SquaredEpsilonInsensitive(EPSILON),
    }  # fmt: skip
    if name in objects:
        return objects[name].py_loss(p, y), objects[name].py_dloss(p, y)
    vector = {"log_loss": CyHalfBinomialLoss(), "squared_error": CyHalfSquaredError(),
              "huber": CyHuberLoss(EPSILON)}[name]  # fmt: skip
    target = np.array([float(y > 0) if name == "log_loss" else y])
    loss, gradient = np.empty(1), np.empty(1)
    vector.loss(target, np.array([p]), None, loss, 1)
    vector.gradient(target, np.array([p]), None, gradient, 1)
    return loss[0], gradient[0]


def ours(name, p, y):
    residual, linear, tail = loss_terms(LINEAR_LOSSES.index(name), p, y, EPSILON)
    return linear + math.log1p(tail), -residual


def target_for(name, y):
    regression = name in ("squared_error", "huber", "epsilon_insensitive",
                          "squared_epsilon_insensitive")  # fmt: skip
    return y if regression else (1.0 if y > 0 else -1.0)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(LINEAR_LOSSES),
    p=st.floats(-30, 30, allow_nan=False),
    y=st.floats(-3, 3, allow_nan=False),
)
def test_loss_and_gradient_match_sklearn_and_the_reference(name, p, y):
    y = target_for(name, y)
    loss, gradient = ours(name, p, y)
    expected_loss, expected_gradient = sklearn_loss_and_gradient(name, p, y)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-14)
    reference_loss, reference_gradient = reference.loss_and_gradient(name, p, y, EPSILON)
    np.testing.assert_allclose(loss, reference_loss, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gradient, reference_gradient, rtol=1e-12, atol=1e-14)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(LINEAR_LOSSES),
    p=st.floats(-5, 5, allow_nan=False),
    y=st.floats(-3, 3, allow_nan=False),
)
def test_gradient_is_the_derivative_of_the_loss(name, p, y):
    """Central finite differences, away from the kinks (where the loss has no derivative)."""
    y = target_for(name, y)
    h = 1e-6
    kinks = {"hinge": [y], "perceptron": [0.0], "squared_hinge": [y],
             "modified_huber": [y, -y], "huber": [y - EPSILON, y + EPSILON],
             "epsilon_insensitive": [y - EPSILON, y + EPSILON],
             "squared_epsilon_insensitive": [y - EPSILON, y + EPSILON]}.get(name, [])  # fmt: skip
    if any(abs(p - kink) < 1e-4 for kink in kinks):
        return
    numeric = (ours(name, p + h, y)[0] - ours(name, p - h, y)[0]) / (2 * h)
    np.testing.assert_allclose(ours(name, p, y)[1], numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "p", "y", "loss", "gradient"),
    [
        ("hinge", 0.25, 1.0, 0.75, -1.0),  # 1 - p y below the margin; dloss = -y
        ("hinge", 2.0, 1.0, 0.0, 0.0),
        ("perceptron", -0.5, 1.0, 0.5, -1.0),  # threshold 0
        ("squared_hinge", 0.5, -1.0, 2.25, 3.0),  # z = 1 + 0.5; z^2; -2 y z
        ("modified_huber", 0.5, 1.0, 0.25, -1.0),  # (1 - z)^2; -2 (1 - z) y
        ("modified_huber", -2.0, 1.0, 8.0, -4.0),  # -4 z; -4 y
        ("squared_error", 2.0, 0.5, 1.125, 1.5),
        ("huber", 2.0, 0.5, 0.3 * (1.5 - 0.15), 0.3),
        ("epsilon_insensitive", 2.0, 0.5, 1.2, 1.0),
        ("squared_epsilon_insensitive", 0.0, 1.0, 0.49, -1.4),
        ("log_loss", 0.0, 1.0, math.log(2.0), -0.5),
    ],
)
def test_hand_derived_values(name, p, y, loss, gradient):
    np.testing.assert_allclose(ours(name, p, y), (loss, gradient), rtol=1e-12)


def test_gradient_is_clipped_as_in_sklearn():
    residual, _, _ = loss_terms(LINEAR_LOSSES.index("squared_error"), 1e300, 0.0, EPSILON)
    assert residual == -1e12
    residual, _, _ = loss_terms(LINEAR_LOSSES.index("squared_error"), np.nan, 0.0, EPSILON)
    assert np.isnan(residual)  # divergence stays visible
