"""The benchmarks page's headline: one table and one plot per question.

Every number and every plot comes from result files committed under
``benchmarks/results/``; nothing is typed by hand. Where the run that answers
a question has not been committed yet, the page says so instead of showing a
number. ``docs/conf.py`` calls :func:`write_headline` at every build; to look at
the output without building the site::

    python docs/sphinxext/benchmark_headline.py   # writes docs/generated/headline/

Which run answers which question is set in ``SOURCES`` below; when a newer run
is committed under another folder name, point the question at it there.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is not installed: read it from here
    sys.path.insert(0, str(ROOT))

from benchmarks.runs import read_runs  # noqa: E402  (the one runs.csv reader)

RESULTS = ROOT / "benchmarks" / "results"
OUT = ROOT / "docs" / "generated" / "headline"

# question -> committed result folders (under benchmarks/results/) it is read from
SOURCES = {
    # the paper's correlation-shift simulation: 12 settings x 20 seeds
    "simulation": {
        "ours": "ood-paper-simulation-default",
        "baselines": "ood-paper-simulation-baselines",
    },
    # Auto MPG, train on American cars, test on European and Japanese ones
    "auto_mpg": {"ours": "ood-auto-mpg-default", "baselines": "ood-auto-mpg-more"},
    # the real-table suite (>= 12 tables at full size, with the stronger
    # baselines): the first folder of this list that exists is shown
    "real_suite": ["ood-real-suite-200", "ood-real-suite-5seeds", "ood-real-suite"],
    # deep tabular peers on the real suite (3 of its seeds), read beside the
    # real_suite folder's runs of the same tables and seeds
    "real_peers": ["ood-real-deep-peers", "ood-real-transformers"],
    # the earlier, smaller real-table run (4 tables, 1,000 training rows)
    "real_early": "ood-real",
    # the largest real tables with every training row at the 200-epoch budget
    # (adult, bank marketing; 3 seeds, the trees beside ours)
    "large_tables": "ood-real-full-size-200",
    # fit time over rows: perf.json of `python -m benchmarks perf` (1k-100k rows,
    # HistGB, CatBoost and RealMLP beside ours, medians of 3 rounds)
    "fit_time": "perf",
}
OURS = "moe:default"
MODEL_NAMES = {
    "moe:default": "MoECBOW (defaults)",
    "hgb": "HistGradientBoosting",
    "logreg": "logistic regression",
    "rf": "random forest",
    "majority": "most frequent class",
    "catboost": "CatBoost",
    "lightgbm": "LightGBM",
    "ours": "MoECBOW (defaults)",
    "paper": "paper's procedure (torch port)",
    "histgb": "HistGradientBoosting",
    "realmlp": "RealMLP-TD",
    "tabm": "TabM-D",
    "ft-transformer": "FT-Transformer",
    "tab-transformer": "TabTransformer",
}
PEERS = ("realmlp", "tabm", "ft-transformer", "tab-transformer")
TREES = ("hgb", "catboost", "lightgbm", "rf", "gb")
# one colour per model, the same in every plot (matplotlib's tab10, then darker
# shades for the rest); perf.json's names are aliases of the harness's
COLORS = {
    OURS: "#1f77b4",  # blue
    "paper": "#d62728",  # red
    "hgb": "#2ca02c",  # green
    "catboost": "#ff7f0e",  # orange
    "lightgbm": "#bcbd22",  # olive
    "logreg": "#7f7f7f",  # grey
    "majority": "#d9d9d9",  # light grey
    "rf": "#17becf",  # cyan
    "gb": "#8c564b",  # brown
    "mlp": "#637939",  # dark olive
    "realmlp": "#9467bd",  # purple
    "tabm": "#e377c2",  # pink
    "ft-transformer": "#393b79",  # indigo
    "tab-transformer": "#8c6d31",  # dark gold
}
ALIASES = {"ours": OURS, "histgb": "hgb"}


def _color(model):
    """The model's colour; a model not listed above gets a dark grey."""
    return COLORS.get(ALIASES.get(model, model), "#404040")


def _name(model):
    return MODEL_NAMES.get(model, model)


