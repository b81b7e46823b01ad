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
# # 05 · 项目实战 · The MNIST GAN project
#
# 原文 §5 以一个项目收尾：一个用 Keras 编写、能画出手写数字的生成对抗网络（GAN）。照原样，这段代码无法运行；即使草草修补了其中的错误，它训练的也仍然不是一个 GAN。本章
#
# 1. 列出原文代码片段的每一个错误，并把模型**忠实地**移植到 PyTorch，只修正必须修正的地方；
# 2. 构建**我们自己的评估**：一个由课程训练的数字分类器，并用它计算类 Inception 分数、类别直方图、弗雷歇距离和记忆检查，每一项都与真实数字的同一指标并列展示；
# 3. 训练移植模型和一个**改进模型**，带有进度条、损失曲线、每轮（epoch）一张样本网格，以及中断之后仍能恢复的检查点；然后用与改进模型**相同的训练时间训练一个 DCGAN**，让测量结果决定哪种架构胜出；
# 4. 用控件探索训练好的生成器，并展示在笔记本之外完成这一切的命令行。
#
# 预算：学生默认得到完整预算，即每个 GAN 训练 40 轮：在 2 核 CPU 上，改进模型的训练不到 10 分钟，移植模型只需几分钟，DCGAN 再用同样长的时间；第一次运行时还要再花几分钟训练评估用的分类器。`AIGC_COURSE_FAST=1` 会为测试把一切缩小。训练好的模型会被缓存，所以第二次运行时直接加载，不再重新训练。

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
# ## 1. 开发环境搭建（原文 §5.1） · The environment
#
# > **⚠️ 勘误 · Errata（原文 §5.1）**：原文写道：「确保已安装Python 3.6及以上版本」，并给出 `pip install tensorflow` 和 `pip install numpy pandas matplotlib`。当前的 TensorFlow 版本需要新得多的 Python（3.6 已于 2021 年 12 月停止维护），而且代码片段还导入了 `tensorflow_addons`，它不在安装步骤之中，本身也已停止维护。原文安装了 `pandas`，却从未使用。本课程使用 PyTorch：`aigc_course` 包（在 Colab 上由设置单元格安装）包含所有模型、训练循环和评估；上面的单元格已经打印出你的软件版本和计算设备。
#
# 下面的一切都从同一份预算读取各项规模，并为每个随机数生成器设定种子。

# %%
import time

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from aigc_course.config import budget, data_dir, get_device, is_fast_mode, seed_everything
from aigc_course.data import images_to_unit
from aigc_course.evaluation import load_mnist_cached
from aigc_course.plotting import plot_curves, show_images

BUDGET = budget("mnist_gan")
device = get_device()
seed_everything(0)
print("budget:", BUDGET)
print(f"device: {device}, torch threads: {torch.get_num_threads()}")
train_images, train_labels = load_mnist_cached("train")  # parsed once, shared with the training code
test_images, test_labels = load_mnist_cached("test")
train_unit, test_unit = images_to_unit(train_images), images_to_unit(test_images)
print("trained GANs are cached in", data_dir() / "models" / "mnist_gan")

