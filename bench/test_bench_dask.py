"""Training across Dask workers (fastsgd.dask, issue 8): epoch time and final loss.

Data: N = FASTSGD_BENCH_DASK_N rows (default FASTSGD_BENCH_N, 1e6) x 100 float64 features
(800 MB at 1e6), binary labels from a noisy linear model, in FASTSGD_BENCH_DASK_BLOCKS row blocks
(default 4). The cluster makes each block on a worker, where it stays; this process makes the
same blocks and concatenates them for the local fits. The cluster is a LocalCluster of 2 worker
processes with one thread each, on this machine (2 cores, shared with the driver).

Rows of the group (LogisticRegression(eta0=0.01, tol=None, shuffle=True, random_state=0),
EPOCHS epochs; times per sample and epoch):
- local-sequential: ``fit`` on the concatenated data in this process;
- local-average-2-threads: the same with ``parallel='average', n_shards=2, n_jobs=2``;
- cluster-average: ``fastsgd.dask.fit(mode='average')``, parameter averaging over the blocks;
- cluster-sequential: ``fastsgd.dask.fit(mode='sequential')``, the blocks one after another;
- dask-ml-incremental: dask-ml's ``Incremental`` around ``SGDClassifier(loss='log_loss',
  penalty=None, learning_rate='constant', eta0=0.01)``, one pass of partial_fit over the blocks
  per epoch (skipped without dask-ml).

Notes: each row's training log-loss on all N rows after the fit, and its cost split into a fixed
part per fit and a part per epoch, from fits of 1 and EPOCHS epochs (median of ROUNDS each):
per epoch = (T(EPOCHS) - T(1)) / (EPOCHS - 1). The cluster's overhead per epoch is
cluster-sequential's per-epoch time minus local-sequential's (the same samples, visited one after
another, plus the round trips of the weights), taken from fits that alternate round after round
(test_dask_overhead), and, inside one cluster fit, the time between its training tasks.

With ``--benchmark-disable`` (tests/test_bench_smoke.py, tiny N) the cluster runs its workers as
threads of this process, so the smoke run does not spend its time starting processes.

Run: cd bench && python -m pytest test_bench_dask.py --benchmark-only
"""

import logging
import os
import time
import warnings

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss

from fastsgd import LogisticRegression

from conftest import N_SAMPLES, ROUNDS

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import dask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import fastsgd.dask as fdask  # noqa: E402

N = int(os.environ.get("FASTSGD_BENCH_DASK_N", N_SAMPLES))
BLOCKS = int(os.environ.get("FASTSGD_BENCH_DASK_BLOCKS", 4))
K = 100
EPOCHS = 5
ETA0 = 0.01
CASES = [
    "local-sequential",
    "local-average-2-threads",
    "cluster-average",
    "cluster-sequential",
    "dask-ml-incremental",
]
GROUP = f"dask N={N} k={K} float64, {BLOCKS} blocks, 2-worker LocalCluster, {EPOCHS} epochs"


