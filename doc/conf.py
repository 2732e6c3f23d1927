"""Sphinx configuration for the sklearn_kd documentation.

Build with ``make docs`` (``python -m sphinx -W --keep-going -b html doc
doc/_build/html``). Names from Python, NumPy, SciPy, scikit-learn, PyTorch,
skorch, joblib, matplotlib, pandas and Dask link to those projects' documentation
(intersphinx) when their inventories can be fetched. Without a network
(checked once, reported in one line) each project's inventory is the local
one in ``_inventories/`` (an empty one unless ``_inventories/<name>.inv`` is
there), so the build still passes with ``-W`` and those names render as
code. The local ``check_links`` extension
then fails the build on any broken link between the built pages.
"""

import os
import re
import sys
from pathlib import Path

import matplotlib
from docutils import nodes

# Headless plotting for the gallery, before anything imports pyplot.
matplotlib.use("Agg")

# The gallery trains tiny networks: one OpenMP thread avoids oversubscribing
# shared build machines. Set before torch and scikit-learn load OpenMP.
os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("SKLEARN_KD_DOC_THREADS", "1"))

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "sphinxext"))

import sklearn_kd

# -- Project ---------------------------------------------------------------
project = "sklearn_kd"
author = "The sklearn_kd developers"
copyright = "2025, The sklearn_kd developers"
release = sklearn_kd.__version__
version = ".".join(release.split(".")[:2])

# -- General ---------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax served with the pages, so formulas render without a network.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # Local (doc/sphinxext): fails the build on a broken link between pages.
    "check_links",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
    "auto_examples/*.codeobj.json",
]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
nitpicky = False
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ---------------------------------------
autosummary_generate = True
autosummary_imported_members = False
# Only members defined by sklearn_kd: the docstrings inherited from
# scikit-learn and torch reference those projects' own labels and glossary.
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Parameter types become cross-references (resolved when they can be; with
# nitpicky off the others render as code), which also keeps names such as
# ``(n_features_in_,)`` from being read as reST link targets.
numpydoc_xref_param_type = True
# numpydoc's default aliases make some names glossary terms (:term:), which
# warn when the Python and NumPy inventories cannot be fetched; here the
# builtin names are plain references, which link through intersphinx when
# it can and render as code otherwise.
numpydoc_xref_aliases = {
    "array-like": "array-like",
    "array_like": "array_like",
    "bool": "bool",
    "boolean": "bool",
    "iterable": "iterable",
    "sequence": "sequence",
    "generator": "generator",
    "scalar": "scalar",
    "None": "None",
    "True": "True",
    "False": "False",
    "list": "list",
    "tuple": "tuple",
    "str": "str",
    "string": "str",
    "dict": "dict",
    "float": "float",
    "int": "int",
    "callable": "callable",
    "DistilledClassifier": "sklearn_kd.DistilledClassifier",
    "MLPStudent": "sklearn_kd.MLPStudent",
    "Bunch": "sklearn.utils.Bunch",
    "skorch.History": "skorch.history.History",
    "skorch.NeuralNet": "skorch.net.NeuralNet",
}
# fmt: off
numpydoc_xref_ignore = {
    "of", "or", "and", "shape", "default", "optional", "instance", "type",
    "class", "like", "array-like", "sparse", "matrix", "int", "float", "str",
    "bool", "dict", "list", "tuple", "None", "True", "False", "ndarray",
    "callable", "object", "estimator", "function", "path-like", "n_samples",
    "n_features", "n_classes", "n_levels", "in", "to", "with", "any", "path",
    "file", "binary", "generator", "cross-validation", "float32", "float64",
}
# fmt: on

# -- intersphinx -------------------------------------------------------------
# Each project's inventory is fetched from its site first, with a second
# location that answers where that fails: ``_inventories/<name>.inv`` when
# one is shipped, else an empty inventory. Unresolved names then render as
# code; with the network they link. Whether the sites can be reached is
# checked once, here: without a network the build reads only the
# inventories shipped in ``_inventories/`` and says so in one line, instead
# of logging one failed download (or one empty inventory) per project.
INTERSPHINX_SITES = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "scipy": "https://docs.scipy.org/doc/scipy",
    "sklearn": "https://scikit-learn.org/stable",
    "torch": "https://docs.pytorch.org/docs/stable",
    "skorch": "https://skorch.readthedocs.io/en/stable",
    "joblib": "https://joblib.readthedocs.io/en/stable",
    "matplotlib": "https://matplotlib.org/stable",
    "pandas": "https://pandas.pydata.org/docs",
    "dask": "https://docs.dask.org/en/stable",
}
INVENTORIES = HERE / "_inventories"


