"""fastsgd.dask: training on Dask arrays across worker processes (issue 8).

The references:
- 'average' mode: a plain loop in this file that, each epoch, runs the public compiled kernels
  (``fastsgd.kernels.logistic_epoch`` / ``net_epoch``) on every block from the same weights, each
  block in the documented order (``np.random.default_rng([seed, epoch, block])``), and takes the
  sample-count-weighted mean of the copies:

      for each block b:  w_b = w;  one epoch of the kernel over block b's rows, from w_b
      w <- sum_b (n_b / n) w_b

  and, for two equal blocks visited in order, the local ``parallel='average'`` fit with
  ``n_shards=2`` on the concatenated data (its shards are then the two blocks; the nets' momentum
  velocities are averaged like the weights). TwoLayerNetRegressor (1-D and 2-D float y) and
  TwoLayerNet with MLPClassifier's options (momentum, alpha, 'invscaling', sample_weight) are
  checked against that local fit.
- 'sequential' mode: a local fit on the concatenated data (``shuffle=False``).
- Faults: the same fit with no fault.

A real ``LocalCluster`` (2 worker processes, one thread each, on 127.0.0.1) is started once for
this module and shut down after it; the fault tests kill one of its worker processes.
"""

import itertools
import logging
import os
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import dask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from distributed.diagnostics.plugin import WorkerPlugin  # noqa: E402

import fastsgd.dask as fdask  # noqa: E402
from fastsgd import (  # noqa: E402
    LogisticRegression,
    LogisticRegressionSweep,
    SGDRegressor,
    TrainingInterruptedWarning,
    TwoLayerNet,
    TwoLayerNetRegressor,
)
from fastsgd.kernels import ACTIVATIONS, LOSSES, logistic_epoch, net_epoch  # noqa: E402

# Part of the default run (CI included): about a minute here, most of it starting the workers.
pytestmark = pytest.mark.slow

TIGHT = 1e-12  # the tolerance; the fits below agree bit for bit


def make_data(n=1200, k=6, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    X = rng.standard_normal((n, k)) + 1.5 * rng.standard_normal((n_classes, k))[y]
    return np.ascontiguousarray(X), y


def make_targets(X, n_outputs=None, seed=0):
    """Float targets for X: 1-D for n_outputs=None, else (n_samples, n_outputs)."""
    rng = np.random.default_rng(seed)
    columns = 1 if n_outputs is None else n_outputs
    Y = np.tanh(X @ rng.standard_normal((X.shape[1], columns)))
    Y += 0.1 * rng.standard_normal(Y.shape)
    return Y[:, 0] if n_outputs is None else Y


def as_dask(X, y, chunks):
    return (
        da.from_array(X, chunks=(chunks, X.shape[1])),
        da.from_array(y, chunks=(chunks, *y.shape[1:])),
    )


def max_difference(first, second):
    return max(float(np.max(np.abs(a - b))) for a, b in zip(first, second, strict=True))


def weights_of(model):
    if hasattr(model, "coefs_"):  # TwoLayerNet, TwoLayerNetRegressor
        return [*model.coefs_, *model.intercepts_]
    return [model.coef_, model.intercept_]


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # any free port: pytest-xdist may start two clusters
        silence_logs=logging.CRITICAL,  # the fault tests kill a worker on purpose
    )
    client = Client(cluster)
    try:
        # Imports fastsgd on both workers and loads the kernels the tests use from numba's cache.
        X, y = as_dask(*make_data(n=40, k=3, n_classes=3), 20)
        fdask.fit(LogisticRegression(max_iter=1, tol=None), X, y, client=client)
        fdask.fit(LogisticRegression(max_iter=1, tol=None), X, y % 2, client=client)
        fdask.fit(TwoLayerNet(n_hidden=3, max_iter=1, tol=None), X, y % 2, client=client)
        fdask.fit(TwoLayerNetRegressor(n_hidden=3, max_iter=1, tol=None), X, y, client=client)
        yield client
    finally:
        client.close()
        cluster.close()


# -- the references -------------------------------------------------------------------------------


