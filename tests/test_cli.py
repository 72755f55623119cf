"""The command line: every subcommand must run and report what it promises.

The reference for train/predict is the library itself: a model trained by ``fastsgd train``
and used by ``fastsgd predict`` must give what LogisticRegression / TwoLayerNet fitted in Python
with the same settings give.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

import fastsgd
import fastsgd.cli
from fastsgd import LogisticRegression
from fastsgd.benchmark import run as run_bench
from fastsgd.cli import main
from fastsgd.io import load_a9a, load_data


def test_demo_reports_accuracy_loss_curve_and_speedup(capsys):
    assert main(["demo", "--epochs", "3", "--reference-samples", "300", "--net-epochs", "1"]) == 0
    out = capsys.readouterr().out
    accuracies = [float(a) for a in re.findall(r"test accuracy (\d\.\d+)", out)]
    assert len(accuracies) == 2 and min(accuracies) > 0.83  # logistic, then the net
    assert len(re.findall(r"^\s+\d+\s+0\.\d+$", out, flags=re.M)) == 3  # loss curve rows
    speedups = [float(s) for s in re.findall(r"(\d+)x faster", out)]
    assert len(speedups) == 2 and min(speedups) > 1


@pytest.fixture(scope="module")
def a9a_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("a9a")
    X, y = load_a9a("train")
    X_test, y_test = load_a9a("test")
    dump_svmlight_file(X[:4000], 2 * y[:4000] - 1, str(folder / "train.svm"))
    dump_svmlight_file(X_test[:2000, :120], 2 * y_test[:2000] - 1, str(folder / "test.svm"))
    return folder, X[:4000], 2 * y[:4000] - 1, X_test[:2000], 2 * y_test[:2000] - 1


def test_train_predict_round_trip(a9a_files, tmp_path, capsys):
    folder, X, y, X_test, y_test = a9a_files
    model_path, out_path = tmp_path / "model.npz", tmp_path / "pred.txt"
    args = ["train", str(folder / "train.svm"), "--model", "logistic", "--max-iter", "4",
            "--tol", "0", "--quiet", "--n-features", "123", "--out", str(model_path)]  # fmt: skip
    assert main(args) == 0
    assert "wrote" in capsys.readouterr().out
    # the test file names only 120 features: predict reads it with the model's 123
    assert main(["predict", str(model_path), str(folder / "test.svm"), "--out", str(out_path)]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"accuracy (\d\.\d+)", out).group(1))
    predictions = np.loadtxt(out_path, dtype=np.int64)
    same = LogisticRegression(max_iter=4, tol=0.0, random_state=0).fit(X, y)
    np.testing.assert_array_equal(predictions, same.predict(X_test))
    assert accuracy == pytest.approx(np.mean(predictions == y_test), abs=1e-4)
    assert accuracy > 0.8


@pytest.mark.parametrize("model", ["net", "sweep"])
def test_train_other_models_from_csv_and_npz(tmp_path, model, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    header = "a,b,label,c,d"
    rows = [f"{r[0]},{r[1]},{label},{r[2]},{r[3]}" for r, label in zip(X, labels, strict=True)]
    (tmp_path / "data.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    np.savez(tmp_path / "data.npz", X=X, y=labels)
    for data in ("data.csv", "data.npz"):
        path = tmp_path / f"{model}.npz"
        args = ["train", str(tmp_path / data), "--model", model, "--max-iter", "20",
                "--quiet", "--out", str(path)]  # fmt: skip
        assert main(args) == 0
        loaded = fastsgd.load(path)
        assert set(loaded.classes_) == {"no", "yes"}
        assert loaded.score(X, labels) > 0.9
    np.save(tmp_path / "unlabelled.npy", X)
    assert main(["predict", str(path), str(tmp_path / "unlabelled.npy")]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[-300:] == list(fastsgd.load(path).predict(X))


@pytest.mark.parametrize("loss", [None, "modified_huber"])
def test_train_sgd_models_with_a_loss(tmp_path, loss, capsys):
    """--model sgd / sgd-regressor train fastsgd.SGDClassifier / SGDRegressor with --loss;
    the model file gives back the loss, and predict reports accuracy or R^2."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    target = X @ np.array([1.0, -1.0, 0.5, 0.0])
    np.savez(tmp_path / "classes.npz", X=X, y=(target > 0).astype(int))
    np.savez(tmp_path / "values.npz", X=X, y=target)
    extra = [] if loss is None else ["--loss", loss]
    assert main(["train", str(tmp_path / "classes.npz"), "--model", "sgd", "--max-iter", "20",
                 "--quiet", "--out", str(tmp_path / "c.npz"), *extra]) == 0  # fmt: skip
    classifier = fastsgd.load(tmp_path / "c.npz")
    assert type(classifier) is fastsgd.SGDClassifier
    assert classifier.loss == (loss or "hinge")
    assert classifier.score(X, target > 0) > 0.9
    assert main(["train", str(tmp_path / "values.npz"), "--model", "sgd-regressor",
                 "--max-iter", "20", "--quiet", "--out", str(tmp_path / "r.npz")]) == 0  # fmt: skip
    regressor = fastsgd.load(tmp_path / "r.npz")
    assert type(regressor) is fastsgd.SGDRegressor and regressor.score(X, target) > 0.9
    assert main(["predict", str(tmp_path / "r.npz"), str(tmp_path / "values.npz")]) == 0
    assert "R^2" in capsys.readouterr().out


