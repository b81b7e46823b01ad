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
# # 02 · 生成对抗网络 · Generative adversarial networks
#
# **生成对抗网络**（generative adversarial network，GAN）让两个网络相互对抗地训练：**生成器**（generator）$G$ 把随机噪声 $z$ 变成样本，**判别器**（discriminator）$D$ 则试图把真实数据与 $G$ 的输出区分开。本笔记本涵盖原文的 §3.1 和 §4.1.1，修正了其中的数学，并且每个结论都经过实际运行的检验。
#
# **本笔记本内容**：
# 1. 目标函数：双人博弈 $\min_G \max_D V(D, G)$（原文只给出了其中一半）；
# 2. 最优判别器 $D^*$：先推导，再在两个已知的一维密度上训练一个网络加以验证；
# 3. 从对数几率（logit）计算损失（练习 2.1 和 2.2），以及为什么*非饱和*的生成器损失能够训练；
# 4. 一个正确的训练步骤：为 $D$ 计算时*分离*（detach）生成样本，为 $G$ 计算时*冻结* $D$（练习 2.3）；
# 5. 原文 §3.1 的步骤和 §5 的 Keras 代码错在哪里；
# 6. 二维实验场：几秒钟就能学会的由 8 个高斯分布组成的圆环、判别器的决策面在训练中的变化、一个模式覆盖指标，以及一次出现**模式崩溃**（mode collapse）的训练；
# 7. 为什么在两个分布不重叠时原始 GAN 的梯度会消失，以及一种修正方法 WGAN-GP，在同一个圆环上训练。
#
# 第 05 章用这里实现的函数在 MNIST 上训练 GAN。

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
# ## 1. 二人博弈 · The two-player game
#
# 噪声 $z \sim p(z)$（这里取标准正态分布）经过生成器得到 $x' = G(z)$；样本 $x'$ 服从某个分布 $p_g$。判别器输出 $D(x) \in (0, 1)$，即它认为 $x$ 是**真实**样本的概率。两者进行同一场博弈，其**价值函数**（value function）为
#
# $$V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{z \sim p(z)}[\log(1 - D(G(z)))],
# \qquad \min_G \max_D V(D, G).$$
#
# $D$ 最大化 $V$：它希望在真实数据上 $D(x) \to 1$，在生成样本上 $D(G(z)) \to 0$；$V$ 就是一个“真还是假”分类器的对数似然。$G$ 最小化*同一个* $V$：只有第二项依赖于 $G$，当 $D(G(z)) \to 1$，也就是生成样本骗过 $D$ 时，这一项减小。
#
# > **⚠️ 勘误 · Errata（原文 §4.1.1）**：原文把训练目标表述为“GAN的训练目标是最大化判别器D的对数似然函数”，即最大化判别器的对数似然 $\mathcal{L}(D)$。这只是博弈的内层一半：目标中没有关于生成器的项，就没有任何东西来训练 $G$。正确的目标是上面的极小极大形式：$D$ 最大化 $V(D, G)$，而 $G$ *最小化*它。（原文的“$D(x') = p(x' \sim x)$”的意思是：$D(x')$ = $x'$ 来自数据分布、而不是来自 $G$ 的概率。）
#
# ## 2. 最优判别器 · The optimal discriminator
#
# 固定 $G$。把两个期望都写成对 $x$ 的积分（第二个期望用 $G(z)$ 的密度 $p_g$ 来写）：
#
# $$V(D, G) = \int p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x)) \, dx .$$
#
# 被积函数可以在每个 $x$ 处分别最大化：$a \log y + b \log(1 - y)$ 的导数是 $a/y - b/(1-y)$，在 $y = a / (a + b)$ 处为零，而且它是凹函数。所以最优判别器是
#
# $$D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} .$$
#
# 把它代回去，并记混合分布 $m = (p_{data} + p_g)/2$：
#
# $$V(D^*, G) = \mathbb{E}_{p_{data}}\Big[\log \frac{p_{data}}{2m}\Big] + \mathbb{E}_{p_g}\Big[\log \frac{p_g}{2m}\Big]
# = -\log 4 + \mathrm{KL}(p_{data} \| m) + \mathrm{KL}(p_g \| m) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \| p_g).$$
#
# **JS散度**（Jensen–Shannon divergence）总是 $\geq 0$，是对称的，并且只在 $p_g = p_{data}$ 时为零。因此，面对最优判别器，生成器最小化的是它的分布与数据分布之间的一个散度。它是*散度*而不是距离：它不满足三角不等式；它的平方根 $\sqrt{\mathrm{JSD}}$ 才是一个度量（Endres & Schindelin 2003）。它还是有界的：$\mathrm{JSD} \leq \log 2$，只要两个分布不重叠就会达到这个上界，第 7 节会说明这是一个问题。在最优点，$p_g = p_{data}$，处处有 $D^* = 1/2$，且 $V = -\log 4$。
#
# **验证一下**。下面的 $p_{data}$ 是两个高斯分布的混合，$p_g$ 是一个较宽的高斯分布，两者都有闭式表达。我们保持“$G$”固定（直接从 $p_g$ 采样），用第 3 节的判别器损失，在两者不断重新抽取的样本上训练一个小网络 $D$，再把它与公式比较。**容差（在看结果之前就定好）**：在混合密度 $m(x) \geq 0.02$ 的区域内，最大的 $|D - D^*|$ 不得超过 $0.05$；在 $m$ 下的平均误差 $\int m\,|D - D^*|\,dx$ 不得超过 $0.01$。

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
# 在 $p_{data}$ 占优的地方 $D^* \to 1$；在 $p_g$ 占优的地方 $D^* \to 0$；在两个密度相交处 $D^* = 1/2$。训练出的网络在阴影区域内与公式吻合；阴影区域之外两种样本几乎都没有，没有任何东西能约束那里的 $D$。
#
# 价值函数的三种算法（前两种在精细网格上做数值积分）：

