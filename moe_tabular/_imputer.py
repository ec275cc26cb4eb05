"""MoECBOWImputer: the masked-column model fitted on ``X`` alone, as a transformer."""

from sklearn.base import OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._estimators import _BaseMoECBOW
from ._parameters import document
from ._targets import NoTarget


@document
class MoECBOWImputer(OneToOneFeatureMixin, TransformerMixin, _BaseMoECBOW):
    """Impute missing cells with a masked-column attention model fitted on ``X``.

    The model of :class:`MoECBOWClassifier` trained on the table alone: every
    column is masked in turn and predicted from the others (the masked-language
    objective), with no target. ``transform`` then fills each missing cell with
    the prediction of its column masked, the row's other cells as context. Any
    mix of categorical and numeric columns is imputed at once.

    Why a transformer fitted on ``X``: a Pipeline step sees ``X`` only, and an
    imputer should not need (or leak) the target that the next step predicts.
    A fitted :class:`MoECBOWClassifier` or :class:`MoECBOWRegressor` can reuse
    its own masked-column model instead: its ``impute`` method fills ``X`` with
    the target masked. The two share the code; the imputer also learns the mean
    training value of every bin of a numeric column to fill with.

    The hyperparameters are the estimators' (so are their defaults). The model
    has one constant placeholder column in place of the target; its loss is 0,
    so ``target_weight`` has no effect, and early stopping (which monitors the
    target's loss) is not available: ``early_stopping="auto"`` is off for the
    imputer and ``early_stopping=True`` raises.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    bin_means_ : list of ndarray or None, length ``n_features_in_``
        For a numeric column, the value filled in for each of its bins: the mean
        training value of the bin, weighted by ``sample_weight`` (the midpoint
        of its edges when empty), or the value itself when the column has few
        distinct values (:meth:`ColumnTokenizer.bin_values`); None for a
        categorical column.
    {attributes}

    See Also
    --------
    MoECBOWClassifier.impute : The same imputation with a supervised model.
    sklearn.impute.IterativeImputer : Round-robin regression imputation.

    Notes
    -----
    A missing cell is predicted as in training: its column masked, the other
    missing cells of the row given as MISSING tokens. ``impute(X,
    strategy="sample", random_state=...)`` draws from the predicted
    distribution instead of taking its mode; the lens methods
    (``score_samples``, ``expert_weights(X, column=...)``, the embeddings) work
    as for the estimators, with no target column.

    References
    ----------
    .. [1] K. C. Wibisono and Y. Wang, "Bidirectional Attention as a Mixture of
       Continuous Word Experts", UAI 2023.

    Examples
    --------
    >>> import pandas as pd
    >>> from moe_tabular import MoECBOWImputer
    >>> X = pd.DataFrame({"color": ["red", "blue"] * 20, "size": ["S", "L"] * 20})
    >>> imputer = MoECBOWImputer(max_epochs=30, learning_rate=0.01,
    ...                          random_state=0).fit(X)
    >>> imputer.transform(pd.DataFrame({"color": [None, "blue"], "size": ["S", None]}))
      color size
    0   red    S
    1  blue    L
    """

    def fit(self, X, y=None, sample_weight=None):
        """Fit the masked-column model on ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The table, missing cells included.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as for :meth:`MoECBOWClassifier.fit`.

        Returns
        -------
        self : MoECBOWImputer
            The fitted imputer.
        """
        return super().fit(X, None, sample_weight=sample_weight)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one epoch on a batch of ``X``.

        As :meth:`MoECBOWClassifier.partial_fit`: the first call fixes the
        vocabulary, the bins and the values filled into them (``bin_means_``).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A batch of rows.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        self : MoECBOWImputer
            The imputer, trained one more epoch.
        """
        return super().partial_fit(X, None, sample_weight=sample_weight)

    _saved_attributes = (*_BaseMoECBOW._saved_attributes, "bin_means_")

    def _make_target(self):
        return NoTarget()

    def _extra_fitted(self, tokenizer, frame, codes, row_weights):
        # bin_means_: the value filled into each bin of each numeric column
        bin_means = [
            None
            if tokenizer.categorical_[j] or not tokenizer.n_categories_[j]
            else tokenizer.bin_values(
                j, frame.iloc[:, j], row_weights, codes=codes[:, j]
            )
            for j in range(tokenizer.n_features_in_)
        ]
        return {"bin_means_": bin_means}

    def _numeric_fill_values(self):
        return self.bin_means_

    def transform(self, X):
        """Fill the missing cells of ``X`` with the most likely values.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)
            The table.

        Returns
        -------
        X_imputed : DataFrame or ndarray of shape (n_samples, ``n_features_in_``)
            A copy of ``X`` of the same type and dtypes with no missing cell in
            a column that had any value during fit; see :meth:`impute`.
        """
        check_is_fitted(self)
        return self.impute(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
