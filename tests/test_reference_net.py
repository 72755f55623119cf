"""fastsgd.reference.net_sgd_epoch against scikit-learn's one-hidden-layer MLP (solver='sgd').

The reference (``net_gradients`` for one batch, ``net_sgd_epoch`` for an epoch) is, for a batch
B of rows with sample weights sw (all ones when none are given) and S = sum(sw):

    z1 = X_B W1t^T + b1;   a1 = g1(z1);   z2 = a1 W2 + b2;   a2 = g2(z2)
    delta2 = sw * dLoss/dz2, where dLoss/dz2 = a2 - y for (logistic, log_loss),
             (softmax, log_loss), (identity, squared_error); (a2 - y) a2 (1 - a2) for
             (logistic, squared_error); a2 (err - sum(a2 err)) for (softmax, squared_error)
    delta1 = (delta2 W2^T) * g1'(z1)                   (relu': 0 where a1 == 0)
    grad W2 = (a1^T delta2 + alpha W2) / S             grad b2 = sum_rows(delta2) / S
    grad W1t = (delta1^T X_B + alpha W1t) / S          grad b1 = sum_rows(delta1) / S
    batch loss = sum(sw * loss) / S + 0.5 alpha (|W1|^2 + |W2|^2) / S
    every parameter p, velocity v:  v = momentum v - eta g;
                                    p += (momentum v - eta g) if nesterov else v
    epoch loss = sum over batches of batch_loss * len(B), divided by the number of visits

with all gradients from the weights before the step; the biases are stepped only when
fit_intercept (scikit-learn always fits them), and a batch whose weights sum to 0 is skipped.
The per-sample loss is the binary cross-entropy summed over the output units, -log p_label, or
0.5 (a2 - y)^2 summed over the units (averaged over them for an identity output, as
scikit-learn's squared_loss does). 'invscaling' in scikit-learn sets the rate after each epoch
to eta0 / (t + 1)**power_t, t the samples seen so far, so epoch e (from 0) runs at eta0 and
then eta0 / (e n + 1)**power_t.
"""

import itertools
import math
import warnings
from itertools import pairwise

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state

from fastsgd import reference

N, K, H, EPOCHS, SEED, POWER_T = 60, 5, 4, 3, 11, 0.5
KINDS = ("binary", "multiclass", "multilabel", "regression", "regression2")
ACTIVATIONS = ("logistic", "tanh", "relu")


def make_problem(kind, seed=0):
    """(X, y for scikit-learn, targets for the reference, output unit kind, n_out)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, K))
    if kind == "binary":
        y = np.array([-3, 5])[rng.integers(0, 2, N)]  # sorted: -3 -> code 0, 5 -> code 1
        return X, y, np.unique(y, return_inverse=True)[1], "logistic", 1
    if kind == "multiclass":
        y = np.array(["pear", "apple", "fig"])[rng.integers(0, 3, N)]
        return X, y, np.unique(y, return_inverse=True)[1], "softmax", 3
    if kind == "multilabel":
        y = rng.integers(0, 2, (N, 2))
        return X, y, y.astype(np.float64), "logistic", 2
    n_out = 1 if kind == "regression" else 2
    y = X @ rng.standard_normal((K, n_out)) + 0.1 * rng.standard_normal((N, n_out))
    y = y[:, 0] if n_out == 1 else y
    return X, y, y, "identity", n_out


def glorot(activation, layer_units, seed=SEED):
    """scikit-learn's MLP initialisation (MLP._init_coef), layer by layer from one RandomState."""
    rng = np.random.RandomState(seed)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in pairwise(layer_units):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return coefs, intercepts


def step_size(kind):
    """A rate at which 3 epochs stay well-conditioned (chaotic training would amplify rounding)."""
    return 0.005 if kind.startswith("regression") else 0.05


