"""The chapter's trainable digit models as recipes, their checkpoints (kind ``"diffusion"``) and the cache.

A :class:`Recipe` names everything that decides a trained model: the method (``"ddpm"``,
``"flow"`` - the pixel U-Net - or ``"latent-flow"`` - the autoencoder plus a velocity MLP), the
network sizes, the training budget and the seed. :func:`train_recipe` trains it into a
:class:`TrainedDiffusion`, whose :meth:`~TrainedDiffusion.sample` draws digits in [0, 1].

Cache: :func:`load_or_train_diffusion` keeps a trained recipe in
``data_dir()/models/diffusion/<method>-<sha1 of the recipe and NETWORKS_VERSION, 10 hex>.pt`` (:func:`cache_path`):
loaded when present and usable, otherwise (missing, corrupt, other settings) reported in one line
and trained again. The checkpoint holds ``config = {"recipe": ..., "networks": ...}``, ``states``
``model`` (the EMA weights when EMA is on), ``raw_model`` and, for latent flow, ``autoencoder``;
``metadata`` the training seconds (``train_seconds``, ``autoencoder_seconds``), ``images_seen``,
``epochs`` and the loss curve (``history``).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch
import torch.nn as nn

from .latent import ConvAutoencoder, VelocityMLP, decode_latents, encode_images, train_autoencoder
from .samplers import ddim_sample, flow_sample, sample_in_batches, samples_to_unit
from .schedules import NoiseSchedule
from .training import train_diffusion
from .unet import UNet
from ..checkpoints import CheckpointError, check_optimizer_state, load_checkpoint, load_state, save_checkpoint
from ..config import data_dir, get_device
from ..data import images_to_symmetric
from ..evaluation.metrics import load_mnist_cached
from ..training import History
from ..validate import require_choice, require_float, require_int, require_path

METHODS = ("ddpm", "flow", "latent-flow")
NETWORKS_VERSION = 2  # bumped when a network's layers change, so old cache files are not even tried
CHECKPOINT_KIND = "diffusion"


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a trained digit model. ``minutes``/``epochs``: the training budget (first reached wins)."""

    method: str = "latent-flow"
    conditional: bool = True
    p_uncond: float = 0.1
    epochs: int | None = None
    minutes: float | None = 4.0
    batch_size: int = 128
    lr: float = 2e-3
    ema: float | None = 0.999
    train_subset: int | None = None
    seed: int = 0
    base: int = 32                      # U-Net width (pixel methods)
    channel_mults: tuple[int, ...] = (1, 2)
    schedule: str = "cosine"            # DDPM only
    latent_dim: int = 32                # latent flow only
    autoencoder_base: int = 32
    autoencoder_epochs: int | None = None
    autoencoder_minutes: float | None = 3.0
    hidden: int = 512
    depth: int = 3
    clock: str = "cpu"                  # what the minutes count: process CPU time ("cpu") or "wall" time

    def __post_init__(self) -> None:
        require_choice("method", self.method, METHODS)
        require_choice("schedule", self.schedule, ("linear", "cosine"))
        require_choice("clock", self.clock, ("cpu", "wall"))
        require_float("p_uncond", self.p_uncond, minimum=0.0, maximum=1.0)
        if self.epochs is None and self.minutes is None:
            raise ValueError("a recipe needs epochs, minutes or both")
        if self.train_subset is not None:
            require_int("train_subset", self.train_subset, minimum=1, maximum=60_000)
        for name, high in (("base", 256), ("latent_dim", 784), ("autoencoder_base", 128), ("hidden", 4096),
                           ("depth", 16), ("batch_size", 65_536), ("seed", 2**32 - 1)):
            require_int(name, getattr(self, name), minimum=0 if name == "seed" else 1, maximum=high)
        if not isinstance(self.channel_mults, (tuple, list)) or not 1 <= len(self.channel_mults) <= 4:
            raise ValueError(f"channel_mults must be 1 to 4 ints, got {self.channel_mults!r}")
        object.__setattr__(self, "channel_mults", tuple(self.channel_mults))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channel_mults"] = list(self.channel_mults)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Recipe":
        if not isinstance(d, dict) or set(d) != {f.name for f in fields(cls)}:
            raise ValueError(f"a recipe must have the fields {[f.name for f in fields(cls)]}")
        return cls(**d)


def _networks(recipe: Recipe) -> tuple[nn.Module, ConvAutoencoder | None]:
    classes = 10 if recipe.conditional else None
    if recipe.method == "latent-flow":
        return (VelocityMLP(recipe.latent_dim, recipe.hidden, recipe.depth, classes),
                ConvAutoencoder(recipe.latent_dim, recipe.autoencoder_base))
    return UNet(1, recipe.base, recipe.channel_mults, classes), None


