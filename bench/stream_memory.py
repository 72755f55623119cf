"""Bounded memory: the peak resident memory of ``fastsgd.stream.fit`` as the file grows.

For each size in ``--sizes`` (1, 4 and 10 GB by default) writes an svmlight file under ``--dir``
(/tmp/fastsgd_stream_memory) by repeating a block of 20,000 distinct rows (40 nonzeros out of
2**18 features, labels -1/+1 from a logistic model: ``bench/stream_vs_vw.py``'s rows; this
bench is about memory, not accuracy), then, in a fresh process per file, runs::

    fastsgd.stream.fit(LogisticRegression(max_iter=3, tol=None), file, cache=DIR,
                       n_features=2**18, classes=[-1, 1], first_pass='train')

and reports the wall time, the cache's size and the process's peak resident memory
(``VmHWM`` from /proc/self/status at the end; also after the imports and after a small warm-up
fit, which loads Numba's compiled code) and its peak virtual size (``VmPeak``). Each cache is
removed after its run.

A hard limit: the largest file is fitted again under ``prlimit --as=BYTES`` (the address
space, as ``ulimit -v``) at each of ``--limits`` (fractions of that file's size: 1/4 and 0.15
by default), after a check that a small file fits under the same limit (Numba and LLVM
reserve address space, so too low a limit fails whatever the file). A cgroup memory limit
(``systemd-run --scope -p MemoryMax=``) needs systemd as init, which containers usually lack;
the bench says whether it is there and does not use it.

The files are removed at the end unless ``--keep`` (and reused when they are there).

    NUMBA_CACHE_DIR=/tmp/nc_bench python bench/stream_memory.py [--sizes 1,4,10] [--keep]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from stream_vs_vw import N_FEATURES, NNZ, draw_rows, format_rows, true_weights

DISTINCT_ROWS = 20_000


def write_file(path, target_bytes):
    """Repeat one block of distinct rows until the file holds ``target_bytes`` (reused when a
    file of that size is there)."""
    indices, millis, labels = draw_rows(
        np.random.default_rng(0), DISTINCT_ROWS, NNZ, true_weights(N_FEATURES)
    )
    block = format_rows(indices, millis, labels, "1", "-1")
    n_blocks = -(-target_bytes // len(block))
    if os.path.exists(path) and os.path.getsize(path) == n_blocks * len(block):
        return n_blocks * DISTINCT_ROWS
    with open(path, "wb") as file:
        for _ in range(n_blocks):
            file.write(block)
    return n_blocks * DISTINCT_ROWS


def status():
    text = open("/proc/self/status").read()
    return {key: int(text.split(key + ":")[1].split()[0]) / 1024 for key in ("VmHWM", "VmPeak")}


def child(spec):
    import fastsgd.stream
    from fastsgd import LogisticRegression

    after_imports = status()["VmHWM"]
    small = tempfile.mkdtemp(prefix="fastsgd-warm-")
    indices, millis, labels = draw_rows(np.random.default_rng(1), 2000, NNZ, true_weights(100))
    with open(os.path.join(small, "warm.svm"), "wb") as file:
        file.write(format_rows(indices, millis, labels, "1", "-1"))
    fastsgd.stream.fit(
        LogisticRegression(max_iter=2, tol=None), os.path.join(small, "warm.svm"),
        cache=os.path.join(small, "cache"), n_features=N_FEATURES, classes=[-1, 1],
        first_pass="train",
    )  # fmt: skip
    shutil.rmtree(small)
    after_warm_up = status()["VmHWM"]

    cache = spec["cache"]
    shutil.rmtree(cache, ignore_errors=True)
    start = time.perf_counter()
    model = fastsgd.stream.fit(
        LogisticRegression(max_iter=spec["passes"], tol=None), spec["source"], cache=cache,
        n_features=N_FEATURES, classes=[-1, 1], first_pass="train",
    )  # fmt: skip
    seconds = time.perf_counter() - start
    result = dict(status(), seconds=seconds, after_imports=after_imports)
    result["after_warm_up"] = after_warm_up
    result["n_iter"] = int(model.n_iter_)
    result["cache_bytes"] = sum(
        os.path.getsize(os.path.join(cache, name)) for name in os.listdir(cache)
    )
    result["n_buckets"] = len(os.listdir(cache)) // 4
    shutil.rmtree(cache)
    return result


def run_child(spec, limit=None):
    """The child's result, or (with a limit) None and the end of its error output."""
    command = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)]
    if limit is not None:
        command = ["prlimit", f"--as={limit}", *command]
    process = subprocess.run(command, capture_output=True, text=True)
    shutil.rmtree(spec["cache"], ignore_errors=True)
    if process.returncode != 0:
        if limit is None:
            raise RuntimeError(process.stderr)
        lines = process.stderr.strip().splitlines() or [f"exit status {process.returncode}"]
        return None, lines[-1]
    return json.loads(process.stdout.strip().splitlines()[-1]), None


