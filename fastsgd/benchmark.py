"""``fastsgd bench``: fastsgd against its peers, every figure measured in the same run.

Peers: the plain-NumPy reference of the same algorithm (fastsgd.reference), scikit-learn
(SGDClassifier, MLPClassifier with solver='sgd'), PyTorch training loops when torch imports, a
memory-streaming floor (one read pass over X) and a 1-thread matrix product (the arithmetic roof).
Logistic regression at several N (so the growth of cost with N shows), the two-layer net at
several H, and the parallel strategies on 1..n threads. Each row is timed ``rounds`` times after
a warm-up call (compilation excluded) and reports the median, per sample. The slow peers (NumPy
reference, per-sample MLPClassifier and PyTorch) run on a subsample and are compared per sample.

The pytest-benchmark suites in the repository's bench/ folder cover the same ground in more
detail; this module is the self-contained version a user can run after ``pip install``.
"""

from __future__ import annotations

import json
import os
import platform
import time
import warnings

import numpy as np

QUICK = dict(log_sizes=(10_000, 100_000), log_features=(100,), net_sizes=(10_000,),
             hidden=(32,), rounds=3)  # fmt: skip
FULL = dict(log_sizes=(10_000, 100_000, 1_000_000), log_features=(10, 100),
            net_sizes=(10_000, 100_000), hidden=(8, 32, 128), rounds=5)  # fmt: skip
SUBSAMPLE = {"numpy-reference": 2000, "mlp-per-sample": 500, "torch-per-sample": 1000}


def _median_seconds(run, rounds):
    run()  # warm-up: compiles (or loads from the cache) outside the timing
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _problem(n, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)).astype(dtype)
    w = rng.standard_normal(k).astype(dtype) / np.sqrt(k)
    y = ((X @ w) + rng.standard_normal(n).astype(dtype) > 0).astype(np.int64)
    return X, y


def _logistic_rows(n, k, rounds):
    from sklearn.linear_model import SGDClassifier

    from fastsgd import reference
    from fastsgd.kernels import logistic_epoch, streaming_floor

    X, y = _problem(n, k, np.float64)
    settings = (np.full(1, 0.01), np.ones(1, np.int64), True)

    def kernel(visits, epoch=logistic_epoch):
        return lambda: epoch(X, y, visits, np.zeros((1, k)), np.zeros(1), *settings)

    sklearn = SGDClassifier(loss="log_loss", penalty=None, learning_rate="constant", eta0=0.01,
                            max_iter=1, tol=None, shuffle=False)  # fmt: skip
    small = np.arange(min(n, SUBSAMPLE["numpy-reference"]))
    cases = {
        "fastsgd": (kernel(np.arange(n)), n),
        "numpy-reference": (kernel(small, reference.logistic_epoch), small.size),
        "scikit-learn SGDClassifier": (lambda: sklearn.fit(X, y), n),
        "streaming floor": (lambda: streaming_floor(X), n),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (run, samples) in cases.items():
            yield name, _median_seconds(run, rounds) / samples


def _net_rows(n, H, rounds):
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    from fastsgd import reference
    from fastsgd.kernels import LOG_LOSS, RELU, net_epoch

    k = 100
    X, y = _problem(n, k, np.float32)
    rng = np.random.default_rng(0)

    def params():
        W1t = rng.uniform(-0.2, 0.2, (H, k)).astype(np.float32)
        W2 = rng.uniform(-0.4, 0.4, (H, 1)).astype(np.float32)
        return [W1t, np.zeros(H, np.float32), W2, np.zeros(1, np.float32)]

    def ours(visits, batch, epoch=net_epoch):
        return lambda: epoch(X, y, visits, *params(), 0.01, RELU, LOG_LOSS, True, batch)

    def mlp(batch, samples):
        model = MLPClassifier(hidden_layer_sizes=(H,), solver="sgd", momentum=0.0, alpha=0.0,
                              learning_rate_init=0.01, batch_size=batch, shuffle=False,
                              max_iter=1, tol=0.0, random_state=0)  # fmt: skip
        return lambda: model.fit(X[:samples], y[:samples])

    cases = {"fastsgd per-sample": (ours(np.arange(n), 1), n)}
    small = min(n, SUBSAMPLE["numpy-reference"])
    cases["numpy-reference per-sample"] = (ours(np.arange(small), 1, reference.net_epoch), small)
    small = min(n, SUBSAMPLE["mlp-per-sample"])
    cases["MLPClassifier per-sample"] = (mlp(1, small), small)
    cases["fastsgd batch 256"] = (ours(np.arange(n), 256), n)
    cases["MLPClassifier batch 256"] = (mlp(256, n), n)
    torch_loop = _torch_loop(X, y, H)
    if torch_loop is not None:
        small = min(n, SUBSAMPLE["torch-per-sample"])
        cases["PyTorch per-sample"] = (lambda: torch_loop(small, 1), small)
        cases["PyTorch batch 256"] = (lambda: torch_loop(n, 256), n)
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    # one thread everywhere, like fastsgd's kernels: the roof is 1-thread SGEMM
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gemm = _median_seconds(lambda: a @ a, rounds)
        for name, (run, samples) in cases.items():
            seconds = _median_seconds(run, rounds) / samples
            yield name, seconds, (4 * H * k / seconds) / (2 * 1024**3 / gemm)


def _torch_loop(X, y, H):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], H), torch.nn.ReLU(),
                                torch.nn.Linear(H, 1))  # fmt: skip
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    features = torch.from_numpy(X)
    targets = torch.from_numpy(y.astype(np.float32)).reshape(-1, 1)

    def run(samples, batch):
        for start in range(0, samples, batch):
            optimizer.zero_grad()
            stop = min(start + batch, samples)
            loss_fn(model(features[start:stop]), targets[start:stop]).backward()
            optimizer.step()

    return run


