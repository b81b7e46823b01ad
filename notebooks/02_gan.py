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
# # 02 · Generative adversarial networks · 生成对抗网络
#
# A **generative adversarial network (GAN, 生成对抗网络)** trains two networks against each other:
# a **generator (生成器)** $G$ turns random noise $z$ into samples, and a **discriminator (判别器)** $D$
# tries to tell real data from $G$'s output. This notebook covers the article's §3.1 and §4.1.1 with
# the mathematics made right and every claim checked by running it.
#
# **In this notebook:**
# 1. the objective: the two-player game $\min_G \max_D V(D, G)$ (the article gives only half of it);
# 2. the optimal discriminator $D^*$, derived and then checked by training a network on two known 1-D densities;
# 3. the losses, computed from logits (Exercises 2.1 and 2.2), and why the *non-saturating* generator loss trains;
# 4. one correct training step: *detach* the fakes for $D$, *freeze* $D$ for $G$ (Exercise 2.3);
# 5. what the article's §3.1 steps and §5 Keras code get wrong;
# 6. a 2-D playground: a ring of 8 Gaussians learned in seconds, the discriminator's decision surface
#    over training, a mode-coverage metric, and a run that suffers **mode collapse (模式崩溃)**;
# 7. why the original GAN's gradient vanishes when the distributions do not overlap, and a fix,
#    WGAN-GP, trained on the same ring.
#
# Chapter 05 trains a GAN on MNIST with the functions built here.

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

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from aigc_course.config import budget, get_device, is_fast_mode, seed_everything

BUDGET = budget("gan")
device = get_device()
print(f"budget ({'fast' if is_fast_mode() else 'full'} mode): {BUDGET}")
print(f"device: {device}")

# %% [markdown]
# ## 1. The two-player game · 二人博弈
#
# Noise $z \sim p(z)$ (here a standard normal) goes through the generator, $x' = G(z)$; the samples
# $x'$ have some distribution $p_g$. The discriminator outputs $D(x) \in (0, 1)$, its probability that
# $x$ is **real**. Both play one game with the **value function (价值函数)**
#
# $$V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{z \sim p(z)}[\log(1 - D(G(z)))],
# \qquad \min_G \max_D V(D, G).$$
#
# $D$ maximizes $V$: it wants $D(x) \to 1$ on real data and $D(G(z)) \to 0$ on fakes; $V$ is the
# log-likelihood of a real-vs-fake classifier. $G$ minimizes the *same* $V$: only the second term
# depends on $G$, and it falls when $D(G(z)) \to 1$, i.e. when the fakes fool $D$.
#
# > **⚠️ Errata · 勘误 (article §4.1.1).** The article states the training objective as
# > “GAN的训练目标是最大化判别器D的对数似然函数” ("the training objective of a GAN is to maximize the
# > discriminator's log-likelihood $\mathcal{L}(D)$"). That is only the inner half of the game: with no
# > term for the generator, nothing in the objective trains $G$. The objective is the min-max above:
# > $D$ maximizes $V(D, G)$ while $G$ *minimizes* it. (The article's "$D(x') = p(x' \sim x)$" means
# > $D(x')$ = the probability that $x'$ came from the data distribution rather than from $G$.)
#
# ## 2. The optimal discriminator · 最优判别器
#
# Fix $G$. Writing both expectations as integrals over $x$ (the second one by the density $p_g$ of $G(z)$),
#
# $$V(D, G) = \int p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x)) \, dx .$$
#
# The integrand can be maximized separately at every $x$: $a \log y + b \log(1 - y)$ has derivative
# $a/y - b/(1-y)$, zero at $y = a / (a + b)$, and is concave. So the best discriminator is
#
# $$D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} .$$
#
# Put it back in, with the mixture $m = (p_{data} + p_g)/2$:
#
# $$V(D^*, G) = \mathbb{E}_{p_{data}}\Big[\log \frac{p_{data}}{2m}\Big] + \mathbb{E}_{p_g}\Big[\log \frac{p_g}{2m}\Big]
# = -\log 4 + \mathrm{KL}(p_{data} \| m) + \mathrm{KL}(p_g \| m) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \| p_g).$$
#
# The **Jensen–Shannon divergence (JS散度)** is $\geq 0$, symmetric, and zero only when $p_g = p_{data}$, so
# against the best discriminator the generator minimizes a divergence between its distribution and the
# data's. It is a *divergence*, not a distance: it breaks the triangle inequality; its square root
# $\sqrt{\mathrm{JSD}}$ is a metric (Endres & Schindelin 2003). It is also bounded: $\mathrm{JSD} \leq \log 2$,
# reached as soon as the two distributions do not overlap, which Section 7 shows is a problem.
# At the optimum, $p_g = p_{data}$, $D^* = 1/2$ everywhere and $V = -\log 4$.
#
# **Check it.** Below, $p_{data}$ is a mixture of two Gaussians and $p_g$ a single broad Gaussian,
# both known in closed form. We keep "$G$" fixed (we sample $p_g$ directly), train a small network $D$
# with the discriminator loss of Section 3 on fresh samples of both, and compare it with the formula.
# **The tolerance, stated before we look:** where the mixture density $m(x) \geq 0.02$, the largest
# $|D - D^*|$ must be at most $0.05$, and the average error under $m$, $\int m\,|D - D^*|\,dx$, at most $0.01$.

