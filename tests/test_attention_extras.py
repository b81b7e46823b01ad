"""Chapter 04's additions checked numerically: heads, padding, cross-attention, positions, block variants, cost."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

import aigc_course.attention as att


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("d, heads", [(8, 1), (12, 3), (16, 4), (16, 16)])
def test_split_and_merge_are_inverse_and_match_the_layer(d, heads):
    x = _randn(2, 5, d)
    layer = att.MultiHeadAttention(d, heads)
    split = att.split_heads(x, heads)
    assert split.shape == (2, heads, 5, d // heads)
    assert torch.equal(split, layer._split(x))
    assert torch.equal(att.merge_heads(split), x)
    # head h owns the contiguous features h*d_h .. (h+1)*d_h - 1
    assert torch.equal(split[:, -1, :, :], x[:, :, d - d // heads:])


@pytest.mark.parametrize("lq, lk", [(7, 7), (4, 9)])
def test_multi_head_attention_written_out_matches_torch_self_and_cross(lq, lk):
    torch.manual_seed(0)
    layer = att.MultiHeadAttention(16, 4)
    x, y = _randn(3, lq, 16, seed=1), _randn(3, lk, 16, seed=2)
    torch_mha = att.torch_reference(layer)
    ours, w = att.multi_head_attention(layer, x, y)
    expected, expected_w = torch_mha(x, y, y, average_attn_weights=False)
    assert torch.allclose(ours, expected, atol=1e-5) and torch.allclose(w, expected_w, atol=1e-6)
    module_out, _ = layer(x, y, y)
    assert torch.allclose(ours, module_out, atol=1e-6)
    sdpa = torch.nn.functional.scaled_dot_product_attention(
        att.split_heads(layer.w_q(x), 4), att.split_heads(layer.w_k(y), 4), att.split_heads(layer.w_v(y), 4))
    assert torch.allclose(layer.w_o(att.merge_heads(sdpa)), ours, atol=1e-5)


def test_key_padding_mask_matches_torch_and_ignores_padding():
    torch.manual_seed(0)
    layer = att.MultiHeadAttention(8, 2)
    lengths = [5, 3, 1]
    mask = att.key_padding_mask(lengths, 5)
    assert mask.shape == (3, 1, 5) and mask[:, 0].sum(1).tolist() == lengths
    x = _randn(3, 5, 8)
    with torch.no_grad():
        out, weights = layer(x, mask=mask)
    expected, _ = att.torch_reference(layer)(x, x, x, key_padding_mask=~mask[:, 0])
    assert torch.allclose(out, expected, atol=1e-5)
    assert float(weights.masked_select(~mask.unsqueeze(1).expand_as(weights)).abs().max()) == 0.0
    refilled = x.clone()
    refilled[~mask[:, 0]] = 100.0
    changed, _ = layer(refilled, mask=mask)
    real = mask[:, 0]
    assert torch.allclose(changed[real], out[real], atol=1e-6)


def test_sinusoidal_positions_formula_and_rotation():
    table = att.sinusoidal_positions(50, 10)
    for t in (0, 3, 49):
        for i in range(5):
            w = 10000.0 ** (-2 * i / 10)
            assert math.isclose(table[t, 2 * i].item(), math.sin(t * w), abs_tol=1e-6)
            assert math.isclose(table[t, 2 * i + 1].item(), math.cos(t * w), abs_tol=1e-6)
    # moving by k positions rotates each (sin, cos) pair by the angle k * w_i
    k, i = 7, 2
    w = 10000.0 ** (-2 * i / 10)
    rotation = torch.tensor([[math.cos(k * w), -math.sin(k * w)], [math.sin(k * w), math.cos(k * w)]])
    pair = table[:, 2 * i:2 * i + 2].double()
    assert torch.allclose(pair[:-k] @ rotation.double(), pair[k:], atol=1e-5)
    assert att.sinusoidal_positions(3, 5).shape == (3, 5)  # odd width


def test_attention_is_permutation_equivariant_until_positions_are_added():
    torch.manual_seed(0)
    x = _randn(2, 9, 16)
    assert att.permutation_error(att.MultiHeadAttention(16, 4), x) < 1e-5
    assert att.permutation_error(att.TransformerBlock(16, 4, causal=False).eval(), x) < 1e-5
    assert att.permutation_error(att.TransformerBlock(16, 4, causal=True).eval(), x) > 1e-2  # the mask knows positions
    layer = att.MultiHeadAttention(16, 4)
    assert att.permutation_error(lambda h: layer(h + att.sinusoidal_positions(9, 16)), x) > 1e-2


def test_sequence_model_position_modes():
    tokens = torch.randint(0, 10, (4, 8), generator=torch.Generator().manual_seed(0))
    perm = torch.tensor([3, 0, 7, 1, 6, 2, 5, 4])
    torch.manual_seed(0)
    blind = att.AttentionSequenceModel(position="none").eval()
    logits, _ = blind(tokens)
    assert torch.allclose(blind(tokens[:, perm])[0], logits[:, perm], atol=1e-5)
    sinus = att.AttentionSequenceModel(position="sinusoidal")
    assert not any("position" in name for name, _ in sinus.named_parameters())
    assert torch.equal(sinus.fixed_positions, att.sinusoidal_positions(8, 32))
    learned = att.AttentionSequenceModel(position="learned")
    assert learned.position_embedding.weight.shape == (8, 32)


def test_post_ln_and_no_residual_blocks_follow_their_formulas():
    torch.manual_seed(0)
    x = _randn(2, 5, 8)
    post = att.TransformerBlock(8, 2, causal=False, norm="post").eval()
    h = post.ln1(x + post.attn(x)[0])
    assert torch.allclose(post(x), post.ln2(h + post.mlp(h)), atol=1e-6)
    plain = att.TransformerBlock(8, 2, causal=False, residual=False).eval()
    h = plain.attn(plain.ln1(x))[0]
    assert torch.allclose(plain(x), plain.mlp(plain.ln2(h)), atol=1e-6)
    pre = att.TransformerBlock(8, 2, causal=False).eval()
    h = x + pre.attn(pre.ln1(x))[0]
    assert torch.allclose(pre(x), h + pre.mlp(pre.ln2(h)), atol=1e-6)


@pytest.mark.parametrize("d, length, ratio", [(64, 64, 4), (32, 100, 4), (16, 7, 2)])
def test_block_flops_match_pytorch_flop_counter(d, length, ratio):
    block = att.TransformerBlock(d, 4 if d % 4 == 0 else 1, mlp_ratio=ratio, causal=False).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        block(torch.zeros(1, length, d))
    assert counter.get_total_flops() == att.block_flops(d, length, ratio)["total"]


def test_attention_share_and_crossover():
    f = att.block_flops(64, 64)
    assert math.isclose((f["scores"] + f["weighted sum"]) / f["total"], 1 / 7)
    n = att.attention_crossover(64)
    at = att.block_flops(64, n)
    assert at["scores"] + at["weighted sum"] == at["projections"] + at["mlp"] and n == 384


def test_measure_block_cost_reports_quadratic_memory():
    cost = att.measure_block_cost([8, 16, 32], d_model=16, n_heads=2, batch_size=3, repeats=1)
    assert cost["lengths"] == [8, 16, 32] and all(s > 0 for s in cost["seconds"])
    assert cost["weights_mib"] == [3 * 2 * n * n * 4 / 2 ** 20 for n in (8, 16, 32)]


def test_attention_to_matching_digits_by_hand():
    torch.manual_seed(0)
    model = att.AttentionSequenceModel(vocab=4, length=4, d_model=8, n_blocks=2).eval()
    x = torch.tensor([[0, 1, 1, 3], [2, 2, 2, 2]])
    y = att.task_targets("sort", x)
    mass, uniform = att.attention_to_matching_digits(model, x, y, layer=1)
    with torch.no_grad():
        _, weights = model(x)
    w = weights[:, 1].mean(1)
    expected = sum(float(w[b, i, j]) for b in range(2) for i in range(4) for j in range(4) if x[b, j] == y[b, i]) / 8
    assert math.isclose(mass, expected, rel_tol=1e-5)
    assert math.isclose(uniform, ((1 / 4 + 2 / 4 + 2 / 4 + 1 / 4) + 4 * 1.0) / 8)
    assert mass > 0 and mass <= 1 + 1e-6
    with pytest.raises(ValueError):
        att.attention_to_matching_digits(model, x, y, layer=2)
