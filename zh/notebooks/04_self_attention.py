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
# # 04 · 自注意力机制 · Self-attention
#
# 在一个序列（一句话、一段旋律、一排图像块）中，一个元素的含义取决于其他元素。**自注意力机制**（self-attention）让每个位置把所有位置的**加权平均**作为自己新的表示，权重由它们彼此的相似程度算出。它是 Transformer 的核心运算，而 Transformer 正是当今文本、图像和音频生成模型背后的架构。
#
# 本章跟随原文的 §3.3（算法）、§4.2（公式）和 §4.3（示例）。原文的示例算错了；这里一步一步地把它算对，勘误框则说明原文的数字为什么不可能正确。
#
# **本笔记本内容**：1. 安全地计算 softmax · 2. 从原文的循环到矩阵 · 3. 正确完成的示例 · 4. 为什么除以 $\sqrt{d}$ · 5. 可学习的投影、多头注意力、填充、交叉注意力和因果掩码 · 6. 位置，以及用注意力学习一个任务（序列反转） · 7. Transformer 模块：残差连接、LayerNorm 的位置、排序 · 8. 注意力的计算代价 · 9. 小结。练习 4.1-4.5 穿插其间。

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
# ## 1. 安全地计算 Softmax 函数 · Softmax, computed safely
#
# 注意力用 **softmax** 把相似度分数 $s_1, \dots, s_n$ 变成权重：
#
# $$\operatorname{softmax}_T(s)_j = \frac{e^{s_j / T}}{\sum_{k=1}^n e^{s_k / T}}.$$
#
# 这些权重都是正数，且总和为一，所以 $\sum_j w_j x_j$ 是一个加权平均。**温度**（temperature）$T > 0$ 决定权重有多集中：$T \to 0$ 时全部权重落在最大的分数上，$T \to \infty$ 时权重趋于均匀。照字面直接实现，这个公式遇到大的分数就会出错，因为 $e^{1000}$ 无法用浮点数表示（float32 在超过 $e^{88.7}$ 时溢出）：

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
# 解决办法只需一行代数。分子和分母同乘 $e^{-c}$ 不改变结果，所以对任意常数 $c$ 都有 $\operatorname{softmax}(s + c) = \operatorname{softmax}(s)$。取 $c = -\max_j s_j$：最大的指数项变成 $e^0 = 1$，不会溢出；分母至少为 1，也不会出现除以零。等于 $-\infty$ 的项（下文用它来*屏蔽*（mask）某些位置）得到 $e^{-\infty} = 0$，即权重为零。
#
# **练习 4.1**（数值稳定的 softmax）：补全 `softmax(x, dim=-1, temperature=1.0)`：沿 `dim` 减去最大值，除以温度，取指数，再归一化。不要原地修改 `x`；当 `temperature <= 0` 时抛出 `ValueError`。

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
# ## 2. 从原文的循环到矩阵 · From the article's loop to matrices
#
# 原文 §3.3 给出了这样的伪代码：
#
# ```python
# for i in range(n):
#     for j in range(n):
#         w_ij = similarity(x_i, x_j)
#     output_i = sum(w_ij * x_j for j in range(n))
# ```
#
# > **⚠️ 勘误 · Errata（原文 §3.3）**：原文写道：「对于输入序列中的每个元素，计算它与其他元素之间的相似性权重……根据自注意力权重对输入序列中的每个元素进行加权求和」，代码中还写着 `# 自注意力权重：[w1, w2, w3, ..., wn]`。按原意理解（$x_i$ = `x[i]`，$x_j$ = `x[j]`），内层循环反复覆盖同一个变量 `w_ij`，所以 `output_i` 的每一项用的都是*最后一个*相似度 $s(x_i, x_n)$；而且权重从未归一化，所以输出根本不是加权平均（它随 $n$ 和输入的大小而增长）。修正方法：保留一整行分数 $s_{i1}, \dots, s_{in}$（每一*对* $(i, j)$ 各有一个权重，构成一个 $n \times n$ 矩阵，而不是原文所写的“$[w_1, \dots, w_n]$”），用 softmax 把这一行变成权重，再求和。下一个单元格在输入 1..5 上、取 $s(a, b) = ab$，运行（按字面理解的）原文代码：它返回 $x_i \cdot x_5 \cdot \sum_j x_j$，远远超出输入的范围。

