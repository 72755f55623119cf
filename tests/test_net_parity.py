"""TwoLayerNet and TwoLayerNetRegressor against scikit-learn's MLPClassifier / MLPRegressor.

The reference is scikit-learn itself: ``MLPClassifier`` / ``MLPRegressor(solver='sgd',
hidden_layer_sizes=(H,))``, whose step per batch B with sample weights s (S = sum s) is

    G = (sum_i s_i grad_i + alpha W) / S;   v = momentum v - eta G;
    W += v   (Nesterov: W += momentum v - eta G)

with 'invscaling' setting eta = eta0 / (t_ + 1) ** power_t after each epoch. The same
random_state draws the same Glorot weights, the same early-stopping split and the same
shuffles, so with ``n_hidden=H`` and ``eta0=learning_rate_init`` the fitted weights and loss
curves agree to rounding (tolerance 1e-10, relative to the largest entry of each array).

``python tests/test_net_parity.py`` prints the largest relative difference per setting.
"""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from fastsgd import TwoLayerNet, TwoLayerNetRegressor

H = 7
RTOL = 1e-10


def targets(kind, X, rng):
    if kind == "binary":
        return (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    if kind == "multiclass":
        return np.digitize(X[:, 0], [-0.5, 0.5])
    if kind == "multilabel":
        return np.c_[X[:, 0] > 0, X[:, 1] > 0.3, X[:, 2] < 0].astype(int)
    if kind == "regression":
        return X @ rng.normal(size=X.shape[1])
    return np.c_[X @ rng.normal(size=X.shape[1]), X[:, 0] ** 2]  # two outputs


def data(kind, n=90, k=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    return X, targets(kind, X, rng)


def fit_both(kind, X, y, sample_weight=None, **params):
    """(scikit-learn's model, fastsgd's model), fitted with the same parameters."""
    ours = {
        {"hidden_layer_sizes": "n_hidden", "learning_rate_init": "eta0"}.get(key, key): value
        for key, value in params.items()
    }
    regression = kind.startswith("regression")
    theirs_class = MLPRegressor if regression else MLPClassifier
    ours_class = TwoLayerNetRegressor if regression else TwoLayerNet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = theirs_class(solver="sgd", **params).fit(X, y, sample_weight=sample_weight)
        ours_model = ours_class(**{**ours, "n_hidden": params["hidden_layer_sizes"]})
        ours_model.fit(X, y, sample_weight=sample_weight)
    return theirs, ours_model


def largest_difference(theirs, ours):
    """The largest difference of any weight array, relative to that array's largest entry, and
    of the loss curves."""
    arrays = zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_, strict=True)
    weights = max(np.max(np.abs(a - b)) / np.max(np.abs(a)) for a, b in arrays)
    curve = np.asarray(theirs.loss_curve_)
    loss = np.max(np.abs(curve - ours.loss_curve_) / np.abs(curve))
    return max(weights, loss)


KINDS = ["binary", "multiclass", "multilabel", "regression", "regression-2-outputs"]
MOMENTA = [(0.0, False), (0.9, False), (0.9, True)]
GRID = list(itertools.product(KINDS, [1, 32], MOMENTA, [0.0, 1e-3], ["constant", "invscaling"]))


def grid_params(kind, batch_size, momentum, nesterov, alpha, learning_rate):
    # regression at 0.05 per sample with momentum is chaotic (its loss grows): rounding then
    # decides the weights, in scikit-learn as here
    eta = 0.005 if kind.startswith("regression") else 0.05
    return dict(
        hidden_layer_sizes=H, batch_size=batch_size, shuffle=False, max_iter=3, tol=0.0,
        n_iter_no_change=100, learning_rate_init=eta, alpha=alpha, momentum=momentum,
        nesterovs_momentum=nesterov, learning_rate=learning_rate, power_t=0.5, random_state=3,
        activation="tanh",
    )  # fmt: skip


@pytest.mark.parametrize(
    "kind,batch_size,momenta,alpha,learning_rate",
    GRID,
    ids=[f"{k}-b{b}-m{m[0]}{'n' if m[1] else ''}-a{a}-{r}" for k, b, m, a, r in GRID],
)
def test_three_epochs_equal_scikit_learn(kind, batch_size, momenta, alpha, learning_rate):
    X, y = data(kind)
    params = grid_params(kind, batch_size, *momenta, alpha, learning_rate)
    theirs, ours = fit_both(kind, X, y, **params)
    assert largest_difference(theirs, ours) <= RTOL
    assert ours.n_iter_ == theirs.n_iter_ == 3
    assert ours.t_ == theirs.t_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=RTOL)
    assert ours.n_outputs_ == theirs.n_outputs_
    assert ours.out_activation_ == theirs.out_activation_
    assert ours.n_layers_ == theirs.n_layers_


