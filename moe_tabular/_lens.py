"""The MoE lens: what a fitted masked-column model says about a table.

Functions of a fitted model (:class:`MoECBOWClassifier`, :class:`MoECBOWRegressor`
or :class:`MoECBOWImputer`), exposed as methods by :class:`MoELensMixin`:

- ``expert_weights``: the gates ``pi_ij`` of the masked column ``i`` (the target by
  default) over the column experts ``j``;
- ``masked_log_proba`` (private): every column's distribution with it alone
  masked, from which ``impute`` fills missing cells and ``score_samples`` sums a
  pseudo-log-likelihood;
- ``token_embeddings`` and ``column_embeddings``: the learned vectors, labelled.

The target position is appended last, as in training: the MASK token for the
estimators, the constant placeholder token for the imputer (which has no target).
"""

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._inference import float64_copy, in_chunks, leave_one_out_log_proba
from ._vocabulary import MASK, MISSING, RESERVED_LABELS, UNKNOWN, column_tokens


# -- names and labels ------------------------------------------------------------
def column_names(model, *, placeholder=True):
    """Feature names, then the last position's: ``"target"`` (or, for the
    imputer, ``"(constant)"`` unless ``placeholder=False``), underscored if taken.
    """
    names = [str(name) for name in model.tokenizer_.get_feature_names_out()]
    target = model._target
    if target.has_target or placeholder:
        last = target.name
        while last in names:
            last += "_"
        names.append(last)
    return names


def _category_labels(model, j):
    """Labels of the categories of position ``j`` (a feature or the target)."""
    if j < model.n_features_in_:
        return model.tokenizer_.category_labels(j)
    return model._target.labels()


# -- running the module ----------------------------------------------------------
def masked_log_proba(model, X):
    """Log-probabilities of every column's categories, that column alone masked.

    Parameters
    ----------
    model : fitted MoECBOW estimator or imputer
    X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)

    Returns
    -------
    codes : ndarray of int64, shape (n_samples, L)
        Codes of ``X``, the target position appended (MASK, or the placeholder).
    log_proba : list of L ndarrays, shape (n_samples, n_categories_j)
        ``log p(x_j = k | x_-j)`` in float64; the target (if any) masked in the
        context of every feature column.
    """
    codes = model._encode(X)
    return codes, _leave_one_out(model, codes)


def _leave_one_out(model, codes):
    module = float64_copy(model.module_)
    return leave_one_out_log_proba(module, codes, n_heads=model.n_heads)


# -- 1. expert weights -----------------------------------------------------------
def expert_weights(model, X, *, column=None, aggregate="mean"):
    """Mixture weights over columns of the masked ``column``; see the method."""
    names = column_names(model)
    has_target = model._target.has_target
    if column is None:
        if not has_target:
            raise ValueError(
                f"{type(model).__name__} has no target column: pass column=, one of "
                f"{names[:-1]}."
            )
        position = len(names) - 1
    elif column in names[: None if has_target else -1]:
        position = names.index(column)
    else:
        raise ValueError(f"column={column!r} is not one of the columns {names}.")
    if aggregate not in ("mean", "rollout", None):
        raise ValueError(f"aggregate={aggregate!r} must be 'mean', 'rollout' or None.")
    codes = model._encode(X)
    codes[:, position] = MASK
    module = float64_copy(model.module_)
    n_columns, n_layers = codes.shape[1], len(module.blocks)

    def gates_of(batch):
        _, gates = module(batch, columns=[position], return_gates=True)
        rows = [g[:, :, position] for g in gates[:-1]] + [gates[-1][:, :, 0]]
        rows = torch.stack(rows, dim=1).cpu().numpy()  # (B, layers, H, L)
        if aggregate != "rollout" or n_layers == 1:
            return rows, None
        full = torch.stack([g.mean(dim=1) for g in gates[:-1]], dim=1)
        return rows, full.cpu().numpy()  # (B, layers - 1, L, L)

    per_row = n_columns * n_columns * model.n_heads * n_layers
    parts = [
        part for _, part in in_chunks(module, codes, per_row=per_row, function=gates_of)
    ]
    gates = np.concatenate([part[0] for part in parts])
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(codes))
    if aggregate is None:
        multi = pd.MultiIndex.from_product(
            [index, range(n_layers), range(model.n_heads)],
            names=[index.name or "row", "layer", "head"],
        )
        return pd.DataFrame(gates.reshape(-1, n_columns), index=multi, columns=names)
    weights = gates[:, -1].mean(axis=1)  # the last layer, heads averaged
    if aggregate == "rollout":  # (A_last + I)/2 @ ... @ (A_1 + I)/2, row `position`
        weights /= 2
        weights[:, position] += 0.5
        if n_layers > 1:
            full = np.concatenate([part[1] for part in parts])
            residual = np.eye(n_columns)
            for depth in range(n_layers - 2, -1, -1):
                step = (full[:, depth] + residual) / 2
                weights = np.einsum("bj,bjk->bk", weights, step)
    return pd.DataFrame(weights, index=index, columns=names)


