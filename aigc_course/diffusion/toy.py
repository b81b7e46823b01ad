"""A 2-D diffusion playground on chapter 02's ring of Gaussians, and the exact optimal denoiser.

**The network.** :class:`ToyDenoiser` is chapter 02's :func:`~aigc_course.gan.mlp` fed the point
``x`` ``[B, 2]`` and sinusoidal features of the time ``t`` ``[B]`` (a float in [0, 1], the
convention of :mod:`aigc_course.diffusion`). The same network predicts the noise eps (DDPM) or
the velocity v (flow matching); :func:`train_toy_diffusion` trains it with
:func:`~aigc_course.diffusion.ddpm_loss` or :func:`~aigc_course.diffusion.flow_matching_loss`.

**The exact denoiser.** For data from a mixture of isotropic Gaussians sum_k w_k N(c_k, s^2 I) and
x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps, every quantity is closed-form. Given component k,
x_t ~ N(sqrt(ab) c_k, v I) with v = ab s^2 + 1 - ab, so

    p(k | x_t) = softmax_k( log w_k - ||x_t - sqrt(ab) c_k||^2 / (2 v) ),
    E[x_0 | x_t, k] = c_k + (sqrt(ab) s^2 / v) (x_t - sqrt(ab) c_k),
    E[x_0 | x_t] = sum_k p(k | x_t) E[x_0 | x_t, k],                       (:func:`mixture_denoiser`)
    E[eps | x_t] = (x_t - sqrt(ab) E[x_0 | x_t]) / sqrt(1 - ab),
    grad log p_t(x_t) = -E[eps | x_t] / sqrt(1 - ab)        (Tweedie; the score).

E[eps | x_t] is the minimizer of the epsilon-prediction loss at that t: what a perfectly trained
network would output. :func:`compare_with_exact` measures how close a trained one gets.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn

from ..gan.toy import GaussianRing, mlp, one_cpu_thread
from ..training import device_of, evaluating, progress as progress_bar
from ..validate import require_choice, require_float, require_int, require_seed, require_tensor
from .objectives import ddpm_loss, flow_matching_loss
from .schedules import NoiseSchedule
from .unet import sinusoidal_embedding

TIME_FEATURES = 32


class ToyDenoiser(nn.Module):
    """out = MLP([x, sinusoidal(t)]): ``x`` ``[B, 2]``, ``t`` ``[B]`` in [0, 1] -> ``[B, 2]`` (eps or v)."""

    def __init__(self, hidden: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.net = mlp(2 + TIME_FEATURES, 2, hidden, depth)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        features = sinusoidal_embedding(t, TIME_FEATURES).to(x.dtype)
        return self.net(torch.cat([x, features], dim=1))


@dataclass
class ToyDiffusionRun:
    """A trained playground model: its objective ("ddpm" or "flow"), per-step losses, seconds, network."""

    objective: str
    losses: list[float]
    seconds: float
    model: ToyDenoiser = field(repr=False)


def train_toy_diffusion(ring: GaussianRing, objective: str, schedule: NoiseSchedule | None = None, *,
                        steps: int = 3000, batch_size: int = 256, hidden: int = 128, depth: int = 3,
                        lr: float = 2e-3, seed: int = 0, device: torch.device | str = "cpu",
                        progress: bool = True, loss: Callable[..., torch.Tensor] | None = None) -> ToyDiffusionRun:
    """Train a :class:`ToyDenoiser` on fresh samples of ``ring`` with Adam, the rate decaying linearly to 0.

    ``objective``: ``"ddpm"`` (epsilon prediction, needs ``schedule``) or ``"flow"`` (rectified flow).
    Every step draws a new batch from a seeded CPU generator. On the CPU one torch thread is used
    (the network is tiny; see :func:`~aigc_course.gan.toy.one_cpu_thread`). ``loss`` replaces
    :func:`~aigc_course.diffusion.ddpm_loss` (same signature), e.g. by a learner's own version.
    """
    if not isinstance(ring, GaussianRing):
        raise TypeError(f"ring must be a GaussianRing, got {type(ring).__name__}")
    require_choice("objective", objective, ("ddpm", "flow"))
    if objective == "ddpm" and not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule for the ddpm objective, got {type(schedule).__name__}")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("hidden", hidden), ("depth", depth)):
        require_int(name, value, minimum=1, maximum=1_000_000)
    require_float("lr", lr, minimum=0.0, strict_minimum=True)
    require_seed(seed)
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be a function like ddpm_loss, got {type(loss).__name__}")
    eps_loss = ddpm_loss if loss is None else loss
    device = torch.device(device)
    with one_cpu_thread(device):
        torch.manual_seed(seed)
        model = ToyDenoiser(hidden, depth).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        decay = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1 - i / steps)
        rng = torch.Generator().manual_seed(seed)
        losses: list[float] = []
        start = time.perf_counter()
        for _ in progress_bar(range(steps), desc=f"toy {objective}", enabled=progress):
            x0 = ring.sample(batch_size, rng)
            if objective == "ddpm":
                value = eps_loss(model, x0, schedule, generator=rng)
            else:
                value = flow_matching_loss(model, x0, generator=rng)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            decay.step()
            losses.append(value.item())
    return ToyDiffusionRun(objective, losses, time.perf_counter() - start, model)


def _mixture_args(x_t: torch.Tensor, alpha_bar: float, centers: torch.Tensor, std: float,
                  weights: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    require_tensor("x_t", x_t, ndim=2, floating=True, finite=True)
    require_tensor("centers", centers, ndim=2, floating=True, finite=True, non_empty=True)
    if centers.shape[1] != x_t.shape[1]:
        raise ValueError(f"centers must have x_t's dimension {x_t.shape[1]}, got {list(centers.shape)}")
    require_float("alpha_bar", alpha_bar, minimum=0.0, maximum=1.0, strict_minimum=True)
    require_float("std", std, minimum=0.0, strict_minimum=True)
    if weights is None:
        weights = torch.full((len(centers),), 1.0 / len(centers), dtype=torch.float64)
    require_tensor("weights", weights, ndim=1, floating=True, finite=True, shape=[len(centers)])
    if bool((weights <= 0).any()):
        raise ValueError("weights must be positive")
    return x_t.double(), centers.double(), (weights / weights.sum()).double().log()


def _posterior(x: torch.Tensor, ab: float, centers: torch.Tensor, std: float,
               log_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
    """log p(x_t | k) + log w_k ``[N, K]`` (up to a constant in k), p(k | x_t) ``[N, K]`` and the variance v."""
    v = ab * std ** 2 + (1 - ab)
    logits = log_w - torch.cdist(x, math.sqrt(ab) * centers) ** 2 / (2 * v)
    return logits, logits.softmax(dim=1), v


def _require_noisy(alpha_bar: float) -> None:
    if require_float("alpha_bar", alpha_bar, minimum=0.0, maximum=1.0, strict_minimum=True) >= 1.0:
        raise ValueError(f"alpha_bar must be below 1 (some noise), got {alpha_bar}")


def mixture_denoiser(x_t: torch.Tensor, alpha_bar: float, centers: torch.Tensor, std: float,
                     weights: torch.Tensor | None = None) -> torch.Tensor:
    """E[x_0 | x_t] for x_0 ~ sum_k w_k N(c_k, std^2 I): ``x_t`` ``[N, D]``, ``centers`` ``[K, D]`` -> ``[N, D]``.

    sum_k p(k | x_t) (c_k + sqrt(ab) std^2 / v (x_t - sqrt(ab) c_k)), v = ab std^2 + 1 - ab
    (float64; equal weights when ``weights`` is None).
    """
    x, c, log_w = _mixture_args(x_t, alpha_bar, centers, std, weights)
    _, post, v = _posterior(x, alpha_bar, c, std, log_w)
    ab = math.sqrt(alpha_bar)
    per_mode = c[None] + (ab * std ** 2 / v) * (x[:, None] - ab * c[None])  # [N, K, D]
    return (post[:, :, None] * per_mode).sum(1)


def mixture_noise(x_t: torch.Tensor, alpha_bar: float, centers: torch.Tensor, std: float,
                  weights: torch.Tensor | None = None) -> torch.Tensor:
    """E[eps | x_t] = (x_t - sqrt(ab) E[x_0 | x_t]) / sqrt(1 - ab), ``[N, D]``: the optimal eps-prediction."""
    _require_noisy(alpha_bar)
    x0 = mixture_denoiser(x_t, alpha_bar, centers, std, weights)
    return (x_t.double() - math.sqrt(alpha_bar) * x0) / math.sqrt(1 - alpha_bar)


def mixture_log_density(x_t: torch.Tensor, alpha_bar: float, centers: torch.Tensor, std: float,
                        weights: torch.Tensor | None = None) -> torch.Tensor:
    """log p_t(x_t) of the noised mixture sum_k w_k N(sqrt(ab) c_k, v I), ``[N]`` (differentiable in x_t)."""
    x, c, log_w = _mixture_args(x_t, alpha_bar, centers, std, weights)
    logits, _, v = _posterior(x, alpha_bar, c, std, log_w)
    return torch.logsumexp(logits, dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi * v)


def monte_carlo_denoiser(x_t: torch.Tensor, alpha_bar: float, ring: GaussianRing, samples: int = 100_000,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """E[x_0 | x_t] by self-normalized importance sampling: x_0^(i) from ``ring``, weights q(x_t | x_0^(i)).

    An estimate that knows nothing of the closed form (the test of :func:`mixture_denoiser`); ``[N, 2]``.
    """
    require_tensor("x_t", x_t, ndim=2, floating=True, finite=True, shape=[None, 2])
    _require_noisy(alpha_bar)
    require_int("samples", samples, minimum=1, maximum=10_000_000)
    x0 = ring.sample(samples, generator).double()  # [S, 2]
    log_q = -torch.cdist(x_t.double(), math.sqrt(alpha_bar) * x0) ** 2 / (2 * (1 - alpha_bar))  # [N, S]
    return log_q.softmax(dim=1) @ x0


@dataclass(frozen=True)
class DenoiserGap:
    """At one step t: the trained network's eps against the exact E[eps | x_t], on fresh x_t."""

    step: int
    alpha_bar: float
    rms_gap: float       # sqrt(mean ||eps_net - eps_exact||^2 / D)
    rms_exact: float     # sqrt(mean ||eps_exact||^2 / D), for scale
    loss_net: float      # mean ||eps - eps_net||^2 / D on the same draws
    loss_exact: float    # mean ||eps - eps_exact||^2 / D: the lowest loss any network can reach


