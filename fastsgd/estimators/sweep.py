"""LogisticRegressionSweep: many learning rates trained in one pass, the best kept."""

from __future__ import annotations

from numbers import Real
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import _safe_indexing, assert_all_finite, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from fastsgd.estimators._base import kept_an_epoch
from fastsgd.estimators._labels import encode_labels
from fastsgd.estimators.logistic import LogisticRegression

DEFAULT_ETA0S = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)


def stratified_split(labels, fraction, random_state):
    """(train, validation) row indices, sorted; each class split in the given proportion.

    sklearn's train_test_split(stratify=...) took 0.23 s on 1e6 labels here, a third of a K=8
    sweep epoch at k=100; one permutation and one stable argsort by class code take ~0.06 s.
    """
    classes, codes = encode_labels(labels)
    counts = np.bincount(codes, minlength=classes.size)
    n_samples = labels.shape[0]
    # at least one row of each class on either side (a class seen once stays in training)
    held_out = np.clip(np.round(fraction * counts).astype(np.int64), 1, np.maximum(counts - 1, 0))
    if held_out.sum() == 0 or np.any(counts - held_out < 1):
        raise ValueError(
            f"LogisticRegressionSweep needs a training and a validation part: {n_samples} "
            f"samples are too few for validation_fraction={fraction!r} and {classes.size} "
            "classes."
        )
    permutation = check_random_state(random_state).permutation(n_samples)
    by_class = permutation[np.argsort(codes[permutation], kind="stable")]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    in_validation = np.zeros(n_samples, dtype=bool)
    for start, size in zip(starts, held_out, strict=True):
        in_validation[by_class[start : start + size]] = True
    return np.flatnonzero(~in_validation), np.flatnonzero(in_validation)


def _never(estimator):
    return False


