"""The training loop of a diffusion or flow model: short and visible, with EMA weights and a time budget.

One loop serves every model of the chapter (the pixel U-Net with either objective, the velocity
MLP in an autoencoder's latent space): draw a batch, compute the objective's loss at random
times, ``zero_grad`` / ``backward`` / ``step``, update the exponential moving average
theta_ema <- d theta_ema + (1 - d) theta (with the usual warm-up d_k = min(d, (1 + k) / (10 + k))).
``minutes`` stops the run at a time budget, so quality can be measured against training minutes. The
``clock`` that counts them is ``"cpu"`` (the process's CPU time, :func:`time.process_time`: with one
torch thread, the minutes of one dedicated core whatever else runs on the machine) or ``"wall"``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn

from .objectives import OBJECTIVES, ddpm_loss, flow_matching_loss
from .schedules import NoiseSchedule
from ..config import get_device
from ..data import InMemoryBatches
from ..gan.training import ema_update
from ..training import History, progress as progress_bar
from ..validate import require_bool, require_choice, require_float, require_int, require_seed, require_tensor

MAX_EPOCHS = 10_000
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


@dataclass
class DiffusionRun:
    """What :func:`train_diffusion` returns: the trained ``model`` and its ``ema_model`` (None without EMA),
    the ``optimizer`` (for resuming), ``history`` (``"train/loss"`` per step, ``"train/epoch_loss"`` per
    epoch), ``seconds`` on the run's clock, ``images_seen``, completed ``epochs`` and whether ``minutes`` stopped it."""

    model: nn.Module
    ema_model: nn.Module | None
    optimizer: torch.optim.Optimizer
    history: History
    seconds: float
    images_seen: int
    epochs: int
    stopped_by_time: bool

    @property
    def best(self) -> nn.Module:
        """The weights to sample with: the moving average when there is one."""
        return self.ema_model if self.ema_model is not None else self.model

    @property
    def images_per_second(self) -> float:
        return self.images_seen / max(self.seconds, 1e-9)


def _check(model: nn.Module, data: torch.Tensor, objective: str, schedule: NoiseSchedule | None,
           epochs: int | None, minutes: float | None, labels: torch.Tensor | None) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    require_tensor("data", data, floating=True, finite=True, non_empty=True)
    require_choice("objective", objective, sorted(OBJECTIVES))
    if objective == "ddpm" and not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule for objective 'ddpm', got {type(schedule).__name__}")
    if epochs is None and minutes is None:
        raise ValueError("give epochs, minutes or both (the run stops at whichever comes first)")
    if epochs is not None:
        require_int("epochs", epochs, minimum=1, maximum=MAX_EPOCHS)
    if minutes is not None:
        require_float("minutes", minutes, minimum=0.0, strict_minimum=True, maximum=10_000.0)
    classes = getattr(model, "num_classes", None)
    if (labels is None) != (classes is None):
        raise ValueError("labels must be given exactly when the model is class-conditional "
                         f"(model.num_classes = {classes}, labels {'missing' if labels is None else 'given'})")
    if labels is not None:
        require_tensor("labels", labels, ndim=1, integer=True, shape=[len(data)])


def train_diffusion(model: nn.Module, data: torch.Tensor, *, objective: str = "flow",
                    schedule: NoiseSchedule | None = None, epochs: int | None = None, minutes: float | None = None,
                    batch_size: int = 128, lr: float = 2e-3, labels: torch.Tensor | None = None,
                    p_uncond: float = 0.0, ema: float | None = 0.999, device: torch.device | str | None = None,
                    seed: int = 0, progress: bool = True, resume: DiffusionRun | None = None,
                    on_epoch: Callable[[DiffusionRun], None] | None = None, clock: str = "cpu") -> DiffusionRun:
    """Train ``model`` on ``data`` ``[N, ...]`` (model space: images in [-1, 1] or latent codes).

    ``objective``: ``"ddpm"`` (needs ``schedule``) or ``"flow"``. Stops after ``epochs`` or when
    ``minutes`` on ``clock`` (``"cpu"``: process CPU time; ``"wall"``) have passed, whichever is first. ``labels`` ``[N]`` for a
    class-conditional model, dropped to the null class with probability ``p_uncond``. ``ema``:
    the moving-average decay (None: no EMA). ``resume``: a previous run to continue (its model,
    EMA, optimizer and history; ``epochs`` counts the total). ``on_epoch(run)`` is called after
    each epoch (the command line saves a checkpoint there).
    """
    _check(model, data, objective, schedule, epochs, minutes, labels)
    require_int("batch_size", batch_size, minimum=1, maximum=65_536)
    require_float("lr", lr, minimum=0.0, strict_minimum=True, maximum=1.0)
    require_float("p_uncond", p_uncond, minimum=0.0, maximum=1.0)
    if ema is not None:
        require_float("ema", ema, minimum=0.0, maximum=1.0)
    require_seed(seed)
    require_bool("progress", progress)
    now = CLOCKS[require_choice("clock", clock, sorted(CLOCKS))]
    device = get_device(None if device is None else str(device))
    model.to(device).train()
    if resume is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        ema_model = copy.deepcopy(model).eval().requires_grad_(False) if ema is not None else None
        run = DiffusionRun(model, ema_model, optimizer, History(), 0.0, 0, 0, False)
    else:
        run = resume
        run.stopped_by_time = False
        if run.ema_model is not None:
            run.ema_model.to(device)
    generator = torch.Generator().manual_seed(seed + 1_000_003 * run.epochs)
    tensors = (data,) if labels is None else (data, labels)
    batches = InMemoryBatches(*tensors, batch_size=min(batch_size, len(data)), seed=seed + run.epochs, drop_last=True)
    total_epochs = epochs if epochs is not None else MAX_EPOCHS
    start, step = now() - run.seconds, len(run.history.curves.get("train/loss", []))
    bar = progress_bar(total=None if epochs is None else (total_epochs - run.epochs) * len(batches),
                       desc=f"{objective} training", unit="batch", enabled=progress)
    while run.epochs < total_epochs and not run.stopped_by_time:
        epoch_losses = []
        for batch in batches:
            x0 = batch[0].to(device)
            y = batch[1].to(device) if labels is not None else None
            if objective == "ddpm":
                loss = ddpm_loss(model, x0, schedule, y, generator=generator, p_uncond=p_uncond)
            else:
                loss = flow_matching_loss(model, x0, y, generator=generator, p_uncond=p_uncond)
            run.optimizer.zero_grad()
            loss.backward()
            run.optimizer.step()
            step += 1
            if run.ema_model is not None:
                ema_update(run.ema_model, model, min(ema, (1 + step) / (10 + step)))
            run.history.log("train", loss=loss.item())
            epoch_losses.append(loss.item())
            run.images_seen += len(x0)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}")
            if minutes is not None and now() - start >= minutes * 60:
                run.stopped_by_time = True
                break
        run.seconds = now() - start
        if not run.stopped_by_time or len(epoch_losses) == len(batches):
            run.epochs += 1
            run.history.log("train", epoch_loss=sum(epoch_losses) / len(epoch_losses))
            if on_epoch is not None:
                on_epoch(run)
    bar.close()
    run.seconds = now() - start
    model.eval()
    return run
