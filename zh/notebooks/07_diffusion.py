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
# # 07 · 扩散模型与流匹配 · Diffusion models and flow matching
#
# **扩散模型**（diffusion model）通过学习*去噪*来学会生成：数据被一步一步地淹没在高斯噪声中（**前向加噪**，forward noising process），而一个网络学习每次撤销其中的一步（**去噪**，denoising）。采样从纯噪声出发，运行学到的反向过程。**流匹配**（flow matching）是它最简单的现代形式：网络学习一个速度场，沿着直线把噪声搬运到数据。今天由 AI 生成的几乎每一张图像、每一段视频和每一段声音，都出自这两类模型；本章从零开始构建这两者，并在同样的数字上、用同一个分类器，把它们与第 05 章的 GAN 和第 03 章的 VAE 对比测量。
#
# **本笔记本内容**：
# 1. 为什么是扩散模型：原文遗漏了什么；
# 2. 前向过程的闭式形式，与逐步模拟马尔可夫链的结果对照检验（练习 7.1）；
# 3. 噪声调度（noise schedule）及其信噪比；一个数字沿着 t 会变成什么样；
# 4. 训练目标：从 ELBO 到简单的噪声预测损失（练习 7.2），以及它与**得分匹配**（score matching）的联系，并与一个混合分布的精确最优去噪器对照检验；
# 5. 在第 02 章由 8 个高斯分布组成的圆环上做二维实验：一个反向步（练习 7.3），以及与第 02 章发生模式崩溃的 GAN 比较覆盖的模式；
# 6. 手写数字：U形网络（U-Net）、DDPM、DDIM 和流匹配；质量与采样步数、与训练时间的关系；
# 7. **潜在扩散**（latent diffusion），即 Stable Diffusion 的做法：它省下了什么，代价又是什么；
# 8. **无分类器引导**（classifier-free guidance）：“给我画一个 7”；
# 9. 本章正是为它而写的比较：扩散模型对比第 05 章的 GAN 和第 03 章的 VAE；
# 10. 交互控件：逐帧查看去噪过程，改变步数和引导强度。

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
# ## 1. 为什么是扩散模型 · Why diffusion
#
# > **⚠️ 勘误 · Errata（超出原文的内容，原文 §1.1 和 §4.1）**：原文把 GAN 和 VAE 介绍为 AIGC 的*全部*核心：“AIGC的关键技术，包括生成对抗网络（GAN）、变分自编码器（VAE）等”（§1.1），以及“AIGC中的概率生成模型主要包括生成对抗网络（GAN）和变分自编码器（VAE）”（§4.1）。它从未提到扩散模型。然而，自从 Dhariwal 和 Nichol（2021）证明扩散模型在 ImageNet 上胜过 GAN 以来，几乎所有 AI 生成的图像、视频和音频都出自扩散模型及其后继者流匹配（Stable Diffusion、DALL·E 2 和 3、Imagen、Stable Audio）。本章是课程新增的内容：从零开始构建这项技术，并在同样的数字、同一个分类器和同一颗 CPU 上，把它与原文的两类模型对比测量。
#
# 一段话讲清思路：破坏数据很容易（不断加噪声，直到什么都不剩）；网络可以学会撤销*一点点*噪声（一个去噪回归问题，训练起来和任何分类器一样稳定）；把许多小的去噪步骤串起来，就能把纯噪声变成数据。没有需要平衡的判别器，也没有后验可能坍塌的编码器：一个网络，一个均方误差损失。
#
# ## 2. 前向加噪 · The forward process
#
# 固定一个**噪声调度**（noise schedule）：方差 $\beta_0, \dots, \beta_{T-1} \in (0, 1)$（我们使用 $T = 1000$ 步，从 0 开始编号）。每一步把信号缩小一点，再加上一点高斯噪声：
#
# $$q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{1-\beta_t}\, x_{t-1},\ \beta_t I\big).$$
#
# 缩小使总方差保持有界：如果 $x_{t-1}$ 的方差为 1，$x_t$ 的方差也为 1。记 $\alpha_t = 1 - \beta_t$、$\bar\alpha_t = \prod_{s \le t} \alpha_s$，那么任何一步都可以从数据出发**一步跳到**。用归纳法：如果 $x_{t-1} = \sqrt{\bar\alpha_{t-1}}\,x_0 + \sqrt{1-\bar\alpha_{t-1}}\,\epsilon'$，那么 $x_t = \sqrt{\alpha_t \bar\alpha_{t-1}}\,x_0 + \sqrt{\alpha_t(1-\bar\alpha_{t-1})}\,\epsilon' + \sqrt{1-\alpha_t}\,\epsilon''$，而这两个相互独立的高斯项合起来是一个方差为 $\alpha_t - \bar\alpha_t + 1 - \alpha_t = 1 - \bar\alpha_t$ 的高斯项：
#
# $$q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\, x_0,\ (1-\bar\alpha_t) I\big), \qquad
# x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon, \quad \epsilon \sim \mathcal N(0, I).$$
#
# 正是这个闭式形式让训练变得便宜：第 $t$ 步的一个训练样本只需要一次乘加运算，而不是沿着链走 $t$ 步。
#
# **练习 7.1 · 闭式加噪**：编写 `q_sample(x0, t, noise, schedule)`：`x0` 是一个批次 `[B, ...]`（图像 `[B, 1, 28, 28]` 或二维点 `[B, 2]`），`t` 为每个样本存放一个步编号（int64 `[B]`），`noise` 是与 `x0` 形状相同的 $\epsilon$，`schedule.alpha_bars` 是 $\bar\alpha$ `[T]`。

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
# **对照马尔可夫链检验**：三个取值分别为 $-1$、$0$ 和 $0.8$ 的“像素”，每个复制 `BUDGET.eval_samples` 份，一方面一步一步地通过马尔可夫链（`simulate_forward_chain`，每份要随机抽取 $t+1$ 次），另一方面单独通过你的 `q_sample`（只抽取一次）。两组样本的均值都应该是 $\sqrt{\bar\alpha_t}\,x_0$，方差都应该是 $1-\bar\alpha_t$。**容差，在看结果之前先说明**：每个样本均值和样本方差都在公式值的 4 个蒙特卡罗标准误以内（均值的标准误是 $\sqrt{\mathrm{var}/n}$；对高斯样本而言，方差的标准误约为 $\mathrm{var}\sqrt{2/(n-1)}$）。

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
# ## 3. 噪声调度与信噪比 · Noise schedules and the signal-to-noise ratio
#
# 信号消失得多快，由调度来决定。Ho et al.（2020）让 $\beta_t$ 从 $10^{-4}$ 到 $0.02$ **线性**（linear）分布。Nichol 和 Dhariwal（2021）注意到，用这种调度时，最后几百步几乎是纯噪声，白白浪费了，于是提出了**余弦**（cosine）调度 $\bar\alpha_t = f(t)/f(0)$，$f(t) = \cos^2\!\big(\frac{t/T + s}{1 + s}\cdot\frac{\pi}{2}\big)$，$s = 0.008$。比较不同调度的一个简洁方法，是看 $x_t$ 的**信噪比**（signal-to-noise ratio）：
#
# $$\mathrm{SNR}(t) = \frac{\bar\alpha_t}{1 - \bar\alpha_t}$$
#
# （对单位方差的数据而言，这是信号项的功率与噪声项的功率之比。）

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
# 余弦调度在 log-SNR 上更均匀地分配它的步数：它在开始时更慢地破坏信号；而用线性调度时，最后一段步数的 SNR 小到这些步几乎教不了网络任何东西。
#
# ### 沿时间步的图像 · What a digit looks like along t
#
# 同样的四个测试数字、**同样的**噪声 $\epsilon$，在十个时间步上，每种调度各一幅图（像素映射到 $[-1, 1]$，这是模型看到的样子；显示时截断到像素范围内）。然后用一个数字代替印象：把 `BUDGET.eval_samples` 个测试数字的 $x_t$ 交给课程的数字分类器（第 05 章的评判者）；它还能在多大比例上说出正确的数字？

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
# ## 4. 训练目标 · The training objective
#
# ### 从 ELBO 到简单损失 · From the ELBO to the simple loss
#
# 反向过程也是一条马尔可夫链，$p_\theta(x_{t-1} \mid x_t) = \mathcal N(\mu_\theta(x_t, t), \sigma_t^2 I)$，从 $p(x_T) = \mathcal N(0, I)$ 出发。与第 03 章的 VAE 一样，$\log p_\theta(x_0)$ 以一个**证据下界**（ELBO）为下界，只是这里把整条链 $x_{1:T}$ 当作潜变量，把前向过程当作（固定的、不学习的）编码器。整理之后（Ho et al. 2020，式 5）：
#
# $$-\log p_\theta(x_0) \le \mathbb E_q\Big[\underbrace{\mathrm{KL}(q(x_T \mid x_0)\,\|\,p(x_T))}_{\text{no parameters}}
# + \sum_{t > 1} \underbrace{\mathrm{KL}\big(q(x_{t-1} \mid x_t, x_0)\,\|\,p_\theta(x_{t-1} \mid x_t)\big)}_{L_{t-1}}
# - \log p_\theta(x_0 \mid x_1)\Big].$$
#
# 前向后验是闭式的高斯分布（对两个高斯分布应用贝叶斯法则）：$q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$，其中 $\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t} x_0 + \frac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t} x_t$，$\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t$。方差固定的两个高斯分布之间的 KL，就是它们均值之间的平方距离：$L_{t-1} = \frac{1}{2\sigma_t^2}\lVert\tilde\mu_t - \mu_\theta\rVert^2 + C$。代入 $x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\epsilon)/\sqrt{\bar\alpha_t}$，得到 $\tilde\mu_t = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\epsilon\big)$；让网络也采用同样的形式 $\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\epsilon_\theta(x_t, t)\big)$：网络预测的是**噪声**，而
#
# $$L_{t-1} = \frac{\beta_t^2}{2\sigma_t^2\,\alpha_t\,(1-\bar\alpha_t)}\,\mathbb E\,\lVert \epsilon - \epsilon_\theta(x_t, t)\rVert^2 + C .$$
#
# Ho et al. 去掉了前面的权重，并均匀地采样 $t$，这样训练出来的样本更好：
#
# $$L_{\text{simple}} = \mathbb E_{x_0,\ t \sim \mathcal U\{0..T-1\},\ \epsilon \sim \mathcal N(0, I)}\
# \big\lVert \epsilon - \epsilon_\theta\big(\sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon,\ t\big)\big\rVert^2 .$$
#
# 一个训练步：取数据、一个随机的步和随机噪声，一步跳到加噪后的数据，再回归噪声。没有对手，训练时也不需要运行采样链。
#
# **练习 7.2 · 随机一步上的损失**：编写 `ddpm_loss(model, x0, schedule, generator)`。按以下顺序从 `generator` 中抽取：先抽步 `t = torch.randint(0, T, (B,))`，再抽噪声 `torch.randn(x0.shape)`；用你的 `q_sample` 给 `x0` 加噪；网络接收的时间是 $[0, 1]$ 内的一个浮点数，`schedule.network_time(t)` $= t/(T-1)$；返回所有元素上的均方误差。

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
# ### 与得分匹配的联系 · The link to score matching
#
# 均方误差的最小值点是一个条件均值：最好的网络输出 $\epsilon^*(x_t, t) = \mathbb E[\epsilon \mid x_t]$。**Tweedie 公式**（Tweedie's formula）把它与加噪数据分布 $p_t$ 的**得分**（score）$\nabla_x \log p_t(x)$ 联系起来：对于 $x_t = \sqrt{\bar\alpha_t} x_0 + \sqrt{1-\bar\alpha_t}\epsilon$，
#
# $$\nabla_{x_t} \log p_t(x_t) = -\frac{\mathbb E[\epsilon \mid x_t]}{\sqrt{1-\bar\alpha_t}} .$$
#
# （在积分号下对 $p_t(x_t) = \int q(x_t \mid x_0)\,p(x_0)\,dx_0$ 求导：$\nabla_{x_t} q(x_t \mid x_0) = -\frac{x_t - \sqrt{\bar\alpha_t}x_0}{1-\bar\alpha_t}\,q = -\frac{\epsilon}{\sqrt{1-\bar\alpha_t}}\,q$，再除以 $p_t$。）所以，用 $L_{\text{simple}}$ 训练 $\epsilon_\theta$ 就是**去噪得分匹配**（denoising score matching；Vincent 2011；Song and Ermon 2019）：$-\epsilon_\theta/\sqrt{1-\bar\alpha_t}$ 估计每个噪声水平上的得分，采样时一边让噪声缩小，一边沿着它往概率更高的方向走。
#
# **数值检验**：对于高斯混合分布，一切都可以精确计算（`aigc_course.diffusion.toy`：各分量上的后验是一个 softmax，每个分量内的后验均值是线性的）。取第 02 章由 8 个高斯分布组成的圆环，做三项检验：(a) 精确的去噪器 $\mathbb E[x_0 \mid x_t]$ 对比一个对公式一无所知的蒙特卡罗估计（从数据出发做重要性采样）；(b) Tweedie 公式：$-\mathbb E[\epsilon \mid x_t]/\sqrt{1-\bar\alpha_t}$ 对比用 autograd 求出的 $\log p_t$ 的梯度；(c) 用**你的** `ddpm_loss` 训练的一个小网络，对比精确的 $\mathbb E[\epsilon \mid x_t]$。

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
# 现在做 (c)。实验场的网络（`ToyDenoiser`）是第 02 章的 MLP，输入是点的坐标和时间的正弦特征；它用你的 `ddpm_loss` 和线性调度，在圆环上不断抽取的新样本上训练 `BUDGET.toy_steps` 步。我们在几个步上取新的带噪点，把它的 $\epsilon_\theta$ 与精确的 $\mathbb E[\epsilon \mid x_t]$ 比较，并把它的损失与**任何网络所能达到的最低损失**比较（精确去噪器在同样的抽样上的损失；它不为零：噪声无法从 $x_t$ 中完全恢复）。一个达到最优的网络，差距为 0，损失也与最优相同；平均而言，差距的平方恰好等于它的损失超出最优值的部分。

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
# 在噪声小的地方（较早的步），$\mathbb E[\epsilon \mid x_t]$ 在狭窄的模式之间变化很快，是最难学的部分；在噪声大的地方，混合分布看起来就像一团宽阔的斑点，网络能把它匹配得很好。即使对精确的去噪器，损失也远不接近零：一条下降的损失曲线并不能说明全部问题，正确的标尺是最优值，而在这里我们可以把它算出来。
#
# ## 5. 二维实验场 · The 2-D playground
#
# ### 一个反向步 · One reverse step
#
# **DDIM**（Song, Meng and Ermon 2021）把训练好的 $\epsilon_\theta$ 变成一个可以跳步的*确定性*采样器。从 $x_t$ 出发，先估计干净的点，再把它重新加噪到更早的一步 $s < t$ 所对应的较低噪声水平，并把预测的噪声再用作方向：
#
# $$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta(x_t, t)}{\sqrt{\bar\alpha_t}}, \qquad
# x_s = \sqrt{\bar\alpha_s}\,\hat x_0 + \sqrt{1-\bar\alpha_s}\,\epsilon_\theta(x_t, t).$$
#
# 如果用真实的噪声代替 $\epsilon_\theta$，这一步恰好落在 $q(x_s \mid x_0)$ 用同一个 $\epsilon$ 得到的样本上；它是一族采样器中 $\eta = 0$ 的那一个，而这一族中 $\eta = 1$ 的那一个就是 DDPM 的随机祖先采样步。
#
# **练习 7.3 · 一个 DDIM 步**：编写 `ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev)`，其中 `alpha_bar_t`（$\bar\alpha_t$）和 `alpha_bar_prev`（$\bar\alpha_s$；1.0 表示“一直走到数据”）是浮点数。

