"""Training on Dask arrays and dataframes, across the workers of a cluster (``fastsgd[dask]``).

An optional layer: nothing in the core imports it. It trains ``SGDClassifier``,
``LogisticRegression``, ``TwoLayerNet`` (single-label) and ``TwoLayerNetRegressor`` on data chunked
along rows (not ``SGDRegressor`` nor ``LogisticRegressionSweep``: a TypeError), and returns the
same estimator, fitted::

    import dask.array as da
    from distributed import Client, LocalCluster

    import fastsgd.dask
    from fastsgd import LogisticRegression

    client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
    X = da.random.random((1_000_000, 50), chunks=(250_000, 50))
    y = (X[:, 0] > 0.5).astype(int)
    model = fastsgd.dask.fit(LogisticRegression(max_iter=5, tol=None, random_state=0), X, y)
    labels = fastsgd.dask.predict(model, X)  # a dask array, block by block (map_blocks)

Two modes, one epoch at a time (``max_iter``, ``tol`` and ``n_iter_no_change`` as in a local fit):

- ``mode="average"``: iterative parameter mixing, ``parallel='average'`` across machines. Every
  block runs the estimator's compiled epoch on its own rows, on the worker that holds it, all
  blocks starting from the current weights; the driver then sets the weights (and the nets'
  momentum velocities) to the blocks' results averaged with weights ``n_b / n`` (their sample
  counts) and sends them out for the next epoch. With the blocks as the shards this is what
  ``parallel='average', n_shards=<blocks>`` computes on one machine: for equal blocks and
  ``shuffle=False``, the same weights (bit for bit when the number of blocks is a power of two,
  else to rounding).
- ``mode="sequential"``: every epoch visits the blocks one after another, in order, each
  continuing from the weights the previous block left (``partial_fit`` block by block, dask-ml's
  ``Incremental`` semantics): exact sequential SGD, one worker busy at a time. With
  ``shuffle=False`` it is a local fit on the concatenated data.

Only the weights move. X, y and ``sample_weight`` are persisted, then validated and label-encoded
(a regressor's targets: converted to float64) where each block lives (once per call); each epoch
sends the weights to the blocks and brings back the blocks' weights and losses, a few kilobytes.

Targets: a classifier's y holds one label per row (a multilabel y for TwoLayerNet raises a
ValueError on dask data); the classes are those found in every block (or ``classes``).
TwoLayerNetRegressor takes float targets, 1-D or 2-D (one output unit per column, ``n_outputs_``
from y's columns, which every block must share); ``predict`` then gives 1-D or 2-D values as
after a local fit.

Shuffling: rows never move between blocks, and the blocks are visited in their order. With
``shuffle=True`` each block visits its own rows in a fresh order each epoch, the permutation of
``np.random.default_rng([seed, epoch, block])`` (epoch counted from 0 in each call), where
``seed = check_random_state(random_state).randint(2**31 - 1)`` is drawn after the initial weights
(TwoLayerNet draws those from the same generator, as in a local fit). The same random_state,
blocks and mode give the same bits on any cluster, scheduler or number of workers whose machines
have one type of CPU (the kernels' rounding can differ in the last bits between CPU types).

The estimator's settings carry over, with the rules of a local fit: the penalties, schedules and
averaging of LogisticRegression, ``class_weight`` (``'balanced'`` from the counts over all blocks),
``sample_weight``, sparse (CSR) blocks for LogisticRegression, ``batch_size``, ``warm_start``,
``verbose`` (the same tqdm bar over samples), ``loss_curve_`` (each epoch's sample-count-weighted
mean of the blocks' progressive losses), the nets' ``alpha``, ``momentum``, ``nesterovs_momentum``,
learning-rate schedules and MLP stopping rule (kept by the driver). Each block's share of an epoch
is one training session, as one ``partial_fit`` call is: the schedule's sample counter ``t`` starts
at the model's ``t_`` plus the samples of the blocks before it (in both modes: every sample keeps
the number it has in a sequential epoch, for the schedule and the averaging), and
LogisticRegression's session state (the L2 scale, the L1 penalty bookkeeping) restarts there. In
average mode the averaged weights (``average``) become the mean of every averaged step of every
block, as a sequential run averages its steps. A net's session goes on with the momentum velocities
as the weights do (as its partial_fit continues the optimizer): from those the previous block left
(sequential), or from the blocks' average (average, as ``parallel='average'`` averages each shard's
velocities); a fit starts them at zero, as a local fit does. After the fit the model holds no
optimizer state: a later ``partial_fit`` starts a new optimizer, and ``best_loss_`` and the other
stopping attributes are None. A mini-batch never spans two blocks. ``early_stopping`` and
``parallel`` other than None raise a ValueError (the blocks are the shards); ``n_jobs`` is ignored
(it never changes a model).

Faults: each task is a pure function of what it is sent (the weights, its block, its seed) and
never writes to its inputs, so a task run twice gives the same bits (on any worker of the same
CPU type). When a worker dies, distributed runs its tasks again elsewhere and recomputes the
blocks it held from their graph: the epoch ends with the weights it would have had. When that
is impossible (a task's workers died more than ``distributed.scheduler.allowed-failures`` times,
data that cannot be recomputed), ``fit`` raises ``DaskTrainingError`` naming the epoch, and the
estimator keeps the state it had before the call.

Schedulers: a ``distributed.Client`` (the one given, else the default client when it is dask's
current scheduler) or dask's local schedulers (threads, processes, synchronous). The kernels
release the GIL, so the threaded scheduler trains blocks in parallel; the processes scheduler
copies every block into a worker process each epoch. ``fit``'s examples run on the threaded
scheduler, without a cluster.
"""

