"""
The handout's update, sample by sample
======================================

Section 39.1 of the handout derives the stochastic gradient descent update of logistic
regression from the cross-entropy loss:

.. math::

    \\mathbf{w} \\leftarrow
    \\mathbf{w} + \\eta\\, \\mathbf{x}\\, (y - s(\\mathbf{w}\\cdot\\mathbf{x})),
    \\qquad s(\\gamma) = \\frac{1}{1 + e^{-\\gamma}}.

:class:`fastsgd.LogisticRegression` with ``fit_intercept=False`` (no bias), ``shuffle=False``
(the samples in the order given), ``learning_rate="constant"`` (the same step size throughout)
and ``max_iter=1`` (one pass) computes this update. This example writes the formula as a
literal Python loop, runs both on eight samples, and prints and plots the weights after every
sample.
"""

# %%
# A tiny data set
# ---------------
# Eight samples with two features and labels in {0, 1}, drawn once with a fixed seed.
import matplotlib.pyplot as plt
import numpy as np

from fastsgd import LogisticRegression

rng = np.random.default_rng(0)
X = rng.normal(size=(8, 2))
y = (X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=8) > 0).astype(np.int64)
eta = 0.5
print("labels:", y)

# %%
# The update, written out
# -----------------------
# ``h = s(w . x)`` is the model's probability of class 1; the step moves ``w`` along ``x`` by
# ``eta`` times the error ``y - h``. We keep every intermediate ``w``.


def s(gamma):
    return 1.0 / (1.0 + np.exp(-gamma))


w = np.zeros(2)
by_hand = [w.copy()]
for x_i, y_i in zip(X, y, strict=True):
    h = s(w @ x_i)
    w = w + eta * x_i * (y_i - h)
    by_hand.append(w.copy())
by_hand = np.array(by_hand)

# %%
# fastsgd, one epoch
# ------------------
# One ``fit`` over the eight samples gives the final weights. To see the intermediate ones
# too, ``partial_fit`` one sample at a time: each call is one step of the same update
# (``classes`` tells it both labels exist, since a single sample shows only one).
model = LogisticRegression(
    fit_intercept=False,
    shuffle=False,
    learning_rate="constant",
    eta0=eta,
    max_iter=1,
    tol=None,
)
model.fit(X, y)

stepwise = LogisticRegression(
    fit_intercept=False, shuffle=False, learning_rate="constant", eta0=eta, tol=None
)
by_fastsgd = [np.zeros(2)]
for i in range(len(y)):
    stepwise.partial_fit(X[i : i + 1], y[i : i + 1], classes=[0, 1])
    by_fastsgd.append(stepwise.coef_[0].copy())
by_fastsgd = np.array(by_fastsgd)

print(" i  y        x_1        x_2   |   w_1 (loop)   w_2 (loop) |  w_1 (fastsgd) w_2 (fastsgd)")
for i in range(len(y)):
    print(
        f"{i + 1:2d}  {y[i]}  {X[i, 0]:9.5f}  {X[i, 1]:9.5f}   |"
        f"  {by_hand[i + 1, 0]:11.8f}  {by_hand[i + 1, 1]:11.8f} |"
        f"  {by_fastsgd[i + 1, 0]:11.8f}  {by_fastsgd[i + 1, 1]:11.8f}"
    )
print("fit(), final weights:      ", model.coef_[0])
print("loop, final weights:       ", by_hand[-1])
print("largest difference, fit():           ", np.abs(model.coef_[0] - by_hand[-1]).max())
print("largest difference, every step:      ", np.abs(by_fastsgd - by_hand).max())
ulps = np.abs(by_fastsgd - by_hand) / np.spacing(np.abs(by_hand))
print("the same, units in the last place:   ", ulps.max())
print("intercept (fit_intercept=False):     ", model.intercept_)

# %%
# The two compute the same update and agree to rounding: the largest differences printed
# above are below 2e-16, a few units in the last place of float64 (the two evaluate the same
# formula with its operations in a slightly different order). ``loss_curve_`` holds the
# epoch's mean *progressive* cross-entropy, each sample's loss just before its own update;
# the loop can compute it the same way, and the two agree to rounding as well.
progressive = np.mean(
    [
        -(y_i * np.log(s(w_i @ x_i)) + (1 - y_i) * np.log(1 - s(w_i @ x_i)))
        for w_i, x_i, y_i in zip(by_hand[:-1], X, y, strict=True)
    ]
)
print("loss_curve_:", model.loss_curve_, " loop:", progressive)

# %%
# The weight trajectory
# ---------------------
# Each step moves ``w`` along the sample's ``x`` (towards it for a label 1, away for a 0) by
# ``eta |y - h|`` times ``x``: the further the prediction was from the label, the longer the
# step, for a given ``x``.
fig, (ax_path, ax_steps) = plt.subplots(1, 2, figsize=(10, 4.2))
ax_path.plot(by_hand[:, 0], by_hand[:, 1], "-", color="0.6", lw=3, label="literal loop")
ax_path.plot(by_fastsgd[:, 0], by_fastsgd[:, 1], "o", color="C1", label="fastsgd")
for i, (w1, w2) in enumerate(by_fastsgd):
    ax_path.annotate(str(i), (w1, w2), textcoords="offset points", xytext=(5, 5))
ax_path.set_xlabel("$w_1$")
ax_path.set_ylabel("$w_2$")
ax_path.set_title("$\\mathbf{w}$ after each sample (0 = start)")
ax_path.legend()

steps = np.arange(len(by_hand))
for j in range(2):
    ax_steps.plot(steps, by_hand[:, j], "-", color="0.6", lw=3)
    ax_steps.plot(steps, by_fastsgd[:, j], "o", color=f"C{j}", label=f"$w_{j + 1}$")
ax_steps.set_xlabel("samples seen")
ax_steps.set_ylabel("weight")
ax_steps.set_title("the same, per coordinate (lines: the loop)")
ax_steps.legend()
fig.tight_layout()
plt.show()
