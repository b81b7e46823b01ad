"""Samplers: DDPM ancestral sampling, DDIM, and ODE integration of a flow (Euler / Heun), with CFG.

All samplers start from Gaussian noise and return samples in the model's space ([-1, 1] for
pixels; :func:`samples_to_unit` maps images to [0, 1] for the plots and the classifier).

* DDPM ancestral step (Ho et al. 2020), with x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t) clipped to [-1, 1]:
  x_{t-1} = mu_t(x_t, x0_hat) + sigma_t z,  mu_t = sqrt(ab_{t-1}) beta_t / (1 - ab_t) x0_hat
  + sqrt(alpha_t) (1 - ab_{t-1}) / (1 - ab_t) x_t,  sigma_t^2 = beta_t (1 - ab_{t-1}) / (1 - ab_t).
* DDIM step (Song, Meng & Ermon 2021), :func:`ddim_step`:
  x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma^2) eps + sigma z,
  sigma = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev); eta = 0 is deterministic.
* Flow: dx/dt = v_theta(x, t) from t = 0 (noise) to 1 (data); Euler x += dt v (:func:`euler_step`),
  Heun averages the slopes at both ends of the step.
* Classifier-free guidance (Ho & Salimans 2022): eps~ = eps_uncond + w (eps_cond - eps_uncond)
  (the same for v); w = 1 is the conditional model, w = 0 the unconditional one.

``trajectory=True`` returns a :class:`Trajectory` with every intermediate x (for the widget that
scrubs over t) instead of the final samples alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from .schedules import NoiseSchedule
from ..training import device_of, evaluating, progress as progress_bar
from ..validate import require_bool, require_choice, require_float, require_int, require_tensor, symmetric_to_unit

MAX_SAMPLES = 100_000
MAX_TRAJECTORY_FRAMES = 50_000_000  # floats kept by a trajectory (n x frames x pixels)


@dataclass
class Trajectory:
    """``samples`` ``[n, *shape]`` (final), ``frames`` ``[K, n, *shape]`` (x after each step, starting with the
    noise) and ``times`` (K floats: the network's time of each frame, 1 -> 0 for DDPM/DDIM, 0 -> 1 for a flow)."""

    samples: torch.Tensor
    frames: torch.Tensor
    times: list[float]


def samples_to_unit(x: torch.Tensor) -> torch.Tensor:
    """Samples in [-1, 1] (the model's space) -> [0, 1] for plots and the classifier (clamped)."""
    return symmetric_to_unit(x)


def guided_prediction(model: nn.Module, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None,
                      guidance: float) -> torch.Tensor:
    """out_uncond + w (out_cond - out_uncond) for ``x`` ``[B, ...]``, ``t`` ``[B]``, ``y`` ``[B]`` or None.

    With ``y`` None or ``guidance`` 1 it is one plain call; otherwise the conditional and the
    unconditional (null-class) predictions come from one batched call.
    """
    guidance = require_float("guidance", guidance, minimum=0.0, maximum=100.0)
    if y is None or guidance == 1.0:
        return model(x, t, y)
    null = torch.full_like(y, model.num_classes)
    both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, null]))
    cond, uncond = both.chunk(2)
    return uncond + guidance * (cond - uncond)  # eps~ = eps_u + w (eps_c - eps_u)


def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar_t: float | torch.Tensor,
              alpha_bar_prev: float | torch.Tensor, eta: float = 0.0, noise: torch.Tensor | None = None) -> torch.Tensor:
    """One DDIM step from ``x_t`` to x_prev given the predicted noise ``eps`` (same shape as ``x_t``).

    x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t);
    x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma^2) eps + sigma z. With eta = 0 and the
    true eps this recovers x_0 exactly when ab_prev = 1.
    """
    require_tensor("x_t", x_t, floating=True, finite=True)
    require_tensor("eps", eps, floating=True, finite=True, shape=list(x_t.shape))
    ab_t = torch.as_tensor(alpha_bar_t, dtype=x_t.dtype, device=x_t.device)
    ab_prev = torch.as_tensor(alpha_bar_prev, dtype=x_t.dtype, device=x_t.device)
    for name, value in (("alpha_bar_t", ab_t), ("alpha_bar_prev", ab_prev)):
        if not bool(torch.isfinite(value).all()) or bool((value <= 0).any()) or bool((value > 1).any()):
            raise ValueError(f"{name} must lie in (0, 1], got {value.tolist()}")
    eta = require_float("eta", eta, minimum=0.0, maximum=1.0)
    x0_hat = (x_t - (1 - ab_t).sqrt() * eps) / ab_t.sqrt()
    sigma = eta * ((1 - ab_prev) / (1 - ab_t).clamp_min(1e-12)).sqrt() * (1 - ab_t / ab_prev).clamp_min(0).sqrt()
    direction = (1 - ab_prev - sigma ** 2).clamp_min(0).sqrt() * eps
    x_prev = ab_prev.sqrt() * x0_hat + direction
    if eta > 0:
        if noise is None:
            noise = torch.randn_like(x_t)
        x_prev = x_prev + sigma * noise
    return x_prev