def _runs(folder):
    path = RESULTS / folder / "runs.csv"
    return read_runs(path) if path.exists() else None


def _command(folder):
    """The command line a result folder's summary.md quotes (its first code span)."""
    path = RESULTS / folder / "summary.md"
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("`"):
            return line.split("`")[1]
    return None


def _summary(runs):
    from moe_tabular.ood import summarize_results  # mean, std and published numbers

    return summarize_results(runs)


def _fmt(mean, std=np.nan):
    if pd.isna(mean):
        return "–"
    return f"{mean:.3f}" if pd.isna(std) else f"{mean:.3f} ± {std:.3f}"


def _list_table(header, rows, widths=None, css="benchmark headline"):
    lines = [".. list-table::", "   :header-rows: 1", f"   :class: {css}"]
    if widths:
        lines.append(f"   :widths: {' '.join(map(str, widths))}")
    lines.append("")
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return lines + [""]


def _source_line(folders):
    named = ", ".join(f"``benchmarks/results/{f}``" for f in folders)
    return [f"*From* {named}.", ""]


def _figure_block(png, alt, table_lines, *, wide=False):
    """A table with its plot beside it (stacked on narrow screens).

    ``wide``: the table is too wide to leave the plot room beside it, so the
    plot (drawn wide) takes the full width and the table follows below.
    """
    if wide:
        out = [
            ".. container:: headline-wide",
            "",
            f"   .. image:: /generated/headline/{png}",
            f"      :alt: {alt}",
            "      :width: 100%",
            "",
        ]
        return out + table_lines
    out = [".. container:: headline-pair", ""]
    out += ["   .. container:: headline-table", ""]
    out += [f"      {line}" if line else "" for line in table_lines]
    out += [
        "   .. container:: headline-plot",
        "",
        f"      .. image:: /generated/headline/{png}",
        f"         :alt: {alt}",
        "",
    ]
    return out


def _not_yet_run(what, command):
    return [
        ".. admonition:: Not yet run",
        "   :class: warning",
        "",
        f"   {what} No result is committed yet, so this page shows no number for",
        f"   it. The command that will produce it: ``{command}``.",
        "",
    ]


# -- the paper's simulation ----------------------------------------------------


def simulation(plt):
    ours = _runs(SOURCES["simulation"]["ours"])
    base = _runs(SOURCES["simulation"]["baselines"])
    if ours is None:
        return (
            _not_yet_run(
                "The paper's simulation.",
                "python -m benchmarks ood --suite paper-simulation "
                "--models moe:default",
            ),
            None,
            "not yet run",
        )
    runs = pd.concat([ours[ours.model == OURS], base], ignore_index=True)
    summary = _summary(runs)
    acc = summary.pivot(index="dataset", columns="model", values="ood_accuracy_mean")
    std = summary.pivot(index="dataset", columns="model", values="ood_accuracy_std")
    paper = summary[summary.model == OURS].set_index("dataset")[
        "published_ood_accuracy"
    ]
    seeds = int(summary[summary.model == OURS]["n_seeds"].min())
    settings = list(acc.index)
    rows = []
    for s in settings:
        rows.append(
            [
                f"``{s}``",
                _fmt(acc.at[s, OURS], std.at[s, OURS]),
                _fmt(paper[s]),
                _fmt(acc.at[s, "hgb"]) if "hgb" in acc else "–",
                _fmt(acc.at[s, "logreg"]) if "logreg" in acc else "–",
            ]
        )
    ours_r = acc[OURS].round(3)
    n_at_paper = int((ours_r >= paper.round(3)).sum())
    n_above_hgb = int((ours_r > acc["hgb"].round(3)).sum()) if "hgb" in acc else 0
    text = [
        f"OOD accuracy, mean over {seeds} seeds per setting "
        f"(``sim-<core features>-<corr>-<noise>``). The defaults are at or above "
        f"the paper's published attention model in **{n_at_paper} of "
        f"{len(settings)}** settings and above HistGradientBoosting in "
        f"**{n_above_hgb} of {len(settings)}**; mean over settings "
        f"{acc[OURS].mean():.3f} against the paper's {paper.mean():.3f}.",
        "",
    ]
    table = _list_table(
        ["setting", "ours (defaults)", "paper's attention", "HistGB", "logistic reg."],
        rows,
    )
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    _plot_simulation(ax, settings, acc, std, paper)
    fig.tight_layout()
    fig.savefig(OUT / "simulation.png", dpi=110)
    plt.close(fig)
    folders = [SOURCES["simulation"]["ours"], SOURCES["simulation"]["baselines"]]
    lines = text + _figure_block(
        "simulation.png", "OOD accuracy per simulation setting", table
    )
    glance = (
        f"at or above the paper's attention in {n_at_paper} of {len(settings)} "
        f"settings (mean {acc[OURS].mean():.3f} vs {paper.mean():.3f}); above "
        f"HistGB in {n_above_hgb} of {len(settings)}"
    )
    return lines + _source_line(folders), (settings, acc, std, paper), glance


