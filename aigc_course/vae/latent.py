"""Chapter 03: looking inside a trained VAE's latent space (潜在空间).

* :func:`encode_mean`, :func:`decode_mean`, :func:`reconstruct`, :func:`sample_prior`: images in [0, 1];
* :func:`latent_manifold`: decoded grid over a 2-D latent, spaced by the prior's quantiles;
* :func:`interpolate`: decoded points on the segment between two encodings;
* :func:`latent_activity`, :func:`active_units`, :func:`kl_per_dimension`: the posterior-collapse
  diagnostic (a latent unit is *active* when its posterior mean varies with x, Burda et al. 2016);
* :func:`latent_explorer_figure`, :func:`interpolation_figure`: what the notebook's widgets draw.

Pictures show the decoder's *means* sigmoid(logits), the usual practice; drawing Bernoulli
pixels from them would add salt-and-pepper noise and no information.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from ..plotting import show_images
from ..training import device_of, evaluating
from ..validate import require_float, require_images, require_int, require_seed, require_tensor
from .losses import gaussian_kl


@torch.no_grad()
def encode_mean(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, logvar) of q(z|x) for float images ``[N, 1, 28, 28]`` in [0, 1]: two ``[N, d]`` CPU tensors."""
    images = require_images("images", images, pixel_range=None)  # finite; an encoder computes on any values
    require_int("batch_size", batch_size, minimum=1)
    device = device_of(model)
    with evaluating(model):
        parts = [model.encode(images[i:i + batch_size].to(device)) for i in range(0, len(images), batch_size)]
    return torch.cat([p[0] for p in parts]).cpu(), torch.cat([p[1] for p in parts]).cpu()


