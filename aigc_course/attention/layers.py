"""Self-attention (自注意力机制), chapter 04: from the article's loop to a Transformer block.

Scaled dot-product attention of ``q [..., Lq, d]`` on ``k [..., Lk, d]``, ``v [..., Lk, dv]``:
weights = softmax(q k^T / sqrt(d) + mask), output = weights v, so each output row is a weighted average of the value rows, with weights that are positive and
sum to one. Masks follow ``torch.nn.functional.scaled_dot_product_attention``: a bool mask is
True where a query *may* attend, a float mask is added to the scores.

**Fully masked rows.** A query that may attend to nothing has no average to take (softmax
would give 0/0 = NaN). The rule here, as in PyTorch >= 2.5's ``scaled_dot_product_attention``: its
weights are all zero and its attention output is the zero vector (in
:class:`MultiHeadAttention`, zero *before* the output projection, so the result is the output
bias). Gradients stay finite.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from ..validate import require_bool, require_choice, require_finite, require_float, require_int, require_tensor


def _stable_softmax(x: torch.Tensor, dim: int, temperature: float = 1.0) -> torch.Tensor:
    # The temperature as this dtype can hold it: a T below the smallest normal number would round to 0
    # (0/0 = NaN) and one above the largest to inf (-inf/inf = NaN). Clamping changes no weight that the
    # dtype can represent: the limits are already the one-hot argmax (T -> 0) and the uniform (T -> inf).
    if x.is_floating_point():
        info = torch.finfo(x.dtype)
        temperature = min(max(temperature, info.tiny), info.max)
    # Subtract the (detached) maximum: exp never overflows, the result is unchanged.
    m = x.detach().amax(dim=dim, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))  # all -inf slice: keep -inf -> exp = 0
    e = torch.exp((x - m) / temperature)
    s = e.sum(dim=dim, keepdim=True)
    return e / torch.where(s > 0, s, torch.ones_like(s))  # an all -inf slice gives zeros, not 0/0


def softmax(x: torch.Tensor, dim: int = -1, temperature: float = 1.0) -> torch.Tensor:
    """Numerically stable softmax along ``dim``: ``exp((x_i - max x) / T) / sum_j exp((x_j - max x) / T)``.

    Equal to ``exp(x_i / T) / sum_j exp(x_j / T)`` but never overflows (the largest exponent is
    0). Entries of ``-inf`` get weight 0; a slice that is entirely ``-inf`` gets all-zero
    weights (the fully-masked-row rule of this module). Any shape; same shape out.
    """
    require_tensor("x", x, floating=True)
    require_int("dim", dim, minimum=-max(x.ndim, 1), maximum=max(x.ndim, 1) - 1)
    temperature = require_float("temperature", temperature, minimum=0.0, strict_minimum=True)
    if x.ndim and x.shape[dim] == 0:
        raise ValueError(f"x must have at least one entry along dim={dim} (a softmax over nothing is undefined), "
                         f"got shape {list(x.shape)}")
    require_finite("x", x, allow_neg_inf=True)
    return _stable_softmax(x, dim, temperature)


def attention_loops(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    scale: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The article's §3.3 pseudo-code made correct, with explicit Python loops (slow, for reading).

    ``q [n, d]``, ``k [m, d]``, ``v [m, dv]`` -> ``(output [n, dv], weights [n, m])`` in float64:
    s_ij = scale * sum_t q_it k_jt;  w_ij = exp(s_ij - max_j s) / sum_k exp(s_ik - max_j s);
    y_i = sum_j w_ij v_j. ``scale`` defaults to 1 / sqrt(d).
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        require_tensor(name, t, ndim=2, floating=True, finite=True)
    if len(k) == 0:
        raise ValueError(f"k must hold at least one key (an average over nothing is undefined), got {list(k.shape)}")
    if q.shape[1] != k.shape[1]:
        raise ValueError(f"q and k must have the same feature size d, got q {list(q.shape)} and k {list(k.shape)}")
    if k.shape[0] != v.shape[0]:
        raise ValueError(f"k and v must have the same number of positions, got k {list(k.shape)} and v {list(v.shape)}")
    d = q.shape[1]
    scale = 1.0 / math.sqrt(d) if scale is None else require_float("scale", scale, minimum=0.0, strict_minimum=True)
    qs, ks, vs = q.tolist(), k.tolist(), v.tolist()
    weights, outputs = [], []
    for i in range(len(qs)):
        scores = [scale * sum(qs[i][t] * ks[j][t] for t in range(d)) for j in range(len(ks))]
        if not all(math.isfinite(s) for s in scores):
            raise ValueError(f"q and k are too large: the scores of query {i} overflow float64")
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        w_i = [e / total for e in exps]  # the normalization the article's pseudo-code forgot
        weights.append(w_i)
        outputs.append([sum(w_i[j] * vs[j][c] for j in range(len(vs))) for c in range(v.shape[1])])
    return torch.tensor(outputs, dtype=torch.float64), torch.tensor(weights, dtype=torch.float64)


def _check_mask(mask: torch.Tensor, scores_shape: torch.Size, like: torch.Tensor) -> None:
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor or None, got {type(mask).__name__}")
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise TypeError(f"mask must be bool (True = may attend) or floating (added to the scores), got dtype {mask.dtype}")
    if mask.device != like.device:
        raise ValueError(f"mask must be on the same device as q ({like.device}), got {mask.device}")
    try:
        torch.broadcast_shapes(mask.shape, scores_shape)
    except RuntimeError:
        raise ValueError(f"mask of shape {list(mask.shape)} does not broadcast to the scores' shape "
                         f"{list(scores_shape)} [..., Lq, Lk]") from None
    if mask.ndim > len(scores_shape):
        raise ValueError(f"mask has more dimensions ({mask.ndim}) than the scores {list(scores_shape)}")
    if mask.is_floating_point() and (torch.isnan(mask).any() or torch.isposinf(mask).any()):
        raise ValueError("a float mask must not contain NaN or +inf (use -inf to forbid a position)")


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None,
                                 scale: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(softmax(q k^T * scale + mask) v, weights)``; ``scale`` defaults to 1 / sqrt(d).

    Shapes: ``q [..., Lq, d]``, ``k [..., Lk, d]``, ``v [..., Lk, dv]`` (leading dimensions
    broadcast) -> ``output [..., Lq, dv]``, ``weights [..., Lq, Lk]`` (rows sum to 1, or are
    all zero for a fully masked query). ``mask`` broadcasts to ``[..., Lq, Lk]``: bool, True
    where attending is allowed; or float, added to the scores (``-inf`` forbids).
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        require_tensor(name, t, floating=True, finite=True)
        if t.ndim < 2:
            raise ValueError(f"{name} must have shape [..., L, features] (at least 2 dimensions), got {list(t.shape)}")
    if k.shape[-2] == 0:
        raise ValueError(f"k must hold at least one key position (an average over nothing is undefined), "
                         f"got shape {list(k.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same feature size d, got q {list(q.shape)} and k {list(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of positions Lk, got k {list(k.shape)} and v {list(v.shape)}")
    if not (q.dtype == k.dtype == v.dtype) or not (q.device == k.device == v.device):
        raise ValueError(f"q, k, v must share dtype and device, got {q.dtype}/{q.device}, "
                         f"{k.dtype}/{k.device}, {v.dtype}/{v.device}")
    try:
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading (batch) dimensions of q {list(q.shape)}, k {list(k.shape)} and "
                         f"v {list(v.shape)} do not broadcast") from None
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else require_float("scale", scale, minimum=0.0,
                                                                           strict_minimum=True)
    scores = (q @ k.transpose(-2, -1)) * scale                     # [..., Lq, Lk]
    if not bool(torch.isfinite(scores).all()):  # finite q, k whose products overflow this dtype: score in float64
        scores = (q.double() @ k.double().transpose(-2, -1)) * scale
        if not bool(torch.isfinite(scores).all()):
            raise ValueError(f"q and k are too large: their scores overflow even float64 (max |q| "
                             f"{q.abs().max().item():.3g}, max |k| {k.abs().max().item():.3g})")
    if mask is not None:
        _check_mask(mask, torch.Size([*batch, q.shape[-2], k.shape[-2]]), q)
        if mask.dtype == torch.bool:
            scores = torch.where(mask, scores, torch.full((), float("-inf"), dtype=scores.dtype, device=scores.device))
        else:
            scores = scores + mask.to(scores.dtype)
    weights = _stable_softmax(scores, dim=-1).to(v.dtype)            # fully masked rows -> zeros
    return weights @ v, weights


def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Bool ``[n, n]``, True where key j <= query i: position i may look at itself and the past only."""
    require_int("n", n, minimum=1, maximum=1 << 15)
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


