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
from ..validate import require_choice, require_float, require_images, require_int, require_seed
from .losses import evaluate, forward_loss
from .models import VAEBase

TERMS = ("loss", "reconstruction", "kl")


def train_vae(model: nn.Module, images: torch.Tensor, *, epochs: int, batch_size: int = 128, lr: float = 1e-3,
              beta: float = 1.0, seed: int = 0, eval_images: torch.Tensor | None = None,
              device: torch.device | str | None = None, progress: bool = True, update: str = "joint") -> History:
    """Train encoder and decoder jointly with Adam on the negative ELBO; return the :class:`History`.

    ``update="alternating"`` is the article's §3.2 recipe, for comparison at equal compute: every step
    runs the same forward and backward pass, then keeps only one network's gradients (the encoder on
    even steps, the decoder on odd ones) before the optimizer steps, so each network is updated on
    every other batch.

    ``images``: float ``[N, 1, 28, 28]`` (or ``[N, 28, 28]``, ``[N, 784]``) in [0, 1].
    ``eval_images`` (same form) are scored with :func:`aigc_course.vae.evaluate` after every epoch.
    """
    images = require_images("images", images)
    require_int("epochs", epochs, minimum=1)
    require_int("batch_size", batch_size, minimum=1)
    require_float("lr", lr, minimum=0.0, strict_minimum=True)
    beta = require_float("beta", beta, minimum=0.0)
    update = require_choice("update", update, ("joint", "alternating"))
    if update == "alternating" and not isinstance(model, VAEBase):
        raise TypeError(f"update='alternating' needs a VAEBase model (MLPVAE, ConvVAE), got {type(model).__name__}")
    if eval_images is not None:
        eval_images = require_images("eval_images", eval_images)
    device = torch.device(device) if device is not None else device_of(model)
    model.to(device)
    torch.manual_seed(require_seed(seed))  # the eps of reparameterize
    batches = InMemoryBatches(images, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)   # ONE optimizer over encoder + decoder
    history, elapsed, step = History(), 0.0, 0
    with progress_bar(total=epochs * len(batches), desc=f"VAE ({type(model).__name__})", unit="batch",
                      enabled=progress, leave=False) as bar:
        for _ in range(epochs):
            model.train()
            sums, count, started = torch.zeros(3), 0, time.perf_counter()
            for (x,) in batches:
                terms = forward_loss(model, x, beta)
                optimizer.zero_grad(set_to_none=True)
                terms.loss.backward()                              # gradients for encoder AND decoder
                if update == "alternating":                        # the article's recipe: discard one half
                    for p in model.part_parameters("decoder" if step % 2 == 0 else "encoder"):
                        p.grad = None
                optimizer.step()
                step += 1
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