def _plot_simulation(ax, settings, acc, std, paper, small=False):
    x = np.arange(len(settings))
    ax.errorbar(
        x,
        acc[OURS],
        yerr=std[OURS],
        fmt="o",
        color=_color(OURS),
        capsize=2,
        label="ours (defaults)",
    )
    ax.plot(
        x,
        paper.loc[settings],
        "x",
        color=_color("paper"),
        ms=8,
        label="paper's attention",
    )
    if "hgb" in acc:
        ax.plot(x, acc["hgb"], "s", color=_color("hgb"), ms=4, label="HistGB")
    if "logreg" in acc and not small:
        ax.plot(
            x, acc["logreg"], "^", color=_color("logreg"), ms=4, label="logistic reg."
        )
    ax.set_xticks(x)
    ax.set_xticklabels(
        [s.removeprefix("sim-") for s in settings], rotation=60, fontsize=7
    )
    ax.set_ylabel("OOD accuracy")
    ax.set_title(f"Paper's simulation ({len(settings)} settings)", fontsize=10, pad=18)
    ax.legend(  # above the points, which fill the axes
        fontsize=7,
        ncol=4,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
    )
    ax.grid(alpha=0.3)


# -- Auto MPG ------------------------------------------------------------------


def auto_mpg(plt):
    ours = _runs(SOURCES["auto_mpg"]["ours"])
    base = _runs(SOURCES["auto_mpg"]["baselines"])
    if ours is None:
        return (
            _not_yet_run(
                "Auto MPG.", "python -m benchmarks ood --suite auto-mpg --seeds :10"
            ),
            None,
            "not yet run",
        )
    keep = base[base.model.isin(["hgb", "rf", "logreg"])] if base is not None else None
    runs = pd.concat([ours[ours.model == OURS], keep], ignore_index=True)
    summary = _summary(runs).set_index("model")
    rows = [
        [
            _name(m),
            str(int(r.n_seeds)),
            _fmt(r.ood_accuracy_mean, r.ood_accuracy_std),
            _fmt(r.published_ood_accuracy),
        ]
        for m, r in summary.iterrows()
    ]
    table = _list_table(
        ["model", "seeds", "OOD accuracy (ours)", "paper's number"], rows
    )
    o = summary.loc[OURS]
    text = [
        f"Train on American cars, test on European and Japanese ones. The defaults "
        f"score **{o.ood_accuracy_mean:.3f} ± {o.ood_accuracy_std:.3f}** over "
        f"{int(o.n_seeds)} seeds against the paper's {o.published_ood_accuracy:.3f} "
        f"for its attention model; *paper's number* is the published OOD accuracy "
        f"of the same kind of model (the paper has no HistGradientBoosting).",
        "",
    ]
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    _plot_auto_mpg(ax, summary)
    fig.tight_layout()
    fig.savefig(OUT / "auto_mpg.png", dpi=110)
    plt.close(fig)
    folders = [SOURCES["auto_mpg"]["ours"], SOURCES["auto_mpg"]["baselines"]]
    lines = text + _figure_block("auto_mpg.png", "Auto MPG OOD accuracy", table)
    glance = (
        f"{o.ood_accuracy_mean:.3f} ± {o.ood_accuracy_std:.3f} vs the paper's "
        f"{o.published_ood_accuracy:.3f}"
    )
    if "hgb" in summary.index:
        glance += f"; HistGB {summary.loc['hgb'].ood_accuracy_mean:.3f}"
    return lines + _source_line(folders), summary, glance


