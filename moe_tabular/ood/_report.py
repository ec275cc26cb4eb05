"""Scores of one run, and the reports of a suite: summary, Markdown, plot.

:data:`PUBLISHED` holds the paper's OOD numbers (PAPER.md), which the
Markdown table and the plot put beside the measured ones.
"""

import numpy as np
import pandas as pd

from ._models import ModelSpec

__all__ = [
    "PUBLISHED",
    "plot_results",
    "results_to_markdown",
    "score_predictions",
    "summarize_results",
]

_METRICS = ("accuracy", "mse", "log_loss", "balanced_accuracy")


def score_predictions(y_true, y_pred, *, proba=None, classes=None, bin_target=False):
    """Accuracy, balanced accuracy, MSE of bin indices and log-loss on one test set.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.

    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    proba : array-like of shape (n_samples, n_classes) or None, default=None
        Predicted probabilities, columns in the order of ``classes``; None
        leaves the log-loss undefined (NaN).

    classes : array-like of shape (n_classes,) or None, default=None
        Labels of the columns of ``proba`` (the model's ``classes_``). A true
        label missing from ``classes`` has probability 0, clipped to the float
        epsilon, so its log-loss is large but finite.

    bin_target : bool, default=False
        Whether labels are bin indices ``0..n-1``: then ``mse`` is the mean
        squared difference of predicted and true indices (the paper's MSE);
        otherwise it is NaN.

    Returns
    -------
    scores : dict
        ``accuracy``, ``mse``, ``log_loss`` and ``balanced_accuracy`` (the
        mean over the true classes of the share of each predicted right, as
        :func:`sklearn.metrics.balanced_accuracy_score`: a constant prediction
        scores ``1 / n_classes``); all NaN for an empty test set.

    Examples
    --------
    >>> from moe_tabular.ood import score_predictions
    >>> scores = score_predictions([0, 1, 2, 2], [0, 1, 1, 0], bin_target=True)
    >>> scores["accuracy"], scores["mse"], round(scores["balanced_accuracy"], 3)
    (0.5, 1.25, 0.667)
    >>> proba = [[0.5, 0.5], [0.2, 0.8]]
    >>> round(score_predictions(["a", "b"], ["a", "b"], proba=proba,
    ...                         classes=["a", "b"])["log_loss"], 4)
    0.4581
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:  # CatBoost predicts a column
        y_pred = y_pred[:, 0]
    if y_pred.shape != y_true.shape:
        raise ValueError(
            f"y_pred has shape {y_pred.shape}; expected {y_true.shape}, as y_true."
        )
    scores = dict.fromkeys(_METRICS, float("nan"))
    if len(y_true) == 0:
        return scores
    scores["accuracy"] = float(np.mean(y_true == y_pred))
    classes_true, codes = np.unique(y_true, return_inverse=True)
    hits = np.bincount(codes, weights=y_true == y_pred, minlength=len(classes_true))
    scores["balanced_accuracy"] = float(np.mean(hits / np.bincount(codes)))
    if bin_target:
        diff = y_pred.astype(np.float64) - y_true.astype(np.float64)
        scores["mse"] = float(np.mean(diff**2))
    if proba is not None:
        proba = np.asarray(proba, dtype=np.float64)
        position = {label: j for j, label in enumerate(np.asarray(classes).tolist())}
        columns = np.array([position.get(label, -1) for label in y_true.tolist()])
        p_true = np.where(
            columns >= 0, proba[np.arange(len(y_true)), np.maximum(columns, 0)], 0.0
        )
        eps = np.finfo(np.float64).eps
        scores["log_loss"] = float(-np.mean(np.log(np.clip(p_true, eps, 1.0))))
    return scores


# PAPER.md, Tables 3-4: OOD accuracy of LR, RF, GB, MLP and attention, the MSE
# of the best baseline (which one) and of attention; means over the 20 seeds.
_SIMULATION_TABLE = [
    ((1, 0.1, 0.0), (0.388, 0.409, 0.413, 0.323, 0.404), (2.694, "rf", 2.941)),
    ((1, 0.1, 0.5), (0.345, 0.361, 0.366, 0.292, 0.359), (3.123, "gb", 3.280)),
    ((1, 0.1, 1.5), (0.250, 0.243, 0.253, 0.204, 0.252), (5.415, "gb", 5.594)),
    ((1, 0.9, 0.0), (0.313, 0.298, 0.350, 0.237, 0.389), (4.855, "gb", 3.078)),
    ((1, 0.9, 0.5), (0.270, 0.252, 0.299, 0.202, 0.306), (5.955, "logreg", 4.465)),
    ((1, 0.9, 1.5), (0.169, 0.158, 0.172, 0.142, 0.169), (8.942, "logreg", 7.339)),
    ((5, 0.1, 0.0), (0.250, 0.207, 0.244, 0.306, 0.419), (2.814, "mlp", 1.521)),
    ((5, 0.1, 0.5), (0.227, 0.173, 0.215, 0.252, 0.318), (4.056, "mlp", 2.605)),
    ((5, 0.1, 1.5), (0.167, 0.099, 0.156, 0.165, 0.171), (8.313, "mlp", 8.316)),
    ((5, 0.9, 0.0), (0.162, 0.150, 0.156, 0.169, 0.392), (5.674, "logreg", 1.633)),
    ((5, 0.9, 0.5), (0.154, 0.133, 0.152, 0.151, 0.269), (6.118, "logreg", 2.355)),
    ((5, 0.9, 1.5), (0.125, 0.108, 0.114, 0.118, 0.133), (8.410, "logreg", 6.501)),
]


def _published():
    table = {}
    families = ("logreg", "rf", "gb", "mlp", "moe")
    for (core, corr, noise), accuracies, (mse, best, moe_mse) in _SIMULATION_TABLE:
        name = f"sim-{core}-{corr:g}-{noise:g}"
        pairs = zip(families, accuracies, strict=True)
        rows = {f: {"accuracy": a, "mse": np.nan} for f, a in pairs}
        rows[best]["mse"], rows["moe"]["mse"] = mse, moe_mse
        table[name] = rows
    auto_mpg = {  # PAPER.md, Table 5: OOD accuracy / MSE (bin indices)
        "moe": (0.793, 0.207),
        "rf": (0.721, 0.279),
        "mlp": (0.700, 0.300),
        "ft-transformer": (0.707, 0.293),
        "tab-transformer": (0.707, 0.293),
        "logreg": (0.657, 0.343),
        "gb": (0.657, 0.343),
    }
    table["auto-mpg"] = {f: {"accuracy": a, "mse": m} for f, (a, m) in auto_mpg.items()}
    return table


# dataset -> model family ("moe" is the paper's attention) -> OOD accuracy, MSE
PUBLISHED = _published()


def _published_family(label):
    """The paper's row for a run's model: "moe" for every MoE config; an oracle none."""
    spec = ModelSpec.from_label(label)
    if spec.oracle or spec.protocol != "standard":
        return None
    return spec.family


def summarize_results(results):
    """Mean and standard deviation over seeds per dataset and model.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows of :func:`run_suite` (or :func:`run_one`).

    Returns
    -------
    summary : pandas.DataFrame
        One row per (dataset, model), in order of appearance: ``n_seeds``,
        ``<metric>_mean`` and ``<metric>_std`` for ``id_accuracy``,
        ``ood_accuracy``, ``gap``, ``ood_mse``, ``ood_log_loss``,
        ``ood_balanced_accuracy`` (NaN for rows written before it was
        measured), ``fit_time_mean``, and the paper's
        ``published_ood_accuracy`` and ``published_ood_mse`` (NaN where the
        paper has none; for every ``moe`` config they are the paper's
        attention numbers).

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood import summarize_results
    >>> results = pd.DataFrame({
    ...     "dataset": ["auto-mpg"] * 2, "split": ["origin"] * 2,
    ...     "model": ["rf"] * 2, "seed": [1, 2], "id_accuracy": [0.9, 0.8],
    ...     "ood_accuracy": [0.7, 0.6], "gap": [0.2, 0.2], "ood_mse": [0.3, 0.4],
    ...     "ood_log_loss": [0.6, 0.7], "fit_time": [1.0, 2.0]})
    >>> summary = summarize_results(results)
    >>> summary[["n_seeds", "ood_accuracy_mean", "published_ood_accuracy"]].round(3)
       n_seeds  ood_accuracy_mean  published_ood_accuracy
    0        2               0.65                   0.721
    """
    metrics = ["id_accuracy", "ood_accuracy", "gap", "ood_mse", "ood_log_loss"]
    metrics.append("ood_balanced_accuracy")
    if "ood_balanced_accuracy" not in results:  # runs.csv files of older commands
        results = results.assign(ood_balanced_accuracy=np.nan)
    rows = []
    for (dataset, model), group in results.groupby(["dataset", "model"], sort=False):
        published = PUBLISHED.get(dataset, {}).get(_published_family(model), {})
        row = {"dataset": dataset, "model": model, "n_seeds": group["seed"].nunique()}
        for metric in metrics:
            values = group[metric].astype(float)
            row[f"{metric}_mean"] = values.mean()
            row[f"{metric}_std"] = values.std(ddof=1) if len(values) > 1 else np.nan
        row["fit_time_mean"] = group["fit_time"].mean()
        row["published_ood_accuracy"] = published.get("accuracy", np.nan)
        row["published_ood_mse"] = published.get("mse", np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(mean, std=np.nan, digits=3):
    if pd.isna(mean):
        return "–"
    if pd.isna(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def results_to_markdown(results):
    """Markdown tables of a suite: one per dataset, published numbers beside.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows of :func:`run_suite`.

    Returns
    -------
    markdown : str
        A ``###`` section per dataset (with its split) holding a table of mean ±
        standard deviation over seeds: ID accuracy, OOD accuracy, gap, OOD MSE
        (bin indices), OOD log-loss, OOD balanced accuracy, fit time, and the
        paper's OOD accuracy and MSE where published.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular.ood import results_to_markdown
    >>> results = pd.DataFrame({
    ...     "dataset": ["auto-mpg"], "split": ["origin: USA -> Europe, Japan"],
    ...     "model": ["logreg"], "seed": [1], "id_accuracy": [0.9],
    ...     "ood_accuracy": [0.7], "gap": [0.2], "ood_mse": [0.3],
    ...     "ood_log_loss": [0.6], "fit_time": [0.1]})
    >>> print(results_to_markdown(results).splitlines()[4])
    | logreg | 1 | 0.900 | 0.700 | 0.200 | 0.300 | 0.600 | – | 0.1 | 0.657 | 0.343 |
    """
    summary = summarize_results(results)
    splits = results.groupby("dataset", sort=False)["split"].first()
    header = (
        "| model | seeds | ID acc | OOD acc | gap | OOD MSE | OOD log-loss "
        "| OOD bal. acc | fit (s) | paper OOD acc | paper OOD MSE |"
    )
    lines = []
    for dataset, group in summary.groupby("dataset", sort=False):
        lines += [f"### {dataset} ({splits[dataset]})", "", header]
        lines.append("|" + "---|" * header.count(" | ") + "---|")
        for row in group.itertuples(index=False):
            cells = [
                row.model,
                str(row.n_seeds),
                _cell(row.id_accuracy_mean, row.id_accuracy_std),
                _cell(row.ood_accuracy_mean, row.ood_accuracy_std),
                _cell(row.gap_mean, row.gap_std),
                _cell(row.ood_mse_mean, row.ood_mse_std),
                _cell(row.ood_log_loss_mean, row.ood_log_loss_std),
                _cell(row.ood_balanced_accuracy_mean, row.ood_balanced_accuracy_std),
                _cell(row.fit_time_mean, digits=1),
                _cell(row.published_ood_accuracy),
                _cell(row.published_ood_mse),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(
        "Mean ± std over seeds. gap = ID - OOD accuracy. MSE on target bin indices "
        "(paper suites only). bal. acc = balanced accuracy (mean recall over the "
        "true classes; a constant prediction scores 1 / classes). paper = "
        "PAPER.md's published OOD numbers (20 seeds; the attention model's for "
        "every moe config)."
    )
    specs = [ModelSpec.from_label(model) for model in results["model"].unique()]
    if any(spec.protocol == "transductive" for spec in specs):
        lines.append(
            "\n@transductive: the transductive protocol. The model also trained on "
            "the OOD rows' features (never their labels), as unlabeled rows; the "
            "other models trained on the training rows only."
        )
    if any(spec.oracle for spec in specs):
        lines.append(
            "\n@oracle: NOT a deployable protocol. The grid point was chosen by "
            "accuracy on a random half of the OOD rows and scored on the other "
            "half; the other models select on training rows only."
        )
    return "\n".join(lines) + "\n"


def plot_results(results, path=None):
    """Plot OOD accuracy per model (bars, ± std), ID accuracy and the paper's.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows of :func:`run_suite`.

    path : str, path-like or None, default=None
        Where to save the figure (PNG); None only returns it. Needs matplotlib.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per dataset.

    Examples
    --------
    >>> from moe_tabular.ood import plot_results, run_suite
    >>> results = run_suite("quick", datasets=["auto-mpg"], models=["logreg"])
    >>> len(plot_results(results).axes)
    1
    """
    from matplotlib.figure import Figure

    summary = summarize_results(results)
    datasets = list(dict.fromkeys(summary["dataset"]))
    n_cols = min(4, len(datasets))
    n_rows = -(-len(datasets) // n_cols)
    n_models = summary.groupby("dataset").size().max()
    width = max(3.0, 0.45 * n_models + 1.0)
    figure = Figure(figsize=(width * n_cols, 3.4 * n_rows), layout="constrained")
    axes = figure.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax, dataset in zip(axes, datasets, strict=False):  # spare axes hidden below
        group = summary[summary["dataset"] == dataset]
        x = np.arange(len(group))
        ax.bar(
            x,
            group["ood_accuracy_mean"],
            yerr=group["ood_accuracy_std"].fillna(0),
            color="tab:blue",
            label="OOD accuracy",
        )
        ax.plot(x, group["id_accuracy_mean"], "ko", ms=4, label="ID accuracy")
        ax.plot(x, group["published_ood_accuracy"], "rx", ms=7, label="paper OOD")
        ax.set_xticks(x, group["model"], rotation=45, ha="right", fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(dataset, fontsize=9)
    for ax in axes[len(datasets) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    for ax in axes[::n_cols]:
        ax.set_ylabel("accuracy")
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure
