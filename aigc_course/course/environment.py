"""What the setup cell of every notebook prints: versions, device, modes and the data cache."""

from __future__ import annotations

import platform

import numpy as np
import torch

from .. import __version__
from ..config import DATA_ENV, FAST_ENV, STRICT_ENV, data_dir, get_device, is_fast_mode, is_strict
from ..data import mnist_status


def environment_report() -> str:
    """A few lines describing versions, device, fast and strict mode, and the data cache."""
    device = get_device()
    lines = [
        f"aigc_course {__version__} | Python {platform.python_version()} | torch {torch.__version__} | numpy {np.__version__}",
        f"device: {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        f"fast mode ({FAST_ENV}): {'ON - small budgets for tests/CI' if is_fast_mode() else 'off - full budgets'}",
        f"data cache ({DATA_ENV}): {data_dir()}",
        f"MNIST: {mnist_status()}",
    ]
    if is_strict():
        lines.append(f"strict checks ({STRICT_ENV}): ON - an exercise check that does not pass raises")
    return "\n".join(lines)
