"""GAN losses against their closed forms, and each half-step leaves the other network untouched."""

import copy
import math

import pytest
import torch
import torch.nn as nn

from aigc_course.checks.gan import _same_updates, check_gan_training_step
from aigc_course.gan.losses import (StepLosses, discriminator_loss, discriminator_step, gan_training_step,
                             generator_logit_gradients, generator_loss, generator_step)


def _log_sigmoid64(x):
    """log(sigmoid(x)) in float64: accurate for moderate logits (|x| <= 20)."""
    return torch.log(torch.sigmoid(x.double()))


def _log_one_minus_sigmoid64(x):
    return torch.log(1 - torch.sigmoid(x.double()))


@pytest.fixture
def logits():
    g = torch.Generator().manual_seed(0)
    return 4 * torch.randn(64, generator=g), 4 * torch.randn(48, 1, generator=g)


def test_discriminator_loss_is_minus_the_value_function(logits):
    real, fake = logits
    expected = -(_log_sigmoid64(real).mean() + _log_one_minus_sigmoid64(fake).mean())
    got = discriminator_loss(real, fake)
    assert got.shape == () and got.dtype == torch.float32
    assert float(got) == pytest.approx(float(expected), rel=1e-6)


def test_generator_losses_match_closed_forms(logits):
    _, fake = logits
    assert float(generator_loss(fake)) == pytest.approx(float(-_log_sigmoid64(fake).mean()), rel=1e-6)
    assert float(generator_loss(fake, saturating=True)) == pytest.approx(
        float(_log_one_minus_sigmoid64(fake).mean()), rel=1e-6)


def test_losses_at_the_equilibrium_d_one_half():
    zeros = torch.zeros(10)
    assert float(discriminator_loss(zeros, zeros)) == pytest.approx(math.log(4))
    assert float(generator_loss(zeros)) == pytest.approx(math.log(2))
    assert float(generator_loss(zeros, saturating=True)) == pytest.approx(-math.log(2))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_losses_stay_finite_and_exact_for_extreme_logits(dtype):
    big = torch.tensor([100.0, -100.0, 120.0, -120.0], dtype=dtype)
    # -log sigmoid(l) = softplus(-l), which is |l| for l << 0 and exp(-l) ~ 0 for l >> 0
    softplus = torch.nn.functional.softplus
    assert torch.isfinite(discriminator_loss(big, big))
    assert float(discriminator_loss(big, -big)) == pytest.approx(float(softplus(-big.double()).mean() * 2), rel=1e-6)
    assert float(generator_loss(big)) == pytest.approx(float(softplus(-big.double()).mean()), rel=1e-6)
    assert float(generator_loss(big, saturating=True)) == pytest.approx(float(-softplus(big.double()).mean()), rel=1e-6)
    # the naive formula really does break here, which is why the course never uses it
    assert not torch.isfinite(torch.log(1 - torch.sigmoid(torch.tensor(120.0))))


def test_gradients_with_respect_to_logits_match_closed_forms(logits):
    real, fake = (t.clone().requires_grad_(True) for t in logits)
    discriminator_loss(real, fake).backward()
    assert torch.allclose(real.grad, -(1 - torch.sigmoid(real)) / real.numel(), atol=1e-7)
    assert torch.allclose(fake.grad, torch.sigmoid(fake) / fake.numel(), atol=1e-7)
    for saturating, closed_form in ((False, lambda d: -(1 - d)), (True, lambda d: -d)):
        x = logits[1].clone().requires_grad_(True)
        generator_loss(x, saturating=saturating).backward()
        assert torch.allclose(x.grad, closed_form(torch.sigmoid(x)) / x.numel(), atol=1e-7)


