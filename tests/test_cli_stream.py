"""The command line's streaming: ``fastsgd train DATA --cache DIR`` and ``fastsgd cache``.

Reference: ``fastsgd.stream.fit`` in Python with the same settings; the model file that
``fastsgd train --cache`` writes must hold what that fit computes, and the cache it leaves
must be the one ``fastsgd.cache.build_cache`` builds.
"""

import re

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

import fastsgd
import fastsgd.stream
from fastsgd import LogisticRegression
from fastsgd.cache import open_cache
from fastsgd.cli import main


@pytest.fixture
def data_file(tmp_path):
    rng = np.random.default_rng(0)
    X = np.round(rng.standard_normal((600, 5)), 3)
    y = np.where(X @ np.array([1.0, -1.0, 0.5, 0.0, 2.0]) > 0, 1, -1)
    path = tmp_path / "data.svm"
    dump_svmlight_file(X, y, str(path))
    return path


def run(argv, capsys):
    """(exit status, stdout, stderr) of ``fastsgd *argv``."""
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
        if not isinstance(exit.code, int):
            print(exit.code, file=__import__("sys").stderr)
    out, err = capsys.readouterr()
    return status, out, err


def test_train_through_a_cache_is_stream_fit(data_file, tmp_path, capsys):
    cache, out = tmp_path / "cache", tmp_path / "model.npz"
    status, printed, _ = run(
        ["train", data_file, "--cache", cache, "--passes", "3", "--tol", "none", "--quiet",
         "--buckets", "4", "--out", out],
        capsys,
    )  # fmt: skip
    assert status == 0
    assert re.search(r"600 rows x 5 features\) through the cache .*\(3 passes", printed)
    held = float(re.search(r"holdout accuracy (\d\.\d+) on 60 rows", printed).group(1))
    expected = LogisticRegression(max_iter=3, tol=None, random_state=0)
    fastsgd.stream.fit(expected, data_file, cache=tmp_path / "python", n_buckets=4)
    model = fastsgd.load(out)
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    assert model.coef_.dtype == np.float32  # the cache's dtype
    assert held == pytest.approx(fastsgd.stream.score(expected, tmp_path / "python"), abs=1e-4)
    # the cache folder as DATA trains from it, here on every row
    status, printed, _ = run(
        ["train", cache, "--passes", "2", "--holdout", "0", "--model", "net", "--quiet",
         "--out", out],
        capsys,
    )  # fmt: skip
    assert status == 0 and "2 passes" in printed and "holdout accuracy" not in printed
    # a regressor takes the labels as targets; its holdout score is R^2
    status, printed, _ = run(
        ["train", cache, "--passes", "2", "--model", "sgd-regressor", "--quiet", "--out", out],
        capsys,
    )  # fmt: skip
    assert status == 0 and re.search(r"holdout R\^2 -?\d\.\d{4} on 60 rows", printed)


def test_first_pass_training_and_cache_options(data_file, tmp_path, capsys):
    cache, out = tmp_path / "cache", tmp_path / "model.npz"
    args = ["train", data_file, "--cache", cache, "--passes", "2", "--holdout", "5",
            "--n-features", "5", "--classes", "-1", "1", "--first-pass", "train",
            "--dtype", "float64", "--zero-based", "yes", "--tol", "none", "--quiet",
            "--out", out]  # fmt: skip
    status, _, err = run(args, capsys)
    assert status == 0, err
    opened = open_cache(cache)
    assert (opened.holdout_period, opened.dtype, opened.manifest["zero_based"]) == (
        5,
        "float64",
        True,
    )
    expected = LogisticRegression(max_iter=2, tol=None, random_state=0)
    fastsgd.stream.fit(
        expected, data_file, cache=tmp_path / "python", holdout=5, n_features=5,
        classes=[-1.0, 1.0], first_pass="train", dtype=np.float64, zero_based=True,
    )  # fmt: skip
    np.testing.assert_array_equal(fastsgd.load(out).coef_, expected.coef_)


