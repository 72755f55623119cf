"""The command line: ``python -m fastsgd COMMAND`` (or ``fastsgd COMMAND``): demo, train,
predict, bench, cache and compile.

Every error ends a command with one line on stderr, ``fastsgd <command>: error: ...``: exit
status 2 for a usage error (an option's value, an option the model has no use for), 1 for a
file, data or training error (and for anything unexpected, named by its exception type);
``--debug`` shows the Python traceback instead. Options, and output paths, are checked before
any data file is read. Warnings print as one line each, ``fastsgd <command>: warning: ...``,
without breaking the progress bar.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import re
import sys
import tempfile
import textwrap
import time
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import NoReturn

import numpy as np

DESCRIPTION = (
    "fastsgd: logistic regression, scikit-learn's linear SGD models and a two-layer net, "
    "trained by stochastic gradient descent compiled with Numba. Run 'fastsgd COMMAND --help' "
    "for the options of a command. An error prints one line (exit status 2 for a wrong option, "
    "1 for a file, data or training error); --debug shows the Python traceback instead."
)


class CommandError(Exception):
    """Ends a command with one line on stderr, ``<prog>: error: <message>``.

    ``status`` 2: a usage error (an option's value, an option that does not apply); 1: a file,
    data or training error.
    """

    def __init__(self, message: str, status: int = 1, prog: str | None = None):
        super().__init__(message)
        self.status = status
        self.prog = prog


def _usage_error(message: str) -> CommandError:
    return CommandError(message, status=2)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (no usage block) for ``main`` to print."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(message, status=2, prog=self.prog)


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


# -- the models and their options --------------------------------------------------------------

MODELS = {
    "logistic": "LogisticRegression",
    "sgd": "SGDClassifier",
    "sgd-regressor": "SGDRegressor",
    "net": "TwoLayerNet",
    "net-regressor": "TwoLayerNetRegressor",
    "sweep": "LogisticRegressionSweep",
}
# the models of the linear engine: they take CSR input and the penalty/schedule options
LINEAR_MODELS = ("logistic", "sgd", "sgd-regressor")
# the two-layer nets: the hidden-layer, momentum and batch options
NET_MODELS = ("net", "net-regressor")
# the models whose data file's target holds regression values (their score is R^2)
REGRESSION_MODELS = ("sgd-regressor", "net-regressor")

# train's hyperparameter options (argparse dest) and the estimators' parameter each one sets. An
# option applies to the models whose estimator has that parameter (except as NOT_OPTIONS says);
# one not given keeps the estimator's own default, except those of CLI_DEFAULTS.
HYPERPARAMETERS = {
    "loss": "loss",
    "epsilon": "epsilon",
    "eta0": "eta0",
    "eta0s": "eta0s",
    "learning_rate": "learning_rate",
    "power_t": "power_t",
    "penalty": "penalty",
    "alpha": "alpha",
    "l1_ratio": "l1_ratio",
    "average": "average",
    "hidden": "n_hidden",
    "activation": "activation",
    "batch_size": "batch_size",
    "momentum": "momentum",
    "nesterov": "nesterovs_momentum",
    "max_iter": "max_iter",
    "tol": "tol",
    "random_state": "random_state",
    "parallel": "parallel",
    "n_shards": "n_shards",
    "n_jobs": "n_jobs",
}
# parameters the command line leaves at their default for these models (the nets train the
# log-loss / squared error of their kind; --loss is SGDClassifier's and SGDRegressor's)
NOT_OPTIONS = {"loss": NET_MODELS}
# where the command line's default is not the estimator's, and why (also in --help)
CLI_DEFAULTS = {"max_iter": 20, "random_state": 0}
PARALLEL_ONLY = ("n_shards", "n_jobs")  # the options of --parallel average / hogwild


def _option(dest: str) -> str:
    """The option's name as typed, from its argparse dest."""
    if dest == "nesterov":
        return "--nesterov/--no-nesterov"
    return "--" + dest.replace("_", "-")


@cache
def _signature(model: str) -> dict:
    """The estimator's parameters of ``--model model`` and their Python defaults."""
    import fastsgd

    estimator = getattr(fastsgd, MODELS[model])
    return {name: p.default for name, p in inspect.signature(estimator).parameters.items()}


def _applies(dest: str, model: str) -> bool:
    param = HYPERPARAMETERS[dest]
    return param in _signature(model) and model not in NOT_OPTIONS.get(param, ())


def _shown(value) -> str:
    """A default as one types it on the command line."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple | list):
        return " ".join(_shown(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _python_defaults(dest: str, shown=_shown) -> tuple[list[str], str]:
    """(the models the option applies to, their Python defaults as text: the most common
    value, then in parentheses the models whose default differs)."""
    param = HYPERPARAMETERS[dest]
    groups: dict[str, list[str]] = {}
    for model in MODELS:
        if _applies(dest, model):
            groups.setdefault(shown(_signature(model)[param]), []).append(model)
    models = [model for model in MODELS if any(model in names for names in groups.values())]
    ranked = sorted(groups.items(), key=lambda item: -len(item[1]))
    if len(ranked) > 1 and len(ranked[0][1]) == 1:  # no common value: each model's
        return models, "(" + "; ".join(f"{names[0]}: {value}" for value, names in ranked) + ")"
    text = ranked[0][0]
    if len(ranked) > 1:
        text += " (" + "; ".join(f"{', '.join(names)}: {value}" for value, names in ranked[1:])
        text += ")"
    return models, text


def _hyper_help(dest: str, meaning: str, shown=_shown) -> str:
    """The help of a hyperparameter option: its meaning, the models it applies to and its
    default (the estimator's unless CLI_DEFAULTS differs, which the help then says)."""
    models, defaults = _python_defaults(dest, shown)
    scope = "" if len(models) == len(MODELS) else f" For --model {', '.join(models)}."
    param = HYPERPARAMETERS[dest]
    if param in CLI_DEFAULTS:
        why = {"max_iter": "to keep a command-line run short",
               "random_state": "so that a run is reproducible"}[param]  # fmt: skip
        default = (
            f"Default: {shown(CLI_DEFAULTS[param])}, {why}; the estimators' default is {defaults}."
        )
    else:
        default = f"Default: the estimator's{'' if defaults[0] == '(' else ','} {defaults}."
    return f"{meaning}.{scope} {default}".replace("%", "%%")


class _Formatter(argparse.HelpFormatter):
    """argparse's help, wrapped at spaces only (never inside 'sgd-regressor' or '--max-iter')."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            " ".join(text.split()), width, initial_indent=indent, subsequent_indent=indent,
            break_on_hyphens=False,
        )  # fmt: skip


# -- checks that run before any file is read ---------------------------------------------------

_INVALID_PARAMETER = re.compile(
    r"The '(?P<param>\w+)' parameter of \w+ must be (?P<rule>.+)\. Got (?P<value>.+) instead\.",
    re.S,
)
# the rules as the command line states them, where scikit-learn's words are Python's
RULES = {"average": "0 (off) or a positive sample number"}


def _with_options(message: str, options: dict[str, str]) -> str:
    """A message from the estimators, with parameter names written as the options."""
    for param, option in options.items():
        if "_" in param or any(c.isdigit() for c in param) or param == "alpha":
            message = re.sub(rf"(?<![\w-]){re.escape(param)}(?![\w-])", option, message)
    return message


def _validate(model, options: dict[str, str], where: str = "") -> None:
    """scikit-learn's validation of the estimator's hyperparameters (and fastsgd's checks of
    the ones that depend on each other), as usage errors naming the options."""
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        model._validate_params()
        if hasattr(model, "_validate_training_settings"):
            model._validate_training_settings(False)
        if hasattr(model, "_rates"):  # LogisticRegressionSweep's eta0s
            model._rates()
    except InvalidParameterError as error:
        match = _INVALID_PARAMETER.fullmatch(str(error).strip())
        if match is None or match["param"] not in options:
            raise _usage_error(_with_options(str(error), options)) from error
        rule = RULES.get(match["param"], re.sub(r"\bNone\b", "none", match["rule"]))
        rule = re.sub(  # "a str among {'b', 'a'}" (a set's order): "one of a, b"
            r"a str among \{(.*?)\}",
            lambda m: "one of " + ", ".join(sorted(re.findall(r"'([^']*)'", m[1]))),
            rule,
        )
        raise _usage_error(
            f"{options[match['param']]} must be {rule}{where}; got {match['value']}"
        ) from error
    except ValueError as error:
        raise _usage_error(_with_options(str(error), options)) from error


def _check_writable(path: str, option: str, *, replaced: bool = False) -> None:
    """Refuse an output path that cannot be written, before any work; leaves no file behind.
    ``replaced``: the file is written beside the target and renamed over it (a model file), so
    the folder must take a new file even when the target exists."""
    target = Path(os.path.realpath(path)) if replaced else Path(path)
    folder = target.parent
    if target.is_dir():
        raise CommandError(f"{option} {path}: is a directory")
    if not folder.exists():
        raise CommandError(f"{option} {path}: no such directory: {folder}")
    if not folder.is_dir():
        raise CommandError(f"{option} {path}: {folder} is not a directory")
    try:
        if target.exists() and not replaced:
            with open(target, "ab"):  # writable as it is: opened for appending, not changed
                pass
        else:
            handle, probe = tempfile.mkstemp(dir=folder, prefix=".fastsgd-", suffix=".tmp")
            os.close(handle)
            os.remove(probe)
    except OSError as error:
        raise CommandError(
            f"{option} {path}: cannot write there ({error.strerror or error})"
        ) from error


@contextmanager
def _file_errors() -> Iterator[None]:
    # load_data, fastsgd.load and the writes raise ValueError or OSError naming the file (and
    # the line); a traceback would only bury that line
    try:
        yield
    except (ValueError, OSError) as error:
        raise CommandError(str(error)) from error


@contextmanager
def _training_errors() -> Iterator[None]:
    # fit's ValueErrors once the options passed their checks: the data (one class, labels a
    # classifier cannot take) or the training (a diverged fit names the learning rate)
    try:
        yield
    except ValueError as error:
        raise CommandError(f"training failed: {error}") from error


# -- the commands ------------------------------------------------------------------------------


def demo(args: argparse.Namespace) -> int:
    """Train on the shipped a9a data; print accuracy, the loss curve and the speed-up."""
    from sklearn.metrics import accuracy_score, log_loss

    from fastsgd import LogisticRegression, TwoLayerNet, reference
    from fastsgd.io import load_a9a
    from fastsgd.kernels import logistic_epoch

    model = LogisticRegression(
        eta0=args.eta0, max_iter=args.epochs, tol=None, random_state=0, verbose=1
    )
    _validate(model, {"eta0": "--eta0", "max_iter": "--epochs"})
    net = TwoLayerNet(
        n_hidden=args.hidden, eta0=args.eta0, max_iter=args.net_epochs, tol=None, random_state=0,
        verbose=1,
    )  # fmt: skip
    _validate(net, {"eta0": "--eta0", "max_iter": "--net-epochs", "n_hidden": "--hidden"})
    with _file_errors():
        X, y = load_a9a("train")
        X_test, y_test = load_a9a("test")
    print(
        f"fastsgd demo: logistic regression by per-sample SGD on a9a (UCI Adult, CC BY 4.0): "
        f"{X.shape[0]:,} training rows, {X_test.shape[0]:,} test rows, {X.shape[1]} features"
    )
    start = time.perf_counter()
    with _training_errors():
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

    from fastsgd.kernels import LOG_LOSS, RELU
    from fastsgd.kernels.net import net_epoch_per_sample

    print(f"\ntwo-layer net, {args.hidden} relu hidden units, per-sample SGD:")
    start = time.perf_counter()
    with _training_errors():
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


def _fit_keeping_finished_epochs(model, fit, out: str, epoch: str) -> None:
    """Run ``fit()``; on Ctrl-C keep what the finished epochs (passes) learned, if any, in
    ``out``, and exit as shells expect (128 + SIGINT), without a traceback."""
    import fastsgd

    try:
        with warnings.catch_warnings(), _training_errors():
            # the line printed below says the same, with the file written
            warnings.simplefilter("ignore", fastsgd.TrainingInterruptedWarning)
            fit()
    except KeyboardInterrupt:
        if hasattr(model, "n_iter_"):
            with _file_errors():
                model.save(out)
            kept = f"wrote the model after {epoch} {model.n_iter_} to {out}"
        else:
            kept = f"no {epoch} had finished; no model written"
        print(f"fastsgd train: interrupted; {kept}", file=sys.stderr)
        raise SystemExit(130) from None


def _given(args: argparse.Namespace) -> dict:
    """The hyperparameter options given on the command line (the others are absent from args),
    as the estimators' values."""
    # (in the order given: argparse sets an option's attribute when it parses it)
    given = {dest: value for dest, value in vars(args).items() if dest in HYPERPARAMETERS}
    for dest in ("penalty", "parallel"):
        if given.get(dest) == "none":
            given[dest] = None
    if given.get("average") == 0:
        given["average"] = False  # the estimators' "off"
    if "eta0s" in given:
        given["eta0s"] = tuple(given["eta0s"])
    return given


def _build_model(args: argparse.Namespace):
    """The estimator of ``--model`` with the options given, checked; raises a usage error."""
    import fastsgd

    given = _given(args)
    unused = [dest for dest in given if not _applies(dest, args.model)]
    if unused:
        scopes = [f"{_option(d)} applies to {', '.join(_python_defaults(d)[0])}" for d in unused]
        if len(unused) == 1:
            scopes = [scopes[0].replace(_option(unused[0]), "it", 1)]
        verb = "does" if len(unused) == 1 else "do"
        raise _usage_error(
            f"{', '.join(map(_option, unused))} {verb} not apply to --model {args.model} "
            f"({'; '.join(scopes)})"
        )
    if given.get("parallel") is None:
        alone = [_option(dest) for dest in PARALLEL_ONLY if dest in given]
        if alone:
            raise _usage_error(
                f"{' and '.join(alone)} set{'s' if len(alone) == 1 else ''} how "
                "--parallel average or hogwild trains: give --parallel too (without it, "
                "training is sequential)"
            )
    settings = {HYPERPARAMETERS[dest]: value for dest, value in given.items()}
    for param, value in CLI_DEFAULTS.items():
        settings.setdefault(param, value)
    settings["verbose"] = 0 if args.quiet else 1
    model = getattr(fastsgd, MODELS[args.model])(**settings)
    options = {HYPERPARAMETERS[dest]: _option(dest) for dest in HYPERPARAMETERS}
    _validate(model, options, where=f" for --model {args.model}")
    if model.parallel == "hogwild" and args.model in LINEAR_MODELS:
        plain = (
            args.model != "sgd-regressor" and model.loss == "log_loss" and model.penalty is None
            and model.learning_rate in ("constant", "adaptive") and not model.average
        )  # fmt: skip
        if not plain:
            raise _usage_error(
                f"--parallel hogwild trains only the plain logistic update (--model logistic, or "
                f"sgd with --loss log_loss; --penalty none, --learning-rate constant or "
                f"adaptive, no --average), not these settings of --model {args.model}; "
                "--parallel average trains every setting"
            )
    return model


def train(args: argparse.Namespace) -> int:
    """Fit a model on a data file and write it as a model file."""
    from fastsgd.io import load_data

    streaming = args.cache is not None or _is_training_cache(args.data)
    if not streaming:
        given = [option for dest, option in STREAM_OPTIONS.items() if getattr(args, dest)]
        if given:
            raise _usage_error(
                f"{', '.join(given)} {'sets' if len(given) == 1 else 'set'} how training streams "
                "a file through a cache: give --cache DIR too"
            )
    if streaming:
        _check_streaming(args)
    model = _build_model(args)
    _check_writable(args.out, "--out", replaced=True)
    if streaming:
        return _train_streaming(args, model)
    args.dtype = args.dtype or "float64"
    # the linear models train CSR input as it is, except Hogwild (dense input only)
    sparse = args.model in LINEAR_MODELS and model.parallel != "hogwild"
    with _file_errors():
        X, y = load_data(
            args.data, label_column=args.label_column, n_features=args.n_features,
            dtype=np.dtype(args.dtype), sparse=sparse,
        )  # fmt: skip
    if y is None:
        raise CommandError(f"{args.data} has no labels (see --label-column)")
    if args.model in REGRESSION_MODELS and y.dtype.kind not in "biuf":
        raise CommandError(
            f"{args.data}: --model {args.model} needs numbers as targets, the label column "
            "holds text"
        )
    start = time.perf_counter()
    _fit_keeping_finished_epochs(model, lambda: model.fit(X, y), args.out, "epoch")
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


def predict(args: argparse.Namespace) -> int:
    """Predict with a model file; write the labels (and the metrics when DATA has labels)."""
    from sklearn.metrics import accuracy_score, log_loss

    import fastsgd
    from fastsgd.io import load_data

    if args.out:
        _check_writable(args.out, "--out")
    with _file_errors():
        model = fastsgd.load(args.model)
    dtype = model.coef_.dtype if hasattr(model, "coef_") else model.coefs_[0].dtype
    with _file_errors():
        X, y = load_data(args.data, label_column=args.label_column,
                         n_features=model.n_features_in_, dtype=dtype,
                         sparse=type(model).__name__ in ("LogisticRegression", "SGDClassifier",
                                                         "SGDRegressor"))  # fmt: skip
    try:
        predictions = model.predict(X)
    except ValueError as error:
        raise CommandError(f"{args.data}: {error}") from error
    if predictions.ndim == 2:  # several outputs (multilabel, a multi-output regressor): a row each
        lines = "\n".join(" ".join(str(value) for value in row) for row in predictions) + "\n"
    else:
        lines = "\n".join(str(label) for label in predictions) + "\n"
    if args.out:
        with _file_errors(), open(args.out, "w") as handle:
            handle.write(lines)
    elif y is None:
        sys.stdout.write(lines)
    try:
        if y is not None and predictions.ndim == 2:
            print(
                f"{X.shape[0]:,} rows: no metrics (the model predicts {predictions.shape[1]} "
                "values a row; the data file has one label column)"
            )
        elif y is not None and not hasattr(model, "classes_"):  # a regressor
            print(f"{X.shape[0]:,} rows: R^2 {model.score(X, y):.4f}")
        elif y is not None and not hasattr(model, "predict_proba"):  # no probabilities
            print(f"{X.shape[0]:,} rows: accuracy {accuracy_score(y, predictions):.4f}")
        elif y is not None:
            known = np.isin(y, model.classes_)
            loss = log_loss(y[known], model.predict_proba(X[known]), labels=model.classes_)
            print(
                f"{X.shape[0]:,} rows: accuracy {accuracy_score(y, predictions):.4f}, log-loss "
                f"{loss:.4f}" + (f" ({(~known).sum()} rows with unseen labels left out of the "
                                 "log-loss)" if not known.all() else "")
            )  # fmt: skip
    except ValueError as error:  # labels the model's classes cannot be compared with
        raise CommandError(f"{args.data}: cannot score the predictions: {error}") from error
    if args.out:
        print(f"wrote {len(predictions):,} predictions to {args.out}")
    return 0


def bench(args: argparse.Namespace) -> int:
    """Run the comparison suite; print the table, write JSON and a plot."""
    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path:
            _check_writable(path, option)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise CommandError("--plot needs matplotlib: python -m pip install matplotlib")
    from fastsgd.benchmark import run

    return run(quick=args.quick, json_path=args.json, plot_path=args.plot)


def compile_kernels(args: argparse.Namespace) -> int:
    """Compile every kernel variant of the chosen configurations into Numba's cache."""
    from fastsgd._precompile import CONFIGURATIONS, compile

    names = args.configurations or None
    unknown = [name for name in names or () if name not in CONFIGURATIONS]
    if unknown:
        raise CommandError(
            f"unknown configuration {unknown[0]!r}; choose from {', '.join(CONFIGURATIONS)}", 2
        )
    result = compile(
        names, dtypes=args.dtypes, sparse=not args.dense_only, weights=not args.no_weights,
        n_jobs=args.n_jobs, progress=not args.quiet,
    )  # fmt: skip
    print(f"compiled {result['jobs']} variants in {result['seconds']:.1f} s into {result['cache']}")
    return 0


# -- the parser --------------------------------------------------------------------------------


def _typed(convert, expected: str):
    """An argparse type: ``convert(text)``, or (when it raises ValueError) an error that says
    what was expected."""

    def parse(text: str):
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None

    return parse


def _none_or(convert):
    return lambda text: None if text == "none" else convert(text)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _holdout_period(text: str) -> int:
    value = _non_negative_int(text)
    if value == 1:  # every row held out
        raise ValueError(text)
    return value


def _n_jobs(text: str) -> int:
    value = int(text)
    if value == 0:
        raise ValueError(text)
    return value


def _batch_size(text: str) -> int | str:
    """--batch-size: a number of samples, or 'auto' (min(200, n_samples))."""
    return text if text == "auto" else int(text)


# train's options of streaming (with --cache), and how they are typed
STREAM_OPTIONS = {
    "passes": "--passes",
    "holdout": "--holdout",
    "first_pass": "--first-pass",
    "classes": "--classes",
    "buckets": "--buckets",
    "zero_based": "--zero-based",
}
STREAM_MODELS = ("logistic", "sgd", "sgd-regressor", "net", "net-regressor")


def _is_training_cache(path: str) -> bool:
    return os.path.isdir(path) and os.path.exists(os.path.join(path, "manifest.json"))


def _check_streaming(args: argparse.Namespace) -> None:
    """The options of a streaming train, checked before anything is read."""
    if args.model not in STREAM_MODELS:
        raise _usage_error(
            f"--model {args.model} does not train from a file through a cache (--cache); "
            f"streaming trains --model {', '.join(STREAM_MODELS)}"
        )
    if getattr(args, "parallel", None) not in (None, "none"):
        raise _usage_error("--parallel does not apply when streaming through --cache")
    if args.passes is not None:
        if hasattr(args, "max_iter"):
            raise _usage_error("--passes and --max-iter say the same: give one of them")
        args.max_iter = args.passes
    if args.cache is not None and _is_training_cache(args.data):
        raise _usage_error(f"{args.data} is a training cache already: drop --cache")
    regressor = args.model in REGRESSION_MODELS
    if args.classes is not None and regressor:
        raise _usage_error(f"--classes is for classifiers; --model {args.model} takes numbers")
    if args.first_pass == "train" and not _is_training_cache(args.data):
        from fastsgd.cache import is_csv

        missing = [
            option for option, absent in (
                ("--n-features", args.n_features is None and not is_csv(args.data)),
                ("--classes", args.classes is None and not regressor),
            ) if absent
        ]  # fmt: skip
        if missing:
            raise _usage_error(
                f"--first-pass train trains while the file is read: give {' and '.join(missing)}"
            )


def _zero_based(text: str) -> bool | str:
    return {"auto": "auto", "yes": True, "no": False}[text]


def _train_streaming(args: argparse.Namespace, model) -> int:
    """train through a training cache (fastsgd.stream.fit): the file is never loaded whole."""
    import fastsgd
    import fastsgd.stream
    from fastsgd.cache import open_cache

    source = args.data
    if not os.path.exists(source):
        raise CommandError(f"{source}: no such file or training cache")
    start = time.perf_counter()
    settings = dict(
        cache=args.cache, holdout=args.holdout, first_pass=args.first_pass or "cache",
        classes=args.classes, n_features=args.n_features,
        dtype=None if args.dtype is None else np.dtype(args.dtype),
        zero_based=_zero_based(args.zero_based or "auto"), n_buckets=args.buckets,
        label_column=args.label_column,
    )  # fmt: skip

    def fit():
        fastsgd.stream.fit(model, source, **settings)

    try:
        _fit_keeping_finished_epochs(model, fit, args.out, "pass")
    except OSError as error:
        raise CommandError(str(error)) from error
    seconds = time.perf_counter() - start
    with _file_errors():
        model.save(args.out)
    cache = open_cache(args.cache if args.cache is not None else source)
    held_out = ""
    if cache.manifest["n_holdout_rows"] and args.holdout != 0:
        measure = "R^2" if args.model in REGRESSION_MODELS else "accuracy"
        score = fastsgd.stream.score(model, cache)
        held_out = f", holdout {measure} {score:.4f} on {cache.manifest['n_holdout_rows']:,} rows"
    print(
        f"trained {type(model).__name__} on {source} ({cache.n_rows:,} rows x "
        f"{cache.n_features} features) through the cache {cache.path} in {seconds:.2f} s "
        f"({model.n_iter_} passes, last loss {model.loss_curve_[-1]:.5f}{held_out}); wrote "
        f"{args.out}"
    )
    return 0


def cache_command(args: argparse.Namespace) -> int:
    """fastsgd cache build / info."""
    from fastsgd.cache import build_cache, cache_status, open_cache

    if args.action == "build":
        start = time.perf_counter()
        with _file_errors():
            cache = build_cache(
                args.source, args.directory, dtype=np.dtype(args.dtype),
                zero_based=_zero_based(args.zero_based), n_buckets=args.buckets,
                holdout=args.holdout, seed=args.seed, n_features=args.n_features,
                label_column=args.label_column,
            )  # fmt: skip
        seconds = time.perf_counter() - start
        size = os.path.getsize(args.source)
        print(
            f"built {cache.path} from {args.source} in {seconds:.2f} s ({size / seconds / 1e6:.0f} "
            f"MB/s): {cache.n_rows:,} rows, {cache.n_features} features, "
            f"{len(cache.train_buckets)} training and {len(cache.holdout_buckets)} holdout buckets"
        )
        return 0
    with _file_errors():
        cache = open_cache(args.directory)
    manifest = cache.manifest
    source = manifest["source"]["path"]
    if not os.path.exists(source):
        state = "missing"
    else:
        with _file_errors():
            reason = cache_status(cache, source)
        state = "unchanged since the build" if reason is None else f"stale: {reason}"
    bytes_on_disk = sum(file.stat().st_size for file in Path(args.directory).iterdir())
    classes = manifest["classes"]
    lines = [
        f"cache:       {cache.path} (format {manifest['version']}, written by fastsgd "
        f"{manifest['fastsgd_version']}, {bytes_on_disk / 1e6:.1f} MB)",
        f"source:      {source} ({manifest['source']['size']:,} bytes; {state})",
        f"rows:        {cache.n_rows:,} ({manifest['n_train_rows']:,} training, "
        f"{manifest['n_holdout_rows']:,} held out"
        + (f": every {cache.holdout_period}th row)" if cache.holdout_period else ")"),
        (
            f"features:    {cache.n_features:,} ({cache.dtype}, dense rows from CSV; label column "
            f"{manifest['label_column']!r})"
            if cache.dense
            else f"features:    {cache.n_features:,} ({cache.n_nonzeros:,} nonzeros, "
            f"{cache.dtype}; indices {'zero' if manifest['zero_based'] else 'one'}-based, "
            f"{manifest['zero_based_decided']})"
        ),
        "classes:     "
        + (
            "more than 1,000 distinct labels"
            if classes is None
            else ", ".join(
                f"{label:g} ({count:,})"
                for label, count in zip(
                    classes,
                    np.add(manifest["class_counts"], manifest["holdout_class_counts"]),
                    strict=True,
                )
            )
        ),
        f"buckets:     {len(cache.train_buckets)} training, {len(cache.holdout_buckets)} "
        f"holdout; seed {manifest['seed']}",
    ]
    print("\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    import fastsgd

    parser = _Parser(prog="fastsgd", description=DESCRIPTION, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"fastsgd {fastsgd.__version__}")
    debug_help = "on an error, show the Python traceback (default: off, one line)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, description: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, description=description, formatter_class=_Formatter
        )
        # also after the command: fastsgd train ... --debug
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help=debug_help)  # fmt: skip
        return sub

    positive = _typed(_positive_int, "a positive integer")
    run_demo = command(
        "demo", "train on the shipped a9a data and report",
        "Train logistic regression and the two-layer net on the a9a data shipped with fastsgd; "
        "print the loss curve, the test accuracy and the speed-up over a NumPy loop.",
    )  # fmt: skip
    run_demo.add_argument("--epochs", type=int, default=10,
                          help="logistic regression's epochs (default: 10)")  # fmt: skip
    run_demo.add_argument("--eta0", type=float, default=0.01,
                          help="both models' constant learning rate (default: 0.01)")  # fmt: skip
    run_demo.add_argument(
        "--reference-samples", type=positive, default=3000,
        help="samples the NumPy reference loop is timed on (default: 3000)",
    )  # fmt: skip
    run_demo.add_argument("--net-epochs", type=int, default=3,
                          help="the net's epochs (default: 3)")  # fmt: skip
    run_demo.add_argument("--hidden", type=int, default=32,
                          help="the net's hidden units (default: 32)")  # fmt: skip
    run_demo.set_defaults(handler=demo)

    run_train = command(
        "train", "fit a model on a data file, write a model file",
        "Fit a model on a data file and write it as a model file (.npz). A hyperparameter "
        "option not given keeps the Python estimator's default, except --max-iter (20), "
        "--random-state (0) and the progress bar (on; --quiet turns it off); an option the "
        "chosen model has no use for is refused.",
    )  # fmt: skip
    run_train.add_argument(
        "data", help="the training data: svmlight/libsvm text (.gz and .bz2 too), CSV with a "
        "header and a label column, or .npz with arrays X and y",
    )  # fmt: skip
    run_train.add_argument(
        "--model", choices=list(MODELS), default="logistic",
        help="the estimator: logistic (LogisticRegression), sgd (SGDClassifier), sgd-regressor "
        "(SGDRegressor), net (TwoLayerNet), net-regressor (TwoLayerNetRegressor), sweep "
        "(LogisticRegressionSweep: several learning rates at once, the best kept) "
        "(default: logistic)",
    )  # fmt: skip
    run_train.add_argument("--out", required=True,
                           help="the model file to write, .npz (required)")  # fmt: skip
    hyper = run_train.add_argument_group(
        "hyperparameters",
        "Each applies to the models listed; one not given keeps the estimator's default.",
    )

    def option(dest: str, meaning: str, shown=_shown, **kwargs) -> None:
        hyper.add_argument(_option(dest).split("/")[0], dest=dest, default=argparse.SUPPRESS,
                           help=_hyper_help(dest, meaning, shown), **kwargs)  # fmt: skip

    option("loss", "the loss: any of SGDClassifier's (sgd) or SGDRegressor's (sgd-regressor)")
    option("epsilon", "huber's threshold and the epsilon-insensitive losses' margin", type=float)
    option("eta0", "the learning rate: the constant rate, or the first one of invscaling and "
           "adaptive", type=float)  # fmt: skip
    option("eta0s", "the learning rates the sweep trains side by side (it keeps the best on a "
           "held-out tenth of the data)", type=float, nargs="+", metavar="ETA0")  # fmt: skip
    option("learning_rate", "the schedule (the nets take constant, invscaling, adaptive; sweep "
           "constant)", choices=["constant", "optimal", "invscaling", "adaptive"])  # fmt: skip
    option("power_t", "the exponent of invscaling", type=float)
    option("penalty", "the regularization", choices=["none", "l2", "l1", "elasticnet"])
    option("alpha", "the penalty's strength (the nets: L2 on the weights); also sets the "
           "optimal schedule", type=float)  # fmt: skip
    option("l1_ratio", "the L1 share of elasticnet", type=float)
    option("average", "averaged SGD from this sample number on; 0: off",
           shown=lambda value: "0 (off)" if value is False else _shown(value),
           type=int)  # fmt: skip
    option("hidden", "the hidden units", type=int)
    option("activation", "the hidden units' activation",
           choices=["identity", "logistic", "tanh", "relu"])  # fmt: skip
    option("batch_size", "samples per step; 1: per-sample SGD; auto: min(200, samples)",
           type=_typed(_batch_size, "an integer or 'auto'"))  # fmt: skip
    option("momentum", "momentum in [0, 1]", type=float)
    option("nesterov", "Nesterov's momentum", action=argparse.BooleanOptionalAction)
    option("max_iter", "the most epochs", type=int)
    option("tol", "the stopping rule's tolerance; none: run all --max-iter epochs",
           type=_typed(_none_or(float), "a number or 'none'"))  # fmt: skip
    option("random_state", "the seed of the shuffling and of the initial weights; none: a new "
           "random run each time", type=_typed(_none_or(int), "an integer or 'none'"))  # fmt: skip
    option(
        "parallel", "none: sequential SGD; average: each epoch's visiting order is cut into "
        "--n-shards shards, trained on copies of the model on --n-jobs threads and then mixed "
        "(deterministic; every setting and sparse input); hogwild: threads update shared "
        "weights without locks (not deterministic; for the nets and the plain logistic update, "
        "for which svmlight data is read dense)", choices=["none", "average", "hogwild"],
    )  # fmt: skip
    option("n_shards", "the shards of --parallel: part of the model's definition (1: "
           "sequential); with --parallel only", type=int)  # fmt: skip
    option(
        "n_jobs", "the threads that run the shards of --parallel (-1: every CPU, -2: all but "
        "one); they never change the model; with --parallel only",
        shown=lambda value: "1" if value is None else _shown(value),
        type=_typed(_n_jobs, "an integer other than 0"),
    )  # fmt: skip
    data = run_train.add_argument_group("data and output")
    data.add_argument("--label-column", default="label",
                      help="the label column of a CSV file, a name or an index "
                      "(default: label)")  # fmt: skip
    data.add_argument("--n-features", type=positive, default=None,
                      help="the feature count of svmlight data (default: the largest feature "
                      "index in the file)")  # fmt: skip
    data.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default=None,
        help="the floating-point type of X and the weights (default: float64; when streaming, "
        "the cache's, float32 for a new one)",
    )
    data.add_argument("--quiet", action="store_true",
                      help="no progress bar (default: off, a progress bar on stderr; the "
                      "estimators' default is verbose=0, no bar)")  # fmt: skip
    stream = run_train.add_argument_group(
        "streaming (files larger than memory)",
        "With --cache DIR (or a training cache as DATA), train reads the svmlight or CSV file "
        "once into a training cache of shuffled buckets and trains from it in bounded memory "
        "(fastsgd.stream.fit): every --model but sweep. CSV needs pyarrow.",
    )
    stream.add_argument("--cache", metavar="DIR", default=None,
                        help="the training cache folder: built, reused while it matches the "
                        "file, rebuilt when stale (default: none, the file is loaded)")  # fmt: skip
    stream.add_argument("--passes", type=positive, default=None,
                        help="passes over the file (the same as --max-iter; default: "
                        "20)")  # fmt: skip
    stream.add_argument("--holdout", type=_typed(_holdout_period, "0 or an integer above 1"),
                        default=None, help="hold out every N-th row, scored after training and "
                        "watched by the stopping rule; 0: none (default: the cache's, 10 for a "
                        "new one)")  # fmt: skip
    stream.add_argument("--first-pass", choices=["cache", "train"], default=None,
                        help="whether the pass that builds the cache only builds (every pass "
                        "then reads the shuffled cache) or trains too, on the file in its order "
                        "(needs --n-features and --classes) (default: cache)")  # fmt: skip
    stream.add_argument("--classes", type=float, nargs="+", default=None, metavar="LABEL",
                        help="every label (default: those the cache found)")  # fmt: skip
    stream.add_argument("--buckets", type=positive, default=None,
                        help="the cache's training buckets (default: one per 64 MiB of the "
                        "file, at least 32)")  # fmt: skip
    stream.add_argument("--zero-based", choices=["auto", "yes", "no"], default=None,
                        help="whether the file's indices start at 0; auto: decided from its "
                        "first block (default: auto)")  # fmt: skip
    run_train.set_defaults(handler=train)

    run_predict = command(
        "predict", "predict with a model file",
        "Predict with a model file; print accuracy and log-loss (or R^2) when the data has "
        "labels.",
    )  # fmt: skip
    run_predict.add_argument("model", help="a model file written by train or model.save")
    run_predict.add_argument("data", help="a data file as for train (labels optional)")
    run_predict.add_argument("--out", help="write the predictions here, one per line (default: "
                             "standard output when the data has no labels)")  # fmt: skip
    run_predict.add_argument("--label-column", default="label",
                             help="the label column of a CSV file (default: label)")  # fmt: skip
    run_predict.set_defaults(handler=predict)

    run_bench = command(
        "bench", "fastsgd against its peers, measured here",
        "Time fastsgd against scikit-learn and a NumPy loop on this machine; print the table.",
    )  # fmt: skip
    run_bench.add_argument("--quick", action="store_true",
                           help="a smaller suite, under a minute (default: off, the full "
                           "suite)")  # fmt: skip
    run_bench.add_argument("--json", help="write the results as JSON here (default: none)")
    run_bench.add_argument("--plot", help="draw a PNG here; needs matplotlib (default: none)")
    run_bench.set_defaults(handler=bench)

    run_cache = command(
        "cache", "build or describe a training cache",
        "Build a training cache from an svmlight or CSV file (the rows parsed once into shuffled "
        "buckets of .npy files, every N-th row held out), or describe one and say whether its "
        "source changed since; 'fastsgd train DATA --cache DIR' builds one as needed.",
    )  # fmt: skip
    actions = run_cache.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="parse an svmlight file into a training cache",
                               formatter_class=_Formatter)  # fmt: skip
    build.add_argument("source", help="the svmlight/libsvm file (.gz and .bz2 too), or a CSV "
                       "file with a header (.csv, .csv.gz, .csv.bz2; needs pyarrow)")  # fmt: skip
    build.add_argument("--label-column", default="label",
                       help="a CSV file's label column, a name or an index (default: "
                       "label)")  # fmt: skip
    build.add_argument("directory", help="the cache folder to write")
    build.add_argument("--holdout", type=_typed(_holdout_period, "0 or an integer above 1"),
                       default=10,
                       help="hold out every N-th row; 0: none (default: 10)")  # fmt: skip
    build.add_argument("--buckets", type=positive, default=None,
                       help="training buckets (default: one per 64 MiB, at least 32)")  # fmt: skip
    build.add_argument("--seed", type=_typed(_non_negative_int, "a non-negative integer"),
                       default=0, help="seeds the buckets rows go to (default: 0)")  # fmt: skip
    build.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                       help="the values' type (default: float32)")  # fmt: skip
    build.add_argument("--n-features", type=positive, default=None,
                       help="the feature count (default: the largest index plus one)")  # fmt: skip
    build.add_argument("--zero-based", choices=["auto", "yes", "no"], default="auto",
                       help="whether indices start at 0 (default: auto, from the first "
                       "block)")  # fmt: skip
    info = actions.add_parser("info", help="describe a training cache",
                              formatter_class=_Formatter)  # fmt: skip
    info.add_argument("directory", help="the cache folder")
    for sub in (build, info):
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help=debug_help)  # fmt: skip
    run_cache.set_defaults(handler=cache_command)

    run_compile = command(
        "compile", "compile every kernel into Numba's cache, ahead of the first fit",
        "Compile the kernels that fits of the named configurations call (default: every "
        "configuration but the hogwild ones), for each dtype, dense and CSR input, with and "
        "without sample weights, into Numba's on-disk cache (NUMBA_CACHE_DIR if set, else "
        "__pycache__ beside fastsgd's sources). Afterwards a first fit loads its kernels "
        "instead of compiling them: run it in a Docker image build or a CI cache step.",
    )  # fmt: skip
    from fastsgd._precompile import CONFIGURATIONS, DTYPES

    run_compile.add_argument(
        "configurations", nargs="*", metavar="CONFIGURATION",
        help=f"among {', '.join(CONFIGURATIONS)} (default: all but the hogwild ones)",
    )  # fmt: skip
    run_compile.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES),
                             help="the input dtypes (default: float64 float32)")  # fmt: skip
    run_compile.add_argument("--dense-only", action="store_true",
                             help="skip the CSR variants (default: off)")  # fmt: skip
    run_compile.add_argument("--no-weights", action="store_true",
                             help="skip the sample_weight variants (default: off)")  # fmt: skip
    run_compile.add_argument(
        "--n-jobs", type=_typed(_positive_int, "a positive integer"), default=None,
        help="worker processes that share the compiling (default: one, this process)",
    )  # fmt: skip
    run_compile.add_argument("--quiet", action="store_true",
                             help="no progress bar (default: off)")  # fmt: skip
    run_compile.set_defaults(handler=compile_kernels)
    return parser


