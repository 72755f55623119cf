"""TwoLayerNet and TwoLayerNetRegressor: one hidden layer trained by SGD (handout section 39.2),
scikit-learn's ``MLPClassifier`` / ``MLPRegressor(solver='sgd', hidden_layer_sizes=(H,))``."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, softmax
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, column_or_1d

from fastsgd._names import ACTIVATIONS, LOSSES, OUTPUTS
from fastsgd.estimators import _kernels
from fastsgd.estimators._base import SGDBase, SGDClassifierBase
from fastsgd.estimators._validation import as_float_array
from fastsgd.parallel.threads import mix, private_copy

# MLPClassifier's words when batch_size exceeds the samples (then clipped).
BATCH_CLIPPED = "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped"


class _NetBase(SGDBase):
    """What TwoLayerNet and TwoLayerNetRegressor share: the weights, the kernel calls, and
    MLPClassifier's SGD semantics (momentum state, learning-rate schedules, stopping rule,
    early stopping with the best weights kept)."""

    _parameter_constraints: ClassVar[dict] = {
        **SGDBase._parameter_constraints,
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
    }
    _t_start = 0  # MLPClassifier counts t_ from 0, training rows only
    _t_counts_held_out = False

    # -- public API ---------------------------------------------------------------------------

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        coefs_init: list[ArrayLike] | None = None,
        intercepts_init: list[ArrayLike] | None = None,
        sample_weight: ArrayLike | None = None,
    ):
        """Train for up to ``max_iter`` epochs.

        Training starts from a Glorot initialisation, from ``coefs_init`` and
        ``intercepts_init``, or, with ``warm_start``, from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples, dense. A C-contiguous float32 or float64 array is used
            without a copy (the class's Notes give the rules).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            TwoLayerNet: the class labels, or a multilabel indicator matrix (0/1 entries).
            TwoLayerNetRegressor: the targets, one column per output.
        coefs_init : list of two array-like, default=None
            The initial W1, of shape (n_features, n_hidden), and W2, of shape
            (n_hidden, n_outputs), instead of Glorot's draw (which is drawn all the same, so
            that the random state moves on as without them). Copied, never trained in place.
        intercepts_init : list of two array-like, default=None
            The initial b1, of shape (n_hidden,), and b2, of shape (n_outputs,).
        sample_weight : array-like of shape (n_samples,), default=None
            As in MLPClassifier, a batch's gradient is its samples' gradients weighted by
            sample_weight and divided by the batch's weight sum (a batch of weight 0 takes no
            step), so the weights act within batches of 2 or more. With ``batch_size=1`` a
            positive weight cancels, except that it divides the penalty's share (see
            ``alpha``); a zero weight gives its sample no gradient (with momentum, that step
            still applies the velocity).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        init = None
        if coefs_init is not None or intercepts_init is not None:
            init = {"coefs": coefs_init, "intercepts": intercepts_init}
        return self._fit(
            X, y, max_iter=self.max_iter, classes=None, init=init, incremental=False,
            sample_weight=sample_weight,
        )  # fmt: skip

    # -- validation ---------------------------------------------------------------------------

    # Attributes that live for one fit or partial_fit call only (see _fit).
    _CALL_ATTRIBUTES = (
        "_resume", "_call_outputs", "_call_multilabel", "_call_y_1d", "_finished_state",
    )  # fmt: skip

    def _fit(self, *args, **kwargs):
        try:
            return super()._fit(*args, **kwargs)
        finally:
            for name in self._CALL_ATTRIBUTES:
                self.__dict__.pop(name, None)

    def _validate_training_settings(self, incremental):
        if incremental and self.early_stopping:  # MLPClassifier's words
            raise ValueError("partial_fit does not support early_stopping=True")
        self._resume = None  # set by _continued_count when partial_fit goes on

    def _outputs(self, n_classes):
        """(output activation, output units) of this call; without one (fastsgd.dask, which
        trains single-label classifiers), those of ``n_classes`` classes."""
        outputs = self.__dict__.get("_call_outputs")
        if outputs is None:
            n_out = 1 if n_classes == 2 else n_classes
            outputs = ("logistic" if n_out == 1 else "softmax", n_out)
        return outputs

    def _target_checks(self):
        return {"multi_output": True, "y_numeric": self._regression}

    # -- hooks for the base class -------------------------------------------------------------

    @property
    def _samples_per_step(self):
        return 1 if self.batch_size == "auto" else self.batch_size

    def _work_per_sample(self, n_features, n_classes):
        return n_features * self.n_hidden

    def _n_stopping_units(self, n_classes):
        return 1

    def _has_fitted_weights(self):
        return hasattr(self, "coefs_")

    def _training_weights(self, X, y, classes, sample_weight, incremental):
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=np.float64)

    def _continued_count(self, incremental):
        if incremental:  # partial_fit goes on with the optimizer's state, as MLPClassifier
            self._resume = getattr(self, "_optimizer_state", None)
        return self.t_, list(self.loss_curve_)

    def _init_params(self, n_features, n_classes, dtype, rng, init):
        n_out = self._outputs(n_classes)[1]
        shapes = [(n_features, self.n_hidden), (self.n_hidden, n_out)]
        # MLPClassifier's Glorot uniform initialisation, drawn in the same order.
        factor = 2.0 if self.activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for fan_in, fan_out in shapes:
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(rng.uniform(-bound, bound, fan_out))
        if not self.fit_intercept:
            intercepts = [np.zeros_like(b) for b in intercepts]
        for name, given, target in (
            ("coefs_init", init.get("coefs"), coefs),
            ("intercepts_init", init.get("intercepts"), intercepts),
        ):
            if given is None:
                continue
            if not isinstance(given, list | tuple):
                raise TypeError(
                    f"{name} must be a list of two arrays (one per layer), got "
                    f"{type(given).__name__}"
                )
            if len(given) != 2:
                raise ValueError(f"{name} must be a list of two arrays, got {len(given)}")
            for layer, (value, default) in enumerate(zip(given, target, strict=True)):
                # a copy: never train the caller's
                value = as_float_array(
                    value, f"{name}[{layer}]", np.float64, copy=True,
                    estimator_name=type(self).__name__,
                )  # fmt: skip
                if value.shape != default.shape:
                    raise ValueError(
                        f"{name}[{layer}] has shape {value.shape}; expected {default.shape}"
                    )
                if not np.isfinite(value).all():
                    raise ValueError(f"{name}[{layer}] contains NaN or infinity.")
                target[layer] = value
        W1t = np.ascontiguousarray(coefs[0].T, dtype=dtype)
        return [
            W1t,
            intercepts[0].astype(dtype),
            np.ascontiguousarray(coefs[1], dtype=dtype),
            intercepts[1].astype(dtype),
        ]

    def _get_params_arrays(self):
        W1, W2 = self.coefs_
        b1, b2 = self.intercepts_
        return [np.ascontiguousarray(W1.T), b1, W2, b2]

    def _set_params_arrays(self, params):
        W1t, b1, W2, b2 = params
        self.coefs_ = [W1t.T, W2]
        self.intercepts_ = [b1, b2]

    def _forward(self, X, W1, b1, W2, b2):
        """z2 for the rows of X."""
        z1 = X @ W1 + b1
        if self.activation == "logistic":
            a1 = expit(z1)
        elif self.activation == "tanh":
            a1 = np.tanh(z1)
        elif self.activation == "identity":
            a1 = z1
        else:
            a1 = np.maximum(z1, 0)
        return a1 @ W2 + b2

    def _predict_scores(self, X):
        X = self._validate_predict_data(X)
        W1, W2 = self.coefs_
        b1, b2 = self.intercepts_
        return self._forward(X, W1, b1, W2, b2)

    def _validation_split(self, order, codes, weights, rng):
        """MLPClassifier's early-stopping split: scikit-learn's train_test_split of the rows with
        the estimator's random generator (after the initial weights were drawn), stratified for a
        single-output classifier; the training rows are visited in the split's order."""
        # MLPClassifier stratifies on its binarized y, an (n, 1) boolean column for two classes
        # (the same split as on the codes; its errors then name the classes 'False', 'True')
        stratify = (codes[order] == 1).reshape(-1, 1) if self._stratified_split() else None
        try:
            from sklearn.model_selection import train_test_split

            train, held_out = train_test_split(
                order, random_state=rng, test_size=self.validation_fraction, stratify=stratify
            )
        except ValueError as error:
            raise ValueError(
                f"early_stopping cannot split {order.size} samples with validation_fraction="
                f"{self.validation_fraction}: {error}"
            ) from None
        if held_out.size < 2:  # MLPClassifier's words
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of "
                "your dataset."
            )
        return np.ascontiguousarray(train), np.sort(held_out)

    def _validation_scores(self, X, codes, rows, weights, params, session):
        W1t, b1, W2, b2 = params
        held_out = X[rows]
        z2 = self._forward(held_out, W1t.T, b1, W2, b2)
        self._check_finite_scores(held_out, z2)
        held_weights = None if weights is None else weights[rows]
        return np.array([self._held_out_score(z2, codes[rows], held_weights)])

    def _start_session(self, X, params, n_classes, t, weights, n_shards):
        output = self._outputs(n_classes)[0]
        batch_size = self.batch_size
        n_train = X.shape[0]
        if batch_size == "auto":
            batch_size = min(200, n_train)
        elif batch_size > n_train:
            warnings.warn(BATCH_CLIPPED, stacklevel=5)
            batch_size = max(1, n_train)
        resume = self.__dict__.get("_resume")
        if resume is not None:
            kept = resume["velocities"]
            if kept is None or [v.shape for v in kept] != [p.shape for p in params]:
                kept = [np.zeros_like(p) for p in params]  # none kept: a new optimizer's zeros
            velocities = [v.astype(X.dtype) for v in kept]
            state = dict(resume, velocities=velocities)
        else:
            velocities = [np.zeros_like(p) for p in params]
            state = self._epoch_rule_session()["state"]
            state["velocities"] = velocities
        if self.momentum == 0.0:
            velocities = [np.zeros((0,) * p.ndim, dtype=p.dtype) for p in params]
        no_weights = np.zeros(0)
        return {
            "state": state,
            "velocities": velocities,
            "weights": no_weights if weights is None else weights,
            "settings": dict(
                activation=ACTIVATIONS.index(self.activation),
                loss=LOSSES.index(self._loss_name),
                output=OUTPUTS.index(output),
                alpha=self.alpha,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
                fit_intercept=self.fit_intercept,
                batch_size=batch_size,
            ),
            "best_params": None,
            "params": params,
        }

    def _epoch_rule_session(self):
        """The stopping state of a fit that starts a new optimizer (no velocity, eta0); under
        warm start the stopping state goes on from the fitted model, as in MLPClassifier."""
        state = {
            "rate": float(self.eta0),
            "no_improvement": 0,
            "best_loss": None if self.early_stopping else np.inf,
            "best_score": -np.inf if self.early_stopping else None,
            "scores": [] if self.early_stopping else None,
            "velocities": None,
        }
        if self._has_fitted_state() and self.warm_start:
            state.update(
                no_improvement=getattr(self, "_no_improvement_count", 0),
                best_loss=getattr(self, "best_loss_", state["best_loss"]),
                best_score=getattr(self, "best_validation_score_", state["best_score"]),
                scores=_listed(getattr(self, "validation_scores_", state["scores"])),
            )
            if self.early_stopping and state["scores"] is None:
                state.update(scores=[], best_score=-np.inf)
            if not self.early_stopping and state["best_loss"] is None:
                state.update(best_loss=np.inf)
        return {"state": state, "params": None, "best_params": None}

    def _initial_rates(self, n_classes):
        resume = self.__dict__.get("_resume")
        return np.array([float(self.eta0) if resume is None else resume["rate"]])

    def _run_kernel(self, X, codes, order, params, rates, n_shards, session):
        settings = _kernels.net_settings(eta=float(rates[0]), **session["settings"])
        arguments = (X, codes, session["weights"], order, *params,
                     tuple(session["velocities"]), settings)  # fmt: skip
        if n_shards > 1:  # Hogwild (all threads on the same weights)
            loss = _kernels.net_sgd_epoch_hogwild(*arguments, n_shards)
        # each path compiles only its own loop; the arguments were validated here, so the
        # kernels' own checks are skipped (kernels/net.py: epoch_body)
        elif settings.batch_size > 1:
            loss = _kernels.unchecked_batched_epoch(*arguments)
        elif settings.momentum == 0.0 and settings.alpha == 0.0:
            loss = _kernels.unchecked_plain_epoch(*arguments)
        else:
            loss = _kernels.unchecked_general_epoch(*arguments)
        losses = np.array([loss])
        return losses, losses

    def _shard_session(self, session, X, params, t):
        # a shard's own momentum velocities, from the epoch's mixed ones
        return dict(session, velocities=[private_copy(v) for v in session["velocities"]])

    def _mix_shard_sessions(self, session, shard_sessions, shares):
        velocities = mix(shares, [shard["velocities"] for shard in shard_sessions])
        for velocity, mixed in zip(session["velocities"], velocities, strict=True):
            velocity[...] = mixed

    def _after_epoch_rule(self, session):
        """MLPClassifier's bookkeeping after each epoch (in partial_fit too): the best loss or
        validation score, the no-improvement count, the invscaling rate, and the stopping rule
        (more than n_iter_no_change epochs without improvement by tol: stop, or under
        'adaptive' divide the rate by 5 while it is above 1e-6)."""
        state = session["state"]

        def after_epoch(loss, scores, rates, t, incremental):
            if scores is not None:
                score = float(scores[0])
                state["scores"].append(score)
                if self.tol is not None and score < state["best_score"] + self.tol:
                    state["no_improvement"] += 1
                else:
                    state["no_improvement"] = 0
                if score > state["best_score"]:
                    state["best_score"] = score
                    session["best_params"] = [p.copy() for p in session["params"]]
            else:
                # None after a fit with early_stopping (MLPClassifier's best_loss_)
                best = np.inf if state["best_loss"] is None else state["best_loss"]
                if self.tol is not None and loss > best - self.tol:
                    state["no_improvement"] += 1
                else:
                    state["no_improvement"] = 0
                state["best_loss"] = min(best, loss)
            if self.learning_rate == "invscaling":
                rates[0] = float(self.eta0) / (t + 1) ** self.power_t
            stop = False
            if state["no_improvement"] > self.n_iter_no_change:
                if self.learning_rate == "adaptive" and rates[0] > 1e-6:
                    rates[0] /= 5.0
                    state["no_improvement"] = 0
                elif incremental:
                    state["no_improvement"] = 0  # MLPClassifier's partial_fit cannot stop
                else:
                    stop = True
            state["rate"] = float(rates[0])
            return stop

        return after_epoch

    def _finish_session(self, session, params):
        if self.early_stopping and session["best_params"] is not None:
            for param, best in zip(params, session["best_params"], strict=True):
                param[...] = best  # MLPClassifier keeps the best validation weights
        state = session["state"]
        if self.momentum != 0.0:
            state["velocities"] = session["velocities"]
        self.__dict__["_finished_state"] = state  # committed with the weights by _commit

    def _commit(self, classes, params, n_iter, t, loss_curve):
        super()._commit(classes, params, n_iter, t, loss_curve)
        # fastsgd.dask commits without a local session: a later partial_fit then starts a new
        # optimizer, and the stopping attributes describe no run
        state = self.__dict__.pop("_finished_state", None)
        self._optimizer_state = state
        self._no_improvement_count = 0 if state is None else state["no_improvement"]
        self.best_loss_ = None if state is None else state["best_loss"]
        self.validation_scores_ = None if state is None else state["scores"]
        self.best_validation_score_ = None if state is None else state["best_score"]
        self.loss_ = loss_curve[-1] if loss_curve else None
        self.n_layers_ = 3  # input, hidden and output layers (MLPClassifier's count)
        self.n_outputs_ = params[2].shape[1]
        self.out_activation_ = self._outputs(2 if params[2].shape[1] == 1 else 3)[0]

    def _rate_description(self):
        return f"The learning rate eta0={self.eta0!r}"

    def _untrained_loss(self, codes, rows, weights):
        if self._regression:  # MLPRegressor's squared loss of predicting 0
            scale = 0.5 * float(np.mean(np.square(codes[rows]))) if rows.size else 0.0
        else:  # at most 1 per output unit for the logistic/softmax log-loss and squared error
            scale = float(self.n_outputs_)
        if weights is not None and rows.size:
            scale *= max(1.0, float(np.mean(weights[rows])))
        return max(scale, 1e-12)

    def _degenerate_predictions(self, X, codes, rows, losses):
        # A net whose hidden units all died (relu) or saturated gives the same output for every
        # input, so it predicts one class everywhere. Checked on 500 evenly spaced training rows
        # (a small copy of X). An undertrained net may predict one class too, from outputs that
        # still depend on the input: that is no divergence, and gives no warning.
        if self._regression or codes.ndim != 1 or rows.size == 0:
            return None
        checked = rows[np.linspace(0, rows.size - 1, min(rows.size, 500)).astype(np.intp)]
        truth = np.unique(codes[checked])
        if truth.size < 2:
            return None
        # X is the validated training array: no second validation (and no feature-name check)
        W1, W2 = self.coefs_
        b1, b2 = self.intercepts_
        scores = self._forward(X[checked], W1, b1, W2, b2)
        spread = float(np.max(np.ptp(scores, axis=0)))
        if not spread <= 1e-9 * (1.0 + float(np.max(np.abs(scores)))):
            return None
        index = int(scores[0, 0] > 0) if scores.shape[1] == 1 else int(np.argmax(scores[0]))
        label = self.classes_[index]
        label = label.item() if isinstance(label, np.generic) else label
        return (
            f"it predicts {label!r} for every training sample checked ({checked.size} rows, "
            f"which hold {truth.size} classes): its output is the same for every input, its "
            "hidden units dead or saturated"
        )

    def _sklearn_divergence_words(self, epoch):
        return (  # MLPClassifier's
            "Solver produced non-finite parameter weights. The input data may contain large "
            "values and need to be preprocessed."
        )


