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
