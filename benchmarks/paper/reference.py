"""The paper's tabular procedure, ported plainly from Keras to torch.

This is the *baseline* of ``benchmarks/perf/``: what Wibisono and Wang (UAI 2023) ran,
as in their notebook code (``attention_model_adam.py`` of their public repository,
built on the Keras "End-to-end Masked Language Modeling with BERT" example). It is
written the way the Keras code runs, one Python-level optimizer step per batch of
128 masked copies, and deliberately not optimised beyond that.

What is reproduced, Keras default by Keras default:

- Tokens: every column (features, then the target last) already holds quantile
  bin indices ``0 .. n_cat - 1``; all columns share that one vocabulary, and
  ``n_cat`` is the MASK token (``Embedding(n_cat + 1, 20)``).
- Embeddings: token embedding ``uniform(-0.05, 0.05)`` (Keras ``Embedding``);
  learned position embedding of shape ``(L, 20)`` with ``glorot_uniform``
  (``keras_nlp.layers.PositionEmbedding``); summed.
- One post-LN block: ``MultiHeadAttention(num_heads=5, key_dim=20 // 5)`` with
  biases (zero) and glorot-uniform kernels whose fans are computed on Keras'
  ``EinsumDense`` kernel shapes (``(20, 5, 4)`` for query/key/value and
  ``(5, 4, 20)`` for the output, so the limits are ``sqrt(6 / 180)`` and
  ``sqrt(6 / 120)``, not those of a 20 x 20 matrix), no attention-probability
  dropout; ``Dropout(0.1)``; ``LayerNormalization(eps=1e-6)(x + attention)``;
  feed-forward ``Dense(5, relu) -> Dense(20)``; ``Dropout(0.1)``;
  ``LayerNormalization(eps=1e-6)(a + ffn)``.
- Head: ``Dense(n_cat, softmax)`` at every position.
- Training: every row copied ``L`` times, copy ``i`` with column ``i`` set to
  MASK; labels are the unmasked row and the sample weight is 1 at the masked
  position only. Keras' ``sparse_categorical_crossentropy`` with a 2-D
  sample weight and the default ``sum_over_batch_size`` reduction: the weighted
  sum divided by ``batch * L``. ``Adam()`` defaults (lr 1e-3, betas 0.9/0.999,
  epsilon 1e-7); ``fit(epochs=200, batch_size=128)`` with Keras' default shuffle
  every epoch and a smaller last batch; no early stopping.
- Prediction: the target (last) column masked, argmax over the ``n_cat``
  outputs at that position.

Known, harmless departures: torch's Adam applies epsilon to the bias-corrected
second moment (Keras 2 to the uncorrected one); the log-softmax is exact where
Keras clips probabilities at 1e-7; the masked copies are built with vectorised
numpy instead of the notebook's Python double loop; prediction masks only the
target column (the notebook predicted all ``L`` copies of each test row and kept
the target's, ``L`` times the work), so the reference's predict is if anything
flattered. Random streams differ from TensorFlow's, so results match the paper
per seed only statistically.
"""

import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["KerasBertMLM", "PaperReferenceClassifier", "masked_copies"]


def _glorot_(tensor, fan_in, fan_out):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-limit, limit)


