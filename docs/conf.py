"""Sphinx configuration of the moe_tabular documentation.

Build (offline, warnings as errors), from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Besides the usual settings this file generates, before Sphinx reads the sources:

- ``docs/_autosummary_api.rst``: one autosummary table per public module, built from
  ``__all__``, included by ``api.rst``, so every exported name is documented as
  soon as it is exported;
- ``docs/generated/headline/``: the benchmarks page's headline tables and plots,
  written by ``sphinxext/benchmark_headline.py`` from the committed files under
  ``benchmarks/results/`` (``python docs/sphinxext/benchmark_headline.py`` runs
  it alone);
- ``docs/_benchmark_results.rst``: every result file under ``benchmarks/results/``
  (Markdown tables turned into reStructuredText, with the run's plot), included by
  ``benchmarks_archive.rst``.

These files, ``generated/``, ``auto_examples/``, ``sg_execution_times.rst`` and
``_build/`` are build outputs (see ``.gitignore``).

Offline: intersphinx reads the inventories committed in ``_intersphinx/`` (see
``_intersphinx/make_inventories.py``) and never the network; MathJax is copied
into the built site from the ``django-static-mathjax`` package (``docs`` extra).
"""

import importlib
import inspect
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "sphinxext"))  # gallery_order, benchmark_headline
sys.path.insert(0, str(DOCS / "_intersphinx"))  # make_inventories (base URLs)

import benchmark_headline  # noqa: E402

import moe_tabular  # noqa: E402  (installed: pip install -e ".[docs]")

# -- Project -------------------------------------------------------------------
project = "moe_tabular"
author = "the moe_tabular developers"
copyright = "2026, the moe_tabular developers"
version = release = moe_tabular.__version__

# -- General -------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# -- intersphinx: links into Python, NumPy, pandas, scikit-learn, torch, skorch --
# Each inventory is read from _intersphinx/ only (no URL to fall back on), so the
# build never touches the network; the links in the pages point at the projects'
# online documentation.
from make_inventories import BASE_URLS  # noqa: E402

intersphinx_mapping = {
    name: (url, str(DOCS / "_intersphinx" / f"{name}.inv"))
    for name, url in BASE_URLS.items()
}

# -- Math: MathJax served from this site, so formulas render offline too ---------
# django-static-mathjax ships MathJax 3 (no Django needed to use its files);
# copy_mathjax() below copies the CommonHTML build, its fonts and the TeX
# extensions into _static/mathjax of the built site.
try:
    import mathjax as _mathjax_package  # django-static-mathjax
except ImportError as error:
    raise ImportError(
        "The docs serve MathJax from the built site, offline: install the docs "
        'extra (python -m pip install -e ".[docs]"), which has django-static-mathjax.'
    ) from error
MATHJAX_ES5 = Path(_mathjax_package.__file__).parent / "static" / "mathjax" / "es5"
mathjax_path = "mathjax/tex-chtml.js"  # relative to the built site's _static/
# textmacros: \_ and friends inside \texttt{...}, as LaTeX reads them
mathjax3_config = {
    "loader": {"load": ["[tex]/textmacros"]},
    "tex": {"packages": {"[+]": ["textmacros"]}},
}


templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "_intersphinx",
    "_autosummary_api.rst",  # included by api.rst
    "_benchmark_results.rst",  # included by benchmarks_archive.rst
    "generated/headline",  # included by benchmarks.rst
    "**.ipynb_checkpoints",
]
root_doc = "index"
default_role = "literal"  # `x` in prose is code, as ``x``
pygments_style = "sphinx"
add_function_parentheses = False
smartquotes = False
toc_object_entries_show_parents = "hide"  # "predict", not "MoECBOWClassifier.predict"