@dataclass
class TrainedDiffusion:
    """A trained recipe: ``model`` (EMA weights), ``autoencoder`` (latent flow), ``history`` and costs."""

    recipe: Recipe
    model: nn.Module
    autoencoder: ConvAutoencoder | None
    history: History
    train_seconds: float
    autoencoder_seconds: float
    images_seen: int
    epochs: int
    raw_model: nn.Module | None = None
    optimizer_state: dict | None = None  # set by load_diffusion when the file holds one (a resumable run)

    @property
    def schedule(self) -> NoiseSchedule | None:
        return getattr(NoiseSchedule, self.recipe.schedule)() if self.recipe.method == "ddpm" else None

    def sample(self, n: int, steps: int = 20, y: torch.Tensor | None = None, guidance: float = 1.0,
               method: str = "euler", generator: torch.Generator | None = None, batch_size: int = 1000,
               progress: bool = False) -> torch.Tensor:
        """``n`` digits ``[n, 1, 28, 28]`` in [0, 1]: DDIM (DDPM models) or the flow ODE (``method``) in ``steps``."""
        require_int("steps", steps, minimum=1, maximum=1000)
        kwargs = dict(steps=steps, guidance=guidance, generator=generator, progress=progress, batch_size=batch_size, y=y)
        if self.recipe.method == "ddpm":
            x = sample_in_batches(ddim_sample, n, self.model, self.schedule, shape=(1, 28, 28), **kwargs)
        elif self.recipe.method == "flow":
            x = sample_in_batches(flow_sample, n, self.model, shape=(1, 28, 28), method=method, **kwargs)
        else:
            z = sample_in_batches(flow_sample, n, self.model, shape=(self.recipe.latent_dim,), method=method, **kwargs)
            x = decode_latents(self.autoencoder, z)
        return samples_to_unit(x)


