"""Every valid layout of the same numbers trains exactly the same model.

The reference for each case is the model fitted on the plain copy of the same numbers: a
C-contiguous float64 array (float32 for float32 input in any layout or byte order; float16, int,
bool, long double and every other numeric dtype become float64, scikit-learn's rule), or for
sparse input the CSR matrix in scipy's canonical format (sorted indices, duplicates summed). The
models must be equal exactly (every fitted array, bit for bit, and predict_proba), for
LogisticRegression (the plain kernel and the penalized, averaged one), TwoLayerNet and
LogisticRegressionSweep.

Also here: C-contiguous float32/float64 input (and a canonical CSR matrix) is never copied
(tracemalloc: the peak extra memory of a fit stays far below the size of X), and nothing ever
writes to the caller's X, y, sample_weight or CSR arrays (SHA-256 of their bytes before and after
fit, partial_fit and every prediction method).
"""

import hashlib
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from fastsgd import LogisticRegression, LogisticRegressionSweep, TwoLayerNet

rng = np.random.default_rng(1)
X = rng.standard_normal((120, 5))
Y = (X[:, 0] + 0.5 * rng.standard_normal(120) > 0).astype(np.int64)
Y3 = rng.integers(0, 3, 120)
SAMPLE_WEIGHT = rng.integers(1, 4, 120).astype(np.float64)

ESTIMATORS = {
    "logistic": lambda: LogisticRegression(max_iter=3, tol=None, random_state=0),
    "logistic-penalized": lambda: LogisticRegression(
        penalty="elasticnet",
        alpha=0.01,
        average=True,
        learning_rate="invscaling",
        eta0=0.05,
        max_iter=3,
        tol=None,
        random_state=0,
    ),
    "net": lambda: TwoLayerNet(n_hidden=3, max_iter=3, tol=None, random_state=0),
    "sweep": lambda: LogisticRegressionSweep(
        eta0s=(0.01, 0.1), max_iter=3, tol=None, random_state=0
    ),
}


def fitted_arrays(estimator):
    """Every array the fit produced (public and private), by name."""
    arrays = {}
    for name, value in vars(estimator).items():
        if isinstance(value, np.ndarray) and name != "feature_names_in_":
            arrays[name] = value
        elif isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            arrays.update({f"{name}[{i}]": v for i, v in enumerate(value)})
    return arrays


def close_probabilities(got, expected):
    """Probabilities equal to rounding in their dtype (float64: 1e-12)."""
    rtol = 1e-12 if got.dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol / 1000)


def assert_same_model(model, reference, X_eval, model_X=None):
    """Every fitted array equal, bit for bit, and the same predict_proba on X_eval (the model
    reads ``model_X``, the same numbers, when given: a DataFrame for a model fitted on one)."""
    got, expected = fitted_arrays(model), fitted_arrays(reference)
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name].dtype == value.dtype, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)
    assert model.loss_curve_ == reference.loss_curve_
    assert model.n_features_in_ == reference.n_features_in_
    expected_proba = reference.predict_proba(X_eval)
    if model_X is None:
        np.testing.assert_array_equal(model.predict_proba(X_eval), expected_proba)
    else:  # a DataFrame reaches BLAS in Fortran order, which sums in another order
        close_probabilities(model.predict_proba(model_X), expected_proba)


def read_only(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


def memmap(a, tmp_path):
    path = tmp_path / "X.dat"
    writer = np.memmap(path, dtype=a.dtype, mode="w+", shape=a.shape)
    writer[:] = a
    writer.flush()
    del writer
    return np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape)


