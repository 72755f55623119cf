"""Bad input gets a ValueError or TypeError that names the problem, from every estimator.

Never a numba typing error, an out-of-bounds access or a silently NaN model: each case in
``CASES`` (one explicit, countable list) asserts the exception type AND a fragment of its message
that names the argument and what is wrong with it. The reference for the wording is
scikit-learn's own validation (``validate_data``, ``InvalidParameterError`` from
``_parameter_constraints``, ``NotFittedError``), which the estimators keep where it is clear, and
fastsgd's messages where scikit-learn has none (malformed CSR, non-numeric dtypes, initial
weights, partial_fit's classes).

NaN or inf in X is deliberately not looked for before training (a full extra pass over X); the
divergence check after each epoch finds it and names X. The NaN-state test below runs that on
every kernel path (plain, penalized and averaged, CSR, the net per sample and in batches, both
parallel strategies, the sweep) for fit, warm start and partial_fit, and checks that the
estimator keeps the state it had before the call. A pandas DataFrame's columns are checked one
dtype each (``PANDAS_CASES``, skipped without pandas).
"""

from collections import namedtuple

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedShuffleSplit

from fastsgd import LogisticRegression, LogisticRegressionSweep, TwoLayerNet

rng = np.random.default_rng(0)
X = rng.standard_normal((80, 4))
Y = (X[:, 0] + 0.5 * rng.standard_normal(80) > 0).astype(np.int64)
Y3 = rng.integers(0, 3, 80)
CSR = sp.csr_matrix(np.where(X > 0, X, 0.0))


def with_value(a, row, column, value):
    a = np.array(a, dtype=np.result_type(a, value))
    a[row, column] = value
    return a


def labels_with(value):
    y = Y.astype(np.float64)
    y[3] = value
    return y


def bad_csr(indices=None, indptr=None):
    """CSR's own arrays with one of them broken; scipy builds such a matrix without a word."""
    return sp.csr_matrix(
        (CSR.data, CSR.indices if indices is None else indices,
         CSR.indptr if indptr is None else indptr),
        shape=CSR.shape,
    )  # fmt: skip


def out_of_range_indices(value):
    indices = CSR.indices.copy()
    indices[5] = value
    return indices


def decreasing_indptr():
    indptr = CSR.indptr.copy()
    indptr[10] = indptr[12] + 1
    return indptr


X_NAN = with_value(X, 37, 1, np.nan)
X_INF = with_value(X, 37, 1, np.inf)


def held_out_row(validation_fraction=0.2):
    """A row that early stopping holds out (never trains on) with random_state=0."""
    split = StratifiedShuffleSplit(test_size=validation_fraction, random_state=0)
    return next(split.split(X, Y))[1][0]


X_NAN_HELD_OUT = with_value(X, held_out_row(), 2, np.nan)

ESTIMATORS = {
    "logistic": lambda: LogisticRegression(max_iter=3, tol=None, random_state=0),
    "logistic-penalized": lambda: LogisticRegression(
        penalty="elasticnet",
        average=True,
        learning_rate="invscaling",
        eta0=0.05,
        max_iter=3,
        tol=None,
        random_state=0,
    ),
    "net": lambda: TwoLayerNet(n_hidden=3, max_iter=3, tol=None, random_state=0),
    "sweep": lambda: LogisticRegressionSweep(
        eta0s=(0.01, 0.1), max_iter=3, tol=None, random_state=0
    ),
}
ALL = tuple(ESTIMATORS)
LINEAR = ("logistic", "logistic-penalized")
INCREMENTAL = ("logistic", "logistic-penalized", "net")
DENSE_ONLY = ("net", "sweep")
EARLY_STOPPING = dict(early_stopping=True, validation_fraction=0.2, tol=1e-3)

# id, the estimators it applies to, call(estimator), exception type, message regex
Case = namedtuple("Case", "id estimators call error match")


def fit(X_=X, y_=Y, params=None, **fit_kwargs):
    """fit(X_, y_, **fit_kwargs) after set_params(**params)."""
    return lambda est: est.set_params(**(params or {})).fit(X_, y_, **fit_kwargs)


def after_fit(method, *args, **kwargs):
    """``method(*args, **kwargs)`` of the estimator fitted on (X, Y)."""
    return lambda est: getattr(est.fit(X, Y), method)(*args, **kwargs)


def partial(*calls):
    """partial_fit calls in a row; each is (X, y, keyword arguments)."""

    def run(est):
        for X_, y_, kwargs in calls:
            est.partial_fit(X_, y_, **kwargs)

    return run


