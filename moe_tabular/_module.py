"""The torch module: masked-column attention, read as a mixture of column experts.

For one head, with ``h_j = token_embedding(x_j) + column_embedding[j]``::

    gates[i, j] = softmax_j( query(h_i) . key(h_j) / sqrt(d_head) )
    mixed[i]    = sum_j gates[i, j] * value(h_j)

``gates[i, :]`` are the mixture weights over the column experts used to predict
column ``i``; heads stack mixtures, layers mix them. This module imports torch only.
"""

import math
from contextlib import contextmanager, nullcontext

import torch
from torch import nn
from torch.nn import functional as F

from ._vocabulary import N_RESERVED, token_layout

# leave-one-out attention lays its scores out head-first from this many columns
# (the target included) on; column-first below, where it is faster on CPU
# (python -m benchmarks profile --layout ...: level at 8 columns, head-first
# 18-38% faster per step from 10 to 48 columns, 38% slower at 6)
_HEAD_FIRST_COLUMNS = 9
_forced_layout = None  # set only inside forced_scores_layout()


def scores_layout(n_columns: int) -> str:
    """The layout of the leave-one-out scores for ``n_columns`` (target included).

    ``"head-first"`` from ``_HEAD_FIRST_COLUMNS`` columns on, else
    ``"column-first"``; inside :func:`forced_scores_layout`, the layout it forces.

    Examples
    --------
    >>> scores_layout(6), scores_layout(21)
    ('column-first', 'head-first')
    """
    if _forced_layout is not None:
        return _forced_layout
    return "head-first" if n_columns >= _HEAD_FIRST_COLUMNS else "column-first"


