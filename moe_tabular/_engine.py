"""Training engine: a skorch net whose loss is the masked-column objective.

Every batch holds whole rows of per-column codes (target column last). The
module returns, for every row and every column, the logits of that column with
it alone masked, so each epoch masks every column of every row exactly once (the
paper's objective) without materialising ``n_rows x n_columns`` masked copies.
"""

import math
import time

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    LRScheduler,
    PassthroughScoring,
    ProgressBar,
)
from skorch.dataset import ValidSplit
from skorch.utils import to_tensor
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import Subset

IGNORE = -100
WARM_UP = 0.3  # share of the steps over which "onecycle" warms the rate up
# under "onecycle", early stopping counts no miss before this share of the
# epochs: the validation score stalls while the rate is high and improves as
# it anneals (on the D=20 simulation at 10,000 rows, counting from the end of
# the warm-up stopped fits at epochs 93-121 of 200 and cost 0.04-0.08 OOD
# accuracy: benchmarks/results/budget-10k-d20-plateau)
PATIENCE_START = 0.7
PLATEAU_PATIENCE = 3  # epochs without improvement before "plateau" cuts the rate
SWA_SHARE = 0.25  # weight_averaging="swa" averages this last share of the epochs


class WarmEarlyStopping(EarlyStopping):
    """:class:`skorch.callbacks.EarlyStopping` whose patience starts late.

    While the learning rate is high (the first ``warm_up_epochs`` epochs) the
    best score and weights are tracked but no miss is counted: a validation
    score that stalls at a high rate would otherwise end the fit before the
    rate anneals.
    """

    def __init__(self, *args, warm_up_epochs=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.warm_up_epochs = warm_up_epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) <= self.warm_up_epochs:
            self.misses_ = -1  # a miss brings it back to 0: none is counted
        super().on_epoch_end(net, **kwargs)


class TimeLimit(Callback):
    """Stop training after the first epoch that ends ``max_time`` seconds in.

    Raises :class:`KeyboardInterrupt` at the epoch's end, skorch's way of
    ending a fit early (as :class:`~skorch.callbacks.EarlyStopping` does), so
    the callbacks' ``on_train_end`` still runs: early stopping restores the
    best epoch seen.
    """

    def __init__(self, max_time):
        self.max_time = max_time

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.monotonic()

    def on_epoch_end(self, net, **kwargs):
        if time.monotonic() - self.start_ >= self.max_time:
            raise KeyboardInterrupt


def ema_decay(n_averaged):
    """Decay of the moving average's update after ``n_averaged`` updates.

    ``(1 + n) / (10 + n)``, the warm-up of TensorFlow's
    ``ExponentialMovingAverage(decay, num_updates)`` without its cap: the average
    weighs step ``s`` of ``t`` about as ``(s + 10) ** 8``, so its mean age is
    about a tenth of the steps so far and their last 11% carry two thirds of
    it, whatever their number (the last 11 steps of a 100-step fit, the last
    1,100 of a 10,000-step one). A fixed decay (0.999, say) would average
    over more steps than a small table's fit has; this rule needs no
    horizon, so a fit that early stopping or ``max_time`` ends keeps a recent
    average.

    Examples
    --------
    >>> [round(ema_decay(n), 3) for n in (0, 90, 890, 8990)]
    [0.1, 0.91, 0.99, 0.999]
    """
    return (1 + n_averaged) / (10 + n_averaged)


def ema_multi_avg_fn(averaged, current, n_averaged):
    """:func:`~torch.optim.swa_utils.get_ema_multi_avg_fn`'s update at the
    decay :func:`ema_decay` gives after ``n_averaged`` updates."""
    get_ema_multi_avg_fn(ema_decay(int(n_averaged)))(averaged, current, n_averaged)


