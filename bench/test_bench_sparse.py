"""Sparse epochs: LogisticRegression against SGDClassifier on CSR input (issue 6).

Two problems:
- a9a (../shared/data/a9a, LIBSVM; 32 561 rows, 123 binary features, ~14 nonzeros per row);
- generated: 100 000 rows (FASTSGD_BENCH_SPARSE_N), 50 000 features, 80 nonzeros per row at
  random columns.

Rows of a group (both estimators with SGDClassifier's defaults penalty='l2',
learning_rate='optimal', alpha=1e-4; max_iter=EPOCHS, tol=None; times are per epoch):
- fastsgd-fit / sklearn-fit: the fit, in visiting order (shuffle=False) or shuffled;
- numba-bare-loop: the same algorithm as a minimal numba loop (dot, exp, L2 scale, scatter
  update, intercept), no loss, no options: what a hand-written loop would reach;
- streaming-floor: one pass reading every row's data and indices in the visiting order.

SGDClassifier gets int32 indices (it refuses int64); fastsgd the same matrix.

The machine this runs on is shared and its speed drifts by up to 2x within a minute, so the
``*-interleaved`` test also times the two fits alternately, ROUNDS times, and reports the
median of the per-round ratios.

Run: cd bench && python -m pytest test_bench_sparse.py --benchmark-only
"""

import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit
from sklearn.datasets import load_svmlight_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier

from fastsgd import LogisticRegression

from conftest import N_SAMPLES, ROUNDS

EPOCHS = 5
ALPHA = 1e-4
A9A = Path(__file__).resolve().parents[2] / "shared" / "data" / "a9a"
_problems: dict[str, tuple] = {}


def problem(name):
    if name not in _problems:
        _problems.clear()
        if name == "a9a":
            if not A9A.exists():
                pytest.skip(f"{A9A} is not here")
            X, y = load_svmlight_file(str(A9A), n_features=123)
            X, y = X[:N_SAMPLES], y[:N_SAMPLES]  # all of it, unless FASTSGD_BENCH_N is small
        else:
            rng = np.random.default_rng(0)
            n = int(os.environ.get("FASTSGD_BENCH_SPARSE_N", min(100_000, N_SAMPLES)))
            k, nnz = 50_000, 80
            columns = rng.choice(k, size=(n, nnz))
            X = sp.csr_matrix(
                (rng.standard_normal(n * nnz), (np.repeat(np.arange(n), nnz), columns.ravel())),
                shape=(n, k),
            )
            X.sum_duplicates()
            y = (X @ rng.standard_normal(k) + 0.5 * rng.standard_normal(n) > 0).astype(int)
        X = sp.csr_matrix(X, dtype=np.float64)
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
        _problems[name] = (X, np.asarray(y))
    return _problems[name]


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def bare_loop(data, indices, indptr, y, order, w, alpha, t0):
    """SGD with L2 and the 'optimal' rate, written as tersely as numba allows."""
    wscale, bias, t = 1.0, 0.0, 1.0
    for r in order:
        acc = 0.0
        for p in range(indptr[r], indptr[r + 1]):
            acc += w[indices[p]] * data[p]
        margin = wscale * acc + bias
        eta = 1.0 / (alpha * (t0 + t - 1.0))
        tail = math.exp(-abs(margin))
        big = 1.0 / (1.0 + tail)
        gradient = eta * (y[r] - (big if margin >= 0 else tail * big))
        wscale *= max(0.0, 1.0 - alpha * eta)
        step = gradient / wscale
        for p in range(indptr[r], indptr[r + 1]):
            w[indices[p]] += step * data[p]
        bias += gradient
        t += 1.0
    return bias


@njit(cache=True, nogil=True)
def streaming_floor(data, indices, indptr, order):
    total = 0.0
    for r in order:
        for p in range(indptr[r], indptr[r + 1]):
            total += data[p] + indices[p]
    return total


def models(shuffle):
    settings = dict(
        penalty="l2", alpha=ALPHA, learning_rate="optimal", max_iter=EPOCHS, tol=None,
        shuffle=shuffle, random_state=0,
    )  # fmt: skip
    return LogisticRegression(**settings), SGDClassifier(loss="log_loss", **settings)


def fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


CASES = ["fastsgd-fit", "sklearn-fit", "numba-bare-loop", "streaming-floor", "interleaved"]


@pytest.mark.parametrize("order_kind", ["in-order", "shuffled"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["a9a", "generated-50k"])
@pytest.mark.parametrize("case", CASES)
def test_sparse_epoch(benchmark, record, note, name, dtype, order_kind, case):
    X, y = problem(name)
    X = X.astype(dtype)  # both libraries train float32 input in float32
    n = X.shape[0]
    shuffle = order_kind == "shuffled"
    group = f"sparse {name} ({n} x {X.shape[1]}, {X.nnz / n:.0f} nnz/row) {dtype} {order_kind}"
    benchmark.group = group
    ours, theirs = models(shuffle)
    orders = [np.arange(n)] * EPOCHS
    if shuffle:
        rng = np.random.default_rng(0)
        orders = [rng.permutation(n) for _ in range(EPOCHS)]

    if case == "fastsgd-fit":
        run = lambda: fit(ours, X, y)  # noqa: E731
    elif case == "sklearn-fit":
        run = lambda: fit(theirs, X, y)  # noqa: E731
    elif case == "numba-bare-loop":
        labels = (y == np.unique(y)[1]).astype(np.float64)
        X = X.astype(np.float64)  # the bare loop is float64 only
        t0 = 1.0 / (math.sqrt(1.0 / math.sqrt(ALPHA)) * ALPHA)

        def run():
            w = np.zeros(X.shape[1])
            for order in orders:
                bare_loop(X.data, X.indices, X.indptr, labels, order, w, ALPHA, t0)
    elif case == "streaming-floor":

        def run():
            for order in orders:
                streaming_floor(X.data, X.indices, X.indptr, order)
    else:  # the two fits alternately, each round's ratio kept
        fit(ours, X, y), fit(theirs, X, y)
        ratios = []

        def run():
            started = time.perf_counter()
            fit(ours, X, y)
            middle = time.perf_counter()
            fit(theirs, X, y)
            ratios.append((time.perf_counter() - middle) / (middle - started))

        benchmark.pedantic(run, rounds=max(ROUNDS, 5), warmup_rounds=0, iterations=1)
        if getattr(benchmark, "stats", None) is not None:
            note(
                group,
                f"interleaved, {len(ratios)} rounds: SGDClassifier fit / fastsgd fit = "
                f"median {np.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})",
            )
        return
    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    record(benchmark, group, case, n * EPOCHS)
