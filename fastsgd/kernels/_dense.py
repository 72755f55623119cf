"""Vector loops over dense C-contiguous rows, shared by every kernel.

They take the array and a row index rather than a row view, which keeps reference counting out
of the per-sample loops. The per-row loops are inlined into their callers by numba
(``inline="always"``): a call with two arrays costs ~14 ns at k=10 here, a third of an epoch's
per-sample time. Inlined code takes the caller's flags, so every caller carries VECTOR_FASTMATH.
"""

from numba import njit, types
from numba.extending import overload

from fastsgd.kernels._vector import rows_axpy_dot4

# Reassociation lets LLVM vectorise the dot-product reductions (without it the epoch at k=100 is
# about 2.7x the streaming floor instead of 2x; see bench/); contraction allows FMA. Both change
# rounding order only: NaN and inf still propagate (no 'nnan'/'ninf'), which the estimators rely
# on to detect bad input and divergence after an epoch. Only these vector loops get the flags; the
# scalar loss math in _math does not.
VECTOR_FASTMATH = {"reassoc", "contract"}
JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": VECTOR_FASTMATH}


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH, inline="always")
def dense_axpy_dot(step, X, row, W, m, next_row, zero):
    """W[m] += step * X[row], then return W[m] . X[next_row], in one pass over W[m].

    Fusing the update of one sample with the forward read of the next halves the passes over the
    weights and shortens the chain of dependent work per sample (measured ~15% at k=100).
    With step = 0 it is a plain dot product. Indexing (rather than passing row views) keeps
    reference counting out of the loop. The dot is accumulated in the type of ``zero``.
    For one row LLVM's own vectorization of this loop measured faster than the explicit vector
    code of _vector (40 vs 48 ns per sample, binary logistic epoch, k=10 float64).
    """
    acc = zero
    for j in range(X.shape[1]):
        w = W[m, j] + step * X[row, j]
        W[m, j] = w
        acc += w * X[next_row, j]
    return acc


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH, inline="always")
def axpy_dot4_loop(steps, X, row, W, first, next_row, out, zero):
    """dense_axpy_dot4 as a plain loop, for arrays the vector code does not take."""
    step0, step1 = steps[first], steps[first + 1]
    step2, step3 = steps[first + 2], steps[first + 3]
    acc0 = acc1 = acc2 = acc3 = zero
    for j in range(X.shape[1]):
        x = X[row, j]
        x_next = X[next_row, j]
        w0 = W[first, j] + step0 * x
        w1 = W[first + 1, j] + step1 * x
        w2 = W[first + 2, j] + step2 * x
        w3 = W[first + 3, j] + step3 * x
        W[first, j] = w0
        W[first + 1, j] = w1
        W[first + 2, j] = w2
        W[first + 3, j] = w3
        acc0 += w0 * x_next
        acc1 += w1 * x_next
        acc2 += w2 * x_next
        acc3 += w3 * x_next
    out[first] = acc0
    out[first + 1] = acc1
    out[first + 2] = acc2
    out[first + 3] = acc3


def _vector_code_applies(X, W, zero):
    """The explicit vector pass needs 2-D C-contiguous X and W of one float dtype, summed in it."""
    return (
        isinstance(X, types.Array) and isinstance(W, types.Array)
        and X.ndim == 2 and W.ndim == 2 and X.layout == "C" and W.layout == "C"
        and X.dtype == W.dtype == zero and X.dtype in (types.float32, types.float64)
    )  # fmt: skip


def dense_axpy_dot4(steps, X, row, W, first, next_row, out, zero):
    """dense_axpy_dot for rows first..first+3 of W at once, sharing the reads of X.

    Writes the four dots to out[first:first + 4]. Four rows per sweep measured 2.7x faster than
    four single-row sweeps at H=32, k=100, float32 (471 vs 1284 ns per sample). For C-contiguous
    float arrays it is the explicit vector code of _vector (see there why), else a plain loop.
    Inside ``@njit`` code only; inlined into the caller.
    """
    raise NotImplementedError("dense_axpy_dot4 is only available inside @njit functions")


@overload(dense_axpy_dot4, inline="always", jit_options=JIT_OPTIONS)
def _dense_axpy_dot4(steps, X, row, W, first, next_row, out, zero):
    if not _vector_code_applies(X, W, zero):
        return axpy_dot4_loop.py_func

    def impl(steps, X, row, W, first, next_row, out, zero):
        dots = rows_axpy_dot4(
            W, first, X, row, next_row,
            steps[first], steps[first + 1], steps[first + 2], steps[first + 3],
        )  # fmt: skip
        out[first] = dots[0]
        out[first + 1] = dots[1]
        out[first + 2] = dots[2]
        out[first + 3] = dots[3]

    return impl


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def dense_rows_axpy_dot(steps, X, row, W, next_row, out, zero):
    """For every row m of W: W[m] += steps[m] * X[row]; out[m] = W[m] . X[next_row]."""
    n_rows = W.shape[0]
    first = 0
    while first + 4 <= n_rows:
        dense_axpy_dot4(steps, X, row, W, first, next_row, out, zero)
        first += 4
    for m in range(first, n_rows):
        out[m] = dense_axpy_dot(steps[m], X, row, W, m, next_row, zero)


@njit(cache=True, nogil=True, fastmath=VECTOR_FASTMATH)
def subtract_scaled(W, scale, G):
    """W -= scale * G for 2-D arrays, in place, without a temporary."""
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            W[i, j] -= scale * G[i, j]
