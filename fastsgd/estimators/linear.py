"""SGDClassifier and SGDRegressor: scikit-learn's estimators of the same names over the linear
engine (``fastsgd.kernels.linear_sgd_epoch``).

This module validates, dispatches and keeps state; every loss, penalty, schedule and averaging
mode is computed by the one compiled engine. ``LogisticRegression`` (logistic.py) is
SGDClassifier with the log-loss and the handout's defaults.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import expit
from sklearn.base import RegressorMixin
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _check_sample_weight

from fastsgd._names import (
    CLASSIFICATION_LOSSES,
    LEARNING_RATES,
    LINEAR_LOSSES,
    REGRESSION_LOSSES,
    STRATEGIES,
)
from fastsgd.estimators import _kernels
from fastsgd.estimators._base import SGDBase, SGDClassifierBase
from fastsgd.estimators._validation import (
    as_float_array,
    explain_unreadable,
    refuse_non_numeric,
)
from fastsgd.parallel.threads import private_copy

# scikit-learn scales the intercept's step by this on sparse input (make_dataset's
# SPARSE_INTERCEPT_DECAY): the intercept sees every sample, a sparse feature only a few.
SPARSE_INTERCEPT_DECAY = 0.01

DEFAULT_EPSILON = 0.1

MAX_INT = np.iinfo(np.int32).max  # scikit-learn's bound for its seeds

ZERO_WEIGHTS_OPTION = "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters


def _loss_table(names):
    """scikit-learn's public ``loss_functions`` table: each loss name with its default
    arguments (epsilon for the losses that take one); fastsgd's losses are codes, not objects,
    so the first item is the name."""
    with_epsilon = ("huber", "epsilon_insensitive", "squared_epsilon_insensitive")
    return {name: (name, DEFAULT_EPSILON) if name in with_epsilon else (name,) for name in names}


def run_linear_engine(
    X, y, order, sample_weight, rates, positive_class, class_weight, settings, state
):  # fmt: skip
    """``fastsgd.kernels.linear_sgd_epoch``, its dispatch taken in Python: only the loop this
    call needs. Numba compiles a function with every branch it contains, so the compiled
    dispatcher costs a first fit all three loops (8.2 s here with an empty cache, against
    2.4 s for the one loop a binary model needs). The kernel's argument checks (another 0.6 s
    to compile) are left out: the estimator builds order, weights and state itself, with the
    shapes they check."""
    n_models = state.coef.shape[0]
    if order.shape[0] == 0 or not rates.any():
        return np.zeros(n_models), np.zeros(n_models)
    # no compiling for a test of two flags
    per_weight, scaled = _kernels.weight_work.py_func(settings)
    if n_models > 1:
        if per_weight:
            block = _kernels.per_weight_block_visits
        else:
            block = _kernels.scaled_block_visits if scaled else _kernels.plain_block_visits
        return block(
            X, y, order, sample_weight, rates, positive_class, class_weight, settings, state
        )
    if per_weight:
        visits = _kernels.per_weight_model_visits
    else:
        visits = _kernels.scaled_model_visits if scaled else _kernels.plain_model_visits
    loss, objective = visits(
        X, y, order, sample_weight, rates[0], positive_class[0], class_weight, settings, state
    )
    return np.array([loss]), np.array([objective])


@dataclass
class _Session:
    """What one fit/partial_fit call hands to every kernel call."""

    positive_class: np.ndarray
    class_weight: np.ndarray  # (K, 2): the factor for target <= 0 / > 0 of each model
    weights: np.ndarray | None
    settings: Any = None  # fastsgd.kernels.LinearSGDSettings
    state: Any = None  # fastsgd.kernels.LinearSGDState
    validation_X: object = None


def _sparse_coef_mixin():
    # scikit-learn's own sparsify/densify, imported when called: sklearn.linear_model costs
    # 49 ms to import (a third of what importing the estimators may add to sklearn.base's)
    from sklearn.linear_model._base import SparseCoefMixin

    return SparseCoefMixin


class _LinearEngine:
    """What SGDClassifier, SGDRegressor and LogisticRegression share: the parameters of the
    linear engine, its weights and its kernel calls (hooks of ``SGDBase``)."""

    _accept_sparse = True
    _sparse_intercept_decay = SPARSE_INTERCEPT_DECAY
    # scikit-learn's warm start: SGDClassifier starts a new fit from coef_ and intercept_ (the
    # averaged weights, when exposed) with a fresh average; SGDRegressor goes on from its plain
    # weights and running average. Both count t_ from 1 again.
    _warm_start_from_coef = True

    _parameter_constraints: ClassVar[dict] = {
        **SGDBase._parameter_constraints,
        "learning_rate": [StrOptions(set(LEARNING_RATES))],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "parallel": [StrOptions(set(STRATEGIES)), None],
    }

    # -- public API ---------------------------------------------------------------------------

    def densify(self):
        """Convert a sparse ``coef_`` (after ``sparsify``) back to a dense array.

        scikit-learn's ``SparseCoefMixin.densify``; with a dense ``coef_`` it does nothing.

        Returns
        -------
        self : object
            The estimator.
        """
        return _sparse_coef_mixin().densify(self)

    def sparsify(self):
        """Store ``coef_`` as a scipy.sparse CSR matrix.

        scikit-learn's ``SparseCoefMixin.sparsify``: worth it when most weights are zero, as
        after an L1 penalty. ``intercept_`` stays dense. ``predict`` and ``save`` take the
        sparse ``coef_`` as it is; ``partial_fit`` and a warm-started ``fit`` read it too, and
        leave ``coef_`` dense again.

        Returns
        -------
        self : object
            The estimator.
        """
        return _sparse_coef_mixin().sparsify(self)

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        coef_init: ArrayLike | None = None,
        intercept_init: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ):
        """Train for up to ``max_iter`` epochs.

        Training starts from zeros, from ``coef_init`` and ``intercept_init``, or, with
        ``warm_start``, from the fitted weights (SGDClassifier: ``coef_`` and ``intercept_``;
        SGDRegressor: its plain SGD weights), as scikit-learn does: ``t_`` restarts at 1 and
        the average restarts.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training samples. A C-contiguous float32 or float64 array, or a canonical CSR
            matrix of those, is used without a copy (``LogisticRegression``'s Notes give the
            rules).
        y : array-like of shape (n_samples,)
            The class labels (a classifier) or the targets (SGDRegressor: read as float64).
        coef_init : array-like of shape (n_classes, n_features), default=None
            The initial weights, one row per one-vs-rest model; (1, n_features) or
            (n_features,) for one model (two classes, or a regressor).
        intercept_init : array-like of shape (n_classes,), default=None
            The initial intercepts, one per model.
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplies each sample's step.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = self.warm_start and self._has_fitted_state()
        if warm and self._warm_start_from_coef:
            coef = self.coef_.toarray() if sp.issparse(self.coef_) else self.coef_
            coef_init = coef if coef_init is None else coef_init
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
        init = None
        if coef_init is not None or intercept_init is not None:
            init = {"coef": coef_init, "intercept": intercept_init, "warm_start": warm}
        self._fit(
            X, y, max_iter=self.max_iter, classes=None, init=init, incremental=False,
            sample_weight=sample_weight,
        )  # fmt: skip
        if self.power_t < 0:  # scikit-learn's deprecation, word for word
            warnings.warn(
                "Negative values for `power_t` are deprecated in version 1.8 and will raise an "
                "error in 1.10. Use values in the range [0.0, inf) instead.",
                FutureWarning,
                stacklevel=2,
            )
        return self

    # -- hooks for the base class -------------------------------------------------------------

    def _epoch_orders(self, rng, n_classes, rows, train):
        """scikit-learn's shuffled orders: it draws a seed from random_state (after one draw
        of its own for the dataset; a regressor draws the seed first), then every epoch shuffles
        the order the last one left, all rows, with that seed and its xorshift generator
        (``fastsgd.kernels.shuffle``), and skips the held-out rows. With an int random_state a
        binary or regression fit visits the samples in scikit-learn's order (tested). With
        more classes scikit-learn shuffles each one-vs-rest model with its own seed; fastsgd
        trains them all in one pass, in the order of the first class's seed."""
        if n_classes > 2:
            rng = check_random_state(rng.randint(MAX_INT, size=n_classes)[0])
        seed = self._shuffle_seed(rng)
        visits = rows  # the fit's own index array (never the caller's), shuffled in place
        keep = None
        if train.size != rows.size:
            keep = np.zeros(int(rows.max()) + 1, dtype=bool)
            keep[train] = True

        def next_order():
            _kernels.xorshift_shuffle(visits, seed)
            return visits if keep is None else visits[keep[visits]]

        return next_order

    @staticmethod
    def _shuffle_seed(rng):
        """fit_binary's draws: make_dataset's seed (unused here), then the shuffle seed."""
        rng.randint(1, MAX_INT)
        return int(rng.randint(MAX_INT))

    def _continued_count(self, incremental):
        if incremental:
            return super()._continued_count(incremental)
        return self._t_start, []  # a warm-started fit counts t_ from 1 again

    def _validate_training_settings(self, incremental):
        if incremental and self.early_stopping and not self._has_fitted_state():
            raise ValueError("early_stopping should be False with partial_fit")
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used to compute "
                "the optimal learning rate."
            )
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")

    def _warns_at_max_iter(self, max_iter):
        return True  # scikit-learn warns at max_iter=1 too

    def _rate_advice(self):
        if self.learning_rate != "optimal":
            return super()._rate_advice()
        return (
            f"learning_rate='optimal' takes steps of 1 / (alpha (t0 + t - 1)), large with "
            f"alpha={self.alpha!r}: try a larger alpha, or learning_rate='constant' with a small "
            "eta0, or scale the features (for example with sklearn.preprocessing.StandardScaler)."
        )

    def _l1_ratio(self):
        """The L1 share of the penalty (l1_ratio=None means 0 outside 'elasticnet')."""
        if self.penalty == "l1":
            return 1.0
        if self.penalty == "elasticnet":
            return float(self.l1_ratio)
        return 0.0

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
                    ("warm_start cannot continue from the fitted weights (fit without "
                     "warm_start): " if init.get("warm_start") else "")
                    + f"Provided coef_init does not match dataset: coef_init has shape "
                    f"{given.shape}; expected ({n_models}, {n_features})"
                    + (f" or ({n_features},)" if n_models == 1 else "")
                )  # fmt: skip
            coef[...] = given.reshape(n_models, n_features)
        if init.get("intercept") is not None:
            given = as_float_array(
                init["intercept"], "intercept_init", dtype, copy=False, estimator_name=name
            )
            if given.size != n_models or given.ndim > 1:
                raise ValueError(
                    f"Provided intercept_init does not match dataset: intercept_init has shape "
                    f"{given.shape}; expected ({n_models},)"
                )
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

    def _fitted_weights(self):
        """coef_ and intercept_ as (K, n_features) and (K,) dense arrays."""
        coef = self.coef_.toarray() if sp.issparse(self.coef_) else np.asarray(self.coef_)
        intercept = np.asarray(self.intercept_).reshape(-1)
        return coef.reshape(intercept.size, -1), intercept

    def _get_params_arrays(self):
        # SGD goes on from the plain (not averaged) weights, as SGDClassifier's partial_fit.
        coef, intercept = self._fitted_weights()
        coef = getattr(self, "_standard_coef", coef)
        intercept = getattr(self, "_standard_intercept", intercept)
        coef = coef.reshape(intercept.size, -1)
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
        start = self._average_start()
        if start:  # scikit-learn keeps these four only when averaging
            self._standard_coef, self._standard_intercept = coef, intercept
            self._average_coef, self._average_intercept = average_coef, average_intercept
        else:
            for name in ("_standard_coef", "_standard_intercept", "_average_coef",
                         "_average_intercept"):  # fmt: skip
                self.__dict__.pop(name, None)
        if start and start <= self.t_ - 1:  # SGDClassifier's rule for which weights to expose
            # in X's dtype, as every fitted weight (the float64 sums stay for partial_fit)
            coef = average_coef.astype(coef.dtype)
            intercept = average_intercept.astype(coef.dtype)
        self._expose(coef, intercept)

    def _expose(self, coef, intercept):
        """Set coef_ and intercept_ from the (K, n_features) and (K,) weights."""
        self.coef_, self.intercept_ = coef, intercept

    def _class_weight_matrix(self, positive_class):
        """(K, 2): the step factor of model m for target -1 and for target +1."""
        weights = getattr(self, "_expanded_class_weight", None)
        if weights is None:
            return np.ones((positive_class.size, 2))
        if weights.size == 2 and positive_class.size >= 1 and np.all(positive_class == 1):
            return np.tile(weights[[0, 1]], (positive_class.size, 1)).astype(np.float64)
        matrix = np.ones((positive_class.size, 2))
        matrix[:, 1] = weights[positive_class]
        return matrix

    def _sample_weights(self, X, sample_weight):
        """The checked per-sample weights in X's dtype, or None."""
        if sample_weight is None:
            return None
        refuse_non_numeric(sample_weight, "sample_weight", type(self).__name__)
        try:
            # all zero is refused by scikit-learn >= 1.7 unless allowed (1.6 has no option)
            allow = {"allow_all_zero_weights": True} if ZERO_WEIGHTS_OPTION else {}
            weights = _check_sample_weight(sample_weight, X, dtype=X.dtype, **allow)
        except (TypeError, ValueError) as error:
            explain_unreadable(sample_weight, "sample_weight", error)
            raise
        # scikit-learn >= 1.7 says this itself, 1.6 trains nothing; with early stopping the
        # validation split's check speaks instead, as in scikit-learn
        if not np.any(weights) and not self.early_stopping:
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return weights

    def _start_session(self, X, params, n_classes, t, weights, n_shards):
        n_models = params[0].shape[0]
        positive_class = self._positive_classes(n_models)
        class_weight = self._class_weight_matrix(positive_class)
        penalty = self.penalty
        start = self._average_start()
        loss = LINEAR_LOSSES.index(self.loss)
        plain = (
            not sp.issparse(X) and penalty is None and not start and weights is None
            and self.loss == "log_loss" and self._targets_are_classes()
            and self.learning_rate in ("constant", "adaptive") and np.all(class_weight == 1.0)
        )  # fmt: skip
        session = _Session(positive_class, class_weight, weights)
        if plain and (n_shards > 1 or n_models > 1):
            return session  # logistic_epoch's block loop or the Hogwild kernel
        if n_shards > 1:
            raise ValueError(
                "parallel='hogwild' trains only dense input with the plain logistic update "
                "(loss='log_loss', penalty=None, learning_rate 'constant' or 'adaptive', "
                "average=False, no sample_weight or class_weight); parallel='average' trains "
                "every setting."
            )
        l1_ratio = self._l1_ratio()
        l2_strength = (1.0 - l1_ratio) * self.alpha if penalty in ("l2", "elasticnet") else 0.0
        l1_strength = l1_ratio * self.alpha if penalty in ("l1", "elasticnet") else 0.0
        epsilon = float(self.epsilon)
        optimal = self.learning_rate == "optimal"
        session.settings = _kernels.LinearSGDSettings(
            LEARNING_RATES.index(self.learning_rate),
            float(self.power_t),
            float(self.alpha),
            _kernels.optimal_init(self.alpha) if optimal else 0.0,
            l2_strength,
            l1_strength,
            start,
            bool(self.fit_intercept),
            penalty is not None and self.tol is not None and not self.early_stopping,
            loss,
            epsilon,
            self._sparse_intercept_decay if sp.issparse(X) else 1.0,
        )
        session.state = self._new_state(params, t, session.settings)
        return session

    def _new_state(self, params, t, settings):
        """The engine's training state over ``params`` at sample count ``t``: no scale, an
        empty lazy average, no L1 penalty owed yet."""
        coef, intercept = params[0], params[1]
        n_models = coef.shape[0]
        width = coef.shape[1] if settings.l1_strength > 0 else 0
        # (the sweep keeps no averaged weights)
        average_coef, average_intercept = (
            params[2:4] if len(params) > 2 else self._average_accumulators(n_models, 0)
        )
        return _kernels.LinearSGDState(
            coef, intercept, average_coef, average_intercept,
            np.full(n_models, float(t)),  # every one-vs-rest model restarts at t_, as in sklearn
            np.zeros(n_models), np.zeros((n_models, width), coef.dtype),
            np.einsum("ij,ij->i", coef, coef, dtype=np.float64),
            np.abs(coef).sum(axis=1, dtype=np.float64),
            np.ones(n_models), np.zeros(n_models), np.ones(n_models),
        )  # fmt: skip

    def _shard_session(self, session, X, params, t):
        # a shard's session restarts the engine's state from its copy of the weights, as a
        # partial_fit call (and a fastsgd.dask block) does
        if session.state is None:
            return session  # the plain block loop keeps no state
        state = self._new_state(params, t, session.settings)
        # the per-sample counters and scales on cache lines of their own (the weights already
        # are): shards on other threads write theirs on every sample too
        counters = {
            name: private_copy(getattr(state, name))
            for name in state._fields
            if name not in ("coef", "intercept", "average_coef", "average_intercept")
        }
        return replace(session, state=state._replace(**counters))

    def _finish_shard(self, session, params):
        self._finish_session(session, params)

    def _mix_shard_params(self, params, shard_params, bounds, t):
        """The weights mixed by visit counts; the averaged weights (when averaging) the mean of
        every averaged step of every shard and of the steps averaged before the epoch, as a
        sequential run averages its steps. Shard s starts at sample number t + start_s, so its
        engine took the average of the ``before_s`` steps before it to be ``params``'s (the
        epoch's starting average) and averaged ``own_s`` steps of its own: its running mean
        holds (before_s * A + own steps) / (before_s + own_s)."""
        mixed = super()._mix_shard_params(params, shard_params, bounds, t)
        start = self._average_start()
        if not start or len(params) < 4:
            return mixed
        previous = [params[2], params[3]]  # the average at the epoch's start (float64)
        count = max(0, t - start)  # steps averaged before the epoch
        totals = [count * a for a in previous]
        for (lo, hi), shard in zip(bounds, shard_params, strict=True):
            first = t + lo  # the sample number of the shard's first visit
            before = max(0, first - start)
            own = max(0, first + (hi - lo) - max(start, first))
            for total, mean, a in zip(totals, shard[2:4], previous, strict=True):
                total += (before + own) * mean - before * a
            count += own
        if count:
            mixed[2], mixed[3] = (total / count for total in totals)
        return mixed

    @staticmethod
    def _scaled(session):
        """Whether the session's weights carry a scale or a lazy average to fold in at the end
        (never for the plain update, whose first fit then compiles no linear_sgd_finish)."""
        return session.state is not None and _kernels.weight_work.py_func(session.settings)[1]

    def _finish_session(self, session, params):
        if self._scaled(session):
            _kernels.linear_sgd_finish(session.state)

    def _finished_params(self, session, params):
        if not self._scaled(session):
            return [p.copy() for p in params]
        state = session.state._make(a.copy() for a in session.state)
        _kernels.linear_sgd_finish(state)
        return [state.coef, state.intercept, state.average_coef, state.average_intercept]

    def _plain_scores(self, X_rows, params, session):
        """Early stopping's scores of held-out rows: the plain (not averaged) weights as
        scikit-learn's _plain_sgd hands them to its validation callback, that is the stored
        array without the L2 scale factor wscale (which it folds in only when it falls below
        1e-9). The stopping decisions, and so the models, then match scikit-learn's."""
        coef, intercept = params[0], params[1]
        return np.asarray(X_rows @ coef.T) + intercept

    def _held_out_rows(self, X, rows, session):
        if session.validation_X is None:
            session.validation_X = X[rows]
        return session.validation_X

    def _positive_classes(self, n_models):
        """The class code each model treats as positive: 1 for a binary model, else m."""
        return np.arange(n_models) if n_models > 1 else np.ones(1, dtype=np.int64)

    def _targets_are_classes(self):
        return True

    def _run_kernel(self, X, codes, order, params, rates, n_shards, session):
        arguments = (
            X, codes, order, params[0], params[1], rates, session.positive_class,
            self.fit_intercept,
        )  # fmt: skip
        if n_shards > 1:  # Hogwild, the handout's update (_start_session checked the settings)
            losses = _kernels.logistic_epoch_hogwild(*arguments, n_shards)
            return losses, losses
        if session.state is None:
            # the handout's one-vs-rest: logistic_epoch's block loop (see plain_block_epoch)
            losses = _kernels.logistic_epoch(*arguments)
            return losses, losses
        rows = (X.data, X.indices, X.indptr) if sp.issparse(X) else X
        return run_linear_engine(
            rows, codes, order, session.weights, rates, session.positive_class,
            session.class_weight, session.settings, session.state,
        )  # fmt: skip

    # -- prediction ---------------------------------------------------------------------------

    def _predict_scores(self, X):
        """(n_samples, K) scores w . x + b of the fitted weights."""
        X = self._validate_predict_data(X)
        if sp.issparse(self.coef_):  # after sparsify(): already (K, n_features)
            coef = self.coef_
        else:
            coef = np.asarray(self.coef_).reshape(np.asarray(self.intercept_).size, -1)
        with np.errstate(over="ignore", invalid="ignore"):
            scores = safe_sparse_dot(X, coef.T, dense_output=True) + self.intercept_
        if scores.dtype != np.float64 and not np.isfinite(scores).all():
            # A float32 model's scores can overflow float32 where training did not (the kernels
            # sum each margin in float64): those rows are scored again in float64, and the
            # scores come back as float64. Finite float32 scores stay float32 (no copy of X).
            bad = ~np.isfinite(scores).all(axis=1)
            wide = scores.astype(np.float64)
            rows = X[bad].astype(np.float64)
            wide[bad] = safe_sparse_dot(rows, coef.T.astype(np.float64), dense_output=True) + (
                self.intercept_
            )
            scores = wide
        return np.asarray(scores)


