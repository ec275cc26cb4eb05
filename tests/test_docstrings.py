"""Docstrings and signatures in step: every parameter documented, with its default."""

import ast
import inspect
import re

import pytest

from moe_tabular import (
    ColumnTokenizer,
    MoECBOWClassifier,
    MoECBOWImputer,
    MoECBOWRegressor,
)

ESTIMATORS = [MoECBOWClassifier, MoECBOWRegressor, MoECBOWImputer, ColumnTokenizer]


def _documented_parameters(cls):
    """``{name: default text}`` of the Parameters section, in order."""
    doc = inspect.getdoc(cls)
    pattern = r"^Parameters\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)"
    section = re.search(pattern, doc, re.M | re.S)
    assert section, f"{cls.__name__} has no Parameters section"
    entries = {}
    for line in section.group(1).splitlines():
        if line and not line[0].isspace() and " : " in line:
            names, kind = line.split(" : ", 1)
            default = re.search(r"default=(.*)$", kind.strip())
            for name in names.split(","):
                entries[name.strip()] = default and default.group(1).strip()
    return entries


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_parameter_is_documented_in_signature_order_with_its_default(Estimator):
    signature = inspect.signature(Estimator.__init__).parameters
    names = [name for name in signature if name != "self"]
    documented = _documented_parameters(Estimator)
    assert list(documented) == names
    for name, default in documented.items():
        assert default is not None, f"{name} has no default= in the docstring"
        assert ast.literal_eval(default) == signature[name].default, name


def test_the_estimators_share_their_parameters_and_defaults():
    def defaults(cls):
        return {
            name: p.default
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self"
        }

    shared = defaults(MoECBOWImputer)
    assert defaults(MoECBOWClassifier) == {**shared, "class_weight": None}
    assert defaults(MoECBOWRegressor) == {"n_target_bins": 10, **shared}