def block_orders(seed, epoch, sizes, shuffle):
    """The documented visiting order of each block in an epoch."""
    if not shuffle:
        return [np.arange(n, dtype=np.int64) for n in sizes]
    return [
        np.random.default_rng([seed, epoch, b]).permutation(n).astype(np.int64)
        for b, n in enumerate(sizes)
    ]


def reference_average(model, X, y, sizes, epochs):
    """Parameter mixing over the blocks, with the public kernels; returns (weights, losses)."""
    classes, codes = np.unique(y, return_inverse=True)
    bounds = np.cumsum([0, *sizes])
    blocks = [(X[a:b], codes[a:b]) for a, b in itertools.pairwise(bounds)]
    rng = check_random_state(model.random_state)
    params = model._init_params(X.shape[1], classes.size, X.dtype, rng, {})
    seed = rng.randint(2**31 - 1)  # drawn after the initial weights, as documented
    n_models = params[0].shape[0] if isinstance(model, LogisticRegression) else 1
    positive = np.arange(n_models) if n_models > 1 else np.ones(1, dtype=np.int64)
    losses = []
    for epoch in range(epochs):
        copies, epoch_loss = [], np.zeros(n_models)
        for (Xb, yb), order in zip(
            blocks, block_orders(seed, epoch, sizes, model.shuffle), strict=True
        ):
            mine = [p.copy() for p in params]
            if isinstance(model, LogisticRegression):
                loss = logistic_epoch(
                    Xb, yb, order, *mine[:2], np.full(n_models, model.eta0), positive,
                    model.fit_intercept,
                )  # fmt: skip
            else:
                loss = net_epoch(
                    Xb, yb, order, *mine, model.eta0, ACTIVATIONS.index(model.activation),
                    LOSSES.index(model.loss), model.fit_intercept, model.batch_size,
                )  # fmt: skip
            copies.append(mine)
            epoch_loss += np.asarray(loss) * Xb.shape[0]
        n = sum(sizes)
        params = [
            sum((size / n) * copy[i] for size, copy in zip(sizes, copies, strict=True))
            for i in range(len(params))
        ]
        losses.append(float(np.mean(epoch_loss / n)))
    if isinstance(model, LogisticRegression):
        return params[:2], losses
    W1t, b1, W2, b2 = params
    return [W1t.T, W2, b1, b2], losses


# -- 'average' -------------------------------------------------------------------------------------

MODELS = {
    "logistic-binary": (lambda: LogisticRegression(eta0=0.05), 2),
    "logistic-3-classes": (lambda: LogisticRegression(eta0=0.05), 3),
    "net": (lambda: TwoLayerNet(n_hidden=5, eta0=0.05, activation="tanh"), 2),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_average_equals_the_reference_loop(client, name):
    make, n_classes = MODELS[name]
    X, y = make_data(n_classes=n_classes)
    sizes = (500, 400, 300)  # unequal: the mean is weighted by the sample counts
    Xd = da.from_array(X, chunks=(sizes, X.shape[1]))
    yd = da.from_array(y, chunks=(sizes,))
    model = make().set_params(max_iter=4, tol=None, shuffle=True, random_state=3)
    expected, losses = reference_average(model, X, y, sizes, 4)

    fitted = fdask.fit(model, Xd, yd, client=client)

    assert fitted is model
    assert max_difference(weights_of(model), expected) <= TIGHT
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=0, atol=TIGHT)
    assert model.n_iter_ == 4
    assert model.t_ == model._t_start + 4 * X.shape[0]
    assert model.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(model.classes_, np.arange(n_classes))


def labelled(n_classes, weighted=False):
    """(X, y, sample_weight) with class labels."""

    def data():
        X, y = make_data(n_classes=n_classes)
        weights = np.random.default_rng(1).uniform(0.5, 2.0, y.size) if weighted else None
        return X, y, weights

    return data


def regression(n_outputs):
    """(X, y, None) with float targets: 1-D for n_outputs=None."""

    def data():
        X, _ = make_data()
        return X, make_targets(X, n_outputs), None

    return data


NET = dict(n_hidden=5, eta0=0.05, activation="tanh")
MLP_OPTIONS = dict(momentum=0.9, alpha=1e-3, learning_rate="invscaling")

