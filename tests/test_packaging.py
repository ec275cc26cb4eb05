"""Package hygiene: one version source, the licence, the private scikit-learn names."""

import ast
import importlib
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

import moe_tabular
from moe_tabular import _version

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "moe_tabular"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _imports(path):
    """``(module, name)`` for every ``from module import name`` in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                yield node.level, node.module, alias.name


def test_version_has_one_source():
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "moe_tabular._version.__version__"}
    assert moe_tabular.__version__ == _version.__version__
    assert "__version__" in moe_tabular.__all__


def test_no_leaf_module_imports_the_package_face():
    """Modules of the package import ``_version``, never ``moe_tabular/__init__``."""
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for level, module, name in _imports(path):
            if (
                level == 1
                and module is None
                and not (PACKAGE / f"{name}.py").exists()
                and not (PACKAGE / name).is_dir()
            ):
                offenders.append(f"{path.name}: from . import {name}")
            if level == 0 and module == "moe_tabular":
                offenders.append(f"{path.name}: from moe_tabular import {name}")
    assert not offenders, offenders


def test_license_file_matches_the_declared_licence():
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder" in text  # the third clause


def test_torch_floor_is_not_newer_than_the_wheel_ci_installs():
    deps = {d.split(">=")[0]: d for d in PYPROJECT["project"]["dependencies"]}
    ci = (ROOT / ".ci" / "run").read_text()
    assert '"torch==2.13.0"' in ci
    floor = tuple(int(p) for p in deps["torch"].split(">=")[1].split("."))
    assert floor <= (2, 13, 0)


def _private_sklearn_imports():
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for level, module, name in _imports(path):
            if level or not module or not module.startswith("sklearn"):
                continue
            if any(
                part.startswith("_") for part in module.split(".")
            ) or name.startswith("_"):
                found.add((module, name))
    return sorted(found)


PRIVATE_SKLEARN = _private_sklearn_imports()


def test_the_scan_finds_the_private_names_we_know_of():
    assert ("sklearn.base", "_fit_context") in PRIVATE_SKLEARN
    assert ("sklearn.utils._param_validation", "Interval") in PRIVATE_SKLEARN


@pytest.mark.parametrize(("module", "name"), PRIVATE_SKLEARN)
def test_private_sklearn_name_still_exists(module, name):
    """Each private scikit-learn name the package imports is still there.

    ``pyproject.toml`` sets no upper bound on scikit-learn; this test is the guard
    instead: a release that moves one of these names fails here, not at a user's
    import.
    """
    assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_private_constraints_still_validate():
    """``_fit_context`` still runs the constraints and names the parameter."""
    from sklearn.utils._param_validation import InvalidParameterError

    from moe_tabular import ColumnTokenizer

    with pytest.raises(InvalidParameterError, match="n_bins"):
        ColumnTokenizer(n_bins=0).fit([[1.0], [2.0]])


def _package_imports(path):
    """The package's modules that ``path`` imports, and the top-level libraries."""
    tree = ast.parse(path.read_text(), filename=str(path))
    modules, libraries = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            libraries.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            libraries |= {alias.name.split(".")[0] for alias in node.names}
    return modules, libraries


TORCH_FREE = {
    "_vocabulary",
    "_validation",
    "_encoders",
    "_columns",
    "_tokenizer",
    "_targets",
}


def test_internal_imports_run_one_way_and_the_torch_free_modules_stay_so():
    """docs/internals.rst: no import cycle among the private modules; the
    tokenizer's side never imports torch; the torch module imports the
    vocabulary and its own parts only (the attention, the layers);
    persistence imports no part of the package but the version."""
    imports = {
        path.stem: _package_imports(path)
        for path in PACKAGE.glob("_*.py")
        if path.name != "__init__.py"
    }
    order = []
    while len(order) < len(imports):  # a topological order exists: no cycle
        ready = [m for m in imports if m not in order and imports[m][0] <= set(order)]
        assert ready, f"import cycle among {sorted(set(imports) - set(order))}"
        order += sorted(ready)
    for name in TORCH_FREE:
        modules, libraries = imports[name]
        assert "torch" not in libraries and modules <= TORCH_FREE, name
    assert imports["_module"][0] == {"_vocabulary", "_attention", "_layers"}
    assert imports["_attention"][0] == {"_layers"}
    assert imports["_layers"][0] == set()
    assert imports["_persistence"][0] == {"_version"}