# %%
def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar_t: float, alpha_bar_prev: float) -> torch.Tensor:
    """x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev) eps, x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t); [B, ...]."""
    raise NotImplementedError("Exercise 7.3: one deterministic DDIM step")


# %%
from aigc_course.checks.diffusion import check_ddim_step

ddim_step = check_ddim_step(ddim_step)

# %% [markdown]
# 把你的这一步放进采样循环：从最后一步的 $\mathcal N(0, I)$ 出发，走 `BUDGET.sampling_steps` 个等间距的 DDIM 步，一直走到数据，每一步调用一次训练好的网络。

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
# 为什么实验场使用线性调度：第一个 DDIM 步计算 $\hat x_0$ 时要除以 $\sqrt{\bar\alpha_{T-1}}$，所以预测噪声中的误差 $\delta$ 落到 $x_s$ 中时，大约被乘以 $\sqrt{\bar\alpha_s / \bar\alpha_{T-1}}$。图像有保护：$\hat x_0$ 会被截断到像素范围内；二维点没有这样的范围。下面是每种调度在本次运行第一步上的放大倍数：

# %%
for name, schedule in schedules.items():
    ab = schedule.alpha_bars
    first, second = indices[0], indices[1]
    print(f"{name:32s}: alpha_bar at step {first} = {float(ab[first]):.2e}; an error in eps is amplified "
          f"{math.sqrt(float(ab[second]) / float(ab[first])):,.0f}x by the first step (to step {second})")

