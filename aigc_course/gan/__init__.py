"""Chapters 02 and 05: generative adversarial networks.

Chapter 02 (theory and a 2-D playground):

* ``losses`` - L_D and L_G (saturating and not), one D-step, one G-step, :func:`gan_training_step`;
* ``toy`` - the ring of 8 Gaussians, :func:`mode_coverage`, :func:`train_toy_gan`;
* ``dstar`` - the optimal discriminator D* = p_data / (p_data + p_g), V(D*, G) = -log 4 + 2 JSD;
* ``plots`` - loss curves, gradients of L_G, snapshots.

Chapter 05 (the MNIST project):

* ``mnist_models`` - the article's networks, the DCGAN and the improved MLP (:data:`MODELS`,
  :class:`ModelSpec`), :func:`generate` and latent walks;
* ``training`` - :func:`train_gan`: the loop, EMA, per-epoch sample grids, checkpoints, resume;
* ``runs`` - run folders and their checkpoints (kind ``"gan"`` of :mod:`aigc_course.checkpoints`);
* ``comparisons`` - the article's own G-step run as written, fused vs per-tensor Adam, training for a
  wall-clock budget.
"""

from .losses import (discriminator_loss, generator_loss, generator_logit_gradients, StepLosses, discriminator_step, generator_step, gan_training_step)
from .toy import (GaussianRing, ModeCoverage, mode_coverage, mlp, decision_surface, one_cpu_thread, ToyGANConfig, Snapshot, ToyRun, train_toy_gan)
from .dstar import (DSTAR_SUPPORT_DENSITY, DSTAR_MAX_TOLERANCE, DSTAR_MEAN_TOLERANCE, GaussianMixture1D, optimal_discriminator, jensen_shannon, value_function, train_discriminator_1d, DStarComparison, compare_with_optimum, plot_dstar)
from .plots import (moving_average, plot_generator_gradients, plot_gan_losses, plot_snapshot, snapshots_figure, snapshot_row)
from .mnist_models import (MODELS, GaussianNoise, MinibatchStd, article_generator, article_discriminator, dcgan_up_block, dcgan_generator, dcgan_discriminator, mlp_generator, recalibrate_batch_norm, mlp_discriminator, ModelSpec, model_spec, build_models, count_parameters, to_unit, generate, latent_steps, latent_walk, latent_directions_image)
from .training import (GRID_SIZE, PROBE, ema_update, make_optimizers, TrainingRun, discriminator_outputs, training_step_for, measure_step_speed, train_gan)
from .comparisons import (KERAS_EPSILON, ArticleStepRun, article_generator_step, compare_fused_adam, train_for_seconds)
from .runs import (CHECKPOINT_NAME, CHECKPOINT_KIND, save_training_state, load_training_state, restore_training_state, spec_from_checkpoint, load_generator, run_folder, save_grid_png, sample_grid_paths, load_sample_grid)

__all__ = ['MODELS', 'discriminator_loss', 'generator_loss', 'generator_logit_gradients', 'StepLosses', 'discriminator_step', 'generator_step', 'gan_training_step', 'GaussianRing', 'ModeCoverage', 'mode_coverage', 'mlp', 'decision_surface', 'one_cpu_thread', 'ToyGANConfig', 'Snapshot', 'ToyRun', 'train_toy_gan', 'DSTAR_SUPPORT_DENSITY', 'DSTAR_MAX_TOLERANCE', 'DSTAR_MEAN_TOLERANCE', 'GaussianMixture1D', 'optimal_discriminator', 'jensen_shannon', 'value_function', 'train_discriminator_1d', 'DStarComparison', 'compare_with_optimum', 'plot_dstar', 'moving_average', 'plot_generator_gradients', 'plot_gan_losses', 'plot_snapshot', 'snapshots_figure', 'snapshot_row', 'GaussianNoise', 'MinibatchStd', 'article_generator', 'article_discriminator', 'dcgan_up_block', 'dcgan_generator', 'dcgan_discriminator', 'mlp_generator', 'recalibrate_batch_norm', 'mlp_discriminator', 'ModelSpec', 'model_spec', 'build_models', 'count_parameters', 'to_unit', 'generate', 'latent_steps', 'latent_walk', 'latent_directions_image', 'GRID_SIZE', 'PROBE', 'ema_update', 'make_optimizers', 'TrainingRun', 'discriminator_outputs', 'training_step_for', 'measure_step_speed', 'train_gan', 'CHECKPOINT_NAME', 'CHECKPOINT_KIND', 'save_training_state', 'load_training_state', 'restore_training_state', 'spec_from_checkpoint', 'load_generator', 'run_folder', 'save_grid_png', 'sample_grid_paths', 'load_sample_grid', 'KERAS_EPSILON', 'ArticleStepRun', 'article_generator_step', 'compare_fused_adam', 'train_for_seconds']
