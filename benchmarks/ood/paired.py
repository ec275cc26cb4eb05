"""Paired comparison of two configurations from ``runs.csv`` files.

Pairs the runs of configuration A and configuration B on (dataset, seed), after
checking that each pair shares its split: the same ``split``, training rows
(``n_train``), ID and OOD test rows (``n_id``, ``n_ood``) and protocol (the
``@transductive`` label). A pair whose split differs, or a (dataset, seed) that
appears twice on one side, stops the command with a message naming them; a file
too old to record a split field is compared with a warning.

Prints, per dataset, both means, their mean difference B - A and the paired
t-test's p-value over its seeds. Over several datasets the headline test is
across tables: one mean difference per table, a one-sample t-test and a
Wilcoxon signed-rank test over them (n = tables), since runs of one table are
not independent draws of the comparison. The pooled paired t-test over every
pair stays beside it, labelled pooled. A difference inside the noise is not a
result, in either direction.

A configuration is ``RUNS_CSV`` or ``RUNS_CSV:MODEL`` (the ``model`` column of the
file, e.g. ``runs.csv:moe:default``; needed when the file holds several models).

Examples::

    python -m benchmarks paired \\
        benchmarks/results/ood-large-tables/runs.csv:moe:default \\
        benchmarks/results/ood-large-tables-auto-epochs/runs.csv:moe:default
"""

import sys
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks._common import make_parser, paired_test
from benchmarks.runs import read_runs
from moe_tabular.ood import ModelSpec

METRICS = ("id_accuracy", "ood_accuracy", "ood_balanced_accuracy", "ood_log_loss")
KEYS = ["dataset", "seed"]
# what a run's split is made of: both runs of a pair must agree on each
SPLIT_FIELDS = ("split", "n_train", "n_id", "n_ood", "protocol")


def load(spec):
    """The runs of ``RUNS_CSV[:MODEL]``, one row per (dataset, seed).

    Adds a ``protocol`` column read off the model label when the file has
    none. Raises a ValueError when a run appears more than once
    (:func:`benchmarks.runs.read_runs`).
    """
    path, _, model = spec.partition(".csv:")
    path = path + ".csv" if model or not path.endswith(".csv") else path
    runs = read_runs(path)
    if model:
        runs = runs[runs["model"] == model]
    elif runs["model"].nunique() > 1:
        raise ValueError(
            f"{path} holds models {sorted(runs['model'].unique())}: name one "
            f"as {path}:MODEL."
        )
    if runs.empty:
        raise ValueError(f"no runs of {spec!r}")
    if "protocol" not in runs:
        protocols = [ModelSpec.from_label(label).protocol for label in runs["model"]]
        runs = runs.assign(protocol=protocols)
    return runs.reset_index(drop=True)


