"""Issue 13 (chapters 01-03): stratified folds, the vanishing JSD gradient, WGAN-GP, the Gaussian decoder,
bits per dimension, and the article's alternating VAE training. Math checked numerically."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
from torch.distributions import Normal

from aigc_course.gan import (GaussianRing, ToyGANConfig, critic_loss, gradient_penalty, mlp, train_toy_gan,
                             vanishing_gradient_table, wgan_generator_loss, wgan_gp_step)
from aigc_course.preprocessing import stratified_kfold_indices
from aigc_course.vae import MLPVAE, bits_per_dimension, gaussian_decoder_nll, gaussian_kl, train_vae


# ---------------------------------------------------------------- 01: stratified folds

@pytest.mark.parametrize("n, k", [(1000, 5), (37, 3), (10, 10)])
def test_stratified_folds_partition_and_balance_every_class(n, k):
    labels = torch.randint(0, 10, (n,), generator=torch.Generator().manual_seed(n))
    splits = stratified_kfold_indices(labels, k, torch.Generator().manual_seed(0))
    assert len(splits) == k
    validated = torch.cat([val for _, val in splits])
    assert sorted(validated.tolist()) == list(range(n))            # every index validated exactly once
    sizes = [len(val) for _, val in splits]
    assert max(sizes) - min(sizes) <= 1
    for train, val in splits:
        assert not set(train.tolist()) & set(val.tolist()) and len(train) + len(val) == n
    counts = torch.stack([torch.bincount(labels[val], minlength=10) for _, val in splits])
    assert int((counts.max(0).values - counts.min(0).values).max()) <= 1   # each class split evenly


def test_stratified_folds_are_seeded():
    labels = torch.arange(40) % 4
    a = stratified_kfold_indices(labels, 4, torch.Generator().manual_seed(1))
    b = stratified_kfold_indices(labels, 4, torch.Generator().manual_seed(1))
    c = stratified_kfold_indices(labels, 4, torch.Generator().manual_seed(2))
    assert all(torch.equal(x[1], y[1]) for x, y in zip(a, b))
    assert not all(torch.equal(x[1], y[1]) for x, y in zip(a, c))


# ---------------------------------------------------------------- 02: the JSD stuck at log 2

def test_jsd_saturates_at_log_2_and_the_minimax_gradient_vanishes():
    near, far = vanishing_gradient_table([0.05, 2.0], std=0.1, samples=2000)
    assert far.jsd == pytest.approx(math.log(2), abs=1e-9)
    assert abs(far.jsd_slope) < 1e-9 and abs(far.minimax_gradient) < 1e-20 and far.mean_d_on_fakes < 1e-20
    assert near.jsd < 0.1 and near.jsd_slope > 0.5
    assert far.wasserstein == 2.0 and near.wasserstein == 0.05


def test_minimax_gradient_against_a_fixed_dstar_is_twice_the_jsd_slope():
    """Envelope theorem: d/dtheta V(D*, G_theta) with D* held fixed = d/dtheta (-log 4 + 2 JSD)."""
    for row in vanishing_gradient_table([0.1, 0.3], std=0.1, samples=400_000):
        assert row.minimax_gradient == pytest.approx(2 * row.jsd_slope, rel=0.02)


def test_jsd_of_two_shifted_gaussians_matches_monte_carlo():
    shift, s = 0.15, 0.1
    row, = vanishing_gradient_table([shift], std=s)
    p, q = Normal(0.0, s), Normal(shift, s)
    x_p, x_q = p.sample((400_000,)), q.sample((400_000,))

    def log_m(x):
        return torch.logaddexp(p.log_prob(x), q.log_prob(x)) - math.log(2)
    mc = 0.5 * (p.log_prob(x_p) - log_m(x_p)).mean() + 0.5 * (q.log_prob(x_q) - log_m(x_q)).mean()
    assert row.jsd == pytest.approx(float(mc), abs=3e-3)


# ---------------------------------------------------------------- 02: WGAN-GP

def test_wasserstein_losses():
    assert float(critic_loss(torch.tensor([3.0, 5.0]), torch.tensor([1.0]))) == -3.0
    assert float(wgan_generator_loss(torch.tensor([[1.0], [2.0]]))) == -1.5


def test_gradient_penalty_of_a_linear_critic_is_closed_form():
    torch.manual_seed(0)
    critic = nn.Linear(3, 1)
    w = critic.weight.detach().flatten()
    penalty = gradient_penalty(critic, torch.randn(16, 3), torch.randn(16, 3))
    assert float(penalty.detach()) == pytest.approx(float((w.norm() - 1) ** 2), rel=1e-5)
    penalty.backward()   # differentiable in the critic: d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    assert torch.allclose(critic.weight.grad.flatten(), 2 * (w.norm() - 1) * w / w.norm(), atol=1e-5)


def test_wgan_gp_step_updates_the_critic_then_only_the_generator():
    torch.manual_seed(0)
    g, c = mlp(2, 2, hidden=8), mlp(2, 1, hidden=8)
    g_opt, c_opt = torch.optim.SGD(g.parameters(), lr=0.1), torch.optim.SGD(c.parameters(), lr=0.1)
    c_steps = []
    original_step = c_opt.step

    def counting_step(*args, **kwargs):
        assert all(p.grad is None or not p.grad.abs().sum() for p in g.parameters())
        c_steps.append(1)
        return original_step(*args, **kwargs)
    c_opt.step = counting_step
    g_before = [p.detach().clone() for p in g.parameters()]
    losses = wgan_gp_step(g, c, g_opt, c_opt, torch.randn(8, 2) + 2, torch.randn(8, 2), critic_steps=3)
    assert len(c_steps) == 3 and all(p.requires_grad for p in c.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(g_before, g.parameters()))
    assert math.isfinite(losses.discriminator) and math.isfinite(losses.generator)
    with pytest.raises(ValueError, match="saturating"):
        wgan_gp_step(g, c, g_opt, c_opt, torch.randn(8, 2), torch.randn(8, 2), saturating=True)


def test_wgan_gp_trains_in_the_playground():
    run = train_toy_gan(GaussianRing(), ToyGANConfig(steps=3, batch_size=16, n_snapshots=2, eval_samples=50),
                        progress=False, step=wgan_gp_step)
    assert len(run.d_losses) == 3 and all(math.isfinite(v) for v in run.d_losses + run.g_losses)


# ---------------------------------------------------------------- 03: Gaussian decoder, bits, alternating

def test_gaussian_decoder_nll_is_the_normal_log_density():
    x, m = torch.rand(4, 1, 28, 28, dtype=torch.float64), torch.rand(4, 1, 28, 28, dtype=torch.float64)
    for variance in (1e-3, 0.1, 2.0):
        expected = -Normal(m, math.sqrt(variance)).log_prob(x).flatten(1).sum(1)
        assert torch.allclose(gaussian_decoder_nll(x, m, variance), expected, rtol=1e-10)


def test_fixed_variance_acts_like_beta_equals_two_variance():
    torch.manual_seed(0)
    x = torch.rand(5, 1, 28, 28, dtype=torch.float64)
    m, mu, logvar = (torch.rand(5, 1, 28, 28, dtype=torch.float64, requires_grad=True),
                     torch.randn(5, 3, dtype=torch.float64, requires_grad=True),
                     torch.randn(5, 3, dtype=torch.float64, requires_grad=True))
    for variance in (0.01, 0.5):
        kl = gaussian_kl(mu, logvar).mean()
        a = torch.autograd.grad(gaussian_decoder_nll(x, m, variance).mean() + kl, (m, mu, logvar), retain_graph=True)
        b = torch.autograd.grad((x - m).pow(2).flatten(1).sum(1).mean() + 2 * variance * kl, (m, mu, logvar))
        assert all(torch.allclose(2 * variance * ga, gb, atol=1e-12) for ga, gb in zip(a, b))


def test_bits_per_dimension():
    assert bits_per_dimension(784 * math.log(2)) == pytest.approx(1.0)
    assert bits_per_dimension(math.log(2) * 3, dims=3) == pytest.approx(1.0)


def test_alternating_training_updates_one_network_per_step():
    images = torch.rand(64, 1, 28, 28)
    model = MLPVAE(latent_dim=2, hidden=8)
    before = {part: [p.detach().clone() for p in model.part_parameters(part)] for part in ("encoder", "decoder")}
    train_vae(model, images, epochs=1, batch_size=64, progress=False, update="alternating")  # one step: step 0
    moved = {part: any(not torch.equal(a, b) for a, b in zip(before[part], model.part_parameters(part)))
             for part in before}
    assert moved == {"encoder": True, "decoder": False}
    train_vae(model, images, epochs=1, batch_size=32, progress=False, update="alternating")  # two steps
    assert any(not torch.equal(a, b) for a, b in zip(before["decoder"], model.part_parameters("decoder")))
    joint = MLPVAE(latent_dim=2, hidden=8)
    first = [p.detach().clone() for p in joint.part_parameters("decoder")]
    train_vae(joint, images, epochs=1, batch_size=64, progress=False)
    assert any(not torch.equal(a, b) for a, b in zip(first, joint.part_parameters("decoder")))


def test_part_parameters_split_every_model_in_two():
    for model in (MLPVAE(latent_dim=2, hidden=8),):
        parts = model.part_parameters("encoder") + model.part_parameters("decoder")
        assert {id(p) for p in parts} == {id(p) for p in model.parameters()} and len(parts) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="part"):
        MLPVAE(latent_dim=2, hidden=8).part_parameters("critic")
