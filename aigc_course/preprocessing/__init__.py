"""Chapter 01: data preprocessing - cleaning, augmentation, normalization and leak-free evaluation.

* ``cleaning`` - the checks that find non-finite, out-of-range, blank, duplicate and outlier images,
  :func:`clean_report`, and injected corruptions to measure them (:func:`detection_scores`);
* ``augmentation`` - seeded shifts, rotations, flips, noise, :func:`compose`;
* ``pipeline`` - pixel scalings, standardization fitted on training data only, the classifier
  experiment (:func:`train_digit_classifier`) and cross-validation.
"""

from .cleaning import (Issue, find_non_finite, find_out_of_range, find_blank, find_duplicates, OUTLIER_FEATURES, image_features, robust_z, find_outliers, CleaningReport, clean_report, CORRUPTION_KINDS, inject_corruption, detection_scores)
from .augmentation import (random_shift, rotate, random_rotation, random_hflip, add_gaussian_noise, compose, augmentation_preview)
from .pipeline import (unit_to_uint8, symmetric_to_uint8, fit_standardization, standardize, unstandardize, nearest_class_mean_predict, kfold_indices, stratified_kfold_indices, train_digit_classifier, cross_validate, mean_and_std, draw_preprocessing_in_pipelines)

__all__ = ['Issue', 'find_non_finite', 'find_out_of_range', 'find_blank', 'find_duplicates', 'OUTLIER_FEATURES', 'image_features', 'robust_z', 'find_outliers', 'CleaningReport', 'clean_report', 'CORRUPTION_KINDS', 'inject_corruption', 'detection_scores', 'random_shift', 'rotate', 'random_rotation', 'random_hflip', 'add_gaussian_noise', 'compose', 'augmentation_preview', 'unit_to_uint8', 'symmetric_to_uint8', 'fit_standardization', 'standardize', 'unstandardize', 'nearest_class_mean_predict', 'kfold_indices', 'stratified_kfold_indices', 'train_digit_classifier', 'cross_validate', 'mean_and_std', 'draw_preprocessing_in_pipelines']
