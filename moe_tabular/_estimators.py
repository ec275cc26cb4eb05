"""The scikit-learn face: MoECBOWClassifier and MoECBOWRegressor.

Both share :class:`_BaseMoECBOW` (as does :class:`MoECBOWImputer`), which owns
the one path from ``X`` to the model's codes (:meth:`_BaseMoECBOW._preprocess_X`)
and training, and takes the hyperparameters from :mod:`~moe_tabular._parameters`,
the lens methods from :mod:`~moe_tabular._lens` and ``save``/``load`` from
:mod:`~moe_tabular._state`; the subclasses only choose their target
(:mod:`~moe_tabular._targets`) and decode predictions.
"""

import math

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
)

from ._columns import check_table
from ._inference import column_log_proba, float64_copy, resolve_device
from ._lens import MoELensMixin
from ._module import MaskedColumnAttention
from ._parameters import (
    ClassifierParameters,
    MoECBOWParameters,
    RegressorParameters,
    document,
)
from ._state import ModelStateMixin
from ._targets import BinnedTarget, ClassTarget
from ._tokenizer import ColumnTokenizer
from ._training import Trainer

_PREDICT_ROWS = 2**16  # rows encoded at a time by predict


def _with_target(features, target_codes):
    """Codes of every position: the features', then the target's (last)."""
    codes = np.empty((features.shape[0], features.shape[1] + 1), dtype=np.int64)
    codes[:, :-1] = features
    codes[:, -1] = target_codes
    return codes


