"""A smoke run of bench/ at a tiny N with timing disabled: the benchmarks keep working.

The real measurements are `pytest bench/ --benchmark-only`; speed is never asserted in tests/.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_suite_runs(tmp_path):
    """A smoke run of bench/ at a tiny N, timing disabled: the benchmarks keep working."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-disable",
            str(ROOT / "bench"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **os.environ,
            "FASTSGD_BENCH_N": "500",
            # the same fastsgd as this test session, installed or not
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_cold_start_script_runs_one_path():
    """bench/cold_start.py: one case in a fresh process with an empty Numba cache."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cold_start.py"), "--cases", "logreg-dense"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        },
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    row = next(line for line in result.stdout.splitlines() if line.startswith("logreg-dense"))
    seconds = [float(cell) for cell in row.split()[1:5]]  # import, first fit, second fit, process
    assert len(seconds) == 4 and all(value > 0 for value in seconds)
