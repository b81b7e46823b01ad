"""Training objectives: DDPM's epsilon-prediction loss and flow matching's velocity loss.

**DDPM** (Ho, Jain & Abbeel 2020). The ELBO of the reverse chain reduces, with the mean
parametrised through a noise predictor, to a weighted sum of noise-regression terms; dropping
the weights gives the "simple" loss::

    L_simple = E_{x_0, t ~ U{0..T-1}, eps ~ N(0, I)} || eps - eps_theta(x_t, t) ||^2,
    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps.

The optimal eps_theta is E[eps | x_t] = -sqrt(1 - alpha_bar_t) * grad log p_t(x_t): a scaled score,
so this is denoising score matching. The network sees time as t / (T - 1) in [0, 1]
(:meth:`NoiseSchedule.network_time`; 1 = pure noise).

**Flow matching / rectified flow** (Lipman et al. 2023; Liu, Gong & Liu 2023). A straight path
from noise (t = 0) to data (t = 1)::

    x_t = (1 - t) * noise + t * x_0,   t ~ U[0, 1],   target velocity v = dx_t/dt = x_0 - noise,
    L_FM = E || v - v_theta(x_t, t) ||^2.

Sampling integrates dx/dt = v_theta(x, t) from t = 0 (noise) to t = 1 (data).

**Classifier-free guidance** (Ho & Salimans 2022) trains one network for both the conditional
and the unconditional model: with probability ``p_uncond`` a label is replaced by the null class
``num_classes`` (the last row of the class embedding). The model's ``num_classes`` attribute
names that index.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .schedules import NoiseSchedule, q_sample
from ..training import device_of
from ..validate import require_float, require_tensor


def _num_classes(model: nn.Module) -> int | None:
    return getattr(model, "num_classes", None)


def drop_labels(y: torch.Tensor, p_uncond: float, null_class: int,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Replace each label by ``null_class`` with probability ``p_uncond`` (label dropout for CFG); ``[B]`` -> ``[B]``."""
    require_tensor("y", y, ndim=1, integer=True)
    p_uncond = require_float("p_uncond", p_uncond, minimum=0.0, maximum=1.0)
    if p_uncond == 0.0:
        return y
    drop = torch.rand(len(y), generator=generator).to(y.device) < p_uncond
    return torch.where(drop, torch.full_like(y, null_class), y)


def _check_batch(model: nn.Module, x0: torch.Tensor, y: torch.Tensor | None, p_uncond: float) -> torch.Tensor | None:
    """Shared argument checks; returns the labels after label dropout (or None)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    require_tensor("x0", x0, floating=True, finite=True, non_empty=True)
    require_float("p_uncond", p_uncond, minimum=0.0, maximum=1.0)
    classes = _num_classes(model)
    if y is None:
        if classes is not None:
            raise ValueError(f"y must hold labels for a class-conditional model ({classes} classes), got None")
        return None
    if classes is None:
        raise ValueError("y must be None for an unconditional model (it has no class embedding)")
    require_tensor("y", y, ndim=1, integer=True, shape=[len(x0)])
    if int(y.min()) < 0 or int(y.max()) > classes:
        raise ValueError(f"y must hold class indices in [0, {classes}] ({classes} = no class), got range "
                         f"[{int(y.min())}, {int(y.max())}]")
    return y


def ddpm_loss(model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule, y: torch.Tensor | None = None,
              generator: torch.Generator | None = None, p_uncond: float = 0.0) -> torch.Tensor:
    """L_simple = mean || eps - eps_theta(x_t, t / (T-1), y) ||^2 at one random step t per example.

    ``x0`` ``[B, ...]`` in the model's space, ``y`` int64 ``[B]`` or None. Random draws (t, eps,
    label dropout) come from ``generator`` on the CPU, then move to the model's device.
    Returns a scalar tensor (mean over every element).
    """
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    y = _check_batch(model, x0, y, p_uncond)
    device = device_of(model)
    x0 = x0.to(device)
    t = torch.randint(0, schedule.steps, (len(x0),), generator=generator).to(device)
    noise = torch.randn(x0.shape, generator=generator).to(device, x0.dtype)
    if y is not None:
        y = drop_labels(y, p_uncond, _num_classes(model), generator).to(device)
    x_t = q_sample(x0, t, noise, schedule)
    predicted = model(x_t, schedule.network_time(t), y)
    return F.mse_loss(predicted, noise)  # E || eps - eps_theta(x_t, t) ||^2 (per element)


def flow_matching_loss(model: nn.Module, x0: torch.Tensor, y: torch.Tensor | None = None,
                       generator: torch.Generator | None = None, p_uncond: float = 0.0) -> torch.Tensor:
    """L_FM = mean || (x_0 - noise) - v_theta(x_t, t, y) ||^2, x_t = (1 - t) noise + t x_0, t ~ U[0, 1].

    ``x0`` ``[B, ...]``, ``y`` int64 ``[B]`` or None -> a scalar tensor. t = 0 is noise, t = 1 data.
    """
    y = _check_batch(model, x0, y, p_uncond)
    device = device_of(model)
    x0 = x0.to(device)
    t = torch.rand(len(x0), generator=generator).to(device, x0.dtype)
    noise = torch.randn(x0.shape, generator=generator).to(device, x0.dtype)
    if y is not None:
        y = drop_labels(y, p_uncond, _num_classes(model), generator).to(device)
    t_b = t.view(-1, *([1] * (x0.ndim - 1)))
    x_t = (1 - t_b) * noise + t_b * x0  # the straight path from noise (t=0) to data (t=1)
    return F.mse_loss(model(x_t, t, y), x0 - noise)  # target velocity dx_t/dt = x0 - noise


OBJECTIVES = {"ddpm": ddpm_loss, "flow": flow_matching_loss}
