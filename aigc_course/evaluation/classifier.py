"""A small MNIST digit classifier, shared by the chapters that need one.

Chapter 01 trains it on 1,000 images to show overfitting and augmentation; chapter 05 trains
it on all of MNIST and uses its probabilities and features to judge generated digits;
chapter 06 reuses the same training loop for a real-versus-generated detector.

Inputs are float images ``[B, 1, 28, 28]`` (or ``[B, 28, 28]``) with values in [0, 1].
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data import InMemoryBatches
from ..training import History, device_of, evaluating, progress as progress_bar
from ..validate import require_float, require_images, require_int, require_seed, require_tensor


class DigitClassifier(nn.Module):
    """conv(32) -> pool -> conv(64) -> pool -> fc(``feature_dim``) -> dropout -> fc(``num_classes``).

    ``features(x)`` returns the ``[B, feature_dim]`` penultimate activations (used for the
    Frechet distance in chapter 05); ``forward(x)`` returns ``[B, num_classes]`` logits.
    """

    def __init__(self, num_classes: int = 10, feature_dim: int = 128, dropout: float = 0.3) -> None:
        super().__init__()
        require_int("num_classes", num_classes, minimum=2)
        require_int("feature_dim", feature_dim, minimum=1)
        require_float("dropout", dropout, minimum=0.0, maximum=0.99)
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # [B, 32, 14, 14]
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # [B, 64, 7, 7]
        )
        self.fc = nn.Linear(64 * 7 * 7, feature_dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``[B, feature_dim]`` (after ReLU, before dropout)."""
        return F.relu(self.fc(self.conv(require_images("x", x, pixel_range=None, allow_empty=True)).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Logits ``[N, C]`` for float images ``[N, (1,) 28, 28]`` in [0, 1], in eval mode, on the model's device."""
    images = require_images("images", images, allow_empty=True)
    require_int("batch_size", batch_size, minimum=1)
    if len(images) == 0:
        return torch.zeros(0, getattr(getattr(model, "head", None), "out_features", 10))
    device = device_of(model)
    with evaluating(model):
        return torch.cat([model(images[i:i + batch_size].to(device)).float().cpu()
                          for i in range(0, len(images), batch_size)])


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of ``images`` whose arg-max class equals ``labels`` (a float in [0, 1])."""
    images = require_images("images", images)
    require_tensor("labels", labels, ndim=1, integer=True)
    if len(images) != len(labels):
        raise ValueError(f"images and labels must be of equal length, got {len(images)} and {len(labels)}")
    return (predict_logits(model, images, batch_size).argmax(1) == labels.cpu()).float().mean().item()


def train_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, epochs: int,
                     batch_size: int = 128, lr: float = 1e-3, weight_decay: float = 0.0, seed: int = 0,
                     augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
                     eval_sets: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
                     device: torch.device | str | None = None, progress: bool = True) -> History:
    """Train with Adam on cross-entropy; return the per-epoch :class:`aigc_course.training.History`.

    ``augment(batch, generator)`` (optional) transforms each float batch ``[B, 1, 28, 28]``
    before the step. History: ``"train/loss"`` (mean training loss per epoch) and, for each
    ``name`` in ``eval_sets``, ``f"eval/{name}_accuracy"`` measured after every epoch.
    """
    x = require_images("images", images)
    require_tensor("labels", labels, ndim=1, integer=True)
    if len(x) != len(labels):
        raise ValueError(f"images and labels must be of equal length, got {len(x)} and {len(labels)}")
    classes = getattr(getattr(model, "head", None), "out_features", None)
    if labels.min() < 0 or (classes is not None and labels.max() >= classes):
        raise ValueError(f"labels must be class indices in [0, {classes - 1 if classes else 'C - 1'}], "
                         f"got range [{int(labels.min())}, {int(labels.max())}]")
    for name, pair in (eval_sets or {}).items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"eval_sets[{name!r}] must be a pair (images, labels)")
        require_images(f"eval_sets[{name!r}][0]", pair[0])
        require_tensor(f"eval_sets[{name!r}][1]", pair[1], ndim=1, integer=True, shape=[len(pair[0])])
    require_int("epochs", epochs, minimum=1)
    require_float("lr", lr, minimum=0.0, strict_minimum=True)
    require_float("weight_decay", weight_decay, minimum=0.0)
    require_seed(seed)
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a function (batch, generator) -> batch or None, got {type(augment).__name__}")
    device = torch.device(device) if device is not None else device_of(model)
    model.to(device)
    batches = InMemoryBatches(x, labels, batch_size=batch_size, shuffle=True, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    for _ in progress_bar(range(epochs), desc="classifier epochs", unit="epoch", enabled=progress, leave=False):
        model.train()
        total, count = 0.0, 0
        for xb, yb in batches:
            if augment is not None:
                xb = augment(xb, generator)
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            count += len(yb)
        history.log("train", loss=total / count)
        for name, (ex, ey) in (eval_sets or {}).items():
            history.log("eval", **{f"{name}_accuracy": accuracy(model, ex, ey)})
    model.eval()
    return history
