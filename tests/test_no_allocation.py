"""The kernels allocate nothing per sample (the net's mini-batch path nothing per batch): the
count of NRT allocations per call does not grow with the number of samples visited. Numba counts
allocations only when NUMBA_NRT_STATS=1 is set before it is imported, so the measurement runs in
a fresh interpreter."""

import json
import os
import subprocess
import sys

PROBE = r"""
import json
import numpy as np
from numba.core.runtime import rtsys
from fastsgd.kernels import logistic_epoch, net_epoch

rng = np.random.default_rng(0)
counts = {}
for n in (10, 5000):
    for dtype in (np.float32, np.float64):
        for n_models in (1, 3):
            X = rng.standard_normal((n, 7)).astype(dtype)
            y = rng.integers(0, 3, n)
            args = (X, y, rng.permutation(n), np.zeros((n_models, 7), dtype),
                    np.zeros(n_models, dtype), np.full(n_models, 0.1),
                    np.arange(n_models), True)
            logistic_epoch(*args)  # compile first
            before = rtsys.get_allocation_stats().alloc
            logistic_epoch(*args)
            after = rtsys.get_allocation_stats().alloc
            counts[f"{n}-{np.dtype(dtype).name}-{n_models}"] = after - before
        for batch_size in (1, 4):
            X = rng.standard_normal((n, 5)).astype(dtype)
            y = rng.integers(0, 3, n)
            params = (np.ones((6, 5), dtype), np.ones(6, dtype), np.ones((6, 3), dtype),
                      np.ones(3, dtype))
            args = (X, y, rng.permutation(n), *params, 0.01, 1, 0, True, batch_size)
            net_epoch(*args)
            before = rtsys.get_allocation_stats().alloc
            net_epoch(*args)
            after = rtsys.get_allocation_stats().alloc
            counts[f"{n}-{np.dtype(dtype).name}-net{batch_size}"] = after - before
print(json.dumps(counts))
"""


def test_allocations_do_not_grow_with_samples():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={**os.environ, "NUMBA_NRT_STATS": "1"},
        check=True,
    )
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    for key, allocations in counts.items():
        if key.startswith("10-"):
            large = counts[key.replace("10-", "5000-", 1)]
            assert large == allocations, (key, allocations, large)
            # a few arrays per call: the working copies and scratch vectors, and for net_epoch
            # the empty sample weights and momentum buffers of its net_sgd_epoch call
            assert 0 < allocations <= 30, (key, allocations)