def _proba_available(estimator):
    if estimator.loss not in ("log_loss", "modified_huber"):
        raise AttributeError(f"probability estimates are not available for loss={estimator.loss!r}")
    return True


class SGDClassifier(_LinearEngine, SGDClassifierBase):
    """Linear classifiers trained by per-sample SGD: scikit-learn's ``SGDClassifier``, compiled.

    ``from fastsgd import SGDClassifier`` is meant as a one-line swap: the parameters, their
    defaults and their meaning are scikit-learn's, and with the same settings, data and visiting
    order (``shuffle=False``) both compute the same model (tested to 1e-8 relative in float64,
    for every loss, penalty, schedule and averaging mode, dense and CSR). More than two classes
    are trained one-vs-rest, every class's model in the same pass over the data (scikit-learn
    runs one pass per class).

    Parameters
    ----------
    loss : {'hinge', 'log_loss', 'modified_huber', 'squared_hinge', 'perceptron', \
    'squared_error', 'huber', 'epsilon_insensitive', 'squared_epsilon_insensitive'}, default='hinge'
        The loss, with scikit-learn's definitions (see ``fastsgd.kernels.loss_terms``); the
        regression losses see the targets as +1 / -1.
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        The regularization: ``alpha/2 ||w||^2``, ``alpha ||w||_1`` by cumulative truncated
        gradient, or their mix by ``l1_ratio``. The intercept is not penalized.
    alpha : float, default=1e-4
        The penalty's strength; also sets the 'optimal' schedule.
    l1_ratio : float or None, default=0.15
        The L1 share of 'elasticnet' (None is allowed for the other penalties).
    fit_intercept : bool, default=True
        Learn the intercept. When False it stays at its initial value (0, or
        ``intercept_init``).
    max_iter : int, default=1000
        The most epochs ``fit`` runs.
    tol : float or None, default=1e-3
        Stop when ``n_iter_no_change`` epochs in a row fail to lower the mean objective (loss
        plus penalty) by tol, or, with early_stopping, to raise the validation accuracy by tol.
        None: run max_iter epochs.
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch. X itself is never reordered.
    verbose : int, default=0
        Show a progress bar with the epoch and the running loss.
    epsilon : float, default=0.1
        huber's threshold and the epsilon-insensitive losses' margin.
    n_jobs : int or None, default=None
        Threads that run the ``parallel`` strategy's shards (joblib's rules: None is 1 unless a
        ``joblib.parallel_config`` says otherwise, -1 every CPU); ignored when ``parallel`` is
        None. It never changes the model.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the early-stopping split.
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive'}, default='optimal'
        By the number t of samples seen (from 1): 'constant' eta0; 'optimal'
        ``1 / (alpha (t0 + t - 1))`` with Bottou's t0; 'invscaling' ``eta0 / t**power_t``;
        'adaptive' eta0, divided by 5 when the stopping rule fires.
    eta0 : float, default=0.01
        The learning rate of 'constant', the initial one of 'invscaling' and 'adaptive'.
    power_t : float, default=0.5
        The exponent of 'invscaling'.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` and stop on its accuracy.
    validation_fraction : float, default=0.1
        The share of the training rows that ``early_stopping`` holds out.
    n_iter_no_change : int, default=5
        How many epochs in a row without improvement (the ``tol`` rule) stop training.
    class_weight : dict, 'balanced' or None, default=None
        Multiplies the steps of each class's samples (one-vs-rest: the model of class c weighs
        its positive samples by ``class_weight[c]`` and the rest by 1). 'balanced':
        ``n_samples / (n_classes * count(class))``; not for ``partial_fit``.
    warm_start : bool, default=False
        ``fit`` starts from the current ``coef_`` and ``intercept_`` (``t_`` and the average
        restart).
    average : bool or int, default=False
        Averaged SGD from sample number ``average`` on (True: 1).
    parallel : {'average', 'hogwild'} or None, default=None
        fastsgd only. None: sequential SGD. 'average': each epoch's visiting order is cut into
        ``n_shards`` contiguous shards, each trained by this sequential SGD (every setting) on
        its own copy of the weights and training state, and the copies are mixed by their
        sample counts (iterative parameter mixing); deterministic. 'hogwild': lock-free shared
        weights, NOT deterministic, the plain log-loss update on dense input only. See
        ``LogisticRegression``.
    n_shards : int, default=4
        fastsgd only: the shards of ``parallel``, part of the model's definition (1:
        sequential).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The weights, one row per one-vs-rest model (one row for two classes), in the dtype of
        the training data; with ``average``, the averaged weights once ``average`` samples
        have been seen.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        The number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        The feature names, when X has string column names.
    n_iter_ : int
        Epochs run by the last fit, or 1 after ``partial_fit``.
    t_ : float
        Samples seen, plus one (scikit-learn's convention, validation rows included).
    loss_curve_ : list of float
        Each epoch's mean progressive loss (every sample's loss taken just before its own
        update); for more than two classes, the mean over the one-vs-rest models still
        training in that epoch (each stops on its own loss, the ``tol`` rule, while the
        others train on).

    See Also
    --------
    LogisticRegression : This estimator with the log-loss and the handout's defaults.
    SGDRegressor : The linear regressor of the same engine.
    sklearn.linear_model.SGDClassifier : scikit-learn's estimator, which this one reproduces.

    Notes
    -----
    Differences from scikit-learn's ``SGDClassifier``, on purpose:

    - CSR indices may be int64 (scikit-learn refuses them). float32 input trains in float32,
      as in scikit-learn (1.9.1 checked).
    - ``n_jobs`` does not change the model: it is accepted for compatibility and the training
      is sequential unless ``parallel`` names a strategy (then ``n_jobs`` is its thread count).
    - ``learning_rate='pa1'`` / ``'pa2'`` (passive-aggressive) are not implemented.
    - ``verbose`` shows a tqdm progress bar instead of printed epoch lines.
    - ``loss_curve_`` records each epoch's mean progressive loss.

    Input is read and copied by ``LogisticRegression``'s rules (see its Notes).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn import linear_model
    >>> from sklearn.datasets import make_classification
    >>> from fastsgd import SGDClassifier
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> clf = SGDClassifier(random_state=0).fit(X, y)
    >>> clf.n_iter_, round(clf.score(X, y), 3)
    (14, 0.93)

    scikit-learn's estimator with the same settings trains the same model (with two classes
    and an int ``random_state``, even in the same shuffled order):

    >>> sk = linear_model.SGDClassifier(random_state=0).fit(X, y)
    >>> np.allclose(clf.coef_, sk.coef_), np.allclose(clf.intercept_, sk.intercept_)
    (True, True)
    """

    loss_functions: ClassVar[dict] = _loss_table(CLASSIFICATION_LOSSES + REGRESSION_LOSSES)

    _parameter_constraints: ClassVar[dict] = {
        **_LinearEngine._parameter_constraints,
        "loss": [StrOptions(set(loss_functions))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        loss: str = "hinge",
        *,
        penalty: str | None = "l2",
        alpha: float = 0.0001,
        l1_ratio: float | None = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        verbose: int = 0,
        epsilon: float = DEFAULT_EPSILON,
        n_jobs: int | None = None,
        random_state=None,
        learning_rate: str = "optimal",
        eta0: float = 0.01,
        power_t: float = 0.5,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        class_weight: dict | str | None = None,
        warm_start: bool = False,
        average: bool | int = False,
        parallel: str | None = None,
        n_shards: int = 4,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average
        self.parallel = parallel
        self.n_shards = n_shards

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """The margins w . x + b of the samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            One margin per sample for two classes (positive: ``classes_[1]``), else one per
            sample and one-vs-rest model.
        """
        scores = self._predict_scores(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    @available_if(_proba_available)
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, as scikit-learn computes them.

        Only for ``loss='log_loss'`` and ``loss='modified_huber'`` (other losses have no
        ``predict_proba`` attribute). log_loss: ``[1 - s(z), s(z)]`` for two classes, else the
        one-vs-rest sigmoids normalised to sum to one. modified_huber:
        ``(clip(z, -1, 1) + 1) / 2``, normalised likewise (rows where every class gets 0
        become uniform).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Each sample's probability of each class, in the order of ``classes_``.
        """
        return self._proba_from_scores(self._predict_scores(X))

    @available_if(_proba_available)
    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Log of predict_proba.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The natural log of ``predict_proba(X)``: -inf where a probability is 0.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _proba_from_scores(self, scores):
        if self.loss == "log_loss":
            prob = expit(scores)
        else:  # modified_huber
            prob = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
        if prob.shape[1] == 1:
            return np.hstack([1.0 - prob, prob])
        total = prob.sum(axis=1, keepdims=True)
        uniform = total == 0.0
        prob = np.where(uniform, 1.0 / prob.shape[1], prob)
        return prob / np.where(uniform, 1.0, total)

    def _training_weights(self, X, y, classes, sample_weight, incremental):
        first_partial_fit = incremental and not self._has_fitted_state()
        if first_partial_fit and isinstance(self.class_weight, str):
            name = self.class_weight
            raise ValueError(  # scikit-learn's message, word for word
                f"class_weight '{name}' is not supported for partial_fit. In order to use "
                f"'balanced' weights, use compute_class_weight('{name}', classes=classes, "
                "y=y). In place of y you can use a large enough sample of the full training "
                "set target to properly estimate the class frequency distributions. Pass the "
                "resulting weights as the class_weight parameter."
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
        return self._sample_weights(X, sample_weight)

    def _validation_scores(self, X, codes, rows, weights, params, session):
        # Each one-vs-rest model's accuracy on its own +1/-1 targets, as SGDClassifier scores its
        # binary models, from the plain (not averaged) weights as there.
        X_rows = self._held_out_rows(X, rows, session)
        scores = self._plain_scores(X_rows, params, session)
        self._check_finite_scores(X_rows, scores)
        truth = codes[rows][:, None] == session.positive_class[None, :]
        correct = (np.asarray(scores) > 0) == truth
        sample_weight = None if weights is None else weights[rows]
        return np.array(
            [np.average(correct[:, m], weights=sample_weight) for m in range(correct.shape[1])]
        )

    def _n_stopping_units(self, n_classes):
        return self._n_outputs(n_classes)  # each one-vs-rest model stops on its own


class SGDRegressor(_LinearEngine, RegressorMixin, SGDBase):
    """Linear regression trained by per-sample SGD: scikit-learn's ``SGDRegressor``, compiled.

    The parameters, defaults and meaning are scikit-learn's; with the same settings, data and
    visiting order (``shuffle=False``) both compute the same model (tested to 1e-8 relative in
    float64 for every loss, penalty, schedule and averaging mode, dense and CSR). The targets
    are read as float64.

    Parameters
    ----------
    loss : {'squared_error', 'huber', 'epsilon_insensitive', \
    'squared_epsilon_insensitive'}, default='squared_error'
        The loss, with scikit-learn's definitions (see ``fastsgd.kernels.loss_terms``).
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        The regularization, as in ``SGDClassifier``. The intercept is not penalized.
    alpha : float, default=1e-4
        The penalty's strength; also sets the 'optimal' schedule.
    l1_ratio : float or None, default=0.15
        The L1 share of 'elasticnet' (None is allowed for the other penalties).
    fit_intercept : bool, default=True
        Learn the intercept. When False it stays at its initial value (0, or
        ``intercept_init``).
    max_iter : int, default=1000
        The most epochs ``fit`` runs.
    tol : float or None, default=1e-3
        Stop when ``n_iter_no_change`` epochs in a row fail to lower the mean objective (loss
        plus penalty) by tol, or, with early_stopping, to raise the validation R^2 by tol.
        None: run max_iter epochs.
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch. X itself is never reordered.
    verbose : int, default=0
        Show a progress bar with the epoch and the running loss.
    epsilon : float, default=0.1
        huber's threshold and the epsilon-insensitive losses' margin.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the early-stopping split.
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive'}, default='invscaling'
        The schedules of ``SGDClassifier``.
    eta0 : float, default=0.01
        The learning rate of 'constant', the initial one of 'invscaling' and 'adaptive'.
    power_t : float, default=0.25
        The exponent of 'invscaling'.
    early_stopping : bool, default=False
        Hold out a random (not stratified) ``validation_fraction`` and stop on its R^2.
    validation_fraction : float, default=0.1
        The share of the training rows that ``early_stopping`` holds out.
    n_iter_no_change : int, default=5
        How many epochs in a row without improvement (the ``tol`` rule) stop training.
    warm_start : bool, default=False
        ``fit`` goes on from the current plain SGD weights and running average, as scikit-learn's
        SGDRegressor does; ``t_`` counts from 1 again.
    average : bool or int, default=False
        Averaged SGD from sample number ``average`` on (True: 1).
    n_jobs : int or None, default=None
        Threads that run the ``parallel`` strategy's shards; ignored when ``parallel`` is None.
        It never changes the model.
    parallel : {'average', 'hogwild'} or None, default=None
        fastsgd only. 'average' trains on threads as in ``SGDClassifier``. 'hogwild' trains
        only the plain log-loss update, so a regressor's ``fit`` refuses it (ValueError).
    n_shards : int, default=4
        fastsgd only: the shards of ``parallel``, part of the model's definition (1:
        sequential).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The weights, in the dtype of the training data; with ``average``, the averaged weights
        once ``average`` samples have been seen.
    intercept_ : ndarray of shape (1,)
        The intercept.
    n_features_in_ : int
        The number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        The feature names, when X has string column names.
    n_iter_ : int
        Epochs run by the last fit, or 1 after ``partial_fit``.
    t_ : float
        Samples seen, plus one (scikit-learn's convention).
    loss_curve_ : list of float
        Each epoch's mean progressive loss.

    See Also
    --------
    SGDClassifier : The linear classifiers of the same engine.
    TwoLayerNetRegressor : A regressor with one hidden layer.
    sklearn.linear_model.SGDRegressor : scikit-learn's estimator, which this one reproduces.

    Notes
    -----
    Differences from scikit-learn's ``SGDRegressor``, as for ``SGDClassifier``: int64 CSR
    indices are accepted, 'pa1'/'pa2' are not implemented, ``verbose`` is
    a progress bar; ``n_jobs`` never changes the model, and ``parallel='average'`` with
    ``n_shards`` trains on threads.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn import linear_model
    >>> from fastsgd import SGDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    >>> reg = SGDRegressor(random_state=0).fit(X, y)
    >>> np.round(reg.coef_, 2), np.round(reg.intercept_, 2)
    (array([ 0.99, -1.99,  0.49]), array([2.99]))

    scikit-learn's estimator with the same settings (and seed) trains the same model:

    >>> sk = linear_model.SGDRegressor(random_state=0).fit(X, y)
    >>> np.allclose(reg.coef_, sk.coef_), np.allclose(reg.intercept_, sk.intercept_)
    (True, True)
    """

    loss_functions: ClassVar[dict] = _loss_table(REGRESSION_LOSSES)

    _parameter_constraints: ClassVar[dict] = {
        **_LinearEngine._parameter_constraints,
        "loss": [StrOptions(set(loss_functions))],
    }

    _warm_start_from_coef = False

    def __init__(
        self,
        loss: str = "squared_error",
        *,
        penalty: str | None = "l2",
        alpha: float = 0.0001,
        l1_ratio: float | None = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        verbose: int = 0,
        epsilon: float = DEFAULT_EPSILON,
        random_state=None,
        learning_rate: str = "invscaling",
        eta0: float = 0.01,
        power_t: float = 0.25,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        warm_start: bool = False,
        average: bool | int = False,
        n_jobs: int | None = None,
        parallel: str | None = None,
        n_shards: int = 4,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average
        self.n_jobs = n_jobs
        self.parallel = parallel
        self.n_shards = n_shards

    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None):
        """Run one epoch over (X, y), continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training samples, converted by the same rules as in ``fit``.
        y : array-like of shape (n_samples,)
            The targets, read as float64.
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplies each sample's step.

        Returns
        -------
        self : object
            The updated estimator.

        Raises
        ------
        ValueError
            On the first call with ``early_stopping=True`` (there is no validation split to
            hold out), as in scikit-learn's SGDRegressor; on any call, for X with another
            number of features than the first call's.
        """
        return self._fit(
            X, y, max_iter=1, classes=None, init=None, incremental=True,
            sample_weight=sample_weight,
        )  # fmt: skip

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict w . x + b for each row of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted values.
        """
        return self._predict_scores(X).ravel()

    # -- hooks ----------------------------------------------------------------------------------

    @staticmethod
    def _n_outputs(n_classes):
        return 1

    def _has_fitted_state(self):
        return hasattr(self, "coef_")

    def _targets_are_classes(self):
        return False

    def _encode_targets(self, y, classes, first_call, incremental):
        try:
            targets = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"y cannot be read as numbers: {error}") from error
        if targets.ndim != 1:
            raise ValueError(f"y must be 1-D for SGDRegressor; got shape {targets.shape}.")
        if not np.isfinite(targets).all():
            raise ValueError("Input y contains NaN or infinity.")
        return None, np.ascontiguousarray(targets)

    def _expose(self, coef, intercept):
        self.coef_, self.intercept_ = coef.reshape(-1), intercept.reshape(1)

    def _training_weights(self, X, y, classes, sample_weight, incremental):
        return self._sample_weights(X, sample_weight)

    def _positive_classes(self, n_models):
        return np.ones(n_models, dtype=np.int64)  # unused: float targets

    @staticmethod
    def _shuffle_seed(rng):
        # _fit_regressor draws the shuffle seed first, then make_dataset's
        seed = int(rng.randint(0, MAX_INT))
        rng.randint(1, MAX_INT)
        return seed

    def _untrained_loss(self, codes, rows, weights):
        # the loss of predicting 0 for every row (the zero model's), by scikit-learn's formulas
        residual = np.abs(codes[rows])
        epsilon = float(self.epsilon)
        if self.loss == "squared_error":
            losses = 0.5 * residual**2
        elif self.loss == "huber":
            small = residual <= epsilon
            losses = np.where(small, 0.5 * residual**2, epsilon * (residual - 0.5 * epsilon))
        elif self.loss == "epsilon_insensitive":
            losses = np.maximum(0.0, residual - epsilon)
        else:  # squared_epsilon_insensitive
            losses = np.maximum(0.0, residual - epsilon) ** 2
        scale = float(np.mean(losses)) if rows.size else 0.0
        if weights is not None and rows.size:
            scale *= max(1.0, float(np.mean(weights[rows])))
        return max(scale, 1e-12)

    def _validation_splitter(self):
        # SGDRegressor's early-stopping split: random, not stratified
        from sklearn.model_selection import ShuffleSplit

        return ShuffleSplit(test_size=self.validation_fraction, random_state=self.random_state)

    def _validation_scores(self, X, codes, rows, weights, params, session):
        X_rows = self._held_out_rows(X, rows, session)
        scores = self._plain_scores(X_rows, params, session)
        self._check_finite_scores(X_rows, scores)
        sample_weight = None if weights is None else weights[rows]
        from sklearn.metrics import r2_score

        return np.array([r2_score(codes[rows], scores[:, 0], sample_weight=sample_weight)])

    def _n_stopping_units(self, n_classes):
        return 1
