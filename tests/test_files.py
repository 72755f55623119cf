"""Malformed data and model files are refused with a message that says where the fault is.

Data files (``fastsgd.io.load_data``): svmlight/libsvm text, CSV, .npy/.npz that do not parse,
hold NaN or infinity, or are empty raise ``ValueError`` naming the file and, where one line is
at fault, its 1-based line number as an editor shows it (``data.svm, line 7: ...``). Model files
(``fastsgd.load``) that are cut short, not a zip, damaged or crafted raise ``ValueError`` naming
the file and the member at fault. The CLI turns both into one line on stderr and exit status 1.

Each case writes a file by hand (the oracle is the line or member we broke) and checks the
message; the well-formed variants of the same files load, so the checks refuse only the faults.
"""

import bz2
import gzip
import io
import json
import re
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

import fastsgd
from fastsgd import LogisticRegression
from fastsgd.cli import main
from fastsgd.io import load_data
from fastsgd.persistence import META
from fastsgd.svmlight import load_svmlight

ROOT = Path(__file__).resolve().parents[1]


def refused(call, path, line=None, *fragments):
    """Run ``call``; it must raise ValueError naming ``path`` (and ``line``) and the fragments."""
    with pytest.raises(ValueError) as caught:
        call()
    message = str(caught.value)
    assert str(path) in message, message
    if line is not None:  # "line 3" must not be satisfied by "line 30"
        assert re.search(re.escape(f"{path}, line {line}") + r"[:,]", message), message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message
    return message


# -- svmlight / libsvm -------------------------------------------------------------------------

GOOD_SVM = b"# two rows, a blank line and a comment first\n\n+1 1:0.5 3:2 # a comment\n-1 2:1\n"

# (bad third data line, what the message says); the line lands on line 5 of the file
BAD_SVM_LINES = {
    "label not a number": (b"abc 1:2", "the label 'abc' is not a number"),
    "pair without colon": (b"1 1:2 3-4", "'3-4' is not an index:value pair"),
    "pair without value": (b"1 1:2 3:", "the value in '3:' is not a number"),
    "pair without index": (b"1 :2", "the feature index in ':2' is not a whole number"),
    "index not whole": (b"1 1.5:2", "the feature index in '1.5:2' is not a whole number"),
    "negative index": (b"1 -1:2", "'-1:2' is out of range"),
    "index too large": (b"1 99999999999999999999:2", "out of range"),
    "indices not increasing": (b"1 3:2 2:1", "must increase along a line"),
    "repeated index": (b"1 2:2 2:1", "must increase along a line"),
    "value not a number": (b"1 1:2 2:abc", "the value in '2:abc' is not a number"),
    "non-UTF-8 value": (b"1 1:\xff\xfe", "the value in '1:\\xff\\xfe' is not a number"),
    "qid without value": (b"1 qid 1:2", "'qid' is not a qid:value pair"),
    "binary bytes": (b"\x00\x01\x02PK\x03\x04", "binary data"),
}


@pytest.mark.parametrize("case", sorted(BAD_SVM_LINES))
def test_svmlight_parse_errors_name_the_line(tmp_path, case):
    bad, says = BAD_SVM_LINES[case]
    path = tmp_path / "data.svm"
    path.write_bytes(GOOD_SVM + bad + b"\n-1 1:1\n")
    message = refused(lambda: load_data(path), path, 5, says)
    assert "svmlight" in message


def test_zero_index_is_refused_when_the_file_is_one_based(tmp_path):
    path = tmp_path / "data.svm"
    path.write_bytes(b"1 1:2\n-1 0:3\n")
    refused(lambda: load_data(path, zero_based=False), path, 2, "out of range (indices start at 1)")
    X, _ = load_data(path)  # "auto": an index 0 makes the file zero-based, as in scikit-learn
    np.testing.assert_array_equal(X, [[0, 2], [3, 0]])


