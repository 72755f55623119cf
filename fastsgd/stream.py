"""Training from svmlight files larger than memory, through a training cache.

``fit(estimator, source, cache=...)`` trains ``SGDClassifier``, ``LogisticRegression``,
``SGDRegressor``, ``TwoLayerNet`` or ``TwoLayerNetRegressor`` on a file without loading it: the
file is parsed once into a training cache (``fastsgd.cache``: the rows sent to random buckets of
``.npy`` files, every 10th row held out), and each epoch reads the cache one bucket at a time,
the next bucket on a background thread while the current one trains. Memory stays at about two
buckets (64 MiB of the file each, by default) plus the weights, whatever the file's size::

    import fastsgd.stream
    from fastsgd import LogisticRegression

    model = LogisticRegression(max_iter=3, tol=None, random_state=0)
    fastsgd.stream.fit(model, "big.svm", cache="big.cache")
    print(fastsgd.stream.score(model, "big.cache"))  # accuracy on the held-out rows

The epochs:

- **The first pass** reads the file and writes the cache. By default (``first_pass='cache'``)
  it only builds, and the ``max_iter`` epochs all read the cache, every one of them shuffled.
  With ``first_pass='train'`` it also trains, as Vowpal Wabbit's first pass does: on each
  block's rows in file order as they are parsed (in a fresh order within the block when
  ``shuffle``), which saves one pass over the cache but sees the file in its order; it needs the
  weights' size and the classes before the file is read (``n_features`` and ``classes``, or a
  ``warm_start`` model's; a CSV file's header gives the features). On a file sorted by label,
  3 epochs with a training first pass end about 3% above the full shuffle's log-loss, and
  within 0.1% without (``bench/stream_shuffle.py``).
- **Every later epoch** visits the training buckets in a fresh random order and each bucket's
  rows in a fresh random permutation (``shuffle=True``; in their stored order otherwise). Each
  bucket is a uniform random sample of the file's rows, so this trains about as well as a full
  shuffle, also on a file sorted by label, while the cache is read sequentially.

The fit is one training session, as a local fit is: the buckets (and the first pass's blocks)
are the chunks each epoch calls the compiled kernels on, so the schedule's sample count, the
L2 scale, the L1 penalty bookkeeping, the averaged weights and a net's momentum velocities all
go on across them. With ``shuffle=False`` an epoch visits the buckets in their order and each
bucket's rows in file order: the fit computes the local fit on the rows stacked in that order
(with one bucket and ``holdout=0``, on the file), to rounding; a net's mini-batch never spans
two buckets.

Holdout: every ``holdout``-th row of the file (10 by default, as VW) is held out and never
trained on; with ``tol`` set, the stopping rule (``n_iter_no_change`` epochs without improving
by ``tol``) watches the held-out rows' score (a classifier's accuracy, a regressor's R^2)
instead of the training loss, as ``early_stopping=True`` watches its validation split.
``holdout=0`` trains on every row (the held-out buckets of an existing cache included) and
stops on the training loss.

What a fit takes from its estimator: every parameter of a local fit (losses, penalties,
schedules, averaging, ``class_weight`` (its 'balanced' weights from the cache's class counts),
``batch_size``, momentum, ``warm_start``, ``verbose``: a tqdm bar over the rows), the
``loss_curve_``, ``n_iter_`` and ``t_`` (t counts the rows trained, not the held-out ones),
and a Ctrl-C keeps the weights of the last finished epoch, as in a local fit.
``early_stopping`` (the holdout replaces it) and ``parallel`` are refused; ``n_jobs`` is
ignored. A net trains on each bucket made dense (``n_rows x n_features`` values), so it suits
files with few features.

The random draws: the initial weights come from ``random_state`` as in a local fit, then one
integer ``seed = check_random_state(random_state).randint(2**31 - 1)`` seeds the epochs'
orders (``np.random.default_rng([seed, epoch])`` for the buckets, ``[seed, epoch, k]`` for the
rows of the k-th bucket or block visited). Which bucket a row goes to depends only on the
cache's own ``seed`` (default 0), so one cache serves every random_state.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from fastsgd.cache import (
    DEFAULT_HOLDOUT,
    MANIFEST,
    CacheBuilder,
    CacheError,
    TrainingCache,
    cache_status,
    is_csv,
    open_cache,
)
from fastsgd.estimators import (
    SGDClassifier,
    SGDRegressor,
    TwoLayerNet,
    TwoLayerNetRegressor,
)
from fastsgd.estimators._blocks import (
    block_settings,
    check_trainable,
    checked_classes,
    starting_point,
)
from fastsgd.estimators._driver import run_epochs
from fastsgd.estimators._labels import encode_labels
from fastsgd.estimators.net import _NetBase
from fastsgd.svmlight import DEFAULT_BLOCK_BYTES

__all__ = ["CacheRebuiltWarning", "fit", "score"]

FIRST_PASSES = ("cache", "train")
Trainable = SGDClassifier | SGDRegressor | TwoLayerNet | TwoLayerNetRegressor
REGRESSORS = (SGDRegressor, TwoLayerNetRegressor)


class CacheRebuiltWarning(UserWarning):
    """A fit found its cache folder stale (the source changed, or other settings were asked
    for) and rebuilt it; the message says why.

    See Also
    --------
    fit : Training from a file through a cache.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> import fastsgd.stream
    >>> from fastsgd import LogisticRegression
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "data.svm")
    >>> with open(source, "w") as file:
    ...     _ = file.write("".join(f"{i % 2} 1:{i % 7} 2:1\\n" for i in range(200)))
    >>> cache = os.path.join(folder, "cache")
    >>> model = LogisticRegression(max_iter=2, tol=None)
    >>> _ = fastsgd.stream.fit(model, source, cache=cache)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = fastsgd.stream.fit(model, source, cache=cache, holdout=5)
    >>> print(caught[0].message)
    rebuilding the training cache .../cache: it holds out every 10th row, not every 5th
    """


def fit(
    estimator: Trainable,
    source: Any,
    *,
    cache: Any = None,
    holdout: int | None = None,
    first_pass: Literal["cache", "train"] = "cache",
    classes: Any = None,
    n_features: int | None = None,
    dtype: Any = None,
    zero_based: bool | str = "auto",
    n_buckets: int | None = None,
    seed: int | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    label_column: str | int = "label",
) -> Trainable:
    """Train ``estimator`` on an svmlight file (or a training cache) in bounded memory.

    The module's documentation describes the passes, the shuffle and the holdout.

    Parameters
    ----------
    estimator : SGDClassifier, LogisticRegression, SGDRegressor, TwoLayerNet or TwoLayerNetRegressor
        Its parameters set the training as in ``estimator.fit``; ``max_iter`` is the number of
        passes. ``early_stopping`` and ``parallel`` other than None are refused.
    source : str, os.PathLike or TrainingCache
        An svmlight / libsvm file (``.gz``, ``.bz2`` too), a cache folder, or an opened cache.
    cache : str or os.PathLike, optional
        Where the file's cache lives: reused when it was built from this file, unchanged since,
        with the settings asked for; rebuilt (with a ``CacheRebuiltWarning``) when it is stale;
        refused when the folder is not a cache or was built from another file. Default: a
        temporary folder, removed after the fit. Only with a file as ``source``.
    holdout : int, optional
        Every ``holdout``-th row is held out (counting from 1); 0 trains on every row.
        Default: the cache's, or 10 for a new cache.
    first_pass : {'cache', 'train'}, default='cache'
        Whether the pass that builds the cache only builds ('cache': every epoch then reads the
        shuffled cache) or trains too ('train', as VW: on the file in its order, one pass over
        the cache saved; it needs ``n_features`` and a classifier's classes, given or from a
        ``warm_start`` model).
    classes : array-like, optional
        Every label; by default those the cache found. Needed (with ``n_features``) for a
        classifier's first pass to train. Classifiers only: a regressor takes the file's labels
        as float targets.
    n_features : int, optional
        The number of features; by default the cache's (the file's largest index plus one).
    dtype : {numpy.float32, numpy.float64}, optional
        The cache's values, and so the weights. Default: the cache's (a rebuilt cache keeps
        its old settings where these are not given), or float32 for a new one.
    zero_based : bool or 'auto', default='auto'
        Whether the file's indices start at 0; 'auto' decides from its first block.
    n_buckets : int, optional
        The cache's training buckets; default: the cache's, or one per 64 MiB of the file (at
        least 32) for a new one.
    seed : int, optional
        Seeds which bucket each row goes to; default: the cache's, or 0 for a new one.
    block_bytes : int, default=16 MiB
        How much of the file is read at a time while building.
    label_column : str or int, default='label'
        A CSV file's label column (its name or index); the other columns are the features.

    Returns
    -------
    estimator
        The estimator passed, fitted: ``coef_`` (or ``coefs_``), ``classes_``, ``n_iter_``,
        ``t_``, ``loss_curve_`` and ``n_features_in_`` as after a local fit.

    Raises
    ------
    TypeError
        If the estimator is not one of those above (``LogisticRegressionSweep`` is not
        supported).
    ValueError
        For a malformed file (``SvmlightFormatError``, with its line), an invalid setting,
        ``classes`` given to a regressor, fewer than two classes, labels outside ``classes``,
        ``first_pass='train'`` without ``n_features`` and classes, a cache with no training
        rows, a diverged fit; and ``CacheError`` (a ValueError) for a folder that is not a
        cache, or a cache of another file.

    See Also
    --------
    score : The score on the held-out rows.
    fastsgd.cache.build_cache : Builds a cache without training.

    Examples
    --------
    With one bucket, no holdout and ``shuffle=False``, the fit is a local fit on the file:

    >>> import os, tempfile
    >>> import numpy as np
    >>> import fastsgd.stream
    >>> from fastsgd import LogisticRegression
    >>> from fastsgd.svmlight import load_svmlight
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "data.svm")
    >>> rng = np.random.default_rng(0)
    >>> with open(source, "w") as file:
    ...     for _ in range(500):
    ...         x = rng.standard_normal(3)
    ...         _ = file.write(f"{int(x[0] + x[1] > 0)} 1:{x[0]:.4f} 2:{x[1]:.4f} 3:{x[2]:.4f}\\n")
    >>> settings = dict(eta0=0.05, max_iter=3, tol=None, shuffle=False)
    >>> model = fastsgd.stream.fit(
    ...     LogisticRegression(**settings), source, holdout=0, n_buckets=1, dtype=np.float64
    ... )
    >>> X, y = load_svmlight(source)
    >>> local = LogisticRegression(**settings).fit(X, y)
    >>> bool(np.allclose(model.coef_, local.coef_)), model.n_iter_, model.t_ == local.t_
    (True, 3, True)

    By default every 10th row is held out; ``score`` gives the accuracy there (a regressor's
    R^2):

    >>> model = LogisticRegression(max_iter=5, tol=None, random_state=0)
    >>> model = fastsgd.stream.fit(model, source, cache=os.path.join(folder, "cache"))
    >>> model.t_, round(fastsgd.stream.score(model, os.path.join(folder, "cache")), 2)
    (2251.0, 0.98)
    """
    _check_supported(estimator)
    if first_pass not in FIRST_PASSES:
        raise ValueError(f"first_pass must be one of {FIRST_PASSES}; got {first_pass!r}.")
    build = dict(
        dtype=dtype, zero_based=zero_based, n_buckets=n_buckets, holdout=holdout, seed=seed,
        n_features=n_features, label_column=label_column if _is_csv_path(source) else None,
    )  # fmt: skip
    opened, builder, temporary = _resolve_source(source, cache, build, block_bytes)
    try:
        return _Training(estimator, holdout, first_pass, classes, n_features).run(opened, builder)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        if isinstance(estimator, _NetBase):
            for name in estimator._CALL_ATTRIBUTES:
                estimator.__dict__.pop(name, None)


def score(estimator: Trainable, source: Any, *, part: Literal["holdout", "train"] = "holdout"):
    """The fitted estimator's score on a cache's held-out (or training) rows.

    Read bucket by bucket (in bounded memory): a classifier's accuracy, a regressor's R^2, as
    ``estimator.score`` would give on the rows all at once.

    Parameters
    ----------
    estimator : SGDClassifier, LogisticRegression, SGDRegressor, TwoLayerNet or TwoLayerNetRegressor
        A fitted estimator.
    source : str, os.PathLike or TrainingCache
        A cache folder, or an opened cache.
    part : {'holdout', 'train'}, default='holdout'
        The held-out rows, or the training rows.

    Returns
    -------
    float
        The accuracy, or R^2.

    Raises
    ------
    ValueError
        If that part of the cache holds no rows.

    See Also
    --------
    fit : Training from a file.

    Examples
    --------
    >>> import os, tempfile
    >>> import fastsgd.stream
    >>> from fastsgd import LogisticRegression
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "data.svm")
    >>> with open(source, "w") as file:
    ...     _ = file.write("".join(f"{i % 2} 1:{i % 2} 2:1\\n" for i in range(300)))
    >>> cache = os.path.join(folder, "cache")
    >>> model = fastsgd.stream.fit(LogisticRegression(max_iter=3, tol=None), source, cache=cache)
    >>> fastsgd.stream.score(model, cache), fastsgd.stream.score(model, cache, part="train")
    (1.0, 1.0)
    """
    if part not in ("holdout", "train"):
        raise ValueError(f"part must be 'holdout' or 'train'; got {part!r}.")
    opened = source if isinstance(source, TrainingCache) else open_cache(source)
    buckets = opened.holdout_buckets if part == "holdout" else opened.train_buckets
    correct = total = 0.0
    r2 = _R2Sums()
    for _, X, y in opened.iter_buckets([bucket for bucket in buckets if bucket.n_rows]):
        X = X.toarray() if isinstance(estimator, _NetBase) and sp.issparse(X) else X
        if isinstance(estimator, REGRESSORS):
            r2.add(y, estimator.predict(X))
        else:
            correct += estimator.score(X, y) * y.size
        total += y.size
    if not total:
        raise ValueError(f"The cache {opened.path} holds no {part} rows.")
    return r2.score() if isinstance(estimator, REGRESSORS) else correct / total


# -- the source and its cache -------------------------------------------------------------------


def _check_supported(estimator):
    check_trainable(
        estimator, (SGDClassifier, SGDRegressor, TwoLayerNet, TwoLayerNetRegressor),
        "fastsgd.stream",
        "when training from a file: the cache's held-out rows (holdout=10 by default) serve the "
        "stopping rule instead.",
        "when training from a file; use parallel=None (n_jobs is ignored there).",
    )  # fmt: skip


def _is_csv_path(source):
    return isinstance(source, (str, os.PathLike)) and is_csv(source)


def _is_cache_folder(path):
    return Path(path).is_dir() and (Path(path) / MANIFEST).exists()


def _resolve_source(source, cache, build, block_bytes):
    """(an opened cache or None, a builder or None, a temporary folder to remove or None)."""
    if isinstance(source, TrainingCache) or _is_cache_folder(source):
        if cache is not None:
            raise ValueError("cache is for a file as the source; the source is a cache already.")
        opened = source if isinstance(source, TrainingCache) else open_cache(source)
        reason = cache_status(opened, None, **build)
        if reason is not None:
            raise CacheError(
                f"the training cache {opened.path} cannot serve this fit: {reason}. Build it "
                "again from its file with these settings."
            )
        return opened, None, None
    if not Path(source).is_file():
        raise FileNotFoundError(f"{source}: no such file or training cache")
    temporary = None
    kept = {}
    if cache is None:
        temporary = tempfile.mkdtemp(prefix="fastsgd-cache-")
        cache = os.path.join(temporary, "cache")
    elif _is_cache_folder(cache):
        kept = _kept_settings(cache)
        try:
            opened = open_cache(cache)
        except CacheError as error:  # ours, but damaged or of another format version
            reason = str(error).split(": ", 1)[1]
        else:
            reason = cache_status(opened, source, **build)
            if reason is None:
                return opened, None, None
            if reason.startswith("it was built from"):
                raise CacheError(
                    f"the training cache {cache} belongs to another file: {reason}. Pass "
                    "another cache folder."
                )
        warnings.warn(
            f"rebuilding the training cache {cache}: {reason}", CacheRebuiltWarning, stacklevel=3
        )
    given = {name: value for name, value in build.items() if value is not None}
    if given.get("zero_based") == "auto":
        del given["zero_based"]
    if given.get("holdout") == 0 and "holdout" in kept:
        del given["holdout"]  # holdout=0 trains on the held-out rows too: any period serves
    settings = {"holdout": DEFAULT_HOLDOUT, "dtype": np.float32, **kept, **given}
    return None, CacheBuilder(source, cache, block_bytes=block_bytes, **settings), temporary


def _kept_settings(folder):
    """The settings an earlier cache in ``folder`` was built with, which its rebuild keeps where
    the fit does not set them: its dtype, holdout and seed, and its bucket count, feature count,
    zero_based and CSV label column where they were given; {} when its manifest is unreadable."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text())
        kept = {name: manifest[name] for name in ("dtype", "holdout", "seed")}
        if manifest.get("n_buckets_given"):
            kept["n_buckets"] = manifest["n_train_buckets"]
        if manifest.get("n_features_given"):
            kept["n_features"] = manifest["n_features"]
        if manifest.get("zero_based_decided") == "given":
            kept["zero_based"] = manifest["zero_based"]
        if manifest.get("label_column") is not None:
            kept["label_column"] = manifest["label_column"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return kept


# -- the driver ---------------------------------------------------------------------------------


class _Training:
    """One fit from a file: the local fit's epoch loop over the cache's buckets."""

    def __init__(self, estimator, holdout, first_pass, classes, n_features):
        self.estimator = estimator
        self.holdout = holdout
        self.first_pass = first_pass
        self.classes = None if classes is None else np.unique(np.asarray(classes))
        self.n_features = n_features
        self.regressor = isinstance(estimator, REGRESSORS)
        if self.regressor and classes is not None:
            raise ValueError(
                f"classes is for classifiers; {type(estimator).__name__} takes float targets."
            )
        if isinstance(estimator, TwoLayerNetRegressor):  # what its _encode_targets sets
            estimator._call_outputs = ("identity", 1)
            estimator._call_y_1d = True

    def known_shape(self, header_width):
        """(n_features, classes) when both are known before the file is read (a CSV file's
        header gives ``header_width`` features), else None."""
        estimator = self.estimator
        warm = estimator.warm_start and estimator._has_fitted_state()
        n_features = self.n_features if header_width is None else header_width
        if n_features is None and warm:
            n_features = estimator.n_features_in_
        if self.regressor:
            return None if n_features is None else (int(n_features), None)
        classes = self.classes
        if classes is None and warm:
            classes = estimator.classes_
        if n_features is None or classes is None:
            return None
        return int(n_features), classes

    def run(self, cache, builder):
        estimator = self.estimator
        train_first = False
        if builder is not None and self.first_pass == "train":
            shape = self.known_shape(builder.n_features if builder.kind == "csv" else None)
            if shape is None:
                raise ValueError(
                    "first_pass='train' needs n_features (and a classifier's classes) before the "
                    "file is read: pass them (or fit a warm_start model), or use "
                    "first_pass='cache'."
                )
            if getattr(estimator, "class_weight", None) == "balanced":
                raise ValueError(
                    "class_weight='balanced' needs every class's count, known once the file is "
                    "read: use first_pass='cache'."
                )
            train_first = True
        if builder is not None and not train_first:
            self.build(builder)
            cache, builder = builder.cache, None
        if train_first:
            n_features, classes = shape
            counts = None
            builder.n_features = n_features
        else:
            n_features, classes, counts = self.shape_of(cache)
        dtype = builder.dtype if cache is None else cache.dtype
        return self.epochs(cache, builder, n_features, classes, counts, dtype)

    def build(self, builder):
        from tqdm.auto import tqdm

        with tqdm(
            desc="building the training cache", unit="row", unit_scale=True,
            disable=not self.estimator.verbose,
        ) as bar:  # fmt: skip
            for _, labels, _ in builder.chunks():
                bar.update(labels.size)

    def shape_of(self, cache):
        """n_features, the classes and their training counts, from the cache and the call."""
        n_features = cache.n_features
        if self.n_features is not None and self.n_features != n_features:
            raise CacheError(
                f"n_features={self.n_features}, but the training cache {cache.path} has "
                f"{n_features} features."
            )
        if cache.n_rows == 0:
            raise ValueError(f"{cache.manifest['source']['path']} holds no rows.")
        if self.regressor:
            return n_features, None, None
        found = cache.classes
        if found is None:
            raise ValueError(
                f"{cache.path}: the file has more than 1,000 distinct labels; fastsgd.stream "
                "trains classifiers."
            )
        counts = cache.class_counts(holdout=False)
        if self.holdout == 0:  # the held-out buckets are trained on too
            counts = counts + cache.class_counts(holdout=True)
        classes = checked_classes(found, self.classes, "The file has")
        full = np.zeros(classes.size, dtype=np.int64)
        full[np.searchsorted(classes, found)] = counts
        return n_features, classes, full

    def epochs(self, cache, builder, n_features, classes, counts, dtype):
        estimator = self.estimator
        dense = isinstance(estimator, _NetBase)
        n_classes = 1 if classes is None else classes.size  # a regressor: one output
        settings = block_settings(estimator, classes, counts, n_features, dtype)
        params, t, loss_curve, seed, rates = starting_point(estimator, classes, n_features, dtype)
        known_rows = None
        if cache is not None:
            known_rows = cache.manifest["n_train_rows"]
            if self.holdout == 0:
                known_rows = cache.n_rows
        # One training session for the whole fit, as a local fit keeps: the buckets (or the
        # first pass's blocks) are the chunks its epochs call the kernels on. The session only
        # needs X's kind, dtype and row count (a net's batch size): a stand-in without data.
        dense_rows = cache.dense if cache is not None else builder.kind == "csv"
        if dense or dense_rows:
            rows = known_rows if known_rows is not None else 2**31  # unknown: many
            stand_in = np.lib.stride_tricks.as_strided(
                np.zeros(1, dtype), (rows, n_features), (0, 0), writeable=False
            )
        else:
            stand_in = sp.csr_matrix((1, n_features), dtype=dtype)
        session = settings._start_session(stand_in, params, n_classes, t, None, 1)
        holdout_scored = self.holdout != 0 and (
            cache.holdout_period if cache is not None else builder.holdout
        )  # the cache holds rows out, and they are not trained on
        if holdout_scored and dense:  # MLPClassifier's rule on validation scores
            session["state"].update(scores=[], best_score=-np.inf, best_loss=None)

        encode = self.target_encoder(settings, classes)

        sums = {}
        state = {"cache": cache, "rows": 0}

        def train_on(X, labels, order, bar, epoch):
            X = X.toarray() if dense and sp.issparse(X) else X
            losses, objectives = settings._run_kernel(
                X, encode(labels), order, params, rates, 1, session
            )
            sums["loss"] = sums["loss"] + losses * order.size
            sums["objective"] = sums["objective"] + objectives * order.size
            sums["rows"] += order.size
            bar.update(order.size)
            if not bar.disable:
                running = sums["loss"].mean() / sums["rows"]
                bar.set_postfix(epoch=epoch + 1, loss=f"{running:.5f}")

        def run_epoch(epoch, rates, bar):
            sums.update(loss=np.zeros(rates.size), objective=np.zeros(rates.size), rows=0)
            if state["cache"] is None:  # the first pass: train on each block as it is parsed
                for k, (X, labels, train) in enumerate(builder.chunks()):
                    if classes is not None:  # the first pass meets the labels as it reads them
                        checked_classes(np.unique(labels), classes, "The file has")
                    if train.size:
                        if estimator.shuffle:
                            train = np.random.default_rng([seed, epoch, k]).permutation(train)
                        train_on(X, labels, train, bar, epoch)
                state["cache"] = builder.cache
            else:
                opened = state["cache"]
                buckets = opened.train_buckets
                if self.holdout == 0:
                    buckets += opened.holdout_buckets
                if estimator.shuffle:
                    permutation = np.random.default_rng([seed, epoch]).permutation(len(buckets))
                    buckets = [buckets[k] for k in permutation]
                buckets = [bucket for bucket in buckets if bucket.n_rows]
                for k, (_, X, labels) in enumerate(opened.iter_buckets(buckets)):
                    order = np.arange(labels.size, dtype=np.int64)
                    if estimator.shuffle:
                        np.random.default_rng([seed, epoch, k]).shuffle(order)
                    train_on(X, labels, order, bar, epoch)
            if sums["rows"] == 0:
                source = state["cache"].manifest["source"]["path"]
                raise ValueError(f"{source} has no rows to train on.")
            state["rows"] = sums["rows"]
            return sums["loss"] / sums["rows"], sums["objective"] / sums["rows"]

        def validation_scores():
            return self.holdout_scores(state["cache"], settings, params, n_classes, encode)

        def check_epoch(losses, epoch):
            estimator._check_finite_after_epoch(np.zeros((1, 1)), params, losses, epoch)

        def keep_finished(interrupt, finished, n_iter):
            if finished is not None:
                self.set_features(n_features)
            estimator._keep_finished_epochs(interrupt, finished, classes, n_iter)

        n_iter, t, loss_curve = run_epochs(
            estimator, max_iter=estimator.max_iter, n_samples=known_rows,
            n_rows=lambda: state["rows"], t=t, loss_curve=loss_curve, rates=rates,
            incremental=False, run_epoch=run_epoch, check_epoch=check_epoch,
            snapshot=lambda: settings._finished_params(session, params),
            on_interrupt=keep_finished,
            validation_scores=validation_scores if holdout_scored else None,
            after_epoch=settings._after_epoch_rule(session),
            warning_stacklevel=4,  # run_epochs <- epochs <- run <- fastsgd.stream.fit <- caller
        )  # fmt: skip
        settings._finish_session(session, params)
        if "_finished_state" in settings.__dict__:  # a net's optimizer state, for _commit
            estimator.__dict__["_finished_state"] = settings.__dict__.pop("_finished_state")
        self.set_features(n_features)
        estimator._commit(classes, params, n_iter, t, loss_curve)
        return estimator

    def target_encoder(self, settings, classes):
        """labels (float64, from the file) -> what the kernels take: class codes, or a
        regressor's targets."""
        if classes is None:
            return lambda labels: settings._encode_targets(labels, None, True, False)[1]
        try:
            as_labels = classes.astype(np.float64)  # the file's labels are float64
        except (TypeError, ValueError):
            as_labels = None
        if as_labels is None or not np.array_equal(as_labels, classes):
            raise ValueError(f"classes {classes.tolist()!r} are not numbers a data file holds.")

        return lambda labels: encode_labels(labels, as_labels)[1]

    @staticmethod
    def holdout_scores(cache, settings, params, n_classes, encode):
        """Each stopping unit's score on the held-out rows, read bucket by bucket: a
        classifier's accuracy (the buckets' accuracies weighted by their rows), a regressor's
        R^2 (from sums over every bucket)."""
        buckets = [bucket for bucket in cache.holdout_buckets if bucket.n_rows]
        regressor = isinstance(settings, REGRESSORS)
        total, n_rows, r2 = 0.0, 0, _R2Sums()
        for _, X, labels in cache.iter_buckets(buckets):
            if isinstance(settings, _NetBase) and sp.issparse(X):
                X = X.toarray()
            if regressor:
                r2.add(labels, _regressor_outputs(settings, X, params))
                continue
            scorer = copy.copy(settings)
            session = None  # a net scores without one
            if not isinstance(settings, _NetBase):
                session = scorer._start_session(X, params, n_classes, 0, None, 1)
            rows = np.arange(labels.size, dtype=np.int64)
            scores = scorer._validation_scores(X, encode(labels), rows, None, params, session)
            total = total + scores * labels.size
            n_rows += labels.size
        if regressor:
            return None if r2.n == 0 else np.array([r2.score()])
        return None if n_rows == 0 else total / n_rows

    def set_features(self, n_features):
        self.estimator.n_features_in_ = n_features
        if hasattr(self.estimator, "feature_names_in_"):
            del self.estimator.feature_names_in_


def _regressor_outputs(settings, X, params):
    """A regressor's predictions from the weights being trained (as its early stopping
    scores them)."""
    if isinstance(settings, _NetBase):
        W1t, b1, W2, b2 = params
        return settings._forward(X, W1t.T, b1, W2, b2)[:, 0]
    return np.asarray(X @ params[0].T + params[1])[:, 0]


class _R2Sums:
    """R^2 (scikit-learn's ``r2_score``, one output) from sums gathered bucket by bucket."""

    def __init__(self):
        self.n = 0
        self.total = self.squares = self.residuals = 0.0
        self.shift = None  # the first targets' mean: sums of y - shift lose no precision

    def add(self, y, predicted):
        y = np.asarray(y, dtype=np.float64)
        if self.shift is None and y.size:
            self.shift = float(y.mean())
        centred = y - (self.shift or 0.0)
        self.n += y.size
        self.total += float(centred.sum())
        self.squares += float(np.dot(centred, centred))
        residual = y - predicted
        self.residuals += float(np.dot(residual, residual))

    def score(self):
        spread = self.squares - self.total**2 / self.n
        if not np.isfinite(self.residuals):
            return np.nan
        if spread <= 0.0:  # constant targets: scikit-learn's force_finite values
            return 1.0 if self.residuals == 0.0 else 0.0
        return 1.0 - self.residuals / spread