from __future__ import annotations

import copy
import uuid
import warnings
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any, Literal

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp
from dask.base import get_scheduler, is_dask_collection
from dask.sizeof import sizeof
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_is_fitted, column_or_1d

from fastsgd.estimators import (
    SGDClassifier,
    TwoLayerNet,
    TwoLayerNetRegressor,
)
from fastsgd.estimators._blocks import (
    block_settings,
    check_trainable,
    checked_classes,
    starting_point,
    train_rows,
)
from fastsgd.estimators._driver import run_epochs
from fastsgd.estimators._labels import encode_labels
from fastsgd.estimators.net import _NetBase
from fastsgd.parallel.threads import mix

try:
    from distributed import as_completed, default_client
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker
except ImportError:  # dask alone: the local schedulers still work
    default_client = None
    CLUSTER_ERRORS: tuple[type[Exception], ...] = (CancelledError,)
else:
    CLUSTER_ERRORS = (KilledWorker, CommClosedError, CancelledError)

MODES = ("average", "sequential")

# What fit trains (SGDClassifier includes LogisticRegression, its subclass).
Trainable = SGDClassifier | TwoLayerNet | TwoLayerNetRegressor

__all__ = [
    "DaskTrainingError",
    "decision_function",
    "fit",
    "predict",
    "predict_log_proba",
    "predict_proba",
]


class DaskTrainingError(RuntimeError):
    """The cluster could not finish a step of the fit (workers died, data was lost).

    Raised by ``fit`` when a step cannot be finished. A worker's death alone is no error
    (distributed runs its tasks again elsewhere and recomputes the blocks it held); this is
    raised when that is impossible: a task's workers died more than
    ``distributed.scheduler.allowed-failures`` times, or data cannot be recomputed. The
    message names the step (the preparation of the blocks, or an epoch). The estimator
    keeps the state it had before the call; the cause is chained (``__cause__``). A subclass
    of ``RuntimeError``.

    See Also
    --------
    fit : Training on dask data.

    Examples
    --------
    A lost block, simulated here by a block whose computation is cancelled, as a task is
    when its workers are gone:

    >>> from concurrent.futures import CancelledError
    >>> import dask.array as da
    >>> import numpy as np
    >>> import fastsgd.dask
    >>> from fastsgd import LogisticRegression
    >>> def lost(block):
    ...     raise CancelledError("a worker died")
    >>> X = da.zeros((20, 3), chunks=(10, 3)).map_blocks(lost, dtype=np.float64)
    >>> y = da.from_array(np.arange(20) % 2, chunks=10)
    >>> model = LogisticRegression(max_iter=2, tol=None)
    >>> try:
    ...     fastsgd.dask.fit(model, X, y)
    ... except fastsgd.dask.DaskTrainingError as error:
    ...     print(error)
    ...     print(repr(error.__cause__))
    LogisticRegression could not finish the preparation of the blocks on the cluster:
    CancelledError: a worker died. The estimator keeps the state it had before this call.
    CancelledError('a worker died')
    >>> hasattr(model, "coef_")  # not fitted, as before the call
    False
    """


# -- the public API -----------------------------------------------------------------------------


