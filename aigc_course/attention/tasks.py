"""Small tasks learned with attention (chapter 04): reversing and sorting sequences of digits.

Input ``[x_1, ..., x_L]`` (digits 0..vocab-1); the target of ``"reverse"`` is
``[x_L, ..., x_1]``, of ``"sort"`` the digits in increasing order.

* Reversing needs *where* to look, not *what*: :class:`AttentionSequenceModel` with
  ``n_blocks=0`` is one attention layer and nothing else that mixes positions,
  ``logits_i = MHA(E[x] + P)_i W_out`` with no residual connection, so output i can only learn
  x_{L+1-i} by putting its weight on key L+1-i: the attention map must become the anti-diagonal.
* Sorting needs *what*: output i must find the i-th smallest digit, which depends on the whole
  sequence. ``n_blocks >= 1`` stacks non-causal :class:`~aigc_course.attention.TransformerBlock` s.

Test sequences are drawn once and excluded from every training batch, so test accuracy is
measured on sequences the model never saw.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import MultiHeadAttention, TransformerBlock, causal_mask
from .demos import plot_attention
from .position import sinusoidal_positions
from ..training import History, device_of, evaluating, progress as progress_bar
from ..validate import require_choice, require_float, require_int, require_seed, require_tensor

TASKS = ("reverse", "sort")
POSITIONS = ("learned", "sinusoidal", "none")


def task_targets(task: str, tokens: torch.Tensor) -> torch.Tensor:
    """The target ``[B, L]`` of ``task`` ("reverse" or "sort") for input digits ``tokens [B, L]``."""
    require_choice("task", task, TASKS)
    require_tensor("tokens", tokens, ndim=2, integer=True)
    return tokens.flip(1) if task == "reverse" else tokens.sort(dim=1).values


def encode_sequences(tokens: torch.Tensor, vocab: int) -> torch.Tensor:
    """``[B, L]`` digits -> ``[B]`` int64 codes (the sequence read as a base-``vocab`` number)."""
    require_tensor("tokens", tokens, ndim=2, integer=True)
    require_int("vocab", vocab, minimum=2)
    if vocab ** tokens.shape[1] >= 2 ** 62:
        raise ValueError(f"vocab ** length must be < 2**62 to encode sequences, got {vocab}**{tokens.shape[1]}")
    powers = vocab ** torch.arange(tokens.shape[1] - 1, -1, -1, device=tokens.device, dtype=torch.int64)
    return (tokens.to(torch.int64) * powers).sum(1)


def task_batch(task: str, batch_size: int, length: int, vocab: int, generator: torch.Generator,
               exclude: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ``[B, L]`` int64 digit sequences (CPU) and their targets; rows whose code is in ``exclude`` are redrawn."""
    require_choice("task", task, TASKS)
    require_int("batch_size", batch_size, minimum=1, maximum=1_000_000)
    require_int("length", length, minimum=1, maximum=1024)
    require_int("vocab", vocab, minimum=2)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if exclude is not None:
        require_tensor("exclude", exclude, ndim=1, integer=True)
    if vocab ** length >= 2 ** 62:
        raise ValueError(f"vocab ** length must be < 2**62 to encode sequences, got {vocab}**{length}")
    x = torch.randint(0, vocab, (batch_size, length), generator=generator)
    if exclude is not None:
        for _ in range(100):
            clash = torch.isin(encode_sequences(x, vocab), exclude)
            if not clash.any():
                break
            x[clash] = torch.randint(0, vocab, (int(clash.sum()), length), generator=generator)
        else:
            raise RuntimeError("could not draw sequences outside `exclude`; it covers nearly every sequence")
    return x, task_targets(task, x)