class LogisticRegressionSweep(LogisticRegression):
    """Logistic regression for several learning rates at once, chosen on a validation split.

    In the style of ``sklearn.linear_model.LogisticRegressionCV``: ``fit`` holds out
    ``validation_fraction`` of the samples (stratified), trains one model per value of
    ``eta0s`` on the rest, and keeps the one with the best validation score. All settings are
    trained in the same pass over the data: the kernel updates the K = len(eta0s) x n_outputs
    weight vectors for every sample it reads (fastsgd.kernels.logistic_epoch's model block), so
    a sweep costs less than K separate fits, though more than one: 8 rates measured 1.9x
    (samples in order) to 4.1x (shuffled) faster than 8 LogisticRegression fits on 1e6 x 100
    float64 samples, the sweep training on its 90% split (bench/test_bench_parallel.py), and 9
    rates about 2x on a9a (the gallery's sweep example). Each setting stops on its own training
    loss (the ``tol`` rule); a stopped setting keeps its weights while the others train on.

    The sweep trains the plain update (no penalty, averaging, class weights or early stopping),
    and has no ``partial_fit``: it needs its validation split.

    Parameters
    ----------
    eta0s : sequence of float, default=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)
        The learning rates to try.
    validation_fraction : float in (0, 1), default=0.1
        The share of the samples held out (stratified) to choose the learning rate; never
        trained on.
    scoring : {'log_loss', 'accuracy'}, default='log_loss'
        How the validation split ranks the settings (lower log-loss or higher accuracy).
    learning_rate : {'constant'}, default='constant'
        The schedule; the sweep trains constant rates only.
    max_iter : int, default=1000
        The most epochs ``fit`` runs.
    tol : float or None, default=1e-3
        LogisticRegression's stopping rule, applied to each setting on its own training loss.
        None: run max_iter epochs.
    n_iter_no_change : int, default=5
        How many epochs in a row without improvement stop a setting.
    shuffle : bool, default=True
        Visit the training samples in a new random order each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and the shuffling.
    fit_intercept : bool, default=True
        Learn the intercepts.
    warm_start : bool, default=False
        ``fit`` starts every setting from its current weights (``coefs_path_`` and
        ``intercepts_path_``) instead of zeros.
    verbose : int, default=0
        Show a tqdm progress bar with the epoch and the running loss.
    n_jobs : int or None, default=None
        Threads of the ``parallel`` strategy, as in LogisticRegression.
    parallel : {'average', 'hogwild'} or None, default=None
        As in LogisticRegression.
    n_shards : int, default=4
        As in LogisticRegression.

    Attributes
    ----------
    eta0_ : float
        The chosen learning rate. ``coef_`` and ``intercept_`` are its model's weights.
    best_index_ : int
        The index of ``eta0_`` in ``eta0s``.
    coef_ : ndarray of shape (n_outputs, n_features)
        The chosen model's weights (n_outputs is 1 for two classes, else n_classes).
    intercept_ : ndarray of shape (n_outputs,)
        The chosen model's intercepts.
    validation_log_loss_ : ndarray of shape (len(eta0s),)
        Every setting's log-loss on the validation split.
    validation_accuracy_ : ndarray of shape (len(eta0s),)
        Every setting's accuracy on the validation split.
    coefs_path_ : ndarray of shape (len(eta0s), n_outputs, n_features)
        Every setting's weights.
    intercepts_path_ : ndarray of shape (len(eta0s), n_outputs)
        Every setting's intercepts.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        The number of features seen in ``fit``.
    n_iter_ : int
        Epochs run by the fit.
    t_ : float
        Training samples seen, plus one.
    loss_curve_ : list of float
        Each epoch's mean progressive training loss, averaged over the models still
        training in that epoch (every setting's one-vs-rest models that have not stopped).

    See Also
    --------
    LogisticRegression : One learning rate.
    sklearn.linear_model.LogisticRegressionCV : The same idea for scikit-learn's solvers.

    Notes
    -----
    Input and copies: dense X only (a sparse matrix raises a TypeError), converted by
    LogisticRegression's rules: a C-contiguous float32 or float64 array (read-only or an
    ``np.memmap`` included) is never copied; other layouts and dtypes are copied once per fit
    into a C-contiguous float32 (from float32) or float64 (from anything else) array. The
    validation rows are always copied once, to score the settings (``validation_fraction``
    of X). Nothing ever writes to X or y.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from fastsgd import LogisticRegressionSweep
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> sweep = LogisticRegressionSweep(eta0s=(0.001, 0.01, 0.1), random_state=0).fit(X, y)
    >>> sweep.validation_log_loss_.round(3)
    array([0.177, 0.138, 0.127])
    >>> sweep.eta0_, sweep.coefs_path_.shape
    (0.1, (3, 1, 5))
    >>> round(sweep.score(X, y), 3)
    0.955
    """

    _parameter_constraints: ClassVar[dict] = {
        **LogisticRegression._parameter_constraints,
        "eta0s": ["array-like"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "scoring": [StrOptions({"log_loss", "accuracy"})],
        "learning_rate": [StrOptions({"constant"})],
    }

    _accept_sparse = False  # the sweep trains dense input only, so far

    # The sweep trains the plain update only: LogisticRegression's other options keep these
    # values (they are not parameters of the sweep).
    penalty = None
    alpha = 1e-4
    l1_ratio = 0.15
    power_t = 0.5
    average = False
    class_weight = None
    early_stopping = False

    def __init__(
        self,
        *,
        eta0s=DEFAULT_ETA0S,
        validation_fraction: float = 0.1,
        scoring: str = "log_loss",
        learning_rate: str = "constant",
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 5,
        shuffle: bool = True,
        random_state=None,
        fit_intercept: bool = True,
        warm_start: bool = False,
        verbose: int = 0,
        n_jobs: int | None = None,
        parallel: str | None = None,
        n_shards: int = 4,
    ):
        self.eta0s = eta0s
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.parallel = parallel
        self.n_shards = n_shards

    def fit(self, X: ArrayLike, y: ArrayLike) -> LogisticRegressionSweep:
        """Train every setting on the training part in one pass per epoch; keep the best.

        On any error the estimator keeps the state it had before the call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples, dense (a sparse matrix raises a TypeError).
        y : array-like of shape (n_samples,)
            The class labels.

        Returns
        -------
        self : LogisticRegressionSweep
            The fitted estimator.
        """
        previous = dict(self.__dict__)
        try:
            self._validate_params()
            rates = self._rates()
            if y is None:  # scikit-learn's words, before the split reads y
                raise ValueError(
                    "This LogisticRegressionSweep estimator requires y to be passed, but the "
                    "target y is None."
                )
            labels = column_or_1d(np.asarray(y), warn=False)
            if labels.shape[0] == 0:
                raise ValueError(
                    "Found array with 0 sample(s): y is empty; LogisticRegressionSweep needs "
                    "samples of at least 2 classes."
                )
            train, validation = stratified_split(
                labels, self.validation_fraction, self.random_state
            )
            self._fit(
                X, y, max_iter=self.max_iter, classes=None, init=None, incremental=False,
                sample_indices=train,
            )  # fmt: skip
            self._score_settings(self._validation_rows(X, validation), labels[validation], rates)
        except BaseException as error:
            if kept_an_epoch(error):
                # the weights of the last finished epoch stay: rank them as a full fit would
                self._score_settings(
                    self._validation_rows(X, validation), labels[validation], rates
                )
                raise
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        return self

    @available_if(_never)
    def partial_fit(self, X, y, classes=None):  # a sweep needs its validation split
        """Not available: a sweep needs its validation split, which ``fit`` draws.

        ``hasattr(sweep, "partial_fit")`` is False (scikit-learn's ``available_if``), so that
        code which trains incrementally when it can calls ``fit`` instead.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Unused.
        y : array-like of shape (n_samples,)
            Unused.
        classes : array-like of shape (n_classes,), default=None
            Unused.
        """
        raise NotImplementedError

    # -- internals -------------------------------------------------------------------------

    def _validation_rows(self, X, validation):
        rows = X if hasattr(X, "iloc") else np.asarray(X)  # keep a DataFrame's names
        X_validation = self._validate_predict_data(_safe_indexing(rows, validation))
        # the kernel never reads the validation rows, so its divergence check cannot see bad
        # values there
        assert_all_finite(X_validation, input_name="X", estimator_name=type(self).__name__)
        return X_validation

    def _rates(self):
        try:
            values = np.asarray(self.eta0s)
            # numbers only: numpy would parse strings and drop imaginary parts without a word
            rates = values.astype(np.float64).reshape(-1) if values.dtype.kind in "iufO" else None
        except (TypeError, ValueError):
            rates = None
        if rates is None or rates.size == 0 or not np.all(np.isfinite(rates)) or np.any(rates <= 0):
            raise ValueError(
                f"eta0s must be a non-empty sequence of positive learning rates; got "
                f"{self.eta0s!r}."
            )
        return rates

    def _score_settings(self, X, y, rates):
        from sklearn.metrics import log_loss  # imported by a fit, not with the estimators

        scores = X @ self.coefs_path_.reshape(-1, X.shape[1]).T
        # in float64: sklearn's log_loss clips probabilities at their dtype's eps, which in
        # float32 caps a sample's loss near 15.9 and made float32 sweeps rank differently
        scores = np.asarray(scores, dtype=np.float64) + self.intercepts_path_.reshape(-1)
        n_outputs = self.intercepts_path_.shape[1]
        losses, accuracies = np.empty(rates.size), np.empty(rates.size)
        for setting in range(rates.size):
            columns = slice(setting * n_outputs, (setting + 1) * n_outputs)
            proba = self._proba_from_scores(scores[:, columns])
            losses[setting] = log_loss(y, proba, labels=self.classes_)
            accuracies[setting] = np.mean(self.classes_[proba.argmax(axis=1)] == y)
        self.validation_log_loss_ = losses
        self.validation_accuracy_ = accuracies
        ranking = losses if self.scoring == "log_loss" else -accuracies
        self.best_index_ = int(np.argmin(ranking))
        self.eta0_ = float(rates[self.best_index_])
        self.coef_ = self.coefs_path_[self.best_index_]
        self.intercept_ = self.intercepts_path_[self.best_index_]

    def _init_params(self, n_features, n_classes, dtype, rng, init):
        n_models = self._rates().size * self._n_outputs(n_classes)
        return [np.zeros((n_models, n_features), dtype=dtype), np.zeros(n_models, dtype=dtype)]

    def _get_params_arrays(self):
        n_features = self.coefs_path_.shape[2]
        return [self.coefs_path_.reshape(-1, n_features), self.intercepts_path_.reshape(-1)]

    def _set_params_arrays(self, params):
        coef, intercept = params
        n_settings = self._rates().size
        self.coefs_path_ = coef.reshape(n_settings, -1, coef.shape[1])
        self.intercepts_path_ = intercept.reshape(n_settings, -1)

    def _initial_rates(self, n_classes):
        return np.repeat(self._rates(), self._n_outputs(n_classes))

    def _n_stopping_units(self, n_classes):
        return self._rates().size * self._n_outputs(n_classes)

    def _work_per_sample(self, n_features, n_classes):
        return n_features * self._n_stopping_units(n_classes)

    def _positive_classes(self, n_models):
        n_settings = self._rates().size
        return np.tile(super()._positive_classes(n_models // n_settings), n_settings)

    def _rate_description(self):
        return f"The largest learning rate in eta0s={self.eta0s!r}"

    def _rate_advice(self):
        return (
            f"{self._rate_description()} is likely too large: drop it, or scale the features "
            "(for example with sklearn.preprocessing.StandardScaler)."
        )
