"""Chapter 06: a tiny character-level Transformer built from chapter 04's blocks, trained and sampled.

The model reads ``L`` character ids and, at every position t, predicts the next character:

    h_0 = E[x_t] + P[t],   h_l = Block_l(h_{l-1}) (causal),   logits_t = W LN(h_N)

and is trained to minimize the cross-entropy -log p(x_{t+1} | x_1..x_t) in nats per
character. Generation is autoregressive: sample a character from p(. | context), append it,
repeat, with the distribution shaped by temperature and top-k
(:func:`aigc_course.char_data.next_char_probabilities`).
"""

from __future__ import annotations

import math
import time
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from ..training import History, device_of, evaluating, progress as progress_bar

from ..attention.layers import TransformerBlock
from .text_data import CharVocab, next_char_probabilities
from ..validate import require_float, require_ids, require_int, require_seed, require_tensor


class CharTransformer(nn.Module):
    """Token + learned position embeddings -> ``n_layers`` causal TransformerBlocks -> LayerNorm -> logits.

    ``forward(idx)``: int ids ``[B, L]`` with ``L <= block_size`` -> logits ``[B, L, vocab_size]``.
    """

    def __init__(self, vocab_size: int, block_size: int = 64, d_model: int = 64, n_heads: int = 4,
                 n_layers: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.vocab_size = require_int("vocab_size", vocab_size, minimum=2)
        self.block_size = require_int("block_size", block_size, minimum=1)
        require_int("n_layers", n_layers, minimum=1)
        self.token = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList(TransformerBlock(d_model, n_heads, dropout=dropout, causal=True)
                                    for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        require_tensor("idx", idx, ndim=2, integer=True)
        if not 1 <= idx.shape[1] <= self.block_size:
            raise ValueError(f"idx must have 1..{self.block_size} positions (block_size), got {idx.shape[1]}")
        if idx.numel() and (idx.min() < 0 or idx.max() >= self.vocab_size):
            raise ValueError(f"idx must hold ids in [0, {self.vocab_size - 1}] (vocab_size), got range "
                             f"[{int(idx.min())}, {int(idx.max())}]")
        positions = torch.arange(idx.shape[1], device=idx.device)
        h = self.token(idx) + self.position(positions)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))