def _keras_fans(shape):
    """Keras' ``compute_fans``: trailing two axes, times the rest as receptive field."""
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class KerasBertMLM(nn.Module):
    """The paper's one-block BERT-style MLM (Keras layers, Keras initialisers).

    Parameters
    ----------
    n_cat : int
        Tokens per column (shared vocabulary); token ``n_cat`` is MASK.
    seq_len : int
        Number of columns ``L`` (features plus target).
    embed_dim : int, default=20
    num_heads : int, default=5
    ff_dim : int, default=5
    dropout : float, default=0.1

    Input ``(batch, L)`` int64 tokens; output ``(batch, L, n_cat)`` logits (the
    softmax of Keras' ``Dense(n_cat, activation="softmax")`` is left to the loss).
    """

    def __init__(
        self, n_cat, seq_len, *, embed_dim=20, num_heads=5, ff_dim=5, dropout=0.1
    ):
        super().__init__()
        key_dim = embed_dim // num_heads
        self.num_heads, self.key_dim = num_heads, key_dim
        self.word_embedding = nn.Embedding(n_cat + 1, embed_dim)
        self.position_embedding = nn.Parameter(torch.empty(seq_len, embed_dim))
        inner = num_heads * key_dim
        self.query = nn.Linear(embed_dim, inner)
        self.key = nn.Linear(embed_dim, inner)
        self.value = nn.Linear(embed_dim, inner)
        self.attention_output = nn.Linear(inner, embed_dim)
        self.att_dropout = nn.Dropout(dropout)
        self.att_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dim, ff_dim), nn.ReLU(), nn.Linear(ff_dim, embed_dim)
        )
        self.ffn_dropout = nn.Dropout(dropout)
        self.ffn_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.mlm_cls = nn.Linear(embed_dim, n_cat)
        self.reset_parameters()

    def reset_parameters(self):
        embed_dim = self.word_embedding.embedding_dim
        nn.init.uniform_(self.word_embedding.weight, -0.05, 0.05)
        _glorot_(self.position_embedding, *_keras_fans(self.position_embedding.shape))
        # EinsumDense kernels: (embed, heads, key_dim) in, (heads, key_dim, embed) out
        qkv_fans = _keras_fans((embed_dim, self.num_heads, self.key_dim))
        for dense in (self.query, self.key, self.value):
            _glorot_(dense.weight, *qkv_fans)
        _glorot_(
            self.attention_output.weight,
            *_keras_fans((self.num_heads, self.key_dim, embed_dim)),
        )
        for dense in (self.ffn[0], self.ffn[2], self.mlm_cls):
            _glorot_(dense.weight, dense.in_features, dense.out_features)
        for dense in (
            self.query,
            self.key,
            self.value,
            self.attention_output,
            self.ffn[0],
            self.ffn[2],
            self.mlm_cls,
        ):
            nn.init.zeros_(dense.bias)

    def _heads(self, x):
        return x.unflatten(-1, (self.num_heads, self.key_dim)).transpose(1, 2)

    def forward(self, tokens):
        x = self.word_embedding(tokens) + self.position_embedding
        q = self._heads(self.query(x)) / math.sqrt(self.key_dim)  # Keras scales q
        k, v = self._heads(self.key(x)), self._heads(self.value(x))
        probs = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
        attended = (probs @ v).transpose(1, 2).flatten(-2)
        a = self.att_norm(x + self.att_dropout(self.attention_output(attended)))
        h = self.ffn_norm(a + self.ffn_dropout(self.ffn(a)))
        return self.mlm_cls(h)


