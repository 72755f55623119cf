"""Training from a file: ``fastsgd.stream.fit`` against Vowpal Wabbit, in one run.

Writes (once; reused while its settings match) a synthetic binary problem of at least
``--gb`` GB (1 by default) under ``--dir`` (/tmp/fastsgd_stream_vs_vw): about 2,000,000 fresh
rows (no row is repeated) of 40 distinct features out of 2**18, values N(0, 1) written with 3
decimals, feature frequencies skewed (index = floor(2**18 * u**2), so a few are common and
most rare, as in text data), labels -1/+1 drawn from a logistic model with a fixed N(0, 0.5**2)
true weight vector (the true model's log-loss on the held-out rows is about 0.35). The same rows
are written three times: ``data.svm`` (svmlight, for fastsgd), ``data.vw`` (``-1 | 17:0.532
...``, for VW) and ``holdout.vw`` (every 10th row, the rows both learners hold out).

Every learner runs in a fresh subprocess (its peak resident memory is its own ``VmHWM``, read
right after training), on files already in the page cache, with logistic loss, ``--passes``
passes (3) and every 10th row (rows 10, 20, ...) held out:

- fastsgd: ``fastsgd.stream.fit(LogisticRegression(max_iter=passes, tol=None, random_state=0,
  **--fastsgd), 'data.svm', cache=DIR, n_features=2**18, classes=[-1, 1],
  first_pass='train')``, so the first pass
  parses, trains and writes the cache (float32) and later passes read the cache. Each
  subprocess first fits a small file with the same settings (and predicts), so the timings
  exclude Numba's compiling / cache loading.
- VW (``vowpalwabbit`` 9, its native driver: ``Workspace("-d data.vw ...")`` runs VW's own
  parser and learner, no Python loop): ``--loss_function logistic -b 21`` (with ``--quiet``
  but in the full run, whose log gives VW's own held-out loss) and VW's defaults (adaptive,
  normalized, invariant updates, ``-l 0.5``, ``--holdout_period 10``). ``-b 21``: the smallest
  table where the 2**18 feature ids (numeric names hash to themselves) and VW's constant
  feature (hash 11650396) cannot collide. Without the package its rows are skipped.

How each pass is timed, the same way for both learners: the *first pass* is a 1-pass run from
the text into a fresh cache (fastsgd's ``max_iter=1``; VW's ``--passes 1 --cache_file``: with
one pass VW holds nothing out, so it trains on every row there); the *cached passes* are a
(passes-1)-pass run from that existing cache (fastsgd's cache folder as the source; VW with
the cache file present, which it reads instead of the text); *VW text* is VW's 1-pass run
without a cache ("VW's text speed"). The *full* run (passes passes from the text into a fresh
cache) gives the peak memory and the held-out log-loss; its total should be about first +
cached, and fastsgd's full run also times its own first pass (the end of the cache build).
First-pass rows/s count every row of the file, cached rows/s the training rows (90%). The
timed runs (first, cached, text) run ``--repeat`` times (2) each, every time in a fresh
process, and the table shows the fastest (the closing lines list every time); the full runs
run once. All in one invocation, so the ratios compare runs of the same moment.

Held-out log-loss, one formula for both, on the same rows: ``mean(-log p(y))`` with p clipped
to [1e-15, 1 - 1e-15] in float64: fastsgd's ``predict_proba`` over
``open_cache(DIR).holdout_buckets``; VW's model (``-f``) predicting ``holdout.vw`` in a
test-only workspace (``-t -i model -p preds``: the raw margin, turned into p by the sigmoid).
The fastsgd settings default to ``learning_rate='constant', eta0=0.02`` (``--fastsgd`` changes
them), chosen by the held-out log-loss after 3 passes on a separate 500,000-row file of the
same model (``--seed 1 --gb 0.25``), where VW's defaults gave 0.548: 'constant' at eta0 0.01 /
0.02 / 0.03 / 0.04 gave 0.558 / 0.538 / 0.538 / 0.546, 'invscaling' (eta0=0.05, power_t=0.1)
0.547, ``average=True`` 0.532 at eta0=0.05 (0.557 at 0.1) but with passes twice as slow;
'optimal' (alpha 1e-6 to 1e-4, on an earlier file) gave 3.9 to 32, its first steps being far
too large for this data.

    NUMBA_CACHE_DIR=/tmp/nc_bench python bench/stream_vs_vw.py [--gb 1] [--passes 3]

Goals the closing lines judge: fastsgd's first pass at least 1.5x VW's text speed, its cached
passes at least 2x VW's cached passes, its held-out log-loss at most 1% above VW's.
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

N_FEATURES = 2**18
NNZ = 40
WEIGHT_SCALE = 0.5
WEIGHT_SEED = 20_240_601
BLOCK_ROWS = 100_000
HOLDOUT = 10
VW_BITS = 21
DEFAULT_FASTSGD = {"learning_rate": "constant", "eta0": 0.02}
FORMAT_VERSION = 1


# -- the data -----------------------------------------------------------------------------------


def true_weights(n_features):
    return np.random.default_rng(WEIGHT_SEED).standard_normal(n_features) * WEIGHT_SCALE


def draw_rows(rng, n_rows, nnz, weights):
    """(one-based indices, values in thousandths, labels -1/+1): ``nnz`` distinct sorted
    features a row, frequent ones at low indices, labels from the logistic model."""
    n_features = weights.size
    u = rng.random((n_rows, nnz))
    indices = (n_features * u * u).astype(np.int64)
    indices.sort(axis=1)
    while True:  # a repeated feature in a row: draw it again, uniformly
        repeated = np.zeros(indices.shape, dtype=bool)
        repeated[:, 1:] = indices[:, 1:] == indices[:, :-1]
        if not repeated.any():
            break
        indices[repeated] = rng.integers(0, n_features, int(repeated.sum()))
        indices.sort(axis=1)
    millis = np.rint(rng.standard_normal((n_rows, nnz)) * 1000)
    millis = np.clip(millis, -9999, 9999).astype(np.int64)
    margin = (weights[indices] * (millis / 1000.0)).sum(axis=1)
    labels = np.where(rng.random(n_rows) < 1.0 / (1.0 + np.exp(-margin)), 1, -1)
    return indices + 1, millis, labels


def format_rows(indices, millis, labels, positive, negative):
    """The rows as text, ``<label prefix> i:v i:v ...\\n``, built with array operations: every
    field is laid out at a fixed width and the unused characters are dropped."""
    n, k = indices.shape
    digits = len(str(int(indices.max())))
    width = digits + 8  # " " index ":" sign digit "." 3 digits
    field = np.empty((n, k, width), dtype=np.uint8)
    keep = np.ones((n, k, width), dtype=bool)
    field[..., 0] = ord(" ")
    for j in range(digits):
        field[..., digits - j] = 48 + (indices // 10**j) % 10
        if j:
            keep[..., digits - j] = indices >= 10**j
    field[..., digits + 1] = ord(":")
    field[..., digits + 2] = ord("-")
    keep[..., digits + 2] = millis < 0
    magnitude = np.abs(millis)
    field[..., digits + 3] = 48 + magnitude // 1000
    field[..., digits + 4] = ord(".")
    for j, power in enumerate((100, 10, 1)):
        field[..., digits + 5 + j] = 48 + (magnitude // power) % 10
    prefix = np.zeros((n, max(len(positive), len(negative))), dtype=np.uint8)
    prefix_keep = np.zeros(prefix.shape, dtype=bool)
    for text, rows in ((positive, labels > 0), (negative, labels < 0)):
        prefix[rows, : len(text)] = np.frombuffer(text.encode(), np.uint8)
        prefix_keep[rows, : len(text)] = True
    newline = np.full((n, 1), ord("\n"), dtype=np.uint8)
    line = np.concatenate([prefix, field.reshape(n, -1), newline], axis=1)
    mask = np.concatenate([prefix_keep, keep.reshape(n, -1), np.ones((n, 1), bool)], axis=1)
    return line[mask].tobytes()


def data_paths(folder):
    return {name: os.path.join(folder, name) for name in ("data.svm", "data.vw", "holdout.vw")}


def write_data(folder, target_bytes, seed, n_features=N_FEATURES, nnz=NNZ):
    """Write (or reuse) the three files; returns (paths, metadata)."""
    paths = data_paths(folder)
    meta_path = os.path.join(folder, "data.json")
    wanted = {
        "version": FORMAT_VERSION,
        "target_bytes": target_bytes,
        "seed": seed,
        "n_features": n_features,
        "nnz": nnz,
    }
    if os.path.exists(meta_path):
        with open(meta_path) as file:
            meta = json.load(file)
        sizes = {name: os.path.getsize(p) if os.path.exists(p) else -1 for name, p in paths.items()}
        if {key: meta.get(key) for key in wanted} == wanted and meta.get("sizes") == sizes:
            return paths, meta
    os.makedirs(folder, exist_ok=True)
    weights = true_weights(n_features)
    start = time.perf_counter()
    n_rows = 0
    bayes = []  # the true model's log-loss on the held-out rows
    with (
        open(paths["data.svm"], "wb") as svm,
        open(paths["data.vw"], "wb") as vw,
        open(paths["holdout.vw"], "wb") as holdout,
    ):
        block = 0
        while svm.tell() < target_bytes:
            rng = np.random.default_rng([seed, block])
            indices, millis, labels = draw_rows(rng, BLOCK_ROWS, nnz, weights)
            svm.write(format_rows(indices, millis, labels, "1", "-1"))
            vw.write(format_rows(indices, millis, labels, "1 |", "-1 |"))
            held = (np.arange(n_rows, n_rows + labels.size) + 1) % HOLDOUT == 0
            holdout.write(format_rows(indices[held], millis[held], labels[held], "1 |", "-1 |"))
            margin = (weights[indices[held] - 1] * (millis[held] / 1000.0)).sum(axis=1)
            bayes.append(np.logaddexp(0.0, -labels[held] * margin))
            n_rows += labels.size
            block += 1
    sizes = {name: os.path.getsize(p) for name, p in paths.items()}
    meta = dict(
        wanted, sizes=sizes, n_rows=n_rows, n_holdout_rows=n_rows // HOLDOUT,
        bayes_log_loss=float(np.concatenate(bayes).mean()),
    )  # fmt: skip
    with open(meta_path, "w") as file:
        json.dump(meta, file, indent=1)
    print(f"wrote {n_rows:,} rows in {time.perf_counter() - start:.0f} s")
    return paths, meta


# -- measuring ----------------------------------------------------------------------------------


def vm_hwm_mb():
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    return int(status.split()[0]) / 1024


def log_loss(y, p):
    """Mean negative log-likelihood of labels -1/+1 under P(y = +1) = p."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    return float(-np.where(np.asarray(y) > 0, np.log(p), np.log1p(-p)).mean())


