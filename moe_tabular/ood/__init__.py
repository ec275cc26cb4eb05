"""Out-of-distribution evaluation: splits, the paper's simulation, the harness.

The splits and the simulation use only numpy, pandas and scikit-learn. The
benchmark harness (:func:`run_suite`, :func:`run_one`, :func:`make_task`,
:func:`make_model`, the records :class:`ModelSpec`, :class:`TaskOptions` and
:class:`Checkpoint`, and the reports) fits :class:`~moe_tabular.MoECBOWClassifier`
and the baselines; ``benchmarks/ood/run.py`` is its command line.
"""

from ._checkpoint import Checkpoint
from ._harness import SUITES, Suite, plan_runs, run_one, run_suite
from ._models import (
    BASELINES,
    MOE_CONFIGS,
    OPTIONAL_BASELINES,
    PAPER_GRIDS,
    ModelSpec,
    available_models,
    make_model,
    paper_batch_size,
    parse_params,
)
from ._report import (
    PUBLISHED,
    plot_results,
    results_to_markdown,
    score_predictions,
    summarize_results,
)
from ._simulation import (
    PAPER_SEEDS,
    PAPER_SETTINGS,
    CorrelationShiftData,
    SimulationSetting,
    make_correlation_shift,
)
from ._splits import (
    DomainKFold,
    DomainSplit,
    ExtrapolationSplit,
    IIDSplit,
    LeaveOneDomainOut,
    drop_domain,
)
from ._tabular_transformers import (
    TabularTransformerClassifier,
    pytorch_tabular_available,
)
from ._tasks import (
    DATASETS,
    REAL_DATASETS,
    Task,
    TaskOptions,
    make_task,
    simulation_name,
)

__all__ = [
    "BASELINES",
    "DATASETS",
    "MOE_CONFIGS",
    "OPTIONAL_BASELINES",
    "PAPER_GRIDS",
    "PAPER_SEEDS",
    "PAPER_SETTINGS",
    "PUBLISHED",
    "REAL_DATASETS",
    "SUITES",
    "Checkpoint",
    "CorrelationShiftData",
    "DomainKFold",
    "DomainSplit",
    "ExtrapolationSplit",
    "IIDSplit",
    "LeaveOneDomainOut",
    "ModelSpec",
    "SimulationSetting",
    "Suite",
    "TabularTransformerClassifier",
    "Task",
    "TaskOptions",
    "available_models",
    "drop_domain",
    "make_correlation_shift",
    "make_model",
    "make_task",
    "paper_batch_size",
    "parse_params",
    "plan_runs",
    "plot_results",
    "pytorch_tabular_available",
    "results_to_markdown",
    "run_one",
    "run_suite",
    "score_predictions",
    "simulation_name",
    "summarize_results",
]
