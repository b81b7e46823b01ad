"""Chapter 06 text: the course's own corpus, a character vocabulary, the unigram baseline, sampling.

The corpus ``data_files/workshop_tales.txt`` (about 35,000 characters, plain ASCII) was written
for this course and ships with the package under the course's MIT licence; nothing is
downloaded. A character-level model reads it as a sequence of integer ids.

The **unigram baseline** predicts every character with the same distribution, the smoothed
character frequencies of the training text, ignoring all context:

    p(c) = (n_c + alpha) / (N + alpha V),    H = -(1/M) sum_i log p(v_i)   (nats per character)

for training counts ``n_c`` (N characters, V symbols) and validation ids ``v_1..v_M``. Any model
that uses context should beat it; how far below it lands is what the model has learned.

A model's next-character distribution is shaped before sampling (:func:`next_char_probabilities`)
by a **temperature** T, softmax(logits / T) (T < 1 sharpens, T > 1 flattens), and **top-k**
(keep the k most likely characters, renormalize).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import torch

from ..attention.layers import softmax
from ..validate import require_finite, require_float, require_ids, require_int, require_tensor

COURSE_TEXT = "workshop_tales.txt"


def load_course_text(name: str = COURSE_TEXT) -> str:
    """The text of a corpus shipped in ``aigc_course/data_files`` (UTF-8), e.g. the default tales."""
    if not isinstance(name, str) or "/" in name or "\\" in name or not name.endswith(".txt"):
        raise ValueError(f"name must be the file name of a .txt file in aigc_course/data_files, got {name!r}")
    path = resources.files("aigc_course").joinpath("data_files", name)
    if not path.is_file():
        raise FileNotFoundError(f"no corpus {name!r} in aigc_course/data_files (is the package installed with its data?)")
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class CharVocab:
    """The sorted set of characters of a text; ids are positions in ``chars``."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty string")
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """A string -> int64 ids ``[len(text)]``; an unknown character raises ``ValueError`` naming it."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - index.keys())
        if unknown:
            raise ValueError(f"text contains characters outside the vocabulary: {unknown}")
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor) -> str:
        """int ids ``[N]`` -> the string they spell."""
        require_tensor("ids", ids, ndim=1)
        if ids.dtype == torch.bool:
            raise TypeError(f"ids must hold integer ids, got dtype {ids.dtype}")
        if ids.is_floating_point() or (len(ids) and (ids.min() < 0 or ids.max() >= self.size)):
            raise ValueError(f"ids must be integers in [0, {self.size - 1}]")
        return "".join(self.chars[i] for i in ids.tolist())


def split_ids(ids: torch.Tensor, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Contiguous split: the first ``1 - val_fraction`` of the ids for training, the rest for validation.

    Contiguous (not shuffled) on purpose: validation text is then a passage the model never
    read, not sentences interleaved with the ones it trained on.
    """
    require_tensor("ids", ids, ndim=1, integer=True)
    require_float("val_fraction", val_fraction, minimum=0.0, maximum=0.5, strict_minimum=True)
    cut = int(round(len(ids) * (1.0 - val_fraction)))
    if cut < 2 or len(ids) - cut < 2:
        raise ValueError(f"ids of length {len(ids)} are too short to split with val_fraction={val_fraction}")
    return ids[:cut], ids[cut:]


def unigram_cross_entropy(train_ids: torch.Tensor, val_ids: torch.Tensor, vocab_size: int,
                          smoothing: float = 1.0) -> float:
    """Cross-entropy (nats per character) of the add-``smoothing`` unigram model on ``val_ids``.

    p(c) = (n_c + alpha) / (N + alpha V) from the ``[N]`` training ids; returns
    -mean_i log p(val_ids[i]) as a Python float. ``smoothing`` = 0 is allowed only when every
    validation character occurs in training (otherwise the loss is infinite).
    """
    vocab_size = require_int("vocab_size", vocab_size, minimum=1)
    require_ids("train_ids", train_ids, vocab_size)
    require_ids("val_ids", val_ids, vocab_size)
    alpha = require_float("smoothing", smoothing, minimum=0.0)
    counts = torch.bincount(train_ids.cpu(), minlength=vocab_size).double() + alpha
    probs = counts / counts.sum()
    p_val = probs[val_ids.cpu()]
    if (p_val == 0).any():
        raise ValueError("a validation character never occurs in training and smoothing is 0: the loss is infinite")
    return float(-p_val.log().mean())


def next_char_probabilities(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """Sampling distribution ``[..., V]`` from logits ``[..., V]``: top-k filter, then softmax(logits / T).

    Entries outside the ``top_k`` largest logits (ties broken as ``torch.topk`` does) get
    probability 0; ``top_k=None`` or ``top_k >= V`` keeps all. ``temperature`` must be > 0; any
    positive value gives a finite distribution (a tiny one: the argmax, a huge one: uniform).
    ``-inf`` logits mean probability 0, but every distribution needs at least one finite logit.
    """
    require_tensor("logits", logits, floating=True)
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(f"logits must have shape [..., V] with V >= 1, got {list(logits.shape)}")
    require_finite("logits", logits, allow_neg_inf=True)
    if logits.numel() and bool(torch.isneginf(logits).all(dim=-1).any()):
        raise ValueError("logits must have at least one finite entry per distribution: an all -inf row leaves "
                         "no character to sample")
    temperature = require_float("temperature", temperature, minimum=0.0, strict_minimum=True)
    if top_k is not None:
        require_int("top_k", top_k, minimum=1)
        if top_k < logits.shape[-1]:
            keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, logits.topk(top_k, dim=-1).indices, True)
            logits = logits.masked_fill(~keep, float("-inf"))
    return softmax(logits, dim=-1, temperature=temperature)  # chapter 04's stable softmax: -inf -> weight 0


def longest_copied_span(text: str, corpus: str) -> str:
    """The longest substring of ``text`` that occurs verbatim in ``corpus`` (the first one if tied).

    A memorization check for text: a sample that reproduces long passages of its training text is
    copying, not writing. Greedy scan, O(len(text) x len(corpus)) at worst; fine for a few thousand
    characters.
    """
    if not isinstance(text, str) or not isinstance(corpus, str):
        raise TypeError("text and corpus must be strings")
    best = ""
    for start in range(len(text)):
        length = len(best) + 1  # only a longer span can improve on the best so far
        while start + length <= len(text) and text[start:start + length] in corpus:
            best = text[start:start + length]
            length += 1
    return best
