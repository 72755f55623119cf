"""Parsing speed of fastsgd's compiled svmlight reader against scikit-learn's, in one run.

Writes a libsvm file to /tmp (by default 500,000 rows x 50 nonzeros, values with 6 significant
digits, labels +-1; 20,000 distinct rows written 25 times over, which the parsers cannot tell
from fresh ones), warms the JIT on a small file, reads the big file once to warm the page cache,
then times ``fastsgd.svmlight.load_svmlight`` and ``sklearn.datasets.load_svmlight_file``
(best of ``--repeat``) and prints MB/s for each and the ratio. With ``--rss`` each reader also
runs in a fresh process, which reports its peak resident memory
(``VmHWM``; ``ru_maxrss`` would count the forking parent's pages).

    NUMBA_CACHE_DIR=/tmp/numba_parser python bench/svmlight_parse.py [--rows N] [--rss]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

DISTINCT_ROWS = 20_000


def write_file(path, n_rows, nnz_per_row, n_columns, seed=0):
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(min(n_rows, DISTINCT_ROWS)):
        columns = np.sort(rng.choice(n_columns, nnz_per_row, replace=False)) + 1
        values = rng.standard_normal(nnz_per_row)
        label = "+1" if rng.random() < 0.5 else "-1"
        pairs = " ".join(f"{c}:{v:.6g}" for c, v in zip(columns, values, strict=True))
        lines.append(f"{label} {pairs}\n")
    block = "".join(lines).encode()
    with open(path, "wb") as file:
        written = 0
        while written + len(lines) <= n_rows:
            file.write(block)
            written += len(lines)
        file.write("".join(lines[: n_rows - written]).encode())


def best_seconds(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mb(reader, path):
    code = (
        "import sys, numpy\n"
        "from fastsgd.svmlight import load_svmlight\n"
        "from sklearn.datasets import load_svmlight_file\n"
        "def hwm():\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "    return int(status.split()[0])\n"
        "before = hwm()\n"
        f"X, y = {reader}(sys.argv[1])\n"
        "after = hwm()\n"
        "print(before / 1024, after / 1024)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code, path], check=True, capture_output=True, text=True
    ).stdout
    before, after = map(float, output.split())
    return before, after


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--nnz", type=int, default=50)
    parser.add_argument("--columns", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rss", action="store_true", help="peak memory in fresh processes")
    parser.add_argument("--path", default=os.path.join(tempfile.gettempdir(), "fastsgd_bench.svm"))
    args = parser.parse_args()

    from sklearn.datasets import load_svmlight_file

    from fastsgd.svmlight import load_svmlight

    if not os.path.exists(args.path) or os.environ.get("REWRITE"):
        write_file(args.path, args.rows, args.nnz, args.columns)
    megabytes = os.path.getsize(args.path) / 1e6
    print(f"file: {args.path}, {megabytes:.1f} MB")

    small = os.path.join(tempfile.gettempdir(), "fastsgd_bench_small.svm")
    write_file(small, 100, 5, 50)
    start = time.perf_counter()
    load_svmlight(small)
    print(f"JIT warm-up (compile or cache load): {time.perf_counter() - start:.2f} s")
    with open(args.path, "rb") as file:  # page cache
        while file.read(1 << 24):
            pass

    X_fast, y_fast = load_svmlight(args.path)
    fast = best_seconds(lambda: load_svmlight(args.path), args.repeat)
    X_ref, y_ref = load_svmlight_file(args.path)
    reference = best_seconds(lambda: load_svmlight_file(args.path), max(1, args.repeat - 1))
    same = (
        np.array_equal(X_fast.data, X_ref.data)
        and np.array_equal(X_fast.indices, X_ref.indices)
        and np.array_equal(X_fast.indptr, X_ref.indptr)
        and np.array_equal(y_fast, y_ref)
    )
    print(f"fastsgd load_svmlight:      {fast:7.2f} s  {megabytes / fast:8.1f} MB/s")
    print(f"sklearn load_svmlight_file: {reference:7.2f} s  {megabytes / reference:8.1f} MB/s")
    print(f"ratio: {reference / fast:.1f}x   identical results: {same}")
    if args.rss:
        for name in ("load_svmlight", "load_svmlight_file"):
            before, after = peak_rss_mb(name, args.path)
            print(f"peak RSS {name:>20}: {after:7.0f} MB (after imports {before:.0f} MB)")


if __name__ == "__main__":
    main()
