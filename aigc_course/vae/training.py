"""Chapter 03: training the VAE - encoder and decoder **jointly**, one loss, one optimizer.

Every step is the pytorch/examples VAE step, in plain sight::

    terms = forward_loss(model, x, beta)   # -ELBO = reconstruction + beta * KL, batch mean (nats)
    optimizer.zero_grad()
    terms.loss.backward()                  # one backward pass: gradients for encoder AND decoder
    optimizer.step()                       # one Adam step on all parameters

The history (:class:`aigc_course.training.History`) records, per step, ``train/step_loss``,
``train/step_reconstruction`` and ``train/step_kl``; per epoch, the training means ``train/loss``,
``train/reconstruction``, ``train/kl``, the cumulative training time ``train/seconds`` (evaluation
excluded) and, with ``eval_images``, ``eval/loss``, ``eval/reconstruction``, ``eval/kl``.
"""

from __future__ import annotations

import time

import torch
import torch.nn as nn

from ..data import InMemoryBatches
from ..training import History, device_of, progress as progress_bar
from ..validate import require_float, require_images, require_int, require_seed
from .losses import evaluate, forward_loss

TERMS = ("loss", "reconstruction", "kl")


def train_vae(model: nn.Module, images: torch.Tensor, *, epochs: int, batch_size: int = 128, lr: float = 1e-3,
              beta: float = 1.0, seed: int = 0, eval_images: torch.Tensor | None = None,
              device: torch.device | str | None = None, progress: bool = True) -> History:
    """Train encoder and decoder jointly with Adam on the negative ELBO; return the :class:`History`.

    ``images``: float ``[N, 1, 28, 28]`` (or ``[N, 28, 28]``, ``[N, 784]``) in [0, 1].
    ``eval_images`` (same form) are scored with :func:`aigc_course.vae.evaluate` after every epoch.
    """
    images = require_images("images", images)
    require_int("epochs", epochs, minimum=1)
    require_int("batch_size", batch_size, minimum=1)
    require_float("lr", lr, minimum=0.0, strict_minimum=True)
    beta = require_float("beta", beta, minimum=0.0)
    if eval_images is not None:
        eval_images = require_images("eval_images", eval_images)
    device = torch.device(device) if device is not None else device_of(model)
    model.to(device)
    torch.manual_seed(require_seed(seed))  # the eps of reparameterize
    batches = InMemoryBatches(images, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)   # ONE optimizer over encoder + decoder
    history, elapsed = History(), 0.0
    with progress_bar(total=epochs * len(batches), desc=f"VAE ({type(model).__name__})", unit="batch",
                      enabled=progress, leave=False) as bar:
        for _ in range(epochs):
            model.train()
            sums, count, started = torch.zeros(3), 0, time.perf_counter()
            for (x,) in batches:
                terms = forward_loss(model, x, beta)
                optimizer.zero_grad(set_to_none=True)
                terms.loss.backward()                              # gradients for encoder AND decoder
                optimizer.step()
                values = torch.stack([t.detach() for t in terms]).cpu()
                sums += values * len(x)
                count += len(x)
                history.log("train", **{f"step_{name}": v for name, v in zip(TERMS, values.tolist())})
                bar.set_postfix(loss=f"{values[0]:.1f}")
                bar.update(1)
            elapsed += time.perf_counter() - started
            history.log("train", seconds=elapsed, **dict(zip(TERMS, (sums / count).tolist())))
            if eval_images is not None:
                result = evaluate(model, eval_images)
                history.log("eval", **{name: result[name] for name in TERMS})
    model.eval()
    return history