# %%
from aigc_course.gan import (DSTAR_MAX_TOLERANCE, DSTAR_MEAN_TOLERANCE, DSTAR_SUPPORT_DENSITY,
                                   GaussianMixture1D, compare_with_optimum, plot_dstar, train_discriminator_1d)

p_data = GaussianMixture1D(weights=(0.5, 0.5), means=(-2.0, 1.5), stds=(0.5, 0.8))
p_g = GaussianMixture1D(weights=(1.0,), means=(0.0,), stds=(1.5,))
assert (DSTAR_SUPPORT_DENSITY, DSTAR_MAX_TOLERANCE, DSTAR_MEAN_TOLERANCE) == (0.02, 0.05, 0.01)  # as stated above

seed_everything(0)
start = time.perf_counter()
d_model, d_losses = train_discriminator_1d(p_data, p_g, steps=BUDGET.dstar_steps, batch_size=BUDGET.dstar_batch,
                                           seed=0, device=device)
dstar = compare_with_optimum(d_model, p_data, p_g)
print(f"trained for {BUDGET.dstar_steps} steps ({time.perf_counter() - start:.1f} s)")
print(f"max |D - D*| where m >= {DSTAR_SUPPORT_DENSITY}: {dstar.max_error:.4f}   (tolerance {DSTAR_MAX_TOLERANCE})")
print(f"mean |D - D*| under m:              {dstar.mean_error:.4f}   (tolerance {DSTAR_MEAN_TOLERANCE})")
print("within tolerance:", dstar.within_tolerance)
plot_dstar(dstar, p_data, p_g)
plt.show()

# %% [markdown]
# Where $p_{data}$ dominates, $D^* \to 1$; where $p_g$ dominates, $D^* \to 0$; where the two densities
# cross, $D^* = 1/2$. The trained network lands on the formula inside the shaded region; outside it
# there are almost no samples of either kind, and nothing pins $D$ down there.
#
# The value function, computed three ways (the first two by numerical integration on a fine grid):

# %%
print(f"V(D*, G)                  = {dstar.v_star:.5f}")
print(f"-log 4 + 2 JSD(p_data||p_g) = {-math.log(4) + 2 * dstar.jsd:.5f}   (JSD = {dstar.jsd:.5f} nats)")
print(f"V(trained D, G)           = {dstar.v_trained:.5f}   (<= V(D*, G): D* is the maximizer)")
print(f"-(mean D loss of the last 100 steps) = {-sum(d_losses[-100:]) / 100:.5f}   (a sampled estimate of V)")

# %% [markdown]
# ## 3. The losses, from logits · 损失函数
#
# Networks output a **logit (对数几率)** $\ell$ and $D = \sigma(\ell) = 1 / (1 + e^{-\ell})$. Never compute
# $\log \sigma(\ell)$ as `torch.log(torch.sigmoid(l))`: in float32, $e^{89}$ overflows, $\sigma(-89)$
# rounds to $0$ and its log is $-\infty$. Worse, $\log(1 - \sigma(\ell))$ breaks for quite ordinary logits:
# $\sigma(17)$ rounds to exactly 1. PyTorch's `F.binary_cross_entropy_with_logits(l, y)` computes
# $-[y \log \sigma(\ell) + (1-y)\log(1-\sigma(\ell))]$ directly from $\ell$ and stays accurate
# (exact values: $\log \sigma(\ell) \approx \ell$ for $\ell \ll 0$, $\log(1 - \sigma(\ell)) \approx -\ell$ for $\ell \gg 0$):

# %%
print(" logit | naive log(sigmoid(l)) | -BCE_with_logits(l, 1) | naive log(1 - sigmoid(l)) | -BCE_with_logits(l, 0)")
for value in (-120.0, -89.0, -88.0, 15.0, 17.0, 120.0):
    l = torch.tensor([value])
    print(f"{value:6.0f} | {torch.log(torch.sigmoid(l)).item():21.4f} | "
          f"{-F.binary_cross_entropy_with_logits(l, torch.ones(1)).item():22.4f} | "
          f"{torch.log(1 - torch.sigmoid(l)).item():25.4f} | {-F.binary_cross_entropy_with_logits(l, torch.zeros(1)).item():22.4f}")

