"""GAN losses and one correct training step (chapter 02; chapter 05 trains MNIST GANs with them).

The value function of the two-player game is

    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],   min_G max_D V(D, G).

Networks output *logits* l; D(x) = sigmoid(l). Losses are computed from logits with
``binary_cross_entropy_with_logits`` (never ``log(sigmoid(l))``, which underflows):

* discriminator:  L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]      (= -V, minimized)
* generator, minimax ("saturating"):     L_G = E_z[log(1 - D(G(z)))]
* generator, non-saturating (default):   L_G = -E_z[log D(G(z))]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .validate import require_tensor


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """L_D = mean_i -log sigmoid(real_i) + mean_j -log(1 - sigmoid(fake_j)); logits of any shape ``[B, ...]``."""
    require_tensor("real_logits", real_logits, floating=True)
    require_tensor("fake_logits", fake_logits, floating=True)
    if real_logits.numel() == 0 or fake_logits.numel() == 0:
        raise ValueError("real_logits and fake_logits must not be empty")
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_term + fake_term


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """Non-saturating -mean log D(G(z)) (default) or minimax mean log(1 - D(G(z))) (``saturating=True``)."""
    require_tensor("fake_logits", fake_logits, floating=True)
    if fake_logits.numel() == 0:
        raise ValueError("fake_logits must not be empty")
    if not isinstance(saturating, bool):
        raise TypeError(f"saturating must be a bool, got {type(saturating).__name__}")
    if saturating:
        # log(1 - sigmoid(l)) = -BCE(l, 0)
        return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


@dataclass
class StepLosses:
    """Losses of one training step (Python floats, for logging)."""

    discriminator: float
    generator: float


def gan_training_step(generator: nn.Module, discriminator: nn.Module, g_optimizer: torch.optim.Optimizer,
                      d_optimizer: torch.optim.Optimizer, real: torch.Tensor, noise: torch.Tensor,
                      saturating: bool = False) -> StepLosses:
    """One GAN step: update D on real and *detached* fakes, then update G through a D that does not change.

    1. fake = G(z). D-step: L_D(D(real), D(fake.detach())); only D's optimizer steps, and the
       detach keeps gradients out of G.
    2. G-step: L_G(D(fake)); gradients flow through D into G, but only G's optimizer steps
       (D's stale gradients are cleared before its next step).
    """
    require_tensor("real", real, floating=True)
    require_tensor("noise", noise, floating=True)
    fake = generator(noise)

    d_optimizer.zero_grad(set_to_none=True)
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    d_optimizer.step()

    g_optimizer.zero_grad(set_to_none=True)
    for p in discriminator.parameters():
        p.requires_grad_(False)  # G's loss needs D's function, not gradients for D's weights
    try:
        g_loss = generator_loss(discriminator(fake), saturating=saturating)
        g_loss.backward()
    finally:
        for p in discriminator.parameters():
            p.requires_grad_(True)
    g_optimizer.step()
    return StepLosses(discriminator=d_loss.item(), generator=g_loss.item())
