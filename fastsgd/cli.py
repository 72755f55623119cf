"""The command line: ``python -m fastsgd {demo,train,predict,bench}`` (or ``fastsgd ...``)."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

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

    from fastsgd import TwoLayerNet
    from fastsgd.kernels import LOG_LOSS, RELU
    from fastsgd.kernels.net import net_epoch_per_sample

    print(f"\ntwo-layer net, {args.hidden} relu hidden units, per-sample SGD:")
    net = TwoLayerNet(
        n_hidden=args.hidden, eta0=args.eta0, max_iter=args.net_epochs, tol=None, random_state=0,
        verbose=1,
    )  # fmt: skip
    start = time.perf_counter()
    net.fit(X, y)
    net_seconds = time.perf_counter() - start
    accuracy = accuracy_score(y_test, net.predict(X_test))
    test_loss = log_loss(y_test, net.predict_proba(X_test))
    print(f"test accuracy {accuracy:.4f}, test log-loss {test_loss:.4f}")

    def net_epoch_seconds(kernel, visits):
        W1, W2 = net.coefs_
        params = [np.ascontiguousarray(W1.T), net.intercepts_[0].copy(), W2.copy(),
                  net.intercepts_[1].copy()]  # fmt: skip
        start = time.perf_counter()
        kernel(X, y, visits, *params, args.eta0, RELU, LOG_LOSS, True)
        return time.perf_counter() - start

    def reference_per_sample(*arguments):
        return reference.net_epoch(*arguments, 1)

    net_epoch_seconds(net_epoch_per_sample, order[:10])
    fast = min(net_epoch_seconds(net_epoch_per_sample, order) for _ in range(3)) / order.size
    subsample = order[: max(args.reference_samples // 10, 1)]
    slow = net_epoch_seconds(reference_per_sample, subsample) / subsample.size
    print(
        f"time per epoch: fastsgd {fast * order.size * 1e3:.1f} ms ({fast * 1e9:.0f} ns/sample); "
        f"NumPy reference {slow * order.size * 1e3:.0f} ms ({slow * 1e9:.0f} ns/sample, timed on "
        f"{subsample.size:,} samples): {slow / fast:.0f}x faster"
    )
    print(f"whole fit of {net.n_iter_} epochs: {net_seconds:.3f} s")
    return 0


class FileError(Exception):
    """A data or model file that cannot be read or written; main reports it in one line."""


@contextmanager
def _file_errors() -> Iterator[None]:
    # load_data, fastsgd.load and the writes raise ValueError or OSError naming the file (and
    # the line); a traceback would only bury that line
    try:
        yield
    except (ValueError, OSError) as error:
        raise FileError(str(error)) from error


MODELS = {
    "logistic": "LogisticRegression",
    "net": "TwoLayerNet",
    "sweep": "LogisticRegressionSweep",
    "sgd": "SGDClassifier",
    "sgd-regressor": "SGDRegressor",
    "net-regressor": "TwoLayerNetRegressor",
}
# the models of the linear engine: they take CSR input and the penalty/schedule options
LINEAR_MODELS = ("logistic", "sgd", "sgd-regressor")
# the two-layer nets: the hidden-layer, momentum and schedule options
NET_MODELS = ("net", "net-regressor")
# the models whose data file's target holds regression values (their score is R^2)
REGRESSION_MODELS = ("sgd-regressor", "net-regressor")
# the schedules of the nets (MLPClassifier's); the linear models also take 'optimal'
NET_LEARNING_RATES = ("constant", "invscaling", "adaptive")


def train(args: argparse.Namespace) -> int:
    """Fit a model on a data file and write it as a model file."""
    import fastsgd
    from fastsgd.io import load_data

    _check_options(args)
    with _file_errors():
        X, y = load_data(
            args.data, label_column=args.label_column, n_features=args.n_features,
            dtype=np.dtype(args.dtype), sparse=args.model in LINEAR_MODELS,
        )  # fmt: skip
    if y is None:
        raise SystemExit(f"fastsgd train: error: {args.data} has no labels (see --label-column)")
    if args.model in REGRESSION_MODELS and y.dtype.kind not in "biuf":
        raise SystemExit(
            f"fastsgd train: error: {args.data}: --model {args.model} needs numbers as targets, "
            "the label column holds text"
        )
    settings = dict(
        max_iter=args.max_iter, tol=args.tol, random_state=args.random_state,
        verbose=0 if args.quiet else 1, n_jobs=args.n_jobs, parallel=args.parallel,
    )  # fmt: skip
    if args.model == "sweep":
        model = fastsgd.LogisticRegressionSweep(eta0s=tuple(args.eta0s), **settings)
    else:
        settings["eta0"] = args.eta0
        if args.model in NET_MODELS:
            settings.update(n_hidden=args.hidden, activation=args.activation,
                            batch_size=args.batch_size)  # fmt: skip
            # the options given; the others keep the nets' defaults (no penalty, no momentum)
            given = dict(alpha=args.alpha, learning_rate=args.learning_rate,
                         power_t=args.power_t, momentum=args.momentum,
                         nesterovs_momentum=args.nesterov)  # fmt: skip
            settings.update({key: value for key, value in given.items() if value is not None})
        else:
            settings.update(
                penalty=None if args.penalty == "none" else args.penalty,
                alpha=1e-4 if args.alpha is None else args.alpha,
                learning_rate=args.learning_rate or "constant", average=args.average or False,
            )  # fmt: skip
            if args.power_t is not None:
                settings.update(power_t=args.power_t)
            if args.model != "logistic":
                settings.update(epsilon=args.epsilon)
                if args.loss is not None:
                    settings.update(loss=args.loss)
                if args.parallel == "average" and args.n_jobs in (None, 1):
                    settings.update(parallel=None)  # the SGD classes' default: sequential
        model = getattr(fastsgd, MODELS[args.model])(**settings)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # the line printed below says the same, with the file written
            warnings.simplefilter("ignore", fastsgd.TrainingInterruptedWarning)
            model.fit(X, y)
    except KeyboardInterrupt:
        # Ctrl-C: keep what the finished epochs learned, if any, and exit as shells expect
        # (128 + SIGINT), without a traceback.
        if hasattr(model, "n_iter_"):
            with _file_errors():
                model.save(args.out)
            kept = f"wrote the model after epoch {model.n_iter_} to {args.out}"
        else:
            kept = "no epoch had finished; no model written"
        print(f"fastsgd train: interrupted; {kept}", file=sys.stderr)
        raise SystemExit(130) from None
    seconds = time.perf_counter() - start
    with _file_errors():
        model.save(args.out)
    measure = "training R^2" if args.model in REGRESSION_MODELS else "training accuracy"
    print(
        f"trained {type(model).__name__} on {X.shape[0]:,} x {X.shape[1]} in {seconds:.2f} s "
        f"({model.n_iter_} epochs, last loss {model.loss_curve_[-1]:.5f}, {measure} "
        f"{model.score(X, y):.4f}); wrote {args.out}"
    )
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """Refuse options that the chosen model has no use for (rather than ignore them)."""
    net_only = {"--momentum": args.momentum, "--nesterov/--no-nesterov": args.nesterov}
    unused = [option for option, value in net_only.items() if value is not None]
    if args.model not in NET_MODELS and unused:
        raise SystemExit(
            f"fastsgd train: error: {', '.join(unused)} apply to --model net and net-regressor, "
            f"not {args.model}"
        )
    if args.model == "sweep" and args.power_t is not None:
        raise SystemExit("fastsgd train: error: --power-t does not apply to --model sweep")
    if args.model in NET_MODELS and args.learning_rate not in (None, *NET_LEARNING_RATES):
        raise SystemExit(
            f"fastsgd train: error: --learning-rate {args.learning_rate} is for the linear "
            f"models; --model {args.model} takes {', '.join(NET_LEARNING_RATES)}"
        )


def _batch_size(text: str) -> int | str:
    """--batch-size: a positive number of samples, or 'auto' (min(200, n_samples))."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


