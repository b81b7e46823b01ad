"""Chapter 07's figures and the plain functions behind its widgets.

Each widget of the notebook wraps one function here that returns data (images in [0, 1]) or a
figure, so the tests call them directly:

* :func:`noising_grid` - images along t of the forward process (one row per image);
* :func:`plot_snr` - log SNR_t of several schedules;
* :func:`trajectory_frame` - one frame of a sampler's :class:`~aigc_course.diffusion.Trajectory`
  (the "scrub over t" slider);
* :func:`sample_images` - digits from a model with a given sampler and number of steps, optionally
  of a requested class with a classifier-free guidance scale (the steps and guidance sliders);
* :func:`plot_toy_samples` - scatter plots of 2-D samples over the ring's modes.
"""

from __future__ import annotations

import math
from typing import Mapping

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from ..gan.toy import GaussianRing
from ..validate import require_choice, require_float, require_int, require_seed, require_tensor
from .samplers import MAX_SAMPLES, Trajectory, ddim_sample, ddpm_sample, flow_sample, samples_to_unit
from .schedules import NoiseSchedule, q_sample

SAMPLERS = ("ddpm", "ddim", "euler", "heun")  # ddpm/ddim for an eps-model, euler/heun for a velocity model


def noising_grid(x0: torch.Tensor, schedule: NoiseSchedule, steps: list[int], seed: int = 0) -> torch.Tensor:
    """x_t for every image and step, ``[n * len(steps), C, H, W]`` in [0, 1], row i = image i along t.

    ``x0`` ``[n, C, H, W]`` in [-1, 1]; the same noise eps is used at every step, so a row shows
    one image drowning: x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps (shown clamped to the pixel range).
    """
    require_tensor("x0", x0, ndim=4, floating=True, finite=True, non_empty=True)
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ValueError(f"steps must be a non-empty list of step indices, got {steps!r}")
    for step in steps:
        require_int("steps", step, minimum=0, maximum=schedule.steps - 1)
    require_seed(seed)
    x0 = x0.detach().float().cpu()
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    frames = [q_sample(x0, torch.full((len(x0),), step), noise, schedule) for step in steps]
    return samples_to_unit(torch.stack(frames, dim=1).flatten(0, 1))


def plot_snr(schedules: Mapping[str, NoiseSchedule], ax: plt.Axes | None = None) -> plt.Axes:
    """SNR_t = ab_t / (1 - ab_t) of each named schedule against t / T, log scale."""
    if not isinstance(schedules, Mapping) or not schedules:
        raise ValueError("schedules must be a non-empty mapping of name -> NoiseSchedule")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, schedule in schedules.items():
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedules[{name!r}] must be a NoiseSchedule, got {type(schedule).__name__}")
        ax.plot((torch.arange(schedule.steps) / schedule.steps).numpy(), schedule.snr().numpy(), label=name)
    ax.axhline(1.0, color="gray", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("t / T")
    ax.set_ylabel("SNR = alpha_bar / (1 - alpha_bar)")
    ax.set_title("signal-to-noise ratio of the noise schedules")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def trajectory_frame(trajectory: Trajectory, index: int) -> torch.Tensor:
    """Frame ``index`` (0 = the starting noise, last = the samples) of an image trajectory, in [0, 1]."""
    if not isinstance(trajectory, Trajectory):
        raise TypeError(f"trajectory must be a Trajectory (trajectory=True), got {type(trajectory).__name__}")
    require_int("index", index, minimum=0, maximum=len(trajectory.frames) - 1)
    frame = trajectory.frames[index]
    if frame.ndim != 4:
        raise ValueError(f"trajectory must hold images [n, C, H, W], got frames of shape {list(frame.shape)}")
    return samples_to_unit(frame)


def sample_images(model: nn.Module, sampler: str, steps: int, n: int = 16, schedule: NoiseSchedule | None = None,
                  digit: int | None = None, guidance: float = 1.0, seed: int = 0,
                  shape: tuple[int, ...] = (1, 28, 28)) -> torch.Tensor:
    """``n`` digits ``[n, 1, 28, 28]`` in [0, 1] from ``model`` with ``sampler`` in :data:`SAMPLERS`.

    ``ddpm`` (always the schedule's T steps; ``steps`` is ignored) and ``ddim`` need the model's
    ``schedule``; ``euler`` and ``heun`` integrate a flow. ``digit`` asks a class-conditional model
    for one class, with classifier-free guidance scale ``guidance`` (1 = plain conditional).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    require_choice("sampler", sampler, SAMPLERS)
    require_int("steps", steps, minimum=1, maximum=10_000)
    require_int("n", n, minimum=1, maximum=MAX_SAMPLES)
    require_float("guidance", guidance, minimum=0.0, maximum=100.0)
    require_seed(seed)
    y = None
    if digit is not None:
        classes = getattr(model, "num_classes", None)
        if classes is None:
            raise ValueError("digit needs a class-conditional model (num_classes set); this one is unconditional")
        y = torch.full((n,), require_int("digit", digit, minimum=0, maximum=classes - 1))
    generator = torch.Generator().manual_seed(seed)
    common = dict(n=n, shape=shape, y=y, guidance=guidance, generator=generator, progress=False)
    if sampler in ("ddpm", "ddim"):
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be the model's NoiseSchedule for {sampler}, got {type(schedule).__name__}")
        if sampler == "ddpm":
            x = ddpm_sample(model, schedule, **common)
        else:
            x = ddim_sample(model, schedule, steps=min(steps, schedule.steps), **common)
    else:
        x = flow_sample(model, steps=steps, method=sampler, **common)
    return samples_to_unit(x)


def plot_toy_samples(samples: Mapping[str, torch.Tensor], ring: GaussianRing, size: float = 3.2) -> plt.Figure:
    """One scatter plot per named ``[N, 2]`` sample set, with the ring's modes and their 3-sigma circles."""
    if not isinstance(samples, Mapping) or not samples:
        raise ValueError("samples must be a non-empty mapping of name -> [N, 2] points")
    if not isinstance(ring, GaussianRing):
        raise TypeError(f"ring must be a GaussianRing, got {type(ring).__name__}")
    fig, axes = plt.subplots(1, len(samples), figsize=(size * len(samples), size), squeeze=False)
    extent = 1.5 * ring.radius + 4 * ring.std
    for ax, (name, points) in zip(axes[0], samples.items()):
        points = require_tensor(f"samples[{name!r}]", points, ndim=2, floating=True, shape=[None, 2]).detach().cpu()
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color="tab:orange")
        for cx, cy in ring.centers().tolist():
            ax.add_patch(plt.Circle((cx, cy), 3 * ring.std, fill=False, color="black", linewidth=0.8))
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def snr_at(schedule: NoiseSchedule, fractions: list[float]) -> list[float]:
    """log10 SNR at the steps round(f * (T - 1)) for each fraction f in [0, 1] (for printed tables)."""
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    snr = schedule.snr()
    return [math.log10(float(snr[round(require_float("fractions", f, minimum=0.0, maximum=1.0)
                                         * (schedule.steps - 1))])) for f in fractions]
