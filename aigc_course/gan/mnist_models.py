"""Chapter 05's models: the article's Keras GAN ported faithfully, a DCGAN, and the improved MLP GAN.

All generators map noise ``z`` ``[B, z_dim]`` to images ``[B, 1, 28, 28]`` in [-1, 1] (tanh);
all discriminators map images ``[B, 1, 28, 28]`` to *logits* ``[B, 1]`` (D(x) = sigmoid(logit);
the losses in :mod:`aigc_course.gan` take logits).

* ``"gan"``: the article's §5.2 model. G: Linear(100, 128) -> GaussianNoise(0.1) -> LeakyReLU(0.2)
  -> Linear(128, 784) -> tanh. D: Flatten -> Linear(784, 128) -> Dropout(0.3) -> LeakyReLU(0.2)
  -> Linear(128, 1). Keras initialisation (Glorot-uniform weights, zero biases); Adam(1e-4, 0.5).
* ``"dcgan"``: convolutional. G: Linear -> [2c, 7, 7] -> up-block(2c -> c) -> ConvTranspose -> tanh;
  an up-block is ConvTranspose2d(4, stride 2, padding 1) -> BatchNorm2d -> ReLU (7 -> 14 -> 28).
  D: Conv(4, stride 2) -> LeakyReLU twice (28 -> 14 -> 7), then a linear layer.
* ``"mlp"``: the improved model: a wider MLP G, a wider D with dropout and a minibatch
  standard-deviation feature, trained with a moving average (EMA) of G's weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
import torch.nn as nn

from ..training import device_of, evaluating
from ..validate import (require_choice, require_float, require_images, require_int, require_seed, require_tensor,
                        symmetric_to_unit)

MAX_SAMPLES = 100_000  # images per generate() call: 314 MB of float32 pixels; draw more with several seeds


class GaussianNoise(nn.Module):
    """Keras ``GaussianNoise(stddev)``: adds N(0, stddev^2) noise in training mode only; identity in eval."""

    def __init__(self, stddev: float) -> None:
        super().__init__()
        self.stddev = require_float("stddev", stddev, minimum=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.stddev > 0:
            return x + self.stddev * torch.randn_like(x)
        return x


class MinibatchStd(nn.Module):
    """Appends one feature: the mean over features of the across-batch standard deviation, ``[B, F] -> [B, F + 1]``.

    A generator that collapses onto a few outputs makes this number small, so D can tell
    such batches from real ones; it is the cheapest remedy for missing modes (Karras et al., 2018).
    """

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if len(h) < 2:
            raise ValueError(f"MinibatchStd needs a batch of at least 2, got {len(h)}")
        spread = h.float().std(0, unbiased=False).mean().to(h.dtype)
        return torch.cat([h, spread.expand(len(h), 1)], 1)


def _keras_init(module: nn.Module) -> None:
    # Keras Dense defaults: glorot_uniform kernel, zero bias.
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


def article_generator(z_dim: int = 100, hidden: int = 128) -> nn.Sequential:
    """The article's generator, faithfully: ``[B, z_dim] -> [B, 1, 28, 28]``."""
    require_int("z_dim", z_dim, minimum=1)
    require_int("hidden", hidden, minimum=1)
    net = nn.Sequential(nn.Linear(z_dim, hidden), GaussianNoise(0.1), nn.LeakyReLU(0.2),
                        nn.Linear(hidden, 28 * 28), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
    net.apply(_keras_init)
    return net


def article_discriminator(hidden: int = 128) -> nn.Sequential:
    """The article's discriminator, logits out (its sigmoid lives in the loss): ``[B, 1, 28, 28] -> [B, 1]``."""
    require_int("hidden", hidden, minimum=1)
    net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, hidden), nn.Dropout(0.3), nn.LeakyReLU(0.2),
                        nn.Linear(hidden, 1))
    net.apply(_keras_init)
    return net