# fmt: off
X_STRINGS = np.full((80, 4), "a", dtype=object)
X_DICTS = np.array([[{}] * 4] * 80, dtype=object)
DATES = np.zeros((80, 4), "datetime64[s]")
RAGGED = [[1.0, 2.0], [3.0]] * 40
FIT_CASES = [
    # non-finite values
    Case("X-nan", ALL, fit(X_NAN), ValueError, "Input X contains NaN"),
    Case("X-inf", ALL, fit(X_INF), ValueError, "Input X contains infinity"),
    Case("X-minus-inf", ALL, fit(with_value(X, 0, 0, -np.inf)), ValueError, "X contains inf"),
    Case("y-nan", ALL, fit(X, labels_with(np.nan)), ValueError, "Input y contains NaN"),
    Case("y-inf", ALL, fit(X, labels_with(np.inf)), ValueError, "Input y contains infinity"),
    # shapes and sizes
    Case("X-empty", ALL, fit(X[:0], Y[:0]), ValueError, r"0 sample\(s\)"),
    Case("X-zero-features", ALL, fit(X[:, :0]), ValueError, r"0 feature\(s\)"),
    Case("X-1d", ALL, fit(X[:, 0]), ValueError, "Expected 2D array, got 1D array"),
    Case("X-3d", ALL, fit(X[:, :, None]), ValueError, "dim 3"),
    Case("X-none", ALL, fit(None), ValueError, "Expected 2D array, got scalar"),
    Case("X-y-lengths", ALL, fit(X, Y[:40]), ValueError, r"inconsistent .* samples: \[80, 40\]"),
    Case("y-none", ALL, fit(X, None), ValueError, "requires y to be passed"),
    # the labels
    Case("y-single-class", ALL, fit(X, np.ones(80)), ValueError, "only one class"),
    Case("y-continuous", ALL, fit(X, np.linspace(0, 1, 80)), ValueError, "label type: continuous"),
    Case(
        "y-multi-output", ("logistic", "logistic-penalized", "sweep"), fit(X, np.c_[Y, Y]),
        ValueError, "y should be a 1d array",
    ),
    Case(
        "y-one-hot", ("logistic", "logistic-penalized", "sweep"), fit(X, np.eye(3)[Y3]),
        ValueError, "y should be a 1d array",
    ),
    # the net takes a multilabel indicator y, and nothing else with several columns
    Case(
        "y-multi-output-not-indicator", ("net",), fit(X, np.c_[Y, 2 * Y]), ValueError,
        "must be a multilabel indicator matrix",
    ),
    Case("y-complex", ALL, fit(X, Y + 1j), ValueError, "Complex data not supported"),
    Case("y-mixed", ALL, fit(X, np.array([0, "a"] * 40, object)), ValueError, "Unknown label type"),
    # dtypes of X
    Case("X-complex", ALL, fit(X + 1j), ValueError, "Complex data not supported: X has dtype"),
    Case("X-strings", ALL, fit(X.astype(str)), ValueError, r"X has dtype <U\d+ \(strings\)"),
    Case("X-bytes", ALL, fit(X.astype("S8")), ValueError, r"X has dtype \|S8 \(bytes\)"),
    Case("X-dates", ALL, fit(DATES), ValueError, r"X has dtype datetime64\[s\] \(dates\)"),
    Case("X-time-spans", ALL, fit(DATES - DATES), ValueError, r"\(time spans\)"),
    Case("X-records", ALL, fit(np.zeros((80, 4), "f8,f8")), ValueError, r"\(structured records\)"),
    Case("X-object-strings", ALL, fit(X_STRINGS), ValueError, "X cannot be read as .* numbers"),
    Case("X-object-dict", ALL, fit(X_DICTS), TypeError, "X cannot be read as .* numbers"),
    Case("X-list-of-strings", ALL, fit([["a", "b"]] * 80), ValueError, "X cannot be read as"),
    Case("X-ragged", ALL, fit(RAGGED), ValueError, "X cannot be read as .*inhomogeneous shape"),
    # sparse input
    Case("csr-to-dense-only", DENSE_ONLY, fit(CSR), TypeError, "Sparse data was passed for X"),
    Case("csc-to-dense-only", DENSE_ONLY, fit(CSR.tocsc()), TypeError, "Sparse data .* for X"),
    Case(
        "csr-index-past-last-column", LINEAR, fit(bad_csr(out_of_range_indices(4))), ValueError,
        r"X is not a valid CSR matrix: it stores column indices outside \[0, 4\)",
    ),
    Case(
        "csr-index-huge", LINEAR, fit(bad_csr(out_of_range_indices(10**9))), ValueError,
        "column indices outside",
    ),
    Case(
        "csr-index-negative", LINEAR, fit(bad_csr(out_of_range_indices(-1))), ValueError,
        "column indices outside",
    ),
    Case(
        "csr-indptr-decreasing", LINEAR, fit(bad_csr(indptr=decreasing_indptr())), ValueError,
        "X is not a valid CSR matrix: its indptr",
    ),
    Case("csr-nan", LINEAR, fit(sp.csr_matrix(X_NAN)), ValueError, "Input X contains NaN"),
    Case("csr-inf", LINEAR, fit(sp.csr_matrix(X_INF)), ValueError, "Input X contains infinity"),
    Case("csr-complex", LINEAR, fit(sp.csr_matrix(X + 1j)), ValueError, "Complex data .*: X has"),
    # early stopping never trains on its held-out rows: NaN there is caught by their scores
    Case(
        "X-nan-in-held-out-row", INCREMENTAL, fit(X_NAN_HELD_OUT, params=EARLY_STOPPING),
        ValueError, "Input X contains NaN",
    ),
    Case(
        "csr-nan-in-held-out-row", LINEAR,
        fit(sp.csr_matrix(X_NAN_HELD_OUT), params=EARLY_STOPPING), ValueError,
        "Input X contains NaN",
    ),
    # too few samples to split
    Case(
        "early-stopping-3-samples", INCREMENTAL, fit(X[:3], [0, 1, 1], params=EARLY_STOPPING),
        ValueError, "early_stopping cannot split 3 samples",
    ),
    Case(
        "sweep-2-samples", ("sweep",), fit(X[:2], [0, 1]), ValueError,
        "needs a training and a validation part: 2 samples are too few",
    ),
]

