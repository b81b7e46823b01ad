"""Chapter 06 challenges: timing, memorization distances, the real-vs-generated detector."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("aigc_course.vae.losses")
pytest.importorskip("aigc_course.evaluation.metrics")

from aigc_course.applications import challenges as challenges  # noqa: E402
from aigc_course.applications.text_data import CharVocab  # noqa: E402
from aigc_course.gan.runs import run_folder  # noqa: E402


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) ** 4


def test_timing_is_the_mean_time_per_call_after_warmup():
    calls = []

    def step():
        calls.append(1)
        t = torch.randn(200, 200)
        t @ t

    seconds = challenges.time_training_steps(step, 4, warmup=3)
    assert len(calls) == 7 and 0 < seconds < 5
    with pytest.raises(TypeError, match="step"):
        challenges.time_training_steps(42, 1)


def test_every_course_model_takes_a_training_step_that_changes_its_weights():
    vocab = CharVocab.from_text("abcdefgh ")
    ids = vocab.encode("abc defgh " * 20)
    steps = challenges.course_training_steps(_images(40, 0), ids, vocab.size, batch_size=8)
    assert len(steps) == 5
    for name, entry in steps.items():
        before = [p.detach().clone() for p in entry["model"].parameters()]
        entry["step"]()
        after = list(entry["model"].parameters())
        assert any(not torch.equal(a, b) for a, b in zip(after, before)), name
        assert entry["parameters"] == sum(p.numel() for p in entry["model"].parameters()) and entry["batch"] == 8


def test_memorization_distances_find_copies():
    train = _images(50, 1)
    copies = train[[3, 7, 11]].clone()
    held_out = _images(5, 2)
    out = challenges.memorization_distances(copies, train, held_out)
    assert torch.allclose(out["generated"], torch.zeros(3), atol=1e-2)  # cdist rounding
    assert out["generated_index"].tolist() == [3, 7, 11]
    manual = torch.cdist(held_out.flatten(1), train.flatten(1)).min(1).values
    assert torch.allclose(out["held_out"], manual, atol=1e-2)


def test_split_keeps_every_image_once_with_its_label():
    real, fake = _images(30, 3), _images(20, 4) * 0.5
    x_tr, y_tr, x_te, y_te = challenges.real_vs_generated(real, fake, test_fraction=0.2, seed=0)
    assert len(x_te) == 10 and len(x_tr) == 40
    assert int(torch.cat([y_tr, y_te]).sum()) == 20
    x, y = torch.cat([x_tr, x_te]), torch.cat([y_tr, y_te])
    assert torch.allclose(x[y == 0].sum(0), real.sum(0), atol=1e-4)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        challenges.real_vs_generated(real * 2, fake)


def test_detector_separates_an_obvious_difference_and_reports_recalls():
    real = _images(200, 5)
    fake = torch.zeros(200, 1, 28, 28)
    fake[:, :, 10:18, 10:18] = 1.0  # a generator with an obvious habit
    data = challenges.real_vs_generated(real, fake, test_fraction=0.25, seed=1)
    detector, scores = challenges.train_detector(*data, epochs=2, progress=False)
    assert scores["accuracy"] > 0.95 and scores["real_recall"] > 0.9 and scores["generated_recall"] > 0.9
    p = challenges.generated_probability(detector, fake[:5])
    assert p.shape == (5,) and (p > 0.5).all()


def test_gan_is_loaded_when_trained_and_never_overwritten(mnist_env, tmp_path, monkeypatch):
    monkeypatch.setenv("AIGC_COURSE_DATA", str(tmp_path))
    (tmp_path / "mnist").symlink_to(mnist_env / "mnist")
    first = challenges.load_or_train_gan("gan", 1, 256, progress=False)
    assert first.trained_epochs == 1 and first.out_dir == run_folder("gan", 256, seed=0)
    again = challenges.load_or_train_gan("gan", 1, 256, progress=False)
    assert again.trained_epochs == 0 and again.out_dir == first.out_dir
    # a folder holding another configuration (here: another seed written under this name) is left alone
    seed1 = run_folder("gan", 256, seed=1)
    seed1.mkdir(parents=True)
    (first.out_dir / "checkpoint.pt").rename(seed1 / "checkpoint.pt")
    other = challenges.load_or_train_gan("gan", 1, 256, seed=1, progress=False)
    assert other.out_dir.name == seed1.name + "-ch06" and other.trained_epochs == 1
    assert (seed1 / "checkpoint.pt").is_file()
