"""Chapter 01: normalization (数据归一化) with exact inverses, leak-free k-fold splits, and the
overfitting / cross-validation (过拟合 / 交叉验证) experiments of the notebook.

Scalings of MNIST pixels p in {0..255}:

* unit:        x = p / 255                in [0, 1]   (``data.images_to_unit``; inverse :func:`unit_to_uint8`)
* symmetric:   y = p / 127.5 - 1          in [-1, 1]  (``data.images_to_symmetric``; inverse :func:`symmetric_to_uint8`)
* standardized z = (x - mean) / std, with mean and std fitted on the training split only
  (:func:`fit_standardization`, :func:`standardize`, inverse :func:`unstandardize`).

The classifier experiments reuse :class:`aigc_course.classifier.DigitClassifier` and
:func:`aigc_course.evaluation.train_classifier`.
"""

from __future__ import annotations

from typing import Callable

import matplotlib.pyplot as plt
import torch

from ..evaluation.classifier import DigitClassifier, accuracy, train_classifier
from ..training import History, progress as progress_bar
from ..course.overview import diagram_arrow, diagram_box, diagram_panel  # the course's diagram parts (chapter 00)
from ..validate import require_float, require_images, require_int, require_numbers, require_seed, require_tensor

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _to_uint8(values: torch.Tensor, name: str) -> torch.Tensor:
    if not torch.isfinite(values).all():
        raise ValueError(f"{name} must be finite (NaN or inf cannot become a pixel)")
    return values.round().clamp(0, 255).to(torch.uint8)


def unit_to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Inverse of ``images_to_unit``: x in [0, 1] -> round(255 x) clipped to {0..255}, uint8, same shape."""
    require_tensor("x", x, floating=True)
    return _to_uint8(x * 255.0, "x")


def symmetric_to_uint8(y: torch.Tensor) -> torch.Tensor:
    """Inverse of ``images_to_symmetric``: y in [-1, 1] -> round(127.5 (y + 1)) clipped to {0..255}, uint8.

    Rounding (not truncation) makes the round trip exact: for p = 1, 127.5 (y + 1) comes out
    as 0.99999994 in float32, which truncation would turn into 0. Clipping keeps a generator's slightly-out-of-range output from
    wrapping around (256 would become 0 in uint8).
    """
    require_tensor("y", y, floating=True)
    return _to_uint8((y + 1.0) * 127.5, "y")


def fit_standardization(train_images: torch.Tensor) -> tuple[float, float]:
    """The mean and standard deviation over all pixels of the *training* images: two numbers (any shape).

    std is the population standard deviation sqrt(mean((x - mean)^2)), computed in float64.
    """
    require_tensor("train_images", train_images, floating=True)
    if train_images.numel() < 2:
        raise ValueError("train_images must hold at least two values")
    if not torch.isfinite(train_images).all():
        raise ValueError("train_images must be finite (clean the data first)")
    x = train_images.double()
    mean = x.mean().item()
    std = x.sub(mean).square().mean().sqrt().item()
    if std == 0:
        raise ValueError("train_images are constant: their standard deviation is 0")
    return mean, std


def standardize(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """z = (x - mean) / std (same shape and dtype)."""
    require_tensor("x", x, floating=True, finite=True)
    mean, std = require_float("mean", mean), require_float("std", std, minimum=0.0, strict_minimum=True)
    return _finite_result((x - mean) / std, "standardize")


def _finite_result(result: torch.Tensor, what: str) -> torch.Tensor:
    if not bool(torch.isfinite(result).all()):
        raise ValueError(f"{what} overflows {result.dtype} for this mean and std (std too small or too large?)")
    return result


def unstandardize(z: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Inverse of :func:`standardize`: x = z * std + mean."""
    require_tensor("z", z, floating=True, finite=True)
    mean, std = require_float("mean", mean), require_float("std", std, minimum=0.0, strict_minimum=True)
    return _finite_result(z * std + mean, "unstandardize")


def nearest_class_mean_predict(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor) -> torch.Tensor:
    """Predict each test image's label as that of the closest class mean (Euclidean), ``[M]`` int64.

    A classifier with nothing to train: class means of ``train_x`` ``[N, ...]``, distances to
    ``test_x`` ``[M, ...]``. Used to show, in milliseconds, what statistics fitted on the test
    data do to predictions.
    """
    require_tensor("train_x", train_x, floating=True, finite=True, non_empty=True)
    require_tensor("train_y", train_y, ndim=1, integer=True)
    require_tensor("test_x", test_x, floating=True, finite=True, non_empty=True)
    if train_x.ndim < 2 or test_x.ndim < 2:
        raise ValueError(f"train_x and test_x must be batches [N, ...] of at least one feature each, got shapes "
                         f"{list(train_x.shape)} and {list(test_x.shape)}")
    if train_x.shape[1:] != test_x.shape[1:]:
        raise ValueError(f"test_x must have the per-sample shape of train_x {list(train_x.shape[1:])}, "
                         f"got {list(test_x.shape[1:])}")
    if len(train_x) != len(train_y):
        raise ValueError(f"train_x and train_y must have equal length, got {len(train_x)} and {len(train_y)}")
    classes = torch.unique(train_y)
    flat = train_x.flatten(1).double()
    means = torch.stack([flat[train_y == c].mean(0) for c in classes])
    return classes[torch.cdist(test_x.flatten(1).double(), means).argmin(1)]


