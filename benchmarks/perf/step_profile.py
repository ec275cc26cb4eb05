"""Where a training step of the default estimator spends its time.

Fits :class:`moe_tabular.MoECBOWClassifier` with its defaults (early stopping
off, so that every epoch trains on all rows) on the perf headline's data (the
paper's simulation, N=2000, D=5, seed 4951; ``--features`` widens it as the
perf curve does: 5 informative columns, the rest noise) for ``--epochs`` epochs
per round,
``--rounds`` rounds after one warm-up fit, and prints the median time of one
optimizer step (the epochs' durations, ``history_["dur"]``, over the steps the
fit took, counted by torch's optimizer-step hook: forward, loss, backward, Adam
and the batch loading between them) and the torch profiler's table of the ops
that took the most time in one more fit. Only the public API is used, so the
same command measures a change to the module or the engine at two commits on
the same machine. ``--layout`` forces one of the two layouts of the
leave-one-out scores (the default picks by the number of columns), so that both
are timed at one commit: ``--features 20 --layout column-first`` against
``--features 20 --layout head-first``. Fit-level timings are
``python -m benchmarks perf``'s job.

Run ``python -m benchmarks profile`` (about 20 seconds).
"""

import argparse
import statistics

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.profiler import ProfilerActivity, profile

from moe_tabular import MoECBOWClassifier, _module
from moe_tabular.ood import make_correlation_shift

SEED = 4951  # the perf headline's seed, PAPER_SEEDS[0]


def _parser(prog):
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--rows", type=int, default=25, help="ops in the table")
    parser.add_argument(
        "--features", type=int, default=5, help="columns of X (default: 5)"
    )
    parser.add_argument(
        "--layout",
        choices=["auto", "column-first", "head-first"],
        default="auto",
        help="layout of the leave-one-out scores (default: by column count)",
    )
    return parser


def _fit(data, epochs):
    """One default fit of ``epochs`` epochs; the model and its optimizer steps."""
    steps = []
    hook = register_optimizer_step_post_hook(lambda *_: steps.append(1))
    try:
        model = MoECBOWClassifier(
            max_epochs=epochs, early_stopping=False, random_state=0
        ).fit(data.X_train, data.y_train)
    finally:
        hook.remove()
    return model, len(steps)


def main(argv=None, *, prog="python -m benchmarks profile"):
    """Time and profile default training steps; ``argv`` defaults to sys.argv."""
    args = _parser(prog).parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data = make_correlation_shift(
        n_features=args.features,
        n_core_features=min(5, args.features),
        corr=0.9,
        random_state=SEED,
    )
    with _module.forced_scores_layout(args.layout):
        _fit(data, 1)  # warm-up: a process's first optimizer imports torch._dynamo
        times, n_steps = [], 0
        for _ in range(args.rounds):
            model, n_steps = _fit(data, args.epochs)
            times.append(float(model.history_["dur"].sum()) / n_steps * 1e3)
        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            _fit(data, 1)
    n_columns = data.X_train.shape[1] + 1
    layout = args.layout
    if layout == "auto":
        layout = f"{_module.scores_layout(n_columns)} (auto)"
    print(
        f"{prog}: batch {model.batch_size_} rows x {n_columns} columns, "
        f"{layout} layout, "
        f"torch threads {torch.get_num_threads()}, torch {torch.__version__}"
    )
    print(
        f"step: median {statistics.median(times):.2f} ms over {args.rounds} rounds "
        f"of {args.epochs} epoch(s), {n_steps} steps each "
        f"(rounds: {', '.join(f'{t:.2f}' for t in times)})"
    )
    print("ops of one profiled epoch (self CPU time):")
    table = profiler.key_averages().table(
        sort_by="self_cpu_time_total", row_limit=args.rows
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