def dcgan_up_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Doubles the resolution: ConvTranspose2d(k=4, s=2, p=1, no bias) -> BatchNorm2d -> ReLU.

    ``[B, in_channels, H, W] -> [B, out_channels, 2H, 2W]`` since (H - 1) * 2 - 2 * 1 + 4 = 2H.
    The convolution has no bias: the batch norm right after it would cancel one.
    """
    require_int("in_channels", in_channels, minimum=1)
    require_int("out_channels", out_channels, minimum=1)
    return nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


def dcgan_generator(z_dim: int = 100, channels: int = 64, up_block: Callable | None = None) -> nn.Sequential:
    """``[B, z_dim] -> [B, 1, 28, 28]``: Linear -> [2c, 7, 7] -> BN, ReLU -> up-block to [c, 14, 14] -> [1, 28, 28].

    ``up_block(in_channels, out_channels)`` builds the up-block (default :func:`dcgan_up_block`).
    """
    require_int("z_dim", z_dim, minimum=1)
    require_int("channels", channels, minimum=1)
    if up_block is not None and not callable(up_block):
        raise TypeError(f"up_block must be a function (in_channels, out_channels) -> nn.Module, got {type(up_block).__name__}")
    c = channels
    return nn.Sequential(nn.Linear(z_dim, 2 * c * 7 * 7, bias=False), nn.Unflatten(1, (2 * c, 7, 7)),
                         nn.BatchNorm2d(2 * c), nn.ReLU(), (up_block or dcgan_up_block)(2 * c, c),
                         nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1), nn.Tanh())


def dcgan_discriminator(channels: int = 64, dropout: float = 0.3) -> nn.Sequential:
    """``[B, 1, 28, 28] -> [B, 1]``: Conv(4, s2) -> LeakyReLU -> Dropout twice (28 -> 14 -> 7), then Linear."""
    require_int("channels", channels, minimum=1)
    require_float("dropout", dropout, minimum=0.0, maximum=0.9)
    c = channels
    return nn.Sequential(nn.Conv2d(1, c, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(dropout),
                         nn.Conv2d(c, 2 * c, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(dropout),
                         nn.Flatten(), nn.Linear(2 * c * 7 * 7, 1))


def mlp_generator(z_dim: int = 100, widths: tuple[int, ...] = (256, 512, 1024),
                  batch_norm: bool = True) -> nn.Sequential:
    """``[B, z_dim] -> [B, 1, 28, 28]``: (Linear -> [BatchNorm1d] -> LeakyReLU(0.2)) per width, then Linear(784) -> tanh."""
    require_int("z_dim", z_dim, minimum=1)
    layers: list[nn.Module] = []
    previous = z_dim
    for i, width in enumerate(widths):
        require_int(f"widths[{i}]", width, minimum=1)
        layers += [nn.Linear(previous, width)] + ([nn.BatchNorm1d(width)] if batch_norm else []) + [nn.LeakyReLU(0.2)]
        previous = width
    layers += [nn.Linear(previous, 28 * 28), nn.Tanh(), nn.Unflatten(1, (1, 28, 28))]
    return nn.Sequential(*layers)


@torch.no_grad()
def recalibrate_batch_norm(generator: nn.Module, z_dim: int, batches: int = 20, batch_size: int = 500,
                           seed: int = 0) -> nn.Module:
    """Re-estimate every batch-norm layer's running mean and variance for the generator's *current* weights.

    A moving average of weights (EMA) never ran forward, so the running statistics it inherited
    belong to other weights. Feeding ``batches`` batches of noise in training mode with a
    cumulative average (momentum None) gives the statistics the EMA weights really produce
    ("standing statistics"). Returns the generator in eval mode; no-op without batch norm.
    """
    require_int("z_dim", z_dim, minimum=1)
    require_int("batches", batches, minimum=1)
    require_int("batch_size", batch_size, minimum=2, maximum=MAX_SAMPLES)
    require_seed(seed)
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if norms:
        device = device_of(generator)
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
        generator.train()
        noise = torch.Generator().manual_seed(seed)
        for _ in range(batches):
            generator(torch.randn(batch_size, z_dim, generator=noise).to(device))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
    return generator.eval()


def mlp_discriminator(widths: tuple[int, ...] = (512, 256), dropout: float = 0.3,
                      minibatch_std: bool = True) -> nn.Sequential:
    """``[B, 1, 28, 28] -> [B, 1]``: (Linear -> LeakyReLU(0.2) -> Dropout) per width, [MinibatchStd], Linear(1)."""
    require_float("dropout", dropout, minimum=0.0, maximum=0.9)
    layers: list[nn.Module] = [nn.Flatten()]
    previous = 28 * 28
    for i, width in enumerate(widths):
        require_int(f"widths[{i}]", width, minimum=1)
        layers += [nn.Linear(previous, width), nn.LeakyReLU(0.2)] + ([nn.Dropout(dropout)] if dropout else [])
        previous = width
    if minibatch_std:
        layers.append(MinibatchStd())
        previous += 1
    layers.append(nn.Linear(previous, 1))
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines a model and how it is trained (saved in checkpoints, compared on resume)."""

    name: str
    z_dim: int = 100
    g_kwargs: dict = field(default_factory=dict)
    d_kwargs: dict = field(default_factory=dict)
    batch_size: int = 128
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    ema_decay: float = 0.0  # 0 = no moving average of G

    def to_dict(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        for key in ("g_kwargs", "d_kwargs"):
            d[key] = {k: list(v) if isinstance(v, tuple) else v for k, v in d[key].items()}
        return d


MODELS: dict[str, ModelSpec] = {
    "gan": ModelSpec("gan", g_lr=1e-4, d_lr=1e-4),
    "dcgan": ModelSpec("dcgan", g_kwargs={"channels": 64}, d_kwargs={"channels": 64, "dropout": 0.3},
                       ema_decay=0.999),
    "mlp": ModelSpec("mlp", g_kwargs={"widths": (256, 512, 1024), "batch_norm": True},
                     d_kwargs={"widths": (512, 256), "dropout": 0.3, "minibatch_std": True},
                     g_lr=4e-4, d_lr=4e-4, ema_decay=0.999),
}

_BUILDERS = {
    "gan": (article_generator, article_discriminator),
    "dcgan": (dcgan_generator, dcgan_discriminator),
    "mlp": (mlp_generator, mlp_discriminator),
}


def model_spec(name: str) -> ModelSpec:
    """The registered :class:`ModelSpec` called ``name`` (one of :data:`MODELS`)."""
    require_choice("model", name, MODELS)
    return MODELS[name]


def build_models(spec: ModelSpec | str, up_block: Callable | None = None) -> tuple[nn.Module, nn.Module]:
    """``(generator, discriminator)`` for a spec or a registered model name, freshly initialised.

    ``up_block`` (DCGAN only) builds the generator's up-block instead of :func:`dcgan_up_block`.
    """
    spec = model_spec(spec) if isinstance(spec, str) else spec
    require_choice("spec.name", spec.name, _BUILDERS)
    if up_block is not None and spec.name != "dcgan":
        raise ValueError(f"up_block is used by the DCGAN only, got it for model {spec.name!r}")
    make_g, make_d = _BUILDERS[spec.name]
    g_kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.g_kwargs.items()}
    if up_block is not None:
        g_kwargs["up_block"] = up_block
    d_kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.d_kwargs.items()}
    generator = make_g(z_dim=spec.z_dim, **g_kwargs)
    generator.z_dim = spec.z_dim  # the noise size travels with the network (generate() reads it)
    return generator, make_d(**d_kwargs)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] ``[B, 1, 28, 28]`` -> ``[B, 28, 28]`` in [0, 1]: (x + 1) / 2, clamped."""
    images = require_images("images", images, pixel_range=None, allow_empty=True)
    return symmetric_to_unit(images.detach().float())[:, 0]


def _input_size(generator: nn.Module) -> int | None:
    """The noise size a generator reads: its ``z_dim`` (set by :func:`build_models`), else the input size of
    the first layer of an ``nn.Sequential`` that starts with ``nn.Linear``; None when it cannot be told."""
    own = getattr(generator, "z_dim", None)
    if own is not None:
        return own
    first = generator[0] if isinstance(generator, nn.Sequential) and len(generator) else None
    return first.in_features if type(first) is nn.Linear else None


@torch.no_grad()
def generate(generator: nn.Module, n: int, z_dim: int | None = None, seed: int = 0,
             batch_size: int = 1000) -> torch.Tensor:
    """``n`` samples ``[n, 28, 28]`` in [0, 1] from z ~ N(0, I) (seeded), in eval mode, on the CPU.

    ``z_dim`` defaults to the generator's own (set by :func:`build_models` from the spec); a given
    one must match it or the input size of the network's first linear layer. ``n`` is at most
    :data:`MAX_SAMPLES` per call. The generator's output must be finite images in [-1, 1] (tanh).
    """
    if not isinstance(generator, nn.Module):
        raise TypeError(f"generator must be a torch.nn.Module, got {type(generator).__name__}")
    require_int("n", n, minimum=1, maximum=MAX_SAMPLES)
    require_seed(seed)
    require_int("batch_size", batch_size, minimum=1)
    own = getattr(generator, "z_dim", None)
    if z_dim is None:
        if own is None:
            raise ValueError("z_dim must be given for a generator not built by build_models (it has no z_dim)")
        z_dim = own
    require_int("z_dim", z_dim, minimum=1)
    own = _input_size(generator)  # also read from a plain network's first layer, to refuse a wrong z_dim clearly
    if own is not None and z_dim != own:
        raise ValueError(f"z_dim must be the generator's noise size {own}, got {z_dim}")
    device = device_of(generator)
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))
    with evaluating(generator):
        return torch.cat([_unit_images(generator(z[i:i + batch_size].to(device))) for i in range(0, n, batch_size)])


def _unit_images(output: torch.Tensor) -> torch.Tensor:
    """A generator's output batch checked (finite, in [-1, 1]) and mapped to ``[B, 28, 28]`` in [0, 1] on the CPU."""
    require_images("the generator's output", output, pixel_range="symmetric")
    return to_unit(output).cpu()