def fit_sklearn(kind, X, y, sample_weight, activation, settings):
    estimator = MLPRegressor if kind.startswith("regression") else MLPClassifier
    net = estimator(
        hidden_layer_sizes=(H,), activation=activation, solver="sgd", alpha=settings["alpha"],
        batch_size=settings["batch_size"], learning_rate=settings["schedule"],
        learning_rate_init=settings["eta0"], power_t=POWER_T, max_iter=EPOCHS, shuffle=False,
        random_state=SEED, tol=0.0, momentum=settings["momentum"],
        nesterovs_momentum=settings["nesterov"], early_stopping=False, n_iter_no_change=1000,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X, y, sample_weight=sample_weight)
    return net


def fit_reference(X, targets, sample_weight, output, n_out, activation, settings):
    loss = "squared_error" if output == "identity" else "log_loss"
    coefs, intercepts = glorot(activation, [K, H, n_out])
    params = [coefs[0].T.copy(), intercepts[0], coefs[1], intercepts[1]]
    params = [p.astype(X.dtype) for p in params]  # scikit-learn: drawn in float64, then cast
    velocities = [np.zeros_like(p) for p in params]
    curve = []
    for epoch in range(EPOCHS):
        eta = settings["eta0"]
        if settings["schedule"] == "invscaling" and epoch > 0:
            eta = eta / (epoch * N + 1) ** POWER_T
        curve.append(
            reference.net_sgd_epoch(
                X, targets, sample_weight, np.arange(N), *params, velocities,
                activation=activation, loss=loss, output=output, eta=eta,
                alpha=settings["alpha"], momentum=settings["momentum"],
                nesterov=settings["nesterov"], batch_size=settings["batch_size"],
            )
        )  # fmt: skip
    return params, curve


