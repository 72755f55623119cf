"""Module attributes imported on first use (PEP 562), so that importing a package imports only
what its caller touches: ``import fastsgd`` nothing heavy, the estimators no numba."""

import importlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

# One lock for every lazy import: two threads that first touch two kernels at once would
# otherwise import two submodules of a package that is not yet initialised, each holding its
# module's import lock while waiting for the other's (measured: a deadlock error in 6 of 12
# fresh processes)
_IMPORTING = threading.RLock()


def attribute_loader(
    namespace: dict, where: dict[str, str], submodules: Iterable[str] = ()
) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``where[name]`` is the module that defines ``name``; the value is
    imported on first use and kept in ``namespace`` (the module's globals), so later look-ups
    skip the loader. ``submodules`` are imported by name."""
    package = namespace["__name__"]
    submodules = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in where:
            with _IMPORTING:
                if name not in namespace:  # another thread may have loaded it meanwhile
                    namespace[name] = getattr(importlib.import_module(where[name]), name)
            return namespace[name]
        if name in submodules:
            with _IMPORTING:
                return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