def _shown(value):
    """A split field's value as the message shows it (numpy scalars as Python's)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _same(a, b):
    """Element-wise equality that reads two missing values as equal."""
    return (a == b) | (a.isna() & b.isna())


def pair_runs(a, b, *, fields=SPLIT_FIELDS):
    """The runs of A and B joined on (dataset, seed), their splits checked.

    Raises a ValueError naming each pair whose ``fields`` differ (the first
    ten, and how many); warns about fields that A or B does not record.
    """
    both = a.merge(b, on=KEYS, how="inner", suffixes=("_a", "_b"))
    unchecked = [f for f in fields if f not in a or f not in b]
    if unchecked:
        lacking = [
            f"{side} lacks {', '.join(f for f in unchecked if f not in runs)}"
            for side, runs in (("A", a), ("B", b))
            if any(f not in runs for f in unchecked)
        ]
        warnings.warn(
            f"{'; '.join(lacking)} (a runs.csv written before the harness "
            "recorded them): those parts of the split are not checked, so "
            "the pairs are taken on trust there.",
            UserWarning,
            stacklevel=2,
        )
    checked = [f for f in fields if f not in unchecked]
    differ = pd.DataFrame(
        {f: ~_same(both[f"{f}_a"], both[f"{f}_b"]) for f in checked},
        index=both.index,
    )
    bad = differ.any(axis=1) if checked else pd.Series(False, index=both.index)
    if bad.any():
        lines = []
        for i in both.index[bad][:10]:
            parts = [
                f"{f} {_shown(both.at[i, f'{f}_a'])} (A) != "
                f"{_shown(both.at[i, f'{f}_b'])} (B)"
                for f in checked
                if differ.at[i, f]
            ]
            row = both.loc[i]
            lines.append(f"  {row['dataset']} seed {row['seed']}: {'; '.join(parts)}")
        more = f"\n  ... and {bad.sum() - 10} more" if bad.sum() > 10 else ""
        raise ValueError(
            f"{bad.sum()} of {len(both)} pairs were not run on the same split, "
            "so their difference mixes the split with the configuration:\n"
            + "\n".join(lines)
            + more
            + "\nRun both on one split protocol (the same ood --id-test-size, "
            "--max-train-rows and --protocol)"
            + (
                ", or pass --across-protocols when the protocol is what you compare."
                if set(differ.columns[differ[bad].any()]) == {"protocol"}
                else "."
            )
        )
    return both


def compare(both, metrics=METRICS):
    """Per-table rows: (dataset, metric, pairs, mean A, mean B, B - A, p).

    ``p`` is the paired t-test over the table's seeds.
    """
    rows = []
    for name, part in both.groupby("dataset"):
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
    return pd.DataFrame(
        rows,
        columns=["dataset", "metric", "pairs", "A", "B", "B - A", "p"],
    )


def wilcoxon_p(diff):
    """Two-sided Wilcoxon signed-rank p of differences (NaN when undefined)."""
    diff = np.asarray(diff, dtype=np.float64)
    if np.count_nonzero(diff) < 2:
        return float("nan")
    return float(stats.wilcoxon(diff).pvalue)


def across_tables(per_table, both, metrics=METRICS):
    """Per metric: the test across tables (the headline) and the pooled test.

    Across tables: the mean of the per-table means of A and B and of their
    differences, a one-sample t-test and a Wilcoxon signed-rank test over the
    per-table differences (n = tables). Pooled: the paired t-test over every
    pair, as if the runs were independent.
    """
    rows = []
    for metric in metrics:
        tables = per_table[per_table["metric"] == metric]
        if tables.empty:
            continue
        pooled = both[[f"{metric}_a", f"{metric}_b"]].dropna()
        pooled_diff, pooled_p = paired_test(
            pooled[f"{metric}_b"] - pooled[f"{metric}_a"]
        )
        diff, p = paired_test(tables["B - A"])
        rows.append(
            {
                "metric": metric,
                "tables": len(tables),
                "A": tables["A"].mean(),
                "B": tables["B"].mean(),
                "B - A": diff,
                "p (t, tables)": p,
                "p (Wilcoxon, tables)": wilcoxon_p(tables["B - A"]),
                "pairs": len(pooled),
                "pooled B - A": pooled_diff,
                "pooled p (t, pairs)": pooled_p,
            }
        )
    return pd.DataFrame(rows)


def _markdown(table):
    """A Markdown table: means to 4 decimals, p-values to 2 significant digits."""
    formats = [".2g" if c.split(" (")[0] in ("p", "pooled p") else ".4f" for c in table]
    return table.to_markdown(index=False, floatfmt=formats)


def report(a, b, metrics=METRICS, *, fields=SPLIT_FIELDS):
    """The printed comparison of the runs ``a`` and ``b`` (see :func:`load`)."""
    both = pair_runs(a, b, fields=fields)
    if both.empty:
        raise ValueError("A and B share no (dataset, seed) run.")
    per_table = compare(both, metrics)
    n_tables = both["dataset"].nunique()
    lines = [
        f"{len(both)} pairs on {n_tables} table{'s' * (n_tables > 1)}, each pair "
        "on one split "
        f"({', '.join(f for f in fields if f in a and f in b)} checked); "
        f"unpaired runs left out: {len(a) - len(both)} of A, {len(b) - len(both)} "
        "of B.",
        "",
        "Per table (p: paired t-test over the table's seeds):",
        "",
        _markdown(per_table),
    ]
    if n_tables > 1:
        lines += [
            "",
            "Across tables, the headline (one mean difference per table, "
            "n = tables: t-test and Wilcoxon signed-rank); pooled: the paired "
            "t-test over all pairs as if independent, shown beside it:",
            "",
            _markdown(across_tables(per_table, both, metrics)),
        ]
    return "\n".join(lines)


def main(argv=None, *, prog="python -m benchmarks paired"):
    parser = make_parser(prog, __doc__)
    parser.add_argument("a", help="configuration A: RUNS_CSV[:MODEL]")
    parser.add_argument("b", help="configuration B: RUNS_CSV[:MODEL]")
    parser.add_argument(
        "--metrics", default=",".join(METRICS), help="comma-separated runs.csv columns"
    )
    parser.add_argument(
        "--across-protocols",
        action="store_true",
        help="pair runs of different protocols (the comparison is the protocol: "
        "standard against @transductive); the row counts must still agree",
    )
    args = parser.parse_args(argv)
    fields = tuple(
        f for f in SPLIT_FIELDS if not (args.across_protocols and f == "protocol")
    )
    try:
        text = report(
            load(args.a), load(args.b), tuple(args.metrics.split(",")), fields=fields
        )
    except (OSError, ValueError) as error:
        raise SystemExit(f"{prog}: {error}") from None
    print(f"A = {args.a}\nB = {args.b}\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
