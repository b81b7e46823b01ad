"""Training chapter 05's GANs: progress bar, per-epoch sample grids and atomic checkpoints, resume.

``train_gan("mlp", epochs=30, out_dir=...)`` trains one of :data:`aigc_course.mnist_gan.MODELS`
on MNIST scaled to [-1, 1]. After every epoch it writes, atomically, ``out_dir/samples/epoch_NNN.png``
(the images for the same 64 noise vectors) and ``out_dir/checkpoint.pt`` (both networks, the moving
average of G, both optimizers, the epoch, the history and the RNG states; :mod:`aigc_course.gan.runs`).

The history (:class:`aigc_course.training.History`) holds, per epoch, ``train/d_loss`` and
``train/g_loss`` (means over the epoch's steps), ``eval/d_real`` and ``eval/d_fake`` (mean D(x) and
D(G(z)) on a fixed probe, both networks in eval mode), ``train/seconds`` and ``train/cpu_seconds``.

Run again with the same ``out_dir`` and it resumes after the last completed epoch: a run
killed mid-epoch loses only that epoch, and (on the CPU) continues exactly as if it had never
stopped. When the checkpoint already holds ``epochs`` epochs nothing is trained (load-or-train).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn

from ..config import get_device
from ..data import images_to_symmetric
from ..evaluation.metrics import load_mnist_cached
from .losses import StepLosses, gan_training_step
from ..checkpoints import CheckpointError, check_optimizer_fits
from ..files import remove_stale_temp_files, require_writable_folder
from ..training import History, evaluating, progress as progress_bar
from .runs import (CHECKPOINT_NAME, MAX_EPOCHS, load_training_state, restore_training_state, save_grid_png,
                   save_training_state, spec_from_checkpoint)
from .mnist_models import ModelSpec, build_models, model_spec, recalibrate_batch_norm, to_unit
from ..validate import NonFiniteError, require_bool, require_float, require_int, require_path, require_seed, unit_to_symmetric

GRID_SIZE = 64
PROBE = 512  # real images and noise vectors used to read D(x) and D(G(z)) after each epoch


def ema_update(ema_model: nn.Module, model: nn.Module, decay: float) -> None:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta for parameters; buffers copied. In place, no grad."""
    require_float("decay", decay, minimum=0.0, maximum=1.0)
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.lerp_(p, 1.0 - decay)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


def make_optimizers(spec: ModelSpec, generator: nn.Module, discriminator: nn.Module,
                    fused: bool = True) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for G and for D with the spec's learning rates and betas; the fused kernel where torch has one.

    ``fused=True`` does the whole update in one pass over the parameters (the same update rule);
    ``fused=False`` uses the per-tensor loop. Chapter 05 measures the difference in speed.
    """
    require_bool("fused", fused)

    def adam(params, lr: float) -> torch.optim.Adam:
        if fused:
            try:
                return torch.optim.Adam(params, lr=lr, betas=spec.betas, fused=True)
            except (RuntimeError, TypeError, ValueError):  # older torch or a device without the fused kernel
                pass
        return torch.optim.Adam(params, lr=lr, betas=spec.betas)

    return adam(list(generator.parameters()), spec.g_lr), adam(list(discriminator.parameters()), spec.d_lr)


@dataclass
class TrainingRun:
    """What :func:`train_gan` returns. ``generator`` is the moving average when the model uses one."""
    spec: ModelSpec
    generator: nn.Module
    raw_generator: nn.Module
    discriminator: nn.Module
    history: History
    epochs_done: int
    out_dir: Path
    resumed_from: int = 0
    trained_epochs: int = 0
    stopped_early: bool = False
    images_per_second: float = field(default=float("nan"))
    images_trained: int = 0  # images this call trained on (a cut-short last epoch counts its batches only)


@torch.no_grad()
def discriminator_outputs(discriminator: nn.Module, generator: nn.Module, real: torch.Tensor,
                          noise: torch.Tensor) -> tuple[float, float]:
    """Mean D(x) over ``real`` and mean D(G(z)) over ``noise``, both networks in eval mode (then back to train).

    D(x) near 1 with D(G(z)) near 0 for many epochs means D has won and G gets no useful gradient.
    """
    with evaluating(discriminator, generator):
        d_real = torch.sigmoid(discriminator(real)).mean().item()
        d_fake = torch.sigmoid(discriminator(generator(noise))).mean().item()
    return d_real, d_fake


def training_step_for(spec: ModelSpec) -> Callable[..., StepLosses]:
    """The step function a model trains with: chapter 02's :func:`aigc_course.gan.gan_training_step`."""
    return gan_training_step


