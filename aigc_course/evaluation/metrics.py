"""Judging generated digits with the course's own MNIST classifier (chapter 05).

The classifier is :class:`aigc_course.classifier.DigitClassifier`, trained once and cached in
``data_dir() / "models"``. With it, for ``N`` images ``x_i`` (float ``[N, 28, 28]`` in [0, 1]):

* **class probabilities** ``p(y | x_i)`` = softmax of its logits, ``[N, 10]``;
* **Inception-style score** IS = exp( mean_i KL( p(y | x_i) || p(y) ) ),  p(y) = mean_i p(y | x_i).
  It is high (at most 10) when every image is confidently one digit *and* all digits occur
  equally often; 1 when every image gets the same distribution;
* **class histogram**: the share of images whose arg-max class is each digit (mode coverage);
* **Frechet distance** between Gaussians fitted to the classifier's ``[N, 128]`` features:
  FD = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2});
* **nearest training neighbours** in pixel space (a memorization check).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from .classifier import DigitClassifier, accuracy, predict_logits, train_classifier
from ..training import device_of, evaluating
from ..config import budget, data_dir
from ..data import images_to_unit, load_mnist, mnist_folder
from ..checkpoints import CheckpointError, load_checkpoint, load_state, save_checkpoint
from ..validate import require_images, require_int, require_seed, require_tensor



def classifier_config() -> dict:
    """The evaluation classifier's settings for the current mode (full: all 60,000 images, 3 epochs).

    Keyword arguments for :func:`load_or_train_classifier`, from ``budget("mnist_gan")``.
    """
    b = budget("mnist_gan")
    return {"train_subset": b.classifier_subset, "epochs": b.classifier_epochs, "seed": 0}


@functools.lru_cache(maxsize=4)
def _load_mnist_from(split: str, folder: str) -> tuple[torch.Tensor, torch.Tensor]:
    return load_mnist(split)


def load_mnist_cached(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`aigc_course.data.load_mnist`, parsed once per process and cache folder (treat as read-only)."""
    return _load_mnist_from(split, str(mnist_folder()))


def _require_images(name: str, images: torch.Tensor) -> torch.Tensor:
    """The course's image check (:func:`aigc_course.validate.require_images`, [0, 1]) as ``[N, 28, 28]``."""
    return require_images(name, images)[:, 0]


def classifier_path(train_subset: int | None, epochs: int, seed: int) -> Path:
    """Cache file of the classifier trained with this configuration."""
    subset = "all" if train_subset is None else str(train_subset)
    return data_dir() / "models" / f"mnist_classifier_n{subset}_e{epochs}_s{seed}.pt"


def load_or_train_classifier(train_subset: int | None = None, epochs: int = 3, seed: int = 0, *,
                             device: torch.device | str | None = None, progress: bool = True,
                             verbose: bool = True) -> DigitClassifier:
    """The evaluation classifier: loaded from the cache when this configuration was trained before.

    Trained on the first ``train_subset`` training images (all when None) for ``epochs``; the
    cache file is a course checkpoint of kind ``"classifier"``, written atomically. A cache file
    that cannot be used (old format, corrupted, other settings) is reported in one line and
    replaced by a newly trained classifier.
    """
    if train_subset is not None:
        require_int("train_subset", train_subset, minimum=100, maximum=60_000)
    require_int("epochs", epochs, minimum=1, maximum=1000)
    require_seed(seed)
    path = classifier_path(train_subset, epochs, seed)
    config = {"train_subset": train_subset, "epochs": epochs, "seed": seed}
    if path.is_file():
        try:
            checkpoint = load_checkpoint(path, "classifier")
            if checkpoint.config != config:
                raise CheckpointError(f"{path} holds a classifier trained with {checkpoint.config}, not {config}")
            test_accuracy = checkpoint.metadata.get("test_accuracy")
            if not isinstance(test_accuracy, float) or not 0.0 <= test_accuracy <= 1.0:
                raise CheckpointError(f"{path}: metadata test_accuracy must be a float in [0, 1], got {test_accuracy!r}")
            model = DigitClassifier()
            load_state(model, checkpoint, "model")
            if verbose:
                print(f"evaluation classifier: loaded {path} (test accuracy {test_accuracy:.4f})")
            return model.to(device or "cpu").eval()
        except CheckpointError as err:
            print(f"evaluation classifier: cannot use the cache ({err}); training a new classifier in its place",
                  file=sys.stderr)
    images, labels = load_mnist_cached("train")
    if train_subset is not None:
        images, labels = images[:train_subset], labels[:train_subset]
    test_images, test_labels = load_mnist_cached("test")
    torch.manual_seed(seed)
    model = DigitClassifier()
    train_classifier(model, images_to_unit(images), labels, epochs=epochs, seed=seed, device=device,
                     progress=progress)
    test_acc = accuracy(model, images_to_unit(test_images), test_labels)
    try:
        save_checkpoint(path, "classifier", config=config, states={"model": model.state_dict()},
                        metadata={"test_accuracy": test_acc})
        where = f"cached in {path}"
    except OSError as err:  # a read-only cache: the classifier is still good, it just cannot be kept
        where = f"NOT cached ({err.strerror or err}; it will be trained again next time)"
        print(f"evaluation classifier: cannot write {path}: {err.strerror or err}; set AIGC_COURSE_DATA to a "
              f"writable folder to keep it", file=sys.stderr)
    if verbose:
        print(f"evaluation classifier: trained on {len(images)} images for {epochs} epochs, "
              f"test accuracy {test_acc:.4f}; {where}")
    return model.eval()


