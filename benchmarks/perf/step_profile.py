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
``--features 20 --layout head-first``. ``--param KEY=VALUE`` sets any
estimator parameter (``--param batch_size=32``, ``--param n_ensemble=4``).

The step is also split: the *bare* step is the same forward, loss, backward
and AdamW update on one batch in a plain Python loop (no skorch), so the fit
step minus the bare step is the training loop's own overhead (batch
iterator, callbacks, history); the profiler counts the torch ops a bare step
dispatches, whose fixed cost (a few microseconds each on CPU) is the
dispatch share. Fit-level timings are ``python -m benchmarks perf``'s job.

Run ``python -m benchmarks profile`` (about 20 seconds).
"""

import argparse
import statistics
import time

import numpy as np
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.profiler import ProfilerActivity, profile

from moe_tabular import MoECBOWClassifier, _attention
from moe_tabular._engine import masked_column_loss
from moe_tabular.ood import make_correlation_shift, parse_params

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
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an estimator parameter (repeatable)",
    )
    return parser


def _fit(data, epochs, params):
    """One fit of ``epochs`` epochs; the model and its optimizer steps."""
    steps = []
    hook = register_optimizer_step_post_hook(lambda *_: steps.append(1))
    try:
        model = MoECBOWClassifier(
            **{"early_stopping": False, "random_state": 0, **params},
            max_epochs=epochs,
        ).fit(data.X_train, data.y_train)
    finally:
        hook.remove()
    return model, len(steps)


def _bare_steps(model, data, n_steps=30):
    """The fitted model's step on one batch, outside skorch: ms per step, ops."""
    batch = model.batch_size_
    codes = np.empty((batch, data.X_train.shape[1] + 1), dtype=np.int64)
    codes[:, :-1] = model.tokenizer_.transform(data.X_train.iloc[:batch])
    codes[:, -1] = np.searchsorted(model.classes_, np.asarray(data.y_train)[:batch])
    codes = torch.as_tensor(codes)
    module = model.module_.train()
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-4, fused=True)

    def step():
        logits = module.leave_one_out_logits(codes, by_column=True)
        members = logits.shape[0] // len(codes)
        loss = masked_column_loss(module, logits, codes.repeat(members, 1))[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    ms = (time.perf_counter() - start) / n_steps * 1e3
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        step()
    n_ops = sum(
        event.count
        for event in profiler.key_averages()
        if event.key.startswith("aten::")
    )
    module.eval()
    return ms, n_ops


def main(argv=None, *, prog="python -m benchmarks profile"):
    """Time and profile default training steps; ``argv`` defaults to sys.argv."""
    args = _parser(prog).parse_args(argv)
    params = parse_params(args.param)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data = make_correlation_shift(
        n_features=args.features,
        n_core_features=min(5, args.features),
        corr=0.9,
        random_state=SEED,
    )
    with _attention.forced_scores_layout(args.layout):
        _fit(data, 1, params)  # warm-up: the first optimizer imports torch._dynamo
        times, n_steps = [], 0
        for _ in range(args.rounds):
            model, n_steps = _fit(data, args.epochs, params)
            times.append(float(model.history_["dur"].sum()) / n_steps * 1e3)
        bare_ms, n_ops = _bare_steps(model, data)
        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            _fit(data, 1, params)
    n_columns = data.X_train.shape[1] + 1
    layout = args.layout
    if layout == "auto":
        layout = f"{_attention.scores_layout(n_columns)} (auto)"
    print(
        f"{prog}: batch {model.batch_size_} rows x {n_columns} columns, "
        f"{layout} layout, "
        f"torch threads {torch.get_num_threads()}, torch {torch.__version__}"
        + (f", params {params}" if params else "")
    )
    print(
        f"step: median {statistics.median(times):.2f} ms over {args.rounds} rounds "
        f"of {args.epochs} epoch(s), {n_steps} steps each "
        f"(rounds: {', '.join(f'{t:.2f}' for t in times)})"
    )
    step_ms = statistics.median(times)
    print(
        f"split: bare torch step {bare_ms:.2f} ms ({n_ops} aten ops), "
        f"training loop overhead {step_ms - bare_ms:.2f} ms "
        f"({(step_ms - bare_ms) / step_ms:.0%} of the step)"
    )
    print("ops of one profiled epoch (self CPU time):")
    table = profiler.key_averages().table(
        sort_by="self_cpu_time_total", row_limit=args.rows
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