def measure_step_speed(model: str, steps: int = 10, device: torch.device | str | None = None,
                       warmup: int = 2, fused: bool = True) -> float:
    """Images per second of the training step of ``model`` (random data, fresh networks), wall clock.

    ``fused`` chooses Adam's fused kernel or its per-tensor loop (:func:`make_optimizers`).
    """
    spec = model_spec(model)
    require_int("steps", steps, minimum=1, maximum=10_000)
    require_int("warmup", warmup, minimum=0, maximum=10_000)
    require_bool("fused", fused)
    device = get_device(None if device is None else str(device))
    rng_state = torch.get_rng_state()
    generator, discriminator = (m.to(device) for m in build_models(spec))
    g_opt, d_opt = make_optimizers(spec, generator, discriminator, fused=fused)
    ema = copy.deepcopy(generator).requires_grad_(False) if spec.ema_decay > 0 else None
    step = training_step_for(spec)
    real = unit_to_symmetric(torch.rand(spec.batch_size, 1, 28, 28, device=device))
    noise = torch.randn(spec.batch_size, spec.z_dim, device=device)
    for i in range(warmup + steps):
        if i == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
        step(generator, discriminator, g_opt, d_opt, real, noise)
        if ema is not None:
            ema_update(ema, generator, spec.ema_decay)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    torch.set_rng_state(rng_state)  # measuring must not change what the notebook draws next
    return steps * spec.batch_size / seconds


