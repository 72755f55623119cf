"""Model files: fastsgd.load(model.save(path)) gives back the same model, from arrays and JSON.

The reference is the model itself: a loaded model must predict exactly what the saved one did,
carry the same hyperparameters and fitted values, and the file must open with NumPy's
allow_pickle=False. Crafted files (wrong version, class, shapes, dtypes, pickled objects) are
refused with a ValueError that names the problem.
"""

import json
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris

import fastsgd
from fastsgd import (
    LogisticRegression,
    LogisticRegressionSweep,
    SGDClassifier,
    SGDRegressor,
    TwoLayerNet,
    TwoLayerNetRegressor,
)
from fastsgd.persistence import META


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
        assert meta["class"] == type(model).__name__ and meta["version"] == 1
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
    "version": (lambda m, a: m.update(version=2), "format version 2"),
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


def test_net_file_without_training_state_still_loads(tmp_path):
    """A TwoLayerNet file from before the training state was stored: it loads, predicts, and
    partial_fit starts a new optimizer (eta0, no velocity)."""
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
    for name in [name for name in arrays if name.startswith("velocities")]:
        del arrays[name]
    write(tmp_path / "old.npz", meta, **arrays)
    loaded = fastsgd.load(tmp_path / "old.npz")
    assert not hasattr(loaded, "_optimizer_state") and loaded._multilabel is False
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded.partial_fit(X, y)
    assert loaded._optimizer_state["rate"] == model.eta0 / (loaded.t_ + 1) ** model.power_t


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
