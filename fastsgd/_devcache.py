"""A Numba cache for developing fastsgd that is never stale.

Numba's cache checks only the file that defines a kernel (its time stamp or, in recent versions,
its contents), not the helpers it calls from other files (``kernels/_math.py``, say): after a
change to a helper, its callers elsewhere keep loading the old machine code from the cache. The
test suite and the bench therefore use a cache folder keyed by a hash of every fastsgd source
file, ``<checkout>/.numba_cache/<hash>``: any change to the sources compiles afresh, and a
checkout that is back to an earlier state finds that state's folder again. ``NUMBA_CACHE_DIR``,
when set, wins. Only the newest few folders are kept.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

KEEP = 4  # hash folders kept beside the current one


def source_hash(package: Path) -> str:
    """A hash of the names and contents of the package's Python files."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def use_source_keyed_cache(root: Path) -> str:
    """Point ``NUMBA_CACHE_DIR`` at ``root/.numba_cache/<hash of root/fastsgd>`` unless it is set
    (call before numba is imported); returns the folder in use."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    caches = root / ".numba_cache"
    folder = caches / source_hash(root / "fastsgd")
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)  # the newest, for the pruning below
    others = sorted(
        (p for p in caches.iterdir() if p.is_dir() and p != folder),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in others[KEEP:]:
        shutil.rmtree(stale, ignore_errors=True)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return str(folder)
