"""One place for the course's configuration.

Everything a notebook may want to tune by environment lives here:

* ``AIGC_COURSE_FAST=1`` switches every chapter to a small budget (tests and CI set it;
  students get the full budget by default). :func:`is_fast_mode` is the only reader.
* ``AIGC_COURSE_DEVICE`` overrides the automatic device choice of :func:`get_device`.
* ``AIGC_COURSE_DATA`` moves the data cache (default: a per-user cache folder).

* ``AIGC_COURSE_STRICT=1`` makes an exercise check that does not PASS raise (the test command
  sets it for the solution notebooks); :func:`is_strict` reads it.
* ``AIGC_COURSE_RESULTS=FILE`` makes every exercise check append its result to FILE as one
  JSON line (the grader, ``python -m aigc_course grade``, sets it for each notebook it runs).

Budgets are typed records looked up with :func:`budget`: ``BUDGET = budget("vae")`` then
``BUDGET.epochs``; notebooks never hard-code epochs, subset sizes or sample counts.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from .validate import MAX_SEED

FAST_ENV = "AIGC_COURSE_FAST"
DEVICE_ENV = "AIGC_COURSE_DEVICE"
DATA_ENV = "AIGC_COURSE_DATA"
STRICT_ENV = "AIGC_COURSE_STRICT"
RESULTS_ENV = "AIGC_COURSE_RESULTS"

# The course repository's public address, the one place it is set: the notebooks' setup cell (generated
# from it by `python tools/notebooks.py build`) installs the course from it on Colab when no course wheel
# is found. Empty: not published; Colab then needs the wheel (README, "Colab").
COURSE_REPO_URL = ""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(variable: str) -> bool:
    raw = os.environ.get(variable, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{variable} must be one of 1/0/true/false/yes/no/on/off, got {raw!r}")


def is_fast_mode() -> bool:
    """True when ``AIGC_COURSE_FAST`` is set to 1/true/yes/on (read on every call)."""
    return _flag(FAST_ENV)


# Per-chapter budgets: one frozen dataclass per chapter, so a misspelt field fails at once
# (``BUDGET.epoch`` is an AttributeError, not a silent default). The defaults are the full
# budget students get; ``_FAST`` holds what tests and CI run (AIGC_COURSE_FAST=1).


@dataclass(frozen=True)
class OverviewBudget:
    """Chapter 00 trains nothing."""


@dataclass(frozen=True)
class PreprocessingBudget:
    """Chapter 01: the classifier experiments and the cleaner."""

    train_subset: int = 1000
    epochs: int = 40
    cv_folds: int = 5
    test_images: int = 10000
    monitor_images: int = 2000
    corrupt_pool: int = 20000
    per_kind: int = 200


@dataclass(frozen=True)
class GanBudget:
    """Chapter 02: the toy ring GAN (the collapse demo runs the same steps), WGAN-GP on the ring, the D* experiment."""

    toy_steps: int = 4000
    toy_batch: int = 256
    wgan_steps: int = 4000
    dstar_steps: int = 3000
    dstar_batch: int = 1024


@dataclass(frozen=True)
class VaeBudget:
    """Chapter 03: epochs of each VAE, subsets (None = all of MNIST), the beta sweep, the IWAE estimate."""

    epochs: int = 12
    mlp_epochs: int = 10
    train_subset: int | None = None
    test_subset: int | None = None
    latent2d_epochs: int = 10
    betas: tuple[float, ...] = (0.25, 1.0, 4.0, 16.0)
    beta_epochs: int = 5
    iwae_images: int = 1000
    iwae_k: int = 200
    prior_samples: int = 2000  # decoded z ~ N(0, I) judged by the evaluation classifier (beta = 0 vs 1)
    classifier_subset: int | None = None  # the evaluation classifier of chapter 05 (the same cache file)
    classifier_epochs: int = 3


@dataclass(frozen=True)
class AttentionBudget:
    """Chapter 04: steps of the learned tasks and the size of their test sets."""

    reverse_steps: int = 400
    sort_steps: int = 1000
    test_size: int = 2000
    saturation_trials: int = 2000
    cost_max_length: int = 1024


@dataclass(frozen=True)
class MnistGanBudget:
    """Chapter 05: GAN epochs, evaluation sizes, the shared classifier."""

    epochs: int = 40
    port_epochs: int = 40
    train_subset: int | None = None
    eval_samples: int = 10000
    nn_queries: int = 1000
    classifier_subset: int | None = None
    classifier_epochs: int = 3
    speed_steps: int = 10
    reference_images: int | None = None
    article_g_steps: int = 500
    fused_steps: int = 30


@dataclass(frozen=True)
class ApplicationsBudget:
    """Chapter 06: the VAE and GAN it restores with, the text model, audio, the detector."""

    vae_epochs: int = 5
    vae_train_images: int | None = None
    restore_images: int = 200
    restore_steps: int = 150
    text_steps: int = 1000
    audio_train: int = 2000
    audio_epochs: int = 30
    generalization_steps: int = 600
    timing_steps: int = 20
    gan_model: str = "mlp"
    gan_epochs: int = 5
    gan_train_images: int | None = None
    memorization_queries: int = 1000
    detector_images: int = 3000
    detector_epochs: int = 3


@dataclass(frozen=True)
class DiffusionBudget:
    """Chapter 07: training minutes of each digit model, sampling steps, evaluation sizes, guidance."""

    latent_minutes: float = 6.0           # CPU minutes of the velocity MLP in the autoencoder's latent space
    autoencoder_minutes: float = 6.0      # 2 minutes gave reconstructions FD 13.1, 6 minutes FD 2.2
    pixel_minutes: float = 1.5            # the pixel-space U-Net (DDPM and flow matching)
    pixel_base: int = 16
    train_subset: int | None = None
    eval_samples: int = 10000
    pixel_eval_samples: int = 1000
    sampling_steps: int = 20
    step_sweep: tuple[int, ...] = (1, 2, 5, 10, 20, 50)
    pixel_steps: tuple[int, ...] = (5, 10, 25)
    guidance: float = 1.5                 # the default scale: >= 97% of requested digits recognised (section 8)
    guidance_scales: tuple[float, ...] = (0.0, 1.0, 1.5, 2.0, 3.0, 5.0)
    guidance_per_class: int = 100
    toy_steps: int = 3000
    ancestral_steps: int | None = None    # DDPM ancestral sampling: None = all T steps of the trained schedule


_FULL: dict[str, Any] = {
    "overview": OverviewBudget(),
    "preprocessing": PreprocessingBudget(),
    "gan": GanBudget(),
    "vae": VaeBudget(),
    "attention": AttentionBudget(),
    "mnist_gan": MnistGanBudget(),
    "applications": ApplicationsBudget(),
    "diffusion": DiffusionBudget(),
}
_FAST: dict[str, Any] = {
    "overview": OverviewBudget(),
    "preprocessing": PreprocessingBudget(train_subset=200, epochs=2, cv_folds=3, test_images=1000,
                                         monitor_images=500, corrupt_pool=2000, per_kind=20),
    "gan": GanBudget(toy_steps=300, dstar_steps=1000, wgan_steps=100),
    "vae": VaeBudget(epochs=2, mlp_epochs=3, train_subset=6000, test_subset=1000, latent2d_epochs=3,
                     beta_epochs=2, iwae_images=100, iwae_k=20, prior_samples=500, classifier_subset=6000,
                     classifier_epochs=1),
    "attention": AttentionBudget(reverse_steps=60, sort_steps=60, test_size=500, saturation_trials=300,
                                 cost_max_length=256),
    "mnist_gan": MnistGanBudget(epochs=1, port_epochs=1, train_subset=1024, eval_samples=500, nn_queries=200,
                                classifier_subset=6000, classifier_epochs=1, speed_steps=2, reference_images=2000,
                                article_g_steps=40, fused_steps=2),
    "applications": ApplicationsBudget(vae_epochs=1, vae_train_images=2000, restore_images=48, restore_steps=40,
                                       text_steps=60, audio_train=1000, audio_epochs=8, generalization_steps=100,
                                       timing_steps=3, gan_epochs=1, gan_train_images=1024,
                                       memorization_queries=200, detector_images=600, detector_epochs=1),
    "diffusion": DiffusionBudget(latent_minutes=0.05, autoencoder_minutes=0.05, pixel_minutes=0.02, pixel_base=8,
                                 train_subset=2000, eval_samples=300, pixel_eval_samples=100, sampling_steps=5,
                                 step_sweep=(1, 5), pixel_steps=(2,), guidance_scales=(1.0, 1.5),
                                 guidance_per_class=10, toy_steps=300, ancestral_steps=100),
}


def budget(chapter: str) -> Any:
    """The budget record of ``chapter`` for the current mode (a frozen dataclass).

    >>> budget("vae").epochs  # 12 normally, 2 with AIGC_COURSE_FAST=1
    """
    if chapter not in _FULL:
        raise KeyError(f"chapter must be one of {sorted(_FULL)}, got {chapter!r}")
    return (_FAST if is_fast_mode() else _FULL)[chapter]


def budgets() -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
    """All budgets, both modes, as plain dicts (for documentation and tests)."""
    return {c: {"full": asdict(_FULL[c]), "fast": asdict(_FAST[c])} for c in _FULL}


def is_strict() -> bool:
    """True when ``AIGC_COURSE_STRICT`` is set: an exercise check that does not PASS raises.

    The test command sets it for ``solutions/`` so that a broken solution fails CI; student
    notebooks run without it and fall back to the reference implementation.
    """
    return _flag(STRICT_ENV)


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
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an int in [0, {MAX_SEED}], got {seed!r}")
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
