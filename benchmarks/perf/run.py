"""Fit time, accuracy, predict throughput and memory, beside the peers users pick.

Measures, in one run and on the same data (the paper's correlation-shift
simulation, every column quantile-binned into 10 bins), the fit time, the OOD
accuracy on the shifted test set, the predict throughput (rows/s) and the peak
resident memory of

- ``ours``: :class:`moe_tabular.MoECBOWClassifier` with its defaults, read
  from the class at run time;
- ``histgb``: :class:`sklearn.ensemble.HistGradientBoostingClassifier`;
- ``catboost``: :class:`catboost.CatBoostClassifier`, and ``lightgbm`` on
  request (``--models``);
- ``realmlp``: pytabkit's RealMLP-TD, the deep tabular peer (``tabm``,
  TabM-D, on request);
- ``paper``: the paper's procedure, re-implemented faithfully in torch
  (``benchmarks/paper/reference.py``), in the headline and predict sections.

Every model runs with its package's defaults; an optional one whose package is
absent is left out and named. Each configuration runs in a fresh Python
process (``benchmarks/perf/measure.py``) that reports its own peak RSS;
torch's one-time warm-up (its first optimizer imports ``torch._dynamo``) is
timed apart from the fits. Sections:

1. headline: the simulation at N=2000, D=5, every model in turn, ``--repeats``
   rounds (median of the rounds' paired ratios);
2. predict: 200,000 rows x 10 columns, models fit on 2,000 rows;
3. real table: binary UCI bank-marketing (from ``--data-dir``; skipped, with a
   note, when there is none), split by year as the OOD harness splits it, at
   ``--real-sizes`` training rows (2,000, 10,000 and all 22,183): fit time,
   fit / HistGB and OOD accuracy of every model, in turn, ``--repeats`` rounds
   (``benchmarks/perf/real.py``). The simulation's 10 classes make HistGB grow
   ten trees a round; here it grows one;
4. curves over N (1k -> 1M at D=20) and over D (at N=10,000): full default
   fits of every model up to ``--full-up-to`` rows (100,000), with accuracy
   beside time. Above it the trees and ``ours`` still run full fits (unless
   ``--time-budget`` asks to extrapolate ``ours``), RealMLP-TD is timed over
   1 and 2 of its 256 epochs and extrapolated, TabM-D is not run. Extrapolated
   cells are marked ``~``.

Results go to ``--out`` (default ``benchmarks/results/perf``): ``perf.md``
(with the command), ``perf.json``, ``fit_time_vs_n.png`` (fit time over N,
every model) and ``perf.png``. ``--quick`` is a smoke run of a few minutes on
small sizes. The full run takes hours on 2 cores: run it alone on the machine.

Examples:
  python -m benchmarks perf --quick --out benchmarks/results/perf-quick
  python -m benchmarks perf --threads 2 --repeats 3 --curve-repeats 1
"""

import sys
import tempfile
import time
from pathlib import Path

from benchmarks import _common
from benchmarks.perf import children, figures, measure, real, report
from moe_tabular.ood._peers import missing_package

DEFAULT_MODELS = ("ours", "histgb", "catboost", "realmlp")


def _sizes(text):
    return [int(float(v)) for v in text.split(",") if v.strip()]


def _models(text):
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in measure.LABELS or m == "paper"]
    if unknown:
        choices = sorted(set(measure.LABELS) - {"paper"})
        raise ValueError(f"unknown models {unknown}; choose from {choices}")
    return names


