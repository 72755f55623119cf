"""Model files that can never run code: NumPy arrays plus JSON, in one ``.npz``.

``model.save(path)`` writes the hyperparameters (``get_params()``), the fitted scalars, the
fitted arrays and the training state that training goes on from; ``fastsgd.load(path)`` reads
them back with zipfile and NumPy's ``.npy`` header parser, never with pickle (the file opens
with ``numpy.load(..., allow_pickle=False)`` too), so a file can hold numbers and text only,
never objects. Loading checks the format and its version, the estimator class, the
hyperparameters (scikit-learn's own validation), and every array's dtype and shape against the
others, and refuses a file that does not fit with a ``ValueError`` that names the file, the
problem and the member at fault: a file that is empty, cut short or not a zip, a member that is
damaged or not a plain ``.npy`` array, a header that announces more data than the member holds
(refused before any allocation), a compressed member that claims more data than it can hold
(below), missing or extra members, metadata that is not JSON, NaN or infinite weights. Pickle
and joblib keep working as for any scikit-learn estimator; this format is for files that cross
a trust boundary.

There is no checksum of the arrays in the metadata, on purpose: the zip format already stores a
CRC-32 of every member, and loading reads each member to its end, where zipfile checks it, so a
changed byte (a weight edited from 0.5 to 0.6 in place) is refused as a damaged member. A
checksum kept inside the same file cannot stop a deliberate edit either, since whoever rewrites
the array can rewrite the checksum; to trust a file from elsewhere, compare a hash of the whole
file (``sha256sum model.npz``) against one received by another channel.

Compressed members. ``save`` stores its members uncompressed (``np.savez``), but a file repacked
by ``np.savez_compressed`` (deflate) loads as well. Before any member is read, the sizes that
the zip's central directory declares are checked, so that a small file cannot make loading
inflate gigabytes: a member must be stored (its declared size equal to its stored bytes) or
deflated (other methods are refused); no member's stored bytes may exceed the file's length; a
deflated member may declare at most ``MAX_DEFLATE_RATIO`` (1032) times its compressed bytes,
deflate's largest possible expansion (a 258-byte match coded in 2 bits), so a larger claim is a
lie; and the deflated members together may declare at most ``MAX_INFLATED_BYTES`` (1 GiB; a
stored member's bytes are in the file itself and count against no limit). Reading never goes
past the declared sizes (zipfile stops there), so these checks bound what loading allocates. A
trusted compressed file over the limit loads after raising
``fastsgd.persistence.MAX_INFLATED_BYTES``, or after saving it again uncompressed.

Training state: a loaded model's next ``partial_fit``, and a ``fit`` with ``warm_start=True``,
compute what the saved model's would have, bit for bit on a machine with the same type of CPU
(tests/test_persistence.py; the kernels' rounding can differ in the last bits between CPUs),
except under ``parallel='hogwild'``, which is not deterministic in memory either. For that the
file holds, next to the weights and ``n_iter_``, ``t_`` and ``loss_curve_``:

- SGDClassifier, SGDRegressor, LogisticRegression: when the model averages (``average``), the
  plain SGD weights and the float64 running averages that SGD goes on from (members
  ``_standard_coef``, ``_standard_intercept``, ``_average_coef``, ``_average_intercept``;
  ``coef_`` and ``intercept_`` are then the averaged weights a model predicts with), and for a
  classifier the class weights of the last call (``_expanded_class_weight``; the sweep too);
- TwoLayerNet, TwoLayerNetRegressor: the optimizer's state that ``partial_fit`` goes on from
  (the current learning rate, the no-improvement count, the best loss or validation score, the
  validation scores, and the momentum velocities), ``loss_``, ``best_loss_``,
  ``validation_scores_``, ``best_validation_score_`` and whether y was multilabel (or, for the
  regressor, 1-D). A net trained by ``fastsgd.dask`` has no optimizer state: its next
  ``partial_fit`` starts a new optimizer, loaded or not.

Versions. Files of version 2 (written by this fastsgd) hold the state above. Files of version 1
(written before) load too; they lack the linear models' averaged state and, when written before
the nets' state was stored, the net's. A version-1 file that lacks state that continuing needs
loads for prediction with ``_continue_refusal`` set to the reason, and ``partial_fit`` or a warm
``fit`` that would go on from its weights raises ``ValueError`` with that reason (a new ``fit``
clears it); a model loaded so keeps the reason when saved again. That is the case for a linear
model with ``average`` set and for a net file without the training state (no ``loss_`` among
its scalars: written before the state was stored; a version-2 file without it, which save
never writes, is refused to continue alike); every other version-1 file (a linear model
without averaging, a net file with its state, a sweep) continues as the saved model would
have (except a version-1 model with ``parallel='average'`` and ``n_jobs`` > 1: version 1 mixed
its shards with equal weights, this version by their sample counts, the same for equal
shards). SGDClassifier and LogisticRegression warm-start ``fit`` from ``coef_`` with a new average
(scikit-learn's rule), which a version-1 file holds: that ``fit`` is never refused.
Hyperparameters a version-1 file lacks take their defaults, except ``n_shards``: version 1 ran
its ``parallel`` strategy on ``n_jobs`` shards (sequentially for ``n_jobs=None``, its default),
so a version-1 file's ``n_shards`` is that count (1: sequential), not the default 4, and the
model keeps the sharding it was trained with.

Labels keep their dtype: an object array of labels (text, or numbers) is stored as the plain
array of its values and comes back as an object array, so ``predict`` returns the dtype it did.

Layout of the ``.npz``: ``__meta__`` is a 0-d unicode array holding strict JSON::

    {"format": "fastsgd-model", "version": 2, "class": "LogisticRegression",
     "params": {...}, "scalars": {"n_iter_": 7, ...}}

(``"classes_dtype": "object"`` too when the labels were an object array; ``scalars`` holds
``"_continue_refusal"`` for a model loaded from a version-1 file that could not continue) and
every other member is one fitted array (``coef_``, ``classes_``, ``_average_coef``,
``coefs_0``, ``velocities_0``, ...). A number that JSON cannot hold (``n_iter_no_change=np.inf``,
a best score of -inf, a NaN validation score) is written as ``{"float": "inf"}``,
``{"float": "-inf"}`` or ``{"float": "nan"}``, and a dict (``class_weight``), whose keys JSON
would make text, as ``{"dict": [[key, value], ...]}``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import uuid
import zipfile
import zlib
from typing import Any

import numpy as np
import scipy.sparse as sp

FORMAT = "fastsgd-model"
VERSION = 2  # what save writes
READABLE_VERSIONS = (1, 2)
META = "__meta__"

# Compressed members (see the module doc): deflate expands at most 1032:1, and the deflated
# members of one file may declare this many bytes in all.
MAX_DEFLATE_RATIO = 1032
MAX_INFLATED_BYTES = 1 << 30

# Per class: the fitted arrays (file member -> attribute, list attributes as name_0, name_1)
# and the fitted scalars. Weights are float32 or float64; classes_ numbers or text.
_NET_WEIGHTS = ["coefs_0", "coefs_1", "intercepts_0", "intercepts_1"]
_WEIGHTS = {
    "LogisticRegression": ["coef_", "intercept_"],
    "LogisticRegressionSweep": [
        "coef_", "intercept_", "coefs_path_", "intercepts_path_", "validation_log_loss_",
        "validation_accuracy_",
    ],
    "TwoLayerNet": _NET_WEIGHTS,
    "TwoLayerNetRegressor": _NET_WEIGHTS,
    "SGDClassifier": ["coef_", "intercept_"],
    "SGDRegressor": ["coef_", "intercept_"],
}  # fmt: skip
# Estimators without classes_ (the file then has no classes_ member).
_REGRESSORS = {"SGDRegressor", "TwoLayerNetRegressor"}
_NETS = {"TwoLayerNet", "TwoLayerNetRegressor"}
_SCALARS = {
    "LogisticRegression": ["n_features_in_", "n_iter_", "t_", "loss_curve_"],
    "LogisticRegressionSweep": [
        "n_features_in_", "n_iter_", "t_", "loss_curve_", "best_index_", "eta0_",
    ],
    "TwoLayerNet": ["n_features_in_", "n_iter_", "t_", "loss_curve_"],
    "TwoLayerNetRegressor": ["n_features_in_", "n_iter_", "t_", "loss_curve_", "_y_was_1d"],
    "SGDClassifier": ["n_features_in_", "n_iter_", "t_", "loss_curve_"],
    "SGDRegressor": ["n_features_in_", "n_iter_", "t_", "loss_curve_"],
}  # fmt: skip
# The nets' training state, stored when the model has it (a net file written before fastsgd kept
# it has none, a net trained by fastsgd.dask only part) and set back as it was.
_NET_STATE = [
    "loss_", "best_loss_", "validation_scores_", "best_validation_score_",
    "_no_improvement_count", "_optimizer_state",
]  # fmt: skip
_OPTIONAL_SCALARS = {
    "TwoLayerNet": ["_multilabel", *_NET_STATE],
    "TwoLayerNetRegressor": _NET_STATE,
}
# The linear engine's training state (version 2), stored when the model has it and set back as
# it was: the plain SGD weights and the float64 running averages of an averaging model (all four
# or none), and a classifier's class weights of its last call.
_AVERAGED_STATE = ["_standard_coef", "_standard_intercept", "_average_coef", "_average_intercept"]
_STATE_ARRAYS = {
    "LogisticRegression": [*_AVERAGED_STATE, "_expanded_class_weight"],
    "SGDClassifier": [*_AVERAGED_STATE, "_expanded_class_weight"],
    "SGDRegressor": _AVERAGED_STATE,
    "LogisticRegressionSweep": ["_expanded_class_weight"],
}
# A model that cannot continue training (loaded from a version-1 file without the state that
# needs) keeps its reason through save and load (version 2).
_REFUSAL = "_continue_refusal"
_LINEAR = {"LogisticRegression", "SGDClassifier", "SGDRegressor"}
# What partial_fit goes on from (TwoLayerNet._optimizer_state). Its momentum velocities are the
# members velocities_0..3, in the kernels' order and layout (W1 transposed, b1, W2, b2); the JSON
# says "arrays" for them, "zeros" when all are zero (momentum=0: not stored), or null.
_OPTIMIZER_KEYS = ("rate", "no_improvement", "best_loss", "best_score", "scores", "velocities")
_VELOCITIES = [f"velocities_{layer}" for layer in range(4)]
# Numbers strict JSON cannot hold, written as {"float": "inf"} and so on.
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _classes():
    from fastsgd.estimators import (
        LogisticRegression,
        LogisticRegressionSweep,
        SGDClassifier,
        SGDRegressor,
        TwoLayerNet,
        TwoLayerNetRegressor,
    )

    return {
        cls.__name__: cls
        for cls in (
            LogisticRegression, LogisticRegressionSweep, SGDClassifier, SGDRegressor, TwoLayerNet,
            TwoLayerNetRegressor,
        )
    }  # fmt: skip


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a hyperparameter or scalar (tuples become lists, NaN and infinities
    {"float": ...}, a dict such as class_weight {"dict": [[key, value], ...]}, which keeps the
    keys' types: JSON's object keys are text only)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        pairs = [[_plain(key), _plain(item)] for key, item in value.items()]
        if all(_key(key) for key, _ in pairs):
            return {"dict": pairs}
    elif value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"cannot store {type(value).__name__} {value!r} in a model file: only numbers, text, "
        "booleans, None, sequences of them and dicts keyed by labels (pass random_state as an "
        "int or None)"
    )


def _key(value: Any) -> bool:
    """Whether a JSON value can key a stored dict (a label: a number, text or a boolean)."""
    return type(value) in (bool, int, float, str) or (
        isinstance(value, dict) and set(value) == {"float"}
    )


def _decoded(value: Any) -> Any:
    """The JSON ``value`` with each {"float": "inf" / "-inf" / "nan"} made a float again and
    each {"dict": [[key, value], ...]} a dict."""
    if isinstance(value, dict):
        if set(value) == {"float"} and value["float"] in _NON_FINITE:
            return _NON_FINITE[value["float"]]
        pairs = value.get("dict")
        if set(value) == {"dict"} and isinstance(pairs, list):
            if all(isinstance(p, list) and len(p) == 2 and _key(p[0]) for p in pairs):
                return {_decoded(key): _decoded(item) for key, item in pairs}
        return {key: _decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


def _fitted_attribute(name: str) -> str:
    """The attribute a fitted estimator of class ``name`` has (check before save)."""
    if name not in _REGRESSORS:
        return "classes_"
    return "coefs_" if name in _NETS else "coef_"


def save(estimator, path: str | os.PathLike) -> None:
    """Write a fitted fastsgd estimator to ``path`` (an ``.npz`` file; see the module doc)."""
    name = type(estimator).__name__
    if name not in _WEIGHTS:
        raise TypeError(f"save supports {sorted(_WEIGHTS)}, not {name}")
    if not hasattr(estimator, _fitted_attribute(name)):
        raise ValueError(f"this {name} is not fitted yet: call fit before save")
    arrays = {}
    for member in _WEIGHTS[name]:
        array = _fitted_array(estimator, member)
        if sp.issparse(array):  # after sparsify()
            array = array.toarray()
        arrays[member] = np.ascontiguousarray(array)
    meta = {"format": FORMAT, "version": VERSION, "class": name}
    if name not in _REGRESSORS:
        classes = np.asarray(estimator.classes_)
        if classes.dtype.kind == "O":  # the plain array of the labels; load makes it object
            meta["classes_dtype"] = "object"
            values = np.array(classes.tolist())
            classes = values if values.dtype.kind in "iufbU" else classes.astype(str)
        arrays["classes_"] = classes
    if hasattr(estimator, "feature_names_in_"):
        arrays["feature_names_in_"] = np.asarray(estimator.feature_names_in_).astype(str)
    for member in _STATE_ARRAYS.get(name, ()):
        if member in vars(estimator):
            arrays[member] = np.ascontiguousarray(getattr(estimator, member))
    scalars = {key: _plain(getattr(estimator, key)) for key in _SCALARS[name]}
    if vars(estimator).get(_REFUSAL):
        scalars[_REFUSAL] = str(estimator._continue_refusal)
    for key in _OPTIONAL_SCALARS.get(name, ()):
        if key == "_optimizer_state" and getattr(estimator, key, None) is not None:
            scalars[key] = _optimizer_json(estimator._optimizer_state, arrays)
        elif key == "_optimizer_state":
            continue  # no state (a fastsgd.dask fit): partial_fit starts a new optimizer
        elif hasattr(estimator, key):
            scalars[key] = _plain(getattr(estimator, key))
    meta["params"] = {key: _plain(value) for key, value in estimator.get_params(deep=False).items()}
    meta["scalars"] = scalars
    text = json.dumps(meta, allow_nan=False)
    # written beside the target and renamed when complete: a failed or interrupted save never
    # leaves a partial model file (nor destroys the previous one)
    # a symbolic link keeps pointing at the file it named, now the new one
    target = os.path.realpath(os.fspath(path))
    partial = os.path.join(
        os.path.dirname(target), f".{os.path.basename(target)}.{uuid.uuid4().hex}.partial"
    )
    try:
        with open(partial, "xb") as stream:  # the umask's permissions, as a plain open
            np.savez(stream, **{META: np.array(text)}, **arrays)
        if os.path.exists(target):  # a file written over keeps its permissions
            os.chmod(partial, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise


def _optimizer_json(state: dict, arrays: dict) -> dict:
    """A net's optimizer state as JSON; its velocities go into ``arrays`` unless all zero."""
    if set(state) != set(_OPTIMIZER_KEYS):
        raise TypeError(
            f"cannot store the net's training state: its keys {sorted(state)} are not the "
            f"{sorted(_OPTIMIZER_KEYS)} this file format knows"
        )
    stored = {key: _plain(state[key]) for key in _OPTIMIZER_KEYS[:-1]}
    velocities = state["velocities"]
    if velocities is None:
        stored["velocities"] = None
    elif any(np.any(velocity) for velocity in velocities):
        stored["velocities"] = "arrays"
        for member, velocity in zip(_VELOCITIES, velocities, strict=True):
            arrays[member] = np.ascontiguousarray(velocity)
    else:
        stored["velocities"] = "zeros"
    return stored


