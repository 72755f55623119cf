"""Data loading: the demo dataset shipped inside the package."""

from __future__ import annotations

from importlib import resources

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
