"""The torch module: :class:`MaskedColumnAttention`, a stack of attention blocks
over the columns of a tokenized table.

It owns the token layout (embeddings), the blocks (:class:`AttentionBlock`:
:mod:`~moe_tabular._attention`'s mixture of column experts, feed-forward,
residuals and LayerNorm) and the output. This module imports torch only.
"""

import math
from contextlib import nullcontext

import torch
from torch import nn

from ._attention import MixtureOfColumnExperts
from ._layers import Dropout, MemberLinear, _layer_norm, _linear
from ._vocabulary import N_RESERVED, token_layout


class AttentionBlock(nn.Module):
    """Transformer block: attention, feed-forward, residuals and LayerNorm.

    Parameters
    ----------
    d_embedding : int
    n_heads : int
    d_ffn : int
        Width of the feed-forward layer.
    dropout : float
    norm_first : bool
        False (the paper): LayerNorm after each residual; True: before.
    n_members : int, default=1
        Ensemble members side by side; ``d_embedding``, ``n_heads`` and
        ``d_ffn`` are each member's.
    """

    def __init__(
        self,
        *,
        d_embedding: int,
        n_heads: int,
        d_ffn: int,
        dropout: float,
        norm_first: bool,
        n_members: int = 1,
    ) -> None:
        super().__init__()
        self.experts = MixtureOfColumnExperts(
            d_embedding=n_members * d_embedding,
            n_heads=n_members * n_heads,
            n_members=n_members,
        )
        self.ffn = nn.Sequential(
            _linear(d_embedding, d_ffn, n_members),
            nn.ReLU(),
            _linear(d_ffn, d_embedding, n_members),
        )
        self.norm1 = _layer_norm(d_embedding, n_members)
        self.norm2 = _layer_norm(d_embedding, n_members)
        self.dropout = Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x, queries=None, masked=None):
        """Apply the block to the context ``x`` (batch, L, d).

        ``queries`` (batch, Q, d): compute only those positions (default: all of
        ``x``). ``masked`` (L, d): leave-one-out attention, position ``i`` of the
        output being position ``i`` of the copy in which it alone is masked.
        """
        norm = self.norm1 if self.norm_first else nn.Identity()
        if masked is not None:
            mixed, gates = self.experts.leave_one_out(norm(masked), norm(x))
            residual = masked.expand_as(x)
        else:
            residual = x if queries is None else queries
            mixed, gates = self.experts(norm(residual), norm(x))
        x = residual + self.dropout(mixed)
        if self.norm_first:
            return x + self.dropout(self.ffn(self.norm2(x))), gates
        x = self.norm1(x)
        return self.norm2(x + self.dropout(self.ffn(x))), gates


