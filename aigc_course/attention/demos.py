"""Chapter 04's worked example (article §4.3, done right), the sqrt(d) demo, and the figures behind its widgets.

The article's example: inputs 1..5 as 1-d feature vectors, used directly as queries, keys and
values (no learned projections), scores s_ij = a_i a_j and

    w_ij = exp(a_i a_j / T) / sum_k exp(a_i a_k / T),   y_i = sum_j w_ij x_j,

with temperature T = 1 (the article's case; for d = 1 the usual 1/sqrt(d) scale is also 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .layers import softmax
from ..validate import require_float, require_int, require_numbers, require_seed, require_tensor

ARTICLE_INPUTS = (1.0, 2.0, 3.0, 4.0, 5.0)


@dataclass
class WorkedExample:
    """Every intermediate quantity of self-attention on 1-d inputs (float64, n = len(inputs))."""

    inputs: torch.Tensor       # [n] x_i (also the queries a_i, keys and values)
    temperature: float
    scores: torch.Tensor       # [n, n] s_ij = a_i a_j / T
    exp_scores: torch.Tensor   # [n, n] exp(s_ij)
    row_sums: torch.Tensor     # [n] sum_k exp(s_ik), the softmax denominators
    weights: torch.Tensor      # [n, n] w_ij = exp(s_ij) / row_sums_i
    numerators: torch.Tensor   # [n] sum_j exp(s_ij) x_j
    outputs: torch.Tensor      # [n] y_i = sum_j w_ij x_j = numerators_i / row_sums_i


def worked_example(inputs: Sequence[float] = ARTICLE_INPUTS, temperature: float = 1.0) -> WorkedExample:
    """Self-attention of the 1-d sequence ``inputs`` on itself, with every intermediate sum.

    ``exp_scores``, ``row_sums`` and ``numerators`` are the raw exponentials the article writes
    (float64; they must stay below ~1e308, so ``max|a_i a_j| / T`` must stay below 700); the
    weights come from the stable softmax.
    """
    if isinstance(inputs, torch.Tensor):
        require_tensor("inputs", inputs, ndim=1)
        x = inputs.detach().to(torch.float64).cpu()
    else:
        x = torch.tensor(require_numbers("inputs", inputs), dtype=torch.float64)
    if x.numel() < 1 or not torch.isfinite(x).all():
        raise ValueError(f"inputs must be a non-empty sequence of finite numbers, got {x.tolist()}")
    temperature = require_float("temperature", temperature, minimum=0.0, strict_minimum=True)
    scores = torch.outer(x, x) / temperature
    if scores.abs().max() > 700:
        raise ValueError(f"max |a_i a_j| / temperature must be <= 700 for the raw exponentials to fit in "
                         f"float64, got {scores.abs().max().item():.4g}; raise the temperature")
    exp_scores = scores.exp()
    weights = softmax(scores, dim=-1)
    return WorkedExample(inputs=x, temperature=temperature, scores=scores, exp_scores=exp_scores,
                         row_sums=exp_scores.sum(-1), weights=weights, numerators=exp_scores @ x,
                         outputs=weights @ x)


@dataclass
class ArticleClaims:
    """The article's §4.3 numbers for the first element, and what they imply when computed."""

    weights: torch.Tensor            # [5] the article's w_1j = j/5
    weights_sum: float               # their sum (a softmax row must sum to 1)
    claimed_y1: float                # the article's y_1 = 35/5
    y1_from_its_weights: float       # sum_j w_1j x_j with the article's own weights
    exp_terms: torch.Tensor          # [5] e^{1*j}, the true numerators
    article_terms: torch.Tensor      # [5] j * e, what the article wrote for e^{1*j}
    article_denominator: float       # the article's 5e
    true_denominator: float          # e^1 + ... + e^5


def article_claims() -> ArticleClaims:
    """Recompute the article's §4.3 first row as printed (w_1j = j/5, y_1 = 35/5) and the true terms."""
    x = torch.tensor(ARTICLE_INPUTS, dtype=torch.float64)
    w = x / 5.0
    e = math.e
    return ArticleClaims(weights=w, weights_sum=float(w.sum()), claimed_y1=35.0 / 5.0,
                         y1_from_its_weights=float(w @ x), exp_terms=torch.exp(1.0 * x), article_terms=x * e,
                         article_denominator=5 * e, true_denominator=float(torch.exp(x).sum()))


