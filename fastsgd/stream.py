"""Training from svmlight files larger than memory, through a training cache.

``fit(estimator, source, cache=...)`` trains ``SGDClassifier``, ``LogisticRegression`` or
``TwoLayerNet`` on a file without loading it: the file is parsed once into a training cache
(``fastsgd.cache``: the rows sent to random buckets of ``.npy`` files, every 10th row held out),
and each epoch reads the cache one bucket at a time, the next bucket on a background thread
while the current one trains. Memory stays at about two buckets (64 MiB of the file each, by
default) plus the weights, whatever the file's size::

    import fastsgd.stream
    from fastsgd import LogisticRegression

    model = LogisticRegression(max_iter=3, tol=None, random_state=0)
    fastsgd.stream.fit(model, "big.svm", cache="big.cache", n_features=1_000_000,
                       classes=[-1, 1])
    print(fastsgd.stream.score(model, "big.cache"))  # accuracy on the held-out rows

The epochs:

- **The first pass** reads the file and writes the cache. When the weights' size and the
  classes are known before the file is read (``n_features`` and ``classes`` given, or a
  ``warm_start`` model's), it also trains, on each block's rows in file order as they are
  parsed (in a fresh order within the block when ``shuffle``), as Vowpal Wabbit's first pass
  does; otherwise (or with ``first_pass='cache'``) it only builds the cache, and the
  ``max_iter`` epochs all read the cache.
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
by ``tol``) watches the held-out rows' accuracy instead of the training loss, as
``early_stopping=True`` watches its validation split. ``holdout=0`` trains on every row (the
held-out buckets of an existing cache included) and stops on the training loss.

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
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from fastsgd.cache import (
    DEFAULT_HOLDOUT,
    MANIFEST,
    CacheBuilder,
    CacheError,
    TrainingCache,
    cache_status,
    open_cache,
)
from fastsgd.estimators import LogisticRegressionSweep, SGDClassifier, TwoLayerNet
from fastsgd.estimators._blocks import block_settings, warm_params
from fastsgd.estimators._driver import run_epochs
from fastsgd.estimators._labels import encode_labels
from fastsgd.estimators.net import _NetBase
from fastsgd.svmlight import DEFAULT_BLOCK_BYTES

__all__ = ["CacheRebuiltWarning", "fit", "score"]

FIRST_PASSES = ("auto", "train", "cache")
SEED_RANGE = 2**31 - 1
Trainable = SGDClassifier | TwoLayerNet


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
    first_pass: Literal["auto", "train", "cache"] = "auto",
    classes: Any = None,
    n_features: int | None = None,
    dtype: Any = None,
    zero_based: bool | str = "auto",
    n_buckets: int | None = None,
    seed: int | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> Trainable:
    """Train ``estimator`` on an svmlight file (or a training cache) in bounded memory.

    The module's documentation describes the passes, the shuffle and the holdout.

    Parameters
    ----------
    estimator : SGDClassifier, LogisticRegression or TwoLayerNet
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
    first_pass : {'auto', 'train', 'cache'}, default='auto'
        Whether the pass that builds the cache trains too: 'auto' trains when ``n_features``
        and the classes are known beforehand (given, or from a ``warm_start`` model), 'train'
        requires that, 'cache' only builds.
    classes : array-like, optional
        Every label; by default those the cache found. Needed (with ``n_features``) for the
        first pass to train.
    n_features : int, optional
        The number of features; by default the cache's (the file's largest index plus one).
    dtype : {numpy.float32, numpy.float64}, optional
        The cache's values, and so the weights. Default: the cache's, or float32 for a new one.
    zero_based : bool or 'auto', default='auto'
        Whether the file's indices start at 0; 'auto' decides from its first block.
    n_buckets : int, optional
        The cache's training buckets; default: the cache's, or one per 64 MiB of the file (at
        least 32) for a new one.
    seed : int, optional
        Seeds which bucket each row goes to; default: the cache's, or 0 for a new one.
    block_bytes : int, default=16 MiB
        How much of the file is read at a time while building.

    Returns
    -------
    estimator
        The estimator passed, fitted: ``coef_`` (or ``coefs_``), ``classes_``, ``n_iter_``,
        ``t_``, ``loss_curve_`` and ``n_features_in_`` as after a local fit.

    Raises
    ------
    TypeError
        If the estimator is not one of those above.
    ValueError
        For a malformed file (``SvmlightFormatError``, with its line), an invalid setting,
        fewer than two classes, labels outside ``classes``, ``first_pass='train'`` without
        ``n_features`` and classes, a cache with no training rows, a diverged fit; and
        ``CacheError`` (a ValueError) for a folder that is not a cache, or a cache of another
        file.

    See Also
    --------
    score : Accuracy on the held-out rows.
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

    By default every 10th row is held out; ``score`` gives the accuracy there:

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
        n_features=n_features,
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
    """The fitted estimator's accuracy on a cache's held-out (or training) rows.

    Read bucket by bucket (in bounded memory); the rows' mean accuracy, as ``estimator.score``
    would give on them all at once.

    Parameters
    ----------
    estimator : SGDClassifier, LogisticRegression or TwoLayerNet
        A fitted classifier.
    source : str, os.PathLike or TrainingCache
        A cache folder, or an opened cache.
    part : {'holdout', 'train'}, default='holdout'
        The held-out rows, or the training rows.

    Returns
    -------
    float
        The accuracy.

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
    for _, X, y in opened.iter_buckets([bucket for bucket in buckets if bucket.n_rows]):
        X = X.toarray() if isinstance(estimator, _NetBase) else X
        correct += estimator.score(X, y) * y.size
        total += y.size
    if not total:
        raise ValueError(f"The cache {opened.path} holds no {part} rows.")
    return correct / total


# -- the source and its cache -------------------------------------------------------------------


def _check_supported(estimator):
    if isinstance(estimator, LogisticRegressionSweep) or not isinstance(estimator, Trainable):
        raise TypeError(
            "fastsgd.stream trains SGDClassifier, LogisticRegression and TwoLayerNet; got "
            f"{type(estimator).__name__}."
        )
    estimator._validate_params()
    if getattr(estimator, "early_stopping", False):
        raise ValueError(
            "early_stopping is not supported when training from a file: the cache's held-out "
            "rows (holdout=10 by default) serve the stopping rule instead."
        )
    if estimator.parallel is not None:
        raise ValueError(
            f"parallel={estimator.parallel!r} is not supported when training from a file; "
            "use parallel=None (n_jobs is ignored there)."
        )


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
    if cache is None:
        temporary = tempfile.mkdtemp(prefix="fastsgd-cache-")
        cache = os.path.join(temporary, "cache")
    elif _is_cache_folder(cache):
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
    settings = {name: value for name, value in build.items() if value is not None}
    settings.setdefault("holdout", DEFAULT_HOLDOUT)
    settings.setdefault("dtype", np.float32)
    return None, CacheBuilder(source, cache, block_bytes=block_bytes, **settings), temporary


# -- the driver ---------------------------------------------------------------------------------


class _Training:
    """One fit from a file: the local fit's epoch loop over the cache's buckets."""

    def __init__(self, estimator, holdout, first_pass, classes, n_features):
        self.estimator = estimator
        self.holdout = holdout
        self.first_pass = first_pass
        self.classes = None if classes is None else np.unique(np.asarray(classes))
        self.n_features = n_features

    def known_shape(self):
        """(n_features, classes) when both are known before the file is read, else None."""
        estimator = self.estimator
        warm = estimator.warm_start and estimator._has_fitted_state()
        n_features = self.n_features
        if n_features is None and warm:
            n_features = estimator.n_features_in_
        classes = self.classes
        if classes is None and warm:
            classes = estimator.classes_
        if n_features is None or classes is None:
            return None
        return int(n_features), classes

    def run(self, cache, builder):
        estimator = self.estimator
        train_first = False
        if builder is not None and self.first_pass != "cache":
            shape = self.known_shape()
            if shape is None and self.first_pass == "train":
                raise ValueError(
                    "first_pass='train' needs n_features and classes before the file is read: "
                    "pass them (or fit a warm_start model), or use first_pass='cache'."
                )
            if shape is not None and getattr(estimator, "class_weight", None) == "balanced":
                if self.first_pass == "train":
                    raise ValueError(
                        "class_weight='balanced' needs every class's count, known once the "
                        "file is read: use first_pass='cache'."
                    )
                shape = None
            train_first = shape is not None
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
        found = cache.classes
        if found is None:
            raise ValueError(
                f"{cache.path}: the file has more than 1,000 distinct labels; fastsgd.stream "
                "trains classifiers."
            )
        counts = cache.class_counts(holdout=False)
        if self.holdout == 0:  # the held-out buckets are trained on too
            counts = counts + cache.class_counts(holdout=True)
        classes = found if self.classes is None else self.classes
        unknown = found[~np.isin(found, classes)]
        if unknown.size:
            raise ValueError(
                f"The file has labels {unknown.tolist()!r} that are not in classes "
                f"{classes.tolist()!r}."
            )
        if classes.size < 2:
            raise ValueError(
                f"The training data contains only one class ({classes.tolist()!r}); a "
                "classifier needs samples of at least 2 classes."
            )
        full = np.zeros(classes.size, dtype=np.int64)
        full[np.searchsorted(classes, found)] = counts
        return n_features, classes, full

    def epochs(self, cache, builder, n_features, classes, counts, dtype):
        estimator = self.estimator
        dense = isinstance(estimator, _NetBase)
        settings = block_settings(estimator, classes, counts, n_features, dtype)
        rng = check_random_state(estimator.random_state)
        if estimator.warm_start and estimator._has_fitted_state():
            params, t, loss_curve = warm_params(estimator, classes, n_features, dtype)
        else:
            params = estimator._init_params(n_features, classes.size, dtype, rng, {})
            t, loss_curve = estimator._t_start, []
        seed = int(rng.randint(SEED_RANGE))
        rates = estimator._initial_rates(classes.size)
        known_rows = None
        if cache is not None:
            known_rows = cache.manifest["n_train_rows"]
            if self.holdout == 0:
                known_rows = cache.n_rows
        # One training session for the whole fit, as a local fit keeps: the buckets (or the
        # first pass's blocks) are the chunks its epochs call the kernels on. The session only
        # needs X's kind, dtype and row count (a net's batch size): a stand-in without data.
        if dense:
            rows = known_rows if known_rows is not None else 2**62
            stand_in = np.lib.stride_tricks.as_strided(
                np.zeros(1, dtype), (rows, n_features), (0, 0), writeable=False
            )
        else:
            stand_in = sp.csr_matrix((1, n_features), dtype=dtype)
        session = settings._start_session(stand_in, params, classes.size, t, None, 1)
        holdout_scored = self.holdout != 0 and (
            cache.holdout_period if cache is not None else builder.holdout
        )  # the cache holds rows out, and they are not trained on
        if holdout_scored and dense:  # MLPClassifier's rule on validation scores
            session["state"].update(scores=[], best_score=-np.inf, best_loss=None)

        try:
            as_labels = classes.astype(np.float64)  # the file's labels are float64
        except (TypeError, ValueError):
            as_labels = None
        if as_labels is None or not np.array_equal(as_labels, classes):
            raise ValueError(
                f"classes {classes.tolist()!r} are not numbers an svmlight file holds."
            )

        def encode(labels):
            return encode_labels(labels, as_labels)[1]

        sums = {}
        state = {"cache": cache, "rows": 0}

        def train_on(X, labels, order, bar, epoch):
            X = X.toarray() if dense else X
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
                raise ValueError("The training data has no rows to train on (all held out).")
            state["rows"] = sums["rows"]
            return sums["loss"] / sums["rows"], sums["objective"] / sums["rows"]

        def validation_scores():
            return self.holdout_scores(state["cache"], settings, params, classes, encode)

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

    @staticmethod
    def holdout_scores(cache, settings, params, classes, encode):
        """Each stopping unit's accuracy on the held-out rows, bucket by bucket (accuracies
        weighted by the buckets' rows are the accuracy over them all)."""
        total, n_rows = 0.0, 0
        buckets = [bucket for bucket in cache.holdout_buckets if bucket.n_rows]
        for _, X, labels in cache.iter_buckets(buckets):
            if isinstance(settings, _NetBase):
                X = X.toarray()
            scorer = copy.copy(settings)
            session = None  # a net scores without one
            if not isinstance(settings, _NetBase):
                session = scorer._start_session(X, params, classes.size, 0, None, 1)
            rows = np.arange(labels.size, dtype=np.int64)
            total = (
                total
                + scorer._validation_scores(X, encode(labels), rows, None, params, session)
                * labels.size
            )
            n_rows += labels.size
        return None if n_rows == 0 else total / n_rows

    def set_features(self, n_features):
        self.estimator.n_features_in_ = n_features
        if hasattr(self.estimator, "feature_names_in_"):
            del self.estimator.feature_names_in_
