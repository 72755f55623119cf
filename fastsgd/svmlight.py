"""A streaming svmlight / libsvm reader: scikit-learn's ``load_svmlight_file``, compiled.

``load_svmlight`` returns what ``sklearn.datasets.load_svmlight_file`` returns (a CSR matrix
and the labels, values equal bit for bit) and ``iter_svmlight_chunks`` yields the file as CSR
chunks, one per block, without holding the whole file.

The file (plain, or ``.gz`` / ``.bz2`` through Python's ``gzip`` and ``bz2``) is read in blocks
of ``block_bytes``; each block is cut after its last newline and the rest carried over to the
next one, and a block that holds no newline grows until it holds one complete line. The
compiled kernels in ``fastsgd.kernels.svmlight`` parse the complete lines; the few numbers they
leave (more than 2**53 in the mantissa, large exponents, ``inf``, ``nan``, malformed text) are
parsed here with Python's ``float``, as scikit-learn parses every number.

A malformed file is refused with a ``ValueError`` that names the file and the 1-based line
number: a line without a label or with several (``1,2 3:1``), a feature that is not
``index:value``, a number that ``float`` refuses, a negative index, index 0 in a one-based
file, and indices that are not strictly increasing.
"""

from __future__ import annotations

import bz2
import gzip
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fastsgd.kernels import svmlight as _kernels

DEFAULT_BLOCK_BYTES = 16 * 2**20

_INT32_MAX = np.iinfo(np.int32).max
_INT64_MAX = np.iinfo(np.int64).max
# Slow tokens are rare; a full buffer only makes the kernel stop and resume.
_SLOW_TOKEN_CAPACITY = 4096

_ERROR_MESSAGES = {
    _kernels.ERROR_NO_LABEL: "the line has no label (its first token is index:value)",
    _kernels.ERROR_MULTILABEL: "multilabel lines (labels separated by commas) are not supported",
    _kernels.ERROR_MALFORMED_PAIR: "a feature is not of the form index:value",
    _kernels.ERROR_MALFORMED_INDEX: "a feature index is not an integer",
    _kernels.ERROR_NEGATIVE_INDEX: "a feature index is negative",
    _kernels.ERROR_ZERO_INDEX: "feature index 0 in a one-based file (zero_based=False)",
    _kernels.ERROR_UNSORTED_INDICES: "feature indices are not sorted and unique",
    _kernels.ERROR_INDEX_OVERFLOW: "a feature index does not fit in 64 bits",
}


def _open(path):
    suffix = Path(path).suffix
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    return open(path, "rb")


def _read_blocks(stream, block_bytes):
    """Yield ``(buffer, stop)``: ``buffer[:stop]`` is complete lines (or the file's last one).

    The caller is done with ``buffer`` when it asks for the next block: the carried-over bytes
    are then moved to its front.
    """
    buffer = bytearray(block_bytes)
    filled = 0
    at_end = False
    while True:
        with memoryview(buffer) as view:
            while filled < len(buffer) and not at_end:
                n_read = stream.readinto(view[filled:])
                if n_read:
                    filled += n_read
                else:
                    at_end = True
        if filled == 0:
            return
        if at_end:
            yield buffer, filled
            return
        cut = buffer.rfind(b"\n", 0, filled) + 1
        if cut == 0:
            # no complete line yet: a line longer than the block
            grown = bytearray(2 * len(buffer))
            grown[:filled] = buffer[:filled]
            buffer = grown
            continue
        yield buffer, cut
        carried = filled - cut
        buffer[:carried] = buffer[cut:filled]
        filled = carried


class SvmlightFormatError(ValueError):
    """A malformed svmlight/libsvm file: the message names the file and the 1-based line.

    A ``ValueError``; its attributes ``path``, ``line`` and ``reason`` say the same for code
    that words its own message (``fastsgd.io`` does).

    Parameters
    ----------
    path : str
        The file.
    line : int
        The 1-based line number of the first line that cannot be read.
    reason : str
        What is wrong with it.

    Examples
    --------
    >>> error = SvmlightFormatError("data.svm", 3, "a feature is not of the form index:value")
    >>> str(error), isinstance(error, ValueError), error.line
    ('data.svm, line 3: a feature is not of the form index:value', True, 3)
    """

    def __init__(self, path: str, line: int, reason: str):
        super().__init__(f"{path}, line {line}: {reason}")
        self.path, self.line, self.reason = path, line, reason


