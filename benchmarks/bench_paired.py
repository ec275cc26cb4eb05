"""Paired comparison of two configurations from ``runs.csv`` files.

Pairs the runs of configuration A and configuration B on (dataset, seed) and
prints, per dataset and over all pairs, both means, their mean difference B - A
and the paired t-test's p-value (:func:`scipy.stats.ttest_rel`). A difference
inside the seed noise is not a result, in either direction.

A configuration is ``RUNS_CSV`` or ``RUNS_CSV:MODEL`` (the ``model`` column of the
file; needed when the file holds several models).

Examples::

    python -m benchmarks paired \\
        benchmarks/results/ood-large-tables/runs.csv:moe:default \\
        benchmarks/results/ood-large-tables-auto-epochs/runs.csv:moe:default
"""

import sys

import pandas as pd

from benchmarks._common import make_parser, paired_test

METRICS = ("id_accuracy", "ood_accuracy", "ood_balanced_accuracy", "ood_log_loss")


def load(spec):
    """The runs of ``RUNS_CSV[:MODEL]``, one row per (dataset, seed)."""
    path, _, model = spec.partition(".csv:")
    path = path + ".csv" if model or not path.endswith(".csv") else path
    runs = pd.read_csv(path)
    if model:
        runs = runs[runs["model"] == model]
    elif runs["model"].nunique() > 1:
        raise SystemExit(
            f"{path} holds models {sorted(runs['model'].unique())}: name one "
            f"as {path}:MODEL."
        )
    if runs.empty:
        raise SystemExit(f"no runs of {spec!r}")
    return runs.drop_duplicates(["dataset", "seed"])


def compare(a, b, metrics=METRICS):
    """Rows of (dataset, metric, n, mean A, mean B, B - A, p) and the overall ones."""
    keys = ["dataset", "seed"]
    both = a.merge(b, on=keys, how="inner", suffixes=("_a", "_b"))
    rows = []
    groups = list(both.groupby("dataset"))
    for name, part in [*groups, ("all", both)]:
        for metric in metrics:
            if f"{metric}_a" not in part:
                continue
            pair = part[[f"{metric}_a", f"{metric}_b"]].dropna()
            if pair.empty:
                continue
            diff, p = paired_test(pair[f"{metric}_b"] - pair[f"{metric}_a"])
            rows.append(
                {
                    "dataset": name,
                    "metric": metric,
                    "pairs": len(pair),
                    "A": pair[f"{metric}_a"].mean(),
                    "B": pair[f"{metric}_b"].mean(),
                    "B - A": diff,
                    "p": p,
                }
            )
    return pd.DataFrame(rows)


def main(argv=None, *, prog="python -m benchmarks paired"):
    parser = make_parser(prog, __doc__)
    parser.add_argument("a", help="configuration A: RUNS_CSV[:MODEL]")
    parser.add_argument("b", help="configuration B: RUNS_CSV[:MODEL]")
    parser.add_argument(
        "--metrics", default=",".join(METRICS), help="comma-separated runs.csv columns"
    )
    args = parser.parse_args(argv)
    table = compare(load(args.a), load(args.b), tuple(args.metrics.split(",")))
    print(f"A = {args.a}\nB = {args.b}\n")
    print(table.to_markdown(index=False, floatfmt=".4f"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
