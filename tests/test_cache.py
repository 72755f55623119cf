"""The training cache (``fastsgd.cache``) against a naive reference of what it must hold.

Reference: scikit-learn's ``load_svmlight_file`` reads the whole file; ``reference_buckets``
below computes, row by row in plain Python integers, which bucket each row of the file goes to
(splitmix64 of the seed and the row number; every ``holdout``-th row to the holdout buckets).
The cache must hold exactly the file's rows, each in its bucket, in file order within a bucket,
with the manifest's counts; and it must refuse, detect or clean up what the module promises.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

from fastsgd.cache import (
    CACHE_FORMAT,
    MANIFEST,
    CacheBuilder,
    CacheError,
    build_cache,
    cache_status,
    open_cache,
)
from fastsgd.svmlight import SvmlightFormatError

MASK64 = 2**64 - 1


def splitmix64(row, seed):
    z = ((row + 1) * 0x9E3779B97F4A7C15 + seed * 0xD1B54A32D192ED03) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def reference_buckets(n_rows, seed, n_train, holdout):
    """The bucket of each row: ``draw % n_train``, or for every ``holdout``-th row
    ``n_train + (draw >> 32) % n_holdout`` with ``n_holdout = ceil(n_train / holdout)``."""
    n_holdout = -(-n_train // holdout) if holdout else 0
    buckets = []
    for row in range(n_rows):
        draw = splitmix64(row, seed)
        if holdout and (row + 1) % holdout == 0:
            buckets.append(n_train + (draw >> 32) % n_holdout)
        else:
            buckets.append(draw % n_train)
    return np.array(buckets)


def write_numbered(path, n_rows, n_columns=6, seed=0, zero_based=False):
    """A file whose row r has feature 0 equal to r + 1 (so each row can be found again)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_columns)).astype(np.float32)
    X[rng.random(X.shape) < 0.4] = 0.0
    X[:, 0] = np.arange(1, n_rows + 1)
    y = rng.choice([-1.0, 1.0, 3.0], n_rows)
    dump_svmlight_file(X, y, str(path), zero_based=zero_based)
    return X, y


def cache_rows(cache):
    """Every bucket's rows: (bucket index, row number, the row's dense values, label)."""
    found = []
    for b, (bucket, X, y) in enumerate(cache.iter_buckets(cache.buckets)):
        assert bucket is cache.buckets[b] or bucket == cache.buckets[b]
        dense = X.toarray()
        for values, label in zip(dense, y, strict=True):
            found.append((b, int(values[0]) - 1, values, label))
    return found


@pytest.mark.parametrize("holdout", [0, 10, 3])
@pytest.mark.parametrize("n_buckets", [1, 5])
def test_cache_holds_every_row_in_its_reference_bucket(tmp_path, holdout, n_buckets):
    path = tmp_path / "data.svm"
    write_numbered(path, 237)
    expected_X, expected_y = load_svmlight_file(str(path), dtype=np.float32)
    cache = build_cache(
        path, tmp_path / "cache", n_buckets=n_buckets, holdout=holdout, seed=7, block_bytes=500
    )
    expected_bucket = reference_buckets(237, 7, n_buckets, holdout)
    found = cache_rows(cache)
    assert sorted(row for _, row, _, _ in found) == list(range(237))
    for b, row, values, label in found:
        assert b == expected_bucket[row]
        np.testing.assert_array_equal(values, expected_X[row].toarray()[0])
        assert label == expected_y[row]
    # within a bucket, the file's order
    for b in range(len(cache.buckets)):
        rows = [row for bucket, row, _, _ in found if bucket == b]
        assert rows == sorted(rows)
    manifest = cache.manifest
    n_held = 237 // holdout if holdout else 0
    assert (manifest["n_rows"], manifest["n_holdout_rows"]) == (237, n_held)
    assert manifest["n_train_rows"] == 237 - n_held
    assert manifest["n_nonzeros"] == expected_X.nnz
    assert [b.n_rows for b in cache.buckets] == np.bincount(
        expected_bucket, minlength=len(cache.buckets)
    ).tolist()
    assert cache.n_features == expected_X.shape[1]
    np.testing.assert_array_equal(cache.classes, np.unique(expected_y))
    held = (np.arange(237) + 1) % holdout == 0 if holdout else np.zeros(237, bool)
    for part, mask in ((False, ~held), (True, held)):
        counts = [int(np.sum(expected_y[mask] == c)) for c in cache.classes]
        assert cache.class_counts(holdout=part).tolist() == counts


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_rows=st.integers(1, 60),
    n_columns=st.integers(1, 9),
    dtype=st.sampled_from([np.float32, np.float64]),
    n_buckets=st.integers(1, 6),
    holdout=st.sampled_from([0, 2, 5]),
    block_bytes=st.sampled_from([16, 100, 2**20]),
    seed=st.integers(0, 2**40),
)
def test_any_file_round_trips_through_the_cache(
    tmp_path_factory, n_rows, n_columns, dtype, n_buckets, holdout, block_bytes, seed
):
    folder = tmp_path_factory.mktemp("round")
    path = folder / "data.svm"
    write_numbered(path, n_rows, n_columns, seed=seed % 1000)
    expected_X, expected_y = load_svmlight_file(str(path), dtype=dtype)
    cache = build_cache(
        path, folder / "cache", dtype=dtype, n_buckets=n_buckets, holdout=holdout, seed=seed,
        block_bytes=block_bytes,
    )  # fmt: skip
    expected_bucket = reference_buckets(n_rows, seed, n_buckets, holdout)
    found = cache_rows(cache)
    assert sorted(row for _, row, _, _ in found) == list(range(n_rows))
    for b, row, values, label in found:
        assert b == expected_bucket[row]
        assert values.dtype == dtype
        assert values.tobytes() == expected_X[row].toarray()[0].tobytes()
        assert label == expected_y[row]