def class_probabilities(classifier: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """p(y | x) for images ``[N, (1,) 28, 28]`` in [0, 1]: ``[N, 10]``, rows sum to 1."""
    images = _require_images("images", images)
    return F.softmax(predict_logits(classifier, images), dim=1)


def inception_score(probs: torch.Tensor) -> float:
    """IS = exp( mean_i KL(p(y|x_i) || p(y)) ), p(y) = mean_i p(y|x_i); ``probs`` is ``[N, C]``."""
    require_tensor("probs", probs, ndim=2, floating=True, finite=True)
    if len(probs) == 0 or probs.shape[1] == 0:
        raise ValueError(f"probs must have at least one row and one class, got shape {list(probs.shape)}")
    if (probs < 0).any() or not torch.allclose(probs.sum(1), torch.ones(len(probs), dtype=probs.dtype), atol=1e-4):
        raise ValueError("probs must be non-negative with rows summing to 1 (softmax outputs)")
    p = probs.double()
    marginal = p.mean(0, keepdim=True)
    kl = torch.where(p > 0, p * (p.clamp_min(1e-300).log() - marginal.clamp_min(1e-300).log()), 0.0).sum(1)
    return float(kl.mean().exp())


def class_histogram(probs: torch.Tensor) -> torch.Tensor:
    """Share of images whose most probable class is c, for each class: ``[N, C]`` -> ``[C]`` summing to 1.

    ``probs`` must be finite (a NaN row has no most probable class and would be counted as class 0).
    """
    require_tensor("probs", probs, ndim=2, floating=True, finite=True)
    if len(probs) == 0 or probs.shape[1] == 0:
        raise ValueError(f"probs must have at least one row and one class, got shape {list(probs.shape)}")
    counts = torch.bincount(probs.argmax(1), minlength=probs.shape[1])
    return counts.double() / len(probs)


def classifier_features(classifier: DigitClassifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The classifier's penultimate activations ``[N, 128]`` (float64 on the CPU)."""
    images = _require_images("images", images)
    device = device_of(classifier)
    with evaluating(classifier):
        return torch.cat([classifier.features(images[i:i + batch_size].to(device)).double().cpu()
                          for i in range(0, len(images), batch_size)])


def _sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}) of two ``[N, d]`` feature sets.

    Tr (S_a S_b)^{1/2} = Tr (S_a^{1/2} S_b S_a^{1/2})^{1/2}, a symmetric PSD matrix, so both
    square roots come from eigendecompositions (float64).
    """
    require_tensor("features_a", features_a, ndim=2, floating=True, finite=True)
    require_tensor("features_b", features_b, ndim=2, floating=True, finite=True)
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"features_a and features_b must have the same width, got {features_a.shape[1]} and "
                         f"{features_b.shape[1]}")
    if len(features_a) < 2 or len(features_b) < 2:
        raise ValueError("features_a and features_b need at least 2 rows each (a covariance needs 2 points)")
    a, b = features_a.double(), features_b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], -1), torch.cov(b.T).reshape(b.shape[1], -1)
    try:
        root_a = _sqrtm_psd(cov_a)
        cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    except RuntimeError:  # torch.linalg.LinAlgError: only an overflowing covariance (|features| > ~1e150) gets here
        raise ValueError("features_a and features_b are too large for a covariance in float64 (overflow); "
                         "rescale them") from None
    value = (mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    if not torch.isfinite(value):
        raise ValueError("features_a and features_b are too large for a covariance in float64 (overflow); rescale them")
    return float(value.clamp_min(0))


def nearest_neighbours(queries: torch.Tensor, pool: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query image, the index of and the pixel L2 distance to its nearest image in ``pool``.

    ``queries`` ``[Q, 28, 28]``, ``pool`` ``[P, 28, 28]`` in [0, 1] -> ``(distances [Q], indices [Q])``.
    """
    queries = _require_images("queries", queries).flatten(1).float()
    pool = _require_images("pool", pool).flatten(1).float()
    require_int("batch_size", batch_size, minimum=1)
    dists, index = [], []
    for i in range(0, len(queries), batch_size):
        d = torch.cdist(queries[i:i + batch_size], pool)
        best = d.min(1)
        dists.append(best.values)
        index.append(best.indices)
    return torch.cat(dists), torch.cat(index)