# -- 2. imputation ---------------------------------------------------------------
def _fill(series, rows, values, is_integer):
    """``series`` with ``values`` written at positions ``rows``, dtype kept."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        new = pd.Index(values).unique().difference(series.cat.categories)
        if len(new):
            series = series.cat.add_categories(new)
    elif is_integer:
        values = np.round(np.asarray(values, dtype=np.float64)).astype(np.int64)
    elif pd.api.types.is_float_dtype(series.dtype):
        values = np.asarray(values, dtype=np.float64).astype(series.dtype.type)
    series = series.copy()
    series.iloc[rows] = values
    return series


def _has_infrequent(encoder):
    """Whether a categorical column's last code is the shared infrequent one."""
    infrequent = getattr(encoder, "infrequent_categories_", None)
    return bool(infrequent) and infrequent[0] is not None


def impute(model, X, *, strategy="most_likely", random_state=None, numeric_values=None):
    """``X`` with its missing cells predicted; see the method for the rules.

    ``numeric_values[j]`` (length ``n_categories_[j]``) is the value a numeric
    feature ``j`` takes for each predicted bin; default: the bin midpoints.
    """
    if strategy not in ("most_likely", "sample"):
        raise ValueError(f"strategy={strategy!r} must be 'most_likely' or 'sample'.")
    check_is_fitted(model)
    frame = model._preprocess_X(X, reset=False)
    codes = model._codes(frame)
    log_proba = _leave_one_out(model, codes)
    rng = check_random_state(random_state)
    frame = frame.copy()  # filled in below; X stays as it is
    for j in range(model.n_features_in_):
        rows = np.flatnonzero(codes[:, j] == MISSING)
        if len(rows) == 0 or model.tokenizer_.n_categories_[j] == 0:
            continue
        proba = np.exp(log_proba[j][rows])
        if _has_infrequent(model.tokenizer_.encoders_[j]):
            if proba.shape[1] == 1:  # every category is infrequent: none to fill
                continue
            proba[:, -1] = 0.0  # never fill in the shared "infrequent" category
        if strategy == "most_likely":
            chosen = proba.argmax(axis=1)
        else:
            cumulative = np.cumsum(proba / proba.sum(axis=1, keepdims=True), axis=1)
            chosen = (cumulative < rng.random_sample((len(rows), 1))).sum(axis=1)
            chosen = np.minimum(chosen, proba.shape[1] - 1)
        if model.tokenizer_.categorical_[j]:
            encoder = model.tokenizer_.encoders_[j]
            values = encoder.inverse_transform(chosen.reshape(-1, 1)).ravel()
        else:
            table = (
                model.tokenizer_.bin_values(j)  # the midpoints
                if numeric_values is None
                else numeric_values[j]
            )
            values = np.asarray(table, dtype=np.float64)[chosen]
        series = frame.iloc[:, j]
        is_integer = pd.api.types.is_integer_dtype(series.dtype)
        frame[frame.columns[j]] = _fill(series, rows, values, is_integer)
    if isinstance(X, pd.DataFrame):
        return frame
    array = frame.to_numpy()
    dtype = getattr(X, "dtype", None)
    if dtype is not None and dtype.kind == "f":
        return array.astype(dtype)
    return array


