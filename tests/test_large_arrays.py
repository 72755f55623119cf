"""Index arithmetic is 64-bit: one epoch over an X of more than 2**31 elements.

The reference is the same estimator on the few nonzero rows alone. The data X is memory-mapped
and almost all zeros; with fit_intercept=False and a constant rate a zero row leaves the weights
exactly as they are (the step is eta * residual * 0), so one epoch over all of X must give
bit for bit the model of one epoch over its nonzero rows in the same order. A 32-bit row offset
would wrap after 2**31 elements and read the wrong rows (or crash).

Two ways to build X:
- ``test_epoch_over_more_than_2_31_elements``: a 64 MB file mapped 136 times side by side in
  one contiguous range of addresses (Linux mmap with MAP_FIXED). X is 8.7 GB of float32 to the
  kernel but 64 MB of memory, so the test takes seconds.
- ``test_np_memmap_of_a_sparse_8_gib_file`` (only with FASTSGD_HUGE_TESTS=1): a plain np.memmap
  of an 8 GiB sparse file. Touching 8 GiB of fresh page cache took 40 s on the 2-core CI
  machine, too long for every run.
"""

import ctypes
import mmap
import os
import sys

import numpy as np
import pytest

from fastsgd import LogisticRegression

K = 64  # features; rows are 256 bytes of float32


def signal_rows(n_rows, seed=0):
    """Rows with data and their labels: a few at the start of a block, the rest zeros."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, K)).astype(np.float32)
    y = (X @ rng.standard_normal(K) > 0).astype(np.int64)
    return X, y


def one_epoch(X, y):
    model = LogisticRegression(eta0=0.05, fit_intercept=False, shuffle=False, max_iter=1, tol=None)
    return model.fit(X, y)


def map_repeatedly(path, block_bytes, copies):
    """A read-only float32 (rows, K) array over ``copies`` mappings of the file's first
    block_bytes, side by side; returns (array, unmap)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
        ctypes.c_long,
    ]  # fmt: skip
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    total = block_bytes * copies
    prot_none, map_fixed = 0, 0x10  # Linux values; the mmap module has neither
    # reserve the whole range first, so the file mappings land in one contiguous range
    base = libc.mmap(None, total, prot_none, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if base in (None, ctypes.c_void_p(-1).value):
        pytest.skip(f"cannot reserve {total} bytes of address space")
    fd = os.open(path, os.O_RDONLY)
    try:
        for i in range(copies):
            got = libc.mmap(
                base + i * block_bytes, block_bytes, mmap.PROT_READ,
                mmap.MAP_SHARED | map_fixed, fd, 0,
            )  # fmt: skip
            assert got == base + i * block_bytes, ctypes.get_errno()
    finally:
        os.close(fd)
    buffer = (ctypes.c_char * total).from_address(base)
    X = np.frombuffer(buffer, dtype=np.float32).reshape(-1, K)
    X.flags.writeable = False
    return X, lambda: libc.munmap(base, total)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses Linux mmap(MAP_FIXED)")
def test_epoch_over_more_than_2_31_elements(tmp_path):
    # 64 MB of rows (a whole number of pages). Not a power of two: a row number wrapped at
    # 2**31 elements (2**25 rows) lands at another place in a block, where there are zeros.
    block_rows = 250_000
    copies = 136  # 136 * 250 000 rows * 64 = 2**31 + 28 516 352 elements
    data, labels = signal_rows(40)
    at = np.r_[0:20, block_rows - 20 : block_rows]  # in each block, 40 rows with data
    path = tmp_path / "block.f32"
    block = np.memmap(path, dtype=np.float32, mode="w+", shape=(block_rows, K))
    block[at] = data  # the rest of the file is a hole: zeros, no disk
    block.flush()
    del block

    X, unmap = map_repeatedly(path, block_rows * 4 * K, copies)
    try:
        assert X.size > 2**31 and X.flags.c_contiguous
        y = np.zeros(X.shape[0], dtype=np.int64)
        for c in range(copies):
            y[c * block_rows + at] = labels
        # the rows past 2**31 elements do hold data
        last = (copies - 1) * block_rows
        assert last * K > 2**31
        np.testing.assert_array_equal(X[last + at], data)

        model = one_epoch(X, y)
        expected = one_epoch(np.tile(data, (copies, 1)), np.tile(labels, copies))
        np.testing.assert_array_equal(model.coef_, expected.coef_)
        assert model.t_ == X.shape[0] + 1
        np.testing.assert_array_equal(model.predict(X[last + at]), expected.predict(data))
    finally:
        del X
        unmap()


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("FASTSGD_HUGE_TESTS") != "1",
    reason="8 GiB of page cache, ~45 s: set FASTSGD_HUGE_TESTS=1",
)
def test_np_memmap_of_a_sparse_8_gib_file(tmp_path):
    n_rows = 2**31 // K + 64
    data, labels = signal_rows(400)
    rows = np.concatenate([np.arange(200), np.arange(n_rows - 200, n_rows)])
    path = tmp_path / "X.f32"
    writer = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_rows, K))
    writer[rows] = data
    writer.flush()
    del writer
    assert os.stat(path).st_blocks * 512 < 2**26  # sparse on disk
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n_rows, K))
    y = np.zeros(n_rows, dtype=np.int8)
    y[rows] = labels
    model = one_epoch(X, y)
    expected = one_epoch(data, labels.astype(np.int8))
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    assert model.t_ == n_rows + 1
