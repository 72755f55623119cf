"""The handout's contract (section 39.1 d): one epoch is w <- w + eta * x * (y - s(w . x)).

The oracle below is a literal transcription of the handout's formula, one sample at a time,
with nothing shared with the library.
"""

import math

import numpy as np
import pytest

from fastsgd import LogisticRegression


def handout_epoch(X, y, eta, w):
    """w <- w + eta * x * (y - h(x)), h(x) = 1 / (1 + exp(-sum_i w_i x_i)), in order."""
    w = [float(v) for v in w]
    for x, label in zip(X.tolist(), y.tolist(), strict=True):
        h = 1.0 / (1.0 + math.exp(-sum(wi * xi for wi, xi in zip(w, x, strict=True))))
        w = [wi + eta * xi * (label - h) for wi, xi in zip(w, x, strict=True)]
    return np.array(w)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("eta", [0.01, 0.3])
def test_one_epoch_is_the_handout_update(seed, eta):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 5))
    y = (rng.random(40) < 0.4).astype(int)
    model = LogisticRegression(
        fit_intercept=False, shuffle=False, learning_rate="constant", eta0=eta, max_iter=1, tol=None
    ).fit(X, y, coef_init=np.zeros(5))
    expected = handout_epoch(X, y, eta, np.zeros(5))
    np.testing.assert_allclose(model.coef_[0], expected, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(model.intercept_, [0.0])


def test_each_sample_is_applied_in_order():
    """After the first sample alone, w = eta * x0 * (y0 - 1/2): the update from w = 0."""
    X = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
    y = np.array([1, 0])
    eta = 0.5
    one = LogisticRegression(fit_intercept=False, shuffle=False, eta0=eta, max_iter=1, tol=None)
    one.partial_fit(X[:1], y[:1], classes=[0, 1])
    np.testing.assert_allclose(one.coef_[0], eta * X[0] * (1 - 0.5), rtol=1e-15)
    one.partial_fit(X[1:], y[1:])
    w1 = eta * X[0] * 0.5
    h = 1 / (1 + math.exp(-(w1 @ X[1])))
    np.testing.assert_allclose(one.coef_[0], w1 + eta * X[1] * (0 - h), rtol=1e-14)