SAMPLE_WEIGHT_CASES = [
    Case(
        "sample_weight-nan", LINEAR, fit(sample_weight=labels_with(np.nan) + 1), ValueError,
        "Input sample_weight contains NaN",
    ),
    Case(
        "sample_weight-inf", LINEAR, fit(sample_weight=labels_with(np.inf) + 1), ValueError,
        "Input sample_weight contains infinity",
    ),
    Case(
        "sample_weight-length", LINEAR, fit(sample_weight=np.ones(40)), ValueError,
        r"sample_weight.shape == \(40,\), expected \(80,\)",
    ),
    Case(
        "sample_weight-2d", LINEAR, fit(sample_weight=np.ones((80, 2))), ValueError,
        "Sample weights must be 1D array or scalar",
    ),
    Case(
        "sample_weight-strings", LINEAR, fit(sample_weight=np.full(80, "a")), ValueError,
        r"sample_weight has dtype <U1 \(strings\)",
    ),
    Case(
        "sample_weight-object-strings", LINEAR, fit(sample_weight=X_STRINGS[:, 0]), ValueError,
        "sample_weight cannot be read as an array of numbers",
    ),
    Case(
        "sample_weight-complex", LINEAR, fit(sample_weight=np.ones(80) + 1j), ValueError,
        "Complex data not supported: sample_weight",
    ),
    Case(
        "sample_weight-all-zero", LINEAR, fit(sample_weight=np.zeros(80)), ValueError,
        "Sample weights must contain at least one non-zero",
    ),
    Case(
        "sample_weight-partial_fit-length", LINEAR,
        partial((X, Y, dict(classes=[0, 1], sample_weight=np.ones(3)))), ValueError,
        r"sample_weight.shape == \(3,\)",
    ),
    Case(
        "sample_weight-net-partial_fit-length", ("net",),
        partial((X, Y, dict(classes=[0, 1], sample_weight=np.ones(3)))), ValueError,
        r"sample_weight.shape == \(3,\)",
    ),
    Case(
        "sample_weight-sweep-fit", ("sweep",), fit(sample_weight=np.ones(80)), TypeError,
        "unexpected keyword argument 'sample_weight'",
    ),
]