def test_generator_logit_gradients_for_the_plot():
    d = torch.tensor([1e-4, 0.01, 0.3, 0.5, 0.9, 0.9999], dtype=torch.float64)
    grads = generator_logit_gradients(d)
    assert torch.allclose(grads["saturating"], -d, rtol=1e-9)
    assert torch.allclose(grads["non-saturating"], -(1 - d), rtol=1e-9)
    # the point of the plot: when D rejects the fakes (D -> 0), only the non-saturating loss has a gradient
    assert grads["saturating"][0].abs() < 1e-3 < 0.99 < grads["non-saturating"][0].abs()
    with pytest.raises(ValueError, match="d_values"):
        generator_logit_gradients(torch.tensor([0.0, 0.5], dtype=torch.float64))


@pytest.mark.parametrize("call, error, match", [
    (lambda: discriminator_loss([1.0], torch.zeros(2)), TypeError, "real_logits must be a torch.Tensor"),
    (lambda: discriminator_loss(torch.zeros(2), torch.zeros(2, dtype=torch.long)), TypeError, "fake_logits"),
    (lambda: discriminator_loss(torch.zeros(0), torch.zeros(2)), ValueError, "real_logits must not be empty"),
    (lambda: generator_loss(torch.zeros(2), saturating=1), TypeError, "saturating must be a bool"),
    (lambda: generator_loss(torch.zeros(0)), ValueError, "fake_logits must not be empty"),
])
def test_losses_validate_their_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- the training step ---------------------------------------------------------------------------

def _nets(seed=0):
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 2))
    discriminator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    g = torch.Generator().manual_seed(seed + 1)
    real, noise = torch.randn(32, 2, generator=g) + 1.0, torch.randn(24, 4, generator=g)
    return generator, discriminator, real, noise


