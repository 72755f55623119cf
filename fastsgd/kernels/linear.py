"""The linear engine: per-sample SGD with every loss, penalty, schedule and averaging mode of
scikit-learn's SGDClassifier and SGDRegressor, with sample/class weights, over dense or CSR rows,
for a block of K weight vectors (binary, one-vs-rest, sweeps). The handout's logistic update is
its plainest case (log_loss, no penalty, a constant rate).

Public kernels (callable from any ``@njit`` function): ``linear_sgd_epoch`` runs one pass of
scikit-learn's ``_plain_sgd`` step over a visiting order, ``linear_sgd_finish`` folds the scale
factors into the weights at the end of a training run. Their docstrings, and those of the
tuples they take (``LinearSGDSettings``, ``LinearSGDState``), hold the argument-by-argument
contract.

The weights are kept as w = wscale * coef (the L2 shrink is one multiply per sample, not one
per weight) and the average as (average_coef + average_a * coef) / average_b (Bottou,
"Stochastic Gradient Descent Tricks", 2012: a sparse row updates only its own entries of both).
"""

import math
from collections import namedtuple

import numpy as np
from numba import literally, njit, types
from numba.extending import overload

from fastsgd._names import LEARNING_RATES  # noqa: F401 - re-exported: the codes are here
from fastsgd.kernels._checks import check_linear
from fastsgd.kernels._dense import JIT_OPTIONS, VECTOR_FASTMATH
from fastsgd.kernels._intrinsics import cast_like
from fastsgd.kernels._math import LOG_LOSS, loss_terms
from fastsgd.kernels._rows import (
    prefetch_distance_of,
    prefetch_visit,
    row_dot,
    row_source,
    row_step_and_dot,
    rows_step_and_dot,
    update_entries,
)

CONSTANT, OPTIMAL, INVSCALING, ADAPTIVE = 0, 1, 2, 3

# The loss sums log(1 + tail) as the log of a running product, taken every LOSS_FLUSH visits:
# one log per 512 samples instead of one log1p per sample (log1p costs ~10 ns here, a quarter of
# a k=100 epoch's per-sample time). Each factor lies in [1, 2], so 512 of them stay below 2**512.
# The absolute error per sample is about 1e-16, the rounding of 1 + tail.
LOSS_FLUSH = 512

# LEARNING_RATES (the codes' names, in this order) comes from fastsgd._names: numba-free

LinearSGDSettings = namedtuple(
    "LinearSGDSettings",
    [
        "learning_rate",  # CONSTANT, OPTIMAL, INVSCALING or ADAPTIVE
        "power_t",  # invscaling's exponent
        "alpha",  # optimal's scale
        "optimal_init",  # optimal's t0, see optimal_init()
        "l2_strength",  # (1 - l1_ratio) * alpha for 'l2'/'elasticnet', else 0
        "l1_strength",  # l1_ratio * alpha for 'l1'/'elasticnet', else 0
        "average_start",  # averaging starts at sample t == average_start; 0: no averaging
        "fit_intercept",
        "track_norms",  # keep scikit-learn's running norms for the objective
        "loss",  # a code of fastsgd.kernels.LINEAR_LOSSES; LOG_LOSS by default
        "epsilon",  # huber's delta, the epsilon-insensitive losses' margin
        "intercept_decay",  # the intercept's step factor (scikit-learn: 0.01 on sparse input)
    ],
    defaults=(LOG_LOSS, 0.1, 1.0),
)
LinearSGDSettings.__doc__ = """Options of the linear engine: schedule, penalty, averaging and loss.

A named tuple, passed unchanged to ``linear_sgd_epoch``; the estimators build it from their
parameters (``penalty``, ``l1_ratio``, ``alpha``, ``learning_rate``, ``average``, ...).

Parameters
----------
learning_rate : int
    The schedule's code, the position of its name in ``LEARNING_RATES``: 0 constant, 1
    optimal, 2 invscaling, 3 adaptive. The step size of the sample numbered t (from 1) is
    ``rates[m]`` for constant and adaptive (an adaptive schedule's caller lowers the rate
    between epochs), ``1 / (alpha (optimal_init + t - 1))`` for optimal and
    ``rates[m] / t ** power_t`` for invscaling.
power_t : float
    invscaling's exponent.
alpha : float
    optimal's scale.
optimal_init : float
    optimal's t0, see ``optimal_init``.
l2_strength : float
    ``(1 - l1_ratio) * alpha`` for penalty 'l2' or 'elasticnet', else 0.
l1_strength : float
    ``l1_ratio * alpha`` for penalty 'l1' or 'elasticnet', else 0.
average_start : int
    Averaging starts at sample t == average_start; 0: no averaging.
fit_intercept : bool
    Whether the intercepts are updated; they are always part of the margin.
track_norms : bool
    Keep scikit-learn's running norms of w (``state.sq_norm``, ``state.l1_norm``) for the
    objective.
loss : int, default=LOG_LOSS
    The loss's code, its position in ``LINEAR_LOSSES``.
epsilon : float, default=0.1
    Huber's delta, the epsilon-insensitive losses' margin.
intercept_decay : float, default=1.0
    The intercept's step factor (scikit-learn: 0.01 on sparse input).

See Also
--------
linear_sgd_epoch : The kernel that takes them.
LinearSGDState : The training state it updates.

Notes
-----
numba compiles the kernel for the types of the tuple's fields, so give each field the type
listed here (int, not bool, for ``average_start``; float, not int, for ``alpha``): then every
call shares one compiled kernel.

Examples
--------
The settings of the handout's plain update (log_loss, no penalty, a constant rate):

>>> from fastsgd.kernels import LEARNING_RATES, LINEAR_LOSSES, LinearSGDSettings
>>> settings = LinearSGDSettings(
...     learning_rate=LEARNING_RATES.index("constant"), power_t=0.5, alpha=1e-4,
...     optimal_init=0.0, l2_strength=0.0, l1_strength=0.0, average_start=0,
...     fit_intercept=True, track_norms=False,
... )
>>> LINEAR_LOSSES[settings.loss], settings.epsilon, settings.intercept_decay
('log_loss', 0.1, 1.0)
"""

