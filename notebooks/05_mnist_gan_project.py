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
# # 05 · The MNIST GAN project · 项目实战
#
# The article's §5 ends with a project: a generative adversarial network (GAN, 生成对抗网络) that
# draws handwritten digits, written in Keras. As printed, that code does not run, and if its
# errors are patched naively it still does not train a GAN. This chapter
#
# 1. lists every bug of the article's snippet and ports the model **faithfully** to PyTorch,
#    fixing only what must be fixed;
# 2. builds **our own evaluation** (评估): a digit classifier the course trains, and with it an
#    Inception-style score, the class histogram, a Frechet distance and a memorization check, each shown
#    beside the same figure for real digits;
# 3. trains the port and an **improved model**, with a progress bar, loss curves, a sample grid per
#    epoch and checkpoints that survive an interruption, then a **DCGAN for the same training time** as
#    the improved model, so that the measurements decide which architecture wins;
# 4. explores the trained generator with widgets, and shows the command line that does all of it
#    outside a notebook.
#
# Budgets: students get the full budget by default: 40 epochs for each GAN, which is under 10 minutes
# of training for the improved model on a 2-core CPU and a few minutes for the port, the same time again
# for the DCGAN, plus a few minutes the first time for the evaluation classifier. `AIGC_COURSE_FAST=1` shrinks everything for tests.
# Trained models are cached, so a second run loads them instead of training again.

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
# ## 1. The environment · 开发环境搭建 (article §5.1)
#
# > **⚠️ Errata · 勘误 (article §5.1).** The article: 「确保已安装Python 3.6及以上版本」 and
# > `pip install tensorflow`, `pip install numpy pandas matplotlib` ("make sure Python 3.6 or later is
# > installed"). Current
# > TensorFlow releases need a much newer Python (3.6 reached its end of life in December 2021), and
# > the snippet also imports `tensorflow_addons`, which is not in the install steps and has itself
# > reached its end of life. `pandas` is installed but never used. This course uses PyTorch: the
# > package `aigc_course` (installed by the setup cell on Colab) holds every model, the training
# > loop and the evaluation; the cell above printed your versions and device.
#
# Everything below reads its sizes from one budget, and seeds every random number generator.

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
# ## 2. The article's code, bug by bug · 源代码详细实现和代码解读 (article §5.2-5.3)
#
# The article's snippet (Keras) builds a generator `Dense(128) -> GaussianNoise(0.1) -> LeakyReLU(0.2) ->
# Dense(784, tanh)` and a discriminator `Flatten -> Dense(128) -> Dropout(0.3) -> LeakyReLU(0.2) ->
# Dense(1, sigmoid)`, both with `Adam(0.0001, 0.5)`, then loops. Reading it line by line:
#
# | # | The article's code | What happens | Fix |
# |---|---|---|---|
# | 1 | `LeakyReLU`, `Dropout`, `Adam`, `np` used but never imported | `NameError` on the first use | import them (`tf.keras.layers`, `tf.keras.optimizers`, `numpy`) |
# | 2 | `from tensorflow_addons.layers import GaussianNoise` | TensorFlow Addons has no such layer (and is end-of-life) | `tf.keras.layers.GaussianNoise`; in PyTorch a 5-line module (below) |
# | 3 | `mnist_data.next_batch(batch_size)` | `mnist_data` is never defined (`next_batch` was TensorFlow 1's tutorial helper) | load MNIST, **scale to [-1, 1]** to match the tanh output, shuffle each epoch |
# | 4 | `for _ in range(batch_size):` inside each epoch | 128 steps per "epoch", unrelated to the 60,000 images | one step per mini-batch: `range(60000 // batch_size)` |
# | 5 | `epochs = 10000` | with bug 4, 10,000 × 128 = 1.28 million iterations of the inner loop, each with three `train_on_batch` calls (two for D, one for G), printing every 128 | an epoch is one pass over the data; a few dozen suffice |
# | 6 | `generator.compile(loss='binary_crossentropy', ...)` then `generator.train_on_batch(noise, np.ones((batch_size, 1)))` | the targets' shape `[128, 1]` does not match the generator's output `[128, 28, 28, 1]`; and even with matching shapes this would push **pixels** toward 1 without ever asking the discriminator: not a GAN | train G **through** D: `gan.train_on_batch(noise, ones)`, i.e. minimize $-\log D(G(z))$ |
# | 7 | `gan = build_gan(generator, discriminator)` | built, never compiled, never used | compile it after `discriminator.trainable = False`, and use it for the G-step (fix 6) |
# | 8 | no `discriminator.trainable = False` | if `gan` were trained, D's weights would move to call fakes real | freeze D inside the combined model (PyTorch: only G's optimizer steps) |
# | 9 | `Dense(1, activation='sigmoid')` + `binary_crossentropy` | works in Keras, but log(sigmoid) underflows for confident D | output logits; the sigmoid lives in the loss (`binary_cross_entropy_with_logits`, chapter 02) |
# | 10 | `generator.predict(noise)` in the inner loop | correct but slow (a new graph call per step) | call the model directly |
# | 11 | `generator.save('generator.h5')` once, at the very end | a crash loses everything; `.h5` is Keras's legacy format | checkpoint both networks, optimizers, epoch and RNG each epoch, atomically (Section 8) |
#
# > **⚠️ Errata · 勘误 (article §5.3).** The article: 「GaussianNoise层用于为输入噪声添加高斯噪声，以增加生成图像的多样性」
# > ("the GaussianNoise layer adds Gaussian noise to the input noise to increase the diversity of
# > generated images") and 「通过上述代码，我们可以生成高质量的手写数字图像」 ("with the code above we can
# > generate high-quality handwritten digit images"). The layer sits *after* the first
# > dense layer (it perturbs hidden activations, not the input), and Keras applies it **only in
# > training**, so it adds no diversity to generated images at all: it is a mild regularizer.
# > The closing claim of high quality is never measured; Section 5 measures it.
#
# **The article's generator step, run.** Row 6 says what `generator.train_on_batch(noise, ones)` would do
# once the shapes match; here it is, run. `article_generator_step` trains the article's generator
# **alone** with exactly that step: binary cross-entropy between every output pixel and 1, Keras-style
# (Keras clips the prediction to $[10^{-7}, 1 - 10^{-7}]$ before the log), Adam(1e-4, 0.5), fresh noise
# each step, no discriminator and no data. Nothing in that loss mentions a digit.

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
# The faithful port keeps the article's architecture, optimizer settings, batch size and Keras's
# initialization (Glorot-uniform weights, zero biases), and fixes every bug above. Its discriminator returns
# a logit; $D(x) = \sigma(\text{logit})$.