def euler_step(x: torch.Tensor, velocity: torch.Tensor, dt: float) -> torch.Tensor:
    """One Euler step of dx/dt = v: x + dt * v (``x``, ``velocity`` of one shape)."""
    require_tensor("x", x, floating=True, finite=True)
    require_tensor("velocity", velocity, floating=True, finite=True, shape=list(x.shape))
    dt = require_float("dt", dt, minimum=-1.0, maximum=1.0)
    return x + dt * velocity


def _check(model: nn.Module, n: int, shape: tuple[int, ...], y: torch.Tensor | None, guidance: float,
           steps: int | None, progress: bool, trajectory: bool) -> torch.Tensor | None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    require_int("n", n, minimum=1, maximum=MAX_SAMPLES)
    if not isinstance(shape, (tuple, list)) or not shape or not all(isinstance(s, int) and s >= 1 for s in shape):
        raise ValueError(f"shape must be a non-empty tuple of positive ints (one sample's shape), got {shape!r}")
    if steps is not None:
        require_int("steps", steps, minimum=1, maximum=10_000)
    require_float("guidance", guidance, minimum=0.0, maximum=100.0)
    require_bool("progress", progress)
    require_bool("trajectory", trajectory)
    if trajectory and n * math.prod(shape) * ((steps or 1000) + 1) > MAX_TRAJECTORY_FRAMES:
        raise ValueError(f"trajectory=True keeps every step: n={n} x {(steps or 1000) + 1} frames is too many; "
                         f"ask for fewer samples or steps")
    classes = getattr(model, "num_classes", None)
    if y is None:
        return None
    if classes is None:
        raise ValueError("y must be None for an unconditional model (it has no class embedding)")
    require_tensor("y", y, ndim=1, integer=True, shape=[n])
    if int(y.min()) < 0 or int(y.max()) > classes:
        raise ValueError(f"y must hold class indices in [0, {classes}], got range [{int(y.min())}, {int(y.max())}]")
    return y


