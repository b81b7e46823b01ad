"""Chapter 03: the variational autoencoder's ELBO, its joint training, and its evaluation.

For an image x (784 pixel intensities in [0, 1]) and a latent code z in R^d:

* prior            p(z)   = N(0, I)
* decoder          p(x|z) = prod_j Bernoulli(x_j; sigmoid(logits_j(z)))
* encoder          q(z|x) = N(mu(x), diag(sigma^2(x))),  logvar = log sigma^2

    log p(x) >= ELBO(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z))

The loss minimized is the negative ELBO, per image, in nats:

    loss(x) = reconstruction + beta * KL
    reconstruction = -log p(x|z) = sum_j BCE(logits_j, x_j),   z = mu + sigma * eps, eps ~ N(0, I)
    KL             = 1/2 sum_k (mu_k^2 + sigma_k^2 - 1 - log sigma_k^2)

with beta = 1 for the true ELBO. Encoder and decoder are trained **jointly**: one loss,
one optimizer, one backward pass per batch (:func:`aigc_course.vae.training.train_vae`).

Models live in :mod:`aigc_course.vae.models`, the loop in :mod:`aigc_course.vae.training`, latent-space
tools in :mod:`aigc_course.vae.latent`, checkpoints in :mod:`aigc_course.vae.storage`.
Chapter 06 reuses :func:`train_vae`, :func:`elbo_terms` / :func:`evaluate` (per-image -ELBO, e.g. the
train-vs-test gap), :func:`reconstruction_nll` and :func:`save_vae` / :func:`load_vae` / :func:`checkpoint_path`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..training import device_of, evaluating
from ..validate import require_float, require_images, require_in_range, require_int, require_seed, require_tensor

LOG_2PI = math.log(2 * math.pi)


def _check_gaussian(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    require_tensor("mu", mu, ndim=2, floating=True, finite=True)
    require_tensor("logvar", logvar, ndim=2, floating=True, finite=True)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape [B, d], got {list(mu.shape)} and {list(logvar.shape)}")
    if mu.shape[1] == 0:
        raise ValueError(f"mu and logvar must have at least one latent dimension, got shape {list(mu.shape)}")


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Sample z ~ N(mu, diag(exp(logvar))) as z = mu + exp(logvar / 2) * eps, eps ~ N(0, I).

    ``mu``, ``logvar``: ``[B, d]`` -> ``z``: ``[B, d]``. The randomness sits in eps, so z is a
    differentiable function of mu and logvar (the reparameterization trick).
    """
    _check_gaussian(mu, logvar)
    if generator is None:
        eps = torch.randn_like(mu)
    else:  # draw on the generator's device (usually the CPU), then move: same numbers on every device
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=generator.device).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example: ``[B, d]`` -> ``[B]`` (nats).

    KL = 1/2 sum_k (mu_k^2 + exp(logvar_k) - 1 - logvar_k).
    """
    _check_gaussian(mu, logvar)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
    if not bool(torch.isfinite(kl).all()):
        raise ValueError(f"mu and logvar are so large that the KL overflows {mu.dtype} (max |mu| "
                         f"{mu.abs().max().item():.3g}, max logvar {logvar.max().item():.3g}); use float64")
    return kl


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) under independent Bernoulli pixels, summed over pixels: ``[B, ...]`` -> ``[B]``.

    -log p(x|z) = sum_j -[x_j log s_j + (1 - x_j) log(1 - s_j)],  s = sigmoid(logits).

    ``x`` holds Bernoulli targets, so it must lie in [0, 1] (outside, the "NLL" can be negative and
    means nothing); both tensors must be finite.
    """
    require_tensor("logits", logits, floating=True, finite=True)
    require_tensor("x", x, floating=True)
    if logits.shape != x.shape or logits.ndim < 2:
        raise ValueError(f"logits and x must have the same shape [B, ...], got {list(logits.shape)} and {list(x.shape)}")
    require_in_range("x", x, 0.0, 1.0, what="pixel targets (Bernoulli means)")
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)


def gaussian_decoder_nll(x: torch.Tensor, mean: torch.Tensor, variance: float) -> torch.Tensor:
    """-log N(x; mean, variance I) summed over pixels: ``[B, ...]`` twice -> ``[B]`` (nats).

    -log p(x|z) = ||x - mean||^2 / (2 variance) + (D / 2) log(2 pi variance), D pixels per image.
    With a fixed variance the first term is the squared error divided by 2 variance, so minimizing
    -ELBO = that + KL is minimizing ||x - mean||^2 + (2 variance) KL: the variance acts like beta = 2 variance.
    """
    x = require_tensor("x", x, floating=True, finite=True, non_empty=True)
    if x.dim() < 2:
        raise ValueError(f"x must be a batch [B, ...] of at least 2 dimensions, got shape {list(x.shape)}")
    mean = require_tensor("mean", mean, floating=True, finite=True, shape=tuple(x.shape))
    variance = require_float("variance", variance, minimum=0.0, strict_minimum=True)
    pixels = x[0].numel()
    return (x - mean).pow(2).flatten(1).sum(1) / (2 * variance) + 0.5 * pixels * (LOG_2PI + math.log(variance))


