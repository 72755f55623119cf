"""Parallel SGD: deterministic parameter averaging and lock-free Hogwild.

- ``threads``: the estimators' ``parallel='average'``: shards of each epoch run the sequential
  engine on Python threads (the kernels release the GIL), and their copies are mixed. Every
  setting of every estimator; the model depends on ``n_shards``, never on ``n_jobs``.
- ``average`` and ``hogwild``: compiled kernels, callable from ``@njit`` code, that wrap the
  sequential kernels in a ``prange`` over shards of the visiting order (the plain logistic update
  and the nets). The estimators' ``parallel='hogwild'`` runs these.
- ``_threading`` picks, on the first parallel call and never at import, a numba threading layer
  that supports concurrent callers (TBB, else OpenMP).
"""

from typing import TYPE_CHECKING

from fastsgd._lazy import attribute_loader
from fastsgd._names import STRATEGIES
from fastsgd.parallel._threading import (
    configure_threading_layer,
    parallel_region,
    resolve_n_jobs,
    threading_layer,
)

# The compiled kernels, imported when first used, so that the estimators (which import this
# package for its threads) import numba only when they train.
_KERNELS = {
    "logistic_epoch_average": "fastsgd.parallel.average",
    "net_epoch_average": "fastsgd.parallel.average",
    "net_sgd_epoch_average": "fastsgd.parallel.average",
    "logistic_epoch_hogwild": "fastsgd.parallel.hogwild",
    "net_epoch_hogwild": "fastsgd.parallel.hogwild",
    "net_sgd_epoch_hogwild": "fastsgd.parallel.hogwild",
}

if TYPE_CHECKING:
    from fastsgd.parallel.average import (
        logistic_epoch_average,
        net_epoch_average,
        net_sgd_epoch_average,
    )
    from fastsgd.parallel.hogwild import (
        logistic_epoch_hogwild,
        net_epoch_hogwild,
        net_sgd_epoch_hogwild,
    )


__getattr__ = attribute_loader(globals(), _KERNELS)


__all__ = [
    "STRATEGIES",
    "configure_threading_layer",
    "logistic_epoch_average",
    "logistic_epoch_hogwild",
    "net_epoch_average",
    "net_epoch_hogwild",
    "net_sgd_epoch_average",
    "net_sgd_epoch_hogwild",
    "parallel_region",
    "resolve_n_jobs",
    "threading_layer",
]