def _parser(prog):
    parser = _common.make_parser(prog, __doc__)
    add = parser.add_argument
    add("--quick", action="store_true", help="a smoke run on small sizes (minutes)")
    add(
        "--out",
        type=Path,
        default=_common.ROOT / "benchmarks" / "results" / "perf",
        help="folder for perf.md, perf.json, fit_time_vs_n.png and perf.png",
    )
    add(
        "--models",
        type=_models,
        default=None,
        help="models beside the paper procedure, comma-separated (default "
        f"{','.join(DEFAULT_MODELS)}; also lightgbm, tabm)",
    )
    add(
        "--sizes",
        type=_sizes,
        default=None,
        help="rows N of the N curve (default 1e3,1e4,1e5,1e6; --quick 1e3,2e3)",
    )
    add(
        "--features",
        type=_sizes,
        default=None,
        help="columns D of the D curve (default 5,10,20,50; --quick 5,20)",
    )
    add("--curve-d", type=int, default=20, help="D of the N curve (default 20)")
    add(
        "--curve-n",
        type=int,
        default=None,
        help="N of the D curve (default 10,000; --quick 1,000)",
    )
    add(
        "--full-up-to",
        type=int,
        default=100_000,
        help="every model runs its full default fit up to this N (default 100,000)",
    )
    add(
        "--time-budget",
        type=float,
        default=None,
        help="above --full-up-to, fit ours for this many seconds of epochs and "
        "extrapolate (default: a full fit, measured end to end)",
    )
    add(
        "--n-test",
        type=int,
        default=None,
        help="shifted test rows scored at each curve point (default 2,000; "
        "--quick 1,000)",
    )
    add(
        "--repeats",
        type=int,
        default=1,
        help="fresh processes per configuration of the headline (round-robin: "
        "median of paired ratios) and predict sections (default 1)",
    )
    add(
        "--curve-repeats",
        type=int,
        default=1,
        help="fresh processes per configuration of the curves (median times, max "
        "peak RSS; default 1: a 1M-row fit can take an hour)",
    )
    add(
        "--predict-repeats",
        type=int,
        default=None,
        help="predict calls timed per process (median; default 3; --quick 1)",
    )
    add(
        "--predict-rows",
        type=int,
        default=None,
        help="rows of the predict section (default 200,000; --quick 20,000)",
    )
    add(
        "--ref-steps",
        type=int,
        default=300,
        help="paper-procedure steps timed per curve point (default 300)",
    )
    add(
        "--headline-paper-epochs",
        type=int,
        default=None,
        help="epochs of the paper fit in the headline (default 200, the full "
        "fit; --quick 5, extrapolated)",
    )
    add(
        "--threads",
        type=int,
        default=None,
        help="threads of every model (torch, OpenMP, CatBoost, pytabkit; default: "
        "the libraries' defaults)",
    )
    add(
        "--data-dir",
        type=Path,
        default=_common.DEFAULT_DATA_DIR if _common.DEFAULT_DATA_DIR.is_dir() else None,
        help="folder of the UCI files, for the real-table section (default: "
        "../shared/datasets beside the repository when it exists; else the "
        "section is skipped)",
    )
    add(
        "--real-sizes",
        type=real.parse_sizes,
        default=None,
        help="training rows of the real-table section (bank-marketing), "
        "comma-separated; full: every training row; none: no section (default "
        "2000,10000,full; --quick 1000)",
    )
    add(
        "--device",
        default="cpu",
        help="device of ours (MoECBOWClassifier's device parameter, e.g. cuda; "
        "the other models run on the CPU; default cpu)",
    )
    return parser


def _resolve(args):
    """Fill the defaults that depend on --quick; the models that can run here."""
    quick = args.quick
    args.sizes = args.sizes or (
        [1000, 2000] if quick else [1000, 10_000, 100_000, 1_000_000]
    )
    args.features = args.features or ([5, 20] if quick else [5, 10, 20, 50])
    args.curve_n = args.curve_n or (1000 if quick else 10_000)
    args.n_test = args.n_test or (1000 if quick else 2000)
    args.predict_rows = args.predict_rows or (20_000 if quick else 200_000)
    args.headline_paper_epochs = args.headline_paper_epochs or (5 if quick else 200)
    args.predict_repeats = max(1, args.predict_repeats or (1 if quick else 3))
    args.headline_n = 2000
    if args.real_sizes is None:
        args.real_sizes = [1000] if quick else [2000, 10_000, None]
    wanted = list(args.models or DEFAULT_MODELS)
    if "ours" not in wanted:
        wanted.insert(0, "ours")
    absent = {m: missing_package(m) for m in wanted}
    args.models = [m for m in wanted if absent[m] is None]
    return {m: package for m, package in absent.items() if package}


