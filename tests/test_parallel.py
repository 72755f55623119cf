"""fastsgd.parallel: parameter averaging, Hogwild, and concurrent use from Python threads.

The reference is plain NumPy (fastsgd.reference.parameter_mixing): run the sequential epoch on
each contiguous shard of the visiting order from a copy of the weights, then average the copies:

    for each shard s:  w_s = w;  for i in shard s:  w_s <- w_s + eta x_i (y_i - s(w_s . x_i))
    w <- mean_s(w_s)

For the estimators' ``parallel='average'`` (every setting) the reference is the same recipe
built from the sequential estimator itself: one ``partial_fit`` per shard from the same start,
then the copies mixed by their row counts. And ``n_jobs`` is threads only: every estimator x
setting, dense and CSR, sequential and 'average', gives a bit-identical model at n_jobs 1, 2, 4
and -1.
"""

import os
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from joblib import Parallel, delayed, parallel_backend
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV

from fastsgd import (
    LogisticRegression,
    LogisticRegressionSweep,
    SGDClassifier,
    SGDRegressor,
    TwoLayerNet,
    TwoLayerNetRegressor,
    reference,
)
from fastsgd.kernels import LOG_LOSS, RELU, TANH, logistic_epoch, net_epoch
from fastsgd.parallel import (
    logistic_epoch_average,
    logistic_epoch_hogwild,
    net_epoch_average,
    net_epoch_hogwild,
    parallel_region,
    resolve_n_jobs,
)


def make_data(n=400, k=7, n_classes=2, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)).astype(dtype)
    y = rng.integers(0, n_classes, n).astype(np.int64)
    X += (rng.standard_normal((n_classes, k)) * 1.5).astype(dtype)[y]
    return X, y


def logistic_params(n_models, k, dtype, seed=1):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((n_models, k)) * 0.1).astype(dtype),
        (rng.standard_normal(n_models) * 0.1).astype(dtype),
    ]


def net_params(k, H, n_out, dtype, seed=2):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((H, k)) * 0.3).astype(dtype),
        (rng.standard_normal(H) * 0.1).astype(dtype),
        (rng.standard_normal((H, n_out)) * 0.3).astype(dtype),
        (rng.standard_normal(n_out) * 0.1).astype(dtype),
    ]


