"""One epoch of the two-layer net with momentum: fastsgd against itself without momentum,
MLPClassifier(solver='sgd') and a PyTorch loop, all on one thread, in ns per sample.

k=100 features, float32, one sigmoid output (two classes), relu hidden units, log-loss, eta 0.01,
no penalty, momentum 0.9 with Nesterov's step (MLPClassifier's default), one epoch, no shuffling.
Two groups:
- per sample (batch_size 1), H=32: fastsgd without momentum, fastsgd with it, MLPClassifier and
  PyTorch (these two on a subsample, reported per sample);
- batch_size 256, H=128: fastsgd with and without momentum, MLPClassifier and PyTorch.
Each fastsgd row is one net_sgd_epoch call from freshly initialised weights (and zero
velocities); each MLPClassifier row one fit(max_iter=1); each PyTorch row one pass of an
nn.Sequential / torch.optim.SGD(momentum=0.9, nesterov=True) loop. Every row is run once to warm
up (numba's compilation), then timed --repeats times, the rows interleaved within each repeat so
that a noisy neighbour slows all of them alike; the table shows the minimum.

    python bench/net_momentum.py [--n 100000] [--subsample 3000] [--repeats 5]

--ftz sets the x86 FTZ and DAZ bits (flush subnormal floats to zero) for the whole run, every
library included; each fastsgd momentum row also reports how many of its velocities end the epoch
subnormal (a velocity that stops getting gradient, a dead relu unit's, decays by 0.9 per step to
the smallest subnormals and stays there, since 0.9 times them rounds back to them).

bench/test_bench_net.py imports the runners below for its pytest-benchmark rows.
"""

import argparse
import platform
import time
import warnings

import numpy as np
import sklearn
from llvmlite import ir
from numba import njit, types
from numba.core.extending import intrinsic
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from fastsgd.kernels import LOG_LOSS, OUTPUT_LOGISTIC, RELU, net_settings, net_sgd_epoch

try:
    import torch
except ImportError:  # an optional peer: its rows are skipped
    torch = None

K = 100
ETA = 0.01
MOMENTUM = 0.9
BATCH = 256
PER_SAMPLE_H = 32
BATCH_H = 128

# (group, row, library, H, batch_size, momentum, on a subsample)
ROWS = [
    ("per sample, H=32", "fastsgd-no-momentum", "fastsgd", PER_SAMPLE_H, 1, 0.0, False),
    ("per sample, H=32", "fastsgd-momentum", "fastsgd", PER_SAMPLE_H, 1, MOMENTUM, False),
    ("per sample, H=32", "mlp-momentum", "mlp", PER_SAMPLE_H, 1, MOMENTUM, True),
    ("per sample, H=32", "torch-momentum", "torch", PER_SAMPLE_H, 1, MOMENTUM, True),
    ("batch 256, H=128", "fastsgd-no-momentum", "fastsgd", BATCH_H, BATCH, 0.0, False),
    ("batch 256, H=128", "fastsgd-momentum", "fastsgd", BATCH_H, BATCH, MOMENTUM, False),
    ("batch 256, H=128", "mlp-momentum", "mlp", BATCH_H, BATCH, MOMENTUM, False),
    ("batch 256, H=128", "torch-momentum", "torch", BATCH_H, BATCH, MOMENTUM, False),
]

# (label, numerator row, denominator row), per group
RATIOS = [
    ("momentum / no momentum (x slower)", "fastsgd-momentum", "fastsgd-no-momentum"),
    ("MLPClassifier / fastsgd (x faster)", "mlp-momentum", "fastsgd-momentum"),
    ("fastsgd / PyTorch (x torch's time)", "fastsgd-momentum", "torch-momentum"),
]
GOALS = {
    ("per sample, H=32", "momentum / no momentum (x slower)"): "<= 1.3",
    ("batch 256, H=128", "MLPClassifier / fastsgd (x faster)"): ">= 2",
    ("batch 256, H=128", "fastsgd / PyTorch (x torch's time)"): "<= 1.2",
}


