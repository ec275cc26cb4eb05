"""The measuring child of ``python -m benchmarks perf``: one configuration a process.

The parent (``benchmarks/perf/children.py``) writes the data to a file (the
simulation's bins as ``.npz``, a real table's task as a ``.pkl`` pickle of
:class:`moe_tabular.ood.Task`) and starts ``python -m benchmarks.perf.measure
'<spec as JSON>'`` in the repository root; this child loads the data, fits one
model (the peers as ``moe_tabular.ood._peers.make_peer`` builds them; on a real
table, HistGB as the OOD harness builds it and every peer reading the
categorical columns natively), optionally predicts and scores (a real table: on
its OOD rows), and prints one tagged JSON line: fit and predict times, CPU times, its
own peak RSS (Linux ``VmHWM``: interpreter, imports and data included) and the
OOD accuracy. Every child imports torch (with ``moe_tabular``), as the children of
the committed results did, so the peak RSS of every model counts it alike. The
report is ``benchmarks/perf/report.py``'s.
"""

import gc
import json
import resource
import sys
import time

import numpy as np

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
    """The train and test frames of a data file; a real table's ``task`` too."""
    import pandas as pd

    if str(path).endswith(".pkl"):
        task = pd.read_pickle(path)
        return {
            "X_train": task.X_train.reset_index(drop=True),
            "y_train": task.y_train.to_numpy(),
            "X_test": task.X_ood.reset_index(drop=True),
            "y_test": task.y_ood.to_numpy(),
            "task": task,
        }
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
    from benchmarks.paper.reference import PaperReferenceClassifier

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


def _final(model):
    """The estimator at the end of a pipeline, or the model itself."""
    return model[-1] if hasattr(model, "steps") else model


def _categorical(spec):
    """The categorical columns of a real table's task; None on the simulation."""
    task = spec.get("task")
    if task is None:
        return None
    return [c for c in task.X_train.columns if c in task.categorical]


def _fit_histgb(spec, X, y):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from moe_tabular.ood import make_model

    task = spec.get("task")
    if task is None:
        model = HistGradientBoostingClassifier(random_state=spec["seed"])
    else:  # as the OOD harness builds it: native categorical columns
        model = make_model("hgb", task, seed=spec["seed"])
    fit_s, fit_cpu_s = _timed_fit(model, X, y)
    booster = _final(model)
    return model, {
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "fit_est_s": fit_s,
        "n_iter": int(booster.n_iter_),
        "early_stopping": bool(booster.do_early_stopping_),
        "extrapolated": False,
    }


def _peer(spec, **params):
    """The peer of ``spec`` as the registry builds it: on the simulation, on the
    frame as it is; on a real table, reading its categorical columns."""
    threads = spec.get("threads") or None  # None: the package's default
    return make_peer(
        spec["model"],
        seed=spec["seed"],
        categorical=_categorical(spec),
        n_threads=threads,
        **params,
    )


def _fit_boosting(spec, X, y):
    model = _peer(spec)
    fit_s, fit_cpu_s = _timed_fit(model, X, y)
    booster = _final(model)
    n_iter = booster.tree_count_ if spec["model"] == "catboost" else booster.n_iter_
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
    if spec["model"] in TORCH_MODELS:  # threads and warm-up of the torch models
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
    task = frames.get("task")
    if task is not None:  # a real table: fits read its columns' kinds from it
        if spec["model"] == "paper":
            raise ValueError("the paper procedure runs on the simulation's bins only")
        spec = dict(spec, task=task)
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
        pred = _predict(model, X_pred)
        result["accuracy"] = float(np.mean(pred == y_test))
        if task is None:  # the simulation's target is a bin index
            pred = pred.astype(np.int64)
            result["mse"] = float(np.mean((pred - y_test) ** 2))
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


if __name__ == "__main__":
    print(RESULT_TAG + json.dumps(measure(json.loads(sys.argv[1]))), flush=True)
