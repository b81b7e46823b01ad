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
# # 03 · 变分自编码器 · Variational autoencoders
#
# **变分自编码器**（variational autoencoder，VAE）是一种由两个网络组成的概率生成模型（probabilistic generative model）：**编码器**（encoder）把图像 $x$ 变成潜在编码上的一个*分布* $q_\phi(z\mid x)$，**解码器**（decoder）把编码 $z$ 变成图像上的一个分布 $p_\theta(x\mid z)$。训练完成后，新图像只靠解码器生成：从先验 $p(z)=\mathcal N(0, I)$ 中抽取 $z$，再解码。
#
# 本笔记本对应原文的 §3.2 和 §4.1.2。这两节都把 VAE 讲错了：§4.1.2 中的损失并不是 VAE 的损失，§3.2 中的“交替”训练是 GAN 的做法。我们推导出正确的目标函数，即**证据下界**（evidence lower bound，ELBO），在三道练习中实现它，并用一个损失、一个优化器把编码器和解码器**联合**训练。
#
# **本笔记本内容**：勘误；几行推导出 ELBO；重参数化技巧（reparameterization trick，练习 3.1）；高斯分布的 KL散度（练习 3.2）；VAE 损失（练习 3.3）；一个卷积 VAE（本章的主模型），与 pytorch/examples 的 MLP 并排训练；重建与新样本；$-\log p(x)$ 的重要性加权估计、高斯解码器和每维比特数；带实时探索控件的二维潜在空间；插值；$\beta$ 的权衡，以 $\beta = 0$（自编码器）为起点；实测原文的交替训练；以及后验坍塌诊断。

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
# ## 1. 勘误：原文怎么说，什么才是对的 · What the article says, and what is right
#
# > **⚠️ 勘误 · Errata（原文 §4.1.2）**：原文把编码器写成一个函数 $z = E(x)$，并说“VAE的训练目标是最小化以下损失函数”：$\mathcal L(E, D) = D(x) - \log D(x') + \tfrac12\,\mathbb E_{z\sim q(z|x)}[-\log p(x\mid z)]$。这不是 VAE 的损失：
# > - $D(x)$ 把一张*图像*送进解码器，而解码器的输入是*潜在编码*；这一项没有意义，$-\log D(x')$（一张生成图像的对数）也同样没有意义；
# > - 重建项前面的系数 $\tfrac12$ 是随意加上的；
# > - **缺少 KL 项**。没有 $\mathrm{KL}(q(z\mid x)\,\|\,p(z))$，就没有任何东西把编码约束到先验上，这个模型只是一个普通的自编码器，它的编码不必看起来像 $z\sim\mathcal N(0, I)$：第 13 节训练了这样一个自编码器，并测量了把先验样本解码后的结果有多像数字。
# >
# > 编码器输出的是一个分布 $q_\phi(z\mid x)=\mathcal N(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))$，损失是**负 ELBO**：$\mathcal L(\theta,\phi; x) = \mathbb E_{q_\phi(z|x)}[-\log p_\theta(x\mid z)] + \mathrm{KL}(q_\phi(z\mid x)\,\|\,p(z))$。
#
# > **⚠️ 勘误 · Errata（原文 §3.2）**：原文的步骤先训练编码器，再训练解码器，并且“交替训练编码器和解码器，直到生成器生成的内容足够逼真”。这是把 GAN 的做法（第 02 章）搬到了一个根本没有对手的模型上。在 VAE 中，编码器和解码器**最小化同一个损失**，即上面的负 ELBO；一次反向传播就给出两者的梯度，一步优化器更新就同时更新两者（Kingma & Welling 2014，算法 1）。在一个网络更新时冻结另一个，会丢掉同一次反向传播已经算好的梯度，还让每个网络都得等着轮到自己；这里并没有需要平衡的博弈。第 13 节测量了在相同计算量下这样做的代价。VAE 也没有一个要被评判是否逼真的“生成器”；训练过程用留出数据上的负 ELBO 来监控，如下文所示。

