"""Checks for chapter 07's exercises: 7.1 closed-form noising, 7.2 the DDPM loss, 7.3 one DDIM step."""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from ..diffusion.objectives import ddpm_loss
from ..diffusion.samplers import ddim_step
from ..diffusion.schedules import NoiseSchedule, q_sample
from . import Exercise, assert_close, same_output

LINEAR = NoiseSchedule.linear(1000)
COSINE = NoiseSchedule.cosine(200)


def _data(shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) * 2 - 1, torch.randn(shape, generator=g)


# ---- 7.1 closed-form forward noising ------------------------------------------------------------

def _images_case(schedule: NoiseSchedule, t: list[int], seed: int):
    x0, noise = _data((len(t), 1, 5, 3), seed)
    return same_output(x0, torch.tensor(t), noise, schedule, label=f"x_t of {len(t)} images at steps {t}")


def _moments_match_the_chain(candidate, reference) -> None:
    x0 = torch.full((40_000, 1), 0.8)
    t = torch.full((40_000,), 300)
    x_t = candidate(x0, t, torch.randn(40_000, 1, generator=torch.Generator().manual_seed(3)), LINEAR)
    ab = float(LINEAR.alpha_bars[300])
    assert_close("mean of x_t (should be sqrt(alpha_bar_t) x0)", float(x_t.mean()), math.sqrt(ab) * 0.8, atol=0.02)
    assert_close("variance of x_t (should be 1 - alpha_bar_t)", float(x_t.var()), 1 - ab, atol=0.02)


def _inputs_untouched(candidate, reference) -> None:
    x0, noise = _data((3, 2), 4)
    before = (x0.clone(), noise.clone())
    candidate(x0, torch.tensor([0, 10, 999]), noise, LINEAR)
    if not (torch.equal(x0, before[0]) and torch.equal(noise, before[1])):
        raise AssertionError("x0 or noise was modified in place")


check_q_sample = Exercise(
    "7.1", "closed-form forward noising", q_sample,
    cases=[
        _images_case(LINEAR, [0, 1, 500, 999], 0),
        _images_case(COSINE, [199, 37, 5, 120, 0, 60], 1),
        same_output(*_data((4, 2), 2)[:1], torch.tensor([3, 3, 3, 3]), _data((4, 2), 2)[1], LINEAR,
                    label="four 2-D points at step 3"),
        _moments_match_the_chain,
        _inputs_untouched,
    ],
    hint="alpha_bar = schedule.alpha_bars[t] (the cumulative product, not alphas), reshaped to [B, 1, 1, ...] "
         "so it broadcasts over x0; x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise (square roots of both)",
)


# ---- 7.2 the training loss at a random t ---------------------------------------------------------

class _Probe(nn.Module):
    """A small fixed network eps(x, t) that also records the times it was given."""

    def __init__(self, features: int) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.linear = nn.Linear(features + 1, features)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        self.seen.append(t.detach().clone())
        flat = torch.cat([x.flatten(1), t.float()[:, None]], dim=1)
        return self.linear(flat).view_as(x)


def _same_loss(shape: tuple[int, ...], schedule: NoiseSchedule, seed: int):
    def case(candidate, reference) -> None:
        x0, _ = _data(shape, seed)
        features = math.prod(shape[1:])
        expected = reference(_Probe(features), x0.clone(), schedule, generator=torch.Generator().manual_seed(seed))
        got = candidate(_Probe(features), x0.clone(), schedule, generator=torch.Generator().manual_seed(seed))
        assert_close(f"loss on a batch of shape {list(shape)} (same generator seed)", got, expected, atol=1e-5)

    return case


def _network_sees_time_in_unit_interval(candidate, reference) -> None:
    model = _Probe(2)
    candidate(model, _data((64, 2), 6)[0], LINEAR, generator=torch.Generator().manual_seed(6))
    if not model.seen:
        raise AssertionError("the model was never called")
    t = model.seen[-1]
    if not t.is_floating_point() or float(t.min()) < 0 or float(t.max()) > 1:
        raise AssertionError("the network's time input must be a float in [0, 1]: schedule.network_time(t), "
                             f"got {t.dtype} in [{float(t.min()):.3g}, {float(t.max()):.3g}]")


def _gradient_reaches_the_model(candidate, reference) -> None:
    model = _Probe(2)
    loss = candidate(model, _data((16, 2), 7)[0], LINEAR, generator=torch.Generator().manual_seed(7))
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        raise AssertionError(f"the loss must be a scalar tensor, got {loss!r}")
    loss.backward()
    if model.linear.weight.grad is None or not bool(model.linear.weight.grad.any()):
        raise AssertionError("no gradient reached the model: keep the loss connected to its output (no .item())")


check_ddpm_loss = Exercise(
    "7.2", "the DDPM loss at a random step", ddpm_loss,
    cases=[
        _network_sees_time_in_unit_interval,
        _gradient_reaches_the_model,
        _same_loss((8, 2), LINEAR, 0),
        _same_loss((6, 1, 4, 4), COSINE, 1),
    ],
    hint="t = torch.randint(0, schedule.steps, (B,), generator=generator) first, then noise = "
         "torch.randn(x0.shape, generator=generator); x_t = q_sample(x0, t, noise, schedule); "
         "mse_loss(model(x_t, schedule.network_time(t)), noise), a mean over every element",
)


# ---- 7.3 one reverse step (DDIM) -----------------------------------------------------------------

def _recovers_x0_with_the_true_noise(candidate, reference) -> None:
    x0, eps = _data((5, 1, 3, 3), 8)
    ab = 0.3
    x_t = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps
    assert_close("a step to alpha_bar_prev = 1 with the true noise (should give x0 back)",
                 candidate(x_t, eps, ab, 1.0), x0, atol=1e-5)


def _same_level_is_the_identity(candidate, reference) -> None:
    x_t, eps = _data((4, 2), 9)
    assert_close("a step to the same noise level (alpha_bar_prev = alpha_bar_t) should not move x_t",
                 candidate(x_t, eps, 0.6, 0.6), x_t, atol=1e-5)


check_ddim_step = Exercise(
    "7.3", "one deterministic DDIM step", ddim_step,
    cases=[
        _recovers_x0_with_the_true_noise,
        _same_level_is_the_identity,
        same_output(*_data((6, 1, 4, 4), 10), 0.05, 0.4, label="a step from alpha_bar 0.05 to 0.4"),
        same_output(*_data((3, 2), 11), 0.9, 0.999, label="a small step near the data"),
        same_output(*_data((3, 2), 12), 1e-3, 0.5, label="a long step from almost pure noise"),
    ],
    hint="x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t); x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev) eps "
         "(the same eps points the way back to the noise level of ab_prev)",
)