X_INT = np.round(X * 3)
# id: (the numbers as the plain reference array, the same numbers in the layout under test)
DENSE_LAYOUTS = {
    "c-float64": lambda tmp: (X, X.copy()),
    "fortran-order": lambda tmp: (X, np.asfortranarray(X)),
    "strided-rows": lambda tmp: (X, np.repeat(X, 2, axis=0)[::2]),
    "strided-columns": lambda tmp: (X, np.repeat(X, 2, axis=1)[:, ::2]),
    "offset-view": lambda tmp: (X, np.vstack([X[:1], X])[1:]),
    "transposed-view": lambda tmp: (X, np.ascontiguousarray(X.T).T),
    "read-only": lambda tmp: (X, read_only(X)),
    "memmap-read-only": lambda tmp: (X, memmap(X, tmp)),
    "big-endian-float64": lambda tmp: (X, X.astype(">f8")),
    "float32": lambda tmp: (X.astype(np.float32), X.astype(np.float32)),
    "float32-fortran": lambda tmp: (X.astype(np.float32), np.asfortranarray(X, np.float32)),
    "float32-big-endian": lambda tmp: (X.astype(np.float32), X.astype(">f4")),
    "float16": lambda tmp: (X.astype(np.float16).astype(np.float64), X.astype(np.float16)),
    "longdouble": lambda tmp: (X, X.astype(np.longdouble)),
    "int64": lambda tmp: (X_INT, X_INT.astype(np.int64)),
    "int8": lambda tmp: (X_INT, X_INT.astype(np.int8)),
    "uint8": lambda tmp: (X_INT + 10, (X_INT + 10).astype(np.uint8)),
    "bool": lambda tmp: ((X > 0).astype(np.float64), X > 0),
    "object-floats": lambda tmp: (X, X.astype(object)),
    "list-of-lists": lambda tmp: (X, X.tolist()),
}


@pytest.mark.parametrize("layout", DENSE_LAYOUTS)
@pytest.mark.parametrize("key", ESTIMATORS)
def test_dense_layouts_train_the_model_of_the_plain_copy(key, layout, tmp_path):
    numbers, data = DENSE_LAYOUTS[layout](tmp_path)
    plain = np.ascontiguousarray(numbers)
    assert plain.dtype in (np.float32, np.float64)
    reference = ESTIMATORS[key]().fit(plain, Y)
    model = ESTIMATORS[key]().fit(data, Y)
    assert_same_model(model, reference, plain)
    # Predictions read every layout too; BLAS may sum a product over another layout in another
    # order (Fortran order: 1 ulp here), so they agree to rounding, not bit for bit.
    close_probabilities(model.predict_proba(data), reference.predict_proba(plain))


# id: the labels, equal as numbers to Y, in the layout under test
LABEL_LAYOUTS = {
    "list": lambda: Y.tolist(),
    "read-only": lambda: read_only(Y),
    "strided": lambda: np.repeat(Y, 2)[::2],
    "big-endian-int64": lambda: Y.astype(">i8"),
    "big-endian-float64": lambda: Y.astype(">f8"),
    "int8": lambda: Y.astype(np.int8),
    "uint8": lambda: Y.astype(np.uint8),
    "float32": lambda: Y.astype(np.float32),
    "bool": lambda: Y.astype(bool),
    "column-vector": lambda: Y[:, None],  # scikit-learn ravels it, with a DataConversionWarning
}


# Labels take the same path into every estimator (validate_data, then encode_labels); the
# kernels see integer codes, and each new code dtype compiles each kernel anew (tens of seconds
# on a cold numba cache), so two estimators with different kernels suffice.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
@pytest.mark.parametrize("layout", LABEL_LAYOUTS)
@pytest.mark.parametrize("key", ["logistic", "net"])
def test_label_layouts_train_the_same_model(key, layout):
    reference = ESTIMATORS[key]().fit(X, Y)
    model = ESTIMATORS[key]().fit(X, LABEL_LAYOUTS[layout]())
    assert np.array_equal(model.classes_, reference.classes_)
    assert model.classes_.dtype.isnative
    reference.classes_ = model.classes_  # the labels' own dtype, compared above by value
    assert_same_model(model, reference, X)


SAMPLE_WEIGHT_LAYOUTS = {
    "list": lambda: SAMPLE_WEIGHT.tolist(),
    "read-only": lambda: read_only(SAMPLE_WEIGHT),
    "strided": lambda: np.repeat(SAMPLE_WEIGHT, 2)[::2],
    "big-endian": lambda: SAMPLE_WEIGHT.astype(">f8"),
    "int64": lambda: SAMPLE_WEIGHT.astype(np.int64),
    "float32": lambda: SAMPLE_WEIGHT.astype(np.float32),
}


