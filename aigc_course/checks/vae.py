"""Checks for chapter 03's exercises: 3.1 reparameterization, 3.2 Gaussian KL, 3.3 the VAE loss."""

from __future__ import annotations

import torch

from ..vae.losses import gaussian_kl, reparameterize, vae_loss
from . import Exercise, assert_close, same_output


def _gaussian(batch: int, dim: int, seed: int, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(batch, dim, generator=g), scale * torch.randn(batch, dim, generator=g)


# ---- 3.1 reparameterization ------------------------------------------------------------------

def _samples_have_the_right_moments(candidate, reference) -> None:
    mu = torch.tensor([[0.0, 2.0, -1.0]]).expand(200_000, 3).contiguous()
    logvar = torch.tensor([[0.0, -2.0, 1.5]]).expand(200_000, 3).contiguous()
    torch.manual_seed(0)
    z = candidate(mu, logvar)
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        raise AssertionError(f"z must be a tensor shaped like mu {list(mu.shape)}, got {getattr(z, 'shape', type(z))}")
    assert_close("sample mean of z (should be mu)", z.mean(0), mu[0], atol=0.02, rtol=0.0)
    assert_close("sample variance of z (should be exp(logvar))", z.var(0), logvar[0].exp(), atol=0.0, rtol=0.02)


def _gradients_flow_through_the_sample(candidate, reference) -> None:
    mu, logvar = _gaussian(64, 5, 1)
    mu.requires_grad_(True)
    logvar.requires_grad_(True)
    torch.manual_seed(1)
    z = candidate(mu, logvar)
    if not z.requires_grad:
        raise AssertionError("z carries no gradient: it must be computed from mu and logvar (mu + sigma * eps)")
    z.sum().backward()
    if mu.grad is None or logvar.grad is None:
        raise AssertionError("z must depend on both mu and logvar")
    assert_close("dz/dmu (should be 1: z = mu + sigma * eps)", mu.grad, torch.ones_like(mu))
    # z = mu + exp(logvar / 2) * eps  =>  dz/dlogvar = (z - mu) / 2
    assert_close("dz/dlogvar (should be (z - mu) / 2)", logvar.grad, (z.detach() - mu.detach()) / 2)


def _fresh_noise_each_call(candidate, reference) -> None:
    mu, logvar = _gaussian(4, 3, 2)
    a, b = candidate(mu, logvar), candidate(mu, logvar)
    if torch.equal(a, b):
        raise AssertionError("two calls gave the same z: draw new noise eps on every call")


def _inputs_untouched(candidate, reference) -> None:
    mu, logvar = _gaussian(4, 3, 3)
    mu0, logvar0 = mu.clone(), logvar.clone()
    candidate(mu, logvar)
    if not (torch.equal(mu, mu0) and torch.equal(logvar, logvar0)):
        raise AssertionError("mu or logvar was modified in place")


check_reparameterize = Exercise(
    "3.1", "reparameterization", reparameterize,
    cases=[_samples_have_the_right_moments, _gradients_flow_through_the_sample, _fresh_noise_each_call,
           _inputs_untouched],
    hint="sigma = exp(logvar / 2) (logvar is the log of the VARIANCE); z = mu + sigma * torch.randn_like(mu)",
)


# ---- 3.2 Gaussian KL -------------------------------------------------------------------------

def _zero_for_the_prior(candidate, reference) -> None:
    kl = candidate(torch.zeros(3, 4), torch.zeros(3, 4))
    assert_close("KL(N(0, I) || N(0, I))", kl, torch.zeros(3))


check_gaussian_kl = Exercise(
    "3.2", "Gaussian KL", gaussian_kl,
    cases=[
        _zero_for_the_prior,
        same_output(torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2), label="mu = (1, 0), unit variance"),
        same_output(torch.zeros(2, 3), torch.tensor([[1.0, -1.0, 0.5], [-3.0, 2.0, 0.0]]), label="mu = 0, other variances"),
        same_output(*_gaussian(16, 20, 4), label="16 random Gaussians in 20-D"),
        same_output(*_gaussian(1, 1, 5, scale=3.0), label="one 1-D Gaussian far from the prior"),
    ],
    hint="sum over the latent dimensions (dim=1) of 0.5 * (mu^2 + exp(logvar) - 1 - logvar); one value per example",
)


# ---- 3.3 the VAE loss ------------------------------------------------------------------------

def _batch(batch: int, dim: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(batch, 1, 28, 28, generator=g)
    x = torch.rand(batch, 1, 28, 28, generator=g)
    x[0] = (x[0] > 0.5).float()  # one binary image: the case that breaks log(sigmoid) written by hand
    mu, logvar = torch.randn(batch, dim, generator=g), torch.randn(batch, dim, generator=g)
    return logits, x, mu, logvar


def _saturated_logits_stay_finite(candidate, reference) -> None:
    logits, x, mu, logvar = _batch(2, 3, 7)
    logits = torch.where(x > 0.5, 200.0, -200.0)  # a confident decoder: sigmoid rounds to exactly 0 or 1
    assert_close("loss with confident logits (use binary_cross_entropy_with_logits)",
                 candidate(logits, x, mu, logvar), reference(logits, x, mu, logvar), atol=1e-3)


def _gradients_match(candidate, reference) -> None:
    inputs = _batch(4, 5, 8)
    grads = []
    for fn in (reference, candidate):
        leaves = [t.clone().requires_grad_(i != 1) for i, t in enumerate(inputs)]
        result = fn(*leaves, beta=2.0)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise AssertionError("vae_loss must return (loss, reconstruction, kl)")
        if not isinstance(result[0], torch.Tensor) or not result[0].requires_grad:
            raise AssertionError("the loss must be a tensor connected to the graph (no .item(), no detach)")
        result[0].backward()
        grads.append([leaves[i].grad for i in (0, 2, 3)])
    for name, got, expected in zip(("dloss/dlogits", "dloss/dmu", "dloss/dlogvar"), grads[1], grads[0]):
        if got is None:
            raise AssertionError(f"{name} is missing: the loss must depend on it")
        assert_close(name, got, expected)


check_vae_loss = Exercise(
    "3.3", "the VAE loss", vae_loss,
    cases=[
        same_output(*_batch(8, 20, 0), label="(loss, reconstruction, kl), beta = 1"),
        same_output(*_batch(5, 2, 1), beta=4.0, label="(loss, reconstruction, kl), beta = 4"),
        same_output(*_batch(3, 20, 2), beta=0.0, label="(loss, reconstruction, kl), beta = 0"),
        _saturated_logits_stay_finite,
        _gradients_match,
    ],
    hint="reconstruction: binary_cross_entropy_with_logits(logits, x, reduction='none') summed over the pixels of "
         "each image, then averaged over the batch; kl: gaussian_kl(mu, logvar).mean(); loss = reconstruction + beta * kl",
)
