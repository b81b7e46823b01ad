"""Chapter 03's training figures: the ELBO's two terms along training, and the beta sweep.

Both take plain results (a :class:`aigc_course.training.History` from :func:`train_vae`, a dict of
:func:`aigc_course.vae.evaluate` results) and return the figure, so tests can call them directly.
"""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import torch.nn as nn

from ..plotting import moving_average, plot_curves, show_images
from ..validate import require_float, require_int
from ..training import History
from .latent import sample_prior


def training_curves_figure(history: History, title: str) -> plt.Figure:
    """Per step (smoothed over a fifth of an epoch) the reconstruction and KL terms; per epoch -ELBO.

    Reads ``train/step_reconstruction``, ``train/step_kl``, ``train/loss`` and, when recorded,
    ``eval/loss`` (the test curve).
    """
    if not isinstance(history, History):
        raise TypeError(f"history must be the History returned by train_vae, got {type(history).__name__}")
    missing = [k for k in ("train/step_loss", "train/step_reconstruction", "train/step_kl", "train/loss") if k not in history]
    if missing:
        raise ValueError(f"history must hold the curves train_vae records; missing {missing}")
    steps_per_epoch = len(history["train/step_loss"]) / len(history["train/loss"])
    window = max(1, int(steps_per_epoch // 5))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for ax, key, label, logy in ((axes[0], "train/step_reconstruction", "reconstruction (log scale)", True),
                                 (axes[1], "train/step_kl", "KL", False)):
        values = moving_average(history[key], window)
        plot_curves({f"training, mean of the last {window} steps": values}, logy=logy,
                    x=(np.arange(len(values)) + 1) / steps_per_epoch, xlabel="epoch", ylabel="nats per image",
                    ax=ax, title=label)
    curves = {"training": history["train/loss"]}
    if "eval/loss" in history:
        curves["test"] = history["eval/loss"]
    plot_curves(curves, xlabel="epoch", ylabel="negative ELBO (nats per image)", ax=axes[2], title=title)
    fig.tight_layout()
    return fig


def beta_sweep_figure(results: Mapping[float, Mapping[str, float]]) -> plt.Figure:
    """Left: reconstruction against KL (test set) for each beta; right: the test -ELBO (beta = 1) of each."""
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict of beta -> evaluate(...) result")
    for beta, result in results.items():
        require_float("results key (beta)", beta, minimum=0.0)
        if not isinstance(result, Mapping) or not all(k in result for k in ("loss", "reconstruction", "kl")):
            raise ValueError(f"results[{beta!r}] must be an evaluate() result with loss, reconstruction and kl")
        for key in ("loss", "reconstruction", "kl"):
            require_float(f"results[{beta!r}][{key!r}]", result[key])
    betas = list(results)
    rates = [results[b]["kl"] for b in betas]
    distortions = [results[b]["reconstruction"] for b in betas]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    axes[0].plot(rates, distortions, "o-")
    for b, r, d in zip(betas, rates, distortions):
        axes[0].annotate(f"β = {b:g}", (r, d), textcoords="offset points", xytext=(6, 4))
    axes[0].set_xlabel("KL term on the test set (nats per image)")
    axes[0].set_ylabel("reconstruction term (nats per image)")
    axes[0].set_title("the trade-off: information in z vs reconstruction")
    axes[0].grid(alpha=0.3)
    axes[1].bar([f"β = {b:g}" for b in betas], [results[b]["loss"] for b in betas])
    axes[1].set_ylim(min(results[b]["loss"] for b in betas) - 10, None)
    axes[1].set_ylabel("test negative ELBO (β = 1), nats")
    axes[1].set_title("scored on the true bound")
    fig.tight_layout()
    return fig


def prior_samples_figure(models: Mapping[str, nn.Module], n: int = 16, seed: int = 0) -> plt.Figure:
    """One panel per named model: ``n`` decoded prior samples z ~ N(0, I) (the same seed for each)."""
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty dict of name -> VAE")
    require_int("n", n, minimum=1, maximum=400)
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.0), squeeze=False)
    for ax, (name, model) in zip(axes[0], models.items()):
        show_images(sample_prior(model, n, seed=seed), nrow=int(np.ceil(np.sqrt(n))), ax=ax, title=f"{name}: samples")
    fig.tight_layout()
    return fig
