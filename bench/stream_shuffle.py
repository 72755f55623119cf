"""A file sorted by label: does the bucketed cache train as well as a full shuffle?

Writes under ``--dir`` (/tmp/fastsgd_stream_shuffle) a training file of ``--rows`` rows
(1,500,000) sorted by label (every -1 row, then every +1 row) and an unsorted test file of
``--test-rows`` other rows (200,000), both from ``bench/stream_vs_vw.py``'s logistic model (40
nonzeros out of 2**18 features, skewed frequencies). Then fits the same
``LogisticRegression(max_iter=3, tol=None, random_state=seed, **--settings)`` (the settings of
``bench/stream_vs_vw.py`` by default) on the training rows, for each of ``--seeds`` seeds:

- stream, buckets: ``fastsgd.stream.fit(..., first_pass='cache', holdout=0)`` (the default
  first pass): the first pass
  only builds the cache and all three epochs visit its buckets in random order, each bucket's
  rows permuted;
- stream, pass 1 in file order: ``fastsgd.stream.fit(..., n_features=2**18, classes=[-1, 1],
  first_pass='train', holdout=0)``, where the first pass trains on each 16 MiB block as it is
  parsed (rows permuted within the block, so in label order across the file) and epochs 2-3
  read the buckets;
- in memory, full shuffle: ``.fit(X, y)`` with ``shuffle=True`` on the file loaded with
  ``fastsgd.svmlight.load_svmlight`` (float32, the cache's dtype);
- in memory, file order: the same with ``shuffle=False``.

``holdout=0`` makes every stream fit train on every row, as the in-memory fits do. Prints each
fit's log-loss on the test rows (``mean(-log p(y))`` from ``predict_proba``, p clipped to
[1e-15, 1 - 1e-15]), its accuracy and its seconds (the stream fits' include parsing; the cache
is built once, by the pass-1-in-file-order fit, and reused by the buckets fit), the mean over
the seeds and the ratio to the full shuffle's mean log-loss. Goal: the buckets within 1% of
the full shuffle. Numba is warmed up on a small fit first.

    NUMBA_CACHE_DIR=/tmp/nc_bench python bench/stream_shuffle.py [--rows N] [--seeds 3]
"""

import argparse
import json
import os
import shutil
import tempfile
import time

import numpy as np
from stream_vs_vw import (
    DEFAULT_FASTSGD,
    N_FEATURES,
    NNZ,
    draw_rows,
    format_rows,
    log_loss,
    true_weights,
)

BLOCK_ROWS = 100_000


def write_files(folder, n_rows, n_test_rows):
    """The sorted training file and the test file (reused when they are there with these
    sizes); returns their paths and the true model's test log-loss."""
    train, test = os.path.join(folder, "sorted.svm"), os.path.join(folder, "test.svm")
    meta_path = os.path.join(folder, "meta.json")
    wanted = {"rows": n_rows, "test_rows": n_test_rows}
    if os.path.exists(meta_path) and os.path.exists(train) and os.path.exists(test):
        with open(meta_path) as file:
            meta = json.load(file)
        if {key: meta.get(key) for key in wanted} == wanted:
            return train, test, meta["bayes_log_loss"]
    os.makedirs(folder, exist_ok=True)
    weights = true_weights(N_FEATURES)
    parts = [
        draw_rows(np.random.default_rng([1, block]), min(BLOCK_ROWS, n_rows - start), NNZ, weights)
        for block, start in enumerate(range(0, n_rows, BLOCK_ROWS))
    ]
    indices, millis, labels = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    del parts
    order = np.argsort(labels, kind="stable")  # every -1 row, then every +1 row
    with open(train, "wb") as file:
        for start in range(0, n_rows, BLOCK_ROWS):
            rows = order[start : start + BLOCK_ROWS]
            file.write(format_rows(indices[rows], millis[rows], labels[rows], "1", "-1"))
    del indices, millis, labels, order
    indices, millis, labels = draw_rows(np.random.default_rng(2), n_test_rows, NNZ, weights)
    with open(test, "wb") as file:
        file.write(format_rows(indices, millis, labels, "1", "-1"))
    margin = (weights[indices - 1] * (millis / 1000.0)).sum(axis=1)
    bayes = float(np.logaddexp(0.0, -labels * margin).mean())
    with open(meta_path, "w") as file:
        json.dump(dict(wanted, bayes_log_loss=bayes), file)
    return train, test, bayes


