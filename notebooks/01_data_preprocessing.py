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
# # 01 · Data preprocessing · 数据预处理
#
# Every generative model learns from data, and what it learns is whatever the data pipeline hands it:
# duplicates, corrupt files and wrongly scaled pixels included. The article lists three preprocessing
# steps (§2.1-2.2): **data cleaning (数据清洗)**, **normalization (数据归一化)** and
# **data augmentation (数据增强)**, and defines three related ideas (§1.4.2): augmentation,
# **overfitting (过拟合)** and **cross-validation (交叉验证)**. This notebook builds each one on real
# MNIST and measures what it does.
#
# **In this notebook:**
# 1. where preprocessing sits in a generative pipeline (the article's diagram, corrected);
# 2. cleaning: detectors that *report* duplicates, blank images, NaNs, out-of-range pixels and outliers,
#    scored on MNIST with corruption we plant ourselves;
# 3. normalization: three scalings with exact inverses, and why the statistics come from the training split only;
# 4. augmentation: batched, seeded shifts, rotations, flips and noise, and why a flip is wrong for digits;
# 5. overfitting: a classifier trained on a small subset (1,000 digits with the full budget), with and without augmentation;
# 6. cross-validation: a leak-free, stratified k-fold split and the accuracy's mean ± standard deviation.
#
# Exercises 1.1-1.4 are along the way.

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
import time

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from aigc_course.config import budget, get_device, is_fast_mode, seed_everything
from aigc_course.data import images_to_symmetric, images_to_unit, load_mnist
from aigc_course.plotting import plot_curves, show_images

BUDGET = budget("preprocessing")
device = get_device()
print("budget:", BUDGET, "| device:", device)
seed_everything(0)
train_images, train_labels = load_mnist("train")
test_images, test_labels = load_mnist("test")

# The chapter's small training set: train_subset digits drawn at random from the 60,000 (seeded).
order = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(0))
subset = order[:BUDGET.train_subset]
x_train, y_train = images_to_unit(train_images[subset]), train_labels[subset]
# The test set: all 10,000 with the full budget; a random part of it in fast mode.
test_pick = torch.randperm(len(test_images), generator=torch.Generator().manual_seed(1))[:BUDGET.test_images]
x_test, y_test = images_to_unit(test_images[test_pick]), test_labels[test_pick]
print(f"training digits: {len(x_train)} (per class {torch.bincount(y_train, minlength=10).tolist()}), "
      f"test digits: {len(x_test)}")

# %% [markdown]
# ## 1. Where preprocessing sits · 预处理在生成流程中的位置
#
# > **⚠️ Errata · 勘误 (article §2, §2.2).** The article's diagram sends the preprocessed data into the
# > generator (“数据预处理 → 生成器”), and §2.2 says preprocessing “直接影响生成器的训练效果” ("directly
# > affects the generator's training"). An **unconditional** GAN's generator, the article's and this course's,
# > never reads data: its input is random noise $z$. Preprocessed real images go to the
# > **discriminator** (判别器), and the generator learns about the data only through the discriminator's
# > gradients. (Conditional and image-to-image GANs do feed the generator data: a label, or an input image.) In a VAE the data go to the **encoder** (编码器), and the decoder is trained to rebuild
# > that same preprocessed $x$. Preprocessing does constrain the generator in one direct way: its output
# > layer must produce the range the data were scaled to (a $\tanh$ output for data in $[-1, 1]$), and
# > generated values must be mapped back to pixels by the **inverse** of that scaling (Section 3).

# %%
from aigc_course.preprocessing import draw_preprocessing_in_pipelines

draw_preprocessing_in_pipelines();

