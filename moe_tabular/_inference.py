"""Running a fitted module over many rows: chunks of bounded memory, float64.

One place for what ``predict``, the lens and the imputer all do: copy the fitted
module to float64 (float32 sums vary in the last bits with the batch shape, and
predictions must not depend on which rows come along), cut the rows into
chunks whose activations fit a fixed budget, and write each chunk's result into
one preallocated output.
"""

import copy

import numpy as np
import torch

_CELLS = 2**22  # floats per chunk of rows: bounds the memory of one forward pass


def float64_copy(module):
    """A float64 copy of a fitted module, in eval mode; ``module`` is untouched."""
    return copy.deepcopy(module).double().eval()


def chunk_rows(per_row):
    """Rows per chunk for ``per_row`` floats of activations per row."""
    return max(1, _CELLS // max(1, per_row))


def in_chunks(module, codes, *, per_row, function):
    """Yield ``(rows, function(batch))`` over chunks of ``codes``.

    Parameters
    ----------
    module : torch.nn.Module
        Its device is where the batches go.
    codes : ndarray of int64, shape (n_samples, L)
    per_row : int
        Floats of activations per row (sets the chunk size).
    function : callable
        Maps a LongTensor batch of codes to the chunk's result.
    """
    device = next(module.parameters()).device
    step = chunk_rows(per_row)
    with torch.inference_mode():
        for start in range(0, len(codes), step):
            rows = slice(start, min(start + step, len(codes)))
            batch = torch.as_tensor(codes[rows], device=device)
            yield rows, function(batch)


def column_log_proba(module, codes, column, *, n_heads):
    """``log p(column | the rest)`` with ``column`` masked in ``codes``.

    Parameters
    ----------
    module : MaskedColumnAttention
        A float64 copy (see :func:`float64_copy`).
    codes : ndarray of int64, shape (n_samples, L)
        Per-column codes, ``codes[:, column]`` the MASK code (-3).
    column : int
    n_heads : int

    Returns
    -------
    log_proba : ndarray of float64, shape (n_samples, n_categories[column])
    """
    n_columns = codes.shape[1]
    offset = int(module.category_offsets[column])
    n_out = int(module.n_categories[column])
    out = np.empty((len(codes), n_out), dtype=np.float64)
    per_row = n_columns * n_columns * n_heads * len(module.blocks)
    per_row *= module.n_members  # ensemble members side by side

    def log_proba(batch):
        logits = module(batch, columns=[column])[:, 0, offset : offset + n_out]
        return torch.log_softmax(logits, dim=-1).cpu().numpy()

    for rows, values in in_chunks(module, codes, per_row=per_row, function=log_proba):
        out[rows] = values
    return out


def leave_one_out_log_proba(module, codes, *, n_heads):
    """Every column's log-probabilities, that column alone masked.

    Parameters
    ----------
    module : MaskedColumnAttention
        A float64 copy (see :func:`float64_copy`).
    codes : ndarray of int64, shape (n_samples, L)
    n_heads : int

    Returns
    -------
    log_proba : list of L ndarrays, shape (n_samples, n_categories[j])
    """
    offsets = module.category_offsets.tolist()
    counts = module.n_categories.tolist()
    n_columns = codes.shape[1]
    depth = n_columns if len(module.blocks) > 1 else 1  # deeper nets copy each row
    per_row = n_columns * (n_columns * n_heads * depth + module.n_tokens)
    per_row *= module.n_members  # ensemble members side by side
    out = [np.empty((len(codes), n), dtype=np.float64) for n in counts]

    def log_proba(batch):
        logits = module.leave_one_out_logits(batch)  # (B, L, n_tokens)
        return [
            torch.log_softmax(logits[:, j, o : o + n], dim=-1).cpu().numpy()
            for j, (o, n) in enumerate(zip(offsets, counts, strict=True))
        ]

    for rows, values in in_chunks(module, codes, per_row=per_row, function=log_proba):
        for j, value in enumerate(values):
            out[j][rows] = value
    return out


def resolve_device(device):
    """``device`` (what torch accepts, or "auto") as a :class:`torch.device`.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows ({exc}); pass e.g. "
            "'cpu', 'cuda', 'cuda:1', 'mps', a torch.device, or 'auto'."
        ) from None
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }.get(resolved.type, True)
    if not available:
        raise ValueError(
            f"device={device!r} was requested, but {resolved.type} is not available "
            "on this machine."
        )
    if resolved.type == "cuda" and resolved.index is not None:
        if resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    return resolved