@contextmanager
def _warnings_as_lines(prog: str) -> Iterator[None]:
    """Print each warning as one line, ``<prog>: warning: <Category>: <message>``, through
    tqdm so that a progress bar stays whole; the previous handler comes back afterwards."""
    from tqdm.auto import tqdm

    def show(message, category, filename, lineno, file=None, line=None):
        text = f"{prog}: warning: {category.__name__}: {_one_line(str(message))}"
        tqdm.write(text, file=sys.stderr)

    with warnings.catch_warnings():  # restores warnings.showwarning on the way out
        warnings.showwarning = show
        yield


def _exit(prog: str, error: CommandError) -> NoReturn:
    line = f"{prog}: error: {_one_line(str(error))}"
    if error.status == 1:
        raise SystemExit(line)  # Python prints it on stderr, exit status 1
    print(line, file=sys.stderr)
    raise SystemExit(error.status)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; returns its exit status (0).

    An error ends the run with ``SystemExit`` and one line on stderr,
    ``fastsgd <command>: error: ...``: status 2 for a usage error (printed here), 1 for a file,
    data or training error or an unexpected exception (the message is SystemExit's code, which
    Python prints). ``--debug`` prints the Python traceback before that line.
    """
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            raise CommandError(
                f"unrecognized arguments: {' '.join(extras)}", 2, f"fastsgd {args.command}"
            )
    except CommandError as error:
        _exit(error.prog or "fastsgd", error)
    prog = f"fastsgd {args.command}"
    try:
        with _warnings_as_lines(prog):
            return args.handler(args)
    except SystemExit:
        raise
    except BrokenPipeError:
        # the reader of stdout is gone (| head): stop quietly, as Python's documentation advises
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):  # no file descriptor to redirect
            pass
        raise SystemExit(1) from None
    except (Exception, KeyboardInterrupt) as error:
        if args.debug:  # the traceback, then the line and the exit status as without --debug
            traceback.print_exc()
        if isinstance(error, KeyboardInterrupt):
            print(f"{prog}: interrupted", file=sys.stderr)
            raise SystemExit(130) from None
        if not isinstance(error, CommandError):  # unexpected: named by its type
            hint = "" if args.debug else " (run again with --debug to see the traceback)"
            error = CommandError(f"{type(error).__name__}: {error}{hint}")
        _exit(prog, error)


if __name__ == "__main__":
    sys.exit(main())