def block_sizes():
    return [(b + 1) * N // BLOCKS - b * N // BLOCKS for b in range(BLOCKS)]


def make_block(block, n):
    """Block ``block`` of the problem: the same rows wherever it is made."""
    rng = np.random.default_rng([0, block])
    X = rng.standard_normal((n, K))
    w = np.random.default_rng(1).standard_normal(K) / np.sqrt(K)
    y = (X @ w + rng.standard_normal(n) > 0).astype(np.int64)
    return X, y


@pytest.fixture(scope="module")
def client(request):
    processes = not request.config.getoption("benchmark_disable")
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        # worker processes talk over TCP on the loopback; threads of this process, in-process
        **({"host": "127.0.0.1"} if processes else {}),
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def data(client):
    """(X, y) in this process, and (X, y) persisted on the cluster, block by block."""
    parts = [make_block(b, n) for b, n in enumerate(block_sizes())]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    del parts
    made = [dask.delayed(make_block)(b, n) for b, n in enumerate(block_sizes())]
    Xd = da.concatenate(
        [
            da.from_delayed(m[0], (n, K), np.float64)
            for m, n in zip(made, block_sizes(), strict=True)
        ]
    )
    yd = da.concatenate(
        [da.from_delayed(m[1], (n,), np.int64) for m, n in zip(made, block_sizes(), strict=True)]
    )
    Xd, yd = client.persist([Xd, yd])
    distributed.wait([Xd, yd])
    return X, y, Xd, yd


def model(epochs, **settings):
    return LogisticRegression(eta0=ETA0, max_iter=epochs, tol=None, random_state=0, **settings)


def trainer(case, client, data):
    """fit(epochs) -> a fitted model with predict_proba, for ``case``."""
    X, y, Xd, yd = data
    if case == "local-sequential":
        return lambda epochs: model(epochs).fit(X, y)
    if case == "local-average-2-threads":
        return lambda epochs: model(epochs, parallel="average", n_shards=2, n_jobs=2).fit(X, y)
    if case.startswith("cluster-"):
        mode = case.removeprefix("cluster-")
        return lambda epochs: fdask.fit(model(epochs), Xd, yd, mode=mode, client=client)
    Incremental = pytest.importorskip("dask_ml.wrappers").Incremental

    def fit(epochs):
        sgd = SGDClassifier(
            loss="log_loss", penalty=None, learning_rate="constant", eta0=ETA0, tol=None,
            random_state=0,
        )  # fmt: skip
        wrapper = Incremental(sgd, shuffle_blocks=False)
        wrapper.fit(Xd, yd, classes=[0, 1])
        for _ in range(epochs - 1):
            wrapper.partial_fit(Xd, yd, classes=[0, 1])
        return wrapper.estimator_

    return fit


def median_seconds(run, rounds):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


@pytest.mark.parametrize("case", CASES)
def test_dask_epochs(benchmark, record, note, client, data, case):
    X, y, _, _ = data
    benchmark.group = GROUP
    fit = trainer(case, client, data)
    fitted = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dask's large-graph warnings, sklearn's convergence
        benchmark.pedantic(
            lambda: fitted.append(fit(EPOCHS)), rounds=ROUNDS, warmup_rounds=1, iterations=1
        )
        record(benchmark, GROUP, case, N * EPOCHS)
        if getattr(benchmark, "stats", None) is None:
            return  # a smoke run: nothing measured
        one = median_seconds(lambda: fit(1), ROUNDS)
    total = benchmark.stats.stats.median
    per_epoch = (total - one) / (EPOCHS - 1)
    loss = log_loss(y, fitted[-1].predict_proba(X))
    note(
        GROUP,
        f"{case:24s} per epoch {per_epoch:7.3f} s, fixed per fit {one - per_epoch:6.3f} s, "
        f"training log-loss {loss:.6f}",
    )


def test_dask_overhead(benchmark, note, client, data):
    """The cluster's overhead per epoch against a local fit of the same data, measured as the
    sparse suite does on this noisy shared machine: the fits alternate, round after round, and
    the median of the per-round differences is kept."""
    benchmark.group = GROUP
    fits = {case: trainer(case, client, data) for case in CASES[:4] if case != CASES[1]}
    seconds = {case: {1: [], EPOCHS: []} for case in fits}
    spans = []

    def rounds():
        for _ in range(max(ROUNDS, 5)):
            for case, fit in fits.items():
                for epochs in (1, EPOCHS):
                    started = time.perf_counter()
                    fit(epochs)
                    seconds[case][epochs].append(time.perf_counter() - started)
        # Inside one cluster fit: the time from the first training task to the last, less the
        # time the tasks spent in the kernels, is what the cluster adds to each epoch.
        with distributed.get_task_stream(client=client) as stream:
            fits["cluster-sequential"](EPOCHS)
        train = [t for t in stream.data if str(t["key"]).startswith("fastsgd-train-")]
        computes = [s for t in train for s in t["startstops"] if s["action"] == "compute"]
        first = min(s["start"] for s in computes)
        last = max(s["stop"] for s in computes)
        busy = sum(s["stop"] - s["start"] for s in computes)
        spans.append((last - first, busy))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        benchmark.pedantic(rounds, rounds=1, iterations=1)
    if getattr(benchmark, "stats", None) is None:
        return

    def per_epoch(case):
        times = seconds[case]
        return (np.array(times[EPOCHS]) - np.array(times[1])) / (EPOCHS - 1)

    local = per_epoch("local-sequential")
    note(GROUP, f"interleaved, {local.size} rounds of 1- and {EPOCHS}-epoch fits of each:")
    note(GROUP, f"  local-sequential   per epoch {np.median(local):7.3f} s")
    for case in ("cluster-sequential", "cluster-average"):
        extra = per_epoch(case) - local
        fixed = np.array(seconds[case][1]) - np.array(seconds["local-sequential"][1]) - extra
        note(
            GROUP,
            f"  {case:18s} per epoch {np.median(per_epoch(case)):7.3f} s: "
            f"{np.median(extra) * 1e3:+7.1f} ms per epoch against the local fit "
            f"(min {extra.min() * 1e3:+.1f}, max {extra.max() * 1e3:+.1f}); "
            f"{np.median(fixed):+.3f} s per fit (persist, validate, encode)",
        )
    span, busy = spans[0]
    note(
        GROUP,
        f"  one cluster-sequential fit: {span:.3f} s from the first training task to the last, "
        f"{busy:.3f} s of it in the kernels' tasks: {(span - busy) / EPOCHS * 1e3:.1f} ms per "
        "epoch of scheduling, transfers of the weights and the driver's work",
    )