# %%
print(f"V(D*, G)                  = {dstar.v_star:.5f}")
print(f"-log 4 + 2 JSD(p_data||p_g) = {-math.log(4) + 2 * dstar.jsd:.5f}   (JSD = {dstar.jsd:.5f} nats)")
print(f"V(trained D, G)           = {dstar.v_trained:.5f}   (<= V(D*, G): D* is the maximizer)")
print(f"-(mean D loss of the last 100 steps) = {-sum(d_losses[-100:]) / 100:.5f}   (a sampled estimate of V)")

# %% [markdown]
# ## 3. 损失函数：从对数几率计算 · The losses, from logits
#
# 网络输出的是一个**对数几率**（logit）$\ell$，而 $D = \sigma(\ell) = 1 / (1 + e^{-\ell})$。永远不要用 `torch.log(torch.sigmoid(l))` 计算 $\log \sigma(\ell)$：在 float32 中，$e^{89}$ 会溢出，$\sigma(-89)$ 被舍入为 $0$，它的对数是 $-\infty$。更糟的是，$\log(1 - \sigma(\ell))$ 在相当普通的对数几率上就会出问题：$\sigma(17)$ 恰好被舍入为 1。PyTorch 的 `F.binary_cross_entropy_with_logits(l, y)` 直接从 $\ell$ 计算 $-[y \log \sigma(\ell) + (1-y)\log(1-\sigma(\ell))]$，始终保持精确（准确值：$\ell \ll 0$ 时 $\log \sigma(\ell) \approx \ell$，$\ell \gg 0$ 时 $\log(1 - \sigma(\ell)) \approx -\ell$）：

# %%
print(" logit | naive log(sigmoid(l)) | -BCE_with_logits(l, 1) | naive log(1 - sigmoid(l)) | -BCE_with_logits(l, 0)")
for value in (-120.0, -89.0, -88.0, 15.0, 17.0, 120.0):
    l = torch.tensor([value])
    print(f"{value:6.0f} | {torch.log(torch.sigmoid(l)).item():21.4f} | "
          f"{-F.binary_cross_entropy_with_logits(l, torch.ones(1)).item():22.4f} | "
          f"{torch.log(1 - torch.sigmoid(l)).item():25.4f} | {-F.binary_cross_entropy_with_logits(l, torch.zeros(1)).item():22.4f}")