def _rng_state(data_generator: torch.Generator, device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state(), "data": data_generator.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def train_gan(model: str, epochs: int, out_dir: str | Path, *, seed: int = 0, train_subset: int | None = None,
              device: torch.device | str | None = None, max_seconds: float | None = None, progress: bool = True,
              on_batch: Callable[[int, int], None] | None = None, up_block: Callable | None = None,
              restore: Callable | None = None, cut_last_epoch: bool = False) -> TrainingRun:
    """Train (or resume, or just load) model ``model`` until ``epochs`` epochs are done.

    ``train_subset`` uses the first N training images; ``max_seconds`` stops before an epoch
    that would not fit in that many seconds of training; ``on_batch(epoch, batch_index)`` is
    called after every step (tests use it to interrupt training). ``up_block(in, out)`` builds the
    DCGAN generator's up-block (:func:`build_models`); ``restore`` replaces
    :func:`aigc_course.gan.restore_training_state` on resume (chapter 05 passes the learner's).
    ``cut_last_epoch=True`` (with ``max_seconds``) stops *inside* the epoch that reaches ``max_seconds``
    of training and saves it as a completed (shorter) epoch, so a model whose epoch is longer than the
    budget still trains for the budget, not a whole epoch.
    """
    spec = model_spec(model)
    require_int("epochs", epochs, minimum=1, maximum=MAX_EPOCHS)
    require_seed(seed)
    if train_subset is not None:
        require_int("train_subset", train_subset, minimum=spec.batch_size, maximum=60_000)
    if max_seconds is not None:
        require_float("max_seconds", max_seconds, minimum=0.0, strict_minimum=True)
    if on_batch is not None and not callable(on_batch):
        raise TypeError(f"on_batch must be a function (epoch, batch_index) or None, got {type(on_batch).__name__}")
    require_bool("cut_last_epoch", cut_last_epoch)
    if cut_last_epoch and max_seconds is None:
        raise ValueError("cut_last_epoch needs max_seconds (the budget at which the epoch is cut)")
    if restore is not None and not callable(restore):
        raise TypeError(f"restore must be a function like restore_training_state or None, got {type(restore).__name__}")
    device = get_device(None if device is None else str(device))
    out_dir = require_path("out_dir", out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out_dir must be a folder, got the file {out_dir}")
    require_writable_folder(out_dir, "out_dir")  # before an epoch of work, not after it
    for folder in (out_dir, out_dir / "samples"):  # what a run killed mid-write left behind
        remove_stale_temp_files(folder)
    path = out_dir / CHECKPOINT_NAME

    torch.manual_seed(seed)
    generator, discriminator = build_models(spec, up_block=up_block)
    generator, discriminator = generator.to(device), discriminator.to(device)
    ema = copy.deepcopy(generator).requires_grad_(False) if spec.ema_decay > 0 else None
    g_opt, d_opt = make_optimizers(spec, generator, discriminator)
    data_order = torch.Generator().manual_seed(seed)
    history = History()
    start = 1
    if path.exists():
        checkpoint = load_training_state(path)
        saved = (checkpoint["spec"].get("name"), checkpoint["seed"], checkpoint["train_subset"])
        if saved != (spec.name, seed, train_subset):
            raise CheckpointError(f"{path} holds model={saved[0]!r}, seed={saved[1]}, train_subset={saved[2]}, not "
                                  f"model={spec.name!r}, seed={seed}, train_subset={train_subset}; use another out_dir")
        spec_from_checkpoint(checkpoint)
        try:
            start = (restore or restore_training_state)(checkpoint, generator, discriminator, g_opt, d_opt)
            if ema is not None:
                ema.load_state_dict(checkpoint["ema_generator"])
            if device.type == "cuda" and "cuda" in checkpoint["rng"]:
                torch.cuda.set_rng_state(checkpoint["rng"]["cuda"], device)
        except (RuntimeError, KeyError, ValueError, TypeError, AttributeError) as err:
            raise CheckpointError(f"{path} does not fit model {spec.name!r} ({str(err).splitlines()[0][:160]})") from None
        for name, optimizer, lr in (("g_optimizer", g_opt, spec.g_lr), ("d_optimizer", d_opt, spec.d_lr)):
            check_optimizer_fits(f"{path}: {name}", optimizer)
            saved = [(group.get("lr"), tuple(group.get("betas", ()))) for group in optimizer.param_groups]
            if any(got != (lr, tuple(spec.betas)) for got in saved):
                raise CheckpointError(f"{path}: {name} holds learning rate and betas {saved}, but model "
                                      f"{spec.name!r} trains with lr={lr}, betas={tuple(spec.betas)}")
        data_order.set_state(checkpoint["rng"]["data"])
        try:
            history = History.from_state_dict(checkpoint["history"])
        except (ValueError, TypeError, FloatingPointError) as err:
            raise CheckpointError(f"{path} holds an unreadable history ({err})") from None
    resumed_from = start - 1

    images, _ = load_mnist_cached("train")
    if train_subset is not None:
        images = images[:train_subset]
    real_all = images_to_symmetric(images).unsqueeze(1).to(device)
    fixed = torch.randn(GRID_SIZE + PROBE, spec.z_dim, generator=torch.Generator().manual_seed(seed + 1)).to(device)
    fixed_noise, probe_noise = fixed[:GRID_SIZE], fixed[GRID_SIZE:]
    step = training_step_for(spec)
    n_batches = len(real_all) // spec.batch_size  # drop the last partial batch: equal-size steps
    started, trained, stopped_early, images_trained = time.perf_counter(), 0, False, 0
    with progress_bar(total=max(epochs - start + 1, 0) * n_batches, desc=spec.name, unit="batch",
                      enabled=progress) as bar:
        for epoch in range(start, epochs + 1):
            elapsed = time.perf_counter() - started
            if max_seconds is not None and trained and elapsed + (0 if cut_last_epoch else elapsed / trained) > max_seconds:
                stopped_early = True
                break
            order = torch.randperm(len(real_all), generator=data_order)
            noise_gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
            generator.train()
            discriminator.train()
            loss_sum = torch.zeros(2, dtype=torch.float64)
            epoch_start, epoch_cpu = time.perf_counter(), time.process_time()
            bar.set_description(f"{spec.name} epoch {epoch}/{epochs}")
            batches_run = n_batches
            for b in range(n_batches):
                real = real_all[order[b * spec.batch_size:(b + 1) * spec.batch_size].to(device)]
                noise = torch.randn(spec.batch_size, spec.z_dim, generator=noise_gen).to(device)
                try:
                    losses = step(generator, discriminator, g_opt, d_opt, real, noise)
                except NonFiniteError as err:  # the networks' outputs diverged
                    raise FloatingPointError(f"epoch {epoch}, batch {b}: training diverged ({err}); the last good "
                                             f"checkpoint is {path}") from None
                if ema is not None:
                    ema_update(ema, generator, spec.ema_decay)
                if not (math.isfinite(losses.discriminator) and math.isfinite(losses.generator)):
                    raise FloatingPointError(f"epoch {epoch}, batch {b}: a loss became NaN or infinite; the last good "
                                             f"checkpoint is {path}")
                loss_sum += torch.tensor([losses.discriminator, losses.generator], dtype=torch.float64)
                bar.update()
                if on_batch is not None:
                    on_batch(epoch, b)
                if cut_last_epoch and time.perf_counter() - started >= max_seconds and b + 1 < n_batches:
                    batches_run, stopped_early = b + 1, True
                    break
            images_trained += batches_run * spec.batch_size
            seconds, cpu_seconds = time.perf_counter() - epoch_start, time.process_time() - epoch_cpu
            d_real, d_fake = discriminator_outputs(discriminator, generator, real_all[:PROBE], probe_noise)
            d_loss, g_loss = (loss_sum / batches_run).tolist()
            history.log("train", d_loss=d_loss, g_loss=g_loss, seconds=seconds, cpu_seconds=cpu_seconds)
            history.log("eval", d_real=d_real, d_fake=d_fake)
            if ema is not None:
                # standing statistics from 10,000 noise vectors, fewer for a small training set (fast mode)
                recalibrate_batch_norm(ema, spec.z_dim, batches=min(20, max(2, len(real_all) // 500)),
                                       seed=seed + 2)
            shown = ema if ema is not None else generator
            with evaluating(shown):
                save_grid_png(to_unit(shown(fixed_noise)), out_dir / "samples" / f"epoch_{epoch:03d}.png")
            save_training_state(path, {
                "spec": spec.to_dict(), "seed": seed, "train_subset": train_subset,
                "epoch": epoch, "generator": generator.state_dict(), "discriminator": discriminator.state_dict(),
                "ema_generator": ema.state_dict() if ema is not None else None,
                "g_optimizer": g_opt.state_dict(), "d_optimizer": d_opt.state_dict(),
                "rng": _rng_state(data_order, device), "history": history.state_dict(),
            })
            trained += 1
            bar.set_postfix(D_loss=f"{d_loss:.3f}", G_loss=f"{g_loss:.3f}")
            if stopped_early:
                break
    done = resumed_from + trained
    train_seconds = sum(history["train/seconds"][resumed_from:done]) if trained else float("nan")
    final = ema if ema is not None else generator
    final.eval()
    return TrainingRun(spec=spec, generator=final, raw_generator=generator.eval(), discriminator=discriminator.eval(),
                       history=history, epochs_done=done, out_dir=out_dir, resumed_from=resumed_from,
                       trained_epochs=trained, stopped_early=stopped_early,
                       images_per_second=images_trained / train_seconds if trained else float("nan"),
                       images_trained=images_trained)
