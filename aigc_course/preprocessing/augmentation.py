"""Chapter 01: batched, seeded, tensor-native data augmentation (数据增强) for digit images.

Every augmentation takes a float batch ``[B, 1, H, W]`` (or ``[B, H, W]``) and a
``torch.Generator`` and returns a new batch of the same shape, dtype and device; the input is
never modified. All randomness is drawn from the generator (on the CPU, so a seed gives the
same result on every device), one draw per image, so one call augments every image
differently. With ``functools.partial`` each one fits the ``augment(batch, generator)``
callback of :func:`aigc_course.evaluation.train_classifier`; :func:`compose` chains them.

``fill`` is the value of the pixels uncovered when an image moves: the background, which is
0 for MNIST scaled to [0, 1] and -1 for MNIST scaled to [-1, 1].
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..validate import require_bool, require_float, require_images, require_int, require_seed, require_tensor

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _as_bchw(images: torch.Tensor) -> tuple[torch.Tensor, bool]:
    # any size, any value range (fill -1 for data in [-1, 1]); finite and at least one image
    return require_images("images", images, pixel_range=None, size=None), images.ndim == 3


def _check_generator(generator: torch.Generator) -> None:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")


def random_shift(images: torch.Tensor, generator: torch.Generator, max_shift: int = 2,
                 fill: float = 0.0) -> torch.Tensor:
    """Move each image by its own integer offset (dy, dx), each uniform in {-max_shift..max_shift}.

    Equivalent to padding by ``max_shift`` with ``fill`` and cropping a random H x W window:
    out[b, :, i, j] = x[b, :, i - dy_b, j - dx_b] where that pixel exists, else ``fill``.
    Offsets are drawn as ``torch.randint(-m, m + 1, (B, 2), generator=generator)`` (dy, dx).
    """
    x, squeezed = _as_bchw(images)
    _check_generator(generator)
    m = require_int("max_shift", max_shift, minimum=0)
    fill = require_float("fill", fill)
    b, c, h, w = x.shape
    if m >= min(h, w):
        raise ValueError(f"max_shift must be smaller than the image size {h}x{w}, got {m}")
    offsets = torch.randint(-m, m + 1, (b, 2), generator=generator).to(x.device)
    padded = F.pad(x, (m, m, m, m), value=fill)                                 # [B, C, H+2m, W+2m]
    rows = (m - offsets[:, 0]).view(b, 1) + torch.arange(h, device=x.device)    # [B, H]
    cols = (m - offsets[:, 1]).view(b, 1) + torch.arange(w, device=x.device)    # [B, W]
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    out = padded.permute(0, 2, 3, 1)[batch, rows.view(b, h, 1), cols.view(b, 1, w)]  # [B, H, W, C]
    out = out.permute(0, 3, 1, 2).contiguous()
    return out.squeeze(1) if squeezed else out


def rotate(images: torch.Tensor, degrees: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """Rotate image b by ``degrees[b]`` about its centre, counter-clockwise as displayed.

    Bilinear resampling through ``affine_grid``/``grid_sample`` (``align_corners=False``), so
    0 degrees is the identity and 90 degrees equals ``torch.rot90`` exactly (up to float error).
    The output pixel at normalised position p = (x, y) (y pointing down) reads the input at R p,
    R = [[cos a, -sin a], [sin a, cos a]].
    """
    x, squeezed = _as_bchw(images)
    require_tensor("degrees", degrees, ndim=1, floating=True, finite=True)
    if len(degrees) != len(x):
        raise ValueError(f"degrees must have one angle per image ({len(x)}), got {len(degrees)}")
    fill = require_float("fill", fill)
    theta_rad = torch.deg2rad(degrees.to(x.device, x.dtype))
    cos, sin = torch.cos(theta_rad), torch.sin(theta_rad)
    zero = torch.zeros_like(cos)
    # Rows of the 2x3 matrix map output (x, y) (y pointing down) to input coordinates.
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)  # [B, 2, 3]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill
    return out.squeeze(1) if squeezed else out


def random_rotation(images: torch.Tensor, generator: torch.Generator, max_degrees: float = 10.0,
                    fill: float = 0.0) -> torch.Tensor:
    """Rotate each image by its own angle, uniform in [-max_degrees, max_degrees] (see :func:`rotate`)."""
    x, _ = _as_bchw(images)
    _check_generator(generator)
    max_degrees = require_float("max_degrees", max_degrees, minimum=0.0, maximum=180.0)
    angles = (torch.rand(len(x), generator=generator) * 2 - 1) * max_degrees
    return rotate(images, angles, fill=fill)


def random_hflip(images: torch.Tensor, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``: out[..., j] = x[..., W - 1 - j].

    Label-preserving for photos of cats; NOT for digits or letters (a mirrored 2 is not a 2).
    """
    x, squeezed = _as_bchw(images)
    _check_generator(generator)
    p = require_float("p", p, minimum=0.0, maximum=1.0)
    flip = (torch.rand(len(x), generator=generator) < p).to(x.device).view(-1, 1, 1, 1)
    out = torch.where(flip, x.flip(-1), x)
    return out.squeeze(1) if squeezed else out


