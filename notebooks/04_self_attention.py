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
# # 04 · Self-attention · 自注意力机制
#
# In a sequence (a sentence, a melody, a row of image patches) the meaning of one element depends on
# the others. **Self-attention (自注意力机制)** lets every position build its new representation as a
# **weighted average** of all positions, with weights computed from how similar they are. It is the
# core operation of the Transformer, the architecture behind today's text, image and audio generators.
#
# This chapter follows the article's §3.3 (the algorithm), §4.2 (the formula) and §4.3 (a worked
# example). The article's worked example is wrong; here it is computed correctly, step by step, and
# the errata boxes show why the article's numbers cannot be right.
#
# **In this notebook:** 1. softmax, computed safely · 2. from the article's loop to matrices ·
# 3. the worked example done right · 4. why divide by $\sqrt{d}$ · 5. learned projections, multi-head
# attention, padding, cross-attention and the causal mask · 6. position, and a task learned with
# attention (reversing) · 7. Transformer blocks: residuals, LayerNorm placement, sorting · 8. what
# attention costs · 9. summary. Exercises 4.1-4.5 are on the way.

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
# ## 1. Softmax, computed safely · Softmax函数
#
# Attention turns similarity scores $s_1, \dots, s_n$ into weights with the **softmax**:
#
# $$\operatorname{softmax}_T(s)_j = \frac{e^{s_j / T}}{\sum_{k=1}^n e^{s_k / T}}.$$
#
# The weights are positive and sum to one, so $\sum_j w_j x_j$ is a weighted average. The
# **temperature** $T > 0$ sets how peaked they are: $T \to 0$ puts all weight on the largest score,
# $T \to \infty$ spreads it evenly. Written naively the formula breaks on large scores, because
# $e^{1000}$ does not fit in a float (float32 overflows above $e^{88.7}$):

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from aigc_course.config import budget, get_device, seed_everything

BUDGET = budget("attention")
device = get_device()
print("budget:", BUDGET, "| device:", device)

logits = torch.tensor([1000.0, 1001.0])
naive = torch.exp(logits) / torch.exp(logits).sum()
print("exp([1000, 1001]) =", torch.exp(logits).tolist(), "-> naive softmax =", naive.tolist())

# %% [markdown]
# The cure is one line of algebra. Multiplying numerator and denominator by $e^{-c}$ changes
# nothing, so $\operatorname{softmax}(s + c) = \operatorname{softmax}(s)$ for any constant $c$. Choose
# $c = -\max_j s_j$: the largest exponent becomes $e^0 = 1$, nothing overflows, and the denominator
# is at least 1, so nothing divides by zero either. Entries equal to $-\infty$ (used below to *mask*
# positions) get $e^{-\infty} = 0$, weight zero.
#
# **Exercise 4.1 (stable softmax).** Complete `softmax(x, dim=-1, temperature=1.0)`: along `dim`,
# subtract the maximum, divide by the temperature, exponentiate, normalize. Do not modify `x` in
# place, and raise `ValueError` when `temperature <= 0`.

# %%
def softmax(x: torch.Tensor, dim: int = -1, temperature: float = 1.0) -> torch.Tensor:
    """exp((x_i - max x) / T) / sum_j exp((x_j - max x) / T) along ``dim``; any shape, same shape out."""
    # Hint: x.amax(dim=dim, keepdim=True) is the maximum of each slice, shaped to broadcast against x.
    raise NotImplementedError("Exercise 4.1: stable softmax")


# %%
from aigc_course.checks.attention import check_softmax

softmax = check_softmax(softmax)

# %%
print("softmax([1000, 1001]) =", [round(v, 4) for v in softmax(logits).tolist()])
print("softmax of logits +-1e4:", softmax(torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])).tolist())
generator = seed_everything(4)
scores = torch.randn(6, generator=generator)
print(f"max |softmax(s + 100) - softmax(s)| = {(softmax(scores + 100) - softmax(scores)).abs().max():.2e}  "
      "(invariance to adding a constant)")
for temperature in (0.25, 1.0, 4.0):
    print(f"T = {temperature:<4}: softmax([1, 2, 3] / T) =",
          [round(v, 4) for v in softmax(torch.tensor([1.0, 2.0, 3.0]), temperature=temperature).tolist()])

# %% [markdown]
# ## 2. From the article's loop to matrices · 从循环到矩阵
#
# The article's §3.3 gives this pseudo-code:
#
# ```python
# for i in range(n):
#     for j in range(n):
#         w_ij = similarity(x_i, x_j)
#     output_i = sum(w_ij * x_j for j in range(n))
# ```
#
# > **⚠️ Errata · 勘误 (article §3.3).** The article: 「对于输入序列中的每个元素，计算它与其他元素之间的相似性权重……
# > 根据自注意力权重对输入序列中的每个元素进行加权求和」 and, in its code, `# 自注意力权重：[w1, w2, w3, ..., wn]`
# > ("for each element of the input sequence, compute its similarity weights with the other elements ...
# > sum every element of the input sequence weighted by the self-attention weights"; "self-attention
# > weights: [w1, ..., wn]"). Read as intended ($x_i$ = `x[i]`, $x_j$ = `x[j]`), the inner loop overwrites one variable
# > `w_ij`, so every term of `output_i` uses the *last* similarity $s(x_i, x_n)$; and the weights are
# > never normalized, so the output is not a weighted average at all (it grows with $n$ and with the
# > size of the inputs). The fix: keep a whole row of scores $s_{i1}, \dots, s_{in}$ (there is one
# > weight per *pair* $(i, j)$, an $n \times n$ matrix, not the "$[w_1, \dots, w_n]$" of its header),
# > turn the row into weights with a softmax, then sum. The next cell runs the article's code
# > (so read) on the inputs 1..5 with $s(a, b) = ab$: it returns $x_i \cdot x_5 \cdot \sum_j x_j$,
# > far outside the inputs' range.