# %% [markdown]
# **练习 2.1 · 判别器损失**：最小化 $L_D = -V$ 就是最大化 $V$。对一批真实样本的对数几率 $r_i$（共 $B_r$ 个）和生成样本的对数几率 $f_j$（共 $B_f$ 个，个数可以与前者不同）：
#
# $$L_D = \frac{1}{B_r}\sum_i -\log \sigma(r_i) \;+\; \frac{1}{B_f}\sum_j -\log(1 - \sigma(f_j)),$$
#
# 每一项都是在各自批次上的均值，返回一个梯度能够流过的标量张量。对数几率可以是任意形状（`[B]` 或 `[B, 1]`）。对数几率为 $\pm 100$ 时，结果也必须是有限值。

# %%
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """L_D = mean -log sigmoid(real) + mean -log(1 - sigmoid(fake)); logits [B_r, ...] and [B_f, ...] -> scalar."""
    # Hint: -log sigmoid(l) is BCE-with-logits against the label 1; -log(1 - sigmoid(l)) against the label 0.
    # BEGIN SOLUTION (Exercise 2.1: discriminator loss)
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_term + fake_term
    # END SOLUTION


# %%
from aigc_course.checks.gan import check_discriminator_loss

discriminator_loss = check_discriminator_loss(discriminator_loss)
print("L_D when D(x) = 1/2 for every input:", discriminator_loss(torch.zeros(4), torch.zeros(4)).item(),
      " log 4 =", math.log(4))

# %% [markdown]
# **练习 2.2 · 生成器损失**：极小极大博弈给 $G$ 的损失是 $L_G^{\text{minimax}} = \frac{1}{B}\sum_j \log(1 - \sigma(f_j))$（它*最小化* $V$ 的第二项）。Goodfellow 等人则推荐使用**非饱和损失**（non-saturating loss）$L_G = \frac{1}{B}\sum_j -\log \sigma(f_j)$：目标相同（$D(G(z)) \to 1$），梯度不同。编写 `generator_loss(fake_logits, saturating=False)`，默认返回非饱和损失，`saturating=True` 时返回极小极大损失；对数几率为 $\pm 100$ 时，两者都必须是有限值。

# %%
def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """Non-saturating mean -log D(G(z)) (default) or minimax mean log(1 - D(G(z))); logits [B, ...] -> scalar."""
    # Hint: both are +- a BCE-with-logits; which label, and which sign?
    # BEGIN SOLUTION (Exercise 2.2: non-saturating generator loss)
    if saturating:
        return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    # END SOLUTION


# %%
from aigc_course.checks.gan import check_generator_loss

generator_loss = check_generator_loss(generator_loss)

# %% [markdown]
# **为什么非饱和损失能够训练**。对某个生成样本的对数几率 $\ell$ 求两种损失的导数，其中 $D = \sigma(\ell)$，$\sigma' = \sigma(1 - \sigma)$：
#
# $$\frac{\partial}{\partial \ell} \log(1 - \sigma(\ell)) = -D, \qquad \frac{\partial}{\partial \ell}\big(-\log \sigma(\ell)\big) = -(1 - D).$$
#
# 训练初期生成样本很差，$D$ 很容易识破它们：$D(G(z)) \approx 0$。此时极小极大损失的梯度 $-D$ **消失**了（损失*饱和*了），而非饱和损失的梯度接近 $-1$：生成器恰恰在最差的时候学得最快。下图由 autograd 对 `generator_loss` 求导得到，而不是按公式画出来的：

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
# ## 4. 正确的训练步骤 · One correct training step
#
# 每一步把两个网络各更新一次，各用各的优化器：
#
# 1. **D 步**（D-step）。用 `fake = G(noise).detach()`，在 $D(\text{real})$ 和 $D(\text{fake})$ 上计算 $L_D$。detach 在 $G$ 的输出处切断计算图：$L_D$ 的梯度到此为止，所以 $G$ 的参数不会从一个不属于它的损失那里得到梯度。只有 `d_optimizer` 执行一步更新。
# 2. **G 步**（G-step）。用*更新后*的 $D$ 和同一批噪声，在 $D(G(\text{noise}))$ 上计算 $L_G$。梯度必须*穿过* $D$ 传回（$G$ 正是这样得知 $D$ 认为什么是真实的），但在此期间 $D$ 的参数被**冻结**（`requires_grad_(False)`），梯度不会落到它们身上；之后再解冻。只有 `g_optimizer` 执行一步更新。
#
# **练习 2.3**：编写 `gan_training_step(generator, discriminator, g_optimizer, d_optimizer, real,
# noise, saturating=False)`：先做 D 步，再做 G 步，完全按上面的做法，并使用你的 `discriminator_loss` 和 `generator_loss`；以 Python 浮点数返回 `StepLosses(discriminator=L_D, generator=L_G)`（D 的损失取 D 更新之前的值，G 的损失用更新后的 D 计算）。检查会监视两个优化器：`d_optimizer` 执行更新时，$G$ 中不得有任何梯度；`g_optimizer` 执行更新时，$D$ 中不得有新的梯度；并且分别用 SGD 和 Adam 走两步之后，两个网络的参数都必须与参考实现的完全相同。

