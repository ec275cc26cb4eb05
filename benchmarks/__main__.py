"""``python -m benchmarks <command> [options]``: run one benchmark.

Commands map to ``benchmarks/bench_<name>.py`` modules, each exposing
``main(argv, *, prog)``; ``python -m benchmarks <command> --help`` lists its
options.
"""

import importlib
import sys

COMMANDS = {
    "ood": ("bench_ood", "in- and out-of-distribution accuracy, paper suites"),
    "perf": ("bench_perf", "fit time and accuracy beside the peers; predict; memory"),
    "budget": ("bench_budget", "training budgets on the simulation at any size"),
    "profile": ("bench_profile", "time and ops of one default training step"),
    "imputation": ("bench_imputation", "imputing missing cells"),
    "shift": ("bench_shift_score", "score_samples as an OOD detector (AUROC)"),
    "paper-table": ("bench_paper_table", "ood runs beside the published numbers"),
    "paired": ("bench_paired", "two runs.csv configurations, paired by seed"),
    "predict-memory": ("bench_predict_memory", "peak RSS of predict as rows grow"),
    "regression": (
        "bench_regression",
        "cross-validated R^2 of the regressor on offline tables",
    ),
}


def _usage():
    lines = ["usage: python -m benchmarks <command> [options]", "", "commands:"]
    lines += [f"  {name:<11} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines.append("\nRun 'python -m benchmarks <command> --help' for its options.")
    return "\n".join(lines)


def main(argv=None):
    """Dispatch ``argv[0]`` to its benchmark module with the other arguments."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"benchmarks.{COMMANDS[command][0]}")
    return module.main(rest, prog=f"python -m benchmarks {command}")


if __name__ == "__main__":
    sys.exit(main())
