"""Chapter 06: text data and baseline, sampling distribution, audio, inpainting and references."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from aigc_course.applications import audio as audio
from aigc_course.applications import inpainting as inpainting
from aigc_course.course import references as references
from aigc_course.applications.text_data import (COURSE_TEXT, CharVocab, load_course_text, next_char_probabilities, split_ids,
                                   unigram_cross_entropy)

# ---------------------------------------------------------------- corpus, vocabulary, unigram baseline


def test_course_text_ships_with_the_package_and_says_where_it_comes_from():
    text = load_course_text()
    assert len(text) > 30_000
    assert text.isascii()
    assert "written for the aigc-course" in text.splitlines()[1]
    with pytest.raises(ValueError, match="name"):
        load_course_text("../pyproject.toml")
    with pytest.raises(FileNotFoundError):
        load_course_text("missing.txt")
    assert COURSE_TEXT.endswith(".txt")


def test_vocab_round_trip_and_unknown_characters():
    vocab = CharVocab.from_text("hello world")
    assert vocab.chars == tuple(sorted(set("hello world")))
    ids = vocab.encode("low")
    assert ids.dtype == torch.long and vocab.decode(ids) == "low"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.encode("xyz")
    with pytest.raises(ValueError, match=r"\[0, 7\]"):
        vocab.decode(torch.tensor([99]))


def test_split_is_contiguous():
    ids = torch.arange(100)
    train, val = split_ids(ids, 0.1)
    assert torch.equal(torch.cat([train, val]), ids) and len(val) == 10
    with pytest.raises(ValueError, match="val_fraction"):
        split_ids(ids, 0.0)


def test_unigram_cross_entropy_matches_counting_by_hand():
    train, val = "abracadabra", "cabbage"
    vocab = CharVocab.from_text(train + val)
    counts = Counter(train)
    alpha = 0.5
    total = len(train) + alpha * vocab.size
    expected = -sum(math.log((counts[c] + alpha) / total) for c in val) / len(val)
    got = unigram_cross_entropy(vocab.encode(train), vocab.encode(val), vocab.size, alpha)
    assert got == pytest.approx(expected, rel=1e-12)


def test_unigram_on_its_own_text_is_the_entropy_and_beats_any_other_distribution():
    ids = torch.randint(0, 6, (2000,), generator=torch.Generator().manual_seed(0))
    p = torch.bincount(ids, minlength=6).double() / len(ids)
    entropy = float(-(p * p.log()).sum())
    assert unigram_cross_entropy(ids, ids, 6, 0.0) == pytest.approx(entropy, rel=1e-12)
    assert unigram_cross_entropy(ids, ids, 6, 0.0) <= math.log(6)  # Gibbs: nothing beats the true frequencies


def test_unigram_rejects_infinite_loss_and_bad_ids():
    with pytest.raises(ValueError, match="infinite"):
        unigram_cross_entropy(torch.tensor([0, 0]), torch.tensor([1]), 2, 0.0)
    with pytest.raises(ValueError, match="val_ids"):
        unigram_cross_entropy(torch.tensor([0]), torch.tensor([5]), 2)
    with pytest.raises(TypeError, match="integer"):
        unigram_cross_entropy(torch.tensor([0.0]), torch.tensor([0]), 2)


# ---------------------------------------------------------------- sampling distribution


def test_next_char_probabilities_limits_and_invariances():
    logits = torch.randn(5, 17, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(next_char_probabilities(logits), torch.softmax(logits, -1))
    cold = next_char_probabilities(logits, temperature=1e-3)
    assert torch.equal(cold.argmax(-1), logits.argmax(-1)) and torch.allclose(cold.max(-1).values, torch.ones(5))
    hot = next_char_probabilities(logits, temperature=1e4)
    assert torch.allclose(hot, torch.full_like(hot, 1 / 17), atol=1e-3)
    assert torch.allclose(next_char_probabilities(logits + 100.0, 0.7, 3), next_char_probabilities(logits, 0.7, 3))
    greedy = next_char_probabilities(logits, 1.0, 1)
    assert torch.equal(greedy, F.one_hot(logits.argmax(-1), 17).float())
    top5 = next_char_probabilities(logits, 1.0, 5)
    kept = top5 > 0
    assert torch.equal(kept.sum(-1), torch.full((5,), 5))
    # renormalized softmax restricted to the kept entries
    restricted = torch.softmax(logits.masked_fill(~kept, float("-inf")), -1)
    assert torch.allclose(top5, restricted)
    with pytest.raises(ValueError, match="temperature"):
        next_char_probabilities(logits, 0.0)
    with pytest.raises(ValueError, match="top_k"):
        next_char_probabilities(logits, 1.0, 0)


# ---------------------------------------------------------------- audio


def test_notes_are_bounded_and_their_pitch_is_measured():
    waves, notes = audio.random_notes(300, seed=3)
    assert waves.shape == (300, audio.N_SAMPLES) and waves.abs().max() <= 1.0
    nearest, cents = audio.cents_from_nearest_note(audio.dominant_frequency(waves))
    assert torch.equal(nearest, notes)
    assert cents.abs().max() < 25  # one bin is ~5 Hz, well under a quarter-tone at these pitches
    report = audio.pitch_report(waves)
    assert report["in_tune"] == 1.0 and sum(report["note_counts"].values()) == 300


def test_dominant_frequency_on_exact_bins_and_cents():
    rate, length = 4000, 800
    t = torch.arange(length, dtype=torch.float64) / rate
    for k in (11, 57, 180):
        wave = torch.cos(2 * math.pi * k * rate / length * t + 0.3).float() - 0.5
        assert float(audio.dominant_frequency(wave, rate)) == pytest.approx(k * rate / length)
    one_semitone_up = torch.tensor([440.0 * 2 ** (1 / 12)])
    nearest, cents = audio.cents_from_nearest_note(one_semitone_up)
    assert audio.NOTE_NAMES[int(nearest)] in ("A4", "B4") and float(cents.abs()) == pytest.approx(100.0)


def test_unit_interval_round_trip_melody_and_player():
    waves, _ = audio.random_notes(3, seed=0)
    assert torch.allclose(audio.from_unit_interval(audio.to_unit_interval(waves)), waves, atol=1e-6)
    tune = audio.melody(waves, gap_seconds=0.01)
    assert tune.shape == (3 * (audio.N_SAMPLES + 40),)
    player = audio.audio_player(tune)
    header = player.data[:44]  # a WAV file: RIFF header, sample rate at bytes 24-27
    assert header[:4] == b"RIFF" and int.from_bytes(header[24:28], "little") == audio.PLAYBACK_RATE
    with pytest.raises(ValueError, match="Nyquist"):
        audio.synthesize_notes(torch.tensor([3000.0]), torch.tensor([0.5]), torch.tensor([0.1]))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        audio.to_unit_interval(torch.tensor([2.0]))


# ---------------------------------------------------------------- inpainting (with a small stand-in VAE)


class TinyVAE(nn.Module):
    """The interface of chapter 03's VAEs (encode -> mu, logvar; decode -> logits [B, 1, 28, 28])."""

    def __init__(self, latent_dim: int = 4) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.latent_dim = latent_dim
        self.enc = nn.Linear(784, 2 * latent_dim)
        self.dec = nn.Linear(latent_dim, 784)

    def encode(self, x):
        return self.enc(x.flatten(1)).chunk(2, dim=1)

    def decode(self, z):
        return self.dec(z).view(-1, 1, 28, 28)


