"""A 2-D GAN playground: a ring of Gaussians, a mode-coverage metric, decision-surface snapshots.

The data is a mixture of ``n_modes`` isotropic Gaussians N(c_k, std^2 I) with equal weights,
centred on a circle of ``radius``: c_k = radius * (cos 2 pi k / n, sin 2 pi k / n). Small enough
to train in seconds on a CPU, and every failure of a GAN (missed modes, a generator that hops
between modes, samples smeared between them) is visible in a scatter plot.

:func:`train_toy_gan` trains with :func:`aigc_course.gan.gan_training_step` and keeps
:class:`Snapshot` s of the samples and of D's decision surface; :func:`mode_coverage` scores
the samples. The figures are in :mod:`aigc_course.gan_plots`.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
import torch.nn as nn

from ..training import device_of, progress as progress_bar
from .losses import StepLosses, gan_training_step, generator_step
from ..validate import require_bool, require_float, require_int, require_seed, require_tensor


@dataclass(frozen=True)
class GaussianRing:
    """``n_modes`` Gaussians of standard deviation ``std`` on a circle of ``radius``, equal weights."""

    n_modes: int = 8
    radius: float = 2.0
    std: float = 0.1

    def __post_init__(self) -> None:
        require_int("n_modes", self.n_modes, minimum=1)
        require_float("radius", self.radius, minimum=0.0, strict_minimum=True)
        require_float("std", self.std, minimum=0.0, strict_minimum=True)

    def centers(self) -> torch.Tensor:
        """The mode centres c_k, ``[n_modes, 2]``."""
        angles = 2 * math.pi * torch.arange(self.n_modes, dtype=torch.float64) / self.n_modes
        return (self.radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points ``[n, 2]``: pick a mode uniformly, add N(0, std^2 I) noise."""
        require_int("n", n, minimum=1, maximum=10_000_000)
        modes = torch.randint(0, self.n_modes, (n,), generator=generator)
        return self.centers()[modes] + self.std * torch.randn(n, 2, generator=generator)


@dataclass(frozen=True)
class ModeCoverage:
    """How well samples cover a ring: see :func:`mode_coverage`."""

    modes_covered: int
    high_quality_share: float
    mode_shares: tuple[float, ...]

    def meets(self, min_modes: int, min_high_quality: float) -> bool:
        """True when at least ``min_modes`` modes are covered and the high-quality share is >= the minimum."""
        return self.modes_covered >= min_modes and self.high_quality_share >= min_high_quality


def mode_coverage(samples: torch.Tensor, ring: GaussianRing, n_sigma: float = 3.0,
                  min_mode_share: float = 0.01) -> ModeCoverage:
    """Score ``samples`` ``[N, 2]`` against ``ring``.

    A sample is *high quality* when it lies within ``n_sigma * std`` of its nearest mode centre.
    ``mode_shares[k]`` is the share of all samples that are high quality and nearest to mode k; a mode
    is *covered* when its share is at least ``min_mode_share`` (1% of samples by default, an eighth of
    the ~12.4% a perfect generator gives each of 8 modes: 1 - exp(-9/2) = 98.9% of a 2-D Gaussian lies within 3 std, over 8). ``high_quality_share`` = sum of mode_shares.
    """
    require_tensor("samples", samples, shape=(None, 2), floating=True, finite=True)
    if not isinstance(ring, GaussianRing):
        raise TypeError(f"ring must be a GaussianRing, got {type(ring).__name__}")
    if len(samples) == 0:
        raise ValueError("samples must hold at least one point")
    require_float("n_sigma", n_sigma, minimum=0.0, strict_minimum=True)
    require_float("min_mode_share", min_mode_share, minimum=0.0, maximum=1.0)
    x = samples.detach().double().cpu()
    distances = torch.cdist(x, ring.centers().double())  # [N, n_modes]
    nearest_distance, nearest = distances.min(dim=1)
    good = nearest_distance <= n_sigma * ring.std
    counts = torch.bincount(nearest[good], minlength=ring.n_modes).double() / len(x)
    shares = tuple(float(c) for c in counts)
    return ModeCoverage(modes_covered=sum(s >= min_mode_share and s > 0 for s in shares),
                        high_quality_share=float(good.double().mean()), mode_shares=shares)


