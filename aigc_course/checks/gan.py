"""Checks for chapter 02's exercises: the two GAN losses and one correct training step."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn

from ..gan.losses import StepLosses, discriminator_loss, gan_training_step, generator_loss
from . import Exercise, assert_close, same_output


def _logits(seed: int, *shape: int, scale: float = 3.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# Logits far in the tails: sigmoid(±120) rounds to exactly 0 or 1 in float32, so log(sigmoid(.)) is -inf there.
EXTREME_REAL = torch.tensor([120.0, -120.0, 100.0, -100.0, 0.0, 7.5])
EXTREME_FAKE = torch.tensor([-120.0, 120.0, -100.0, 100.0, 0.0, -7.5])


def _finite_on_extreme_logits(*args: torch.Tensor, **kwargs) -> Callable:
    def case(candidate, reference) -> None:
        got = candidate(*(a.clone() for a in args), **kwargs)
        if not isinstance(got, torch.Tensor) or not bool(torch.isfinite(got).all()):
            raise AssertionError(f"with logits of ±100 and ±120 the loss must stay finite, got {got}: compute it from "
                                 "logits with F.binary_cross_entropy_with_logits, not log(sigmoid(.))")
        assert_close("loss on extreme logits", got, reference(*(a.clone() for a in args), **kwargs), atol=1e-4)

    return case


def _same_gradient(*args: torch.Tensor, **kwargs) -> Callable:
    """The gradient of the loss with respect to every logit tensor must match the reference's."""

    def grads(fn) -> list[torch.Tensor]:
        inputs = [a.clone().requires_grad_(True) for a in args]
        loss = fn(*inputs, **kwargs)
        if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
            raise AssertionError("the loss must be a tensor connected to the logits (no .item(), .detach() or "
                                 "torch.tensor(...) on the way), or no gradient can reach the networks")
        return list(torch.autograd.grad(loss, inputs, allow_unused=True))

    def case(candidate, reference) -> None:
        got, expected = grads(candidate), grads(reference)
        for i, (g, e) in enumerate(zip(got, expected)):
            if g is None:
                raise AssertionError(f"the loss does not depend on argument {i + 1}")
            assert_close(f"gradient with respect to argument {i + 1}", g, e, atol=1e-6)

    return case


check_discriminator_loss = Exercise(
    "2.1", "discriminator loss", discriminator_loss,
    cases=[
        same_output(_logits(0, 16), _logits(1, 16), label="loss on random logits"),
        same_output(_logits(2, 32, 1), _logits(3, 8, 1), label="loss with 32 real and 8 fake logits of shape [B, 1]"),
        same_output(torch.zeros(4), torch.zeros(4), label="loss when D(x) = 1/2 everywhere (log 4)"),
        _finite_on_extreme_logits(EXTREME_REAL, EXTREME_FAKE),
        _same_gradient(_logits(4, 10), _logits(5, 6)),
    ],
    hint="BCE-with-logits against ones for the real logits plus BCE-with-logits against zeros for the fake "
         "logits, each a mean over its own batch",
)

check_generator_loss = Exercise(
    "2.2", "non-saturating generator loss", generator_loss,
    cases=[
        same_output(_logits(6, 16), label="non-saturating loss (the default)"),
        same_output(_logits(7, 16), saturating=True, label="minimax loss (saturating=True)"),
        same_output(_logits(8, 12, 1).double(), label="non-saturating loss on float64 logits of shape [B, 1]"),
        same_output(torch.zeros(5), label="non-saturating loss when D(G(z)) = 1/2 (log 2)"),
        _finite_on_extreme_logits(EXTREME_FAKE),
        _finite_on_extreme_logits(EXTREME_FAKE, saturating=True),
        _same_gradient(_logits(9, 8)),
        _same_gradient(_logits(10, 8), saturating=True),
    ],
    hint="non-saturating: -mean log D(G(z)) = BCE-with-logits against ones; minimax: mean log(1 - D(G(z))) = "
         "minus BCE-with-logits against zeros",
)


# --- Exercise 2.3: the training step -------------------------------------------------------------

def _problem(seed: int, optimizer: str):
    """Tiny G: R^3 -> R^2 and D: R^2 -> logit, their optimizers, and two batches of real data and noise."""
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    discriminator = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))

    def make(params):
        if optimizer == "sgd":
            return torch.optim.SGD(params, lr=0.1)
        return torch.optim.Adam(params, lr=0.01, betas=(0.5, 0.999))

    rng = torch.Generator().manual_seed(seed + 100)
    batches = [(torch.randn(16, 2, generator=rng) + 2.0, torch.randn(12, 3, generator=rng)) for _ in range(2)]
    return generator, discriminator, make(generator.parameters()), make(discriminator.parameters()), batches