def fit(
    estimator: Trainable,
    X: Any,
    y: Any,
    *,
    mode: Literal["average", "sequential"] = "average",
    client: Any = None,
    classes: Any = None,
    sample_weight: Any = None,
) -> Trainable:
    """Train ``estimator`` on dask data and return it, fitted (the same object).

    Each epoch runs the estimator's compiled epoch on every row block, on the worker that
    holds it; only the weights move between the driver and the blocks. ``mode='average'``
    starts every block from the same weights and averages the results (iterative parameter
    mixing, the blocks as the shards); ``mode='sequential'`` visits the blocks one after
    another, each continuing from the weights the previous one left (exact sequential SGD).
    The module's documentation gives the details.

    Parameters
    ----------
    estimator : SGDClassifier, LogisticRegression, TwoLayerNet or TwoLayerNetRegressor
        Not SGDRegressor nor LogisticRegressionSweep (a TypeError). Its parameters set the
        training, as in ``estimator.fit``; ``warm_start`` starts from its current weights as
        a local fit does (SGDClassifier and LogisticRegression: from ``coef_`` and
        ``intercept_`` with ``t_`` restarted, as scikit-learn).
        ``early_stopping`` and ``parallel`` other than None are refused (the blocks are the
        shards); ``n_jobs`` is ignored.
    X : dask Array of shape (n_samples, n_features), or dask DataFrame
        Chunked along rows (an array chunked along columns too is rechunked to one column chunk
        first, which moves it once). Dataframe partitions reach the estimator as pandas frames,
        so ``feature_names_in_`` is set as in a local fit.
    y : dask Array or Series of shape (n_samples,), or of shape (n_samples, n_outputs)
        In the same row blocks as X (a dask array with other chunks is rechunked to X's). A
        classifier's labels (one per row); TwoLayerNetRegressor's float targets, 1-D or 2-D
        (then a dask Array or DataFrame, one output per column).
    mode : {'average', 'sequential'}, default='average'
        Parameter averaging across the blocks each epoch, or the blocks one after another.
    client : distributed.Client, optional
        Default: the default client when it is dask's current scheduler, else dask's local
        scheduler.
    classes : array-like, optional
        Every label; by default the labels found in y (from the pass that validates y anyway).
        Classifiers only.
    sample_weight : dask Array or Series of shape (n_samples,), optional
        In the same row blocks as X. The average still weighs the blocks by their sample counts.

    Returns
    -------
    estimator
        The estimator passed, fitted: ``coef_`` (or ``coefs_``), ``classes_`` (classifiers),
        ``n_outputs_`` (nets), ``n_iter_``, ``t_``, ``loss_curve_``, ``n_features_in_`` as after
        a local fit.

    Raises
    ------
    TypeError
        If the estimator is not one of those above (``SGDRegressor`` and
        ``LogisticRegressionSweep`` are not supported), X is not a dask Array or DataFrame,
        or y or sample_weight not a dask collection.
    ValueError
        For an unknown ``mode``, ``early_stopping`` or ``parallel`` set, ``classes`` given to
        a regressor, fewer than two classes, labels outside ``classes``, a multilabel y,
        ``class_weight='balanced'`` with a class that has no samples, X, y and
        sample_weight in different numbers of blocks, blocks that differ in their features or
        outputs, no rows, or a ``warm_start`` that cannot continue (other classes, features or
        outputs); and what a local fit refuses, as each block is validated as a local fit
        validates its data.
    DaskTrainingError
        If the cluster cannot finish a step (workers died, data was lost); the estimator then
        keeps the state it had before the call.

    See Also
    --------
    predict : Prediction block by block, lazily.
    fastsgd.parallel : The local parallel strategies, ``parallel='average'`` among them.

    Examples
    --------
    Without a ``distributed.Client``, ``fit`` runs on dask's local scheduler (threads). In
    ``'sequential'`` mode with ``shuffle=False`` it is a local fit on the concatenated data:

    >>> import dask.array as da
    >>> import numpy as np
    >>> import fastsgd.dask
    >>> from fastsgd import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    >>> Xd, yd = da.from_array(X, chunks=(100, 4)), da.from_array(y, chunks=100)
    >>> settings = dict(eta0=0.05, max_iter=5, tol=None, shuffle=False, random_state=0)
    >>> model = fastsgd.dask.fit(LogisticRegression(**settings), Xd, yd, mode="sequential")
    >>> local = LogisticRegression(**settings).fit(X, y)
    >>> bool(np.allclose(model.coef_, local.coef_)), model.n_iter_, model.t_ == local.t_
    (True, 5, True)

    In ``'average'`` mode every block starts each epoch from the same weights, and the
    weights become the blocks' results averaged with weights ``n_b / n``. One epoch on two
    blocks of 150 rows:

    >>> settings["max_iter"] = 1
    >>> Xd, yd = da.from_array(X, chunks=(150, 4)), da.from_array(y, chunks=150)
    >>> model = fastsgd.dask.fit(LogisticRegression(**settings), Xd, yd, mode="average")
    >>> first = LogisticRegression(**settings).fit(X[:150], y[:150])
    >>> second = LogisticRegression(**settings).fit(X[150:], y[150:])
    >>> bool(np.allclose(model.coef_, (first.coef_ + second.coef_) / 2))
    True
    >>> bool(np.allclose(model.intercept_, (first.intercept_ + second.intercept_) / 2))
    True

    Its ``loss_curve_`` holds each epoch's sample-count-weighted mean of the blocks'
    progressive losses, and the result is an ordinary fitted estimator:

    >>> bool(np.isclose(model.loss_curve_[0], (first.loss_curve_[0] + second.loss_curve_[0]) / 2))
    True
    >>> round(model.score(X, y), 2)
    0.95
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
    _check_supported(estimator)
    if classes is not None and _is_regressor(estimator):
        raise ValueError(
            f"classes is for classifiers; {type(estimator).__name__} takes float targets."
        )
    training = _Training(estimator, mode, _Runner(_resolve_client(client)))
    try:
        return training.run(X, y, sample_weight, classes)
    except CLUSTER_ERRORS as error:
        training.runner.cancel()
        raise DaskTrainingError(
            f"{type(estimator).__name__} could not finish {training.step} on the cluster: "
            f"{type(error).__name__}: {error}. The estimator keeps the state it had before "
            "this call."
        ) from error
    finally:
        if isinstance(estimator, _NetBase):  # the attributes of this call, as _NetBase._fit
            for name in estimator._CALL_ATTRIBUTES:
                estimator.__dict__.pop(name, None)


def predict(estimator: Trainable, X: Any) -> da.Array:
    """``estimator.predict`` on each row block of X: a lazy dask array of labels.

    A regressor's: of values, 1-D or 2-D as its ``predict``.

    ``map_blocks`` on a dask array, ``map_partitions`` on a dask dataframe (whose pandas
    partitions keep their column names, so a model fitted with feature names predicts
    without a warning). The estimator is sent to the blocks as it is; it can come from a
    local fit or from ``fit``.

    Parameters
    ----------
    estimator : SGDClassifier, LogisticRegression, TwoLayerNet or TwoLayerNetRegressor
        A fitted estimator.
    X : dask Array of shape (n_samples, n_features), or dask DataFrame
        The samples, in row blocks (an array chunked along columns too is rechunked to one
        column chunk).

    Returns
    -------
    dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
        The predicted labels (a regressor: values), one block per row block of X; nothing is
        computed until ``.compute()``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If X is not a 2-D dask Array or a dask DataFrame.

    See Also
    --------
    fit : Training on dask data.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import fastsgd.dask
    >>> from fastsgd import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    >>> model = LogisticRegression(eta0=0.05, max_iter=5, tol=None, random_state=0).fit(X, y)
    >>> Xd = da.from_array(X, chunks=(100, 4))
    >>> labels = fastsgd.dask.predict(model, Xd)
    >>> labels.chunks
    ((100, 100, 100),)
    >>> bool((labels.compute() == model.predict(X)).all())
    True
    """
    return _map_rows(estimator, X, "predict")


def predict_proba(estimator: SGDClassifier | TwoLayerNet, X: Any) -> da.Array:
    """``estimator.predict_proba`` on each row block of X: lazy, (n_samples, n_classes).

    ``map_blocks`` on a dask array, ``map_partitions`` on a dask dataframe (whose pandas
    partitions keep their column names, so a model fitted with feature names predicts
    without a warning). The estimator is sent to the blocks as it is; it can come from a
    local fit or from ``fit``.

    Parameters
    ----------
    estimator : SGDClassifier, LogisticRegression or TwoLayerNet
        A fitted estimator.
    X : dask Array of shape (n_samples, n_features), or dask DataFrame
        The samples, in row blocks (an array chunked along columns too is rechunked to one
        column chunk).

    Returns
    -------
    dask.array.Array of shape (n_samples, n_classes)
        The class probabilities, one block per row block of X.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If X is not a 2-D dask Array or a dask DataFrame.

    See Also
    --------
    fit : Training on dask data.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import fastsgd.dask
    >>> from fastsgd import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    >>> model = LogisticRegression(eta0=0.05, max_iter=5, tol=None, random_state=0).fit(X, y)
    >>> Xd = da.from_array(X, chunks=(100, 4))
    >>> proba = fastsgd.dask.predict_proba(model, Xd)
    >>> proba.shape, proba.chunks
    ((300, 2), ((100, 100, 100), (2,)))
    >>> bool(np.allclose(proba.compute(), model.predict_proba(X)))
    True
    """
    return _map_rows(estimator, X, "predict_proba")


def predict_log_proba(estimator: SGDClassifier | TwoLayerNet, X: Any) -> da.Array:
    """``estimator.predict_log_proba`` on each row block of X (lazy).

    ``map_blocks`` on a dask array, ``map_partitions`` on a dask dataframe (whose pandas
    partitions keep their column names, so a model fitted with feature names predicts
    without a warning). The estimator is sent to the blocks as it is; it can come from a
    local fit or from ``fit``.

    Parameters
    ----------
    estimator : SGDClassifier, LogisticRegression or TwoLayerNet
        A fitted estimator.
    X : dask Array of shape (n_samples, n_features), or dask DataFrame
        The samples, in row blocks (an array chunked along columns too is rechunked to one
        column chunk).

    Returns
    -------
    dask.array.Array of shape (n_samples, n_classes)
        The logarithms of the class probabilities, one block per row block of X.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If X is not a 2-D dask Array or a dask DataFrame.

    See Also
    --------
    fit : Training on dask data.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import fastsgd.dask
    >>> from fastsgd import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    >>> model = LogisticRegression(eta0=0.05, max_iter=5, tol=None, random_state=0).fit(X, y)
    >>> Xd = da.from_array(X, chunks=(100, 4))
    >>> log_proba = fastsgd.dask.predict_log_proba(model, Xd)
    >>> log_proba.shape
    (300, 2)
    >>> bool(np.allclose(log_proba.compute(), model.predict_log_proba(X)))
    True
    """
    return _map_rows(estimator, X, "predict_log_proba")


def decision_function(estimator: SGDClassifier, X: Any) -> da.Array:
    """``estimator.decision_function`` on each row block of X (lazy).

    ``map_blocks`` on a dask array, ``map_partitions`` on a dask dataframe (whose pandas
    partitions keep their column names, so a model fitted with feature names predicts
    without a warning). The estimator is sent to the blocks as it is; it can come from a
    local fit or from ``fit``.

    Parameters
    ----------
    estimator : SGDClassifier or LogisticRegression
        A fitted estimator.
    X : dask Array of shape (n_samples, n_features), or dask DataFrame
        The samples, in row blocks (an array chunked along columns too is rechunked to one
        column chunk).

    Returns
    -------
    dask.array.Array of shape (n_samples,) or (n_samples, n_classes)
        The margins ``X coef_^T + intercept_``: one per sample for two classes, one per
        class for more, one block per row block of X.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If X is not a 2-D dask Array or a dask DataFrame.

    See Also
    --------
    fit : Training on dask data.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import fastsgd.dask
    >>> from fastsgd import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    >>> model = LogisticRegression(eta0=0.05, max_iter=5, tol=None, random_state=0).fit(X, y)
    >>> Xd = da.from_array(X, chunks=(100, 4))
    >>> margins = fastsgd.dask.decision_function(model, Xd)
    >>> margins.shape
    (300,)
    >>> bool(np.allclose(margins.compute(), model.decision_function(X)))
    True
    """
    return _map_rows(estimator, X, "decision_function")


# -- checks and data layout ---------------------------------------------------------------------


def _check_supported(estimator):
    check_trainable(
        estimator, (SGDClassifier, TwoLayerNet, TwoLayerNetRegressor), "fastsgd.dask",
        "on dask data: its validation split would span the blocks. Hold out a validation set "
        "yourself and stop on tol or max_iter.",
        "on dask data, where the blocks are the shards: use parallel=None with mode='average' "
        "(the blocks' parameter mixing) or mode='sequential'. n_jobs is ignored there (the "
        "workers' threads run the blocks).",
    )  # fmt: skip


def _is_regressor(estimator):
    return isinstance(estimator, TwoLayerNetRegressor)


def _resolve_client(client):
    """The distributed client to use, or None for dask's local scheduler."""
    if client is not None or default_client is None:
        return client
    try:
        current = default_client()
    except ValueError:  # no client
        return None
    # dask.config.set(scheduler="threads") and the like take precedence over the default client
    return current if get_scheduler() == current.get else None


