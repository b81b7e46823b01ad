"""Chapter 05's measured comparisons: the article's own generator step, fused Adam, equal wall clock.

* :func:`article_generator_step` runs the article's G-step as written (``generator.compile(
  loss='binary_crossentropy')`` then ``generator.train_on_batch(noise, ones)``) with the targets
  given the output's shape: binary cross-entropy between every *pixel* of G(z) and 1, Keras-style
  (the prediction clipped to [1e-7, 1 - 1e-7] before the log, so a pixel below 1e-7 gets no
  gradient). No discriminator and no data take part:

      L(theta) = mean_{b, pixels} -log clip(G_theta(z_b), eps, 1 - eps).

* :func:`compare_fused_adam` times the training step with Adam's fused kernel and with its
  per-tensor loop, alternating the two so that a change of machine load hits both alike.
* :func:`train_for_seconds` trains a model for (about) a given number of seconds of training
  time, so two models can be compared at equal wall clock; a folder that already holds a run of
  that model is loaded as it is (load-or-train).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from ..config import get_device
from ..training import History, evaluating, progress as progress_bar
from ..validate import require_bool, require_float, require_int, require_path, require_seed
from .mnist_models import build_models, model_spec, to_unit
from .runs import CHECKPOINT_NAME, load_training_state
from .training import TrainingRun, measure_step_speed, train_gan

KERAS_EPSILON = 1e-7  # tf.keras.backend.epsilon(): Keras clips probabilities to [eps, 1 - eps]


@dataclass
class ArticleStepRun:
    """What :func:`article_generator_step` returns.

    ``history`` holds per logged step ``train/loss`` and ``train/mean_pixel`` (mean of G(z) in
    [-1, 1]), ``train/white_share`` (share of pixels above 0.9, i.e. full ink after mapping to [0, 1])
    and ``train/spread`` (pixel standard deviation across the batch, averaged over pixels: 0 = every
    noise vector gives the same image). ``before``/``after``: ``[n, 28, 28]`` in [0, 1] for fixed noise.
    """

    history: History
    before: torch.Tensor
    after: torch.Tensor


def article_generator_step(steps: int, *, batch_size: int = 128, seed: int = 0, n_images: int = 16,
                           device: torch.device | str | None = None, log_every: int = 10,
                           progress: bool = True) -> ArticleStepRun:
    """Train the article's generator alone, with its own step: BCE(G(z), 1) on every pixel, Adam(1e-4, 0.5)."""
    require_int("steps", steps, minimum=1, maximum=100_000)
    require_int("batch_size", batch_size, minimum=2, maximum=4096)
    require_seed(seed)
    require_int("n_images", n_images, minimum=1, maximum=1024)
    require_int("log_every", log_every, minimum=1)
    device = get_device(None if device is None else str(device))
    torch.manual_seed(seed)
    spec = model_spec("gan")
    generator, _ = build_models(spec)
    generator = generator.to(device)
    optimizer = torch.optim.Adam(generator.parameters(), lr=spec.g_lr, betas=spec.betas)
    noise_gen = torch.Generator().manual_seed(seed + 1)
    fixed = torch.randn(n_images, spec.z_dim, generator=noise_gen).to(device)
    with evaluating(generator), torch.no_grad():
        before = to_unit(generator(fixed)).cpu()
    history, logged = History(), []
    generator.train()
    for step in progress_bar(range(1, steps + 1), desc="article's G-step", unit="step", enabled=progress):
        noise = torch.randn(batch_size, spec.z_dim, generator=noise_gen).to(device)
        fake = generator(noise)                                    # [B, 1, 28, 28] in [-1, 1] (tanh)
        clipped = fake.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)     # Keras's binary_crossentropy clips first
        loss = F.binary_cross_entropy(clipped, torch.ones_like(clipped))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        detached = fake.detach()
        logged.append(torch.stack([loss.detach(), detached.mean(), (detached > 0.9).float().mean(),
                                   detached.std(0).mean()]))
        if step % log_every == 0 or step == steps:
            mean = torch.stack(logged).mean(0).tolist()
            history.log("train", step=step, loss=mean[0], mean_pixel=mean[1], white_share=mean[2], spread=mean[3])
            logged = []
    with evaluating(generator), torch.no_grad():
        after = to_unit(generator(fixed)).cpu()
    return ArticleStepRun(history=history, before=before, after=after)


def compare_fused_adam(model: str, steps: int, repeats: int = 3,
                       device: torch.device | str | None = None) -> dict[str, float]:
    """Images per second of ``model``'s training step with fused Adam and with the per-tensor loop.

    Each of ``repeats`` rounds times both (fresh networks, ``steps`` steps each, alternating
    which goes first); returns the medians ``{"fused": ..., "loop": ..., "speedup": fused / loop}``.
    """
    model_spec(model)
    require_int("steps", steps, minimum=1, maximum=10_000)
    require_int("repeats", repeats, minimum=1, maximum=100)
    speeds: dict[bool, list[float]] = {True: [], False: []}
    for r in range(repeats):
        for fused in ((True, False) if r % 2 == 0 else (False, True)):
            speeds[fused].append(measure_step_speed(model, steps=steps, device=device, fused=fused))
    fused, loop = statistics.median(speeds[True]), statistics.median(speeds[False])
    return {"fused": fused, "loop": loop, "speedup": fused / loop}


def train_for_seconds(model: str, seconds: float, out_dir: str | Path, max_epochs: int, *,
                      up_block: Callable | None = None, **kwargs) -> TrainingRun:
    """Train ``model`` for about ``seconds`` of training time (whole epochs, at most ``max_epochs``).

    :func:`train_gan` with ``max_seconds=seconds`` and ``cut_last_epoch=True``: the epoch that
    reaches the budget is cut short there (so a model whose epoch takes longer than the budget
    trains for the budget, not for a whole epoch). When ``out_dir`` already holds a run, it is loaded as it is,
    whatever its length, and nothing is trained. ``kwargs`` go to :func:`train_gan`.
    """
    model_spec(model)
    require_float("seconds", seconds, minimum=0.0, strict_minimum=True)
    require_int("max_epochs", max_epochs, minimum=1)
    out_dir = require_path("out_dir", out_dir)
    if {"max_seconds", "epochs", "cut_last_epoch"} & set(kwargs):
        raise ValueError("kwargs must not set max_seconds, epochs or cut_last_epoch (seconds and max_epochs set them)")
    require_bool("progress", kwargs.get("progress", True))
    if (out_dir / CHECKPOINT_NAME).is_file():
        return train_gan(model, load_training_state(out_dir / CHECKPOINT_NAME)["epoch"], out_dir,
                         up_block=up_block, **kwargs)
    return train_gan(model, max_epochs, out_dir, max_seconds=seconds, cut_last_epoch=True, up_block=up_block, **kwargs)
