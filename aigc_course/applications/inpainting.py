"""Chapter 06 image restoration (图像修复): fill in hidden pixels and remove noise with a trained VAE.

The VAE of chapter 03 defines p(x) = ∫ p(x|z) p(z) dz with a Bernoulli decoder. To complete
an image x whose pixels are known only where the mask m is 1, look for the latent code that
explains the *visible* pixels and is plausible under the prior (a MAP estimate):

    z* = argmin_z  sum_j m_j BCE(logits_j(z), x_j)  +  1/2 ||z||^2

then keep the known pixels and take the decoder's mean sigmoid(logits(z*)) for the hidden ones
(:func:`complete_images`). The optimization starts from the encoder's mean for the masked image.
Denoising (:func:`denoise_images`) is the same projection with every pixel as evidence, returning
the decoder's picture itself: the decoder can only draw digit-like images, so noise that no digit
explains is left out. The data term must describe the corruption: for additive Gaussian noise of
known std s it is sum_j (x_j - sigmoid(logit_j))^2 / (2 s^2) (:func:`gaussian_nll`).

Masks are bool ``[B, 1, 28, 28]``, True where the pixel is known. Images are float in [0, 1].
What a hidden region "really" held cannot be recovered, only guessed: the completion is a
likely digit, not the original one, and the chapter measures how close it comes.
"""

from __future__ import annotations

from typing import Callable

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..training import device_of, evaluating, frozen
from ..plotting import image_grid
from ..validate import require_choice, require_float, require_images, require_int, require_seed, require_tensor

MASK_KINDS = ("bottom half", "top half", "left half", "right half", "centre square", "random 60%")