def random_windows(ids: torch.Tensor, block_size: int, batch_size: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` random windows: inputs ``x [B, L]`` and targets ``y [B, L]`` shifted by one (y_t = x_{t+1})."""
    require_tensor("ids", ids, ndim=1, integer=True)
    require_int("block_size", block_size, minimum=1)
    require_int("batch_size", batch_size, minimum=1)
    if len(ids) < block_size + 1:
        raise ValueError(f"ids must hold at least block_size + 1 = {block_size + 1} ids, got {len(ids)}")
    starts = torch.randint(0, len(ids) - block_size, (batch_size,), generator=generator)
    offsets = torch.arange(block_size)
    x = ids[starts[:, None] + offsets]
    return x, ids[starts[:, None] + offsets + 1]


@torch.no_grad()
def evaluate_char_loss(model: CharTransformer, ids: torch.Tensor, batch_size: int = 64) -> float:
    """Mean cross-entropy (nats/char) over ``ids`` cut into consecutive, non-overlapping windows.

    Every character after the first is predicted exactly once (from at most ``block_size``
    characters of context inside its window). Runs in eval mode (no dropout).
    """
    require_ids("ids", ids, model.vocab_size)
    require_int("batch_size", batch_size, minimum=1)
    length = model.block_size
    n_windows = (len(ids) - 1) // length
    if n_windows < 1:
        raise ValueError(f"ids must hold at least block_size + 1 = {length + 1} ids, got {len(ids)}")
    device = device_of(model)
    used = n_windows * length
    x = ids[:used].view(n_windows, length)
    y = ids[1:used + 1].view(n_windows, length)
    total = 0.0
    with evaluating(model):
        for i in range(0, n_windows, batch_size):
            logits = model(x[i:i + batch_size].to(device))
            total += F.cross_entropy(logits.flatten(0, 1), y[i:i + batch_size].to(device).flatten(),
                                     reduction="sum").item()
    return total / y.numel()


def train_char_model(model: CharTransformer, train_ids: torch.Tensor, val_ids: torch.Tensor, *, steps: int,
                     batch_size: int = 32, lr: float = 4e-3, evaluations: int = 10, seed: int = 0,
                     progress: bool = True) -> History:
    """AdamW on random windows, warm-up then cosine decay of the learning rate; returns the history.

    :class:`aigc_course.training.History`, one entry per evaluation at ``evaluations`` evenly spaced
    steps: ``train/step``, ``train/loss`` (mean training loss since the previous evaluation),
    ``train/seconds`` (cumulative wall-clock training time, evaluations excluded) and
    ``eval/loss`` (:func:`evaluate_char_loss` on ``val_ids``, nats per character).
    """
    require_int("steps", steps, minimum=1)
    require_int("evaluations", evaluations, minimum=1)
    require_int("batch_size", batch_size, minimum=1)
    require_float("lr", lr, minimum=0.0, strict_minimum=True)
    require_ids("train_ids", train_ids, model.vocab_size)
    require_ids("val_ids", val_ids, model.vocab_size)
    for name, ids in (("train_ids", train_ids), ("val_ids", val_ids)):
        if len(ids) < model.block_size + 1:
            raise ValueError(f"{name} must hold at least block_size + 1 = {model.block_size + 1} ids, got {len(ids)}")
    device = device_of(model)
    generator = torch.Generator().manual_seed(require_seed(seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (
        1.0 + math.cos(math.pi * min(1.0, s / steps))))
    eval_at = {round(steps * (i + 1) / evaluations) for i in range(evaluations)}
    history = History()
    running, count, seconds = 0.0, 0, 0.0
    model.train()
    for step in progress_bar(range(1, steps + 1), desc="text model steps", unit="step", enabled=progress, leave=False):
        start = time.perf_counter()
        x, y = random_windows(train_ids, model.block_size, batch_size, generator)
        loss = F.cross_entropy(model(x.to(device)).flatten(0, 1), y.to(device).flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running, count = running + loss.item(), count + 1
        seconds += time.perf_counter() - start
        if step in eval_at:
            history.log("train", step=step, loss=running / count, seconds=seconds)
            history.log("eval", loss=evaluate_char_loss(model, val_ids))  # evaluating() puts train mode back
            running, count = 0.0, 0
    model.eval()
    return history


@torch.no_grad()
def generate_text(model: CharTransformer, vocab: CharVocab, prompt: str, length: int = 300,
                  temperature: float = 0.8, top_k: int | None = None, seed: int = 0,
                  distribution: Callable[..., torch.Tensor] = next_char_probabilities) -> str:
    """``prompt`` followed by ``length`` sampled characters (each from the last ``block_size`` of context).

    ``distribution(logits [V], temperature, top_k) -> probabilities [V]`` shapes each step's
    distribution (default :func:`~aigc_course.char_data.next_char_probabilities`).
    """
    require_int("length", length, minimum=0, maximum=1_000_000)
    if not isinstance(prompt, str) or not prompt:
        raise ValueError("prompt must be a non-empty string (the model needs at least one character of context)")
    if not isinstance(vocab, CharVocab):
        raise TypeError(f"vocab must be a CharVocab, got {type(vocab).__name__}")
    if not callable(distribution):
        raise TypeError(f"distribution must be a function (logits, temperature, top_k) -> probabilities, "
                        f"got {type(distribution).__name__}")
    require_float("temperature", temperature, minimum=0.0, strict_minimum=True)
    if top_k is not None:
        require_int("top_k", top_k, minimum=1)
    ids = vocab.encode(prompt).tolist()
    generator = torch.Generator().manual_seed(require_seed(seed))
    device = device_of(model)
    with evaluating(model):
        for _ in range(length):
            context = torch.tensor([ids[-model.block_size:]], device=device)
            probs = distribution(model(context)[0, -1].float().cpu(), temperature, top_k)
            ids.append(int(torch.multinomial(probs, 1, generator=generator)))
    return vocab.decode(torch.tensor(ids))


@torch.no_grad()
def next_char_figure(model: CharTransformer, vocab: CharVocab, prompt: str, temperatures: tuple[float, ...] = (0.5, 1.0, 2.0),
                     top: int = 12):
    """Bar charts of p(next character | prompt) at several temperatures (the ``top`` most likely at T = 1)."""
    import matplotlib.pyplot as plt

    require_int("top", top, minimum=1)
    if not isinstance(prompt, str) or not prompt:
        raise ValueError("prompt must be a non-empty string")
    if not isinstance(temperatures, (tuple, list)) or not temperatures:
        raise ValueError("temperatures must be a non-empty list of temperatures")
    for i, t in enumerate(temperatures):
        require_float(f"temperatures[{i}]", t, minimum=0.0, strict_minimum=True)
    with evaluating(model):
        logits = model(vocab.encode(prompt[-model.block_size:])[None].to(device_of(model)))[0, -1].float().cpu()
    order = next_char_probabilities(logits).argsort(descending=True)[:min(top, vocab.size)]
    labels = [repr(vocab.chars[i])[1:-1] or " " for i in order.tolist()]
    labels = ["space" if c == " " else "newline" if c == "\\n" else c for c in labels]
    fig, axes = plt.subplots(1, len(temperatures), figsize=(3.3 * len(temperatures), 2.8), sharey=True, squeeze=False)
    for ax, t in zip(axes[0], temperatures):
        probs = next_char_probabilities(logits, t)[order]
        ax.bar(range(len(order)), probs.numpy(), color="#4c72b0")
        ax.set_xticks(range(len(order)), labels, rotation=90, fontsize=8)
        ax.set_title(f"T = {t:g}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylabel("probability")
    fig.suptitle(f"next character after {prompt[-30:]!r}", fontsize=10)
    fig.tight_layout()
    return fig
