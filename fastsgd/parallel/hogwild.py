"""Hogwild: threads update one shared set of weights without locks (Niu, Recht, Re and Wright,
"Hogwild!", NIPS 2011).

NOT deterministic: updates from different threads interleave and may overwrite each other, so
two runs give different weights (use ``fastsgd.parallel.average`` for reproducible results).
It pays off when each sample touches few weights. On dense data every thread writes every
weight on every sample, the threads fight over the same cache lines, and it is usually slower
than one thread (see bench/test_bench_parallel.py).

The visiting order is split into ``n_shards`` contiguous shards, one per task. The logistic
intercepts, which every sample updates, are kept per shard and their changes summed at the end
(a race on a single scalar would lose most updates); the net's biases are shared like its
weights.

Public kernels (callable from any ``@njit`` function; ``numba.set_num_threads`` sets the
threads): ``logistic_epoch_hogwild``, ``net_epoch_hogwild`` and ``net_sgd_epoch_hogwild``, with
the arguments and return value of the sequential kernels plus ``n_shards``. Their docstrings
hold the full contract.
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
    add_deltas_into,
    copy_of,
    mean_loss,
    private_copies,
    shard_bounds,
)


@njit(cache=True, nogil=True, parallel=True)
def logistic_epoch_hogwild(
    X, y, order, coef, intercept, eta, positive_class, fit_intercept, n_shards
):
    """Run the handout's logistic update on shards of an epoch, lock-free on shared weights.

    Hogwild (Niu, Recht, Re and Wright, 2011) of ``fastsgd.kernels.logistic_epoch``:
    ``order`` is split into ``n_shards`` contiguous shards, one per task, and the tasks update
    the caller's coef at the same time, without locks. The intercepts, which every sample
    updates, are kept per shard and their changes summed at the end (a race on a single
    scalar would lose most updates).

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
    logistic_epoch_average : Deterministic parameter averaging instead.

    Notes
    -----
    NOT deterministic: updates from different threads interleave and may overwrite each
    other, so two runs give different weights (use the ``_average`` kernels for
    reproducible results). With ``n_shards=1`` it is the sequential kernel. It pays off when
    each sample touches few weights; on dense data every thread writes every weight on every
    sample, the threads fight over the same cache lines, and it is usually slower than one
    thread (see bench/test_bench_parallel.py). ``numba.set_num_threads`` or
    ``parallel_region`` sets the threads.

    Examples
    --------
    One shard is the sequential kernel:

    >>> import numpy as np
    >>> from fastsgd.kernels import logistic_epoch
    >>> from fastsgd.parallel import logistic_epoch_hogwild, parallel_region
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 5))
    >>> y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    >>> settings = (np.array([0.05]), np.array([1]), True)  # eta, positive_class, fit_intercept
    >>> ours = [np.zeros((1, 5)), np.zeros(1)]
    >>> theirs = [np.zeros((1, 5)), np.zeros(1)]
    >>> loss = logistic_epoch_hogwild(X, y, np.arange(400), *ours, *settings, 1)
    >>> expected = logistic_epoch(X, y, np.arange(400), *theirs, *settings)
    >>> np.array_equal(loss, expected), np.array_equal(ours[0], theirs[0])
    (True, True)

    Four shards on two threads train one model (the weights differ from run to run):

    >>> coef, intercept = np.zeros((1, 5)), np.zeros(1)
    >>> with parallel_region(2):
    ...     for epoch in range(3):
    ...         loss = logistic_epoch_hogwild(X, y, np.arange(400), coef, intercept, *settings, 4)
    >>> accuracy = np.mean((X @ coef[0] + intercept[0] > 0) == y)
    >>> bool(accuracy > 0.9)
    True
    """
    check_visits(X, y, order)
    check_models(X, coef, intercept, eta, positive_class)
    n_visits = order.shape[0]
    n_models = coef.shape[0]
    n_shards = max(1, min(n_shards, n_visits))
    start_intercept = intercept.copy()
    intercepts = private_copies(intercept, n_shards)
    loss_sums = private_copies(np.zeros(n_models), n_shards)
    for shard in prange(n_shards):
        start, stop = shard_bounds(n_visits, n_shards, shard)
        shard_loss = logistic_epoch(
            X, y, order[start:stop], coef, copy_of(intercepts, shard, intercept), eta,
            positive_class, fit_intercept,
        )  # fmt: skip
        for m in range(n_models):
            loss_sums[shard, m] = shard_loss[m] * (stop - start)
    add_deltas_into(intercepts, n_shards, start_intercept, intercept)
    return mean_loss(loss_sums, n_shards, n_models, n_visits)


@njit(cache=True, nogil=True, parallel=True)
def net_sgd_epoch_hogwild(
    X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings, n_shards
):
    """Run scikit-learn's MLP SGD step on shards of an epoch, lock-free on shared weights.

    Hogwild (Niu, Recht, Re and Wright, 2011) of ``fastsgd.kernels.net_sgd_epoch``: ``order``
    is split into ``n_shards`` contiguous shards, one per task, and the tasks update one
    shared set of weights, biases and velocities at the same time, without locks. The weights
    are the kernel's working copies (W1t padded, W2 transposed), shared by every task and
    written back to the caller's arrays at the end.

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
    net_sgd_epoch_average : Deterministic parameter averaging instead.
    net_epoch_hogwild : The handout's net.

    Notes
    -----
    NOT deterministic: updates from different threads interleave and may overwrite each
    other, so two runs give different weights (use the ``_average`` kernels for
    reproducible results). With ``n_shards=1`` it is the sequential kernel. It pays off when
    each sample touches few weights; on dense data every thread writes every weight on every
    sample, the threads fight over the same cache lines, and it is usually slower than one
    thread (see bench/test_bench_parallel.py). ``numba.set_num_threads`` or
    ``parallel_region`` sets the threads.

    Examples
    --------
    One shard is the sequential kernel; four shards on two threads train a net that
    separates the classes (the weights differ from run to run):

    >>> import numpy as np
    >>> from fastsgd.kernels import LOG_LOSS, OUTPUT_LOGISTIC, RELU, net_settings, net_sgd_epoch
    >>> from fastsgd.parallel import net_sgd_epoch_hogwild, parallel_region
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 4))
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> params = [0.3 * rng.standard_normal(shape) for shape in [(5, 4), (5,), (5, 1), (1,)]]
    >>> no_weights = np.zeros(0)
    >>> settings = net_settings(RELU, LOG_LOSS, OUTPUT_LOGISTIC, 0.1, momentum=0.5)
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> ours_v, theirs_v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    >>> order = np.arange(400)
    >>> loss = net_sgd_epoch_hogwild(
    ...     X, y, no_weights, order, *ours, tuple(ours_v), settings, 1
    ... )
    >>> expected = net_sgd_epoch(X, y, no_weights, order, *theirs, tuple(theirs_v), settings)
    >>> bool(np.isclose(loss, expected)), all(np.allclose(a, b) for a, b in zip(ours, theirs))
    (True, True)
    >>> with parallel_region(2):
    ...     for epoch in range(3):
    ...         loss = net_sgd_epoch_hogwild(
    ...             X, y, no_weights, order, *ours, tuple(ours_v), settings, 4
    ...         )
    >>> W1t, b1, W2, b2 = ours
    >>> z2 = np.maximum(X @ W1t.T + b1, 0) @ W2 + b2
    >>> bool(np.mean((z2[:, 0] > 0) == y) > 0.9)
    True
    """
    check_net_sgd(X, targets, sample_weight, order, W1t, b1, W2, b2, velocities, settings)
    n_visits = order.shape[0]
    if n_visits == 0:
        return 0.0
    n_shards = max(1, min(n_shards, n_visits))
    work = working_copies(W1t, b1, W2, b2, velocities, settings)
    loss_sums = private_copies(np.zeros(1), n_shards)
    for shard in prange(n_shards):
        start, stop = shard_bounds(n_visits, n_shards, shard)
        loss_sums[shard, 0] = net_steps(
            X, targets, sample_weight, order[start:stop], work, settings
        )
    write_back(work, W1t, W2, velocities, settings)
    return mean_loss(loss_sums, n_shards, 1, n_visits)[0]


@njit(cache=True, nogil=True)
def net_epoch_hogwild(
    X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size, n_shards
):
    """Run the handout's two-layer net on shards of an epoch, lock-free on shared weights.

    Hogwild (Niu, Recht, Re and Wright, 2011) of ``fastsgd.kernels.net_epoch``: ``order`` is
    split into ``n_shards`` contiguous shards, one per task, and the tasks update one shared
    set of weights and biases at the same time, without locks.

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
    net_epoch_average : Deterministic parameter averaging instead.
    net_sgd_epoch_hogwild : scikit-learn's MLP step, with weights, penalty and momentum.

    Notes
    -----
    NOT deterministic: updates from different threads interleave and may overwrite each
    other, so two runs give different weights (use the ``_average`` kernels for
    reproducible results). With ``n_shards=1`` it is the sequential kernel. It pays off when
    each sample touches few weights; on dense data every thread writes every weight on every
    sample, the threads fight over the same cache lines, and it is usually slower than one
    thread (see bench/test_bench_parallel.py). ``numba.set_num_threads`` or
    ``parallel_region`` sets the threads.

    Examples
    --------
    One shard is the sequential kernel:

    >>> import numpy as np
    >>> from fastsgd.kernels import LOG_LOSS, RELU, net_epoch
    >>> from fastsgd.parallel import net_epoch_hogwild, parallel_region
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 4))
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> params = [0.3 * rng.standard_normal(shape) for shape in [(5, 4), (5,), (5, 1), (1,)]]
    >>> ours, theirs = [p.copy() for p in params], [p.copy() for p in params]
    >>> settings = (0.1, RELU, LOG_LOSS, True, 1)  # eta ... batch_size
    >>> loss = net_epoch_hogwild(X, y, np.arange(400), *ours, *settings, 1)
    >>> expected = net_epoch(X, y, np.arange(400), *theirs, *settings)
    >>> bool(np.isclose(loss, expected)), all(np.allclose(a, b) for a, b in zip(ours, theirs))
    (True, True)

    Two shards on two threads (the weights differ from run to run):

    >>> with parallel_region(2):
    ...     loss = net_epoch_hogwild(X, y, np.arange(400), *ours, *settings, 2)
    >>> bool(np.isfinite(loss))
    True
    """
    settings = handout_settings(W2, eta, activation, loss, fit_intercept, batch_size)
    return net_sgd_epoch_hogwild(
        X, y, np.zeros(0), order, W1t, b1, W2, b2, no_velocities(W1t), settings, n_shards
    )
