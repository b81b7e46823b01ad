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


# ---------------------------------------------------------------- training, latent flow, checkpoints, command line

from aigc_course import cli  # noqa: E402
from aigc_course.checkpoints import CheckpointError  # noqa: E402
from aigc_course.diffusion import (ConvAutoencoder, Recipe, TrainedDiffusion, VelocityMLP, cache_path,  # noqa: E402
                                   decode_latents, encode_images, load_diffusion, load_or_train_diffusion,
                                   save_diffusion, train_autoencoder, train_diffusion, within_class_diversity)
from aigc_course.diffusion.training import CLOCKS  # noqa: E402


def test_train_diffusion_runs_epochs_keeps_an_ema_and_resumes():
    model = _tiny(num_classes=10)
    data, labels = torch.rand(64, 1, 8, 8) * 2 - 1, torch.arange(64) % 10
    seen = []
    run = train_diffusion(model, data, objective="ddpm", schedule=NoiseSchedule.cosine(50), epochs=2, batch_size=16,
                          labels=labels, p_uncond=0.2, progress=False, on_epoch=lambda r: seen.append(r.epochs))
    assert seen == [1, 2] and run.epochs == 2 and run.images_seen == 128
    assert len(run.history["train/loss"]) == 8 and len(run.history["train/epoch_loss"]) == 2
    assert run.best is run.ema_model and not torch.equal(run.ema_model.conv_out.weight, run.model.conv_out.weight)
    run = train_diffusion(model, data, epochs=3, batch_size=16, labels=labels, progress=False, resume=run)
    assert run.epochs == 3 and len(run.history["train/loss"]) == 12
    timed = train_diffusion(_tiny(), data, minutes=1e-4, batch_size=16, progress=False, ema=None, clock="wall")
    assert timed.stopped_by_time and timed.images_seen == 16 and timed.ema_model is None
    assert set(CLOCKS) == {"cpu", "wall"}


def test_latent_pipeline_round_trips_and_standardises_codes():
    torch.manual_seed(0)
    images = torch.rand(40, 1, 28, 28) * 2 - 1
    ae = ConvAutoencoder(latent_dim=4, base=4)
    history = train_autoencoder(ae, images, epochs=2, batch_size=20, progress=False)
    assert len(history["train/loss"]) == 4 and history.last("train/seconds") >= 0
    codes = encode_images(ae, images)
    assert codes.shape == (40, 4)
    assert torch.allclose(codes.mean(0), torch.zeros(4), atol=1e-4) and torch.allclose(codes.std(0), torch.ones(4), atol=1e-3)
    decoded = decode_latents(ae, codes)
    assert decoded.shape == images.shape and decoded.abs().max() <= 1
    v = VelocityMLP(dim=4, hidden=16, depth=2, num_classes=10)
    assert v(codes[:3], torch.rand(3), torch.tensor([1, 2, 10])).shape == (3, 4)


def _trained(method):
    torch.manual_seed(0)
    recipe = Recipe(method=method, epochs=1, minutes=None, base=8, hidden=16, depth=1, latent_dim=4, autoencoder_base=4)
    model = VelocityMLP(4, 16, 1, 10) if method == "latent-flow" else UNet(base=8, num_classes=10)
    torch.nn.init.normal_(model.out.weight if method == "latent-flow" else model.conv_out.weight, std=0.05)
    ae = ConvAutoencoder(4, 4) if method == "latent-flow" else None
    from aigc_course.training import History
    return TrainedDiffusion(recipe, model.eval(), ae, History({"train/loss": [1.0, 0.5]}), 2.0, 1.0, 64, 1,
                            raw_model=model)


@pytest.mark.parametrize("method", ["ddpm", "flow", "latent-flow"])
def test_checkpoint_round_trip_samples_the_same_digits(method, tmp_path):
    trained = _trained(method)
    path = save_diffusion(tmp_path / "m.pt", trained)
    loaded = load_diffusion(path)
    assert loaded.recipe == trained.recipe and loaded.history["train/loss"] == [1.0, 0.5]
    a = trained.sample(3, steps=2, y=torch.tensor([1, 2, 3]), guidance=2.0, generator=torch.Generator().manual_seed(0))
    b = loaded.sample(3, steps=2, y=torch.tensor([1, 2, 3]), guidance=2.0, generator=torch.Generator().manual_seed(0))
    assert a.shape == (3, 1, 28, 28) and torch.allclose(a, b) and a.min() >= 0 and a.max() <= 1


