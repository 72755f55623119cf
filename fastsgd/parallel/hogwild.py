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
threads): ``logistic_epoch_hogwild(..., n_shards)`` and ``net_epoch_hogwild(..., n_shards)``,
with the arguments and return value of the sequential kernels plus ``n_shards``.
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
    settings = handout_settings(W2, eta, activation, loss, fit_intercept, batch_size)
    return net_sgd_epoch_hogwild(
        X, y, np.zeros(0), order, W1t, b1, W2, b2, no_velocities(W1t), settings, n_shards
    )
