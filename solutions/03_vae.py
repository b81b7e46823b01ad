# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Variational autoencoders · 变分自编码器
#
# A **variational autoencoder** (VAE, 变分自编码器) is a probabilistic generative model (概率生成模型)
# with two networks: an **encoder** (编码器) that turns an image $x$ into a *distribution*
# $q_\phi(z\mid x)$ over latent codes, and a **decoder** (解码器) that turns a code $z$ into a
# distribution $p_\theta(x\mid z)$ over images. After training, new images come from the decoder
# alone: draw $z$ from the prior $p(z)=\mathcal N(0, I)$ and decode it.
#
# This notebook mirrors the article's §3.2 and §4.1.2. Both sections get the VAE wrong: the loss
# in §4.1.2 is not the VAE's loss, and the "alternating" training in §3.2 is the GAN recipe. We
# derive the correct objective, the **evidence lower bound** (ELBO, 证据下界), implement it in three
# exercises, and train the encoder and decoder **jointly**, with one loss and one optimizer.
#
# **In this notebook:** the errata; the ELBO in a few lines; the reparameterization trick
# (重参数化技巧, Exercise 3.1); the Gaussian KL divergence (KL散度, Exercise 3.2); the VAE loss
# (Exercise 3.3); a convolutional VAE (the chapter's main model) trained side by side with the
# pytorch/examples MLP; reconstructions and samples; an importance-weighted estimate of
# $-\log p(x)$, the Gaussian decoder and bits per dimension; a 2-D latent space (潜在空间) with a live
# explorer; interpolation; the $\beta$ trade-off, with $\beta = 0$ (the autoencoder) as the starting point;
# the article's alternating training measured; and a posterior-collapse diagnostic.

# %%
# Setup: the same first cell in every notebook of the course (safe to re-run).
import glob
import importlib.util
import os
import subprocess
import sys

COURSE_REPO_URL = ""  # from aigc_course/config.py; empty: not published
WHEEL_PLACES = [".", "/content", "/content/drive/MyDrive", "/content/drive/MyDrive/*"]  # beside it, uploaded, Drive
if "google.colab" in sys.modules and importlib.util.find_spec("aigc_course") is None:
    # On Colab: install the course from a wheel, else from the repository. Colab's own torch is kept.
    wheels = [w for place in WHEEL_PLACES for w in glob.glob(os.path.join(place, "aigc_course-*.whl"))]
    if wheels:
        source = max(wheels, key=os.path.getmtime)  # the newest wheel
    else:
        source = f"aigc-course @ git+{COURSE_REPO_URL}" if COURSE_REPO_URL else None
    if source:
        print(f"installing the course from {source}")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source])
        importlib.invalidate_caches()
    if importlib.util.find_spec("aigc_course") is None:
        raise ModuleNotFoundError("The course is not installed: upload aigc_course-*.whl from your instructor "
                                  "(Files panel, or Drive's MyDrive and mount Drive), then run this cell again.")

from aigc_course.course import environment_report

print(environment_report())

# %% [markdown]
# ## 1. What the article says, and what is right · 勘误
#
# > **⚠️ Errata · 勘误 (article §4.1.2).** The article writes the encoder as a function $z = E(x)$ and
# > says “VAE的训练目标是最小化以下损失函数” ("the training objective of the VAE is to minimize the
# > following loss function"):
# > $\mathcal L(E, D) = D(x) - \log D(x') + \tfrac12\,\mathbb E_{z\sim q(z|x)}[-\log p(x\mid z)]$.
# > That is not a VAE's loss:
# > - $D(x)$ feeds an *image* to the decoder, whose input is a *latent code*; the term has no meaning,
# >   and neither has $-\log D(x')$, the log of a generated image;
# > - the factor $\tfrac12$ on the reconstruction term is arbitrary;
# > - the **KL term is missing**. Without $\mathrm{KL}(q(z\mid x)\,\|\,p(z))$ nothing ties the codes to the
# >   prior, and the model is a plain autoencoder whose codes need not look like $z\sim\mathcal N(0, I)$:
# >   Section 13 trains one and measures how digit-like its decoded prior samples are.
# >
# > The encoder outputs a distribution, $q_\phi(z\mid x)=\mathcal N(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))$,
# > and the loss is the **negative ELBO**:
# > $\mathcal L(\theta,\phi; x) = \mathbb E_{q_\phi(z|x)}[-\log p_\theta(x\mid z)] + \mathrm{KL}(q_\phi(z\mid x)\,\|\,p(z))$.
#
# > **⚠️ Errata · 勘误 (article §3.2).** The article's steps train the encoder, then the decoder, and
# > “交替训练编码器和解码器，直到生成器生成的内容足够逼真” ("train the encoder and the decoder alternately,
# > until the content the generator generates is realistic enough"). That is the GAN recipe (chapter 02)
# > moved to a model that has no adversary. In a VAE the encoder and decoder **minimize one and the same loss**,
# > the negative ELBO above; one backward pass gives the gradient for both, and one optimizer step
# > updates both (Kingma & Welling 2014, Algorithm 1). Freezing one network while the other takes its
# > step discards gradients the same backward pass has already computed and makes each network wait for
# > its turn; there is no game to balance. Section 13 measures what that costs at equal compute. A VAE
# > has no "generator" judged for
# > realism either; training is monitored with the held-out negative ELBO, as below.

