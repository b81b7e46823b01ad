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
# # 06 · 应用、挑战与资源 · Applications, challenges and further reading
#
# 原文最后几节（§6-§10）是一些列表：实际应用场景、工具和资源推荐、未来发展趋势与挑战、常见问题与解答，以及参考资料。本章用前几章的模型，把这些列表变成可以运行的东西：
#
# | 原文 | 本章 | 模型 |
# |---|---|---|
# | §6.1 图像修复（image restoration） | 补全被遮住的像素、去除噪声；与原图对比测量 | 第 03 章的 VAE |
# | §6.2 文本生成（text generation） | 一个字符级 Transformer，在课程自带的文本上几分钟就能训练好 | 第 04 章的 Transformer 模块 |
# | §6.3 音频生成（audio generation） | 把乐音表示成 784 个数的向量，学习并生成；可以播放 | 第 03 章的 VAE，原样不改 |
# | §8.2 挑战（challenges） | 计算成本、记忆、泛化、检测生成的图像、法律与伦理 | 第 01、03、05 章 |
# | §7、§10 资源（resources） | 核对每一本书、每一门课程、每一个网站和每一篇论文；改正错误 | - |
# | §9 常见问题（FAQ） | 结合课程内容逐一回答 | - |
#
# **本笔记本内容**：1. 图像修复 · 2. 文本生成 · 3. 音频 · 4. 挑战的实测 · 5. 工具、资源与参考资料（已更正） · 6. 常见问题 · 7. 小结。练习 6.1-6.4 穿插其间。打印出的每个数字都由本次运行测得；在快速模式（`AIGC_COURSE_FAST=1`）下，模型的训练少得多，数字也更差。

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

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from aigc_course.config import budget, get_device, is_fast_mode, seed_everything
from aigc_course.plotting import plot_curves, show_images

BUDGET = budget("applications")
device = get_device()
print("budget:", BUDGET, "| device:", device)

# %% [markdown]
# ## 1. 图像修复（原文 §6.1） · Image restoration
#
# 原文许诺可以修复老照片、去除噪声。VAE 能做到这两件事的小型版本，而其中的原因值得一看。它的解码器（第 03 章）只能画出看起来像训练数字的图像。所以，要补全一个只在掩码 $m_j = 1$ 处像素已知的数字，就去寻找这样一个潜在编码：它能解释**可见**的像素，并且在先验 $p(z) = \mathcal{N}(0, I)$ 下是可能的：
#
# $$z^\star = \arg\min_z \; \underbrace{\sum_j m_j \, \mathrm{BCE}\big(\ell_j(z), x_j\big)}_{-\log p(x_\text{visible} \mid z)} + \tfrac12 \lVert z \rVert^2 ,$$
#
# 这是一个最大后验估计（MAP），只对 $z$ 用 Adam 求解（网络的权重保持不变），从编码器对带掩码图像的猜测出发。然后保留已知的像素，被遮住的像素取解码器画出的 $\sigma(\ell(z^\star))$。去噪是同样的搜索，只是把每个像素都当作（带噪声的）证据：任何数字都解释不了的噪声无法被画出来，于是就被去掉了（前提是似然正确描述了噪声，我们下面会看到）。
#
# 模型是第 03 章的卷积 VAE：如果你运行过那个笔记本，就从课程的数据缓存中加载；否则就在这里训练同一个模型，轮数少一些。

# %%
from aigc_course.data import images_to_unit, load_mnist
from aigc_course.vae import checkpoint_path, evaluate, load_cached_vae, save_vae, train_vae
from aigc_course.vae import ConvVAE

train_images, train_labels = load_mnist("train")
test_images, test_labels = load_mnist("test")
train_x = images_to_unit(train_images).unsqueeze(1)   # [60000, 1, 28, 28] in [0, 1]
test_x = images_to_unit(test_images).unsqueeze(1)

cached = load_cached_vae(["vae_conv", "vae_conv_ch06"], device)  # chapter 03's model, else this chapter's
if cached is not None:
    vae, vae_meta, vae_path = cached
    print(f"loaded {vae_path}: {vae_meta}")
else:
    subset = BUDGET.vae_train_images or len(train_x)
    print(f"no trained ConvVAE in the cache: training one here on {subset:,} images, {BUDGET.vae_epochs} epoch(s)")
    seed_everything(0)
    vae = ConvVAE()
    vae_history = train_vae(vae, train_x[:subset], epochs=BUDGET.vae_epochs, lr=1e-3, device=device)
    save_vae(vae, checkpoint_path("vae_conv_ch06"), epochs=BUDGET.vae_epochs, seconds=vae_history["train/seconds"][-1])
vae_test = evaluate(vae, test_x[:2000])
print(f"ConvVAE test negative ELBO on 2,000 test digits: {vae_test['loss']:.1f} nats/image")

# %% [markdown]
# **练习 6.1**（可见像素的似然）：补全 `masked_bernoulli_nll(logits, target, visible)`：输入是对数几率、取值在 $[0, 1]$ 内的目标和一个布尔掩码，形状都是 `[B, 1, 28, 28]`；返回形状为 `[B]` 的逐图像之和，即在 `visible` 为 True 的像素上对 $\mathrm{BCE}(\ell_j, x_j)$ 求和。被遮住的像素无论取什么值，都不能计入。

# %%
import torch.nn.functional as F