# %%
from aigc_course.gan import MODELS, build_models, count_parameters

port_g, port_d = build_models("gan")
print(port_g, port_d, sep="\n")
print(f"generator: {count_parameters(port_g):,} parameters; discriminator: {count_parameters(port_d):,}")
print("training settings:", MODELS["gan"])

# %% [markdown]
# ## 3. Our own evaluation · 评估
#
# "Does it look like a digit?" is judged here by a **digit classifier** (the course's shared
# `DigitClassifier`: two convolutions and two dense layers) trained on all 60,000 training images and
# cached, so this happens once. For $N$ images $x_i$ with class probabilities $p(y \mid x_i)$:
#
# - **Inception-style score** (IS): $\exp\big(\frac1N \sum_i \mathrm{KL}(p(y\mid x_i)\,\|\,p(y))\big)$ with the
#   marginal $p(y) = \frac1N\sum_i p(y\mid x_i)$. It equals $\exp(H(y) - \mathbb E_x H(y\mid x))$: high when every
#   image is confidently one digit (low $H(y\mid x)$) **and** all ten digits occur equally (high $H(y)$).
#   At most 10; 1 when every image gets the same distribution. (The original, Salimans et al., 2016, uses an
#   ImageNet Inception network; on MNIST a digit classifier plays its role.)
# - **Class histogram**: the share of images the classifier assigns to each digit. A generator that
#   skips digits (mode collapse, 模式崩溃) shows gaps.
# - **Frechet distance** (FD) between Gaussians fitted to the classifier's 128 penultimate features of
#   generated and of real test images: $\lVert\mu_g-\mu_r\rVert^2 + \mathrm{Tr}(\Sigma_g+\Sigma_r-2(\Sigma_g\Sigma_r)^{1/2})$.
#   Lower is better; real training images give the floor. (Heusel et al., 2017, introduced it with
#   Inception features, as the FID.)
# - **Nearest training neighbour** in pixel space: a generator that memorized its training set would
#   produce images much closer to training images than real *test* digits are.

# %%
from aigc_course.evaluation import (class_probabilities, classifier_config, comparison_markdown,
                                    evaluation_report, load_or_train_classifier, plot_class_histograms,
                                    real_reference)

classifier = load_or_train_classifier(**classifier_config(), device=device)
reference = real_reference(classifier, BUDGET.reference_images)  # features of the real test digits, computed once
print(f"classifier accuracy on {reference['n_test']} test digits: {reference['accuracy']:.4f}")

