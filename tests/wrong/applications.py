import math

import torch
import torch.nn.functional as F


# ---- 6.2 unigram cross-entropy ----
def unigram_in_bits(train_ids, val_ids, vocab_size, smoothing=1.0):
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + smoothing
    return float(-(counts / counts.sum())[val_ids].log2().mean())


def unigram_ignores_smoothing(train_ids, val_ids, vocab_size, smoothing=1.0):
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + 1.0
    return float(-(counts / counts.sum())[val_ids].log().mean())


def unigram_counts_validation(train_ids, val_ids, vocab_size, smoothing=1.0):
    counts = torch.bincount(val_ids, minlength=vocab_size).double() + smoothing
    return float(-(counts / counts.sum())[val_ids].log().mean())


def unigram_uniform(train_ids, val_ids, vocab_size, smoothing=1.0):
    return math.log(vocab_size)


# ---- 6.3 temperature and top-k ----
def temperature_multiplies(logits, temperature=1.0, top_k=None):
    scaled = logits * temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = scaled.topk(top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.softmax(scaled, dim=-1)


def top_k_without_renormalizing(logits, temperature=1.0, top_k=None):
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_k is not None and top_k < logits.shape[-1]:
        kth = probs.topk(top_k, dim=-1).values[..., -1:]
        probs = probs.masked_fill(probs < kth, 0.0)
    return probs


def top_k_keeps_the_smallest(logits, temperature=1.0, top_k=None):
    scaled = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = (-scaled).topk(top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(-scaled < kth, float("-inf"))
    return torch.softmax(scaled, dim=-1)


# ---- 6.1 masked Bernoulli NLL ----
def masked_nll_mean_not_sum(logits, target, visible):
    per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (per_pixel * visible).flatten(1).mean(dim=1)


def masked_nll_masks_the_target(logits, target, visible):
    return F.binary_cross_entropy_with_logits(logits, target * visible, reduction="none").flatten(1).sum(dim=1)


def masked_nll_ignores_mask(logits, target, visible):
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(dim=1)


# ---- 6.4 dominant frequency ----
def _spectrum(wave, centre=True):
    x = wave.double()
    if centre:
        x = x - x.mean(dim=-1, keepdim=True)
    return torch.fft.rfft(x * torch.hann_window(wave.shape[-1], dtype=torch.float64)).abs()


def pitch_returns_bin_index(wave, sample_rate=4000):
    return (_spectrum(wave)[..., 1:].argmax(dim=-1) + 1).double()


def pitch_keeps_the_constant(wave, sample_rate=4000):
    return _spectrum(wave, centre=False).argmax(dim=-1).double() * sample_rate / wave.shape[-1]


def pitch_half_the_rate(wave, sample_rate=4000):
    return (_spectrum(wave)[..., 1:].argmax(dim=-1) + 1).double() * sample_rate / (2 * wave.shape[-1])


WRONG = {
    "6.2": [unigram_in_bits, unigram_ignores_smoothing, unigram_counts_validation, unigram_uniform],
    "6.3": [temperature_multiplies, top_k_without_renormalizing, top_k_keeps_the_smallest],
    "6.1": [masked_nll_mean_not_sum, masked_nll_masks_the_target, masked_nll_ignores_mask],
    "6.4": [pitch_returns_bin_index, pitch_keeps_the_constant, pitch_half_the_rate],
}
