"""Which numba threading layer runs the parallel kernels, and how many threads they get.

The Hogwild kernels (``parallel=True``) may be launched from several Python threads at once:
joblib's threading backend, ``GridSearchCV(n_jobs=...)`` with threads, or a user's own pool, all
of which can call an estimator with ``parallel='hogwild'``. numba's ``workqueue`` layer, the one
numba falls back to when nothing else loads, aborts the process on concurrent use. So before the
first parallel kernel an estimator launches, fastsgd asks numba for a thread-safe layer: TBB (the
``tbb`` wheel is a dependency on x86-64), else OpenMP. TBB is also fork-safe, which GNU OpenMP is
not (a child forked after a parallel region hangs in its own first one), so TBB comes first.

Nothing happens at import: numba's configuration is touched on the first parallel call only
(``parallel_region``, or ``configure_threading_layer()`` called by a user who launches the
kernels from their own code), and never when the user chose a layer (``NUMBA_THREADING_LAYER``
or ``numba.config.THREADING_LAYER``) or numba already started one. If the layer that runs is
``workqueue`` anyway, fastsgd's parallel calls take a process-wide lock, so they run one at a
time instead of crashing. The 'average' strategy of the estimators uses none of this: its shards
run on plain Python threads (``fastsgd.parallel.threads``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from importlib import metadata

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


_configured = False
_configure_lock = threading.Lock()


def configure_threading_layer() -> None:
    """Prefer a thread-safe layer for numba's parallel kernels, unless the user picked one or
    numba already launched its threads; idempotent. Called before the first parallel kernel."""
    global _configured
    with _configure_lock:
        if _configured:
            return
        _configured = True
        if threading_layer() is not None:  # numba started its threads already
            return
        # the user's choice too may be (or fall back to) TBB, which numba finds only preloaded
        _preload_tbb()
        import numba

        if "NUMBA_THREADING_LAYER" in os.environ or numba.config.THREADING_LAYER != "default":
            return
        numba.config.THREADING_LAYER = "threadsafe"


def threading_layer() -> str | None:
    """The layer numba runs parallel kernels on, or None before the first parallel launch."""
    import numba  # imported here: the estimators import this module without training

    try:
        return numba.threading_layer()
    except ValueError:
        return None


def resolve_n_jobs(n_jobs: int | None) -> int:
    """The threads ``n_jobs`` asks for, by joblib's rules as in scikit-learn: None is 1 (or the
    ``joblib.parallel_config`` in effect), -1 every CPU, -2 all but one, a positive count that
    many. Threads never change a model: the shards do (``n_shards``)."""
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning: use None or 1 (one thread), a count, or -1.")
    from joblib import effective_n_jobs  # scikit-learn's own dependency; imported when used

    return max(1, effective_n_jobs(n_jobs))


@contextlib.contextmanager
def parallel_region(n_threads: int):
    """Run the enclosed parallel kernel call on ``n_threads`` threads.

    numba's thread count is per calling thread, so concurrent callers do not disturb each other.
    Under the workqueue layer, which supports no concurrent use, calls are serialized.
    """
    import numba

    configure_threading_layer()
    n_threads = max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS))
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
