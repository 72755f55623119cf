"""scikit-learn estimators over the compiled kernels."""

from fastsgd.estimators.logistic import LogisticRegression
from fastsgd.estimators.net import TwoLayerNet

__all__ = ["LogisticRegression", "TwoLayerNet"]