class MaskedColumnAttention(nn.Module):
    """Bidirectional attention over the columns of a tokenized table.

    The module owns the token layout: it takes per-column codes (what
    :class:`~moe_tabular.ColumnTokenizer` emits, the target appended) and adds
    each column's offset itself, as rtdl's ``CategoricalFeatureTokenizer``
    does. Code ``k >= 0`` is category ``k`` of its column; ``-3``, ``-2``,
    ``-1`` are the column's MASK, MISSING and UNKNOWN tokens.

    Parameters
    ----------
    n_categories : sequence of int, length L
        Number of categories of each column: the output at column ``i`` scores
        only its own categories.
    shared : sequence of bool, length L
        Columns that share one vocabulary (see :func:`token_layout`).
    d_embedding : int, default=20
    n_heads : int, default=5
    n_layers : int, default=1
    d_ffn : int, default=5
    dropout : float, default=0.1
    norm_first : bool, default=False
    n_members : int, default=1
        Ensemble members trained side by side in one module and one batch
        (each with its own weights, sizes as above): per-member projections
        (:class:`MemberLinear`), LayerNorm and output.
        Training reads each member's logits; prediction their mean
        probability, and the gates their mean.
    ordinal : sequence of bool, length L, default=None
        Columns whose categories are ordered. In a block of tokens all of
        whose columns are ordinal (a column's own, or the shared vocabulary),
        category ``k``'s embedding and output row are the sums of the stored
        rows ``0 .. k`` (a thermometer code: neighbouring categories share
        what they learn). None: no column.
    generator : torch.Generator, default=None
        Draws the initial weights; torch's global generator when None.

    Attributes
    ----------
    category_offsets : LongTensor of shape (L,)
        Token id of category 0 of each column (a buffer).
    n_tokens : int
        Vocabulary size.

    Examples
    --------
    >>> import torch
    >>> model = MaskedColumnAttention(
    ...     n_categories=[2, 4], shared=[False, False], d_embedding=8, n_heads=2)
    >>> model.category_offsets.tolist(), model.n_tokens
    ([3, 8], 12)
    >>> codes = torch.tensor([[0, 1], [1, -3]])  # row 2: column 1 masked
    >>> logits, gates = model(codes, return_gates=True)
    >>> logits.shape, len(gates), gates[0].shape
    (torch.Size([2, 2, 12]), 1, torch.Size([2, 2, 2, 2]))
    >>> model.leave_one_out_logits(codes).shape
    torch.Size([2, 2, 12])
    """

    def __init__(
        self,
        *,
        n_categories,
        shared,
        d_embedding: int = 20,
        n_heads: int = 5,
        n_layers: int = 1,
        d_ffn: int = 5,
        dropout: float = 0.1,
        norm_first: bool = False,
        n_members: int = 1,
        ordinal=None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if n_members < 1:
            raise ValueError(f"{n_members=} must be at least 1.")
        self.n_members = n_members
        offsets_list, n_tokens = token_layout(n_categories, shared)
        offsets = torch.as_tensor(offsets_list, dtype=torch.long)
        counts = torch.as_tensor(list(map(int, n_categories)), dtype=torch.long)
        if offsets.ndim != 1 or len(offsets) == 0 or bool((counts < 0).any()):
            raise ValueError(f"{n_categories=} must be non-negative, one per column.")
        self.n_tokens = n_tokens
        n_columns = len(offsets)
        token_ids = torch.arange(n_tokens)
        # the layout, saved with the weights so that a loader can check it
        self.register_buffer("n_categories", counts)
        self.register_buffer(
            "shared", torch.as_tensor(list(map(bool, shared)), dtype=torch.bool)
        )
        # derived from the two above: not saved
        self.register_buffer("category_offsets", offsets, persistent=False)
        self.register_buffer("mask_tokens", offsets - N_RESERVED, persistent=False)
        self.register_buffer(  # (L, n_tokens): which outputs column i may score
            "output_mask",
            (token_ids >= offsets[:, None]) & (token_ids < (offsets + counts)[:, None]),
            persistent=False,
        )
        # (L, K), K the largest vocabulary: token id of column i's k-th category
        # (padding repeats a real id: a column without categories, which may
        # end the vocabulary, pads with its MASK token) and whether it is one
        k = torch.arange(max(1, int(counts.max())))
        last = (counts[:, None] - 1).clamp_min(0)
        column_tokens = torch.where(
            counts[:, None] > 0,
            offsets[:, None] + torch.minimum(k, last),
            (offsets - N_RESERVED)[:, None],
        )
        self.register_buffer("column_tokens", column_tokens, persistent=False)
        self.register_buffer("column_valid", k < counts[:, None], persistent=False)
        ids, starts = _ordinal_tokens(offsets_list, counts.tolist(), ordinal)
        self.register_buffer("ordinal_ids", ids, persistent=False)
        self.register_buffer("ordinal_starts", starts, persistent=False)
        # torch's layers draw default weights from the global generator; with a
        # generator of our own they are redrawn below and the global one is
        # left as it was
        own = generator is not None
        keep = torch.random.fork_rng(devices=[]) if own else nullcontext()
        with keep:
            width = n_members * d_embedding
            self.token_embedding = nn.Embedding(n_tokens, width)
            self.column_embedding = nn.Parameter(torch.empty(n_columns, width))
            self.blocks = nn.ModuleList(
                AttentionBlock(
                    d_embedding=d_embedding,
                    n_heads=n_heads,
                    d_ffn=d_ffn,
                    dropout=dropout,
                    norm_first=norm_first,
                    n_members=n_members,
                )
                for _ in range(n_layers)
            )
            self.final_norm = (
                _layer_norm(d_embedding, n_members) if norm_first else None
            )
            self.output = _linear(d_embedding, n_tokens, n_members)
        self.reset_parameters(generator)

    def tokens(self, codes):
        """Global token ids of per-column ``codes`` (batch, L)."""
        return codes + self.category_offsets

    def token_vectors(self):
        """The embedding of every token (n_tokens, width).

        The stored rows, except the categories of ordinal blocks (see
        ``ordinal``), which are their running sums.
        """
        return self._cumulate(self.token_embedding.weight)

    def output_weight(self):
        """The output layer's weight, the rows of ordinal categories cumulated."""
        return self._cumulate(self.output.weight)

    def _cumulate(self, weight):
        # rows (dim -2) of ordinal categories: category k of a block is the
        # sum of the block's stored rows 0 .. k
        if self.ordinal_ids.numel() == 0:
            return weight
        rows = weight.index_select(-2, self.ordinal_ids)
        total = rows.cumsum(-2)
        start = self.ordinal_starts
        cumulative = total - total[..., start, :] + rows[..., start, :]
        return weight.index_copy(-2, self.ordinal_ids, cumulative)

    def embed(self, tokens):
        """Token plus column embedding of global token ids (..., L)."""
        table = self.token_vectors()
        return nn.functional.embedding(tokens, table) + self.column_embedding

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Keras' initialisers, which the paper's results depend on.

        Embeddings uniform(-0.05, 0.05), position embeddings and dense layers
        glorot-uniform with zero biases. One departure: the attention
        projections are glorot on their ``d x d`` matrices, where Keras'
        ``MultiHeadAttention`` computes the fans on ``(d, heads, d_head)``
        kernels (a smaller scale; ``benchmarks/paper/reference.py`` has it).

        Parameters
        ----------
        generator : torch.Generator, default=None
            Draws the weights; torch's global generator when None.
        """
        nn.init.uniform_(self.token_embedding.weight, -0.05, 0.05, generator=generator)
        for member in self.column_embedding.chunk(self.n_members, dim=1):
            nn.init.xavier_uniform_(member, generator=generator)
        for module in self.modules():
            if isinstance(module, MemberLinear):
                # glorot of each member's own (out, in) matrix
                fan_out, fan_in = module.weight.shape[-2:]
                bound = math.sqrt(6 / (fan_in + fan_out))
                nn.init.uniform_(module.weight, -bound, bound, generator=generator)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight, generator=generator)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                module.reset_parameters()

    def _logits(self, hidden, columns=None):
        if self.final_norm is not None:
            hidden = self.final_norm(hidden)
        if self.n_members > 1:
            logits = self.output(hidden, self.output_weight())
        else:
            logits = nn.functional.linear(
                hidden, self.output_weight(), self.output.bias
            )
        mask = self.output_mask if columns is None else self.output_mask[columns]
        if self.n_members > 1:
            # the ensemble: log of the members' mean probability
            logits = logits.unflatten(-1, (self.n_members, -1)).movedim(-2, 0)
            log_p = torch.log_softmax(logits.masked_fill(~mask, float("-inf")), -1)
            logits = torch.logsumexp(log_p, 0) - math.log(self.n_members)
        return logits.masked_fill(~mask, float("-inf"))

    def _column_logits(self, hidden):
        # hidden (B, L, d) -> (B, L, K): each column scores its own categories
        # only, O(L * K) per row instead of O(L * n_tokens) (many columns with
        # their own vocabularies make n_tokens large). Computed class-first,
        # (K, B, L), and returned as a (B, L, K) view of it: the engine's
        # cross-entropy then normalises over the leading (class) dim of a
        # contiguous tensor, several times faster on CPU than over a short
        # last dim.
        if self.final_norm is not None:
            hidden = self.final_norm(hidden)
        if self.n_members > 1:
            return self._member_column_logits(hidden)
        n_rows, n_columns, d_embedding = hidden.shape
        token_ids = self.column_tokens.T  # (K, L)
        if 2 * token_ids.shape[0] > self.output.out_features:
            # few tokens (shared vocabularies): one matrix product is faster
            logits = torch.addmm(
                self.output.bias[:, None],
                self.output_weight(),
                hidden.reshape(-1, d_embedding).T,
            ).view(-1, n_rows, n_columns)  # (n_tokens, B, L)
            logits = logits.gather(0, token_ids[:, None].expand(-1, n_rows, -1))
        else:
            weight = self.output_weight()[self.column_tokens]  # (L, K, d)
            logits = torch.einsum("lkd,bld->kbl", weight, hidden)
            logits = logits + self.output.bias[token_ids][:, None]
        logits = logits.masked_fill(~self.column_valid.T[:, None], float("-inf"))
        return logits.permute(1, 2, 0)

    def _member_column_logits(self, hidden):
        # _column_logits of every member, members folded into the batch
        # (member-major): (M * B, L, K), a view of a class-first tensor
        n_rows, n_columns, _ = hidden.shape
        token_ids = self.column_tokens.T  # (K, L)
        members = hidden.unflatten(-1, (self.n_members, -1))  # (B, L, M, d)
        weight = self.output_weight()[:, self.column_tokens]  # (M, L, K, d)
        logits = torch.einsum("mlkd,blmd->kmbl", weight, members)
        bias = self.output.bias[:, token_ids]  # (M, K, L)
        logits = logits + bias.transpose(0, 1)[:, :, None]
        logits = logits.masked_fill(~self.column_valid.T[:, None, None], float("-inf"))
        return logits.flatten(1, 2).permute(1, 2, 0)

    def set_generator(self, generator: torch.Generator | None) -> None:
        """Draw every dropout mask from ``generator`` (None: torch's global one).

        One generator per fit keeps fits that run at once in one process
        (threads) independent and reproducible. On CPU only: other devices use
        torch's own dropout and its global generator.
        """
        for module in self.modules():
            if isinstance(module, Dropout):
                module.generator = generator

    def forward(self, codes, columns=None, return_gates=False):
        """Logits for the given (partly masked) per-column codes.

        Parameters
        ----------
        codes : LongTensor of shape (batch, L)
            Category index of each column, or -3 (MASK), -2 (MISSING), -1
            (UNKNOWN).
        columns : sequence of int, default=None
            Positions to score; all of them when None.
        return_gates : bool, default=False

        Returns
        -------
        logits : Tensor of shape (batch, len(columns) or L, n_tokens)
            ``-inf`` outside each column's own categories.
        gates : list of Tensor, one per layer
            Shape (batch, n_heads, L, L); the last layer's has only the asked
            ``columns`` as rows. Only when ``return_gates`` is True.
        """
        x = self.embed(self.tokens(codes))
        if columns is not None:
            columns = torch.as_tensor(columns, dtype=torch.long, device=x.device)
        all_gates = []
        for depth, block in enumerate(self.blocks):
            last = depth == len(self.blocks) - 1
            queries = x[:, columns] if last and columns is not None else None
            x, gates = block(x, queries=queries)  # the last block: asked positions only
            if self.n_members > 1:  # (B, M * H, Q, L) -> the members' mean
                gates = gates.unflatten(1, (self.n_members, -1)).mean(1)
            all_gates.append(gates)
        logits = self._logits(x, columns)
        return (logits, all_gates) if return_gates else logits

    def leave_one_out_logits(self, codes, by_column=False):
        """Logits of every column predicted from all the others (it alone masked).

        The masked-column objective of one row in one call. A single layer uses
        the shared pass of :meth:`MixtureOfColumnExperts.leave_one_out`; deeper
        models run the ``L`` masked copies of each row in the batch.

        Parameters
        ----------
        codes : LongTensor of shape (batch, L)
            Per-column codes, as for :meth:`forward`.
        by_column : bool, default=False
            Score each column's own categories only (what training needs).

        Returns
        -------
        logits : Tensor of shape (batch, L, n_tokens), or (batch, L, K) \
                if ``by_column``
            ``logits[b, i]``: column ``i`` of row ``b`` with column ``i`` masked;
            ``-inf`` outside column ``i``'s categories. With ``by_column``,
            entry ``k`` is column ``i``'s category ``k`` (token
            ``category_offsets[i] + k``); K is the largest vocabulary. The
            ``by_column`` logits are a view of a class-first (K, batch, L)
            tensor: ``logits.permute(2, 0, 1)`` is contiguous.
        """
        tokens = self.tokens(codes)
        n_rows, n_columns = tokens.shape
        logits = self._column_logits if by_column else self._logits
        if len(self.blocks) == 1:
            x = self.embed(tokens)
            masked = self.embed(self.mask_tokens)
            x, _ = self.blocks[0](x, masked=masked)
            return logits(x)
        eye = torch.eye(n_columns, dtype=torch.bool, device=tokens.device)
        copies = torch.where(eye, self.mask_tokens, tokens[:, None, :])  # (B, L, L)
        x = self.embed(copies)
        for block in self.blocks:
            x, _ = block(x.flatten(0, 1))
            x = x.unflatten(0, (n_rows, n_columns))
        hidden = torch.diagonal(x, dim1=1, dim2=2).transpose(1, 2)  # (B, L, d)
        return logits(hidden)


def _ordinal_tokens(offsets, counts, ordinal):
    """Token ids of the ordinal blocks' categories, and each one's block start.

    A block (the tokens of one column, or of the columns sharing a
    vocabulary) is ordinal when every column in it is. Returns two LongTensors
    of equal length: the ids, block after block in category order, and for each
    the position (in the ids) of its block's category 0.
    """
    if ordinal is None:
        ordinal = [False] * len(offsets)
    if len(ordinal) != len(offsets):
        raise ValueError(f"{len(ordinal)=} and {len(offsets)=} must match.")
    blocks = {}
    for offset, count, is_ordinal in zip(offsets, counts, ordinal, strict=True):
        size, all_ordinal = blocks.get(offset, (0, True))
        blocks[offset] = (max(size, count), all_ordinal and bool(is_ordinal))
    ids, starts = [], []
    for offset, (size, is_ordinal) in sorted(blocks.items()):
        if is_ordinal and size > 1:
            starts += [len(ids)] * size
            ids += range(offset, offset + size)
    return torch.as_tensor(ids, dtype=torch.long), torch.as_tensor(
        starts, dtype=torch.long
    )