def _is_dataframe(value):
    return (
        is_dask_collection(value) and not isinstance(value, da.Array) and hasattr(value, "columns")
    )


def _row_blocks(X, y, sample_weight):
    """X, y and sample_weight as dask collections in the same row blocks."""
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}.")
        if len(X.chunks[1]) > 1:  # a block must hold whole rows
            X = X.rechunk({1: -1})
    elif not _is_dataframe(X):
        raise TypeError(
            f"X must be a dask Array or DataFrame; got {type(X).__name__}. For data in memory, "
            "call estimator.fit."
        )
    y = _rows_like(y, X, "y")
    if sample_weight is not None:
        sample_weight = _rows_like(sample_weight, X, "sample_weight")
    return X, y, sample_weight


def _rows_like(value, X, name):
    if not is_dask_collection(value):
        raise TypeError(f"{name} must be a dask Array or Series; got {type(value).__name__}.")
    known = isinstance(X, da.Array) and not np.isnan(X.shape[0])
    if isinstance(value, da.Array) and known and value.ndim >= 1:
        if not np.isnan(value.shape[0]) and value.chunks[0] != X.chunks[0]:
            value = value.rechunk({0: X.chunks[0]})
    if isinstance(value, da.Array) and value.ndim == 2 and len(value.chunks[1]) > 1:
        value = value.rechunk({1: -1})  # a block must hold whole rows of targets
    return value