# %%
from aigc_course.attention import article_pseudocode

print("article's pseudo-code, read as intended, on [1, 2, 3, 4, 5]:", article_pseudocode([1, 2, 3, 4, 5]))

# %% [markdown]
# 修正后的循环，即课程包中的 `attention_loops(q, k, v)`，是纯 Python 代码：先算出一行分数 $s_{ij} = \text{scale} \cdot q_i \cdot k_j$，再对这一行取 softmax（减去最大值），最后对值 $v_j$ 加权求和。在自注意力中，查询、键和值都来自同一个序列；原文三者都直接使用输入本身。

# %%
import inspect

from aigc_course.attention import attention_loops

print(inspect.getsource(attention_loops))

# %% [markdown]
# 循环每次只算一个数。把查询按行堆叠成矩阵 $Q$（键堆叠成 $K$，值堆叠成 $V$），全部 $n \times m$ 个分数就变成一次矩阵乘法：
#
# $$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V,$$
#
# 其中 softmax 沿每一行（即对所有键）计算。第 4 节解释其中的 $\sqrt{d}$。**掩码**（mask）规定每个查询可以使用哪些键：在 `mask[i, j]` 为 `False` 的位置，分数在 softmax 之前被替换为 $-\infty$，于是该权重恰好为 0，其余权重之和仍然为一。
#
# **练习 4.2**（缩放点积注意力）：补全 `scaled_dot_product_attention(q, k, v, mask=None)`，输入为 `q [..., Lq, d]`、`k [..., Lk, d]`、`v [..., Lk, dv]`，以及一个可选的布尔掩码 `mask`，它可以广播到 `[..., Lq, Lk]`（True 表示可以关注）。返回 `(output [..., Lq, dv], weights [..., Lq, Lk])`。请使用你自己写的 `softmax`。（你可以假设每个查询至少可以关注一个键；课程包中的版本也处理了其余情况，见第 5 节。）

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
# 三种实现，同一个答案：循环版本、你的向量化版本，以及 PyTorch 的 `torch.nn.functional.scaled_dot_product_attention`。向量化版本还快得多。

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
# ## 3. 示例说明（修正） · The worked example, done right
#
# 原文 §4.3 取序列 $[1, 2, 3, 4, 5]$，每个元素是一个 1 维特征向量 $a_i = x_i$，分数为 $a_i a_j$，并且（§4.2）
#
# $$w_{ij} = \frac{e^{a_i a_j}}{\sum_{k=1}^{5} e^{a_i a_k}}, \qquad y_i = \sum_{j=1}^5 w_{ij}\, x_j.$$
#
# （当 $d = 1$ 时缩放因子 $1/\sqrt{d}$ 等于 1，所以这*就是*缩放点积注意力。）对第一个元素，$a_1 a_j = j$，所以 $w_{1j} = e^j / (e^1 + e^2 + e^3 + e^4 + e^5)$。下面算出每一个中间和：

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
# 其他各行的算法相同：第 $i$ 行的分数是 $a_i a_j = i \cdot j$。下面是完整的权重矩阵（第 $i$ 行表示元素 $i$ 如何分配它的注意力）、softmax 的分母以及输出：

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
# 每个输出都在 1 和 5 之间（1..5 的加权平均必然如此），并且偏向 5：$a_i$ 越大，分数 $a_i a_j$ 就越偏向最大的 $a_j$。
#
# > **⚠️ 勘误 · Errata（原文 §4.3）**：原文写道：「对于第1个元素，计算与其他元素之间的相似性权重：$w_{11} = \dots = \frac{e}{5e} = \frac{1}{5}$」，加权求和时又写道：「$y_1 = \dots = \frac{35}{5} = 7$」。原文把 $e^{1 \cdot j}$ 写成 $j \cdot e$，把分母 $e^1 + \dots + e^5$ 写成 $5e$，得出 $w_{1j} = j/5$，即权重为 $\frac15, \frac25, \frac35, \frac45, 1$，然后得到 $y_1 = \frac{35}{5} = 7$。每一步都是错的：
# > - $e^{j} \neq j\,e$（例如 $e^5 \approx 148.41$，而 $5e \approx 13.59$），分母是 $\approx 233.20$，而不是 $5e \approx 13.59$（即使按原文自己的 $j\,e$ 计算，也应该是 $15e$）；
# > - 原文的权重之和为 **3**，而 softmax 权重之和总是 **1**；
# > - 即使用原文自己的权重，$\sum_j w_{1j} x_j = 0.2 + 0.8 + 1.8 + 3.2 + 5 = 11$，也不是 7；
# > - 而且 $y_1 = 7$ 比每个输入都大：用和为一的正权重对 1..5 做加权平均，结果不可能超出 $[1, 5]$。
# >
# > 正确的值是 $w_{1\cdot} = [0.0117, 0.0317, 0.0861, 0.2341, 0.6364]$ 和 $y_1 = 4.4519$，上面已经算出。下一个单元格重新验算原文的说法。

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
# 把同样的数字画成图，即原文的情形 $T = 1$：第一个元素的权重，以及五个输出与输入的对比。

