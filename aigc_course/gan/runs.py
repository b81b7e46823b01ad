"""Chapter 05's run folders: the training state in the course's one checkpoint format, and sample grids.

A run folder (see :func:`run_folder`) holds ``checkpoint.pt``, written atomically after every
epoch by :func:`aigc_course.gan.training.train_gan`, and ``samples/epoch_NNN.png``. The file is an
:mod:`aigc_course.checkpoints` checkpoint of kind ``"gan"``:

* ``config``: ``spec`` (the :class:`ModelSpec` as a dict), ``seed``, ``train_subset``;
* ``states``: ``generator``, ``discriminator``, ``ema_generator`` (when the model keeps one),
  ``g_optimizer``, ``d_optimizer``, ``rng`` (the global torch RNG and the data-order generator);
* ``metadata``: ``epoch`` (completed epochs) and ``history`` (:class:`aigc_course.training.History`).

:func:`load_training_state` returns those fields as one flat dict (what exercise 5.3's
``restore_training_state`` reads); every way a file can be wrong raises
:class:`aigc_course.checkpoints.CheckpointError` naming the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from ..checkpoints import FORMAT as CHECKPOINT_FORMAT, VERSION as CHECKPOINT_VERSION
from ..checkpoints import CheckpointError, check_optimizer_state, check_tensors, load_checkpoint, save_checkpoint
from ..config import data_dir, get_device
from ..files import atomic_write_bytes
from .mnist_models import ModelSpec, build_models, model_spec
from ..plotting import image_grid
from ..validate import require_bool, require_int, require_path, require_seed

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_KIND = "gan"
CONFIG_FIELDS = ("spec", "seed", "train_subset")
STATE_FIELDS = ("generator", "discriminator", "ema_generator", "g_optimizer", "d_optimizer", "rng")
METADATA_FIELDS = ("epoch", "history")
HISTORY_KEYS = ("train/d_loss", "train/g_loss", "train/seconds", "train/cpu_seconds", "eval/d_real", "eval/d_fake")
MAX_EPOCHS = 100_000
RNG_FIELDS = ("torch", "data", "cuda")


def save_training_state(path: str | Path, state: dict[str, Any]) -> Path:
    """Write a flat training-state dict (the fields above; ``ema_generator`` may be None) atomically."""
    missing = [key for key in CONFIG_FIELDS + STATE_FIELDS + METADATA_FIELDS if key not in state]
    if missing:
        raise ValueError(f"state is missing {missing}")
    states = {key: state[key] for key in STATE_FIELDS if state[key] is not None}
    return save_checkpoint(path, CHECKPOINT_KIND, config={key: state[key] for key in CONFIG_FIELDS},
                           states=states, metadata={key: state[key] for key in METADATA_FIELDS})


def _check_rng(where: str, rng: Any, required: tuple[str, ...] = ("torch", "data")) -> None:
    """RNG states: uint8 tensors that a CPU ``torch.Generator`` accepts (``"cuda"``: any uint8 vector)."""
    if not isinstance(rng, dict) or any(key not in rng for key in required) or any(k not in RNG_FIELDS for k in rng):
        raise CheckpointError(f"{where}: rng must be a dict with {list(required)} (and optionally 'cuda'), "
                              f"got {sorted(map(str, rng)) if isinstance(rng, dict) else type(rng).__name__}")
    for key, state in rng.items():
        if not isinstance(state, torch.Tensor) or state.dtype != torch.uint8 or state.ndim != 1:
            raise CheckpointError(f"{where}: rng[{key!r}] must be a 1-D uint8 tensor (a generator state)")
        if key != "cuda":
            try:
                torch.Generator().set_state(state)
            except (RuntimeError, ValueError, TypeError):
                raise CheckpointError(f"{where}: rng[{key!r}] is not a valid CPU generator state "
                                      f"({state.numel()} bytes)") from None


def _check_fields(path: str | Path, fields: dict[str, Any]) -> None:
    """Every field of a chapter-05 run checkpoint, by type and range (nothing is used before this passes)."""
    if not isinstance(fields["spec"], dict) or not isinstance(fields["spec"].get("name"), str):
        raise CheckpointError(f"{path}: spec must be a dict naming the model, got {type(fields['spec']).__name__}")
    try:
        require_seed(fields["seed"])
        if fields["train_subset"] is not None:
            require_int("train_subset", fields["train_subset"], minimum=1, maximum=60_000)
        epoch = require_int("epoch", fields["epoch"], minimum=1, maximum=MAX_EPOCHS)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: {err}") from None
    for name in ("generator", "discriminator", "ema_generator"):
        if fields[name] is not None or name != "ema_generator":
            check_tensors(f"{path}: {name}", fields[name])
    for name in ("g_optimizer", "d_optimizer"):
        check_optimizer_state(f"{path}: {name}", fields[name])
    _check_rng(str(path), fields["rng"])
    history = fields["history"]
    if not isinstance(history, dict) or sorted(map(str, history)) != sorted(HISTORY_KEYS):
        got = sorted(map(str, history)) if isinstance(history, dict) else type(history).__name__
        raise CheckpointError(f"{path}: history must be a dict with the curves {list(HISTORY_KEYS)}, got {got}")
    for key, values in history.items():
        if not isinstance(values, list) or len(values) != epoch or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
            raise CheckpointError(f"{path}: history[{key!r}] must hold {epoch} finite numbers (one per completed "
                                  f"epoch), got {got}")


def load_training_state(path: str | Path) -> dict[str, Any]:
    """Read a chapter-05 run checkpoint (``weights_only=True``) as one flat dict; :class:`CheckpointError` otherwise.

    Every field is checked before it is returned: types, ranges (an epoch in [1, 100000], a seed,
    a subset size), finite weights, optimizer and RNG states that torch accepts, and a history
    with one finite value per completed epoch for each curve.
    """
    checkpoint = load_checkpoint(path, CHECKPOINT_KIND)
    for part, allowed in ((checkpoint.config, CONFIG_FIELDS), (checkpoint.states, STATE_FIELDS),
                          (checkpoint.metadata, METADATA_FIELDS)):
        unknown = sorted(set(part) - set(allowed))
        if unknown:
            raise CheckpointError(f"{path} is not a chapter-05 GAN checkpoint (unexpected fields {unknown})")
    fields = {**checkpoint.config, **checkpoint.states, **checkpoint.metadata}
    fields.setdefault("ema_generator", None)
    missing = [key for key in CONFIG_FIELDS + STATE_FIELDS + METADATA_FIELDS if key not in fields]
    if missing:
        raise CheckpointError(f"{path} is not a complete chapter-05 GAN checkpoint (missing {missing})")
    _check_fields(path, fields)
    return fields


def restore_training_state(checkpoint: dict, generator: nn.Module, discriminator: nn.Module,
                           g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer) -> int:
    """Load networks, optimizers and the global torch RNG from ``checkpoint``; return the next epoch to run.

    ``checkpoint["epoch"]`` counts completed epochs (1-based), so training continues at epoch + 1.
    """
    if not isinstance(checkpoint, dict):
        raise TypeError(f"checkpoint must be a dict (load_training_state's result), got {type(checkpoint).__name__}")
    missing = [key for key in ("epoch", "generator", "discriminator", "g_optimizer", "d_optimizer", "rng")
               if key not in checkpoint]
    if missing:
        raise ValueError(f"checkpoint is missing {missing}")
    require_int("checkpoint['epoch']", checkpoint["epoch"], minimum=1, maximum=MAX_EPOCHS)
    _check_rng("checkpoint", checkpoint["rng"], required=("torch",))
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    g_optimizer.load_state_dict(checkpoint["g_optimizer"])
    d_optimizer.load_state_dict(checkpoint["d_optimizer"])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    return checkpoint["epoch"] + 1


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
    require_bool("ema", ema)
    checkpoint = load_training_state(path)
    spec = spec_from_checkpoint(checkpoint)
    generator, _ = build_models(spec)
    weights = checkpoint["ema_generator"] if ema and checkpoint["ema_generator"] else checkpoint["generator"]
    try:
        generator.load_state_dict(weights)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{path}: weights do not fit model {spec.name!r} "
                              f"({str(err).splitlines()[0][:160]})") from None
    return generator.to(get_device(None if device is None else str(device))).eval(), spec


def run_folder(model: str, train_subset: int | None = None, seed: int = 0) -> Path:
    """The notebook's cache folder for a run: ``data_dir()/models/mnist_gan/<model>-<settings hash>-n<subset>-s<seed>``.

    The hash covers the model's whole :class:`ModelSpec` and the checkpoint format's version, so a
    course update that changes either trains into a new folder instead of tripping over an old file.
    """
    spec = model_spec(model)
    require_seed(seed)
    settings = {"model": spec.to_dict(), "checkpoint": f"{CHECKPOINT_FORMAT}-v{CHECKPOINT_VERSION}"}
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    subset = "all" if train_subset is None else require_int("train_subset", train_subset, minimum=1)
    return data_dir() / "models" / "mnist_gan" / f"{model}-{digest}-n{subset}-s{seed}"


def save_grid_png(images: torch.Tensor, path: str | Path, nrow: int = 8, scale: int = 2) -> Path:
    """Write images ``[N, 28, 28]`` in [0, 1] as one PNG grid (black ink on white, each pixel ``scale`` x ``scale``)."""
    require_int("scale", scale, minimum=1, maximum=64)
    path = require_path("path", path)
    grid = image_grid(images, nrow=nrow).repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    plt.imsave(buffer, grid, cmap="gray_r", vmin=0, vmax=1, format="png")
    return atomic_write_bytes(path, buffer.getvalue())


def sample_grid_paths(out_dir: str | Path) -> list[Path]:
    """The per-epoch sample grids of a run, in epoch order."""
    return sorted((require_path("out_dir", out_dir) / "samples").glob("epoch_*.png"))


def load_sample_grid(out_dir: str | Path, epoch: int):
    """The fixed-noise sample grid saved after ``epoch`` (an RGBA array from the PNG)."""
    require_int("epoch", epoch, minimum=1)
    path = require_path("out_dir", out_dir) / "samples" / f"epoch_{epoch:03d}.png"
    if not path.is_file():
        available = [int(p.stem.split("_")[1]) for p in sample_grid_paths(out_dir)]
        raise ValueError(f"epoch must be one of the saved epochs {available}, got {epoch}")
    return plt.imread(path)
