"""Time from a fresh Python process to the first finished fit.

Runs the same child process twice or more: the first run fills Numba's on-disk cache if it is
empty (cold), the later ones load compiled kernels from it (warm). Each child reports its own
clock from interpreter start (before `import fastsgd`) to the end of its first `fit`; the parent
also reports the whole process wall time, interpreter start-up included.

    python bench/first_fit.py [--runs 3]
"""

import argparse
import subprocess
import sys
import time

CHILD = r"""
import time
t0 = time.perf_counter()
import numpy as np
import fastsgd
t_import = time.perf_counter()
rng = np.random.default_rng(0)
X = rng.standard_normal((1000, 20))
y = (X[:, 0] > 0).astype(int)
fastsgd.LogisticRegression(max_iter=5, tol=None, random_state=0).fit(X, y)
t_fit = time.perf_counter()
print(f"{t_import - t0:.3f} {t_fit - t0:.3f}")
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for run in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
        ).stdout.split()
        wall = time.perf_counter() - start
        label = "first (cache filled if empty)" if run == 0 else "warm cache"
        print(
            f"run {run + 1} [{label}]: import fastsgd {float(out[0]):.3f} s, first fit done "
            f"{float(out[1]):.3f} s after interpreter start; process wall time {wall:.3f} s"
        )


if __name__ == "__main__":
    main()