# -- 3. shift score --------------------------------------------------------------
def score_samples(model, X):
    """Pseudo-log-likelihood of every row; see the method for the rules."""
    codes, log_proba = masked_log_proba(model, X)
    scores = np.zeros(len(codes))
    for j in range(model.n_features_in_):
        column = log_proba[j]
        if column.shape[1] == 0:
            continue
        known = codes[:, j] >= 0
        picked = np.take_along_axis(column, np.maximum(codes[:, [j]], 0), axis=1)[:, 0]
        unknown = codes[:, j] == UNKNOWN
        scores += np.where(known, picked, 0.0)
        scores += np.where(unknown, column.min(axis=1), 0.0)
    return scores


# -- 4. embeddings ---------------------------------------------------------------
def _labelled_positions(model):
    """(position, column name) of every labelled position: the placeholder out."""
    names = column_names(model, placeholder=False)
    return list(enumerate(names))


def token_embeddings(model):
    """Token embeddings, one row per (column, category); see the method."""
    check_is_fitted(model)
    module = model.module_
    weight = module.token_vectors().detach().double().cpu().numpy()
    offsets = module.category_offsets.cpu().numpy()
    keys, tokens = [], []
    for j, name in _labelled_positions(model):
        categories = _category_labels(model, j)
        keys += [(name, label) for label in (*RESERVED_LABELS, *categories)]
        tokens += column_tokens(offsets[j], len(categories))
    index = pd.MultiIndex.from_tuples(keys, names=["column", "category"])
    frame = pd.DataFrame(
        weight[tokens], index=index, columns=[f"e{k}" for k in range(weight.shape[1])]
    )
    frame.insert(0, "token", np.asarray(tokens, dtype=np.int64))
    return frame


def column_embeddings(model):
    """Column (position) embeddings, one row per column; see the method."""
    check_is_fitted(model)
    weight = model.module_.column_embedding.detach().double().cpu().numpy()
    positions, names = zip(*_labelled_positions(model), strict=True)
    return pd.DataFrame(
        weight[list(positions)],
        index=pd.Index(names, name="column"),
        columns=[f"e{k}" for k in range(weight.shape[1])],
    )


