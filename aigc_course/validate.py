"""Small input checks shared by every module: each failure names the argument and what was expected.

The course's policy (CONTRIBUTING.md, "Validation"): a public function checks its arguments at
its boundary - type, shape, dtype, range, finiteness, non-emptiness - with these helpers, and
fails with a message that names the argument, what was expected and what came. Private helpers
(a leading underscore) trust their callers. Errors are ``TypeError`` (wrong kind of object) or
``ValueError`` (right kind, wrong value); :class:`NonFiniteError` is the ``ValueError`` for NaN
or infinite numbers, so a training loop can tell "the run diverged" from "a wrong argument".
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

MAX_SEED = 2**32 - 1  # seeds feed torch, NumPy (32-bit) and arithmetic such as seed * 1_000_003


class NonFiniteError(ValueError):
    """A tensor or number that must be finite holds NaN or an infinity."""


def require_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int (not bool) within [minimum, maximum], else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def require_seed(value: Any, name: str = "seed") -> int:
    """A random seed: an int in [0, :data:`MAX_SEED`] (torch and NumPy accept it, arithmetic on it cannot overflow)."""
    return require_int(name, value, minimum=0, maximum=MAX_SEED)


def require_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (not 0/1, not a string), else raise."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return value


def require_float(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                  strict_minimum: bool = False) -> float:
    """Return ``float(value)`` for a finite real number (Python or NumPy, not bool) within bounds, else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        raise ValueError(f"{name} must be a finite number, got an integer with {len(str(value))} digits") from None
    if not math.isfinite(value):
        raise NonFiniteError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def require_numbers(name: str, values: Any, *, min_length: int = 0) -> list[float]:
    """A list of finite real numbers from any sequence (a list, a 1-D tensor or array; not a string), with at
    least ``min_length`` items."""
    if isinstance(values, torch.Tensor):
        require_tensor(name, values, ndim=1)
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    result = [require_float(f"{name}[{i}]", v) for i, v in enumerate(values)]
    if len(result) < min_length:
        want = "a non-empty sequence of numbers" if min_length == 1 else f"at least {min_length} numbers"
        raise ValueError(f"{name} must be {want}, got {len(result)}")
    return result


def require_path(name: str, value: Any) -> Path:
    """A file-system path given as a str (non-empty) or ``os.PathLike``, returned as a Path."""
    if isinstance(value, str) and value:
        return Path(value)
    if isinstance(value, os.PathLike):
        return Path(value)
    raise TypeError(f"{name} must be a path (a non-empty str or pathlib.Path), got {type(value).__name__} {value!r}")


