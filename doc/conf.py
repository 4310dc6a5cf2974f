"""Sphinx configuration: builds offline, warnings are errors in CI (``-W``).

Build from the repository root with the package importable (installed, or built in place
and put on ``PYTHONPATH``)::

    sphinx-build -W -b html doc doc/_build/html

The gallery executes ``examples/plot_*.py`` (a few seconds each). Set
``NORMPEN_DOCS_PLOT_GALLERY=0`` to skip running them (the pages then show code only).
"""
import os
import re
import warnings

import sklearn_normpen

project = "sklearn_normpen"
author = "the sklearn_normpen developers"
copyright = "2026, the sklearn_normpen developers"
release = sklearn_normpen.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"

# The API reference: one generated page per public object, members defined by our classes
# only (scikit-learn's inherited docstrings point at its own user guide).
autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# No network: no intersphinx; MathJax is loaded by the reader's browser, not at build time.
html_theme = "alabaster"
html_theme_options = {"description": "certified norm-penalty estimators for scikit-learn",
                      "fixed_sidebar": True}
html_static_path = []
html_show_sourcelink = False



def _skip_metadata_requests(app, what, name, obj, skip, options):
    # scikit-learn generates set_{fit,score,...}_request on every estimator class; their
    # docstrings point at scikit-learn's own user guide.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


# A fitted attribute named in plain text, e.g. the type "ndarray of shape (rank_,)", is
# an RST hyperlink reference ("rank_") to a target that does not exist. Escape the
# trailing underscore of such words outside inline literals and roles.
_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")
_TRAILING = re.compile(r"\b([A-Za-z][A-Za-z0-9_]*[A-Za-z0-9])_(?![A-Za-z0-9_`])")


def _escape_attribute_names(app, what, name, obj, options, lines):
    block_indent = None  # inside a literal, code or math block opened by "::"
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        if line.rstrip().endswith("::"):
            block_indent = indent
        if line.lstrip().startswith((">>>", "...")):
            continue
        parts = _LITERAL.split(line)
        lines[i] = "".join(p if k % 2 else _TRAILING.sub(r"\1\\_", p)
                           for k, p in enumerate(parts))


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
    # after numpydoc (priority 500) has turned the sections into RST
    app.connect("autodoc-process-docstring", _escape_attribute_names, priority=600)


plot_gallery = os.environ.get("NORMPEN_DOCS_PLOT_GALLERY", "1") not in ("0", "false", "False")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": plot_gallery,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    "show_memory": False,
}

# The examples run headless inside the build.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg")
