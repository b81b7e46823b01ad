"""Checks for chapter 04's exercises: stable softmax (4.1), scaled dot-product attention (4.2), the causal mask (4.3),
splitting (4.4) and merging (4.5) attention heads."""

from __future__ import annotations

import torch

from ..attention.heads import merge_heads, split_heads
from ..attention.layers import MultiHeadAttention, causal_mask, scaled_dot_product_attention, softmax
from . import Exercise, assert_close, same_output

_INF = float("inf")


def _randn(*shape: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _random_mask(lq: int, lk: int, seed: int) -> torch.Tensor:
    """A random bool mask [lq, lk] in which every query may attend to at least one key."""
    mask = torch.rand(lq, lk, generator=torch.Generator().manual_seed(seed)) > 0.4
    mask[torch.arange(lq), torch.arange(lq) % lk] = True
    return mask


# ---- 4.1 stable softmax -------------------------------------------------------------------------

def _softmax_overflow_free(candidate, reference) -> None:
    got = candidate(torch.tensor([1000.0, 1001.0]))
    assert_close("softmax([1000, 1001])", got, torch.tensor([0.2689414, 0.7310586]))
    extreme = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])
    got = candidate(extreme.clone())
    if not torch.isfinite(got).all():
        raise AssertionError("softmax of logits +-1e4 must be finite (no overflow): subtract the maximum first")
    assert_close("softmax of logits +-1e4", got, reference(extreme))


def _softmax_leaves_input_unchanged(candidate, reference) -> None:
    x = _randn(3, 5, seed=11)
    before = x.clone()
    candidate(x)
    if not torch.equal(x, before):
        raise AssertionError("softmax changed its input tensor in place; compute `x - max` into a new tensor")


def _softmax_rejects_bad_temperature(candidate, reference) -> None:
    for t in (0.0, -1.0):
        try:
            candidate(torch.zeros(3), temperature=t)
        except ValueError:
            continue
        raise AssertionError(f"temperature={t} must raise ValueError (the temperature must be > 0)")


check_softmax = Exercise(
    "4.1", "stable softmax", softmax,
    cases=[
        same_output(_randn(4, 7, seed=0), label="random logits [4, 7]"),
        _softmax_overflow_free,
        same_output(torch.tensor([[0.0, 1.0, 2.0], [1e4, 1e4 + 1, 1e4 + 2]]),
                    label="rows of very different size (subtract each row's own maximum)"),
        same_output(_randn(3, 4, 5, seed=1), dim=0, label="dim=0"),
        same_output(_randn(3, 4, 5, seed=2), dim=1, label="dim=1"),
        same_output(_randn(2, 6, seed=3), temperature=0.5, label="temperature=0.5"),
        same_output(_randn(2, 6, seed=4) * 10, temperature=4.0, label="temperature=4"),
        same_output(torch.tensor([[0.0, -_INF, 1.0], [2.0, 2.0, -_INF]]), label="-inf entries get weight 0"),
        same_output(_randn(5, seed=5, dtype=torch.float64), label="float64 vector"),
        _softmax_leaves_input_unchanged,
        _softmax_rejects_bad_temperature,
    ],
    hint="w = exp((x - max(x, dim, keepdim=True)) / T); return w / w.sum(dim, keepdim=True)",
)


# ---- 4.2 scaled dot-product attention ----------------------------------------------------------

def _attention(q, k, v, mask=None):  # the exercise's signature: no scale argument
    return scaled_dot_product_attention(q, k, v, mask=mask)


