"""Checks for chapter 06's exercises: unigram baseline, sampling distribution, masked NLL, pitch."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..applications.audio import dominant_frequency
from ..applications.text_data import next_char_probabilities, unigram_cross_entropy
from ..applications.inpainting import masked_bernoulli_nll
from . import Exercise, assert_close, same_output


def _ids(n: int, vocab: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (n,), generator=g)


def _unigram_hand_example(candidate, reference) -> None:
    # train "aab" (ids 0 0 1), vocabulary {a, b, c}, alpha = 1: p = (3/6, 2/6, 1/6); val "ac"
    got = candidate(torch.tensor([0, 0, 1]), torch.tensor([0, 2]), 3, 1.0)
    expected = -(math.log(3 / 6) + math.log(1 / 6)) / 2
    assert_close("cross-entropy of val 'ac' after training on 'aab' (alpha=1)", float(got), expected)


check_unigram_cross_entropy = Exercise(
    "6.2", "unigram baseline in nats per character", unigram_cross_entropy,
    cases=[
        _unigram_hand_example,
        same_output(_ids(500, 20, 1), _ids(100, 20, 2), 20, 1.0, label="random ids, alpha = 1"),
        same_output(_ids(300, 8, 3), _ids(50, 8, 4), 12, 0.5, label="vocabulary larger than the ids seen, alpha = 0.5"),
        same_output(torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([2, 1, 0]), 3, 0.0, label="no smoothing"),
    ],
    hint="count with torch.bincount(train_ids, minlength=vocab_size), add alpha, divide by the total, "
         "then average -log p over the validation ids (natural log)",
)


def _sums_to_one(candidate, reference) -> None:
    logits = torch.randn(4, 30, generator=torch.Generator().manual_seed(5))
    probs = candidate(logits, 0.7, 5)
    assert_close("row sums of the probabilities", probs.sum(-1), torch.ones(4))
    assert_close("number of non-zero entries per row with top_k=5", (probs > 0).sum(-1), torch.full((4,), 5))


check_next_char_probabilities = Exercise(
    "6.3", "temperature and top-k sampling distribution", next_char_probabilities,
    cases=[
        same_output(torch.tensor([2.0, 1.0, 0.5, -1.0]), 1.0, None, label="T = 1, no top-k (plain softmax)"),
        same_output(torch.tensor([2.0, 1.0, 0.5, -1.0]), 0.5, None, label="T = 0.5 sharpens"),
        same_output(torch.tensor([2.0, 1.0, 0.5, -1.0]), 2.0, 2, label="T = 2, top-2"),
        same_output(torch.randn(3, 12, generator=torch.Generator().manual_seed(0)), 0.8, 4, label="batch, top-4"),
        same_output(torch.randn(2, 5, generator=torch.Generator().manual_seed(1)), 1.3, 9, label="top_k larger than V"),
        _sums_to_one,
    ],
    hint="keep the k largest logits (torch.topk), set the others to -inf, divide by the temperature, softmax",
)


def _masked_case(seed: int, p_visible: float):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(3, 1, 28, 28, generator=g)
    target = torch.rand(3, 1, 28, 28, generator=g)
    visible = torch.rand(3, 1, 28, 28, generator=g) < p_visible
    return logits, target, visible


def _all_visible_is_full_nll(candidate, reference) -> None:
    logits, target, _ = _masked_case(7, 1.0)
    got = candidate(logits, target, torch.ones_like(logits, dtype=torch.bool))
    expected = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)
    assert_close("all pixels visible: the usual per-image Bernoulli NLL", got, expected)


def _hidden_targets_do_not_matter(candidate, reference) -> None:
    logits, target, visible = _masked_case(8, 0.5)
    changed = torch.where(visible, target, 1 - target)
    assert_close("loss after changing only hidden targets", candidate(logits, changed, visible),
                 candidate(logits, target, visible))


check_masked_bernoulli_nll = Exercise(
    "6.1", "negative log-likelihood of the visible pixels", masked_bernoulli_nll,
    cases=[
        same_output(*_masked_case(0, 0.5), label="half the pixels visible", atol=1e-3),
        same_output(*_masked_case(1, 0.1), label="10% visible", atol=1e-3),
        _all_visible_is_full_nll,
        _hidden_targets_do_not_matter,
    ],
    hint="F.binary_cross_entropy_with_logits(..., reduction='none'), multiply by the mask, sum each image",
)


def _sines(freq_bins: list[int], length: int = 784, rate: int = 4000, offset: float = 0.0) -> torch.Tensor:
    t = torch.arange(length, dtype=torch.float64) / rate
    return torch.stack([torch.sin(2 * math.pi * (k * rate / length) * t) + offset for k in freq_bins]).float()


def _two_tones(candidate, reference) -> None:
    t = torch.arange(1000, dtype=torch.float64) / 8000
    wave = (0.3 * torch.sin(2 * math.pi * 400 * t) + torch.sin(2 * math.pi * 1200 * t)).float()
    assert_close("pitch of a 400 Hz + louder 1200 Hz mixture", float(candidate(wave, 8000)), 1200.0, atol=1e-6)


check_dominant_frequency = Exercise(
    "6.4", "pitch from the spectrum", dominant_frequency,
    cases=[
        same_output(_sines([40, 51, 80]), 4000, label="three sines at bin frequencies", atol=1e-6),
        same_output(_sines([60], offset=0.8)[0], 4000, label="a sine on top of a constant offset", atol=1e-6),
        same_output(_sines([25, 90], length=500, rate=8000), 8000, label="T = 500 samples at 8 kHz", atol=1e-6),
        _two_tones,
    ],
    hint="subtract the mean, multiply by torch.hann_window(T), take |torch.fft.rfft|, skip bin 0, "
         "argmax bin k -> k * sample_rate / T",
)