def evaluate_images(classifier: DigitClassifier, images: torch.Tensor, reference_features: torch.Tensor) -> dict:
    """IS, class histogram and FD to ``reference_features`` (features of real test images) as plain numbers."""
    images = _require_images("images", images)
    require_tensor("reference_features", reference_features, ndim=2, floating=True, finite=True)
    probs = class_probabilities(classifier, images)
    hist = class_histogram(probs)
    return {
        "n": len(images),
        "inception_score": inception_score(probs),
        "class_fractions": [round(float(v), 4) for v in hist],
        "min_class_fraction": float(hist.min()),
        "max_class_fraction": float(hist.max()),
        "mean_confidence": float(probs.max(1).values.mean()),
        "frechet_distance": frechet_distance(classifier_features(classifier, images), reference_features),
    }


def nearest_neighbour_distances(images: torch.Tensor, train_images: torch.Tensor, n: int = 1000) -> torch.Tensor:
    """Pixel distances from the first ``n`` of ``images`` to their nearest training image, ``[min(n, N)]``."""
    require_int("n", n, minimum=1)
    return nearest_neighbours(images[:n], train_images)[0]


def real_reference(classifier: DigitClassifier, n_test: int | None = None) -> dict:
    """What generated images are compared with: the classifier's features of the first ``n_test`` test
    images (all 10,000 when None) and its accuracy on them. Compute once, pass to :func:`evaluation_report`."""
    if n_test is not None:
        require_int("n_test", n_test, minimum=2, maximum=10_000)
    test_x, test_y = load_mnist_cached("test")
    if n_test is not None:
        test_x, test_y = test_x[:n_test], test_y[:n_test]
    test_x = images_to_unit(test_x)
    return {"n_test": len(test_x), "features": classifier_features(classifier, test_x),
            "accuracy": accuracy(classifier, test_x, test_y)}


