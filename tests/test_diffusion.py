"""Chapter 07: schedules, the forward process, objectives, samplers, the U-Net, training and storage."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from aigc_course.diffusion import (NoiseSchedule, UNet, ddim_sample, ddim_step, ddpm_loss, ddpm_sample, drop_labels,
                                   euler_step, flow_matching_loss, flow_sample, guided_prediction, q_sample,
                                   sample_in_batches, samples_to_unit, simulate_forward_chain, sinusoidal_embedding)


# ---------------------------------------------------------------- schedules and the forward process

@pytest.mark.parametrize("schedule", [NoiseSchedule.linear(), NoiseSchedule.cosine(), NoiseSchedule.linear(50),
                                      NoiseSchedule.cosine(20)], ids=repr)
def test_schedule_invariants(schedule):
    ab = schedule.alpha_bars
    assert ab.shape == (schedule.steps,) and schedule.betas.shape == schedule.alphas.shape == ab.shape
    assert bool(((ab > 0) & (ab < 1)).all())
    assert bool((ab[1:] < ab[:-1]).all())  # strictly decreasing: every step adds noise
    assert torch.allclose(ab, torch.cumprod(1 - schedule.betas, 0))
    snr = schedule.snr()
    assert bool((snr[1:] < snr[:-1]).all()) and torch.allclose(snr, ab / (1 - ab))
    assert NoiseSchedule.from_config(schedule.config()).betas.equal(schedule.betas)


def test_linear_and_cosine_schedules_match_their_papers():
    lin = NoiseSchedule.linear()
    assert lin.betas[0].item() == pytest.approx(1e-4) and lin.betas[-1].item() == pytest.approx(0.02)
    assert lin.alpha_bars[-1].item() == pytest.approx(4.0e-5, rel=0.05)  # Ho et al.: x_T is almost pure noise
    cos = NoiseSchedule.cosine()
    t = torch.arange(1, 1001, dtype=torch.float64) / 1000
    f = torch.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2
    assert torch.allclose(cos.alpha_bars[:-5], f[:-5], rtol=1e-6)  # the last betas are clipped at 0.999
    assert cos.alpha_bars[499] > lin.alpha_bars[499] * 5  # the cosine schedule destroys information more slowly


def test_q_sample_matches_the_simulated_chain_in_mean_and_variance():
    schedule = NoiseSchedule.linear(100, 1e-3, 0.05)
    x0 = torch.tensor([[1.5, -0.5, 0.0]], dtype=torch.float64).repeat(20_000, 1)
    g = torch.Generator().manual_seed(0)
    for t in (0, 10, 99):
        chain = simulate_forward_chain(x0, schedule, t, generator=g)
        jump = q_sample(x0, torch.full((len(x0),), t), torch.randn(x0.shape, generator=g, dtype=torch.float64),
                        schedule)
        ab = schedule.alpha_bars[t].item()
        mean, var = math.sqrt(ab) * x0[0], 1 - ab
        se_mean, se_var = math.sqrt(var / len(x0)), var * math.sqrt(2 / len(x0))
        for x in (chain, jump):
            assert (x.mean(0) - mean).abs().max() < 5 * se_mean
            assert (x.var(0) - var).abs().max() < 5 * se_var


def test_simulated_chain_accepts_a_step_per_example():
    schedule = NoiseSchedule.cosine(10)
    x0 = torch.zeros(4, 2)
    x = simulate_forward_chain(x0, schedule, torch.tensor([0, 3, 9, 0]), generator=torch.Generator().manual_seed(1))
    assert x.shape == x0.shape and bool(torch.isfinite(x).all())


# ---------------------------------------------------------------- single steps


def test_ddim_step_with_eta_0_and_the_true_noise_recovers_x0_and_any_earlier_step():
    schedule = NoiseSchedule.cosine(100)
    x0, eps = torch.randn(5, 1, 4, 4, dtype=torch.float64), torch.randn(5, 1, 4, 4, dtype=torch.float64)
    ab = schedule.alpha_bars
    x_t = q_sample(x0, torch.full((5,), 70), eps, schedule)
    assert torch.allclose(ddim_step(x_t, eps, ab[70].item(), 1.0), x0, atol=1e-10)
    expected = q_sample(x0, torch.full((5,), 30), eps, schedule)
    assert torch.allclose(ddim_step(x_t, eps, ab[70].item(), ab[30].item()), expected, atol=1e-10)


def test_ddim_step_with_eta_1_adds_the_ddpm_posterior_variance():
    ab_t, ab_prev = 0.5, 0.6
    x_t, eps = torch.zeros(200_000, dtype=torch.float64), torch.zeros(200_000, dtype=torch.float64)
    out = ddim_step(x_t, eps, ab_t, ab_prev, eta=1.0, noise=torch.randn(200_000, dtype=torch.float64,
                                                                         generator=torch.Generator().manual_seed(0)))
    beta_t = 1 - ab_t / ab_prev
    posterior = beta_t * (1 - ab_prev) / (1 - ab_t)
    assert out.var().item() == pytest.approx(posterior, rel=0.02)


def test_euler_is_exact_on_a_straight_path():
    x0, noise = torch.randn(6, 3), torch.randn(6, 3)
    x = noise.clone()
    for _ in range(7):  # the rectified-flow path has constant velocity x0 - noise
        x = euler_step(x, x0 - noise, 1 / 7)
    assert torch.allclose(x, x0, atol=1e-5)


class _Affine(nn.Module):
    """A 'network' with a known answer: out = a * x + b * t + (y-dependent shift)."""

    num_classes = 3

    def forward(self, x, t, y=None):
        shift = torch.zeros(len(x)) if y is None else y.float()
        return 0.5 * x + t.view(-1, *[1] * (x.ndim - 1)) + shift.view(-1, *[1] * (x.ndim - 1))


def test_guidance_1_is_the_conditional_prediction_and_0_the_unconditional_one():
    model, x, t, y = _Affine(), torch.randn(4, 2), torch.rand(4), torch.tensor([0, 1, 2, 1])
    assert torch.equal(guided_prediction(model, x, t, y, 1.0), model(x, t, y))
    assert torch.allclose(guided_prediction(model, x, t, y, 0.0), model(x, t, torch.full_like(y, 3)))
    w = 2.5
    expected = model(x, t, torch.full_like(y, 3)) + w * (model(x, t, y) - model(x, t, torch.full_like(y, 3)))
    assert torch.allclose(guided_prediction(model, x, t, y, w), expected)


def test_drop_labels_rate_and_null_class():
    y = torch.zeros(20_000, dtype=torch.long)
    dropped = drop_labels(y, 0.2, 10, torch.Generator().manual_seed(0))
    assert set(dropped.unique().tolist()) == {0, 10}
    assert (dropped == 10).float().mean().item() == pytest.approx(0.2, abs=0.01)
    assert drop_labels(y, 0.0, 10) is y


# ---------------------------------------------------------------- the network


def test_unet_shapes_parameters_and_batch_equivariance():
    torch.manual_seed(0)
    model = UNet(base=16, channel_mults=(1, 2), num_classes=10).eval()
    x, t, y = torch.randn(5, 1, 28, 28), torch.rand(5), torch.randint(0, 11, (5,))
    out = model(x, t, y)
    assert out.shape == x.shape
    assert torch.equal(out, torch.zeros_like(out))  # the output layer starts at zero
    torch.nn.init.normal_(model.conv_out.weight, std=0.1)
    full = model(x, t, y)
    parts = torch.cat([model(x[i:i + 1], t[i:i + 1], y[i:i + 1]) for i in range(5)])
    assert torch.allclose(full, parts, atol=1e-5)  # GroupNorm: no mixing across the batch
    assert not torch.allclose(model(x, t, y), model(x, t, (y + 1) % 10))  # the class changes the prediction
    assert UNet(in_channels=4, base=8, channel_mults=(1, 2, 2))(torch.randn(2, 4, 8, 8), torch.rand(2)).shape == (2, 4, 8, 8)
    assert UNet(base=8, channel_mults=(1, 2, 2))(torch.randn(2, 1, 28, 28), torch.rand(2)).shape == (2, 1, 28, 28)


def test_sinusoidal_embedding_is_bounded_and_distinguishes_times():
    e = sinusoidal_embedding(torch.tensor([0.0, 0.001, 0.5, 1.0]), 33)
    assert e.shape == (4, 33) and e.abs().max() <= 1
    assert (e[0] - e[1]).norm() > 0.1


# ---------------------------------------------------------------- losses and sampling


def _tiny(num_classes=None):
    torch.manual_seed(0)
    return UNet(base=8, channel_mults=(1, 2), num_classes=num_classes, time_dim=16)


@pytest.mark.parametrize("objective", ["ddpm", "flow"])
def test_a_tiny_model_overfits_a_few_images(objective):
    model = _tiny(num_classes=10)
    x0 = torch.rand(8, 1, 8, 8) * 2 - 1
    y = torch.arange(8) % 10
    schedule = NoiseSchedule.cosine(100)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)

    def loss_fn():
        if objective == "ddpm":
            return ddpm_loss(model, x0, schedule, y, generator=g, p_uncond=0.1)
        return flow_matching_loss(model, x0, y, generator=g, p_uncond=0.1)

    start = sum(loss_fn().item() for _ in range(5)) / 5
    for _ in range(60):
        optimizer.zero_grad()
        loss_fn().backward()
        optimizer.step()
    end = sum(loss_fn().item() for _ in range(5)) / 5
    assert end < 0.7 * start, (start, end)


def test_samplers_return_the_requested_shapes_and_trajectories():
    model = _tiny(num_classes=10)
    torch.nn.init.normal_(model.conv_out.weight, std=0.01)
    schedule = NoiseSchedule.cosine(20)
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3)
    shape = (1, 12, 12)
    assert ddpm_sample(model, schedule, 3, shape, y=y, guidance=2.0, generator=g, progress=False).shape == (3, *shape)
    out = ddim_sample(model, schedule, 3, shape, steps=5, generator=g, progress=False, trajectory=True)
    assert out.frames.shape == (6, 3, *shape) and len(out.times) == 6 and out.times[0] == 1.0 and out.times[-1] == 0.0
    assert torch.equal(out.frames[-1], out.samples) and out.samples.abs().max() <= 1 + 1e-6
    for method, calls in (("euler", 4), ("heun", 8)):
        traj = flow_sample(model, 3, shape, steps=4, method=method, y=y, generator=g, progress=False, trajectory=True)
        assert traj.frames.shape == (5, 3, *shape) and traj.times == [0.0, 0.25, 0.5, 0.75, 1.0]
    a = ddim_sample(model, schedule, 3, shape, steps=5, generator=torch.Generator().manual_seed(3), progress=False)
    b = ddim_sample(model, schedule, 3, shape, steps=5, generator=torch.Generator().manual_seed(3), progress=False)
    assert torch.equal(a, b)  # eta = 0: deterministic given the starting noise
    batched = sample_in_batches(flow_sample, 5, model, batch_size=2, shape=shape, steps=2, progress=False)
    assert batched.shape == (5, *shape)
    assert samples_to_unit(torch.tensor([-1.0, 0.0, 1.0, 3.0])).tolist() == [0.0, 0.5, 1.0, 1.0]


def test_flow_sampler_integrates_a_known_velocity_field_exactly():
    class Toward(nn.Module):  # v(x, t) = (target - x) / (1 - t): the straight path to `target`
        num_classes = None

        def forward(self, x, t, y=None):
            return (3.0 - x) / (1 - t).clamp_min(1e-6).view(-1, 1)

    model = Toward()
    model.register_buffer("anchor", torch.zeros(1))
    out = flow_sample(model, 4, (1,), steps=5, generator=torch.Generator().manual_seed(0), progress=False)
    assert torch.allclose(out, torch.full((4, 1), 3.0), atol=1e-5)
