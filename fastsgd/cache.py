"""A training cache: an svmlight / libsvm (or CSV) file parsed once into shuffled ``.npy`` buckets.

``build_cache`` reads the file with the compiled reader (``fastsgd.svmlight``) block by block and
sends every row to one of ``n_buckets`` random buckets as it goes; each bucket is four ``.npy``
files (its CSR ``data``, ``indices`` and ``indptr``, and its ``labels``) that grow by appending,
so memory stays bounded by a few blocks whatever the file's size. Every ``holdout``-th row of the
file (the 10th, 20th, ... by default, as Vowpal Wabbit holds out) goes to holdout buckets
instead, which training never visits. ``fastsgd.stream.fit`` then trains an epoch by visiting
the buckets in a fresh random order and each bucket's rows in a fresh permutation: since every
bucket is a uniform random sample of the file, that is close to a full shuffle, also on a file
sorted by label, while reading the cache sequentially.

The cache is a folder::

    manifest.json            what the cache holds and what it was built from (below)
    bucket-0000.data.npy     float32 (or float64) values
    bucket-0000.indices.npy  int32 column indices, zero-based, sorted within each row
    bucket-0000.indptr.npy   int64 row offsets into data and indices
    bucket-0000.labels.npy   float64 labels
    ...

A CSV source (``.csv``, ``.csv.gz``, ``.csv.bz2``: a header line, then numbers) is read by
pyarrow's streaming reader, every column's type given (the features as the cache's dtype, the
label float64), into dense buckets: ``bucket-0000.data.npy`` holds the rows as a
``(rows, n_features)`` array, beside ``bucket-0000.labels.npy``.

``manifest.json`` records the format version, the source (its absolute path, size, mtime and
a SHA-256 of its first and last MiB), ``zero_based``, ``n_features``, the labels found
(``classes`` with their counts, or None when there are more than 1,000 distinct values), the
row and nonzero counts, the dtype, the seed, the holdout period and every bucket's counts.
A bucket's row goes where ``splitmix64(seed, row number) % n`` sends it, so the same file,
seed, bucket count and holdout give the same cache whatever the block size or the number of
cores.

Guarantees: the folder is written under a temporary name next to it and renamed when it is
complete, with the manifest last, so a crash or a Ctrl-C never leaves a cache that looks
complete; ``open_cache`` checks the format version and every file's size against the manifest;
``cache_status`` tells whether a cache still matches its source (the size, the mtime and the
hash of the head and tail) and the settings asked for, and a fit rebuilds a stale cache of the
same source and refuses a folder that is not a cache or was built from another file.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import os
import shutil
import struct
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fastsgd.svmlight import (
    DEFAULT_BLOCK_BYTES,
    SvmlightFormatError,
    _check_zero_based,
    _IndexRange,
    _iter_parsed,
    _LineError,
    _open,
    _parse_block,
    _parse_dtype,
    _read_blocks,
)

__all__ = [
    "CacheError",
    "TrainingCache",
    "build_cache",
    "cache_status",
    "open_cache",
]

CACHE_FORMAT = 1
MANIFEST = "manifest.json"
DEFAULT_HOLDOUT = 10
# A bucket holds about this much of the source's text, so that two buckets in memory (the one
# training and the one being read) stay small whatever the file's size.
BUCKET_SOURCE_BYTES = 64 * 2**20
MIN_BUCKETS = 32
# Labels are recorded as classes up to this many distinct values (more: regression targets).
MAX_CLASSES = 1000
_SIGNATURE_BYTES = 2**20
_NPY_HEADER_BYTES = 128
# The rows waiting to be appended to the bucket files, in all (each bucket flushes at least this
# share, and at least MIN_FLUSH_BYTES at a time).
WRITE_BUFFER_BYTES = 64 * 2**20
MIN_FLUSH_BYTES = 256 * 2**10
_INT32_MAX = np.iinfo(np.int32).max
_PARTS = ("data", "indices", "indptr", "labels")


class CacheError(ValueError):
    """A training cache that cannot be used; the message says why.

    Raised for a folder that is not a fastsgd cache (or is damaged), a cache built from
    another file or with other settings where it cannot be rebuilt, and a source that is not
    an svmlight file. A ``ValueError``.

    See Also
    --------
    open_cache : Opens a cache, or raises this.

    Examples
    --------
    >>> import tempfile
    >>> from fastsgd.cache import CacheError, open_cache
    >>> try:
    ...     open_cache(tempfile.mkdtemp())
    ... except CacheError as error:
    ...     print(str(error).split(": ")[1])
    no manifest.json (not a fastsgd training cache, or one whose build did not finish)
    """


@dataclass(frozen=True)
class Bucket:
    """One bucket of a cache: its file name stem, counts, and whether it is held out."""

    name: str
    n_rows: int
    n_nonzeros: int
    holdout: bool


class TrainingCache:
    """An opened training cache: its manifest, and its buckets read one at a time.

    Made by ``build_cache`` or ``open_cache``; reading never writes to the folder.

    Parameters
    ----------
    path : str or os.PathLike
        The cache folder.
    manifest : dict
        Its parsed ``manifest.json``.

    Attributes
    ----------
    path : pathlib.Path
        The cache folder.
    manifest : dict
        The parsed ``manifest.json``.

    See Also
    --------
    build_cache : Builds a cache from an svmlight file.
    fastsgd.stream.fit : Trains an estimator from a cache.

    Examples
    --------
    >>> import os, tempfile
    >>> from fastsgd.cache import build_cache
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "data.svm")
    >>> with open(source, "w") as file:
    ...     _ = file.write("".join(f"{i % 2} 1:{i} 3:1\\n" for i in range(100)))
    >>> cache = build_cache(source, os.path.join(folder, "cache"), n_buckets=4)
    >>> cache.n_rows, cache.n_features, cache.classes, cache.holdout_period
    (100, 3, array([0., 1.]), 10)
    >>> sum(bucket.n_rows for bucket in cache.holdout_buckets)  # rows 10, 20, ..., 100
    10
    >>> for bucket, X, y in cache.iter_buckets(cache.holdout_buckets):
    ...     print(X.shape, X.dtype, (X[:, 0].toarray().ravel() % 10).tolist())
    (10, 3) float32 [9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0]
    """

    def __init__(self, path, manifest: dict):
        self.path = Path(path)
        self.manifest = manifest

    @property
    def n_features(self) -> int:
        """The number of columns (the largest index plus one, or as given to the build)."""
        return int(self.manifest["n_features"])

    @property
    def n_rows(self) -> int:
        """Every row of the file, the held-out ones included."""
        return int(self.manifest["n_rows"])

    @property
    def n_nonzeros(self) -> int:
        """The stored values of every row."""
        return int(self.manifest["n_nonzeros"])

    @property
    def dtype(self) -> np.dtype:
        """The values' dtype."""
        return np.dtype(self.manifest["dtype"])

    @property
    def classes(self) -> np.ndarray | None:
        """The sorted distinct labels, or None when there are more than 1,000."""
        classes = self.manifest["classes"]
        return None if classes is None else np.array(classes, dtype=np.float64)

    @property
    def holdout_period(self) -> int:
        """Every how many rows one is held out; 0 when none is."""
        return int(self.manifest["holdout"])

    @property
    def buckets(self) -> list[Bucket]:
        """Every bucket, the training ones first."""
        return [Bucket(**bucket) for bucket in self.manifest["buckets"]]

    @property
    def train_buckets(self) -> list[Bucket]:
        """The buckets training visits."""
        return [bucket for bucket in self.buckets if not bucket.holdout]

    @property
    def holdout_buckets(self) -> list[Bucket]:
        """The buckets of held-out rows."""
        return [bucket for bucket in self.buckets if bucket.holdout]

    def class_counts(self, holdout: bool = False) -> np.ndarray | None:
        """Each class's row count in the training buckets (or in the holdout buckets).

        Parameters
        ----------
        holdout : bool, default=False
            Count the held-out rows instead of the training rows.

        Returns
        -------
        numpy.ndarray of int64, or None
            One count per entry of ``classes``; None when the labels are not recorded as
            classes (more than 1,000 distinct values).
        """
        counts = self.manifest["holdout_class_counts" if holdout else "class_counts"]
        return None if counts is None else np.array(counts, dtype=np.int64)

    @property
    def dense(self) -> bool:
        """Whether the buckets hold dense rows (a CSV source) rather than CSR rows."""
        return self.manifest.get("layout") == "dense"

    def read_bucket(self, bucket: Bucket) -> tuple[sp.csr_matrix | np.ndarray, np.ndarray]:
        """Read one bucket into memory.

        Parameters
        ----------
        bucket : Bucket
            One of ``buckets``.

        Returns
        -------
        X : scipy.sparse.csr_matrix or numpy.ndarray of shape (bucket.n_rows, n_features)
            The bucket's rows: CSR (int32 row offsets where they fit, so that scipy copies
            nothing), or dense for a CSV source.
        y : numpy.ndarray of float64
            Their labels.
        """
        if self.dense:
            X = np.load(self.path / f"{bucket.name}.data.npy")
            return X, np.load(self.path / f"{bucket.name}.labels.npy")
        arrays = {part: np.load(self.path / f"{bucket.name}.{part}.npy") for part in _PARTS}
        indptr = arrays["indptr"]
        if indptr[-1] <= _INT32_MAX:
            indptr = indptr.astype(np.int32)
        X = sp.csr_matrix(
            (arrays["data"], arrays["indices"], indptr), shape=(bucket.n_rows, self.n_features)
        )
        return X, arrays["labels"]

    def iter_buckets(
        self, buckets: list[Bucket], prefetch: bool = True
    ) -> Iterator[tuple[Bucket, sp.csr_matrix, np.ndarray]]:
        """Read ``buckets`` one after another, the next one on a background thread.

        With ``prefetch`` the next bucket is read while the caller works on the current one (the
        kernels release the GIL), so about two buckets are in memory at a time.

        Parameters
        ----------
        buckets : list of Bucket
            The buckets to read, in this order.
        prefetch : bool, default=True
            Read the next bucket ahead, on a background thread.

        Yields
        ------
        bucket : Bucket
            The bucket.
        X : scipy.sparse.csr_matrix or numpy.ndarray
            Its rows, as ``read_bucket`` returns them.
        y : numpy.ndarray of float64
            Their labels.
        """
        if not prefetch:
            for bucket in buckets:
                yield (bucket, *self.read_bucket(bucket))
            return
        with ThreadPoolExecutor(1, thread_name_prefix="fastsgd-cache") as reader:
            pending = reader.submit(self.read_bucket, buckets[0]) if buckets else None
            for k, bucket in enumerate(buckets):
                X, y = pending.result()
                pending = None
                if k + 1 < len(buckets):
                    pending = reader.submit(self.read_bucket, buckets[k + 1])
                yield bucket, X, y
                del X, y

    def __repr__(self) -> str:
        return (
            f"TrainingCache({str(self.path)!r}: {self.n_rows} rows, {self.n_features} features, "
            f"{len(self.train_buckets)} training and {len(self.holdout_buckets)} holdout "
            "buckets)"
        )


