"""The measuring half of ``python -m benchmarks perf``: one configuration per process.

The parent (:func:`run_child`) writes the data to a ``.npz`` file and starts
``python -m benchmarks._perf_measure '<spec as JSON>'`` in the repository root;
the child loads the data, fits one model, optionally predicts and scores, and
prints one tagged JSON line: fit and predict times, CPU times, its own peak RSS
(Linux ``VmHWM``: interpreter, imports and data included) and the OOD accuracy.
The report half is ``benchmarks/_perf_report.py``.
"""

import gc
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import _common
from moe_tabular.ood._peers import make_peer

RESULT_TAG = "@@bench_perf-result@@"
SEED = 4951  # PAPER_SEEDS[0]
N_BINS = 10
SIM = {"n_core_features": 5, "corr": 0.9, "x_noise": 0.0}
LABELS = {
    "ours": "MoECBOWClassifier (defaults)",
    "paper": "paper procedure (torch port)",
    "histgb": "HistGradientBoostingClassifier",
    "catboost": "CatBoostClassifier",
    "lightgbm": "LGBMClassifier",
    "realmlp": "RealMLP-TD (pytabkit)",
    "tabm": "TabM-D (pytabkit)",
}
TORCH_MODELS = ("ours", "paper", "realmlp", "tabm")
# deep peers whose default fit runs a fixed number of epochs (so that a timed
# slice extrapolates): RealMLP-TD trains 256 epochs and keeps the best one
FIXED_EPOCHS = {"realmlp": 256}


# ----------------------------------------------------------------------------
# child side
# ----------------------------------------------------------------------------
def _proc_status_mb(field):
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in MiB, or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mb():
    """Current resident set size of this process, in MiB."""
    rss = _proc_status_mb("VmRSS")
    return float("nan") if rss is None else rss


def _peak_rss_mb():
    """Peak resident set size of this process, in MiB.

    Linux: ``VmHWM``, the high-water mark of this process's own address space.
    ``ru_maxrss`` is not used there: ``execve`` carries the parent's high-water
    mark over into it, so a child of a large parent would report the parent's.
    """
    peak = _proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _cpu_s():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load(path):
    import pandas as pd

    data = np.load(path)
    n_features = data["X_train"].shape[1]
    columns = [f"x{j}" for j in range(n_features)]
    frames = {}
    for part in ("train", "test"):
        frames[f"X_{part}"] = pd.DataFrame(
            data[f"X_{part}"].astype(np.int64), columns=columns
        )
        frames[f"y_{part}"] = data[f"y_{part}"].astype(np.int64)
    return frames


def _timed_fit(model, X, y):
    start, cpu = time.perf_counter(), _cpu_s()
    model.fit(X, y)
    return time.perf_counter() - start, _cpu_s() - cpu