def _params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _run(fn, seed: int, optimizer: str, saturating: bool):
    generator, discriminator, g_opt, d_opt, batches = _problem(seed, optimizer)
    losses = []
    for real, noise in batches:
        out = fn(generator, discriminator, g_opt, d_opt, real.clone(), noise.clone(), saturating=saturating)
        if not isinstance(out, StepLosses):
            raise AssertionError(f"the step must return StepLosses(discriminator=..., generator=...), got {out!r}")
        for name in ("discriminator", "generator"):
            if not isinstance(getattr(out, name), float):
                raise AssertionError(f"StepLosses.{name} must be a Python float (use loss.item()), "
                                     f"got {type(getattr(out, name)).__name__}")
        losses.append((out.discriminator, out.generator))
    return losses, _params(generator), _params(discriminator), discriminator


def _same_updates(optimizer: str, saturating: bool) -> Callable:
    def case(candidate, reference) -> None:
        exp_losses, exp_g, exp_d, _ = _run(reference, 0, optimizer, saturating)
        got_losses, got_g, got_d, discriminator = _run(candidate, 0, optimizer, saturating)
        if not all(p.requires_grad for p in discriminator.parameters()):
            raise AssertionError("after the step, D's parameters must require gradients again (restore "
                                 "requires_grad_(True) after the G-step), or D never trains again")
        what = f"two steps with {optimizer.upper()}, saturating={saturating}"
        for step, (got, exp) in enumerate(zip(got_losses, exp_losses), start=1):
            assert_close(f"{what}: step {step} losses (discriminator, generator)", list(got), list(exp), atol=1e-5)
        assert_close(f"{what}: the discriminator's parameters", got_d, exp_d, atol=1e-5)
        assert_close(f"{what}: the generator's parameters", got_g, exp_g, atol=1e-5)

    return case


def _grad_is_clear(p: torch.Tensor) -> bool:
    return p.grad is None or not bool(p.grad.any())


def _half_steps_leave_the_other_network_alone(candidate, reference) -> None:
    """Instrument the optimizers: what do G and D hold at the moment each optimizer steps?"""
    generator, discriminator, g_opt, d_opt, batches = _problem(1, "adam")
    g_before, d_before = _params(generator), _params(discriminator)
    seen: dict[str, object] = {}

    def d_pre(*_):
        seen["d_stepped"] = True
        if any(not torch.equal(a, b) for a, b in zip(_params(generator), g_before)):
            raise AssertionError("G changed before D's update: update D first, then G")
        if not all(_grad_is_clear(p) for p in generator.parameters()):
            raise AssertionError("when D's optimizer steps, G already holds gradients from D's loss: "
                                 "feed D the detached fakes, fake.detach(), in the D-step")

    def d_post(*_):
        seen["d_after_d_step"] = _params(discriminator)
        seen["d_grads"] = [None if p.grad is None else p.grad.clone() for p in discriminator.parameters()]

    def g_pre(*_):
        seen["g_stepped"] = True
        if "d_grads" not in seen:
            raise AssertionError("G's optimizer stepped before D's: update D first, then G")
        for p, saved in zip(discriminator.parameters(), seen["d_grads"]):
            if not (_grad_is_clear(p) or (saved is not None and torch.equal(p.grad, saved))):
                raise AssertionError("the generator's loss wrote gradients into D's parameters: freeze D "
                                     "(p.requires_grad_(False) for D's parameters) during the G-step, "
                                     "then restore requires_grad_(True)")

    handles = [d_opt.register_step_pre_hook(d_pre), d_opt.register_step_post_hook(d_post),
               g_opt.register_step_pre_hook(g_pre)]
    try:
        real, noise = batches[0]
        candidate(generator, discriminator, g_opt, d_opt, real, noise, saturating=False)
    finally:
        for handle in handles:
            handle.remove()
    if not seen.get("d_stepped") or not seen.get("g_stepped"):
        raise AssertionError("one step must call d_optimizer.step() once and then g_optimizer.step() once")
    if any(not torch.equal(a, b) for a, b in zip(_params(discriminator), seen["d_after_d_step"])):
        raise AssertionError("D's parameters changed after D's update: the G-step must leave D unchanged "
                             "(only g_optimizer steps in the G-step)")
    if all(torch.equal(a, b) for a, b in zip(_params(discriminator), d_before)):
        raise AssertionError("D's parameters did not change: the D-step must call d_optimizer.step()")


check_gan_training_step = Exercise(
    "2.3", "one GAN training step with correct detach/freeze", gan_training_step,
    cases=[
        _half_steps_leave_the_other_network_alone,
        _same_updates("sgd", saturating=False),
        _same_updates("adam", saturating=False),
        _same_updates("adam", saturating=True),
    ],
    hint="D-step: zero D's grads, L_D on D(real) and D(G(noise).detach()), backward, d_optimizer.step(). "
         "G-step: freeze D's parameters, zero G's grads, L_G on D(G(noise)) with the same noise, backward, "
         "unfreeze D, g_optimizer.step()",
)
