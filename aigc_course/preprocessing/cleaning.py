"""Chapter 01: data cleaning (数据清洗) that reports problems instead of silently dropping images.

Every detector takes float images ``[N, H, W]`` (or ``[N, 1, H, W]``) meant to lie in [0, 1]
and returns a list of :class:`Issue` ``(index, kind, reason)``. :func:`clean_report` runs them
all and gathers the results; what to drop stays the caller's decision.

* :func:`find_non_finite`: any NaN or infinite pixel (a broken file, a division by zero);
* :func:`find_out_of_range`: finite pixels outside [low, high] (e.g. an image left in 0-255);
* :func:`find_blank`: near-constant images, pixel standard deviation below ``min_std``;
* :func:`find_duplicates`: exact copies (hash of the bytes, confirmed byte by byte);
  the first occurrence is kept, later ones are reported;
* :func:`find_outliers`: robust z-scores (median and MAD) of simple per-image features.

:func:`inject_corruption` plants known problems in a copy of clean images so that
:func:`detection_scores` can measure the cleaner's recall and false-positive rate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

import torch

from ..validate import require_float, require_images, require_int, require_tensor


class Issue(NamedTuple):
    """One problem found in one image: its index, a short kind, and a readable reason."""

    index: int
    kind: str
    reason: str


def _flat(images: torch.Tensor) -> torch.Tensor:
    """[N, H, W] or [N, 1, H, W] float -> [N, H, W] (a view). NaN, inf and any range are allowed: finding them is the point."""
    return require_images("images", images, pixel_range=None, allow_empty=True, size=None, finite=False)[:, 0]


def find_non_finite(images: torch.Tensor) -> list[Issue]:
    """Images holding at least one NaN or +-inf pixel."""
    x = _flat(images).flatten(1)
    nan, inf = torch.isnan(x).sum(1), torch.isinf(x).sum(1)
    return [Issue(i, "non_finite", f"{nan[i]} NaN and {inf[i]} infinite pixels")
            for i in torch.nonzero((nan + inf) > 0).flatten().tolist()]


def find_out_of_range(images: torch.Tensor, low: float = 0.0, high: float = 1.0, tol: float = 1e-6) -> list[Issue]:
    """Images with a finite pixel below ``low - tol`` or above ``high + tol`` (NaNs are ignored here)."""
    low, high = require_float("low", low), require_float("high", high)
    if low >= high:
        raise ValueError(f"low must be < high, got low={low}, high={high}")
    tol = require_float("tol", tol, minimum=0.0)
    x = _flat(images).flatten(1)
    finite = torch.isfinite(x)
    smallest = torch.where(finite, x, torch.full_like(x, float("inf"))).min(1).values
    largest = torch.where(finite, x, torch.full_like(x, float("-inf"))).max(1).values
    issues = []
    for i in torch.nonzero((smallest < low - tol) | (largest > high + tol)).flatten().tolist():
        hint = " (looks like the 0-255 scale)" if largest[i] > 2 * high and largest[i] <= 255.0 else ""
        issues.append(Issue(i, "out_of_range",
                            f"pixels span [{smallest[i]:.3g}, {largest[i]:.3g}], outside [{low:g}, {high:g}]{hint}"))
    return issues


def find_blank(images: torch.Tensor, min_std: float = 0.05) -> list[Issue]:
    """Near-constant images: the standard deviation of their finite pixels is below ``min_std``."""
    min_std = require_float("min_std", min_std, minimum=0.0)
    x = _flat(images).flatten(1).double()
    finite = torch.isfinite(x)
    count = finite.sum(1).clamp_min(1)
    mean = torch.where(finite, x, 0.0).sum(1) / count
    std = (torch.where(finite, x - mean[:, None], 0.0).square().sum(1) / count).sqrt()
    return [Issue(i, "blank", f"near-constant: pixel std {std[i]:.3g} < {min_std:g} (mean {mean[i]:.3g})")
            for i in torch.nonzero(std < min_std).flatten().tolist()]


def find_duplicates(images: torch.Tensor) -> list[Issue]:
    """Exact duplicates: every image equal to an earlier one, with the index of its first copy.

    Hashes each image's bytes (BLAKE2b), then confirms a hash match by comparing the bytes
    themselves (so two copies of an image holding NaNs are duplicates too).
    """
    x = _flat(images).detach().contiguous().cpu()
    x = x + 0.0  # -0.0 and +0.0 are equal pixels but have different bytes
    first_by_hash: dict[bytes, list[tuple[int, bytes]]] = {}
    issues = []
    for i in range(len(x)):
        raw = x[i].numpy().tobytes()
        candidates = first_by_hash.setdefault(hashlib.blake2b(raw, digest_size=16).digest(), [])
        original = next((j for j, other in candidates if other == raw), None)
        if original is None:
            candidates.append((i, raw))
        else:
            issues.append(Issue(i, "duplicate", f"exact duplicate of image {original}"))
    return issues


OUTLIER_FEATURES = ("ink", "roughness", "roughness_per_ink")


def image_features(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Three simple per-image features, each a ``[N]`` tensor.

    * ink: the mean pixel value;
    * roughness: mean |x[i, j+1] - x[i, j]| + mean |x[i+1, j] - x[i, j]| (a total variation);
    * roughness_per_ink: roughness / ink. Pen strokes 2-3 pixels wide give about 1;
      isolated speckles give much more (every lit pixel has edges on all sides).
    """
    x = _flat(images).double()
    ink = x.mean((1, 2))
    roughness = (x[:, :, 1:] - x[:, :, :-1]).abs().mean((1, 2)) + (x[:, 1:] - x[:, :-1]).abs().mean((1, 2))
    return {"ink": ink, "roughness": roughness, "roughness_per_ink": roughness / ink.clamp_min(1e-6)}