# %%
from aigc_course.attention import article_pseudocode

print("article's pseudo-code, read as intended, on [1, 2, 3, 4, 5]:", article_pseudocode([1, 2, 3, 4, 5]))

# %% [markdown]
# The corrected loop, `attention_loops(q, k, v)` from the course package, is plain Python: a row
# of scores $s_{ij} = \text{scale} \cdot q_i \cdot k_j$, the softmax of that row (with the maximum
# subtracted), then the weighted sum of the values $v_j$. In self-attention the queries, keys and values
# all come from the same sequence; the article uses the inputs themselves for all three.

# %%
import inspect

from aigc_course.attention import attention_loops

print(inspect.getsource(attention_loops))

# %% [markdown]
# The loops compute one number at a time. Stacking the queries as rows of a matrix $Q$ (and the keys
# as $K$, the values as $V$) turns all $n \times m$ scores into one matrix product:
#
# $$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V,$$
#
# with the softmax taken along each row (over the keys). Section 4 explains the $\sqrt{d}$. A
# **mask** says which keys each query may use: where `mask[i, j]` is `False` the score is replaced
# by $-\infty$ before the softmax, so the weight is exactly 0 and the remaining weights still sum to one.
#
# **Exercise 4.2 (scaled dot-product attention).** Complete `scaled_dot_product_attention(q, k, v, mask=None)`
# for `q [..., Lq, d]`, `k [..., Lk, d]`, `v [..., Lk, dv]` and an optional bool `mask` that
# broadcasts to `[..., Lq, Lk]` (True = may attend). Return `(output [..., Lq, dv], weights [..., Lq, Lk])`.
# Use your `softmax`. (You may assume every query may attend to at least one key; the package
# version also handles the rest, see Section 5.)