LinearSGDState = namedtuple(
    "LinearSGDState",
    [
        "coef",
        "intercept",
        "average_coef",
        "average_intercept",
        "t",
        "l1_total",
        "l1_applied",
        "sq_norm",
        "l1_norm",
        "wscale",
        "average_a",
        "average_b",
    ],
)
LinearSGDState.__doc__ = """Training state of the linear engine: its weights and their bookkeeping.

A named tuple of arrays for K models over n_features features, all updated in place by
``linear_sgd_epoch``. Start a training run with t = 1, wscale = 1, average_a = 0 and
average_b = 1, and end it with ``linear_sgd_finish``, after which coef and average_coef hold
the plain weights.

Parameters
----------
coef : ndarray of shape (K, n_features)
    The stored weights, in X's dtype, C-contiguous; the weights are w = wscale * coef.
intercept : ndarray of shape (K,)
    The intercepts, in X's dtype.
average_coef : ndarray of shape (K, n_features), or (K, 0) without averaging
    The stored averaged weights; the average is
    ``(average_coef + average_a * coef) / average_b``. Use float64 whatever X's dtype, as
    the estimators do: it is a running sum over every sample, and in float32 its rounding
    grew to 0.8% of the largest weight over 1e7 samples (X's dtype compiles too).
average_intercept : ndarray of shape (K,)
    The averaged intercepts (float64 too, as the estimators pass them).
t : ndarray of shape (K,)
    float64: each model's sample count, from 1.
l1_total : ndarray of shape (K,)
    float64: the cumulative L1 penalty every weight should have received so far.
l1_applied : ndarray of shape (K, n_features), or (K, 0) without L1
    In X's dtype: what each weight has received of it.
sq_norm : ndarray of shape (K,)
    float64: scikit-learn's running squared norm of w, used only for the objective.
l1_norm : ndarray of shape (K,)
    float64: scikit-learn's running L1 norm of w, used only for the objective.
wscale : ndarray of shape (K,)
    float64: the scale of the stored weights.
average_a : ndarray of shape (K,)
    float64: the lazy average's coefficient of coef.
average_b : ndarray of shape (K,)
    float64: the lazy average's divisor.

See Also
--------
linear_sgd_epoch : The kernel that updates it.
linear_sgd_finish : Folds wscale, average_a and average_b into the arrays.

Notes
-----
The L2 shrink multiplies wscale (one multiply per sample, not one per weight), and the
average is kept lazily (Bottou, "Stochastic Gradient Descent Tricks", 2012), so that a sparse
row updates only its own entries of coef and average_coef.

Examples
--------
One model over two features, an L2 penalty and averaging from the first sample (without L1,
l1_applied is (1, 0)). Three visits, one per call, to record the weights after each step:

>>> import numpy as np
>>> from fastsgd.kernels import (
...     LEARNING_RATES, LinearSGDSettings, LinearSGDState, linear_sgd_epoch,
...     linear_sgd_finish,
... )
>>> state = LinearSGDState(
...     coef=np.zeros((1, 2)), intercept=np.zeros(1), average_coef=np.zeros((1, 2)),
...     average_intercept=np.zeros(1), t=np.ones(1), l1_total=np.zeros(1),
...     l1_applied=np.zeros((1, 0)), sq_norm=np.zeros(1), l1_norm=np.zeros(1),
...     wscale=np.ones(1), average_a=np.zeros(1), average_b=np.ones(1),
... )
>>> settings = LinearSGDSettings(
...     learning_rate=LEARNING_RATES.index("constant"), power_t=0.5, alpha=0.1,
...     optimal_init=0.0, l2_strength=0.1, l1_strength=0.0, average_start=1,
...     fit_intercept=False, track_norms=False,
... )
>>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1, 0, 1])
>>> weights = []  # the true weights after each step
>>> for row in range(3):
...     loss, objective = linear_sgd_epoch(
...         X, y, np.array([row]), None, np.array([1.0]), np.array([1]), np.ones((1, 2)),
...         settings, state,
...     )
...     weights.append(state.wscale[0] * state.coef[0])

The three L2 shrinks (by 1 - 1.0 * 0.1 each) are in wscale, not in coef, and the average
of the three steps is kept lazily:

>>> state.wscale
array([0.729])
>>> a, b = state.average_a[:, None], state.average_b[:, None]
>>> np.allclose((state.average_coef + a * state.coef) / b, np.mean(weights, axis=0))
True

``linear_sgd_finish`` folds the factors in: coef and average_coef then hold the weights
and their average as they are.

>>> linear_sgd_finish(state)
>>> np.allclose(state.coef, weights[-1]), np.allclose(state.average_coef, np.mean(weights, 0))
(True, True)
>>> state.wscale, state.average_a, state.average_b
(array([1.]), array([0.]), array([1.]))
"""


