"""Data loading: the demo dataset shipped inside the package, and data files for the CLI.

``load_a9a`` returns the a9a dataset, which ships inside the package (``fastsgd/data``): the
LIBSVM ``a9a`` training set (32,561 rows) and ``a9a.t`` test set (16,281 rows), 123 binary
features, from the UCI Adult (Census Income) data (CC BY 4.0; see fastsgd/data/LICENSE.md for
the sources and the preprocessing). It is what ``fastsgd demo`` and the documentation's
examples train on.

``load_data`` reads the data files of the command line (``fastsgd train``, ``fastsgd
predict``): svmlight / libsvm text (also gzip- or bzip2-compressed), CSV with a header row,
and NumPy's ``.npy`` and ``.npz``. It refuses a malformed file with a ``ValueError`` that names
the file and, where one line is at fault, its 1-based line number as an editor shows it
(``data.svm, line 7: ...``): text that does not parse, ragged CSV rows, empty cells, NaN or
infinite values, an empty file.

``A9A_FEATURES`` (123) is a9a's number of features.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import itertools
import zipfile
import zlib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np

from fastsgd.svmlight import SvmlightFormatError, load_svmlight

A9A_FEATURES = 123

# The failures of decompressing a .gz/.bz2 file that is damaged or cut short.
_DECOMPRESSION_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def load_a9a(split: str = "train", *, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Load the shipped a9a data (UCI Adult, CC BY 4.0; see fastsgd/data/LICENSE.md).

    Parameters
    ----------
    split : {'train', 'test'}, default='train'
        The training set (``a9a``, 32,561 rows) or the test set (``a9a.t``, 16,281 rows).
    dtype : numpy dtype, default=numpy.float64
        X's dtype.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 123)
        The features, dense, C-contiguous, of ``dtype``; every value 0 or 1.
    y : numpy.ndarray of shape (n_samples,)
        The labels in {0, 1} (LIBSVM's -1 mapped to 0), int64.

    Raises
    ------
    ValueError
        If ``split`` is neither ``'train'`` nor ``'test'``.

    See Also
    --------
    load_data : Reading a data file.

    Notes
    -----
    The test file has no row with feature 123; it is read with ``n_features=123``, so both
    splits have the same columns.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.io import load_a9a
    >>> X, y = load_a9a()
    >>> X.shape, X.dtype, X.flags.c_contiguous
    ((32561, 123), dtype('float64'), True)
    >>> np.unique(y), round(float(y.mean()), 3)  # the share of label 1
    (array([0, 1]), 0.241)
    >>> X_test, y_test = load_a9a("test", dtype=np.float32)
    >>> X_test.shape, X_test.dtype
    ((16281, 123), dtype('float32'))
    """
    names = {"train": "a9a.gz", "test": "a9a.t.gz"}
    if split not in names:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    source = resources.files("fastsgd") / "data" / names[split]
    with resources.as_file(source) as path:
        X, y = load_svmlight(path, n_features=A9A_FEATURES, dtype=dtype)
    return np.ascontiguousarray(X.toarray()), (y > 0).astype(np.int64)


