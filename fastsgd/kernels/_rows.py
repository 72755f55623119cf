"""One sample's pass over the weights, for dense rows and for CSR rows alike.

A data matrix reaches the kernels either as a 2-D array (dense) or as the tuple
``(data, indices, indptr)`` of a CSR matrix (int32 or int64 indices, sorted or not). A kernel
splits it once, with ``row_source``, into ``(data, indices, indptr)``: for a dense matrix
``(X, None, None)`` (CSR indices as unsigned views, see ``as_unsigned``). The helpers here take
those three and are the only code that tells the two
kinds apart, by whether ``indices`` is None (numba compiles only the branch that applies).

The update of the weights (the gradient step, the lazy average, the cumulative L1 penalty:
``truncate_l1``) is the same in both row walks of ``update_entries``. A dense row is walked
over every feature, as scikit-learn's ArrayDataset does, so dense input matches SGDClassifier
on dense input; a CSR row only over its stored entries.

Why the split: indexing a tuple of arrays inside the per-sample loop took a reference count
of each array every time (atomic increments, ~10 per sample, most of a9a's per-sample time);
three plain arrays, passed on unchanged, take none. Inside ``@njit`` code only.
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

from fastsgd.kernels._dense import (
    JIT_OPTIONS,
    VECTOR_FASTMATH,
    dense_axpy_dot,
    dense_rows_axpy_dot,
)
from fastsgd.kernels._intrinsics import prefetch_distance, prefetch_row, prefetch_span


def as_unsigned(a):
    """A C-contiguous signed integer array as the unsigned view of the same bytes (others as
    they are). CSR indices and offsets are never negative, and numba checks every signed index
    for Python's negative indexing: with unsigned ones (the entry positions from indptr, the
    columns from indices) a minimal sparse SGD loop measured 1.9x faster (50k features, 80
    nonzeros per row) and 1.4x (a9a). Row numbers stay signed: ``row + 1`` on an unsigned row
    would be a float in numba's typing, and one check per row costs nothing."""
    raise NotImplementedError("as_unsigned is only available inside @njit functions")


@overload(as_unsigned, inline="always", jit_options=JIT_OPTIONS)
def _as_unsigned(a):
    if (
        isinstance(a, types.Array) and isinstance(a.dtype, types.Integer) and a.dtype.signed
        and a.layout == "C"
    ):  # fmt: skip
        unsigned = getattr(np, f"uint{a.dtype.bitwidth}")
        return lambda a: a.view(unsigned)
    return lambda a: a


def row_source(X):
    """``(data, indices, indptr)``: the CSR tuple itself, or ``(X, None, None)``."""
    raise NotImplementedError("row_source is only available inside @njit functions")


@overload(row_source, inline="always", jit_options=JIT_OPTIONS)
def _row_source(X):
    if isinstance(X, types.BaseTuple):
        return lambda X: (X[0], as_unsigned(X[1]), as_unsigned(X[2]))
    return lambda X: (X, None, None)


def _dense(indices):
    return isinstance(indices, types.NoneType)


