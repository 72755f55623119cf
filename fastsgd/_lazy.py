"""Module attributes imported on first use (PEP 562), so that importing a package imports only
what its caller touches: ``import fastsgd`` nothing heavy, the estimators no numba."""

import importlib
from collections.abc import Callable, Iterable
from typing import Any


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
            value = getattr(importlib.import_module(where[name]), name)
            namespace[name] = value
            return value
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
