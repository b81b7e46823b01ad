"""The denoising network: a small U-Net with a time embedding (and an optional class embedding).

One network serves both objectives: for DDPM it predicts the noise eps, for flow matching the
velocity v; only the training target differs. Its inputs are the noisy image ``x`` ``[B, C, H, W]``,
the time ``t`` ``[B]`` as a float in [0, 1] and, for a class-conditional model, a label ``y``
``[B]`` in 0..num_classes (the index ``num_classes`` is "no class", used by classifier-free guidance).

Layout (Ho et al. 2020, shrunk for a CPU)::

    t -> sinusoidal features -> MLP -> e_t (+ class embedding e_y)
    x -> conv -> [ResBlock(e) -> down] * levels -> ResBlock -> [concat skip -> ResBlock(e) -> up] -> conv

A residual block is GroupNorm -> SiLU -> conv, plus a projection of the embedding added to every
pixel, GroupNorm -> SiLU -> conv, plus the (1x1-projected) input.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..validate import require_int, require_tensor

MAX_PARAMETERS = 50_000_000


def sinusoidal_embedding(t: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    """Transformer-style features of a time in [0, 1]: ``[B]`` -> ``[B, dim]``.

    e_{2i} = sin(scale * t / 10000^{2i/dim}), e_{2i+1} = cos(...); ``scale`` spreads [0, 1] over
    the range DDPM's integer steps would cover.
    """
    require_tensor("t", t, ndim=1, floating=True, finite=True)
    require_int("dim", dim, minimum=2)
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = scale * t.float()[:, None] * freqs[None]
    emb = torch.cat([angles.sin(), angles.cos()], dim=1)
    return F.pad(emb, (0, dim - 2 * half))


def _groups(channels: int) -> int:
    for g in (8, 4, 2, 1):
        if channels % g == 0:
            return g
    return 1


class ResBlock(nn.Module):
    """x + F(x, e): two GroupNorm-SiLU-conv layers, the embedding ``e`` added between them."""

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_ch), in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_dim, out_ch)
        self.norm2 = nn.GroupNorm(_groups(out_ch), out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(e)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """A small U-Net: ``forward(x [B, C, H, W], t [B] in [0, 1], y [B] int64 | None) -> [B, C, H, W]``.

    ``channel_mults[i] * base`` channels at level i; each level but the last halves H and W
    (H and W must be divisible by 2^(levels-1); 28x28 with two levels: 28 -> 14).
    ``num_classes``: None for an unconditional model, else the class embedding has
    ``num_classes + 1`` rows, the last one meaning "no class".
    """

    def __init__(self, in_channels: int = 1, base: int = 32, channel_mults: tuple[int, ...] = (1, 2),
                 num_classes: int | None = None, time_dim: int = 128) -> None:
        super().__init__()
        require_int("in_channels", in_channels, minimum=1, maximum=64)
        require_int("base", base, minimum=4, maximum=512)
        require_int("time_dim", time_dim, minimum=4, maximum=4096)
        if not isinstance(channel_mults, (tuple, list)) or not 1 <= len(channel_mults) <= 4:
            raise ValueError(f"channel_mults must be a tuple of 1 to 4 ints, got {channel_mults!r}")
        for i, m in enumerate(channel_mults):
            require_int(f"channel_mults[{i}]", m, minimum=1, maximum=16)
        if num_classes is not None:
            require_int("num_classes", num_classes, minimum=1, maximum=10_000)
        self.in_channels, self.base, self.channel_mults = in_channels, base, tuple(channel_mults)
        self.num_classes, self.time_dim = num_classes, time_dim
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.class_emb = nn.Embedding(num_classes + 1, time_dim) if num_classes is not None else None
        widths = [base * m for m in channel_mults]
        self.conv_in = nn.Conv2d(in_channels, base, 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        ch = base
        for i, w in enumerate(widths):
            self.down.append(ResBlock(ch, w, time_dim))
            ch = w
            self.downsample.append(nn.Conv2d(w, w, 3, stride=2, padding=1) if i < len(widths) - 1 else nn.Identity())
        self.middle = ResBlock(ch, ch, time_dim)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i, w in reversed(list(enumerate(widths))):
            self.up.append(ResBlock(ch + w, w, time_dim))
            ch = w
            self.upsample.append(nn.Conv2d(w, widths[i - 1], 3, padding=1) if i > 0 else nn.Identity())
            if i > 0:
                ch = widths[i - 1]
        self.norm_out = nn.GroupNorm(_groups(ch), ch)
        self.conv_out = nn.Conv2d(ch, in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # the untrained network predicts 0: a calm start
        nn.init.zeros_(self.conv_out.bias)
        if sum(p.numel() for p in self.parameters()) > MAX_PARAMETERS:
            raise ValueError(f"this U-Net would have more than {MAX_PARAMETERS:,} parameters; use a smaller base")

    def config(self) -> dict:
        """The constructor's arguments (plain values, for a checkpoint)."""
        return {"in_channels": self.in_channels, "base": self.base, "channel_mults": list(self.channel_mults),
                "num_classes": self.num_classes, "time_dim": self.time_dim}

    def embed(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """e = MLP(sinusoidal(t)) (+ class embedding of y): ``[B, time_dim]``."""
        return embed_time_and_class(self.time_mlp, self.class_emb, self.num_classes, t, y, self.time_dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        e = self.embed(t, y)
        h = self.conv_in(x)
        skips = []
        for block, down in zip(self.down, self.downsample):
            h = block(h, e)
            skips.append(h)
            h = down(h)
        h = self.middle(h, e)
        for block, up in zip(self.up, self.upsample):
            skip = skips.pop()
            if h.shape[-2:] != skip.shape[-2:]:
                h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = up(block(torch.cat([h, skip], dim=1), e))
        return self.conv_out(F.silu(self.norm_out(h)))


def embed_time_and_class(time_mlp: nn.Module, class_emb: nn.Embedding | None, num_classes: int | None,
                         t: torch.Tensor, y: torch.Tensor | None, dim: int) -> torch.Tensor:
    """The conditioning vector shared by the U-Net and the latent MLP: MLP(sinusoidal(t)) + E[y]; ``[B, dim]``.

    ``y`` None on a class-conditional model means "no class" for every example (index ``num_classes``).
    """
    require_tensor("t", t, ndim=1, floating=True, finite=True)
    e = time_mlp(sinusoidal_embedding(t, dim))
    if class_emb is None:
        if y is not None:
            raise ValueError("y must be None for an unconditional model (it has no class embedding)")
        return e
    if y is None:
        y = torch.full((len(t),), num_classes, dtype=torch.long, device=t.device)
    return e + class_emb(y)