def optimal_init(alpha):
    """Return t0 of the 'optimal' schedule, eta = 1 / (alpha (t0 + t - 1)).

    The first rate (t = 1) equals SGDClassifier's heuristic
    ``typw / max(1, dloss(p=-typw, y=1))`` with ``typw = sqrt(1 / sqrt(alpha))`` (Bottou's
    SvmSgd).

    Parameters
    ----------
    alpha : float
        The schedule's scale (the estimators' ``alpha``), > 0.

    Returns
    -------
    float
        t0 = 1 / (typw * alpha), the ``optimal_init`` field of ``LinearSGDSettings``.

    See Also
    --------
    LinearSGDSettings : Where t0 goes.

    Notes
    -----
    dloss is the loss's signed gradient, and at p < 0 < y it is negative or zero for every
    loss of ``loss_terms``, so the first rate is typw for all of them (tested against
    SGDClassifier and SGDRegressor for each loss). Plain Python: no compiling.

    Examples
    --------
    >>> from fastsgd.kernels import optimal_init
    >>> alpha = 1e-4
    >>> t0 = optimal_init(alpha)  # typw = sqrt(1 / sqrt(1e-4)) = 10
    >>> t0, 1 / (alpha * t0)  # the first rate is typw
    (1000.0, 10.0)
    """
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    return 1.0 / (typw * alpha)


def target_at(y, row, positive_class):
    """The target that model ``positive_class`` sees at ``row`` (inside ``@njit`` code only):
    for integer class codes +1.0 where y[row] == positive_class, else -1.0 (one-vs-rest);
    for float targets (a regressor) y[row] itself."""
    raise NotImplementedError("target_at is only available inside @njit functions")


@overload(target_at, inline="always", jit_options=JIT_OPTIONS)
def _target_at(y, row, positive_class):
    if isinstance(y.dtype, types.Integer):
        return lambda y, row, positive_class: 1.0 if y[row] == positive_class else -1.0
    return lambda y, row, positive_class: np.float64(y[row])


@njit(cache=True, nogil=True)
def learning_rate_at(settings, rate, t):
    """The step size of the sample numbered t (from 1)."""
    if settings.learning_rate == OPTIMAL:
        return 1.0 / (settings.alpha * (settings.optimal_init + t - 1.0))
    if settings.learning_rate == INVSCALING:
        return rate / math.pow(t, settings.power_t)
    return rate


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def fold_scales(state, m, averaging):
    """Write model m's weights and average back as plain arrays: W *= wscale, AW =
    (AW + a W) / b (scikit-learn's reset_wscale, in its order)."""
    coef = state.coef
    wscale, average_a, average_b = state.wscale, state.average_a, state.average_b
    if averaging:
        a = average_a[m]
        inverse_b = 1.0 / average_b[m]
        for j in range(coef.shape[1]):
            state.average_coef[m, j] = (state.average_coef[m, j] + a * coef[m, j]) * inverse_b
        average_a[m] = 0.0
        average_b[m] = 1.0
    scale = wscale[m]
    if scale != 1.0:
        for j in range(coef.shape[1]):
            coef[m, j] *= scale
    wscale[m] = 1.0


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def linear_sgd_finish(state):
    """Fold the scale factors into the weights at the end of a training run.

    Parameters
    ----------
    state : LinearSGDState
        Updated in place: for every model, ``average_coef = (average_coef + average_a *
        coef) / average_b`` (with averaging), then ``coef *= wscale``; afterwards
        wscale = 1, average_a = 0 and average_b = 1, and coef and average_coef are the plain
        weights and averaged weights.

    See Also
    --------
    linear_sgd_epoch : The kernel whose state it finishes.

    Notes
    -----
    Folding changes nothing in exact arithmetic: a run may go on from a finished state.
    ``linear_sgd_epoch`` folds by itself only when wscale falls below 1e-9 (1e-6 in
    float32), where scikit-learn does.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.kernels import LinearSGDState, linear_sgd_finish
    >>> state = LinearSGDState(
    ...     coef=np.array([[2.0, 4.0]]), intercept=np.zeros(1),
    ...     average_coef=np.array([[1.0, 1.0]]), average_intercept=np.zeros(1), t=np.ones(1),
    ...     l1_total=np.zeros(1), l1_applied=np.zeros((1, 0)), sq_norm=np.zeros(1),
    ...     l1_norm=np.zeros(1), wscale=np.array([0.5]), average_a=np.array([0.5]),
    ...     average_b=np.array([2.0]),
    ... )
    >>> linear_sgd_finish(state)
    >>> state.coef  # 0.5 * [2, 4]
    array([[1., 2.]])
    >>> state.average_coef  # ([1, 1] + 0.5 * [2, 4]) / 2
    array([[1. , 1.5]])
    >>> state.wscale, state.average_a, state.average_b
    (array([1.]), array([0.]), array([1.]))
    """
    averaging = state.average_coef.shape[1] > 0
    for m in range(state.coef.shape[0]):
        fold_scales(state, m, averaging)


