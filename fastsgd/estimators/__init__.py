"""scikit-learn estimators over the compiled kernels."""

from fastsgd.estimators._base import TrainingInterruptedWarning
from fastsgd.estimators.linear import SGDClassifier, SGDRegressor
from fastsgd.estimators.logistic import LogisticRegression
from fastsgd.estimators.net import TwoLayerNet, TwoLayerNetRegressor
from fastsgd.estimators.sweep import LogisticRegressionSweep

__all__ = [
    "LogisticRegression",
    "LogisticRegressionSweep",
    "SGDClassifier",
    "SGDRegressor",
    "TrainingInterruptedWarning",
    "TwoLayerNet",
    "TwoLayerNetRegressor",
]
