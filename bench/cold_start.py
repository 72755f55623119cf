"""Cold start: import and first-fit times of fastsgd estimators with an empty Numba cache.

Every case runs in a fresh Python process whose NUMBA_CACHE_DIR is a new, empty temporary
folder (removed afterwards), so each first fit compiles its kernels from scratch. The child
runs with that temporary folder as its working directory, so the fastsgd it imports is the one
on PYTHONPATH if set, else the installed one; the header prints which file it was.

Columns (seconds):
- import: ``import fastsgd`` and the case's estimator class in the child (NumPy, SciPy,
  scikit-learn and Numba included, as fastsgd imports them);
- first fit: the first ``fit`` of the case's estimator (compile-dominated);
- second fit: a second identical fit (a new estimator, same parameters and data) in the same
  process, kernels already compiled (warm);
- process: the child's whole wall time as seen by the parent (interpreter start-up, import,
  data generation, both fits, exit).

Every fit uses max_iter=5, tol=None, random_state=0 (``--defaults``: the estimators' own max_iter
and tol, random_state=0). Data: dense 1000 x 20 float64 with binary
labels (a regression target for SGDRegressor), or an a9a-like CSR matrix 1000 x 100 of ones at
~10% density. A case whose estimator class is missing from the imported fastsgd prints
``n/a (not in this version)``; one that fails prints ``error: ...`` (the script then exits 1).

With ``--repeat R`` every case runs R times, each with its own empty cache, and every cell is
``median (min)`` over the R runs.

    python bench/cold_start.py [--cases NAME,...] [--repeat R] [--json FILE] [--list]
    fastsgd compile --n-jobs 2 && python bench/cold_start.py --cache "$NUMBA_CACHE_DIR"
    PYTHONPATH=/path/to/other/checkout python bench/cold_start.py   # another fastsgd
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# name: (estimator class in fastsgd, constructor parameters, data)
# data: "dense", "dense-float32", "dense-weighted" (with sample_weight), "csr", "regression"
CASES = {
    "logreg-dense": ("LogisticRegression", {}, "dense"),
    "sgdclf-dense": ("SGDClassifier", {}, "dense"),
    "sgdreg-dense": ("SGDRegressor", {}, "regression"),
    "sgdclf-enet-avg-csr": ("SGDClassifier", {"penalty": "elasticnet", "average": True}, "csr"),
    "logreg-l2-optimal-dense": (
        "LogisticRegression",
        {"penalty": "l2", "learning_rate": "optimal"},
        "dense",
    ),
    "logreg-enet-avg-optimal-csr": (
        "LogisticRegression",
        {"penalty": "elasticnet", "average": True, "learning_rate": "optimal"},
        "csr",
    ),
    "logreg-sample-weight": ("LogisticRegression", {}, "dense-weighted"),
    "logreg-float32": ("LogisticRegression", {}, "dense-float32"),
    "logreg-average": (
        "LogisticRegression",
        {"parallel": "average", "n_shards": 2, "n_jobs": 2},
        "dense",
    ),
    "sgdclf-average-csr": (
        "SGDClassifier",
        {"parallel": "average", "n_shards": 2, "n_jobs": 2},
        "csr",
    ),
    "net-dense": ("TwoLayerNet", {}, "dense"),
    "net-momentum-alpha": ("TwoLayerNet", {"momentum": 0.9, "alpha": 1e-4}, "dense"),
    "net-batch": ("TwoLayerNet", {"batch_size": 32}, "dense"),
    "netreg-dense": ("TwoLayerNetRegressor", {}, "regression"),
}
FIT_SETTINGS = {"max_iter": 5, "tol": None, "random_state": 0}
# --defaults: the estimators' own max_iter and tol (with tol set, penalized SGD keeps the running
# norms of its stopping rule, which is another compiled loop)
DEFAULT_FIT_SETTINGS = {"random_state": 0}
COLUMNS = ["import", "first_fit", "second_fit", "process"]
MARKER = "COLD_START_RESULT "  # the child's result line starts with this

CHILD = r"""
import json, sys, time, warnings
spec = json.loads(sys.argv[1])
started = time.perf_counter()
import fastsgd
cls = getattr(fastsgd, spec["class"], None)  # the estimators may be imported lazily
imported = time.perf_counter()
result = {"import": imported - started, "file": fastsgd.__file__,
          "version": getattr(fastsgd, "__version__", "?")}
if cls is None:
    result["missing"] = True