class _BaseMoECBOW(MoELensMixin, ModelStateMixin, MoECBOWParameters, BaseEstimator):
    """Shared machinery of the estimators and the imputer; not for direct use."""

    _auto_learning_rate_floor = 0.0  # see MoECBOWRegressor
    _auto_ordinal_embedding = False  # see MoECBOWRegressor

    # -- hooks of the subclasses -------------------------------------------------
    def _make_target(self):
        """A new, unfitted target object (:mod:`~moe_tabular._targets`)."""
        raise NotImplementedError

    def _row_weights(self, target, target_codes, sample_weight):
        """Row weights from ``sample_weight`` (and, for classes, ``class_weight``)."""
        return sample_weight

    def _extra_fitted(self, tokenizer, frame, codes, row_weights):
        """Fitted attributes of a subclass read off the first call's data."""
        return {}

    # -- the one path from X to the model ------------------------------------------
    def _preprocess_X(self, X, *, reset):
        """``X`` checked once, in this estimator's name, as the tokenizer reads it.

        The one entry from a table, as HistGradientBoosting's: :meth:`fit`,
        :meth:`partial_fit`, prediction, the lens and the imputer all start
        here. scikit-learn's checks run with their messages;
        ``reset=True`` sets ``n_features_in_`` and ``feature_names_in_``,
        ``reset=False`` checks them. The frame keeps ``X``'s dtypes; the
        tokenizer encodes it without checking it again
        (:meth:`ColumnTokenizer.fit_encode`, :meth:`ColumnTokenizer.encode`).

        Returns
        -------
        frame : DataFrame of shape (n_samples, n_features)
        """
        if type(X).__module__.split(".")[0] in {"dask", "dask_expr"}:
            raise TypeError(
                f"X is a {type(X).__name__} from Dask; {type(self).__name__} would "
                "pull it into memory whole. Train on it partition by partition "
                "with dask_ml.wrappers.Incremental (partial_fit), or pass "
                "X.compute() if it fits in memory."
            )
        return check_table(self, X, reset=reset)

    def _codes(self, frame):
        """Codes of every position of a checked frame, the target's masked.

        The tokenizer's codes of the features, then the target's context code
        (MASK, or the imputer's constant placeholder).

        Returns
        -------
        codes : ndarray of int64, shape (n_samples, n_features_in_ + 1)
        """
        features = self.tokenizer_.encode(frame)
        return _with_target(features, self._target.context_code)

    def _encode(self, X):
        """:meth:`_codes` of ``X``: what the lens and the imputer run the module on."""
        check_is_fitted(self)
        return self._codes(self._preprocess_X(X, reset=False))

    # -- fitting -----------------------------------------------------------------
    def _new_tokenizer(self):
        """An unfitted tokenizer of this estimator's parameters."""
        return ColumnTokenizer(
            categorical_features=self.categorical_features,
            n_bins=self.n_bins,
            handle_unknown=self.handle_unknown,
            min_frequency=self.min_frequency,
            max_categories=self.max_categories,
        )

    def _layout(self, tokenizer, target):
        """Categories of every position (the features, then the target), which
        positions share one vocabulary, and which are ordered: the module's
        token layout."""
        n_categories = [*tokenizer.n_categories_.tolist(), target.n_categories]
        ordered = [*tokenizer.ordered_.tolist(), bool(target.ordered)]
        if self.shared_vocabulary == "auto":
            return n_categories, ordered, ordered
        return n_categories, [bool(self.shared_vocabulary)] * len(ordered), ordered

    def _ordinal_embedding(self):
        """``ordinal_embedding`` with the "auto" rule applied (see the subclasses)."""
        if self.ordinal_embedding == "auto":
            return self._auto_ordinal_embedding
        return bool(self.ordinal_embedding)

    def _target_weight(self, n_features_in):
        """``target_weight`` with the "auto" rule applied: sqrt(n_features_in)."""
        if self.target_weight == "auto":
            return math.sqrt(n_features_in)
        return float(self.target_weight)

    def _new_module(self, n_categories, shared, ordered, generator):
        """The torch module of this estimator's hyperparameters and a layout."""
        return MaskedColumnAttention(
            n_categories=n_categories,
            shared=shared,
            d_embedding=self.d_embedding,
            n_heads=self.n_heads,
            n_layers=self.n_layers,
            d_ffn=self.d_ffn,
            dropout=self.dropout,
            norm_first=self.norm_first,
            n_members=self.n_ensemble,
            ordinal=ordered if self._ordinal_embedding() else None,
            generator=generator,
        )

    def _new_trainer(self, target_weight):
        """A :class:`~moe_tabular._training.Trainer` of these hyperparameters."""
        return Trainer(
            **{name: getattr(self, name) for name in Trainer.HYPERPARAMETERS},
            learning_rate_floor=self._auto_learning_rate_floor,
            target_weight=target_weight,
            device=resolve_device(self.device),
            owner=type(self).__name__,
        )

    def _prepare(self, X, y, sample_weight, *, first_call, classes=None):
        """Validate and encode one call's data; assign nothing.

        The one sequence :meth:`fit` and :meth:`partial_fit` share. On the
        first call (every :meth:`fit`, the first :meth:`partial_fit`) ``X`` is
        validated on a fresh clone, and the tokenizer and the target are
        fitted; later calls validate against the fitted model and reuse them.
        Rows of weight 0 are dropped, as if they were not there.

        Returns
        -------
        fitted : dict
            The fitted attributes to commit (empty on later calls).
        codes : ndarray of int64, shape (n_kept, n_features_in_ + 1)
        target_codes : ndarray of int64, shape (n_kept,)
        row_weights : ndarray of shape (n_kept,) or None
        """
        checked = clone(self) if first_call else self
        frame = checked._preprocess_X(X, reset=first_call)
        if first_call and self.d_embedding % self.n_heads:
            raise ValueError(
                f"n_heads={self.n_heads} must divide d_embedding={self.d_embedding}."
            )
        sample_weight = self._check_rows(frame, y, sample_weight)
        if sample_weight is not None:
            kept = sample_weight > 0  # weight 0: as if the row were not there
            if not kept.all():
                frame, sample_weight = frame.iloc[kept], sample_weight[kept]
                y = None if y is None else _safe_indexing(y, np.flatnonzero(kept))
        fitted = {}
        if first_call:
            target = self._make_target()
            owner = type(self).__name__
            if classes is not None:
                target.fit(classes, owner=owner)
            else:
                target.fit(y, owner=owner, sample_weight=sample_weight)
            fitted["n_features_in_"] = checked.n_features_in_
            if hasattr(checked, "feature_names_in_"):
                fitted["feature_names_in_"] = checked.feature_names_in_
        else:
            target = self._target
        target_codes = target.encode(y if target.has_target else np.zeros(len(frame)))
        row_weights = self._row_weights(target, target_codes, sample_weight)
        if first_call:  # X encoded once, as the tokenizer is fitted to it
            tokenizer = self._new_tokenizer()
            features = tokenizer.fit_encode(frame, row_weights)
            fitted.update(tokenizer_=tokenizer, _target=target)
            fitted.update(self._extra_fitted(tokenizer, frame, features, row_weights))
        else:
            features = self.tokenizer_.encode(frame)
        codes = _with_target(features, target_codes)
        return fitted, codes, target_codes, row_weights

    def _check_rows(self, frame, y, sample_weight):
        """Checked ``y`` length and ``sample_weight`` (an ndarray or None)."""
        if frame.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to fit; got "
                f"n_samples = {frame.shape[0]}."
            )
        if y is not None:
            check_consistent_length(frame, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, frame, dtype=np.float64, ensure_non_negative=True
            )
        return sample_weight

    def _clear_state(self):
        """Forget every fitted attribute, as HistGradientBoosting's does: the
        public ones (names ending in ``_``), the target and the trainer."""
        fitted = [name for name in vars(self) if name.endswith("_")]
        for name in [*fitted, "_target", "_trainer"]:
            self.__dict__.pop(name, None)

    def _commit(self, fitted, *, module, history, trainer):
        """Store a call's results; nothing before this point touched ``self``."""
        self.__dict__.update(fitted)
        self.module_ = module
        self.history_ = history
        self.n_iter_ = len(history)
        self.batch_size_ = trainer.budget.batch_size
        self.learning_rate_ = trainer.budget.learning_rate

    def _fit(self, X, y, sample_weight):
        fitted, codes, target_codes, row_weights = self._prepare(
            X, y, sample_weight, first_call=True
        )
        fitted["target_weight_"] = self._target_weight(fitted["n_features_in_"])
        trainer = self._new_trainer(fitted["target_weight_"])
        tokenizer, target = fitted["tokenizer_"], fitted["_target"]
        module = self._new_module(*self._layout(tokenizer, target), trainer.generator)
        history = trainer.fit(module, codes, target_codes, row_weights, target=target)
        self._clear_state()  # a new fit also starts partial_fit afresh
        self._commit(fitted, module=module, history=history, trainer=trainer)
        return self

    def _partial_fit(self, X, y, sample_weight, classes=None):
        """One epoch over ``X``; the first call fixes the vocabulary and target."""
        first = not hasattr(self, "module_")
        fitted, codes, target_codes, row_weights = self._prepare(
            X, y, sample_weight, first_call=first, classes=classes
        )
        # a new trainer on the first call, or the first after fit() or load()
        trainer = getattr(self, "_trainer", None)
        module = getattr(self, "module_", None)
        if trainer is None:
            n_features_in = fitted.get("n_features_in_") or self.n_features_in_
            fitted["target_weight_"] = self._target_weight(n_features_in)
            trainer = self._new_trainer(fitted["target_weight_"])
            if first:
                layout = self._layout(fitted["tokenizer_"], fitted["_target"])
                module = self._new_module(*layout, trainer.generator)
        history = trainer.continue_training(
            module, codes, target_codes, row_weights, getattr(self, "history_", None)
        )
        self._commit(fitted, module=module, history=history, trainer=trainer)
        self._trainer = trainer
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by masked-column training on ``X`` with ``y`` as a column.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The table; DataFrame dtypes decide which columns are categorical.
        y : array-like of shape (n_samples,)
            The target. Rows whose target is missing (NaN, None, ``pd.NA``,
            are unlabeled: they train how the feature columns go together, not
            the target (scikit-learn's semi-supervised estimators also read -1
            as unlabeled; here -1 is a class: pass NaN instead).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights: a row of weight 2 counts as the row twice in the loss,
            the bins and the target's bin means; weight 0 leaves a row out.
            Importance weights are the textbook correction for covariate shift.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``X``; for data that comes in batches.

        The first call (or the first after :meth:`fit` starts afresh) fixes the
        vocabulary from its batch (the tokenizer's categories and bins) and
        the target's bins; later batches map unseen categories to the UNKNOWN
        token. Each call is one pass with a constant learning rate
        (``learning_rate``; "auto" sized by the first batch) and no early
        stopping; the optimizer's state carries over between calls, as in
        :meth:`sklearn.neural_network.MLPRegressor.partial_fit`. To fix the
        vocabulary from a sample, make it the first batch.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A batch of rows.
        y : array-like of shape (n_samples,)
            Their target (NaN for an unlabeled row).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._partial_fit(X, y, sample_weight)

    # -- prediction --------------------------------------------------------------
    def _target_log_proba(self, X):
        """Log-probabilities of the target's categories, the target masked.

        Rows are encoded and scored a chunk at a time into one preallocated
        output, so memory beyond ``X`` and the output stays bounded.
        """
        check_is_fitted(self)
        frame = self._preprocess_X(X, reset=False)
        module = float64_copy(self.module_)
        target = len(module.n_categories) - 1
        out = np.empty((len(frame), int(module.n_categories[target])))
        for start in range(0, len(frame), _PREDICT_ROWS):
            rows = slice(start, start + _PREDICT_ROWS)
            codes = self._codes(frame.iloc[rows])
            out[rows] = column_log_proba(module, codes, target, n_heads=self.n_heads)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags


@document
class MoECBOWClassifier(ClassifierMixin, _BaseMoECBOW, ClassifierParameters):
    """Classifier: masked-column attention with the class as one more column.

    Every categorical column of the table is read as a word position and every row
    as a sentence; numeric columns are cut into quantile bins. One attention layer
    trained by masking each column in turn (the target included) is a CBOW model
    whose context columns are mixed with mixture-of-experts weights. To predict,
    the target column is masked and its token distribution read off.

    Parameters
    ----------
    {parameters}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``:
        ``{label: weight}``, or "balanced" (``n_samples / (n_classes *
        count)`` over the labelled rows), as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {attributes}

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

    def _make_target(self):
        return ClassTarget()

    def _row_weights(self, target, target_codes, sample_weight):
        if self.class_weight is None:
            return sample_weight
        labeled = target_codes >= 0
        weights = np.ones(len(target_codes))
        if self.class_weight == "balanced":
            n_classes = target.n_categories
            rows = np.ones(labeled.sum()) if sample_weight is None else sample_weight
            rows = rows if sample_weight is None else rows[labeled]
            counts = np.bincount(target_codes[labeled], rows, minlength=n_classes)
            per_class = counts.sum() / (n_classes * np.maximum(counts, 1e-12))
        else:
            unknown = set(self.class_weight) - set(target.classes_.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight names classes {sorted(map(str, unknown))} that "
                    f"are not in y (classes: {target.classes_.tolist()})."
                )
            per_class = np.array(
                [float(self.class_weight.get(c, 1.0)) for c in target.classes_]
            )
        weights[labeled] = per_class[target_codes[labeled]]
        return weights if sample_weight is None else weights * sample_weight

    @property
    def classes_(self):
        """Class labels (``classes_`` of the fitted target)."""
        return self._target.classes_

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``X``; for data that comes in batches.

        The first call fixes the vocabulary from its batch (the tokenizer's
        categories and bins) and the classes from ``classes``; later batches
        map unseen categories to the UNKNOWN token. Each call is one pass with
        a constant learning rate (``learning_rate``; "auto" sized by the first
        batch) and no early stopping; the optimizer's state carries over
        between calls, as in :meth:`sklearn.neural_network.MLPClassifier.partial_fit`.
        To fix the vocabulary from a sample, make it the first batch.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A batch of rows.
        y : array-like of shape (n_samples,)
            Their class labels (NaN or None for an unlabeled row).
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole data; required on the first call, ignored
            afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        if classes is None and not hasattr(self, "module_"):
            raise ValueError(
                "classes must be passed on the first call to partial_fit (every "
                "class of the whole data, e.g. np.unique(y))."
            )
        return self._partial_fit(X, y, sample_weight, classes=classes)

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
        log_proba = self._target_log_proba(X)
        return self.classes_[log_proba.argmax(axis=1)]


@document
class MoECBOWRegressor(RegressorMixin, _BaseMoECBOW, RegressorParameters):
    """Regressor: masked-column attention with the binned target as one more column.

    The target is cut into ``n_target_bins`` quantile bins (one token each); the
    prediction is the mean training target of each bin weighted by the predicted
    bin probabilities. See :class:`MoECBOWClassifier` for the model.

    Parameters
    ----------
    n_target_bins : int, default=10
        Quantile bins of the target; a target with fewer distinct values keeps
        one bin per value.
    {parameters}
    Attributes
    ----------
    target_bin_means_ : ndarray of shape (n_bins_out,)
        Mean training target of each target bin.
    {attributes}

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

    # learning_rate="auto" never below this (under 400 training rows): small
    # regression tables underfit at the linear rule's rate
    # (benchmarks/results/regression-small-tables)
    _auto_learning_rate_floor = 2e-3
    # ordinal_embedding="auto": its target bins (and ordered features) as a
    # thermometer code (benchmarks/results/regression-ordinal)
    _auto_ordinal_embedding = True

    def _make_target(self):
        return BinnedTarget(n_bins=self.n_target_bins)

    @property
    def target_bin_means_(self):
        """Mean training target of each target bin."""
        return self._target.bin_means_

    def predict(self, X):
        """Expected target under the predicted bin distribution.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return np.exp(self._target_log_proba(X)) @ self.target_bin_means_
