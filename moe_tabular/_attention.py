"""Masked-column attention, read as a mixture of column experts.

For one head, with ``h_j = token_embedding(x_j) + column_embedding[j]``::

    gates[i, j] = softmax_j( query(h_i) . key(h_j) / sqrt(d_head) )
    mixed[i]    = sum_j gates[i, j] * value(h_j)

``gates[i, :]`` are the mixture weights over the column experts used to predict
column ``i``; heads stack mixtures. :meth:`MixtureOfColumnExperts.leave_one_out`
computes every masked variant of a row in one pass, in one of two layouts of
its scores (:func:`scores_layout`). Torch only.
"""

import math
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F

from ._layers import _linear

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
