"""The compiled two-layer-net kernel against the plain-NumPy reference and the handout (39.2).

The reference it is checked against (fastsgd.reference.net_epoch) is, per batch of visits:

    z1 = X W1t^T + b1;  a1 = g1(z1);  z2 = a1 W2 + b2;  a2 = sigmoid(z2) or softmax(z2)
    d2 = dLoss/dz2;  d1 = (d2 W2^T) * g1'(z1)                    (through the current W2)
    W2 -= eta/B a1^T d2;  W1t -= eta/B d1^T X;  b2 -= eta/B sum d2;  b1 -= eta/B sum d1
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastsgd import reference
from fastsgd.kernels import (
    ACTIVATIONS,
    LOG_LOSS,
    LOGISTIC,
    LOSSES,
    OUTPUT_IDENTITY,
    OUTPUT_LOGISTIC,
    OUTPUT_SOFTMAX,
    OUTPUTS,
    SQUARED_ERROR,
    net_epoch,
    net_settings,
    net_sgd_epoch,
    tanh,
)


def make_net(rng, k, H, n_out, dtype, scale=0.5):
    W1t = (scale * rng.standard_normal((H, k))).astype(dtype)
    b1 = (0.1 * rng.standard_normal(H)).astype(dtype)
    W2 = (scale * rng.standard_normal((H, n_out))).astype(dtype)
    b2 = (0.1 * rng.standard_normal(n_out)).astype(dtype)
    return [W1t, b1, W2, b2]


def copies(params):
    return [p.copy() for p in params]


@given(
    n=st.integers(1, 40),
    k=st.integers(1, 12),
    H=st.integers(1, 11),
    n_out=st.sampled_from([1, 3]),
    activation=st.integers(0, 2),
    loss=st.integers(0, 1),
    fit_intercept=st.booleans(),
    batch_size=st.sampled_from([1, 1, 3, 8]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernel_matches_reference(
    n, k, H, n_out, activation, loss, fit_intercept, batch_size, dtype, seed
):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)).astype(dtype)
    y = rng.integers(0, max(n_out, 2), n)
    params = make_net(rng, k, H, n_out, dtype)
    order = rng.permutation(n)
    ours, theirs = copies(params), copies(params)
    args = (0.1, activation, loss, fit_intercept, batch_size)
    loss_ours = net_epoch(X, y, order, *ours, *args)
    loss_ref = reference.net_epoch(X, y, order, *theirs, *args)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    assert loss_ours == pytest.approx(loss_ref, rel=rtol, abs=rtol)
    if not fit_intercept:
        np.testing.assert_array_equal(ours[1], params[1])
        np.testing.assert_array_equal(ours[3], params[3])


# -- gradients against finite differences ----------------------------------------------------


def reference_loss(params, X, y, activation, loss):
    """Mean loss; the biases always enter the forward pass (fit_intercept only gates updates)."""
    W1t, b1, W2, b2 = params
    _, _, z2, a2 = reference.net_forward(X, W1t, b1, W2, b2, activation)
    target = reference.net_targets(y, W2.shape[1])
    return reference.net_loss_and_delta(z2, a2, target, loss)[0].mean()


def kernel_gradient(params, X, y, activation, loss, fit_intercept, batch_size):
    """One step with eta = 1 over all rows as one batch: the step taken is minus the gradient."""
    stepped = copies(params)
    net_epoch(X, y, np.arange(len(y)), *stepped, 1.0, activation, loss, fit_intercept, batch_size)
    return [before - after for before, after in zip(params, stepped, strict=True)]


@pytest.mark.parametrize("activation", range(len(ACTIVATIONS)), ids=ACTIVATIONS)
@pytest.mark.parametrize("loss", range(len(LOSSES)), ids=LOSSES)
@pytest.mark.parametrize("n_out", [1, 3], ids=["sigmoid", "softmax"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("n_rows", [1, 5], ids=["per-sample", "batch"])
def test_every_gradient_matches_central_differences(activation, loss, n_out, fit_intercept, n_rows):
    rng = np.random.default_rng(activation * 100 + loss * 10 + n_out + fit_intercept)
    k, H = 4, 3
    X = rng.standard_normal((n_rows, k))
    y = rng.integers(0, max(n_out, 2), n_rows)
    params = make_net(rng, k, H, n_out, np.float64)
    grads = kernel_gradient(params, X, y, activation, loss, fit_intercept, n_rows)
    h = 1e-6
    names = ["W1", "b1", "W2", "b2"]
    for index, (param, grad) in enumerate(zip(params, grads, strict=True)):
        if not fit_intercept and names[index].startswith("b"):
            np.testing.assert_array_equal(grad, 0.0)
            continue
        numeric = np.empty_like(param)
        for position in np.ndindex(param.shape):
            plus, minus = copies(params), copies(params)
            plus[index][position] += h
            minus[index][position] -= h
            numeric[position] = (
                reference_loss(plus, X, y, activation, loss)
                - reference_loss(minus, X, y, activation, loss)
            ) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8, err_msg=names[index])


# -- the handout's contract (39.2 d-f) ---------------------------------------------------------


@pytest.mark.parametrize("x,label,w1,w2", [(1.5, 1, 0.3, -0.8), (-2.0, 0, 1.2, 0.7)])
def test_one_step_is_the_handout_update(x, label, w1, w2):
    """k = 1, H = 1, no biases, logistic activations, squared error, one sample."""
    alpha = 0.25

    def s(v):
        return 1 / (1 + math.exp(-v))

    z1 = x * w1
    a1 = s(z1)
    z2 = a1 * w2
    a2 = s(z2)
    dL_dw2 = (a2 - label) * a2 * (1 - a2) * a1
    dL_dw1 = (a2 - label) * a2 * (1 - a2) * w2 * a1 * (1 - a1) * x  # uses the current w2
    params = [np.array([[w1]]), np.zeros(1), np.array([[w2]]), np.zeros(1)]
    loss = net_epoch(
        np.array([[x]]), np.array([label]), np.arange(1), *params,
        alpha, LOGISTIC, SQUARED_ERROR, False, 1,
    )  # fmt: skip
    assert params[0][0, 0] == pytest.approx(w1 - alpha * dL_dw1, rel=1e-14)
    assert params[2][0, 0] == pytest.approx(w2 - alpha * dL_dw2, rel=1e-14)
    assert loss == pytest.approx(0.5 * (a2 - label) ** 2, rel=1e-14)


def test_fast_tanh_is_accurate():
    z = np.concatenate([np.linspace(-25, 25, 20001), [0.0, 1e-12, -1e-300, 400.0, -np.inf]])
    ours = np.array([tanh(v) for v in z])
    np.testing.assert_allclose(ours, np.tanh(z), rtol=0, atol=4e-16)


def test_read_only_input_and_empty_order():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3))
    X.flags.writeable = False
    y = rng.integers(0, 2, 10)
    params = make_net(rng, 3, 4, 1, np.float64)
    before = copies(params)
    assert net_epoch(X, y, np.arange(0), *params, 0.1, 0, 0, True, 1) == 0.0
    for a, b in zip(params, before, strict=True):
        np.testing.assert_array_equal(a, b)
    net_epoch(X, y, np.arange(10), *params, 0.1, 0, 0, True, 4)
    assert not np.array_equal(params[0], before[0])


# -- net_sgd_epoch: every option against fastsgd.reference.net_sgd_epoch ---------------------
#
# The reference here is scikit-learn's MLP step (see tests/test_reference_net.py, which checks
# it against MLPClassifier / MLPRegressor): per batch, gradients averaged with the sample
# weights, alpha W / sum(weights) on the weights, and v = momentum v - eta g; p += v (or
# Nesterov's momentum v - eta g) for every parameter.


def sgd_targets(rng, n, n_out, output):
    if output == OUTPUT_IDENTITY:
        return rng.standard_normal((n, n_out))
    if output == OUTPUT_LOGISTIC and n_out > 1:  # multilabel
        return (rng.random((n, n_out)) < 0.5).astype(np.float64)
    return rng.integers(0, max(n_out, 2), n).astype(np.int64)


@given(
    n=st.integers(1, 30),
    k=st.integers(1, 11),
    H=st.integers(1, 9),
    case=st.sampled_from(
        [(OUTPUT_LOGISTIC, 1), (OUTPUT_SOFTMAX, 3), (OUTPUT_LOGISTIC, 2), (OUTPUT_IDENTITY, 2)]
    ),
    activation=st.integers(0, len(ACTIVATIONS) - 1),
    squared=st.booleans(),
    alpha=st.sampled_from([0.0, 1e-2]),
    momentum=st.sampled_from([0.0, 0.9]),
    nesterov=st.booleans(),
    weighted=st.booleans(),
    fit_intercept=st.booleans(),
    batch_size=st.sampled_from([1, 4]),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**16),
)
def test_sgd_kernel_matches_reference_for_every_option(
    n, k, H, case, activation, squared, alpha, momentum, nesterov, weighted, fit_intercept,
    batch_size, dtype, seed,
):  # fmt: skip
    output, n_out = case
    loss = SQUARED_ERROR if squared or output == OUTPUT_IDENTITY else LOG_LOSS
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)).astype(dtype)
    targets = sgd_targets(rng, n, n_out, output)
    weights = rng.uniform(0.5, 2.0, n) if weighted else None
    order = rng.permutation(np.repeat(np.arange(n), 2))
    params = make_net(rng, k, H, n_out, dtype)
    velocities = [(0.1 * rng.standard_normal(p.shape)).astype(dtype) for p in params]
    ours, ours_v = copies(params), copies(velocities)
    theirs, theirs_v = copies(params), copies(velocities)
    settings = net_settings(activation, loss, output, 0.05, alpha, momentum, nesterov,
                            fit_intercept, batch_size)  # fmt: skip
    got = net_sgd_epoch(
        X, targets, np.zeros(0) if weights is None else weights, order, *ours, tuple(ours_v),
        settings,
    )  # fmt: skip
    expected = reference.net_sgd_epoch(
        X, targets, weights, order, *theirs, theirs_v, activation=activation, loss=loss,
        output=OUTPUTS[output], eta=0.05, alpha=alpha, momentum=momentum, nesterov=nesterov,
        fit_intercept=fit_intercept, batch_size=batch_size,
    )  # fmt: skip
    rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (2e-4, 2e-5)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    if momentum:
        for a, b in zip(ours_v, theirs_v, strict=True):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    else:  # without momentum the velocities are never touched
        for a, b in zip(ours_v, velocities, strict=True):
            np.testing.assert_array_equal(a, b)
    assert got == pytest.approx(expected, rel=rtol, abs=atol)


def penalized_objective(params, X, targets, weights, activation, loss, output, alpha):
    """The batch loss of the reference (the weighted mean loss plus the L2 term)."""
    grads = reference.net_gradients(
        X, reference.net_target_matrix(targets, params[2].shape[1], OUTPUTS[output]), weights,
        *params, activation=activation, loss=loss, output=OUTPUTS[output], alpha=alpha,
    )  # fmt: skip
    return grads[-1]


@pytest.mark.parametrize("momentum", [0.0, 0.9], ids=["plain", "momentum"])
@pytest.mark.parametrize("batch_size", [1, 6], ids=["per-sample", "batch"])
@pytest.mark.parametrize(
    "output,n_out", [(OUTPUT_LOGISTIC, 1), (OUTPUT_SOFTMAX, 3), (OUTPUT_LOGISTIC, 2),
                     (OUTPUT_IDENTITY, 2)],
    ids=["binary", "multiclass", "multilabel", "regression"],
)  # fmt: skip
def test_penalized_step_follows_central_differences(momentum, batch_size, output, n_out):
    """One step of the kernel from zero velocities moves every weight by -eta times the central
    difference of the penalized batch loss (alpha = 0.1, sample weights): the gradient the
    kernel applies is that of the objective it reports."""
    rng = np.random.default_rng(7)
    k, H, n, eta, alpha = 4, 3, batch_size, 1e-3, 0.1
    X = rng.standard_normal((n, k))
    targets = sgd_targets(rng, n, n_out, output)
    weights = rng.uniform(0.5, 2.0, n)
    loss = SQUARED_ERROR if output == OUTPUT_IDENTITY else LOG_LOSS
    activation = 1  # tanh: smooth
    params = make_net(rng, k, H, n_out, np.float64)
    stepped = copies(params)
    velocities = tuple(np.zeros_like(p) for p in params)
    net_sgd_epoch(
        X, targets, weights, np.arange(n), *stepped, velocities,
        net_settings(activation, loss, output, eta, alpha, momentum, False, True, batch_size),
    )  # fmt: skip
    scale = 1.0
    if output == OUTPUT_IDENTITY:  # its reported loss averages the outputs; the step sums them
        scale = n_out
    for index, param in enumerate(params):
        numeric = np.zeros_like(param)
        for position in np.ndindex(param.shape):
            for sign in (1, -1):
                moved = copies(params)
                moved[index][position] += sign * 1e-6
                value = penalized_objective(moved, X, targets, weights, activation, loss,
                                            output, alpha)  # fmt: skip
                numeric[position] += sign * value / 2e-6
        if output == OUTPUT_IDENTITY and index in (0, 2):  # alpha's share is not scaled
            penalty = alpha * params[index] / weights.sum()
            numeric = (numeric - penalty) * scale + penalty
        elif output == OUTPUT_IDENTITY:
            numeric = numeric * scale
        np.testing.assert_allclose(
            (params[index] - stepped[index]) / eta, numeric, rtol=1e-5, atol=1e-8
        )


def test_momentum_sweep_restores_the_subnormal_flags():
    """The per-sample momentum sweep flushes subnormals to 0 while it runs (x86's FTZ/DAZ
    flags) and puts the caller's flags back: subnormal arithmetic works after it, and velocities
    of dead units end at 0 rather than among the subnormals."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3000, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    params = make_net(rng, 8, 8, 1, np.float32)
    params[1][:4] = -100.0  # four dead relu units: no gradient ever reaches them
    velocities = tuple(np.full_like(p, 1e-3) for p in params)
    net_sgd_epoch(
        X, y, np.zeros(0), np.arange(3000), *params, velocities,
        net_settings(2, LOG_LOSS, OUTPUT_LOGISTIC, 0.01, 0.0, 0.9, True, True, 1),
    )  # fmt: skip
    tiny = np.finfo(np.float32).tiny
    assert np.float32(tiny / 4) * np.float32(1.0) > 0  # the caller's arithmetic keeps them
    dead = velocities[0][:4]
    assert np.all((dead == 0) | (np.abs(dead) >= tiny))
    assert np.any(dead == 0)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_average_mixes_weights_and_velocities(batch_size):
    """'average' with momentum: each shard runs the sequential step on its own copy of the
    weights and velocities (the reference, shard by shard), and all eight arrays become the
    mean of the copies."""
    from fastsgd.parallel import net_sgd_epoch_average

    rng = np.random.default_rng(5)
    n, k, H = 60, 5, 6
    X = rng.standard_normal((n, k))
    y = rng.integers(0, 3, n)
    weights = rng.uniform(0.5, 2.0, n)
    order = rng.permutation(n)
    params = make_net(rng, k, H, 3, np.float64)
    velocities = [0.01 * rng.standard_normal(p.shape) for p in params]
    settings = net_settings(1, LOG_LOSS, OUTPUT_SOFTMAX, 0.05, 1e-3, 0.9, True, True, batch_size)
    ours, ours_v = copies(params), copies(velocities)
    net_sgd_epoch_average(X, y, weights, order, *ours, tuple(ours_v), settings, 3)
    copies_of_shards = []
    for shard in range(3):
        mine, mine_v = copies(params), copies(velocities)
        reference.net_sgd_epoch(
            X, y, weights, order[shard * n // 3 : (shard + 1) * n // 3], *mine, mine_v,
            activation=1, loss=LOG_LOSS, output="softmax", eta=0.05, alpha=1e-3, momentum=0.9,
            nesterov=True, batch_size=batch_size,
        )  # fmt: skip
        copies_of_shards.append(mine + mine_v)
    expected = [np.mean(arrays, axis=0) for arrays in zip(*copies_of_shards, strict=True)]
    for got, want in zip(ours + ours_v, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
