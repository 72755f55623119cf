"""Model files: fastsgd.load(model.save(path)) gives back the same model, from arrays and JSON.

The reference is the model itself: a loaded model must predict exactly what the saved one did,
carry the same hyperparameters and fitted values, and the file must open with NumPy's
allow_pickle=False. For training on, the reference is the in-memory estimator continued without
saving: for every estimator and setting (CONTINUE_CASES), the loaded model's partial_fit (twice)
or warm-start fit must leave, bit for bit, the state the saved model's own continuation leaves
(every attribute: weights, averaged SGD state, optimizer state, t_, n_iter_, loss_curve_,
classes_ and its dtype). Version-1 files (the format before the whole training state was kept)
either continue the same way or refuse to continue with the reason. Crafted files (wrong
version, class, shapes, dtypes, pickled objects, compressed members that claim more than they
can hold) are refused with a ValueError that names the problem.
"""

import json
import math
import pickle
import struct
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris

import fastsgd
from fastsgd import (
    LogisticRegression,
    LogisticRegressionSweep,
    SGDClassifier,
    SGDRegressor,
    TwoLayerNet,
    TwoLayerNetRegressor,
    persistence,
)
from fastsgd.persistence import META

# Small max_iter on purpose: the runs that stop at max_iter say so, which is not under test here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Maximum number of iteration:sklearn.exceptions.ConvergenceWarning"
)


def fitted(estimator, n_classes=3, dtype=np.float64):
    X, y = load_iris(return_X_y=True)
    keep = y < n_classes
    X, y = X[keep].astype(dtype), np.array(["setosa", "versicolor", "virginica"])[y[keep]]
    return estimator.fit(X, y), X, y


MODELS = [
    lambda: LogisticRegression(max_iter=5, tol=None, random_state=0),
    lambda: SGDClassifier(loss="modified_huber", max_iter=5, tol=None, random_state=0),
    lambda: TwoLayerNet(n_hidden=7, max_iter=5, tol=None, random_state=0, activation="tanh"),
    lambda: LogisticRegressionSweep(eta0s=(0.001, 0.1), max_iter=5, tol=None, random_state=0),
]


@pytest.mark.parametrize("make", MODELS, ids=["logistic", "sgd", "net", "sweep"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_predicts_the_same(tmp_path, make, n_classes, dtype):
    model, X, y = fitted(make(), n_classes, dtype)
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:  # loads without pickle
        meta = json.loads(str(archive[META]))
        assert meta["class"] == type(model).__name__ and meta["version"] == 2
    loaded = fastsgd.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.loss_curve_ == model.loss_curve_ and loaded.n_iter_ == model.n_iter_
    assert loaded.n_features_in_ == model.n_features_in_
    # a loaded model trains on (warm start from the file's weights)
    loaded.set_params(warm_start=True).fit(X, y)


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_regressor_round_trip(tmp_path, loss):
    X, _ = load_iris(return_X_y=True)
    y = X @ np.array([0.5, -1.0, 2.0, 0.3])
    model = SGDRegressor(loss=loss, max_iter=5, tol=None, random_state=0).fit(X, y)
    model.save(tmp_path / "r.npz")
    loaded = fastsgd.load(tmp_path / "r.npz")
    assert type(loaded) is SGDRegressor and loaded.get_params() == model.get_params()
    assert not hasattr(loaded, "classes_") and loaded.coef_.shape == (4,)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.t_ == model.t_ and loaded.loss_curve_ == model.loss_curve_


def test_feature_names_survive(tmp_path):
    pandas = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=3, tol=None).fit(X, y)
    model.save(tmp_path / "m.npz")
    loaded = fastsgd.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert isinstance(X, pandas.DataFrame)


def test_pickle_still_works():
    model, X, _ = fitted(LogisticRegression(max_iter=3, tol=None))
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict_proba(X), model.predict_proba(X))


def test_unfitted_and_unstorable_models_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        LogisticRegression().save(tmp_path / "m.npz")
    seeded = LogisticRegression(max_iter=2, tol=None, random_state=np.random.RandomState(0))
    model, _, _ = fitted(seeded)
    with pytest.raises(TypeError, match="random_state"):
        model.save(tmp_path / "m.npz")


def write(path, meta, **arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **{META: np.array(json.dumps(meta))}, **arrays)


def saved_parts(tmp_path):
    model, _, _ = fitted(LogisticRegression(max_iter=2, tol=None, random_state=0))
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    return json.loads(str(arrays.pop(META))), arrays


def crafted(meta, arrays, change):
    meta, arrays = json.loads(json.dumps(meta)), dict(arrays)
    change(meta, arrays)
    return meta, arrays


