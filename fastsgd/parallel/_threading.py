"""Which numba threading layer runs the parallel kernels, and how many threads they get.

The parallel kernels (``parallel=True``) may be launched from several Python threads at once:
joblib's threading backend, ``GridSearchCV(n_jobs=...)`` with threads, or a user's own pool, all
of which can call an estimator whose ``n_jobs`` > 1. numba's ``workqueue`` layer, the one numba
falls back to when nothing else loads, aborts the process on concurrent use. fastsgd therefore
asks numba for a thread-safe layer: TBB (the ``tbb`` wheel is a dependency on x86-64), else
OpenMP. TBB is also fork-safe, which GNU OpenMP is not (a child forked after a parallel region
hangs in its own first one), so TBB comes first.

A user who sets ``NUMBA_THREADING_LAYER`` (or ``numba.config.THREADING_LAYER`` before importing
fastsgd) keeps that choice. If the layer that ends up running is ``workqueue`` anyway, fastsgd's
parallel calls take a process-wide lock, so they run one at a time instead of crashing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from importlib import metadata

import numba

THREAD_SAFE_LAYERS = ("tbb", "omp")
_workqueue_lock = threading.Lock()


def _preload_tbb() -> bool:
    """Load the TBB runtime that the ``tbb`` wheel installs, so numba's TBB layer finds it.

    pip puts ``libtbb.so.12`` in ``<prefix>/lib``, which is not on the loader's search path of
    numba's ``tbbpool`` extension; loading it first with RTLD_GLOBAL satisfies that dependency.
    """
    try:
        files = metadata.files("tbb") or []
    except metadata.PackageNotFoundError:
        return False
    for file in files:
        name = file.name
        if name.startswith(("libtbb.so.", "tbb12.dll", "libtbb.12.dylib")):
            path = file.locate()
            if os.path.exists(path):
                try:
                    ctypes.CDLL(os.fspath(path), mode=ctypes.RTLD_GLOBAL)
                except OSError:
                    return False
                return True
    return False


def configure_threading_layer() -> None:
    """Prefer a thread-safe layer unless the user already picked one (called on import)."""
    _preload_tbb()
    if "NUMBA_THREADING_LAYER" in os.environ or numba.config.THREADING_LAYER != "default":
        return
    numba.config.THREADING_LAYER = "threadsafe"


def threading_layer() -> str | None:
    """The layer numba runs parallel kernels on, or None before the first parallel launch."""
    try:
        return numba.threading_layer()
    except ValueError:
        return None


def resolve_n_jobs(n_jobs: int | None) -> tuple[int, int]:
    """``(shards, threads)`` for ``n_jobs``: None or 1 is (1, 1); -1 all of numba's threads,
    -2 all but one, ...; a positive count is that many shards, on at most numba's threads.

    The shards, not the threads, decide an 'average' result, so a positive n_jobs gives the same
    weights on any machine; a negative one depends on the machine's thread count.
    """
    available = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        return 1, 1
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning: use None or 1 (one thread), a count, or -1.")
    shards = max(1, available + 1 + n_jobs) if n_jobs < 0 else n_jobs
    return shards, min(shards, available)


@contextlib.contextmanager
def parallel_region(n_threads: int):
    """Run the enclosed parallel kernel call on ``n_threads`` threads.

    numba's thread count is per calling thread, so concurrent callers do not disturb each other.
    Under the workqueue layer, which supports no concurrent use, calls are serialized.
    """
    previous = numba.get_num_threads()
    lock = _workqueue_lock if threading_layer() not in (None, *THREAD_SAFE_LAYERS) else None
    if lock is not None:
        lock.acquire()
    try:
        numba.set_num_threads(n_threads)
        yield
    finally:
        numba.set_num_threads(previous)
        if lock is not None:
            lock.release()
