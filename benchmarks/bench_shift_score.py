"""How well ``score_samples`` (the pseudo-log-likelihood) separates OOD rows.

For each task a model is fitted on training rows; then in-distribution (ID)
test rows and out-of-distribution (OOD) rows are scored, and the AUROC of
"OOD" against minus the score is reported (1: every OOD row scores below every
ID row; 0.5: no separation; below 0.5: OOD rows look *more* typical).

Tasks:
- the paper's correlation-shift simulation (``make_correlation_shift``, raw
  covariates): training rows from ``N(0, S_train)``; ID rows drawn from the
  same distribution (``shift=False``), OOD rows from the flipped correlation
  (``shift=True``; both calls share the training rows and the seed, so ID and
  OOD rows come in pairs built from the same standard normal draws);
- Auto MPG (raw values, ``origin`` dropped): a random 70% of the USA cars to
  fit, the other 30% as ID rows, the European and Japanese cars as OOD rows.

Scores: MoECBOWRegressor.score_samples (fitted on X and y, the target masked
when scoring), MoECBOWImputer.score_samples (fitted on X alone), and
IsolationForest.score_samples on the raw numbers or on one-hot quantile bins
(10 bins, the MoE models' view of a numeric column).

Examples:
  python -m benchmarks shift --quick
  python benchmarks/bench_shift_score.py --seeds 3 --threads 1
"""

import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer

from moe_tabular import MoECBOWImputer, MoECBOWRegressor
from moe_tabular.datasets import load_auto_mpg
from moe_tabular.ood import PAPER_SEEDS, make_correlation_shift

try:
    from . import _common
except ImportError:  # run as a script: python benchmarks/<this file>
    import _common

DEFAULT_OUT = _common.ROOT / "benchmarks" / "results" / "shift_score.md"
SETTINGS = ((1, 0.1, 0.0), (1, 0.9, 0.0), (5, 0.1, 0.0), (5, 0.9, 0.0), (5, 0.9, 1.5))


# -- tasks: (X_train, y_train, X_id, X_ood) ------------------------------------------
def simulation(setting, seed, n_train, n_test):
    core, corr, x_noise = setting
    common = {
        "n_train": n_train,
        "n_test": n_test,
        "n_core_features": core,
        "corr": corr,
        "x_noise": x_noise,
        "binned": False,
        "random_state": seed,
    }
    shifted = make_correlation_shift(**common)
    same = make_correlation_shift(**common, shift=False)
    return shifted.X_train, shifted.y_train, same.X_test, shifted.X_test


def auto_mpg(seed):
    data = load_auto_mpg(binned=False)
    frame = data.frame
    X = frame.drop(columns=[data.target, data.domain])
    usa = (frame[data.domain] == "USA").to_numpy()
    train, held_out = train_test_split(
        np.flatnonzero(usa), test_size=0.3, random_state=seed
    )
    return X.iloc[train], data.y.iloc[train], X.iloc[held_out], X[~usa]


# -- scores (higher = more typical) ------------------------------------------------
def moe_regressor(X, y, seed, epochs):
    return MoECBOWRegressor(**_common.moe_params(seed, epochs)).fit(X, y).score_samples


def moe_imputer(X, y, seed, epochs):
    return MoECBOWImputer(**_common.moe_params(seed, epochs)).fit(X).score_samples


def forest_raw(X, y, seed, epochs):
    return IsolationForest(random_state=seed).fit(X).score_samples


def forest_bins(X, y, seed, epochs):
    binner = KBinsDiscretizer(
        n_bins=10,
        encode="onehot-dense",
        strategy="quantile",
        quantile_method="averaged_inverted_cdf",
    )
    model = make_pipeline(binner, IsolationForest(random_state=seed))
    return model.fit(X).score_samples


METHODS = {
    "MoECBOWRegressor (X, y)": moe_regressor,
    "MoECBOWImputer (X only)": moe_imputer,
    "IsolationForest (raw)": forest_raw,
    "IsolationForest (one-hot bins)": forest_bins,
}


def auroc(score, X_id, X_ood):
    scores = np.r_[score(X_id), score(X_ood)]
    is_ood = np.r_[np.zeros(len(X_id)), np.ones(len(X_ood))]
    return roc_auc_score(is_ood, -scores)


