"""The two VAEs of chapter 03: the pytorch/examples MLP and the chapter's convolutional VAE.

Both map float images ``[B, 1, 28, 28]`` (or ``[B, 28, 28]``, or ``[B, 784]``) with values in
[0, 1] to ``(logits, mu, logvar)``:

* the **encoder** q(z|x) = N(mu(x), diag(exp(logvar(x)))) outputs ``mu`` and ``logvar``, ``[B, latent_dim]``;
* the **decoder** p(x|z) = prod_pixels Bernoulli(sigmoid(logits(z))) outputs ``logits``, ``[B, 1, 28, 28]``.

The decoder returns *logits*, not probabilities: the loss uses
``binary_cross_entropy_with_logits``, which never takes the log of a probability that
rounded to 0 or 1. ``torch.sigmoid(logits)`` gives the pixel means (the pictures).

Each model has ``config()``: the constructor arguments, so that :func:`aigc_course.vae.save_vae`
and :func:`aigc_course.vae.load_vae` can rebuild it from a checkpoint.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from .losses import reparameterize
from ..validate import IMAGE_SHAPE, require_choice, require_images, require_int, require_tensor

PIXELS = 28 * 28
LATENT_DIM = 20  # the pytorch/examples latent size: chapter 03's models and chapter 06's reuse of them
MAX_WIDTH = 4096  # largest latent_dim, hidden or channel count accepted (the chapter uses 2..400)
MAX_PARAMETERS = 50_000_000  # 200 MB of float32 weights; checked before any layer is allocated


def _require_size(kind: str, parameters: int) -> None:
    if parameters > MAX_PARAMETERS:
        raise ValueError(f"a {kind} VAE of these sizes would have {parameters:,} parameters, more than the "
                         f"{MAX_PARAMETERS:,} this course allows (choose smaller latent_dim, hidden or channels)")


def as_image_batch(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    """``[B, 1, 28, 28]``, ``[B, 28, 28]`` or ``[B, 784]`` float -> a ``[B, 1, 28, 28]`` view."""
    return require_images(name, x, pixel_range=None, allow_empty=True)


def _as_latent(z: torch.Tensor, latent_dim: int) -> torch.Tensor:
    require_tensor("z", z, ndim=2, floating=True)
    if z.shape[1] != latent_dim:
        raise ValueError(f"z must have shape [B, {latent_dim}] (the model's latent_dim), got {list(z.shape)}")
    return z


class VAEBase(nn.Module):
    """Shared plumbing: ``encode`` -> (mu, logvar), ``decode`` -> logits, ``forward`` samples z once."""

    latent_dim: int
    ENCODER_PARTS: tuple[str, ...] = ()  # names of the child modules that make up the encoder
    DECODER_PARTS: tuple[str, ...] = ()

    def part_parameters(self, part: str) -> list[nn.Parameter]:
        """The parameters of the ``"encoder"`` or of the ``"decoder"`` (together: all of them)."""
        require_choice("part", part, ("encoder", "decoder"))
        names = self.ENCODER_PARTS if part == "encoder" else self.DECODER_PARTS
        return [p for name in names for p in getattr(self, name).parameters()]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self._encode(as_image_batch(x))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits ``[B, 1, 28, 28]`` of p(x|z) for latent codes ``z`` ``[B, latent_dim]``."""
        return self._decode(_as_latent(z, self.latent_dim)).view(-1, *IMAGE_SHAPE)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x -> (logits of p(x|z), mu, logvar) with z = mu + exp(logvar / 2) * eps, eps ~ N(0, I)."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar

    def _encode(self, x: torch.Tensor) -> torch.Tensor:  # [B, 1, 28, 28] -> [B, 2 * latent_dim]
        raise NotImplementedError

    def _decode(self, z: torch.Tensor) -> torch.Tensor:  # [B, latent_dim] -> [B, 784] or [B, 1, 28, 28]
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        raise NotImplementedError


