"""The compiled svmlight parser (``fastsgd.svmlight``) against scikit-learn's reader.

Reference: ``sklearn.datasets.load_svmlight_file``. Every well-formed file must give the same
X (data, indices, indptr) and y, exactly, in float64 and float32, for every block size and
``zero_based`` setting; every malformed file must be refused by both, fastsgd's message naming
the file and the 1-based line at fault. Numbers are also checked one by one against Python's
``float`` (correctly rounded, what scikit-learn calls). The few places where fastsgd
deliberately differs from scikit-learn are tested as such at the end.
"""

import bz2
import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

import fastsgd.svmlight as svmlight
from fastsgd.svmlight import SvmlightFormatError, iter_svmlight_chunks, load_svmlight

BLOCK_SIZES = [7, 64, 4096, svmlight.DEFAULT_BLOCK_BYTES]

SPECIAL_VALUES = [1e-320, 1e300, 0.1, 1 / 3, -2.5, 3.0, -7.0, 5e-324, 1.7976931348623157e308]


def assert_same(path, dtype=np.float64, zero_based="auto", block_bytes=None, n_features=None):
    expected_X, expected_y = load_svmlight_file(
        str(path), dtype=dtype, zero_based=zero_based, n_features=n_features
    )
    options = {} if block_bytes is None else {"block_bytes": block_bytes}
    X, y = load_svmlight(path, dtype=dtype, zero_based=zero_based, n_features=n_features, **options)
    assert X.shape == expected_X.shape
    assert X.dtype == expected_X.dtype
    np.testing.assert_array_equal(X.indptr, expected_X.indptr)
    np.testing.assert_array_equal(X.indices, expected_X.indices)
    # bitwise: equal bit patterns, so -0.0, NaN payloads and subnormals count too
    assert X.data.tobytes() == expected_X.data.tobytes()
    assert y.tobytes() == expected_y.tobytes()
    return X, y


def random_data(seed, n_rows=40, n_columns=30):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_columns)) * 10.0 ** rng.integers(-8, 8, (n_rows, n_columns))
    X[rng.random((n_rows, n_columns)) < 0.6] = 0.0
    X[rng.random((n_rows, n_columns)) < 0.1] = rng.integers(-50, 50)
    special = rng.random((n_rows, n_columns)) < 0.1
    X[special] = rng.choice(SPECIAL_VALUES, special.sum())
    y = rng.choice([-1.0, 1.0, 0.5, 1 / 3], n_rows)
    return X, y


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("one_based", [True, False])
def test_dumped_files_equal_scikit_learn(tmp_path, seed, one_based):
    X, y = random_data(seed)
    if not one_based:
        X[0, 0] = 1.0  # index 0 present, so 'auto' reads the file as zero-based
    path = tmp_path / "data.svm"
    dump_svmlight_file(X, y, str(path), zero_based=not one_based)
    for dtype in (np.float64, np.float32):
        for zero_based in ("auto", not one_based):
            assert_same(path, dtype, zero_based)
    if one_based:  # read a one-based file as zero-based: column 0 stays empty
        assert_same(path, np.float64, True)
    # the default dump is %.16g; %.17g (every double round-trips) in a second file
    path17 = tmp_path / "data17.svm"
    with open(path17, "w") as file:
        for row, label in zip(X, y, strict=True):
            pairs = " ".join(f"{j + one_based}:{v:.17g}" for j, v in enumerate(row) if v != 0)
            file.write(f"{label:.17g} {pairs}\n")
    assert_same(path17, np.float64)
    assert_same(path17, np.float32)


