"""scikit-learn estimators over the compiled kernels."""

from fastsgd.estimators.logistic import LogisticRegression

__all__ = ["LogisticRegression"]
