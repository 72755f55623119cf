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
is taken before its own steps).
"""

import numpy as np
from numba import njit, prange

from fastsgd.kernels._checks import check_models, check_net, check_visits
from fastsgd.kernels.logistic import logistic_epoch
from fastsgd.kernels.net import net_steps, working_copies, write_back
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
def net_epoch_average(
    X, y, order, W1t, b1, W2, b2, eta, activation, loss, fit_intercept, batch_size, n_shards
):
    check_net(X, y, order, W1t, b1, W2, b2)
    n_visits = order.shape[0]
    if n_visits == 0:
        return 0.0
    n_shards = max(1, min(n_shards, n_visits))
    weights, W2t = working_copies(W1t, W2, batch_size)
    all_weights = private_copies(weights, n_shards)
    all_b1 = private_copies(b1, n_shards)
    all_W2t = private_copies(W2t, n_shards)
    all_b2 = private_copies(b2, n_shards)
    loss_sums = private_copies(np.zeros(1), n_shards)
    for shard in prange(n_shards):
        start, stop = shard_bounds(n_visits, n_shards, shard)
        loss_sums[shard, 0] = net_steps(
            X, y, order[start:stop], copy_of(all_weights, shard, weights),
            copy_of(all_b1, shard, b1), copy_of(all_W2t, shard, W2t), copy_of(all_b2, shard, b2),
            eta, activation, loss, fit_intercept, batch_size,
        )  # fmt: skip
    average_into(all_weights, n_shards, weights)
    average_into(all_b1, n_shards, b1)
    average_into(all_W2t, n_shards, W2t)
    average_into(all_b2, n_shards, b2)
    write_back(weights, W2t, W1t, W2)
    return mean_loss(loss_sums, n_shards, 1, n_visits)[0]