LOCAL_AVERAGE = {
    **{name: (make, labelled(n_classes)) for name, (make, n_classes) in MODELS.items()},
    # MLPClassifier's options: the velocities are averaged like the weights each epoch
    "net-momentum-l2-invscaling-weighted": (
        lambda: TwoLayerNet(**NET, **MLP_OPTIONS),
        labelled(2, weighted=True),
    ),
    "regressor-1d": (lambda: TwoLayerNetRegressor(**NET), regression(None)),
    "regressor-2d": (lambda: TwoLayerNetRegressor(**NET), regression(3)),
    "regressor-momentum-2d": (lambda: TwoLayerNetRegressor(**NET, **MLP_OPTIONS), regression(2)),
}


@pytest.mark.parametrize("name", list(LOCAL_AVERAGE))
def test_average_equals_a_local_parallel_average_fit(client, name):
    make, data = LOCAL_AVERAGE[name]
    X, y, weights = data()
    settings = dict(max_iter=30, tol=1e-3, n_iter_no_change=2, shuffle=False, random_state=0)
    local = make().set_params(parallel="average", n_shards=2, n_jobs=2, **settings)
    Xd, yd = as_dask(X, y, 600)
    dask_weights = None if weights is None else da.from_array(weights, chunks=600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local.fit(X, y, sample_weight=weights)
        model = fdask.fit(
            make().set_params(**settings), Xd, yd, sample_weight=dask_weights, client=client
        )

    assert max_difference(weights_of(model), weights_of(local)) <= TIGHT
    assert model.n_iter_ == local.n_iter_ < 30  # the same stopping decisions
    np.testing.assert_allclose(model.loss_curve_, local.loss_curve_, rtol=0, atol=TIGHT)
    assert model.t_ == local.t_
    predicted = fdask.predict(model, Xd)
    assert isinstance(predicted, da.Array)
    np.testing.assert_allclose(predicted.compute(), local.predict(X), rtol=0, atol=TIGHT)
    if isinstance(model, TwoLayerNetRegressor):
        assert model.n_outputs_ == local.n_outputs_ == (1 if y.ndim == 1 else y.shape[1])
        assert predicted.shape == y.shape
        assert not hasattr(model, "classes_")
        assert not [name for name in vars(model) if name.startswith("_call")]  # cleaned up


# -- 'sequential' ----------------------------------------------------------------------------------

SEQUENTIAL = {
    "logistic": (LogisticRegression, dict(eta0=0.05), labelled(3), TIGHT),
    "net-batches": (TwoLayerNet, dict(n_hidden=4, eta0=0.05, batch_size=10), labelled(2), TIGHT),
    # the velocities go on from block to block, as in one local session
    "net-momentum-l2-invscaling": (
        TwoLayerNet,
        dict(n_hidden=4, eta0=0.05, **MLP_OPTIONS),
        labelled(2),
        TIGHT,
    ),
    "regressor-2d-batches": (
        TwoLayerNetRegressor,
        dict(n_hidden=4, eta0=0.05, batch_size=10),
        regression(2),
        TIGHT,
    ),
    # the L2 scale and the average restart at each block (as partial_fit does): rounding only
    "logistic-l2-optimal-averaged": (
        LogisticRegression,
        dict(penalty="l2", alpha=1e-3, learning_rate="optimal", average=True),
        labelled(3),
        1e-10,
    ),
}


@pytest.mark.parametrize("name", list(SEQUENTIAL))
def test_sequential_equals_a_local_fit_on_the_concatenated_data(client, name):
    kind, settings, data, tolerance = SEQUENTIAL[name]
    X, y, _ = data()
    settings = dict(settings, max_iter=6, tol=None, shuffle=False, random_state=0)
    local = kind(**settings).fit(X, y)
    model = fdask.fit(kind(**settings), *as_dask(X, y, 400), mode="sequential", client=client)

    assert max_difference(weights_of(model), weights_of(local)) <= tolerance
    np.testing.assert_allclose(model.loss_curve_, local.loss_curve_, rtol=tolerance, atol=0)
    assert model.t_ == local.t_


def test_a_regressor_takes_its_outputs_from_y(client):
    X, _ = make_data()
    Y = make_targets(X, 3)
    settings = dict(n_hidden=4, eta0=0.05, max_iter=3, tol=None, shuffle=False, random_state=0)
    Xd = da.from_array(X, chunks=(400, X.shape[1]))
    Yd = da.from_array(Y, chunks=(300, 1))  # other rows, and split along its columns: rechunked
    model = fdask.fit(TwoLayerNetRegressor(**settings), Xd, Yd, mode="sequential", client=client)
    local = TwoLayerNetRegressor(**settings).fit(X, Y)
    assert max_difference(weights_of(model), weights_of(local)) <= TIGHT
    assert (model.n_outputs_, model.out_activation_) == (3, "identity")

    # one column stays 2-D, as in a local fit
    column = TwoLayerNetRegressor(**settings)
    fdask.fit(column, Xd, Yd[:, :1], mode="sequential", client=client)
    assert fdask.predict(column, Xd).compute().shape == (X.shape[0], 1)

    # warm start goes on from the fitted weights (a constant rate: six epochs in one fit); y with
    # other outputs cannot, and the model stays as it was
    model.set_params(warm_start=True)
    fdask.fit(model, Xd, Yd, mode="sequential", client=client)
    longer = TwoLayerNetRegressor(**dict(settings, max_iter=6)).fit(X, Y)
    assert max_difference(weights_of(model), weights_of(longer)) <= TIGHT
    assert model.t_ == longer.t_ and len(model.loss_curve_) == 6
    with pytest.raises(ValueError, match="warm_start cannot continue"):
        fdask.fit(model, Xd, Yd[:, :2], client=client)
    assert model.n_outputs_ == 3 and fdask.predict(model, Xd).compute().shape == Y.shape


def test_sequential_with_sample_and_balanced_class_weights(client):
    X, y = make_data(n_classes=3)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, y.size)
    model = LogisticRegression(
        eta0=0.05, class_weight="balanced", max_iter=3, tol=None, shuffle=False
    )  # fmt: skip
    local = LogisticRegression(**model.get_params()).fit(X, y, sample_weight=weights)
    Xd, yd = as_dask(X, y, 300)
    fdask.fit(
        model, Xd, yd, mode="sequential", sample_weight=da.from_array(weights, chunks=300),
        client=client,
    )  # fmt: skip
    assert max_difference(weights_of(model), weights_of(local)) <= TIGHT