def _digits(n: int) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(n)) ** 3


def test_masks_hide_what_they_say():
    for kind in inpainting.MASK_KINDS:
        m = inpainting.make_masks(kind, 2, seed=1)
        assert m.shape == (2, 1, 28, 28) and m.dtype == torch.bool
        hidden = (~m).float().mean().item()
        assert hidden == pytest.approx(0.25 if kind == "centre square" else 0.5 if "half" in kind else 0.6, abs=0.03)
    assert (~inpainting.make_masks("bottom half", 1))[0, 0, 14:].all()
    with pytest.raises(ValueError, match="kind"):
        inpainting.make_masks("diagonal", 1)


def test_masked_nll_sums_visible_pixels_only():
    x = _digits(2)
    logits = torch.randn(2, 1, 28, 28)
    visible = inpainting.make_masks("top half", 2)
    manual = sum(-(x[b, 0, i, j] * F.logsigmoid(logits[b, 0, i, j]) + (1 - x[b, 0, i, j]) * F.logsigmoid(-logits[b, 0, i, j]))
                 for b in range(1) for i in range(14, 28) for j in range(28))
    got = inpainting.masked_bernoulli_nll(logits, x, visible)
    assert got[0].item() == pytest.approx(float(manual), rel=1e-4)
    with pytest.raises(TypeError, match="bool"):
        inpainting.masked_bernoulli_nll(logits, x, visible.float())


