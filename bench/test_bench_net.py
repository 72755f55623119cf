"""One epoch of the two-layer net: fastsgd against its peers and the 1-thread GEMM roof.

Groups: k=100 features, H in {8, 32, 128}, float32 and float64, one sigmoid output (two classes),
relu hidden units, log-loss. Rows:
- fastsgd-per-sample / fastsgd-batch: net_epoch with batch_size 1 / 256 over N samples;
- numpy-reference: fastsgd.reference.net_epoch per sample, on a subsample;
- mlp-per-sample / mlp-batch: MLPClassifier(solver='sgd', momentum=0, alpha=0) with the same
  batch size, fit for one epoch (per-sample on a subsample);
- torch-per-sample / torch-batch: a plain PyTorch training loop (nn.Sequential, SGD), only if
  torch imports;
- gemm-1-thread: a 1024^3 matrix product in the group's dtype on one thread: the roof.
GFLOP/s count 4 H k flops per sample. Every library runs on one thread (threadpoolctl and
torch.set_num_threads), like fastsgd's kernels.

Momentum groups (test_net_momentum), k=100 float32, momentum 0.9 with Nesterov's step (scikit-
learn's default) everywhere, no penalty; the runners are bench/net_momentum.py's:
- per sample, H=32: fastsgd-per-sample-no-momentum and fastsgd-per-sample (net_sgd_epoch
  without and with momentum: the cost of momentum, goal <= 1.3x), mlp-per-sample
  (MLPClassifier(batch_size=1, momentum=0.9)) and torch-per-sample (torch.optim.SGD(momentum=0.9,
  nesterov=True)), these two on the subsamples below;
- batch 256, H=128: fastsgd-batch-no-momentum, fastsgd-batch, mlp-batch (goal: fastsgd >= 2x
  faster) and torch-batch (goal: fastsgd <= 1.2x torch's time, a ratio >= 0.83 below).
bench/net_momentum.py prints the same rows and ratios from one plain run.

Run: pytest bench/test_bench_net.py --benchmark-only   (FASTSGD_BENCH_NET_N=...; default 1e5)
     pytest bench/test_bench_net.py --benchmark-only -k momentum   (the momentum groups alone)
"""

import os
import warnings

import numpy as np
import pytest
from net_momentum import MOMENTUM, fastsgd_runner, glorot, mlp_runner, torch_runner
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from fastsgd import reference
from fastsgd.kernels import LOG_LOSS, RELU, net_epoch

from conftest import RATIOS, ROUNDS, synthetic_logistic

N_NET = int(os.environ.get("FASTSGD_BENCH_NET_N", 100_000))
K = 100
BATCH = 256
ETA = 0.01
SUBSAMPLE = {"numpy-reference": 2000, "mlp-per-sample": 1000, "torch-per-sample": 3000}
CASES = [
    "gemm-1-thread",
    "fastsgd-per-sample",
    "numpy-reference",
    "mlp-per-sample",
    "torch-per-sample",
    "fastsgd-batch",
    "mlp-batch",
    "torch-batch",
]
SHAPES = [(32, np.float32), (32, np.float64), (8, np.float32), (128, np.float32),
          (8, np.float64), (128, np.float64)]  # fmt: skip

try:
    import torch
except ImportError:  # an optional peer: its rows are skipped
    torch = None


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    with threadpool_limits(1):
        if torch is not None:
            torch.set_num_threads(1)
        yield


@pytest.mark.parametrize(
    "H,dtype,case",
    [(H, dtype, case) for H, dtype in SHAPES for case in CASES],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_net_epoch(benchmark, record, H, dtype, case):
    X, y = synthetic_logistic(N_NET, K, dtype)
    group = f"net N={N_NET} k={K} H={H} {np.dtype(dtype).name}"
    benchmark.group = group
    n = min(N_NET, SUBSAMPLE.get(case, N_NET))
    flops = 4 * H * K
    rng = np.random.default_rng(0)
    order = np.arange(n)
    if case == "gemm-1-thread":
        a = rng.standard_normal((1024, 1024)).astype(dtype)
        b = rng.standard_normal((1024, 1024)).astype(dtype)
        run = lambda: a @ b  # noqa: E731
        n, flops = 1, 2 * 1024**3
    elif case in ("fastsgd-per-sample", "fastsgd-batch", "numpy-reference"):
        epoch = reference.net_epoch if case == "numpy-reference" else net_epoch
        batch = BATCH if case == "fastsgd-batch" else 1

        def run():
            params = glorot(rng, H, dtype)
            return epoch(X, y, order, *params, ETA, RELU, LOG_LOSS, True, batch)
    elif case.startswith("mlp"):
        model = MLPClassifier(
            hidden_layer_sizes=(H,), solver="sgd", momentum=0.0, nesterovs_momentum=False,
            alpha=0.0, learning_rate_init=ETA, batch_size=1 if "per-sample" in case else BATCH,
            shuffle=False, max_iter=1, tol=0.0, random_state=0,
        )  # fmt: skip

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return model.fit(X[:n], y[:n])
    else:
        if torch is None:
            pytest.skip("torch is not installed")
        run = torch_runner(X[:n], y[:n], H, 1 if "per-sample" in case else BATCH)

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    record(benchmark, group, case, n, flops)


# (group's tag, H, batch size, row): the momentum groups; every row but *-no-momentum has it
MOMENTUM_CASES = [
    ("per-sample", 32, 1, "fastsgd-per-sample-no-momentum"),
    ("per-sample", 32, 1, "fastsgd-per-sample"),
    ("per-sample", 32, 1, "mlp-per-sample"),
    ("per-sample", 32, 1, "torch-per-sample"),
    ("batch=256", 128, BATCH, "fastsgd-batch-no-momentum"),
    ("batch=256", 128, BATCH, "fastsgd-batch"),
    ("batch=256", 128, BATCH, "mlp-batch"),
    ("batch=256", 128, BATCH, "torch-batch"),
]
# the cost of momentum, beside conftest's ratios (mlp / fastsgd, torch / fastsgd) in the report
for _ratio in [
    ("momentum / no momentum (x slower)", "fastsgd-per-sample", "fastsgd-per-sample-no-momentum"),
    ("momentum / no momentum (x slower)", "fastsgd-batch", "fastsgd-batch-no-momentum"),
]:
    if _ratio not in RATIOS:
        RATIOS.append(_ratio)


@pytest.mark.parametrize(
    "tag,H,batch,case", [pytest.param(*c, id=f"momentum-{c[3]}") for c in MOMENTUM_CASES]
)
def test_net_momentum(benchmark, record, tag, H, batch, case):
    X, y = synthetic_logistic(N_NET, K, np.float32)
    group = f"net momentum={MOMENTUM} nesterov {tag} N={N_NET} k={K} H={H} float32"
    benchmark.group = group
    n = min(N_NET, SUBSAMPLE.get(case, N_NET))
    momentum = 0.0 if case.endswith("no-momentum") else MOMENTUM
    if case.startswith("fastsgd"):
        run = fastsgd_runner(X, y, H, batch, momentum)
    elif case.startswith("mlp"):
        run = mlp_runner(X[:n], y[:n], H, batch, momentum)
    else:
        if torch is None:
            pytest.skip("torch is not installed")
        run = torch_runner(X[:n], y[:n], H, batch, momentum)

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    record(benchmark, group, case, n, 4 * H * K)