def latent_steps(start: torch.Tensor, end: torch.Tensor, steps: int) -> torch.Tensor:
    """Linear interpolation z_t = (1 - t) z_0 + t z_1 for ``steps`` values of t in [0, 1]: ``[steps, z_dim]``."""
    require_tensor("start", start, ndim=1, floating=True, finite=True, non_empty=True)
    require_tensor("end", end, shape=list(start.shape), floating=True, finite=True)
    require_int("steps", steps, minimum=2, maximum=MAX_SAMPLES)
    t = torch.linspace(0, 1, steps, dtype=start.dtype).unsqueeze(1)
    return (1 - t) * start + t * end


@torch.no_grad()
def latent_walk(generator: nn.Module, start: torch.Tensor, end: torch.Tensor, steps: int = 9) -> torch.Tensor:
    """Images ``[steps, 28, 28]`` in [0, 1] along the straight line from noise ``start`` to ``end`` ``[z_dim]``."""
    z = latent_steps(start, end, steps)
    with evaluating(generator):
        return _unit_images(generator(z.to(device_of(generator))))


@torch.no_grad()
def latent_directions_image(generator: nn.Module, base: torch.Tensor, directions: torch.Tensor,
                            coefficients: list[float] | tuple[float, ...]) -> torch.Tensor:
    """One image ``[28, 28]`` for z = base + sum_k c_k d_k (``base`` ``[z_dim]``, ``directions`` ``[K, z_dim]``)."""
    require_tensor("base", base, ndim=1, floating=True, finite=True, non_empty=True)
    require_tensor("directions", directions, ndim=2, floating=True, finite=True)
    if directions.shape[1] != base.shape[0]:
        raise ValueError(f"directions must have shape [K, {base.shape[0]}], got {list(directions.shape)}")
    if not isinstance(coefficients, (list, tuple)) or len(coefficients) != len(directions):
        raise ValueError(f"coefficients must be a list with one value per direction ({len(directions)}), "
                         f"got {coefficients!r}")
    values = [require_float(f"coefficients[{i}]", c) for i, c in enumerate(coefficients)]
    z = base + torch.as_tensor(values, dtype=base.dtype) @ directions
    with evaluating(generator):
        return _unit_images(generator(z.unsqueeze(0).to(device_of(generator))))[0]
