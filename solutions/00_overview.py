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
# # 00 · Welcome and overview · 欢迎与概览
#
# This course teaches the core techniques behind **AI-generated content (AIGC, 人工智能生成内容)**:
# generative adversarial networks (GAN, 生成对抗网络), variational autoencoders (VAE, 变分自编码器) and
# self-attention (自注意力机制). It follows the article *揭秘AIGC的核心技术* chapter by chapter, but every
# formula here is checked by running it, and where the article is wrong you will see an
# **errata box (勘误)** that says what it got wrong and why.
#
# **In this notebook:** what AIGC is; the path through the course; an environment check that also
# fetches the data; the article's pipeline diagram, corrected; the bilingual glossary; one warm-up exercise.

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
# ## 1. What is AIGC? · 什么是AIGC
#
# A *generative model* (生成模型) learns a probability distribution $p_\theta(x)$ from examples
# $x_1, \dots, x_N$ of real data (images, text, audio) and can then **draw new samples** from it.
# "AI-generated content" is whatever those samples are: a new handwritten digit, a sentence, a tone.
#
# Three families carry the course:
#
# | Family | Idea | Trained by | Chapter |
# |---|---|---|---|
# | GAN (生成对抗网络) | a generator $G(z)$ turns noise into samples; a discriminator $D$ learns to tell real from fake | a two-player game $\min_G \max_D V(D, G)$ | 02, 05 |
# | VAE (变分自编码器) | an encoder $q(z\mid x)$ and a decoder $p(x\mid z)$ with a prior $p(z)$ | maximizing the evidence lower bound (ELBO), both networks **jointly** | 03 |
# | Self-attention (自注意力) | each position mixes information from all others, weighted by a softmax | part of a larger model (e.g. a Transformer) trained by likelihood | 04, 06 |
#
# The data behind most of the course is MNIST: 70,000 handwritten digits of 28×28 grey pixels,
# small enough to train real generative models on a laptop CPU in minutes.

# %% [markdown]
# ## 2. The path through the course · 学习路线
#
# Each chapter is a notebook in `notebooks/` (with exercises) and `solutions/` (exercises solved).
# Study times are for reading, running and doing the exercises; the README lists each notebook's
# measured run time.

# %%
from IPython.display import Markdown, display

from aigc_course.course import chapter_table_markdown

display(Markdown(chapter_table_markdown()))

# %% [markdown]
# ## 3. Environment check and data · 环境检查与数据
#
# The setup cell above printed your versions, the device (a GPU on Colab, your CPU on a laptop)
# and whether MNIST is cached. The next cell makes sure it is: it downloads the four canonical
# files from public mirrors, checks each one's MD5 checksum, and stores them in the course's
# data cache. Without network, copy the files from a folder instead:
# `python -m aigc_course download --from DIR`.

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
# ## 4. The AIGC pipeline, corrected · AIGC流程图（修正）
#
# > **⚠️ Errata · 勘误 (article §2).** The article's flowchart draws the arrows “数据预处理 → 生成器” and
# > “判别器 → 生成内容” (preprocessed data → generator, discriminator → generated content). Both are wrong
# > for the GANs the article and this course build:
# > - the data → generator arrow: an **unconditional** GAN's generator reads **random noise**, not data;
# >   real data reaches only the discriminator. (Conditional GANs also give the generator a label, and
# >   image-to-image GANs such as pix2pix give it an input image: there, the generator does read data.)
# > - the discriminator → content arrow: the discriminator **produces no content**. It exists only while
# >   the GAN trains, turning "real or fake?" into a loss; at generation time only the trained generator runs.
# >
# > §2.3 also says “生成器通常采用深度神经网络（DNN）结构，如生成对抗网络（GAN）或变分自编码器（VAE）”
# > (the generator "usually adopts a DNN structure such as GAN or VAE"): a GAN and a VAE are
# > *training frameworks* for networks, not network architectures. Below, training and generation are
# > drawn separately, with the VAE and self-attention beside them.

