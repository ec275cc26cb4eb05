"""The parent side of ``python -m benchmarks perf``: data, children, summaries.

Writes each configuration's data to a ``.npz`` file, measures it in fresh
``python -m benchmarks.perf.measure`` processes (``benchmarks/perf/measure.py``),
and keeps median times and the largest peak RSS of the repeats.
"""

import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import _common
from benchmarks.perf.measure import FIXED_EPOCHS, N_BINS, RESULT_TAG, SEED, SIM

NOT_RUN_ABOVE = ("tabm",)  # early-stopped deep peers: no timed slice extrapolates


def write_data(directory, name, *, n_train, n_test, n_features, seed=SEED):
    """The simulation's binned data as a ``.npz`` file; its path."""
    from moe_tabular.ood import make_correlation_shift

    data = make_correlation_shift(
        n_train=n_train,
        n_test=n_test,
        n_features=n_features,
        n_core_features=min(SIM["n_core_features"], n_features),
        corr=SIM["corr"],
        x_noise=SIM["x_noise"],
        n_bins=N_BINS,
        random_state=seed,
    )
    path = Path(directory) / f"{name}.npz"
    np.savez(
        path,
        **{key: getattr(data, key).to_numpy().astype(np.int8) for key in data._fields},
    )
    return str(path)


def plan(spec, n_train, *, full_up_to, time_budget=None):
    """What to run for ``spec`` at ``n_train`` rows: a spec, or a not-run result.

    Up to ``full_up_to`` rows every model runs its full default fit. Above it,
    the deep peers of fixed epochs are fit for 1 and 2 epochs and extrapolated
    (``probe_epochs``), ``ours`` fits for ``time_budget`` seconds of epochs
    when one is given, and the early-stopped deep peers are not run: the
    result says so (``not_run``).
    """
    name = spec["model"]
    if n_train <= full_up_to:
        return spec
    if name in NOT_RUN_ABOVE:
        return {
            "model": name,
            "not_run": f"above --full-up-to {full_up_to:,}",
            "fit_est_s": math.nan,
            "extrapolated": False,
        }
    if name in FIXED_EPOCHS:
        spec = dict(spec, probe_epochs=True)
    if name == "ours" and time_budget is not None:
        spec = dict(spec, time_budget=time_budget)
    return spec


def run_child(spec, log):
    """Measure ``spec`` in a fresh ``python -m benchmarks.perf.measure`` process."""
    command = [sys.executable, "-m", "benchmarks.perf.measure", json.dumps(spec)]
    env = dict(os.environ)
    if spec.get("threads"):
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[name] = str(spec["threads"])
    start = time.perf_counter()
    proc = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=_common.ROOT
    )
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode or not lines:
        log(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise RuntimeError(f"configuration {spec} failed (exit {proc.returncode})")
    result = json.loads(lines[-1][len(RESULT_TAG) :])
    result["process_wall_s"] = wall
    return result


_MEDIANS = (
    "fit_s",
    "fit_cpu_s",
    "fit_est_s",
    "epoch_s",
    "step_s",
    "predict_s",
    "predict_cpu_s",
    "predict_rows_per_s",
    "overhead_s",
)


def summarise(runs, log):
    """One result from repeated runs: median times, max peak RSS, every fit time."""
    result = dict(runs[0])
    for key in _MEDIANS:
        if key in result:
            result[key] = float(np.median([run[key] for run in runs]))
    for key in ("peak_rss_fit_mb", "peak_rss_mb"):
        result[key] = max(run[key] for run in runs)
    result["repeats"] = len(runs)
    result["fit_est_s_runs"] = [run["fit_est_s"] for run in runs]
    mark = "~" if result["extrapolated"] else ""
    accuracy = f", OOD acc {result['accuracy']:.3f}" if "accuracy" in result else ""
    log(
        f"  {result['model']:>8} N={result['n_train']:>8,} "
        f"D={result['n_features']:>2}: fit {mark}{result['fit_est_s']:.2f} s"
        f"{accuracy}, peak RSS {result['peak_rss_fit_mb']:.0f} MiB "
        f"({result['process_wall_s']:.1f} s wall)"
    )
    return result


def repeat(spec, repeats, log, threads=None):
    """Run ``spec`` in ``repeats`` fresh processes; median times, max peak RSS."""
    spec = dict(spec, threads=threads)
    return summarise([run_child(spec, log) for _ in range(repeats)], log)


def round_robin(specs, repeats, log, threads=None):
    """Run every spec once per round, ``repeats`` rounds; summaries by name.

    A slow spell of a shared machine then hits every configuration, not one,
    and each round gives a paired ratio.
    """
    runs = {name: [] for name in specs}
    for _ in range(repeats):
        for name, spec in specs.items():
            runs[name].append(run_child(dict(spec, threads=threads), log))
    return {name: summarise(runs[name], log) for name in specs}


def machine_info():
    """Versions, cores and load of this machine, for the report."""
    import sklearn
    import torch

    import moe_tabular

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cores": affinity,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "torch": torch.__version__,
        "torch_threads_default": torch.get_num_threads(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "moe_tabular": moe_tabular.__version__,
    }
    for package in ("catboost", "lightgbm", "pytabkit"):
        if importlib.util.find_spec(package) is not None:
            from importlib.metadata import version

            info[package] = version(package)
    return info