def require_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise naming the choices."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def require_tensor(name: str, value: Any, *, ndim: int | Sequence[int] | None = None,
                   floating: bool = False, shape: Sequence[int | None] | None = None,
                   finite: bool = False, non_empty: bool = False, integer: bool = False) -> torch.Tensor:
    """Return ``value`` if it is a tensor of the expected rank/shape/dtype kind, else raise.

    ``shape`` entries of ``None`` match any size; ``ndim`` may be one rank or a list of ranks.
    ``floating`` / ``integer``: the dtype must be a float / an integer type (not bool);
    ``non_empty``: at least one element; ``finite``: no NaN or infinity (:func:`require_finite`).
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None:
        ranks = [ndim] if isinstance(ndim, int) else list(ndim)
        if value.ndim not in ranks:
            want = ranks[0] if len(ranks) == 1 else f"one of {ranks}"
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(value.shape)}")
    if shape is not None:
        if value.ndim != len(shape) or any(s is not None and s != v for s, v in zip(shape, value.shape)):
            want = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
            raise ValueError(f"{name} must have shape {want}, got {list(value.shape)}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if integer and (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor (e.g. int64), got dtype {value.dtype}")
    if non_empty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {list(value.shape)}")
    if finite:
        require_finite(name, value)
    return value


def require_finite(name: str, value: torch.Tensor, *, allow_neg_inf: bool = False) -> torch.Tensor:
    """Return the tensor ``value`` if it holds no NaN and no infinity, else raise :class:`NonFiniteError`.

    ``allow_neg_inf=True`` accepts ``-inf`` (a logit or score that means "probability 0").
    Integer and bool tensors are always finite.
    """
    if not (value.is_floating_point() or value.is_complex()) or value.numel() == 0:
        return value
    if allow_neg_inf:
        bad = torch.isnan(value) | torch.isposinf(value)
        if bool(bad.any()):
            raise NonFiniteError(f"{name} must not contain NaN or +inf (-inf is allowed: it means probability 0), "
                                 f"got {int(torch.isnan(value).sum())} NaN and {int(torch.isposinf(value).sum())} "
                                 f"+inf in shape {list(value.shape)}")
        return value
    if not bool(torch.isfinite(value).all()):
        nan = int(torch.isnan(value).sum())
        raise NonFiniteError(f"{name} must be finite, got {nan} NaN and {int(torch.isinf(value).sum())} infinite "
                             f"values in shape {list(value.shape)}")
    return value


def require_ids(name: str, ids: Any, vocab_size: int) -> torch.Tensor:
    """A non-empty 1-D integer tensor of token ids, each in [0, vocab_size - 1]."""
    require_tensor(name, ids, ndim=1, integer=True, non_empty=True)
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(f"{name} must hold ids in [0, {vocab_size - 1}], got range [{ids.min()}, {ids.max()}]")
    return ids


def require_in_range(name: str, value: torch.Tensor, low: float | None, high: float | None, *,
                     tolerance: float = 0.0, what: str = "values", note: str = "") -> torch.Tensor:
    """Return the finite tensor ``value`` if every element lies in [low - tolerance, high + tolerance], else raise."""
    require_finite(name, value)
    if value.numel() == 0:
        return value
    got_low, got_high = value.min().item(), value.max().item()
    if (low is not None and got_low < low - tolerance) or (high is not None and got_high > high + tolerance):
        want = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
        raise ValueError(f"{name} must hold {what} in {want}{note}, got range [{got_low:.4g}, {got_high:.4g}]")
    return value


IMAGE_SHAPE = (1, 28, 28)  # one MNIST image: channels, height, width
PIXEL_RANGES = {"unit": (0.0, 1.0), "symmetric": (-1.0, 1.0)}
_RANGE_TOLERANCE = 1e-4  # float rounding from the [-1, 1] <-> [0, 1] mapping


def require_images(name: str, value: Any, *, pixel_range: str | None = "unit", allow_empty: bool = False,
                   size: tuple[int, int] | None = IMAGE_SHAPE[1:], finite: bool = True) -> torch.Tensor:
    """The course's one image-batch check: ``[N, 1, 28, 28]``, ``[N, 28, 28]`` or ``[N, 784]`` float -> ``[N, 1, 28, 28]``.

    The batch must be finite and, unless ``pixel_range`` is None, inside that range:
    ``"unit"`` is [0, 1] (what the VAE's Bernoulli decoder and the plots use), ``"symmetric"``
    is [-1, 1] (the tanh range of the GAN generators). Returns a view, never a copy.
    ``size=None`` accepts one-channel images of any height and width (``[N, 1, H, W]`` or
    ``[N, H, W]``; the augmentations and the image grid work on any size); ``finite=False`` lets
    NaN and infinite pixels through (only for the data-cleaning checks, whose job is to find them).
    """
    require_tensor(name, value, ndim=(2, 3, 4) if size == IMAGE_SHAPE[1:] else (3, 4), floating=True)
    if size is None:
        if value.ndim == 3:
            value = value.unsqueeze(1)
        elif value.shape[1] != 1:
            raise ValueError(f"{name} must have shape [N, 1, H, W] or [N, H, W] (one channel), got {list(value.shape)}")
    elif value.ndim == 2 and value.shape[1] == size[0] * size[1]:
        value = value.view(-1, 1, *size)
    elif value.ndim == 3 and tuple(value.shape[1:]) == tuple(size):
        value = value.unsqueeze(1)
    elif not (value.ndim == 4 and tuple(value.shape[1:]) == (1, *size)):
        h, w = size
        flat = f" or [N, {h * w}]" if (h, w) == IMAGE_SHAPE[1:] else ""
        raise ValueError(f"{name} must have shape [N, 1, {h}, {w}], [N, {h}, {w}]{flat}, got {list(value.shape)}")
    if len(value) == 0:
        if allow_empty:
            return value
        raise ValueError(f"{name} must hold at least one image, got shape {list(value.shape)}")
    if pixel_range is not None:  # a range check includes the finiteness check (finite=False needs pixel_range=None)
        require_choice("pixel_range", pixel_range, PIXEL_RANGES)
        low, high = PIXEL_RANGES[pixel_range]
        require_in_range(name, value, low, high, tolerance=_RANGE_TOLERANCE, what="pixel values",
                         note=f" ({pixel_range})")
    elif finite:
        require_finite(name, value)
    return value


def symmetric_to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1]: (x + 1) / 2, clamped. The course's one copy of this mapping.

    ``x`` must be finite (NaN would stay NaN, inf would become a white pixel). Values outside
    [-1, 1] are clamped, as a display does; where an out-of-range value means a bug (a generator
    without its tanh), check first with ``require_images(..., pixel_range="symmetric")`` as
    :func:`aigc_course.gan.generate` does.
    """
    require_tensor("x", x, floating=True, finite=True)
    return ((x + 1) / 2).clamp(0, 1)


def unit_to_symmetric(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]: 2x - 1, the inverse of :func:`symmetric_to_unit`. ``x`` must be finite, in [0, 1]."""
    require_tensor("x", x, floating=True)
    require_in_range("x", x, 0.0, 1.0, tolerance=_RANGE_TOLERANCE, note=" (the unit range)")
    return x * 2 - 1