def synthetic_logistic(n, k, dtype, seed=0):
    """bench/conftest.py's dataset: labels from a noisy linear model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k), dtype=dtype)
    w = rng.standard_normal(k).astype(dtype) / np.sqrt(k)
    y = ((X @ w) + rng.standard_normal(n, dtype=dtype) > 0).astype(np.int64)
    return X, y


def glorot(rng, H, dtype, k=K):
    """(W1t (H, k), b1, W2 (H, 1), b2): MLPClassifier's uniform Glorot draw for relu."""
    bound1, bound2 = np.sqrt(6 / (k + H)), np.sqrt(6 / (H + 1))
    return [
        rng.uniform(-bound1, bound1, (H, k)).astype(dtype),
        np.zeros(H, dtype),
        rng.uniform(-bound2, bound2, (H, 1)).astype(dtype),
        np.zeros(1, dtype),
    ]


def fastsgd_runner(X, y, H, batch, momentum):
    """One net_sgd_epoch over X (Nesterov with momentum); every call starts from the same Glorot
    weights and zero velocities, so that repeats time the same work. run() returns (the epoch's
    loss, the trained weights, the velocities)."""
    settings = net_settings(
        RELU, LOG_LOSS, OUTPUT_LOGISTIC, ETA, alpha=0.0, momentum=momentum,
        nesterov=momentum != 0.0, fit_intercept=True, batch_size=batch,
    )  # fmt: skip
    order = np.arange(len(X))
    no_weights = np.zeros(0)
    initial = glorot(np.random.default_rng(0), H, X.dtype, X.shape[1])

    def run():
        params = [p.copy() for p in initial]
        velocities = tuple(np.zeros_like(p) for p in params)
        loss = net_sgd_epoch(X, y, no_weights, order, *params, velocities, settings)
        return loss, params, velocities

    return run


def mlp_runner(X, y, H, batch, momentum):
    """MLPClassifier(solver='sgd').fit for one epoch: same rate, batches, momentum, no penalty."""
    model = MLPClassifier(
        hidden_layer_sizes=(H,), solver="sgd", momentum=momentum,
        nesterovs_momentum=momentum != 0.0, alpha=0.0, learning_rate_init=ETA,
        batch_size=batch, shuffle=False, max_iter=1, tol=0.0, random_state=0,
    )  # fmt: skip

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(X, y)

    return run


def torch_runner(X, y, H, batch, momentum=0.0):
    """A plain PyTorch loop: nn.Sequential, BCEWithLogitsLoss, torch.optim.SGD (Nesterov's step
    with momentum). The model is built once, like the other peers' compiled code; every call
    starts from the same Glorot weights as fastsgd_runner, with a fresh optimizer (zero
    momentum buffers)."""
    torch_dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    model = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], H), torch.nn.ReLU(), torch.nn.Linear(H, 1)
    ).to(torch_dtype)
    W1t, b1, W2, b2 = glorot(np.random.default_rng(0), H, X.dtype, X.shape[1])
    initial = [torch.from_numpy(a) for a in (W1t, b1, np.ascontiguousarray(W2.T), b2)]
    loss_fn = torch.nn.BCEWithLogitsLoss()
    features = torch.from_numpy(X)
    targets = torch.from_numpy(y.astype(X.dtype)).reshape(-1, 1)

    def run():
        with torch.no_grad():
            for parameter, value in zip(model.parameters(), initial, strict=True):
                parameter.copy_(value)
        optimizer = torch.optim.SGD(
            model.parameters(), lr=ETA, momentum=momentum, nesterov=momentum != 0.0
        )
        for start in range(0, len(features), batch):
            optimizer.zero_grad()
            loss = loss_fn(model(features[start : start + batch]), targets[start : start + batch])
            loss.backward()
            optimizer.step()

    return run


RUNNERS = {"fastsgd": fastsgd_runner, "mlp": mlp_runner, "torch": torch_runner}


def subnormals(arrays):
    """How many entries of the float32/float64 arrays are subnormal, read from their bits (DAZ
    would make numpy's comparisons read them as 0)."""
    count = 0
    for a in arrays:
        if a.dtype == np.float32:
            bits, exponent, mantissa = a.view(np.uint32), 0x7F800000, 0x007FFFFF
        else:
            bits, exponent, mantissa = a.view(np.uint64), 0x7FF << 52, (1 << 52) - 1
        count += int(np.count_nonzero(((bits & exponent) == 0) & ((bits & mantissa) != 0)))
    return count


