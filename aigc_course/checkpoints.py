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
import math
import os
import pickle
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from .files import atomic_write_bytes

FORMAT = "aigc-course-checkpoint"
VERSION = 1
MAX_BYTES = 1 << 30  # the course's largest checkpoint (a GAN run with its optimizers) is about 30 MB
_SHA256 = re.compile(r"[0-9a-f]{64}")


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


def _unreadable(path: Path, err: BaseException) -> CheckpointError:
    """Our own words for why torch could not parse a file (never torch's advice to disable weights_only)."""
    if isinstance(err, pickle.UnpicklingError):
        why = ("it holds data that a course checkpoint never contains (a corrupted file, another program's file "
               "or a malicious one); it was refused and nothing in it was run")
    elif isinstance(err, EOFError) or "central directory" in str(err) or "zip archive" in str(err):
        why = "it is empty or truncated (an interrupted copy or download?)"
    elif isinstance(err, MemoryError):
        why = "reading it would need more memory than this machine has"
    else:
        why = f"it is corrupted or not a torch checkpoint file ({type(err).__name__})"
    return CheckpointError(f"{path} is not a readable checkpoint: {why}. If it is one of the course's cache files, "
                           f"delete it and the course will create a new one")


def _check_record(path: Path, record: dict) -> None:
    """Every top-level field of a version-1 record has the type the writer gives it."""
    missing = [key for key in ("kind", "config", "states", "metadata", "sha256") if key not in record]
    if missing:
        raise CheckpointError(f"{path} is missing {missing}")
    if not isinstance(record["kind"], str) or not record["kind"]:
        raise CheckpointError(f"{path}: kind must be a non-empty str, got {record['kind']!r}")
    for key in ("config", "states", "metadata"):
        if not isinstance(record[key], dict) or not all(isinstance(k, str) for k in record[key]):
            raise CheckpointError(f"{path}: {key} must be a dict with str keys, got {type(record[key]).__name__}")
    if not record["states"] or not all(isinstance(v, dict) for v in record["states"].values()):
        raise CheckpointError(f"{path}: states must be a non-empty dict of state dicts")
    if not isinstance(record["sha256"], str) or not _SHA256.fullmatch(record["sha256"]):
        raise CheckpointError(f"{path}: sha256 must be 64 hex digits, got {record['sha256']!r}")


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> Checkpoint:
    """Read and check a checkpoint (``weights_only=True``, on the CPU); every failure is a :class:`CheckpointError`.

    ``kind``, when given, must match the file's kind (a VAE file is refused where a GAN is expected).
    The SHA-256 stored inside covers every tensor byte and value, so a flipped bit anywhere in the
    payload is caught. Messages are the course's own: torch's parser errors (and its suggestion to
    retry with ``weights_only=False``, which would run code from the file) are never shown.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a checkpoint file" if path.is_dir() else "does not exist"
        raise CheckpointError(f"checkpoint {path} {what}")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise CheckpointError(f"checkpoint {path} cannot be read: {err.strerror or err}") from None
    if size > MAX_BYTES:
        raise CheckpointError(f"{path} is {size / 2**30:.1f} GiB, larger than any course checkpoint "
                              f"({MAX_BYTES / 2**30:.0f} GiB at most); it was not loaded")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about legacy formats; the error below says it all
            record = torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError as err:
        raise CheckpointError(f"checkpoint {path} cannot be read: {err.strerror or err}") from None
    except Exception as err:  # truncated, not a zip, pickled code that weights_only refuses, ...
        raise _unreadable(path, err) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an aigc-course checkpoint (an old cache or another program's file); "
                              f"delete it and the course will train or download a fresh one")
    if record.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {record.get('version')!r}; this course reads "
                              f"version {VERSION}. Delete it to re-create it")
    _check_record(path, record)
    payload = {key: record[key] for key in ("kind", "config", "states", "metadata")}
    if _digest(payload) != record["sha256"]:
        raise CheckpointError(f"{path} failed its checksum: the file was changed or corrupted after it was written")
    if kind is not None and record["kind"] != kind:
        raise CheckpointError(f"{path} holds a {record['kind']!r} checkpoint, expected {kind!r}")
    return Checkpoint(record["kind"], record["config"], record["states"], record["metadata"], path)


def check_tensors(where: str, state: Any, *, finite: bool = True) -> None:
    """Raise :class:`CheckpointError` unless ``state`` is a dict of str -> tensor (floating ones finite).

    ``where`` names the file and the state in the message ("ckpt.pt: state 'model'").
    """
    if not isinstance(state, dict):
        raise CheckpointError(f"{where} must be a dict of tensors, got {type(state).__name__}")
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{where}: entry {key!r} must be a tensor under a str name, got {type(value).__name__}")
        if finite and value.is_floating_point() and value.numel() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{where}: tensor {key!r} holds NaN or infinite values (a diverged or damaged model)")


def check_optimizer_state(where: str, state: Any) -> None:
    """An optimizer state dict: ``{"state": {int: {name: tensor | number}}, "param_groups": [dict]}``, finite numbers."""
    if not isinstance(state, dict) or not isinstance(state.get("state"), dict) or \
            not isinstance(state.get("param_groups"), list) or not all(isinstance(g, dict) for g in state["param_groups"]):
        raise CheckpointError(f"{where} must be an optimizer state dict ({{'state': dict, 'param_groups': [dict]}})")
    for group in state["param_groups"]:
        for key, value in group.items():
            numbers = value if isinstance(value, (list, tuple)) and key != "params" else [value]
            for number in numbers:
                if isinstance(number, float) and not math.isfinite(number):
                    raise CheckpointError(f"{where}: hyperparameter {key!r} is {number}")
    for index, entry in state["state"].items():
        if not isinstance(entry, dict):
            raise CheckpointError(f"{where}: the state of parameter {index!r} must be a dict, got {type(entry).__name__}")
        for key, value in entry.items():
            if not isinstance(value, torch.Tensor) and (isinstance(value, bool) or not isinstance(value, (int, float))
                                                        or not math.isfinite(value)):
                raise CheckpointError(f"{where}: the state {key!r} of parameter {index!r} must be a tensor or a finite "
                                      f"number, got {value!r}")
        check_tensors(f"{where}: state of parameter {index!r}",
                      {k: v for k, v in entry.items() if isinstance(v, torch.Tensor)})


def load_state(module: torch.nn.Module | torch.optim.Optimizer, checkpoint: Checkpoint, name: str) -> None:
    """``module.load_state_dict(checkpoint.states[name])``, with a :class:`CheckpointError` when it does not fit.

    Every tensor must be finite, a module's weights must match its parameters exactly (names and
    shapes), and an optimizer's per-parameter state must match the shapes of the parameters it
    drives, so a damaged or foreign state never makes a later step fail or compute NaN.
    """
    state = checkpoint.state(name)
    where = f"{checkpoint.path}: state {name!r}"
    if isinstance(module, torch.optim.Optimizer):
        check_optimizer_state(where, state)
    else:
        check_tensors(where, state)
    try:
        module.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
        if isinstance(err, CheckpointError):
            raise
        first = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise CheckpointError(f"{checkpoint.path}: state {name!r} does not fit this model ({first})") from None
    if isinstance(module, torch.optim.Optimizer):
        check_optimizer_fits(where, module)


def check_optimizer_fits(where: str, optimizer: torch.optim.Optimizer) -> None:
    """After ``load_state_dict``: every per-parameter state tensor that is not a scalar has its parameter's shape."""
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            for key, value in optimizer.state.get(parameter, {}).items():
                if isinstance(value, torch.Tensor) and value.ndim and value.shape != parameter.shape:
                    raise CheckpointError(f"{where}: optimizer state {key!r} has shape {list(value.shape)} for a "
                                          f"parameter of shape {list(parameter.shape)}; it does not fit this model")
