"""Parallel SGD kernels: deterministic parameter averaging and lock-free Hogwild.

``average`` and ``hogwild`` each wrap the sequential kernels of ``fastsgd.kernels`` in a
``prange`` over shards of the visiting order; ``_threading`` picks a numba threading layer that
supports concurrent callers (TBB, else OpenMP).
"""

from fastsgd.parallel._threading import (
    configure_threading_layer,
    parallel_region,
    resolve_n_jobs,
    threading_layer,
)

configure_threading_layer()

from fastsgd.parallel.average import (  # noqa: E402
    logistic_epoch_average,
    net_epoch_average,
    net_sgd_epoch_average,
)
from fastsgd.parallel.hogwild import (  # noqa: E402
    logistic_epoch_hogwild,
    net_epoch_hogwild,
    net_sgd_epoch_hogwild,
)

STRATEGIES = ("average", "hogwild")

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
