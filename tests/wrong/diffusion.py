"""Wrong answers to chapter 07's exercises: every one must be graded FAIL."""

import math

import torch
import torch.nn.functional as F

from aigc_course.diffusion.schedules import q_sample


def _ab(schedule, t, like):
    return schedule.alpha_bars[t].to(like.dtype).view(-1, *([1] * (like.ndim - 1)))


# ---- 7.1 closed-form forward noising
def q_sample_with_alphas(x0, t, noise, schedule):
    """alpha_t of one step instead of the cumulative product alpha_bar_t."""
    a = schedule.alphas[t].to(x0.dtype).view(-1, *([1] * (x0.ndim - 1)))
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def q_sample_variance_as_std(x0, t, noise, schedule):
    """(1 - alpha_bar) times the noise: the variance used as a standard deviation."""
    ab = _ab(schedule, t, x0)
    return ab.sqrt() * x0 + (1 - ab) * noise


def q_sample_no_sqrt_on_signal(x0, t, noise, schedule):
    ab = _ab(schedule, t, x0)
    return ab * x0 + (1 - ab).sqrt() * noise


def q_sample_off_by_one(x0, t, noise, schedule):
    """alpha_bar_{t-1}: one step too little noise (step 0 treated as no noise at all)."""
    ab = torch.cat([torch.ones(1, dtype=torch.float64), schedule.alpha_bars])[t].to(x0.dtype)
    ab = ab.view(-1, *([1] * (x0.ndim - 1)))
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def q_sample_first_step_for_all(x0, t, noise, schedule):
    """One alpha_bar for the whole batch (that of the first example's step)."""
    ab = float(schedule.alpha_bars[int(t[0])])
    return math.sqrt(ab) * x0 + math.sqrt(1 - ab) * noise


# ---- 7.2 the DDPM loss
def _draw(x0, schedule, generator):
    t = torch.randint(0, schedule.steps, (len(x0),), generator=generator)
    return t, torch.randn(x0.shape, generator=generator)


def loss_predicts_x0(model, x0, schedule, generator=None):
    """Regresses the clean data instead of the noise."""
    t, noise = _draw(x0, schedule, generator)
    return F.mse_loss(model(q_sample(x0, t, noise, schedule), schedule.network_time(t)), x0)


def loss_integer_time(model, x0, schedule, generator=None):
    """Gives the network the step index 0..T-1 instead of a time in [0, 1]."""
    t, noise = _draw(x0, schedule, generator)
    return F.mse_loss(model(q_sample(x0, t, noise, schedule), t), noise)


def loss_noise_before_t(model, x0, schedule, generator=None):
    """Draws the noise first: other random numbers than asked."""
    noise = torch.randn(x0.shape, generator=generator)
    t = torch.randint(0, schedule.steps, (len(x0),), generator=generator)
    return F.mse_loss(model(q_sample(x0, t, noise, schedule), schedule.network_time(t)), noise)


def loss_summed(model, x0, schedule, generator=None):
    t, noise = _draw(x0, schedule, generator)
    return F.mse_loss(model(q_sample(x0, t, noise, schedule), schedule.network_time(t)), noise, reduction="sum")


def loss_detached(model, x0, schedule, generator=None):
    t, noise = _draw(x0, schedule, generator)
    value = F.mse_loss(model(q_sample(x0, t, noise, schedule), schedule.network_time(t)), noise).item()
    return torch.tensor(value)


# ---- 7.3 one DDIM step
def ddim_returns_x0_hat(x_t, eps, alpha_bar_t, alpha_bar_prev):
    """Jumps straight to the predicted clean data, whatever alpha_bar_prev is."""
    return (x_t - math.sqrt(1 - alpha_bar_t) * eps) / math.sqrt(alpha_bar_t)


def ddim_no_square_roots(x_t, eps, alpha_bar_t, alpha_bar_prev):
    x0_hat = (x_t - (1 - alpha_bar_t) * eps) / alpha_bar_t
    return alpha_bar_prev * x0_hat + (1 - alpha_bar_prev) * eps


def ddim_drops_the_noise_direction(x_t, eps, alpha_bar_t, alpha_bar_prev):
    """sqrt(ab_prev) x0_hat alone: shrinks the sample and loses the noise level of ab_prev."""
    x0_hat = (x_t - math.sqrt(1 - alpha_bar_t) * eps) / math.sqrt(alpha_bar_t)
    return math.sqrt(alpha_bar_prev) * x0_hat


def ddim_sign_error(x_t, eps, alpha_bar_t, alpha_bar_prev):
    x0_hat = (x_t + math.sqrt(1 - alpha_bar_t) * eps) / math.sqrt(alpha_bar_t)
    return math.sqrt(alpha_bar_prev) * x0_hat + math.sqrt(1 - alpha_bar_prev) * eps


WRONG = {
    "7.1": [q_sample_with_alphas, q_sample_variance_as_std, q_sample_no_sqrt_on_signal, q_sample_off_by_one,
            q_sample_first_step_for_all],
    "7.2": [loss_predicts_x0, loss_integer_time, loss_noise_before_t, loss_summed, loss_detached],
    "7.3": [ddim_returns_x0_hat, ddim_no_square_roots, ddim_drops_the_noise_direction, ddim_sign_error],
}
