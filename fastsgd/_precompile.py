"""``fastsgd.compile()`` and ``fastsgd compile``: fill Numba's on-disk cache ahead of time.

Every kernel is compiled lazily, once per combination of argument types (float32 or float64,
dense or CSR, with or without sample weights, class codes or float targets, ...), and cached on
disk (``cache=True``: ``NUMBA_CACHE_DIR`` if set, else ``__pycache__`` beside the sources). A
new user's first fit of each combination pays the compiling, seconds each. ``compile`` pays it
once, ahead of time (a Docker image build, a CI cache step): it runs a tiny ``fit`` (and
``predict``) of each configuration on each input kind it accepts, in this process or in
``n_jobs`` worker processes that share the cache, so the kernels compiled are exactly those a
real fit of that configuration calls. Afterwards a first fit loads them from the cache.

The configurations are ``CONFIGURATIONS`` (name -> estimator class and parameters); ``compile()``
without names compiles all of them, which covers every compiled path of every estimator
(Hogwild's ``parallel=True`` kernels only when named: ``"hogwild"``, ``"net-hogwild"``). Input
that types differently is compiled on its first fit: a read-only X (a memory map, joblib's
shared arrays), CSR matrices with int64 indices.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor

# name -> (estimator class, parameters). Settings that are values inside the kernels (the
# loss, the schedule, rates, alpha) share a compiled kernel; these names cover the paths that
# compile separately.
READER = "svmlight reader"
CONFIGURATIONS: dict[str, tuple[str, dict]] = {
    "logistic": ("LogisticRegression", {}),
    "logistic-l2-average": ("LogisticRegression", {"penalty": "l2", "average": True}),
    "logistic-l1": ("LogisticRegression", {"penalty": "l1"}),
    "sgd": ("SGDClassifier", {}),
    "sgd-elasticnet-average": ("SGDClassifier", {"penalty": "elasticnet", "average": True}),
    "sgd-regressor": ("SGDRegressor", {}),
    "sgd-regressor-l1-average": ("SGDRegressor", {"penalty": "l1", "average": True}),
    "sweep": ("LogisticRegressionSweep", {"eta0s": (0.01, 0.1)}),
    "net": ("TwoLayerNet", {}),
    "net-momentum-alpha": ("TwoLayerNet", {"momentum": 0.9, "alpha": 1e-4}),
    "net-batch": ("TwoLayerNet", {"batch_size": 16}),
    "net-regressor": ("TwoLayerNetRegressor", {}),
    "net-regressor-momentum-batch": (
        "TwoLayerNetRegressor", {"momentum": 0.9, "batch_size": "auto"}
    ),
    # the plain update's loops for models that other configurations train scaled
    "sgd-plain": ("SGDClassifier", {"penalty": None}),
    "sgd-regressor-plain": ("SGDRegressor", {"penalty": None}),
    "hogwild": ("LogisticRegression", {"parallel": "hogwild", "n_jobs": 2}),
    "net-hogwild": ("TwoLayerNet", {"parallel": "hogwild", "n_jobs": 2}),
    # not an estimator: the compiled svmlight reader behind fastsgd.io and `fastsgd train`
    "svmlight": (READER, {}),
}  # fmt: skip
HOGWILD = ("hogwild", "net-hogwild")  # numba parallel=True kernels: compiled when named
DEFAULT = tuple(name for name in CONFIGURATIONS if name not in HOGWILD)
DTYPES = ("float64", "float32")


def _jobs(names: Iterable[str], dtypes: Sequence[str], sparse: bool, weights: bool) -> list:
    """(configuration, dtype, layout, targets, weighted) for every input kind a configuration
    accepts."""
    import fastsgd

    jobs = []
    for name in names:
        cls_name, _ = CONFIGURATIONS[name]
        if cls_name == READER:  # one file read per dtype
            jobs += [(name, dtype, "file", "binary", False) for dtype in dtypes]
            continue
        cls = getattr(fastsgd, cls_name)
        layouts = ["dense"] + (["csr"] if sparse and cls._accept_sparse else [])
        if cls_name == "TwoLayerNetRegressor":
            targets = ["1d", "2d"]
        elif cls_name == "SGDRegressor":
            targets = ["1d"]
        elif cls_name == "TwoLayerNet":
            targets = ["binary", "multiclass", "multilabel"]
        else:
            targets = ["binary", "multiclass"]
        weighted = [False, True] if weights and cls_name != "LogisticRegressionSweep" else [False]
        if name in HOGWILD:  # Hogwild trains dense input, the plain update only
            layouts, weighted = ["dense"], [False]
        jobs += [
            (name, dtype, layout, target, weight)
            for dtype in dtypes
            for layout in layouts
            for target in targets
            for weight in weighted
        ]
    return jobs


def _run_job(job: tuple) -> float:
    """One tiny fit and predict; returns its seconds (mostly compiling, or loading the cache)."""
    import warnings

    import numpy as np
    import scipy.sparse as sp

    import fastsgd

    name, dtype, layout, target, weighted = job
    cls_name, params = CONFIGURATIONS[name]
    if cls_name == READER:
        return _read_svmlight(dtype)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4)).astype(dtype)
    if target == "binary":
        y = np.arange(60) % 2
    elif target == "multiclass":
        y = np.arange(60) % 3
    elif target == "multilabel":
        y = np.column_stack([np.arange(60) % 2, np.arange(60) // 2 % 2])
    elif target == "2d":
        y = np.column_stack([X[:, 0], X[:, 1]]).astype(np.float64)
    else:
        y = X[:, 0].astype(np.float64)
    if layout == "csr":
        X = sp.csr_matrix(X)
    fit_params = {"sample_weight": np.ones(60)} if weighted else {}
    model = getattr(fastsgd, cls_name)(max_iter=2, tol=None, random_state=0, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y, **fit_params)
        model.predict(X)
    return time.perf_counter() - start


def _read_svmlight(dtype: str) -> float:
    """Reads a tiny svmlight file: compiles the reader's kernels for this dtype."""
    import tempfile
    from pathlib import Path

    from fastsgd.svmlight import load_svmlight

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.svm"
        path.write_text("1 1:0.5 3:2\n-1 2:1e-3\n")
        start = time.perf_counter()
        load_svmlight(path, dtype=dtype)
        return time.perf_counter() - start