def _blocks_of(collection):
    """One Delayed per row block, in row order."""
    blocks = collection.to_delayed()
    if isinstance(blocks, np.ndarray):  # a dask array: (row blocks, column blocks)
        return list(blocks.reshape(blocks.shape[0], -1)[:, 0])
    return list(blocks)


# -- what runs on the workers -------------------------------------------------------------------


@dataclass
class _BlockInfo:
    """What the driver learns about a block: a few numbers, whatever the block's size."""

    n_samples: int
    n_features: int
    dtype: str
    feature_names: Any
    labels: np.ndarray | None  # a classifier's labels and their counts
    counts: np.ndarray | None
    targets: tuple[int, int] | None = None  # a regressor's (outputs, y.ndim)


@dataclass
class _Block:
    """What a block of X needs to be trained on, beside the block itself; it lives on the worker
    that made it. ``X`` is None when the block is already in the kernels' layout (C-contiguous
    float32 or float64, aligned): the tasks then read the persisted block, which is not copied
    and not counted twice in the worker's memory."""

    X: Any
    y: Any
    weights: np.ndarray | None
    codes: np.ndarray | None = None


@sizeof.register(_Block)
def _sizeof_block(block):
    # What the block holds, for the worker's memory accounting and the scheduler's choice of
    # worker (by default any object counts as 48 bytes).
    return sum(sizeof(part) for part in (block.X, block.y, block.weights, block.codes))


