"""Shared data and the ratio report for the pytest-benchmark suites.

Every figure in the closing report is taken in the same run, so ratios are comparable even on
a noisy shared machine. Rows of one group share one dataset; the NumPy reference runs on a
subsample and is compared per sample.
"""

import os
from pathlib import Path

from fastsgd._devcache import use_source_keyed_cache

# before numba is imported: a cache that follows the sources (fastsgd/_devcache.py)
use_source_keyed_cache(Path(__file__).resolve().parents[1])

import numpy as np  # noqa: E402
import pytest  # noqa: E402

N_SAMPLES = int(os.environ.get("FASTSGD_BENCH_N", 1_000_000))
ROUNDS = int(os.environ.get("FASTSGD_BENCH_ROUNDS", 3))

_results: dict[str, dict[str, float]] = {}
_notes: dict[str, list[str]] = {}
_flops: dict[str, dict[str, float]] = {}
_data_cache: dict[tuple, tuple] = {}


def synthetic_logistic(n, k, dtype, seed=0):
    """A well-posed binary problem: labels from a noisy linear model. One dataset is kept alive."""
    key = (n, k, np.dtype(dtype).name, seed)
    if key not in _data_cache:
        _data_cache.clear()
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, k), dtype=dtype)
        w = rng.standard_normal(k).astype(dtype) / np.sqrt(k)
        y = ((X @ w) + rng.standard_normal(n, dtype=dtype) > 0).astype(np.int64)
        _data_cache[key] = (X, y)
    return _data_cache[key]


@pytest.fixture
def record():
    """record(benchmark, group, name, samples, flops_per_sample=None): keep the median seconds
    per sample (and the arithmetic rate, when the flops per sample are given)."""

    def _record(benchmark, group, name, samples, flops_per_sample=None):
        stats = getattr(benchmark, "stats", None)
        if stats is None:  # --benchmark-disable: a smoke run, nothing measured
            return
        _results.setdefault(group, {})[name] = stats.stats.median / samples
        if flops_per_sample:
            _flops.setdefault(group, {})[name] = flops_per_sample

    return _record


@pytest.fixture
def note():
    """note(group, text): a line for the report (a measured quality figure, not a time)."""

    def _note(group, text):
        _notes.setdefault(group, []).append(text)

    return _note


BASELINE = "sequential"  # in a group with this row, every other row gets its speedup over it

RATIOS = [
    # (label, numerator row, denominator row): how many times faster the first is
    ("fit vs SGDClassifier fit (x faster)", "sklearn-fit", "fastsgd-fit"),
    ("shuffled fit vs SGDClassifier (x faster)", "sklearn-fit-shuffled", "fastsgd-fit-shuffled"),
    ("kernel vs NumPy reference (x faster)", "numpy-reference", "fastsgd-kernel"),
    ("kernel / streaming floor (x slower)", "fastsgd-kernel", "streaming-floor"),
    ("fit / streaming floor (x slower)", "fastsgd-fit", "streaming-floor"),
    ("per-sample vs NumPy reference (x faster)", "numpy-reference", "fastsgd-per-sample"),
    ("per-sample vs MLPClassifier (x faster)", "mlp-per-sample", "fastsgd-per-sample"),
    ("per-sample vs PyTorch loop (x faster)", "torch-per-sample", "fastsgd-per-sample"),
    ("batch vs MLPClassifier (x faster)", "mlp-batch", "fastsgd-batch"),
    ("batch vs PyTorch loop (x faster)", "torch-batch", "fastsgd-batch"),
    ("sweep vs 8 separate fits (x faster)", "8-separate-fits", "sweep-one-pass"),
    ("bare numba loop / fastsgd fit (x faster)", "fastsgd-fit", "numba-bare-loop"),
]
ROOF = "gemm-1-thread"


def pytest_terminal_summary(terminalreporter):
    if not _results and not _notes:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fastsgd ratios (median times, all taken in this run)")
    for group in sorted(set(_results) | set(_notes), key=list({**_results, **_notes}).index):
        rows = _results.get(group, {})
        write(f"{group}")
        flops = _flops.get(group, {})
        roof = flops[ROOF] / rows[ROOF] if ROOF in flops else None
        for name, seconds in sorted(rows.items()):
            line = f"    {name:24s} {seconds * 1e9:12.1f} ns/sample"
            if name == ROOF:
                line = f"    {name:24s} {'':12s}            "
            if name in flops:
                rate = flops[name] / seconds
                line += f" {rate / 1e9:8.2f} GFLOP/s"
                if roof and name != ROOF:
                    line += f" {100 * rate / roof:6.1f}% of the 1-thread GEMM roof"
            write(line)
        for label, top, bottom in RATIOS:
            if top in rows and bottom in rows:
                write(f"    {label:42s} {rows[top] / rows[bottom]:8.2f}")
        if BASELINE in rows:
            for name, seconds in sorted(rows.items()):
                if name != BASELINE:
                    write(f"    {name + ' vs ' + BASELINE + ' (x faster)':42s} "
                          f"{rows[BASELINE] / seconds:8.2f}")  # fmt: skip
        for text in _notes.get(group, []):
            write(f"    {text}")