# %% [markdown]
# ## 2. 源代码详细实现和代码解读（原文 §5.2-5.3） · The article's code, bug by bug
#
# 原文的代码片段（Keras）构建了一个生成器 `Dense(128) -> GaussianNoise(0.1) -> LeakyReLU(0.2) ->
# Dense(784, tanh)` 和一个判别器 `Flatten -> Dense(128) -> Dropout(0.3) -> LeakyReLU(0.2) ->
# Dense(1, sigmoid)`，两者都使用 `Adam(0.0001, 0.5)`，然后进入训练循环。逐行阅读：
#
# | # | 原文的代码 | 会发生什么 | 修正 |
# |---|---|---|---|
# | 1 | 用到了 `LeakyReLU`、`Dropout`、`Adam`、`np`，却从未导入 | 第一次使用时抛出 `NameError` | 导入它们（`tf.keras.layers`、`tf.keras.optimizers`、`numpy`） |
# | 2 | `from tensorflow_addons.layers import GaussianNoise` | TensorFlow Addons 没有这个层（而且已停止维护） | 使用 `tf.keras.layers.GaussianNoise`；在 PyTorch 中是一个 5 行的模块（见下文） |
# | 3 | `mnist_data.next_batch(batch_size)` | `mnist_data` 从未定义（`next_batch` 是 TensorFlow 1 教程里的辅助函数） | 加载 MNIST，**缩放到 [-1, 1]** 以匹配 tanh 输出，每轮打乱顺序 |
# | 4 | 每轮内部的 `for _ in range(batch_size):` | 每“轮”128 步，与 60,000 张图像毫无关系 | 每个小批量一步：`range(60000 // batch_size)` |
# | 5 | `epochs = 10000` | 再加上错误 4，内层循环共执行 10,000 × 128 = 128 万次，每次调用三次 `train_on_batch`（D 两次，G 一次），每 128 次打印一次 | 一轮就是完整遍历一次数据；几十轮就够了 |
# | 6 | `generator.compile(loss='binary_crossentropy', ...)`，然后 `generator.train_on_batch(noise, np.ones((batch_size, 1)))` | 目标的形状 `[128, 1]` 与生成器输出的形状 `[128, 28, 28, 1]` 不匹配；即使形状匹配，这也只会把**像素**推向 1，而从不询问判别器：这不是 GAN | **通过** D 训练 G：`gan.train_on_batch(noise, ones)`，即最小化 $-\log D(G(z))$ |
# | 7 | `gan = build_gan(generator, discriminator)` | 构建了，却从未编译、从未使用 | 在 `discriminator.trainable = False` 之后编译它，并用它做 G 的更新步（修正 6） |
# | 8 | 没有 `discriminator.trainable = False` | 假如训练 `gan`，D 的权重会朝着把假样本判为真的方向移动 | 在组合模型中冻结 D（PyTorch：只让 G 的优化器执行更新） |
# | 9 | `Dense(1, activation='sigmoid')` + `binary_crossentropy` | 在 Keras 中能用，但当 D 很有把握时 log(sigmoid) 会下溢 | 输出对数几率（logit）；sigmoid 放进损失函数（`binary_cross_entropy_with_logits`，第 02 章） |
# | 10 | 内层循环中的 `generator.predict(noise)` | 正确但慢（每一步都是一次新的计算图调用） | 直接调用模型 |
# | 11 | 只在最后调用一次 `generator.save('generator.h5')` | 一旦崩溃就会丢失一切；`.h5` 是 Keras 的旧格式 | 每轮以原子方式为两个网络、优化器、轮次和随机数生成器状态保存检查点（第 8 节） |
#
# > **⚠️ 勘误 · Errata（原文 §5.3）**：原文写道：「GaussianNoise层用于为输入噪声添加高斯噪声，以增加生成图像的多样性」，又写道：「通过上述代码，我们可以生成高质量的手写数字图像」。实际上这个层位于第一个全连接层*之后*（扰动的是隐藏层的激活，而不是输入），而且 Keras **只在训练时**启用它，所以它对生成的图像根本不增加任何多样性：它只是一个温和的正则化手段。结尾所说的“高质量”从未被测量过；第 5 节测量了它。
#
# **把原文的生成器更新步真正跑一遍**：第 6 行说明了形状匹配之后 `generator.train_on_batch(noise, ones)` 会做什么；这里把它实际运行一下。`article_generator_step` 用的正是这一步，**单独**训练原文的生成器：在每个输出像素与 1 之间计算二元交叉熵，做法与 Keras 相同（Keras 在取对数之前把预测值截断到 $[10^{-7}, 1 - 10^{-7}]$），使用 Adam(1e-4, 0.5)，每一步都用新的噪声，没有判别器，也没有数据。这个损失里没有任何东西提到数字。

# %%
from aigc_course.gan import article_generator_step

article_step = article_generator_step(BUDGET.article_g_steps, device=device)
h = article_step.history
for i in sorted({0, len(h["train/step"]) // 2, len(h["train/step"]) - 1}):
    print(f"step {int(h['train/step'][i]):>4}: loss {h['train/loss'][i]:.3f}, mean pixel {h['train/mean_pixel'][i]:+.3f} "
          f"(tanh range [-1, 1]), pixels above 0.9: {h['train/white_share'][i]:.1%}, "
          f"spread across noise vectors {h['train/spread'][i]:.3f}")
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8))
show_images(article_step.before, nrow=8, title="article's G, untrained", ax=axes[0])
show_images(article_step.after, nrow=8, title=f"after {BUDGET.article_g_steps} of the article's G-steps", ax=axes[1])
plt.show()
rose = h["train/mean_pixel"][-1] > h["train/mean_pixel"][0]
shrank = h["train/spread"][-1] < h["train/spread"][0]
display(Markdown(f"Measured: the loss fell from {h['train/loss'][0]:.2f} to {h['train/loss'][-1]:.2f} while the mean "
                 f"pixel went from {h['train/mean_pixel'][0]:+.3f} to {h['train/mean_pixel'][-1]:+.3f} "
                 f"({'up, towards' if rose else 'not towards'} 1 = full ink) and the spread across noise vectors "
                 f"{'shrank' if shrank else 'did not shrink'} from {h['train/spread'][0]:.3f} to {h['train/spread'][-1]:.3f}. "
                 "The loss is smallest when every pixel of every image is 1, an all-ink square whatever the "
                 "noise: this step can only learn to paint the canvas, never to draw a digit."))

# %% [markdown]
# 忠实的移植保留了原文的架构、优化器设置、批量大小以及 Keras 的初始化方式（Glorot 均匀分布的权重、零偏置），并修正了上面的每一个错误。它的判别器返回对数几率（logit）；$D(x) = \sigma(\text{logit})$。