# %% [markdown]
# ## 2. The evidence lower bound in a few lines · 证据下界
#
# The model: prior $p(z)=\mathcal N(0, I)$ in $d$ dimensions, decoder $p_\theta(x\mid z)$. We would like to
# maximize $\log p_\theta(x) = \log\int p_\theta(x\mid z)\,p(z)\,dz$, an integral no one can compute for a
# neural decoder. Multiply and divide by any density $q_\phi(z\mid x)$ and apply Jensen's inequality
# ($\log$ is concave):
#
# $$\log p_\theta(x) = \log \mathbb E_{q_\phi(z|x)}\!\left[\frac{p_\theta(x\mid z)\,p(z)}{q_\phi(z\mid x)}\right]
# \;\ge\; \mathbb E_{q_\phi(z|x)}\!\left[\log p_\theta(x\mid z)\right] - \mathrm{KL}\!\left(q_\phi(z\mid x)\,\|\,p(z)\right)
# = \mathrm{ELBO}(x).$$
#
# The gap is exactly $\mathrm{KL}(q_\phi(z\mid x)\,\|\,p_\theta(z\mid x)) \ge 0$: the better the encoder
# approximates the true posterior, the tighter the bound (this is **variational inference**, 变分推理).
# Maximizing the ELBO over $\theta$ *and* $\phi$ together fits the decoder and the encoder at once.
#
# Our choices, as in pytorch/examples:
# - **encoder**: $q_\phi(z\mid x) = \mathcal N(\mu, \operatorname{diag}\sigma^2)$; the network outputs $\mu$ and
#   $\log\sigma^2$ ("logvar", any real number, so no positivity constraint is needed);
# - **decoder**: each of the 784 pixels is Bernoulli with mean $\operatorname{sigmoid}(\ell_j(z))$, so
#   $-\log p_\theta(x\mid z) = \sum_j \mathrm{BCE}(\ell_j, x_j)$, the binary cross-entropy summed over pixels.
#
# All logarithms here are natural, so $-\log p$ is measured in **nats** (奈特): an outcome of probability
# $p$ costs $-\ln p$ nats, and 1 nat $= 1/\ln 2 \approx 1.443$ bits (the unit of $\log_2$). A loss of
# 100 nats per image says the model gives the image a probability (density) of $e^{-100}$.
#
# MNIST pixels are grey levels in $[0, 1]$, not bits. Using the Bernoulli formula on them is the
# pytorch/examples convention that the numbers below follow; it is not a normalized density over
# grey levels, so these nats compare models *on this data*, not with papers on binarized MNIST.
# (Section 10 shows the other common choice, a Gaussian decoder, and converts nats to bits per pixel.)

# %% [markdown]
# ## 3. Exercise 3.1 · The reparameterization trick · 重参数化技巧
#
# The reconstruction term is an expectation over $z\sim q_\phi(z\mid x)$, estimated with one sample per
# image. Sampling is not differentiable in $\mu$ and $\sigma$, but this is:
#
# $$z = \mu + \sigma\odot\varepsilon,\qquad \varepsilon\sim\mathcal N(0, I),\qquad \sigma = \exp(\tfrac12\log\sigma^2).$$
#
# The randomness now sits in $\varepsilon$, which does not depend on the parameters, so
# $\partial z/\partial\mu = 1$ and $\partial z/\partial\log\sigma^2 = \tfrac12\sigma\varepsilon$, and gradients flow
# from the decoder back into the encoder.
#
# **Exercise 3.1.** Write `reparameterize(mu, logvar)`: two tensors `[B, d]` in, one sample `z` `[B, d]` out.

# %%
import torch


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I): [B, d], [B, d] -> [B, d]."""
    # Hint: logvar is the log of the VARIANCE; torch.randn_like(mu) draws eps.
    # BEGIN SOLUTION (Exercise 3.1: reparameterization)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn_like(std)
    return mu + std * eps
    # END SOLUTION


# %%
from aigc_course.checks.vae import check_reparameterize

reparameterize = check_reparameterize(reparameterize)

# %% [markdown]
# **Does the trick give the right gradient?** Take $f(z) = z^2 + \sin z$ and one Gaussian $z\sim\mathcal N(\mu,\sigma^2)$.
# Its expectation has a closed form, $\mathbb E[f(z)] = \mu^2+\sigma^2 + \sin(\mu)\,e^{-\sigma^2/2}$, so autograd can
# differentiate it exactly. The reparameterized estimate averages $\nabla f(\mu+\sigma\varepsilon)$ over samples:

# %%
from aigc_course.config import seed_everything

seed_everything(0)
mu0 = torch.tensor([[0.7]], dtype=torch.float64, requires_grad=True)
logvar0 = torch.tensor([[-0.5]], dtype=torch.float64, requires_grad=True)
var0 = logvar0.exp()
exact = torch.autograd.grad(mu0**2 + var0 + torch.sin(mu0) * torch.exp(-var0 / 2), (mu0, logvar0))
print(f"exact gradient of E[f(z)]: d/dmu = {exact[0].item():+.4f}, d/dlogvar = {exact[1].item():+.4f}")
for n in (10, 1_000, 100_000):
    z = reparameterize(mu0.expand(n, 1), logvar0.expand(n, 1))
    estimate = torch.autograd.grad((z**2 + torch.sin(z)).mean(), (mu0, logvar0))
    print(f"reparameterized estimate, {n:>7,} samples: d/dmu = {estimate[0].item():+.4f}, "
          f"d/dlogvar = {estimate[1].item():+.4f}")

# %% [markdown]
# The estimate is unbiased and its error shrinks like $1/\sqrt{n}$. Training uses **one** sample per image:
# noisy, but averaged over a batch of 128 images and thousands of steps, that is enough.
#
# ## 4. Exercise 3.2 · The KL divergence of two Gaussians · KL散度
#
# For one dimension, $\mathrm{KL}(\mathcal N(\mu,\sigma^2)\,\|\,\mathcal N(0,1)) = \mathbb E_q[\log q(z) - \log p(z)]
# = \tfrac12(\mu^2 + \sigma^2 - 1 - \log\sigma^2)$: expand both log-densities, use $\mathbb E_q[z^2]=\mu^2+\sigma^2$
# and $\mathbb E_q[(z-\mu)^2]=\sigma^2$. The dimensions of a diagonal Gaussian are independent, so the KLs add up.
#
# **Exercise 3.2.** Write `gaussian_kl(mu, logvar)`: `[B, d]` in, the KL of each example `[B]` out.

# %%
def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example: [B, d], [B, d] -> [B]."""
    # Hint: 0.5 * (mu^2 + exp(logvar) - 1 - logvar), summed over the latent dimension.
    # BEGIN SOLUTION (Exercise 3.2: Gaussian KL)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
    # END SOLUTION