BAD_FILES = {
    "version": (lambda m, a: m.update(version=3), "format version 3"),
    "version 0": (lambda m, a: m.update(version=0), "format version 0"),
    "format": (lambda m, a: m.update(format="other"), "format"),
    "class": (lambda m, a: m.update({"class": "os.system"}), "unknown estimator class"),
    "param": (lambda m, a: m["params"].update(eta0=-1.0), "hyperparameters are invalid"),
    "unknown param": (lambda m, a: m["params"].update(evil=1), "hyperparameters are invalid"),
    "shape": (lambda m, a: a.update(coef_=np.zeros((3, 5))), "coef_ has shape"),
    "dtype": (lambda m, a: a.update(coef_=a["coef_"].astype(np.int64)), "coef_ has dtype"),
    "mixed dtypes": (
        lambda m, a: a.update(intercept_=a["intercept_"].astype(np.float32)),
        "mix dtypes",
    ),
    "nan": (lambda m, a: a.update(coef_=np.full_like(a["coef_"], np.nan)), "NaN"),
    "missing": (lambda m, a: a.pop("intercept_"), "missing arrays"),
    "extra": (lambda m, a: a.update(payload=np.zeros(3)), "unexpected arrays"),
    "n_features": (lambda m, a: m["scalars"].update(n_features_in_=-3), "n_features_in_"),
    "classes": (lambda m, a: a.update(classes_=np.array(["a", "a", "b"])), "repeated"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_crafted_files_are_refused(tmp_path, case):
    meta, arrays = saved_parts(tmp_path)
    change, message = BAD_FILES[case]
    meta, arrays = crafted(meta, arrays, change)
    write(tmp_path / "bad.npz", meta, **arrays)
    with pytest.raises(ValueError, match=message):
        fastsgd.load(tmp_path / "bad.npz")


def test_pickled_payloads_and_junk_are_refused(tmp_path):
    meta, arrays = saved_parts(tmp_path)
    arrays["classes_"] = np.array([object(), 1], dtype=object)  # np.savez pickles object arrays
    with open(tmp_path / "pickled.npz", "wb") as handle:
        np.savez(handle, **{META: np.array(json.dumps(meta))}, **arrays)
    with pytest.raises(ValueError, match="plain arrays"):
        fastsgd.load(tmp_path / "pickled.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="cannot be read"):
        fastsgd.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "nometa.npz", coef_=np.zeros(3))
    with pytest.raises(ValueError, match="__meta__"):
        fastsgd.load(tmp_path / "nometa.npz")


# -- the two-layer nets: the whole training state --------------------------------------------

NET_SETTINGS = dict(
    n_hidden=6, max_iter=4, tol=None, random_state=0, momentum=0.9, alpha=1e-3,
    learning_rate="invscaling", power_t=0.3, eta0=0.05,
)  # fmt: skip


def net_problem(case):
    """(estimator, X, y) of one kind of net: labels of several dtypes, multilabel, regression."""
    X, target = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    if case == "binary":  # text labels, as a fixed-width string array
        return TwoLayerNet(**NET_SETTINGS), X, names[(target > 0).astype(int)]
    if case == "multiclass":  # text labels in an object array
        return TwoLayerNet(**NET_SETTINGS), X, names[target].astype(object)
    if case == "multilabel":
        indicator = np.eye(3, dtype=np.int64)[target]
        indicator[:, 0] |= X[:, 1] > 3.0
        return TwoLayerNet(**NET_SETTINGS, batch_size=16), X, indicator
    if case == "regressor-1d":
        return TwoLayerNetRegressor(**NET_SETTINGS), X[:, 1:], X[:, 0]
    if case == "regressor-2d":
        return TwoLayerNetRegressor(**NET_SETTINGS, batch_size="auto"), X[:, 2:], X[:, :2]
    raise AssertionError(case)


NET_CASES = ["binary", "multiclass", "multilabel", "regressor-1d", "regressor-2d"]
NET_STATE = ["loss_", "best_loss_", "validation_scores_", "best_validation_score_",
             "_no_improvement_count", "n_layers_", "n_outputs_", "out_activation_"]  # fmt: skip


def assert_same_net(model, other, X):
    for name in ("coefs_", "intercepts_"):
        for mine, theirs in zip(getattr(model, name), getattr(other, name), strict=True):
            np.testing.assert_array_equal(theirs, mine)
            assert theirs.dtype == mine.dtype
    expected, got = model.predict(X), other.predict(X)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert other.t_ == model.t_ and other.n_iter_ == model.n_iter_
    assert other.loss_curve_ == model.loss_curve_
    for name in NET_STATE:
        assert getattr(other, name) == getattr(model, name), name
    if hasattr(model, "classes_"):
        np.testing.assert_array_equal(other.classes_, model.classes_)
        assert other.classes_.dtype == model.classes_.dtype
        assert other._multilabel == model._multilabel
    else:
        assert other._y_was_1d == model._y_was_1d


@pytest.mark.parametrize("case", NET_CASES)
def test_net_partial_fit_goes_on_after_load_as_in_memory(tmp_path, case):
    """save/load (and pickle) keep the whole training state: the velocities, the current
    invscaling rate, the stopping counters; the next partial_fit is bit for bit the same."""
    model, X, y = net_problem(case)
    model.fit(X, y)
    model.save(tmp_path / "net.npz")
    loaded = fastsgd.load(tmp_path / "net.npz")
    pickled = pickle.loads(pickle.dumps(model))
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    for other in (loaded, pickled):
        assert_same_net(model, other, X)
        assert other._optimizer_state["rate"] == model._optimizer_state["rate"] != model.eta0
    for estimator in (model, loaded, pickled):
        estimator.partial_fit(X, y)
    for other in (loaded, pickled):
        assert_same_net(model, other, X)
    # and once more from the continued state, through a second file
    loaded.save(tmp_path / "again.npz")
    again = fastsgd.load(tmp_path / "again.npz")
    for estimator in (model, again):
        estimator.partial_fit(X, y)
    assert_same_net(model, again, X)


def test_net_without_momentum_stores_no_velocities(tmp_path):
    model, X, y = net_problem("multiclass")
    model.set_params(momentum=0.0, learning_rate="adaptive", n_iter_no_change=1, tol=10.0)
    model.fit(X, y)
    assert model._optimizer_state["rate"] < model.eta0  # the adaptive rate fell
    model.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz", allow_pickle=False) as archive:
        assert not any(name.startswith("velocities") for name in archive.files)
        meta = json.loads(str(archive[META]))
    assert meta["scalars"]["_optimizer_state"]["velocities"] == "zeros"
    loaded = fastsgd.load(tmp_path / "net.npz")
    for velocity, param in zip(
        loaded._optimizer_state["velocities"], loaded._get_params_arrays(), strict=True
    ):
        assert velocity.shape == param.shape and not velocity.any()
    for estimator in (model, loaded):
        estimator.set_params(momentum=0.5).partial_fit(X, y)
    assert_same_net(model, loaded, X)


@pytest.mark.parametrize("case", ["multiclass", "regressor-2d"])
def test_net_early_stopping_state_and_warm_start_survive(tmp_path, case):
    """validation_scores_ and the best score come back (a fit on them goes on the same), and
    infinities (n_iter_no_change=np.inf, a best loss of inf) are kept in strict JSON."""
    model, X, y = net_problem(case)
    model.set_params(early_stopping=True, validation_fraction=0.2, n_iter_no_change=np.inf,
                     tol=1e-4, max_iter=3)  # fmt: skip
    model.fit(X, y)
    assert len(model.validation_scores_) == 3 and model.best_loss_ is None
    model.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz", allow_pickle=False) as archive:

        def refuse(token):
            raise AssertionError(f"non-standard JSON {token}")

        meta = json.loads(str(archive[META]), parse_constant=refuse)
    assert meta["params"]["n_iter_no_change"] == {"float": "inf"}
    loaded = fastsgd.load(tmp_path / "net.npz")
    assert loaded.n_iter_no_change == np.inf
    assert_same_net(model, loaded, X)
    for estimator in (model, loaded):
        estimator.set_params(warm_start=True).fit(X, y)
    assert_same_net(model, loaded, X)
    assert len(loaded.validation_scores_) == 6
    # a best loss of inf and a NaN score go through {"float": ...} too
    model.set_params(early_stopping=False)
    model._optimizer_state.update(best_loss=np.inf, scores=[np.nan, 0.5])
    model.save(tmp_path / "odd.npz")
    state = fastsgd.load(tmp_path / "odd.npz")._optimizer_state
    assert state["best_loss"] == np.inf and np.isnan(state["scores"][0])


def test_object_labels_keep_their_dtype_in_every_classifier(tmp_path):
    X, target = load_iris(return_X_y=True)
    y = np.array(["a", "b", "c"], dtype=object)[target]
    model = LogisticRegression(max_iter=2, tol=None, random_state=0).fit(X, y)
    model.save(tmp_path / "m.npz")
    loaded = fastsgd.load(tmp_path / "m.npz")
    assert loaded.classes_.dtype == object and loaded.predict(X).dtype == object
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_net_file_without_training_state_loads_and_refuses_to_continue(tmp_path):
    """A TwoLayerNet file from before the training state was stored (version 1): it loads and
    predicts, but partial_fit and a warm fit would lose the velocities and the invscaling rate,
    so they refuse with the reason; a new fit clears the refusal."""
    model, X, y = net_problem("multiclass")
    model.fit(X, y)
    model.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop(META)))
    for key in ["_multilabel", *NET_STATE]:
        meta["scalars"].pop(key, None)
    meta["scalars"].pop("_optimizer_state")
    meta.pop("classes_dtype")
    meta["version"] = 1
    for name in [name for name in arrays if name.startswith("velocities")]:
        del arrays[name]
    write(tmp_path / "old.npz", meta, **arrays)
    loaded = fastsgd.load(tmp_path / "old.npz")
    assert not hasattr(loaded, "_optimizer_state") and loaded._multilabel is False
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    reason = "version-1 fastsgd model file, which does not hold the net's training state"
    with pytest.raises(ValueError, match=reason):
        loaded.partial_fit(X, y)
    with pytest.raises(ValueError, match=reason):
        loaded.set_params(warm_start=True).fit(X, y)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))  # unchanged
    loaded.save(tmp_path / "again.npz")  # the reason goes with the model
    with pytest.raises(ValueError, match=reason):
        fastsgd.load(tmp_path / "again.npz").partial_fit(X, y)
    loaded.set_params(warm_start=False).fit(X, y)  # a new fit: a whole training state again
    assert "_continue_refusal" not in vars(loaded)
    assert_same_net(model, loaded, X)
    loaded.partial_fit(X, y)