def add_gaussian_noise(images: torch.Tensor, generator: torch.Generator, std: float = 0.1,
                       clamp: tuple[float, float] | None = (0.0, 1.0)) -> torch.Tensor:
    """x + std * eps with eps ~ N(0, I) per pixel, then clipped to ``clamp`` (None: no clipping)."""
    x, _ = _as_bchw(images)
    _check_generator(generator)
    std = require_float("std", std, minimum=0.0)
    noise = torch.randn(images.shape, generator=generator).to(images.device, images.dtype)
    out = images + std * noise
    if clamp is not None:
        low, high = (require_float("clamp[0]", clamp[0]), require_float("clamp[1]", clamp[1]))
        if low >= high:
            raise ValueError(f"clamp must be (low, high) with low < high, got {clamp}")
        out = out.clamp(low, high)
    return out


def compose(*augments: Augment) -> Augment:
    """Chain augmentations left to right: compose(f, g)(x, gen) = g(f(x, gen), gen)."""
    if not augments:
        raise ValueError("augments must contain at least one augmentation")
    for i, fn in enumerate(augments):
        if not callable(fn):
            raise TypeError(f"augments[{i}] must be callable, got {type(fn).__name__}")

    def chained(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for fn in augments:
            images = fn(images, generator)
        return images

    return chained


def augmentation_preview(image: torch.Tensor, *, rotation: float = 0.0, shift_x: int = 0, shift_y: int = 0,
                         noise_std: float = 0.0, flip: bool = False, seed: int = 0) -> torch.Tensor:
    """The widget's function: one image ``[H, W]`` in [0, 1] -> the transformed ``[H, W]`` in [0, 1].

    Applies, in this order, a rotation by ``rotation`` degrees (counter-clockwise), a shift by
    ``shift_x`` pixels right and ``shift_y`` pixels down (zero fill), a left-right flip if
    ``flip``, and Gaussian noise of std ``noise_std`` (seeded by ``seed``) clipped to [0, 1].
    """
    require_tensor("image", image, ndim=2, floating=True, finite=True, non_empty=True)
    rotation = require_float("rotation", rotation, minimum=-180.0, maximum=180.0)
    h, w = image.shape
    shift_x = require_int("shift_x", shift_x, minimum=-(w - 1), maximum=w - 1)
    shift_y = require_int("shift_y", shift_y, minimum=-(h - 1), maximum=h - 1)
    x = image.view(1, 1, h, w)
    if rotation != 0.0:  # resampling at angle 0 is the identity only up to float error
        x = rotate(x, torch.tensor([rotation], dtype=image.dtype))
    padded = F.pad(x, (w, w, h, h))
    x = padded[..., h - shift_y: 2 * h - shift_y, w - shift_x: 2 * w - shift_x]
    if require_bool("flip", flip):
        x = x.flip(-1)
    x = add_gaussian_noise(x, torch.Generator().manual_seed(require_seed(seed)), std=noise_std)
    return x.view(h, w).clamp(0.0, 1.0)