# -- autodoc, autosummary, numpydoc --------------------------------------------
autosummary_generate = ["api.rst", "_autosummary_api.rst", "internals.rst"]
autosummary_imported_members = True
autodoc_default_options = {"members": True}  # no "inherited-members" key: it would
# override the :inherited-members: option of the class template
autodoc_typehints = "none"  # the numpydoc sections say the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"moe_tabular {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 8,
    # the benchmarks page uses the whole width for its tables with plots beside
    "secondary_sidebar_items": {
        "**": ["page-toc", "sourcelink"],
        "benchmarks": [],
        "benchmarks_archive": [],
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {  # no left sidebar on pages without sub-pages
    page: []
    for page in (
        "index",
        "install",
        "quick_start",
        "user_guide",
        "theory",
        "ood",
        "api",
        "internals",
        "benchmarks",
        "benchmarks_archive",
        "when_to_use",
        "lens_comparisons",
    )
}

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "doc_module": ("moe_tabular",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"moe_tabular": None},
    "remove_config_comments": True,
    "within_subsection_order": "gallery_order.ReadingOrder",
    "show_memory": False,
    "min_reported_time": 1,
}

# Matplotlib quietly, without a display.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)


# -- Generated sources -----------------------------------------------------------
PUBLIC_MODULES = {
    "moe_tabular": "Estimators and tokenizer",
    "moe_tabular.ood": "Out-of-distribution evaluation",
    "moe_tabular.datasets": "Datasets",
}


def _kind(obj):
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def write_api_tables():
    """One autosummary table per kind of object, per public module, from ``__all__``."""
    lines = []
    for module_name, title in PUBLIC_MODULES.items():
        module = importlib.import_module(module_name)
        names = [n for n in module.__all__ if not n.startswith("_")]
        lines += [
            f".. _api_{module_name.replace('.', '_')}:",
            "",
            f"``{module_name}``: {title}",
            "-" * (len(module_name) + len(title) + 6),
            "",
            f".. automodule:: {module_name}",
            "   :no-members:",
            "",
            f".. currentmodule:: {module_name}",
            "",
        ]
        groups = {"class": [], "function": [], "data": []}
        for name in names:
            groups[_kind(getattr(module, name))].append(name)
        headings = {"class": "Classes", "function": "Functions", "data": "Constants"}
        for kind, members in groups.items():
            if not members:
                continue
            lines += [
                f".. rubric:: {headings[kind]}",
                "",
                ".. autosummary::",
                "   :toctree: generated/",
                f"   :template: autosummary/{kind}.rst",
                "",
                *(f"   {name}" for name in members),
                "",
            ]
    text = "\n".join(lines)
    target = DOCS / "_autosummary_api.rst"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


def _unquoted(line):
    """``line`` without a Markdown quote marker (``> ``)."""
    return re.sub(r"^>\s?", "", line)


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _inline(text):
    """Markdown inline code (`x`) is already code under ``default_role``."""
    return text.replace("\\|", "|")


