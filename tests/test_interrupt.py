"""Ctrl-C during a fit: the model keeps the last finished epoch, warns, and re-raises.

The reference here is the estimator itself: a fit interrupted in epoch k + 1 must hold exactly the
model that an uninterrupted fit with ``max_iter=k`` (tol=None, same seed) ends with.

Two ways to interrupt:
- deterministic: the kernel call of a chosen chunk raises KeyboardInterrupt (what Python does
  when SIGINT arrives while compiled code runs: the exception appears when the call returns);
- real: a thread sends SIGINT to this process while a long fit runs.
"""

import os
import signal
import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import fastsgd.estimators._base as base
from fastsgd import (
    LogisticRegression,
    LogisticRegressionSweep,
    TrainingInterruptedWarning,
    TwoLayerNet,
)


def make_data(seed=0, n=400, k=5, n_classes=2):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_classes, k)) * 1.5
    y = rng.integers(0, n_classes, n)
    return rng.standard_normal((n, k)) + centers[y], y


ESTIMATORS = {
    "logistic-plain": lambda: LogisticRegression(eta0=0.05, random_state=0),
    "logistic-l2-averaged": lambda: LogisticRegression(
        penalty="l2", alpha=1e-3, learning_rate="optimal", average=10, random_state=0
    ),
    "logistic-elasticnet-ovr": lambda: LogisticRegression(
        penalty="elasticnet", alpha=1e-3, learning_rate="invscaling", random_state=0
    ),
    "net": lambda: TwoLayerNet(n_hidden=4, eta0=0.05, random_state=0),
    # 'average' on 2 threads: the interrupt is raised in a shard's thread, the other shard stops
    # at its next chunk, and the fit keeps the last finished (mixed) epoch
    "logistic-l2-averaged-average": lambda: LogisticRegression(
        penalty="l2",
        alpha=1e-3,
        learning_rate="optimal",
        average=10,
        random_state=0,
        parallel="average",
        n_shards=2,
        n_jobs=2,
    ),
    "net-momentum-average": lambda: TwoLayerNet(
        n_hidden=4,
        eta0=0.05,
        momentum=0.9,
        random_state=0,
        parallel="average",
        n_shards=3,
        n_jobs=2,
    ),
    "sweep": lambda: LogisticRegressionSweep(eta0s=[0.01, 0.1], random_state=0),
}


def fitted_arrays(model):
    names = ["coef_", "intercept_", "coefs_", "intercepts_", "coefs_path_", "intercepts_path_"]
    arrays = {}
    for name in names:
        value = getattr(model, name, None)
        if isinstance(value, list):  # the net's layers
            arrays.update({f"{name}{i}": np.array(a) for i, a in enumerate(value)})
        elif value is not None:
            arrays[name] = np.array(value)
    return arrays


def assert_same_model(a, b):
    assert a.n_iter_ == b.n_iter_ and a.t_ == b.t_
    assert a.loss_curve_ == b.loss_curve_
    arrays_a, arrays_b = fitted_arrays(a), fitted_arrays(b)
    assert arrays_a.keys() == arrays_b.keys() and arrays_a
    for name in arrays_a:
        np.testing.assert_array_equal(arrays_a[name], arrays_b[name], err_msg=name)


