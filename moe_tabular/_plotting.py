"""Plots of the MoE lens; matplotlib is imported only when a plot is drawn."""

import numpy as np
import pandas as pd


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "Plotting needs matplotlib: pip install matplotlib (or moe-tabular[plot])."
        ) from exc
    return plt


def plot_expert_weights(weights, *, max_rows=30, axes=None, cmap="viridis"):
    """Heatmap of the expert weights of some rows and a bar chart of their mean.

    Parameters
    ----------
    weights : DataFrame of shape (n_samples, n_columns)
        The output of ``expert_weights(X)`` (``aggregate="mean"`` or
        ``"rollout"``): one row per sample, one column per column expert.
    max_rows : int, default=30
        Rows drawn in the heatmap (the first ones); the bar chart summarises
        all rows.
    axes : sequence of two matplotlib Axes, default=None
        Where to draw the heatmap and the bar chart; a new figure when None.
    cmap : str, default="viridis"
        Colormap of the heatmap, from 0 to the largest weight shown.

    Returns
    -------
    axes : ndarray of two matplotlib Axes
        The heatmap's and the bar chart's.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from moe_tabular import plot_expert_weights
    >>> weights = pd.DataFrame({"a": [0.7, 0.6], "b": [0.2, 0.1], "target": [0.1, 0.3]})
    >>> heatmap, bars = plot_expert_weights(weights)
    >>> bars.get_xlabel()
    'mean expert weight'
    """
    plt = _pyplot()
    if not isinstance(weights, pd.DataFrame) or isinstance(
        weights.index, pd.MultiIndex
    ):
        raise ValueError(
            "weights must be the DataFrame of expert_weights(X) with one row per "
            "sample (aggregate='mean' or 'rollout'), not aggregate=None."
        )
    if axes is None:
        n_rows = min(max_rows, len(weights))
        _, axes = plt.subplots(
            1,
            2,
            figsize=(10, 1.5 + 0.25 * n_rows),
            width_ratios=[3, 2],
            layout="constrained",
        )
    heatmap_ax, bar_ax = axes
    shown = weights.iloc[:max_rows]
    image = heatmap_ax.imshow(
        shown.to_numpy(),
        aspect="auto",
        cmap=cmap,
        vmin=0,
        vmax=max(float(shown.to_numpy().max()), 1e-12),
        interpolation="nearest",
    )
    heatmap_ax.set_xticks(range(shown.shape[1]), [str(c) for c in shown.columns])
    heatmap_ax.tick_params(axis="x", labelrotation=45)
    heatmap_ax.set_yticks(range(len(shown)), [str(i) for i in shown.index])
    heatmap_ax.set_xlabel("column expert")
    heatmap_ax.set_ylabel("row")
    heatmap_ax.set_title("expert weights per row")
    heatmap_ax.figure.colorbar(image, ax=heatmap_ax, label="weight")
    mean, std = weights.mean(), weights.std(ddof=0)
    order = np.argsort(mean.to_numpy())
    bar_ax.barh(
        [str(c) for c in weights.columns[order]],
        mean.iloc[order],
        xerr=std.iloc[order],
        color="tab:blue",
        ecolor="gray",
    )
    bar_ax.set_xlabel("mean expert weight")
    bar_ax.set_title(f"mean over {len(weights)} rows (bars: std)")
    return np.asarray([heatmap_ax, bar_ax], dtype=object)
