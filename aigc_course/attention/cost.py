"""What attention costs: FLOPs of a Transformer block by part, time and memory against sequence length.

Forward FLOPs of one pre-LN :class:`~aigc_course.attention.TransformerBlock` on a sequence of
``L`` tokens of width ``d`` (a multiply-add counts 2 FLOPs; LayerNorm, softmax, GELU and the
residual additions are O(L d) and left out):

    projections Q, K, V, O:   4 * 2 L d^2   = 8 L d^2
    scores  Q K^T:            2 L^2 d
    weights @ V:              2 L^2 d
    MLP (d -> r d -> d):      2 * 2 L r d^2 = 4 r L d^2

so the attention-specific, quadratic part is 4 L^2 d out of (8 + 4 r) L d^2 + 4 L^2 d: with
``r = 4`` it is 4L / (24 d + 4L), i.e. 1/7 at L = d, and it overtakes everything else only when
L > 6 d. The head count does not change these numbers (the heads split d).
"""

from __future__ import annotations

import time

import torch

from ..training import evaluating
from ..validate import require_int, require_seed
from .layers import TransformerBlock


def block_flops(d_model: int, length: int, mlp_ratio: int = 4) -> dict[str, int]:
    """Forward FLOPs of one Transformer block by part: ``{"projections", "scores", "weighted sum", "mlp", "total"}``."""
    d = require_int("d_model", d_model, minimum=1, maximum=1 << 16)
    n = require_int("length", length, minimum=1, maximum=1 << 20)
    r = require_int("mlp_ratio", mlp_ratio, minimum=1, maximum=64)
    parts = {"projections": 8 * n * d * d, "scores": 2 * n * n * d, "weighted sum": 2 * n * n * d,
             "mlp": 4 * r * n * d * d}
    parts["total"] = sum(parts.values())
    return parts


def attention_crossover(d_model: int, mlp_ratio: int = 4) -> int:
    """The sequence length above which the quadratic part (4 L^2 d) exceeds the rest ((8 + 4r) L d^2): (2 + r) d."""
    require_int("d_model", d_model, minimum=1, maximum=1 << 16)
    require_int("mlp_ratio", mlp_ratio, minimum=1, maximum=64)
    return (2 + mlp_ratio) * d_model


def measure_block_cost(lengths: list[int] | tuple[int, ...], d_model: int = 64, n_heads: int = 4, batch_size: int = 1,
                       repeats: int = 3, seed: int = 0) -> dict[str, list[float]]:
    """Forward time (best of ``repeats``, seconds) and attention-weight memory of a block against sequence length.

    Returns ``{"lengths", "seconds", "weights_mib"}``: ``weights_mib`` is the size of the
    ``[B, H, L, L]`` float32 weight tensor the block materializes (it grows as L^2), measured
    from the tensor the block returns. CPU, eval mode, no gradients.
    """
    if not isinstance(lengths, (list, tuple)) or not lengths:
        raise TypeError(f"lengths must be a non-empty list of sequence lengths, got {lengths!r}")
    lengths = [require_int(f"lengths[{i}]", v, minimum=1, maximum=8192) for i, v in enumerate(lengths)]
    require_int("d_model", d_model, minimum=1, maximum=4096)
    require_int("n_heads", n_heads, minimum=1, maximum=d_model)
    require_int("batch_size", batch_size, minimum=1, maximum=1024)
    require_int("repeats", repeats, minimum=1, maximum=100)
    generator = torch.Generator().manual_seed(require_seed(seed))
    block = TransformerBlock(d_model, n_heads, causal=False)
    result: dict[str, list[float]] = {"lengths": lengths, "seconds": [], "weights_mib": []}
    with evaluating(block):
        for n in lengths:
            x = torch.randn(batch_size, n, d_model, generator=generator)
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                _, weights = block(x, return_weights=True)
                best = min(best, time.perf_counter() - start)
            result["seconds"].append(best)
            result["weights_mib"].append(weights.numel() * weights.element_size() / 2 ** 20)
    return result
