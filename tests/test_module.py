"""MaskedColumnAttention: the shared leave-one-out pass, gates, output head."""

import pytest
import torch

from moe_tabular import _attention, _layers
from moe_tabular._layers import Dropout
from moe_tabular._module import MaskedColumnAttention
from moe_tabular._vocabulary import MASK

LAYOUT = {"n_categories": [4, 7, 5, 6], "shared": [False] * 4}


# ordered columns sharing one vocabulary: few tokens, all columns the same range
SHARED_LAYOUT = {"n_categories": [9, 9, 5, 9], "shared": [True] * 4}


@pytest.fixture(params=["column-first", "head-first"])
def scores_layout(request, monkeypatch):
    """Each layout of the leave-one-out scores, whatever the number of columns."""
    first = 0 if request.param == "head-first" else 10**9
    monkeypatch.setattr(_attention, "_HEAD_FIRST_COLUMNS", first)
    return request.param


def random_tokens(n_rows=64, layout=LAYOUT):
    """Per-column codes: a random category of every column."""
    columns = [torch.randint(0, count, (n_rows,)) for count in layout["n_categories"]]
    return torch.stack(columns, dim=1)


def offsets_and_counts(model):
    return zip(
        model.category_offsets.tolist(), model.n_categories.tolist(), strict=True
    )


def explicit_leave_one_out(model, tokens):
    """The paper's way: one masked copy per column, a full forward each."""
    n_columns = tokens.shape[1]
    return torch.stack(
        [
            model(torch.where(torch.arange(n_columns) == i, MASK, tokens))[:, i]
            for i in range(n_columns)
        ],
        dim=1,
    )


@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("norm_first", [False, True])
def test_leave_one_out_equals_masking_each_column(n_layers, norm_first, scores_layout):
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
SIX_COLUMNS = {"n_categories": [10, 10, 10, 10, 10, 17], "shared": [True] * 6}
# past _HEAD_FIRST_COLUMNS, vocabularies of their own, one of them large
WIDE = {"n_categories": [3, 5, 2, 40, *[4] * 14], "shared": [False] * 18}


