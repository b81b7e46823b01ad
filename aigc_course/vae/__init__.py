"""Chapter 03: the variational autoencoder.

* ``losses`` - the ELBO term by term: :func:`reparameterize`, :func:`gaussian_kl`,
  :func:`reconstruction_nll`, :func:`vae_loss`, and the evaluations (:func:`evaluate`,
  :func:`importance_weighted_nll`);
* ``models`` - :class:`MLPVAE` (pytorch/examples) and :class:`ConvVAE` (the chapter's model);
* ``training`` - :func:`train_vae`, encoder and decoder trained jointly, one optimizer;
* ``plots`` - the training curves, the beta sweep, prior samples side by side;
* ``latent`` - encode/decode means, prior samples, the 2-D manifold, interpolation, active units;
* ``storage`` - trained VAEs on disk (kind ``"vae"`` of :mod:`aigc_course.checkpoints`).
"""

from .losses import (LOG_2PI, reparameterize, gaussian_kl, reconstruction_nll, gaussian_decoder_nll, bits_per_dimension, VAELoss, vae_loss, forward_loss, elbo_terms, evaluate, importance_weighted_nll)
from .training import (train_vae,)
from .storage import (checkpoint_path, save_vae, load_vae, load_cached_vae)
from .models import (IMAGE_SHAPE, PIXELS, LATENT_DIM, as_image_batch, VAEBase, MLPVAE, ConvVAE, MODEL_KINDS, build_vae)
from .plots import (training_curves_figure, beta_sweep_figure, prior_samples_figure)
from .latent import (encode_mean, decode_mean, reconstruct, sample_prior, latent_manifold, interpolate, latent_activity, active_units, kl_per_dimension, plot_latent_codes, latent_explorer_figure, interpolation_figure)

__all__ = ['LOG_2PI', 'reparameterize', 'gaussian_kl', 'reconstruction_nll', 'gaussian_decoder_nll', 'bits_per_dimension', 'VAELoss', 'vae_loss', 'forward_loss', 'elbo_terms', 'evaluate', 'importance_weighted_nll', 'train_vae', 'checkpoint_path', 'save_vae', 'load_vae', 'load_cached_vae', 'IMAGE_SHAPE', 'PIXELS', 'LATENT_DIM', 'as_image_batch', 'VAEBase', 'MLPVAE', 'ConvVAE', 'MODEL_KINDS', 'build_vae', 'training_curves_figure', 'beta_sweep_figure', 'prior_samples_figure', 'encode_mean', 'decode_mean', 'reconstruct', 'sample_prior', 'latent_manifold', 'interpolate', 'latent_activity', 'active_units', 'kl_per_dimension', 'plot_latent_codes', 'latent_explorer_figure', 'interpolation_figure']
