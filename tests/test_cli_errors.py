"""The command line never shows a traceback (unless --debug): every error is one line.

``fastsgd <command>: error: ...`` on stderr, exit status 2 for a usage error (an option's value,
an option the model has no use for) and 1 for a file, data or training error; options and
output paths are checked before any file is read. Most tests run ``main`` in this process, as
``python -m fastsgd`` runs it; two run the real process.
"""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import fastsgd
import fastsgd.benchmark
import fastsgd.io
from fastsgd import LogisticRegression
from fastsgd.cli import MODELS, _build_model, build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def run(argv, capsys):
    """main(argv) as ``python -m fastsgd`` runs it: (exit status, stdout, stderr)."""
    try:
        status = main(argv)
    except SystemExit as exit:
        status = exit.code
        if isinstance(status, str):  # Python prints such a code on stderr, exit status 1
            print(status, file=sys.stderr)
            status = 1
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def files(tmp_path):
    """Small files for the command lines below, and a spy on every read of a data or model
    file (and on the benchmark): ``files["reads"]`` lists what was read."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    rows = "".join(f"{a},{b},{c},{label}\n" for (a, b, c), label in zip(X, labels, strict=True))
    (tmp_path / "data.csv").write_text("a,b,c,label\n" + rows)
    (tmp_path / "junk.svm").write_text("this is not svmlight\n")
    np.save(tmp_path / "unlabelled.npy", X)
    huge = np.array([[1e100, 1.0], [2e100, -1.0], [-1e100, 2.0], [3e100, 0.0]])
    np.savez(tmp_path / "huge.npz", X=huge, y=np.array([1.0, 2.0, 3.0, 4.0]))
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    if os.access(readonly, os.W_OK):  # root: permission bits do not bind; sysfs refuses files
        readonly = Path("/sys")
        if not readonly.is_dir():
            pytest.skip("no read-only directory to write into")
    return {
        "tmp": str(tmp_path),
        "csv": str(tmp_path / "data.csv"),
        "junk": str(tmp_path / "junk.svm"),
        "npy": str(tmp_path / "unlabelled.npy"),
        "huge": str(tmp_path / "huge.npz"),
        "missing": str(tmp_path / "missing.csv"),
        "out": str(tmp_path / "model.npz"),
        "readonly": str(readonly),
    }


@pytest.fixture
def reads(monkeypatch):
    """Every data file, model file and benchmark run the command opens, as a list."""
    opened = []

    def spy(name, function):
        def spied(*args, **kwargs):
            opened.append((name, args))
            return function(*args, **kwargs)

        return spied

    monkeypatch.setattr(fastsgd.io, "load_data", spy("data", fastsgd.io.load_data))
    monkeypatch.setattr(fastsgd.io, "load_a9a", spy("a9a", fastsgd.io.load_a9a))
    monkeypatch.setattr(fastsgd, "load", spy("model", fastsgd.load))
    monkeypatch.setattr(fastsgd.benchmark, "run", spy("bench", fastsgd.benchmark.run))
    return opened


T = ["train", "{missing}", "--out", "{out}"]  # a data file that does not exist
HOGWILD = (
    "--parallel hogwild trains only the plain logistic update (--model logistic, or sgd with "
    "--loss log_loss; --penalty none, --learning-rate constant or adaptive, no --average), not "
    "these settings of --model sgd; --parallel average trains every setting"
)
NOT_WITHOUT_PARALLEL = (
    "sets how --parallel average or hogwild trains: give --parallel too (without it, training "
    "is sequential)"
)
# (command line, exit status, the one line on stderr; "..." at its end: the line starts so).
# Status 2 (and --out): nothing may be read, so the data file named does not exist.
BAD_COMMAND_LINES = [
    ([*T, "--eta0", "-1"], 2,
     "fastsgd train: error: --eta0 must be a float in the range (0.0, inf) for --model "
     "logistic; got -1.0"),
    ([*T, "--eta0", "abc"], 2, "fastsgd train: error: argument --eta0: invalid float value: 'abc'"),
    ([*T, "--max-iter", "0"], 2,
     "fastsgd train: error: --max-iter must be an int in the range [1, inf) for --model "
     "logistic; got 0"),
    ([*T, "--model", "net", "--hidden", "0"], 2,
     "fastsgd train: error: --hidden must be an int in the range [1, inf) for --model net; "
     "got 0"),
    ([*T, "--alpha", "-1"], 2,
     "fastsgd train: error: --alpha must be a float in the range [0.0, inf) for --model "
     "logistic; got -1.0"),
    ([*T, "--average", "-5"], 2,
     "fastsgd train: error: --average must be 0 (off) or a positive sample number for --model "
     "logistic; got -5"),
    ([*T, "--model", "sweep", "--eta0s", "-1"], 2,
     "fastsgd train: error: --eta0s must be a non-empty sequence of positive learning rates; "
     "got (-1.0,)."),
    ([*T, "--model", "net", "--penalty", "l2"], 2,
     "fastsgd train: error: --penalty does not apply to --model net (it applies to logistic, "
     "sgd, sgd-regressor)"),
    ([*T, "--model", "logistic", "--hidden", "8"], 2,
     "fastsgd train: error: --hidden does not apply to --model logistic (it applies to net, "
     "net-regressor)"),
    ([*T, "--model", "net", "--penalty", "l2", "--epsilon", "0.2"], 2,
     "fastsgd train: error: --penalty, --epsilon do not apply to --model net (--penalty "
     "applies to logistic, sgd, sgd-regressor; --epsilon applies to sgd, sgd-regressor)"),
    ([*T, "--model", "sgd", "--parallel", "average", "--n-shards", "0"], 2,
     "fastsgd train: error: --n-shards must be an int in the range [1, inf) for --model sgd; "
     "got 0"),
    ([*T, "--model", "sgd", "--n-shards", "2"], 2,
     f"fastsgd train: error: --n-shards {NOT_WITHOUT_PARALLEL}"),
    ([*T, "--n-jobs", "2"], 2, f"fastsgd train: error: --n-jobs {NOT_WITHOUT_PARALLEL}"),
    ([*T, "--parallel", "average", "--n-jobs", "0"], 2,
     "fastsgd train: error: argument --n-jobs: expected an integer other than 0, got '0'"),
    ([*T, "--parallel", "bogus"], 2,
     "fastsgd train: error: argument --parallel: invalid choice: 'bogus' (choose from 'none', "
     "'average', 'hogwild')"),
    ([*T, "--model", "sgd", "--parallel", "hogwild"], 2, f"fastsgd train: error: {HOGWILD}"),
    ([*T, "--tol", "-1"], 2,
     "fastsgd train: error: --tol must be a float in the range [0.0, inf) or none for --model "
     "logistic; got -1.0"),
    ([*T, "--tol", "abc"], 2,
     "fastsgd train: error: argument --tol: expected a number or 'none', got 'abc'"),
    ([*T, "--model", "net", "--learning-rate", "optimal"], 2,
     "fastsgd train: error: --learning-rate must be one of adaptive, constant, invscaling for "
     "--model net; got 'optimal'"),
    ([*T, "--model", "sgd", "--learning-rate", "optimal", "--alpha", "0"], 2,
     "fastsgd train: error: --alpha must be > 0 since --learning-rate is 'optimal'. --alpha is "
     "used to compute the optimal learning rate."),
    ([*T, "--loss", "hinge"], 2,
     "fastsgd train: error: --loss does not apply to --model logistic (it applies to sgd, "
     "sgd-regressor)"),
    ([*T, "--model", "sgd", "--loss", "bogus"], 2,
     "fastsgd train: error: --loss must be one of epsilon_insensitive, hinge, huber, log_loss, "
     "modified_huber, perceptron, squared_epsilon_insensitive, squared_error, squared_hinge "
     "for --model sgd; got 'bogus'"),
    ([*T, "--model", "sweep", "--eta0", "0.1"], 2,
     "fastsgd train: error: --eta0 does not apply to --model sweep (it applies to logistic, "
     "sgd, sgd-regressor, net, net-regressor)"),
    ([*T, "--model", "net", "--batch-size", "many"], 2,
     "fastsgd train: error: argument --batch-size: expected an integer or 'auto', got 'many'"),
    ([*T, "--model", "net", "--momentum", "2"], 2,
     "fastsgd train: error: --momentum must be a float in the range [0.0, 1.0] for --model "
     "net; got 2.0"),
    ([*T, "--model", "perceptron"], 2,
     "fastsgd train: error: argument --model: invalid choice: 'perceptron' (choose from "
     "'logistic', 'sgd', 'sgd-regressor', 'net', 'net-regressor', 'sweep')"),
    ([*T, "--n-features", "0"], 2,
     "fastsgd train: error: argument --n-features: expected a positive integer, got '0'"),
    ([*T, "--bogus"], 2, "fastsgd train: error: unrecognized arguments: --bogus"),
    (["train", "{missing}"], 2,
     "fastsgd train: error: the following arguments are required: --out"),
    (["demo", "--epochs", "0"], 2,
     "fastsgd demo: error: --epochs must be an int in the range [1, inf); got 0"),
    (["demo", "--reference-samples", "-3"], 2,
     "fastsgd demo: error: argument --reference-samples: expected a positive integer, got '-3'"),
    ([], 2, "fastsgd: error: the following arguments are required: COMMAND"),
    (["bogus"], 2,
     "fastsgd: error: argument COMMAND: invalid choice: 'bogus' (choose from 'demo', 'train', "
     "'predict', 'bench', 'cache', 'compile')"),
    # files, data, training: status 1
    (["train", "{missing}", "--out", "{tmp}/nodir/m.npz"], 1,
     "fastsgd train: error: --out {tmp}/nodir/m.npz: no such directory: {tmp}/nodir"),
    (["train", "{missing}", "--out", "{readonly}/m.npz"], 1,
     "fastsgd train: error: --out {readonly}/m.npz: cannot write there (Permission denied)"),
    (["train", "{missing}", "--out", "{tmp}"], 1,
     "fastsgd train: error: --out {tmp}: is a directory"),
    (["train", "{missing}", "--out", "{csv}/m.npz"], 1,
     "fastsgd train: error: --out {csv}/m.npz: {csv} is not a directory"),
    (T, 1, "fastsgd train: error: no such data file: {missing}"),
    (["train", "{junk}", "--out", "{out}"], 1,
     "fastsgd train: error: {junk}, line 1: not readable as svmlight/libsvm text: the label "
     "'this' is not a number: 'this is not svmlight'"),
    (["train", "{npy}", "--out", "{out}"], 1,
     "fastsgd train: error: {npy} has no labels (see --label-column)"),
    (["train", "{csv}", "--model", "sgd-regressor", "--out", "{out}"], 1,
     "fastsgd train: error: {csv}: --model sgd-regressor needs numbers as targets, the label "
     "column holds text"),
    (["train", "{huge}", "--model", "sgd-regressor", "--quiet", "--out", "{out}"], 1,
     "fastsgd train: error: training failed: The weights became non-finite in epoch 1: "
     "training diverged. ..."),
    (["predict", "{junk}", "{csv}"], 1,
     "fastsgd predict: error: '{junk}' is not a usable fastsgd model file: it cannot be read as "
     "an .npz archive: not a zip file"),
    (["predict", "{junk}", "{csv}", "--out", "{tmp}/nodir/labels.txt"], 1,
     "fastsgd predict: error: --out {tmp}/nodir/labels.txt: no such directory: {tmp}/nodir"),
    (["bench", "--quick", "--json", "{tmp}/nodir/b.json"], 1,
     "fastsgd bench: error: --json {tmp}/nodir/b.json: no such directory: {tmp}/nodir"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "status", "expected"),
    BAD_COMMAND_LINES,
    ids=[" ".join(argv) or "(nothing)" for argv, _, _ in BAD_COMMAND_LINES],
)
def test_a_bad_command_line_gives_one_line_and_its_status(
    argv, status, expected, files, reads, capsys
):
    argv = [part.format(**files) for part in argv]
    before = sorted(os.listdir(files["tmp"]))
    code, out, err = run(argv, capsys)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    (line,) = lines
    command = argv[0] if argv and argv[0] in ("demo", "train", "predict", "bench") else None
    assert line.startswith(f"fastsgd {command}: error: " if command else "fastsgd: error: ")
    expected = expected.format(**files)
    if expected.endswith("..."):
        assert line.startswith(expected[:-3]), line
    else:
        assert line == expected
    assert code == status
    assert out == ""
    if status == 2 or "--out" in line or "--json" in line:
        assert reads == []  # the options, then the output paths, then the files
    assert sorted(os.listdir(files["tmp"])) == before  # no model, no probe file left behind


def test_an_unexpected_exception_is_one_line_naming_its_type(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(fastsgd.io, "load_data", broken)
    argv = ["train", str(tmp_path / "data.csv"), "--out", str(tmp_path / "m.npz")]
    code, _, err = run(argv, capsys)
    assert code == 1
    assert err == (
        "fastsgd train: error: RuntimeError: boom second line (run again with --debug to see "
        "the traceback)\n"
    )
    # --debug before or after the command: the traceback, then the same line (same status)
    for debug_argv in (["--debug", *argv], [*argv, "--debug"]):
        code, _out, err = run(debug_argv, capsys)
        assert code == 1
        assert err.startswith("Traceback (most recent call last):")
        assert 'raise RuntimeError("boom' in err
        assert err.splitlines()[-1] == "fastsgd train: error: RuntimeError: boom second line"


def test_debug_shows_the_traceback_of_an_option_error(tmp_path, capsys):
    argv = ["--debug", "train", str(tmp_path / "none.csv"), "--out", str(tmp_path / "m.npz"),
            "--eta0", "-1"]  # fmt: skip
    code, _out, err = run(argv, capsys)
    assert code == 2
    assert "Traceback (most recent call last):" in err
    assert "sklearn.utils._param_validation.InvalidParameterError: The 'eta0' parameter" in err
    assert err.splitlines()[-1].startswith("fastsgd train: error: --eta0 must be a float")


def test_ctrl_c_outside_the_fit_and_a_closed_pipe(tmp_path, monkeypatch, capsys):
    """Ctrl-C while reading the data: one line, status 130; a reader of stdout that went away
    (fastsgd predict ... | head): a quiet exit, status 1."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fastsgd.io, "load_data", interrupted)
    argv = ["train", str(tmp_path / "data.csv"), "--out", str(tmp_path / "m.npz")]
    assert run(argv, capsys) == (130, "", "fastsgd train: interrupted\n")
    monkeypatch.undo()

    X = np.random.default_rng(0).standard_normal((40, 2))
    LogisticRegression(max_iter=2, tol=None).fit(X, X[:, 0] > 0).save(tmp_path / "m.npz")
    np.save(tmp_path / "X.npy", X)

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert run(["predict", str(tmp_path / "m.npz"), str(tmp_path / "X.npy")], capsys) == (1, "", "")