@pytest.mark.parametrize(
    ("layout", "d_embedding", "n_heads"),
    [(LAYOUT, 12, 3), (SIX_COLUMNS, 32, 4), (SIX_COLUMNS, 20, 5), (WIDE, 32, 4)],
    ids=[
        "4-columns",
        "6-columns-padded-heads",
        "6-columns-narrow-heads",
        "18-columns",
    ],
)
def test_leave_one_out_gradients_equal_masking_each_column(
    layout, d_embedding, n_heads, scores_layout
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
    for i, (offset, count) in enumerate(offsets_and_counts(model)):
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
    for i, (offset, count) in enumerate(offsets_and_counts(model)):
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
    with pytest.raises(ValueError, match="len.shared.=3"):
        MaskedColumnAttention(**{**LAYOUT, "shared": [False] * 3})


def test_the_module_owns_the_layout_and_adds_the_offsets():
    model = MaskedColumnAttention(
        n_categories=[2, 3, 4], shared=[True, False, True], d_embedding=4, n_heads=1
    )
    assert model.category_offsets.tolist() == [3, 10, 3]
    assert model.n_tokens == 13 == model.token_embedding.num_embeddings
    codes = torch.tensor([[1, 2, -3], [-2, -1, 0]])
    assert model.tokens(codes).tolist() == [[4, 12, 0], [1, 9, 3]]
    saved = model.state_dict()  # the layout travels with the weights
    assert saved["n_categories"].tolist() == [2, 3, 4]
    assert saved["shared"].tolist() == [True, False, True]


def test_a_generator_draws_the_weights_and_leaves_the_global_one_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first, second = (
        MaskedColumnAttention(
            **LAYOUT,
            d_embedding=8,
            n_heads=2,
            generator=torch.Generator().manual_seed(7),
        )
        for _ in range(2)
    )
    assert torch.equal(torch.get_rng_state(), before)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    dropout = Dropout(0.5).train()
    dropout.generator = torch.Generator().manual_seed(3)
    x = torch.ones(1000)
    masks = [dropout(x)]
    dropout.generator = torch.Generator().manual_seed(3)
    masks.append(dropout(x))
    assert torch.equal(*masks)
    assert torch.equal(torch.get_rng_state(), before)


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


def one_member(ensemble, m, **params):
    """Member ``m`` of an ensemble module as a module of its own."""
    single = MaskedColumnAttention(**params)
    d = single.column_embedding.shape[1]
    width = slice(m * d, (m + 1) * d)
    state = dict(ensemble.state_dict())
    for name, part in ensemble.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(part, _layers.MemberLinear):
            for key in ("weight", "bias"):
                state[prefix + key] = getattr(part, key)[m]
        elif isinstance(part, _layers.MemberLayerNorm):
            for key in ("weight", "bias"):
                state[prefix + key] = getattr(part, key)[width]
    state["token_embedding.weight"] = ensemble.token_embedding.weight[:, width]
    state["column_embedding"] = ensemble.column_embedding[:, width]
    single.load_state_dict(state)
    return single.eval()


@pytest.mark.parametrize("n_layers, norm_first", [(1, False), (2, False), (1, True)])
@pytest.mark.parametrize(
    "layout", [LAYOUT, {"n_categories": [3] * 12, "shared": [True] * 12}]
)
def test_ensemble_members_are_independent_models_and_predict_their_mean(
    layout, n_layers, norm_first
):
    params = {**layout, "d_embedding": 8, "n_heads": 2, "n_layers": n_layers}
    params["norm_first"] = norm_first
    ensemble = MaskedColumnAttention(n_members=3, **params).eval()
    members = [one_member(ensemble, m, **params) for m in range(3)]
    tokens = random_tokens(layout=layout)
    # training: each member's own logits, members folded into the batch
    folded = ensemble.leave_one_out_logits(tokens, by_column=True)
    for m, member in enumerate(members):
        expected = member.leave_one_out_logits(tokens, by_column=True)
        torch.testing.assert_close(
            folded[m * len(tokens) : (m + 1) * len(tokens)], expected
        )
    # prediction: the log of the members' mean probability; gates: their mean
    masked = tokens.clone()
    masked[:, 1] = MASK
    logits, gates = ensemble(masked, return_gates=True)
    member_runs = [member(masked, return_gates=True) for member in members]
    log_p = torch.stack([torch.log_softmax(run[0], -1) for run in member_runs])
    torch.testing.assert_close(
        logits, torch.logsumexp(log_p, 0) - torch.log(torch.tensor(3.0))
    )
    for depth in range(n_layers):
        mean = torch.stack([run[1][depth] for run in member_runs]).mean(0)
        torch.testing.assert_close(gates[depth], mean)
    # members start apart: their own draws
    assert not torch.equal(members[0].output.weight, members[1].output.weight)


def test_ordinal_blocks_embed_and_score_categories_as_running_sums():
    # columns 0 and 2 share an ordinal block; column 1 has its own, unordered
    layout = {"n_categories": [3, 4, 5], "shared": [True, False, True]}
    plain = MaskedColumnAttention(**layout, d_embedding=4, n_heads=1)
    model = MaskedColumnAttention(
        **layout, d_embedding=4, n_heads=1, ordinal=[True, False, True]
    )
    model.load_state_dict(plain.state_dict())
    stored, vectors = model.token_embedding.weight, model.token_vectors()
    block = torch.arange(3, 8)  # category 0 .. 4 of the shared block
    torch.testing.assert_close(vectors[block], stored[block].cumsum(0))
    others = torch.ones(model.n_tokens, dtype=torch.bool)
    others[block] = False  # the reserved tokens and column 1's categories
    assert torch.equal(vectors[others], stored[others])
    output = model.output_weight()
    torch.testing.assert_close(output[block], model.output.weight[block].cumsum(0))
    assert torch.equal(output[others], model.output.weight[others])
    # the same weights without ordinal columns: the stored rows as they are
    assert torch.equal(plain.token_vectors(), stored)
    tokens = random_tokens(layout=layout)
    assert not torch.allclose(model(tokens), plain(tokens), equal_nan=True)


def test_a_block_is_ordinal_only_when_all_its_columns_are():
    layout = {"n_categories": [3, 4], "shared": [True, True]}
    mixed = MaskedColumnAttention(
        **layout, d_embedding=4, n_heads=1, ordinal=[True, False]
    )
    assert mixed.ordinal_ids.numel() == 0
    own = MaskedColumnAttention(
        n_categories=[3, 4],
        shared=[False, False],
        d_embedding=4,
        n_heads=1,
        ordinal=[False, True],
    )
    assert own.ordinal_ids.tolist() == [9, 10, 11, 12]  # column 1's categories
    assert own.ordinal_starts.tolist() == [0] * 4
    with pytest.raises(ValueError, match="len.ordinal.=1"):
        MaskedColumnAttention(**layout, d_embedding=4, n_heads=1, ordinal=[True])


@pytest.mark.parametrize("n_layers", [1, 2])
def test_ordinal_leave_one_out_and_ensemble_match_their_references(n_layers):
    params = {**SHARED_LAYOUT, "d_embedding": 8, "n_heads": 2, "n_layers": n_layers}
    model = MaskedColumnAttention(**params, ordinal=[True] * 4).eval()
    tokens = random_tokens(layout=SHARED_LAYOUT)
    torch.testing.assert_close(
        model.leave_one_out_logits(tokens), explicit_leave_one_out(model, tokens)
    )
    ensemble = MaskedColumnAttention(n_members=2, **params, ordinal=[True] * 4).eval()
    folded = ensemble.leave_one_out_logits(tokens, by_column=True)
    members = [one_member(ensemble, m, **params, ordinal=[True] * 4) for m in (0, 1)]
    for m, member in enumerate(members):
        torch.testing.assert_close(
            folded[m * len(tokens) : (m + 1) * len(tokens)],
            member.leave_one_out_logits(tokens, by_column=True),
        )
    masked = tokens.clone()
    masked[:, 1] = MASK
    log_p = torch.stack([torch.log_softmax(member(masked), -1) for member in members])
    torch.testing.assert_close(
        ensemble(masked), torch.logsumexp(log_p, 0) - torch.log(torch.tensor(2.0))
    )
