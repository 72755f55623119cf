"""Training from files (``fastsgd.stream.fit``) against the in-memory fits it must reproduce.

Reference: ``rows_in_bucket_order`` below reads the cache's buckets itself and stacks their
rows in the order an epoch visits them with ``shuffle=False``; the estimator's local ``fit`` on
those rows is what a fit from the file must compute (one training session, the buckets as the
chunks of each epoch). With one bucket and no holdout, those rows are the file's. The rest
checks what a fit from a file promises beyond that: the holdout, the first pass that trains
while it builds, the shuffle, the cache's reuse and rebuild, Ctrl-C, and the refusals.
"""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import dump_svmlight_file
from sklearn.metrics import accuracy_score, r2_score

import fastsgd.stream
from fastsgd import (
    LogisticRegression,
    LogisticRegressionSweep,
    SGDClassifier,
    SGDRegressor,
    TrainingInterruptedWarning,
    TwoLayerNet,
    TwoLayerNetRegressor,
)
from fastsgd.cache import CacheError, build_cache, open_cache
from fastsgd.stream import CacheRebuiltWarning
from fastsgd.svmlight import load_svmlight


def rows_in_bucket_order(cache):
    """The training buckets' rows stacked in the cache's order (an epoch's without shuffle)."""
    parts = [(X, y) for _, X, y in cache.iter_buckets(cache.train_buckets)]
    return sp.vstack([X for X, _ in parts], format="csr"), np.concatenate([y for _, y in parts])


def write_data(path, n_rows=400, n_features=6, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((n_rows, n_features)), 3)
    X[rng.random(X.shape) < 0.3] = 0.0
    scores = X @ rng.standard_normal((n_features, n_classes))
    y = scores.argmax(axis=1).astype(np.float64) * 2 - 1 if n_classes == 2 else scores.argmax(1)
    dump_svmlight_file(X, y, str(path))
    return path


LINEAR_SETTINGS = [
    dict(eta0=0.05, learning_rate="constant"),
    dict(penalty="l2", alpha=1e-3),
    dict(penalty="l1", alpha=1e-4, learning_rate="invscaling", eta0=0.1),
    dict(penalty="elasticnet", alpha=1e-4, average=True),
    dict(loss="hinge", penalty="l2", alpha=1e-4),
    dict(loss="modified_huber", class_weight={-1.0: 2.0, 1.0: 1.0}),
]


@pytest.mark.parametrize("settings", LINEAR_SETTINGS)
def test_one_bucket_without_shuffle_is_the_local_fit(tmp_path, settings):
    path = write_data(tmp_path / "data.svm")
    common = dict(max_iter=4, tol=None, shuffle=False, random_state=0, **settings)
    streamed = fastsgd.stream.fit(
        SGDClassifier(**common), path, holdout=0, n_buckets=1, dtype=np.float64
    )
    X, y = load_svmlight(path)
    local = SGDClassifier(**common).fit(X, y)
    np.testing.assert_allclose(streamed.coef_, local.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, local.intercept_, rtol=1e-9, atol=1e-12)
    assert (streamed.n_iter_, streamed.t_) == (local.n_iter_, local.t_)
    np.testing.assert_allclose(streamed.loss_curve_, local.loss_curve_, rtol=1e-9)
    np.testing.assert_array_equal(streamed.classes_, local.classes_)
    assert streamed.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("settings", LINEAR_SETTINGS[:4])
def test_buckets_without_shuffle_are_a_local_fit_in_bucket_order(tmp_path, settings):
    path = write_data(tmp_path / "data.svm", n_classes=3)
    common = dict(max_iter=3, tol=None, shuffle=False, random_state=0, **settings)
    cache = build_cache(path, tmp_path / "cache", n_buckets=5, dtype=np.float64)
    streamed = fastsgd.stream.fit(SGDClassifier(**common), cache.path, holdout=10)
    reference = SGDClassifier(**common).fit(*rows_in_bucket_order(cache))
    np.testing.assert_allclose(streamed.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, reference.intercept_, rtol=1e-9, atol=1e-12)
    assert streamed.t_ == reference.t_ == 1 + 3 * cache.manifest["n_train_rows"]


