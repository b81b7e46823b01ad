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
# # 07 · Diffusion models and flow matching · 扩散模型与流匹配
#
# A **diffusion model (扩散模型)** learns to generate by learning to *denoise*: the data is drowned in
# Gaussian noise step by step (the **forward noising process, 前向加噪**), and a network learns to undo
# one step at a time (**去噪**). Sampling starts from pure noise and runs the learned reverse process.
# **Flow matching (流匹配)** is its simplest modern form: a network learns a velocity field that carries
# noise to data along straight lines. These two families generate nearly every image, video and
# sound clip made by AI today; this chapter builds both from scratch and measures them against the
# GAN of chapter 05 and the VAE of chapter 03 on the same digits, with the same classifier.
#
# **In this notebook:**
# 1. why diffusion: what the article leaves out;
# 2. the forward process in closed form, checked against simulating the chain (Exercise 7.1);
# 3. noise schedules (噪声调度) and their signal-to-noise ratio; what a digit looks like along t;
# 4. the training objective, from the ELBO to the simple noise-prediction loss (Exercise 7.2), and
#    its link to **score matching (得分匹配)**, checked against the exact optimal denoiser of a mixture;
# 5. a 2-D playground on chapter 02's ring of 8 Gaussians: one reverse step (Exercise 7.3), and
#    the modes covered against chapter 02's collapsing GAN;
# 6. digits: a U-Net, DDPM, DDIM and flow matching; quality against sampling steps and training time;
# 7. **latent diffusion (潜在扩散)**, the Stable Diffusion recipe: its saving and its price;
# 8. **classifier-free guidance (无分类器引导)**: "draw me a 7";
# 9. the comparison the chapter exists for: diffusion against chapter 05's GAN and chapter 03's VAE;
# 10. widgets to scrub through the denoising, change the number of steps and the guidance.

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
from IPython.display import Markdown, display

from aigc_course.config import budget, get_device, is_fast_mode, seed_everything
from aigc_course.plotting import plot_curves, show_images

BUDGET = budget("diffusion")
device = get_device()
seed_everything(0)
print(f"budget ({'fast' if is_fast_mode() else 'full'} mode): {BUDGET}")
print(f"device: {device}, torch threads: {torch.get_num_threads()}")

# %% [markdown]
# ## 1. Why diffusion · 为什么是扩散模型
#
# > **⚠️ Errata · 勘误 (beyond the article, §1.1 and §4.1).** The article presents GANs and VAEs as *the*
# > core of AIGC: "AIGC的关键技术，包括生成对抗网络（GAN）、变分自编码器（VAE）等" (§1.1: *the key techniques
# > of AIGC include generative adversarial networks (GAN), variational autoencoders (VAE), etc.*) and
# > "AIGC中的概率生成模型主要包括生成对抗网络（GAN）和变分自编码器（VAE）" (§4.1: *the probabilistic
# > generative models of AIGC are mainly GANs and VAEs*). It never mentions diffusion models. Yet since
# > Dhariwal and Nichol (2021) showed diffusion beating GANs on ImageNet, diffusion models and their
# > successor, flow matching, are what generate nearly every AI image, video and piece of audio
# > (Stable Diffusion, DALL·E 2 and 3, Imagen, Stable Audio). This chapter is the course's addition:
# > the technique built from scratch, and measured against the article's two families on the same
# > digits, the same classifier and the same CPU.
#
# The idea in one paragraph: destroying data is easy (add noise until nothing is left); a network
# can learn to undo a *little* noise (a denoising regression, as stable to train as any
# classifier); chaining many small denoising steps turns pure noise into data. There is no
# discriminator to balance and no encoder whose posterior can collapse: one network, one
# mean-squared-error loss.
#
# ## 2. The forward process · 前向加噪
#
# Fix a **noise schedule (噪声调度)**: variances $\beta_0, \dots, \beta_{T-1} \in (0, 1)$ (we use $T = 1000$
# steps, indexed from 0). Each step shrinks the signal a little and adds a little Gaussian noise:
#
# $$q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{1-\beta_t}\, x_{t-1},\ \beta_t I\big).$$
#
# The shrinking keeps the total variance bounded: if $x_{t-1}$ has unit variance, so has $x_t$.
# With $\alpha_t = 1 - \beta_t$ and $\bar\alpha_t = \prod_{s \le t} \alpha_s$, any step can be reached from
# the data **in one jump**. Induction: if $x_{t-1} = \sqrt{\bar\alpha_{t-1}}\,x_0 + \sqrt{1-\bar\alpha_{t-1}}\,\epsilon'$, then
# $x_t = \sqrt{\alpha_t \bar\alpha_{t-1}}\,x_0 + \sqrt{\alpha_t(1-\bar\alpha_{t-1})}\,\epsilon' + \sqrt{1-\alpha_t}\,\epsilon''$, and the two
# independent Gaussian terms add to one of variance $\alpha_t - \bar\alpha_t + 1 - \alpha_t = 1 - \bar\alpha_t$:
#
# $$q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\, x_0,\ (1-\bar\alpha_t) I\big), \qquad
# x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon, \quad \epsilon \sim \mathcal N(0, I).$$
#
# This closed form is what makes training cheap: a training example at step $t$ costs one
# multiply-add, not $t$ steps of a chain.
#
# **Exercise 7.1 · closed-form noising.** Write `q_sample(x0, t, noise, schedule)`: `x0` is a batch
# `[B, ...]` (images `[B, 1, 28, 28]` or 2-D points `[B, 2]`), `t` holds one step index per example
# (int64 `[B]`), `noise` is $\epsilon$ of `x0`'s shape, and `schedule.alpha_bars` is $\bar\alpha$ `[T]`.