def net_parts(tmp_path, case):
    model, X, y = net_problem(case)
    model.fit(X, y)
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    return json.loads(str(arrays.pop(META))), arrays


def optimizer(meta):
    return meta["scalars"]["_optimizer_state"]


BAD_NET_FILES = {
    "rate": ("multiclass", lambda m, a: optimizer(m).update(rate=-1.0), "rate"),
    "rate type": ("multiclass", lambda m, a: optimizer(m).update(rate="fast"), "rate"),
    "state key": ("multiclass", lambda m, a: optimizer(m).update(evil=1), "_optimizer_state"),
    "count": ("multiclass", lambda m, a: optimizer(m).update(no_improvement=True), "no_impr"),
    "velocity marker": ("multiclass", lambda m, a: optimizer(m).update(velocities="x"), "veloc"),
    "velocity shape": (
        "multiclass", lambda m, a: a.update(velocities_0=a["velocities_0"].T), "velocities_0",
    ),
    "velocity nan": (
        "regressor-1d", lambda m, a: a["velocities_2"].fill(np.nan), "velocities_2 contains NaN",
    ),
    "velocity missing": ("multiclass", lambda m, a: a.pop("velocities_3"), "missing arrays"),
    "velocities unannounced": (
        "multiclass", lambda m, a: optimizer(m).update(velocities="zeros"), "unexpected arrays",
    ),
    "multilabel flag": ("multilabel", lambda m, a: m["scalars"].update(_multilabel=1), "true"),
    "multilabel classes": (
        "multilabel", lambda m, a: a.update(classes_=np.array([3, 4, 5])), "multilabel",
    ),
    "outputs": (
        "regressor-2d", lambda m, a: a.update(coefs_1=np.zeros((6, 3))), "intercepts_1 has shape",
    ),
    "1-d y": ("regressor-2d", lambda m, a: m["scalars"].update(_y_was_1d=True), "1-D y"),
    "regressor flag": ("regressor-1d", lambda m, a: m["scalars"].pop("_y_was_1d"), "_y_was_1d"),
    "scores": ("multiclass", lambda m, a: m["scalars"].update(validation_scores_=["a"]), "valid"),
    "classes dtype": ("multiclass", lambda m, a: m.update(classes_dtype="bytes"), "classes_dt"),
    "regressor classes dtype": (
        "regressor-1d", lambda m, a: m.update(classes_dtype="object"), "classes_dtype",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_NET_FILES))
def test_crafted_net_files_are_refused(tmp_path, case):
    kind, change, message = BAD_NET_FILES[case]
    meta, arrays = crafted(*net_parts(tmp_path, kind), change)
    write(tmp_path / "bad.npz", meta, **arrays)
    with pytest.raises(ValueError, match=message):
        fastsgd.load(tmp_path / "bad.npz")