def test_the_net_streams_too(tmp_path):
    path = write_data(tmp_path / "data.svm")
    common = dict(n_hidden=8, max_iter=3, tol=None, shuffle=False, random_state=0, eta0=0.05)
    streamed = fastsgd.stream.fit(
        TwoLayerNet(**common, batch_size=1), path, holdout=0, n_buckets=1, dtype=np.float64
    )
    X, y = load_svmlight(path)
    local = TwoLayerNet(**common, batch_size=1).fit(X.toarray(), y)
    for a, b in zip(streamed.coefs_, local.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(streamed.loss_curve_, local.loss_curve_, rtol=1e-9)


def test_momentum_goes_on_across_buckets(tmp_path):
    path = write_data(tmp_path / "data.svm")
    cache = build_cache(path, tmp_path / "cache", n_buckets=3, holdout=0, dtype=np.float64)
    common = dict(n_hidden=4, max_iter=2, tol=None, shuffle=False, random_state=0, momentum=0.9)
    streamed = fastsgd.stream.fit(TwoLayerNet(**common, batch_size=1), cache.path)
    X, y = rows_in_bucket_order(cache)
    reference = TwoLayerNet(**common, batch_size=1).fit(X.toarray(), y)
    for a, b in zip(streamed.coefs_, reference.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_held_out_rows_are_never_trained_on(tmp_path):
    path = write_data(tmp_path / "data.svm", n_rows=300)
    X, y = load_svmlight(path)
    kept = (np.arange(300) + 1) % 10 != 0
    common = dict(eta0=0.05, max_iter=3, tol=None, shuffle=False)
    streamed = fastsgd.stream.fit(LogisticRegression(**common), path, n_buckets=1, dtype=np.float64)
    local = LogisticRegression(**common).fit(X[kept], y[kept])
    np.testing.assert_allclose(streamed.coef_, local.coef_, rtol=1e-9)
    assert streamed.t_ == local.t_ == 1 + 3 * 270


def test_score_is_the_accuracy_on_the_held_out_rows(tmp_path):
    path = write_data(tmp_path / "data.svm", n_rows=500)
    cache = tmp_path / "cache"
    model = fastsgd.stream.fit(LogisticRegression(max_iter=3, tol=None), path, cache=cache)
    X, y = load_svmlight(path, dtype=np.float32)
    held = (np.arange(500) + 1) % 10 == 0
    assert fastsgd.stream.score(model, cache) == pytest.approx(
        accuracy_score(y[held], model.predict(X[held])), abs=1e-12
    )
    assert fastsgd.stream.score(model, cache, part="train") == pytest.approx(
        accuracy_score(y[~held], model.predict(X[~held])), abs=1e-12
    )


def test_the_stopping_rule_watches_the_holdout_accuracy(tmp_path, monkeypatch):
    path = write_data(tmp_path / "data.svm", n_rows=500)
    cache = build_cache(path, tmp_path / "cache", n_buckets=4)
    seen = []
    original = fastsgd.stream._Training.holdout_scores

    def recording(*arguments):
        scores = original(*arguments)
        seen.append(scores)
        return scores

    monkeypatch.setattr(fastsgd.stream._Training, "holdout_scores", staticmethod(recording))
    model = LogisticRegression(max_iter=30, tol=1e-3, n_iter_no_change=2, random_state=0)
    fastsgd.stream.fit(model, cache.path)
    assert len(seen) == model.n_iter_ < 30  # it stopped on the holdout's scores
    X, y = load_svmlight(path, dtype=np.float32)
    held = (np.arange(500) + 1) % 10 == 0
    # the last epoch's score is the final model's accuracy on the held-out rows
    assert seen[-1][0] == pytest.approx(accuracy_score(y[held], model.predict(X[held])))


def test_the_first_pass_trains_while_it_builds(tmp_path):
    path = write_data(tmp_path / "data.svm")
    common = dict(eta0=0.05, max_iter=2, tol=None, shuffle=False)
    X, y = load_svmlight(path)
    local = LogisticRegression(**common).fit(X, y)
    cache = tmp_path / "cache"
    streamed = fastsgd.stream.fit(
        LogisticRegression(**common), path, cache=cache, holdout=0, n_buckets=1,
        dtype=np.float64, n_features=X.shape[1], classes=[-1, 1], first_pass="train",
    )  # fmt: skip
    np.testing.assert_allclose(streamed.coef_, local.coef_, rtol=1e-9)
    np.testing.assert_array_equal(streamed.classes_, [-1, 1])
    assert open_cache(cache).n_rows == X.shape[0]
    # one pass only: the cache is complete after it
    one = fastsgd.stream.fit(
        LogisticRegression(**dict(common, max_iter=1)), path, cache=tmp_path / "c1", holdout=0,
        n_buckets=1, dtype=np.float64, n_features=X.shape[1], classes=[-1, 1],
        first_pass="train",
    )  # fmt: skip
    assert one.n_iter_ == 1 and open_cache(tmp_path / "c1").n_rows == X.shape[0]


def test_first_pass_train_needs_the_shape(tmp_path):
    path = write_data(tmp_path / "data.svm")
    with pytest.raises(
        ValueError, match=r"first_pass='train' needs n_features \(and a classifier's classes\)"
    ):
        fastsgd.stream.fit(LogisticRegression(), path, first_pass="train")
    with pytest.raises(ValueError, match="class_weight='balanced' needs every class's count"):
        fastsgd.stream.fit(
            LogisticRegression(class_weight="balanced"), path, first_pass="train",
            n_features=6, classes=[-1, 1],
        )  # fmt: skip
    with pytest.raises(ValueError, match="first_pass must be one of"):
        fastsgd.stream.fit(LogisticRegression(), path, first_pass="sometimes")


def test_balanced_class_weight_comes_from_the_cache_counts(tmp_path):
    path = write_data(tmp_path / "data.svm", n_classes=3)
    common = dict(max_iter=3, tol=None, shuffle=False, class_weight="balanced")
    streamed = fastsgd.stream.fit(
        SGDClassifier(**common), path, holdout=0, n_buckets=1, dtype=np.float64
    )
    X, y = load_svmlight(path)
    local = SGDClassifier(**common).fit(X, y)
    np.testing.assert_allclose(streamed.coef_, local.coef_, rtol=1e-9)


def test_a_label_sorted_file_is_shuffled_by_the_buckets(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 5))
    y = np.where(
        X @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) + 0.3 * rng.standard_normal(4000) > 0, 1, -1
    )
    order = np.argsort(y, kind="stable")
    dump_svmlight_file(X[order], y[order], str(tmp_path / "sorted.svm"))
    test_X, test_y = X[::7], y[::7]
    common = dict(max_iter=3, tol=None, random_state=0, eta0=0.01, learning_rate="constant")
    streamed = fastsgd.stream.fit(
        LogisticRegression(**common), tmp_path / "sorted.svm", holdout=0, first_pass="cache"
    )
    in_order = LogisticRegression(**common, shuffle=False).fit(X[order], y[order])
    shuffled = LogisticRegression(**common).fit(X[order], y[order])
    # file order ends on the +1 rows and predicts +1 far too often; the buckets do not
    assert streamed.score(test_X, test_y) > in_order.score(test_X, test_y) + 0.05
    assert abs(streamed.score(test_X, test_y) - shuffled.score(test_X, test_y)) < 0.02