def test_completion_keeps_visible_pixels_and_lowers_its_objective():
    vae, x = TinyVAE(), _digits(3)
    visible = inpainting.make_masks("left half", 3)
    out = inpainting.complete_images(vae, x, visible, steps=60, lr=0.1)
    for name in ("encoder", "optimized"):
        assert torch.equal(out[name][visible], x[visible])
        assert out[name].min() >= 0 and out[name].max() <= 1

    def objective(z):
        return (inpainting.masked_bernoulli_nll(vae.decode(z), x, visible) + 0.5 * z.pow(2).sum(1)).sum()

    with torch.no_grad():
        z0, _ = vae.encode(x * visible)
    z = z0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=0.1)
    for _ in range(60):
        loss = objective(z)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        assert objective(z) < objective(z0)
        assert torch.allclose(out["optimized"], torch.where(visible, x, torch.sigmoid(vae.decode(z))), atol=1e-5)
    assert all(p.requires_grad for p in vae.parameters())  # parameters handed back trainable


def test_noise_and_hidden_pixel_error():
    x = _digits(4)
    noisy = inpainting.add_noise(x, 0.3, seed=2)
    assert torch.equal(noisy, inpainting.add_noise(x, 0.3, seed=2)) and noisy.min() >= 0 and noisy.max() <= 1
    visible = inpainting.make_masks("right half", 4)
    filled = x.clone()
    filled[~visible] = 0.0
    assert inpainting.hidden_pixel_mse(filled, x, visible) == pytest.approx(float((x[~visible] ** 2).mean()))
    assert inpainting.hidden_pixel_mse(x, x, visible) == 0.0
    with pytest.raises(ValueError, match="nothing to measure"):
        inpainting.hidden_pixel_mse(x, x, torch.ones_like(visible))


def test_restoration_figure_has_one_row_per_entry():
    x = _digits(5)
    fig = inpainting.restoration_figure({"original": x, "masked": x * 0.5}, title="t")
    assert len(fig.axes) == 2 and fig.axes[0].get_ylabel() == "original"


# ---------------------------------------------------------------- references


def test_references_are_complete_and_unique():
    keys = [r.key for r in references.REFERENCES]
    assert len(keys) == len(set(keys))
    for r in references.REFERENCES:
        assert r.kind in references.KINDS and r.origin in references.ORIGINS
        assert r.title and r.venue and r.why and r.checked
        assert r.url.startswith("https://")
        assert r.year is None or 1990 <= r.year <= 2025


def test_the_issue_s_corrections_are_in_the_data():
    by_key = {r.key: r for r in references.REFERENCES}
    assert by_key["chen2016"].authors.startswith("Chen, X.") and "NIPS 2016" in by_key["chen2016"].venue
    assert by_key["karras2019"].authors == "Karras, T., Laine, S., Aila, T."
    assert by_key["karras2019"].title == "A Style-Based Generator Architecture for Generative Adversarial Networks"
    assert "CVPR 2019" in by_key["karras2019"].venue
    assert "Radford" in by_key["radford2015"].authors and "not" not in by_key["radford2015"].title
    assert "GAN" in by_key["radford2015"].article_said
    assert by_key["chollet2017"].authors == "Chollet, F." and "Python深度学习" in by_key["chollet2017"].venue
    assert "Theano" in by_key["keras"].article_said and "PyTorch" in by_key["keras"].venue
    assert by_key["vaswani2017"].year == 2017 and by_key["vaswani2017"].origin == "added"
    assert by_key["ho2020"].authors == "Ho, J., Jain, A., Abbeel, P." and by_key["ho2020"].year == 2020


def test_markdown_renderings():
    everything = references.references_markdown()
    assert all(r.title in everything for r in references.REFERENCES)
    papers = references.references_markdown(kind="paper", origin="added")
    assert "Attention Is All You Need" in papers and "Deep Learning" not in papers.split("*")[1]
    table = references.corrections_markdown()
    assert table.count("\n") == 1 + sum(bool(r.article_said) for r in references.REFERENCES)
    assert "~~" in references.dropped_markdown()
    with pytest.raises(ValueError, match="kind"):
        references.references_markdown(kind="video")