def load_data(
    path: str | Path,
    *,
    label_column: str | int = "label",
    n_features: int | None = None,
    dtype=np.float64,
    sparse: bool = False,
    zero_based: bool | str = "auto",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Load a dataset file for the command line; returns ``(X, y)``, y None when unlabelled.

    The format follows the file's extension:

    - ``.npy``: X only. ``.npz``: arrays ``X`` and, if present, ``y`` (loaded without pickle).
    - ``.csv``: UTF-8, a header row; the label is the column named ``label_column`` (or at
      that index); a file without that column is unlabelled. Labels may be numbers or text.
      Blank lines are skipped.
    - anything else: svmlight / libsvm text (``fastsgd.svmlight.load_svmlight``, compiled, reads
      it as scikit-learn's ``load_svmlight_file`` does; ``.gz`` and ``.bz2`` are decompressed).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    label_column : str or int, default='label'
        CSV only: the label column's name, or its index (negative counts from the end; a
        string of digits is an index too).
    n_features : int, optional
        The number of columns X must have. svmlight: X gets ``n_features`` columns (a test
        file may not mention the last features); a feature index beyond them is an error.
    dtype : numpy dtype, default=numpy.float64
        X's dtype.
    sparse : bool, default=False
        svmlight only: keep X a CSR matrix rather than densify it (the command line does
        for LogisticRegression, SGDClassifier and SGDRegressor).
    zero_based : bool or 'auto', default='auto'
        svmlight only: whether feature indices start at 0 (``'auto'``: when some index is 0).

    Returns
    -------
    X : numpy.ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)
        The features, C-contiguous (or CSR) in ``dtype``.
    y : numpy.ndarray of shape (n_samples,) or None
        The labels; None for an unlabelled file. svmlight and CSV: int64 when they are
        whole numbers, float64 for other numbers, CSV text as strings; ``.npz``: ``y`` as
        stored.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is malformed; the message names the file, and the line where one is at
        fault. NaN and infinite values are refused, as the estimators cannot train or predict
        on them.

    See Also
    --------
    load_a9a : The shipped a9a data.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from fastsgd.io import load_data
    >>> folder = tempfile.TemporaryDirectory()
    >>> directory = Path(folder.name)

    svmlight text: a label, then ``index:value`` pairs, indices from 1 here:

    >>> _ = (directory / "data.svm").write_text("1 1:0.5 3:2\\n-1 2:1.5\\n")
    >>> X, y = load_data(directory / "data.svm")
    >>> X
    array([[0.5, 0. , 2. ],
           [0. , 1.5, 0. ]])
    >>> y
    array([ 1, -1])
    >>> X, y = load_data(directory / "data.svm", n_features=5, sparse=True)
    >>> X.shape, X.nnz
    ((2, 5), 3)

    CSV with a header row; text labels stay text, and a file without the label column is
    unlabelled:

    >>> _ = (directory / "data.csv").write_text("f0,f1,label\\n1.5,2,cat\\n0,-1,dog\\n")
    >>> X, y = load_data(directory / "data.csv")
    >>> X
    array([[ 1.5,  2. ],
           [ 0. , -1. ]])
    >>> y
    array(['cat', 'dog'], dtype='<U3')
    >>> _ = (directory / "unlabelled.csv").write_text("f0,f1\\n1.5,2\\n0,-1\\n")
    >>> X, y = load_data(directory / "unlabelled.csv")
    >>> X.shape, y
    ((2, 2), None)

    NumPy's ``.npz``, with arrays ``X`` and ``y``:

    >>> np.savez(directory / "data.npz", X=np.eye(2), y=np.array([0, 1]))
    >>> load_data(directory / "data.npz")
    (array([[1., 0.],
           [0., 1.]]), array([0, 1]))

    A malformed file is refused, with its line:

    >>> _ = (directory / "bad.svm").write_text("1 1:0.5\\n1 2:x\\n")
    >>> load_data(directory / "bad.svm")
    Traceback (most recent call last):
    ...
    ValueError: .../bad.svm, line 2: not readable as svmlight/libsvm text: the value in '2:x'
    is not a number: '1 2:x'
    >>> folder.cleanup()
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    suffix = path.suffix.lower()
    where = _array_position
    if suffix in (".npy", ".npz"):
        X, y = _load_numpy(path, suffix)
    elif suffix == ".csv":
        X, y, where = _load_csv(path, label_column)
    else:
        X, y, where = _load_svmlight(path, n_features, dtype, zero_based)
    if not hasattr(X, "tocsr"):
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{path}: X holds {X.dtype} values; it must hold numbers")
        X = np.ascontiguousarray(X, dtype=dtype)
    if X.ndim != 2:
        raise ValueError(f"{path}: X must be 2-D, got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{path}: no data rows")
    if X.shape[1] == 0:
        raise ValueError(f"{path}: no feature columns")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{path}: {X.shape[1]} features, but {n_features} are needed")
    if y is not None and (y.ndim != 1 or len(y) != X.shape[0]):
        raise ValueError(f"{path}: labels of shape {y.shape} for {X.shape[0]} rows")
    _refuse_non_finite(path, X, y, where, dtype)
    if not sparse and hasattr(X, "tocsr"):
        X = X.toarray()
    return X, y