def make_masks(kind: str, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` masks of one kind, bool ``[n, 1, 28, 28]``, True = known pixel.

    Halves hide 14 rows or columns; "centre square" hides the central 14x14; "random 60%" hides
    each pixel independently with probability 0.6 (seeded).
    """
    require_choice("kind", kind, MASK_KINDS)
    require_int("n", n, minimum=1, maximum=100_000)
    visible = torch.ones(n, 1, 28, 28, dtype=torch.bool)
    if kind == "bottom half":
        visible[..., 14:, :] = False
    elif kind == "top half":
        visible[..., :14, :] = False
    elif kind == "left half":
        visible[..., :, :14] = False
    elif kind == "right half":
        visible[..., :, 14:] = False
    elif kind == "centre square":
        visible[..., 7:21, 7:21] = False
    else:
        g = torch.Generator().manual_seed(require_seed(seed))
        visible = torch.rand(n, 1, 28, 28, generator=g) >= 0.6
    return visible


def _images(name: str, x: torch.Tensor, pixel_range: str | None = "unit") -> torch.Tensor:
    return require_images(name, x, pixel_range=pixel_range)  # [B, 1, 28, 28], finite; logits have no range


def _require_visible(visible: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    require_tensor("visible", visible, shape=list(like.shape))
    if visible.dtype != torch.bool:
        raise TypeError(f"visible must be a bool tensor, got {visible.dtype}")
    return visible


def masked_bernoulli_nll(logits: torch.Tensor, target: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Per-image -log p(visible pixels | z): sum over pixels with ``visible`` of BCE(logit, target) -> ``[B]``.

    ``logits``, ``target`` (values in [0, 1]) float ``[B, 1, 28, 28]``; ``visible`` bool, same shape.
    Hidden pixels contribute nothing, whatever their target value.
    """
    _images("logits", logits, pixel_range=None)
    _images("target", target)
    _require_visible(visible, logits)
    if target.shape != logits.shape:
        raise ValueError(f"target must have the shape of logits {list(logits.shape)}, got {list(target.shape)}")
    per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (per_pixel * visible).flatten(1).sum(dim=1)


def gaussian_nll(noise_std: float) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """The data term for images corrupted by Gaussian noise of known ``noise_std``.

    Returns ``nll(logits, target, visible) -> [B]`` = sum over visible pixels of
    (target - sigmoid(logit))^2 / (2 noise_std^2), i.e. -log N(target; decoder mean, noise_std^2)
    up to a constant. Use it instead of the Bernoulli term when the corruption is additive noise.
    """
    std = require_float("noise_std", noise_std, minimum=0.0, strict_minimum=True)

    def nll(logits: torch.Tensor, target: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        return ((torch.sigmoid(logits) - target) ** 2 * visible).flatten(1).sum(dim=1) / (2 * std * std)

    return nll


def clipped_gaussian_nll(noise_std: float) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """The exact data term for ``clip(x + noise_std * eps, 0, 1)`` (:func:`add_noise`): a censored Gaussian.

    With decoder mean mu = sigmoid(logit) and s = ``noise_std``, a pixel observed at exactly 0 has
    probability Phi(-mu / s) (all the noise below -mu was clipped to it), one at exactly 1 has
    probability Phi((mu - 1) / s), and one in between the density N(target; mu, s^2). Returns
    ``nll(logits, target, visible) -> [B]``, the sum over visible pixels of -log of these (the
    in-between pixels without the constant log(s sqrt(2 pi)), as in :func:`gaussian_nll`).
    """
    std = require_float("noise_std", noise_std, minimum=0.0, strict_minimum=True)

    def nll(logits: torch.Tensor, target: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        mu = torch.sigmoid(logits)
        inside = (mu - target) ** 2 / (2 * std * std)
        at_zero = -torch.special.log_ndtr(-mu / std)
        at_one = -torch.special.log_ndtr((mu - 1) / std)
        per_pixel = torch.where(target <= 0, at_zero, torch.where(target >= 1, at_one, inside))
        return (per_pixel * visible).flatten(1).sum(dim=1)

    return nll


def _fit_latent(vae: nn.Module, x: torch.Tensor, visible: torch.Tensor, steps: int, lr: float,
                nll: Callable[..., torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder means at the encoder's code of ``x * visible`` and at the MAP code after ``steps`` Adam steps."""
    with evaluating(vae, no_grad=False), frozen(vae):  # the decoder is fixed; only z is optimized
        with torch.no_grad():
            z0, _ = vae.encode(x * visible)
            start = torch.sigmoid(vae.decode(z0))
        z = z0.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=lr)
        for _ in range(steps):
            loss = (nll(vae.decode(z), x, visible) + 0.5 * z.pow(2).sum(dim=1)).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            fitted = torch.sigmoid(vae.decode(z))
    return start, fitted


def _check_fit_args(vae: nn.Module, images: torch.Tensor, visible: torch.Tensor, steps: int, lr: float,
                    nll: Callable[..., torch.Tensor], name: str = "images") -> None:
    if not isinstance(vae, nn.Module) or not hasattr(vae, "encode") or not hasattr(vae, "decode"):
        raise TypeError(f"vae must be a course VAE (encode/decode), got {type(vae).__name__}")
    _images(name, images)
    _require_visible(visible, images)
    require_int("steps", steps, minimum=0, maximum=100_000)
    require_float("lr", lr, minimum=0.0, strict_minimum=True)
    if not callable(nll):
        raise TypeError(f"nll must be a function (logits, target, visible) -> [B], got {type(nll).__name__}")


def complete_images(vae: nn.Module, images: torch.Tensor, visible: torch.Tensor, *, steps: int = 150,
                    lr: float = 0.05, nll: Callable[..., torch.Tensor] = masked_bernoulli_nll) -> dict[str, torch.Tensor]:
    """Fill the hidden pixels of ``images`` with the VAE, keeping the visible ones.

    Returns float ``[B, 1, 28, 28]`` tensors on the CPU: ``"encoder"`` (the decoder's mean at the
    encoder's mean code of the masked image, hidden pixels set to 0) and ``"optimized"`` (after
    ``steps`` Adam steps on z of masked NLL + ||z||^2 / 2), both with the visible pixels restored.
    ``nll(logits, target, visible) -> [B]`` is the data term (default :func:`masked_bernoulli_nll`).
    """
    _check_fit_args(vae, images, visible, steps, lr, nll)
    device = device_of(vae)
    x, m = images.to(device), visible.to(device)
    start, fitted = _fit_latent(vae, x, m, steps, lr, nll)
    return {"encoder": torch.where(m, x, start).cpu(), "optimized": torch.where(m, x, fitted).cpu()}


def denoise_images(vae: nn.Module, noisy: torch.Tensor, nll: Callable[..., torch.Tensor], *, steps: int = 150,
                   lr: float = 0.05) -> dict[str, torch.Tensor]:
    """Project noisy images onto what the VAE can draw: every pixel is evidence, none is kept as is.

    ``nll(logits, target, visible) -> [B]`` says how the images were corrupted: :func:`gaussian_nll`
    for additive Gaussian noise; the VAE's own Bernoulli term (:func:`masked_bernoulli_nll`) reads
    noisy grey as faint ink. Returns ``"encoder"`` (decoder mean at the encoder's code) and
    ``"optimized"`` (decoder mean at the MAP code fitted to all pixels), float ``[B, 1, 28, 28]`` on the CPU.
    """
    require_tensor("noisy", noisy, floating=True)
    visible = torch.ones_like(noisy, dtype=torch.bool)
    _check_fit_args(vae, noisy, visible, steps, lr, nll, name="noisy")
    device = device_of(vae)
    start, fitted = _fit_latent(vae, noisy.to(device), visible.to(device), steps, lr, nll)
    return {"encoder": start.cpu(), "optimized": fitted.cpu()}


def add_noise(images: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """``images + std * eps``, eps ~ N(0, 1) (seeded), clipped to [0, 1]."""
    _images("images", images)
    require_float("std", std, minimum=0.0)
    g = torch.Generator().manual_seed(require_seed(seed))
    return (images + std * torch.randn(images.shape, generator=g).to(images.device)).clamp(0, 1)


def hidden_pixel_mse(candidate: torch.Tensor, original: torch.Tensor, visible: torch.Tensor) -> float:
    """Mean squared error over the *hidden* pixels only (pixel values in [0, 1])."""
    _images("candidate", candidate)
    _images("original", original)
    if candidate.shape != original.shape:
        raise ValueError(f"candidate must have the shape of original {list(original.shape)}, got {list(candidate.shape)}")
    _require_visible(visible, original)
    hidden = ~visible.to(original.device)
    if not hidden.any():
        raise ValueError("visible hides no pixel: there is nothing to measure")
    return float(((candidate.to(original.device) - original) ** 2)[hidden].mean())


def restoration_figure(rows: dict[str, torch.Tensor], title: str | None = None) -> plt.Figure:
    """One row of images per entry (``name -> [B, 1, 28, 28]`` in [0, 1]), the names on the left."""
    if not isinstance(rows, dict) or not rows:
        raise ValueError("rows must be a dict holding at least one named batch of images")
    rows = {name: require_images(f"rows[{name!r}]", images, pixel_range=None) for name, images in rows.items()}
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.0 + 0.55 * max(len(v) for v in rows.values()),
                                                    0.75 * len(rows) + (0.3 if title else 0)), squeeze=False)
    for ax, (name, images) in zip(axes[:, 0], rows.items()):
        ax.imshow(image_grid(images.clamp(0, 1), nrow=len(images)), cmap="gray_r", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def inpainting_figure(vae: nn.Module, image: torch.Tensor, kind: str, *, steps: int = 150, seed: int = 0) -> plt.Figure:
    """Original, masked input (hidden pixels grey), encoder-only and optimized completions of one image.

    ``image``: float ``[1, 28, 28]`` or ``[28, 28]`` in [0, 1]. Titles give each candidate's mean
    squared error on the hidden pixels.
    """
    require_tensor("image", image, ndim=(2, 3), floating=True)
    if image.numel() != 784:
        raise ValueError(f"image must be one 28x28 image ([1, 28, 28] or [28, 28]), got shape {list(image.shape)}")
    x = require_images("image", image.reshape(1, 1, 28, 28))
    visible = make_masks(kind, 1, seed=seed)
    out = complete_images(vae, x, visible, steps=steps)
    masked = torch.where(visible, x, torch.zeros_like(x))
    panels = [("original", x, None), ("masked input", torch.where(visible, x, torch.full_like(x, 0.35)), masked),
              ("VAE, encoder only", out["encoder"], out["encoder"]), (f"VAE, {steps} steps on z", out["optimized"],
                                                                      out["optimized"])]
    fig, axes = plt.subplots(1, 4, figsize=(8, 2.4))
    for ax, (name, shown, measured) in zip(axes, panels):
        ax.imshow(shown[0, 0].clamp(0, 1).numpy(), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        error = "" if measured is None else f"\nhidden-pixel MSE {hidden_pixel_mse(measured, x, visible):.3f}"
        ax.set_title(name + error, fontsize=9)
    fig.suptitle(f"mask: {kind} (grey = hidden)", fontsize=10)
    fig.tight_layout()
    return fig