# %%
def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(softmax(q k^T / sqrt(d), masked) v, weights); q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv]."""
    # Hint: k.transpose(-2, -1) swaps the last two dimensions; scores.masked_fill(~mask, float("-inf")).
    raise NotImplementedError("Exercise 4.2: scaled dot-product attention")


# %%
from aigc_course.checks.attention import check_attention

scaled_dot_product_attention = check_attention(scaled_dot_product_attention)

# %% [markdown]
# Three implementations, one answer: the loops, your vectorized version, and PyTorch's
# `torch.nn.functional.scaled_dot_product_attention`. The vectorized one is also much faster.

# %%
import torch.nn.functional as F

seed_everything(0)
q, k, v = torch.randn(64, 16), torch.randn(64, 16), torch.randn(64, 8)
start = time.perf_counter()
out_loops, w_loops = attention_loops(q, k, v)
loop_seconds = time.perf_counter() - start
start = time.perf_counter()
out_vec, w_vec = scaled_dot_product_attention(q, k, v)
vec_seconds = time.perf_counter() - start
print(f"max |loops - vectorized|  = {(out_loops - out_vec.double()).abs().max():.2e}")
print(f"max |vectorized - PyTorch| = {(out_vec - F.scaled_dot_product_attention(q, k, v)).abs().max():.2e}")
print(f"64 queries x 64 keys, d = 16: loops {1000 * loop_seconds:.1f} ms, vectorized {1000 * vec_seconds:.2f} ms")

# %% [markdown]
# ## 3. The worked example, done right · 示例说明（修正）
#
# The article's §4.3 takes the sequence $[1, 2, 3, 4, 5]$, each element a 1-dimensional feature
# vector $a_i = x_i$, with scores $a_i a_j$ and (§4.2)
#
# $$w_{ij} = \frac{e^{a_i a_j}}{\sum_{k=1}^{5} e^{a_i a_k}}, \qquad y_i = \sum_{j=1}^5 w_{ij}\, x_j.$$
#
# (With $d = 1$ the $1/\sqrt{d}$ scale is 1, so this *is* scaled dot-product attention.) For the
# first element, $a_1 a_j = j$, so $w_{1j} = e^j / (e^1 + e^2 + e^3 + e^4 + e^5)$. Every intermediate
# sum, computed:

# %%
from aigc_course.attention import worked_example

example = worked_example([1.0, 2.0, 3.0, 4.0, 5.0])
rows = ["| $j$ | $a_1 a_j$ | $e^{a_1 a_j}$ | $w_{1j}$ | $w_{1j} x_j$ |", "|---|---|---|---|---|"]
for j in range(5):
    rows.append(f"| {j + 1} | {example.scores[0, j]:g} | {example.exp_scores[0, j]:.4f} | "
                f"{example.weights[0, j]:.4f} | {example.weights[0, j] * example.inputs[j]:.4f} |")
rows.append(f"| **sum** | | **{example.row_sums[0]:.4f}** | **{example.weights[0].sum():.4f}** | "
            f"**{example.outputs[0]:.4f}** |")
display(Markdown("\n".join(rows)))
print("w_1j =", [round(w, 4) for w in example.weights[0].tolist()])
print(f"y_1 = sum_j e^j * j / sum_k e^k = {example.numerators[0]:.4f} / {example.row_sums[0]:.4f} = {example.outputs[0]:.4f}")

# %% [markdown]
# The other rows work the same way: row $i$ has scores $a_i a_j = i \cdot j$. The full weight matrix
# (row $i$ = how element $i$ spreads its attention), the softmax denominators, and the outputs:

# %%
print("weights w_ij (rows sum to 1):")
for i, row in enumerate(example.weights.tolist(), start=1):
    print(f"  i={i}: " + "  ".join(f"{w:.4f}" for w in row) + f"   | row sum {sum(row):.4f}"
          f" | denominator sum_k e^(a_{i} a_k) = {example.row_sums[i - 1]:.4e}")
print("y =", [round(y, 4) for y in example.outputs.tolist()])
x_col = example.inputs[:, None]  # [5, 1]: five positions, d = 1
out_yours, _ = scaled_dot_product_attention(x_col, x_col, x_col)
print(f"your scaled_dot_product_attention on the same inputs: max difference {(out_yours[:, 0] - example.outputs).abs().max():.1e}")

# %% [markdown]
# Every output lies between 1 and 5, as a weighted average of 1..5 must, and leans towards 5:
# the larger $a_i$, the more the score $a_i a_j$ favours the largest $a_j$.
#
# > **⚠️ Errata · 勘误 (article §4.3).** The article: 「对于第1个元素，计算与其他元素之间的相似性权重：
# > $w_{11} = \dots = \frac{e}{5e} = \frac{1}{5}$」, and for the weighted sum 「$y_1 = \dots = \frac{35}{5} = 7$」
# > ("for the first element, compute its similarity weights with the other elements: ..."). It writes $e^{1 \cdot j}$ as $j \cdot e$ and the
# > denominator $e^1 + \dots + e^5$ as $5e$, and concludes $w_{1j} = j/5$, i.e. weights
# > $\frac15, \frac25, \frac35, \frac45, 1$, then $y_1 = \frac{35}{5} = 7$. Every step is wrong:
# > - $e^{j} \neq j\,e$ (e.g. $e^5 \approx 148.41$, $5e \approx 13.59$), and the denominator is
# >   $\approx 233.20$, not $5e \approx 13.59$ (even with its own $j\,e$ it would be $15e$);
# > - its weights sum to **3**, but softmax weights always sum to **1**;
# > - with its own weights, $\sum_j w_{1j} x_j = 0.2 + 0.8 + 1.8 + 3.2 + 5 = 11$, not 7;
# > - and $y_1 = 7$ is larger than every input: a weighted average of 1..5 with positive weights
# >   summing to one cannot leave $[1, 5]$.
# >
# > The correct values are $w_{1\cdot} = [0.0117, 0.0317, 0.0861, 0.2341, 0.6364]$ and $y_1 = 4.4519$,
# > computed above. The next cell recomputes the article's claims.

# %%
from aigc_course.attention import article_claims

claims = article_claims()
print("article's weights w_1j = j/5:", claims.weights.tolist(), f"-> sum {claims.weights_sum:g} (softmax: 1)")
print(f"article's y_1 = {claims.claimed_y1:g}; its own weights give {claims.y1_from_its_weights:g}; "
      f"largest input 5 -> impossible for a weighted average")
print("true numerators e^j:", [round(t, 2) for t in claims.exp_terms.tolist()])
print("article's j * e:    ", [round(t, 2) for t in claims.article_terms.tolist()])
print(f"true denominator {claims.true_denominator:.2f} vs article's 5e = {claims.article_denominator:.2f}")

# %% [markdown]
# The same numbers as a picture, the article's case $T = 1$: the weights of the first element, and all
# five outputs against the inputs.

# %%
import ipywidgets as widgets

from aigc_course.attention import plot_worked_example

plot_worked_example(temperature=1.0, query=1)
plt.show()

# %% [markdown]
# **Explore.** The slider sets the temperature $T$ in $w_{ij} \propto e^{a_i a_j / T}$ (the inverse
# of a scale factor on the scores); the second picks the query $i$. Lower $T$: the weights collapse
# onto $x_5$ and every $y_i \to 5$. Higher $T$: they flatten towards $\frac15$ and $y_i \to 3$, the mean.
# The outputs never leave the grey band of the inputs.

# %%

def show_worked_example(temperature: float = 1.0, query: int = 1) -> None:
    plot_worked_example(temperature=temperature, query=query)
    plt.show()


widgets.interact(show_worked_example,
                 temperature=widgets.FloatLogSlider(value=1.0, base=10, min=-1.2, max=1.5, step=0.05,
                                                    description="T"),
                 query=widgets.IntSlider(value=1, min=1, max=5, description="query i"));

# %% [markdown]
# ## 4. Why divide by $\sqrt{d}$ · 为什么除以√d
#
# The article's formula has no scale; real attention divides the scores by $\sqrt{d}$. Why? If
# the $d$ components of a query $q$ and a key $k$ are independent with mean 0 and variance 1, then
# $q \cdot k = \sum_{t=1}^d q_t k_t$ is a sum of $d$ terms of variance 1: its variance is $d$, its
# standard deviation $\sqrt{d}$. With $d = 512$ typical scores differ by tens, the softmax puts almost
# all weight on one key, and its gradient $\operatorname{diag}(p) - p p^\top$ vanishes (it is 0 for a
# one-hot $p$), so the layer stops learning. Dividing by $\sqrt{d}$ brings the spread back to 1 at
# every $d$. Measured on random vectors, 16 keys per query:

# %%
from aigc_course.attention import plot_saturation, saturation_stats

stats = saturation_stats([1, 2, 4, 8, 16, 32, 64, 128, 256, 512], n_keys=16,
                         n_trials=BUDGET.saturation_trials, seed=0)
print(f"{'d':>4} | {'std q.k':>8} {'sqrt(d)':>8} | {'max weight':>10} {'scaled':>7} | {'1 - sum p^2':>11} {'scaled':>7}")
for i, d in enumerate(stats["dims"]):
    print(f"{d:>4} | {stats['score_std_unscaled'][i]:8.2f} {math.sqrt(d):8.2f} | "
          f"{stats['max_weight_unscaled'][i]:10.3f} {stats['max_weight_scaled'][i]:7.3f} | "
          f"{stats['jacobian_trace_unscaled'][i]:11.3f} {stats['jacobian_trace_scaled'][i]:7.3f}")
plot_saturation(stats, n_keys=16);

# %% [markdown]
# Without the scale the largest weight heads for 1 and the gradient signal $1 - \sum_j p_j^2$ (the
# trace of the softmax Jacobian) for 0 as $d$ grows; with it both stay close to their values at $d = 1$ (compare the printed rows).
# That is the whole reason for the "scaled" in scaled dot-product attention (Vaswani et al., 2017).
#
# ## 5. Learned projections, multi-head attention, masks, cross-attention · 查询/键/值、多头注意力、掩码、交叉注意力
#
# The article compares the inputs with themselves. A real layer first maps each input $x_i$ to three
# vectors with learned matrices: a **query** (查询) $q_i = x_i W_Q$ (what am I looking for?), a **key**
# (键) $k_i = x_i W_K$ (what do I contain?) and a **value** (值) $v_i = x_i W_V$ (what do I pass on?).
# Training then decides what "similar" means. `SelfAttention` is exactly that, around the function
# you wrote:

# %%
from aigc_course.attention import MultiHeadAttention, SelfAttention, TransformerBlock

seed_everything(0)
layer = SelfAttention(d_model=8, d_k=4)
tokens_x = torch.randn(2, 5, 8)  # [batch, positions, features]
out, weights = layer(tokens_x)
manual, _ = scaled_dot_product_attention(layer.w_q(tokens_x), layer.w_k(tokens_x), layer.w_v(tokens_x))
print("output", list(out.shape), "weights", list(weights.shape),
      f"| max |layer - your attention on its projections| = {(out - manual).abs().max():.1e}")

# %% [markdown]
# **Multi-head attention (多头注意力)** runs $H$ such heads side by side, each on a $d/H$-dimensional
# slice of the projections, so different heads can attend to different things; their outputs are
# concatenated and mixed by an output matrix $W_O$. The course's `MultiHeadAttention` matches PyTorch's
# `torch.nn.MultiheadAttention` once the weights are copied across (the tests check this for random
# sizes and masks):

# %%
import torch.nn as nn

seed_everything(1)
torch_mha = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
ours = MultiHeadAttention(d_model=16, n_heads=4).load_torch_weights(torch_mha)
mha_x = torch.randn(3, 7, 16)
expected, expected_weights = torch_mha(mha_x, mha_x, mha_x, average_attn_weights=False)
got, got_weights = ours(mha_x)
print(f"max |ours - nn.MultiheadAttention|: output {(got - expected).abs().max():.1e}, "
      f"weights {(got_weights - expected_weights).abs().max():.1e}; weights shape {list(got_weights.shape)} = [B, H, Lq, Lk]")

# %% [markdown]
# A model that **generates** a sequence one element at a time must not peek at elements it has not
# produced yet. The **causal mask** (因果掩码) allows query $i$ to attend to keys $j \le i$ only: itself and
# the past. With a bool mask, True means "may attend" (the convention of
# `torch.nn.functional.scaled_dot_product_attention`; careful, `nn.MultiheadAttention` uses the
# opposite, True = blocked).
#
# **Exercise 4.3 (the causal mask).** Complete `causal_mask(n, device=None)`: a bool tensor `[n, n]`,
# True where $j \le i$. Raise `ValueError` when `n < 1`.

# %%
def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Bool [n, n], True where key j <= query i (each position sees itself and the past)."""
    # Hint: torch.tril keeps the lower triangle of a matrix, diagonal included; mind the dtype.
    raise NotImplementedError("Exercise 4.3: the causal mask")


