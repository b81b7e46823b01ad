import pytest
import torch

from aigc_course.evaluation.classifier import DigitClassifier, accuracy, predict_logits, train_classifier
from aigc_course.data import images_to_unit, load_mnist


def test_shapes_and_validation():
    model = DigitClassifier()
    x = torch.rand(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    assert model.features(x[:, 0]).shape == (5, 128)
    with pytest.raises(ValueError, match="x must have shape"):
        model(torch.rand(2, 1, 32, 32))
    with pytest.raises(TypeError, match="floating"):
        model(torch.zeros(2, 28, 28, dtype=torch.uint8))
    assert predict_logits(model, torch.zeros(0, 28, 28)).shape == (0, 10)


def test_learns_mnist_quickly(mnist_env):
    images, labels = load_mnist("train")
    x, y = images_to_unit(images[:2000]), labels[:2000]
    tx, ty = load_mnist("test")
    tx, ty = images_to_unit(tx[:1000]), ty[:1000]
    torch.manual_seed(0)
    model = DigitClassifier()
    before = accuracy(model, tx, ty)
    history = train_classifier(model, x, y, epochs=4, eval_sets={"test": (tx, ty)}, progress=False)
    assert history["train/loss"][1] < history["train/loss"][0]
    assert history["eval/test_accuracy"][-1] > 0.85 > before + 0.5
    with pytest.raises(ValueError, match="equal length"):
        accuracy(model, tx, ty[:10])
