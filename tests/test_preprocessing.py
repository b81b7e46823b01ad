"""Chapter 01: cleaning, normalization, augmentation, k-fold and cross-validation, checked numerically."""

from __future__ import annotations

import statistics

import pytest
import torch

from aigc_course.preprocessing.augmentation import (add_gaussian_noise, augmentation_preview, compose, random_hflip,
                                      random_rotation, random_shift, rotate)
from aigc_course.preprocessing.cleaning import (CORRUPTION_KINDS, clean_report, detection_scores, find_blank, find_duplicates,
                                  find_non_finite, find_out_of_range, find_outliers, image_features,
                                  inject_corruption, robust_z)
from aigc_course.data import images_to_symmetric, images_to_unit, load_mnist
from aigc_course.preprocessing.pipeline import (cross_validate, fit_standardization, kfold_indices, mean_and_std,
                                       nearest_class_mean_predict, standardize, symmetric_to_uint8,
                                       train_digit_classifier, unit_to_uint8, unstandardize)

LEVELS = torch.arange(256, dtype=torch.uint8)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ normalization

def test_unit_and_symmetric_round_trips_are_exact_for_every_level():
    assert torch.equal(unit_to_uint8(images_to_unit(LEVELS)), LEVELS)
    assert torch.equal(symmetric_to_uint8(images_to_symmetric(LEVELS)), LEVELS)
    y = images_to_symmetric(LEVELS)
    assert y.min().item() == -1.0 and y.max().item() == 1.0


def test_inverse_scalings_clip_and_reject_non_finite():
    assert symmetric_to_uint8(torch.tensor([-3.0, 1.2])).tolist() == [0, 255]
    assert unit_to_uint8(torch.tensor([-0.2, 1.7])).tolist() == [0, 255]
    with pytest.raises(ValueError, match="finite"):
        symmetric_to_uint8(torch.tensor([float("nan")]))
    with pytest.raises(TypeError, match="floating"):
        unit_to_uint8(LEVELS)


def test_standardization_fits_train_only_and_inverts():
    g = gen(1)
    train = torch.rand(50, 28, 28, generator=g) ** 2
    mean, std = fit_standardization(train)
    assert mean == pytest.approx(train.double().mean().item(), abs=1e-12)
    assert std == pytest.approx(train.double().std(unbiased=False).item(), abs=1e-12)
    z = standardize(train, mean, std)
    assert z.double().mean().item() == pytest.approx(0.0, abs=1e-6)
    assert z.double().std(unbiased=False).item() == pytest.approx(1.0, abs=1e-5)
    assert torch.allclose(unstandardize(z, mean, std), train, atol=1e-6)
    unit = images_to_unit(LEVELS)
    assert torch.equal(unit_to_uint8(unstandardize(standardize(unit, mean, std), mean, std)), LEVELS)
    with pytest.raises(ValueError, match="std"):
        standardize(train, mean, 0.0)
    with pytest.raises(ValueError, match="constant"):
        fit_standardization(torch.ones(4, 4))
    with pytest.raises(ValueError, match="finite"):
        fit_standardization(torch.tensor([0.0, float("nan")]))


def test_nearest_class_mean_matches_brute_force():
    g = gen(2)
    train_x = torch.randn(60, 5, generator=g)
    train_y = torch.arange(60) % 3 + 4  # labels 4, 5, 6: the predicted labels must be these, not 0..2
    test_x = torch.randn(20, 5, generator=g)
    means = {c: train_x[train_y == c].double().mean(0) for c in (4, 5, 6)}
    expected = [min(means, key=lambda c: (x.double() - means[c]).norm().item()) for x in test_x]
    assert nearest_class_mean_predict(train_x, train_y, test_x).tolist() == expected


# ------------------------------------------------------------------ k-fold and cross-validation

def test_kfold_partitions_without_leakage():
    splits = kfold_indices(23, 4, gen(3))
    assert [len(v) for _, v in splits] == [6, 6, 6, 5]
    assert sorted(torch.cat([v for _, v in splits]).tolist()) == list(range(23))
    for train, val in splits:
        assert not set(train.tolist()) & set(val.tolist())
        assert len(train) + len(val) == 23
    with pytest.raises(ValueError, match="k must be"):
        kfold_indices(5, 6, gen())
    with pytest.raises(TypeError, match="generator"):
        kfold_indices(5, 2, 0)


