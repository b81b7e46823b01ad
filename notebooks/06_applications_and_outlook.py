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
# # 06 · Applications, challenges and further reading · 应用、挑战与资源
#
# The article ends (§6-§10) with lists: applications (实际应用场景), tools and resources (工具和资源推荐),
# trends and challenges (未来发展趋势与挑战), a FAQ (常见问题与解答) and references (参考资料). This
# chapter turns the lists into things you run, with the models of the earlier chapters:
#
# | Article | Here | Model |
# |---|---|---|
# | §6.1 image restoration (图像修复) | fill in hidden pixels, remove noise; measured against the original | chapter 03's VAE |
# | §6.2 text generation (文本生成) | a character-level Transformer trained in minutes on a text shipped with the course | chapter 04's Transformer blocks |
# | §6.3 audio generation (音频生成) | musical notes as 784-number vectors, learned and generated; playable | chapter 03's VAE, unchanged |
# | §8.2 challenges (挑战) | compute cost, memorization, generalization, detecting generated images, law and ethics | chapters 01, 03, 05 |
# | §7, §10 resources (资源) | every book, course, site and paper checked; errors corrected | - |
# | §9 FAQ | answered with pointers into the course | - |
#
# **In this notebook:** 1. image restoration · 2. text generation · 3. audio · 4. challenges,
# measured · 5. tools, resources and references, corrected · 6. FAQ · 7. summary.
# Exercises 6.1-6.4 are on the way. Every number printed is measured by this run; in fast mode
# (`AIGC_COURSE_FAST=1`) the models train far less and the numbers are worse.

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
# ## 1. Image restoration · 图像修复 (article §6.1)
#
# The article promises restored old photographs and removed noise. A VAE can do a small version of both,
# and the reason is worth seeing. Its decoder (chapter 03) can only draw images that look like training
# digits. So to complete a digit whose pixels are known only where a mask $m_j = 1$, search for the latent
# code that explains the **visible** pixels and is likely under the prior $p(z) = \mathcal{N}(0, I)$:
#
# $$z^\star = \arg\min_z \; \underbrace{\sum_j m_j \, \mathrm{BCE}\big(\ell_j(z), x_j\big)}_{-\log p(x_\text{visible} \mid z)} + \tfrac12 \lVert z \rVert^2 ,$$
#
# a maximum a posteriori (MAP) estimate, found with Adam on $z$ alone (the network's weights stay fixed),
# starting from the encoder's guess for the masked image. Then keep the known pixels and take the
# decoder's picture $\sigma(\ell(z^\star))$ for the hidden ones. Denoising is the same search with every
# pixel as (noisy) evidence: noise that no digit explains cannot be drawn, so it is left out (provided the
# likelihood describes the noise, as we will see).
#
# The model is chapter 03's convolutional VAE, loaded from the course's data cache if you ran that
# notebook; otherwise the same model is trained here, for fewer epochs.

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
# **Exercise 6.1 (the visible pixels' likelihood).** Complete `masked_bernoulli_nll(logits, target, visible)`:
# for logits, targets in $[0, 1]$ and a bool mask, all `[B, 1, 28, 28]`, return the `[B]` per-image sums of
# $\mathrm{BCE}(\ell_j, x_j)$ over the pixels where `visible` is True. Hidden pixels must not count, whatever
# their value.

# %%
import torch.nn.functional as F