# %%
from aigc_course.course import draw_pipelines

draw_pipelines();

# %% [markdown]
# ## 5. Bilingual glossary · 术语表
#
# The article's §1.4 terms and acronyms, with the terms the course adds. Each definition is one
# the course stands behind; the last column says which chapter teaches it.
#
# > **⚠️ Errata · 勘误 (article §1.4.1).** The article defines 变分推理 (variational inference) as
# > “一种概率模型推理方法，旨在通过优化概率分布来逼近真实数据的生成过程” ("a method of inference in
# > probabilistic models that approximates the true data-generating process by optimizing a probability
# > distribution"). Approximating the data-generating process is what fitting a generative model does;
# > variational inference approximates something else: an **intractable posterior** $p(z\mid x)$, by the
# > member $q(z)$ of a tractable family (for a VAE, a diagonal Gaussian $q_\phi(z\mid x)$ computed by the
# > encoder) that maximizes the evidence lower bound (ELBO), which is the same as minimizing
# > $\mathrm{KL}(q(z)\,\|\,p(z\mid x))$. Chapter 03 derives it. The glossary below uses this definition.
# >
# > The three definitions of §1.4.2 (数据增强, 过拟合, 交叉验证) are right. The glossary adds what they
# > leave implicit: an augmentation must keep the label (“通过变换输入数据来增加训练数据的多样性”, "transform
# > the input data to increase the diversity of the training data", says nothing about it, and chapter 01
# > measures why it matters), and cross-validation uses each of the $k$ parts once for validation while
# > training on the others (“分别进行训练和验证”, "train and validate separately", does not say how).

# %%
from aigc_course.course import glossary_markdown

display(Markdown(glossary_markdown()))

# %% [markdown]
# ## 6. Warm-up exercise · 热身练习
#
# Every exercise in the course works the same way: you complete a function where it says
# `raise NotImplementedError(...)`, then the check cell below it runs your function against the
# course's reference on several inputs, edge cases included, and prints **PASS** or **FAIL** with a
# hint. If you have not attempted it yet, the check says so and the notebook carries on with the
# reference implementation, so "Restart & Run All" always works.
#
# **Exercise 0.1.** Write `mean_digit_images(images, labels)` returning the average image of each
# digit, a float tensor `[10, 28, 28]` with values in $[0, 1]$:
# $\text{mean}_c = \frac{1}{|\{i : y_i = c\}|} \sum_{i : y_i = c} x_i / 255$.
# If some digit does not occur at all, raise `ValueError` (an average over no images is undefined).

# %%
def mean_digit_images(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """[N, 28, 28] uint8 images and [N] int64 labels -> [10, 28, 28] float mean image per digit."""
    # Hint: torch.bincount counts labels; Tensor.index_add_ sums rows by label; or loop over c in range(10).
    # BEGIN SOLUTION (Exercise 0.1: mean image per digit)
    counts = torch.bincount(labels, minlength=10)
    if (counts == 0).any():
        raise ValueError("every digit 0-9 must occur at least once")
    sums = torch.zeros(10, *images.shape[1:]).index_add_(0, labels, images.float())
    return sums / counts.view(10, 1, 1) / 255.0
    # END SOLUTION


# %%
from aigc_course.checks.overview import check_mean_digit_images

mean_digit_images = check_mean_digit_images(mean_digit_images)
show_images(mean_digit_images(train_images, train_labels), nrow=10, title="the average training digit of each class");

# %% [markdown]
# The average digits are blurry: an average of many different 3s is not itself a plausible 3.
# That is the first lesson of generative modelling: **producing a typical-looking sample is not the
# same as producing the mean.** A generative model must capture the whole distribution, its variety
# included, and the next chapters show three ways to do it.
#
# **Next:** [01 · Data preprocessing · 数据预处理](01_data_preprocessing.ipynb).
