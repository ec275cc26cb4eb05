"""The README's code runs as written, and its numbers are the committed results'.

Every Python block runs on its own, in a fresh namespace, as a reader who copies
one block would run it. The results table and the ratios quoted under it are
recomputed from the files under ``benchmarks/results/`` that the README names and
compared with the README's text at the rounding it prints.
"""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEXT = README.read_text()
RESULTS = ROOT / "benchmarks" / "results"
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
# the README's model names -> the `model` column of runs.csv
MODELS = {
    "`MoECBOWClassifier()`": "moe:default",
    "HistGradientBoosting": "hgb",
    "CatBoost": "catboost",
    "LightGBM": "lightgbm",
}
OURS = "moe:default"
TREES = ("hgb", "catboost", "lightgbm")


def _prose():
    """The README's text with its line breaks joined, for phrases across lines."""
    return " ".join(TEXT.split())


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_python_block_runs_on_its_own(block, capsys):
    exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})
    if "make_correlation_shift" in block:
        assert "OOD accuracy" in capsys.readouterr().out


# -- the install command -------------------------------------------------------


def _setup_commands():
    section = TEXT[TEXT.index("## Set-up") :]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_setup_is_install_then_the_quick_benchmark():
    install, run = _setup_commands()
    assert install.startswith("python3 -m pip install ")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in install
    assert run == "python3 -m benchmarks ood --quick"


@pytest.mark.parametrize("page", ["index.rst", "quick_start.rst", "install.rst"])
def test_docs_give_the_readmes_install_command(page):
    install, _ = _setup_commands()
    assert install in (ROOT / "docs" / page).read_text()


def test_readme_names_the_commands_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    install, _ = _setup_commands()
    pinned = re.search(r'"torch==([\d.]+)"', install).group(1)
    assert f'"torch=={pinned}"' in ci  # CI tests the torch the README installs
    assert '-e ".[dev]"' in install and '-e ".[dev]"' in ci
    assert "python3 -m pytest -q" in TEXT and "pytest -q" in ci


# -- the results -----------------------------------------------------------------


def _results_folder():
    section = TEXT[TEXT.index("## Results") : TEXT.index("| model |")]
    return re.search(r"`benchmarks/results/([^`]+)`", section).group(1)


def _per_table():
    """{metric: table x model DataFrame of means over seeds}, and the runs."""
    runs = pd.read_csv(RESULTS / _results_folder() / "runs.csv")
    metrics = ["ood_accuracy", "id_accuracy", "ood_log_loss", "fit_time"]
    means = runs.groupby(["dataset", "model"])[metrics].mean()
    return {m: means[m].unstack() for m in metrics}, runs


def _seconds(value):
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def test_results_table_is_the_committed_runs_means():
    per_table, runs = _per_table()
    prose = _prose()
    n_tables, n_seeds = runs.dataset.nunique(), runs.seed.nunique()
    assert f"on {n_tables} real tables" in prose
    assert f"{n_seeds} seeds, at most {runs.n_train.max():,} training rows" in prose
    rows = re.findall(r"^\| (.+?) \| (.+?) \| (.+?) \| (.+?) \| (.+?) \|$", TEXT, re.M)
    table = {row[0]: [cell.strip("*") for cell in row[1:]] for row in rows}
    assert set(MODELS) <= set(table)
    for name, model in MODELS.items():
        expected = [
            f"{per_table['ood_accuracy'][model].mean():.3f}",
            f"{per_table['id_accuracy'][model].mean():.3f}",
            f"{per_table['ood_log_loss'][model].mean():.3f}",
            _seconds(per_table["fit_time"][model].mean()),
        ]
        assert table[name] == expected, name


def test_per_table_counts_against_the_best_tree():
    per_table, _ = _per_table()
    acc = per_table["ood_accuracy"].round(3)
    margin = acc[OURS] - acc[list(TREES)].max(axis=1)
    wins, ties, losses = (margin > 0).sum(), (margin == 0).sum(), (margin < 0).sum()
    prose = _prose()
    assert (
        f"beat the best of the three trees on {wins} tables, tie on {ties} and "
        f"trail it on {losses}"
    ) in prose
    behind = margin[margin < 0]
    small = behind[behind > -0.01]
    words = {5: "five", 4: "four", 3: "three", 6: "six"}
    assert f"on {words[len(small)]} by under a point" in prose
    large = -behind[behind <= -0.01] * 100
    assert f"by {large.min():.0f} to {large.max():.1f} points" in prose
    for table in large.index:  # mushroom, car-evaluation, contraception
        assert table.split("-")[0] in prose


