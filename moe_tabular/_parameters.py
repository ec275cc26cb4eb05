"""The estimators' hyperparameters, in one place: defaults, constraints, docs.

:class:`MoECBOWParameters` holds the ones all three share: its ``__init__``
stores them with their defaults (:class:`MoECBOWImputer` uses it as it is) and
``_parameter_constraints`` checks them in ``fit``. :class:`ClassifierParameters`
and :class:`RegressorParameters` add ``class_weight`` and ``n_target_bins``;
their ``__init__`` repeats the shared signature, since scikit-learn reads an
estimator's parameters off its ``__init__`` (``tests/test_docstrings.py`` checks
that the three signatures agree). ``PARAMETERS`` and ``ATTRIBUTES`` document the
shared parameters and the fitted attributes once, for the docstring of each
estimator (:func:`document`).
"""

import numbers

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._tokenizer import ColumnTokenizer


class MoECBOWParameters:
    """The shared hyperparameters; for :class:`_BaseMoECBOW`."""

    _parameter_constraints: dict = {
        "d_embedding": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "d_ffn": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "norm_first": ["boolean"],
        "n_ensemble": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_bins": [Interval(numbers.Integral, 2, None, closed="left")],
        "categorical_features": [StrOptions({"auto"}), "array-like", None],
        "shared_vocabulary": ["boolean", StrOptions({"auto"})],
        "ordinal_embedding": ["boolean", StrOptions({"auto"})],
        # the tokenizer's own parameters, validated by its constraints
        **{
            key: ColumnTokenizer._parameter_constraints[key]
            for key in ("handle_unknown", "min_frequency", "max_categories")
        },
        "max_epochs": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "learning_rate": [
            Interval(numbers.Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "learning_rate_schedule": [StrOptions({"constant", "onecycle", "plateau"})],
        "target_weight": [
            Interval(numbers.Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "label_smoothing": [Interval(numbers.Real, 0, 1, closed="left")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "weight_averaging": [StrOptions({"ema", "swa"}), None],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "scoring": [StrOptions({"loss", "accuracy"})],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        d_embedding=32,
        n_heads=4,
        n_layers=1,
        d_ffn=32,
        dropout=0.1,
        norm_first=False,
        n_ensemble=1,
        n_bins=10,
        categorical_features="auto",
        shared_vocabulary="auto",
        ordinal_embedding="auto",
        handle_unknown="unknown_token",
        min_frequency=5,
        max_categories=None,
        max_epochs="auto",
        batch_size="auto",
        learning_rate="auto",
        learning_rate_schedule="onecycle",
        target_weight=1.0,
        label_smoothing=0.0,
        weight_decay=0.1,
        weight_averaging=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        scoring="loss",
        max_time=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.d_embedding = d_embedding
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.d_ffn = d_ffn
        self.dropout = dropout
        self.norm_first = norm_first
        self.n_ensemble = n_ensemble
        self.n_bins = n_bins
        self.categorical_features = categorical_features
        self.shared_vocabulary = shared_vocabulary
        self.ordinal_embedding = ordinal_embedding
        self.handle_unknown = handle_unknown
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.target_weight = target_weight
        self.label_smoothing = label_smoothing
        self.weight_decay = weight_decay
        self.weight_averaging = weight_averaging
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.scoring = scoring
        self.max_time = max_time
        self.device = device
        self.random_state = random_state
        self.verbose = verbose


class ClassifierParameters(MoECBOWParameters):
    """:class:`MoECBOWClassifier`'s: the shared ones and ``class_weight``."""

    _parameter_constraints: dict = {
        **MoECBOWParameters._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        d_embedding=32,
        n_heads=4,
        n_layers=1,
        d_ffn=32,
        dropout=0.1,
        norm_first=False,
        n_ensemble=1,
        n_bins=10,
        categorical_features="auto",
        shared_vocabulary="auto",
        ordinal_embedding="auto",
        handle_unknown="unknown_token",
        min_frequency=5,
        max_categories=None,
        max_epochs="auto",
        batch_size="auto",
        learning_rate="auto",
        learning_rate_schedule="onecycle",
        target_weight=1.0,
        label_smoothing=0.0,
        weight_decay=0.1,
        weight_averaging=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        scoring="loss",
        max_time=None,
        device="cpu",
        random_state=None,
        verbose=0,
        class_weight=None,
    ):
        super().__init__(
            d_embedding=d_embedding,
            n_heads=n_heads,
            n_layers=n_layers,
            d_ffn=d_ffn,
            dropout=dropout,
            norm_first=norm_first,
            n_ensemble=n_ensemble,
            n_bins=n_bins,
            categorical_features=categorical_features,
            shared_vocabulary=shared_vocabulary,
            ordinal_embedding=ordinal_embedding,
            handle_unknown=handle_unknown,
            min_frequency=min_frequency,
            max_categories=max_categories,
            max_epochs=max_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            target_weight=target_weight,
            label_smoothing=label_smoothing,
            weight_decay=weight_decay,
            weight_averaging=weight_averaging,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            scoring=scoring,
            max_time=max_time,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.class_weight = class_weight


class RegressorParameters(MoECBOWParameters):
    """:class:`MoECBOWRegressor`'s: the shared ones and ``n_target_bins``."""

    _parameter_constraints: dict = {
        **MoECBOWParameters._parameter_constraints,
        "n_target_bins": [Interval(numbers.Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        *,
        n_target_bins=10,
        d_embedding=32,
        n_heads=4,
        n_layers=1,
        d_ffn=32,
        dropout=0.1,
        norm_first=False,
        n_ensemble=1,
        n_bins=10,
        categorical_features="auto",
        shared_vocabulary="auto",
        ordinal_embedding="auto",
        handle_unknown="unknown_token",
        min_frequency=5,
        max_categories=None,
        max_epochs="auto",
        batch_size="auto",
        learning_rate="auto",
        learning_rate_schedule="onecycle",
        target_weight=1.0,
        label_smoothing=0.0,
        weight_decay=0.1,
        weight_averaging=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        scoring="loss",
        max_time=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            d_embedding=d_embedding,
            n_heads=n_heads,
            n_layers=n_layers,
            d_ffn=d_ffn,
            dropout=dropout,
            norm_first=norm_first,
            n_ensemble=n_ensemble,
            n_bins=n_bins,
            categorical_features=categorical_features,
            shared_vocabulary=shared_vocabulary,
            ordinal_embedding=ordinal_embedding,
            handle_unknown=handle_unknown,
            min_frequency=min_frequency,
            max_categories=max_categories,
            max_epochs=max_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            target_weight=target_weight,
            label_smoothing=label_smoothing,
            weight_decay=weight_decay,
            weight_averaging=weight_averaging,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            scoring=scoring,
            max_time=max_time,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.n_target_bins = n_target_bins


# numpydoc entries, indented as in a class docstring
PARAMETERS = """\
    d_embedding : int, default=32
        Size of the token and column embeddings.
    n_heads : int, default=4
        Attention heads (stacked mixtures of experts); must divide ``d_embedding``.
    n_layers : int, default=1
        Transformer blocks (a mixture of mixtures).
    d_ffn : int, default=32
        Width of the feed-forward layer of each block.
    dropout : float, default=0.1
        Dropout after attention and feed-forward.
    norm_first : bool, default=False
        False: the paper's post-LayerNorm block; True: pre-LayerNorm.
    n_ensemble : int, default=1
        Ensemble members trained together in one module and one batch, each
        with its own weights (drawn apart) and dropout masks, on the same
        batches; the model predicts their mean probability, and its expert
        weights are their mean. Early stopping monitors the ensemble. Costs
        about ``n_ensemble`` times the arithmetic of one member, but shares
        the data pipeline, the optimizer step and the loop's overhead.
    n_bins : int, default=10
        Quantile bins of a numeric column; a value held by at least
        ``1 / n_bins`` of the rows gets a bin of its own (see
        :class:`ColumnTokenizer`).
    categorical_features : "auto", array-like of str, int or bool, or None, \
            default="auto"
        Which columns are categorical; see :class:`ColumnTokenizer`.
    shared_vocabulary : "auto" or bool, default="auto"
        True: one vocabulary over all columns (category ``k`` of every column is
        one token, as in the paper); False: one vocabulary per column; "auto":
        the ordered columns share one vocabulary of bin tokens and every other
        categorical column has its own. Ordered are numeric features, ordered
        pandas ``category`` columns, categorical columns whose categories are
        numbers (integer codes, bools), numeric class labels and regression
        bins (:attr:`ColumnTokenizer.ordered_ <ColumnTokenizer>`): the same
        column reaches the same model as numbers, integer codes or an ordered
        categorical.
    ordinal_embedding : "auto" or bool, default="auto"
        True: the categories of the ordered columns (numeric bins, integer
        codes, ordered categoricals, the regressor's target bins) are embedded
        and scored as a thermometer code, category ``k`` being the sum of
        ``k + 1`` learned vectors, so neighbouring bins share what they learn
        and weight decay pulls them together (a vocabulary shared with an
        unordered column, under ``shared_vocabulary=True``, keeps one vector
        per category); False: each category has a vector of its own.
        "auto": True for :class:`MoECBOWRegressor`, whose target bins are
        ordered (held-out R^2 +0.025 across 14 real tables, +0.040 on the nine
        of under 500 rows, ``benchmarks/results/regression-ordinal-all``; +0.012
        on six tables added after the choice, ``regression-ordinal-unseen``),
        False for the classifier and the imputer (OOD accuracy -0.005 across 13
        real tables, ``ood-ordinal-real``). See the user guide.
    handle_unknown : {"unknown_token", "error"}, default="unknown_token"
        A category unseen during fit becomes the UNKNOWN token, or raises.
    min_frequency : int, float or None, default=5
        Categories of a categorical column seen fewer times (or in a smaller
        share of rows) than this share one "infrequent" token, as in
        :class:`~sklearn.preprocessing.OrdinalEncoder`. None: every category
        keeps its own token. The default keeps one-off categories (codes, IDs)
        from being memorised, which helps on tables with codes of hundreds of
        categories (measured in ``benchmarks/results/ood-real``). Numeric
        columns are binned instead.
    max_categories : int, default=None
        At most this many tokens per categorical column, the rarest categories
        sharing the infrequent one: bounds the vocabulary, and so memory, for
        columns with thousands of categories. None: no cap.
    max_epochs : int or "auto", default="auto"
        Passes over the data; each masks every column of every row once.
        "auto": 200 at every size (the paper's protocol), so that the
        optimizer steps grow with the table (a fixed step budget stopped
        larger tables learning early: ``benchmarks/results/budget-10k-d20``).
        ``max_time`` bounds a large fit.
    batch_size : int or "auto", default="auto"
        Rows per gradient step (each row yields one example per column).
        "auto": a quarter of the training rows, clipped to [32, 512], so small
        tables still get several steps per epoch.
    learning_rate : float or "auto", default="auto"
        Adam's learning rate (the peak rate under "onecycle"). "auto": scaled
        linearly with the batch, 1e-2 per 500 rows (1e-2 on 2,000 rows, 1.2e-3
        on Auto MPG's 245), as measured best in ``benchmarks/results``. A small
        table thus takes small steps; a fit that an integer ``max_epochs``
        cuts to 50 to 800 optimizer steps takes proportionally larger ones, at
        most 2e-2, so that the rate times the steps stays that of a full run. For
        :class:`MoECBOWRegressor` "auto" is never below 2e-3 (it binds under
        400 training rows): at the linear rule's smaller rate small regression
        tables underfit (``benchmarks/results/regression-small-tables``).
    learning_rate_schedule : {"constant", "onecycle", "plateau"}, \
            default="onecycle"
        "onecycle": warm up to ``learning_rate`` over the first 30% of the steps
        and anneal over the rest of ``max_epochs``
        (:class:`torch.optim.lr_scheduler.OneCycleLR`, stepped every batch).
        "plateau": start at ``learning_rate`` and cut it fivefold whenever the
        monitored loss (the validation target loss with early stopping, else
        the training loss) has not improved by ``tol`` for 3 epochs
        (:class:`torch.optim.lr_scheduler.ReduceLROnPlateau`): no horizon, so
        with early stopping the data, not ``max_epochs``, ends training.
    target_weight : float or "auto", default=1.0
        Weight of the target column's loss relative to a feature column's.
        "auto": the square root of the number of feature columns, so that the
        target's share of the loss falls more slowly than ``1 / n_features``
        as columns are added.
    label_smoothing : float, default=0.0
        Share of each masked cell's target spread uniformly over its column's
        own categories (the target column's and every feature column's), as
        in :class:`torch.nn.CrossEntropyLoss`. Early stopping then monitors
        the smoothed loss.
    weight_decay : float, default=0.1
        Decoupled weight decay (:class:`torch.optim.AdamW`): each step shrinks
        every parameter by ``learning_rate * weight_decay`` of itself, so it
        acts mostly where the rate is large (tables of 2,000 rows and more).
        0: plain :class:`torch.optim.Adam`, the paper's optimizer.
    weight_averaging : {"ema", "swa"} or None, default=None
        Predict with an average of the weights along training instead of the
        last step's (a :class:`torch.optim.swa_utils.AveragedModel`; training
        itself follows the same path). "ema": an exponential moving average
        updated after every optimizer step, with decay ``(1 + t) / (10 + t)``
        after ``t`` updates, so that its mean age is about a tenth of the
        steps so far at any length of fit (no horizon to set). "swa": the equal-weight
        average of the weights at the end of each of the last 25% of
        ``max_epochs``. Under ``early_stopping`` the validation rows score the
        average as it stands at each epoch's end, and the best such average
        is restored; a fit that early stopping or ``max_time`` ends before the
        "swa" epochs begin keeps its own weights. Ensemble members are
        averaged each on its own. :meth:`partial_fit` does not average: it
        trains on from the (averaged) weights. None: the last step's weights.
        Off by default: under "onecycle", whose rate anneals to near zero,
        neither average moved OOD accuracy by more than 0.0015 on average
        (12 simulation settings, six real tables, Auto MPG over 20 seeds;
        ``benchmarks/results/ood-averaging-*``), and "ema" adds about 12% to
        a fit of Auto MPG.
    early_stopping : bool or "auto", default=False
        Hold out ``validation_fraction`` of the rows and stop when the target
        column's validation score (``scoring``) has not improved by ``tol``
        for ``n_iter_no_change`` epochs; the best weights are restored. Under
        "onecycle" the epochs count only once the rate has annealed most of
        the way (after 70% of ``max_epochs``): the validation score stalls
        while the rate is high. "auto" (as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`) turns it on
        when there are more than 10,000 rows. Off by default (as in
        :class:`~sklearn.neural_network.MLPClassifier`): every way of stopping
        early that was measured cost OOD accuracy against the full schedule
        (``benchmarks/results/budget-10k-d20``); use it, or ``max_time``, to
        bound the time of a large fit.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest improvement of the validation target loss that counts.
    scoring : {"loss", "accuracy"}, default="loss"
        What early stopping watches on the validation rows: the target's
        log-loss, or the accuracy of its most likely class (as
        :class:`~sklearn.neural_network.MLPClassifier` does), which keeps
        improving after the loss has turned as predictions grow confident.
        The best epoch by this score is restored.
    max_time : float or None, default=None
        A bound on training time, in seconds: training ends after the first
        epoch that ends past it (the best epoch restored under early
        stopping). Trades accuracy for time: the model keeps what it learned
        by then, and under "onecycle" the rate may not have annealed yet.
        None: no bound. :meth:`partial_fit` ignores it (one epoch a call).
    device : str or torch.device, default="cpu"
        Where to train and predict: anything :class:`torch.device` accepts
        ("cpu", "cuda", "cuda:1", "mps", ...) or "auto" (CUDA when available).
        Only the CPU is tested on hardware: ``device="cuda"`` runs the same
        code but has not been measured on a GPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, shuffling, dropout and the validation split; an int makes
        a CPU fit deterministic. Each fit draws from its own
        :class:`torch.Generator`, so fits running at once in one process (threads)
        do not disturb each other, and torch's global generator is untouched.
    verbose : int, default=0
        0: silent; 1 or more: an epoch table and a progress bar.
"""

ATTRIBUTES = """\
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen during fit, when they are all strings.
    tokenizer_ : ColumnTokenizer
        The fitted tokenizer of ``X``.
    module_ : torch.nn.Module
        The trained :class:`~moe_tabular._module.MaskedColumnAttention`, in eval
        mode. Training ran through skorch, which the fitted model no longer holds.
    layout_ : pandas.DataFrame
        The token layout of ``module_``, one row per position (features, then
        the target).
    n_iter_ : int
        Epochs run (``max_epochs`` resolved, or fewer after early stopping).
    batch_size_ : int
        Rows per gradient step used (``batch_size`` resolved).
    learning_rate_ : float
        Adam's (peak) learning rate used (``learning_rate`` resolved).
    target_weight_ : float
        Weight of the target column's loss used (``target_weight`` resolved).
    history_ : pandas.DataFrame
        One row per epoch: ``train_loss``, ``valid_loss``,
        ``valid_target_loss`` and ``valid_target_error`` (with early
        stopping), ``dur``.
"""


def document(cls):
    """Put the shared entries into ``cls``'s docstring (a class decorator).

    The docstring's ``{parameters}`` and ``{attributes}`` lines, in its
    Parameters and Attributes sections, become :data:`PARAMETERS` and
    :data:`ATTRIBUTES`; what the class adds stays around them.
    """
    doc = cls.__doc__
    for line, entries in (
        ("    {parameters}\n", PARAMETERS),
        ("    {attributes}\n", ATTRIBUTES),
    ):
        if doc.count(line) != 1:
            raise ValueError(
                f"{cls.__name__}'s docstring needs one {line.strip()} line"
            )
        doc = doc.replace(line, entries)
    cls.__doc__ = doc
    return cls
