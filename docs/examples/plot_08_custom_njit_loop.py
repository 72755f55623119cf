"""
Calling the kernels from your own ``@njit`` code
================================================

The estimators are a convenient face, but fastsgd's epoch kernels are public too:
:func:`fastsgd.kernels.logistic_epoch` is the handout's update as a compiled kernel (the loop
:class:`fastsgd.LogisticRegression` runs for three or more classes and in sweeps). It runs
one epoch and can be called from Python or from inside your own Numba-compiled function.
That lets you write a training loop the estimators do not offer and still compile it end to
end, with no Python between epochs. Here: a step size that is halved whenever the loss on a
held-out set does not improve, training that stops at the first such epoch after eight
halvings, and the best weights seen kept.
"""

# %%
# The kernel from Python
# ----------------------
# ``logistic_epoch(X, y, order, coef, intercept, eta, positive_class, fit_intercept)`` trains
# K weight vectors in place (``coef`` is (K, n_features), here K=1), visiting the rows in
# ``order``, and returns each model's mean progressive log-loss. Model ``m`` learns the label
# ``y == positive_class[m]`` with step ``eta[m]``. One call in the data's order gives the
# weights of one epoch of :class:`fastsgd.LogisticRegression` with ``shuffle=False`` (a
# binary fit runs another loop for the same update, the linear engine's; the difference
# printed below is how far apart the two end):
import matplotlib.pyplot as plt
import numpy as np
from numba import njit
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from fastsgd import LogisticRegression
from fastsgd.io import load_a9a
from fastsgd.kernels import logistic_epoch

X_all, y_all = load_a9a("train")
X, X_val, y, y_val = train_test_split(X_all, y_all, test_size=0.2, random_state=0)
X, X_val = np.ascontiguousarray(X), np.ascontiguousarray(X_val)  # the kernels' layout

coef, intercept = np.zeros((1, X.shape[1])), np.zeros(1)
loss = logistic_epoch(
    X, y, np.arange(len(y)), coef, intercept, np.full(1, 0.05), np.ones(1, np.int64), True
)
model = LogisticRegression(eta0=0.05, shuffle=False, max_iter=1, tol=None).fit(X, y)
print("kernel loss:", loss, " estimator loss_curve_:", model.loss_curve_)
print("largest weight difference:", np.abs(coef - model.coef_).max())

# %%
# A training loop of your own
# ---------------------------
# Inside ``@njit`` code the kernel is called the same way. Numba compiles ``train`` and the
# kernel together on the first call (``cache=True`` keeps the machine code on disk for the
# next run). The loop shuffles with the NumPy ``Generator`` it is given, which Numba's
# compiled code can use, so the run is reproducible.


@njit(cache=True)
def validation_loss(X, y, coef, intercept):
    total = 0.0
    for i in range(X.shape[0]):
        z = intercept[0]
        for j in range(X.shape[1]):
            z += coef[0, j] * X[i, j]
        # log(1 + exp(-z)) for y=1, log(1 + exp(z)) for y=0, computed stably
        margin = z if y[i] == 1 else -z
        total += max(-margin, 0.0) + np.log1p(np.exp(-abs(margin)))
    return total / X.shape[0]


@njit(cache=True)
def train(X, y, X_val, y_val, eta0, max_epochs, max_halvings, rng):
    coef, intercept = np.zeros((1, X.shape[1])), np.zeros(1)
    best_coef, best_intercept = coef.copy(), intercept.copy()
    eta, positive = np.full(1, eta0), np.ones(1, dtype=np.int64)
    order = np.arange(X.shape[0])
    train_loss, val_loss, rate = np.zeros(max_epochs), np.zeros(max_epochs), np.zeros(max_epochs)
    best, halvings, epochs = np.inf, 0, 0
    for epoch in range(max_epochs):
        rng.shuffle(order)
        rate[epoch] = eta[0]
        train_loss[epoch] = logistic_epoch(X, y, order, coef, intercept, eta, positive, True)[0]
        val_loss[epoch] = validation_loss(X_val, y_val, coef, intercept)
        epochs = epoch + 1
        if val_loss[epoch] < best - 1e-5:
            best = val_loss[epoch]
            best_coef[:], best_intercept[:] = coef, intercept
        else:
            halvings += 1
            if halvings > max_halvings:
                break
            eta[0] *= 0.5
    return best_coef, best_intercept, train_loss[:epochs], val_loss[:epochs], rate[:epochs]


best_coef, best_intercept, train_loss, val_loss, rate = train(
    X, y, X_val, y_val, 0.2, 60, 8, np.random.default_rng(0)
)
print(f"stopped after {len(val_loss)} epochs; best validation log-loss {val_loss.min():.5f}")
for epoch, (t, v, r) in enumerate(zip(train_loss, val_loss, rate, strict=True), start=1):
    print(f"epoch {epoch:2d}  eta {r:.4f}  train (progressive) {t:.5f}  validation {v:.5f}")

# %%
# A check of the compiled validation loss against scikit-learn's ``log_loss`` for the kept
# weights, and for comparison the same number of epochs at several constant steps, with the
# estimator, as many epochs as the loop ran (shuffled by the estimator's own generator, so its
# orders differ from the loop's):
probability = 1.0 / (1.0 + np.exp(-(X_val @ best_coef[0] + best_intercept[0])))
print(f"kept weights: sklearn's log_loss {log_loss(y_val, probability):.5f}")
n_epochs = len(val_loss)
constant_loss = {}
for eta0 in (0.2, 0.05, 0.0125, 0.003125, 0.00078125):
    fixed = LogisticRegression(eta0=eta0, max_iter=n_epochs, tol=None, random_state=0)
    fixed.fit(X, y)
    constant_loss[eta0] = log_loss(y_val, fixed.predict_proba(X_val))
    print(f"constant eta0={eta0:<10}: validation log-loss {constant_loss[eta0]:.5f}")

# %%
# The large first step gets close to the optimum fast but then jumps around it; each halving
# lets the weights settle closer, until a smaller step no longer helps. The loop ends about
# where the best of these constant steps ends after as many epochs, without having to know
# that step beforehand; the large constant steps end higher, and so does the smallest, which
# moves the weights the least in as many epochs.
fig, (ax_loss, ax_rate) = plt.subplots(
    2, 1, figsize=(8, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
)
epochs = np.arange(1, n_epochs + 1)
ax_loss.plot(epochs, train_loss, "o-", ms=4, label="training (progressive)")
ax_loss.plot(epochs, val_loss, "s-", ms=4, label="validation, after the epoch")
best_epoch = int(np.argmin(val_loss)) + 1
ax_loss.plot(best_epoch, val_loss.min(), "k*", ms=14, label=f"kept: epoch {best_epoch}")
ax_loss.set_ylabel("mean log-loss")
ax_loss.set_title("a custom schedule, compiled end to end")
ax_loss.legend()
ax_rate.step(epochs, rate, where="mid", color="C2")
ax_rate.set_yscale("log")
ax_rate.set_xlabel("epoch")
ax_rate.set_ylabel("eta")
fig.tight_layout()
plt.show()