@pytest.mark.parametrize("bad_line", [1, 2, 777, 1000])
def test_svmlight_search_finds_the_line_in_a_long_file(tmp_path, bad_line):
    """The line search halves the file; the fault at the first, last and middle lines is found."""
    lines = [f"{1 if i % 2 else -1} {i % 7 + 1}:1.5 9:{i}".encode() for i in range(1000)]
    lines[bad_line - 1] = b"1 4:1 3:1"
    path = tmp_path / "long.svm"
    path.write_bytes(b"\n".join(lines))  # the last line has no newline
    refused(lambda: load_data(path), path, bad_line, "must increase")


@pytest.mark.parametrize(
    ("third", "says"),
    [
        (b"1 2:nan", "the value nan is NaN or infinite"),
        (b"1 2:inf", "the value inf is NaN or infinite"),
        (b"1 1:-Infinity", "the value -inf is NaN or infinite"),
        (b"nan 2:1", "the label nan is not a finite number"),
        (b"inf 2:1", "the label inf is not a finite number"),
    ],
    ids=["nan value", "inf value", "-inf value", "nan label", "inf label"],
)
def test_svmlight_non_finite_values_name_the_line(tmp_path, third, says):
    """scikit-learn's loader lets NaN and infinity through; the estimators would refuse them
    without naming the file, so load_data refuses them with the line."""
    path = tmp_path / "data.svm"
    path.write_bytes(GOOD_SVM + third + b"\n")
    refused(lambda: load_data(path, sparse=True), path, 5, says)


def test_svmlight_float32_overflow_names_the_line(tmp_path):
    path = tmp_path / "data.svm"
    path.write_bytes(b"1 1:1\n-1 1:1e300\n")
    refused(lambda: load_data(path, dtype=np.float32), path, 2, "too large for float32")
    assert np.isfinite(load_data(path)[0]).all()  # fits in float64


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n", b"# only a comment\n"],
    ids=["empty", "blank lines", "comment only"],
)
def test_svmlight_without_rows_is_refused(tmp_path, content):
    path = tmp_path / "data.svm"
    path.write_bytes(content)
    refused(lambda: load_data(path), path, None, "no data rows")