# %%
from aigc_course.checks.attention import check_causal_mask

causal_mask = check_causal_mask(causal_mask)
print(causal_mask(5).int())

# %% [markdown]
# With your mask, your attention gives the weights below: zero above the diagonal, each row still summing
# to one. `MultiHeadAttention(causal=True)` builds the same mask inside, and a pre-LayerNorm
# **Transformer block** (`TransformerBlock`: $h = x + \operatorname{MHA}(\operatorname{LN}(x))$, then
# $y = h + \operatorname{MLP}(\operatorname{LN}(h))$, causal by default; chapter 06 stacks these into a
# small text generator) inherits the property: changing the last token leaves every earlier output unchanged.

# %%
from aigc_course.attention import plot_attention

seed_everything(2)
q6, k6, v6 = torch.randn(6, 4), torch.randn(6, 4), torch.randn(6, 4)
_, causal_weights = scaled_dot_product_attention(q6, k6, v6, mask=causal_mask(6))
positions = [f"{i + 1}" for i in range(6)]
plot_attention(causal_weights, positions, positions, title="causal attention weights (random q, k)")
plt.show()
print("row sums:", [round(s, 4) for s in causal_weights.sum(-1).tolist()])

block = TransformerBlock(d_model=16, n_heads=4).eval()
block_x = torch.randn(1, 8, 16)
changed = block_x.clone()
changed[0, -1] = torch.randn(16)
with torch.no_grad():
    difference = (block(changed) - block(block_x)).abs().amax(-1)[0]
print("TransformerBlock, last token changed -> max change of each output position:",
      [f"{d:.1e}" for d in difference.tolist()])

# %% [markdown]
# **A fully masked row.** If a mask leaves a query no key at all, the softmax would divide 0 by 0.
# The course's rule (the same as `torch.nn.functional.scaled_dot_product_attention` in PyTorch >= 2.5): that query gets all-zero
# weights and a zero attention output (in `MultiHeadAttention`, zero before the output projection, so the
# result is $W_O$'s bias), and gradients stay finite. `nn.MultiheadAttention` instead returns a silent NaN:

# %%
mask = torch.ones(7, 7, dtype=torch.bool)
mask[2] = False  # query 3 may attend to nothing
torch_out, _ = torch_mha(masked_x := torch.randn(1, 7, 16), masked_x, masked_x, attn_mask=~mask)
our_out, our_weights = ours(masked_x, mask=mask)
print("nn.MultiheadAttention, query 3:", torch_out[0, 2, :4].tolist(), "...")
print("ours, query 3 weights:", our_weights[0, :, 2].sum(-1).tolist(), "(per head);",
      f"output equals W_O's bias: {torch.allclose(our_out[0, 2], ours.w_o.bias)}")

# %% [markdown]
# **Splitting and merging heads.** Inside multi-head attention the projected queries `[B, L, d]` are cut
# into $H$ heads of $d_h = d/H$ features: head $h$ owns features $h\,d_h, \dots, (h+1)\,d_h - 1$ of
# every position (PyTorch's layout), and each head attends on its own. Afterwards the heads' outputs
# are put back side by side, the exact inverse, before $W_O$.
#
# **Exercise 4.4 (splitting heads).** Complete `split_heads(x, n_heads)`: `[B, L, d]` -> `[B, H, L, d/H]`;
# raise `ValueError` when `d` is not divisible by `n_heads`.
#
# **Exercise 4.5 (merging heads).** Complete `merge_heads(x)`: `[B, H, L, d_h]` -> `[B, L, H * d_h]`, so
# that `merge_heads(split_heads(x, H))` gives `x` back.

# %%
def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """[B, L, d] -> [B, H, L, d / H]; head h holds features h * d/H .. (h + 1) * d/H - 1 of each position."""
    # Hint: reshape to [B, L, H, d/H] first (that keeps each head's features together), then swap L and H.
    raise NotImplementedError("Exercise 4.4: splitting heads")


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """[B, H, L, d_h] -> [B, L, H * d_h], the inverse of split_heads."""
    # Hint: undo the two steps of split_heads in reverse order (reshape needs L next to the batch again).
    raise NotImplementedError("Exercise 4.5: merging heads")


# %%
from aigc_course.attention import multi_head_attention
from aigc_course.checks.attention import check_split_heads
from aigc_course.checks.attention import check_merge_heads

split_heads = check_split_heads(split_heads)
merge_heads = check_merge_heads(merge_heads)
written_out, _ = multi_head_attention(ours, mha_x, split=split_heads, merge=merge_heads)
print(f"multi-head attention written out with your split_heads/merge_heads: max |difference| from "
      f"nn.MultiheadAttention {(written_out - expected).abs().max():.1e}")

# %% [markdown]
# **Padding (填充) and key-padding masks.** Sequences in a batch rarely have the same length; the short ones
# are padded to the longest with a dummy token. Nothing should attend to the padding, so the mask for a
# sequence of length $n$ allows keys $1..n$ only, for every query: `key_padding_mask(lengths, L)` gives
# `[B, 1, L]`, which broadcasts over queries and heads. (`nn.MultiheadAttention`'s `key_padding_mask` is
# `[B, L]` with the opposite convention, True = padding.) The test: change what the padding holds and the
# outputs at the real positions must not move.
#
# **Cross-attention (交叉注意力).** Nothing forces the queries and the keys to come from the same sequence.
# With queries from one sequence ($L_q$ positions) and keys and values from another ($L_k$ positions), the
# weights are $L_q \times L_k$ and each output is an average of the *other* sequence's values: this is how
# a translation model's decoder reads the encoded source sentence, or an image generator reads a prompt.

# %%
from aigc_course.attention import key_padding_mask

lengths = [7, 4, 2]
padding = key_padding_mask(lengths, 7)                       # [3, 1, 7], True = a real token
refilled = mha_x.clone()
refilled[~padding[:, 0]] = torch.randn(int((~padding).sum()), 16)  # new content at the padded positions only
with torch.no_grad():
    before, _ = ours(mha_x, mask=padding)
    after, _ = ours(refilled, mask=padding)
    torch_padded, _ = torch_mha(mha_x, mha_x, mha_x, key_padding_mask=~padding[:, 0])
real = padding[:, 0]
print(f"lengths {lengths}: max change at real positions when the padding changes {(after - before)[real].abs().max():.1e}; "
      f"vs nn.MultiheadAttention(key_padding_mask) {(before - torch_padded)[real].abs().max():.1e}")
source = torch.randn(3, 5, 16)                               # another sequence: 5 positions
cross, cross_weights = ours(mha_x, source, source)          # queries from mha_x, keys and values from source
torch_cross, _ = torch_mha(mha_x, source, source)
print(f"cross-attention: queries {list(mha_x.shape)}, keys/values {list(source.shape)} -> output {list(cross.shape)}, "
      f"weights {list(cross_weights.shape)}; max |ours - nn.MultiheadAttention| {(cross - torch_cross).abs().max():.1e}")

# %% [markdown]
# ## 6. Position, and a task learned with attention: reversing · 位置编码与序列反转
#
# **Attention does not know where a token is.** Permute the positions of the input and the scores,
# the weights and the outputs are permuted the same way: for any permutation $P$,
# $\operatorname{Attn}(Px) = P\,\operatorname{Attn}(x)$ (*permutation equivariance*, 置换等变性). To attention a
# sequence is a set. Word order matters in language, so the position must be put *into* the input:
# a **positional encoding** (位置编码) $p_t$ is added to the token's vector at position $t$. Two kinds:
#
# - **learned**: one trainable vector per position (`nn.Embedding(L, d)`), as in GPT;
# - **sinusoidal** (Vaswani et al., 2017): fixed, $p_{t,2i} = \sin(t\,\omega_i)$, $p_{t,2i+1} = \cos(t\,\omega_i)$ with
#   $\omega_i = 10000^{-2i/d}$: each pair of features is a clock turning at its own speed, defined for any $t$,
#   and moving by $k$ positions is a fixed rotation of each pair.
#
# Measured: the error $\max |f(Px) - P f(x)|$ of a multi-head attention layer, without and with positions added.

