"""Why the original GAN's gradient vanishes when p_data and p_g do not overlap (Arjovsky & Bottou, 2017).

Take p_data = N(0, s^2) and a generator that is a shift, G(z) = theta + s z, so p_g = N(theta, s^2).
Against the optimal discriminator the generator minimizes V(D*, G) = -log 4 + 2 JSD(p_data || p_g).
Once the two bells are a few s apart they barely overlap, the JSD is (numerically) log 2 whatever
theta is, and its slope in theta is 0: moving the fakes towards the data does not lower the loss.
The same shows in the minimax generator loss E[log(1 - D*(G(z)))] with D* held fixed (as in a
G-step): D*(G(z)) ~ 0 on every fake, and d/dtheta ~ 0. The Wasserstein-1 distance of two shifted
copies is |theta|, with slope 1 at every distance.

:func:`vanishing_gradient_table` measures all of it for a list of shifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..validate import require_float, require_int, require_numbers, require_seed
from .dstar import jensen_shannon


@dataclass(frozen=True)
class VanishingRow:
    """One shift theta: the JSD and its slope, W1, and G's gradients against the optimal D (held fixed)."""

    shift: float
    jsd: float
    jsd_slope: float
    wasserstein: float
    minimax_gradient: float
    non_saturating_gradient: float
    mean_d_on_fakes: float


def _normal_pdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def _jsd_of_shift(shift: float, std: float, points: int) -> float:
    x = torch.linspace(min(0.0, shift) - 12 * std, max(0.0, shift) + 12 * std, points, dtype=torch.float64)
    return jensen_shannon(_normal_pdf(x, 0.0, std), _normal_pdf(x, shift, std), x)


def _generator_gradients(shift: float, std: float, samples: int, seed: int) -> tuple[float, float, float]:
    """d/dtheta of E[log(1 - D*(G(z)))] and of E[-log D*(G(z))], D* fixed at theta = ``shift``; mean D*(fakes)."""
    eps = torch.randn(samples, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    theta = torch.tensor(shift, dtype=torch.float64, requires_grad=True)
    fakes = theta + std * eps

    def logit(x: torch.Tensor) -> torch.Tensor:  # log p_data(x) - log p_g(x), p_g frozen at theta = shift
        return (-(x ** 2) + (x - shift) ** 2) / (2 * std ** 2)

    minimax = (-F.softplus(logit(fakes))).mean()        # log(1 - sigmoid(l)) = -softplus(l)
    non_saturating = F.softplus(-logit(fakes)).mean()   # -log sigmoid(l) = softplus(-l)
    g_minimax, = torch.autograd.grad(minimax, theta, retain_graph=True)
    g_non_saturating, = torch.autograd.grad(non_saturating, theta)
    d_mean = torch.sigmoid(logit(fakes.detach())).mean()
    return float(g_minimax), float(g_non_saturating), float(d_mean)


def vanishing_gradient_table(shifts: list[float], std: float = 0.1, samples: int = 10_000, seed: int = 0,
                             points: int = 20_001) -> list[VanishingRow]:
    """For each shift theta > 0: JSD(N(0, s^2) || N(theta, s^2)) in nats (trapezoid rule on ``points``
    grid points), its slope d JSD / d theta (central difference, step s / 100), W1 = theta, and the
    generator's gradients d/dtheta of the minimax and non-saturating losses over ``samples`` fakes
    theta + s eps against the optimal discriminator D* = p_data / (p_data + p_g) held fixed.
    """
    values = require_numbers("shifts", shifts, min_length=1)
    if any(v <= 0 for v in values):
        raise ValueError(f"shifts must be positive distances, got {values}")
    std = require_float("std", std, minimum=0.0, strict_minimum=True)
    require_int("samples", samples, minimum=1, maximum=10_000_000)
    require_seed(seed)
    require_int("points", points, minimum=101, maximum=10_000_000)
    rows = []
    h = std / 100
    for shift in values:
        slope = (_jsd_of_shift(shift + h, std, points) - _jsd_of_shift(shift - h, std, points)) / (2 * h)
        g_mm, g_ns, d_mean = _generator_gradients(shift, std, samples, seed)
        rows.append(VanishingRow(shift, _jsd_of_shift(shift, std, points), slope, shift, g_mm, g_ns, d_mean))
    return rows