def test_data_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such data file"):
        load_data(tmp_path / "missing.svm")
    (tmp_path / "bad.csv").write_text("a,label\nx,1\n")
    with pytest.raises(ValueError, match="must be numbers"):
        load_data(tmp_path / "bad.csv")
    np.savez(tmp_path / "noX.npz", y=np.zeros(3))
    with pytest.raises(ValueError, match="array named 'X'"):
        load_data(tmp_path / "noX.npz")
    (tmp_path / "junk.svm").write_text("this is not svmlight\n")
    with pytest.raises(ValueError, match="svmlight"):
        load_data(tmp_path / "junk.svm")
    with pytest.raises(SystemExit):
        np.save(tmp_path / "x.npy", np.zeros((3, 2)))
        main(["train", str(tmp_path / "x.npy"), "--out", str(tmp_path / "m.npz")])


def test_bench_writes_table_json_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    tiny = dict(log_sizes=(300, 600), log_features=(20,), net_sizes=(300,), hidden=(8,), rounds=1)
    assert run_bench(json_path=str(tmp_path / "b.json"), plot_path=str(tmp_path / "b.png"),
                     sizes=tiny) == 0  # fmt: skip
    out = capsys.readouterr().out
    peers = ["numpy-reference", "scikit-learn SGDClassifier", "streaming floor", "average",
             "MLPClassifier per-sample", "fastsgd batch 256", "hogwild"]  # fmt: skip
    for peer in peers:
        assert peer in out
    report = json.loads((tmp_path / "b.json").read_text())
    assert {r["suite"] for r in report["results"]} == {"logistic", "net", "threads"}
    assert {r["N"] for r in report["results"] if r["suite"] == "logistic"} == {300, 600}
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_logistic_on_sparse_svmlight_with_sgdclassifier_options(tmp_path):
    """svmlight data stays sparse for LogisticRegression; the penalty options reach the model."""
    data = tmp_path / "train.svm"
    rng = np.random.default_rng(0)
    lines = []
    for i in range(200):
        label = 1 if i % 2 else -1
        features = sorted(rng.choice(50, size=5, replace=False) + 1)
        lines.append(
            f"{label} " + " ".join(f"{j}:{rng.random() + (label > 0):.3f}" for j in features)
        )
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "model.npz"
    code = main([
        "train", str(data), "--model", "logistic", "--out", str(out), "--penalty", "l2",
        "--alpha", "1e-3", "--learning-rate", "optimal", "--average", "10", "--quiet",
    ])  # fmt: skip
    assert code == 0
    model = fastsgd.load(out)
    assert (model.penalty, model.alpha, model.learning_rate, model.average) == (
        "l2",
        1e-3,
        "optimal",
        10,
    )
    assert main(["predict", str(out), str(data)]) == 0