def test_cross_validation_is_seeded_and_scores_each_fold():
    g = gen(4)
    images, labels = torch.rand(40, 28, 28, generator=g), torch.arange(40) % 10
    splits = kfold_indices(40, 4, gen(0))
    first = cross_validate(images, labels, splits, epochs=1, seed=0, progress=False)
    again = cross_validate(images, labels, splits, epochs=1, seed=0, progress=False)
    assert first == again and len(first) == 4 and all(0.0 <= a <= 1.0 for a in first)
    with pytest.raises(ValueError, match="equal length"):
        cross_validate(images, labels[:5], splits, epochs=1, seed=0, progress=False)
    leaky = [(torch.arange(40), val) for _, val in splits]
    with pytest.raises(ValueError, match="disjoint"):
        cross_validate(images, labels, leaky, epochs=1, seed=0, progress=False)


def test_same_seed_same_network_with_and_without_augmentation():
    g = gen(5)
    images, labels = torch.rand(20, 28, 28, generator=g), torch.arange(20) % 10
    a, _ = train_digit_classifier(images, labels, epochs=1, seed=7, progress=False)
    b, _ = train_digit_classifier(images, labels, epochs=1, seed=7, progress=False)
    c, _ = train_digit_classifier(images, labels, epochs=1, seed=7, progress=False,
                                  augment=lambda x, g: random_shift(x, g, max_shift=2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_mean_and_std_uses_sample_std():
    values = [0.91, 0.93, 0.9, 0.94, 0.92]
    mean, std = mean_and_std(values)
    assert mean == pytest.approx(statistics.mean(values)) and std == pytest.approx(statistics.stdev(values))
    with pytest.raises(ValueError):
        mean_and_std([0.9])


# ------------------------------------------------------------------ augmentation

def test_rotation_identity_and_quarter_turns():
    x = torch.rand(3, 1, 28, 28, generator=gen(6))
    assert torch.allclose(rotate(x, torch.zeros(3)), x, atol=1e-5)
    assert torch.allclose(rotate(x, torch.full((3,), 90.0)), torch.rot90(x, 1, (-2, -1)), atol=1e-5)
    assert torch.allclose(rotate(x, torch.full((3,), -90.0)), torch.rot90(x, -1, (-2, -1)), atol=1e-5)
    assert torch.allclose(rotate(x, torch.full((3,), 180.0)), torch.rot90(x, 2, (-2, -1)), atol=1e-5)


def test_rotation_fills_the_background_value():
    background = torch.full((1, 28, 28), -1.0)  # an empty image in [-1, 1]
    assert torch.allclose(rotate(background, torch.tensor([30.0]), fill=-1.0), background, atol=1e-6)
    wrong = rotate(background, torch.tensor([30.0]))  # fill 0: grey corners appear
    assert wrong.max().item() > -0.5


def test_random_rotation_keeps_ink_for_centred_digits():
    x = torch.zeros(64, 28, 28)
    x[:, 10:18, 12:16] = 1.0  # a centred bar: small rotations keep all of it inside the frame
    out = random_rotation(x, gen(7), max_degrees=15.0)
    assert torch.allclose(out.sum((1, 2)), x.sum((1, 2)), rtol=0.02)
    assert not torch.allclose(out[0], out[1])


def test_random_shift_moves_by_whole_pixels_with_fill():
    x = torch.zeros(200, 9, 9)
    x[:, 4, 4] = 1.0  # one lit pixel in the centre: its new position is the offset
    out = random_shift(x, gen(8), max_shift=2)
    assert torch.equal(out.sum((1, 2)), torch.ones(200))
    rows, cols = out.flatten(1).argmax(1) // 9 - 4, out.flatten(1).argmax(1) % 9 - 4
    assert set(rows.tolist()) == set(cols.tolist()) == {-2, -1, 0, 1, 2}
    filled = random_shift(torch.zeros(50, 1, 9, 9), gen(9), max_shift=2, fill=-1.0)
    assert set(filled.unique().tolist()) <= {0.0, -1.0} and filled.min().item() == -1.0
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(x, gen(), max_shift=9)
    with pytest.raises(TypeError, match="generator"):
        random_shift(x, 1)


def test_flip_probability_and_noise_statistics():
    x = torch.rand(2000, 1, 4, 4, generator=gen(10))
    assert torch.equal(random_hflip(x, gen(), p=0.0), x)
    assert torch.equal(random_hflip(x, gen(), p=1.0), x.flip(-1))
    flipped = (random_hflip(x, gen(11), p=0.3) != x).flatten(1).any(1).float().mean().item()
    assert flipped == pytest.approx(0.3, abs=0.04)  # 2000 Bernoulli(0.3): std 0.01
    noisy = add_gaussian_noise(x, gen(12), std=0.2, clamp=None)
    diff = (noisy - x).double()
    assert diff.mean().item() == pytest.approx(0.0, abs=0.003) and diff.std().item() == pytest.approx(0.2, rel=0.01)
    clipped = add_gaussian_noise(x, gen(12), std=0.5)
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    assert torch.equal(add_gaussian_noise(x, gen(), std=0.0), x)


def test_augmentations_do_not_modify_input_and_are_seeded():
    x = torch.rand(8, 1, 28, 28, generator=gen(13))
    before = x.clone()
    augment = compose(lambda t, g: random_rotation(t, g, max_degrees=10.0), lambda t, g: random_shift(t, g, 2),
                      lambda t, g: add_gaussian_noise(t, g, std=0.05), lambda t, g: random_hflip(t, g, p=0.5))
    a, b = augment(x, gen(1)), augment(x, gen(1))
    assert torch.equal(x, before) and torch.equal(a, b) and a.shape == x.shape and a.dtype == x.dtype
    assert not torch.equal(a, augment(x, gen(2)))
    assert 0.0 <= a.min().item() and a.max().item() <= 1.0


def test_compose_applies_left_to_right():
    def add_one(t, g):
        return t + 1

    def double(t, g):
        return t * 2

    x = torch.zeros(1, 1, 2, 2)
    assert compose(add_one, double)(x, gen()).unique().item() == 2.0
    assert compose(double, add_one)(x, gen()).unique().item() == 1.0
    with pytest.raises(ValueError):
        compose()


def test_augmentation_preview_behind_the_widget():
    image = torch.zeros(28, 28)
    image[5, 7] = 1.0
    assert torch.equal(augmentation_preview(image), image)
    moved = augmentation_preview(image, shift_x=3, shift_y=-2)
    assert moved[3, 10].item() == 1.0 and moved.sum().item() == 1.0
    assert torch.equal(augmentation_preview(image, flip=True), image.flip(-1))
    digit = torch.rand(28, 28, generator=gen(14))
    assert torch.allclose(augmentation_preview(digit, rotation=90.0), torch.rot90(digit, 1), atol=1e-5)
    noisy = augmentation_preview(digit, noise_std=0.3, seed=3)
    assert torch.equal(noisy, augmentation_preview(digit, noise_std=0.3, seed=3))
    assert 0.0 <= noisy.min().item() and noisy.max().item() <= 1.0
    with pytest.raises(ValueError, match="shift_x"):
        augmentation_preview(image, shift_x=40)


# ------------------------------------------------------------------ cleaning

def test_robust_z_constant_and_robustness():
    sample = torch.randn(200_000, generator=gen(15), dtype=torch.float64)
    mad = (sample - sample.median()).abs().median().item()
    assert mad == pytest.approx(0.6745, rel=0.01)  # MAD of N(0, 1) = Phi^-1(3/4)
    z = robust_z(sample)
    assert z.std().item() == pytest.approx(1.0, rel=0.01)  # matches the usual z on Gaussian data
    spoiled = torch.cat([sample[:900], torch.full((100,), 1e6, dtype=torch.float64)])
    assert robust_z(spoiled)[:900].abs().max().item() < 6  # ordinary z would squash them all to ~0.3
    assert ((spoiled[:900] - spoiled.mean()) / spoiled.std()).abs().max().item() < 0.5
    with pytest.raises(ValueError, match="MAD"):
        robust_z(torch.tensor([1.0, 1.0, 1.0, 2.0]))


def test_individual_detectors():
    x = torch.rand(6, 28, 28, generator=gen(16)) * 0.5 + 0.25
    x[1, 0, 0] = float("nan")
    x[2, 3, 3] = float("inf")
    x[3] = x[3] * 255
    x[4] = 0.3
    x[5] = x[0]
    assert [i.index for i in find_non_finite(x)] == [1, 2]
    assert [i.index for i in find_out_of_range(x)] == [3]  # the inf of image 2 is non-finite, not out of range
    assert "0-255" in find_out_of_range(x[3:4])[0].reason
    assert [i.index for i in find_blank(x)] == [4]
    dup = find_duplicates(x)
    assert [(i.index, i.reason) for i in dup] == [(5, "exact duplicate of image 0")]


def test_duplicates_keep_the_first_and_handle_signed_zero_and_nan():
    x = torch.rand(5, 4, 4, generator=gen(17))
    x[0, 0, 0] = 0.0
    x[2] = x[0]
    x[2, 0, 0] = -0.0
    x[1, 1, 1] = float("nan")
    x[4] = x[1]
    assert [(i.index, i.reason) for i in find_duplicates(x)] == [
        (2, "exact duplicate of image 0"), (4, "exact duplicate of image 1")]


def test_outlier_features_and_threshold():
    digits = torch.zeros(40, 28, 28)
    for i in range(40):  # pen strokes 2-3 pixels wide, of varied length
        digits[i, 6:14 + i % 9, 12: 14 + i % 2] = 0.8 + 0.005 * i
    speckle = (torch.rand(1, 28, 28, generator=gen(18)) < 0.15).float()
    feats = image_features(torch.cat([digits, speckle]))
    assert feats["roughness_per_ink"][-1] > 2 * feats["roughness_per_ink"][:40].max()
    found = find_outliers(torch.cat([digits, speckle]))
    assert [i.index for i in found] == [40]
    with pytest.raises(ValueError, match="finite"):
        find_outliers(torch.full((3, 4, 4), float("nan")))


def test_injection_is_exact_and_seeded():
    clean = torch.rand(100, 8, 8, generator=gen(19)) * 0.9
    bad, truth = inject_corruption(clean, gen(20), per_kind=5)
    again, truth_again = inject_corruption(clean, gen(20), per_kind=5)
    assert torch.equal(bad.nan_to_num(-7), again.nan_to_num(-7)) and torch.equal(truth, truth_again)
    assert torch.bincount(truth, minlength=len(CORRUPTION_KINDS)).tolist() == [75, 5, 5, 5, 5, 5]
    assert torch.equal(bad[truth == 0], clean[truth == 0])
    for j in torch.nonzero(truth == 1).flatten().tolist():
        assert any(torch.equal(bad[j], bad[i]) for i in range(j) if truth[i] == 0)
    assert torch.isnan(bad[truth == 4]).flatten(1).sum(1).tolist() == [16] * 5
    with pytest.raises(ValueError, match="at least"):
        inject_corruption(clean[:20], gen(), per_kind=5)


def test_detection_scores_by_hand():
    from aigc_course.preprocessing.cleaning import CleaningReport, Issue
    truth = torch.tensor([0, 0, 0, 0, 1, 2, 2, 3])
    report = CleaningReport(8, [Issue(0, "outlier", ""), Issue(4, "duplicate", ""), Issue(5, "blank", ""),
                                Issue(5, "outlier", ""), Issue(7, "outlier", "")])
    scores = detection_scores(report, truth)
    assert scores["recall_duplicate"] == 1.0 and scores["recall_blank"] == 0.5 and scores["recall_noise"] == 1.0
    assert scores["recall"] == 0.75 and scores["false_positive_rate"] == 0.25 and scores["precision"] == 0.75


def test_cleaner_on_small_injected_mnist_set(mnist_env):
    images, _ = load_mnist("test")
    pool = images_to_unit(images[:2000])
    bad, truth = inject_corruption(pool, gen(21), per_kind=20)
    report = clean_report(bad)
    scores = detection_scores(report, truth)
    assert scores["recall"] >= 0.95, scores
    assert scores["false_positive_rate"] <= 0.01, scores
    assert clean_report(pool).keep_mask().float().mean().item() >= 0.99