def source_signature(path) -> dict:
    """What identifies a source file's content cheaply: its size, mtime and a SHA-256 of its
    first and last MiB."""
    path = Path(path)
    stat = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        digest.update(file.read(_SIGNATURE_BYTES))
        if stat.st_size > _SIGNATURE_BYTES:
            file.seek(max(_SIGNATURE_BYTES, stat.st_size - _SIGNATURE_BYTES))
            digest.update(file.read())
    return {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "head_tail_sha256": digest.hexdigest(),
    }


def open_cache(path) -> TrainingCache:
    """Open a training cache folder, checking that it is complete.

    Parameters
    ----------
    path : str or os.PathLike
        The folder ``build_cache`` wrote.

    Returns
    -------
    TrainingCache
        The cache.

    Raises
    ------
    CacheError
        If the folder holds no ``manifest.json`` (not a cache, or a build that did not finish),
        a manifest of another format version, or files missing or of the wrong size.

    See Also
    --------
    build_cache : Builds a cache.
    cache_status : Whether a cache still matches its source.

    Examples
    --------
    >>> import os, tempfile
    >>> from fastsgd.cache import build_cache, open_cache
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "data.svm")
    >>> with open(source, "w") as file:
    ...     _ = file.write("1 1:0.5 3:2\\n-1 2:1\\n")
    >>> _ = build_cache(source, os.path.join(folder, "cache"), holdout=0)
    >>> open_cache(os.path.join(folder, "cache"))
    TrainingCache('...cache': 2 rows, 3 features, 32 training and 0 holdout buckets)
    """
    path = Path(path)
    where = f"{path}"
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise CacheError(
            f"{where}: no {MANIFEST} (not a fastsgd training cache, or one whose build did not "
            "finish)"
        ) from None
    except (OSError, ValueError) as error:
        raise CacheError(f"{where}: {MANIFEST} cannot be read: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "fastsgd-training-cache":
        raise CacheError(f"{where}: {MANIFEST} is not a fastsgd training cache's manifest")
    if manifest.get("version") != CACHE_FORMAT:
        raise CacheError(
            f"{where}: cache format version {manifest.get('version')!r}, but this fastsgd "
            f"reads version {CACHE_FORMAT}; rebuild the cache"
        )
    cache = TrainingCache(path, manifest)
    itemsizes = {
        "data": cache.dtype.itemsize,
        "indices": 4,
        "indptr": 8,
        "labels": 8,
    }
    for bucket in cache.buckets:
        lengths = {
            "data": bucket.n_nonzeros,
            "indices": bucket.n_nonzeros,
            "indptr": bucket.n_rows + 1,
            "labels": bucket.n_rows,
        }
        for part in ("data", "labels") if cache.dense else _PARTS:
            file = path / f"{bucket.name}.{part}.npy"
            expected = _NPY_HEADER_BYTES + lengths[part] * itemsizes[part]
            size = file.stat().st_size if file.exists() else None
            if size != expected:
                found = "missing" if size is None else f"{size} bytes, expected {expected}"
                raise CacheError(f"{where}: {file.name} is {found}; rebuild the cache")
    return cache


def cache_status(cache: TrainingCache, source=None, **settings) -> str | None:
    """Why ``cache`` cannot serve a fit on ``source`` with ``settings``, or None if it can.

    Parameters
    ----------
    cache : TrainingCache
        An opened cache.
    source : str or os.PathLike, optional
        The svmlight file the fit reads; the cache must have been built from it (the same
        path) and it must be unchanged since (its size, mtime and the SHA-256 of its first and
        last MiB).
    **settings
        Build settings the fit asks for (``dtype``, ``zero_based``, ``holdout``,
        ``n_buckets``, ``seed``, ``n_features``); those given must match the cache's.

    Returns
    -------
    str or None
        The reason, or None when the cache is current.

    See Also
    --------
    open_cache : Opens a cache.

    Examples
    --------
    >>> import os, tempfile
    >>> from fastsgd.cache import build_cache, cache_status
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "data.svm")
    >>> with open(source, "w") as file:
    ...     _ = file.write("1 1:0.5 3:2\\n-1 2:1\\n")
    >>> cache = build_cache(source, os.path.join(folder, "cache"))
    >>> print(cache_status(cache, source, holdout=10))
    None
    >>> print(cache_status(cache, source, holdout=5))
    it holds out every 10th row, not every 5th
    >>> with open(source, "a") as file:
    ...     _ = file.write("1 2:3\\n")
    >>> print(cache_status(cache, source))
    its source ... changed since the cache was built (size 19 -> 25 bytes)
    """
    manifest = cache.manifest
    if source is not None:
        recorded = manifest["source"]
        current = source_signature(source)
        if current["path"] != recorded["path"]:
            return f"it was built from {recorded['path']}, not {current['path']}"
        for key, what in (
            ("size", "size"),
            ("mtime_ns", "modification time"),
            ("head_tail_sha256", "content"),
        ):
            if current[key] != recorded[key]:
                detail = (
                    f"{what} {recorded[key]} -> {current[key]} bytes" if key == "size" else what
                )
                return f"its source {recorded['path']} changed since the cache was built ({detail})"
    for name, value in settings.items():
        if value is None or (name == "zero_based" and value == "auto"):
            continue
        if name == "dtype":
            value = np.dtype(value).name
        if name == "holdout":
            value = int(value or 0)
            if value != manifest["holdout"]:
                if manifest["holdout"] == 0:
                    return f"it holds no rows out, not every {_ordinal(value)}"
                if value == 0:
                    continue  # training on the holdout buckets too: no rebuild
                return (
                    f"it holds out every {_ordinal(manifest['holdout'])} row, not every "
                    f"{_ordinal(value)}"
                )
            continue
        key = {"n_buckets": "n_train_buckets"}.get(name, name)
        if manifest.get(key) is None and name in ("zero_based", "label_column"):
            continue  # the setting of the other kind of source (svmlight / CSV)
        if name == "label_column" and _same_column(value, manifest):
            continue
        if value != manifest[key]:
            return f"it was built with {name}={manifest[key]!r}, not {value!r}"
    return None


def _same_column(label_column, manifest):
    """Whether a CSV cache's label column is ``label_column``, by name or by index."""
    if label_column == manifest["label_column"]:
        return True
    if isinstance(label_column, str) and label_column.lstrip("-").isdigit():
        label_column = int(label_column)
    n_columns = len(manifest["feature_names"]) + 1
    return (
        isinstance(label_column, int)
        and -n_columns <= label_column < n_columns
        and label_column % n_columns == manifest.get("label_index")
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def build_cache(
    source,
    directory,
    *,
    dtype=np.float32,
    zero_based: bool | str = "auto",
    n_buckets: int | None = None,
    holdout: int | None = DEFAULT_HOLDOUT,
    seed: int = 0,
    n_features: int | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    label_column: str | int = "label",
) -> TrainingCache:
    """Parse an svmlight / libsvm (or CSV) file into a training cache of shuffled buckets.

    One pass over the file, in bounded memory (a few blocks of ``block_bytes``); the module's
    documentation describes the folder and its guarantees.

    Parameters
    ----------
    source : str or os.PathLike
        The svmlight / libsvm file (``.gz`` and ``.bz2`` are decompressed), or a CSV file
        (``.csv``, ``.csv.gz``, ``.csv.bz2``: a header line, numbers only; read with
        pyarrow's streaming reader into dense rows).
    directory : str or os.PathLike
        The cache folder to write. An existing cache there is replaced once the new one is
        complete; any other non-empty folder is refused.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        The values' dtype in the cache (and so the model's, when it trains from it).
    zero_based : bool or 'auto', default='auto'
        Whether the file's indices start at 0. 'auto' decides from the file's first block
        (zero-based when it holds an index 0) and records the decision; a later index 0 in a
        file read as one-based is then refused with its line number.
    n_buckets : int, optional
        The training buckets; default: one per 64 MiB of the file, and at least 32. The holdout
        rows get ``ceil(n_buckets / holdout)`` buckets of their own.
    holdout : int or None, default=10
        Every ``holdout``-th row of the file (counting from 1) is held out; 0 or None: none.
    seed : int, default=0
        Seeds the buckets the rows go to.
    n_features : int, optional
        The number of columns; default: the largest index plus one.
    block_bytes : int, default=16 MiB
        How much of the file is read at a time.
    label_column : str or int, default='label'
        A CSV file's label column: its name, or its index; every other column is a feature.

    Returns
    -------
    TrainingCache
        The cache, opened.

    Raises
    ------
    ValueError
        If the file is malformed (``fastsgd.svmlight.SvmlightFormatError``, with the file and
        line), holds NaN or infinite values, an index at or beyond ``n_features`` or beyond
        int32, or if a setting is invalid.
    CacheError
        If ``directory`` is a non-empty folder that is not a training cache.

    See Also
    --------
    open_cache : Opens an existing cache.
    fastsgd.stream.fit : Trains from a cache (and builds one as needed).

    Examples
    --------
    >>> import os, tempfile
    >>> from fastsgd.cache import build_cache
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "data.svm")
    >>> with open(source, "w") as file:
    ...     _ = file.write("".join(f"{i % 2} 1:{i} 3:1\\n" for i in range(1000)))
    >>> cache = build_cache(source, os.path.join(folder, "cache"), n_buckets=8, seed=1)
    >>> [bucket.n_rows for bucket in cache.train_buckets]
    [129, 89, 113, 101, 107, 115, 128, 118]
    >>> cache.manifest["n_train_rows"], cache.manifest["n_holdout_rows"]
    (900, 100)
    """
    builder = CacheBuilder(
        source, directory, dtype=dtype, zero_based=zero_based, n_buckets=n_buckets,
        holdout=holdout, seed=seed, n_features=n_features, block_bytes=block_bytes,
        label_column=label_column,
    )  # fmt: skip
    for _ in builder.chunks():
        pass
    return builder.cache


class _NpyAppender:
    """A ``.npy`` file written by appending rows; its header, which holds the length,
    is written when it is closed (into space reserved at the start). The file is open only while
    it is written to: a cache of a large file has thousands of them (``ulimit -n`` is often
    1024)."""

    def __init__(self, path, dtype, row_shape=()):
        self.path = path
        self.path.write_bytes(bytes(_NPY_HEADER_BYTES))
        self.dtype = np.dtype(dtype)
        self.row_shape = tuple(row_shape)
        self.length = 0  # rows (items, for a 1-D file)
        self.pending = []

    def append(self, array):
        # a copy: a view would keep the whole parsed block alive until the next flush
        self.pending.append(np.array(array, dtype=self.dtype, copy=True, order="C"))
        self.length += self.pending[-1].shape[0]

    def flush(self):
        if self.pending:
            with open(self.path, "ab") as file:
                for array in self.pending:
                    file.write(memoryview(array).cast("B"))
            self.pending = []

    def close(self):
        self.flush()
        shape = (self.length, *self.row_shape)
        header = f"{{'descr': {self.dtype.str!r}, 'fortran_order': False, 'shape': {shape}, }}"
        header = header.ljust(_NPY_HEADER_BYTES - 10 - 1) + "\n"
        with open(self.path, "r+b") as file:
            file.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())


class _BucketWriter:
    """The files of one bucket (CSR: data, indices, indptr, labels; dense: data of shape
    (rows, width), labels), and its counts. Appended rows wait in memory until they reach
    ``flush_bytes``, then go to disk in one write per file."""

    def __init__(self, folder, name, dtype, flush_bytes, dense_width=None):
        self.name = name
        if dense_width is None:
            dtypes = dict(zip(_PARTS, (dtype, np.int32, np.int64, np.float64), strict=True))
            self.files = {
                part: _NpyAppender(folder / f"{name}.{part}.npy", dtypes[part]) for part in _PARTS
            }
            self.files["indptr"].append(np.zeros(1, np.int64))
        else:
            self.files = {
                "data": _NpyAppender(folder / f"{name}.data.npy", dtype, (dense_width,)),
                "labels": _NpyAppender(folder / f"{name}.labels.npy", np.float64),
            }
        self.n_rows = self.n_nonzeros = 0
        self.flush_bytes = flush_bytes
        self.pending_bytes = 0

    def append(self, data, labels, indices=None, row_ends=None):
        """Rows whose values are ``data`` (dense: a row each), and for CSR rows their
        ``indices``, ending at ``row_ends`` (offsets into data, counted from its start)."""
        self.files["data"].append(data)
        self.files["labels"].append(labels)
        if indices is not None:
            self.files["indices"].append(indices)
            self.files["indptr"].append(row_ends + self.n_nonzeros)
        self.n_rows += labels.size
        self.n_nonzeros += data.size
        self.pending_bytes += 2 * data.nbytes + 16 * labels.size
        if self.pending_bytes >= self.flush_bytes:
            for file in self.files.values():
                file.flush()
            self.pending_bytes = 0

    def close(self):
        for file in self.files.values():
            file.close()


def _text_bytes(path):
    """The source's size once decompressed: its size, or for a .gz / .bz2 file an estimate from
    how much its first 4 MiB expand (the default bucket count is per 64 MiB of text)."""
    size = os.path.getsize(path)
    suffix = Path(path).suffix
    if suffix not in (".gz", ".bz2"):
        return size
    with open(path, "rb") as raw:
        stream = gzip.GzipFile(fileobj=raw) if suffix == ".gz" else bz2.BZ2File(raw)
        with stream:
            text = len(stream.read(4 * 2**20))
            consumed = raw.tell()
    return size if consumed == 0 else int(size * text / consumed)


def _bucket_draws(rows, seed):
    """splitmix64 of (seed, row number): a fixed random draw per row, whatever the blocks."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = (rows + np.uint64(1)) * golden + np.uint64(seed % 2**64) * np.uint64(0xD1B54A32D192ED03)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _prefix_is_one_based(path, block_bytes, value_dtype):
    """'auto' from a prefix: one-based unless the first block with a feature holds index 0."""
    with _open(path) as stream:
        for buffer, stop in _read_blocks(stream, block_bytes):
            text = bytes(memoryview(buffer)[:stop])
            try:
                _, _, low, high = _parse_block(text, value_dtype, False, np.int32)
            except _LineError:
                return True  # the full pass refuses the line, with its number
            if high >= 0:
                return low > 0
    return True


class CacheBuilder:
    """One build of a training cache, chunk by chunk: ``chunks()`` yields each parsed chunk
    after writing its rows to their buckets, so that a caller can train on it in the same
    pass; the cache is complete (``cache``) once the generator is exhausted, and a generator
    closed early removes what it wrote. ``build_cache``'s parameters."""

    def __init__(
        self, source, directory, *, dtype=np.float32, zero_based="auto", n_buckets=None,
        holdout=DEFAULT_HOLDOUT, seed=0, n_features=None, block_bytes=DEFAULT_BLOCK_BYTES,
        label_column="label",
    ):  # fmt: skip
        _check_zero_based(zero_based)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        holdout = holdout or 0
        if int(holdout) != holdout or holdout < 0 or holdout == 1:
            raise ValueError(
                f"holdout must be 0 (none) or a period of 2 or more rows, got {holdout!r}"
            )
        self.holdout = int(holdout)
        if int(block_bytes) != block_bytes or block_bytes < 1:
            raise ValueError(f"block_bytes must be a positive integer, got {block_bytes!r}")
        if n_buckets is not None and (int(n_buckets) != n_buckets or n_buckets < 1):
            raise ValueError(f"n_buckets must be a positive integer, got {n_buckets!r}")
        if n_features is not None and (
            int(n_features) != n_features or not 1 <= n_features <= _INT32_MAX + 1
        ):
            raise ValueError(f"n_features must be an integer in [1, 2**31], got {n_features!r}")
        if int(seed) != seed or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.source = Path(source)
        if not self.source.is_file():
            raise FileNotFoundError(f"{self.source}: no such file")
        # a link to a cache: build beside its target, which is what gets replaced
        self.directory = Path(directory).resolve()
        if self.directory.exists():
            if not self.directory.is_dir():
                raise CacheError(f"{self.directory} exists and is not a folder")
            if any(self.directory.iterdir()) and not (self.directory / MANIFEST).exists():
                raise CacheError(
                    f"{self.directory} is a folder that holds files but no {MANIFEST}: not a "
                    "fastsgd training cache, so it is not overwritten; choose another folder"
                )
        self.signature = source_signature(self.source)
        self.block_bytes = int(block_bytes)
        self.kind = "csv" if is_csv(self.source) else "svmlight"
        self.label_column = label_column
        self.feature_names = None
        self.one_based = None
        self.zero_based_given = zero_based != "auto"
        if self.kind == "csv":
            self.feature_names, self.label_index = _csv_header(self.source, label_column)
            self.label_column = _csv_header_names(self.source)[self.label_index]  # its name
            if n_features is not None and n_features != len(self.feature_names):
                raise ValueError(
                    f"n_features={n_features}, but {self.source} has {len(self.feature_names)} "
                    "feature columns"
                )
            n_features = len(self.feature_names)
        elif zero_based == "auto":
            self.one_based = _prefix_is_one_based(
                self.source, self.block_bytes, _parse_dtype(self.dtype)[1]
            )
        else:
            self.one_based = not zero_based
        self.n_buckets_given = n_buckets is not None
        self.n_features_given = n_features is not None
        if n_buckets is None:
            n_buckets = max(MIN_BUCKETS, -(-_text_bytes(self.source) // BUCKET_SOURCE_BYTES))
        self.n_train_buckets = int(n_buckets)
        self.n_holdout_buckets = -(-self.n_train_buckets // self.holdout) if self.holdout else 0
        self.seed = int(seed)
        self.n_features = None if n_features is None else int(n_features)
        self.max_column = -1
        self.too_many_labels = False
        self.cache = None
        self.n_rows = 0  # read so far

    def chunks(self) -> Iterator[tuple[sp.csr_matrix | np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(X, y, train)`` for each block: its rows (svmlight: CSR, ``n_features``
        columns when given, else as many as the block needs; CSV: dense), their labels, and the
        positions of the rows that are not held out, in file order."""
        folder = self.directory.parent / f".{self.directory.name}.building-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        n_total = self.n_train_buckets + self.n_holdout_buckets
        # what waits in memory for the disk: about WRITE_BUFFER_BYTES in all
        flush_bytes = max(MIN_FLUSH_BYTES, WRITE_BUFFER_BYTES // n_total)
        counts = ({}, {})  # label -> rows, in the training and the holdout buckets
        dense_width = self.n_features if self.kind == "csv" else None
        try:
            writers = [
                _BucketWriter(folder, f"bucket-{b:04d}", self.dtype, flush_bytes, dense_width)
                for b in range(n_total)
            ]
            parsed = self._csv_blocks() if self.kind == "csv" else self._svmlight_blocks()
            for X, labels in parsed:
                n = labels.size
                self._check_finite(X, labels)
                rows = np.arange(self.n_rows, self.n_rows + n, dtype=np.uint64)
                held_out = self._write(X, labels, rows, writers, counts)
                self.n_rows += n
                train = np.flatnonzero(~held_out) if held_out is not None else np.arange(n)
                yield X, labels, train
            for writer in writers:
                writer.close()
            self.cache = self._finish(folder, writers, counts)
        except SvmlightFormatError as error:
            shutil.rmtree(folder, ignore_errors=True)
            if error.reason.startswith("feature index 0") and not self.zero_based_given:
                raise SvmlightFormatError(
                    error.path, error.line, f"{error.reason}: the file's first block has no "
                    "index 0, so it was read as one-based; pass zero_based=True",
                ) from None  # fmt: skip
            raise
        except BaseException:  # an error, a Ctrl-C, or a caller that stopped early
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _svmlight_blocks(self):
        """The file's blocks as (CSR rows, labels), by the compiled reader."""
        index_range = _IndexRange()
        shift = 1 if self.one_based else 0
        for data, indices, indptr, labels in _iter_parsed(
            self.source, self.block_bytes, _parse_dtype(self.dtype)[1], self.one_based,
            np.int32, index_range,
        ):  # fmt: skip
            if labels.size == 0:
                continue
            self.max_column = index_range.max_index - shift
            n_columns = self._check_columns(self.max_column, indices)
            data = data.astype(self.dtype, copy=False)
            yield sp.csr_matrix((data, indices, indptr), shape=(labels.size, n_columns)), labels

    def _csv_blocks(self):
        """The file's blocks as (dense rows, labels), by pyarrow's streaming CSV reader with
        every column's type given (the features as the cache's dtype, the label float64)."""
        pa, csv = _pyarrow()
        label = self.label_column
        types = {name: pa.from_numpy_dtype(self.dtype) for name in self.feature_names}
        types[label] = pa.float64()
        try:  # the first block is read (and converted) here already
            reader = csv.open_csv(
                self.source,
                read_options=csv.ReadOptions(block_size=self.block_bytes),
                convert_options=csv.ConvertOptions(column_types=types),
            )
        except pa.ArrowInvalid as error:
            raise ValueError(_csv_problem(self.source, error)) from None
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as error:
                raise ValueError(_csv_problem(self.source, error)) from None
            if batch.num_rows == 0:
                continue
            X = np.empty((batch.num_rows, len(self.feature_names)), self.dtype)
            for j, name in enumerate(self.feature_names):
                X[:, j] = batch.column(name).to_numpy(zero_copy_only=False)
            labels = batch.column(label).to_numpy(zero_copy_only=False).astype(np.float64)
            yield X, labels

    def _check_finite(self, X, labels):
        """NaN or inf (an empty CSV cell reads as NaN) named by its row (and CSV line)."""
        if not np.isfinite(labels).all():
            row = int(np.flatnonzero(~np.isfinite(labels))[0])
            raise ValueError(f"{self._where(row)} has an empty, NaN or infinite label")
        values = X.data if sp.issparse(X) else X
        if not np.isfinite(values).all():
            if sp.issparse(X):
                bad = int(np.flatnonzero(~np.isfinite(values))[0])
                row = int(np.searchsorted(X.indptr, bad, "right")) - 1
            else:
                row = int(np.flatnonzero(~np.isfinite(X).all(axis=1))[0])
            raise ValueError(
                f"{self._where(row)} holds an empty cell, NaN or an infinite value; training "
                "needs finite values"
            )

    def _where(self, row_in_block):
        row = self.n_rows + row_in_block + 1
        if self.kind == "csv":  # the header is line 1 (a quoted newline would shift this)
            return f"{self.source}, line {row + 1}"
        return f"{self.source}: row {row} (counting rows from 1)"

    def _check_columns(self, max_column, indices):
        if indices.dtype != np.int32 or max_column > _INT32_MAX:
            raise ValueError(
                f"{self.source}: a feature index beyond 2**31 - 1; the cache stores int32 indices"
            )
        if self.n_features is not None:
            if max_column >= self.n_features:
                raise ValueError(
                    f"{self.source}: feature index {max_column + (1 if self.one_based else 0)} "
                    f"is beyond n_features={self.n_features}"
                )
            return self.n_features
        return max(max_column, 0) + 1

    def _write(self, X, labels, rows, writers, counts):
        """Send the block's rows to their buckets; returns which are held out (or None)."""
        draws = _bucket_draws(rows, self.seed)
        buckets = (draws % np.uint64(self.n_train_buckets)).astype(np.int64)
        held_out = None
        if self.holdout:
            held_out = (rows + np.uint64(1)) % np.uint64(self.holdout) == 0
            holdout_bucket = (draws >> np.uint64(32)) % np.uint64(self.n_holdout_buckets)
            buckets[held_out] = self.n_train_buckets + holdout_bucket[held_out].astype(np.int64)
        for part, mask in ((0, None if held_out is None else ~held_out), (1, held_out)):
            if self.too_many_labels or (part == 1 and held_out is None):
                break
            values, found = np.unique(labels if mask is None else labels[mask], return_counts=True)
            for value, count in zip(values.tolist(), found.tolist(), strict=True):
                counts[part][value] = counts[part].get(value, 0) + count
            if (
                len(counts[part]) > MAX_CLASSES
                or len(set(counts[0]) | set(counts[1])) > MAX_CLASSES
            ):
                # targets, not classes: counting them would hold a number per distinct value
                self.too_many_labels = True
                counts[0].clear()
                counts[1].clear()
        order = np.argsort(buckets, kind="stable")
        grouped = X[order]
        grouped_labels = labels[order]
        starts = np.concatenate(([0], np.cumsum(np.bincount(buckets, minlength=len(writers)))))
        for b in np.flatnonzero(np.diff(starts)):
            first, last = starts[b], starts[b + 1]
            if not sp.issparse(grouped):
                writers[b].append(grouped[first:last], grouped_labels[first:last])
                continue
            offsets = grouped.indptr
            low, high = offsets[first], offsets[last]
            writers[b].append(
                grouped.data[low:high],
                grouped_labels[first:last],
                grouped.indices[low:high],
                offsets[first + 1 : last + 1].astype(np.int64) - low,
            )
        return held_out

    def _finish(self, folder, writers, counts):
        from fastsgd import __version__

        n_features = self.n_features
        if n_features is None:
            n_features = max(self.max_column, 0) + 1
        classes = None if self.too_many_labels else sorted(set(counts[0]) | set(counts[1]))
        buckets = [
            {
                "name": writer.name,
                "n_rows": writer.n_rows,
                "n_nonzeros": writer.n_nonzeros,
                "holdout": b >= self.n_train_buckets,
            }
            for b, writer in enumerate(writers)
        ]
        n_holdout_rows = sum(bucket["n_rows"] for bucket in buckets if bucket["holdout"])
        csv_source = self.kind == "csv"
        decided = "given" if self.zero_based_given else "from the first block"
        manifest = {
            "format": "fastsgd-training-cache",
            "version": CACHE_FORMAT,
            "fastsgd_version": __version__,
            "source": self.signature,
            "source_format": self.kind,
            "layout": "dense" if csv_source else "csr",
            "zero_based": None if csv_source else not self.one_based,
            "zero_based_decided": None if csv_source else decided,
            "label_column": self.label_column if csv_source else None,
            "label_index": self.label_index if csv_source else None,
            "feature_names": self.feature_names,
            "n_features": n_features,
            "n_features_given": self.n_features_given,
            "dtype": self.dtype.name,
            "seed": self.seed,
            "holdout": self.holdout,
            "n_train_buckets": self.n_train_buckets,
            "n_buckets_given": self.n_buckets_given,
            "n_holdout_buckets": self.n_holdout_buckets,
            "n_rows": self.n_rows,
            "n_train_rows": self.n_rows - n_holdout_rows,
            "n_holdout_rows": n_holdout_rows,
            "n_nonzeros": sum(bucket["n_nonzeros"] for bucket in buckets),
            "classes": classes,
            "class_counts": None if classes is None else [counts[0].get(c, 0) for c in classes],
            "holdout_class_counts": (
                None if classes is None else [counts[1].get(c, 0) for c in classes]
            ),
            "buckets": buckets,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        if self.directory.exists():  # an earlier cache (checked in __init__), or an empty folder
            shutil.rmtree(self.directory)
        os.replace(folder, self.directory)
        return open_cache(self.directory)


# -- CSV sources --------------------------------------------------------------------------------


def is_csv(path) -> bool:
    """Whether ``path`` names a CSV file (``.csv``, also ``.csv.gz`` and ``.csv.bz2``)."""
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    return bool(suffixes) and (
        suffixes[-1] == ".csv" or (len(suffixes) > 1 and suffixes[-2] == ".csv")
    )


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.csv
    except ImportError:
        raise ImportError(
            "reading a CSV file into a training cache needs pyarrow: python -m pip install "
            "'fastsgd[files]' (or pyarrow)"
        ) from None
    return pyarrow, pyarrow.csv


def _csv_header_names(path):
    """The CSV file's column names (its first line)."""
    import csv
    import io

    with _open(path) as stream:
        first = stream.readline()
    return next(csv.reader(io.StringIO(first.decode("utf-8-sig"))), [])


def _csv_header(path, label_column):
    """(the feature columns' names, the label column's index)."""
    names = _csv_header_names(path)
    if isinstance(label_column, str) and label_column not in names:
        if label_column.lstrip("-").isdigit():  # an index typed on the command line
            label_column = int(label_column)
    if isinstance(label_column, str) and label_column in names:
        index = names.index(label_column)
    elif isinstance(label_column, int) and -len(names) <= label_column < len(names):
        index = label_column % len(names)
    else:
        raise ValueError(
            f"{path}: no label column {label_column!r}; the header names {names!r} (pass the "
            "label column's name or index)"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{path}: the header names columns {repeated!r} more than once")
    features = [name for k, name in enumerate(names) if k != index]
    if not features:
        raise ValueError(f"{path}: the header names no feature column beside the label")
    return features, index


def _csv_problem(path, error):
    """pyarrow's conversion error, placed at its line (pyarrow names the column only)."""
    import csv
    import io
    import re

    message = str(error)
    column = re.search(r"In CSV column #(\d+)", message)
    if column is not None:
        k = int(column.group(1))
        with _open(path) as stream:
            reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
            next(reader, None)
            for line, cells in enumerate(reader, start=2):
                if k < len(cells) and cells[k].strip():
                    try:
                        float(cells[k])
                    except ValueError:
                        return (
                            f"{path}, line {line}: column {k + 1} holds {cells[k]!r}, not a number"
                        )
    return f"{path}: {message.splitlines()[0]}"