NET_LAYERS = [np.zeros((4, 3)), np.zeros((3, 1))]
INIT_CASES = [
    Case(
        "coef_init-shape", LINEAR, fit(coef_init=np.zeros(5)), ValueError,
        r"coef_init has shape \(5,\); expected \(1, 4\) or \(4,\)",
    ),
    Case(
        "coef_init-shape-multiclass", LINEAR, fit(X, Y3, coef_init=np.zeros(4)), ValueError,
        r"coef_init has shape \(4,\); expected \(3, 4\)",
    ),
    Case(
        "coef_init-3d", LINEAR, fit(coef_init=np.zeros((1, 1, 4))), ValueError,
        r"coef_init has shape \(1, 1, 4\)",
    ),
    Case(
        "coef_init-nan", LINEAR, fit(coef_init=np.full(4, np.nan)), ValueError,
        "coef_init contains NaN or infinity",
    ),
    Case(
        "coef_init-strings", LINEAR, fit(coef_init=np.full(4, "a")), ValueError,
        r"coef_init has dtype <U1 \(strings\)",
    ),
    Case(
        "coef_init-complex", LINEAR, fit(coef_init=np.ones(4) + 1j), ValueError,
        "Complex data not supported: coef_init",
    ),
    Case(
        "coef_init-ragged", LINEAR, fit(coef_init=[[1.0, 2.0], [3.0]]), ValueError,
        "coef_init cannot be read as an array of numbers",
    ),
    Case(
        "intercept_init-shape", LINEAR, fit(intercept_init=np.zeros(2)), ValueError,
        r"intercept_init has shape \(2,\); expected \(1,\)",
    ),
    Case(
        "intercept_init-inf", LINEAR, fit(intercept_init=[np.inf]), ValueError,
        "intercept_init contains NaN or infinity",
    ),
    Case(
        "intercept_init-string", LINEAR, fit(intercept_init="a"), ValueError,
        r"intercept_init has dtype <U1 \(strings\)",
    ),
    Case(
        "coefs_init-layer-shape", ("net",), fit(coefs_init=[np.zeros((5, 3)), NET_LAYERS[1]]),
        ValueError, r"coefs_init\[0\] has shape \(5, 3\); expected \(4, 3\)",
    ),
    Case(
        "coefs_init-not-a-list", ("net",), fit(coefs_init=5), TypeError,
        r"coefs_init must be a list of two arrays \(one per layer\), got int",
    ),
    Case(
        "coefs_init-three-layers", ("net",), fit(coefs_init=[*NET_LAYERS, 0]), ValueError,
        "coefs_init must be a list of two arrays, got 3",
    ),
    Case(
        "coefs_init-complex", ("net",), fit(coefs_init=[NET_LAYERS[0] + 1j, NET_LAYERS[1]]),
        ValueError, r"Complex data not supported: coefs_init\[0\]",
    ),
    Case(
        "coefs_init-ragged", ("net",), fit(coefs_init=[[[1.0], [2.0, 3.0]], NET_LAYERS[1]]),
        ValueError, r"coefs_init\[0\] cannot be read as an array of numbers",
    ),
    Case(
        "intercepts_init-shape", ("net",), fit(intercepts_init=[np.zeros(2), np.zeros(1)]),
        ValueError, r"intercepts_init\[0\] has shape \(2,\); expected \(3,\)",
    ),
    Case(
        "intercepts_init-inf", ("net",), fit(intercepts_init=[np.zeros(3), [np.inf]]),
        ValueError, r"intercepts_init\[1\] contains NaN or infinity",
    ),
]

