"""Checks for chapter 01's exercises: robust z-score, [-1, 1] inverse, random shift, k-fold split."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..preprocessing.augmentation import random_shift
from ..preprocessing.cleaning import robust_z
from ..data import images_to_symmetric
from ..preprocessing.pipeline import kfold_indices, symmetric_to_uint8
from . import Exercise, same_output


# ---------------------------------------------------------------- 1.1 robust z-score

def _heavy_tailed(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    values = torch.randn(n, generator=g, dtype=torch.float64)
    values[: n // 10] *= 20  # a tenth are wild: mean/std would be dragged, median/MAD are not
    return values


def _must_reject_zero_mad(candidate, reference) -> None:
    values = torch.tensor([1.0, 1.0, 1.0, 1.0, 5.0], dtype=torch.float64)
    try:
        candidate(values)
    except ValueError:
        return
    raise AssertionError("over half the values are equal, so the MAD is 0: robust_z must raise ValueError "
                         "instead of dividing by zero")


check_robust_z = Exercise(
    "1.1", "robust z-score", robust_z,
    cases=[
        same_output(torch.tensor([1.0, 2.0, 3.0, 4.0, 100.0], dtype=torch.float64), label="five values, one wild"),
        same_output(_heavy_tailed(101, 0), label="101 heavy-tailed values"),
        same_output(_heavy_tailed(7, 1), _heavy_tailed(300, 2), label="scores against a separate reference"),
        _must_reject_zero_mad,
    ],
    hint="median m = reference.median(); MAD = (reference - m).abs().median(); z = 0.6745 * (values - m) / MAD",
)


# ---------------------------------------------------------------- 1.2 inverse of the [-1, 1] scaling

def _all_levels_round_trip(candidate, reference) -> None:
    levels = torch.arange(256, dtype=torch.uint8)
    got = candidate(images_to_symmetric(levels))
    if not isinstance(got, torch.Tensor) or got.dtype != torch.uint8:
        raise AssertionError(f"the result must be a uint8 tensor, got "
                             f"{got.dtype if isinstance(got, torch.Tensor) else type(got).__name__}")
    wrong = torch.nonzero(got.long() != levels.long()).flatten()
    if len(wrong):
        p = wrong[0].item()
        raise AssertionError(f"the round trip uint8 -> [-1, 1] -> uint8 must give back every level 0..255 exactly; "
                             f"{len(wrong)} levels differ, e.g. {p} came back as {got[p].item()} "
                             f"(did you truncate instead of rounding?)")


def _clips_out_of_range(candidate, reference) -> None:
    y = torch.tensor([-1.5, -1.01, 1.01, 1.2, 3.0])
    got = candidate(y.clone())
    if not isinstance(got, torch.Tensor) or got.tolist() != [0, 0, 255, 255, 255]:
        raise AssertionError(f"values below -1 must become 0 and above 1 must become 255 (clip before converting; "
                             f"uint8 wraps around, 280 -> 24); got {got.tolist() if isinstance(got, torch.Tensor) else got}")


def _must_reject_nan(candidate, reference) -> None:
    try:
        candidate(torch.tensor([0.0, float("nan")]))
    except ValueError:
        return
    raise AssertionError("a NaN cannot become a pixel: raise ValueError for non-finite input")


def _random_batch(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(4, 1, 28, 28, generator=g) * 2.2 - 1.1


check_symmetric_to_uint8 = Exercise(
    "1.2", "inverse of the [-1, 1] scaling", symmetric_to_uint8,
    cases=[
        _all_levels_round_trip,
        same_output(_random_batch(0), label="a batch [4, 1, 28, 28] with values in [-1.1, 1.1]"),
        _clips_out_of_range,
        _must_reject_nan,
    ],
    hint="p = round(127.5 * (y + 1)), clipped to [0, 255], then .to(torch.uint8)",
)


# ---------------------------------------------------------------- 1.3 random shift

def _shift_zero_fill(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """x [C, H, W] moved dy rows down and dx columns right, zeros where nothing moved in."""
    _, h, w = x.shape
    padded = F.pad(x, (w, w, h, h))
    return padded[:, h - dy: 2 * h - dy, w - dx: 2 * w - dx]


def _offsets(candidate, images: torch.Tensor, out: torch.Tensor, max_shift: int) -> list[tuple[int, int]]:
    found = []
    for b in range(len(images)):
        match = [(dy, dx) for dy in range(-max_shift, max_shift + 1) for dx in range(-max_shift, max_shift + 1)
                 if torch.equal(out[b], _shift_zero_fill(images[b], dy, dx))]
        if not match:
            raise AssertionError(f"image {b} of the output is not its input moved by whole pixels (at most "
                                 f"{max_shift} in each direction) with zeros filled in (wrap-around, e.g. "
                                 f"torch.roll, or interpolation gives other values)")
        found.append(match[0])
    return found


def _test_images(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 12, 12, generator=g) + 0.1  # no zero pixel: every shift is distinguishable


def _shape_and_input(candidate, reference) -> None:
    images = _test_images(5, 0)
    before = images.clone()
    out = candidate(images, torch.Generator().manual_seed(0), 2)
    if not isinstance(out, torch.Tensor) or out.shape != images.shape or out.dtype != images.dtype:
        raise AssertionError(f"the result must be a {images.dtype} tensor of shape {list(images.shape)}, got "
                             f"{(out.dtype, list(out.shape)) if isinstance(out, torch.Tensor) else type(out).__name__}")
    if not torch.equal(images, before):
        raise AssertionError("the input batch was modified; return a new tensor")
    if not torch.equal(candidate(images, torch.Generator().manual_seed(0), 0), images):
        raise AssertionError("max_shift=0 must return the images unchanged")


def _whole_pixel_zero_filled_shifts(candidate, reference) -> None:
    images = _test_images(40, 1)
    _offsets(candidate, images, candidate(images.clone(), torch.Generator().manual_seed(1), 2), 2)


def _every_offset_drawn(candidate, reference) -> None:
    images = _test_images(600, 2)
    found = _offsets(candidate, images, candidate(images.clone(), torch.Generator().manual_seed(2), 1), 1)
    counts = {(dy, dx): 0 for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    for offset in found:
        counts[offset] += 1
    rare = {k: v for k, v in counts.items() if v < 20}  # 600 draws of 9 offsets: about 67 each
    if rare:
        raise AssertionError(f"each image needs its own offset, every (dy, dx) with |dy|, |dx| <= max_shift about "
                             f"equally often; over 600 images with max_shift=1 these were (almost) never drawn: "
                             f"{sorted(rare)} (one shift for the whole batch? randint's upper bound is exclusive)")


def _seeded_by_generator(candidate, reference) -> None:
    images = _test_images(30, 3)
    first = candidate(images.clone(), torch.Generator().manual_seed(5), 2)
    again = candidate(images.clone(), torch.Generator().manual_seed(5), 2)
    other = candidate(images.clone(), torch.Generator().manual_seed(6), 2)
    if not torch.equal(first, again):
        raise AssertionError("two generators with the same seed must give the same result: draw every random "
                             "number from the generator argument")
    if torch.equal(first, other):
        raise AssertionError("generators with different seeds gave identical results: use the generator argument")


check_random_shift = Exercise(
    "1.3", "random shift", random_shift,
    cases=[_shape_and_input, _whole_pixel_zero_filled_shifts, _every_offset_drawn, _seeded_by_generator],
    hint="offsets = torch.randint(-m, m + 1, (B, 2), generator=generator); pad each image by m with F.pad, "
         "then cut out the window that starts at (m - dy, m - dx)",
)


# ---------------------------------------------------------------- 1.4 k-fold split

def _splits(candidate, n: int, k: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = candidate(n, k, torch.Generator().manual_seed(seed))
    if not isinstance(out, (list, tuple)) or len(out) != k:
        raise AssertionError(f"kfold_indices({n}, {k}, ...) must return a list of {k} (train, val) pairs, got "
                             f"{len(out) if isinstance(out, (list, tuple)) else type(out).__name__}")
    for f, pair in enumerate(out):
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or not all(isinstance(t, torch.Tensor) and t.ndim == 1 and not t.is_floating_point() for t in pair)):
            raise AssertionError(f"split {f} must be a pair (train_index, val_index) of 1-D integer tensors")
    return list(out)


def _no_leak_and_partition(n: int, k: int):
    def case(candidate, reference) -> None:
        splits = _splits(candidate, n, k, 0)
        every = set(range(n))
        for f, (train, val) in enumerate(splits):
            t, v = train.tolist(), val.tolist()
            if len(set(v)) != len(v) or len(set(t)) != len(t):
                raise AssertionError(f"split {f} repeats an index (sampling with replacement?)")
            if set(t) & set(v):
                raise AssertionError(f"split {f}: {len(set(t) & set(v))} samples are in both train and val (leakage)")
            if set(t) | set(v) != every:
                raise AssertionError(f"split {f}: train and val together must be all {n} samples; "
                                     f"{len(every - set(t) - set(v))} are missing")
        vals = sorted(i for _, val in splits for i in val.tolist())
        if vals != list(range(n)):
            raise AssertionError(f"the validation folds must cover every sample exactly once (n={n}, k={k})")
        sizes = [len(val) for _, val in splits]
        if max(sizes) - min(sizes) > 1:
            raise AssertionError(f"fold sizes must differ by at most 1, got {sizes}")
    return case


def _shuffled_and_seeded(candidate, reference) -> None:
    first = _splits(candidate, 100, 5, 1)
    again = _splits(candidate, 100, 5, 1)
    other = _splits(candidate, 100, 5, 2)
    for _, val in first:
        v = val.sort().values
        if torch.equal(v, torch.arange(v[0], v[0] + len(v))):
            raise AssertionError("a validation fold is a contiguous block of indices: shuffle before cutting "
                                 "(data are often stored sorted, e.g. by class or date)")
    if any(not torch.equal(a[1].sort().values, b[1].sort().values) for a, b in zip(first, again)):
        raise AssertionError("the same seed must give the same folds: shuffle with the generator argument")
    if all(torch.equal(a[1].sort().values, b[1].sort().values) for a, b in zip(first, other)):
        raise AssertionError("different seeds gave the same folds: shuffle with the generator argument")


def _rejects_bad_k(candidate, reference) -> None:
    for n, k in ((10, 1), (3, 4)):
        try:
            candidate(n, k, torch.Generator().manual_seed(0))
        except ValueError:
            continue
        raise AssertionError(f"k={k} with n={n} must raise ValueError (need 2 <= k <= n)")


check_kfold_indices = Exercise(
    "1.4", "leak-free k-fold split", kfold_indices,
    cases=[_no_leak_and_partition(10, 5), _no_leak_and_partition(103, 5), _no_leak_and_partition(7, 7),
           _shuffled_and_seeded, _rejects_bad_k],
    hint="order = torch.randperm(n, generator=generator); cut it into k folds of n // k (+1 for the first n % k); "
         "fold f validates, the other folds train",
)
