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