else:
    import numpy as np
    import scipy.sparse as sp
    rng = np.random.default_rng(0)
    n, data = 1000, spec["data"]
    if data == "csr":
        X = sp.csr_matrix((rng.random((n, 100)) < 0.1).astype(np.float64))
    else:
        X = rng.standard_normal((n, 20))
    w = rng.standard_normal(X.shape[1])
    score = X @ w + 0.1 * rng.standard_normal(n)
    y = score if data == "regression" else (score > np.median(score)).astype(np.int64)
    if data == "dense-float32":
        X = X.astype(np.float32)
    extra = {"sample_weight": rng.uniform(0.5, 2.0, n)} if data == "dense-weighted" else {}
    params = {**spec["params"], **spec["settings"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for column in ("first_fit", "second_fit"):
            model = cls(**params)
            t = time.perf_counter()
            model.fit(X, y, **extra)
            result[column] = time.perf_counter() - t
print("COLD_START_RESULT " + json.dumps(result), flush=True)
"""


def run_once(name, settings=FIT_SETTINGS, cache=None):
    """One fresh process with an empty cache (or ``cache``, used as it is); returns its
    measurements (a dict)."""
    cls, params, data = CASES[name]
    spec = json.dumps({"class": cls, "params": params, "data": data, "settings": settings})
    scratch = tempfile.mkdtemp(prefix="fastsgd-cold-start-")
    if cache is None:
        cache = os.path.join(scratch, "numba-cache")
        os.mkdir(cache)
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    try:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, spec],
            cwd=scratch, env=env, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}", "process": wall}
    result = json.loads(lines[-1][len(MARKER) :])
    result["process"] = wall
    return result


def summarize(runs):
    """median and min of every column over the runs that measured it."""
    summary = {}
    for column in COLUMNS:
        values = [run[column] for run in runs if column in run]
        if values:
            summary[column] = {"median": statistics.median(values), "min": min(values)}
    return summary


def cell(summary, column, repeat):
    if column not in summary:
        return "-"
    if repeat == 1:
        return f"{summary[column]['median']:.3f}"
    return f"{summary[column]['median']:.3f} ({summary[column]['min']:.3f})"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (default 1)")
    parser.add_argument("--json", help="also write every run and the summaries to this file")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument(
        "--cache",
        help="use this Numba cache folder as it is instead of an empty one (say, one filled by "
        "`fastsgd compile`): the first fit then shows what is left to compile",
    )
    parser.add_argument(
        "--defaults",
        action="store_true",
        help="fit with the estimators' own max_iter and tol (only random_state=0)",
    )
    args = parser.parse_args()
    settings = DEFAULT_FIT_SETTINGS if args.defaults else FIT_SETTINGS
    if args.list:
        for name, (cls, params, data) in CASES.items():
            print(f"{name:30s} {cls}({', '.join(f'{k}={v!r}' for k, v in params.items())}) "
                  f"on {data}")  # fmt: skip
        return 0
    names = list(CASES) if not args.cases else [c.strip() for c in args.cases.split(",")]
    unknown = [name for name in names if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    unit = "s" if args.repeat == 1 else f"s, median (min) of {args.repeat} runs"
    width = 18 if args.repeat > 1 else 12
    header = ["case".ljust(30)] + [h.ljust(width) for h in ("import", "first fit", "second fit")]
    header.append("process")
    report = {"repeat": args.repeat, "settings": settings, "python": sys.version,
              "platform": platform.platform(), "cases": {}}  # fmt: skip
    failed = False
    printed_header = False
    for name in names:
        runs = [run_once(name, settings, args.cache) for _ in range(args.repeat)]
        if not printed_header:
            where = next((run["file"] for run in runs if "file" in run), "?")
            version = next((run["version"] for run in runs if "version" in run), "?")
            report["fastsgd"] = {"file": where, "version": version}
            print(f"fastsgd {version} from {where}; python {platform.python_version()}; "
                  f"fits: {settings}; times in {unit}")  # fmt: skip
            print("  ".join(header))
            printed_header = True
        summary = summarize(runs)
        errors = [run["error"] for run in runs if "error" in run]
        cls = CASES[name][0]
        if errors:
            failed = True
            row = f"{name:30s}  error: {errors[0]}"
        elif any(run.get("missing") for run in runs):
            row = f"{name:30s}  {cell(summary, 'import', args.repeat):{width}s}  " + (
                "n/a (not in this version)"
            )
        else:
            cells = [cell(summary, column, args.repeat).ljust(width) for column in COLUMNS]
            row = "  ".join([f"{name:30s}", *cells])
        print(row.rstrip(), flush=True)
        report["cases"][name] = {
            "class": cls, "params": CASES[name][1], "data": CASES[name][2],
            "runs": runs, "summary": summary,
            "status": "error" if errors else "missing" if runs[0].get("missing") else "ok",
        }  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
