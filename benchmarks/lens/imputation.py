"""Accuracy of imputed categorical cells: MoE-CBOW against sklearn's imputers.

On real tables (UCI Heart Disease, subsamples of UCI Adult and UCI Bank
Marketing), a share of the known categorical cells is hidden at random; every
method imputes the holed table (features only, fitted on it: the usual
transductive protocol) and is scored by the share of hidden cells it restores
exactly. Cells missing in the data stay missing for every method and are not
scored.

Methods: SimpleImputer(most_frequent); IterativeImputer (5 rounds) with
BayesianRidge (the default) and with ExtraTreesRegressor(30 trees), on ordinal
codes rounded back to a category: a weak baseline, since it *regresses* the
arbitrary codes of nominal columns (kept, and labelled so, for comparison);
KNNImputer(5) on one-hot categoricals (the neighbours' majority) and
standardised numbers; per-column HistGradientBoostingClassifier (for each
column with holes, a classifier fitted on the rows where that column is
observed, the other columns as features, their missing cells left as NaN and
categorical columns passed as categorical, ``categorical_features="from_dtype"``;
a column with more than 255 levels enters as ordinal codes; it predicts the
column's missing cells); MoECBOWImputer (the masked-column model fitted on X
alone);
MoECBOWClassifier(...).fit(X, y).impute(X) (the supervised model's
masked-column predictions, the target masked: it saw y during fit, the others
did not). The MoE models read a missing cell as a MISSING token, so where the
data's own missingness carries information (Heart Disease: which hospital),
they use it; KNNImputer's distance skips missing coordinates and
IterativeImputer fills them first.

Frames with a category column beside a bool/boolean/Int64 column crash the
lens today (a known bug); ``lens_safe`` turns such columns into float (bools
to 0/1, missing to NaN) for every method alike. None of the shipped tables has
one, so it changes nothing in the published run.

Examples:
  python -m benchmarks imputation --quick
  OMP_NUM_THREADS=1 python -m benchmarks imputation --seeds 0,1,2 --threads 1
"""

import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

from benchmarks import _common
from benchmarks.lens import _shared
from benchmarks.lens._shared import lens_safe
from moe_tabular import MoECBOWClassifier, MoECBOWImputer
from moe_tabular.datasets import load_adult, load_bank_marketing, load_heart_disease

DEFAULT_OUT = _common.ROOT / "benchmarks" / "results" / "imputation.md"


# -- data ------------------------------------------------------------------------
LOADERS = {
    "heart-disease": load_heart_disease,
    "adult": load_adult,
    "bank-marketing": load_bank_marketing,
}


def load_table(name, data_dir, *, max_rows, seed):
    """(features, target, categorical column names) of a benchmark table.

    Tables longer than ``max_rows`` are subsampled (rows drawn with ``seed``).
    """
    data = LOADERS[name](data_dir=data_dir)
    X, y = data.X, data.y
    if len(X) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), max_rows, False))
        X, y = X.iloc[rows], y.iloc[rows]
    X, y = lens_safe(X.reset_index(drop=True)), y.reset_index(drop=True)
    categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    return X, y, categorical


def hide_cells(X, categorical, fraction, seed):
    """``X`` with ``fraction`` of its known categorical cells set missing."""
    known = np.column_stack([X[c].notna().to_numpy() for c in categorical])
    rows, cols = np.nonzero(known)
    pick = np.random.default_rng(seed).choice(
        len(rows), round(fraction * len(rows)), replace=False
    )
    holed, hidden = X.copy(), []
    for k in range(len(categorical)):
        at = rows[pick][cols[pick] == k]
        holed.loc[at, categorical[k]] = np.nan
        hidden.append(at)
    return holed, hidden


# -- methods: each returns the imputed categorical columns -------------------------
def _codes(holed, categorical):
    encoder = OrdinalEncoder(encoded_missing_value=np.nan)
    codes = encoder.fit_transform(holed[categorical].astype(object))
    numeric = holed.drop(columns=categorical).to_numpy(dtype=float)
    return encoder, np.column_stack([codes, numeric])


