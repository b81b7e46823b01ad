"""Small input checks shared by every module: each failure names the argument and what was expected."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import torch


def require_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int (not bool) within [minimum, maximum], else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def require_float(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                  strict_minimum: bool = False) -> float:
    """Return ``float(value)`` for a finite real number within bounds, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def require_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise naming the choices."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def require_tensor(name: str, value: Any, *, ndim: int | Sequence[int] | None = None,
                   floating: bool = False, shape: Sequence[int | None] | None = None) -> torch.Tensor:
    """Return ``value`` if it is a tensor of the expected rank/shape/dtype kind, else raise.

    ``shape`` entries of ``None`` match any size; ``ndim`` may be one rank or a list of ranks.
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
    return value


IMAGE_SHAPE = (1, 28, 28)  # one MNIST image: channels, height, width
PIXEL_RANGES = {"unit": (0.0, 1.0), "symmetric": (-1.0, 1.0)}
_RANGE_TOLERANCE = 1e-4  # float rounding from the [-1, 1] <-> [0, 1] mapping


def require_images(name: str, value: Any, *, pixel_range: str | None = "unit", allow_empty: bool = False) -> torch.Tensor:
    """The course's one image-batch check: ``[N, 1, 28, 28]``, ``[N, 28, 28]`` or ``[N, 784]`` float -> ``[N, 1, 28, 28]``.

    The batch must be finite and, unless ``pixel_range`` is None, inside that range:
    ``"unit"`` is [0, 1] (what the VAE's Bernoulli decoder and the plots use), ``"symmetric"``
    is [-1, 1] (the tanh range of the GAN generators). Returns a view, never a copy.
    """
    require_tensor(name, value, ndim=(2, 3, 4), floating=True)
    if value.ndim == 2 and value.shape[1] == 28 * 28:
        value = value.view(-1, *IMAGE_SHAPE)
    elif value.ndim == 3 and tuple(value.shape[1:]) == IMAGE_SHAPE[1:]:
        value = value.unsqueeze(1)
    elif not (value.ndim == 4 and tuple(value.shape[1:]) == IMAGE_SHAPE):
        raise ValueError(f"{name} must have shape [N, 1, 28, 28], [N, 28, 28] or [N, 784], got {list(value.shape)}")
    if len(value) == 0:
        if allow_empty:
            return value
        raise ValueError(f"{name} must hold at least one image, got shape {list(value.shape)}")
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} must be finite, got NaN or infinite pixel values")
    if pixel_range is not None:
        require_choice("pixel_range", pixel_range, PIXEL_RANGES)
        low, high = PIXEL_RANGES[pixel_range]
        got_low, got_high = value.min().item(), value.max().item()
        if got_low < low - _RANGE_TOLERANCE or got_high > high + _RANGE_TOLERANCE:
            raise ValueError(f"{name} must hold pixel values in [{low:g}, {high:g}] ({pixel_range}), "
                             f"got range [{got_low:.3g}, {got_high:.3g}]")
    return value


def symmetric_to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1]: (x + 1) / 2, clamped against rounding. The course's one copy of this mapping."""
    require_tensor("x", x, floating=True)
    return ((x + 1) / 2).clamp(0, 1)


def unit_to_symmetric(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]: 2x - 1, the inverse of :func:`symmetric_to_unit`."""
    require_tensor("x", x, floating=True)
    return x * 2 - 1
