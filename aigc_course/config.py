"""One place for the course's configuration.

Everything a notebook may want to tune by environment lives here:

* ``AIGC_COURSE_FAST=1`` switches every chapter to a small budget (tests and CI set it;
  students get the full budget by default). :func:`is_fast_mode` is the only reader.
* ``AIGC_COURSE_DEVICE`` overrides the automatic device choice of :func:`get_device`.
* ``AIGC_COURSE_DATA`` moves the data cache (default: a per-user cache folder).

Budgets are looked up with :func:`budget`, e.g. ``budget("gan")["epochs"]``; notebooks
never hard-code epochs, subset sizes or sample counts.
"""

from __future__ import annotations

import os
import platform
import random
import sys
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

FAST_ENV = "AIGC_COURSE_FAST"
DEVICE_ENV = "AIGC_COURSE_DEVICE"
DATA_ENV = "AIGC_COURSE_DATA"

# Address of the course repository; the notebooks' setup cell installs from it on Colab.
COURSE_REPO_URL = "https://github.com/aigc-course/aigc-course"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_fast_mode() -> bool:
    """True when ``AIGC_COURSE_FAST`` is set to 1/true/yes/on (read on every call)."""
    raw = os.environ.get(FAST_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{FAST_ENV} must be one of 1/0/true/false/yes/no/on/off, got {raw!r}")


# Per-chapter budgets. Each entry has "full" (what students get) and "fast" (tests/CI).
# Keys are the chapter's topic name; each chapter owns its own block.
_BUDGETS: dict[str, dict[str, dict[str, Any]]] = {
    "overview": {
        "full": {},
        "fast": {},
    },
    "preprocessing": {
        "full": {"train_subset": 1000, "epochs": 40, "cv_folds": 5, "test_images": 10000, "monitor_images": 2000,
                 "corrupt_pool": 20000, "per_kind": 200},
        "fast": {"train_subset": 200, "epochs": 2, "cv_folds": 3, "test_images": 1000, "monitor_images": 500,
                 "corrupt_pool": 2000, "per_kind": 20},
    },
    "gan": {
        "full": {"toy_steps": 4000, "toy_batch": 256, "collapse_steps": 1000, "dstar_steps": 3000, "dstar_batch": 1024},
        "fast": {"toy_steps": 300, "toy_batch": 256, "collapse_steps": 150, "dstar_steps": 1000, "dstar_batch": 1024},
    },
    "vae": {
        "full": {"epochs": 12, "mlp_epochs": 10, "train_subset": None, "test_subset": None, "latent2d_epochs": 10,
                 "betas": (0.25, 1.0, 4.0, 16.0), "beta_epochs": 5, "iwae_images": 1000, "iwae_k": 200},
        "fast": {"epochs": 2, "mlp_epochs": 3, "train_subset": 6000, "test_subset": 1000, "latent2d_epochs": 3,
                 "betas": (0.25, 1.0, 4.0, 16.0), "beta_epochs": 2, "iwae_images": 100, "iwae_k": 20},
    },
    "attention": {
        "full": {"reverse_steps": 400, "sort_steps": 1000, "test_size": 2000, "saturation_trials": 2000},
        "fast": {"reverse_steps": 100, "sort_steps": 100, "test_size": 500, "saturation_trials": 300},
    },
    "mnist_gan": {
        "full": {"epochs": 40, "port_epochs": 40, "train_subset": None, "eval_samples": 10000,
                 "nn_queries": 1000, "classifier_subset": None, "classifier_epochs": 3, "speed_steps": 10,
                 "reference_images": None},
        "fast": {"epochs": 1, "port_epochs": 1, "train_subset": 1024, "eval_samples": 500,
                 "nn_queries": 200, "classifier_subset": 6000, "classifier_epochs": 1, "speed_steps": 2,
                 "reference_images": 2000},
    },
    "applications": {
        "full": {"vae_epochs": 5, "vae_train_images": None, "restore_images": 200, "restore_steps": 150,
                 "text_steps": 1000, "audio_train": 2000, "audio_epochs": 30, "generalization_steps": 600,
                 "timing_steps": 20, "gan_model": "mlp", "gan_epochs": 5, "gan_train_images": None,
                 "memorization_queries": 1000, "detector_images": 3000, "detector_epochs": 3},
        "fast": {"vae_epochs": 1, "vae_train_images": 2000, "restore_images": 48, "restore_steps": 40,
                 "text_steps": 60, "audio_train": 1000, "audio_epochs": 8, "generalization_steps": 100,
                 "timing_steps": 3, "gan_model": "mlp", "gan_epochs": 1, "gan_train_images": 1024,
                 "memorization_queries": 200, "detector_images": 600, "detector_epochs": 1},
    },
}


def budget(chapter: str) -> dict[str, Any]:
    """The budget dict of ``chapter`` for the current mode (a fresh copy).

    >>> budget("vae")["epochs"]  # 10 normally, 1 with AIGC_COURSE_FAST=1
    """
    if chapter not in _BUDGETS:
        raise KeyError(f"chapter must be one of {sorted(_BUDGETS)}, got {chapter!r}")
    return dict(_BUDGETS[chapter]["fast" if is_fast_mode() else "full"])


def budgets() -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
    """All budgets, both modes (for documentation and tests)."""
    return {c: {m: dict(v) for m, v in modes.items()} for c, modes in _BUDGETS.items()}


def get_device(preferred: str | None = None) -> torch.device:
    """Pick the compute device: ``preferred``, else ``$AIGC_COURSE_DEVICE``, else cuda, mps, cpu."""
    name = preferred if preferred is not None else os.environ.get(DEVICE_ENV, "").strip()
    if name:
        try:
            device = torch.device(name)
        except RuntimeError as err:
            raise ValueError(f"device must be a torch device name such as 'cpu' or 'cuda', got {name!r}") from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was asked for but CUDA is not available here")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"device {name!r} was asked for but MPS is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a torch CPU generator seeded too."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def data_dir() -> Path:
    """The data cache folder: ``$AIGC_COURSE_DATA``, else a per-user cache folder."""
    override = os.environ.get(DATA_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "aigc-course"


def environment_report() -> str:
    """A few lines describing versions, device, fast mode and the data cache."""
    from . import __version__
    from .data import mnist_status

    device = get_device()
    lines = [
        f"aigc_course {__version__} | Python {platform.python_version()} | torch {torch.__version__} | numpy {np.__version__}",
        f"device: {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        f"fast mode ({FAST_ENV}): {'ON - small budgets for tests/CI' if is_fast_mode() else 'off - full budgets'}",
        f"data cache ({DATA_ENV}): {data_dir()}",
        f"MNIST: {mnist_status()}",
    ]
    return "\n".join(lines)
