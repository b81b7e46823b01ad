"""Chapter 06: the character-level Transformer (built from chapter 04's TransformerBlock)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("aigc_course.attention.layers")

from aigc_course.applications.text_data import CharVocab, split_ids, unigram_cross_entropy  # noqa: E402
from aigc_course.applications.text_model import (CharTransformer, evaluate_char_loss, generate_text, random_windows,  # noqa: E402
                                    train_char_model)


def _model(vocab_size: int = 7, block_size: int = 16) -> CharTransformer:
    torch.manual_seed(0)
    return CharTransformer(vocab_size, block_size=block_size, d_model=32, n_heads=4, n_layers=2, dropout=0.0)


def test_shapes_parameters_and_validation():
    model = _model()
    assert model(torch.zeros(3, 16, dtype=torch.long)).shape == (3, 16, 7)
    embeddings = 7 * 32 + 16 * 32
    assert model.token.weight.numel() + model.position.weight.numel() == embeddings
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        model(torch.zeros(1, 4))


def test_predictions_never_look_at_the_future():
    model = _model().eval()
    x = torch.randint(0, 7, (2, 16), generator=torch.Generator().manual_seed(1))
    changed = x.clone()
    changed[:, 9:] = (changed[:, 9:] + 3) % 7
    with torch.no_grad():
        a, b = model(x), model(changed)
    assert torch.allclose(a[:, :9], b[:, :9], atol=1e-6)
    assert not torch.allclose(a[:, 9:], b[:, 9:])


def test_windows_are_shifted_by_one():
    ids = torch.arange(100)
    x, y = random_windows(ids, 8, 5, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8) and torch.equal(y, x + 1)


def test_evaluation_is_the_mean_cross_entropy_of_every_predicted_character():
    model = _model().eval()
    ids = torch.randint(0, 7, (50,), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits = model(ids[:48].view(3, 16))
        manual = F.cross_entropy(logits.flatten(0, 1), ids[1:49]).item()
    assert evaluate_char_loss(model, ids) == pytest.approx(manual, rel=1e-5)
    assert evaluate_char_loss(model, ids) == pytest.approx(math.log(7), abs=0.5)  # near uniform at initialization


def test_training_learns_context_the_unigram_model_cannot_use():
    text = "abcabdabcabd" * 60
    vocab = CharVocab.from_text(text)
    train, val = split_ids(vocab.encode(text), 0.2)
    model = CharTransformer(vocab.size, block_size=16, d_model=32, n_heads=4, n_layers=1, dropout=0.0)
    history = train_char_model(model, train, val, steps=150, batch_size=16, lr=5e-3, evaluations=3, progress=False)
    assert len(history["eval/loss"]) == 3 and history["train/seconds"][-1] > 0
    baseline = unigram_cross_entropy(train, val, vocab.size)
    # the sequence is deterministic except for the letter after "ab": ~ (1/3) ln 2 nats per character is the floor
    assert history["eval/loss"][-1] < baseline - 0.6


def test_generation_is_seeded_and_greedy_with_top_1():
    vocab = CharVocab.from_text("abcdefg")
    model = _model(vocab.size)
    a = generate_text(model, vocab, "ab", 30, temperature=1.0, seed=3)
    assert a == generate_text(model, vocab, "ab", 30, temperature=1.0, seed=3) and a.startswith("ab") and len(a) == 32
    greedy = generate_text(model, vocab, "ab", 20, temperature=1.0, top_k=1, seed=0)
    assert greedy == generate_text(model, vocab, "ab", 20, temperature=0.5, top_k=1, seed=99)
    with pytest.raises(ValueError, match="prompt"):
        generate_text(model, vocab, "", 5)
