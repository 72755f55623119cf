"""
Time per epoch against the number of samples
============================================

One epoch of per-sample SGD reads every sample once and does ``O(k)`` work on it, so its time
grows in proportion to N; what differs between implementations is the cost per sample. This
example times one epoch of logistic regression at a range of N for

* ``fastsgd.LogisticRegression.fit`` and ``sklearn.linear_model.SGDClassifier.fit`` (the
  estimators, their input checks included, the same settings and the same model),
* ``fastsgd.kernels.logistic_epoch``, the handout's update as a public compiled kernel (the
  loop ``LogisticRegression`` runs for three or more classes and in sweeps; a binary ``fit``
  like the one timed here runs the linear engine's loop for the same update),
  and ``fastsgd.reference.logistic_epoch``, the same loop in plain NumPy, one sample per
  iteration of a Python loop.

The figures come from the machine that built these pages, when it built them. That machine
may be busy with other work, so compare the ratios of one run rather than absolute times.
"""

# %%
# Data and timing
# ---------------
# Dense float64 data, 100 features, labels from a noisy linear rule. Each measurement is the
# best of a few repeats, after one untimed call that compiles or loads the kernels (Numba
# compiles on first use; the time of that first call is not part of an epoch's cost).
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import SGDClassifier

import fastsgd.kernels
import fastsgd.reference
from fastsgd import LogisticRegression

n_features = 100
sizes = [1_000, 3_000, 10_000, 30_000, 100_000, 300_000]
reference_sizes = sizes[:3]  # the NumPy loop takes about 10 us per sample: small N only

rng = np.random.default_rng(0)
X_all = rng.standard_normal((sizes[-1], n_features))
y_all = (X_all @ rng.standard_normal(n_features) + rng.standard_normal(sizes[-1]) > 0).astype(
    np.int64
)
settings = dict(learning_rate="constant", eta0=0.001, penalty=None, max_iter=1, tol=None)
settings.update(shuffle=False, random_state=0)


def best_time(run, repeats, *args):
    run(*args)  # warm-up: compiling or loading from the cache, first touches of memory
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def kernel_run(module, X, y):
    """One epoch of the kernel over X in order, from zero weights, one model."""
    order = np.arange(X.shape[0])
    eta, positive = np.full(1, 0.001), np.ones(1, dtype=np.int64)

    def run():
        coef, intercept = np.zeros((1, X.shape[1])), np.zeros(1)
        module.logistic_epoch(X, y, order, coef, intercept, eta, positive, True)

    return run


# %%
# Timing
# ------
# Per N: the two estimators' ``fit`` (one epoch in the samples' order), the kernel, and the
# NumPy loop where N is small. Times are in nanoseconds per sample.
timings = {"fastsgd fit": {}, "SGDClassifier fit": {}, "fastsgd kernel": {}, "NumPy loop": {}}
for n in sizes:
    X, y = X_all[:n], y_all[:n]  # the first n rows: still C-contiguous, not copied
    repeats = 7 if n <= 30_000 else 5
    ours = LogisticRegression(**settings)
    theirs = SGDClassifier(loss="log_loss", **settings)
    timings["fastsgd fit"][n] = best_time(ours.fit, repeats, X, y)
    timings["SGDClassifier fit"][n] = best_time(theirs.fit, repeats, X, y)
    timings["fastsgd kernel"][n] = best_time(kernel_run(fastsgd.kernels, X, y), repeats)
    if n in reference_sizes:
        timings["NumPy loop"][n] = best_time(kernel_run(fastsgd.reference, X, y), 2)

print("       N   fastsgd fit  SGDClassifier fit  fastsgd kernel  NumPy loop   (ns per sample)")
for n in sizes:
    cells = [timings[name].get(n) for name in timings]
    print(
        f"{n:8d}"
        + "".join(
            f"{'' if t is None else f'{1e9 * t / n:.0f}':>{w}}"
            for t, w in zip(cells, (14, 19, 16, 12), strict=True)
        )
    )

# %%
# Ratios, each from the same N of this run:
for n in sizes:
    line = (
        f"N={n:>7}: fastsgd fit {timings['SGDClassifier fit'][n] / timings['fastsgd fit'][n]:.1f}x"
        " faster than SGDClassifier"
    )
    if n in timings["NumPy loop"]:
        ratio = timings["NumPy loop"][n] / timings["fastsgd kernel"][n]
        line += f"; kernel {ratio:.0f}x faster than the NumPy loop"
    print(line)

# %%
# Two numbers from the same table. The fixed cost of a fit, roughly: its time at the smallest
# N less that many samples at the per-sample cost it has at N=30,000. And where the kernel's
# own cost per sample stops being flat: the first N at which it exceeds 1.5 times its cost
# at the smallest N, if there is one.
per_sample = {name: {n: t / n for n, t in by_n.items()} for name, by_n in timings.items()}
for name in ("fastsgd fit", "SGDClassifier fit"):
    fixed = timings[name][sizes[0]] - sizes[0] * per_sample[name][30_000]
    print(f"{name}: fixed cost per fit about {1e3 * fixed:.2f} ms")
kernel = per_sample["fastsgd kernel"]
jump = next((n for n in sizes if kernel[n] > 1.5 * kernel[sizes[0]]), None)
if jump is None:
    print("kernel: within 1.5x of its smallest-N cost per sample at every N")
else:
    before = sizes[sizes.index(jump) - 1]
    print(
        f"kernel: {1e9 * kernel[before]:.0f} ns per sample at N={before:,}"
        f" ({X_all[:before].nbytes / 1e6:.0f} MB of X), {1e9 * kernel[jump]:.0f} ns"
        f" at N={jump:,} ({X_all[:jump].nbytes / 1e6:.0f} MB): the first N above 1.5x"
    )

# %%
# At small N the estimators' fixed costs (validating the parameters and the input, setting up
# the weights and the epoch loop: the estimates printed above, for either library) dominate,
# and the time per sample falls as N grows. From a few ten thousand samples on, the
# per-sample cost sets the pace and the lines run roughly parallel to the diagonal of the
# log-log plot (time proportional to N). The kernel's own cost per sample (the dashed line)
# is flat at the smaller N; where it rises (the last line printed above says at which N, on
# the machine that built these pages), the most likely reason is that X no longer fits in
# the processor's caches, so that each repeat streams it from memory again (this example
# does not measure the caches). The NumPy loop pays the Python interpreter and several small
# NumPy calls for every sample, which is why it is about two orders of magnitude slower than
# the same loop compiled (the ratios printed above).
fig, (ax_time, ax_per) = plt.subplots(1, 2, figsize=(11, 4.3))
styles = {
    "fastsgd fit": dict(color="C1", marker="o"),
    "SGDClassifier fit": dict(color="C0", marker="s"),
    "fastsgd kernel": dict(color="C1", marker="o", ls="--", mfc="none"),
    "NumPy loop": dict(color="C2", marker="^"),
}
for name, by_n in timings.items():
    ns = np.array(list(by_n))
    seconds = np.array(list(by_n.values()))
    ax_time.loglog(ns, seconds, label=name, **styles[name])
    ax_per.loglog(ns, 1e9 * seconds / ns, label=name, **styles[name])
ax_time.set_xlabel("N (samples)")
ax_time.set_ylabel("seconds per epoch (best of repeats)")
ax_time.set_title(f"one epoch, k={n_features}, float64")
ax_time.legend()
ax_per.set_xlabel("N (samples)")
ax_per.set_ylabel("nanoseconds per sample")
ax_per.set_title("the same, per sample")
fig.tight_layout()
plt.show()