def _decode(encoder, codes):
    top = [len(categories) - 1 for categories in encoder.categories_]
    clipped = np.clip(np.round(codes[:, : len(top)]), 0, top)
    return pd.DataFrame(encoder.inverse_transform(clipped))


def most_frequent(holed, y, categorical, seed, epochs):
    imputer = SimpleImputer(strategy="most_frequent")
    return pd.DataFrame(imputer.fit_transform(holed[categorical].astype(object)))


def iterative(estimator):
    def impute(holed, y, categorical, seed, epochs):
        encoder, table = _codes(holed, categorical)
        imputer = IterativeImputer(
            estimator=estimator(seed), max_iter=5, random_state=seed
        )
        with warnings.catch_warnings():  # "did not converge": reported, not an error
            warnings.simplefilter("ignore", ConvergenceWarning)
            return _decode(encoder, imputer.fit_transform(table))

    return impute


def histgb(holed, y, categorical, seed, epochs):
    """One HistGradientBoostingClassifier per column with holes (NaN kept)."""
    features = holed.copy()
    for column in categorical:  # HistGB takes at most 255 levels as categorical
        levels = features[column].cat.remove_unused_categories()
        if len(levels.cat.categories) > 255:
            features[column] = levels.cat.codes.replace(-1, np.nan).astype(float)
        else:
            features[column] = levels
    out = {}
    for k, column in enumerate(categorical):
        target = holed[column].astype(object)
        missing = target.isna().to_numpy()
        filled = target.copy()
        observed = target[~missing]
        if missing.any() and observed.nunique() == 1:
            filled[missing] = observed.iloc[0]
        elif missing.any():
            model = HistGradientBoostingClassifier(
                categorical_features="from_dtype", random_state=seed
            )
            others = features.drop(columns=column)
            model.fit(others[~missing], observed.astype(str))
            filled[missing] = model.predict(others[missing])
        out[k] = filled.to_numpy()
    return pd.DataFrame(out)


def knn(holed, y, categorical, seed, epochs):
    blocks, widths = [], []
    for column in categorical:
        dummies = pd.get_dummies(holed[column], dtype=float)
        dummies.loc[holed[column].isna().to_numpy()] = np.nan
        blocks.append(dummies)
        widths.append(list(dummies.columns))
    numeric = holed.drop(columns=categorical).to_numpy(dtype=float)
    table = np.column_stack([*blocks, StandardScaler().fit_transform(numeric)])
    filled = KNNImputer(n_neighbors=5).fit_transform(table)
    out, start = {}, 0
    for k, labels in enumerate(widths):
        block = filled[:, start : start + len(labels)]
        out[k] = np.asarray(labels, dtype=object)[block.argmax(axis=1)]
        start += len(labels)
    return pd.DataFrame(out)


def moe_imputer(holed, y, categorical, seed, epochs):
    imputed = MoECBOWImputer(**_shared.moe_params(seed, epochs)).fit_transform(holed)
    return imputed[categorical].astype(object).set_axis(range(len(categorical)), axis=1)


def moe_classifier(holed, y, categorical, seed, epochs):
    model = MoECBOWClassifier(**_shared.moe_params(seed, epochs)).fit(holed, y)
    imputed = model.impute(holed)
    return imputed[categorical].astype(object).set_axis(range(len(categorical)), axis=1)


METHODS = {
    "SimpleImputer(most_frequent)": most_frequent,
    "IterativeImputer(BayesianRidge; codes regressed)": iterative(lambda seed: None),
    "IterativeImputer(ExtraTrees; codes regressed)": iterative(
        lambda seed: ExtraTreesRegressor(n_estimators=30, random_state=seed, n_jobs=1)
    ),
    "KNNImputer(5, one-hot)": knn,
    "HistGB per column (NaN kept)": histgb,
    "MoECBOWImputer (X only)": moe_imputer,
    "MoECBOWClassifier.impute (fit on X, y)": moe_classifier,
}