# %% [markdown]
# ## 2. 几行推导证据下界 · The evidence lower bound in a few lines
#
# 模型：$d$ 维的先验 $p(z)=\mathcal N(0, I)$，解码器 $p_\theta(x\mid z)$。我们想最大化 $\log p_\theta(x) = \log\int p_\theta(x\mid z)\,p(z)\,dz$，但对于神经网络解码器，谁也算不出这个积分。乘以再除以任意一个密度 $q_\phi(z\mid x)$，并应用 Jensen 不等式（$\log$ 是凹函数）：
#
# $$\log p_\theta(x) = \log \mathbb E_{q_\phi(z|x)}\!\left[\frac{p_\theta(x\mid z)\,p(z)}{q_\phi(z\mid x)}\right]
# \;\ge\; \mathbb E_{q_\phi(z|x)}\!\left[\log p_\theta(x\mid z)\right] - \mathrm{KL}\!\left(q_\phi(z\mid x)\,\|\,p(z)\right)
# = \mathrm{ELBO}(x).$$
#
# 两者之差恰好是 $\mathrm{KL}(q_\phi(z\mid x)\,\|\,p_\theta(z\mid x)) \ge 0$：编码器对真实后验近似得越好，下界就越紧（这就是**变分推理**，variational inference）。对 $\theta$ *和* $\phi$ 同时最大化 ELBO，就同时拟合了解码器和编码器。
#
# 我们的选择与 pytorch/examples 相同：
# - **编码器**：$q_\phi(z\mid x) = \mathcal N(\mu, \operatorname{diag}\sigma^2)$；网络输出 $\mu$ 和 $\log\sigma^2$（“logvar”，可以是任意实数，因此不需要正值约束）；
# - **解码器**：784 个像素中的每一个都服从均值为 $\operatorname{sigmoid}(\ell_j(z))$ 的伯努利分布，因此 $-\log p_\theta(x\mid z) = \sum_j \mathrm{BCE}(\ell_j, x_j)$，即对所有像素求和的二元交叉熵。
#
# 这里所有的对数都是自然对数，所以 $-\log p$ 的单位是**奈特**（nats）：概率为 $p$ 的结果要花费 $-\ln p$ 奈特，1 nat $= 1/\ln 2 \approx 1.443$ bits（比特，即 $\log_2$ 的单位）。每张图像 100 奈特的损失，意味着模型给这张图像的概率（密度）是 $e^{-100}$。
#
# MNIST 的像素是 $[0, 1]$ 内的灰度值，而不是比特。对它们使用伯努利公式是 pytorch/examples 的惯例，下面的数字也沿用这一惯例；它并不是灰度值上归一化的密度，所以这些奈特数只能用来比较*在这份数据上*的模型，而不能与二值化 MNIST 上的论文结果相比。（第 10 节展示另一种常见的选择，即高斯解码器，并把奈特换算成每像素比特数。）