def markdown_to_rst(text):
    """The subset of Markdown that benchmark result files use, as rst.

    Headings become rubrics, pipe tables list-tables, fenced code literal
    blocks; other lines (paragraphs, lists) are the same in both languages. A
    table inside a quoted note (``> | a | b |``) is a table too, and an empty
    quote line (``>``) a paragraph break.
    """
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^(#+)\s+(.*)$", line)
        if heading:
            out += [f".. rubric:: {_inline(heading.group(2))}", ""]
            i += 1
        elif line.startswith("```"):
            out += ["::", ""]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(f"   {lines[i]}")
                i += 1
            out.append("")
            i += 1
        elif line.strip() == ">":
            out.append("")
            i += 1
        elif (
            _unquoted(line).lstrip().startswith("|")
            and i + 1 < len(lines)
            and _TABLE_SEPARATOR.match(_unquoted(lines[i + 1]).strip())
        ):
            rows = [_cells(_unquoted(line))]
            i += 2
            while i < len(lines) and _unquoted(lines[i]).lstrip().startswith("|"):
                rows.append(_cells(_unquoted(lines[i])))
                i += 1
            width = len(rows[0])
            out += [".. list-table::", "   :header-rows: 1", "   :class: benchmark", ""]
            for row in rows:
                row = (row + [""] * width)[:width]
                out.append(f"   * - {_inline(row[0]) or '..'}")
                out += [f"     - {_inline(cell) or ' '}" for cell in row[1:]]
            out.append("")
        else:
            out.append(_inline(line))
            i += 1
    return "\n".join(out) + "\n"


def write_benchmark_results():
    """Include every Markdown file under ``benchmarks/results/`` (or say how)."""
    folder = ROOT / "benchmarks" / "results"
    results = sorted(folder.rglob("*.md"))
    if results:
        parts = []
        for path in results:
            text = path.read_text()
            # the file's first heading titles its section; the others are rubrics
            first = re.search(r"^#+\s+(.*)$", text, flags=re.M)
            title = first.group(1).strip() if first else path.stem
            if first:
                text = text[: first.start()] + text[first.end() :]
            if path.parent != folder:  # ood-<name>/summary.md: several share a title
                title = f"{title} ({path.parent.name})"
            parts += [
                title,
                "~" * len(title),
                "",
                f"*From* ``benchmarks/results/{path.relative_to(folder).as_posix()}``.",
                "",
            ]
            for png in (
                sorted(path.parent.glob("*.png")) if path.parent != folder else []
            ):
                parts += [
                    f".. image:: /{os.path.relpath(png, DOCS)}",
                    f"   :alt: {png.name} of {path.parent.name}",
                    "   :class: archive-plot",
                    "",
                ]
            parts.append(markdown_to_rst(text))
        text = "\n".join(parts)
    else:
        text = (
            ".. note::\n\n"
            "   No result files were found under ``benchmarks/results/`` when this\n"
            "   page was built. Write them with ``python -m benchmarks ood --quick``\n"
            "   (a few minutes on a laptop) or ``python -m benchmarks ood`` (all\n"
            "   seeds), then rebuild the documentation.\n"
        )
    target = DOCS / "_benchmark_results.rst"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


write_api_tables()
write_benchmark_results()
benchmark_headline.write_headline()


def skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Leave out the members a class inherits from scikit-learn.

    ``get_params``, ``score``, ``set_output``, the ``set_*_request`` methods and
    the like are scikit-learn's and documented there; their docstrings point into
    scikit-learn's user guide and glossary, which this site does not have.
    """
    if re.fullmatch(r"set_\w+_request", name):
        return True
    function = getattr(obj, "__func__", obj)
    if (getattr(function, "__module__", None) or "").startswith("sklearn."):
        return True
    return skip


def drop_type_docstrings(app, what, name, obj, options, lines):
    """A constant without a ``#:`` comment shows its value, not ``tuple``'s doc.

    autodoc falls back on ``obj.__doc__``, which for a tuple or dict constant is
    the docstring of the built-in type.
    """
    type_doc = type(obj).__doc__
    if what != "data" or not isinstance(type_doc, str):
        return
    if " ".join(type_doc.split()) in " ".join(" ".join(lines).split()):
        lines.clear()  # numpydoc has run first and added a marker comment


def copy_mathjax(app, exception):
    """Serve MathJax from the built site: its CommonHTML build, fonts, extensions."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(MATHJAX_ES5 / "tex-chtml.js", target / "tex-chtml.js")
    for part in ("output/chtml/fonts/woff-v2", "input/tex/extensions"):
        shutil.copytree(MATHJAX_ES5 / part, target / part, dirs_exist_ok=True)
    shutil.copy2(MATHJAX_ES5.parent / "LICENSE", target / "LICENSE")


def setup(app):
    app.connect("autodoc-process-docstring", drop_type_docstrings)
    app.connect("autodoc-skip-member", skip_scikit_learn_members)
    app.connect("build-finished", copy_mathjax)
    # Rebuild the pages whose generated includes may have changed.
    app.connect(
        "env-get-outdated",
        lambda app, env, added, changed, removed: [
            "api",
            "benchmarks",
            "benchmarks_archive",
        ],
    )