def mlp(in_dim: int, out_dim: int, hidden: int = 128, depth: int = 2) -> nn.Sequential:
    """``depth`` hidden layers of ``hidden`` units with LeakyReLU(0.2); a linear output layer."""
    require_int("in_dim", in_dim, minimum=1)
    require_int("out_dim", out_dim, minimum=1)
    require_int("hidden", hidden, minimum=1)
    require_int("depth", depth, minimum=1)
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def decision_surface(discriminator: nn.Module, extent: float, resolution: int = 80) -> torch.Tensor:
    """D(x) = sigmoid(logit) on a ``[resolution, resolution]`` grid over [-extent, extent]^2 (row = y).

    Row i holds y = linspace(-extent, extent)[i], column j holds x = linspace(...)[j], so the array
    can be drawn with ``imshow(..., origin="lower", extent=(-e, e, -e, e))``. Returned on the CPU.
    """
    require_float("extent", extent, minimum=0.0, strict_minimum=True)
    require_int("resolution", resolution, minimum=2, maximum=2000)
    axis = torch.linspace(-extent, extent, resolution)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    device = device_of(discriminator)
    with torch.no_grad():
        logits = discriminator(torch.stack([xs.flatten(), ys.flatten()], dim=1).to(device))
    return torch.sigmoid(logits).reshape(resolution, resolution).cpu()


