"""Training outside ``fit`` on data that never sits in memory whole: ``fastsgd.dask`` (a
cluster's blocks) and ``fastsgd.stream`` (a file's cached buckets) share the estimator they
train with (``block_settings``) and warm starts (``warm_params``).

``train_rows`` is ``fastsgd.dask``'s unit of work: a block's share of an epoch as one training
session, as one ``partial_fit`` call is (the schedule's sample count continues from the blocks
before it, the linear engine's session state restarts, a net's velocities go on). A fit from a
file instead keeps one session for the whole fit, as a local fit does.
"""

import copy

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from fastsgd.estimators.net import _NetBase
from fastsgd.estimators.sweep import LogisticRegressionSweep

SEED_RANGE = 2**31 - 1


def check_trainable(estimator, supported, where, early_stopping_reason, parallel_advice):
    """What training outside ``fit`` refuses: another kind of estimator (a TypeError naming
    the ``supported`` classes), invalid parameters, and ``early_stopping`` and ``parallel``,
    which the caller's own data layout replaces (ValueErrors giving its reasons)."""
    if isinstance(estimator, LogisticRegressionSweep) or not isinstance(estimator, supported):
        names = [kind.__name__ for kind in supported]
        if "SGDClassifier" in names:  # and its subclass
            names.insert(names.index("SGDClassifier") + 1, "LogisticRegression")
        raise TypeError(
            f"{where} trains {', '.join(names[:-1])} and {names[-1]}; got "
            f"{type(estimator).__name__}."
        )
    estimator._validate_params()
    if getattr(estimator, "early_stopping", False):
        raise ValueError(f"early_stopping is not supported {early_stopping_reason}")
    if estimator.parallel is not None:
        raise ValueError(f"parallel={estimator.parallel!r} is not supported {parallel_advice}")


def train_rows(settings, X, codes, weights, order, before, offset=0):
    """One block's share of an epoch, continuing ``before`` = (params, t, rates, loss sums,
    objective sums, samples, velocities): the weights it starts from, the sums of the blocks
    before it, and a net's momentum velocities (None: zero, or no momentum). ``order`` is the
    rows to visit, in visiting order; ``codes`` the encoded targets, ``weights`` the per-sample
    weights or None; ``offset`` the visits of the blocks before this one in the epoch when they
    are not counted in ``t`` (parameter averaging).

    Pure: it never writes to its inputs, so a rerun on any worker gives the same bits.
    """
    params, t, rates, loss_sum, objective_sum, seen, velocities = before
    estimator = copy.copy(settings)  # sessions may set attributes; threads share ``settings``
    params = [p.copy() for p in params]  # copies: aligned, and the weights sent stay as they are
    rates = rates.copy()
    n = order.size
    if velocities is not None:
        # the net's session goes on with these velocities (copied), as partial_fit continues
        estimator._resume = {"velocities": velocities}
    classes = getattr(settings, "classes_", None)
    n_classes = 1 if classes is None else classes.size  # a regressor: one
    session = estimator._start_session(X, params, n_classes, t + offset, weights, 1)
    losses, objectives = estimator._run_kernel(X, codes, order, params, rates, 1, session)
    estimator._finish_session(session, params)
    return (
        params, t + n, rates, loss_sum + losses * n, objective_sum + objectives * n, seen + n,
        momentum_velocities(settings, session),
    )  # fmt: skip


def momentum_velocities(settings, session):
    """A net's momentum velocities after a session, in the weights' layout; else None."""
    if isinstance(settings, _NetBase) and settings.momentum != 0.0:
        return session["velocities"]
    return None


def block_settings(estimator, classes=None, counts=None, n_features=None, dtype=None):
    """The estimator the blocks train with: its parameters, a regressor's outputs, and once the
    classes are known the class weights of all the blocks, never its fitted state."""
    settings = type(estimator)(**estimator.get_params(deep=False))
    settings.set_params(verbose=0, warm_start=False)
    if "_call_outputs" in estimator.__dict__:  # set by the caller for a regressor
        settings._call_outputs = estimator._call_outputs
    if classes is None:
        return settings
    settings.classes_ = classes
    if getattr(settings, "class_weight", None) == "balanced":
        if not counts.all():
            raise ValueError(
                f"class_weight='balanced' needs samples of every class; classes "
                f"{classes[counts == 0].tolist()!r} have none."
            )
        # compute_class_weight's formula, over every block's labels
        weights = counts.sum() / (classes.size * counts.astype(np.float64))
        settings.set_params(class_weight=dict(zip(classes.tolist(), weights.tolist(), strict=True)))
    # The estimator keeps its class weights for the kernels; y=classes: they need no labels.
    settings._training_weights(np.empty((0, n_features), dtype), classes, classes, None, False)
    return settings


