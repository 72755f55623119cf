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
``numba.set_num_threads`` sets how many):

``logistic_epoch_average(X, y, order, coef, intercept, eta, positive_class, fit_intercept,
n_shards)`` and ``net_epoch_average(X, y, order, W1t, b1, W2, b2, eta, activation, loss,
fit_intercept, batch_size, n_shards)`` take the arguments of ``logistic_epoch`` and
``net_epoch`` plus ``n_shards`` and return the same mean progressive loss (each shard's loss
is taken before its own steps). ``net_sgd_epoch_average(..., n_shards)`` takes the arguments
of ``net_sgd_epoch``; the momentum velocities are averaged like the weights.
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
    settings = handout_settings(W2, eta, activation, loss, fit_intercept, batch_size)
    return net_sgd_epoch_average(
        X, y, np.zeros(0), order, W1t, b1, W2, b2, no_velocities(W1t), settings, n_shards
    )
