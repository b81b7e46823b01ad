"""Chapter 04: the article's worked example done right, its errata, the sqrt(d) demo, widget figures."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from aigc_course.attention.layers import attention_loops, scaled_dot_product_attention  # noqa: E402
from aigc_course.attention.demos import (article_claims, article_pseudocode, plot_attention, plot_saturation,  # noqa: E402
                                         plot_worked_example, saturation_stats, worked_example)

ISSUE_W1 = [0.0117, 0.0317, 0.0861, 0.2341, 0.6364]
ISSUE_Y = [4.4519, 4.8437, 4.9476, 4.9813, 4.9932]


def test_worked_example_numbers_to_four_decimals():
    ex = worked_example()
    assert [round(v, 4) for v in ex.weights[0].tolist()] == ISSUE_W1
    assert [round(v, 4) for v in ex.outputs.tolist()] == ISSUE_Y
    # w_1j = e^j / sum_k e^k, exactly
    e = [math.exp(j) for j in range(1, 6)]
    assert ex.weights[0].tolist() == pytest.approx([v / sum(e) for v in e], abs=1e-12)
    assert ex.row_sums[0].item() == pytest.approx(sum(e), rel=1e-12)
    assert ex.numerators[0].item() == pytest.approx(sum(j * v for j, v in zip(range(1, 6), e)), rel=1e-12)


def test_worked_example_is_consistent_with_every_implementation():
    ex = worked_example()
    x = ex.inputs[:, None]
    torch.testing.assert_close(ex.weights.sum(-1), torch.ones(5, dtype=torch.float64))
    torch.testing.assert_close(ex.numerators / ex.row_sums, ex.outputs)
    torch.testing.assert_close(ex.exp_scores, torch.exp(torch.outer(ex.inputs, ex.inputs)))
    for out, weights in (scaled_dot_product_attention(x, x, x), attention_loops(x, x, x, scale=1.0)):  # d = 1
        torch.testing.assert_close(weights, ex.weights)
        torch.testing.assert_close(out[:, 0], ex.outputs)


@pytest.mark.parametrize("temperature", [0.05, 0.3, 1.0, 7.0, 1000.0])
def test_outputs_are_weighted_averages_inside_the_input_range(temperature):
    ex = worked_example([2.0, -1.0, 0.5, 3.0], temperature=temperature)
    assert (ex.outputs >= ex.inputs.min() - 1e-12).all() and (ex.outputs <= ex.inputs.max() + 1e-12).all()
    torch.testing.assert_close(ex.weights.sum(-1), torch.ones(4, dtype=torch.float64))


def test_temperature_limits_of_the_worked_example():
    assert worked_example(temperature=1e3).outputs.tolist() == pytest.approx([3.0] * 5, abs=0.01)  # the mean
    assert worked_example(temperature=0.05).outputs.tolist() == pytest.approx([5.0] * 5, abs=1e-6)  # the max


def test_worked_example_validation():
    with pytest.raises(ValueError, match="temperature"):
        worked_example(temperature=0)
    with pytest.raises(ValueError, match="700"):
        worked_example(temperature=0.01)
    with pytest.raises(ValueError, match="non-empty"):
        worked_example([])
    with pytest.raises(ValueError, match="finite"):
        worked_example([1.0, float("nan")])


def test_article_claims_are_impossible():
    claims = article_claims()
    assert claims.weights.tolist() == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert claims.weights_sum == pytest.approx(3.0)  # a softmax row sums to 1
    assert claims.claimed_y1 == 7.0 > 5.0  # above every input: no weighted average can be
    assert claims.y1_from_its_weights == pytest.approx(11.0)  # its own arithmetic does not give 7 either
    assert not torch.allclose(claims.exp_terms, claims.article_terms)  # e^j is not j * e
    assert claims.true_denominator == pytest.approx(sum(math.exp(j) for j in range(1, 6)))
    assert claims.article_denominator == pytest.approx(5 * math.e)


def test_plot_worked_example():
    fig = plot_worked_example(temperature=2.0, query=3)
    assert len(fig.axes) == 2 and "query 3" in fig.axes[0].get_title()
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    assert heights == pytest.approx(worked_example(temperature=2.0).weights[2].tolist())
    plt.close(fig)
    with pytest.raises(ValueError, match="query"):
        plot_worked_example(query=6)


def test_saturation_stats_show_the_sqrt_d_growth_and_its_cure():
    stats = saturation_stats([1, 4, 16, 64, 256], n_keys=16, n_trials=400, seed=0)
    np.testing.assert_allclose(stats["score_std_unscaled"], np.sqrt(stats["dims"]), rtol=0.15)
    np.testing.assert_allclose(stats["score_std_scaled"], 1.0, rtol=0.15)
    assert np.all(np.diff(stats["max_weight_unscaled"]) > 0)  # saturates towards one-hot
    assert stats["max_weight_unscaled"][-1] > 0.8
    assert np.ptp(stats["max_weight_scaled"]) < 0.1  # roughly the same at every d
    assert stats["jacobian_trace_unscaled"][-1] < 0.3 < stats["jacobian_trace_scaled"][-1]
    fig = plot_saturation(stats)
    assert len(fig.axes) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="n_keys"):
        saturation_stats([4], n_keys=1)


def test_plot_attention_validates_labels():
    ax = plot_attention(torch.eye(3), list("abc"), list("xyz"), title="t")
    assert ax.get_title() == "t"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="labels"):
        plot_attention(torch.eye(3), list("ab"), list("xyz"))


def test_article_pseudocode_run_literally():
    assert article_pseudocode([1, 2, 3, 4, 5]) == [75.0, 150.0, 225.0, 300.0, 375.0]  # x_i * x_n * sum_j x_j
    with pytest.raises(ValueError, match="non-empty"):
        article_pseudocode([])
