"""fastsgd: Numba-compiled per-sample SGD with scikit-learn estimators.

- ``fastsgd.SGDClassifier`` and ``fastsgd.SGDRegressor``: scikit-learn's linear SGD estimators,
  every loss, compiled; ``fastsgd.LogisticRegression`` (the handout's model, SGDClassifier with the
  log-loss and a constant rate), ``fastsgd.LogisticRegressionSweep`` and ``fastsgd.TwoLayerNet``.
- ``fastsgd.parallel``: parameter-averaging and Hogwild variants of the kernels.
- ``fastsgd.dask`` (optional, ``fastsgd[dask]``; never imported by the rest): training on Dask
  arrays across the workers of a cluster.
- ``model.save(path)`` / ``fastsgd.load(path)``: model files of arrays and JSON, no pickle.
- ``fastsgd.kernels``: the compiled epoch kernels, callable from other ``@njit`` code.
- ``fastsgd.reference``: the same algorithms as plain NumPy loops (baseline and test oracle).
"""

from fastsgd.estimators import (
    LogisticRegression,
    LogisticRegressionSweep,
    SGDClassifier,
    SGDRegressor,
    TrainingInterruptedWarning,
    TwoLayerNet,
    TwoLayerNetRegressor,
)
from fastsgd.persistence import load

__version__ = "0.1.0"
__all__ = [
    "LogisticRegression",
    "LogisticRegressionSweep",
    "SGDClassifier",
    "SGDRegressor",
    "TrainingInterruptedWarning",
    "TwoLayerNet",
    "TwoLayerNetRegressor",
    "__version__",
    "load",
]
