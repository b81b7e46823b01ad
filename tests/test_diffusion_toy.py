"""Chapter 07, notebook side: the exact mixture denoiser, the 2-D playground and the figure functions."""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from aigc_course.diffusion import NoiseSchedule, UNet, ddim_sample, flow_sample, q_sample  # noqa: E402
from aigc_course.diffusion import plots, toy  # noqa: E402
from aigc_course.gan import GaussianRing, mode_coverage  # noqa: E402

RING = GaussianRing()


@pytest.mark.parametrize("alpha_bar", [0.95, 0.5, 0.05])
def test_exact_denoiser_matches_a_monte_carlo_posterior_mean(alpha_bar):
    points = 1.5 * torch.randn(8, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    exact = toy.mixture_denoiser(points, alpha_bar, RING.centers(), RING.std)
    estimate = toy.monte_carlo_denoiser(points, alpha_bar, RING, 400_000, torch.Generator().manual_seed(1))
    assert torch.allclose(exact, estimate, atol=0.02), (exact - estimate).abs().max()


def test_exact_denoiser_limits():
    points = torch.tensor([[0.3, -0.2], [5.0, 1.0]], dtype=torch.float64)
    # almost pure noise: x_t says nothing, the posterior mean is the data mean (0 for the ring)
    assert toy.mixture_denoiser(points, 1e-12, RING.centers(), RING.std).abs().max() < 1e-4
    # almost no noise: E[x0 | x_t] -> x_t / sqrt(ab) near a mode
    near = RING.centers()[:1].double() + 0.01
    assert torch.allclose(toy.mixture_denoiser(near, 1 - 1e-9, RING.centers(), RING.std), near, atol=1e-4)


def test_tweedie_score_equals_the_gradient_of_the_log_density():
    weights = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    centers = torch.tensor([[0.0, 1.0], [2.0, -1.0], [-1.5, 0.5]])
    x = torch.randn(10, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    for ab in (0.9, 0.3):
        score, = torch.autograd.grad(toy.mixture_log_density(x, ab, centers, 0.2, weights).sum(), x)
        tweedie = -toy.mixture_noise(x.detach(), ab, centers, 0.2, weights) / math.sqrt(1 - ab)
        assert torch.allclose(score, tweedie, atol=1e-10)


def test_log_density_integrates_to_one_in_1d():
    grid = torch.linspace(-12, 12, 20001, dtype=torch.float64)[:, None]
    density = toy.mixture_log_density(grid, 0.6, torch.tensor([[-1.0], [2.0]]), 0.3, torch.tensor([0.7, 0.3])).exp()
    assert abs(float(torch.trapezoid(density, grid[:, 0])) - 1.0) < 1e-6


def test_exact_denoiser_has_the_lowest_loss():
    """E[eps | x_t] beats any other predictor on average: here the trivial ones (0 and x_t / sqrt(1 - ab))."""
    g = torch.Generator().manual_seed(3)
    ab = 0.4
    x0, eps = RING.sample(20_000, g).double(), torch.randn(20_000, 2, generator=g, dtype=torch.float64)
    x_t = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps
    best = (eps - toy.mixture_noise(x_t, ab, RING.centers(), RING.std)).pow(2).mean()
    assert best < eps.pow(2).mean() and best < (eps - x_t / math.sqrt(1 - ab)).pow(2).mean()


def test_compare_with_exact_measures_the_gap_of_an_exact_network():
    schedule = NoiseSchedule.linear(100)

    class Exact(torch.nn.Module):
        def forward(self, x, t, y=None):
            step = int(round(float(t[0]) * (schedule.steps - 1)))
            return toy.mixture_noise(x.double(), float(schedule.alpha_bars[step]), RING.centers(), RING.std).float()

    gaps = toy.compare_with_exact(Exact(), RING, schedule, [10, 60], n=500)
    assert [g.step for g in gaps] == [10, 60]
    for g in gaps:
        assert g.rms_gap < 1e-5 and abs(g.loss_net - g.loss_exact) < 1e-5 and g.rms_exact > 0.1


def test_a_short_flow_run_covers_every_mode():
    run = toy.train_toy_diffusion(RING, "flow", steps=400, seed=0, progress=False)
    points = flow_sample(run.model, 2000, (2,), steps=20, generator=torch.Generator().manual_seed(0), progress=False)
    assert len(run.losses) == 400 and all(math.isfinite(v) for v in run.losses)
    assert mode_coverage(points, RING).modes_covered == 8


def test_ddpm_toy_trains_with_a_given_loss_and_samples_finite_points():
    schedule = NoiseSchedule.linear(200)
    calls = []

    def loss(model, x0, schedule, generator=None):
        calls.append(len(x0))
        return toy.ddpm_loss(model, x0, schedule, generator=generator)

    run = toy.train_toy_diffusion(RING, "ddpm", schedule, steps=5, batch_size=32, progress=False, loss=loss)
    assert calls == [32] * 5
    points = ddim_sample(run.model, schedule, 50, (2,), steps=5, clip=False, progress=False)
    assert points.shape == (50, 2) and bool(torch.isfinite(points).all())


def test_noising_grid_shape_range_and_endpoints():
    x0 = torch.rand(3, 1, 28, 28) * 2 - 1
    schedule = NoiseSchedule.linear(1000)
    grid = plots.noising_grid(x0, schedule, [0, 500, 999], seed=4)
    assert grid.shape == (9, 1, 28, 28) and float(grid.min()) >= 0 and float(grid.max()) <= 1
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(4))
    expected = ((q_sample(x0, torch.full((3,), 500), noise, schedule) + 1) / 2).clamp(0, 1)
    assert torch.allclose(grid.view(3, 3, 1, 28, 28)[:, 1], expected, atol=1e-6)


def test_plot_snr_is_log_scale_with_one_line_per_schedule():
    ax = plots.plot_snr({"linear": NoiseSchedule.linear(50), "cosine": NoiseSchedule.cosine(50)})
    assert ax.get_yscale() == "log" and len(ax.get_legend().get_texts()) == 2
    plt.close("all")
    assert plots.snr_at(NoiseSchedule.linear(50), [0.0, 1.0])[0] > plots.snr_at(NoiseSchedule.linear(50), [1.0])[0]


def test_trajectory_frames_and_sampled_images():
    torch.manual_seed(0)
    model = UNet(base=8, channel_mults=(1, 2), num_classes=10, time_dim=16).eval()
    trajectory = flow_sample(model, 3, (1, 28, 28), steps=4, trajectory=True, progress=False)
    first, last = plots.trajectory_frame(trajectory, 0), plots.trajectory_frame(trajectory, 4)
    assert first.shape == last.shape == (3, 1, 28, 28) and float(last.min()) >= 0 and float(last.max()) <= 1
    for sampler, schedule in (("euler", None), ("heun", None), ("ddim", NoiseSchedule.cosine(100))):
        images = plots.sample_images(model, sampler, 2, n=5, schedule=schedule, digit=7, guidance=2.0)
        assert images.shape == (5, 1, 28, 28) and float(images.min()) >= 0 and float(images.max()) <= 1
    a = plots.sample_images(model, "euler", 2, n=2, seed=1)
    assert torch.equal(a, plots.sample_images(model, "euler", 2, n=2, seed=1))  # seeded


def test_plot_toy_samples_has_one_panel_per_set():
    fig = plots.plot_toy_samples({"a": RING.sample(50), "b": RING.sample(50)}, RING)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "b"
    plt.close(fig)
