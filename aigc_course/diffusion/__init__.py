"""Chapter 07: diffusion models and flow matching (扩散模型与流匹配).

* ``schedules`` - :class:`NoiseSchedule` (linear, cosine; ``betas``, ``alphas``, ``alpha_bars``,
  ``snr()``), :func:`q_sample` (closed-form forward noising), :func:`simulate_forward_chain`;
* ``objectives`` - :func:`ddpm_loss` (epsilon prediction), :func:`flow_matching_loss` (rectified
  flow, t = 0 noise -> t = 1 data, target v = x0 - noise), :func:`drop_labels` (CFG label dropout);
* ``unet`` - :class:`UNet` (time embedding, residual blocks, optional class embedding with a null
  class), :func:`sinusoidal_embedding`;
* ``samplers`` - :func:`ddpm_sample`, :func:`ddim_sample`, :func:`flow_sample` (Euler / Heun),
  :func:`ddim_step`, :func:`euler_step`, :func:`guided_prediction` (classifier-free guidance),
  :class:`Trajectory` (``trajectory=True``), :func:`sample_in_batches`, :func:`samples_to_unit`.

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

__all__ = ["NoiseSchedule", "q_sample", "simulate_forward_chain", "OBJECTIVES", "ddpm_loss", "drop_labels",
           "flow_matching_loss", "ResBlock", "UNet", "sinusoidal_embedding", "Trajectory", "ddim_sample",
           "ddim_step", "ddpm_sample", "euler_step", "flow_sample", "guided_prediction", "sample_in_batches",
           "samples_to_unit"]
