"""Chapter 06: applications and outlook.

* ``inpainting`` - masks, completing and denoising digits with chapter 03's VAE;
* ``audio`` - synthetic notes, chapter 03's VAE learning sound, pitch measurements;
* ``text_data`` / ``text_model`` - characters, a small causal Transformer from chapter 04's block;
* ``challenges`` - step costs of every course model, memorization, a real-vs-generated detector.
"""

from .inpainting import (MASK_KINDS, make_masks, masked_bernoulli_nll, gaussian_nll, clipped_gaussian_nll, complete_images, denoise_images, add_noise, hidden_pixel_mse, restoration_figure, inpainting_figure)
from .audio import (SAMPLE_RATE, N_SAMPLES, PLAYBACK_RATE, NOTE_NAMES, NOTE_FREQUENCIES, synthesize_notes, random_notes, to_unit_interval, from_unit_interval, dominant_frequency, cents_from_nearest_note, pitch_report, melody, audio_player, generated_notes_figure)
from .text_data import (COURSE_TEXT, load_course_text, CharVocab, split_ids, unigram_cross_entropy, next_char_probabilities, longest_copied_span)
from .text_model import (CharTransformer, random_windows, evaluate_char_loss, train_char_model, generate_text, next_char_figure)
from .challenges import (time_training_steps, course_training_steps, load_or_train_gan, memorization_distances, real_vs_generated, train_detector, generated_probability)

__all__ = ['MASK_KINDS', 'make_masks', 'masked_bernoulli_nll', 'gaussian_nll', 'clipped_gaussian_nll', 'complete_images', 'denoise_images', 'add_noise', 'hidden_pixel_mse', 'restoration_figure', 'inpainting_figure', 'SAMPLE_RATE', 'N_SAMPLES', 'PLAYBACK_RATE', 'NOTE_NAMES', 'NOTE_FREQUENCIES', 'synthesize_notes', 'random_notes', 'to_unit_interval', 'from_unit_interval', 'dominant_frequency', 'cents_from_nearest_note', 'pitch_report', 'melody', 'audio_player', 'generated_notes_figure', 'COURSE_TEXT', 'load_course_text', 'CharVocab', 'split_ids', 'unigram_cross_entropy', 'next_char_probabilities', 'longest_copied_span', 'CharTransformer', 'random_windows', 'evaluate_char_loss', 'train_char_model', 'generate_text', 'next_char_figure', 'time_training_steps', 'course_training_steps', 'load_or_train_gan', 'memorization_distances', 'real_vs_generated', 'train_detector', 'generated_probability']