def test_the_cache_does_not_depend_on_the_block_size(tmp_path):
    path = tmp_path / "data.svm"
    write_numbered(path, 500)
    small = build_cache(path, tmp_path / "small", n_buckets=4, block_bytes=64)
    large = build_cache(path, tmp_path / "large", n_buckets=4)
    for bucket in small.buckets:
        for part in ("data", "indices", "indptr", "labels"):
            name = f"{bucket.name}.{part}.npy"
            assert (small.path / name).read_bytes() == (large.path / name).read_bytes()


def test_bucket_files_are_plain_npy_files(tmp_path):
    path = tmp_path / "data.svm"
    write_numbered(path, 100)
    cache = build_cache(path, tmp_path / "cache", n_buckets=2, holdout=0)
    bucket = cache.buckets[0]
    data = np.load(cache.path / f"{bucket.name}.data.npy", mmap_mode="r")
    indptr = np.load(cache.path / f"{bucket.name}.indptr.npy")
    labels = np.load(cache.path / f"{bucket.name}.labels.npy")
    assert (data.dtype, indptr.dtype, labels.dtype) == (np.float32, np.int64, np.float64)
    assert indptr[0] == 0 and indptr[-1] == data.size and labels.size == bucket.n_rows


def test_zero_based_is_decided_from_the_first_block_and_recorded(tmp_path):
    path = tmp_path / "zero.svm"
    write_numbered(path, 50, zero_based=True)
    cache = build_cache(path, tmp_path / "cache")
    assert cache.manifest["zero_based"] is True
    assert cache.manifest["zero_based_decided"] == "from the first block"
    expected_X, _ = load_svmlight_file(str(path), dtype=np.float32, zero_based=True)
    assert cache.n_features == expected_X.shape[1]
    one = tmp_path / "one.svm"
    write_numbered(one, 50)
    assert build_cache(one, tmp_path / "c1").manifest["zero_based"] is False
    given_cache = build_cache(one, tmp_path / "c2", zero_based=True)
    assert given_cache.manifest["zero_based_decided"] == "given"
    assert given_cache.n_features == cache.n_features + 1  # index 6 read as column 6


def test_an_index_0_after_the_first_block_names_its_line(tmp_path):
    path = tmp_path / "late.svm"
    path.write_text("1 1:1 2:2\n" * 40 + "-1 0:5\n" + "1 3:1\n" * 5)
    with pytest.raises(
        SvmlightFormatError, match=r"late\.svm, line 41: feature index 0.*zero_based=True"
    ):
        build_cache(path, tmp_path / "cache", block_bytes=64)
    assert sorted(os.listdir(tmp_path)) == ["late.svm"]  # nothing left behind
    cache = build_cache(path, tmp_path / "cache", zero_based=True, block_bytes=64)
    assert cache.n_features == 4


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("1 1:1\n1 2:1 1:3\n", 2, "not sorted"),
        ("1 1:1\n1,2 1:1\n", 2, "multilabel"),
        ("1 1:1\n\n3:1\n", 3, "no label"),
        ("1 1:1\n1 1:x\n", 2, "malformed number"),
    ],
)
def test_malformed_files_are_refused_with_their_line_and_leave_nothing(
    tmp_path, text, line, reason
):
    path = tmp_path / "bad.svm"
    path.write_text("1 1:1\n" * 30 + text)
    with pytest.raises(SvmlightFormatError, match=rf"line {line + 30}: .*{reason}"):
        build_cache(path, tmp_path / "cache", block_bytes=32)
    assert sorted(os.listdir(tmp_path)) == ["bad.svm"]


