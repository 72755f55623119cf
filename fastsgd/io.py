"""Data loading: the demo dataset shipped inside the package, and data files for the CLI."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.datasets import load_svmlight_file

A9A_FEATURES = 123


def load_a9a(split: str = "train", *, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Load the shipped a9a data (UCI Adult, CC BY 4.0; see fastsgd/data/LICENSE.md).

    Returns ``(X, y)`` with X a dense C-contiguous (n_samples, 123) array of ``dtype`` and y the
    labels in {0, 1} (LIBSVM's -1 mapped to 0).
    """
    names = {"train": "a9a.gz", "test": "a9a.t.gz"}
    if split not in names:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    source = resources.files("fastsgd") / "data" / names[split]
    with resources.as_file(source) as path:
        X, y = load_svmlight_file(str(path), n_features=A9A_FEATURES, dtype=dtype)
    return np.ascontiguousarray(X.toarray()), (y > 0).astype(np.int64)


def load_data(
    path: str | Path,
    *,
    label_column: str | int = "label",
    n_features: int | None = None,
    dtype=np.float64,
    sparse: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Load a dataset file for the command line; returns ``(X, y)``, y None when unlabelled.

    By extension:
    - ``.npy``: X only. ``.npz``: arrays ``X`` and, if present, ``y`` (loaded without pickle).
    - ``.csv``: a header row; the label is the column named ``label_column`` (or at that
      index); a file without that column is unlabelled. Labels may be numbers or text.
    - anything else: svmlight / libsvm text (scikit-learn's loader), with ``n_features`` columns
      when given (a test file may not mention the last features). It stays a CSR matrix when
      ``sparse`` (for LogisticRegression), else it is densified.
    X comes back C-contiguous (or CSR) in ``dtype``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        X, y = np.load(path, allow_pickle=False), None
    elif suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            if "X" not in archive.files:
                raise ValueError(f"{path}: an .npz data file needs an array named 'X'")
            X = archive["X"]
            y = archive["y"] if "y" in archive.files else None
    elif suffix == ".csv":
        X, y = _load_csv(path, label_column)
    else:
        try:
            X, y = load_svmlight_file(str(path), n_features=n_features, dtype=dtype)
        except ValueError as error:
            raise ValueError(f"{path}: not readable as svmlight/libsvm text ({error})") from error
        if not sparse:
            X = X.toarray()
        if np.all(y == np.round(y)):  # libsvm writes class labels as numbers: -1, +1, 3
            y = y.astype(np.int64)
    if not hasattr(X, "tocsr"):
        X = np.ascontiguousarray(X, dtype=dtype)
    if X.ndim != 2:
        raise ValueError(f"{path}: X must be 2-D, got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{path}: {X.shape[1]} features, but {n_features} are needed")
    if y is not None and len(y) != X.shape[0]:
        raise ValueError(f"{path}: {len(y)} labels for {X.shape[0]} rows")
    return X, y


def _load_csv(path: Path, label_column: str | int):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise ValueError(f"{path}: a CSV data file needs a header row and at least one row")
    header, body = rows[0], rows[1:]
    if isinstance(label_column, int) or str(label_column).lstrip("-").isdigit():
        index = int(label_column)
    else:
        index = header.index(label_column) if label_column in header else None
    columns = [i for i in range(len(header)) if index is None or i != index % len(header)]
    try:
        X = np.array([[float(row[i]) for i in columns] for row in body])
    except (ValueError, IndexError) as error:
        raise ValueError(f"{path}: the feature columns must be numbers ({error})") from error
    if index is None:
        return X, None
    labels = np.array([row[index] for row in body])
    try:
        numeric = labels.astype(np.float64)
        labels = numeric.astype(np.int64) if np.all(numeric == np.round(numeric)) else numeric
    except ValueError:
        pass  # text labels stay text
    return X, labels
