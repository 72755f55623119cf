"""Shards of the visiting order and per-thread copies of parameters, for the parallel kernels."""

import numpy as np
from numba import njit

from fastsgd.parallel.threads import CACHE_LINE_BYTES


@njit(cache=True, nogil=True)
def shard_bounds(n_visits, n_shards, shard):
    """[start, stop) of ``shard`` when n_visits visits are split into contiguous shards."""
    return shard * n_visits // n_shards, (shard + 1) * n_visits // n_shards


@njit(cache=True, nogil=True)
def private_copies(template, n_copies):
    """n_copies copies of ``template``, one per row of a 2-D buffer.

    Each row is padded by at least one cache line, so two threads writing their own copies never
    share a 64-byte line (false sharing), whatever the buffer's alignment. Packed back to back,
    'average' one-vs-rest (K=3, k=20, two threads) measured 1.4x slower: 97 vs 69 ms per epoch
    of 1e6 samples (bench/false_sharing.py).
    """
    line = max(1, CACHE_LINE_BYTES // template.itemsize)
    size = template.size
    stride = (size + line + line - 1) // line * line
    buffer = np.empty((n_copies, stride), dtype=template.dtype)
    flat = template.reshape(size)
    for copy in range(n_copies):  # a loop: a slice assignment compiles its error message (slow)
        for i in range(size):
            buffer[copy, i] = flat[i]
    return buffer


@njit(cache=True, nogil=True)
def copy_of(buffer, copy, template):
    """Copy ``copy`` in ``buffer`` as a C-contiguous array shaped like ``template``."""
    return buffer[copy, : template.size].reshape(template.shape)


@njit(cache=True, nogil=True)
def average_into(buffer, n_copies, target):
    """target = the mean of the copies, summed in copy order (bit-identical on every run)."""
    flat = target.reshape(target.size)
    for i in range(target.size):
        total = buffer[0, i]
        for copy in range(1, n_copies):
            total += buffer[copy, i]
        flat[i] = total / n_copies


@njit(cache=True, nogil=True)
def add_deltas_into(buffer, n_copies, start, target):
    """target = start + the sum over copies of (copy - start): every thread's change kept."""
    flat = target.reshape(target.size)
    origin = start.reshape(start.size)
    for i in range(target.size):
        total = origin[i]
        for copy in range(n_copies):
            total += buffer[copy, i] - origin[i]
        flat[i] = total


@njit(cache=True, nogil=True)
def mean_loss(loss_sums, n_shards, n_models, n_visits):
    """Each model's loss summed over the shards (rows of ``loss_sums``), per visit."""
    total = np.zeros(n_models)
    for shard in range(n_shards):
        for m in range(n_models):
            total[m] += loss_sums[shard, m]
    return total / max(n_visits, 1)
