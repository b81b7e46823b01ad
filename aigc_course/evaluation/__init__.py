"""The course's judge of digits, shared by chapters 01, 05 and 06.

* ``classifier`` - :class:`DigitClassifier`, :func:`train_classifier`, :func:`accuracy`;
* ``metrics`` - the cached evaluation classifier (kind ``"classifier"`` of
  :mod:`aigc_course.checkpoints`), class probabilities, the Inception-style score, the class
  histogram, the Frechet distance in the classifier's features, nearest training neighbours,
  :func:`evaluation_report`.
"""

from .classifier import (DigitClassifier, predict_logits, accuracy, train_classifier)
from .metrics import (classifier_config, load_mnist_cached, classifier_path, load_or_train_classifier, class_probabilities, inception_score, class_histogram, classifier_features, frechet_distance, nearest_neighbours, evaluate_images, nearest_neighbour_distances, real_reference, evaluation_report, comparison_markdown, plot_class_histograms, nearest_neighbour_pairs)

__all__ = ['DigitClassifier', 'predict_logits', 'accuracy', 'train_classifier', 'classifier_config', 'load_mnist_cached', 'classifier_path', 'load_or_train_classifier', 'class_probabilities', 'inception_score', 'class_histogram', 'classifier_features', 'frechet_distance', 'nearest_neighbours', 'evaluate_images', 'nearest_neighbour_distances', 'real_reference', 'evaluation_report', 'comparison_markdown', 'plot_class_histograms', 'nearest_neighbour_pairs']