def compare_with_exact(model: nn.Module, ring: GaussianRing, schedule: NoiseSchedule, steps: list[int],
                       n: int = 4000, seed: int = 0) -> list[DenoiserGap]:
    """For each step index in ``steps``: noise ``n`` ring samples, compare the network's eps with E[eps | x_t]."""
    if not isinstance(ring, GaussianRing) or not isinstance(schedule, NoiseSchedule):
        raise TypeError("ring must be a GaussianRing and schedule a NoiseSchedule")
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ValueError(f"steps must be a non-empty list of step indices, got {steps!r}")
    for step in steps:
        require_int("steps", step, minimum=0, maximum=schedule.steps - 1)
    require_int("n", n, minimum=1, maximum=1_000_000)
    require_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    device = device_of(model)
    gaps = []
    for step in steps:
        ab = float(schedule.alpha_bars[step])
        x0, eps = ring.sample(n, rng).double(), torch.randn(n, 2, generator=rng, dtype=torch.float64)
        x_t = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps
        t = schedule.network_time(torch.full((n,), step))
        with evaluating(model):
            net = model(x_t.float().to(device), t.to(device)).double().cpu()
        exact = mixture_noise(x_t, ab, ring.centers(), ring.std)
        gaps.append(DenoiserGap(step, ab, float((net - exact).pow(2).mean().sqrt()),
                                float(exact.pow(2).mean().sqrt()), float((eps - net).pow(2).mean()),
                                float((eps - exact).pow(2).mean())))
    return gaps