def test_svmlight_binary_file_is_refused(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(bytes(range(256)) * 4)
    refused(lambda: load_data(path), path, 1, "binary data (a NUL byte)")


def test_svmlight_index_beyond_n_features_names_the_line(tmp_path):
    path = tmp_path / "data.svm"
    path.write_bytes(b"1 1:1\n-1 2:1\n1 5:1\n")
    refused(lambda: load_data(path, n_features=4), path, 3, "beyond the 4 features")
    # a stray index 0 makes "auto" read a one-based file as zero-based: the message says so
    path.write_bytes(b"1 1:1\n-1 0:1\n1 4:1\n")
    refused(lambda: load_data(path, n_features=4), path, 3, "has feature index 0")


def test_svmlight_compressed_files(tmp_path):
    path = tmp_path / "data.svm.gz"
    path.write_bytes(gzip.compress(GOOD_SVM + b"1 1:x\n"))
    refused(lambda: load_data(path), path, 5, "the value in '1:x' is not a number")
    whole = gzip.compress(GOOD_SVM * 200)
    path.write_bytes(whole[: len(whole) // 2])
    refused(lambda: load_data(path), path, None, "damaged compressed file")


def test_svmlight_good_files_load_as_scikit_learn_reads_them(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 12)) * (rng.random((50, 12)) < 0.3)
    y = rng.integers(0, 3, 50)
    path = tmp_path / "data.svm"
    dump_svmlight_file(X[:, :10], y, str(path))  # mentions 10 of the 12 features at most
    ours_X, ours_y = load_data(path, n_features=12, sparse=True)
    theirs_X, theirs_y = load_svmlight_file(str(path), n_features=12)
    assert ours_X.shape == theirs_X.shape == (50, 12)
    assert (ours_X != theirs_X).nnz == 0
    np.testing.assert_array_equal(ours_y, theirs_y)
    assert ours_y.dtype == np.int64
    X_dense, _ = load_data(tmp_path / "data.svm", n_features=12)
    np.testing.assert_array_equal(X_dense, theirs_X.toarray())
    path.write_bytes(GOOD_SVM)  # comments, blank lines
    np.testing.assert_array_equal(load_data(path)[0], [[0.5, 0, 2], [0, 1, 0]])


# load_data reads svmlight with the compiled reader (fastsgd.svmlight); scikit-learn's loader is
# the oracle: equal X and y on every good file above, and a refusal by both on every malformed
# one. The two differ on purpose only where the tests below say so.

GOOD_SVM_FILES = {
    "comments and blank lines": GOOD_SVM,
    "index 0 (auto: zero-based)": b"1 1:2\n-1 0:3\n",
    "float32 overflow": b"1 1:1\n-1 1:1e300\n",
    "beyond n_features": b"1 1:1\n-1 2:1\n1 5:1\n",
    "stray index 0": b"1 1:1\n-1 0:1\n1 4:1\n",
    "long, no last newline": b"\n".join(
        f"{1 if i % 2 else -1} {i % 7 + 1}:1.5 9:{i}".encode() for i in range(1000)
    ),
    "qid, CRLF, tabs, exponents": b"3 qid:2 1:1e-320\t4:-2.5E+3 # c\r\n-1.5 2:0.1\r\n",
    "underscores in a value": b"1 1:1_0 2:.5\n2 3:7\n",
}


def oracle_equal(path, **options):
    """load_data (sparse) and load_svmlight_file read ``path`` alike, values bit for bit."""
    ours_X, ours_y = load_data(path, sparse=True, **options)
    theirs_X, theirs_y = load_svmlight_file(str(path), **options)
    assert ours_X.shape == theirs_X.shape
    assert ours_X.dtype == theirs_X.dtype
    np.testing.assert_array_equal(ours_X.indptr, theirs_X.indptr)
    np.testing.assert_array_equal(ours_X.indices, theirs_X.indices)
    assert ours_X.data.tobytes() == theirs_X.data.tobytes()  # bit for bit (signed zeros too)
    np.testing.assert_array_equal(ours_y, theirs_y)
    # int32 indices, the compiled kernels' common variant (scikit-learn gives int64)
    assert ours_X.indices.dtype == np.int32
    return ours_X, ours_y


@pytest.mark.parametrize("case", sorted(GOOD_SVM_FILES))
def test_svmlight_good_files_equal_scikit_learn(tmp_path, case):
    content = GOOD_SVM_FILES[case]
    path = tmp_path / "data.svm"
    path.write_bytes(content)
    oracle_equal(path)
    for zero_based in (True, False):
        if zero_based is False and b" 0:" in content:
            continue  # index 0 in a one-based file: refused by both (next test)
        oracle_equal(path, zero_based=zero_based)
    if case != "float32 overflow":  # refused by load_data as infinite (tested above)
        oracle_equal(path, dtype=np.float32)
    if case not in ("beyond n_features", "stray index 0"):  # refused (tested above)
        oracle_equal(path, n_features=20)


def test_svmlight_generated_and_compressed_files_equal_scikit_learn(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 40)) * (rng.random((300, 40)) < 0.2)
    X[rng.random(X.shape) < 0.01] = 1e-310  # subnormal
    path = tmp_path / "data.svm"
    dump_svmlight_file(X, rng.integers(-1, 2, 300) * 2 + 1, str(path), zero_based=False)
    oracle_equal(path)
    oracle_equal(path, dtype=np.float32, n_features=45)
    for suffix, compress in [(".gz", gzip.compress), (".bz2", bz2.compress)]:
        packed = tmp_path / f"data.svm{suffix}"
        packed.write_bytes(compress(GOOD_SVM * 200))
        oracle_equal(packed)


def malformed_svm_files():
    """Every malformed svmlight file of the tests above: (id, content, load options)."""
    for case, (bad, _) in sorted(BAD_SVM_LINES.items()):
        yield case, GOOD_SVM + bad + b"\n-1 1:1\n", {}
    yield "index 0, one-based", b"1 1:2\n-1 0:3\n", {"zero_based": False}
    yield "fault in a long file", b"\n".join([b"1 1:1"] * 776 + [b"1 4:1 3:1"] * 2), {}
    yield "binary file", bytes(range(256)) * 4, {}
    yield "not svmlight", b"this is not svmlight\n", {}
    yield "cut train file", GOOD_SVM + b"1 1:2 3-4\n", {}
    yield "compressed, bad value", gzip.compress(GOOD_SVM + b"1 1:x\n"), {}


@pytest.mark.parametrize(
    ("content", "options"),
    [case[1:] for case in malformed_svm_files()],
    ids=[case[0] for case in malformed_svm_files()],
)
def test_svmlight_malformed_files_are_refused_by_scikit_learn_too(tmp_path, content, options):
    path = tmp_path / ("data.svm.gz" if content[:2] == b"\x1f\x8b" else "data.svm")
    path.write_bytes(content)
    with pytest.raises((ValueError, OverflowError)):
        load_svmlight_file(str(path), **options)
    message = refused(lambda: load_data(path, **options), path, None, "svmlight")
    assert re.search(re.escape(str(path)) + r", line \d+: ", message), message


def test_svmlight_where_the_readers_differ(tmp_path):
    path = tmp_path / "data.svm"
    # an index with underscores: Python's int() takes it, so scikit-learn reads 1_0 as 10; the
    # compiled reader takes digits only and refuses the line (values take them in both)
    path.write_bytes(b"1 1:1\n-1 1_0:2\n")
    assert load_svmlight_file(str(path))[0].shape == (2, 10)
    refused(lambda: load_data(path), path, 2, "a feature index is not an integer: '-1 1_0:2'")
    # an index beyond 32 bits: scikit-learn refuses it (OverflowError); the compiled reader
    # takes it, and load_data refuses it as scikit-learn does, with the line
    path.write_bytes(b"1 1:1\n-1 2147483648:2\n")
    with pytest.raises(OverflowError):
        load_svmlight_file(str(path))
    assert load_svmlight(path)[0].shape == (2, 2**31)
    for zero_based in ("auto", True, False):
        options = {"sparse": True, "zero_based": zero_based}
        refused(lambda options=options: load_data(path, **options), path, 2, "range")
    # the largest index scikit-learn takes, zero-based: 2**31 columns, read by both
    path.write_bytes(b"1 0:1\n-1 2147483647:2\n")
    ours, _ = load_data(path, sparse=True)
    theirs, _ = load_svmlight_file(str(path))
    assert ours.shape == theirs.shape == (2, 2**31)
    assert (ours != theirs).nnz == 0
    # NaN and infinity: both readers take them; load_data refuses them (tested above)


def test_svmlight_int32_indices_train_as_scikit_learns_int64(tmp_path):
    """The estimators (and so ``fastsgd train``) fit the int32 CSR load_data gives exactly as
    the int64 CSR of scikit-learn's loader."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 30)) * (rng.random((200, 30)) < 0.3)
    path = tmp_path / "train.svm"
    dump_svmlight_file(X, np.where(X[:, 0] + X[:, 1] > 0, 1, -1), str(path))
    ours_X, ours_y = load_data(path, sparse=True)
    theirs_X, theirs_y = load_svmlight_file(str(path))
    assert ours_X.indices.dtype == np.int32 and theirs_X.indices.dtype == np.int64
    options = dict(max_iter=3, tol=None, random_state=0)
    ours = LogisticRegression(**options).fit(ours_X, ours_y)
    theirs = LogisticRegression(**options).fit(theirs_X, theirs_y)
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_)
    out = tmp_path / "m.npz"
    assert main(["train", str(path), "--out", str(out), "--max-iter", "3", "--quiet"]) == 0
    trained = fastsgd.load(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 epochs do not converge, as the CLI's run did not
        again = type(trained)(**trained.get_params()).fit(theirs_X, theirs_y)
    np.testing.assert_array_equal(trained.coef_, again.coef_)
    np.testing.assert_array_equal(trained.intercept_, again.intercept_)


# -- CSV ---------------------------------------------------------------------------------------

GOOD_CSV = "a,b,label\n1,2,0\n\n3,4,1\n"  # the blank line 3 is skipped, and counted

BAD_CSV_ROWS = {
    "short row": ("5,1", "2 cells, but the header on line 1 has 3"),
    "long row": ("5,6,1,7", "4 cells, but the header on line 1 has 3"),
    "text cell": ("5,x,1", "column 'b': 'x' is not a number"),
    "empty cell": ("5,,1", "column 'b': '' is not a number"),
    "missing label": ("5,6,", "column 'label': the label is missing"),
    "blank label": ("5,6,  ", "column 'label': the label is missing"),
    "nan cell": ("nan,6,1", "column 'a': the value nan is NaN or infinite"),
    "inf cell": ("5,-inf,1", "column 'b': the value -inf is NaN or infinite"),
    "nan label": ("5,6,nan", "column 'label': the label nan is not a finite number"),
    "inf label": ("5,6,inf", "column 'label': the label inf is not a finite number"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV_ROWS))
def test_csv_errors_name_the_line_and_column(tmp_path, case):
    row, says = BAD_CSV_ROWS[case]
    path = tmp_path / "data.csv"
    path.write_text(GOOD_CSV + row + "\n7,8,0\n")
    refused(lambda: load_data(path), path, 5, says)


def test_csv_line_numbers_follow_quoted_newlines_and_crlf(tmp_path):
    path = tmp_path / "data.csv"
    # record 2 spans lines 2-3 (a quoted newline), so the bad record starts on line 5
    path.write_bytes(b'a,b,label\r\n1,2,"zero\r\nlabel"\r\n\r\n3,y,1\r\n')
    refused(lambda: load_data(path), path, 5, "column 'b': 'y' is not a number")


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"", "the file is empty"), (b"a,b,label\n", "a header row but no data rows"),
     (b"\n\n", "the file is empty")],
    ids=["empty", "header only", "blank lines"],
)  # fmt: skip
def test_csv_without_rows_is_refused(tmp_path, content, says):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    refused(lambda: load_data(path), path, None, says)


def test_csv_non_utf8_and_binary_name_the_line(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,label\n1,0\n2,\xe9t\xe9\n")  # Latin-1, not UTF-8
    refused(lambda: load_data(path), path, 3, "byte 0xe9 is not UTF-8")
    path.write_bytes(b"\xef\xbb\xbfa,label\n1,0\n\x89PNG\r\n")  # after a byte-order mark
    refused(lambda: load_data(path), path, 3, "byte 0x89 is not UTF-8")
    path.write_bytes(b"a,label\n1,0\n\x00\x01,1\n")
    refused(lambda: load_data(path), path, 3, "column 'a': '\\x00\\x01' is not a number")


def test_csv_oversized_field_and_bad_label_column(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,label\n1,0\n" + "9" * 200_000 + ",1\n")
    refused(lambda: load_data(path), path, 3, "not readable as CSV", "field larger")
    path.write_text(GOOD_CSV)
    refused(lambda: load_data(path, label_column=3), path, None, "no label column 3")


def test_csv_good_files_load(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xef\xbb\xbfa,label,b\r\n1,yes,2\r\n\r\n3,no,4\r\n")  # BOM, CRLF, blank
    X, y = load_data(path)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert list(y) == ["yes", "no"]
    path.write_text(GOOD_CSV)
    X, y = load_data(path, label_column=-1)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert y.dtype == np.int64 and list(y) == [0, 1]


# -- .npy / .npz data --------------------------------------------------------------------------


def test_numpy_data_files(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, np.ones((4, 3)))
    path.write_bytes(path.read_bytes()[:-8])
    refused(lambda: load_data(path), path, None, "not a readable .npy data file")
    np.save(path, np.array([["a", "b"]]))
    refused(lambda: load_data(path), path, None, "it must hold numbers")
    path = tmp_path / "data.npz"
    np.savez(path, X=np.array([[1.0, np.nan]]), y=np.array([1]))
    refused(lambda: load_data(path), path, None, "X[0, 1]: the value nan")
    np.savez(path, X=np.ones((2, 2)), y=np.array([0.0, np.inf]))
    refused(lambda: load_data(path), path, None, "row 1 of X: the label inf")
    np.savez(path, y=np.zeros(3))
    refused(lambda: load_data(path), path, None, "an array named 'X'")
    path.write_bytes(b"")
    refused(lambda: load_data(path), path, None, "not a readable .npz data file")


# -- model files -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A fitted two-class model's file; its coef_[0, 0] is exactly 0.5."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = np.where(X[:, 0] > 0, 1, -1)
    model = LogisticRegression(max_iter=2, tol=None, random_state=0).fit(X, y)
    model.coef_[0, 0] = 0.5
    path = tmp_path_factory.mktemp("model") / "good.npz"
    model.save(path)
    return path, X


def members(path):
    """The raw .npy bytes of each member of a model file."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


def write_zip(path, parts, compression=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name, which we want
        with zipfile.ZipFile(path, "w", compression) as archive:
            for name, data in parts:
                archive.writestr(name, data)


@pytest.mark.parametrize("keep", [0, 1, 2, 4, 30, 0.25, 0.5, 0.9, -22, -1])
def test_truncated_model_files_are_refused(tmp_path, model_file, keep):
    data = model_file[0].read_bytes()
    cut = int(keep * len(data)) if isinstance(keep, float) else keep % len(data)
    path = tmp_path / "cut.npz"
    path.write_bytes(data[:cut])
    says = {0: "the file is empty", 1: "not a zip file"}.get(cut, "truncated or damaged zip")
    refused(lambda: fastsgd.load(path), path, None, "cannot be read as an .npz archive", says)


def meta_of(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive[META]))


def with_meta(path, meta):
    """The members of ``path`` with ``__meta__`` replaced by ``meta`` (JSON text or an array)."""
    text = meta if isinstance(meta, (str, np.ndarray)) else json.dumps(meta)
    return [
        (name, npy(text) if name == f"{META}.npy" else data) for name, data in members(path).items()
    ]


def test_model_files_that_are_not_npz_are_refused(tmp_path, model_file):
    good, _ = model_file
    path = tmp_path / "m.npz"
    path.write_text("this is not a model\n")
    refused(lambda: fastsgd.load(path), path, None, "not a zip file")
    np.save(path.with_suffix(".npy"), np.zeros(3))
    path.write_bytes(path.with_suffix(".npy").read_bytes())
    refused(lambda: fastsgd.load(path), path, None, "a single .npy array")
    write_zip(path, [(n, d) for n, d in members(good).items() if n != f"{META}.npy"])
    refused(lambda: fastsgd.load(path), path, None, "'__meta__' entry is missing")
    missing = tmp_path / "missing.npz"
    refused(lambda: fastsgd.load(missing), missing, None, "No such file")


@pytest.mark.parametrize(
    ("meta", "says"),
    [
        ('{"format": "fastsgd-model", ', "'__meta__') is not valid JSON"),
        ("[" * 100_000, "is not valid JSON"),
        (np.arange(3), "'__meta__' entry is missing or is not text"),
        ([1, 2], "its format is [1, 2]"),
        ({"format": "other"}, "its format is 'other'"),
    ],
    ids=["cut JSON", "deep JSON", "numbers", "JSON list", "other format"],
)
def test_bad_metadata_is_refused(tmp_path, model_file, meta, says):
    path = tmp_path / "m.npz"
    write_zip(path, with_meta(model_file[0], meta))
    refused(lambda: fastsgd.load(path), path, None, says)


META_CHANGES = {
    "version 3": (lambda m: m.update(version=3), "format version 3"),
    "version text": (lambda m: m.update(version="1"), "format version '1'"),
    "version true": (lambda m: m.update(version=True), "format version True"),
    "class": (lambda m: m.update({"class": "builtins.eval"}), "unknown estimator class"),
    "no params": (lambda m: m.pop("params"), "'params' and 'scalars' must be JSON objects"),
    "n_iter_ text": (lambda m: m["scalars"].update(n_iter_="7"), "n_iter_ must be"),
    "t_ negative": (lambda m: m["scalars"].update(t_=-1.0), "t_ must be a non-negative"),
    "scalar missing": (lambda m: m["scalars"].pop("t_"), "the fitted value 't_' is missing"),
    "scalar extra": (lambda m: m["scalars"].update(x_=1), "unexpected fitted values ['x_']"),
}


@pytest.mark.parametrize("case", sorted(META_CHANGES))
def test_tampered_metadata_is_refused(tmp_path, model_file, case):
    change, says = META_CHANGES[case]
    meta = meta_of(model_file[0])
    change(meta)
    path = tmp_path / "m.npz"
    write_zip(path, with_meta(model_file[0], meta))
    refused(lambda: fastsgd.load(path), path, None, says)


def replaced(path, name, data):
    return [(n, data if n == name else d) for n, d in members(path).items()]


def header_only(shape, descr="<f8") -> bytes:
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


ARRAY_CHANGES = {
    "int dtype": (lambda c: npy(c.astype(np.int64)), "coef_ has dtype int64"),
    "big-endian": (lambda c: npy(c.astype(">f8")), "coef_ has dtype >f8"),
    "shape": (lambda c: npy(c.T), "coef_ has shape (3, 1)"),
    "nan": (lambda c: npy(np.where(c == 0.5, np.nan, c)), "coef_ contains NaN or infinity"),
    "inf": (lambda c: npy(np.where(c == 0.5, np.inf, c)), "coef_ contains NaN or infinity"),
    "object": (lambda c: npy(np.array([print], dtype=object)), "'coef_' holds something other"),
    "not npy": (lambda c: b"\x80\x04print", "'coef_' is not a valid .npy array"),
    "cut member": (lambda c: npy(c)[:-4], "'coef_' is cut short or padded"),
    "padded member": (lambda c: npy(c) + b"\0" * 8, "'coef_' is cut short or padded"),
    "huge shape": (lambda c: header_only((10**12,)) + b"\0" * 8, "announces 8000000000000"),
    "negative shape": (lambda c: header_only((-1, -1)) + b"\0" * 8, "negative length"),
}


@pytest.mark.parametrize("case", sorted(ARRAY_CHANGES))
def test_tampered_arrays_are_refused(tmp_path, model_file, case):
    change, says = ARRAY_CHANGES[case]
    with np.load(model_file[0]) as archive:
        coef = archive["coef_"]
    path = tmp_path / "m.npz"
    write_zip(path, replaced(model_file[0], "coef_.npy", change(coef)))
    refused(lambda: fastsgd.load(path), path, None, says)


def test_members_extra_missing_repeated_or_not_npy_are_refused(tmp_path, model_file):
    good, _ = model_file
    parts = list(members(good).items())
    path = tmp_path / "m.npz"
    write_zip(path, [*parts, ("payload.npy", npy(np.zeros(3)))])
    refused(lambda: fastsgd.load(path), path, None, "unexpected arrays ['payload']")
    write_zip(path, [(n, d) for n, d in parts if n != "intercept_.npy"])
    refused(lambda: fastsgd.load(path), path, None, "missing arrays ['intercept_']")
    write_zip(path, [*parts, ("coef_.npy", npy(np.zeros((1, 3))))])
    refused(lambda: fastsgd.load(path), path, None, "a member name appears twice")
    write_zip(path, [*parts, ("script.py", b"print('hi')")])
    refused(lambda: fastsgd.load(path), path, None, "the member 'script.py' is not a .npy array")


def test_a_weight_edited_in_place_is_refused_by_the_zip_crc(tmp_path, model_file):
    """0.5 -> 0.6 keeps the dtype and the shape; the member's CRC-32 no longer matches."""
    data = model_file[0].read_bytes()
    at = data.index(struct.pack("<d", 0.5))
    path = tmp_path / "m.npz"
    path.write_bytes(data[:at] + struct.pack("<d", 0.6) + data[at + 8 :])
    refused(lambda: fastsgd.load(path), path, None, "the member 'coef_' is damaged", "CRC")


def test_compressed_model_files(tmp_path, model_file):
    good, X = model_file
    path = tmp_path / "m.npz"
    write_zip(path, members(good).items(), zipfile.ZIP_DEFLATED)  # np.savez_compressed's layout
    np.testing.assert_array_equal(fastsgd.load(path).predict(X), fastsgd.load(good).predict(X))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("coef_.npy")
    start = info.header_offset + 30 + len(info.filename)  # the deflate stream, no extra field
    data[start : start + 40] = bytes(40)
    path.write_bytes(bytes(data))
    refused(lambda: fastsgd.load(path), path, None, "the member 'coef_' is damaged")


# -- the command line --------------------------------------------------------------------------


def cli_refuses(argv, *fragments):
    """main(argv) must exit with one line naming the fault, as SystemExit's message."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    message = caught.value.code
    assert isinstance(message, str) and "\n" not in message, message
    assert message.startswith(f"fastsgd {argv[0]}: error: "), message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_cli_train_refuses_malformed_data(tmp_path):
    path = tmp_path / "train.svm"
    path.write_bytes(GOOD_SVM + b"1 1:2 3-4\n")
    out = tmp_path / "m.npz"
    cli_refuses(["train", str(path), "--out", str(out), "--quiet"], f"{path}, line 5:")
    path = tmp_path / "train.csv"
    path.write_text(GOOD_CSV + "5,x,1\n")
    cli_refuses(["train", str(path), "--out", str(out), "--quiet"], f"{path}, line 5,")
    cli_refuses(["train", str(tmp_path / "none.svm"), "--out", str(out)], "no such data file")
    assert not out.exists()


def test_cli_predict_refuses_bad_model_and_data_files(tmp_path, model_file):
    good, X = model_file
    data = tmp_path / "test.csv"
    data.write_text("a,b,c\n" + "\n".join(",".join(map(str, row)) for row in X) + "\n")
    bad_model = tmp_path / "bad.npz"
    bad_model.write_bytes(good.read_bytes()[:100])
    cli_refuses(["predict", str(bad_model), str(data)], str(bad_model), "truncated")
    bad_data = tmp_path / "bad.csv"
    bad_data.write_text("a,b,c\n1,2,3\n4,inf,6\n")
    cli_refuses(["predict", str(good), str(bad_data)], f"{bad_data}, line 3, column 'b'")
    out = tmp_path / "no" / "such" / "folder" / "labels.txt"
    cli_refuses(["predict", str(good), str(data), "--out", str(out)], str(out))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    cli_refuses(["predict", str(good), str(wrong)], str(wrong), "2 features, but 3 are needed")


def test_cli_process_prints_one_line_and_exits_1(tmp_path):
    """As a user runs it: status 1, one line on stderr, no traceback (one process: ~3 s)."""
    data = tmp_path / "data.svm"
    data.write_bytes(GOOD_SVM + b"1 2:abc\n")
    argv = ["train", str(data), "--out", str(tmp_path / "m.npz")]
    result = subprocess.run(
        [sys.executable, "-m", "fastsgd", *argv], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastsgd train: error: "), result.stderr
    assert f"{data}, line 5:" in lines[0]