@intrinsic
def _or_mxcsr(typingctx, bits):
    """MXCSR |= bits on this thread (x86 SSE); returns the old MXCSR."""

    def codegen(context, builder, signature, args):
        pointer = ir.IntType(8).as_pointer()
        function = ir.FunctionType(ir.VoidType(), [pointer])
        module = builder.module
        store, load = (
            module.globals.get(name) or ir.Function(module, function, name=name)
            for name in ("llvm.x86.sse.stmxcsr", "llvm.x86.sse.ldmxcsr")
        )
        slot = builder.alloca(ir.IntType(32))
        builder.call(store, [builder.bitcast(slot, pointer)])
        old = builder.load(slot)
        builder.store(builder.or_(old, args[0]), slot)
        builder.call(load, [builder.bitcast(slot, pointer)])
        return old

    return types.uint32(types.uint32), codegen


@njit
def or_mxcsr(bits):
    return _or_mxcsr(bits)


# MXCSR bit 15 flushes subnormal results to zero, bit 6 reads subnormal inputs as 0
FTZ_DAZ = 0x8040


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or platform.machine()
    name = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line),
        platform.processor() or platform.machine(),
    )
    flags = next(line.split(":", 1)[1].split() for line in info.splitlines() if "flags" in line)
    vector = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    return f"{name} ({', '.join(vector) or 'no avx2'})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="samples for the full rows")
    parser.add_argument("--subsample", type=int, default=3000, help="samples for the slow rows")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ftz", action="store_true", help="flush subnormals to zero (x86)")
    args = parser.parse_args()

    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    if args.ftz:
        or_mxcsr(np.uint32(FTZ_DAZ))
    X, y = synthetic_logistic(args.n, K, np.float32)
    rows, notes = [], {}
    with threadpool_limits(1):
        if torch is not None:
            torch.set_num_threads(1)
        for group, name, library, H, batch, momentum, subsampled in ROWS:
            if library == "torch" and torch is None:
                continue
            n = min(args.n, args.subsample) if subsampled else args.n
            run = RUNNERS[library](X[:n], y[:n], H, batch, momentum)
            result = run()  # warm up: numba's compilation (or its cache), first touches
            if library == "fastsgd" and momentum:
                _, params, velocities = result
                notes[group] = (
                    f"{name}: {subnormals(velocities)} of {sum(v.size for v in velocities)} "
                    f"velocities, {subnormals(params)} weights subnormal after the epoch"
                )
            rows.append((group, name, n, run, []))
        for _ in range(args.repeats):
            for *_, run, times in rows:
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)

    print(f"started {started}, finished {time.strftime('%H:%M:%S')}; CPU: {cpu_name()}")
    versions = f"numpy {np.__version__}, scikit-learn {sklearn.__version__}"
    versions += f", torch {torch.__version__}" if torch is not None else ", torch not installed"
    print(f"python {platform.python_version()}, {versions}; one thread everywhere")
    flush = "FTZ/DAZ on (subnormals flushed)" if args.ftz else "default MXCSR (subnormals kept)"
    print(f"one epoch, k={K}, float32, eta={ETA}; min of {args.repeats} repeats; {flush}\n")
    ns = {}
    for group in dict.fromkeys(row[0] for row in ROWS):
        print(group)
        for row_group, name, n, _, times in rows:
            if row_group == group:
                ns[group, name] = min(times) / n * 1e9
                print(f"    {name:22s} {n:8d} samples {ns[group, name]:12.1f} ns/sample")
        for label, top, bottom in RATIOS:
            if (group, top) in ns and (group, bottom) in ns:
                goal = GOALS.get((group, label))
                goal = f"   goal {goal}" if goal else ""
                print(f"    {label:36s} {ns[group, top] / ns[group, bottom]:8.3g}{goal}")
        if group in notes:
            print(f"    {notes[group]}")
        print()


if __name__ == "__main__":
    main()