def checked_classes(labels, classes, where):
    """The classes to train: ``classes`` (sorted, unique) when given, else the sorted
    ``labels`` found in the data; refuses labels outside the given classes, and fewer than two
    classes. ``where`` opens the message (``"y contains"``, ``"The file has"``)."""
    if classes is None:
        check_classification_targets(labels)
        classes = labels
    else:
        classes = np.unique(np.asarray(classes))
        unknown = labels[~np.isin(labels, classes)]
        if unknown.size:
            raise ValueError(
                f"{where} labels {unknown.tolist()!r} that are not in classes {classes.tolist()!r}."
            )
    if classes.size < 2:
        raise ValueError(
            "The training data contains only one class "
            f"({classes.tolist()!r}); a classifier needs samples of at least 2 classes."
        )
    return classes


def starting_point(estimator, classes, n_features, dtype):
    """(params, t, loss_curve, seed, rates) a fit starts from: the initial weights drawn from
    ``random_state`` as in a local fit (or the fitted ones, under ``warm_start``), then one
    ``seed`` for the epochs' orders drawn from the same generator, and the initial rates."""
    n_classes = 1 if classes is None else classes.size  # a regressor: one output
    rng = check_random_state(estimator.random_state)
    if estimator.warm_start and estimator._has_fitted_state():
        params, t, loss_curve = warm_params(estimator, classes, n_features, dtype)
    else:
        params = estimator._init_params(n_features, n_classes, dtype, rng, {})
        t, loss_curve = estimator._t_start, []
    seed = int(rng.randint(SEED_RANGE))
    return params, t, loss_curve, seed, estimator._initial_rates(n_classes)


def warm_params(estimator, classes, n_features, dtype):
    """warm_start: the fitted weights, t_ and loss_curve_, if they fit this data (a regressor:
    if its outputs match y's columns, which the weights' shapes check)."""
    if classes is not None and not np.array_equal(classes, estimator.classes_):
        raise ValueError(
            f"warm_start needs the same classes as before: got {classes.tolist()!r}, fitted on "
            f"{estimator.classes_.tolist()!r}."
        )
    n_classes = 1 if classes is None else classes.size
    wanted = estimator._init_params(n_features, n_classes, dtype, np.random.RandomState(0), {})
    if getattr(estimator, "_warm_start_from_coef", False):
        # SGDClassifier and LogisticRegression, as in a local fit and in scikit-learn: from
        # coef_ and intercept_ (averaged, if exposed), with t_ and the average restarted
        coef, intercept = estimator._fitted_weights()
        if coef.shape != wanted[0].shape:
            raise ValueError(
                f"warm_start cannot continue: the fitted coef_ has shape {coef.shape}, but X "
                f"with {n_features} features needs {wanted[0].shape}. Fit without warm_start."
            )
        init = {"coef": coef, "intercept": intercept}
        params = estimator._init_params(n_features, classes.size, dtype, None, init)
        return params, estimator._t_start, []
    estimator._refuse_to_continue()  # going on from the training state (a model file may lack it)
    params = [p.astype(dtype, copy=True) for p in estimator._get_params_arrays()]
    if [p.shape for p in params] != [p.shape for p in wanted]:
        raise ValueError(
            f"warm_start cannot continue: the fitted weights have shapes "
            f"{[p.shape for p in params]}, but X with {n_features} features and the current "
            f"parameters need {[p.shape for p in wanted]}. Fit without warm_start."
        )
    # t_ and the loss curve go on (the nets) or restart (SGDRegressor), as in a local fit
    t, loss_curve = estimator._continued_count(False)
    return params, t, loss_curve