BINARY = dict(classes=[0, 1])
ROUNDED = np.round(X[:, 0], 1)  # continuous labels
PARTIAL_FIT_CASES = [
    Case(
        "partial_fit-no-classes", INCREMENTAL, partial((X, Y, {})), ValueError,
        "classes must be passed on the first call to partial_fit",
    ),
    Case(
        "partial_fit-classes-continuous", INCREMENTAL,
        partial((X, ROUNDED, dict(classes=np.unique(ROUNDED)))), ValueError,
        "classes must hold discrete class labels: Unknown label type: continuous",
    ),
    Case(
        "partial_fit-classes-nan", INCREMENTAL, partial((X, Y, dict(classes=[0, 1, np.nan]))),
        ValueError, "classes contains NaN or infinity",
    ),
    Case(
        "partial_fit-classes-2d", INCREMENTAL, partial((X, Y, dict(classes=[[0, 1], [2, 3]]))),
        ValueError, r"classes must be a 1-D array of labels; got shape \(2, 2\)",
    ),
    Case(
        "partial_fit-classes-scalar", INCREMENTAL, partial((X, Y, dict(classes=1))), ValueError,
        r"classes must be a 1-D array of labels; got shape \(\)",
    ),
    Case(
        "partial_fit-single-class", INCREMENTAL, partial((X, np.zeros(80), dict(classes=[0]))),
        ValueError, "only one class",
    ),
    Case(
        "partial_fit-label-not-in-classes", INCREMENTAL, partial((X, Y + 5, BINARY)),
        ValueError, r"y contains labels \[5, 6\] that are not in classes \[0, 1\]",
    ),
    Case(
        "partial_fit-classes-change", INCREMENTAL,
        partial((X, Y, BINARY), (X, Y, dict(classes=[0, 1, 2]))), ValueError,
        "differs from the classes",
    ),
    Case(
        "partial_fit-n_features-change", INCREMENTAL, partial((X, Y, BINARY), (X[:, :2], Y, {})),
        ValueError, "X has 2 features, but .* is expecting 4 features",
    ),
    Case(
        "partial_fit-nan-X", INCREMENTAL, partial((X_NAN, Y, BINARY)), ValueError,
        "Input X contains NaN",
    ),
    Case(
        "partial_fit-nan-y", INCREMENTAL, partial((X, labels_with(np.nan), BINARY)), ValueError,
        "Input y contains NaN",
    ),
    Case(
        "partial_fit-empty", INCREMENTAL, partial((X[:0], Y[:0], BINARY)), ValueError,
        r"0 sample\(s\)",
    ),
    Case(
        "partial_fit-csr-to-net", ("net",), partial((CSR, Y, BINARY)), TypeError,
        "Sparse data was passed for X",
    ),
    Case(
        "partial_fit-csr-out-of-range", LINEAR,
        partial((bad_csr(out_of_range_indices(7)), Y, BINARY)), ValueError,
        "column indices outside",
    ),
    Case(
        "partial_fit-balanced", ("logistic",),
        lambda est: est.set_params(class_weight="balanced").partial_fit(X, Y, classes=[0, 1]),
        ValueError, "class_weight 'balanced' is not supported for partial_fit",
    ),
    Case(
        "partial_fit-sweep", ("sweep",), partial((X, Y, BINARY)), AttributeError,
        "has no attribute 'partial_fit'",
    ),
]

X_WIDE = np.hstack([X, X])
PREDICT_CASES = []
for method in ("predict", "predict_proba", "predict_log_proba", "decision_function", "score"):
    owners = (*LINEAR, "sweep") if method == "decision_function" else ALL
    dense_only = ("sweep",) if method == "decision_function" else DENSE_ONLY
    y_ = (Y,) if method == "score" else ()  # score's second argument
    PREDICT_CASES += [
        Case(
            f"{method}-unfitted", owners, lambda est, m=method, e=y_: getattr(est, m)(X, *e),
            NotFittedError, "is not fitted yet",
        ),
        Case(f"{method}-X-nan", owners, after_fit(method, X_NAN, *y_), ValueError, "X .* NaN"),
        Case(f"{method}-X-inf", owners, after_fit(method, X_INF, *y_), ValueError, "X .* inf"),
        Case(
            f"{method}-n_features", owners, after_fit(method, X_WIDE, *y_), ValueError,
            "X has 8 features, but .* is expecting 4 features",
        ),
        Case(
            f"{method}-X-empty", owners, after_fit(method, X[:0], *(y[:0] for y in y_)),
            ValueError, r"0 sample\(s\)",
        ),
        Case(
            f"{method}-X-complex", owners, after_fit(method, X + 1j, *y_), ValueError,
            "Complex data not supported: X",
        ),
        Case(
            f"{method}-X-strings", owners, after_fit(method, X.astype(str), *y_), ValueError,
            r"X has dtype <U\d+ \(strings\)",
        ),
        Case(
            f"{method}-X-object-strings", owners, after_fit(method, X_STRINGS, *y_), ValueError,
            "X cannot be read as an array of numbers",
        ),
        Case(
            f"{method}-X-1d", owners, after_fit(method, X[0], *(y[:1] for y in y_)), ValueError,
            "Expected 2D array, got 1D array",
        ),
        Case(
            f"{method}-csr-to-dense-only", dense_only, after_fit(method, CSR, *y_), TypeError,
            "Sparse data was passed for X",
        ),
    ]