def test_non_finite_values_and_out_of_range_indices_are_refused(tmp_path):
    path = tmp_path / "nan.svm"
    path.write_text("1 1:1\n1 1:nan\n")
    with pytest.raises(ValueError, match=r"row 2 .*NaN"):
        build_cache(path, tmp_path / "cache")
    path = tmp_path / "wide.svm"
    path.write_text("1 1:1\n1 9:1\n")
    with pytest.raises(ValueError, match="index 9 is beyond n_features=4"):
        build_cache(path, tmp_path / "cache", n_features=4)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"holdout": 1}, "holdout must be 0"),
        ({"holdout": -2}, "holdout must be 0"),
        ({"n_buckets": 0}, "n_buckets must be a positive integer"),
        ({"dtype": np.int32}, "dtype must be float32 or float64"),
        ({"zero_based": "yes"}, "zero_based must be"),
        ({"seed": -1}, "seed must be"),
        ({"n_features": 0}, "n_features must be"),
    ],
)
def test_bad_settings_are_refused(tmp_path, setting, match):
    path = tmp_path / "data.svm"
    path.write_text("1 1:1\n")
    with pytest.raises(ValueError, match=match):
        build_cache(path, tmp_path / "cache", **setting)


def test_a_folder_that_is_not_a_cache_is_never_overwritten(tmp_path):
    path = tmp_path / "data.svm"
    path.write_text("1 1:1\n")
    precious = tmp_path / "results"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(CacheError, match="not a fastsgd training cache"):
        build_cache(path, precious)
    assert (precious / "thesis.tex").read_text() == "years of work"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build_cache(path, empty).n_rows == 1  # an empty folder is fine


def test_a_rebuild_replaces_the_old_cache(tmp_path):
    path = tmp_path / "data.svm"
    write_numbered(path, 100)
    build_cache(path, tmp_path / "cache", n_buckets=8)
    cache = build_cache(path, tmp_path / "cache", n_buckets=2, holdout=0)
    files = sorted(os.listdir(cache.path))
    parts = ("data", "indices", "indptr", "labels")
    assert files == sorted(
        [MANIFEST, *(f"bucket-{b:04d}.{p}.npy" for b in range(2) for p in parts)]
    )


def test_an_interrupted_build_leaves_no_cache(tmp_path):
    path = tmp_path / "data.svm"
    write_numbered(path, 300)
    builder = CacheBuilder(path, tmp_path / "cache", block_bytes=256)
    chunks = builder.chunks()
    next(chunks)
    chunks.close()  # what a KeyboardInterrupt in the caller's loop does
    assert sorted(os.listdir(tmp_path)) == ["data.svm"]
    assert builder.cache is None


def test_open_cache_checks_the_manifest_and_the_files(tmp_path):
    path = tmp_path / "data.svm"
    write_numbered(path, 100)
    cache = build_cache(path, tmp_path / "cache", n_buckets=2)
    with pytest.raises(CacheError, match=r"no manifest.json"):
        open_cache(tmp_path)
    manifest_path = cache.path / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(dict(manifest, version=CACHE_FORMAT + 1)))
    with pytest.raises(CacheError, match=r"format version 2.*rebuild"):
        open_cache(cache.path)
    manifest_path.write_text("{not json")
    with pytest.raises(CacheError, match="cannot be read"):
        open_cache(cache.path)
    manifest_path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(CacheError, match="not a fastsgd training cache"):
        open_cache(cache.path)
    manifest_path.write_text(json.dumps(manifest))
    data = cache.path / "bucket-0001.data.npy"
    data.write_bytes(data.read_bytes()[:-4])  # a truncated file
    with pytest.raises(CacheError, match=r"bucket-0001.data.npy is .* bytes, expected"):
        open_cache(cache.path)
    data.unlink()
    with pytest.raises(CacheError, match=r"bucket-0001.data.npy is missing"):
        open_cache(cache.path)


