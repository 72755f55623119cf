"""
A drop-in for SGDClassifier, every loss
=======================================

:class:`fastsgd.SGDClassifier` takes scikit-learn's parameters, with their defaults and their
meaning, and computes the same model: swapping the import is the whole change. This example
fits both libraries with each of the nine losses ``SGDClassifier`` offers and measures how far
apart their weights end up. It also shows when "the same model" cannot mean "the same
digits": when SGD's steps are so large that it is chaotic, any two implementations that round
differently (or one implementation started 1e-15 away) end at different models.
"""

# %%
# Data and the comparison
# -----------------------
# A generated binary problem, 4,000 samples and 20 features. For each loss we fit both
# libraries with the same parameters and the same ``random_state`` (so the same shuffles) and
# record the largest difference of their weights, relative to the largest weight, and the
# share of the training samples on which their predictions agree.
import matplotlib.pyplot as plt
import numpy as np
import sklearn.linear_model
from sklearn.datasets import make_classification

import fastsgd

X, y = make_classification(n_samples=4000, n_features=20, n_informative=10, random_state=0)
losses = [
    "hinge",
    "log_loss",
    "modified_huber",
    "squared_hinge",
    "perceptron",
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
]


def relative_difference(a, b):
    return np.abs(a.coef_ - b.coef_).max() / np.abs(a.coef_).max()


def compare(**params):
    """Per loss: (relative weight difference, share of equal predictions, sklearn's largest
    weight, fastsgd's largest weight)."""
    rows = []
    for loss in losses:
        theirs = sklearn.linear_model.SGDClassifier(loss=loss, **params).fit(X, y)
        ours = fastsgd.SGDClassifier(loss=loss, **params).fit(X, y)
        agree = np.mean(theirs.predict(X) == ours.predict(X))
        largest = np.abs(theirs.coef_).max(), np.abs(ours.coef_).max()
        rows.append((relative_difference(theirs, ours), agree, *largest))
    return np.array(rows)


common = dict(max_iter=10, tol=None, random_state=0)

# %%
# A constant step
# ---------------
# With ``learning_rate="constant", eta0=0.001`` (and the default ``penalty="l2"``), and once
# more with ``penalty="elasticnet"`` and averaged SGD from the 10th sample on, every loss gives
# the same weights to rounding, well within 1e-13 relative (the largest difference is printed
# below the table), and the same predictions.
constant = dict(learning_rate="constant", eta0=0.001, **common)
plain = compare(**constant)
averaged = compare(penalty="elasticnet", average=10, **constant)
print("loss                          relative |diff|: l2     elasticnet+average   predictions")
for i, loss in enumerate(losses):
    same = min(plain[i, 1], averaged[i, 1])
    print(f"{loss:28s}  {plain[i, 0]:14.1e}  {averaged[i, 0]:19.1e}   {same:8.1%} equal")
print(f"largest relative difference: {max(plain[:, 0].max(), averaged[:, 0].max()):.1e}")

# %%
# scikit-learn's defaults: a chaotic start
# ----------------------------------------
# ``SGDClassifier``'s default schedule is ``learning_rate="optimal"``,
# ``eta = 1 / (alpha (t0 + t - 1))`` for the sample numbered ``t`` (counted from 1 over the
# whole fit), with ``t0`` set by Bottou's heuristic so that the first step is
# ``sqrt(1 / sqrt(alpha))``: 10 at the default ``alpha=1e-4``, a very large step. On
# this data, for the losses with a smooth gradient, the first epochs are then chaotic: a
# rounding difference grows step after step, as in a butterfly effect. To see that this is a
# property of the algorithm rather than of either library, we compare scikit-learn with
# itself, once from zero weights and once from weights of 1e-15.
defaults = compare(**common)
nudged_rows = []
for loss in losses:
    start = sklearn.linear_model.SGDClassifier(loss=loss, **common).fit(X, y)
    nudged = sklearn.linear_model.SGDClassifier(loss=loss, **common)
    nudged.fit(X, y, coef_init=np.full(X.shape[1], 1e-15))
    nudged_rows.append(relative_difference(start, nudged))
nudged_rows = np.array(nudged_rows)

print("                                relative |diff|              largest |weight|")
print("loss                          fastsgd vs sklearn  sklearn nudged   sklearn  fastsgd")
for i, loss in enumerate(losses):
    print(
        f"{loss:28s}  {defaults[i, 0]:17.1e}  {nudged_rows[i]:14.1e}"
        f"  {defaults[i, 2]:8.1e}  {defaults[i, 3]:7.1e}"
    )

# %%
# For ``hinge`` and ``epsilon_insensitive`` the two libraries still agree to rounding: their
# gradient takes only a few values and changes only where a margin crosses a threshold (1 for
# the hinge, ``epsilon`` for the other), which a difference of 1e-16 rarely moves a margin
# across. ``perceptron`` agrees too, but a nudge moves its model: its threshold is 0, and from
# zero weights the first margins are exactly 0, so the nudge decides on which side they fall.
# For the other losses the two libraries differ about as much as scikit-learn differs from
# itself nudged by 1e-15, and for the three squared losses both libraries' weights blow up to
# a few 1e12 (the last two columns: the default schedule's first steps are far too large for
# these losses).
# A comparison of two SGD implementations is only meaningful where SGD is stable; in a
# chaotic fit, the weights of either library are one of many equally valid outcomes. (A
# difference of exactly 0, scikit-learn against itself for two losses, is drawn at the bottom
# of the plot.)
fig, (ax_stable, ax_chaos) = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
positions = np.arange(len(losses))
floor = 1e-17  # a difference of exactly 0 is drawn at the floor


def bars(ax, values, offset, label, color):
    ax.bar(positions + offset, np.maximum(values, floor), width=0.38, label=label, color=color)


bars(ax_stable, plain[:, 0], -0.2, "penalty='l2'", "C0")
bars(ax_stable, averaged[:, 0], 0.2, "'elasticnet', average=10", "C1")
ax_stable.set_title("constant eta0=0.001: fastsgd vs scikit-learn")
bars(ax_chaos, defaults[:, 0], -0.2, "fastsgd vs scikit-learn", "C3")
bars(ax_chaos, nudged_rows, 0.2, "scikit-learn vs itself, start nudged by 1e-15", "0.55")
ax_chaos.set_title("scikit-learn's defaults ('optimal' schedule)")
for ax in (ax_stable, ax_chaos):
    ax.set_yscale("log")
    ax.set_ylim(floor / 2, 1e8)
    ax.axhline(np.finfo(np.float64).eps, color="k", ls=":", lw=1)
    ax.set_xticks(positions, losses, rotation=45, ha="right")
    ax.legend(loc="upper left", fontsize=8)
ax_stable.set_ylabel("max |weight difference| / max |weight|")
fig.tight_layout()
plt.show()
