"""The command line: ``python -m fastsgd demo`` (and the ``fastsgd`` console script)."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def demo(args: argparse.Namespace) -> int:
    """Train on the shipped a9a data; print accuracy, the loss curve and the speed-up."""
    from sklearn.metrics import accuracy_score, log_loss

    from fastsgd import LogisticRegression, reference
    from fastsgd.io import load_a9a
    from fastsgd.kernels import logistic_epoch

    X, y = load_a9a("train")
    X_test, y_test = load_a9a("test")
    print(
        f"fastsgd demo: logistic regression by per-sample SGD on a9a (UCI Adult, CC BY 4.0): "
        f"{X.shape[0]:,} training rows, {X_test.shape[0]:,} test rows, {X.shape[1]} features"
    )
    model = LogisticRegression(
        eta0=args.eta0, max_iter=args.epochs, tol=None, random_state=0, verbose=1
    )
    start = time.perf_counter()
    model.fit(X, y)
    fit_seconds = time.perf_counter() - start

    print("\nepoch  mean progressive log-loss")
    for epoch, loss in enumerate(model.loss_curve_, 1):
        print(f"{epoch:5d}  {loss:.5f}")
    accuracy = accuracy_score(y_test, model.predict(X_test))
    test_loss = log_loss(y_test, model.predict_proba(X_test))
    print(f"\ntest accuracy {accuracy:.4f}, test log-loss {test_loss:.4f}")

    # One epoch in each implementation from the same start, on the same visiting order. The
    # NumPy loop runs on a subsample to keep the demo short; both are compared per sample.
    order = np.random.default_rng(0).permutation(X.shape[0])
    weights = dict(eta=np.full(1, args.eta0), positive_class=np.ones(1, np.int64))

    def epoch_seconds(kernel, visits):
        coef, intercept = np.zeros((1, X.shape[1])), np.zeros(1)
        start = time.perf_counter()
        kernel(X, y, visits, coef, intercept, fit_intercept=True, **weights)
        return time.perf_counter() - start

    epoch_seconds(logistic_epoch, order[:10])  # compile (or load from cache) outside the timing
    fast = min(epoch_seconds(logistic_epoch, order) for _ in range(5)) / order.size
    subsample = order[: args.reference_samples]
    slow = epoch_seconds(reference.logistic_epoch, subsample) / subsample.size
    print(
        f"time per epoch: fastsgd {fast * order.size * 1e3:.2f} ms ({fast * 1e9:.0f} ns/sample); "
        f"NumPy reference {slow * order.size * 1e3:.0f} ms ({slow * 1e9:.0f} ns/sample, timed on "
        f"{subsample.size:,} samples): {slow / fast:.0f}x faster"
    )
    print(f"whole fit of {model.n_iter_} epochs, validation included: {fit_seconds:.3f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastsgd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser("demo", help="train on the shipped a9a data and report")
    run_demo.add_argument("--epochs", type=int, default=10, help="epochs to train (10)")
    run_demo.add_argument("--eta0", type=float, default=0.01, help="learning rate (0.01)")
    run_demo.add_argument(
        "--reference-samples", type=int, default=3000, help="NumPy-reference subsample (3000)"
    )
    run_demo.set_defaults(handler=demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
