"""Chapter 00: the course map and the corrected AIGC pipeline diagrams.

The article's §2 flowchart sends preprocessed data into both the generator and the
discriminator and lets the discriminator feed "generated content". That mixes two phases:

* **training** (GAN): real, preprocessed data goes to the discriminator only; the generator
  reads random noise; the discriminator's verdict becomes a loss whose gradients update both;
* **generation**: noise -> generator -> content. The discriminator no longer exists.

:func:`draw_pipelines` draws these phases separately, with the VAE and attention beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyBboxPatch

from ..validate import require_tensor


@dataclass(frozen=True)
class Chapter:
    number: str
    slug: str
    title: str
    title_zh: str
    article_sections: str
    study_minutes: int


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("00", "overview", "Welcome and overview", "欢迎与概览", "§1-2", 20),
    Chapter("01", "data_preprocessing", "Data preprocessing", "数据预处理", "§1.4.2, §2.1-2.2", 60),
    Chapter("02", "gan", "Generative adversarial networks", "生成对抗网络", "§3.1, §4.1.1", 75),
    Chapter("03", "vae", "Variational autoencoders", "变分自编码器", "§3.2, §4.1.2", 75),
    Chapter("04", "self_attention", "Self-attention", "自注意力机制", "§3.3, §4.2-4.3", 60),
    Chapter("05", "mnist_gan_project", "The MNIST GAN project", "项目实战", "§5", 90),
    Chapter("06", "applications_and_outlook", "Applications, challenges and further reading", "应用、挑战与资源", "§6-10", 75),
    Chapter("07", "diffusion", "Diffusion and flow matching", "扩散模型与流匹配", "beyond the article", 90),
)


def chapter_table_markdown() -> str:
    """The course map as a Markdown table."""
    rows = ["| # | Notebook | Chapter | 章节 | Article | Study time |", "|---|---|---|---|---|---|"]
    for c in CHAPTERS:
        rows.append(f"| {c.number} | `{c.number}_{c.slug}.ipynb` | {c.title} | {c.title_zh} | "
                    f"{c.article_sections} | ~{c.study_minutes} min |")
    return "\n".join(rows)


_COLOURS = {"data": "#dbe9f6", "model": "#fde2c8", "loss": "#f8d0d0", "out": "#d8f0d2", "noise": "#ece4f5"}


Box = tuple[float, float, float]  # centre x, centre y, width


def diagram_box(ax: plt.Axes, x: float, y: float, text: str, kind: str, width: float = 1.7, height: float = 0.62) -> Box:
    """A rounded box centred at (x, y); ``kind`` picks the colour: data, model, loss, out or noise."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.04",
                                facecolor=_COLOURS[kind], edgecolor="#444444", linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)
    return (x, y, width)


def diagram_arrow(ax: plt.Axes, start: Box, end: Box, text: str = "", colour: str = "#333333") -> None:
    """An arrow from the facing edge of box ``start`` to that of box ``end``, labelled above its middle."""
    sign = 1 if end[0] >= start[0] else -1
    tail = (start[0] + sign * (start[2] / 2 + 0.08), start[1])
    head = (end[0] - sign * (end[2] / 2 + 0.08), end[1])
    ax.annotate("", xy=head, xytext=tail, arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.2))
    if text:
        ax.text((tail[0] + head[0]) / 2, (tail[1] + head[1]) / 2 + 0.12, text, ha="center", va="bottom",
                fontsize=7.5, color=colour)


def diagram_panel(ax: plt.Axes, title: str, xlim: float = 10.0, ylim: float = 3.0) -> None:
    """Prepare an empty diagram axis of xlim x ylim units with a left-aligned title."""
    ax.set_xlim(0, xlim)
    ax.set_ylim(0, ylim)
    ax.set_axis_off()
    ax.set_title(title, fontsize=10, loc="left")