def _validate_block(settings, X, y, sample_weight):
    """Validate and convert a block as a local fit does: (block, info), or None if empty."""
    if X.shape[0] == 0:  # an empty partition (after a filter, say) takes no part
        return None
    estimator = copy.deepcopy(settings)  # validation sets attributes; threads share ``settings``
    original = X
    X, y = estimator._validate_training_data(X, y, reset=True)
    names = getattr(estimator, "feature_names_in_", None)
    if _is_regressor(estimator):
        y_ndim = y.ndim
        y = _aligned(estimator._encode_targets(y, None, True, False)[1])  # (n, outputs) float64
        labels, counts, targets = None, None, (y.shape[1], y_ndim)
    else:
        if y.ndim == 2 and y.shape[1] > 1:  # TwoLayerNet accepts a multilabel y locally
            raise ValueError(
                f"fastsgd.dask trains single-label classifiers; y has {y.shape[1]} columns. Fit "
                f"{type(estimator).__name__} on a multilabel y locally."
            )
        if y.ndim == 2:
            y = column_or_1d(y)
        labels, codes = encode_labels(y)
        counts, targets = np.bincount(codes, minlength=labels.size), None
    if "class_weight" in estimator.get_params():
        estimator.set_params(class_weight=None)  # the real weights need every block's labels
    weights = _aligned(estimator._training_weights(X, y, labels, sample_weight, False))
    info = _BlockInfo(X.shape[0], X.shape[1], X.dtype.str, names, labels, counts, targets)
    if sp.issparse(X) and not all(a.flags.aligned for a in (X.data, X.indices, X.indptr)):
        X = X.__class__((_aligned(X.data), _aligned(X.indices), _aligned(X.indptr)), X.shape)
    X = _aligned(X)
    return _Block(None if X is original else X, y, weights), info


def _info_of(validated):
    return None if validated is None else validated[1]


def _encode_block(validated, classes):
    block = validated[0]
    if classes is None:  # a regressor: its targets, converted by _validate_block
        return _Block(block.X, None, block.weights, block.y)
    return _Block(block.X, None, block.weights, _aligned(encode_labels(block.y, classes)[1]))


def _aligned(array):
    """``array``, copied if it is not aligned to its item size.

    Arrays deserialized from the network can start at any byte (distributed packs small frames
    together): numba compiles another variant of every kernel for unaligned arrays, tens of
    seconds per worker, and they may vectorize worse. A copy is aligned."""
    if isinstance(array, np.ndarray) and not array.flags.aligned:
        return array.copy()
    return array


def _train_block(settings, X, block, seed, before, offset=0):
    """One block's share of an epoch (``train_rows``) in a fresh order drawn from ``seed``, or
    in row order. ``X`` is the persisted block of X, ``block`` what ``_encode_block`` made of it.
    """
    X = X if block.X is None else block.X
    order = np.arange(X.shape[0], dtype=np.int64)
    if seed is not None:
        np.random.default_rng(seed).shuffle(order)
    return train_rows(settings, X, block.codes, block.weights, order, before, offset)


def _finite_block(settings, X, block):
    X = X if block.X is None else block.X
    assert_all_finite(X, input_name="X", estimator_name=type(settings).__name__)


def _apply(block, estimator, method):
    return getattr(estimator, method)(block)


# -- running tasks on a client or a local scheduler ---------------------------------------------


class _Runner:
    """Persist and compute on a distributed client, or on dask's local scheduler."""

    def __init__(self, client):
        self.client = client
        self.pending = []

    def persist(self, collections):
        if self.client is not None:
            return self.client.persist(collections)
        return list(dask.persist(*collections))

    def compute(self, tasks, done=None):
        """The results of ``tasks``, in order; ``done(index, result)`` as each one arrives."""
        if self.client is None:
            results = list(dask.compute(*tasks))
            for index, result in enumerate(results):
                if done is not None:
                    done(index, result)
            return results
        futures = self.pending = self.client.compute(tasks)
        index = {future.key: i for i, future in enumerate(futures)}
        results = [None] * len(futures)
        try:
            for future in as_completed(futures):
                i = index[future.key]
                results[i] = future.result()
                if done is not None:
                    done(i, results[i])
        except BaseException:  # a task's error, or an interrupt: stop the rest of the step
            self.cancel()
            raise
        self.pending = []
        return results

    def cancel(self):
        if self.client is not None and self.pending:
            self.client.cancel(self.pending)
        self.pending = []


# -- the driver ---------------------------------------------------------------------------------