# -- every estimator: save, load, continue == continue without saving --------------------------


def problem(kind, n=120, n_features=4, dtype=np.float64, sparse=False):
    """(X, y) of a small problem: "binary", "multiclass", "text" (3 classes, an object array of
    strings), "int32" (3 classes), "regression", "regression-2d", "multilabel"."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, n_features))
    scores = X @ rng.standard_normal((n_features, 3)) + 0.5 * rng.standard_normal((n, 3))
    if kind == "binary":
        y = (scores[:, 0] > 0).astype(np.int64)
    elif kind == "multiclass":
        y = scores.argmax(axis=1)
    elif kind == "text":
        y = np.array(["cat", "dog", "eel"], dtype=object)[scores.argmax(axis=1)]
    elif kind == "int32":
        y = (scores.argmax(axis=1) * 10 - 5).astype(np.int32)
    elif kind == "regression":
        y = scores[:, 0] + 1.0
    elif kind == "regression-2d":
        y = scores[:, :2]
    elif kind == "multilabel":
        y = (scores > 0).astype(np.int64)
    else:
        raise AssertionError(kind)
    if sparse:
        X[np.abs(X) < 0.6] = 0.0
        return sp.csr_matrix(X.astype(dtype)), y
    return X.astype(dtype), y


LINEAR = dict(max_iter=3, tol=None, random_state=0)
NET = dict(n_hidden=5, max_iter=3, tol=None, random_state=0, eta0=0.05)

# id -> (estimator factory, problem kind, problem options, uses sample weights)
CONTINUE_CASES = {
    "logistic-default": (lambda: LogisticRegression(random_state=0, max_iter=3), "multiclass"),
    "logistic-binary": (lambda: LogisticRegression(**LINEAR), "binary"),
    "logistic-l2-optimal": (
        lambda: LogisticRegression(**LINEAR, penalty="l2", alpha=1e-3, learning_rate="optimal"),
        "multiclass",
    ),
    "logistic-l1-invscaling": (
        lambda: LogisticRegression(**LINEAR, penalty="l1", alpha=1e-3,
                                   learning_rate="invscaling", eta0=0.1),
        "binary",
    ),
    "logistic-elasticnet-adaptive": (
        lambda: LogisticRegression(max_iter=4, tol=10.0, n_iter_no_change=1, random_state=0,
                                   penalty="elasticnet", l1_ratio=0.4, learning_rate="adaptive"),
        "multiclass",
    ),
    "logistic-average-true": (lambda: LogisticRegression(**LINEAR, average=True), "multiclass"),
    "logistic-average-5": (
        lambda: LogisticRegression(**LINEAR, average=5, penalty="l2"), "binary"
    ),
    "logistic-average-starts-later": (  # saved before the average starts (t_ = 121 < 200)
        lambda: LogisticRegression(random_state=0, tol=None, max_iter=1, average=200),
        "binary",
    ),
    "logistic-class-weight": (
        lambda: LogisticRegression(**LINEAR, class_weight={0: 1.0, 1: 3.0, 2: 0.5}),
        "multiclass",
    ),
    "logistic-balanced-average": (
        lambda: LogisticRegression(**LINEAR, class_weight="balanced", average=True),
        "binary",
    ),
    "logistic-sample-weight": (lambda: LogisticRegression(**LINEAR), "multiclass", {}, True),
    "logistic-csr-l2-average": (
        lambda: LogisticRegression(**LINEAR, penalty="l2", average=True),
        "multiclass", {"sparse": True},
    ),
    "logistic-csr-float32": (
        lambda: LogisticRegression(**LINEAR), "binary", {"sparse": True, "dtype": np.float32}
    ),
    "logistic-float32-average": (
        lambda: LogisticRegression(**LINEAR, average=True, penalty="l2"),
        "multiclass", {"dtype": np.float32},
    ),
    "logistic-text-labels": (lambda: LogisticRegression(**LINEAR, average=3), "text"),
    "logistic-int32-labels": (lambda: LogisticRegression(**LINEAR), "int32"),
    "logistic-early-stopping": (
        lambda: LogisticRegression(max_iter=4, tol=1e-3, random_state=0, early_stopping=True,
                                   n_iter_no_change=2, validation_fraction=0.2),
        "multiclass",
    ),
    "sgd-hinge": (lambda: SGDClassifier(**LINEAR), "multiclass"),
    "sgd-hinge-binary-average": (lambda: SGDClassifier(**LINEAR, average=True), "binary"),
    "sgd-log_loss-elasticnet": (
        lambda: SGDClassifier(**LINEAR, loss="log_loss", penalty="elasticnet"), "binary"
    ),
    "sgd-modified_huber-average-7": (
        lambda: SGDClassifier(**LINEAR, loss="modified_huber", average=7), "multiclass"
    ),
    "sgd-hinge-csr-sample-weight": (
        lambda: SGDClassifier(**LINEAR, class_weight="balanced"), "multiclass",
        {"sparse": True}, True,
    ),
    "sgd-float32-text-class-weight": (
        lambda: SGDClassifier(**LINEAR, loss="log_loss", learning_rate="invscaling", eta0=0.05,
                              class_weight={"cat": 2.0, "dog": 1, "eel": 0.5}),
        "text", {"dtype": np.float32},
    ),
    "regressor-squared_error": (lambda: SGDRegressor(**LINEAR), "regression"),
    "regressor-huber": (lambda: SGDRegressor(**LINEAR, loss="huber", penalty="l1"), "regression"),
    "regressor-average": (lambda: SGDRegressor(**LINEAR, average=True), "regression"),
    "regressor-average-csr-float32-weights": (
        lambda: SGDRegressor(**LINEAR, average=10, eta0=0.005, alpha=1e-3),
        "regression", {"sparse": True, "dtype": np.float32}, True,
    ),
    "regressor-adaptive": (
        lambda: SGDRegressor(max_iter=4, tol=10.0, n_iter_no_change=1, random_state=0,
                             learning_rate="adaptive"),
        "regression",
    ),
    "sweep-multiclass": (
        lambda: LogisticRegressionSweep(eta0s=(0.01, 0.1, 0.5), max_iter=3, tol=None,
                                        random_state=0),
        "multiclass",
    ),
    "sweep-binary-float32-text": (
        lambda: LogisticRegressionSweep(eta0s=(0.05, 0.2), max_iter=3, tol=1e-3, random_state=0,
                                        scoring="accuracy"),
        "text", {"dtype": np.float32},
    ),
    "net-nesterov": (lambda: TwoLayerNet(**NET, momentum=0.9), "multiclass"),
    "net-classical-alpha": (
        lambda: TwoLayerNet(**NET, momentum=0.9, nesterovs_momentum=False, alpha=1e-3),
        "binary",
    ),
    "net-auto-invscaling": (
        lambda: TwoLayerNet(**NET, batch_size="auto", learning_rate="invscaling", power_t=0.3,
                            momentum=0.5),
        "multiclass",
    ),
    "net-batch-7-adaptive": (
        lambda: TwoLayerNet(n_hidden=5, max_iter=4, tol=10.0, n_iter_no_change=1,
                            random_state=0, eta0=0.05, batch_size=7, learning_rate="adaptive",
                            momentum=0.9, activation="tanh"),
        "multiclass",
    ),
    "net-early-stopping": (
        lambda: TwoLayerNet(**{**NET, "tol": 1e-4}, early_stopping=True, momentum=0.9,
                            n_iter_no_change=2, validation_fraction=0.2),
        "multiclass",
    ),
    "net-text-float32-weights": (
        lambda: TwoLayerNet(**NET, momentum=0.9, alpha=1e-4, activation="logistic"),
        "text", {"dtype": np.float32}, True,
    ),
    "net-int32-labels": (lambda: TwoLayerNet(**NET, loss="squared_error"), "int32"),
    "net-multilabel": (lambda: TwoLayerNet(**NET, momentum=0.9, batch_size=10), "multilabel"),
    "net-regressor": (
        lambda: TwoLayerNetRegressor(**{**NET, "eta0": 0.01}, momentum=0.9), "regression"
    ),
    "net-regressor-2d-auto-invscaling": (
        lambda: TwoLayerNetRegressor(**{**NET, "eta0": 0.01}, batch_size="auto",
                                     learning_rate="invscaling", momentum=0.9, alpha=1e-3),
        "regression-2d",
    ),
    "net-regressor-early-stopping": (
        lambda: TwoLayerNetRegressor(**{**NET, "eta0": 0.01, "tol": 1e-4}, early_stopping=True,
                                     validation_fraction=0.2),
        "regression",
    ),
}  # fmt: skip


def no_partial_fit(case):
    """Cases that only warm-start: the sweep has no partial_fit, and a net refuses partial_fit
    with early_stopping (MLPClassifier's rule)."""
    return case.startswith("sweep") or (case.startswith("net") and "early-stopping" in case)


CONTINUATIONS = [
    pytest.param(case, how, id=f"{case}-{how}")
    for case in CONTINUE_CASES
    for how in ("partial_fit", "warm_start")
    if not (how == "partial_fit" and no_partial_fit(case))
]


def case_problem(case):
    """(a fresh estimator, X, y, sample_weight or None) of CONTINUE_CASES[case]."""
    make, kind, options, weighted = (*CONTINUE_CASES[case], {}, False)[:4]
    X, y = problem(kind, **options)
    weights = np.random.default_rng(3).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    return make(), X, y, weights


def continue_training(model, how, X, y, weights):
    """Two partial_fit calls (on halves in a different order, then all rows), or a warm fit of
    two epochs."""
    extra = {} if weights is None else {"sample_weight": weights}
    if how == "partial_fit":
        rows = np.arange(X.shape[0])[::-1][: X.shape[0] // 2]
        half = {} if weights is None else {"sample_weight": weights[rows]}
        model.partial_fit(X[rows], y[rows], **half)
        model.partial_fit(X, y, **extra)
    else:
        model.set_params(warm_start=True, max_iter=2).fit(X, y, **extra)


def assert_same_value(expected, got, where):
    """Equal bit for bit: arrays with their dtype, lists and dicts item by item, NaN as NaN."""
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), where
        assert got.dtype == expected.dtype and got.shape == expected.shape, where
        np.testing.assert_array_equal(got, expected, err_msg=where)
    elif sp.issparse(expected):  # after sparsify(): the loaded model holds the dense weights
        np.testing.assert_array_equal(got, expected.toarray(), err_msg=where)
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), where
        for key in expected:
            assert_same_value(expected[key], got[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected), where
        for index, (mine, theirs) in enumerate(zip(expected, got, strict=True)):
            assert_same_value(mine, theirs, f"{where}[{index}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got), where
    else:
        assert got == expected and isinstance(got, bool) == isinstance(expected, bool), (
            f"{where}: {got!r} != {expected!r}"
        )


def assert_same_state(expected, got, skip=()):
    """Every attribute of ``got`` (hyperparameters, fitted values, training state) equals
    ``expected``'s, bit for bit; ``skip`` names attributes only ``expected`` may have."""
    mine = {key: value for key, value in vars(expected).items() if key not in skip}
    assert set(vars(got)) == set(mine), set(vars(got)) ^ set(mine)
    for key, value in mine.items():
        assert_same_value(value, vars(got)[key], key)


@pytest.mark.parametrize(("case", "how"), CONTINUATIONS)
def test_loaded_model_continues_as_the_saved_one(tmp_path, case, how):
    """save, load, continue == continue without saving, bit for bit; and the continued model's
    file holds the continued state."""
    model, X, y, weights = case_problem(case)
    model.fit(X, y, **({} if weights is None else {"sample_weight": weights}))
    model.save(tmp_path / "model.npz")
    loaded = fastsgd.load(tmp_path / "model.npz")
    assert_same_state(model, loaded)
    if hasattr(model, "classes_"):
        assert loaded.classes_.dtype == model.classes_.dtype
    for estimator in (model, loaded):
        continue_training(estimator, how, X, y, weights)
    assert_same_state(model, loaded)
    assert loaded.t_ == model.t_ and loaded.n_iter_ == model.n_iter_
    assert loaded.loss_curve_ == model.loss_curve_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # the continued model goes through a file again
    loaded.save(tmp_path / "again.npz")
    assert_same_state(model, fastsgd.load(tmp_path / "again.npz"))


def test_continue_cases_cover_the_settings():
    """The settings the issue lists, each in CONTINUE_CASES (guards against a case list that
    quietly shrinks)."""
    assert len(CONTINUATIONS) >= 40
    made = {case: case_problem(case)[0] for case in CONTINUE_CASES}
    params = [model.get_params() for model in made.values()]
    for key, value in [("penalty", "l1"), ("penalty", "elasticnet"), ("penalty", "l2"),
                       ("learning_rate", "optimal"), ("learning_rate", "invscaling"),
                       ("learning_rate", "adaptive"), ("average", True), ("average", 5),
                       ("loss", "hinge"), ("loss", "log_loss"), ("loss", "modified_huber"),
                       ("loss", "squared_error"), ("loss", "huber"), ("nesterovs_momentum", False),
                       ("batch_size", "auto"), ("batch_size", 1), ("early_stopping", True),
                       ("class_weight", "balanced")]:  # fmt: skip
        assert any(p.get(key) == value and type(p.get(key)) is type(value) for p in params), key
    kinds = {type(model).__name__ for model in made.values()}
    assert kinds == set(persistence._WEIGHTS)


def test_the_averaged_state_is_in_the_file(tmp_path):
    """The defect this format version fixes: an averaging model's plain weights and running
    averages are members of the file, and without them partial_fit would go on from the averaged
    weights with an empty average (about half the weights after one more call)."""
    model, X, y, _ = case_problem("logistic-average-true")
    model.fit(X, y)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert {"_standard_coef", "_average_coef", "_expanded_class_weight"} <= set(archive.files)
        assert archive["_average_coef"].dtype == np.float64
    assert not np.array_equal(model._standard_coef, model.coef_)
    loaded = fastsgd.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded._standard_coef, model._standard_coef)
    np.testing.assert_array_equal(loaded._average_intercept, model._average_intercept)


def test_a_net_without_optimizer_state_starts_a_new_one_loaded_or_not(tmp_path):
    """A net trained by fastsgd.dask has no optimizer state; its file then has none, and the
    next partial_fit starts a new optimizer in the loaded model as in the saved one."""
    model, X, y, _ = case_problem("net-nesterov")
    model.fit(X, y)
    model._optimizer_state = None  # what fastsgd.dask's commit leaves
    model.save(tmp_path / "m.npz")
    loaded = fastsgd.load(tmp_path / "m.npz")
    assert "_continue_refusal" not in vars(loaded)
    for estimator in (model, loaded):
        estimator.partial_fit(X, y)
    assert_same_state(model, loaded)


@pytest.mark.parametrize(
    ("labels", "dtype"),
    [(np.array(["a", "bb", "c"], dtype=object), object), (np.array([3, 1, 2], np.int32), np.int32),
     (np.array([-1, 5, 9]), np.int64), (np.array(["x", "yy", "zzz"]), np.dtype("<U3")),
     (np.array([-1.0, 0.0, 2.0]), np.float64), (np.array([True, False, True]), np.bool_),
     (np.array([7, 8, 9], np.uint8), np.uint8)],
    ids=["object", "int32", "int64", "str", "float", "bool", "uint8"],
)  # fmt: skip
@pytest.mark.parametrize("make", MODELS, ids=["logistic", "sgd", "net", "sweep"])
def test_classes_keep_their_dtype(tmp_path, make, labels, dtype):
    X, codes = problem("multiclass")
    if labels.dtype == bool:
        codes = codes % 2
    y = labels[codes]
    model = make().fit(X, y)
    assert model.classes_.dtype == dtype
    model.save(tmp_path / "m.npz")
    loaded = fastsgd.load(tmp_path / "m.npz")
    assert loaded.classes_.dtype == dtype
    assert [type(c) for c in loaded.classes_] == [type(c) for c in model.classes_]
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    expected, got = model.predict(X), loaded.predict(X)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


# -- version-1 files ---------------------------------------------------------------------------


# Version 1's default parallel strategy where it had one; with n_jobs=None it trained
# sequentially (n_shards did not exist: version 1 cut n_jobs shards).
VERSION_1_PARALLEL = {"LogisticRegression": "average", "LogisticRegressionSweep": "average",
                      "TwoLayerNet": "average", "TwoLayerNetRegressor": "average"}  # fmt: skip


def write_version_1(model, path, **params):
    """The file the previous fastsgd (format version 1) wrote for ``model``: this version's file
    without the linear engine's training state and the refusal, with version 1's parameters
    (no n_shards, its default parallel, and ``params``)."""
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop(META)))
    for name in persistence._STATE_ARRAYS.get(type(model).__name__, ()):
        arrays.pop(name, None)
    meta["scalars"].pop("_continue_refusal", None)
    meta["params"].pop("n_shards")
    if meta["params"]["parallel"] is None and model.n_jobs is None:
        meta["params"]["parallel"] = VERSION_1_PARALLEL.get(type(model).__name__)
    meta["params"].update(params)
    meta["version"] = 1
    write(path, meta, **arrays)