def evaluate(model, X, y):
    p = model.predict_proba(X)[:, list(model.classes_).index(1)]
    return log_loss(y, p), float(model.score(X, y))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--test-rows", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, default=3, help="random_state 0, 1, ...")
    parser.add_argument(
        "--settings", type=json.loads, default=DEFAULT_FASTSGD,
        help=f"LogisticRegression settings, as JSON (default {json.dumps(DEFAULT_FASTSGD)})",
    )  # fmt: skip
    parser.add_argument(
        "--dir", default=os.path.join(tempfile.gettempdir(), "fastsgd_stream_shuffle")
    )
    args = parser.parse_args()

    import fastsgd.stream
    from fastsgd import LogisticRegression
    from fastsgd.svmlight import load_svmlight

    start = time.perf_counter()
    train, test, bayes = write_files(args.dir, args.rows, args.test_rows)
    print(
        f"train: {train}, {args.rows:,} rows sorted by label, {os.path.getsize(train) / 1e6:.0f} "
        f"MB; test: {args.test_rows:,} unsorted rows; the true model's test log-loss {bayes:.4f}"
    )
    print(f"LogisticRegression(max_iter=3, tol=None, random_state=seed, **{args.settings})")
    X_test, y_test = load_svmlight(test, n_features=N_FEATURES, dtype=np.float32, zero_based=False)
    X, y = load_svmlight(train, n_features=N_FEATURES, dtype=np.float32, zero_based=False)
    print(f"labels in file order: first {y[0]:+.0f}, last {y[-1]:+.0f}, {np.mean(y > 0):.1%} +1")

    def model(seed, **extra):
        return LogisticRegression(max_iter=3, tol=None, random_state=seed, **args.settings, **extra)

    cache = os.path.join(args.dir, "cache")
    stream = dict(holdout=0, zero_based=False)
    fits = {  # in this order: the file-order stream fit builds the cache the buckets fit reads
        "stream, pass 1 in file order": lambda seed: fastsgd.stream.fit(
            model(seed),
            train,
            cache=cache,
            n_features=N_FEATURES,
            classes=[-1, 1],
            first_pass="train",
            **stream,
        ),
        "stream, buckets (first_pass='cache')": lambda seed: fastsgd.stream.fit(
            model(seed), train, cache=cache, first_pass="cache", **stream
        ),
        "in memory, full shuffle": lambda seed: model(seed, shuffle=True).fit(X, y),
        "in memory, file order": lambda seed: model(seed, shuffle=False).fit(X, y),
    }
    # warm-up: every kind of fit on a small file
    small = tempfile.mkdtemp(prefix="fastsgd-warm-")
    indices, millis, labels = draw_rows(np.random.default_rng(3), 2000, NNZ, true_weights(100))
    with open(os.path.join(small, "warm.svm"), "wb") as file:
        file.write(format_rows(indices, millis, labels, "1", "-1"))
    for first_pass in ("cache", "train"):
        fastsgd.stream.fit(
            model(0), os.path.join(small, "warm.svm"), cache=os.path.join(small, "cache"),
            first_pass=first_pass, n_features=N_FEATURES, classes=[-1, 1], **stream,
        )  # fmt: skip
    X_small, y_small = load_svmlight(
        os.path.join(small, "warm.svm"), n_features=N_FEATURES, dtype=np.float32
    )
    for shuffle in (True, False):
        evaluate(model(0, shuffle=shuffle).fit(X_small, y_small), X_small, y_small)
    shutil.rmtree(small)

    results = {name: [] for name in fits}
    header = f"{'fit':38} {'seed':>4} {'test log-loss':>14} {'accuracy':>9} {'seconds':>8}"
    print()
    print(header)
    print("-" * len(header))
    for seed in range(args.seeds):
        shutil.rmtree(cache, ignore_errors=True)
        for name, fit in fits.items():
            begin = time.perf_counter()
            fitted = fit(seed)
            seconds = time.perf_counter() - begin
            loss, accuracy = evaluate(fitted, X_test, y_test)
            results[name].append(loss)
            print(f"{name:38} {seed:4} {loss:14.4f} {accuracy:9.4f} {seconds:8.2f}", flush=True)
    shutil.rmtree(cache, ignore_errors=True)

    print()
    reference = np.mean(results["in memory, full shuffle"])
    for name, losses in results.items():
        mean = np.mean(losses)
        spread = f"{min(losses):.4f} .. {max(losses):.4f}"
        print(f"{name:38} mean {mean:.4f} ({spread}), {mean / reference:.4f}x the full shuffle")
    ratio = np.mean(results["stream, buckets (first_pass='cache')"]) / reference
    print(
        f"goal: the buckets within 1% of the full shuffle: {ratio:.4f}x, "
        f"{'met' if ratio <= 1.01 else 'NOT met'}"
    )
    print(f"\nthe bench took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
