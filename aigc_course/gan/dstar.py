"""The optimal discriminator, checked numerically on two known 1-D densities.

For a fixed generator with density p_g, the value function

    V(D, G) = ∫ p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx

is maximized pointwise: a log y + b log(1 - y) peaks at y = a / (a + b), so

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),
    V(D*, G) = -log 4 + 2 JSD(p_data || p_g),  JSD(p || q) = ½ KL(p || m) + ½ KL(q || m),  m = (p + q) / 2.

:func:`train_discriminator_1d` trains a small network with the course's
:func:`~aigc_course.gan.discriminator_loss` on samples of both densities;
:func:`compare_with_optimum` measures how far it is from D*.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from ..training import device_of, progress as progress_bar
from .losses import discriminator_loss
from .toy import mlp, one_cpu_thread
from ..validate import require_float, require_in_range, require_int, require_seed, require_tensor

# What "the trained D matches D*" means in chapter 02 (checked by tests/test_gan_dstar.py):
# on the region where the mixture m = (p_data + p_g) / 2 has density >= DSTAR_SUPPORT_DENSITY,
# the largest |D - D*| is at most DSTAR_MAX_TOLERANCE and the m-weighted mean is at most DSTAR_MEAN_TOLERANCE.
DSTAR_SUPPORT_DENSITY = 0.02
DSTAR_MAX_TOLERANCE = 0.05
DSTAR_MEAN_TOLERANCE = 0.01


@dataclass(frozen=True)
class GaussianMixture1D:
    """A mixture of 1-D Gaussians: ``weights`` (summing to 1), ``means``, ``stds``."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]

    def __post_init__(self) -> None:
        if not (len(self.weights) == len(self.means) == len(self.stds) >= 1):
            raise ValueError("weights, means and stds must be non-empty and of the same length")
        for w in self.weights:
            require_float("weights", w, minimum=0.0, strict_minimum=True)
        for s in self.stds:
            require_float("stds", s, minimum=0.0, strict_minimum=True)
        for m in self.means:
            require_float("means", m)
        if abs(sum(self.weights) - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1, got {sum(self.weights)}")

    def pdf(self, x: torch.Tensor) -> torch.Tensor:
        """Density at ``x`` (any shape), computed in float64."""
        require_tensor("x", x, floating=True, finite=True)
        x = x.double()
        total = torch.zeros_like(x)
        for w, mu, s in zip(self.weights, self.means, self.stds):
            total = total + w * torch.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        return total

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws ``[n, 1]`` (float32): a component by weight, then its Gaussian."""
        require_int("n", n, minimum=1, maximum=10_000_000)
        component = torch.multinomial(torch.tensor(self.weights), n, replacement=True, generator=generator)
        means, stds = torch.tensor(self.means)[component], torch.tensor(self.stds)[component]
        return (means + stds * torch.randn(n, generator=generator)).unsqueeze(1)


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D* = p_data / (p_data + p_g), elementwise on density values of the same shape (both >= 0, sum > 0)."""
    require_tensor("p_data", p_data, floating=True, finite=True)
    require_tensor("p_g", p_g, floating=True, shape=tuple(p_data.shape), finite=True)
    if bool((p_data < 0).any() | (p_g < 0).any()):
        raise ValueError("p_data and p_g must be densities (>= 0)")
    total = p_data + p_g
    if bool((total <= 0).any()):
        raise ValueError("D* is undefined where p_data + p_g = 0: evaluate it on the support only")
    return p_data / total


def _trapezoid(values: torch.Tensor, x: torch.Tensor) -> float:
    return float(torch.trapezoid(values, x))


def _kl(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> float:
    terms = torch.where(p > 0, p * (torch.log(p) - torch.log(q)), torch.zeros_like(p))
    return _trapezoid(terms, x)


def jensen_shannon(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> float:
    """JSD(p || q) in nats by the trapezoid rule; ``p``, ``q`` are densities on the sorted grid ``x`` ``[N]``."""
    require_tensor("x", x, ndim=1, floating=True, finite=True)
    for name, density in (("p", p), ("q", q)):
        require_tensor(name, density, floating=True, shape=(len(x),))
        require_in_range(name, density, 0.0, None, what="density values")
    m = (p + q) / 2
    return 0.5 * _kl(p.double(), m.double(), x.double()) + 0.5 * _kl(q.double(), m.double(), x.double())


def value_function(d: torch.Tensor, p_data: torch.Tensor, p_g: torch.Tensor, x: torch.Tensor) -> float:
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx by the trapezoid rule; ``d`` = D(x) in (0, 1) on grid ``x``."""
    require_tensor("x", x, ndim=1, floating=True, finite=True)
    for name, t in (("d", d), ("p_data", p_data), ("p_g", p_g)):
        require_tensor(name, t, floating=True, shape=(len(x),))
        require_in_range(name, t, 0.0, 1.0 if name == "d" else None, what="probabilities" if name == "d" else "densities")
    d = d.double()
    integrand = p_data.double() * torch.log(d) + p_g.double() * torch.log1p(-d)
    return _trapezoid(integrand, x.double())


def train_discriminator_1d(p_data: GaussianMixture1D, p_g: GaussianMixture1D, steps: int, batch_size: int = 1024,
                           lr: float = 3e-3, seed: int = 0, device: torch.device | str = "cpu",
                           progress: bool = True) -> tuple[nn.Module, list[float]]:
    """Train D (an MLP 1 -> 64 -> 64 -> 1 giving logits) to separate p_data from a *fixed* p_g.

    Each step draws ``batch_size`` fresh samples of each density and takes an Adam step on
    :func:`~aigc_course.gan.discriminator_loss`; the learning rate decays linearly to 0. On the CPU it
    runs with one torch thread (see :func:`~aigc_course.gan_toy.one_cpu_thread`). Returns the network
    (in eval mode) and the loss of every step (an estimate of -V(D, G)).
    """
    for name, density in (("p_data", p_data), ("p_g", p_g)):
        if not isinstance(density, GaussianMixture1D):
            raise TypeError(f"{name} must be a GaussianMixture1D, got {type(density).__name__}")
    require_int("steps", steps, minimum=1)
    require_int("batch_size", batch_size, minimum=1)
    require_float("lr", lr, minimum=0.0, strict_minimum=True)
    require_seed(seed)
    device = torch.device(device)
    with one_cpu_thread(device):
        return _train_1d(p_data, p_g, steps, batch_size, lr, seed, device, progress)


def _train_1d(p_data: GaussianMixture1D, p_g: GaussianMixture1D, steps: int, batch_size: int, lr: float, seed: int,
              device: torch.device, progress: bool) -> tuple[nn.Module, list[float]]:
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    model = mlp(1, 1, hidden=64, depth=2).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1 - i / steps)
    losses = []
    for _ in progress_bar(range(steps), desc="discriminator vs D*", enabled=progress):
        real = p_data.sample(batch_size, rng).to(device)
        fake = p_g.sample(batch_size, rng).to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = discriminator_loss(model(real), model(fake))
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return model.eval(), losses


@dataclass(frozen=True)
class DStarComparison:
    """A trained D against D* on a grid: the grid, both curves, the error figures, the values of V."""

    x: torch.Tensor
    d_trained: torch.Tensor
    d_star: torch.Tensor
    support: torch.Tensor  # bool mask: mixture density >= DSTAR_SUPPORT_DENSITY
    max_error: float
    mean_error: float
    v_trained: float
    v_star: float
    jsd: float

    @property
    def within_tolerance(self) -> bool:
        return self.max_error <= DSTAR_MAX_TOLERANCE and self.mean_error <= DSTAR_MEAN_TOLERANCE


def compare_with_optimum(model: nn.Module, p_data: GaussianMixture1D, p_g: GaussianMixture1D,
                         lo: float = -8.0, hi: float = 8.0, points: int = 4001) -> DStarComparison:
    """Evaluate ``model`` (logits) and D* on ``points`` grid points of [lo, hi].

    ``max_error`` is the largest |D - D*| where m = (p_data + p_g) / 2 >= DSTAR_SUPPORT_DENSITY;
    ``mean_error`` is ∫ m |D - D*| dx (the error a random real-or-fake sample sees on average).
    ``v_trained``, ``v_star`` are V(D, G) and V(D*, G); ``jsd`` = JSD(p_data || p_g), all by quadrature.
    """
    require_float("lo", lo)
    require_float("hi", hi)
    if not lo < hi:
        raise ValueError(f"lo must be < hi, got lo={lo}, hi={hi}")
    require_int("points", points, minimum=3, maximum=10_000_000)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (the trained discriminator), got {type(model).__name__}")
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    device = device_of(model)
    with torch.no_grad():
        logits = model(x.float().unsqueeze(1).to(device)).squeeze(1).cpu().double()
    d_trained = torch.sigmoid(logits).clamp(1e-12, 1 - 1e-12)
    pd, pg = p_data.pdf(x), p_g.pdf(x)
    d_star = optimal_discriminator(pd, pg)
    mixture = (pd + pg) / 2
    support = mixture >= DSTAR_SUPPORT_DENSITY
    error = (d_trained - d_star).abs()
    return DStarComparison(x=x, d_trained=d_trained, d_star=d_star, support=support,
                           max_error=float(error[support].max()), mean_error=_trapezoid(mixture * error, x),
                           v_trained=value_function(d_trained, pd, pg, x), v_star=value_function(d_star, pd, pg, x),
                           jsd=jensen_shannon(pd, pg, x))


def plot_dstar(result: DStarComparison, p_data: GaussianMixture1D, p_g: GaussianMixture1D) -> plt.Figure:
    """Top: the two densities. Bottom: D* and the trained D, the support region shaded."""
    if not isinstance(result, DStarComparison):
        raise TypeError(f"result must be a DStarComparison, got {type(result).__name__}")
    for name, mixture in (("p_data", p_data), ("p_g", p_g)):
        if not isinstance(mixture, GaussianMixture1D):
            raise TypeError(f"{name} must be a GaussianMixture1D, got {type(mixture).__name__}")
    x = result.x.numpy()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.2), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]})
    top.plot(x, p_data.pdf(result.x).numpy(), color="tab:blue", label="$p_{data}$")
    top.plot(x, p_g.pdf(result.x).numpy(), color="tab:orange", label="$p_g$")
    top.set_ylabel("density")
    top.legend()
    bottom.plot(x, result.d_star.numpy(), color="black", lw=2.5, label="$D^*(x) = p_{data} / (p_{data} + p_g)$")
    bottom.plot(x, result.d_trained.numpy(), color="tab:green", lw=1.5, ls="--", label="trained D(x)")
    inside = result.support.numpy()
    bottom.fill_between(x, 0, 1, where=inside, color="grey", alpha=0.12,
                        label=f"compared where $(p_{{data}} + p_g) / 2 \\geq {DSTAR_SUPPORT_DENSITY}$")
    bottom.set_ylim(-0.02, 1.02)
    bottom.set_xlabel("x")
    bottom.set_ylabel("D(x)")
    bottom.set_title(f"max |D - D*| = {result.max_error:.3f} (tolerance {DSTAR_MAX_TOLERANCE}), "
                     f"mean = {result.mean_error:.4f} (tolerance {DSTAR_MEAN_TOLERANCE})", fontsize=9)
    bottom.legend(fontsize=8, loc="lower left")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    x_lo, x_hi = x[inside].min() - 1.0, x[inside].max() + 1.0
    bottom.set_xlim(x_lo, x_hi)
    fig.tight_layout()
    return fig