def article_pseudocode(inputs: Sequence[float]) -> list[float]:
    """The article's §3.3 pseudo-code run literally on 1-d inputs, with similarity(a, b) = a * b. Wrong on purpose.

    Its inner loop overwrites one scalar ``w_ij``, so every term of ``output_i`` uses the last
    weight ``w_in = x_i x_n``, and nothing is normalized: output_i = x_i x_n sum_j x_j.
    """
    x = require_numbers("inputs", inputs)
    if not x:
        raise ValueError("inputs must be a non-empty sequence of numbers")
    n = len(x)
    outputs = []
    for i in range(n):
        for j in range(n):
            w_ij = x[i] * x[j]                                    # "w_ij = similarity(x_i, x_j)"
        outputs.append(sum(w_ij * x[j] for j in range(n)))      # "output_i = sum(w_ij * x_j for j in range(n))"
    return outputs


def plot_worked_example(temperature: float = 1.0, query: int = 1,
                        inputs: Sequence[float] = ARTICLE_INPUTS) -> plt.Figure:
    """Widget figure: the weights of query ``query`` (1-based) and all outputs y_i at this temperature."""
    ex = worked_example(inputs, temperature)
    n = ex.inputs.numel()
    require_int("query", query, minimum=1, maximum=n)
    fig, (ax_w, ax_y) = plt.subplots(1, 2, figsize=(10, 3.6))
    labels = [f"x{j + 1}={v:g}" for j, v in enumerate(ex.inputs.tolist())]
    w = ex.weights[query - 1].numpy()
    bars = ax_w.bar(range(n), w, color="#4c72b0")
    for bar, value in zip(bars, w):
        ax_w.text(bar.get_x() + bar.get_width() / 2, value + 0.01, f"{value:.4f}", ha="center", fontsize=8)
    ax_w.set_xticks(range(n), labels)
    ax_w.set_ylim(0, 1.1)
    ax_w.axhline(1 / n, color="grey", ls=":", lw=1, label=f"uniform 1/{n}")
    ax_w.set_ylabel(f"weight w_{query}j")
    ax_w.set_title(f"weights of query {query} (sum = {w.sum():.4f}), T = {temperature:.3g}")
    ax_w.legend(loc="upper left", fontsize=8)
    xs = ex.inputs.numpy()
    ax_y.plot(range(1, n + 1), ex.outputs.numpy(), "o-", color="#c44e52", label="output y_i")
    ax_y.plot(range(1, n + 1), xs, "s--", color="grey", alpha=0.6, label="input x_i")
    ax_y.axhspan(xs.min(), xs.max(), color="#dddddd", alpha=0.4, label="range of the inputs")
    for i, y in enumerate(ex.outputs.tolist(), start=1):
        ax_y.annotate(f"{y:.4f}", (i, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax_y.plot([query], [ex.outputs[query - 1].item()], "o", ms=12, mfc="none", mec="#c44e52", label=f"y_{query}")
    span = max(float(xs.max() - xs.min()), 1e-9)
    ax_y.set_ylim(xs.min() - 0.1 * span, xs.max() + 0.2 * span)
    ax_y.set_xticks(range(1, n + 1))
    ax_y.set_xlabel("position i")
    ax_y.set_title("outputs: weighted averages stay inside the inputs' range")
    ax_y.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def saturation_stats(dims: Sequence[int], n_keys: int = 16, n_trials: int = 1000,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Softmax saturation without the 1/sqrt(d) scale, measured on random q, k ~ N(0, I_d).

    For each d: the standard deviation of the scores q.k (grows like sqrt(d)) and of q.k/sqrt(d)
    (stays ~1); the mean largest weight over ``n_keys`` keys; and the mean of 1 - sum_j p_j^2,
    the trace of the softmax Jacobian diag(p) - p p^T, which goes to 0 as the softmax
    saturates into a one-hot vector (vanishing gradients).
    """
    if not isinstance(dims, (list, tuple)) or not dims:
        raise ValueError(f"dims must be a non-empty list of dimensions, got {dims!r}")
    dims = [require_int(f"dims[{i}]", d, minimum=1, maximum=1 << 16) for i, d in enumerate(dims)]
    require_int("n_keys", n_keys, minimum=2, maximum=10_000)
    require_int("n_trials", n_trials, minimum=2, maximum=100_000)
    generator = torch.Generator().manual_seed(require_seed(seed))
    out: dict[str, list[float]] = {key: [] for key in (
        "score_std_unscaled", "score_std_scaled", "max_weight_unscaled", "max_weight_scaled",
        "jacobian_trace_unscaled", "jacobian_trace_scaled")}
    for d in dims:
        q = torch.randn(n_trials, 1, d, generator=generator, dtype=torch.float64)
        k = torch.randn(n_trials, n_keys, d, generator=generator, dtype=torch.float64)
        raw = (q @ k.transpose(1, 2)).squeeze(1)                  # [n_trials, n_keys]
        for name, scores in (("unscaled", raw), ("scaled", raw / math.sqrt(d))):
            p = softmax(scores, dim=-1)
            out[f"score_std_{name}"].append(scores.std().item())
            out[f"max_weight_{name}"].append(p.max(-1).values.mean().item())
            out[f"jacobian_trace_{name}"].append((1 - (p ** 2).sum(-1)).mean().item())
    result = {key: np.array(values) for key, values in out.items()}
    result["dims"] = np.array(dims)
    return result


def plot_saturation(stats: dict[str, np.ndarray], n_keys: int = 16) -> plt.Figure:
    """Three panels from :func:`saturation_stats`: score spread, largest weight, gradient signal."""
    keys = ["dims"] + [f"{k}_{s}" for k in ("score_std", "max_weight", "jacobian_trace") for s in ("unscaled", "scaled")]
    if not isinstance(stats, dict) or any(key not in stats for key in keys):
        raise ValueError(f"stats must be the dict saturation_stats returns (keys {keys})")
    require_int("n_keys", n_keys, minimum=2)
    d = stats["dims"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    panels = (("score_std", "std of the scores", None), ("max_weight", "mean largest weight", 1 / n_keys),
              ("jacobian_trace", "mean 1 - sum p_j^2 (gradient signal)", 1 - 1 / n_keys))
    for ax, (key, title, reference) in zip(axes, panels):
        ax.plot(d, stats[f"{key}_unscaled"], "o-", color="#c44e52", label="q.k (unscaled)")
        ax.plot(d, stats[f"{key}_scaled"], "s-", color="#4c72b0", label="q.k / sqrt(d)")
        if key == "score_std":
            ax.plot(d, np.sqrt(d), ":", color="grey", label="sqrt(d)")
        elif reference is not None:
            ax.axhline(reference, color="grey", ls=":", lw=1, label="uniform weights")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("dimension d")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_attention(weights: torch.Tensor, query_labels: Sequence[str], key_labels: Sequence[str],
                   title: str = "", ax: plt.Axes | None = None, annotate: bool = True) -> plt.Axes:
    """Heatmap of one attention matrix ``[Lq, Lk]`` (row i: how query i spreads its weight over the keys)."""
    require_tensor("weights", weights, ndim=2, floating=True, finite=True)
    if len(query_labels) != weights.shape[0] or len(key_labels) != weights.shape[1]:
        raise ValueError(f"need {weights.shape[0]} query labels and {weights.shape[1]} key labels, "
                         f"got {len(query_labels)} and {len(key_labels)}")
    w = weights.detach().float().cpu().numpy()
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * w.shape[1] + 2, 0.5 * w.shape[0] + 1.2))
    image = ax.imshow(w, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(w.shape[1]), key_labels)
    ax.set_yticks(range(w.shape[0]), query_labels)
    ax.set_xlabel("key position (attended to)")
    ax.set_ylabel("query position")
    if annotate and w.size <= 144:
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center",
                        fontsize=7, color="white" if w[i, j] > 0.6 else "black")
    plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