def _run_jobs(jobs: list) -> list:
    return [_run_job(job) for job in jobs]


def compile(
    names: str | Iterable[str] | None = None,
    *,
    dtypes: Sequence[str] = DTYPES,
    sparse: bool = True,
    weights: bool = True,
    n_jobs: int | None = None,
    progress: bool = True,
) -> dict:
    """Compile the kernels of the named configurations into Numba's on-disk cache, ahead of time.

    Every kernel variant the named configurations need, for each dtype in ``dtypes``, dense and
    (``sparse``) CSR input, with and without sample weights (``weights``). Each variant is a
    tiny ``fit`` and ``predict`` of that configuration, so the kernels compiled are exactly
    those a real fit calls; afterwards a first fit loads them from the cache instead of
    compiling them (seconds each). Run it in a Docker image build or a CI cache step; on the
    command line it is ``fastsgd compile``.

    Parameters
    ----------
    names : str or iterable of str, default=None
        Configurations (the keys of ``CONFIGURATIONS``, listed in the Notes); a single str is
        one name (``"logistic"`` is ``["logistic"]``). None: all but the Hogwild ones
        ('hogwild' and 'net-hogwild', numba ``parallel=True`` kernels, compiled only when
        named).
    dtypes : str or sequence of {'float64', 'float32'}, default=('float64', 'float32')
        The input dtypes (a single string is one dtype).
    sparse : bool, default=True
        Also CSR input, for the estimators that take it.
    weights : bool, default=True
        Also fits with ``sample_weight`` (for every estimator but the sweep).
    n_jobs : int or None, default=None
        Worker processes that share the work (None: one, in this process; -1: every CPU).
    progress : bool, default=True
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``{"seconds": total, "jobs": n, "cache": where}``: the seconds it took, the number of
        variants run, and the cache folder (``NUMBA_CACHE_DIR`` if set, else ``__pycache__``
        beside fastsgd's sources).

    Raises
    ------
    ValueError
        For an unknown configuration name (the message lists them) or dtype.

    Notes
    -----
    The configurations: 'logistic' (``LogisticRegression()``), 'logistic-l2-average',
    'logistic-l1', 'sgd' (``SGDClassifier()``), 'sgd-elasticnet-average', 'sgd-plain',
    'sgd-regressor' (``SGDRegressor()``), 'sgd-regressor-l1-average', 'sgd-regressor-plain',
    'sweep' (``LogisticRegressionSweep``), 'net' (``TwoLayerNet()``), 'net-momentum-alpha',
    'net-batch', 'net-regressor' (``TwoLayerNetRegressor()``),
    'net-regressor-momentum-batch', 'hogwild' and 'net-hogwild', and 'svmlight' (the
    compiled svmlight reader of ``fastsgd.io`` and ``fastsgd train``). Settings that are values
    inside the kernels (the loss, the schedule, the rates, alpha) share a compiled kernel;
    these names cover the paths that compile separately.

    Input that types differently is compiled on its first fit: a read-only X (a memory map,
    joblib's shared arrays), CSR matrices with int64 indices.

    Examples
    --------
    The kernels of ``LogisticRegression()`` on dense float64 input, two classes and more
    (seconds the first time, then read from the cache):

    >>> import fastsgd
    >>> result = fastsgd.compile(
    ...     ["logistic"], dtypes=["float64"], sparse=False, weights=False, progress=False
    ... )
    >>> result["jobs"], sorted(result)
    (2, ['cache', 'jobs', 'seconds'])
    """
    from tqdm.auto import tqdm

    if isinstance(names, str):  # one name, not its characters
        names = [names]
    if isinstance(dtypes, str):
        dtypes = [dtypes]
    names = list(DEFAULT if names is None else names)
    unknown = [name for name in names if name not in CONFIGURATIONS]
    if unknown:
        raise ValueError(
            f"unknown configuration(s) {unknown}; choose from {sorted(CONFIGURATIONS)}"
        )
    for dtype in dtypes:
        if dtype not in DTYPES:
            raise ValueError(f"dtypes must be among {DTYPES}; got {dtype!r}")
    jobs = _jobs(names, dtypes, sparse, weights)
    if n_jobs is not None and n_jobs < 0:
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    start = time.perf_counter()
    with tqdm(total=len(jobs), desc="fastsgd compile", unit="variant", disable=not progress) as bar:
        if not n_jobs or n_jobs == 1:
            for job in jobs:
                bar.set_postfix_str(" ".join(str(part) for part in job[:3]))
                _run_job(job)
                bar.update()
        else:
            # a configuration's input kinds share kernels (the checks, the shuffle, one loop
            # in two dtypes...): whole configurations go to one process, so that two processes
            # rarely compile the same kernel at once
            groups = [[job for job in jobs if job[0] == name] for name in names]
            # spawned, not forked: this process may hold threads (tqdm's monitor, numba's
            # OpenMP pool) that a forked child would inherit broken
            spawn = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=n_jobs, mp_context=spawn) as pool:
                for group in pool.map(_run_jobs, groups):
                    bar.update(len(group))
            # Numba rewrites a function's cache index without a lock between processes, so an
            # entry written by one worker can be lost to another's rewrite: every job once more
            # here loads what is cached and compiles (and saves) what was lost
            for job in jobs:
                _run_job(job)
    from numba.core.config import CACHE_DIR

    return {
        "seconds": time.perf_counter() - start,
        "jobs": len(jobs),
        "cache": CACHE_DIR or "__pycache__ beside fastsgd's sources",
    }