def fastsgd_child(spec):
    import fastsgd.cache
    import fastsgd.stream
    from fastsgd import LogisticRegression
    from fastsgd.cache import open_cache

    after_imports = vm_hwm_mb()
    settings = dict(spec["settings"], tol=None, random_state=0)

    def fit(max_iter, source, cache):
        model = LogisticRegression(max_iter=max_iter, **settings)
        kwargs = {} if cache is None else {"cache": cache}
        classes = [-1, 1]
        return fastsgd.stream.fit(
            model, source, n_features=N_FEATURES, classes=classes, first_pass="train", **kwargs
        )

    # warm-up: the same calls on a small file (Numba's compiling or cache loading)
    small = tempfile.mkdtemp(prefix="fastsgd-warm-")
    indices, millis, labels = draw_rows(np.random.default_rng(0), 3000, NNZ, true_weights(100))
    with open(os.path.join(small, "warm.svm"), "wb") as file:
        file.write(format_rows(indices, millis, labels, "1", "-1"))
    fit(2, os.path.join(small, "warm.svm"), os.path.join(small, "cache"))
    warm = fit(1, os.path.join(small, "cache"), None)
    warm_cache = open_cache(os.path.join(small, "cache"))
    for _, X, _ in warm_cache.iter_buckets(warm_cache.holdout_buckets):
        warm.predict_proba(X)
        warm.decision_function(X)
    shutil.rmtree(small)
    after_warm_up = vm_hwm_mb()

    cache = spec["cache"]
    mode = spec["mode"]
    first_pass_end = []
    if mode == "full":  # also time the first pass inside this run: the end of the cache build
        chunks = fastsgd.cache.CacheBuilder.chunks

        def timed_chunks(self):
            yield from chunks(self)
            first_pass_end.append(time.perf_counter())

        fastsgd.cache.CacheBuilder.chunks = timed_chunks
    if mode != "cached":
        shutil.rmtree(cache, ignore_errors=True)
    start = time.perf_counter()
    if mode == "cached":
        model = fit(spec["passes"], cache, None)
    else:
        model = fit(spec["passes"], spec["source"], cache)
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "hwm_mb": vm_hwm_mb(), "after_imports_mb": after_imports}
    result["after_warm_up_mb"] = after_warm_up
    opened = open_cache(cache)
    result["n_train_rows"] = opened.manifest["n_train_rows"]
    result["cache_mb"] = sum(
        os.path.getsize(os.path.join(cache, name)) for name in os.listdir(cache)
    ) / 1e6  # fmt: skip
    if first_pass_end:
        result["first_pass_seconds"] = first_pass_end[0] - start
    if mode == "full":
        ys, probabilities, margins = [], [], []
        for _, X, y in opened.iter_buckets(opened.holdout_buckets):
            ys.append(y)
            probabilities.append(model.predict_proba(X)[:, list(model.classes_).index(1)])
            margins.append(model.decision_function(X))
        y = np.concatenate(ys)
        result["log_loss"] = log_loss(y, np.concatenate(probabilities))
        result["log_loss_margin"] = float(
            np.logaddexp(0.0, -y * np.concatenate(margins).astype(np.float64)).mean()
        )
        result["n_holdout_rows"] = int(y.size)
    return result


