"""Checks for chapter 00's warm-up exercise."""

from __future__ import annotations

import torch

from ..course.overview import mean_digit_images
from . import Exercise, same_output


def _digits(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.cat([torch.arange(10), torch.randint(0, 10, (n - 10,), generator=g)])
    images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
    return images, labels


def _must_reject_missing_digit(candidate, reference) -> None:
    images, labels = _digits(20, 3)
    labels = labels.clamp(max=8)  # no 9s
    try:
        candidate(images, labels)
    except ValueError:
        return
    raise AssertionError("a set without any 9 must raise ValueError (a mean over no images is undefined)")


check_mean_digit_images = Exercise(
    "0.1", "mean image per digit", mean_digit_images,
    cases=[
        same_output(*_digits(10, 0), label="one image per digit"),
        same_output(*_digits(200, 1), label="200 random images"),
        same_output(torch.full((30, 28, 28), 255, dtype=torch.uint8), torch.arange(30) % 10, label="all white"),
        _must_reject_missing_digit,
    ],
    hint="sum the images of each class (as floats), divide by that class's count and by 255",
)