def masked_bernoulli_nll(logits: torch.Tensor, target: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Per-image sum over visible pixels of BCE(logit, target): [B, 1, 28, 28] x 3 -> [B]."""
    # Hint: F.binary_cross_entropy_with_logits(logits, target, reduction="none") is per pixel.
    raise NotImplementedError("Exercise 6.1: masked likelihood")


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
# Read the table row by row. Leaving the hole empty ("masked input") is the error to beat, and painting the
# average digit into it is a stronger baseline than it looks. The encoder alone was trained on complete
# digits, never on masked ones: compare its column with the average digit's. Then compare the last column
# with all the others: does fitting $z$ to the visible pixels beat every baseline, for every kind of hole?
# The line above says which method won in this run (in fast mode the VAE is trained only briefly, and a
# baseline can win).
#
# The completion is a *likely* digit given what is visible, not the original: when the visible half of a 7
# could also begin a 9, the VAE may draw a 9. That is the honest limit of every restoration tool: what was
# hidden is guessed, never recovered, and a restored photograph should say which parts are guesses.
#
# **Denoising.** Add Gaussian noise of three strengths $s$ (clipped to $[0, 1]$) and ask the VAE for the digit
# that best explains each noisy picture. Which likelihood? The VAE was trained with a Bernoulli decoder, and
# under it a noisy grey background reads as faint ink everywhere. The corruption is Gaussian noise, so a
# better data term is $\sum_j (\tilde x_j - \sigma(\ell_j(z)))^2 / 2s^2$ (`gaussian_nll(s)`). But it is not the
# noise's exact likelihood: the noisy pixels were **clipped** to $[0, 1]$. A pixel that was 0 lands exactly on 0
# with probability 1/2, and most MNIST pixels are 0 (the table prints the share clipped). The exact likelihood of
# $\tilde x = \operatorname{clip}(x + s\varepsilon, 0, 1)$ with decoder mean $\mu$ is a *censored* Gaussian: the
# probability $\Phi(-\mu/s)$ for a pixel at exactly 0, $\Phi((\mu - 1)/s)$ at exactly 1, and the Gaussian
# density in between (`clipped_gaussian_nll(s)`). All three are tried; the error is measured on all pixels
# against the clean digit.

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
# Same network, three likelihoods: compare the fits in the figure, not only in the table. Which one gives
# back digits, and which one draws what the Bernoulli likelihood believes, faint ink everywhere? Look also
# for the failure that a low error hides: a clean-looking digit that is not the original (a noisy 4 that
# comes back as an 8, say). The encoder alone never saw noisy digits in training; compare its row too.
# Explore the completions one digit at a time (each change reruns the optimization):

# %%
def show_inpainting(index: int = 0, kind: str = "bottom half") -> None:
    inpainting_figure(vae, test_x[index], kind, steps=BUDGET.restore_steps)
    plt.show()


widgets.interact(show_inpainting, index=widgets.IntSlider(value=0, min=0, max=200, description="test digit"),
                 kind=widgets.Dropdown(options=MASK_KINDS, value="bottom half", description="hidden"));

# %% [markdown]
# ## 2. Text generation · 文本生成 (article §6.2)
#
# The article lists content creation, machine translation and chatbots. All three rest on one idea:
# a **language model** (语言模型) that gives the probability of the next token given the ones before,
#
# $$p(x_1, \dots, x_n) = \prod_{t=1}^{n} p(x_t \mid x_1, \dots, x_{t-1}),$$
#
# trained by maximum likelihood, that is by minimizing the cross-entropy $-\log p(x_{t+1} \mid x_{\le t})$
# in nats per token, and used by sampling one token at a time. Here the tokens are characters and the
# model is a small Transformer built from chapter 04's `TransformerBlock` with its causal mask.
#
# The text is the course's own: *The Workshop of Small Machines*, about 35,000 characters of stories
# written for this course (released with it under its MIT licence), shipped inside the package.
# The last 10% of it is kept aside as **validation text** that the model never trains on.

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
# ### The baseline that knows no context
#
# Before training anything, ask what a model that ignores context can do. The **unigram model**
# predicts every character with the same distribution, the character frequencies of the training text
# (add-$\alpha$ smoothed so that a character never seen in training still gets some probability):
#
# $$p(c) = \frac{n_c + \alpha}{N + \alpha V}, \qquad H_\text{unigram} = -\frac{1}{M}\sum_{i=1}^{M} \log p(v_i)$$
#
# for training counts $n_c$ ($N$ characters, $V$ symbols) and validation characters $v_1, \dots, v_M$.
# Whatever the Transformer gets below $H_\text{unigram}$ it has learned from context.
#
# **Exercise 6.2 (unigram baseline).** Complete `unigram_cross_entropy(train_ids, val_ids, vocab_size, smoothing)`,
# returning a Python float in nats (natural log) per character.

# %%
def unigram_cross_entropy(train_ids: torch.Tensor, val_ids: torch.Tensor, vocab_size: int,
                          smoothing: float = 1.0) -> float:
    """-mean_i log p(val_ids[i]) with p(c) = (n_c + smoothing) / (N + smoothing * vocab_size)."""
    # Hint: torch.bincount(train_ids, minlength=vocab_size) counts every character id.
    raise NotImplementedError("Exercise 6.2: unigram baseline")


# %%
from aigc_course.checks.applications import check_unigram_cross_entropy

unigram_cross_entropy = check_unigram_cross_entropy(unigram_cross_entropy)
unigram = unigram_cross_entropy(train_ids, val_ids, vocab.size)
print(f"unigram baseline on the validation text: {unigram:.3f} nats/char "
      f"(a uniform guess over {vocab.size} characters: ln {vocab.size} = {math.log(vocab.size):.3f})")

# %% [markdown]
# ### A character-level Transformer
#
# Each character id gets a learned embedding plus a learned position embedding; two causal Transformer
# blocks (chapter 04) mix each position with the ones before it; a linear layer gives one logit per
# character of the vocabulary. Training shows the model random 64-character windows of the training
# text and minimizes the cross-entropy of every next character (AdamW, learning rate warmed up, then
# cosine-decayed). The validation loss is measured on the held-out text, each character predicted
# once.

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
# A loss of $H$ nats per character means the model is, on average, as unsure as a fair choice among
# $e^{H}$ characters. The gap to the unigram line is what two attention layers learned from context:
# spelling, frequent words, where spaces and full stops go. The gap between the training and validation
# curves is what the model learned about *this* text that does not carry over to unseen text
# (generalization, Section 4.3 below). The target with the full budget is a validation loss at least 1 nat/char
# below the baseline; the line above says where this run ended (in fast mode training stops after a few
# dozen steps).
#
# ### Sampling: temperature and top-k
#
# To write, the model samples the next character from its distribution, appends it, and repeats.
# Two knobs shape the distribution before sampling. The **temperature** $T$ divides the logits,
# $p_T = \operatorname{softmax}(\ell / T)$: $T < 1$ sharpens the distribution toward the most likely
# character, $T > 1$ flattens it. **Top-k** keeps only the $k$ most likely characters and renormalizes,
# so that a rare, wrong character can never be drawn (Fan et al., 2018; see Section 5 for references).
#
# **Exercise 6.3 (sampling distribution).** Complete `next_char_probabilities(logits, temperature, top_k)`:
# logits `[..., V]` to probabilities `[..., V]`. Keep the `top_k` largest logits (all of them when
# `top_k` is `None` or at least $V$), give the others probability 0, and apply the softmax at
# temperature $T$. (Chapter 04's `softmax(x, dim, temperature)` gives entries equal to $-\infty$ weight 0.)

# %%
from aigc_course.attention import softmax


def next_char_probabilities(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """softmax(logits / T) restricted to the top_k largest logits; shape [..., V] in and out."""
    # Hint: logits.topk(k, dim=-1).indices are the positions to keep; masked_fill(..., float("-inf")) the rest.
    raise NotImplementedError("Exercise 6.3: temperature and top-k")


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
# Compare the three samples: at low temperature look for the most word-like text and for repetition, at
# high temperature for strings that are not words. Neither setting is "correct": it depends on whether you
# want safe or surprising text.
#
# **Does the model copy its book?** (A preview of Section 4.2.) Find the longest stretch of a long sample that
# appears word for word in the training text, and compare with the same measurement for the validation
# text, which was written by a person and never seen by the model: ordinary English shares phrases too.

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
# Try the knobs yourself (moving a slider samples again):

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
# Characters outside the vocabulary (digits, for instance) raise an error naming them: the model has
# no embedding for a character it never saw.

# %% [markdown]
# ## 3. Audio · 音频生成 (article §6.3)
#
# The article lists music, speech synthesis and audio repair. Underneath all three: **a waveform is
# data**, a list of air-pressure values sampled thousands of times a second, and the models of this
# course can learn such lists as they learn pixels. To make the point literally, the course's notes have
# exactly as many numbers as an MNIST digit has pixels: 784 samples at 4,000 samples per second, 0.196 s
# of sound. Each is a plucked note, one of the eight notes C4-C5 of the C-major scale, with its octave
# overtone, a random loudness and a random decay:
#
# $$x(t) = a\, e^{-t/\tau} \big(\sin 2\pi f t + 0.3 \sin 4\pi f t\big) / 1.3 .$$
#
# Press play (the player resamples to 16 kHz, which every browser supports; it does not normalize
# loudness, so quiet notes stay quiet).

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
# To check what a model generates we need to *measure* pitch, not guess it by ear. The strongest
# frequency in the spectrum does it: subtract the mean, taper the ends with a Hann window (so that
# cutting the note off does not smear the spectrum), take the magnitude of the real FFT, and find the
# largest bin $k \ge 1$ (bin 0 is the constant part); bin $k$ is the frequency $k \cdot f_s / T$ for
# $T$ samples at rate $f_s$.
#
# **Exercise 6.4 (pitch from the spectrum).** Complete `dominant_frequency(wave, sample_rate)` for
# waveforms `[..., T]`, returning frequencies in Hz `[...]`.

# %%
def dominant_frequency(wave: torch.Tensor, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Frequency (Hz) of the largest non-constant rfft bin of (x - mean) * hann(T), for waves [..., T]."""
    # Hint: torch.hann_window(T, dtype=torch.float64) and torch.fft.rfft(..., dim=-1).abs().
    raise NotImplementedError("Exercise 6.4: pitch from the spectrum")


# %%
from aigc_course.checks.applications import check_dominant_frequency

dominant_frequency = check_dominant_frequency(dominant_frequency)
measured_notes, measured_cents = cents_from_nearest_note(dominant_frequency(test_waves))
print(f"pitch measured on {len(test_waves)} synthesized test notes: {(measured_notes == test_note_ids).float().mean():.1%} "
      f"identified as the note played, mean |error| {measured_cents.abs().mean():.1f} cents "
      f"(one FFT bin = {SAMPLE_RATE / test_waves.shape[1]:.1f} Hz)")

# %% [markdown]
# ### The chapter-03 VAE, learning sound
#
# Chapter 03's `MLPVAE` (the pytorch/examples model) expects 784 values in $[0, 1]$. A note is 784 values in
# $[-1, 1]$; map them with $u = (x + 1)/2$ and train the model unchanged, with the same `train_vae`. Its
# Bernoulli decoder is not a natural model of sound (it is not a natural model of grey pixels either,
# and chapter 03 discusses why it still works); a small latent space (4 dimensions) is enough for
# notes that vary only in pitch, loudness and decay.

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
# Listen and compare the two melodies, then read the measurements. Decoded from random codes, the VAE's
# notes are notes of the scale (the share "within 50 cents" says how many), but the bar chart shows
# whether all eight pitches come out equally often, and the loudness line whether they are as loud as
# the real ones. The decoder outputs the *mean* of what a code could mean; where codes are ambiguous, that
# mean is an average of notes of different pitch and decay, whose waves partly cancel: a quieter note.
# Real audio generators model tens of thousands of samples per second (WaveNet, in Section 5, generates them one
# sample at a time, as the text model above generates characters).

# %% [markdown]
# ## 4. Challenges, measured · 面临的挑战 (article §8.2)
#
# The article names four challenges: compute, data quality and diversity, overfitting and
# generalization, ethics and law. The first three can be measured on this machine, with the course's
# own models; the fourth cannot, and gets a short, sober section of its own.
#
# ### 4.1 Compute cost · 计算资源
#
# "AIGC needs a lot of compute" is true of the large models in the news; here is what the course's own
# models cost **on your machine**. Each row times one optimizer step on a batch of 64 (64 images, or 64
# windows of 64 characters), averaged over several steps after a warm-up; the last column is what the
# trainings in this notebook actually took.

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
# Parameter count and cost per example need not be proportional: a convolution reuses each weight at every
# position of the image (compare the ConvVAE and MLPVAE rows), and the CharTransformer uses each of its
# weights at each of the 64 positions of a window. Is its time spent in attention, whose cost grows with the
# square of the context length? Counted, not guessed: the forward FLOPs of one of its blocks
# ($L = 64$ positions, width $d = 64$, MLP width $4d$), by part (chapter 04, Section 8, derives them):

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
# So at this size the bill is paid by the dense layers (the MLP and the projections), not by the $L^2$ term;
# the quadratic term takes over in long contexts, which is why long-context models work so hard on attention.
# Multiply the time per example by the size of a dataset and the number of epochs, and you have the bill:
# chapter 05's GAN sees 60,000 images per epoch. The large generators in the news are many orders of
# magnitude larger in all three (parameters, data, steps), which is why they are trained on clusters of
# accelerators, not laptops.

# %% [markdown]
# ### 4.2 Memorization: are generated digits copies? · 记忆与复制
#
# The samples come from chapter 05's improved MLP GAN. If you ran chapter 05, its trained run is in the
# course's data cache and is loaded; otherwise the same model is trained here, for fewer epochs (and
# chapter 05 will later resume from it).
#
# For each generated digit, find the training digit nearest to it in pixel space (chapter 05's
# `nearest_neighbours`). A distance near 0 would be a copy. But what distance counts as "far"? Measure
# the same thing for real **test** digits, which the GAN never saw: their distance to the nearest training
# digit is what "a new digit" looks like.

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
# If the GAN copied training digits, its histogram would pile up near zero, left of the real digits'.
# Compare the medians and the closest pairs above: are the GAN's closest samples closer to the training
# set than the closest real unseen digits are? This check only catches near-copies in pixel space, of
# training images you have; a shifted or recoloured copy would pass it (Carlini et al., 2023, use
# stronger tests on large image models).

# %% [markdown]
# ### 4.3 Generalization: the gap between training and test ELBO · 泛化
#
# A model that fits its training data better than new data is **overfitting** (过拟合). For a VAE the
# likelihood is bounded by the ELBO, so the **gap** between the negative ELBO on test and on training images
# measures overfitting. It is not a test of memorization as such: a gap says the model prefers the images it
# was trained on, not that it reproduces them (Section 4.2 looks for copies directly). Train chapter 03's
# `MLPVAE` twice, for the same number of steps, on 500 and on 5,000 training digits, and measure both sets
# after every epoch. The `MLPVAE` has no dropout, so training and evaluation mode compute the same function;
# the training curve below is the running mean over each epoch (the weights still changing, a fresh $z$ per
# image), and the printed numbers are evaluated after training on the whole set.

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
# In the curves, look for the epoch after which the training curve keeps falling while the test curve
# flattens: from there on, the widening gap is overfitting. Then compare the two gaps printed above: what
# did ten times more data, for the same compute, do to it? This is the article's "overfitting and
# generalization" challenge (§8.2, item 3) in numbers, and why held-out data is the only honest judge
# (chapter 01 uses the same idea for a classifier).

# %% [markdown]
# ### 4.4 Detecting generated images · 检测生成内容
#
# Train chapter 01's classifier to answer one question: real digit or GAN sample? Real test digits and GAN
# samples, shuffled, 70% to train the detector, 30% held out to measure it. 50% accuracy would mean the
# samples are indistinguishable (for this detector).

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
# The detector learns whatever statistical difference separates the two sets, not "fakeness" itself. So its
# accuracy says how far *this* generator is from the data, for *this* detector, today: a better generator,
# or one it never saw, may pass it. (Wang et al., 2020, found that a detector trained on one image generator
# transferred surprisingly well to others, and still titled the paper "... for now".) A detector's verdict
# is evidence, never proof.

# %% [markdown]
# ### 4.5 Data quality and diversity · 数据质量和多样性
#
# A generative model reproduces its training distribution, including its gaps and biases: the audio VAE
# above can only ever play the eight notes it heard, and an MNIST GAN only draws handwriting like
# MNIST's. Chapter 01 measures what cleaning and augmenting data does; the story "The Orchard Keeper's
# Ledger" in this chapter's text corpus tells the same lesson as a fable.
#
# ### 4.6 Copyright, privacy and misuse · 版权、隐私与滥用
#
# These are questions of law and ethics more than of code, and the answers differ between countries and
# change quickly; this course gives no legal advice. What the measurements above do show:
#
# - **Training data can come back out.** A model that memorizes (4.3) can reproduce training examples;
#   for large image models this has been demonstrated with real photographs of people and with
#   trademarked logos (Carlini et al., 2023). Nearest-neighbour checks (4.2) catch near-copies of
#   *training* images, and only those.
# - **Consent and licences matter before training**, not after. Whether a text, image or voice may be
#   used to train a model depends on its licence and on the law where you are; "publicly visible" does
#   not mean "free to use". Keep a record of what a model was trained on (this course's corpus says in
#   its second line where it comes from).
# - **Privacy.** Faces, voices and personal text are personal data in many jurisdictions. A generator
#   trained on them can leak them (memorization) or imitate real people.
# - **Misuse.** Generated images, voices and text can impersonate, deceive or harass. Say plainly when
#   content is generated; never put words or acts in a real person's mouth. Detectors help but are not
#   a safeguard: the detector in 4.4 is only as good as the generators it was trained on.
#
# ### 4.7 Trends (article §8.1), soberly · 发展趋势
#
# The article predicts better algorithms, multimodal generation, personalization and real-time use.
# Two developments the article does not mention shape the field today: **Transformers** scaled up into
# large language models (Vaswani et al., 2017, is where the architecture of Section 2 comes from), and
# **diffusion models** (Ho, Jain and Abbeel, 2020), the family behind most current image generators,
# trained to undo noise step by step (the restoration of Section 1 is a distant cousin). Both are trained with
# likelihood-based objectives like the ones measured in this chapter, and scaling them up makes the
# challenges above (cost, memorization, consent, detection) larger, not smaller.

# %% [markdown]
# ## 5. Tools, resources and references, corrected · 工具和资源推荐、参考资料 (article §7, §10)
#
# Every book, course, site, tool and paper the article recommends was checked against its publisher,
# proceedings or own site while this chapter was written. The data live in `aigc_course/references.py`,
# each entry with a note of where it was checked; what could not be verified is not recommended.
#
# > **⚠️ Errata · 勘误 (article §7.1-§7.3, §10).** The article: 「“InfoGAN: Interpretable Representation Learning by
# > Information Maximizing” (Tao Xu et al.)」, 「“StyleGAN: Efficient Image Synthesis with Style-Based Generative
# > Adversarial Networks” (Tao Xu et al.)」, DCGAN as 「变分自编码器（VAE）的改进版本」 ("an improved version of the
# > variational autoencoder"), 「《Python深度学习》（FrancescoPierro、Lukasz Adamusiak、Wrachford 著）」 and Keras as
# > 「一款基于TensorFlow和Theano的开源深度学习库」 ("an open-source deep-learning library based on TensorFlow and
# > Theano"). Several of the article's references are wrong, some badly. InfoGAN is by Chen, Duan, Houthooft, Schulman, Sutskever and Abbeel (NIPS 2016), not "Tao Xu et
# > al., ICCV 2018"; StyleGAN is Karras, Laine and Aila, "A Style-Based Generator Architecture for
# > Generative Adversarial Networks" (CVPR 2019), not an invented title by "Tao Xu et al."; DCGAN (Radford,
# > Metz and Chintala, 2015) is a convolutional **GAN**, not "an improved VAE"; 《Python深度学习》 is
# > François Chollet's *Deep Learning with Python*, not a book by three invented authors; Keras no longer
# > runs on Theano, whose development ended in 2017. The table lists every correction.

# %%
from aigc_course.course import corrections_markdown, dropped_markdown, references_markdown

display(Markdown(corrections_markdown()))
display(Markdown("**Not recommended** (could not be verified):\n\n" + dropped_markdown()))

# %% [markdown]
# ### Papers · 论文
#
# The article's references, corrected, then what it omits and a learner needs next.

# %%
display(Markdown("**Cited by the article (corrected):**\n\n" + references_markdown(kind="paper", origin="article")))
display(Markdown("**Added by the course:**\n\n" + references_markdown(kind="paper", origin="added")))

# %% [markdown]
# ### Books, courses, sites and tools · 书籍、课程、网站与工具

# %%
for kind, title in (("book", "Books"), ("course", "Courses"), ("site", "Sites and demos"), ("tool", "Tools")):
    display(Markdown(f"**{title}:**\n\n" + references_markdown(kind=kind)))

# %% [markdown]
# ## 6. FAQ, answered with the course · 常见问题与解答 (article §9)
#
# **9.1 What is AIGC?** Content (text, images, audio) sampled from a generative model $p_\theta(x)$ learned
# from examples. Chapter 00 defines it; chapters 02-05 build the three families the article names, and
# this chapter adds the autoregressive language model (Section 2) that most text generators are.
#
# **9.2 Where is it used?** The article's list (§6) is broad; Sections 1-3 of this chapter run small, measured
# versions of image restoration, text generation and sound generation. For each, ask what was measured
# and against which baseline: the tables above are the template.
#
# **9.3 How do you build an AIGC model?** The article's five steps are right in outline: data
# (chapter 01), model choice (02-05), training, evaluation (05, and Section 4 here), deployment.
#
# > **⚠️ Errata · 勘误 (article §9.3).** The article's step 3: 「使用预处理后的训练数据训练生成模型，通过交替训练生成器和
# > 判别器，提高生成质量」 ("train the generative model on the preprocessed data, by alternately training the
# > generator and the discriminator, to improve the quality of what it generates"). That describes GANs only (chapters 02 and 05). A VAE trains its
# > encoder and decoder **jointly**, one loss and one optimizer step (chapter 03); the text model of Section 2
# > has no discriminator at all and is trained by maximum likelihood, as are diffusion models.
#
# **9.4 What are the challenges?** Compute, data, generalization, law and ethics: Section 4 above measures the
# first three on your machine and discusses the fourth.

# %% [markdown]
# ## 7. Summary · 小结
#
# What this run measured (numbers from the cells above; with `AIGC_COURSE_FAST=1` every model is trained
# briefly and the numbers are worse):

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
# Each application in the article's §6 is, underneath, one of three models you have now built and measured:
# a VAE (restoration, sound), a GAN (images), an attention-based language model (text). Each challenge in
# §8 is something you can measure before you believe it. And every reference in §10 can be checked: the
# ones above were.
#
# **Back to the start:** [00 · Welcome and overview · 欢迎与概览](00_overview.ipynb).