def test_cache_status_detects_a_changed_source(tmp_path):
    path = tmp_path / "data.svm"
    write_numbered(path, 100)
    cache = build_cache(path, tmp_path / "cache")
    assert cache_status(cache, path) is None
    assert cache_status(cache, path, holdout=10, dtype="float32", seed=0, n_buckets=32) is None
    assert cache_status(cache, path, holdout=0) is None  # training on the held-out rows too
    assert "every 10th row, not every 3rd" in cache_status(cache, path, holdout=3)
    assert "dtype='float32', not 'float64'" in cache_status(cache, path, dtype=np.float64)
    assert "n_buckets=32, not 4" in cache_status(cache, path, n_buckets=4)
    other = tmp_path / "other.svm"
    other.write_bytes(path.read_bytes())
    assert "was built from" in cache_status(cache, other)
    # the same size and modification time, another byte: the head's hash tells
    stat = path.stat()
    content = bytearray(path.read_bytes())
    content[2] = ord("9") if content[2] != ord("9") else ord("8")
    path.write_bytes(bytes(content))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache_status(cache, path).endswith("changed since the cache was built (content)")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert "(modification time)" in cache_status(cache, path)
    with open(path, "a") as file:
        file.write("1 1:5\n")
    assert "(size " in cache_status(cache, path)


def test_compressed_sources(tmp_path):
    import gzip

    path = tmp_path / "data.svm"
    write_numbered(path, 120)
    packed = tmp_path / "data.svm.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    plain = build_cache(path, tmp_path / "plain", n_buckets=3)
    compressed = build_cache(packed, tmp_path / "packed", n_buckets=3)
    for a in plain.buckets:
        for part in ("data", "indices", "indptr", "labels"):
            name = f"{a.name}.{part}.npy"
            assert (plain.path / name).read_bytes() == (compressed.path / name).read_bytes()