def evaluation_report(images: torch.Tensor, classifier: DigitClassifier, *, reference: dict | None = None,
                      nn_queries: int = 1000) -> dict:
    """Every metric of the chapter for ``images`` and, beside it, for the same number of real digits.

    Real side: IS, class histogram and nearest-neighbour distances of real *test* images; the
    Frechet distance of real *training* images to the test set (the generated images' FD is to
    the test set too), using as many real images as there are generated ones (at most 10,000).
    ``reference`` comes from :func:`real_reference` (computed here when None).
    """
    images = _require_images("images", images)
    require_int("nn_queries", nn_queries, minimum=1)
    if reference is None:
        reference = real_reference(classifier)
    elif not isinstance(reference, dict) or not {"features", "n_test", "accuracy"} <= set(reference):
        raise ValueError("reference must be the dict real_reference() returns (features, n_test, accuracy)")
    n = min(len(images), 10_000)
    test_x, _ = load_mnist_cached("test")
    train_x, _ = load_mnist_cached("train")
    test_x, train_x = images_to_unit(test_x[:max(n, nn_queries)]), images_to_unit(train_x)
    real_train = train_x[-n:]  # the last training images: a real sample of the same size
    fake = evaluate_images(classifier, images, reference["features"])
    real = evaluate_images(classifier, test_x[:n], reference["features"])
    real["frechet_distance"] = frechet_distance(classifier_features(classifier, real_train), reference["features"])
    fake_nn = nearest_neighbour_distances(images, train_x, nn_queries)
    real_nn = nearest_neighbour_distances(test_x, train_x, nn_queries)
    fake["nn_distance_median"], real["nn_distance_median"] = float(fake_nn.median()), float(real_nn.median())
    fake["nn_distance_min"], real["nn_distance_min"] = float(fake_nn.min()), float(real_nn.min())
    return {"generated": fake, "real": real, "reference_test_images": reference["n_test"],
            "classifier_test_accuracy": reference["accuracy"]}


def comparison_markdown(reports: dict[str, dict]) -> str:
    """A Markdown table with one column per named report (from :func:`evaluate_images`)."""
    if not isinstance(reports, dict) or not reports or not all(isinstance(r, dict) for r in reports.values()):
        raise ValueError("reports must be a non-empty dict of name -> report (a dict from evaluate_images)")
    rows = [("samples", "n", "{:d}"), ("Inception-style score (max 10)", "inception_score", "{:.2f}"),
            ("Frechet distance to the test set", "frechet_distance", "{:.1f}"),
            ("smallest class share", "min_class_fraction", "{:.1%}"), ("largest class share", "max_class_fraction", "{:.1%}"),
            ("mean classifier confidence", "mean_confidence", "{:.3f}"),
            ("median distance to nearest training image", "nn_distance_median", "{:.2f}")]
    lines = ["| metric | " + " | ".join(reports) + " |", "|---|" + "---|" * len(reports)]
    for label, key, fmt in rows:
        if any(key in r for r in reports.values()):
            lines.append(f"| {label} | " + " | ".join(fmt.format(r[key]) if key in r else "" for r in reports.values()) + " |")
    return "\n".join(lines)


def plot_class_histograms(fractions: dict[str, list[float]], ax=None):
    """Grouped bars: the share of each digit 0-9 per named source, with the 10% line and the 5-15% band."""
    import matplotlib.pyplot as plt
    import numpy as np

    if not isinstance(fractions, dict) or not fractions:
        raise ValueError("fractions must be a non-empty dict of name -> 10 shares")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    width = 0.8 / len(fractions)
    for i, (name, values) in enumerate(fractions.items()):
        if len(values) != 10 or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in values):
            raise ValueError(f"fractions[{name!r}] must hold 10 shares in [0, 1], got {values!r}")
        ax.bar(np.arange(10) + (i - (len(fractions) - 1) / 2) * width, values, width, label=name)
    ax.axhspan(0.05, 0.15, color="green", alpha=0.07, label="5-15%")
    ax.axhline(0.1, color="black", lw=0.8, ls="--")
    ax.set_xticks(range(10))
    ax.set_xlabel("digit predicted by the classifier")
    ax.set_ylabel("share of images")
    ax.legend(fontsize=8, ncol=len(fractions) + 1)
    return ax


def nearest_neighbour_pairs(samples: torch.Tensor, train_images: torch.Tensor, n: int = 8) -> torch.Tensor:
    """``[2n, 28, 28]``: ``n`` samples (first row) above their nearest training images (second row)."""
    require_int("n", n, minimum=1)
    samples = _require_images("samples", samples)[:n]
    train_images = _require_images("train_images", train_images)
    _, index = nearest_neighbours(samples, train_images)
    return torch.cat([samples, train_images[index]])