# %%
import ipywidgets as widgets

from aigc_course.attention import plot_worked_example

plot_worked_example(temperature=1.0, query=1)
plt.show()

# %% [markdown]
# **动手探索**：温度滑块（`T`）设置 $w_{ij} \propto e^{a_i a_j / T}$ 中的温度 $T$（即分数缩放因子的倒数）；第二个滑块（`query i`）选择查询 $i$。降低 $T$：权重向 $x_5$ 集中，每个 $y_i \to 5$。升高 $T$：权重趋于平坦、接近 $\frac15$，$y_i \to 3$，即均值。输出永远不会离开输入所在的灰色带。

# %%

def show_worked_example(temperature: float = 1.0, query: int = 1) -> None:
    plot_worked_example(temperature=temperature, query=query)
    plt.show()


widgets.interact(show_worked_example,
                 temperature=widgets.FloatLogSlider(value=1.0, base=10, min=-1.2, max=1.5, step=0.05,
                                                    description="T"),
                 query=widgets.IntSlider(value=1, min=1, max=5, description="query i"));

# %% [markdown]
# ## 4. 为什么除以√d · Why divide by $\sqrt{d}$
#
# 原文的公式没有缩放；真正的注意力会把分数除以 $\sqrt{d}$。为什么？如果查询 $q$ 和键 $k$ 的 $d$ 个分量相互独立、均值为 0、方差为 1，那么 $q \cdot k = \sum_{t=1}^d q_t k_t$ 是 $d$ 个方差为 1 的项之和：它的方差是 $d$，标准差是 $\sqrt{d}$。当 $d = 512$ 时，典型的分数相差几十，softmax 几乎把全部权重放在一个键上，它的梯度 $\operatorname{diag}(p) - p p^\top$ 趋于消失（对独热的 $p$ 它等于 0），于是这一层不再学习。除以 $\sqrt{d}$ 让分数的离散程度在任何 $d$ 下都回到 1。下面在随机向量上测量，每个查询对应 16 个键：

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
# 不做缩放时，随着 $d$ 增大，最大的权重趋向 1，梯度信号 $1 - \sum_j p_j^2$（softmax 雅可比矩阵的迹）趋向 0；做了缩放，两者都保持在 $d = 1$ 时的值附近（对比打印出的各行）。这就是缩放点积注意力中“缩放”（scaled）一词的全部理由（Vaswani et al., 2017）。
#
# ## 5. 查询/键/值、多头注意力、掩码、交叉注意力 · Learned projections, multi-head attention, masks, cross-attention
#
# 原文把输入与它们自身相比较。真正的注意力层先用可学习的矩阵把每个输入 $x_i$ 映射为三个向量：**查询**（query）$q_i = x_i W_Q$（我在找什么？）、**键**（key）$k_i = x_i W_K$（我包含什么？）和**值**（value）$v_i = x_i W_V$（我传递什么？）。于是“相似”意味着什么，由训练来决定。`SelfAttention` 正是如此，它包裹着你写的函数：

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
# **多头注意力**（multi-head attention）并排运行 $H$ 个这样的头，每个头处理投影的一个 $d/H$ 维切片，因此不同的头可以关注不同的东西；它们的输出拼接起来，再由输出矩阵 $W_O$ 混合。把权重复制过去之后，课程的 `MultiHeadAttention` 与 PyTorch 的 `torch.nn.MultiheadAttention` 结果一致（测试在随机的尺寸和掩码上检查这一点）：

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
# 逐个元素**生成**序列的模型，不能偷看它还没有生成的元素。**因果掩码**（causal mask）只允许查询 $i$ 关注满足 $j \le i$ 的键：它自己和过去的位置。对于布尔掩码，True 表示“可以关注”（这是 `torch.nn.functional.scaled_dot_product_attention` 的约定；注意，`nn.MultiheadAttention` 的约定正好相反，True 表示屏蔽）。
#
# **练习 4.3**（因果掩码）：补全 `causal_mask(n, device=None)`：返回一个形状为 `[n, n]` 的布尔张量，在 $j \le i$ 处为 True。当 `n < 1` 时抛出 `ValueError`。

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
# 用你的掩码，你的注意力给出下面的权重：对角线以上为零，每一行之和仍然为一。`MultiHeadAttention(causal=True)` 在内部构造同样的掩码；预归一化（pre-LayerNorm）的 **Transformer 模块**（`TransformerBlock`：$h = x + \operatorname{MHA}(\operatorname{LN}(x))$，然后 $y = h + \operatorname{MLP}(\operatorname{LN}(h))$，默认是因果的；第 06 章把它们堆叠成一个小型文本生成器）继承了这一性质：改变最后一个词元（token），之前的每个输出都保持不变。

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
# **完全被屏蔽的一行**：如果掩码没有给某个查询留下任何键，softmax 就要计算 0 除以 0。课程的规则（与 PyTorch >= 2.5 中的 `torch.nn.functional.scaled_dot_product_attention` 相同）是：这个查询的权重全为零，注意力输出也为零（在 `MultiHeadAttention` 中，是输出投影之前为零，所以结果是 $W_O$ 的偏置），而且梯度保持有限。`nn.MultiheadAttention` 则不声不响地返回 NaN：

