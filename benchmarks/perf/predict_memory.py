"""Predict memory: peak RSS of ``predict`` as the number of rows grows.

Each size runs in a fresh child process: it builds a D=20 table (10 string
columns of 8 levels, 10 float columns), fits the default classifier on 2,000 of
its rows for one epoch (the weights do not matter here), and predicts the whole
table. It reports the RSS before predict, the peak RSS during it (the process's
high-water mark, read from /proc), the growth per row and the rows per second.
The input table itself is in the "before" figure; the growth is what predict
adds on top of it.

Run: ``python -m benchmarks predict-memory [--rows 100000,1000000]``.
"""

import json
import subprocess
import sys
import time

import numpy as np

from benchmarks._common import make_parser

TAG = "PREDICT_MEMORY "


def _status_mb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _table(n_rows, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns = {}
    for j in range(10):
        levels = np.array([f"c{j}_{k}" for k in range(8)], dtype=object)
        columns[f"cat{j}"] = levels[rng.integers(0, 8, n_rows)]
        columns[f"num{j}"] = rng.normal(size=n_rows)
    X = pd.DataFrame(columns)
    y = (X["num0"] + (X["cat0"] == "c0_1") > 0.5).to_numpy().astype(int)
    return X, y


def child(n_rows):
    """Fit on 2,000 rows, predict ``n_rows``; print one tagged JSON line."""
    from moe_tabular import MoECBOWClassifier

    X, y = _table(n_rows)
    model = MoECBOWClassifier(max_epochs=1, random_state=0)
    model.fit(X.iloc[:2000], y[:2000])
    before = _status_mb("VmRSS")
    start = time.perf_counter()
    model.predict(X)
    seconds = time.perf_counter() - start
    peak = _status_mb("VmHWM")  # the high-water mark, fit included
    result = {
        "rows": n_rows,
        "rss_before_predict_mb": before,
        "peak_rss_mb": peak,
        "growth_mb": max(0.0, peak - before),
        "predict_s": seconds,
        "rows_per_s": n_rows / seconds,
    }
    print(TAG + json.dumps(result), flush=True)


def main(argv=None, *, prog="python -m benchmarks predict-memory"):
    parser = make_parser(prog, __doc__)
    parser.add_argument(
        "--rows",
        default="100000,400000,1000000",
        help="comma-separated table sizes (default: 100000,400000,1000000)",
    )
    parser.add_argument("--child", type=int, help=argparse_hidden())
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    print(
        "| rows | RSS before predict (MiB) | peak (MiB) | growth (MiB) "
        "| growth per row (bytes) | rows/s |"
    )
    print("|---|---|---|---|---|---|")
    for n_rows in (int(n) for n in args.rows.split(",")):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.perf.predict_memory",
                "--child",
                str(n_rows),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        line = next(x for x in out.splitlines() if x.startswith(TAG))
        r = json.loads(line[len(TAG) :])
        per_row = r["growth_mb"] * 2**20 / n_rows
        print(
            f"| {n_rows:,} | {r['rss_before_predict_mb']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['growth_mb']:.0f} | {per_row:.0f} | "
            f"{r['rows_per_s']:,.0f} |",
            flush=True,
        )
    return 0


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
