"""The scikit-learn face shared by every fastsgd classifier.

This layer validates, encodes labels, runs the epoch loop (shuffling, chunking, progress bar,
stopping rule, divergence check, warm start) and dispatches each chunk of samples to a compiled
kernel. It never computes the model's math itself and never copies X when X is already a
C-contiguous float32 or float64 array (or a canonical CSR matrix of those).

Bad input is refused here, before any kernel sees it, with a ValueError or TypeError naming the
argument: a numba typing error, an out-of-bounds access or a NaN model are never the answer.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import ClassVar, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from fastsgd._names import STRATEGIES
from fastsgd.estimators._driver import (
    TrainingInterruptedWarning,
    apply_stopping_rule,
    kept_an_epoch,
    run_epochs,
    warn_max_iter_reached,
)
from fastsgd.estimators._labels import check_partial_fit_classes, encode_labels
from fastsgd.estimators._validation import (
    as_float_array,
    checked_csr,
    explain_unreadable,
    float_dtypes,
    refuse_non_numeric,
)
from fastsgd.parallel._threading import parallel_region, resolve_n_jobs
from fastsgd.parallel.threads import (
    ShardsStopped,
    ShardThreads,
    mix,
    private_copy,
    shard_slices,
)

# Re-exported: the other estimators and fastsgd.dask import these from here.
__all__ = [
    "SGDBase",
    "SGDClassifierBase",
    "TrainingInterruptedWarning",
    "apply_stopping_rule",
    "as_float_array",
    "check_partial_fit_classes",
    "checked_csr",
    "encode_labels",
    "explain_unreadable",
    "float_dtypes",
    "kept_an_epoch",
    "refuse_non_numeric",
    "warn_max_iter_reached",
]


class ParallelPlan(NamedTuple):
    """How a fit runs its epochs: ``strategy`` None (sequential), 'average' or 'hogwild'."""

    strategy: str | None
    n_shards: int
    n_threads: int


# A mean training loss this many times an untrained model's, or the call's first epoch's, reads
# as divergence (two orders of magnitude).
EXPLODED = 100.0

# Samples x features x models handled per kernel call. A chunk of this size takes tens of
# milliseconds: often enough to keep the progress bar live, rare enough that the Python call per
# chunk costs nothing measurable.
CHUNK_ELEMENTS = 1 << 24


class SGDBase(BaseEstimator):
    """Validation and the epoch loop; subclasses say how to make, check and train parameters.

    A subclass implements:
    - ``_init_params(n_features, n_classes, dtype, rng, init)``: a list of new parameter arrays;
      ``init`` holds the user's initial values (``None`` where not given).
    - ``_get_params_arrays()`` / ``_set_params_arrays(params)``: read and write the fitted
      attributes as that list.
    - ``_run_kernel(X, codes, order, params, rates, n_shards, session)``: one kernel call over
      ``order`` (a chunk of the visiting order) with one learning rate per stopping unit (0:
      the unit has stopped), updating ``params`` in place and returning each unit's mean loss
      and mean objective (the loss plus any penalty) over the chunk. ``n_shards`` > 1 asks for
      the parallel kernel of the ``parallel`` strategy with that many shards.
    - ``_n_stopping_units(n_classes)``: how many independently stopped models ``params`` holds.
    - ``_work_per_sample(n_features, n_classes)``: multiply-adds per sample, to size the chunks.
    and may set ``_samples_per_step`` (a chunk is a whole number of steps) and ``_t_start``,
    and override ``_start_session`` / ``_finish_session`` (training state that lives for one
    fit or partial_fit call), ``_validation_scores`` (for ``early_stopping``) and
    ``_training_weights`` (sample weights).
    """

    _accept_sparse = False

    _samples_per_step = 1
    _t_start = 1.0  # SGDClassifier counts t_ from 1
    _t_counts_held_out = True  # SGDClassifier's t_ counts the early-stopping rows too

    _parameter_constraints: ClassVar[dict] = {
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"constant"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "fit_intercept": ["boolean"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
        "parallel": [StrOptions(set(STRATEGIES)), None],
        "n_shards": [Interval(Integral, 1, None, closed="left")],
    }

    def save(self, path) -> None:
        """Write the fitted model to ``path``: arrays and JSON in an .npz, never a pickle.

        The file holds the hyperparameters, the fitted weights and scalars, and the training
        state that ``partial_fit`` and a warm-started ``fit`` go on from. Read it back with
        ``fastsgd.load(path)``; the user guide's *Model files* page describes the format.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write, as given (no ``.npz`` suffix is added). The file is written beside
            it and renamed into place when complete: a failed or interrupted save never leaves
            a partial file, nor destroys the file it would replace.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            When the estimator is not fitted yet.
        TypeError
            When a hyperparameter cannot be stored (numbers, text, booleans, None, sequences
            of them and dicts keyed by labels can), such as
            ``random_state=np.random.RandomState(0)``: pass random_state as an int or None.
            No file is written.

        See Also
        --------
        fastsgd.load : Read the model back.
        """
        from fastsgd.persistence import save

        check_is_fitted(self)  # the NotFittedError that predict raises
        save(self, path)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over (X, y), continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training samples, converted by the same rules as in ``fit``.
        y : array-like of shape (n_samples,)
            The class labels.
        classes : array-like of shape (n_classes,), default=None
            All the labels that will ever appear. Required on the first call; a later call
            may pass it again, with the same labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplies each sample's step (where the estimator supports it).

        Returns
        -------
        self : object
            The updated estimator.

        Raises
        ------
        ValueError
            On the first call: without ``classes``, with ``early_stopping=True`` (there is no
            validation split to hold out) or with ``class_weight='balanced'`` (compute the
            weights once with ``sklearn.utils.class_weight.compute_class_weight`` and pass
            them as a dict), as in scikit-learn's SGDClassifier. On any call: ``classes``
            other than the first call's, a label of y outside them, or X with another number
            of features.
        """
        return self._fit(
            X, y, max_iter=1, classes=classes, init=None, incremental=True,
            sample_weight=sample_weight,
        )  # fmt: skip

    @staticmethod
    def _n_outputs(n_classes):
        """Output units: one for two classes (a sigmoid), else one per class."""
        return 1 if n_classes == 2 else n_classes

    # -- validation ---------------------------------------------------------------------------

    def _validate_training_data(self, X, y, reset):
        # Finiteness of X is not checked here: that would be a full extra pass over X. NaN or
        # inf in X always makes the weights non-finite, which the epoch loop detects and then
        # diagnoses (see _check_finite_after_epoch).
        name = type(self).__name__
        refuse_non_numeric(X, "X", name)
        try:
            X, y = validate_data(
                self,
                X,
                y,
                reset=reset,
                accept_sparse="csr" if self._accept_sparse else False,
                accept_large_sparse=True,
                dtype=float_dtypes(X),
                order="C",
                ensure_all_finite=False,
                **self._target_checks(),
            )
        except (TypeError, ValueError) as error:
            explain_unreadable(X, "X", error)
            raise
        if not y.dtype.isnative:  # the kernels read the labels, and numba types native order only
            y = y.astype(y.dtype.newbyteorder("="))
        if sp.issparse(X):
            X = checked_csr(X, canonical=self._needs_canonical_csr())
        return X, y

    def _target_checks(self):
        """Extra arguments of validate_data for y (a multi-output estimator sets them)."""
        return {}

    def _needs_canonical_csr(self):
        """Whether training on CSR rows with unsorted or duplicate column indices would differ
        from training on their canonical form by more than rounding."""
        return True

    def _validate_predict_data(self, X):
        check_is_fitted(self)
        refuse_non_numeric(X, "X", type(self).__name__)
        try:
            X = validate_data(
                self, X, reset=False, accept_sparse="csr" if self._accept_sparse else False,
                accept_large_sparse=True, dtype=float_dtypes(X),
            )  # fmt: skip
        except (TypeError, ValueError) as error:
            explain_unreadable(X, "X", error)
            raise
        if sp.issparse(X):  # scipy's product sums duplicates itself, but never checks bounds
            X = checked_csr(X, canonical=False)
        return X

    # -- training -----------------------------------------------------------------------------

    def _initial_rates(self, n_classes):
        """Each stopping unit's learning rate at the start of a fit."""
        return np.full(self._n_stopping_units(n_classes), float(self.eta0))

    def _fit(
        self, X, y, *, max_iter, classes, init, incremental, sample_indices=None,
        sample_weight=None,
    ):  # fmt: skip
        """Train and commit the result; on any error the estimator keeps its previous state."""
        # validate_data records n_features_in_ (and feature_names_in_) before training starts;
        # put them back if this call fails, so that the previous model stays usable.
        recorded = {
            name: getattr(self, name)
            for name in ("n_features_in_", "feature_names_in_")
            if hasattr(self, name)
        }
        try:
            return self._fit_or_raise(
                X, y, max_iter, classes, init, incremental, recorded, sample_indices,
                sample_weight,
            )  # fmt: skip
        except BaseException as error:
            if kept_an_epoch(error):  # an interrupt after a finished epoch: that model stays
                raise
            for name in ("n_features_in_", "feature_names_in_"):
                if name in recorded:
                    setattr(self, name, recorded[name])
                elif hasattr(self, name):
                    delattr(self, name)
            raise

    def _fit_or_raise(
        self, X, y, max_iter, classes, init, incremental, recorded, sample_indices, sample_weight
    ):
        self._validate_params()
        self._validate_training_settings(incremental)
        first_call = not (incremental and self._has_fitted_state())
        X, y = self._validate_training_data(X, y, reset=first_call)
        classes, codes = self._encode_targets(y, classes, first_call, incremental)
        n_classes = 1 if classes is None else classes.size  # a regressor: one output

        rng = check_random_state(self.random_state)
        keep_params = (incremental and self._has_fitted_weights()) or (
            self.warm_start and self._has_fitted_state() and init is None
        )
        if keep_params:
            self._refuse_to_continue()
            if (
                not incremental and classes is not None
                and not np.array_equal(classes, self.classes_)
            ):  # fmt: skip
                raise ValueError(
                    f"warm_start needs the same classes as before: got {classes.tolist()!r}, "
                    f"fitted on {self.classes_.tolist()!r}."
                )
            params = self._copied_params(X.dtype)
            # fit with warm_start: the shapes the current hyperparameters and X call for (a
            # throwaway draw). partial_fit needs no such check: validate_data already compared
            # the features, and the kernels take their sizes from the arrays themselves.
            wanted = params
            if not incremental:
                wanted = self._init_params(
                    X.shape[1], n_classes, X.dtype, np.random.RandomState(0), {}
                )
            if [p.shape for p in params] != [p.shape for p in wanted]:
                raise ValueError(
                    f"warm_start cannot continue: the fitted weights have shapes "
                    f"{[p.shape for p in params]} (n_features_in_="
                    f"{recorded.get('n_features_in_')}), but X with {X.shape[1]} features and "
                    f"the current parameters need {[p.shape for p in wanted]}. Fit without "
                    "warm_start."
                )
            t, loss_curve = self._continued_count(incremental)
        else:
            params = self._init_params(X.shape[1], n_classes, X.dtype, rng, init or {})
            t = self._t_start
            loss_curve = []

        if sample_indices is None:
            order = np.arange(X.shape[0], dtype=np.int64)
        else:  # train on these rows only (a validation split), without copying X
            order = np.array(sample_indices, dtype=np.int64)
        n_rows = order.size  # SGDClassifier advances t_ by the validation rows too
        weights = self._training_weights(X, y, classes, sample_weight, incremental)
        validation = None
        rows = order
        if getattr(self, "early_stopping", False) and not incremental:
            order, validation = self._validation_split(order, codes, weights, rng)
        next_order = self._epoch_orders(rng, n_classes, rows, order)
        n_samples = order.size
        if not self._t_counts_held_out:
            n_rows = n_samples
        step = self._samples_per_step
        row_width = X.nnz / max(X.shape[0], 1) if sp.issparse(X) else X.shape[1]
        work = max(1, int(self._work_per_sample(row_width, n_classes)))
        chunk = max(1, CHUNK_ELEMENTS // (work * step)) * step
        plan = self._parallel_plan()
        hogwild_shards = plan.n_shards if plan.strategy == "hogwild" else 1
        session = self._start_session(X, params, n_classes, t, weights, hogwild_shards)
        if hogwild_shards > 1:
            chunk = max(n_samples, 1)  # one parallel kernel call per epoch
        # Each stopping unit (a one-vs-rest model, or the whole net) follows SGDClassifier's
        # rule on its own loss; a unit that has stopped keeps its weights (rate 0) while the
        # others train on.
        rates = self._initial_rates(n_classes)
        visits = [order]

        threads = ShardThreads(plan.n_threads) if plan.strategy == "average" else None

        def run_epoch(epoch, rates, bar):
            if self.shuffle:
                visits[0] = next_order()
            if threads is not None:
                # every shard starts where a sequential epoch would: t counts the visits
                return self._run_average_epoch(
                    X, codes, visits[0], params, rates, chunk, bar, epoch, plan.n_shards,
                    threads, session, t + epoch * n_samples,
                )  # fmt: skip
            return self._run_epoch(
                X, codes, visits[0], params, rates, chunk, bar, epoch, plan, session
            )

        def keep_finished(interrupt, finished, n_iter):
            self._keep_finished_epochs(interrupt, finished, classes, n_iter)

        try:
            n_iter, t, loss_curve = run_epochs(
                self, max_iter=max_iter, n_samples=n_samples, n_rows=n_rows, t=t,
                loss_curve=loss_curve, rates=rates, incremental=incremental, run_epoch=run_epoch,
                check_epoch=lambda losses, epoch: self._check_finite_after_epoch(
                    X, params, losses, epoch
                ),
                snapshot=lambda: self._finished_params(session, params),
                on_interrupt=keep_finished,
                validation_scores=None if validation is None else (
                    lambda: self._validation_scores(X, codes, validation, weights, params, session)
                ),
                after_epoch=self._after_epoch_rule(session),
                warning_stacklevel=4,  # run_epochs <- _fit_or_raise <- _fit <- fit <- the caller
            )  # fmt: skip
        finally:
            if threads is not None:
                threads.close()
        self._finish_session(session, params)
        self._commit(classes, params, n_iter, t, loss_curve)
        self._warn_if_exploded(X, codes, order, weights, loss_curve[len(loss_curve) - n_iter :])
        return self

    def _warn_if_exploded(self, X, codes, rows, weights, losses):
        """A ConvergenceWarning when this call's training looks diverged (but stayed finite,
        which the divergence check refuses). From the epochs' mean losses, over two epochs or
        more: the last stays far above an untrained model's without coming down (not below
        half the first), or has grown by orders of magnitude over the best epoch. A large loss
        that falls epoch after epoch (unscaled features with a large first step, say) is a fit
        on its way, not a diverged one; one epoch cannot tell the two apart, so a single-epoch
        call (partial_fit) is judged by the net's check only: a net whose output is the same for
        every training row."""
        if not losses:
            return
        last = losses[-1]
        untrained = self._untrained_loss(codes, rows, weights)
        stuck = last > EXPLODED * untrained and last > 0.5 * losses[0]
        grew = last > EXPLODED * max(min(losses), 0.0) and last > untrained
        if len(losses) > 1 and (stuck or grew):
            problem = (
                f"the mean training loss went from {losses[0]:.3g} in this call's first epoch "
                f"to {last:.3g} in its last (an untrained model's is about {untrained:.3g})"
            )
        else:
            problem = self._degenerate_predictions(X, codes, rows, losses)
            if problem is None:
                return
        warnings.warn(
            f"{type(self).__name__} training looks diverged: {problem}. {self._rate_advice()}",
            ConvergenceWarning,
            stacklevel=5,  # _warn_if_exploded <- _fit_or_raise <- _fit <- fit <- the caller
        )

    def _untrained_loss(self, codes, rows, weights):
        """About the mean loss of an untrained model (a classifier's at margin 0: at most 1
        for every loss, on targets +1 / -1), scaled by the sample and class weights."""
        scale = 1.0
        if weights is not None and rows.size:
            scale *= max(1.0, float(np.mean(weights[rows])))
        class_weight = getattr(self, "_expanded_class_weight", None)
        if class_weight is not None and class_weight.size:
            scale *= max(1.0, float(np.max(class_weight)))
        return scale

    def _degenerate_predictions(self, X, codes, rows, losses):
        """What is wrong with the trained model's predictions on the training rows (given this
        call's epoch losses), or None."""
        return None

    def _rate_advice(self):
        """The sentence that names the learning rate and suggests a smaller one."""
        return (
            f"{self._rate_description()} is likely too large: try a smaller one (for example "
            f"eta0={float(self.eta0) / 10:g}), or scale the features (for example with "
            "sklearn.preprocessing.StandardScaler)."
        )

    def _commit(self, classes, params, n_iter, t, loss_curve):
        self.__dict__.pop("_continue_refusal", None)  # a new training state is complete
        if classes is not None:
            self.classes_ = classes
        self.n_iter_ = n_iter
        self.t_ = t
        self.loss_curve_ = loss_curve
        self._set_params_arrays(params)

    def _keep_finished_epochs(self, interrupt, finished, classes, n_iter):
        """After an interrupt: commit the last finished epoch, or keep the previous state, and
        say which in a warning."""
        name = type(self).__name__
        if finished is None:
            warnings.warn(
                f"{name} training was interrupted in epoch {n_iter + 1}, before an epoch of "
                "this call finished; the estimator keeps the state it had before the call.",
                TrainingInterruptedWarning,
                stacklevel=4,
            )
            return
        params, done, t, loss_curve = finished
        self._commit(classes, params, done, t, loss_curve)
        interrupt.fastsgd_kept_epoch = True
        warnings.warn(
            f"{name} training was interrupted in epoch {done + 1}; the model holds the weights "
            f"after epoch {done} (n_iter_={done}, t_={t:g}).",
            TrainingInterruptedWarning,
            stacklevel=4,
        )

    def _run_epoch(self, X, codes, order, params, rates, chunk, bar, epoch, plan, session):
        """One epoch in chunks; returns each stopping unit's mean progressive loss and mean
        objective."""
        loss_sum = np.zeros(rates.size)
        objective_sum = np.zeros(rates.size)
        for start in range(0, order.size, chunk):
            part = order[start : start + chunk]
            if plan.strategy == "hogwild" and plan.n_shards > 1:
                with parallel_region(plan.n_threads):
                    losses, objectives = self._run_kernel(
                        X, codes, part, params, rates, plan.n_shards, session
                    )
            else:
                losses, objectives = self._run_kernel(X, codes, part, params, rates, 1, session)
            loss_sum += losses * part.size
            objective_sum += objectives * part.size
            bar.update(part.size)
            if not bar.disable:
                running = loss_sum.mean() / (start + part.size)
                bar.set_postfix(epoch=epoch + 1, loss=f"{running:.5f}")
        return loss_sum / max(order.size, 1), objective_sum / max(order.size, 1)

    def _run_average_epoch(
        self, X, codes, order, params, rates, chunk, bar, epoch, n_shards, threads, session, t
    ):  # fmt: skip
        """'average' (``fastsgd.parallel.threads``): each shard of the epoch's order runs the
        sequential engine on its own copy of ``params`` and of the session's training state.
        Every visit keeps the sample number it has in a sequential epoch that starts at ``t``
        (shard s counts from t plus the visits before it), for the schedule and the averaging.
        ``params`` (and the session's state) become the copies mixed by their visit counts, in
        shard order (``_mix_shard_params``). Returns the epoch's mean loss and objective."""
        slices = shard_slices(order.size, n_shards)

        def run_shard(shard, stop):
            part = order[slices[shard][0] : slices[shard][1]]
            mine = [private_copy(p) for p in params]
            shard_session = self._shard_session(session, X, mine, t + slices[shard][0])
            loss_sum = np.zeros(rates.size)
            objective_sum = np.zeros(rates.size)
            for start in range(0, part.size, chunk):
                if stop.is_set():
                    raise ShardsStopped
                piece = part[start : start + chunk]
                losses, objectives = self._run_kernel(
                    X, codes, piece, mine, rates, 1, shard_session
                )
                loss_sum += losses * piece.size
                objective_sum += objectives * piece.size
            self._finish_shard(shard_session, mine)
            return mine, shard_session, loss_sum, objective_sum

        def shard_done(shard, result):
            bar.update(slices[shard][1] - slices[shard][0])
            if not bar.disable:
                bar.set_postfix(epoch=epoch + 1)

        results = threads.run(run_shard, len(slices), shard_done)
        n_visits = max(order.size, 1)
        shares = [(stop - start) / n_visits for start, stop in slices]
        mixed = self._mix_shard_params(params, [r[0] for r in results], slices, t)
        for param, value in zip(params, mixed, strict=True):
            param[...] = value
        self._mix_shard_sessions(session, [r[1] for r in results], shares)
        loss_sum = sum(r[2] for r in results)
        objective_sum = sum(r[3] for r in results)
        return loss_sum / n_visits, objective_sum / n_visits

    # -- hooks with defaults ------------------------------------------------------------------

    def _after_epoch_rule(self, session):
        """A callable that replaces SGDClassifier's stopping rule in run_epochs, or None."""
        return None

    def _epoch_rule_session(self):
        """What ``_after_epoch_rule`` needs when no training session exists (fastsgd.dask)."""
        return None

    def _parallel_plan(self):
        """The ``parallel`` strategy, its shards (part of the model's definition) and the
        threads that run them (``n_jobs``: never part of the model). One shard is sequential
        SGD."""
        strategy = getattr(self, "parallel", None)
        n_shards = int(getattr(self, "n_shards", 1))
        n_threads = resolve_n_jobs(self.n_jobs)  # checked (n_jobs=0) even when unused
        if strategy is None or n_shards == 1:
            return ParallelPlan(None, 1, 1)
        return ParallelPlan(strategy, n_shards, min(n_shards, n_threads))

    def _shard_session(self, session, X, params, t):
        """A training session for one 'average' shard: ``session`` with its own copy of the
        training state, over the shard's copy ``params``, counting samples from ``t``."""
        return session

    def _mix_shard_params(self, params, shard_params, bounds, t):
        """The parameters after an 'average' epoch: the shards' copies (``shard_params``, shard
        s trained on visits [start, stop) = ``bounds[s]`` of the epoch, from ``params`` at
        sample count ``t``) mixed by their visit counts, in shard order (``fastsgd.dask``'s
        average mode mixes its blocks with the same function)."""
        n_visits = max(bounds[-1][1] - bounds[0][0], 1)
        return mix([(stop - start) / n_visits for start, stop in bounds], shard_params)

    def _finish_shard(self, session, params):
        """Bring a shard's ``params`` to their plain form (folding any scale) before mixing."""

    def _mix_shard_sessions(self, session, shard_sessions, shares):
        """Set the training state that outlives an epoch (a net's velocities) to the shards'
        states mixed by ``shares``."""

    def _epoch_orders(self, rng, n_classes, rows, train):
        """A function that returns each shuffled epoch's visiting order of the ``train`` rows
        (``rows`` are all the rows of the call, held-out ones included): here a NumPy shuffle
        of ``train`` in place."""

        def next_order():
            rng.shuffle(train)
            return train

        return next_order

    def _continued_count(self, incremental):
        """(t, loss_curve) to go on from when training continues from the fitted weights."""
        return self.t_, list(self.loss_curve_)

    def _has_fitted_state(self):
        """Whether a fit or partial_fit has left a model (labels, features) to continue from."""
        return hasattr(self, "classes_")

    def _refuse_to_continue(self):
        """Raise when the fitted model lacks the training state that continuing needs (a model
        file of an older format: ``fastsgd.persistence`` then sets ``_continue_refusal`` to the
        reason). Prediction is unaffected."""
        reason = self.__dict__.get("_continue_refusal")
        if reason:
            raise ValueError(reason)

    def _has_fitted_weights(self):
        """Whether there are weights to continue from (MLPClassifier's partial_fit goes on from
        coefs_ set by hand, labels or not)."""
        return self._has_fitted_state()

    def _validate_training_settings(self, incremental):
        """Checks of the hyperparameters that depend on each other or on the call."""

    def _warns_at_max_iter(self, max_iter):
        """Whether fit warns when it runs all max_iter epochs with tol set."""
        return max_iter > 1

    def _encode_targets(self, y, classes, first_call, incremental):
        """``(classes, codes)``: the sorted labels and y as their indices (a regressor returns
        ``(None, y as float64)``)."""
        if first_call and incremental:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            classes, codes = encode_labels(y, check_partial_fit_classes(classes))
        elif first_call:
            classes, codes = encode_labels(y)
        else:
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"classes={np.unique(classes).tolist()!r} differs from the classes "
                    f"{self.classes_.tolist()!r} of the first call to partial_fit."
                )
            classes, codes = encode_labels(y, self.classes_)
        if classes.size < 2:
            raise ValueError(
                "The training data contains only one class "
                f"({classes.tolist()!r}); a classifier needs samples of at least 2 classes."
            )
        return classes, codes

    def _training_weights(self, X, y, classes, sample_weight, incremental):
        """Per-sample weights for the kernels, or None; this estimator takes none."""
        if sample_weight is not None:
            raise TypeError(f"{type(self).__name__} does not support sample_weight.")
        return None

    def _start_session(self, X, params, n_classes, t, weights, n_shards):
        """State that lives for one fit/partial_fit call, passed to every kernel call."""
        return None

    def _finish_session(self, session, params):
        """Bring ``params`` to their final form at the end of a call."""

    def _copied_params(self, dtype):
        """Copies of the fitted parameters to train on from X of this dtype (warm start and
        partial_fit)."""
        return [p.astype(dtype, copy=True) for p in self._get_params_arrays()]

    def _finished_params(self, session, params):
        """Copies of ``params`` in their final form, leaving the session as it is (what an
        interrupt in the next epoch leaves in the model)."""
        return [p.copy() for p in params]

    def _validation_splitter(self):
        """The early-stopping splitter: SGDClassifier's stratified one (a regressor: random)."""
        # imported here, as the other scikit-learn modules that only a fit with early stopping
        # or a score needs: importing the estimators stays close to importing sklearn.base
        from sklearn.model_selection import StratifiedShuffleSplit

        return StratifiedShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )

    def _validation_split(self, order, codes, weights, rng):
        """SGDClassifier's early-stopping split: a ``validation_fraction`` of the rows, drawn by
        ``_validation_splitter`` seeded with random_state (stratified by class for a
        classifier), never trained on."""
        n_rows = order.size
        splitter = self._validation_splitter()
        try:
            train, held_out = next(splitter.split(np.zeros((n_rows, 1)), codes[order]))
        except ValueError as error:
            raise ValueError(
                f"early_stopping cannot split {n_rows} samples with validation_fraction="
                f"{self.validation_fraction}: {error}"
            ) from None
        if weights is not None and not np.any(weights[order[held_out]] > 0):
            raise ValueError(
                "The sample weights for validation set are all zero, consider using a different "
                "random state (or another validation_fraction)."
            )
        # both in visiting order, as SGDClassifier skips the held-out rows of its pass
        return np.sort(order[train]), np.sort(order[held_out])

    def _validation_scores(self, X, codes, rows, weights, params, session):
        """Each stopping unit's validation score, higher is better."""
        raise NotImplementedError

    def _check_finite_after_epoch(self, X, params, losses, epoch):
        if np.isfinite(losses).all() and all(np.isfinite(p).all() for p in params):
            return
        assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
        raise ValueError(
            f"The weights became non-finite in epoch {epoch + 1}: training diverged. "
            f"{self._rate_description()} is likely too large for this data; lower it, or "
            "scale the features (for example with sklearn.preprocessing.StandardScaler). The "
            f"estimator keeps the state it had before this call. (scikit-learn's words: "
            f"{self._sklearn_divergence_words(epoch)})"
        )

    def _sklearn_divergence_words(self, epoch):
        """What scikit-learn's counterpart says when its weights become non-finite."""
        return (
            f"Floating-point under-/overflow occurred at epoch #{epoch + 1}. Scaling input data "
            "with StandardScaler or MinMaxScaler might help."
        )

    def _check_finite_scores(self, X_rows, scores):
        """Early stopping's held-out rows are never trained on, so the divergence check after the
        epoch cannot see NaN or inf there; their scores do (the weights are finite by then)."""
        if not np.isfinite(scores).all():
            assert_all_finite(X_rows, input_name="X", estimator_name=type(self).__name__)

    def _rate_description(self):
        return f"The learning rate eta0={self.eta0!r}"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self._accept_sparse
        # Hogwild's threads race on shared weights: two fits differ
        tags.non_deterministic = getattr(self, "parallel", None) == "hogwild"
        return tags


class SGDClassifierBase(ClassifierMixin, SGDBase):
    """SGDBase for classifiers: labels, predict, accuracy."""

    # -- prediction ---------------------------------------------------------------------------

    def predict(self, X):
        """Predict the class label of each row of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples (a sparse matrix for the linear models only).

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted labels, taken from ``classes_``.
        """
        scores = self._predict_scores(X)
        if scores.ndim == 1 or scores.shape[1] == 1:
            indices = (scores.reshape(-1) > 0).astype(np.intp)
        else:
            indices = scores.argmax(axis=1)
        return self.classes_[indices]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of predict(X) against y (scikit-learn's ClassifierMixin.score).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.
        y : array-like of shape (n_samples,)
            The true labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the mean; NaN or infinite weights are refused.

        Returns
        -------
        float
            The (weighted) fraction of samples predicted right (for a multilabel y, with
            every label right).
        """
        if sample_weight is not None:
            # NaN or inf weights are refused on every supported scikit-learn (1.6's
            # accuracy_score took them)
            sample_weight = _check_sample_weight(sample_weight, X)
        return super().score(X, y, sample_weight=sample_weight)

    def predict_log_proba(self, X):
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
