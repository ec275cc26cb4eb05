"""The vocabulary: reserved codes, their labels and the token layout.

The one place that says what a code means. Every cell of the table becomes a
per-column code (:class:`~moe_tabular.ColumnTokenizer` emits them, the targets
of :mod:`~moe_tabular._targets` add the last column's)::

    code = -3 (MASK), -2 (MISSING), -1 (UNKNOWN), 0 .. n_categories - 1

and the torch module turns code ``k`` of column ``j`` into token
``category_offsets[j] + k`` (:func:`token_layout`): the reserved codes of a
column are the ``N_RESERVED`` tokens just before its categories, MASK first.
Plain Python: the tokenizer, the targets, the module and the lens import it,
and it imports nothing of theirs (nor numpy, nor torch).
"""

MASK = -3  # the masked position: predicted from the others (the model's own)
MISSING = -2  # NaN, None or pd.NA
UNKNOWN = -1  # a category not seen during fit
N_RESERVED = 3  # MASK, MISSING, UNKNOWN: MASK == -N_RESERVED
RESERVED_LABELS = ("MASK", "MISSING", "UNKNOWN")  # the labels of codes -3, -2, -1


def token_layout(n_categories, shared):
    """Token id of category 0 of every column, and the vocabulary size.

    Each column owns ``N_RESERVED`` reserved tokens (MASK, MISSING, UNKNOWN)
    just before its categories. Shared columns use one block (category ``k``
    of each of them is the same token, as in the paper; they share the
    reserved tokens too); every other column has a block of its own. The
    shared block comes first.

    Parameters
    ----------
    n_categories : sequence of int, length L
        Number of categories (or bins) of each column.
    shared : sequence of bool, length L
        Which columns share the one vocabulary.

    Returns
    -------
    category_offsets : list of int, length L
    n_tokens : int

    Examples
    --------
    >>> token_layout([2, 3], [False, False])
    ([3, 8], 11)
    >>> token_layout([2, 3], [True, True])
    ([3, 3], 6)
    >>> token_layout([2, 3, 4], [True, False, True])
    ([3, 10, 3], 13)
    """
    n_categories, shared = list(map(int, n_categories)), list(map(bool, shared))
    if len(n_categories) != len(shared):
        raise ValueError(f"{len(n_categories)=} and {len(shared)=} must match.")
    sizes = [n for n, s in zip(n_categories, shared, strict=True) if s]
    start = N_RESERVED + max(sizes) if sizes else 0
    offsets = []
    for n, is_shared in zip(n_categories, shared, strict=True):
        if is_shared:
            offsets.append(N_RESERVED)
        else:
            offsets.append(start + N_RESERVED)
            start += N_RESERVED + n
    return offsets, start


def column_tokens(first_token, n_categories):
    """Token ids of one column: its reserved codes', then its categories'.

    In the order of ``RESERVED_LABELS`` followed by categories ``0 ..
    n_categories - 1``; ``first_token`` is the token of category 0 (the
    column's entry of :func:`token_layout`).

    Examples
    --------
    >>> list(column_tokens(8, 2))
    [5, 6, 7, 8, 9]
    """
    return range(first_token + MASK, first_token + n_categories)