# %% [markdown]
# ### 流匹配 · Flow matching
#
# 流匹配（Lipman et al. 2023）和**整流流**（rectified flow；Liu, Gong and Liu 2023）抛开了马尔可夫链。选一条从噪声到数据的路径，这里是直线 $x_t = (1-t)\,\epsilon + t\,x_0$，其中 $t \in [0, 1]$（$t=0$ 是噪声，$t=1$ 是数据：与 DDPM 的步编号方向相反），它的速度是 $\frac{dx_t}{dt} = x_0 - \epsilon$。让网络回归这个速度：
#
# $$L_{\text{FM}} = \mathbb E_{x_0,\ \epsilon,\ t \sim \mathcal U[0,1]}\ \big\lVert (x_0 - \epsilon) - v_\theta(x_t, t)\big\rVert^2 .$$
#
# 和前面一样，最小值点是一个条件均值 $v^*(x, t) = \mathbb E[x_0 - \epsilon \mid x_t = x]$，而常微分方程 $\frac{dx}{dt} = v^*(x, t)$ 恰好把 $t = 0$ 处的 $\mathcal N(0, I)$ 搬运成 $t = 1$ 处的数据分布。采样就是对这个方程积分：欧拉法 $x \leftarrow x + \Delta t\, v_\theta(x, t)$，或者 Heun 法（对一步两端的斜率取平均：网络调用次数加倍，二阶精度）。同样的网络，不同的目标。下面用同样的步数训练它；然后用第 02 章的覆盖率指标，给两个模型以及**第 02 章发生模式崩溃的 GAN**（每个判别器步对应 5 个生成器步；这里用第 02 章自己的预算和配置重新运行，因此在第 02 章的 5,000 个样本上评分）打分。

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
# ## 6. 手写数字 · Digits
#
# ### 网络：一个小型 U形网络 · The network: a small U-Net
#
# 对于图像，去噪器是一个 **U形网络**（U-Net；Ronneberger et al. 2015，Ho et al. 2020 也采用它，这里为 CPU 缩小了）：卷积一路下采样到 7×7，再上采样回 28×28，相同分辨率之间有跳跃连接，使精细的细节不必挤过瓶颈；残差块使用组归一化；时间 $t$ 通过正弦特征和一个小 MLP 进入每一个块，再加上一个可学习的类别嵌入（训练时有 10% 的概率把标签替换为一个“无类别”标记，第 8 节会用到它）。一个网络同时服务于两种目标：对 DDPM 它输出 $\epsilon_\theta$，对流匹配它输出 $v_\theta$。
#
# 两者都在缩放到 $[-1, 1]$ 的 MNIST 上训练，使用 Adam 和权重的移动平均（EMA，与第 05 章相同），各自的墙钟时间预算相同（`BUDGET.pixel_minutes`），DDPM 使用余弦调度。如果课程的数据缓存中已经有一个用完全相同的设置训练好的模型（来自本笔记本先前的一次运行，或来自 `python -m aigc_course train`），就直接加载它。

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
# ### 四种采样器 · Four samplers
#
# 同样的噪声，四种把它变成数字的走法。**DDPM 祖先采样**走完全部 $T = 1000$ 个随机步，$x_{t-1} = \tilde\mu_t(x_t, \hat x_0) + \tilde\sigma_t z$；**DDIM** 用同一个网络走 `BUDGET.sampling_steps` 个确定性的步；流模型用**欧拉**（Euler）步或 **Heun** 步对它的常微分方程积分。

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
# ### 质量与采样步数 · Quality against sampling steps
#
# 每个模型用每种采样器、每种步数各画出 `BUDGET.pixel_eval_samples` 个数字（无条件地：使用“无类别”标记），并用第 05 章的指标评分：**类 Inception 分数**（IS，最高为 10；第 9 节会在模型的分数旁边打印真实数字的分数），以及在分类器特征空间中相对于前 `BUDGET.eval_samples` 个测试数字的**弗雷歇距离**（FD，越低越好）。采样器的成本是它调用网络的次数（NFE）：每步一次，Heun 每步两次。

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
# ## 7. 潜在扩散 · Latent diffusion
#
# Stable Diffusion（Rombach et al. 2022）并不在像素上做扩散。先训练一个自编码器（只训练一次），把图像压缩成一个小的潜在编码，再以清晰的重建还原回来（没有 VAE 那样的 KL 压力，所以重建保持清晰）；然后由生成模型学习这些**编码**的分布。每个训练步和采样步处理的是一个 32 个数的向量，而不是 784 个像素，于是一个普通的 MLP（带时间和类别嵌入的残差 MLP）就取代了 U形网络。解码器只在最后调用一次。这里：先训练一个卷积自编码器 `BUDGET.autoencoder_minutes` 分钟，再在它的 32 维潜在空间中训练一个流匹配速度 MLP `BUDGET.latent_minutes` 分钟。

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
# 潜在空间的代价在于自编码器：它的解码器画不出来的东西，任何潜在模型都生成不了（上面重建的 FD 是用测试数字、对照同一个测试集计算的，所以即使有偏差，也是偏乐观）。节省体现在每一步上：U形网络处理一张 28×28 的图像，而 MLP 只处理一个 32 维向量；表中的每秒训练样本数和采样时间说明了节省了多少。
#
# ### 质量与步数、与训练时间的关系 · Quality against steps and against training time
#
# 廉价的潜在模型让我们在这里负担得起这两条曲线。步数：对 `BUDGET.step_sweep` 中的每一种欧拉步数，各画 `BUDGET.eval_samples` 个数字。训练时间：在同样的编码上再次训练同一个速度 MLP，在 `BUDGET.latent_minutes` 的四分之一、一半和全部时暂停，每次暂停时评分（训练从暂停处继续：同一个优化器，同一个移动平均）。

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
# ## 8. 无分类器引导：“给我画一个 7” · Classifier-free guidance: "draw me a 7"
#
# 本章的每个模型都是按类别条件训练的，训练时有 10% 的概率把标签替换为“无类别”标记，所以**一个**网络既能给出条件预测 $v_\theta(x, t, y)$，也能给出无条件预测 $v_\theta(x, t, \varnothing)$。无分类器引导（Ho and Salimans 2022）用下式采样：
#
# $$\tilde v = v_\theta(x, t, \varnothing) + w\,\big(v_\theta(x, t, y) - v_\theta(x, t, \varnothing)\big)$$
#
# （对 $\epsilon$ 也一样）：$w = 0$ 忽略标签，$w = 1$ 就是普通的条件模型，$w > 1$ 则从“任意一个数字”向“这个数字”外推。用得分的语言来说，$w$ 缩放的是一个隐式分类器 $\log p(y \mid x)$ 的梯度，它让每个类别的样本更鲜明，同时减少它们的多样性。测量的是：在每个引导强度下，每个类别各画 `BUDGET.guidance_per_class` 个数字，课程分类器认出所要求数字的比例，以及多样性（为同一类别画出的两个数字之间的平均像素距离）。

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
# ## 9. 扩散模型与 GAN、VAE 的比较 · Diffusion against the GAN and the VAE
#
# 本章正是为这个比较而写的：第 05 章改进的 GAN、第 03 章的卷积 VAE 和本章的潜在流模型，各自使用它所在那一章的预算（如果那些章节运行过，就从数据缓存中加载，否则就在这里训练；在快速模式下它们都很小）。各自的训练分钟数不同，打印在分数旁边。潜在流模型出现两次，是同一个网络、同样的 `BUDGET.sampling_steps` 个欧拉步：**无条件**（使用“无类别”标记，就像从不被告知类别的 GAN 和 VAE 一样），以及**引导**：依次要求它画出每一个数字（第 $i$ 个数字的标签为 $i \bmod 10$），使用默认强度 `BUDGET.guidance` 的无分类器引导。引导的那一列被告知要画哪个类别，所以它的类别直方图按构造就是平的，它的类 Inception 分数也因此得益；比较时要记住这一点。每个模型各取 `BUDGET.eval_samples` 个数字，用第 05 章的指标评估；最近邻那一行把每个模型到最近训练图像的距离中位数，与真实*测试*数字的同一距离相比较（复制了训练集的模型会远低于后者）。

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
# **记忆检查 · Memorization check**：上面一行是潜在流模型画出的数字；下面一行是离它们最近的训练图像（按像素距离）。表中最近邻那一行说明，它们是否比未见过的真实数字更接近训练集。

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
# ## 10. 交互探索 · Explore
#
# **逐帧查看去噪过程**：同样的 16 张噪声图像，沿着采样器的路径逐帧显示（第 0 帧是噪声；最后一帧是数字）。可以选择流模型的欧拉路径，或 DDPM 模型的 DDIM 路径（下拉框 `path` 选择路径，滑块 `index` 选择帧）。

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
# **步数**：同样的噪声，用每种采样器走 1 到 50 步（DDPM 模型用 DDIM；流模型用欧拉或 Heun）。下拉框 `sampler` 选择采样器，滑块 `steps` 选择步数。