PREDICT_CASES += [
    Case(
        "predict-csr-out-of-range", LINEAR, after_fit("predict", bad_csr(out_of_range_indices(4))),
        ValueError, "column indices outside",
    ),
    Case(
        "predict_proba-csr-nan", LINEAR, after_fit("predict_proba", sp.csr_matrix(X_NAN)),
        ValueError, "Input X contains NaN",
    ),
    Case(
        "score-y-length", ALL, after_fit("score", X, Y[:5]), ValueError,
        r"inconsistent numbers of samples: \[5, 80\]",
    ),
    Case(
        "score-sample_weight-nan", ALL,
        after_fit("score", X, Y, sample_weight=labels_with(np.nan)), ValueError,
        "Input sample_weight contains NaN",
    ),
    Case(
        "score-y-continuous", ALL, after_fit("score", X, np.linspace(0, 1, 80)), ValueError,
        "mix of continuous and binary targets",
    ),
    Case(
        "save-unfitted", ALL, lambda est: est.save("never-written.npz"), NotFittedError,
        "is not fitted yet",
    ),
    Case(
        "warm_start-other-features", INCREMENTAL,
        lambda est: est.set_params(warm_start=True).fit(X, Y).fit(X_WIDE, Y), ValueError,
        "warm_start cannot continue",
    ),
]

# A bad value for every public hyperparameter of every estimator (the test below checks that
# none is missing): each is refused by scikit-learn's _validate_params, naming the parameter.
BAD_VALUES = {
    "eta0": [0.0, -1.0, "fast", np.nan, np.inf, None],
    "learning_rate": ["sometimes", None],
    "max_iter": [0, 1.5, -1],
    "tol": [-1.0, np.nan, "small"],
    "n_iter_no_change": [0, 2.5],
    "shuffle": ["yes", None],
    "random_state": ["seed", -1, 1.5],
    "fit_intercept": [1, "yes"],
    "warm_start": [None, 0],
    "verbose": [-1, "loud"],
    "n_jobs": [1.5, "all"],
    "parallel": ["threads"],
    "n_shards": [0, 1.5, "many"],
    "penalty": ["l3", "none"],
    "alpha": [-1.0, np.inf, "strong"],
    "l1_ratio": [1.5, -0.1, np.nan],
    "power_t": [np.inf, "half"],
    "average": [-2, 0.5, "yes"],
    "class_weight": ["unbalanced", [1.0, 2.0]],
    "early_stopping": ["no", None],
    "validation_fraction": [0.0, 1.0, -0.5, np.nan],
    "n_hidden": [0, 2.5, None],
    "activation": ["softsign", None],
    "loss": ["hinge", None],
    "batch_size": [0, 1.5, "big"],
    "momentum": [-0.1, 1.5, "high"],
    "nesterovs_momentum": ["yes", None],
    "eta0s": ["fast", None, 0.1],
    "scoring": ["f1", None],
}
HYPERPARAMETER_CASES = [
    Case(
        f"{name}={value!r}", (key,), fit(params={name: value}), ValueError,
        rf"'{name}' parameter of {type(make()).__name__} must be",
    )
    for key, make in ESTIMATORS.items()
    for name in sorted(make().get_params())
    for value in BAD_VALUES[name]
]
FINITE_WEIGHT = "must give every class a finite weight"
POSITIVE_RATES = "eta0s must be a non-empty sequence of positive learning rates"
HYPERPARAMETER_CASES += [
    # values that pass the constraints but not the estimator's own checks
    Case("n_jobs=0", ALL, fit(params=dict(n_jobs=0)), ValueError, "n_jobs == 0 has no meaning"),
    Case(
        "optimal-alpha=0", ("logistic",), fit(params=dict(learning_rate="optimal", alpha=0.0)),
        ValueError, "alpha must be > 0 since learning_rate is 'optimal'",
    ),
    Case(
        "hogwild-penalized", ("logistic-penalized",),
        fit(params=dict(n_jobs=2, parallel="hogwild")), ValueError,
        "parallel='hogwild' trains only dense input with the plain logistic update",
    ),
    Case(
        "hogwild-csr", ("logistic",), fit(CSR, params=dict(n_jobs=2, parallel="hogwild")),
        ValueError, "parallel='hogwild' trains only dense input",
    ),
    Case(
        "learning_rate=optimal", ("net",), fit(params=dict(learning_rate="optimal")), ValueError,
        "'learning_rate' parameter of TwoLayerNet must be a str among",
    ),
    Case(
        "learning_rate=adaptive", ("sweep",), fit(params=dict(learning_rate="adaptive")),
        ValueError, "'learning_rate' parameter of LogisticRegressionSweep must be a str among",
    ),
    Case(
        "class_weight-nan", LINEAR, fit(params=dict(class_weight={0: np.nan})), ValueError,
        r"class_weight=\{0: nan\} " + FINITE_WEIGHT,
    ),
    Case(
        "class_weight-inf", LINEAR, fit(params=dict(class_weight={1: np.inf})), ValueError,
        FINITE_WEIGHT,
    ),
    Case(
        "class_weight-string", LINEAR, fit(params=dict(class_weight={0: "a"})), ValueError,
        r"class_weight=\{0: 'a'\}: could not convert string",
    ),
    Case(
        "class_weight-unknown-class", LINEAR, fit(params=dict(class_weight={5: 2.0})),
        ValueError, r"class_weight=\{5: 2.0\}: The classes, \[0, 1\], are not in class_weight",
    ),
    Case("eta0s-empty", ("sweep",), fit(params=dict(eta0s=[])), ValueError, POSITIVE_RATES),
    Case("eta0s-negative", ("sweep",), fit(params=dict(eta0s=[1, -1])), ValueError, POSITIVE_RATES),
    Case("eta0s-zero", ("sweep",), fit(params=dict(eta0s=[0.0])), ValueError, POSITIVE_RATES),
    Case("eta0s-nan", ("sweep",), fit(params=dict(eta0s=[np.nan])), ValueError, POSITIVE_RATES),
    Case("eta0s-strings", ("sweep",), fit(params=dict(eta0s=["a"])), ValueError, POSITIVE_RATES),
    Case("eta0s-complex", ("sweep",), fit(params=dict(eta0s=[1j])), ValueError, POSITIVE_RATES),
]
# fmt: on