# %% [markdown]
# ## 3. 练习 3.1 · 重参数化技巧 · Exercise 3.1 · The reparameterization trick
#
# 重建项是对 $z\sim q_\phi(z\mid x)$ 的期望，每张图像用一个样本来估计。采样对 $\mu$ 和 $\sigma$ 不可微，但下面这个式子可微：
#
# $$z = \mu + \sigma\odot\varepsilon,\qquad \varepsilon\sim\mathcal N(0, I),\qquad \sigma = \exp(\tfrac12\log\sigma^2).$$
#
# 随机性现在全在 $\varepsilon$ 中，而它不依赖于参数，所以 $\partial z/\partial\mu = 1$，$\partial z/\partial\log\sigma^2 = \tfrac12\sigma\varepsilon$，梯度可以从解码器一路传回编码器。
#
# **练习 3.1**：编写 `reparameterize(mu, logvar)`：输入两个 `[B, d]` 张量，输出一个样本 `z`，形状为 `[B, d]`。

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
# **这个技巧给出的梯度对吗**？取 $f(z) = z^2 + \sin z$ 和一个高斯分布 $z\sim\mathcal N(\mu,\sigma^2)$。它的期望有闭式表达 $\mathbb E[f(z)] = \mu^2+\sigma^2 + \sin(\mu)\,e^{-\sigma^2/2}$，所以 autograd 可以精确地对它求导。重参数化估计则在样本上对 $\nabla f(\mu+\sigma\varepsilon)$ 取平均：

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
# 这个估计是无偏的，误差按 $1/\sqrt{n}$ 缩小。训练时每张图像只用**一个**样本：有噪声，但在 128 张图像的批次和成千上万步上平均下来，就足够了。
#
# ## 4. 练习 3.2 · 两个高斯分布的 KL散度 · Exercise 3.2 · The KL divergence of two Gaussians
#
# 对一维情形，$\mathrm{KL}(\mathcal N(\mu,\sigma^2)\,\|\,\mathcal N(0,1)) = \mathbb E_q[\log q(z) - \log p(z)]
# = \tfrac12(\mu^2 + \sigma^2 - 1 - \log\sigma^2)$：展开两个对数密度，再利用 $\mathbb E_q[z^2]=\mu^2+\sigma^2$ 和 $\mathbb E_q[(z-\mu)^2]=\sigma^2$ 即可。对角高斯分布的各个维度相互独立，所以各维的 KL 直接相加。
#
# **练习 3.2**：编写 `gaussian_kl(mu, logvar)`：输入 `[B, d]`，输出每个样本的 KL，形状为 `[B]`。

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
# 同一个数的三种算法，针对 20 维中的三个高斯分布：闭式公式、PyTorch 的 `torch.distributions.kl_divergence`，以及在 $q$ 的样本上对 $\log q(z) - \log p(z)$ 取平均的蒙特卡罗估计（附带其标准误）。

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
# ## 5. 练习 3.3 · VAE 损失 · Exercise 3.3 · The VAE loss
#
# 把各部分组合起来。对一批 $B$ 张图像，记解码器的**对数几率**为 $\ell$（sigmoid 之前的值）：
#
# $$\text{reconstruction} = \frac1B\sum_{i=1}^B\sum_{j=1}^{784}\mathrm{BCE}(\ell_{ij}, x_{ij}),\qquad
# \text{kl} = \frac1B\sum_{i=1}^B \mathrm{KL}_i,\qquad \text{loss} = \text{reconstruction} + \beta\cdot\text{kl}.$$
#
# 对像素和潜在维度求和、对批次求平均：损失的单位是**每张图像的奈特数**（nats per image），当 $\beta = 1$ 时它就是负 ELBO。（$\beta\neq1$ 就是第 13 节的 $\beta$-VAE。）用 `binary_cross_entropy_with_logits` 从对数几率计算 BCE：一个很自信的解码器，其 $\operatorname{sigmoid}(\ell)$ 在 float32 中会恰好舍入为 0 或 1，对它手写 $\log$ 会得到 $-\infty$。
#
# **练习 3.3**：编写 `vae_loss(logits, x, mu, logvar, beta=1.0)`，返回 `(loss, reconstruction, kl)` 这三个标量张量（使用你的 `gaussian_kl`）。

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
# ## 6. 数据与模型 · Data and the two models
#
# 两个模型使用相同的数据流程：把 MNIST 的 uint8 图像缩放到 $[0, 1]$（`images_to_unit`，即 pytorch/examples 的 `ToTensor` 所做的事），每批 128 张、顺序打乱的小批次。
#
# - **pytorch/examples 的 MLP**（`MLPVAE`）：784 → 400 → $\mathbb R^{20}$ 中的（$\mu$，$\log\sigma^2$）→ 400 → 784，人人都能复现的参考模型。
# - **卷积 VAE**（`ConvVAE`），本章的主模型：编码器中有两个带步长的 4×4 卷积（28 → 14 → 7 像素，16 和 32 个通道）和一个 256 单元的全连接层；解码器是它的镜像，使用转置卷积；激活函数为 SiLU，即 $x\cdot\operatorname{sigmoid}(x)$，是 ReLU 的一种平滑变体。卷积在各个位置共享权重，适合图像；通道数取得较小，使它在笔记本电脑的 CPU 上几分钟就能训练完。

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
# **逐行演示一次联合训练步骤**，使用你的三个函数。编码器给出 $\mu$ 和 $\log\sigma^2$，重参数化技巧给出 $z$，解码器给出对数几率，损失是负 ELBO，**一次**反向传播同时填好解码器*和*编码器的梯度；一个优化器持有全部参数。

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
# `train_vae` 在小批次上重复的正是这几行；下面是本包中它的内层步骤：

# %%
import inspect

from aigc_course.vae import losses as vae_module

print(inspect.getsource(vae_module.forward_loss))

