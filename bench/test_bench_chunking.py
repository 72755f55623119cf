"""What interruptibility costs: a fit in chunks against a fit with one kernel call per epoch.

A fit calls its kernel on chunks of about CHUNK_ELEMENTS multiply-adds (fastsgd/estimators/
_base.py), so that Ctrl-C, which Python can only raise between two calls into compiled code,
stops it within a fraction of an epoch; after each epoch but the last it also copies the weights
(what an interrupt leaves in the model). Rows of a group:
- chunked: the default;
- one-call-per-epoch: CHUNK_ELEMENTS raised so that an epoch is one call;
- no-epoch-copy: chunked, without the per-epoch copy of the weights.

The machine is noisy, so the three variants run alternately, ROUNDS times (at least 5), and the
report gives the median of the per-round ratios.

Run: cd bench && python -m pytest test_bench_chunking.py --benchmark-only
"""

import time

import numpy as np
import pytest

import fastsgd.estimators._base as base
from fastsgd import LogisticRegression, TwoLayerNet

from conftest import N_SAMPLES, ROUNDS, synthetic_logistic

EPOCHS = 3

CASES = {
    # name: (model, rows, features)
    "logistic 100 features": (
        lambda: LogisticRegression(eta0=0.01, max_iter=EPOCHS, tol=None, random_state=0),
        N_SAMPLES,
        100,
    ),
    "logistic l2 averaged 100 features": (
        lambda: LogisticRegression(
            penalty="l2",
            learning_rate="optimal",
            average=True,
            max_iter=EPOCHS,
            tol=None,
            random_state=0,
        ),
        N_SAMPLES,
        100,
    ),
    "net 100 features, 32 hidden": (
        lambda: TwoLayerNet(n_hidden=32, eta0=0.01, max_iter=EPOCHS, tol=None, random_state=0),
        max(N_SAMPLES // 5, 100),
        100,
    ),
}


def timed_fit(monkeypatch, make_model, X, y, variant):
    with monkeypatch.context() as patch:
        if variant == "one-call-per-epoch":
            patch.setattr(base, "CHUNK_ELEMENTS", 1 << 62)
        elif variant == "no-epoch-copy":
            patch.setattr(base.SGDClassifierBase, "_finished_params", lambda self, s, p: p)
            patch.setattr(LogisticRegression, "_finished_params", lambda self, s, p: p)
        model = make_model()
        started = time.perf_counter()
        model.fit(X, y)
        return time.perf_counter() - started, model


@pytest.mark.parametrize("case", list(CASES))
def test_chunking_overhead(benchmark, note, monkeypatch, case):
    make_model, n, k = CASES[case]
    X, y = synthetic_logistic(n, k, np.float64)
    group = f"chunking: {case} ({n} x {k}, {EPOCHS} epochs)"
    benchmark.group = group
    variants = ["chunked", "one-call-per-epoch", "no-epoch-copy"]
    for variant in variants:  # compile and warm up every path
        timed_fit(monkeypatch, make_model, X[:1000], y[:1000], variant)
    times = {variant: [] for variant in variants}
    chunks = {}

    def run():
        for variant in variants:
            seconds, model = timed_fit(monkeypatch, make_model, X, y, variant)
            times[variant].append(seconds)
            chunks[variant] = model

    benchmark.pedantic(run, rounds=max(ROUNDS, 5), warmup_rounds=0, iterations=1)
    if getattr(benchmark, "stats", None) is None:
        return
    chunked = np.array(times["chunked"])
    whole = np.array(times["one-call-per-epoch"])
    no_copy = np.array(times["no-epoch-copy"])
    per_chunk = max(1, base.CHUNK_ELEMENTS // int(make_model()._work_per_sample(k, 2)))
    note(group, f"chunks per epoch (default): {-(-n // per_chunk)}")
    # The cost of one more kernel call, from a small fit split into one call per sample: a
    # figure the noise of whole-fit timings (several % here) cannot hide.
    small_n = 2000
    with monkeypatch.context() as patch:
        patch.setattr(base, "CHUNK_ELEMENTS", 1)
        many = min(timed_fit(monkeypatch, make_model, X[:small_n], y[:small_n], "chunked")[0]
                   for _ in range(5))  # fmt: skip
    one = min(
        timed_fit(monkeypatch, make_model, X[:small_n], y[:small_n], "one-call-per-epoch")[0]
        for _ in range(5)
    )
    per_call = (many - one) / (EPOCHS * (small_n - 1))
    share = per_call * -(-n // per_chunk) * EPOCHS / np.median(whole)
    note(
        group,
        f"one kernel call costs {per_call * 1e6:.1f} us more: {100 * share:.3f}% of the fit "
        "at the default chunk size",
    )
    for label, other in (("one call per epoch", whole), ("no per-epoch copy", no_copy)):
        ratios = chunked / other
        note(
            group,
            f"chunked / {label}: median {np.median(ratios):.4f} (min {ratios.min():.4f}, max "
            f"{ratios.max():.4f}) over {ratios.size} alternating rounds; medians "
            f"{np.median(chunked):.3f} s vs {np.median(other):.3f} s",
        )
