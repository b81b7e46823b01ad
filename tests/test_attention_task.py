"""Chapter 04: the reverse/sort tasks learned with attention."""

from __future__ import annotations

import pytest
import torch

from aigc_course.attention.tasks import (AttentionSequenceModel, attention_view, encode_sequences, parse_digits,
                                        plot_task_attention,
                                        evaluate_sequence_task, task_batch, task_targets, task_test_set,
                                        train_sequence_task)


def test_task_targets():
    x = torch.tensor([[3, 1, 2, 1]])
    assert task_targets("reverse", x).tolist() == [[1, 2, 1, 3]]
    assert task_targets("sort", x).tolist() == [[1, 1, 2, 3]]
    with pytest.raises(ValueError, match="task"):
        task_targets("shuffle", x)


def test_encoding_is_injective_and_test_set_is_excluded_from_training():
    x, y, codes = task_test_set("reverse", 150, length=4, vocab=5, seed=0)
    assert x.shape == (150, 4) and torch.equal(y, x.flip(1))
    assert len(torch.unique(encode_sequences(x, 5))) == 150  # distinct
    assert torch.equal(encode_sequences(torch.tensor([[1, 0, 2]]), 3), torch.tensor([11]))  # 1*9 + 0*3 + 2
    # 150 of 625 sequences are held out; training batches must never contain one
    generator = torch.Generator().manual_seed(1)
    for _ in range(20):
        batch, _ = task_batch("reverse", 64, 4, 5, generator, exclude=codes)
        assert not torch.isin(encode_sequences(batch, 5), codes).any()
    with pytest.raises(ValueError, match="n"):
        task_test_set("sort", 200, length=4, vocab=5, seed=0)  # more than a quarter of all sequences


@pytest.mark.parametrize("n_blocks,n_heads", [(0, 1), (0, 2), (2, 2)])
def test_model_shapes_and_weights(n_blocks, n_heads):
    torch.manual_seed(0)
    model = AttentionSequenceModel(vocab=7, length=5, d_model=8, n_heads=n_heads, n_blocks=n_blocks)
    logits, weights = model(torch.randint(0, 7, (3, 5)))
    assert logits.shape == (3, 5, 7)
    assert weights.shape == (3, max(n_blocks, 1), n_heads, 5, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
    with pytest.raises(ValueError, match="int64 of shape"):
        model(torch.zeros(3, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="digits in 0..6"):
        model(torch.full((1, 5), 7))


def test_reversal_is_learned_and_its_map_is_the_anti_diagonal():
    torch.manual_seed(0)
    x_test, y_test, codes = task_test_set("reverse", 300, length=6, vocab=10, seed=1)
    model = AttentionSequenceModel(vocab=10, length=6, d_model=32, n_heads=1)
    history = train_sequence_task(model, "reverse", 150, lr=1e-2, exclude=codes, progress=False)
    assert history["train/loss"][-1] < 0.1 * history["train/loss"][0]
    token_accuracy, sequence_accuracy = evaluate_sequence_task(model, x_test, y_test)
    assert token_accuracy > 0.99 and sequence_accuracy > 0.95
    weights, predictions = attention_view(model, x_test[0])
    assert weights.shape == (1, 6, 6) and torch.equal(predictions, y_test[0])
    assert (weights[0].flip(1).diagonal() > 0.9).all()
    # with the causal mask query i cannot see x_{L+1-i} for the first half: those outputs fail
    causal_weights, _ = attention_view(model, x_test[0], causal=True)
    assert (causal_weights[0].triu(diagonal=1) == 0).all()
    torch.testing.assert_close(causal_weights[0].sum(-1), torch.ones(6))
    causal_token_accuracy, _ = evaluate_sequence_task(model, x_test, y_test, causal=True)
    assert causal_token_accuracy < 0.75


def test_sorting_with_transformer_blocks_learns():
    torch.manual_seed(0)
    x_test, y_test, codes = task_test_set("sort", 300, length=5, vocab=6, seed=2)
    model = AttentionSequenceModel(vocab=6, length=5, d_model=32, n_heads=1, n_blocks=2)
    before, _ = evaluate_sequence_task(model, x_test, y_test)
    history = train_sequence_task(model, "sort", 150, exclude=codes, progress=False, log_every=50)
    assert history["train/step"] == [50, 100, 150] and len(history["train/accuracy"]) == 3
    after, _ = evaluate_sequence_task(model, x_test, y_test)
    assert after > 0.8 > before


def test_training_validation():
    model = AttentionSequenceModel(vocab=4, length=3, d_model=8)
    with pytest.raises(ValueError, match="steps"):
        train_sequence_task(model, "sort", 0)
    with pytest.raises(ValueError, match="lr"):
        train_sequence_task(model, "sort", 5, lr=-1.0)
    with pytest.raises(ValueError, match="shape"):
        evaluate_sequence_task(model, torch.zeros(2, 3, dtype=torch.int64), torch.zeros(2, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="shape"):
        attention_view(model, [1, 2])


def test_parse_digits():
    assert parse_digits("5 9 4, 8", 4).tolist() == [5, 9, 4, 8]
    assert parse_digits("5948", 4).tolist() == [5, 9, 4, 8]
    for bad in ("594", "59481", "59a8"):
        with pytest.raises(ValueError, match="exactly 4 digits"):
            parse_digits(bad, 4)
    with pytest.raises(ValueError, match="0..5"):
        parse_digits("5968", 4, vocab=6)


def test_plot_task_attention():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    torch.manual_seed(0)
    model = AttentionSequenceModel(vocab=10, length=4, d_model=8, n_blocks=2)
    fig = plot_task_attention(model, [3, 1, 2, 0], "sort", causal=True)
    heatmaps = [ax for ax in fig.axes if ax.get_images()]
    assert len(heatmaps) == 2
    shown = heatmaps[0].get_images()[0].get_array()
    weights, predictions = attention_view(model, [3, 1, 2, 0], causal=True)
    assert shown.shape == (4, 4) and abs(shown - weights[0].numpy()).max() < 1e-6
    assert f"{int((predictions == torch.tensor([0, 1, 2, 3])).sum())}/4 outputs correct" in fig._suptitle.get_text()
    plt.close(fig)