def _array_position(row: int, column: int | None) -> str:
    return f"row {row} of X" if column is None else f"X[{row}, {column}]"


def _refuse_non_finite(path, X, y, where: Callable[[int, int | None], str], dtype) -> None:
    """Raise at the first NaN or infinity in X or a numeric y, located by ``where``."""
    values = X.data if hasattr(X, "tocsr") else X
    # one reduction on the good path; a finite sum proves every value finite (an overflowing
    # sum of finite values only costs the exact search below)
    if not np.isfinite(values.sum()):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            if hasattr(X, "tocsr"):
                row = int(np.searchsorted(X.indptr, bad[0], side="right") - 1)
                column, value = int(X.indices[bad[0]]), X.data[bad[0]]
            else:
                row, column = divmod(int(bad[0]), X.shape[1])
                value = X[row, column]
            big = " (or too large for float32)" if np.dtype(dtype) == np.float32 else ""
            raise ValueError(
                f"{path}, {where(row, column)}: the value {value} is NaN or infinite{big}; "
                "features must be finite numbers"
            )
    if y is not None and y.dtype.kind == "f" and not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"{path}, {where(row, None)}: the label {y[row]} is not a finite number")


def _load_numpy(path: Path, suffix: str):
    try:
        loaded = np.load(path, allow_pickle=False)
        if suffix == ".npy":
            if not isinstance(loaded, np.ndarray):
                loaded.close()
                raise ValueError("it is an .npz archive, not one array")
            return loaded, None
        if isinstance(loaded, np.ndarray):
            raise ValueError("it holds one array, not an .npz archive")
        with loaded:
            if "X" not in loaded.files:
                raise ValueError("an .npz data file needs an array named 'X'")
            X, y = loaded["X"], (loaded["y"] if "y" in loaded.files else None)
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as error:
        if isinstance(error, OSError) and error.errno is not None:
            raise  # the file system's own error (permissions, ...); it names the file
        raise ValueError(f"{path}: not a readable {suffix} data file ({error})") from error
    if not all(isinstance(array, np.ndarray) for array in (X, y) if array is not None):
        raise ValueError(f"{path}: the members 'X' and 'y' must be .npy arrays")
    return X, y


# -- CSV ---------------------------------------------------------------------------------------