# %% [markdown]
# ## 7. 训练卷积 VAE · Training the convolutional VAE
#
# 沿用 pytorch/examples 的配方：Adam，恒定学习率 $10^{-3}$，批大小 128，每个 epoch 遍历整个训练集；每个 epoch 结束后测量测试集上的负 ELBO（每张图像一个 $z$ 样本，固定种子）。计时器只统计训练步骤；README 列出了实测的运行时间。
#
# *提示*：如果因为其他程序占用 CPU 而进度条走得很慢，可以试试 `torch.set_num_threads(1)`：PyTorch 的各个线程会互相等待，所以当核心被其他任务占用时，多个线程可能比一个线程还慢。

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
# 曲线：按训练步（平滑后）分别画出两项，按 epoch 画出训练集和测试集上的负 ELBO。重建项急剧下降，而 KL 项却在*上升*：编码器一开始接近先验（KL ≈ 0，编码不携带任何信息），随后学会把若干奈特的 KL 花在关于 $x$ 的信息上，以换取重建损失更大幅度的下降。

# %%
import matplotlib.pyplot as plt

from aigc_course.vae import training_curves_figure

training_curves_figure(conv_history, "ConvVAE: negative ELBO per epoch")
plt.show()

# %% [markdown]
# ## 8. 并排比较 pytorch/examples 的 MLP · The pytorch/examples MLP, side by side
#
# 用相同的配方、相同的张量训练参考模型：`MLPVAE`，400 个隐藏单元、20 维潜在空间，Adam 学习率 $10^{-3}$，批大小 128，训练 pytorch/examples 运行中的 10 个 epoch。两者只有网络结构和 epoch 数不同。

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
# ## 9. 重建与生成 · Reconstructions and new samples
#
# 第一行：测试数字。接着是每个模型的重建 $\operatorname{sigmoid}(\text{decoder}(\mu(x)))$（解码器在后验均值处给出的像素均值）。下方：**新的数字**，即把 $z\sim\mathcal N(0, I)$ 解码得到的图像，两个模型使用相同的 32 个编码。生成时完全不用编码器：这正是 KL 项之所以重要的原因。

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
# ### 为什么 VAE 的样本模糊 · Why VAE samples look blurry
#
# 我们作为“样本”展示的是解码器的**均值** $\operatorname{sigmoid}(\ell(z))$：对每个像素，它是有墨迹的概率，是在解码器认为这个 $z$ 下可能出现的所有图像上取的平均。有两个原因使它成为几个不同数字的平均，而不同笔画的平均就是一片灰色的污迹（第 00 章平均数字的教训）：
# - 给定 $z$ 时，解码器的各个像素**相互独立**。它没法表达“笔画在这里*或*在那里”；当 $z$ 没有确定笔画的位置时，两处都画成灰色的损失最低；
# - KL 项使不同图像的后验 $q(z\mid x)$ 相互**重叠**，因此同一个 $z$ 要为多张训练图像的混合而解码。
#
# 改为从每个像素的伯努利分布中抽样也无济于事：各个像素独立抽取，结果是斑斑点点，而不是清晰。这个单元格测量了这一点：在有一定墨迹（$> 0.1$）的像素中，灰色像素（$0.1$ 到 $0.9$）在测试数字、重建图像和先验样本中各占多大比例。

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
# ## 10. 下界有多松？$-\log p(x)$ 的重要性加权估计 · How loose is the bound?
#
# 上面的测试损失是 $-\mathrm{ELBO}$，它是 $-\log p(x)$ 的一个*上*界。把 $k$ 个样本 $z_i\sim q(z\mid x)$ 用作重要性采样的样本，可以得到一个更紧的上界（Burda 等，2016）：
#
# $$-\log p(x) \;\le\; -\,\mathbb E\left[\log \frac1k\sum_{i=1}^k \frac{p(x\mid z_i)\,p(z_i)}{q(z_i\mid x)}\right]
# \;\le\; -\mathrm{ELBO}(x),$$
#
# 当 $k=1$ 时它等于 $-\mathrm{ELBO}$，当 $k\to\infty$ 时它下降到 $-\log p(x)$。从 $k=1$ 到很大的 $k$ 的降幅，衡量了 $q(z\mid x)$ 与真实后验相差多远。（“−ELBO”一列是相同图像上的测试损失，其中 KL 用闭式计算；$k = 1$ 用采样得到的 KL 估计同一个数，因此两者只相差噪声。）

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
# ### 高斯解码器、作为 $\beta$ 的 $\sigma^2$ 与每维比特数 · The Gaussian decoder and bits per dimension
#
# 另一种常见的解码器是方差固定的高斯分布，在 $D = 784$ 个像素上 $p_\theta(x\mid z) = \mathcal N(x;\, m_\theta(z),\, \sigma^2 I)$：
#
# $$-\log p_\theta(x\mid z) = \frac{\lVert x - m_\theta(z)\rVert^2}{2\sigma^2} + \frac D2 \log(2\pi\sigma^2).$$
#
# 第二项与网络无关，所以在相差一个常数的意义下，负 ELBO 等于 $\frac{1}{2\sigma^2}\big(\lVert x - m\rVert^2 + 2\sigma^2\,\mathrm{KL}\big)$：它的最优解与 $\beta = 2\sigma^2$ 的平方误差损失相同。小的 $\sigma^2$ 就是小的 $\beta$（重建清晰，编码偏离先验），大的则对应大的 $\beta$。忘了这个系数的“使用 MSE 损失的 VAE”代码，就是一个 $\beta$-VAE，而它的 $\beta$ 谁也没有选过。这个单元格在梯度上检验这个恒等式：对一批测试图像，高斯 $-\mathrm{ELBO}$ 的梯度乘以 $2\sigma^2$，等于平方误差 $+\, 2\sigma^2\,\mathrm{KL}$ 的梯度。
#
# **每维比特数**（bits per dimension）是把以奈特为单位的负对数似然除以 $D \ln 2$：即每个像素的比特数，这个数可以在不同大小的图像之间比较。论文报告的是*离散*像素模型的每维比特数；我们在灰度值上使用伯努利公式得到的奈特数并不是这样的似然（第 2 节），所以下面的换算只是为了帮助解读我们的数字，而不是为了与已发表的结果比较。

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
# ## 11. 二维潜在空间 · A 2-D latent space
#
# 当 $d = 2$ 时，我们可以看到整个潜在空间。下面是一个潜在空间为二维的 MLP VAE：左图是解码器在一个按先验分位数取点的编码网格上的输出（Kingma & Welling 的“流形”图）；右图是测试集的后验均值 $\mu(x)$，按数字着色。两个数不可能容纳一个数字的全部信息，所以重建更模糊，但相似的数字会落在彼此附近，编码也填满了先验的圆盘。

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
# **潜在空间探索器**。移动两个滑块（`z1`、`z2`）：左图是解码器在 $(z_1, z_2)$ 处画出的数字，右图中的十字显示这个点位于真实测试数字的编码之间的什么位置。