def bits_per_dimension(nats_per_image: float, dims: int = 784) -> float:
    """A negative log-likelihood in nats per image expressed in bits per pixel: nats / (dims * ln 2)."""
    nats = require_float("nats_per_image", nats_per_image)
    dims = require_int("dims", dims, minimum=1)
    return nats / (dims * math.log(2))


class VAELoss(NamedTuple):
    """Batch means (scalar tensors): ``loss = reconstruction + beta * kl``."""

    loss: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0) -> VAELoss:
    """The negative ELBO (beta = 1) of a batch, in nats per image.

    ``logits``, ``x``: ``[B, 1, 28, 28]`` (any matching ``[B, ...]``); ``mu``, ``logvar``: ``[B, d]``.
    reconstruction = mean_i sum_pixels BCE(logits_i, x_i); kl = mean_i KL_i;
    loss = reconstruction + beta * kl.
    """
    beta = require_float("beta", beta, minimum=0.0)
    _check_gaussian(mu, logvar)
    require_tensor("x", x, floating=True)
    if len(mu) != len(x):
        raise ValueError(f"mu and x must have the same batch size, got {len(mu)} and {len(x)}")
    if len(x) == 0:
        raise ValueError(f"x must hold at least one image (a batch mean of nothing is NaN), got shape {list(x.shape)}")
    reconstruction = reconstruction_nll(logits, x).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return VAELoss(reconstruction + beta * kl, reconstruction, kl)


def forward_loss(model: nn.Module, x: torch.Tensor, beta: float = 1.0) -> VAELoss:
    """One pass of the ELBO, line for line: encode, sample with the trick, decode, score."""
    mu, logvar = model.encode(x)                 # q(z|x) = N(mu, diag(exp(logvar)))
    z = reparameterize(mu, logvar)               # z ~ q(z|x), differentiable in mu and logvar
    logits = model.decode(z)                     # p(x|z): Bernoulli logits per pixel
    return vae_loss(logits, x.view_as(logits), mu, logvar, beta)


def _check_images(images: Any, name: str = "images") -> torch.Tensor:
    """Float pixel intensities in [0, 1] (``images_to_unit``), any of the course's batch shapes."""
    return require_images(name, images)


@torch.no_grad()
def elbo_terms(model: nn.Module, images: torch.Tensor, *, batch_size: int = 1000, seed: int = 0) -> dict[str, torch.Tensor]:
    """Per-image terms of the negative ELBO (one z sample each, seeded), on the CPU.

    Returns ``{"reconstruction": [N], "kl": [N], "loss": [N]}`` with loss = reconstruction + kl
    (beta = 1): an unbiased estimate of -ELBO(x_i), an upper bound on -log p(x_i) in expectation.
    """
    images = _check_images(images)
    require_int("batch_size", batch_size, minimum=1)
    generator = torch.Generator().manual_seed(require_seed(seed))
    device, rec, kl = device_of(model), [], []
    with evaluating(model):
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size].to(device)
            mu, logvar = model.encode(x)
            logits = model.decode(reparameterize(mu, logvar, generator))
            rec.append(reconstruction_nll(logits, x.view_as(logits)).cpu())
            kl.append(gaussian_kl(mu, logvar).cpu())
    rec_t, kl_t = torch.cat(rec), torch.cat(kl)
    return {"reconstruction": rec_t, "kl": kl_t, "loss": rec_t + kl_t}


def evaluate(model: nn.Module, images: torch.Tensor, *, batch_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """Mean negative ELBO per image and its two terms (nats): the pytorch/examples "test loss"."""
    terms = elbo_terms(model, images, batch_size=batch_size, seed=seed)
    return {name: value.mean().item() for name, value in terms.items()}


@torch.no_grad()
def importance_weighted_nll(model: nn.Module, images: torch.Tensor, *, k: int = 100, batch_size: int = 100,
                            seed: int = 0) -> torch.Tensor:
    """Importance-weighted estimate of -log p(x) per image (Burda et al. 2016): ``[N]`` (nats).

    -log p(x) ~= -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x),
    computed with logsumexp. k = 1 is a one-sample -ELBO; the bound tightens as k grows.
    """
    images = _check_images(images)
    require_int("k", k, minimum=1, maximum=100_000)
    require_int("batch_size", batch_size, minimum=1)
    generator = torch.Generator().manual_seed(require_seed(seed))
    device, out = device_of(model), []
    with evaluating(model):
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size].to(device)
            mu, logvar = model.encode(x)                                      # [b, d]
            eps = torch.randn((k, *mu.shape), generator=generator).to(device)  # [k, b, d]
            z = mu + torch.exp(0.5 * logvar) * eps
            log_q = -0.5 * (eps.pow(2) + logvar + LOG_2PI).sum(-1)             # log N(z; mu, sigma^2)
            log_prior = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)                    # log N(z; 0, I)
            logits = model.decode(z.flatten(0, 1))                             # [k * b, 1, 28, 28]
            target = x.reshape(1, len(x), -1).expand(k, -1, -1).reshape(logits.shape)
            log_lik = -reconstruction_nll(logits, target).view(k, len(x))
            log_w = log_lik + log_prior - log_q
            out.append((math.log(k) - torch.logsumexp(log_w, dim=0)).cpu())
    return torch.cat(out)
