"""Noise schedules and the forward (noising) process of a diffusion model.

A schedule is a sequence of variances ``beta_t`` (t = 0..T-1, index 0 is the first noising step).
The forward Markov chain adds a little Gaussian noise per step::

    q(x_t | x_{t-1}) = N( sqrt(1 - beta_t) x_{t-1}, beta_t I )

and, because Gaussians compose, any step can be reached from the data in one jump::

    q(x_t | x_0) = N( sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I ),   alpha_t = 1 - beta_t,
    alpha_bar_t = prod_{s <= t} alpha_s.

:func:`q_sample` is that closed form; :func:`simulate_forward_chain` runs the chain step by step
(the two agree in distribution: ``tests/test_diffusion.py`` checks means and variances). The
signal-to-noise ratio of step t is SNR_t = alpha_bar_t / (1 - alpha_bar_t).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..validate import require_float, require_int, require_tensor

MAX_STEPS = 100_000


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """A diffusion noise schedule: ``betas`` ``[T]`` (float64), with ``alphas`` and ``alpha_bars`` derived.

    Build one with :meth:`linear` (Ho et al. 2020) or :meth:`cosine` (Nichol & Dhariwal 2021).
    ``kind`` and ``params`` record how it was made, so a checkpoint can rebuild it (:meth:`from_config`).
    """

    betas: torch.Tensor
    kind: str = "custom"
    params: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        require_tensor("betas", self.betas, ndim=1, floating=True, finite=True, non_empty=True)
        if len(self.betas) < 2 or len(self.betas) > MAX_STEPS:
            raise ValueError(f"betas must hold 2 to {MAX_STEPS} steps, got {len(self.betas)}")
        if bool((self.betas <= 0).any()) or bool((self.betas >= 1).any()):
            raise ValueError(f"betas must lie in (0, 1), got range [{float(self.betas.min()):.3g}, "
                             f"{float(self.betas.max()):.3g}]")
        object.__setattr__(self, "betas", self.betas.detach().double().cpu())

    @classmethod
    def linear(cls, steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> "NoiseSchedule":
        """beta_t evenly spaced from ``beta_start`` to ``beta_end`` (Ho, Jain & Abbeel 2020)."""
        require_int("steps", steps, minimum=2, maximum=MAX_STEPS)
        beta_start = require_float("beta_start", beta_start, minimum=0.0, strict_minimum=True, maximum=0.999)
        beta_end = require_float("beta_end", beta_end, minimum=beta_start, maximum=0.999)
        return cls(torch.linspace(beta_start, beta_end, steps, dtype=torch.float64), "linear",
                   (("steps", steps), ("beta_start", beta_start), ("beta_end", beta_end)))

    @classmethod
    def cosine(cls, steps: int = 1000, s: float = 0.008) -> "NoiseSchedule":
        """alpha_bar(t) = f(t) / f(0), f(t) = cos^2( (t/T + s) / (1 + s) * pi/2 ) (Nichol & Dhariwal 2021).

        beta_t = 1 - alpha_bar_t / alpha_bar_{t-1}, clipped to at most 0.999 as in the paper.
        """
        require_int("steps", steps, minimum=2, maximum=MAX_STEPS)
        s = require_float("s", s, minimum=0.0, maximum=1.0)
        grid = torch.arange(steps + 1, dtype=torch.float64) / steps
        f = torch.cos((grid + s) / (1 + s) * math.pi / 2) ** 2
        alpha_bar = f / f[0]
        betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(1e-8, 0.999)
        return cls(betas, "cosine", (("steps", steps), ("s", s)))

    @classmethod
    def from_config(cls, config: dict) -> "NoiseSchedule":
        """Rebuild a linear or cosine schedule from :meth:`config` (a checkpoint's record)."""
        if not isinstance(config, dict) or config.get("kind") not in ("linear", "cosine"):
            raise ValueError(f"config must be a dict with kind 'linear' or 'cosine', got {config!r}")
        params = {k: v for k, v in config.items() if k != "kind"}
        try:
            return cls.linear(**params) if config["kind"] == "linear" else cls.cosine(**params)
        except TypeError as err:
            raise ValueError(f"config has unexpected fields for a {config['kind']} schedule: {err}") from None

    def config(self) -> dict:
        """``{"kind": ..., <constructor arguments>}``: plain values for a checkpoint."""
        if self.kind not in ("linear", "cosine"):
            raise ValueError("only linear and cosine schedules can be stored in a checkpoint")
        return {"kind": self.kind, **dict(self.params)}

    @property
    def steps(self) -> int:
        """T, the number of noising steps."""
        return len(self.betas)

    @property
    def alphas(self) -> torch.Tensor:
        """alpha_t = 1 - beta_t, ``[T]``."""
        return 1 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:
        """alpha_bar_t = prod_{s <= t} alpha_s, ``[T]``, decreasing in (0, 1)."""
        return torch.cumprod(self.alphas, 0)

    def snr(self) -> torch.Tensor:
        """Signal-to-noise ratio SNR_t = alpha_bar_t / (1 - alpha_bar_t), ``[T]``, decreasing."""
        ab = self.alpha_bars
        return ab / (1 - ab)

    def network_time(self, t: torch.Tensor) -> torch.Tensor:
        """The network's time input for step indices ``t`` ``[B]``: t / (T - 1), a float in [0, 1] (1 = pure noise)."""
        return t.float() / (self.steps - 1)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"NoiseSchedule.{self.kind}({args})"


def _gather(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] reshaped to broadcast over ``like`` ``[B, ...]``, in its dtype and device."""
    return values.to(like.device)[t.to(like.device)].to(like.dtype).view(-1, *([1] * (like.ndim - 1)))


def _require_steps(t: torch.Tensor, batch: int, schedule: NoiseSchedule) -> None:
    require_tensor("t", t, ndim=1, integer=True, shape=[batch])
    if len(t) and (int(t.min()) < 0 or int(t.max()) >= schedule.steps):
        raise ValueError(f"t must hold step indices in [0, {schedule.steps - 1}], got range "
                         f"[{int(t.min())}, {int(t.max())}]")


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """Closed-form forward noising: x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps.

    ``x0`` ``[B, ...]`` (data, e.g. images in [-1, 1]), ``t`` int64 ``[B]`` of step indices
    0..T-1, ``noise`` eps ~ N(0, I) of ``x0``'s shape -> ``x_t`` of ``x0``'s shape.
    """
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    require_tensor("x0", x0, floating=True, finite=True, non_empty=True)
    require_tensor("noise", noise, floating=True, finite=True, shape=list(x0.shape))
    _require_steps(t, len(x0), schedule)
    alpha_bar = _gather(schedule.alpha_bars, t, x0)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise  # x_t = sqrt(ab) x0 + sqrt(1 - ab) eps


def simulate_forward_chain(x0: torch.Tensor, schedule: NoiseSchedule, t: int | torch.Tensor,
                           generator: torch.Generator | None = None) -> torch.Tensor:
    """Run the Markov chain x_s = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) eps_s for s = 0..t, one step at a time.

    ``x0`` ``[B, ...]``; ``t`` an int (the same last step for the whole batch) or int64 ``[B]``.
    Returns x_t, distributed as :func:`q_sample` (the point of the closed form: one jump, not t+1 steps).
    """
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    require_tensor("x0", x0, floating=True, finite=True, non_empty=True)
    if isinstance(t, torch.Tensor):
        _require_steps(t, len(x0), schedule)
        last = t.to(x0.device)
    else:
        last = torch.full((len(x0),), require_int("t", t, minimum=0, maximum=schedule.steps - 1), device=x0.device)
    x = x0.clone()
    for s in range(int(last.max()) + 1):
        beta = float(schedule.betas[s])
        eps = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        stepped = math.sqrt(1 - beta) * x + math.sqrt(beta) * eps  # x_s = sqrt(1 - b_s) x_{s-1} + sqrt(b_s) eps
        active = (last >= s).view(-1, *([1] * (x.ndim - 1)))
        x = torch.where(active, stepped, x)
    return x