# %%
from aigc_course.attention import permutation_error, sinusoidal_positions

seed_everything(3)
set_x = torch.randn(2, 8, 16)
with_positions = lambda x: ours(x + sinusoidal_positions(8, 16))
print(f"multi-head attention, no positions: max |f(Px) - P f(x)| = {permutation_error(ours, set_x):.1e} (rounding)")
print(f"with sinusoidal positions added:    max |f(Px) - P f(x)| = {permutation_error(with_positions, set_x):.2f}")
fig, ax = plt.subplots(figsize=(8, 2.6))
image = ax.imshow(sinusoidal_positions(64, 32).T, aspect="auto", cmap="RdBu")
ax.set_xlabel("position t")
ax.set_ylabel("feature")
ax.set_title("sinusoidal positional encoding, d = 32 (even rows sin, odd rows cos)")
fig.colorbar(image, ax=ax)
plt.show()

# %% [markdown]
# **Reversing** a sequence of 8 digits, $[x_1, \dots, x_8] \mapsto [x_8, \dots, x_1]$, is pure *where to look*.
# The model is as small as possible: a token embedding plus a position embedding, **one** attention layer
# (one head, $d = 32$), and a linear read-out per position, with no residual connection. The only way output
# $i$ can know $x_{9-i}$ is for query $i$ to put its weight on key $9-i$. Training draws fresh random
# sequences at every step; a test set of sequences is drawn first and never used for training.

# %%
from aigc_course.attention import (AttentionSequenceModel, evaluate_sequence_task, parse_digits,
                                        plot_task_attention, task_test_set, train_sequence_task)
from aigc_course.plotting import plot_curves

LENGTH, VOCAB = 8, 10
seed_everything(0)
reverse_x, reverse_y, reverse_codes = task_test_set("reverse", BUDGET.test_size, LENGTH, VOCAB, seed=1)
reverser = AttentionSequenceModel(vocab=VOCAB, length=LENGTH, d_model=32, n_heads=1).to(device)
start = time.perf_counter()
reverse_history = train_sequence_task(reverser, "reverse", BUDGET.reverse_steps, lr=1e-2, seed=0,
                                      exclude=reverse_codes)
reverse_seconds = time.perf_counter() - start
reverse_token_acc, reverse_seq_acc = evaluate_sequence_task(reverser, reverse_x, reverse_y)
print(f"{BUDGET.reverse_steps} steps in {reverse_seconds:.1f} s; on {len(reverse_x)} unseen sequences: "
      f"{100 * reverse_token_acc:.2f}% of digits, {100 * reverse_seq_acc:.2f}% of whole sequences correct")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.3))
plot_curves({"training loss": reverse_history["train/loss"]}, x=reverse_history["train/step"], ax=axes[0], logy=True,
            ylabel="cross-entropy (nats)", title="reversal: loss")
plot_curves({"training batches": reverse_history["train/accuracy"]}, x=reverse_history["train/step"], ax=axes[1],
            ylabel="digit accuracy", title="reversal: accuracy")
plt.show()

# %%
plot_task_attention(reverser, reverse_x[0], "reverse")
plt.show()

# %% [markdown]
# Look for the anti-diagonal in the map: if the layer learned reversal, output 1 reads the last position,
# output 2 the one before, and so on. Nobody wrote that rule; gradient descent finds it because it is the
# only way to lower the loss.
#
# **Explore.** Type a sequence of 8 digits and switch the causal mask on: query $i$ may then look only at
# positions $1..i$, so the first four outputs cannot reach the digits they need and attention falls on
# the best allowed position. (A left-to-right text generator predicts each token from the ones before it,
# and that is why it needs the causal mask.)

# %%
def show_reversal(digits: str = "59483311", causal: bool = False) -> None:
    try:
        tokens = parse_digits(digits, LENGTH, VOCAB)
    except ValueError as err:
        print(err)
        return
    plot_task_attention(reverser, tokens, "reverse", causal=causal)
    plt.show()


widgets.interact(show_reversal, digits=widgets.Text(value="59483311", description="digits"),
                 causal=widgets.Checkbox(value=False, description="causal mask"));

# %%
causal_token_acc, causal_seq_acc = evaluate_sequence_task(reverser, reverse_x, reverse_y, causal=True)
print(f"the same trained model with a causal mask at test time: {100 * causal_token_acc:.2f}% of digits, "
      f"{100 * causal_seq_acc:.2f}% of sequences correct")

# %% [markdown]
# **Does the position matter? Measured.** The same model, the same steps, seed and learning rate, changing
# one thing: the positional encoding (learned as above, sinusoidal, or none at all).

# %%
reversal = {"learned": (reverse_token_acc, reverse_seq_acc)}
for position in ("sinusoidal", "none"):
    seed_everything(0)
    variant = AttentionSequenceModel(vocab=VOCAB, length=LENGTH, d_model=32, n_heads=1, position=position).to(device)
    train_sequence_task(variant, "reverse", BUDGET.reverse_steps, lr=1e-2, seed=0, exclude=reverse_codes, progress=False)
    reversal[position] = evaluate_sequence_task(variant, reverse_x, reverse_y)