def systemd_run_available():
    try:
        process = subprocess.run(
            ["systemd-run", "--scope", "-p", "MemoryMax=1G", "--quiet", "true"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, str(error)
    return process.returncode == 0, process.stderr.strip().splitlines()[-1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,10", help="file sizes in GB (1e9 B), commas")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--limits", default="0.25,0.15", help="address-space limits, x file size")
    parser.add_argument(
        "--dir", default=os.path.join(tempfile.gettempdir(), "fastsgd_stream_memory")
    )
    parser.add_argument("--keep", action="store_true", help="keep the files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    os.makedirs(args.dir, exist_ok=True)
    cache = os.path.join(args.dir, "cache")
    sizes = [float(size) for size in args.sizes.split(",")]
    files = []
    start = time.perf_counter()
    header = (
        f"{'file GB':>8} {'rows':>12} {'buckets':>8} {'cache GB':>9} {'wall s':>7} {'MB/s':>6} "
        f"{'VmHWM MB':>9} {'after warm-up':>14} {'after imports':>14} {'VmPeak MB':>10}"
    )
    print(f"fastsgd.stream.fit(LogisticRegression(max_iter={args.passes}, tol=None), ...)")
    print(header)
    print("-" * len(header))
    for size in sizes:
        path = os.path.join(args.dir, f"repeated-{size:g}GB.svm")
        written = time.perf_counter()
        n_rows = write_file(path, int(size * 1e9))
        written = time.perf_counter() - written
        files.append(path)
        file_bytes = os.path.getsize(path)
        result, _ = run_child({"source": path, "cache": cache, "passes": args.passes})
        print(
            f"{file_bytes / 1e9:8.2f} {n_rows:12,} {result['n_buckets']:8} "
            f"{result['cache_bytes'] / 1e9:9.2f} {result['seconds']:7.1f} "
            f"{file_bytes / 1e6 / result['seconds']:6.0f} {result['VmHWM']:9.0f} "
            f"{result['after_warm_up']:14.0f} {result['after_imports']:14.0f} "
            f"{result['VmPeak']:10.0f}   (file written or checked in {written:.0f} s)",
            flush=True,
        )

    print()
    available, why = systemd_run_available()
    print(f"systemd-run --scope -p MemoryMax (a cgroup limit): {'available' if available else why}")
    largest = files[-1]
    small = os.path.join(args.dir, "small.svm")
    write_file(small, 10**6)
    for fraction in (float(value) for value in args.limits.split(",") if value):
        limit = int(fraction * os.path.getsize(largest))
        spec = {"source": small, "cache": cache, "passes": args.passes}
        result, error = run_child(spec, limit)
        prefix = f"prlimit --as={limit} ({limit / 2**30:.2f} GiB, {fraction:g}x the file):"
        if result is None:
            print(f"{prefix} a 1 MB file fails already ({error}); rely on VmHWM above")
            continue
        spec["source"] = largest
        result, error = run_child(spec, limit)
        if result is None:
            print(f"{prefix} the {os.path.getsize(largest) / 1e9:.1f} GB file FAILED: {error}")
        else:
            print(
                f"{prefix} the {os.path.getsize(largest) / 1e9:.1f} GB file fits: "
                f"{result['seconds']:.1f} s, VmHWM {result['VmHWM']:.0f} MB, VmPeak "
                f"{result['VmPeak']:.0f} MB, {result['n_iter']} passes"
            )
    os.remove(small)
    if not args.keep:
        for path in files:
            os.remove(path)
    print(f"\nthe bench took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
