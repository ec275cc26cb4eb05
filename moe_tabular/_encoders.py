"""One column's scikit-learn encoder: made, and kept as plain values.

:class:`~moe_tabular.ColumnTokenizer` reads each column with one fitted encoder:
an :class:`~sklearn.preprocessing.OrdinalEncoder` (categorical columns, and
numeric ones with few distinct values) or a quantile
:class:`~sklearn.preprocessing.KBinsDiscretizer` whose spikes get bins of their
own (:func:`spiked_quantile_bins`). :func:`encoder_state` and
:func:`encoder_from_state` turn a fitted encoder into plain values (str, numbers,
lists, numpy arrays) and back, for :meth:`ColumnTokenizer.state
<moe_tabular.ColumnTokenizer.state>`. This module never imports torch.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.preprocessing import KBinsDiscretizer, OrdinalEncoder


# -- making ----------------------------------------------------------------------
def _spikes(values, weights, n_bins):
    """The values that hold at least ``1 / n_bins`` of the (weighted) rows."""
    uniques, inverse = np.unique(values, return_inverse=True)
    mass = np.bincount(inverse, weights=weights)
    return uniques[mass * n_bins >= mass.sum()]


def spiked_quantile_bins(values, weights, n_bins):
    """A fitted quantile :class:`~sklearn.preprocessing.KBinsDiscretizer` whose
    spikes get bins of their own; the encoder and its number of bins.

    A value held by at least ``1 / n_bins`` of the rows (the zeros of a
    zero-inflated amount, a sentinel such as 999) would fill whole quantile
    bins: their edges coincide and sklearn merges them, so the spike swallows
    its neighbours (every cell of a column that is zero in 92% of rows then
    shares one bin). Each spike ``v`` gets the bin ``[v, nextafter(v))`` (the
    largest value ``[v, v]``); the inner edges of ``n_bins`` minus the number of
    spikes quantile bins (at least two) of the other values cut the rest.
    Without spikes this is sklearn's quantile binning unchanged.
    """
    spikes = _spikes(values, weights, n_bins)
    rest = ~np.isin(values, spikes)
    encoder = KBinsDiscretizer(
        n_bins=max(2, n_bins - len(spikes)),
        encode="ordinal",
        strategy="quantile",
        quantile_method="averaged_inverted_cdf",
        subsample=None,
    )
    # the column is its spikes and at most one other value: spikes' edges only
    binned = rest if len(np.unique(values[rest])) >= 2 else slice(None)
    with warnings.catch_warnings():  # tiny bins are merged; n_bins_ says so
        warnings.filterwarnings("ignore", message="Bins whose width")
        encoder.fit(
            values[binned].reshape(-1, 1),
            sample_weight=None if weights is None else weights[binned],
        )
    if len(spikes):
        inner = encoder.bin_edges_[0][1:-1] if binned is rest else []
        top = values.max()
        below = spikes[spikes < top]
        edges = np.unique(
            np.concatenate(
                [[values.min(), top], inner, spikes, np.nextafter(below, top)]
            )
        )
        if spikes[-1] == top:  # the top spike's bin is [top, top]: no overflow
            edges = np.append(edges, top)
        encoder.bin_edges_ = np.empty(1, dtype=object)
        encoder.bin_edges_[0] = edges
        encoder.n_bins_ = np.array([len(edges) - 1])
    # sklearn drops bins narrower than 1e-8, all of them for a column whose
    # values span less: its values then share bin 0
    return encoder, max(1, int(encoder.n_bins_[0]))


# -- plain state ---------------------------------------------------------------------
def infrequent_categories(encoder):
    """The infrequent categories of a fitted OrdinalEncoder, or None."""
    try:
        return encoder.infrequent_categories_[0]
    except AttributeError:  # min_frequency and max_categories both None
        return None


def encoder_state(encoder, name):
    """A fitted encoder (or None) as plain values; ``name`` names it in errors.

    Examples
    --------
    >>> import numpy as np
    >>> state = encoder_state(OrdinalEncoder().fit([["b"], ["a"]]), "x")
    >>> state["type"], state["categories"].tolist()
    ('OrdinalEncoder', ['a', 'b'])
    """
    if encoder is None:
        return None
    params = encoder.get_params()
    if isinstance(encoder, OrdinalEncoder):
        if params.pop("dtype") is not np.float64 or params.pop("categories") != "auto":
            raise TypeError(f"Cannot save {name}: unexpected parameters {params}.")
        return {
            "type": "OrdinalEncoder",
            "params": params,
            "categories": encoder.categories_[0],
            "infrequent": infrequent_categories(encoder),
        }
    if isinstance(encoder, KBinsDiscretizer):
        return {
            "type": "KBinsDiscretizer",
            "params": params,
            "bin_edges": encoder.bin_edges_[0],
            "n_bins": encoder.n_bins_,
        }
    raise TypeError(f"Cannot save {name} of type {type(encoder).__name__}.")


def encoder_from_state(state):
    """Inverse of :func:`encoder_state`."""
    if state is None:
        return None
    builders = {"OrdinalEncoder": _ordinal_encoder, "KBinsDiscretizer": _bins_encoder}
    return builders[state["type"]](state)


def _same_values(a, b):
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    return a.shape == b.shape and all(
        x == y or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True)
    )


def _ordinal_encoder(state):
    """Refit an OrdinalEncoder to the saved categories, infrequent ones included.

    Every category is seen twice and every infrequent one once, under
    ``min_frequency=2``: sklearn's own fit then rebuilds the exact mapping, in
    time linear in the number of categories (set lookups, no pairwise scan).
    """
    categories = state["categories"]
    infrequent = state["infrequent"]
    infrequent = [] if infrequent is None else list(infrequent)
    rare = {v for v in infrequent if not pd.isna(v)}
    rare_missing = any(pd.isna(v) for v in infrequent)
    counts = [
        1 if (rare_missing if pd.isna(c) else c in rare) else 2 for c in categories
    ]
    values = np.repeat(categories, counts).reshape(-1, 1)
    params = state["params"]
    encoder = OrdinalEncoder(
        **{
            **params,
            "min_frequency": 2 if infrequent else None,
            "max_categories": None,
        },
        categories=[categories],
    ).fit(values)
    encoder.set_params(**params, categories="auto")  # as fitted; transform ignores
    rebuilt = infrequent_categories(encoder)
    if not _same_values(encoder.categories_[0], categories) or not _same_values(
        [] if rebuilt is None else rebuilt, infrequent
    ):
        raise ValueError("the saved categories do not rebuild an encoder")
    return encoder


def _bins_encoder(state):
    encoder = KBinsDiscretizer(**state["params"])
    edges = np.asarray(state["bin_edges"], dtype=np.float64)
    if edges.ndim != 1 or not (np.diff(edges) >= 0).all():
        raise ValueError("the saved bin edges are not sorted")
    encoder.bin_edges_ = np.empty(1, dtype=object)
    encoder.bin_edges_[0] = edges
    encoder.n_bins_ = np.asarray(state["n_bins"], dtype=np.int64)
    encoder.n_features_in_ = 1
    return encoder