def _fitted_array(estimator, member):
    """The array stored as ``member``: an attribute, or item i of a list for "name_i"."""
    head, _, index = member.rpartition("_")
    if index.isdigit():
        return getattr(estimator, head + "_")[int(index)]
    return getattr(estimator, member)


def _refuse(path, problem: str):
    raise ValueError(f"{os.fspath(path)!r} is not a usable fastsgd model file: {problem}")


# Reading a zip member can fail in these ways when the file is damaged or crafted (bad CRC,
# bad deflate stream, a compression method or encryption zipfile does not handle).
_DAMAGED = (OSError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error)


def _read_members(path) -> dict[str, np.ndarray]:
    """Every member of the .npz at ``path`` as an array, read by zipfile and NumPy's .npy header
    parser: no pickle, and no allocation beyond what the member's bytes can fill."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
            is_zip = zipfile.is_zipfile(handle)
    except OSError as error:
        _refuse(path, f"it cannot be read ({error})")
    if not is_zip:
        if not head:
            problem = "the file is empty"
        elif head == b"\x93NUMPY":
            problem = "it is a single .npy array"
        elif head.startswith(b"PK"):
            problem = "a truncated or damaged zip file (no end-of-archive record)"
        else:
            problem = "not a zip file"
        _refuse(path, f"it cannot be read as an .npz archive: {problem}")
    try:
        archive = zipfile.ZipFile(path)
    except (*_DAMAGED, ValueError) as error:
        _refuse(path, f"it cannot be read as an .npz archive ({error})")
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            _refuse(path, "a member name appears twice")
        _check_declared_sizes(path, infos)
        return {info.filename.removesuffix(".npy"): _read_member(path, archive, info)
                for info in infos}  # fmt: skip


def _check_declared_sizes(path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse, before anything is decompressed, a member whose sizes in the central directory
    cannot be true or would inflate past MAX_INFLATED_BYTES (see the module doc)."""
    try:
        file_bytes = os.path.getsize(path)
    except OSError as error:
        _refuse(path, f"it cannot be read ({error})")
    inflated = 0
    for info in infos:
        name = info.filename.removesuffix(".npy")
        if info.compress_size > file_bytes:
            _refuse(path, f"the member {name!r} claims {info.compress_size} bytes of data, more "
                    f"than the whole file holds ({file_bytes})")  # fmt: skip
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                _refuse(path, f"the member {name!r} is stored uncompressed, yet it declares "
                        f"{info.file_size} bytes and holds {info.compress_size}")  # fmt: skip
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > MAX_DEFLATE_RATIO * info.compress_size:
                _refuse(path, f"the member {name!r} declares {info.file_size} bytes "
                        f"from {info.compress_size} compressed, more than deflate can expand "
                        f"({MAX_DEFLATE_RATIO}:1); refused before decompressing")  # fmt: skip
            inflated += info.file_size
        else:
            _refuse(path, f"the member {name!r} uses zip compression method "
                    f"{info.compress_type}; a model file's members are stored (np.savez) or "
                    "deflated (np.savez_compressed)")  # fmt: skip
    if inflated > MAX_INFLATED_BYTES:
        _refuse(path, f"its compressed members declare {inflated} bytes in all, more than the "
                f"{MAX_INFLATED_BYTES} bytes fastsgd inflates from one model file "
                "(fastsgd.persistence.MAX_INFLATED_BYTES; refused before decompressing): raise "
                "that limit for a file you trust, or save the model uncompressed")  # fmt: skip


