"""The epoch loop of every fit, local or on Dask: one driver with a pluggable epoch.

``run_epochs`` owns what every fit does around its epochs: the progress bar, the loss curve and
the sample count t, scikit-learn's stopping rule per stopping unit (a one-vs-rest model, or the
whole net), the max_iter ConvergenceWarning, and what a Ctrl-C keeps. The caller passes how to
run one epoch and how to check, snapshot and score its result: the local loop runs the kernels
on chunks of X (``SGDBase._fit_or_raise``), ``fastsgd.dask`` runs them on a cluster's blocks.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning


class TrainingInterruptedWarning(UserWarning):
    """Training stopped at a KeyboardInterrupt; the message says which weights were kept.

    A Ctrl-C (KeyboardInterrupt) during ``fit`` or ``partial_fit`` takes effect between two
    kernel calls. The estimator then holds the weights of the last finished epoch (``n_iter_``
    and ``t_`` count up to it), or, when no epoch of the call finished, the state it had before
    the call. This warning says which, and the KeyboardInterrupt is then raised again.

    See Also
    --------
    LogisticRegression : An estimator that warns so (every fastsgd estimator does).

    Examples
    --------
    A random state whose third shuffle raises KeyboardInterrupt stands in for a Ctrl-C in the
    third epoch of a net's fit:

    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from fastsgd import TrainingInterruptedWarning, TwoLayerNet
    >>> class CtrlCInEpoch3(np.random.RandomState):
    ...     shuffles = 0
    ...     def shuffle(self, x):
    ...         self.shuffles += 1
    ...         if self.shuffles == 3:
    ...             raise KeyboardInterrupt
    ...         super().shuffle(x)
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> net = TwoLayerNet(n_hidden=16, random_state=CtrlCInEpoch3(0))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", TrainingInterruptedWarning)
    ...     try:
    ...         net.fit(X, y)
    ...     except KeyboardInterrupt:
    ...         print("interrupted")
    interrupted
    >>> print(caught[0].message)
    TwoLayerNet training was interrupted in epoch 3; the model holds the weights after epoch 2 ...
    >>> net.n_iter_, net.t_, net.predict(X[:4])
    (2, 400, array([1, 1, 0, 1]))
    """


def kept_an_epoch(error):
    """Whether an interrupted fit committed the weights of a finished epoch."""
    return isinstance(error, KeyboardInterrupt) and getattr(error, "fastsgd_kept_epoch", False)


def apply_stopping_rule(stalled, running, no_improvement, rates, n_iter_no_change, adaptive):
    """SGDClassifier's rule, per stopping unit, after an epoch: a running unit whose epoch
    ``stalled`` (did not improve by tol) counts one more, any other restarts at 0;
    n_iter_no_change in a row stop the unit (its rate becomes 0), or under 'adaptive' divide its
    rate by 5 while the rate is above 1e-6. Updates no_improvement and rates in place."""
    no_improvement[running & stalled] += 1
    no_improvement[running & ~stalled] = 0
    hit = running & (no_improvement >= n_iter_no_change)
    if adaptive:
        slower = hit & (rates > 1e-6)
        rates[slower] /= 5.0
        no_improvement[slower] = 0
        hit &= ~slower
    rates[hit] = 0.0


def warn_max_iter_reached(stacklevel=2):
    """SGDClassifier's ConvergenceWarning, at the caller's ``stacklevel``."""
    warnings.warn(
        "Maximum number of iteration reached before convergence. Consider increasing max_iter "
        "to improve the fit.",
        ConvergenceWarning,
        stacklevel=stacklevel + 1,
    )


def run_epochs(
    estimator, *, max_iter, n_samples, n_rows, t, loss_curve, rates, incremental, run_epoch,
    check_epoch, snapshot, on_interrupt, validation_scores=None, after_epoch=None,
    warning_stacklevel=2,
):  # fmt: skip
    """Run up to ``max_iter`` epochs; returns (n_iter, t, loss_curve).

    - ``run_epoch(epoch, rates, bar)`` trains one epoch (a unit whose rate is 0 has stopped and
      keeps its weights) and returns each unit's mean loss and mean objective;
    - ``check_epoch(losses, epoch)`` raises when the epoch diverged;
    - ``snapshot()`` returns the parameters an interrupt in a later epoch leaves in the model;
    - ``validation_scores()`` (early stopping) returns each unit's held-out score, or None;
    - ``on_interrupt(interrupt, finished, n_iter)`` handles a KeyboardInterrupt, with
      ``finished = (params, n_iter, t, loss_curve)`` of the last finished epoch or None; the
      interrupt is then raised again.

    - ``after_epoch(loss, scores, rates, t, incremental)``, if given, replaces SGDClassifier's
      stopping rule below (the net follows MLPClassifier's) and returns whether to stop; it
      runs in partial_fit too.

    ``n_samples`` samples are visited an epoch (the bar's unit; None: not known in advance); t
    advances by ``n_rows`` (the held-out rows included, as SGDClassifier counts), or by
    ``n_rows()`` after the epoch when it is a function (an epoch over a file being read).
    ``incremental`` (partial_fit) applies no stopping rule and gives no warning.
    """
    from tqdm.auto import tqdm  # imported by the first fit, not with the estimators

    best_loss = np.full(rates.size, np.inf)
    best_score = np.full(rates.size, -np.inf)
    no_improvement = np.zeros(rates.size, dtype=np.int64)
    n_iter = 0
    # Ctrl-C raises KeyboardInterrupt between two kernel calls: the model then takes the weights
    # of the last finished epoch, if any.
    finished = None
    try:
        with tqdm(
            total=None if n_samples is None else max_iter * n_samples,
            disable=not estimator.verbose,
            desc=type(estimator).__name__,
            unit="sample",
            unit_scale=True,
            leave=True,
        ) as bar:
            for epoch in range(max_iter):
                running = rates > 0
                losses, objectives = run_epoch(epoch, rates, bar)
                check_epoch(losses, epoch)
                n_iter += 1
                t += n_rows() if callable(n_rows) else n_rows
                loss_curve.append(float(losses[running].mean()))
                if epoch + 1 < max_iter:
                    # one assignment, so that an interrupt while it is being built keeps the
                    # previous one
                    finished = (snapshot(), n_iter, t, list(loss_curve))
                if after_epoch is not None:
                    scores = None if validation_scores is None else validation_scores()
                    if after_epoch(loss_curve[-1], scores, rates, t, incremental):
                        break
                    continue
                if incremental or estimator.tol is None:
                    continue
                # SGDClassifier's rule, per unit: an epoch that fails to beat the best
                # validation score by tol, or the best objective by tol, counts as no
                # improvement; n_iter_no_change of them in a row stop the unit, or under
                # 'adaptive' divide its rate by 5 while the rate is above 1e-6.
                scores = None if validation_scores is None else validation_scores()
                if scores is not None:
                    stalled = scores < best_score + estimator.tol
                    best_score = np.maximum(best_score, scores)
                else:
                    stalled = objectives > best_loss - estimator.tol
                    best_loss = np.minimum(best_loss, objectives)
                apply_stopping_rule(
                    stalled, running, no_improvement, rates, estimator.n_iter_no_change,
                    estimator.learning_rate == "adaptive",
                )  # fmt: skip
                if not rates.any():
                    break
            else:
                warns = estimator.tol is not None and estimator._warns_at_max_iter(max_iter)
                if not incremental and warns:
                    warn_max_iter_reached(warning_stacklevel + 1)
    except KeyboardInterrupt as interrupt:
        on_interrupt(interrupt, finished, n_iter)
        raise
    return n_iter, t, loss_curve