# %%
import torch.nn as nn

from aigc_course.gan import StepLosses


def gan_training_step(generator: nn.Module, discriminator: nn.Module, g_optimizer: torch.optim.Optimizer,
                      d_optimizer: torch.optim.Optimizer, real: torch.Tensor, noise: torch.Tensor,
                      saturating: bool = False) -> StepLosses:
    """Update D on real [B, ...] and detached fakes G(noise), then G through a frozen D; return both losses."""
    # Hint: optimizer.zero_grad() before each backward; `for p in discriminator.parameters(): p.requires_grad_(False)`.
    # BEGIN SOLUTION (Exercise 2.3: one GAN training step with correct detach/freeze)
    d_optimizer.zero_grad()
    fake = generator(noise)
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    d_optimizer.step()

    g_optimizer.zero_grad()
    for p in discriminator.parameters():
        p.requires_grad_(False)
    g_loss = generator_loss(discriminator(fake), saturating=saturating)
    g_loss.backward()
    for p in discriminator.parameters():
        p.requires_grad_(True)
    g_optimizer.step()
    return StepLosses(discriminator=d_loss.item(), generator=g_loss.item())
    # END SOLUTION


# %%
from aigc_course.checks.gan import check_gan_training_step

gan_training_step = check_gan_training_step(gan_training_step)