def _load_csv(path: Path, label_column: str | int):
    text = _utf8(path, path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [row for row in reader if row]  # blank lines are skipped, as NumPy and pandas do
    except csv.Error as error:
        raise ValueError(f"{path}, line {reader.line_num}: not readable as CSV ({error})") from None

    def line(record: int) -> int:
        return _csv_line(text, record)

    if not rows:
        raise ValueError(f"{path}: the file is empty; a CSV data file needs a header row and rows")
    header, body = rows[0], rows[1:]
    if not body:
        raise ValueError(f"{path}: a header row but no data rows")
    width = len(header)
    ragged = next((k for k, row in enumerate(body) if len(row) != width), None)
    if ragged is not None:
        raise ValueError(
            f"{path}, line {line(ragged + 1)}: {len(body[ragged])} cells, but the header on line "
            f"{line(0)} has {width}"
        )
    if isinstance(label_column, int) or str(label_column).lstrip("-").isdigit():
        index = int(label_column)
        if not -width <= index < width:
            raise ValueError(f"{path}: no label column {index}; the header has {width} columns")
        index %= width
    else:
        index = header.index(label_column) if label_column in header else None
    columns = [i for i in range(width) if i != index]
    try:
        X = np.array([[float(row[i]) for i in columns] for row in body], dtype=np.float64)
    except ValueError:
        k, i = next((k, i) for k, row in enumerate(body) for i in columns if not _is_number(row[i]))
        raise ValueError(
            f"{path}, line {line(k + 1)}, column {header[i]!r}: {body[k][i]!r} is not a number "
            "(the feature columns must be numbers)"
        ) from None

    def where(row: int, column: int | None) -> str:
        name = header[index if column is None else columns[column]]
        return f"line {line(row + 1)}, column {name!r}"

    if index is None:
        return X, None, where
    labels = np.array([row[index] for row in body])
    empty = next((k for k, label in enumerate(labels) if not label.strip()), None)
    if empty is not None:
        raise ValueError(f"{path}, {where(empty, None)}: the label is missing")
    try:
        numeric = labels.astype(np.float64)
    except ValueError:
        return X, labels, where  # text labels stay text
    if np.isfinite(numeric).all() and np.all(numeric == np.round(numeric)):
        return X, numeric.astype(np.int64), where
    return X, numeric, where  # a NaN or infinity is refused by load_data, with its line


def _utf8(path: Path, data: bytes) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped); else the line of the bad byte."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as error:
        at = start + error.start
        line = data.count(b"\n", 0, at) + 1
        raise ValueError(
            f"{path}, line {line}: byte {data[at]:#04x} is not UTF-8 "
            "text (save the file as UTF-8; a binary file is not CSV)"
        ) from None


def _csv_line(text: str, record: int) -> int:
    """The line on which CSV record ``record`` starts (0: the header; blank lines not counted)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start, seen = 1, 0
    for row in reader:
        if row:
            if seen == record:
                return start
            seen += 1
        start = reader.line_num + 1
    return start


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- svmlight / libsvm -------------------------------------------------------------------------


def _load_svmlight(path: Path, n_features: int | None, dtype, zero_based: bool | str):
    try:
        # n_features is checked below rather than by the reader, to name the line at fault
        X, y = load_svmlight(path, dtype=dtype, zero_based=zero_based)
    except ValueError as error:
        raise _svmlight_error(path, error, zero_based) from None
    except (OSError, *_DECOMPRESSION_ERRORS) as error:
        if isinstance(error, OSError) and error.errno is not None:
            raise  # the file system's own error (permissions, ...); it names the file
        raise ValueError(f"{path}: a damaged compressed file ({error})") from error

    def where(row: int, column: int | None) -> str:
        return f"line {_svmlight_row_line(path, row)}"

    if X.shape[1] > _SVMLIGHT_MAX_INDEX:
        _refuse_wide_index(path, zero_based)
    if n_features is not None and X.shape[1] > n_features:
        beyond = np.flatnonzero(X.indices >= n_features)[0]
        row = int(np.searchsorted(X.indptr, beyond, side="right") - 1)
        hint = ""
        if zero_based == "auto" and X.indices.min() == 0 and _has_index_zero(path, dtype):
            hint = " (the file has feature index 0, so its indices were read as starting at 0)"
        raise ValueError(
            f"{path}, {where(row, None)}: a feature index beyond the {n_features} features "
            f"expected{hint}"
        )
    if n_features is not None:
        X.resize((X.shape[0], n_features))  # the columns no line mentions
    if y.size and np.isfinite(y).all() and np.all(y == np.round(y)):
        y = y.astype(np.int64)  # libsvm writes class labels as numbers: -1, +1, 3
    return X, y, where


# scikit-learn's loader keeps indices in 32 bits and refuses a larger one as written; so do we
# (the compiled reader would take it, and a dense X that wide could not be held anyway)
_SVMLIGHT_MAX_INDEX = 2**31 - 1


def _svmlight_open(path: Path):
    """The file's decompressed bytes as a binary stream, as the reader opens it."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    return open(path, "rb")