# %%
mask = torch.ones(7, 7, dtype=torch.bool)
mask[2] = False  # query 3 may attend to nothing
torch_out, _ = torch_mha(masked_x := torch.randn(1, 7, 16), masked_x, masked_x, attn_mask=~mask)
our_out, our_weights = ours(masked_x, mask=mask)
print("nn.MultiheadAttention, query 3:", torch_out[0, 2, :4].tolist(), "...")
print("ours, query 3 weights:", our_weights[0, :, 2].sum(-1).tolist(), "(per head);",
      f"output equals W_O's bias: {torch.allclose(our_out[0, 2], ours.w_o.bias)}")

# %% [markdown]
# **拆分与合并注意力头**：在多头注意力内部，投影后的查询 `[B, L, d]` 被切成 $H$ 个头，每个头有 $d_h = d/H$ 个特征：头 $h$ 拥有每个位置的第 $h\,d_h, \dots, (h+1)\,d_h - 1$ 个特征（PyTorch 的布局），每个头各自计算注意力。之后，各个头的输出再并排拼回去（这是拆分的精确逆运算），然后才乘以 $W_O$。
#
# **练习 4.4**（拆分注意力头）：补全 `split_heads(x, n_heads)`：`[B, L, d]` -> `[B, H, L, d/H]`；当 `d` 不能被 `n_heads` 整除时抛出 `ValueError`。
#
# **练习 4.5**（合并注意力头）：补全 `merge_heads(x)`：`[B, H, L, d_h]` -> `[B, L, H * d_h]`，使 `merge_heads(split_heads(x, H))` 还原出 `x`。

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
# **填充与键填充掩码**（padding, key-padding mask）：一个批次中的序列很少一样长；较短的序列要用一个占位词元填充到最长序列的长度。任何位置都不应关注填充部分，所以对于长度为 $n$ 的序列，掩码对每个查询都只允许键 $1..n$：`key_padding_mask(lengths, L)` 给出 `[B, 1, L]`，它可以在查询和头的维度上广播。（`nn.MultiheadAttention` 的 `key_padding_mask` 形状为 `[B, L]`，约定相反，True 表示填充。）检验方法：改变填充位置上的内容，真实位置上的输出必须保持不变。
#
# **交叉注意力**（cross-attention）：没有什么要求查询和键必须来自同一个序列。当查询来自一个序列（$L_q$ 个位置），键和值来自另一个序列（$L_k$ 个位置）时，权重是 $L_q \times L_k$ 的矩阵，每个输出都是*另一个*序列的值的平均：翻译模型的解码器就是这样读取编码后的源语言句子的，图像生成模型也是这样读取提示词的。

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
# ## 6. 位置编码与序列反转 · Position, and a task learned with attention: reversing
#
# **注意力不知道词元在哪里**：把输入的位置打乱，分数、权重和输出也会以同样的方式被打乱：对任意置换 $P$，$\operatorname{Attn}(Px) = P\,\operatorname{Attn}(x)$（*置换等变性*，permutation equivariance）。在注意力看来，序列就是一个集合。而在语言中词序很重要，所以必须把位置信息放*进*输入里：在位置 $t$ 处，把一个**位置编码**（positional encoding）$p_t$ 加到词元的向量上。有两种：
#
# - **可学习的**：每个位置一个可训练的向量（`nn.Embedding(L, d)`），GPT 就是这样；
# - **正弦的**（Vaswani et al., 2017）：固定不变，$p_{t,2i} = \sin(t\,\omega_i)$，$p_{t,2i+1} = \cos(t\,\omega_i)$，其中 $\omega_i = 10000^{-2i/d}$：每一对特征都是一个以自己的速度转动的时钟，对任意 $t$ 都有定义，而移动 $k$ 个位置就是对每一对特征做一个固定的旋转。
#
# 下面测量一个多头注意力层的误差 $\max |f(Px) - P f(x)|$，分别在不加和加上位置编码的情况下。

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
# **序列反转**：把 8 个数字组成的序列反转，$[x_1, \dots, x_8] \mapsto [x_8, \dots, x_1]$，纯粹是*往哪里看*的问题。模型尽可能小：一个词元嵌入加一个位置嵌入，**一个**注意力层（单头，$d = 32$），每个位置一个线性读出层，没有残差连接。输出 $i$ 要知道 $x_{9-i}$，唯一的办法就是让查询 $i$ 把权重放在键 $9-i$ 上。训练的每一步都重新抽取随机序列；测试集的序列最先抽取，从不用于训练。

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
# 在注意力图中寻找反对角线：如果这一层学会了反转，输出 1 读取最后一个位置，输出 2 读取倒数第二个位置，依此类推。没有人写下这条规则；梯度下降找到了它，因为这是降低损失的唯一途径。
#
# **动手探索**：在文本框（`digits`）中输入一个由 8 个数字组成的序列，并勾选因果掩码（`causal mask`）：这时查询 $i$ 只能看位置 $1..i$，所以前四个输出够不到它们需要的数字，注意力落在允许范围内最好的位置上。（从左到右的文本生成器根据前面的词元预测每个词元，这正是它需要因果掩码的原因。）

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
# **位置重要吗？实测一下**：同样的模型、同样的步数、种子和学习率，只改变一件事：位置编码（如上所述的可学习编码、正弦编码，或者完全不用）。

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
# ## 7. Transformer 模块：排序 · Transformer blocks: sorting
#
# 排序更难：输出 $i$ 必须找到第 $i$ 小的数字，这取决于每个位置上*是什么*，而不只是它在哪里。两个非因果的 `TransformerBlock`（各一个头，$d = 32$）能学会它：注意力、MLP 和残差连接，正是第 06 章用来构建文本生成器的那种层。

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
# 这里的注意力图取决于内容。最后一层的每个输出，是否关注存放着它必须输出的那个数字的位置？在未见过的序列上测量：查询 $i$ 放在存放其目标数字的键上的注意力总量 $\sum_j w_{ij}\,[x_j = y_i]$，对每一层取平均，并与均匀权重会给出的值（存放该数字的位置所占的比例）相比较。