# %% [markdown]
# 本包还分别提供了这两半：`discriminator_step` 和 `generator_step`。下面测量每一半对*另一个*网络做了什么：

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
# ## 5. 原文的错误 · What the article gets wrong
#
# > **⚠️ 勘误 · Errata（原文 §3.1）**：原文的步骤说“判别器的目标是最大化对真实数据的分类准确率，同时最小化对生成数据的分类准确率”，即判别器应当最大化它在真实数据上的准确率，并*最小化*它在生成数据上的准确率。把生成样本分错的判别器是在帮生成器的忙；$D$ 应当把**两者**都分对（真实 → 1，生成 → 0），而且它是用对数似然 $V$（一个交叉熵）训练的，而不是用准确率，因为准确率没有梯度。这些步骤还漏掉了保证训练正确的两个细节：D 步中生成样本要被分离（detach），G 步中梯度要*穿过*一个参数不更新的判别器（第 4 节）。一步之内先更新哪个网络可以自由选择；本课程先更新 $D$。
#
# > **⚠️ 勘误 · Errata（原文 §5，Keras 代码）**：
# > - **生成器从未被训练去骗过判别器**。`generator.train_on_batch(noise,
# >   np.ones((batch_size, 1)))` 让生成器*自己*去拟合：它的损失把 $G$ 的像素与标签 1 相比较，$D$ 完全没有参与（目标的形状甚至是 $D$ 的判定结果的形状 `(batch_size, 1)`，而不是 $G$ 的图像的形状 `(batch_size, 28, 28, 1)`）。对这个损失而言，最好的生成器就是处处输出 1，不管 $D$ 怎么想。原文构建了堆叠模型 `gan = G then D`，却从未编译或训练它。正确的 Keras 做法是在编译 `gan` *之前*设置 `discriminator.trainable = False`，然后调用 `gan.train_on_batch(noise, np.ones((batch_size, 1)))`，这样损失就是 $D$ 的判定，而且只有 $G$ 的权重会改变：这正是第 4 节的分离与冻结。
# > - **缺少导入，名称未定义**：`numpy as np`、`LeakyReLU`、`Dropout` 和 `Adam` 从未导入，`mnist_data.next_batch` 在 TensorFlow 2 中并不存在（它是 TensorFlow 1 教程里的辅助函数）。代码照原样无法运行。
# > - **不存在的层**（`from tensorflow_addons.layers import GaussianNoise`）：TensorFlow Addons 中没有这个层（它是 `tf.keras.layers.GaussianNoise`），而且该项目已被弃用（2024 年 5 月停止维护）。§5.3 说“GaussianNoise层用于为输入噪声添加高斯噪声，以增加生成图像的多样性”，但这个 Keras 层只在训练时起作用：在 `generator.predict` 时它什么也不做。多样性来自 $z$。
# > - **与数据无关的“epoch”**（`for epoch in range(epochs)` 里面的 `for _ in range(batch_size)`）：每个“epoch”是 128 个随机批次，这个数字与数据毫无关系。一个 epoch 是对 60,000 张训练图像的一次完整遍历（469 个大小为 128 的批次）。在 `epochs = 10000` 时，这个循环要做 10,000 × 128 = 128 万次迭代，每次迭代调用三次 `train_on_batch`（D 在真实数据上、D 在生成数据上、G），远远超过这个任务的需要。
# >
# > 第 05 章用 PyTorch 正确地实现了整个 MNIST 项目。

# %% [markdown]
# ## 6. 二维实验场 · A 2-D playground
#
# 用图像来观察 GAN 的学习过程太慢了。在二维中我们能*看到*一切：数据是由 8 个高斯分布组成的圆环（半径 2，标准差 σ = 0.1，权重相等），$G$ 和 $D$ 是小型多层感知机（3 个隐藏层，每层 128 个单元，LeakyReLU），$z \in \mathbb{R}^2$ 服从标准正态分布，两者都使用 Adam（学习率 lr $10^{-3}$，β = (0.5, 0.999)，线性衰减到 0）。在 CPU 上，这个实验场（以及上面的 $D^*$ 实验）只用一个 torch 线程运行（`one_cpu_thread`）。
#
# **模式覆盖指标**。一个生成样本如果落在离它最近的模式中心 3σ 以内，就算*高质量*样本；一个模式如果拥有至少占全部样本 1% 的高质量样本，就算被*覆盖*。完美的生成器约有 98.9% 的样本落在 3σ 以内（下一个单元格会计算这个值），因此每个模式约占 12.4%，而不是 12.5%。我们对 5,000 个样本评分。作为校准，先看这个指标在真实数据本身上的结果：

# %%
from aigc_course.gan import GaussianRing, ToyGANConfig, mode_coverage, train_toy_gan

ring = GaussianRing(n_modes=8, radius=2.0, std=0.1)
real_coverage = mode_coverage(ring.sample(5000, torch.Generator().manual_seed(0)), ring)
print(f"real data: {real_coverage.modes_covered}/8 modes covered, {100 * real_coverage.high_quality_share:.1f}% "
      f"within 3σ (theory for a 2-D Gaussian: 1 - exp(-9/2) = {100 * (1 - math.exp(-4.5)):.1f}%)")
TARGET_MODES, TARGET_QUALITY = 7, 0.80