V1_CONTINUES = [
    "logistic-default", "logistic-l1-invscaling", "logistic-class-weight", "sgd-hinge",
    "sgd-hinge-csr-sample-weight", "regressor-huber", "sweep-multiclass", "net-nesterov",
    "net-regressor-2d-auto-invscaling",
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "how"),
    [(c, h) for c in V1_CONTINUES for h in ("partial_fit", "warm_start")
     if not (h == "partial_fit" and no_partial_fit(c))],
)  # fmt: skip
def test_version_1_files_without_averaging_continue(tmp_path, case, how):
    """A version-1 file holds all that continuing needs unless the model averages (or is a net
    written before the net's state was stored): it continues as the saved model would have."""
    model, X, y, weights = case_problem(case)
    model.fit(X, y, **({} if weights is None else {"sample_weight": weights}))
    write_version_1(model, tmp_path / "v1.npz")
    loaded = fastsgd.load(tmp_path / "v1.npz")
    assert "_continue_refusal" not in vars(loaded)
    # trained sequentially (n_jobs=None), so it goes on sequentially, whatever its parallel says
    assert loaded.parallel is None or loaded.n_shards == 1
    loaded.set_params(parallel=model.parallel, n_shards=model.n_shards)  # to compare all of vars
    assert_same_state(model, loaded, skip={"_expanded_class_weight"})  # set by every call
    loaded.set_params(**fastsgd.load(tmp_path / "v1.npz").get_params())
    for estimator in (model, loaded):
        continue_training(estimator, how, X, y, weights)
    loaded.set_params(parallel=model.parallel, n_shards=model.n_shards)
    assert_same_state(model, loaded)


