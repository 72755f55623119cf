"""fastsgd.TwoLayerNet as a scikit-learn estimator.

Its oracle is scikit-learn's MLPClassifier with one hidden layer and plain SGD
(solver='sgd', momentum=0, alpha=0, learning_rate='constant', shuffle=False), which computes the
same batch-averaged update from the same forward pass:

    deltas[-1] = a2 - y;  deltas[0] = (deltas[-1] @ W2.T) * g'(a1)
    W -= lr * (a.T @ delta) / batch;  b -= lr * mean(delta)
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastsgd import LogisticRegression, TwoLayerNet, TwoLayerNetRegressor


def make_data(seed=0, n=200, k=5, n_classes=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    y = rng.integers(0, n_classes, n)
    return X + 1.5 * rng.standard_normal((n_classes, k))[y], y


def expected_failed_checks(estimator):
    """The estimator checks a net fails on purpose, with the reasons."""
    failed = {}
    if estimator.batch_size != "auto":
        failed["check_sample_weight_equivalence_on_dense_data"] = (
            "SGD in small batches: a sample weight scales the sample's gradient within its "
            "batch (MLPClassifier's rule), which is not the same as repeating the sample; "
            "scikit-learn checks this equivalence for MLPClassifier with solver='lbfgs' only"
        )
    if isinstance(estimator, TwoLayerNetRegressor) and estimator.batch_size == 1:
        failed["check_regressor_multioutput"] = (
            "per-sample SGD at eta0=0.001 diverges on make_regression's unscaled targets (in "
            "the hundreds) within the first epoch, and fastsgd raises instead of returning a "
            "NaN model; MLPRegressor passes with adam, and TwoLayerNetRegressor with "
            "MLPRegressor's SGD settings (batch_size='auto', momentum 0.9) passes it too"
        )
    return failed


@parametrize_with_checks(
    [
        TwoLayerNet(),
        TwoLayerNet(activation="tanh", loss="squared_error", batch_size=8, n_hidden=7),
        TwoLayerNetRegressor(),
        TwoLayerNetRegressor(momentum=0.9, alpha=1e-4, batch_size="auto", eta0=0.001),
    ],
    expected_failed_checks=lambda est: expected_failed_checks(est),
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("batch_size", [1, 16])
def test_matches_mlpclassifier_sgd(activation, n_classes, batch_size):
    X, y = make_data(n_classes=n_classes)
    mlp = MLPClassifier(
        hidden_layer_sizes=(6,), activation=activation, solver="sgd", momentum=0.0,
        nesterovs_momentum=False, alpha=0.0, learning_rate="constant", learning_rate_init=0.05,
        batch_size=batch_size, shuffle=False, random_state=0, max_iter=1,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.partial_fit(X, y, classes=np.unique(y))  # initialise and take one epoch
    start = ([c.copy() for c in mlp.coefs_], [b.copy() for b in mlp.intercepts_])
    mlp.partial_fit(X, y)
    net = TwoLayerNet(
        n_hidden=6, activation=activation, eta0=0.05, batch_size=batch_size, shuffle=False,
        max_iter=1, tol=None,
    ).fit(X, y, coefs_init=start[0], intercepts_init=start[1])  # fmt: skip
    pairs = zip(net.coefs_ + net.intercepts_, mlp.coefs_ + mlp.intercepts_, strict=True)
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(net.predict_proba(X), mlp.predict_proba(X), atol=1e-10)


def test_attributes_layout_and_dtype():
    X, y = make_data(n_classes=3)
    net = TwoLayerNet(n_hidden=7, random_state=0, max_iter=3, tol=None).fit(X.astype(np.float32), y)
    assert [c.shape for c in net.coefs_] == [(5, 7), (7, 3)]
    assert [b.shape for b in net.intercepts_] == [(7,), (3,)]
    assert all(a.dtype == np.float32 for a in net.coefs_ + net.intercepts_)
    assert net.n_iter_ == 3 and len(net.loss_curve_) == 3 and net.t_ == 3 * 200
    binary = TwoLayerNet(n_hidden=4, random_state=0, max_iter=2, tol=None).fit(X, y == 1)
    assert binary.coefs_[1].shape == (4, 1)
    assert binary.predict_proba(X).shape == (200, 2)


def test_glorot_initialisation_bounds():
    net = TwoLayerNet(n_hidden=50, activation="logistic", random_state=0, max_iter=1, tol=None)
    rng = np.random.RandomState(0)
    params = net._init_params(5, 2, np.float64, rng, {})
    bound = np.sqrt(2.0 / (5 + 50))
    assert np.abs(params[0]).max() <= bound and np.abs(params[0]).max() > 0.8 * bound


def test_no_biases_stay_zero():
    X, y = make_data()
    net = TwoLayerNet(fit_intercept=False, random_state=0, max_iter=5, tol=None).fit(X, y)
    assert all(np.array_equal(b, np.zeros_like(b)) for b in net.intercepts_)


def test_pipeline_grid_search_clone_and_pickle():
    X, y = make_data()
    pipe = make_pipeline(StandardScaler(), TwoLayerNet(random_state=0, max_iter=20, tol=None))
    search = GridSearchCV(pipe, {"twolayernet__n_hidden": [4, 16]}, cv=3).fit(X, y)
    assert search.best_score_ > 0.85
    best = search.best_estimator_
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict_proba(X), best.predict_proba(X))
    assert clone(best[-1]).get_params() == best[-1].get_params()


def test_caller_arrays_and_inits_are_never_written():
    X, y = make_data()
    X_before, y_before = X.copy(), y.copy()
    first = TwoLayerNet(n_hidden=4, random_state=0, max_iter=2, tol=None).fit(X, y)
    coefs = [c.copy() for c in first.coefs_]
    second = TwoLayerNet(n_hidden=4, max_iter=2, tol=None).fit(
        X, y, coefs_init=first.coefs_, intercepts_init=first.intercepts_
    )
    for layer in range(2):
        np.testing.assert_array_equal(first.coefs_[layer], coefs[layer])
        assert not np.shares_memory(second.coefs_[layer], first.coefs_[layer])
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_fixed_biases_enter_the_forward_pass_like_mlpclassifier():
    """fit_intercept=False with given biases: used in the forward pass, never updated."""
    X, y = make_data()
    rng = np.random.default_rng(0)
    coefs = [rng.uniform(-0.5, 0.5, (5, 4)), rng.uniform(-0.5, 0.5, (4, 1))]
    biases = [rng.uniform(-0.5, 0.5, 4), np.array([2.0])]
    net = TwoLayerNet(n_hidden=4, fit_intercept=False, shuffle=False, max_iter=1, tol=None)
    net.fit(X, y, coefs_init=coefs, intercepts_init=biases)
    np.testing.assert_array_equal(net.intercepts_[1], [2.0])
    moved = TwoLayerNet(n_hidden=4, fit_intercept=False, shuffle=False, max_iter=1, tol=None)
    moved.fit(X, y, coefs_init=coefs, intercepts_init=[biases[0], np.array([0.0])])
    assert not np.allclose(net.coefs_[1], moved.coefs_[1])


def test_warm_start_after_changing_the_width_is_refused():
    X, y = make_data()
    net = TwoLayerNet(n_hidden=4, warm_start=True, max_iter=2, tol=None).fit(X, y)
    with pytest.raises(ValueError, match="warm_start cannot continue"):
        net.set_params(n_hidden=8).fit(X, y)
    assert net.coefs_[0].shape == (5, 4)


def test_wrong_init_is_rejected():
    X, y = make_data()
    with pytest.raises(ValueError, match=r"coefs_init\[0\] has shape"):
        TwoLayerNet(n_hidden=3).fit(X, y, coefs_init=[np.zeros((4, 3)), np.zeros((3, 1))])
    with pytest.raises(ValueError, match="activation"):
        TwoLayerNet(activation="softsign").fit(X, y)


def test_divergence_keeps_the_previous_model():
    X, y = make_data()
    net = TwoLayerNet(random_state=0, max_iter=2, tol=None).fit(X, y)
    before = [a.copy() for a in net.coefs_ + net.intercepts_]
    with pytest.raises(ValueError, match="diverged"):
        net.set_params(eta0=1e300).partial_fit(X * 1e300, y)
    for a, b in zip(net.coefs_ + net.intercepts_, before, strict=True):
        np.testing.assert_array_equal(a, b)


# -- real data ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 32])
def test_digits_softmax_accuracy(batch_size):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, random_state=0, stratify=y
    )
    net = TwoLayerNet(
        n_hidden=64, activation="tanh", eta0=0.05 if batch_size == 1 else 0.5,
        batch_size=batch_size, max_iter=40, tol=None, random_state=0,
    ).fit(X_train, y_train)  # fmt: skip
    accuracy = net.score(X_test, y_test)
    print(f"digits test accuracy (batch_size={batch_size}): {accuracy:.4f}")
    assert accuracy >= 0.93


@pytest.mark.slow
def test_higgs_net_beats_a_tuned_logistic_model(shared_data):
    train = np.loadtxt(shared_data / "higgs_lightgbm.binary.train")
    test = np.loadtxt(shared_data / "higgs_lightgbm.binary.test")
    scaler = StandardScaler().fit(train[:, 1:])
    X, y = scaler.transform(train[:, 1:]), train[:, 0].astype(int)
    X_test, y_test = scaler.transform(test[:, 1:]), test[:, 0].astype(int)
    logistic = GridSearchCV(
        LogisticRegression(max_iter=30, tol=None, random_state=0),
        {"eta0": [0.0003, 0.001, 0.003, 0.01, 0.03]},
        cv=3,
    ).fit(X, y)
    logistic_accuracy = logistic.score(X_test, y_test)
    net = TwoLayerNet(
        n_hidden=64, activation="relu", eta0=0.003, max_iter=40, tol=None, random_state=0
    ).fit(X, y)
    net_accuracy = net.score(X_test, y_test)
    print(f"higgs test accuracy: net {net_accuracy:.4f}, tuned logistic {logistic_accuracy:.4f}")
    assert net_accuracy >= logistic_accuracy


def test_early_stopping_holds_out_a_split_and_stops_on_its_accuracy():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((600, 5))
    y = (X[:, 0] + 0.3 * rng.standard_normal(600) > 0).astype(int)
    model = TwoLayerNet(
        n_hidden=8, eta0=0.05, early_stopping=True, validation_fraction=0.2, n_iter_no_change=2,
        max_iter=100, tol=1e-3, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert model.n_iter_ < 100
    assert model.t_ == model.n_iter_ * 480  # training rows only, as in MLPClassifier
    assert model.score(X, y) > 0.85
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_loss_ is None
    # the held-out rows are never trained on: the same fit on the training rows alone, in the
    # order of MLPClassifier's split (train_test_split with the generator after the init draws)
    rng = np.random.RandomState(0)
    rng.uniform(size=5 * 8 + 8 + 8 + 1)  # the Glorot draws
    train, _ = train_test_split(np.arange(600), test_size=0.2, random_state=rng, stratify=y)
    # (one epoch: early stopping keeps the weights of the best epoch, here the only one)
    same = TwoLayerNet(n_hidden=8, eta0=0.05, max_iter=1, tol=None, random_state=0, shuffle=False)
    stepped = TwoLayerNet(
        n_hidden=8, eta0=0.05, early_stopping=True, validation_fraction=0.2, max_iter=1,
        tol=None, random_state=0, shuffle=False,
    ).fit(X, y)  # fmt: skip
    same.fit(X[train], y[train])
    np.testing.assert_allclose(stepped.coefs_[0], same.coefs_[0], rtol=1e-12)


def test_adaptive_rate_divides_by_five_and_keeps_training():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((300, 4))
    y = (X[:, 1] > 0).astype(int)
    model = TwoLayerNet(
        n_hidden=4, eta0=0.5, learning_rate="adaptive", n_iter_no_change=1, tol=10.0,
        max_iter=6, random_state=0,
    ).fit(X, y)  # fmt: skip
    # tol=10 makes every epoch count as no improvement: after more than n_iter_no_change of
    # them (MLPClassifier's rule) the rate shrinks (0.5 -> 0.1 -> ...), and training runs all
    # max_iter epochs; a constant rate stops after the third (the first epoch always improves
    # on an infinite best)
    assert model.n_iter_ == 6
    constant = TwoLayerNet(
        n_hidden=4, eta0=0.5, n_iter_no_change=1, tol=10.0, max_iter=6, random_state=0
    ).fit(X, y)
    assert constant.n_iter_ == 3