def model_row_update(
    per_weight, data, indices, indptr, row, next_row, W, step, AW, average_weight, Q, l1_total,
    wscale, averaging, l1, zero,
):  # fmt: skip
    """The single model's pass over X[row]: ``update_entries`` when ``per_weight`` (a
    compile-time constant), else the fused update-and-dot; returns (dot of the next row,
    squares, absolutes), the last two 0 without per-weight work. An overload rather than a
    branch, so that the plain and scaled loops compile no per-weight pass (0.3 s)."""
    raise NotImplementedError("model_row_update is only available inside @njit functions")


@overload(model_row_update, inline="always", prefer_literal=True, jit_options=JIT_OPTIONS)
def _model_row_update(
    per_weight, data, indices, indptr, row, next_row, W, step, AW, average_weight, Q, l1_total,
    wscale, averaging, l1, zero,
):  # fmt: skip
    if isinstance(per_weight, types.BooleanLiteral) and not per_weight.literal_value:

        def plain(
            per_weight, data, indices, indptr, row, next_row, W, step, AW, average_weight, Q,
            l1_total, wscale, averaging, l1, zero,
        ):  # fmt: skip
            return row_step_and_dot(step, data, indices, indptr, row, W, next_row, zero), 0.0, 0.0

        return plain

    def full(
        per_weight, data, indices, indptr, row, next_row, W, step, AW, average_weight, Q,
        l1_total, wscale, averaging, l1, zero,
    ):  # fmt: skip
        return update_entries(
            data, indices, indptr, row, next_row, W, 0, step, AW, average_weight, Q, l1_total,
            wscale, averaging, l1, zero,
        )  # fmt: skip

    return full


@njit(cache=True, nogil=True, inline="always")
def begin_visit(
    settings, rate, t, margin, target, weight, weight_0, weight_1, wscale, sq_norm, l1_norm
):
    """A model's visit up to its weight step, on scalars only (an array argument would bring
    numba's reference counting into the per-sample loop): the rate, the loss terms, the
    signed step ``update`` (the weights move by update * x; weight_0 / weight_1 are the class
    weights of targets <= 0 / > 0) and the L2 shrink of wscale and of the running norms.
    Returns (eta, update, linear, tail, penalty, wscale, sq_norm, l1_norm), the loss being
    linear + log(1 + tail) (see ``loss_terms``) and penalty the objective's penalty term
    (taken before the shrink, as scikit-learn does)."""
    eta = learning_rate_at(settings, rate, t)
    residual, linear, tail = loss_terms(settings.loss, margin, target, settings.epsilon)
    penalty = 0.5 * settings.l2_strength * sq_norm + settings.l1_strength * l1_norm
    # scikit-learn's association, (eta residual) (class_weight sample_weight): the second
    # factor is off the per-sample dependency chain
    update = eta * residual * ((weight_1 if target > 0.0 else weight_0) * weight)
    if settings.l2_strength > 0.0:
        # never below zero when eta * alpha > 1: the weights are zeroed instead
        shrink = max(0.0, 1.0 - settings.l2_strength * eta)
        wscale *= shrink
        sq_norm *= shrink * shrink
        l1_norm *= shrink
    return eta, update, linear, tail, penalty, wscale, sq_norm, l1_norm