@contextlib.contextmanager
def one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run the block with one intra-op torch thread when ``device`` is the CPU, then restore the count.

    The playground's networks are so small that splitting each operation across threads only adds
    synchronisation: measured on a loaded 2-core machine, 500 steps took 3-6 s with one thread and 76 s
    with two. Other processes (and the other core) are left alone.
    """
    previous = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class ToyGANConfig:
    """Everything that defines one playground run (networks, optimizer, schedule, seed)."""

    steps: int = 4000
    batch_size: int = 256
    lr_generator: float = 1e-3
    lr_discriminator: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    latent_dim: int = 2
    hidden: int = 128
    depth: int = 3
    generator_steps: int = 1  # generator updates per discriminator update
    saturating: bool = False
    lr_decay: bool = True  # both learning rates decay linearly to 0 over the run
    n_snapshots: int = 25
    eval_samples: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "latent_dim", "hidden", "depth", "generator_steps", "eval_samples"):
            require_int(name, getattr(self, name), minimum=1)
        require_int("n_snapshots", self.n_snapshots, minimum=2)  # at least the start and the end
        require_seed(self.seed)
        require_float("lr_generator", self.lr_generator, minimum=0.0, strict_minimum=True)
        require_float("lr_discriminator", self.lr_discriminator, minimum=0.0, strict_minimum=True)
        if len(self.betas) != 2 or not all(0.0 <= require_float("betas", b) < 1.0 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        require_bool("saturating", self.saturating)
        require_bool("lr_decay", self.lr_decay)


@dataclass
class Snapshot:
    """The state of a run after ``step`` steps: G's samples ``[n, 2]`` and D's surface ``[r, r]`` (CPU)."""

    step: int
    samples: torch.Tensor
    surface: torch.Tensor
    extent: float
    coverage: ModeCoverage


@dataclass
class ToyRun:
    """A finished run: its config, loss history, snapshots, final coverage, wall-clock seconds, networks."""

    config: ToyGANConfig
    ring: GaussianRing
    d_losses: list[float]
    g_losses: list[float]
    snapshots: list[Snapshot]
    coverage: ModeCoverage
    seconds: float
    generator: nn.Module = field(repr=False)
    discriminator: nn.Module = field(repr=False)


def _snapshot_steps(steps: int, n: int) -> list[int]:
    return sorted({round(i * steps / max(n - 1, 1)) for i in range(n)})


def train_toy_gan(ring: GaussianRing, config: ToyGANConfig, device: torch.device | str = "cpu",
                  progress: bool = True, snapshot_points: int = 1000,
                  step: Callable[..., StepLosses] | None = None) -> ToyRun:
    """Train a GAN on ``ring`` with :func:`~aigc_course.gan.gan_training_step`; keep snapshots.

    Each step draws a fresh real batch and fresh noise z ~ N(0, I) (from a seeded CPU generator, so
    the random draws do not depend on the device), runs one D update and ``config.generator_steps`` G updates
    (extra ones through :func:`~aigc_course.gan.generator_step`). ``config.n_snapshots`` snapshots are
    spread evenly over the run, the first before training; each scores G on the same
    ``config.eval_samples`` noise vectors, and the last one's coverage is the run's ``coverage``.
    ``seconds`` is the wall-clock time of the whole call, snapshots included. ``step`` replaces
    :func:`~aigc_course.gan.gan_training_step` (same signature), e.g. by a learner's own version.
    On the CPU the run uses one torch thread (:func:`one_cpu_thread`).
    """
    if not isinstance(ring, GaussianRing) or not isinstance(config, ToyGANConfig):
        raise TypeError("ring must be a GaussianRing and config a ToyGANConfig")
    require_int("snapshot_points", snapshot_points, minimum=1)
    if step is None:
        step = gan_training_step
    elif not callable(step):
        raise TypeError(f"step must be a function like gan_training_step, got {type(step).__name__}")
    device = torch.device(device)
    with one_cpu_thread(device):
        return _train(ring, config, device, progress, snapshot_points, step)


def _train(ring: GaussianRing, config: ToyGANConfig, device: torch.device, progress: bool, snapshot_points: int,
           step: Callable[..., StepLosses]) -> ToyRun:
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    generator = mlp(config.latent_dim, 2, config.hidden, config.depth).to(device)
    discriminator = mlp(2, 1, config.hidden, config.depth).to(device)
    g_opt = torch.optim.Adam(generator.parameters(), lr=config.lr_generator, betas=config.betas)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=config.lr_discriminator, betas=config.betas)
    schedules = [torch.optim.lr_scheduler.LambdaLR(o, lambda i: 1 - i / config.steps if config.lr_decay else 1.0)
                 for o in (g_opt, d_opt)]
    rng = torch.Generator().manual_seed(config.seed)
    eval_noise = torch.randn(config.eval_samples, config.latent_dim, generator=rng).to(device)
    extent = 1.5 * ring.radius + 4 * ring.std
    wanted = set(_snapshot_steps(config.steps, config.n_snapshots))

    def snapshot(at: int) -> Snapshot:
        with torch.no_grad():
            samples = generator(eval_noise).cpu()
        return Snapshot(at, samples[:snapshot_points], decision_surface(discriminator, extent), extent,
                        mode_coverage(samples, ring))

    snapshots = [snapshot(0)] if 0 in wanted else []
    d_losses: list[float] = []
    g_losses: list[float] = []
    for number in progress_bar(range(1, config.steps + 1), desc="toy GAN", enabled=progress):
        real = ring.sample(config.batch_size, rng).to(device)
        noise = torch.randn(config.batch_size, config.latent_dim, generator=rng).to(device)
        losses = step(generator, discriminator, g_opt, d_opt, real, noise, saturating=config.saturating)
        for _ in range(config.generator_steps - 1):
            extra = torch.randn(config.batch_size, config.latent_dim, generator=rng).to(device)
            generator_step(generator, discriminator, g_opt, extra, saturating=config.saturating)
        for schedule in schedules:
            schedule.step()
        d_losses.append(losses.discriminator)
        g_losses.append(losses.generator)
        if number in wanted:
            snapshots.append(snapshot(number))
    return ToyRun(config, ring, d_losses, g_losses, snapshots, snapshots[-1].coverage,
                  time.perf_counter() - start, generator, discriminator)
