"""Every loss: fastsgd.SGDClassifier / SGDRegressor against scikit-learn's, estimator for estimator.

Each case is one epoch of ``fit`` (max_iter=1, tol=None, shuffle=False, random_state=0, input
validation included) with identical parameters on both sides, float64, in visiting order:
- dense N x 100 (N = FASTSGD_BENCH_N, default 1e6), every classifier loss on
  synthetic_logistic's binary problem and every regressor loss on y = X @ w + noise (w of norm
  ~1, noise 0.1: a target of standard deviation ~1, on which the regressor's default
  learning_rate='invscaling', eta0=0.01 does not diverge), each in two settings groups:
  ``defaults`` (scikit-learn's: penalty='l2', alpha=1e-4; learning_rate='optimal' for the
  classifier, 'invscaling' for the regressor), ``no-penalty`` (penalty=None, rest default) and
  ``defaults-tol`` (the defaults with scikit-learn's tol=1e-3 instead of None);
- CSR a9a (test_bench_sparse's loader: int32 indices, the first N rows), every classifier loss
  with scikit-learn's defaults.

The machine this runs on is shared and its speed drifts, so (as in test_bench_sparse's
``interleaved`` case) every case times the two fits alternately, in max(ROUNDS, 5) rounds
after two untimed pairs (more rounds, up to 25, when a pair takes under 0.2 s, as on a9a, so
that a case's rounds last about a second). The closing report gives, per case, the median
seconds per sample of each (rows fastsgd-fit and sklearn-fit, in ns/sample), their ratio
(sklearn / fastsgd; conftest labels it "fit vs SGDClassifier fit (x faster)", for the
regressor too), and a note with the median (min, max) of the per-round ratios and how far apart
the two fitted coefficient vectors are (informative, not a parity test: with the 'optimal'
rate on unscaled data the first steps are large and rounding differences between the two can
grow to O(1) within one epoch; with squared_hinge, squared_error and
squared_epsilon_insensitive the classifier's coefficients reach ~1e12, where scikit-learn
clips the loss gradient).

Run: cd bench && python -m pytest test_bench_losses.py --benchmark-only
     (FASTSGD_BENCH_N=2000 for a quick smoke run; -k regressor, -k a9a, -k hinge to select)
"""

import time
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn import linear_model
from sklearn.exceptions import ConvergenceWarning
from test_bench_sparse import problem  # bench/test_bench_sparse.py: its a9a loader

from fastsgd import SGDClassifier, SGDRegressor

from conftest import N_SAMPLES, ROUNDS, synthetic_logistic

K = 100
CLASSIFIER_LOSSES = [
    "hinge",
    "log_loss",
    "modified_huber",
    "squared_hinge",
    "perceptron",
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
]
REGRESSOR_LOSSES = ["squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
# tol=None everywhere but in "defaults-tol" (scikit-learn's own tol=1e-3: with a penalty,
# fastsgd then keeps scikit-learn's running norms of the weights for the stopping rule, a
# per-weight pass)
SETTINGS = {"defaults": {}, "no-penalty": {"penalty": None}, "defaults-tol": {"tol": 1e-3}}
FIT = {"max_iter": 1, "tol": None, "shuffle": False, "random_state": 0}
ESTIMATORS = {
    "classifier": (SGDClassifier, linear_model.SGDClassifier),
    "regressor": (SGDRegressor, linear_model.SGDRegressor),
}
CASES = (
    [("classifier", loss, setting, "dense") for loss in CLASSIFIER_LOSSES for setting in SETTINGS]
    + [("regressor", loss, setting, "dense") for loss in REGRESSOR_LOSSES for setting in SETTINGS]
    + [("classifier", loss, "defaults", "a9a") for loss in CLASSIFIER_LOSSES]
)
ROUND_BUDGET, MAX_ROUNDS = 1.0, 25  # rounds beyond max(ROUNDS, 5) while a pair takes < 1/5 s
_targets: dict[tuple, np.ndarray] = {}


def regression_target(X, seed=1):
    """y = X @ w + 0.1 noise with w ~ N(0, 1/k): standard deviation ~1. One target is kept."""
    key = (id(X), X.shape, seed)
    if key not in _targets:
        _targets.clear()
        rng = np.random.default_rng(seed)
        w = rng.standard_normal(X.shape[1]) / np.sqrt(X.shape[1])
        _targets[key] = X @ w + 0.1 * rng.standard_normal(X.shape[0])
    return _targets[key]


def data(kind, data_name):
    if data_name == "a9a":
        X, y = problem("a9a")
        n = X.shape[0]
        return X, y, f"a9a ({n} x {X.shape[1]}, {X.nnz / n:.0f} nnz/row) float64 in-order"
    X, y = synthetic_logistic(N_SAMPLES, K, np.float64)
    if kind == "regressor":
        y = regression_target(X)
    return X, y, f"dense N={X.shape[0]} k={K} float64 in-order"


def fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def as_benchmark(median_seconds):
    """What conftest's record() reads from a pytest-benchmark fixture: stats.stats.median."""
    return SimpleNamespace(stats=SimpleNamespace(stats=SimpleNamespace(median=median_seconds)))


@pytest.mark.parametrize(
    "kind,loss,setting,data_name",
    CASES,
    ids=[f"{kind}-{loss}-{setting}-{name}" for kind, loss, setting, name in CASES],
)
def test_loss_epoch(benchmark, record, note, kind, loss, setting, data_name):
    X, y, description = data(kind, data_name)
    n = X.shape[0]
    ours_cls, theirs_cls = ESTIMATORS[kind]
    params = {"loss": loss, **FIT, **SETTINGS[setting]}
    ours, theirs = ours_cls(**params), theirs_cls(**params)
    group = f"{theirs_cls.__name__} loss={loss} {setting}: {description}"
    benchmark.group = group

    fit(ours, X, y), fit(theirs, X, y)  # compiles fastsgd's kernels; warms both
    started = time.perf_counter()
    fit(ours, X, y), fit(theirs, X, y)  # sizes the rounds: short fits (a9a) get more of them
    rounds = max(ROUNDS, 5, min(MAX_ROUNDS, int(ROUND_BUDGET / (time.perf_counter() - started))))
    times = {"fastsgd": [], "sklearn": []}

    def run():
        started = time.perf_counter()
        fit(ours, X, y)
        middle = time.perf_counter()
        fit(theirs, X, y)
        times["fastsgd"].append(middle - started)
        times["sklearn"].append(time.perf_counter() - middle)

    benchmark.pedantic(run, rounds=rounds, warmup_rounds=0, iterations=1)
    if getattr(benchmark, "stats", None) is None:  # --benchmark-disable: nothing measured
        return
    for library, seconds in times.items():
        record(as_benchmark(float(np.median(seconds))), group, f"{library}-fit", n)
    ratios = np.array(times["sklearn"]) / np.array(times["fastsgd"])
    scale = max(np.abs(theirs.coef_).max(), 1e-300)
    gap = np.abs(np.asarray(ours.coef_) - theirs.coef_).max() / scale
    note(
        group,
        f"interleaved, {len(ratios)} rounds: sklearn fit / fastsgd fit = median "
        f"{np.median(ratios):.2f} (min {ratios.min():.2f}, max {ratios.max():.2f}); "
        f"max |coef difference| / max |sklearn coef| = {gap:.1e}",
    )