# -- the methods -----------------------------------------------------------------
class MoELensMixin:
    """The lens methods of the fitted MoE-CBOW models (estimators and imputer)."""

    def _numeric_fill_values(self):
        """Value of each bin of each numeric feature for ``impute``; None: midpoints."""
        return None

    def _position_names(self):
        """Names of the module's positions: the features, then the target's."""
        return column_names(self)

    @property
    def layout_(self):
        """The token layout of the fitted module, one row per position.

        A DataFrame indexed by column name (the features, then the target's
        position) with ``kind`` ("categorical", "numeric", or the target's
        name), ``n_categories``, ``shared`` (in the one shared vocabulary) and
        ``first_token`` (token id of category 0; the MASK, MISSING and UNKNOWN
        tokens sit just before it). Read from the module, which owns it.
        """
        check_is_fitted(self)
        module = self.module_
        kinds = np.where(self.tokenizer_.categorical_, "categorical", "numeric")
        return pd.DataFrame(
            {
                "kind": [*kinds.tolist(), self._target.name],
                "n_categories": module.n_categories.cpu().numpy(),
                "shared": module.shared.cpu().numpy(),
                "first_token": module.category_offsets.cpu().numpy(),
            },
            index=pd.Index(self._position_names(), name="column"),
        )

    def expert_weights(self, X, *, column=None, aggregate="mean"):
        """Mixture weights over the column experts used to predict a masked column.

        For each row, the column ``column`` (the target by default) is masked and
        the gates of the attention at its position are read off: ``pi_ij`` of
        the paper, the weight with which column ``j``'s value embedding votes
        in the prediction of column ``i``. The masked position attends to itself
        too (its MASK token), so the masked column is one of the returned
        columns: its weight is the share of the prediction that comes from the
        column's learned prior (MASK token plus column embedding), not from the
        row.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)
            Rows to explain. A missing or unseen cell is an expert too (its
            MISSING or UNKNOWN token).
        column : str, default=None
            Column to mask and explain: a feature name (``x0``, ``x1``, ... for
            arrays) or the target's name in ``expert_weights``' columns
            (``"target"``); None means the target. The other columns stay as
            given (the target, if any, masked).
        aggregate : {"mean", "rollout"} or None, default="mean"
            ``"mean"``: the last layer's gates, averaged over heads (with one
            layer, the paper's model, exactly the head-averaged ``pi_ij``).
            ``"rollout"``: attention rollout (Abnar and Zuidema, 2020) across
            layers: ``(A_l + I) / 2`` per layer, ``A_l`` the head-averaged gates
            and ``I`` the residual connection, multiplied from the last layer
            down and read at the masked position; with one layer this is
            ``("mean" + one-hot of the masked column) / 2``. None: every layer's
            and head's gates at the masked position.

        Returns
        -------
        weights : DataFrame
            Columns: the features' names and the target's (``"target"``, with
            ``_`` appended while a feature has that name). The imputer has no
            target; its last column, ``"(constant)"``, is the weight on its
            constant placeholder position, a learned bias like the masked
            column's own weight. Rows: ``X``'s index (a RangeIndex for arrays); with
            ``aggregate=None`` a MultiIndex ``(row, layer, head)``. Every row is
            non-negative and sums to 1.

        Examples
        --------
        >>> import pandas as pd
        >>> from moe_tabular import MoECBOWClassifier
        >>> X = pd.DataFrame({"color": ["red", "blue"] * 20, "size": [1.0, 2.0] * 20})
        >>> y = ["warm", "cold"] * 20
        >>> clf = MoECBOWClassifier(n_heads=2, max_epochs=20, random_state=0)
        >>> weights = clf.fit(X, y).expert_weights(X.head(3))
        >>> list(weights.columns)
        ['color', 'size', 'target']
        >>> weights.sum(axis=1).round(6).tolist()
        [1.0, 1.0, 1.0]
        >>> clf.expert_weights(X.head(3), aggregate=None).shape  # 3 rows x 2 heads
        (6, 3)
        """
        return expert_weights(self, X, column=column, aggregate=aggregate)

    def impute(self, X, *, strategy="most_likely", random_state=None):
        """Fill the missing cells of ``X`` with the model's masked predictions.

        Each missing cell of feature ``j`` (NaN, None or ``pd.NA``) is predicted
        from the rest of its row exactly as in training: column ``j`` masked,
        the other missing cells of the row left as MISSING tokens and, for the
        estimators, the target masked. Unseen categories are observed values
        and stay as they are.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)
            The table, without the target.
        strategy : {"most_likely", "sample"}, default="most_likely"
            Take the most likely category, or draw one from the predicted
            distribution.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws of ``strategy="sample"``.

        Returns
        -------
        X_imputed : DataFrame or ndarray of shape (n_samples, ``n_features_in_``)
            A copy of ``X`` of the same type. A categorical column gets a
            category seen in fit (not the shared infrequent one of
            ``min_frequency`` / ``max_categories``); a numeric (binned) column
            the midpoint of the predicted bin for the estimators
            (:class:`MoECBOWImputer` uses the mean of the bin's training
            values), rounded in integer columns; a
            numeric column with few distinct values gets one of them.
            DataFrame dtypes and float array dtypes are kept.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from moe_tabular import MoECBOWClassifier
        >>> X = pd.DataFrame({"color": ["red", "blue"] * 20, "size": ["S", "L"] * 20})
        >>> y = ["warm", "cold"] * 20
        >>> clf = MoECBOWClassifier(max_epochs=30, learning_rate=1e-2, random_state=0)
        >>> clf = clf.fit(X, y)
        >>> clf.impute(pd.DataFrame({"color": ["red", None], "size": [None, "L"]}))
          color size
        0   red    S
        1  blue    L
        """
        return impute(
            self,
            X,
            strategy=strategy,
            random_state=random_state,
            numeric_values=self._numeric_fill_values(),
        )

    def score_samples(self, X):
        """Pseudo-log-likelihood of each row: higher means more typical.

        ``sum_j log p(x_j | x_-j)`` over the feature columns, each predicted with
        it alone masked (and the target, if any, masked): the masked-column
        objective the model was trained on, read as a typicality score. Rows
        drawn from another distribution score lower when the shift changes
        how columns go together (a correlation shift) or makes rare
        categories common; a numeric value beyond the training range only
        lands in the end bin, so extrapolation alone goes unseen.

        A missing cell contributes 0: missingness is not scored (compare rows
        with as many missing cells, or divide by the number of observed
        ones). An unseen category (UNKNOWN token) contributes the
        log-probability of the least likely known category of its column in
        that row: at least as atypical as any seen value.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, ``n_features_in_``)
            The table, without the target.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Non-positive log-likelihoods (nats).

        Examples
        --------
        >>> import pandas as pd
        >>> from moe_tabular import MoECBOWClassifier
        >>> X = pd.DataFrame({"a": ["x", "y"] * 20, "b": ["x", "y"] * 20})
        >>> y = [0, 1] * 20
        >>> clf = MoECBOWClassifier(max_epochs=30, random_state=0).fit(X, y)
        >>> typical, odd = clf.score_samples(pd.DataFrame({"a": ["x", "x"],
        ...                                                "b": ["x", "y"]}))
        >>> bool(typical > odd)
        True
        """
        return score_samples(self, X)

    def token_embeddings(self):
        """The learned token embeddings, one row per (column, category).

        Rows cover every position: its reserved tokens (categories ``"MASK"``,
        ``"MISSING"``, ``"UNKNOWN"``), then its categories, labelled by value,
        numeric bins by interval (``"< 1.5"``, ``"[1.5, 3)"``, ``">= 3"``) and
        the regressor's target bins by their mean. With
        ``shared_vocabulary=True`` one token serves category ``k`` of every
        column (and the reserved tokens are shared): it then appears once per
        column it serves, with the same ``token`` id and vector; use
        ``drop_duplicates("token")`` for one row per token. With the thermometer code
        (``ordinal_embedding``) the rows are the vectors the model reads, the
        running sums of the stored ones.

        Returns
        -------
        embeddings : DataFrame
            MultiIndex ``(column, category)`` (strings; the target's column name
            as in :meth:`expert_weights`); columns ``token`` (the id) and
            ``e0, ..., e{d_embedding - 1}``.

        Examples
        --------
        >>> import pandas as pd
        >>> from moe_tabular import MoECBOWClassifier
        >>> X = pd.DataFrame({"color": ["red", "blue"] * 5})
        >>> clf = MoECBOWClassifier(max_epochs=1, d_embedding=4, n_heads=1,
        ...                         random_state=0).fit(X, ["no", "yes"] * 5)
        >>> clf.token_embeddings()["token"]
        column  category
        color   MASK        0
                MISSING     1
                UNKNOWN     2
                blue        3
                red         4
        target  MASK        5
                MISSING     6
                UNKNOWN     7
                no          8
                yes         9
        Name: token, dtype: int64
        """
        return token_embeddings(self)

    def column_embeddings(self):
        """The learned column (position) embeddings, one row per column.

        Returns
        -------
        embeddings : DataFrame
            Index: the column names, the target's last (as in
            :meth:`expert_weights`); columns ``e0, ..., e{d_embedding - 1}``.

        Examples
        --------
        >>> import pandas as pd
        >>> from moe_tabular import MoECBOWRegressor
        >>> X = pd.DataFrame({"color": ["red", "blue"] * 5, "size": [1.0, 2.0] * 5})
        >>> reg = MoECBOWRegressor(max_epochs=1, d_embedding=4, n_heads=1,
        ...                        random_state=0).fit(X, [1.0, 2.0] * 5)
        >>> reg.column_embeddings().shape
        (3, 4)
        """
        return column_embeddings(self)