class WeightAveraging(Callback):
    """Average the weights along training; the model ends with the average.

    ``"ema"``: an exponential moving average updated after every optimizer
    step (decay :func:`ema_decay`); ``"swa"``: the equal-weight average of the
    weights at the end of each of the last ``SWA_SHARE`` of ``max_epochs``.
    Both are a :class:`torch.optim.swa_utils.AveragedModel`.

    At the end of each epoch's training batches, before validation, the
    module takes the averaged weights (while there are any), so that early
    stopping scores, and restores, what the model would predict with; the
    training weights come back at the next epoch's start, so the optimizer's
    path is that of a fit without averaging. Place it before early stopping
    and :class:`TimeLimit`: its ``on_epoch_end`` swaps first, and its
    ``on_train_end`` leaves the last average, which early stopping may then
    replace by the best epoch's.

    Attributes
    ----------
    averaged_ : AveragedModel
        The running average (its module holds the averaged weights).
    """

    def __init__(self, kind, *, max_epochs):
        self.kind = kind
        self.max_epochs = max_epochs

    def on_train_begin(self, net, **kwargs):
        ema = self.kind == "ema"
        self.averaged_ = AveragedModel(
            net.module_, multi_avg_fn=ema_multi_avg_fn if ema else None
        )
        self.first_epoch_ = (
            1 if ema else self.max_epochs - math.ceil(SWA_SHARE * self.max_epochs) + 1
        )
        self.training_weights_ = None  # held while the module has the average

    def on_epoch_begin(self, net, **kwargs):
        self._restore_training_weights(net)

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self.kind == "ema":
            self.averaged_.update_parameters(net.module_)

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:  # validation: score the average
            self._end_training_batches(net)

    def on_epoch_end(self, net, **kwargs):
        self._end_training_batches(net)

    def on_train_end(self, net, **kwargs):
        if self.training_weights_ is None:  # interrupted within an epoch
            self._load(net.module_, self.averaged_.module.parameters(), averaged=True)
        self.training_weights_ = None

    def _end_training_batches(self, net):
        """Once an epoch: the SWA update, then the average into the module."""
        if self.training_weights_ is not None:
            return
        epoch = len(net.history)
        if self.kind == "swa" and epoch >= self.first_epoch_:
            self.averaged_.update_parameters(net.module_)
        self.training_weights_ = [p.detach().clone() for p in net.module_.parameters()]
        self._load(net.module_, self.averaged_.module.parameters(), averaged=True)

    def _restore_training_weights(self, net):
        if self.training_weights_ is not None:
            self._load(net.module_, self.training_weights_)
            self.training_weights_ = None

    def _load(self, module, weights, averaged=False):
        """Copy ``weights`` into ``module``'s parameters, in place (the
        optimizer holds them); no average yet: nothing to copy."""
        if averaged and not self.averaged_.n_averaged:
            return
        with torch.no_grad():
            for parameter, weight in zip(module.parameters(), weights, strict=True):
                parameter.copy_(weight)


class BatchIterator:
    """Whole batches of a skorch dataset, sliced from its tensors (no per-row work).

    skorch calls it as ``iterator_train``/``iterator_valid`` with the dataset (or a
    ``Subset`` of it after the validation split). ``X`` is a dict of tensors
    (``codes`` and, with sample weights, ``weight``); ``generator`` draws the
    shuffling (one per fit: fits running at once in one process stay independent).
    """

    def __init__(self, dataset, *, batch_size, shuffle=False, generator=None):
        indices = torch.arange(len(dataset))
        while isinstance(dataset, Subset):
            indices = torch.as_tensor(np.asarray(dataset.indices))[indices]
            dataset = dataset.dataset
        self.X, self.y = dataset.X, dataset.y
        self.indices, self.batch_size, self.shuffle = indices, batch_size, shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.indices) // self.batch_size)

    def __iter__(self):
        order = self.indices
        if self.shuffle:
            order = order[torch.randperm(len(order), generator=self.generator)]
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            yield {key: value[rows] for key, value in self.X.items()}, self.y[rows]


def column_targets(module, codes):
    """Category each column must score, or ``IGNORE`` (masked, missing, unknown).

    Indexes the ``by_column`` logits of
    :meth:`~moe_tabular._module.MaskedColumnAttention.leave_one_out_logits`.
    """
    known = (codes >= 0) & (codes < module.n_categories)
    return torch.where(known, codes, IGNORE)