# -- the program -----------------------------------------------------------------
def _parser(prog):
    parser = _common.make_parser(prog, __doc__)
    add = parser.add_argument
    add(
        "--quick",
        action="store_true",
        help="two simulation settings with 500 rows, Auto MPG, one seed, 20 epochs",
    )
    add(
        "--seeds",
        type=int,
        default=3,
        help="seeds per task: the paper's first N for the simulation, 0..N-1 for "
        "the Auto MPG split (default 3)",
    )
    add("--n-train", type=int, default=2000, help="simulation training rows")
    add("--n-test", type=int, default=1000, help="simulation ID and OOD rows each")
    _common.add_run_options(parser, DEFAULT_OUT)
    return parser


def main(argv=None, *, prog="python -m benchmarks shift"):
    """Run the benchmark; ``argv`` defaults to ``sys.argv[1:]``."""
    args = _parser(prog).parse_args(argv)
    command = _common.begin_run(args, argv, prog)
    settings, n_seeds, epochs = SETTINGS, args.seeds, args.max_epochs
    n_train, n_test = args.n_train, args.n_test
    if args.quick:
        settings, n_seeds, epochs = (SETTINGS[0], SETTINGS[3]), 1, epochs or 20
        n_train, n_test = 500, 500
    tasks = [
        (
            f"simulation {core}, {corr}, {noise}",
            seed,
            lambda s=(core, corr, noise), seed=seed: simulation(
                s, seed, n_train, n_test
            ),
        )
        for core, corr, noise in settings
        for seed in PAPER_SEEDS[:n_seeds]
    ] + [
        ("Auto MPG: USA vs Europe, Japan", seed, lambda seed=seed: auto_mpg(seed))
        for seed in range(n_seeds)
    ]
    rows = []
    for task, seed, make in tasks:
        X, y, X_id, X_ood = make()
        for method, fit in METHODS.items():
            start = time.perf_counter()
            score = auroc(fit(X, y, seed, epochs), X_id, X_ood)
            seconds = time.perf_counter() - start
            rows.append((task, seed, method, score, seconds))
            print(
                f"{task} seed {seed} {method}: AUROC {score:.3f} ({seconds:.1f} s)",
                flush=True,
            )
    results = pd.DataFrame(rows, columns=["task", "seed", "method", "auroc", "seconds"])
    markdown = to_markdown(results, command, epochs, n_train, n_test)
    _common.write_markdown(markdown, args.out or (None if args.quick else DEFAULT_OUT))
    return 0


def to_markdown(results, command, epochs, n_train, n_test):
    table = results.groupby(["task", "method"], sort=False)["auroc"].agg(
        ["mean", "std"]
    )
    cells = table.apply(
        lambda r: f"{r['mean']:.3f} ± {0 if np.isnan(r['std']) else r['std']:.3f}",
        axis=1,
    ).unstack("method")[list(METHODS)]
    cells = cells.loc[results["task"].unique()]
    seconds = results.groupby("method", sort=False)["seconds"].mean()
    n_seeds = results.groupby(["task", "method"]).size().max()
    header = [
        "## Shift score: AUROC of OOD rows against ID rows",
        "",
        f"`{command}`",
        "",
        "AUROC of OOD vs ID rows from minus `score_samples` (1: perfect, 0.5: "
        "chance, < 0.5: the OOD rows look more typical), mean ± std over "
        f"{n_seeds} seeds. Simulation rows `n_core_features, corr, x_noise`: "
        f"{n_train} training rows, {n_test} ID and {n_test} OOD rows.",
        "",
        "MoE models (the defaults but `max_epochs`): "
        f"{_common.moe_summary(MoECBOWRegressor, epochs)}.",
        "",
    ]
    lines = [
        "| task | " + " | ".join(cells.columns) + " |",
        "|---" * (len(cells.columns) + 1) + "|",
    ]
    lines += [f"| {t} | " + " | ".join(row) + " |" for t, row in cells.iterrows()]
    lines += [
        "",
        "Mean seconds per fit and scoring: "
        + ", ".join(f"{m} {s:.1f}" for m, s in seconds.items())
        + ".",
    ]
    return "\n".join(header + lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(prog="python benchmarks/bench_shift_score.py"))