def _flat(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_d_half_step_leaves_g_unchanged_and_gradient_free(optimizer):
    generator, discriminator, real, noise = _nets()
    make = (lambda p: torch.optim.SGD(p, lr=0.1)) if optimizer == "sgd" else (lambda p: torch.optim.Adam(p, lr=0.01))
    g_before, d_before = _flat(generator), _flat(discriminator)
    loss = discriminator_step(generator, discriminator, make(discriminator.parameters()), real, noise)
    assert torch.equal(_flat(generator), g_before)
    assert all(p.grad is None for p in generator.parameters()), "L_D must not back-propagate into G"
    assert not torch.equal(_flat(discriminator), d_before)
    assert isinstance(loss, float)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_g_half_step_leaves_d_unchanged_and_gradient_free(optimizer):
    generator, discriminator, real, noise = _nets()
    make = (lambda p: torch.optim.SGD(p, lr=0.1)) if optimizer == "sgd" else (lambda p: torch.optim.Adam(p, lr=0.01))
    g_before, d_before = _flat(generator), _flat(discriminator)
    loss = generator_step(generator, discriminator, make(generator.parameters()), noise)
    assert torch.equal(_flat(discriminator), d_before)
    assert all(p.grad is None for p in discriminator.parameters()), "L_G must not write gradients into D"
    assert all(p.requires_grad for p in discriminator.parameters()), "D must be unfrozen afterwards"
    assert not torch.equal(_flat(generator), g_before)
    assert isinstance(loss, float)


def test_g_half_step_unfreezes_d_even_when_d_fails():
    generator, _, _, noise = _nets()
    broken = nn.Linear(3, 1)  # wrong input size for G's 2-D samples
    with pytest.raises(RuntimeError):
        generator_step(generator, broken, torch.optim.SGD(generator.parameters(), lr=0.1), noise)
    assert all(p.requires_grad for p in broken.parameters())


def test_full_step_equals_the_two_updates_computed_by_hand():
    """SGD: D <- D - lr dL_D/dD with fakes G(z); then G <- G - lr dL_G/dG through the *updated* D."""
    lr = 0.05
    generator, discriminator, real, noise = _nets(3)
    g_hand, d_hand = copy.deepcopy(generator), copy.deepcopy(discriminator)

    d_params = list(d_hand.parameters())
    fake = g_hand(noise).detach()
    d_loss = discriminator_loss(d_hand(real), d_hand(fake))
    with torch.no_grad():
        for p, grad in zip(d_params, torch.autograd.grad(d_loss, d_params)):
            p -= lr * grad
    g_params = list(g_hand.parameters())
    g_loss = generator_loss(d_hand(g_hand(noise)))
    with torch.no_grad():
        for p, grad in zip(g_params, torch.autograd.grad(g_loss, g_params)):
            p -= lr * grad

    losses = gan_training_step(generator, discriminator, torch.optim.SGD(generator.parameters(), lr=lr),
                               torch.optim.SGD(discriminator.parameters(), lr=lr), real, noise)
    assert isinstance(losses, StepLosses)
    assert losses.discriminator == pytest.approx(d_loss.item(), rel=1e-6)
    assert losses.generator == pytest.approx(g_loss.item(), rel=1e-6)
    assert torch.allclose(_flat(discriminator), _flat(d_hand), atol=1e-7)
    assert torch.allclose(_flat(generator), _flat(g_hand), atol=1e-7)


def test_full_step_changes_d_only_in_its_own_half():
    """Adam (momentum would expose any stray gradient): D after the full step == D after the D-step alone."""
    generator, discriminator, real, noise = _nets(5)
    g_copy, d_copy = copy.deepcopy(generator), copy.deepcopy(discriminator)
    gan_training_step(generator, discriminator, torch.optim.Adam(generator.parameters(), lr=0.01),
                      torch.optim.Adam(discriminator.parameters(), lr=0.01), real, noise, saturating=True)
    discriminator_step(g_copy, d_copy, torch.optim.Adam(d_copy.parameters(), lr=0.01), real, noise)
    assert torch.equal(_flat(discriminator), _flat(d_copy))


def test_training_step_validates_its_inputs():
    generator, discriminator, real, noise = _nets()
    opt = torch.optim.SGD(list(generator.parameters()) + list(discriminator.parameters()), lr=0.1)
    with pytest.raises(ValueError, match="two different optimizers"):
        gan_training_step(generator, discriminator, opt, opt, real, noise)
    with pytest.raises(TypeError, match="discriminator must be a torch.nn.Module"):
        gan_training_step(generator, lambda x: x, opt, opt, real, noise)
    with pytest.raises(TypeError, match="d_optimizer must be a torch.optim.Optimizer"):
        gan_training_step(generator, discriminator, opt, "adam", real, noise)
    with pytest.raises(TypeError, match="noise must be a floating-point tensor"):
        discriminator_step(generator, discriminator, opt, real, noise.long())


# --- the exercise 2.3 checker: outcome cases alone catch the parameter bugs; right styles pass --------

def test_parameter_outcome_cases_catch_the_bugs_that_change_parameters():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("wrong_gan", Path(__file__).parent / "wrong" / "gan.py")
    wrong = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wrong)
    for fn in (wrong.step_without_detach, wrong.step_updates_d_with_g_loss, wrong.step_generator_first):
        with pytest.raises(AssertionError, match="parameters|losses"):
            _same_updates("adam", saturating=False)(fn, gan_training_step)


def _reused_fake_style(generator, discriminator, g_optimizer, d_optimizer, real, noise, saturating=False):
    """One forward of G, reused: detached for D, attached for G; D's grads cleared before the G-step."""
    fake = generator(noise)
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    d_optimizer.step()
    d_optimizer.zero_grad()
    discriminator.requires_grad_(False)
    g_optimizer.zero_grad()
    g_loss = generator_loss(discriminator(fake), saturating=saturating)
    g_loss.backward()
    discriminator.requires_grad_(True)
    g_optimizer.step()
    return StepLosses(d_loss.item(), g_loss.item())


def test_other_correct_styles_pass_the_checker():
    assert check_gan_training_step.grade(_reused_fake_style).passed
