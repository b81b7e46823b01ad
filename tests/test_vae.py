"""Chapter 03: the VAE's math checked numerically, the models, training, evaluation and checkpoints."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal, kl_divergence

from aigc_course.checkpoints import CheckpointError
from aigc_course.vae.losses import (elbo_terms, evaluate, forward_loss, gaussian_kl, importance_weighted_nll,
                                    reconstruction_nll, reparameterize, vae_loss)
from aigc_course.vae.training import train_vae
from aigc_course.vae.storage import checkpoint_path, load_cached_vae, load_vae, save_vae
from aigc_course.vae.models import ConvVAE, MLPVAE, VAEBase, as_image_batch, build_vae


# ---------------------------------------------------------------- reparameterization

def test_reparameterize_moments_shape_and_seed():
    mu = torch.tensor([[1.0, -2.0, 0.0]]).repeat(100_000, 1)
    logvar = torch.tensor([[0.0, 1.0, -3.0]]).repeat(100_000, 1)
    z = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert z.shape == mu.shape
    assert torch.allclose(z.mean(0), mu[0], atol=0.03)
    assert torch.allclose(z.var(0), logvar[0].exp(), rtol=0.03)
    a = reparameterize(mu[:5], logvar[:5], generator=torch.Generator().manual_seed(1))
    b = reparameterize(mu[:5], logvar[:5], generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


@pytest.mark.parametrize("mu0, logvar0", [(0.7, -0.5), (-1.2, 0.8)])
def test_reparameterized_gradient_matches_the_gradient_of_the_expectation(mu0, logvar0):
    """d/d(mu, logvar) E[f(z)] for f(z) = z^2 + sin(z): Monte Carlo through the trick vs autograd of the closed form.

    E[z^2] = mu^2 + sigma^2 and E[sin z] = sin(mu) exp(-sigma^2 / 2) for z ~ N(mu, sigma^2).
    """
    n = 400_000
    mu = torch.tensor([[mu0]], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([[logvar0]], dtype=torch.float64, requires_grad=True)
    z = reparameterize(mu.expand(n, 1), logvar.expand(n, 1), generator=torch.Generator().manual_seed(0))
    (z.pow(2) + torch.sin(z)).mean().backward()
    estimate = torch.cat([mu.grad.flatten(), logvar.grad.flatten()])

    mu2 = mu.detach().clone().requires_grad_(True)
    logvar2 = logvar.detach().clone().requires_grad_(True)
    var = logvar2.exp()
    (mu2.pow(2) + var + torch.sin(mu2) * torch.exp(-var / 2)).sum().backward()
    exact = torch.cat([mu2.grad.flatten(), logvar2.grad.flatten()])
    assert torch.allclose(estimate, exact, atol=0.02), (estimate, exact)


def test_reparameterize_validates():
    with pytest.raises(ValueError, match="same shape"):
        reparameterize(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="mu must be a torch.Tensor"):
        reparameterize([0.0], torch.zeros(1, 1))
    with pytest.raises(ValueError, match="logvar must have 2 dimensions"):
        reparameterize(torch.zeros(2, 3), torch.zeros(6))
    with pytest.raises(TypeError, match="floating"):
        reparameterize(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3))


# ---------------------------------------------------------------- Gaussian KL

def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = 2 * torch.randn(50, 20, generator=g), 2 * torch.randn(50, 20, generator=g)
    ours = gaussian_kl(mu, logvar)
    theirs = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=1)
    assert ours.shape == (50,)
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-4)


def test_gaussian_kl_matches_monte_carlo():
    """KL = E_q[log q(z) - log p(z)], estimated with 200,000 samples per example."""
    mu = torch.tensor([[0.5, -1.0, 0.0], [2.0, 0.3, -0.4]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, -1.0, 1.0], [0.5, -2.0, 0.2]], dtype=torch.float64)
    n = 200_000
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = mu + torch.exp(0.5 * logvar) * torch.randn(n, *mu.shape, generator=torch.Generator().manual_seed(0),
                                                   dtype=torch.float64)
    log_ratio = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(-1)   # [n, B]
    estimate, stderr = log_ratio.mean(0), log_ratio.std(0) / math.sqrt(n)
    exact = gaussian_kl(mu, logvar)
    assert ((estimate - exact).abs() < 4 * stderr).all(), (estimate, exact, stderr)


def test_gaussian_kl_invariants():
    assert torch.equal(gaussian_kl(torch.zeros(3, 5), torch.zeros(3, 5)), torch.zeros(3))
    g = torch.Generator().manual_seed(1)
    kl = gaussian_kl(torch.randn(100, 4, generator=g), torch.randn(100, 4, generator=g))
    assert (kl > 0).all()
    # additivity over dimensions: the KL of a product of independent Gaussians is a sum
    mu, logvar = torch.randn(7, 6, generator=g), torch.randn(7, 6, generator=g)
    assert torch.allclose(gaussian_kl(mu, logvar), gaussian_kl(mu[:, :2], logvar[:, :2]) + gaussian_kl(mu[:, 2:], logvar[:, 2:]))


# ---------------------------------------------------------------- reconstruction and the loss

def test_reconstruction_nll_is_the_bernoulli_log_likelihood():
    g = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(6, 1, 28, 28, generator=g)
    x_binary = (torch.rand(6, 1, 28, 28, generator=g) > 0.5).float()
    expected = -Bernoulli(logits=logits).log_prob(x_binary).flatten(1).sum(1)
    assert torch.allclose(reconstruction_nll(logits, x_binary), expected, rtol=1e-5)
    x = torch.rand(6, 1, 28, 28, generator=g)  # grey levels: the pytorch/examples convention (BCE on [0, 1])
    by_probabilities = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(1)
    assert torch.allclose(reconstruction_nll(logits, x), by_probabilities, rtol=1e-4)
    saturated = torch.where(x_binary > 0, 500.0, -500.0)
    assert torch.allclose(reconstruction_nll(saturated, x_binary), torch.zeros(6), atol=1e-6)


def test_vae_loss_terms_and_beta():
    g = torch.Generator().manual_seed(0)
    logits, x = torch.randn(4, 1, 28, 28, generator=g), torch.rand(4, 1, 28, 28, generator=g)
    mu, logvar = torch.randn(4, 20, generator=g), torch.randn(4, 20, generator=g)
    loss, rec, kl = vae_loss(logits, x, mu, logvar, beta=3.0)
    assert torch.allclose(rec, reconstruction_nll(logits, x).mean())
    assert torch.allclose(kl, gaussian_kl(mu, logvar).mean())
    assert torch.allclose(loss, rec + 3.0 * kl)
    # the batch mean: duplicating the batch changes nothing
    doubled = vae_loss(logits.repeat(2, 1, 1, 1), x.repeat(2, 1, 1, 1), mu.repeat(2, 1), logvar.repeat(2, 1), beta=3.0)
    assert torch.allclose(doubled.loss, loss)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        vae_loss(logits, x, mu, logvar, beta=-1.0)
    with pytest.raises(ValueError, match="same batch size"):
        vae_loss(logits, x, mu[:3], logvar[:3])
    with pytest.raises(ValueError, match="logits and x must have the same shape"):
        vae_loss(logits, x[:, :, :27], mu, logvar)


# ---------------------------------------------------------------- models

def test_models_shapes_and_parameter_count():
    x = torch.rand(3, 1, 28, 28)
    mlp, conv = MLPVAE(), ConvVAE()
    # the pytorch/examples model: 784*400+400 + 400*40+40 + 20*400+400 + 400*784+784
    assert sum(p.numel() for p in mlp.parameters()) == 652_824
    for model in (mlp, conv):
        logits, mu, logvar = model(x)
        assert logits.shape == (3, 1, 28, 28) and mu.shape == logvar.shape == (3, 20)
        assert model.encode(x.view(3, 784))[0].shape == (3, 20)
        rebuilt = build_vae(model.config())
        assert type(rebuilt) is type(model) and rebuilt.config() == model.config()
    with pytest.raises(ValueError, match=r"z must have shape \[B, 20\]"):
        conv.decode(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="x must have shape"):
        conv(torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match="channels must be a pair"):
        ConvVAE(channels=(8,))
    with pytest.raises(ValueError, match="config must be a dict"):
        build_vae({"kind": "transformer"})
    assert as_image_batch(torch.rand(2, 28, 28)).shape == (2, 1, 28, 28)


def test_joint_training_updates_encoder_and_decoder_and_learns():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    # 512 noisy copies of four prototype "digits": learnable in a few epochs
    prototypes = (torch.rand(4, 1, 28, 28, generator=g) > 0.7).float()
    images = (prototypes[torch.arange(512) % 4] * 0.9 + 0.05 * torch.rand(512, 1, 28, 28, generator=g)).clamp(0, 1)
    model = MLPVAE(latent_dim=4, hidden=64)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    history = train_vae(model, images, epochs=4, batch_size=64, lr=3e-3, eval_images=images[:128], progress=False)
    assert all(not torch.equal(before[n], p) for n, p in model.named_parameters()), "every parameter must move"
    assert len(history["train/step_loss"]) == 4 * 8 and len(history["train/loss"]) == len(history["eval/loss"]) == 4
    assert history["train/loss"][-1] < 0.5 * history["train/loss"][0]
    assert history["train/seconds"] == sorted(history["train/seconds"])
    for step in range(len(history["train/step_loss"])):
        assert abs(history["train/step_loss"][step] - history["train/step_reconstruction"][step]
                   - history["train/step_kl"][step]) < 1e-3
    assert not model.training


def test_train_vae_validates_its_inputs():
    model = MLPVAE(latent_dim=2, hidden=8)
    with pytest.raises(ValueError, match=r"images must hold pixel values in \[0, 1\]"):
        train_vae(model, torch.rand(8, 1, 28, 28) * 255, epochs=1)
    with pytest.raises(ValueError, match="images must be finite"):  # a NaN pixel has no min/max to betray it
        train_vae(model, torch.full((8, 1, 28, 28), float("nan")), epochs=1)
    with pytest.raises(TypeError, match="floating"):
        train_vae(model, torch.zeros(8, 1, 28, 28, dtype=torch.uint8), epochs=1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        train_vae(model, torch.rand(8, 1, 28, 28), epochs=0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train_vae(model, torch.rand(8, 1, 28, 28), epochs=1, lr=0.0)
    with pytest.raises(ValueError, match="eval_images must hold pixel values"):
        train_vae(model, torch.rand(8, 1, 28, 28), epochs=1, eval_images=-torch.rand(8, 1, 28, 28))


# ---------------------------------------------------------------- evaluation: ELBO and the importance-weighted bound

class OneDimToy(VAEBase):
    """latent_dim 1; decoder logits_j = w_j z + b_j; the encoder returns fixed (mu, logvar) for any x."""

    def __init__(self, mu: float, logvar: float, w: torch.Tensor, b: torch.Tensor) -> None:
        super().__init__()
        self.latent_dim = 1
        self.q = nn.Parameter(torch.tensor([mu, logvar]))
        self.w, self.b = nn.Parameter(w.flatten()), nn.Parameter(b.flatten())

    def _encode(self, x):
        return self.q.expand(len(x), 2)

    def _decode(self, z):
        return z * self.w + self.b


def _toy_and_exact(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    w, b = 0.08 * torch.randn(784, generator=g), torch.randn(784, generator=g)
    x = (torch.rand(1, 784, generator=g) < torch.sigmoid(b + 0.8 * w)).float().view(1, 1, 28, 28)
    model = OneDimToy(1.0, math.log(0.25), w, b)
    # exact log p(x) and -ELBO by quadrature over z, in float64
    z = torch.linspace(-12, 12, 48_001, dtype=torch.float64).unsqueeze(1)
    dz = (z[1] - z[0]).item()
    log_lik = -F.binary_cross_entropy_with_logits(z * w.double() + b.double(), x.view(1, 784).double().expand(len(z), -1),
                                                 reduction="none").sum(1)
    log_prior = Normal(0.0, 1.0).log_prob(z[:, 0])
    log_px = torch.logsumexp(log_lik + log_prior, 0).item() + math.log(dz)
    q = Normal(1.0, 0.5)
    neg_elbo = -(torch.exp(q.log_prob(z[:, 0])) * log_lik).sum().item() * dz + \
        gaussian_kl(torch.tensor([[1.0]]), torch.tensor([[math.log(0.25)]])).item()
    return model, x, log_px, neg_elbo


def test_importance_weighted_bound_converges_to_the_exact_likelihood():
    model, x, log_px, neg_elbo = _toy_and_exact()
    gap = neg_elbo + log_px  # = KL(q(z|x) || p(z|x)) > 0: q is not the posterior, the ELBO is loose
    assert gap > 0.5, gap
    images = x.expand(400, -1, -1, -1).contiguous()
    k1 = importance_weighted_nll(model, images, k=1, seed=0)
    k1_mean, k1_err = k1.mean().item(), k1.std().item() / math.sqrt(len(k1))
    assert abs(k1_mean - neg_elbo) < 4 * k1_err, (k1_mean, neg_elbo, k1_err)  # k = 1: an unbiased -ELBO estimate
    k10 = importance_weighted_nll(model, images[:40], k=10, seed=1).mean().item()
    k500 = importance_weighted_nll(model, images[:40], k=500, batch_size=10, seed=2)
    k500_mean, k500_err = k500.mean().item(), k500.std().item() / math.sqrt(40)
    assert k500_mean < k10 < k1_mean - gap / 2                 # the bound tightens as k grows
    assert -log_px - 4 * k500_err < k500_mean < -log_px + 0.25  # and closes in on -log p(x) from above
    per_image = elbo_terms(model, images, seed=3)["loss"]
    assert abs(per_image.mean().item() - neg_elbo) < 4 * per_image.std().item() / math.sqrt(len(per_image)) + 1e-3


def test_importance_weighted_is_exact_when_q_is_the_posterior():
    """A decoder that ignores z has posterior = prior; with q = prior every weight equals p(x)."""
    g = torch.Generator().manual_seed(1)
    b = torch.randn(784, generator=g)
    model = OneDimToy(0.0, 0.0, torch.zeros(784), b)
    x = torch.rand(3, 1, 28, 28, generator=g)
    exact = reconstruction_nll(b.view(1, 1, 28, 28).expand(3, -1, -1, -1), x)
    assert torch.allclose(importance_weighted_nll(model, x, k=7), exact, rtol=1e-5)
    assert torch.allclose(elbo_terms(model, x)["loss"], exact, rtol=1e-5)


def test_evaluation_is_seeded_restores_mode_and_validates():
    model = MLPVAE(latent_dim=3, hidden=16).train()
    x = torch.rand(10, 1, 28, 28)
    a, b = elbo_terms(model, x, batch_size=4, seed=5), elbo_terms(model, x, batch_size=3, seed=5)
    assert a["loss"].shape == (10,) and model.training
    assert torch.allclose(a["kl"], b["kl"]) and torch.allclose(a["loss"], a["reconstruction"] + a["kl"])
    summary = evaluate(model, x)
    assert set(summary) == {"loss", "reconstruction", "kl"} and summary["kl"] >= 0
    with pytest.raises(ValueError, match="k must be >= 1"):
        importance_weighted_nll(model, x, k=0)
    with pytest.raises(ValueError, match="images must hold at least one image"):
        evaluate(model, torch.zeros(0, 1, 28, 28))


# ---------------------------------------------------------------- checkpoints

def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=5, channels=(4, 8), hidden=16)
    path = save_vae(model, tmp_path / "sub" / "vae.pt", test_loss=99.5, epochs=3)
    loaded, metadata = load_vae(path)
    assert metadata == {"test_loss": 99.5, "epochs": 3}
    assert isinstance(loaded, ConvVAE) and not loaded.training
    z = torch.randn(4, 5)
    assert torch.equal(loaded.decode(z), model.eval().decode(z))
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["vae.pt"]  # no temporary file left behind
    with pytest.raises(CheckpointError, match="does not exist"):
        load_vae(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_vae(tmp_path / "junk.pt")
    torch.save({"something": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="old cache"):
        load_vae(tmp_path / "other.pt")
    with pytest.raises(TypeError, match="metadata"):
        save_vae(model, tmp_path / "x.pt", history=[1, 2])


def test_load_cached_vae_skips_unusable_files(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path))
    assert load_cached_vae(["vae_a", "vae_b"]) is None  # nothing cached yet
    checkpoint_path("vae_a").parent.mkdir(parents=True)
    torch.save({"model": {}}, checkpoint_path("vae_a"))  # an old-format cache
    model = ConvVAE(latent_dim=3, channels=(4, 8), hidden=16)
    save_vae(model, checkpoint_path("vae_b"), epochs=1)
    loaded, metadata, path = load_cached_vae(["vae_a", "vae_b"])
    assert path == checkpoint_path("vae_b") and metadata == {"epochs": 1} and loaded.latent_dim == 3
    assert "skipping the cached VAE" in capsys.readouterr().out
    with pytest.raises(ValueError, match="names"):
        load_cached_vae("vae_a")


def test_checkpoint_path_separates_fast_mode(monkeypatch, tmp_path):
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path))
    monkeypatch.setenv("AIGC_COURSE_FAST", "1")
    assert checkpoint_path("vae_conv") == tmp_path / "checkpoints" / "vae_conv-fast.pt"
    monkeypatch.setenv("AIGC_COURSE_FAST", "0")
    assert checkpoint_path("vae_conv") == tmp_path / "checkpoints" / "vae_conv.pt"
    with pytest.raises(ValueError, match="name must be"):
        checkpoint_path("../evil")


def test_forward_loss_is_the_models_elbo():
    torch.manual_seed(0)
    model, x = MLPVAE(latent_dim=4, hidden=32), torch.rand(5, 1, 28, 28)
    torch.manual_seed(1)
    ours = forward_loss(model, x, beta=2.0)
    torch.manual_seed(1)
    logits, mu, logvar = model(x)
    assert torch.allclose(ours.loss, vae_loss(logits, x, mu, logvar, beta=2.0).loss)


def _multiply_adds(model: nn.Module) -> int:
    """Forward multiply-adds for one image, counted with hooks on Linear / Conv2d / ConvTranspose2d."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Linear):
            total += module.in_features * module.out_features
        elif isinstance(module, nn.Conv2d):
            total += output[0].numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, nn.ConvTranspose2d):
            total += inputs[0][0].numel() * module.out_channels * module.kernel_size[0] * module.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    model(torch.rand(1, 1, 28, 28))
    for h in handles:
        h.remove()
    return total


