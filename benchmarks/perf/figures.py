"""The figures of ``python -m benchmarks perf``: fit time, accuracy and memory.

Draws the curves :mod:`benchmarks.perf.run` measured (``fit_time_vs_n.png``
and ``perf.png``); the tables are ``benchmarks/perf/report.py``'s.
"""

import numpy as np

from benchmarks.perf.measure import LABELS
from benchmarks.perf.report import curve_points

COLORS = {
    "ours": "C0",
    "paper": "C3",
    "histgb": "C2",
    "catboost": "C1",
    "lightgbm": "C5",
    "realmlp": "C4",
    "tabm": "C6",
}


def _draw(ax, xs, rows, key, models):
    for name in models:
        ys = [
            np.nan
            if r.get(name) is None or r[name].get("not_run")
            else r[name].get(key, np.nan)
            for r in rows
        ]
        ax.plot(xs, ys, "-", color=COLORS[name], label=LABELS[name])
        for x, y, r in zip(xs, ys, rows, strict=True):
            hollow = r.get(name) is not None and r[name].get("extrapolated")
            ax.plot(
                x,
                y,
                "o",
                color=COLORS[name],
                markerfacecolor="white" if hollow else COLORS[name],
            )
    ax.grid(True, which="both", alpha=0.3)


def plot(results, args, folder):
    """``fit_time_vs_n.png`` (one panel, every model) and ``perf.png`` (four)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_points, d_points = curve_points(results, args)
    models = list(n_points[0][1])
    sizes, n_rows = [n for n, _ in n_points], [r for _, r in n_points]
    features, d_rows = [d for d, _ in d_points], [r for _, r in d_points]
    note = "hollow markers: extrapolated from a timed slice; filled: full fits"

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    _draw(ax, sizes, n_rows, "fit_est_s", models)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=f"training rows N (D={args.curve_d})",
        ylabel="fit time (s)",
        title=f"Default fit time over N ({note})",
    )
    ax.title.set_fontsize(8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "fit_time_vs_n.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, 4, figsize=(20, 4.5))
    _draw(axes[0], sizes, n_rows, "fit_est_s", models)
    axes[0].set(xscale="log", yscale="log", xlabel=f"rows N (D={args.curve_d})")
    axes[0].set(ylabel="fit time (s)", title="Fit time over N")
    _draw(axes[1], features, d_rows, "fit_est_s", models)
    axes[1].set(yscale="log", xlabel=f"columns D (N={args.curve_n:,})")
    axes[1].set(ylabel="fit time (s)", title="Fit time over D")
    _draw(axes[2], sizes, n_rows, "accuracy", models)
    axes[2].set(xscale="log", xlabel=f"rows N (D={args.curve_d})")
    axes[2].set(ylabel="OOD accuracy", title="OOD accuracy over N")
    _draw(axes[3], sizes, n_rows, "peak_rss_fit_mb", models)
    axes[3].axhline(2048, color="grey", ls="--", lw=1, label="2 GiB target")
    axes[3].set(xscale="log", xlabel=f"rows N (D={args.curve_d})")
    axes[3].set(ylabel="peak RSS (MiB)", title="Peak RSS of the fit")
    axes[0].legend(fontsize=8)
    fig.suptitle(note, fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / "perf.png", dpi=120)
    plt.close(fig)
