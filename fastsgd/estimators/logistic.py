"""LogisticRegression: per-sample SGD on the cross-entropy loss (handout section 39.1)."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import expit
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

from fastsgd.estimators._base import (
    SGDClassifierBase,
    as_float_array,
    explain_unreadable,
    refuse_non_numeric,
)
from fastsgd.kernels import logistic_epoch
from fastsgd.kernels.linear import (
    LEARNING_RATES,
    LinearSGDSettings,
    LinearSGDState,
    linear_sgd_epoch,
    linear_sgd_finish,
    optimal_init,
)
from fastsgd.parallel import logistic_epoch_average, logistic_epoch_hogwild

PARALLEL_KERNELS = {"average": logistic_epoch_average, "hogwild": logistic_epoch_hogwild}


@dataclass
class _Session:
    """What one fit/partial_fit call hands to every kernel call."""

    plain: bool  # the handout's update only: logistic_epoch and its parallel variants
    positive_class: np.ndarray
    class_weight: np.ndarray  # (K, 2): the factor for label 0 / 1 of each model
    weights: np.ndarray | None
    settings: LinearSGDSettings | None = None
    state: LinearSGDState | None = None
    validation_X: object = None


class LogisticRegression(SGDClassifierBase):
    """Logistic regression trained by per-sample stochastic gradient descent.

    Each epoch visits the samples once (in a fresh random order when ``shuffle``) and applies

        w <- w + eta0 * x * (y - s(w . x + b)),    b <- b + eta0 * (y - s(w . x + b))

    which is SGD on the cross-entropy loss. With ``fit_intercept=False``, ``shuffle=False`` and
    ``max_iter=1`` one fit is exactly the handout's update, sample by sample. More than two
    classes are trained one-vs-rest, all classes in the same pass over the data.

    The parameters keep the meaning they have in ``sklearn.linear_model.SGDClassifier`` with
    ``loss='log_loss'``: with the same settings, data and visiting order (``shuffle=False``)
    both compute the same model, for every penalty, schedule and averaging mode (tested to
    1e-8 relative in float64). Two defaults differ: ``penalty=None`` (SGDClassifier: 'l2') and
    ``learning_rate='constant'`` (SGDClassifier: 'optimal'), so that the default fit is the
    handout's update.

    Sparse input: CSR matrices with int32 or int64 indices (SGDClassifier takes int32 only).
    The kernels read and update only a row's stored entries, and the L2 shrink costs O(1) per
    sample (the weights are a scale times an array). With penalty None or 'l2', sparse and
    dense input give the same model (to rounding). 'l1' and 'elasticnet' truncate, as in
    SGDClassifier, only the weights of the features a sample contains: a dense row contains
    every feature, a sparse row its nonzeros, so the two differ there exactly as they do in
    SGDClassifier. Unlike SGDClassifier, the intercept step is never damped on sparse input
    (scikit-learn multiplies it by 0.01, ``SPARSE_INTERCEPT_DECAY``): sparse input gives the
    model that SGDClassifier gives on the dense copy.

    Input and copies: nothing ever writes to X, y, sample_weight or the initial weights.
    A C-contiguous float32 or float64 array (read-only or an ``np.memmap`` included) is used as
    it is, never copied, and the weights take its dtype. Other dense input is converted once
    per call into a C-contiguous copy, because the kernels walk X row by row: float32 in either
    byte order becomes native float32; float64 in another layout (Fortran order, a strided
    slice, big-endian) and every other numeric dtype (int, bool, float16, long double) become
    float64, scikit-learn's rule, so the model is the one of ``X.astype(np.float64)``; a pandas
    DataFrame is read through ``np.asarray`` by the same rule. Strings, bytes, dates, complex
    numbers and structured arrays are refused. A CSR matrix of float32 or float64 is used as it
    is; CSC, COO and other formats are converted to CSR, other data dtypes to float64, and
    column indices outside the matrix's shape are refused. A CSR matrix with unsorted or
    duplicate column indices trains the model of its canonical form (sorted, duplicates summed):
    without a penalty it is used as it is, as the update is linear in x (the same model to
    rounding); with a penalty, which truncates and measures the weights once per stored entry,
    it is first replaced by a canonical copy (scipy's ``sum_duplicates`` on a copy; the caller's
    matrix is left as it is), and then the model is exactly the canonical matrix's.
    ``early_stopping`` copies its held-out rows once per fit.

    Parameters
    ----------
    eta0 : float, default=0.01
        The learning rate of 'constant', the initial one of 'invscaling' and 'adaptive'.
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive'}, default='constant'
        SGDClassifier's schedules, by the number t of samples seen (from 1): 'constant' eta0;
        'optimal' 1 / (alpha (t0 + t - 1)) with Bottou's t0 heuristic; 'invscaling'
        eta0 / t**power_t; 'adaptive' eta0, divided by 5 each time the stopping rule fires
        (until it is below 1e-6, when training stops).
    penalty : {'l2', 'l1', 'elasticnet'} or None, default=None
        The regularization: alpha/2 ||w||^2, alpha ||w||_1 by cumulative truncated gradient
        (Tsuruoka et al. 2009), or their mix by ``l1_ratio``. The intercept is not penalized.
    alpha : float, default=1e-4
        The penalty's strength; also sets the 'optimal' schedule.
    l1_ratio : float, default=0.15
        The L1 share of 'elasticnet'.
    power_t : float, default=0.5
        The exponent of 'invscaling'.
    average : bool or int, default=False
        Averaged SGD: coef_ and intercept_ are the mean of the weights over every step from
        sample number ``average`` on (True: 1), kept lazily (Bottou 2012) so that a sparse step
        stays O(nnz). The plain SGD weights go on training underneath.
    class_weight : dict, 'balanced' or None, default=None
        Multiplies the steps of each class's samples (one-vs-rest: the model of class c
        weighs its positive samples by class_weight[c] and the rest by 1, as SGDClassifier).
        'balanced': n_samples / (n_classes * count(class)); not for partial_fit.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training rows, never train on
        them, and stop on their accuracy instead of the training objective (per one-vs-rest
        model, as SGDClassifier).
    validation_fraction : float, default=0.1
    max_iter : int, default=1000
        The most epochs ``fit`` runs.
    tol : float or None, default=1e-3
        SGDClassifier's stopping rule: an epoch whose mean objective (log-loss plus penalty)
        is not below the best so far minus ``tol`` (or, with early_stopping, whose validation
        accuracy is not above the best plus ``tol``) counts; ``n_iter_no_change`` of them in a
        row stop training. None: run max_iter epochs.
    n_iter_no_change : int, default=5
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch. X itself is never reordered.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling.
    fit_intercept : bool, default=True
        Learn the intercept. When False the intercept stays at its initial value (0, or
        ``intercept_init``) but still enters the margin, as in SGDClassifier.
    warm_start : bool, default=False
        ``fit`` starts from the current weights instead of zeros. The features, classes and
        hyperparameters that set the weights' shapes must be the same as before.
    verbose : int, default=0
        Show a tqdm progress bar with the epoch and the running loss.
    n_jobs : int or None, default=None
        Threads for training: None or 1 trains sequentially, -1 uses all of numba's threads
        (``NUMBA_NUM_THREADS``, the cores by default), -2 all but one. More than one runs the
        ``parallel`` strategy, one call per epoch, on n_jobs shards of the visiting order (on
        at most numba's thread count): a positive n_jobs gives the same 'average' weights on any
        machine, a negative one depends on the machine's thread count. Only for dense input
        and the plain update (penalty None, a constant or adaptive rate, no averaging, no
        sample or class weights); other settings raise a ValueError.
    parallel : {'average', 'hogwild'}, default='average'
        The strategy when n_jobs > 1. 'average': each thread trains its own copy on a contiguous
        shard of the epoch's visiting order, and the copies are averaged at the end of the epoch
        (iterative parameter mixing, Zinkevich et al. 2010). Deterministic: a given
        random_state and n_jobs give bit-identical weights. 'hogwild': all threads update one
        shared set of weights without locks (Niu et al. 2011); NOT deterministic, and slower
        than one thread on dense data, where the threads contend for the same cache lines.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
        In the dtype of the training data (float32 or float64).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray, when X has string column names
    n_iter_ : int
        Epochs run by the last fit, or 1 after partial_fit.
    t_ : float
        Samples seen, plus one (SGDClassifier's convention, validation rows included).
    loss_curve_ : list of float
        Each epoch's mean progressive log-loss (every sample's loss taken just before its own
        update); for more than two classes, the mean over the one-vs-rest models. As in
        SGDClassifier, each one-vs-rest model stops on its own loss (the ``tol`` rule); a
        stopped model keeps its weights while the others train on.
    """

    _accept_sparse = True

    _parameter_constraints: ClassVar[dict] = {
        **SGDClassifierBase._parameter_constraints,
        "learning_rate": [StrOptions(set(LEARNING_RATES))],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        *,
        eta0: float = 0.01,
        learning_rate: str = "constant",
        penalty: str | None = None,
        alpha: float = 1e-4,
        l1_ratio: float = 0.15,
        power_t: float = 0.5,
        average: bool | int = False,
        class_weight: dict | str | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 5,
        shuffle: bool = True,
        random_state=None,
        fit_intercept: bool = True,
        warm_start: bool = False,
        verbose: int = 0,
        n_jobs: int | None = None,
        parallel: str = "average",
    ):
        self.eta0 = eta0
        self.learning_rate = learning_rate
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.power_t = power_t
        self.average = average
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
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

    # -- public API ---------------------------------------------------------------------------

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        coef_init: ArrayLike | None = None,
        intercept_init: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> LogisticRegression:
        """Train for up to ``max_iter`` epochs, from zeros, the given init or (warm_start) the
        current weights. ``sample_weight`` multiplies each sample's step."""
        init = None
        if coef_init is not None or intercept_init is not None:
            init = {"coef": coef_init, "intercept": intercept_init}
        return self._fit(
            X, y, max_iter=self.max_iter, classes=None, init=init, incremental=False,
            sample_weight=sample_weight,
        )  # fmt: skip

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """w . x + b: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        scores = self._predict_scores(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes).

        Two classes: [1 - s(z), s(z)]. More classes: the one-vs-rest sigmoids, normalised to
        sum to one (as SGDClassifier does).
        """
        return self._proba_from_scores(self._predict_scores(X))

    @staticmethod
    def _proba_from_scores(scores):
        prob = expit(scores)
        if prob.shape[1] == 1:
            return np.hstack([1.0 - prob, prob])
        total = prob.sum(axis=1, keepdims=True)
        uniform = total == 0.0
        prob = np.where(uniform, 1.0 / prob.shape[1], prob)
        return prob / np.where(uniform, 1.0, total)

    # -- hooks for the base class -------------------------------------------------------------

    def _predict_scores(self, X):
        X = self._validate_predict_data(X)
        with np.errstate(over="ignore", invalid="ignore"):
            scores = np.asarray(X @ self.coef_.T) + self.intercept_
        if scores.dtype != np.float64 and not np.isfinite(scores).all():
            # A float32 model's scores can overflow float32 where training did not (the kernels
            # sum each margin in float64): those rows are scored again in float64, and the
            # scores come back as float64. Finite float32 scores stay float32 (no copy of X).
            bad = ~np.isfinite(scores).all(axis=1)
            wide = scores.astype(np.float64)
            rows = X[bad].astype(np.float64)
            wide[bad] = np.asarray(rows @ self.coef_.T.astype(np.float64)) + self.intercept_
            scores = wide
        return scores

    def _work_per_sample(self, n_features, n_classes):
        return n_features * self._n_outputs(n_classes)

    def _needs_canonical_csr(self):
        # L1 truncates, and the stopping rule's norms count, each stored entry: a duplicate
        # would count twice. Without a penalty the order of a row's entries is only rounding.
        return getattr(self, "penalty", None) is not None

    def _average_start(self):
        """The sample number from which weights are averaged; 0: no averaging."""
        return int(self.average)

    def _init_params(self, n_features, n_classes, dtype, rng, init):
        n_models = self._n_outputs(n_classes)
        coef = np.zeros((n_models, n_features), dtype=dtype)
        intercept = np.zeros(n_models, dtype=dtype)
        name = type(self).__name__
        if init.get("coef") is not None:
            given = as_float_array(
                init["coef"], "coef_init", dtype, copy=False, estimator_name=name
            )
            allowed = {(n_models, n_features)} | ({(n_features,)} if n_models == 1 else set())
            if given.shape not in allowed:
                raise ValueError(
                    f"coef_init has shape {given.shape}; expected ({n_models}, {n_features})"
                    + (f" or ({n_features},)" if n_models == 1 else "")
                )
            coef[...] = given.reshape(n_models, n_features)
        if init.get("intercept") is not None:
            given = as_float_array(
                init["intercept"], "intercept_init", dtype, copy=False, estimator_name=name
            )
            if given.size != n_models or given.ndim > 1:
                raise ValueError(f"intercept_init has shape {given.shape}; expected ({n_models},)")
            intercept[...] = given.reshape(n_models)
        for name, value in (("coef_init", coef), ("intercept_init", intercept)):
            if not np.isfinite(value).all():
                raise ValueError(f"{name} contains NaN or infinity.")
        averaged = n_features if self._average_start() else 0
        return [coef, intercept, *self._average_accumulators(n_models, averaged)]

    @staticmethod
    def _average_accumulators(n_models, n_features):
        # float64 whatever X's dtype: the lazy average is a running sum over every sample, and
        # in float32 its rounding grew to 0.8% of the largest weight over 1e7 samples (against
        # 2e-6 without averaging); float64 keeps it at the weights' own rounding.
        return [np.zeros((n_models, n_features)), np.zeros(n_models)]

    def _get_params_arrays(self):
        # SGD goes on from the plain (not averaged) weights, as SGDClassifier's partial_fit.
        coef = getattr(self, "_standard_coef", self.coef_)
        intercept = getattr(self, "_standard_intercept", self.intercept_)
        averaged = coef.shape[1] if self._average_start() else 0
        average_coef = getattr(self, "_average_coef", None)
        average_intercept = getattr(self, "_average_intercept", None)
        if average_coef is None or average_coef.shape != (coef.shape[0], averaged):
            average_coef, average_intercept = self._average_accumulators(coef.shape[0], averaged)
        return [coef, intercept, average_coef, average_intercept]

    def _copied_params(self, dtype):
        # the averaged sums (items 2 and 3, when there) stay float64, see _average_accumulators
        return [
            p.astype(dtype if i < 2 else np.float64, copy=True)
            for i, p in enumerate(self._get_params_arrays())
        ]

    def _set_params_arrays(self, params):
        coef, intercept, average_coef, average_intercept = params
        self._standard_coef, self._standard_intercept = coef, intercept
        self._average_coef, self._average_intercept = average_coef, average_intercept
        start = self._average_start()
        if start and start <= self.t_ - 1:  # SGDClassifier's rule for which weights to expose
            # in X's dtype, as every fitted weight (the float64 sums stay for partial_fit)
            self.coef_ = average_coef.astype(coef.dtype)
            self.intercept_ = average_intercept.astype(coef.dtype)
        else:
            self.coef_, self.intercept_ = coef, intercept

    # -- SGDClassifier's options --------------------------------------------------------------

    def _training_weights(self, X, y, classes, sample_weight, incremental):
        if incremental and isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: it needs every "
                "label at once. Compute the weights with sklearn.utils.compute_class_weight("
                "'balanced', classes=classes, y=y) and pass them as a dict."
            )
        if self.class_weight is None:  # compute_class_weight would sort y only to check it
            self._expanded_class_weight = np.ones(classes.size)
        else:
            try:
                weights = compute_class_weight(self.class_weight, classes=classes, y=y)
            except (TypeError, ValueError) as error:
                raise type(error)(f"class_weight={self.class_weight!r}: {error}") from error
            if not np.isfinite(weights).all():  # else the kernels' NaN steps read as divergence
                raise ValueError(
                    f"class_weight={self.class_weight!r} must give every class a finite weight."
                )
            self._expanded_class_weight = weights
        if sample_weight is None:
            return None
        refuse_non_numeric(sample_weight, "sample_weight", type(self).__name__)
        try:
            weights = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        except (TypeError, ValueError) as error:
            explain_unreadable(sample_weight, "sample_weight", error)
            raise
        if not np.any(weights):  # scikit-learn >= 1.7 says this itself, 1.6 trains nothing
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return weights

    def _class_weight_matrix(self, positive_class):
        """(K, 2): the step factor of model m for label 0 and for label 1."""
        weights = self._expanded_class_weight
        if weights.size == 2 and positive_class.size >= 1 and np.all(positive_class == 1):
            return np.tile(weights[[0, 1]], (positive_class.size, 1)).astype(np.float64)
        matrix = np.ones((positive_class.size, 2))
        matrix[:, 1] = weights[positive_class]
        return matrix

    def _start_session(self, X, params, n_classes, t, weights, n_shards):
        coef, intercept = params[0], params[1]
        n_models = coef.shape[0]
        positive_class = self._positive_classes(n_models)
        class_weight = self._class_weight_matrix(positive_class)
        penalty = getattr(self, "penalty", None)
        start = self._average_start()
        plain = (
            not sp.issparse(X) and penalty is None and not start and weights is None
            and self.learning_rate in ("constant", "adaptive") and np.all(class_weight == 1.0)
        )  # fmt: skip
        session = _Session(plain, positive_class, class_weight, weights)
        if plain:
            return session
        if n_shards > 1:
            raise ValueError(
                "n_jobs > 1 trains only dense input with the plain update (penalty=None, "
                "learning_rate 'constant' or 'adaptive', average=False, no sample_weight or "
                "class_weight); use n_jobs=None for these settings."
            )
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError("alpha must be > 0 since learning_rate is 'optimal'.")
        l1_ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, self.l1_ratio)
        l2_strength = (1.0 - l1_ratio) * self.alpha if penalty in ("l2", "elasticnet") else 0.0
        l1_strength = l1_ratio * self.alpha if penalty in ("l1", "elasticnet") else 0.0
        session.settings = LinearSGDSettings(
            LEARNING_RATES.index(self.learning_rate),
            float(self.power_t),
            float(self.alpha),
            optimal_init(self.alpha) if self.learning_rate == "optimal" else 0.0,
            l2_strength,
            l1_strength,
            start,
            bool(self.fit_intercept),
            penalty is not None and self.tol is not None and not self.early_stopping,
        )
        width = coef.shape[1] if l1_strength > 0 else 0
        session.state = LinearSGDState(
            coef, intercept, params[2], params[3],
            np.full(n_models, float(t)),  # every one-vs-rest model restarts at t_, as in sklearn
            np.zeros(n_models), np.zeros((n_models, width), coef.dtype),
            np.einsum("ij,ij->i", coef, coef, dtype=np.float64),
            np.abs(coef).sum(axis=1, dtype=np.float64),
            np.ones(n_models), np.zeros(n_models), np.ones(n_models),
        )  # fmt: skip
        return session

    def _finish_session(self, session, params):
        if session.state is not None:
            linear_sgd_finish(session.state)

    def _finished_params(self, session, params):
        if session.state is None:
            return [p.copy() for p in params]
        state = session.state._make(a.copy() for a in session.state)
        linear_sgd_finish(state)
        return [state.coef, state.intercept, state.average_coef, state.average_intercept]

    def _validation_scores(self, X, codes, rows, weights, params, session):
        # Each one-vs-rest model's accuracy on its own 0/1 labels, as SGDClassifier scores its
        # binary models, from the plain (not averaged) weights as there.
        coef, intercept = params[0], params[1]
        if session.state is not None:
            coef = coef * session.state.wscale[:, None]
        if session.validation_X is None:
            session.validation_X = X[rows]
        scores = session.validation_X @ coef.T + intercept
        self._check_finite_scores(session.validation_X, scores)
        truth = codes[rows][:, None] == session.positive_class[None, :]
        correct = (np.asarray(scores) > 0) == truth
        sample_weight = None if weights is None else weights[rows]
        return np.array(
            [np.average(correct[:, m], weights=sample_weight) for m in range(coef.shape[0])]
        )

    def _n_stopping_units(self, n_classes):
        return self._n_outputs(n_classes)  # each one-vs-rest model stops on its own

    def _positive_classes(self, n_models):
        """The class code each model treats as positive: 1 for a binary model, else m."""
        return np.arange(n_models) if n_models > 1 else np.ones(1, dtype=np.int64)

    def _run_kernel(self, X, codes, order, params, rates, n_shards, session):
        if session.plain:  # the handout's update: the tuned kernel and its parallel variants
            coef, intercept = params[0], params[1]
            arguments = (
                X, codes, order, coef, intercept, rates, session.positive_class,
                self.fit_intercept,
            )  # fmt: skip
            if n_shards > 1:
                losses = PARALLEL_KERNELS[self.parallel](*arguments, n_shards)
            else:
                losses = logistic_epoch(*arguments)
            return losses, losses
        rows = (X.data, X.indices, X.indptr) if sp.issparse(X) else X
        return linear_sgd_epoch(
            rows, codes, order, session.weights, rates, session.positive_class,
            session.class_weight, session.settings, session.state,
        )  # fmt: skip