def test_shuffled_epochs_follow_the_random_state(tmp_path):
    path = write_data(tmp_path / "data.svm")
    cache = build_cache(path, tmp_path / "cache", n_buckets=4)
    fits = [
        fastsgd.stream.fit(LogisticRegression(max_iter=2, tol=None, random_state=r), cache.path)
        for r in (0, 0, 1)
    ]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert not np.array_equal(fits[0].coef_, fits[2].coef_)


def test_a_cache_is_reused_rebuilt_or_refused(tmp_path):
    path = write_data(tmp_path / "data.svm")
    cache = tmp_path / "cache"
    model = LogisticRegression(max_iter=1, tol=None)
    fastsgd.stream.fit(model, path, cache=cache)
    built = (cache / "manifest.json").stat().st_mtime_ns
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheRebuiltWarning)
        fastsgd.stream.fit(model, path, cache=cache)
    assert (cache / "manifest.json").stat().st_mtime_ns == built  # reused
    with open(path, "a") as file:
        file.write("1 1:0.5\n")
    with pytest.warns(CacheRebuiltWarning, match="changed since the cache was built"):
        fastsgd.stream.fit(model, path, cache=cache)
    assert open_cache(cache).n_rows == 401
    with pytest.warns(CacheRebuiltWarning, match="n_buckets=32, not 3"):
        fastsgd.stream.fit(model, path, cache=cache, n_buckets=3)
    other = write_data(tmp_path / "other.svm", seed=1)
    with pytest.raises(CacheError, match="belongs to another file"):
        fastsgd.stream.fit(model, other, cache=cache)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(CacheError, match="not a fastsgd training cache"):
        fastsgd.stream.fit(model, path, cache=tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    with pytest.raises(CacheError, match="cannot serve this fit: it holds out every 10th"):
        fastsgd.stream.fit(model, cache, holdout=4)
    with pytest.raises(ValueError, match="the source is a cache already"):
        fastsgd.stream.fit(model, cache, cache=tmp_path / "again")


def test_a_damaged_cache_of_this_file_is_rebuilt(tmp_path):
    path = write_data(tmp_path / "data.svm")
    cache = build_cache(path, tmp_path / "cache", n_buckets=2)
    (cache.path / "bucket-0001.labels.npy").unlink()
    with pytest.warns(CacheRebuiltWarning, match="bucket-0001.labels.npy is missing"):
        fastsgd.stream.fit(LogisticRegression(max_iter=1, tol=None), path, cache=cache.path)
    assert open_cache(cache.path).n_rows == 400


def test_the_temporary_cache_is_removed_and_the_source_untouched(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = write_data(tmp_path / "data.svm")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    fastsgd.stream.fit(LogisticRegression(max_iter=2, tol=None), path)
    assert os.listdir(tmp_path / "tmp") == []
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


@pytest.mark.parametrize("first_pass", ["train", "cache"])
def test_ctrl_c_keeps_the_last_finished_epoch(tmp_path, monkeypatch, first_pass):
    path = write_data(tmp_path / "data.svm")
    calls = []
    original = LogisticRegression._run_kernel

    def interrupted(*arguments, **keywords):
        calls.append(1)
        if len(calls) == 40:  # in the third epoch (16 non-empty buckets or blocks each)
            raise KeyboardInterrupt
        return original(*arguments, **keywords)

    monkeypatch.setattr(LogisticRegression, "_run_kernel", interrupted)
    model = LogisticRegression(max_iter=5, tol=None, random_state=0)
    options = dict(n_buckets=16, holdout=0, block_bytes=1200, first_pass=first_pass)
    if first_pass == "train":
        options.update(n_features=6, classes=[-1, 1])
    with pytest.warns(TrainingInterruptedWarning), pytest.raises(KeyboardInterrupt):
        fastsgd.stream.fit(model, path, cache=tmp_path / "cache", **options)
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 2
    assert np.isfinite(model.coef_).all()
    monkeypatch.setattr(LogisticRegression, "_run_kernel", original)
    assert open_cache(tmp_path / "cache").n_rows == 400  # the cache was complete by then


def test_ctrl_c_in_the_first_pass_leaves_no_cache(tmp_path, monkeypatch):
    path = write_data(tmp_path / "data.svm")

    def interrupted(*arguments, **keywords):
        raise KeyboardInterrupt

    monkeypatch.setattr(LogisticRegression, "_run_kernel", interrupted)
    model = LogisticRegression(max_iter=3, tol=None)
    with pytest.raises(KeyboardInterrupt):
        fastsgd.stream.fit(
            model, path, cache=tmp_path / "cache", n_features=6, classes=[-1, 1],
            block_bytes=1000, first_pass="train",
        )  # fmt: skip
    assert not hasattr(model, "coef_")
    assert sorted(os.listdir(tmp_path)) == ["data.svm"]


def test_a_diverged_fit_keeps_the_previous_model(tmp_path):
    path = write_data(tmp_path / "data.svm")
    X, _ = load_svmlight(path)
    X_big = X.toarray() * 1e30
    y = np.where(np.arange(400) % 2, 1, -1)
    dump_svmlight_file(X_big, y, str(tmp_path / "big.svm"))
    model = LogisticRegression(max_iter=2, tol=None).fit(X, np.where(np.arange(400) % 2, 1.0, -1.0))
    before = model.coef_.copy()
    with pytest.raises(ValueError, match=r"training diverged|non-finite"):
        fastsgd.stream.fit(
            model.set_params(eta0=1e10, learning_rate="constant", penalty=None),
            tmp_path / "big.svm", dtype=np.float32, holdout=0,
        )  # fmt: skip
    np.testing.assert_array_equal(model.coef_, before)


@pytest.mark.parametrize("estimator", [LogisticRegressionSweep(), object()])
def test_other_estimators_are_refused(tmp_path, estimator):
    path = write_data(tmp_path / "data.svm")
    with pytest.raises(TypeError, match=r"fastsgd\.stream trains SGDClassifier"):
        fastsgd.stream.fit(estimator, path)


def write_regression(path, n_rows=500, seed=0):
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((n_rows, 5)), 3)
    y = 2000.0 + X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * rng.standard_normal(n_rows)
    dump_svmlight_file(X, y, str(path))
    return path


@pytest.mark.parametrize(
    "estimator",
    [
        SGDRegressor(eta0=0.001, penalty="l1", alpha=1e-4, average=True),
        SGDRegressor(loss="huber", learning_rate="constant", eta0=0.001),
        TwoLayerNetRegressor(n_hidden=4, batch_size=1, eta0=1e-4),
    ],
    ids=["sgd-l1-average", "sgd-huber", "net"],
)
def test_regressors_stream_as_their_local_fit(tmp_path, estimator):
    path = write_regression(tmp_path / "data.svm")
    common = dict(max_iter=3, tol=None, shuffle=False, random_state=0)
    streamed = fastsgd.stream.fit(
        clone(estimator).set_params(**common), path, holdout=0, n_buckets=1, dtype=np.float64
    )
    X, y = load_svmlight(path)
    X = X.toarray() if isinstance(estimator, TwoLayerNetRegressor) else X
    local = clone(estimator).set_params(**common).fit(X, y)
    np.testing.assert_allclose(streamed.predict(X), local.predict(X), rtol=1e-9)
    np.testing.assert_allclose(streamed.loss_curve_, local.loss_curve_, rtol=1e-9)
    assert streamed.t_ == local.t_ and streamed.predict(X).shape == (500,)
    assert not hasattr(streamed, "classes_")


def test_a_regressors_holdout_score_is_r2_over_every_bucket(tmp_path, monkeypatch):
    path = write_regression(tmp_path / "data.svm", n_rows=1000)
    cache = build_cache(path, tmp_path / "cache", n_buckets=20, dtype=np.float64)
    assert len(cache.holdout_buckets) == 2
    seen = []
    original = fastsgd.stream._Training.holdout_scores

    def recording(*arguments):
        seen.append(original(*arguments))
        return seen[-1]

    monkeypatch.setattr(fastsgd.stream._Training, "holdout_scores", staticmethod(recording))
    # penalty=None: the weights being trained (which early stopping scores, as scikit-learn's
    # does) are then the final model's
    model = SGDRegressor(
        penalty=None, eta0=0.01, max_iter=20, tol=1e-4, n_iter_no_change=2, random_state=0
    )
    fastsgd.stream.fit(model, cache.path)
    X, y = load_svmlight(path)
    held = (np.arange(1000) + 1) % 10 == 0
    assert seen[-1][0] == pytest.approx(r2_score(y[held], model.predict(X[held])), rel=1e-9)
    assert fastsgd.stream.score(model, cache.path) == pytest.approx(seen[-1][0], rel=1e-9)
    with pytest.raises(ValueError, match="classes is for classifiers"):
        fastsgd.stream.fit(SGDRegressor(), cache.path, classes=[0, 1])


def test_refusals(tmp_path):
    path = write_data(tmp_path / "data.svm")
    with pytest.raises(ValueError, match="early_stopping is not supported"):
        fastsgd.stream.fit(LogisticRegression(early_stopping=True), path)
    with pytest.raises(ValueError, match="parallel='average' is not supported"):
        fastsgd.stream.fit(LogisticRegression(parallel="average"), path)
    with pytest.raises(ValueError, match=r"labels \[1.0\] that are not in classes"):
        fastsgd.stream.fit(LogisticRegression(), path, classes=[-1, 2])
    with pytest.raises(ValueError, match=r"labels .* not in"):
        fastsgd.stream.fit(
            LogisticRegression(), path, classes=[-1, 2], n_features=6, first_pass="train"
        )
    one_class = tmp_path / "one.svm"
    one_class.write_text("1 1:1\n" * 20)
    with pytest.raises(ValueError, match="only one class"):
        fastsgd.stream.fit(LogisticRegression(), one_class)
    with pytest.raises(FileNotFoundError, match="no such file or training cache"):
        fastsgd.stream.fit(LogisticRegression(), tmp_path / "missing.svm")
    with pytest.raises(CacheError, match=r"cannot serve this fit: .* n_features=6, not 3"):
        fastsgd.stream.fit(LogisticRegression(), build_cache(path, tmp_path / "c"), n_features=3)
    with pytest.raises(ValueError, match="part must be"):
        fastsgd.stream.score(LogisticRegression(), tmp_path / "c", part="all")


@pytest.mark.parametrize("estimator", [LogisticRegression(eta0=0.05), TwoLayerNet(n_hidden=4)])
def test_a_csv_file_streams_as_its_local_fit(tmp_path, estimator):
    rng = np.random.default_rng(0)
    X = np.round(rng.standard_normal((300, 3)), 4)
    y = (X[:, 0] - X[:, 1] > 0).astype(np.float64)
    path = tmp_path / "data.csv"
    path.write_text(
        "a,b,c,label\n" + "".join(f"{a},{b},{c},{t}\n" for (a, b, c), t in zip(X, y, strict=True))
    )
    common = dict(max_iter=3, tol=None, shuffle=False, random_state=0)
    streamed = fastsgd.stream.fit(
        clone(estimator).set_params(**common), path, holdout=0, n_buckets=1, dtype=np.float64,
        classes=[0, 1], first_pass="train",  # the header gives n_features
    )  # fmt: skip
    local = clone(estimator).set_params(**common).fit(X, y)
    np.testing.assert_allclose(streamed.predict_proba(X), local.predict_proba(X), rtol=1e-9)
    assert streamed.n_features_in_ == 3


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(eta0=0.05),
        SGDRegressor(eta0=0.001),
        TwoLayerNet(n_hidden=4, momentum=0.9),
    ],
    ids=["logistic", "sgd-regressor", "net"],
)
def test_warm_start_continues_as_a_local_warm_start(tmp_path, estimator):
    regressor = isinstance(estimator, SGDRegressor)
    path = write_regression(tmp_path / "r.svm") if regressor else write_data(tmp_path / "c.svm")
    X, y = load_svmlight(path)
    X = X.toarray() if isinstance(estimator, TwoLayerNet) else X
    settings = dict(max_iter=3, tol=None, shuffle=False, random_state=0, warm_start=True)
    stream_options = dict(holdout=0, n_buckets=1, dtype=np.float64)
    streamed = clone(estimator).set_params(**settings)
    fastsgd.stream.fit(streamed, path, **stream_options)
    fastsgd.stream.fit(streamed.set_params(max_iter=2), path, **stream_options)
    local = clone(estimator).set_params(**settings).fit(X, y)
    local.set_params(max_iter=2).fit(X, y)
    np.testing.assert_allclose(streamed.predict(X), local.predict(X), rtol=1e-9)
    assert streamed.t_ == local.t_ and streamed.loss_curve_ == pytest.approx(local.loss_curve_)