# %%
from aigc_course.checks.vae import check_gaussian_kl

gaussian_kl = check_gaussian_kl(gaussian_kl)

# %% [markdown]
# Three ways to the same number, for three Gaussians in 20 dimensions: the closed form, PyTorch's
# `torch.distributions.kl_divergence`, and a Monte Carlo average of $\log q(z) - \log p(z)$ over samples of $q$
# (shown with its standard error).

# %%
from torch.distributions import Normal, kl_divergence

seed_everything(1)
mu_demo, logvar_demo = torch.randn(3, 20), torch.randn(3, 20)
closed = gaussian_kl(mu_demo, logvar_demo)
library = kl_divergence(Normal(mu_demo, torch.exp(0.5 * logvar_demo)), Normal(0.0, 1.0)).sum(dim=1)
q_demo = Normal(mu_demo, torch.exp(0.5 * logvar_demo))
z_demo = q_demo.sample((100_000,))
log_ratio = (q_demo.log_prob(z_demo) - Normal(0.0, 1.0).log_prob(z_demo)).sum(-1)
for i in range(3):
    print(f"Gaussian {i}: closed form {closed[i]:8.4f} | torch.distributions {library[i]:8.4f} | "
          f"Monte Carlo {log_ratio[:, i].mean():8.4f} ± {log_ratio[:, i].std() / 100_000**0.5:.4f}")

# %% [markdown]
# ## 5. Exercise 3.3 · The VAE loss · 损失函数
#
# Put the pieces together. For a batch of $B$ images, with decoder **logits** $\ell$ (the values before the
# sigmoid):
#
# $$\text{reconstruction} = \frac1B\sum_{i=1}^B\sum_{j=1}^{784}\mathrm{BCE}(\ell_{ij}, x_{ij}),\qquad
# \text{kl} = \frac1B\sum_{i=1}^B \mathrm{KL}_i,\qquad \text{loss} = \text{reconstruction} + \beta\cdot\text{kl}.$$
#
# Summed over pixels and latent dimensions, averaged over the batch: the loss is **nats per image**,
# and with $\beta = 1$ it is the negative ELBO. ($\beta\neq1$ is the $\beta$-VAE of Section 13.) Compute the BCE from
# logits with `binary_cross_entropy_with_logits`: a confident decoder has $\operatorname{sigmoid}(\ell)$ round to
# exactly 0 or 1 in float32, and a hand-written $\log$ of it gives $-\infty$.
#
# **Exercise 3.3.** Write `vae_loss(logits, x, mu, logvar, beta=1.0)` returning `(loss, reconstruction, kl)`,
# three scalar tensors (use your `gaussian_kl`).