# %%
from aigc_course.diffusion import NoiseSchedule


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise; x0, noise [B, ...], t int64 [B] -> [B, ...]."""
    # Hint: pick alpha_bar_t for each example, then reshape it to [B, 1, 1, ...] so it broadcasts over x0.
    raise NotImplementedError("Exercise 7.1: closed-form forward noising")


# %%
from aigc_course.checks.diffusion import check_q_sample

q_sample = check_q_sample(q_sample)

# %% [markdown]
# **Check it against the chain.** Three "pixels" with values $-1$, $0$ and $0.8$, each copied
# `BUDGET.eval_samples` times, are pushed through the Markov chain one step at a time
# (`simulate_forward_chain`, $t+1$ random draws each) and, separately, through your `q_sample` (one
# draw). Both sets of samples should have mean $\sqrt{\bar\alpha_t}\,x_0$ and variance $1-\bar\alpha_t$.
# **The tolerance, stated before we look:** every sample mean and sample variance within 4 Monte
# Carlo standard errors of the formula (the standard error of a mean is $\sqrt{\mathrm{var}/n}$, of a
# variance about $\mathrm{var}\sqrt{2/(n-1)}$ for Gaussian samples).

# %%
from aigc_course.diffusion import simulate_forward_chain

linear = NoiseSchedule.linear(1000)
n_chain = BUDGET.eval_samples
x0_pixels = torch.tensor([-1.0, 0.0, 0.8], dtype=torch.float64).repeat(n_chain, 1)  # [n, 3]
worst_z = 0.0
print(" step | alpha_bar |   x0 | mean: formula  chain  closed form | variance: formula  chain  closed form")
for step in (10, 250, 999):
    ab = float(linear.alpha_bars[step])
    chain = simulate_forward_chain(x0_pixels, linear, step, generator=torch.Generator().manual_seed(step))
    noise = torch.randn(x0_pixels.shape, generator=torch.Generator().manual_seed(10_000 + step), dtype=torch.float64)
    jump = q_sample(x0_pixels, torch.full((n_chain,), step), noise, linear)
    for j, value in enumerate(x0_pixels[0].tolist()):
        mean, var = math.sqrt(ab) * value, 1 - ab
        for x in (chain[:, j], jump[:, j]):
            worst_z = max(worst_z, abs(float(x.mean()) - mean) / math.sqrt(var / n_chain),
                          abs(float(x.var()) - var) / (var * math.sqrt(2 / (n_chain - 1))))
        c, q = chain[:, j], jump[:, j]
        print(f"{step:5d} | {ab:9.5f} | {value:4.1f} | {mean:13.4f} {float(c.mean()):7.4f} {float(q.mean()):8.4f}    | "
              f"{var:17.4f} {float(c.var()):7.4f} {float(q.var()):8.4f}")
print(f"largest deviation: {worst_z:.2f} standard errors over {n_chain:,} samples each "
      f"({'within' if worst_z <= 4 else 'OUTSIDE'} the stated tolerance of 4)")

# %% [markdown]
# ## 3. Noise schedules and the signal-to-noise ratio · 噪声调度与信噪比
#
# How fast the signal fades is the schedule's choice. Ho et al. (2020) spaced $\beta_t$ **linearly**
# from $10^{-4}$ to $0.02$. Nichol and Dhariwal (2021) noticed that with it the last few hundred steps
# are almost pure noise, wasted, and proposed the **cosine** schedule
# $\bar\alpha_t = f(t)/f(0)$, $f(t) = \cos^2\!\big(\frac{t/T + s}{1 + s}\cdot\frac{\pi}{2}\big)$, $s = 0.008$.
# A clean way to compare schedules is the **signal-to-noise ratio (信噪比)** of $x_t$:
#
# $$\mathrm{SNR}(t) = \frac{\bar\alpha_t}{1 - \bar\alpha_t}$$
#
# (the power of the signal term over that of the noise term, for unit-variance data).

# %%
from aigc_course.diffusion.plots import plot_snr, snr_at

cosine = NoiseSchedule.cosine(1000)
schedules = {"linear (Ho et al. 2020)": linear, "cosine (Nichol & Dhariwal 2021)": cosine}
plot_snr(schedules)
plt.show()
fractions = [0.1, 0.25, 0.5, 0.75, 0.9]
print("log10 SNR at t/T =", fractions)
for name, schedule in schedules.items():
    crossing = int((schedule.snr() < 1).nonzero()[0])
    print(f"  {name:32s}", "  ".join(f"{v:6.2f}" for v in snr_at(schedule, fractions)),
          f"  | SNR falls below 1 at t = {crossing} ({crossing / schedule.steps:.0%} of the way)")

# %% [markdown]
# The cosine schedule spends its steps more evenly in log-SNR: it destroys the signal more slowly
# at the start, and with the linear schedule the last stretch of steps sits at an SNR so small that
# those steps teach the network almost nothing.
#
# ### What a digit looks like along t · 沿时间步的图像
#
# The same four test digits and the **same** noise $\epsilon$ at ten steps, for each schedule
# (pixels mapped to $[-1, 1]$ as the models see them; the display clips to the pixel range). Then a
# number instead of an impression: the course's digit classifier (chapter 05's judge) is given
# $x_t$ of `BUDGET.eval_samples` test digits; how often does it still name the right digit?

# %%
from aigc_course.data import images_to_symmetric
from aigc_course.diffusion import samples_to_unit
from aigc_course.diffusion.plots import noising_grid
from aigc_course.evaluation import classifier_config, load_mnist_cached, load_or_train_classifier, predict_logits

test_images, test_labels = load_mnist_cached("test")
test_sym = images_to_symmetric(test_images).unsqueeze(1)  # [10000, 1, 28, 28] in [-1, 1]
steps_shown = [0, 50, 100, 200, 300, 400, 500, 650, 800, 999]
fig, axes = plt.subplots(1, 2, figsize=(14, 3.2))
for ax, (name, schedule) in zip(axes, schedules.items()):
    show_images(noising_grid(test_sym[:4], schedule, steps_shown, seed=0), nrow=len(steps_shown), ax=ax,
                title=f"{name}: t = {steps_shown}")
plt.show()
classifier = load_or_train_classifier(**classifier_config(), device=device)
n_eval = BUDGET.eval_samples
print(f"classifier accuracy on x_t of {n_eval} test digits (clean digits: step 0)")
for name, schedule in schedules.items():
    accuracies = []
    for step in steps_shown:
        noise = torch.randn(n_eval, 1, 28, 28, generator=torch.Generator().manual_seed(step))
        noisy = q_sample(test_sym[:n_eval], torch.full((n_eval,), step), noise, schedule)
        accuracies.append(float((predict_logits(classifier, samples_to_unit(noisy)).argmax(1)
                                 == test_labels[:n_eval]).float().mean()))
    print(f"  {name:32s}", "  ".join(f"t={s}: {a:.0%}" for s, a in zip(steps_shown, accuracies)))

# %% [markdown]
# ## 4. The training objective · 训练目标
#
# ### From the ELBO to the simple loss
#
# The reverse process is a Markov chain too, $p_\theta(x_{t-1} \mid x_t) = \mathcal N(\mu_\theta(x_t, t), \sigma_t^2 I)$,
# started from $p(x_T) = \mathcal N(0, I)$. As for the VAE of chapter 03, $\log p_\theta(x_0)$ is bounded from
# below by an **ELBO (证据下界)**, here with the whole chain $x_{1:T}$ as the latent variable and the
# forward process as the (fixed, not learned) encoder. Rearranged (Ho et al. 2020, eq. 5):
#
# $$-\log p_\theta(x_0) \le \mathbb E_q\Big[\underbrace{\mathrm{KL}(q(x_T \mid x_0)\,\|\,p(x_T))}_{\text{no parameters}}
# + \sum_{t > 1} \underbrace{\mathrm{KL}\big(q(x_{t-1} \mid x_t, x_0)\,\|\,p_\theta(x_{t-1} \mid x_t)\big)}_{L_{t-1}}
# - \log p_\theta(x_0 \mid x_1)\Big].$$
#
# The forward posterior is Gaussian in closed form (Bayes' rule on two Gaussians):
# $q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$ with
# $\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t} x_0 + \frac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t} x_t$ and
# $\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t$. A KL between two Gaussians with fixed variances is
# a squared distance between their means: $L_{t-1} = \frac{1}{2\sigma_t^2}\lVert\tilde\mu_t - \mu_\theta\rVert^2 + C$.
# Substitute $x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\epsilon)/\sqrt{\bar\alpha_t}$ to get
# $\tilde\mu_t = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\epsilon\big)$, and give the network the
# same form, $\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\epsilon_\theta(x_t, t)\big)$:
# the network predicts the **noise**, and
#
# $$L_{t-1} = \frac{\beta_t^2}{2\sigma_t^2\,\alpha_t\,(1-\bar\alpha_t)}\,\mathbb E\,\lVert \epsilon - \epsilon_\theta(x_t, t)\rVert^2 + C .$$
#
# Ho et al. dropped the weight in front and sampled $t$ uniformly, which trained better samples:
#
# $$L_{\text{simple}} = \mathbb E_{x_0,\ t \sim \mathcal U\{0..T-1\},\ \epsilon \sim \mathcal N(0, I)}\
# \big\lVert \epsilon - \epsilon_\theta\big(\sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon,\ t\big)\big\rVert^2 .$$
#
# One training step: pick data, a random step and random noise, noise the data in one jump, and
# regress the noise. No adversary, no sampling chain during training.
#
# **Exercise 7.2 · the loss at a random step.** Write `ddpm_loss(model, x0, schedule, generator)`.
# Draw, in this order and from `generator`, the steps `t = torch.randint(0, T, (B,))` and then the noise
# `torch.randn(x0.shape)`; noise `x0` with your `q_sample`; the network takes the time as a float in
# $[0, 1]$, `schedule.network_time(t)` $= t/(T-1)$; return the mean squared error over every element.

# %%
import torch.nn as nn
import torch.nn.functional as F


def ddpm_loss(model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """L_simple = mean || eps - eps_theta(x_t, t / (T-1)) ||^2 at one random step per example; x0 [B, ...] -> scalar."""
    # Hint: torch.randint(..., generator=generator), then torch.randn(x0.shape, generator=generator).
    raise NotImplementedError("Exercise 7.2: the DDPM loss at a random step")


# %%
from aigc_course.checks.diffusion import check_ddpm_loss

ddpm_loss = check_ddpm_loss(ddpm_loss)

# %% [markdown]
# ### The link to score matching · 与得分匹配的联系
#
# The minimizer of a mean squared error is a conditional mean: the best possible network outputs
# $\epsilon^*(x_t, t) = \mathbb E[\epsilon \mid x_t]$. **Tweedie's formula** connects that to the **score**
# $\nabla_x \log p_t(x)$ of the noised data distribution $p_t$: for $x_t = \sqrt{\bar\alpha_t} x_0 + \sqrt{1-\bar\alpha_t}\epsilon$,
#
# $$\nabla_{x_t} \log p_t(x_t) = -\frac{\mathbb E[\epsilon \mid x_t]}{\sqrt{1-\bar\alpha_t}} .$$
#
# (Differentiate $p_t(x_t) = \int q(x_t \mid x_0)\,p(x_0)\,dx_0$ under the integral:
# $\nabla_{x_t} q(x_t \mid x_0) = -\frac{x_t - \sqrt{\bar\alpha_t}x_0}{1-\bar\alpha_t}\,q = -\frac{\epsilon}{\sqrt{1-\bar\alpha_t}}\,q$, then divide by $p_t$.)
# So training $\epsilon_\theta$ with $L_{\text{simple}}$ is **denoising score matching** (Vincent 2011; Song and
# Ermon 2019): $-\epsilon_\theta/\sqrt{1-\bar\alpha_t}$ estimates the score at every noise level, and sampling
# follows it uphill in probability while the noise shrinks.
#
# **Check it numerically.** For a mixture of Gaussians everything is exact (`aigc_course.diffusion.toy`:
# the posterior over components is a softmax, each component's posterior mean is linear). Take chapter
# 02's ring of 8 Gaussians. Three checks: (a) the exact denoiser $\mathbb E[x_0 \mid x_t]$ against a Monte
# Carlo estimate that knows nothing of the formula (importance sampling from the data); (b) Tweedie:
# $-\mathbb E[\epsilon \mid x_t]/\sqrt{1-\bar\alpha_t}$ against the gradient of $\log p_t$ by autograd; (c) a small network
# trained with **your** `ddpm_loss` against the exact $\mathbb E[\epsilon \mid x_t]$.

# %%
from aigc_course.diffusion.toy import mixture_denoiser, mixture_log_density, mixture_noise, monte_carlo_denoiser
from aigc_course.gan import GaussianRing

ring = GaussianRing(n_modes=8, radius=2.0, std=0.1)
points = 2.0 * torch.randn(6, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
for step in (100, 400, 800):
    ab = float(linear.alpha_bars[step])
    exact = mixture_denoiser(points, ab, ring.centers(), ring.std)
    estimate = monte_carlo_denoiser(points, ab, ring, BUDGET.eval_samples, torch.Generator().manual_seed(step))
    x = points.clone().requires_grad_(True)
    score, = torch.autograd.grad(mixture_log_density(x, ab, ring.centers(), ring.std).sum(), x)
    tweedie = -mixture_noise(points, ab, ring.centers(), ring.std) / math.sqrt(1 - ab)
    print(f"t = {step:3d} (alpha_bar {ab:.3f}): |exact E[x0|x_t] - Monte Carlo| <= {float((exact - estimate).abs().max()):.4f} "
          f"({BUDGET.eval_samples:,} samples); |autograd score - Tweedie| <= {float((score - tweedie).abs().max()):.1e}")

# %% [markdown]
# Now (c). The playground's network (`ToyDenoiser`) is chapter 02's MLP given the point and
# sinusoidal features of the time; it is trained for `BUDGET.toy_steps` steps with your `ddpm_loss`
# on fresh samples of the ring, with the linear schedule. On fresh noisy points at several steps we
# compare its $\epsilon_\theta$ with the exact $\mathbb E[\epsilon \mid x_t]$, and its loss with the **lowest loss any
# network can reach** (the exact denoiser's loss on the same draws; not zero: the noise cannot be
# fully recovered from $x_t$). A network that reached the optimum would have a gap of 0 and the same
# loss; the gap squared is exactly the excess of its loss over the optimum, on average.

# %%
from aigc_course.diffusion.toy import compare_with_exact, train_toy_diffusion

seed_everything(0)
toy_ddpm = train_toy_diffusion(ring, "ddpm", linear, steps=BUDGET.toy_steps, seed=0, device=device, loss=ddpm_loss)
print(f"trained {BUDGET.toy_steps} steps in {toy_ddpm.seconds:.1f} s; last 100 losses average "
      f"{sum(toy_ddpm.losses[-100:]) / len(toy_ddpm.losses[-100:]):.3f}")
gaps = compare_with_exact(toy_ddpm.model, ring, linear, [20, 100, 300, 600, 900], n=BUDGET.eval_samples)
print("  step | alpha_bar | RMS eps_net - E[eps|x_t] | RMS E[eps|x_t] | loss: network  optimum")
for g in gaps:
    print(f"  {g.step:4d} | {g.alpha_bar:9.4f} | {g.rms_gap:24.3f} | {g.rms_exact:14.3f} | "
          f"{g.loss_net:14.3f} {g.loss_exact:8.3f}")
worst = max(gaps, key=lambda g: g.rms_gap / g.rms_exact)
print(f"the network's prediction is off by at most {worst.rms_gap / worst.rms_exact:.0%} of the exact one's size "
      f"(at step {worst.step}); its loss is {sum(g.loss_net for g in gaps) / sum(g.loss_exact for g in gaps):.2f}x "
      f"the optimum, summed over these steps")

# %% [markdown]
# Where the noise is small (early steps), $\mathbb E[\epsilon \mid x_t]$ changes fast across the narrow modes and
# is the hardest part to learn; at high noise the mixture looks like one broad blob and the network
# matches it closely. The loss never approaches zero, even for the exact denoiser: a falling loss
# curve is not the whole story, and the right yardstick is the optimum, which we can compute here.
#
# ## 5. The 2-D playground · 二维实验场
#
# ### One reverse step
#
# **DDIM** (Song, Meng and Ermon 2021) turns a trained $\epsilon_\theta$ into a *deterministic* sampler that
# can skip steps. From $x_t$, estimate the clean point, then re-noise it to the lower noise level of an
# earlier step $s < t$, reusing the predicted noise as the direction:
#
# $$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta(x_t, t)}{\sqrt{\bar\alpha_t}}, \qquad
# x_s = \sqrt{\bar\alpha_s}\,\hat x_0 + \sqrt{1-\bar\alpha_s}\,\epsilon_\theta(x_t, t).$$
#
# With the true noise in place of $\epsilon_\theta$ this lands exactly on $q(x_s \mid x_0)$'s sample with the same
# $\epsilon$; it is the $\eta = 0$ member of a family whose $\eta = 1$ member is DDPM's random ancestral step.
#
# **Exercise 7.3 · one DDIM step.** Write `ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev)` for floats
# `alpha_bar_t` ($\bar\alpha_t$) and `alpha_bar_prev` ($\bar\alpha_s$; 1.0 means "all the way to the data").

# %%
def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar_t: float, alpha_bar_prev: float) -> torch.Tensor:
    """x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev) eps, x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t); [B, ...]."""
    raise NotImplementedError("Exercise 7.3: one deterministic DDIM step")


# %%
from aigc_course.checks.diffusion import check_ddim_step

ddim_step = check_ddim_step(ddim_step)

# %% [markdown]
# Your step, in a sampling loop: start from $\mathcal N(0, I)$ at the last step and take
# `BUDGET.sampling_steps` evenly spaced DDIM steps down to the data, calling the trained network once per step.

# %%
from aigc_course.gan import mode_coverage

n_toy = BUDGET.eval_samples
indices = torch.linspace(linear.steps - 1, 0, BUDGET.sampling_steps).round().long().tolist()
x = torch.randn(n_toy, 2, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    for i, step in enumerate(indices):
        eps = toy_ddpm.model(x.to(device), linear.network_time(torch.full((n_toy,), step)).to(device)).cpu()
        ab_prev = float(linear.alpha_bars[indices[i + 1]]) if i + 1 < len(indices) else 1.0
        x = ddim_step(x, eps, float(linear.alpha_bars[step]), ab_prev)
ddim_points = x
ddim_coverage = mode_coverage(ddim_points, ring)
print(f"DDIM, {BUDGET.sampling_steps} steps: {ddim_coverage.modes_covered}/8 modes covered, "
      f"{ddim_coverage.high_quality_share:.1%} of {n_toy} samples within 3 sigma of a mode")

# %% [markdown]
# Why the playground uses the linear schedule: the first DDIM step computes $\hat x_0$ by dividing by
# $\sqrt{\bar\alpha_{T-1}}$, so an error $\delta$ in the predicted noise lands in $x_s$ multiplied by about
# $\sqrt{\bar\alpha_s / \bar\alpha_{T-1}}$. Images are protected by clipping $\hat x_0$ to the pixel range; 2-D points
# have no such range. The factor for each schedule, for this run's first step:

# %%
for name, schedule in schedules.items():
    ab = schedule.alpha_bars
    first, second = indices[0], indices[1]
    print(f"{name:32s}: alpha_bar at step {first} = {float(ab[first]):.2e}; an error in eps is amplified "
          f"{math.sqrt(float(ab[second]) / float(ab[first])):,.0f}x by the first step (to step {second})")

# %% [markdown]
# ### Flow matching · 流匹配
#
# Flow matching (Lipman et al. 2023) and **rectified flow** (Liu, Gong and Liu 2023) drop the Markov
# chain. Pick a path from noise to data, here the straight line $x_t = (1-t)\,\epsilon + t\,x_0$ for
# $t \in [0, 1]$ ($t=0$ noise, $t=1$ data: the opposite direction to DDPM's step index), whose velocity is
# $\frac{dx_t}{dt} = x_0 - \epsilon$. Regress a network on it:
#
# $$L_{\text{FM}} = \mathbb E_{x_0,\ \epsilon,\ t \sim \mathcal U[0,1]}\ \big\lVert (x_0 - \epsilon) - v_\theta(x_t, t)\big\rVert^2 .$$
#
# As before, the minimizer is a conditional mean, $v^*(x, t) = \mathbb E[x_0 - \epsilon \mid x_t = x]$, and the
# ordinary differential equation $\frac{dx}{dt} = v^*(x, t)$ carries $\mathcal N(0, I)$ at $t = 0$ exactly to the data
# distribution at $t = 1$. Sampling integrates it: Euler's method $x \leftarrow x + \Delta t\, v_\theta(x, t)$, or
# Heun's (average the slopes at both ends of the step: twice the network calls, second-order accurate).
# The same network, a different target. Below, it is trained with the same number of steps; then
# both models and **chapter 02's collapsing GAN** (5 generator steps per discriminator step, re-run
# here with chapter 02's own budget and configuration, so it is scored on chapter 02's 5,000 samples)
# are scored with chapter 02's coverage metric.

# %%
import dataclasses

from aigc_course.diffusion import flow_sample
from aigc_course.diffusion.plots import plot_toy_samples
from aigc_course.gan import ToyGANConfig, gan_training_step, train_toy_gan

toy_flow = train_toy_diffusion(ring, "flow", steps=BUDGET.toy_steps, seed=0, device=device)
flow_points = flow_sample(toy_flow.model, n_toy, (2,), steps=BUDGET.sampling_steps, method="euler",
                          generator=torch.Generator().manual_seed(1), progress=False)
GAN_BUDGET = budget("gan")  # chapter 02's budget, for its collapsing configuration
gan_config = ToyGANConfig(steps=GAN_BUDGET.toy_steps, batch_size=GAN_BUDGET.toy_batch, seed=0)  # as in chapter 02
collapse_config = dataclasses.replace(gan_config, generator_steps=5,  # chapter 02's collapsing run, unchanged
                                      n_snapshots=2)  # only the end is scored; snapshots do not change training
seed_everything(collapse_config.seed)
collapsed = train_toy_gan(ring, collapse_config, device=device, step=gan_training_step, progress=False)
toy_results = {f"DDPM + DDIM ({BUDGET.sampling_steps} steps)": (ddim_points, ddim_coverage, toy_ddpm.seconds),
               f"flow matching + Euler ({BUDGET.sampling_steps} steps)": (flow_points, mode_coverage(flow_points, ring),
                                                                          toy_flow.seconds),
               "chapter 02's GAN, 5 G-steps per D-step": (collapsed.snapshots[-1].samples, collapsed.coverage,
                                                         collapsed.seconds)}
plot_toy_samples({name: points for name, (points, _, _) in toy_results.items()}, ring)
plt.show()
for name, (_, coverage, seconds) in toy_results.items():
    print(f"{name:42s}: {coverage.modes_covered}/8 modes, {coverage.high_quality_share:6.1%} within 3 sigma, "
          f"smallest mode share {min(coverage.mode_shares):.1%} ({seconds:.1f} s of training)")

# %%
diffusion_modes = min(toy_results[name][1].modes_covered for name in list(toy_results)[:2])
print(f"Both denoising models cover at least {diffusion_modes} of the 8 modes; the collapsing GAN covers "
      f"{collapsed.coverage.modes_covered}. "
      + ("The regression objective has no mechanism for mode collapse: every training example pulls the "
         "network towards its own mode." if diffusion_modes > collapsed.coverage.modes_covered else
         "In this run the difference did not show: compare the full-budget run."))

# %% [markdown]
# ## 6. Digits · 手写数字
#
# ### The network: a small U-Net · U形网络
#
# For images the denoiser is a **U-Net** (Ronneberger et al. 2015, as used by Ho et al. 2020, shrunk
# for a CPU): convolutions down to 7×7 and back up to 28×28, with skip connections between matching
# resolutions so that fine detail need not squeeze through the bottleneck; residual blocks with group
# normalization; the time $t$ enters every block through sinusoidal features and a small MLP, and a
# learned class embedding is added to it (the label is replaced by a "no class" token 10% of the time
# during training, which Section 8 uses). One network serves both objectives: for DDPM it outputs
# $\epsilon_\theta$, for flow matching $v_\theta$.
#
# Both are trained on MNIST scaled to $[-1, 1]$ with Adam and a moving average of the weights (EMA, as in
# chapter 05), for the same wall-clock budget each (`BUDGET.pixel_minutes`), DDPM with the cosine
# schedule. If the course's data cache already holds a model trained with exactly these settings (from an
# earlier run of this notebook or from `python -m aigc_course train`), it is loaded instead.

# %%
from aigc_course.diffusion import budget_recipe, load_or_train_diffusion

pixel_models = {"DDPM": load_or_train_diffusion(budget_recipe("ddpm"), device=device),
                "flow matching": load_or_train_diffusion(budget_recipe("flow"), device=device)}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
for ax, (name, trained) in zip(axes, pixel_models.items()):
    losses = trained.history["train/loss"]
    window = max(1, len(losses) // 50)
    smoothed = [sum(losses[i:i + window]) / window for i in range(0, len(losses) - window + 1, window)]
    plot_curves({name: smoothed}, xlabel=f"step (x{window})", ax=ax, title=f"{name}: training loss", logy=True)
    n_weights = sum(p.numel() for p in trained.model.parameters())
    print(f"{name:13s}: U-Net of {n_weights:,} parameters, {trained.train_seconds / 60:.1f} min of training, "
          f"{trained.epochs} epochs, {trained.images_seen / trained.train_seconds:.0f} images/s; label dropout "
          f"{trained.recipe.p_uncond:.0%}" + (f", {trained.recipe.schedule} schedule" if name == "DDPM" else ""))
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Four samplers · 四种采样器
#
# The same noise, four ways to walk it to a digit. **DDPM ancestral sampling** takes all $T = 1000$ random
# steps, $x_{t-1} = \tilde\mu_t(x_t, \hat x_0) + \tilde\sigma_t z$; **DDIM** takes `BUDGET.sampling_steps` deterministic
# steps with the same network; the flow model integrates its ODE with **Euler** or **Heun** steps.

# %%
from aigc_course.diffusion import NoiseSchedule, ddpm_sample
from aigc_course.diffusion.plots import sample_images

ddpm_trained, flow_trained = pixel_models["DDPM"], pixel_models["flow matching"]
n_show = 8
start = time.perf_counter()
# Fast mode only (BUDGET.ancestral_steps): a coarser chain on the same cosine curve, to save time.
chain = (ddpm_trained.schedule if BUDGET.ancestral_steps is None
         else getattr(NoiseSchedule, ddpm_trained.recipe.schedule)(BUDGET.ancestral_steps))
ancestral = samples_to_unit(ddpm_sample(ddpm_trained.model, chain, n_show, (1, 28, 28),
                                        generator=torch.Generator().manual_seed(0), progress=False))
sampler_grids = {f"DDPM ancestral, {chain.steps} steps": (ancestral, time.perf_counter() - start)}
for label, model, sampler, schedule in ((f"DDIM, {BUDGET.sampling_steps} steps", ddpm_trained, "ddim", ddpm_trained.schedule),
                                        (f"flow Euler, {BUDGET.sampling_steps} steps", flow_trained, "euler", None),
                                        (f"flow Heun, {BUDGET.sampling_steps} steps", flow_trained, "heun", None)):
    start = time.perf_counter()
    images = sample_images(model.model, sampler, BUDGET.sampling_steps, n=n_show, schedule=schedule, seed=0)
    sampler_grids[label] = (images, time.perf_counter() - start)
fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
for ax, (label, (images, seconds)) in zip(axes, sampler_grids.items()):
    show_images(images, nrow=4, ax=ax, title=f"{label}\n{seconds:.2f} s for {n_show}")
plt.show()

# %% [markdown]
# ### Quality against sampling steps · 质量与采样步数
#
# Each model draws `BUDGET.pixel_eval_samples` digits (unconditionally: the "no class" token) with
# each sampler and number of steps, scored by chapter 05's metrics: the **Inception-style score**
# (IS, at most 10; Section 9 prints the real digits' score beside the models') and the **Frechet
# distance** (FD, lower is better) in the classifier's features, against the first `BUDGET.eval_samples`
# test digits. The cost
# of a sampler is its number of network evaluations (NFE): one per step, two for Heun.

# %%
from aigc_course.diffusion import score_samples
from aigc_course.evaluation import real_reference

reference = real_reference(classifier, BUDGET.eval_samples)  # features of the first test digits
step_rows = []
for name, trained, samplers in (("DDPM", ddpm_trained, ["ddim"]), ("flow matching", flow_trained, ["euler", "heun"])):
    for sampler in samplers:
        for steps in BUDGET.pixel_steps:
            report = score_samples(trained, classifier, reference["features"], BUDGET.pixel_eval_samples, steps,
                                   method="euler" if sampler == "ddim" else sampler, seed=1)
            step_rows.append({"model": name, "sampler": sampler, "steps": steps,
                              "NFE": steps * (2 if sampler == "heun" else 1), **report})
table = ["| model | sampler | steps | NFE | IS | FD | s per 1,000 |", "|---|---|---|---|---|---|---|"]
table += [f"| {r['model']} | {r['sampler']} | {r['steps']} | {r['NFE']} | {r['inception_score']:.2f} | "
          f"{r['frechet_distance']:.1f} | {r['sampling_seconds_per_1000']:.1f} |" for r in step_rows]
display(Markdown("\n".join(table)))
best_pixel = min(step_rows, key=lambda r: r["frechet_distance"])
print(f"lowest FD among the pixel models: {best_pixel['model']} with {best_pixel['sampler']}, {best_pixel['steps']} steps "
      f"(FD {best_pixel['frechet_distance']:.1f}, IS {best_pixel['inception_score']:.2f})")

# %% [markdown]
# ## 7. Latent diffusion · 潜在扩散
#
# Stable Diffusion (Rombach et al. 2022) does not diffuse pixels. An autoencoder is trained first, once,
# to compress images into a small latent code and back with sharp reconstructions (no KL pressure as in
# a VAE, so it stays sharp); the generative model then learns the distribution of the **codes**. Each
# training and sampling step handles a 32-number vector instead of 784 pixels, and a plain MLP (a
# residual MLP with the time and class embedding) replaces the U-Net. The decoder is called once, at the
# end. Here: a convolutional autoencoder trained for `BUDGET.autoencoder_minutes`, then a flow-matching
# velocity MLP in its 32-d latent space for `BUDGET.latent_minutes`.

# %%
from aigc_course.diffusion import decode_latents, encode_images, training_digits
from aigc_course.evaluation import evaluate_images

latent_trained = load_or_train_diffusion(budget_recipe("latent-flow"), device=device)
autoencoder = latent_trained.autoencoder
print(f"autoencoder: {sum(p.numel() for p in autoencoder.parameters()):,} parameters, "
      f"{latent_trained.autoencoder_seconds / 60:.1f} min; velocity MLP: "
      f"{sum(p.numel() for p in latent_trained.model.parameters()):,} parameters, {latent_trained.train_seconds / 60:.1f} min, "
      f"{latent_trained.images_seen / latent_trained.train_seconds:.0f} codes/s "
      f"(the pixel flow U-Net: {flow_trained.images_seen / flow_trained.train_seconds:.0f} images/s)")
n_score = BUDGET.pixel_eval_samples
reconstructed = samples_to_unit(decode_latents(autoencoder, encode_images(autoencoder, test_sym[:n_score])))
reconstruction_report = evaluate_images(classifier, reconstructed, reference["features"])
latent_report = score_samples(latent_trained, classifier, reference["features"], n_score, BUDGET.sampling_steps, seed=1)
pixel_report = score_samples(flow_trained, classifier, reference["features"], n_score, BUDGET.sampling_steps, seed=1)

# %%
cost_rows = {"pixel flow (U-Net)": (pixel_report, flow_trained.train_seconds, flow_trained.images_seen),
             "latent flow (MLP + decoder)": (latent_report, latent_trained.train_seconds + latent_trained.autoencoder_seconds,
                                             latent_trained.images_seen),
             "autoencoder reconstructions of test digits": (reconstruction_report, latent_trained.autoencoder_seconds, None)}
lines = ["| | IS | FD | training s | training examples/s | sampling s per 1,000 |", "|---|---|---|---|---|---|"]
for name, (r, seconds, seen) in cost_rows.items():
    speed = "" if seen is None else f"{seen / seconds:.0f}"
    sampling = f"{r['sampling_seconds_per_1000']:.2f}" if "sampling_seconds_per_1000" in r else ""
    lines.append(f"| {name} | {r['inception_score']:.2f} | {r['frechet_distance']:.1f} | {seconds:.0f} | {speed} "
                 f"| {sampling} |")
display(Markdown("\n".join(lines)))
speedup = pixel_report["sampling_seconds_per_1000"] / latent_report["sampling_seconds_per_1000"]
fd_word = "lower (better)" if latent_report["frechet_distance"] < pixel_report["frechet_distance"] else "higher (worse)"
print(f"With {BUDGET.sampling_steps} Euler steps each, latent flow draws 1,000 digits {speedup:.1f}x "
      f"{'faster' if speedup > 1 else 'slower'} than pixel flow; its FD is {fd_word}: "
      f"{latent_report['frechet_distance']:.1f} against {pixel_report['frechet_distance']:.1f}. The autoencoder's own "
      f"reconstructions score FD {reconstruction_report['frechet_distance']:.1f}: no latent model can beat its decoder.")

# %% [markdown]
# The price of the latent space is the autoencoder: whatever its decoder cannot draw, no latent model
# can generate (the reconstructions' FD above is computed on test digits against the same test set,
# so it is, if anything, optimistic). The saving is in every step: the MLP works on a 32-vector where
# the U-Net works on a 28×28 image; the table's examples per second and sampling time say by how much.
#
# ### Quality against steps and against training time
#
# The cheap latent model makes both curves affordable here. Steps: `BUDGET.step_sweep` Euler steps on
# `BUDGET.eval_samples` digits. Training time: the same velocity MLP trained again on the same codes,
# paused at a quarter, a half and all of `BUDGET.latent_minutes` and scored at each pause (the run
# resumes where it paused: the same optimizer and moving average).

# %%
latent_steps = []
for steps in BUDGET.step_sweep:
    report = score_samples(latent_trained, classifier, reference["features"], BUDGET.eval_samples, steps, seed=2)
    latent_steps.append((steps, report))
    print(f"latent flow, {steps:3d} Euler steps: IS {report['inception_score']:.2f}, FD {report['frechet_distance']:6.1f}, "
          f"classes {report['min_class_fraction']:.1%}-{report['max_class_fraction']:.1%}, "
          f"{report['sampling_seconds_per_1000']:.2f} s per 1,000")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
xs = [s for s, _ in latent_steps]
plot_curves({"latent flow": [r["frechet_distance"] for _, r in latent_steps]}, x=xs, xlabel="Euler steps",
            ylabel="FD (lower is better)", ax=axes[0], title="quality against sampling steps")
plot_curves({"latent flow": [r["inception_score"] for _, r in latent_steps]}, x=xs, xlabel="Euler steps",
            ylabel="IS (higher is better)", ax=axes[1], title="quality against sampling steps")
plt.show()

# %%
from aigc_course.diffusion import VelocityMLP, train_diffusion

recipe = latent_trained.recipe
digits, digit_labels = training_digits(recipe.train_subset)
codes = encode_images(autoencoder, digits)
torch.manual_seed(recipe.seed)
velocity = VelocityMLP(recipe.latent_dim, recipe.hidden, recipe.depth, num_classes=10)
run, minutes_rows = None, []
for fraction in (0.25, 0.5, 1.0):
    run = train_diffusion(velocity, codes, objective="flow", minutes=BUDGET.latent_minutes * fraction, labels=digit_labels,
                          p_uncond=recipe.p_uncond, ema=recipe.ema, lr=recipe.lr, batch_size=recipe.batch_size,
                          seed=recipe.seed, device=device, progress=False, resume=run)
    snapshot = dataclasses.replace(latent_trained, model=run.best, train_seconds=run.seconds)  # same autoencoder
    report = score_samples(snapshot, classifier, reference["features"], BUDGET.eval_samples, BUDGET.sampling_steps, seed=2)
    minutes_rows.append((run.seconds / 60, report))
    print(f"after {run.seconds / 60:5.2f} min ({run.epochs} epochs): IS {report['inception_score']:.2f}, "
          f"FD {report['frechet_distance']:6.1f}")
plot_curves({"latent flow": [r["frechet_distance"] for _, r in minutes_rows]}, x=[m for m, _ in minutes_rows],
            xlabel="training minutes (velocity MLP)", ylabel="FD (lower is better)", title="quality against training time")
plt.show()

# %% [markdown]
# ## 8. Classifier-free guidance: "draw me a 7" · 无分类器引导
#
# Every model of this chapter was trained class-conditionally, with the label replaced by a "no class"
# token 10% of the time, so **one** network gives both a conditional prediction $v_\theta(x, t, y)$ and an
# unconditional one $v_\theta(x, t, \varnothing)$. Classifier-free guidance (Ho and Salimans 2022) samples with
#
# $$\tilde v = v_\theta(x, t, \varnothing) + w\,\big(v_\theta(x, t, y) - v_\theta(x, t, \varnothing)\big)$$
#
# (the same for $\epsilon$): $w = 0$ ignores the label, $w = 1$ is the plain conditional model, $w > 1$
# extrapolates away from "any digit" towards "this digit". In score terms, $w$ scales the gradient of an
# implicit classifier $\log p(y \mid x)$, which sharpens the samples of each class and reduces their variety.
# Measured: the share of requested digits the course classifier recognises, and the diversity (mean
# pixel distance between two digits drawn for the same class), for `BUDGET.guidance_per_class` digits of
# each class at each scale.

# %%
from aigc_course.diffusion import guidance_sweep

sweep = guidance_sweep(latent_trained, classifier, BUDGET.guidance_scales, n_per_class=BUDGET.guidance_per_class,
                       steps=BUDGET.sampling_steps, seed=3)
display(Markdown("| guidance w | requested digit recognised | within-class diversity |\n|---|---|---|\n" + "\n".join(
    f"| {r['guidance']:g} | {r['accuracy']:.1%} | {r['diversity']:.2f} |" for r in sweep)))
fig, axes = plt.subplots(1, len(BUDGET.guidance_scales), figsize=(3.2 * len(BUDGET.guidance_scales), 3.6), squeeze=False)
for ax, w in zip(axes[0], BUDGET.guidance_scales):
    sevens = latent_trained.sample(16, steps=BUDGET.sampling_steps, y=torch.full((16,), 7), guidance=w,
                                   generator=torch.Generator().manual_seed(4))
    show_images(sevens, nrow=4, ax=ax, title=f"'draw me a 7', w = {w:g}")
plt.show()
low, high = sweep[0], sweep[-1]
print(f"From w = {low['guidance']:g} to w = {high['guidance']:g} the share of recognised digits goes from "
      f"{low['accuracy']:.1%} to {high['accuracy']:.1%} ({'up' if high['accuracy'] > low['accuracy'] else 'not up'}) and "
      f"the within-class diversity from {low['diversity']:.2f} to {high['diversity']:.2f} "
      f"({'down' if high['diversity'] < low['diversity'] else 'not down'}).")
default = [r for r in sweep if r["guidance"] == BUDGET.guidance]
if default:
    print(f"At the default scale w = {BUDGET.guidance:g}: {default[0]['accuracy']:.1%} of requested digits recognised.")

# %% [markdown]
# ## 9. Diffusion against the GAN and the VAE · 与GAN和VAE的比较
#
# The comparison the chapter exists for: chapter 05's improved GAN, chapter 03's convolutional VAE and
# this chapter's latent flow model, each at its own chapter's budget (loaded from the data cache when
# those chapters have run, trained here otherwise; in fast mode all of them are tiny). The training
# minutes differ and are printed beside the scores. The latent flow model appears twice, the same
# network with the same `BUDGET.sampling_steps` Euler steps: **unconditional** (the "no class" token,
# like the GAN and the VAE, which are never told a class), and **guided**: asked for each digit in turn
# (label $i \bmod 10$ for the $i$-th digit) with classifier-free guidance at the default scale
# `BUDGET.guidance`. The guided column is told which class to draw, so its class histogram is flat by
# construction and its Inception-style score profits from that; compare it with the others knowing so.
# `BUDGET.eval_samples` digits from each, through chapter 05's metrics; the nearest-neighbour row
# compares each model's median distance to its nearest training image with that of real *test* digits
# (a model that copied its training set would sit far below them).

# %%
from aigc_course.applications import load_or_train_gan
from aigc_course.gan import generate
from aigc_course.vae import ConvVAE, checkpoint_path, load_cached_vae, save_vae, train_vae
from aigc_course.vae.latent import sample_prior

GAN_05 = budget("mnist_gan")  # chapter 05's budget: its improved GAN
gan_run = load_or_train_gan("mlp", GAN_05.epochs, GAN_05.train_subset, device=device, progress=False)
cached_vae = load_cached_vae(["vae_conv", "vae_conv_ch06"], device)  # chapter 03's model, else chapter 06's
if cached_vae is None:
    VAE_06 = budget("applications")  # the fallback chapter 06 uses, cached under the same name
    seed_everything(0)
    vae = ConvVAE()
    vae_images = samples_to_unit(training_digits(VAE_06.vae_train_images)[0])  # all digits when None
    vae_history = train_vae(vae, vae_images, epochs=VAE_06.vae_epochs, lr=1e-3, device=device)
    vae_seconds = vae_history["train/seconds"][-1]
    save_vae(vae, checkpoint_path("vae_conv_ch06"), epochs=VAE_06.vae_epochs, seconds=vae_seconds)
else:
    vae, vae_meta, _ = cached_vae
    vae_seconds = float(vae_meta.get("seconds", float("nan")))
samplers = {"GAN (ch. 05)": lambda n: generate(gan_run.generator, n, seed=5).unsqueeze(1),
            "VAE (ch. 03)": lambda n: sample_prior(vae, n, seed=5),
            "latent flow (ch. 07)": lambda n: latent_trained.sample(n, steps=BUDGET.sampling_steps,
                                                                    generator=torch.Generator().manual_seed(5)),
            "latent flow, guided": lambda n: latent_trained.sample(n, steps=BUDGET.sampling_steps, y=torch.arange(n) % 10,
                                                                   guidance=BUDGET.guidance,
                                                                   generator=torch.Generator().manual_seed(5))}
flow_minutes = (latent_trained.train_seconds + latent_trained.autoencoder_seconds) / 60
train_minutes = {"GAN (ch. 05)": sum(gan_run.history["train/seconds"]) / 60, "VAE (ch. 03)": vae_seconds / 60,
                 "latent flow (ch. 07)": flow_minutes, "latent flow, guided": flow_minutes}

# %%
from aigc_course.evaluation import comparison_markdown, evaluation_report, nearest_neighbour_pairs, plot_class_histograms
from aigc_course.diffusion import requested_accuracy

n_compare = BUDGET.eval_samples
compared, sample_seconds, compared_images = {}, {}, {}
for name, draw in samplers.items():
    draw(2)  # warm-up
    start = time.perf_counter()
    compared_images[name] = draw(n_compare)
    sample_seconds[name] = (time.perf_counter() - start) * 1000 / n_compare
    report = evaluation_report(compared_images[name], classifier, reference=reference, nn_queries=BUDGET.pixel_eval_samples)
    compared[name] = report["generated"]
compared = {"real digits": report["real"], **compared}
display(Markdown(comparison_markdown(compared) + "\n| training minutes | | " + " | ".join(
    f"{train_minutes[name]:.1f}" for name in samplers) + " |\n| sampling s per 1,000 digits | | " + " | ".join(
    f"{sample_seconds[name]:.2f}" for name in samplers) + " |"))
plot_class_histograms({name: r["class_fractions"] for name, r in compared.items()})
plt.show()
fig, axes = plt.subplots(1, len(compared_images), figsize=(5 * len(compared_images), 5))
for ax, (name, images) in zip(axes, compared_images.items()):
    show_images(images[:64], nrow=8, ax=ax, title=name)
plt.show()

# %% [markdown]
# **Memorization check · 记忆检查.** Top row: the latent flow model's digits; bottom row: the closest of
# the training images (pixel distance). The table's nearest-neighbour row says whether they are closer
# to the training set than unseen real digits are.

# %%
show_images(nearest_neighbour_pairs(compared_images["latent flow (ch. 07)"], samples_to_unit(digits), n=12), nrow=12,
            title="latent flow samples (top) and their nearest training images (bottom)")
plt.show()
models = list(samplers)
best_fd = min(models, key=lambda m: compared[m]["frechet_distance"])
best_is = max(models, key=lambda m: compared[m]["inception_score"])
flow, gan = compared["latent flow (ch. 07)"], compared["GAN (ch. 05)"]
print(f"Lowest Frechet distance: {best_fd} ({compared[best_fd]['frechet_distance']:.1f}); highest Inception-style score: "
      f"{best_is} ({compared[best_is]['inception_score']:.2f}).")
print(f"Latent flow against the GAN: FD {flow['frechet_distance']:.1f} vs {gan['frechet_distance']:.1f} "
      f"({flow['frechet_distance'] / gan['frechet_distance']:.2f}x, "
      f"{'lower' if flow['frechet_distance'] < gan['frechet_distance'] else 'higher'}); "
      f"IS {flow['inception_score']:.2f} vs {gan['inception_score']:.2f}; smallest class {flow['min_class_fraction']:.1%} "
      f"vs {gan['min_class_fraction']:.1%}; {train_minutes['latent flow (ch. 07)']:.1f} vs "
      f"{train_minutes['GAN (ch. 05)']:.1f} training minutes.")
guided = compared["latent flow, guided"]
guided_accuracy = requested_accuracy(classifier, compared_images["latent flow, guided"], torch.arange(n_compare) % 10)
print(f"Guided at w = {BUDGET.guidance:g} (told the class): {guided_accuracy:.1%} of requested digits recognised.")
for name, r in (("unconditional", flow), ("guided", guided)):
    checks = {"IS >= 9.3": r["inception_score"] >= 9.3,
              "FD <= half the GAN's": r["frechet_distance"] <= gan["frechet_distance"] / 2,
              "every class 8%-12%": 0.08 <= r["min_class_fraction"] and r["max_class_fraction"] <= 0.12}
    print(f"latent flow, {name}: IS {r['inception_score']:.2f}, FD {r['frechet_distance']:.1f} (the GAN's half: "
          f"{gan['frechet_distance'] / 2:.1f}), classes {r['min_class_fraction']:.1%}-{r['max_class_fraction']:.1%}; the "
          f"chapter's targets: " + ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in checks.items()))
for m in models:
    ratio = compared[m]["nn_distance_median"] / compared["real digits"]["nn_distance_median"]
    print(f"{m:22s}: median nearest-training distance {ratio:.2f}x that of real test digits "
          f"({'no sign of copying' if ratio >= 0.9 else 'closer to the training set than real digits: inspect'})")

# %% [markdown]
# ## 10. Explore · 交互探索
#
# **Scrub the denoising.** The same 16 noise images, frame by frame along the sampler's path (frame 0 is
# the noise; the last frame the digits). Choose the flow model's Euler path or the DDPM model's DDIM path.

# %%
import ipywidgets as widgets

from aigc_course.diffusion import ddim_sample
from aigc_course.diffusion.plots import trajectory_frame

trajectories = {
    "flow matching, Euler": flow_sample(flow_trained.model, 16, (1, 28, 28), steps=BUDGET.sampling_steps, trajectory=True,
                                        generator=torch.Generator().manual_seed(6), progress=False),
    "DDPM, DDIM": ddim_sample(ddpm_trained.model, ddpm_trained.schedule, 16, (1, 28, 28), steps=BUDGET.sampling_steps,
                              trajectory=True, generator=torch.Generator().manual_seed(6), progress=False)}


def show_frame(path="flow matching, Euler", index=0):
    trajectory = trajectories[path]
    index = min(index, len(trajectory.frames) - 1)
    show_images(trajectory_frame(trajectory, index), nrow=8, title=f"{path}: frame {index}, network time "
                f"{trajectory.times[index]:.2f}")
    plt.show()


widgets.interact(show_frame, path=list(trajectories), index=widgets.IntSlider(0, 0, BUDGET.sampling_steps));

# %% [markdown]
# **The number of steps.** The same noise through each sampler with 1 to 50 steps (DDIM for the DDPM
# model; Euler or Heun for the flow model).

# %%
def show_steps(sampler="euler", steps=BUDGET.sampling_steps):
    trained = ddpm_trained if sampler == "ddim" else flow_trained
    images = sample_images(trained.model, sampler, steps, n=16, schedule=trained.schedule, seed=7)
    show_images(images, nrow=8, title=f"{sampler}, {steps} steps")
    plt.show()


widgets.interact(show_steps, sampler=["ddim", "euler", "heun"], steps=widgets.IntSlider(BUDGET.sampling_steps, 1, 50));

# %% [markdown]
# **Guidance and the requested digit.** The pixel flow model asked for one digit, with guidance scale $w$.

# %%
def show_guided(digit=7, guidance=BUDGET.guidance):
    images = sample_images(flow_trained.model, "euler", BUDGET.sampling_steps, n=16, digit=digit, guidance=guidance, seed=8)
    show_images(images, nrow=8, title=f"'draw me a {digit}', w = {guidance:g}")
    plt.show()


widgets.interact(show_guided, digit=widgets.IntSlider(7, 0, 9), guidance=widgets.FloatSlider(BUDGET.guidance, min=0.0,
                                                                                               max=8.0, step=0.5));

# %% [markdown]
# ## 11. Closing note · 总结
#
# The figures of this run, measured above (in fast mode every model is tiny and the numbers mean little):

# %%
print(f"mode: {'fast' if is_fast_mode() else 'full'}; device {device}; {torch.get_num_threads()} torch threads")
print(f"forward process: closed form vs chain within {worst_z:.2f} standard errors ({n_chain:,} samples)")
print("2-D ring: " + "; ".join(f"{name}: {c.modes_covered}/8 modes" for name, (_, c, _) in toy_results.items()))
print(f"pixel models ({BUDGET.pixel_minutes} min each): best FD {best_pixel['frechet_distance']:.1f} "
      f"({best_pixel['model']}, {best_pixel['sampler']}, {best_pixel['steps']} steps)")
print(f"latent flow: FD {latent_report['frechet_distance']:.1f} vs pixel flow {pixel_report['frechet_distance']:.1f} "
      f"on {n_score} digits; sampling {speedup:.1f}x faster")
print("guidance: " + ", ".join(f"w={r['guidance']:g}: {r['accuracy']:.1%} recognised, diversity {r['diversity']:.2f}"
                               for r in sweep))
for name in models:
    r = compared[name]
    print(f"{name:22s}: IS {r['inception_score']:.2f}, FD {r['frechet_distance']:.1f}, classes "
          f"{r['min_class_fraction']:.1%}-{r['max_class_fraction']:.1%}, {train_minutes[name]:.1f} min training, "
          f"{sample_seconds[name]:.2f} s per 1,000 digits")

# %% [markdown]
# What the chapter shows, in words that the numbers above test (read them against this run's output):
#
# - **Denoising is a regression.** The forward process is a closed-form Gaussian, the loss a mean squared
#   error, and its optimum, the posterior mean, is the score in disguise; on the ring of Gaussians the
#   table of Section 4 shows how far a small trained network is from that optimum at each noise level.
# - **No mode collapse by construction.** A denoiser is pulled towards every mode its training data
#   contains; nothing rewards it for dropping one, unlike a generator that only has to fool the current
#   discriminator.
# - **The cost moved to sampling, and then back.** DDPM's ancestral sampler calls the network a thousand
#   times per sample; DDIM and the flow samplers above used the few steps in the tables, and a latent
#   space makes each call cheaper.
# - **Guidance is a dial** between variety and faithfulness to the request.
#
# **Reproducing the figures** outside the notebook: `python benchmarks/diffusion.py` trains and scores
# the three methods at checkpoints of their budgets (quality against training minutes and sampling steps),
# and `python -m aigc_course train` trains the chapter's models into the cache this notebook loads from.
#
# **Back to the start:** [00 · Welcome and overview · 欢迎与概览](00_overview.ipynb).