def vw_child(spec):
    from vowpalwabbit import Workspace

    after_imports = vm_hwm_mb()
    mode, cache = spec["mode"], spec["cache"]
    common = f"--loss_function logistic -b {VW_BITS}"
    if mode != "full":  # the full run logs, to read VW's own held-out loss
        common += " --quiet"
    if mode == "text":
        arguments = f"-d {spec['source']} --passes 1 {common}"
    elif mode == "cached":
        arguments = f"-d {spec['source']} --passes {spec['passes']} --cache_file {cache} {common}"
    else:
        if os.path.exists(cache):
            os.remove(cache)
        arguments = f"-d {spec['source']} --passes {spec['passes']} --cache_file {cache} -k"
        arguments += f" {common}"
        if mode == "full":
            arguments += f" -f {spec['model']}"
    start = time.perf_counter()
    # runs VW's parser and learner over the file
    workspace = Workspace(arguments, enable_logging=mode == "full")
    workspace.finish()  # writes the model
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "hwm_mb": vm_hwm_mb(), "arguments": arguments}
    result["after_imports_mb"] = after_imports
    if mode == "full":
        losses = [line for line in workspace.get_log() if line.startswith("average loss")]
        result["vw_reported_loss"] = losses[-1].split("=")[1].strip() if losses else "?"
    if os.path.exists(cache):
        result["cache_mb"] = os.path.getsize(cache) / 1e6
    if mode == "full":
        predictions = spec["model"] + ".preds"
        tester = Workspace(f"-d {spec['holdout']} -t -i {spec['model']} -p {predictions} --quiet")
        tester.finish()
        margins = np.loadtxt(predictions, dtype=np.float64, ndmin=1)
        with open(spec["holdout"], "rb") as file:
            y = np.array([1.0 if line.startswith(b"1") else -1.0 for line in file])
        result["log_loss"] = log_loss(y, 1.0 / (1.0 + np.exp(-margins)))
        result["log_loss_margin"] = float(np.logaddexp(0.0, -y * margins).mean())
        result["n_holdout_rows"] = int(y.size)
    return result


