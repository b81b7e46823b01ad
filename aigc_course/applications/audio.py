"""Chapter 06 audio: a waveform is data. Synthesized notes, pitch measurement, and playback.

A sound is air pressure sampled ``sample_rate`` times a second: a vector of numbers in
[-1, 1]. The course's notes are 784 samples at 4,000 Hz (0.196 s), so that a note has exactly
as many numbers as an MNIST digit has pixels and chapter 03's VAE can learn them unchanged:

    x(t) = a exp(-t / tau) (sin(2 pi f t) + 0.3 sin(4 pi f t)) / 1.3,   t = n / sample_rate,

a plucked note of pitch f (one of the eight notes C4..C5 of the C-major scale) with its
octave overtone, loudness a and decay time tau. :func:`dominant_frequency` measures the pitch
of any waveform from its spectrum; :func:`audio_player` makes it playable in a notebook.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..validate import (require_float, require_in_range, require_int, require_seed, require_tensor, symmetric_to_unit,
                        unit_to_symmetric)

SAMPLE_RATE = 4000
N_SAMPLES = 784
PLAYBACK_RATE = 16000
NOTE_NAMES = ("C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5")
_SEMITONES_FROM_A4 = (-9, -7, -5, -4, -2, 0, 2, 3)
NOTE_FREQUENCIES = tuple(440.0 * 2.0 ** (s / 12) for s in _SEMITONES_FROM_A4)


def synthesize_notes(frequencies: torch.Tensor, amplitudes: torch.Tensor, decays: torch.Tensor, *,
                     n_samples: int = N_SAMPLES, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Plucked notes ``[N, n_samples]`` (float32, in [-1, 1]) from per-note frequency (Hz), amplitude, decay (s)."""
    for name, value in (("frequencies", frequencies), ("amplitudes", amplitudes), ("decays", decays)):
        require_tensor(name, value, ndim=1, floating=True, finite=True, non_empty=True)
    if not len(frequencies) == len(amplitudes) == len(decays):
        raise ValueError("frequencies, amplitudes and decays must have the same length")
    require_int("n_samples", n_samples, minimum=2, maximum=10_000_000 // len(frequencies))
    require_int("sample_rate", sample_rate, minimum=2, maximum=1_000_000)
    if (frequencies <= 0).any() or (frequencies >= sample_rate / 2).any():
        raise ValueError(f"frequencies must lie in (0, {sample_rate / 2}) Hz (below the Nyquist frequency)")
    if (amplitudes < 0).any() or (amplitudes > 1).any() or (decays <= 0).any():
        raise ValueError("amplitudes must lie in [0, 1] and decays must be > 0 seconds")
    t = torch.arange(n_samples, dtype=torch.float64) / sample_rate
    f, a, tau = (v.double()[:, None] for v in (frequencies, amplitudes, decays))
    wave = a * torch.exp(-t / tau) * (torch.sin(2 * math.pi * f * t) + 0.3 * torch.sin(4 * math.pi * f * t)) / 1.3
    return wave.float()


def random_notes(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random notes: waveforms ``[n, 784]`` and the index ``[n]`` of each note in :data:`NOTE_NAMES`.

    Pitch uniform over the 8 scale notes, amplitude uniform in [0.5, 0.9], decay in [0.05, 0.2] s.
    """
    require_int("n", n, minimum=1, maximum=100_000)
    g = torch.Generator().manual_seed(require_seed(seed))
    notes = torch.randint(0, len(NOTE_FREQUENCIES), (n,), generator=g)
    frequencies = torch.tensor(NOTE_FREQUENCIES)[notes]
    amplitudes = 0.5 + 0.4 * torch.rand(n, generator=g)
    decays = 0.05 + 0.15 * torch.rand(n, generator=g)
    return synthesize_notes(frequencies, amplitudes, decays), notes


def to_unit_interval(waves: torch.Tensor) -> torch.Tensor:
    """Waveforms in [-1, 1] -> (x + 1) / 2 in [0, 1], the value range chapter 03's Bernoulli decoder models."""
    require_tensor("waves", waves, floating=True)
    require_in_range("waves", waves, -1.0, 1.0, tolerance=1e-6, what="samples")
    return symmetric_to_unit(waves)


def from_unit_interval(values: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`to_unit_interval`: 2 u - 1."""
    require_tensor("values", values, floating=True)
    require_in_range("values", values, 0.0, 1.0, tolerance=1e-6)
    return unit_to_symmetric(values)


def dominant_frequency(wave: torch.Tensor, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Pitch estimate (Hz) of waveforms ``[..., T]``: the strongest non-constant frequency bin.

    spectrum = |rfft((x - mean(x)) * hann(T))|; k* = argmax over bins k >= 1; f = k* sample_rate / T.
    Resolution is one bin, sample_rate / T Hz. Returns float64 ``[...]``.
    """
    require_tensor("wave", wave, floating=True, finite=True)
    if wave.ndim < 1 or wave.shape[-1] < 4:
        raise ValueError(f"wave must have shape [..., T] with T >= 4 samples, got {list(wave.shape)}")
    require_int("sample_rate", sample_rate, minimum=1)
    length = wave.shape[-1]
    centred = wave.double() - wave.double().mean(dim=-1, keepdim=True)
    spectrum = torch.fft.rfft(centred * torch.hann_window(length, dtype=torch.float64, device=wave.device)).abs()
    k = spectrum[..., 1:].argmax(dim=-1) + 1
    return k.double() * sample_rate / length


def cents_from_nearest_note(frequency: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For frequencies ``[N]`` (Hz): the index of the nearest scale note and the distance to it in cents.

    cents = 1200 log2(f / f_note); 100 cents is one semitone, so |cents| <= 50 means "in tune".
    """
    require_tensor("frequency", frequency, ndim=1, floating=True, finite=True)
    if (frequency <= 0).any():
        raise ValueError("frequency must be > 0 Hz")
    cents = 1200 * torch.log2(frequency.double()[:, None] / torch.tensor(NOTE_FREQUENCIES, dtype=torch.float64))
    nearest = cents.abs().argmin(dim=1)
    return nearest, cents.gather(1, nearest[:, None]).squeeze(1)


def pitch_report(waves: torch.Tensor, sample_rate: int = SAMPLE_RATE) -> dict[str, object]:
    """Measured pitch of waveforms ``[N, T]``: share within 50 cents of a scale note, and notes counted."""
    require_tensor("waves", waves, ndim=2, floating=True, finite=True, non_empty=True)
    nearest, cents = cents_from_nearest_note(dominant_frequency(waves, sample_rate))
    in_tune = cents.abs() <= 50
    counts = torch.bincount(nearest[in_tune], minlength=len(NOTE_NAMES))
    return {"in_tune": float(in_tune.double().mean()), "mean_abs_cents": float(cents.abs().mean()),
            "note_counts": dict(zip(NOTE_NAMES, counts.tolist()))}


def melody(waves: torch.Tensor, gap_seconds: float = 0.05, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Notes ``[N, T]`` played one after another with ``gap_seconds`` of silence between them -> ``[N*(T+gap)]``."""
    require_tensor("waves", waves, ndim=2, floating=True, finite=True)
    require_int("sample_rate", sample_rate, minimum=1, maximum=1_000_000)
    gap = int(round(require_float("gap_seconds", gap_seconds, minimum=0.0, maximum=60.0) * sample_rate))
    silence = waves.new_zeros(len(waves), gap)
    return torch.cat([waves, silence], dim=1).flatten()


def audio_player(wave: torch.Tensor, sample_rate: int = SAMPLE_RATE):
    """An ``IPython.display.Audio`` widget playing ``wave`` ``[T]`` (values in [-1, 1]).

    The samples are linearly resampled to 16 kHz first (every browser plays that rate);
    loudness is kept, not normalized, so quiet notes sound quiet.
    """
    from IPython.display import Audio

    require_tensor("wave", wave, ndim=1, floating=True, finite=True, non_empty=True)
    require_int("sample_rate", sample_rate, minimum=1, maximum=1_000_000)
    x = wave.detach().double().cpu().clamp(-1, 1).numpy()
    t_in = np.arange(len(x)) / sample_rate
    t_out = np.arange(int(len(x) * PLAYBACK_RATE / sample_rate)) / PLAYBACK_RATE
    return Audio(np.interp(t_out, t_in, x), rate=PLAYBACK_RATE, normalize=False)


def generated_notes_figure(train_note_ids: torch.Tensor, generated: torch.Tensor, real: torch.Tensor,
                           sample_rate: int = SAMPLE_RATE):
    """Left: the share of each scale note among training notes and among in-tune generated ones;
    right: one generated waveform over one real one. ``generated``, ``real``: ``[N, 784]`` in [-1, 1]."""
    import matplotlib.pyplot as plt

    require_tensor("train_note_ids", train_note_ids, ndim=1, integer=True, non_empty=True)
    if train_note_ids.min() < 0 or train_note_ids.max() >= len(NOTE_NAMES):
        raise ValueError(f"train_note_ids must be indices into NOTE_NAMES (0..{len(NOTE_NAMES) - 1})")
    require_tensor("generated", generated, ndim=2, floating=True, finite=True, non_empty=True)
    require_tensor("real", real, ndim=2, floating=True, finite=True, non_empty=True)
    counts = pitch_report(generated, sample_rate)["note_counts"]
    t_ms = torch.arange(generated.shape[1]) / sample_rate * 1000
    n = len(NOTE_NAMES)
    fig, axes = plt.subplots(1, 2, figsize=(11, 2.6))
    train_counts = torch.bincount(train_note_ids, minlength=n).double()
    gen_counts = torch.tensor(list(counts.values()), dtype=torch.float64)
    axes[0].bar(range(n), (train_counts / train_counts.sum()).numpy(), width=0.4, label="training notes")
    axes[0].bar(torch.arange(n) + 0.4, (gen_counts / max(gen_counts.sum(), 1)).numpy(), width=0.4,
                label="generated, in tune")
    axes[0].set_xticks(torch.arange(n) + 0.2, NOTE_NAMES)
    axes[0].set_ylabel("share")
    axes[0].legend(fontsize=8)
    axes[0].set_title("which notes the VAE generates", fontsize=10)
    axes[1].plot(t_ms, generated[0], lw=0.8, label="generated")
    axes[1].plot(t_ms, real[0], lw=0.8, alpha=0.6, label="a real test note")
    axes[1].set_xlabel("time (ms)")
    axes[1].legend(fontsize=8)
    axes[1].set_title("waveforms", fontsize=10)
    fig.tight_layout()
    return fig