display(Markdown("| positional encoding | digits correct | sequences correct |\n|---|---|---|\n" + "\n".join(
    f"| {name} | {100 * tok:.2f}% | {100 * seq:.2f}% |" for name, (tok, seq) in reversal.items())))
best_positioned = max(reversal["learned"][0], reversal["sinusoidal"][0])
print(f"without positions the model is {'far below' if reversal['none'][0] < best_positioned - 0.2 else 'not far below'} "
      f"the positioned ones ({100 * reversal['none'][0]:.1f}% vs {100 * best_positioned:.1f}% of digits): "
      "without positions an output depends on the digit at its own position and the set of digits, never on where it is")

# %% [markdown]
# ## 7. Transformer blocks: sorting · Transformer模块：排序
#
# Sorting is harder: output $i$ must find the $i$-th smallest digit, which depends on *what* every position
# holds, not just where it is. Two non-causal `TransformerBlock`s (one head each, $d = 32$) learn it:
# attention, an MLP and residual connections, the layer chapter 06 builds a text generator from.

# %%
seed_everything(0)
sort_x, sort_y, sort_codes = task_test_set("sort", BUDGET.test_size, LENGTH, VOCAB, seed=2)
sorter = AttentionSequenceModel(vocab=VOCAB, length=LENGTH, d_model=32, n_heads=1, n_blocks=2).to(device)
start = time.perf_counter()
sort_history = train_sequence_task(sorter, "sort", BUDGET.sort_steps, lr=3e-3, seed=0, exclude=sort_codes)
sort_seconds = time.perf_counter() - start
sort_token_acc, sort_seq_acc = evaluate_sequence_task(sorter, sort_x, sort_y)
print(f"{BUDGET.sort_steps} steps in {sort_seconds:.1f} s; on {len(sort_x)} unseen sequences: "
      f"{100 * sort_token_acc:.2f}% of digits, {100 * sort_seq_acc:.2f}% of whole sequences correct")
plot_curves({"training loss": sort_history["train/loss"]}, x=sort_history["train/step"], logy=True,
            ylabel="cross-entropy (nats)", title="sorting: loss")
plt.show()
plot_task_attention(sorter, sort_x[0], "sort")
plt.show()

# %% [markdown]
# Here the maps depend on the content. Does each output of the last layer look at the positions that hold
# the digit it must output? Measured on the unseen sequences: the attention mass that query $i$ puts on the
# keys holding its target digit, $\sum_j w_{ij}\,[x_j = y_i]$, averaged, for each layer, against what uniform
# weights would give (the share of positions holding that digit).

# %%
from aigc_course.attention import attention_to_matching_digits

for layer in range(2):
    mass, uniform = attention_to_matching_digits(sorter, sort_x, sort_y, layer=layer)
    print(f"layer {layer + 1}: attention mass on the positions holding the output digit {mass:.1%} "
          f"(uniform weights: {uniform:.1%}, {mass / uniform:.1f}x)")

# %% [markdown]
# ### Residual connections and where the LayerNorm goes · 残差连接与层归一化的位置
#
# Each block computes $h = x + \operatorname{MHA}(\ldots)$ and $y = h + \operatorname{MLP}(\ldots)$: a **residual
# connection** (残差连接) adds the sub-layer's output to its input, so the sub-layer only learns a
# *correction*, and the Jacobian of a block is $I + \partial F/\partial x$: the identity carries the signal
# and the gradient through the stack unchanged, whatever the sub-layers do. Without it, everything a later
# layer knows about the input must pass through every sub-layer, and so must every gradient. Measured: the
# sorting model trained again **without** the residual connections, everything else the same (seed, steps,
# learning rate, pre-LN).

# %%
seed_everything(0)
plain_sorter = AttentionSequenceModel(vocab=VOCAB, length=LENGTH, d_model=32, n_heads=1, n_blocks=2,
                                      residual=False).to(device)
plain_history = train_sequence_task(plain_sorter, "sort", BUDGET.sort_steps, lr=3e-3, seed=0, exclude=sort_codes)
plain_token_acc, plain_seq_acc = evaluate_sequence_task(plain_sorter, sort_x, sort_y)
print(f"sorting without residual connections: {100 * plain_token_acc:.2f}% of digits, {100 * plain_seq_acc:.2f}% of "
      f"sequences (with them: {100 * sort_token_acc:.2f}%, {100 * sort_seq_acc:.2f}%); final training loss "
      f"{plain_history['train/loss'][-1]:.3f} vs {sort_history['train/loss'][-1]:.3f}")

# %% [markdown]
# **Pre-LN or post-LN.** The original Transformer normalized *after* each residual sum,
# $h = \operatorname{LN}(x + \operatorname{MHA}(x))$ (**post-LN**); the course's block, like GPT-2 and most
# models since, normalizes the sub-layer's *input*, $h = x + \operatorname{MHA}(\operatorname{LN}(x))$ (**pre-LN**),
# which leaves the identity path untouched. Xiong et al. (2020) show that post-LN has large gradients near
# the output at initialization and needs a learning-rate warm-up; pre-LN trains without one. The sorting task,
# trained again with post-LN blocks, changing nothing else (same seed, steps, learning rate, no warm-up):

# %%
seed_everything(0)
post_sorter = AttentionSequenceModel(vocab=VOCAB, length=LENGTH, d_model=32, n_heads=1, n_blocks=2, norm="post").to(device)
post_history = train_sequence_task(post_sorter, "sort", BUDGET.sort_steps, lr=3e-3, seed=0, exclude=sort_codes)
post_token_acc, post_seq_acc = evaluate_sequence_task(post_sorter, sort_x, sort_y)
plot_curves({"pre-LN": sort_history["train/loss"], "post-LN": post_history["train/loss"],
             "pre-LN, no residuals": plain_history["train/loss"]}, x=sort_history["train/step"],
            logy=True, ylabel="cross-entropy (nats)", title="sorting: three kinds of block")