def test_paired_gains_across_tables_and_pooled():
    """The headline test is across tables (one mean difference per table); the
    pooled test over every paired run stays beside it."""
    _, runs = _per_table()
    acc = runs.pivot_table(index=["dataset", "seed"], columns="model",
                           values="ood_accuracy")  # fmt: skip
    found = {}
    for tree in ("hgb", "catboost"):
        diff = acc[OURS] - acc[tree]
        per_table = diff.groupby(level="dataset").mean()
        found[tree] = (
            per_table.mean(),
            stats.ttest_1samp(per_table, 0.0).pvalue,
            len(diff),
            stats.ttest_1samp(diff, 0.0).pvalue,
        )
    prose = _prose()
    gain, p, n_runs, pooled = found["hgb"]
    assert (
        f"Across the {len(per_table)} tables (one mean difference per table) the "
        f"gain over HistGB ({gain:+.3f}) is inside the seed noise (p = {p:.2f}; "
        f"pooled over the {n_runs} paired runs, p = {pooled:.2f})"
    ) in prose
    gain, p, _, _ = found["catboost"]
    assert f"the gain over CatBoost ({gain:+.3f}, p = {p:.2f})" in prose


def test_simulation_against_the_authors_per_seed_results():
    prose = _prose()
    folder = "ood-paper-simulation-default"
    runs = pd.read_csv(RESULTS / folder / "runs.csv")
    runs = runs[runs.model == OURS]
    paper = pd.read_csv(RESULTS / "published_per_seed.csv")
    paper["dataset"] = [
        f"sim-{k}-{c:g}-{x:g}"
        for k, c, x in zip(paper.n_core_features, paper["corr"], paper.x_noise,
                           strict=True)
    ]  # fmt: skip
    both = runs.merge(paper[["dataset", "seed", "acc_test_at"]], on=["dataset", "seed"])
    assert len(both) == len(runs)  # every run has the authors' seed beside it
    diff = both.ood_accuracy - both.acc_test_at
    n_settings, n_seeds = both.dataset.nunique(), both.seed.nunique()
    assert f"simulation ({n_settings} settings x {n_seeds} seeds)" in prose
    p = stats.ttest_1samp(diff, 0.0).pvalue
    assert f"({diff.mean():+.4f}, p = {p:.2f};" in prose
    below = [
        name
        for name, part in both.groupby("dataset")
        if (d := part.ood_accuracy - part.acc_test_at).mean() < 0
        and stats.ttest_1samp(d, 0.0).pvalue < 0.05
    ]
    assert not below and "no setting below at p < 0.05" in prose
    # the summary the README cites says the same
    cited = (RESULTS / "paper_reproduction.md").read_text()
    assert f"ours - paper {diff.mean():+.4f} (p = {p:.3f})" in cited


def test_fit_time_ratios_are_the_perf_runs():
    prose = _prose()
    assert "`benchmarks/results/perf`" in prose
    results = json.loads((RESULTS / "perf" / "perf.json").read_text())["results"]
    head = results["headline"]  # medians of the rounds' paired ratios
    rounds = np.divide(head["ours"]["fit_est_s_runs"], head["histgb"]["fit_est_s_runs"])
    assert f"costs {np.median(rounds):.1f}x HistGB's" in prose
    assert f"{head['ours']['n_train']:,}-row simulation" in prose
    curve = sorted(
        (p for p in results["curves"] if p["n_features"] == 20),
        key=lambda p: p["n_train"],
    )
    ratios = [p["ours"]["fit_est_s"] / p["histgb"]["fit_est_s"] for p in curve]
    *first, last = [f"{r:.1f}x" for r in ratios]
    assert f"{', '.join(first)} and {last} at" in prose
    *first, last = [f"{p['n_train']:,}" for p in curve]
    assert f"at {', '.join(first)} and {last} rows of 20 columns" in prose