def test_ctrl_c_during_train_writes_the_finished_epochs(tmp_path):
    """A real SIGINT to `python -m fastsgd train`, sent once the progress bar shows epoch 2:
    exit status 130, one line on stderr, no traceback, and a model file of the finished
    epochs that equals a fit with that many epochs."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 20))
    y = (X[:, 0] + 0.5 * rng.standard_normal(20_000) > 0).astype(np.int64)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    out = tmp_path / "model.npz"
    command = [sys.executable, "-m", "fastsgd", "train", str(tmp_path / "data.npz"),
               "--out", str(out), "--max-iter", "100000", "--tol", "0"]  # fmt: skip
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    seen = []

    def read_stderr():
        while chunk := process.stderr.read1(4096):
            seen.append(chunk.decode(errors="replace"))
            if "epoch=2" in "".join(seen[-3:]) and process.returncode is None:
                process.send_signal(signal.SIGINT)
                break
        seen.append(process.stderr.read().decode(errors="replace"))

    reader = threading.Thread(target=read_stderr)
    reader.start()
    try:
        process.wait(timeout=300)
    finally:
        process.kill()
        reader.join()
    stderr = "".join(seen)
    last_line = stderr.replace("\r", "\n").strip().splitlines()[-1]
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    match = re.fullmatch(r"fastsgd train: interrupted; wrote the model after epoch (\d+) to .*",
                         last_line)  # fmt: skip
    assert match, last_line
    model = fastsgd.load(out)
    assert model.n_iter_ == int(match.group(1)) >= 1
    # the same settings without the stopping rule, which had not stopped it
    again = LogisticRegression(eta0=0.01, max_iter=model.n_iter_, tol=None, random_state=0)
    again.fit(X, y)
    np.testing.assert_array_equal(model.coef_, again.coef_)


NET_OPTIONS = ["--alpha", "1e-3", "--momentum", "0.8", "--no-nesterov", "--learning-rate",
               "invscaling", "--power-t", "0.3", "--batch-size", "16", "--hidden", "8",
               "--eta0", "0.02", "--max-iter", "15", "--activation", "tanh"]  # fmt: skip
NET_PARAMS = dict(alpha=1e-3, momentum=0.8, nesterovs_momentum=False, learning_rate="invscaling",
                  power_t=0.3, batch_size=16, n_hidden=8, eta0=0.02, max_iter=15,
                  activation="tanh")  # fmt: skip


def test_net_regressor_train_predict_round_trip(tmp_path, capsys):
    """--model net-regressor trains fastsgd.TwoLayerNetRegressor on the file's targets, with the
    net options; predict writes the values the model gives and reports R^2."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    target = X[:, 0] - 0.5 * X[:, 1] + 0.3 * np.sin(2 * X[:, 2]) + 0.5
    rows = [f"{a},{b},{c},{float(t)!r}" for (a, b, c), t in zip(X, target, strict=True)]
    (tmp_path / "data.csv").write_text("a,b,c,label\n" + "\n".join(rows) + "\n")
    model_path, out_path = tmp_path / "net.npz", tmp_path / "values.txt"
    assert main(["train", str(tmp_path / "data.csv"), "--model", "net-regressor", "--quiet",
                 "--tol", "0", "--out", str(model_path), *NET_OPTIONS]) == 0  # fmt: skip
    assert "training R^2" in capsys.readouterr().out
    model = fastsgd.load(model_path)
    assert type(model) is fastsgd.TwoLayerNetRegressor and model._y_was_1d
    assert {key: model.get_params()[key] for key in NET_PARAMS} == NET_PARAMS
    same = fastsgd.TwoLayerNetRegressor(**NET_PARAMS, tol=0.0, random_state=0).fit(X, target)
    np.testing.assert_array_equal(model.predict(X), same.predict(X))
    assert model._optimizer_state["rate"] == same._optimizer_state["rate"]
    assert main(["predict", str(model_path), str(tmp_path / "data.csv"),
                 "--out", str(out_path)]) == 0  # fmt: skip
    r2 = float(re.search(r"R\^2 (-?\d\.\d+)", capsys.readouterr().out).group(1))
    np.testing.assert_array_equal(np.loadtxt(out_path), same.predict(X))  # repr: exact
    assert r2 == pytest.approx(same.score(X, target), abs=1e-4) and r2 > 0.5
    # without labels: the values on stdout
    np.save(tmp_path / "X.npy", X)
    assert main(["predict", str(model_path), str(tmp_path / "X.npy")]) == 0
    printed = np.array(capsys.readouterr().out.split(), dtype=np.float64)
    np.testing.assert_array_equal(printed, same.predict(X))


def test_net_options_reach_the_classifier_and_defaults_stay(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4))
    np.savez(tmp_path / "data.npz", X=X, y=np.where(X[:, 0] > 0, "yes", "no"))
    data, out = str(tmp_path / "data.npz"), str(tmp_path / "net.npz")
    assert main(["train", data, "--model", "net", "--quiet", "--out", out, *NET_OPTIONS]) == 0
    model = fastsgd.load(out)
    assert type(model) is fastsgd.TwoLayerNet
    assert {key: model.get_params()[key] for key in NET_PARAMS} == NET_PARAMS
    assert main(["train", data, "--model", "net", "--quiet", "--out", out, "--nesterov",
                 "--batch-size", "auto", "--learning-rate", "adaptive"]) == 0  # fmt: skip
    model = fastsgd.load(out)
    defaults = fastsgd.TwoLayerNet().get_params()
    assert (model.nesterovs_momentum, model.batch_size, model.learning_rate) == (
        True, "auto", "adaptive",
    )  # fmt: skip
    assert (model.alpha, model.momentum, model.power_t) == (
        defaults["alpha"], defaults["momentum"], defaults["power_t"],
    )  # fmt: skip
    # the linear models keep their defaults, and take --power-t
    assert main(["train", data, "--model", "logistic", "--quiet", "--out", out]) == 0
    assert (fastsgd.load(out).alpha, fastsgd.load(out).learning_rate) == (1e-4, "constant")
    np.savez(tmp_path / "values.npz", X=X, y=X[:, 0] - X[:, 1])
    values = str(tmp_path / "values.npz")
    assert main(["train", values, "--model", "sgd-regressor", "--quiet", "--learning-rate",
                 "invscaling", "--power-t", "0.4", "--out", out]) == 0  # fmt: skip
    assert fastsgd.load(out).power_t == 0.4


