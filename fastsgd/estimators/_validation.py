"""Input checks and conversions of the estimators: every bad input gets a ValueError or
TypeError that names it, and C-contiguous float32/float64 input (or canonical CSR) is never
copied."""

import numpy as np
import scipy.sparse as sp

# dtypes that numpy turns into floats without complaint although they are not features:
# strings parsed as numbers, dates as their tick counts, records field by field.
NOT_NUMBERS = {
    "U": "strings",
    "S": "bytes",
    "M": "dates",
    "m": "time spans",
    "V": "structured records",
}


def refuse_non_numeric(value, name, estimator_name):
    """Raise a ValueError naming ``name`` when ``value`` has a dtype that is not numbers.

    Arrays and sparse matrices carry one dtype, a pandas DataFrame one per column (a check per
    column, never per value); other input is converted by validate_data, and a failed
    conversion is explained by ``explain_unreadable``.
    """
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, np.dtype):
        _refuse_dtype(dtype, name, estimator_name)
        return
    dtypes = getattr(value, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):  # a DataFrame
        for column, column_dtype in dtypes.items():
            _refuse_dtype(column_dtype, f"{name} column {column!r}", estimator_name)


def _refuse_dtype(dtype, name, estimator_name):
    kind = getattr(dtype, "kind", None)
    if kind == "c":  # scikit-learn's wording, which its estimator checks look for
        raise ValueError(
            f"Complex data not supported: {name} has dtype {dtype}; {estimator_name} needs "
            "real numbers."
        )
    # pandas' string dtypes have kind "O", as object columns of numbers do
    what = NOT_NUMBERS.get(kind) or ("strings" if str(dtype) in ("str", "string") else None)
    if what:
        raise ValueError(
            f"{name} has dtype {dtype} ({what}); {estimator_name} needs numbers (float, int or "
            f"bool): convert {name} first."
        )


def explain_unreadable(value, name, error):
    """After ``error`` from converting input that holds ``value``: if ``value`` itself cannot be
    read as floats, raise the same exception type with a message that names ``name``.

    Runs on the failure path only, so the extra conversion costs nothing on valid input. The
    original message stays part of the new one (scikit-learn's estimator checks match it)."""
    if sp.issparse(value):
        return
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as conversion:
        if str(conversion) in str(error):
            raise type(error)(f"{name} cannot be read as an array of numbers: {error}") from error


def as_float_array(value, name, dtype, *, copy, estimator_name):
    """``value`` (a user's initial weights, say) as an array of ``dtype``, or a clear error."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise ValueError(f"{name} cannot be read as an array of numbers: {error}") from error
    refuse_non_numeric(array, name, estimator_name)
    try:
        # np.array(copy=None) needs NumPy 2; asarray copies only when it must
        return np.array(array, dtype=dtype, copy=True) if copy else np.asarray(array, dtype)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name} cannot be read as an array of numbers: {error}") from error


def float_dtypes(X):
    """The dtype(s) validate_data may give X: float32 stays float32 and float64 stays float64 in
    either byte order (numba reads native order only, so a byte-swapped one is converted to
    the native one); anything else becomes float64, scikit-learn's rule."""
    dtype = getattr(X, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize in (4, 8):
        if not dtype.isnative:
            return dtype.newbyteorder("=")
    return [np.float64, np.float32]


def checked_csr(X, *, canonical):
    """A CSR matrix the kernels (or scipy's products) can walk without reading or writing out of
    bounds; with ``canonical``, also one in scipy's canonical format (sorted indices, no
    duplicates).

    scipy builds a CSR matrix from any (data, indices, indptr) without checking the column
    indices, and neither does check_array: an index past the last column would make the kernels
    write outside the weights. The kernels read the indices as unsigned integers, so one
    reduction over that view catches negative ones as well (0.05 ms on a9a's 451,592 entries).

    The kernels walk a row's entries in stored order, which changes only the rounding of the
    plain update (it is linear in x), but a penalty truncates and measures the weights once per
    stored entry. With ``canonical``, a matrix that is not canonical is therefore replaced by a
    canonical copy, duplicates summed as scipy's sum_duplicates does; the caller's matrix is
    never modified. scipy's check is one pass over the indices (0.4 ms on a9a), cached on the
    matrix, which is why it is asked for only when it matters."""
    indices, indptr = X.indices, X.indptr
    n_stored = X.data.shape[0]
    if (
        indices.shape[0] != n_stored or indptr.shape[0] != X.shape[0] + 1
        or indptr[0] != 0 or indptr[-1] != n_stored or np.any(indptr[1:] < indptr[:-1])
    ):  # fmt: skip
        raise ValueError(
            "X is not a valid CSR matrix: its indptr must start at 0, never decrease and end "
            "at the number of stored entries."
        )
    if n_stored and indices.view(f"u{indices.dtype.itemsize}").max() >= X.shape[1]:
        raise ValueError(
            f"X is not a valid CSR matrix: it stores column indices outside [0, {X.shape[1]}), "
            f"the {X.shape[1]} columns of its shape."
        )
    if canonical and not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X
