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
# # 01 · 数据预处理 · Data preprocessing
#
# 每个生成模型都从数据中学习，而它学到的，就是数据流程（data pipeline）交给它的一切：重复样本、损坏的文件、缩放错误的像素都包括在内。原文列出了三个预处理步骤（§2.1-2.2）：**数据清洗**（data cleaning）、**数据归一化**（normalization）和**数据增强**（data augmentation），并定义了三个相关概念（§1.4.2）：数据增强、**过拟合**（overfitting）和**交叉验证**（cross-validation）。本笔记本在真实的 MNIST 上逐一实现它们，并测量各自的效果。
#
# **本笔记本内容**：
# 1. 预处理在生成流程中的位置（原文的示意图，已修正）；
# 2. 数据清洗：检测器*报告*重复样本、空白图像、NaN、超出范围的像素和离群值，并在我们自己注入了脏数据的 MNIST 上评分；
# 3. 归一化：三种缩放方式及其精确的逆变换，以及为什么统计量只能来自训练集；
# 4. 数据增强：批量、可用种子复现的平移、旋转、翻转和噪声，以及为什么翻转不适用于数字；
# 5. 过拟合：在一个小子集（完整预算下为 1,000 个数字）上训练的分类器，使用与不使用数据增强各训练一次；
# 6. 交叉验证：无泄露的分层 k 折划分，以及准确率的均值 ± 标准差。
#
# 练习 1.1-1.4 分布在各节之中。

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
# ## 1. 预处理在生成流程中的位置 · Where preprocessing sits
#
# > **⚠️ 勘误 · Errata（原文 §2、§2.2）**：原文的示意图把预处理后的数据送入生成器（“数据预处理 → 生成器”），§2.2 又说预处理“直接影响生成器的训练效果”。**无条件**（unconditional）GAN 的生成器，也就是原文的和本课程的生成器，从不读取数据：它的输入是随机噪声 $z$。预处理后的真实图像送入**判别器**，生成器只能通过判别器传回的梯度了解数据。（条件 GAN 和图像到图像的 GAN 确实会把数据送入生成器：一个标签，或者一张输入图像。）在 VAE 中，数据送入**编码器**，解码器被训练来重建同一个预处理后的 $x$。预处理确实以一种直接的方式约束生成器：它的输出层必须产生数据被缩放到的那个范围（数据在 $[-1, 1]$ 内时用 $\tanh$ 输出），而生成的值必须用该缩放的**逆变换**映射回像素（第 3 节）。

# %%
from aigc_course.preprocessing import draw_preprocessing_in_pipelines

draw_preprocessing_in_pipelines();

# %% [markdown]
# ## 2. 数据清洗 · Data cleaning
#
# 真实的数据集里会有完全相同的重复样本（同一个文件存了两次）、空白或恒定不变的图像（扫描失败）、无法读取的值（NaN，非数值）、尺度错误的图像（0-1 的图像中混入 0-255 的图像）以及格格不入的样本（噪声、类型不对的图像）。原文的建议是把它们*去除*（“去除噪声、缺失值和异常值”）。我们的清洗器则**报告**每个问题，附上它的索引和原因，把决定权留给你：一条规则标记出一个不寻常但真实的数字时，不应该悄悄把它删掉。
#
# | 检测器 | 标记图像的条件 | 原因 |
# |---|---|---|
# | `find_non_finite` | 任一像素为 NaN 或 ±inf | 一个 NaN 会污染它参与计算的每一个损失 |
# | `find_out_of_range` | 某个有限的像素值超出 $[0, 1]$ | 例如一张仍停留在 0-255 尺度上的图像 |
# | `find_blank` | 像素标准差 $< 0.05$ | 恒定的图像里没有数字 |
# | `find_duplicates` | 它的字节与前面某张图像完全相同 | 保留第一份，报告后面的副本 |
# | `find_outliers` | 某个特征的稳健 z 分数超过 3.5 | 墨迹量、粗糙度或斑点异常 |
#
# 重复样本通过**哈希**（hashing）查找：每张图像的字节经过一个哈希函数，只有哈希值相同的图像才逐字节比较，因此 $N$ 张图像只需 $O(N)$ 的工作量，而不是 $O(N^2)$ 次比较。
#
# ### 稳健 z 分数 · The robust z-score
#
# 通常的 z 分数 $(v - \text{mean}) / \text{std}$ 有一个弱点：我们要找的离群值会抬高均值和标准差，从而把自己藏起来。**稳健 z 分数**（robust z-score）把这两者换成几个极端值几乎无法撼动的统计量：中位数和**中位数绝对偏差**（MAD）：
#
# $$ z_i = 0.6745\,\frac{v_i - \operatorname{median}(r)}{\operatorname{MAD}(r)}, \qquad
#    \operatorname{MAD}(r) = \operatorname{median}_j \lvert r_j - \operatorname{median}(r) \rvert, $$
#
# 其中 $r$ 是参考样本（默认就是 $v$ 本身）。常数 $0.6745 = \Phi^{-1}(3/4)$ 是标准正态分布的 MAD，因此对高斯数据而言，$z$ 与通常的 z 分数一致。Iglewicz 和 Hoaglin 建议把 $|z| > 3.5$ 的值标记为离群值。
#
# **练习 1.1**：为一维张量编写 `robust_z(values, reference=None)`。如果 MAD 为 0（参考值中至少有一半彼此相等），抛出 `ValueError`：此时分数没有定义。请使用 `Tensor.median()`：元素个数为偶数时，它返回中间两个值中*较小*的那个（而不是二者的平均），检查也按此预期。

