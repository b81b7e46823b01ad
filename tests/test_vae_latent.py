"""Chapter 03: the latent-space tools and the functions behind the widgets."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn as nn

from aigc_course.vae.losses import gaussian_kl
from aigc_course.vae.latent import (active_units, decode_mean, encode_mean, interpolate,
                                    interpolation_figure, kl_per_dimension, latent_activity,
                                    latent_explorer_figure, latent_manifold, plot_latent_codes, reconstruct,
                                    sample_prior)
from aigc_course.vae.models import MLPVAE, VAEBase


class LinearToy(VAEBase):
    """mu = x[:, :d] (first pixels), logvar = -1 everywhere; decoder: logits = z @ W with W fixed."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.latent_dim = d
        self.w = nn.Parameter(torch.randn(d, 784, generator=torch.Generator().manual_seed(0)))

    def _encode(self, x):
        flat = x.flatten(1)
        return torch.cat([flat[:, :self.latent_dim], -torch.ones_like(flat[:, :self.latent_dim])], dim=1)

    def _decode(self, z):
        return z @ self.w


def test_encode_decode_reconstruct_and_sample():
    model = LinearToy(3).train()
    x = torch.rand(7, 1, 28, 28)
    mu, logvar = encode_mean(model, x, batch_size=2)
    assert torch.equal(mu, x.flatten(1)[:, :3]) and torch.equal(logvar, -torch.ones(7, 3))
    assert model.training, "the model's mode must be restored"
    images = decode_mean(model, mu)
    assert images.shape == (7, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert torch.allclose(reconstruct(model, x), torch.sigmoid((mu @ model.w).view(7, 1, 28, 28)))
    a, b = sample_prior(model, 5, seed=1), sample_prior(model, 5, seed=1)
    assert a.shape == (5, 1, 28, 28) and torch.equal(a, b)
    with pytest.raises(ValueError, match="images must hold at least one image"):
        encode_mean(model, torch.zeros(0, 1, 28, 28))
    with pytest.raises(ValueError, match="n must be >= 1"):
        sample_prior(model, 0)


def test_latent_manifold_grid_follows_the_prior_quantiles_and_plot_orientation():
    model = LinearToy(2)
    images, grid = latent_manifold(model, n=5, quantile=0.05)
    assert images.shape == (25, 1, 28, 28) and grid.shape == (25, 2)
    values = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, 5))
    assert torch.allclose(grid[:5, 0], values) and torch.allclose(grid[:5, 1], values[-1].expand(5))  # top row: z2 max
    assert torch.allclose(grid[::5, 1], values.flip(0))
    assert torch.allclose(images, decode_mean(model, grid))
    with pytest.raises(ValueError, match="latent_dim=2"):
        latent_manifold(LinearToy(3))
    with pytest.raises(ValueError, match="quantile"):
        latent_manifold(model, quantile=0.5)


def test_interpolation_is_linear_in_latent_space():
    model = LinearToy(2)
    x_a, x_b = torch.rand(1, 28, 28), torch.rand(28, 28)
    path = interpolate(model, x_a, x_b, steps=5)
    mu_a, mu_b = x_a.flatten()[:2], x_b.flatten()[:2]
    assert path.shape == (5, 1, 28, 28)
    assert torch.allclose(path[0], decode_mean(model, mu_a[None])[0])
    assert torch.allclose(path[-1], decode_mean(model, mu_b[None])[0])
    assert torch.allclose(path[2], decode_mean(model, ((mu_a + mu_b) / 2)[None])[0], atol=1e-6)
    with pytest.raises(ValueError, match="x_b must be one image"):
        interpolate(model, x_a, torch.rand(2, 28, 28))


def test_activity_active_units_and_kl_per_dimension():
    model = LinearToy(4)
    x = torch.zeros(100, 1, 28, 28)
    x.view(100, -1)[:, 0] = torch.linspace(-1, 1, 100)   # unit 0 varies with x
    x.view(100, -1)[:, 1] = 0.001 * torch.linspace(-1, 1, 100)  # unit 1 barely
    activity = latent_activity(model, x)
    assert torch.allclose(activity, x.flatten(1)[:, :4].var(0))
    assert active_units(activity) == 1 and active_units(activity, threshold=0.0) == 2
    per_dim = kl_per_dimension(model, x)
    mu, logvar = encode_mean(model, x)
    assert per_dim.shape == (4,) and torch.allclose(per_dim.sum(), gaussian_kl(mu, logvar).mean())
    with pytest.raises(ValueError, match="at least two images"):
        latent_activity(model, x[:1])
    with pytest.raises(ValueError, match="activity must have 1 dimensions"):
        active_units(torch.zeros(2, 2))


def test_widget_figures():
    model = MLPVAE(latent_dim=2, hidden=8)
    codes, labels = torch.randn(30, 2), torch.arange(30) % 10
    fig = latent_explorer_figure(model, 0.5, -1.0, codes, labels)
    assert len(fig.axes) == 2 and fig.axes[0].images
    marker = fig.axes[1].lines[-1]
    assert list(marker.get_xdata()) == [0.5] and list(marker.get_ydata()) == [-1.0]
    plt.close(fig)
    x = torch.rand(2, 1, 28, 28)
    fig = interpolation_figure(model, x[0], x[1], 0.25)
    shown = fig.axes[1].images[0].get_array()
    mu = encode_mean(model, x)[0]
    expected = decode_mean(model, (0.75 * mu[0] + 0.25 * mu[1])[None])[0, 0].numpy()
    assert abs(shown[2:30, 2:30] - expected).max() < 1e-6
    plt.close(fig)
    with pytest.raises(ValueError, match="t must be <= 1"):
        interpolation_figure(model, x[0], x[1], 1.5)
    with pytest.raises(ValueError, match="codes must have shape"):
        plot_latent_codes(torch.randn(5, 3), torch.arange(5))
    with pytest.raises(ValueError, match="same length"):
        plot_latent_codes(codes, labels[:3])