# -- schedulers, dataframes, prediction ----------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_local_schedulers_give_the_cluster_result(client, scheduler):
    X, y = make_data(n_classes=3)
    Xd, yd = as_dask(X, y, 500)
    on_cluster = fdask.fit(LogisticRegression(max_iter=3, tol=None, random_state=1), Xd, yd)
    with dask.config.set(scheduler=scheduler):  # takes precedence over the default client
        assert fdask._resolve_client(None) is None
        local = fdask.fit(LogisticRegression(max_iter=3, tol=None, random_state=1), Xd, yd)
    assert max_difference(weights_of(local), weights_of(on_cluster)) == 0.0


def test_dataframes_keep_the_feature_names(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    frame["label"] = y
    data = dd.from_pandas(frame, npartitions=3)
    features = data[list(frame.columns[:-1])]
    model = fdask.fit(
        LogisticRegression(max_iter=2, tol=None, shuffle=False), features, data["label"],
        mode="sequential", client=client,
    )  # fmt: skip
    local = LogisticRegression(max_iter=2, tol=None, shuffle=False).fit(frame.iloc[:, :-1], y)

    np.testing.assert_array_equal(model.feature_names_in_, local.feature_names_in_)
    assert max_difference(weights_of(model), weights_of(local)) <= TIGHT
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        predicted = fdask.predict(model, features).compute()
    np.testing.assert_array_equal(predicted, local.predict(frame.iloc[:, :-1]))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_prediction_goes_through_map_blocks(client, n_classes):
    X, y = make_data(n_classes=n_classes)
    Xd = da.from_array(X, chunks=(500, X.shape[1]))
    model = LogisticRegression(max_iter=2, tol=None).fit(X, y)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        lazy = getattr(fdask, method)(model, Xd)
        assert isinstance(lazy, da.Array)
        assert lazy.chunks[0] == Xd.chunks[0]  # one output block per input block
        np.testing.assert_array_equal(lazy.compute(), getattr(model, method)(X))
    net = TwoLayerNet(n_hidden=3, max_iter=1, tol=None).fit(X, y)
    np.testing.assert_array_equal(fdask.predict_proba(net, Xd).compute(), net.predict_proba(X))


def test_only_the_weights_move_between_workers(client):
    X, y = make_data(n=20_000, k=40)
    Xd, yd = client.persist(list(as_dask(X, y, 5_000)))
    distributed.wait([Xd, yd])
    where = client.who_has(Xd)
    home = [where[key][0] for (key,) in Xd.__dask_keys__()]  # the worker of each block of X

    def moved():
        sent = client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total)
        return sum(sent.values())

    before = moved()
    with distributed.get_task_stream(client=client) as stream:
        fdask.fit(LogisticRegression(max_iter=3, tol=None, random_state=0), Xd, yd, client=client)
        fdask.fit(LogisticRegression(max_iter=3, tol=None), Xd, yd, mode="sequential")
    # Every block's validation, encoding and epochs ran where its rows of X were.
    ran = 0
    for task in stream.data:
        parts = str(task["key"]).split("-")
        if parts[0] == "fastsgd" and parts[1] in ("validate", "encode", "train"):
            assert task["worker"] == home[int(parts[-2])], task["key"]
            ran += 1
    assert ran == 2 * (4 + 4 + 3 * 4)
    # Bytes sent between workers: at most y (where the scheduler put a block of y apart from its
    # block of X) and the weights, never a block of X.
    assert moved() - before < y.nbytes + 100_000 < X.nbytes // 4 // 2