def _plot_auto_mpg(ax, summary):
    y = np.arange(len(summary))[::-1]
    colors = [_color(m) for m in summary.index]
    ax.barh(
        y,
        summary.ood_accuracy_mean,
        xerr=summary.ood_accuracy_std,
        color=colors,
        capsize=2,
        label="mean ± std over seeds",
    )
    ax.plot(
        summary.published_ood_accuracy,
        y,
        "x",
        color=_color("paper"),
        ms=8,
        label="paper's number",
    )
    ax.set_yticks(y)
    ax.set_yticklabels([_name(m) for m in summary.index], fontsize=8)
    ax.set_xlim(0.5, 1.0)  # room for the legend right of the bars
    ax.set_xlabel("OOD accuracy")
    ax.set_title("Auto MPG (USA -> Europe, Japan)", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3, axis="x")


# -- real tables ---------------------------------------------------------------


def _real_table(runs):
    summary = _summary(runs)
    acc = summary.pivot(index="dataset", columns="model", values="ood_accuracy_mean")
    acc = acc.loc[list(dict.fromkeys(summary.dataset))]  # suite order
    models = [m for m in [OURS, *TREES, "logreg", "majority"] if m in acc]
    rows = [[f"``{d}``", *(_fmt(acc.at[d, m]) for m in models)] for d in acc.index]
    rows.append(["**mean**", *(f"**{acc[m].mean():.3f}**" for m in models)])
    return acc, models, _list_table(["table", *map(_name, models)], rows)


def real_suite(plt):
    folder = next((f for f in SOURCES["real_suite"] if (RESULTS / f).exists()), None)
    lines = []
    acc = None
    glance = "full suite: not yet run"
    title = "Real tables"
    if folder is None:
        lines += _not_yet_run(
            "The real-table suite at full size (twelve or more tables with a natural "
            "domain column, CatBoost and LightGBM beside HistGradientBoosting).",
            "python -m benchmarks ood --suite real",
        )
    else:
        runs = _runs(folder)
        acc, models, table = _real_table(runs)
        trees = [m for m in TREES if m in acc]
        best_tree = acc[trees].max(axis=1) if trees else None
        wins = int((acc[OURS].round(3) > best_tree.round(3)).sum()) if trees else 0
        text = (
            f"Mean OOD accuracy over seeds, per table. The defaults beat the best "
            f"tree on **{wins} of {len(acc)}** tables."
        )
        ties = _majority_ties(acc)
        if ties and ties["real_majority_tables"] != "none":
            text += (
                f" On {ties['real_majority_tables']} always predicting the most "
                "frequent class is as accurate as every model (within 0.001 of "
                "the best), so accuracy there says little."
            )
        if "majority" in models and (acc["majority"] < 0.4).any():
            text += " The plot's bars start at 0.4; the table has the lower values."
        lines += [text, ""]
        glance = f"beat the best tree on {wins} of {len(acc)} tables"
        fig, ax = plt.subplots(figsize=(12, 3.8))
        _plot_real(ax, acc, models, title)
        fig.tight_layout()
        fig.savefig(OUT / "real.png", dpi=110)
        plt.close(fig)
        lines += _figure_block(
            "real.png", "OOD accuracy per real table", table, wide=True
        )
        lines += _source_line([folder])
    # the earlier, smaller run stands in for the suite until the suite is committed
    early = _runs(SOURCES["real_early"]) if folder is None else None
    if early is not None:
        e_acc, e_models, e_table = _real_table(early)
        n_seeds = early.groupby(["dataset", "model"]).seed.nunique().min()
        rows_note = ""
        if "n_train" in early:
            rows_note = f", at most {int(early.n_train.max()):,} training rows each"
        beats = int((e_acc[OURS].round(3) > e_acc["hgb"].round(3)).sum())
        lines += [
            f"Until then, the earlier and smaller run: {len(e_acc)} tables, "
            f"{n_seeds} seeds{rows_note}. The defaults beat HistGradientBoosting "
            f"on {beats} of {len(e_acc)} of them.",
            "",
        ]
        fig, ax = plt.subplots(figsize=(6.4, 3.4))
        e_title = f"Real tables, earlier run ({len(e_acc)} tables)"
        _plot_real(ax, e_acc, e_models, e_title)
        fig.tight_layout()
        fig.savefig(OUT / "real_early.png", dpi=110)
        plt.close(fig)
        lines += _figure_block("real_early.png", "OOD accuracy per table", e_table)
        lines += _source_line([SOURCES["real_early"]])
        acc, title = e_acc, e_title
        hgb = e_acc["hgb"].mean()
        glance += (
            f"; earlier {len(e_acc)}-table run: mean {e_acc[OURS].mean():.3f} "
            f"vs HistGB {hgb:.3f}, ahead on {beats} of {len(e_acc)} tables"
        )
    return lines, (acc, title) if acc is not None else None, glance