# %% [markdown]
# **Exercise 2.1 · the discriminator loss.** Minimizing $L_D = -V$ maximizes $V$. On a batch of real
# logits $r_i$ ($B_r$ of them) and fake logits $f_j$ ($B_f$ of them, possibly a different number):
#
# $$L_D = \frac{1}{B_r}\sum_i -\log \sigma(r_i) \;+\; \frac{1}{B_f}\sum_j -\log(1 - \sigma(f_j)),$$
#
# each term a mean over its own batch, returned as a scalar tensor that gradients can flow through.
# The logits may have any shape (`[B]` or `[B, 1]`). It must be finite for logits of $\pm 100$.

# %%
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """L_D = mean -log sigmoid(real) + mean -log(1 - sigmoid(fake)); logits [B_r, ...] and [B_f, ...] -> scalar."""
    # Hint: -log sigmoid(l) is BCE-with-logits against the label 1; -log(1 - sigmoid(l)) against the label 0.
    raise NotImplementedError("Exercise 2.1: discriminator loss")


# %%
from aigc_course.checks.gan import check_discriminator_loss

discriminator_loss = check_discriminator_loss(discriminator_loss)
print("L_D when D(x) = 1/2 for every input:", discriminator_loss(torch.zeros(4), torch.zeros(4)).item(),
      " log 4 =", math.log(4))

# %% [markdown]
# **Exercise 2.2 · the generator loss.** The minimax game gives $G$ the loss
# $L_G^{\text{minimax}} = \frac{1}{B}\sum_j \log(1 - \sigma(f_j))$ (it *minimizes* $V$'s second term).
# Goodfellow et al. recommend instead the **non-saturating loss (非饱和损失)**
# $L_G = \frac{1}{B}\sum_j -\log \sigma(f_j)$: the same goal ($D(G(z)) \to 1$), different gradients.
# Write `generator_loss(fake_logits, saturating=False)` returning the non-saturating loss by default and
# the minimax loss when `saturating=True`; both must be finite for logits of $\pm 100$.

# %%
def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """Non-saturating mean -log D(G(z)) (default) or minimax mean log(1 - D(G(z))); logits [B, ...] -> scalar."""
    # Hint: both are +- a BCE-with-logits; which label, and which sign?
    raise NotImplementedError("Exercise 2.2: non-saturating generator loss")


# %%
from aigc_course.checks.gan import check_generator_loss

generator_loss = check_generator_loss(generator_loss)

# %% [markdown]
# **Why the non-saturating loss trains.** Differentiate both losses with respect to one fake's logit
# $\ell$, with $D = \sigma(\ell)$ and $\sigma' = \sigma(1 - \sigma)$:
#
# $$\frac{\partial}{\partial \ell} \log(1 - \sigma(\ell)) = -D, \qquad \frac{\partial}{\partial \ell}\big(-\log \sigma(\ell)\big) = -(1 - D).$$
#
# Early in training the fakes are poor and $D$ rejects them easily: $D(G(z)) \approx 0$. There the
# minimax gradient $-D$ **vanishes** (the loss *saturates*), while the non-saturating gradient is close
# to $-1$: the generator learns fastest exactly when it is worst. The plot is computed by autograd
# through `generator_loss`, not drawn from the formulas:

# %%
from aigc_course.gan import generator_logit_gradients
from aigc_course.gan import plot_generator_gradients

plot_generator_gradients()
plt.show()
probe = generator_logit_gradients(torch.tensor([0.001, 0.5, 0.999], dtype=torch.float64))
for i, d in enumerate((0.001, 0.5, 0.999)):
    print(f"D(G(z)) = {d}: |grad| minimax = {probe['saturating'][i].abs().item():.4f}, "
          f"non-saturating = {probe['non-saturating'][i].abs().item():.4f}")

# %% [markdown]
# ## 4. One correct training step · 正确的训练步骤
#
# Each step updates both networks once, each with its own optimizer:
#
# 1. **D-step.** $L_D$ on $D(\text{real})$ and $D(\text{fake})$ with `fake = G(noise).detach()`. The
#    detach cuts the graph at $G$'s output: $L_D$'s gradient stops there, so $G$'s parameters get no
#    gradient from a loss that is not theirs. Only `d_optimizer` steps.
# 2. **G-step.** $L_G$ on $D(G(\text{noise}))$ with the *updated* $D$ and the same noise. The gradient
#    must flow *through* $D$ (that is how $G$ learns what $D$ finds real), but $D$'s parameters are
#    **frozen** (`requires_grad_(False)`) for the duration, so no gradient lands in them; unfreeze
#    afterwards. Only `g_optimizer` steps.
#
# **Exercise 2.3.** Write `gan_training_step(generator, discriminator, g_optimizer, d_optimizer, real,
# noise, saturating=False)`: first the D-step, then the G-step, exactly as above, using your
# `discriminator_loss` and `generator_loss`; return `StepLosses(discriminator=L_D, generator=L_G)` as
# Python floats (the D loss before D's update, the G loss with the updated D). The check instruments
# both optimizers: when `d_optimizer` steps, $G$ must hold no gradient; when `g_optimizer` steps, no
# new gradient may sit in $D$; and after two steps with SGD and Adam, both networks' parameters must
# equal the reference's.

