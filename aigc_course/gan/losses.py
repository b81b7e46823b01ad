"""GAN losses and one correct training step (chapter 02; chapter 05 trains MNIST GANs with them).

The value function of the two-player game (Goodfellow et al., 2014) is

    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],   min_G max_D V(D, G).

Networks output *logits* l; D(x) = sigmoid(l). Losses are computed from logits with
``binary_cross_entropy_with_logits``, never as ``log(sigmoid(l))``: in float32 that is -inf for
l <= -89 (sigmoid rounds to 0), and ``log(1 - sigmoid(l))`` is -inf already for l >= 17.

* discriminator:  L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]      (= -V, minimized)
* generator, minimax ("saturating"):     L_G = E_z[log(1 - D(G(z)))]
* generator, non-saturating (default):   L_G = -E_z[log D(G(z))]

With D = sigmoid(l), the gradients with respect to the fake logit l are

    d/dl log(1 - sigmoid(l)) = -D        (saturating: vanishes when D(G(z)) -> 0)
    d/dl -log sigmoid(l)     = -(1 - D)  (non-saturating: largest when D(G(z)) -> 0)

which is why the non-saturating form trains while D still rejects the fakes easily.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..training import frozen
from ..validate import require_bool, require_tensor


def _require_logits(name: str, logits: torch.Tensor) -> torch.Tensor:
    # Finite: BCE-with-logits of an infinite logit is inf - inf = NaN, and a NaN loss trains nothing.
    return require_tensor(name, logits, floating=True, non_empty=True, finite=True)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss L_D = -V, a scalar tensor.

    ``real_logits`` ``[B_r, ...]`` are D's logits on real data, ``fake_logits`` ``[B_f, ...]`` on
    generated data (batch sizes may differ). With D = sigmoid(logit):

        L_D = mean_i[-log D(x_i)] + mean_j[-log(1 - D(G(z_j)))]
            = BCE(real_logits, 1) + BCE(fake_logits, 0)

    Minimizing L_D maximizes V(D, G). Finite for any finite logits; NaN or infinite logits raise.
    """
    _require_logits("real_logits", real_logits)
    _require_logits("fake_logits", fake_logits)
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_term + fake_term


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """The generator's loss on D's logits ``[B, ...]`` for generated data, a scalar tensor.

    * ``saturating=False`` (default), non-saturating:  L_G = mean_j[-log D(G(z_j))] = BCE(l, 1)
    * ``saturating=True``, the minimax form:          L_G = mean_j[log(1 - D(G(z_j)))] = -BCE(l, 0)

    Both are minimized by G and both push D(G(z)) towards 1; they differ in their gradients
    (see the module docstring).
    """
    _require_logits("fake_logits", fake_logits)
    require_bool("saturating", saturating)
    if saturating:
        return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def generator_logit_gradients(d_values: torch.Tensor) -> dict[str, torch.Tensor]:
    """dL_G/dl of both generator losses for one fake sample per entry of ``d_values`` ``[N]``.

    ``d_values`` are D(G(z)) in (0, 1); each is turned into its logit l = log(D / (1 - D)) and the
    gradient of :func:`generator_loss` (batch of one) is taken by autograd. Closed forms:
    ``"saturating"`` = -D, ``"non-saturating"`` = -(1 - D). Returns ``[N]`` float64 tensors.
    """
    require_tensor("d_values", d_values, ndim=1, floating=True)
    if d_values.numel() == 0 or not bool(((d_values > 0) & (d_values < 1)).all()):
        raise ValueError("d_values must be a non-empty 1-D tensor of probabilities strictly inside (0, 1)")
    logits = torch.logit(d_values.detach().double()).requires_grad_(True)
    out: dict[str, torch.Tensor] = {}
    for name, saturating in (("saturating", True), ("non-saturating", False)):
        # sum of per-sample losses: each logit gets the gradient of its own batch-of-one loss
        total = sum(generator_loss(logits[i:i + 1], saturating=saturating) for i in range(len(logits)))
        (grad,) = torch.autograd.grad(total, logits)
        out[name] = grad.detach()
    return out


@dataclass
class StepLosses:
    """Losses of one training step (Python floats, for logging)."""

    discriminator: float
    generator: float


def _require_parts(generator: nn.Module, discriminator: nn.Module, **optimizers: torch.optim.Optimizer) -> None:
    for name, module in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(module, nn.Module):
            raise TypeError(f"{name} must be a torch.nn.Module, got {type(module).__name__}")
    for name, optimizer in optimizers.items():
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{name} must be a torch.optim.Optimizer, got {type(optimizer).__name__}")


