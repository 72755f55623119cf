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
    """Prefer a thread-safe numba threading layer for the parallel kernels (TBB, else OpenMP).

    Unless the user picked a layer (``NUMBA_THREADING_LAYER`` or
    ``numba.config.THREADING_LAYER``) or numba already launched its threads, it sets numba's
    choice to ``'threadsafe'``, so that numba's first parallel launch takes TBB or OpenMP
    instead of the ``workqueue`` layer, which aborts the process on concurrent use. It also
    loads the TBB runtime of the ``tbb`` wheel, which numba finds only preloaded. Idempotent,
    thread-safe, and called by ``parallel_region``; call it yourself before launching the
    parallel kernels from your own code (several Python threads at once, in particular).

    See Also
    --------
    threading_layer : The layer that runs, once numba has launched one.
    parallel_region : Configures the layer, then sets the thread count.

    Notes
    -----
    Nothing happens at import: numba's configuration is touched on the first call only.
    TBB comes first because it is also fork-safe, which GNU OpenMP is not (a child forked
    after a parallel region hangs in its own first one).

    Examples
    --------
    Called before numba launches its threads (and with no layer chosen by the user), it makes
    the first parallel kernel run on TBB or OpenMP, never on workqueue:

    >>> import numpy as np
    >>> from fastsgd.parallel import (
    ...     configure_threading_layer, logistic_epoch_average, parallel_region, threading_layer,
    ... )
    >>> configure_threading_layer()
    >>> configure_threading_layer()  # idempotent
    >>> X, y = np.array([[1.0, 2.0], [2.0, -1.0]]), np.array([1, 0])
    >>> with parallel_region(2):
    ...     loss = logistic_epoch_average(
    ...         X, y, np.arange(2), np.zeros((1, 2)), np.zeros(1), np.array([0.1]),
    ...         np.array([1]), True, 2,
    ...     )
    >>> threading_layer() in ("tbb", "omp")
    True
    """
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
    """Return the layer numba runs the parallel kernels on, or None before their first launch.

    Returns
    -------
    str or None
        ``'tbb'``, ``'omp'`` or ``'workqueue'`` (numba's name for it), or None while numba
        has launched no parallel kernel in this process.

    See Also
    --------
    configure_threading_layer : Asks numba for a thread-safe layer.

    Examples
    --------
    After a parallel kernel has run through ``parallel_region``, which configures the layer
    first, it is a thread-safe one (unless the user chose another):

    >>> import numpy as np
    >>> from fastsgd.parallel import logistic_epoch_average, parallel_region, threading_layer
    >>> X, y = np.array([[1.0, 2.0], [2.0, -1.0]]), np.array([1, 0])
    >>> with parallel_region(2):
    ...     loss = logistic_epoch_average(
    ...         X, y, np.arange(2), np.zeros((1, 2)), np.zeros(1), np.array([0.1]),
    ...         np.array([1]), True, 2,
    ...     )
    >>> threading_layer() in ("tbb", "omp")  # TBB, or OpenMP where TBB does not load
    True
    """
    import numba  # imported here: the estimators import this module without training

    try:
        return numba.threading_layer()
    except ValueError:
        return None


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Return the number of threads ``n_jobs`` asks for, by joblib's rules as in scikit-learn.

    Parameters
    ----------
    n_jobs : int or None
        None is 1 (or the ``joblib.parallel_config`` in effect), -1 every CPU, -2 all but
        one, a positive count that many.

    Returns
    -------
    int
        The number of threads, at least 1.

    Raises
    ------
    ValueError
        For ``n_jobs == 0``.

    See Also
    --------
    parallel_region : Runs a parallel kernel on that many threads.

    Notes
    -----
    Threads never change a model: the shards do (the estimators' ``n_shards``).

    Examples
    --------
    >>> import joblib
    >>> from fastsgd.parallel import resolve_n_jobs
    >>> resolve_n_jobs(None), resolve_n_jobs(3)
    (1, 3)
    >>> resolve_n_jobs(-1) == joblib.cpu_count()
    True
    >>> resolve_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs == 0 has no meaning: use None or 1 (one thread), a count, or -1.
    """
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning: use None or 1 (one thread), a count, or -1.")
    from joblib import effective_n_jobs  # scikit-learn's own dependency; imported when used

    return max(1, effective_n_jobs(n_jobs))


@contextlib.contextmanager
def parallel_region(n_threads: int):
    """Run the enclosed parallel kernel calls on ``n_threads`` threads (a context manager).

    On entry it calls ``configure_threading_layer`` and sets numba's thread count for the
    calling thread; on exit it puts the previous count back.

    Parameters
    ----------
    n_threads : int
        The threads, clipped to [1, ``numba.config.NUMBA_NUM_THREADS``].

    See Also
    --------
    resolve_n_jobs : The threads an ``n_jobs`` value asks for.
    configure_threading_layer : The layer it configures first.

    Notes
    -----
    numba's thread count is per calling thread, so concurrent callers do not disturb each
    other. Under the workqueue layer, which supports no concurrent use, calls are serialized
    by a process-wide lock.

    Examples
    --------
    >>> import numba
    >>> import numpy as np
    >>> from fastsgd.parallel import logistic_epoch_average, parallel_region
    >>> X, y = np.array([[1.0, 2.0], [2.0, -1.0]]), np.array([1, 0])
    >>> coef, intercept = np.zeros((1, 2)), np.zeros(1)
    >>> before = numba.get_num_threads()
    >>> with parallel_region(2):
    ...     threads = numba.get_num_threads()
    ...     loss = logistic_epoch_average(
    ...         X, y, np.arange(2), coef, intercept, np.array([0.1]), np.array([1]), True, 2
    ...     )
    >>> threads == min(2, numba.config.NUMBA_NUM_THREADS), numba.get_num_threads() == before
    (True, True)
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
