"""Chapter 04: softmax, attention (loops, vectorized, layers) against PyTorch; the Transformer block."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from aigc_course.attention.layers import (MultiHeadAttention, SelfAttention, TransformerBlock, attention_loops,
                                   causal_mask, scaled_dot_product_attention, softmax)

INF = float("inf")


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---- softmax ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,dim", [((7,), 0), ((4, 9), -1), ((4, 9), 0), ((2, 3, 5), 1)])
@pytest.mark.parametrize("temperature", [0.3, 1.0, 5.0])
def test_softmax_matches_torch(shape, dim, temperature):
    x = torch.randn(*shape, generator=gen(1)) * 4
    torch.testing.assert_close(softmax(x, dim=dim, temperature=temperature),
                               torch.softmax(x / temperature, dim=dim), atol=1e-6, rtol=1e-5)


def test_softmax_large_logits_do_not_overflow():
    assert softmax(torch.tensor([1000.0, 1001.0])).tolist() == pytest.approx([0.268941, 0.731059], abs=1e-6)
    out = softmax(torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]]))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    naive = torch.exp(torch.tensor([1000.0, 1001.0]))
    assert torch.isnan(naive / naive.sum()).all()  # what the subtraction of the maximum avoids


def test_softmax_is_invariant_to_adding_a_constant_and_sums_to_one():
    x = torch.randn(5, 8, generator=gen(2), dtype=torch.float64)
    for c in (-50.0, 3.0, 700.0):
        torch.testing.assert_close(softmax(x + c), softmax(x))
    torch.testing.assert_close(softmax(x).sum(-1), torch.ones(5, dtype=torch.float64))
    assert (softmax(x) > 0).all()


def test_softmax_temperature_limits():
    x = torch.tensor([1.0, 3.0, 2.0])
    torch.testing.assert_close(softmax(x, temperature=1e-3), torch.tensor([0.0, 1.0, 0.0]))
    torch.testing.assert_close(softmax(x, temperature=1e4), torch.full((3,), 1 / 3), atol=1e-4, rtol=0)


def test_softmax_minus_inf_rule_and_finite_gradients():
    x = torch.tensor([[0.0, -INF, 1.0], [-INF, -INF, -INF]], requires_grad=True)
    out = softmax(x)
    torch.testing.assert_close(out[0], torch.softmax(torch.tensor([0.0, -INF, 1.0]), 0))
    assert torch.equal(out[1], torch.zeros(3))  # the documented all -inf rule: zero weights, never NaN
    (out * torch.arange(3.0)).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_softmax_gradient_matches_autograd_of_the_definition():
    x = torch.randn(3, 4, generator=gen(3), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: softmax(t, temperature=0.7), (x,))


@pytest.mark.parametrize("bad,error,match", [
    (torch.tensor([1.0, float("nan")]), ValueError, "NaN"),
    (torch.tensor([1.0, INF]), ValueError, r"\+inf"),
    (torch.tensor([1, 2]), TypeError, "floating"),
    ([1.0, 2.0], TypeError, "torch.Tensor"),
])
def test_softmax_rejects_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        softmax(bad)


def test_softmax_rejects_bad_dim_and_temperature():
    with pytest.raises(ValueError, match="dim"):
        softmax(torch.zeros(2, 3), dim=2)
    with pytest.raises(ValueError, match="temperature"):
        softmax(torch.zeros(3), temperature=0.0)
    with pytest.raises(TypeError, match="temperature"):
        softmax(torch.zeros(3), temperature="hot")


# ---- the loop version ---------------------------------------------------------------------------

def test_loops_equal_vectorized_attention():
    q, k, v = (torch.randn(n, d, generator=gen(s), dtype=torch.float64)
               for n, d, s in ((4, 3, 4), (6, 3, 5), (6, 2, 6)))
    out_loop, w_loop = attention_loops(q, k, v)
    out_vec, w_vec = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out_loop, out_vec)
    torch.testing.assert_close(w_loop, w_vec)
    out_loop, w_loop = attention_loops(q, k, v, scale=1.0)
    torch.testing.assert_close(w_loop, torch.softmax(q @ k.T, -1))


def test_loops_validate_shapes():
    with pytest.raises(ValueError, match="same feature size"):
        attention_loops(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 1))
    with pytest.raises(ValueError, match="same number of positions"):
        attention_loops(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="2 dimensions"):
        attention_loops(torch.zeros(1, 2, 3), torch.zeros(2, 3), torch.zeros(2, 1))


# ---- scaled dot-product attention vs PyTorch ----------------------------------------------------

def _random_case(seed: int):
    g = gen(seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))  # noqa: E731
    batch = [r(1, 3) for _ in range(r(0, 2))]
    lq, lk, d, dv = r(1, 7), r(1, 7), r(1, 16), r(1, 9)
    q = torch.randn(*batch, lq, d, generator=g)
    k = torch.randn(*batch, lk, d, generator=g)
    v = torch.randn(*batch, lk, dv, generator=g)
    kind = seed % 4
    mask_shape = ([lq, lk], [*batch, lq, lk], [lq, 1], [1, lk])[r(0, 3)]
    if kind == 0:
        mask = None
    elif kind == 1:  # bool, every query keeps at least one key (F.sdpa then has no fully masked row)
        mask = torch.rand(*mask_shape, generator=g) > 0.5
        mask = mask | (torch.arange(mask.shape[-1]) == 0)
    elif kind == 2:  # float additive
        mask = torch.randn(*mask_shape, generator=g)
    else:  # float with -inf entries, key 0 always allowed
        mask = torch.where(torch.rand(*mask_shape, generator=g) > 0.5, 0.0, -INF)
        mask[..., 0] = 0.0
    scale = None if seed % 3 else 0.1 + float(torch.rand(1, generator=g))
    return q, k, v, mask, scale


@pytest.mark.parametrize("seed", range(40))
def test_attention_matches_torch_over_random_shapes_and_masks(seed):
    q, k, v, mask, scale = _random_case(seed)
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask, scale=scale)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]), atol=1e-6, rtol=0)
    torch.testing.assert_close(weights @ v, out)
    assert (weights >= 0).all()


def test_attention_with_causal_mask_matches_is_causal():
    q, k, v = (torch.randn(2, 3, 6, 4, generator=gen(s)) for s in (7, 8, 9))
    out, weights = scaled_dot_product_attention(q, k, v, mask=causal_mask(6))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-5, rtol=1e-5)
    assert (weights.triu(diagonal=1) == 0).all()


def test_attention_gradients_pass_gradcheck():
    q, k, v = (torch.randn(2, 3, 4, generator=gen(s), dtype=torch.float64, requires_grad=True) for s in (10, 11, 12))
    mask = torch.tensor([[True, False, True], [True, True, True], [False, False, True]])
    assert torch.autograd.gradcheck(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask=mask)[0], (q, k, v))


def test_fully_masked_row_rule_zero_weights_zero_output_no_nan():
    q, k, v = (torch.randn(4, 3, generator=gen(s), requires_grad=True) for s in (13, 14, 15))
    mask = torch.ones(4, 4, dtype=torch.bool)
    mask[2] = False
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    assert torch.equal(weights[2], torch.zeros(4)) and torch.equal(out[2], torch.zeros(3))
    torch.testing.assert_close(out[[0, 1, 3]], scaled_dot_product_attention(q[[0, 1, 3]], k, v)[0])
    if tuple(int(p) for p in torch.__version__.split(".")[:2]) >= (2, 5):  # older PyTorch returns NaN here
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))  # PyTorch's rule too
    out.sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))
    float_mask = torch.zeros(4, 4).masked_fill(~mask, -INF)
    out_f, weights_f = scaled_dot_product_attention(q, k, v, mask=float_mask)
    torch.testing.assert_close(out_f, out)
    assert torch.equal(weights_f[2], torch.zeros(4))


@pytest.mark.parametrize("args,error,match", [
    ((torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 1)), ValueError, "same feature size"),
    ((torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(5, 1)), ValueError, "same number of positions"),
    ((torch.zeros(3), torch.zeros(2, 3), torch.zeros(2, 1)), ValueError, "at least 2 dimensions"),
    ((torch.zeros(2, 3, dtype=torch.int64), torch.zeros(2, 3), torch.zeros(2, 1)), TypeError, "floating"),
    ((torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 1)), ValueError, "dtype"),
    ((torch.zeros(2, 5, 3), torch.zeros(3, 5, 3), torch.zeros(3, 5, 1)), ValueError, "do not broadcast"),
])
def test_attention_rejects_mismatched_inputs(args, error, match):
    with pytest.raises(error, match=match):
        scaled_dot_product_attention(*args)


@pytest.mark.parametrize("mask,error,match", [
    (torch.ones(3, 4, dtype=torch.int64), TypeError, "bool"),
    (torch.ones(3, 5, dtype=torch.bool), ValueError, "does not broadcast"),
    (torch.ones(4, 3, dtype=torch.bool), ValueError, "does not broadcast"),
    (torch.ones(2, 2, 3, 4, dtype=torch.bool), ValueError, "more dimensions"),
    (torch.full((3, 4), float("nan")), ValueError, "NaN"),
    (torch.full((3, 4), INF), ValueError, r"\+inf"),
    ([[True] * 4] * 3, TypeError, "torch.Tensor"),
])
def test_attention_rejects_bad_masks(mask, error, match):
    q, k, v = torch.zeros(3, 2), torch.zeros(4, 2), torch.zeros(4, 5)
    with pytest.raises(error, match=match):
        scaled_dot_product_attention(q, k, v, mask=mask)


def test_attention_rejects_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        scaled_dot_product_attention(torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, 2), scale=0.0)


def test_causal_mask():
    assert torch.equal(causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool))
    assert causal_mask(1).tolist() == [[True]]
    for bad in (0, -1):
        with pytest.raises(ValueError, match="n"):
            causal_mask(bad)
    with pytest.raises(TypeError, match="n"):
        causal_mask(2.0)


# ---- layers -------------------------------------------------------------------------------------

def test_self_attention_is_attention_on_learned_projections():
    torch.manual_seed(0)
    layer = SelfAttention(6, d_k=4, d_v=3)
    x = torch.randn(2, 5, 6)
    out, weights = layer(x)
    assert out.shape == (2, 5, 3) and weights.shape == (2, 5, 5)
    q, k, v = x @ layer.w_q.weight.T, x @ layer.w_k.weight.T, x @ layer.w_v.weight.T
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    with pytest.raises(ValueError, match=r"\[\.\.\., L, 6\]"):
        layer(torch.randn(2, 5, 7))


def _torch_mha(d, h, bias, seed):
    torch.manual_seed(seed)
    return nn.MultiheadAttention(d, h, bias=bias, batch_first=True).eval()


@pytest.mark.parametrize("seed", range(16))
def test_multi_head_attention_matches_torch(seed):
    g = gen(100 + seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))  # noqa: E731
    h = r(1, 4)
    d, b, lq = h * r(1, 5), r(1, 3), r(1, 6)
    cross = seed % 2 == 1
    lk = r(1, 6) if cross else lq
    reference = _torch_mha(d, h, bias=seed % 4 != 3, seed=seed)
    ours = MultiHeadAttention(d, h, bias=seed % 4 != 3).load_torch_weights(reference)
    query = torch.randn(b, lq, d, generator=g)
    key = torch.randn(b, lk, d, generator=g) if cross else query
    value = torch.randn(b, lk, d, generator=g) if cross else query
    kind = seed % 3
    if kind == 0:
        mask, torch_mask = None, None
    elif kind == 1:  # bool per batch and head; torch's bool mask means the opposite (True = masked)
        mask = torch.rand(b, h, lq, lk, generator=g) > 0.5
        mask[..., 0] = True
        torch_mask = ~mask.reshape(b * h, lq, lk)
    else:  # float [Lq, Lk], added to the scores by both
        mask = torch.randn(lq, lk, generator=g)
        torch_mask = mask
    expected, expected_w = reference(query, key, value, attn_mask=torch_mask, average_attn_weights=False)
    out, weights = ours(query, key if cross else None, value if cross else None, mask=mask)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights, expected_w, atol=1e-5, rtol=1e-5)


def test_causal_multi_head_attention_matches_torch():
    reference = _torch_mha(12, 3, bias=True, seed=1)
    ours = MultiHeadAttention(12, 3, causal=True).load_torch_weights(reference)
    x = torch.randn(2, 7, 12, generator=gen(5))
    expected, _ = reference(x, x, x, attn_mask=~causal_mask(7))
    out, weights = ours(x)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    assert (weights.triu(diagonal=1) == 0).all()
    extra = torch.rand(2, 7, 7, generator=gen(6)) > 0.3  # combined with the causal mask
    extra[..., 0] = True
    both, _ = reference(x, x, x, attn_mask=(~(extra & causal_mask(7))).repeat_interleave(3, 0))
    torch.testing.assert_close(ours(x, mask=extra)[0], both, atol=1e-5, rtol=1e-5)


def test_multi_head_attention_fully_masked_query_gives_output_bias_not_nan():
    reference = _torch_mha(8, 2, bias=True, seed=2)
    ours = MultiHeadAttention(8, 2).load_torch_weights(reference)
    x = torch.randn(1, 4, 8, generator=gen(7))
    mask = torch.ones(4, 4, dtype=torch.bool)
    mask[1] = False
    out, weights = ours(x, mask=mask)
    torch_out, _ = reference(x, x, x, attn_mask=~mask)
    assert torch.isnan(torch_out[0, 1]).all()  # nn.MultiheadAttention: a silent NaN
    torch.testing.assert_close(out[0, 1], ours.w_o.bias)  # ours: zero attention output, then W_o
    torch.testing.assert_close(out[0, [0, 2, 3]], torch_out[0, [0, 2, 3]], atol=1e-5, rtol=1e-5)
    assert torch.equal(weights[0, :, 1], torch.zeros(2, 4))


def test_multi_head_attention_validation():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    mha = MultiHeadAttention(8, 2, causal=True)
    with pytest.raises(ValueError, match=r"\[B, L, 8\]"):
        mha(torch.randn(2, 3, 6))
    with pytest.raises(ValueError, match="3 dimensions"):
        mha(torch.randn(3, 8))
    with pytest.raises(ValueError, match="as many queries as keys"):
        mha(torch.randn(1, 3, 8), torch.randn(1, 4, 8))
    with pytest.raises(ValueError, match="does not broadcast"):
        mha(torch.randn(1, 3, 8), mask=torch.ones(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="embed_dim"):
        MultiHeadAttention(8, 2).load_torch_weights(nn.MultiheadAttention(8, 4))
    with pytest.raises(TypeError, match="MultiheadAttention"):
        MultiHeadAttention(8, 2).load_torch_weights(nn.Linear(8, 8))


# ---- the Transformer block ----------------------------------------------------------------------

def test_transformer_block_shapes_and_weights():
    torch.manual_seed(0)
    block = TransformerBlock(16, 4).eval()
    x = torch.randn(3, 9, 16)
    y, weights = block(x, return_weights=True)
    assert y.shape == x.shape and weights.shape == (3, 4, 9, 9)
    assert (weights.triu(diagonal=1) == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, 9))
    assert torch.equal(block(x), y)


def test_transformer_block_is_causal():
    torch.manual_seed(1)
    block = TransformerBlock(16, 2).eval()
    x = torch.randn(2, 8, 16)
    for t in range(8):
        changed = x.clone()
        changed[:, t] = torch.randn(2, 16)
        before, after = block(x), block(changed)
        torch.testing.assert_close(after[:, :t], before[:, :t], atol=0, rtol=0)  # the past does not see the future
        assert (after[:, t:] - before[:, t:]).abs().amax(-1).min() > 1e-4  # ...and position t onwards does
    jacobian = torch.autograd.functional.jacobian(lambda inp: block(inp).sum(-1), x[:1])  # [1, 8, 1, 8, 16]
    dependence = jacobian[0, :, 0].abs().sum(-1)  # [output position, input position]
    assert (dependence.triu(diagonal=1) == 0).all() and (dependence.diagonal() > 0).all()


def test_non_causal_block_lets_the_future_in():
    torch.manual_seed(2)
    block = TransformerBlock(8, 2, causal=False).eval()
    x = torch.randn(1, 5, 8)
    changed = x.clone()
    changed[:, -1] = torch.randn(8)  # (not a constant shift: LayerNorm would remove it)
    assert (block(changed)[:, 0] - block(x)[:, 0]).abs().max() > 1e-4


def test_transformer_block_residual_structure():
    block = TransformerBlock(8, 2, mlp_ratio=2)
    with torch.no_grad():
        for layer in (block.attn.w_o, block.mlp[2]):
            layer.weight.zero_()
            layer.bias.zero_()
    x = torch.randn(2, 4, 8)
    torch.testing.assert_close(block(x), x)  # both branches off: the block is the identity
    loss = TransformerBlock(8, 2)(x.requires_grad_()).square().mean()
    loss.backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_transformer_block_validation():
    with pytest.raises(ValueError, match="divisible"):
        TransformerBlock(10, 4)
    with pytest.raises(ValueError, match="dropout"):
        TransformerBlock(8, 2, dropout=1.5)
    with pytest.raises(ValueError, match="mlp_ratio"):
        TransformerBlock(8, 2, mlp_ratio=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_attention_on_cuda_matches_cpu():
    torch.manual_seed(3)
    block = TransformerBlock(16, 4).eval()
    x = torch.randn(2, 6, 16)
    expected = block(x)
    torch.testing.assert_close(block.cuda()(x.cuda()).cpu(), expected, atol=1e-4, rtol=1e-4)
    q, k, v = (torch.randn(2, 5, 8, device="cuda") for _ in range(3))
    out, _ = scaled_dot_product_attention(q, k, v, mask=causal_mask(5, device="cuda"))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="device"):
        scaled_dot_product_attention(q, k, v, mask=causal_mask(5))


def test_scale_default_is_one_over_sqrt_d():
    q, k, v = (torch.randn(3, 9, generator=gen(s)) for s in (20, 21, 22))
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v)[1],
                               scaled_dot_product_attention(q, k, v, scale=1 / math.sqrt(9))[1])