@pytest.mark.parametrize("block_bytes", BLOCK_SIZES)
def test_chunking_invariance(tmp_path, block_bytes):
    X, y = random_data(7, n_rows=60)
    path = tmp_path / "data.svm"
    dump_svmlight_file(X, y, str(path), query_id=np.arange(len(y)) // 5, comment="chunks")
    assert_same(path, np.float64, block_bytes=block_bytes)
    assert_same(path, np.float32, block_bytes=block_bytes)
    chunks = list(iter_svmlight_chunks(path, block_bytes=block_bytes))
    expected_X, expected_y = load_svmlight_file(str(path))
    np.testing.assert_array_equal(np.concatenate([chunk_y for _, chunk_y in chunks]), expected_y)
    np.testing.assert_array_equal(
        np.concatenate([data for (data, _, _), _ in chunks]), expected_X.data
    )
    np.testing.assert_array_equal(
        np.concatenate([indices for (_, indices, _), _ in chunks]), expected_X.indices
    )
    for (data, indices, indptr), chunk_y in chunks:
        assert indptr.dtype == np.int32 and indices.dtype == np.int32
        assert indptr[0] == 0 and indptr[-1] == len(data) == len(indices)
        assert len(indptr) == len(chunk_y) + 1


HAND_WRITTEN = (
    b"# a header comment: 1:2\n"
    b"1 qid:3 1:0.5 4:-2e-3 # trailing comment 5:7\n"
    b"\n"
    b"   \t \n"
    b"-1 qid:3 2:1e-320 3:inf#glued comment\n"
    b"# comment between rows\n"
    b"+2.5\t 1:-0 2:1_5 7:.5 8:5. 9:1E+2\n"
    b"3 qidfoo:1 10:NaN\n"
    b"0.1\n"
    b"1e300 11:123456789012345678901234567890 12:0.30000000000000004441\n"
    b"4 13:1"  # no final newline
)


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
@pytest.mark.parametrize("block_bytes", BLOCK_SIZES)
def test_hand_written_file(tmp_path, line_end, block_bytes):
    path = tmp_path / "hand.svm"
    path.write_bytes(HAND_WRITTEN.replace(b"\n", line_end))
    for dtype in (np.float64, np.float32):
        for zero_based in ("auto", True, False):
            assert_same(path, dtype, zero_based, block_bytes)
    chunks = list(iter_svmlight_chunks(path, block_bytes=block_bytes, zero_based=False))
    assert sum(len(chunk_y) for _, chunk_y in chunks) == 7


@pytest.mark.parametrize("suffix, compress", [(".gz", gzip.compress), (".bz2", bz2.compress)])
def test_compressed_files(tmp_path, suffix, compress):
    path = tmp_path / f"hand.svm{suffix}"
    path.write_bytes(compress(HAND_WRITTEN))
    assert_same(path, np.float64, block_bytes=64)
    assert_same(path, np.float32)


def test_empty_and_featureless_files(tmp_path):
    for text in [b"", b"\n# only a comment\n", b"1\n-1\n", b"1 0:0\n"]:
        path = tmp_path / "small.svm"
        path.write_bytes(text)
        assert_same(path)
        assert_same(path, n_features=5)


def test_n_features_too_small(tmp_path):
    path = tmp_path / "data.svm"
    path.write_bytes(b"1 1:1 9:2\n")
    assert_same(path, n_features=20)
    for reader in (load_svmlight_file, load_svmlight):
        with pytest.raises(ValueError, match="n_features was set to 3"):
            reader(str(path), n_features=3)


@st.composite
def number_tokens(draw):
    value = draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
    style = draw(st.sampled_from(["repr", ".6g", ".17g", ".25e", ".3f", "int"]))
    if style == "repr":
        return repr(value)
    if style == "int":
        return str(draw(st.integers(-(10**25), 10**25)))
    return format(value, style)


@given(st.lists(number_tokens(), min_size=1, max_size=40))
def test_numbers_round_like_python_float(tmp_path_factory, tokens):
    path = tmp_path_factory.mktemp("numbers") / "numbers.svm"
    lines = [f"{token} {k + 1}:{token}" for k, token in enumerate(tokens)]
    path.write_text("\n".join(lines) + "\n")
    X, y = load_svmlight(path, zero_based=False)
    expected = np.array([float(token) for token in tokens])
    assert y.tobytes() == expected.tobytes()
    assert X.data.tobytes() == expected.tobytes()
    X32, _ = load_svmlight(path, dtype=np.float32, zero_based=False)
    with np.errstate(over="ignore"):
        assert X32.data.tobytes() == expected.astype(np.float32).tobytes()


def test_many_slow_tokens_resume(tmp_path, monkeypatch):
    # a full slow-token buffer makes the kernel stop at a line start and resume
    monkeypatch.setattr(svmlight, "_SLOW_TOKEN_CAPACITY", 2)
    path = tmp_path / "slow.svm"
    path.write_bytes(b"inf 1:1e-400 2:nan 3:1e400 4:1_0\n1e-330 5:-inf\n2 6:1\n")
    assert_same(path)
    assert_same(path, block_bytes=7)


def test_index_beyond_int32(tmp_path):
    # scikit-learn stores indices in a C int and refuses this index with OverflowError
    path = tmp_path / "wide.svm"
    path.write_bytes(b"1 1:1\n2 3000000000:2.5\n")
    with pytest.raises(OverflowError):
        load_svmlight_file(str(path))
    X, _ = load_svmlight(path, block_bytes=7)
    assert X.shape == (2, 3_000_000_000) and X.indices.dtype == np.int64
    np.testing.assert_array_equal(X.indices, [0, 2_999_999_999])
    np.testing.assert_array_equal(X.data, [1.0, 2.5])
    (_, first, _), _ = next(iter_svmlight_chunks(path, block_bytes=7))
    assert first.dtype == np.int32


PREFIX = b"1 1:1 2:2\n\n# comment\n"  # the faulty line is line 4

MALFORMED = [
    ("multilabel", b"1,2 3:1\n", "multilabel", {}),
    ("no label", b"3:1 4:2\n", "no label", {}),
    ("unsorted", b"1 3:1 2:1\n", "sorted and unique", {}),
    ("duplicate", b"1 3:1 3:2\n", "sorted and unique", {}),
    ("zero index one-based", b"1 0:1 2:1\n", "index 0", {"zero_based": False}),
    ("negative index", b"1 -1:1\n", "negative", {}),
    ("pair without colon", b"1 3\n", "index:value", {}),
    ("empty value", b"1 3:\n", "malformed number", {}),
    ("empty index", b"1 :3\n", "not an integer", {}),
    ("text index", b"1 a:3\n", "not an integer", {}),
    ("qid after a feature", b"1 2:1 qid:3\n", "not an integer", {}),
    ("bad value", b"1 3:1.2.3\n", "malformed number", {}),
    ("hex value", b"1 3:0x10\n", "malformed number", {}),
    ("bad label", b"abc 3:1\n", "malformed number", {}),
    ("bad exponent", b"1e 3:1\n", "malformed number", {}),
    ("value with colon", b"1 3:1:2\n", "malformed number", {}),
]


@pytest.mark.parametrize("block_bytes", [7, svmlight.DEFAULT_BLOCK_BYTES])
@pytest.mark.parametrize("name, line, fragment, options", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_lines(tmp_path, name, line, fragment, options, block_bytes):
    path = tmp_path / "bad.svm"
    path.write_bytes(PREFIX + line + b"1 1:1\n")
    with pytest.raises(ValueError):
        load_svmlight_file(str(path), **options)
    with pytest.raises(SvmlightFormatError, match=f"bad.svm, line 4: .*{fragment}") as raised:
        load_svmlight(path, block_bytes=block_bytes, **options)
    assert (raised.value.path, raised.value.line) == (str(path), 4)
    assert raised.value.reason in str(raised.value)
    with pytest.raises(SvmlightFormatError, match=f"bad.svm, line 4: .*{fragment}"):
        list(iter_svmlight_chunks(path, block_bytes=block_bytes, **options))


def test_crlf_line_numbers(tmp_path):
    path = tmp_path / "bad.svm"
    path.write_bytes(b"1 1:1\r\n\r\n-1 2:1 1:1\r\n")
    with pytest.raises(ValueError, match=r"bad\.svm, line 3: .*sorted"):
        load_svmlight(path, block_bytes=7)


def test_bad_arguments(tmp_path):
    path = tmp_path / "data.svm"
    path.write_bytes(b"1 1:1\n")
    with pytest.raises(ValueError, match="zero_based"):
        load_svmlight(path, zero_based="yes")
    with pytest.raises(ValueError, match="block_bytes"):
        load_svmlight(path, block_bytes=0)


def test_underscore_index_refused_unlike_scikit_learn(tmp_path):
    # Deviation: scikit-learn reads indices with int(), which accepts "1_0" as 10; the compiled
    # parser accepts only an optional sign and decimal digits.
    path = tmp_path / "underscore.svm"
    path.write_bytes(b"1 1_0:1\n")
    assert load_svmlight_file(str(path))[0].shape == (1, 10)
    with pytest.raises(ValueError, match=r"underscore\.svm, line 1: .*not an integer"):
        load_svmlight(path)


def test_arrays_grow_past_the_estimates(tmp_path):
    # a line with far more pairs than a block's estimate, then many rows shorter than it
    long_line = "1 " + " ".join(f"{k}:1" for k in range(1, 3001)) + "\n"
    path = tmp_path / "dense.svm"
    path.write_text(long_line + "2 1:2\n" * 3000 + long_line)
    for block_bytes in (64, 4096, svmlight.DEFAULT_BLOCK_BYTES):
        assert_same(path, block_bytes=block_bytes)


def test_fast_pair_path_edge_tokens(tmp_path):
    # tokens near the fast path's limits: taken or left to the general path, same numbers
    values = [
        "0",
        "-0",
        "+.5",
        "1.",
        "007",
        "1e5",
        "1E-5",
        "1e+22",
        "1e23",
        "1e-22",
        "1e-23",
        "9007199254740993",
        "123456789012345678",
        "1234567890123456789",
        "0.1e00001",
        "1e12345",
        "2.5#c",
        "000000000000000000001",
    ]
    lines = [f"1 {k}:{v}\n" for k, v in enumerate(values, start=1)]
    path = tmp_path / "edges.svm"
    path.write_text("".join(lines) + "1 0001:3 00002:4\n")
    assert_same(path)