def test_cost_per_image_stated_in_the_convvae_docstring():
    conv, mlp = _multiply_adds(ConvVAE()), _multiply_adds(MLPVAE())
    assert round(conv / 1e6, 2) == 1.72 and round(mlp / 1e6, 2) == 0.65 and round(conv / mlp, 1) == 2.6


def test_training_figures_draw_what_the_history_holds():
    import matplotlib.pyplot as plt

    from aigc_course.training import History
    from aigc_course.vae.plots import beta_sweep_figure, prior_samples_figure, training_curves_figure

    history = History()
    for step in range(20):
        history.log("train", step_loss=100.0 - step, step_reconstruction=90.0 - step, step_kl=10.0)
    for epoch in range(4):
        history.log("train", loss=100.0 - 5 * epoch)
        history.log("eval", loss=101.0 - 5 * epoch)
    fig = training_curves_figure(history, "toy")
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1, 2]
    assert list(fig.axes[2].get_lines()[1].get_ydata()) == history["eval/loss"]
    plt.close(fig)
    with pytest.raises(TypeError, match="History"):
        training_curves_figure({"train/loss": [1.0]}, "toy")
    results = {0.5: {"kl": 30.0, "reconstruction": 70.0, "loss": 100.0}, 2.0: {"kl": 10.0, "reconstruction": 95.0, "loss": 105.0}}
    fig = beta_sweep_figure(results)
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [30.0, 10.0]
    assert [b.get_height() for b in fig.axes[1].patches] == [100.0, 105.0]
    plt.close(fig)
    fig = prior_samples_figure({"a": MLPVAE(latent_dim=2, hidden=8), "b": MLPVAE(latent_dim=2, hidden=8)}, n=4)
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="results"):
        beta_sweep_figure({})
