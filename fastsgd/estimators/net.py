"""TwoLayerNet: a one-hidden-layer net trained by SGD (handout section 39.2)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, softmax
from sklearn.utils._param_validation import Interval, StrOptions

from fastsgd.estimators._base import SGDClassifierBase
from fastsgd.estimators._validation import as_float_array
from fastsgd.kernels import ACTIVATIONS, LOSSES
from fastsgd.kernels.net import net_epoch_batched, net_epoch_per_sample
from fastsgd.parallel import net_epoch_average, net_epoch_hogwild

PARALLEL_KERNELS = {"average": net_epoch_average, "hogwild": net_epoch_hogwild}


class TwoLayerNet(SGDClassifierBase):
    """A two-layer net (one hidden layer) trained by per-sample or mini-batch SGD.

    Forward: ``z1 = x W1 + b1, a1 = g1(z1), z2 = a1 W2 + b2, a2 = g2(z2)`` with g1 the hidden
    activation, and g2 one sigmoid unit for two classes (the handout's net) or a softmax over the
    classes. Backward by the chain rule; every weight is updated from the same forward pass. With
    ``n_hidden=1, activation='logistic', loss='squared_error', fit_intercept=False`` and one
    feature it is exactly the handout's net, and one step applies 39.2 (f).

    Input and copies: dense X only (a sparse matrix raises a TypeError). Nothing ever writes to
    X, y or the initial weights. A C-contiguous float32 or float64 array (read-only or an
    ``np.memmap`` included) is used as it is, never copied, and the weights take its dtype.
    Other input is converted once per call into a C-contiguous copy, because the kernels walk
    X row by row: float32 in either byte order becomes native float32; float64 in another
    layout (Fortran order, a strided slice, big-endian) and every other numeric dtype (int,
    bool, float16, long double) become float64, scikit-learn's rule, so the model is the one of
    ``X.astype(np.float64)``; a pandas DataFrame is read through ``np.asarray`` by the same
    rule. Strings, bytes, dates, complex numbers and structured arrays are refused.
    ``early_stopping`` copies its held-out rows each epoch to score them.

    Parameters
    ----------
    n_hidden : int, default=32
        H, the width of the hidden layer.
    activation : {'logistic', 'tanh', 'relu'}, default='relu'
    loss : {'log_loss', 'squared_error'}, default='log_loss'
        Cross-entropy, or 1/2 (a2 - y)^2 summed over the outputs (the handout's 39.2 d).
    eta0 : float, default=0.01
        The learning rate.
    learning_rate : {'constant', 'adaptive'}, default='constant'
        'adaptive': eta0, divided by 5 each time the stopping rule fires, until it is below
        1e-6 (as LogisticRegression and SGDClassifier).
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the rows, never train on them, and
        stop on their accuracy instead of the training loss.
    validation_fraction : float, default=0.1
    max_iter : int, default=200
    tol : float or None, default=1e-4
        Stop once the epoch's mean loss has failed ``n_iter_no_change`` epochs in a row to fall
        below the best so far minus ``tol`` (with early_stopping: the validation accuracy to
        rise above the best plus ``tol``). None: run max_iter epochs.
    n_iter_no_change : int, default=10
    batch_size : int, default=1
        1 is per-sample SGD (one fused compiled loop). Larger averages the gradient over each
        batch and takes one step per batch, with BLAS-3 products.
    shuffle : bool, default=True
    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot initialisation (as MLPClassifier draws it) and the shuffling.
    fit_intercept : bool, default=True
        Learn the biases b1, b2. When False they stay at their initial values (0, or
        ``intercepts_init``) and still enter the forward pass.
    warm_start : bool, default=False
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
    coefs_ : list of two arrays, [W1 of shape (n_features, n_hidden), W2 of shape (n_hidden,
        n_outputs)], n_outputs = 1 for two classes, else n_classes. W1 is a transposed view of the
        (n_hidden, n_features) array the kernel updates, one row per hidden unit.
    intercepts_ : list of two arrays, [b1 of shape (n_hidden,), b2 of shape (n_outputs,)]
    classes_, n_features_in_, n_iter_, loss_curve_
    t_ : int
        Training samples seen (MLPClassifier's convention).
    """

    _parameter_constraints: ClassVar[dict] = {
        **SGDClassifierBase._parameter_constraints,
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "adaptive"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    }
    _t_start = 0

    def __init__(
        self,
        *,
        n_hidden: int = 32,
        activation: str = "relu",
        loss: str = "log_loss",
        eta0: float = 0.01,
        learning_rate: str = "constant",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        max_iter: int = 200,
        tol: float | None = 1e-4,
        n_iter_no_change: int = 10,
        batch_size: int = 1,
        shuffle: bool = True,
        random_state=None,
        fit_intercept: bool = True,
        warm_start: bool = False,
        verbose: int = 0,
        n_jobs: int | None = None,
        parallel: str = "average",
    ):
        self.n_hidden = n_hidden
        self.activation = activation
        self.loss = loss
        self.eta0 = eta0
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
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
        coefs_init: list[ArrayLike] | None = None,
        intercepts_init: list[ArrayLike] | None = None,
    ) -> TwoLayerNet:
        """Train for up to ``max_iter`` epochs from a Glorot initialisation, the given init or
        (warm_start) the current weights."""
        init = None
        if coefs_init is not None or intercepts_init is not None:
            init = {"coefs": coefs_init, "intercepts": intercepts_init}
        return self._fit(X, y, max_iter=self.max_iter, classes=None, init=init, incremental=False)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes)."""
        z2 = self._predict_scores(X)
        if z2.shape[1] == 1:
            p = expit(z2)
            return np.hstack([1.0 - p, p])
        return softmax(z2, axis=1)

    # -- hooks for the base class -------------------------------------------------------------

    @property
    def _samples_per_step(self):
        return self.batch_size

    def _work_per_sample(self, n_features, n_classes):
        return n_features * self.n_hidden

    def _predict_scores(self, X):
        X = self._validate_predict_data(X)
        W1, W2 = self.coefs_
        b1, b2 = self.intercepts_
        return self._forward(X, W1, b1, W2, b2)

    def _forward(self, X, W1, b1, W2, b2):
        """z2 for the rows of X."""
        z1 = X @ W1 + b1
        if self.activation == "logistic":
            a1 = expit(z1)
        elif self.activation == "tanh":
            a1 = np.tanh(z1)
        else:
            a1 = np.maximum(z1, 0)
        return a1 @ W2 + b2

    def _validation_scores(self, X, codes, rows, weights, params, session):
        W1t, b1, W2, b2 = params
        held_out = X[rows]
        z2 = self._forward(held_out, W1t.T, b1, W2, b2)
        self._check_finite_scores(held_out, z2)
        predicted = (z2[:, 0] > 0).astype(np.intp) if z2.shape[1] == 1 else z2.argmax(axis=1)
        return np.array([np.mean(predicted == codes[rows])])

    def _init_params(self, n_features, n_classes, dtype, rng, init):
        n_out = self._n_outputs(n_classes)
        shapes = [(n_features, self.n_hidden), (self.n_hidden, n_out)]
        # MLPClassifier's Glorot uniform initialisation, drawn in the same order.
        factor = 2.0 if self.activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for fan_in, fan_out in shapes:
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(rng.uniform(-bound, bound, fan_out))
        if not self.fit_intercept:
            intercepts = [np.zeros_like(b) for b in intercepts]
        for name, given, target in (
            ("coefs_init", init.get("coefs"), coefs),
            ("intercepts_init", init.get("intercepts"), intercepts),
        ):
            if given is None:
                continue
            if not isinstance(given, list | tuple):
                raise TypeError(
                    f"{name} must be a list of two arrays (one per layer), got "
                    f"{type(given).__name__}"
                )
            if len(given) != 2:
                raise ValueError(f"{name} must be a list of two arrays, got {len(given)}")
            for layer, (value, default) in enumerate(zip(given, target, strict=True)):
                # a copy: never train the caller's
                value = as_float_array(
                    value, f"{name}[{layer}]", np.float64, copy=True,
                    estimator_name=type(self).__name__,
                )  # fmt: skip
                if value.shape != default.shape:
                    raise ValueError(
                        f"{name}[{layer}] has shape {value.shape}; expected {default.shape}"
                    )
                if not np.isfinite(value).all():
                    raise ValueError(f"{name}[{layer}] contains NaN or infinity.")
                target[layer] = value
        W1t = np.ascontiguousarray(coefs[0].T, dtype=dtype)
        return [
            W1t,
            intercepts[0].astype(dtype),
            np.ascontiguousarray(coefs[1], dtype=dtype),
            intercepts[1].astype(dtype),
        ]

    def _get_params_arrays(self):
        W1, W2 = self.coefs_
        b1, b2 = self.intercepts_
        return [np.ascontiguousarray(W1.T), b1, W2, b2]

    def _set_params_arrays(self, params):
        W1t, b1, W2, b2 = params
        self.coefs_ = [W1t.T, W2]
        self.intercepts_ = [b1, b2]

    def _n_stopping_units(self, n_classes):
        return 1

    def _run_kernel(self, X, codes, order, params, rates, n_shards, session):
        arguments = (
            X,
            codes,
            order,
            *params,
            float(rates[0]),
            ACTIVATIONS.index(self.activation),
            LOSSES.index(self.loss),
            self.fit_intercept,
            self.batch_size,
        )
        if n_shards > 1:
            loss = PARALLEL_KERNELS[self.parallel](*arguments, n_shards)
        elif self.batch_size <= 1:  # compiles only the path it needs (see net_epoch_per_sample)
            loss = net_epoch_per_sample(*arguments[:-1])
        else:
            loss = net_epoch_batched(*arguments)
        losses = np.array([loss])
        return losses, losses
