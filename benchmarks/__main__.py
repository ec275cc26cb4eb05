"""``python -m benchmarks <command> [options]``: run one benchmark.

Commands map to modules in the folders of ``benchmarks/`` by concern (``ood/``,
``perf/``, ``lens/``, ``paper/``, ``regression/``), each a thin argparse program
exposing ``main(argv, *, prog)``; ``python -m benchmarks <command> --help``
lists its options.
"""

import importlib
import sys

COMMANDS = {
    "ood": ("ood.run", "in- and out-of-distribution accuracy, paper suites"),
    "perf": ("perf.run", "fit time and accuracy beside the peers; predict; memory"),
    "budget": ("perf.budget", "training budgets on the simulation at any size"),
    "profile": ("perf.step_profile", "time and ops of one default training step"),
    "imputation": ("lens.imputation", "imputing missing cells"),
    "shift": ("lens.shift_score", "score_samples as an OOD detector (AUROC)"),
    "paper-table": ("paper.table", "ood runs beside the published numbers"),
    "paired": ("ood.paired", "two runs.csv configurations, paired by seed"),
    "predict-memory": ("perf.predict_memory", "peak RSS of predict as rows grow"),
    "regression": (
        "regression.run",
        "cross-validated R^2 of the regressor on offline tables",
    ),
}


def _usage():
    lines = ["usage: python -m benchmarks <command> [options]", "", "commands:"]
    lines += [f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items()]
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