def hits_per_column(imputed, X, hidden, categorical):
    """{column: (cells restored exactly, cells hidden)}."""
    counts = {}
    for k, column in enumerate(categorical):
        truth = X[column].iloc[hidden[k]].astype(object).to_numpy()
        guess = imputed.iloc[hidden[k], k].to_numpy()
        same = [str(a) == str(b) for a, b in zip(truth, guess, strict=True)]
        counts[column] = (sum(same), len(truth))
    return counts


# -- the program -----------------------------------------------------------------
def _parser(prog):
    parser = _common.make_parser(prog, __doc__)
    add = parser.add_argument
    add(
        "--quick",
        action="store_true",
        help="Heart Disease only, one seed, 20 epochs (about a minute)",
    )
    add(
        "--datasets",
        default="heart-disease,adult,bank-marketing",
        help="comma-separated: heart-disease, adult, bank-marketing",
    )
    add("--seeds", default="0,1,2", help="comma-separated seeds (mask and models)")
    add(
        "--fraction",
        type=float,
        default=0.15,
        help="share of known categorical cells hidden (default 0.15)",
    )
    add(
        "--max-rows",
        "--adult-rows",
        dest="max_rows",
        type=int,
        default=2000,
        help="rows subsampled from a longer table (Adult, Bank; default 2000)",
    )
    add(
        "--data-dir",
        type=Path,
        default=_common.DEFAULT_DATA_DIR,
        help="folder of the UCI files (default ../shared/datasets)",
    )
    add(
        "--methods",
        default="",
        help="comma-separated parts of method names to run (default: all), "
        "e.g. HistGB,MoECBOWImputer",
    )
    add("--note", default="", help="a sentence for the results header (load, machine)")
    _shared.add_run_options(parser, DEFAULT_OUT)
    return parser


def main(argv=None, *, prog="python -m benchmarks imputation"):
    """Run the benchmark; ``argv`` defaults to ``sys.argv[1:]``."""
    args = _parser(prog).parse_args(argv)
    _common.begin_run(args, argv, prog)
    # shell-quoted, so a --note with spaces can be pasted back
    command = f"{prog} {shlex.join(sys.argv[1:] if argv is None else argv)}"
    datasets = args.datasets.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    epochs = args.max_epochs
    if args.quick:
        datasets, seeds, epochs = ["heart-disease"], seeds[:1], epochs or 20
    wanted = [part for part in args.methods.split(",") if part]
    methods = {
        name: impute
        for name, impute in METHODS.items()
        if not wanted or any(part in name for part in wanted)
    }
    rows, columns = [], []
    for dataset in datasets:
        for seed in seeds:
            X, y, categorical = load_table(
                dataset, args.data_dir, max_rows=args.max_rows, seed=seed
            )
            holed, hidden = hide_cells(X, categorical, args.fraction, seed)
            n_hidden = sum(len(h) for h in hidden)
            for method, impute in methods.items():
                start = time.perf_counter()
                imputed = impute(holed, y, categorical, seed, epochs)
                seconds = time.perf_counter() - start
                counts = hits_per_column(imputed, X, hidden, categorical)
                score = sum(h for h, _ in counts.values()) / n_hidden
                rows.append((dataset, seed, method, score, seconds, n_hidden))
                columns += [(dataset, seed, method, c, *hn) for c, hn in counts.items()]
                print(
                    f"{dataset} seed {seed} {method}: {score:.3f} ({seconds:.1f} s)",
                    flush=True,
                )
    results = pd.DataFrame(
        rows, columns=["dataset", "seed", "method", "accuracy", "seconds", "hidden"]
    )
    per_column = pd.DataFrame(
        columns, columns=["dataset", "seed", "method", "column", "hits", "hidden"]
    )
    markdown = to_markdown(results, per_column, command, args, epochs)
    _common.write_markdown(markdown, args.out or (None if args.quick else DEFAULT_OUT))
    return 0