def _headline(tmp, args, log):
    log(f"headline: simulation N={args.headline_n}, D=5")
    path = children.write_data(
        tmp, "headline", n_train=args.headline_n, n_test=args.headline_n, n_features=5
    )
    common = {
        "data": path,
        "seed": measure.SEED,
        "device": args.device,
        "predict": True,
        "score": True,
        "predict_repeats": args.predict_repeats,
    }
    specs = {"ours": dict(common, model="ours"), "paper": dict(common, model="paper")}
    if args.headline_paper_epochs < 200:
        steps = -(-args.headline_n * 6 // 128) * args.headline_paper_epochs
        specs["paper"]["max_steps"] = steps
    for name in args.models:
        specs.setdefault(name, dict(common, model=name))
    return children.round_robin(specs, args.repeats, log, args.threads)


def _predict(tmp, args, log):
    log(f"predict: {args.predict_rows:,} rows x 10 columns")
    path = children.write_data(
        tmp, "predict", n_train=args.headline_n, n_test=args.predict_rows, n_features=10
    )
    common = {
        "data": path,
        "seed": measure.SEED,
        "device": args.device,
        "predict": True,
        "predict_repeats": args.predict_repeats,
    }
    # a few epochs or steps where a full fit is slow: weights do not change the cost
    cheap = {
        "ours": {"max_epochs": 2},
        "paper": {"max_steps": 50},
        "realmlp": {"n_epochs": 2},
        "tabm": {"n_epochs": 2},
    }
    results = {}
    for name in ["ours", "paper", *[m for m in args.models if m != "ours"]]:
        spec = dict(common, model=name, **cheap.get(name, {}))
        results[name] = children.repeat(spec, args.repeats, log, args.threads)
    return results


def _curve_point(tmp, n_train, n_features, args, log):
    log(f"curve point: N={n_train:,}, D={n_features}")
    path = children.write_data(
        tmp,
        f"curve_{n_train}_{n_features}",
        n_train=n_train,
        n_test=args.n_test,
        n_features=n_features,
    )
    common = {
        "data": path,
        "seed": measure.SEED,
        "device": args.device,
        "score": True,
    }
    point = {}
    for name in args.models:
        todo = children.plan(
            dict(common, model=name),
            n_train,
            full_up_to=args.full_up_to,
            time_budget=args.time_budget,
        )
        point[name] = (
            todo
            if todo.get("not_run")
            else children.repeat(todo, args.curve_repeats, log, args.threads)
        )
    return point


def main(argv=None, *, prog="python -m benchmarks perf"):
    """Run the benchmark; ``argv`` defaults to ``sys.argv[1:]``."""
    args = _parser(prog).parse_args(argv)
    absent = _resolve(args)
    command = _common.command_line(argv, prog)
    args.out.mkdir(parents=True, exist_ok=True)
    machine = children.machine_info()
    machine["threads_per_configuration"] = args.threads or "library default"
    machine["device_of_ours"] = args.device
    log_lines = []

    def log(text):
        print(text, flush=True)
        log_lines.append(text)

    log(f"bench_perf: {command}")
    log("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()))
    for name, package in absent.items():
        log(f"skipped {name}: {package} is not installed (pip install {package})")
    start = time.perf_counter()
    results = {"headline": {}, "predict": {}, "real": {}, "curves": {}}
    with tempfile.TemporaryDirectory(prefix="bench_perf_") as tmp:
        real_section = real.write_tasks(tmp, args, log)  # a missing file stops here
        results["headline"] = _headline(tmp, args, log)
        results["predict"] = _predict(tmp, args, log)
        results["real"] = real.run_section(real_section, args, log)
        points = [(n, args.curve_d) for n in args.sizes]
        points += [(args.curve_n, d) for d in args.features]
        for n_train, n_features in dict.fromkeys(points):
            results["curves"][(n_train, n_features)] = _curve_point(
                tmp, n_train, n_features, args, log
            )
    elapsed = time.perf_counter() - start
    text, found = report.markdown(results, args, machine, command, elapsed)
    if absent:
        skipped = ", ".join(f"{m} ({p} not installed)" for m, p in absent.items())
        text += f"\nSkipped: {skipped}.\n"
    (args.out / "perf.md").write_text(text)
    (args.out / "perf.json").write_text(
        report.to_json(results, args, machine, command, elapsed, found)
    )
    figures.plot(results, args, args.out)
    print()
    print(text)
    print(f"wrote {args.out / 'perf.md'}, perf.json, fit_time_vs_n.png, perf.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
