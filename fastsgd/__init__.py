"""fastsgd: Numba-compiled per-sample SGD with scikit-learn estimators.

- ``fastsgd.SGDClassifier`` and ``fastsgd.SGDRegressor``: scikit-learn's linear SGD estimators,
  every loss, compiled; ``fastsgd.LogisticRegression`` (the handout's model, SGDClassifier with the
  log-loss and a constant rate), ``fastsgd.LogisticRegressionSweep`` and ``fastsgd.TwoLayerNet``.
- ``fastsgd.parallel``: parameter-averaging and Hogwild variants of the kernels.
- ``fastsgd.dask`` (optional: the ``dask`` extra, ``pip install ".[dask]"`` from a checkout;
  never imported by the rest): training on Dask arrays across the workers of a cluster.
- ``model.save(path)`` / ``fastsgd.load(path)``: model files of arrays and JSON, no pickle.
- ``fastsgd.compile()`` (``fastsgd compile`` on the command line): every kernel compiled into
  Numba's on-disk cache ahead of time, so that no first fit compiles.
- ``fastsgd.kernels``: the compiled epoch kernels, callable from other ``@njit`` code.
- ``fastsgd.reference``: the same algorithms as plain NumPy loops (baseline and test oracle).

The names above are imported when first used (PEP 562), so ``import fastsgd.kernels`` or
``import fastsgd.reference`` does not import scikit-learn, and ``import fastsgd`` alone costs
next to nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastsgd._lazy import attribute_loader

__version__ = "0.1.0"

# public name -> the module that defines it
_LAZY = {
    "LogisticRegression": "fastsgd.estimators",
    "LogisticRegressionSweep": "fastsgd.estimators",
    "SGDClassifier": "fastsgd.estimators",
    "SGDRegressor": "fastsgd.estimators",
    "TrainingInterruptedWarning": "fastsgd.estimators",
    "TwoLayerNet": "fastsgd.estimators",
    "TwoLayerNetRegressor": "fastsgd.estimators",
    "load": "fastsgd.persistence",
    "compile": "fastsgd._precompile",
}
_SUBMODULES = ("estimators", "kernels", "parallel", "persistence", "reference", "io")

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
]  # not "compile" (fastsgd.compile): a star import would hide the builtin

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names come from __getattr__
    from fastsgd._precompile import compile  # noqa: F401 - public, but not in __all__
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


__getattr__ = attribute_loader(globals(), _LAZY, _SUBMODULES)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})
