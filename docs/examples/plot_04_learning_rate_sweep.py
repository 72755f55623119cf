"""
Choosing the learning rate with LogisticRegressionSweep
=======================================================

The step size ``eta`` of the handout's update is the one setting that SGD cannot do without,
and the right value depends on the data. :class:`fastsgd.LogisticRegressionSweep` trains one
model per candidate rate, all in the same pass over the data (the kernel updates the block of
weight vectors for every sample it reads), and keeps the rate with the lowest log-loss on a
held-out validation split. This example runs it on a9a, checks each of its models against a
separate :class:`fastsgd.LogisticRegression` fit on the same split, and times both.
"""

# %%
# The sweep
# ---------
# Nine rates from 1e-4 to 1, five epochs each, 10% of the samples held out (stratified).
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter
from sklearn.metrics import log_loss

from fastsgd import LogisticRegression, LogisticRegressionSweep
from fastsgd.estimators.sweep import stratified_split
from fastsgd.io import load_a9a

X, y = load_a9a("train")
rates = np.logspace(-4, 0, 9)
sweep = LogisticRegressionSweep(eta0s=rates, max_iter=5, tol=None, random_state=0)
sweep.fit(X, y)
print(f"chosen eta0: {sweep.eta0_:.4g} (setting {sweep.best_index_})")

# %%
# The same models, one fit each
# -----------------------------
# The sweep's models should be the models that separate fits on its training part would
# give. The sweep does not expose which rows it held out, so we draw the same split with the
# function it draws it with, ``fastsgd.estimators.sweep.stratified_split`` (an internal
# helper, not public API: fine for a check like this one, not for your own code).
train, validation = stratified_split(y, sweep.validation_fraction, 0)
X_train, y_train = X[train], y[train]
X_val, y_val = X[validation], y[validation]
print(f"training part {X_train.shape[0]} rows, validation part {X_val.shape[0]} rows")

separate_loss, difference = [], []
for i, rate in enumerate(rates):
    model = LogisticRegression(eta0=rate, max_iter=5, tol=None, random_state=0)
    model.fit(X_train, y_train)
    separate_loss.append(log_loss(y_val, model.predict_proba(X_val)))
    difference.append(np.abs(model.coef_[0] - sweep.coefs_path_[i, 0]).max())

print("   eta0   validation log-loss (sweep, separate)  accuracy (sweep)  max |coef diff|")
for i, rate in enumerate(rates):
    print(
        f"{rate:7.4f}   {sweep.validation_log_loss_[i]:.6f}  {separate_loss[i]:.6f}"
        f"              {sweep.validation_accuracy_[i]:.4f}           {difference[i]:.1e}"
    )

# %%
# Up to ``eta0`` of about 0.32 the sweep's models are the separate fits' models to rounding.
# At ``eta0=1`` they differ in the first digit, and neither is wrong. The a9a rows hold 11 to
# 14 ones, so one step changes its own sample's margin ``w . x`` by up to
# ``eta0 * ||x||^2 * s'(w . x)`` times the error, with ``s' <= 1/4`` and ``||x||^2 <= 14``.
# When that factor exceeds 2 (``eta0`` above about 0.57) a step can overshoot, and SGD
# amplifies small differences instead of damping them. The sweep's block kernel, which
# updates all nine models per sample, rounds differently from a single model's loop; that
# difference of about 1e-16 then grows into a different model. Moving the initial weights by
# 1e-15 shows the same thing:
for rate in (0.5, 1.0):
    plain = LogisticRegression(eta0=rate, max_iter=1, tol=None, random_state=0)
    nudged = LogisticRegression(eta0=rate, max_iter=1, tol=None, random_state=0)
    plain.fit(X_train, y_train)
    nudged.fit(X_train, y_train, coef_init=np.full(X.shape[1], 1e-15))
    change = np.abs(plain.coef_ - nudged.coef_).max()
    print(f"eta0={rate}: initial weights moved by 1e-15, weights after one epoch by {change:.1e}")

# %%
# Time
# ----
# The sweep reads each sample once for all nine rates; the separate fits read it nine times
# (and score the validation split once each, as the sweep does). Each is timed three times,
# the best kept; all runs have compiled already. The ratio is from this one run on the
# machine that built these pages.


def time_sweep():
    LogisticRegressionSweep(eta0s=rates, max_iter=5, tol=None, random_state=0).fit(X, y)


def time_separate():
    for rate in rates:
        model = LogisticRegression(eta0=rate, max_iter=5, tol=None, random_state=0)
        model.fit(X_train, y_train)
        log_loss(y_val, model.predict_proba(X_val))


def best_of(function, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


sweep_time, separate_time = best_of(time_sweep), best_of(time_separate)
print(f"sweep: {sweep_time:.3f} s, nine separate fits: {separate_time:.3f} s")
print(f"the sweep is {separate_time / sweep_time:.1f}x faster")

# %%
# The validation curve
# --------------------
# Too small a rate has not converged in five epochs; too large a rate keeps jumping around
# the optimum. The best rates lie in between. At ``eta0=1`` the two points part.
fig, (ax_loss, ax_time) = plt.subplots(
    1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2.2, 1]}
)
ax_loss.semilogx(rates, sweep.validation_log_loss_, "-", color="C0", lw=4, alpha=0.5)
ax_loss.semilogx(rates, sweep.validation_log_loss_, "o", color="C0", label="sweep")
ax_loss.semilogx(rates, separate_loss, "x", color="C1", ms=9, label="separate fits")
ax_loss.axvline(sweep.eta0_, color="0.5", ls="--", label=f"chosen: {sweep.eta0_:.4g}")
ax_loss.set_yscale("log")
ax_loss.set_yticks([0.35, 0.5, 0.7, 1, 2])
ax_loss.yaxis.set_major_formatter(ScalarFormatter())
ax_loss.yaxis.set_minor_formatter(NullFormatter())
ax_loss.set_xlabel("eta0")
ax_loss.set_ylabel("validation log-loss (5 epochs)")
ax_loss.set_title("a9a, 10% held out")
ax_loss.legend()

ax_time.bar(["sweep", "9 fits"], [sweep_time, separate_time], color=["C0", "C1"])
ax_time.set_ylabel("seconds (best of 3)")
ax_time.set_title(f"the sweep: {separate_time / sweep_time:.1f}x faster")
fig.tight_layout()
plt.show()
