"""Parallel training: thread scaling, convergence against sequential, and the K-setting sweep.

Groups:
- "scaling logistic ...": one epoch of the logistic kernel at k=100 float64 (N from
  FASTSGD_BENCH_N, default 1e6): sequential, then 'average' and 'hogwild' on 1..n threads (n =
  numba's thread count: the cores). Speedups are against the sequential kernel of the same run.
- "scaling LogisticRegression.fit ...": the estimator, validation included, one shuffled
  epoch per fit, same cases (``parallel=strategy, n_shards=n, n_jobs=n``).
- "average n_jobs ...": what ``n_jobs`` buys with the model fixed: one epoch of
  ``parallel='average', n_shards=2`` at n_jobs=1 and n_jobs=2 (the same model, bit for bit), for
  LogisticRegression() and SGDClassifier()'s defaults (l2, 'optimal') at N x k=100 float64, and
  for SGDClassifier() on the CSR a9a data (../shared/data; skipped when absent), next to the
  sequential fit (parallel=None).
- "scaling net ...": the same for the net's per-sample kernel, k=100, H=32, float32.
- "convergence ...": training log-loss after 5 epochs (fit, shuffle=True, random_state=0) for
  sequential, 'average' and 'hogwild' on every thread count, on a synthetic problem and on the
  higgs subset from ../shared/data (skipped when absent). Reported as notes, not times.
- "sweep ...": LogisticRegressionSweep over K=8 learning rates against 8 LogisticRegression
  fits, 3 epochs each (tol=None), shuffled and in order.

Dense data is Hogwild's worst case: every sample writes every weight, so the threads fight over
the same cache lines. Sparse input (where Hogwild pays off) is not supported yet.

Run: pytest bench/test_bench_parallel.py --benchmark-only
"""

import os
import warnings
from pathlib import Path

import numba
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from fastsgd import LogisticRegression, LogisticRegressionSweep, SGDClassifier
from fastsgd.kernels import LOG_LOSS, RELU, logistic_epoch, net_epoch
from fastsgd.parallel import (
    logistic_epoch_average,
    logistic_epoch_hogwild,
    net_epoch_average,
    net_epoch_hogwild,
    parallel_region,
)

from conftest import N_SAMPLES, ROUNDS, synthetic_logistic