def draw_pipelines() -> plt.Figure:
    """Four panels: GAN training, GAN generation, VAE training and generation, attention's place.

    Figure text is English only: many machines (Colab included) have no CJK font for matplotlib.
    """
    fig, axes = plt.subplots(4, 1, figsize=(10, 10.5))

    ax = axes[0]
    diagram_panel(ax, "(a) GAN training: the discriminator exists only here")
    data = diagram_box(ax, 0.9, 2.3, "real data", "data", width=1.5)
    prep = diagram_box(ax, 3.0, 2.3, "preprocessing", "data", width=1.7)
    noise = diagram_box(ax, 0.9, 0.7, "noise z ~ N(0, I)", "noise", width=1.5)
    gen = diagram_box(ax, 3.0, 0.7, "generator G", "model", width=1.7)
    disc = diagram_box(ax, 6.0, 1.5, "discriminator D", "model", width=1.7)
    loss = diagram_box(ax, 8.8, 1.5, "loss\n(real vs fake)", "loss", width=1.5)
    diagram_arrow(ax, data, prep)
    diagram_arrow(ax, prep, disc, "real x")
    diagram_arrow(ax, noise, gen)
    diagram_arrow(ax, gen, disc, "fake G(z)")
    diagram_arrow(ax, disc, loss, "D(x), D(G(z))")
    ax.text(8.8, 0.75, "its gradients update D,\nthen G (through D)", ha="center", fontsize=7.5, color="#b03030")

    ax = axes[1]
    diagram_panel(ax, "(b) Generation: only the trained generator runs; no data, no discriminator")
    noise = diagram_box(ax, 1.5, 1.5, "noise z ~ N(0, I)", "noise")
    gen = diagram_box(ax, 4.5, 1.5, "trained G", "model")
    out = diagram_box(ax, 7.5, 1.5, "generated content", "out")
    diagram_arrow(ax, noise, gen)
    diagram_arrow(ax, gen, out)

    ax = axes[2]
    diagram_panel(ax, "(c) VAE: encoder and decoder trained jointly on one loss; generation uses the decoder alone")
    data = diagram_box(ax, 0.7, 2.2, "data x\n(preprocessed)", "data", width=1.3)
    enc = diagram_box(ax, 2.55, 2.2, "encoder q(z|x)", "model", width=1.6)
    z = diagram_box(ax, 5.4, 2.2, "z = mu + sigma * eps", "noise", width=1.9)
    dec = diagram_box(ax, 7.6, 2.2, "decoder p(x|z)", "model", width=1.6)
    elbo = diagram_box(ax, 9.4, 2.2, "-ELBO", "loss", width=1.0)
    diagram_arrow(ax, data, enc)
    diagram_arrow(ax, enc, z, "mu, log sigma^2")
    diagram_arrow(ax, z, dec)
    diagram_arrow(ax, dec, elbo)
    prior = diagram_box(ax, 4.9, 0.7, "z ~ N(0, I)", "noise", width=1.5)
    dec2 = diagram_box(ax, 7.6, 0.7, "decoder", "model", width=1.6)
    new = diagram_box(ax, 9.4, 0.7, "new x", "out", width=1.0)
    diagram_arrow(ax, prior, dec2, "generation")
    diagram_arrow(ax, dec2, new)

    ax = axes[3]
    diagram_panel(ax, "(d) Self-attention: a layer inside generators and decoders of sequences (text, audio, image patches)")
    tokens = diagram_box(ax, 1.0, 1.5, "tokens\nx_1 ... x_n", "data", width=1.5)
    qkv = diagram_box(ax, 3.5, 1.5, "Q, K, V =\nx W_q, x W_k, x W_v", "model", width=2.1)
    weights = diagram_box(ax, 6.3, 1.5, "softmax(Q K^T / sqrt(d))", "model", width=2.3)
    out = diagram_box(ax, 8.9, 1.5, "weights @ V\n(to next layer)", "out", width=1.6)
    diagram_arrow(ax, tokens, qkv)
    diagram_arrow(ax, qkv, weights)
    diagram_arrow(ax, weights, out)
    fig.tight_layout()
    return fig


def mean_digit_images(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The average image of each digit: ``[N, 28, 28]`` uint8 + ``[N]`` labels -> ``[10, 28, 28]`` in [0, 1].

    mean_c = (1 / |{i: y_i = c}|) * sum_{i: y_i = c} x_i / 255. Every digit must occur.
    """
    require_tensor("images", images, ndim=3)
    require_tensor("labels", labels, ndim=1, integer=True)
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be uint8, got {images.dtype}")
    if len(images) != len(labels):
        raise ValueError(f"images and labels must have the same length, got {len(images)} and {len(labels)}")
    if labels.numel() and (labels.min() < 0 or labels.max() > 9):
        raise ValueError("labels must be digits 0-9")
    counts = torch.bincount(labels, minlength=10)
    if (counts == 0).any():
        raise ValueError(f"labels must contain every digit 0-9; missing {torch.nonzero(counts == 0).flatten().tolist()}")
    sums = torch.zeros(10, *images.shape[1:]).index_add_(0, labels, images.float())
    return sums / counts.view(10, 1, 1) / 255.0
