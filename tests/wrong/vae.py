import torch
import torch.nn.functional as F


# ---- 3.1 reparameterization
def logvar_as_std(mu, logvar):
    return mu + torch.exp(logvar) * torch.randn_like(mu)  # exp(logvar) is the variance, not sigma


def sample_without_gradient(mu, logvar):
    with torch.no_grad():
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def returns_the_mean(mu, logvar):
    return mu + 0 * logvar


def noise_from_a_fixed_seed(mu, logvar):
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(0))
    return mu + torch.exp(0.5 * logvar) * eps


def logvar_as_sigma(mu, logvar):
    return mu + logvar * torch.randn_like(mu)


# ---- 3.2 Gaussian KL
def mean_over_dimensions(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean(dim=1)


def forgets_the_half(mu, logvar):
    return (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)


def std_for_variance(mu, logvar):
    return 0.5 * (mu.pow(2) + torch.exp(0.5 * logvar) - 1 - logvar).sum(dim=1)


def summed_over_the_batch(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum()


def sign_flipped(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) + logvar.exp()).sum(dim=1)


# ---- 3.3 the VAE loss
def _kl(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)


def pixel_mean_bce(logits, x, mu, logvar, beta=1.0):
    rec = F.binary_cross_entropy_with_logits(logits, x)  # averages over pixels: 784 times too small
    kl = _kl(mu, logvar).mean()
    return rec + beta * kl, rec, kl


def beta_on_reconstruction(logits, x, mu, logvar, beta=1.0):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
    kl = _kl(mu, logvar).mean()
    return beta * rec + kl, rec, kl


def summed_over_batch(logits, x, mu, logvar, beta=1.0):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = _kl(mu, logvar).sum()
    return rec + beta * kl, rec, kl


def no_kl_term(logits, x, mu, logvar, beta=1.0):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
    kl = _kl(mu, logvar).mean()
    return rec, rec, kl


def hand_written_log_sigmoid(logits, x, mu, logvar, beta=1.0):
    p = torch.sigmoid(logits)
    rec = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1).mean()
    kl = _kl(mu, logvar).mean()
    return rec + beta * kl, rec, kl


def detached_numbers(logits, x, mu, logvar, beta=1.0):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean().item()
    kl = _kl(mu, logvar).mean().item()
    return torch.tensor(rec + beta * kl), torch.tensor(rec), torch.tensor(kl)


def the_articles_loss(logits, x, mu, logvar, beta=1.0):
    # article §4.1.2: "D(x) - log D(x') + 1/2 E[-log p(x|z)]": no KL, a stray 1/2
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
    return 0.5 * rec, rec, torch.zeros(())


WRONG = {
    "3.1": [logvar_as_std, sample_without_gradient, returns_the_mean, noise_from_a_fixed_seed, logvar_as_sigma],
    "3.2": [mean_over_dimensions, forgets_the_half, std_for_variance, summed_over_the_batch, sign_flipped],
    "3.3": [pixel_mean_bce, beta_on_reconstruction, summed_over_batch, no_kl_term, hand_written_log_sigmoid,
            detached_numbers, the_articles_loss],
}