N_NET = int(os.environ.get("FASTSGD_BENCH_NET_N", 100_000))
MAX_THREADS = numba.config.NUMBA_NUM_THREADS
THREADS = sorted({1, *range(2, MAX_THREADS + 1, max(1, MAX_THREADS // 8)), MAX_THREADS})
CASES = [("sequential", 1)] + [(s, t) for s in ("average", "hogwild") for t in THREADS]
CASE_IDS = [f"{s}-{t}" for s, t in CASES]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ETA0S = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)


def case_name(strategy, threads):
    return strategy if strategy == "sequential" else f"{strategy}-{threads}-threads"


@pytest.mark.parametrize("strategy,threads", CASES, ids=CASE_IDS)
def test_logistic_scaling(benchmark, record, strategy, threads):
    X, y = synthetic_logistic(N_SAMPLES, 100, np.float64)
    group = f"scaling logistic N={N_SAMPLES} k=100 float64"
    benchmark.group = group
    order = np.arange(len(y))
    kernel = {"average": logistic_epoch_average, "hogwild": logistic_epoch_hogwild}.get(strategy)
    settings = (np.array([0.01]), np.ones(1, np.int64), True)

    def run():
        coef, intercept = np.zeros((1, 100)), np.zeros(1)
        if kernel is None:
            return logistic_epoch(X, y, order, coef, intercept, *settings)
        with parallel_region(threads):
            return kernel(X, y, order, coef, intercept, *settings, threads)

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    record(benchmark, group, case_name(strategy, threads), len(y))


@pytest.mark.parametrize("strategy,threads", CASES, ids=CASE_IDS)
def test_logistic_fit_scaling(benchmark, record, strategy, threads):
    X, y = synthetic_logistic(N_SAMPLES, 100, np.float64)
    group = f"scaling LogisticRegression.fit N={N_SAMPLES} k=100 float64, 1 shuffled epoch"
    benchmark.group = group
    parallel = {}
    if strategy != "sequential":
        parallel = {"parallel": strategy, "n_shards": threads, "n_jobs": threads}
    model = LogisticRegression(max_iter=1, tol=None, random_state=0, **parallel)
    benchmark.pedantic(lambda: model.fit(X, y), rounds=ROUNDS, warmup_rounds=1, iterations=1)
    record(benchmark, group, case_name(strategy, threads), len(y))


@pytest.mark.parametrize("strategy,threads", CASES, ids=CASE_IDS)
def test_net_scaling(benchmark, record, strategy, threads):
    X, y = synthetic_logistic(N_NET, 100, np.float32)
    group = f"scaling net N={N_NET} k=100 H=32 float32 per-sample"
    benchmark.group = group
    order = np.arange(len(y))
    kernel = {"average": net_epoch_average, "hogwild": net_epoch_hogwild}.get(strategy)
    rng = np.random.default_rng(0)

    def run():
        params = [
            rng.uniform(-0.2, 0.2, (32, 100)).astype(np.float32), np.zeros(32, np.float32),
            rng.uniform(-0.4, 0.4, (32, 1)).astype(np.float32), np.zeros(1, np.float32),
        ]  # fmt: skip
        settings = (0.01, RELU, LOG_LOSS, True, 1)
        if kernel is None:
            return net_epoch(X, y, order, *params, *settings)
        with parallel_region(threads):
            return kernel(X, y, order, *params, *settings, threads)

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    record(benchmark, group, case_name(strategy, threads), len(y))


AVERAGE_CASES = [("sequential", None), ("average-2-shards", 1), ("average-2-shards", 2)]


def a9a():
    path = SHARED_DATA / "a9a"
    if not path.exists():
        pytest.skip(f"{path} not found")
    from fastsgd.io import load_data

    return load_data(str(path), n_features=123, sparse=True)


@pytest.mark.parametrize("data", ["dense", "a9a-csr"])
@pytest.mark.parametrize("model", ["LogisticRegression", "SGDClassifier"])
@pytest.mark.parametrize("strategy,n_jobs", AVERAGE_CASES, ids=["sequential", "n_jobs=1",
                                                                 "n_jobs=2"])  # fmt: skip
def test_average_n_jobs(benchmark, record, data, model, strategy, n_jobs):
    if data == "dense":
        X, y = synthetic_logistic(N_SAMPLES, 100, np.float64)
    elif model == "LogisticRegression":
        pytest.skip("the CSR row is SGDClassifier's")
    else:
        X, y = a9a()
    epochs = 1 if data == "dense" else 10  # a9a is small: 10 epochs make a measurable fit
    group = f"average n_jobs {model}() {data} N={X.shape[0]} k={X.shape[1]}, {epochs} epoch(s)"
    benchmark.group = group
    make = LogisticRegression if model == "LogisticRegression" else SGDClassifier
    parallel = {} if n_jobs is None else {"parallel": "average", "n_shards": 2, "n_jobs": n_jobs}
    estimator = make(max_iter=epochs, tol=None, random_state=0, **parallel)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    name = strategy if n_jobs is None else f"{strategy}-n_jobs={n_jobs}"
    record(benchmark, group, name, X.shape[0] * epochs)


def higgs():
    path = SHARED_DATA / "higgs_lightgbm.binary.train"
    if not path.exists():
        pytest.skip(f"{path} not found")
    data = np.loadtxt(path)  # label, then 28 features (LightGBM's example copy)
    X = data[:, 1:]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.ascontiguousarray(X), data[:, 0].astype(np.int64)


@pytest.mark.parametrize("dataset", ["synthetic", "higgs"])
def test_convergence(benchmark, note, dataset):
    if dataset == "synthetic":
        X, y = synthetic_logistic(N_SAMPLES, 100, np.float64)
    else:
        X, y = higgs()
    group = f"convergence after 5 epochs, {dataset} N={len(y)} k={X.shape[1]}"
    benchmark.group = group
    losses = {}

    def run():
        for strategy, threads in CASES:
            model = LogisticRegression(
                eta0=0.01, max_iter=5, tol=None, random_state=0, n_jobs=threads,
                parallel=None if strategy == "sequential" else strategy, n_shards=threads,
            ).fit(X, y)  # fmt: skip
            losses[case_name(strategy, threads)] = log_loss(y, model.predict_proba(X))

    benchmark.pedantic(run, rounds=1, iterations=1)
    if not losses:
        return
    base = losses["sequential"]
    for name, value in losses.items():
        note(group, f"{name:24s} training log-loss {value:.6f}  ({100 * (value / base - 1):+.2f}%)")


@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffled", "in-order"])
@pytest.mark.parametrize("how", ["sweep-one-pass", "8-separate-fits"])
def test_sweep(benchmark, record, shuffle, how):
    X, y = synthetic_logistic(N_SAMPLES, 100, np.float64)
    order = "shuffled" if shuffle else "in order"
    group = f"sweep K=8 N={N_SAMPLES} k=100 float64 3 epochs {order}"
    benchmark.group = group
    kwargs = dict(max_iter=3, tol=None, shuffle=shuffle, random_state=0)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if how == "sweep-one-pass":
                return LogisticRegressionSweep(eta0s=ETA0S, **kwargs).fit(X, y)
            return [LogisticRegression(eta0=eta, **kwargs).fit(X, y) for eta in ETA0S]

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    record(benchmark, group, how, len(y))