CASES = [
    pytest.param(key, case.call, case.error, case.match, id=f"{key}:{case.id}")
    for case in (
        FIT_CASES + SAMPLE_WEIGHT_CASES + INIT_CASES + PARTIAL_FIT_CASES + PREDICT_CASES
        + HYPERPARAMETER_CASES
    )
    for key in case.estimators
]  # fmt: skip


@pytest.mark.parametrize(("key", "call", "error", "match"), CASES)
def test_bad_input_is_refused_with_a_clear_message(key, call, error, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # save-unfitted must not leave a file behind, anywhere
    estimator = ESTIMATORS[key]()
    with pytest.raises(error, match=match):
        call(estimator)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("key", ESTIMATORS)
def test_every_public_hyperparameter_has_a_constraint_and_a_bad_value(key):
    estimator = ESTIMATORS[key]()
    params = set(estimator.get_params())
    assert params <= set(type(estimator)._parameter_constraints), "unconstrained parameters"
    assert params <= set(BAD_VALUES), "parameters without a bad-value case above"


# -- NaN or inf in X on every kernel path: a clear error, and the previous model stays ---------

PATHS = {
    "logistic-plain": (lambda: LogisticRegression(max_iter=2, tol=None, random_state=0), X),
    "logistic-multiclass": (lambda: LogisticRegression(max_iter=2, tol=None, random_state=0), X),
    "logistic-l1": (
        lambda: LogisticRegression(penalty="l1", alpha=0.01, max_iter=2, tol=None, random_state=0),
        X,
    ),
    "logistic-elasticnet-averaged": (ESTIMATORS["logistic-penalized"], X),
    "logistic-class_weight": (
        lambda: LogisticRegression(class_weight={0: 2.0}, max_iter=2, tol=None, random_state=0),
        X,
    ),
    "logistic-csr": (lambda: LogisticRegression(max_iter=2, tol=None, random_state=0), CSR),
    "logistic-l1-averaged-csr": (
        lambda: LogisticRegression(
            penalty="l1", alpha=0.01, average=True, max_iter=2, tol=None, random_state=0
        ),
        CSR,
    ),
    "logistic-average": (
        lambda: LogisticRegression(
            parallel="average", n_jobs=2, max_iter=2, tol=None, random_state=0
        ),
        X,
    ),
    "logistic-hogwild": (
        lambda: LogisticRegression(
            n_jobs=2, parallel="hogwild", max_iter=2, tol=None, random_state=0
        ),
        X,
    ),
    "net-relu": (ESTIMATORS["net"], X),
    "net-tanh-batched": (
        lambda: TwoLayerNet(
            n_hidden=3, activation="tanh", batch_size=8, max_iter=2, tol=None, random_state=0
        ),
        X,
    ),
    "net-logistic-squared": (
        lambda: TwoLayerNet(
            n_hidden=3,
            activation="logistic",
            loss="squared_error",
            max_iter=2,
            tol=None,
            random_state=0,
        ),
        X,
    ),
    "net-average": (
        lambda: TwoLayerNet(
            n_hidden=3, parallel="average", n_jobs=2, max_iter=2, tol=None, random_state=0
        ),
        X,
    ),
    "net-hogwild": (
        lambda: TwoLayerNet(
            n_hidden=3, n_jobs=2, parallel="hogwild", max_iter=2, tol=None, random_state=0
        ),
        X,
    ),
    "sweep": (ESTIMATORS["sweep"], X),
    "sweep-average": (
        lambda: LogisticRegressionSweep(
            eta0s=(0.01, 0.1),
            parallel="average",
            n_jobs=2,
            max_iter=2,
            tol=None,
            random_state=0,
        ),
        X,
    ),
}


def snapshot(estimator):
    """Every attribute of the estimator, arrays copied."""
    state = {}
    for name, value in vars(estimator).items():
        if isinstance(value, np.ndarray):
            value = value.copy()
        elif isinstance(value, list):
            value = [v.copy() if isinstance(v, np.ndarray) else v for v in value]
        state[name] = value
    return state


def assert_same_state(estimator, before):
    after = vars(estimator)
    assert set(after) == set(before)
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value, err_msg=name)
        elif isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            for a, b in zip(after[name], value, strict=True):
                np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            assert after[name] == value, name


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize("call", ["fit", "warm_start", "partial_fit"])
@pytest.mark.parametrize("path", PATHS)
def test_non_finite_X_keeps_the_previous_model(path, call, bad):
    make, data = PATHS[path]
    if call == "partial_fit" and path.startswith("sweep"):
        pytest.skip("the sweep has no partial_fit")
    y = Y3 if path == "logistic-multiclass" else Y
    estimator = make().fit(data, y)
    if call == "warm_start":
        estimator.set_params(warm_start=True)
    before = snapshot(estimator)
    row = 37  # a training row or a held-out one of the sweep: both are checked
    if sp.issparse(data):
        bad_data = data.tolil()
        bad_data[row, 1] = bad
        bad_data = bad_data.tocsr()
    else:
        bad_data = with_value(data, row, 1, bad)
    message = "Input X contains NaN" if np.isnan(bad) else "Input X contains infinity"
    with pytest.raises(ValueError, match=message):
        if call == "partial_fit":
            estimator.partial_fit(bad_data, y)
        else:
            estimator.fit(bad_data, y)
    assert_same_state(estimator, before)
    estimator.predict(data)  # still usable