@njit(cache=True, nogil=True, inline="always")
def truncate_l1(w, applied, l1_total, wscale):
    """The cumulative L1 penalty of Tsuruoka, Tsujii and Ananiadou (2009) on one stored weight
    w (the true weight is wscale * w): ``l1_total`` is what every weight should have received
    so far, ``applied`` what this one has; the weight moves toward zero by the difference,
    never across it. Returns (w, applied). Scalars only: helpers that take arrays bring
    numba's reference counting into the per-weight loops."""
    before = w
    if w > 0.0:
        w = max(0.0, w - (l1_total + applied) / wscale)
    elif w < 0.0:
        w = min(0.0, w + (l1_total - applied) / wscale)
    return w, applied + wscale * (w - before)


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH, inline="always")
def dense_update_entries(
    X, row, next_row, W, m, step, AW, average_weight, Q, l1_total, wscale, averaging, l1, zero
):
    acc = zero
    squares = 0.0
    absolutes = 0.0
    if not averaging and not l1:
        # The running norms alone (penalized SGD with tol set, scikit-learn's defaults): a loop
        # without branches (SGDClassifier(max_iter=1) at k=100, float64, 1e6 samples in order:
        # 296 -> 244 ms, scikit-learn's 264-306 ms in the same runs)
        for j in range(X.shape[1]):
            w = W[m, j] + step * X[row, j]
            W[m, j] = w
            squares += w * w
            absolutes += abs(w)
            acc += w * X[next_row, j]
        return acc, squares, absolutes
    for j in range(X.shape[1]):
        x = X[row, j]
        before = W[m, j]
        added = before + step * x
        w = added
        if averaging:
            AW[m, j] += average_weight * (np.float64(added) - np.float64(before))
        if l1:
            w, Q[m, j] = truncate_l1(added, Q[m, j], l1_total, wscale)
        W[m, j] = w
        squares += added * added
        absolutes += abs(added)
        acc += w * X[next_row, j]
    return acc, squares, absolutes


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH, inline="always")
def sparse_update_entries(
    data, indices, indptr, row, next_row, W, m, step, AW, average_weight, Q, l1_total, wscale,
    averaging, l1, zero,
):  # fmt: skip
    squares = 0.0
    absolutes = 0.0
    for p in range(indptr[row], indptr[row + 1]):
        j = indices[p]
        x = data[p]
        before = W[m, j]
        added = before + step * x
        w = added
        if averaging:
            AW[m, j] += average_weight * (np.float64(added) - np.float64(before))
        if l1:
            w, Q[m, j] = truncate_l1(added, Q[m, j], l1_total, wscale)
        W[m, j] = w
        squares += added * added
        absolutes += abs(added)
    return sparse_dot(data, indices, indptr, next_row, W, m, zero), squares, absolutes


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH, inline="always")
def sparse_dot(data, indices, indptr, row, W, m, zero):
    acc = zero
    for p in range(indptr[row], indptr[row + 1]):
        acc += W[m, indices[p]] * data[p]
    return acc


def update_entries(
    data, indices, indptr, row, next_row, W, m, step, AW, average_weight, Q, l1_total, wscale,
    averaging, l1, zero,
):  # fmt: skip
    """One sample's update of W[m] over the entries of X[row], in scikit-learn's order, returning
    ``(W[m] . X[next_row], sum of squared stepped weights, sum of their absolute values)``.
    The sums are scikit-learn's running norms: after the gradient step, before the L1
    truncation. A dense row fuses the dot into the same pass over W[m]; a CSR row reads its
    next row in a second, shorter walk.

    W holds the weights divided by ``wscale`` (the L2 shrink is a change of wscale, O(1) per
    sample); ``step`` is the gradient step divided by wscale. AW is the lazily averaged vector
    (Bottou's trick, see linear.py), moved by ``average_weight`` times the change of W[m] as
    stored: with the change that W actually took (after its rounding to W's dtype) rather than
    step * x, the lazy average stays exact for float32 weights (with step * x it drifted to
    0.5% of the largest weight over 1e7 samples, against 2e-5 for the weights). Q[m, j] is the
    L1 penalty weight j has received (see ``truncate_l1``)."""
    raise NotImplementedError("update_entries is only available inside @njit functions")


@overload(update_entries, inline="always", jit_options=JIT_OPTIONS)
def _update_entries(
    data, indices, indptr, row, next_row, W, m, step, AW, average_weight, Q, l1_total, wscale,
    averaging, l1, zero,
):  # fmt: skip
    if _dense(indices):

        def dense_impl(
            data, indices, indptr, row, next_row, W, m, step, AW, average_weight, Q, l1_total,
            wscale, averaging, l1, zero,
        ):  # fmt: skip
            return dense_update_entries(
                data, row, next_row, W, m, step, AW, average_weight, Q, l1_total, wscale,
                averaging, l1, zero,
            )  # fmt: skip

        return dense_impl
    return sparse_update_entries.py_func


def row_dot(data, indices, indptr, row, W, m, zero):
    """W[m] . X[row] over the row's entries, summed in the type of ``zero``."""
    raise NotImplementedError("row_dot is only available inside @njit functions")


@overload(row_dot, inline="always", jit_options=JIT_OPTIONS)
def _row_dot(data, indices, indptr, row, W, m, zero):
    if _dense(indices):
        return lambda data, indices, indptr, row, W, m, zero: dense_axpy_dot(
            zero, data, row, W, m, row, zero
        )
    return sparse_dot.py_func


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH, inline="always")
def sparse_step_and_dot(step, data, indices, indptr, row, W, m, next_row, zero):
    for p in range(indptr[row], indptr[row + 1]):
        W[m, indices[p]] += step * data[p]
    return sparse_dot(data, indices, indptr, next_row, W, m, zero)


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH, inline="always")
def sparse_steps_and_dots(steps, data, indices, indptr, row, W, next_row, dots, zero):
    for m in range(W.shape[0]):
        dots[m] = sparse_step_and_dot(steps[m], data, indices, indptr, row, W, m, next_row, zero)


