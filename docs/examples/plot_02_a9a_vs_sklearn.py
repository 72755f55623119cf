"""
Loss curves on a9a: fastsgd against scikit-learn
================================================

:class:`fastsgd.LogisticRegression` is ``sklearn.linear_model.SGDClassifier(loss="log_loss")``
with the handout's defaults. Given the same settings and the same integer ``random_state``, the
two draw the same shuffles and compute the same model, epoch after epoch. This example trains
both on the a9a data shipped with fastsgd (UCI Adult, 32,561 training and 16,281 test samples,
123 binary features) and compares their training loss, their test accuracy and their weights
after every epoch.
"""

# %%
# The data and the settings
# -------------------------
# :func:`fastsgd.io.load_a9a` returns dense float64 arrays and labels in {0, 1}. The settings
# are the handout's update plus an intercept: a constant step ``eta0=0.01``, no penalty, the
# samples reshuffled every epoch, and ``tol=None`` so that every fit runs all its epochs.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss

from fastsgd import LogisticRegression
from fastsgd.io import load_a9a

X, y = load_a9a("train")
X_test, y_test = load_a9a("test")
print(f"train {X.shape}, test {X_test.shape}, share of class 1: {y.mean():.3f}")

settings = dict(learning_rate="constant", eta0=0.01, penalty=None, tol=None, random_state=0)
n_epochs = 8

# %%
# One model per epoch
# -------------------
# With an integer ``random_state`` a fit of ``e`` epochs is the first ``e`` epochs of a longer
# fit: each library seeds its shuffle from ``random_state`` once per ``fit`` and draws a new
# order per epoch. So fitting with ``max_iter=1, 2, ..., n_epochs`` gives each library's
# model after every epoch. fastsgd also records ``loss_curve_``, each epoch's mean
# *progressive* loss (every sample's loss just before its own update), at no extra cost.
rows = []
for epochs in range(1, n_epochs + 1):
    ours = LogisticRegression(max_iter=epochs, **settings).fit(X, y)
    theirs = SGDClassifier(loss="log_loss", max_iter=epochs, **settings).fit(X, y)
    rows.append(
        (
            log_loss(y, ours.predict_proba(X)),
            log_loss(y, theirs.predict_proba(X)),
            ours.score(X_test, y_test),
            theirs.score(X_test, y_test),
            max(
                np.abs(ours.coef_ - theirs.coef_).max(),
                np.abs(ours.intercept_ - theirs.intercept_).max(),
            ),
        )
    )
loss_ours, loss_theirs, acc_ours, acc_theirs, difference = np.array(rows).T
progressive = ours.loss_curve_  # from the longest fit: one value per epoch

print("epoch  train log-loss (fastsgd, sklearn)  test accuracy (fastsgd, sklearn)  max |diff|")
for e in range(n_epochs):
    print(
        f"{e + 1:5d}  {loss_ours[e]:.10f}  {loss_theirs[e]:.10f}"
        f"      {acc_ours[e]:.5f}  {acc_theirs[e]:.5f}          {difference[e]:.1e}"
    )
print("fastsgd's loss_curve_ (progressive):", np.round(progressive, 5))
print(f"largest |weight| after epoch {n_epochs}: {np.abs(ours.coef_).max():.2f}")

# %%
# The two libraries' weights differ by a few 1e-15 at most (the last column), rounding
# differences for weights of order 1 (the order of the floating-point operations differs
# slightly), and their losses and accuracies agree to every printed digit. The progressive
# loss lies above the loss measured after the epoch in the first epoch (it starts from zero
# weights), then close to it: at a constant step the model keeps moving around the optimum
# rather than settling, which is also why the test accuracy wobbles in the third decimal
# from epoch to epoch.
fig, (ax_loss, ax_diff) = plt.subplots(1, 2, figsize=(10, 4.2))
epochs = np.arange(1, n_epochs + 1)
ax_loss.plot(epochs, progressive, "s-", color="0.6", label="fastsgd loss_curve_ (progressive)")
ax_loss.plot(epochs, loss_theirs, "-", color="C0", lw=4, alpha=0.5, label="SGDClassifier")
ax_loss.plot(epochs, loss_ours, "o", color="C1", label="fastsgd")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("mean training log-loss")
ax_loss.set_title("training loss after each epoch")
ax_loss.legend()

ax_diff.semilogy(epochs, difference, "o-", color="C3")
ax_diff.axhline(np.finfo(np.float64).eps, color="0.6", ls="--", label="float64 epsilon")
ax_diff.set_ylim(1e-17, 1e-12)
ax_diff.set_xlabel("epoch")
ax_diff.set_ylabel("max |fastsgd - sklearn| over weights")
ax_diff.set_title("the two models' weights")
ax_diff.legend()
fig.tight_layout()
plt.show()