EXTRAS = {
    "shuffle": dict(shuffle=True),
    "early-stopping-shuffled": dict(early_stopping=True, shuffle=True),
    "early-stopping-in-order": dict(early_stopping=True, shuffle=False, validation_fraction=0.2),
    "adaptive-stops-and-divides": dict(learning_rate="adaptive", tol=0.5, max_iter=50),
    "constant-stops": dict(tol=0.05, n_iter_no_change=2, max_iter=60),
}


@pytest.mark.parametrize("extra", EXTRAS, ids=list(EXTRAS))
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression"])
def test_shuffles_splits_and_stopping_equal_scikit_learn(extra, kind):
    """The same draws (initial weights, early-stopping split, shuffles) and the same stopping
    rule: the same epochs, t_, scores and weights (the best epoch's under early stopping)."""
    X, y = data(kind, n=200)
    params = dict(
        hidden_layer_sizes=6, batch_size=16, max_iter=20, learning_rate_init=0.02,
        random_state=5, momentum=0.9, alpha=1e-3,
    )  # fmt: skip
    params.update(EXTRAS[extra])
    theirs, ours = fit_both(kind, X, y, **params)
    assert largest_difference(theirs, ours) <= RTOL
    assert (ours.n_iter_, ours.t_) == (theirs.n_iter_, theirs.t_)
    if params.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-9)
        assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)
        assert ours.best_loss_ is None is theirs.best_loss_
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=RTOL)
        assert ours.validation_scores_ is None is theirs.validation_scores_
    if kind == "regression":
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9, atol=1e-12)
    else:
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("batch_size", [1, 32])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_sample_weights_equal_scikit_learn(kind, batch_size):
    X, y = data(kind)
    weights = np.random.default_rng(1).uniform(0.2, 3.0, y.shape[0])
    params = grid_params(kind, batch_size, 0.9, True, 1e-3, "invscaling")
    theirs, ours = fit_both(kind, X, y, sample_weight=weights, **params)
    assert largest_difference(theirs, ours) <= RTOL


def test_partial_fit_goes_on_like_scikit_learn():
    """partial_fit keeps the velocities and the invscaling rate between calls."""
    X, y = data("multiclass")
    params = grid_params("multiclass", 8, 0.9, True, 1e-3, "invscaling")
    theirs = MLPClassifier(solver="sgd", **params)
    renamed = ("hidden_layer_sizes", "learning_rate_init")
    ours = TwoLayerNet(
        **{k: v for k, v in params.items() if k not in renamed},
        n_hidden=H, eta0=params["learning_rate_init"],
    )  # fmt: skip
    for model in (theirs, ours):
        model.partial_fit(X, y, classes=[0, 1, 2])
        model.partial_fit(X[::-1], y[::-1])
        model.partial_fit(X, y)
    assert largest_difference(theirs, ours) <= RTOL


def test_float32_stays_close_to_scikit_learn():
    X, y = data("multiclass")
    params = grid_params("multiclass", 1, 0.9, True, 1e-3, "invscaling")
    theirs, ours = fit_both("multiclass", X.astype(np.float32), y, **params)
    assert ours.coefs_[0].dtype == np.float32 == theirs.coefs_[0].dtype
    assert largest_difference(theirs, ours) <= 1e-4


if __name__ == "__main__":
    print(f"{'setting':58s} largest relative difference")
    for kind, batch_size, (momentum, nesterov), alpha, learning_rate in GRID:
        X, y = data(kind)
        params = grid_params(kind, batch_size, momentum, nesterov, alpha, learning_rate)
        theirs, ours = fit_both(kind, X, y, **params)
        name = (
            f"{kind} batch={batch_size} momentum={momentum}{' nesterov' if nesterov else ''} "
            f"alpha={alpha} {learning_rate}"
        )
        print(f"{name:58s} {largest_difference(theirs, ours):.1e}")
