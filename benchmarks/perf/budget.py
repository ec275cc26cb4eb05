"""Training budgets on the paper's simulation at any width and size.

Fits each configuration of ``MoECBOWClassifier`` (and, with ``--baselines``,
HistGB; with ``--peers``, optional peers such as pytabkit's RealMLP-TD and
TabM-D, reading the bin codes as numbers) on the correlation-shift simulation
with ``--features`` covariates and ``--rows`` training rows, one fit per seed,
and prints OOD accuracy, epochs run and fit time per seed, then each
configuration's mean and its paired difference to the first configuration (same
seeds, same data).

``--short-runs`` instead checks what a short run learns: 200 rows whose class
is the sign of one of four numeric columns (a fifth, categorical, is noise),
``max_epochs=15`` (unless a configuration sets it) at the default learning
rate, accuracy on 200 new rows, for each ``--config`` on the same tables.

Examples:
  python -m benchmarks budget --short-runs --seeds 20 --config default= \\
      --config lr03=learning_rate=0.03 --config e200=max_epochs=200
  python -m benchmarks budget --rows 10000 --features 20 --seeds 3 \\
      --config default= --config long=max_epochs=200
  python -m benchmarks budget --rows 10000 --config es=early_stopping=True,\\
      max_epochs=1000,learning_rate_schedule=constant --baselines
  python -m benchmarks budget --rows 1000 --seeds 5 --config default= \\
      --baselines --peers realmlp,tabm
"""

import csv
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks._common import make_parser, paired_test, split_list
from moe_tabular import MoECBOWClassifier
from moe_tabular.ood import PAPER_SEEDS, make_correlation_shift, parse_params
from moe_tabular.ood._peers import make_peer

SHORT_RUN_EPOCHS = 15  # --short-runs: a configuration's max_epochs unless it sets one


def _data(rows, features, seed):
    data = make_correlation_shift(
        n_train=rows,
        n_test=2000,
        n_features=features,
        n_core_features=min(5, features),
        corr=0.9,
        random_state=seed,
    )
    return data.X_train, data.y_train, data.X_test, data.y_test


def _fit(model, X, y, X_test, y_test):
    start = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - start
    accuracy = float(np.mean(model.predict(X_test) == np.asarray(y_test)))
    return accuracy, fit_s, getattr(model, "n_iter_", float("nan"))


def _short_runs(n_seeds, configs):
    """The one-column rule in a short run, for each configuration (same data)."""
    import pandas as pd

    rng = np.random.default_rng(0)
    tables = []
    for _ in range(n_seeds):
        X = pd.DataFrame({f"x{j}": rng.normal(size=400) for j in range(4)})
        X["c"] = rng.choice(list("abcd"), 400)
        tables.append((X, np.where(X["x0"] > 0, "yes", "no")))
    reference = None
    for name, params in configs.items():
        scores = []
        for seed, (X, y) in enumerate(tables):
            model = MoECBOWClassifier(
                **{"max_epochs": SHORT_RUN_EPOCHS, "random_state": seed, **params}
            )
            model.fit(X[:200], y[:200])
            scores.append(model.score(X[200:], y[200:]))
            print(
                f"{name} seed {seed}: accuracy {scores[-1]:.3f} "
                f"(learning rate {model.learning_rate_:.2e})",
                flush=True,
            )
        epochs = params.get("max_epochs", SHORT_RUN_EPOCHS)
        print(
            f"{name}: one-column rule, 200 rows, {epochs} epochs: mean accuracy "
            f"{np.mean(scores):.3f}, lowest {np.min(scores):.3f}, "
            f"{sum(s < 0.95 for s in scores)} of {n_seeds} seeds under 0.95",
            flush=True,
        )
        if reference is None:
            reference = name, np.array(scores)
        else:
            diff = np.array(scores) - reference[1]
            print(
                f"{name} against {reference[0]}, paired on the same tables: "
                f"{diff.mean():+.4f} (p = {paired_test(diff)[1]:.3f}; "
                f"{int((diff > 0).sum())} higher, {int((diff < 0).sum())} lower)",
                flush=True,
            )


def main(argv=None, *, prog="python -m benchmarks budget"):
    """Run the budgets; ``argv`` defaults to ``sys.argv[1:]``."""
    parser = make_parser(prog, __doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="NAME=KEY=VALUE[,KEY=VALUE...]",
        help="a configuration of MoECBOWClassifier (repeatable; the first is "
        "the reference); 'default=' is the defaults",
    )
    parser.add_argument("--baselines", action="store_true", help="add HistGB")
    parser.add_argument(
        "--peers",
        type=split_list,
        default=[],
        help="comma-separated optional peers to add (keys of "
        "moe_tabular.ood._peers.PEERS, e.g. realmlp,tabm; one thread each)",
    )
    parser.add_argument("--out", type=Path, help="write the runs as CSV here")
    parser.add_argument(
        "--short-runs", action="store_true", help="the short-run check instead"
    )
    args = parser.parse_args(argv)
    configs = {}
    for item in args.config or ["default="]:
        name, _, params = item.partition("=")
        configs[name] = parse_params(p for p in params.split(",") if p)
    if args.short_runs:
        return _short_runs(args.seeds, configs)
    runs = []
    for seed in PAPER_SEEDS[: args.seeds]:
        X, y, X_test, y_test = _data(args.rows, args.features, seed)
        models = {
            name: MoECBOWClassifier(random_state=0, **params)
            for name, params in configs.items()
        }
        if args.baselines:
            from sklearn.ensemble import HistGradientBoostingClassifier

            models["histgb"] = HistGradientBoostingClassifier(random_state=0)
        for peer in args.peers:
            models[peer] = make_peer(peer, seed=0)
        for name, model in models.items():
            accuracy, fit_s, epochs = _fit(model, X, y, X_test, y_test)
            runs.append(
                {
                    "config": name,
                    "seed": seed,
                    "ood_accuracy": accuracy,
                    "fit_s": fit_s,
                    "epochs": epochs,
                }
            )
            print(
                f"seed {seed} {name:>12}: OOD accuracy {accuracy:.4f}, "
                f"{epochs} epochs, fit {fit_s:.1f} s",
                flush=True,
            )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(runs[0]))
            writer.writeheader()
            writer.writerows(runs)
    names = list(dict.fromkeys(run["config"] for run in runs))
    reference = names[0]
    by = {
        name: np.array([r["ood_accuracy"] for r in runs if r["config"] == name])
        for name in names
    }
    print(
        f"\nD={args.features}, {args.rows} training rows, "
        f"{args.seeds} seeds; paired against {reference!r}:"
    )
    for name in names:
        fit = np.mean([r["fit_s"] for r in runs if r["config"] == name])
        diff = by[name] - by[reference]
        print(
            f"{name:>12}: OOD accuracy {by[name].mean():.4f} "
            f"(sd {by[name].std(ddof=1) if len(by[name]) > 1 else 0:.4f}), "
            f"fit {fit:.1f} s, difference {diff.mean():+.4f} "
            f"(p = {paired_test(diff)[1]:.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