class MLPVAE(VAEBase):
    """The pytorch/examples VAE: 784 -> 400 -> (mu, logvar) in R^20 -> 400 -> 784, ReLU.

    Identical to ``examples/vae/main.py`` except that the decoder returns logits (its
    ``sigmoid`` moved into the loss), which changes no number, only the numerics.
    """

    ENCODER_PARTS = ("fc1", "fc2")
    DECODER_PARTS = ("fc3", "fc4")

    def __init__(self, latent_dim: int = LATENT_DIM, hidden: int = 400) -> None:
        super().__init__()
        self.latent_dim = require_int("latent_dim", latent_dim, minimum=1, maximum=MAX_WIDTH)
        self.hidden = require_int("hidden", hidden, minimum=1, maximum=MAX_WIDTH)
        _require_size("MLP", 2 * PIXELS * hidden + 3 * hidden * latent_dim + 2 * hidden + 2 * latent_dim + PIXELS)
        self.fc1 = nn.Linear(PIXELS, hidden)
        self.fc2 = nn.Linear(hidden, 2 * latent_dim)  # fc21 and fc22 of the example, stacked
        self.fc3 = nn.Linear(latent_dim, hidden)
        self.fc4 = nn.Linear(hidden, PIXELS)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x.flatten(1))))

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.fc4(F.relu(self.fc3(z)))

    def config(self) -> dict[str, Any]:
        return {"kind": "mlp", "latent_dim": self.latent_dim, "hidden": self.hidden}


class ConvVAE(VAEBase):
    """The chapter's main model: a small convolutional encoder and a mirrored decoder.

    Encoder: conv 4x4 stride 2 (1 -> c1, 28 -> 14), conv 4x4 stride 2 (c1 -> c2, 14 -> 7),
    flatten, fc (c2*7*7 -> hidden), fc (hidden -> 2 * latent_dim).
    Decoder: fc (latent_dim -> hidden), fc (hidden -> c2*7*7), transposed conv 4x4 stride 2
    (c2 -> c1, 7 -> 14), transposed conv 4x4 stride 2 (c1 -> 1, 14 -> 28) giving logits.
    Activations are SiLU, x * sigmoid(x). Strided convolutions (no pooling) and few channels
    keep it fast on a CPU: 1.72 million multiply-adds per image forward, 2.6 times the MLP's 0.65 million.
    """

    ENCODER_PARTS = ("encoder",)
    DECODER_PARTS = ("decoder",)

    def __init__(self, latent_dim: int = LATENT_DIM, channels: tuple[int, int] = (16, 32), hidden: int = 256) -> None:
        super().__init__()
        self.latent_dim = require_int("latent_dim", latent_dim, minimum=1, maximum=MAX_WIDTH)
        if not (isinstance(channels, (tuple, list)) and len(channels) == 2):
            raise ValueError(f"channels must be a pair (c1, c2), got {channels!r}")
        c1, c2 = (require_int(f"channels[{i}]", c, minimum=1, maximum=MAX_WIDTH) for i, c in enumerate(channels))
        self.channels = (c1, c2)
        self.hidden = require_int("hidden", hidden, minimum=1, maximum=MAX_WIDTH)
        _require_size("convolutional", 32 * c1 * c2 + 34 * c1 + 2 * 49 * c2 * hidden + 3 * hidden * latent_dim
                      + 2 * hidden + 2 * latent_dim + 49 * c2 + c2 + 1)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.SiLU(),    # [B, c1, 14, 14]
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.SiLU(),   # [B, c2, 7, 7]
            nn.Flatten(), nn.Linear(c2 * 49, hidden), nn.SiLU(),
            nn.Linear(hidden, 2 * latent_dim),                      # [B, 2 * latent_dim]: mu, logvar
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, c2 * 49), nn.SiLU(), nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.SiLU(),  # [B, c1, 14, 14]
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),              # [B, 1, 28, 28] logits
        )

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def config(self) -> dict[str, Any]:
        return {"kind": "conv", "latent_dim": self.latent_dim, "channels": list(self.channels), "hidden": self.hidden}


MODEL_KINDS = {"mlp": MLPVAE, "conv": ConvVAE}


_CONFIG_FIELDS = {"mlp": {"latent_dim", "hidden"}, "conv": {"latent_dim", "channels", "hidden"}}


def build_vae(config: dict[str, Any]) -> VAEBase:
    """Rebuild a model from its ``config()`` dict (``{"kind": "conv" | "mlp", ...}``).

    Every field is checked (names, types, sizes, the total parameter count) before a layer is
    allocated, so a config read from an untrusted file cannot make this allocate gigabytes.
    """
    if not isinstance(config, dict) or config.get("kind") not in MODEL_KINDS:
        raise ValueError(f"config must be a dict with 'kind' in {sorted(MODEL_KINDS)}, got {str(config)[:200]}")
    unknown = sorted(map(str, set(config) - _CONFIG_FIELDS[config["kind"]] - {"kind"}))
    if unknown:
        raise ValueError(f"config has fields {unknown} that a {config['kind']!r} VAE does not take")
    kwargs = {k: v for k, v in config.items() if k != "kind"}
    if "channels" in kwargs:
        kwargs["channels"] = tuple(kwargs["channels"])
    return MODEL_KINDS[config["kind"]](**kwargs)