def to_markdown(results, per_column, command, args, epochs):
    table = results.groupby(["method", "dataset"], sort=False).agg(
        mean=("accuracy", "mean"), std=("accuracy", "std"), seconds=("seconds", "mean")
    )
    cells = table.apply(
        lambda r: (
            f"{r['mean']:.3f} ± {0 if np.isnan(r['std']) else r['std']:.3f}"
            f" ({r['seconds']:.1f} s)"
        ),
        axis=1,
    ).unstack("dataset")
    hidden = results.groupby("dataset", sort=False)["hidden"].mean().round().astype(int)
    header = [
        "## Imputation of held-out categorical cells",
        "",
        f"`{command}`",
        "",
        f"Tables: {', '.join(results['dataset'].unique())}, at most "
        f"{args.max_rows} rows each (longer ones subsampled per seed). "
        f"Share of known categorical cells hidden: {args.fraction}; seeds "
        f"{sorted(results['seed'].unique().tolist())}; hidden cells per run: "
        + ", ".join(f"{d} {n}" for d, n in hidden.items())
        + ". Accuracy: share of hidden cells restored exactly, mean ± std over"
        " seeds (mean seconds per imputation, fit included; torch threads: "
        f"{torch.get_num_threads()}).",
        "",
        "MoE models (the defaults but `max_epochs`): "
        f"{_shared.moe_summary(MoECBOWClassifier, epochs)}.",
        "",
        "The IterativeImputer rows regress the ordinal codes of nominal columns"
        " and round them back: a weak baseline, kept for comparison. The"
        " per-column HistGB row is the strong one (see the module docstring).",
        "",
        *([args.note, ""] if args.note else []),
    ]
    lines = [
        *_common.table_head(["method", *cells.columns]),
    ]
    lines += [f"| {m} | " + " | ".join(row) + " |" for m, row in cells.iterrows()]
    for dataset, part in per_column.groupby("dataset", sort=False):
        by = part.groupby(["column", "method"], sort=False)
        pooled = by[["hits", "hidden"]].sum()
        share = (pooled["hits"] / pooled["hidden"]).unstack("method")
        hidden = pooled["hidden"].groupby(level="column", sort=False).first()
        lines += [
            "",
            f"### {dataset}: accuracy per column (hidden cells pooled over seeds)",
            "",
            *_common.table_head(["column", "hidden", *share.columns]),
        ]
        lines += [
            f"| {c} | {hidden[c]} | " + " | ".join(f"{v:.3f}" for v in row) + " |"
            for c, row in share.loc[hidden.index].iterrows()
        ]
    lines += paired_lines(results)
    return "\n".join(header + lines) + "\n"


PAIRS = (("MoECBOWImputer (X only)", "HistGB per column (NaN kept)"),)


def paired_lines(results):
    """Per seed (same holes for every method): each method's accuracy and time,
    then MoECBOWImputer minus per-column HistGB."""
    pairs = results[["accuracy", "seconds"]].to_numpy()
    cell = results.assign(text=[f"{a:.3f} ({t:.1f} s)" for a, t in pairs])
    wide = cell.pivot_table(
        index=["dataset", "seed"], columns="method", values="text", aggfunc="first"
    )[list(dict.fromkeys(results["method"]))]
    runs = zip(results["dataset"], results["seed"], strict=True)
    wide = wide.loc[list(dict.fromkeys(runs))]
    lines = [
        "",
        "### Per seed (the same hidden cells for every method): accuracy (seconds)",
        "",
        *_common.table_head(["dataset", "seed", *wide.columns]),
    ]
    lines += [
        f"| {d} | {s} | " + " | ".join(row) + " |" for (d, s), row in wide.iterrows()
    ]
    by = results.set_index(["dataset", "seed", "method"])
    for ours, theirs in PAIRS:
        if not {ours, theirs} <= set(results["method"]):
            continue
        a, b = by.xs(ours, level="method"), by.xs(theirs, level="method")
        diff = (a["accuracy"] - b["accuracy"]).groupby(level="dataset", sort=False)
        ratio = (a["seconds"] / b["seconds"]).groupby(level="dataset", sort=False)
        lines += [
            "",
            f"### Paired: {ours} minus {theirs}",
            "",
            "| dataset | accuracy difference per seed | mean "
            "| time ratio (ours / theirs) |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {d} | "
            + ", ".join(f"{v:+.3f}" for v in diff.get_group(d))
            + f" | {diff.get_group(d).mean():+.3f} | {ratio.get_group(d).mean():.1f}x |"
            for d in diff.groups
        ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
