"""scikit-learn estimators over the compiled kernels."""

from fastsgd.estimators._base import TrainingInterruptedWarning
from fastsgd.estimators.logistic import LogisticRegression
from fastsgd.estimators.net import TwoLayerNet
from fastsgd.estimators.sweep import LogisticRegressionSweep

__all__ = [
    "LogisticRegression",
    "LogisticRegressionSweep",
    "TrainingInterruptedWarning",
    "TwoLayerNet",
]
