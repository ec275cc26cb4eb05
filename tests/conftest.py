"""Shared fixtures: tiny mixed-dtype frames and the fast parameters used everywhere."""

import numpy as np
import pandas as pd
import pytest
import torch

# Small enough to be fast, large enough that the accuracy checks pass.
FAST = {"max_epochs": 40, "batch_size": 32, "learning_rate": 1e-2, "random_state": 0}


@pytest.fixture(autouse=True)
def _seed_everything():
    np.random.seed(0)  # noqa: NPY002 - the global state tests may rely on
    torch.manual_seed(0)


def make_frame(n_rows=240, seed=0):
    """A mixed-dtype table whose string target follows 'city' and the sign of 'x'."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["oslo", "rome", "lima"], size=n_rows)
    x = rng.normal(size=n_rows)
    frame = pd.DataFrame(
        {
            "city": pd.Series(city, dtype="string"),
            "shade": pd.Categorical(rng.choice(["dark", "pale"], size=n_rows)),
            "flag": rng.random(n_rows) < 0.5,
            "count": pd.array(rng.integers(0, 4, size=n_rows), dtype="Int64"),
            "x": x,
            "noise": rng.normal(size=n_rows).astype(np.float32),
        }
    )
    warm = (city == "rome") | ((city == "lima") & (x > 0))
    target = np.where(warm, "warm", "cold").astype(object)
    return frame, target


@pytest.fixture(scope="module")
def frame_and_target():
    return make_frame()
