import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real datasets beside the checkout (../shared/data); tests using them need them."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real datasets not found at {SHARED_DATA}")
    return SHARED_DATA