# %%
def robust_z(values: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """values [N], reference [M] (default: values) -> robust z-scores [N] = 0.6745 (v - median) / MAD."""
    # Hint: Tensor.median() returns the (lower) middle value; the MAD is the median of |reference - median|.
    raise NotImplementedError("Exercise 1.1: robust z-score")


# %%
from aigc_course.checks.preprocessing import check_robust_z

robust_z = check_robust_z(robust_z)

# %% [markdown]
# ### 注入已知的脏数据 · Planting known corruption
#
# 要衡量一个清洗器，我们得知道真实情况。因此我们取干净的 MNIST 数字，在随机位置上用每一类问题覆盖其中几张：**重复样本**（duplicates，前面某个干净数字的副本）、**空白**图像（blank，带轻微抖动的恒定灰色）、**噪声**图像（noise，随机斑点）、带有一块 4×4 **NaN** 的数字，以及仍停留在 0-255 尺度上的数字（**超出范围**，out of range）。

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
# 上表列出了每一类注入的问题各查出了多少。也有一些干净的数字被标记：下一个单元格按标记它们的检查分别计数，并展示这些数字。在做任何决定之前先看看它们：它们是真实的数字（我们没有在它们身上注入任何东西），只是不太寻常。这正是清洗器只报告、不删除的原因。直方图展示了离群值检验背后的离群分数，它是用*你的* `robust_z` 计算的：三个特征（墨迹量、粗糙度、单位墨迹的粗糙度）上 $|z|$ 的最大值，其中各个中位数和 MAD 取自通过了其他检查的图像（干净的数字和噪声图像）。

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
# ## 3. 数据归一化 · Normalization
#
# MNIST 把像素存为整数 $p \in \{0, \dots, 255\}$。神经网络需要较小的浮点数，至于用哪个范围，取决于模型：
#
# | 缩放方式 | 公式 | 逆变换 | 使用者 |
# |---|---|---|---|
# | 单位区间（unit） | $x = p / 255 \in [0, 1]$ | $p = \operatorname{round}(255\,x)$ | 使用 sigmoid/伯努利输出的 VAE 解码器、分类器 |
# | 对称区间（symmetric） | $y = p / 127.5 - 1 \in [-1, 1]$ | $p = \operatorname{round}(127.5\,(y + 1))$ | 使用 $\tanh$ 输出的 GAN 生成器 |
# | 标准化（standardized） | $z = (x - \mu) / \sigma$ | $x = \sigma z + \mu$ | 许多分类器 |
#
# 每种缩放都需要精确的逆变换：生成的值必须重新变回像素，才能保存或显示。
#
# **练习 1.2**：编写 `symmetric_to_uint8(y)`，即 `images_to_symmetric` 的逆变换：四舍五入到最近的整数（而不是截断），裁剪到 $[0, 255]$，使生成器略微偏大的输出不会在 `uint8` 中回绕（256 会变成 0），并对 NaN 或无穷大的输入抛出 `ValueError`。

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
# ### 统计量只来自训练集 · Statistics come from the training split only
#
# $\mu$ 和 $\sigma$ 是*拟合*出来的，和权重一样，所以只能在训练数据上拟合。测试集代表模型从未见过的数据；任何从测试集算出来、又送进模型的东西，都会让测试分数不再衡量这一点。把训练集的统计量用在测试集上，得到的均值接近 0、标准差接近 1，但并不恰好等于 0 和 1：这是意料之中的。

# %%
z_test = standardize(x_test, mean, std)
leaked_mean, leaked_std = fit_standardization(torch.cat([x_train, x_test]))
print(f"fitted on the training split: mean {mean:.4f}, std {std:.4f}")
print(f"test set after standardizing: mean {z_test.mean():+.4f}, std {z_test.std(unbiased=False):.4f}")
print(f"fitted on train + test (leak): mean {leaked_mean:.4f}, std {leaked_std:.4f}")

# %% [markdown]
# 在 MNIST 上，两个全局数值在测试集泄露进来时只会变化一点点，因为训练数字和测试数字来自同一个分布。但这条规则依然重要：参数多的统计量（每个像素一个参数、PCA）能从测试集吸收多得多的信息，交叉验证也必须在每一折内部拟合它们。这种泄露更常见的形式，是直接在被评估的数据上拟合（“`fit_transform(test)`”）。这样一来，对某个数字的预测取决于碰巧和它一起被评估的*其他*数字。为了在几毫秒内看到这一点，这里用一个基于标准化像素的**最近类均值**分类器（nearest class mean）：每个测试数字得到与它最近的类均值的标签。我们对测试数字评分两次：一次使用训练集的统计量；另一次把它们分成十批、每批只含一个类别（就好像每批来自不同的扫描仪），并用每批自己的统计量做标准化。这些批次是**有意按类别排序**的：这是极端情况，此时一批数据自身的统计量就是某一个数字类别的统计量，因而带有关于标签的信息。作为对照，我们还从打乱后的测试集中随机抽取同样大小的批次，其中混合了各个类别。

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
# 把两个计数放在一起看。当批次按类别排序时，一批数据自身的均值和标准差就是某一个数字类别的均值和标准差，所以用它们做标准化会把这批中的每个数字都朝同一个方向移动，而移动的方向取决于类别：预测结果现在依赖于来自*其他*测试数字的、关于标签的信息。这正是本演示使用排序批次的原因：它是最坏的情况，而真实数据经常是排好序或分好组送来的（按扫描仪、按书写者、按日期）。使用混合批次时，批次统计量接近训练集的统计量；仍然改变的每一个标签，都是一个取决于它的数字碰巧落在哪一批的预测。
#
# ## 4. 数据增强 · Data augmentation
#
# 数据增强是在数据的变换副本上训练：平移一两个像素、旋转几度、加一点噪声。只有当每个变换都是**标签保持**的（label-preserving）时，它才有用：向左移动两个像素的 3 仍然是 3。我们的数据增强直接在张量上实现（不转换成 PIL 图像），一次处理整批 `[B, 1, 28, 28]`，每张图像各自随机抽取，随机性取自一个 `torch.Generator`，因此固定种子就能精确复现：
#
# * `random_shift`：把每张图像平移整数个像素 $(d_y, d_x)$，$|d_y|, |d_x| \le m$，空出的部分用背景（0）填充；等价于先在四周填充 $m$ 个像素，再随机裁剪（random crop）出一个 $28 \times 28$ 的窗口；
# * `random_rotation`：按在 $[-\theta_{\max}, \theta_{\max}]$ 上均匀分布的角度做仿射重采样（`F.affine_grid` + `F.grid_sample`）；
# * `random_hflip`：以概率 $p$ 左右镜像；
# * `add_gaussian_noise`：$x + \sigma\varepsilon$，$\varepsilon \sim \mathcal N(0, I)$，再裁剪到 $[0, 1]$；
# * `compose(f, g, ...)`：按顺序依次应用它们。
#
# **练习 1.3**：编写 `random_shift(images, generator, max_shift)`。用 `torch.randint(-max_shift, max_shift + 1, (B, 2), generator=generator)` 为每张图像抽取一个偏移量（`randint` 的上界不包含在内），然后填充并裁剪。从图像外移进来的像素为 0；任何像素都不会从另一侧绕回来（所以用 `torch.roll` 是错的）。

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
# > **⚠️ 勘误 · Errata（原文 §2.1-2.2）**：§2.2 把翻转列为数据增强时没有附加任何条件：“通过变换输入数据来增加训练数据的多样性，如随机裁剪、旋转、翻转等”；§2.1 又说进行清洗、归一化和增强是“以提高数据的多样性和质量”。这里有两处更正：
# > 1. 一个变换只有保持标签，才算数据增强。镜像后的 2、3、4、5、6、7 或 9 不再是那个数字（也不是任何数字）；镜像的文字也不再是文字。翻转适用于动物照片，却不适用于数字和字母。第 5 节用训练好的分类器测量了这一点。
# > 2. 对**生成**模型而言，增强训练数据会改变它所学习的分布：在旋转过的数字上训练的 GAN 会学着生成旋转的数字。因此，数据高效的 GAN 训练方法把（可微的）增强*同时*施加在真实图像和生成图像上，再送入判别器（DiffAugment，Zhao 等，2020；ADA，Karras 等，2020），这样生成器就不会被推着去模仿这些增强。
#
# ### 数据增强演示 · Augmentation explorer
#
# 选择一个数字（滑块 `index`）和变换（`rotation`、`shift_x`、`shift_y`、`noise_std`、`flip`）；左图是原图，右图是变换结果。控件背后的函数是 `aigc_course.augmentation.augmentation_preview`。

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
# ## 5. 过拟合 · Overfitting
#
# 当模型对训练数据的拟合远好于对新数据的拟合时，它就**过拟合**了。共用的 `DigitClassifier`（两个卷积层、两个全连接层）的权重数量远多于我们的训练数字，因此它能把每一个训练数字都背下来。我们从相同的初始权重出发、在相同的批次上训练它两次：一次用原始数字，另一次在每一步对每个数字施加新的随机旋转和平移。每轮（epoch）结束后，我们测量它在训练数字（未增强）上和在测试集的一个固定随机子集上的准确率；训练结束时，再在整个测试集上测量。

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
# 曲线中要看什么（请与上面打印的准确率对照；快速模式只训练一两轮，太少，显示不出这些现象）：
#
# * **不使用数据增强**时，训练准确率攀升到（接近）100%，训练损失不断下降、趋近于零，而测试准确率停在低得多的位置：两条曲线之间的差距就是过拟合。网络记住了它的训练数字，包括那些无法推广到新数据的细节。
# * **使用数据增强**时，训练损失保持在较高水平（每一轮都看到新的变体，无法全部记住），网络只能依靠每个平移、旋转过的 3 所共有的特征。测试曲线最终更高，差距也更小。
#
# 数据增强并没有添加原本不存在的信息：它告诉网络哪些变化*无关紧要*（小的平移或旋转），而这恰恰是一千个样本本身无法展示的。
#
# ### 差异是否真实？ · Is the difference real?
#
# 两个模型回答的是同一批测试数字，所以可以逐个数字比较它们。只有两者*意见不一致*的数字才能说明哪个更好：如果两者一样好，每一处分歧偏向任何一方的概率都是 1/2（McNemar 的思路）。**符号检验**（sign test）给出在这一假设下，出现至少与观测结果一样悬殊的分歧划分的概率（双侧）。

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
# ### 哪些变换保持标签？实测 · Which transformations keep the label? Measured
#
# 对测试数字做变换，再让两个分类器识别。普通模型在训练中从未见过任何变换；增强模型在平移和旋转上训练过，但从未见过镜像图像。

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
# 表格中要看什么（请与上面打印的准确率对照）：
#
# * **平移和旋转保持标签**。普通模型在平移后的数字上表现更差，而且差得明显，因为 MNIST 的数字按质心居中，它从没见过偏离中心的数字。增强模型识别平移和旋转后的数字几乎和识别原图一样好：平移过的 3 仍然带有把它认作 3 所需的全部信息。正是这一点使这种变换成为有效的数据增强。
# * **镜像则不然**。两个模型在大多数镜像数字上都会出错，而且按数字分开来看，受损程度应当与字形相符：在按数字分列的那一行里，查看哪些数字镜像后仍能被认出，它们是否大致是对称的数字。分类器必须在十个数字中说出一个，所以有些镜像数字因为没有更接近的竞争者（比如反过来的 4），仍会被认作原来的标签；这并不使它们成为有效的数字，这也是为什么这项测量能佐证、却不能取代亲眼查看它们。在镜像数字上训练，会教给分类器或生成器一些并不是数字的形状。

# %% [markdown]
# ## 6. 交叉验证 · Cross-validation
#
# 一个测试准确率只是一次划分得到的一个数。**k 折交叉验证**（k-fold cross-validation）把训练数据分成 $k$ 折，训练 $k$ 个模型，每个模型在 $k - 1$ 折上训练，并在它没见过的那一折上评分；$k$ 个分数的均值是对准确率的估计，它们的离散程度说明结果在多大程度上依赖于划分方式。划分不能泄露：任何数字都不能既在某个模型的训练折中又在它的验证折中，它的重复样本也不能（第 2 节），这是要先去重的又一个理由。
#
# **练习 1.4**：编写 `kfold_indices(n, k, generator)`：用 `torch.randperm(n, generator=generator)` 把 $0..n-1$ 打乱一次，切成大小最多相差一的 $k$ 折，并返回由 $k$ 个 `(train_index, val_index)` 对组成的列表。除非 $2 \le k \le n$，否则抛出 `ValueError`。

# %%
def kfold_indices(n: int, k: int, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """k (train_index, val_index) pairs; the val folds partition 0..n-1 and never meet their train index."""
    # Hint: the first n % k folds get n // k + 1 indices, the others n // k; torch.split accepts a list of sizes.
    raise NotImplementedError("Exercise 1.4: leak-free k-fold split")


# %%
from aigc_course.checks.preprocessing import check_kfold_indices

kfold_indices = check_kfold_indices(kfold_indices)

# %% [markdown]
# 随机划分可能让某一折中的 7 比整个数据集中的比例更多、1 更少，这时这一折的准确率也在衡量这种运气。**分层**划分（stratified split，分层抽样）把每个类别的数字均匀地分发到各折，因此每个验证折都具有整个数据集的类别比例（`stratified_kfold_indices`）。这个单元格对两种划分都打印出各折的类别计数偏离了多少，然后在分层的折上做交叉验证。两种设置在**相同的折**上做交叉验证，每一折都从相同的初始权重出发，因此它们的分数可以逐折比较（配对比较）。

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
# 阅读这些数字时有三点需要注意。
# * 验证折很小：上面的单元格打印了一个数字相当于多少个百分点的准确率，以及一折准确率的二项标准误。逐折差异在一两个标准误以内都是噪声，所以有几折可能偏向任何一种设置；均值之差以及完整的测试集（它的标准误打印在旁边，要小一些）才是更可靠的证据。
# * 每一折的模型只在 $(k-1)/k$ 的数据上训练（具体数目已在上面打印），所以交叉验证会略微低估在全部数据上训练的模型的准确率。
# * $k$ 个分数并不独立（它们的训练集相互重叠），所以样本标准差会低估真实的不确定性，而且它不存在无偏估计（Bengio 和 Grandvalet，2004）。请把“均值 ± 标准差”当作粗略的参考，而不是置信区间。
#
# ## 7. 小结 · Closing note

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
# **要点回顾**：
# * 清洗靠*报告*：每个检测器都返回索引和原因，删除什么由你决定。
# * 每种缩放都需要精确的逆变换（四舍五入、裁剪），其统计量只来自训练集。
# * 只用保持标签的变换做数据增强，并且绝不让生成模型学到这些增强。
# * 过拟合表现为训练准确率与测试准确率之间的差距；数据增强通过教会网络不变性来缩小这一差距。
# * 在无泄露、分层的折上做交叉验证；报告均值和离散程度，并在相同的折上比较不同设置。
#
# **下一章**：[02 · 生成对抗网络 · Generative adversarial networks](02_gan.ipynb)。
