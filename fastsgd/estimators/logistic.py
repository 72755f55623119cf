"""LogisticRegression: per-sample SGD on the cross-entropy loss (handout section 39.1), the
linear engine's SGDClassifier with the log-loss and the handout's defaults."""

from __future__ import annotations

from typing import ClassVar

from fastsgd.estimators.linear import SGDClassifier


class LogisticRegression(SGDClassifier):
    """Logistic regression trained by per-sample stochastic gradient descent.

    Each epoch visits the samples once (in a fresh random order when ``shuffle``) and applies ::

        w <- w + eta0 * x * (y - s(w . x + b)),    b <- b + eta0 * (y - s(w . x + b))

    which is SGD on the cross-entropy loss. With ``fit_intercept=False``, ``shuffle=False``,
    ``max_iter=1`` and ``tol=None`` (no stopping rule, hence no ConvergenceWarning after the
    one epoch) one fit is exactly the handout's update, sample by sample. More than two
    classes are trained one-vs-rest, all classes in the same pass over the data.

    The parameters keep the meaning they have in ``sklearn.linear_model.SGDClassifier`` with
    ``loss='log_loss'``: with the same settings, data and visiting order (``shuffle=False``)
    both compute the same model, for every penalty, schedule and averaging mode (tested to
    1e-8 relative in float64). Two defaults differ: ``penalty=None`` (SGDClassifier: 'l2') and
    ``learning_rate='constant'`` (SGDClassifier: 'optimal'), so that the default fit is the
    handout's update.

    Parameters
    ----------
    eta0 : float, default=0.01
        The learning rate of 'constant', the initial one of 'invscaling' and 'adaptive'.
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive'}, default='constant'
        SGDClassifier's schedules, by the number t of samples seen (from 1): 'constant' eta0;
        'optimal' ``1 / (alpha (t0 + t - 1))`` with Bottou's t0 heuristic; 'invscaling'
        ``eta0 / t**power_t``; 'adaptive' eta0, divided by 5 each time the stopping rule fires
        (until it is below 1e-6, when training stops).
    penalty : {'l2', 'l1', 'elasticnet'} or None, default=None
        The regularization: ``alpha/2 ||w||^2``, ``alpha ||w||_1`` by cumulative truncated
        gradient (Tsuruoka et al. 2009), or their mix by ``l1_ratio``. The intercept is not
        penalized.
    alpha : float, default=1e-4
        The penalty's strength; also sets the 'optimal' schedule.
    l1_ratio : float, default=0.15
        The L1 share of 'elasticnet'.
    power_t : float, default=0.5
        The exponent of 'invscaling'.
    average : bool or int, default=False
        Averaged SGD: ``coef_`` and ``intercept_`` are the mean of the weights over every step
        from sample number ``average`` on (True: 1), kept lazily (Bottou 2012) so that a sparse
        step stays O(nnz). The plain SGD weights go on training underneath.
    class_weight : dict, 'balanced' or None, default=None
        Multiplies the steps of each class's samples (one-vs-rest: the model of class c
        weighs its positive samples by ``class_weight[c]`` and the rest by 1, as SGDClassifier).
        'balanced': ``n_samples / (n_classes * count(class))``; not for ``partial_fit``.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training rows, never train on
        them, and stop on their accuracy instead of the training objective (per one-vs-rest
        model, as SGDClassifier).
    validation_fraction : float, default=0.1
        The share of the training rows that ``early_stopping`` holds out.
    max_iter : int, default=1000
        The most epochs ``fit`` runs.
    tol : float or None, default=1e-3
        SGDClassifier's stopping rule: an epoch whose mean objective (log-loss plus penalty)
        is not below the best so far minus ``tol`` (or, with early_stopping, whose validation
        accuracy is not above the best plus ``tol``) counts; ``n_iter_no_change`` of them in a
        row stop training. None: run max_iter epochs.
    n_iter_no_change : int, default=5
        How many such epochs in a row stop training.
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch. X itself is never reordered.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling (and the early-stopping split).
    fit_intercept : bool, default=True
        Learn the intercept. When False the intercept stays at its initial value (0, or
        ``intercept_init``) but still enters the margin, as in SGDClassifier.
    warm_start : bool, default=False
        ``fit`` starts from the current ``coef_`` and ``intercept_`` instead of zeros, as
        SGDClassifier does: ``t_`` counts from 1 again (the 'optimal' and 'invscaling'
        schedules restart) and the average restarts. The features and classes must be the same
        as before.
    verbose : int, default=0
        Show a tqdm progress bar with the epoch and the running loss.
    n_jobs : int or None, default=None
        Threads that run the ``parallel`` strategy's shards, by joblib's rules as in
        scikit-learn (None: 1, unless a ``joblib.parallel_config`` says otherwise; -1: every
        CPU; -2: all but one). It never changes the model: with ``parallel=None`` it is
        ignored, and an 'average' model is bit-identical for any n_jobs (on a given machine:
        the kernels let the compiler reassociate and fuse floating-point operations, so the
        last bits can differ between CPUs).
    parallel : {'average', 'hogwild'} or None, default=None
        fastsgd only. None: sequential SGD, the handout's update. 'average': each epoch's
        visiting order is cut into ``n_shards`` contiguous shards; each shard runs this
        estimator's sequential SGD, whatever its settings (penalties, schedules, averaging,
        sample and class weights, CSR input), on its own copy of the weights and their training
        state, all starting from the same point, and the copies are then mixed, weighted by
        their sample counts, in shard order (iterative parameter mixing, Zinkevich et al. 2010;
        ``fastsgd.dask``'s average mode with the blocks as the shards). Deterministic: a given
        random_state and n_shards give bit-identical weights whatever n_jobs. 'hogwild': n_jobs
        threads update one shared set of weights without locks (Niu et al. 2011), each on one
        of n_shards shards; NOT deterministic (two runs differ; the estimator is tagged
        ``non_deterministic``), only for the plain update on dense input, and slower than one
        thread on dense data, where the threads contend for the same cache lines.
    n_shards : int, default=4
        fastsgd only: how many shards ``parallel`` cuts each epoch into. Part of the model's
        definition (more shards: more parallelism, less progress per epoch); 1 is sequential
        SGD. At most n_shards threads work at once.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The weights: one row for two classes, else one per class (one-vs-rest). In the dtype
        of the training data (float32 or float64).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        The number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        The feature names, when X has string column names.
    n_iter_ : int
        Epochs run by the last fit, or 1 after ``partial_fit``.
    t_ : float
        Samples seen, plus one (SGDClassifier's convention, validation rows included).
    loss_curve_ : list of float
        Each epoch's mean progressive log-loss (every sample's loss taken just before its own
        update); for more than two classes, the mean over the one-vs-rest models still
        training in that epoch. As in SGDClassifier, each one-vs-rest model stops on its own
        loss (the ``tol`` rule); a stopped model keeps its weights while the others train on.

    See Also
    --------
    SGDClassifier : The same engine with every loss and scikit-learn's defaults.
    LogisticRegressionSweep : Several learning rates in one pass, chosen on a validation split.
    TwoLayerNet : A classifier with one hidden layer.

    Notes
    -----
    Sparse input: CSR matrices with int32 or int64 indices (SGDClassifier takes int32 only).
    The kernels read and update only a row's stored entries, and the L2 shrink costs O(1) per
    sample (the weights are a scale times an array). With penalty None or 'l2', sparse and
    dense input give the same model (to rounding). 'l1' and 'elasticnet' truncate, as in
    SGDClassifier, only the weights of the features a sample contains: a dense row contains
    every feature, a sparse row its nonzeros, so the two differ there exactly as they do in
    SGDClassifier. Unlike SGDClassifier, the intercept step is never damped on sparse input
    (scikit-learn multiplies it by 0.01, ``SPARSE_INTERCEPT_DECAY``): sparse input gives the
    model that SGDClassifier gives on the dense copy.

    Input and copies: nothing ever writes to X, y, sample_weight or the initial weights.
    A C-contiguous float32 or float64 array (read-only or an ``np.memmap`` included) is used as
    it is, never copied, and the weights take its dtype. Other dense input is converted once
    per call into a C-contiguous copy, because the kernels walk X row by row: float32 in either
    byte order becomes native float32; float64 in another layout (Fortran order, a strided
    slice, big-endian) and every other numeric dtype (int, bool, float16, long double) become
    float64, scikit-learn's rule, so the model is the one of ``X.astype(np.float64)``; a pandas
    DataFrame is read through ``np.asarray`` by the same rule. Strings, bytes, dates, complex
    numbers and structured arrays are refused. A CSR matrix of float32 or float64 is used as it
    is; CSC, COO and other formats are converted to CSR, other data dtypes to float64, and
    column indices outside the matrix's shape are refused. A CSR matrix with unsorted or
    duplicate column indices trains the model of its canonical form (sorted, duplicates summed):
    without a penalty it is used as it is, as the update is linear in x (the same model to
    rounding); with a penalty, which truncates and measures the weights once per stored entry,
    it is first replaced by a canonical copy (scipy's ``sum_duplicates`` on a copy; the caller's
    matrix is left as it is), and then the model is exactly the canonical matrix's.
    ``early_stopping`` copies its held-out rows once per fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from fastsgd import LogisticRegression
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> clf = LogisticRegression(random_state=0).fit(X, y)
    >>> clf.n_iter_, round(clf.score(X, y), 3)
    (25, 0.95)
    >>> clf.predict_proba(X[:2]).round(3)
    array([[0.005, 0.995],
           [0.398, 0.602]])

    The same model as scikit-learn's SGDClassifier with the log-loss and this estimator's
    defaults, visiting the samples in the same order:

    >>> from sklearn.linear_model import SGDClassifier
    >>> sk = SGDClassifier(loss="log_loss", penalty=None, learning_rate="constant", eta0=0.01,
    ...                    shuffle=False).fit(X, y)
    >>> ours = LogisticRegression(shuffle=False).fit(X, y)
    >>> np.allclose(ours.coef_, sk.coef_), np.allclose(ours.intercept_, sk.intercept_)
    (True, True)

    ``partial_fit`` trains one epoch per call, continuing from the current weights:

    >>> online = LogisticRegression(random_state=0)
    >>> for epoch in range(3):
    ...     online = online.partial_fit(X, y, classes=[0, 1])
    >>> online.n_iter_, online.t_
    (1, 601.0)
    """

    # Not parameters here: LogisticRegression is the log-loss model. The engine reads them.
    loss = "log_loss"
    epsilon = 0.1
    # The handout's model: sparse input gives the model of its dense copy (no intercept decay).
    _sparse_intercept_decay = 1.0

    _parameter_constraints: ClassVar[dict] = {
        name: constraint
        for name, constraint in SGDClassifier._parameter_constraints.items()
        if name not in ("loss", "epsilon")
    }

    def __init__(
        self,
        *,
        eta0: float = 0.01,
        learning_rate: str = "constant",
        penalty: str | None = None,
        alpha: float = 1e-4,
        l1_ratio: float = 0.15,
        power_t: float = 0.5,
        average: bool | int = False,
        class_weight: dict | str | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 5,
        shuffle: bool = True,
        random_state=None,
        fit_intercept: bool = True,
        warm_start: bool = False,
        verbose: int = 0,
        n_jobs: int | None = None,
        parallel: str | None = None,
        n_shards: int = 4,
    ):
        self.eta0 = eta0
        self.learning_rate = learning_rate
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.power_t = power_t
        self.average = average
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
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
        self.n_shards = n_shards
