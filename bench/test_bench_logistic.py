"""One epoch of logistic-regression SGD: fastsgd against its peers and the memory floor.

Rows of a group (N samples, k features, dtype):
- fastsgd-kernel: logistic_epoch over X in order;
- fastsgd-fit / sklearn-fit: LogisticRegression vs SGDClassifier(loss='log_loss', penalty=None,
  learning_rate='constant'), fit with max_iter=1, validation included, shuffle off; the
  -shuffled rows the same with shuffle on;
- numpy-reference: fastsgd.reference.logistic_epoch on a subsample (compared per sample);
- streaming-floor: one read pass over X in a numba loop.

Run: pytest bench/ --benchmark-only   (FASTSGD_BENCH_N=... to change N; default 1e6)
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier

from fastsgd import LogisticRegression, reference
from fastsgd.kernels import logistic_epoch, streaming_floor

from conftest import N_SAMPLES, ROUNDS, synthetic_logistic

SHAPES = [(100, np.float64), (100, np.float32), (10, np.float64), (10, np.float32),
          (1000, np.float32), (1000, np.float64)]  # fmt: skip
CASES = [
    "streaming-floor",
    "fastsgd-kernel",
    "fastsgd-fit",
    "sklearn-fit",
    "fastsgd-fit-shuffled",
    "sklearn-fit-shuffled",
    "numpy-reference",
]
ETA = 0.01


def reference_samples(k):
    return min(N_SAMPLES, max(200, 200_000 // k))


@pytest.mark.parametrize(
    "k,dtype,case",
    [(k, dtype, case) for k, dtype in SHAPES for case in CASES],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_logistic_epoch(benchmark, record, k, dtype, case):
    X, y = synthetic_logistic(N_SAMPLES, k, dtype)
    group = f"logistic N={N_SAMPLES} k={k} {np.dtype(dtype).name}"
    benchmark.group = group
    samples = N_SAMPLES
    kernel_args = dict(eta=np.full(1, ETA), positive_class=np.ones(1, np.int64))

    if case == "streaming-floor":
        run = lambda: streaming_floor(X)  # noqa: E731
    elif case in ("fastsgd-kernel", "numpy-reference"):
        epoch = logistic_epoch if case == "fastsgd-kernel" else reference.logistic_epoch
        if case == "numpy-reference":
            samples = reference_samples(k)
        order = np.arange(samples)

        def run():
            coef, intercept = np.zeros((1, k), dtype), np.zeros(1, dtype)
            return epoch(X, y, order, coef, intercept, fit_intercept=True, **kernel_args)
    else:
        shuffle = case.endswith("shuffled")
        settings = dict(eta0=ETA, max_iter=1, tol=None, shuffle=shuffle, random_state=0)
        if case.startswith("sklearn"):
            model = SGDClassifier(
                loss="log_loss", penalty=None, learning_rate="constant", **settings
            )
        else:
            model = LogisticRegression(**settings)

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return model.fit(X, y)

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    record(benchmark, group, case, samples)