def masked_bernoulli_nll(logits: torch.Tensor, target: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Per-image sum over visible pixels of BCE(logit, target): [B, 1, 28, 28] x 3 -> [B]."""
    # Hint: F.binary_cross_entropy_with_logits(logits, target, reduction="none") is per pixel.
    # BEGIN SOLUTION (Exercise 6.1: masked likelihood)
    per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (per_pixel * visible).flatten(1).sum(dim=1)
    # END SOLUTION


# %%
from aigc_course.checks.applications import check_masked_bernoulli_nll
from aigc_course.applications import (MASK_KINDS, add_noise, complete_images, denoise_images, hidden_pixel_mse,
                                    inpainting_figure, make_masks, restoration_figure)

masked_bernoulli_nll = check_masked_bernoulli_nll(masked_bernoulli_nll)

n_restore = BUDGET.restore_images
originals = test_x[:n_restore]
mean_digit = train_x.mean(dim=0, keepdim=True)
restoration_rows = []
for kind in ("bottom half", "centre square", "random 60%"):
    visible = make_masks(kind, n_restore, seed=1)
    out = complete_images(vae, originals, visible, steps=BUDGET.restore_steps, nll=masked_bernoulli_nll)
    candidates = {"masked input (hidden = 0)": torch.where(visible, originals, torch.zeros_like(originals)),
                  "mean training digit": torch.where(visible, originals, mean_digit.expand_as(originals)),
                  "VAE, encoder only": out["encoder"], "VAE, optimized z": out["optimized"]}
    restoration_rows.append((kind, {name: hidden_pixel_mse(c, originals, visible) for name, c in candidates.items()}))
    if kind == "bottom half":
        shown = slice(0, 10)
        restoration_figure({"original": originals[shown],
                            "masked": torch.where(visible, originals, torch.full_like(originals, 0.35))[shown],
                            "encoder": out["encoder"][shown], "optimized": out["optimized"][shown]},
                           title="bottom half hidden (grey): completions by the VAE")
        plt.show()
restoration_table = ["| hidden region | " + " | ".join(restoration_rows[0][1]) + " |", "|---" * 5 + "|"]
restoration_table += [f"| {kind} | " + " | ".join(f"{v:.4f}" for v in errors.values()) + " |"
                      for kind, errors in restoration_rows]
display(Markdown(f"**Mean squared error on the hidden pixels** ({n_restore} test digits, pixel values in [0, 1], "
                 f"{BUDGET.restore_steps} Adam steps on z):\n\n" + "\n".join(restoration_table)))

# %%
best_by_kind = {kind: min(errors, key=errors.get) for kind, errors in restoration_rows}
print("lowest hidden-pixel error:", "; ".join(f"{kind}: {name}" for kind, name in best_by_kind.items()))

# %% [markdown]
# 逐行阅读这张表。让空洞保持空白（“masked input”）是要战胜的误差，而把平均数字画进空洞是一个比看上去更强的基线。单独的编码器只在完整的数字上训练过，从未见过带掩码的数字：把它的一列与平均数字的一列比较。然后把最后一列与其他所有列比较：让 $z$ 拟合可见像素，是否对每一种空洞都胜过所有基线？上面一行说明了本次运行中哪种方法胜出（在快速模式下 VAE 只训练了很短的时间，基线有可能胜出）。
#
# 补全的结果是在给定可见部分的条件下一个*可能的*数字，而不是原来的数字：当 7 的可见一半也可能是 9 的开头时，VAE 可能画出一个 9。这是所有修复工具都必须如实承认的局限：被遮住的部分是猜出来的，永远不是恢复出来的；一张修复过的照片应该说明哪些部分是猜测。
#
# **去噪**：加上三种强度 $s$ 的高斯噪声（截断到 $[0, 1]$），让 VAE 找出最能解释每张带噪图像的数字。用哪种似然？VAE 训练时用的是伯努利解码器，在它看来，带噪声的灰色背景就是到处都有的淡淡墨迹。这里的损坏是高斯噪声，所以更好的数据项是 $\sum_j (\tilde x_j - \sigma(\ell_j(z)))^2 / 2s^2$（`gaussian_nll(s)`）。但它并不是这种噪声的精确似然：带噪声的像素被**截断**到了 $[0, 1]$。原本为 0 的像素有 1/2 的概率恰好落在 0 上，而 MNIST 的大多数像素为 0（表格打印了被截断像素的比例）。对于解码器均值为 $\mu$ 的 $\tilde x = \operatorname{clip}(x + s\varepsilon, 0, 1)$，精确的似然是一个*截尾*（censored）高斯分布：像素恰好为 0 的概率是 $\Phi(-\mu/s)$，恰好为 1 的概率是 $\Phi((\mu - 1)/s)$，介于两者之间时取高斯密度（`clipped_gaussian_nll(s)`）。三种似然都试一试；误差在所有像素上、相对于干净的数字来测量。

# %%
from aigc_course.applications import clipped_gaussian_nll, gaussian_nll

denoise_rows, clipped_share = {}, {}
for std in (0.2, 0.4, 0.6):
    noisy = add_noise(originals, std, seed=2)
    clipped_share[std] = float(((noisy == 0) | (noisy == 1)).float().mean())
    bernoulli_fit = denoise_images(vae, noisy, masked_bernoulli_nll, steps=BUDGET.restore_steps)
    gaussian_fit = denoise_images(vae, noisy, gaussian_nll(std), steps=BUDGET.restore_steps)
    clipped_fit = denoise_images(vae, noisy, clipped_gaussian_nll(std), steps=BUDGET.restore_steps)
    candidates = {"noisy input": noisy, "VAE, encoder only": gaussian_fit["encoder"],
                  "VAE, z fitted with Bernoulli likelihood": bernoulli_fit["optimized"],
                  "VAE, z fitted with Gaussian likelihood": gaussian_fit["optimized"],
                  "VAE, z fitted with clipped-Gaussian likelihood": clipped_fit["optimized"]}
    denoise_rows[std] = {name: float(((c - originals) ** 2).mean()) for name, c in candidates.items()}
    if std == 0.4:
        restoration_figure({"original": originals[:10], "noisy": noisy[:10], "encoder": gaussian_fit["encoder"][:10],
                            "Bernoulli fit": bernoulli_fit["optimized"][:10],
                            "Gaussian fit": gaussian_fit["optimized"][:10],
                            "clipped-Gaussian fit": clipped_fit["optimized"][:10]}, title="denoising (noise std 0.4)")
        plt.show()
denoise_table = ["| noise std | pixels clipped to 0 or 1 | " + " | ".join(denoise_rows[0.4]) + " |", "|---" * 7 + "|"]
denoise_table += [f"| {std} | {clipped_share[std]:.1%} | " + " | ".join(f"{v:.4f}" for v in row.values()) + " |"
                  for std, row in denoise_rows.items()]
display(Markdown(f"**Mean squared error against the clean digits** ({n_restore} test digits):\n\n"
                 + "\n".join(denoise_table)))
exact, approx = "VAE, z fitted with clipped-Gaussian likelihood", "VAE, z fitted with Gaussian likelihood"
wins = sum(row[exact] < row[approx] for row in denoise_rows.values())
print(f"the exact (clipped) likelihood beat the plain Gaussian at {wins} of 3 noise levels")

# %% [markdown]
# 同一个网络，三种似然：在图中比较这些拟合，而不只是在表中比较。哪一种还原出了数字，哪一种画出的是伯努利似然所相信的东西，即到处都有的淡淡墨迹？还要留意被低误差掩盖的失败：一个看起来干净、却不是原来那个的数字（比如一个带噪声的 4 被还原成了 8）。单独的编码器在训练中从未见过带噪声的数字；也比较一下它那一行。下面逐个数字探索补全结果（滑块 `test digit` 选择测试数字，下拉框 `hidden` 选择遮住哪一部分；每次改动都会重新运行优化）：

# %%
def show_inpainting(index: int = 0, kind: str = "bottom half") -> None:
    inpainting_figure(vae, test_x[index], kind, steps=BUDGET.restore_steps)
    plt.show()


widgets.interact(show_inpainting, index=widgets.IntSlider(value=0, min=0, max=200, description="test digit"),
                 kind=widgets.Dropdown(options=MASK_KINDS, value="bottom half", description="hidden"));

# %% [markdown]
# ## 2. 文本生成（原文 §6.2） · Text generation
#
# 原文列举了内容创作、机器翻译和聊天机器人。这三者都建立在同一个思想之上：一个**语言模型**（language model），它给出在前面的词元已知时下一个词元的概率，
#
# $$p(x_1, \dots, x_n) = \prod_{t=1}^{n} p(x_t \mid x_1, \dots, x_{t-1}),$$
#
# 它通过最大似然来训练，即最小化以每词元奈特（nats per token）为单位的交叉熵 $-\log p(x_{t+1} \mid x_{\le t})$，使用时每次采样一个词元。这里的词元是字符，模型是一个用第 04 章带因果掩码的 `TransformerBlock` 搭建的小型 Transformer。
#
# 文本是课程自己的：*The Workshop of Small Machines*（《小机器工坊》），约 35,000 个字符、专为本课程编写的故事（随课程以 MIT 许可证发布），打包在课程包中。其中最后 10% 留作**验证文本**，模型从不在它上面训练。

# %%
from aigc_course.applications import CharVocab, load_course_text, split_ids

text = load_course_text()
vocab = CharVocab.from_text(text)
ids = vocab.encode(text)
train_ids, val_ids = split_ids(ids, val_fraction=0.1)
print(f"{len(text):,} characters, {vocab.size} distinct: {''.join(vocab.chars)!r}")
print(f"training: {len(train_ids):,} characters | validation: {len(val_ids):,} characters (the end of the text)")
print(text[:480])

# %% [markdown]
# ### 不知道上下文的基线 · The baseline that knows no context
#
# 在训练任何东西之前，先问一问：一个忽略上下文的模型能做到什么程度？**一元模型**（unigram model）用同一个分布预测每一个字符，这个分布就是训练文本的字符频率（经过加 $\alpha$ 平滑，使训练中从未出现的字符也能得到一些概率）：
#
# $$p(c) = \frac{n_c + \alpha}{N + \alpha V}, \qquad H_\text{unigram} = -\frac{1}{M}\sum_{i=1}^{M} \log p(v_i)$$
#
# 其中 $n_c$ 是训练中的计数（共 $N$ 个字符、$V$ 种符号），$v_1, \dots, v_M$ 是验证字符。Transformer 能低于 $H_\text{unigram}$ 的部分，都是它从上下文中学到的。
#
# **练习 6.2**（一元模型基线）：补全 `unigram_cross_entropy(train_ids, val_ids, vocab_size, smoothing)`，返回一个 Python 浮点数，单位是每字符奈特（自然对数）。

# %%
def unigram_cross_entropy(train_ids: torch.Tensor, val_ids: torch.Tensor, vocab_size: int,
                          smoothing: float = 1.0) -> float:
    """-mean_i log p(val_ids[i]) with p(c) = (n_c + smoothing) / (N + smoothing * vocab_size)."""
    # Hint: torch.bincount(train_ids, minlength=vocab_size) counts every character id.
    # BEGIN SOLUTION (Exercise 6.2: unigram baseline)
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + smoothing
    probs = counts / counts.sum()
    return float(-probs[val_ids].log().mean())
    # END SOLUTION


# %%
from aigc_course.checks.applications import check_unigram_cross_entropy

unigram_cross_entropy = check_unigram_cross_entropy(unigram_cross_entropy)
unigram = unigram_cross_entropy(train_ids, val_ids, vocab.size)
print(f"unigram baseline on the validation text: {unigram:.3f} nats/char "
      f"(a uniform guess over {vocab.size} characters: ln {vocab.size} = {math.log(vocab.size):.3f})")

# %% [markdown]
# ### 字符级 Transformer · A character-level Transformer
#
# 每个字符 id 得到一个可学习的嵌入，再加上一个可学习的位置嵌入；两个因果 Transformer 模块（第 04 章）把每个位置与它之前的位置混合；一个线性层为词表中的每个字符给出一个对数几率。训练时，模型看到训练文本中随机截取的 64 字符窗口，并最小化每一个下一字符的交叉熵（AdamW，学习率先预热，再按余弦衰减）。验证损失在留出的文本上测量，每个字符只预测一次。

# %%
from aigc_course.applications import CharTransformer, train_char_model
from aigc_course.gan import count_parameters  # chapter 05's parameter counter

seed_everything(6)
text_model = CharTransformer(vocab.size, block_size=64, d_model=64, n_heads=4, n_layers=2, dropout=0.1).to(device)
print(f"{count_parameters(text_model):,} parameters")
text_history = train_char_model(text_model, train_ids, val_ids, steps=BUDGET.text_steps, batch_size=32,
                                lr=4e-3, evaluations=10, seed=6)
text_val = text_history["eval/loss"][-1]
text_seconds = text_history["train/seconds"][-1]
ax = plot_curves({"training (running mean)": text_history["train/loss"], "validation": text_history["eval/loss"]},
                 x=text_history["train/step"], ylabel="cross-entropy (nats/char)", title="character-level Transformer")
ax.axhline(unigram, color="gray", linestyle="--", label="unigram baseline (validation)")
ax.legend()
plt.show()
print(f"validation loss {text_val:.3f} nats/char vs unigram {unigram:.3f}: {unigram - text_val:.2f} nats/char lower "
      f"({BUDGET.text_steps} steps, {text_seconds:.0f} s of training on {device})")
print(f"as unsure as a fair choice among e^H = {math.exp(text_val):.1f} characters (unigram: {math.exp(unigram):.1f})")

# %% [markdown]
# 每字符 $H$ 奈特的损失意味着：平均而言，模型的不确定程度相当于在 $e^{H}$ 个字符中等概率地随机选择。与一元模型那条线之间的差距，就是两个注意力层从上下文中学到的东西：拼写、常见单词、空格和句号该放在哪里。训练曲线和验证曲线之间的差距，是模型学到的、关于*这段*文本却无法推广到未见文本的东西（泛化，见下文第 4.3 节）。完整预算下的目标是验证损失比基线至少低 1 奈特/字符；上面一行说明本次运行的结果（在快速模式下，训练几十步就停止）。
#
# ### 采样：温度与 top-k · Sampling: temperature and top-k
#
# 写作时，模型从它的分布中采样下一个字符，把它接到末尾，然后重复。有两个旋钮在采样之前塑造这个分布。**温度** $T$ 作为对数几率的除数，$p_T = \operatorname{softmax}(\ell / T)$：$T < 1$ 使分布向最可能的字符收紧，$T > 1$ 使它变平。**Top-k** 只保留最可能的 $k$ 个字符并重新归一化，这样一个罕见的错误字符就永远不会被抽中（Fan et al., 2018；参考文献见第 5 节）。
#
# **练习 6.3**（采样分布）：补全 `next_char_probabilities(logits, temperature, top_k)`：把对数几率 `[..., V]` 变成概率 `[..., V]`。保留最大的 `top_k` 个对数几率（当 `top_k` 为 `None` 或至少为 $V$ 时全部保留），其余的概率设为 0，然后在温度 $T$ 下应用 softmax。（第 04 章的 `softmax(x, dim, temperature)` 会给等于 $-\infty$ 的项赋予权重 0。）

# %%
from aigc_course.attention import softmax


def next_char_probabilities(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """softmax(logits / T) restricted to the top_k largest logits; shape [..., V] in and out."""
    # Hint: logits.topk(k, dim=-1).indices are the positions to keep; masked_fill(..., float("-inf")) the rest.
    # BEGIN SOLUTION (Exercise 6.3: temperature and top-k)
    if top_k is not None and top_k < logits.shape[-1]:
        keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, logits.topk(top_k, dim=-1).indices, True)
        logits = logits.masked_fill(~keep, float("-inf"))
    return softmax(logits, dim=-1, temperature=temperature)
    # END SOLUTION


# %%
from aigc_course.applications import generate_text, next_char_figure
from aigc_course.checks.applications import check_next_char_probabilities

next_char_probabilities = check_next_char_probabilities(next_char_probabilities)
next_char_figure(text_model, vocab, "The forger carried a basket of new coi", temperatures=(0.5, 1.0, 2.0))
plt.show()
for temperature in (0.5, 1.0, 1.5):
    sample = generate_text(text_model, vocab, "The critic ", length=240, temperature=temperature, seed=1,
                           distribution=next_char_probabilities)
    print(f"--- T = {temperature} ---\n{sample}\n")

# %% [markdown]
# 比较这三个样本：在低温下，找找最像单词的文本和重复；在高温下，找找不成单词的字符串。两种设置都谈不上“正确”：这取决于你想要稳妥的文本还是出人意料的文本。
#
# **模型会照抄它读过的书吗？**（第 4.2 节的预告。）在一个长样本中找出逐字出现在训练文本中的最长片段，并与验证文本的同一测量相比较：验证文本由人写成，模型从未见过，而普通的英语文本之间同样会有共同的短语。

# %%
from aigc_course.applications import longest_copied_span

train_text, val_text = text[:len(train_ids)], text[len(train_ids):]
long_sample = generate_text(text_model, vocab, "The ", length=1000, temperature=0.8, seed=2,
                            distribution=next_char_probabilities)
copied = longest_copied_span(long_sample[4:], train_text)
shared = longest_copied_span(val_text[:1000], train_text)
print(f"longest stretch of a 1,000-character sample (T = 0.8) found in the training text: {len(copied)} characters, {copied!r}")
print(f"longest stretch of 1,000 characters of unseen validation text found there: {len(shared)} characters, {shared!r}")

# %% [markdown]
# 自己试一试这些旋钮：温度（`temperature`）、top-k（`top-k (0 = all)`，0 表示全部保留）、开头文本（`prompt`）和随机种子（`seed`）；移动滑块会重新采样：

# %%
def show_text_sample(temperature: float = 0.8, top_k: int = 0, prompt: str = "The keeper said", seed: int = 0) -> None:
    print(generate_text(text_model, vocab, prompt or " ", length=300, temperature=temperature,
                        top_k=top_k or None, seed=seed, distribution=next_char_probabilities))


widgets.interact(show_text_sample,
                 temperature=widgets.FloatSlider(value=0.8, min=0.1, max=2.0, step=0.1, description="temperature"),
                 top_k=widgets.IntSlider(value=0, min=0, max=vocab.size, description="top-k (0 = all)"),
                 prompt=widgets.Text(value="The keeper said", description="prompt"),
                 seed=widgets.IntSlider(value=0, min=0, max=20, description="seed"));

# %% [markdown]
# 词表之外的字符（例如数字）会引发一个指明这些字符的错误：对于从未见过的字符，模型没有对应的嵌入。

# %% [markdown]
# ## 3. 音频生成（原文 §6.3） · Audio
#
# 原文列举了音乐、语音合成和音频修复。这三者背后都是同一件事：**波形就是数据**，它是每秒采样成千上万次的气压值列表，本课程的模型可以像学习像素一样学习这样的列表。为了让这一点名副其实，课程中的乐音所含的数与一个 MNIST 数字的像素数完全相同：以每秒 4,000 个采样点的采样率采样 784 个点，即 0.196 秒的声音。每个乐音都是一个拨弦音，是 C 大调音阶 C4-C5 八个音之一，带有它的八度泛音、随机的响度和随机的衰减：
#
# $$x(t) = a\, e^{-t/\tau} \big(\sin 2\pi f t + 0.3 \sin 4\pi f t\big) / 1.3 .$$
#
# 点击播放（播放器会重采样到 16 kHz，所有浏览器都支持这个采样率；它不做响度归一化，所以轻的音仍然轻）。

# %%
from aigc_course.applications import (NOTE_NAMES, SAMPLE_RATE, audio_player, cents_from_nearest_note, from_unit_interval,
                               melody, pitch_report, random_notes, to_unit_interval)

note_waves, note_ids = random_notes(BUDGET.audio_train, seed=0)
test_waves, test_note_ids = random_notes(500, seed=1)
t_ms = torch.arange(note_waves.shape[1]) / SAMPLE_RATE * 1000
fig, axes = plt.subplots(2, 3, figsize=(11, 4.2), sharey=True)
zoom = t_ms <= 20
for i in range(3):
    axes[0, i].plot(t_ms, note_waves[i], lw=0.6)
    axes[0, i].set_title(f"note {NOTE_NAMES[note_ids[i]]}: the whole note", fontsize=10)
    axes[1, i].plot(t_ms[zoom], note_waves[i][zoom], lw=1.0, marker=".", markersize=2)
    axes[1, i].set_title("the first 20 ms (dots = samples)", fontsize=10)
    axes[1, i].set_xlabel("time (ms)")
for row in axes:
    row[0].set_ylabel("amplitude")
plt.tight_layout()
plt.show()
print("eight training notes, one after another:")
display(audio_player(melody(note_waves[:8])))

# %% [markdown]
# 要检查模型生成了什么，我们需要*测量*音高，而不是凭耳朵猜。频谱中最强的频率就能做到：减去均值，用汉宁窗（Hann window）让两端逐渐衰减到零（这样截断乐音不会把频谱抹开），取实数 FFT 的幅值，找出最大的频点 $k \ge 1$（频点 0 是常数部分）；对于以采样率 $f_s$ 采样的 $T$ 个点，频点 $k$ 对应频率 $k \cdot f_s / T$。
#
# **练习 6.4**（从频谱求音高）：为波形 `[..., T]` 补全 `dominant_frequency(wave, sample_rate)`，返回以 Hz 为单位的频率 `[...]`。

# %%
def dominant_frequency(wave: torch.Tensor, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Frequency (Hz) of the largest non-constant rfft bin of (x - mean) * hann(T), for waves [..., T]."""
    # Hint: torch.hann_window(T, dtype=torch.float64) and torch.fft.rfft(..., dim=-1).abs().
    # BEGIN SOLUTION (Exercise 6.4: pitch from the spectrum)
    length = wave.shape[-1]
    centred = wave.double() - wave.double().mean(dim=-1, keepdim=True)
    spectrum = torch.fft.rfft(centred * torch.hann_window(length, dtype=torch.float64)).abs()
    return (spectrum[..., 1:].argmax(dim=-1) + 1).double() * sample_rate / length
    # END SOLUTION


# %%
from aigc_course.checks.applications import check_dominant_frequency

dominant_frequency = check_dominant_frequency(dominant_frequency)
measured_notes, measured_cents = cents_from_nearest_note(dominant_frequency(test_waves))
print(f"pitch measured on {len(test_waves)} synthesized test notes: {(measured_notes == test_note_ids).float().mean():.1%} "
      f"identified as the note played, mean |error| {measured_cents.abs().mean():.1f} cents "
      f"(one FFT bin = {SAMPLE_RATE / test_waves.shape[1]:.1f} Hz)")

# %% [markdown]
# ### 第 03 章的 VAE 学习声音 · The chapter-03 VAE, learning sound
#
# 第 03 章的 `MLPVAE`（pytorch/examples 中的模型）需要 784 个取值在 $[0, 1]$ 内的数。一个乐音是 784 个取值在 $[-1, 1]$ 内的数；用 $u = (x + 1)/2$ 把它们映射过去，然后原样训练这个模型，使用同一个 `train_vae`。它的伯努利解码器并不是声音的自然模型（它也不是灰度像素的自然模型，第 03 章讨论了它为什么仍然有效）；对于只在音高、响度和衰减上变化的乐音，一个小的潜在空间（4 维）就足够了。

# %%
from aigc_course.vae import MLPVAE

seed_everything(3)
audio_vae = MLPVAE(latent_dim=4)
audio_history = train_vae(audio_vae, to_unit_interval(note_waves), epochs=BUDGET.audio_epochs, lr=2e-3,
                          eval_images=to_unit_interval(test_waves), device=device, seed=3)
audio_seconds = audio_history["train/seconds"][-1]
with torch.no_grad():
    mu, _ = audio_vae.encode(to_unit_interval(test_waves).to(device))
    reconstructed = from_unit_interval(torch.sigmoid(audio_vae.decode(mu))).flatten(1).cpu()
    z = torch.randn(500, audio_vae.latent_dim, generator=torch.Generator().manual_seed(4)).to(device)
    generated = from_unit_interval(torch.sigmoid(audio_vae.decode(z))).flatten(1).cpu()
rec_notes, _ = cents_from_nearest_note(dominant_frequency(reconstructed))
audio_rec_agree = float((rec_notes == test_note_ids).float().mean())
audio_snr = float(10 * torch.log10(test_waves.pow(2).mean() / (reconstructed - test_waves).pow(2).mean()))
generated_pitch = pitch_report(generated)
print(f"trained in {audio_seconds:.1f} s; test negative ELBO {audio_history['eval/loss'][-1]:.1f} nats/note")
print(f"reconstructions of 500 test notes: same note {audio_rec_agree:.1%}, signal-to-error ratio {audio_snr:.1f} dB")
print(f"500 notes decoded from z ~ N(0, I): {generated_pitch['in_tune']:.1%} within 50 cents of a scale note; "
      f"notes counted: {generated_pitch['note_counts']}")
print(f"root-mean-square loudness: generated {generated.pow(2).mean().sqrt():.3f}, real test notes "
      f"{test_waves.pow(2).mean().sqrt():.3f}")

# %%
from aigc_course.applications.audio import generated_notes_figure


generated_notes_figure(note_ids, generated, test_waves)
plt.show()
print("eight notes generated by the VAE from random codes:")
display(audio_player(melody(generated[:8])))

# %% [markdown]
# 听一听并比较这两段旋律，然后读一读测量结果。从随机编码解码出来的 VAE 乐音都是音阶中的音（“50 音分以内”（within 50 cents）的比例说明有多少是），但柱状图显示八个音高是否出现得一样频繁，响度那一行则显示它们是否和真实乐音一样响。解码器输出的是一个编码可能代表的东西的*均值*；在编码有歧义的地方，这个均值是音高和衰减各不相同的乐音的平均，它们的波形部分相互抵消：于是得到一个更轻的音。真实的音频生成模型每秒要建模数万个采样点（第 5 节中的 WaveNet 一次生成一个采样点，就像上面的文本模型一次生成一个字符）。

# %% [markdown]
# ## 4. 面临的挑战：实测（原文 §8.2） · Challenges, measured
#
# 原文列出了四项挑战：计算资源、数据质量和多样性、过拟合与泛化、伦理与法律。前三项可以在这台机器上用课程自己的模型来测量；第四项不能，单独用简短而冷静的一节来讨论。
#
# ### 4.1 计算资源 · Compute cost
#
# “AIGC 需要大量算力”，对新闻里的大模型来说确实如此；下面是课程自己的模型**在你的机器上**的代价。每一行给出在大小为 64 的批次（64 张图像，或 64 个 64 字符的窗口）上一次优化器更新步的耗时，取预热之后若干步的平均；最后一列是本笔记本中各次训练实际花费的时间。

# %%
from aigc_course.applications import course_training_steps, time_training_steps

cost_steps = course_training_steps(train_x[:5000], train_ids, vocab.size, batch_size=64, device=device, seed=0)
measured_here = {"CharTransformer (ch. 06)": f"{text_seconds:.0f} s for {BUDGET.text_steps} steps of 32 windows (Section 2)",
                 "MLPVAE (ch. 03)": f"{audio_seconds:.1f} s for {BUDGET.audio_epochs} epochs of {len(note_waves)} notes (Section 3)"}
cost_rows = ["| model | parameters | ms per step (batch 64) | examples per second | trained in this notebook |",
             "|---|---|---|---|---|"]
cost_seconds = {}
for name, entry in cost_steps.items():
    seconds = cost_seconds[name] = time_training_steps(entry["step"], BUDGET.timing_steps, warmup=2, device=device)
    cost_rows.append(f"| {name} | {entry['parameters']:,} | {1000 * seconds:.1f} | {entry['batch'] / seconds:,.0f} | "
                     f"{measured_here.get(name, '-')} |")
display(Markdown("\n".join(cost_rows) + f"\n\n({torch.get_num_threads()} CPU thread(s), device {device}; "
                 "timings vary with the machine and with whatever else it is doing.)"))

# %% [markdown]
# 参数量和每个样本的代价不一定成正比：卷积在图像的每个位置都重复使用每个权重（比较 ConvVAE 和 MLPVAE 两行），而 CharTransformer 在一个窗口的 64 个位置上都要用到它的每个权重。它的时间是不是花在了代价随上下文长度平方增长的注意力上？我们来数一数，而不是猜：它的一个模块的前向 FLOPs（$L = 64$ 个位置，宽度 $d = 64$，MLP 宽度 $4d$），按组成部分列出（第 04 章第 8 节推导了这些公式）：

# %%
from aigc_course.attention import attention_crossover, block_flops

flops = block_flops(text_model.blocks[0].attn.d_model, text_model.block_size)
shares = {part: flops[part] / flops["total"] for part in ("projections", "scores", "weighted sum", "mlp")}
for part, share in shares.items():
    print(f"{part:>13}: {flops[part] / 1e6:6.2f} MFLOPs ({share:.1%})")
quadratic = shares["scores"] + shares["weighted sum"]
top = max(shares, key=shares.get)
print(f"the quadratic attention terms are {quadratic:.1%} of the block; the largest part is the {top} "
      f"({shares[top]:.1%}); attention would dominate only for contexts longer than "
      f"{attention_crossover(text_model.blocks[0].attn.d_model)} positions")

# %% [markdown]
# 所以在这个规模下，账单主要由全连接层（MLP 和各个投影）支付，而不是由 $L^2$ 项支付；在长上下文中二次项才会占主导，这就是长上下文模型要在注意力上下这么大功夫的原因。把每个样本的时间乘以数据集的大小和轮数，就得到了账单：第 05 章的 GAN 每轮要看 60,000 张图像。新闻里的大型生成模型在这三方面（参数、数据、步数）都要大好几个数量级，所以它们在加速器集群上训练，而不是在笔记本电脑上。

# %% [markdown]
# ### 4.2 记忆与复制：生成的数字是副本吗？ · Memorization: are generated digits copies?
#
# 样本来自第 05 章改进的 MLP GAN。如果你运行过第 05 章，它训练好的结果就在课程的数据缓存中，会被直接加载；否则就在这里训练同一个模型，轮数少一些（第 05 章之后会从它接着训练）。
#
# 对每个生成的数字，找出像素空间中离它最近的训练数字（第 05 章的 `nearest_neighbours`）。距离接近 0 就是一个副本。但多大的距离才算“远”？对 GAN 从未见过的真实**测试**数字做同样的测量：它们到最近训练数字的距离，就是“一个新数字”应有的样子。

# %%
from aigc_course.applications import load_or_train_gan, memorization_distances
from aigc_course.gan import generate

gan_run = load_or_train_gan(BUDGET.gan_model, BUDGET.gan_epochs, BUDGET.gan_train_images, device=device)
print(f"GAN {BUDGET.gan_model!r} in {gan_run.out_dir}: {gan_run.epochs_done} epoch(s) done "
      f"({'loaded' if gan_run.trained_epochs == 0 else f'{gan_run.trained_epochs} trained now'})")
n_queries = BUDGET.memorization_queries
fake = generate(gan_run.generator, n_queries, seed=7).unsqueeze(1)          # [n, 1, 28, 28] in [0, 1]
memo = memorization_distances(fake, train_x, test_x[-n_queries:])
fig, ax = plt.subplots(figsize=(6, 3.2))
bins = torch.linspace(0, float(max(memo["generated"].max(), memo["held_out"].max())), 40)
ax.hist(memo["held_out"].numpy(), bins=bins.numpy(), alpha=0.6, label="real test digits (never trained on)")
ax.hist(memo["generated"].numpy(), bins=bins.numpy(), alpha=0.6, label="GAN samples")
ax.set_xlabel("distance to the nearest training digit (pixels, L2)")
ax.set_ylabel("count")
ax.legend(fontsize=8)
plt.show()
closest = memo["generated"].argsort()[:8]
show_images(torch.cat([fake[closest], train_x[memo["generated_index"][closest]]]), nrow=8,
            title="closest GAN samples (top), their nearest training digits (bottom)")
plt.show()
print(f"median distance to the nearest training digit: GAN samples {memo['generated'].median():.2f}, "
      f"real test digits {memo['held_out'].median():.2f}; smallest GAN distance {memo['generated'].min():.2f} "
      f"(smallest test-digit distance {memo['held_out'].min():.2f})")

# %% [markdown]
# 如果 GAN 复制了训练数字，它的直方图会堆积在零附近，位于真实数字直方图的左边。比较上面的中位数和最接近的几对：GAN 最接近训练集的样本，是否比最接近训练集的真实未见数字还要近？这项检查只能发现像素空间中的近似副本，而且只针对你手头的训练图像；一个平移过或重新着色的副本就能通过它（Carlini et al., 2023 在大型图像模型上使用了更强的检验）。

# %% [markdown]
# ### 4.3 泛化：训练与测试 ELBO 之间的差距 · Generalization: the gap between training and test ELBO
#
# 对训练数据的拟合好于对新数据的拟合，这样的模型就是在**过拟合**（overfitting）。对 VAE 而言，ELBO 是似然的下界，所以测试图像与训练图像上负 ELBO 之间的**差距**衡量了过拟合的程度。这并不是对记忆本身的检验：差距说明模型偏爱它训练过的图像，而不是说它会复现这些图像（第 4.2 节直接寻找副本）。把第 03 章的 `MLPVAE` 训练两次，步数相同，分别使用 500 个和 5,000 个训练数字，并在每轮之后在两个集合上测量。`MLPVAE` 没有 Dropout，所以训练模式和评估模式计算的是同一个函数；下面的训练曲线是每一轮内的滑动平均（权重仍在变化，每张图像都抽取新的 $z$），打印出的数字则是训练结束后在整个集合上评估的结果。

# %%
from aigc_course.vae import MLPVAE


def train_for_steps(n_images: int, steps: int, seed: int = 0) -> tuple[MLPVAE, dict[str, list[float]]]:
    """An MLPVAE trained on the first n_images training digits for about `steps` batches of 100."""
    seed_everything(seed)
    model = MLPVAE()
    epochs = max(1, round(steps * 100 / n_images))
    history = train_vae(model, train_x[:n_images], epochs=epochs, batch_size=100, lr=1e-3,
                        eval_images=test_x[:2000], device=device, seed=seed, progress=False)
    return model, history


generalization = {}
for n_images in (500, 5000):
    model, history = train_for_steps(n_images, BUDGET.generalization_steps)
    train_elbo = evaluate(model, train_x[:n_images])["loss"]
    test_elbo = evaluate(model, test_x[:2000])["loss"]
    generalization[n_images] = {"train": train_elbo, "test": test_elbo, "history": history}
    print(f"{n_images:>5} training digits: negative ELBO {train_elbo:.1f} on them (eval mode; last epoch's running "
          f"mean {history['train/loss'][-1]:.1f}), {test_elbo:.1f} on 2,000 test digits -> gap {test_elbo - train_elbo:.1f} nats/image")

small = generalization[500]["history"]
plot_curves({"training (running mean, 500 digits)": small["train/loss"], "test (2,000 digits)": small["eval/loss"]},
            xlabel="epoch", ylabel="negative ELBO (nats/image)", title="MLPVAE trained on 500 digits")
plt.show()

# %% [markdown]
# 在曲线中寻找这样一个轮次：在它之后，训练曲线继续下降，而测试曲线趋于平坦；从那里开始，不断拉大的差距就是过拟合。然后比较上面打印的两个差距：在计算量相同的情况下，十倍的数据对差距产生了什么影响？这就是原文所说的过拟合与泛化挑战（§8.2 第 3 项）的数字版本，也说明了为什么留出数据才是唯一诚实的评判者（第 01 章对分类器用了同样的思想）。

# %% [markdown]
# ### 4.4 检测生成内容 · Detecting generated images
#
# 训练第 01 章的分类器回答一个问题：是真实数字，还是 GAN 的样本？把真实测试数字和 GAN 样本混在一起打乱，70% 用来训练检测器，留出 30% 来测量它。50% 的准确率意味着这些样本（对这个检测器而言）无法区分。

# %%
from aigc_course.applications import generated_probability, real_vs_generated, train_detector

n_detect = BUDGET.detector_images
detect_real = test_x[:n_detect]
detect_fake = generate(gan_run.generator, n_detect, seed=8).unsqueeze(1)
split = real_vs_generated(detect_real, detect_fake, test_fraction=0.3, seed=0)
detector, detector_scores = train_detector(*split, epochs=BUDGET.detector_epochs, device=device, seed=0)
print(f"held-out accuracy {detector_scores['accuracy']:.1%} on {len(split[3])} images: real called real "
      f"{detector_scores['real_recall']:.1%}, generated called generated {detector_scores['generated_recall']:.1%}")
held_fake = split[2][split[3] == 1]
p_generated = generated_probability(detector, held_fake)
show_images(held_fake[p_generated.argsort()[:8]], nrow=8,
            title="held-out GAN samples the detector found most real-looking")
plt.show()

# %% [markdown]
# 检测器学到的是能把两个集合分开的任何统计差异，而不是“虚假”本身。所以它的准确率说明的是：在今天，对*这个*检测器而言，*这个*生成器离数据有多远；一个更好的生成器，或者一个它从未见过的生成器，可能会通过检测。（Wang et al., 2020 发现，在一个图像生成器上训练的检测器迁移到其他生成器上的效果出奇地好，但论文标题仍然加上了“... for now”（暂时而言）。）检测器的判定是证据，永远不是证明。

# %% [markdown]
# ### 4.5 数据质量和多样性 · Data quality and diversity
#
# 生成模型会再现它的训练分布，连同其中的缺口和偏差：上面的音频 VAE 永远只能演奏它听过的八个音，而 MNIST GAN 只会画出像 MNIST 那样的笔迹。第 01 章测量了清洗和增强数据的作用；本章文本语料中的故事 “The Orchard Keeper's Ledger”（《果园看守人的账本》）用寓言讲述了同样的道理。
#
# ### 4.6 版权、隐私与滥用 · Copyright, privacy and misuse
#
# 这些更多是法律和伦理问题，而不是代码问题，答案因国家而异，而且变化很快；本课程不提供法律建议。上面的测量确实表明了以下几点：
#
# - **训练数据可能被原样再现**：一个会记忆的模型（4.3）可能再现训练样本；对于大型图像模型，这已经在真实人物的照片和注册商标的标志上得到了证明（Carlini et al., 2023）。最近邻检查（4.2）能发现*训练*图像的近似副本，也只能发现这些。
# - **同意与许可在训练之前就很重要**，而不是在训练之后：一段文本、一张图像或一个声音能否用来训练模型，取决于它的许可证和你所在地的法律；“公开可见”不等于“可以随意使用”。要记录模型是用什么数据训练的（本课程的语料在第二行就说明了它的来源）。
# - **隐私**：在许多司法管辖区，人脸、声音和个人文本都属于个人数据。用这些数据训练的生成器可能泄露它们（记忆），或者模仿真实的人。
# - **滥用**：生成的图像、声音和文本可能被用来冒充、欺骗或骚扰他人。内容是生成的，就要明确说明；永远不要把话语或行为强加到真实的人身上。检测器有帮助，但不是保障：4.4 中的检测器的能力，取决于训练它时所用的那些生成器。
#
# ### 4.7 冷静看待发展趋势（原文 §8.1） · Trends, soberly
#
# 原文预言了更好的算法、多模态生成、个性化和实时应用。有两项原文没有提到的进展正在塑造今天的领域：规模扩大为大型语言模型的 **Transformer**（第 2 节的架构就来自 Vaswani et al., 2017），以及**扩散模型**（diffusion model；Ho, Jain and Abbeel, 2020），它是当前大多数图像生成器背后的模型族，通过训练来一步一步地去除噪声（第 1 节的图像修复算是它的远亲；第 07 章从零开始构建扩散模型及其后继者流匹配（flow matching），并把它们与 GAN 和 VAE 对比测量）。两者都用与本章所测量的类似的、基于似然的目标来训练；把它们的规模扩大，会让上面的挑战（成本、记忆、同意、检测）变得更大，而不是更小。

# %% [markdown]
# ## 5. 工具和资源推荐、参考资料（原文 §7、§10） · Tools, resources and references, corrected
#
# 编写本章时，原文推荐的每一本书、每一门课程、每一个网站、每一个工具和每一篇论文，都对照其出版方、会议论文集或官方网站核对过。数据保存在 `aigc_course/references.py` 中，每一条都注明了在哪里核对；无法核实的不予推荐。
#
# > **⚠️ 勘误 · Errata（原文 §7.1-§7.3、§10）**：原文写道：「“InfoGAN: Interpretable Representation Learning by Information Maximizing” (Tao Xu et al.)」、「“StyleGAN: Efficient Image Synthesis with Style-Based Generative Adversarial Networks” (Tao Xu et al.)」，把 DCGAN 说成「变分自编码器（VAE）的改进版本」，列出「《Python深度学习》（FrancescoPierro、Lukasz Adamusiak、Wrachford 著）」，并称 Keras 是「一款基于TensorFlow和Theano的开源深度学习库」。原文的好几条参考资料是错的，有些错得离谱。InfoGAN 的作者是 Chen、Duan、Houthooft、Schulman、Sutskever 和 Abbeel（NIPS 2016），而不是“Tao Xu et al., ICCV 2018”；StyleGAN 是 Karras、Laine 和 Aila 的 “A Style-Based Generator Architecture for Generative Adversarial Networks”（CVPR 2019），而不是署名“Tao Xu et al.”的一个杜撰的标题；DCGAN（Radford, Metz and Chintala, 2015）是一种卷积 **GAN**，而不是 VAE 的改进版本；《Python深度学习》是 François Chollet 的 *Deep Learning with Python*，而不是三位杜撰的作者写的书；Keras 已不再运行在 Theano 之上，Theano 的开发在 2017 年就已结束。下表列出了每一处更正。

# %%
from aigc_course.course import corrections_markdown, dropped_markdown, references_markdown

display(Markdown(corrections_markdown()))
display(Markdown("**Not recommended** (could not be verified):\n\n" + dropped_markdown()))

# %% [markdown]
# ### 论文 · Papers
#
# 原文的参考文献（已更正），以及原文遗漏、而学习者接下来需要的文献。

# %%
display(Markdown("**Cited by the article (corrected):**\n\n" + references_markdown(kind="paper", origin="article")))
display(Markdown("**Added by the course:**\n\n" + references_markdown(kind="paper", origin="added")))

# %% [markdown]
# ### 书籍、课程、网站与工具 · Books, courses, sites and tools

# %%
for kind, title in (("book", "Books"), ("course", "Courses"), ("site", "Sites and demos"), ("tool", "Tools")):
    display(Markdown(f"**{title}:**\n\n" + references_markdown(kind=kind)))

# %% [markdown]
# ## 6. 常见问题与解答（原文 §9） · FAQ, answered with the course
#
# **9.1 什么是 AIGC？** 从样本中学到的生成模型 $p_\theta(x)$ 中采样得到的内容（文本、图像、音频）。第 00 章给出了定义；第 02-05 章构建了原文提到的三类模型，本章又加上了自回归语言模型（第 2 节），大多数文本生成器都属于这一类。
#
# **9.2 用在哪里？** 原文（§6）列出的范围很广；本章第 1-3 节运行了图像修复、文本生成和声音生成的小型实测版本。对每一项都要问：测量了什么，与哪个基线比较？上面的表格就是范本。
#
# **9.3 如何构建 AIGC 模型？** 原文的五个步骤在大框架上是对的：数据（第 01 章）、模型选择（02-05）、训练、评估（05，以及本章第 4 节）、部署。
#
# > **⚠️ 勘误 · Errata（原文 §9.3）**：原文的第 3 步写道：「使用预处理后的训练数据训练生成模型，通过交替训练生成器和判别器，提高生成质量」。这只适用于 GAN（第 02 和 05 章）。VAE **联合**训练它的编码器和解码器，一个损失、一步优化器更新（第 03 章）；第 2 节的文本模型根本没有判别器，它和扩散模型一样，通过最大似然来训练。
#
# **9.4 有哪些挑战？** 计算、数据、泛化、法律与伦理：上面第 4 节在你的机器上测量了前三项，并讨论了第四项。

# %% [markdown]
# ## 7. 小结 · Summary
#
# 本次运行测得的结果（数字来自上面的单元格；在 `AIGC_COURSE_FAST=1` 下，每个模型都只训练很短的时间，数字也更差）：

# %%
if is_fast_mode():
    print("fast mode: every model below was trained briefly; run without AIGC_COURSE_FAST for the real numbers")
hole = dict(restoration_rows)["bottom half"]
noise = denoise_rows[0.4]
gap_small = generalization[500]["test"] - generalization[500]["train"]
gap_large = generalization[5000]["test"] - generalization[5000]["train"]
display(Markdown(f"""
- **Inpainting** (bottom half hidden, {n_restore} test digits): mean squared error on the hidden pixels
  {hole['VAE, optimized z']:.4f} with the VAE and an optimized code, against {hole['masked input (hidden = 0)']:.4f}
  for the masked input and {hole['mean training digit']:.4f} for the average digit.
- **Denoising** (noise std 0.4, {clipped_share[0.4]:.0%} of the noisy pixels clipped): {noise['noisy input']:.4f} for the
  noisy input; with the VAE, {noise['VAE, z fitted with clipped-Gaussian likelihood']:.4f} with the exact (clipped-Gaussian)
  likelihood, {noise['VAE, z fitted with Gaussian likelihood']:.4f} with the plain Gaussian one and
  {noise['VAE, z fitted with Bernoulli likelihood']:.4f} with the Bernoulli one.
- **Text**: validation loss {text_val:.3f} nats/char against {unigram:.3f} for the unigram baseline,
  **{unigram - text_val:.2f} nats/char lower**, after {BUDGET.text_steps} steps ({text_seconds:.0f} s of training on {device}).
- **Audio**: the chapter-03 VAE reconstructs {audio_rec_agree:.0%} of test notes at the right pitch
  ({audio_snr:.1f} dB signal-to-error); {generated_pitch['in_tune']:.0%} of the notes it generates are in tune.
- **Compute**: one training step on a batch of 64 took from {1000 * min(cost_seconds.values()):.0f} ms
  ({min(cost_seconds, key=cost_seconds.get)}) to {1000 * max(cost_seconds.values()):.0f} ms
  ({max(cost_seconds, key=cost_seconds.get)}) here (table in Section 4.1).
- **Memorization**: median distance to the nearest training digit {memo['generated'].median():.2f} for GAN samples,
  {memo['held_out'].median():.2f} for real unseen digits.
- **Generalization**: negative-ELBO gap between training and test digits {gap_small:.1f} nats/image when trained on
  500 digits, {gap_large:.1f} on 5,000.
- **Detection**: a classifier tells GAN samples from real digits with **{detector_scores['accuracy']:.1%}** held-out
  accuracy (50% is chance).
"""))

# %% [markdown]
# 原文 §6 中的每一项应用，归根结底都是你现在已经构建并测量过的三种模型之一：VAE（图像修复、声音）、GAN（图像）、基于注意力的语言模型（文本）。§8 中的每一项挑战，都是你在相信它之前可以先测量的东西。§10 中的每一条参考资料都可以核对：上面那些都已核对过。
#
# **下一章，超出原文的内容**：[07 · 扩散模型与流匹配 · Diffusion and flow matching](07_diffusion.ipynb)，当今图像生成器背后的技术。**回到起点**：[00 · 欢迎与概览 · Welcome and overview](00_overview.ipynb)。
