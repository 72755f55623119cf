import os
from pathlib import Path

import pytest
from hypothesis import settings

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