def _thread_rows(n, rounds):
    import numba

    from fastsgd.kernels import logistic_epoch
    from fastsgd.parallel import logistic_epoch_average, logistic_epoch_hogwild, parallel_region

    X, y = _problem(n, 100, np.float64)
    order = np.arange(n)
    settings = (np.full(1, 0.01), np.ones(1, np.int64), True)

    def run(kernel, threads):
        def epoch():
            coef, intercept = np.zeros((1, 100)), np.zeros(1)
            if kernel is logistic_epoch:
                return kernel(X, y, order, coef, intercept, *settings)
            with parallel_region(threads):
                return kernel(X, y, order, coef, intercept, *settings, threads)

        return epoch

    yield "sequential", 1, _median_seconds(run(logistic_epoch, 1), rounds) / n
    for threads in range(1, numba.config.NUMBA_NUM_THREADS + 1):
        for name, kernel in (("average", logistic_epoch_average),
                             ("hogwild", logistic_epoch_hogwild)):  # fmt: skip
            yield name, threads, _median_seconds(run(kernel, threads), rounds) / n


def _cpu_model() -> str:
    """The CPU's name as the OS reports it (platform.processor() gives only 'x86_64' on Linux)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    import datetime

    import numba
    import sklearn

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
        "scikit-learn": sklearn.__version__,
    }  # fmt: skip


def run(
    quick: bool = False,
    json_path: str | None = None,
    plot_path: str | None = None,
    sizes: dict | None = None,
) -> int:
    """Run the suite, print the table; write JSON and a PNG when asked. Returns 0.

    ``sizes`` overrides the QUICK / FULL settings (the tests run a tiny suite).
    """
    if plot_path:
        try:
            import matplotlib  # noqa: F401
        except ImportError as error:
            raise SystemExit(
                "fastsgd bench --plot needs matplotlib: python -m pip install matplotlib"
            ) from error
    sizes = sizes or (QUICK if quick else FULL)
    rounds = sizes["rounds"]
    started = time.perf_counter()
    results = []
    print(f"fastsgd bench ({'quick' if quick else 'full'}): median of {rounds} rounds, "
          "ns per sample; 'x' is how many times slower than fastsgd")  # fmt: skip
    for k in sizes["log_features"]:
        for n in sizes["log_sizes"]:
            print(f"\nlogistic regression, one epoch, N={n:,}, k={k}, float64 (fastsgd: the "
                  "compiled epoch; SGDClassifier: fit with loss='log_loss', penalty=None, a "
                  "constant rate, shuffle=False, its validation included)")  # fmt: skip
            rows = dict(_logistic_rows(n, k, rounds))
            for name, seconds in rows.items():
                ratio = seconds / rows["fastsgd"]
                print(f"  {name:32s} {seconds * 1e9:12.1f}  {ratio:8.2f}x")
                results.append(dict(suite="logistic", case=name, N=n, k=k, dtype="float64",
                                    ns_per_sample=seconds * 1e9, vs_fastsgd=ratio))  # fmt: skip
    for H in sizes["hidden"]:
        for n in sizes["net_sizes"]:
            print(f"\ntwo-layer net, one epoch, N={n:,}, k=100, H={H}, float32, relu, "
                  "one thread ('roof' = share of 1-thread SGEMM GFLOP/s)")  # fmt: skip
            rows = {name: (s, roof) for name, s, roof in _net_rows(n, H, rounds)}
            for name, (seconds, roof) in rows.items():
                base = rows["fastsgd batch 256" if "256" in name else "fastsgd per-sample"][0]
                print(f"  {name:32s} {seconds * 1e9:12.1f}  {seconds / base:8.2f}x  "
                      f"roof {100 * roof:5.1f}%")  # fmt: skip
                results.append(dict(suite="net", case=name, N=n, k=100, H=H, dtype="float32",
                                    ns_per_sample=seconds * 1e9, vs_fastsgd=seconds / base,
                                    share_of_gemm_roof=roof))  # fmt: skip
    n = sizes["log_sizes"][-1]
    print(f"\nthreads: logistic epoch, N={n:,}, k=100, float64 (speed-up over sequential)")
    rows = list(_thread_rows(n, rounds))
    sequential = rows[0][2]
    for name, threads, seconds in rows:
        print(f"  {name:10s} {threads:3d} threads {seconds * 1e9:10.1f}  "
              f"{sequential / seconds:6.2f}x")  # fmt: skip
        results.append(dict(suite="threads", case=name, threads=threads, N=n, k=100,
                            dtype="float64", ns_per_sample=seconds * 1e9,
                            speedup=sequential / seconds))  # fmt: skip
    report = {"machine": machine(), "quick": quick, "rounds": rounds,
              "seconds": time.perf_counter() - started, "results": results}  # fmt: skip
    print(f"\n{report['seconds']:.0f} s on {report['machine']['cpu_count']} CPUs "
          f"({report['machine']['cpu']}), {report['machine']['platform']}, "
          f"{report['machine']['date']}")  # fmt: skip
    if json_path:
        with open(json_path, "w") as handle:
            json.dump(report, handle, indent=2)
        print(f"wrote {json_path}")
    if plot_path:
        plot(report, plot_path)
        print(f"wrote {plot_path}")
    return 0


def plot(report: dict, path: str) -> None:
    """Bars of fastsgd's speed-up over each peer; time per epoch against N on log-log axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = report["results"]
    figure, (bars, lines) = plt.subplots(1, 2, figsize=(13, 5))
    largest = max(r["N"] for r in results if r["suite"] == "logistic")
    labels, values = [], []
    for r in results:
        is_logistic = (
            r["suite"] == "logistic"
            and r["N"] == largest
            and r["k"] == max(q["k"] for q in results if q["suite"] == "logistic")
        )
        is_net = (
            r["suite"] == "net"
            and r.get("H") == 32
            and r["N"] == max(q["N"] for q in results if q["suite"] == "net")
        )
        if (is_logistic or is_net) and not r["case"].startswith("fastsgd"):
            if r["case"] == "streaming floor":
                continue
            labels.append(("logistic: " if is_logistic else "net H=32: ") + r["case"])
            values.append(r["vs_fastsgd"])
    bars.barh(labels, values, color="tab:blue")
    for row, value in enumerate(values):
        bars.text(value, row, f" {value:.1f}x", va="center")
    bars.set_xscale("log")
    bars.set_xlim(1, max([*values, 2]) * 4)
    bars.set_xlabel("fastsgd is this many times faster (per sample, log scale)")
    bars.set_title("Speed-up against each peer")
    widths = sorted({r["k"] for r in results if r["suite"] == "logistic"})
    k = 100 if 100 in widths else widths[-1]
    for case in ("fastsgd", "numpy-reference", "scikit-learn SGDClassifier", "streaming floor"):
        points = sorted(
            (r["N"], r["ns_per_sample"] * r["N"] / 1e9)
            for r in results
            if r["suite"] == "logistic" and r["k"] == k and r["case"] == case
        )
        if points:
            label = f"{case} (timed on {SUBSAMPLE[case]} samples)" if case in SUBSAMPLE else case
            lines.plot(*zip(*points, strict=True), marker="o", label=label)
    lines.set_xscale("log")
    lines.set_yscale("log")
    lines.set_xlabel("N (samples)")
    lines.set_ylabel("seconds per epoch")
    lines.set_title(f"Logistic regression, k={k}: time per epoch against N")
    lines.legend()
    machine_info = report["machine"]
    cpu = machine_info.get("cpu", machine_info["processor"])  # files before 0.1.0's "cpu"
    when = f", {machine_info['date']}" if "date" in machine_info else ""
    figure.suptitle(f"fastsgd bench on {machine_info['cpu_count']} CPUs ({cpu}), "
                    f"numba {machine_info['numba']}{when}")  # fmt: skip
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