def test_corrupt_checkpoint_is_refused_and_the_cache_retrains(tmp_path, monkeypatch, capsys):
    path = save_diffusion(tmp_path / "m.pt", _trained("flow"))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="m.pt"):
        load_diffusion(path)
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path))
    recipe = _trained("flow").recipe
    cached = cache_path(recipe)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a checkpoint")
    import aigc_course.diffusion.recipes as recipes
    monkeypatch.setattr(recipes, "train_recipe", lambda r, device=None, progress=True: _trained("flow"))
    trained = load_or_train_diffusion(recipe, progress=False)
    assert "cannot use the cache" in capsys.readouterr().err and trained.recipe == recipe
    assert load_or_train_diffusion(recipe, progress=False, verbose=False).history["train/loss"] == [1.0, 0.5]


def test_within_class_diversity_is_the_mean_pairwise_distance():
    images = torch.zeros(4, 1, 28, 28)
    images[1] += 1.0  # class 0: two images at distance 28; class 1: two identical images
    assert within_class_diversity(images, torch.tensor([0, 0, 1, 1])) == pytest.approx(28.0 / 2)


def test_cli_trains_resumes_and_samples_a_digit(tmp_path, mnist_env, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "flow", "--epochs", "1", "--train-subset", "64", "--out", str(out)]) == 0
    assert cli.main(["train", "flow", "--epochs", "2", "--train-subset", "64", "--out", str(out)]) == 0
    assert "resumed after epoch 1" in capsys.readouterr().out
    assert load_diffusion(out / "checkpoint.pt").epochs == 2
    assert cli.main(["train", "ddpm", "--epochs", "1", "--train-subset", "64", "--out", str(out)]) == 2
    assert "another recipe" in capsys.readouterr().err
    npy = tmp_path / "x.npy"
    assert cli.main(["sample", "--checkpoint", str(out / "checkpoint.pt"), "--n", "3", "--out", str(npy), "--steps", "2",
                     "--digit", "7", "--guidance", "2"]) == 0
    import numpy as np
    x = np.load(npy)
    assert x.shape == (3, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert cli.main(["sample", "--checkpoint", str(out / "checkpoint.pt"), "--n", "3", "--out", str(npy),
                     "--guidance", "2"]) == 2
    assert "--guidance needs --digit" in capsys.readouterr().err


def test_guided_scoring_requests_each_class_in_turn_and_reports_their_recognition(monkeypatch):
    """score_samples(guidance=w) asks for label i % 10 with scale w; a classifier that reads the label back
    (the digit's brightness encodes it) gives balanced classes and a requested accuracy of 1."""
    from aigc_course.diffusion import score_samples
    import aigc_course.diffusion.evaluate as evaluate

    trained, calls = _trained("flow"), {}

    def fake_sample(n, steps=20, y=None, guidance=1.0, method="euler", generator=None, **_):
        calls.update(n=n, y=y, guidance=guidance)
        return (y.float() / 10).view(-1, 1, 1, 1).expand(n, 1, 28, 28).clone()

    monkeypatch.setattr(trained, "sample", fake_sample)
    monkeypatch.setattr(evaluate, "predict_logits",
                        lambda clf, x: nn.functional.one_hot((x[:, 0, 0] * 10).round().long(), 10).float())
    monkeypatch.setattr(evaluate, "evaluate_images", lambda clf, images, ref: {"n": len(images)})
    report = score_samples(trained, None, torch.zeros(4, 128), 25, 3, guidance=1.5)
    assert calls["guidance"] == 1.5 and calls["y"].tolist() == [i % 10 for i in range(25)]
    assert report["requested_accuracy"] == 1.0 and report["n"] == 25
    monkeypatch.setattr(evaluate, "predict_logits", lambda clf, x: nn.functional.one_hot(
        torch.zeros(len(x), dtype=torch.long), 10).float())  # a classifier that always says 0
    assert score_samples(trained, None, torch.zeros(4, 128), 20, 3, guidance=1.5)["requested_accuracy"] == 0.1