@contextmanager
def forced_scores_layout(layout: str):
    """Lay out every module's leave-one-out scores as ``layout`` inside the block.

    For profiling both layouts at one commit (``python -m benchmarks profile
    --layout``); ``"auto"`` keeps the choice by the number of columns.

    Examples
    --------
    >>> with forced_scores_layout("head-first"):
    ...     scores_layout(6)
    'head-first'
    >>> scores_layout(6)
    'column-first'
    """
    global _forced_layout
    if layout not in ("auto", "column-first", "head-first"):
        raise ValueError(f"layout must be auto, column-first or head-first; {layout=}")
    previous, _forced_layout = _forced_layout, None if layout == "auto" else layout
    try:
        yield
    finally:
        _forced_layout = previous


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` with a cheaper mask on CPU.

    On CPU torch draws one Bernoulli sample per element, the costliest single
    op of a training step in profiles; this draws 64 random bits per four
    elements and keeps an element when its 16 bits clear a threshold. The drop
    probability is ``p`` rounded to a multiple of 1/65536. Other devices,
    ``inplace``, and ``p`` of 0 or 1 use torch's own dropout.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> dropout = Dropout(0.25).train()
    >>> kept = dropout(torch.ones(100_000)) != 0
    >>> round(kept.float().mean().item(), 2)
    0.75
    """

    generator: torch.Generator | None = None  # see set_generator of the model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        trivial = not self.training or self.p in (0, 1)
        if trivial or self.inplace or x.device.type != "cpu":
            return super().forward(x)
        n = x.numel()
        bits = torch.empty((n + 3) // 4, dtype=torch.int64)
        bits = bits.random_(-(2**63), None, generator=self.generator)
        threshold = round(self.p * 65536) - 32768
        # a float mask (bits - threshold + 1 clamped to [0, 1]): comparisons
        # and torch.where are several times slower than float arithmetic on CPU
        scale = bits.view(torch.int16)[:n].view(x.shape).to(x.dtype)
        scale = scale.add_(1 - threshold).clamp_(0, 1).mul_(1 / (1 - self.p))
        return x * scale


class MemberLinear(nn.Module):
    """``n_members`` independent linear maps side by side.

    Member ``m`` maps features ``[m * in_features, (m + 1) * in_features)``
    of the input to outputs ``[m * out_features, (m + 1) * out_features)``,
    all members in one batched product.

    Examples
    --------
    >>> import torch
    >>> layer = MemberLinear(3, 2, n_members=4)
    >>> layer.weight.shape, layer(torch.randn(5, 12)).shape
    (torch.Size([4, 2, 3]), torch.Size([5, 8]))
    """

    def __init__(self, in_features: int, out_features: int, *, n_members: int):
        super().__init__()
        self.n_members = n_members
        self.weight = nn.Parameter(torch.empty(n_members, out_features, in_features))
        self.bias = nn.Parameter(torch.empty(n_members, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        members = x.reshape(-1, self.n_members, self.weight.shape[2]).transpose(0, 1)
        out = torch.baddbmm(self.bias[:, None], members, self.weight.transpose(1, 2))
        return out.transpose(0, 1).reshape(*x.shape[:-1], -1)


class MemberLayerNorm(nn.LayerNorm):
    """LayerNorm over each member's own features (``n_members`` side by side).

    Examples
    --------
    >>> import torch
    >>> norm = MemberLayerNorm(4, n_members=2)
    >>> out = norm(torch.randn(3, 8))
    >>> bool(out[:, :4].mean(-1).abs().max() < 1e-5)
    True
    """

    def __init__(self, d: int, *, n_members: int, eps: float = 1e-6):
        super().__init__(n_members * d, eps=eps)
        self.n_members = n_members

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        members = x.unflatten(-1, (self.n_members, -1))
        normed = F.layer_norm(members, members.shape[-1:], eps=self.eps)
        return torch.addcmul(self.bias, normed.flatten(-2), self.weight)


def _linear(in_features, out_features, n_members):
    if n_members == 1:
        return nn.Linear(in_features, out_features)
    return MemberLinear(in_features, out_features, n_members=n_members)


def _layer_norm(d, n_members):
    if n_members == 1:
        return nn.LayerNorm(d, eps=1e-6)
    return MemberLayerNorm(d, n_members=n_members)


class _LeaveOneOutGates(torch.autograd.Function):
    """Gates of every masked variant of a row, from one score matrix.

    ``forward(k, q, own, n_rows)``: ``k`` (H, B * L, d_head) the context keys,
    ``q`` (H, d_head, L) the masked queries, ``own`` (H, L) each masked
    query's score against its own (masked) key. Returns ``gates`` (H, B, j, i),
    the softmax over key ``j`` of ``k @ q`` with its diagonal swapped for
    ``own``, and their diagonal ``self_gates`` (H, B, i). One function with a
    hand-written backward, so that neither the swap nor the diagonal read
    costs a full-size copy or zero-filled gradient: at forty columns those
    took a third of a training step.
    """

    @staticmethod
    def forward(ctx, k, q, own, n_rows):
        n_heads, n_columns = own.shape
        scores = torch.bmm(k, q).view(n_heads, n_rows, n_columns, n_columns)
        scores.diagonal(dim1=2, dim2=3).copy_(own[:, None])
        gates = torch.softmax(scores, dim=2)
        self_gates = gates.diagonal(dim1=2, dim2=3).clone()
        ctx.save_for_backward(k, q, gates, self_gates)
        return gates, self_gates

    @staticmethod
    def backward(ctx, grad_gates, grad_self_gates):
        k, q, gates, self_gates = ctx.saved_tensors
        if grad_gates is None:
            grad = torch.zeros_like(gates)
        else:
            grad = torch._softmax_backward_data(grad_gates, gates, 2, gates.dtype)
        if grad_self_gates is not None:
            # d self_gate_i / d score_ji = g_ii (delta_ji - g_ji)
            scaled = grad_self_gates * self_gates  # (H, B, i)
            grad.addcmul_(gates, scaled[:, :, None, :], value=-1)
            grad.diagonal(dim1=2, dim2=3).add_(scaled)
        diagonal = grad.diagonal(dim1=2, dim2=3)
        grad_own = diagonal.sum(1)
        diagonal.zero_()  # the swapped-out scores do not reach the loss
        grad = grad.view(k.shape[0], k.shape[1], -1)  # (H, B * j, i)
        grad_k = torch.bmm(grad, q.transpose(1, 2)) if ctx.needs_input_grad[0] else None
        grad_q = torch.bmm(k.transpose(1, 2), grad) if ctx.needs_input_grad[1] else None
        return grad_k, grad_q, grad_own, None


class MixtureOfColumnExperts(nn.Module):
    """Multi-head attention over columns, exposing its gates.

    Parameters
    ----------
    d_embedding : int
        Size of the token and column embeddings (of all members together).
    n_heads : int
        Number of heads (stacked mixtures; of all members together); must
        divide ``d_embedding``.
    n_members : int, default=1
        Ensemble members side by side: each has its own projections
        (:class:`MemberLinear`), member ``m`` owning heads ``[m * n_heads /
        n_members, ...)``.

    Examples
    --------
    >>> import torch
    >>> experts = MixtureOfColumnExperts(d_embedding=8, n_heads=2)
    >>> mixed, gates = experts(torch.randn(3, 5, 8), torch.randn(3, 5, 8))
    >>> mixed.shape, gates.shape
    (torch.Size([3, 5, 8]), torch.Size([3, 2, 5, 5]))
    """

    def __init__(self, *, d_embedding: int, n_heads: int, n_members: int = 1) -> None:
        super().__init__()
        if d_embedding % n_heads or n_heads % n_members:
            raise ValueError(f"{n_heads=} must divide {d_embedding=}.")
        self.n_heads = n_heads
        d = d_embedding // n_members
        self.query = _linear(d, d, n_members)
        self.key = _linear(d, d, n_members)
        self.value = _linear(d, d, n_members)
        self.out = _linear(d, d, n_members)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        # (..., L, d) -> (..., n_heads, L, d_head)
        return x.unflatten(-1, (self.n_heads, -1)).transpose(-3, -2)

    def forward(self, queries, context):
        """Mix ``context`` positions for every query position.

        Parameters
        ----------
        queries : Tensor of shape (batch, L, d_embedding)
        context : Tensor of shape (batch, L, d_embedding)

        Returns
        -------
        mixed : Tensor of shape (batch, L, d_embedding)
        gates : Tensor of shape (batch, n_heads, L, L)
            Rows sum to one: the expert weights.
        """
        q = self._heads(self.query(queries))
        k = self._heads(self.key(context))
        v = self._heads(self.value(context))
        gates = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        return self.out((gates @ v).transpose(-3, -2).flatten(-2)), gates

    def leave_one_out(self, masked, context):
        """For every ``i``: attention at ``i`` when position ``i`` alone is masked.

        Only the masked token's query, key and value differ between the ``L``
        masked variants of a row, so all of them are read off one ``L x L`` score
        matrix whose diagonal is swapped for the masked entries.

        Parameters
        ----------
        masked : Tensor of shape (L, d_embedding)
            The masked input at each position (MASK token + column embedding).
        context : Tensor of shape (batch, L, d_embedding)
            The unmasked inputs.

        Returns
        -------
        mixed : Tensor of shape (batch, L, d_embedding)
            Row ``i`` is the attention output at ``i`` of the variant masking ``i``.
        gates : Tensor of shape (batch, n_heads, L, L)
        """
        n_columns, d_embedding = masked.shape
        n_heads, d_head = self.n_heads, d_embedding // self.n_heads
        q = self.query(masked).view(n_columns, n_heads, d_head) / math.sqrt(d_head)
        k_masked = self.key(masked).view(n_columns, n_heads, d_head)
        v_masked = self.value(masked).view(n_columns, n_heads, d_head)
        v = self.value(context).view(*context.shape[:2], n_heads, d_head)
        # on CPU torch multiplies batches of matrices this small (contraction x
        # rows x columns under 400) in a scalar loop; where at most half a head
        # of zero padding lifts them past it, forward and backward go to BLAS
        pad = max(0, -(-400 // n_columns**2) - d_head)
        pad = pad if 2 * pad <= d_head and context.device.type == "cpu" else 0
        # two layouts of the same product; which is faster on CPU depends on L
        # (``python -m benchmarks profile --features N --layout ...`` times each)
        head_first = scores_layout(n_columns) == "head-first"
        layout = self._head_first if head_first else self._column_first
        mixed, gates = layout(q, k_masked, v_masked, v, context, pad)
        return self.out(mixed), gates

    def _column_first(self, q, k_masked, v_masked, v, context, pad):
        """:meth:`leave_one_out` for few columns: (B, j, H, i) scores."""
        n_rows, n_columns, n_heads, d_head = v.shape
        # Laid out for small L on CPU: the scores of all heads are one matrix
        # product with a block-diagonal query matrix, and the softmax runs over
        # dim 1 (key position), which is far faster than a short last dim.
        queries = torch.block_diag(*q.permute(1, 2, 0))  # (H * dh, H * L)
        scores = self.key(context).flatten(0, 1) @ queries
        scores = scores.view(n_rows, n_columns, n_heads, n_columns)  # (B,j,H,i)
        own = (q * k_masked).sum(-1).T  # (H, L): masked query . masked key
        # swap the diagonal for ``own`` with float products (torch.where is
        # several times slower on CPU)
        eye = torch.eye(n_columns, dtype=scores.dtype, device=scores.device)
        scores = scores * (1 - eye)[:, None, :] + eye[:, None, :] * own
        gates = torch.softmax(scores, dim=1).permute(0, 2, 3, 1)  # (B, H, i, j)
        v_heads = F.pad(v, (0, pad)).transpose(1, 2)  # (B, H, j, dh + pad)
        mixed = (gates @ v_heads)[..., :d_head]  # (B, H, i, dh)
        self_gate = torch.diagonal(gates, dim1=2, dim2=3).unsqueeze(-1)  # (B,H,i,1)
        mixed = mixed + self_gate * (v_masked.transpose(0, 1) - v.transpose(1, 2))
        return mixed.transpose(1, 2).flatten(-2), gates

    def _head_first(self, q, k_masked, v_masked, v, context, pad):
        """:meth:`leave_one_out` for many columns: (H, B, j, i) scores."""
        n_rows, n_columns, n_heads, d_head = v.shape
        # (H, B, j, i): the scores of a head are one product with the L masked
        # queries (no block-diagonal zeros), the softmax runs over dim 2 (key
        # position), and the gates need no permuted copy; the diagonal swap
        # and read are one autograd Function (see _LeaveOneOutGates).
        # Keys (H, B * j, dh) contiguous: a strided batch takes a slow matmul.
        k = self.key(context).view(-1, n_heads, d_head).transpose(0, 1).contiguous()
        own = (q * k_masked).sum(-1).T  # (H, L): masked query . masked key
        gates, self_gate = _LeaveOneOutGates.apply(
            k, q.permute(1, 2, 0).contiguous(), own, n_rows
        )  # (H, B, j, i) and (H, B, i)
        # values^T @ gates, (dh, j) @ (j, i) per row and head: the gradient of
        # the gates then comes back in their own (j, i) layout, not transposed
        v_t = F.pad(v, (0, pad)).permute(2, 0, 3, 1).flatten(0, 1)  # (H*B,dh+,j)
        mixed = torch.bmm(v_t, gates.view(-1, n_columns, n_columns))[:, :d_head]
        mixed = mixed.view(n_heads, n_rows, d_head, n_columns)  # (H, B, dh, i)
        delta = v_masked.permute(1, 2, 0)[:, None] - v.permute(2, 0, 3, 1)
        mixed = mixed + self_gate.unsqueeze(2) * delta
        # (B, i, H * dh) and the gates as (B, H, i, j)
        return mixed.permute(1, 3, 0, 2).flatten(-2), gates.permute(1, 0, 3, 2)


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
        logits = self.output(hidden)
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
                self.output.weight,
                hidden.reshape(-1, d_embedding).T,
            ).view(-1, n_rows, n_columns)  # (n_tokens, B, L)
            logits = logits.gather(0, token_ids[:, None].expand(-1, n_rows, -1))
        else:
            weight = self.output.weight[self.column_tokens]  # (L, K, d)
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
        weight = self.output.weight[:, self.column_tokens]  # (M, L, K, d)
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
        x = self.token_embedding(self.tokens(codes)) + self.column_embedding
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
            x = self.token_embedding(tokens) + self.column_embedding
            masked = self.token_embedding(self.mask_tokens) + self.column_embedding
            x, _ = self.blocks[0](x, masked=masked)
            return logits(x)
        eye = torch.eye(n_columns, dtype=torch.bool, device=tokens.device)
        copies = torch.where(eye, self.mask_tokens, tokens[:, None, :])  # (B, L, L)
        x = self.token_embedding(copies) + self.column_embedding
        for block in self.blocks:
            x, _ = block(x.flatten(0, 1))
            x = x.unflatten(0, (n_rows, n_columns))
        hidden = torch.diagonal(x, dim1=1, dim2=2).transpose(1, 2)  # (B, L, d)
        return logits(hidden)
