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
# # 00 · 欢迎与概览 · Welcome and overview
#
# 本课程讲授**人工智能生成内容**（AIGC，AI-generated content）背后的核心技术：生成对抗网络（GAN）、变分自编码器（VAE）和自注意力机制（self-attention）。课程逐章跟随文章 *揭秘AIGC的核心技术*，但这里的每个公式都经过实际运行的检验；凡是原文有误的地方，你都会看到一个**勘误框**（errata），说明原文错在哪里、为什么错。
#
# **本笔记本内容**：什么是 AIGC；课程学习路线；环境检查（顺带下载数据）；修正后的原文流程图；双语术语表；一道热身练习。

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
# ## 1. 什么是AIGC · What is AIGC?
#
# *生成模型*（generative model）从真实数据（图像、文本、音频）的样本 $x_1, \dots, x_N$ 中学习一个概率分布 $p_\theta(x)$，学成之后就能从中**抽取新样本**。“人工智能生成内容”指的就是这些样本：一个新的手写数字、一句话、一段音调。
#
# 贯穿整门课程的是三类模型：
#
# | 模型族 | 核心思想 | 训练方式 | 章节 |
# |---|---|---|---|
# | GAN（生成对抗网络） | 生成器 $G(z)$ 把噪声变成样本；判别器 $D$ 学习区分真实样本与生成样本 | 双人的极小极大博弈 $\min_G \max_D V(D, G)$ | 02, 05 |
# | VAE（变分自编码器） | 编码器 $q(z\mid x)$ 和解码器 $p(x\mid z)$，外加先验分布 $p(z)$ | 最大化证据下界（ELBO），两个网络**联合**训练 | 03 |
# | 自注意力（self-attention） | 每个位置按 softmax 权重汇集所有位置的信息 | 作为更大模型（例如 Transformer）的一部分，按最大似然训练 | 04, 06 |
#
# 课程大部分内容使用的数据是 MNIST：70,000 个 28×28 灰度像素的手写数字。它足够小，在笔记本电脑的 CPU 上几分钟就能训练出真正的生成模型。

# %% [markdown]
# ## 2. 课程学习路线 · The path through the course
#
# 每章是一个笔记本：`notebooks/` 中是学生版（含练习），`solutions/` 中是答案版（练习已解答）；中文版分别在 `zh/notebooks/` 和 `zh/solutions/`。下表的学习时间包括阅读、运行和做练习；README 列出了每个笔记本实测的运行时间。
#
# 第 07 章**超出原文范围**：扩散模型与流匹配（diffusion models and flow matching）是当今图像生成器背后的技术，而原文从未提及；该章从零实现它们，并与前几章的 GAN 和 VAE 进行实测比较。

# %%
from IPython.display import Markdown, display

from aigc_course.course import chapter_table_markdown

display(Markdown(chapter_table_markdown()))

# %% [markdown]
# ## 3. 环境检查与数据 · Environment check and data
#
# 上面的设置单元格（setup cell）已经打印出你的软件版本、计算设备（在 Colab 上是 GPU，在笔记本电脑上是 CPU），以及 MNIST 是否已经缓存。下一个单元格确保它已缓存：从公共镜像下载四个标准文件，逐一核对 MD5 校验和，再存入课程的数据缓存。没有网络时，可以改为从一个文件夹复制这些文件：`python -m aigc_course download --from DIR`。

# %%
import torch

from aigc_course.config import budget, get_device, is_fast_mode
from aigc_course.data import ensure_mnist, images_to_unit, load_mnist, mnist_status
from aigc_course.plotting import show_images

ensure_mnist(verbose=True)
print("MNIST:", mnist_status())
train_images, train_labels = load_mnist("train")
test_images, test_labels = load_mnist("test")
print(f"train: {tuple(train_images.shape)} {train_images.dtype}, test: {tuple(test_images.shape)}")
print("training images per digit:", torch.bincount(train_labels).tolist())
show_images(images_to_unit(train_images[:32]), nrow=16, title="the first 32 training digits");