def _plot_real(ax, acc, models, title, *, legend_columns=None):
    """Bars per table; the legend sits between the title and the bars.

    ``legend_columns``: how many legend entries per row (default: all in one).
    """
    x = np.arange(len(acc))
    width = 0.8 / len(models)
    for i, m in enumerate(models):
        ax.bar(
            x + (i - (len(models) - 1) / 2) * width,
            acc[m],
            width,
            label=_name(m),
            color=_color(m),
        )
    ax.set_xticks(x)
    ax.set_xticklabels(acc.index, fontsize=7, rotation=35, ha="right")
    ax.set_xlim(-0.6, len(acc) - 0.4)
    ax.set_ylim(0.4, 1)
    ax.set_ylabel("OOD accuracy")
    columns = legend_columns or len(models)
    rows = -(-len(models) // columns)
    ax.set_title(title, fontsize=10, pad=6 + 11 * rows)
    ax.legend(
        fontsize=7,
        ncol=columns,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
    )
    ax.grid(alpha=0.3, axis="y")


# -- fit time over rows -----------------------------------------------------------


def _seconds(value):
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def fit_time(plt):
    path = RESULTS / SOURCES["fit_time"] / "perf.json"
    if not path.exists():
        return (
            _not_yet_run("Fit time over rows.", "python -m benchmarks perf"),
            None,
            "not yet run",
        )
    data = json.loads(path.read_text())
    points = [p for p in data["results"]["curves"] if p["n_features"] == 20]
    points.sort(key=lambda p: p["n_train"])
    models = [k for k in points[0] if k not in ("n_train", "n_features")]
    rows = []
    for p in points:
        cells = [f"{p['n_train']:,}"]
        for m in models:
            r = p[m]
            mark = "~" if r.get("extrapolated") else ""
            cells.append(f"{mark}{_seconds(r['fit_est_s'])}")
        if "ours" in p and "histgb" in p:
            ratio = p["ours"]["fit_est_s"] / p["histgb"]["fit_est_s"]
            extrapolated = p["ours"].get("extrapolated") or p["histgb"].get(
                "extrapolated"
            )
            cells.append(f"{'~' if extrapolated else ''}{ratio:,.0f}x")
        rows.append(cells)
    header = ["rows (D=20)", *(f"{_name(m)} (s)" for m in models)]
    if "histgb" in models:
        header.append("ours / HistGB")
    table = _list_table(header, rows)
    peers = [m for m in models if m not in ("ours", "paper", "histgb")]
    text = [
        "Default fit time in seconds on the simulation's data with 20 columns "
        "(``~``: extrapolated from a timed slice of the fit, as the run notes "
        "explain; the others are full fits). One run on a 2-core machine.",
        "",
    ]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    _plot_fit_time(ax, points, models, legend_outside=True)
    fig.tight_layout()
    fig.savefig(OUT / "fit_time.png", dpi=110)
    plt.close(fig)
    lines = text + _figure_block("fit_time.png", "Fit time over rows", table, wide=True)
    lines += _source_line([SOURCES["fit_time"]])
    if not peers:
        lines += _not_yet_run(
            "The same curve with CatBoost and a deep tabular peer in the same run, "
            "and full fits (no extrapolation) up to 100,000 rows.",
            "python -m benchmarks perf",
        )
    ratios = [p["ours"]["fit_est_s"] / p["histgb"]["fit_est_s"] for p in points]
    glance = (
        f"{ratios[0]:,.0f}x HistGB's time at {points[0]['n_train']:,} rows, "
        f"{'~' if points[-1]['ours'].get('extrapolated') else ''}{ratios[-1]:,.0f}x "
        f"at {points[-1]['n_train']:,}; peers "
        + ("in the same run" if peers else "not yet run")
    )
    return lines, (points, models), glance


def _plot_fit_time(ax, points, models, *, legend_outside=False):
    """One line per model, its markers in its colour (hollow: extrapolated)."""
    n = np.array([p["n_train"] for p in points])
    for m in models:
        color = _color(m)
        t = np.array([p[m]["fit_est_s"] for p in points])
        ax.plot(n, t, "-o", color=color, label=_name(m))
        extrapolated = np.array([bool(p[m].get("extrapolated")) for p in points])
        if extrapolated.any():
            ax.plot(n[extrapolated], t[extrapolated], "o", color=color, mfc="white")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training rows (20 columns)")
    ax.set_ylabel("fit time (s)")
    ax.set_title("Fit time over rows (hollow: extrapolated)", fontsize=10)
    if legend_outside:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3, which="both")


