"""Fits and predictions from 4 Python threads at once equal the same calls run one after another.

The reference is sequential execution in this process: every job below is first run alone, then
all of them run again from 4 threads released together by a barrier, several rounds, with the
parallel strategy ('average' on 2 threads) among them. The kernels release the GIL (nogil), so the
threads really overlap in compiled code; any shared scratch state, a non-reentrant threading
layer or a write to shared input would show up as a different model or a crash.

Hogwild is left out on purpose: it is documented as non-deterministic (tests/test_parallel.py
checks that it runs under threads).
"""

import threading
import time

import numpy as np
import scipy.sparse as sp

from fastsgd import LogisticRegression, LogisticRegressionSweep, TwoLayerNet


def make_data(seed, n=2000, k=12, n_classes=3):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_classes, k)) * 1.5
    y = rng.integers(0, n_classes, n)
    return rng.standard_normal((n, k)) + centers[y], y


X, Y = make_data(0)
X32 = X.astype(np.float32)
X_SPARSE = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
SHARED = LogisticRegression(max_iter=3, tol=None, random_state=0).fit(X, Y)


def outputs(model, X):
    scores = model.decision_function(X) if hasattr(model, "decision_function") else None
    return [model.predict_proba(X), scores, model.predict(X)]


JOBS = {
    "logistic": lambda: outputs(
        LogisticRegression(max_iter=4, tol=None, random_state=1).fit(X, Y), X
    ),
    "logistic-float32-average": lambda: outputs(
        LogisticRegression(max_iter=4, tol=None, random_state=2, parallel="average", n_jobs=2).fit(
            X32, Y
        ),
        X32,
    ),
    "logistic-l2-averaged-sparse": lambda: outputs(
        LogisticRegression(
            penalty="l2",
            learning_rate="optimal",
            average=True,
            max_iter=4,
            tol=None,
            random_state=3,
        ).fit(X_SPARSE, Y),
        X_SPARSE,
    ),
    "logistic-partial_fit": lambda: outputs(
        LogisticRegression(random_state=4)
        .partial_fit(X[:1000], Y[:1000], classes=[0, 1, 2])
        .partial_fit(X[1000:], Y[1000:]),
        X,
    ),
    "net": lambda: outputs(
        TwoLayerNet(n_hidden=8, max_iter=3, tol=None, random_state=5).fit(X, Y), X
    ),
    "net-batched-average": lambda: outputs(
        TwoLayerNet(
            n_hidden=8,
            batch_size=16,
            max_iter=3,
            tol=None,
            random_state=6,
            parallel="average",
            n_jobs=2,
        ).fit(X, Y),
        X,
    ),
    "sweep": lambda: outputs(
        LogisticRegressionSweep(eta0s=[0.003, 0.03], max_iter=3, tol=None, random_state=7).fit(
            X, Y
        ),
        X,
    ),
    "predict-shared-model": lambda: outputs(SHARED, X),
}


def run_together(names, n_threads=4):
    """Run the jobs in n_threads threads, each waiting at a barrier before every job."""
    results, errors = {}, []
    barrier = threading.Barrier(n_threads)
    queues = [names[i::n_threads] for i in range(n_threads)]
    rounds = max(len(q) for q in queues)

    spans = []

    def worker(queue):
        for i in range(rounds):
            barrier.wait()
            if i < len(queue):
                started = time.perf_counter()
                try:
                    results[queue[i]] = JOBS[queue[i]]()
                except BaseException as error:  # reported below, with the job's name
                    errors.append((queue[i], error))
                spans.append((started, time.perf_counter()))

    threads = [threading.Thread(target=worker, args=(q,)) for q in queues]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    # the jobs did run at the same time (else this test would show nothing)
    overlapping = max(sum(a <= start < b for a, b in spans) for start, _ in spans)
    assert overlapping >= 2
    return results


def test_threads_give_the_sequential_results():
    expected = {name: job() for name, job in JOBS.items()}
    names = list(JOBS)
    for round_ in range(3):
        order = names[round_:] + names[:round_]  # other pairings of jobs each round
        got = run_together(order)
        assert got.keys() == expected.keys()
        for name in names:
            for a, b in zip(got[name], expected[name], strict=True):
                np.testing.assert_array_equal(a, b, err_msg=f"{name}, round {round_}")


def test_one_estimator_predicting_from_4_threads():
    names = ["predict-shared-model"] * 8
    results, errors = [], []

    def worker():
        try:
            results.append(outputs(SHARED, X))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    expected = outputs(SHARED, X)
    for result in results:
        for a, b in zip(result, expected, strict=True):
            np.testing.assert_array_equal(a, b)