# %%
from ipywidgets import FloatSlider, IntSlider, interact

from aigc_course.vae import latent_explorer_figure


def explore_latent(z1=0.0, z2=0.0):
    latent_explorer_figure(vae_2d, z1, z2, codes_2d, test_labels)
    plt.show()


interact(explore_latent, z1=FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1),
         z2=FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1));

# %% [markdown]
# ## 12. 两个数字之间的插值 · Interpolation between two digits
#
# 对两个测试数字编码，沿着它们编码之间的直线 $z_t = (1-t)\,\mu(x_a) + t\,\mu(x_b)$ 行走，并解码每个点（使用 20 维的主模型）。由于 KL 项把编码聚拢在先验的区域内，中间的点解码出来是像样的数字，而不是两张图像的淡入淡出叠加。

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
# **插值滑块**。按索引任选两张测试图像（`index_a`、`index_b`），把 $t$ 从 0 滑到 1。

# %%
def explore_interpolation(index_a=index_a, index_b=index_b, t=0.5):
    interpolation_figure(conv_vae, test_x[index_a], test_x[index_b], t)
    plt.show()


interact(explore_interpolation, index_a=IntSlider(value=index_a, min=0, max=len(test_x) - 1),
         index_b=IntSlider(value=index_b, min=0, max=len(test_x) - 1),
         t=FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05));