class _LineError(Exception):
    """A fault at a line counted from the block's first line (1), for the caller to place."""

    def __init__(self, line_in_block, message):
        super().__init__(line_in_block, message)
        self.line_in_block = line_in_block
        self.message = message


def _resolve_slow_tokens(text, n_slow, slow, values, labels):
    slots, starts, stops, lines = slow
    # float32 like scikit-learn: the double rounded to float32, inf beyond its range
    with np.errstate(over="ignore"):
        for k in range(n_slow):
            token = bytes(text[starts[k] : stops[k]])
            try:
                number = float(token)
            except ValueError:
                raise _LineError(int(lines[k]), f"malformed number {token!r}") from None
            slot = int(slots[k])
            if slot >= 0:
                values[slot] = number
            else:
                labels[-1 - slot] = number


def _parse_block(text, value_dtype, one_based, index_dtype):
    """Parse a block of complete lines into a CSR chunk; runs on a worker thread.

    Returns ``(values, indices, indptr, labels)``, the block's line count and its smallest
    and largest index as written; a fault raises ``_LineError``.
    """
    stop = len(text)
    text = np.frombuffer(text, dtype=np.uint8)
    # Estimates, not bounds (a pair takes 8 bytes or more, a row 64): the kernel stops when an
    # array is full and it grows; the pages of an over-estimate are never touched.
    values = np.empty(stop // 8 + 16, value_dtype)
    indices = np.empty(len(values), index_dtype)
    labels = np.empty(stop // 64 + 16, np.float64)
    indptr = np.empty(len(labels) + 1, np.int32)
    indptr[0] = 0
    slow = [np.empty(_SLOW_TOKEN_CAPACITY, np.int64) for _ in range(4)]
    position = n_rows = nnz = 0
    line_number = 1
    min_index, max_index = _INT64_MAX, -1
    while True:
        max_stored_index = _INT32_MAX if indices.dtype == np.int32 else _INT64_MAX
        (position, n_rows, nnz, n_slow, line_number, status, low, high) = (
            _kernels.parse_svmlight_lines(
                text,
                position,
                stop,
                line_number,
                one_based,
                max_stored_index,
                values,
                indices,
                indptr,
                labels,
                n_rows,
                nnz,
                *slow,
            )
        )
        _resolve_slow_tokens(text, n_slow, slow, values, labels)
        min_index, max_index = min(min_index, int(low)), max(max_index, int(high))
        if status == _kernels.PARSED_ALL:
            break
        if status == _kernels.SLOW_TOKENS_FULL:
            if n_slow == 0:  # one line holds more slow tokens than the buffer
                slow = [np.empty(2 * len(slow[0]), np.int64) for _ in range(4)]
        elif status == _kernels.NEEDS_INT64_INDICES:
            indices = indices.astype(np.int64)
        elif status == _kernels.VALUES_FULL:  # maybe again, if one line holds more
            values, indices = _grown(values, nnz), _grown(indices, nnz)
        elif status == _kernels.ROWS_FULL:
            labels, indptr = _grown(labels, n_rows), _grown(indptr, n_rows + 1)
        else:
            raise _LineError(line_number, _ERROR_MESSAGES[status])
    chunk = tuple(
        _shrunk(array, size)
        for array, size in ((values, nnz), (indices, nnz), (indptr, n_rows + 1), (labels, n_rows))
    )
    return chunk, line_number - 1, min_index, max_index


def _grown(array, filled):
    """``array`` at twice its length, its first ``filled`` items kept."""
    grown = np.empty(2 * len(array), array.dtype)
    grown[:filled] = array[:filled]
    return grown


def _shrunk(array, size):
    """``array[:size]`` without the unused tail: shrunk in place (realloc) when it can be."""
    if array.base is None and array.flags.owndata:
        array.resize(size, refcheck=False)
        return array
    return array[:size].copy()


class _IndexRange:
    """The smallest and largest index of the file as written, gathered chunk by chunk."""

    def __init__(self):
        self.min_index = _INT64_MAX
        self.max_index = -1


def _parse_dtype(dtype):
    dtype = np.dtype(dtype)
    # scikit-learn parses float32 as float32 and everything else as float64, then converts
    return dtype, (dtype if dtype == np.float32 else np.dtype(np.float64))


def _check_zero_based(zero_based):
    if zero_based not in (True, False, "auto"):
        raise ValueError(f"zero_based must be True, False or 'auto', got {zero_based!r}")


def _iter_parsed(path, block_bytes, value_dtype, one_based, index_dtype, index_range=None):
    """Yield the file's CSR chunks in order; blocks are parsed on a pool of threads."""
    if block_bytes < 1:
        raise ValueError(f"block_bytes must be positive, got {block_bytes}")
    path = os.fspath(path)
    index_range = _IndexRange() if index_range is None else index_range
    n_workers = os.cpu_count() or 1
    line_number = 1  # of the next chunk's first line

    def finish(future):
        nonlocal line_number
        try:
            chunk, n_newlines, low, high = future.result()
        except _LineError as error:
            line = line_number + error.line_in_block - 1
            raise SvmlightFormatError(path, line, error.message) from None
        line_number += n_newlines
        index_range.min_index = min(index_range.min_index, low)
        index_range.max_index = max(index_range.max_index, high)
        return chunk

    # the kernels release the GIL; a few blocks in flight keep every core busy
    with _open(path) as stream, ThreadPoolExecutor(n_workers) as pool:
        pending = deque()
        for buffer, stop in _read_blocks(stream, int(block_bytes)):
            text = bytes(memoryview(buffer)[:stop])  # the buffer is reused for the next block
            pending.append(pool.submit(_parse_block, text, value_dtype, one_based, index_dtype))
            if len(pending) > n_workers:
                yield finish(pending.popleft())
        while pending:
            yield finish(pending.popleft())


def _file_is_one_based(path, block_bytes, value_dtype):
    """scikit-learn's 'auto': one-based unless some index is 0 (and zero-based when empty)."""
    index_range = _IndexRange()
    for _ in _iter_parsed(path, block_bytes, value_dtype, False, np.int64, index_range):
        pass
    return index_range.max_index >= 0 and index_range.min_index > 0


def iter_svmlight_chunks(
    path, *, block_bytes=DEFAULT_BLOCK_BYTES, dtype=np.float64, zero_based="auto"
) -> Iterator[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]]:
    """Read an svmlight / libsvm file block by block, as CSR chunks.

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``.gz`` and ``.bz2`` files are decompressed.
    block_bytes : int, default=16 MiB
        How much to read at a time; a block grows when one line is longer.
    dtype : numpy dtype, default=numpy.float64
        The values' dtype: float64 or float32 are parsed directly, any other is parsed as
        float64 and converted, as scikit-learn does.
    zero_based : bool or 'auto', default='auto'
        Whether the indices start at 0. 'auto' is scikit-learn's rule, one-based unless some
        index is 0: it reads the whole file once before the first chunk to find out (and so
        refuses a malformed file before yielding anything).

    Yields
    ------
    X_chunk : tuple of (data, indices, indptr)
        The chunk's rows in CSR form: ``data`` of ``dtype``, column ``indices`` int32 (int64
        once an index exceeds int32), ``indptr`` int32 counted from the chunk's first row.
    y_chunk : numpy.ndarray of float64
        The chunk's labels.

    Raises
    ------
    ValueError
        If the file is malformed; the message names the file and the 1-based line number.

    See Also
    --------
    load_svmlight : The whole file as one CSR matrix.

    Examples
    --------
    >>> import tempfile, os
    >>> from fastsgd.svmlight import iter_svmlight_chunks
    >>> path = os.path.join(tempfile.mkdtemp(), "data.svm")
    >>> with open(path, "w") as file:
    ...     _ = file.write("1 1:0.5 3:2\\n-1 2:1\\n1 qid:7 1:1 # a comment\\n")
    >>> for (data, indices, indptr), y in iter_svmlight_chunks(path, block_bytes=16):
    ...     print(data, indices, indptr, y)
    [0.5 2. ] [0 2] [0 2] [1.]
    [1.] [1] [0 1] [-1.]
    [1.] [0] [0 1] [1.]
    """
    _check_zero_based(zero_based)
    dtype, value_dtype = _parse_dtype(dtype)
    if zero_based == "auto":
        one_based = _file_is_one_based(path, block_bytes, value_dtype)
    else:
        one_based = not zero_based
    for data, indices, indptr, labels in _iter_parsed(
        path, block_bytes, value_dtype, one_based, np.int32
    ):
        if len(labels):  # a block of blank and comment lines holds no rows
            yield (data.astype(dtype, copy=False), indices, indptr), labels


def load_svmlight(
    path, n_features=None, dtype=np.float64, zero_based="auto", *, block_bytes=DEFAULT_BLOCK_BYTES
):
    """Load an svmlight / libsvm file like ``sklearn.datasets.load_svmlight_file``, compiled.

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``.gz`` and ``.bz2`` files are decompressed.
    n_features : int, optional
        The number of columns; by default the largest index plus one.
    dtype : numpy dtype, default=numpy.float64
        X's dtype (float32 values are the float64 values rounded to float32).
    zero_based : bool or 'auto', default='auto'
        Whether the indices start at 0; 'auto' (scikit-learn's rule): one-based unless some
        index is 0. Decided once the whole file is read, so it costs nothing here.
    block_bytes : int, default=16 MiB
        How much of the file to read at a time.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        The features.
    y : numpy.ndarray of shape (n_samples,)
        The labels, float64.

    Raises
    ------
    ValueError
        If the file is malformed (the message names the file and the 1-based line number) or
        holds an index beyond ``n_features``.

    See Also
    --------
    iter_svmlight_chunks : The file chunk by chunk.

    Examples
    --------
    >>> import tempfile, os
    >>> from fastsgd.svmlight import load_svmlight
    >>> path = os.path.join(tempfile.mkdtemp(), "data.svm")
    >>> with open(path, "w") as file:
    ...     _ = file.write("1 1:0.5 3:2\\n-1 2:1e-320\\n")
    >>> X, y = load_svmlight(path)
    >>> X.toarray(), y
    (array([[5.e-001, 0.e+000, 2.e+000],
           [0.e+000, 1.e-320, 0.e+000]]), array([ 1., -1.]))
    """
    _check_zero_based(zero_based)
    dtype, value_dtype = _parse_dtype(dtype)
    wide = n_features is not None and n_features - 1 > _INT32_MAX
    index_range = _IndexRange()
    chunks = list(
        _iter_parsed(
            path,
            block_bytes,
            value_dtype,
            zero_based is False,
            np.int64 if wide else np.int32,
            index_range,
        )
    )
    values = np.concatenate([chunk[0] for chunk in chunks]) if chunks else np.empty(0, dtype)
    index_dtype = np.result_type(np.int32, *(chunk[1].dtype for chunk in chunks))
    indices = (
        np.concatenate([chunk[1] for chunk in chunks]).astype(index_dtype, copy=False)
        if chunks
        else np.empty(0, np.int32)
    )
    labels = np.concatenate([chunk[3] for chunk in chunks]) if chunks else np.empty(0)
    n_rows = len(labels)
    nnz = len(values)
    indptr = np.empty(n_rows + 1, np.int32 if nnz <= _INT32_MAX else np.int64)
    indptr[0] = 0
    row = offset = 0
    for chunk in chunks:
        chunk_indptr = chunk[2]
        n_chunk_rows = len(chunk_indptr) - 1
        np.add(chunk_indptr[1:], offset, out=indptr[row + 1 : row + 1 + n_chunk_rows])
        row += n_chunk_rows
        offset += int(chunk_indptr[-1])
    del chunks

    if zero_based == "auto" and nnz > 0 and index_range.min_index > 0:
        indices -= 1
        max_column = index_range.max_index - 1
    elif zero_based is False:
        max_column = index_range.max_index - 1
    else:
        max_column = index_range.max_index
    n_columns = max(max_column, 0) + 1
    if n_features is None:
        n_features = n_columns
    elif n_features < n_columns:
        raise ValueError(
            f"n_features was set to {n_features}, but input file contains {n_columns} features"
        )
    if indices.dtype == np.int32 and n_features - 1 > _INT32_MAX:
        indices = indices.astype(np.int64)
        indptr = indptr.astype(np.int64)
    if indices.dtype != indptr.dtype:
        indptr = indptr.astype(indices.dtype)
    X = sp.csr_matrix((values.astype(dtype, copy=False), indices, indptr), (n_rows, n_features))
    return X, labels