@pytest.mark.parametrize("layout", SAMPLE_WEIGHT_LAYOUTS)
@pytest.mark.parametrize("key", ["logistic", "logistic-penalized"])
def test_sample_weight_layouts_train_the_same_model(key, layout):
    reference = ESTIMATORS[key]().fit(X, Y, sample_weight=SAMPLE_WEIGHT)
    model = ESTIMATORS[key]().fit(X, Y, sample_weight=SAMPLE_WEIGHT_LAYOUTS[layout]())
    assert_same_model(model, reference, X)


def test_partial_fit_takes_every_layout_like_the_plain_copy():
    reference = ESTIMATORS["logistic-penalized"]()
    model = ESTIMATORS["logistic-penalized"]()
    for numbers, data in (DENSE_LAYOUTS[key](None) for key in ("fortran-order", "strided-rows")):
        reference.partial_fit(np.ascontiguousarray(numbers), Y, classes=[0, 1])
        model.partial_fit(data, Y.astype(">i8"), classes=[0, 1])
    assert_same_model(model, reference, X)


# -- pandas ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ESTIMATORS)
def test_pandas_dataframe_and_series(key):
    pd = pytest.importorskip("pandas")
    columns = [f"f{j}" for j in range(5)]
    frame = pd.DataFrame(X, columns=columns)
    labels = pd.Series(Y, index=np.arange(120)[::-1], name="label")  # an index out of order
    reference = ESTIMATORS[key]().fit(X, Y)
    model = ESTIMATORS[key]().fit(frame, labels)
    assert list(model.feature_names_in_) == columns
    assert_same_model(model, reference, X, model_X=frame)
    np.testing.assert_array_equal(model.predict(frame), reference.predict(X))
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"f0": "other"}))


@pytest.mark.parametrize("key", ESTIMATORS)
def test_pandas_mixed_and_nullable_column_dtypes_become_float64(key):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "float32": X[:, 0].astype(np.float32),
            "int": X_INT[:, 1].astype(np.int64),
            "nullable": pd.array(X_INT[:, 2].astype(np.int64), dtype="Int64"),
            "bool": X[:, 3] > 0,
            "float64": X[:, 4],
        }
    )
    numbers = np.column_stack(
        [X[:, 0].astype(np.float32), X_INT[:, 1], X_INT[:, 2], X[:, 3] > 0, X[:, 4]]
    ).astype(np.float64)
    labels = pd.Series(Y).astype("category")
    reference = ESTIMATORS[key]().fit(numbers, Y)
    model = ESTIMATORS[key]().fit(frame, labels)
    assert_same_model(model, reference, numbers, model_X=frame)


@pytest.mark.parametrize("key", ESTIMATORS)
def test_pandas_float32_frame_stays_float32(key):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X.astype(np.float32))
    reference = ESTIMATORS[key]().fit(X.astype(np.float32), Y)
    model = ESTIMATORS[key]().fit(frame, Y)
    assert model.n_features_in_ == 5 and not hasattr(model, "feature_names_in_")  # int names
    assert_same_model(model, reference, X.astype(np.float32))


# -- sparse input (LogisticRegression) ------------------------------------------------------------

DENSE_OF_SPARSE = np.where(np.abs(X) > 0.6, X, 0.0)
CANONICAL = sp.csr_matrix(DENSE_OF_SPARSE)


def shuffled_rows(matrix, seed=0):
    """The same matrix with each row's entries stored in a random order."""
    matrix = matrix.copy()
    shuffle = np.random.default_rng(seed)
    for row in range(matrix.shape[0]):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        permutation = start + shuffle.permutation(stop - start)
        matrix.indices[start:stop] = matrix.indices[permutation]
        matrix.data[start:stop] = matrix.data[permutation]
    matrix.has_sorted_indices = False
    return matrix


