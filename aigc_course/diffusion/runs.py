"""Command-line training runs of the chapter's models: a run folder with ``checkpoint.pt``, resumed when present.

``python -m aigc_course train latent-flow --epochs 20 --out runs/lf`` calls :func:`train_run`: it
trains the recipe (the autoencoder first, for latent flow), writes ``checkpoint.pt`` (kind
``"diffusion"``, with the optimizer) after every epoch, and, when the folder already holds a run
of the same recipe, continues it from its last epoch instead of starting again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .latent import encode_images, train_autoencoder
from .recipes import Recipe, TrainedDiffusion, _networks, load_diffusion, save_diffusion, training_digits
from .schedules import NoiseSchedule
from .training import DiffusionRun, train_diffusion
from ..checkpoints import CheckpointError
from ..config import get_device
from ..validate import require_bool, require_path

RUN_CHECKPOINT = "checkpoint.pt"
_BUDGET_FIELDS = ("epochs", "minutes")  # a resumed run may be given a larger budget


@dataclass
class RunResult:
    """What :func:`train_run` did: the trained model, the epochs before this call and the checkpoint's path."""

    trained: TrainedDiffusion
    resumed_from: int
    checkpoint: Path


def _same_recipe(a: Recipe, b: Recipe) -> bool:
    strip = lambda r: {k: v for k, v in r.to_dict().items() if k not in _BUDGET_FIELDS}  # noqa: E731
    return strip(a) == strip(b)


def train_run(recipe: Recipe, out_dir: str | Path, device: torch.device | str | None = None,
              progress: bool = True) -> RunResult:
    """Train ``recipe`` into ``out_dir/checkpoint.pt``, resuming a run of the same recipe found there.

    ``recipe.epochs`` counts all epochs (those of a resumed run included); ``recipe.minutes`` this call's time.
    A checkpoint of another recipe, or a damaged one, is a :class:`CheckpointError` (nothing is overwritten).
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, got {type(recipe).__name__}")
    out_dir = require_path("out_dir", out_dir)
    require_bool("progress", progress)
    device = get_device(None if device is None else str(device))
    path = out_dir / RUN_CHECKPOINT
    images, labels = training_digits(recipe.train_subset)
    resume, resumed_from = None, 0
    if path.exists():
        previous = load_diffusion(path, device)
        if not _same_recipe(previous.recipe, recipe):
            old, new = previous.recipe.to_dict(), recipe.to_dict()
            differ = {k: f"{old[k]!r} there, {new[k]!r} now" for k in old if k not in _BUDGET_FIELDS and old[k] != new[k]}
            raise CheckpointError(f"{path} holds a run of another recipe ({differ}); choose another --out folder")
        if previous.raw_model is None or previous.optimizer_state is None:
            raise CheckpointError(f"{path} holds a finished model without its optimizer; it cannot be resumed")
        model, autoencoder, ae_seconds = previous.raw_model.train(), previous.autoencoder, previous.autoencoder_seconds
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        try:
            optimizer.load_state_dict(previous.optimizer_state)
        except (ValueError, RuntimeError, KeyError) as err:
            raise CheckpointError(f"{path}: the optimizer state does not fit the model ({err})") from None
        ema_model = previous.model.requires_grad_(False) if recipe.ema is not None else None
        resume = DiffusionRun(model, ema_model, optimizer, previous.history, previous.train_seconds,
                              previous.images_seen, previous.epochs, False)
        resume.seconds = 0.0  # this call's time budget starts now; the total is kept below
        resumed_from, seconds_before = previous.epochs, previous.train_seconds
    else:
        torch.manual_seed(recipe.seed)
        model, autoencoder = _networks(recipe)
        ae_seconds, seconds_before = 0.0, 0.0
        if autoencoder is not None:
            ae_seconds = train_autoencoder(autoencoder, images, epochs=recipe.autoencoder_epochs,
                                           minutes=recipe.autoencoder_minutes, batch_size=recipe.batch_size,
                                           lr=recipe.lr, device=device, seed=recipe.seed,
                                           progress=progress, clock=recipe.clock).last("train/seconds")
    data = encode_images(autoencoder, images) if autoencoder is not None else images

    def snapshot(run: DiffusionRun) -> TrainedDiffusion:
        return TrainedDiffusion(recipe, run.best, autoencoder, run.history, seconds_before + run.seconds, ae_seconds,
                                run.images_seen, run.epochs, raw_model=run.model)

    def save(run: DiffusionRun) -> None:
        save_diffusion(path, snapshot(run), run.optimizer)

    if resume is not None and recipe.epochs is not None and resume.epochs >= recipe.epochs:
        return RunResult(snapshot(resume), resumed_from, path)
    run = train_diffusion(model, data, objective="ddpm" if recipe.method == "ddpm" else "flow",
                          schedule=getattr(NoiseSchedule, recipe.schedule)(), epochs=recipe.epochs,
                          minutes=recipe.minutes, batch_size=recipe.batch_size, lr=recipe.lr,
                          labels=labels if recipe.conditional else None, p_uncond=recipe.p_uncond, ema=recipe.ema,
                          device=device, seed=recipe.seed, progress=progress, resume=resume, on_epoch=save,
                          clock=recipe.clock)
    save(run)
    return RunResult(snapshot(run), resumed_from, path)