@pytest.mark.parametrize(
    ("options", "status", "message"),
    [
        (["--model", "logistic", "--momentum", "0.9"], 2,
         "--momentum does not apply to --model logistic (it applies to net, net-regressor)"),
        (["--model", "sgd", "--no-nesterov"], 2, "--nesterov/--no-nesterov does not apply"),
        (["--model", "net", "--learning-rate", "optimal"], 2,
         "--learning-rate must be one of adaptive, constant, invscaling for --model net"),
        (["--model", "sweep", "--power-t", "0.2"], 2, "--power-t does not apply"),
        (["--model", "net-regressor"], 1, "needs numbers as targets"),
    ],
)  # fmt: skip
def test_options_a_model_cannot_use_are_refused(tmp_path, options, status, message, capsys):
    np.savez(tmp_path / "data.npz", X=np.zeros((4, 2)), y=np.array(["a", "b", "a", "b"]))
    with pytest.raises(SystemExit) as caught:
        main(["train", str(tmp_path / "data.npz"), "--out", str(tmp_path / "m.npz"), *options])
    # status 1: the line is SystemExit's code (which Python prints); 2: main printed it
    code = caught.value.code
    line = code if isinstance(code, str) else capsys.readouterr().err.strip()
    assert (1 if isinstance(code, str) else code) == status
    assert line.startswith("fastsgd train: error: ") and message in line, line
    assert not (tmp_path / "m.npz").exists()


def svmlight_file(path, n=400, seed=0):
    """A small sparse two-class svmlight file: X and y as load_data reads them."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        label = 1 if i % 2 else -1
        features = sorted(rng.choice(50, size=5, replace=False) + 1)
        lines.append(
            f"{label} " + " ".join(f"{j}:{rng.random() + (label > 0):.3f}" for j in features)
        )
    path.write_text("\n".join(lines) + "\n")
    return load_data(path, sparse=True)


@pytest.mark.parametrize("model", ["logistic", "sgd", "sgd-regressor", "net"])
def test_parallel_average_on_every_input_sparse_included(tmp_path, model):
    """--parallel average trains every model, on svmlight data too (read sparse for the linear
    models): the model file equals the Python estimator with parallel='average' and the same
    n_shards, and --n-jobs (threads) does not change it."""
    data = tmp_path / "train.svm"
    X, y = svmlight_file(data)
    paths = []
    for n_jobs in ("1", "2"):
        paths.append(tmp_path / f"model{n_jobs}.npz")
        assert main(["train", str(data), "--model", model, "--parallel", "average",
                     "--n-shards", "3", "--n-jobs", n_jobs, "--max-iter", "3", "--tol", "none",
                     "--quiet", "--out", str(paths[-1])]) == 0  # fmt: skip
    first, second = fastsgd.load(paths[0]), fastsgd.load(paths[1])
    assert (first.parallel, first.n_shards, second.n_jobs) == ("average", 3, 2)
    if model == "net":
        X = X.toarray()
    estimator = getattr(fastsgd, fastsgd.cli.MODELS[model])
    same = estimator(parallel="average", n_shards=3, max_iter=3, tol=None, random_state=0)
    same.fit(X, y)
    np.testing.assert_array_equal(first.predict(X), same.predict(X))
    np.testing.assert_array_equal(second.predict(X), same.predict(X))
    weights = "coefs_" if model == "net" else "coef_"
    np.testing.assert_array_equal(getattr(first, weights)[0], getattr(same, weights)[0])
    np.testing.assert_array_equal(getattr(second, weights)[0], getattr(same, weights)[0])


def test_parallel_hogwild_reads_svmlight_dense_for_the_logistic_update(tmp_path):
    """Hogwild trains dense input only: the command line reads svmlight data dense for it."""
    data = tmp_path / "train.svm"
    X, y = svmlight_file(data)
    out = tmp_path / "model.npz"
    assert main(["train", str(data), "--parallel", "hogwild", "--n-jobs", "2", "--max-iter", "5",
                 "--quiet", "--out", str(out)]) == 0  # fmt: skip
    model = fastsgd.load(out)
    assert (model.parallel, model.n_shards, model.n_jobs) == ("hogwild", 4, 2)
    assert model.score(X, y) > 0.8