def relative_difference(ours, theirs):
    """max |ours - theirs| / max |theirs|, over the array (weights near 0 are not singled out)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    return float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-300))


def compare(kind, activation, settings, sample_weight=None, dtype=np.float64):
    """Largest relative difference, over the 4 weight arrays and the loss curve."""
    X, y, targets, output, n_out = make_problem(kind)
    X = X.astype(dtype)
    if kind.startswith("regression"):
        y = targets = y.astype(dtype)
    net = fit_sklearn(kind, X, y, sample_weight, activation, settings)
    assert net.n_iter_ == EPOCHS
    assert net.out_activation_ == output
    (W1t, b1, W2, b2), curve = fit_reference(
        X, targets, sample_weight, output, n_out, activation, settings
    )
    pairs = [
        (W1t.T, net.coefs_[0]), (b1, net.intercepts_[0]), (W2, net.coefs_[1]),
        (b2, net.intercepts_[1]), (curve, net.loss_curve_),
    ]  # fmt: skip
    rtol = 1e-10 if dtype == np.float64 else 2e-5  # float32: scikit-learn sums its loss in it
    for ours, theirs in pairs[:4]:
        assert ours.dtype == theirs.dtype == dtype
    for ours, theirs in pairs:
        assert np.all(np.isfinite(theirs))
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-2)
    return max(relative_difference(ours, theirs) for ours, theirs in pairs)


# -- the initialisation the comparison starts from ---------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_glorot_replica_is_sklearns_initialisation(kind, activation):
    _, y, _, output, n_out = make_problem(kind)
    if kind.startswith("regression"):
        net = MLPRegressor(hidden_layer_sizes=(H,), activation=activation, random_state=SEED)
    else:
        net = MLPClassifier(hidden_layer_sizes=(H,), activation=activation, random_state=SEED)
        net._label_binarizer = LabelBinarizer().fit(y)  # what _validate_input sets up
    net._random_state = check_random_state(SEED)
    net._initialize(y.reshape(N, -1), [K, H, n_out], np.float64)
    assert net.out_activation_ == output
    coefs, intercepts = glorot(activation, [K, H, n_out])
    for ours, theirs in zip(coefs + intercepts, net.coefs_ + net.intercepts_, strict=True):
        np.testing.assert_array_equal(ours, theirs)


# -- equality with scikit-learn ------------------------------------------------------------------

MOMENTA = [(0.0, False), (0.9, False), (0.9, True)]  # nesterov is a no-op without momentum
GRID = list(itertools.product(KINDS, [1, 32], MOMENTA, [0.0, 1e-3], ["constant", "invscaling"]))


@pytest.mark.parametrize(
    "kind,batch_size,momenta,alpha,schedule",
    GRID,
    ids=[f"{k}-B{b}-m{m}{'n' if n else ''}-a{a}-{s}" for k, b, (m, n), a, s in GRID],
)
def test_matches_sklearn(kind, batch_size, momenta, alpha, schedule):
    momentum, nesterov = momenta
    settings = dict(
        batch_size=batch_size, momentum=momentum, nesterov=nesterov, alpha=alpha,
        schedule=schedule, eta0=step_size(kind),
    )  # fmt: skip
    # every activation in every cell would triple the grid; each cell takes one, in turn
    activation = ACTIVATIONS[GRID.index((kind, batch_size, momenta, alpha, schedule)) % 3]
    assert compare(kind, activation, settings) < 1e-10


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("batch_size", [1, 32])
@pytest.mark.parametrize("kind", KINDS)
def test_matches_sklearn_with_sample_weights(kind, batch_size, activation):
    weights = np.random.default_rng(5).uniform(0.2, 3.0, N)
    settings = dict(
        batch_size=batch_size, momentum=0.9, nesterov=True, alpha=1e-3, schedule="invscaling",
        eta0=step_size(kind),
    )  # fmt: skip
    assert compare(kind, activation, settings, sample_weight=weights) < 1e-10


@pytest.mark.parametrize("batch_size", [1, 32])
@pytest.mark.parametrize("kind", KINDS)
def test_matches_sklearn_in_float32(kind, batch_size):
    """Arrays in float32 as scikit-learn keeps them (its loss too, ours in float64)."""
    activation = ACTIVATIONS[KINDS.index(kind) % 3]
    settings = dict(
        batch_size=batch_size, momentum=0.9, nesterov=True, alpha=1e-3, schedule="invscaling",
        eta0=step_size(kind),
    )  # fmt: skip
    assert compare(kind, activation, settings, dtype=np.float32) < 1e-5


def test_per_sample_weights_only_rescale_the_penalty():
    """scikit-learn normalises each batch by its weight sum: with batch_size=1 a sample's weight
    cancels out of its own step, leaving only the L2 term alpha W / w (and alpha/2 |W|^2 / w in
    the loss); the weights act only relative to the others in a batch."""
    X, y, targets, output, n_out = make_problem("binary")
    weights = np.random.default_rng(1).uniform(0.2, 3.0, N)
    for alpha, same in ((0.0, True), (1e-2, False)):
        settings = dict(
            batch_size=1, momentum=0.5, nesterov=False, alpha=alpha, schedule="constant",
            eta0=0.1,
        )  # fmt: skip
        plain = fit_sklearn("binary", X, y, None, "tanh", settings)
        weighted = fit_sklearn("binary", X, y, weights, "tanh", settings)
        ours, _ = fit_reference(X, targets, weights, output, n_out, "tanh", settings)
        np.testing.assert_allclose(ours[0].T, weighted.coefs_[0], rtol=1e-10, atol=1e-12)
        assert np.allclose(plain.coefs_[0], weighted.coefs_[0], rtol=1e-12, atol=0) == same
        assert np.allclose(plain.loss_curve_, weighted.loss_curve_, rtol=1e-12, atol=0) == same
    # the same weights scaled by 10 in batches of 32: only the penalty sees the scale
    settings = dict(
        batch_size=32, momentum=0.0, nesterov=False, alpha=0.0, schedule="constant", eta0=0.1
    )  # fmt: skip
    small = fit_sklearn("binary", X, y, weights, "relu", settings)
    large = fit_sklearn("binary", X, y, 10 * weights, "relu", settings)
    np.testing.assert_allclose(small.coefs_[0], large.coefs_[0], rtol=1e-12, atol=1e-15)


# -- gradients against finite differences -----------------------------------------------------

PAIRS = [
    ("logistic", "log_loss", 2), ("logistic", "squared_error", 2), ("softmax", "log_loss", 3),
    ("softmax", "squared_error", 3), ("identity", "squared_error", 1),
]  # fmt: skip


def random_batch(output, n_out, rng, n_rows=7, k=4, hidden=3):
    X = rng.standard_normal((n_rows, k))
    if output == "softmax":
        target = np.eye(n_out)[rng.integers(0, n_out, n_rows)]
    elif output == "logistic":
        target = rng.integers(0, 2, (n_rows, n_out)).astype(np.float64)
    else:
        target = rng.standard_normal((n_rows, n_out))
    params = [
        rng.standard_normal((hidden, k)), 0.3 * rng.standard_normal(hidden),
        rng.standard_normal((hidden, n_out)), 0.3 * rng.standard_normal(n_out),
    ]  # fmt: skip
    return X, target, rng.uniform(0.2, 3.0, n_rows), params


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output,loss,n_out", PAIRS)
def test_gradients_match_central_differences(output, loss, n_out, activation):
    rng = np.random.default_rng(PAIRS.index((output, loss, n_out)) * 10 + len(activation))
    X, target, sw, params = random_batch(output, n_out, rng)
    settings = dict(activation=activation, loss=loss, output=output, alpha=0.3)

    def batch_loss(p):
        return reference.net_gradients(X, target, sw, *p, **settings)[-1]

    grads = reference.net_gradients(X, target, sw, *params, **settings)[:4]
    h = 1e-6
    for index, (param, grad) in enumerate(zip(params, grads, strict=True)):
        numeric = np.empty_like(param)
        for position in np.ndindex(param.shape):
            plus, minus = [p.copy() for p in params], [p.copy() for p in params]
            plus[index][position] += h
            minus[index][position] -= h
            numeric[position] = (batch_loss(plus) - batch_loss(minus)) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-9, err_msg=str(index))


def test_multi_output_regression_gradient_is_n_out_times_the_reported_loss_gradient():
    """scikit-learn reports 0.5 (y - a2)^2 averaged over the outputs but steps along a2 - y,
    the gradient of the sum over them: the data part of the gradient is n_out times the
    reported loss's (the L2 part is not)."""
    rng = np.random.default_rng(3)
    n_out = 2
    X, target, sw, params = random_batch("identity", n_out, rng)
    settings = dict(activation="tanh", loss="squared_error", output="identity", alpha=0.3)
    penalty = 0.15 * sum(float((p**2).sum()) for p in params[0::2]) / sw.sum()

    def summed_loss(p):
        return n_out * (reference.net_gradients(X, target, sw, *p, **settings)[-1] - penalty)

    grad_b2 = reference.net_gradients(X, target, sw, *params, **settings)[3]
    h = 1e-6
    for j in range(n_out):
        plus, minus = [p.copy() for p in params], [p.copy() for p in params]
        plus[3][j] += h
        minus[3][j] -= h
        numeric = (summed_loss(plus) - summed_loss(minus)) / (2 * h)
        assert grad_b2[j] == pytest.approx(numeric, rel=1e-6)