# %%
from aigc_course.attention import attention_to_matching_digits

for layer in range(2):
    mass, uniform = attention_to_matching_digits(sorter, sort_x, sort_y, layer=layer)
    print(f"layer {layer + 1}: attention mass on the positions holding the output digit {mass:.1%} "
          f"(uniform weights: {uniform:.1%}, {mass / uniform:.1f}x)")

# %% [markdown]
# ### 残差连接与层归一化的位置 · Residual connections and where the LayerNorm goes
#
# 每个模块计算 $h = x + \operatorname{MHA}(\ldots)$ 和 $y = h + \operatorname{MLP}(\ldots)$：**残差连接**（residual connection）把子层的输出加到它的输入上，于是子层只需学习一个*修正量*，而模块的雅可比矩阵是 $I + \partial F/\partial x$：无论子层做什么，恒等映射都把信号和梯度原样传过整个堆叠。没有残差连接，后面的层所知道的关于输入的一切都必须穿过每一个子层，每一个梯度也是如此。下面测量：**不带**残差连接重新训练排序模型，其他一切相同（种子、步数、学习率、pre-LN）。

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
# **Pre-LN 还是 post-LN**：原始的 Transformer 在每次残差求和*之后*做归一化，$h = \operatorname{LN}(x + \operatorname{MHA}(x))$（**post-LN**）；课程的模块和 GPT-2 以及此后的大多数模型一样，对子层的*输入*做归一化，$h = x + \operatorname{MHA}(\operatorname{LN}(x))$（**pre-LN**），这样恒等路径保持不变。Xiong et al. (2020) 表明，post-LN 在初始化时输出附近的梯度很大，需要学习率预热；pre-LN 不需要预热就能训练。下面用 post-LN 模块重新训练排序任务，其他都不改变（相同的种子、步数、学习率，不预热）：

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
# ## 8. 注意力的计算代价 · What attention costs
#
# 每个查询都要与每个键相遇：每个头的分数是一个 $L \times L$ 矩阵，所以它们的时间和内存按 $L^2$ 增长。模块的其余部分（投影和 MLP）按 $L$ 增长。对每个序列而言，宽度为 $d$、MLP 宽度为 $4d$ 的模块在注意力之外的计算量是 $24 L d^2$ FLOPs，在注意力之内是 $4 L^2 d$，所以只有在 $L = 6d$ 之后，二次项才会超过其余部分。下面在这台机器上对 $d = 64$、4 个头测量（一次前向传播，取三次中最好的一次），并列出 FLOPs 的占比：

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
# ## 9. 小结 · Summary

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
# 自注意力是一种由数据决定权重的 softmax 加权平均：输出始终落在值的范围之内，温度和缩放决定权重有多尖锐，掩码决定谁可以看谁。课程的 `scaled_dot_product_attention` 和 `MultiHeadAttention` 与 PyTorch 的实现相差不超过 $10^{-5}$（见 `tests/test_attention.py`）。
#
# **下一章**：[05 · MNIST GAN 项目实战 · The MNIST GAN project](05_mnist_gan_project.ipynb)。