def masked_column_loss(
    module, logits, codes, *, weight=None, target_weight=1.0, label_smoothing=0.0
):
    """The masked-column objective: weighted mean cross-entropy over known cells.

    Parameters
    ----------
    module : MaskedColumnAttention
    logits : Tensor of shape (batch, L, K)
        The ``by_column`` leave-one-out logits.
    codes : LongTensor of shape (batch, L)
    weight : Tensor of shape (batch,), default=None
        Row weights; a row of weight 2 counts as the row twice.
    target_weight : float, default=1.0
        Weight of the last (target) column relative to a feature column.
    label_smoothing : float, default=0.0
        Share of every cell's target spread uniformly over its column's own
        categories (as :func:`torch.nn.functional.cross_entropy`'s, whose
        uniform part would also count the ``-inf`` padding of short columns).

    Returns
    -------
    loss : Tensor (scalar)
    losses : Tensor of shape (batch, L)
        Per-cell cross-entropy (0 where not counted).
    counted : Tensor of shape (batch, L)
        Weight of each cell in the mean (row weight x column weight, 0 where
        the cell is masked, missing or unknown).
    """
    targets = column_targets(module, codes)
    # class-first (1, K, B * L): a view of the module's by_column logits; the
    # log-softmax over dim 1 of it is far faster than over a short last dim on CPU
    flat = logits.permute(2, 0, 1).reshape(1, logits.shape[-1], -1)
    if label_smoothing:
        log_p = F.log_softmax(flat, dim=1)
        losses = F.nll_loss(
            log_p, targets.reshape(1, -1), ignore_index=IGNORE, reduction="none"
        ).view_as(targets)
        # mean -log p over each column's own categories (padding excluded)
        own = log_p.view(-1, *targets.shape).masked_fill(
            ~module.column_valid.T[:, None], 0.0
        )
        uniform = -own.sum(0) / module.n_categories.clamp_min(1).to(own.dtype)
        uniform = uniform.masked_fill(targets == IGNORE, 0.0)  # 0 where not counted
        losses = (1 - label_smoothing) * losses + label_smoothing * uniform
    else:
        losses = F.cross_entropy(
            flat, targets.reshape(1, -1), ignore_index=IGNORE, reduction="none"
        ).view_as(targets)
    counted = (targets != IGNORE).to(losses.dtype)
    columns = torch.ones(losses.shape[1], dtype=losses.dtype, device=losses.device)
    columns[-1] = target_weight
    counted = counted * columns
    if weight is not None:
        counted = counted * weight[:, None].to(losses.dtype)
    loss = (losses * counted).sum() / counted.sum().clamp_min(1e-12)
    return loss, losses, counted


