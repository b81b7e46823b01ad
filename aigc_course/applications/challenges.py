"""Chapter 06 challenges, measured: compute cost, memorization, and detecting generated images.

* **Compute** (:func:`course_training_steps`, :func:`time_training_steps`): one optimizer step of
  each of the course's models on a batch of real data, timed on this machine; parameters counted.
* **Memorization** (:func:`memorization_distances`): the pixel distance from each generated image to
  its nearest training image, beside the same distance for real *test* images, which the model never
  saw. Generated images much closer to the training set than real unseen ones are would be copies.
* **Detection** (:func:`real_vs_generated`, :func:`train_detector`): chapter 01's classifier,
  trained to answer "real or generated?" on held-out images. Accuracy 0.5 is chance.

Images are float ``[N, 1, 28, 28]`` (or ``[N, 28, 28]``) with values in [0, 1].
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .text_model import CharTransformer, random_windows
from ..evaluation.classifier import DigitClassifier, accuracy, predict_logits, train_classifier
from ..evaluation.metrics import nearest_neighbours
from ..gan.losses import gan_training_step
from ..checkpoints import CheckpointError
from ..gan.runs import run_folder
from ..gan.training import TrainingRun, train_gan
from ..gan.mnist_models import build_models, count_parameters, model_spec
from ..validate import require_float, require_ids, require_images, require_int, require_seed, require_tensor, unit_to_symmetric
from ..vae.losses import forward_loss
from ..vae.models import ConvVAE, MLPVAE


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_training_steps(step: Callable[[], Any], steps: int, warmup: int = 2,
                        device: torch.device | str = "cpu") -> float:
    """Mean wall-clock seconds of one call of ``step()`` over ``steps`` calls, after ``warmup`` untimed calls.

    On CUDA the device is synchronized before reading the clock (kernels run asynchronously).
    """
    if not callable(step):
        raise TypeError(f"step must be a function, got {type(step).__name__}")
    require_int("steps", steps, minimum=1)
    require_int("warmup", warmup, minimum=0)
    device = torch.device(device)
    for _ in range(warmup):
        step()
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _synchronize(device)
    return (time.perf_counter() - start) / steps


def _images(name: str, x: torch.Tensor) -> torch.Tensor:
    return require_images(name, x)  # [N, 1, 28, 28] in [0, 1]


def course_training_steps(images: torch.Tensor, text_ids: torch.Tensor, vocab_size: int, *, batch_size: int = 64,
                          device: torch.device | str = "cpu", seed: int = 0) -> dict[str, dict[str, Any]]:
    """One training step of each course model, ready to time: ``name -> {"model", "parameters", "step", "batch"}``.

    Models: chapter 01's DigitClassifier, chapter 03's MLPVAE and ConvVAE, chapter 05's DCGAN
    (generator + discriminator, one step updates both) and this chapter's CharTransformer (a batch
    of ``batch_size`` 64-character windows). Each ``step()`` draws a fresh random batch.
    """
    x = _images("images", images)
    require_int("vocab_size", vocab_size, minimum=2)
    require_ids("text_ids", text_ids, vocab_size)
    require_int("batch_size", batch_size, minimum=1, maximum=100_000)
    device = torch.device(device)
    g = torch.Generator().manual_seed(require_seed(seed))
    labels = torch.randint(0, 10, (len(x),), generator=g)  # the classifier's step cost does not depend on label values

    def batch() -> torch.Tensor:
        return x[torch.randint(0, len(x), (batch_size,), generator=g)].to(device)

    steps: dict[str, dict[str, Any]] = {}

    classifier = DigitClassifier().to(device)
    c_opt = torch.optim.Adam(classifier.parameters(), lr=1e-3)

    def classifier_step() -> None:
        index = torch.randint(0, len(x), (batch_size,), generator=g)
        loss = F.cross_entropy(classifier(x[index].to(device)), labels[index].to(device))
        c_opt.zero_grad(set_to_none=True)
        loss.backward()
        c_opt.step()

    steps["DigitClassifier (ch. 01)"] = {"model": classifier, "step": classifier_step}
    for name, vae in (("MLPVAE (ch. 03)", MLPVAE()), ("ConvVAE (ch. 03)", ConvVAE())):
        vae = vae.to(device)
        optimizer = torch.optim.Adam(vae.parameters(), lr=1e-3)

        def vae_step(vae: nn.Module = vae, optimizer: torch.optim.Optimizer = optimizer) -> None:
            loss = forward_loss(vae, batch()).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        steps[name] = {"model": vae, "step": vae_step}

    dcgan = model_spec("dcgan")  # sizes and learning rates from chapter 05's spec, not repeated here
    generator, discriminator = (m.to(device) for m in build_models(dcgan))
    g_opt = torch.optim.Adam(generator.parameters(), lr=dcgan.g_lr, betas=dcgan.betas)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=dcgan.d_lr, betas=dcgan.betas)

    def gan_step() -> None:
        noise = torch.randn(batch_size, dcgan.z_dim, generator=g).to(device)
        gan_training_step(generator, discriminator, g_opt, d_opt, unit_to_symmetric(batch()), noise)

    steps["DCGAN, G + D (ch. 05)"] = {"model": nn.ModuleList([generator, discriminator]), "step": gan_step}

    text_model = CharTransformer(vocab_size).to(device)
    t_opt = torch.optim.AdamW(text_model.parameters(), lr=1e-3)

    def text_step() -> None:
        xb, yb = random_windows(text_ids, text_model.block_size, batch_size, g)
        loss = F.cross_entropy(text_model(xb.to(device)).flatten(0, 1), yb.to(device).flatten())
        t_opt.zero_grad(set_to_none=True)
        loss.backward()
        t_opt.step()

    steps["CharTransformer (ch. 06)"] = {"model": text_model, "step": text_step}
    for entry in steps.values():
        entry["parameters"] = count_parameters(entry["model"])
        entry["batch"] = batch_size
    return steps


def load_or_train_gan(model: str, epochs: int, train_subset: int | None = None, *, seed: int = 0,
                      device: torch.device | str | None = None, progress: bool = True) -> TrainingRun:
    """Chapter 05's GAN ``model``, from the folder chapter 05 trains it in (:func:`run_folder`), or trained there.

    A run with at least ``epochs`` epochs is loaded as it is (possibly more epochs than asked), a
    shorter one is resumed. If that folder holds an incompatible run, this chapter's own folder (the
    same name plus ``-ch06``) is used instead; nothing is overwritten.
    """
    folder = run_folder(model, train_subset, seed=seed)
    try:
        return train_gan(model, epochs, folder, seed=seed, train_subset=train_subset, device=device, progress=progress)
    except CheckpointError:
        return train_gan(model, epochs, folder.with_name(folder.name + "-ch06"), seed=seed, train_subset=train_subset,
                         device=device, progress=progress)


def memorization_distances(generated: torch.Tensor, train: torch.Tensor,
                           held_out: torch.Tensor) -> dict[str, torch.Tensor]:
    """Nearest-training-image distances ``[N]`` of generated and of held-out real images, and the indices.

    Returns ``generated`` and ``held_out`` distances and ``generated_index`` (the nearest training
    image of each generated one). Distances are Euclidean in pixel space, images in [0, 1].
    """
    gen, pool, real = (_images(n, v)[:, 0] for n, v in (("generated", generated), ("train", train),
                                                         ("held_out", held_out)))
    gen_d, gen_i = nearest_neighbours(gen, pool)
    real_d, _ = nearest_neighbours(real, pool)
    return {"generated": gen_d, "held_out": real_d, "generated_index": gen_i}


def real_vs_generated(real: torch.Tensor, generated: torch.Tensor, test_fraction: float = 0.3,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Shuffle real (label 0) and generated (label 1) images together and split: ``(x_tr, y_tr, x_te, y_te)``."""
    real, generated = _images("real", real), _images("generated", generated)
    require_float("test_fraction", test_fraction, minimum=0.0, maximum=0.9, strict_minimum=True)
    x = torch.cat([real, generated]).float()
    y = torch.cat([torch.zeros(len(real), dtype=torch.long), torch.ones(len(generated), dtype=torch.long)])
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(require_seed(seed)))
    n_test = max(1, int(round(len(x) * test_fraction)))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def train_detector(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor, *,
                   epochs: int, device: torch.device | str = "cpu", seed: int = 0,
                   progress: bool = True) -> tuple[DigitClassifier, dict[str, float]]:
    """Chapter 01's classifier with two outputs (real, generated), trained with its own loop; held-out scores.

    Scores: ``accuracy`` (both classes), ``real_recall`` (real images called real) and
    ``generated_recall`` (generated images called generated), all on the test split.
    """
    require_int("epochs", epochs, minimum=1, maximum=1000)
    for name, x, y in (("x_train", x_train, y_train), ("x_test", x_test, y_test)):
        _images(name, x)
        label = "y" + name[1:]
        require_tensor(label, y, ndim=1, integer=True, shape=[len(x)])
        if y.numel() and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"{label} must hold labels 0 (real) or 1 (generated), got range [{int(y.min())}, {int(y.max())}]")
    torch.manual_seed(require_seed(seed))
    detector = DigitClassifier(num_classes=2).to(device)
    train_classifier(detector, x_train, y_train, epochs=epochs, seed=seed, device=device, progress=progress)
    predicted = predict_logits(detector, x_test).argmax(1)
    scores = {"accuracy": accuracy(detector, x_test, y_test)}
    for name, label in (("real_recall", 0), ("generated_recall", 1)):
        mask = y_test == label
        scores[name] = float((predicted[mask] == label).float().mean()) if mask.any() else float("nan")
    return detector, scores


@torch.no_grad()
def generated_probability(detector: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The detector's probability ``[N]`` that each image is generated (softmax of its two logits)."""
    return torch.softmax(predict_logits(detector, _images("images", images).float()), dim=1)[:, 1]
