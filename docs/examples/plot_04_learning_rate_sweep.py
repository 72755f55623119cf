"""
Choosing the learning rate with LogisticRegressionSweep
=======================================================

The step size ``eta`` of the handout's update is the one setting that SGD cannot do without,
and the right value depends on the data. :class:`fastsgd.LogisticRegressionSweep` trains one
model per candidate rate, all in the same pass over the data (the kernel updates the block of
weight vectors for every sample it reads), and keeps the rate with the lowest log-loss on a
held-out validation split. This example runs it on a9a, checks each of its models against a
sweep of that one rate alone, and times both ways.
"""

# %%
# The sweep
# ---------
# Nine rates from 1e-4 to 1, five epochs each, 10% of the samples held out (stratified).
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from fastsgd import LogisticRegression, LogisticRegressionSweep
from fastsgd.io import load_a9a

X, y = load_a9a("train")
rates = np.logspace(-4, 0, 9)
settings = dict(max_iter=5, tol=None, random_state=0)
sweep = LogisticRegressionSweep(eta0s=rates, **settings).fit(X, y)
print(f"chosen eta0: {sweep.eta0_:.4g} (setting {sweep.best_index_})")

# %%
# The same models, one rate at a time
# -----------------------------------
# The sweep's models should be the models that separate fits on its training part would
# give. The split depends only on the labels, ``validation_fraction`` and ``random_state``,
# and the shuffles only on ``random_state``, so a sweep of a single rate with the same
# ``random_state`` holds out the same rows and visits the rest in the same orders: it trains
# the one model a :class:`fastsgd.LogisticRegression` fit on the training part would (with
# the same loop, in fact), and scores it on the same validation rows. Nine such one-rate
# sweeps are nine separate fits, with the public API only.
single = [LogisticRegressionSweep(eta0s=[rate], **settings).fit(X, y) for rate in rates]
separate_loss = np.array([model.validation_log_loss_[0] for model in single])
difference = np.array(
    [np.abs(model.coef_ - sweep.coefs_path_[i]).max() for i, model in enumerate(single)]
)

print("   eta0   validation log-loss (sweep, one rate)  accuracy (sweep)  max |coef diff|")
for i, rate in enumerate(rates):
    print(
        f"{rate:7.4f}   {sweep.validation_log_loss_[i]:.6f}  {separate_loss[i]:.6f}"
        f"              {sweep.validation_accuracy_[i]:.4f}           {difference[i]:.1e}"
    )

# %%
# Up to ``eta0`` of about 0.32 the sweep's models are the one-rate models to rounding (the
# last column). At ``eta0=1`` they are different models (a weight differs by the amount in
# the last column), and neither is wrong. One step on a sample ``x`` with label ``y``
# changes that sample's margin ``w . x + b`` by ``eta0 * (||x||^2 + 1) * (y - s(w . x + b))``
# (the 1 is the intercept's), so a small change of the margin before the step comes out
# multiplied by ``1 - eta0 * (||x||^2 + 1) * s'(w . x + b)``, with ``s' <= 1/4``. While
# ``eta0 * (||x||^2 + 1) <= 8`` that factor stays within [-1, 1] and the step does not
# enlarge small differences; above 8 it can fall below -1: the step overshoots, and SGD
# amplifies small differences instead of damping them. On a9a's rows (all features 0 or 1)
# the threshold ``8 / (||x||^2 + 1)`` is:
squared_norms = np.einsum("ij,ij->i", X, X) + 1.0  # + 1: the intercept's constant feature
print(
    f"||x||^2 from {squared_norms.min() - 1:.0f} to {squared_norms.max() - 1:.0f}:"
    f" steps can overshoot above eta0 = {8 / squared_norms.max():.3f} (most ones)"
    f" to {8 / squared_norms.min():.3f} (fewest)"
)

# %%
# So 0.32 and 0.5 lie below every row's threshold and 1 above every row's. The nine-rate
# sweep updates all nine models per sample in one block loop, which rounds differently from
# the loop a single model runs (the differences of 1e-16 to 2e-14 in the table); at
# ``eta0=1`` that difference grows into a different model. Moving the initial weights of a
# fit on all the rows by 1e-15 shows the same thing:
for rate in (0.5, 1.0):
    plain = LogisticRegression(eta0=rate, max_iter=1, tol=None, random_state=0)
    nudged = LogisticRegression(eta0=rate, max_iter=1, tol=None, random_state=0)
    plain.fit(X, y)
    nudged.fit(X, y, coef_init=np.full(X.shape[1], 1e-15))
    change = np.abs(plain.coef_ - nudged.coef_).max()
    print(f"eta0={rate}: initial weights moved by 1e-15, weights after one epoch by {change:.1e}")

# %%
# Time
# ----
# The sweep reads each sample once for all nine rates; the nine one-rate sweeps read it nine
# times. Both ways draw the split, copy the validation rows and score them in every fit, so
# the ratio compares like with like. Each is timed three times, the best kept; all runs have
# compiled already. The ratio is from this one run on the machine that built these pages.


def time_sweep():
    LogisticRegressionSweep(eta0s=rates, **settings).fit(X, y)


def time_separate():
    for rate in rates:
        LogisticRegressionSweep(eta0s=[rate], **settings).fit(X, y)


def best_of(function, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


sweep_time, separate_time = best_of(time_sweep), best_of(time_separate)
print(f"sweep: {sweep_time:.3f} s, nine one-rate sweeps: {separate_time:.3f} s")
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
ax_loss.semilogx(rates, separate_loss, "x", color="C1", ms=9, label="one-rate sweeps")
ax_loss.axvline(sweep.eta0_, color="0.5", ls="--", label=f"chosen: {sweep.eta0_:.4g}")
ax_loss.set_yscale("log")
ax_loss.set_yticks([0.35, 0.5, 0.7, 1, 2])
ax_loss.yaxis.set_major_formatter(ScalarFormatter())
ax_loss.yaxis.set_minor_formatter(NullFormatter())
ax_loss.set_xlabel("eta0")
ax_loss.set_ylabel("validation log-loss (5 epochs)")
ax_loss.set_title("a9a, 10% held out")
ax_loss.legend()

ax_time.bar(["sweep", "9 one-rate"], [sweep_time, separate_time], color=["C0", "C1"])
ax_time.set_ylabel("seconds (best of 3)")
ax_time.set_title(f"the sweep: {separate_time / sweep_time:.1f}x faster")
fig.tight_layout()
plt.show()
