"""``fastsgd compile`` / ``fastsgd.compile()``: after it, a first fit compiles nothing.

The reference is Numba's own record of compiling: its ``numba:compile`` events, counted in a
fresh process that shares the cache ``compile`` filled. A kernel loaded from the on-disk cache
raises none; a kernel compiled for the fit raises one or more. The negative control (a dtype
that was not compiled) shows that the probe does see compiling.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastsgd._precompile import CONFIGURATIONS, _jobs

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys, warnings
import numpy as np
from numba.core import event
import fastsgd
dtype, n_classes = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)
X = rng.standard_normal((200, 7)).astype(dtype)
y = np.arange(200) % n_classes
with event.install_recorder("numba:compile") as record, warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fastsgd.LogisticRegression(max_iter=3, tol=None, random_state=0).fit(X, y).predict(X)
print(json.dumps(sum(1 for _, e in record.buffer if e.is_start)))
"""


def run(arguments, cache):
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": path}
    out = subprocess.run([sys.executable, *arguments], capture_output=True, text=True, env=env,
                         timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow
def test_after_compile_a_first_fit_compiles_nothing(tmp_path):
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    printed = run(["-m", "fastsgd", "compile", "logistic", "--dtypes", "float64", "--dense-only",
                   "--no-weights", "--quiet"], cache)  # fmt: skip
    assert printed.startswith("compiled 2 variants in ") and str(cache) in printed
    for n_classes in (2, 3):  # the single-model loop and the one-vs-rest block loop
        assert json.loads(run(["-c", PROBE, "float64", str(n_classes)], cache)) == 0
    # the control: float32 was not compiled, so its first fit compiles
    assert json.loads(run(["-c", PROBE, "float32", "2"], cache)) > 0


def test_every_configuration_builds_its_input_kinds():
    jobs = _jobs(CONFIGURATIONS, ("float64", "float32"), sparse=True, weights=True)
    kinds = {(job[0], job[2], job[3]) for job in jobs}
    assert ("logistic", "csr", "multiclass") in kinds and ("net", "dense", "multilabel") in kinds
    assert not any(job[2] == "csr" for job in jobs if job[0].startswith(("net", "sweep")))
    assert {job[0] for job in jobs} == set(CONFIGURATIONS)
    # the svmlight reader: one file read per dtype
    assert [job[:3] for job in jobs if job[0] == "svmlight"] == [
        ("svmlight", "float64", "file"),
        ("svmlight", "float32", "file"),
    ]


def test_unknown_configurations_and_dtypes_are_refused():
    import fastsgd

    with pytest.raises(ValueError, match="unknown configuration"):
        fastsgd.compile(["logistc"], progress=False)
    with pytest.raises(ValueError, match="dtypes must be among"):
        fastsgd.compile(["logistic"], dtypes=["float16"], progress=False)


def test_a_single_name_is_one_configuration(monkeypatch):
    # a str is one name, not an iterable of one-letter names; the jobs are recorded, not run
    import fastsgd
    from fastsgd import _precompile

    ran = []
    monkeypatch.setattr(_precompile, "_run_job", ran.append)
    settings = dict(dtypes=["float64"], sparse=False, weights=False, progress=False)
    single = fastsgd.compile("logistic", **settings)
    jobs = list(ran)
    ran.clear()
    listed = fastsgd.compile(["logistic"], **settings)
    assert jobs == ran == _jobs(["logistic"], ("float64",), sparse=False, weights=False)
    assert single["jobs"] == listed["jobs"] == 2
    ran.clear()
    fastsgd.compile("logistic", **{**settings, "dtypes": "float64"})  # one dtype, not 7 letters
    assert ran == jobs


def test_the_development_cache_follows_the_sources(tmp_path, monkeypatch):
    from fastsgd._devcache import KEEP, source_hash, use_source_keyed_cache

    package = tmp_path / "fastsgd"
    (package / "kernels").mkdir(parents=True)
    (package / "kernels" / "_math.py").write_text("x = 1\n")
    first = source_hash(package)
    (package / "kernels" / "_math.py").write_text("x = 2\n")  # a helper changed
    assert source_hash(package) != first
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    folders = []
    for version in range(KEEP + 3):
        (package / "kernels" / "_math.py").write_text(f"x = {version}\n")
        monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
        folders.append(use_source_keyed_cache(tmp_path))
        assert os.environ["NUMBA_CACHE_DIR"] == folders[-1]
    assert len(set(folders)) == KEEP + 3
    kept = sorted(p.name for p in (tmp_path / ".numba_cache").iterdir())
    assert len(kept) == KEEP + 1 and Path(folders[-1]).name in kept
    # a cache the user chose wins
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert use_source_keyed_cache(tmp_path) == str(tmp_path / "mine")


def test_hogwild_configurations_are_dense_and_named_only():
    from fastsgd._precompile import DEFAULT, HOGWILD

    jobs = _jobs(HOGWILD, ("float64",), sparse=True, weights=True)
    assert {job[0] for job in jobs} == {"hogwild", "net-hogwild"}
    assert all(job[2] == "dense" and not job[4] for job in jobs)
    assert not set(HOGWILD) & set(DEFAULT)