plt.show()
display(Markdown(f"| block | digits correct | sequences correct |\n|---|---|---|\n"
                 f"| pre-LN | {100 * sort_token_acc:.2f}% | {100 * sort_seq_acc:.2f}% |\n"
                 f"| post-LN | {100 * post_token_acc:.2f}% | {100 * post_seq_acc:.2f}% |"))
better = "pre-LN" if sort_seq_acc > post_seq_acc else "post-LN" if post_seq_acc > sort_seq_acc else "neither"
print(f"on this run: {better} sorted more whole sequences correctly (one seed each: a gap of a few points can be "
      "the luck of the seed; Xiong et al.'s difference is about stability in deep stacks at high learning rates)")

# %% [markdown]
# ## 8. What attention costs · 注意力的计算代价
#
# Every query meets every key: the scores are an $L \times L$ matrix per head, so their time and memory grow
# as $L^2$. The rest of a block (the projections and the MLP) grows as $L$. Per sequence, a block of width
# $d$ with an MLP of width $4d$ costs $24 L d^2$ FLOPs outside attention and $4 L^2 d$ in it, so the quadratic
# part overtakes the rest only beyond $L = 6d$. Measured on this machine for $d = 64$, 4 heads (one forward
# pass, best of three), beside the FLOP shares:

# %%
from aigc_course.attention import attention_crossover, block_flops, measure_block_cost

cost_lengths = [n for n in (16, 32, 64, 128, 256, 512, 1024, 2048) if n <= BUDGET.cost_max_length]
cost = measure_block_cost(cost_lengths, d_model=64, n_heads=4)
print(f"{'L':>5} | {'ms':>8} | {'weights MiB':>11} | {'attention share of FLOPs':>24}")
for n, seconds, mib in zip(cost["lengths"], cost["seconds"], cost["weights_mib"]):
    f = block_flops(64, n)
    print(f"{n:>5} | {1000 * seconds:8.2f} | {mib:11.3f} | {(f['scores'] + f['weighted sum']) / f['total']:24.1%}")
growth = cost["seconds"][-1] / cost["seconds"][-2]
print(f"from L = {cost_lengths[-2]} to {cost_lengths[-1]} the time grew {growth:.1f}x (linear: 2x, quadratic: 4x); "
      f"the attention weights grow exactly 4x per doubling; crossover L = 6d = {attention_crossover(64)}")
fig, ax = plt.subplots(figsize=(5, 3.3))
ax.loglog(cost["lengths"], cost["seconds"], "o-", label="measured forward time")
ax.set_xlabel("sequence length L")
ax.set_ylabel("seconds")
ax.set_title("one Transformer block, d = 64")
plt.show()

# %% [markdown]
# ## 9. Summary · 小结

# %%
display(Markdown(f"""
- Stable softmax: `softmax([1000, 1001])` = {[round(v, 4) for v in softmax(logits).tolist()]}, where the naive
  formula gave {naive.tolist()}.
- The article's worked example, corrected: $w_{{1\\cdot}}$ = {[round(w, 4) for w in example.weights[0].tolist()]},
  $y$ = {[round(y, 4) for y in example.outputs.tolist()]} (the article: weights summing to
  {claims.weights_sum:g} and $y_1 = {claims.claimed_y1:g}$).
- Without the $1/\\sqrt{{d}}$ scale, at $d = 512$ the largest of 16 weights averaged
  {stats['max_weight_unscaled'][-1]:.3f}; with it {stats['max_weight_scaled'][-1]:.3f}.
- **Reversal** (one attention layer, {BUDGET.reverse_steps} steps, {reverse_seconds:.1f} s here):
  {100 * reverse_token_acc:.2f}% of digits and {100 * reverse_seq_acc:.2f}% of sequences correct on
  {len(reverse_x)} unseen sequences; with a causal mask imposed, {100 * causal_token_acc:.2f}% of digits.
- **Position**: without a positional encoding attention is permutation-equivariant; reversal reached
  {100 * reversal['learned'][0]:.1f}% (learned), {100 * reversal['sinusoidal'][0]:.1f}% (sinusoidal) and
  {100 * reversal['none'][0]:.1f}% (none) of digits.
- **Sorting** (two Transformer blocks, {BUDGET.sort_steps} steps, {sort_seconds:.1f} s here):
  {100 * sort_token_acc:.2f}% of digits and {100 * sort_seq_acc:.2f}% of sequences correct on
  {len(sort_x)} unseen sequences with pre-LN blocks, {100 * post_seq_acc:.2f}% of sequences with post-LN;
  the last layer put {mass:.1%} of its attention on the positions holding the output digit (uniform: {uniform:.1%}).
- **Residuals**: without them the same sorter got {100 * plain_seq_acc:.2f}% of sequences right.
- **Cost**: at $L = d = 64$ attention's quadratic part is {(block_flops(64, 64)['scores'] + block_flops(64, 64)['weighted sum']) / block_flops(64, 64)['total']:.0%}
  of a block's FLOPs; it dominates only beyond $L = {attention_crossover(64)}$.
"""))

# %% [markdown]
# Self-attention is a softmax-weighted average whose weights the data decides: the outputs always
# stay inside the range of the values, temperature and scale decide how sharp the weights are,
# and masks decide who may look at whom. The course's `scaled_dot_product_attention` and `MultiHeadAttention`
# agree with PyTorch's to within $10^{-5}$ (see `tests/test_attention.py`).
#
# **Next:** [05 · The MNIST GAN project · 项目实战](05_mnist_gan_project.ipynb).