def test_fit_time_ratios_at_todays_budget_are_the_peer_run():
    prose = _prose()
    results = json.loads((RESULTS / "perf-curve-peers" / "perf.json").read_text())
    head = results["results"]["headline"]
    rounds = np.divide(head["ours"]["fit_est_s_runs"], head["histgb"]["fit_est_s_runs"])
    curve = sorted(
        (p for p in results["results"]["curves"] if p["n_features"] == 20),
        key=lambda p: p["n_train"],
    )
    # "at those sizes": the sizes of the sentence before, the committed perf run's
    assert [p["n_train"] for p in curve] == [1_000, 10_000, 100_000]
    ratios = [p["ours"]["fit_est_s"] / p["histgb"]["fit_est_s"] for p in curve]
    *first, last = [f"{r:.1f}x" if r < 100 else f"{r:.0f}x" for r in ratios]
    assert (
        f"it costs {np.median(rounds):.1f}x on that simulation and "
        f"{', '.join(first)} and {last} at those sizes"
    ) in prose
    # "more accurate than ours at every size they ran"
    for peer in ("realmlp", "tabm"):
        ran = [p for p in curve if p.get(peer, {}).get("accuracy") is not None]
        assert ran and all(p[peer]["accuracy"] > p["ours"]["accuracy"] for p in ran)


def test_budget_change_numbers_are_the_committed_runs():
    prose = _prose()
    sim = pd.read_csv(RESULTS / "budget-10k-d20" / "runs.csv")
    means = sim.groupby("config")["ood_accuracy"].mean()
    assert (
        f"OOD accuracy {means['default']:.3f} → {means['e200']:.3f} "
        f"({sim['seed'].nunique()} seeds; HistGB {means['histgb']:.3f}"
    ) in prose
    old = pd.read_csv(RESULTS / "ood-real-suite-5seeds" / "runs.csv")
    new = pd.read_csv(RESULTS / "ood-real-budget200" / "runs.csv")
    keys = ["dataset", "seed"]
    pairs = new[keys + ["ood_accuracy", "ood_log_loss"]].merge(
        old[old["model"] == OURS][keys + ["ood_accuracy", "ood_log_loss"]],
        on=keys,
        suffixes=("_new", "_old"),
    )
    per_table = pairs.groupby("dataset")[
        ["ood_accuracy_new", "ood_accuracy_old", "ood_log_loss_new", "ood_log_loss_old"]
    ].mean()
    acc = per_table["ood_accuracy_new"] - per_table["ood_accuracy_old"]
    loss = per_table["ood_log_loss_new"] - per_table["ood_log_loss_old"]
    p = stats.ttest_1samp(acc, 0.0).pvalue
    assert f"on the {len(per_table)} suite tables it changes" in prose
    assert f"({acc.mean():+.4f} OOD, p = {p:.2f} across tables)" in prose
    assert f"OOD log-loss rises by {loss.mean():.3f}" in prose


def test_numeric_tables_gap_is_the_committed_runs():
    runs = pd.read_csv(RESULTS / "ood-numeric-tables" / "runs.csv")
    means = runs.groupby(["dataset", "model"])["ood_accuracy"].mean().unstack()
    gap = means[list(TREES)].max(axis=1) - means[OURS]
    assert (
        f"the best tree leads by {gap.min():.3f} to {gap.max():.3f} OOD accuracy"
    ) in _prose()


def test_the_100k_fit_is_the_committed_run():
    runs = pd.read_csv(RESULTS / "budget-100k-d20" / "runs.csv").set_index("config")
    curve = json.loads((RESULTS / "perf" / "perf.json").read_text())["results"]
    before = next(
        p["ours"]["accuracy"]
        for p in curve["curves"]
        if p["n_features"] == 20 and p["n_train"] == 100_000
    )
    assert (
        f"{runs.loc['default', 'ood_accuracy']:.3f} OOD accuracy against "
        f"{before:.3f} before and HistGB's {runs.loc['histgb', 'ood_accuracy']:.3f}, "
        f"in {runs.loc['default', 'fit_s']:.0f} s"
    ) in _prose()


def test_the_binary_table_ratios_are_the_committed_run():
    perf = json.loads((RESULTS / "perf-binary-small" / "perf.json").read_text())
    points = perf["results"]["real"]["points"]
    ratios = {
        p["n_train"]: p["models"]["ours"]["fit_est_s"]
        / p["models"]["histgb"]["fit_est_s"]
        for p in points
    }
    assert (
        f"costs {ratios[2000]:.0f}x HistGB's at 2,000 training rows and "
        f"{ratios[10000]:.0f}x at 10,000"
    ) in _prose()