def _fit_ours(spec, X, y):
    """A full default fit; with ``time_budget``, a timed slice extrapolated.

    ``max_epochs`` (predict timing only) caps the fit, reported as such.
    """
    from moe_tabular import MoECBOWClassifier

    device = spec.get("device", "cpu")
    model = MoECBOWClassifier(random_state=spec["seed"], device=device)
    defaults = model.get_params()
    full_epochs = defaults["max_epochs"]
    budget = spec.get("time_budget")
    cap = spec.get("max_epochs")
    if budget is not None and isinstance(full_epochs, int):
        # probe one epoch, then as many as the budget allows
        model.set_params(max_epochs=1)
        probe_s, probe_cpu_s = _timed_fit(model, X, y)
        epoch_s = float(model.history_["dur"].mean())
        fits = int(max(0.0, budget - probe_s) // epoch_s)
        cap = 1 if fits < 2 else min(full_epochs, fits)
    capped = cap is not None and isinstance(full_epochs, int) and cap < full_epochs
    model.set_params(max_epochs=full_epochs if cap is None else cap)
    if cap is None or cap > 1 or budget is None:
        fit_s, fit_cpu_s = _timed_fit(model, X, y)
    else:  # the one-epoch probe is the measurement
        fit_s, fit_cpu_s = probe_s, probe_cpu_s
    durations = model.history_["dur"].to_numpy()
    epoch_s = float(durations.mean())
    info = {
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "epochs": len(durations),
        "epoch_s": epoch_s,
        "overhead_s": fit_s - float(durations.sum()),
        "defaults": {k: v for k, v in defaults.items() if k != "random_state"},
        "extrapolated": capped,
        "fit_est_s": fit_s,
    }
    if budget is not None and not isinstance(full_epochs, int):
        info["extrapolation"] = (
            f"--time-budget ignored: max_epochs={full_epochs!r} is not a fixed "
            "number of epochs to extrapolate to, so the full fit ran"
        )
    if capped:
        info["fit_est_s"] = info["overhead_s"] + epoch_s * full_epochs
        early = defaults["early_stopping"]
        info["extrapolation"] = (
            f"{len(durations)} of {full_epochs} epochs run; "
            "est. = overhead + mean epoch x max_epochs"
            + (f" (an upper bound: early_stopping={early!r})" if early else "")
        )
    return model, info


def _fit_paper(spec, X, y):
    from benchmarks.paper_reference import PaperReferenceClassifier

    n_rows = len(y)
    rows = spec.get("rows") or n_rows
    model = PaperReferenceClassifier(
        n_cat=N_BINS, max_steps=spec.get("max_steps"), random_state=spec["seed"]
    )
    fit_s, fit_cpu_s = _timed_fit(model, X.to_numpy()[:rows], y[:rows])
    seq_len = X.shape[1] + 1
    full_steps = -(-n_rows * seq_len // model.batch_size) * model.epochs
    step_s = model.train_seconds_ / model.n_steps_
    extrapolated = model.n_steps_ < full_steps
    info = {
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "steps": model.n_steps_,
        "full_steps": full_steps,
        "step_s": step_s,
        "epoch_s": step_s * full_steps / model.epochs,
        "materialise_s": model.materialise_seconds_ * n_rows / rows,
        "extrapolated": extrapolated,
        # inputs and labels int64, sample weights float32: (N*L) x L each
        "copies_gb": n_rows * seq_len * seq_len * (8 + 8 + 4) / 1e9,
        "fit_est_s": fit_s,
    }
    if extrapolated:
        info["fit_est_s"] = info["materialise_s"] + step_s * full_steps
        info["extrapolation"] = (
            f"{model.n_steps_} of {full_steps} steps run on {rows} of {n_rows} "
            "rows; est. = materialise x N/rows + mean step x steps"
        )
    return model, info


def _fit_histgb(spec, X, y):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(random_state=spec["seed"])
    fit_s, fit_cpu_s = _timed_fit(model, X, y)
    return model, {
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "fit_est_s": fit_s,
        "n_iter": int(model.n_iter_),
        "early_stopping": bool(model.do_early_stopping_),
        "extrapolated": False,
    }


def _peer(spec, **params):
    """The peer of ``spec`` as the registry builds it, on the frame as it is."""
    threads = spec.get("threads") or None  # None: the package's default
    return make_peer(spec["model"], seed=spec["seed"], n_threads=threads, **params)


def _fit_boosting(spec, X, y):
    model = _peer(spec)
    fit_s, fit_cpu_s = _timed_fit(model, X, y)
    n_iter = model.tree_count_ if spec["model"] == "catboost" else model.n_iter_
    return model, {
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "fit_est_s": fit_s,
        "n_iter": int(n_iter),
        "extrapolated": False,
    }


def _fit_deep_peer(spec, X, y):
    """pytabkit's defaults; with ``probe_epochs``, 1 and 2 epochs extrapolated.

    ``n_epochs`` (predict timing only) fits that many epochs, not extrapolated.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pytorch-lightning's own
        if not spec.get("probe_epochs"):
            epochs = {"n_epochs": spec["n_epochs"]} if spec.get("n_epochs") else {}
            model = _peer(spec, **epochs)
            fit_s, fit_cpu_s = _timed_fit(model, X, y)
            info = {"fit_s": fit_s, "fit_cpu_s": fit_cpu_s, "fit_est_s": fit_s}
            return model, {**info, **epochs, "extrapolated": False}
        one_s, _ = _timed_fit(_peer(spec, n_epochs=1), X, y)
        model = _peer(spec, n_epochs=2)
        two_s, two_cpu_s = _timed_fit(model, X, y)
    epoch_s = max(two_s - one_s, 0.0)
    overhead_s = max(one_s - epoch_s, 0.0)
    full = FIXED_EPOCHS[spec["model"]]
    return model, {
        "fit_s": two_s,
        "fit_cpu_s": two_cpu_s,
        "epoch_s": epoch_s,
        "overhead_s": overhead_s,
        "fit_est_s": overhead_s + full * epoch_s,
        "extrapolated": True,
        "extrapolation": f"fits of 1 and 2 of {full} epochs; est. = overhead + "
        f"(2-epoch fit - 1-epoch fit) x {full}",
    }


FITS = {
    "ours": _fit_ours,
    "paper": _fit_paper,
    "histgb": _fit_histgb,
    "catboost": _fit_boosting,
    "lightgbm": _fit_boosting,
    "realmlp": _fit_deep_peer,
    "tabm": _fit_deep_peer,
}


def _predict(model, X):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pytorch-lightning's own
        return np.asarray(model.predict(X)).reshape(len(X))


def measure(spec):
    """Fit (and predict, score) one configuration in this process; the result."""
    torch_threads, warmup_s = None, 0.0
    if spec["model"] in TORCH_MODELS:  # the other processes never load torch
        import torch

        if spec.get("threads"):
            torch.set_num_threads(spec["threads"])
        torch_threads = torch.get_num_threads()
        # Once per process, not per fit: the first optimizer built imports
        # torch._dynamo. GridSearchCV pays it once per worker, so it is timed
        # apart from the fits, alike for every torch model.
        start = time.perf_counter()
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
        warmup_s = time.perf_counter() - start
    frames = _load(spec["data"])
    X_train, y_train = frames["X_train"], frames["y_train"]
    X_test, y_test = frames["X_test"], frames["y_test"]
    gc.collect()
    result = {
        "model": spec["model"],
        "n_train": len(y_train),
        "n_features": X_train.shape[1],
        "rss_before_fit_mb": _rss_mb(),
        "torch_threads": torch_threads,
        "warmup_s": warmup_s,
    }
    model, info = FITS[spec["model"]](spec, X_train, y_train)
    result.update(info)
    result["peak_rss_fit_mb"] = _peak_rss_mb()
    if spec.get("predict"):
        times, cpu = [], _cpu_s()
        X_pred = X_test.to_numpy() if spec["model"] == "paper" else X_test
        for _ in range(spec.get("predict_repeats", 3)):
            start = time.perf_counter()
            pred = _predict(model, X_pred)
            times.append(time.perf_counter() - start)
        result["predict_cpu_s"] = (_cpu_s() - cpu) / len(times)
        result["predict_rows"] = len(y_test)
        result["predict_s"] = float(np.median(times))
        result["predict_times_s"] = times
        result["predict_rows_per_s"] = len(y_test) / result["predict_s"]
    if spec.get("score"):
        X_pred = X_test.to_numpy() if spec["model"] == "paper" else X_test
        pred = _predict(model, X_pred).astype(np.int64)
        result["accuracy"] = float(np.mean(pred == y_test))
        result["mse"] = float(np.mean((pred - y_test) ** 2))
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


# ----------------------------------------------------------------------------
# parent side
# ----------------------------------------------------------------------------
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


def run_child(spec, log):
    """Measure ``spec`` in a fresh ``python -m benchmarks._perf_measure`` process."""
    command = [sys.executable, "-m", "benchmarks._perf_measure", json.dumps(spec)]
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


if __name__ == "__main__":
    print(RESULT_TAG + json.dumps(measure(json.loads(sys.argv[1]))), flush=True)
