import torch


def forgets_to_scale(images, labels):
    return torch.stack([images[labels == c].float().mean(0) for c in range(10)])


def divides_by_total_count(images, labels):
    sums = torch.zeros(10, 28, 28).index_add_(0, labels, images.float())
    return sums / len(labels) / 255


def averages_over_wrong_axis(images, labels):
    return torch.stack([images[labels == c].float().mean(1).mean(0).expand(28, 28) / 255 for c in range(10)])


WRONG = {"0.1": [forgets_to_scale, divides_by_total_count, averages_over_wrong_axis]}