def _read_member(path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    name = info.filename.removesuffix(".npy")
    if not info.filename.endswith(".npy"):
        _refuse(path, f"the member {info.filename!r} is not a .npy array")
    try:
        with archive.open(info) as handle:
            try:
                version = np.lib.format.read_magic(handle)
                if version not in ((1, 0), (2, 0)):  # what np.save writes for plain arrays
                    raise ValueError(f".npy format version {version} is not supported")
                read_header = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
                shape, fortran_order, dtype = read_header(handle)
            except ValueError as error:
                _refuse(path, f"the member {name!r} is not a valid .npy array ({error})")
            if dtype.hasobject:  # an object array would be pickled
                _refuse(path, f"the member {name!r} holds something other than plain arrays "
                        "(Python objects, which would need pickle)")  # fmt: skip
            if any(length < 0 for length in shape):
                _refuse(path, f"the member {name!r} has a negative length in its shape {shape}")
            size = math.prod(shape) * dtype.itemsize
            if size != info.file_size - handle.tell():
                _refuse(path, f"the member {name!r} is cut short or padded: its header "
                        f"announces {size} bytes of data, the archive holds "
                        f"{info.file_size - handle.tell()}")  # fmt: skip
            data = handle.read(size)
            handle.read()  # to the end, where zipfile checks the member's CRC-32
    except _DAMAGED as error:
        _refuse(path, f"the member {name!r} is damaged ({error})")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    return np.array(array, order="C")  # writable and C-contiguous, as fit leaves its arrays


def load(path: str | os.PathLike):
    """Read a model written by ``save``; never unpickles anything.

    A model file is NumPy arrays plus JSON in one ``.npz``, read with zipfile and NumPy's
    ``.npy`` header parser, never with pickle, so a file can hold numbers and text only, never
    objects. Every part is checked before it is used (see Notes); a file that does not fit is
    refused.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by an estimator's ``save`` (or repacked by ``np.savez_compressed``).

    Returns
    -------
    estimator : object
        The fitted estimator, of the class that was saved (one of fastsgd's six). Its next
        ``partial_fit``, and a ``fit`` with ``warm_start=True``, compute what the saved
        model's would have, bit for bit on a machine with the same type of CPU (except under
        ``parallel='hogwild'``, which is not deterministic in memory either).

    Raises
    ------
    ValueError
        When the file is not a usable fastsgd model file; the message names the file, the
        problem and the member at fault.

    See Also
    --------
    LogisticRegression.save : Write a model file (every estimator has ``save``).

    Notes
    -----
    Loading checks the format and its version, the estimator class, the hyperparameters
    (scikit-learn's own validation), and every array's dtype and shape against the others,
    and refuses a file that is empty, cut short or not a zip, a member that is damaged or not
    a plain ``.npy`` array, a header that announces more data than the member holds (refused
    before any allocation), missing or extra members, metadata that is not JSON, NaN or
    infinite weights. The zip format's CRC-32 of each member is checked, so a changed byte is
    refused as a damaged member; to trust a file from elsewhere, compare a hash of the whole
    file (``sha256sum model.npz``) against one received by another channel.

    Compressed members: before any member is read, the sizes the zip's central directory
    declares are checked, so that a small file cannot make loading inflate gigabytes; the
    deflated members of one file may declare at most ``MAX_INFLATED_BYTES`` (1 GiB) in all.
    A trusted compressed file over the limit loads after raising
    ``fastsgd.persistence.MAX_INFLATED_BYTES``, or after saving it again uncompressed.

    Files of format version 1 (written by an earlier fastsgd) load too. One that lacks the
    training state that continuing needs (a linear model with ``average`` set, a net written
    before its optimizer state was stored) loads for prediction, and ``partial_fit`` or a
    warm ``fit`` that would go on from its weights raises a ValueError that says why.

    Pickle and joblib keep working as for any scikit-learn estimator; this format is for files
    that cross a trust boundary.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> import fastsgd
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> model = fastsgd.LogisticRegression(random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.npz")
    ...     model.save(path)
    ...     loaded = fastsgd.load(path)
    >>> type(loaded).__name__, np.array_equal(loaded.coef_, model.coef_)
    ('LogisticRegression', True)

    Training goes on as the saved model's would have:

    >>> loaded.partial_fit(X, y)
    LogisticRegression(random_state=0)
    >>> np.array_equal(loaded.coef_, model.partial_fit(X, y).coef_)
    True

    A file that is not a model file is refused, and nothing in it is run:

    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.npz")
    ...     with open(path, "w") as file:
    ...         _ = file.write("not a model")
    ...     fastsgd.load(path)
    Traceback (most recent call last):
    ...
    ValueError: '...model.npz' is not a usable fastsgd model file: ...: not a zip file
    """
    members = _read_members(path)
    if META not in members or members[META].dtype.kind != "U" or members[META].ndim != 0:
        _refuse(path, f"the {META!r} entry is missing or is not text")
    try:
        meta = _decoded(json.loads(str(members.pop(META))))
    except (json.JSONDecodeError, RecursionError) as error:
        _refuse(path, f"its metadata ({META!r}) is not valid JSON ({error})")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        _refuse(path, f"its format is {meta.get('format') if isinstance(meta, dict) else meta!r}"
                f", expected {FORMAT!r}")  # fmt: skip
    version = meta.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        _refuse(path, f"format version {version!r}; this fastsgd reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}")  # fmt: skip
    classes = _classes()
    name = meta.get("class")
    if name not in classes:
        _refuse(path, f"unknown estimator class {name!r}; expected one of {sorted(classes)}")
    params, scalars = meta.get("params"), meta.get("scalars")
    if not isinstance(params, dict) or not isinstance(scalars, dict):
        _refuse(path, "'params' and 'scalars' must be JSON objects")
    classes_dtype = meta.get("classes_dtype")
    if classes_dtype not in (None, "object") or (classes_dtype and name in _REGRESSORS):
        _refuse(path, f"classes_dtype {classes_dtype!r} is not 'object' (for a classifier)")
    defaults = classes[name]().get_params(deep=False)
    params = {  # JSON has no tuples: give back the tuple a tuple-valued default had
        key: tuple(value) if isinstance(defaults.get(key), tuple) and isinstance(value, list)
        else value
        for key, value in params.items()
    }  # fmt: skip
    if version == 1 and "n_shards" in defaults and "n_shards" not in params:
        params.update(_version_1_shards(params))
    try:
        estimator = classes[name](**params)
        estimator._validate_params()
    except (TypeError, ValueError) as error:
        _refuse(path, f"its hyperparameters are invalid ({error})")

    for key in _SCALARS[name]:
        if key not in scalars:
            _refuse(path, f"the fitted value {key!r} is missing")
    known = {*_SCALARS[name], *_OPTIONAL_SCALARS.get(name, ()), *([_REFUSAL] * (version > 1))}
    unknown = set(scalars) - known
    if unknown:
        _refuse(path, f"unexpected fitted values {sorted(unknown)}")
    _check_scalars(path, scalars)
    optimizer = scalars.get("_optimizer_state")
    velocities = optimizer["velocities"] if optimizer is not None else None
    expected = set(_WEIGHTS[name]) | (set() if name in _REGRESSORS else {"classes_"})
    if velocities == "arrays":
        expected |= set(_VELOCITIES)
    optional = {"feature_names_in_", *(_STATE_ARRAYS.get(name, ()) if version > 1 else ())}
    missing = expected - set(members)
    unexpected = set(members) - expected - optional
    if missing or unexpected:
        _refuse(path, f"missing arrays {sorted(missing)}, unexpected arrays {sorted(unexpected)}")
    averaged = [member for member in _AVERAGED_STATE if member in members]
    if averaged and len(averaged) != len(_AVERAGED_STATE):
        _refuse(path, f"the averaged SGD state needs all of {_AVERAGED_STATE}, the file has "
                f"only {averaged}")  # fmt: skip
    _check_arrays(path, name, estimator, members, scalars)

    for member in _WEIGHTS[name]:
        if not member.rpartition("_")[2].isdigit():
            setattr(estimator, member, members[member])
    if name not in _REGRESSORS:
        estimator.classes_ = members["classes_"]
        if classes_dtype == "object":
            estimator.classes_ = estimator.classes_.astype(object)
    if "feature_names_in_" in members:
        estimator.feature_names_in_ = members["feature_names_in_"].astype(object)
    for key in _SCALARS[name]:
        value = scalars[key]
        setattr(estimator, key, list(value) if key == "loss_curve_" else value)
    for member in _STATE_ARRAYS.get(name, ()):
        if member in members:
            setattr(estimator, member, members[member])
    if name in _NETS:
        _set_net_state(estimator, name, members, scalars)
    refusal = scalars.get(_REFUSAL) or _missing_state(version, name, estimator, scalars)
    if refusal:
        estimator._continue_refusal = refusal
    return estimator


def _version_1_shards(params: dict) -> dict:
    """The shard count that a version-1 model trained with, as ``n_shards``: version 1 had no
    such parameter and ran its ``parallel`` strategy on ``n_jobs`` shards (None or 1:
    sequentially; -1: one per numba thread), where ``n_shards`` now sets them (default 4)."""
    if params.get("parallel") is None:
        return {}  # sequential, whatever n_shards says
    n_jobs = params.get("n_jobs")
    if type(n_jobs) is not int or n_jobs == 0:  # None (0 failed in version 1's fit)
        return {"n_shards": 1}
    if n_jobs > 0:
        return {"n_shards": n_jobs}
    import numba

    return {"n_shards": max(1, numba.config.NUMBA_NUM_THREADS + 1 + n_jobs)}


def _missing_state(version, name, estimator, scalars) -> str | None:
    """Why a model whose file lacks the training state cannot continue training, or None when
    it can: a version-1 file of an averaging linear model, or a net file without the state
    (version 1 before the state was stored; version 2 writes it for every net)."""
    start = (
        f"this model was loaded from a version-{version} fastsgd model file, which does not hold "
    )
    end = (
        "; it can predict, but to train further fit it again without warm_start (a model file "
        "saved after that fit holds the whole state)"
    )
    if name in _LINEAR and estimator.average and version == 1:
        continuing = (
            "partial_fit goes" if name != "SGDRegressor" else "partial_fit and warm_start go"
        )
        return (
            f"{start}the averaged SGD state (the plain SGD weights and the running averages "
            f"behind the averaged coef_) that {continuing} on from{end}"
        )
    if name in _NETS and "loss_" not in scalars:  # written before model files held the state
        return (
            f"{start}the net's training state (the current learning rate, the momentum "
            "velocities, the best loss and the no-improvement count) that partial_fit and "
            f"warm_start go on from{end}"
        )
    return None


def _set_net_state(estimator, name, members, scalars):
    """A loaded net's weights, derived attributes and training state, as the saved net had them."""
    estimator.coefs_ = [members["coefs_0"], members["coefs_1"]]
    estimator.intercepts_ = [members["intercepts_0"], members["intercepts_1"]]
    n_out = members["coefs_1"].shape[1]
    estimator.n_layers_ = 3
    estimator.n_outputs_ = n_out
    if name in _REGRESSORS:
        estimator.out_activation_ = "identity"
    else:
        estimator._multilabel = scalars.get("_multilabel", False)
        multilabel = estimator._multilabel or n_out == 1
        estimator.out_activation_ = "logistic" if multilabel else "softmax"
    for key in _NET_STATE:
        if key in scalars and key != "_optimizer_state":
            value = scalars[key]
            setattr(estimator, key, list(value) if isinstance(value, list) else value)
    if scalars.get("_optimizer_state") is None:
        return
    state = dict(scalars["_optimizer_state"])
    if state["scores"] is not None:
        state["scores"] = list(state["scores"])
        if getattr(estimator, "validation_scores_", None) == state["scores"]:
            estimator.validation_scores_ = state["scores"]  # one list, as after fit
    if state["velocities"] == "arrays":
        state["velocities"] = [members[member] for member in _VELOCITIES]
    elif state["velocities"] == "zeros":
        state["velocities"] = [np.zeros_like(p) for p in estimator._get_params_arrays()]
    estimator._optimizer_state = state


def _number(value, finite=False) -> bool:
    """Whether ``value`` is a JSON number (a bool is an int to Python, not to a model)."""
    return type(value) in (int, float) and (not finite or math.isfinite(value))


def _count(value) -> bool:
    return type(value) is int and value >= 0


def _check_scalars(path, scalars):
    """The types of the fitted scalars (those a class has: see _SCALARS, _OPTIONAL_SCALARS)."""
    n_features = scalars["n_features_in_"]
    if type(n_features) is not int or n_features < 1:
        _refuse(path, f"n_features_in_ must be a positive integer, got {n_features!r}")
    if not isinstance(scalars["loss_curve_"], list) or not all(
        _number(v) for v in scalars["loss_curve_"]
    ):
        _refuse(path, "loss_curve_ must be a list of numbers")
    checks = {
        "n_iter_": (_count, "a non-negative integer"),
        "best_index_": (_count, "a non-negative integer"),
        "_no_improvement_count": (_count, "a non-negative integer"),
        "t_": (lambda v: _number(v, finite=True) and v >= 0, "a non-negative number"),
        "eta0_": (lambda v: _number(v, finite=True) and v >= 0, "a non-negative number"),
        "_multilabel": (lambda v: type(v) is bool, "true or false"),
        "_y_was_1d": (lambda v: type(v) is bool, "true or false"),
        "loss_": (lambda v: v is None or _number(v, finite=True), "a finite number or null"),
        "best_loss_": (lambda v: v is None or _number(v), "a number or null"),
        "best_validation_score_": (lambda v: v is None or _number(v), "a number or null"),
        "validation_scores_": (_scores, "a list of numbers or null"),
        "_optimizer_state": (lambda v: v is None or isinstance(v, dict), "an object or null"),
        _REFUSAL: (lambda v: isinstance(v, str) and v != "", "a non-empty text"),
    }
    for key, (check, wanted) in checks.items():
        if key in scalars and not check(scalars[key]):
            _refuse(path, f"{key} must be {wanted}, got {scalars[key]!r}")
    state = scalars.get("_optimizer_state")
    if state is None:
        return
    if set(state) != set(_OPTIMIZER_KEYS):
        _refuse(path, f"_optimizer_state must have the keys {sorted(_OPTIMIZER_KEYS)}, got "
                f"{sorted(state)}")  # fmt: skip
    state_checks = {
        "rate": (lambda v: _number(v, finite=True) and v >= 0, "a non-negative number"),
        "no_improvement": (_count, "a non-negative integer"),
        "best_loss": (lambda v: v is None or _number(v), "a number or null"),
        "best_score": (lambda v: v is None or _number(v), "a number or null"),
        "scores": (_scores, "a list of numbers or null"),
        "velocities": (lambda v: v in (None, "arrays", "zeros"), "'arrays', 'zeros' or null"),
    }
    for key, (check, wanted) in state_checks.items():
        if not check(state[key]):
            _refuse(path, f"_optimizer_state[{key!r}] must be {wanted}, got {state[key]!r}")


def _scores(value) -> bool:
    return value is None or (isinstance(value, list) and all(_number(v) for v in value))


def _check_arrays(path, name, estimator, members, scalars):
    n_features = scalars["n_features_in_"]
    multilabel = scalars.get("_multilabel", False)
    if name == "TwoLayerNetRegressor":
        coefs_1 = members["coefs_1"]
        if coefs_1.ndim != 2 or coefs_1.shape[1] < 1:
            _refuse(path, f"coefs_1 has shape {coefs_1.shape}; the model needs (n_hidden, "
                    "n_outputs)")  # fmt: skip
        n_out = coefs_1.shape[1]
        if scalars["_y_was_1d"] and n_out != 1:
            _refuse(path, f"a model fitted on a 1-D y has one output, not {n_out}")
    elif name in _REGRESSORS:
        n_out = 1
    else:
        classes = members["classes_"]
        if classes.ndim != 1 or classes.size < 2 or classes.dtype.kind not in "iufbU":
            _refuse(path, "classes_ must be a 1-D array of at least 2 numbers or strings")
        if classes.dtype.kind == "f" and not np.isfinite(classes).all():
            _refuse(path, "classes_ contains NaN or infinity")
        if np.unique(classes).size != classes.size:
            _refuse(path, "classes_ has repeated labels")
        if multilabel and (
            classes.dtype.kind not in "iu" or not np.array_equal(classes, np.arange(classes.size))
        ):
            _refuse(path, "the classes_ of a multilabel model must be 0, 1, ..., n_labels - 1")
        n_out = classes.size if multilabel or classes.size > 2 else 1
    if "feature_names_in_" in members:
        names = members["feature_names_in_"]
        if names.dtype.kind != "U" or names.shape != (n_features,):
            _refuse(path, f"feature_names_in_ must be {n_features} strings")

    if name in _NETS:
        hidden = estimator.n_hidden
        shapes = {"coefs_0": (n_features, hidden), "coefs_1": (hidden, n_out),
                  "intercepts_0": (hidden,), "intercepts_1": (n_out,)}  # fmt: skip
    elif name in _REGRESSORS:
        shapes = {"coef_": (n_features,), "intercept_": (1,)}
    else:
        shapes = {"coef_": (n_out, n_features), "intercept_": (n_out,)}
        if name == "LogisticRegressionSweep":
            n_settings = len(estimator.eta0s)
            best = scalars["best_index_"]
            if not isinstance(best, int) or not 0 <= best < n_settings:
                _refuse(path, f"best_index_ must be an integer below {n_settings}, got {best!r}")
            shapes.update(coefs_path_=(n_settings, n_out, n_features),
                          intercepts_path_=(n_settings, n_out),
                          validation_log_loss_=(n_settings,),
                          validation_accuracy_=(n_settings,))  # fmt: skip
    if _VELOCITIES[0] in members:  # the kernels' layout: W1 transposed, b1, W2, b2
        shapes.update(zip(_VELOCITIES, [(hidden, n_features), (hidden,), (hidden, n_out),
                                        (n_out,)], strict=True))  # fmt: skip
    # the linear engine's state: the plain weights in the weights' dtype, the running averages
    # and the class weights in float64
    state_shapes = {
        "_standard_coef": (n_out, n_features), "_standard_intercept": (n_out,),
        "_average_coef": (n_out, n_features), "_average_intercept": (n_out,),
        "_expanded_class_weight": (0 if name in _REGRESSORS else members["classes_"].size,),
    }  # fmt: skip
    shapes.update((member, shape) for member, shape in state_shapes.items() if member in members)
    float64_only = {"_average_coef", "_average_intercept", "_expanded_class_weight"}
    dtypes = set()
    for member, shape in shapes.items():
        array = members[member]
        if member in float64_only and array.dtype != np.float64:
            _refuse(path, f"{member} has dtype {array.dtype}; expected float64")
        if array.dtype not in (np.float32, np.float64):
            _refuse(path, f"{member} has dtype {array.dtype}; expected float32 or float64")
        if array.shape != shape:
            _refuse(path, f"{member} has shape {array.shape}; the model needs {shape}")
        if not np.all(np.isfinite(array)) and not member.startswith("validation"):
            _refuse(path, f"{member} contains NaN or infinity")
        if not member.startswith(("validation", "velocities")) and member not in float64_only:
            dtypes.add(array.dtype)
    if len(dtypes) > 1:
        _refuse(path, f"the weights mix dtypes {sorted(str(d) for d in dtypes)}")
