"""fastsgd: Numba-compiled per-sample SGD with scikit-learn estimators.

- ``fastsgd.LogisticRegression`` and ``fastsgd.TwoLayerNet``: the estimators.
- ``fastsgd.kernels``: the compiled epoch kernels, callable from other ``@njit`` code.
- ``fastsgd.reference``: the same algorithms as plain NumPy loops (baseline and test oracle).
"""

from fastsgd.estimators import LogisticRegression, TwoLayerNet

__version__ = "0.1.0"
__all__ = ["LogisticRegression", "TwoLayerNet", "__version__"]