# -- numbers for prose (the "when to use" page) ----------------------------------


def _of(count, total):
    return f"{count} of {total}"


def prose_numbers():
    """``{name: text}`` for reST substitutions: numbers quoted in prose, computed.

    Every value is computed from the same committed result files as the tables;
    a run that is missing gives ``not yet run``.
    """
    missing = "not yet run"
    values = {}
    ours = _runs(SOURCES["simulation"]["ours"])
    base = _runs(SOURCES["simulation"]["baselines"])
    if ours is not None and base is not None:
        summary = _summary(pd.concat([ours[ours.model == OURS], base]))
        acc = summary.pivot(
            index="dataset", columns="model", values="ood_accuracy_mean"
        )
        paper = summary[summary.model == OURS].set_index("dataset")[
            "published_ood_accuracy"
        ]
        o = acc[OURS].round(3)
        values |= {
            "sim_n": str(len(acc)),
            "sim_at_paper": _of(int((o >= paper.round(3)).sum()), len(acc)),
            "sim_above_hgb": _of(int((o > acc["hgb"].round(3)).sum()), len(acc)),
            "sim_above_logreg": _of(int((o > acc["logreg"].round(3)).sum()), len(acc)),
            "sim_ours": f"{acc[OURS].mean():.3f}",
            "sim_paper": f"{paper.mean():.3f}",
            "sim_hgb": f"{acc['hgb'].mean():.3f}",
        }
    mpg = _runs(SOURCES["auto_mpg"]["ours"])
    mpg_base = _runs(SOURCES["auto_mpg"]["baselines"])
    if mpg is not None and mpg_base is not None:
        summary = _summary(pd.concat([mpg[mpg.model == OURS], mpg_base]))
        summary = summary.set_index("model")
        o = summary.loc[OURS]
        values |= {
            "mpg_ours": _fmt(o.ood_accuracy_mean, o.ood_accuracy_std),
            "mpg_seeds": str(int(o.n_seeds)),
            "mpg_paper": _fmt(o.published_ood_accuracy),
            "mpg_hgb": _fmt(summary.loc["hgb"].ood_accuracy_mean),
            "mpg_rf": _fmt(summary.loc["rf"].ood_accuracy_mean),
        }
    folder = next((f for f in SOURCES["real_suite"] if (RESULTS / f).exists()), None)
    values["real_suite_status"] = (
        missing if folder is None else f"committed in ``benchmarks/results/{folder}``"
    )
    real = None if folder is None else _runs(folder)
    if real is not None:
        summary = _summary(real)

        def pivot(metric):
            return summary.pivot(index="dataset", columns="model", values=metric)

        acc, id_acc = pivot("ood_accuracy_mean"), pivot("id_accuracy_mean")
        loss = pivot("ood_log_loss_mean")
        trees = [m for m in TREES if m in acc]
        best_tree = acc[trees].round(3).max(axis=1)
        values |= {
            "real_n": str(len(acc)),
            "real_seeds": str(int(summary.n_seeds.min())),
            "real_rows": f"{int(real.n_train.max()):,}",
            "real_wins": _of(int((acc[OURS].round(3) > best_tree).sum()), len(acc)),
            "real_losses": _of(int((acc[OURS].round(3) < best_tree).sum()), len(acc)),
        }
        for model, key in ((OURS, "ours"), *((m, m) for m in trees)):
            values |= {
                f"real_{key}": f"{acc[model].mean():.3f}",
                f"real_{key}_id": f"{id_acc[model].mean():.3f}",
                f"real_{key}_loss": f"{loss[model].mean():.3f}",
            }
        values |= _majority_ties(acc)
        values |= _peer_numbers(real)
    early = _runs(SOURCES["real_early"])
    if early is not None:
        summary = _summary(early)
        acc = summary.pivot(
            index="dataset", columns="model", values="ood_accuracy_mean"
        )
        loss = summary.pivot(
            index="dataset", columns="model", values="ood_log_loss_mean"
        )
        o, h = acc[OURS].round(3), acc["hgb"].round(3)
        values |= {
            "early_n": str(len(acc)),
            "early_rows": f"{int(early.n_train.max()):,}",
            "early_seeds": str(int(summary.n_seeds.min())),
            "early_hgb_ahead": _of(int((h > o).sum()), len(acc)),
            "early_ours": f"{acc[OURS].mean():.3f}",
            "early_hgb": f"{acc['hgb'].mean():.3f}",
            "early_majority_ties": _of(
                int(
                    (
                        acc["majority"].round(3)
                        >= acc[[OURS, "hgb"]].round(3).max(axis=1)
                    ).sum()
                ),
                len(acc),
            ),
            "early_loss_ours_lower": _of(
                int((loss[OURS].round(3) < loss["hgb"].round(3)).sum()), len(acc)
            ),
        }
    large = _runs(SOURCES["large_tables"])
    if large is not None:
        summary = _summary(large)
        acc = summary.pivot(
            index="dataset", columns="model", values="ood_accuracy_mean"
        )
        fit = summary.pivot(index="dataset", columns="model", values="fit_time_mean")
        if "adult" in acc.index:
            values |= {
                "large_adult_ours": f"{acc.at['adult', OURS]:.3f}",
                "large_adult_hgb": f"{acc.at['adult', 'hgb']:.3f}",
                "large_adult_fit_ours": f"{fit.at['adult', OURS]:,.0f} s",
                "large_adult_fit_hgb": f"{fit.at['adult', 'hgb']:,.1f} s",
            }
    path = RESULTS / SOURCES["fit_time"] / "perf.json"
    if path.exists():
        curves = json.loads(path.read_text())["results"]["curves"]
        points = sorted(
            (p for p in curves if p["n_features"] == 20), key=lambda p: p["n_train"]
        )
        first, last = points[0], points[-1]

        def ratio(p):
            mark = "~" if p["ours"].get("extrapolated") else ""
            return f"{mark}{p['ours']['fit_est_s'] / p['histgb']['fit_est_s']:,.0f}x"

        values |= {
            "fit_ratio_small": ratio(first),
            "fit_rows_small": f"{first['n_train']:,}",
            "fit_ratio_large": ratio(last),
            "fit_rows_large": f"{last['n_train']:,}",
        }
    return values