@njit(cache=True, nogil=True, inline="always")
def finish_visit(
    settings,
    eta,
    update,
    t,
    wscale,
    average_a,
    average_b,
    intercept,
    average_intercept,
    l1_total,
    scaled,
):
    """Model m's visit after its weight step is known: the intercept, the averaging
    coefficients (Bottou's lazy average) and the L1 total. Returns (average_weight, average_a,
    average_b, intercept, average_intercept, l1_total, t + 1), where the averaged weights move
    by average_weight times the change of the stored weights."""
    if settings.fit_intercept and update != 0.0:
        intercept += update * settings.intercept_decay
    average_weight = 0.0
    if not scaled:  # a compile-time constant: the plain update has no average and no L1
        return average_weight, average_a, average_b, intercept, average_intercept, l1_total, t + 1
    if settings.average_start > 0 and settings.average_start <= t:
        seen = t - settings.average_start + 1.0
        average_weight = -average_a
        if seen > 1.0:
            average_b /= 1.0 - 1.0 / seen
        average_a += (1.0 / seen) * average_b * wscale
        average_intercept += (intercept - average_intercept) / seen
    if settings.l1_strength > 0.0:
        l1_total += settings.l1_strength * eta
    return average_weight, average_a, average_b, intercept, average_intercept, l1_total, t + 1.0


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def linear_sgd_epoch(
    X, y, order, sample_weight, rates, positive_class, class_weight, settings, state
):
    """Run one epoch of scikit-learn's SGD step for a block of K linear models.

    One pass over ``order``. For every visit and every model m with ``rates[m] != 0`` it runs
    scikit-learn's ``_plain_sgd`` step (sklearn/linear_model/_sgd_fast.pyx.tp), in its order::

        p      = w . x + b                                (w = wscale * coef)
        eta    = schedule(rates[m], t[m])                  constant/adaptive: rates[m];
                                                           optimal: 1 / (alpha (t0 + t - 1));
                                                           invscaling: rates[m] / t**power_t
        update = -eta * dloss(p, target) * class_weight * sample_weight
                                                           (dloss clipped to 1e12; the loss
                                                           and its gradient: loss_terms)
        w     *= max(0, 1 - eta * l2_strength)             penalty 'l2' / 'elasticnet'
        w     += update * x;   b += update * intercept_decay   (b only when fit_intercept)
        average w and b from sample number average_start on (averaged SGD)
        L1: move each of x's weights toward 0 by the penalty owed, never across it
        t[m]  += 1

    With log_loss, no penalty, a constant rate and no weights, this is the handout's update
    ``w <- w + eta * x * (y - s(w . x + b))``, as ``logistic_epoch`` runs it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), or tuple of (data, indices, indptr)
        A dense float32/float64 array, in any layout (a C-contiguous one gets the explicit
        vector code and the prefetching; another layout is read as it is, never copied), or
        a CSR matrix as the tuple ``(data, indices, indptr)`` with int32 or int64 indices
        (sorted or not) and int32 or int64 indptr, in any combination. A dense row is every
        feature (as in scikit-learn), a CSR row its stored entries: only those are read and
        updated.
    y : ndarray of shape (n_samples,)
        Integer class codes, where model m's target is +1 if ``y == positive_class[m]`` else
        -1 (log_loss reads them as 1 / 0); or float targets (a regressor), the same for every
        model, positive_class unused.
    order : ndarray of shape (n_visits,)
        Integer rows to visit, in order.
    sample_weight : ndarray of shape (n_samples,), or None
        Float weight of each sample; None weighs every sample 1 (here None, where the net
        kernels, such as ``net_sgd_epoch``, take an empty (0,) array: an empty array here
        raises a ValueError).
    rates : ndarray of shape (K,)
        float64: the rate of a constant or adaptive schedule, eta0 for invscaling, any nonzero
        value for optimal; 0 leaves model m untouched (a stopped one-vs-rest model).
    positive_class : ndarray of shape (K,)
        Integer: the class code that model m treats as its positive class.
    class_weight : ndarray of shape (K, 2)
        float64: the factor of a visit whose target is <= 0 / > 0 for model m.
    settings : LinearSGDSettings
        The schedule, penalty, averaging and loss (see ``LinearSGDSettings``).
    state : LinearSGDState
        The weights and their bookkeeping, updated in place (see ``LinearSGDState``).

    Returns
    -------
    loss : ndarray of shape (K,)
        float64: the mean progressive loss over the visits (each loss taken before its
        sample's update).
    objective : ndarray of shape (K,)
        float64: the mean objective, which adds the penalty of the running norms (taken
        before each sample's shrink) as scikit-learn's stopping rule does; equal to ``loss``
        without ``settings.track_norms``.

    Raises
    ------
    ValueError
        If y or sample_weight does not have one entry per row of X, an entry of ``order`` is
        not a row of X, a dense X's width is not coef's, rates or positive_class does not have
        K entries, class_weight is not (K, 2), or an array of the state has the wrong shape;
        or if the settings need an array the state leaves empty: averaging
        (``average_start > 0``) with an empty average_coef, or L1 (``l1_strength > 0``) with
        an empty l1_applied.

    See Also
    --------
    linear_sgd_finish : Folds the scale factors into the weights at the end of a run.
    logistic_epoch : The handout's update alone, for dense rows.
    loss_terms : Every loss and its gradient.
    fastsgd.reference.sgd_classifier_epoch : The NumPy loop, on the true weights.

    Notes
    -----
    The weights are kept as w = wscale * coef (the L2 shrink is one multiply per sample, not
    one per weight) and the average as (average_coef + average_a * coef) / average_b
    (Bottou, "Stochastic Gradient Descent Tricks", 2012: a sparse row updates only its own
    entries of both), with wscale, average_a and average_b in ``state`` as well. Start a
    training run with them at 1, 0, 1 and end it with ``linear_sgd_finish(state)``, which
    folds them into the arrays; in between they are folded only when wscale falls below 1e-9
    (1e-6 in float32). Folding changes nothing in exact arithmetic, except that
    scikit-learn's L1 truncation of coef leaks into the average through average_a: the fold
    points are scikit-learn's, so the averaged weights agree with SGDClassifier's under L1
    too. Several epochs may be one call or many.

    The arguments are checked once per call; not checked (preconditions): CSR indices below
    the number of features (a pass over every stored entry; the estimators check it once per
    fit), and the array dtypes (numba's typing refuses what it cannot compile).

    Examples
    --------
    One visit by hand, penalty 'l2' with alpha = 0.1, a constant rate 0.1, w = (1, -2),
    x = (0.5, 1), y = 1: p = -1.5 and the step is ``update = 0.1 * (1 - s(-1.5))``, after
    the shrink ``w *= 1 - 0.1 * 0.1``:

    >>> import math
    >>> import numpy as np
    >>> from fastsgd.kernels import (
    ...     LEARNING_RATES, LinearSGDSettings, LinearSGDState, linear_sgd_epoch,
    ...     linear_sgd_finish,
    ... )
    >>> def new_state(coef):
    ...     return LinearSGDState(
    ...         coef=coef, intercept=np.zeros(1), average_coef=np.zeros((1, 0)),
    ...         average_intercept=np.zeros(1), t=np.ones(1), l1_total=np.zeros(1),
    ...         l1_applied=np.zeros((1, 0)), sq_norm=np.array([float((coef * coef).sum())]),
    ...         l1_norm=np.array([float(np.abs(coef).sum())]), wscale=np.ones(1),
    ...         average_a=np.zeros(1), average_b=np.ones(1),
    ...     )
    >>> l2 = LinearSGDSettings(
    ...     learning_rate=LEARNING_RATES.index("constant"), power_t=0.5, alpha=0.1,
    ...     optimal_init=0.0, l2_strength=0.1, l1_strength=0.0, average_start=0,
    ...     fit_intercept=True, track_norms=True,
    ... )
    >>> X, y = np.array([[0.5, 1.0]]), np.array([1])
    >>> state = new_state(np.array([[1.0, -2.0]]))
    >>> rates, positive_class, class_weight = np.array([0.1]), np.array([1]), np.ones((1, 2))
    >>> loss, objective = linear_sgd_epoch(
    ...     X, y, np.array([0]), None, rates, positive_class, class_weight, l2, state
    ... )
    >>> linear_sgd_finish(state)
    >>> update = 0.1 * (1 - 1 / (1 + math.exp(1.5)))
    >>> np.allclose(state.coef, 0.99 * np.array([1.0, -2.0]) + update * X[0])
    True
    >>> np.allclose(state.intercept, update), np.allclose(loss, math.log1p(math.exp(1.5)))
    (True, True)
    >>> np.allclose(objective - loss, 0.5 * 0.1 * 5.0)  # alpha / 2 * |w|^2 before the step
    True

    From your own ``@njit`` code: several epochs, then the fold. With the plain settings
    (no penalty) it trains what ``logistic_epoch`` trains:

    >>> from numba import njit
    >>> from fastsgd.kernels import logistic_epoch
    >>> @njit
    ... def fit(X, y, order, rates, settings, state, n_epochs):
    ...     positive_class = np.ones(1, np.int64)
    ...     class_weight = np.ones((1, 2))
    ...     loss = np.zeros(1)
    ...     for _ in range(n_epochs):
    ...         loss, objective = linear_sgd_epoch(
    ...             X, y, order, None, rates, positive_class, class_weight, settings, state
    ...         )
    ...     linear_sgd_finish(state)
    ...     return loss
    >>> plain = l2._replace(l2_strength=0.0, track_norms=False)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> order = rng.permutation(50)
    >>> state = new_state(np.zeros((1, 3)))
    >>> loss = fit(X, y, order, rates, plain, state, 3)
    >>> coef, intercept = np.zeros((1, 3)), np.zeros(1)
    >>> for _ in range(3):
    ...     handout_loss = logistic_epoch(X, y, order, coef, intercept, rates, positive_class, True)
    >>> np.allclose(state.coef, coef), np.allclose(loss, handout_loss)
    (True, True)
    """
    check_linear(X, y, order, sample_weight, rates, positive_class, class_weight, settings, state)
    coef = state.coef
    n_models = coef.shape[0]
    n_visits = order.shape[0]
    loss = np.zeros(n_models)
    objective = np.zeros(n_models)
    if n_visits == 0:
        return loss, objective
    per_weight, scaled = weight_work(settings)
    if n_models == 1:  # the one-model loop, its scalars in registers
        if rates[0] != 0.0:
            if per_weight:
                loss[0], objective[0] = per_weight_model_visits(
                    X, y, order, sample_weight, rates[0], positive_class[0], class_weight,
                    settings, state,
                )  # fmt: skip
            elif scaled:
                loss[0], objective[0] = scaled_model_visits(
                    X, y, order, sample_weight, rates[0], positive_class[0], class_weight,
                    settings, state,
                )  # fmt: skip
            else:
                loss[0], objective[0] = plain_model_visits(
                    X, y, order, sample_weight, rates[0], positive_class[0], class_weight,
                    settings, state,
                )  # fmt: skip
        return loss, objective
    if per_weight:
        return per_weight_block_visits(
            X, y, order, sample_weight, rates, positive_class, class_weight, settings, state
        )
    if scaled:
        return scaled_block_visits(
            X, y, order, sample_weight, rates, positive_class, class_weight, settings, state
        )
    return plain_block_visits(
        X, y, order, sample_weight, rates, positive_class, class_weight, settings, state
    )


