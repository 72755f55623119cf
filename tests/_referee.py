"""What the referee modules share: loading one of scikit-learn's installed test files unedited
with a proxy package in place, scikit-learn's ``global_random_seed`` fixture, and the EXCLUDED
pattern matching (see tests/test_sklearn_referee.py for the rules)."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import types
import warnings
from pathlib import Path

import pytest


def proxy_package(real: types.ModuleType, **replacements) -> types.ModuleType:
    """A module with every attribute of ``real`` but ``replacements``."""
    proxy = types.ModuleType(real.__name__, real.__doc__)
    proxy.__dict__.update(vars(real))
    proxy.__dict__.update(replacements)
    return proxy


def _assertion_rewriting_loader():
    """pytest's assertion-rewriting import hook, so that a failing ``assert`` of the referee shows
    its values as in scikit-learn's own run; None (plain asserts) where pytest has none."""
    for finder in sys.meta_path:
        if type(finder).__name__ == "AssertionRewritingHook" and hasattr(finder, "exec_module"):
            return finder
    return None


def load_referee(path: Path, module_name: str, package: str, proxy: types.ModuleType):
    """Execute the test file ``path`` as module ``module_name`` while ``proxy`` stands in for the
    scikit-learn subpackage ``package`` (``sys.modules`` and the parent package's attribute);
    the real one is put back right after the exec."""
    parent_name, _, child = package.rpartition(".")
    parent = sys.modules[parent_name]
    real = sys.modules[package]
    loader = _assertion_rewriting_loader()
    spec = importlib.util.spec_from_file_location(
        module_name, path, **({"loader": loader} if loader else {})
    )
    module = importlib.util.module_from_spec(spec)
    # pickle finds the referee's classes by module name.
    sys.modules[module_name] = module
    sys.modules[package] = proxy
    setattr(parent, child, proxy)
    try:
        with warnings.catch_warnings():
            # ``pytest.mark.no_check_spmatrix`` is registered by scikit-learn's conftest only.
            warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    finally:
        sys.modules[package] = real
        setattr(parent, child, real)
    return module


def referee_tests(module: types.ModuleType) -> dict:
    """The module's test functions, to bind into a referee module's namespace."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if name.startswith("test_") and callable(obj) and not isinstance(obj, type)
    }


def global_random_seeds() -> list[int]:
    """The seeds of scikit-learn's ``global_random_seed`` fixture, from
    SKLEARN_TESTS_GLOBAL_RANDOM_SEED as in scikit-learn's conftest (42 by default)."""
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    if "-" in value:
        start, stop = value.split("-")
        seeds = list(range(int(start), int(stop) + 1))
    else:
        seeds = [int(value)]
    if min(seeds) < 0 or max(seeds) > 99:
        raise ValueError(f"SKLEARN_TESTS_GLOBAL_RANDOM_SEED must be in [0, 99], got {value!r}")
    return seeds


def pytest_generate_tests(metafunc):
    if "global_random_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_random_seed", global_random_seeds())


def compile_pattern(pattern: str) -> re.Pattern:
    """An EXCLUDED key as a regular expression: ``*`` is the only wildcard."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def exclusion_matcher(excluded: dict[str, str]):
    """A function from a test name (with its parameter id) to the reason ``excluded`` gives."""
    patterns = [(compile_pattern(key), "[" in key, reason) for key, reason in excluded.items()]

    def exclusion_reason(name: str) -> str | None:
        function = name.partition("[")[0]
        for pattern, with_params, reason in patterns:
            if pattern.fullmatch(name if with_params else function):
                return reason
        return None

    return exclusion_reason


def stale_keys(excluded: dict[str, str], tests: dict) -> list[str]:
    """Keys of ``excluded`` that name no test function (a typo would exclude nothing)."""
    return [
        key
        for key in excluded
        if not any(compile_pattern(key.partition("[")[0]).fullmatch(name) for name in tests)
    ]
