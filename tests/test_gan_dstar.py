"""The optimal discriminator: the formula, V(D*, G) = -log 4 + 2 JSD, and a trained D that matches D*."""

import math

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from aigc_course.config import budget  # noqa: E402
from aigc_course.gan.dstar import (DSTAR_MAX_TOLERANCE, DSTAR_MEAN_TOLERANCE, GaussianMixture1D,  # noqa: E402
                                   compare_with_optimum, jensen_shannon, optimal_discriminator, plot_dstar,
                                   train_discriminator_1d, value_function)

P_DATA = GaussianMixture1D((0.5, 0.5), (-2.0, 1.5), (0.5, 0.8))
P_G = GaussianMixture1D((1.0,), (0.0,), (1.5,))
X = torch.linspace(-10, 10, 8001, dtype=torch.float64)


def test_mixture_density_integrates_to_one_and_samples_match_it():
    assert float(torch.trapezoid(P_DATA.pdf(X), X)) == pytest.approx(1.0, abs=1e-9)
    x = P_DATA.sample(200000, torch.Generator().manual_seed(0)).squeeze(1).double()
    mean = 0.5 * -2.0 + 0.5 * 1.5
    var = 0.5 * (0.25 + 4.0) + 0.5 * (0.64 + 2.25) - mean**2
    assert x.mean().item() == pytest.approx(mean, abs=4 * math.sqrt(var / len(x)))
    assert x.var().item() == pytest.approx(var, rel=0.01)


def test_optimal_discriminator_formula():
    p, q = torch.tensor([1.0, 0.0, 0.3, 2.0]), torch.tensor([1.0, 0.5, 0.1, 0.0])
    assert torch.allclose(optimal_discriminator(p, q), torch.tensor([0.5, 0.0, 0.75, 1.0]))
    with pytest.raises(ValueError, match="undefined where p_data \\+ p_g = 0"):
        optimal_discriminator(torch.zeros(2), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="p_g must have shape"):
        optimal_discriminator(torch.ones(3), torch.ones(2))


def test_d_star_maximizes_v_pointwise():
    """Any other D (here D* moved by a logit offset, either way) gives a smaller V."""
    pd, pg = P_DATA.pdf(X), P_G.pdf(X)
    d_star = optimal_discriminator(pd, pg)
    v_star = value_function(d_star, pd, pg, X)
    for offset in (-0.3, -0.05, 0.05, 0.3):
        assert value_function(torch.sigmoid(torch.logit(d_star) + offset), pd, pg, X) < v_star


def test_value_at_optimum_is_minus_log4_plus_twice_jsd():
    pd, pg = P_DATA.pdf(X), P_G.pdf(X)
    v_star = value_function(optimal_discriminator(pd, pg), pd, pg, X)
    jsd = jensen_shannon(pd, pg, X)
    assert v_star == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-9)
    assert 0 < jsd < math.log(2)


def test_value_at_optimum_agrees_with_monte_carlo():
    """V(D*, G) = E_data[log D*] + E_g[log(1 - D*)], estimated from 200k samples of each."""
    rng = torch.Generator().manual_seed(3)
    xd, xg = P_DATA.sample(200000, rng).squeeze(1).double(), P_G.sample(200000, rng).squeeze(1).double()
    log_d = torch.log(optimal_discriminator(P_DATA.pdf(xd), P_G.pdf(xd)))
    log_1md = torch.log1p(-optimal_discriminator(P_DATA.pdf(xg), P_G.pdf(xg)))
    estimate = (log_d.mean() + log_1md.mean()).item()
    stderr = math.sqrt(log_d.var().item() / len(xd) + log_1md.var().item() / len(xg))
    pd, pg = P_DATA.pdf(X), P_G.pdf(X)
    assert estimate == pytest.approx(value_function(optimal_discriminator(pd, pg), pd, pg, X), abs=4 * stderr)


def test_jensen_shannon_limits():
    same = P_G.pdf(X)
    assert jensen_shannon(same, same, X) == pytest.approx(0.0, abs=1e-12)
    far_a = GaussianMixture1D((1.0,), (-5.0,), (0.3,)).pdf(X)
    far_b = GaussianMixture1D((1.0,), (5.0,), (0.3,)).pdf(X)
    assert jensen_shannon(far_a, far_b, X) == pytest.approx(math.log(2), abs=1e-6)
    pd, pg = P_DATA.pdf(X), P_G.pdf(X)
    assert jensen_shannon(pd, pg, X) == pytest.approx(jensen_shannon(pg, pd, X), abs=1e-12)


def test_trained_discriminator_matches_d_star_within_the_stated_tolerance():
    """The chapter's fast budget (the full one trains longer) already meets the tolerance."""
    b = budget("gan")
    model, losses = train_discriminator_1d(P_DATA, P_G, b.dstar_steps, b.dstar_batch, progress=False)
    result = compare_with_optimum(model, P_DATA, P_G)
    assert result.max_error <= DSTAR_MAX_TOLERANCE and result.mean_error <= DSTAR_MEAN_TOLERANCE, result
    assert result.within_tolerance
    assert result.v_trained <= result.v_star + 1e-9  # D* is the maximizer
    assert result.v_star == pytest.approx(-math.log(4) + 2 * result.jsd, abs=1e-6)
    assert sum(losses[-100:]) / 100 == pytest.approx(-result.v_trained, abs=0.02)  # L_D estimates -V
    fig = plot_dstar(result, P_DATA, P_G)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_mixture_and_training_validate_inputs():
    with pytest.raises(ValueError, match="weights must sum to 1"):
        GaussianMixture1D((0.5, 0.4), (0.0, 1.0), (1.0, 1.0))
    with pytest.raises(ValueError, match="same length"):
        GaussianMixture1D((1.0,), (0.0, 1.0), (1.0,))
    with pytest.raises(TypeError, match="p_g must be a GaussianMixture1D"):
        train_discriminator_1d(P_DATA, "normal", 10)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        train_discriminator_1d(P_DATA, P_G, 0)
