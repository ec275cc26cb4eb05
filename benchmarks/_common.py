"""What the benchmark commands share: options, the paired test, the command line."""

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
# the UCI files beside the repository (read with --data-dir)
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "datasets"


def split_list(text):
    """``"a, b,,c"`` -> ``["a", "b", "c"]``: a comma-separated option's items."""
    return [item.strip() for item in text.split(",") if item.strip()]


def paired_test(diff):
    """Mean of paired differences and the paired t-test's p (NaN below 2 pairs or
    when every difference is equal): the one paired test of the benchmarks.

    ``scipy.stats.ttest_1samp(diff, 0)`` is ``ttest_rel(b, a)`` for ``diff = b - a``.
    """
    diff = np.asarray(diff, dtype=np.float64)
    if len(diff) < 2 or np.ptp(diff) == 0:
        return (float(np.mean(diff)) if len(diff) else float("nan")), float("nan")
    return float(np.mean(diff)), float(stats.ttest_1samp(diff, 0.0).pvalue)


def moe_config(text):
    """``--config NAME=BASE[,KEY=VALUE...]`` -> (name, parameters).

    The one spelling of a named MoE configuration in every benchmark command:
    the parameters of ``BASE`` (a key of ``moe_tabular.ood.MOE_CONFIGS``:
    default, paper) with the ``KEY=VALUE`` overrides on top.
    """
    from moe_tabular.ood import MOE_CONFIGS, parse_params

    head, *rest = split_list(text)
    name, sep, base = head.partition("=")
    if not sep or not name or name == "default" or base not in MOE_CONFIGS:
        raise argparse.ArgumentTypeError(
            f"--config expects NAME=BASE[,KEY=VALUE...] with NAME not 'default' "
            f"and BASE in {sorted(MOE_CONFIGS)}; got {text!r}."
        )
    try:
        return name, {**MOE_CONFIGS[base], **parse_params(rest)}
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def make_parser(prog, description):
    """An argparse parser that shows the module docstring as its description."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def command_line(argv, prog):
    """The command as typed, to quote in the results."""
    return " ".join([prog, *(sys.argv[1:] if argv is None else argv)])


def begin_run(args, argv, prog):
    """Apply ``--threads``; return the command line to quote in the results."""
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    return command_line(argv, prog)


def table_head(columns):
    """The first two lines of a markdown table with these column titles.

    >>> table_head(["model", "seed"])
    ['| model | seed |', '|---|---|']
    """
    return ["| " + " | ".join(map(str, columns)) + " |", "|---" * len(columns) + "|"]


def write_markdown(markdown, out):
    """Print the results and write them to ``out`` unless it is None."""
    print(markdown)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(markdown)
        print(f"wrote {out}")