# %% [markdown]
# ## 2. Data cleaning · 数据清洗
#
# Real data sets contain exact duplicates (the same file saved twice), blank or constant images (a failed
# scan), unreadable values (NaN, 非数值), images on the wrong scale (0-255 among 0-1) and odd ones out
# (noise, the wrong kind of image). The article's advice is to *remove* them (去除噪声、缺失值和异常值).
# Our cleaner instead **reports** each problem with its index and a reason, and leaves the decision to
# you: a rule that flags an unusual but genuine digit should not silently delete it.
#
# | Detector | Flags an image when | Why |
# |---|---|---|
# | `find_non_finite` | any pixel is NaN or ±inf | a NaN poisons every loss it touches |
# | `find_out_of_range` | a finite pixel is outside $[0, 1]$ | e.g. an image left on the 0-255 scale |
# | `find_blank` | pixel standard deviation $< 0.05$ | constant images carry no digit |
# | `find_duplicates` | its bytes equal an earlier image's | the first copy is kept, later ones reported |
# | `find_outliers` | a feature's robust z-score exceeds 3.5 | unusual ink, roughness or speckle |
#
# Duplicates are found by **hashing** (哈希): each image's bytes go through a hash function, and only images
# with equal hashes are compared byte by byte, so $N$ images cost $O(N)$ work instead of $O(N^2)$ comparisons.
#
# ### The robust z-score · 稳健 z 分数
#
# The usual z-score $(v - \text{mean}) / \text{std}$ has a weakness: the outliers we are hunting inflate the
# mean and the standard deviation, and so hide themselves. The **robust z-score** replaces both by
# statistics that a few extreme values barely move, the median and the median absolute deviation (MAD):
#
# $$ z_i = 0.6745\,\frac{v_i - \operatorname{median}(r)}{\operatorname{MAD}(r)}, \qquad
#    \operatorname{MAD}(r) = \operatorname{median}_j \lvert r_j - \operatorname{median}(r) \rvert, $$
#
# where $r$ is a reference sample (by default $v$ itself). The constant $0.6745 = \Phi^{-1}(3/4)$ is the
# MAD of a standard normal, so for Gaussian data $z$ matches the usual z-score. Iglewicz and Hoaglin
# recommend flagging $|z| > 3.5$.
#
# **Exercise 1.1.** Write `robust_z(values, reference=None)` for 1-D tensors. If the MAD is 0 (at least half
# the reference values are equal), raise `ValueError`: the score is undefined. Use `Tensor.median()`: for an
# even count it returns the *lower* of the two middle values (not their mean), and the check expects that.

