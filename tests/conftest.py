import os
from pathlib import Path

from fastsgd._devcache import use_source_keyed_cache

# Before anything imports numba: a Numba cache keyed by a hash of fastsgd's sources, so that a
# changed helper is never served stale from the cache (see fastsgd/_devcache.py)
use_source_keyed_cache(Path(__file__).resolve().parents[1])

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Derandomized: the same examples on every run, so CI cannot fail by the luck of a draw.
# HYPOTHESIS_PROFILE=dev explores fresh random examples.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real datasets beside the checkout (../shared/data).

    CI always has them, so there a missing folder fails the run; a checkout elsewhere skips the
    few tests that read them (the shipped a9a copy is tested either way).
    """
    if not SHARED_DATA.is_dir():
        message = f"real datasets not found at {SHARED_DATA}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA
