"""How well ``score_samples`` (the pseudo-log-likelihood) separates OOD rows.

For each task a model is fitted on training rows; then in-distribution (ID)
test rows and out-of-distribution (OOD) rows are scored, and the AUROC of
"OOD" against minus the score is reported (1: every OOD row scores below every
ID row; 0.5: no separation; below 0.5: OOD rows look *more* typical).

Tasks, synthetic shifts (the columns stop going together):
- the paper's correlation-shift simulation (``make_correlation_shift``, raw
  covariates): training rows from ``N(0, S_train)``; ID rows drawn from the
  same distribution (``shift=False``), OOD rows from the flipped correlation
  (``shift=True``; both calls share the training rows and the seed, so ID and
  OOD rows come in pairs built from the same standard normal draws);
- columns shuffled: a real table's ID rows against a copy of them with each
  column permuted on its own (same marginals, joint structure gone).

Natural domain shifts (the rows come from elsewhere):
- Auto MPG (raw values, ``origin`` dropped): a random 70% of the USA cars to
  fit, the other 30% as ID rows, the European and Japanese cars as OOD rows;
- UCI tables split by their domain column (``moe_tabular.ood.make_task``):
  Heart Disease by hospital, Adult by race, Bank Marketing by year, Diabetes
  130 by admission source. Training rows: the training domains less a
  stratified 20% ID hold-out, capped at ``--max-train-rows``; ID and OOD rows
  capped at ``--max-test-rows`` each (random rows, drawn with the seed). One
  fit per table and seed scores both its natural and its shuffled task.

Scores: the supervised MoE model's score_samples (MoECBOWRegressor on the
simulation and Auto MPG, MoECBOWClassifier on the UCI tables; fitted on X and
y, the target masked when scoring), MoECBOWImputer.score_samples (fitted on X
alone), and IsolationForest.score_samples on ordinal codes (category codes,
numbers as they are, missing numbers filled with the training median; on an
all-numeric table these are the raw numbers) or on one-hot encodings (the
categories, and the numbers in 10 quantile bins: the MoE models' view).

Frames with a category column beside a bool/boolean/Int64 column crash the
lens today (a known bug); such columns are turned into float for every method
(``benchmarks/lens/_shared.py``: ``lens_safe``). None of these tables has one.

Examples:
  python -m benchmarks shift --quick
  OMP_NUM_THREADS=1 python -m benchmarks shift --seeds 3 --threads 1
"""

import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import IsolationForest
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, OrdinalEncoder

from benchmarks import _common
from benchmarks.lens import _shared
from benchmarks.lens._shared import lens_safe
from moe_tabular import MoECBOWClassifier, MoECBOWImputer, MoECBOWRegressor
from moe_tabular.datasets import load_auto_mpg
from moe_tabular.ood import PAPER_SEEDS, make_correlation_shift, make_task

REAL_TABLES = ("heart-disease", "adult", "bank-marketing", "diabetes-130")
DEFAULT_OUT = _common.ROOT / "benchmarks" / "results" / "shift_score.md"
SETTINGS = ((1, 0.1, 0.0), (1, 0.9, 0.0), (5, 0.1, 0.0), (5, 0.9, 0.0), (5, 0.9, 1.5))


# -- fits: (X_train, y_train, {task: (X_id, X_ood)}), one model per fit ------------
def shuffled(X, seed):
    """``X`` with each column permuted on its own: marginals kept, joint gone."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {c: X[c].to_numpy()[rng.permutation(len(X))] for c in X.columns}
    ).astype(X.dtypes.to_dict())


def _cap(X, n_rows, seed):
    if len(X) <= n_rows:
        return X.reset_index(drop=True)
    rows = np.sort(np.random.default_rng(seed).choice(len(X), n_rows, replace=False))
    return X.iloc[rows].reset_index(drop=True)


def real_table(name, seed, data_dir, max_train_rows, max_test_rows):
    """A UCI table's natural split and its shuffled-columns task, one fit."""
    task = make_task(name, seed=seed, data_dir=data_dir, max_train_rows=max_train_rows)
    X_id = lens_safe(_cap(task.X_id, max_test_rows, seed))
    X_ood = lens_safe(_cap(task.X_ood, max_test_rows, seed + 1))
    return (
        lens_safe(task.X_train),
        task.y_train,
        {
            f"{name}, natural: {task.split}": (X_id, X_ood),
            f"{name}, columns shuffled": (X_id, shuffled(X_id, seed)),
        },
    )


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
    name = f"simulation {core}, {corr}, {x_noise}"
    return shifted.X_train, shifted.y_train, {name: (same.X_test, shifted.X_test)}


def auto_mpg(seed):
    data = load_auto_mpg(binned=False)
    frame = data.frame
    X = frame.drop(columns=[data.target, data.domain])
    usa = (frame[data.domain] == "USA").to_numpy()
    train, held_out = train_test_split(
        np.flatnonzero(usa), test_size=0.3, random_state=seed
    )
    X_id = X.iloc[held_out].reset_index(drop=True)
    tasks = {
        "auto-mpg, natural: origin: USA -> Europe, Japan": (X_id, X[~usa]),
        "auto-mpg, columns shuffled": (X_id, shuffled(X_id, seed)),
    }
    return X.iloc[train], data.y.iloc[train], tasks


# -- scores (higher = more typical) ------------------------------------------------
def moe_supervised(X, y, seed, epochs):
    numeric = pd.api.types.is_float_dtype(y) or y.nunique() > 20
    Estimator = MoECBOWRegressor if numeric else MoECBOWClassifier
    return Estimator(**_shared.moe_params(seed, epochs)).fit(X, y).score_samples


def moe_imputer(X, y, seed, epochs):
    return MoECBOWImputer(**_shared.moe_params(seed, epochs)).fit(X).score_samples


def _kinds(X):
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return categorical, [c for c in X.columns if c not in categorical]


def forest_codes(X, y, seed, epochs):
    categorical, numeric = _kinds(X)
    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2
    )
    encode = ColumnTransformer(
        [("codes", codes, categorical), ("numbers", _median(), numeric)]
    )
    model = make_pipeline(encode, IsolationForest(random_state=seed))
    return model.fit(X).score_samples


def forest_onehot(X, y, seed, epochs):
    categorical, numeric = _kinds(X)
    binner = KBinsDiscretizer(
        n_bins=10,
        encode="onehot-dense",
        strategy="quantile",
        quantile_method="averaged_inverted_cdf",
    )
    encode = ColumnTransformer(
        [
            ("levels", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("bins", make_pipeline(_median(), binner), numeric),
        ]
    )
    model = make_pipeline(encode, IsolationForest(random_state=seed))
    with warnings.catch_warnings():  # "bins whose width are too small": tied values
        warnings.simplefilter("ignore", UserWarning)
        return model.fit(X).score_samples


def _median():
    return SimpleImputer(strategy="median", keep_empty_features=True)


METHODS = {
    "MoE supervised (X, y)": moe_supervised,
    "MoECBOWImputer (X only)": moe_imputer,
    "IsolationForest (ordinal codes)": forest_codes,
    "IsolationForest (one-hot, numbers in bins)": forest_onehot,
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
        help="two simulation settings with 500 rows, Auto MPG and Heart Disease, "
        "one seed, 20 epochs",
    )
    add(
        "--seeds",
        type=int,
        default=3,
        help="seeds per task: the paper's first N for the simulation, 0..N-1 for "
        "the real tables (default 3)",
    )
    add("--n-train", type=int, default=2000, help="simulation training rows")
    add("--n-test", type=int, default=1000, help="simulation ID and OOD rows each")
    add("--no-simulation", action="store_true", help="real tables only")
    add(
        "--tables",
        default=",".join(("auto-mpg", *REAL_TABLES)),
        help="comma-separated real tables (default: all five); empty for none",
    )
    add(
        "--max-train-rows",
        type=int,
        default=2000,
        help="training rows of a UCI table at most (default 2000)",
    )
    add(
        "--max-test-rows",
        type=int,
        default=1000,
        help="ID rows and OOD rows of a UCI table at most, each (default 1000)",
    )
    add(
        "--data-dir",
        type=Path,
        default=_common.DEFAULT_DATA_DIR,
        help="folder of the UCI files (default ../shared/datasets)",
    )
    add("--note", default="", help="a sentence for the results header (load, machine)")
    _shared.add_run_options(parser, DEFAULT_OUT)
    return parser


def _fits(args, settings, n_seeds, n_train, n_test):
    """(fit name, seed, maker) for every model fit the run makes."""
    fits = []
    if not args.no_simulation:
        fits += [
            (
                f"simulation {s}",
                seed,
                lambda s=s, seed=seed: simulation(s, seed, n_train, n_test),
            )
            for s in settings
            for seed in PAPER_SEEDS[:n_seeds]
        ]
    for table in filter(None, args.tables.split(",")):
        if table == "auto-mpg":
            fits += [
                (table, seed, lambda seed=seed: auto_mpg(seed))
                for seed in range(n_seeds)
            ]
            continue
        fits += [
            (
                table,
                seed,
                lambda table=table, seed=seed: real_table(
                    table, seed, args.data_dir, args.max_train_rows, args.max_test_rows
                ),
            )
            for seed in range(n_seeds)
        ]
    return fits


def main(argv=None, *, prog="python -m benchmarks shift"):
    """Run the benchmark; ``argv`` defaults to ``sys.argv[1:]``."""
    args = _parser(prog).parse_args(argv)
    _common.begin_run(args, argv, prog)
    # shell-quoted, so a --note with spaces can be pasted back
    command = f"{prog} {shlex.join(sys.argv[1:] if argv is None else argv)}"
    settings, n_seeds, epochs = SETTINGS, args.seeds, args.max_epochs
    n_train, n_test = args.n_train, args.n_test
    if args.quick:
        settings, n_seeds, epochs = (SETTINGS[0], SETTINGS[3]), 1, epochs or 20
        n_train, n_test = 500, 500
        args.tables = "auto-mpg,heart-disease"
    rows, sizes = [], {}
    for fit_name, seed, make in _fits(args, settings, n_seeds, n_train, n_test):
        X, y, tasks = make()
        for task, (X_id, X_ood) in tasks.items():
            sizes[task] = (len(X), len(X_id), len(X_ood))
        for method, fit in METHODS.items():
            start = time.perf_counter()
            score = fit(X, y, seed, epochs)
            scores = {task: auroc(score, *parts) for task, parts in tasks.items()}
            seconds = time.perf_counter() - start
            for task, value in scores.items():
                rows.append((fit_name, task, seed, method, value, seconds))
                print(
                    f"{task} seed {seed} {method}: AUROC {value:.3f} "
                    f"(fit and scoring {seconds:.1f} s)",
                    flush=True,
                )
    results = pd.DataFrame(
        rows, columns=["fit", "task", "seed", "method", "auroc", "seconds"]
    )
    markdown = to_markdown(results, sizes, command, args, epochs, n_train, n_test)
    _common.write_markdown(markdown, args.out or (None if args.quick else DEFAULT_OUT))
    return 0


def _is_natural(task):
    return ", natural: " in task


def to_markdown(results, sizes, command, args, epochs, n_train, n_test):
    table = results.groupby(["task", "method"], sort=False)["auroc"].agg(
        ["mean", "std"]
    )
    cells = table.apply(
        lambda r: f"{r['mean']:.3f} ± {0 if np.isnan(r['std']) else r['std']:.3f}",
        axis=1,
    ).unstack("method")[list(METHODS)]
    tasks = list(results["task"].unique())
    n_seeds = results.groupby(["task", "method"]).size().max()
    header = [
        "## Shift score: AUROC of OOD rows against ID rows",
        "",
        f"`{command}`",
        "",
        "AUROC of OOD vs ID rows from minus `score_samples` (1: perfect, 0.5: "
        "chance, < 0.5: the OOD rows look more typical), mean ± std over "
        f"{n_seeds} seeds. Simulation rows `n_core_features, corr, x_noise`: "
        f"{n_train} training rows, {n_test} ID and {n_test} OOD rows. Real "
        f"tables: at most {args.max_train_rows} training rows and "
        f"{args.max_test_rows} ID and OOD rows each (rows per task below). A "
        "table's natural and shuffled tasks share one fit per method and seed "
        "and the same ID rows.",
        "",
        "MoE models (the defaults but `max_epochs`): "
        f"{_shared.moe_summary(MoECBOWRegressor, epochs)}.",
        "",
        *([args.note, ""] if args.note else []),
    ]
    lines = []
    for title, keep in (
        ("Synthetic shifts: the columns stop going together", False),
        ("Natural domain shifts", True),
    ):
        part = [t for t in tasks if _is_natural(t) == keep]
        if not part:
            continue
        lines += [
            "",
            f"### {title}",
            "",
            *_common.table_head(["task", "train / ID / OOD rows", *cells.columns]),
        ]
        lines += [
            f"| {t} | {' / '.join(map(str, sizes[t]))} | "
            + " | ".join(cells.loc[t])
            + " |"
            for t in part
        ]
    lines += paired_lines(results)
    seconds = results.drop_duplicates(["fit", "seed", "method"]).pivot_table(
        index="fit", columns="method", values="seconds", aggfunc="mean", sort=False
    )[list(METHODS)]
    lines += [
        "",
        "### Mean seconds per fit and scoring (all of a fit's tasks)",
        "",
        *_common.table_head(["fit", *seconds.columns]),
    ]
    lines += [
        f"| {f} | " + " | ".join(f"{v:.1f}" for v in row) + " |"
        for f, row in seconds.iterrows()
    ]
    return "\n".join(header + lines) + "\n"


PAIR = ("MoECBOWImputer (X only)", "IsolationForest (ordinal codes)")


def paired_lines(results):
    """Per seed, on the same rows: MoECBOWImputer's AUROC minus IsolationForest's."""
    if not set(PAIR) <= set(results["method"]):
        return []
    by = results.set_index(["task", "seed", "method"])["auroc"]
    diff = (by.xs(PAIR[0], level="method") - by.xs(PAIR[1], level="method")).groupby(
        level="task", sort=False
    )
    lines = [
        "",
        f"### Paired: {PAIR[0]} minus {PAIR[1]}, per seed (same fit rows, same "
        "scored rows)",
        "",
        "| task | AUROC difference per seed | mean |",
        "|---|---|---|",
    ]
    lines += [
        f"| {t} | " + ", ".join(f"{v:+.3f}" for v in d) + f" | {d.mean():+.3f} |"
        for t, d in diff
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
