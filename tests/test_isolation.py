"""Determinism and isolation: processes, global state, threads."""

import os
import random
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from moe_tabular import MoECBOWClassifier, MoECBOWRegressor

from .conftest import FAST, make_frame

ESTIMATORS = [MoECBOWClassifier, MoECBOWRegressor]
SMALL = {**FAST, "max_epochs": 3}
ROOT = Path(__file__).resolve().parents[1]

# Fits both estimators and prints every prediction bit for bit.
SCRIPT = f"""
import numpy as np
from moe_tabular import MoECBOWClassifier, MoECBOWRegressor
from tests.conftest import make_frame

frame, target = make_frame(n_rows=80, seed=3)
y_reg = np.where(target == "warm", 2.0, -1.0) + frame["x"].to_numpy()
clf = MoECBOWClassifier(**{SMALL!r}).fit(frame, target)
reg = MoECBOWRegressor(**{SMALL!r}).fit(frame, y_reg)
print(clf.predict_proba(frame).tobytes().hex())
print(reg.predict(frame).tobytes().hex())
"""


def _run_in_a_new_process(hash_seed):
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_same_random_state_gives_identical_predictions_in_separate_processes():
    # different string-hash seeds: nothing may depend on set or dict order
    first, second = _run_in_a_new_process(1), _run_in_a_new_process(2)
    assert len(first) == 2 and len(first[0]) > 0
    assert first == second


def _global_state():
    return {
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),  # noqa: NPY002 - the legacy global RNG
        "python_rng": random.getstate(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "grad": torch.is_grad_enabled(),
        "dtype": torch.get_default_dtype(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "warning_filters": list(warnings.filters),
    }


def _assert_same_state(before, after):
    for key in before:
        if key == "torch_rng":
            assert torch.equal(before[key], after[key]), key
        elif key == "numpy_rng":
            assert before[key][0] == after[key][0]
            np.testing.assert_array_equal(before[key][1], after[key][1])
            assert before[key][2:] == after[key][2:], key
        else:
            assert before[key] == after[key], key


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_and_predict_leave_global_state_alone(Estimator):
    frame, target = make_frame(n_rows=60)
    y = target if Estimator is MoECBOWClassifier else (target == "warm") * 1.0
    # a first fit lets torch finish its lazy imports (sympy adds warning filters)
    Estimator(**{**SMALL, "max_epochs": 1}).fit(frame, y)
    before = _global_state()
    model = Estimator(**SMALL).fit(frame, y)
    model.predict(frame)
    model.score(frame, y)
    _assert_same_state(before, _global_state())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_without_random_state_leaves_torch_rng_and_threads_alone(Estimator):
    # random_state=None draws its seed from numpy's global RNG, as in sklearn
    frame, target = make_frame(n_rows=60)
    y = target if Estimator is MoECBOWClassifier else (target == "warm") * 1.0
    torch_rng, threads = torch.get_rng_state(), torch.get_num_threads()
    Estimator(**{**SMALL, "random_state": None}).fit(frame, y)
    assert torch.equal(torch.get_rng_state(), torch_rng)
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_from_several_threads_at_once(Estimator, monkeypatch):
    frame, target = make_frame(n_rows=60)
    y = target if Estimator is MoECBOWClassifier else (target == "warm") * 1.0
    model = Estimator(**SMALL).fit(frame, y)
    # some batches lack the feature names: predict warns from many threads at once,
    # which once made our (thread-unsafe) warnings.catch_warnings leak its filter.
    # pandas and sklearn enter catch_warnings themselves (pandas.api.types.
    # pandas_dtype, check_array) and can leak under load, so the check is that
    # no code of ours enters it while predicting.
    callers = []
    enter = warnings.catch_warnings.__enter__

    def recording_enter(self):
        callers.append(sys._getframe(1).f_code.co_filename)
        return enter(self)

    batches = [frame.iloc[i : i + 7] for i in range(0, 60, 7)] * 6
    batches += [frame.iloc[i : i + 7].to_numpy() for i in range(0, 60, 7)] * 2
    method = getattr(model, "predict_proba", model.predict)
    before = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = [method(batch) for batch in batches]
        monkeypatch.setattr(warnings.catch_warnings, "__enter__", recording_enter)
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(method, batches))
        monkeypatch.undo()
    assert warnings.filters == before
    package = str(ROOT / "moe_tabular")
    assert callers, "the recording hook saw no catch_warnings at all"
    assert not [caller for caller in callers if caller.startswith(package)]
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_feature_name_warning_comes_once_per_call_and_is_never_silenced():
    frame, target = make_frame(n_rows=40)
    model = MoECBOWClassifier(**SMALL).fit(frame, target)
    for _ in range(2):  # the second call warns too: no filter was left behind
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.predict(frame.to_numpy())
        messages = [str(w.message) for w in caught if "feature names" in str(w.message)]
        assert messages == [
            "X does not have valid feature names, but MoECBOWClassifier was fitted "
            "with feature names"
        ]
