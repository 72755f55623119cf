"""Why fastsgd.parallel pads per-thread copies: 'average' with and without the padding.

The padded kernels use fastsgd's private_copies, which leaves at least one cache line between
two threads' copies; the tight ones pack the copies back to back, so neighbouring threads'
per-sample writes (the one-vs-rest intercepts, the net's biases) share cache lines. Two threads,
one epoch each, 5 rounds after a warm-up; prints the median.

Run: python bench/false_sharing.py
"""

import time

import numpy as np
from numba import njit, prange

from fastsgd.kernels import LOG_LOSS, RELU
from fastsgd.kernels.logistic import logistic_epoch
from fastsgd.kernels.net import net_steps, working_copies, write_back
from fastsgd.parallel import parallel_region
from fastsgd.parallel._shards import average_into, copy_of, private_copies, shard_bounds


@njit(nogil=True)
def tight_copies(template, n_copies):
    buffer = np.empty((n_copies, template.size), dtype=template.dtype)
    for copy in range(n_copies):
        buffer[copy, :] = template.reshape(template.size)
    return buffer


def average_kernels(copies):
    @njit(nogil=True, parallel=True)
    def logistic(X, y, order, coef, intercept, eta, positive_class, n_shards):
        coefs, intercepts = copies(coef, n_shards), copies(intercept, n_shards)
        for shard in prange(n_shards):
            start, stop = shard_bounds(order.shape[0], n_shards, shard)
            logistic_epoch(
                X, y, order[start:stop], copy_of(coefs, shard, coef),
                copy_of(intercepts, shard, intercept), eta, positive_class, True,
            )  # fmt: skip
        average_into(coefs, n_shards, coef)
        average_into(intercepts, n_shards, intercept)

    @njit(nogil=True, parallel=True)
    def net(X, y, order, W1t, b1, W2, b2, n_shards):
        weights, W2t = working_copies(W1t, W2, 1)
        all_weights, all_W2t = copies(weights, n_shards), copies(W2t, n_shards)
        all_b1, all_b2 = copies(b1, n_shards), copies(b2, n_shards)
        for shard in prange(n_shards):
            start, stop = shard_bounds(order.shape[0], n_shards, shard)
            net_steps(
                X, y, order[start:stop], copy_of(all_weights, shard, weights),
                copy_of(all_b1, shard, b1), copy_of(all_W2t, shard, W2t),
                copy_of(all_b2, shard, b2), 0.01, RELU, LOG_LOSS, True, 1,
            )  # fmt: skip
        average_into(all_weights, n_shards, weights)
        average_into(all_b1, n_shards, b1)
        average_into(all_W2t, n_shards, W2t)
        average_into(all_b2, n_shards, b2)
        write_back(weights, W2t, W1t, W2)

    return logistic, net


def main():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1_000_000, 20))
    y = rng.integers(0, 3, 1_000_000).astype(np.int64)
    X_net = rng.standard_normal((100_000, 20)).astype(np.float32)
    y_net = rng.integers(0, 2, 100_000).astype(np.int64)
    times = {}
    for layout, copies in (("padded", private_copies), ("tight", tight_copies)):
        logistic, net = average_kernels(copies)
        for _ in range(6):
            coef, intercept = np.zeros((3, 20)), np.zeros(3)
            start = time.perf_counter()
            with parallel_region(2):
                logistic(X, y, np.arange(len(y)), coef, intercept, np.full(3, 0.01),
                         np.arange(3), 2)  # fmt: skip
            times.setdefault(f"one-vs-rest K=3, k=20, N=1e6, {layout}", []).append(
                time.perf_counter() - start
            )
            params = [np.full((3, 20), 0.1, np.float32), np.zeros(3, np.float32),
                      np.full((3, 1), 0.1, np.float32), np.zeros(1, np.float32)]  # fmt: skip
            start = time.perf_counter()
            with parallel_region(2):
                net(X_net, y_net, np.arange(len(y_net)), *params, 2)
            times.setdefault(f"net H=3, k=20, N=1e5, {layout}", []).append(
                time.perf_counter() - start
            )
    for name, values in sorted(times.items()):
        print(f"{name:40s} median {np.median(values[1:]) * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