def test_a_rebuild_keeps_the_settings_the_old_cache_was_built_with(tmp_path):
    path = write_data(tmp_path / "data.svm")
    cache = build_cache(path, tmp_path / "cache", dtype=np.float64, holdout=0, n_buckets=3, seed=5)
    with open(path, "a") as file:
        file.write("1 1:0.5\n")
    model = LogisticRegression(max_iter=1, tol=None)
    with pytest.warns(CacheRebuiltWarning, match="changed since the cache was built"):
        fastsgd.stream.fit(model, path, cache=cache.path)
    manifest = open_cache(cache.path).manifest
    assert (manifest["dtype"], manifest["holdout"], manifest["seed"]) == ("float64", 0, 5)
    assert manifest["n_train_buckets"] == 3 and manifest["n_rows"] == 401
    assert model.coef_.dtype == np.float64
    # what the fit asks for wins over what the old cache had
    with pytest.warns(CacheRebuiltWarning, match="dtype='float64', not 'float32'"):
        fastsgd.stream.fit(model, path, cache=cache.path, dtype=np.float32)
    assert open_cache(cache.path).manifest["dtype"] == "float32"


def test_an_empty_file_says_so(tmp_path):
    empty = tmp_path / "empty.svm"
    empty.write_text("# nothing here\n\n")
    for estimator in (LogisticRegression(), SGDRegressor()):
        with pytest.raises(ValueError, match=r"empty\.svm holds no rows"):
            fastsgd.stream.fit(estimator, empty, holdout=0)
    with pytest.raises(ValueError, match=r"empty\.svm has no rows to train on"):
        fastsgd.stream.fit(
            SGDRegressor(), empty, holdout=0, first_pass="train", n_features=3
        )  # the first pass finds out as it reads