@pytest.mark.parametrize(
    "case",
    ["logistic-average-true", "logistic-average-starts-later", "sgd-modified_huber-average-7",
     "regressor-average", "regressor-average-csr-float32-weights"],
)  # fmt: skip
def test_version_1_averaged_files_predict_and_refuse_to_continue(tmp_path, case):
    """Version 1 did not store the plain SGD weights and running averages: partial_fit (and
    SGDRegressor's warm fit, which goes on from them) refuse with the reason; the classifiers'
    warm fit restarts the average from coef_ (scikit-learn's rule), which the file holds, and
    matches the saved model's; a new fit clears the refusal."""
    model, X, y, weights = case_problem(case)
    extra = {} if weights is None else {"sample_weight": weights}
    model.fit(X, y, **extra)
    write_version_1(model, tmp_path / "v1.npz")
    loaded = fastsgd.load(tmp_path / "v1.npz")
    assert loaded.parallel is None or loaded.n_shards == 1  # sequential, as trained
    loaded.set_params(parallel=model.parallel, n_shards=model.n_shards)  # to compare all of vars
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    reason = "version-1 fastsgd model file, which does not hold the averaged SGD state"
    assert loaded._continue_refusal.startswith("this model was loaded from a " + reason[:9])
    with pytest.raises(ValueError, match=reason):
        loaded.partial_fit(X, y, **extra)
    loaded.save(tmp_path / "again.npz")  # the reason goes with the model into version 2
    again = fastsgd.load(tmp_path / "again.npz")
    assert again._continue_refusal == loaded._continue_refusal
    with pytest.raises(ValueError, match=reason):
        again.partial_fit(X, y, **extra)
    if isinstance(model, SGDRegressor):
        with pytest.raises(ValueError, match=reason):
            loaded.set_params(warm_start=True).fit(X, y, **extra)
        loaded.set_params(warm_start=False)
        model.set_params(warm_start=False)
    else:
        model.set_params(warm_start=True)
        loaded.set_params(warm_start=True)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))  # nothing changed
    for estimator in (model, loaded):
        estimator.fit(X, y, **extra)
    assert_same_state(model, loaded)  # the refusal is gone with the new training state
    for estimator in (model, loaded):
        estimator.partial_fit(X, y, **extra)
    assert_same_state(model, loaded)


