"""Shared by the test suite (tests/) and the docstring examples (fastsgd/, `--doctest-modules`)."""

import os
from pathlib import Path

from fastsgd._devcache import use_source_keyed_cache

# Before anything imports numba: a Numba cache keyed by a hash of fastsgd's sources, so that a
# changed helper is never served stale from the cache (see fastsgd/_devcache.py)
use_source_keyed_cache(Path(__file__).resolve().parent)

# Docstring examples draw figures nowhere and never wait on a display.
os.environ.setdefault("MPLBACKEND", "Agg")
