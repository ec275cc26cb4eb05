"""Our paper-suite runs side by side with the paper's published numbers.

Reads ``runs.csv`` files written by ``python -m benchmarks ood`` (any number of
them, any models) and the authors' per-seed results
(``benchmarks/results/published_per_seed.csv``, copied from their repository;
see ``published_per_seed.md``), and writes one Markdown table per dataset: for
every MoE config run, its mean OOD accuracy over the seeds it ran, the published
attention mean over *the same seeds* (a paired comparison: same data, same
seeds), the mean paired difference and its t-test's p
(:func:`scipy.stats.ttest_rel`), the seed-by-seed wins, and the published
20-seed means of the attention model and of the best baseline. Under each
model's table, the paper test: the pooled paired difference over every
simulation run and the settings below the paper with p < 0.05 (as good as the
paper: a pooled difference >= 0 and no such setting). It fits nothing.

Examples:
  python -m benchmarks paper-table \\
      --runs benchmarks/results/ood-paper-simulation-default/runs.csv \\
      --runs benchmarks/results/ood-paper-simulation-paper/runs.csv
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import _common
from benchmarks.runs import join_runs
from moe_tabular.ood import (
    PAPER_SETTINGS,
    PUBLISHED,
    ModelSpec,
    SimulationSetting,
    simulation_name,
)

RESULTS = _common.ROOT / "benchmarks" / "results"
PER_SEED = RESULTS / "published_per_seed.csv"
DEFAULT_OUT = RESULTS / "paper_reproduction.md"
BASELINES = ("logreg", "rf", "gb", "mlp")


def load_published_per_seed(path=PER_SEED):
    """The authors' per-seed OOD accuracy of attention, indexed (dataset, seed)."""
    table = pd.read_csv(path)
    table["dataset"] = [
        simulation_name(SimulationSetting(*s))
        for s in table[["n_core_features", "corr", "x_noise"]].itertuples(index=False)
    ]
    return table.set_index(["dataset", "seed"])["acc_test_at"]


def paired_rows(runs, per_seed):
    """One row per (dataset, MoE model): ours vs published on the same seeds."""
    rows = []
    moe = runs[[ModelSpec.from_label(model).is_moe for model in runs["model"]]]
    for (dataset, model), part in moe.groupby(["dataset", "model"], sort=False):
        ours = part.set_index("seed")["ood_accuracy"]
        published = PUBLISHED.get(dataset, {})
        best = max(
            (b for b in BASELINES if b in published),
            key=lambda b: published[b]["accuracy"],
            default=None,
        )
        row = {
            "dataset": dataset,
            "model": model,
            "seeds": len(ours),
            "ours": ours.mean(),
            "ours_std": ours.std(ddof=1) if len(ours) > 1 else 0.0,
            "paper_20": published.get("moe", {}).get("accuracy", np.nan),
            "best_baseline": (
                f"{published[best]['accuracy']:.3f} ({best})" if best else "n/a"
            ),
        }
        keys = [(dataset, seed) for seed in ours.index]
        row["paper_same_seeds"], row["wins"], row["diffs"] = np.nan, "n/a", None
        if all(key in per_seed.index for key in keys):
            theirs = per_seed.loc[keys].to_numpy()
            row["paper_same_seeds"] = theirs.mean()
            row["wins"] = f"{int((ours.to_numpy() > theirs).sum())}/{len(ours)}"
            row["diffs"] = ours.to_numpy() - theirs
        row["diff"], row["p"] = _common.paired_test(
            [] if row["diffs"] is None else row["diffs"]
        )
        rows.append(row)
    return pd.DataFrame(rows)


def paper_test(part):
    """The paper test of one model's rows: (pairs, mean diff, p, settings below)."""
    paired = part[part["diffs"].notna()]
    if paired.empty:
        return None
    diffs = np.concatenate(paired["diffs"].to_list())
    below = paired[(paired["diff"] < 0) & (paired["p"] < 0.05)]["dataset"].to_list()
    return (len(diffs), *_common.paired_test(diffs), below)


def _order(dataset):
    names = [simulation_name(s) for s in PAPER_SETTINGS] + ["auto-mpg"]
    return names.index(dataset) if dataset in names else len(names)


def to_markdown(table, command, sources):
    def fmt(value):
        return "n/a" if pd.isna(value) else f"{value:.3f}"

    def signed(value):
        return "n/a" if pd.isna(value) else f"{value:+.4f}"

    lines = [
        "## The paper's suites: our runs beside the published numbers",
        "",
        f"`{command}`",
        "",
        "Sources: " + ", ".join(f"`{s}`" for s in sources) + ". OOD accuracy. "
        "*ours*: mean ± std over the seeds run; *paper, same seeds*: the "
        "authors' attention model on exactly those seeds (their per-seed files); "
        "*ours - paper* and *p*: the mean paired difference on those seeds and "
        "the paired t-test's p; *wins*: seeds where ours is higher; *paper, 20 "
        "seeds* and *best baseline*: PAPER.md's published means (Auto MPG: one "
        "seed).",
        "",
    ]
    for model, part in table.groupby("model", sort=False):
        order = np.argsort([_order(d) for d in part["dataset"]], kind="stable")
        part = part.iloc[order]
        lines += [
            f"### {model}",
            "",
            "| dataset | seeds | ours | paper, same seeds | ours - paper | p | wins "
            "| paper, 20 seeds | best baseline |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.dataset} | {r.seeds} | {r.ours:.3f} ± {r.ours_std:.3f} "
            f"| {fmt(r.paper_same_seeds)} | {signed(r.diff)} | {fmt(r.p)} "
            f"| {r.wins} | {fmt(r.paper_20)} | {r.best_baseline} |"
            for r in part.itertuples()
        ]
        test = paper_test(part)
        if test is not None:
            pairs, diff, p, below = test
            verdict = "met" if diff >= 0 and not below else "not met"
            lines += [
                "",
                f"Paper test over {pairs} paired runs: ours - paper {signed(diff)} "
                f"(p = {fmt(p)}); settings below the paper with p < 0.05: "
                f"{', '.join(below) or 'none'}. As good as the paper: {verdict}.",
            ]
        lines.append("")
    return "\n".join(lines)


def _parser(prog):
    parser = _common.make_parser(prog, __doc__)
    parser.add_argument(
        "--runs",
        type=Path,
        action="append",
        required=True,
        help="a runs.csv of python -m benchmarks ood (repeatable)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"Markdown file (default {DEFAULT_OUT.relative_to(_common.ROOT)})",
    )
    return parser


def main(argv=None, *, prog="python -m benchmarks paper-table"):
    """Write the table; ``argv`` defaults to ``sys.argv[1:]``."""
    args = _parser(prog).parse_args(argv)
    command = _common.command_line(argv, prog)
    try:
        runs = join_runs(args.runs)
    except (OSError, ValueError) as error:
        raise SystemExit(f"{prog}: {error}") from None
    table = paired_rows(runs, load_published_per_seed())
    # files inside the repository are named relative to it, others as given
    sources = [
        p.relative_to(_common.ROOT) if p.is_relative_to(_common.ROOT) else p
        for p in args.runs
    ]
    _common.write_markdown(to_markdown(table, command, sources), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
