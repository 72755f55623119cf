"""fastsgd.LogisticRegressionSweep: K learning rates trained in one pass, the best kept.

The reference is the naive way to do the same job: K separate fits on the training split, then
each model's validation log-loss:

    for eta in eta0s:  model_eta = LogisticRegression(eta0=eta).fit(X[train], y[train])
    best = argmin_eta log_loss(y[validation], model_eta.predict_proba(X[validation]))
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastsgd import LogisticRegression, LogisticRegressionSweep
from fastsgd.estimators.sweep import stratified_split

ETA0S = (0.001, 0.01, 0.1, 1.0)


def make_data(n=600, k=5, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k))
    y = rng.integers(0, n_classes, n)
    return X + rng.standard_normal((n_classes, k))[y], y


def separate_fits(X, y, train, validation, **kwargs):
    models = [LogisticRegression(eta0=eta, **kwargs).fit(X[train], y[train]) for eta in ETA0S]
    losses = [log_loss(y[validation], m.predict_proba(X[validation])) for m in models]
    return models, np.array(losses)


@parametrize_with_checks(
    [LogisticRegressionSweep(max_iter=50)], expected_failed_checks=lambda e: {}
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("parallel", [None, "average"])
def test_matches_separate_fits(n_classes, parallel):
    X, y = make_data(n_classes=n_classes)
    kwargs = dict(max_iter=6, tol=None, shuffle=False, random_state=0)
    if parallel is not None:  # in parallel: K averaged fits with the same shards
        kwargs.update(parallel=parallel, n_shards=3, n_jobs=2)
    sweep = LogisticRegressionSweep(eta0s=ETA0S, **kwargs).fit(X, y)
    train, validation = stratified_split(y, 0.1, 0)
    # one pass over K models computes exactly K sequential (or averaged) fits
    models, losses = separate_fits(X, y, train, validation, **kwargs)
    for setting, model in enumerate(models):
        np.testing.assert_allclose(sweep.coefs_path_[setting], model.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(sweep.intercepts_path_[setting], model.intercept_, rtol=1e-10)
    np.testing.assert_allclose(sweep.validation_log_loss_, losses, rtol=1e-10)
    best = int(np.argmin(losses))
    assert sweep.best_index_ == best and sweep.eta0_ == ETA0S[best]
    np.testing.assert_array_equal(sweep.coef_, sweep.coefs_path_[best])
    np.testing.assert_allclose(sweep.predict_proba(X), models[best].predict_proba(X), rtol=1e-10)


def test_each_setting_stops_on_its_own():
    X, y = make_data(n=2000)
    sweep = LogisticRegressionSweep(eta0s=ETA0S, max_iter=200, shuffle=False, random_state=0)
    sweep.fit(X, y)
    train, validation = stratified_split(y, 0.1, 0)
    models, _ = separate_fits(X, y, train, validation, max_iter=200, shuffle=False, random_state=0)
    for setting, model in enumerate(models):
        np.testing.assert_allclose(sweep.coefs_path_[setting], model.coef_, rtol=1e-10)
    assert sweep.n_iter_ == max(m.n_iter_ for m in models)


def test_accuracy_scoring_and_attributes():
    X, y = make_data(n_classes=3)
    sweep = LogisticRegressionSweep(eta0s=ETA0S, scoring="accuracy", max_iter=5, tol=None)
    sweep.fit(X, y)
    assert sweep.coefs_path_.shape == (len(ETA0S), 3, X.shape[1])
    assert sweep.intercepts_path_.shape == (len(ETA0S), 3)
    assert sweep.validation_accuracy_.shape == (len(ETA0S),)
    assert sweep.best_index_ == int(np.argmax(sweep.validation_accuracy_))
    assert not hasattr(sweep, "partial_fit")


def test_split_is_stratified_and_disjoint():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    train, validation = stratified_split(y, 0.1, 0)
    assert np.intersect1d(train, validation).size == 0
    assert train.size + validation.size == y.size
    np.testing.assert_array_equal(np.bincount(y[validation]), [50, 30, 20])


def test_extreme_fractions_keep_both_sides():
    y = np.repeat([0, 1], 50)
    for fraction in (0.99, 0.01):
        train, validation = stratified_split(y, fraction, 0)
        assert set(y[train]) == set(y[validation]) == {0, 1}


def test_failed_fit_keeps_the_previous_model():
    X, y = make_data()
    sweep = LogisticRegressionSweep(eta0s=ETA0S, max_iter=3, tol=None, random_state=0).fit(X, y)
    before = {key: np.copy(value) for key, value in vars(sweep).items()
              if isinstance(value, np.ndarray)}  # fmt: skip
    with pytest.raises(ValueError):
        sweep.fit(np.ones((3, 7)), [0, 1, 2])  # too few samples to split
    bad = X.copy()
    _, validation = stratified_split(y, 0.1, 0)
    bad[validation[0], 0] = np.inf  # only in a validation row: the kernel never sees it
    with pytest.raises(ValueError, match="infinity"):
        sweep.fit(bad, y)
    assert sweep.n_features_in_ == X.shape[1]
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(sweep, key), value)
    sweep.predict(X)


def test_feature_names_are_kept():
    pandas = pytest.importorskip("pandas")
    X, y = make_data()
    frame = pandas.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    sweep = LogisticRegressionSweep(eta0s=ETA0S, max_iter=3, tol=None).fit(frame, y)
    np.testing.assert_array_equal(sweep.feature_names_in_, frame.columns)


@pytest.mark.parametrize("eta0s", [(), (0.1, -1.0), (0.1, np.nan)])
def test_bad_learning_rates(eta0s):
    X, y = make_data()
    with pytest.raises(ValueError, match="eta0s"):
        LogisticRegressionSweep(eta0s=eta0s).fit(X, y)


def test_too_few_samples_for_a_split():
    with pytest.raises(ValueError, match="validation"):
        LogisticRegressionSweep().fit(np.eye(2), [0, 1])


def test_pipeline_grid_search_clone():
    X, y = make_data()
    pipe = make_pipeline(StandardScaler(), LogisticRegressionSweep(max_iter=5, tol=None))
    search = GridSearchCV(pipe, {"logisticregressionsweep__validation_fraction": [0.1, 0.2]}, cv=2)
    assert search.fit(X, y).score(X, y) > 0.8
    assert (
        clone(pipe).get_params()["logisticregressionsweep__eta0s"]
        == pipe.get_params()["logisticregressionsweep__eta0s"]
    )
