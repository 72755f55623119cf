"""Parallel SGD: deterministic parameter averaging and lock-free Hogwild.

Both strategies cut an epoch's visiting order into ``n_shards`` contiguous shards:

- 'average' (iterative parameter mixing, Zinkevich et al. 2010): each shard trains its own
  copy of the weights from the same start, and the copies are averaged. Deterministic: the
  model depends on ``n_shards``, never on the number of threads.
- 'hogwild' (Niu et al. 2011): the shards' threads update one shared set of weights without
  locks. Not deterministic; it pays off when each sample touches few weights.

The compiled kernels here (``logistic_epoch_average``, ``net_epoch_average``,
``net_sgd_epoch_average`` and their ``_hogwild`` counterparts), callable from ``@njit`` code,
wrap the sequential kernels of ``fastsgd.kernels`` in a ``prange`` over the shards (the plain
logistic update and the nets): they take the sequential kernel's arguments plus ``n_shards``.
The estimators' ``parallel='hogwild'`` runs them; their ``parallel='average'`` runs the
sequential engine on Python threads instead (the kernels release the GIL), for every setting
of every estimator, and mixes the copies. The mixes differ when ``len(order) % n_shards != 0``
(shards of unequal sizes): the ``_average`` kernels here (and
``fastsgd.reference.parameter_mixing``) take the plain mean of the shards' copies, while the
estimators' ``parallel='average'`` and ``fastsgd.dask`` weight each copy by its shard's
sample count.

The kernels run on numba's threads. ``parallel_region`` sets how many and, on the first
parallel call and never at import, ``configure_threading_layer`` picks a numba threading layer
that supports concurrent callers (TBB, else OpenMP); ``resolve_n_jobs`` turns an ``n_jobs``
value into a thread count.

.. rubric:: Constants

``STRATEGIES``
    ``("average", "hogwild")``: the values of the estimators' ``parallel`` parameter.

.. rubric:: Examples

>>> import numpy as np
>>> from fastsgd.parallel import STRATEGIES, logistic_epoch_average, parallel_region
>>> STRATEGIES
('average', 'hogwild')
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((200, 3))
>>> y = (X[:, 0] > 0).astype(np.int64)
>>> coef, intercept = np.zeros((1, 3)), np.zeros(1)
>>> with parallel_region(2):
...     for epoch in range(3):
...         loss = logistic_epoch_average(
...             X, y, np.arange(200), coef, intercept, np.array([0.1]), np.array([1]), True, 4
...         )
>>> bool(np.mean((X @ coef[0] + intercept[0] > 0) == y) > 0.9)
True
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
