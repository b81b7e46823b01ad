"""The course classifier and the metrics every generative chapter uses (IS, FD, nearest neighbours).

Modules: ``classifier``, ``metrics``.
"""

from .classifier import (DigitClassifier, predict_logits, accuracy, train_classifier)
from .metrics import (classifier_config, load_mnist_cached, classifier_path, load_or_train_classifier, class_probabilities, inception_score, class_histogram, classifier_features, frechet_distance, nearest_neighbours, evaluate_images, nearest_neighbour_distances, real_reference, evaluation_report, comparison_markdown, plot_class_histograms, nearest_neighbour_pairs)

__all__ = ['DigitClassifier', 'predict_logits', 'accuracy', 'train_classifier', 'classifier_config', 'load_mnist_cached', 'classifier_path', 'load_or_train_classifier', 'class_probabilities', 'inception_score', 'class_histogram', 'classifier_features', 'frechet_distance', 'nearest_neighbours', 'evaluate_images', 'nearest_neighbour_distances', 'real_reference', 'evaluation_report', 'comparison_markdown', 'plot_class_histograms', 'nearest_neighbour_pairs']