# %% [markdown]
# 用你的 `gan_training_step` 训练（如果你的练习 2.3 没有通过，就用参考实现）。图中橙色的点是 $G$ 的样本，底色是 $D$ 的决策面（蓝色：$D(x) \to 1$，“真实”；红色：$D(x) \to 0$，“生成”）；黑色圆圈是各模式的 3σ 半径。

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
# 从左到右阅读这些快照。第 0 步时，$G$ 把所有噪声映射成一小团，$D$ 一无所知。很快 $D$ 就把 $G$ 的样本周围涂成红色、把各模式涂成蓝色，$G$ 的样本沿着 $D$ 的梯度流向蓝色区域。凡是 $G$ 放的概率质量太少的地方，$D$ 保持蓝色并持续把样本拉过去；放得太多的地方，$D$ 变红并把样本推开。随着样本逐渐与数据吻合，损失向均衡点 $D = 1/2$ 处的取值靠拢（虚线）：$D$ 的损失为 $\log 4$，$G$ 的非饱和损失为 $\log 2$。它们会与这些值略有偏差：留在模式之间的少量样本很容易被 $D$ 识破。GAN 的损失不会像分类器的损失那样降到零；它们告诉你两个玩家是否势均力敌，而不是样本有多好。后者要靠覆盖指标来衡量。
#
# ### 模式崩溃 · Mode collapse
#
# 为什么 $D$ 需要跟上？面对一个**固定**的判别器，生成器的最佳策略是把*所有*样本都放到 $D$ 最高的地方：一个点。极小极大博弈只有在 $D$ 赶在 $G$ 到达那里之前做出反应时才能奏效。只改变**一件事**：让生成器每走 5 步，判别器才走 1 步（`generator_steps=5`），其余一切不变：判别器的步数、学习率调度、网络、数据和种子都相同。这个单元格会打印出所有不同的设置。

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
# 生成器做了什么？每个快照用两个数来描述它：$G$ 的样本的**分散程度**（spread，即样本到其中心的均方根距离；圆环本身的分散程度约等于它的半径 2）以及这个中心的位置，还有 $D$ 的决策面离“举棋不定”有多远，即在所画的正方形区域上 $|D(x) - 1/2|$ 的均值。

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
# 对照快照来读这些数字。当分散程度远低于圆环的分散程度时，生成器已经把样本挤成了一小团；当这一团的中心在快照之间移动时，它就在**跳跃**：$G$ 冲向 $D$ 当前最高的地方，而这时 $D$ 还远未学会数据的形状（于是 $|D - 1/2|$ 一直很小：$D$ 处处几乎举棋不定）；等 $D$ 追上那个位置，$G$ 又转移到别处。模式崩溃（生成器只覆盖数据中少数几个模式）和这种**模式跳跃**（mode hopping）是同一种失衡的两种表现。两次训练之间只有生成器的步数不同（已在上面打印）。
#
# **动手探索**。拖动滑块（`snapshot`），并排浏览两次训练的快照（两次训练进行到相同的比例）。观察 $D$ 在哪里是蓝色，以及 $G$ 的样本接下来去往哪里。

# %%
import ipywidgets as widgets

runs = {"1 G-step per D-step": run, "5 G-steps per D-step": collapsed}


def show_snapshots(index: int) -> None:
    snapshots_figure(runs, index)
    plt.show()


widgets.interact(show_snapshots, index=widgets.IntSlider(min=0, max=len(run.snapshots) - 1, step=1,
                                                         value=len(run.snapshots) - 1, description="snapshot"));

