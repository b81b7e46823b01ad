"""Chapter 03's trained VAEs on disk, in the course's one checkpoint format (kind ``"vae"``).

``save_vae`` writes ``config = model.config()`` and the state dict through
:func:`aigc_course.checkpoints.save_checkpoint`; ``load_vae`` rebuilds the model from the config
and refuses anything else (an old cache, another kind, weights that do not fit) with a
:class:`aigc_course.checkpoints.CheckpointError` naming the file.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ..checkpoints import CheckpointError, load_checkpoint, load_state, save_checkpoint
from ..config import data_dir, is_fast_mode
from .models import build_vae
from ..validate import require_path


def checkpoint_path(name: str) -> Path:
    """Where the course keeps a trained VAE: ``<data cache>/checkpoints/<name>[-fast].pt``.

    Fast-mode (test) models get their own file so they never replace a fully trained one.
    """
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"name must be a non-empty string of letters, digits, '_' or '-', got {name!r}")
    return data_dir() / "checkpoints" / f"{name}{'-fast' if is_fast_mode() else ''}.pt"


def save_vae(model: nn.Module, path: str | os.PathLike, **metadata: float | int | str) -> Path:
    """Write the model's config and weights atomically (load it with :func:`load_vae`)."""
    if not hasattr(model, "config"):
        raise TypeError(f"model must be a course VAE with a config() method, got {type(model).__name__}")
    for key, value in metadata.items():
        _check_metadata_value(key, value)
    path = require_path("path", path)
    return save_checkpoint(path, "vae", config=model.config(), states={"model": model.state_dict()},
                           metadata=dict(metadata))


def _check_metadata_value(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"metadata {key!r} must be an int, float or str, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"metadata {key!r} must be finite, got {value}")


def load_vae(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a model saved by :func:`save_vae` (read with ``weights_only=True``); return (model, metadata).

    The config is checked (kind, field names, sizes) before the model is built, the weights must
    fit it and be finite, and the metadata must hold plain finite numbers and strings; anything
    else is a :class:`CheckpointError` naming the file.
    """
    checkpoint = load_checkpoint(require_path("path", path), "vae")
    try:
        model = build_vae(checkpoint.config)
        for key, value in checkpoint.metadata.items():
            _check_metadata_value(key, value)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: {err}") from None
    load_state(model, checkpoint, "model")
    return model.to(device).eval(), dict(checkpoint.metadata)


def load_cached_vae(names: tuple[str, ...] | list[str], device: torch.device | str = "cpu",
                    verbose: bool = True) -> tuple[nn.Module, dict[str, Any], Path] | None:
    """The first usable cached VAE among ``names`` (:func:`checkpoint_path` of each), or None.

    A file that cannot be used (an old format, corrupted, another kind) is skipped with a one-line
    reason, never half-loaded; the caller then trains a model in its place.
    """
    if isinstance(names, str) or not names:
        raise ValueError(f"names must be a non-empty list of checkpoint names, got {names!r}")
    for name in names:
        path = checkpoint_path(name)
        if not path.is_file():
            continue
        try:
            model, metadata = load_vae(path, device)
        except CheckpointError as err:
            if verbose:
                print(f"skipping the cached VAE: {err}")
            continue
        return model, metadata, path
    return None
