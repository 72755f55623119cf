"""LogisticRegression: per-sample SGD on the cross-entropy loss (handout section 39.1)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from fastsgd.estimators._base import SGDClassifierBase
from fastsgd.kernels import logistic_epoch
from fastsgd.parallel import logistic_epoch_average, logistic_epoch_hogwild

PARALLEL_KERNELS = {"average": logistic_epoch_average, "hogwild": logistic_epoch_hogwild}


class LogisticRegression(SGDClassifierBase):
    """Logistic regression trained by per-sample stochastic gradient descent.

    Each epoch visits the samples once (in a fresh random order when ``shuffle``) and applies

        w <- w + eta0 * x * (y - s(w . x + b)),    b <- b + eta0 * (y - s(w . x + b))

    which is SGD on the cross-entropy loss. With ``fit_intercept=False``, ``shuffle=False`` and
    ``max_iter=1`` one fit is exactly the handout's update, sample by sample. More than two
    classes are trained one-vs-rest, all classes in the same pass over the data.

    The parameters keep the meaning they have in ``sklearn.linear_model.SGDClassifier``
    (``loss='log_loss', penalty=None``); with the same settings both compute the same model.

    Parameters
    ----------
    eta0 : float, default=0.01
        The learning rate.
    learning_rate : {'constant'}, default='constant'
        The schedule; only a constant rate for now.
    max_iter : int, default=1000
        The most epochs ``fit`` runs.
    tol : float or None, default=1e-3
        ``fit`` stops once the epoch's mean loss has failed ``n_iter_no_change`` epochs in a row to
        fall below the best so far minus ``tol`` (SGDClassifier's rule). None: run max_iter epochs.
    n_iter_no_change : int, default=5
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch. X itself is never reordered.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling.
    fit_intercept : bool, default=True
        Learn the intercept. When False the intercept stays at its initial value (0, or
        ``intercept_init``) but still enters the margin, as in SGDClassifier.
    warm_start : bool, default=False
        ``fit`` starts from the current weights instead of zeros. The features, classes and
        hyperparameters that set the weights' shapes must be the same as before.
    verbose : int, default=0
        Show a tqdm progress bar with the epoch and the running loss.
    n_jobs : int or None, default=None
        Threads for training: None or 1 trains sequentially, -1 uses all of numba's threads
        (``NUMBA_NUM_THREADS``, the cores by default), -2 all but one. More than one runs the
        ``parallel`` strategy, one call per epoch, on n_jobs shards of the visiting order (on
        at most numba's thread count): a positive n_jobs gives the same 'average' weights on any
        machine, a negative one depends on the machine's thread count.
    parallel : {'average', 'hogwild'}, default='average'
        The strategy when n_jobs > 1. 'average': each thread trains its own copy on a contiguous
        shard of the epoch's visiting order, and the copies are averaged at the end of the epoch
        (iterative parameter mixing, Zinkevich et al. 2010). Deterministic: a given
        random_state and n_jobs give bit-identical weights. 'hogwild': all threads update one
        shared set of weights without locks (Niu et al. 2011); NOT deterministic, and slower
        than one thread on dense data, where the threads contend for the same cache lines.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
        In the dtype of the training data (float32 or float64).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray, when X has string column names
    n_iter_ : int
        Epochs run by the last fit, or 1 after partial_fit.
    t_ : float
        Samples seen, plus one (SGDClassifier's convention).
    loss_curve_ : list of float
        Each epoch's mean progressive log-loss (every sample's loss taken just before its own
        update); for more than two classes, the mean over the one-vs-rest models. As in
        SGDClassifier, each one-vs-rest model stops on its own loss (the ``tol`` rule); a
        stopped model keeps its weights while the others train on.
    """

    def __init__(
        self,
        *,
        eta0: float = 0.01,
        learning_rate: str = "constant",
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 5,
        shuffle: bool = True,
        random_state=None,
        fit_intercept: bool = True,
        warm_start: bool = False,
        verbose: int = 0,
        n_jobs: int | None = None,
        parallel: str = "average",
    ):
        self.eta0 = eta0
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.parallel = parallel

    # -- public API ---------------------------------------------------------------------------

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        coef_init: ArrayLike | None = None,
        intercept_init: ArrayLike | None = None,
    ) -> LogisticRegression:
        """Train for up to ``max_iter`` epochs, from zeros, the given init or (warm_start) the
        current weights."""
        init = None
        if coef_init is not None or intercept_init is not None:
            init = {"coef": coef_init, "intercept": intercept_init}
        return self._fit(X, y, max_iter=self.max_iter, classes=None, init=init, incremental=False)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """w . x + b: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        scores = self._predict_scores(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes).

        Two classes: [1 - s(z), s(z)]. More classes: the one-vs-rest sigmoids, normalised to
        sum to one (as SGDClassifier does).
        """
        return self._proba_from_scores(self._predict_scores(X))

    @staticmethod
    def _proba_from_scores(scores):
        prob = expit(scores)
        if prob.shape[1] == 1:
            return np.hstack([1.0 - prob, prob])
        total = prob.sum(axis=1, keepdims=True)
        uniform = total == 0.0
        prob = np.where(uniform, 1.0 / prob.shape[1], prob)
        return prob / np.where(uniform, 1.0, total)

    # -- hooks for the base class -------------------------------------------------------------

    def _predict_scores(self, X):
        X = self._validate_predict_data(X)
        return X @ self.coef_.T + self.intercept_

    def _work_per_sample(self, n_features, n_classes):
        return n_features * self._n_outputs(n_classes)

    def _init_params(self, n_features, n_classes, dtype, rng, init):
        n_models = self._n_outputs(n_classes)
        coef = np.zeros((n_models, n_features), dtype=dtype)
        intercept = np.zeros(n_models, dtype=dtype)
        if init.get("coef") is not None:
            given = np.asarray(init["coef"], dtype=dtype)
            allowed = {(n_models, n_features)} | ({(n_features,)} if n_models == 1 else set())
            if given.shape not in allowed:
                raise ValueError(
                    f"coef_init has shape {given.shape}; expected ({n_models}, {n_features})"
                    + (f" or ({n_features},)" if n_models == 1 else "")
                )
            coef[...] = given.reshape(n_models, n_features)
        if init.get("intercept") is not None:
            given = np.asarray(init["intercept"], dtype=dtype)
            if given.size != n_models or given.ndim > 1:
                raise ValueError(f"intercept_init has shape {given.shape}; expected ({n_models},)")
            intercept[...] = given.reshape(n_models)
        for name, value in (("coef_init", coef), ("intercept_init", intercept)):
            if not np.isfinite(value).all():
                raise ValueError(f"{name} contains NaN or infinity.")
        return [coef, intercept]

    def _get_params_arrays(self):
        return [self.coef_, self.intercept_]

    def _set_params_arrays(self, params):
        self.coef_, self.intercept_ = params

    def _n_stopping_units(self, n_classes):
        return self._n_outputs(n_classes)  # each one-vs-rest model stops on its own

    def _positive_classes(self, n_models):
        """The class code each model treats as positive: 1 for a binary model, else m."""
        return np.arange(n_models) if n_models > 1 else np.ones(1, dtype=np.int64)

    def _run_kernel(self, X, codes, order, params, rates, n_shards):
        coef, intercept = params
        n_models = coef.shape[0]
        positive_class = self._positive_classes(n_models)
        arguments = (X, codes, order, coef, intercept, rates, positive_class, self.fit_intercept)
        if n_shards > 1:
            return PARALLEL_KERNELS[self.parallel](*arguments, n_shards)
        return logistic_epoch(*arguments)