# %%
from aigc_course.gan import MODELS, build_models, count_parameters

port_g, port_d = build_models("gan")
print(port_g, port_d, sep="\n")
print(f"generator: {count_parameters(port_g):,} parameters; discriminator: {count_parameters(port_d):,}")
print("training settings:", MODELS["gan"])

# %% [markdown]
# ## 3. 评估 · Our own evaluation
#
# “它看起来像数字吗？”在这里由一个**数字分类器**来判断（课程共用的 `DigitClassifier`：两个卷积层和两个全连接层），它在全部 60,000 张训练图像上训练并被缓存，所以只需训练一次。对 $N$ 张图像 $x_i$ 及其类别概率 $p(y \mid x_i)$：
#
# - **类 Inception 分数**（Inception-style score，IS）：$\exp\big(\frac1N \sum_i \mathrm{KL}(p(y\mid x_i)\,\|\,p(y))\big)$，其中边缘分布 $p(y) = \frac1N\sum_i p(y\mid x_i)$。它等于 $\exp(H(y) - \mathbb E_x H(y\mid x))$：当每张图像都能被很有把握地认作某一个数字（$H(y\mid x)$ 低）**并且**十个数字出现得一样多（$H(y)$ 高）时，分数就高。最大为 10；当每张图像得到相同的分布时为 1。（原始的 Inception 分数（Salimans et al., 2016）使用在 ImageNet 上训练的 Inception 网络；在 MNIST 上由数字分类器来扮演它的角色。）
# - **类别直方图**：分类器判给每个数字的图像所占的比例。跳过某些数字的生成器（模式崩溃）会在直方图上显出空缺。
# - **弗雷歇距离**（Frechet distance，FD）：分别在生成图像和真实测试图像的分类器倒数第二层 128 个特征上拟合高斯分布，两者之间的距离为 $\lVert\mu_g-\mu_r\rVert^2 + \mathrm{Tr}(\Sigma_g+\Sigma_r-2(\Sigma_g\Sigma_r)^{1/2})$。越低越好；真实训练图像给出下限。（Heusel et al., 2017 提出它时使用的是 Inception 特征，称为 FID。）
# - **像素空间中最近的训练近邻**：一个记住了训练集的生成器，产生的图像与训练图像的距离会比真实*测试*数字近得多。

# %%
from aigc_course.evaluation import (class_probabilities, classifier_config, comparison_markdown,
                                    evaluation_report, load_or_train_classifier, plot_class_histograms,
                                    real_reference)

classifier = load_or_train_classifier(**classifier_config(), device=device)
reference = real_reference(classifier, BUDGET.reference_images)  # features of the real test digits, computed once
print(f"classifier accuracy on {reference['n_test']} test digits: {reference['accuracy']:.4f}")

# %% [markdown]
# **练习 5.1**：根据类别概率矩阵 `probs` `[N, C]`（每行之和为 1）计算类 Inception 分数。请用 float64 计算；$p = 0$ 的项贡献为 0。

# %%
def inception_score(probs: torch.Tensor) -> float:
    """exp( mean_i KL(p(y|x_i) || p(y)) ) with p(y) = mean_i p(y|x_i); probs [N, C] -> a float."""
    # Hint: the marginal is probs.mean(0); KL_i = sum_c p_ic (log p_ic - log p_c).
    raise NotImplementedError("Exercise 5.1: Inception-style score")


# %%
from aigc_course.checks.mnist_gan import check_inception_score

inception_score = check_inception_score(inception_score)
n_eval = BUDGET.eval_samples
real_probs = class_probabilities(classifier, test_unit[:n_eval])
print(f"real test digits ({n_eval}): Inception-style score {inception_score(real_probs):.3f}")
print(f"one image per class, perfectly confident: {inception_score(torch.eye(10)):.3f}; "
      f"every image the same: {inception_score(real_probs[:1].expand(100, 10)):.3f}")

# %% [markdown]
# ## 4. 训练忠实移植的模型 · Training the faithful port
#
# `train_gan(model, epochs, out_dir)` 在缩放到 [-1, 1] 的 MNIST 上训练，使用第 02 章的 `gan_training_step`（先用真实图像和分离（detach）后的生成图像做一步判别器更新，再通过一个保持不变的判别器做一步生成器更新），并在每轮之后为同样的 64 个噪声向量写出一张样本网格和一个检查点。它还在每轮之后，在 512 张固定图像上记录 $D(x)$ 和 $D(G(z))$：如果它们分别变成 1 和 0 并停在那里，就说明判别器赢了，生成器再也得不到有用的梯度。如果运行文件夹中已经有一个轮数足够的检查点，就什么也不训练（有则加载，无则训练），所以工作坊可以事先用命令行预训练（第 10 节）。