# -- 'average' against the NumPy reference -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("n_shards", [1, 2, 3, 7])
def test_logistic_average_matches_reference(dtype, n_classes, n_shards):
    X, y = make_data(n_classes=n_classes, dtype=dtype)
    n_models = 1 if n_classes == 2 else n_classes
    positive = np.ones(1, np.int64) if n_models == 1 else np.arange(n_models)
    eta = np.linspace(0.01, 0.05, n_models)
    order = np.random.default_rng(3).permutation(len(y))
    ours, expected = (
        logistic_params(n_models, X.shape[1], dtype),
        logistic_params(n_models, X.shape[1], dtype),
    )
    with parallel_region(2):
        loss = logistic_epoch_average(X, y, order, *ours, eta, positive, True, n_shards)
    expected_loss = reference.parameter_mixing(
        reference.logistic_epoch, X, y, order, expected, n_shards, eta, positive, True
    )
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for got, want in zip(ours, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(loss, expected_loss, rtol=rtol)


@pytest.mark.parametrize("batch_size", [1, 16])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_net_average_matches_reference(batch_size, n_classes):
    X, y = make_data(n=300, k=5, n_classes=n_classes)
    n_out = 1 if n_classes == 2 else n_classes
    ours, expected = net_params(5, 6, n_out, np.float64), net_params(5, 6, n_out, np.float64)
    order = np.arange(len(y))
    settings = (0.05, TANH, LOG_LOSS, True, batch_size)
    with parallel_region(2):
        loss = net_epoch_average(X, y, order, *ours, *settings, 3)
    expected_loss = reference.parameter_mixing(
        reference.net_epoch, X, y, order, expected, 3, *settings
    )
    for got, want in zip(ours, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-9)


def test_one_shard_is_the_sequential_kernel():
    X, y = make_data()
    order = np.arange(len(y))
    settings = (np.array([0.03]), np.ones(1, np.int64), True)
    sequential, averaged, hogwild = (logistic_params(1, X.shape[1], np.float64) for _ in range(3))
    logistic_epoch(X, y, order, *sequential, *settings)
    logistic_epoch_average(X, y, order, *averaged, *settings, 1)
    logistic_epoch_hogwild(X, y, order, *hogwild, *settings, 1)
    for a, b, c in zip(sequential, averaged, hogwild, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    net_sequential, net_averaged = net_params(7, 4, 1, np.float64), net_params(7, 4, 1, np.float64)
    net_epoch(X, y, order, *net_sequential, 0.05, RELU, LOG_LOSS, True, 1)
    net_epoch_average(X, y, order, *net_averaged, 0.05, RELU, LOG_LOSS, True, 1, 1)
    # the same math, compiled into different callers: fastmath's reassociation may order the
    # sums differently, so equal to rounding rather than bit for bit
    for a, b in zip(net_sequential, net_averaged, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# -- n_jobs never changes a model -------------------------------------------------------------


def linear(cls, **params):
    return lambda: cls(**{"max_iter": 3, "tol": None, "random_state": 0, **params})


def net(cls, **params):
    return lambda: cls(**{"n_hidden": 5, "max_iter": 3, "tol": None, "random_state": 0, **params})


# estimator x setting; "sparse": the setting is also run on the CSR copy of X
SETTINGS = {
    "logistic": (linear(LogisticRegression), "binary", True),
    "logistic-multiclass": (linear(LogisticRegression), "multiclass", True),
    "logistic-l2-optimal": (
        linear(LogisticRegression, penalty="l2", learning_rate="optimal"), "binary", True,
    ),
    "logistic-l1-invscaling": (
        linear(LogisticRegression, penalty="l1", alpha=1e-3, learning_rate="invscaling",
               eta0=0.1),
        "multiclass", True,
    ),
    "logistic-elasticnet-averaged": (
        linear(LogisticRegression, penalty="elasticnet", average=True), "binary", True,
    ),
    "logistic-adaptive-averaged-from-50": (
        linear(LogisticRegression, learning_rate="adaptive", average=50, tol=1e-3),
        "multiclass", True,
    ),
    "logistic-averaged-from-sample-100": (  # averaging starts inside an epoch's later shards
        linear(LogisticRegression, average=100), "binary", True,
    ),
    "regressor-averaged-from-sample-300-optimal": (
        linear(SGDRegressor, average=300, learning_rate="optimal"), "regression", True,
    ),
    "logistic-class_weight-sample_weight": (
        linear(LogisticRegression, class_weight="balanced"), "weighted", True,
    ),
    "logistic-early_stopping": (
        linear(LogisticRegression, early_stopping=True, tol=1e-3, n_iter_no_change=1),
        "binary", True,
    ),
    "logistic-float32": (linear(LogisticRegression), "float32", True),
    "sgd-hinge": (linear(SGDClassifier), "binary", True),
    "sgd-modified_huber-averaged": (
        linear(SGDClassifier, loss="modified_huber", average=True), "multiclass", True,
    ),
    "sgd-squared_hinge-l1": (linear(SGDClassifier, loss="squared_hinge", penalty="l1"),
                             "binary", True),
    "sgd-perceptron": (linear(SGDClassifier, loss="perceptron", penalty=None), "multiclass",
                       True),
    "sgd-huber": (linear(SGDClassifier, loss="huber"), "binary", True),
    "sgd-log_loss-weighted": (linear(SGDClassifier, loss="log_loss"), "weighted", True),
    "regressor-squared_error": (linear(SGDRegressor), "regression", True),
    "regressor-huber-averaged": (linear(SGDRegressor, loss="huber", average=True),
                                 "regression", True),
    "regressor-epsilon_insensitive-l1": (
        linear(SGDRegressor, loss="epsilon_insensitive", penalty="l1"), "regression", True,
    ),
    "regressor-squared_epsilon_insensitive-optimal": (
        linear(SGDRegressor, loss="squared_epsilon_insensitive", learning_rate="optimal"),
        "regression", True,
    ),
    "regressor-early_stopping-weighted": (
        linear(SGDRegressor, early_stopping=True, tol=1e-3), "regression-weighted", True,
    ),
    "sweep": (
        lambda: LogisticRegressionSweep(eta0s=(0.01, 0.1), max_iter=3, tol=None, random_state=0),
        "multiclass", False,
    ),
    "net": (net(TwoLayerNet), "binary", False),
    "net-multiclass-tanh": (net(TwoLayerNet, activation="tanh"), "multiclass", False),
    "net-momentum-nesterov-alpha": (net(TwoLayerNet, momentum=0.9, alpha=1e-3), "binary", False),
    "net-momentum-classical-invscaling": (
        net(TwoLayerNet, momentum=0.5, nesterovs_momentum=False, learning_rate="invscaling"),
        "multiclass", False,
    ),
    "net-batch16-adaptive": (
        net(TwoLayerNet, batch_size=16, learning_rate="adaptive", tol=1e-3), "binary", False,
    ),
    "net-batch-auto-weighted": (net(TwoLayerNet, batch_size="auto"), "weighted", False),
    "net-early_stopping": (net(TwoLayerNet, early_stopping=True, tol=1e-3), "multiclass", False),
    "net-multilabel": (net(TwoLayerNet, momentum=0.9), "multilabel", False),
    "net-float32": (net(TwoLayerNet), "float32", False),
    "net-regressor": (net(TwoLayerNetRegressor), "regression", False),
    "net-regressor-2d-momentum": (net(TwoLayerNetRegressor, momentum=0.9), "regression-2d",
                                  False),
}  # fmt: skip


def setting_data(kind):
    """(X, y, sample_weight) of a data kind."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((240, 6))
    weights = None
    if kind.startswith("regression"):
        y = X @ rng.standard_normal(6) + 0.1 * rng.standard_normal(240)
        if kind == "regression-2d":
            y = np.column_stack([y, X[:, 0] - X[:, 1]])
        if kind == "regression-weighted":
            weights = rng.uniform(0.5, 2.0, 240)
        return X, y, weights
    n_classes = 3 if kind == "multiclass" else 2
    y = rng.integers(0, n_classes, 240)
    X += rng.standard_normal((n_classes, 6))[y]
    if kind == "multilabel":
        y = np.column_stack([y, X[:, 1] > 0, X[:, 2] > 0.5]).astype(int)
    if kind == "weighted":
        y = np.where(rng.random(240) < 0.2, 1, 0)
        X[y == 1] += 1.0
        weights = rng.uniform(0.5, 2.0, 240)
    if kind == "float32":
        X = X.astype(np.float32)
    return X, y, weights


# the training state that partial_fit goes on from: the averaging's and the net optimizer's
TRAINING_STATE = (
    "_standard_coef", "_standard_intercept", "_average_coef", "_average_intercept",
    "_expanded_class_weight", "_no_improvement_count",
)  # fmt: skip


def fitted_state(model):
    """Every fitted array and number of a model, its training state included (the averaged
    SGD's sums, the net's momentum velocities and stopping state), for a bit-for-bit
    comparison."""
    state = {}
    for name, value in vars(model).items():
        if name == "_optimizer_state" and value is not None:
            for key, item in value.items():
                if key == "velocities" and item is not None:
                    item = np.concatenate([np.ravel(v) for v in item])
                state[f"_optimizer_state[{key}]"] = item
            continue
        if name not in TRAINING_STATE and (not name.endswith("_") or name.startswith("_")):
            continue
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            value = np.concatenate([np.ravel(v) for v in value])
        state[name] = value
    return state


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for name in a:
        if isinstance(a[name], np.ndarray):
            np.testing.assert_array_equal(a[name], b[name], err_msg=name, strict=True)
        else:
            assert a[name] == b[name] or (a[name] != a[name] and b[name] != b[name]), name


INVARIANCE_CASES = [
    (name, layout)
    for name, (_, _, sparse) in SETTINGS.items()
    for layout in (("dense", "csr") if sparse else ("dense",))
]


@pytest.mark.parametrize(("name", "layout"), INVARIANCE_CASES)
@pytest.mark.parametrize("parallel", [None, "average"])
def test_n_jobs_never_changes_the_model(name, layout, parallel):
    # n_jobs 1, 2 and 4 (and -1: every CPU of this machine) give bit-identical models: the
    # shards (n_shards=3, uneven) decide an 'average' model, never the threads that run them
    make, kind, _ = SETTINGS[name]
    X, y, weights = setting_data(kind)
    if layout == "csr":
        X = sp.csr_matrix(X)
    fit_args = {} if weights is None else {"sample_weight": weights}
    states = []
    for n_jobs in (1, 2, 4, -1):
        model = make().set_params(n_jobs=n_jobs, parallel=parallel, n_shards=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y, **fit_args)
        states.append(fitted_state(model))
        assert np.isfinite(model.loss_curve_).all()
    for state in states[1:]:
        assert_same_state(states[0], state)


def test_one_shard_is_sequential():
    make, kind, _ = SETTINGS["logistic-elasticnet-averaged"]
    X, y, _ = setting_data(kind)
    sequential = make().fit(X, y)
    one = make().set_params(parallel="average", n_shards=1, n_jobs=2).fit(X, y)
    assert_same_state(fitted_state(sequential), fitted_state(one))


# -- 'average' is each shard's sequential SGD, mixed ------------------------------------------


def mixed(shares, models, names):
    return [sum(share * np.asarray(getattr(m, name), dtype=np.float64)
                for share, m in zip(shares, models, strict=True)) for name in names]  # fmt: skip


# A fresh estimator's partial_fit counts samples from 1, where 'average' gives each shard the
# sample numbers it has in the epoch: these recipes' steps do not read the count (a constant rate,
# no averaging); test_average_shards_keep_their_sample_numbers... covers those that do.
SHARD_RECIPES = {
    "sgd-elasticnet": lambda: SGDClassifier(
        penalty="elasticnet", learning_rate="constant", eta0=0.05
    ),
    "sgd-l1-class_weight": lambda: SGDClassifier(
        loss="log_loss", penalty="l1", alpha=1e-3, class_weight={1: 2.0},
        learning_rate="constant", eta0=0.05,
    ),
    "regressor-huber": lambda: SGDRegressor(loss="huber", learning_rate="constant"),
    "net-momentum-alpha": lambda: TwoLayerNet(
        n_hidden=4, momentum=0.9, alpha=1e-3, random_state=0
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "sparse"),
    [(name, sparse) for name in SHARD_RECIPES for sparse in (False, True)
     if not (name.startswith("net") and sparse)],  # the nets take dense input
)  # fmt: skip
def test_average_epoch_is_each_shards_sequential_sgd_mixed(name, sparse):
    # One epoch of parallel='average' with 3 uneven shards and shuffle=False equals 3
    # independent sequential runs, one partial_fit each on its shard's rows (a partial_fit is one
    # session of the sequential engine, from the same starting weights), mixed by row counts.
    make = SHARD_RECIPES[name]
    is_net = isinstance(make(), TwoLayerNet)
    regression = isinstance(make(), SGDRegressor)
    X, y, _ = setting_data("regression" if regression else "binary")
    X = X[:200]
    y = y[:200]
    if sparse:
        X = sp.csr_matrix(X)
    params = dict(shuffle=False, max_iter=1, tol=None, random_state=0)
    model = make().set_params(parallel="average", n_shards=3, n_jobs=2, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    bounds = [(0, 66), (66, 133), (133, 200)]
    classes = None if regression else {"classes": np.unique(y)}
    shards = []
    for start, stop in bounds:
        alone = make().set_params(shuffle=False, random_state=0)
        alone.partial_fit(X[start:stop], y[start:stop], **(classes or {}))
        shards.append(alone)
    shares = [(stop - start) / 200 for start, stop in bounds]
    if is_net:
        got = model.coefs_ + model.intercepts_
        want = [sum(share * m.coefs_[i] for share, m in zip(shares, shards, strict=True))
                for i in range(2)] + [
                sum(share * m.intercepts_[i] for share, m in zip(shares, shards, strict=True))
                for i in range(2)]  # fmt: skip
    else:
        got = [model.coef_, model.intercept_]
        want = mixed(shares, shards, ["coef_", "intercept_"])
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert model.t_ == shards[0].t_ - 66 + 200  # t_ counts every shard's samples


def sequential_iterates(X, y, order, coef, intercept, t, **settings):
    """The NumPy reference's weights after each visit of ``order``, from sample number t."""
    steps = []
    for row in order:
        step = reference.sgd_classifier_epoch(
            X, y, np.array([row]), coef, intercept, t=t, **settings
        )
        intercept, t = step["intercept"], step["t"]
        steps.append((t - 1, coef.copy(), intercept))
    return coef, intercept, t, steps


@pytest.mark.parametrize("average", [1, 60, 200])
def test_average_shards_keep_their_sample_numbers_and_average_every_step(average):
    # The reference: each shard, visit by visit, with the sample numbers it has in a sequential
    # epoch (its schedule, here 'optimal', and the averaging start read them); the weights
    # mixed by row counts; the averaged weights the mean of every step averaged so far, over
    # every shard and epoch (from sample number `average` on).
    X, y, _ = setting_data("binary")
    X, y = X[:150], y[:150]
    model = SGDClassifier(loss="log_loss", penalty=None, learning_rate="optimal", alpha=1e-2,
                          average=average, shuffle=False, max_iter=2, tol=None,
                          parallel="average", n_shards=3, n_jobs=2).fit(X, y)  # fmt: skip
    settings = dict(learning_rate="optimal", alpha=1e-2, loss="log_loss")
    coef, intercept, averaged = np.zeros(X.shape[1]), 0.0, []
    for epoch in range(2):
        copies = []
        for lo, hi in [(0, 50), (50, 100), (100, 150)]:
            t = 1 + 150 * epoch + lo
            copies.append(
                sequential_iterates(X, y, np.arange(lo, hi), coef.copy(), intercept, t, **settings)
            )
            averaged += [(w, b) for number, w, b in copies[-1][3] if number >= average]
        coef = sum(c[0] for c in copies) / 3
        intercept = sum(c[1] for c in copies) / 3
    np.testing.assert_allclose(model._standard_coef[0], coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model._standard_intercept[0], intercept, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        model.coef_[0], np.mean([w for w, _ in averaged], axis=0), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        model.intercept_[0], np.mean([b for _, b in averaged]), rtol=1e-9, atol=1e-12
    )
    assert model.t_ == 301


def test_average_converges_like_sequential():
    # y drawn from a logistic model: the training log-loss has a floor both runs approach
    rng = np.random.default_rng(4)
    X = rng.standard_normal((20000, 10))
    y = (rng.random(20000) < 1 / (1 + np.exp(-X @ rng.standard_normal(10)))).astype(int)
    kwargs = dict(max_iter=5, tol=None, random_state=0, eta0=0.01)
    sequential = LogisticRegression(**kwargs).fit(X, y)
    averaged = LogisticRegression(**kwargs, parallel="average", n_shards=2, n_jobs=2).fit(X, y)
    losses = [log_loss(y, model.predict_proba(X)) for model in (sequential, averaged)]
    assert losses[1] <= losses[0] * 1.01


def test_average_estimator_is_the_parameter_mixing_reference():
    # four equal shards: the estimator's mix (shares 1/4) is the reference's mean
    X, y = make_data(n=1000, seed=8)
    four = LogisticRegression(max_iter=2, tol=None, shuffle=False, parallel="average", n_shards=4)
    four.fit(X, y)
    coef, intercept = np.zeros((1, X.shape[1])), np.zeros(1)
    for _ in range(2):
        order = np.arange(len(y))
        reference.parameter_mixing(reference.logistic_epoch, X, y, order, [coef, intercept], 4,
                                   np.array([0.01]), np.ones(1, np.int64), True)  # fmt: skip
    np.testing.assert_allclose(four.coef_, coef, rtol=1e-10)
    # and the compiled kernel fastsgd.parallel.logistic_epoch_average
    coef, intercept = np.zeros((1, X.shape[1])), np.zeros(1)
    for _ in range(2):
        logistic_epoch_average(X, y, np.arange(len(y)), coef, intercept, np.array([0.01]),
                               np.ones(1, np.int64), True, 4)  # fmt: skip
    np.testing.assert_allclose(four.coef_, coef, rtol=1e-12)


def test_net_kernels_take_at_least_one_shard():
    X, y = make_data(n=50, k=5)
    for kernel in (net_epoch_average, net_epoch_hogwild):
        params = net_params(5, 4, 1, np.float64)
        before = [p.copy() for p in params]
        loss = kernel(X, y, np.arange(50), *params, 0.05, RELU, LOG_LOSS, True, 1, 0)
        assert np.isfinite(loss) and not np.array_equal(params[0], before[0])


# -- Hogwild ---------------------------------------------------------------------------------


def test_hogwild_sums_every_shards_intercept_change():
    # With X = 0 the weights never move, so there is no race: each shard's intercept follows its
    # own sequential run, and the result must keep every shard's change.
    X = np.zeros((90, 3))
    y = np.random.default_rng(0).integers(0, 2, 90).astype(np.int64)
    coef, intercept = np.zeros((1, 3)), np.array([0.2])
    settings = (np.array([0.1]), np.ones(1, np.int64), True)
    with parallel_region(2):
        logistic_epoch_hogwild(X, y, np.arange(90), coef, intercept, *settings, 3)
    expected = 0.2
    for shard in range(3):
        alone = np.array([0.2])
        reference.logistic_epoch(X, y, np.arange(30 * shard, 30 * shard + 30), np.zeros((1, 3)),
                                 alone, *settings)  # fmt: skip
        expected += alone[0] - 0.2
    np.testing.assert_allclose(intercept, [expected], rtol=1e-12)
    np.testing.assert_array_equal(coef, 0.0)


@pytest.mark.parametrize("estimator", [LogisticRegression, TwoLayerNet])
def test_hogwild_learns(estimator):
    X, y = make_data(n=4000, k=8, seed=6)
    model = estimator(max_iter=5, tol=None, random_state=0, n_jobs=2, parallel="hogwild")
    model.fit(X, y)
    assert model.score(X, y) > 0.9
    assert np.isfinite(model.loss_curve_).all()
    # documented as non-deterministic, and tagged so for scikit-learn's checks
    assert model.__sklearn_tags__().non_deterministic
    assert not estimator(parallel="average").__sklearn_tags__().non_deterministic


def test_net_hogwild_kernel_runs_on_shared_weights():
    X, y = make_data(n=500, k=5)
    params = net_params(5, 8, 1, np.float64)
    before = [p.copy() for p in params]
    with parallel_region(2):
        loss = net_epoch_hogwild(X, y, np.arange(500), *params, 0.05, RELU, LOG_LOSS, True, 1, 2)
    assert np.isfinite(loss)
    assert all(not np.array_equal(a, b) for a, b in zip(params, before, strict=True))


# -- parameters ---------------------------------------------------------------------------------


def test_n_jobs_resolution_and_errors():
    assert resolve_n_jobs(None) == 1
    assert resolve_n_jobs(1) == 1
    assert resolve_n_jobs(3) == 3
    assert resolve_n_jobs(-1) == joblib.cpu_count()
    X, y = make_data()
    with pytest.raises(ValueError, match="n_jobs == 0"):
        LogisticRegression(n_jobs=0, parallel="average").fit(X, y)
    with pytest.raises(ValueError, match="parallel"):
        LogisticRegression(n_jobs=2, parallel="locks").fit(X, y)
    with pytest.raises(ValueError, match="n_shards"):
        LogisticRegression(parallel="average", n_shards=0).fit(X, y)


# -- no global side effects at import; a thread-safe layer on the first parallel call ------------


def run_script(script, **env):
    environment = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    environment.update(env)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                         text=True, timeout=300, env=environment)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_import_changes_nothing_global():
    # import, sequential and 'average' fits: numba's configuration untouched, no TBB loaded
    # (libtbb is loaded by the first Hogwild fit, below)
    layer, tbb_loaded, threads_started = run_script(
        """
        import numba, numpy as np
        import fastsgd, fastsgd.parallel
        from fastsgd import LogisticRegression, TwoLayerNet
        from fastsgd.parallel import threading_layer
        rng = np.random.default_rng(0)
        X = rng.standard_normal((500, 5)); y = (X[:, 0] > 0).astype(int)
        LogisticRegression(max_iter=2, tol=None).fit(X, y)
        LogisticRegression(max_iter=2, tol=None, parallel="average", n_jobs=2).fit(X, y)
        TwoLayerNet(max_iter=2, tol=None, parallel="average", n_jobs=2).fit(X, y)
        maps = open("/proc/self/maps").read()
        print(numba.config.THREADING_LAYER, "libtbb" in maps, threading_layer() is not None)
        """
    )
    assert (layer, tbb_loaded, threads_started) == ("default", "False", "False")


def test_first_hogwild_fit_picks_a_thread_safe_layer():
    layer, ok = run_script(
        """
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np
        from fastsgd import LogisticRegression
        from fastsgd.parallel import threading_layer
        rng = np.random.default_rng(0)
        X = rng.standard_normal((2000, 5)); y = (X[:, 0] > 0).astype(int)
        fit = lambda s: LogisticRegression(n_jobs=2, parallel="hogwild", max_iter=2, tol=None,
                                           random_state=s).fit(X, y)
        with ThreadPoolExecutor(4) as pool:
            models = list(pool.map(fit, range(8)))
        print(threading_layer(), all(m.score(X, y) > 0.9 for m in models))
        """
    )
    assert layer in ("tbb", "omp") and ok == "True"


@pytest.mark.parametrize("chosen", ["workqueue", "tbb"])
def test_the_users_threading_layer_wins(chosen):
    (layer,) = run_script(
        """
        import numpy as np
        from fastsgd import LogisticRegression
        from fastsgd.parallel import threading_layer
        rng = np.random.default_rng(0)
        X = rng.standard_normal((500, 5)); y = (X[:, 0] > 0).astype(int)
        LogisticRegression(n_jobs=2, parallel="hogwild", max_iter=2, tol=None).fit(X, y)
        print(threading_layer())
        """,
        NUMBA_THREADING_LAYER=chosen,
    )
    assert layer == chosen


# -- concurrency from Python threads ---------------------------------------------------------


def fit_weights(seed, strategy):
    X, y = make_data(n=3000, n_classes=3, seed=seed)
    model = LogisticRegression(max_iter=3, tol=None, random_state=seed, n_jobs=2,
                               parallel=strategy).fit(X, y)  # fmt: skip
    return model.coef_


def test_concurrent_parallel_fits_from_python_threads():
    expected = [fit_weights(seed, "average") for seed in range(8)]
    got = Parallel(n_jobs=4, backend="threading")(
        delayed(fit_weights)(seed, strategy)
        for seed in range(8)
        for strategy in ("average", "hogwild")
    )
    for seed in range(8):
        np.testing.assert_array_equal(got[2 * seed], expected[seed])  # deterministic
        assert np.isfinite(got[2 * seed + 1]).all()


def test_grid_search_with_threads_over_parallel_estimators():
    X, y = make_data(n=1500, seed=7)
    grid = {"eta0": [0.001, 0.01, 0.1]}
    base = LogisticRegression(max_iter=3, tol=None, random_state=0, n_jobs=2, parallel="average")
    serial = GridSearchCV(base, grid, cv=3).fit(X, y)
    with parallel_backend("threading", n_jobs=3):
        threaded = GridSearchCV(base, grid, cv=3, n_jobs=3).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], threaded.cv_results_["mean_test_score"]
    )
