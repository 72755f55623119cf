"""Sphinx configuration for fastsgd's site.

Build (from the repository root): ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
after ``python -m pip install ".[docs]"``. The gallery in ``docs/examples`` runs on every build;
its figures come from that run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, also when it is not installed

# The gallery's examples compile kernels: a cache that never goes stale (fastsgd/_devcache.py).
from fastsgd._devcache import use_source_keyed_cache  # noqa: E402

use_source_keyed_cache(ROOT)
os.environ.setdefault("MPLBACKEND", "Agg")

import fastsgd  # noqa: E402

project = "fastsgd"
author = "the fastsgd developers"
copyright = "2026, the fastsgd developers"
release = fastsgd.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "myst_parser",
]

# Options and commands stay as typed: no "--help" turned into an en dash, no curly quotes.
smartquotes = False

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = [
    "_build",
    "examples",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
    "auto_examples/*.codeobj.json",
    "bench.json",
]
templates_path = ["_templates"]

# The figures the README shows sit beside the site's sources (docs/bench.png).
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Every public docstring is in numpydoc form and every class and function has an Examples
# section: checked on every build, and with -W a deviation fails it (tests/test_docs.py runs the
# same checks in the test suite). Methods (``Class.method``) need no Examples section.
numpydoc_validation_checks = {"GL08", "PR01", "PR02", "RT01", "SS01", "GL02", "GL03"}
numpydoc_validation_exclude = {r"\._", r"\.__"}

# No intersphinx: the build must give the same result offline (CI, a laptop on a train), and
# with -W an unreachable inventory would fail it.

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "reset_modules": ("matplotlib",),
    "backreferences_dir": "api/generated/backreferences",
    "doc_module": ("fastsgd",),
}

html_theme = "pydata_sphinx_theme"
html_title = f"fastsgd {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


def skip_foreign_members(app, what, name, obj, skip, options):
    """Members that fastsgd's classes inherit from scikit-learn or Python (``get_params``, the
    generated ``set_*_request`` routing methods, ``Exception.add_note``) are documented there;
    the methods inherited from fastsgd's own private base classes (``fit``, ``save``) stay."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and not module.startswith("fastsgd"):
        return True
    return skip


def require_examples(app, what, name, obj, options, lines):
    """numpydoc's EX01 for classes and functions only (its setting would cover methods too)."""
    if what in ("class", "function", "exception") and "Examples" not in lines:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "%s has no Examples section", name, type="fastsgd", subtype="examples"
        )


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_members)
    # before numpydoc (priority 500) turns the sections into reST: the heading line is "Examples"
    app.connect("autodoc-process-docstring", require_examples, priority=400)