# %%
from aigc_course.gan import load_sample_grid, run_folder
from aigc_course.gan import train_gan

port_dir = run_folder("gan", BUDGET.train_subset, seed=0)
port = train_gan("gan", BUDGET.port_epochs, port_dir, train_subset=BUDGET.train_subset, device=device)
def describe_run(run):
    """Epochs, where they came from, and the training time and speed recorded in the history."""
    seconds = sum(run.history["train/seconds"])
    images = run.epochs_done * (len(train_images) if BUDGET.train_subset is None else BUDGET.train_subset)
    print(f"{run.spec.name}: {run.epochs_done} epochs done ({run.trained_epochs} trained now, {run.resumed_from} "
          f"loaded from {run.out_dir.name}); training time {seconds:.0f} s, about {images / seconds:.0f} images/s")


describe_run(port)


# %%
def show_training(run, title):
    """Loss curves, D(x) and D(G(z)) per epoch, and the last fixed-noise sample grid."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [1, 1, 0.9]})
    h = run.history
    plot_curves({"D loss": h["train/d_loss"], "G loss": h["train/g_loss"]}, xlabel="epoch", ax=axes[0], title=f"{title}: losses")
    plot_curves({"D(x), real": h["eval/d_real"], "D(G(z)), fake": h["eval/d_fake"]}, xlabel="epoch", ylabel="mean D output",
                ax=axes[1], title="discriminator outputs")
    axes[1].set_ylim(0, 1)
    axes[2].imshow(load_sample_grid(run.out_dir, run.epochs_done), interpolation="nearest")
    axes[2].set_axis_off()
    axes[2].set_title(f"fixed noise after epoch {run.epochs_done}")
    plt.tight_layout()
    plt.show()


show_training(port, "article's GAN (port)")
h = port.history
print(f"last epoch: D loss {h.last('train/d_loss'):.3f}, G loss {h.last('train/g_loss'):.3f}, "
      f"D(x) {h.last('eval/d_real'):.3f}, D(G(z)) {h.last('eval/d_fake'):.3f}; "
      f"any NaN: {any(v != v for k in ('train/d_loss', 'train/g_loss') for v in h[k])}")

# %% [markdown]
# ## 5. 评估结果 · Judging the port, beside real digits
#
# 从移植模型抽取 10,000 个样本（快速模式下更少），连同同样数量的真实测试数字，一次算出所有指标：

# %%
from aigc_course.gan import generate

port_samples = generate(port.generator, n_eval, seed=100)  # other noise than the training grids
port_report = evaluation_report(port_samples, classifier, reference=reference, nn_queries=BUDGET.nn_queries)
display(Markdown(comparison_markdown({"real digits": port_report["real"], "article's GAN (port)": port_report["generated"]})))
plot_class_histograms({"real": port_report["real"]["class_fractions"],
                       "port": port_report["generated"]["class_fractions"]})
plt.show()

# %% [markdown]
# ## 6. 改进模型 · A better model on the same CPU
#
# 哪种架构胜出，可能取决于一步训练的代价。卷积是处理图像的自然选择（下面的 DCGAN），但在 CPU 上，卷积的训练步每张图像可能比全连接层慢得多，而在固定的预算内，能跑完多少轮可能比架构更重要（第 6.2 节正是检验这一点）。下面的单元格在这台机器上**测量**每个模型一步训练每秒处理的图像数。
#
# **练习 5.2**：DCGAN 的生成器用*上采样块*（up-block）把分辨率加倍：一个卷积核为 4、步幅为 2、填充为 1 的转置卷积（输出尺寸 $(H-1)\cdot 2 - 2 + 4 = 2H$），不带偏置（紧随其后的批归一化会减去均值，偏置是多余的），然后是 `BatchNorm2d`，再然后是 `ReLU`。下面的 DCGAN 就是用你写的这个块搭建和训练的。

# %%
import torch.nn as nn


def dcgan_up_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """[B, in_channels, H, W] -> [B, out_channels, 2H, 2W]: ConvTranspose2d(4, 2, 1, no bias) -> BatchNorm2d -> ReLU."""
    raise NotImplementedError("Exercise 5.2: DCGAN generator up-block")


# %%
from aigc_course.checks.mnist_gan import check_dcgan_up_block
from aigc_course.gan import measure_step_speed

dcgan_up_block = check_dcgan_up_block(dcgan_up_block)
print("7x7 -> 14x14:", tuple(dcgan_up_block(128, 64)(torch.randn(2, 128, 7, 7)).shape))
speeds = {name: measure_step_speed(name, steps=BUDGET.speed_steps, device=device) for name in MODELS}
for name, speed in speeds.items():
    g, d = build_models(name, up_block=dcgan_up_block if name == "dcgan" else None)
    print(f"{name:6s} G {count_parameters(g):>9,} + D {count_parameters(d):>9,} parameters: "
          f"{speed:7.0f} images/s -> one epoch of 60,000 images in {60000 / speed:6.1f} s")

# %% [markdown]
# ### 改进的多层感知机GAN · The improved model: a wide MLP GAN with a fast step and a moving average
#
# 课程用来与 DCGAN 较量的候选者是一个多层感知机（MLP）GAN，它的每一个设计选择都用每秒处理的图像数或每次更新的质量来证明自己的价值（第 6.2 节让 DCGAN 训练同样长的实际时间，由测量结果决定谁胜出）：
#
# - **快速的训练步**：全连接层是大型矩阵乘法，CPU 运行它们时接近峰值性能；DCGAN 的卷积每张图像的代价更高（见上面的测量），所以在相同的几分钟里，MLP 能跑完更多的轮次。Adam 的*融合*（fused）内核一次遍历就更新所有参数，而不是一次更新一个张量；训练之后的那个单元格测量了它在这里值多少。
# - **把容量用在值得的地方**：生成器很宽，100 → 256 → 512 → 1024 → 784，每个隐藏层之后都有批归一化，使每一层的输入保持合适的尺度。判别器小一些，784 → 512 → 256 → 1：每一步更便宜，其用意是不压倒生成器。
# - **判别器的正则化**：0.3 的 Dropout，以及一个*小批量标准差*（minibatch standard deviation）特征：最后一层还能看到这一批样本的特征差异有多大，所以一个不断重复自己的生成器很容易被识破：这是防止模式崩溃的一种廉价手段（Karras et al., 2018）。
# - **学习率的平衡**：两个网络都用 4e-4，是 DCGAN 常用的 2e-4 的两倍：在 CPU 上，预算限制的是更新的次数，所以每次更新可以多走一些（下面的曲线显示训练是否保持稳定）。
# - **生成器权重的指数移动平均**（EMA）：每一步之后，$\theta_{\text{EMA}} \leftarrow 0.999\,\theta_{\text{EMA}} + 0.001\,\theta$；样本来自 $\theta_{\text{EMA}}$，它把对抗博弈中的振荡平均掉。平均后的权重从未做过前向计算，所以在采样之前，要在 10,000 个噪声向量上重新估计它们的批归一化统计量（`recalibrate_batch_norm`；训练集较小时，例如在快速模式下，用的噪声向量更少）。
#
# 损失函数与移植模型相同，都是非饱和损失，训练步也是同一个 `gan_training_step`。

# %%
improved_dir = run_folder("mlp", BUDGET.train_subset, seed=0)
improved = train_gan("mlp", BUDGET.epochs, improved_dir, train_subset=BUDGET.train_subset, device=device)
describe_run(improved)
show_training(improved, "improved MLP GAN")

# %% [markdown]
# **实测融合 Adam**：对改进模型的同一个训练步计时，一次使用 Adam 的融合内核，一次使用它逐个张量更新的循环（每次都用新建的网络，轮流决定谁先运行，取三轮的中位数）：

# %%
from aigc_course.gan import compare_fused_adam

fused = compare_fused_adam("mlp", steps=BUDGET.fused_steps, repeats=3, device=device)
change = fused["speedup"] - 1
print(f"fused Adam {fused['fused']:.0f} images/s, per-tensor loop {fused['loop']:.0f} images/s: "
      f"the fused step is {abs(change):.0%} {'faster' if change >= 0 else 'slower'} on this machine "
      f"({BUDGET.fused_steps} steps per timing; a few percent either way is within the noise of a shared CPU)")

# %%
improved_samples = generate(improved.generator, n_eval, seed=100)
improved_report = evaluation_report(improved_samples, classifier, reference=reference, nn_queries=BUDGET.nn_queries)
reports = {"real digits": improved_report["real"], "article's GAN (port)": port_report["generated"],
           "improved": improved_report["generated"]}
display(Markdown(comparison_markdown(reports)))
plot_class_histograms({name: r["class_fractions"] for name, r in reports.items()})
plt.show()
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
for ax, (name, images) in zip(axes, [("real test digits", test_unit[:64]), ("article's GAN (port)", port_samples[:64]),
                                     ("improved", improved_samples[:64])]):
    show_images(images, nrow=8, title=name, ax=ax)
plt.show()

# %% [markdown]
# ### 6.2 相同训练时间下的DCGAN · The DCGAN at the same wall clock
#
# 用**你的**上采样块（练习 5.2）搭建的卷积 GAN，训练的秒数与改进模型的训练时间相同（在时间允许的范围内训练完整的轮次；达到预算的那一轮在预算用完处截断）。数据、批量大小、损失函数和训练步都相同，G 的移动平均也相同；不同的是每个模型各自附带的东西：架构（MLP 的判别器还带有小批量标准差特征）和学习率（DCGAN 为 2e-4，MLP 为 4e-4）。下面的表格和表格之后的那句话都来自本次运行的数字。

# %%
from aigc_course.gan import train_for_seconds

improved_seconds = sum(improved.history["train/seconds"])
dcgan_dir = run_folder("dcgan", BUDGET.train_subset, seed=0) / f"seconds-{improved_seconds:.0f}"
dcgan = train_for_seconds("dcgan", improved_seconds, dcgan_dir, BUDGET.epochs, train_subset=BUDGET.train_subset,
                          device=device, up_block=dcgan_up_block)
dcgan_seconds = sum(dcgan.history["train/seconds"])
dcgan_samples = generate(dcgan.generator, n_eval, seed=100)
dcgan_report = evaluation_report(dcgan_samples, classifier, reference=reference, nn_queries=BUDGET.nn_queries)
same_time = {"improved MLP GAN": improved_report["generated"], "DCGAN (your up-block)": dcgan_report["generated"]}
print(f"training time: improved {improved_seconds:.0f} s ({improved.epochs_done} epochs), DCGAN {dcgan_seconds:.0f} s "
      f"({dcgan.epochs_done} epoch(s){', the last cut short' if dcgan.stopped_early else ''}; "
      f"{dcgan.images_trained:,} images trained now)")
display(Markdown(comparison_markdown(same_time)))
show_images(dcgan_samples[:64], nrow=16, title=f"DCGAN after {dcgan_seconds:.0f} s of training")
plt.show()
winner = min(same_time, key=lambda name: same_time[name]["frechet_distance"])
display(Markdown(f"At equal training time the **{winner}** has the lower Frechet distance "
                 f"({same_time[winner]['frechet_distance']:.1f} vs "
                 f"{max(r['frechet_distance'] for r in same_time.values()):.1f}); its Inception-style score is "
                 f"{same_time[winner]['inception_score']:.2f} vs "
                 f"{[r['inception_score'] for n, r in same_time.items() if n != winner][0]:.2f}."))

# %% [markdown]
# ## 7. 记忆检查 · Memorization check
#
# 上面一行：生成的数字；下面一行：60,000 张训练图像中与之最接近的一张（按像素距离）。上面的表格把到最近训练图像的中位距离，与真实*测试*数字（生成器从未见过它们）的同一数值相比较。

# %%
from aigc_course.evaluation import nearest_neighbour_pairs

show_images(nearest_neighbour_pairs(improved_samples, train_unit, n=12), nrow=12,
            title="improved samples (top) and their nearest training images (bottom)")
plt.show()

# %% [markdown]
# ## 8. 断点续训 · Checkpoints and resuming
#
# 每一轮结束时都会**以原子方式**写出 `checkpoint.pt`（先写入一个临时文件，再重命名），所以崩溃或被终止的进程永远不会留下半个检查点。它保存两个网络、G 的移动平均、两个优化器（Adam 的矩估计很重要：没有它们，重启后的最初几步会使用从头开始的、错误的步长）、已完成的轮数、损失历史和随机数生成器的状态（Dropout 掩码和数据的顺序会像什么都没发生过一样继续下去）。
#
# **练习 5.3**：从检查点字典中恢复训练状态，并返回接下来要运行的轮次。`checkpoint["epoch"]` 统计的是*已完成*的轮数。

# %%
def restore_training_state(checkpoint: dict, generator: nn.Module, discriminator: nn.Module,
                           g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer) -> int:
    """Load both networks, both optimizers and the torch RNG state; return the next epoch (1-based)."""
    # Hint: load_state_dict for each of the four; torch.set_rng_state(checkpoint["rng"]["torch"]).
    raise NotImplementedError("Exercise 5.3: resume training from a checkpoint")


# %%
from aigc_course.checks.mnist_gan import check_restore_training_state

restore_training_state = check_restore_training_state(restore_training_state)

# %% [markdown]
# `train_gan` 内部也是同样的逻辑，演示如下：在 1,024 张图像上不间断地训练移植模型 2 轮；在另一个文件夹中再训练一次，但**在第 2 轮中途中断**（3 个批次之后抛出的一个异常，代替崩溃或 Ctrl-C）；然后再运行一次同样的调用，这一次由**你的** `restore_training_state`（练习 5.3）来完成恢复。它从第 1 轮之后恢复，最终得到完全相同的权重。

# %%
import shutil
import tempfile
from pathlib import Path


class Interrupted(Exception):
    pass


def interrupt_mid_epoch_2(epoch, batch):
    if (epoch, batch) == (2, 3):
        raise Interrupted


demo = Path(tempfile.mkdtemp(prefix="resume-demo-"))
straight = train_gan("gan", 2, demo / "straight", train_subset=1024, device=device, progress=False)
try:
    train_gan("gan", 2, demo / "interrupted", train_subset=1024, device=device, progress=False,
              on_batch=interrupt_mid_epoch_2)
except Interrupted:
    print("training interrupted in epoch 2, batch 3")
resumed = train_gan("gan", 2, demo / "interrupted", train_subset=1024, device=device, progress=False,
                    restore=restore_training_state)  # your function from exercise 5.3
same = all(torch.equal(a, b) for a, b in zip(straight.raw_generator.state_dict().values(),
                                             resumed.raw_generator.state_dict().values()))
print(f"resumed after epoch {resumed.resumed_from}, trained {resumed.trained_epochs} more; "
      f"weights identical to the uninterrupted run: {same}")
shutil.rmtree(demo)

# %% [markdown]
# ## 9. 交互探索 · Exploring the generator
#
# **潜在空间漫步**（latent walk）：生成器是 $z$ 的连续函数，沿直线 $z_t = (1-t)\,z_0 + t\,z_1$ 排列的图像会从一个数字渐变成另一个数字。三个滑块沿三个随机方向移动一个基准噪声向量。

# %%
import ipywidgets as widgets

from aigc_course.gan import latent_directions_image, latent_walk

walk_noise = torch.randn(8, MODELS["mlp"].z_dim, generator=torch.Generator().manual_seed(5))


show_images(torch.cat([latent_walk(improved.generator, walk_noise[i], walk_noise[i + 1], 10) for i in range(0, 6, 2)]),
            nrow=10, title="three latent walks, each between two noise vectors")
plt.show()


def show_walk(start=0, end=1, steps=10):
    show_images(latent_walk(improved.generator, walk_noise[start], walk_noise[end], steps), nrow=steps,
                title=f"from noise #{start} to noise #{end}")
    plt.show()


widgets.interact(show_walk, start=widgets.IntSlider(0, 0, 7), end=widgets.IntSlider(1, 0, 7),
                 steps=widgets.IntSlider(10, 3, 16));

# %%
raw_directions = torch.randn(3, MODELS["mlp"].z_dim, generator=torch.Generator().manual_seed(6))
directions = raw_directions / raw_directions.norm(dim=1, keepdim=True)  # three unit vectors in noise space


def show_direction(a=0.0, b=0.0, c=0.0):
    image = latent_directions_image(improved.generator, walk_noise[0], directions, [a, b, c])
    show_images(image[None], nrow=1, title=f"z0 + {a:.1f} d1 + {b:.1f} d2 + {c:.1f} d3", scale=2.0)
    plt.show()


sliders = {k: widgets.FloatSlider(0.0, min=-6, max=6, step=0.5) for k in "abc"}
widgets.interact(show_direction, **sliders);

# %% [markdown]
# **逐轮浏览**（epoch scrubber）：同样的 64 个噪声向量在每一轮之后生成的图像，从训练时保存的 PNG 文件中读回：看着墨团变成笔画，再变成数字。

# %%
from aigc_course.gan import sample_grid_paths


def show_epoch(epoch=improved.epochs_done):
    plt.figure(figsize=(4.5, 4.5))
    plt.imshow(load_sample_grid(improved.out_dir, epoch), interpolation="nearest")
    plt.axis("off")
    plt.title(f"improved model, epoch {epoch}")
    plt.show()


widgets.interact(show_epoch, epoch=widgets.IntSlider(improved.epochs_done, 1, len(sample_grid_paths(improved.out_dir))));

# %% [markdown]
# ## 10. 命令行 · The command line
#
# 同样的代码也可以不用笔记本运行，供预训练模型的教师，以及任何想核对本章数字的人使用：
#
# ```bash
# python -m aigc_course train mlp --epochs 40 --out runs/mlp          # resumes if runs/mlp has a checkpoint
# python -m aigc_course sample --checkpoint runs/mlp/checkpoint.pt --n 10000 --out mlp.npy
# python -m aigc_course evaluate mlp.npy                              # JSON: IS, histogram, FD, neighbours
# ```
#
# 把 `--out` 指向本笔记本所用的文件夹（由下一个单元格打印），就能为它预训练：笔记本随后会加载检查点，而不再训练。

# %%
print(f"python -m aigc_course train mlp --epochs {BUDGET.epochs} --out {improved_dir}"
      + (f" --train-subset {BUDGET.train_subset}" if BUDGET.train_subset else ""))
print(f"python -m aigc_course train gan --epochs {BUDGET.port_epochs} --out {port_dir}"
      + (f" --train-subset {BUDGET.train_subset}" if BUDGET.train_subset else ""))

# %% [markdown]
# ## 11. 总结 · Closing note
#
# 本次运行的各项数字，已在上面测得（快速模式下它们来自极小的预算，意义不大）：

# %%
real, old, new = improved_report["real"], port_report["generated"], improved_report["generated"]
print(f"mode: {'fast' if is_fast_mode() else 'full'}; device {device}; {torch.get_num_threads()} torch threads")
print(f"port:     {port.epochs_done} epochs, {sum(port.history['train/seconds']):.0f} s of training; "
      f"IS {old['inception_score']:.2f}, FD {old['frechet_distance']:.1f}, "
      f"classes {old['min_class_fraction']:.1%}-{old['max_class_fraction']:.1%}")
print(f"improved: {improved.epochs_done} epochs, {sum(improved.history['train/seconds']):.0f} s of training; "
      f"IS {new['inception_score']:.2f}, FD {new['frechet_distance']:.1f}, "
      f"classes {new['min_class_fraction']:.1%}-{new['max_class_fraction']:.1%}")
print(f"DCGAN:    {dcgan.epochs_done} epoch(s), {dcgan_seconds:.0f} s of training; IS {dcgan_report['generated']['inception_score']:.2f}, "
      f"FD {dcgan_report['generated']['frechet_distance']:.1f}")
print(f"real:     IS {real['inception_score']:.2f}, FD (training vs test images) {real['frechet_distance']:.1f}, "
      f"classes {real['min_class_fraction']:.1%}-{real['max_class_fraction']:.1%}")

# %% [markdown]
# 这些数字说明了什么（下面的每一句话都由本次运行的数字选定）：

# %%
h, ratio = port.history, new["frechet_distance"] / old["frechet_distance"]
d_held = 0.05 < h.last("eval/d_fake") and h.last("eval/d_real") < 0.95
in_band = new["min_class_fraction"] >= 0.05 and new["max_class_fraction"] <= 0.15
no_copies = new["nn_distance_median"] >= real["nn_distance_median"]
mlp_won, step_ratio = winner == "improved MLP GAN", speeds["mlp"] / speeds["dcgan"]
display(Markdown("\n".join([
    f"- The **article's model**, its bugs fixed, trained without a NaN; after its last epoch $D(x)$ = "
    f"{h.last('eval/d_real'):.2f} and $D(G(z))$ = {h.last('eval/d_fake'):.2f}, "
    f"{'so the discriminator had not won outright' if d_held else 'so the discriminator was winning'}. Its scores: "
    f"IS {old['inception_score']:.2f}, FD {old['frechet_distance']:.1f}, digit shares "
    f"{old['min_class_fraction']:.1%} to {old['max_class_fraction']:.1%}.",
    f"- The **improved model**: IS {new['inception_score']:.2f} (real test digits {real['inception_score']:.2f}); "
    + ("every digit between 5% and 15% of the samples" if in_band else
       f"digit shares from {new['min_class_fraction']:.1%} to {new['max_class_fraction']:.1%}, not all within 5%-15%")
    + f"; FD {new['frechet_distance']:.1f}, {'far below' if ratio < 0.5 else 'below' if ratio < 1 else 'not below'} "
    f"the port's {old['frechet_distance']:.1f} (real training images: {real['frechet_distance']:.1f}, the floor); "
    f"median distance to the nearest training image {new['nn_distance_median']:.2f} against "
    f"{real['nn_distance_median']:.2f} for real test digits: " + (
        "no closer to the training images than new real digits are, so no sign of copying." if no_copies else
        "closer to the training images than real test digits are: look at the pairs in section 7 for copies."),
    f"- At equal training time the **{winner}** had the lower FD (section 6.2). The MLP's step processed "
    f"{step_ratio:.1f} times as many images per second as the DCGAN's, so in the same {improved_seconds:.0f} s it "
    f"trained on {improved.epochs_done} epochs against the DCGAN's {dcgan.epochs_done}. " + (
        "On this machine and budget, **speed** (more updates in the same time) beat the convolutional architecture."
        if mlp_won else "Here the convolutional architecture won despite its slower step: speed did not decide it."),
    "- Not measured here: the separate effect of the moving average, the minibatch standard deviation and "
    "the smaller discriminator (each would need its own run with only that changed).",
])))

# %% [markdown]
# **在笔记本之外复现这些数字**（每条命令都会打印它测得的结果；`--threads 2` 使用 2 核机器的两个核心，`train` 会报告训练时间和每秒处理的图像数）：
#
# ```bash
# python -m aigc_course train mlp --epochs 40 --out runs/mlp --threads 2
# python -m aigc_course sample --checkpoint runs/mlp/checkpoint.pt --n 10000 --out mlp.npy
# python -m aigc_course evaluate mlp.npy
# python -m aigc_course train gan --epochs 40 --out runs/gan --threads 2
# python -m aigc_course sample --checkpoint runs/gan/checkpoint.pt --n 10000 --out gan.npy
# python -m aigc_course evaluate gan.npy
# ```
#
# **更进一步**：训练得更久（命令会续训：`--epochs 80` 接着一个 40 轮的运行继续训练）；在卷积代价很低的 GPU 上尝试 DCGAN；或者把数字标签作为第二个输入交给两个网络（条件生成对抗网络，conditional GAN），这样，模式覆盖就从只能期待的东西变成了可以指定的东西。
#
# **下一章**：[06 · 应用、挑战与资源 · Applications, challenges and further reading](06_applications_and_outlook.ipynb)。