def _update_discriminator(discriminator: nn.Module, d_optimizer: torch.optim.Optimizer, real: torch.Tensor,
                          fake: torch.Tensor) -> float:
    d_optimizer.zero_grad(set_to_none=True)
    d_loss = discriminator_loss(discriminator(real), discriminator(fake))
    d_loss.backward()
    d_optimizer.step()
    return d_loss.item()


def _update_generator(discriminator: nn.Module, g_optimizer: torch.optim.Optimizer, fake: torch.Tensor,
                      saturating: bool) -> float:
    with frozen(discriminator):  # G's loss needs D's function, not gradients for D's weights
        g_optimizer.zero_grad(set_to_none=True)
        g_loss = generator_loss(discriminator(fake), saturating=saturating)
        g_loss.backward()
    g_optimizer.step()
    return g_loss.item()


def discriminator_step(generator: nn.Module, discriminator: nn.Module, d_optimizer: torch.optim.Optimizer,
                       real: torch.Tensor, noise: torch.Tensor) -> float:
    """One update of D on ``real`` ``[B, ...]`` and on fakes G(``noise``) ``[B_z, latent...]``; returns L_D.

    The fakes carry no graph back to G (here computed under ``torch.no_grad()``, the same as
    ``G(noise).detach()``): L_D's gradient stops at G's output, so G's parameters receive no gradient
    and (only ``d_optimizer`` steps) are left unchanged.
    """
    _require_parts(generator, discriminator, d_optimizer=d_optimizer)
    require_tensor("real", real, floating=True, non_empty=True, finite=True)
    require_tensor("noise", noise, floating=True, non_empty=True, finite=True)
    with torch.no_grad():
        fake = generator(noise)
    return _update_discriminator(discriminator, d_optimizer, real, fake)


def generator_step(generator: nn.Module, discriminator: nn.Module, g_optimizer: torch.optim.Optimizer,
                   noise: torch.Tensor, saturating: bool = False) -> float:
    """One update of G through D on ``noise`` ``[B_z, latent...]``; returns L_G (see :func:`generator_loss`).

    Gradients flow *through* D into G, but D's parameters are frozen (``requires_grad=False``)
    for the duration, so D gets no gradient and is left unchanged; only ``g_optimizer`` steps.
    """
    _require_parts(generator, discriminator, g_optimizer=g_optimizer)
    require_tensor("noise", noise, floating=True, non_empty=True, finite=True)
    require_bool("saturating", saturating)
    return _update_generator(discriminator, g_optimizer, generator(noise), saturating)


def gan_training_step(generator: nn.Module, discriminator: nn.Module, g_optimizer: torch.optim.Optimizer,
                      d_optimizer: torch.optim.Optimizer, real: torch.Tensor, noise: torch.Tensor,
                      saturating: bool = False) -> StepLosses:
    """One GAN step: update D on real and *detached* fakes, then update G through a D that does not change.

    ``fake = G(noise)`` is computed once (one forward pass of G, with its graph), then:

    1. D-step (as :func:`discriminator_step`): L_D(D(real), D(fake.detach())); only ``d_optimizer``
       steps, and the detach keeps gradients out of G.
    2. G-step (as :func:`generator_step`): L_G(D(fake)) with the *updated* D, whose parameters are
       frozen, so gradients reach G only and only ``g_optimizer`` steps.

    ``real`` ``[B, ...]`` is a batch of data, ``noise`` ``[B_z, latent...]`` the generator's input.
    Returns both losses as floats; the D loss is measured before D's update, the G loss with the
    updated D.
    """
    _require_parts(generator, discriminator, g_optimizer=g_optimizer, d_optimizer=d_optimizer)
    if g_optimizer is d_optimizer:
        raise ValueError("g_optimizer and d_optimizer must be two different optimizers (one per network)")
    require_tensor("real", real, floating=True, non_empty=True, finite=True)
    require_tensor("noise", noise, floating=True, non_empty=True, finite=True)
    require_bool("saturating", saturating)
    fake = generator(noise)
    d_loss = _update_discriminator(discriminator, d_optimizer, real, fake.detach())
    g_loss = _update_generator(discriminator, g_optimizer, fake, saturating)
    return StepLosses(discriminator=d_loss, generator=g_loss)
