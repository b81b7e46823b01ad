"""Chapter 05's run folders: checkpoints (read, validated, restored) and the per-epoch sample grids.

A run folder (see :func:`run_folder`) holds ``checkpoint.pt``, written atomically after every
epoch by :func:`aigc_course.gan_training.train_gan`, and ``samples/epoch_NNN.png``. Checkpoints
are read with ``torch.load(..., weights_only=True)``; every way they can be wrong (missing,
truncated, foreign, another architecture) raises :class:`CheckpointError` with a clear message.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from ..config import data_dir, get_device
from ..files import atomic_write_bytes
from .mnist_models import ModelSpec, build_models, model_spec
from ..plotting import image_grid
from ..validate import require_int

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or belongs to another configuration."""


def restore_training_state(checkpoint: dict, generator: nn.Module, discriminator: nn.Module,
                           g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer) -> int:
    """Load networks, optimizers and the global torch RNG from ``checkpoint``; return the next epoch to run.

    ``checkpoint["epoch"]`` counts completed epochs (1-based), so training continues at epoch + 1.
    """
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    g_optimizer.load_state_dict(checkpoint["g_optimizer"])
    d_optimizer.load_state_dict(checkpoint["d_optimizer"])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    return checkpoint["epoch"] + 1


def load_checkpoint(path: str | Path) -> dict:
    """Read a chapter-05 checkpoint with ``weights_only=True``; clear :class:`CheckpointError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(err).__name__}: {str(err)[:120]})") from None
    required = {"format", "spec", "epoch", "generator", "discriminator", "g_optimizer", "d_optimizer", "rng",
                "history", "seed", "train_subset"}
    if not isinstance(checkpoint, dict) or not required <= set(checkpoint):
        raise CheckpointError(f"{path} is not a chapter-05 GAN checkpoint (missing keys: "
                              f"{sorted(required - set(checkpoint)) if isinstance(checkpoint, dict) else 'all'})")
    return checkpoint


def spec_from_checkpoint(checkpoint: dict) -> ModelSpec:
    """The :class:`ModelSpec` a checkpoint was trained with; the registered one when they agree."""
    saved = checkpoint["spec"]
    name = saved.get("name") if isinstance(saved, dict) else None
    try:
        spec = model_spec(name)
    except (ValueError, TypeError):
        raise CheckpointError(f"checkpoint names an unknown model {name!r}") from None
    if spec.to_dict() != saved:
        raise CheckpointError(f"checkpoint's model {name!r} was built with other settings than this version of the "
                              f"course ({saved} vs {spec.to_dict()})")
    return spec


def load_generator(path: str | Path, device: torch.device | str | None = None, ema: bool = True) -> tuple[nn.Module, ModelSpec]:
    """The trained generator of a checkpoint (its moving average when it has one and ``ema``), in eval mode."""
    checkpoint = load_checkpoint(path)
    spec = spec_from_checkpoint(checkpoint)
    generator, _ = build_models(spec)
    weights = checkpoint.get("ema_generator") if ema and checkpoint.get("ema_generator") else checkpoint["generator"]
    try:
        generator.load_state_dict(weights)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit model {spec.name!r} "
                              f"({str(err).splitlines()[0][:160]})") from None
    return generator.to(get_device(None if device is None else str(device))).eval(), spec


def run_folder(model: str, train_subset: int | None = None, seed: int = 0) -> Path:
    """The notebook's cache folder for a run: ``data_dir()/models/mnist_gan/<model>-<settings hash>-n<subset>-s<seed>``.

    The hash covers the model's whole :class:`ModelSpec`, so a course update that changes a model
    trains into a new folder instead of tripping over an old checkpoint.
    """
    spec = model_spec(model)
    require_int("seed", seed, minimum=0)
    digest = hashlib.sha1(json.dumps(spec.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
    subset = "all" if train_subset is None else require_int("train_subset", train_subset, minimum=1)
    return data_dir() / "models" / "mnist_gan" / f"{model}-{digest}-n{subset}-s{seed}"


def save_grid_png(images: torch.Tensor, path: str | Path, nrow: int = 8, scale: int = 2) -> Path:
    """Write images ``[N, 28, 28]`` in [0, 1] as one PNG grid (black ink on white, each pixel ``scale`` x ``scale``)."""
    require_int("scale", scale, minimum=1)
    grid = image_grid(images, nrow=nrow).repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    plt.imsave(buffer, grid, cmap="gray_r", vmin=0, vmax=1, format="png")
    return atomic_write_bytes(path, buffer.getvalue())


def sample_grid_paths(out_dir: str | Path) -> list[Path]:
    """The per-epoch sample grids of a run, in epoch order."""
    return sorted((Path(out_dir) / "samples").glob("epoch_*.png"))


def load_sample_grid(out_dir: str | Path, epoch: int):
    """The fixed-noise sample grid saved after ``epoch`` (an RGBA array from the PNG)."""
    require_int("epoch", epoch, minimum=1)
    path = Path(out_dir) / "samples" / f"epoch_{epoch:03d}.png"
    if not path.is_file():
        available = [int(p.stem.split("_")[1]) for p in sample_grid_paths(out_dir)]
        raise ValueError(f"epoch must be one of the saved epochs {available}, got {epoch}")
    return plt.imread(path)
