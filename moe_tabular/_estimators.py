"""The scikit-learn face: MoECBOWClassifier and MoECBOWRegressor.

Both share :class:`_BaseMoECBOW`, which owns every hyperparameter, tokenizing and
the net; the subclasses only encode the target and decode predictions.
"""

import copy
import math
import numbers

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._engine import make_net
from ._lens import MoELensMixin
from ._persistence import load_model, save_model
from ._tokenizer import MASK, ColumnTokenizer, token_layout
from ._validation import check_frame_columns

_PREDICT_CELLS = 2**22  # rows per predict chunk x (columns x heads x columns)
_EARLY_STOPPING_ROWS = 10_000  # early_stopping="auto" turns it on above this
# learning_rate="auto": this rate per row of batch (linear scaling), i.e. 1e-2 at
# the simulation's batch of 500, where it was tuned (benchmarks/results)
_LEARNING_RATE_PER_ROW = 1e-2 / 500


class _BaseMoECBOW(MoELensMixin, BaseEstimator):
    """Shared machinery of the two estimators; not for direct use."""

    _parameter_constraints: dict = {
        "d_embedding": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "d_ffn": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "norm_first": ["boolean"],
        "n_bins": [Interval(numbers.Integral, 2, None, closed="left")],
        "categorical_features": [StrOptions({"auto"}), "array-like", None],
        "shared_vocabulary": ["boolean", StrOptions({"auto"})],
        # the tokenizer's own parameters, validated by its constraints
        **{
            key: ColumnTokenizer._parameter_constraints[key]
            for key in ("handle_unknown", "min_frequency", "max_categories")
        },
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "learning_rate": [
            Interval(numbers.Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "learning_rate_schedule": [StrOptions({"constant", "onecycle"})],
        "target_weight": [Interval(numbers.Real, 0, None, closed="neither")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
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
        n_bins=10,
        categorical_features="auto",
        shared_vocabulary="auto",
        handle_unknown="unknown_token",
        min_frequency=5,
        max_categories=None,
        max_epochs=200,
        batch_size="auto",
        learning_rate="auto",
        learning_rate_schedule="onecycle",
        target_weight=1.0,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
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
        self.n_bins = n_bins
        self.categorical_features = categorical_features
        self.shared_vocabulary = shared_vocabulary
        self.handle_unknown = handle_unknown
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.target_weight = target_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- hooks of the subclasses -------------------------------------------------
    def _fit_target(self, y):
        """Validated ``y`` -> (codes, n_categories, ordered?, fitted attributes).

        An ordered target (numeric classes, regression bins) joins the shared
        vocabulary under ``shared_vocabulary="auto"``.
        """
        raise NotImplementedError

    # -- fitting -----------------------------------------------------------------
    def _resolve_device(self):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' was requested, but CUDA is not available.")
        return self.device

    def _check_heads(self):
        if self.d_embedding % self.n_heads:
            raise ValueError(
                f"n_heads={self.n_heads} must divide d_embedding={self.d_embedding}."
            )

    def _make_net(
        self, layout, *, n_train_rows, early_stopping, stratify, device, seed
    ):
        """The skorch net for a token ``layout`` (n_tokens, offsets, n_categories)."""
        batch_size = self.batch_size
        if batch_size == "auto":
            batch_size = min(512, max(32, -(-n_train_rows // 4)))
        learning_rate = self.learning_rate
        if learning_rate == "auto":
            learning_rate = _LEARNING_RATE_PER_ROW * min(batch_size, n_train_rows)
        return make_net(
            module_params={
                **layout,
                "d_embedding": self.d_embedding,
                "n_heads": self.n_heads,
                "n_layers": self.n_layers,
                "d_ffn": self.d_ffn,
                "dropout": self.dropout,
                "norm_first": self.norm_first,
            },
            target_weight=self.target_weight,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_schedule=self.learning_rate_schedule,
            n_train_rows=n_train_rows,
            early_stopping=early_stopping,
            validation_fraction=self.validation_fraction,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            stratify=stratify,
            device=device,
            random_state=seed,
            verbose=self.verbose,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model by masked-column training on ``X`` with ``y`` as a column.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The table; DataFrame dtypes decide which columns are categorical.
        y : array-like of shape (n_samples,)
            The target.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        state = dict(self.__dict__)
        try:
            return self._fit(X, y)
        except BaseException:  # a failed fit leaves a fitted model as it was
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def _fit(self, X, y):
        _, y = validate_data(
            self,
            check_frame_columns(X),
            y,
            dtype=None,
            ensure_all_finite="allow-nan",
            y_numeric=isinstance(self, RegressorMixin),
        )
        if len(y) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to fit; got "
                f"n_samples = {len(y)}."
            )
        self._check_heads()
        device = self._resolve_device()
        codes, n_target, target_ordered, target_attributes = self._fit_target(y)
        tokenizer = ColumnTokenizer(
            categorical_features=self.categorical_features,
            n_bins=self.n_bins,
            shared_vocabulary=self.shared_vocabulary,
            handle_unknown=self.handle_unknown,
            min_frequency=self.min_frequency,
            max_categories=self.max_categories,
        ).fit(X)
        n_categories = np.append(tokenizer.n_categories_, n_target)
        target_shared = (
            target_ordered
            if self.shared_vocabulary == "auto"
            else bool(self.shared_vocabulary)
        )
        offsets, n_tokens = token_layout(
            n_categories, shared=np.append(tokenizer.shared_, target_shared)
        )
        tokens = np.column_stack([tokenizer.encode(X), codes]) + offsets
        n_valid = math.ceil(self.validation_fraction * len(y))
        early_stopping = self.early_stopping
        if early_stopping == "auto":
            early_stopping = len(y) > _EARLY_STOPPING_ROWS
        counts = np.bincount(codes, minlength=n_target)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        net = self._make_net(
            {
                "n_tokens": n_tokens,
                "category_offsets": offsets.tolist(),
                "n_categories": n_categories.tolist(),
            },
            n_train_rows=len(y) - (n_valid if early_stopping else 0),
            early_stopping=early_stopping,
            stratify=bool(
                counts[counts > 0].min() >= 2
                and min(n_valid, len(y) - n_valid) >= np.count_nonzero(counts)
            ),
            device=device,
            seed=seed,
        )
        cuda = [torch.cuda.current_device()] if device == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(seed)
            net.fit(torch.as_tensor(tokens), torch.as_tensor(codes))
        net.module_.eval()
        self.tokenizer_ = tokenizer
        self.net_ = net
        self.history_ = pd.DataFrame(
            [{k: v for k, v in row.items() if k != "batches"} for row in net.history]
        )
        for name, value in target_attributes.items():
            setattr(self, name, value)
        return self

    # -- persistence -------------------------------------------------------------
    def save(self, path):
        """Save the fitted model to a folder, without pickle.

        The folder gets ``model.safetensors`` (the torch weights) and
        ``model.json`` (hyperparameters, tokenizer vocabularies and bin edges,
        classes or target bins, feature names, history, format version). Loading
        it with :meth:`load` runs no code from the files, unlike :mod:`pickle` and
        :mod:`joblib`, which also work but must only be used on trusted files.

        Parameters
        ----------
        path : str or path-like
            Folder to write to; created if needed, its two files replaced.

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from moe_tabular import MoECBOWClassifier
        >>> X, y = np.array([[0.0], [1.0]] * 10), [0, 1] * 10
        >>> model = MoECBOWClassifier(max_epochs=2, random_state=0).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     model.save(folder)
        ...     loaded = MoECBOWClassifier.load(folder)
        >>> bool((loaded.predict_proba(X) == model.predict_proba(X)).all())
        True
        """
        check_is_fitted(self)
        save_model(self, path)

    @classmethod
    def load(cls, path, *, device=None):
        """Load a model written by :meth:`save`; never unpickles.

        Parameters
        ----------
        path : str or path-like
            The folder given to :meth:`save`.
        device : {"cpu", "cuda", "auto"}, default=None
            Where to put the model; the saved ``device`` parameter if None.

        Returns
        -------
        model : estimator
            The fitted model; it predicts exactly as the saved one. A saved
            ``random_state`` that was a ``RandomState`` instance comes back as None.

        Raises
        ------
        ValueError
            If a file is missing or corrupt, holds another estimator class, or
            was written by a newer format version.
        """
        return load_model(path, cls, device=device)

    # -- prediction --------------------------------------------------------------
    @property
    def module_(self):
        """The fitted :class:`~moe_tabular._module.MaskedColumnAttention`."""
        return self.net_.module_

    def _target_log_proba(self, X):
        """Log-probabilities of the target's categories, the target masked."""
        check_is_fitted(self)
        X_checkable = check_frame_columns(X)
        validate_data(
            self, X_checkable, dtype=None, ensure_all_finite="allow-nan", reset=False
        )
        codes_X = self.tokenizer_._encode_checked(X)  # validated just above
        module = self.module_
        tokens_X = codes_X + module.category_offsets[:-1].cpu().numpy()
        n_columns = tokens_X.shape[1] + 1
        offset = int(module.category_offsets[-1])
        n_target = int(module.n_categories[-1])
        tokens = np.column_stack(
            [tokens_X, np.full(len(tokens_X), offset + MASK, dtype=np.int64)]
        )
        chunk = max(1, _PREDICT_CELLS // (n_columns * n_columns * self.n_heads))
        device = self.net_.device
        # float64 copy: float32 sums vary in the last bits with the batch shape
        # (BLAS kernels); predictions must not depend on which rows come along
        module = copy.deepcopy(module).double()
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(tokens), chunk):
                batch = torch.as_tensor(tokens[start : start + chunk], device=device)
                logits = module(batch, columns=[n_columns - 1])[:, 0]
                logits = logits[:, offset : offset + n_target]
                outputs.append(torch.log_softmax(logits, dim=-1).cpu())
        return torch.cat(outputs).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags


class MoECBOWClassifier(ClassifierMixin, _BaseMoECBOW):
    """Classifier: masked-column attention with the class as one more column.

    Every categorical column of the table is read as a word position and every row
    as a sentence; numeric columns are cut into quantile bins. One attention layer
    trained by masking each column in turn (the target included) is a CBOW model
    whose context columns are mixed with mixture-of-experts weights. To predict,
    the target column is masked and its token distribution read off.

    Parameters
    ----------
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
    n_bins : int, default=10
        Quantile bins of a numeric column.
    categorical_features : "auto", array-like of str, int or bool, or None, \
            default="auto"
        Which columns are categorical; see :class:`ColumnTokenizer`.
    shared_vocabulary : "auto" or bool, default="auto"
        True: one vocabulary over all columns (category ``k`` of every column is
        one token, as in the paper); False: one vocabulary per column; "auto":
        the ordered columns (numeric features, numeric class labels, regression
        bins) share one vocabulary of bin tokens and every categorical column
        has its own.
    handle_unknown : {"unknown_token", "error"}, default="unknown_token"
        A category unseen during fit becomes the UNKNOWN token, or raises.
    min_frequency : int, float or None, default=5
        Categories of a categorical column seen fewer times (or in a smaller
        share of rows) than this share one "infrequent" token, as in
        :class:`~sklearn.preprocessing.OrdinalEncoder`. None: every category
        keeps its own token. The default keeps one-off categories (codes, IDs)
        from being memorised: on diabetes-130 (1,000 training rows, diagnosis
        codes with 200+ categories) OOD accuracy 0.703 with None, 0.879 with 5
        (5 seeds, ``benchmarks/results/ood-real``). Numeric columns are binned
        instead.
    max_categories : int, default=None
        At most this many tokens per categorical column, the rarest categories
        sharing the infrequent one: bounds the vocabulary, and so memory, for
        columns with thousands of categories. None: no cap.
    max_epochs : int, default=200
        Passes over the data; each masks every column of every row once.
    batch_size : int or "auto", default="auto"
        Rows per gradient step (each row yields one example per column).
        "auto": a quarter of the training rows, clipped to [32, 512], so small
        tables still get several steps per epoch.
    learning_rate : float or "auto", default="auto"
        Adam's learning rate (the peak rate under "onecycle"). "auto": scaled
        linearly with the batch, 1e-2 per 500 rows (1e-2 on 2,000 rows, 1.2e-3
        on Auto MPG's 245), as measured best in ``benchmarks/results``. A small
        table thus takes small steps: with far fewer than the default
        ``max_epochs``, pass a larger rate.
    learning_rate_schedule : {"constant", "onecycle"}, default="onecycle"
        "onecycle": warm up to ``learning_rate`` over the first 30% of the steps
        and anneal over the rest of ``max_epochs``
        (:class:`torch.optim.lr_scheduler.OneCycleLR`, stepped every batch).
    target_weight : float, default=1.0
        Weight of the target column's loss relative to a feature column's.
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows and stop when the target
        column's validation loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the best weights are restored. Under
        "onecycle" the epochs count only after the rate's warm-up (the first 30%
        of ``max_epochs``). "auto" (as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`) turns it on
        when there are more than 10,000 rows.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest improvement of the validation target loss that counts.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and predict; "auto" picks CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, shuffling and the validation split; an int makes a CPU fit
        deterministic.
    verbose : int, default=0
        0: silent; 1 or more: an epoch table and a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen during fit, when they are all strings.
    tokenizer_ : ColumnTokenizer
        The fitted tokenizer of ``X``.
    net_ : skorch.NeuralNet
        The trained skorch net; its ``module_`` is the torch model.
    history_ : pandas.DataFrame
        One row per epoch: ``train_loss``, ``valid_loss`` and
        ``valid_target_loss`` (with early stopping), ``dur``.

    See Also
    --------
    MoECBOWRegressor : The same model for a continuous target.
    ColumnTokenizer : How the table becomes tokens.

    Notes
    -----
    With token plus column embeddings ``h_j``, the gate of head ``h`` weighs
    column ``j`` when predicting the masked column ``i`` by
    ``pi_ij = softmax_j(q_h(h_i) . k_h(h_j) / sqrt(d_head))``, and the prediction
    is ``p(x_i = v | x_-i) ~ exp(rho_v . sum_j pi_ij v_h(h_j))`` before the
    residual, feed-forward and normalisation parts of the block.

    References
    ----------
    .. [1] K. C. Wibisono and Y. Wang, "Bidirectional Attention as a Mixture of
       Continuous Word Experts", UAI 2023.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular import MoECBOWClassifier
    >>> X = pd.DataFrame({"color": ["red", "blue"] * 20, "size": [1.0, 2.0] * 20})
    >>> y = ["warm", "cold"] * 20
    >>> clf = MoECBOWClassifier(max_epochs=50, random_state=0).fit(X, y)
    >>> clf.predict(X.head(2))
    array(['warm', 'cold'], dtype='<U4')
    """

    def _fit_target(self, y):
        if pd.isna(y).any():
            raise ValueError("Input y contains NaN or None; drop those rows first.")
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"y contains only one class ({encoder.classes_[0]!r}); a classifier "
                "needs at least two classes."
            )
        classes = encoder.classes_
        ordered = classes.dtype.kind in "iuf"
        return encoder.transform(y), len(classes), ordered, {"classes_": classes}

    def predict_proba(self, X):
        """Class probabilities with the target column masked.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return np.exp(self._target_log_proba(X))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return self._target_log_proba(X)

    def predict(self, X):
        """Most likely class of each row.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels taken from ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[self._target_log_proba(X).argmax(axis=1)]


class MoECBOWRegressor(RegressorMixin, _BaseMoECBOW):
    """Regressor: masked-column attention with the binned target as one more column.

    The target is cut into ``n_target_bins`` quantile bins (one token each); the
    prediction is the mean training target of each bin weighted by the predicted
    bin probabilities. See :class:`MoECBOWClassifier` for the model.

    Parameters
    ----------
    n_target_bins : int, default=10
        Quantile bins of the target; a target with fewer distinct values keeps
        one bin per value.
    d_embedding, n_heads, n_layers, d_ffn, dropout, norm_first, n_bins, \
categorical_features, shared_vocabulary, handle_unknown, min_frequency, \
max_categories, max_epochs, batch_size, \
learning_rate, learning_rate_schedule, target_weight, early_stopping, \
validation_fraction, n_iter_no_change, tol, device, random_state, verbose
        As in :class:`MoECBOWClassifier`.

    Attributes
    ----------
    target_bin_means_ : ndarray of shape (n_bins_out,)
        Mean training target of each target bin.
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen during fit, when they are all strings.
    tokenizer_ : ColumnTokenizer
        The fitted tokenizer of ``X``.
    net_ : skorch.NeuralNet
        The trained skorch net.
    history_ : pandas.DataFrame
        Per-epoch losses.

    See Also
    --------
    MoECBOWClassifier : The same model for a categorical target.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_tabular import MoECBOWRegressor
    >>> X = np.repeat([[0.0], [1.0], [2.0]], 20, axis=0)
    >>> y = 10 * X[:, 0]
    >>> reg = MoECBOWRegressor(max_epochs=50, learning_rate=1e-2, random_state=0)
    >>> reg = reg.fit(X, y)
    >>> reg.predict([[0.0], [2.0]]).round()
    array([ 0., 20.])
    """

    _parameter_constraints: dict = {
        **_BaseMoECBOW._parameter_constraints,
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
        n_bins=10,
        categorical_features="auto",
        shared_vocabulary="auto",
        handle_unknown="unknown_token",
        min_frequency=5,
        max_categories=None,
        max_epochs=200,
        batch_size="auto",
        learning_rate="auto",
        learning_rate_schedule="onecycle",
        target_weight=1.0,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
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
            n_bins=n_bins,
            categorical_features=categorical_features,
            shared_vocabulary=shared_vocabulary,
            handle_unknown=handle_unknown,
            min_frequency=min_frequency,
            max_categories=max_categories,
            max_epochs=max_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            target_weight=target_weight,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.n_target_bins = n_target_bins

    def _fit_target(self, y):
        y = np.asarray(y, dtype=np.float64)
        binner = ColumnTokenizer(n_bins=self.n_target_bins, categorical_features=None)
        codes = binner.fit(y.reshape(-1, 1)).encode(y.reshape(-1, 1))[:, 0]
        n_bins = int(binner.n_categories_[0])
        counts = np.bincount(codes, minlength=n_bins)
        # the mean as a sum of y / count: no overflow for targets near the float max
        means = np.bincount(codes, weights=y / counts[codes], minlength=n_bins)
        # an empty quantile bin (ties) predicts the midpoint of its edges
        edges = getattr(binner.encoders_[0], "bin_edges_", None)
        if edges is not None and (counts == 0).any():
            mids = edges[0][1:] / 2 + edges[0][:-1] / 2
            means = np.where(counts > 0, means, mids)
        return codes, n_bins, True, {"target_bin_means_": means}

    def predict(self, X):
        """Expected target under the predicted bin distribution.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return np.exp(self._target_log_proba(X)) @ self.target_bin_means_