def duplicated(matrix):
    """The same matrix with every entry stored twice, as two halves (halving is exact)."""
    coo = matrix.tocoo()
    rows, columns, data = coo.row, coo.col, coo.data
    order = np.argsort(np.concatenate([rows, rows]), kind="stable")
    both_rows = np.concatenate([rows, rows])[order]
    both_columns = np.concatenate([columns, columns])[order]
    both_data = np.concatenate([data / 2, data / 2])[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(both_rows, minlength=matrix.shape[0]))])
    return sp.csr_matrix((both_data, both_columns, indptr), shape=matrix.shape)


def csr_arrays(matrix, index_dtype=np.int32, writeable=True):
    arrays = [
        matrix.data.copy(),
        matrix.indices.astype(index_dtype),
        matrix.indptr.astype(index_dtype),
    ]
    for a in arrays:
        a.setflags(write=writeable)
    return sp.csr_matrix(tuple(arrays), shape=matrix.shape)


def coo_with_duplicates(matrix):
    coo = duplicated(matrix).tocoo()
    coo.has_canonical_format = False
    return coo


ROUNDED = np.round(DENSE_OF_SPARSE * 3)
# id: (the canonical CSR reference, the same numbers in the sparse layout under test)
SPARSE_LAYOUTS = {
    "csr-canonical": lambda: (CANONICAL, CANONICAL.copy()),
    "csr-int64-indices": lambda: (CANONICAL, csr_arrays(CANONICAL, np.int64)),
    "csr-unsorted": lambda: (CANONICAL, shuffled_rows(CANONICAL)),
    "csr-duplicates": lambda: (CANONICAL, duplicated(CANONICAL)),
    "csr-unsorted-duplicates": lambda: (CANONICAL, shuffled_rows(duplicated(CANONICAL))),
    "csr-unsorted-int64-read-only": lambda: (
        CANONICAL,
        csr_arrays(shuffled_rows(CANONICAL), np.int64, writeable=False),
    ),
    "csr-array": lambda: (CANONICAL, sp.csr_array(CANONICAL)),
    "csc": lambda: (CANONICAL, CANONICAL.tocsc()),
    "coo": lambda: (CANONICAL, CANONICAL.tocoo()),
    "coo-duplicates": lambda: (CANONICAL, coo_with_duplicates(CANONICAL)),
    "lil": lambda: (CANONICAL, CANONICAL.tolil()),
    "csr-float32": lambda: (CANONICAL.astype(np.float32), CANONICAL.astype(np.float32)),
    "csr-float32-unsorted": lambda: (
        CANONICAL.astype(np.float32),
        shuffled_rows(CANONICAL.astype(np.float32)),
    ),
    "csr-int-data": lambda: (sp.csr_matrix(ROUNDED), sp.csr_matrix(ROUNDED.astype(np.int32))),
    "csr-bool-data": lambda: (
        sp.csr_matrix((DENSE_OF_SPARSE != 0).astype(np.float64)),
        sp.csr_matrix(DENSE_OF_SPARSE != 0),
    ),
}
SPARSE_ESTIMATORS = {
    "logistic": ESTIMATORS["logistic"],
    "logistic-penalized": ESTIMATORS["logistic-penalized"],
    # L1 truncates each stored entry: duplicates would be truncated once per copy
    "logistic-l1": lambda: LogisticRegression(
        penalty="l1",
        alpha=0.02,
        eta0=0.1,
        max_iter=3,
        tol=1e-3,
        n_iter_no_change=1,
        random_state=0,
    ),
}


# CSR layouts that reach the kernels not canonical (scipy's conversions from CSC, COO and LIL
# sort and sum): without a penalty LogisticRegression walks them as they are, which changes only
# the rounding of its linear update; with one, it trains on a canonical copy.
STORED_AS_GIVEN = {
    "csr-unsorted", "csr-duplicates", "csr-unsorted-duplicates", "csr-unsorted-int64-read-only",
    "csr-float32-unsorted",
}  # fmt: skip


