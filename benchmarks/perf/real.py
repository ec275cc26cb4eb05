"""The real-table section of ``python -m benchmarks perf``: a binary table.

The simulation has 10 classes, and HistGB grows one tree per class and round:
ten trees where a binary target needs one, which flatters ours. This section
times every model on a binary real table, UCI bank-marketing, split by its
natural domain as the OOD harness splits it (:func:`moe_tabular.ood.make_task`:
train on the 2008 calls, less the 20% held out as ID test; score on the
2009-2010 calls), at a few training sizes (a stratified subsample of the
training rows; ``full``: all of them). Every model of the run fits, in turn,
in a fresh process, ``--repeats`` rounds (``children.round_robin``), so each
round gives a paired fit / HistGB ratio. The table is
``benchmarks/perf/report.py``'s.
"""

import argparse

import pandas as pd

from benchmarks.perf import children
from benchmarks.perf.measure import SEED

DATASET = "bank-marketing"


def parse_sizes(text):
    """``--real-sizes``: ``"2000,1e4,full"`` -> ``[2000, 10000, None]``.

    None stands for every training row; ``"none"`` gives no size (the section
    is skipped).

    Examples
    --------
    >>> parse_sizes("2000, 1e4,full")
    [2000, 10000, None]
    >>> parse_sizes("none")
    []
    """
    if text.strip().lower() == "none":
        return []
    sizes = []
    for item in (v.strip().lower() for v in text.split(",")):
        if not item:
            continue
        if item in ("full", "all"):
            sizes.append(None)
            continue
        try:
            size = int(float(item))
        except ValueError:
            size = 0
        if size < 1:
            raise argparse.ArgumentTypeError(
                f"--real-sizes expects positive row counts, 'full' or 'none'; "
                f"got {item!r} in {text!r}."
            )
        sizes.append(size)
    return sizes


def _skip(reason, log):
    log(f"real-table section skipped: {reason}")
    return {"skipped": reason}


def write_tasks(directory, args, log):
    """Each size's task as a ``.pkl`` in ``directory``; the section to run.

    Built before any fit, so that a missing file stops the run at once. The
    section: the table's description and one point per distinct training
    size, or ``{"skipped": reason}``.
    """
    from moe_tabular.ood import make_task

    if not args.real_sizes:
        return _skip("no --real-sizes", log)
    if args.data_dir is None or not args.data_dir.is_dir():
        where = args.data_dir or "../shared/datasets beside the repository"
        return _skip(f"no data folder ({where} not found; give --data-dir)", log)
    section, points, seen = {}, [], set()
    for size in args.real_sizes:
        task = make_task(
            DATASET, seed=SEED, data_dir=args.data_dir, max_train_rows=size
        )
        n_train = len(task.y_train)
        if n_train in seen:
            log(f"real table: size {size or 'full'} gives {n_train:,} rows again")
            continue
        seen.add(n_train)
        path = f"{directory}/real_{DATASET}_{n_train}.pkl"
        pd.to_pickle(task, path)
        majority = task.y_train.mode().iloc[0]
        points.append(
            {
                "size": "full" if size is None or n_train < size else f"{size:,}",
                "n_train": n_train,
                "data": path,
                "majority_ood_accuracy": float((task.y_ood == majority).mean()),
            }
        )
        section = section or {
            "dataset": DATASET,
            "split": task.split,
            "seed": SEED,
            "n_features": task.X_train.shape[1],
            "categorical": [c for c in task.X_train.columns if c in task.categorical],
            "n_id_test": len(task.y_id),
            "n_ood": len(task.y_ood),
            "ood_positive_rate": float(task.y_ood.mean()),
        }
    return dict(section, points=points)


def run_section(section, args, log):
    """Fit every model at every point of ``section``; the section with results."""
    if "skipped" in section:
        return section
    points = []
    for point in section["points"]:
        n_train = point["n_train"]
        log(f"real table: {section['dataset']}, N={n_train:,} ({point['size']})")
        common = {
            "data": point["data"],
            "seed": SEED,
            "device": args.device,
            "score": True,
        }
        planned = {
            name: children.plan(
                dict(common, model=name),
                n_train,
                full_up_to=args.full_up_to,
                time_budget=args.time_budget,
            )
            for name in args.models
        }
        specs = {k: v for k, v in planned.items() if not v.get("not_run")}
        measured = children.round_robin(specs, args.repeats, log, args.threads)
        models = {k: measured.get(k, v) for k, v in planned.items()}
        kept = {k: v for k, v in point.items() if k != "data"}  # a temporary file
        points.append(dict(kept, models=models))
    return dict(section, points=points)