def masked_copies(tokens, mask_token):
    """The notebook's ``get_masked_input_and_labels``, vectorised.

    Parameters
    ----------
    tokens : ndarray of shape (n_rows, L), int
    mask_token : int

    Returns
    -------
    inputs, labels : ndarray of shape (n_rows * L, L), int64
        Copy ``r * L + i`` is row ``r`` with column ``i`` masked; labels repeat
        the unmasked row.
    sample_weights : ndarray of shape (n_rows * L, L), float32
        1 at the masked position, 0 elsewhere.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    n_rows, seq_len = tokens.shape
    labels = np.repeat(tokens, seq_len, axis=0)
    inputs = labels.copy()
    position = np.tile(np.arange(seq_len), n_rows)
    inputs[np.arange(len(inputs)), position] = mask_token
    sample_weights = np.zeros(labels.shape, dtype=np.float32)
    sample_weights[np.arange(len(inputs)), position] = 1.0
    return inputs, labels, sample_weights


class PaperReferenceClassifier:
    """Fit/predict wrapper around :class:`KerasBertMLM` with the paper's training.

    Parameters
    ----------
    n_cat : int, default=10
        Bins per column; ``X`` and ``y`` must hold integers in ``[0, n_cat)``.
    epochs : int, default=200
    batch_size : int, default=128
        Masked copies per step.
    learning_rate : float, default=1e-3
    max_steps : int or None, default=None
        Stop after this many optimizer steps (for timing a slice of a fit whose
        full length is then extrapolated by the caller); None: the full fit.
    random_state : int, default=0
        Seeds torch (weights, dropout) and numpy (the per-epoch shuffle).

    Attributes
    ----------
    module_ : KerasBertMLM
    n_steps_ : int
        Optimizer steps taken.
    steps_per_epoch_ : int
        Steps of one full epoch, ``ceil(n_rows * L / batch_size)``.
    materialise_seconds_, train_seconds_ : float
        Wall time spent building the masked copies and in the training loop.
    epoch_losses_ : list of float
        Mean Keras loss of each completed epoch.
    """

    def __init__(
        self,
        *,
        n_cat=10,
        epochs=200,
        batch_size=128,
        learning_rate=1e-3,
        max_steps=None,
        random_state=0,
    ):
        self.n_cat = n_cat
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_steps = max_steps
        self.random_state = random_state

    def _tokens(self, X, y=None):
        columns = [np.asarray(X, dtype=np.int64)]
        if y is None:
            columns.append(np.full((len(columns[0]), 1), self.n_cat, dtype=np.int64))
        else:
            columns.append(np.asarray(y, dtype=np.int64).reshape(-1, 1))
        tokens = np.hstack(columns)
        if (
            tokens.min() < 0
            or tokens[:, :-1].max() >= self.n_cat
            or (y is not None and tokens.max() >= self.n_cat)
        ):
            raise ValueError(f"tokens must be bin indices in [0, {self.n_cat}).")
        return tokens

    def fit(self, X, y):
        torch.manual_seed(self.random_state)
        rng = np.random.RandomState(self.random_state)
        tokens = self._tokens(X, y)
        seq_len = tokens.shape[1]

        start = time.perf_counter()
        inputs, labels, weights = masked_copies(tokens, self.n_cat)
        inputs, labels = torch.from_numpy(inputs), torch.from_numpy(labels)
        weights = torch.from_numpy(weights)
        self.materialise_seconds_ = time.perf_counter() - start

        module = KerasBertMLM(self.n_cat, seq_len)
        optimizer = torch.optim.Adam(
            module.parameters(), lr=self.learning_rate, eps=1e-7
        )
        n_copies = len(inputs)
        self.steps_per_epoch_ = -(-n_copies // self.batch_size)
        self.n_steps_, self.epoch_losses_ = 0, []
        module.train()
        start = time.perf_counter()
        for _ in range(self.epochs):
            order = torch.from_numpy(rng.permutation(n_copies))
            total = 0.0
            for begin in range(0, n_copies, self.batch_size):
                batch = order[begin : begin + self.batch_size]
                logits = module(inputs[batch])
                per_token = F.cross_entropy(
                    logits.flatten(0, 1), labels[batch].flatten(), reduction="none"
                )
                loss = (per_token * weights[batch].flatten()).sum() / per_token.numel()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
                self.n_steps_ += 1
                if self.max_steps is not None and self.n_steps_ >= self.max_steps:
                    break
            else:
                self.epoch_losses_.append(total / n_copies)
                continue
            break
        self.train_seconds_ = time.perf_counter() - start
        module.eval()
        self.module_ = module
        return self

    def predict(self, X, *, chunk=8192):
        """Target bin of each row: the target column masked, argmax at it."""
        tokens = torch.from_numpy(self._tokens(X))
        out = []
        with torch.no_grad():
            for begin in range(0, len(tokens), chunk):
                logits = self.module_(tokens[begin : begin + chunk])[:, -1]
                out.append(logits.argmax(-1))
        return torch.cat(out).numpy()
