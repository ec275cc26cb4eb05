"""Training: the budget rules and the trainer that runs skorch's loop.

The estimators validate and encode; :class:`Trainer` owns everything between
codes and a trained module: the fit's seed and generator, the "auto" rules of
the budget (batch size, learning rate, epochs), early stopping and its
validation split, the skorch net, and the continuation of :meth:`partial_fit`.
"""

import copy
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state
from skorch.history import History

from ._engine import make_net

EARLY_STOPPING_ROWS = 10_000  # early_stopping="auto" turns it on above this
# learning_rate="auto": this rate per row of batch (linear scaling), i.e. 1e-2 at
# the simulation's batch of 500, where it was tuned (benchmarks/results)
LEARNING_RATE_PER_ROW = 1e-2 / 500
# max_epochs="auto": 200 passes at every size (the paper's protocol), so the
# optimizer steps grow with the table. A fixed budget of 800 steps (what 200
# epochs of 4 batches give every table up to 2,048 rows, where the defaults
# were tuned) stopped larger tables learning early: on the D=20 simulation at
# 10,000 rows it scored 0.274 OOD against 0.368 for 200 epochs (3 seeds,
# benchmarks/results/budget-10k-d20). max_time (or early stopping) bounds a
# big fit.
AUTO_EPOCHS = 200
# the steps of a default fit of a small table: a run shortened by an integer
# max_epochs to fewer takes larger ones under learning_rate="auto"
AUTO_STEPS = 800
SHORT_RUN_MAX_RATE = 2e-2  # "auto" rate of short runs: at most this
# ... and only from this many steps: a handful of steps at a large rate lands
# anywhere (2 epochs of Auto MPG, 8 steps at 2e-2, predicted a rare class)
SHORT_RUN_MIN_STEPS = 50
# what early stopping watches on the validation rows, by ``scoring``
MONITORS = {"loss": "valid_target_loss", "accuracy": "valid_target_error"}


@dataclass(frozen=True)
class Budget:
    """A fit's resolved batch size, (peak) learning rate and epoch cap."""

    batch_size: int
    learning_rate: float
    max_epochs: int


