"""Checks for chapter 05's exercises: the Inception-style score (5.1), the DCGAN up-block (5.2), resuming (5.3)."""

from __future__ import annotations

import copy

import torch
import torch.nn as nn

from ..evaluation.metrics import inception_score
from ..gan.losses import gan_training_step
from ..gan.runs import restore_training_state
from ..gan.mnist_models import article_discriminator, article_generator, dcgan_up_block
from . import Exercise, assert_close, same_output

# ---------------------------------------------------------------- 5.2 the DCGAN up-block


def _up_block_shape(candidate, reference) -> None:
    block = candidate(8, 4)
    if not isinstance(block, nn.Module):
        raise AssertionError(f"dcgan_up_block must return an nn.Module, got {type(block).__name__}")
    out = block(torch.randn(2, 8, 7, 7))
    if tuple(out.shape) != (2, 4, 14, 14):
        raise AssertionError(f"[2, 8, 7, 7] must become [2, 4, 14, 14] (channels 8 -> 4, size doubled), "
                             f"got {list(out.shape)}")


def _up_block_same_layers(candidate, reference) -> None:
    torch.manual_seed(0)
    expected = reference(6, 3)
    block = candidate(6, 3)
    want = {k: tuple(v.shape) for k, v in expected.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in block.state_dict().items()}
    if got != want:
        raise AssertionError(f"parameters and buffers should be {want} (a ConvTranspose2d without bias, then "
                             f"BatchNorm2d), got {got}")
    block.load_state_dict(expected.state_dict())
    x = torch.randn(4, 6, 5, 5, generator=torch.Generator().manual_seed(1))
    for mode in ("train", "eval"):
        expected.train(mode == "train")
        block.train(mode == "train")
        assert_close(f"output in {mode} mode", block(x.clone()), expected(x.clone()), atol=1e-5)


check_dcgan_up_block = Exercise(
    "5.2", "DCGAN generator up-block", dcgan_up_block,
    cases=[_up_block_shape, _up_block_same_layers],
    hint="nn.ConvTranspose2d(in, out, kernel_size=4, stride=2, padding=1, bias=False), then nn.BatchNorm2d(out), "
         "then nn.ReLU(), in an nn.Sequential",
)

# ---------------------------------------------------------------- 5.1 the Inception-style score


def _probs(n: int, seed: int, sharpness: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(sharpness * torch.randn(n, 10, generator=g, dtype=torch.float64), dim=1)


def _perfect_score_is_ten(candidate, reference) -> None:
    assert_close("one confident image of each of 10 classes", candidate(torch.eye(10, dtype=torch.float64)), 10.0,
                 atol=1e-6)


def _uncertain_score_is_one(candidate, reference) -> None:
    assert_close("every image gets the same distribution", candidate(_probs(1, 2, 1.0).expand(20, 10).clone()),
                 1.0, atol=1e-6)


def _input_unchanged(candidate, reference) -> None:
    probs = _probs(30, 3, 2.0)
    before = probs.clone()
    candidate(probs)
    if not torch.equal(probs, before):
        raise AssertionError("inception_score must not modify probs in place")


check_inception_score = Exercise(
    "5.1", "Inception-style score", inception_score,
    cases=[same_output(_probs(200, 0, 3.0), label="IS of 200 fairly confident images"),
           same_output(_probs(50, 1, 0.5), label="IS of 50 unsure images"),
           _perfect_score_is_ten, _uncertain_score_is_one, _input_unchanged],
    hint="p_y = probs.mean(0); KL_i = sum_c p(c|x_i) (log p(c|x_i) - log p_y(c)); return exp(mean_i KL_i)",
)

# ---------------------------------------------------------------- 5.3 resuming training


def _tiny_run(seed: int) -> tuple[dict, list]:
    """Train the article's small GAN for 3 steps and pack a checkpoint as the course writes it (epoch 4)."""
    torch.manual_seed(seed)
    g, d = article_generator(), article_discriminator()
    g_opt = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999))
    for _ in range(3):
        gan_training_step(g, d, g_opt, d_opt, torch.rand(8, 1, 28, 28) * 2 - 1, torch.randn(8, 100))
    torch.manual_seed(seed + 99)
    checkpoint = {"epoch": 4, "generator": g.state_dict(), "discriminator": d.state_dict(),
                  "g_optimizer": g_opt.state_dict(), "d_optimizer": d_opt.state_dict(),
                  "rng": {"torch": torch.get_rng_state()}}
    # deep copies, as a checkpoint file would give: no tensor shared with the live models
    return copy.deepcopy(checkpoint), [g, d, g_opt, d_opt]


def _fresh() -> list:
    torch.manual_seed(12345)
    g, d = article_generator(), article_discriminator()
    return [g, d, torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999)),
            torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999))]


def _restores_weights_and_epoch(candidate, reference) -> None:
    checkpoint, (g, d, _, _) = _tiny_run(0)
    fresh = _fresh()
    nxt = candidate(checkpoint, *fresh)
    if nxt != 5:
        raise AssertionError(f"the checkpoint holds 4 completed epochs, so the next epoch to run is 5; got {nxt!r}")
    for name, want, got in (("generator", g, fresh[0]), ("discriminator", d, fresh[1])):
        for key, value in want.state_dict().items():
            if not torch.equal(got.state_dict()[key], value):
                raise AssertionError(f"the {name}'s {key} was not restored from the checkpoint")


def _continues_identically(candidate, reference) -> None:
    checkpoint, original = _tiny_run(1)
    fresh = _fresh()
    candidate(checkpoint, *fresh)
    if not torch.equal(torch.get_rng_state(), checkpoint["rng"]["torch"]):
        raise AssertionError("the global torch RNG state was not restored (dropout masks would differ after resuming)")
    torch.manual_seed(7)
    real, noise = torch.rand(8, 1, 28, 28) * 2 - 1, torch.randn(8, 100)
    for models in (original, fresh):
        torch.set_rng_state(checkpoint["rng"]["torch"])
        gan_training_step(*models, real, noise)
    for key, value in original[0].state_dict().items():
        if not torch.allclose(fresh[0].state_dict()[key], value, atol=1e-7):
            raise AssertionError("one step after resuming differs from one step of the uninterrupted run: restore "
                                 "the optimizers' state too (Adam's moment estimates and step counts)")


check_restore_training_state = Exercise(
    "5.3", "resume training from a checkpoint", restore_training_state,
    cases=[_restores_weights_and_epoch, _continues_identically],
    hint="load_state_dict for both networks and both optimizers, torch.set_rng_state(checkpoint['rng']['torch']), "
         "return checkpoint['epoch'] + 1",
)