@njit(cache=True, nogil=True)
def weight_work(settings):
    """(per_weight, scaled): whether a step does work per weight beyond the gradient step
    (averaging, L1, the running norms), and whether the weights carry a scale (an L2 shrink).
    A step with neither is the handout's plain update."""
    per_weight = settings.average_start > 0 or settings.l1_strength > 0.0 or settings.track_norms
    return per_weight, per_weight or settings.l2_strength > 0.0


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def single_model_visits(
    X, y, order, sample_weight, rate, positive_class, class_weight, settings, state, per_weight,
    scaled,
):  # fmt: skip
    """linear_sgd_epoch for one model, its scalars kept in registers: no store-to-load round
    trip through the state arrays on the per-sample chain (a9a: 63 -> 30 ns per sample for
    everything but the row pass). Returns (mean loss, mean objective).

    ``per_weight`` and ``scaled`` (see ``weight_work``) are compile-time constants: without
    a scale the step is the handout's plain update, the weight pass one fused update-and-dot
    (what ``logistic_epoch`` runs), with no division by wscale on the per-sample chain."""
    # Arrays are taken out of the state tuple once: a tuple access inside the loop costs a
    # reference count (an atomic add and subtract) on every visit.
    coef, average_coef, l1_applied = state.coef, state.average_coef, state.l1_applied
    n_visits = order.shape[0]
    zero = cast_like(0.0, coef)
    averaging = settings.average_start > 0
    l1 = settings.l1_strength > 0.0
    # A compile-time constant, so that each compiled loop has one row pass: with a branch
    # between two passes numba kept the reference counts of their array arguments on every
    # visit (a9a, in order: 1.2 -> 1.5x SGDClassifier).
    per_weight = literally(per_weight)
    scaled = literally(scaled)
    threshold = 1e-9 if coef.itemsize == 8 else 1e-6  # scikit-learn's reset_wscale thresholds
    t, wscale = state.t[0], state.wscale[0]
    average_a, average_b = state.average_a[0], state.average_b[0]
    intercept, average_intercept = state.intercept[0], state.average_intercept[0]
    l1_total, sq_norm, l1_norm = state.l1_total[0], state.sq_norm[0], state.l1_norm[0]
    linear_total, log_total, product, penalty_total = 0.0, 0.0, 1.0, 0.0
    weight_0, weight_1 = class_weight[0, 0], class_weight[0, 1]
    data, indices, indptr = row_source(X)
    distance = prefetch_distance_of(data, indices)
    margin = wscale * row_dot(data, indices, indptr, order[0], coef, 0, zero) + intercept
    for i in range(n_visits):
        prefetch_visit(data, indices, indptr, order, i, distance)
        row = order[i]
        # On the last visit the pass reads the same row again; its dot is discarded.
        next_row = order[i + 1] if i + 1 < n_visits else row
        weight = 1.0 if sample_weight is None else sample_weight[row]
        eta, update, linear, tail, penalty, wscale, sq_norm, l1_norm = begin_visit(
            settings, rate, t, margin, target_at(y, row, positive_class), weight, weight_0,
            weight_1, wscale, sq_norm, l1_norm,
        )  # fmt: skip
        linear_total += linear
        product *= 1.0 + tail
        if settings.track_norms:
            penalty_total += penalty
        if scaled:
            # inline, not a helper that takes the state: with the state tuple passed into an
            # inlined overload, numba counted references to its arrays on every visit (the
            # scaled loop measured 117 -> 201 ns a sample, k=100)
            if wscale < threshold:
                state.wscale[0], state.average_a[0] = wscale, average_a
                state.average_b[0] = average_b
                fold_scales(state, 0, averaging)
                wscale, average_a, average_b = 1.0, 0.0, 1.0
            step = cast_like(update / wscale, coef)
        else:
            step = cast_like(update, coef)
        average_weight, average_a, average_b, intercept, average_intercept, l1_total, t = (
            finish_visit(
                settings, eta, update, t, wscale, average_a, average_b, intercept,
                average_intercept, l1_total, scaled,
            )
        )  # fmt: skip
        dot, squares, absolutes = model_row_update(
            per_weight, data, indices, indptr, row, next_row, coef, step, average_coef,
            average_weight, l1_applied, l1_total, wscale, averaging, l1, zero,
        )  # fmt: skip
        if per_weight and settings.track_norms and update != 0.0:
            sq_norm = squares * wscale * wscale
            l1_norm = absolutes * wscale
        margin = (wscale * dot if scaled else dot) + intercept
        if (i + 1) % LOSS_FLUSH == 0:
            log_total += math.log(product)
            product = 1.0
    state.t[0], state.wscale[0] = t, wscale
    state.average_a[0], state.average_b[0] = average_a, average_b
    state.intercept[0], state.average_intercept[0] = intercept, average_intercept
    state.l1_total[0], state.sq_norm[0], state.l1_norm[0] = l1_total, sq_norm, l1_norm
    loss = (linear_total + log_total + math.log(product)) / n_visits
    return loss, loss + penalty_total / n_visits


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def model_block_visits(
    X, y, order, sample_weight, rates, positive_class, class_weight, settings, state, per_weight,
    scaled,
):  # fmt: skip
    """linear_sgd_epoch for K > 1 models (one-vs-rest, sweeps), their state in arrays; every
    model steps first, then one row pass serves them all. ``per_weight`` and ``scaled`` as in
    ``single_model_visits``, compile-time constants (with per_weight a run-time flag, numba
    kept the reference counts of both row passes' arrays on every visit: 2x slower at K=8)."""
    coef, average_coef, l1_applied = state.coef, state.average_coef, state.l1_applied
    n_models = coef.shape[0]
    n_visits = order.shape[0]
    zero = cast_like(0.0, coef)
    linear_sum = np.zeros(n_models)
    log_sum = np.zeros(n_models)
    tail_product = np.ones(n_models)
    penalty_sum = np.zeros(n_models)
    averaging = settings.average_start > 0
    l1 = settings.l1_strength > 0.0
    per_weight = literally(per_weight)
    scaled = literally(scaled)
    threshold = 1e-9 if coef.itemsize == 8 else 1e-6
    # Every array taken out of the state tuple once: an access to a tuple's array inside the
    # loop costs a reference count (an atomic add and subtract) each time, which made this
    # loop 2x slower at K=8 (k=100, the plain update).
    wscale, t, intercept = state.wscale, state.t, state.intercept
    sq_norm, l1_norm, l1_total = state.sq_norm, state.l1_norm, state.l1_total
    average_a, average_b = state.average_a, state.average_b
    average_intercept = state.average_intercept
    steps = np.zeros(n_models, dtype=coef.dtype)
    updates = np.zeros(n_models)
    average_weights = np.zeros(n_models)
    margins = np.zeros(n_models)
    dots = np.zeros(n_models)

    data, indices, indptr = row_source(X)
    distance = prefetch_distance_of(data, indices)
    first = order[0]
    for m in range(n_models):
        margins[m] = wscale[m] * row_dot(data, indices, indptr, first, coef, m, zero) + intercept[m]

    for i in range(n_visits):
        prefetch_visit(data, indices, indptr, order, i, distance)
        row = order[i]
        next_row = order[i + 1] if i + 1 < n_visits else row
        weight = 1.0 if sample_weight is None else sample_weight[row]
        for m in range(n_models):
            steps[m] = 0.0
            updates[m] = 0.0
            average_weights[m] = 0.0
            if rates[m] == 0.0:
                continue
            eta, update, linear, tail, penalty, wscale[m], sq_norm[m], l1_norm[m] = begin_visit(
                settings, rates[m], t[m], margins[m], target_at(y, row, positive_class[m]),
                weight, class_weight[m, 0], class_weight[m, 1], wscale[m], sq_norm[m],
                l1_norm[m],
            )  # fmt: skip
            linear_sum[m] += linear
            tail_product[m] *= 1.0 + tail
            if settings.track_norms:
                penalty_sum[m] += penalty
            updates[m] = update
            if scaled:
                if wscale[m] < threshold:
                    fold_scales(state, m, averaging)
                steps[m] = cast_like(update / wscale[m], coef)
            else:
                steps[m] = cast_like(update, coef)
            if scaled:
                (
                    average_weights[m], average_a[m], average_b[m], intercept[m],
                    average_intercept[m], l1_total[m], t[m],
                ) = finish_visit(
                    settings, eta, update, t[m], wscale[m], average_a[m], average_b[m],
                    intercept[m], average_intercept[m], l1_total[m], True,
                )  # fmt: skip
            else:  # only the intercept and the count change
                _, _, _, intercept[m], _, _, t[m] = finish_visit(
                    settings, eta, update, t[m], 1.0, 0.0, 1.0, intercept[m], 0.0, 0.0, False
                )

        if per_weight:
            for m in range(n_models):
                if rates[m] == 0.0:
                    continue
                dot, squares, absolutes = update_entries(
                    data, indices, indptr, row, next_row, coef, m, steps[m],
                    average_coef, average_weights[m], l1_applied, l1_total[m],
                    wscale[m], averaging, l1, zero,
                )  # fmt: skip
                dots[m] = dot
                if settings.track_norms and updates[m] != 0.0:
                    sq_norm[m] = squares * wscale[m] * wscale[m]
                    l1_norm[m] = absolutes * wscale[m]
        else:
            rows_step_and_dot(steps, data, indices, indptr, row, coef, next_row, dots, zero)
        for m in range(n_models):
            margins[m] = wscale[m] * dots[m] + intercept[m]
        if (i + 1) % LOSS_FLUSH == 0:
            for m in range(n_models):
                log_sum[m] += math.log(tail_product[m])
                tail_product[m] = 1.0

    for m in range(n_models):
        log_sum[m] += math.log(tail_product[m])
    loss = (linear_sum + log_sum) / n_visits
    return loss, loss + penalty_sum / n_visits