def test_the_result_is_an_ordinary_estimator(client, capsys):
    X, y = make_data()
    Xd, yd = as_dask(X, y, 600)
    model = LogisticRegression(max_iter=2, tol=None, shuffle=False, warm_start=True, verbose=1)
    fdask.fit(model, Xd, yd, client=client)
    fdask.fit(model, Xd, yd, client=client)  # warm start: two more epochs
    longer = LogisticRegression(max_iter=4, tol=None, shuffle=False)
    fdask.fit(longer, Xd, yd, client=client)

    # as scikit-learn's (and a local fit's) warm start: from coef_, t_ and the curve restarted;
    # with a constant rate the weights are those of four epochs in one fit
    assert len(model.loss_curve_) == 2
    assert model.t_ == longer.t_ - 2 * X.shape[0]
    assert max_difference(weights_of(model), weights_of(longer)) == 0.0
    np.testing.assert_array_equal(model.predict(X), longer.predict(X))
    bar = capsys.readouterr().err
    assert "LogisticRegression" in bar and "sample" in bar and "epoch=2" in bar
    # and it keeps training locally
    model.partial_fit(X[:10], y[:10])


def test_an_interrupt_keeps_the_last_finished_epoch(monkeypatch):
    X, y = make_data()
    Xd, yd = as_dask(X, y, 600)
    settings = dict(tol=None, random_state=0)
    with dask.config.set(scheduler="synchronous"):
        expected = fdask.fit(LogisticRegression(max_iter=2, **settings), Xd, yd)
    original = fdask._Training.one_epoch

    def interrupted(self, *arguments):
        if arguments[-1] == 2:  # Ctrl-C while the blocks train epoch 3
            raise KeyboardInterrupt
        return original(self, *arguments)

    monkeypatch.setattr(fdask._Training, "one_epoch", interrupted)
    model = LogisticRegression(max_iter=5, **settings)
    with dask.config.set(scheduler="synchronous"):
        with pytest.warns(TrainingInterruptedWarning, match="after epoch 2"):
            with pytest.raises(KeyboardInterrupt):
                fdask.fit(model, Xd, yd)
    assert model.n_iter_ == 2
    assert max_difference(weights_of(model), weights_of(expected)) <= TIGHT


