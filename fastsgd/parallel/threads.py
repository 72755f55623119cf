"""The estimators' 'average' strategy: shards of an epoch trained on Python threads.

An epoch's visiting order is cut into ``n_shards`` contiguous shards (the bounds of
``shard_bounds``). Each shard runs the estimator's own sequential engine, unchanged, on its own
copy of the parameters and of their training state (the L2 scale, the lazy average, the L1
bookkeeping, a net's momentum velocities), all starting from the same point; the copies are then
mixed, ``sum(n_s / n * copy_s)`` in shard order (``mix``). This is iterative parameter mixing
(Zinkevich et al. 2010; McDonald et al. 2010) with every setting the sequential engine has, and
it is ``fastsgd.dask``'s average mode with the blocks as the shards (the same ``mix``).

Deterministic: a shard's result depends only on its visits and its starting point, and the mix
is summed in shard order, so the model depends on ``n_shards`` but never on the number of
threads or their scheduling. The kernels release the GIL (``nogil=True``), so plain threads run
the shards in parallel; no numba threading layer is involved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

import numpy as np


def shard_slices(n_visits: int, n_shards: int) -> list[tuple[int, int]]:
    """[start, stop) of each shard, as ``fastsgd.parallel._shards.shard_bounds`` cuts them; at
    most ``n_visits`` shards, so none is empty (unless there are no visits)."""
    n_shards = max(1, min(n_shards, n_visits))
    return [(s * n_visits // n_shards, (s + 1) * n_visits // n_shards) for s in range(n_shards)]


def mix(shares: Sequence[float], arrays: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """``sum(shares[s] * arrays[s][i])`` for each i, summed in shard order. For 2, 4, 8... equal
    shards every share is a power of two, so each product is exact (only the sums round), and
    ``fastsgd.dask``'s average mode, mixing its blocks with this function, gets the same bits."""
    mixed = [shares[0] * a for a in arrays[0]]  # in each array's own dtype
    for share, shard in zip(shares[1:], arrays[1:], strict=True):
        for total, a in zip(mixed, shard, strict=True):
            total += share * a
    return mixed


CACHE_LINE_BYTES = 64


def private_copy(array: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``array`` on cache lines of its own: 64-byte aligned and padded by
    a line, so two threads that each write their own copy (of small weights, of a per-sample
    counter) never share a line (false sharing: packed per-thread copies measured 1.4x slower,
    bench/false_sharing.py)."""
    raw = np.empty(array.nbytes + 2 * CACHE_LINE_BYTES, dtype=np.uint8)
    offset = -raw.ctypes.data % CACHE_LINE_BYTES
    copy = raw[offset : offset + array.nbytes].view(array.dtype).reshape(array.shape)
    copy[...] = array
    return copy


class ShardsStopped(Exception):
    """Raised inside a shard's thread when another shard failed or the caller was interrupted."""


class ShardThreads:
    """The threads that run the shards of one fit: started on the first epoch, reused by the
    next ones (starting them anew each epoch cost about a millisecond an epoch, a third of an
    a9a epoch), joined by ``close``."""

    def __init__(self, n_threads: int):
        self.n_threads = max(1, n_threads)
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def run(
        self,
        run_shard: Callable[[int, threading.Event], Any],
        n_shards: int,
        on_done: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        """``[run_shard(s, stop) for s in range(n_shards)]``, on up to ``n_threads`` threads.

        ``run_shard`` should return early (raise ``ShardsStopped``) once ``stop`` is set: it is
        set when a shard raised or the caller was interrupted (Ctrl-C), and ``run`` then waits
        for the running shards to return before it raises the first error. ``on_done(s,
        result)`` runs in the calling thread as each shard finishes (a progress bar). With one
        thread every shard runs in the calling thread, in order.
        """
        stop = threading.Event()
        if self.n_threads == 1 or n_shards <= 1:
            results = []
            for shard in range(n_shards):
                results.append(run_shard(shard, stop))
                if on_done is not None:
                    on_done(shard, results[-1])
            return results
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.n_threads, thread_name_prefix="fastsgd-shard"
            )
        results: list[Any] = [None] * n_shards
        futures = {self._pool.submit(run_shard, shard, stop): shard for shard in range(n_shards)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    shard = futures[future]
                    results[shard] = future.result()  # a shard's error is raised here
                    if on_done is not None:
                        on_done(shard, results[shard])
        except BaseException:
            stop.set()  # the running shards return at their next chunk
            for future in pending:
                future.cancel()
            wait(pending)
            raise
        return results