# -- the handout's net (39.2) and the older reference --------------------------------------------


@pytest.mark.parametrize("x,label,w1,w2", [(1.5, 1, 0.3, -0.8), (-2.0, 0, 1.2, 0.7)])
def test_one_step_is_the_handout_update(x, label, w1, w2):
    """One hidden unit, sigmoid g1 and g2, Loss = 0.5 (a2 - y*)^2, no intercept, one sample:
    w_i <- w_i - eta dLoss/dw_i with the handout's chain rule (39.2 d-f)."""
    eta = 0.25

    def g(v):
        return 1 / (1 + math.exp(-v))

    z1 = x * w1
    a1 = g(z1)
    z2 = a1 * w2
    a2 = g(z2)
    dloss_dw2 = (a2 - label) * a2 * (1 - a2) * a1
    dloss_dw1 = (a2 - label) * a2 * (1 - a2) * w2 * a1 * (1 - a1) * x  # through the current w2
    params = [np.array([[w1]]), np.zeros(1), np.array([[w2]]), np.zeros(1)]
    velocities = [np.zeros_like(p) for p in params]
    loss = reference.net_sgd_epoch(
        np.array([[x]]), np.array([label]), None, np.arange(1), *params, velocities,
        activation="logistic", loss="squared_error", output="logistic", eta=eta,
        fit_intercept=False,
    )  # fmt: skip
    assert params[0][0, 0] == pytest.approx(w1 - eta * dloss_dw1, rel=1e-14)
    assert params[2][0, 0] == pytest.approx(w2 - eta * dloss_dw2, rel=1e-14)
    assert loss == pytest.approx(0.5 * (a2 - label) ** 2, rel=1e-14)
    np.testing.assert_array_equal(params[1], 0.0)
    np.testing.assert_array_equal(params[3], 0.0)
    np.testing.assert_array_equal(velocities[1], 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", [0, 1], ids=reference.LOSSES)
@pytest.mark.parametrize("n_out", [1, 3], ids=["sigmoid", "softmax"])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_plain_settings_reduce_to_net_epoch(dtype, loss, n_out, batch_size):
    """No weights, momentum or penalty: the older reference (the kernels' oracle)."""
    rng = np.random.default_rng(n_out * 10 + loss + batch_size)
    X = rng.standard_normal((13, 4)).astype(dtype)
    y = rng.integers(0, max(n_out, 2), 13)
    order = rng.permutation(13)
    params = [
        (0.5 * rng.standard_normal(s)).astype(dtype) for s in [(3, 4), (3,), (3, n_out), (n_out,)]
    ]
    old, new = [p.copy() for p in params], [p.copy() for p in params]
    for activation in range(3):
        loss_old = reference.net_epoch(X, y, order, *old, 0.3, activation, loss, True, batch_size)
        loss_new = reference.net_sgd_epoch(
            X, y, None, order, *new, None, activation=activation, loss=loss,
            output="logistic" if n_out == 1 else "softmax", eta=0.3, batch_size=batch_size,
        )  # fmt: skip
        rtol = 1e-12 if dtype == np.float64 else 2e-5
        for a, b in zip(new, old, strict=True):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
        assert loss_new == pytest.approx(loss_old, rel=1e-6 if dtype == np.float32 else 1e-12)


def test_zero_weight_batches_are_skipped():
    X, _, targets, output, n_out = make_problem("multiclass")
    weights = np.random.default_rng(2).uniform(0.5, 2.0, N)
    weights[[4, 5, 17]] = 0.0
    kept = np.flatnonzero(weights)
    runs = []
    for order in (np.arange(N), kept):
        coefs, intercepts = glorot("relu", [K, H, n_out])
        params = [coefs[0].T.copy(), intercepts[0], coefs[1], intercepts[1]]
        velocities = [np.zeros_like(p) for p in params]
        loss = reference.net_sgd_epoch(
            X, targets, weights, order, *params, velocities, activation="relu",
            loss="log_loss", output=output, eta=0.1, alpha=1e-3, momentum=0.9,
        )  # fmt: skip
        runs.append((params, velocities, loss * len(order)))
    for a, b in zip(runs[0][0] + runs[0][1], runs[1][0] + runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert runs[0][2] == pytest.approx(runs[1][2], rel=1e-14)
    with pytest.raises(ValueError, match="sum to 0"):
        reference.net_gradients(
            X[:2], np.eye(3)[:2], np.zeros(2), *params, activation="relu", loss="log_loss",
            output="softmax",
        )  # fmt: skip
