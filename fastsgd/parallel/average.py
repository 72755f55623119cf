"""Iterative parameter mixing ('average'): deterministic data-parallel SGD epochs.

The visiting order is split into ``n_shards`` contiguous shards. Each shard runs the sequential
kernel on its own copy of the weights, all copies starting from the caller's weights, and the
caller's weights become the mean of the copies (Zinkevich, Weimer, Smola and Li, "Parallelized
stochastic gradient descent", NIPS 2010; the per-epoch mixing of McDonald, Hall and Mann 2010).

Deterministic: every shard's result depends only on its visits and the starting weights, and the
mean is summed in shard order, so a given order and ``n_shards`` give bit-identical weights
whatever the number of threads or their scheduling. With ``n_shards=1`` it is the sequential
kernel. Each kernel call is one mixing step: call it once per epoch for per-epoch mixing.

Public kernels (callable from any ``@njit`` function; numba runs the shards on its threads,
``numba.set_num_threads`` sets how many): ``logistic_epoch_average``, ``net_epoch_average`` and
``net_sgd_epoch_average`` take the arguments of ``logistic_epoch``, ``net_epoch`` and
``net_sgd_epoch`` plus ``n_shards``, and return the same loss (each shard's loss is taken
before its own steps). Their docstrings hold the full contract.
"""

import numpy as np
from numba import njit, prange

from fastsgd.kernels._checks import check_models, check_visits
from fastsgd.kernels.logistic import logistic_epoch
from fastsgd.kernels.net import (
    check_net_sgd,
    handout_settings,
    net_steps,
    no_velocities,
    working_copies,
    write_back,
)
from fastsgd.parallel._shards import (
    average_into,
    copy_of,
    mean_loss,
    private_copies,
    shard_bounds,
)


@njit(cache=True, nogil=True, parallel=True)
def logistic_epoch_average(
    X, y, order, coef, intercept, eta, positive_class, fit_intercept, n_shards
):
    """Run the handout's logistic update on shards of an epoch in parallel, then average.

    Iterative parameter mixing of ``fastsgd.kernels.logistic_epoch``: ``order`` is split into
    ``n_shards`` contiguous shards, each shard runs the sequential kernel on its own copy of
    coef and intercept, all copies starting from the caller's weights, and the caller's
    weights become the mean of the copies.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float32 or float64, C-contiguous; never written, never copied.
    y : ndarray of shape (n_samples,)
        Integer class codes.
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order (each shard its own contiguous part).
    coef : ndarray of shape (K, n_features)
        X's dtype, C-contiguous; updated in place.
    intercept : ndarray of shape (K,)
        X's dtype; always part of the margin, updated in place only when ``fit_intercept``.
    eta : ndarray of shape (K,)
        float64, the learning rate of each model.
    positive_class : ndarray of shape (K,)
        Integer; model m treats ``y == positive_class[m]`` as label 1.
    fit_intercept : bool
        Whether the intercepts are updated.
    n_shards : int
        The number of shards, clipped to [1, n_visits]: shard s takes the visits
        ``order[s * n // n_shards:(s + 1) * n // n_shards]``, n = ``len(order)``.

    Returns
    -------
    ndarray of shape (K,)
        float64: each model's mean progressive log-loss over the visits, each shard's loss
        taken before its own steps.

    Raises
    ------
    ValueError
        If y does not have one label per row of X, an entry of ``order`` is not a row of X,
        coef does not have one column per feature, or intercept, eta or positive_class does
        not have one entry per row of coef.

    See Also
    --------
    fastsgd.kernels.logistic_epoch : The sequential kernel, one shard.
    logistic_epoch_hogwild : Lock-free shared weights instead of copies.
    fastsgd.reference.parameter_mixing : The NumPy version, one shard after another.

    Notes
    -----
    Deterministic: every shard's result depends only on its visits and the starting
    weights, and the mean is summed in shard order, so a given ``order`` and ``n_shards``
    give bit-identical weights whatever the number of threads or their scheduling. With
    ``n_shards=1`` it is the sequential kernel. The call is one mixing step: call it once
    per epoch for per-epoch mixing. numba runs the shards on its threads;
    ``numba.set_num_threads`` or ``parallel_region`` sets how many. Each copy sits on cache
    lines of its own, so that threads writing their copies never share a line.

    Examples
    --------
    Three shards on two threads against the NumPy reference, one-vs-rest over three classes:

    >>> import numpy as np
    >>> from fastsgd import reference
    >>> from fastsgd.parallel import logistic_epoch_average, parallel_region
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 4)), rng.integers(0, 3, 60)
    >>> order = rng.permutation(60)
    >>> eta, classes = np.full(3, 0.1), np.arange(3)
    >>> ours = [np.zeros((3, 4)), np.zeros(3)]
    >>> theirs = [np.zeros((3, 4)), np.zeros(3)]
    >>> with parallel_region(2):
    ...     loss = logistic_epoch_average(X, y, order, *ours, eta, classes, True, 3)
    >>> expected = reference.parameter_mixing(
    ...     reference.logistic_epoch, X, y, order, theirs, 3, eta, classes, True
    ... )
    >>> np.allclose(loss, expected), np.allclose(ours[0], theirs[0])
    (True, True)
    """
    check_visits(X, y, order)
    check_models(X, coef, intercept, eta, positive_class)
    n_visits = order.shape[0]
    n_models = coef.shape[0]
    n_shards = max(1, min(n_shards, n_visits))
    coefs = private_copies(coef, n_shards)
    intercepts = private_copies(intercept, n_shards)
    loss_sums = private_copies(np.zeros(n_models), n_shards)
    for shard in prange(n_shards):
        start, stop = shard_bounds(n_visits, n_shards, shard)
        shard_loss = logistic_epoch(
            X, y, order[start:stop], copy_of(coefs, shard, coef),
            copy_of(intercepts, shard, intercept), eta, positive_class, fit_intercept,
        )  # fmt: skip
        for m in range(n_models):
            loss_sums[shard, m] = shard_loss[m] * (stop - start)
    average_into(coefs, n_shards, coef)
    average_into(intercepts, n_shards, intercept)
    return mean_loss(loss_sums, n_shards, n_models, n_visits)