@pytest.mark.parametrize(
    ("case", "v1_params", "n_shards"),
    [("logistic-default", {}, 1), ("logistic-default", {"n_jobs": 1}, 1),
     ("logistic-default", {"n_jobs": 3}, 3), ("logistic-default", {"parallel": "hogwild",
                                                                  "n_jobs": 2}, 2),
     ("sgd-hinge", {"n_jobs": 3}, 4), ("net-nesterov", {}, 1), ("net-nesterov", {"n_jobs": 5}, 5),
     ("sweep-multiclass", {"n_jobs": 2}, 2), ("regressor-huber", {"parallel": None}, 4)],
)  # fmt: skip
def test_version_1_files_keep_their_shard_count(tmp_path, case, v1_params, n_shards):
    """Version-1 files lack n_shards: version 1 ran its parallel strategy (LogisticRegression's,
    the sweep's and the nets' default 'average') on n_jobs shards, sequentially for
    n_jobs=None, so n_shards becomes that count (1: sequential), not the default 4; without a
    parallel strategy (SGDClassifier's default) the default stays, unused."""
    model, X, y, _ = case_problem(case)
    model.fit(X, y)
    write_version_1(model, tmp_path / "v1.npz", **v1_params)
    with np.load(tmp_path / "v1.npz", allow_pickle=False) as archive:
        meta = json.loads(str(archive[META]))
    assert "n_shards" not in meta["params"] and meta["version"] == 1
    loaded = fastsgd.load(tmp_path / "v1.npz")
    assert loaded.n_shards == n_shards
    assert loaded.parallel == meta["params"]["parallel"]
    assert loaded.n_jobs == meta["params"]["n_jobs"]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


BAD_STATE = {
    "average dtype": (
        lambda a: a.update(_average_coef=a["_average_coef"].astype(np.float32)),
        "_average_coef has dtype float32",
    ),
    "standard shape": (
        lambda a: a.update(_standard_coef=a["_standard_coef"][:, :2]), "_standard_coef has shape"
    ),
    "standard dtype": (
        lambda a: a.update(_standard_intercept=a["_standard_intercept"].astype(np.float32)),
        "mix dtypes",
    ),
    "average nan": (lambda a: a["_average_intercept"].fill(np.nan), "_average_intercept contains"),
    "half the state": (lambda a: a.pop("_average_coef"), "the averaged SGD state needs all"),
    "class weights": (
        lambda a: a.update(_expanded_class_weight=np.ones(5)), "_expanded_class_weight has shape"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_STATE))