# %% [markdown]
# ## 13. $\beta$ 的权衡：β-变分自编码器 · The β trade-off: β-VAE
#
# 把 KL 项乘以 $\beta$。当 $\beta < 1$ 时，编码器可以在关于 $x$ 的信息上花更多的奈特（重建更清晰，编码偏离先验，样本更差）；当 $\beta > 1$ 时，编码被推向先验（重建更模糊，有些潜在单元会完全关闭）。只有 $\beta = 1$ 优化的是 $\log p(x)$ 的下界，因此每个模型都用 $\beta = 1$ 来*评分*。下面每个点都是一个用自己的 $\beta$ 训练的 MLP VAE，epoch 数和种子都相同。

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
# ### 从自编码器到变分自编码器：$\beta = 0$ · From autoencoder to VAE
#
# 取 $\beta = 0$，损失就只剩重建项：这就是一个**自编码器**（autoencoder）。它的编码器仍然可以输出一个 $\sigma$，但没有任何东西阻止它把 $\sigma$ 缩向 0，并把每个数字的编码放在最容易重建的地方，所以没有任何东西让这些编码看起来像是从 $\mathcal N(0, I)$ 中抽取的，解码器也永远学不会如何处理先验产生的大多数点。正是 KL 项把自编码器变成了 VAE：每个编码都变成一个被拉向先验的分布，解码器在先验采样的区域上得到训练。
#
# 实测：一个 $\beta = 0$ 的 MLP，其余一切与上面 $\beta = 1$ 的模型相同（epoch 数、种子、批次）。两者解码相同的编码 $z \sim \mathcal N(0, I)$，由第 05 章的评估分类器来评判结果：它的**置信度**（$\max_y p(y\mid x)$ 的均值）和 Inception 式分数（IS，十个类别时最大为 10），并以真实测试数字上的相同指标作为参照。测试集编码 $\mu(x)$ 的分散程度显示了每个模型的编码离先验（每维标准差为 1）有多远。

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
# ### 实测原文的交替训练 · The article's alternating training, measured
#
# 第 1 节的勘误说，原文的交替训练做法（§3.2）会丢掉梯度。下面是它在**相同计算量**下的代价：再次训练 β 扫描中 $\beta = 1$ 的 MLP，数据、批次、种子、epoch 数以及前向和反向传播的次数都相同；只有一点不同：每次反向传播之后，`train_vae(..., update="alternating")` 在偶数步只保留编码器的梯度，在奇数步只保留解码器的梯度，因此每个网络每隔一个批次才更新一次。

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
# ## 14. 后验坍塌：哪些潜在单元被用上了？ · Posterior collapse: which latent units are used?
#
# 如果潜在单元 $z_k$ 的后验均值不随 $x$ 变化，它就不向解码器传递任何信息：它的 $q(z_k\mid x)$ 停留在先验上，KL 约为 0，解码器学会忽略它。常用的检验（Burda 等，2016）是**活跃度**（activity）$A_k = \operatorname{Var}_x\big(\mathbb E_{q(z|x)}[z_k]\big)$；当 $A_k > 0.01$ 时，这个单元是*活跃*的（活跃单元，active unit）。当*所有*单元都不活跃时，VAE 就**坍塌**成了一个忽略 $z$ 的模型。下面对主模型和每个 $\beta$ 给出：每个单元的活跃度（已排序）及其付出的 KL。阈值只是一个约定：刚刚超过阈值的单元可能仍然几乎不携带信息，右图按单元给出的 KL（以奈特为单位）显示了这一点。

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
# ## 15. 小结 · Closing note
#
# - VAE 的损失是负 ELBO：重建项加 KL 项，单位是每张图像的奈特数。原文 §4.1.2 的损失没有 KL 项（那是一个自编码器，见第 13 节），§3.2 的交替训练属于 GAN；编码器和解码器共享一个损失，并且**联合**训练。
# - 重参数化技巧使采样得到的 $z$ 可微；高斯分布的 KL 有闭式表达；两者都已用 autograd、蒙特卡罗和 `torch.distributions` 检验过。
# - 本次运行的数字（上面测得，在这台机器上）：

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
# 训练好的 ConvVAE 保存在课程的数据缓存中（`checkpoint_path("vae_conv")`）；第 06 章会加载它，通过优化潜在编码来填补缺失的像素。
#
# **下一章**：[04 · 自注意力机制 · Self-attention](04_self_attention.ipynb)。