@njit(cache=True, nogil=True, parallel=True)
def net_sgd_epoch_average(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, n_shards
):
    """Run scikit-learn's MLP SGD step on shards of an epoch in parallel, then average.

    Iterative parameter mixing of ``fastsgd.kernels.net_sgd_epoch``: ``order`` is split into
    ``n_shards`` contiguous shards, each shard runs the sequential step on its own copy of the
    weights and momentum velocities, all copies starting from the caller's, and the weights
    and the velocities become the mean of the copies.

    Parameters
    ----------
    X : ndarray of shape (n_samples, k)
        float32 or float64, C-contiguous. Never written, never copied.
    targets : ndarray of shape (n_samples,) or (n_samples, n_out)
        Integer class codes (one logistic output: the target is ``code == 1``; a softmax: the
        one-hot of the code), or floats used as they are (multilabel 0/1 indicators for
        logistic outputs, regression values for identity outputs).
    sample_weight : ndarray of shape (n_samples,) or (0,)
        float64 sample weights, or an empty array for weight 1 everywhere.
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order (each shard its own contiguous part).
    W1t : ndarray of shape (H, k)
        The first layer stored one row per hidden unit; in X's dtype, C-contiguous, updated
        in place.
    b1 : ndarray of shape (H,)
        The hidden units' biases, in X's dtype. They always enter the forward pass and are
        updated in place only when ``settings.fit_intercept``.
    W2 : ndarray of shape (H, n_out)
        The second layer, in X's dtype, C-contiguous; updated in place.
    b2 : ndarray of shape (n_out,)
        The output units' biases, in X's dtype; as b1.
    velocities : tuple of 4 ndarrays
        ``(V_W1t, V_b1, V_W2, V_b2)``, the momentum buffers with the weights' shapes, updated
        in place; unused (and may be empty arrays) when ``settings.momentum == 0``.
    settings : fastsgd.kernels.NetSettings
        The activation, loss, output units, rate, penalty, momentum, ``fit_intercept`` and
        batch size (``fastsgd.kernels.net_settings`` builds it).
    n_shards : int
        The number of shards, clipped to [1, n_visits]: shard s takes the visits
        ``order[s * n // n_shards:(s + 1) * n // n_shards]``, n = ``len(order)``.

    Returns
    -------
    float
        The epoch's loss as ``fastsgd.kernels.net_sgd_epoch`` accumulates it, each shard's
        taken before its own steps, summed over the shards and divided by the number of
        visits (0.0 for an empty ``order``).

    Raises
    ------
    ValueError
        If the arguments do not fit together, as ``fastsgd.kernels.net_sgd_epoch`` checks
        them: rows, shapes, visited codes, batch size and velocities.

    See Also
    --------
    fastsgd.kernels.net_sgd_epoch : The sequential kernel, one shard.
    net_sgd_epoch_hogwild : Lock-free shared weights instead of copies.
    net_epoch_average : The handout's net.

    Notes
    -----
    Deterministic: every shard's result depends only on its visits and the starting
    weights, and the mean is summed in shard order, so a given ``order`` and ``n_shards``
    give bit-identical weights whatever the number of threads or their scheduling. With
    ``n_shards=1`` it is the sequential kernel. The call is one mixing step: call it once
    per epoch for per-epoch mixing. numba runs the shards on its threads;
    ``numba.set_num_threads`` or ``parallel_region`` sets how many. Each copy sits on cache
    lines of its own, so that threads writing their copies never share a line.

    Examples
    --------
    Three shards with sample weights, an L2 penalty and momentum: the weights and the
    velocities become the mean of the shards' sequential runs (here the NumPy reference):

    >>> import numpy as np
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import LOG_LOSS, OUTPUT_SOFTMAX, TANH, net_settings
    >>> from fastsgd.parallel import net_sgd_epoch_average, parallel_region
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    >>> weights, order = rng.uniform(0.5, 2.0, 30), rng.permutation(30)
    >>> params = [0.3 * rng.standard_normal(shape) for shape in [(5, 4), (5,), (5, 3), (3,)]]
    >>> velocities = [0.01 * rng.standard_normal(p.shape) for p in params]
    >>> ours, ours_v = [p.copy() for p in params], [v.copy() for v in velocities]
    >>> settings = net_settings(
    ...     TANH, LOG_LOSS, OUTPUT_SOFTMAX, 0.05, alpha=1e-3, momentum=0.9, nesterov=True
    ... )
    >>> with parallel_region(2):
    ...     loss = net_sgd_epoch_average(
    ...         X, y, weights, order, *ours, tuple(ours_v), settings, 3
    ...     )
    >>> shards = []
    >>> for shard in range(3):
    ...     mine, mine_v = [p.copy() for p in params], [v.copy() for v in velocities]
    ...     _ = reference.net_sgd_epoch(
    ...         X, y, weights, order[10 * shard : 10 * shard + 10], *mine, mine_v,
    ...         activation=TANH, loss=LOG_LOSS, output="softmax", eta=0.05, alpha=1e-3,
    ...         momentum=0.9, nesterov=True,
    ...     )
    ...     shards.append(mine + mine_v)
    >>> expected = [np.mean(arrays, axis=0) for arrays in zip(*shards)]
    >>> all(np.allclose(a, b) for a, b in zip(ours + ours_v, expected))
    True
    """
    check_net_sgd(X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings)
    n_visits = order.shape[0]
    if n_visits == 0:
        return 0.0
    n_shards = max(1, min(n_shards, n_visits))
    work = working_copies(W1t, b1, W2, b2, velocities, settings)
    # every array of the working layout, weights and velocities, gets one copy per shard
    c0 = private_copies(work[0], n_shards)
    c1 = private_copies(work[1], n_shards)
    c2 = private_copies(work[2], n_shards)
    c3 = private_copies(work[3], n_shards)
    c4 = private_copies(work[4], n_shards)
    c5 = private_copies(work[5], n_shards)
    c6 = private_copies(work[6], n_shards)
    c7 = private_copies(work[7], n_shards)
    loss_sums = private_copies(np.zeros(1), n_shards)
    for shard in prange(n_shards):
        start, stop = shard_bounds(n_visits, n_shards, shard)
        mine = (
            copy_of(c0, shard, work[0]), copy_of(c1, shard, work[1]),
            copy_of(c2, shard, work[2]), copy_of(c3, shard, work[3]),
            copy_of(c4, shard, work[4]), copy_of(c5, shard, work[5]),
            copy_of(c6, shard, work[6]), copy_of(c7, shard, work[7]),
        )  # fmt: skip
        loss_sums[shard, 0] = net_steps(
            X, targets, sample_weight, order[start:stop], mine, settings
        )
    average_into(c0, n_shards, work[0])
    average_into(c1, n_shards, work[1])
    average_into(c2, n_shards, work[2])
    average_into(c3, n_shards, work[3])
    average_into(c4, n_shards, work[4])
    average_into(c5, n_shards, work[5])
    average_into(c6, n_shards, work[6])
    average_into(c7, n_shards, work[7])
    write_back(work, W1t, W2, velocities, settings)
    return mean_loss(loss_sums, n_shards, 1, n_visits)[0]


