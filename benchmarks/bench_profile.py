"""Where a training step of the default estimator spends its time.

Fits :class:`moe_tabular.MoECBOWClassifier` with its defaults for one epoch on
the perf headline's data (the paper's simulation, N=2000, D=5, seed 4951), then
times ``--steps`` further optimizer steps of its skorch net (``train_step``:
forward, loss, backward, Adam) on batches of the estimator's own batch size,
in ``--rounds`` rounds (at the learning rate the one-epoch schedule ended on,
which does not change a step's cost), and prints the median step time and the torch
profiler's table of the ops that took the most time, so that a change to the
module or the engine can be measured step by step: run it at two commits on the
same machine. Fit-level timings are ``python -m benchmarks perf``'s job.

Run ``python -m benchmarks profile`` (about 20 seconds).
"""

import argparse
import statistics
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from moe_tabular import MoECBOWClassifier
from moe_tabular.ood import make_correlation_shift

SEED = 4951  # the perf headline's seed, PAPER_SEEDS[0]


def _parser(prog):
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--rows", type=int, default=25, help="ops in the table")
    return parser


def main(argv=None, *, prog="python benchmarks/bench_profile.py"):
    args = _parser(prog).parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data = make_correlation_shift(n_core_features=5, corr=0.9, random_state=SEED)
    model = MoECBOWClassifier(max_epochs=1, random_state=0)
    model.fit(data.X_train, data.y_train)
    net, module = model.net_, model.module_.train()
    codes = np.searchsorted(model.classes_, np.asarray(data.y_train))
    offsets = module.category_offsets.numpy()
    tokens = np.column_stack([model.tokenizer_.encode(data.X_train), codes]) + offsets
    tokens, targets = torch.as_tensor(tokens), torch.as_tensor(codes)
    batch_size = net.batch_size
    generator = torch.Generator().manual_seed(0)

    def steps(n):
        for _ in range(n):
            rows = torch.randperm(len(tokens), generator=generator)[:batch_size]
            net.train_step((tokens[rows], targets[rows]))

    steps(args.steps)  # warm-up
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        steps(args.steps)
        times.append((time.perf_counter() - start) / args.steps * 1e3)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        steps(args.steps)
    print(
        f"{prog}: batch {batch_size} rows x {tokens.shape[1]} columns, "
        f"torch threads {torch.get_num_threads()}, torch {torch.__version__}"
    )
    print(
        f"step: median {statistics.median(times):.2f} ms over {args.rounds} rounds "
        f"of {args.steps} (rounds: {', '.join(f'{t:.2f}' for t in times)})"
    )
    print(f"ops of {args.steps} profiled steps (self CPU time):")
    table = profiler.key_averages().table(
        sort_by="self_cpu_time_total", row_limit=args.rows
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