def test_many_buckets_under_a_low_open_files_limit(tmp_path):
    # 300 buckets are 1,200 files: the build must not hold them open (ulimit -n is often 1024)
    path = tmp_path / "data.svm"
    write_numbered(path, 3000)
    script = f"""
import resource
from fastsgd.cache import build_cache
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
cache = build_cache({str(path)!r}, {str(tmp_path / "cache")!r}, n_buckets=300, block_bytes=4096)
print(cache.n_rows, len(cache.buckets))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3000", "330"]
    expected_X, _ = load_svmlight_file(str(path), dtype=np.float32)
    found = cache_rows(open_cache(tmp_path / "cache"))
    assert sorted(row for _, row, _, _ in found) == list(range(3000))
    assert all(np.array_equal(values, expected_X[row].toarray()[0]) for _, row, values, _ in found)


# -- CSV sources: the reference is numpy.loadtxt on the same file --------------------------------


def write_csv(path, n_rows=200, seed=0, label_first=False):
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((n_rows, 4)), 4)
    X[:, 0] = np.arange(1, n_rows + 1)  # row numbers, to find each row again
    y = rng.choice([0.0, 1.0, 2.0], n_rows)
    table = np.column_stack([y, X]) if label_first else np.column_stack([X, y])
    header = "y,a,b,c,d" if label_first else "a,b,c,d,label"
    text = header + "\n" + "\n".join(",".join(f"{v:g}" for v in row) for row in table) + "\n"
    if str(path).endswith(".gz"):
        import gzip

        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return X, y


@pytest.mark.parametrize("name", ["data.csv", "data.csv.gz"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_csv_file_round_trips_into_dense_buckets(tmp_path, name, dtype):
    X, y = write_csv(tmp_path / name)
    cache = build_cache(
        tmp_path / name, tmp_path / "cache", dtype=dtype, n_buckets=3, holdout=7, seed=2,
        block_bytes=512,
    )  # fmt: skip
    assert cache.dense and cache.n_features == 4 and cache.manifest["feature_names"] == list("abcd")
    assert cache.manifest["source_format"] == "csv" and cache.manifest["zero_based"] is None
    expected_bucket = reference_buckets(200, 2, 3, 7)
    seen = []
    for b, (_, rows, labels) in enumerate(cache.iter_buckets(cache.buckets)):
        assert isinstance(rows, np.ndarray) and rows.dtype == dtype and rows.shape[1] == 4
        for row, label in zip(rows, labels, strict=True):
            r = int(row[0]) - 1
            seen.append(r)
            assert b == expected_bucket[r]
            assert row.tobytes() == X[r].astype(dtype).tobytes() and label == y[r]
    assert sorted(seen) == list(range(200))
    np.testing.assert_array_equal(cache.classes, [0.0, 1.0, 2.0])
    data = np.load(cache.path / "bucket-0000.data.npy")
    assert data.ndim == 2 and data.shape == (cache.buckets[0].n_rows, 4)


def test_the_csv_label_column_by_name_or_index(tmp_path):
    X, y = write_csv(tmp_path / "data.csv", label_first=True)
    for label_column in ("y", 0, "0"):
        cache = build_cache(
            tmp_path / "data.csv", tmp_path / f"c{label_column}", label_column=label_column,
            holdout=0, n_buckets=1,
        )  # fmt: skip
        _, rows, labels = next(cache.iter_buckets(cache.buckets))
        np.testing.assert_array_equal(rows, X.astype(np.float32))
        np.testing.assert_array_equal(labels, y)
    with pytest.raises(ValueError, match=r"no label column 'label'; the header names"):
        build_cache(tmp_path / "data.csv", tmp_path / "bad")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,label\n1,2,0\n3,x,1\n", r"line 3: column 2 holds 'x', not a number"),
        ("a,b,label\n1,2,0\n3,4,1\n5,,1\n", r"line 4 holds an empty cell, NaN"),
        ("a,b,label\n1,2,0\n3,4,\n", r"line 3 has an empty, NaN or infinite label"),
        ("a,b,label\n1,2,0\n3,4,cat\n", r"line 3: column 3 holds 'cat', not a number"),
    ],
)
def test_malformed_csv_files_name_their_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        build_cache(path, tmp_path / "cache")
    assert sorted(os.listdir(tmp_path)) == ["bad.csv"]


def test_regression_targets_are_not_counted_as_classes(tmp_path):
    path = tmp_path / "targets.svm"
    rng = np.random.default_rng(0)
    dump_svmlight_file(rng.standard_normal((3000, 3)), rng.standard_normal(3000), str(path))
    builder = CacheBuilder(path, tmp_path / "cache", block_bytes=4096)
    for _ in builder.chunks():
        pass
    assert builder.too_many_labels
    assert builder.cache.classes is None and builder.cache.class_counts() is None


def test_a_compressed_source_gets_buckets_for_its_text(tmp_path):
    import gzip

    from fastsgd.cache import _text_bytes

    path = tmp_path / "data.svm"
    write_numbered(path, 20000)
    packed = tmp_path / "data.svm.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert _text_bytes(packed) == pytest.approx(path.stat().st_size, rel=0.05)
    assert _text_bytes(path) == path.stat().st_size


def test_a_link_to_a_cache_and_more_refusals(tmp_path):
    path = tmp_path / "data.svm"
    write_numbered(path, 50)
    build_cache(path, tmp_path / "real", n_buckets=2)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    rebuilt = build_cache(path, tmp_path / "link", n_buckets=3)
    assert rebuilt.path == (tmp_path / "real").resolve() and len(rebuilt.train_buckets) == 3
    assert (tmp_path / "link").is_symlink()
    with pytest.raises(ValueError, match="holdout must be 0"):
        build_cache(path, tmp_path / "c", holdout=2.5)
    with pytest.raises(ValueError, match="block_bytes must be a positive integer"):
        build_cache(path, tmp_path / "c", block_bytes=-5)
    csv_path = tmp_path / "twice.csv"
    csv_path.write_text("a,a,label\n1,2,0\n")
    with pytest.raises(ValueError, match=r"names columns \['a'\] more than once"):
        build_cache(csv_path, tmp_path / "c")


def test_a_csv_label_column_matches_by_name_or_index(tmp_path):
    write_csv(tmp_path / "data.csv", label_first=True)
    cache = build_cache(tmp_path / "data.csv", tmp_path / "cache", label_column="y")
    source = tmp_path / "data.csv"
    for same in ("y", 0, "0", -5):
        assert cache_status(cache, source, label_column=same) is None
    assert "label_column='y', not 1" in cache_status(cache, source, label_column=1)