def _and(names):
    """``a``, ``b`` and ``c``: names as inline literals in a sentence."""
    shown = [f"``{n}``" for n in names]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _majority_ties(acc):
    """The tables where the most frequent class is as accurate as every model.

    A tie: the majority's mean OOD accuracy, at the printed three decimals, is
    at most 0.001 below the best model's (or above it). There a model's accuracy
    says little about what it learned.
    """
    if "majority" not in acc:
        return {}
    thousandths = (acc * 1000).round()
    best = thousandths.drop(columns="majority").max(axis=1)
    ties = [t for t in acc.index if thousandths.at[t, "majority"] >= best[t] - 1]
    return {
        "real_majority_ties": _of(len(ties), len(acc)),
        "real_majority_tables": _and(ties) if ties else "none",
    }


def _peer_numbers(real):
    """Mean OOD accuracy of each deep peer and of ours on the runs they share.

    Each peer is paired with ours on the (table, seed) runs both have (per
    table first, then over tables), so a peer that skipped a table is not
    compared there; the peers are not compared with each other.
    """
    runs = [r for r in map(_runs, SOURCES["real_peers"]) if r is not None]
    if not runs:
        return {}
    values = {"peers_seeds": str(pd.concat(runs).seed.nunique())}
    runs = pd.concat([real[real.model == OURS], *runs])
    acc = runs.pivot_table(
        index=["dataset", "seed"], columns="model", values="ood_accuracy"
    )
    for peer in (m for m in PEERS if m in acc):
        pair = acc[[OURS, peer]].dropna().groupby(level="dataset").mean()
        key = peer.replace("-", "_")
        ours, theirs = pair[OURS].round(3), pair[peer].round(3)
        values |= {
            f"peers_{key}": f"{pair[peer].mean():.3f}",
            f"peers_{key}_ours": f"{pair[OURS].mean():.3f}",
            f"peers_{key}_n": str(len(pair)),
            f"peers_{key}_wins": _of(int((ours > theirs).sum()), len(pair)),
        }
    return values