def kfold_indices(n: int, k: int, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffle 0..n-1 once and cut it into k folds; return k pairs (train_index, val_index).

    The validation folds partition 0..n-1 (every sample is validated exactly once) and have
    sizes differing by at most one (the first n % k folds get one more); each train index is
    every sample not in that fold, sorted. No sample is ever both trained on and validated in
    one split.
    """
    n = require_int("n", n, minimum=2, maximum=10_000_000)
    k = require_int("k", k, minimum=2, maximum=n)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    order = torch.randperm(n, generator=generator)
    sizes = [n // k + (1 if f < n % k else 0) for f in range(k)]
    folds = torch.split(order, sizes)
    splits = []
    for f, val in enumerate(folds):
        train = torch.cat([folds[g] for g in range(k) if g != f])
        splits.append((train.sort().values, val.sort().values))
    return splits


def stratified_kfold_indices(labels: torch.Tensor, k: int,
                             generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """k (train_index, val_index) pairs whose validation folds hold each class in (almost) equal numbers.

    ``labels`` ``[N]`` (integer classes). The indices of each class are shuffled, the classes are laid
    one after another (smallest label first), and position j of that list goes to fold j mod k: each
    fold gets every class's count divided by k, rounded up or down, and fold sizes differ by at most
    one. As in :func:`kfold_indices`, the validation folds partition 0..N-1 and indices are sorted.
    """
    labels = require_tensor("labels", labels, ndim=1, integer=True)
    n = require_int("len(labels)", len(labels), minimum=2, maximum=10_000_000)
    k = require_int("k", k, minimum=2, maximum=n)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    members = [(labels == c).nonzero().flatten() for c in labels.unique(sorted=True)]
    laid_out = torch.cat([m[torch.randperm(len(m), generator=generator)] for m in members])
    fold_of = torch.empty(n, dtype=torch.long)
    fold_of[laid_out] = torch.arange(n) % k
    return [((fold_of != f).nonzero().flatten(), (fold_of == f).nonzero().flatten()) for f in range(k)]


def train_digit_classifier(train_x: torch.Tensor, train_y: torch.Tensor, *, epochs: int, seed: int,
                           augment: Augment | None = None,
                           eval_sets: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
                           batch_size: int = 64, lr: float = 1e-3, device: torch.device | str | None = None,
                           progress: bool = True) -> tuple[DigitClassifier, History]:
    """A fresh, seeded :class:`DigitClassifier` trained by ``train_classifier``; returns (model, history).

    Images ``[N, 28, 28]`` float in [0, 1]. The seed fixes the initial weights and dropout masks
    (through ``torch.manual_seed(seed)``), the batch order and the augmentation draws, so runs with
    and without augmentation start from the same network and see the same batches.
    """
    require_seed(seed)
    torch.manual_seed(seed)
    model = DigitClassifier()
    if device is not None:
        model.to(device)
    history = train_classifier(model, train_x, train_y, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                               augment=augment, eval_sets=eval_sets, device=device, progress=progress)
    return model, history


def cross_validate(images: torch.Tensor, labels: torch.Tensor, splits: list[tuple[torch.Tensor, torch.Tensor]], *,
                   epochs: int, seed: int, augment: Augment | None = None, batch_size: int = 64, lr: float = 1e-3,
                   device: torch.device | str | None = None, progress: bool = True) -> list[float]:
    """Cross-validation accuracy of the digit classifier: one fresh model per (train, val) split.

    ``splits`` come from :func:`kfold_indices`; fold f's model is trained with seed
    ``seed + f`` on ``images[train]`` and scored on ``images[val]``, which it never saw.
    Passing the same splits and seed for two settings (with and without augmentation)
    makes the comparison paired: same folds, same initial weights. Returns the accuracies.
    """
    require_images("images", images)
    require_tensor("labels", labels, ndim=1, integer=True)
    if len(images) != len(labels):
        raise ValueError(f"images and labels must have equal length, got {len(images)} and {len(labels)}")
    if not isinstance(splits, (list, tuple)) or len(splits) < 2:
        raise ValueError("splits must be a list of at least two (train_index, val_index) pairs")
    for f, split in enumerate(splits):
        if not (isinstance(split, (tuple, list)) and len(split) == 2 and all(isinstance(i, torch.Tensor) and not
                                                                              i.is_floating_point() for i in split)):
            raise ValueError(f"splits[{f}] must be a pair of integer index tensors (train_index, val_index)")
        t, v = set(split[0].tolist()), set(split[1].tolist())
        if not v or not t or t & v or min(t | v) < 0 or max(t | v) >= len(images):
            raise ValueError(f"splits[{f}] must hold disjoint, non-empty index sets within 0..{len(images) - 1}")
    require_seed(seed + len(splits))  # fold f trains with seed + f
    scores = []
    for f, (train_idx, val_idx) in enumerate(progress_bar(splits, desc="cross-validation folds", unit="fold", enabled=progress)):
        model, _ = train_digit_classifier(images[train_idx], labels[train_idx], epochs=epochs, seed=seed + f,
                                          augment=augment, batch_size=batch_size, lr=lr, device=device,
                                          progress=False)
        scores.append(accuracy(model, images[val_idx], labels[val_idx]))
    return scores


def mean_and_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (divisor n - 1) of at least two numbers."""
    values = require_numbers("values", values, min_length=2)
    t = torch.tensor(values, dtype=torch.float64)
    return t.mean().item(), t.std().item()



def _draw(ax: plt.Axes, title: str, boxes: dict[str, tuple[float, float, float, str, str]],
          links: list[tuple[str, str, str]]) -> None:
    diagram_panel(ax, title)
    geometry = {name: diagram_box(ax, x, y, text, kind, width=width) for name, (x, y, width, text, kind) in boxes.items()}
    for start, end, text in links:
        diagram_arrow(ax, geometry[start], geometry[end], text)


def draw_preprocessing_in_pipelines() -> plt.Figure:
    """Where preprocessing sits: GAN training, VAE training, and generation (three panels).

    Real data, cleaned and scaled, reaches only the discriminator (GAN) or the encoder (VAE);
    a GAN generator reads noise; generated images are mapped back to pixels by the inverse scaling.
    """
    fig, axes = plt.subplots(3, 1, figsize=(10, 6.6))
    _draw(axes[0], "(a) GAN training: preprocessed real data goes to the discriminator only",
          {"raw": (0.8, 2.2, 1.3, "raw data", "data"), "clean": (2.8, 2.2, 1.4, "clean", "data"),
           "scale": (4.9, 2.2, 1.6, "scale to [-1, 1]", "data"), "noise": (2.8, 0.7, 1.8, "noise z ~ N(0, I)", "noise"),
           "G": (4.9, 0.7, 1.6, "generator G", "model"), "aug": (7.1, 1.45, 1.6, "optional augment\n(real AND fake)", "data"),
           "D": (9.1, 1.45, 1.5, "discriminator D", "model")},
          [("raw", "clean", ""), ("clean", "scale", ""), ("scale", "aug", "real x"), ("noise", "G", ""),
           ("G", "aug", "fake G(z)"), ("aug", "D", "")])
    _draw(axes[1], "(b) VAE training: the encoder reads the data; the decoder must rebuild that same preprocessed x",
          {"raw": (0.8, 1.5, 1.3, "raw data", "data"), "clean": (2.8, 1.5, 1.4, "clean", "data"),
           "scale": (4.9, 1.5, 1.6, "scale to [0, 1]", "data"), "enc": (7.1, 1.5, 1.6, "encoder q(z|x)", "model"),
           "dec": (9.1, 1.5, 1.5, "decoder p(x|z)", "model")},
          [("raw", "clean", ""), ("clean", "scale", ""), ("scale", "enc", "x"), ("enc", "dec", "z")])
    axes[1].text(8.1, 0.55, "loss: decoder output vs. this x", ha="center", fontsize=7.5, color="#b03030")
    _draw(axes[2], "(c) Generation: no data at all; the inverse scaling turns outputs back into pixels",
          {"noise": (1.3, 1.5, 1.8, "noise z ~ N(0, I)", "noise"), "G": (4.0, 1.5, 1.7, "trained G\n(or decoder)", "model"),
           "inv": (6.8, 1.5, 2.0, "inverse scaling\nsymmetric_to_uint8", "data"),
           "out": (9.1, 1.5, 1.4, "generated image", "out")},
          [("noise", "G", ""), ("G", "inv", "[-1, 1]"), ("inv", "out", "uint8")])
    fig.tight_layout()
    return fig