# %% [markdown]
# ## 7. 分布不重叠时 · When the distributions do not overlap
#
# 第 2 节表明，面对最优判别器，生成器最小化的是 $2\,\mathrm{JSD}(p_{data}\|p_g) - \log 4$。只要两个分布有重叠，这就是一个好目标。当它们不重叠时，无论 $p_g$ 在哪里，JSD 都卡在它的最大值 $\log 2$：把生成样本移得离数据更近并不会改变它，所以它的梯度为 0（Arjovsky & Bottou 2017）。对图像而言，这在训练开始时是常态：真实图像和一个刚开始训练的生成器的输出，都位于像素空间中薄薄的低维集合上，这些集合未必相交。
#
# 实验：$p_{data} = \mathcal N(0, s^2)$，生成器只做平移，$G(z) = \theta + s z$，因此 $p_g = \mathcal N(\theta, s^2)$，其中 $s = 0.1$（即圆环的 σ）。对每个距离 $\theta$，这个单元格通过数值积分计算 JSD 及其斜率 $d\,\mathrm{JSD}/d\theta$，计算 Wasserstein-1 距离（对两个互为平移的分布，它恰好等于 $\theta$），并用 autograd 计算生成器的梯度 $d/d\theta$：极小极大损失 $\mathbb E[\log(1 - D^*(G(z)))]$ 和非饱和损失 $\mathbb E[-\log D^*(G(z))]$ 的梯度，其中最优的 $D^*$ 保持固定，就像在 G 步中那样。

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
# 一旦两个钟形曲线相距几个 $s$，JSD 就不再变化，极小极大损失的梯度在数值上为零：无论生成器错得多离谱，它都学不到任何东西。非饱和损失确实保留了梯度，但那不是 JSD 的梯度：它的大小（这里是 $\theta / s^2$）随 $D^*$ 变得更陡峭而增大，所以它反映的是 $D$ 有多自信，而不是数据离得有多远；一个接近最优的判别器会让它变得又大又不稳定。Wasserstein-1 距离 $W_1$ 与距离成正比地增长，处处斜率为 1，这正是一个远离数据的生成器所需要的。
#
# ### 一种修正：WGAN-GP · A fix: WGAN-GP
#
# Wasserstein GAN（Arjovsky 等，2017）训练一个**评论家**（critic）$f$（没有 sigmoid：输出任意实数分数），通过 $W_1$ 的对偶形式 $W_1 = \sup_{\|f\|_L \le 1} \mathbb E_{p_{data}}[f(x)] - \mathbb E_{p_g}[f(x)]$ 来估计它，并让生成器最小化 $-\mathbb E[f(G(z))]$。上确界取遍所有 1-Lipschitz 函数；WGAN-GP（Gulrajani 等，2017）在真实样本与生成样本之间的随机点 $\hat x$ 上施加**梯度惩罚**（gradient penalty），使 $f$ 接近 1-Lipschitz：$L_f = \mathbb E[f(G(z))] - \mathbb E[f(x)] + \lambda\,\mathbb E[(\|\nabla_{\hat x} f(\hat x)\| - 1)^2]$，$\lambda = 10$。它就是 `aigc_course.gan.wgan` 中的 `wgan_gp_step`，签名与 `gan_training_step` 相同，所以同一个实验场可以训练它。有两项设置遵循论文：生成器每更新一次，评论家更新 5 次（评论家必须保持在接近最优的状态，它的分数才能估计 $W_1$），以及 Adam 的 $\beta = (0.5, 0.9)$。其余一切都与第一次训练相同（学习率 $10^{-3}$ 并衰减到 0、网络、数据、种子，以及在完整预算下生成器的步数）；这个单元格会打印出所有不同的设置。

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
# ## 8. 小结 · Closing note
#
# 本次运行的测量结果（每个数字都来自上面的单元格）：

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
# - GAN 是一个双人博弈 $\min_G \max_D V(D, G)$。对固定的 $G$，最优判别器是 $D^* = p_{data} / (p_{data} + p_g)$，面对它，生成器最小化的是 $2\,\mathrm{JSD}(p_{data}\|p_g) - \log 4$。训练出的网络在第 2 节给出的容差内再现了 $D^*$。
# - 从对数几率计算损失（`binary_cross_entropy_with_logits`），并用非饱和损失训练 $G$：$D$ 识破生成样本时，它的梯度最大。
# - 一步训练：先在真实数据和**分离后**的生成样本上训练 $D$，再让梯度穿过**冻结**的 $D$ 来训练 $G$。原文的 Keras 代码两者都没做，而且从未让生成器针对判别器进行训练。
# - 模式覆盖必须测量，不能靠目测；请把崩溃那次训练的数字与第一次训练的数字对比。
# - 当真实分布与生成分布不重叠时，JSD 卡在 $\log 2$，极小极大损失的梯度消失；Wasserstein 距离保留了有用的梯度，WGAN-GP 就用它来训练（它在圆环上的覆盖情况已在上面打印）。
#
# **下一章**：[03 · 变分自编码器 · Variational autoencoders](03_vae.ipynb)；MNIST GAN 项目在第 [05](05_mnist_gan_project.ipynb) 章。