def test_version(capsys):
    assert run(["--version"], capsys) == (0, f"fastsgd {fastsgd.__version__}\n", "")


def test_help_gives_every_option_its_meaning_and_default_in_plain_text():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert list(commands) == ["demo", "train", "predict", "bench", "cache", "compile"]
    actions = commands["cache"]._subparsers._group_actions[0].choices
    assert list(actions) == ["build", "info"]
    for sub in [parser, *commands.values(), *actions.values()]:
        text = sub.format_help()
        assert "`" not in text and "``" not in text
        for action in sub._actions:
            if not action.option_strings or action.dest in ("help", "version"):
                continue
            assert action.help, (sub.prog, action.dest)
            assert "default" in action.help.lower() or action.required, (sub.prog, action.dest)
    train = commands["train"].format_help()
    for option in ("--max-iter", "--random-state", "--tol", "--eta0", "--parallel"):
        assert option in train
    # where the command line's default is not the estimator's, the help says so and why
    flat = " ".join(train.split())
    assert "Default: 20, to keep a command-line run short; the estimators' default is 1000" in flat
    assert "Default: 0, so that a run is reproducible; the estimators' default is none" in flat
    assert "Default: the estimator's, 0.01 (net-regressor: 0.001)" in flat


@pytest.mark.parametrize("model", list(MODELS))
def test_the_defaults_are_the_python_defaults(model):
    """Without options, train builds the estimator of its Python defaults, except max_iter
    (20), random_state (0) and verbose (the progress bar), as --help says."""
    args = build_parser().parse_args(["train", "data.csv", "--out", "m.npz", "--model", model])
    built = _build_model(args).get_params()
    python = type(_build_model(args))().get_params()
    assert {key: value for key, value in built.items() if built[key] != python[key]} == {
        "max_iter": 20, "random_state": 0, "verbose": 1,
    }  # fmt: skip


