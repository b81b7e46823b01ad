"""Wrong implementations of chapter 01's exercises; each must be graded FAIL."""

import torch
import torch.nn.functional as F


# 1.1 robust z-score
def uses_mean_and_std(values, reference=None):
    ref = values if reference is None else reference
    return (values - ref.mean()) / ref.std()


def forgets_the_constant(values, reference=None):
    ref = values if reference is None else reference
    median = ref.median()
    return (values - median) / (ref - median).abs().median()


def uses_mean_absolute_deviation(values, reference=None):
    ref = values if reference is None else reference
    median = ref.median()
    return 0.6745 * (values - median) / (ref - median).abs().mean()


def ignores_reference(values, reference=None):
    median = values.median()
    mad = (values - median).abs().median()
    if mad == 0:
        raise ValueError("MAD is 0")
    return 0.6745 * (values - median) / mad


# 1.2 inverse of the [-1, 1] scaling
def truncates(y):
    if not torch.isfinite(y).all():
        raise ValueError("non-finite")
    return ((y + 1) * 127.5).clamp(0, 255).to(torch.uint8)


def does_not_clip(y):
    if not torch.isfinite(y).all():
        raise ValueError("non-finite")
    return ((y + 1) * 127.5).round().to(torch.uint8)


def forgets_the_offset(y):
    if not torch.isfinite(y).all():
        raise ValueError("non-finite")
    return (y * 255).round().clamp(0, 255).to(torch.uint8)


def returns_float(y):
    if not torch.isfinite(y).all():
        raise ValueError("non-finite")
    return ((y + 1) * 127.5).round().clamp(0, 255)


# 1.3 random shift
def rolls_with_wrap_around(images, generator, max_shift=2):
    offsets = torch.randint(-max_shift, max_shift + 1, (len(images), 2), generator=generator)
    return torch.stack([torch.roll(x, (int(dy), int(dx)), dims=(-2, -1)) for x, (dy, dx) in zip(images, offsets)])


def one_shift_for_the_batch(images, generator, max_shift=2):
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    h, w = images.shape[-2:]
    padded = F.pad(images, (w, w, h, h))
    return padded[..., h - dy: 2 * h - dy, w - dx: 2 * w - dx].clone()


def _shift_each(images, offsets):
    h, w = images.shape[-2:]
    padded = F.pad(images, (w, w, h, h))
    return torch.stack([padded[b, :, h - dy: 2 * h - dy, w - dx: 2 * w - dx]
                        for b, (dy, dx) in enumerate(offsets.tolist())])


def exclusive_upper_bound(images, generator, max_shift=2):
    if max_shift == 0:
        return images.clone()
    return _shift_each(images, torch.randint(-max_shift, max_shift, (len(images), 2), generator=generator))


def ignores_generator(images, generator, max_shift=2):
    return _shift_each(images, torch.randint(-max_shift, max_shift + 1, (len(images), 2)))


# 1.4 k-fold split
def validates_on_training_data(n, k, generator):
    if not 2 <= k <= n:
        raise ValueError("k")
    folds = torch.randperm(n, generator=generator).chunk(k)
    return [(torch.arange(n), fold) for fold in folds]


def samples_with_replacement(n, k, generator):
    if not 2 <= k <= n:
        raise ValueError("k")
    folds = torch.randint(0, n, (n,), generator=generator).chunk(k)
    return [(torch.cat([g for j, g in enumerate(folds) if j != f]), fold) for f, fold in enumerate(folds)]


def does_not_shuffle(n, k, generator):
    if not 2 <= k <= n:
        raise ValueError("k")
    sizes = [n // k + (1 if f < n % k else 0) for f in range(k)]
    folds = torch.arange(n).split(sizes)
    return [(torch.cat([g for j, g in enumerate(folds) if j != f]), fold) for f, fold in enumerate(folds)]


def drops_the_remainder(n, k, generator):
    if not 2 <= k <= n:
        raise ValueError("k")
    order = torch.randperm(n, generator=generator)
    size = n // k
    folds = [order[f * size:(f + 1) * size] for f in range(k)]
    return [(torch.cat([g for j, g in enumerate(folds) if j != f]), fold) for f, fold in enumerate(folds)]


WRONG = {
    "1.1": [uses_mean_and_std, forgets_the_constant, uses_mean_absolute_deviation, ignores_reference],
    "1.2": [truncates, does_not_clip, forgets_the_offset, returns_float],
    "1.3": [rolls_with_wrap_around, one_shift_for_the_batch, exclusive_upper_bound, ignores_generator],
    "1.4": [validates_on_training_data, samples_with_replacement, does_not_shuffle, drops_the_remainder],
}
