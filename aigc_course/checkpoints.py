"""The course's one checkpoint format, its one writer and its one reader.

Every model the course saves (the chapter-05 GAN runs, the chapter-03/06 VAEs, the shared
digit classifier) is stored as one versioned dict::

    {"format": "aigc-course-checkpoint", "version": 1,
     "kind": "vae" | "gan" | "classifier" | ...,   # what the file holds
     "config": {...},                              # enough to rebuild the model(s)
     "states": {"model": state_dict, ...},         # state dicts (models, optimizers)
     "metadata": {...}}                            # measured numbers, epoch, seeds, history

:func:`save_checkpoint` writes it atomically (a crash never leaves half a file) with a SHA-256
of the payload beside it inside the file; :func:`load_checkpoint` reads it with
``torch.load(..., weights_only=True)`` (no code from the file is ever run) and turns every way a
file can be wrong - missing, truncated, corrupted, foreign, an older format, another kind - into a
:class:`CheckpointError` that names the file and says what is wrong. Nothing is half-loaded:
the caller gets the whole checked dict or the error.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from .files import atomic_write_bytes

FORMAT = "aigc-course-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, corrupted, of an old format or of another kind."""


@dataclass
class Checkpoint:
    """A loaded (or to-be-saved) checkpoint: ``kind``, ``config``, ``states`` and ``metadata``."""

    kind: str
    config: dict[str, Any]
    states: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def state(self, name: str) -> Any:
        """One state dict by name, or a :class:`CheckpointError` naming the ones there are."""
        if name not in self.states:
            raise CheckpointError(f"{self.path or 'checkpoint'} has no state {name!r} (it has {sorted(self.states)})")
        return self.states[name]


def _feed(digest: "hashlib._Hash", value: Any) -> None:
    """Hash a value canonically: tensors by dtype, shape and bytes; dicts by sorted key; the rest by repr."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    elif isinstance(value, Mapping):
        digest.update(b"{")
        for key in sorted(value, key=repr):
            digest.update(repr(key).encode())
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    else:
        digest.update(repr(value).encode())


def _digest(payload: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    _feed(digest, payload)
    return digest.hexdigest()


def save_checkpoint(path: str | os.PathLike, kind: str, *, config: Mapping[str, Any],
                    states: Mapping[str, Any], metadata: Mapping[str, Any] | None = None) -> Path:
    """Write a checkpoint atomically. Tensors are moved to the CPU so the file loads anywhere.

    ``config`` and ``metadata`` must hold only plain values (numbers, strings, lists, dicts,
    tensors): that is what ``weights_only=True`` can read back.
    """
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a non-empty str, got {kind!r}")
    for name, value in (("config", config), ("states", states), ("metadata", metadata or {})):
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    if not states:
        raise ValueError("states must hold at least one state dict")
    payload = {"kind": kind, "config": dict(config), "states": _to_cpu(dict(states)),
               "metadata": dict(metadata or {})}
    record = {"format": FORMAT, "version": VERSION, **payload, "sha256": _digest(payload)}
    buffer = io.BytesIO()
    torch.save(record, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> Checkpoint:
    """Read and check a checkpoint (``weights_only=True``, on the CPU); every failure is a :class:`CheckpointError`.

    ``kind``, when given, must match the file's kind (a VAE file is refused where a GAN is expected).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, not a zip, pickled code that weights_only refuses, ...
        raise CheckpointError(f"{path} is not a readable checkpoint "
                              f"({type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an aigc-course checkpoint (an old cache or another program's file); "
                              f"delete it and the course will train or download a fresh one")
    if record.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {record.get('version')!r}; this course reads "
                              f"version {VERSION}. Delete it to re-create it")
    missing = [key for key in ("kind", "config", "states", "metadata", "sha256") if key not in record]
    if missing:
        raise CheckpointError(f"{path} is missing {missing}")
    payload = {key: record[key] for key in ("kind", "config", "states", "metadata")}
    if _digest(payload) != record["sha256"]:
        raise CheckpointError(f"{path} failed its checksum: the file was changed or corrupted after it was written")
    if kind is not None and record["kind"] != kind:
        raise CheckpointError(f"{path} holds a {record['kind']!r} checkpoint, expected {kind!r}")
    return Checkpoint(record["kind"], record["config"], record["states"], record["metadata"], path)


def load_state(module: torch.nn.Module | torch.optim.Optimizer, checkpoint: Checkpoint, name: str) -> None:
    """``module.load_state_dict(checkpoint.states[name])``, with a :class:`CheckpointError` when it does not fit."""
    try:
        module.load_state_dict(checkpoint.state(name))
    except (RuntimeError, ValueError, KeyError) as err:
        if isinstance(err, CheckpointError):
            raise
        first = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise CheckpointError(f"{checkpoint.path}: state {name!r} does not fit this model ({first})") from None
