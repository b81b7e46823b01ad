"""Judging the chapter's models with the course classifier (:mod:`aigc_course.evaluation`), timing their sampling.

The scores themselves (Inception-style score, Frechet distance in the classifier's features,
class histogram) come from :func:`aigc_course.evaluation.metrics.evaluate_images`; this module
adds what is particular to diffusion: the cost of sampling, and how classifier-free guidance
trades diversity for the requested class.

* requested-class accuracy: the share of digits drawn for class c that the classifier calls c;
* within-class diversity: the mean pixel distance between two digits drawn for the same class
  (it shrinks as the guidance scale w grows; at w = 0 the model ignores the class).
"""

from __future__ import annotations

import torch

from .recipes import TrainedDiffusion
from .training import CLOCKS
from ..evaluation.classifier import predict_logits
from ..evaluation.metrics import evaluate_images
from ..validate import require_choice, require_float, require_images, require_int, require_numbers, require_seed, require_tensor


def requested_accuracy(classifier: torch.nn.Module, images: torch.Tensor, requested: torch.Tensor) -> float:
    """Share of ``images`` ``[N, 1, 28, 28]`` in [0, 1] that the classifier assigns to ``requested`` ``[N]``."""
    images = require_images("images", images)
    require_tensor("requested", requested, ndim=1, integer=True, shape=[len(images)])
    predicted = predict_logits(classifier, images[:, 0]).argmax(1).cpu()
    return float((predicted == requested.cpu()).double().mean())


def within_class_diversity(images: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean pixel L2 distance between distinct pairs of images that share a label (images in [0, 1])."""
    images = require_images("images", images).flatten(1).double()
    require_tensor("labels", labels, ndim=1, integer=True, shape=[len(images)])
    total, pairs = 0.0, 0
    for c in labels.unique():
        group = images[labels == c]
        if len(group) < 2:
            continue
        d = torch.cdist(group, group)
        total += float(d.sum())  # the diagonal is 0
        pairs += len(group) * (len(group) - 1)
    if pairs == 0:
        raise ValueError("labels must have at least one class with two images")
    return total / pairs


def sampling_seconds(trained: TrainedDiffusion, n: int, steps: int, method: str = "euler", seed: int = 0,
                     clock: str = "wall") -> float:
    """Seconds on ``clock`` (``"wall"`` or ``"cpu"``: process time) to draw ``n`` digits (decoded, in [0, 1]) with
    ``steps`` steps, after one warm-up call."""
    if not isinstance(trained, TrainedDiffusion):
        raise TypeError(f"trained must be a TrainedDiffusion, got {type(trained).__name__}")
    require_int("n", n, minimum=1, maximum=100_000)
    require_seed(seed)
    now = CLOCKS[require_choice("clock", clock, sorted(CLOCKS))]
    trained.sample(2, steps=steps, method=method, generator=torch.Generator().manual_seed(seed))
    start = now()
    trained.sample(n, steps=steps, method=method, generator=torch.Generator().manual_seed(seed))
    return now() - start


def score_samples(trained: TrainedDiffusion, classifier: torch.nn.Module, reference_features: torch.Tensor, n: int,
                  steps: int, method: str = "euler", seed: int = 0, clock: str = "wall",
                  guidance: float | None = None) -> dict:
    """Draw ``n`` digits and score them (:func:`evaluate_images`), with the sampling seconds on ``clock``.

    ``guidance=None``: unconditional digits (the "no class" token). ``guidance=w`` (a class-conditional
    model only): the digits are requested class by class, label ``i % 10`` for the i-th digit (so the
    classes are balanced by construction, within one digit), and sampled with classifier-free guidance
    at scale w. The report then also holds ``requested_accuracy``.
    """
    if not isinstance(trained, TrainedDiffusion):
        raise TypeError(f"trained must be a TrainedDiffusion, got {type(trained).__name__}")
    require_int("n", n, minimum=2, maximum=100_000)
    require_seed(seed)
    now = CLOCKS[require_choice("clock", clock, sorted(CLOCKS))]
    requested = None
    if guidance is not None:
        require_float("guidance", guidance, minimum=0.0, maximum=100.0)
        if not trained.recipe.conditional:
            raise ValueError("guidance needs a class-conditional model (recipe.conditional=True), got an unconditional one")
        requested = torch.arange(n) % 10
    start = now()
    images = trained.sample(n, steps=steps, method=method, generator=torch.Generator().manual_seed(seed),
                            y=requested, guidance=1.0 if guidance is None else guidance)
    seconds = now() - start
    report = evaluate_images(classifier, images, reference_features)
    report["sampling_seconds_per_1000"] = seconds * 1000 / n
    if requested is not None:
        report["requested_accuracy"] = requested_accuracy(classifier, images, requested)
    return report


def guidance_sweep(trained: TrainedDiffusion, classifier: torch.nn.Module, scales, n_per_class: int = 100,
                   steps: int = 20, seed: int = 0) -> list[dict]:
    """For each guidance scale w: requested-class accuracy and within-class diversity of 10 x ``n_per_class`` digits."""
    if not isinstance(trained, TrainedDiffusion):
        raise TypeError(f"trained must be a TrainedDiffusion, got {type(trained).__name__}")
    if not trained.recipe.conditional:
        raise ValueError("trained must be a class-conditional model (recipe.conditional=True) for guidance")
    scales = require_numbers("scales", scales, min_length=1)
    for i, w in enumerate(scales):
        require_float(f"scales[{i}]", w, minimum=0.0, maximum=100.0)
    require_int("n_per_class", n_per_class, minimum=2, maximum=10_000)
    requested = torch.arange(10).repeat_interleave(n_per_class)
    rows = []
    for w in scales:
        images = trained.sample(len(requested), steps=steps, y=requested, guidance=w,
                                generator=torch.Generator().manual_seed(seed))
        rows.append({"guidance": w, "accuracy": requested_accuracy(classifier, images, requested),
                     "diversity": within_class_diversity(images, requested)})
    return rows