# %%
import torch.nn as nn

from aigc_course.gan import StepLosses


def gan_training_step(generator: nn.Module, discriminator: nn.Module, g_optimizer: torch.optim.Optimizer,
                      d_optimizer: torch.optim.Optimizer, real: torch.Tensor, noise: torch.Tensor,
                      saturating: bool = False) -> StepLosses:
    """Update D on real [B, ...] and detached fakes G(noise), then G through a frozen D; return both losses."""
    # Hint: optimizer.zero_grad() before each backward; `for p in discriminator.parameters(): p.requires_grad_(False)`.
    raise NotImplementedError("Exercise 2.3: one GAN training step with correct detach/freeze")


# %%
from aigc_course.checks.gan import check_gan_training_step

gan_training_step = check_gan_training_step(gan_training_step)

# %% [markdown]
# The package also offers the two halves separately, `discriminator_step` and `generator_step`.
# Measure what each half does to the *other* network:

# %%
from aigc_course.gan import discriminator_step, generator_step
from aigc_course.gan import mlp


def flat(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


seed_everything(1)
G, D = mlp(2, 2, hidden=32, depth=2).to(device), mlp(2, 1, hidden=32, depth=2).to(device)
g_opt, d_opt = torch.optim.Adam(G.parameters(), lr=1e-3), torch.optim.Adam(D.parameters(), lr=1e-3)
real, noise = torch.randn(64, 2, device=device) + 2, torch.randn(64, 2, device=device)

g0, d0 = flat(G), flat(D)
discriminator_step(G, D, d_opt, real, noise)
print(f"D-step: D moved by {(flat(D) - d0).abs().max().item():.2e}, G moved by {(flat(G) - g0).abs().max().item():.1e}, "
      f"G holds gradients: {any(p.grad is not None for p in G.parameters())}")
g1, d1 = flat(G), flat(D)
d_grads = [p.grad.clone() for p in D.parameters()]
generator_step(G, D, g_opt, noise)
print(f"G-step: G moved by {(flat(G) - g1).abs().max().item():.2e}, D moved by {(flat(D) - d1).abs().max().item():.1e}, "
      f"D's gradients changed: {any(not torch.equal(p.grad, g) for p, g in zip(D.parameters(), d_grads))}, "
      f"D trainable again: {all(p.requires_grad for p in D.parameters())}")

# %% [markdown]
# ## 5. What the article gets wrong · 勘误
#
# > **⚠️ Errata · 勘误 (article §3.1).** The article's steps say
# > “判别器的目标是最大化对真实数据的分类准确率，同时最小化对生成数据的分类准确率” ("the discriminator's goal is
# > to maximize its accuracy on real data and *minimize* its accuracy on generated data"). A discriminator that
# > misclassifies the fakes is helping the generator; $D$ should classify **both** correctly (real → 1,
# > fake → 0), and it is trained on the log-likelihood $V$ (a cross-entropy), not on accuracy, which has
# > no gradient. The steps also leave out the two details that make training correct: in the D-step the
# > fakes are detached, and in the G-step the gradient flows *through* a discriminator whose parameters
# > are not updated (Section 4). Which network goes first within a step is a free choice; this course updates
# > $D$ first.
#
# > **⚠️ Errata · 勘误 (article §5, the Keras code).**
# > - **The generator is never trained to fool the discriminator.** `generator.train_on_batch(noise,
# >   np.ones((batch_size, 1)))` fits the generator *on its own*: its loss compares $G$'s pixels with
# >   the label 1, and $D$ is not involved at all (the target even has the shape of $D$'s verdicts,
# >   `(batch_size, 1)`, not of $G$'s images, `(batch_size, 28, 28, 1)`). For that loss the best generator
# >   outputs 1 everywhere, whatever $D$ thinks. The article builds the stacked model `gan = G then D` but
# >   never compiles or trains it. The correct Keras recipe sets `discriminator.trainable = False` *before*
# >   compiling `gan`, then calls `gan.train_on_batch(noise, np.ones((batch_size, 1)))`, so the loss is
# >   $D$'s verdict and only $G$'s weights move: the detach/freeze of Section 4.
# > - **Missing imports and undefined names:** `numpy as np`, `LeakyReLU`, `Dropout` and `Adam` are never
# >   imported, and `mnist_data.next_batch` does not exist in TensorFlow 2 (it was a TensorFlow 1
# >   tutorial helper). The code does not run as printed.
# > - **`from tensorflow_addons.layers import GaussianNoise`:** TensorFlow Addons has no such layer (it is
# >   `tf.keras.layers.GaussianNoise`), and the project is deprecated (end of life May 2024). §5.3 says
# >   “GaussianNoise层用于为输入噪声添加高斯噪声，以增加生成图像的多样性” ("the GaussianNoise layer adds Gaussian
# >   noise to the input noise, to increase the diversity of the generated images"), but the Keras layer is
# >   only active during training: at `generator.predict` time it does nothing. Diversity comes from $z$.
# > - **`for _ in range(batch_size)` inside `for epoch in range(epochs)`:** each "epoch" is 128 random
# >   batches, a number that has nothing to do with the data. An epoch is one pass over the 60,000
# >   training images (469 batches of 128). With `epochs = 10000` the loop makes 10,000 × 128 = 1.28 million
# >   iterations, each of three `train_on_batch` calls (D on real, D on fake, G), far more than the task needs.
# >
# > Chapter 05 builds the whole MNIST project correctly, in PyTorch.

# %% [markdown]
# ## 6. A 2-D playground · 二维实验
#
# Images are too slow to watch a GAN learn. In two dimensions we can *see* everything: the data is a
# ring of 8 Gaussians (radius 2, standard deviation σ = 0.1, equal weights), $G$ and $D$ are small
# multilayer perceptrons (3 hidden layers of 128 units, LeakyReLU), $z \in \mathbb{R}^2$ is standard
# normal, both use Adam (lr $10^{-3}$, β = (0.5, 0.999), decaying linearly to 0). On a CPU the
# playground (and the $D^*$ experiment above) runs with a single torch thread (`one_cpu_thread`).
#
# **The mode-coverage metric.** A generated sample is *high quality* when it lies within 3σ of the
# nearest mode centre; a mode is *covered* when at least 1% of all samples are high-quality samples of
# that mode. A perfect generator puts about 98.9% of its samples within 3σ (the next cell computes it), so
# about 12.4% per mode, not 12.5%. We score 5,000 samples. As a calibration, the metric on the real data itself:

# %%
from aigc_course.gan import GaussianRing, ToyGANConfig, mode_coverage, train_toy_gan

ring = GaussianRing(n_modes=8, radius=2.0, std=0.1)
real_coverage = mode_coverage(ring.sample(5000, torch.Generator().manual_seed(0)), ring)
print(f"real data: {real_coverage.modes_covered}/8 modes covered, {100 * real_coverage.high_quality_share:.1f}% "
      f"within 3σ (theory for a 2-D Gaussian: 1 - exp(-9/2) = {100 * (1 - math.exp(-4.5)):.1f}%)")
TARGET_MODES, TARGET_QUALITY = 7, 0.80

# %% [markdown]
# Train with your `gan_training_step` (the reference if your Exercise 2.3 did not pass). The figures
# show $G$'s samples (orange) over $D$'s decision surface (blue: $D(x) \to 1$, "real"; red: $D(x) \to 0$,
# "fake"); black circles are the modes' 3σ radii.

# %%
config = ToyGANConfig(steps=BUDGET.toy_steps, batch_size=BUDGET.toy_batch, seed=0)
seed_everything(config.seed)
run = train_toy_gan(ring, config, device=device, step=gan_training_step)
c = run.coverage
print(f"{config.steps} steps in {run.seconds:.1f} s on {device}: "
      f"{c.modes_covered}/8 modes covered, {100 * c.high_quality_share:.1f}% of samples within 3σ")
print("share of samples per mode:", [f"{100 * s:.1f}%" for s in c.mode_shares])

# %%
from aigc_course.gan import plot_gan_losses, snapshot_row, snapshots_figure

plot_gan_losses(run)
plt.show()
snapshot_row(run, 5, title="1 generator step per discriminator step")
plt.show()

# %% [markdown]
# Read the snapshots from left to right. At step 0, $G$ maps all noise to a small blob and $D$ knows
# nothing. Soon $D$ paints the region around $G$'s samples red and the modes blue, and $G$'s samples
# flow along $D$'s gradient towards the blue. Wherever $G$ puts too little mass, $D$ stays blue and keeps
# pulling; where it puts too much, $D$ turns red and pushes. As the samples come to match the data,
# the losses move towards their values at the equilibrium $D = 1/2$ (dotted lines): $\log 4$ for $D$
# and $\log 2$ for $G$'s non-saturating loss. They stay a little off it: the few samples left between
# the modes are easy for $D$ to reject. A GAN's losses do not fall to zero like a classifier's; they
# tell you whether the two players are balanced, not how good the samples are. That is what the
# coverage metric is for.
#
# ### Mode collapse · 模式崩溃
#
# Why does $D$ need to keep up? Against a **fixed** discriminator, the generator's best move is to put
# *all* its samples wherever $D$ is highest: a single point. The min-max game only works if $D$ reacts
# before $G$ gets there. Change **one thing**: let the generator take 5 steps for every discriminator
# step (`generator_steps=5`), everything else equal: the same number of discriminator steps, the same
# learning-rate schedule, networks, data and seed. The cell prints every setting that differs.

# %%
import dataclasses

collapse_config = dataclasses.replace(config, generator_steps=5)
print("settings that differ from the first run:", {f.name: (getattr(config, f.name), getattr(collapse_config, f.name))
      for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(collapse_config, f.name)})
seed_everything(collapse_config.seed)
collapsed = train_toy_gan(ring, collapse_config, device=device, step=gan_training_step)
cc = collapsed.coverage
print(f"{collapse_config.steps} discriminator steps (x5 generator steps) in {collapsed.seconds:.1f} s: "
      f"{cc.modes_covered}/8 modes covered, {100 * cc.high_quality_share:.1f}% of samples within 3σ")
snapshot_row(collapsed, 5, title="5 generator steps per discriminator step")
plt.show()

# %% [markdown]
# What does the generator do? Two numbers per snapshot describe it: the **spread** of $G$'s samples
# (the root-mean-square distance from their centre; the ring's own is about its radius, 2) with the
# position of that centre, and how far $D$'s surface is from "undecided", the mean of $|D(x) - 1/2|$ over
# the plotted square.

# %%
from IPython.display import Markdown, display


def describe(snapshot) -> tuple[float, list[float], float]:
    """RMS spread of G's samples, their centre, mean |D - 1/2| over the surface grid."""
    centre = snapshot.samples.mean(0)
    spread = float((snapshot.samples - centre).pow(2).sum(1).mean().sqrt())
    return spread, [round(float(c), 2) for c in centre], float((snapshot.surface - 0.5).abs().mean())


ring_points = ring.sample(5000, torch.Generator().manual_seed(1))
print(f"the ring's own spread: {float((ring_points - ring_points.mean(0)).pow(2).sum(1).mean().sqrt()):.2f}")
stats = {}
for name, r in (("1 G-step per D-step", run), ("5 G-steps per D-step", collapsed)):
    stats[name] = [describe(snap) for snap in r.snapshots[1:]]  # after the start
    for snap, (spread, centre, d_gap) in list(zip(r.snapshots[1:], stats[name]))[::6]:
        print(f"{name}, step {snap.step:5d}: spread {spread:.2f}, centre {centre}, mean |D - 1/2| {d_gap:.3f}, "
              f"{snap.coverage.modes_covered}/8 modes")
median = {name: sorted(values)[len(values) // 2] for name, values in
          ((n, [v[0] for v in rows]) for n, rows in stats.items())}
d_gaps = {name: sum(v[2] for v in rows) / len(rows) for name, rows in stats.items()}
display(Markdown(
    f"Over the snapshots after the start, the median spread of $G$'s samples is **{median['5 G-steps per D-step']:.2f}** with "
    f"5 G-steps per D-step and **{median['1 G-step per D-step']:.2f}** with 1; $D$'s mean $|D - 1/2|$ averages "
    f"**{d_gaps['5 G-steps per D-step']:.3f}** and **{d_gaps['1 G-step per D-step']:.3f}**."))

# %% [markdown]
# Read those numbers against the snapshots. When the spread is far below the ring's, the generator has
# squeezed its samples into a blob; when the blob's centre moves from snapshot to snapshot, it **hops**:
# $G$ races to wherever $D$ is currently highest, long before $D$ has learned the shape of the data
# (then $|D - 1/2|$ stays small: $D$ is nearly undecided everywhere), and when $D$ catches up with that
# spot, $G$ moves on. Mode collapse (a generator covering only a few modes of the data) and this
# **mode hopping** are two faces of the same imbalance. Only the number of generator steps differs
# between the two runs (printed above).
#
# **Explore.** Drag the slider through the snapshots of both runs side by side (the same fraction of
# each run). Watch where $D$ is blue and where $G$'s samples go next.

# %%
import ipywidgets as widgets

runs = {"1 G-step per D-step": run, "5 G-steps per D-step": collapsed}


def show_snapshots(index: int) -> None:
    snapshots_figure(runs, index)
    plt.show()


widgets.interact(show_snapshots, index=widgets.IntSlider(min=0, max=len(run.snapshots) - 1, step=1,
                                                         value=len(run.snapshots) - 1, description="snapshot"));

# %% [markdown]
# ## 7. When the distributions do not overlap · 分布不重叠时
#
# Section 2 showed that against the best discriminator the generator minimizes
# $2\,\mathrm{JSD}(p_{data}\|p_g) - \log 4$. That is a good target while the two distributions overlap.
# When they do not, the JSD is stuck at its maximum, $\log 2$, wherever $p_g$ is: moving the fakes closer
# to the data does not change it, so its gradient is 0 (Arjovsky & Bottou 2017). For images this is the
# usual case at the start of training: real images and a young generator's outputs lie on thin,
# low-dimensional sets of pixel space that need not meet.
#
# The experiment: $p_{data} = \mathcal N(0, s^2)$ and a generator that only shifts,
# $G(z) = \theta + s z$, so $p_g = \mathcal N(\theta, s^2)$, with $s = 0.1$ (the ring's σ). For each distance
# $\theta$ the cell computes the JSD by numerical integration, its slope $d\,\mathrm{JSD}/d\theta$, the
# Wasserstein-1 distance (for two shifted copies, exactly $\theta$), and, by autograd, the generator's
# gradient $d/d\theta$ of the minimax loss $\mathbb E[\log(1 - D^*(G(z)))]$ and of the non-saturating
# loss $\mathbb E[-\log D^*(G(z))]$ against the optimal $D^*$ held fixed, as in a G-step.

# %%
from aigc_course.gan import vanishing_gradient_table

print(f"{'theta':>6s} {'JSD':>9s} {'log 2 - JSD':>12s} {'dJSD/dtheta':>12s} {'W1':>5s} "
      f"{'minimax grad':>13s} {'non-sat. grad':>14s} {'mean D*(fake)':>14s}")
vanishing = vanishing_gradient_table([0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0], std=ring.std)
for row in vanishing:
    print(f"{row.shift:6.2f} {row.jsd:9.5f} {math.log(2) - row.jsd:12.2e} {row.jsd_slope:12.2e} {row.wasserstein:5.2f} "
          f"{row.minimax_gradient:13.2e} {row.non_saturating_gradient:14.2f} {row.mean_d_on_fakes:14.2e}")
far = vanishing[-1]
print(f"at theta = {far.shift:g} ({far.shift / ring.std:.0f} standard deviations): JSD = log 2 - {math.log(2) - far.jsd:.1e}, "
      f"minimax gradient {far.minimax_gradient:.1e}; W1 still has slope 1")

# %% [markdown]
# Once the two bells are a few $s$ apart, the JSD no longer changes and the minimax gradient is
# numerically zero: the generator learns nothing, however wrong it is. The non-saturating loss does
# keep a gradient, but it is not the JSD's: its size, $\theta / s^2$ here, grows as $D^*$ gets sharper,
# so it says how confident $D$ is rather than how far the data are, and a discriminator that is close to
# optimal makes it large and erratic. The Wasserstein-1 distance $W_1$ grows in proportion to the
# distance, with slope 1 everywhere, which is what a generator far from the data needs.
#
# ### A fix: WGAN-GP · 一种修正：WGAN-GP
#
# The Wasserstein GAN (Arjovsky et al. 2017) trains a **critic** $f$ (no sigmoid: any real score) to
# estimate $W_1$ through its dual form, $W_1 = \sup_{\|f\|_L \le 1} \mathbb E_{p_{data}}[f(x)] - \mathbb E_{p_g}[f(x)]$,
# and the generator to minimize $-\mathbb E[f(G(z))]$. The supremum is over 1-Lipschitz functions; WGAN-GP
# (Gulrajani et al. 2017) keeps $f$ close to that with a **gradient penalty** on random points $\hat x$
# between real and fake samples: $L_f = \mathbb E[f(G(z))] - \mathbb E[f(x)] + \lambda\,\mathbb E[(\|\nabla_{\hat x} f(\hat x)\| - 1)^2]$,
# $\lambda = 10$. It is `wgan_gp_step` in `aigc_course.gan.wgan`, with the signature of `gan_training_step`,
# so the same playground trains it. Two settings follow the paper: 5 critic updates per generator update
# (the critic must stay close to its optimum for its score to estimate $W_1$) and Adam's
# $\beta = (0.5, 0.9)$. Everything else is the first run's (the learning rate $10^{-3}$ decaying to 0,
# networks, data, seed, and with the full budget the number of generator steps); the cell prints every
# setting that differs.

# %%
import functools

from aigc_course.gan import wgan_gp_step

wgan_config = dataclasses.replace(config, steps=BUDGET.wgan_steps, betas=(0.5, 0.9))
print("settings that differ from the first run:", {f.name: (getattr(config, f.name), getattr(wgan_config, f.name))
      for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(wgan_config, f.name)},
      "| loss: Wasserstein + gradient penalty, 5 critic updates per G update (1 D update in the first run)")
seed_everything(wgan_config.seed)
wgan_run = train_toy_gan(ring, wgan_config, device=device, step=functools.partial(wgan_gp_step, critic_steps=5))
wc = wgan_run.coverage
print(f"WGAN-GP, {wgan_config.steps} generator steps in {wgan_run.seconds:.1f} s: {wc.modes_covered}/8 modes covered, "
      f"{100 * wc.high_quality_share:.1f}% of samples within 3σ")
print("share of samples per mode:", [f"{100 * share:.1f}%" for share in wc.mode_shares])
snapshot_row(wgan_run, 5, title="WGAN-GP (surface: sigmoid of the critic's score)")
plt.show()
display(Markdown(
    f"Measured: WGAN-GP covered **{wc.modes_covered}/8** modes with **{100 * wc.high_quality_share:.1f}%** of its samples "
    f"within 3σ; the first run (original loss, 1 D-step per G-step) {c.modes_covered}/8 and "
    f"{100 * c.high_quality_share:.1f}%. Each WGAN-GP step costs {wgan_run.seconds / wgan_config.steps * 1000:.1f} ms "
    f"against {run.seconds / config.steps * 1000:.1f} ms: five critic updates, each with a second backward pass "
    f"for the penalty."))

# %% [markdown]
# ## 8. Closing note · 小结
#
# The measured figures of this run (every number comes from the cells above):

# %%
def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


print(f"mode: {'fast (small budgets: the targets below need the full budget)' if is_fast_mode() else 'full'}; "
      f"device {device}" + ("; training ran on 1 CPU thread" if device.type == "cpu" else ""))
print(f"D* check: max |D - D*| = {dstar.max_error:.4f} (<= {DSTAR_MAX_TOLERANCE}: {verdict(dstar.max_error <= DSTAR_MAX_TOLERANCE)}), "
      f"mean = {dstar.mean_error:.4f} (<= {DSTAR_MEAN_TOLERANCE}: {verdict(dstar.mean_error <= DSTAR_MEAN_TOLERANCE)})")
print(f"ring GAN, seed {config.seed}, {config.steps} steps: {c.modes_covered}/8 modes, "
      f"{100 * c.high_quality_share:.1f}% within 3σ, {run.seconds:.1f} s  "
      f"(target >= {TARGET_MODES} modes and >= {100 * TARGET_QUALITY:.0f}%: "
      f"{verdict(c.meets(TARGET_MODES, TARGET_QUALITY))}; under 60 s: {verdict(run.seconds < 60)})")
print(f"collapsed run (5 G-steps per D-step): {cc.modes_covered}/8 modes, {100 * cc.high_quality_share:.1f}% within 3σ")
print(f"WGAN-GP ({wgan_config.steps} steps): {wc.modes_covered}/8 modes, {100 * wc.high_quality_share:.1f}% within 3σ, "
      f"{wgan_run.seconds:.1f} s")
print(f"disjoint bells at {far.shift:g}: JSD = log 2 - {math.log(2) - far.jsd:.1e}, minimax gradient {far.minimax_gradient:.1e}")

# %% [markdown]
# - A GAN is a two-player game $\min_G \max_D V(D, G)$. For a fixed $G$ the best discriminator is
#   $D^* = p_{data} / (p_{data} + p_g)$, and against it the generator minimizes $2\,\mathrm{JSD}(p_{data}\|p_g) - \log 4$.
#   A trained network reproduces $D^*$ within the tolerance stated in Section 2.
# - Compute the losses from logits (`binary_cross_entropy_with_logits`), and train $G$ with the
#   non-saturating loss: its gradient is largest when $D$ rejects the fakes.
# - One step: $D$ on real data and **detached** fakes; then $G$ through a **frozen** $D$. The article's
#   Keras code does neither and never trains its generator against the discriminator.
# - Mode coverage must be measured, not eyeballed; compare the collapsed run's numbers with the first run's.
# - When real and generated distributions do not overlap, the JSD is stuck at $\log 2$ and the minimax
#   gradient vanishes; the Wasserstein distance keeps a useful gradient, and WGAN-GP trains on it
#   (its coverage on the ring is printed above).
#
# **Next:** [03 · Variational autoencoders · 变分自编码器](03_vae.ipynb); the MNIST GAN project is
# [05](05_mnist_gan_project.ipynb).