class SelfAttention(nn.Module):
    """One head with learned projections: Q = x W_q, K = x W_k, V = x W_v, then scaled dot-product attention.

    ``x [..., L, d_model]`` -> ``(output [..., L, d_v], weights [..., L, L])``.
    """

    def __init__(self, d_model: int, d_k: int | None = None, d_v: int | None = None, bias: bool = False) -> None:
        super().__init__()
        require_int("d_model", d_model, minimum=1)
        d_k = d_model if d_k is None else require_int("d_k", d_k, minimum=1)
        d_v = d_model if d_v is None else require_int("d_v", d_v, minimum=1)
        self.d_model = d_model
        self.w_q = nn.Linear(d_model, d_k, bias=bias)
        self.w_k = nn.Linear(d_model, d_k, bias=bias)
        self.w_v = nn.Linear(d_model, d_v, bias=bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        require_tensor("x", x, floating=True, finite=True)
        if x.ndim < 2 or x.shape[-1] != self.d_model:
            raise ValueError(f"x must have shape [..., L, {self.d_model}], got {list(x.shape)}")
        return scaled_dot_product_attention(self.w_q(x), self.w_k(x), self.w_v(x), mask=mask)


class MultiHeadAttention(nn.Module):
    """``n_heads`` attention heads on ``d_model / n_heads``-dimensional slices, concatenated, projected.

    head_h = attention(query W_q^h, key W_k^h, value W_v^h);  out = concat(head_1..head_H) W_o.
    ``query [B, Lq, d_model]``, ``key``/``value [B, Lk, d_model]`` (default: the query, i.e.
    self-attention) -> ``(out [B, Lq, d_model], weights [B, H, Lq, Lk])``. ``mask`` is
    ``[Lq, Lk]``, ``[B, Lq, Lk]`` or ``[B, H, Lq, Lk]`` (bool True = may attend, or float added).
    With ``causal=True`` the causal mask is combined with ``mask`` (self-attention, Lq = Lk).
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = True, causal: bool = False) -> None:
        super().__init__()
        require_int("d_model", d_model, minimum=1)
        require_int("n_heads", n_heads, minimum=1)
        if d_model % n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={d_model}, n_heads={n_heads}")
        require_bool("causal", causal)
        self.d_model, self.n_heads, self.d_head, self.causal = d_model, n_heads, d_model // n_heads, causal
        self.w_q = nn.Linear(d_model, d_model, bias=bias)
        self.w_k = nn.Linear(d_model, d_model, bias=bias)
        self.w_v = nn.Linear(d_model, d_model, bias=bias)
        self.w_o = nn.Linear(d_model, d_model, bias=bias)

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # [B, L, d_model] -> [B, H, L, d_head]
        return x.view(x.shape[0], x.shape[1], self.n_heads, self.d_head).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None, value: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            require_tensor(name, t, ndim=3, floating=True, finite=True)
            if t.shape[-1] != self.d_model:
                raise ValueError(f"{name} must have shape [B, L, {self.d_model}], got {list(t.shape)}")
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(f"query [B, Lq, d], key and value [B, Lk, d] must agree, got {list(query.shape)}, "
                             f"{list(key.shape)}, {list(value.shape)}")
        lq, lk = query.shape[1], key.shape[1]
        if mask is not None:
            require_tensor("mask", mask, ndim=(2, 3, 4))
            if mask.ndim == 3:
                mask = mask.unsqueeze(1)  # [B, Lq, Lk] -> [B, 1, Lq, Lk], the same for every head
            _check_mask(mask, torch.Size([query.shape[0], self.n_heads, lq, lk]), query)
        if self.causal:
            if lq != lk:
                raise ValueError(f"causal attention needs as many queries as keys, got Lq={lq}, Lk={lk}")
            allowed = causal_mask(lq, device=query.device)
            if mask is None:
                mask = allowed
            elif mask.dtype == torch.bool:
                mask = mask & allowed
            else:
                mask = mask.masked_fill(~allowed, float("-inf"))
        out, weights = scaled_dot_product_attention(
            self._split(self.w_q(query)), self._split(self.w_k(key)), self._split(self.w_v(value)), mask=mask)
        out = out.transpose(1, 2).reshape(query.shape[0], lq, self.d_model)  # concatenate the heads
        return self.w_o(out), weights

    @torch.no_grad()
    def load_torch_weights(self, mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy the weights of a ``torch.nn.MultiheadAttention`` of the same size (for comparisons)."""
        if not isinstance(mha, nn.MultiheadAttention):
            raise TypeError(f"mha must be a torch.nn.MultiheadAttention, got {type(mha).__name__}")
        if mha.embed_dim != self.d_model or mha.num_heads != self.n_heads or mha.in_proj_weight is None:
            raise ValueError("mha must have the same embed_dim and num_heads and packed q/k/v projections")
        if mha.bias_k is not None or mha.add_zero_attn or (mha.in_proj_bias is None) != (self.w_q.bias is None):
            raise ValueError("mha must use plain attention (no bias_k/bias_v, add_zero_attn) and the same bias setting")
        for layer, w in zip((self.w_q, self.w_k, self.w_v), mha.in_proj_weight.chunk(3)):
            layer.weight.copy_(w)
        if mha.in_proj_bias is not None:
            for layer, b in zip((self.w_q, self.w_k, self.w_v), mha.in_proj_bias.chunk(3)):
                layer.bias.copy_(b)
            self.w_o.bias.copy_(mha.out_proj.bias)
        self.w_o.weight.copy_(mha.out_proj.weight)
        return self


class TransformerBlock(nn.Module):
    """Transformer block, pre-LayerNorm by default; ``[B, L, d_model]`` in and out.

    ``norm="pre"`` (Xiong et al., 2020): h = x + Dropout(MHA(LN_1(x))); y = h + Dropout(MLP(LN_2(h))).
    ``norm="post"`` (the original Transformer): h = LN_1(x + MHA(x)); y = LN_2(h + MLP(h)).
    MLP = W_2 GELU(W_1 .), hidden size ``mlp_ratio * d_model``; ``residual=False`` drops the ``x +``
    and ``h +`` (for the comparison in chapter 04). ``causal=True`` (default) masks the future.
    """

    def __init__(self, d_model: int, n_heads: int, mlp_ratio: int = 4, dropout: float = 0.0,
                 causal: bool = True, norm: str = "pre", residual: bool = True) -> None:
        super().__init__()
        require_int("mlp_ratio", mlp_ratio, minimum=1)
        require_float("dropout", dropout, minimum=0.0, maximum=0.99)
        self.norm, self.residual = require_choice("norm", norm, ("pre", "post")), require_bool("residual", residual)
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, causal=causal)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, mlp_ratio * d_model), nn.GELU(),
                                 nn.Linear(mlp_ratio * d_model, d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                return_weights: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``x [B, L, d_model]`` -> ``[B, L, d_model]`` (and the ``[B, H, L, L]`` weights if asked)."""
        require_tensor("x", x, ndim=3, floating=True, finite=True)
        require_bool("return_weights", return_weights)
        skip = 1.0 if self.residual else 0.0
        if self.norm == "pre":
            attended, weights = self.attn(self.ln1(x), mask=mask)
            h = skip * x + self.dropout(attended)
            y = skip * h + self.dropout(self.mlp(self.ln2(h)))
        else:
            attended, weights = self.attn(x, mask=mask)
            h = self.ln1(skip * x + self.dropout(attended))
            y = self.ln2(skip * h + self.dropout(self.mlp(h)))
        return (y, weights) if return_weights else y