# %%
def robust_z(values: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """values [N], reference [M] (default: values) -> robust z-scores [N] = 0.6745 (v - median) / MAD."""
    # Hint: Tensor.median() returns the (lower) middle value; the MAD is the median of |reference - median|.
    raise NotImplementedError("Exercise 1.1: robust z-score")


# %%
from aigc_course.checks.preprocessing import check_robust_z

robust_z = check_robust_z(robust_z)

# %% [markdown]
# ### Planting known corruption · 注入已知的脏数据
#
# To measure a cleaner we need to know the truth, so we take clean MNIST digits and overwrite a few at
# random positions with each kind of problem: **duplicates** (a copy of an earlier clean digit),
# **blank** images (a constant grey with slight jitter), **noise** images (random speckles),
# digits with a 4×4 patch of **NaN**, and digits left on the 0-255 scale (**out of range**).

# %%
from aigc_course.preprocessing import CORRUPTION_KINDS, clean_report, detection_scores, image_features, inject_corruption

pool = images_to_unit(train_images[order[-BUDGET.corrupt_pool:]])  # digits not in our training subset
dirty, truth = inject_corruption(pool, torch.Generator().manual_seed(2), per_kind=BUDGET.per_kind)
print(f"{len(dirty)} images, {int((truth > 0).sum())} corrupted: "
      + ", ".join(f"{name} {int((truth == k).sum())}" for k, name in enumerate(CORRUPTION_KINDS) if k))

fig, axes = plt.subplots(len(CORRUPTION_KINDS) - 1, 1, figsize=(7, 6.5))
for ax, (k, name) in zip(axes, list(enumerate(CORRUPTION_KINDS))[1:]):
    examples = dirty[truth == k][:10]
    show_images(examples.nan_to_num(0.5).clamp(0, 1), nrow=10, ax=ax, title=name)
fig.suptitle("planted corruption (shown clipped to [0, 1]; NaN pixels grey)")
fig.tight_layout()

# %%
start = time.perf_counter()
report = clean_report(dirty)
seconds = time.perf_counter() - start
scores = detection_scores(report, truth)
print(f"checked {len(dirty)} images in {seconds:.2f} s; flagged {len(report.flagged)}; issues by check: {report.counts()}")
print("examples:", *[f"  image {i.index}: {i.kind}: {i.reason}" for i in report.issues[:: max(1, len(report.issues) // 6)][:6]],
      sep="\n")
rows = ["| planted kind | recall (share found) |", "|---|---|"]
rows += [f"| {name} | {scores['recall_' + name]:.1%} |" for name in CORRUPTION_KINDS[1:]]
rows += [f"| **all corruptions** | **{scores['recall']:.1%}** |",
         f"| clean images flagged (false-positive rate) | {scores['false_positive_rate']:.2%} |",
         f"| precision (flagged images that are corrupt) | {scores['precision']:.1%} |"]
display(Markdown("\n".join(rows)))
cleaning_scores = scores

# %% [markdown]
# The table says how many of each planted problem were caught. Some clean digits are flagged too: the
# next cell counts them by the check that flagged them and shows them. Look at them before deciding anything:
# they are genuine digits (we planted nothing in them), only unusual ones. That is why the cleaner
# reports instead of deleting. The histogram shows the outlier score behind the outlier test,
# computed with *your* `robust_z`: the largest $|z|$ over three features (ink, roughness, roughness per
# unit of ink), with the medians and MADs taken from the images that passed the other checks
# (the clean digits and the noise images).

# %%
false_alarms = [i for i in report.flagged if truth[i] == 0]
alarms_by_check = {}
for issue in report.issues:
    if truth[issue.index] == 0:
        alarms_by_check[issue.kind] = alarms_by_check.get(issue.kind, 0) + 1
print(f"clean images flagged: {len(false_alarms)} of {int((truth == 0).sum())}; flags on them by check: {alarms_by_check}")
if false_alarms:
    show_images(dirty[false_alarms[:16]], nrow=16,
                title=f"clean digits the outlier test flagged ({len(false_alarms)} of {int((truth == 0).sum())})")

passed = [i for i in range(len(dirty)) if truth[i] in (0, 3)]  # what the first four checks let through
features = image_features(dirty[passed])
worst = torch.stack([robust_z(values) for values in features.values()], 1).abs().max(1).values
is_noise = truth[passed] == 3
fig, ax = plt.subplots(figsize=(7, 3))
bins = torch.logspace(-2, 2, 60).tolist()
ax.hist(worst[~is_noise].tolist(), bins=bins, alpha=0.7, label="clean digits")
ax.hist(worst[is_noise].tolist(), bins=bins, alpha=0.7, label="planted noise images")
ax.axvline(3.5, color="k", ls="--", label="threshold 3.5")
ax.set(xscale="log", yscale="log", xlabel="largest |robust z| over the three features", ylabel="images")
ax.legend(loc="upper left");

# %% [markdown]
# ## 3. Normalization · 数据归一化
#
# MNIST stores pixels as integers $p \in \{0, \dots, 255\}$. Networks want small floats, and which range
# depends on the model:
#
# | Scaling | Formula | Inverse | Used by |
# |---|---|---|---|
# | unit | $x = p / 255 \in [0, 1]$ | $p = \operatorname{round}(255\,x)$ | VAE decoders with a sigmoid/Bernoulli output, classifiers |
# | symmetric | $y = p / 127.5 - 1 \in [-1, 1]$ | $p = \operatorname{round}(127.5\,(y + 1))$ | GAN generators with a $\tanh$ output |
# | standardized | $z = (x - \mu) / \sigma$ | $x = \sigma z + \mu$ | many classifiers |
#
# Every scaling needs its exact inverse: generated values must become pixels again to be saved or shown.
#
# **Exercise 1.2.** Write `symmetric_to_uint8(y)`, the inverse of `images_to_symmetric`: round to the nearest
# integer (not truncate), clip to $[0, 255]$ so that a generator's slightly-too-large output does not wrap
# around in `uint8` (256 would become 0), and raise `ValueError` for NaN or infinite input.

# %%
def symmetric_to_uint8(y: torch.Tensor) -> torch.Tensor:
    """y float in [-1, 1], any shape -> uint8 pixels round(127.5 (y + 1)) clipped to [0, 255], same shape."""
    # Hint: torch.isfinite(y).all(); Tensor.round(), .clamp(0, 255), .to(torch.uint8).
    raise NotImplementedError("Exercise 1.2: inverse of the [-1, 1] scaling")


# %%
from aigc_course.checks.preprocessing import check_symmetric_to_uint8

symmetric_to_uint8 = check_symmetric_to_uint8(symmetric_to_uint8)

# %%
from aigc_course.preprocessing import fit_standardization, standardize, unit_to_uint8, unstandardize

levels = torch.arange(256, dtype=torch.uint8)
mean, std = fit_standardization(x_train)  # statistics of the TRAINING split only
z_levels = standardize(images_to_unit(levels), mean, std)
print(f"round trips over all 256 levels, exact if 0 levels differ:")
print(f"  unit:         {int((unit_to_uint8(images_to_unit(levels)) != levels).sum())} levels differ")
print(f"  symmetric:    {int((symmetric_to_uint8(images_to_symmetric(levels)) != levels).sum())} levels differ")
print(f"  standardized: {int((unit_to_uint8(unstandardize(z_levels, mean, std)) != levels).sum())} levels differ "
      f"(largest float error {float((unstandardize(z_levels, mean, std) - images_to_unit(levels)).abs().max()):.1e})")
truncated = ((images_to_symmetric(levels) + 1) * 127.5).to(torch.uint8)
print(f"  symmetric with truncation instead of rounding: {int((truncated != levels).sum())} levels differ")

# %% [markdown]
# ### Statistics come from the training split only · 统计量只来自训练集
#
# $\mu$ and $\sigma$ are *fitted*, just like weights, so they must be fitted on training data only. The
# test set stands in for data the model has never seen; anything computed from it and fed into the
# model means the test score no longer measures that. Applied to the test set, the training statistics
# give a mean close to 0 and a standard deviation close to 1, but not exactly: that is expected.

# %%
z_test = standardize(x_test, mean, std)
leaked_mean, leaked_std = fit_standardization(torch.cat([x_train, x_test]))
print(f"fitted on the training split: mean {mean:.4f}, std {std:.4f}")
print(f"test set after standardizing: mean {z_test.mean():+.4f}, std {z_test.std(unbiased=False):.4f}")
print(f"fitted on train + test (leak): mean {leaked_mean:.4f}, std {leaked_std:.4f}")

# %% [markdown]
# Two global numbers on MNIST move only a little when the test set leaks in, because training and test
# digits come from the same distribution. The rule still matters: statistics with many parameters
# (one per pixel, a PCA) can absorb much more of the test set, and cross-validation must fit them inside
# each fold. A more common form of the leak is fitting on the very data being evaluated
# ("`fit_transform(test)`"). Then the prediction for one digit depends on which *other* digits happen
# to be evaluated with it. To see it in milliseconds, here is a **nearest class mean** classifier
# (最近类均值) on standardized pixels: each test digit gets the label of the closest class average.
# We score the test digits once with the training statistics, and once as ten batches of one class
# each (as if each batch came from a different scanner) standardized with the batch's own statistics.
# The batches are **sorted by class** on purpose: that is the extreme case, where a batch's own
# statistics are statistics of one digit class, so they carry information about the label. As a
# control, the same batch sizes are also drawn at random from the shuffled test set, mixing the classes.

# %%
from aigc_course.preprocessing import nearest_class_mean_predict

z_train = standardize(x_train, mean, std)
honest = nearest_class_mean_predict(z_train, y_train, standardize(x_test, mean, std))
own_stats = torch.empty_like(honest)
for c in range(10):
    batch = y_test == c
    own_stats[batch] = nearest_class_mean_predict(z_train, y_train, standardize(x_test[batch], *fit_standardization(x_test[batch])))
mixed_stats = torch.empty_like(honest)
shuffled = torch.randperm(len(y_test), generator=torch.Generator().manual_seed(6))
for batch in shuffled.split(torch.bincount(y_test, minlength=10).tolist()):  # the same 10 batch sizes
    mixed_stats[batch] = nearest_class_mean_predict(z_train, y_train, standardize(x_test[batch], *fit_standardization(x_test[batch])))
changed, changed_mixed = int((honest != own_stats).sum()), int((honest != mixed_stats).sum())
print(f"accuracy with the training statistics:                        {(honest == y_test).float().mean():.1%}")
print(f"accuracy with each batch's own statistics, batches by class:  {(own_stats == y_test).float().mean():.1%}")
print(f"accuracy with each batch's own statistics, batches mixed:     {(mixed_stats == y_test).float().mean():.1%}")
print(f"labels changed by the batch statistics: {changed} of {len(y_test)} (batches by class), "
      f"{changed_mixed} (mixed batches)")

# %% [markdown]
# Read the two counts together. With batches sorted by class, a batch's own mean and standard deviation
# are those of one digit class, so standardizing with them moves every digit of the batch the same way,
# and which way depends on the class: the prediction now depends on information about the label that
# came from the *other* test digits. That is why this demonstration uses sorted batches: it is the
# worst case, and real data often arrive sorted or grouped (by scanner, by writer, by date). With mixed
# batches the batch statistics are close to the training ones; every label that still changes is a
# prediction that depends on which batch its digit happened to be in.
#
# ## 4. Data augmentation · 数据增强
#
# Augmentation trains on transformed copies of the data: shifted a pixel or two, rotated a few degrees,
# with a little noise. It only helps if each transformation is **label-preserving** (标签保持): a 3 moved
# two pixels left is still a 3. Our augmentations are tensor-native (no conversion to PIL images), work on
# a whole batch `[B, 1, 28, 28]` at once with a different random draw per image, and take their
# randomness from a `torch.Generator`, so a seed reproduces them exactly:
#
# * `random_shift`: move each image by whole pixels $(d_y, d_x)$, $|d_y|, |d_x| \le m$, filling with the background (0);
#   the same as padding by $m$ and cropping a random $28 \times 28$ window (随机裁剪);
# * `random_rotation`: an affine resampling (`F.affine_grid` + `F.grid_sample`) by an angle uniform in
#   $[-\theta_{\max}, \theta_{\max}]$;
# * `random_hflip`: mirror left-right with probability $p$;
# * `add_gaussian_noise`: $x + \sigma\varepsilon$, $\varepsilon \sim \mathcal N(0, I)$, clipped to $[0, 1]$;
# * `compose(f, g, ...)`: apply them in order.
#
# **Exercise 1.3.** Write `random_shift(images, generator, max_shift)`. Draw one offset per image with
# `torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)` (the upper bound of `randint` is
# exclusive), then pad and crop. Pixels that move in from outside are 0; nothing wraps around (so
# `torch.roll` is wrong).

# %%
import torch.nn.functional as F


def random_shift(images: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """images [B, 1, H, W] -> each image moved by its own (dy, dx) in {-max_shift..max_shift}^2, zero fill."""
    # Hint: F.pad(images, (m, m, m, m)) makes [B, 1, H+2m, W+2m]; image b's window starts at row m - dy, column m - dx.
    raise NotImplementedError("Exercise 1.3: random shift")


# %%
from aigc_course.checks.preprocessing import check_random_shift

random_shift = check_random_shift(random_shift)

# %%
from aigc_course.preprocessing import add_gaussian_noise, compose, random_hflip, random_rotation

MAX_SHIFT, MAX_DEGREES = 2, 10.0  # small enough to keep every digit a digit
augment = compose(lambda x, g: random_rotation(x, g, max_degrees=MAX_DEGREES),
                  lambda x, g: random_shift(x, g, MAX_SHIFT))

examples = x_train[:10].unsqueeze(1)
variants = {
    "original": examples,
    f"shift ≤ {MAX_SHIFT} px": random_shift(examples, torch.Generator().manual_seed(3), MAX_SHIFT),
    f"rotation ≤ {MAX_DEGREES:g}°": random_rotation(examples, torch.Generator().manual_seed(3), max_degrees=MAX_DEGREES),
    "noise σ = 0.2": add_gaussian_noise(examples, torch.Generator().manual_seed(3), std=0.2),
    "flip (p = 1)": random_hflip(examples, torch.Generator().manual_seed(3), p=1.0),
    "rotation + shift (used below)": augment(examples, torch.Generator().manual_seed(3)),
}
fig, axes = plt.subplots(len(variants), 1, figsize=(7, 7))
for ax, (name, batch) in zip(axes, variants.items()):
    show_images(batch, nrow=10, ax=ax, title=name)
fig.tight_layout()

# %% [markdown]
# > **⚠️ Errata · 勘误 (article §2.1-2.2).** §2.2 lists flipping among the augmentations without a condition,
# > “通过变换输入数据来增加训练数据的多样性，如随机裁剪、旋转、翻转等” ("increase the diversity of the training
# > data by transforming the input data, e.g. random cropping, rotation, flipping"), and §2.1 says cleaning,
# > normalization and augmentation are done “以提高数据的多样性和质量” ("to raise the diversity and quality of
# > the data"). Two corrections:
# > 1. A transformation is only an augmentation if it keeps the label. A mirrored 2, 3, 4, 5, 6, 7 or 9 is
# >    not that digit (nor any digit); mirrored text is not text. Flips are fine for photos of animals,
# >    wrong for digits and letters. Section 5 measures this with a trained classifier.
# > 2. For a **generative** model, augmenting the training data changes the distribution it learns: a GAN
# >    trained on rotated digits learns to generate rotated digits. Data-efficient GAN training therefore
# >    applies (differentiable) augmentations to *both* real and generated images before the discriminator
# >    (DiffAugment, Zhao et al. 2020; ADA, Karras et al. 2020), so the generator is not pushed to imitate them.
#
# ### Augmentation explorer · 数据增强演示
#
# Pick a digit and the transformation; the left image is the original, the right one the result.
# The function behind the widget is `aigc_course.augmentation.augmentation_preview`.

# %%
import ipywidgets as widgets

from aigc_course.preprocessing import augmentation_preview


def show_augmentation(index=0, rotation=0.0, shift_x=0, shift_y=0, noise_std=0.0, flip=False):
    result = augmentation_preview(x_train[index], rotation=rotation, shift_x=shift_x, shift_y=shift_y,
                                  noise_std=noise_std, flip=flip)
    show_images(torch.stack([x_train[index], result]), nrow=2, scale=2.0,
                title=f"digit {int(y_train[index])}: original | transformed")
    plt.show()


widgets.interact(show_augmentation, index=widgets.IntSlider(0, 0, len(x_train) - 1),
                 rotation=widgets.FloatSlider(0.0, min=-180.0, max=180.0, step=5.0),
                 shift_x=widgets.IntSlider(0, -8, 8), shift_y=widgets.IntSlider(0, -8, 8),
                 noise_std=widgets.FloatSlider(0.0, min=0.0, max=0.5, step=0.05), flip=False);

# %% [markdown]
# ## 5. Overfitting · 过拟合
#
# A model **overfits** when it fits its training data much better than new data. The shared
# `DigitClassifier` (two convolutions, two dense layers) has far more weights than we have training
# digits, so it can learn every one of them by heart. We train it twice from the same initial weights, on the same
# batches, once on the plain digits and once with a fresh random rotation and shift of each digit at every
# step. After every epoch we measure accuracy on the training digits (unaugmented) and on a fixed random
# part of the test set; at the end, on the whole test set.

# %%
from aigc_course.evaluation import DigitClassifier, accuracy
from aigc_course.preprocessing import train_digit_classifier

print(f"weights: {sum(p.numel() for p in DigitClassifier().parameters()):,}; training digits: {len(x_train):,}")

monitor = slice(0, BUDGET.monitor_images)
eval_sets = {"train": (x_train, y_train), "test": (x_test[monitor], y_test[monitor])}
runs = {}
for name, aug in (("no augmentation", None), ("rotation + shift", augment)):
    start = time.perf_counter()
    model, history = train_digit_classifier(x_train, y_train, epochs=BUDGET.epochs, seed=0, augment=aug,
                                            eval_sets=eval_sets, device=device)
    runs[name] = {"model": model, "history": history, "test_acc": accuracy(model, x_test, y_test),
                  "train_acc": accuracy(model, x_train, y_train), "seconds": time.perf_counter() - start}
    print(f"{name:17s}: train accuracy {runs[name]['train_acc']:.2%}, test accuracy {runs[name]['test_acc']:.2%} "
          f"(gap {runs[name]['train_acc'] - runs[name]['test_acc']:+.2%}; {runs[name]['seconds']:.0f} s)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
curves = {f"{name}: {split}": [100 * a for a in run["history"][f"eval/{split}_accuracy"]]
          for name, run in runs.items() for split in ("train", "test")}
plot_curves(curves, xlabel="epoch", ylabel="accuracy (%)", ax=axes[0],
            title=f"accuracy (test curve: {BUDGET.monitor_images} test digits)")
for line in axes[0].get_lines():  # one colour per setting; test curves dashed
    line.set_color("C0" if line.get_label().startswith("no") else "C1")
    line.set_linestyle("--" if line.get_label().endswith("test") else "-")
axes[0].legend()
axes[0].set_ylim(max(0.0, min(min(c) for c in curves.values()) - 2), 100.5)
plot_curves({name: run["history"]["train/loss"] for name, run in runs.items()}, xlabel="epoch",
            ylabel="training loss (cross-entropy)", ax=axes[1], logy=True, title="training loss")
fig.tight_layout()

# %% [markdown]
# What to look for in the curves (check it against the accuracies printed above; fast mode trains only a
# couple of epochs, too few to show it):
#
# * **Without augmentation** the training accuracy climbs to (nearly) 100% and the training loss keeps
#   falling towards zero, while the test accuracy levels off well below: the gap between the two curves is
#   the overfitting. The network has memorized its training digits, including details that do not carry over.
# * **With augmentation** the training loss stays higher (each epoch shows new variants, which cannot all be
#   memorized) and the network has to rely on what every shifted and rotated 3 has in common. The test curve
#   ends higher and the gap is smaller.
#
# Augmentation did not add information that was not there: it told the network which changes do *not*
# matter (a small shift or rotation), which is exactly what a thousand examples cannot show on their own.
#
# ### Is the difference real? · 差异是否显著？
#
# Both models answered the same test digits, so compare them digit by digit. Only the digits on which they
# *disagree* say which is better: if both were equally good, each disagreement would go either way with
# probability 1/2 (McNemar's idea). The **sign test** gives the probability of a split at least as lopsided
# as the one observed under that hypothesis (two-sided).

# %%
import math

from aigc_course.evaluation import predict_logits

correct = {name: predict_logits(run["model"], x_test).argmax(1) == y_test for name, run in runs.items()}
only_plain = int((correct["no augmentation"] & ~correct["rotation + shift"]).sum())
only_augmented = int((correct["rotation + shift"] & ~correct["no augmentation"]).sum())
n_disagree = only_plain + only_augmented
p_sign = min(1.0, 2 * sum(math.comb(n_disagree, i) for i in range(min(only_plain, only_augmented) + 1)) / 2 ** n_disagree)
print(f"test digits only the plain model gets right:     {only_plain}")
print(f"test digits only the augmented model gets right: {only_augmented}")
print(f"two-sided sign test p-value: {p_sign:.2g}")

# %% [markdown]
# ### Which transformations keep the label? Measured · 哪些变换保持标签？
#
# Transform the test digits and ask both classifiers. The plain one never saw any transformation during
# training; the augmented one was trained on shifts and rotations but never on mirror images.

# %%
gen = torch.Generator().manual_seed(5)
x_few, y_few = x_test[monitor], y_test[monitor]  # the same test digits as the curves
tests = {"original": x_few,
         f"shifted ≤ {MAX_SHIFT} px": random_shift(x_few.unsqueeze(1), gen, MAX_SHIFT)[:, 0],
         f"rotated ≤ {MAX_DEGREES:g}°": random_rotation(x_few, gen, max_degrees=MAX_DEGREES),
         "mirrored": x_few.flip(-1)}
hits = {(name, setting): (predict_logits(run["model"], images).argmax(1) == y_few)
        for name, images in tests.items() for setting, run in runs.items()}
rows = [f"| {len(y_few)} test digits | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
rows += [f"| {name} | " + " | ".join(f"{hits[name, setting].float().mean():.1%}" for setting in runs) + " |"
         for name in tests]
display(Markdown("\n".join(rows)))
rows = ["| digit | " + " | ".join(str(c) for c in range(10)) + " |", "|---|" + "---|" * 10]
for name in ("original", "mirrored"):
    per_class = [hits[name, "no augmentation"][y_few == c].float().mean() for c in range(10)]
    rows.append(f"| {name} (plain model) | " + " | ".join(f"{a:.0%}" for a in per_class) + " |")
display(Markdown("\n".join(rows)))
show_images(tests["mirrored"][:16], nrow=16, title="mirrored test digits: " + " ".join(str(int(c)) for c in y_few[:16]));

# %% [markdown]
# What to look for in the tables (compare with the accuracies printed above):
#
# * **Shifts and rotations keep the label.** The plain model does worse on shifted digits, markedly so,
#   because MNIST digits are centred by their centre of mass and it never saw one off-centre. The
#   augmented model recognizes shifted and rotated digits almost as well as the originals: a
#   shifted 3 still carries everything needed to call it a 3. That is what makes the transformation a
#   valid augmentation.
# * **Mirroring does not.** Both models fail on most mirrored digits, and per digit the damage should follow
#   the shapes: check in the per-digit row which digits survive mirroring and whether they are roughly
#   symmetric ones. A classifier must name one of ten digits, so some mirrored digits with no closer
#   rival (a reversed 4) are still called by their label; that does not make them valid digits, which is
#   why this measurement backs up, but does not replace, looking at them. Training on mirrored digits
#   would teach a classifier, or a generator, shapes that are not digits.

# %% [markdown]
# ## 6. Cross-validation · 交叉验证
#
# One test accuracy is one number from one split. **k-fold cross-validation** splits the training data into
# $k$ folds, trains $k$ models, each on $k - 1$ folds, and scores each on the fold it never saw; the mean of
# the $k$ scores estimates the accuracy and their spread shows how much it depends on the split.
# The splitting must not leak: no digit may be in a model's training folds and its validation fold,
# and (Section 2) no duplicate of a digit either, which is one more reason to deduplicate first.
#
# **Exercise 1.4.** Write `kfold_indices(n, k, generator)`: shuffle $0..n-1$ once with
# `torch.randperm(n, generator=generator)`, cut it into $k$ folds whose sizes differ by at most one, and
# return a list of $k$ pairs `(train_index, val_index)`. Raise `ValueError` unless $2 \le k \le n$.

# %%
def kfold_indices(n: int, k: int, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """k (train_index, val_index) pairs; the val folds partition 0..n-1 and never meet their train index."""
    # Hint: the first n % k folds get n // k + 1 indices, the others n // k; torch.split accepts a list of sizes.
    raise NotImplementedError("Exercise 1.4: leak-free k-fold split")


# %%
from aigc_course.checks.preprocessing import check_kfold_indices

kfold_indices = check_kfold_indices(kfold_indices)

# %% [markdown]
# A random split can give a fold more 7s and fewer 1s than the data has, and then the fold's accuracy
# also measures that luck. A **stratified** split (分层抽样) deals the digits of each class out evenly, so
# every validation fold has the class proportions of the whole set (`stratified_kfold_indices`). The
# cell prints, for both splits, how far the folds' class counts stray, and then cross-validates on the
# stratified folds. Both settings are cross-validated on the **same folds** and from the same initial
# weights per fold, so their scores can be compared fold by fold (a paired comparison).

# %%
from aigc_course.preprocessing import cross_validate, mean_and_std, stratified_kfold_indices

random_splits = kfold_indices(len(x_train), BUDGET.cv_folds, torch.Generator().manual_seed(4))
splits = stratified_kfold_indices(y_train, BUDGET.cv_folds, torch.Generator().manual_seed(4))
expected = torch.bincount(y_train, minlength=10).double() / BUDGET.cv_folds  # a class's count per fold
for name, candidate in (("random", random_splits), ("stratified", splits)):
    counts = torch.stack([torch.bincount(y_train[val], minlength=10) for _, val in candidate]).double()
    print(f"{name:10s} folds: validation sizes {[len(val) for _, val in candidate]}, largest gap between a "
          f"class's count in a fold and its expected count: {(counts - expected).abs().max():.1f} digits")
print(f"each fold's model trains on {len(splits[0][0])} of the {len(x_train)} digits and is validated on "
      f"{len(splits[0][1])} (one digit = {100 / len(splits[0][1]):.2f} accuracy points)")
cv = {name: cross_validate(x_train, y_train, splits, epochs=BUDGET.epochs, seed=100, augment=aug, device=device)
      for name, aug in (("no augmentation", None), ("rotation + shift", augment))}
for name, scores in cv.items():
    m, s = mean_and_std(scores)
    print(f"{name:17s}: fold accuracies {[f'{a:.1%}' for a in scores]} -> mean {m:.2%} ± {s:.2%} (sample std)")
differences = [a - b for a, b in zip(cv["rotation + shift"], cv["no augmentation"])]
diff_mean, diff_std = mean_and_std(differences)
print(f"augmentation minus none, per fold: {[f'{d:+.1%}' for d in differences]} -> {diff_mean:+.2%} ± {diff_std:.2%}")
acc_cv = mean_and_std(cv["no augmentation"])[0]
fold_size = len(splits[0][1])
print(f"binomial standard error sqrt(p (1 - p) / n) of one accuracy near {acc_cv:.0%}: "
      f"{math.sqrt(acc_cv * (1 - acc_cv) / fold_size):.2%} on a fold of {fold_size} digits, "
      f"{math.sqrt(acc_cv * (1 - acc_cv) / len(x_test)):.2%} on the {len(x_test)} test digits")

# %% [markdown]
# Three cautions when reading these numbers.
# * A validation fold is small: the cell above printed how many accuracy points one digit is worth, and
#   the binomial standard error of one fold's accuracy. Per-fold differences within a standard error or
#   two are noise, so a few folds may favour either setting; the mean difference and the full test set
#   (whose standard error, printed beside it, is smaller) are the steadier evidence.
# * Each fold's model trains on $(k-1)/k$ of the data (the count is printed above), so cross-validation
#   slightly underestimates the accuracy of the model trained on all of it.
# * The $k$ scores are not independent (their training sets overlap), so the sample standard deviation
#   understates the true uncertainty; no unbiased estimate of it exists (Bengio and Grandvalet, 2004).
#   Treat "mean ± std" as a rough guide, not a confidence interval.
#
# ## 7. Closing note · 小结

# %%
plain, augmented = runs["no augmentation"], runs["rotation + shift"]
cv_plain, cv_aug = mean_and_std(cv["no augmentation"]), mean_and_std(cv["rotation + shift"])
display(Markdown(f"""
Measured in this run ({BUDGET.train_subset} training digits, {BUDGET.epochs} epochs, {len(x_test)} test digits,
{BUDGET.cv_folds}-fold cross-validation):

| | no augmentation | rotation ≤ {MAX_DEGREES:g}° + shift ≤ {MAX_SHIFT} px |
|---|---|---|
| training accuracy | {plain['train_acc']:.2%} | {augmented['train_acc']:.2%} |
| test accuracy | {plain['test_acc']:.2%} | {augmented['test_acc']:.2%} |
| cross-validation accuracy (mean ± std) | {cv_plain[0]:.2%} ± {cv_plain[1]:.2%} | {cv_aug[0]:.2%} ± {cv_aug[1]:.2%} |

Augmentation changed the test accuracy by **{100 * (augmented['test_acc'] - plain['test_acc']):+.2f} points**
(on the digits where the two models disagree: {only_augmented} for augmentation, {only_plain} against;
sign test p = {p_sign:.2g}) and the cross-validation accuracy by
**{100 * diff_mean:+.2f} ± {100 * diff_std:.2f} points** (mean ± std of the per-fold differences).
The cleaner found **{cleaning_scores['recall']:.1%}** of the planted corruptions and flagged
**{cleaning_scores['false_positive_rate']:.2%}** of the clean images.
""" + ("""
**Fast mode:** these classifiers trained for only a few steps, so their accuracies say nothing about
augmentation. Run the notebook without `AIGC_COURSE_FAST` for the real comparison.
""" if is_fast_mode() else "")))

# %% [markdown]
# **What to remember.**
# * Clean by *reporting*: every detector returns indices and reasons; you decide what to drop.
# * Every scaling needs an exact inverse (round, clip), and its statistics come from the training split only.
# * Augment only with label-preserving transformations, and never let a generative model learn the augmentations.
# * Overfitting shows as a gap between training and test accuracy; augmentation narrows it by teaching invariances.
# * Cross-validate on leak-free, stratified folds; report the mean and the spread, and compare settings on the same folds.
#
# **Next:** [02 · Generative adversarial networks · 生成对抗网络](02_gan.ipynb).