def robust_z(values: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Robust z-score 0.6745 (v - median) / MAD, with median and MAD taken from ``reference``.

    MAD = median |r - median(r)|; 0.6745 makes the score match the usual z for Gaussian data
    (the MAD of N(0, 1) is 0.6745). Unlike mean and standard deviation, the median and the
    MAD barely move when a few extreme values are added, so outliers cannot hide themselves.
    """
    require_tensor("values", values, ndim=1, finite=True)
    reference = values if reference is None else require_tensor("reference", reference, ndim=1, finite=True)
    if len(reference) == 0:
        raise ValueError("reference must not be empty")
    median = reference.median()
    mad = (reference - median).abs().median()
    if mad == 0:
        raise ValueError("reference has a MAD of 0 (over half its values are equal): robust z is undefined")
    return 0.6745 * (values - median) / mad


def find_outliers(images: torch.Tensor, threshold: float = 3.5,
                  reference: torch.Tensor | None = None) -> list[Issue]:
    """Images whose largest robust |z| over :data:`OUTLIER_FEATURES` exceeds ``threshold``.

    Medians and MADs come from ``reference`` images (default: ``images`` themselves, which
    is fine as long as fewer than half are outliers). 3.5 is the cut-off Iglewicz and
    Hoaglin recommend for the robust z-score. Images must be finite (run find_non_finite first).
    """
    threshold = require_float("threshold", threshold, minimum=0.0, strict_minimum=True)
    x = _flat(images)
    if not torch.isfinite(x).all():
        raise ValueError("images must be finite for outlier scores; drop the ones find_non_finite reports first")
    if len(x) == 0:
        return []
    features = image_features(x)
    ref_features = features if reference is None else image_features(reference)
    scores = torch.stack([robust_z(features[k], ref_features[k]) for k in OUTLIER_FEATURES], 1)  # [N, 3]
    worst, which = scores.abs().max(1)
    issues = []
    for i in torch.nonzero(worst > threshold).flatten().tolist():
        name = OUTLIER_FEATURES[which[i]]
        issues.append(Issue(i, "outlier", f"{name} = {features[name][i]:.3g} has robust z = {scores[i, which[i]]:+.1f}"))
    return issues


@dataclass
class CleaningReport:
    """All issues found, and the images they concern."""

    n_images: int
    issues: list[Issue]

    @property
    def flagged(self) -> list[int]:
        """Sorted indices of images with at least one issue."""
        return sorted({issue.index for issue in self.issues})

    def counts(self) -> dict[str, int]:
        """Number of images flagged by each kind of check."""
        out: dict[str, int] = {}
        for issue in self.issues:
            out[issue.kind] = out.get(issue.kind, 0) + 1
        return out

    def keep_mask(self) -> torch.Tensor:
        """Boolean ``[N]``: True for images with no issue."""
        mask = torch.ones(self.n_images, dtype=torch.bool)
        mask[self.flagged] = False
        return mask


def clean_report(images: torch.Tensor, *, low: float = 0.0, high: float = 1.0, min_std: float = 0.05,
                 outlier_threshold: float = 3.5) -> CleaningReport:
    """Run every check. Outlier scores use only images that passed the other checks."""
    x = _flat(images)
    issues = find_non_finite(x) + find_out_of_range(x, low, high) + find_blank(x, min_std) + find_duplicates(x)
    bad = {issue.index for issue in issues}
    rest = torch.tensor([i for i in range(len(x)) if i not in bad], dtype=torch.long)
    if len(rest):
        issues += [Issue(int(rest[o.index]), o.kind, o.reason) for o in find_outliers(x[rest], outlier_threshold)]
    return CleaningReport(len(x), issues)


CORRUPTION_KINDS = ("clean", "duplicate", "blank", "noise", "nan", "out_of_range")


def inject_corruption(images: torch.Tensor, generator: torch.Generator, per_kind: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A corrupted copy of clean images ``[N, H, W]`` in [0, 1], and the truth ``[N]`` (int64).

    ``truth[i]`` indexes :data:`CORRUPTION_KINDS` (0 = clean). ``per_kind`` distinct random
    images are overwritten with each kind of corruption:

    * duplicate: a copy of a clean image at a smaller index (so "keep the first" keeps it);
    * blank: a constant grey level in [0, 1] plus N(0, 0.01^2) jitter, clipped to [0, 1];
    * noise: each pixel lit with probability q ~ U(0.1, 0.6) at a value ~ U(0, 1), else 0;
    * nan: the digit with a random 4x4 patch of NaN (a partly unreadable file);
    * out_of_range: the digit left on the 0-255 scale (x * 255, a forgotten division).
    """
    x = _flat(images).clone()
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    per_kind = require_int("per_kind", per_kind, minimum=1)
    n, h, w = x.shape
    kinds = len(CORRUPTION_KINDS) - 1
    if n < 2 * kinds * per_kind:
        raise ValueError(f"images must hold at least {2 * kinds * per_kind} images for per_kind={per_kind}, got {n}")
    truth = torch.zeros(n, dtype=torch.long)
    slots = torch.randperm(n, generator=generator)[:kinds * per_kind].view(kinds, per_kind)
    for k in range(kinds):
        truth[slots[k]] = k + 1
    clean = torch.nonzero(truth == 0).flatten()
    for j in slots[0].tolist():  # duplicates: copy a clean image with a smaller index
        before = clean[clean < j]
        if len(before) == 0:  # no clean image before j: make j clean and skip (rare)
            truth[j] = 0
            continue
        x[j] = x[before[torch.randint(len(before), (1,), generator=generator)]]
    m = per_kind
    level = torch.rand(m, 1, 1, generator=generator)
    x[slots[1]] = (level + 0.01 * torch.randn(m, h, w, generator=generator)).clamp(0, 1)
    q = 0.1 + 0.5 * torch.rand(m, 1, 1, generator=generator)
    x[slots[2]] = (torch.rand(m, h, w, generator=generator) < q) * torch.rand(m, h, w, generator=generator)
    for j in slots[3].tolist():
        r, c = torch.randint(0, h - 3, (1,), generator=generator).item(), torch.randint(0, w - 3, (1,), generator=generator).item()
        x[j, r:r + 4, c:c + 4] = float("nan")
    x[slots[4]] = x[slots[4]] * 255.0
    return x, truth


def detection_scores(report: CleaningReport, truth: torch.Tensor) -> dict[str, float]:
    """Recall per corruption kind and overall, false-positive rate on clean images, precision.

    recall_k = |flagged and truth == k| / |truth == k|; false_positive_rate =
    |flagged and clean| / |clean|; precision = |flagged and corrupt| / |flagged|.
    """
    require_tensor("truth", truth, ndim=1)
    if len(truth) != report.n_images:
        raise ValueError(f"truth must have one entry per image ({report.n_images}), got {len(truth)}")
    flagged = ~report.keep_mask()
    corrupt = truth > 0
    scores: dict[str, float] = {}
    for k, name in enumerate(CORRUPTION_KINDS[1:], start=1):
        of_kind = truth == k
        if of_kind.any():
            scores[f"recall_{name}"] = (flagged & of_kind).sum().item() / of_kind.sum().item()
    scores["recall"] = (flagged & corrupt).sum().item() / max(corrupt.sum().item(), 1)
    scores["false_positive_rate"] = (flagged & ~corrupt).sum().item() / max((~corrupt).sum().item(), 1)
    scores["precision"] = (flagged & corrupt).sum().item() / max(flagged.sum().item(), 1)
    return scores