def _noise(n: int, shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    return torch.randn((n, *shape), generator=generator).to(device)


def _finish(x: torch.Tensor, frames: list[torch.Tensor], times: list[float], trajectory: bool):
    x = x.cpu()
    if trajectory:
        return Trajectory(x, torch.stack(frames), times)
    return x


def ddim_sample(model: nn.Module, schedule: NoiseSchedule, n: int, shape: tuple[int, ...], steps: int = 50,
                y: torch.Tensor | None = None, guidance: float = 1.0, eta: float = 0.0,
                generator: torch.Generator | None = None, progress: bool = True, trajectory: bool = False,
                clip: bool = True) -> torch.Tensor | Trajectory:
    """DDIM with ``steps`` evenly spaced steps of the schedule (eta = 0: deterministic; eta = 1: a strided DDPM).

    Returns ``[n, *shape]`` on the CPU (or a :class:`Trajectory`). ``clip`` clamps x0_hat to [-1, 1]
    (pixels; turn it off for latents).
    """
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    y = _check(model, n, shape, y, guidance, steps, progress, trajectory)
    require_float("eta", eta, minimum=0.0, maximum=1.0)
    require_bool("clip", clip)
    if steps > schedule.steps:
        raise ValueError(f"steps must be at most the schedule's {schedule.steps} steps, got {steps}")
    device = device_of(model)
    indices = torch.linspace(schedule.steps - 1, 0, steps).round().long().tolist()
    alpha_bars = schedule.alpha_bars
    x = _noise(n, shape, generator, device)
    y = None if y is None else y.to(device)
    frames, times = ([x.cpu()], [1.0]) if trajectory else ([], [])
    with evaluating(model):
        for i, step in enumerate(progress_bar(indices, desc=f"DDIM {steps} steps", enabled=progress, leave=False)):
            t = torch.full((n,), step, device=device)
            eps = guided_prediction(model, x, schedule.network_time(t), y, guidance)
            ab_t = float(alpha_bars[step])
            ab_prev = float(alpha_bars[indices[i + 1]]) if i + 1 < len(indices) else 1.0
            if clip:  # re-derive eps from a clipped x0_hat, so the step stays in the data range
                x0_hat = ((x - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)).clamp(-1, 1)
                eps = (x - math.sqrt(ab_t) * x0_hat) / math.sqrt(1 - ab_t)
            noise = torch.randn(x.shape, generator=generator).to(device) if eta > 0 else None
            x = ddim_step(x, eps, ab_t, ab_prev, eta=eta, noise=noise)
            if trajectory:
                frames.append(x.cpu())
                times.append(step / (schedule.steps - 1) if i + 1 < len(indices) else 0.0)
    return _finish(x, frames, times, trajectory)


def ddpm_sample(model: nn.Module, schedule: NoiseSchedule, n: int, shape: tuple[int, ...],
                y: torch.Tensor | None = None, guidance: float = 1.0, generator: torch.Generator | None = None,
                progress: bool = True, trajectory: bool = False, clip: bool = True) -> torch.Tensor | Trajectory:
    """DDPM ancestral sampling over all T steps of ``schedule`` (x0_hat clipped to [-1, 1] when ``clip``).

    Returns ``[n, *shape]`` on the CPU (or a :class:`Trajectory`).
    """
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    y = _check(model, n, shape, y, guidance, schedule.steps, progress, trajectory)
    require_bool("clip", clip)
    device = device_of(model)
    betas, alphas, alpha_bars = schedule.betas.tolist(), schedule.alphas.tolist(), schedule.alpha_bars.tolist()
    x = _noise(n, shape, generator, device)
    y = None if y is None else y.to(device)
    frames, times = ([x.cpu()], [1.0]) if trajectory else ([], [])
    with evaluating(model):
        for step in progress_bar(range(schedule.steps - 1, -1, -1), desc="DDPM", enabled=progress, leave=False):
            t = torch.full((n,), step, device=device)
            eps = guided_prediction(model, x, schedule.network_time(t), y, guidance)
            ab, ab_prev = alpha_bars[step], (alpha_bars[step - 1] if step > 0 else 1.0)
            x0_hat = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
            if clip:
                x0_hat = x0_hat.clamp(-1, 1)
            mean = (math.sqrt(ab_prev) * betas[step] / (1 - ab)) * x0_hat + \
                   (math.sqrt(alphas[step]) * (1 - ab_prev) / (1 - ab)) * x
            if step > 0:
                sigma = math.sqrt(betas[step] * (1 - ab_prev) / (1 - ab))
                x = mean + sigma * torch.randn(x.shape, generator=generator).to(device)
            else:
                x = mean
            if trajectory:
                frames.append(x.cpu())
                times.append(max(step - 1, 0) / (schedule.steps - 1))
    return _finish(x, frames, times, trajectory)


def flow_sample(model: nn.Module, n: int, shape: tuple[int, ...], steps: int = 10, method: str = "euler",
                y: torch.Tensor | None = None, guidance: float = 1.0, generator: torch.Generator | None = None,
                progress: bool = True, trajectory: bool = False) -> torch.Tensor | Trajectory:
    """Integrate dx/dt = v_theta(x, t) from t = 0 (noise) to t = 1 in ``steps`` equal steps.

    ``method``: ``"euler"`` (one network call per step) or ``"heun"`` (two per step, second order).
    Returns ``[n, *shape]`` on the CPU (or a :class:`Trajectory`).
    """
    y = _check(model, n, shape, y, guidance, steps, progress, trajectory)
    require_choice("method", method, ("euler", "heun"))
    device = device_of(model)
    x = _noise(n, shape, generator, device)
    y = None if y is None else y.to(device)
    dt = 1.0 / steps
    frames, times = ([x.cpu()], [0.0]) if trajectory else ([], [])
    with evaluating(model):
        for i in progress_bar(range(steps), desc=f"flow {method} {steps} steps", enabled=progress, leave=False):
            t = torch.full((n,), i * dt, device=device)
            v = guided_prediction(model, x, t, y, guidance)
            if method == "heun":
                x_euler = x + dt * v
                v_end = guided_prediction(model, x_euler, t + dt, y, guidance)
                x = x + dt * 0.5 * (v + v_end)  # the trapezoid of the two slopes
            else:
                x = x + dt * v  # x_{t+dt} = x_t + dt * v(x_t, t)
            if trajectory:
                frames.append(x.cpu())
                times.append((i + 1) * dt)
    return _finish(x, frames, times, trajectory)


def sample_in_batches(sampler, n: int, *args, batch_size: int = 500, y: torch.Tensor | None = None,
                      **kwargs) -> torch.Tensor:
    """Call ``sampler(model, ..., n=chunk, y=chunk_labels, **kwargs)`` on chunks of at most ``batch_size``.

    ``args`` are the sampler's leading positional arguments before ``n`` (the model, and the
    schedule for DDPM/DDIM); ``kwargs`` the rest (shape, steps, generator, ...). Memory stays
    bounded for 10,000 samples; returns ``[n, *shape]`` on the CPU.
    """
    if not callable(sampler):
        raise TypeError(f"sampler must be a sampling function, got {type(sampler).__name__}")
    require_int("n", n, minimum=1, maximum=MAX_SAMPLES)
    require_int("batch_size", batch_size, minimum=1, maximum=MAX_SAMPLES)
    if y is not None:
        require_tensor("y", y, ndim=1, integer=True, shape=[n])
    if kwargs.get("trajectory"):
        raise ValueError("trajectory=True is not available in batches; call the sampler directly")
    parts = []
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        labels = None if y is None else y[start:start + size]
        parts.append(sampler(*args, n=size, y=labels, **kwargs))
    return torch.cat(parts)