# %%
def show_steps(sampler="euler", steps=BUDGET.sampling_steps):
    trained = ddpm_trained if sampler == "ddim" else flow_trained
    images = sample_images(trained.model, sampler, steps, n=16, schedule=trained.schedule, seed=7)
    show_images(images, nrow=8, title=f"{sampler}, {steps} steps")
    plt.show()


widgets.interact(show_steps, sampler=["ddim", "euler", "heun"], steps=widgets.IntSlider(BUDGET.sampling_steps, 1, 50));

# %% [markdown]
# **引导强度与所要求的数字**：要求像素流模型画出某一个数字，引导强度为 $w$（滑块 `digit` 选择数字，滑块 `guidance` 选择引导强度）。

# %%
def show_guided(digit=7, guidance=BUDGET.guidance):
    images = sample_images(flow_trained.model, "euler", BUDGET.sampling_steps, n=16, digit=digit, guidance=guidance, seed=8)
    show_images(images, nrow=8, title=f"'draw me a {digit}', w = {guidance:g}")
    plt.show()


widgets.interact(show_guided, digit=widgets.IntSlider(7, 0, 9), guidance=widgets.FloatSlider(BUDGET.guidance, min=0.0,
                                                                                               max=8.0, step=0.5));

# %% [markdown]
# ## 11. 总结 · Closing note
#
# 本次运行的数字，都已在上面测得（在快速模式下每个模型都很小，这些数字意义不大）：

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
# 本章说明了什么，下面用上面的数字可以检验的话来说（请对照本次运行的输出来读）：
#
# - **去噪是一个回归问题**：前向过程是闭式的高斯分布，损失是均方误差，而它的最优解，即后验均值，就是换了个样子的得分；在高斯圆环上，第 4 节的表格显示了一个训练好的小网络在每个噪声水平上离这个最优解有多远。
# - **从构造上就不会模式崩溃**：去噪器被拉向它的训练数据所包含的每一个模式；没有任何东西奖励它丢掉某个模式，这与只需骗过当前判别器的生成器不同。
# - **成本转移到了采样上，然后又转移回来**：DDPM 的祖先采样器每个样本要调用网络一千次；DDIM 和上面的流采样器只用了表中那寥寥几步，而潜在空间让每次调用更便宜。
# - **引导是一个旋钮**，在多样性与忠实于要求之间调节。
#
# **在笔记本之外复现这些数字**：`python benchmarks/diffusion.py` 在三种方法各自预算的若干检查点上训练并评分（质量与训练分钟数、与采样步数的关系），`python -m aigc_course train` 则把本章的模型训练到本笔记本所加载的缓存中。
#
# **回到起点**：[00 · 欢迎与概览 · Welcome and overview](00_overview.ipynb)。
