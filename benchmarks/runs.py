"""The one reader of ``runs.csv`` files, with the one rule on repeated runs.

A run is one (dataset, model, seed) row (one (dataset, model, seed, fold) row
of a file with a ``fold`` column, as the regression command writes). A run
that appears twice would count twice in every mean and pair with the wrong
run, so :func:`read_runs` refuses a file that holds one, and
:func:`join_runs` files that hold one between them. The ``ood --merge``,
``paired`` and ``paper-table`` commands and the docs' benchmark headline
(``docs/sphinxext/benchmark_headline.py``) read runs this way; the ``ood`` and
``regression`` commands' ``--merge`` joins them with :func:`merge_runs`.
"""

from pathlib import Path

import pandas as pd

RUN_KEYS = ("dataset", "model", "seed")


def _keys(runs):
    return [*RUN_KEYS, *(["fold"] if "fold" in runs else [])]


def refuse_repeats(runs, source):
    """Raise a ValueError naming the runs of ``runs`` that appear more than once.

    ``source`` names where the runs come from, in the message.
    """
    keys = _keys(runs)
    repeated = runs[runs.duplicated(keys, keep=False)]
    if repeated.empty:
        return runs
    shown = repeated.groupby(keys).size().rename("rows").reset_index()
    described = ", ".join(key for key in keys if key != "model")
    raise ValueError(
        f"{source}: {len(shown)} ({described}) runs appear more than once under "
        "one model (each would count twice, or pair with the wrong run); keep one "
        "row of each:\n" + shown.head(10).to_string(index=False)
    )


def read_runs(path):
    """The runs of one ``runs.csv`` file; a ValueError if a run appears twice.

    Parameters
    ----------
    path : str or path-like
        A ``runs.csv`` written by ``python -m benchmarks ood`` (or regression).

    Returns
    -------
    runs : pandas.DataFrame
        One row per run.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such runs.csv: {path}")
    return refuse_repeats(pd.read_csv(path), path)


def join_runs(paths):
    """The runs of several files as one table; a ValueError if a run repeats."""
    runs = pd.concat([read_runs(path) for path in paths], ignore_index=True)
    return refuse_repeats(runs, " + ".join(str(path) for path in paths))


def add_merge_option(parser, help):
    """The ``--merge RUNS_CSV`` option (repeatable) of a command that joins runs."""
    parser.add_argument(
        "--merge", type=Path, action="append", default=[], metavar="RUNS_CSV", help=help
    )


def source_command(runs_csv):
    """The command line quoted in the summary.md beside ``runs_csv``, if any."""
    summary = Path(runs_csv).with_name("summary.md")
    if summary.is_file():
        for line in summary.read_text().splitlines():
            if line.startswith("`"):
                return line
    return f"`{runs_csv}` (no summary.md beside it)"


def merge_runs(paths):
    """:func:`join_runs` for a ``--merge``: the runs, and the command that made
    each file (:func:`source_command`); a SystemExit with the reason if a file
    is missing or a run repeats."""
    try:
        runs = join_runs(paths)
    except (OSError, ValueError) as error:
        raise SystemExit(str(error)) from None
    return runs, [source_command(path) for path in paths]
