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


def test_the_streaming_benches_run_on_tiny_files(tmp_path):
    """bench/stream_vs_vw.py (its VW rows skipped without vowpalwabbit), stream_shuffle.py and
    stream_memory.py end to end, on files of a few megabytes."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    runs = [
        ["stream_vs_vw.py", "--gb", "0.003", "--repeat", "1"],
        ["stream_shuffle.py", "--rows", "20000", "--test-rows", "5000", "--seeds", "1"],
        ["stream_memory.py", "--sizes", "0.002,0.004", "--limits", ""],
    ]
    for script, *options in runs:
        folder = str(tmp_path / script)
        result = subprocess.run(
            [sys.executable, str(ROOT / "bench" / script), *options, "--dir", folder],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, script + result.stdout[-3000:] + result.stderr[-3000:]
        assert "fastsgd" in result.stdout or "stream" in result.stdout, result.stdout
