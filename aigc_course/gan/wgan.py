"""WGAN-GP: a critic that estimates the Wasserstein-1 distance, kept 1-Lipschitz by a gradient penalty.

Arjovsky et al. (2017) replace the discriminator's log-likelihood by the Kantorovich-Rubinstein dual

    W1(p_data, p_g) = sup_{||f||_L <= 1} E_{x ~ p_data}[f(x)] - E_{x ~ p_g}[f(x)],

whose gradient with respect to G does not vanish when the two distributions do not overlap (the JSD's
does: it is stuck at log 2). Gulrajani et al. (2017) keep the critic f close to 1-Lipschitz with a
penalty on its gradient norm at random points between real and generated samples:

    L_critic = E[f(G(z))] - E[f(x)] + lambda E_xhat[(||grad_xhat f(xhat)||_2 - 1)^2],
    xhat = eps x + (1 - eps) G(z),  eps ~ U[0, 1] per sample,
    L_G      = -E[f(G(z))].

The critic outputs an unbounded score (no sigmoid). :func:`wgan_gp_step` has the signature of
:func:`~aigc_course.gan.gan_training_step`, so :func:`~aigc_course.gan.train_toy_gan` trains with it.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..training import frozen
from ..validate import require_bool, require_float, require_int, require_tensor
from .losses import StepLosses, _require_parts

GP_WEIGHT = 10.0  # lambda of Gulrajani et al. 2017


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[f(fake)] - E[f(real)]: scores ``[B_r, ...]`` and ``[B_f, ...]`` -> scalar (minimized by the critic)."""
    real_scores = require_tensor("real_scores", real_scores, floating=True, non_empty=True, finite=True)
    fake_scores = require_tensor("fake_scores", fake_scores, floating=True, non_empty=True, finite=True)
    return fake_scores.mean() - real_scores.mean()


def wgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[f(G(z))]: critic scores of fakes ``[B, ...]`` -> scalar (minimized by the generator)."""
    fake_scores = require_tensor("fake_scores", fake_scores, floating=True, non_empty=True, finite=True)
    return -fake_scores.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E_xhat[(||grad f(xhat)||_2 - 1)^2] at xhat = eps real + (1 - eps) fake, eps ~ U[0, 1] per sample.

    ``real`` and ``fake`` have the same shape ``[B, ...]``; eps is drawn from torch's global generator on
    their device. The penalty is differentiable in the critic's parameters (``create_graph=True``).
    """
    if not isinstance(critic, nn.Module):
        raise TypeError(f"critic must be a torch.nn.Module, got {type(critic).__name__}")
    real = require_tensor("real", real, floating=True, non_empty=True, finite=True)
    fake = require_tensor("fake", fake, floating=True, shape=tuple(real.shape), finite=True)
    eps = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    between = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    grad, = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def wgan_gp_step(generator: nn.Module, critic: nn.Module, g_optimizer: torch.optim.Optimizer,
                 d_optimizer: torch.optim.Optimizer, real: torch.Tensor, noise: torch.Tensor,
                 saturating: bool = False, penalty: float = GP_WEIGHT, critic_steps: int = 1) -> StepLosses:
    """``critic_steps`` critic updates on ``real`` ``[B, ...]`` and detached G(noise), then one G update.

    The critic minimizes :func:`critic_loss` + ``penalty`` * :func:`gradient_penalty`; G minimizes
    :func:`wgan_generator_loss` through the frozen critic. ``saturating`` exists for the signature of
    :func:`~aigc_course.gan.gan_training_step` and must be False (the Wasserstein loss has no such form).
    Returns the last critic loss (penalty included) and the generator loss.
    """
    _require_parts(generator, critic, g_optimizer=g_optimizer, d_optimizer=d_optimizer)
    require_tensor("real", real, floating=True, non_empty=True, finite=True)
    require_tensor("noise", noise, floating=True, non_empty=True, finite=True)
    if require_bool("saturating", saturating):
        raise ValueError("saturating must be False: the Wasserstein loss has no saturating form")
    require_float("penalty", penalty, minimum=0.0)
    require_int("critic_steps", critic_steps, minimum=1, maximum=100)
    fake = generator(noise)
    for _ in range(critic_steps):
        d_optimizer.zero_grad(set_to_none=True)
        c_loss = critic_loss(critic(real), critic(fake.detach())) + penalty * gradient_penalty(critic, real, fake)
        c_loss.backward()
        d_optimizer.step()
    with frozen(critic):  # gradients flow through the critic into G, none land in the critic
        g_optimizer.zero_grad(set_to_none=True)
        g_loss = wgan_generator_loss(critic(fake))
        g_loss.backward()
    g_optimizer.step()
    return StepLosses(discriminator=c_loss.item(), generator=g_loss.item())