def test_denoising_returns_the_decoder_picture_not_the_noisy_input():
    vae, x = TinyVAE(), _digits(2)
    noisy = inpainting.add_noise(x, 0.3, seed=0)
    out = inpainting.denoise_images(vae, noisy, inpainting.masked_bernoulli_nll, steps=0)
    with torch.no_grad():
        mu, _ = vae.encode(noisy)
        expected = torch.sigmoid(vae.decode(mu))
    assert torch.allclose(out["encoder"], expected) and torch.allclose(out["optimized"], expected)
    moved = inpainting.denoise_images(vae, noisy, inpainting.gaussian_nll(0.3), steps=20, lr=0.1)["optimized"]
    assert not torch.allclose(moved, expected)


def test_inpainting_figure_titles_report_errors():
    fig = inpainting.inpainting_figure(TinyVAE(), _digits(1)[0], "centre square", steps=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "original" and all("hidden-pixel MSE" in t for t in titles[1:])


def test_gaussian_nll_is_the_gaussian_log_likelihood_up_to_a_constant():
    x, logits = _digits(3), torch.randn(3, 1, 28, 28)
    visible = inpainting.make_masks("random 60%", 3)
    std = 0.3
    normal = torch.distributions.Normal(torch.sigmoid(logits), std)
    full = -(normal.log_prob(x) * visible).flatten(1).sum(1)
    constant = visible.flatten(1).sum(1) * 0.5 * math.log(2 * math.pi * std ** 2)
    assert torch.allclose(inpainting.gaussian_nll(std)(logits, x, visible), full - constant, rtol=1e-4)
    with pytest.raises(ValueError, match="noise_std"):
        inpainting.gaussian_nll(0.0)


def test_longest_copied_span_matches_brute_force():
    from aigc_course.applications.text_data import longest_copied_span

    corpus = "the forger and the critic met by the river"
    for text in ("a critic met a forger", "zzz", "by the river and the", ""):
        brute = max((text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1) if text[i:j] in corpus),
                    key=len, default="")
        assert len(longest_copied_span(text, corpus)) == len(brute)
    assert longest_copied_span("xx critic met yy", corpus) == " critic met "


def test_generated_notes_figure_counts_the_notes_it_is_given():
    import matplotlib.pyplot as plt

    waves, ids = audio.random_notes(16, seed=1)
    fig = audio.generated_notes_figure(ids, waves, waves)
    left, right = fig.axes[:2]
    generated_bars = left.patches[len(audio.NOTE_NAMES):]
    counts = torch.tensor(list(audio.pitch_report(waves)["note_counts"].values()), dtype=torch.float64)
    assert [round(b.get_height(), 6) for b in generated_bars] == [round(v, 6) for v in (counts / counts.sum()).tolist()]
    assert len(right.get_lines()) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="generated"):
        audio.generated_notes_figure(ids, waves[0], waves)


def test_clipped_gaussian_nll_is_the_censored_likelihood():
    std = 0.4
    logits = torch.tensor([[-2.0, 0.3, 1.5, 0.0]])
    target = torch.tensor([[0.0, 0.5, 1.0, 0.2]])
    visible = torch.ones_like(target)
    mu = torch.sigmoid(logits)[0]
    normal = torch.distributions.Normal(0.0, 1.0)
    expected = (-torch.log(normal.cdf(-mu[0] / std)) + (mu[1] - 0.5) ** 2 / (2 * std ** 2)
                - torch.log(1 - normal.cdf((1 - mu[2]) / std)) + (mu[3] - 0.2) ** 2 / (2 * std ** 2))
    got = inpainting.clipped_gaussian_nll(std)(logits, target, visible)
    assert torch.allclose(got, expected.reshape(1), atol=1e-5)
    # Monte Carlo: the probability that clip(mu + s eps) lands exactly on 0
    eps = torch.randn(200_000, generator=torch.Generator().manual_seed(0))
    share = float(((mu[0] + std * eps).clamp(0, 1) == 0).float().mean())
    assert abs(share - math.exp(-float(inpainting.clipped_gaussian_nll(std)(logits[:, :1], target[:, :1],
                                                                             visible[:, :1])))) < 0.005
    # masked pixels do not count; extreme logits stay finite with finite gradients
    assert float(inpainting.clipped_gaussian_nll(std)(logits, target, torch.zeros_like(target))) == 0.0
    extreme = torch.tensor([[1e4, -1e4]], requires_grad=True)
    value = inpainting.clipped_gaussian_nll(0.05)(extreme, torch.tensor([[0.0, 1.0]]), torch.ones(1, 2))
    value.sum().backward()
    assert torch.isfinite(value).all() and torch.isfinite(extreme.grad).all()