# %% [markdown]
# **Exercise 5.1.** Write the Inception-style score from a matrix of class probabilities `probs`
# `[N, C]` (rows sum to 1). Compute in float64; a term with $p = 0$ contributes 0.

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
# ## 4. Training the faithful port · 训练
#
# `train_gan(model, epochs, out_dir)` trains on MNIST scaled to [-1, 1] with chapter 02's
# `gan_training_step` (the discriminator step on real and detached fake images, then the generator step
# through a discriminator that does not change), and after every epoch writes a sample grid for the same
# 64 noise vectors and a checkpoint. It also records $D(x)$ and $D(G(z))$ on 512 fixed images
# after each epoch: if they went to 1 and 0 and stayed there, the discriminator would have won and
# the generator would get no useful gradient. If the run folder already holds a checkpoint with enough
# epochs, nothing is trained (load-or-train), so a workshop can pre-train with the command line
# (Section 10).

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
# ## 5. Judging the port, beside real digits · 评估结果
#
# 10,000 samples (fewer in fast mode) from the port, and the same number of real test digits, through
# every metric at once:

# %%
from aigc_course.gan import generate

port_samples = generate(port.generator, n_eval, seed=100)  # other noise than the training grids
port_report = evaluation_report(port_samples, classifier, reference=reference, nn_queries=BUDGET.nn_queries)
display(Markdown(comparison_markdown({"real digits": port_report["real"], "article's GAN (port)": port_report["generated"]})))
plot_class_histograms({"real": port_report["real"]["class_fractions"],
                       "port": port_report["generated"]["class_fractions"]})
plt.show()

# %% [markdown]
# ## 6. A better model on the same CPU · 改进模型
#
# Which architecture wins can depend on what a training step costs. Convolutions are the natural choice for
# images (a DCGAN, below), but on a CPU a convolutional step can be much slower per image than a step of
# dense layers, and within a fixed budget the number of epochs that fit may matter more than the
# architecture (Section 6.2 tests exactly that). The cell below **measures** the images per second of one
# training step of each model on this machine.
#
# **Exercise 5.2.** The DCGAN generator doubles the resolution with *up-blocks*: a transposed
# convolution with kernel 4, stride 2, padding 1 (output size $(H-1)\cdot 2 - 2 + 4 = 2H$), no bias
# (the batch normalization right after it subtracts the mean, so a bias would be wasted), then
# `BatchNorm2d`, then `ReLU`. Your block is the one the DCGAN below is built and trained with.

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
# ### The improved model: a wide MLP GAN with a fast step and a moving average · 改进的多层感知机GAN
#
# The course's candidate against the DCGAN is a multilayer perceptron (多层感知机) GAN, built so that
# every choice pays for itself in images per second or in quality per update (Section 6.2 trains the
# DCGAN for the same wall-clock time and lets the measurements pick the winner):
#
# - **A fast step.** Dense layers are large matrix multiplications, which a CPU runs near its peak; the
#   DCGAN's convolutions cost more per image (measured above), so in the same minutes the MLP sees
#   more epochs. Adam's *fused* kernel updates all parameters in one pass instead of one tensor at a
#   time; the cell after the training measures what that is worth here.
# - **Capacity where it pays.** The generator is wide, 100 → 256 → 512 → 1024 → 784 with batch normalization
#   (批归一化) after each hidden layer, which keeps every layer's inputs well scaled.
#   The discriminator is smaller, 784 → 512 → 256 → 1: cheaper per step, and meant not to overpower
#   the generator.
# - **Discriminator regularization.** Dropout 0.3, and a *minibatch standard deviation* feature: the
#   last layer also sees how much the batch's features vary, so a generator that repeats itself is easy
#   to catch: a cheap guard against mode collapse (模式崩溃) (Karras et al., 2018).
# - **The learning-rate balance.** 4e-4 for both networks, twice the DCGAN's usual 2e-4: on a CPU the
#   budget limits the number of updates, so each may do more (the curves below show whether it stayed stable).
# - **A moving average of the generator (EMA).** After every step,
#   $\theta_{\text{EMA}} \leftarrow 0.999\,\theta_{\text{EMA}} + 0.001\,\theta$; samples come from $\theta_{\text{EMA}}$, which averages
#   away the oscillation of the adversarial game. The averaged weights never ran forward, so before sampling
#   their batch-norm statistics are re-estimated on 10,000 noise vectors (`recalibrate_batch_norm`; fewer
#   when the training set is smaller, as in fast mode).
#
# The loss is the same non-saturating loss and the step the same `gan_training_step` as the port's.

# %%
improved_dir = run_folder("mlp", BUDGET.train_subset, seed=0)
improved = train_gan("mlp", BUDGET.epochs, improved_dir, train_subset=BUDGET.train_subset, device=device)
describe_run(improved)
show_training(improved, "improved MLP GAN")