# %%
import torch.nn.functional as F


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Negative ELBO per image: logits, x [B, 1, 28, 28]; mu, logvar [B, d] -> (loss, reconstruction, kl)."""
    # Hint: F.binary_cross_entropy_with_logits(logits, x, reduction="none") is [B, 1, 28, 28];
    # sum each image's pixels (.flatten(1).sum(1)), then average over the batch.
    # BEGIN SOLUTION (Exercise 3.3: the VAE loss)
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return reconstruction + beta * kl, reconstruction, kl
    # END SOLUTION


# %%
from aigc_course.checks.vae import check_vae_loss

vae_loss = check_vae_loss(vae_loss)

# %% [markdown]
# ## 6. Data and the two models · 数据与模型
#
# The same data path for both models: MNIST's uint8 images scaled to $[0, 1]$ (`images_to_unit`, what
# pytorch/examples' `ToTensor` does), shuffled mini-batches of 128.
#
# - **The pytorch/examples MLP** (`MLPVAE`): 784 → 400 → ($\mu$, $\log\sigma^2$) in $\mathbb R^{20}$ → 400 → 784, the
#   reference everyone can reproduce.
# - **The convolutional VAE** (`ConvVAE`), the chapter's main model: two strided 4×4 convolutions
#   (28 → 14 → 7 pixels, 16 and 32 channels) and a 256-unit layer in the encoder; the mirror image with
#   transposed convolutions in the decoder; SiLU activations, $x\cdot\operatorname{sigmoid}(x)$, a smooth
#   variant of ReLU. Convolutions share weights across positions,
#   which suits images; the channel counts are small so that it trains in minutes on a laptop CPU.

# %%
from aigc_course.config import budget, get_device, is_fast_mode
from aigc_course.data import images_to_unit, load_mnist
from aigc_course.vae import LATENT_DIM, ConvVAE, MLPVAE

BUDGET = budget("vae")
device = get_device()
train_u8, train_labels = load_mnist("train")
test_u8, test_labels = load_mnist("test")
if BUDGET.train_subset is not None:
    train_u8, train_labels = train_u8[:BUDGET.train_subset], train_labels[:BUDGET.train_subset]
if BUDGET.test_subset is not None:
    test_u8, test_labels = test_u8[:BUDGET.test_subset], test_labels[:BUDGET.test_subset]
train_x = images_to_unit(train_u8).unsqueeze(1)   # [N, 1, 28, 28] in [0, 1]
test_x = images_to_unit(test_u8).unsqueeze(1)
print(f"training images {tuple(train_x.shape)}, test images {tuple(test_x.shape)}, device {device}"
      + (" (fast mode: small budget)" if is_fast_mode() else ""))

seed_everything(0)
step_vae = ConvVAE().to(device)   # latent size from the model's default: LATENT_DIM
step_mlp = MLPVAE().to(device)
print(f"latent dimensions: {LATENT_DIM}")
for name, model in (("ConvVAE", step_vae), ("MLPVAE", step_mlp)):
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters")
print(step_vae)

# %% [markdown]
# **One joint training step, line by line**, with your three functions. The encoder gives $\mu$ and
# $\log\sigma^2$, the trick gives $z$, the decoder gives logits, the loss is the negative ELBO, and **one**
# backward pass fills the gradients of the decoder *and* the encoder; one optimizer holds all parameters.

# %%
x_batch = train_x[:128].to(device)
optimizer = torch.optim.Adam(step_vae.parameters(), lr=1e-3)   # one optimizer, both networks

mu, logvar = step_vae.encode(x_batch)            # q(z|x) = N(mu, diag(exp(logvar)))
z = reparameterize(mu, logvar)                   # z ~ q(z|x), differentiable in mu and logvar
logits = step_vae.decode(z)                      # p(x|z): Bernoulli logits per pixel
loss, reconstruction, kl = vae_loss(logits, x_batch, mu, logvar)
optimizer.zero_grad()
loss.backward()
grad_norm = {part: torch.norm(torch.stack([p.grad.norm() for p in getattr(step_vae, part).parameters()])).item()
             for part in ("encoder", "decoder")}
optimizer.step()
print(f"negative ELBO {loss.item():.1f} nats/image = reconstruction {reconstruction.item():.1f} + KL {kl.item():.3f}")
print(f"gradient norms after one backward pass: encoder {grad_norm['encoder']:.3g}, decoder {grad_norm['decoder']:.3g}")

# %% [markdown]
# `train_vae` repeats exactly these lines over mini-batches; here is its inner step, from the package:

# %%
import inspect

from aigc_course.vae import losses as vae_module

print(inspect.getsource(vae_module.forward_loss))

# %% [markdown]
# ## 7. Training the convolutional VAE · 训练
#
# The pytorch/examples recipe: Adam at a constant learning rate of $10^{-3}$, batches of 128, the whole
# training set each epoch; the test-set negative ELBO is measured after every epoch (one $z$ sample per
# image, seeded). The timer counts training steps only; the README lists the measured run times.
#
# *Tip:* if the progress bar crawls because other programs keep the CPU busy, try `torch.set_num_threads(1)`:
# PyTorch's threads wait for one another, so when the cores are taken by other work, more threads can be
# slower than one.

# %%
from aigc_course.vae import checkpoint_path, evaluate, save_vae, train_vae

seed_everything(0)
conv_vae = ConvVAE()
conv_history = train_vae(conv_vae, train_x, epochs=BUDGET.epochs, lr=1e-3, eval_images=test_x, device=device, seed=0)
conv_result = evaluate(conv_vae, test_x)
conv_seconds = conv_history["train/seconds"][-1]
print(f"ConvVAE: {BUDGET.epochs} epochs in {conv_seconds:.0f} s of training "
      f"({torch.get_num_threads()} CPU threads, device {device})")
print(f"test negative ELBO {conv_result['loss']:.2f} nats/image = reconstruction "
      f"{conv_result['reconstruction']:.2f} + KL {conv_result['kl']:.2f}")
conv_path = save_vae(conv_vae, checkpoint_path("vae_conv"), test_loss=conv_result["loss"], epochs=BUDGET.epochs,
                     seconds=conv_seconds)
print(f"saved for chapter 06: {conv_path}")

# %% [markdown]
# The curves: per training step (smoothed) the two terms apart, and per epoch the training and test
# negative ELBO. The reconstruction term falls steeply while the KL term *rises*: the encoder starts near
# the prior (KL ≈ 0, codes carry no information) and learns to spend nats of KL on information about $x$
# that buys a larger drop in reconstruction cost.

# %%
import matplotlib.pyplot as plt

from aigc_course.vae import training_curves_figure

training_curves_figure(conv_history, "ConvVAE: negative ELBO per epoch")
plt.show()

# %% [markdown]
# ## 8. The pytorch/examples MLP, side by side
#
# The reference model with the same recipe and the same tensors: `MLPVAE` with 400 hidden units and a 20-d
# latent, Adam at $10^{-3}$, batch 128, for the 10 epochs of the pytorch/examples run. Only the architecture
# and the number of epochs differ.

# %%
seed_everything(0)
mlp_vae = MLPVAE()
mlp_history = train_vae(mlp_vae, train_x, epochs=BUDGET.mlp_epochs, lr=1e-3, eval_images=test_x, device=device, seed=0)
mlp_result = evaluate(mlp_vae, test_x)
mlp_seconds = mlp_history["train/seconds"][-1]
training_curves_figure(mlp_history, "MLPVAE: negative ELBO per epoch")
plt.show()

rows = [("ConvVAE (main)", conv_vae, BUDGET.epochs, conv_seconds, conv_result),
        ("MLPVAE (pytorch/examples)", mlp_vae, BUDGET.mlp_epochs, mlp_seconds, mlp_result)]
print(f"{'model':27s} {'parameters':>10s} {'epochs':>6s} {'train s':>8s} {'test -ELBO':>10s} {'recon':>7s} {'KL':>6s}")
for name, model, epochs, seconds, result in rows:
    print(f"{name:27s} {sum(p.numel() for p in model.parameters()):>10,} {epochs:>6d} {seconds:>8.0f} "
          f"{result['loss']:>10.2f} {result['reconstruction']:>7.2f} {result['kl']:>6.2f}")

# %% [markdown]
# ## 9. Reconstructions and new samples · 重建与生成
#
# Top: test digits. Then each model's reconstruction $\operatorname{sigmoid}(\text{decoder}(\mu(x)))$ (the decoder's
# pixel means at the posterior mean). Below: **new digits**, $z\sim\mathcal N(0, I)$ decoded, the same 32 codes
# for both models. The encoder is not used at all to generate: this is why the KL term matters.

# %%
from aigc_course.plotting import show_images
from aigc_course.vae import reconstruct, sample_prior

shown = test_x[:16]
fig, axes = plt.subplots(3, 1, figsize=(10, 2.6))
show_images(shown, nrow=16, ax=axes[0], title="test digits")
show_images(reconstruct(conv_vae, shown), nrow=16, ax=axes[1], title="ConvVAE reconstructions")
show_images(reconstruct(mlp_vae, shown), nrow=16, ax=axes[2], title="MLPVAE reconstructions")
fig.tight_layout()
plt.show()

fig, axes = plt.subplots(1, 2, figsize=(11, 3.0))
show_images(sample_prior(conv_vae, 32, seed=0), nrow=8, ax=axes[0], title="ConvVAE: samples z ~ N(0, I)")
show_images(sample_prior(mlp_vae, 32, seed=0), nrow=8, ax=axes[1], title="MLPVAE: samples z ~ N(0, I)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Why VAE samples look blurry · 为什么VAE的样本模糊
#
# What we show as a "sample" is the decoder's **mean** $\operatorname{sigmoid}(\ell(z))$: for each pixel, the
# probability of ink, averaged over every image the decoder finds likely for that $z$. Two things make that
# an average over several different digits, and an average of different strokes is a grey smear (the
# lesson of chapter 00's mean digits):
# - the decoder's pixels are **independent** given $z$. It cannot say "a stroke here *or* a stroke
#   there"; when $z$ does not settle where the stroke goes, the loss is lowest for grey in both places;
# - the KL term makes the posteriors $q(z\mid x)$ of different images **overlap**, so one $z$ is decoded
#   for a mixture of training images.
#
# Drawing each pixel from its Bernoulli instead does not help: the pixels are drawn independently, so
# the result is speckled, not sharp. The cell measures it: among the pixels with some ink ($> 0.1$),
# the share that is grey ($0.1$ to $0.9$) in test digits, in reconstructions and in prior samples.

# %%
def grey_share(images: torch.Tensor) -> float:
    """Share of inked pixels (> 0.1) that are grey (below 0.9)."""
    inked = images > 0.1
    return float((inked & (images < 0.9)).sum() / inked.sum())


blur_sets = {"test digits": test_x[:1000], "ConvVAE reconstructions": reconstruct(conv_vae, test_x[:1000]),
             "ConvVAE prior samples (means)": sample_prior(conv_vae, 1000, seed=0)}
for name, images in blur_sets.items():
    print(f"{name:30s}: {100 * grey_share(images):5.1f}% of inked pixels are grey")
bernoulli_draws = torch.bernoulli(sample_prior(conv_vae, 16, seed=0), generator=torch.Generator().manual_seed(0))
show_images(bernoulli_draws, nrow=16, title="ConvVAE: the same kind of samples with every pixel drawn from its Bernoulli");

# %% [markdown]
# ## 10. How loose is the bound? The importance-weighted estimate of $-\log p(x)$
#
# The test loss above is $-\mathrm{ELBO}$, an *upper* bound on $-\log p(x)$. Using $k$ samples $z_i\sim q(z\mid x)$
# as importance samples gives a tighter one (Burda et al. 2016):
#
# $$-\log p(x) \;\le\; -\,\mathbb E\left[\log \frac1k\sum_{i=1}^k \frac{p(x\mid z_i)\,p(z_i)}{q(z_i\mid x)}\right]
# \;\le\; -\mathrm{ELBO}(x),$$
#
# equal to $-\mathrm{ELBO}$ at $k=1$ and falling to $-\log p(x)$ as $k\to\infty$. The drop from $k=1$ to large $k$
# measures how far $q(z\mid x)$ is from the true posterior. (The "−ELBO" column is the test loss on the same
# images, KL in closed form; $k = 1$ estimates the same number with a sampled KL, so the two differ only by noise.)

# %%
from aigc_course.training import progress

from aigc_course.vae import importance_weighted_nll

iw_x = test_x[:BUDGET.iwae_images]
ks = sorted({1, 10, BUDGET.iwae_k})
iwae, iw_elbo = {}, {}
for name, model in progress([("ConvVAE", conv_vae), ("MLPVAE", mlp_vae)], desc="importance sampling"):
    iw_elbo[name] = evaluate(model, iw_x)["loss"]
    for k in ks:
        iwae[name, k] = importance_weighted_nll(model, iw_x, k=k, batch_size=max(1, 4000 // k), seed=0).mean().item()
print(f"mean over the first {len(iw_x)} test images, nats per image")
print(f"{'model':10s}{'-ELBO':>10s}" + "".join(f"{'k = ' + str(k):>12s}" for k in ks))
for name in ("ConvVAE", "MLPVAE"):
    print(f"{name:10s}{iw_elbo[name]:10.2f}" + "".join(f"{iwae[name, k]:12.2f}" for k in ks))

# %% [markdown]
# ### The Gaussian decoder, $\sigma^2$ as $\beta$, and bits per dimension · 高斯解码器
#
# The other common decoder is a Gaussian with a fixed variance, $p_\theta(x\mid z) = \mathcal N(x;\, m_\theta(z),\, \sigma^2 I)$
# over the $D = 784$ pixels:
#
# $$-\log p_\theta(x\mid z) = \frac{\lVert x - m_\theta(z)\rVert^2}{2\sigma^2} + \frac D2 \log(2\pi\sigma^2).$$
#
# The second term does not depend on the networks, so the negative ELBO is, up to a constant,
# $\frac{1}{2\sigma^2}\big(\lVert x - m\rVert^2 + 2\sigma^2\,\mathrm{KL}\big)$: the same optimum as a squared-error loss
# with $\beta = 2\sigma^2$. A small $\sigma^2$ is a small $\beta$ (sharp reconstructions, codes that stray
# from the prior), a large one a large $\beta$. "VAE with MSE loss" code that forgets the factor is a
# $\beta$-VAE with a $\beta$ nobody chose. The cell checks the identity on gradients: for a batch of test
# images, the gradient of the Gaussian $-\mathrm{ELBO}$ times $2\sigma^2$ equals the gradient of
# squared error $+\, 2\sigma^2\,\mathrm{KL}$.
#
# **Bits per dimension** (每维比特数) divide a negative log-likelihood in nats by $D \ln 2$: bits per pixel,
# a number that compares images of different sizes. Papers report it for models of *discrete* pixels;
# our Bernoulli-on-grey-levels nats are not such a likelihood (Section 2), so the conversion below is
# for reading our numbers, not for comparing them with published ones.

# %%
from aigc_course.vae import bits_per_dimension, gaussian_decoder_nll

x_g = test_x[:64].to(device)
with torch.no_grad():
    mu_g, logvar_g = conv_vae.encode(x_g)
    mean_g = torch.sigmoid(conv_vae.decode(mu_g))
for variance in (0.01, 0.1, 1.0):
    parts = [t.clone().requires_grad_(True) for t in (mean_g, mu_g, logvar_g)]
    kl_g = gaussian_kl(parts[1], parts[2]).mean()
    gauss = torch.autograd.grad(gaussian_decoder_nll(x_g, parts[0], variance).mean() + kl_g, parts, retain_graph=True)
    mse = torch.autograd.grad((x_g - parts[0]).pow(2).flatten(1).sum(1).mean() + 2 * variance * kl_g, parts)
    gap = max(float((2 * variance * a - b).abs().max()) for a, b in zip(gauss, mse))
    print(f"sigma^2 = {variance:<4g} (beta = {2 * variance:g}): largest gradient difference {gap:.1e}")
for name, result in (("ConvVAE", conv_result), ("MLPVAE", mlp_result)):
    print(f"{name}: test -ELBO {result['loss']:.2f} nats/image = {bits_per_dimension(result['loss']):.4f} bits/pixel; "
          f"IW estimate (k = {ks[-1]}) {bits_per_dimension(iwae[name, ks[-1]]):.4f} bits/pixel")

# %% [markdown]
# ## 11. A 2-D latent space · 潜在空间
#
# With $d = 2$ we can look at the whole latent space. Below, an MLP VAE with a 2-D latent: left, the
# decoder's output on a grid of codes spaced by the prior's quantiles (the "manifold" figure of Kingma &
# Welling); right, the test set's posterior means $\mu(x)$ coloured by digit. Two numbers cannot hold
# everything about a digit, so the reconstructions are blurrier, but similar digits land near each other
# and the codes fill the prior's disc.

# %%
from aigc_course.vae import encode_mean, latent_manifold, plot_latent_codes

seed_everything(0)
vae_2d = MLPVAE(latent_dim=2)
history_2d = train_vae(vae_2d, train_x, epochs=BUDGET.latent2d_epochs, eval_images=test_x, device=device, seed=0)
result_2d = evaluate(vae_2d, test_x)
print(f"2-D MLPVAE after {BUDGET.latent2d_epochs} epochs: test negative ELBO {result_2d['loss']:.2f} "
      f"(reconstruction {result_2d['reconstruction']:.2f} + KL {result_2d['kl']:.2f})")
codes_2d = encode_mean(vae_2d, test_x)[0]
grid_images, grid = latent_manifold(vae_2d, n=15)
fig, axes = plt.subplots(1, 2, figsize=(12, 5.6))
show_images(grid_images, nrow=15, ax=axes[0],
            title=f"decoded grid, z from {grid.min():.2f} to {grid.max():.2f} on both axes")
plot_latent_codes(codes_2d, test_labels, ax=axes[1], title="test-set encodings mu(x)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Latent explorer.** Move the two sliders: the left panel is the digit the decoder draws at $(z_1, z_2)$,
# the cross on the right shows where that point lies among the encodings of real test digits.

# %%
from ipywidgets import FloatSlider, IntSlider, interact

from aigc_course.vae import latent_explorer_figure


def explore_latent(z1=0.0, z2=0.0):
    latent_explorer_figure(vae_2d, z1, z2, codes_2d, test_labels)
    plt.show()


interact(explore_latent, z1=FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1),
         z2=FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1));

# %% [markdown]
# ## 12. Interpolation between two digits · 插值
#
# Encode two test digits, walk along the straight line between their codes,
# $z_t = (1-t)\,\mu(x_a) + t\,\mu(x_b)$, and decode each point (main 20-d model). Because the KL term packs the
# codes into the prior's region, the points in between decode to plausible digits rather than to a
# cross-fade of two images.

# %%
from aigc_course.vae import interpolate, interpolation_figure

index_a = int((test_labels == 2).nonzero()[0])
index_b = int((test_labels == 7).nonzero()[0])
path = interpolate(conv_vae, test_x[index_a], test_x[index_b], steps=12)
pixel_fade = torch.stack([(1 - t) * test_x[index_a] + t * test_x[index_b] for t in torch.linspace(0, 1, 12)])
fig, axes = plt.subplots(2, 1, figsize=(10, 2.2))
show_images(path, nrow=12, ax=axes[0], title=f"decoded along the latent line: test #{index_a} (a 2) to test #{index_b} (a 7)")
show_images(pixel_fade, nrow=12, ax=axes[1], title="for comparison: the same steps mixing the pixels directly")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Interpolation slider.** Pick any two test images by index and slide $t$ from 0 to 1.

# %%
def explore_interpolation(index_a=index_a, index_b=index_b, t=0.5):
    interpolation_figure(conv_vae, test_x[index_a], test_x[index_b], t)
    plt.show()


interact(explore_interpolation, index_a=IntSlider(value=index_a, min=0, max=len(test_x) - 1),
         index_b=IntSlider(value=index_b, min=0, max=len(test_x) - 1),
         t=FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05));

# %% [markdown]
# ## 13. The $\beta$ trade-off · β-VAE
#
# Multiply the KL term by $\beta$. With $\beta < 1$ the encoder may spend more nats on information about $x$
# (sharper reconstructions, codes that stray from the prior, worse samples); with $\beta > 1$ codes are pushed
# towards the prior (blurrier reconstructions, and some latent units switch off entirely). Only $\beta = 1$
# optimizes the bound on $\log p(x)$, so every model is *scored* with $\beta = 1$. Each point below is an
# MLP VAE trained with its own $\beta$, the same epochs and seed.

# %%
beta_models, beta_results, beta_seconds = {}, {}, {}
for beta in progress(BUDGET.betas, desc="beta sweep"):
    seed_everything(0)
    model = MLPVAE()
    history = train_vae(model, train_x, epochs=BUDGET.beta_epochs, beta=beta, device=device, seed=0, progress=False)
    beta_models[beta], beta_results[beta] = model, evaluate(model, test_x)
    beta_seconds[beta] = history["train/seconds"][-1]

# %%
from aigc_course.vae import beta_sweep_figure, prior_samples_figure

beta_sweep_figure(beta_results)
plt.show()
prior_samples_figure({f"β = {beta:g}": beta_models[beta] for beta in BUDGET.betas})
plt.show()
for beta in BUDGET.betas:
    r = beta_results[beta]
    print(f"beta = {beta:>5g}: reconstruction {r['reconstruction']:7.2f}  KL {r['kl']:6.2f}  negative ELBO {r['loss']:7.2f}")

# %% [markdown]
# ### From autoencoder to VAE: $\beta = 0$ · 从自编码器到变分自编码器
#
# Set $\beta = 0$ and the loss is reconstruction alone: an **autoencoder** (自编码器). Its encoder may
# still output a $\sigma$, but nothing stops it from shrinking $\sigma$ towards 0 and putting each digit's
# code wherever reconstruction is easiest, so nothing makes the codes look like draws from
# $\mathcal N(0, I)$, and the decoder never learns what to do with most of the points the prior
# produces. The KL term is what turns the autoencoder into a VAE: every code becomes a distribution,
# pulled towards the prior, and the decoder is trained on the region the prior samples from.
#
# Measured: an MLP with $\beta = 0$, everything else as the $\beta = 1$ model above (epochs, seed,
# batches). Both decode the same codes $z \sim \mathcal N(0, I)$, and the evaluation classifier of
# chapter 05 judges the results: its **confidence** (the mean of $\max_y p(y\mid x)$) and the
# Inception-style score (IS, 10 at most for ten classes), with the same numbers for real test digits as
# a reference. The spread of the codes $\mu(x)$ of the test set shows how far each model's codes are from
# the prior's (a standard deviation of 1 per dimension).

# %%
from aigc_course.evaluation import class_probabilities, inception_score, load_or_train_classifier
from aigc_course.vae import encode_mean

seed_everything(0)
autoencoder = MLPVAE()
train_vae(autoencoder, train_x, epochs=BUDGET.beta_epochs, beta=0.0, device=device, seed=0, progress=False)
ae_result = evaluate(autoencoder, test_x)
judge = load_or_train_classifier(BUDGET.classifier_subset, BUDGET.classifier_epochs, device=device)
judged = {"test digits": test_x[:BUDGET.prior_samples],
          "beta = 0 (autoencoder), prior": sample_prior(autoencoder, BUDGET.prior_samples, seed=1),
          "beta = 1 (VAE), prior": sample_prior(beta_models[1.0], BUDGET.prior_samples, seed=1)}
judgement = {}
for name, images in judged.items():
    probs = class_probabilities(judge, images)
    judgement[name] = (float(probs.max(1).values.mean()), inception_score(probs))
    print(f"{name:31s}: classifier confidence {judgement[name][0]:.3f}, IS {judgement[name][1]:.2f}")
for name, model, result in (("beta = 0", autoencoder, ae_result), ("beta = 1", beta_models[1.0], beta_results[1.0])):
    codes, logvars = encode_mean(model, test_x)
    print(f"{name}: test reconstruction {result['reconstruction']:.2f} nats; codes mu(x): mean |mean| "
          f"{codes.mean(0).abs().mean():.2f}, mean std {codes.std(0).mean():.2f} per dimension (prior: 0 and 1); "
          f"encoder's sigma: median {logvars.mul(0.5).exp().median():.3f}")
prior_samples_figure({"beta = 0 (autoencoder)": autoencoder, "beta = 1 (VAE)": beta_models[1.0]}, n=36)
plt.show()

# %%
from IPython.display import Markdown, display

ae_conf, vae_conf = judgement["beta = 0 (autoencoder), prior"][0], judgement["beta = 1 (VAE), prior"][0]
ae_rec, vae_rec = ae_result["reconstruction"], beta_results[1.0]["reconstruction"]
display(Markdown(
    f"Measured in this run: the classifier is **{'less' if ae_conf < vae_conf else 'more'} confident** on the "
    f"autoencoder's prior samples ({ae_conf:.3f}) than on the VAE's ({vae_conf:.3f}); on real test digits it "
    f"reaches {judgement['test digits'][0]:.3f}. The autoencoder reconstructs test digits "
    f"{'better' if ae_rec < vae_rec else 'no better'} ({ae_rec:.1f} against {vae_rec:.1f} nats): "
    + ("what the KL term costs in reconstruction, it buys back in samples from the prior."
       if ae_rec < vae_rec and ae_conf < vae_conf else
       "this run does not show the usual trade-off (fast mode's few epochs can give any order).")))

# %% [markdown]
# ### The article's alternating training, measured · 交替训练的代价
#
# The errata of Section 1 say the article's alternating recipe (§3.2) throws gradients away. Here is
# what that costs at **equal compute**: the $\beta = 1$ MLP of the sweep again, with the same data,
# batches, seed, epochs and number of forward and backward passes; one thing differs: after each backward
# pass, `train_vae(..., update="alternating")` keeps only the encoder's gradients on even steps and only
# the decoder's on odd steps, so each network is updated on every other batch.

# %%
seed_everything(0)
alternating = MLPVAE()
alternating_history = train_vae(alternating, train_x, epochs=BUDGET.beta_epochs, device=device, seed=0,
                                progress=False, update="alternating")
alternating_result = evaluate(alternating, test_x)
schemes = {"joint (one loss, both updated)": (beta_results[1.0], beta_seconds[1.0]),
           "alternating (the article's §3.2)": (alternating_result, alternating_history["train/seconds"][-1])}
for name, (result, seconds) in schemes.items():
    print(f"{name:33s}: test -ELBO {result['loss']:7.2f} = reconstruction {result['reconstruction']:7.2f} "
          f"+ KL {result['kl']:5.2f} nats, {BUDGET.beta_epochs} epochs in {seconds:.0f} s")
alternating_cost = alternating_result["loss"] - beta_results[1.0]["loss"]
print(f"alternating minus joint: {alternating_cost:+.2f} nats per image on the test set")

# %% [markdown]
# ## 14. Posterior collapse: which latent units are used? · 后验坍塌
#
# A latent unit $z_k$ whose posterior mean does not change with $x$ tells the decoder nothing: its
# $q(z_k\mid x)$ sits on the prior, its KL is about 0, and the decoder learns to ignore it. The usual test
# (Burda et al. 2016) is the **activity** $A_k = \operatorname{Var}_x\big(\mathbb E_{q(z|x)}[z_k]\big)$; a unit is *active*
# when $A_k > 0.01$. When *all* units are inactive the VAE has **collapsed** to a model that ignores $z$.
# Below, for the main model and for each $\beta$: the activity of every unit (sorted) and the KL it costs.
# The threshold is a convention: a unit just above it may still carry almost nothing, which the KL per
# unit (right) shows in nats.

# %%
from aigc_course.vae import active_units, kl_per_dimension, latent_activity

diagnosed = {"ConvVAE": conv_vae, **{f"MLP β={b:g}": m for b, m in beta_models.items()}}
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
for name, model in diagnosed.items():
    activity = latent_activity(model, test_x)
    kl_dims = kl_per_dimension(model, test_x)
    order = torch.argsort(activity, descending=True)
    axes[0].semilogy(range(1, 21), activity[order].clamp_min(1e-6).numpy(), "o-", markersize=3,
                     label=f"{name}: {active_units(activity)} active")
    axes[1].plot(range(1, 21), kl_dims[order].numpy(), "o-", markersize=3, label=name)
axes[0].axhline(0.01, color="black", linestyle="--", linewidth=1)
axes[0].set_xlabel("latent unit (sorted by activity)")
axes[0].set_ylabel("activity Var_x(mu_k(x))")
axes[0].legend(fontsize=8)
axes[1].set_xlabel("latent unit (same order)")
for ax in axes:
    ax.set_xticks(range(1, 21))
axes[1].set_ylabel("KL per unit (nats)")
for ax in axes:
    ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
for name, model in diagnosed.items():
    print(f"{name:12s}: {active_units(latent_activity(model, test_x)):2d} of 20 units active")

# %% [markdown]
# ## 15. Closing note · 小结
#
# - The VAE's loss is the negative ELBO: reconstruction plus KL, in nats per image. The article's
#   §4.1.2 loss has no KL term (that is an autoencoder, Section 13) and §3.2's alternating training
#   belongs to GANs; encoder and decoder share one loss and are trained **jointly**.
# - The reparameterization trick makes the sampled $z$ differentiable; the Gaussian KL has a closed form;
#   both were checked against autograd, Monte Carlo and `torch.distributions`.
# - The numbers of this run (measured above, on this machine):

# %%
from IPython.display import Markdown, display

k_max = ks[-1]
display(Markdown("\n".join([
    f"| model | epochs | training time | test −ELBO (nats) | IW estimate of −log p(x), k = {k_max} |",
    "|---|---|---|---|---|",
    f"| ConvVAE (main, 20-d) | {BUDGET.epochs} | {conv_seconds:.0f} s | {conv_result['loss']:.2f} | {iwae['ConvVAE', k_max]:.2f} |",
    f"| MLPVAE (pytorch/examples) | {BUDGET.mlp_epochs} | {mlp_seconds:.0f} s | {mlp_result['loss']:.2f} | {iwae['MLPVAE', k_max]:.2f} |",
    f"| MLPVAE, joint training (β sweep, β = 1) | {BUDGET.beta_epochs} | {beta_seconds[1.0]:.0f} s | {beta_results[1.0]['loss']:.2f} | |",
    f"| MLPVAE, alternating training (§3.2) | {BUDGET.beta_epochs} | {alternating_history['train/seconds'][-1]:.0f} s | {alternating_result['loss']:.2f} | |",
    "",
    f"Classifier confidence on decoded prior samples: autoencoder (β = 0) {ae_conf:.3f}, VAE (β = 1) {vae_conf:.3f},"
    f" real test digits {judgement['test digits'][0]:.3f}. ConvVAE test −ELBO: {bits_per_dimension(conv_result['loss']):.4f} bits per pixel.",
    "",
    f"Test −ELBO on {len(test_x):,} test images; importance-weighted estimate on the first {len(iw_x):,}"
    f" ({torch.get_num_threads()} CPU threads, device {device}"
    + (", fast mode: small budget, far from converged)." if is_fast_mode() else ")."),
])))

# %% [markdown]
# The trained ConvVAE is saved in the course's data cache (`checkpoint_path("vae_conv")`); chapter 06 loads
# it to fill in missing pixels by optimizing the latent code.
#
# **Next:** [04 · Self-attention · 自注意力机制](04_self_attention.ipynb).
