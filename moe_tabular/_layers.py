"""Building blocks of the torch module: a cheaper dropout, and ensemble members
side by side (:class:`MemberLinear`, :class:`MemberLayerNorm`). Torch only.
"""

import torch
from torch import nn
from torch.nn import functional as F


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

    def forward(self, x: torch.Tensor, weight=None) -> torch.Tensor:
        """Map ``x``; ``weight``: one of the parameter's shape to use instead."""
        weight = self.weight if weight is None else weight
        members = x.reshape(-1, self.n_members, weight.shape[2]).transpose(0, 1)
        out = torch.baddbmm(self.bias[:, None], members, weight.transpose(1, 2))
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