def test_refused_input_and_settings(client):
    X, y = make_data()
    Xd, yd = as_dask(X, y, 600)
    with pytest.raises(ValueError, match="early_stopping"):
        fdask.fit(LogisticRegression(early_stopping=True), Xd, yd)
    with pytest.raises(ValueError, match="the blocks are the shards"):
        fdask.fit(LogisticRegression(parallel="average"), Xd, yd)
    with pytest.raises(TypeError, match="TwoLayerNet and TwoLayerNetRegressor"):
        fdask.fit(LogisticRegressionSweep(), Xd, yd)
    with pytest.raises(TypeError, match="TwoLayerNet and TwoLayerNetRegressor"):
        fdask.fit(SGDRegressor(), Xd, yd)
    with pytest.raises(ValueError, match="classes is for classifiers"):
        fdask.fit(TwoLayerNetRegressor(), Xd, yd, classes=[0, 1])
    multilabel = da.stack([yd, 1 - yd], axis=1)
    with pytest.raises(ValueError, match="single-label classifiers; y has 2 columns"):
        fdask.fit(TwoLayerNet(max_iter=1), Xd, multilabel, client=client)
    with pytest.raises(TypeError, match="dask Array or DataFrame"):
        fdask.fit(LogisticRegression(), X, yd)
    with pytest.raises(ValueError, match="mode"):
        fdask.fit(LogisticRegression(), Xd, yd, mode="hogwild")
    with pytest.raises(ValueError, match=r"labels \[1\] that are not in classes"):
        fdask.fit(LogisticRegression(), Xd, yd, classes=[0, 2])
    with pytest.raises(ValueError, match="only one class"):
        fdask.fit(LogisticRegression(), Xd, yd * 0)
    diverging = LogisticRegression(eta0=1e300, max_iter=2, tol=None)
    with pytest.raises(ValueError, match="diverged"):
        fdask.fit(diverging, Xd * 1e300, yd)
    assert not hasattr(diverging, "coef_")
    with pytest.raises(ValueError, match="NaN"):
        fdask.fit(LogisticRegression(), da.where(Xd > 2, np.nan, Xd), yd)


# -- faults ------------------------------------------------------------------------------------


class KillWorkerOnce(WorkerPlugin):
    """Ends its worker's process (as a crash would) when a task whose key starts with ``prefix``
    begins executing; once per ``marker`` file, so a restarted worker is not killed again."""

    def __init__(self, prefix, marker):
        self.prefix = prefix
        self.marker = str(marker)

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or not str(key).startswith(self.prefix):
            return
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        os._exit(1)


def kill_in_epoch_3(client, marker):
    """The next fit's first training task of epoch 3 kills the worker that starts it."""
    client.wait_for_workers(1, timeout=120)
    client.register_plugin(KillWorkerOnce("fastsgd-train-2-", marker), name="kill")


def test_a_worker_killed_mid_fit_gives_the_same_model(client, tmp_path):
    X, y = make_data(n_classes=3)
    Xd, yd = as_dask(X, y, 400)  # three blocks, which can be recomputed from their graph
    settings = dict(max_iter=5, tol=None, random_state=0)
    expected = fdask.fit(LogisticRegression(**settings), Xd, yd, client=client)
    kill_in_epoch_3(client, tmp_path / "killed")
    try:
        model = fdask.fit(LogisticRegression(**settings), Xd, yd, client=client)
    finally:
        client.unregister_worker_plugin("kill")
    # A worker died as it started a task of epoch 3: the task ran again on the other worker,
    # with the blocks the dead one held recomputed there; the model is the same to the bit.
    assert (tmp_path / "killed").exists()
    assert max_difference(weights_of(model), weights_of(expected)) == 0.0
    assert model.loss_curve_ == expected.loss_curve_


def test_a_worker_killed_with_no_retries_left_raises(client, tmp_path):
    X, y = make_data()
    Xd, yd = as_dask(X, y, 600)
    model = LogisticRegression(max_iter=5, tol=None, random_state=0)
    previous = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0))
    kill_in_epoch_3(client, tmp_path / "killed")
    try:
        with pytest.raises(fdask.DaskTrainingError, match="epoch 3") as error:
            fdask.fit(model, Xd, yd, mode="sequential", client=client)
    finally:
        client.unregister_worker_plugin("kill")
        client.run_on_scheduler(
            lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", previous)
        )
    assert (tmp_path / "killed").exists()
    assert isinstance(error.value.__cause__, distributed.scheduler.KilledWorker)
    assert not hasattr(model, "coef_")  # no half-trained model
