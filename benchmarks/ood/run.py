"""In- and out-of-distribution accuracy of MoECBOW and the baselines.

Runs a suite of (dataset, model, seed) fits through moe_tabular.ood.run_suite
and writes to --out: runs.csv (one row per run), summary.md (mean ± std over
seeds beside the paper's published numbers; also printed) and accuracy.png.
--out defaults to benchmarks/results/ood-<suite>, where committed results live;
a --quick run (or --suite quick) goes to benchmarks/out/ood-<suite> instead,
which git ignores.

Suites: quick (Auto MPG and two simulation settings, one seed, fast models:
about a minute on 2 cores), paper-simulation (12 settings x 20 seeds),
auto-mpg (20 seeds), paper (both), real (the real tables of the registry by
their natural domain, 5 seeds; the UCI files come from --data-dir), numeric
(the numeric-heavy tables loan-approval, labour-force and college-wages, run
as the real suite runs its tables), all.
Models: moe:<config> (configs: default, paper, and any --config), logreg, rf,
gb, mlp (the paper's grids), hgb, majority (the most frequent class), and,
when their package is installed, catboost, lightgbm, realmlp and tabm
(pytabkit), ft-transformer and tab-transformer (pytorch_tabular).

--protocol transductive fits the MoE models on the training rows plus the OOD
rows' features, unlabeled (never their labels); their rows are labelled
moe:...@transductive and reported apart. The baselines run as usual.

Examples:
  python -m benchmarks ood --quick
  python -m benchmarks ood --suite paper-simulation --n-jobs 2
  python -m benchmarks ood --suite auto-mpg --config shared=default,\\
      shared_vocabulary=True --models moe:default,moe:shared,moe:paper,logreg
  python -m benchmarks ood --suite real --param shared_vocabulary=False
  python -m benchmarks ood --suite real --protocol transductive
  python -m benchmarks ood --suite auto-mpg --models rf,rf@oracle,gb,gb@oracle
  python -m benchmarks ood --merge a/runs.csv --merge b/runs.csv --out merged

Each run's row is appended to OUT/runs.partial.csv as soon as it finishes;
after an interruption, the same command with --resume runs only the runs not
there yet (and a command given more seeds or models reuses the finished ones).
The file is removed once runs.csv is written.

--merge fits nothing: it joins the runs.csv files of earlier commands (e.g. one
command per seed) and writes the same three files for them.
"""

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks import _common
from benchmarks.runs import add_merge_option, merge_runs, read_runs
from moe_tabular.ood import (
    SUITES,
    Checkpoint,
    TaskOptions,
    parse_params,
    plot_results,
    results_to_markdown,
    run_suite,
)

DEFAULT_DATA_DIR = _common.DEFAULT_DATA_DIR
RESULTS = _common.ROOT / "benchmarks" / "results"  # committed runs
SCRATCH = _common.ROOT / "benchmarks" / "out"  # quick runs; ignored by git
# committed runs of the defaults over many seeds: how far one seed moves accuracy
SEED_SPREAD = ("ood-auto-mpg-default", "ood-paper-simulation-default")
QUICK_MODELS = ("moe:default", "logreg", "hgb")
PARTIAL = "runs.partial.csv"  # rows of the runs finished so far (--resume)


def _parser(prog):
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--suite",
        choices=sorted(SUITES),
        default=None,
        help="suite to run (default: quick with --quick, else paper)",
    )
    add(
        "--quick",
        action="store_true",
        help="the quick suite; with --suite: that suite's datasets, its first "
        f"seed and the fast models {','.join(QUICK_MODELS)}",
    )
    add(
        "--datasets",
        type=_common.split_list,
        default=None,
        help="comma-separated datasets replacing the suite's (e.g. "
        "auto-mpg,sim-5-0.9-0)",
    )
    add(
        "--models",
        type=_common.split_list,
        action="extend",
        default=None,
        help="comma-separated models replacing the suite's (repeatable); "
        "rf@oracle, gb@oracle, mlp@oracle: the grid point chosen on half of the "
        "OOD rows, reported apart",
    )
    add(
        "--seeds",
        default=None,
        help="comma-separated seeds, or :N for the suite's first N",
    )
    add(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter of every moe model (repeatable), e.g. "
        "shared_vocabulary=False",
    )
    add(
        "--config",
        type=_common.moe_config,
        action="append",
        default=[],
        metavar="NAME=BASE[,KEY=VALUE...]",
        help="define config NAME from BASE with overrides, run as moe:NAME",
    )
    add(
        "--n-jobs",
        type=int,
        default=-1,
        help="runs in parallel, one thread each (default -1: one per core)",
    )
    add(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address: run on its workers (dask[distributed])",
    )
    add(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR if DEFAULT_DATA_DIR.is_dir() else None,
        help="folder of the UCI files (default: ../shared/datasets beside the "
        "repository when it exists)",
    )
    add(
        "--max-train-rows",
        type=int,
        default=5000,
        help="subsample training rows of real tables to at most this many "
        "(stratified; 0: no cap; default 5000)",
    )
    add(
        "--id-test-size",
        type=float,
        default=0.2,
        help="share of training-domain rows of real tables held out for ID "
        "accuracy (0: none; default 0.2)",
    )
    add(
        "--keep-domain",
        action="store_true",
        help="keep the domain column among the features",
    )
    add(
        "--protocol",
        choices=("standard", "transductive"),
        default="standard",
        help="transductive: MoE models also train on the OOD rows' features, "
        "unlabeled (default standard)",
    )
    add(
        "--out",
        type=Path,
        default=None,
        help="output folder (default benchmarks/results/ood-<suite>; with "
        "--quick or --suite quick benchmarks/out/ood-<suite>, ignored by git)",
    )
    add("--no-progress", action="store_true", help="hide the progress bar")
    add(
        "--resume",
        action="store_true",
        help="keep the runs in OUT/runs.partial.csv from an interrupted command "
        "with the same settings and run only the others (default: start afresh)",
    )
    add_merge_option(
        parser,
        help="join this runs.csv of an earlier command into --out instead of "
        "running anything (repeatable; needs --out)",
    )
    return parser