def _listed(values):
    return None if values is None else list(values)


class TwoLayerNet(SGDClassifierBase, _NetBase):
    """A two-layer net (one hidden layer) trained by per-sample or mini-batch SGD.

    Forward: ``z1 = x W1 + b1, a1 = g1(z1), z2 = a1 W2 + b2, a2 = g2(z2)`` with g1 the hidden
    activation, and g2 one sigmoid unit for two classes (the handout's net), a softmax over the
    classes, or one sigmoid per label for a multilabel indicator y. Backward by the chain rule;
    every weight is updated from the same forward pass. With ``n_hidden=1,
    activation='logistic', loss='squared_error', fit_intercept=False`` and one feature it is
    exactly the handout's net, and one step applies 39.2 (f).

    It is scikit-learn's ``MLPClassifier(solver='sgd', hidden_layer_sizes=(H,))`` step for step:
    the same Glorot initialisation from the same random_state, the same batches, L2 penalty,
    momentum, learning-rate schedules, stopping rule and early-stopping split, so that with
    ``n_hidden=H, eta0=learning_rate_init`` and the other parameters equal, it trains the same
    weights (tests/test_net_parity.py). The defaults are the handout's (no momentum, no penalty,
    a constant rate, one sample per step); MLPClassifier's ``solver='sgd'`` defaults are
    ``alpha=1e-4, momentum=0.9, nesterovs_momentum=True, batch_size='auto', eta0=0.001``.

    Parameters
    ----------
    n_hidden : int, default=32
        H, the width of the hidden layer (MLPClassifier's ``hidden_layer_sizes=(H,)``).
    activation : {'logistic', 'tanh', 'relu', 'identity'}, default='relu'
        g1, the hidden layer's activation.
    loss : {'log_loss', 'squared_error'}, default='log_loss'
        Cross-entropy, or ``1/2 (a2 - y)^2`` summed over the outputs (the handout's 39.2 d).
    eta0 : float, default=0.01
        The (initial) learning rate, MLPClassifier's ``learning_rate_init``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        'invscaling': after each epoch the rate becomes ``eta0 / (t_ + 1) ** power_t``.
        'adaptive': eta0, divided by 5 each time the stopping rule fires while it is above
        1e-6 (MLPClassifier's rules).
    power_t : float, default=0.5
        The exponent of 'invscaling'.
    alpha : float, default=0.0
        L2 penalty on the weights (not the biases): each batch's gradient gets
        ``alpha W / (sum of the batch's sample weights)`` and its loss
        ``alpha/2 |W|^2 / (the same sum)``, MLPClassifier's scaling.
    momentum : float in [0, 1], default=0.0
        Every parameter moves by a velocity ``v = momentum v - eta grad``.
    nesterovs_momentum : bool, default=True
        With momentum: Nesterov's step ``momentum v - eta grad`` instead of ``v``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (scikit-learn's train_test_split,
        stratified for a single-output classifier, as MLPClassifier), never train on them, stop
        on their accuracy instead of the training loss, and keep the weights of the epoch with
        the best validation accuracy. Not with partial_fit.
    validation_fraction : float, default=0.1
        The share of the training rows that ``early_stopping`` holds out.
    max_iter : int, default=200
        The most epochs ``fit`` runs.
    tol : float or None, default=1e-4
        Stop once the epoch's loss has failed more than ``n_iter_no_change`` epochs in a row to
        fall below the best so far minus ``tol`` (with early_stopping: the validation accuracy
        to rise above the best plus ``tol``). None: run max_iter epochs.
    n_iter_no_change : int or np.inf, default=10
        The epochs without improvement that the ``tol`` rule tolerates (np.inf: never stop).
    batch_size : int or 'auto', default=1
        1 is per-sample SGD (one fused compiled loop). Larger averages the gradient over each
        batch and takes one step per batch, with BLAS-3 products; 'auto' is min(200, n_samples).
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot initialisation, the early-stopping split and the shuffling, drawn in
        MLPClassifier's order.
    fit_intercept : bool, default=True
        Learn the biases b1, b2. When False they stay at their initial values (0, or
        ``intercepts_init``) and still enter the forward pass.
    warm_start : bool, default=False
        ``fit`` starts from the current weights instead of a new initialisation, as
        MLPClassifier does: ``t_``, ``loss_curve_`` and the stopping rule's state go on, the
        learning rate starts again at eta0 and the momentum velocities at zero.
    verbose : int, default=0
        Show a tqdm progress bar with the epoch and the running loss.
    n_jobs : int or None, default=None
        Threads that run the ``parallel`` strategy's shards (joblib's rules: None is 1 unless a
        ``joblib.parallel_config`` says otherwise, -1 every CPU). It never changes the model;
        ignored when ``parallel`` is None.
    parallel : {'average', 'hogwild'} or None, default=None
        fastsgd only. None: sequential SGD. 'average': each epoch's visiting order is cut into
        ``n_shards`` contiguous shards, each trained by this net's sequential SGD (every option)
        on its own copy of the weights and momentum velocities, and the copies are mixed by
        their sample counts (iterative parameter mixing); deterministic, whatever n_jobs.
        'hogwild': n_jobs threads update one shared set of weights without locks; NOT
        deterministic (tagged ``non_deterministic``).
    n_shards : int, default=4
        fastsgd only: the shards of ``parallel``, part of the model's definition (1:
        sequential).

    Attributes
    ----------
    coefs_ : list of two ndarray
        W1 of shape (n_features, n_hidden) and W2 of shape (n_hidden, n_outputs), in the
        dtype of the training data.
    intercepts_ : list of two ndarray
        b1 of shape (n_hidden,) and b2 of shape (n_outputs,).
    classes_ : ndarray of shape (n_classes,)
        The class labels (a multilabel y: 0, 1, ..., n_labels - 1).
    n_features_in_ : int
        The number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        The feature names, when X has string column names.
    n_iter_ : int
        Epochs run by the last fit, or 1 after ``partial_fit``.
    loss_curve_ : list of float
        Each epoch's mean training loss, the penalty included.
    loss_ : float
        The last epoch's loss, the penalty included.
    best_loss_ : float or None
        The lowest epoch loss (None with early_stopping).
    validation_scores_ : list or None
        The held-out accuracy after each epoch (None without early_stopping).
    best_validation_score_ : float or None
        The best held-out accuracy (None without early_stopping).
    t_ : int
        Training samples seen (MLPClassifier's convention).
    n_layers_ : int
        3: the input, hidden and output layers (MLPClassifier's count).
    n_outputs_ : int
        Output units: 1 for two classes, else the number of classes, or of labels.
    out_activation_ : {'logistic', 'softmax'}
        g2, the output activation.

    See Also
    --------
    TwoLayerNetRegressor : The same net for regression.
    LogisticRegression : The linear model (no hidden layer).
    sklearn.neural_network.MLPClassifier : scikit-learn's net, which this one reproduces.

    Notes
    -----
    Input and copies: dense X only (a sparse matrix raises a TypeError). Nothing ever writes to
    X, y or the initial weights. A C-contiguous float32 or float64 array (read-only or an
    ``np.memmap`` included) is used as it is, never copied, and the weights take its dtype.
    Other input is converted once per call into a C-contiguous copy, because the kernels walk
    X row by row: float32 in either byte order becomes native float32; float64 in another
    layout (Fortran order, a strided slice, big-endian) and every other numeric dtype (int,
    bool, float16, long double) become float64, scikit-learn's rule, so the model is the one of
    ``X.astype(np.float64)``; a pandas DataFrame is read through ``np.asarray`` by the same
    rule. Strings, bytes, dates, complex numbers and structured arrays are refused.
    ``early_stopping`` copies its held-out rows each epoch to score them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from fastsgd import TwoLayerNet
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> net = TwoLayerNet(n_hidden=16, random_state=0).fit(X, y)
    >>> net.n_iter_, round(net.score(X, y), 3)
    (168, 0.965)
    >>> [W.shape for W in net.coefs_]
    [(5, 16), (16, 1)]
    >>> net.predict_proba(X[1:2]).round(3)
    array([[0.165, 0.835]])

    scikit-learn's MLPClassifier with the same settings trains the same weights (five epochs
    here, after which both warn that training has not converged):

    >>> import warnings
    >>> from sklearn.exceptions import ConvergenceWarning
    >>> from sklearn.neural_network import MLPClassifier
    >>> mlp = MLPClassifier((16,), solver="sgd", learning_rate_init=0.01, alpha=0.0,
    ...                     momentum=0.0, batch_size=1, max_iter=5, random_state=0)
    >>> short = TwoLayerNet(n_hidden=16, max_iter=5, random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ConvergenceWarning)
    ...     mlp, short = mlp.fit(X, y), short.fit(X, y)
    >>> ours, theirs = short.coefs_ + short.intercepts_, mlp.coefs_ + mlp.intercepts_
    >>> all(np.allclose(a, b) for a, b in zip(ours, theirs))
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **_NetBase._parameter_constraints,
        "loss": [StrOptions(set(LOSSES))],
    }
    _regression = False

    def __init__(
        self,
        *,
        n_hidden: int = 32,
        activation: str = "relu",
        loss: str = "log_loss",
        eta0: float = 0.01,
        learning_rate: str = "constant",
        power_t: float = 0.5,
        alpha: float = 0.0,
        momentum: float = 0.0,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        max_iter: int = 200,
        tol: float | None = 1e-4,
        n_iter_no_change: int | float = 10,
        batch_size: int | str = 1,
        shuffle: bool = True,
        random_state=None,
        fit_intercept: bool = True,
        warm_start: bool = False,
        verbose: int = 0,
        n_jobs: int | None = None,
        parallel: str | None = None,
        n_shards: int = 4,
    ):
        self.n_hidden = n_hidden
        self.activation = activation
        self.loss = loss
        self.eta0 = eta0
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.alpha = alpha
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.parallel = parallel
        self.n_shards = n_shards

    @property
    def _loss_name(self):
        return self.loss

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over (X, y), continuing from the current weights, velocities and rate.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples, converted by the same rules as in ``fit``.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            The class labels, or a multilabel indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            All the labels that will ever appear (for a multilabel y, any array of its
            labels). Required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            As in ``fit``: the weights act within batches of 2 or more; with
            ``batch_size=1`` a positive weight cancels (but for the penalty's share) and a
            zero weight gives its sample no gradient.

        Returns
        -------
        self : object
            The updated estimator.

        Raises
        ------
        ValueError
            With ``early_stopping=True`` (on every call, as in MLPClassifier); without
            ``classes`` on the first call; for ``classes`` other than the first call's, a
            label of y outside them, a multilabel y after single labels (or the reverse, or
            another number of labels), or X with another number of features.
        """
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict the class of each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
            The predicted labels, taken from ``classes_``; for a net fitted on a multilabel
            y, the indicator matrix of its labels.
        """
        if getattr(self, "_multilabel", False):
            return (self._predict_scores(X) > 0).astype(int)
        return super().predict(X)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities: the output layer's sigmoid or softmax.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Each sample's probability of each class, in the order of ``classes_`` (for a
            multilabel y, each label's probability, independently).
        """
        z2 = self._predict_scores(X)
        if getattr(self, "_multilabel", False):
            return expit(z2)
        if z2.shape[1] == 1:
            p = expit(z2)
            return np.hstack([1.0 - p, p])
        return softmax(z2, axis=1)

    def _encode_targets(self, y, classes, first_call, incremental):
        if y.ndim == 2 and y.shape[1] > 1:
            if type_of_target(y) != "multilabel-indicator":
                raise ValueError(
                    "y with several columns must be a multilabel indicator matrix (0/1 "
                    f"entries); got type {type_of_target(y)!r}."
                )
            if first_call and incremental and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            n_labels = y.shape[1]
            if not first_call:
                if not getattr(self, "_multilabel", False) or self.classes_.size != n_labels:
                    raise ValueError(
                        f"y has {n_labels} labels; the model was fitted on "
                        f"{self.classes_.size} {'labels' if self._multilabel else 'classes'}."
                    )
            self._call_multilabel = True
            self._call_outputs = ("logistic", n_labels)
            return np.arange(n_labels), np.ascontiguousarray(y, dtype=np.float64)
        if y.ndim == 2:  # one column: scikit-learn's warning
            y = column_or_1d(y, warn=True)
        if not first_call and getattr(self, "_multilabel", False):
            raise ValueError("the model was fitted on a multilabel y; y is not one.")
        classes, codes = super()._encode_targets(y, classes, first_call, incremental)
        self._call_multilabel = False
        n_out = 1 if classes.size == 2 else classes.size
        self._call_outputs = ("logistic" if n_out == 1 else "softmax", n_out)
        return classes, codes

    def _commit(self, classes, params, n_iter, t, loss_curve):
        super()._commit(classes, params, n_iter, t, loss_curve)
        self._multilabel = self.__dict__.get("_call_multilabel", False)

    def _stratified_split(self):
        return self._outputs(2)[1] == 1

    def _held_out_score(self, z2, targets, weights):
        if not np.isfinite(z2).all():  # MLPClassifier's score of overflowing predictions
            return np.nan
        if targets.ndim == 2:
            predicted = (z2 > 0).astype(targets.dtype)
        elif z2.shape[1] == 1:
            predicted = (z2[:, 0] > 0).astype(np.intp)
        else:
            predicted = z2.argmax(axis=1)
        from sklearn.metrics import accuracy_score

        return accuracy_score(targets, predicted, sample_weight=weights)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class TwoLayerNetRegressor(RegressorMixin, _NetBase):
    """A two-layer net for regression: identity outputs and the squared error, trained by SGD.

    The handout's net (39.2) with the squared loss ``1/2 (a2 - y)^2`` and an identity output
    ``g2(z) = z``: scikit-learn's ``MLPRegressor(solver='sgd', hidden_layer_sizes=(H,))`` step
    for step, with the same initialisation, batches, penalty, momentum, schedules, stopping rule
    and early stopping (on the held-out R^2). y may have one column or several (one output unit
    each). The parameters, input rules and attributes are TwoLayerNet's (without ``loss``);
    ``score`` is R^2, and ``validation_scores_`` hold held-out R^2 values. The loss reported in
    ``loss_curve_`` is MLPRegressor's: half the squared error averaged over the samples and the
    outputs (its gradient is that of the sum over the outputs, as in scikit-learn).

    Parameters
    ----------
    n_hidden : int, default=32
        H, the width of the hidden layer.
    activation : {'logistic', 'tanh', 'relu', 'identity'}, default='relu'
        The hidden layer's activation.
    eta0 : float, default=0.001
        The (initial) learning rate: MLPRegressor's ``learning_rate_init`` default, ten times
        smaller than TwoLayerNet's, because the squared error of unscaled targets diverges at
        0.01 per sample on scikit-learn's own estimator checks.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        The schedule, as in TwoLayerNet.
    power_t : float, default=0.5
        The exponent of 'invscaling'.
    alpha : float, default=0.0
        L2 penalty on the weights, as in TwoLayerNet.
    momentum : float in [0, 1], default=0.0
        Every parameter moves by a velocity ``v = momentum v - eta grad``.
    nesterovs_momentum : bool, default=True
        With momentum: Nesterov's step.
    early_stopping : bool, default=False
        Hold out a random ``validation_fraction`` of the rows, stop on their R^2, and keep the
        weights of the epoch with the best R^2. Not with partial_fit.
    validation_fraction : float, default=0.1
        The share of the training rows that ``early_stopping`` holds out.
    max_iter : int, default=200
        The most epochs ``fit`` runs.
    tol : float or None, default=1e-4
        The stopping rule's tolerance, as in TwoLayerNet. None: run max_iter epochs.
    n_iter_no_change : int or np.inf, default=10
        The epochs without improvement that the ``tol`` rule tolerates (np.inf: never stop).
    batch_size : int or 'auto', default=1
        Samples per step; 'auto' is min(200, n_samples).
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the early-stopping split and the shuffling.
    fit_intercept : bool, default=True
        Learn the biases b1, b2.
    warm_start : bool, default=False
        ``fit`` starts from the current weights, as in TwoLayerNet.
    verbose : int, default=0
        Show a tqdm progress bar with the epoch and the running loss.
    n_jobs : int or None, default=None
        Threads that run the ``parallel`` strategy's shards; never changes the model.
    parallel : {'average', 'hogwild'} or None, default=None
        fastsgd only: as in TwoLayerNet.
    n_shards : int, default=4
        fastsgd only: the shards of ``parallel``, part of the model's definition (1:
        sequential).

    Attributes
    ----------
    coefs_ : list of two ndarray
        W1 of shape (n_features, n_hidden) and W2 of shape (n_hidden, n_outputs).
    intercepts_ : list of two ndarray
        b1 of shape (n_hidden,) and b2 of shape (n_outputs,).
    n_features_in_ : int
        The number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        The feature names, when X has string column names.
    n_iter_ : int
        Epochs run by the last fit, or 1 after ``partial_fit``.
    t_ : int
        Training samples seen.
    loss_curve_ : list of float
        Each epoch's mean loss, the penalty included.
    loss_ : float
        The last epoch's loss.
    best_loss_ : float or None
        The lowest epoch loss (None with early_stopping).
    validation_scores_ : list or None
        The held-out R^2 after each epoch (None without early_stopping).
    best_validation_score_ : float or None
        The best held-out R^2 (None without early_stopping).
    n_layers_ : int
        3: the input, hidden and output layers.
    n_outputs_ : int
        Output units: the columns of y.
    out_activation_ : 'identity'
        g2, the output activation.

    See Also
    --------
    TwoLayerNet : The same net for classification.
    SGDRegressor : The linear model (no hidden layer).
    sklearn.neural_network.MLPRegressor : scikit-learn's net, which this one reproduces.

    Examples
    --------
    A hidden layer fits what a linear model cannot, such as y = x^2:

    >>> import numpy as np
    >>> from fastsgd import SGDRegressor, TwoLayerNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, (200, 1))
    >>> y = X[:, 0] ** 2
    >>> net = TwoLayerNetRegressor(n_hidden=16, random_state=0).fit(X, y)
    >>> round(net.score(X, y), 3)
    0.987
    >>> net.predict([[-1.0], [0.0], [1.5]]).round(2)
    array([ 1.21, -0.03,  2.36])
    >>> round(SGDRegressor(random_state=0).fit(X, y).score(X, y), 3)
    0.011
    """

    _regression = True
    _loss_name = "squared_error"

    def __init__(
        self,
        *,
        n_hidden: int = 32,
        activation: str = "relu",
        eta0: float = 0.001,
        learning_rate: str = "constant",
        power_t: float = 0.5,
        alpha: float = 0.0,
        momentum: float = 0.0,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        max_iter: int = 200,
        tol: float | None = 1e-4,
        n_iter_no_change: int | float = 10,
        batch_size: int | str = 1,
        shuffle: bool = True,
        random_state=None,
        fit_intercept: bool = True,
        warm_start: bool = False,
        verbose: int = 0,
        n_jobs: int | None = None,
        parallel: str | None = None,
        n_shards: int = 4,
    ):
        self.n_hidden = n_hidden
        self.activation = activation
        self.eta0 = eta0
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.alpha = alpha
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.parallel = parallel
        self.n_shards = n_shards

    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over (X, y), continuing from the current weights, velocities and rate.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples, converted by the same rules as in ``fit``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets, with as many columns as in the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            As in ``fit``: the weights act within batches of 2 or more; with
            ``batch_size=1`` a positive weight cancels (but for the penalty's share) and a
            zero weight gives its sample no gradient.

        Returns
        -------
        self : object
            The updated estimator.

        Raises
        ------
        ValueError
            With ``early_stopping=True`` (on every call, as in MLPRegressor); for a y with
            another number of outputs, or X with another number of features, than the first
            call's.
        """
        return self._fit(
            X, y, max_iter=1, classes=None, init=None, incremental=True,
            sample_weight=sample_weight,
        )  # fmt: skip

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict the values of each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values: one per sample when the net was fitted on a 1-D y.
        """
        z2 = self._predict_scores(X)
        return z2.ravel() if self._y_was_1d else z2

    def _encode_targets(self, y, classes, first_call, incremental):
        one_dimensional = y.ndim == 1
        targets = np.ascontiguousarray(y.reshape(y.shape[0], -1), dtype=np.float64)
        if not first_call and targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {targets.shape[1]} outputs; the model was fitted on {self.n_outputs_}."
            )
        self._call_y_1d = one_dimensional
        self._call_outputs = ("identity", targets.shape[1])
        return None, targets

    def _commit(self, classes, params, n_iter, t, loss_curve):
        super()._commit(classes, params, n_iter, t, loss_curve)
        self._y_was_1d = self.__dict__.get("_call_y_1d", True)

    def _outputs(self, n_classes):
        return self.__dict__.get("_call_outputs", ("identity", 1))

    def _has_fitted_state(self):
        return hasattr(self, "coefs_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _stratified_split(self):
        return False

    def _held_out_score(self, z2, targets, weights):
        if not np.isfinite(z2).all():  # MLPRegressor's score of overflowing predictions
            return np.nan
        from sklearn.metrics import r2_score

        return r2_score(targets, z2, sample_weight=weights)