# %% [markdown]
# **Fused Adam, measured.** The same training step of the improved model, timed with Adam's fused kernel
# and with its per-tensor loop (fresh networks, alternating which goes first, median of three rounds):

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
# ### 6.2 The DCGAN at the same wall clock · 相同训练时间下的DCGAN
#
# The convolutional GAN, built with **your** up-block (exercise 5.2), trained for as many seconds of
# training as the improved model had (whole epochs while they fit; the epoch that reaches the budget is
# cut short there). Same data, batch size, loss and training step, the same moving average of G;
# what differs is what comes with each model: the architectures (the MLP's discriminator also has the
# minibatch standard deviation feature) and the learning rates (2e-4 for the DCGAN, 4e-4 for the MLP). The table and the sentence after it come from this run's numbers.

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
# ## 7. Memorization check · 记忆检查
#
# Top row: generated digits; bottom row: the closest of the 60,000 training images (pixel distance).
# The table above compares the median distance to the nearest training image with the same number
# for real *test* digits, which the generator never saw.

# %%
from aigc_course.evaluation import nearest_neighbour_pairs

show_images(nearest_neighbour_pairs(improved_samples, train_unit, n=12), nrow=12,
            title="improved samples (top) and their nearest training images (bottom)")
plt.show()

# %% [markdown]
# ## 8. Checkpoints and resuming · 断点续训
#
# Every epoch ends with `checkpoint.pt` written **atomically** (to a temporary file, then renamed), so a
# crash or a killed process never leaves half a checkpoint. It holds both networks, the moving average
# of G, both optimizers (Adam's moment estimates matter: without them the first steps after a restart
# use fresh, wrong step sizes), the number of completed epochs, the loss history and the RNG states
# (dropout masks and the order of the data continue as if nothing had happened).
#
# **Exercise 5.3.** Restore a training state from a checkpoint dictionary and return the epoch to run
# next. `checkpoint["epoch"]` counts *completed* epochs.

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
# The same logic inside `train_gan`, demonstrated: train the port for 2 epochs on 1,024 images without
# interruption; train it again in another folder but **interrupt it in the middle of epoch 2** (an
# exception after 3 batches stands in for a crash or Ctrl-C); then run the same call again, this time
# with **your** `restore_training_state` (exercise 5.3) doing the restoring. It resumes after epoch 1 and
# ends with exactly the same weights.

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
# ## 9. Exploring the generator · 交互探索
#
# **Latent walk.** The generator is a continuous function of $z$: the images along the straight line
# $z_t = (1-t)\,z_0 + t\,z_1$ morph from one digit into another. The sliders move a base noise vector
# along three random directions.

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
# **Epoch scrubber.** The same 64 noise vectors after each epoch, read back from the PNG files
# training saved: watch blobs become strokes, then digits.

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
# ## 10. The command line · 命令行
#
# The same code without a notebook, for instructors pre-training models and for anyone checking the
# figures of this chapter:
#
# ```bash
# python -m aigc_course train mlp --epochs 40 --out runs/mlp          # resumes if runs/mlp has a checkpoint
# python -m aigc_course sample --checkpoint runs/mlp/checkpoint.pt --n 10000 --out mlp.npy
# python -m aigc_course evaluate mlp.npy                              # JSON: IS, histogram, FD, neighbours
# ```
#
# Pointing `--out` at the folder this notebook uses (printed by the next cell) pre-trains for it:
# the notebook then loads the checkpoint instead of training.

# %%
print(f"python -m aigc_course train mlp --epochs {BUDGET.epochs} --out {improved_dir}"
      + (f" --train-subset {BUDGET.train_subset}" if BUDGET.train_subset else ""))
print(f"python -m aigc_course train gan --epochs {BUDGET.port_epochs} --out {port_dir}"
      + (f" --train-subset {BUDGET.train_subset}" if BUDGET.train_subset else ""))

# %% [markdown]
# ## 11. Closing note · 总结
#
# The figures of this run, measured above (in fast mode they come from a tiny budget and mean little):

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
# What these numbers say (each sentence below is chosen by the numbers of this run):

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
# **Reproducing the figures** outside the notebook (each command prints what it measured; `--threads 2`
# uses both cores of a 2-core machine, and `train` reports its training time and images per second):
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
# **Going further.** Train longer (the command resumes: `--epochs 80` continues a 40-epoch run); try
# the DCGAN on a GPU, where convolutions are cheap; or give both networks the digit label as a second
# input (a conditional GAN, 条件生成对抗网络), which turns mode coverage from something to hope for into
# something to ask for.
#
# **Next:** [06 · Applications, challenges and further reading · 应用、挑战与资源](06_applications_and_outlook.ipynb).
