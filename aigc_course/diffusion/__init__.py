"""Chapter 07: diffusion models and flow matching (扩散模型与流匹配).

* ``schedules`` - :class:`NoiseSchedule` (linear, cosine; ``betas``, ``alphas``, ``alpha_bars``,
  ``snr()``), :func:`q_sample` (closed-form forward noising), :func:`simulate_forward_chain`;
* ``objectives`` - :func:`ddpm_loss` (epsilon prediction), :func:`flow_matching_loss` (rectified
  flow, t = 0 noise -> t = 1 data, target v = x0 - noise), :func:`drop_labels` (CFG label dropout);
* ``unet`` - :class:`UNet` (time embedding, residual blocks, optional class embedding with a null
  class), :func:`sinusoidal_embedding`;
* ``samplers`` - :func:`ddpm_sample`, :func:`ddim_sample`, :func:`flow_sample` (Euler / Heun),
  :func:`ddim_step`, :func:`euler_step`, :func:`guided_prediction` (classifier-free guidance),
  :class:`Trajectory` (``trajectory=True``), :func:`sample_in_batches`, :func:`samples_to_unit`;
* ``training`` - :func:`train_diffusion` (the visible loop: either objective, EMA, a minutes budget,
  resume), :class:`DiffusionRun`;
* ``latent`` - latent diffusion: :class:`ConvAutoencoder`, :class:`VelocityMLP`, :func:`train_autoencoder`,
  :func:`encode_images`, :func:`decode_latents`;
* ``recipes`` - the chapter's digit models as a :class:`Recipe` (method ``"ddpm"``, ``"flow"`` or
  ``"latent-flow"``, sizes, budget, seed), :func:`train_recipe` -> :class:`TrainedDiffusion`
  (``.sample(n, steps, y, guidance)`` -> digits in [0, 1]), checkpoints of kind ``"diffusion"``
  (:func:`save_diffusion`, :func:`load_diffusion`) and the cache :func:`load_or_train_diffusion`.

* ``runs`` - :func:`train_run`: a run folder with ``checkpoint.pt`` (with the optimizer), resumed
  when present (``python -m aigc_course train ddpm|flow|latent-flow --epochs N --out DIR``;
  ``sample --checkpoint DIR/checkpoint.pt --steps K --digit D --guidance W``);
* ``evaluate`` - :func:`score_samples` (IS, FD, class shares via :mod:`aigc_course.evaluation`, sampling
  seconds), :func:`guidance_sweep` (requested-class accuracy and diversity per guidance scale),
  :func:`requested_accuracy`, :func:`within_class_diversity`, :func:`sampling_seconds`.

Training budgets in minutes count on a ``clock``: ``"cpu"`` (the default; the process's CPU time,
:func:`time.process_time`, i.e. minutes of one dedicated core with one torch thread, whatever else
shares the machine) or ``"wall"``. With several torch threads, CPU minutes run faster than wall minutes.

Cache files: ``load_or_train_diffusion(recipe)`` keeps each trained recipe in
``data_dir()/models/diffusion/<method>-<first 10 hex of sha1(json of recipe.to_dict() + networks_version)>.pt``
(:func:`cache_path`); the same recipe (e.g. ``budget("diffusion")``'s) finds the same file.

Conventions: the network's time input is a float in [0, 1] for both objectives. For DDPM it is
t / (T - 1) for the step index t (:meth:`NoiseSchedule.network_time`; 1 = pure noise); for flow
matching it is the path time (0 = noise, 1 = data). Samples are in the model's space ([-1, 1]
for pixels); :func:`samples_to_unit` maps them to [0, 1]. A class-conditional model has
``num_classes`` and uses the label ``num_classes`` for "no class".
"""

from .schedules import NoiseSchedule, q_sample, simulate_forward_chain
from .objectives import OBJECTIVES, ddpm_loss, drop_labels, flow_matching_loss
from .unet import ResBlock, UNet, sinusoidal_embedding
from .samplers import (Trajectory, ddim_sample, ddim_step, ddpm_sample, euler_step, flow_sample, guided_prediction,
                       sample_in_batches, samples_to_unit)
from .training import DiffusionRun, train_diffusion
from .latent import ConvAutoencoder, VelocityMLP, decode_latents, encode_images, train_autoencoder
from .recipes import (METHODS, Recipe, budget_recipe, TrainedDiffusion, cache_path, load_diffusion, load_or_train_diffusion,
                      save_diffusion, train_recipe, training_digits, with_budget)
from .runs import RunResult, train_run
from .evaluate import guidance_sweep, requested_accuracy, sampling_seconds, score_samples, within_class_diversity

__all__ = ["NoiseSchedule", "q_sample", "simulate_forward_chain", "OBJECTIVES", "ddpm_loss", "drop_labels",
           "flow_matching_loss", "ResBlock", "UNet", "sinusoidal_embedding", "Trajectory", "ddim_sample",
           "ddim_step", "ddpm_sample", "euler_step", "flow_sample", "guided_prediction", "sample_in_batches",
           "samples_to_unit", "DiffusionRun", "train_diffusion", "ConvAutoencoder", "VelocityMLP", "decode_latents",
           "encode_images", "train_autoencoder", "METHODS", "Recipe", "budget_recipe", "TrainedDiffusion", "cache_path",
           "load_diffusion", "load_or_train_diffusion", "save_diffusion", "train_recipe", "training_digits",
           "with_budget", "RunResult", "train_run", "guidance_sweep", "requested_accuracy", "sampling_seconds", "score_samples",
           "within_class_diversity"]
