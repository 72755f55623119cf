"""
Parameter mixing: ``parallel="average"`` against sequential SGD
===============================================================

Per-sample SGD is sequential by nature: each step starts from the weights the previous step
left. ``parallel="average"`` (iterative parameter mixing, Zinkevich et al. 2010) cuts each
epoch's visiting order into ``n_shards`` contiguous shards, runs the ordinary sequential SGD
on each shard from the same starting weights, and then replaces the weights by the shards'
results averaged by their sample counts. The shards can run on different threads. This
example shows what mixing does to the model on a9a, and that the number of threads
(``n_jobs``) never changes it.
"""

# %%
# Settings
# --------
# The handout's update with an intercept, a constant step ``eta0=0.05`` (large enough for
# the noise of constant-step SGD to show), ten shuffled epochs.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import log_loss

from fastsgd import LogisticRegression
from fastsgd.io import load_a9a

X, y = load_a9a("train")
X_test, y_test = load_a9a("test")
settings = dict(eta0=0.05, tol=None, random_state=0)
n_epochs = 10
variants = {"sequential": dict(parallel=None)}
for n_shards in (2, 4, 8):
    variants[f"average, {n_shards} shards"] = dict(parallel="average", n_shards=n_shards, n_jobs=2)

# %%
# Training loss after every epoch
# -------------------------------
# As in :ref:`sphx_glr_auto_examples_plot_02_a9a_vs_sklearn.py`, a fit of ``e`` epochs is the
# first ``e`` epochs of a longer one (the shuffles come from ``random_state``), so fitting with
# ``max_iter=1..10`` gives the model after each epoch. We record the training log-loss of
# each; ``loss_curve_`` of the longest fit gives the progressive loss too.
after_epoch, progressive, final = {}, {}, {}
for name, options in variants.items():
    losses = []
    for epochs in range(1, n_epochs + 1):
        model = LogisticRegression(max_iter=epochs, **settings, **options).fit(X, y)
        losses.append(log_loss(y, model.predict_proba(X)))
    after_epoch[name], progressive[name], final[name] = losses, model.loss_curve_, model

print(f"{'':22s}  {'train log-loss after epoch':^35s}  {'progressive':>11s}  {'test':>8s}")
print(
    f"{'variant':22s}  {'1':>6s}  {'10':>6s}  {'mean 2-10':>9s}  {'std 2-10':>8s}"
    f"  {'epoch 1':>11s}  {'accuracy':>8s}"
)
for name, model in final.items():
    losses = after_epoch[name]
    print(
        f"{name:22s}  {losses[0]:6.4f}  {losses[-1]:6.4f}  {np.mean(losses[1:]):9.4f}"
        f"  {np.std(losses[1:]):8.4f}  {progressive[name][0]:11.4f}"
        f"  {model.score(X_test, y_test):8.4f}"
    )
one_shard = LogisticRegression(
    max_iter=n_epochs, parallel="average", n_shards=1, n_jobs=2, **settings
).fit(X, y)
same = np.array_equal(final["sequential"].coef_, one_shard.coef_)
print("average with 1 shard is sequential SGD, bit for bit:", same)

# %%
# With one shard, 'average' is sequential SGD exactly. At a constant step, SGD never settles:
# it keeps moving around the optimum, and the weights at the end of an epoch are wherever the
# last samples left them, so the loss measured after each epoch jumps up and down. Mixing
# averages several such walks, and the average lies closer to the optimum (averaging damps
# the noise, as averaged SGD, ``average=True``, does over time): in the table, the more
# shards, the lower the mean loss after epochs 2-10, and 8 shards give the lowest and
# steadiest (the smallest standard deviation over those epochs). The progressive loss,
# measured on each shard's own walk before it is mixed, shows little of this; in the first
# epoch it is higher with more shards, because every shard starts from the initial weights
# and sees fewer samples.
fig, (ax_after, ax_prog) = plt.subplots(1, 2, figsize=(10, 4.2))
epochs = np.arange(1, n_epochs + 1)
for i, name in enumerate(variants):
    style = dict(color="k", lw=2.5) if name == "sequential" else dict(color=f"C{i}")
    marker = "" if name == "sequential" else "o"
    ax_after.plot(epochs, after_epoch[name], marker=marker, ms=4, label=name, **style)
    ax_prog.plot(epochs, progressive[name], marker=marker, ms=4, label=name, **style)
ax_after.set_title("training log-loss after each epoch")
ax_prog.set_title("loss_curve_ (progressive, during the epoch)")
for ax in (ax_after, ax_prog):
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean log-loss")
ax_after.legend()
fig.tight_layout()
plt.show()

# %%
# ``n_jobs`` never changes the model
# ----------------------------------
# ``n_shards`` is part of the model's definition: it says where the epoch is cut. ``n_jobs``
# only says how many threads run the shards, so the weights come out bit-identical whatever
# it is. Its effect is on time only. On a9a an epoch takes a few milliseconds, so the fixed
# cost of an 'average' epoch (copying the weights per shard, handing the shards to the
# threads, mixing) weighs, and on a busy machine a second thread may not pay at all (on
# larger data, a million samples of 100 features, two threads ran an epoch about twice as
# fast on the project's 2-core machine: the Speed section of fastsgd's README). The times
# below are from this run, the best of three, on the machine that built these pages.
models, times = {}, {}
for n_jobs in (1, 2):
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        model = LogisticRegression(
            max_iter=n_epochs, parallel="average", n_shards=2, n_jobs=n_jobs, **settings
        ).fit(X, y)
        best = min(best, time.perf_counter() - start)
    models[n_jobs], times[n_jobs] = model, best
same = np.array_equal(models[1].coef_, models[2].coef_) and np.array_equal(
    models[1].intercept_, models[2].intercept_
)
print("n_shards=2: n_jobs=1 and n_jobs=2 give identical weights:", same)
print("largest difference:", np.abs(models[1].coef_ - models[2].coef_).max())
print(
    f"10 epochs: n_jobs=1 {times[1]:.3f} s, n_jobs=2 {times[2]:.3f} s ({times[1] / times[2]:.2f}x)"
)

fig, ax = plt.subplots(figsize=(6, 2.8))
coef_index = np.arange(X.shape[1])
ax.plot(coef_index, models[1].coef_[0], "-", color="0.6", lw=3, label="n_jobs=1")
ax.plot(coef_index, models[2].coef_[0], ".", color="C1", label="n_jobs=2")
ax.set_xlabel("feature")
ax.set_ylabel("weight")
ax.set_title("average, 2 shards: the same weights on 1 or 2 threads")
ax.legend()
fig.tight_layout()
plt.show()