@pytest.fixture
def interrupt_at(monkeypatch):
    """interrupt_at(n): the n-th kernel call (from 1) raises KeyboardInterrupt on return.

    Chunks are made small, so that an epoch of make_data() is several kernel calls."""
    monkeypatch.setattr(base, "CHUNK_ELEMENTS", 400)
    calls = {"n": 0, "at": None}

    def install(cls, at):
        original = cls._run_kernel
        calls["at"] = at

        def counted(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            calls["n"] += 1
            if calls["n"] == calls["at"]:
                raise KeyboardInterrupt
            return result

        monkeypatch.setattr(cls, "_run_kernel", counted)
        return calls

    return install


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_interrupt_keeps_the_last_finished_epoch(kind, interrupt_at):
    X, y = make_data(n_classes=3 if kind == "logistic-elasticnet-ovr" else 2)
    model = ESTIMATORS[kind]().set_params(max_iter=50, tol=None)
    calls = interrupt_at(type(model), at=None)
    model.fit(X, y)  # count the kernel calls of one epoch
    per_epoch = calls["n"] // 50
    assert per_epoch >= 2, "the test needs several chunks per epoch"

    calls.update(n=0, at=2 * per_epoch + 2)  # the middle of epoch 3
    interrupted = ESTIMATORS[kind]().set_params(max_iter=50, tol=None)
    with pytest.warns(TrainingInterruptedWarning, match="interrupted in epoch 3.*after epoch 2"):
        with pytest.raises(KeyboardInterrupt):
            interrupted.fit(X, y)
    calls["at"] = None
    two_epochs = ESTIMATORS[kind]().set_params(max_iter=2, tol=None).fit(X, y)
    assert_same_model(interrupted, two_epochs)
    # and the kept model is usable
    np.testing.assert_array_equal(interrupted.predict(X), two_epochs.predict(X))


@pytest.mark.parametrize("kind", ["logistic-plain", "logistic-l2-averaged", "net"])
def test_interrupt_in_the_first_epoch_keeps_the_previous_state(kind, interrupt_at):
    X, y = make_data()
    fresh = ESTIMATORS[kind]().set_params(max_iter=5, tol=None)
    calls = interrupt_at(type(fresh), at=2)
    with pytest.warns(TrainingInterruptedWarning, match="keeps the state it had"):
        with pytest.raises(KeyboardInterrupt):
            fresh.fit(X, y)
    with pytest.raises(NotFittedError):
        fresh.predict(X)
    assert not hasattr(fresh, "n_features_in_")

    calls.update(n=0, at=None)
    model = ESTIMATORS[kind]().set_params(max_iter=3, tol=None).fit(X, y)
    before = {name: np.copy(a) for name, a in fitted_arrays(model).items()}
    t_before = model.t_
    calls.update(n=0, at=1)
    with pytest.warns(TrainingInterruptedWarning):
        with pytest.raises(KeyboardInterrupt):
            model.partial_fit(X[:, :], y)
    assert model.t_ == t_before
    for name, array in fitted_arrays(model).items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


@pytest.mark.parametrize(
    "parallel", [{}, {"parallel": "average", "n_shards": 2, "n_jobs": 2}], ids=["", "average"]
)
def test_sigint_stops_a_long_fit_within_one_kernel_call(parallel):
    """A real SIGINT, sent by another thread once the fit is under way.

    The fit asks for far more epochs than it could run before the signal arrives (a fit that
    ignored the signal would take minutes). After the signal at most the kernel call that was
    running completes (with 'average', one per shard thread): the fit stops within that chunk,
    less than one epoch.
    """
    X, y = make_data(n=20_000, k=20)
    started = threading.Event()
    calls = {"n": 0, "at_signal": None}
    original = LogisticRegression._run_kernel

    def counted(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 5:
            started.set()
        return result

    def send_sigint():
        started.wait(60)
        calls["at_signal"] = calls["n"]
        os.kill(os.getpid(), signal.SIGINT)

    LogisticRegression._run_kernel = counted
    sender = threading.Thread(target=send_sigint)
    try:
        model = LogisticRegression(
            eta0=0.01, max_iter=100_000, tol=None, random_state=0, **parallel
        )
        sender.start()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(KeyboardInterrupt):
                model.fit(X, y)
    finally:
        LogisticRegression._run_kernel = original
        sender.join()
    assert calls["n"] - calls["at_signal"] <= (2 if parallel else 1)
    assert any(issubclass(w.category, TrainingInterruptedWarning) for w in caught)
    assert model.n_iter_ >= 4 // (2 if parallel else 1)
    again = LogisticRegression(
        eta0=0.01, max_iter=model.n_iter_, tol=None, random_state=0, **parallel
    )
    assert_same_model(model, again.fit(X, y))
