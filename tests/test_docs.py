"""The documentation's contract: every public class and function is on an API page of the site,
and its docstring is in numpydoc form with an Examples section (which pytest runs as a doctest,
``--doctest-modules``); the estimators' public methods are in numpydoc form too.

The reference here is numpydoc's own validator (``numpydoc.validate``), the one the Sphinx build
runs with ``-W``.
"""

import importlib
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

ROOT = Path(__file__).resolve().parents[1]
API_PAGES = ROOT / "docs" / "api"

# The checks of docs/conf.py's numpydoc_validation_checks, plus EX01 (an Examples section) for
# classes and functions; methods (fit, predict, ...) are not required to carry examples.
CHECKS = {"GL08", "PR01", "PR02", "RT01", "SS01", "GL02", "GL03"}
PUBLIC_MODULES = (
    "fastsgd",
    "fastsgd.kernels",
    "fastsgd.parallel",
    "fastsgd.dask",
    "fastsgd.io",
    "fastsgd.svmlight",
    "fastsgd.stream",
    "fastsgd.cache",
    "fastsgd.reference",
)


def documented_names():
    """(module, name) for every entry of the API pages' autosummary tables."""
    entries = []
    for page in sorted(API_PAGES.glob("*.rst")):
        text = page.read_text()
        module = re.search(r"^\.\. currentmodule:: (\S+)", text, flags=re.M)
        if module is None:
            continue
        for block in re.findall(r"\.\. autosummary::\n((?:   .*\n|\n)+)", text):
            for line in block.splitlines():
                line = line.strip()
                if line and not line.startswith(":"):
                    entries.append((module.group(1), line))
    return entries


def public_names(module_name):
    """What a module offers: its ``__all__`` without the constants (documented in the module's
    docstring), or its public functions and classes when it has no ``__all__``."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module_name
        ]
    names = [n for n in names if not n.isupper() and not n.startswith("__")]
    if module_name == "fastsgd":
        names.append("compile")  # public, kept out of __all__ so that * does not shadow it
    return sorted(names)


def problems(qualified_name, checks):
    report = numpydoc_validate.validate(qualified_name)
    return [f"{code}: {message}" for code, message in report["errors"] if code in checks]


DOCUMENTED = documented_names()


def test_every_public_name_is_on_an_api_page():
    listed = set(DOCUMENTED)
    missing = [
        f"{module}.{name}"
        for module in PUBLIC_MODULES
        for name in public_names(module)
        if (module, name) not in listed
    ]
    assert not missing, f"public names missing from docs/api/*.rst: {missing}"
    assert len(listed) == len(DOCUMENTED), "a name is listed twice"


@pytest.mark.parametrize("module, name", DOCUMENTED, ids=[f"{m}.{n}" for m, n in DOCUMENTED])
def test_docstring_is_numpydoc_with_examples(module, name):
    assert not problems(f"{module}.{name}", CHECKS | {"EX01"})


def estimator_methods():
    import fastsgd

    pairs = []
    for class_name in (
        "LogisticRegression",
        "LogisticRegressionSweep",
        "SGDClassifier",
        "SGDRegressor",
        "TwoLayerNet",
        "TwoLayerNetRegressor",
    ):
        cls = getattr(fastsgd, class_name)
        for name in dir(cls):
            if name.startswith("_") or (name.startswith("set_") and name.endswith("_request")):
                continue
            if name in ("get_params", "set_params", "get_metadata_routing", "score"):
                continue  # scikit-learn's own, documented there
            if callable(getattr(cls, name, None)):
                pairs.append((class_name, name))
    return pairs


@pytest.mark.parametrize("class_name, method", estimator_methods())
def test_estimator_method_docstring_is_numpydoc(class_name, method):
    assert not problems(f"fastsgd.{class_name}.{method}", CHECKS)


def test_compile_docstring_lists_every_configuration():
    """Its Notes list the configuration names by hand: they must not drift from the code."""
    from fastsgd._precompile import CONFIGURATIONS, compile

    notes = re.split(r"\n\s*Notes\n\s*-+\n", compile.__doc__)[1]
    listed = set(re.findall(r"'([a-z0-9-]+)'", notes))
    assert listed >= set(CONFIGURATIONS), set(CONFIGURATIONS) - listed


@pytest.mark.slow
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    """Sphinx's own check of every page and docstring (formatting, cross-references, numpydoc
    validation, an Examples section per class and function), as ``-W`` applies it. The gallery
    is not executed here (``plot_gallery=0``; it runs in the full build of the README's
    command), and the build reads a copy, so a developer's built site is left alone."""
    pytest.importorskip("sphinx")
    source = tmp_path / "docs"
    shutil.copytree(
        ROOT / "docs",
        source,
        ignore=shutil.ignore_patterns("_build", "auto_examples", "generated", "sg_execution_*"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "dummy",
         "-D", "plot_gallery=0", str(source), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-6000:]
