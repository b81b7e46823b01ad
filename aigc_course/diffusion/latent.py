"""Latent diffusion (Rombach et al. 2022, the Stable Diffusion recipe), shrunk to digits.

1. An autoencoder is trained once for sharp reconstructions: E: [1, 28, 28] -> z in R^d, D: z -> image.
   Its codes are standardised per dimension (mean 0, std 1 over the training set) so that the
   flow's noise N(0, I) and the data have the same scale.
2. A small velocity network (an MLP with a time embedding) learns flow matching *in that latent
   space*: d = 32 numbers per digit instead of 784 pixels, so each step costs a fraction.
3. Sampling integrates the flow in latent space and decodes once: x = D(z_1).

The price is the autoencoder's reconstruction error: no sample can be sharper than D's output.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .training import CLOCKS
from .unet import embed_time_and_class
from ..config import get_device
from ..data import InMemoryBatches
from ..training import History, evaluating, progress as progress_bar
from ..validate import require_bool, require_choice, require_float, require_images, require_int, require_seed, require_tensor


class ConvAutoencoder(nn.Module):
    """28x28 -> conv stride 2 (14) -> conv stride 2 (7) -> linear -> z ``[B, latent_dim]``, and back with two
    transposed convolutions (7 -> 14 -> 28; the output clamped to [-1, 1] by ``decode``).

    ``encode`` returns standardised codes (z - mean) / std with the buffers set by
    :func:`train_autoencoder`; ``decode`` takes them back to images in [-1, 1].
    """

    def __init__(self, latent_dim: int = 32, base: int = 32) -> None:
        super().__init__()
        require_int("latent_dim", latent_dim, minimum=1, maximum=784)
        require_int("base", base, minimum=4, maximum=256)
        self.latent_dim, self.base = latent_dim, base
        self.encoder = nn.Sequential(
            nn.Conv2d(1, base, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(base, 2 * base, 4, stride=2, padding=1), nn.SiLU(),
            nn.Flatten(), nn.Linear(2 * base * 49, latent_dim))
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 2 * base * 49), nn.SiLU(), nn.Unflatten(1, (2 * base, 7, 7)),
            nn.ConvTranspose2d(2 * base, base, 4, stride=2, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(base, 1, 4, stride=2, padding=1))  # linear output: a tanh saturated at -1 and died
        self.register_buffer("latent_mean", torch.zeros(latent_dim))
        self.register_buffer("latent_std", torch.ones(latent_dim))

    def config(self) -> dict:
        return {"latent_dim": self.latent_dim, "base": self.base}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 1, 28, 28]`` in [-1, 1] -> standardised codes ``[B, latent_dim]``."""
        return (self.encoder(x) - self.latent_mean) / self.latent_std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised codes ``[B, latent_dim]`` -> images ``[B, 1, 28, 28]`` in [-1, 1] (clamped)."""
        return self.decoder(z * self.latent_std + self.latent_mean).clamp(-1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The unclamped reconstruction (what training fits): ``[B, 1, 28, 28]``."""
        return self.decoder(self.encoder(x))