def task_test_set(task: str, n: int, length: int, vocab: int,
                  seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` distinct random sequences, their targets, and their sorted codes (pass as ``exclude``)."""
    require_int("length", length, minimum=1, maximum=1024)
    require_int("vocab", vocab, minimum=2)
    require_int("n", n, minimum=1, maximum=min(vocab ** length // 4, 1_000_000))
    generator = torch.Generator().manual_seed(require_seed(seed))
    x, _ = task_batch(task, 2 * n, length, vocab, generator)
    codes, inverse = torch.unique(encode_sequences(x, vocab), return_inverse=True)
    first = torch.full((len(codes),), len(x)).scatter_reduce(0, inverse, torch.arange(len(x)), reduce="amin")
    x = x[first.sort().values[:n]]  # distinct sequences, in the order they were drawn
    if len(x) < n:
        raise RuntimeError(f"drew only {len(x)} distinct sequences, fewer than n={n}")
    return x, task_targets(task, x), encode_sequences(x, vocab).sort().values


class AttentionSequenceModel(nn.Module):
    """Token + position embeddings -> attention -> per-position logits over the ``vocab`` digits.

    ``n_blocks=0``: one :class:`MultiHeadAttention` layer, no residual, no MLP (all mixing of
    positions is visible in its map). ``n_blocks >= 1``: that many non-causal pre-LN
    :class:`TransformerBlock` s and a final LayerNorm. ``tokens [B, L]`` int64 ->
    ``(logits [B, L, vocab], weights [B, n_layers, H, L, L])``; ``mask`` goes to every attention layer.
    ``position``: "learned" (an ``nn.Embedding`` per position), "sinusoidal" (fixed, see
    :func:`sinusoidal_positions`) or "none"; ``norm`` and ``residual`` go to the blocks.
    """

    def __init__(self, vocab: int = 10, length: int = 8, d_model: int = 32, n_heads: int = 1,
                 n_blocks: int = 0, position: str = "learned", norm: str = "pre", residual: bool = True) -> None:
        super().__init__()
        self.vocab = require_int("vocab", vocab, minimum=2)
        self.length = require_int("length", length, minimum=1)
        self.n_blocks = require_int("n_blocks", n_blocks, minimum=0)
        self.position = require_choice("position", position, POSITIONS)
        self.token_embedding = nn.Embedding(vocab, d_model)
        if position == "learned":
            self.position_embedding = nn.Embedding(length, d_model)
        self.register_buffer("fixed_positions", sinusoidal_positions(length, d_model) if position == "sinusoidal"
                             else torch.zeros(length, d_model), persistent=False)
        if n_blocks == 0:
            self.attention = MultiHeadAttention(d_model, n_heads)
        else:
            self.blocks = nn.ModuleList(TransformerBlock(d_model, n_heads, causal=False, norm=norm, residual=residual)
                                        for _ in range(n_blocks))
            self.final_norm = nn.LayerNorm(d_model)
        self.readout = nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        require_tensor("tokens", tokens, ndim=2)
        if tokens.dtype != torch.int64 or tokens.shape[1] != self.length:
            raise ValueError(f"tokens must be int64 of shape [B, {self.length}], got {tokens.dtype} {list(tokens.shape)}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab):
            raise ValueError(f"tokens must be digits in 0..{self.vocab - 1}")
        h = self.token_embedding(tokens) + self.fixed_positions
        if self.position == "learned":
            h = h + self.position_embedding(torch.arange(self.length, device=tokens.device))
        if self.n_blocks == 0:
            h, weights = self.attention(h, mask=mask)
            return self.readout(h), weights.unsqueeze(1)
        all_weights = []
        for block in self.blocks:
            h, weights = block(h, mask=mask, return_weights=True)
            all_weights.append(weights)
        return self.readout(self.final_norm(h)), torch.stack(all_weights, dim=1)


def train_sequence_task(model: AttentionSequenceModel, task: str, steps: int, *, batch_size: int = 128,
                        lr: float = 3e-3, seed: int = 0, exclude: torch.Tensor | None = None,
                        log_every: int = 10, progress: bool = True) -> History:
    """Adam on the cross-entropy of every output position; returns loss and batch-accuracy curves.

    The learning rate follows a cosine decay from ``lr`` to 0 over ``steps``, and gradients are
    clipped to norm 1: without both, Adam at a constant rate makes the loss spike now and then
    once it is tiny.

    The :class:`aigc_course.training.History` holds ``train/loss`` and ``train/accuracy`` (token
    accuracy on the training batches), averages over each ``log_every`` steps, and ``train/step``,
    the last step of each.
    """
    if not isinstance(model, AttentionSequenceModel):
        raise TypeError(f"model must be an AttentionSequenceModel, got {type(model).__name__}")
    require_choice("task", task, TASKS)
    require_int("steps", steps, minimum=1)
    require_int("batch_size", batch_size, minimum=1, maximum=1_000_000)
    require_int("log_every", log_every, minimum=1)
    require_float("lr", lr, minimum=0.0, strict_minimum=True)
    device = device_of(model)
    generator = torch.Generator().manual_seed(require_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    history = History()
    losses, accuracies = [], []
    model.train()
    for step in progress_bar(range(1, steps + 1), desc=f"training ({task})", unit="step", enabled=progress):
        x, y = task_batch(task, batch_size, model.length, model.vocab, generator, exclude=exclude)
        x, y = x.to(device), y.to(device)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, model.vocab), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.detach())
        accuracies.append((logits.detach().argmax(-1) == y).float().mean())
        if step % log_every == 0 or step == steps:
            history.log("train", step=step, loss=torch.stack(losses).mean(), accuracy=torch.stack(accuracies).mean())
            losses, accuracies = [], []
    model.eval()
    return history


@torch.no_grad()
def evaluate_sequence_task(model: AttentionSequenceModel, x: torch.Tensor, y: torch.Tensor,
                           causal: bool = False) -> tuple[float, float]:
    """(token accuracy, whole-sequence accuracy) on ``x [N, L]`` with targets ``y [N, L]``.

    ``causal=True`` applies the causal mask at inference, whatever the model was trained with.
    """
    require_tensor("x", x, ndim=2, integer=True, non_empty=True)
    require_tensor("y", y, shape=list(x.shape), integer=True)
    device = device_of(model)
    mask = causal_mask(model.length, device=device) if causal else None
    with evaluating(model):
        logits, _ = model(x.to(device), mask=mask)
    correct = logits.argmax(-1).cpu() == y.cpu()
    return correct.float().mean().item(), correct.all(1).float().mean().item()


@torch.no_grad()
def attention_view(model: AttentionSequenceModel, tokens: torch.Tensor | list[int],
                   causal: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """One sequence through the model: ``(weights [n_layers, L, L] averaged over heads, predictions [L])`` on the CPU.

    With ``causal=True`` query i may only look at keys 1..i, however the model was trained.
    """
    tokens = _as_tokens(tokens)
    require_tensor("tokens", tokens, shape=[model.length])
    device = device_of(model)
    mask = causal_mask(model.length, device=device) if causal else None
    with evaluating(model):
        logits, weights = model(tokens.unsqueeze(0).to(device), mask=mask)
    return weights[0].mean(1).cpu(), logits[0].argmax(-1).cpu()


@torch.no_grad()
def attention_to_matching_digits(model: AttentionSequenceModel, x: torch.Tensor, y: torch.Tensor,
                                 layer: int = -1) -> tuple[float, float]:
    """(mean attention mass on the keys holding the query's target digit, the same mass under uniform weights).

    For query i with target digit y_i, the mass is sum_j w_ij [x_j = y_i] in layer ``layer``
    (head-averaged), averaged over queries and sequences ``x [N, L]``; uniform weights would give
    the share of positions that hold y_i. Every y_i occurs in x for "sort" and "reverse".
    """
    require_tensor("x", x, ndim=2, integer=True, non_empty=True)
    require_tensor("y", y, shape=list(x.shape), integer=True)
    n_layers = max(model.n_blocks, 1)
    layer = require_int("layer", layer, minimum=-n_layers, maximum=n_layers - 1)
    with evaluating(model):
        _, weights = model(x.to(device_of(model)))
    w = weights[:, layer].mean(1).cpu()                                   # [N, L, L], head-averaged
    holds = (x.cpu()[:, None, :] == y.cpu()[:, :, None]).float()          # [N, Lq, Lk]: key j holds y_i
    return (w * holds).sum(-1).mean().item(), holds.mean(-1).mean().item()


def _as_tokens(tokens: torch.Tensor | list[int]) -> torch.Tensor:
    """A token sequence as int64: an integer tensor or a list of ints (never a float silently truncated)."""
    if isinstance(tokens, torch.Tensor):
        require_tensor("tokens", tokens, integer=True)
        return tokens.to(torch.int64)
    if not isinstance(tokens, (list, tuple)) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
        raise TypeError(f"tokens must be an integer tensor or a list of ints, got {tokens!r}")
    return torch.tensor(list(tokens), dtype=torch.int64)


def parse_digits(text: str, length: int, vocab: int = 10) -> torch.Tensor:
    """Widget input such as ``"5 9 4 8 3 3 1 1"`` or ``"59483311"`` -> int64 ``[length]`` (digits < ``vocab``)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    require_int("length", length, minimum=1)
    require_int("vocab", vocab, minimum=2, maximum=10)
    digits = [c for c in text if not c.isspace() and c != ","]
    if len(digits) != length or not all(c.isdigit() and int(c) < vocab for c in digits):
        raise ValueError(f"text must hold exactly {length} digits in 0..{vocab - 1}, got {text!r}")
    return torch.tensor([int(c) for c in digits], dtype=torch.int64)


def plot_task_attention(model: AttentionSequenceModel, tokens: torch.Tensor | list[int], task: str,
                        causal: bool = False) -> plt.Figure:
    """Widget figure: the head-averaged attention map of every layer for one sequence.

    Keys are labelled with the input digits, queries with the model's output and, after a
    slash, the correct one when it differs; the title gives the number of correct outputs.
    """
    require_choice("task", task, TASKS)
    tokens = _as_tokens(tokens)
    weights, predictions = attention_view(model, tokens, causal=causal)
    target = task_targets(task, tokens.unsqueeze(0))[0]
    n_layers = weights.shape[0]
    fig, axes = plt.subplots(1, n_layers, figsize=(5.2 * n_layers, 4.3), squeeze=False)
    key_labels = [f"{d}" for d in tokens.tolist()]
    query_labels = [f"{p}" if p == t else f"{p}/{t} ✗" for p, t in zip(predictions.tolist(), target.tolist())]
    correct = int((predictions == target).sum())
    for layer, ax in enumerate(axes[0]):
        plot_attention(weights[layer], query_labels, key_labels, ax=ax,
                       title=f"layer {layer + 1} of {n_layers}" if n_layers > 1 else "attention weights")
        ax.set_xlabel("key: input digit at each position")
        ax.set_ylabel("query: output digit" + (" (pred/true)" if correct < len(target) else ""))
    fig.suptitle(f"{task} {tokens.tolist()}{' with the causal mask' if causal else ''}: "
                 f"{correct}/{len(target)} outputs correct", fontsize=11)
    fig.tight_layout()
    return fig