# Entry points for a caller in Python (the estimators), one per kind of step, each with its
# flags fixed: a function that asks for literal arguments, called from Python, is typed anew
# on every call, and numba compiles only the loop a fit needs.


@njit(cache=True, nogil=True)
def plain_model_visits(X, y, order, sample_weight, rate, positive_class, class_weight, settings,
                       state):  # fmt: skip
    """single_model_visits without a scale or per-weight work: the handout's plain update."""
    return single_model_visits(
        X, y, order, sample_weight, rate, positive_class, class_weight, settings, state, False,
        False,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def scaled_model_visits(X, y, order, sample_weight, rate, positive_class, class_weight,
                        settings, state):  # fmt: skip
    """single_model_visits with the L2 scale and no per-weight work."""
    return single_model_visits(
        X, y, order, sample_weight, rate, positive_class, class_weight, settings, state, False,
        True,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def per_weight_model_visits(X, y, order, sample_weight, rate, positive_class, class_weight,
                            settings, state):  # fmt: skip
    """single_model_visits with averaging, L1 or the running norms."""
    return single_model_visits(
        X, y, order, sample_weight, rate, positive_class, class_weight, settings, state, True,
        True,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def plain_block_visits(X, y, order, sample_weight, rates, positive_class, class_weight,
                       settings, state):  # fmt: skip
    """model_block_visits without a scale or per-weight work."""
    return model_block_visits(
        X, y, order, sample_weight, rates, positive_class, class_weight, settings, state, False,
        False,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def scaled_block_visits(X, y, order, sample_weight, rates, positive_class, class_weight,
                        settings, state):  # fmt: skip
    """model_block_visits with the L2 scale and no per-weight work."""
    return model_block_visits(
        X, y, order, sample_weight, rates, positive_class, class_weight, settings, state, False,
        True,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def per_weight_block_visits(X, y, order, sample_weight, rates, positive_class, class_weight,
                            settings, state):  # fmt: skip
    """model_block_visits with averaging, L1 or the running norms."""
    return model_block_visits(
        X, y, order, sample_weight, rates, positive_class, class_weight, settings, state, True,
        True,
    )  # fmt: skip