def resolve_budget(
    *,
    batch_size,
    learning_rate,
    max_epochs,
    n_train_rows,
    learning_rate_floor=0.0,
    short_runs=True,
):
    """:class:`Budget` of ``n_train_rows`` training rows, "auto" rules applied.

    The "auto" learning rate grows linearly with the batch; with
    ``short_runs``, a fit that an integer ``max_epochs`` cuts to fewer than
    ``AUTO_STEPS`` (but at least ``SHORT_RUN_MIN_STEPS``) optimizer steps
    takes proportionally larger ones (the same rate x steps), up to
    ``SHORT_RUN_MAX_RATE``, so that a short run still learns. Under
    ``max_epochs="auto"`` the rate is the linear one at every size.

    Examples
    --------
    >>> resolve_budget(
    ...     batch_size="auto", learning_rate="auto", max_epochs="auto",
    ...     n_train_rows=2000)
    Budget(batch_size=500, learning_rate=0.01, max_epochs=200)
    >>> resolve_budget(  # a short run: larger steps
    ...     batch_size="auto", learning_rate="auto", max_epochs=15,
    ...     n_train_rows=200)
    Budget(batch_size=50, learning_rate=0.01333..., max_epochs=15)
    """
    if batch_size == "auto":
        batch_size = min(512, max(32, -(-n_train_rows // 4)))
    steps_per_epoch = -(-n_train_rows // batch_size)
    shortened = short_runs and max_epochs != "auto"
    if max_epochs == "auto":
        max_epochs = AUTO_EPOCHS
    if learning_rate == "auto":
        learning_rate = LEARNING_RATE_PER_ROW * min(batch_size, n_train_rows)
        # a run shorter than AUTO_STEPS steps takes proportionally larger
        # ones (never above SHORT_RUN_MAX_RATE): the same distance in fewer
        n_steps = max_epochs * steps_per_epoch
        shorter = AUTO_STEPS / n_steps
        if shortened and shorter > 1 and n_steps >= SHORT_RUN_MIN_STEPS:
            boosted = min(learning_rate * shorter, SHORT_RUN_MAX_RATE)
            learning_rate = max(learning_rate, boosted)
        learning_rate = max(learning_rate, learning_rate_floor)
    return Budget(batch_size, learning_rate, max_epochs)


def resolve_early_stopping(early_stopping, n_rows, *, has_target, owner):
    """Whether a fit of ``n_rows`` rows stops early ("auto" resolved)."""
    if not has_target:
        if early_stopping is True:
            raise ValueError(
                f"{owner} has no target column for early_stopping to monitor; set "
                "early_stopping=False (or 'auto', which is off here) and choose "
                "max_epochs."
            )
        return False
    if early_stopping == "auto":
        return n_rows > EARLY_STOPPING_ROWS
    return bool(early_stopping)


def can_stratify(target_codes, n_categories, n_valid):
    """Whether the validation split can be stratified by the target codes.

    Every row labelled, every class at least twice, and room for each class
    on both sides of the split.
    """
    n_rows = len(target_codes)
    labeled = target_codes[target_codes >= 0]
    counts = np.bincount(labeled, minlength=n_categories)
    return bool(
        len(labeled) == n_rows
        and counts[counts > 0].min() >= 2
        and min(n_valid, n_rows - n_valid) >= np.count_nonzero(counts)
    )


class Trainer:
    """Trains one module: its seed and generator, its net, its budget.

    One trainer per :meth:`fit`, or per run of :meth:`partial_fit` calls. The
    seed is drawn from ``random_state`` when the trainer is made; the
    generator then draws the module's initial weights (the caller passes
    :attr:`generator` to the module), the batch order and every dropout mask.

    Parameters
    ----------
    learning_rate_floor : float
        Smallest "auto" learning rate.
    target_weight : float
        The target column's loss weight, "auto" resolved.
    device : torch.device
    owner : str
        The estimator's class name, for messages.
    **hyperparameters
        The estimator's hyperparameters named in :attr:`HYPERPARAMETERS`, as
        the estimator holds them ("auto" values are resolved here, e.g. by
        :func:`resolve_budget`); each becomes an attribute.

    Attributes
    ----------
    HYPERPARAMETERS : tuple of str
        The estimators' hyperparameters the trainer takes as they are.
    seed : int
    generator : torch.Generator
    budget : Budget
        Set by :meth:`fit` and by the first :meth:`continue_training`.
    """

    HYPERPARAMETERS = (
        "max_epochs",
        "batch_size",
        "learning_rate",
        "learning_rate_schedule",
        "label_smoothing",
        "weight_decay",
        "early_stopping",
        "validation_fraction",
        "n_iter_no_change",
        "tol",
        "scoring",
        "max_time",
        "weight_averaging",
        "verbose",
        "random_state",
    )

    def __init__(
        self, *, learning_rate_floor, target_weight, device, owner, **hyperparameters
    ):
        if set(hyperparameters) != set(self.HYPERPARAMETERS):
            raise TypeError(
                f"Trainer takes {self.HYPERPARAMETERS}; got {sorted(hyperparameters)}."
            )
        self.__dict__.update(hyperparameters)
        self.learning_rate_floor = learning_rate_floor
        self.target_weight = target_weight
        self.device = device
        self.owner = owner
        self.seed = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max
        )
        self.generator = torch.Generator().manual_seed(self.seed)
        self.budget = None
        self._net = None

    def _budget(self, n_train_rows, *, short_runs=True):
        return resolve_budget(
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            max_epochs=self.max_epochs,
            n_train_rows=n_train_rows,
            learning_rate_floor=self.learning_rate_floor,
            short_runs=short_runs,
        )

    def _net_for(self, module, budget, n_train_rows, **options):
        return make_net(
            module=module,
            target_weight=self.target_weight,
            label_smoothing=self.label_smoothing,
            weight_decay=self.weight_decay,
            batch_size=budget.batch_size,
            learning_rate=budget.learning_rate,
            n_train_rows=n_train_rows,
            validation_fraction=self.validation_fraction,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            device=self.device,
            random_state=self.seed,
            generator=self.generator,
            verbose=self.verbose,
            **options,
        )

    def fit(self, module, codes, target_codes, sample_weight, *, target):
        """Train ``module`` afresh on ``codes``; return the history.

        Parameters
        ----------
        module : MaskedColumnAttention
            Initialised from :attr:`generator`; trained in place, left in eval
            mode.
        codes : ndarray of int64, shape (n_rows, L)
            Per-column codes, the target's last.
        target_codes : ndarray of int64, shape (n_rows,)
            The target's codes (negative: unlabeled); stratify the split.
        sample_weight : ndarray of shape (n_rows,) or None
        target : object
            The fitted target (:mod:`~moe_tabular._targets`).

        Returns
        -------
        history : pandas.DataFrame
            One row per epoch.
        """
        n_rows = len(codes)
        early_stopping = resolve_early_stopping(
            self.early_stopping, n_rows, has_target=target.has_target, owner=self.owner
        )
        n_valid = math.ceil(self.validation_fraction * n_rows)
        n_train_rows = n_rows - (n_valid if early_stopping else 0)
        stratify = can_stratify(target_codes, target.n_categories, n_valid)
        self.budget = self._budget(n_train_rows)
        net = self._net_for(
            module,
            self.budget,
            n_train_rows,
            max_epochs=self.budget.max_epochs,
            learning_rate_schedule=self.learning_rate_schedule,
            early_stopping=early_stopping,
            stratify=stratify,
            monitor=MONITORS[self.scoring],
            max_time=self.max_time,
            weight_averaging=self.weight_averaging,
        )
        self._run(net, module, codes, target_codes, sample_weight)
        return _history_frame(net.history)

    def continue_training(self, module, codes, target_codes, sample_weight, history):
        """One more epoch of ``module`` at a constant rate (``partial_fit``).

        No schedule, no early stopping, no ``max_time`` and no weight
        averaging: each call trains on from the module's weights (after a
        fit with ``weight_averaging``, the averaged ones). The first call
        makes the net (its budget sized by this batch) and carries
        ``history`` (a previous fit's, or None) on; later calls keep the
        optimizer's state. A call that fails leaves ``module`` and the
        optimizer as they were.

        Returns
        -------
        history : pandas.DataFrame
            Every epoch so far.
        """
        if self._net is None:
            n_rows = len(codes)  # one epoch a call: no short-run rate
            self.budget = self._budget(n_rows, short_runs=False)
            net = self._net_for(
                module,
                self.budget,
                n_rows,
                max_epochs=1,
                learning_rate_schedule="constant",
                early_stopping=False,
                stratify=False,
            )
            net.initialize()
            if history is not None:  # epochs continue after fit() or load()
                net.history = History(history.to_dict(orient="records"))
            self._net = net
        net = self._net
        saved = (
            copy.deepcopy(module.state_dict()),
            copy.deepcopy(net.optimizer_.state_dict()),
            list(net.history),
        )
        try:
            self._run(net, module, codes, target_codes, sample_weight)
        except BaseException:
            module.load_state_dict(saved[0])
            net.optimizer_.load_state_dict(saved[1])
            net.history = History(saved[2])
            raise
        return _history_frame(net.history)

    def _run(self, net, module, codes, target_codes, sample_weight):
        """skorch's loop over ``codes``; a net trained before continues."""
        inputs = {"codes": torch.as_tensor(codes)}
        if sample_weight is not None:
            inputs["weight"] = torch.as_tensor(sample_weight, dtype=torch.float32)
        train = net.partial_fit if net.initialized_ else net.fit
        device = torch.device(net.device)
        module.set_generator(self.generator)
        try:
            if device.type == "cuda":  # torch's CUDA dropout draws from global RNG
                with torch.random.fork_rng(devices=[device]):
                    torch.cuda.manual_seed(self.seed)
                    train(inputs, torch.as_tensor(target_codes))
            else:
                train(inputs, torch.as_tensor(target_codes))
        finally:
            module.set_generator(None)
            module.eval()


def _history_frame(history):
    """skorch's history as one row per epoch (the per-batch records left out)."""
    return pd.DataFrame(
        [{k: v for k, v in row.items() if k != "batches"} for row in history]
    )