class VelocityMLP(nn.Module):
    """A residual MLP v_theta(z, t, y) for vectors: ``[B, dim]``, ``[B]`` in [0, 1], ``[B]`` or None -> ``[B, dim]``.

    Each block: h <- h + W2 SiLU(W1 LayerNorm(h) + e), e the time (+ class) embedding.
    """

    def __init__(self, dim: int = 32, hidden: int = 512, depth: int = 3, num_classes: int | None = None,
                 time_dim: int = 128) -> None:
        super().__init__()
        require_int("dim", dim, minimum=1, maximum=4096)
        require_int("hidden", hidden, minimum=4, maximum=8192)
        require_int("depth", depth, minimum=1, maximum=32)
        require_int("time_dim", time_dim, minimum=4, maximum=4096)
        if num_classes is not None:
            require_int("num_classes", num_classes, minimum=1, maximum=10_000)
        self.dim, self.hidden, self.depth, self.num_classes, self.time_dim = dim, hidden, depth, num_classes, time_dim
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, hidden))
        self.class_emb = nn.Embedding(num_classes + 1, hidden) if num_classes is not None else None
        self.inp = nn.Linear(dim, hidden)
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(depth))
        self.first = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.second = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.out = nn.Linear(hidden, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def config(self) -> dict:
        return {"dim": self.dim, "hidden": self.hidden, "depth": self.depth, "num_classes": self.num_classes,
                "time_dim": self.time_dim}

    def forward(self, z: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        e = embed_time_and_class(self.time_mlp, self.class_emb, self.num_classes, t, y, self.time_dim)
        h = self.inp(z)
        for norm, first, second in zip(self.norms, self.first, self.second):
            h = h + second(F.silu(first(norm(h)) + e))
        return self.out(h)


def train_autoencoder(autoencoder: ConvAutoencoder, images: torch.Tensor, *, epochs: int | None = None,
                      minutes: float | None = None, batch_size: int = 128, lr: float = 2e-3,
                      device: torch.device | str | None = None, seed: int = 0, progress: bool = True,
                      clock: str = "cpu") -> History:
    """Fit E and D to ``images`` ``[N, 1, 28, 28]`` in [-1, 1] by L1 + MSE reconstruction; then set the code statistics.

    Stops after ``epochs`` or ``minutes`` on ``clock`` (``"cpu"`` process time or ``"wall"``), whichever comes first. Returns the history
    (``"train/loss"`` per step, ``"train/seconds"`` once at the end).
    """
    if not isinstance(autoencoder, ConvAutoencoder):
        raise TypeError(f"autoencoder must be a ConvAutoencoder, got {type(autoencoder).__name__}")
    images = require_images("images", images, pixel_range="symmetric")
    if epochs is None and minutes is None:
        raise ValueError("give epochs, minutes or both (training stops at whichever comes first)")
    if epochs is not None:
        require_int("epochs", epochs, minimum=1, maximum=10_000)
    if minutes is not None:
        require_float("minutes", minutes, minimum=0.0, strict_minimum=True, maximum=10_000.0)
    require_int("batch_size", batch_size, minimum=1, maximum=65_536)
    require_float("lr", lr, minimum=0.0, strict_minimum=True, maximum=1.0)
    require_seed(seed)
    require_bool("progress", progress)
    now = CLOCKS[require_choice("clock", clock, sorted(CLOCKS))]
    device = get_device(None if device is None else str(device))
    autoencoder.to(device).train()
    autoencoder.latent_mean.zero_()
    autoencoder.latent_std.fill_(1.0)
    optimizer = torch.optim.Adam(autoencoder.parameters(), lr=lr)
    batches = InMemoryBatches(images, batch_size=min(batch_size, len(images)), seed=seed, drop_last=True)
    history, start, done = History(), now(), False
    bar = progress_bar(total=None if epochs is None else epochs * len(batches), desc="autoencoder",
                       unit="batch", enabled=progress)
    for _ in range(epochs if epochs is not None else 10_000):
        for (x,) in batches:
            x = x.to(device)
            reconstruction = autoencoder(x)
            loss = F.l1_loss(reconstruction, x) + F.mse_loss(reconstruction, x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.log("train", loss=loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}")
            if minutes is not None and now() - start >= minutes * 60:
                done = True
                break
        if done:
            break
    bar.close()
    history.log("train", seconds=now() - start)
    with evaluating(autoencoder):
        codes = torch.cat([autoencoder.encoder(images[i:i + 1000].to(device)) for i in range(0, len(images), 1000)])
        autoencoder.latent_mean.copy_(codes.mean(0))
        autoencoder.latent_std.copy_(codes.std(0).clamp_min(1e-6) if len(codes) > 1 else torch.ones_like(codes[0]))
    return history


def encode_images(autoencoder: ConvAutoencoder, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Standardised codes ``[N, latent_dim]`` (CPU) of images ``[N, 1, 28, 28]`` in [-1, 1]."""
    images = require_images("images", images, pixel_range="symmetric")
    require_int("batch_size", batch_size, minimum=1)
    device = next(autoencoder.parameters()).device
    with evaluating(autoencoder):
        return torch.cat([autoencoder.encode(images[i:i + batch_size].to(device)).cpu()
                          for i in range(0, len(images), batch_size)])


def decode_latents(autoencoder: ConvAutoencoder, codes: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Images ``[N, 1, 28, 28]`` in [-1, 1] (CPU) from standardised codes ``[N, latent_dim]``."""
    require_tensor("codes", codes, ndim=2, floating=True, finite=True, shape=[None, autoencoder.latent_dim])
    require_int("batch_size", batch_size, minimum=1)
    device = next(autoencoder.parameters()).device
    with evaluating(autoencoder):
        return torch.cat([autoencoder.decode(codes[i:i + batch_size].to(device)).cpu()
                          for i in range(0, len(codes), batch_size)])