class MaskedColumnNet(NeuralNet):
    """skorch net training :class:`MaskedColumnAttention` by masked columns.

    ``X`` is a dict: ``codes`` (per-column codes, target column last) and
    optionally ``weight`` (row weights); ``y`` the target codes (used only to
    stratify the validation split). The loss is :func:`masked_column_loss`;
    validation also records ``valid_target_loss`` and ``valid_target_error``
    (the target's weighted share of wrong argmax predictions). skorch only
    trains: the fitted estimator keeps the module and the history, not this
    net.
    """

    def __init__(self, module, *args, target_weight=1.0, label_smoothing=0.0, **kwargs):
        super().__init__(module, *args, criterion=None, **kwargs)
        self.target_weight = target_weight
        self.label_smoothing = label_smoothing

    def initialize_criterion(self):
        """No criterion: :meth:`get_loss` computes the masked-column objective."""
        self.criterion_ = None
        return self

    def infer(self, x, **fit_params):
        codes = to_tensor(x["codes"], device=self.device)
        return self.module_.leave_one_out_logits(codes, by_column=True)

    def _losses(self, logits, X):
        """:func:`masked_column_loss`; with ensemble members, of every member.

        The members' logits come folded into the batch (member-major), so the
        codes and weights repeat once per member: the loss is the mean of the
        members' losses.
        """
        codes = to_tensor(X["codes"], device=self.device)
        weight = X.get("weight")
        weight = None if weight is None else to_tensor(weight, device=self.device)
        n_members = logits.shape[0] // codes.shape[0]
        if n_members > 1:
            codes = codes.repeat(n_members, 1)
            weight = None if weight is None else weight.repeat(n_members)
        return masked_column_loss(
            self.module_,
            logits,
            codes,
            weight=weight,
            target_weight=self.target_weight,
            label_smoothing=self.label_smoothing,
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self._losses(y_pred, X)[0]

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        logits = step["y_pred"]
        n_rows = len(batch[0]["codes"])
        n_members = logits.shape[0] // n_rows
        if n_members > 1:  # the ensemble's loss: of its mean probability
            log_p = torch.log_softmax(logits.unflatten(0, (n_members, -1)), -1)
            logits = torch.logsumexp(log_p, 0) - math.log(n_members)
        _, losses, counted = self._losses(logits, batch[0])
        target = counted[:, -1]
        total = target.sum().clamp_min(1e-12)
        target_loss = (losses[:, -1] * target).sum() / total
        self.history.record_batch("valid_target_loss", target_loss.item())
        codes = to_tensor(batch[0]["codes"], device=self.device)[:, -1]
        wrong = logits[:, -1].argmax(-1) != codes
        target_error = (wrong.to(target.dtype) * target).sum() / total
        self.history.record_batch("valid_target_error", target_error.item())
        return step


def make_net(
    *,
    module,
    target_weight,
    label_smoothing,
    weight_decay,
    max_epochs,
    batch_size,
    learning_rate,
    learning_rate_schedule,
    n_train_rows,
    early_stopping,
    validation_fraction,
    n_iter_no_change,
    tol,
    stratify,
    monitor="valid_target_loss",
    max_time=None,
    weight_averaging=None,
    device,
    random_state,
    generator,
    verbose,
):
    """The one place where our hyperparameters become skorch's.

    ``module`` is the initialised :class:`MaskedColumnAttention` to train;
    ``generator`` (a :class:`torch.Generator`) draws the batch order;
    ``max_time`` (seconds or None) ends training after the epoch that passes it;
    ``monitor`` is what early stopping (and "plateau") watch on the validation
    rows: ``"valid_target_loss"`` or ``"valid_target_error"``;
    ``weight_averaging`` (None, "ema" or "swa") adds :class:`WeightAveraging`.
    """
    callbacks = []
    if weight_averaging is not None:  # first: it swaps before early stopping scores
        callbacks.append(WeightAveraging(weight_averaging, max_epochs=max_epochs))
    train_split = None
    if early_stopping:
        train_split = ValidSplit(
            validation_fraction, stratified=stratify, random_state=random_state
        )
        callbacks += [
            PassthroughScoring(name="valid_target_loss", on_train=False),
            PassthroughScoring(name="valid_target_error", on_train=False),
            WarmEarlyStopping(
                monitor=monitor,
                patience=n_iter_no_change,
                threshold=tol,
                threshold_mode="abs",
                load_best=True,
                sink=print if verbose else (lambda *_: None),
                warm_up_epochs=math.ceil(PATIENCE_START * max_epochs)
                if learning_rate_schedule == "onecycle"
                else 0,
            ),
        ]
    if learning_rate_schedule == "onecycle":
        callbacks.append(
            LRScheduler(
                torch.optim.lr_scheduler.OneCycleLR,
                max_lr=learning_rate,
                total_steps=max_epochs * -(-n_train_rows // batch_size),
                pct_start=WARM_UP,
                step_every="batch",
            )
        )
    if learning_rate_schedule == "plateau":
        # the rate falls fivefold whenever the monitored loss stalls for 3
        # epochs: the schedule follows the data instead of a fixed horizon
        callbacks.append(
            LRScheduler(
                torch.optim.lr_scheduler.ReduceLROnPlateau,
                monitor=monitor if early_stopping else "train_loss",
                factor=0.2,
                patience=PLATEAU_PATIENCE,
                threshold=tol,
                threshold_mode="abs",
                step_every="epoch",
            )
        )
    if max_time is not None:  # after early stopping, which scores the epoch first
        callbacks.append(TimeLimit(max_time))
    if verbose > 0:
        callbacks.append(ProgressBar())
    return MaskedColumnNet(
        module,
        # AdamW(weight_decay=0) is Adam's update; Adam keeps those fits bit-identical
        optimizer=torch.optim.AdamW if weight_decay else torch.optim.Adam,
        **({"optimizer__weight_decay": weight_decay} if weight_decay else {}),
        # one kernel for all parameters, not torch's default on CPU, where the
        # per-parameter loop dominates a step's cost for a model this small
        optimizer__fused=True,
        lr=learning_rate,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=BatchIterator,
        iterator_train__shuffle=True,
        iterator_train__generator=generator,
        iterator_valid=BatchIterator,
        train_split=train_split,
        callbacks=callbacks,
        target_weight=target_weight,
        label_smoothing=label_smoothing,
        device=device,
        verbose=verbose,
        # skorch's PrintLog tabulates every epoch even when it prints nothing
        **({} if verbose else {"callbacks__print_log": None}),
    )