def _svmlight_lines(path: Path):
    """The file's lines, newline dropped; stops quietly where a compressed file is damaged."""
    try:
        with _svmlight_open(path) as stream:
            for line in stream:
                yield line[:-1] if line.endswith(b"\n") else line
    except (OSError, *_DECOMPRESSION_ERRORS):
        return


def _svmlight_row_line(path: Path, row: int) -> int | str:
    """The line of data row ``row``: lines empty after dropping a ``#`` comment are no rows."""
    seen = -1
    for number, line in enumerate(_svmlight_lines(path), 1):
        if line.split(b"#", 1)[0].split():
            seen += 1
            if seen == row:
                return number
    return "?"


def _has_index_zero(path: Path, dtype) -> bool:
    X, _ = load_svmlight(path, dtype=dtype, zero_based=True)
    return X.nnz > 0 and X.indices.min() == 0


def _refuse_wide_index(path: Path, zero_based: bool | str) -> None:
    """Raise at the first line with an index beyond 32 bits (none: a zero-based 2**31 - 1)."""
    for number, line in enumerate(_svmlight_lines(path), 1):
        problem = _svmlight_problem(line, zero_based)
        if problem is not None:
            raise ValueError(
                f"{path}, line {number}: not readable as svmlight/libsvm text: {problem}: "
                f"{_show(line)}"
            )


def _svmlight_error(path: Path, error: ValueError, zero_based: bool | str) -> ValueError:
    """The reader's refusal (``<path>, line N: <reason>``), with the line shown and explained.

    The reader names the first line it cannot parse; ``_svmlight_problem`` says what is wrong
    with it in the words of the messages users know, and the reader's reason stands where it
    finds nothing (an index written with underscores, which the reader refuses).
    """
    if not isinstance(error, SvmlightFormatError):  # no line to blame
        return ValueError(f"{path}: not readable as svmlight/libsvm text ({error})")
    number, reason = error.line, error.reason
    line = next(itertools.islice(_svmlight_lines(path), number - 1, None), None)
    if line is None:
        return ValueError(f"{path}, line {number}: not readable as svmlight/libsvm text: {reason}")
    problem = _svmlight_problem(line, zero_based) or reason
    return ValueError(
        f"{path}, line {number}: not readable as svmlight/libsvm text: {problem}: {_show(line)}"
    )


def _show(raw: bytes, limit: int = 60) -> str:
    """Bytes of a file, quoted for a message: control and non-ASCII bytes as \\x escapes."""
    return "'" + repr(raw[:limit])[2:-1] + ("...'" if len(raw) > limit else "'")


def _svmlight_problem(line: bytes, zero_based: bool | str) -> str | None:
    """What is wrong with a line scikit-learn's loader refused, in words (None: not found)."""
    if b"\0" in line:
        return "binary data (a NUL byte)"
    tokens = line.split(b"#", 1)[0].split()
    if not tokens:
        return None
    label, features = tokens[0], tokens[1:]
    if not _is_number(label):
        return f"the label {_show(label)} is not a number"
    if features and features[0].startswith(b"qid"):
        if b":" not in features[0]:
            return f"{_show(features[0])} is not a qid:value pair"
        features = features[1:]
    previous = -1
    for token in features:
        shown = _show(token)
        index, colon, value = token.partition(b":")
        if not colon:
            return f"{shown} is not an index:value pair"
        try:
            number = int(index)
        except ValueError:
            return f"the feature index in {shown} is not a whole number"
        if number < 0 or (number == 0 and zero_based is False) or number >= 2**31:
            first = "0" if zero_based is True else "1" if zero_based is False else "0 or 1"
            return f"the feature index in {shown} is out of range (indices start at {first})"
        if number <= previous:
            return (
                f"the feature indices must increase along a line ({shown} comes after {previous})"
            )
        if not _is_number(value):
            return f"the value in {shown} is not a number"
        previous = number
    return None
