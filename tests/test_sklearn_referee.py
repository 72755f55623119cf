"""scikit-learn's own SGD tests, run unedited against fastsgd.SGDClassifier and SGDRegressor.

The referee is the ``sklearn/linear_model/tests/test_sgd.py`` of the installed scikit-learn. This
module loads that file as a fresh module (importlib: ``spec_from_file_location``,
``module_from_spec``, ``exec_module``) while ``sklearn.linear_model`` is, for the duration of that
one ``exec_module`` only, a proxy module: every attribute of the real ``sklearn.linear_model``
except ``SGDClassifier`` and ``SGDRegressor``, which are fastsgd's. test_sgd.py does
``from sklearn import linear_model``, so the proxy stays its global ``linear_model`` afterwards:
its module-level subclasses (``_SparseSGDClassifier(linear_model.SGDClassifier)``), its factory
functions (``SGDClassifier(**kwargs)`` returns ``linear_model.SGDClassifier(**kwargs)``) and its
parametrizations over ``linear_model.SGDClassifier`` all get fastsgd's classes. The real
``sklearn.linear_model`` (``sys.modules`` entry and attribute of the ``sklearn`` package) is put
back right after the exec, so nothing else in the session sees the proxy.

Every ``test_*`` function of the loaded file is bound in this module's namespace, marks and
parametrizations included, so pytest collects them here; no assertion is copied or edited.

Exclusions live in ``EXCLUDED`` below, one dict: a key is a test name pattern, the value the
reason. A key without ``[`` matches a test function (every parameter set of it); a key with ``[``
matches the full test name with its parameter id, e.g. ``test_foo[SGDClassifier]``. ``*`` is the
only wildcard (``[`` and ``]`` are literal). The first matching key wins. An excluded test is
``xfail(strict=True)``, so it fails loudly once it passes and its entry must go; a test whose
reason is in ``SKIPPED_REASONS`` (it cannot run at all, or is out of scope) is skipped instead.
SGDOneClassSVM is not part of fastsgd: its tests and the SGDOneClassSVM parameter sets of mixed
tests are skipped. Failures that are bugs or missing features of fastsgd do not belong in
``EXCLUDED``: they stay failing until fixed.

Run the referee alone (``-n 2`` on two cores; the first run compiles numba kernels)::

    python -m pytest tests/test_sklearn_referee.py -q -n 2

and scikit-learn's own run of the same file, against its own estimators, for comparison::

    python -m pytest --pyargs sklearn.linear_model.tests.test_sgd -q -p no:cacheprovider

A test id here is the one scikit-learn's run shows, under this module
(``tests/test_sklearn_referee.py::test_warm_start[constant-SGDClassifier]``). As in
scikit-learn's conftest, ``SKLEARN_TESTS_GLOBAL_RANDOM_SEED`` (``42`` by default, ``all``, ``N``
or ``N-M``) sets the seeds of the ``global_random_seed`` fixture.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import sklearn
import sklearn.linear_model
from _referee import (
    exclusion_matcher,
    load_referee,
    proxy_package,
    pytest_generate_tests,  # noqa: F401  (scikit-learn's global_random_seed fixture)
    referee_tests,
    stale_keys,
)

import fastsgd

OUT_OF_SCOPE = "SGDOneClassSVM is out of scope"

# Test name pattern -> reason. See the module docstring for the pattern syntax and the marks.
EXCLUDED: dict[str, str] = {
    # -- SGDOneClassSVM: not a fastsgd estimator (skipped) --------------------------------------
    "*oneclass*": OUT_OF_SCOPE,
    "*one_class*": OUT_OF_SCOPE,
    "test_ocsvm_vs_sgdocsvm": OUT_OF_SCOPE,
    "*[*OneClassSVM*]": OUT_OF_SCOPE,
    # -- scikit-learn's private attributes and functions (xfail, strict) ------------------------
    "test_validation_mask_correctly_subsets": (
        "mocks scikit-learn's private _stochastic_gradient._ValidationScoreCallback, which "
        "fastsgd never calls (its early stopping scores the held-out rows itself)"
    ),
}

# Reasons whose tests are skipped rather than marked xfail(strict=True).
SKIPPED_REASONS = frozenset({OUT_OF_SCOPE})

REFEREE_PATH = Path(sklearn.linear_model.__file__).parent / "tests" / "test_sgd.py"
REFEREE_MODULE_NAME = "_fastsgd_referee_sklearn_test_sgd"


# -- loading the referee ----------------------------------------------------------------------


def _load_referee() -> types.ModuleType:
    # everything of ``sklearn.linear_model`` but fastsgd's two SGD estimators
    proxy = proxy_package(
        sklearn.linear_model, SGDClassifier=fastsgd.SGDClassifier,
        SGDRegressor=fastsgd.SGDRegressor,
    )  # fmt: skip
    module = load_referee(REFEREE_PATH, REFEREE_MODULE_NAME, "sklearn.linear_model", proxy)
    if module.linear_model is not proxy:
        raise RuntimeError(f"{REFEREE_PATH} does not use the proxy as its `linear_model`")
    return module


referee = _load_referee()

REFEREE_TESTS = referee_tests(referee)
globals().update(REFEREE_TESTS)


# -- what scikit-learn's conftest provides ----------------------------------------------------


# -- exclusions -------------------------------------------------------------------------------


exclusion_reason = exclusion_matcher(EXCLUDED)


@pytest.fixture(autouse=True)
def _referee_exclusions(request):
    reason = exclusion_reason(request.node.name)
    if reason is None:
        return
    if reason in SKIPPED_REASONS:
        pytest.skip(reason)
    request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


# -- the referee's own checks -----------------------------------------------------------------


def test_referee_runs_fastsgd():
    """The loaded test_sgd.py builds fastsgd's estimators, and sklearn is left untouched."""
    assert referee.linear_model.SGDClassifier is fastsgd.SGDClassifier
    assert referee.linear_model.SGDRegressor is fastsgd.SGDRegressor
    assert referee.linear_model.SGDOneClassSVM is sklearn.linear_model.SGDOneClassSVM
    assert isinstance(referee.SGDClassifier(), fastsgd.SGDClassifier)
    assert isinstance(referee.SGDRegressor(), fastsgd.SGDRegressor)
    assert issubclass(referee._SparseSGDClassifier, fastsgd.SGDClassifier)
    assert issubclass(referee._SparseSGDRegressor, fastsgd.SGDRegressor)

    assert sys.modules["sklearn.linear_model"] is sklearn.linear_model
    assert sklearn.linear_model.__spec__.origin == str(REFEREE_PATH.parent.parent / "__init__.py")
    from sklearn import linear_model
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    assert linear_model is sys.modules["sklearn.linear_model"]
    assert SGDClassifier.__module__.startswith("sklearn.")
    assert SGDRegressor.__module__.startswith("sklearn.")
    assert {"test_warm_start", "test_sgd_clf", "test_sgd_reg"} <= REFEREE_TESTS.keys()


def test_excluded_keys_name_referee_tests():
    """Every key of EXCLUDED names a function of the referee (a typo would exclude nothing)."""
    stale = stale_keys(EXCLUDED, REFEREE_TESTS)
    assert stale == []