def predict(args: argparse.Namespace) -> int:
    """Predict with a model file; write the labels (and the metrics when DATA has labels)."""
    from sklearn.metrics import accuracy_score, log_loss

    import fastsgd
    from fastsgd.io import load_data

    with _file_errors():
        model = fastsgd.load(args.model)
    dtype = model.coef_.dtype if hasattr(model, "coef_") else model.coefs_[0].dtype
    with _file_errors():
        X, y = load_data(args.data, label_column=args.label_column,
                         n_features=model.n_features_in_, dtype=dtype,
                         sparse=type(model).__name__ in ("LogisticRegression", "SGDClassifier",
                                                         "SGDRegressor"))  # fmt: skip
    predictions = model.predict(X)
    if predictions.ndim == 2:  # several outputs (multilabel, a multi-output regressor): a row each
        lines = "\n".join(" ".join(str(value) for value in row) for row in predictions) + "\n"
    else:
        lines = "\n".join(str(label) for label in predictions) + "\n"
    if args.out:
        with _file_errors(), open(args.out, "w") as handle:
            handle.write(lines)
    elif y is None:
        sys.stdout.write(lines)
    if y is not None and predictions.ndim == 2:
        print(
            f"{X.shape[0]:,} rows: no metrics (the model predicts {predictions.shape[1]} values "
            "a row; the data file has one label column)"
        )
    elif y is not None and not hasattr(model, "classes_"):  # a regressor
        print(f"{X.shape[0]:,} rows: R^2 {model.score(X, y):.4f}")
    elif y is not None and not hasattr(model, "predict_proba"):  # a loss without probabilities
        print(f"{X.shape[0]:,} rows: accuracy {accuracy_score(y, predictions):.4f}")
    elif y is not None:
        known = np.isin(y, model.classes_)
        loss = log_loss(y[known], model.predict_proba(X[known]), labels=model.classes_)
        print(
            f"{X.shape[0]:,} rows: accuracy {accuracy_score(y, predictions):.4f}, log-loss "
            f"{loss:.4f}" + (f" ({(~known).sum()} rows with unseen labels left out of the "
                             "log-loss)" if not known.all() else "")
        )  # fmt: skip
    if args.out:
        print(f"wrote {len(predictions):,} predictions to {args.out}")
    return 0