# -- pandas: a DataFrame's columns are checked one dtype each -------------------------------------

# id, column "f0" replaced by (a function of pandas), exception type, message regex
PANDAS_CASES = [
    ("dates", lambda pd: pd.date_range("2020-01-01", periods=80), ValueError,
     r"X column 'f0' has dtype datetime64\[.*\] \(dates\)"),
    ("dates-with-time-zone", lambda pd: pd.date_range("2020-01-01", periods=80, tz="UTC"),
     ValueError, r"X column 'f0' has dtype datetime64\[.*, UTC\] \(dates\)"),
    ("time-spans", lambda pd: pd.to_timedelta(np.arange(80), unit="s"), ValueError,
     r"X column 'f0' has dtype timedelta64\[.*\] \(time spans\)"),
    ("strings-of-numbers", lambda pd: pd.Series(X[:, 0].astype(str), dtype="string"),
     ValueError, r"X column 'f0' has dtype string \(strings\)"),
    ("complex", lambda pd: X[:, 0] + 1j, ValueError,
     "Complex data not supported: X column 'f0' has dtype complex128"),
    ("categories-of-strings", lambda pd: pd.Categorical(["x", "y"] * 40), ValueError,
     "X cannot be read as an array of numbers: could not convert string to float"),
    ("periods", lambda pd: pd.period_range("2020-01-01", periods=80, freq="D"), TypeError,
     "X cannot be read as an array of numbers"),
    ("missing-values", lambda pd: pd.array([None] + [1] * 79, dtype="Int64"), ValueError,
     "Input X contains NaN"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("column", "error", "match"),
    [pytest.param(*case[1:], id=case[0]) for case in PANDAS_CASES],
)
@pytest.mark.parametrize("key", ESTIMATORS)
def test_bad_dataframe_columns_are_refused(key, column, error, match):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(4)])
    frame["f0"] = column(pd)
    with pytest.raises(error, match=match):
        ESTIMATORS[key]().fit(frame, pd.Series(Y))
    fitted = ESTIMATORS[key]().fit(frame.assign(f0=X[:, 0]), Y)
    with pytest.raises(error, match=match):
        fitted.predict_proba(frame)