@torch.no_grad()
def decode_mean(model: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """Pixel means sigmoid(decoder(z)) ``[N, 1, 28, 28]`` in [0, 1] (CPU) for codes ``z`` ``[N, d]``."""
    require_tensor("z", z, ndim=2, floating=True, finite=True, non_empty=True)
    with evaluating(model):
        return torch.sigmoid(model.decode(z.to(device_of(model)))).cpu()


def reconstruct(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """decode(mu(x)): the reconstruction at the posterior mean, ``[N, 1, 28, 28]`` in [0, 1]."""
    return decode_mean(model, encode_mean(model, images)[0])


def sample_prior(model: nn.Module, n: int, seed: int = 0) -> torch.Tensor:
    """New digits: z ~ N(0, I) (seeded), decoded to pixel means ``[n, 1, 28, 28]``."""
    require_int("n", n, minimum=1, maximum=100_000)
    generator = torch.Generator().manual_seed(require_seed(seed))
    return decode_mean(model, torch.randn(n, model.latent_dim, generator=generator))


def latent_manifold(model: nn.Module, n: int = 15, quantile: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode an ``n x n`` grid over a 2-D latent: returns (images ``[n*n, 1, 28, 28]``, grid ``[n*n, 2]``).

    Grid coordinates are z = Phi^{-1}(u), u evenly spaced in [quantile, 1 - quantile], so equal
    prior mass lies between neighbours (Kingma & Welling 2014, fig. 4). Row r, column c is
    z = (grid value c, grid value n-1-r): z_2 grows upwards, as in a plot.
    """
    if getattr(model, "latent_dim", None) != 2:
        raise ValueError(f"model must have a 2-D latent (latent_dim=2), got {getattr(model, 'latent_dim', None)}")
    require_int("n", n, minimum=2, maximum=300)
    require_float("quantile", quantile, minimum=0.0, maximum=0.5, strict_minimum=True)
    if quantile >= 0.5:
        raise ValueError(f"quantile must be < 0.5, got {quantile}")
    values = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(quantile, 1 - quantile, n))
    z2, z1 = torch.meshgrid(values.flip(0), values, indexing="ij")
    grid = torch.stack([z1.flatten(), z2.flatten()], dim=1)
    return decode_mean(model, grid), grid


def interpolate(model: nn.Module, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """Decode z_t = (1 - t) mu(x_a) + t mu(x_b) for ``steps`` values of t in [0, 1]: ``[steps, 1, 28, 28]``."""
    require_int("steps", steps, minimum=2, maximum=10_000)
    mu = encode_mean(model, torch.stack([_one_image(x_a, "x_a"), _one_image(x_b, "x_b")]))[0]
    t = torch.linspace(0.0, 1.0, steps).unsqueeze(1)
    return decode_mean(model, (1 - t) * mu[0] + t * mu[1])


def _one_image(x: torch.Tensor, name: str) -> torch.Tensor:
    """One image, ``[28, 28]``, ``[1, 28, 28]`` or ``[784]`` -> ``[1, 28, 28]``."""
    require_tensor(name, x, floating=True)
    if x.numel() != 784:
        raise ValueError(f"{name} must be one image of 28x28 pixels, got shape {list(x.shape)}")
    return require_images(name, x.reshape(1, -1), pixel_range=None)[0]


def latent_activity(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """A_k = Var_x( E_{q(z|x)}[z_k] ) = variance over the images of mu_k(x): ``[d]``."""
    mu = encode_mean(model, images)[0]
    if len(mu) < 2:
        raise ValueError("images must hold at least two images to measure a variance")
    return mu.var(dim=0)


def active_units(activity: torch.Tensor, threshold: float = 0.01) -> int:
    """How many latent units have activity A_k above ``threshold`` (Burda et al. use 0.01)."""
    require_tensor("activity", activity, ndim=1, floating=True, finite=True)
    require_float("threshold", threshold, minimum=0.0)
    return int((activity > threshold).sum().item())


def kl_per_dimension(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Mean over images of each unit's KL(q(z_k|x) || N(0, 1)) ``[d]``; sums to the mean KL term."""
    mu, logvar = encode_mean(model, images)
    per_dim = torch.stack([gaussian_kl(mu[:, k:k + 1], logvar[:, k:k + 1]) for k in range(mu.shape[1])], dim=1)
    return per_dim.mean(dim=0)


def plot_latent_codes(codes: torch.Tensor, labels: torch.Tensor, ax: plt.Axes | None = None,
                      title: str | None = None) -> plt.Axes:
    """Scatter 2-D codes ``[N, 2]`` coloured by digit ``[N]``, with a legend."""
    require_tensor("codes", codes, shape=[None, 2], floating=True, finite=True)
    require_tensor("labels", labels, ndim=1, integer=True)
    if len(codes) != len(labels):
        raise ValueError(f"codes and labels must have the same length, got {len(codes)} and {len(labels)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    cmap = plt.get_cmap("tab10")
    for digit in range(10):
        keep = labels == digit
        ax.scatter(codes[keep, 0].numpy(), codes[keep, 1].numpy(), s=3, alpha=0.5, color=cmap(digit), label=str(digit))
    ax.legend(markerscale=4, fontsize=8, loc="upper right", ncol=2, title="digit")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return ax


def latent_explorer_figure(model: nn.Module, z1: float, z2: float, codes: torch.Tensor | None = None,
                           labels: torch.Tensor | None = None) -> plt.Figure:
    """The latent-explorer widget's picture: the digit decoded at (z1, z2), and where that point lies."""
    z = torch.tensor([[require_float("z1", z1), require_float("z2", z2)]])
    image = decode_mean(model, z)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
    show_images(image, nrow=1, ax=axes[0], title=f"decoder mean at z = ({z1:.2f}, {z2:.2f})")
    if codes is not None and labels is not None:
        plot_latent_codes(codes, labels, ax=axes[1], title="test-set encodings mu(x)")
    axes[1].plot([z1], [z2], marker="x", color="black", markersize=14, mew=3)
    fig.tight_layout()
    return fig


def interpolation_figure(model: nn.Module, x_a: torch.Tensor, x_b: torch.Tensor, t: float) -> plt.Figure:
    """The interpolation widget's picture: x_a, the decoded point at fraction t, x_b."""
    t = require_float("t", t, minimum=0.0, maximum=1.0)
    mu = encode_mean(model, torch.stack([_one_image(x_a, "x_a"), _one_image(x_b, "x_b")]))[0]
    middle = decode_mean(model, ((1 - t) * mu[0] + t * mu[1]).unsqueeze(0))
    fig, axes = plt.subplots(1, 3, figsize=(6, 2.3))
    for ax, image, title in zip(axes, (x_a.reshape(1, 28, 28), middle[0], x_b.reshape(1, 28, 28)),
                                ("x_a", f"decoded, t = {t:.2f}", "x_b")):
        show_images(image.reshape(1, 28, 28).clamp(0, 1), nrow=1, ax=ax, title=title)
    fig.tight_layout()
    return fig

