"""fastsgd.parallel: parameter averaging, Hogwild, and concurrent use from Python threads.

The reference is plain NumPy (fastsgd.reference.parameter_mixing): run the sequential epoch on
each contiguous shard of the visiting order from a copy of the weights, then average the copies:

    for each shard s:  w_s = w;  for i in shard s:  w_s <- w_s + eta x_i (y_i - s(w_s . x_i))
    w <- mean_s(w_s)
"""

import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
from joblib import Parallel, delayed, parallel_backend
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV

from fastsgd import LogisticRegression, TwoLayerNet, reference
from fastsgd.kernels import LOG_LOSS, RELU, TANH, logistic_epoch, net_epoch
from fastsgd.parallel import (
    logistic_epoch_average,
    logistic_epoch_hogwild,
    net_epoch_average,
    net_epoch_hogwild,
    parallel_region,
    resolve_n_jobs,
    threading_layer,
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


# -- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", [LogisticRegression, TwoLayerNet])
def test_average_is_bit_identical_across_runs_and_thread_counts(estimator):
    X, y = make_data(n=2000, n_classes=3)
    params = dict(max_iter=4, tol=None, random_state=0, n_jobs=2, parallel="average")
    first = estimator(**params).fit(X, y)
    second = estimator(**params).fit(X, y)
    weights = lambda m: [m.coef_, m.intercept_] if hasattr(m, "coef_") else m.coefs_ + m.intercepts_  # noqa: E731
    for a, b in zip(weights(first), weights(second), strict=True):
        np.testing.assert_array_equal(a, b)
    # the shards, not the threads that happen to run them, decide the result
    X32, y32 = make_data(n=3000, dtype=np.float64, seed=5)
    results = []
    for threads in (1, 2):
        coef, intercept = logistic_params(1, X32.shape[1], np.float64)
        with parallel_region(threads):
            logistic_epoch_average(
                X32, y32, np.arange(3000), coef, intercept, np.array([0.02]),
                np.ones(1, np.int64), True, 4,
            )  # fmt: skip
        results.append(coef.copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_average_converges_like_sequential():
    # y drawn from a logistic model: the training log-loss has a floor both runs approach
    rng = np.random.default_rng(4)
    X = rng.standard_normal((20000, 10))
    y = (rng.random(20000) < 1 / (1 + np.exp(-X @ rng.standard_normal(10)))).astype(int)
    kwargs = dict(max_iter=5, tol=None, random_state=0, eta0=0.01)
    sequential = LogisticRegression(**kwargs).fit(X, y)
    averaged = LogisticRegression(**kwargs, n_jobs=2).fit(X, y)
    losses = [log_loss(y, model.predict_proba(X)) for model in (sequential, averaged)]
    assert losses[1] <= losses[0] * 1.01


def test_shard_count_not_thread_count_decides_average():
    # n_jobs=4 on a machine with fewer threads still means 4 shards: the same weights anywhere
    X, y = make_data(n=1000, seed=8)
    four = LogisticRegression(max_iter=2, tol=None, shuffle=False, n_jobs=4).fit(X, y)
    coef, intercept = np.zeros((1, X.shape[1])), np.zeros(1)
    for _ in range(2):
        order = np.arange(len(y))
        reference.parameter_mixing(reference.logistic_epoch, X, y, order, [coef, intercept], 4,
                                   np.array([0.01]), np.ones(1, np.int64), True)  # fmt: skip
    np.testing.assert_allclose(four.coef_, coef, rtol=1e-10)


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


def test_net_hogwild_kernel_runs_on_shared_weights():
    X, y = make_data(n=500, k=5)
    params = net_params(5, 8, 1, np.float64)
    before = [p.copy() for p in params]
    with parallel_region(2):
        loss = net_epoch_hogwild(X, y, np.arange(500), *params, 0.05, RELU, LOG_LOSS, True, 1, 2)
    assert np.isfinite(loss)
    assert all(not np.array_equal(a, b) for a, b in zip(params, before, strict=True))


# -- parameters --------------------------------------------------------------------------------


def test_n_jobs_resolution_and_errors():
    available = numba.config.NUMBA_NUM_THREADS
    assert resolve_n_jobs(None) == (1, 1)
    assert resolve_n_jobs(1) == (1, 1)
    assert resolve_n_jobs(-1) == (available, available)
    assert resolve_n_jobs(10**6) == (10**6, available)  # shards as asked, threads as there are
    X, y = make_data()
    with pytest.raises(ValueError, match="n_jobs == 0"):
        LogisticRegression(n_jobs=0).fit(X, y)
    with pytest.raises(ValueError, match="parallel"):
        LogisticRegression(n_jobs=2, parallel="locks").fit(X, y)


# -- concurrency from Python threads ---------------------------------------------------------


def test_threading_layer_is_thread_safe():
    X, y = make_data()
    LogisticRegression(n_jobs=2, max_iter=2, tol=None).fit(X, y)
    assert threading_layer() in ("tbb", "omp")


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
    base = LogisticRegression(max_iter=3, tol=None, random_state=0, n_jobs=2)
    serial = GridSearchCV(base, grid, cv=3).fit(X, y)
    with parallel_backend("threading", n_jobs=3):
        threaded = GridSearchCV(base, grid, cv=3, n_jobs=3).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], threaded.cv_results_["mean_test_score"]
    )


def test_fresh_process_picks_a_thread_safe_layer():
    script = textwrap.dedent(
        """
        import os
        os.environ.pop("NUMBA_THREADING_LAYER", None)
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np
        from fastsgd import LogisticRegression
        from fastsgd.parallel import threading_layer
        rng = np.random.default_rng(0)
        X = rng.standard_normal((2000, 5)); y = (X[:, 0] > 0).astype(int)
        fit = lambda s: LogisticRegression(n_jobs=2, max_iter=2, tol=None, random_state=s).fit(X, y)
        with ThreadPoolExecutor(4) as pool:
            models = list(pool.map(fit, range(8)))
        print(threading_layer(), all(m.score(X, y) > 0.9 for m in models))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, env={k: v for k, v in __import__("os").environ.items()
                                           if k != "NUMBA_THREADING_LAYER"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    layer, ok = out.stdout.split()
    assert layer in ("tbb", "omp") and ok == "True"