def test_crafted_training_state_is_refused(tmp_path, case):
    model, X, y, _ = case_problem("logistic-average-true")
    model.fit(X, y)
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop(META)))
    change, message = BAD_STATE[case]
    change(arrays)
    write(tmp_path / "bad.npz", meta, **arrays)
    with pytest.raises(ValueError, match=message):
        fastsgd.load(tmp_path / "bad.npz")
    # version 1 had no such members, and no refusal in its scalars
    meta["version"] = 1
    write(tmp_path / "v1.npz", meta, **arrays)
    with pytest.raises(ValueError, match="unexpected arrays"):
        fastsgd.load(tmp_path / "v1.npz")
    meta["scalars"]["_continue_refusal"] = ""
    meta["version"] = 2
    write(tmp_path / "empty.npz", meta, **arrays)
    with pytest.raises(ValueError, match="_continue_refusal must be a non-empty text"):
        fastsgd.load(tmp_path / "empty.npz")


# -- compressed members: sizes checked before anything is decompressed -------------------------


def compressed_copy(source, path, compression=zipfile.ZIP_DEFLATED):
    """``source``'s members repacked with ``compression`` (np.savez_compressed's layout)."""
    with zipfile.ZipFile(source) as archive:
        parts = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in parts:
            archive.writestr(name, data)


def claim_size(path, member, uncompressed=None, compressed=None):
    """Rewrite ``member``'s sizes in the central directory (and the local header), as a crafted
    file would: zipfile believes the central directory."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    central = data.index(b"PK\x01\x02")
    name = member.encode()
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    for at, offset in ((central, 20), (info.header_offset, 18)):  # compressed, uncompressed
        if compressed is not None:
            struct.pack_into("<I", data, at + offset, compressed)
        if uncompressed is not None:
            struct.pack_into("<I", data, at + offset + 4, uncompressed)
    path.write_bytes(bytes(data))


@pytest.fixture
def never_decompressed(monkeypatch):
    """Loading must refuse the file before it reads (decompresses) any member."""

    def read_member(*args):
        raise AssertionError("a member was read before the sizes were checked")

    monkeypatch.setattr(persistence, "_read_member", read_member)


def averaged_model_file(tmp_path):
    model, X, y, _ = case_problem("logistic-average-true")
    model.fit(X, y)
    model.save(tmp_path / "stored.npz")
    return model, X, y


def test_np_savez_compressed_model_files_load_and_continue(tmp_path):
    model, X, y = averaged_model_file(tmp_path)
    with np.load(tmp_path / "stored.npz", allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    np.savez_compressed(tmp_path / "compressed.npz", **arrays)
    with zipfile.ZipFile(tmp_path / "compressed.npz") as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    loaded = fastsgd.load(tmp_path / "compressed.npz")
    assert_same_state(model, loaded)
    for estimator in (model, loaded):
        estimator.partial_fit(X, y)
    assert_same_state(model, loaded)


def test_a_small_file_cannot_claim_gigabytes(tmp_path, never_decompressed):
    """A member whose central directory entry claims 3.75 GiB from a few hundred compressed
    bytes: deflate cannot expand more than 1032:1, so the claim is refused unread."""
    averaged_model_file(tmp_path)
    path = tmp_path / "bomb.npz"
    compressed_copy(tmp_path / "stored.npz", path)
    claim_size(path, "_average_coef.npy", uncompressed=0xF000_0000)
    assert path.stat().st_size < 10_000
    with pytest.raises(
        ValueError, match=r"declares 4026531840 bytes from \d+ compressed, more than deflate"
    ):
        fastsgd.load(path)


def test_compressed_members_have_a_total_budget(tmp_path, monkeypatch):
    """Claims deflate could keep are still bounded: the deflated members together may declare
    at most MAX_INFLATED_BYTES (stored members, whose bytes are in the file, count for nothing)."""
    model, X, _ = averaged_model_file(tmp_path)
    compressed_copy(tmp_path / "stored.npz", tmp_path / "compressed.npz")
    with zipfile.ZipFile(tmp_path / "compressed.npz") as archive:
        total = sum(info.file_size for info in archive.infolist())
    monkeypatch.setattr(persistence, "MAX_INFLATED_BYTES", total - 1)
    with pytest.raises(ValueError, match=rf"declare {total} bytes in all, .*MAX_INFLATED_BYTES"):
        fastsgd.load(tmp_path / "compressed.npz")
    np.testing.assert_array_equal(
        fastsgd.load(tmp_path / "stored.npz").predict(X), model.predict(X)
    )
    monkeypatch.setattr(persistence, "MAX_INFLATED_BYTES", total)
    np.testing.assert_array_equal(
        fastsgd.load(tmp_path / "compressed.npz").predict(X), model.predict(X)
    )


CLAIMS = {
    "stored size": (
        zipfile.ZIP_STORED, {"uncompressed": 10**9},
        "stored uncompressed, yet it declares 1000000000",
    ),
    "beyond the file": (
        zipfile.ZIP_DEFLATED, {"compressed": 10**7, "uncompressed": 10**7},
        "claims 10000000 bytes of data, more than the whole file holds",
    ),
    "bzip2": (zipfile.ZIP_BZIP2, {}, "compression method 12"),
    "lzma": (zipfile.ZIP_LZMA, {}, "compression method 14"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CLAIMS))
def test_implausible_member_sizes_and_methods_are_refused(tmp_path, never_decompressed, case):
    compression, claim, message = CLAIMS[case]
    averaged_model_file(tmp_path)
    path = tmp_path / "crafted.npz"
    compressed_copy(tmp_path / "stored.npz", path, compression)
    if claim:
        claim_size(path, "coef_.npy", **claim)
    with pytest.raises(ValueError, match=message) as caught:
        fastsgd.load(path)
    member = "'coef_'" if claim else "'__meta__'"  # another method: the first member speaks
    assert f"the member {member}" in str(caught.value) and str(path) in str(caught.value)


def test_a_failed_save_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    # save writes beside the target and renames when complete
    path = tmp_path / "model.npz"
    model = fitted(LogisticRegression(max_iter=5, tol=None))[0]
    model.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
