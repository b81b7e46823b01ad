"""Where a token is (chapter 04): attention alone cannot tell, so position is added to the input.

**Permutation equivariance.** Self-attention without positions treats its input as a *set*:
for any permutation P of the positions, Attn(P x) = P Attn(x) (the scores of the permuted
sequence are the permuted scores, and a softmax-weighted average does not care about the order
of its terms). :func:`permutation_error` measures max |f(P x) - P f(x)| for any layer f.

**Positional encodings** make the input at position t depend on t:

* learned: a trainable vector per position (``nn.Embedding(L, d)``), as in GPT;
* sinusoidal (Vaswani et al., 2017): PE(t, 2i) = sin(t / 10000^(2i/d)), PE(t, 2i+1) = cos(t / 10000^(2i/d)),
  fixed, defined for any t, with PE(t + k) a linear function (a rotation) of PE(t) for each frequency.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..validate import require_float, require_int, require_seed, require_tensor


def sinusoidal_positions(length: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """``[length, d_model]``: row t holds sin(t w_i) in even and cos(t w_i) in odd columns, w_i = base^(-2i/d)."""
    require_int("length", length, minimum=1, maximum=1 << 20)
    require_int("d_model", d_model, minimum=1, maximum=1 << 16)
    require_float("base", base, minimum=1.0, strict_minimum=True)
    t = torch.arange(length, dtype=torch.float64)[:, None]
    rates = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)   # [ceil(d / 2)]
    table = torch.zeros(length, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(t * rates)
    table[:, 1::2] = torch.cos(t * rates[: d_model // 2])
    return table.float()


def permutation_error(layer: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, seed: int = 0) -> float:
    """max |layer(x[:, P]) - layer(x)[:, P]| for a random permutation P of the positions of ``x [B, L, d]``.

    ``layer`` maps ``[B, L, d]`` to ``[B, L, d']`` (a tuple's first element is used). 0 up to rounding
    means the layer is permutation-equivariant: it cannot know where a token is.
    """
    if not callable(layer):
        raise TypeError(f"layer must be callable, got {type(layer).__name__}")
    require_tensor("x", x, ndim=3, floating=True, finite=True, non_empty=True)
    perm = torch.randperm(x.shape[1], generator=torch.Generator().manual_seed(require_seed(seed))).to(x.device)

    def run(inputs: torch.Tensor) -> torch.Tensor:
        out = layer(inputs)
        return out[0] if isinstance(out, tuple) else out

    with torch.no_grad():
        return (run(x[:, perm]) - run(x)[:, perm]).abs().max().item()