def _offline_inventory(name):
    shipped = INVENTORIES / f"{name}.inv"
    path = shipped if shipped.is_file() else INVENTORIES / "empty.inv"
    return str(path.relative_to(HERE))


def _online(url, timeout=5):
    """Whether ``url`` answers over HTTP (through any configured proxy)."""
    import requests

    try:
        requests.head(url, timeout=timeout, allow_redirects=True)
    except requests.RequestException:
        return False
    return True


def _intersphinx_mapping(online):
    """Each project's site then its local inventory, or only the latter."""
    if not online:  # shipped inventories only: an empty one resolves nothing
        return {name: (url, _offline_inventory(name))
                for name, url in INTERSPHINX_SITES.items()
                if (INVENTORIES / f"{name}.inv").is_file()}
    return {name: (url, (None, _offline_inventory(name)))
            for name, url in INTERSPHINX_SITES.items()}


_ONLINE = _online(INTERSPHINX_SITES["python"] + "/objects.inv")
if not _ONLINE:
    print(
        f"intersphinx: {INTERSPHINX_SITES['python']} cannot be reached; "
        "using the inventories shipped in doc/_inventories, if any (names of "
        "other projects render as code)",
        file=sys.stderr,
    )
intersphinx_mapping = _intersphinx_mapping(_ONLINE)
intersphinx_timeout = 10

# -- sphinx-gallery ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run every example, not only the plot_*.py files.
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.ExampleOrder",
    # Each example starts with a fresh matplotlib state and one torch /
    # OpenMP thread (SKLEARN_KD_DOC_THREADS overrides; see gallery_reset.py).
    "reset_modules": ("matplotlib", "gallery_reset.reset_threads"),
    "doc_module": ("sklearn_kd",),
    "backreferences_dir": "generated/backreferences",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 0,
    "abort_on_example_error": False,
    "plot_gallery": "True",
}

# -- HTML ------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_kd {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "install": [], "changelog": []}
html_show_sourcelink = True


# -- Hooks -----------------------------------------------------------------
_SHAPE_NAME = re.compile(r"\(([A-Za-z]\w*_),\)")


def _quote_shape_names(app, what, name, obj, options, lines):
    """``(n_features_in_,)`` in a type would be read as a reST link target."""
    lines[:] = [_SHAPE_NAME.sub(r"(``\1``,)", line) for line in lines]


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """Skip the ``set_*_request`` methods scikit-learn generates per class."""
    if name == "get_metadata_routing" or (
        name.startswith("set_") and name.endswith("_request")
    ):
        return True
    return None


_THUMBNAIL = re.compile(r"auto_examples/images/thumb/sphx_glr_(\w+)_thumb\.\w+$")


def _thumbnail_alt_text(app, doctree, docname):
    """Give each gallery thumbnail its example's title as alt text.

    sphinx-gallery writes thumbnails with an empty ``alt``.
    """
    for image in doctree.findall(nodes.image):
        match = _THUMBNAIL.search(image.get("uri", ""))
        if match is None or image.get("alt"):
            continue
        title = app.env.titles.get(f"auto_examples/{match[1]}")
        if title is not None:
            image["alt"] = f"Thumbnail of the example: {title.astext()}"


def setup(app):
    app.connect("doctree-resolved", _thumbnail_alt_text)
    # After numpydoc (priority 500) has turned the docstring into reST.
    app.connect("autodoc-process-docstring", _quote_shape_names, priority=600)
    app.connect("autodoc-skip-member", _skip_metadata_requests)
