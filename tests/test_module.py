"""MaskedColumnAttention: the shared leave-one-out pass, gates, output head."""

import pytest
import torch

from moe_tabular._module import Dropout, MaskedColumnAttention

LAYOUT = {
    "n_tokens": 40,
    "category_offsets": [3, 10, 20, 30],
    "n_categories": [4, 7, 5, 6],
}


# ordered columns sharing one vocabulary: few tokens, all columns the same range
SHARED_LAYOUT = {
    "n_tokens": 12,
    "category_offsets": [3, 3, 3, 3],
    "n_categories": [9, 9, 5, 9],
}


def random_tokens(n_rows=64, layout=LAYOUT):
    columns = [
        torch.randint(offset, offset + count, (n_rows,))
        for offset, count in zip(
            layout["category_offsets"], layout["n_categories"], strict=True
        )
    ]
    return torch.stack(columns, dim=1)


def explicit_leave_one_out(model, tokens):
    """The paper's way: one masked copy per column, a full forward each."""
    n_columns = tokens.shape[1]
    return torch.stack(
        [
            model(torch.where(torch.arange(n_columns) == i, model.mask_tokens, tokens))[
                :, i
            ]
            for i in range(n_columns)
        ],
        dim=1,
    )


@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("norm_first", [False, True])
def test_leave_one_out_equals_masking_each_column(n_layers, norm_first):
    torch.manual_seed(0)
    model = MaskedColumnAttention(
        **LAYOUT, d_embedding=12, n_heads=3, n_layers=n_layers, norm_first=norm_first
    ).eval()
    tokens = random_tokens()
    fast, slow = (
        model.leave_one_out_logits(tokens),
        explicit_leave_one_out(model, tokens),
    )
    finite = torch.isfinite(slow)
    assert torch.equal(torch.isfinite(fast), finite)
    torch.testing.assert_close(fast[finite], slow[finite], atol=1e-5, rtol=1e-5)


# six columns with 8-wide heads: small enough that leave_one_out pads the
# heads so torch multiplies its batches of 6 x 6 matrices by BLAS
SIX_COLUMNS = {
    "n_tokens": 20,
    "category_offsets": [3] * 6,
    "n_categories": [10, 10, 10, 10, 10, 17],
}


@pytest.mark.parametrize(
    ("layout", "d_embedding", "n_heads"),
    [(LAYOUT, 12, 3), (SIX_COLUMNS, 32, 4), (SIX_COLUMNS, 20, 5)],
    ids=["4-columns", "6-columns-padded-heads", "6-columns-narrow-heads"],
)
def test_leave_one_out_gradients_equal_masking_each_column(
    layout, d_embedding, n_heads
):
    grads = []
    for fast in (True, False):
        torch.manual_seed(0)
        model = MaskedColumnAttention(
            **layout, d_embedding=d_embedding, n_heads=n_heads
        ).eval()
        tokens = random_tokens(layout=layout)
        logits = (
            model.leave_one_out_logits(tokens)
            if fast
            else explicit_leave_one_out(model, tokens)
        )
        torch.log_softmax(logits, -1).nan_to_num(neginf=0.0).sum().backward()
        grads.append({name: p.grad for name, p in model.named_parameters()})
    for name, grad in grads[0].items():
        torch.testing.assert_close(grad, grads[1][name], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("layout", [LAYOUT, SHARED_LAYOUT], ids=["own", "shared"])
@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("norm_first", [False, True])
def test_by_column_logits_are_each_columns_own_slice(layout, n_layers, norm_first):
    torch.manual_seed(0)
    model = MaskedColumnAttention(
        **layout, d_embedding=12, n_heads=3, n_layers=n_layers, norm_first=norm_first
    ).eval()
    tokens = random_tokens(layout=layout)
    full = model.leave_one_out_logits(tokens)
    compact = model.leave_one_out_logits(tokens, by_column=True)
    width = max(layout["n_categories"])
    assert compact.shape == (64, 4, width)
    for i, (offset, count) in enumerate(
        zip(layout["category_offsets"], layout["n_categories"], strict=True)
    ):
        torch.testing.assert_close(
            compact[:, i, :count], full[:, i, offset : offset + count]
        )
        assert torch.isneginf(compact[:, i, count:]).all()


def test_gates_are_mixture_weights():
    model = MaskedColumnAttention(**LAYOUT, d_embedding=10, n_heads=5, n_layers=2)
    _, gates = model(random_tokens(), return_gates=True)
    assert len(gates) == 2
    for layer in gates:
        assert layer.shape == (64, 5, 4, 4)
        assert (layer >= 0).all()
        torch.testing.assert_close(layer.sum(-1), torch.ones(64, 5, 4))


def test_each_column_scores_only_its_own_categories():
    model = MaskedColumnAttention(**LAYOUT, d_embedding=10, n_heads=2)
    logits = model(random_tokens(8))
    for i, (offset, count) in enumerate(
        zip(LAYOUT["category_offsets"], LAYOUT["n_categories"], strict=True)
    ):
        finite = torch.isfinite(logits[:, i]).nonzero()[:, 1].unique()
        assert finite.tolist() == list(range(offset, offset + count))


def test_columns_argument_scores_selected_positions_only():
    model = MaskedColumnAttention(**LAYOUT, d_embedding=10, n_heads=2).eval()
    tokens = random_tokens(8)
    torch.testing.assert_close(model(tokens, columns=[3])[:, 0], model(tokens)[:, 3])


def test_keras_initialisation():
    model = MaskedColumnAttention(**LAYOUT, d_embedding=10, n_heads=2)
    assert model.token_embedding.weight.abs().max() <= 0.05
    assert all(
        (m.bias == 0).all() for m in model.modules() if isinstance(m, torch.nn.Linear)
    )


def test_bad_arguments_show_their_values():
    with pytest.raises(ValueError, match="n_heads=3 must divide d_embedding=10"):
        MaskedColumnAttention(**LAYOUT, d_embedding=10, n_heads=3)
    with pytest.raises(ValueError, match="n_tokens=5"):
        MaskedColumnAttention(**{**LAYOUT, "n_tokens": 5})


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_keeps_share_one_minus_p_and_rescales(p):
    torch.manual_seed(0)
    x = torch.rand(200_000, dtype=torch.float64) + 1.0
    x.requires_grad_(True)
    out = Dropout(p).train()(x)
    kept = out != 0
    # binomial standard error at 200,000 draws is below 0.0012
    assert abs(kept.double().mean().item() - (1 - p)) < 0.005
    torch.testing.assert_close(out[kept], x[kept] / (1 - p))
    out.sum().backward()  # the gradient flows through the kept elements only
    expected = kept.double() / (1 - p)
    torch.testing.assert_close(x.grad, expected)


def test_dropout_is_identity_in_eval_and_reproducible_under_a_seed():
    x = torch.randn(7, 5, 3)
    dropout = Dropout(0.3)
    assert torch.equal(dropout.eval()(x), x)
    dropout.train()
    torch.manual_seed(1)
    first = dropout(x)
    torch.manual_seed(1)
    assert torch.equal(dropout(x), first)
    assert first.shape == x.shape
    assert torch.equal(Dropout(0.0).train()(x), x)
    assert not Dropout(1.0).train()(x).any()
