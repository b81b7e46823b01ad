import torch
import torch.nn as nn


# 5.2 DCGAN up-block
def up_block_wrong_kernel(in_channels, out_channels):  # kernel 3: 7 -> 13, not 14
    return nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 3, 2, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


def up_block_with_bias(in_channels, out_channels):  # a bias the batch norm cancels
    return nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


def up_block_relu_before_norm(in_channels, out_channels):
    return nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=False),
                         nn.ReLU(), nn.BatchNorm2d(out_channels))


def up_block_upsample_conv(in_channels, out_channels):  # another up-sampler, other weights
    return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


# 5.1 Inception-style score
def is_without_exp(probs):
    p = probs.double()
    return float((p * (p.log() - p.mean(0).log())).sum(1).mean())


def is_kl_reversed(probs):
    p = probs.double().clamp_min(1e-12)
    m = p.mean(0, keepdim=True)
    return float((m * (m.log() - p.log())).sum(1).mean().exp())


def is_entropy_of_marginal_only(probs):
    m = probs.double().mean(0)
    return float((-(m * m.log()).sum()).exp())


def is_mean_of_per_image_scores(probs):  # exp inside the mean
    p = probs.double()
    return float((p * (p.log() - p.mean(0).log())).sum(1).exp().mean())


# 5.3 resume
def resume_returns_completed_epoch(checkpoint, generator, discriminator, g_optimizer, d_optimizer):
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    g_optimizer.load_state_dict(checkpoint["g_optimizer"])
    d_optimizer.load_state_dict(checkpoint["d_optimizer"])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    return checkpoint["epoch"]


def resume_forgets_optimizers(checkpoint, generator, discriminator, g_optimizer, d_optimizer):
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    return checkpoint["epoch"] + 1


def resume_forgets_rng(checkpoint, generator, discriminator, g_optimizer, d_optimizer):
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    g_optimizer.load_state_dict(checkpoint["g_optimizer"])
    d_optimizer.load_state_dict(checkpoint["d_optimizer"])
    return checkpoint["epoch"] + 1


def resume_only_generator(checkpoint, generator, discriminator, g_optimizer, d_optimizer):
    generator.load_state_dict(checkpoint["generator"])
    g_optimizer.load_state_dict(checkpoint["g_optimizer"])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    return checkpoint["epoch"] + 1


WRONG = {
    "5.1": [is_without_exp, is_kl_reversed, is_entropy_of_marginal_only, is_mean_of_per_image_scores],
    "5.2": [up_block_wrong_kernel, up_block_with_bias, up_block_relu_before_norm, up_block_upsample_conv],
    "5.3": [resume_returns_completed_epoch, resume_forgets_optimizers, resume_forgets_rng, resume_only_generator],
}
