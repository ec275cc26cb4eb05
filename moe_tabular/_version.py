"""The version of moe_tabular: the one source, read by ``pyproject.toml``.

Modules inside the package import it from here (``from ._version import
__version__``), never from the package face, so that no leaf module imports
``moe_tabular/__init__.py``.
"""

__version__ = "0.1.0"