@njit(cache=True, nogil=True)
def net_epoch_average(
    X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size, n_shards
):
    """Run the handout's two-layer net on shards of an epoch in parallel, then average.

    Iterative parameter mixing of ``fastsgd.kernels.net_epoch``: ``order`` is split into
    ``n_shards`` contiguous shards, each shard runs the sequential epoch on its own copy of
    the weights, all copies starting from the caller's, and the weights become the mean of
    the copies.

    Parameters
    ----------
    X : ndarray of shape (n_samples, k)
        float32 or float64, C-contiguous. Never written, never copied.
    y : ndarray of shape (n_samples,)
        Integer class codes: with one output unit (n_out = 1) code 1 is the positive class;
        with more, a softmax with one unit per class (every visited code in [0, n_out)).
    order : ndarray of shape (n_visits,)
        Integer row indices, visited in order (each shard its own contiguous part).
    W1t : ndarray of shape (H, k)
        The first layer stored one row per hidden unit; in X's dtype, C-contiguous, updated
        in place.
    b1 : ndarray of shape (H,)
        The hidden units' biases, in X's dtype. They always enter the forward pass and are
        updated in place only when ``fit_intercept``.
    W2 : ndarray of shape (H, n_out)
        The second layer, in X's dtype, C-contiguous; updated in place.
    b2 : ndarray of shape (n_out,)
        The output units' biases, in X's dtype; as b1.
    eta : float
        The learning rate.
    activation : int
        The hidden activation's code in ``fastsgd.kernels.ACTIVATIONS``.
    loss : int
        ``fastsgd.kernels.LOG_LOSS`` or ``fastsgd.kernels.SQUARED_ERROR``.
    fit_intercept : bool
        Whether the biases are updated.
    batch_size : int
        The visits per batch within each shard: 1 is per-sample SGD.
    n_shards : int
        The number of shards, clipped to [1, n_visits]: shard s takes the visits
        ``order[s * n // n_shards:(s + 1) * n // n_shards]``, n = ``len(order)``.

    Returns
    -------
    float
        The epoch's mean progressive loss: every visit's loss, each shard's taken before its
        own steps, summed and divided by the number of visits (0.0 for an empty ``order``).

    Raises
    ------
    ValueError
        If the arguments do not fit together, as ``fastsgd.kernels.net_sgd_epoch`` checks
        them: rows, shapes, visited codes, batch size and velocities.

    See Also
    --------
    fastsgd.kernels.net_epoch : The sequential kernel, one shard.
    net_epoch_hogwild : Lock-free shared weights instead of copies.
    net_sgd_epoch_average : scikit-learn's MLP step, with weights, penalty and momentum.
    fastsgd.reference.parameter_mixing : The NumPy version, one shard after another.

    Notes
    -----
    Deterministic: every shard's result depends only on its visits and the starting
    weights, and the mean is summed in shard order, so a given ``order`` and ``n_shards``
    give bit-identical weights whatever the number of threads or their scheduling. With
    ``n_shards=1`` it is the sequential kernel. The call is one mixing step: call it once
    per epoch for per-epoch mixing. numba runs the shards on its threads;
    ``numba.set_num_threads`` or ``parallel_region`` sets how many. Each copy sits on cache
    lines of its own, so that threads writing their copies never share a line.

    Examples
    --------
    Three shards on two threads against the NumPy reference:

    >>> import numpy as np
    >>> from fastsgd import reference
    >>> from fastsgd.kernels import LOG_LOSS, TANH
    >>> from fastsgd.parallel import net_epoch_average, parallel_region
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 5)), rng.integers(0, 2, 60)
    >>> order = rng.permutation(60)
    >>> params = [0.3 * rng.standard_normal(shape) for shape in [(6, 5), (6,), (6, 1), (1,)]]
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> settings = (0.05, TANH, LOG_LOSS, True, 1)  # eta ... batch_size
    >>> with parallel_region(2):
    ...     loss = net_epoch_average(X, y, order, *ours, *settings, 3)
    >>> expected = reference.parameter_mixing(
    ...     reference.net_epoch, X, y, order, theirs, 3, *settings
    ... )
    >>> bool(np.isclose(loss, expected)), all(np.allclose(a, b) for a, b in zip(ours, theirs))
    (True, True)
    """
    settings = handout_settings(W2, eta, activation, loss, fit_intercept, batch_size)
    return net_sgd_epoch_average(
        X, y, np.zeros(0), order, W1t, b1, W2, b2, no_velocities(W1t), settings, n_shards
    )