@pytest.mark.parametrize("layout", SPARSE_LAYOUTS)
@pytest.mark.parametrize("key", SPARSE_ESTIMATORS)
def test_sparse_layouts_train_the_model_of_the_canonical_csr(key, layout):
    reference_X, data = SPARSE_LAYOUTS[layout]()
    assert reference_X.has_canonical_format
    before = sparse_digest(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = SPARSE_ESTIMATORS[key]().fit(reference_X, Y)
        model = SPARSE_ESTIMATORS[key]().fit(data, Y)
    if key == "logistic" and layout in STORED_AS_GIVEN:
        got, expected = fitted_arrays(model), fitted_arrays(reference)
        assert got.keys() == expected.keys()
        for name, value in expected.items():
            assert got[name].dtype == value.dtype, name
            rtol = 1e-12 if value.dtype != np.float32 else 1e-5
            np.testing.assert_allclose(got[name], value, rtol=rtol, atol=rtol / 1000, err_msg=name)
    else:
        assert_same_model(model, reference, reference_X)
    # scipy's product sums unsorted or duplicate entries in their stored order
    close_probabilities(model.predict_proba(data), reference.predict_proba(reference_X))
    assert sparse_digest(data) == before  # canonicalised in a copy, never in place


def test_duplicates_would_train_another_model_without_canonicalisation(monkeypatch):
    """Why duplicates are summed first: the kernel steps and truncates per stored entry, so
    the raw duplicated arrays, walked as they are, give another L1 model."""
    from fastsgd.estimators import _base

    original = _base.checked_csr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        summed = SPARSE_ESTIMATORS["logistic-l1"]().fit(CANONICAL, Y)
        monkeypatch.setattr(_base, "checked_csr", lambda X, canonical: original(X, canonical=False))
        raw = SPARSE_ESTIMATORS["logistic-l1"]().fit(duplicated(CANONICAL), Y)
    assert not np.array_equal(raw.coef_, summed.coef_)


def sparse_digest(matrix):
    if not sp.issparse(matrix):
        return digest(matrix)
    parts = [matrix.data] + [
        getattr(matrix, name) for name in ("indices", "indptr", "row", "col", "rows")
        if hasattr(matrix, name)
    ]  # fmt: skip
    return [digest(part) for part in parts]


# -- never written, never copied ------------------------------------------------------------------


def digest(a):
    if isinstance(a, np.ndarray) and a.dtype == object:
        return hashlib.sha256(repr(a.tolist()).encode()).hexdigest()
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


CALLER_CASES = {
    # id: (estimator, X, y, sample_weight or None, partial_fit's classes or None for no partial_fit)
    "logistic-dense": ("logistic", X, Y, None, [0, 1]),
    "logistic-weighted": ("logistic-penalized", X, Y, SAMPLE_WEIGHT, [0, 1]),
    "logistic-multiclass": ("logistic", X, Y3, None, [0, 1, 2]),  # y reaches the kernels as is
    "logistic-float32": ("logistic", X.astype(np.float32), Y, SAMPLE_WEIGHT, [0, 1]),
    "logistic-csr": ("logistic", CANONICAL, Y, SAMPLE_WEIGHT, [0, 1]),
    "logistic-csr-unsorted-duplicates-plain": (  # the kernels read the caller's arrays
        "logistic",
        shuffled_rows(duplicated(CANONICAL)),
        Y,
        SAMPLE_WEIGHT,
        [0, 1],
    ),
    "logistic-csr-unsorted-duplicates": (
        "logistic-penalized",
        shuffled_rows(duplicated(CANONICAL)),
        Y,
        SAMPLE_WEIGHT,
        [0, 1],
    ),
    "net": ("net", X, Y, None, [0, 1]),
    "net-float32": ("net", X.astype(np.float32), Y, None, [0, 1]),
    "sweep": ("sweep", X, Y, None, None),
}


@pytest.mark.parametrize("case", CALLER_CASES)
def test_caller_arrays_are_never_written(case):
    key, data, y, sample_weight, classes = CALLER_CASES[case]
    data, y = data.copy(), y.copy()
    weights = None if sample_weight is None else sample_weight.copy()
    before = sparse_digest(data), digest(y), weights is not None and digest(weights)
    fit_kwargs = {} if weights is None else {"sample_weight": weights}
    model = ESTIMATORS[key]().fit(data, y, **fit_kwargs)
    if classes is not None:
        model.partial_fit(data, y, classes=classes, **fit_kwargs)
        model.set_params(warm_start=True).fit(data, y, **fit_kwargs)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        if hasattr(model, method):
            getattr(model, method)(data)
    model.score(data, y, sample_weight=weights)
    assert (sparse_digest(data), digest(y), weights is not None and digest(weights)) == before


def peak_fit_memory(estimator, data, y):
    """Peak bytes that numpy and Python allocate during fit (numba's own allocations are
    numpy arrays too: tracemalloc sees them)."""
    estimator.fit(data[:200], y[:200])  # compile outside the measurement
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(data, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_c_contiguous_input_is_not_copied_by_the_net(dtype):
    big = np.random.default_rng(0).standard_normal((20_000, 50)).astype(dtype)
    y = (big[:, 0] > 0).astype(np.int64)
    net = TwoLayerNet(n_hidden=8, max_iter=1, tol=None, random_state=0)
    peak = peak_fit_memory(net, big, y)
    print(f"TwoLayerNet {np.dtype(dtype)}: peak {peak} bytes for X of {big.nbytes} bytes")
    assert peak < big.nbytes / 10, f"peak {peak} bytes for an X of {big.nbytes} bytes"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_c_contiguous_input_is_not_copied_by_the_sweep(dtype):
    """The sweep copies its validation rows (validation_fraction of X), and nothing else."""
    big = np.random.default_rng(0).standard_normal((20_000, 100)).astype(dtype)
    y = (big[:, 0] > 0).astype(np.int64)
    sweep = LogisticRegressionSweep(
        eta0s=(0.01, 0.1), validation_fraction=0.1, max_iter=1, tol=None, random_state=0
    )
    peak = peak_fit_memory(sweep, big, y)
    print(f"LogisticRegressionSweep {np.dtype(dtype)}: peak {peak} bytes for X of {big.nbytes}")
    assert peak < (0.1 + 0.1) * big.nbytes, f"peak {peak} bytes for an X of {big.nbytes} bytes"


@pytest.mark.parametrize("penalty", [None, "l1"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_canonical_csr_input_is_not_copied(dtype, penalty):
    # 20 entries a row, one in each band of 50 columns: sorted and without duplicates. A fresh
    # matrix: scipy has not cached whether it is canonical, so fit checks it.
    draw = np.random.default_rng(0)
    columns = np.arange(20) * 50 + draw.integers(0, 50, (20_000, 20))
    data = draw.standard_normal(columns.size).astype(dtype)
    indptr = np.arange(0, columns.size + 1, 20)
    big = sp.csr_matrix((data, columns.ravel().astype(np.int32), indptr), shape=(20_000, 1000))
    y = draw.integers(0, 2, 20_000)
    size = big.data.nbytes + big.indices.nbytes + big.indptr.nbytes
    model = LogisticRegression(penalty=penalty, max_iter=1, tol=None, random_state=0)
    peak = peak_fit_memory(model, big, y)
    print(f"LogisticRegression CSR {np.dtype(dtype)} penalty={penalty}: peak {peak} for {size}")
    assert peak < size / 10, f"peak {peak} bytes for a CSR X of {size} bytes"


def test_fortran_order_is_copied_once():
    """The counterpart: a layout the kernels cannot walk is copied, once, into C order."""
    big = np.asfortranarray(np.random.default_rng(0).standard_normal((20_000, 50)))
    y = (big[:, 0] > 0).astype(np.int64)
    peak = peak_fit_memory(LogisticRegression(max_iter=1, tol=None, random_state=0), big, y)
    assert big.nbytes <= peak < 1.2 * big.nbytes
