import re

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from aigc_course.course import glossary as glossary
from aigc_course.course import overview as overview
from aigc_course import plotting  # noqa: E402


def test_image_grid_layout_and_validation():
    images = torch.zeros(5, 28, 28)
    images[3] = 1.0
    grid = plotting.image_grid(images, nrow=3, padding=2)
    assert grid.shape == (2 * 30 + 2, 3 * 30 + 2)
    # image 3 sits in row 1, column 0
    assert grid[32:60, 2:30].min() == 1.0 and grid[2:30, 2:30].max() == 0.0
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        plotting.image_grid(images * 2 - 1.5)
    with pytest.raises(ValueError, match="one channel"):
        plotting.image_grid(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="nrow must be >= 1"):
        plotting.image_grid(images, nrow=0)


def test_plot_curves_validation():
    ax = plotting.plot_curves({"a": [3, 2, 1], "b": [1, 2, 3]})
    assert len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="non-empty mapping"):
        plotting.plot_curves({})
    with pytest.raises(ValueError, match="x has 2 points"):
        plotting.plot_curves({"a": [1, 2, 3]}, x=[1, 2])


def test_pipeline_figure_has_no_cjk_text_and_separate_phases():
    fig = overview.draw_pipelines()
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title(loc="left") for ax in fig.axes]
    assert not any(re.search("[\u4e00-\u9fff]", t) for t in texts), "figure text must render without CJK fonts"
    generation_panel = fig.axes[1]
    assert not any("discriminator" in t.get_text() for t in generation_panel.texts), \
        "the discriminator must not appear in the generation phase"


def test_chapter_table_and_glossary():
    table = overview.chapter_table_markdown()
    assert table.count("\n") == len(overview.CHAPTERS) + 1 and "数据预处理" in table
    full = glossary.glossary_markdown()
    for term in ("生成对抗网络", "变分自编码器", "自注意力机制", "数据增强", "过拟合", "交叉验证", "张量处理单元"):
        assert term in full
    vae_only = glossary.glossary_markdown("03")
    assert "ELBO" in vae_only and "data augmentation" not in vae_only
    assert "loss function" in glossary.glossary_markdown("04")  # chapter range 02-05
    with pytest.raises(ValueError, match="two-digit"):
        glossary.glossary_markdown("3")


def test_mean_digit_images_reference():
    labels = torch.arange(20) % 10
    images = torch.zeros(20, 28, 28, dtype=torch.uint8)
    images[10:] = 255
    means = overview.mean_digit_images(images, labels)
    assert means.shape == (10, 28, 28) and torch.allclose(means, torch.full_like(means, 0.5))
    with pytest.raises(ValueError, match="every digit"):
        overview.mean_digit_images(images[:9], labels[:9])
    with pytest.raises(TypeError, match="uint8"):
        overview.mean_digit_images(images.float(), labels)