class _Training:
    """One fit: the local fit's epoch loop, with each epoch's kernel calls sent to the blocks."""

    def __init__(self, estimator, mode, runner):
        self.estimator = estimator
        self.mode = mode
        self.runner = runner
        self.token = uuid.uuid4().hex[:12]  # task keys unique to this call
        self.step = "the preparation of the blocks"

    def task(self, function, name, *arguments):
        return dask.delayed(function, pure=True)(
            *arguments, dask_key_name=f"fastsgd-{name}-{self.token}"
        )

    def literal(self, value, name):
        """A value that many tasks read, sent once rather than inside each task."""
        return dask.delayed(value, traverse=False, name=f"fastsgd-{name}-{self.token}")

    def run(self, X, y, sample_weight, classes):
        X, y, sample_weight = _row_blocks(X, y, sample_weight)
        persisted = self.runner.persist([X, y] + ([sample_weight] * (sample_weight is not None)))
        X_blocks, y_blocks = _blocks_of(persisted[0]), _blocks_of(persisted[1])
        weight_blocks = [None] * len(X_blocks)
        if sample_weight is not None:
            weight_blocks = _blocks_of(persisted[2])
        if len({len(X_blocks), len(y_blocks), len(weight_blocks)}) != 1:
            raise ValueError(
                f"X, y and sample_weight must come in the same row blocks; got {len(X_blocks)}, "
                f"{len(y_blocks)} and {len(weight_blocks)} blocks."
            )

        # Validation, once per call, where each block lives; the driver gets a few numbers.
        settings = self.literal(block_settings(self.estimator), "settings")
        parts = zip(X_blocks, y_blocks, weight_blocks, strict=True)
        validated = self.runner.persist(
            [
                self.task(_validate_block, f"validate-{b}", settings, X, y, weights)
                for b, (X, y, weights) in enumerate(parts)
            ]
        )
        infos = self.runner.compute(
            [self.task(_info_of, f"info-{b}", block) for b, block in enumerate(validated)]
        )
        kept = [b for b, info in enumerate(infos) if info is not None]
        regressor = _is_regressor(self.estimator)
        if not kept:
            raise ValueError(
                "X has no rows."
                if regressor
                else "X has no rows: a classifier needs samples of at least 2 classes."
            )
        infos = [infos[b] for b in kept]
        n_features, dtype, names = _agree(infos)
        if regressor:
            n_outputs, y_ndim = _targets(infos)
            # what the regressor's _encode_targets sets in a local call, read by _init_params,
            # _start_session and _commit (fit removes them afterwards, as _NetBase._fit does)
            self.estimator._call_outputs = ("identity", n_outputs)
            self.estimator._call_y_1d = y_ndim == 1
            classes, counts = None, None
        else:
            classes, counts = _classes(infos, classes)
        encoded = self.runner.persist(
            [self.task(_encode_block, f"encode-{b}", validated[b], classes) for b in kept]
        )
        del validated  # the encoded blocks hold what the kernels read beside X
        blocks = [(X_blocks[b], block) for b, block in zip(kept, encoded, strict=True)]
        sizes = np.array([info.n_samples for info in infos])
        return self.epochs(blocks, sizes, classes, counts, n_features, np.dtype(dtype), names)

    def epochs(self, blocks, sizes, classes, counts, n_features, dtype, names):
        estimator = self.estimator
        n_samples = int(sizes.sum())
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        settings = block_settings(estimator, classes, counts, n_features, dtype)
        settings_literal = self.literal(settings, "trained-settings")
        params, t, loss_curve, seed, rates = starting_point(estimator, classes, n_features, dtype)
        weights = [params]
        velocities = [None]  # a net's momentum velocities: zero at the start, as a local fit

        def run_epoch(epoch, rates, bar):
            self.step = f"epoch {epoch + 1}"
            seeds = [[seed, epoch, b] if estimator.shuffle else None for b in range(len(blocks))]
            start = (weights[0], t_now[0], rates.copy(), velocities[0])
            weights[0], velocities[0], losses, objectives = self.one_epoch(
                settings_literal, blocks, seeds, start, bar, epoch
            )
            t_now[0] += n_samples
            return losses, objectives

        def check_epoch(losses, epoch):
            self.check_finite(settings_literal, blocks, weights[0], losses, epoch)

        def keep_finished(interrupt, finished, n_iter):  # as a local fit
            self.runner.cancel()
            if finished is not None:
                self.set_features(n_features, names)
            estimator._keep_finished_epochs(interrupt, finished, classes, n_iter)

        t_now = [t]  # the count at the start of each epoch, which the blocks' schedules read
        n_iter, t, loss_curve = run_epochs(
            estimator, max_iter=estimator.max_iter, n_samples=n_samples, n_rows=n_samples,
            t=t, loss_curve=loss_curve, rates=rates, incremental=False, run_epoch=run_epoch,
            check_epoch=check_epoch, snapshot=lambda: [p.copy() for p in weights[0]],
            on_interrupt=keep_finished,
            after_epoch=estimator._after_epoch_rule(estimator._epoch_rule_session()),
            warning_stacklevel=4,  # run_epochs <- epochs <- run <- fastsgd.dask.fit <- caller
        )  # fmt: skip
        params = weights[0]
        self.set_features(n_features, names)
        estimator._commit(classes, params, n_iter, t, loss_curve)
        return estimator

    def one_epoch(self, settings, blocks, seeds, start, bar, epoch):
        """The weights and velocities after the epoch, and each unit's mean loss and objective
        in it."""
        params, t, rates, velocities = start
        n_units = rates.size
        before = self.literal(
            (params, t, rates, np.zeros(n_units), np.zeros(n_units), 0, velocities),
            f"weights-{epoch}",
        )
        if self.mode == "average":  # every block from the same weights
            # each block counts its samples from where it starts in the epoch's sequence of
            # blocks, as parallel='average' counts each shard's
            offsets = [int(offset) for offset in self.offsets]
            tasks = [
                self.task(
                    _train_block, f"train-{epoch}-{b}", settings, *block, seeds[b], before, start
                )
                for b, (block, start) in enumerate(zip(blocks, offsets, strict=True))
            ]
        else:  # each block from the weights the block before it left
            tasks = []
            for b, block in enumerate(blocks):
                name = f"train-{epoch}-{b}"
                before = self.task(_train_block, name, settings, *block, seeds[b], before)
                tasks.append(before)
        totals = {"loss": 0.0, "seen": 0}

        def done(index, result):
            bar.update(result[5] if self.mode == "average" else result[5] - totals["seen"])
            if self.mode == "average":
                totals["loss"] += float(result[3].mean())
                totals["seen"] += result[5]
            else:  # the sums of every block so far
                totals["loss"], totals["seen"] = float(result[3].mean()), result[5]
            if not bar.disable:
                bar.set_postfix(epoch=epoch + 1, loss=f"{totals['loss'] / totals['seen']:.5f}")

        results = self.runner.compute(tasks, done)
        if self.mode == "sequential":
            params, _, _, loss_sum, objective_sum, n_samples, velocities = results[-1]
            return params, velocities, loss_sum / n_samples, objective_sum / n_samples
        n_samples = sum(result[5] for result in results)
        # the estimator's own mix of its shards, bit for bit what parallel='average' takes with
        # the blocks as the shards: sum(n_b / n * params_b) in block order, and the averaged
        # weights (when averaging) over every averaged step of every block
        shares = [result[5] / n_samples for result in results]
        starts = [int(offset) for offset in self.offsets]
        bounds = [(start, start + r[5]) for start, r in zip(starts, results, strict=True)]
        params = self.estimator._mix_shard_params(
            params, [result[0] for result in results], bounds, t
        )
        velocities = None
        if results[0][6] is not None:  # a net with momentum: its velocities, mixed the same way
            velocities = mix(shares, [result[6] for result in results])
        loss_sum, objective_sum = results[0][3].copy(), results[0][4].copy()
        for result in results[1:]:
            loss_sum += result[3]
            objective_sum += result[4]
        return params, velocities, loss_sum / n_samples, objective_sum / n_samples

    def check_finite(self, settings, blocks, params, losses, epoch):
        """The local fit's divergence check; NaN or inf in X is diagnosed block by block."""
        if np.isfinite(losses).all() and all(np.isfinite(p).all() for p in params):
            return
        checks = [
            self.task(_finite_block, f"finite-{b}", settings, *block)
            for b, block in enumerate(blocks)
        ]
        self.runner.compute(checks)
        # X is finite: the estimator's own divergence message (it checks the X it is given)
        self.estimator._check_finite_after_epoch(np.zeros((1, 1)), params, losses, epoch)

    def set_features(self, n_features, names):
        self.estimator.n_features_in_ = n_features
        if names is not None:
            self.estimator.feature_names_in_ = names
        elif hasattr(self.estimator, "feature_names_in_"):
            del self.estimator.feature_names_in_


