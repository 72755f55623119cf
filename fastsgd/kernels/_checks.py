"""Argument checks at the entry of the public kernels.

The kernels index without bounds checks (numba's default), so an ``order`` entry past the last
row, a label past the last output unit or weights of the wrong width would read or write
outside the arrays: a crash or silently corrupted memory. Each public kernel therefore checks
its arguments once per call and raises a ValueError that names the argument. The checks are
O(1), plus one pass over ``order`` (and over the visited labels for a softmax net): a few
percent of a pass over the rows, far less than an epoch.

Not checked (documented preconditions): CSR ``indices`` below the number of features (a pass
over every stored entry; the estimators check it once per fit), and the array dtypes (numba's
typing refuses what it cannot compile).
"""

from numba import njit, types
from numba.extending import overload

from fastsgd.kernels._dense import JIT_OPTIONS


def rows_and_features(X):
    """(n_rows, n_features) of a dense X, or (n_rows, -1) of a CSR tuple (its width is the
    weights')."""
    raise NotImplementedError("rows_and_features is only available inside @njit functions")


@overload(rows_and_features, inline="always", jit_options=JIT_OPTIONS)
def _rows_and_features(X):
    if isinstance(X, types.BaseTuple):
        return lambda X: (X[2].shape[0] - 1, -1)
    return lambda X: (X.shape[0], X.shape[1])


@njit(cache=True, nogil=True)
def check_visits(X, y, order):
    """y has one label per row of X and every entry of order names a row."""
    n_rows, _ = rows_and_features(X)
    if y.shape[0] != n_rows:
        raise ValueError("y must have one label per row of X (y.shape[0] != number of rows)")
    if order.shape[0] == 0:
        return
    # a min/max reduction (vector code) and one test, not a branch per visit
    lowest, highest = order[0], order[0]
    for i in range(order.shape[0]):
        lowest = min(lowest, order[i])
        highest = max(highest, order[i])
    if lowest < 0 or highest >= n_rows:
        raise ValueError("order holds a row number outside [0, number of rows of X)")


@njit(cache=True, nogil=True)
def check_models(X, coef, intercept, rates, positive_class):
    """A (K, n_features) block of weights with K intercepts, rates and positive classes."""
    _, n_features = rows_and_features(X)
    n_models = coef.shape[0]
    if n_features >= 0 and coef.shape[1] != n_features:
        raise ValueError("coef must have one column per feature of X (coef.shape[1] != k)")
    if intercept.shape[0] != n_models:
        raise ValueError("intercept must have one entry per row of coef")
    if rates.shape[0] != n_models:
        raise ValueError("eta (the rates) must have one entry per row of coef")
    if positive_class.shape[0] != n_models:
        raise ValueError("positive_class must have one entry per row of coef")


@njit(cache=True, nogil=True)
def check_linear(X, y, order, sample_weight, rates, positive_class, class_weight, settings, state):
    """The arguments of linear_sgd_epoch."""
    check_visits(X, y, order)
    check_models(X, state.coef, state.intercept, rates, positive_class)
    n_models, n_features = state.coef.shape
    if sample_weight is not None and sample_weight.shape[0] != y.shape[0]:
        raise ValueError("sample_weight must have one weight per row of X")
    if class_weight.shape[0] != n_models or class_weight.shape[1] != 2:
        raise ValueError("class_weight must have shape (K, 2)")
    lengths = (
        state.t.shape[0], state.l1_total.shape[0], state.sq_norm.shape[0],
        state.l1_norm.shape[0], state.wscale.shape[0], state.average_a.shape[0],
        state.average_b.shape[0], state.average_intercept.shape[0],
    )  # fmt: skip
    for length in lengths:
        if length != n_models:
            raise ValueError("every (K,) array of the LinearSGDState needs K = coef.shape[0]")
    for shape in (state.average_coef.shape, state.l1_applied.shape):
        if shape[1] != 0 and (shape[0] != n_models or shape[1] != n_features):
            raise ValueError(
                "average_coef and l1_applied must have coef's shape, or (K, 0) when unused"
            )
    # the settings decide what the loops touch: an empty array they would index is refused
    if settings.average_start > 0 and state.average_coef.shape[1] != n_features:
        raise ValueError("averaging (average_start > 0) needs average_coef of coef's shape")
    if settings.l1_strength > 0 and state.l1_applied.shape[1] != n_features:
        raise ValueError("an L1 penalty (l1_strength > 0) needs l1_applied of coef's shape")
