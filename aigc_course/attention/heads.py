"""Heads, padding and two sequences (chapter 04): the bookkeeping around multi-head attention.

* :func:`split_heads` / :func:`merge_heads`: ``[B, L, H * d_h]`` <-> ``[B, H, L, d_h]``. Head h
  owns the features ``h * d_h .. (h + 1) * d_h - 1`` of every position (the layout of
  ``torch.nn.MultiheadAttention``); merging is the exact inverse (the heads' outputs concatenated).
* :func:`key_padding_mask`: sequences of different lengths padded to one length in a batch; the
  mask ``[B, 1, L]`` (True = a real token) stops every query from attending to the padding.
* :func:`multi_head_attention`: the whole multi-head computation from the projection matrices,
  written with the two functions above, so a learner's versions can be run inside it:

      head_h = softmax(Q_h K_h^T / sqrt(d_h)) V_h,  Q = x_q W_q^T + b_q (likewise K, V from x_kv),
      out = merge(head_1..head_H) W_o^T + b_o.

  With ``x_kv = x_q`` it is self-attention; with another sequence it is **cross-attention**
  (queries from one sequence, keys and values from another, as a translation model's decoder
  reads its encoder).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn

from ..validate import require_int, require_tensor
from .layers import MultiHeadAttention, scaled_dot_product_attention


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """``[B, L, d]`` -> ``[B, H, L, d / H]``: head h gets features h * d/H .. (h+1) * d/H - 1 of each position."""
    require_tensor("x", x, ndim=3)
    require_int("n_heads", n_heads, minimum=1)
    batch, length, d = x.shape
    if d % n_heads:
        raise ValueError(f"x's feature size must be divisible by n_heads, got {d} features and n_heads={n_heads}")
    return x.reshape(batch, length, n_heads, d // n_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``[B, H, L, d_h]`` -> ``[B, L, H * d_h]``, the inverse of :func:`split_heads` (heads concatenated)."""
    require_tensor("x", x, ndim=4)
    batch, n_heads, length, d_head = x.shape
    return x.transpose(1, 2).reshape(batch, length, n_heads * d_head)


def key_padding_mask(lengths: torch.Tensor | list[int], max_length: int) -> torch.Tensor:
    """Bool ``[B, 1, max_length]``: True at the first ``lengths[b]`` positions (real tokens), False on padding.

    It broadcasts over the queries (and heads) of :class:`MultiHeadAttention`'s ``mask``. PyTorch's
    ``nn.MultiheadAttention(key_padding_mask=...)`` takes the opposite, ``[B, L]`` True = padding.
    """
    require_int("max_length", max_length, minimum=1, maximum=1 << 20)
    if isinstance(lengths, (list, tuple)):
        lengths = torch.tensor([require_int(f"lengths[{i}]", n, minimum=1, maximum=max_length)
                                for i, n in enumerate(lengths)], dtype=torch.int64)
    require_tensor("lengths", lengths, ndim=1, integer=True, non_empty=True)
    if lengths.min() < 1 or lengths.max() > max_length:
        raise ValueError(f"lengths must be in 1..max_length={max_length} (every sequence keeps one real token), "
                         f"got {lengths.tolist()}")
    positions = torch.arange(max_length, device=lengths.device)
    return (positions[None, :] < lengths[:, None]).unsqueeze(1)


def multi_head_attention(layer: MultiHeadAttention, x_q: torch.Tensor, x_kv: torch.Tensor | None = None,
                         mask: torch.Tensor | None = None, split: Callable | None = None,
                         merge: Callable | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``layer``'s computation written out, with ``split``/``merge`` (default :func:`split_heads`/:func:`merge_heads`).

    ``x_q [B, Lq, d]``, ``x_kv [B, Lk, d]`` (default ``x_q``) -> ``(out [B, Lq, d], weights [B, H, Lq, Lk])``;
    equal to ``layer(x_q, x_kv, x_kv, mask=mask)`` when ``split``/``merge`` are right.
    """
    if not isinstance(layer, MultiHeadAttention):
        raise TypeError(f"layer must be a MultiHeadAttention, got {type(layer).__name__}")
    x_kv = x_q if x_kv is None else x_kv
    for name, t in (("x_q", x_q), ("x_kv", x_kv)):
        require_tensor(name, t, ndim=3, floating=True, finite=True)
        if t.shape[-1] != layer.d_model or t.shape[0] != x_q.shape[0]:
            raise ValueError(f"{name} must have shape [{x_q.shape[0]}, L, {layer.d_model}], got {list(t.shape)}")
    for name, fn in (("split", split), ("merge", merge)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be a function or None, got {type(fn).__name__}")
    split, merge = split or split_heads, merge or merge_heads
    heads = [split(projection(x), layer.n_heads)
             for projection, x in ((layer.w_q, x_q), (layer.w_k, x_kv), (layer.w_v, x_kv))]
    if mask is not None and mask.ndim == 3:
        mask = mask.unsqueeze(1)  # [B, Lq or 1, Lk] -> the same for every head
    out, weights = scaled_dot_product_attention(*heads, mask=mask)
    return layer.w_o(merge(out)), weights


def torch_reference(layer: MultiHeadAttention) -> nn.MultiheadAttention:
    """A ``torch.nn.MultiheadAttention`` (batch_first) holding ``layer``'s weights, for comparisons."""
    if not isinstance(layer, MultiHeadAttention):
        raise TypeError(f"layer must be a MultiHeadAttention, got {type(layer).__name__}")
    mha = nn.MultiheadAttention(layer.d_model, layer.n_heads, batch_first=True, bias=layer.w_q.bias is not None)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([layer.w_q.weight, layer.w_k.weight, layer.w_v.weight]))
        mha.out_proj.weight.copy_(layer.w_o.weight)
        if layer.w_q.bias is not None:
            mha.in_proj_bias.copy_(torch.cat([layer.w_q.bias, layer.w_k.bias, layer.w_v.bias]))
            mha.out_proj.bias.copy_(layer.w_o.bias)
    return mha.to(layer.w_q.weight.device)