def _agree(infos):
    """n_features, dtype and feature names, which every block must share."""
    first = infos[0]
    for info in infos[1:]:
        same_names = np.array_equal(
            np.asarray(info.feature_names, dtype=object),
            np.asarray(first.feature_names, dtype=object),
        )
        if info.n_features != first.n_features or info.dtype != first.dtype or not same_names:
            raise ValueError(
                f"The blocks of X differ: one has {first.n_features} features of "
                f"{np.dtype(first.dtype)}, another {info.n_features} of {np.dtype(info.dtype)}, "
                "or other column names."
            )
    return first.n_features, first.dtype, first.feature_names


def _targets(infos):
    """A regressor's number of outputs and y's number of dimensions, which every block shares."""
    first = infos[0].targets
    for info in infos[1:]:
        if info.targets != first:
            raise ValueError(
                f"The blocks of y differ: one has {first[0]} outputs (y {first[1]}-D), another "
                f"{info.targets[0]} (y {info.targets[1]}-D)."
            )
    return first


def _classes(infos, classes):
    """The sorted classes, and each one's count over all blocks."""
    labels = np.unique(np.concatenate([info.labels for info in infos]))
    classes = checked_classes(labels, classes, "y contains")
    counts = np.zeros(classes.size, dtype=np.int64)
    for info in infos:
        counts[np.searchsorted(classes, info.labels)] += info.counts
    return classes, counts


# -- prediction ---------------------------------------------------------------------------------


def _map_rows(estimator, X, method):
    """``method`` of the fitted estimator on each row block: map_blocks on an array,
    map_partitions on a dataframe (whose pandas partitions keep their column names)."""
    check_is_fitted(estimator)
    if _is_dataframe(X):
        n_features = len(X.columns)
    elif isinstance(X, da.Array) and X.ndim == 2:
        n_features = X.shape[1]
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
    else:
        raise TypeError(f"X must be a 2-D dask Array or a dask DataFrame; got {type(X).__name__}.")
    # The output's dtype and number of columns, from one row of zeros (sklearn refuses none).
    dtype = X.dtype if isinstance(X, da.Array) and X.dtype.kind == "f" else np.float64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "X does not have valid feature names"
        sample = _apply(np.zeros((1, n_features), dtype), estimator, method)
    meta = np.empty((0,) * sample.ndim, dtype=sample.dtype)
    if not isinstance(X, da.Array):
        return X.map_partitions(_apply, estimator, method, meta=meta)
    if sample.ndim == 1:
        return X.map_blocks(_apply, estimator, method, drop_axis=1, dtype=sample.dtype, meta=meta)
    return X.map_blocks(
        _apply, estimator, method, chunks=(X.chunks[0], (sample.shape[1],)),
        dtype=sample.dtype, meta=meta,
    )  # fmt: skip