def test_cache_build_and_info(data_file, tmp_path, capsys):
    cache = tmp_path / "cache"
    status, printed, _ = run(
        ["cache", "build", data_file, cache, "--buckets", "3", "--seed", "4"], capsys
    )
    assert status == 0
    assert re.search(
        r"built .*cache from .*data.svm in .*: 600 rows, 5 features, 3 training and 1 holdout "
        "buckets",
        printed,
    )
    status, printed, _ = run(["cache", "info", cache], capsys)
    assert status == 0
    assert "600 (540 training, 60 held out: every 10th row)" in printed
    assert "unchanged since the build" in printed and "seed 4" in printed
    assert re.search(r"classes:\s+-1 \(\d+\), 1 \(\d+\)", printed)
    with open(data_file, "a") as file:
        file.write("1 1:1\n")
    assert "stale: its source" in run(["cache", "info", cache], capsys)[1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--passes", "3"],
            "--passes sets how training streams a file through a cache: give --cache",
        ),
        (
            ["--cache", "C", "--model", "sweep"],
            "--model sweep does not train from a file through a cache",
        ),
        (
            ["--cache", "C", "--passes", "2", "--max-iter", "3"],
            "--passes and --max-iter say the same",
        ),
        (["--cache", "C", "--parallel", "average"], "--parallel does not apply when streaming"),
        (["--cache", "C", "--holdout", "-1"], "--holdout"),
    ],
)
def test_streaming_usage_errors(data_file, tmp_path, capsys, extra, message):
    extra = [str(tmp_path / "c") if a == "C" else a for a in extra]
    status, _, err = run(["train", data_file, "--out", tmp_path / "m.npz", *extra], capsys)
    assert status == 2
    assert message in err


def test_streaming_data_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.svm"
    bad.write_text("1 1:1\n1 2:1 1:1\n")
    status, _, err = run(
        ["train", bad, "--cache", tmp_path / "c", "--out", tmp_path / "m.npz"], capsys
    )
    assert status == 1
    assert re.search(
        r"error: training failed: .*bad.svm, line 2: feature indices are not sorted", err
    )
    assert "Traceback" not in err
    status, _, err = run(["cache", "info", tmp_path], capsys)
    assert status == 1 and "no manifest.json" in err
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "x.txt").write_text("x")
    status, _, err = run(["cache", "build", bad, tmp_path / "keep"], capsys)
    assert status == 1 and "not a fastsgd training cache" in err


def test_a_csv_file_streams_from_the_command_line(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = np.round(rng.standard_normal((400, 3)), 4)
    y = (X[:, 0] > X[:, 2]).astype(int)
    path = tmp_path / "data.csv"
    rows = "".join(f"{t},{a},{b},{c}\n" for t, (a, b, c) in zip(y, X, strict=True))
    path.write_text("y,a,b,c\n" + rows)
    cache, out = tmp_path / "cache", tmp_path / "model.npz"
    status, printed, err = run(
        ["train", path, "--cache", cache, "--label-column", "y", "--passes", "3", "--quiet",
         "--out", out],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    assert "(400 rows x 3 features)" in printed
    assert fastsgd.load(out).score(X, y) > 0.9
    status, printed, _ = run(["cache", "info", cache], capsys)
    assert status == 0 and "3 (float32, dense rows from CSV; label column 'y')" in printed


def test_streaming_checks_and_a_cache_without_held_out_rows(tmp_path, capsys):
    five = tmp_path / "five.svm"
    five.write_text("1 1:1\n-1 1:2\n1 1:3\n-1 1:4\n1 1:5\n")  # no 10th row: nothing held out
    out = tmp_path / "m.npz"
    status, printed, err = run(
        ["train", five, "--cache", tmp_path / "c", "--passes", "1", "--quiet", "--out", out],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    assert "holdout" not in printed and out.exists()
    for extra, message in [
        (["--holdout", "1"], "argument --holdout: expected 0 or an integer above 1"),
        (["--first-pass", "train"], "give --n-features and --classes"),
        (["--first-pass", "train", "--n-features", "1"], "give --classes"),
        (["--model", "sgd-regressor", "--classes", "0", "1"], "--classes is for classifiers"),
    ]:
        status, _, err = run(
            ["train", five, "--cache", tmp_path / "c2", "--out", out, *extra], capsys
        )
        assert status == 2 and message in err, err
    status, _, err = run(["cache", "build", five, tmp_path / "c3", "--holdout", "1"], capsys)
    assert status == 2 and "expected 0 or an integer above 1" in err