def best_of(spec, repeat):
    """The fastest of ``repeat`` runs (each in a fresh process), with every run's seconds."""
    runs = [run_child(spec) for _ in range(repeat)]
    best = min(runs, key=lambda run: run["seconds"])
    best["all_seconds"] = [run["seconds"] for run in runs]
    return best


def run_child(spec):
    process = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        raise RuntimeError(f"{spec['learner']} {spec['mode']} failed:\n{process.stderr}")
    return json.loads(process.stdout.strip().splitlines()[-1])


# -- the report ---------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="svmlight file size, GB (1e9 B)")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="the rows' seed")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each timed pass (best)")
    parser.add_argument(
        "--dir", default=os.path.join(tempfile.gettempdir(), "fastsgd_stream_vs_vw")
    )
    parser.add_argument(
        "--fastsgd", type=json.loads, default=DEFAULT_FASTSGD,
        help=f"LogisticRegression settings, as JSON (default {json.dumps(DEFAULT_FASTSGD)})",
    )  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        child = fastsgd_child if spec["learner"] == "fastsgd" else vw_child
        print(json.dumps(child(spec)))
        return
    if args.passes < 2:
        parser.error("--passes must be at least 2 (a first pass and cached passes)")

    paths, meta = write_data(args.dir, int(args.gb * 1e9), args.seed)
    sizes = {name: size / 1e6 for name, size in meta["sizes"].items()}
    n_rows, n_holdout = meta["n_rows"], meta["n_holdout_rows"]
    print(
        f"data: {n_rows:,} rows ({n_holdout:,} held out), {N_FEATURES:,} features, {NNZ} "
        f"nonzeros a row; data.svm {sizes['data.svm']:.0f} MB, data.vw {sizes['data.vw']:.0f} "
        f"MB; the true model's held-out log-loss {meta['bayes_log_loss']:.4f}"
    )
    for path in paths.values():  # into the page cache
        with open(path, "rb") as file:
            while file.read(1 << 24):
                pass

    try:
        import vowpalwabbit

        vw_version = vowpalwabbit.__version__
    except ImportError:
        vw_version = None
        print("vowpalwabbit is not installed: the VW rows are skipped")
    print(f"fastsgd: LogisticRegression({args.fastsgd}, tol=None, random_state=0); VW {vw_version}")

    passes = args.passes
    fastsgd_cache = os.path.join(args.dir, "fastsgd.cache")
    vw_cache = os.path.join(args.dir, "vw.cache")
    base = {"settings": args.fastsgd, "source": paths["data.svm"], "cache": fastsgd_cache}
    runs = {}
    start = time.perf_counter()
    runs["fastsgd", "first"] = best_of(
        dict(base, learner="fastsgd", mode="first", passes=1), args.repeat
    )
    runs["fastsgd", "cached"] = best_of(
        dict(base, learner="fastsgd", mode="cached", passes=passes - 1), args.repeat
    )
    runs["fastsgd", "full"] = run_child(dict(base, learner="fastsgd", mode="full", passes=passes))
    if vw_version is not None:
        base = {
            "source": paths["data.vw"], "cache": vw_cache, "holdout": paths["holdout.vw"],
            "model": os.path.join(args.dir, "vw.model"), "learner": "vw",
        }  # fmt: skip
        runs["vw", "text"] = best_of(dict(base, mode="text", passes=1), args.repeat)
        runs["vw", "first"] = best_of(dict(base, mode="first", passes=1), args.repeat)
        runs["vw", "cached"] = best_of(dict(base, mode="cached", passes=passes - 1), args.repeat)
        runs["vw", "full"] = run_child(dict(base, mode="full", passes=passes))
    bench_seconds = time.perf_counter() - start

    n_train = runs["fastsgd", "full"]["n_train_rows"]
    header = (
        f"{'learner':8} {'pass':22} {'seconds':>8} {'rows/s':>11} {'MB/s':>7} {'peak RSS MB':>12} "
        f"{'holdout log-loss':>17}"
    )
    print()
    print(header)
    print("-" * len(header))
    text_mb = {"fastsgd": sizes["data.svm"], "vw": sizes["data.vw"]}
    for (learner, mode), run in runs.items():
        seconds = run["seconds"]
        if mode in ("first", "text"):
            label = "1 (text, no cache)" if mode == "text" else "1 (text -> cache)"
            rate, mb_s = n_rows / seconds, f"{text_mb[learner] / seconds:7.0f}"
        elif mode == "cached":
            label = f"2..{passes} (cache)"
            rate, mb_s = (passes - 1) * n_train / seconds, f"{'':7}"
        else:
            label = f"1..{passes} (full run)"
            rate, mb_s = None, f"{'':7}"
        rate = f"{rate:11,.0f}" if rate is not None else f"{'':11}"
        loss = f"{run['log_loss']:17.4f}" if "log_loss" in run else ""
        rss = f"{run['hwm_mb']:12.0f}"
        print(f"{learner:8} {label:22} {seconds:8.2f} {rate} {mb_s} {rss} {loss}")
    print()
    for (learner, mode), run in runs.items():
        if len(run.get("all_seconds", [])) > 1:
            each = ", ".join(f"{seconds:.2f}" for seconds in run["all_seconds"])
            print(f"{learner} {mode}: each run {each} s (the table shows the fastest)")
    full = runs["fastsgd", "full"]
    first_and_cached = runs["fastsgd", "first"]["seconds"] + runs["fastsgd", "cached"]["seconds"]
    print(
        f"fastsgd full run: its first pass {full['first_pass_seconds']:.2f} s and cached passes "
        f"{full['seconds'] - full['first_pass_seconds']:.2f} s (timed inside it; the first and "
        f"cached runs add up to {first_and_cached:.2f} s); peak RSS after the imports "
        f"{full['after_imports_mb']:.0f} MB, after the JIT warm-up {full['after_warm_up_mb']:.0f}"
        f" MB; cache {full['cache_mb']:.0f} MB; log-loss from decision_function "
        f"{full['log_loss_margin']:.4f} over {full['n_holdout_rows']:,} rows"
    )
    if vw_version is not None:
        vw = runs["vw", "full"]
        first_and_cached = runs["vw", "first"]["seconds"] + runs["vw", "cached"]["seconds"]
        print(
            f"VW full run: the first and cached runs add up to {first_and_cached:.2f} s; peak RSS "
            f"after the imports {vw['after_imports_mb']:.0f} MB; cache {vw['cache_mb']:.0f} MB; "
            f"log-loss from the margins {vw['log_loss_margin']:.4f} over "
            f"{vw['n_holdout_rows']:,} rows (VW's own report: {vw['vw_reported_loss']}, its "
            f"best pass's progressive held-out loss); `{vw['arguments']}`"
        )
        first = runs["vw", "text"]["seconds"] / runs["fastsgd", "first"]["seconds"]
        first_cached = runs["vw", "first"]["seconds"] / runs["fastsgd", "first"]["seconds"]
        cached = runs["vw", "cached"]["seconds"] / runs["fastsgd", "cached"]["seconds"]
        loss = full["log_loss"] / vw["log_loss"]
        memory = full["hwm_mb"] / vw["hwm_mb"]
        print()
        print(
            f"first pass:    fastsgd {first:.2f}x VW's text speed (goal >= 1.5x: "
            f"{'met' if first >= 1.5 else 'NOT met'}); {first_cached:.2f}x VW's first pass "
            "writing its cache"
        )
        print(
            f"cached passes: fastsgd {cached:.2f}x VW's (goal >= 2x: "
            f"{'met' if cached >= 2 else 'NOT met'})"
        )
        print(
            f"log-loss:      fastsgd / VW = {loss:.4f} (goal <= 1.01: "
            f"{'met' if loss <= 1.01 else 'NOT met'})"
        )
        print(f"peak RSS:      fastsgd / VW = {memory:.2f}")
    print(f"\nthe runs took {bench_seconds:.0f} s")
    shutil.rmtree(fastsgd_cache, ignore_errors=True)
    for path in (
        vw_cache,
        os.path.join(args.dir, "vw.model"),
        os.path.join(args.dir, "vw.model.preds"),
    ):
        if os.path.exists(path):
            os.remove(path)


if __name__ == "__main__":
    main()