# %% [markdown]
# ## 4. AIGC流程图（修正） · The AIGC pipeline, corrected
#
# > **⚠️ 勘误 · Errata（原文 §2）**：原文的流程图画了“数据预处理 → 生成器”和“判别器 → 生成内容”两条箭头（preprocessed data → generator, discriminator → generated content）。对原文和本课程所构建的 GAN 而言，这两条都是错的：
# > - 数据 → 生成器的箭头：**无条件**（unconditional）GAN 的生成器读入的是**随机噪声**，而不是数据；真实数据只送入判别器。（条件 GAN 还会把类别标签交给生成器，pix2pix 这类图像到图像的 GAN 则把一张输入图像交给生成器：在那些模型里，生成器确实读入数据。）
# > - 判别器 → 生成内容的箭头：判别器**不产生任何内容**。它只在 GAN 训练期间存在，作用是把“真还是假？”的判断变成损失；生成时只运行训练好的生成器。
# >
# > §2.3 还说“生成器通常采用深度神经网络（DNN）结构，如生成对抗网络（GAN）或变分自编码器（VAE）”（the generator "usually adopts a DNN structure such as GAN or VAE"）：GAN 和 VAE 是训练网络的*框架*（training frameworks），而不是网络结构。下图把训练和生成分开画，并在旁边画出 VAE 和自注意力。

# %%
from aigc_course.course import draw_pipelines

draw_pipelines();

# %% [markdown]
# ## 5. 双语术语表 · Bilingual glossary
#
# 原文 §1.4 的术语和缩略词，加上本课程补充的术语。每条定义都是本课程经过核实、愿意为之负责的定义；最后一列是讲授该术语的章节。下表由代码生成，释义为英文；“中文”一列是全课程（包括本中文版）统一使用的译名。
#
# > **⚠️ 勘误 · Errata（原文 §1.4.1）**：原文把变分推理（variational inference）定义为“一种概率模型推理方法，旨在通过优化概率分布来逼近真实数据的生成过程”（"a method of inference in probabilistic models that approximates the true data-generating process by optimizing a probability distribution"）。逼近数据的生成过程是拟合生成模型要做的事；变分推理逼近的是另一样东西：一个**无法直接计算的后验** $p(z\mid x)$。它在一个易于计算的分布族中找出使证据下界（ELBO）最大的成员 $q(z)$（对 VAE 来说，是由编码器算出的对角高斯 $q_\phi(z\mid x)$），这等价于使 $\mathrm{KL}(q(z)\,\|\,p(z\mid x))$ 最小。第 03 章给出推导。下面的术语表采用这一定义。
# >
# > 原文 §1.4.2 的三条定义（数据增强、过拟合、交叉验证）是对的。术语表补上了它们没有明说的内容：数据增强必须保持标签不变（“通过变换输入数据来增加训练数据的多样性”对此只字未提，第 01 章会测量它为什么重要）；交叉验证让 $k$ 份数据中的每一份轮流做一次验证集，用其余各份训练（“分别进行训练和验证”没有说明怎样划分）。

# %%
from aigc_course.course import glossary_markdown

display(Markdown(glossary_markdown()))

# %% [markdown]
# ## 6. 热身练习 · Warm-up exercise
#
# 课程中的每道练习都按同样的方式进行：在写着 `raise NotImplementedError(...)` 的地方补全一个函数，下方的检查单元格会在若干输入（包括边界情况）上把你的函数与课程的参考实现对比，打印 **PASS** 或 **FAIL**，并附上提示。如果你还没有动手，检查会如实说明，笔记本则继续使用参考实现，所以“重启并全部运行”（Restart & Run All）总能跑通。
#
# **练习 0.1**：编写 `mean_digit_images(images, labels)`，返回每个数字的平均图像，即形状为 `[10, 28, 28]`、取值在 $[0, 1]$ 内的浮点张量：$\text{mean}_c = \frac{1}{|\{i : y_i = c\}|} \sum_{i : y_i = c} x_i / 255$。如果某个数字一次也没有出现，就抛出 `ValueError`（对零张图像求平均没有定义）。
#
# 代码中的提示（英文注释）：`torch.bincount` 统计每个标签出现的次数；`Tensor.index_add_` 按标签把各行累加；也可以对 `c in range(10)` 逐个循环。

# %%
def mean_digit_images(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """[N, 28, 28] uint8 images and [N] int64 labels -> [10, 28, 28] float mean image per digit."""
    # Hint: torch.bincount counts labels; Tensor.index_add_ sums rows by label; or loop over c in range(10).
    raise NotImplementedError("Exercise 0.1: mean image per digit")


# %%
from aigc_course.checks.overview import check_mean_digit_images

mean_digit_images = check_mean_digit_images(mean_digit_images)
show_images(mean_digit_images(train_images, train_labels), nrow=10, title="the average training digit of each class");

# %% [markdown]
# 平均数字图像是模糊的：把许多各不相同的 3 平均起来，得到的并不是一个像样的 3。这是生成建模的第一课：**生成一个看起来典型的样本，并不等于生成均值**。生成模型必须刻画整个分布，连同它的多样性；接下来的几章给出三种做法。
#
# **下一章**：[01 · 数据预处理 · Data preprocessing](01_data_preprocessing.ipynb)。
