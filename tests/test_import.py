"""What each import pulls in: the architecture's rules, checked in a fresh process.

The reference is ``sys.modules`` after the import: ``fastsgd.kernels`` never imports
scikit-learn, ``fastsgd.reference`` imports only NumPy, and neither ``import fastsgd`` nor the
estimators import numba (the first fit does), so that importing them costs about what importing
``sklearn.base`` does (times: bench/cold_start.py, README).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
{statement}
loaded = {{name.split(".")[0] for name in sys.modules}}
print(json.dumps(sorted(loaded & {{"numba", "sklearn", "scipy", "tqdm", "llvmlite"}})))
"""


def loaded_after(statement):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(statement=statement)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout))


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("import fastsgd", set()),
        ("import fastsgd.reference", set()),
        ("import fastsgd.kernels", {"numba", "llvmlite", "scipy"}),  # numba imports scipy
        ("from fastsgd import LogisticRegression, TwoLayerNet", {"sklearn", "scipy"}),
        ("import fastsgd.parallel", set()),
    ],
)
def test_an_import_loads_only_what_it_needs(statement, expected):
    assert loaded_after(statement) == expected


def test_the_estimators_import_numba_when_they_train():
    statement = (
        "import numpy as np\n"
        "from fastsgd import LogisticRegression\n"
        "LogisticRegression(max_iter=1, tol=None).fit(np.eye(4), [0, 1, 0, 1])"
    )
    assert {"numba", "sklearn", "tqdm"} <= loaded_after(statement)


THREADS = """
import threading
import numpy as np
from fastsgd import LogisticRegression, SGDRegressor, TwoLayerNet
X = np.random.default_rng(0).standard_normal((60, 4))
y = (X[:, 0] > 0).astype(int)
start = threading.Barrier(3)
errors = []

def first_fit(model, target):
    start.wait()
    try:
        model.fit(X, target)
    except BaseException as error:
        errors.append(repr(error))

jobs = [(LogisticRegression(max_iter=2, tol=None), y), (TwoLayerNet(max_iter=2, tol=None), y),
        (SGDRegressor(max_iter=2, tol=None, parallel="hogwild"), X[:, 0])]
threads = [threading.Thread(target=first_fit, args=job) for job in jobs]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors)
"""


@pytest.mark.parametrize("attempt", range(2))
def test_first_fits_on_several_threads_import_the_kernels_safely(attempt):
    # three threads reach the lazily imported kernels at the same moment (a deadlock between
    # the kernel modules' import locks, before the loader took one lock); the regressor's
    # Hogwild is refused (an error, but not an import error)
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", THREADS], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    errors = out.stdout.strip()
    assert "Deadlock" not in errors and "partially initialized" not in errors, errors
    assert errors.count("ValueError") == errors.count("trains only dense input") == 1, errors