def training_digits(train_subset: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST training digits ``[N, 1, 28, 28]`` in [-1, 1] and labels ``[N]`` (the first ``train_subset``)."""
    if train_subset is not None:
        require_int("train_subset", train_subset, minimum=1, maximum=60_000)
    images, labels = load_mnist_cached("train")
    if train_subset is not None:
        images, labels = images[:train_subset], labels[:train_subset]
    return images_to_symmetric(images).unsqueeze(1), labels


def train_recipe(recipe: Recipe, device: torch.device | str | None = None, progress: bool = True) -> TrainedDiffusion:
    """Train ``recipe`` on MNIST: the autoencoder first for latent flow, then the diffusion/flow model."""
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, got {type(recipe).__name__}")
    device = get_device(None if device is None else str(device))
    images, labels = training_digits(recipe.train_subset)
    torch.manual_seed(recipe.seed)
    model, autoencoder = _networks(recipe)
    ae_seconds, data = 0.0, images
    if autoencoder is not None:
        ae_history = train_autoencoder(autoencoder, images, epochs=recipe.autoencoder_epochs,
                                       minutes=recipe.autoencoder_minutes, batch_size=recipe.batch_size, lr=recipe.lr,
                                       device=device, seed=recipe.seed, progress=progress, clock=recipe.clock)
        ae_seconds = ae_history.last("train/seconds")
        data = encode_images(autoencoder, images)
    run = train_diffusion(model, data, objective="ddpm" if recipe.method == "ddpm" else "flow",
                          schedule=getattr(NoiseSchedule, recipe.schedule)(), epochs=recipe.epochs,
                          minutes=recipe.minutes, batch_size=recipe.batch_size, lr=recipe.lr,
                          labels=labels if recipe.conditional else None, p_uncond=recipe.p_uncond, ema=recipe.ema,
                          device=device, seed=recipe.seed, progress=progress, clock=recipe.clock)
    return TrainedDiffusion(recipe, run.best.eval(), autoencoder, run.history, run.seconds, ae_seconds,
                            run.images_seen, run.epochs, raw_model=run.model)


def save_diffusion(path: str | Path, trained: TrainedDiffusion, optimizer: torch.optim.Optimizer | None = None) -> Path:
    """Write a trained recipe as a course checkpoint of kind ``"diffusion"`` (atomically); with the
    ``optimizer`` of the raw model when the run may be resumed."""
    if not isinstance(trained, TrainedDiffusion):
        raise TypeError(f"trained must be a TrainedDiffusion, got {type(trained).__name__}")
    states = {"model": trained.model.state_dict()}
    if optimizer is not None:
        states["optimizer"] = optimizer.state_dict()
    if trained.raw_model is not None:
        states["raw_model"] = trained.raw_model.state_dict()
    if trained.autoencoder is not None:
        states["autoencoder"] = trained.autoencoder.state_dict()
    metadata = {"train_seconds": float(trained.train_seconds), "autoencoder_seconds": float(trained.autoencoder_seconds),
                "images_seen": int(trained.images_seen), "epochs": int(trained.epochs),
                "history": trained.history.state_dict()}
    return save_checkpoint(require_path("path", path), CHECKPOINT_KIND, config={"recipe": trained.recipe.to_dict()},
                           states=states, metadata=metadata)


def load_diffusion(path: str | Path, device: torch.device | str | None = None) -> TrainedDiffusion:
    """Read a checkpoint of :func:`save_diffusion`; every problem is a :class:`CheckpointError` naming the file."""
    checkpoint = load_checkpoint(require_path("path", path), CHECKPOINT_KIND)
    try:
        recipe = Recipe.from_dict(checkpoint.config.get("recipe"))
        meta = checkpoint.metadata
        numbers = [meta.get(k) for k in ("train_seconds", "autoencoder_seconds")]
        if not all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in numbers):
            raise ValueError(f"train_seconds and autoencoder_seconds must be finite floats >= 0, got {numbers}")
        for key in ("images_seen", "epochs"):
            require_int(key, meta.get(key), minimum=0)
        history = History.from_state_dict(meta.get("history"))
    except (TypeError, ValueError, AttributeError, FloatingPointError) as err:
        raise CheckpointError(f"{path}: {err}") from None
    model, autoencoder = _networks(recipe)
    load_state(model, checkpoint, "model")
    raw = None
    if "raw_model" in checkpoint.states:
        raw = _networks(recipe)[0]
        load_state(raw, checkpoint, "raw_model")
    if autoencoder is not None:
        load_state(autoencoder, checkpoint, "autoencoder")
    optimizer_state = None
    if "optimizer" in checkpoint.states:
        if raw is None:
            raise CheckpointError(f"{path} holds an optimizer but no raw_model to resume")
        check_optimizer_state(f"{path}: state 'optimizer'", checkpoint.states["optimizer"])
        optimizer_state = checkpoint.states["optimizer"]
    device = get_device(None if device is None else str(device))
    trained = TrainedDiffusion(recipe, model.to(device).eval(), None if autoencoder is None else autoencoder.to(device).eval(),
                               history, meta["train_seconds"], meta["autoencoder_seconds"], meta["images_seen"],
                               meta["epochs"], raw_model=None if raw is None else raw.to(device).eval(),
                               optimizer_state=optimizer_state)
    return trained


def cache_path(recipe: Recipe) -> Path:
    """``data_dir()/models/diffusion/<method>-<sha1 of the recipe's fields and NETWORKS_VERSION, 10 hex>.pt``."""
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, got {type(recipe).__name__}")
    settings = {**recipe.to_dict(), "networks_version": NETWORKS_VERSION}
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    return data_dir() / "models" / "diffusion" / f"{recipe.method}-{digest}.pt"


def load_or_train_diffusion(recipe: Recipe, device: torch.device | str | None = None, progress: bool = True,
                            verbose: bool = True) -> TrainedDiffusion:
    """The trained ``recipe`` from the cache (:func:`cache_path`), or trained now and cached.

    A cache file that cannot be used is reported in one line on stderr and replaced.
    """
    path = cache_path(recipe)
    if path.is_file():
        try:
            trained = load_diffusion(path, device)
            if trained.recipe != recipe:
                raise CheckpointError(f"{path} holds another recipe")
            if verbose:
                print(f"{recipe.method}: loaded {path} (trained {trained.train_seconds / 60:.1f} min)")
            return trained
        except CheckpointError as err:
            print(f"{recipe.method}: cannot use the cache ({err}); training in its place", file=sys.stderr)
    trained = train_recipe(recipe, device, progress)
    try:
        save_diffusion(path, trained)
        where = f"cached in {path}"
    except OSError as err:
        where = f"NOT cached ({err.strerror or err})"
    if verbose:
        print(f"{recipe.method}: trained {trained.train_seconds / 60:.1f} min, {trained.epochs} epochs; {where}")
    return trained


def budget_recipe(method: str = "latent-flow", **changes) -> Recipe:
    """The chapter's recipe for ``method`` at the current budget (``config.budget("diffusion")``): what the
    notebook and the benchmark train, hence the cache file they share. ``changes`` override fields."""
    from ..config import budget

    require_choice("method", method, METHODS)
    b = budget("diffusion")
    fields_ = dict(method=method, train_subset=b.train_subset, autoencoder_minutes=b.autoencoder_minutes,
                   minutes=b.latent_minutes if method == "latent-flow" else b.pixel_minutes, base=b.pixel_base)
    return Recipe(**{**fields_, **changes})


def with_budget(recipe: Recipe, **changes) -> Recipe:
    """A copy of ``recipe`` with some fields changed (``dataclasses.replace`` with the recipe's checks)."""
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, got {type(recipe).__name__}")
    return replace(recipe, **changes)
