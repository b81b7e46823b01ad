"""The training plumbing every chapter shares; the loops themselves stay in the chapters.

Each chapter writes its own short loop with ``zero_grad`` / ``backward`` / ``step`` in plain
sight. What repeats around those lines lives here, once:

* :func:`progress` - the course's one progress bar (``tqdm.auto``), throttled so that a
  per-step ``set_postfix`` can never flood a notebook's output channel;
* :class:`History` - one naming scheme for every curve: ``"train/<name>"`` and ``"eval/<name>"``;
* :func:`evaluating` and :func:`frozen` - context managers that put a model in eval mode or
  stop its gradients, and restore exactly what was there before, even on an exception;
* :func:`device_of` - the device a model's parameters (or buffers) live on.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterable, Iterator, Mapping

import torch
import torch.nn as nn
from tqdm.auto import tqdm

from .validate import require_bool, require_choice, require_int

MIN_INTERVAL_S = 0.5  # tqdm redraws (and postfix updates) at most twice a second
SPLITS = ("train", "eval")


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", enabled: bool = True, leave: bool = True) -> tqdm:
    """The course's progress bar: ``tqdm.auto`` (a widget in Jupyter, text elsewhere), throttled.

    ``set_postfix`` on the returned bar is rate-limited too (``refresh=False`` under the hood),
    so calling it every step costs nothing and sends nothing until the next redraw.
    """
    if iterable is not None and not hasattr(iterable, "__iter__"):
        raise TypeError(f"iterable must be iterable or None, got {type(iterable).__name__}")
    if total is not None:
        require_int("total", total, minimum=0)
    require_bool("enabled", enabled)
    bar = tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled, leave=leave,
               mininterval=MIN_INTERVAL_S, maxinterval=10.0, dynamic_ncols=True)
    plain_postfix = bar.set_postfix

    def set_postfix(ordered_dict: Mapping[str, Any] | None = None, refresh: bool = False, **values: Any) -> None:
        plain_postfix(ordered_dict, refresh=False, **values)  # drawn with the next throttled update

    bar.set_postfix = set_postfix  # type: ignore[method-assign]
    return bar


class History:
    """Curves recorded during training, under one naming scheme: ``"<split>/<name>"``.

    ``split`` is ``"train"`` (one value per step or epoch) or ``"eval"`` (held-out data).
    Values are plain floats; a non-finite value raises at once, so a NaN loss stops the run
    where it appears instead of ten epochs later.

    >>> h = History(); h.log("train", loss=0.7); h["train/loss"]
    [0.7]
    """

    def __init__(self, curves: Mapping[str, Iterable[float]] | None = None) -> None:
        self.curves: dict[str, list[float]] = {}
        for key, values in (curves or {}).items():
            split, _, name = str(key).partition("/")
            self.log_many(split, name, values)

    @staticmethod
    def key(split: str, name: str) -> str:
        require_choice("split", split, SPLITS)
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"name must be a non-empty str without '/', got {name!r}")
        return f"{split}/{name}"

    def log(self, split: str, **values: float | torch.Tensor) -> None:
        """Append one value to each named curve of ``split``: ``history.log("train", loss=l, kl=k)``."""
        if not values:
            raise ValueError("log needs at least one name=value")
        for name, value in values.items():
            self.log_many(split, name, [value])

    def log_many(self, split: str, name: str, values: Iterable[float | torch.Tensor]) -> None:
        key = self.key(split, name)
        for value in values:
            number = float(value.item() if isinstance(value, torch.Tensor) else value)
            if not math.isfinite(number):
                raise FloatingPointError(f"{key} became {number} at entry {len(self.curves.get(key, []))}")
            self.curves.setdefault(key, []).append(number)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.curves:
            raise KeyError(f"no curve {key!r}; recorded: {sorted(self.curves)}")
        return self.curves[key]

    def __contains__(self, key: object) -> bool:
        return key in self.curves

    def __len__(self) -> int:
        return len(self.curves)

    def last(self, key: str) -> float:
        """The newest value of a curve."""
        return self[key][-1]

    def split(self, split: str) -> dict[str, list[float]]:
        """The curves of one split, keyed by their short names (for ``plot_curves``)."""
        require_choice("split", split, SPLITS)
        return {k.partition("/")[2]: v for k, v in self.curves.items() if k.startswith(split + "/")}

    def state_dict(self) -> dict[str, list[float]]:
        """Plain lists of floats: safe for ``torch.load(..., weights_only=True)``."""
        return {k: list(v) for k, v in self.curves.items()}

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Iterable[float]]) -> "History":
        return cls(state)

    def __repr__(self) -> str:
        return "History(" + ", ".join(f"{k}: {len(v)}" for k, v in self.curves.items()) + ")"


def _modules(models: tuple[nn.Module, ...]) -> tuple[nn.Module, ...]:
    if not models:
        raise ValueError("at least one model is needed")
    for i, model in enumerate(models):
        if not isinstance(model, nn.Module):
            raise TypeError(f"models[{i}] must be a torch.nn.Module, got {type(model).__name__}")
    return models


@contextlib.contextmanager
def evaluating(*models: nn.Module, no_grad: bool = True) -> Iterator[None]:
    """Eval mode (dropout off, batch norm on running statistics) and no autograd, then restore.

    Every submodule's own ``training`` flag is put back as it was, not just the top one.
    ``no_grad=False`` keeps autograd on (chapter 06 optimizes a latent code *through* a model
    in eval mode).
    """
    saved = [[(m, m.training) for m in model.modules()] for model in _modules(models)]
    try:
        for model in models:
            model.eval()
        with torch.no_grad() if no_grad else contextlib.nullcontext():
            yield
    finally:
        for flags in saved:
            for module, was_training in flags:
                module.training = was_training


@contextlib.contextmanager
def frozen(*models: nn.Module) -> Iterator[None]:
    """``requires_grad=False`` on every parameter (gradients still flow *through* the model), then restore.

    Used for the GAN generator step: D's weights must not change while G learns from D's output.
    """
    saved = [[(p, p.requires_grad) for p in model.parameters()] for model in _modules(models)]
    try:
        for flags in saved:
            for parameter, _ in flags:
                parameter.requires_grad_(False)
        yield
    finally:
        for flags in saved:
            for parameter, was in flags:
                parameter.requires_grad_(was)


def device_of(model: nn.Module) -> torch.device:
    """The device of a model's first parameter (or buffer); CPU for a model with neither."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")
