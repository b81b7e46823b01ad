"""Chapter 05's measured comparisons: the article's G-step, fused Adam, equal wall clock, the learner's pieces."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from aigc_course.gan import (KERAS_EPSILON, article_generator_step, build_models, compare_fused_adam, dcgan_up_block,
                             make_optimizers, model_spec, restore_training_state, train_for_seconds, train_gan)


def test_article_step_pushes_pixels_to_one_without_data():
    run = article_generator_step(60, batch_size=32, log_every=20, progress=False)
    h = run.history
    assert h["train/step"] == [20, 40, 60]
    assert h["train/loss"][-1] < h["train/loss"][0]
    assert h["train/mean_pixel"][-1] > h["train/mean_pixel"][0]
    assert run.before.shape == run.after.shape == (16, 28, 28)
    assert float(run.after.mean()) > float(run.before.mean())


def test_keras_clipping_gives_no_gradient_below_epsilon():
    out = torch.tensor([-0.5, 0.5], requires_grad=True)
    clipped = out.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
    F.binary_cross_entropy(clipped, torch.ones(2), reduction="sum").backward()
    assert out.grad[0] == 0 and math.isclose(out.grad[1].item(), -1 / 0.5, rel_tol=1e-5)


def test_fused_and_loop_adam_make_the_same_update():
    spec = model_spec("mlp")
    torch.manual_seed(0)
    g1, d1 = build_models(spec)
    g2, d2 = build_models(spec)
    g2.load_state_dict(g1.state_dict())
    d2.load_state_dict(d1.state_dict())
    for (g, d), fused in (((g1, d1), True), ((g2, d2), False)):
        g_opt, _ = make_optimizers(spec, g, d, fused=fused)
        assert bool(g_opt.defaults.get("fused")) == fused
        g.train()
        loss = g(torch.randn(8, spec.z_dim, generator=torch.Generator().manual_seed(1))).pow(2).mean()
        g_opt.zero_grad()
        loss.backward()
        g_opt.step()
    for p1, p2 in zip(g1.parameters(), g2.parameters()):
        assert torch.allclose(p1, p2, atol=1e-6)


def test_compare_fused_adam_reports_both_speeds():
    result = compare_fused_adam("gan", steps=1, repeats=2)
    assert set(result) == {"fused", "loop", "speedup"} and result["fused"] > 0 and result["loop"] > 0
    assert math.isclose(result["speedup"], result["fused"] / result["loop"])


def test_learners_up_block_is_the_one_in_the_dcgan():
    calls = []

    def my_block(i, o):
        calls.append((i, o))
        return nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU())

    generator, _ = build_models("dcgan", up_block=my_block)
    assert calls == [(128, 64)]
    assert generator(torch.randn(2, 100)).shape == (2, 1, 28, 28)
    reference, _ = build_models("dcgan")
    assert [p.shape for p in generator.parameters()] == [p.shape for p in reference.parameters()]


def test_train_for_seconds_cuts_the_epoch_and_then_loads(mnist_env, tmp_path):
    run = train_for_seconds("dcgan", 1e-3, tmp_path / "run", 5, train_subset=512, progress=False,
                            up_block=dcgan_up_block)
    assert run.epochs_done == 1 and run.stopped_early and run.images_trained == 128  # one batch, then the cut
    again = train_for_seconds("dcgan", 100.0, tmp_path / "run", 5, train_subset=512, progress=False)
    assert again.trained_epochs == 0 and again.epochs_done == 1
    for a, b in zip(run.generator.state_dict().values(), again.generator.state_dict().values()):
        assert torch.equal(a, b)


def test_train_gan_resumes_with_the_given_restore(mnist_env, tmp_path):
    train_gan("gan", 1, tmp_path, train_subset=256, progress=False)
    used = []

    def my_restore(checkpoint, *parts):
        used.append(checkpoint["epoch"])
        return restore_training_state(checkpoint, *parts)

    run = train_gan("gan", 2, tmp_path, train_subset=256, progress=False, restore=my_restore)
    assert used == [1] and run.resumed_from == 1 and run.epochs_done == 2
    with pytest.raises(TypeError, match="restore"):
        train_gan("gan", 2, tmp_path, restore="no")