def _write(results, out, header):
    """runs.csv, summary.md (also printed) and accuracy.png of ``results``."""
    out.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "runs.csv", index=False)
    markdown = results_to_markdown(results) + _one_seed_note(results)
    (out / "summary.md").write_text(header + markdown)
    plot_results(results, out / "accuracy.png")
    print(header + markdown)
    print(f"wrote {out / 'runs.csv'}, summary.md and accuracy.png")


def _one_seed_note(results):
    """A warning under a summary whose means are single seeds; else ""."""
    if results.groupby(["dataset", "model"]).seed.nunique().max() > 1:
        return ""
    committed = [RESULTS / folder / "runs.csv" for folder in SEED_SPREAD]
    frames = [read_runs(path) for path in committed if path.is_file()]
    runs = pd.concat(frames) if frames else results.iloc[:0]
    runs = runs[(runs.model == "moe:default") & runs.dataset.isin(results.dataset)]
    acc = runs.groupby("dataset", sort=False).ood_accuracy
    shown = ", ".join(
        f"±{std:.2f} on {name} ({n} seeds)"
        for name, std, n in zip(acc.std().index, acc.std(), acc.count(), strict=True)
    )
    if shown:
        shown = (
            f" (the defaults' standard deviation over the committed seeds: {shown}; "
            + ", ".join(f"`benchmarks/results/{f}`" for f in SEED_SPREAD)
            + ")"
        )
    return (
        f"\n**One seed per run.** One seed moves OOD accuracy by several "
        f"points{shown}, so a gap of that size between models, or from the "
        "paper's numbers (means over 20 seeds), can be seed noise alone. For more "
        "seeds: `python -m benchmarks ood --suite auto-mpg --quick --seeds :20` "
        "(these fast models on the paper's 20 seeds), or the full suites "
        "`--suite auto-mpg` and `--suite paper-simulation`.\n"
    )


def _merge(paths, out, command):
    results, commands = merge_runs(paths)
    sources = "\n".join(f"- {line}" for line in commands)
    header = (
        f"## OOD benchmark: merged runs\n\n`{command}`: {len(results)} runs "
        f"joined from {len(paths)} files, made by\n\n{sources}\n\n"
    )
    _write(results, out, header)


def _seeds(text, suite):
    if text is None:
        return None
    if text.startswith(":"):
        return list(SUITES[suite].seeds[: int(text[1:])])
    return [int(seed) for seed in _common.split_list(text)]


def main(argv=None, *, prog="python -m benchmarks ood"):
    """Run the benchmark; ``argv`` defaults to ``sys.argv[1:]``."""
    args = _parser(prog).parse_args(argv)
    command = _common.command_line(argv, prog)
    if args.merge:
        if args.out is None:
            raise SystemExit("--merge needs --out (where the joined runs go).")
        _merge(args.merge, args.out, command)
        return 0
    suite = args.suite or ("quick" if args.quick else "paper")
    seeds, models = _seeds(args.seeds, suite), args.models
    if args.quick and suite != "quick":
        seeds = seeds or list(SUITES[suite].seeds[:1])
        models = models or list(QUICK_MODELS)
    if args.out is not None:
        out = args.out
    else:  # a quick look is scratch: it must not land among committed results
        out = (SCRATCH if args.quick or suite == "quick" else RESULTS) / f"ood-{suite}"
    checkpoint = Checkpoint(out / PARTIAL)
    if not args.resume:
        checkpoint.remove()
    resumed = checkpoint.exists()
    start = time.perf_counter()
    results = run_suite(
        suite,
        datasets=args.datasets,
        models=models,
        seeds=seeds,
        params=parse_params(args.param) or None,
        moe_configs=dict(args.config) or None,
        options=TaskOptions(
            data_dir=args.data_dir,
            id_test_size=args.id_test_size,
            max_train_rows=args.max_train_rows or None,
            keep_domain=args.keep_domain,
            protocol=args.protocol,
        ),
        n_jobs=args.n_jobs,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        checkpoint=checkpoint,
    )
    elapsed = time.perf_counter() - start
    read_back = (
        f" (resumed: the runs already in {PARTIAL} of an interrupted command "
        "were read back, not run; the time is this command's)"
        if resumed
        else ""
    )
    header = (
        f"## OOD benchmark: suite {suite}\n\n`{command}`: {len(results)} runs in "
        f"{elapsed:.0f} s{read_back}.\n\n"
    )
    _write(results, out, header)
    done = results[["dataset", "model", "seed"]].astype({"seed": int})
    outside = len(checkpoint.runs() - set(done.itertuples(index=False, name=None)))
    if outside:  # a resume with a narrower selection: those runs are not lost
        print(
            f"kept {checkpoint.path}: {outside} of its runs are outside this "
            "command's datasets, models or seeds (join them with --merge)"
        )
    else:
        checkpoint.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