def write_prose_numbers():
    lines = [
        ".. Substitutions computed by docs/sphinxext/benchmark_headline.py from",
        "   benchmarks/results/; do not edit.",
        "",
    ]
    lines += [f".. |{k}| replace:: {v}" for k, v in sorted(prose_numbers().items())]
    (OUT / "numbers.rst").write_text("\n".join(lines) + "\n")


# -- the page ------------------------------------------------------------------


def _overview(plt, sim, mpg, real, fit):
    """One figure with the four headline plots, for the top of the page."""
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.2))
    if sim:
        _plot_simulation(axes[0, 0], *sim, small=True)
    if mpg is not None:
        _plot_auto_mpg(axes[0, 1], mpg)
    if real is not None:
        acc, title = real
        models = [m for m in [OURS, *TREES, "logreg"] if m in acc]
        _plot_real(axes[1, 0], acc, models, title, legend_columns=3)
    if fit:
        _plot_fit_time(axes[1, 1], *fit)
    for ax in axes.flat:
        if not ax.has_data():
            ax.text(0.5, 0.5, "not yet run", ha="center", va="center")
            ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(OUT / "overview.png", dpi=120)
    plt.close(fig)


def write_headline():
    """Write ``docs/generated/headline/headline.rst`` and its PNGs; return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    sim_lines, sim, sim_glance = simulation(plt)
    mpg_lines, mpg, mpg_glance = auto_mpg(plt)
    real_lines, real, real_glance = real_suite(plt)
    fit_lines, fit, fit_glance = fit_time(plt)
    _overview(plt, sim, mpg, real, fit)
    glance = _list_table(
        ["question", "the defaults (this package)"],
        [
            [":ref:`Paper's simulation <headline-simulation>`", sim_glance],
            [":ref:`Auto MPG <headline-auto-mpg>`", mpg_glance],
            [":ref:`Real tables <headline-real>`", real_glance],
            [":ref:`Fit time over rows <headline-fit-time>`", fit_glance],
        ],
        widths=[28, 72],
        css="benchmark glance",
    )
    sections = _figure_block("overview.png", "The four headline plots", glance)
    for title, anchor, body in [
        ("The paper's simulation", "headline-simulation", sim_lines),
        ("Auto MPG", "headline-auto-mpg", mpg_lines),
        ("Real tables", "headline-real", real_lines),
        ("Fit time over rows", "headline-fit-time", fit_lines),
    ]:
        sections += [f".. _{anchor}:", "", title, "-" * len(title), "", *body]
    write_prose_numbers()
    text = "\n".join(sections) + "\n"
    target = OUT / "headline.rst"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return target


if __name__ == "__main__":
    print(write_headline())