def row_step_and_dot(step, data, indices, indptr, row, W, next_row, zero):
    """``rows_step_and_dot`` for a single model, returning its dot: no round trip through
    arrays on the per-sample chain."""
    raise NotImplementedError("row_step_and_dot is only available inside @njit functions")


@overload(row_step_and_dot, inline="always", jit_options=JIT_OPTIONS)
def _row_step_and_dot(step, data, indices, indptr, row, W, next_row, zero):
    if _dense(indices):
        return lambda step, data, indices, indptr, row, W, next_row, zero: dense_axpy_dot(
            step, data, row, W, 0, next_row, zero
        )
    return lambda step, data, indices, indptr, row, W, next_row, zero: sparse_step_and_dot(
        step, data, indices, indptr, row, W, 0, next_row, zero
    )


def rows_step_and_dot(steps, data, indices, indptr, row, W, next_row, dots, zero):
    """The plain update (no averaging, no L1, no norms) of every row m of W:
    W[m] += steps[m] * X[row]; dots[m] = W[m] . X[next_row].

    Dense rows take the fused passes of _dense (four weight rows per walk over X for K >= 4);
    CSR rows one walk per weight row.
    """
    raise NotImplementedError("rows_step_and_dot is only available inside @njit functions")


@overload(rows_step_and_dot, inline="always", jit_options=JIT_OPTIONS)
def _rows_step_and_dot(steps, data, indices, indptr, row, W, next_row, dots, zero):
    if _dense(indices):

        def dense_impl(steps, data, indices, indptr, row, W, next_row, dots, zero):
            if W.shape[0] == 1:
                dots[0] = dense_axpy_dot(steps[0], data, row, W, 0, next_row, zero)
            else:
                dense_rows_axpy_dot(steps, data, row, W, next_row, dots, zero)

        return dense_impl
    return sparse_steps_and_dots.py_func


# A shuffled sparse epoch reads rows at random places, each a memory round trip: the rows
# SPARSE_ROWS_AHEAD visits ahead are prefetched. Prefetching the weights that a coming row
# will gather measured slower (a call per row).
SPARSE_ROWS_AHEAD = 8


def prefetch_distance_of(data, indices):
    """How far ahead ``prefetch_visit`` looks: prefetch_distance for dense rows (0: never),
    SPARSE_ROWS_AHEAD for CSR rows."""
    raise NotImplementedError("prefetch_distance_of is only available inside @njit functions")


@overload(prefetch_distance_of, inline="always", jit_options=JIT_OPTIONS)
def _prefetch_distance_of(data, indices):
    if _dense(indices):
        return lambda data, indices: prefetch_distance(data)
    return lambda data, indices: SPARSE_ROWS_AHEAD


def prefetch_visit(data, indices, indptr, order, i, distance):
    """Prefetch the row that visit i + distance will read."""
    raise NotImplementedError("prefetch_visit is only available inside @njit functions")


@overload(prefetch_visit, inline="always", jit_options=JIT_OPTIONS)
def _prefetch_visit(data, indices, indptr, order, i, distance):
    # Straight-line code, no branch around the arrays: numba's reference-count pruning then
    # removes the increments it adds for the inlined arguments (with an if around the
    # prefetch they stayed: eight atomic operations per visit). Near the end of the order the
    # last row is prefetched again, which is harmless.
    if _dense(indices):

        def dense_impl(data, indices, indptr, order, i, distance):
            if distance:  # 0 for long or strided rows, which are better left to the hardware
                prefetch_row(data, order[min(i + distance, order.shape[0] - 1)])

        return dense_impl

    def sparse_impl(data, indices, indptr, order, i, distance):
        ahead = order[min(i + distance, order.shape[0] - 1)]
        start, stop = indptr[ahead], indptr[ahead + 1]
        prefetch_span(data, start, stop)
        prefetch_span(indices, start, stop)

    return sparse_impl
