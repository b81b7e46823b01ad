"""Wrong implementations of chapter 04's exercises; each must be graded FAIL."""

import math

import torch


# ---- 4.1 stable softmax
def naive_softmax(x, dim=-1, temperature=1.0):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    e = torch.exp(x / temperature)  # overflows to inf for logits ~ 1000: inf / inf = nan
    return e / e.sum(dim, keepdim=True)


def subtracts_global_maximum(x, dim=-1, temperature=1.0):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    e = torch.exp((x - x.max()) / temperature)  # a row far below the global max underflows to 0 / 0
    return e / e.sum(dim, keepdim=True)


def multiplies_by_temperature(x, dim=-1, temperature=1.0):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    e = torch.exp((x - x.amax(dim, keepdim=True)) * temperature)
    return e / e.sum(dim, keepdim=True)


def ignores_dim(x, dim=-1, temperature=1.0):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    e = torch.exp((x - x.amax(-1, keepdim=True)) / temperature)
    return e / e.sum(-1, keepdim=True)


def subtracts_in_place(x, dim=-1, temperature=1.0):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    x -= x.amax(dim, keepdim=True)  # right values, but the caller's tensor is changed
    e = torch.exp(x / temperature)
    return e / e.sum(dim, keepdim=True)


# ---- 4.2 scaled dot-product attention
def _masked_scores(q, k, mask, scale):
    scores = q @ k.transpose(-2, -1) * scale
    return scores if mask is None else scores.masked_fill(~mask, float("-inf"))


def forgets_the_scale(q, k, v, mask=None):
    w = torch.softmax(_masked_scores(q, k, mask, 1.0), dim=-1)
    return w @ v, w


def scales_by_d_not_sqrt_d(q, k, v, mask=None):
    w = torch.softmax(_masked_scores(q, k, mask, 1.0 / q.shape[-1]), dim=-1)
    return w @ v, w


def softmax_over_queries(q, k, v, mask=None):
    w = torch.softmax(_masked_scores(q, k, mask, 1.0 / math.sqrt(q.shape[-1])), dim=-2)
    return w @ v, w


def masks_after_softmax(q, k, v, mask=None):
    w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    if mask is not None:
        w = w * mask  # rows no longer sum to 1
    return w @ v, w


def inverted_mask(q, k, v, mask=None):
    mask = None if mask is None else ~mask  # True read as "masked" (nn.MultiheadAttention's convention)
    w = torch.softmax(_masked_scores(q, k, mask, 1.0 / math.sqrt(q.shape[-1])), dim=-1)
    return w @ v, w


# ---- 4.3 the causal mask
def _checked(n):
    if n < 1:
        raise ValueError("n must be >= 1")


def excludes_the_diagonal(n, device=None):
    _checked(n)
    return torch.ones(n, n, dtype=torch.bool, device=device).tril(diagonal=-1)


def upper_triangle(n, device=None):
    _checked(n)
    return torch.ones(n, n, dtype=torch.bool, device=device).triu()


def true_means_masked(n, device=None):
    _checked(n)
    return torch.ones(n, n, dtype=torch.bool, device=device).triu(diagonal=1)  # nn.MultiheadAttention's convention


def float_mask(n, device=None):
    _checked(n)
    return torch.ones(n, n, device=device).tril()


def int_mask(n, device=None):
    _checked(n)
    return torch.ones(n, n, dtype=torch.int64, device=device).tril()


def no_validation(n, device=None):
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


# ---- 4.4 splitting heads
def split_without_transpose(x, n_heads):
    b, n, d = x.shape
    if d % n_heads:
        raise ValueError("d not divisible")
    return x.reshape(b, n_heads, n, d // n_heads)  # right shape, but positions are cut into heads


def split_interleaved(x, n_heads):
    b, n, d = x.shape
    if d % n_heads:
        raise ValueError("d not divisible")
    return x.reshape(b, n, d // n_heads, n_heads).permute(0, 3, 1, 2)  # head h gets every H-th feature


def split_without_validation(x, n_heads):
    b, n, d = x.shape
    return x[..., : d // n_heads * n_heads].reshape(b, n, n_heads, d // n_heads).transpose(1, 2)  # drops features


# ---- 4.5 merging heads
def merge_without_transpose(x):
    b, h, n, dh = x.shape
    return x.reshape(b, n, h * dh)  # right shape, heads and positions mixed


def merge_interleaved(x):
    b, h, n, dh = x.shape
    return x.permute(0, 2, 3, 1).reshape(b, n, h * dh)  # features of the heads interleaved


def merge_keeps_first_head(x):
    b, h, n, dh = x.shape
    return x[:, 0].repeat(1, 1, h)


WRONG = {
    "4.1": [naive_softmax, subtracts_global_maximum, multiplies_by_temperature, ignores_dim, subtracts_in_place],
    "4.2": [forgets_the_scale, scales_by_d_not_sqrt_d, softmax_over_queries, masks_after_softmax, inverted_mask],
    "4.4": [split_without_transpose, split_interleaved, split_without_validation],
    "4.5": [merge_without_transpose, merge_interleaved, merge_keeps_first_head],
    "4.3": [excludes_the_diagonal, upper_triangle, true_means_masked, float_mask, int_mask, no_validation],
}