def bench(args: argparse.Namespace) -> int:
    """Run the comparison suite; print the table, write JSON and a plot."""
    from fastsgd.benchmark import run

    return run(quick=args.quick, json_path=args.json, plot_path=args.plot)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastsgd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser("demo", help="train on the shipped a9a data and report")
    run_demo.add_argument("--epochs", type=int, default=10, help="epochs to train (10)")
    run_demo.add_argument("--eta0", type=float, default=0.01, help="learning rate (0.01)")
    run_demo.add_argument(
        "--reference-samples", type=int, default=3000, help="NumPy-reference subsample (3000)"
    )
    run_demo.add_argument("--net-epochs", type=int, default=3, help="net epochs (3)")
    run_demo.add_argument("--hidden", type=int, default=32, help="net hidden units (32)")
    run_demo.set_defaults(handler=demo)

    run_train = commands.add_parser("train", help="fit a model on a data file, write a model file")
    run_train.add_argument(
        "data", help="svmlight/libsvm text, .csv with a label column, .npz (X, y)"
    )
    run_train.add_argument("--model", choices=sorted(MODELS), default="logistic")
    run_train.add_argument("--out", required=True, help="model file to write (.npz)")
    run_train.add_argument(
        "--loss", default=None, help="sgd / sgd-regressor: the loss (default: scikit-learn's, "
        "hinge / squared_error); any of SGDClassifier's or SGDRegressor's losses",
    )  # fmt: skip
    run_train.add_argument(
        "--epsilon",
        type=float,
        default=0.1,
        help="sgd / sgd-regressor: huber's and the insensitive losses' epsilon",
    )
    run_train.add_argument("--eta0", type=float, default=0.01)
    run_train.add_argument("--eta0s", type=float, nargs="+", default=[1e-3, 1e-2, 1e-1],
                           help="learning rates of --model sweep")  # fmt: skip
    run_train.add_argument("--penalty", choices=["none", "l2", "l1", "elasticnet"],
                           default="none", help="logistic: the penalty (none)")  # fmt: skip
    run_train.add_argument(
        "--alpha", type=float, default=None,
        help="the penalty strength (the linear models: 1e-4; net / net-regressor: 0)",
    )  # fmt: skip
    run_train.add_argument(
        "--learning-rate", default=None, choices=["constant", "optimal", "invscaling", "adaptive"],
        help="the schedule (constant); net / net-regressor: not optimal",
    )  # fmt: skip
    run_train.add_argument(
        "--power-t", type=float, default=None,
        help="invscaling's exponent (the model's default: 0.5; sgd-regressor 0.25)",
    )  # fmt: skip
    run_train.add_argument(
        "--momentum", type=float, default=None, help="net / net-regressor: momentum in [0, 1] (0)"
    )
    run_train.add_argument(
        "--nesterov", action=argparse.BooleanOptionalAction, default=None,
        help="net / net-regressor: Nesterov's momentum (on)",
    )  # fmt: skip
    run_train.add_argument(
        "--average", type=int, default=0, help="logistic: averaged SGD from this sample on (0: off)"
    )
    run_train.add_argument("--max-iter", type=int, default=20)
    run_train.add_argument("--tol", type=float, default=1e-4)
    run_train.add_argument("--hidden", type=int, default=32, help="net hidden units")
    run_train.add_argument("--activation", choices=["logistic", "tanh", "relu"], default="relu")
    run_train.add_argument(
        "--batch-size", type=_batch_size, default=1,
        help="net mini-batch size, or auto (min(200, samples)); 1: per-sample SGD",
    )  # fmt: skip
    run_train.add_argument("--n-jobs", type=int, default=None)
    run_train.add_argument("--parallel", choices=["average", "hogwild"], default="average")
    run_train.add_argument("--random-state", type=int, default=0)
    run_train.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    run_train.add_argument("--quiet", action="store_true", help="no progress bar")
    for sub in (run_train,):
        sub.add_argument("--label-column", default="label", help="CSV label column (name or index)")
        sub.add_argument("--n-features", type=int, default=None, help="svmlight feature count")
    run_train.set_defaults(handler=train)

    run_predict = commands.add_parser("predict", help="predict with a model file")
    run_predict.add_argument("model", help="a model file written by train or model.save")
    run_predict.add_argument("data", help="a data file as for train (labels optional)")
    run_predict.add_argument("--out", help="write the predicted labels here, one per line")
    run_predict.add_argument("--label-column", default="label")
    run_predict.set_defaults(handler=predict)

    run_bench = commands.add_parser("bench", help="fastsgd against its peers, measured here")
    run_bench.add_argument("--quick", action="store_true", help="a smaller suite (< 1 minute)")
    run_bench.add_argument("--json", help="write the results as JSON here")
    run_bench.add_argument("--plot", help="draw a PNG here (needs matplotlib)")
    run_bench.set_defaults(handler=bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; returns its exit status.

    A file that cannot be read or written ends the run with ``SystemExit``: a one-line message
    on stderr that names the file, exit status 1 (argparse's usage errors exit with 2).
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except FileError as error:
        message = " ".join(str(error).split("\n"))  # one line, whatever the message holds
        raise SystemExit(f"fastsgd {args.command}: error: {message}") from None


if __name__ == "__main__":
    sys.exit(main())
