"""Figures every chapter uses: image grids and loss curves (matplotlib, no global state)."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .validate import require_float, require_images, require_int, require_numbers


def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2, pad_value: float = 0.0) -> np.ndarray:
    """Tile images ``[N, H, W]`` or ``[N, 1, H, W]`` with values in [0, 1] into one 2-D array.

    Rows hold ``nrow`` images; the result has shape
    ``[rows * (H + padding) + padding, nrow * (W + padding) + padding]``.
    """
    images = require_images("images", images, size=None, allow_empty=True)[:, 0]  # finite, in [0, 1]
    require_int("nrow", nrow, minimum=1)
    require_int("padding", padding, minimum=0, maximum=1000)
    require_float("pad_value", pad_value, minimum=0.0, maximum=1.0)
    x = images.detach().float().cpu()
    n, h, w = x.shape
    ncol = min(nrow, max(n, 1))
    rows = -(-n // ncol) if n else 1
    grid = np.full((rows * (h + padding) + padding, ncol * (w + padding) + padding), pad_value, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = x[i].numpy()
    return grid


def show_images(images: torch.Tensor, nrow: int = 8, title: str | None = None, ax: plt.Axes | None = None,
                scale: float = 0.6) -> plt.Axes:
    """Show ``images`` (values in [0, 1]) as a grid, white background, black ink."""
    require_float("scale", scale, minimum=0.0, maximum=20.0, strict_minimum=True)
    grid = image_grid(images, nrow=nrow)
    if ax is None:
        _, ax = plt.subplots(figsize=(scale * grid.shape[1] / 30 + 0.5, scale * grid.shape[0] / 30 + 0.5))
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_curves(curves: Mapping[str, Sequence[float]], *, xlabel: str = "step", ylabel: str = "loss",
                title: str | None = None, ax: plt.Axes | None = None, logy: bool = False,
                x: Sequence[float] | None = None) -> plt.Axes:
    """Plot named curves on one axis, e.g. ``{"train": [...], "test": [...]}``."""
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty mapping of name -> sequence of numbers")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in curves.items():
        values = require_numbers(f"curves[{name!r}]", values, min_length=1)
        xs = require_numbers("x", x) if x is not None else list(range(1, len(values) + 1))
        if len(xs) != len(values):
            raise ValueError(f"x has {len(xs)} points but curve {name!r} has {len(values)}")
        ax.plot(xs, values, label=name, marker="o" if len(values) <= 30 else None, markersize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Mean of the last ``window`` values at each position (fewer at the start); same length as ``values``."""
    require_int("window", window, minimum=1)
    x = np.asarray(require_numbers("values", values, min_length=1), dtype=np.float64)
    sums = np.cumsum(np.concatenate([[0.0], x]))
    counts = np.minimum(np.arange(1, len(x) + 1), window)
    return ((sums[1:] - sums[np.arange(1, len(x) + 1) - counts]) / counts).tolist()