check_attention = Exercise(
    "4.2", "scaled dot-product attention", _attention,
    cases=[
        same_output(_randn(5, 4, seed=20), _randn(6, 4, seed=21), _randn(6, 3, seed=22),
                    label="attention(q [5, 4], k [6, 4], v [6, 3])"),
        same_output(_randn(2, 3, 5, 8, seed=23) * 3, _randn(2, 3, 7, 8, seed=24) * 3, _randn(2, 3, 7, 2, seed=25),
                    label="attention(q [2, 3, 5, 8], k [2, 3, 7, 8], v [2, 3, 7, 2])"),
        same_output(_randn(5, 16, seed=26), _randn(6, 16, seed=27), _randn(6, 3, seed=28),
                    mask=_random_mask(5, 6, seed=29), label="attention(q [5, 16], k [6, 16], v [6, 3], mask=random bool [5, 6])"),
        same_output(_randn(2, 6, 4, seed=30), _randn(2, 6, 4, seed=31), _randn(2, 6, 4, seed=32),
                    mask=torch.ones(6, 6, dtype=torch.bool).tril(),
                    label="attention(q, k, v [2, 6, 4], mask=causal [6, 6] broadcast over the batch)"),
    ],
    hint="scores = q @ k.transpose(-2, -1) / sqrt(d); scores.masked_fill(~mask, -inf) where a mask is given; "
         "weights = softmax over the keys (dim=-1); return (weights @ v, weights); "
         "[0] in a message is the output, [1] the weights",
)


# ---- 4.3 the causal mask -----------------------------------------------------------------------

def _mask_is_bool(candidate, reference) -> None:
    got = candidate(3)
    if not isinstance(got, torch.Tensor) or got.dtype != torch.bool:
        raise AssertionError(f"causal_mask must return a bool tensor (True = may attend), got "
                             f"{getattr(got, 'dtype', type(got).__name__)}")


def _mask_rejects_bad_n(candidate, reference) -> None:
    for n in (0, -2):
        try:
            candidate(n)
        except ValueError:
            continue
        raise AssertionError(f"causal_mask({n}) must raise ValueError (n must be >= 1)")


check_causal_mask = Exercise(
    "4.3", "the causal mask", causal_mask,
    cases=[
        _mask_is_bool,
        same_output(1, label="causal_mask(1)"),
        same_output(4, label="causal_mask(4)"),
        same_output(7, label="causal_mask(7)"),
        _mask_rejects_bad_n,
    ],
    hint="position i may attend to keys j <= i (itself included): torch.ones(n, n, dtype=torch.bool).tril()",
)


# ---- 4.4 / 4.5 splitting and merging heads ----------------------------------------------------

def _split_matches_the_layer(candidate, reference) -> None:
    layer = MultiHeadAttention(12, 3)
    x = _randn(2, 5, 12, seed=40)
    got = candidate(x, 3)
    assert_close("split_heads(x [2, 5, 12], 3) (the layout MultiHeadAttention uses)", got, layer._split(x))


def _split_rejects_indivisible(candidate, reference) -> None:
    try:
        candidate(_randn(1, 2, 10, seed=41), 3)
    except ValueError:
        return
    raise AssertionError("split_heads(x with 10 features, n_heads=3) must raise ValueError (10 is not divisible by 3)")


def _merge_inverts_split(candidate, reference) -> None:
    x = _randn(3, 4, 8, seed=42)
    for n_heads in (1, 2, 4, 8):
        assert_close(f"merge_heads(split_heads(x [3, 4, 8], {n_heads}))", candidate(split_heads(x, n_heads)), x)


check_split_heads = Exercise(
    "4.4", "splitting heads", split_heads,
    cases=[
        same_output(_randn(2, 5, 12, seed=43), 3, label="split_heads(x [2, 5, 12], 3)"),
        same_output(_randn(1, 7, 8, seed=44), 1, label="split_heads(x [1, 7, 8], 1)"),
        same_output(_randn(3, 2, 8, seed=45), 8, label="split_heads(x [3, 2, 8], 8)"),
        _split_matches_the_layer,
        _split_rejects_indivisible,
    ],
    hint="x.reshape(B, L, H, d // H).transpose(1, 2): each head keeps a contiguous block of features; "
         "reshaping straight to [B, H, L, d // H] mixes positions into heads",
)

check_merge_heads = Exercise(
    "4.5", "merging heads", merge_heads,
    cases=[
        same_output(_randn(2, 3, 5, 4, seed=46), label="merge_heads(x [2, 3, 5, 4])"),
        same_output(_randn(1, 1, 6, 8, seed=47), label="merge_heads(x [1, 1, 6, 8])"),
        _merge_inverts_split,
    ],
    hint="x.transpose(1, 2) brings L next to the batch again, then .reshape(B, L, H * d_h) puts the heads "
         "side by side",
)