def test_a_convergence_warning_is_one_line_beside_the_progress_bar(tmp_path, capsys):
    data = tmp_path / "data.csv"
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2))
    data.write_text("a,b,label\n" + "".join(f"{a},{b},{int(a > b)}\n" for a, b in X))
    argv = ["train", str(data), "--out", str(tmp_path / "m.npz"), "--max-iter", "1",
            "--tol", "1e-3"]  # fmt: skip
    line = (
        "fastsgd train: warning: ConvergenceWarning: Maximum number of iteration reached before "
        "convergence. Consider increasing max_iter to improve the fit."
    )
    handler = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, out, err = run([*argv, "--quiet"], capsys)
        assert (code, err) == (0, line + "\n")
        assert "wrote" in out
        # with the progress bar: the warning has a line of its own (tqdm.write), no source line
        code, out, err = run(argv, capsys)
    assert code == 0
    assert line in err.replace("\r", "\n").splitlines()
    assert "cli.py" not in err and "model.fit" not in err
    assert warnings.showwarning is handler  # restored after the command


def _process(argv, cwd):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "fastsgd", *argv], capture_output=True, text=True, cwd=cwd, env=env
    )


def test_process_usage_error_exits_2_with_one_line(tmp_path):
    """As a user runs it: an option error is one line and exit status 2 (one process, ~3 s)."""
    result = _process(["train", "none.csv", "--out", "m.npz", "--model", "net", "--penalty", "l2"],
                      tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "fastsgd train: error: --penalty does not apply to --model net (it applies to logistic, "
        "sgd, sgd-regressor)\n"
    )


def test_process_debug_prints_the_traceback(tmp_path):
    result = _process(["--debug", "train", "none.csv", "--out", "m.npz"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "FileNotFoundError: no such data file: none.csv" in result.stderr
    assert result.stderr.splitlines()[-1] == "fastsgd train: error: no such data file: none.csv"
    assert not (tmp_path / "m.npz").exists()


def test_predict_keeps_working_after_the_checks(tmp_path, capsys):
    """--out is checked, not written, before the model is read; then written once."""
    X = np.random.default_rng(0).standard_normal((40, 2))
    model = LogisticRegression(max_iter=3, tol=None, random_state=0).fit(X, X[:, 0] > 0)
    model.save(tmp_path / "m.npz")
    np.save(tmp_path / "X.npy", X)
    out = tmp_path / "labels.txt"
    argv = ["predict", str(tmp_path / "m.npz"), str(tmp_path / "X.npy"), "--out", str(out)]
    assert run(argv, capsys)[0] == 0
    assert out.read_text().split() == [str(v) for v in model.predict(X)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.npy", "labels.txt", "m.npz"]
